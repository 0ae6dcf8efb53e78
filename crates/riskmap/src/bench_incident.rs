//! `riskmap bench incident`: how fast a wind change reaches an open map.
//! A real server (the application layer over an embedded store in a
//! temporary directory, holding the demo city and seeded rescue teams,
//! depots and shelters in Shanghai Jing'an) answers over HTTP on
//! 127.0.0.1. An incident (chlorine, continuous) is stored, one client
//! follows its Server-Sent Events, and the wind is changed `--changes`
//! times by `PATCH`: the bench times each `PATCH` answer (zones recomputed
//! and stored) and the arrival of its `zones` event at the client. It runs
//! twice on the same world and store: with help measured along the Jing'an
//! road network, and with straight-line help (the peer: the assessment
//! without routing), and reports the ratio.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::{Rng, SeedableRng};
use riskmap_core::Collection;
use serde_json::{Value, json};

use crate::bench_tiles::memory_mib;

/// Settings of `riskmap bench incident`.
#[derive(Debug, Clone)]
pub(crate) struct IncidentBench {
    pub(crate) changes: usize,
    pub(crate) teams: usize,
    pub(crate) roads: std::path::PathBuf,
    pub(crate) seed: u64,
}

/// Where the incident is: the middle of the Jing'an network.
const SOURCE: [f64; 2] = [121.4745, 31.2300];
/// The Jing'an network's extent.
const BOX: [f64; 4] = [121.462, 31.220, 121.486, 31.241];

fn features(collection: Collection, n: usize, rng: &mut rand::rngs::StdRng) -> Value {
    let items: Vec<Value> = (0..n)
        .map(|i| {
            let p = [
                rng.random_range(BOX[0]..BOX[2]),
                rng.random_range(BOX[1]..BOX[3]),
            ];
            let props = match collection {
                Collection::RescueTeams => json!({"name": format!("救援队 {i}"),
                    "kind": (["fire", "hazmat", "medical"][i % 3]), "members": 10 + i % 30,
                    "mobilisation_min": (i % 5) as f64}),
                Collection::SupplyDepots => json!({"name": format!("物资库 {i}"),
                    "items": [{"name": "吸附棉", "quantity": 100, "unit": "kg"}]}),
                _ => json!({"name": format!("避难场所 {i}"),
                    "class": (["emergency", "fixed", "central"][i % 3]),
                    "capacity_persons": 200 + 100 * (i % 20)}),
            };
            json!({"type": "Feature", "id": format!("bench-{}-{i}", collection.as_str()),
                "geometry": {"type": "Point", "coordinates": p}, "properties": props})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": items})
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[(((v.len() - 1) as f64) * p).round() as usize]
}

/// One run: the incident, its event stream, the wind changes.
struct Timings {
    patch_ms: Vec<f64>,
    event_ms: Vec<f64>,
    basis: String,
    teams_routed: usize,
}

async fn run_one(base: &str, changes: usize) -> anyhow::Result<Timings> {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let body = json!({"point": SOURCE, "substance": "7782-50-5",
        "release": {"kind": "continuous", "rate_kg_s": 1.0, "duration_s": 1800.0},
        "wind_from_deg": 0.0, "wind_speed_m_s": 3.0, "time_of_day": "day", "cloud_cover_oktas": 4});
    let resp = c
        .post(format!("{base}/api/incidents"))
        .bearer_auth("bench")
        .json(&body)
        .send()
        .await?;
    anyhow::ensure!(
        resp.status().as_u16() == 201,
        "creating the incident: {} {}",
        resp.status(),
        resp.text().await.unwrap_or_default()
    );
    let created: Value = resp.json().await?;
    let id = created["incident"]["id"]
        .as_str()
        .context("no incident id")?
        .to_string();
    let basis = created["help"]["distance_basis"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(40)
        .collect();
    let teams_routed = created["help"]["teams"].as_array().map_or(0, |t| {
        t.iter().filter(|t| t["distance_basis"] == "road").count()
    });

    // The follower: every `zones` event's revision and arrival time.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, Instant)>();
    let mut events = c
        .get(format!("{base}/api/incidents/{id}/events"))
        .timeout(Duration::from_secs(3600))
        .send()
        .await?;
    let follower = tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = events.chunk().await {
            let at = Instant::now();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                let data: String = frame
                    .lines()
                    .filter_map(|l| l.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect::<Vec<_>>()
                    .join("\n");
                if frame.contains("event: zones")
                    && let Ok(v) = serde_json::from_str::<Value>(&data)
                    && let Some(r) = v["incident"]["revision"].as_u64()
                    && tx.send((r, at)).is_err()
                {
                    return;
                }
            }
        }
    });
    // The first event is the zones now (revision 1).
    let first = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await?;
    anyhow::ensure!(
        first.is_some_and(|(r, _)| r == 1),
        "no first event: {first:?}"
    );

    let mut t = Timings {
        patch_ms: Vec::new(),
        event_ms: Vec::new(),
        basis,
        teams_routed,
    };
    for i in 0..changes {
        let wind = (37.0 * (i + 1) as f64) % 360.0;
        let start = Instant::now();
        let resp = c
            .patch(format!("{base}/api/incidents/{id}"))
            .bearer_auth("bench")
            .json(&json!({"wind_from_deg": wind}))
            .send()
            .await?;
        let status = resp.status();
        let answer: Value = resp.json().await?;
        t.patch_ms.push(start.elapsed().as_secs_f64() * 1e3);
        anyhow::ensure!(status.is_success(), "PATCH {i}: {status} {answer}");
        let want = answer["incident"]["revision"].as_u64().unwrap_or(0);
        loop {
            match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await? {
                Some((r, at)) if r == want => {
                    t.event_ms
                        .push(at.saturating_duration_since(start).as_secs_f64() * 1e3);
                    break;
                }
                Some(_) => {}
                None => anyhow::bail!("the event stream ended"),
            }
        }
    }
    c.post(format!("{base}/api/incidents/{id}/close"))
        .bearer_auth("bench")
        .send()
        .await?;
    follower.abort();
    Ok(t)
}

/// Runs the benchmark and prints its table.
pub(crate) async fn run(b: IncidentBench) -> anyhow::Result<()> {
    let xml = tokio::fs::read(&b.roads)
        .await
        .with_context(|| format!("cannot read {}", b.roads.display()))?;
    let t = Instant::now();
    let roads = Arc::new(
        tokio::task::spawn_blocking(move || {
            riskmap_safety::routing::Roads::from_osm_xml(&xml, "shanghai-jingan.osm")
        })
        .await??,
    );
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let st = roads.network.stats();

    let dir = std::env::temp_dir().join(format!("riskmap-bench-incident-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store: Arc<dyn riskmap_store::Store> = Arc::new(
        riskmap_store::SqliteStore::open(&dir)
            .await
            .context("cannot open the scratch store")?,
    );
    crate::demo::load(store.as_ref()).await?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(b.seed);
    for (c, n) in [
        (Collection::RescueTeams, b.teams),
        (Collection::SupplyDepots, b.teams.div_ceil(4)),
        (Collection::Shelters, b.teams),
    ] {
        let text = features(c, n, &mut rng).to_string();
        let parsed = riskmap_core::import::parse_geojson(c, &text, riskmap_spatial::Crs::Wgs84)
            .map_err(|e| anyhow::anyhow!("bench {c}: {e}"))?;
        store.import(c, &parsed, None).await?;
    }
    let app = crate::progress::open_app(store, None).await?;
    let config = riskmap_server::ServerConfig {
        admin_tokens: vec!["bench".into()],
        public_read: riskmap_server::PublicRead::Full,
    };
    let mut rows = Vec::new();
    for routed in [true, false] {
        let mut state = riskmap_server::AppState::new(app.clone(), config.clone());
        if routed {
            state = state.with_roads(roads.clone());
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(riskmap_server::run(
            listener,
            state,
            Default::default(),
            async {
                let _ = stop_rx.await;
            },
        ));
        let t = run_one(&format!("http://{addr}"), b.changes).await;
        let _ = stop_tx.send(());
        let _ = server.await;
        rows.push((routed, t?));
    }
    let _ = std::fs::remove_dir_all(&dir);

    println!(
        "bench incident: chlorine 1 kg/s at {SOURCE:?}, {} wind changes; {} teams, {} depots, {} shelters in Jing'an plus the demo city; 127.0.0.1",
        b.changes,
        b.teams,
        b.teams.div_ceil(4),
        b.teams
    );
    println!(
        "road network: {} ways, {} nodes, {:.1} km, read in {load_ms:.0} ms",
        st.ways, st.nodes, st.length_km
    );
    println!(
        "| help measured | teams by road | PATCH p50 ms | PATCH p95 ms | PATCH max ms | event p50 ms | event p95 ms | event max ms |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut p50 = Vec::new();
    for (routed, mut t) in rows {
        let (a, b2, c) = (
            percentile(&mut t.patch_ms, 0.5),
            percentile(&mut t.patch_ms, 0.95),
            percentile(&mut t.patch_ms, 1.0),
        );
        let (d, e, f) = (
            percentile(&mut t.event_ms, 0.5),
            percentile(&mut t.event_ms, 0.95),
            percentile(&mut t.event_ms, 1.0),
        );
        p50.push(a);
        println!(
            "| {} ({}…) | {} | {a:.1} | {b2:.1} | {c:.1} | {d:.1} | {e:.1} | {f:.1} |",
            if routed {
                "by road"
            } else {
                "straight line (peer)"
            },
            t.basis,
            t.teams_routed
        );
    }
    if let [road, straight] = p50[..] {
        println!(
            "PATCH p50 by road / straight line: {:.2}×",
            road / straight.max(1e-9)
        );
    }
    if let Some((rss, peak)) = memory_mib() {
        println!("resident {rss:.0} MiB, peak {peak:.0} MiB (server and client, one process)");
    }
    Ok(())
}

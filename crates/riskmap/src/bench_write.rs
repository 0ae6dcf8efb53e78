//! `riskmap bench write`: a large write under read load, over HTTP on
//! 127.0.0.1. A real `riskmap` server (the application layer over an
//! embedded store in a temporary directory, seeded with synthetic
//! enterprises) answers eight readers (items by bbox, enterprise tiles at
//! z8–z14, explanations). The peer is the same readers with no write: the
//! run measures their latencies at rest, then while one `POST` of `--post`
//! new enterprises is applied, and reports the ratio. Every reader also
//! checks that the write appears atomically: `numberMatched` of the whole
//! collection is either the old or the new count, never between.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use geo::Geometry;
use riskmap_core::{Collection, Feature};
use serde_json::{Value, json};

use crate::bench_tiles::{memory_mib, synthetic};

/// Settings of `riskmap bench write`.
#[derive(Debug, Clone)]
pub(crate) struct WriteBench {
    pub(crate) features: usize,
    pub(crate) post: usize,
    pub(crate) readers: usize,
    pub(crate) rest_secs: u64,
    pub(crate) seed: u64,
}

fn feature_json(f: &Feature) -> Value {
    let coords = match &f.geometry {
        Geometry::Point(p) => json!([p.x(), p.y()]),
        _ => Value::Null,
    };
    json!({"type": "Feature", "id": f.id, "geometry": {"type": "Point", "coordinates": coords},
           "properties": f.record.to_properties()})
}

#[derive(Default)]
struct Samples {
    latencies: Vec<Duration>,
    errors: usize,
    torn: usize,
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn tile_of(z: u8, lon: f64, lat: f64) -> (u8, u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
    (z, x, y)
}

/// Runs the readers until `stop`, recording into `out`.
async fn readers(
    base: String,
    points: Arc<Vec<(String, f64, f64)>>,
    n: usize,
    counts: (u64, u64),
    stop: Arc<std::sync::atomic::AtomicBool>,
    out: Arc<Mutex<Samples>>,
) {
    let mut tasks = Vec::new();
    for r in 0..n {
        let (base, points, stop, out) = (base.clone(), points.clone(), stop.clone(), out.clone());
        tasks.push(tokio::spawn(async move {
            let c = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap_or_default();
            let mut i = r;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (id, lon, lat) = &points[(i * 7919) % points.len()];
                let url = match i % 4 {
                    0 => format!(
                        "{base}/collections/enterprises/items?bbox={},{},{},{}&limit=50",
                        lon - 0.02,
                        lat - 0.02,
                        lon + 0.02,
                        lat + 0.02
                    ),
                    1 | 2 => {
                        let (z, x, y) = tile_of(8 + (i % 7) as u8, *lon, *lat);
                        format!("{base}/tiles/enterprises/{z}/{x}/{y}.mvt")
                    }
                    _ => format!("{base}/api/risk/enterprises/{id}"),
                };
                let t = Instant::now();
                let ok = match c.get(&url).send().await {
                    Ok(resp) if resp.status().is_success() => resp.bytes().await.is_ok(),
                    _ => false,
                };
                let took = t.elapsed();
                // Atomicity: the whole collection's count is old or new.
                let torn = if i % 16 == 0 {
                    match c
                        .get(format!("{base}/collections/enterprises/items?limit=1"))
                        .send()
                        .await
                    {
                        Ok(resp) => resp
                            .json::<Value>()
                            .await
                            .ok()
                            .and_then(|v| v["numberMatched"].as_u64())
                            .is_some_and(|m| m != counts.0 && m != counts.1),
                        Err(_) => false,
                    }
                } else {
                    false
                };
                if let Ok(mut s) = out.lock() {
                    s.latencies.push(took);
                    s.errors += usize::from(!ok);
                    s.torn += usize::from(torn);
                }
                i += n;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// Runs the benchmark and prints its table.
pub(crate) async fn run(b: WriteBench) -> anyhow::Result<()> {
    let dir = tempfile_dir()?;
    let store: Arc<dyn riskmap_store::Store> = Arc::new(
        riskmap_store::SqliteStore::open(&dir)
            .await
            .context("cannot open the scratch store")?,
    );
    let base_features = synthetic(b.features, b.seed);
    let points: Arc<Vec<(String, f64, f64)>> = Arc::new(
        base_features
            .iter()
            .filter_map(|f| match f.geometry {
                Geometry::Point(p) => Some((f.id.clone(), p.x(), p.y())),
                _ => None,
            })
            .collect(),
    );
    let t = Instant::now();
    store
        .import(Collection::Enterprises, &base_features, None)
        .await?;
    eprintln!(
        "seeded {} enterprises in {:.1} s",
        b.features,
        t.elapsed().as_secs_f64()
    );
    drop(base_features);
    let t = Instant::now();
    let app = crate::progress::open_app(store, None).await?;
    eprintln!("world built in {:.1} s", t.elapsed().as_secs_f64());
    let state = riskmap_server::AppState::new(
        app,
        riskmap_server::ServerConfig {
            admin_tokens: vec!["bench".into()],
            public_read: riskmap_server::PublicRead::Full,
        },
    );
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
    let base = format!("http://{addr}");
    let old = b.features as u64;
    let new = old + b.post as u64;

    // At rest (the peer).
    let rest = Arc::new(Mutex::new(Samples::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let run_rest = tokio::spawn(readers(
        base.clone(),
        points.clone(),
        b.readers,
        (old, old),
        stop.clone(),
        rest.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(b.rest_secs)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    run_rest.await?;

    // During one large POST.
    let mut post = synthetic(b.post, b.seed ^ 0xbeef);
    for (i, f) in post.iter_mut().enumerate() {
        f.id = format!("post-{i}");
    }
    let body = json!({"type": "FeatureCollection",
        "features": post.iter().map(feature_json).collect::<Vec<_>>()})
    .to_string();
    let during = Arc::new(Mutex::new(Samples::default()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let run_during = tokio::spawn(readers(
        base.clone(),
        points.clone(),
        b.readers,
        (old, new),
        stop.clone(),
        during.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let t = Instant::now();
    let resp = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()?
        .post(format!("{base}/collections/enterprises/items"))
        .bearer_auth("bench")
        .header("content-type", "application/geo+json")
        .body(body)
        .send()
        .await?;
    let status = resp.status();
    let post_took = t.elapsed();
    anyhow::ensure!(
        status.is_success(),
        "the POST failed: {status} {}",
        resp.text().await.unwrap_or_default()
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    run_during.await?;
    let _ = stop_tx.send(());
    let _ = server.await;
    let mem = memory_mib();

    let row = |name: &str, s: &Mutex<Samples>| -> (String, Duration) {
        let mut s = s
            .lock()
            .map(|mut g| std::mem::take(&mut *g))
            .unwrap_or_default();
        let n = s.latencies.len();
        let p50 = percentile(&mut s.latencies, 0.5);
        let p99 = percentile(&mut s.latencies, 0.99);
        let max = s.latencies.last().copied().unwrap_or_default();
        (
            format!(
                "| {name} | {n} | {:.1} | {:.1} | {:.1} | {} | {} |",
                p50.as_secs_f64() * 1e3,
                p99.as_secs_f64() * 1e3,
                max.as_secs_f64() * 1e3,
                s.errors,
                s.torn
            ),
            p99,
        )
    };
    println!(
        "bench write: {} enterprises, one POST of {} more, {} readers, 127.0.0.1",
        b.features, b.post, b.readers
    );
    println!("POST answered {status} in {:.2} s", post_took.as_secs_f64());
    println!("| readers | requests | p50 ms | p99 ms | max ms | errors | torn counts |");
    println!("|---|---|---|---|---|---|---|");
    let (r1, p_rest) = row("at rest (peer)", &rest);
    let (r2, p_during) = row("during the POST", &during);
    println!("{r1}\n{r2}");
    println!(
        "p99 during / at rest: {:.2}×",
        p_during.as_secs_f64() / p_rest.as_secs_f64().max(1e-9)
    );
    if let Some((rss, peak)) = mem {
        println!("resident {rss:.0} MiB, peak {peak:.0} MiB");
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("riskmap-bench-write-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

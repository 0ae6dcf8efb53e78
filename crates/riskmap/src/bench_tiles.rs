//! `riskmap bench tiles`: riskmap's in-process tile rendering against
//! PostGIS `ST_AsMVT` as martin runs it, on the same synthetic points and the
//! same tiles.
//!
//! The data set is seeded enterprise points clustered around 200 city
//! centres over a province-sized area (118.0–122.5°E, 27.2–31.2°N), each with
//! one storage unit of one substance so that the risk engine gives them a
//! spread of levels. The workload is `--tiles` tiles at z6–z14 (uniform over
//! the zooms), each the tile holding a randomly drawn feature, so it follows
//! the data's density as map views do.
//!
//! - riskmap cold: `riskmap_server::tiles::render` for each tile (no cache),
//!   on `--concurrency` threads, with the server's `TileIndex` (pre-aggregated
//!   points, built once before the timed run and reported separately);
//! - riskmap warm: the same tiles through a shared `TileCache` (filled by a
//!   first pass, then timed: every request is a hit);
//! - PostGIS: the points in a `geometry(Point, 3857)` table with a GiST
//!   index, one `ST_AsMVT(ST_AsMVTGeom(…))` query per tile on
//!   `--concurrency` connections, with a 10 s `statement_timeout`.
//!
//! Memory: the resident set size (`VmRSS`, Linux) is printed after each
//! setup step (points generated, catalogue loaded, scored, tile index built)
//! and at the peak (`VmHWM`), so that the catalogue, the risk state and the
//! tile index can be told apart.
//!
//! This module holds the one piece of SQL outside `riskmap-store`: it
//! measures PostGIS as an external tile renderer (martin's query) on a
//! scratch table it creates and drops, and never touches riskmap's store.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use geo::{Geometry, Point};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use riskmap_core::engine::{EngineConfig, RiskState};
use riskmap_core::model::{Enterprise, Substance, Unit, UnitKind};
use riskmap_core::scoring::Rules;
use riskmap_core::{Catalog, Collection, Feature, Record};
use riskmap_tiles::{TileCoord, TileOptions, lonlat_to_mercator};
use riskmap_world::tiles::{CachedTile, TileCache, TileIndex, render};
use serde_json::Map;

/// The benchmark's settings.
#[derive(Debug, Clone)]
pub(crate) struct TilesBench {
    pub(crate) features: usize,
    pub(crate) tiles: usize,
    pub(crate) concurrency: usize,
    pub(crate) seed: u64,
    pub(crate) database_url: Option<String>,
}

const AREA: (f64, f64, f64, f64) = (118.0, 27.2, 122.5, 31.2);
const KM_LON: f64 = 1.0 / 98.0;
const KM_LAT: f64 = 1.0 / 111.0;
const SUBSTANCES: [(&str, &str, f64); 6] = [
    ("液氯", "7782-50-5", 40.0),
    ("甲醇", "67-56-1", 800.0),
    ("液氨", "7664-41-7", 100.0),
    ("苯", "71-43-2", 300.0),
    ("汽油", "86290-81-5", 1500.0),
    ("丙酮", "67-64-1", 600.0),
];

/// Seeded enterprise points, clustered.
pub(crate) fn synthetic(n: usize, seed: u64) -> Vec<Feature> {
    let mut rng = StdRng::seed_from_u64(seed);
    let centres: Vec<(f64, f64)> = (0..200)
        .map(|_| {
            (
                rng.random_range(AREA.0..AREA.2),
                rng.random_range(AREA.1..AREA.3),
            )
        })
        .collect();
    (0..n)
        .map(|i| {
            let (cx, cy) = centres[rng.random_range(0..centres.len())];
            let sigma_km = 8.0;
            let (u1, u2): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random_range(0.0..1.0));
            let r = (-2.0 * u1.ln()).sqrt() * sigma_km;
            let t = std::f64::consts::TAU * u2;
            let x = (cx + r * t.cos() * KM_LON).clamp(AREA.0, AREA.2);
            let y = (cy + r * t.sin() * KM_LAT).clamp(AREA.1, AREA.3);
            let (name, cas, scale) = SUBSTANCES[rng.random_range(0..SUBSTANCES.len())];
            Feature {
                updated: None,
                id: (i + 1).to_string(),
                geometry: Geometry::Point(Point::new(x, y)),
                record: Record::Enterprise(Enterprise {
                    name: format!("合成企业 {i}"),
                    credit_code: None,
                    industry: Some(["化工", "石化", "医药", "仓储物流"][i % 4].into()),
                    district_code: None,
                    park_id: None,
                    employees: Some(rng.random_range(20..2000)),
                    standardization_level: Some(rng.random_range(1..=3)),
                    accidents: vec![],
                    units: vec![Unit {
                        id: format!("{i}-U0"),
                        name: None,
                        kind: UnitKind::Storage,
                        geometry: None,
                        substances: vec![Substance {
                            name: Some(name.into()),
                            cas: Some(cas.into()),
                            quantity_t: scale * rng.random_range(0.01..1.5f64),
                            hazard_categories: vec![],
                        }],
                        processes: vec![],
                    }],
                    installation: Some(riskmap_core::model::Installation::Existing),
                    major_hazard_registration: None,
                    inspection_findings: Vec::new(),
                    extra: Map::new(),
                }),
            }
        })
        .collect()
}

/// Tiles at z6–z14, each holding a randomly drawn feature.
fn workload(features: &[Feature], n: usize, seed: u64) -> Vec<TileCoord> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x711e5);
    (0..n)
        .filter_map(|_| {
            let f = features.get(rng.random_range(0..features.len().max(1)))?;
            let Geometry::Point(p) = &f.geometry else {
                return None;
            };
            Some(TileCoord::from_lonlat(
                p.x(),
                p.y(),
                rng.random_range(6..=14u8),
            ))
        })
        .collect()
}

/// Resident and peak resident memory of this process in MiB (`VmRSS`,
/// `VmHWM` of `/proc/self/status`; `None` where there is no procfs).
pub(crate) fn memory_mib() -> Option<(f64, f64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

fn rss_mib() -> f64 {
    memory_mib().map_or(f64::NAN, |m| m.0)
}

/// Throughput and latency of one run.
#[derive(Debug, Clone, Default)]
struct Run {
    tiles: usize,
    wall: Duration,
    /// Zoom and latency of each tile rendered.
    latencies: Vec<(u8, Duration)>,
    bytes: u64,
    empty: usize,
    timeouts: usize,
    errors: usize,
}

impl Run {
    fn tiles_per_s(&self) -> f64 {
        self.tiles as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    fn quantile_ms(&self, q: f64) -> f64 {
        self.zoom_quantile_ms(None, q)
    }

    /// Latency quantile of the tiles at zoom `z` (all tiles for `None`).
    fn zoom_quantile_ms(&self, z: Option<u8>, q: f64) -> f64 {
        let mut v: Vec<Duration> = self
            .latencies
            .iter()
            .filter(|(tz, _)| z.is_none_or(|z| *tz == z))
            .map(|(_, d)| *d)
            .collect();
        v.sort();
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    }
}

/// Runs `job` over `tiles` on `threads` threads; each call returns the tile's
/// size in bytes.
fn run_threads(
    tiles: &[TileCoord],
    threads: usize,
    job: &(dyn Fn(TileCoord) -> anyhow::Result<usize> + Sync),
) -> anyhow::Result<Run> {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    type Part = (Vec<(u8, Duration)>, u64, usize);
    let parts: Vec<anyhow::Result<Part>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut lat = Vec::new();
                    let (mut bytes, mut empty) = (0u64, 0usize);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&t) = tiles.get(i) else { break };
                        let t0 = Instant::now();
                        let n = job(t)?;
                        lat.push((t.z, t0.elapsed()));
                        bytes += n as u64;
                        empty += usize::from(n == 0);
                    }
                    Ok((lat, bytes, empty))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let wall = started.elapsed();
    let mut run = Run {
        tiles: tiles.len(),
        wall,
        ..Run::default()
    };
    for p in parts {
        let (lat, bytes, empty) = p?;
        run.latencies.extend(lat);
        run.bytes += bytes;
        run.empty += empty;
    }
    Ok(run)
}

/// PostGIS: load the points, then render the tiles martin-style.
async fn postgis(
    url: &str,
    cat: &Catalog,
    risk: &RiskState,
    tiles: &[TileCoord],
    concurrency: usize,
) -> anyhow::Result<(Duration, Run)> {
    use sqlx::ConnectOptions;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    // Slow tiles are what is measured here, not something to log.
    let connect: PgConnectOptions = url
        .parse::<PgConnectOptions>()
        .context("invalid PostGIS URL")?
        .disable_statement_logging();
    let pool = PgPoolOptions::new()
        .max_connections(concurrency.max(1) as u32)
        .min_connections(concurrency.max(1) as u32)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query("SET statement_timeout = '10s'")
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .connect_with(connect)
        .await
        .context("cannot connect to PostGIS")?;
    let load_started = Instant::now();
    {
        let mut conn = pool.acquire().await?;
        sqlx::query("SET statement_timeout = 0")
            .execute(&mut *conn)
            .await?;
        sqlx::query("CREATE EXTENSION IF NOT EXISTS postgis")
            .execute(&mut *conn)
            .await?;
        sqlx::query("DROP TABLE IF EXISTS riskmap_bench_tiles")
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "CREATE TABLE riskmap_bench_tiles (id bigint PRIMARY KEY, risk_level text, geom geometry(Point, 3857) NOT NULL)",
        )
        .execute(&mut *conn)
        .await?;
        let mut copy = conn
            .copy_in_raw("COPY riskmap_bench_tiles (id, risk_level, geom) FROM STDIN")
            .await?;
        let mut buf = String::with_capacity(1 << 20);
        for f in cat.iter(Collection::Enterprises) {
            let Geometry::Point(p) = &f.geometry else {
                continue;
            };
            let (x, y) = lonlat_to_mercator(p.x(), p.y());
            let level = risk
                .level(Collection::Enterprises, &f.id)
                .map_or("\\N", |l| l.as_str());
            buf.push_str(&format!("{}\t{level}\tSRID=3857;POINT({x} {y})\n", f.id));
            if buf.len() > (1 << 20) {
                copy.send(buf.as_bytes()).await?;
                buf.clear();
            }
        }
        if !buf.is_empty() {
            copy.send(buf.as_bytes()).await?;
        }
        copy.finish().await?;
        sqlx::query(
            "CREATE INDEX riskmap_bench_tiles_geom ON riskmap_bench_tiles USING gist (geom)",
        )
        .execute(&mut *conn)
        .await?;
        sqlx::query("ANALYZE riskmap_bench_tiles")
            .execute(&mut *conn)
            .await?;
        sqlx::query("SET statement_timeout = '10s'")
            .execute(&mut *conn)
            .await?;
    }
    let load = load_started.elapsed();
    const SQL: &str = "SELECT ST_AsMVT(q, 'enterprises', 4096, 'geom') FROM (\
         SELECT ST_AsMVTGeom(geom, ST_TileEnvelope($1, $2, $3), 4096, 64, true) AS geom, id, risk_level \
         FROM riskmap_bench_tiles WHERE geom && ST_TileEnvelope($1, $2, $3, margin => (64.0 / 4096))) q";
    let next = std::sync::Arc::new(AtomicUsize::new(0));
    let shared: std::sync::Arc<Vec<TileCoord>> = std::sync::Arc::new(tiles.to_vec());
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (pool, next, tiles) = (pool.clone(), next.clone(), shared.clone());
        workers.spawn(async move {
            let mut r = Run::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(t) = tiles.get(i) else { break };
                let t0 = Instant::now();
                let res: Result<Option<Vec<u8>>, sqlx::Error> = sqlx::query_scalar(SQL)
                    .bind(i32::from(t.z))
                    .bind(t.x as i32)
                    .bind(t.y as i32)
                    .fetch_one(&pool)
                    .await;
                let took = t0.elapsed();
                match res {
                    Ok(b) => {
                        let n = b.map_or(0, |b| b.len());
                        r.bytes += n as u64;
                        r.empty += usize::from(n == 0);
                        r.latencies.push((t.z, took));
                    }
                    Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("57014") => {
                        r.timeouts += 1;
                    }
                    Err(e) => {
                        if r.errors == 0 {
                            eprintln!("PostGIS tile {t}: {e}");
                        }
                        r.errors += 1;
                    }
                }
            }
            r
        });
    }
    let results = workers.join_all().await;
    let mut run = Run {
        tiles: tiles.len(),
        wall: started.elapsed(),
        ..Run::default()
    };
    for r in results {
        run.latencies.extend(r.latencies);
        run.bytes += r.bytes;
        run.empty += r.empty;
        run.timeouts += r.timeouts;
        run.errors += r.errors;
    }
    sqlx::query("DROP TABLE IF EXISTS riskmap_bench_tiles")
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok((load, run))
}

fn row(name: &str, r: &Run) -> String {
    format!(
        "| {name} | {} | {:.2} s | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} |",
        r.tiles,
        r.wall.as_secs_f64(),
        r.tiles_per_s(),
        r.quantile_ms(0.5),
        r.quantile_ms(0.99),
        r.bytes as f64 / 1024.0 / 1024.0,
        r.empty,
        r.timeouts + r.errors,
    )
}

/// Runs the benchmark and prints a Markdown report.
pub(crate) async fn run(b: TilesBench) -> anyhow::Result<()> {
    let threads = b.concurrency.max(1);
    let rss_start = rss_mib();
    let t = Instant::now();
    let features = synthetic(b.features, b.seed);
    let tiles = workload(&features, b.tiles, b.seed);
    let gen_time = t.elapsed();
    let n_features = features.len();
    let rss_generated = rss_mib();
    let opts = TileOptions::default();
    let setup = tokio::task::spawn_blocking(move || {
        let mut cat = Catalog::new();
        cat.load(Collection::Enterprises, features);
        let rss_catalog = rss_mib();
        let rules = Rules::builtin();
        let t = Instant::now();
        let risk = RiskState::compute(&cat, rules, EngineConfig::new("2026-11-23", rules));
        let score_time = t.elapsed();
        let rss_scored = rss_mib();
        let t = Instant::now();
        let index = TileIndex::build(&cat, &risk, &TileOptions::default());
        let index_time = t.elapsed();
        let rss_indexed = rss_mib();
        Setup {
            cat,
            risk,
            index,
            score_time,
            index_time,
            rss: [rss_catalog, rss_scored, rss_indexed],
        }
    })
    .await?;
    eprintln!(
        "generated {n_features} points and {} tiles in {:.1} s, scored in {:.1} s, tile index in {:.1} s",
        tiles.len(),
        gen_time.as_secs_f64(),
        setup.score_time.as_secs_f64(),
        setup.index_time.as_secs_f64(),
    );
    let (setup, tiles, cold, warm) = tokio::task::spawn_blocking(move || {
        let (cat, risk, index) = (&setup.cat, &setup.risk, &setup.index);
        let cold = run_threads(&tiles, threads, &|t| {
            Ok(render(cat, risk, index, "enterprises", t, &opts)
                .map_err(|e| anyhow::anyhow!("{e:?}"))?
                .len())
        })?;
        let cache = Mutex::new(TileCache::new(tiles.len().max(1)));
        let cached = |t: TileCoord| -> anyhow::Result<usize> {
            let hit = cache
                .lock()
                .map_err(|_| anyhow::anyhow!("poisoned"))?
                .get("enterprises", t);
            let tile = match hit {
                Some(c) => c,
                None => {
                    let bytes = render(cat, risk, index, "enterprises", t, &opts)
                        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
                    let tile = CachedTile::new(bytes, t, &opts);
                    cache.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.put(
                        "enterprises",
                        t,
                        tile.clone(),
                        0,
                    );
                    tile
                }
            };
            Ok(tile.bytes.len())
        };
        let _fill = run_threads(&tiles, threads, &cached)?;
        let warm = run_threads(&tiles, threads, &cached)?;
        anyhow::Ok((setup, tiles, cold, warm))
    })
    .await??;
    let (rss_end, peak) = memory_mib().unwrap_or((f64::NAN, f64::NAN));
    let pg = match &b.database_url {
        Some(url) => {
            eprintln!("loading {n_features} points into PostGIS…");
            Some(postgis(url, &setup.cat, &setup.risk, &tiles, threads).await?)
        }
        None => None,
    };

    let mut per_zoom = [0usize; 15];
    for t in &tiles {
        per_zoom[usize::from(t.z.min(14))] += 1;
    }
    println!("## riskmap bench tiles");
    println!();
    println!(
        "{n_features} synthetic enterprise points (seed {}, clustered around 200 centres over 118.0–122.5°E, 27.2–31.2°N), scored in {:.1} s, tile index ({} points, {} aggregate cells) built in {:.1} s; {} tiles at z6–z14 drawn at feature locations ({}), the `enterprises` layer; {} concurrent workers.",
        b.seed,
        setup.score_time.as_secs_f64(),
        setup.index.points(),
        setup.index.cells(),
        setup.index_time.as_secs_f64(),
        tiles.len(),
        (6..=14)
            .map(|z| format!("z{z}: {}", per_zoom[z]))
            .collect::<Vec<_>>()
            .join(", "),
        threads,
    );
    println!();
    println!(
        "| renderer | tiles | wall | tiles/s | p50 ms | p99 ms | MiB | empty | timeouts + errors |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!("{}", row("riskmap cold (`tiles::render`, no cache)", &cold));
    println!("{}", row("riskmap warm (`TileCache`, all hits)", &warm));
    match &pg {
        Some((load, r)) => {
            println!("{}", row("PostGIS `ST_AsMVT` (martin-style, GiST)", r));
            println!();
            println!(
                "PostGIS load (COPY + GiST index + ANALYZE): {:.1} s. Ratio riskmap cold / PostGIS throughput: **{:.2}×**; riskmap warm / PostGIS: {:.0}×.",
                load.as_secs_f64(),
                cold.tiles_per_s() / r.tiles_per_s().max(1e-9),
                warm.tiles_per_s() / r.tiles_per_s().max(1e-9),
            );
        }
        None => {
            println!();
            println!("No PostGIS URL (--database-url or DATABASE_URL): PostGIS not measured.");
        }
    }
    println!();
    println!("Latency by zoom, p50 / p99 / max ms:");
    println!();
    let mut header = String::from("| renderer |");
    let mut rule = String::from("|---|");
    for z in 6..=14 {
        header.push_str(&format!(" z{z} |"));
        rule.push_str("---|");
    }
    println!("{header}");
    println!("{rule}");
    let zoom_row = |name: &str, r: &Run| {
        let mut line = format!("| {name} |");
        for z in 6..=14u8 {
            line.push_str(&format!(
                " {:.1} / {:.1} / {:.1} |",
                r.zoom_quantile_ms(Some(z), 0.5),
                r.zoom_quantile_ms(Some(z), 0.99),
                r.zoom_quantile_ms(Some(z), 1.0),
            ));
        }
        println!("{line}");
    };
    zoom_row("riskmap cold", &cold);
    if let Some((_, r)) = &pg {
        zoom_row("PostGIS", r);
    }
    let [rss_catalog, rss_scored, rss_indexed] = setup.rss;
    println!();
    println!(
        "Resident memory (MiB, `VmRSS`): {rss_start:.0} at start, {rss_generated:.0} with the points generated, {rss_catalog:.0} with the catalogue loaded, {rss_scored:.0} scored (catalogue + risk state), {rss_indexed:.0} with the tile index (+{:.0}), {rss_end:.0} after the riskmap runs; peak {peak:.0} (`VmHWM`, before PostGIS).",
        rss_indexed - rss_scored,
    );
    Ok(())
}

/// The data and derived state the tiles are rendered from.
struct Setup {
    cat: Catalog,
    risk: RiskState,
    index: TileIndex,
    score_time: Duration,
    index_time: Duration,
    /// RSS after the catalogue, the scores and the tile index.
    rss: [f64; 3],
}

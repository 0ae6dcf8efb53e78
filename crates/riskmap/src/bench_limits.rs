//! The limits a hostile or careless client meets, measured on the real binary.
//!
//! - `riskmap bench connections`: `--clients` connections that each send half
//!   a request head and wait, opened against `riskmap serve` (demo data, the
//!   default connection cap). Every few hundred clients a fresh connection
//!   asks `/health`; its latency is compared with the same request at rest
//!   (the peer), and the server's resident memory is sampled throughout.
//! - `riskmap bench boundary`: an official-boundary-sized district polygon
//!   (`--vertices`, a valid star-shaped ring around Hangzhou) imported by
//!   `riskmap import` against GDAL `ogr2ogr` loading the same file; the
//!   validity check in process against `geo::Validation` at growing sizes;
//!   and siting checks of polygons at and beyond the vertex limit.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use geo::{Geometry, LineString, Polygon, Validation};

use crate::bench_startup::{process_memory_mib, run_measured, spawn_serve};

/// Settings of `riskmap bench connections`.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionsBench {
    pub(crate) clients: usize,
    pub(crate) probe_every: usize,
}

/// Settings of `riskmap bench boundary`.
#[derive(Debug, Clone)]
pub(crate) struct BoundaryBench {
    pub(crate) vertices: usize,
}

fn scratch_dir(name: &str) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("riskmap-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// One request on a fresh connection: the status line and the time to the
/// whole answer (waiting at most `limit`).
fn fresh_request(addr: &str, request: &[u8], limit: Duration) -> (String, Duration) {
    let t = Instant::now();
    let status = (|| -> std::io::Result<String> {
        let mut s = TcpStream::connect(addr)?;
        s.set_read_timeout(Some(limit))?;
        s.write_all(request)?;
        let mut answer = Vec::new();
        let _ = s.read_to_end(&mut answer);
        let text = String::from_utf8_lossy(&answer);
        Ok(text.lines().next().unwrap_or("").to_string())
    })()
    .unwrap_or_else(|e| format!("error: {e}"));
    (status, t.elapsed())
}

fn health(addr: &str) -> (String, Duration) {
    fresh_request(
        addr,
        b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        Duration::from_secs(5),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub(crate) fn run_connections(b: ConnectionsBench) -> anyhow::Result<()> {
    // Each held client is a descriptor here: lift the soft limit to the
    // hard one. Clients the server has closed (evicted at its cap) are let
    // go as they are found, so this process needs about the cap, not one
    // descriptor per client ever opened.
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let dir = scratch_dir("connections")?;
    let (mut child, base, _stderr) = spawn_serve(&[
        std::ffi::OsStr::new("--data-dir"),
        dir.join("store").as_os_str(),
    ])?;
    let pid = child.id().to_string();
    let addr = base.trim_start_matches("http://").to_string();
    let result = (|| -> anyhow::Result<()> {
        wait_ready(&addr)?;
        // At rest: the peer.
        let mut rest: Vec<Duration> = (0..200).map(|_| health(&addr).1).collect();
        rest.sort();
        let (rss_rest, _) = process_memory_mib(&pid).unwrap_or_default();
        let bar = crate::progress::Progress::new("slow clients", b.clients as u64);
        let t = Instant::now();
        let mut held: Vec<TcpStream> = Vec::with_capacity(b.clients);
        let mut refused = 0usize;
        let mut under_load = Vec::new();
        let mut failures = Vec::new();
        let mut peak_rss: f64 = 0.0;
        let mut evicted = 0usize;
        for i in 0..b.clients {
            match TcpStream::connect(&addr).and_then(|mut s| {
                s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")?;
                s.set_nonblocking(true)?;
                Ok(s)
            }) {
                Ok(s) => held.push(s),
                Err(_) => refused += 1,
            }
            if i % b.probe_every == 0 || i + 1 == b.clients {
                let before = held.len();
                held.retain(still_open);
                evicted += before - held.len();
                let (status, took) = health(&addr);
                if !status.contains(" 200 ") {
                    failures.push(format!("after {i} clients: {status}"));
                }
                under_load.push(took);
                if let Some((rss, _)) = process_memory_mib(&pid) {
                    peak_rss = peak_rss.max(rss);
                }
                bar.set(i as u64 + 1, "");
            }
        }
        let opened = t.elapsed();
        bar.finish("");
        let (rss_end, hwm) = process_memory_mib(&pid).unwrap_or_default();
        peak_rss = peak_rss.max(rss_end);
        held.retain(still_open);
        let held_at_end = held.len();
        drop(held);
        let (after, _) = health(&addr);
        under_load.sort();
        println!(
            "bench connections: {} clients that send half a request head and wait, against riskmap serve (demo data, default cap 2048, header timeout 10 s)",
            b.clients
        );
        println!(
            "clients opened in {:.1} s ({refused} refused by the kernel); {evicted} closed by the server at its cap while the run went on, {} still open at the end; /health probed {} times under load",
            opened.as_secs_f64(),
            held_at_end,
            under_load.len()
        );
        println!("| /health | p50 ms | p99 ms | max ms | server RSS MiB |");
        println!("|---|---|---|---|---|");
        println!(
            "| at rest (peer), 200 requests | {:.2} | {:.2} | {:.2} | {rss_rest:.0} |",
            ms(percentile(&rest, 0.5)),
            ms(percentile(&rest, 0.99)),
            ms(percentile(&rest, 1.0)),
        );
        println!(
            "| under {} slow clients | {:.2} | {:.2} | {:.2} | {peak_rss:.0} (peak sampled; VmHWM {hwm:.0}) |",
            b.clients,
            ms(percentile(&under_load, 0.5)),
            ms(percentile(&under_load, 0.99)),
            ms(percentile(&under_load, 1.0)),
        );
        println!(
            "ratio under load / at rest: p50 {:.2}×, max {:.2}×; non-200 answers under load: {}; after the clients left: {after}",
            ms(percentile(&under_load, 0.5)) / ms(percentile(&rest, 0.5)).max(1e-6),
            ms(percentile(&under_load, 1.0)) / ms(percentile(&rest, 1.0)).max(1e-6),
            failures.len()
        );
        for f in failures.iter().take(5) {
            println!("  {f}");
        }
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Waits (up to 5 min) until the server at `addr` has built its world.
fn wait_ready(addr: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        let (status, _) = fresh_request(
            addr,
            b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
            Duration::from_secs(5),
        );
        if status.contains(" 200 ") {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    anyhow::bail!("the server was not ready within 5 minutes")
}

/// Whether the server has not closed this (non-blocking) client yet.
fn still_open(s: &TcpStream) -> bool {
    let mut buf = [0u8; 512];
    match (&*s).read(&mut buf) {
        Ok(0) => false,
        Ok(_) => true,
        Err(e) => e.kind() == std::io::ErrorKind::WouldBlock,
    }
}

/// A valid star-shaped ring of `n` vertices around (lon, lat): radius
/// 0.25° ± 0.05°, the angle strictly increasing, closed.
fn star_ring(n: usize, lon: f64, lat: f64) -> LineString<f64> {
    let mut coords: Vec<(f64, f64)> = (0..n)
        .map(|i| {
            let k = i as f64;
            let t = std::f64::consts::TAU * k / n as f64;
            let r = 0.25 + 0.05 * (k * 0.37).sin() * (k * 0.011).cos();
            (lon + r * t.cos(), lat + r * t.sin())
        })
        .collect();
    coords.push(coords[0]);
    LineString::from(coords)
}

fn write_district(path: &Path, ring: &LineString<f64>) -> anyhow::Result<()> {
    let coords: Vec<[f64; 2]> = ring.0.iter().map(|c| [c.x, c.y]).collect();
    let doc = serde_json::json!({
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "id": "330199",
            "properties": {"code": "330199", "name": "测试边界区", "level": "district"},
            "geometry": {"type": "Polygon", "coordinates": [coords]},
        }],
    });
    std::fs::write(path, serde_json::to_vec(&doc)?)?;
    Ok(())
}

pub(crate) fn run_boundary(b: BoundaryBench) -> anyhow::Result<()> {
    let dir = scratch_dir("boundary")?;
    let result = boundary_in(&dir, &b);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn boundary_in(dir: &Path, b: &BoundaryBench) -> anyhow::Result<()> {
    let (lon, lat) = (120.15, 30.25);
    let ring = star_ring(b.vertices, lon, lat);
    let file = dir.join("district.geojson");
    write_district(&file, &ring)?;
    let size_mib = std::fs::metadata(&file)?.len() as f64 / 1048576.0;
    println!(
        "bench boundary: one district of {} vertices ({size_mib:.1} MiB GeoJSON)",
        b.vertices
    );

    // 1. The import, against ogr2ogr.
    let exe = std::env::current_exe()?;
    let import = run_measured(
        Command::new(&exe)
            .args(["import", "districts"])
            .arg(&file)
            .arg("--data-dir")
            .arg(dir.join("store")),
    )?;
    anyhow::ensure!(import.ok, "riskmap import failed:\n{}", import.stderr_tail);
    let peer = run_measured(
        Command::new("ogr2ogr")
            .args(["-f", "GPKG", "-nln", "districts"])
            .arg(dir.join("peer.gpkg"))
            .arg(&file),
    )
    .ok()
    .filter(|f| f.ok);
    println!("| step | riskmap s | riskmap peak MiB | peer | peer s | peer peak MiB | ratio |");
    println!("|---|---|---|---|---|---|---|");
    match &peer {
        Some(p) => println!(
            "| import (validated, one transaction) | {:.2} | {:.0} | ogr2ogr → GeoPackage (no validity check) | {:.2} | {:.0} | {:.2}× |",
            import.took.as_secs_f64(),
            import.peak_mib,
            p.took.as_secs_f64(),
            p.peak_mib,
            import.took.as_secs_f64() / p.took.as_secs_f64()
        ),
        None => println!(
            "| import (validated, one transaction) | {:.2} | {:.0} | ogr2ogr | not available | — | — |",
            import.took.as_secs_f64(),
            import.peak_mib
        ),
    }

    // 2. Validity in process, against geo::Validation (quadratic: capped).
    println!();
    println!("| vertices | riskmap validity ms | geo::Validation ms | ratio |");
    println!("|---|---|---|---|");
    let mut sizes: Vec<usize> = [1000, 5000, 20_000]
        .into_iter()
        .filter(|&n| n < b.vertices)
        .collect();
    sizes.push(b.vertices);
    for n in sizes {
        let g = Geometry::Polygon(Polygon::new(star_ring(n, lon, lat), vec![]));
        let t = Instant::now();
        let fast = riskmap_spatial::validity::validation_errors(&g);
        let fast_t = t.elapsed();
        anyhow::ensure!(fast.is_empty(), "the star ring should be valid: {fast:?}");
        let slow = if n <= 20_000 {
            let t = Instant::now();
            let slow = g.validation_errors();
            anyhow::ensure!(slow.is_empty(), "geo disagrees: {slow:?}");
            Some(t.elapsed())
        } else {
            None
        };
        println!(
            "| {n} | {:.1} | {} | {} |",
            ms(fast_t),
            slow.map_or("not run (quadratic)".into(), |d| format!("{:.1}", ms(d))),
            slow.map_or("—".into(), |d| format!(
                "{:.0}× faster",
                d.as_secs_f64() / fast_t.as_secs_f64().max(1e-9)
            )),
        );
    }

    // 3. Siting polygons at and beyond the vertex limit, over HTTP.
    let (mut child, base, _stderr) = spawn_serve(&[
        std::ffi::OsStr::new("--data-dir"),
        dir.join("serve").as_os_str(),
    ])?;
    let siting = (|| -> anyhow::Result<()> {
        wait_ready(base.trim_start_matches("http://"))?;
        println!();
        println!("| siting polygon | vertices | body MiB | status | answer s |");
        println!("|---|---|---|---|---|");
        for n in [20_000usize, b.vertices] {
            let ring = star_ring(n.saturating_sub(1).max(3), 120.40, 30.30);
            let coords: Vec<[f64; 2]> = ring.0.iter().map(|c| [c.x, c.y]).collect();
            let body = serde_json::to_vec(&serde_json::json!({
                "use": "school",
                "name": "拟建学校",
                "population": 1200,
                "geometry": {"type": "Polygon", "coordinates": [coords]},
            }))?;
            let t = Instant::now();
            let status = post(&base, "/api/siting/check", &body);
            println!(
                "| school | {} | {:.2} | {status} | {:.2} |",
                ring.0.len(),
                body.len() as f64 / 1048576.0,
                t.elapsed().as_secs_f64()
            );
        }
        Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    siting.context("siting checks")
}

/// A POST on a fresh connection: the status line.
fn post(base: &str, path: &str, body: &[u8]) -> String {
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    fresh_request(
        base.trim_start_matches("http://"),
        &request,
        Duration::from_secs(120),
    )
    .0
}

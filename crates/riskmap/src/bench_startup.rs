//! `riskmap bench startup`: a province-sized data set from file to map, with
//! the real binary. It writes `--features` synthetic enterprise points as one
//! CSV file (the import schema's columns, no inventories), then times
//!
//! 1. `riskmap import enterprises file.csv` into a new embedded store, against
//!    GDAL `ogr2ogr` loading the same file into a GeoPackage (the peer);
//! 2. `riskmap serve` on that store: the first answered item page, the first
//!    drawn tile and `/ready` (every level final), counted from the process
//!    start, against `ogrinfo` answering one bbox query on the GeoPackage.
//!
//! Peak resident memory (`VmHWM`) of each child process is sampled from
//! `/proc` while it runs.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use geo::Geometry;
use riskmap_core::Record;

use crate::bench_tiles::synthetic;

/// Settings of `riskmap bench startup`.
#[derive(Debug, Clone)]
pub(crate) struct StartupBench {
    pub(crate) features: usize,
    pub(crate) seed: u64,
}

/// Peak and current resident memory (MiB) of a process, from `/proc`.
pub(crate) fn process_memory_mib(pid: &str) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<f64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// A finished child: wall time, exit status, peak resident memory.
pub(crate) struct Finished {
    pub(crate) took: Duration,
    pub(crate) ok: bool,
    pub(crate) peak_mib: f64,
    pub(crate) stderr_tail: String,
}

/// Runs a command to its end, sampling its peak memory every 50 ms.
pub(crate) fn run_measured(cmd: &mut Command) -> anyhow::Result<Finished> {
    let t = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    let stderr = child.stderr.take();
    let drain = std::thread::spawn(move || {
        let mut tail = std::collections::VecDeque::new();
        if let Some(s) = stderr {
            for line in BufReader::new(s).lines().map_while(Result::ok) {
                tail.push_back(line);
                if tail.len() > 5 {
                    tail.pop_front();
                }
            }
        }
        tail.into_iter().collect::<Vec<_>>().join("\n")
    });
    let pid = child.id().to_string();
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some((_, hwm)) = process_memory_mib(&pid) {
            peak = peak.max(hwm);
        }
        if let Some(s) = child.try_wait()? {
            break s;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ok(Finished {
        took: t.elapsed(),
        ok: status.success(),
        peak_mib: peak,
        stderr_tail: drain.join().unwrap_or_default(),
    })
}

/// Writes the points as an import CSV.
fn write_csv(path: &Path, n: usize, seed: u64) -> anyhow::Result<(f64, f64)> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        w,
        "id,name,industry,employees,standardization_level,installation,lon,lat"
    )?;
    let mut first = (0.0, 0.0);
    for (i, f) in synthetic(n, seed).into_iter().enumerate() {
        let (Geometry::Point(p), Record::Enterprise(e)) = (&f.geometry, &f.record) else {
            continue;
        };
        if i == 0 {
            first = (p.x(), p.y());
        }
        writeln!(
            w,
            "{},{},{},{},{},existing,{:.6},{:.6}",
            f.id,
            e.name,
            e.industry.as_deref().unwrap_or(""),
            e.employees.unwrap_or(0),
            e.standardization_level.unwrap_or(1),
            p.x(),
            p.y()
        )?;
    }
    w.flush()?;
    Ok(first)
}

/// The serving process and the times of its first answers.
struct Served {
    items: Option<Duration>,
    tile: Option<Duration>,
    ready: Option<Duration>,
    peak_mib: f64,
    rss_mib: f64,
    progress: Vec<String>,
}

fn tile_of(z: u8, lon: f64, lat: f64) -> (u8, u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let lat = lat.to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor()
        as u32;
    (z, x, y)
}

/// A `riskmap serve` child with `args`, once it listens: the child, its
/// base URL and the rest of its standard error, line by line.
pub(crate) fn spawn_serve(
    args: &[&std::ffi::OsStr],
) -> anyhow::Result<(Child, String, std::sync::mpsc::Receiver<String>)> {
    let exe = std::env::current_exe()?;
    let mut child: Child = Command::new(exe)
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env_remove("RISKMAP_ADMIN_TOKEN")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start riskmap serve")?;
    let stderr = child.stderr.take().context("no stderr")?;
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let base = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix("listening on ") {
                    break url.trim_end_matches('/').to_string();
                }
            }
            Err(_) => {
                let _ = child.kill();
                anyhow::bail!("riskmap serve did not start listening");
            }
        }
    };
    Ok((child, base, rx))
}

async fn serve_measured(store: &Path, at: (f64, f64), limit: Duration) -> anyhow::Result<Served> {
    let t = Instant::now();
    let (mut child, base, _stderr) = spawn_serve(&[
        std::ffi::OsStr::new("--no-demo"),
        std::ffi::OsStr::new("--data-dir"),
        store.as_os_str(),
    ])?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let (z, x, y) = tile_of(12, at.0, at.1);
    let d = 0.05;
    let items = format!(
        "{base}/collections/enterprises/items?limit=10&bbox={},{},{},{}",
        at.0 - d,
        at.1 - d,
        at.0 + d,
        at.1 + d
    );
    let tile = format!("{base}/tiles/enterprises/{z}/{x}/{y}.mvt");
    let ready = format!("{base}/ready");
    let pid = child.id().to_string();
    let mut out = Served {
        items: None,
        tile: None,
        ready: None,
        peak_mib: 0.0,
        rss_mib: 0.0,
        progress: Vec::new(),
    };
    let ok = |r: Result<reqwest::Response, reqwest::Error>| {
        r.is_ok_and(|r| r.status() == reqwest::StatusCode::OK)
    };
    let mut last_progress = String::new();
    let bar = crate::progress::Progress::new("riskmap serve starting", 0);
    while t.elapsed() < limit && out.ready.is_none() {
        if out.items.is_none() {
            let r = client.get(&items).send().await;
            if let Ok(resp) = r
                && resp.status() == reqwest::StatusCode::OK
            {
                let v: serde_json::Value = resp.json().await.unwrap_or_default();
                if v["numberReturned"].as_u64().unwrap_or(0) > 0 {
                    out.items = Some(t.elapsed());
                }
            }
        }
        if out.tile.is_none() {
            let r = client.get(&tile).send().await;
            if let Ok(resp) = r
                && resp.status() == reqwest::StatusCode::OK
                && resp.bytes().await.is_ok_and(|b| !b.is_empty())
            {
                out.tile = Some(t.elapsed());
            }
        }
        if ok(client.get(&ready).send().await) {
            out.ready = Some(t.elapsed());
        } else if let Ok(resp) = client.get(format!("{base}/health")).send().await {
            let v: serde_json::Value = resp.json().await.unwrap_or_default();
            let done = v["ready"]["progress"].as_f64().unwrap_or(0.0);
            bar.set(
                (done * 100.0).round() as u64,
                v["ready"]["step"].as_str().unwrap_or(""),
            );
            let p = format!("{}", v["ready"]);
            if p != last_progress && p != "null" {
                out.progress
                    .push(format!("{:>6.1} s {p}", t.elapsed().as_secs_f64()));
                last_progress = p;
            }
        }
        if let Some((rss, hwm)) = process_memory_mib(&pid) {
            out.peak_mib = out.peak_mib.max(hwm);
            out.rss_mib = rss;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bar.finish("");
    let _ = child.kill();
    let _ = child.wait();
    Ok(out)
}

pub(crate) async fn run(b: StartupBench) -> anyhow::Result<()> {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("riskmap-bench-startup-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join("enterprises.csv");
    let t = Instant::now();
    let at = write_csv(&csv, b.features, b.seed)?;
    let size_mib = std::fs::metadata(&csv)?.len() as f64 / 1048576.0;
    eprintln!(
        "wrote {} enterprises ({size_mib:.0} MiB CSV) in {:.1} s",
        b.features,
        t.elapsed().as_secs_f64()
    );
    let store = dir.join("store");
    let exe = std::env::current_exe()?;
    let import = run_measured(
        Command::new(&exe)
            .args(["import", "enterprises"])
            .arg(&csv)
            .arg("--data-dir")
            .arg(&store),
    )?;
    anyhow::ensure!(import.ok, "riskmap import failed:\n{}", import.stderr_tail);
    eprintln!("riskmap import: {:.1} s", import.took.as_secs_f64());
    let gpkg = dir.join("peer.gpkg");
    let peer_import = run_measured(
        Command::new("ogr2ogr")
            .args(["-f", "GPKG", "-nln", "enterprises", "-a_srs", "EPSG:4326"])
            .args(["-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat"])
            .args(["-oo", "AUTODETECT_TYPE=YES", "-gt", "100000"])
            .arg(&gpkg)
            .arg(&csv),
    )
    .ok()
    .filter(|f| f.ok);
    let served = serve_measured(&store, at, Duration::from_secs(900)).await?;
    let d = 0.05;
    let peer_query = if peer_import.is_some() {
        run_measured(
            Command::new("ogrinfo")
                .args(["-ro", "-q", "-spat"])
                .args([
                    format!("{}", at.0 - d),
                    format!("{}", at.1 - d),
                    format!("{}", at.0 + d),
                    format!("{}", at.1 + d),
                ])
                .arg(&gpkg)
                .arg("enterprises"),
        )
        .ok()
        .filter(|f| f.ok)
    } else {
        None
    };
    let secs =
        |d: Option<Duration>| d.map_or("—".to_string(), |d| format!("{:.1}", d.as_secs_f64()));
    println!(
        "bench startup: {} synthetic enterprise points (seed {}), {size_mib:.0} MiB CSV, embedded store",
        b.features, b.seed
    );
    println!("| step | riskmap s | riskmap peak MiB | peer | peer s | peer peak MiB | ratio |");
    println!("|---|---|---|---|---|---|---|");
    let peer_row = |p: &Option<Finished>| match p {
        Some(p) => (
            format!("{:.1}", p.took.as_secs_f64()),
            format!("{:.0}", p.peak_mib),
            Some(p.took),
        ),
        None => ("not available".into(), "—".into(), None),
    };
    let (ps, pm, pt) = peer_row(&peer_import);
    println!(
        "| import (one transaction) | {:.1} | {:.0} | ogr2ogr → GeoPackage | {ps} | {pm} | {} |",
        import.took.as_secs_f64(),
        import.peak_mib,
        pt.map_or("—".into(), |p| format!(
            "{:.2}×",
            import.took.as_secs_f64() / p.as_secs_f64()
        ))
    );
    let (qs, qm, qt) = peer_row(&peer_query);
    println!(
        "| start → first item page | {} | | ogrinfo bbox query, cold | {qs} | {qm} | {} |",
        secs(served.items),
        match (served.items, qt) {
            (Some(a), Some(b)) => format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64()),
            _ => "—".into(),
        }
    );
    println!("| start → first tile | {} | | | | | |", secs(served.tile));
    println!(
        "| start → /ready (every level final) | {} | {:.0} (RSS {:.0}) | | | | |",
        secs(served.ready),
        served.peak_mib,
        served.rss_mib
    );
    if !served.progress.is_empty() {
        println!("start-up progress (/health):");
        for p in &served.progress {
            println!("  {p}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

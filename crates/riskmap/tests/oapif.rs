//! End-to-end: GDAL's OGC API – Features driver (`ogrinfo OAPIF:…`, Debian
//! `gdal-bin`) reads `riskmap serve` and sends its `-where` to the server as
//! a CQL2 filter: the answer is exactly the red enterprises a brute force
//! over every item finds, and the server's log shows the filter applied
//! there.
//!
//! Without `ogrinfo` the test is skipped with a message, unless
//! `RISKMAP_REQUIRE_GDAL=1` (as `scripts/test` sets), when it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::{Server, client};
use serde_json::Value;

fn ogrinfo_available() -> bool {
    Command::new("ogrinfo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The `id` of each feature in an `ogrinfo -al` listing.
fn listed_ids(text: &str) -> Vec<String> {
    let mut ids: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("id (String) = "))
        .map(|s| s.trim().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ogrinfo_where_is_filtered_on_the_server() {
    if !ogrinfo_available() {
        assert!(
            std::env::var("RISKMAP_REQUIRE_GDAL").is_err(),
            "ogrinfo is required (RISKMAP_REQUIRE_GDAL is set) but not found"
        );
        eprintln!("skipped: ogrinfo (gdal-bin) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let server = Server::start_env(&["--data-dir", data], &[("RUST_LOG", "info,sqlx=warn")]);
    // The brute force: every item, filtered here.
    let all: Value = client()
        .get(server.url("/collections/enterprises/items?limit=10000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let features = all["features"].as_array().unwrap();
    let mut red: Vec<String> = features
        .iter()
        .filter(|f| f["properties"]["risk_level"] == "red")
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    red.sort();
    assert!(!red.is_empty() && red.len() < features.len());
    while server.log.try_recv().is_ok() {}

    let base = server.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("ogrinfo")
            .args(["-ro", "-al", "-oo", "PAGE_SIZE=1000"])
            .arg(format!("OAPIF:{base}"))
            .arg("enterprises")
            .args(["-where", "risk_level = 'red'"])
            .env("GDAL_HTTP_TIMEOUT", "120")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ogrinfo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(listed_ids(&stdout), red, "ogrinfo listing:\n{stdout}");
    // The server's log names the filter it applied and what it matched.
    let mut applied = Vec::new();
    while let Ok(line) = server.log.recv_timeout(Duration::from_millis(500)) {
        if line.contains("filter applied on the server") {
            applied.push(line);
        }
    }
    assert!(
        applied.iter().any(|l| l.contains("risk_level")
            && l.contains("red")
            && l.contains(&format!("matched={}", red.len()))),
        "no server log line shows the filter applied: {applied:?}"
    );
}

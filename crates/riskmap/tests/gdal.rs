//! End-to-end: GDAL's MVT driver (`ogrinfo`, Debian `gdal-bin`) reads the
//! tiles `riskmap serve` serves, with the layer name, feature count, ids and
//! risk levels our own decoder finds.
//!
//! Without `ogrinfo` the test is skipped with a message, unless
//! `RISKMAP_REQUIRE_GDAL=1` (as `scripts/test` sets, after installing
//! `gdal-bin`), when it fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{Server, client};
use riskmap_tiles::{TileCoord, decode_tile};

fn ogrinfo_available() -> bool {
    Command::new("ogrinfo")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs `ogrinfo -ro -al <args> <file>` and returns stdout.
fn ogrinfo(args: &[&str], file: &std::path::Path) -> String {
    let out = Command::new("ogrinfo")
        // CLIP=NO: keep features that lie only in the tile's buffer (by
        // default GDAL clips to the tile and drops them from listings).
        .args(["-ro", "-al", "-oo", "CLIP=NO"])
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ogrinfo {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `(layer name, feature count)` from `ogrinfo -so`.
fn summary(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut name = None;
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("Layer name: ") {
            name = Some(n.trim().to_string());
        } else if let Some(c) = line.strip_prefix("Feature Count: ") {
            out.push((name.take().unwrap(), c.trim().parse().unwrap()));
        }
    }
    out
}

/// Per feature: `(id, risk_level)` properties from a full `ogrinfo` listing.
fn features(text: &str) -> Vec<(Option<String>, Option<String>)> {
    let mut out: Vec<(Option<String>, Option<String>)> = Vec::new();
    for line in text.lines() {
        if line.starts_with("OGRFeature(") {
            out.push((None, None));
        } else if let Some(last) = out.last_mut() {
            let l = line.trim_start();
            if let Some(v) = l.strip_prefix("id (String) = ") {
                last.0 = Some(v.to_string());
            } else if let Some(v) = l.strip_prefix("risk_level (String) = ") {
                last.1 = Some(v.to_string());
            }
        }
    }
    out.sort();
    out
}

#[tokio::test]
async fn gdal_reads_served_tiles_like_our_decoder() {
    if !ogrinfo_available() {
        assert!(
            std::env::var("RISKMAP_REQUIRE_GDAL").as_deref() != Ok("1"),
            "RISKMAP_REQUIRE_GDAL=1 but ogrinfo (gdal-bin) is not installed"
        );
        eprintln!("skipped: ogrinfo (gdal-bin) not installed; set RISKMAP_REQUIRE_GDAL=1 to fail");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data-dir", data.to_str().unwrap()]);
    // The chemical park in the east of the demo (临江) and the city (下沙).
    let cases = [
        ("enterprises", TileCoord::from_lonlat(120.58, 30.29, 14)),
        ("enterprises", TileCoord::from_lonlat(120.58, 30.29, 11)),
        ("enterprises", TileCoord::from_lonlat(120.34, 30.31, 14)),
        ("risk_grid", TileCoord::from_lonlat(120.58, 30.29, 12)),
        ("risk_grid", TileCoord::from_lonlat(120.34, 30.31, 12)),
        ("pipelines", TileCoord::from_lonlat(120.58, 30.29, 12)),
        ("parks", TileCoord::from_lonlat(120.58, 30.29, 12)),
        ("districts", TileCoord::from_lonlat(120.34, 30.31, 10)),
    ];
    let mut checked = 0;
    for (ts, t) in cases {
        let resp = client()
            .get(server.url(&format!("/tiles/{ts}/{}/{}/{}.mvt", t.z, t.x, t.y)))
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success());
        let bytes = resp.bytes().await.unwrap().to_vec();
        let ours = decode_tile(&bytes).unwrap();
        if ours.layers.is_empty() {
            continue;
        }
        // GDAL opens a single tile when the path ends in {z}/{x}/{y}.mvt.
        let tile_dir = dir
            .path()
            .join(ts)
            .join(t.z.to_string())
            .join(t.x.to_string());
        std::fs::create_dir_all(&tile_dir).unwrap();
        let file = tile_dir.join(format!("{}.mvt", t.y));
        std::fs::write(&file, &bytes).unwrap();

        let want: Vec<(String, usize)> = ours
            .layers
            .iter()
            .map(|l| (l.name.clone(), l.features.len()))
            .collect();
        assert_eq!(
            summary(&ogrinfo(&["-so"], &file)),
            want,
            "{ts} {t}: GDAL layers and feature counts"
        );
        let mut mine: Vec<(Option<String>, Option<String>)> = ours.layers[0]
            .features
            .iter()
            .map(|f| {
                (
                    f.property("id").and_then(|v| v.as_str()).map(str::to_owned),
                    f.property("risk_level")
                        .and_then(|v| v.as_str())
                        .map(str::to_owned),
                )
            })
            .collect();
        mine.sort();
        assert_eq!(
            features(&ogrinfo(&[], &file)),
            mine,
            "{ts} {t}: GDAL ids and risk levels"
        );
        checked += 1;
    }
    let counted: BTreeMap<&str, usize> = cases.iter().fold(BTreeMap::new(), |mut m, (ts, _)| {
        *m.entry(*ts).or_default() += 1;
        m
    });
    assert!(
        checked >= 6,
        "only {checked} non-empty tiles of {counted:?} checked"
    );
}

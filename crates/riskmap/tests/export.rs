//! End-to-end: `riskmap tiles export` writes one PMTiles v3 archive that an
//! independent reader (protomaps' Python `pmtiles` package, see
//! `tests/pmtiles-reader/`) lists in full, whose tiles hold, layer by layer,
//! what `riskmap serve` serves for the same z/x/y and tileset, and which holds
//! every non-empty served tile of the data extent up to z12.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, client, riskmap};
use geo::Rect;
use riskmap_tiles::{DecodedTile, TileCoord, decode_tile, tiles_covering};
use serde_json::Value;

/// The server's tilesets, in the order the archive's layers are written.
const TILESETS: [&str; 12] = [
    "districts",
    "risk_grid",
    "parks",
    "pipelines",
    "protection_targets",
    "enterprises",
    "hidden_dangers",
    "shelters",
    "supply_depots",
    "rescue_teams",
    "safety_zones",
    "violations",
];
const MAX_ZOOM: u8 = 12;

fn reader_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pmtiles-reader")
}

/// The Python of the reader's virtual environment, created (and the pinned,
/// hash-checked `pmtiles` installed) when missing. `scripts/test` does the
/// same up front; `RISKMAP_PMTILES_PYTHON` overrides.
fn reader_python() -> PathBuf {
    if let Ok(p) = std::env::var("RISKMAP_PMTILES_PYTHON") {
        return PathBuf::from(p);
    }
    common::python_venv(
        "pmtiles-reader-venv",
        &reader_dir().join("requirements.txt"),
        |bin| common::python_runs(&bin.join("python"), "import pmtiles.reader"),
    )
    .join("python")
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Per layer: (id, risk_level, geometry) of each feature, in order.
type Layer = Vec<(Option<String>, Option<String>, geo::Geometry<i32>)>;

fn layers(tile: &DecodedTile) -> BTreeMap<String, Layer> {
    tile.layers
        .iter()
        .map(|l| {
            let features = l
                .features
                .iter()
                .map(|f| {
                    (
                        f.id_string(),
                        f.property("risk_level")
                            .and_then(|v| v.as_str())
                            .map(str::to_owned),
                        f.geometry.clone(),
                    )
                })
                .collect();
            (l.name.clone(), features)
        })
        .collect()
}

async fn served(server: &Server, ts: &str, t: TileCoord) -> Vec<u8> {
    let resp = client()
        .get(server.url(&format!("/tiles/{ts}/{}/{}/{}.mvt", t.z, t.x, t.y)))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{ts} {t}: {}", resp.status());
    resp.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn exported_archive_matches_served_tiles_through_an_independent_reader() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let archive = dir.path().join("demo.pmtiles");
    let out = riskmap()
        .args(["tiles", "export"])
        .arg(&archive)
        .args(["--min-zoom", "0", "--max-zoom", &MAX_ZOOM.to_string()])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "export failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(" tiles ") && stdout.contains(" bytes"),
        "{stdout}"
    );

    // Read the whole archive back with protomaps' reader.
    let read = Command::new(reader_python())
        .arg(reader_dir().join("read_pmtiles.py"))
        .arg(&archive)
        .output()
        .unwrap();
    assert!(
        read.status.success(),
        "reader failed: {}",
        String::from_utf8_lossy(&read.stderr)
    );
    let doc: Value = serde_json::from_slice(&read.stdout).unwrap();
    assert_eq!(doc["spec_version"], 3);
    assert_eq!(doc["tile_type"], "mvt");
    assert_eq!(doc["tile_compression"], "gzip");
    assert_eq!(doc["min_zoom"], 0);
    assert_eq!(doc["max_zoom"], MAX_ZOOM);
    let meta = &doc["metadata"];
    assert_eq!(meta["name"], "riskmap");
    assert!(
        meta["attribution"]
            .as_str()
            .unwrap()
            .contains("OpenStreetMap")
    );
    let ids: BTreeSet<&str> = meta["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            assert!(
                l["fields"]
                    .as_object()
                    .is_some_and(|f| f.contains_key("id"))
            );
            l["id"].as_str().unwrap()
        })
        .collect();
    assert_eq!(ids, TILESETS.into_iter().collect());
    let mut archive_tiles: BTreeMap<TileCoord, Vec<u8>> = BTreeMap::new();
    for t in doc["tiles"].as_array().unwrap() {
        let c = TileCoord::new(
            t["z"].as_u64().unwrap() as u8,
            t["x"].as_u64().unwrap() as u32,
            t["y"].as_u64().unwrap() as u32,
        )
        .unwrap();
        let bytes = hex(t["hex"].as_str().unwrap());
        assert_eq!(bytes.len() as u64, t["bytes"].as_u64().unwrap());
        assert!(!bytes.is_empty(), "empty tile {c} stored");
        assert!(archive_tiles.insert(c, bytes).is_none(), "{c} twice");
    }
    assert_eq!(
        doc["addressed_tiles_count"].as_u64().unwrap(),
        archive_tiles.len() as u64
    );
    let zooms: BTreeSet<u8> = archive_tiles.keys().map(|t| t.z).collect();
    assert_eq!(zooms, (0..=MAX_ZOOM).collect(), "a tile at every zoom");

    // The server on the same store.
    let server = Server::start(&["--data-dir", data.to_str().unwrap()]);

    // A sample at every zoom: the archive tile, layer by layer, equals what
    // the server serves for each tileset.
    let mut sample = Vec::new();
    for z in 0..=MAX_ZOOM {
        let at: Vec<TileCoord> = archive_tiles.keys().filter(|t| t.z == z).copied().collect();
        let step = (at.len() / 5).max(1);
        sample.extend(at.iter().step_by(step).take(5).copied());
    }
    assert!(sample.len() >= 30, "sample of {} tiles", sample.len());
    let mut compared_features = 0;
    for t in &sample {
        let decoded = decode_tile(&archive_tiles[t]).unwrap_or_else(|e| panic!("{t}: {e}"));
        let mut from_archive = layers(&decoded);
        for ts in TILESETS {
            let bytes = served(&server, ts, *t).await;
            let served_layers = layers(&decode_tile(&bytes).unwrap());
            let want = served_layers.get(ts).cloned();
            let got = from_archive.remove(ts);
            assert_eq!(got, want, "tile {t} layer {ts}: archive vs served");
            compared_features += want.map_or(0, |l| l.len());
        }
        assert!(
            from_archive.is_empty(),
            "tile {t}: unexpected layers {:?}",
            from_archive.keys()
        );
    }
    assert!(
        compared_features > 100,
        "{compared_features} features compared"
    );

    // Completeness: every non-empty served tile of the data extent up to z12
    // is in the archive.
    let mut extent: Option<Rect<f64>> = None;
    for ts in TILESETS {
        let tj: Value = client()
            .get(server.url(&format!("/tiles/{ts}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let b: Vec<f64> = tj["bounds"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let r = Rect::new((b[0], b[1]), (b[2], b[3]));
        extent = Some(extent.map_or(r, |e| {
            Rect::new(
                (e.min().x.min(r.min().x), e.min().y.min(r.min().y)),
                (e.max().x.max(r.max().x), e.max().y.max(r.max().y)),
            )
        }));
    }
    let extent = extent.unwrap();
    let mut checked = 0;
    let mut non_empty = 0;
    for z in 0..=MAX_ZOOM {
        let tiles: Vec<TileCoord> = tiles_covering(extent, z).iter().collect();
        for chunk in tiles.chunks(8) {
            let mut set = tokio::task::JoinSet::new();
            for &t in chunk {
                let base = server.base.clone();
                set.spawn(async move {
                    let mut any = false;
                    for ts in TILESETS {
                        let resp = client()
                            .get(format!("{base}/tiles/{ts}/{}/{}/{}.mvt", t.z, t.x, t.y))
                            .send()
                            .await
                            .unwrap();
                        assert!(resp.status().is_success());
                        any |= !resp.bytes().await.unwrap().is_empty();
                    }
                    (t, any)
                });
            }
            for (t, any) in set.join_all().await {
                checked += 1;
                if any {
                    non_empty += 1;
                    assert!(
                        archive_tiles.contains_key(&t),
                        "served tile {t} has features but is not in the archive"
                    );
                }
            }
        }
    }
    assert!(non_empty > 100, "{non_empty} of {checked} tiles non-empty");
}

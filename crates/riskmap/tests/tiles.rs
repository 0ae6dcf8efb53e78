//! End-to-end: vector tiles of every tileset decode cleanly against the MVT
//! spec, a z14 tile holds exactly the features meeting it, and an edit
//! refreshes exactly the tiles it touches (ETag).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;

use common::{Server, client, repo_root};
use geo::{Geometry, Intersects};
use riskmap_tiles::{TileCoord, decode_tile};
use serde_json::{Value, json};

const TILESETS: [&str; 9] = [
    "enterprises",
    "parks",
    "pipelines",
    "protection_targets",
    "districts",
    "risk_grid",
    "shelters",
    "supply_depots",
    "rescue_teams",
];

async fn get_tile(
    server: &Server,
    tileset: &str,
    t: TileCoord,
) -> (reqwest::StatusCode, String, Vec<u8>) {
    let resp = client()
        .get(server.url(&format!("/tiles/{tileset}/{}/{}/{}.mvt", t.z, t.x, t.y)))
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let etag = resp
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    if status.is_success() {
        assert_eq!(
            resp.headers()["content-type"],
            "application/vnd.mapbox-vector-tile"
        );
    }
    (status, etag, resp.bytes().await.unwrap().to_vec())
}

fn demo(collection: &str) -> Vec<(String, Geometry<f64>)> {
    let text = std::fs::read_to_string(repo_root().join(format!("data/demo/{collection}.geojson")))
        .unwrap();
    let fc: geojson::FeatureCollection = text.parse().unwrap();
    fc.features
        .into_iter()
        .map(|f| {
            let id = match f.id.unwrap() {
                geojson::feature::Id::String(s) => s,
                geojson::feature::Id::Number(n) => n.to_string(),
            };
            (id, Geometry::try_from(f.geometry.unwrap()).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn every_tileset_decodes_at_every_zoom_and_z14_matches_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    // The chemical park in the east of the demo (临江) and the city (下沙).
    let spots = [(120.58, 30.29), (120.34, 30.31)];
    for ts in TILESETS {
        let tj: Value = client()
            .get(server.url(&format!("/tiles/{ts}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(tj["tilejson"], "3.0.0");
        assert_eq!(tj["vector_layers"][0]["id"], ts);
        assert!(
            tj["tiles"][0]
                .as_str()
                .unwrap()
                .ends_with(&format!("/tiles/{ts}/{{z}}/{{x}}/{{y}}.mvt"))
        );
        let mut non_empty = 0;
        for (lon, lat) in spots {
            for z in [0u8, 6, 10, 14, 16] {
                let t = TileCoord::from_lonlat(lon, lat, z);
                let (status, _, bytes) = get_tile(&server, ts, t).await;
                assert_eq!(status, 200, "{ts} {t}");
                let decoded = decode_tile(&bytes).unwrap_or_else(|e| panic!("{ts} {t}: {e}"));
                if let Some(layer) = decoded.layer(ts) {
                    assert_eq!(layer.extent, 4096);
                    non_empty += 1;
                }
            }
        }
        assert!(non_empty > 0, "{ts}: every tile empty");
    }
    // z14: the features in the tile are the ones meeting the tile (plus buffer).
    for ts in [
        "enterprises",
        "protection_targets",
        "parks",
        "districts",
        "shelters",
        "rescue_teams",
    ] {
        let all = demo(ts);
        for (lon, lat) in spots {
            let t = TileCoord::from_lonlat(lon, lat, 14);
            let (_, _, bytes) = get_tile(&server, ts, t).await;
            let decoded = decode_tile(&bytes).unwrap();
            let got: BTreeSet<String> = decoded
                .layer(ts)
                .map(|l| {
                    l.features
                        .iter()
                        .map(|f| f.property("id").unwrap().as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            let inner = t.bounds_lonlat();
            let buffered = t.buffered_bounds_lonlat(4096, 64);
            let must: BTreeSet<String> = all
                .iter()
                .filter(|(_, g)| g.intersects(&inner))
                .map(|(id, _)| id.clone())
                .collect();
            let may: BTreeSet<String> = all
                .iter()
                .filter(|(_, g)| g.intersects(&buffered))
                .map(|(id, _)| id.clone())
                .collect();
            assert!(
                got.is_superset(&must),
                "{ts} {t}: missing {:?}",
                must.difference(&got).collect::<Vec<_>>()
            );
            assert!(
                got.is_subset(&may),
                "{ts} {t}: extra {:?}",
                got.difference(&may).collect::<Vec<_>>()
            );
        }
    }
    // Bad requests.
    let (status, _, _) = get_tile(&server, "roads", TileCoord::new(0, 0, 0).unwrap()).await;
    assert_eq!(status, 404);
    let resp = client()
        .get(server.url("/tiles/enterprises/3/9/0.mvt"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let style: Value = client()
        .get(server.url("/style.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(style["version"], 8);
    // Every tileset, plus the offline basemap under them.
    let sources = style["sources"].as_object().unwrap();
    assert!(sources.contains_key("basemap"));
    assert_eq!(sources.len(), TILESETS.len() + 1);
}

#[tokio::test]
async fn an_edit_changes_the_etag_of_affected_tiles_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--admin-token",
        "k",
    ]);
    let f: Value = client()
        .get(server.url("/collections/enterprises/items/ent-06"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let c = &f["geometry"]["coordinates"];
    let (lon, lat) = if f["geometry"]["type"] == "Point" {
        (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
    } else {
        (c[0][0][0].as_f64().unwrap(), c[0][0][1].as_f64().unwrap())
    };
    let here = TileCoord::from_lonlat(lon, lat, 14);
    let far = TileCoord::from_lonlat(120.30, 30.26, 14);
    let (_, etag_here, bytes) = get_tile(&server, "enterprises", here).await;
    let (_, etag_far, _) = get_tile(&server, "enterprises", far).await;
    let level = |bytes: &[u8]| -> String {
        let d = decode_tile(bytes).unwrap();
        let l = d.layer("enterprises").unwrap();
        let f = l
            .features
            .iter()
            .find(|f| f.property("id").unwrap().as_str() == Some("ent-06"))
            .unwrap();
        f.property("risk_level")
            .unwrap()
            .as_str()
            .unwrap()
            .to_string()
    };
    let before = level(&bytes);
    // 304 with the same ETag.
    let resp = client()
        .get(server.url(&format!(
            "/tiles/enterprises/{}/{}/{}.mvt",
            here.z, here.x, here.y
        )))
        .header("if-none-match", &etag_here)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 304);

    // Make ent-06 a much bigger toxic store.
    let mut props = f["properties"].clone();
    props
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.starts_with("risk_"));
    props["units"][0]["substances"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "光气", "cas": "75-44-5", "quantity_t": 50.0}));
    props["accidents"] = json!([{"date": "2025-02-01", "severity": "major", "deaths": 12}]);
    let resp = client()
        .put(server.url("/collections/enterprises/items/ent-06"))
        .bearer_auth("k")
        .json(&json!({"type": "Feature", "geometry": f["geometry"], "properties": props}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let (_, etag_here2, bytes2) = get_tile(&server, "enterprises", here).await;
    let (_, etag_far2, _) = get_tile(&server, "enterprises", far).await;
    assert_ne!(etag_here, etag_here2, "affected tile kept its ETag");
    assert_eq!(level(&bytes2), "red", "was {before}");
    assert_eq!(etag_far, etag_far2, "unaffected tile changed");
}

/// Point enterprises as served: (id, lon, lat, risk_level).
async fn point_enterprises(server: &Server) -> Vec<(String, f64, f64, String)> {
    let fc: Value = client()
        .get(server.url("/collections/enterprises/items?limit=1000"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["geometry"]["type"] == "Point")
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            (
                f["id"].as_str().unwrap().to_string(),
                c[0].as_f64().unwrap(),
                c[1].as_f64().unwrap(),
                f["properties"]["risk_level"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// Whether the z<10 tile at `t` shows enterprise `id` at `lon`/`lat` in red:
/// the feature itself, or a red aggregate in the 64-px cell that holds it.
fn shows_red(bytes: &[u8], t: TileCoord, id: &str, lon: f64, lat: f64) -> bool {
    let Some(layer) = decode_tile(bytes).unwrap().layer("enterprises").cloned() else {
        return false;
    };
    let (px, py) = t.projector(4096).project(lon, lat);
    let cell = |v: f64| (v.floor() as i64).div_euclid(64);
    layer.features.iter().any(|f| {
        let red = f.property("risk_level").and_then(|v| v.as_str()) == Some("red");
        let itself = f.property("id").and_then(|v| v.as_str()) == Some(id);
        let Geometry::Point(p) = f.geometry else {
            return false;
        };
        let aggregate_here = f.property("aggregated").is_some()
            && cell(f64::from(p.x())) == cell(px)
            && cell(f64::from(p.y())) == cell(py);
        red && (itself || aggregate_here)
    })
}

/// The aggregate drawn in the 64-px cell holding `lon`/`lat` of the z<10 tile.
fn aggregate_at(
    bytes: &[u8],
    t: TileCoord,
    lon: f64,
    lat: f64,
) -> Option<riskmap_tiles::DecodedFeature> {
    let layer = decode_tile(bytes).unwrap().layer("enterprises")?.clone();
    let (px, py) = t.projector(4096).project(lon, lat);
    let cell = |v: f64| (v.floor() as i64).div_euclid(64);
    layer.features.into_iter().find(|f| {
        matches!(f.geometry, Geometry::Point(p)
            if f.property("aggregated").is_some()
                && cell(f64::from(p.x())) == cell(px)
                && cell(f64::from(p.y())) == cell(py))
    })
}

/// Below z10 points are drawn as aggregate cells read from the pre-aggregated
/// index: an edit that makes an enterprise red shows at once in the
/// low-zoom cell that holds it (and the tile gets a new ETag) while other
/// tiles keep theirs, and every red enterprise is visible (itself or its
/// cell, red).
#[tokio::test]
async fn low_zoom_tiles_show_every_red_enterprise_and_follow_edits() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--admin-token",
        "k",
    ]);
    let before = point_enterprises(&server).await;
    let (id, lon, lat, _) = before
        .iter()
        .find(|e| e.3 != "red")
        .expect("a point enterprise that is not red")
        .clone();
    let item = |id: &str| server.url(&format!("/collections/enterprises/items/{id}"));
    let f: Value = client()
        .get(item(&id))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut props = f["properties"].clone();
    props
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.starts_with("risk_"));
    // Four neighbours like it, so that its low-zoom cell is an aggregate.
    for i in 1..=4 {
        let mut p = props.clone();
        p["credit_code"] = Value::Null;
        p["id"] = json!(format!("near-{i}"));
        p["name"] = json!(format!("邻近企业 {i}"));
        let geometry = json!({"type": "Point", "coordinates": [lon + f64::from(i) * 2e-4, lat]});
        let resp = client()
            .put(item(&format!("near-{i}")))
            .bearer_auth("k")
            .json(&json!({"type": "Feature", "geometry": geometry, "properties": p}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    }
    let z8 = TileCoord::from_lonlat(lon, lat, 8);
    let elsewhere = TileCoord::new(8, z8.x + 3, z8.y).unwrap();
    let (_, etag_z8, bytes) = get_tile(&server, "enterprises", z8).await;
    let (_, etag_elsewhere, _) = get_tile(&server, "enterprises", elsewhere).await;
    let cell = aggregate_at(&bytes, z8, lon, lat).expect("an aggregate cell at z8");
    let count = |f: &riskmap_tiles::DecodedFeature, k: &str| f.property(k).and_then(|v| v.as_i64());
    let (n, red) = (
        count(&cell, "count").unwrap(),
        count(&cell, "count_red").unwrap(),
    );
    assert!(n >= 5, "{n} in the cell");

    // Make it a chemical plant with a big toxic store and a major accident
    // (直接判定为红色).
    let mut units = props["units"].as_array().cloned().unwrap_or_default();
    units.push(json!({"id": format!("{id}-T9"), "kind": "storage",
        "substances": [{"name": "光气", "cas": "75-44-5", "quantity_t": 50.0}]}));
    props["units"] = Value::Array(units);
    props["installation"] = json!("existing");
    props["industry"] = json!("化工");
    props["accidents"] = json!([{"date": "2025-02-01", "severity": "major", "deaths": 12}]);
    let resp = client()
        .put(item(&id))
        .bearer_auth("k")
        .json(&json!({"type": "Feature", "geometry": f["geometry"], "properties": props}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let after = point_enterprises(&server).await;
    assert_eq!(
        after.iter().find(|e| e.0 == id).map(|e| e.3.as_str()),
        Some("red")
    );
    let (_, etag_z8_after, bytes) = get_tile(&server, "enterprises", z8).await;
    let (_, etag_elsewhere_after, _) = get_tile(&server, "enterprises", elsewhere).await;
    assert_ne!(etag_z8, etag_z8_after, "the z8 tile kept its ETag");
    assert_eq!(etag_elsewhere, etag_elsewhere_after);
    let cell = aggregate_at(&bytes, z8, lon, lat).expect("an aggregate cell at z8");
    assert_eq!(count(&cell, "count"), Some(n));
    assert_eq!(count(&cell, "count_red"), Some(red + 1));
    assert_eq!(
        cell.property("risk_level").and_then(|v| v.as_str()),
        Some("red")
    );
    for (id, lon, lat, level) in &after {
        if level != "red" {
            continue;
        }
        for z in 6..=9u8 {
            let t = TileCoord::from_lonlat(*lon, *lat, z);
            let (_, _, bytes) = get_tile(&server, "enterprises", t).await;
            assert!(shows_red(&bytes, t, id, *lon, *lat), "{id} not red in {t}");
        }
    }
}

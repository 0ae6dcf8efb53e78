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

const TILESETS: [&str; 6] = [
    "enterprises",
    "parks",
    "pipelines",
    "protection_targets",
    "districts",
    "risk_grid",
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
    for ts in ["enterprises", "protection_targets", "parks", "districts"] {
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
    assert_eq!(style["sources"].as_object().unwrap().len(), TILESETS.len());
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

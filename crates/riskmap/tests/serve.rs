//! End-to-end: `riskmap serve` on a fresh data directory serves the demo city
//! through OGC API – Features, and writes need the admin token.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, client, repo_root};
use geo::{Geometry, Intersects, Rect};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const COLLECTIONS: [&str; 9] = [
    "enterprises",
    "parks",
    "pipelines",
    "protection_targets",
    "districts",
    "hidden_dangers",
    "rescue_teams",
    "supply_depots",
    "shelters",
];

/// The demo file of a collection, parsed independently of riskmap's importer.
fn demo_features(collection: &str) -> Vec<(String, Geometry<f64>)> {
    let path = repo_root().join(format!("data/demo/{collection}.geojson"));
    let text = std::fs::read_to_string(&path).unwrap();
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

async fn get_json(url: &str) -> Value {
    let resp = client().get(url).send().await.unwrap();
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.json().await.unwrap()
}

fn ids_of(fc: &Value) -> Vec<String> {
    let mut ids: Vec<String> = fc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn fresh_serve_loads_demo_and_bbox_matches_brute_force() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);

    let health = get_json(&server.url("/health")).await;
    assert_eq!(health["status"], "ok");
    assert_eq!(health["backend"], "sqlite");

    let cols = get_json(&server.url("/collections")).await;
    let mut listed: Vec<&str> = cols["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    listed.sort();
    // The stored collections and the derived, read-only ones.
    let mut want = COLLECTIONS.to_vec();
    want.extend([
        "risk_grid",
        "pipeline_segments",
        "safety_zones",
        "violations",
    ]);
    want.sort();
    assert_eq!(listed, want);

    let mut rng = StdRng::seed_from_u64(20261123);
    for collection in COLLECTIONS {
        let demo = demo_features(collection);
        assert!(!demo.is_empty(), "{collection} demo is empty");
        assert_eq!(
            health["features"][collection],
            json!(demo.len()),
            "{collection} count"
        );
        // The demo area with a margin, and random boxes inside it of 0.2–20 km.
        for i in 0..12 {
            let (w, h) = if i == 0 {
                (2.0, 2.0)
            } else {
                (rng.random_range(0.002..0.2), rng.random_range(0.002..0.2))
            };
            let (x, y) = if i == 0 {
                (119.0, 29.5)
            } else {
                (
                    rng.random_range(120.2..120.6),
                    rng.random_range(30.15..30.4),
                )
            };
            let rect = Rect::new((x, y), (x + w, y + h));
            let mut want: Vec<String> = demo
                .iter()
                .filter(|(_, g)| g.intersects(&rect))
                .map(|(id, _)| id.clone())
                .collect();
            want.sort();
            let url = server.url(&format!(
                "/collections/{collection}/items?bbox={},{},{},{}&limit=10000",
                x,
                y,
                x + w,
                y + h
            ));
            let fc = get_json(&url).await;
            assert_eq!(fc["numberMatched"], json!(want.len()), "{url}");
            assert_eq!(ids_of(&fc), want, "{url}");
        }
    }
}

#[tokio::test]
async fn paging_links_and_cgcs2000_output() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    let total = demo_features("protection_targets").len();
    let mut url = server.url("/collections/protection_targets/items?limit=50");
    let mut seen = Vec::new();
    while !url.is_empty() {
        let page = get_json(&url).await;
        assert_eq!(page["numberMatched"], json!(total));
        seen.extend(ids_of(&page));
        url = page["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| l["href"].as_str().unwrap().to_string())
            .unwrap_or_default();
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), total);

    let (id, g) = demo_features("enterprises").into_iter().next().unwrap();
    let url = server.url(&format!(
        "/collections/enterprises/items/{id}?crs=http://www.opengis.net/def/crs/EPSG/0/4490"
    ));
    let resp = client().get(&url).send().await.unwrap();
    assert_eq!(
        resp.headers()["content-crs"].to_str().unwrap(),
        "<http://www.opengis.net/def/crs/EPSG/0/4490>"
    );
    let body: Value = resp.json().await.unwrap();
    let first = &body["geometry"]["coordinates"][0][0];
    let Geometry::Polygon(p) = g else {
        panic!("demo enterprise 0 is a polygon")
    };
    let c = p.exterior().0[0];
    // EPSG:4490 has latitude first.
    assert!(
        (first[0].as_f64().unwrap() - c.y).abs() < 1e-9
            && (first[1].as_f64().unwrap() - c.x).abs() < 1e-9
    );

    let bad = client()
        .get(server.url("/collections/enterprises/items?bbox=1,2,3"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let nf = client()
        .get(server.url("/collections/roads/items"))
        .send()
        .await
        .unwrap();
    assert_eq!(nf.status(), 404);
}

#[tokio::test]
async fn writes_need_the_token_and_show_in_the_next_bbox_query() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--admin-token",
        "s3cret",
    ]);
    let c = client();
    let item = server.url("/collections/protection_targets/items/new-school");
    let bbox = server.url(
        "/collections/protection_targets/items?bbox=120.4499,30.2999,120.4501,30.3001&limit=1000",
    );
    let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [120.45, 30.30]},
        "properties": {"name": "新建小学（测试）", "category": "school", "population": 900}});
    let before = ids_of(&get_json(&bbox).await);
    assert!(!before.contains(&"new-school".to_string()));

    for auth in [None, Some("Bearer wrong")] {
        let mut req = c.put(&item).json(&body);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "auth {auth:?}");
        assert_eq!(c.get(&item).send().await.unwrap().status(), 404);
        assert_eq!(ids_of(&get_json(&bbox).await), before);
    }

    let resp = c
        .put(&item)
        .bearer_auth("s3cret")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert!(ids_of(&get_json(&bbox).await).contains(&"new-school".to_string()));

    // Invalid data: 400 naming the field, nothing changes.
    let mut bad = body.clone();
    bad["properties"]["population"] = json!(-3);
    let resp = c
        .put(&item)
        .bearer_auth("s3cret")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["errors"][0]["field"], "population");
    let got = get_json(&item).await;
    assert_eq!(got["properties"]["population"], 900);

    // Delete.
    assert_eq!(c.delete(&item).send().await.unwrap().status(), 401);
    assert_eq!(
        c.delete(&item)
            .bearer_auth("s3cret")
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    assert_eq!(ids_of(&get_json(&bbox).await), before);
}

#[tokio::test]
async fn read_only_without_token() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    let resp = client()
        .post(server.url("/collections/parks/items"))
        .bearer_auth("anything")
        .json(&json!({"type": "FeatureCollection", "features": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    // Without --admin-token only account tokens can write; an unknown one is named.
    let description = body["description"].as_str().unwrap_or_default();
    assert!(description.contains("token"), "{description}");
}

/// `riskmap import` into the data directory a server is serving goes
/// through that server's change path: the server takes it in from the
/// change log within seconds, with its level, and says so in `/health`.
#[tokio::test]
async fn an_import_into_a_served_sqlite_store_reaches_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("store");
    let server = Server::start(&["--data-dir", data_dir.to_str().unwrap()]);
    let seen_before = get_json(&server.url("/health")).await["changes_seen"]
        .as_u64()
        .unwrap();
    let file = dir.path().join("targets.geojson");
    std::fs::write(
        &file,
        json!({"type": "FeatureCollection", "features": [{
            "type": "Feature", "id": "imported-while-served",
            "geometry": {"type": "Point", "coordinates": [120.21, 30.26]},
            "properties": {"name": "导入时运行中的学校", "category": "school", "population": 900}
        }]})
        .to_string(),
    )
    .unwrap();
    let out = common::riskmap()
        .args(["import", "protection_targets"])
        .arg(&file)
        .arg("--data-dir")
        .arg(&data_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("change log"), "{stdout}");
    let url = server.url("/collections/protection_targets/items/imported-while-served");
    let t = std::time::Instant::now();
    loop {
        let resp = client().get(&url).send().await.unwrap();
        if resp.status() == 200 {
            break;
        }
        assert!(
            t.elapsed() < std::time::Duration::from_secs(10),
            "the server still serves the old data {:?} after the import",
            t.elapsed()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let seen_after = get_json(&server.url("/health")).await["changes_seen"]
        .as_u64()
        .unwrap();
    assert!(seen_after > seen_before, "{seen_before} → {seen_after}");
}

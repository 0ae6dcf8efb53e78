//! End-to-end: risk levels, explanations, statistics and rescoring after an
//! edit, through the HTTP API of a real `riskmap serve`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Server, client};
use serde_json::{Value, json};

async fn get_json(url: &str) -> Value {
    let resp = client().get(url).send().await.unwrap();
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn all_items(server: &Server, collection: &str) -> Vec<Value> {
    let fc = get_json(&server.url(&format!("/collections/{collection}/items?limit=10000"))).await;
    fc["features"].as_array().unwrap().clone()
}

/// A grid cell's colour and counts per level.
fn cell_map(items: &[Value]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|f| {
            let p = &f["properties"];
            let sig = format!(
                "{} {} {} {} {}",
                p["risk_level"],
                p["count_red"],
                p["count_orange"],
                p["count_yellow"],
                p["count_blue"]
            );
            (f["id"].as_str().unwrap().to_string(), sig)
        })
        .collect()
}

fn level_map(items: &[Value]) -> BTreeMap<String, String> {
    items
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["properties"]["risk_level"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_scored_feature_has_a_level_and_red_ones_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    for c in [
        "enterprises",
        "parks",
        "pipelines",
        "districts",
        "risk_grid",
        "pipeline_segments",
    ] {
        let items = all_items(&server, c).await;
        assert!(!items.is_empty(), "{c}");
        for f in &items {
            let l = f["properties"]["risk_level"]
                .as_str()
                .unwrap_or_else(|| panic!("{c} {} has no risk_level", f["id"]));
            assert!(["red", "orange", "yellow", "blue"].contains(&l));
        }
    }
    // Every red pipeline's explanation names what made it red.
    let pipelines = all_items(&server, "pipelines").await;
    let red: Vec<&Value> = pipelines
        .iter()
        .filter(|f| f["properties"]["risk_level"] == "red")
        .collect();
    assert!(!red.is_empty(), "the demo has red pipeline segments");
    for f in red {
        let e = get_json(&server.url(&format!(
            "/api/risk/pipelines/{}",
            f["id"].as_str().unwrap()
        )))
        .await;
        assert_eq!(e["risk_level"], "red");
        assert_eq!(e["model"]["id"], "pipeline-hca-gb32167");
        let factors = e["factors"].as_array().unwrap();
        assert!(
            factors
                .iter()
                .any(|x| x["clause"].as_str().unwrap().contains("GB 32167")),
            "{e:#}"
        );
        assert!(
            e["conventions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c.as_str().unwrap().contains("convention")),
            "{e:#}"
        );
    }
    // Every red enterprise's explanation names the factor that made it red.
    let enterprises = all_items(&server, "enterprises").await;
    let red: Vec<&Value> = enterprises
        .iter()
        .filter(|f| f["properties"]["risk_level"] == "red")
        .collect();
    assert!(!red.is_empty(), "the demo has a red enterprise");
    for f in red {
        let e = get_json(&server.url(&format!(
            "/api/risk/enterprises/{}",
            f["id"].as_str().unwrap()
        )))
        .await;
        let score = e["score"].as_f64().unwrap();
        let named = e["factors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"].as_str().unwrap().contains("红色"));
        assert!(score < 60.0 || named, "red without a reason: {e:#}");
    }
    // The GB 18218 worked example (standards.md §1.9) is unit ent-06-T1 of the demo.
    let e = get_json(&server.url("/api/risk/enterprises/ent-06")).await;
    let unit = e["major_hazards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["unit"] == "ent-06-T1")
        .unwrap();
    assert_eq!(
        (
            unit["s"].as_f64().unwrap(),
            unit["r"].as_f64().unwrap(),
            unit["grade"].as_u64().unwrap()
        ),
        (6.2, 36.3, 3)
    );
    assert_eq!(e["model"]["id"], "enterprise-diagnosis-2018");
    assert!(
        e["factors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["clause"].is_string())
    );
    // A grid cell explains itself by its sources.
    let cells = all_items(&server, "risk_grid").await;
    let red_cell = cells
        .iter()
        .find(|c| c["properties"]["risk_level"] == "red")
        .expect("a red cell");
    let x = get_json(&server.url(&format!(
        "/api/risk/risk_grid/{}",
        red_cell["id"].as_str().unwrap()
    )))
    .await;
    assert!(!x["set_by"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn stats_add_up_to_the_levels() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    let levels = level_map(&all_items(&server, "enterprises").await);
    let mut want = BTreeMap::new();
    for l in levels.values() {
        *want.entry(l.clone()).or_insert(0u64) += 1;
    }
    for g in ["district", "industry", "park"] {
        let s = get_json(&server.url(&format!("/api/stats/risk?group_by={g}"))).await;
        for l in ["red", "orange", "yellow", "blue"] {
            let total: u64 = s["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["counts"][l].as_u64().unwrap())
                .sum();
            assert_eq!(total, *want.get(l).unwrap_or(&0), "{g} {l}");
            assert_eq!(s["totals"][l].as_u64().unwrap(), total);
        }
    }
    let bad = client()
        .get(server.url("/api/stats/risk?group_by=colour"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn an_inventory_edit_changes_that_enterprise_and_its_cells_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--admin-token",
        "t0k",
    ]);
    let enterprises = all_items(&server, "enterprises").await;
    let before = level_map(&enterprises);
    let pipelines_before = level_map(&all_items(&server, "pipelines").await);
    let cells_before = cell_map(&all_items(&server, "risk_grid").await);
    // A low-risk enterprise scored by the diagnosis model, without major hazards.
    let mut target = None;
    for f in &enterprises {
        let id = f["id"].as_str().unwrap();
        let x = get_json(&server.url(&format!("/api/risk/enterprises/{id}"))).await;
        if x["risk_level"] == "blue"
            && x["model"]["id"] == "enterprise-diagnosis-2018"
            && x["major_hazards"]
                .as_array()
                .unwrap()
                .iter()
                .all(|h| h["grade"].is_null())
        {
            target = Some(f.clone());
            break;
        }
    }
    let mut f = target.expect("a blue enterprise without major hazards");
    let id = f["id"].as_str().unwrap().to_string();
    let units = f["properties"]["units"].as_array_mut().unwrap();
    units[0]["substances"].as_array_mut().unwrap().extend([
        json!({"name": "液氯", "cas": "7782-50-5", "quantity_t": 200.0}),
        json!({"name": "光气", "cas": "75-44-5", "quantity_t": 5.0}),
        json!({"name": "液氨", "cas": "7664-41-7", "quantity_t": 300.0}),
    ]);
    let mut props = f["properties"].clone();
    props
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !k.starts_with("risk_"));
    let body = json!({"type": "Feature", "geometry": f["geometry"], "properties": props});
    let started = Instant::now();
    let resp = client()
        .put(server.url(&format!("/collections/enterprises/items/{id}")))
        .bearer_auth("t0k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let after = get_json(&server.url(&format!("/collections/enterprises/items/{id}"))).await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "edit to new level took {took:?}"
    );
    assert_ne!(after["properties"]["risk_level"], "blue", "{after:#}");

    let after_all = level_map(&all_items(&server, "enterprises").await);
    for (k, l) in &after_all {
        if *k != id {
            assert_eq!(Some(l), before.get(k), "enterprise {k} changed");
        }
    }
    assert_eq!(
        level_map(&all_items(&server, "pipelines").await),
        pipelines_before
    );
    // Some cells under the site changed (colour or counts per level); no other did.
    let cells_after = cell_map(&all_items(&server, "risk_grid").await);
    let changed: Vec<&String> = cells_after
        .iter()
        .filter(|(k, v)| cells_before.get(*k) != Some(v))
        .map(|(k, _)| k)
        .collect();
    assert!(!changed.is_empty(), "no grid cell changed");
    let bbox = {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        fn walk(v: &Value, xs: &mut Vec<f64>, ys: &mut Vec<f64>) {
            match v.as_array() {
                Some(a) if a.len() >= 2 && a[0].is_number() => {
                    xs.push(a[0].as_f64().unwrap());
                    ys.push(a[1].as_f64().unwrap());
                }
                Some(a) => a.iter().for_each(|x| walk(x, xs, ys)),
                None => {}
            }
        }
        walk(&f["geometry"]["coordinates"], &mut xs, &mut ys);
        let min = |v: &Vec<f64>| v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = |v: &Vec<f64>| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        format!("{},{},{},{}", min(&xs), min(&ys), max(&xs), max(&ys))
    };
    let under = level_map(
        &get_json(&server.url(&format!(
            "/collections/risk_grid/items?bbox={bbox}&limit=1000"
        )))
        .await["features"]
            .as_array()
            .unwrap()
            .clone(),
    );
    for k in changed {
        assert!(
            under.contains_key(k),
            "cell {k} changed but is not under the site"
        );
    }
}

//! "What changed since" (`GET /api/changes`) against scripted edits on the
//! demo city: after each edit the answer lists exactly that edit, exactly
//! the level changes seen in the served levels before and after (every
//! enterprise, park, pipeline, segment, district and grid cell), exactly the
//! violations that appeared or cleared in `/collections/violations`, and the
//! hidden dangers opened and closed; nothing else.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{BoundingRect, Contains, Point};
use http_body_util::BodyExt;
use riskmap_app::{App, Limits};
use riskmap_core::Collection;
use riskmap_core::import::parse_geojson;
use riskmap_safety::targets::TargetClass;
use riskmap_server::{AppState, ServerConfig, app};
use riskmap_spatial::Crs;
use riskmap_store::{SqliteStore, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn state(dir: &std::path::Path) -> AppState {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).await.unwrap());
    for c in Collection::ALL {
        let f = parse_geojson(c, riskmap_core::demo::text(c), Crs::Wgs84).unwrap();
        store.import(c, &f, None).await.unwrap();
    }
    let app = App::new(store, Limits::default());
    app.load(Some("2026-12-03".into())).await.unwrap();
    AppState::new(
        app,
        ServerConfig {
            admin_tokens: vec!["t".into()],
            public_read: riskmap_server::PublicRead::Full,
        },
    )
}

async fn call(s: &AppState, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app(s.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut r = Request::get(uri);
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    r.body(Body::empty()).unwrap()
}

fn send(method: &str, uri: &str, body: Option<&Value>) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .header("authorization", "Bearer t")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap()
}

async fn ok(s: &AppState, uri: &str) -> Value {
    let (st, v) = call(s, get(uri, None)).await;
    assert_eq!(st, StatusCode::OK, "{uri}: {v}");
    v
}

/// Every item of a collection, following the pages.
async fn items(s: &AppState, collection: &str) -> Vec<Value> {
    let mut out = Vec::new();
    loop {
        let page = ok(
            s,
            &format!(
                "/collections/{collection}/items?limit=10000&offset={}",
                out.len()
            ),
        )
        .await;
        let features = page["features"].as_array().unwrap().clone();
        let n = features.len();
        out.extend(features);
        if n < 10_000 {
            return out;
        }
    }
}

type Levels = BTreeMap<(String, String), String>;

/// Every served level: enterprises, parks, pipelines, districts (their
/// items), pipeline segments and grid cells (the derived collections).
async fn levels(s: &AppState) -> Levels {
    let mut out = BTreeMap::new();
    for c in [
        "enterprises",
        "parks",
        "pipelines",
        "districts",
        "pipeline_segments",
        "risk_grid",
    ] {
        for f in items(s, c).await {
            let id = match &f["id"] {
                Value::String(x) => x.clone(),
                other => other.to_string(),
            };
            if let Some(level) = f["properties"]["risk_level"].as_str() {
                out.insert((c.to_string(), id), level.to_string());
            }
        }
    }
    out
}

async fn violations(s: &AppState) -> BTreeSet<String> {
    items(s, "violations")
        .await
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

type LevelChange = (String, String, Option<String>, Option<String>);

fn level_diff(before: &Levels, after: &Levels) -> Vec<LevelChange> {
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    keys.into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| {
            (
                k.0.clone(),
                k.1.clone(),
                before.get(k).cloned(),
                after.get(k).cloned(),
            )
        })
        .collect()
}

fn listed_levels(v: &Value) -> Vec<LevelChange> {
    let mut out: Vec<LevelChange> = v["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            let s = |k: &str| l[k].as_str().map(str::to_string);
            (
                s("collection").unwrap(),
                s("id").unwrap(),
                s("old"),
                s("new"),
            )
        })
        .collect();
    out.sort();
    out
}

fn ids(v: &Value, pointer: &str, key: &str) -> Vec<String> {
    let mut out: Vec<String> = v
        .pointer(pointer)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

fn edits(v: &Value) -> Vec<(String, String, String)> {
    v["edits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["collection"].as_str().unwrap().to_string(),
                e["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// A point a few metres east of a hazardous site, inside one of its zones
/// that protects schools (高敏感防护目标).
fn spot_near_a_site(s: &AppState) -> (String, [f64; 2]) {
    let world = s.world().unwrap();
    for (id, a) in &world.safety.sites {
        let Some(site) = world.catalog.get(Collection::Enterprises, id) else {
            continue;
        };
        let b = site.geometry.bounding_rect().unwrap();
        let p = Point::new(b.max().x + 0.0002, (b.min().y + b.max().y) / 2.0);
        let protects = a
            .zones
            .iter()
            .any(|z| z.classes.contains(&TargetClass::HighSensitivity) && z.geometry.contains(&p));
        if protects && a.violations.is_empty() {
            return (id.clone(), [p.x(), p.y()]);
        }
    }
    panic!("no demo site with a zone that protects schools");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_since_list_exactly_what_each_edit_changed() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let today = riskmap_app::today();
    let since = format!("/api/changes?since={today}");

    // A fresh store: nothing changed, whatever the window.
    let (st, v) = call(
        &s,
        get("/api/changes?since=2026-01-01&until=2026-12-31", Some("t")),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let v0 = ok(&s, &since).await;
    for v in [&v, &v0] {
        assert!(listed_levels(v).is_empty() && edits(v).is_empty(), "{v}");
        for p in [
            "/violations/new",
            "/violations/cleared",
            "/dangers/opened",
            "/dangers/closed",
        ] {
            assert!(
                v.pointer(p).unwrap().as_array().unwrap().is_empty(),
                "{p}: {v}"
            );
        }
    }
    assert_eq!(v0["since"], json!(today));
    assert_eq!(v0["until"], json!(today));

    // 1. A school (防护目标) a few metres from a hazardous site.
    let (site, [lon, lat]) = spot_near_a_site(&s);
    let (levels0, viol0) = (levels(&s).await, violations(&s).await);
    let school = json!({"type": "Feature", "id": "changes-school",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": "变化测试小学", "category": "school", "population": 600}});
    let (st, v) = call(
        &s,
        send(
            "PUT",
            "/collections/protection_targets/items/changes-school",
            Some(&school),
        ),
    )
    .await;
    assert!(st.is_success(), "{st}: {v}");
    let (levels1, viol1) = (levels(&s).await, violations(&s).await);
    let diff1 = level_diff(&levels0, &levels1);
    let new1: Vec<String> = viol1.difference(&viol0).cloned().collect();
    assert!(!new1.is_empty(), "the school is in no zone of {site}");
    assert!(
        new1.iter()
            .all(|v| v.starts_with(&format!("{site}|changes-school|")))
    );
    assert!(viol0.is_subset(&viol1));

    let v1 = ok(&s, &since).await;
    assert_eq!(listed_levels(&v1), diff1, "{v1}");
    assert_eq!(ids(&v1, "/violations/new", "id"), new1);
    assert!(ids(&v1, "/violations/cleared", "id").is_empty());
    let edit1 = (
        "create".to_string(),
        "protection_targets".to_string(),
        "changes-school".to_string(),
    );
    assert_eq!(edits(&v1), vec![edit1.clone()]);
    let first = &v1["violations"]["new"][0];
    assert_eq!(first["site_id"], json!(site));
    assert_eq!(first["name"], "变化测试小学");
    assert_eq!(first["target_category"], "school");
    assert_eq!(first["target_class"], "high_sensitivity");
    assert!(
        first["distance_m"].as_f64().is_some() && first["required_distance_m"].as_f64().is_some()
    );
    assert_eq!(first["cause"]["collection"], "protection_targets");
    assert_eq!(first["cause"]["ids"], json!(["changes-school"]));
    // Anonymous readers get no account names; admins do.
    assert!(first["cause"].get("actor").is_none() && v1["edits"][0].get("actor").is_none());
    assert_eq!(v1["actors"], json!(false));
    let (_, va) = call(&s, get(&since, Some("t"))).await;
    assert_eq!(va["actors"], json!(true));
    assert_eq!(va["edits"][0]["actor"], "admin");
    assert_eq!(va["violations"]["new"][0]["cause"]["actor"], "admin");
    // Every level change names its reason and cause, and matches /api/risk.
    for l in v1["levels"].as_array().unwrap() {
        assert!(!l["reason"].as_str().unwrap().is_empty(), "{l}");
        assert_eq!(l["cause"]["action"], "create");
        if ["enterprises", "parks", "pipelines", "districts"]
            .contains(&l["collection"].as_str().unwrap())
        {
            let r = ok(
                &s,
                &format!(
                    "/api/risk/{}/{}",
                    l["collection"].as_str().unwrap(),
                    l["id"].as_str().unwrap()
                ),
            )
            .await;
            assert_eq!(r["risk_level"], l["new"], "{l}");
        }
    }

    // A box away from it lists nothing; a box around it lists it all.
    let away = ok(&s, &format!("{since}&bbox=100,20,101,21")).await;
    assert!(
        listed_levels(&away).is_empty() && edits(&away).is_empty(),
        "{away}"
    );
    assert!(away["violations"]["new"].as_array().unwrap().is_empty());
    let around = ok(
        &s,
        &format!(
            "{since}&bbox={},{},{},{}",
            lon - 0.001,
            lat - 0.001,
            lon + 0.001,
            lat + 0.001
        ),
    )
    .await;
    assert_eq!(ids(&around, "/violations/new", "id"), new1);
    assert_eq!(edits(&around), vec![edit1.clone()]);

    // 2. Deleting it clears the violations and restores the levels.
    let (st, v) = call(
        &s,
        send(
            "DELETE",
            "/collections/protection_targets/items/changes-school",
            None,
        ),
    )
    .await;
    assert!(st.is_success(), "{st}: {v}");
    let (levels2, viol2) = (levels(&s).await, violations(&s).await);
    assert_eq!(viol2, viol0);
    let diff2 = level_diff(&levels1, &levels2);
    let v2 = ok(&s, &since).await;
    assert_eq!(
        listed_levels(&v2),
        sorted([diff1.clone(), diff2.clone()].concat()),
        "{v2}"
    );
    assert_eq!(ids(&v2, "/violations/cleared", "id"), new1);
    assert_eq!(ids(&v2, "/violations/new", "id"), new1);
    let edit2 = (
        "delete".to_string(),
        "protection_targets".to_string(),
        "changes-school".to_string(),
    );
    assert_eq!(edits(&v2), vec![edit1.clone(), edit2.clone()]);

    // 3. A 重大 hidden danger turns its enterprise red: opened.
    let r0 = ok(&s, "/api/risk/enterprises/ent-01").await;
    assert_ne!(r0["risk_level"], "red", "the test needs ent-01 not red");
    let danger = json!({"type": "Feature", "id": "hd-changes", "geometry": null, "properties": {
        "enterprise_id": "ent-01", "source": "inspection", "level": "major",
        "rule_item": "HC121-05", "description": "罐区紧急切断阀未投用",
        "found_date": "2026-12-01", "deadline": "2026-12-31"}});
    let (st, v) = call(
        &s,
        send("POST", "/collections/hidden_dangers/items", Some(&danger)),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let levels3 = levels(&s).await;
    let diff3 = level_diff(&levels2, &levels3);
    let ent = (
        "enterprises".to_string(),
        "ent-01".to_string(),
        r0["risk_level"].as_str().map(str::to_string),
        Some("red".to_string()),
    );
    assert!(diff3.contains(&ent), "{diff3:?}");
    let v3 = ok(&s, &since).await;
    assert_eq!(
        listed_levels(&v3),
        sorted([diff1.clone(), diff2.clone(), diff3.clone()].concat()),
        "{v3}"
    );
    assert_eq!(ids(&v3, "/dangers/opened", "id"), vec!["hd-changes"]);
    assert!(v3["dangers"]["closed"].as_array().unwrap().is_empty());
    let red = v3["levels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == "ent-01" && l["new"] == "red")
        .unwrap();
    assert!(
        red["reason"].as_str().unwrap().contains("hd-changes"),
        "{red}"
    );
    assert_eq!(red["cause"]["ids"], json!(["hd-changes"]));

    // 4. Rejected (不予认定): closed, and the level comes back.
    let (st, v) = call(
        &s,
        send(
            "POST",
            "/api/hidden-dangers/hd-changes/transitions",
            Some(&json!({"action": "reject", "note": "复核不成立"})),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let levels4 = levels(&s).await;
    let diff4 = level_diff(&levels3, &levels4);
    assert_eq!(levels4, levels2);
    let v4 = ok(&s, &since).await;
    assert_eq!(
        listed_levels(&v4),
        sorted([diff1, diff2, diff3, diff4].concat()),
        "{v4}"
    );
    assert_eq!(ids(&v4, "/dangers/closed", "id"), vec!["hd-changes"]);
    assert_eq!(v4["dangers"]["closed"][0]["status"], "rejected");
    assert_eq!(
        edits(&v4).iter().map(|e| e.0.as_str()).collect::<Vec<_>>(),
        vec!["create", "delete", "create", "transition:reject"]
    );

    // A window that ends before today lists nothing.
    let (st, v) = call(
        &s,
        get("/api/changes?since=2026-01-01&until=2026-01-31", None),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(listed_levels(&v).is_empty() && edits(&v).is_empty(), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_are_400_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    for (uri, name) in [
        ("/api/changes", "since"),
        ("/api/changes?since=yesterday", "since"),
        ("/api/changes?since=2026-12-01&until=2026-02-30", "until"),
        ("/api/changes?since=2026-12-01&bbox=1,2,3", "bbox"),
        ("/api/changes?since=2026-12-01&bbox=120,30,119,31", "bbox"),
        ("/api/changes?since=2026-12-01&limit=5", "limit"),
    ] {
        let (st, v) = call(&s, get(uri, None)).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{uri}: {v}");
        assert!(v.to_string().contains(name), "{uri}: {v}");
    }
}

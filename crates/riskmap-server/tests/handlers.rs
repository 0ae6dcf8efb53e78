//! Handler tests through `app().oneshot(…)` (no socket), with snapshots of
//! the contract's JSON: TileJSON, the style, an explanation, a siting answer.
//! Snapshots live in `tests/snapshots/`; a change to the contract shows as a
//! diff there (`INSTA_UPDATE=always` rewrites them).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riskmap_app::{App, Limits};
use riskmap_core::Collection;
use riskmap_core::import::parse_geojson;
use riskmap_server::{AppState, ServerConfig, app};
use riskmap_spatial::Crs;
use riskmap_store::{SqliteStore, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

fn demo(c: Collection) -> Vec<riskmap_core::Feature> {
    let text = match c {
        Collection::Enterprises => include_str!("../../../data/demo/enterprises.geojson"),
        Collection::ProtectionTargets => {
            include_str!("../../../data/demo/protection_targets.geojson")
        }
        Collection::Parks => include_str!("../../../data/demo/parks.geojson"),
        Collection::Pipelines => include_str!("../../../data/demo/pipelines.geojson"),
        Collection::Districts => include_str!("../../../data/demo/districts.geojson"),
    };
    parse_geojson(c, text, Crs::Wgs84).unwrap()
}

async fn state(dir: &std::path::Path) -> AppState {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).await.unwrap());
    for c in Collection::ALL {
        store.import(c, &demo(c), None).await.unwrap();
    }
    let app = App::new(store, Limits::default());
    app.load(Some("2026-12-03".into())).await.unwrap();
    AppState::new(
        app,
        ServerConfig {
            admin_tokens: vec!["t".into()],
        },
    )
}

async fn call(state: &AppState, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app(state.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_json_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;

    let (st, v) = call(&s, get("/tiles/enterprises.json")).await;
    assert_eq!(st, StatusCode::OK);
    insta::assert_json_snapshot!("tilejson_enterprises", v);
    let (st, v) = call(&s, get("/tiles/safety_zones.json")).await;
    assert_eq!(st, StatusCode::OK);
    insta::assert_json_snapshot!("tilejson_safety_zones", v);
    let (st, v) = call(&s, get("/style.json")).await;
    assert_eq!(st, StatusCode::OK);
    insta::assert_json_snapshot!("style", v);
    let (st, v) = call(&s, get("/api/risk/enterprises/ent-01")).await;
    assert_eq!(st, StatusCode::OK);
    insta::assert_json_snapshot!("explanation_ent_01", v);
    let body = json!({"use": "school", "population": 800,
        "geometry": {"type": "Point", "coordinates": [120.288, 30.262]}});
    let req = Request::post("/api/siting/check")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (st, v) = call(&s, req).await;
    assert_eq!(st, StatusCode::OK);
    insta::assert_json_snapshot!("siting_school", v);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_ready_and_errors_through_the_router() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let app_layer = App::new(store, Limits::default());
    let s = AppState::new(
        app_layer.clone(),
        ServerConfig {
            admin_tokens: vec!["t".into()],
        },
    );
    // Before the world is built: liveness yes, readiness and data no.
    let (st, v) = call(&s, get("/health")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"], "starting");
    let (st, v) = call(&s, get("/ready")).await;
    assert_eq!(st, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(v["status"], "loading");
    let resp = app(s.clone())
        .oneshot(get("/collections/enterprises/items"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(resp.headers().contains_key("retry-after"));
    app_layer.load(Some("2026-12-03".into())).await.unwrap();
    let (st, v) = call(&s, get("/ready")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["status"], "ready");
    let (st, v) = call(&s, get("/health")).await;
    assert_eq!((st, v["version"].as_u64()), (StatusCode::OK, Some(0)));
    // A write through the router bumps the version; a failed one does not.
    let feature = json!({"type": "Feature", "id": "k1",
        "geometry": {"type": "Point", "coordinates": [120.2, 30.3]},
        "properties": {"name": "幼儿园", "category": "kindergarten", "population": 100}});
    let put = |body: Value| {
        Request::put("/collections/protection_targets/items/k1")
            .header("authorization", "Bearer t")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let (st, _) = call(&s, put(feature.clone())).await;
    assert_eq!(st, StatusCode::CREATED);
    let mut bad = feature.clone();
    bad["geometry"]["coordinates"] = json!([520.2, 30.3]);
    let (st, v) = call(&s, put(bad)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["errors"][0]["field"]
            .as_str()
            .unwrap()
            .contains("geometry"),
        "{v}"
    );
    let (_, v) = call(&s, get("/health")).await;
    assert_eq!(v["version"].as_u64(), Some(1));
    let (st, _) = call(&s, get("/tiles/nothing/1/0/0.mvt")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

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
    let text = riskmap_core::demo::text(c);
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
            public_read: riskmap_server::PublicRead::Full,
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
    // The rules digest changes with any rules file; /health names it too.
    let (_, health) = call(&s, get("/health")).await;
    assert_eq!(v["rules_digest"], health["rules"]["digest"]);
    insta::assert_json_snapshot!("explanation_ent_01", v, {".rules_digest" => "[digest]"});
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
            public_read: riskmap_server::PublicRead::Full,
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_check_the_token_before_the_body_and_take_only_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let app_layer = App::new(store, Limits::default());
    app_layer.load(Some("2026-12-03".into())).await.unwrap();
    let s = AppState::new(
        app_layer,
        ServerConfig {
            admin_tokens: vec!["t".into()],
            public_read: riskmap_server::PublicRead::Full,
        },
    );
    let post = |auth: Option<&str>, content_type: &str, body: Body| {
        let mut r = Request::post("/collections/protection_targets/items")
            .header("content-type", content_type);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.body(body).unwrap()
    };
    let feature = |id: &str| {
        json!({"type": "Feature", "id": id,
            "geometry": {"type": "Point", "coordinates": [120.2, 30.3]},
            "properties": {"name": "幼儿园", "category": "kindergarten", "population": 100}})
        .to_string()
    };
    // Without a token, a body over the size limit is never read: 401, not 413.
    let huge = vec![b' '; riskmap_server::MAX_BODY_BYTES + 1024];
    let (st, _) = call(&s, post(None, "application/json", Body::from(huge.clone()))).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = call(
        &s,
        post(Some("Bearer t"), "application/json", Body::from(huge)),
    )
    .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    // The scheme in any case.
    for (i, scheme) in ["Bearer", "bearer", "BEARER", "bEaReR"].iter().enumerate() {
        let body = Body::from(feature(&format!("k{i}")));
        let (st, v) = call(
            &s,
            post(Some(&format!("{scheme} t")), "application/geo+json", body),
        )
        .await;
        assert_eq!(st, StatusCode::CREATED, "{scheme}: {v}");
    }
    let (st, _) = call(
        &s,
        post(
            Some("Basic t"),
            "application/json",
            Body::from(feature("x")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    // POST of an existing id: 409, nothing written (PUT replaces).
    let both = json!({"type": "FeatureCollection", "features": [
        serde_json::from_str::<Value>(&feature("new-1")).unwrap(),
        serde_json::from_str::<Value>(&feature("k0")).unwrap(),
    ]});
    let (st, v) = call(
        &s,
        post(
            Some("Bearer t"),
            "application/json",
            Body::from(both.to_string()),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert!(v["description"].as_str().unwrap().contains("k0"), "{v}");
    let (st, _) = call(&s, get("/collections/protection_targets/items/new-1")).await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "nothing of a refused POST is written"
    );
    // An id that would break a URL is refused by name.
    let (st, v) = call(
        &s,
        post(
            Some("Bearer t"),
            "application/json",
            Body::from(feature("../../etc/passwd")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["errors"][0]["field"], "id", "{v}");
    // A Chinese id is fine, and its links are percent-encoded.
    let (st, v) = call(
        &s,
        post(
            Some("Bearer t"),
            "application/json",
            Body::from(feature("目标-1")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = call(
        &s,
        get("/collections/protection_targets/items/%E7%9B%AE%E6%A0%87-1"),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(
        v["links"][0]["href"]
            .as_str()
            .unwrap()
            .ends_with("/items/%E7%9B%AE%E6%A0%87-1"),
        "{v}"
    );
    // An enterprise naming a park or district that does not exist.
    let ent = json!({"type": "Feature", "id": "e-ref",
        "geometry": {"type": "Point", "coordinates": [120.2, 30.3]},
        "properties": {"name": "示例化工", "park_id": "no-such-park", "district_code": "330199"}});
    let req = Request::post("/collections/enterprises/items")
        .header("authorization", "Bearer t")
        .header("content-type", "application/geo+json")
        .body(Body::from(ent.to_string()))
        .unwrap();
    let (st, v) = call(&s, req).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["park_id", "district_code"], "{v}");
    // limit=0 is below the minimum of 1.
    let (st, v) = call(&s, get("/collections/protection_targets/items?limit=0")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    // CSV over HTTP: validated like GeoJSON, errors by row and column.
    let (st, v) = call(
        &s,
        post(
            Some("Bearer t"),
            "text/csv",
            Body::from("id,名称,lon,lat\na,x,120,30\n"),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(
        (&v["errors"][0]["row"], &v["errors"][0]["field"]),
        (&json!(2), &json!("category")),
        "{v}"
    );
    // Any other body: 415 naming what is accepted.
    let (st, v) = call(&s, post(Some("Bearer t"), "text/plain", Body::from("a"))).await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        v["description"].as_str().unwrap().contains("text/csv"),
        "{v}"
    );
    // A UTF-8 byte-order mark is ignored.
    let mut with_bom = b"\xef\xbb\xbf".to_vec();
    with_bom.extend(feature("bom").into_bytes());
    let (st, v) = call(
        &s,
        post(
            Some("Bearer t"),
            "application/json; charset=utf-8",
            Body::from(with_bom),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    // Security headers on pages and API answers alike.
    for uri in ["/", "/collections", "/tiles/enterprises.json"] {
        let resp = app(s.clone())
            .oneshot(
                Request::get(uri)
                    .header("accept", "text/html")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let h = resp.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["x-frame-options"], "SAMEORIGIN", "{uri}");
        assert!(
            h["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'self'"),
            "{uri}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn siting_requests_beyond_the_limits_are_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
    let app_layer = App::new(store, Limits::default());
    app_layer.load(Some("2026-12-03".into())).await.unwrap();
    let s = AppState::new(
        app_layer,
        ServerConfig {
            admin_tokens: vec![],
            public_read: riskmap_server::PublicRead::Full,
        },
    );
    let siting = |body: Value| {
        Request::post("/api/siting/check")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    // A 100,000-vertex outline: refused with the limit, in well under 2 s.
    let n = 100_000;
    let ring: Vec<[f64; 2]> = (0..=n)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i % n) / f64::from(n);
            let r = |x: f64| (x * 1e6).round() / 1e6;
            [r(120.3 + 0.01 * a.cos()), r(30.3 + 0.01 * a.sin())]
        })
        .collect();
    let t = std::time::Instant::now();
    let (st, v) = call(
        &s,
        siting(json!({"use": "school", "geometry": {"type": "Polygon", "coordinates": [ring]}})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["description"].as_str().unwrap().contains("at most 20000"),
        "{v}"
    );
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
    // 101 units.
    let units: Vec<Value> = (0..101)
        .map(|i| json!({"id": format!("U{i}"), "kind": "storage", "substances": [{"name": "液氯", "quantity_t": 1}]}))
        .collect();
    let (st, v) = call(
        &s,
        siting(json!({"use": "hazardous_site", "units": units,
            "geometry": {"type": "Point", "coordinates": [120.3, 30.3]}})),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v["description"].as_str().unwrap().contains("units"), "{v}");
    // A body over 4 MiB: 413.
    let big = json!({"use": "school", "name": "x".repeat(5 * 1024 * 1024),
        "geometry": {"type": "Point", "coordinates": [120.3, 30.3]}});
    let (st, _) = call(&s, siting(big)).await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
}

fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .header("authorization", "Bearer t")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The enterprise's level in `/api/risk` and in its z14 tile, which must agree.
async fn level_of(s: &AppState, id: &str, lon: f64, lat: f64) -> (String, Value) {
    let (st, risk) = call(s, get(&format!("/api/risk/enterprises/{id}"))).await;
    assert_eq!(st, StatusCode::OK, "{risk}");
    let level = risk["risk_level"].as_str().unwrap().to_string();
    let n = f64::from(1u32 << 14);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let y = ((1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n) as u32;
    let resp = app(s.clone())
        .oneshot(get(&format!("/tiles/enterprises/14/{x}/{y}.mvt")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let tile = riskmap_tiles::decode::decode_tile(&bytes).unwrap();
    let in_tile = tile
        .layer("enterprises")
        .and_then(|l| {
            l.features.iter().find(|f| {
                matches!(f.property("id"), Some(riskmap_tiles::PropValue::String(s)) if s == id)
            })
        })
        .and_then(|f| match f.property("risk_level") {
            Some(riskmap_tiles::PropValue::String(s)) => Some(s.clone()),
            _ => None,
        });
    assert_eq!(
        in_tile.as_deref(),
        Some(level.as_str()),
        "tile and /api/risk disagree"
    );
    (level, risk)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_major_hidden_danger_moves_through_its_lifecycle_and_its_enterprise_level() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let world = s.world().unwrap();
    let ent = world
        .catalog
        .get(Collection::Enterprises, "ent-01")
        .unwrap()
        .clone();
    let c = geo::Centroid::centroid(&ent.geometry).unwrap();
    let (before, risk_before) = level_of(&s, "ent-01", c.x(), c.y()).await;
    assert_ne!(
        before, "red",
        "the test needs a demo enterprise that is not red"
    );

    // Reported with the enterprise alone: location, district and industry
    // come from it; the first history event is written by the server.
    let danger = json!({"type": "Feature", "id": "hd-test", "geometry": null, "properties": {
        "enterprise_id": "ent-01", "source": "inspection", "level": "major",
        "rule_item": "HC121-05", "description": "罐区紧急切断阀未投用",
        "found_date": "2026-12-01", "deadline": "2026-12-31"}});
    let (st, v) = call(&s, post_json("/collections/hidden_dangers/items", &danger)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, d) = call(&s, get("/api/hidden-dangers/hd-test")).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    assert_eq!(d["status"], "reported");
    assert_eq!(d["geometry"]["type"], "Point");
    assert!(d["danger"]["district_code"].is_string(), "{d}");
    assert_eq!(d["danger"]["history"].as_array().unwrap().len(), 1);
    let (level, risk) = level_of(&s, "ent-01", c.x(), c.y()).await;
    assert_eq!(level, "red");
    let factors = risk["factors"].to_string();
    assert!(
        factors.contains("hd-test") && factors.contains("HC121-05"),
        "{factors}"
    );
    // The item also answers the diagnosis heading it belongs to (自控与安全设施),
    // naming the danger and the clause, where it was "not assessed" before.
    let automation = risk["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"].as_str().unwrap().starts_with("自控与安全设施"))
        .unwrap_or_else(|| panic!("no 自控与安全设施 factor: {factors}"));
    assert!(
        automation["value"].as_str().unwrap().contains("hd-test")
            && automation["clause"].as_str().unwrap().contains("第五条")
            && automation["points"] == json!(-5.0),
        "{automation}"
    );
    assert!(
        risk_before["incomplete"]
            .to_string()
            .contains("自控与安全设施")
            && !risk["incomplete"].to_string().contains("自控与安全设施"),
        "{risk}"
    );

    // A status in a new danger is refused; so is an illegal move, naming
    // the state and what is allowed.
    let mut bad = danger.clone();
    bad["id"] = json!("hd-test-2");
    bad["properties"]["status"] = json!("closed");
    let (st, v) = call(&s, post_json("/collections/hidden_dangers/items", &bad)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let tr = |action: &str, extra: Value| {
        let mut b = json!({"action": action, "note": format!("{action} 测试")});
        if let (Value::Object(m), Value::Object(e)) = (&mut b, extra) {
            m.extend(e);
        }
        post_json("/api/hidden-dangers/hd-test/transitions", &b)
    };
    let (st, v) = call(&s, tr("close", json!({}))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let text = v.to_string();
    assert!(
        text.contains("reported") && text.contains("verify"),
        "{text}"
    );

    // The whole path of a major danger; listing needs its level.
    let (st, _) = call(&s, tr("verify", json!({}))).await;
    assert_eq!(st, StatusCode::OK);
    let (st, v) = call(&s, tr("supervise", json!({}))).await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, v) = call(&s, tr("start_rectification", json!({}))).await;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "a major danger is listed first: {v}"
    );
    for (action, extra) in [
        ("supervise", json!({"listing_level": "city"})),
        ("start_rectification", json!({})),
        ("request_closure", json!({"evidence": "整改照片 3 张"})),
    ] {
        let (st, v) = call(&s, tr(action, extra)).await;
        assert_eq!(st, StatusCode::OK, "{action}: {v}");
        assert_eq!(level_of(&s, "ent-01", c.x(), c.y()).await.0, "red");
    }
    // A PUT keeps the status and history.
    let mut edited = danger.clone();
    edited["properties"]["measures"] = json!("更换紧急切断阀");
    let req = Request::put("/collections/hidden_dangers/items/hd-test")
        .header("content-type", "application/geo+json")
        .header("authorization", "Bearer t")
        .body(Body::from(edited.to_string()))
        .unwrap();
    let (st, v) = call(&s, req).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["properties"]["status"], "rectified");
    let (st, v) = call(&s, tr("close", json!({"evidence": "验收报告"}))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "closed");
    assert_eq!(v["danger"]["measures"], "更换紧急切断阀");
    let history = v["danger"]["history"].as_array().unwrap();
    let steps: Vec<&str> = history
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "report",
            "verify",
            "supervise",
            "start_rectification",
            "request_closure",
            "close"
        ]
    );
    assert!(
        history
            .iter()
            .all(|e| e["actor"] == "admin" && e["at"].as_str().is_some_and(|t| t.ends_with('Z')))
    );
    let (st, v) = call(&s, tr("reopen", json!({}))).await;
    assert_eq!(st, StatusCode::CONFLICT, "closed is final: {v}");

    // Closed: the level is back, and the explanation no longer names it.
    let (level, risk) = level_of(&s, "ent-01", c.x(), c.y()).await;
    assert_eq!(level, before);
    assert!(!risk["factors"].to_string().contains("hd-test"));
    for key in ["score", "factors", "incomplete"] {
        assert_eq!(risk[key], risk_before[key], "{key}");
    }
}

/// An inspection finding recorded on an enterprise answers a diagnosis
/// heading that was "not assessed", naming the finding and clause; a newer
/// compliant finding answers it again, and tiles follow each step.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspection_findings_answer_diagnosis_headings_and_move_the_level() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let (st, mut ent) = call(&s, get("/collections/enterprises/items/ent-01")).await;
    assert_eq!(st, StatusCode::OK);
    let world = s.world().unwrap();
    let c = geo::Centroid::centroid(
        &world
            .catalog
            .get(Collection::Enterprises, "ent-01")
            .unwrap()
            .geometry,
    )
    .unwrap();
    drop(world);
    let (before, risk_before) = level_of(&s, "ent-01", c.x(), c.y()).await;
    assert_ne!(before, "red");
    // The demo's sample findings answer three headings already.
    assert!(risk_before["factors"].to_string().contains("JC-2026-0413"));

    let put = |body: &Value| {
        Request::put("/collections/enterprises/items/ent-01")
            .header("content-type", "application/geo+json")
            .header("authorization", "Bearer t")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    ent["properties"]["inspection_findings"] = json!([
        {"id": "JC-2026-118", "item": "red_special_workers", "date": "2026-11-20",
         "result": "deficient", "inspector": "钱塘区应急管理局",
         "note": "2名特种作业人员未持证上岗"},
        {"id": "JC-2026-119", "item": "management", "date": "2026-11-20",
         "result": "deficient", "deduction": 5,
         "clause": "诊断分级指南 7.安全管理制度 操作规程不完善扣5分"}
    ]);
    let (st, v) = call(&s, put(&ent)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (level, risk) = level_of(&s, "ent-01", c.x(), c.y()).await;
    assert_eq!(level, "red");
    let factors = risk["factors"].as_array().unwrap();
    let named = |id: &str| {
        factors
            .iter()
            .find(|f| f["value"].as_str().unwrap().contains(id))
            .unwrap_or_else(|| panic!("no factor names {id}: {risk}"))
    };
    assert!(
        named("JC-2026-118")["clause"]
            .as_str()
            .unwrap()
            .contains("直接判定为红色 第3项")
    );
    let m = named("JC-2026-119");
    assert_eq!(m["points"], json!(-5.0));
    assert!(
        m["clause"]
            .as_str()
            .unwrap()
            .contains("操作规程不完善扣5分")
    );
    let score = |r: &Value| r["score"].as_f64().unwrap();
    assert_eq!(score(&risk), score(&risk_before) - 5.0);

    // A bad finding is refused naming the field; nothing changes.
    let mut bad = ent.clone();
    bad["properties"]["inspection_findings"][1]["deduction"] = Value::Null;
    let (st, v) = call(&s, put(&bad)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v.to_string().contains("inspection_findings[1].deduction"),
        "{v}"
    );
    assert_eq!(level_of(&s, "ent-01", c.x(), c.y()).await.0, "red");

    // The workers are certified at the next inspection: no longer red, and
    // the procedures' deduction (still the latest on 管理制度) stays.
    let findings = ent["properties"]["inspection_findings"]
        .as_array_mut()
        .unwrap();
    findings.push(json!({"id": "JC-2026-131", "item": "red_special_workers",
            "date": "2026-12-02", "result": "compliant"}));
    let (st, v) = call(&s, put(&ent)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (level, risk) = level_of(&s, "ent-01", c.x(), c.y()).await;
    assert_ne!(level, "red", "{risk}");
    assert_eq!(score(&risk), score(&risk_before) - 5.0);
    assert!(risk["factors"].to_string().contains("JC-2026-131"));
    assert!(!risk["factors"].to_string().contains("JC-2026-118"));
    // The procedures are complete at the next: the score is back.
    ent["properties"]["inspection_findings"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": "JC-2026-132", "item": "management",
            "date": "2026-12-02", "result": "compliant"}));
    let (st, v) = call(&s, put(&ent)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (level, risk) = level_of(&s, "ent-01", c.x(), c.y()).await;
    assert_eq!(level, before, "{risk}");
    assert_eq!(score(&risk), score(&risk_before));
}

/// Statistics by district and by industry equal a count over the stored
/// dangers done here, independently of the server's code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hidden_danger_statistics_equal_a_brute_force_count() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let (st, items) = call(&s, get("/collections/hidden_dangers/items?limit=10000")).await;
    assert_eq!(st, StatusCode::OK);
    let today = s.world().unwrap().today().to_string();
    let features = items["features"].as_array().unwrap().clone();
    assert!(features.len() >= 30);
    for (group_by, field) in [("district", "district_code"), ("industry", "industry")] {
        for filter in ["", "&level=major", "&from=2026-06-01&to=2026-09-30"] {
            let (st, v) = call(
                &s,
                get(&format!(
                    "/api/stats/hidden-dangers?group_by={group_by}{filter}"
                )),
            )
            .await;
            assert_eq!(st, StatusCode::OK, "{v}");
            let mut want: std::collections::BTreeMap<String, [u64; 4]> = Default::default();
            for f in &features {
                let p = &f["properties"];
                let found = p["found_date"].as_str().unwrap();
                if (filter.contains("major") && p["level"] != "major")
                    || (filter.contains("from") && !("2026-06-01"..="2026-09-30").contains(&found))
                {
                    continue;
                }
                let key = p[field].as_str().unwrap_or("(none)").to_string();
                let status = p["status"].as_str().unwrap();
                let open = status != "closed" && status != "rejected";
                let overdue = open && p["deadline"].as_str().is_some_and(|d| d < today.as_str());
                let e = want.entry(key).or_default();
                e[0] += 1;
                e[1] += u64::from(open);
                e[2] += u64::from(overdue);
                e[3] += u64::from(status == "closed");
            }
            let got: std::collections::BTreeMap<String, [u64; 4]> = v["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| {
                    let n = |k: &str| g[k].as_u64().unwrap();
                    (
                        g["key"].as_str().unwrap().to_string(),
                        [n("count"), n("open"), n("overdue"), n("closed")],
                    )
                })
                .collect();
            assert_eq!(got, want, "group_by={group_by}{filter}");
            let total: u64 = want.values().map(|c| c[0]).sum();
            assert_eq!(v["total"]["count"], total);
        }
    }
    let (st, _) = call(&s, get("/api/stats/hidden-dangers?group_by=colour")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = call(&s, get("/api/stats/hidden-dangers?from=2026-13-01")).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
}

/// 一企一档: everything about one enterprise from one snapshot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enterprise_dossier_holds_its_units_level_report_and_dangers() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let (st, d) = call(&s, get("/api/enterprises/ent-02/dossier")).await;
    assert_eq!(st, StatusCode::OK, "{d}");
    let (_, risk) = call(&s, get("/api/risk/enterprises/ent-02")).await;
    assert_eq!(d["risk"]["risk_level"], risk["risk_level"]);
    assert_eq!(d["risk"]["major_hazards"], risk["major_hazards"]);
    // The demo's sample registration record: the next assessment is due
    // three years after the last, and is overdue by now.
    let reg = &d["major_hazard_registration"];
    assert_eq!(reg["recorded"], true, "{reg}");
    assert_eq!(reg["last_assessment"], "2023-02-15");
    assert_eq!(reg["next_assessment_due"], "2026-02-15");
    assert_eq!(reg["assessment_overdue"], true);
    assert_eq!(reg["guarantors"]["principal"], "黄丽（示例）");
    // Its inspection findings are in the record, and the explanation names
    // each (both deficient on a red enterprise).
    let factors = d["risk"]["factors"].to_string();
    for f in d["enterprise"]["inspection_findings"].as_array().unwrap() {
        assert!(factors.contains(f["id"].as_str().unwrap()), "{f}");
    }
    // The dangers are exactly the stored ones naming ent-02, open first.
    let (_, items) = call(&s, get("/collections/hidden_dangers/items?limit=10000")).await;
    let mut want: Vec<String> = items["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["enterprise_id"] == "ent-02")
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    want.sort();
    let listed = d["hidden_dangers"].as_array().unwrap();
    let mut got: Vec<String> = listed
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got, want);
    let open: Vec<bool> = listed
        .iter()
        .map(|h| h["open"].as_bool().unwrap())
        .collect();
    assert!(
        open.windows(2).all(|w| w[0] >= w[1]),
        "open ones first: {open:?}"
    );
    assert!(listed.iter().all(|h| {
        h["danger"]["history"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    }));
    if d["enterprise"]["units"]
        .as_array()
        .is_some_and(|u| !u.is_empty())
    {
        assert!(d["external_safety"].is_object(), "{}", d["external_safety"]);
    }

    // A recorded registration: the next assessment is due three years on.
    let (_, ent) = call(&s, get("/collections/enterprises/items/ent-01")).await;
    let mut ent = ent.clone();
    ent["properties"]["major_hazard_registration"] = json!({
        "registered": "2020-03-01", "filed": "2020-03-10", "last_assessment": "2022-05-20",
        "principal": "王总", "technical": "李工", "operational": "赵班长", "regulator": "上城区应急管理局"});
    let req = Request::put("/collections/enterprises/items/ent-01")
        .header("content-type", "application/geo+json")
        .header("authorization", "Bearer t")
        .body(Body::from(ent.to_string()))
        .unwrap();
    let (st, v) = call(&s, req).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (_, d) = call(&s, get("/api/enterprises/ent-01/dossier")).await;
    let r = &d["major_hazard_registration"];
    assert_eq!(r["recorded"], true, "{r}");
    assert_eq!(r["next_assessment_due"], "2025-05-20");
    assert_eq!(r["assessment_overdue"], true);
    assert_eq!(r["guarantors"]["technical"], "李工");
    let (st, _) = call(&s, get("/api/enterprises/no-such/dossier")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
}

/// `POST /api/incidents/assess`: a chlorine release at a demo unit takes the
/// dense-gas model and says why, returns its zones as GeoJSON with who is
/// inside; bad fields are named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incident_draws_its_zones_and_names_bad_fields() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let body = json!({"site_id": "ent-01", "unit_id": "ent-01-T1", "substance": "氯气",
        "wind_from_deg": 45, "wind_speed_m_s": 2.5, "time_of_day": "day", "cloud_cover_oktas": 6});
    let (st, v) = call(&s, post_json("/api/incidents/assess", &body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(
        v["toxic"]["model"]
            .as_str()
            .unwrap()
            .starts_with("britter_mcquaid"),
        "{v}"
    );
    assert!(
        v["release_basis"]
            .as_str()
            .unwrap()
            .contains("worst credible"),
        "{v}"
    );
    assert_eq!(v["stability"], "C", "{}", v["stability_basis"]);
    let zones = v["zones_geojson"]["features"].as_array().unwrap();
    assert_eq!(zones.len(), 6);
    assert_eq!(zones[0]["properties"]["colour"], "red");
    assert_eq!(zones[0]["geometry"]["type"], "Polygon");
    assert_eq!(v["inside"].as_array().unwrap().len(), 3);
    assert!(v["notes"].to_string().contains("UNCONFIRMED"));
    assert!(
        v["help"]["distance_basis"]
            .as_str()
            .unwrap()
            .starts_with("straight line")
            && !v["help"]["teams"].as_array().unwrap().is_empty(),
        "{}",
        v["help"]
    );

    let mut bad = body.clone();
    bad["wind_speed_m_s"] = json!("fast");
    let (st, v) = call(&s, post_json("/api/incidents/assess", &bad)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("wind_speed_m_s"), "{v}");
    let mut bad = body.clone();
    bad["substance"] = json!("水");
    let (st, v) = call(&s, post_json("/api/incidents/assess", &bad)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("`substance`"), "{v}");
    let mut bad = body.clone();
    bad["wind_from_deg"] = json!(400);
    let (st, v) = call(&s, post_json("/api/incidents/assess", &bad)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("wind_from_deg"), "{v}");
}

/// `POST /api/incidents/assess` with LPG at a demo storage unit, released at
/// once: a fireball and a vapour-cloud explosion besides (no) toxic zones,
/// each hazard with its model and why; every threat zone a feature with
/// its hazard and id `{kind}-{hazard}-{colour}`, in the order toxic,
/// thermal, overpressure, then the uncertainty areas; `inside` one entry
/// per threat zone in that order. Chlorine has no fire hazard and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flammable_incident_draws_its_thermal_and_blast_zones() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let body = json!({"site_id": "ent-21", "unit_id": "ent-21-T1", "substance": "液化石油气",
        "release": {"kind": "instantaneous", "mass_kg": 30000},
        "wind_from_deg": 45, "wind_speed_m_s": 2.5, "stability": "D"});
    let (st, v) = call(&s, post_json("/api/incidents/assess", &body)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let hazards = v["hazards"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = hazards
        .iter()
        .map(|h| {
            (
                h["hazard"].as_str().unwrap(),
                h["scenario"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("thermal", "fireball"),
            ("overpressure", "vapour_cloud_explosion")
        ]
    );
    for h in hazards {
        assert!(h["model"].as_str().unwrap().contains('.'), "{h}");
        assert!(!h["reasons"].as_array().unwrap().is_empty(), "{h}");
        let zones = h["zones"].as_array().unwrap();
        assert_eq!(zones.len(), 3);
        let mut last = 0.0;
        for (z, colour) in zones.iter().zip(["red", "orange", "yellow"]) {
            assert_eq!(z["colour"], colour);
            for k in ["zone_name", "level", "unit", "reach_m", "reached", "note"] {
                assert!(z.get(k).is_some(), "{k} missing: {z}");
            }
            let r = z["reach_m"].as_f64().unwrap();
            assert!(r > last && z["reached"] == true, "{z}");
            last = r;
        }
        assert_eq!(zones[0]["zone_name"], "事故中心区域（隔离区）");
    }
    assert_eq!(hazards[0]["zones"][0]["unit"], "kW/m²");
    assert_eq!(hazards[1]["zones"][2]["unit"], "kPa");
    // No toxic levels for LPG: the toxic object is there, with no zones,
    // and the answer says why.
    assert_eq!(v["toxic"]["model"], "not_assessed");
    assert_eq!(v["absent_hazards"][0]["hazard"], "toxic");
    let features = v["zones_geojson"]["features"].as_array().unwrap();
    let ids: Vec<&str> = features.iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "threat_zone-thermal-red",
            "threat_zone-thermal-orange",
            "threat_zone-thermal-yellow",
            "threat_zone-overpressure-red",
            "threat_zone-overpressure-orange",
            "threat_zone-overpressure-yellow",
        ]
    );
    let inside = v["inside"].as_array().unwrap();
    assert_eq!(inside.len(), 6);
    for (f, i) in features.iter().zip(inside) {
        let p = &f["properties"];
        assert_eq!(p["kind"], "threat_zone");
        assert_eq!(f["geometry"]["type"], "Polygon");
        assert_eq!((&p["hazard"], &p["colour"]), (&i["hazard"], &i["colour"]));
        assert_eq!(p["population"], i["population"]);
        assert_eq!(p["targets"], json!(i["targets"].as_array().unwrap().len()));
        for k in [
            "zone_name",
            "level",
            "unit",
            "basis",
            "unconfirmed",
            "reach",
        ] {
            assert!(p.get(k).is_some(), "{k} missing: {p}");
        }
        // Centred on the release: the ring's vertices are equally far.
        let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
        assert_eq!(ring.len(), 129);
    }
    assert!(
        v["notes"].to_string().contains("blast centre downwind"),
        "{}",
        v["notes"]
    );

    // Chlorine: toxic zones as before, first, and no fire hazard.
    let cl = json!({"site_id": "ent-01", "unit_id": "ent-01-T1", "substance": "7782-50-5",
        "release": {"kind": "continuous", "rate_kg_s": 2.0, "duration_s": 1800},
        "wind_from_deg": 0, "wind_speed_m_s": 3.0, "stability": "D"});
    let (st, v) = call(&s, post_json("/api/incidents/assess", &cl)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["hazards"].as_array().unwrap().len(), 1);
    assert_eq!(v["hazards"][0]["hazard"], "toxic");
    let ids: Vec<&str> = v["zones_geojson"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "threat_zone-toxic-red",
            "threat_zone-toxic-orange",
            "threat_zone-toxic-yellow",
            "wind_uncertainty-toxic-red",
            "wind_uncertainty-toxic-orange",
            "wind_uncertainty-toxic-yellow",
        ]
    );
    assert_eq!(v["inside"][0]["hazard"], "toxic");
    let absent = v["absent_hazards"].as_array().unwrap();
    assert_eq!(absent.len(), 2);
    assert!(
        absent
            .iter()
            .all(|a| a["reason"].as_str().unwrap().starts_with("not flammable")),
        "{absent:?}"
    );

    // A bad release is refused by name.
    let mut bad = body.clone();
    bad["release"] = json!({"kind": "instantaneous", "mass_kg": -5});
    let (st, v) = call(&s, post_json("/api/incidents/assess", &bad)).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("mass_kg"), "{v}");
}

/// A stored incident: reported (201), listed, read, its wind changed by
/// PATCH — which reaches a subscribed Server-Sent Events client with the new
/// zones — and closed; anonymous reports are 401, a closed incident is not
/// changed (409).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wind_change_reaches_an_open_map_through_server_sent_events() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let body = json!({"site_id": "ent-01", "unit_id": "ent-01-T1", "substance": "7782-50-5",
        "release": {"kind": "continuous", "rate_kg_s": 2.0, "duration_s": 1800},
        "wind_from_deg": 0, "wind_speed_m_s": 3.0, "stability": "D"});
    let anon = Request::post("/api/incidents")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let (st, _) = call(&s, anon).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, v) = call(&s, post_json("/api/incidents", &body)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["incident"]["id"].as_str().unwrap().to_string();
    assert_eq!(v["incident"]["status"], "open");
    assert_eq!(v["toxic"]["downwind_deg"], json!(180.0));
    let (_, list) = call(&s, get("/api/incidents?status=open")).await;
    assert_eq!(list["count"], 1, "{list}");

    // An open map subscribes; its first event is the zones now.
    let resp = app(s.clone())
        .oneshot(get(&format!("/api/incidents/{id}/events")))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut body_stream = resp.into_body();
    let mut next_event = async || -> String {
        let mut text = String::new();
        while !text.contains("\n\n") {
            let frame =
                tokio::time::timeout(std::time::Duration::from_secs(10), body_stream.frame())
                    .await
                    .expect("an event within 10 s")
                    .expect("the stream is open")
                    .unwrap();
            if let Ok(data) = frame.into_data() {
                text.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
        text
    };
    let first = next_event().await;
    assert!(first.starts_with("event: zones"), "{first}");
    assert!(first.contains("\"downwind_deg\":180.0"), "{first}");

    // The wind turns: the PATCH answers and the open map hears it.
    let req = Request::patch(format!("/api/incidents/{id}"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer t")
        .body(Body::from(json!({"wind_from_deg": 270}).to_string()))
        .unwrap();
    let t0 = std::time::Instant::now();
    let (st, v) = call(&s, req).await;
    eprintln!("PATCH answered in {:?}", t0.elapsed());
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["toxic"]["downwind_deg"], json!(90.0));
    assert_eq!(v["incident"]["revision"], 2);
    let pushed = next_event().await;
    assert!(pushed.starts_with("event: zones"), "{pushed}");
    assert!(pushed.contains("\"downwind_deg\":90.0"), "{pushed}");

    // A field that is not the weather or the release is refused by name.
    let req = Request::patch(format!("/api/incidents/{id}"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer t")
        .body(Body::from(json!({"site_id": "ent-02"}).to_string()))
        .unwrap();
    let (st, v) = call(&s, req).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("site_id"), "{v}");

    let (st, v) = call(
        &s,
        post_json(&format!("/api/incidents/{id}/close"), &json!({})),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert!(next_event().await.starts_with("event: closed"));
    let req = Request::patch(format!("/api/incidents/{id}"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer t")
        .body(Body::from(json!({"wind_from_deg": 90}).to_string()))
        .unwrap();
    let (st, _) = call(&s, req).await;
    assert_eq!(st, StatusCode::CONFLICT);
    let (_, one) = call(&s, get(&format!("/api/incidents/{id}"))).await;
    assert_eq!(one["incident"]["status"], "closed");
    // Every incident write is in the audit log.
    let (_, audit) = call(
        &s,
        Request::get("/api/audit?collection=incidents")
            .header("authorization", "Bearer t")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["incident:create", "incident:update", "incident:close"]
    );
}

/// An open map follows what this process did not push: an edit that puts
/// people inside a zone (the counts change), and a change or a close of
/// the incident stored by another server of the same store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_map_hears_edits_inside_a_zone_and_changes_made_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let body = json!({"site_id": "ent-01", "unit_id": "ent-01-T1", "substance": "7782-50-5",
        "release": {"kind": "continuous", "rate_kg_s": 2.0, "duration_s": 1800},
        "wind_from_deg": 0, "wind_speed_m_s": 3.0, "stability": "D"});
    let (st, v) = call(&s, post_json("/api/incidents", &body)).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let id = v["incident"]["id"].as_str().unwrap().to_string();
    let resp = app(s.clone())
        .oneshot(get(&format!("/api/incidents/{id}/events")))
        .await
        .unwrap();
    let mut body_stream = resp.into_body();
    let mut next_event = async || -> Value {
        let mut text = String::new();
        while !text.contains("\n\n") {
            let frame =
                tokio::time::timeout(std::time::Duration::from_secs(15), body_stream.frame())
                    .await
                    .expect("an event within 15 s")
                    .expect("the stream is open")
                    .unwrap();
            if let Ok(data) = frame.into_data() {
                text.push_str(std::str::from_utf8(&data).unwrap());
            }
        }
        let kind = text.lines().next().unwrap().trim_start_matches("event: ");
        let data: String = text
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .collect();
        json!({"event": kind, "data": serde_json::from_str::<Value>(&data).unwrap()})
    };
    let first = next_event().await;
    assert_eq!(first["event"], "zones");
    let red_people = |v: &Value| v["data"]["inside"][0]["population"].as_u64().unwrap();
    let before = red_people(&first);
    // A point in the red zone: its first vertex moved halfway to the source.
    let red = first["data"]["zones_geojson"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["properties"]["kind"] == "threat_zone" && f["properties"]["colour"] == "red")
        .unwrap()
        .clone();
    let source = first["data"]["source"].as_array().unwrap().clone();
    let ring = red["geometry"]["coordinates"][0].as_array().unwrap();
    let far = ring
        .iter()
        .max_by(|a, b| {
            let d = |p: &Value| {
                (p[0].as_f64().unwrap() - source[0].as_f64().unwrap()).powi(2)
                    + (p[1].as_f64().unwrap() - source[1].as_f64().unwrap()).powi(2)
            };
            d(a).total_cmp(&d(b))
        })
        .unwrap();
    let mid = [
        (far[0].as_f64().unwrap() + source[0].as_f64().unwrap()) / 2.0,
        (far[1].as_f64().unwrap() + source[1].as_f64().unwrap()) / 2.0,
    ];
    let school = json!({"type": "Feature", "id": "sse-school", "geometry": {"type": "Point",
        "coordinates": mid}, "properties": {"name": "应急测试小学", "category": "school", "population": 777}});
    let req = Request::post("/collections/protection_targets/items")
        .header("content-type", "application/geo+json")
        .header("authorization", "Bearer t")
        .body(Body::from(school.to_string()))
        .unwrap();
    let (st, v) = call(&s, req).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let edited = next_event().await;
    assert_eq!(edited["event"], "zones", "{edited}");
    assert_eq!(
        red_people(&edited),
        before + 777,
        "{}",
        edited["data"]["inside"][0]
    );
    assert!(
        edited["data"]["inside"][0]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"] == "sse-school")
    );

    // Another server changes the wind in the shared store.
    let store = s.app().store().clone();
    let inc = store.incident(&id).await.unwrap().unwrap();
    let mut changed = inc.clone();
    changed.request["wind_from_deg"] = json!(90);
    changed.revision += 1;
    store
        .put_incident(
            &changed,
            &riskmap_store::access::incident_entry(
                "2026-12-07T00:00:00Z",
                "other-server",
                "incident:update",
                Some(&inc),
                &changed,
            ),
        )
        .await
        .unwrap();
    let moved = next_event().await;
    assert_eq!(moved["event"], "zones", "{moved}");
    assert_eq!(moved["data"]["toxic"]["downwind_deg"], json!(270.0));
    assert_eq!(moved["data"]["incident"]["revision"], changed.revision);

    // And closes it.
    let mut closed = changed.clone();
    closed.status = "closed".into();
    closed.revision += 1;
    store
        .put_incident(
            &closed,
            &riskmap_store::access::incident_entry(
                "2026-12-07T00:00:01Z",
                "other-server",
                "incident:close",
                Some(&changed),
                &closed,
            ),
        )
        .await
        .unwrap();
    let end = next_event().await;
    assert_eq!(end["event"], "closed", "{end}");
}

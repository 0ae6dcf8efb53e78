//! Operations through `app(state).oneshot(…)`: CORS (default same-origin,
//! configured origins read, writes only with `allow_writes`), request ids,
//! and `/metrics` read back by an independent Prometheus text parser.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt;
use riskmap_app::{App, Limits};
use riskmap_core::Collection;
use riskmap_core::import::parse_geojson;
use riskmap_server::cors::Cors;
use riskmap_server::{AppState, ServerConfig, app};
use riskmap_spatial::Crs;
use riskmap_store::{SqliteStore, Store};
use tower::ServiceExt;

const TOKEN: &str = "t";
const MAP: &str = "https://map.example.gov.cn";

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
            admin_tokens: vec![TOKEN.into()],
            public_read: riskmap_server::PublicRead::Full,
        },
    )
}

async fn send(s: &AppState, req: Request<Body>) -> (Response, String) {
    let resp = app(s.clone()).oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    (
        Response::from_parts(parts, Body::empty()),
        String::from_utf8_lossy(&bytes).into_owned(),
    )
}

fn get(uri: &str, origin: Option<&str>) -> Request<Body> {
    let mut r = Request::get(uri).header(header::HOST, "riskmap.local:8080");
    if let Some(o) = origin {
        r = r.header(header::ORIGIN, o);
    }
    r.body(Body::empty()).unwrap()
}

fn preflight(uri: &str, origin: &str, method: &str) -> Request<Body> {
    Request::options(uri)
        .header(header::HOST, "riskmap.local:8080")
        .header(header::ORIGIN, origin)
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, method)
        .header(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            "authorization,content-type",
        )
        .body(Body::empty())
        .unwrap()
}

/// A PUT of an existing enterprise, unchanged, from `origin`.
async fn put(s: &AppState, origin: Option<&str>) -> (Response, String) {
    let world = s.world().unwrap();
    let feature = world
        .catalog
        .get(Collection::Enterprises, "ent-01")
        .unwrap();
    let body = riskmap_store::access::feature_json(feature);
    let mut r = Request::put("/collections/enterprises/items/ent-01")
        .header(header::HOST, "riskmap.local:8080")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/geo+json");
    if let Some(o) = origin {
        r = r.header(header::ORIGIN, o);
    }
    send(s, r.body(Body::from(body)).unwrap()).await
}

fn allow_origin(r: &Response) -> Option<&str> {
    r.headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .map(|v| v.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_same_origin_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    // No CORS headers for anyone.
    let (r, _) = send(&s, get("/collections", Some(MAP))).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(allow_origin(&r), None);
    let (r, _) = send(&s, preflight("/collections", MAP, "GET")).await;
    assert_eq!(allow_origin(&r), None);
    // A cross-origin write is refused before it lands; same-origin and
    // Origin-less writes pass.
    let (r, body) = put(&s, Some(MAP)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("cross-origin"), "{body}");
    let (r, body) = put(&s, Some("http://riskmap.local:8080")).await;
    assert!(r.status().is_success(), "{body}");
    let (r, body) = put(&s, None).await;
    assert!(r.status().is_success(), "{body}");
    let (r, _) = put(&s, Some("null")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configured_origins_read_and_write_only_when_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let base = state(dir.path()).await;
    assert!(Cors::new(vec!["map.example.gov.cn".into()], false).is_err());
    assert!(Cors::new(vec!["https://*.example.gov.cn".into()], false).is_err());

    let s = base
        .clone()
        .with_cors(Cors::new(vec![MAP.into()], false).unwrap());
    let (r, _) = send(&s, get("/collections", Some(MAP))).await;
    assert_eq!(allow_origin(&r), Some(MAP));
    // Another origin gets nothing.
    let (r, _) = send(&s, get("/collections", Some("https://evil.example"))).await;
    assert_eq!(allow_origin(&r), None);
    // Reads are preflighted for the origin; writes are not offered.
    let (r, _) = send(&s, preflight("/collections/enterprises/items", MAP, "GET")).await;
    assert_eq!(allow_origin(&r), Some(MAP));
    let methods = r.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("GET"), "{methods}");
    assert!(!methods.contains("PUT"), "{methods}");
    let (r, _) = put(&s, Some(MAP)).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // With writes allowed, the configured origin writes; others still not.
    let s = base.with_cors(Cors::new(vec![MAP.into()], true).unwrap());
    let (r, _) = send(
        &s,
        preflight("/collections/enterprises/items/ent-01", MAP, "PUT"),
    )
    .await;
    let methods = r.headers()[header::ACCESS_CONTROL_ALLOW_METHODS]
        .to_str()
        .unwrap()
        .to_string();
    assert!(methods.contains("PUT"), "{methods}");
    let (r, body) = put(&s, Some(MAP)).await;
    assert!(r.status().is_success(), "{body}");
    assert_eq!(allow_origin(&r), Some(MAP));
    let (r, _) = put(&s, Some("https://evil.example")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_made() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let req = Request::get("/health")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let (r, _) = send(&s, req).await;
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    let (a, _) = send(&s, get("/health", None)).await;
    let (b, _) = send(&s, get("/nowhere", None)).await;
    let a = a.headers()["x-request-id"].to_str().unwrap().to_string();
    let b = b.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
    // An id that is not printable ASCII is replaced.
    let req = Request::get("/health")
        .header("x-request-id", "a b")
        .body(Body::empty())
        .unwrap();
    let (r, _) = send(&s, req).await;
    assert_ne!(r.headers()["x-request-id"], "a b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_count_what_was_asked() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    for _ in 0..3 {
        let (r, _) = send(&s, get("/collections/enterprises/items?limit=2", None)).await;
        assert_eq!(r.status(), StatusCode::OK);
    }
    let (r, _) = send(&s, get("/collections/nothing/items", None)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // The same tile twice: one miss, then one hit.
    for _ in 0..2 {
        let (r, _) = send(&s, get("/tiles/enterprises/0/0/0.mvt", None)).await;
        assert!(r.status().is_success(), "{}", r.status());
    }
    let (r, text) = send(&s, get("/metrics", None)).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string()))).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
    };
    let items = [
        ("route", "/collections/:collection/items"),
        ("method", "GET"),
        ("status", "2xx"),
    ];
    assert_eq!(
        value("riskmap_http_requests_total", &items),
        Some(3.0),
        "{text}"
    );
    let not_found = [
        ("route", "/collections/:collection/items"),
        ("status", "4xx"),
    ];
    assert_eq!(value("riskmap_http_requests_total", &not_found), Some(1.0));
    // The latency histogram of the route counted the three and the 404.
    let hist = scrape
        .samples
        .iter()
        .find(|s| {
            s.metric == "riskmap_http_request_duration_seconds"
                && s.labels.get("route") == Some("/collections/:collection/items")
        })
        .unwrap();
    match &hist.value {
        prometheus_parse::Value::Histogram(buckets) => {
            let total = buckets.iter().map(|b| b.count).fold(0.0, f64::max);
            assert_eq!(total, 4.0);
        }
        other => panic!("not a histogram: {other:?}"),
    }
    assert_eq!(value("riskmap_tile_cache_hits_total", &[]), Some(1.0));
    assert_eq!(value("riskmap_tile_cache_misses_total", &[]), Some(1.0));
    assert_eq!(
        value("riskmap_features", &[("collection", "enterprises")]),
        Some(s.world().unwrap().catalog.len(Collection::Enterprises) as f64)
    );
    assert_eq!(value("riskmap_world_ready", &[]), Some(1.0));
    assert!(value("riskmap_world_version", &[]).is_some());
    // Only /metrics itself is in flight.
    assert_eq!(value("riskmap_http_requests_in_flight", &[]), Some(1.0));
    assert!(value("process_resident_memory_bytes", &[]).unwrap() > 1e6);
}

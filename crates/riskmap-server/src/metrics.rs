//! `GET /metrics`: Prometheus text format 0.0.4 (`metrics-exporter-prometheus`,
//! its recorder held by the server rather than installed globally, so two
//! applications in one process keep their own counts).
//!
//! - `riskmap_http_requests_total{route,method,status}`: requests by route
//!   template (written `/collections/:collection/items`, since braces in
//!   label values trip simple parsers; `unmatched`) and status class
//!   (`2xx` … `5xx`);
//! - `riskmap_http_request_duration_seconds{route}`: latency histogram, to
//!   the end of the response body;
//! - `riskmap_http_requests_in_flight`;
//! - `riskmap_world_version`, `riskmap_world_ready`,
//!   `riskmap_features{collection}` (stored collections);
//! - `riskmap_tile_cache_hits_total`, `riskmap_tile_cache_misses_total`;
//! - `riskmap_work_abandoned_total`;
//! - `process_resident_memory_bytes` (Linux, `VmRSS` of `/proc/self/status`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::{Key, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};
use riskmap_core::Collection;

use crate::state::AppState;

const REQUESTS: &str = "riskmap_http_requests_total";
const DURATION: &str = "riskmap_http_request_duration_seconds";
const IN_FLIGHT: &str = "riskmap_http_requests_in_flight";

/// Latency buckets, seconds.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static META: Metadata<'static> = Metadata::new("riskmap::metrics", Level::INFO, None);

/// The server's metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

struct Inner {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Empty metrics with their descriptions.
    pub fn new() -> Metrics {
        // The buckets are not empty, the one error the builder reports.
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.into()), &BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        let describe = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            recorder.describe_counter(name.into(), unit, help.into());
        };
        describe(
            REQUESTS,
            None,
            "HTTP requests by route template, method and status class.",
        );
        describe(
            DURATION,
            Some(Unit::Seconds),
            "HTTP request latency to the end of the response body, by route template.",
        );
        describe(IN_FLIGHT, None, "HTTP requests being answered.");
        describe(
            "riskmap_world_version",
            None,
            "Version of the published world (changes applied).",
        );
        describe(
            "riskmap_world_ready",
            None,
            "1 once every level is computed, else 0.",
        );
        describe("riskmap_features", None, "Features per stored collection.");
        describe(
            "riskmap_tile_cache_hits_total",
            None,
            "Tile cache lookups that found the tile.",
        );
        describe(
            "riskmap_tile_cache_misses_total",
            None,
            "Tile cache lookups that did not.",
        );
        describe(
            "riskmap_work_abandoned_total",
            None,
            "Heavy reads whose client left first.",
        );
        describe(
            "process_resident_memory_bytes",
            Some(Unit::Bytes),
            "Resident memory of the server process.",
        );
        Metrics(Arc::new(Inner { recorder, handle }))
    }

    /// A request started.
    pub(crate) fn started(&self) {
        self.0
            .recorder
            .register_gauge(&Key::from_static_name(IN_FLIGHT), &META)
            .increment(1.0);
    }

    /// A request ended (its body sent or dropped).
    pub(crate) fn finished(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let r = &self.0.recorder;
        r.register_gauge(&Key::from_static_name(IN_FLIGHT), &META)
            .decrement(1.0);
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        let route = route_label(route);
        let labels = vec![
            Label::new("route", route.clone()),
            Label::new("method", method.to_string()),
            Label::new("status", class),
        ];
        r.register_counter(&Key::from_parts(REQUESTS, labels), &META)
            .increment(1);
        r.register_histogram(
            &Key::from_parts(DURATION, vec![Label::new("route", route)]),
            &META,
        )
        .record(seconds);
    }

    fn gauge(&self, name: &'static str, labels: Vec<Label>, value: f64) {
        self.0
            .recorder
            .register_gauge(&Key::from_parts(name, labels), &META)
            .set(value);
    }

    fn counter(&self, name: &'static str, value: u64) {
        self.0
            .recorder
            .register_counter(&Key::from_static_name(name), &META)
            .absolute(value);
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        self.0.handle.render()
    }
}

/// A route template as a label: `{name}` → `:name`, `{*rest}` → `*rest`.
fn route_label(route: &str) -> String {
    route.replace("{*", "*").replace('{', ":").replace('}', "")
}

/// The `/metrics` route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// `GET /metrics`: the gauges of the world read now, then every metric.
#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format 0.0.4: requests by route and status class, latency, in flight, world version, features per collection, tile cache, resident memory", content_type = "text/plain; version=0.0.4")))]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let m = state.metrics();
    let app = state.app();
    let ready = matches!(app.readiness(), riskmap_app::Readiness::Ready);
    m.gauge("riskmap_world_ready", vec![], if ready { 1.0 } else { 0.0 });
    if let Ok(world) = app.world() {
        m.gauge("riskmap_world_version", vec![], world.version() as f64);
        for c in Collection::ALL {
            m.gauge(
                "riskmap_features",
                vec![Label::new("collection", c.as_str())],
                world.catalog.len(c) as f64,
            );
        }
    }
    let (hits, misses) = app.tile_cache_stats();
    m.counter("riskmap_tile_cache_hits_total", hits);
    m.counter("riskmap_tile_cache_misses_total", misses);
    m.counter("riskmap_work_abandoned_total", app.work_abandoned());
    if let Some(rss) = resident_bytes().await {
        m.gauge("process_resident_memory_bytes", vec![], rss as f64);
    }
    let mut resp = m.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// Resident memory from the `VmRSS` line of `/proc/self/status`, where
/// there is one.
async fn resident_bytes() -> Option<u64> {
    let status = tokio::fs::read_to_string("/proc/self/status").await.ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

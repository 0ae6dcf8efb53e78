//! The riskmap HTTP service (axum).
//!
//! # Layout
//! - [`state`]: [`AppState`]: the application layer ([`riskmap_app::App`]:
//!   the store, the published world, the change path) and the admin tokens.
//! - [`ogc`]: OGC API – Features (Part 1 Core, GeoJSON, Part 2 CRS for
//!   EPSG:4490, Part 4-style writes).
//! - [`derived`]: read-only derived collections (`risk_grid`, `pipeline_segments`,
//!   `safety_zones`, `violations`).
//! - [`auth`]: who calls (`--admin-token` or an account's token), login,
//!   accounts, tokens and `GET /api/audit`.
//! - [`api`]: `/api/risk/{collection}/{id}` explanations and `/api/stats/risk`.
//! - [`changes`]: `GET /api/changes?since=` (变化情况): levels, violations,
//!   hidden dangers and edits since a date, from the kept history.
//! - [`siting`]: `POST /api/siting/check` (规划选址) and
//!   `GET /api/sites/{id}/report` (外部安全防护距离 report of one site).
//! - [`tiles`]: vector tiles (MVT) built in process, TileJSON, the MapLibre
//!   style, and the tile cache with ETags and edit-driven purging.
//! - [`error`]: [`ApiError`], the one error type handlers return.
//! - [`listen`]: the accept loop: read timeouts, the connection cap,
//!   eviction of idle connections and 503 load shedding.
//! - [`office`]: `?f=csv|xlsx` exports of items and CSV/.xlsx bodies of
//!   `POST` items.
//! - [`web`]: the web map (`web-map/dist`, embedded), served at `/` to browsers.
//! - [`ops`]: request ids, the JSON access log and request metrics;
//!   [`metrics`]: `GET /metrics` (Prometheus); [`cors`]: CORS and the
//!   refusal of cross-origin writes.
//!
//! Handlers extract, call and map: no SQL and no geometry math here. Every
//! read works on one snapshot of the world (`AppState::read`, off the async
//! workers and bounded); every write goes through `App::apply`.
#![warn(missing_docs)]

pub mod api;
pub mod auth;
pub mod changes;
pub mod cors;
pub mod dangers;
pub mod derived;
pub mod error;
pub mod incidents;
pub mod listen;
pub mod metrics;
pub mod office;
pub mod ogc;
pub mod ops;
mod rules;
pub mod siting;
pub mod state;
pub mod tiles;
pub mod web;

use std::future::Future;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::middleware;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use error::ApiError;
pub use state::{AppState, PublicRead, ServerConfig};

/// Largest accepted request body (uploads), in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The Content-Security-Policy of every response: the web map loads only
/// the server's own script, styles, tiles and APIs; MapLibre needs `blob:`
/// workers, `data:`/`blob:` images and inline styles.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; worker-src 'self' blob:; \
     child-src blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'self'";

/// The whole application as a router, ready for `axum::serve` or `oneshot` in tests.
pub fn app(state: AppState) -> Router {
    let cors = state.cors().layer();
    let router = ogc::routes()
        .merge(api::routes())
        .merge(auth::routes())
        .merge(changes::routes())
        .merge(dangers::routes())
        .merge(siting::routes())
        .merge(incidents::routes())
        .merge(tiles::routes())
        .merge(web::routes())
        .merge(metrics::routes())
        .layer(middleware::from_fn(ops::tag_route))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(CompressionLayer::new());
    let router = match cors {
        Some(cors) => router.layer(cors),
        None => router,
    };
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("SAMEORIGIN"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        .layer(middleware::from_fn_with_state(state.clone(), ops::track))
        .with_state(state)
}

/// Serves `app(state)` on `listener` within `limits` until `shutdown`
/// completes, then lets requests in flight finish.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    limits: listen::ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listen::serve(listener, app(state), limits, shutdown).await
}

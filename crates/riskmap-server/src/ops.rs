//! Operations around every request: the request id (`x-request-id`, taken
//! from the client or generated, echoed in the response), the JSON access
//! log (one line per request at target `riskmap::access`, written when the
//! response body ends), the request metrics of `/metrics`, and the refusal
//! of cross-origin writes (see [`crate::cors`]).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::Frame;

use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::state::AppState;

/// The request id header.
pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The route template a request matched (`/collections/{collection}/items`),
/// copied into the response by [`tag_route`] for [`track`], which runs
/// outside the router.
#[derive(Debug, Clone)]
struct RouteTag(Arc<str>);

/// Inner middleware (inside the router): tags the response with the
/// matched route template.
pub(crate) async fn tag_route(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| Arc::<str>::from(m.as_str()));
    let mut resp = next.run(req).await;
    if let Some(route) = route {
        resp.extensions_mut().insert(RouteTag(route));
    }
    resp
}

/// A client's request id when it is short printable ASCII, else a new one.
fn request_id(req: &Request) -> HeaderValue {
    if let Some(v) = req.headers().get(&X_REQUEST_ID)
        && !v.is_empty()
        && v.len() <= 128
        && v.as_bytes().iter().all(|b| b.is_ascii_graphic())
    {
        return v.clone();
    }
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No entropy: a time-based id is still unique enough for a log.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = t.to_le_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::from_str(&hex).unwrap_or_else(|_| HeaderValue::from_static("0"))
}

/// Outer middleware: request id, cross-origin write refusal, metrics and
/// the access log.
pub(crate) async fn track(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = request_id(&req);
    req.headers_mut().insert(X_REQUEST_ID.clone(), id.clone());
    let method = req.method().clone();
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_string(), |p| p.as_str().to_string());
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.to_string());
    let metrics = state.metrics().clone();
    metrics.started();
    let mut resp = match state.cors().refuse_write(&req) {
        Some(origin) => ApiError::Forbidden(format!(
            "{method} from origin {origin} refused: writes are not allowed cross-origin"
        ))
        .into_response(),
        None => next.run(req).await,
    };
    resp.headers_mut().insert(X_REQUEST_ID.clone(), id.clone());
    let route = resp
        .extensions()
        .get::<RouteTag>()
        .map_or_else(|| Arc::<str>::from("unmatched"), |r| r.0.clone());
    let record = Record {
        started,
        id,
        method,
        target,
        remote,
        route,
        status: resp.status(),
        metrics,
    };
    resp.map(|body| {
        Body::new(Logged {
            inner: body,
            bytes: 0,
            record: Some(record),
        })
    })
}

/// What the access log line and the metrics say of one request.
struct Record {
    started: Instant,
    id: HeaderValue,
    method: Method,
    target: String,
    remote: Option<String>,
    route: Arc<str>,
    status: StatusCode,
    metrics: Metrics,
}

impl Record {
    fn finish(self, bytes: u64, complete: bool) {
        let elapsed = self.started.elapsed();
        self.metrics.finished(
            &self.route,
            self.method.as_str(),
            self.status.as_u16(),
            elapsed.as_secs_f64(),
        );
        tracing::info!(
            target: "riskmap::access",
            request_id = self.id.to_str().unwrap_or("-"),
            method = self.method.as_str(),
            path = self.target.as_str(),
            route = &*self.route,
            status = self.status.as_u16(),
            bytes,
            duration_ms = (elapsed.as_secs_f64() * 1e6).round() / 1e3,
            remote = self.remote.as_deref().unwrap_or("-"),
            complete,
            "request"
        );
    }
}

/// A response body that counts what it sends and writes the access log
/// line when it ends (or when it is dropped unfinished: the client left).
struct Logged {
    inner: Body,
    bytes: u64,
    record: Option<Record>,
}

impl http_body::Body for Logged {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) => {
                if let Some(r) = self.record.take() {
                    r.finish(self.bytes, true);
                }
            }
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        http_body::Body::is_end_stream(&self.inner)
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::Body::size_hint(&self.inner)
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(r) = self.record.take() {
            // An empty body may never be polled to its end.
            let complete = http_body::Body::is_end_stream(&self.inner);
            r.finish(self.bytes, complete);
        }
    }
}

//! Cross-origin access (CORS, `--cors-origins`, `--cors-allow-writes`).
//!
//! By default the server is same-origin only: no CORS headers, so a page
//! of another site cannot read its answers. Configured origins may read
//! (GET, HEAD, OPTIONS); they may write (POST, PUT, PATCH, DELETE) only
//! with `--cors-allow-writes`. Whatever a browser would do with the
//! headers, a write carrying an `Origin` that is neither this server's own
//! nor an origin allowed to write is refused with 403 before any handler
//! runs (a plain HTML form can POST cross-origin without a preflight).
//! Clients that send no `Origin` (scripts, QGIS, GDAL) are not concerned.

use std::time::Duration;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The CORS settings.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    /// Origins allowed to read, exactly as browsers send them
    /// (`https://map.example.gov.cn`, scheme and host, port if not the
    /// default).
    pub origins: Vec<String>,
    /// Whether those origins may also write.
    pub allow_writes: bool,
}

fn is_write(m: &Method) -> bool {
    matches!(
        *m,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// The host (and port) of an origin, `None` for `null` or a malformed one.
fn origin_authority(origin: &str) -> Option<&str> {
    let rest = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))?;
    Some(rest.trim_end_matches('/'))
}

impl Cors {
    /// The settings, checking each origin's form (`scheme://host[:port]`).
    ///
    /// # Errors
    /// The first origin that is not of that form.
    pub fn new(origins: Vec<String>, allow_writes: bool) -> Result<Cors, String> {
        for o in &origins {
            let ok = origin_authority(o)
                .is_some_and(|a| !a.is_empty() && !a.contains('/') && !a.contains('*'));
            if !ok || HeaderValue::from_str(o).is_err() {
                return Err(format!(
                    "--cors-origins: {o:?} is not an origin (scheme://host[:port], e.g. https://map.example.gov.cn)"
                ));
            }
        }
        Ok(Cors {
            origins,
            allow_writes,
        })
    }

    /// The CORS layer, `None` when no origin is configured.
    pub fn layer(&self) -> Option<CorsLayer> {
        if self.origins.is_empty() {
            return None;
        }
        let origins: Vec<HeaderValue> = self
            .origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        let mut methods = vec![Method::GET, Method::HEAD, Method::OPTIONS];
        if self.allow_writes {
            methods.extend([Method::POST, Method::PUT, Method::PATCH, Method::DELETE]);
        }
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods(methods)
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::ACCEPT,
                    header::IF_MATCH,
                    header::IF_NONE_MATCH,
                    HeaderName::from_static("x-request-id"),
                ])
                .expose_headers([
                    header::ETAG,
                    header::LOCATION,
                    header::LINK,
                    header::RETRY_AFTER,
                    HeaderName::from_static("content-crs"),
                    HeaderName::from_static("x-request-id"),
                ])
                .max_age(Duration::from_secs(600)),
        )
    }

    /// The origin of a write that must be refused: a cross-origin write
    /// from an origin not allowed to write. `None` lets the request in.
    pub fn refuse_write(&self, req: &Request) -> Option<String> {
        if !is_write(req.method()) {
            return None;
        }
        let h = req.headers();
        let origin = h.get(header::ORIGIN)?.to_str().unwrap_or("null");
        // Browsers mark their own same-origin requests; scripts cannot forge it.
        if h.get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"same-origin")
        {
            return None;
        }
        let authority = origin_authority(origin);
        let own = [header::HOST.as_str(), "x-forwarded-host"]
            .iter()
            .filter_map(|n| h.get(*n).and_then(|v| v.to_str().ok()))
            .any(|host| authority.is_some_and(|a| a.eq_ignore_ascii_case(host.trim())));
        let own = own
            || req
                .uri()
                .authority()
                .is_some_and(|a| authority.is_some_and(|o| o.eq_ignore_ascii_case(a.as_str())));
        if own || (self.allow_writes && self.origins.iter().any(|o| o == origin)) {
            None
        } else {
            Some(origin.to_string())
        }
    }
}

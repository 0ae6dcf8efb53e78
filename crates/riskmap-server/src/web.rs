//! The web map: `web-map/dist` (built by `build.rs` with npm and esbuild)
//! embedded in the binary with rust-embed and served at `/` (for browsers;
//! see [`crate::ogc`]'s landing page), `/index.html` and `/assets/…`.
//!
//! Files carry an `ETag` (their SHA-256) and `Cache-Control: no-cache`, so a
//! browser revalidates and gets `304 Not Modified` until the binary changes.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "../../web-map/dist"]
struct Dist;

/// The web map's routes (`/` itself is routed by [`crate::ogc`]).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/index.html", get(index_html))
        .route("/assets/{*path}", get(asset))
}

/// `index.html` of the web map, as served at `/` to browsers.
pub fn index(headers: &HeaderMap) -> Response {
    serve("index.html", headers)
}

#[utoipa::path(get, path = "/index.html", tag = "web map", responses((status = 200, description = "the web map", content_type = "text/html"), (status = 304, description = "If-None-Match names the current ETag")))]
pub(crate) async fn index_html(headers: HeaderMap) -> Response {
    index(&headers)
}

#[utoipa::path(get, path = "/assets/{path}", tag = "web map", params(("path" = String, Path, description = "a file of the web map (scripts, styles, images)")), responses((status = 200, description = "the file, typed by its extension"), (status = 304, description = "If-None-Match names the current ETag"), (status = 404, description = "no such file", content_type = "text/plain")))]
pub(crate) async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&format!("assets/{path}"), &headers)
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(file) = Dist::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let hash = file.metadata.sha256_hash();
    let etag = format!(
        "\"{}\"",
        hash[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let mut res = if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = file.data.into_owned().into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(content_type(path)),
        );
        r
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// Content type by extension (module scripts and workers need a JavaScript type).
fn content_type(path: &str) -> &'static str {
    let ext = path.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_assets_are_embedded() {
        let r = index(&HeaderMap::new());
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes()),
            Some(&b"text/html; charset=utf-8"[..])
        );
        for p in [
            "assets/app.js",
            "assets/app.css",
            "assets/maplibre-gl-worker.mjs",
        ] {
            assert!(Dist::get(p).is_some(), "{p} is not embedded");
        }
        assert_eq!(
            content_type("assets/maplibre-gl-worker.mjs"),
            "text/javascript; charset=utf-8"
        );
    }

    #[test]
    fn etag_gives_not_modified() {
        let r = serve("assets/app.css", &HeaderMap::new());
        let etag = r.headers().get(header::ETAG).cloned().expect("etag");
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(
            serve("assets/app.css", &h).status(),
            StatusCode::NOT_MODIFIED
        );
        assert_eq!(serve("assets/nope.js", &h).status(), StatusCode::NOT_FOUND);
    }
}

//! Query parameters read strictly, and the response format a request asks
//! for: OGC API – Features answers 400 naming a parameter it does not
//! know (so `?fliter=…` is never silently unfiltered) and 406 when neither
//! `f=` nor `Accept` names a format the resource has.

use axum::http::{HeaderMap, header};

use crate::error::ApiError;

/// The query parameters of one request, each known to the resource and
/// given at most once.
#[derive(Debug, Default, Clone)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Checks `pairs` against the parameters `allowed` on `resource`: an
    /// unknown or repeated parameter is a 400 that names it.
    pub fn new(
        pairs: Vec<(String, String)>,
        resource: &str,
        allowed: &[&str],
    ) -> Result<Params, ApiError> {
        for (i, (k, _)) in pairs.iter().enumerate() {
            if !allowed.contains(&k.as_str()) {
                return Err(ApiError::BadRequest(format!(
                    "unknown query parameter {k:?} on {resource}: it takes {}",
                    if allowed.is_empty() {
                        "none".to_string()
                    } else {
                        allowed.join(", ")
                    }
                )));
            }
            if pairs[..i].iter().any(|(p, _)| p == k) {
                return Err(ApiError::BadRequest(format!(
                    "query parameter {k:?} is given more than once"
                )));
            }
        }
        Ok(Params { pairs })
    }

    /// Checks `pairs` against the query parameters of `T`, the type the
    /// OpenAPI document describes them with.
    pub fn of<T: utoipa::IntoParams>(
        pairs: Vec<(String, String)>,
        resource: &str,
    ) -> Result<Params, ApiError> {
        let names = names_of::<T>();
        let allowed: Vec<&str> = names.iter().map(String::as_str).collect();
        Params::new(pairs, resource, &allowed)
    }

    /// The value of `name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name` as an owned string.
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }
}

/// The names of the query parameters of `T`.
pub fn names_of<T: utoipa::IntoParams>() -> Vec<String> {
    T::into_params(|| Some(utoipa::openapi::path::ParameterIn::Query))
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// A response format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON (GeoJSON for features).
    Json,
    /// A plain HTML page.
    Html,
}

/// The format of a response: `f=json|html` if given, else the `Accept`
/// header's most preferred of the two (JSON when it names neither but
/// allows anything). 400 for an unknown `f`, 406 when `Accept` allows
/// neither.
pub fn negotiate(headers: &HeaderMap, f: Option<&str>) -> Result<Format, ApiError> {
    if let Some(f) = f {
        return match f.trim().to_ascii_lowercase().as_str() {
            "json" | "geojson" | "application/json" | "application/geo+json" => Ok(Format::Json),
            "html" | "text/html" => Ok(Format::Html),
            other => Err(ApiError::BadRequest(format!(
                "f: {other:?} is not a format of this resource; use f=json or f=html"
            ))),
        };
    }
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .filter(|a| !a.trim().is_empty())
    else {
        return Ok(Format::Json);
    };
    let mut best: Option<(f32, u8, Format)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some(v) = p.trim().strip_prefix("q=") {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        if q <= 0.0 {
            continue;
        }
        // Specificity breaks ties: an exact type before a wildcard.
        let (spec, format) = match media.as_str() {
            "application/json"
            | "application/geo+json"
            | "application/schema+json"
            | "application/vnd.oai.openapi+json" => (2, Format::Json),
            "text/html" | "application/xhtml+xml" => (2, Format::Html),
            "application/*" => (1, Format::Json),
            "text/*" => (1, Format::Html),
            "*/*" => (0, Format::Json),
            _ => continue,
        };
        if best.is_none_or(|(bq, bs, _)| q > bq || (q == bq && spec > bs)) {
            best = Some((q, spec, format));
        }
    }
    best.map(|(_, _, f)| f).ok_or_else(|| {
        ApiError::NotAcceptable(format!(
            "Accept {accept:?} allows none of this resource's formats: application/json (or application/geo+json) and text/html"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).expect("header"));
        h
    }

    #[test]
    fn accept_picks_the_preferred_known_format() {
        let h = HeaderMap::new();
        assert_eq!(negotiate(&h, None).ok(), Some(Format::Json));
        assert_eq!(
            negotiate(&accept("text/html,application/xhtml+xml,*/*;q=0.8"), None).ok(),
            Some(Format::Html)
        );
        assert_eq!(
            negotiate(&accept("application/geo+json"), None).ok(),
            Some(Format::Json)
        );
        assert_eq!(
            negotiate(&accept("text/html;q=0.5, application/json"), None).ok(),
            Some(Format::Json)
        );
        assert_eq!(negotiate(&accept("*/*"), None).ok(), Some(Format::Json));
        let e = negotiate(&accept("image/png"), None).expect_err("406");
        assert_eq!(e.status_code(), axum::http::StatusCode::NOT_ACCEPTABLE);
        assert_eq!(
            negotiate(&accept("image/png"), Some("html")).ok(),
            Some(Format::Html)
        );
        assert!(negotiate(&h, Some("pdf")).is_err());
    }

    #[test]
    fn unknown_and_repeated_parameters_are_named() {
        let p = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let e = Params::new(
            p(&[("fliter", "x")]),
            "/collections/parks/items",
            &["filter"],
        )
        .expect_err("unknown");
        assert!(e.to_string().contains("\"fliter\""), "{e}");
        let e = Params::new(p(&[("limit", "1"), ("limit", "2")]), "/x", &["limit"])
            .expect_err("repeated");
        assert!(e.to_string().contains("\"limit\""), "{e}");
        let ok = Params::new(p(&[("limit", "1")]), "/x", &["limit"]).expect("ok");
        assert_eq!(ok.get("limit"), Some("1"));
    }
}

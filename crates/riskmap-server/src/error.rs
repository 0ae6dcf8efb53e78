//! The API's error type: every handler returns `Result<_, ApiError>`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use riskmap_core::import::ImportErrors;
use serde_json::json;

/// An error answered to a client, as an OGC-style exception document
/// `{"code", "description", "errors"?}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: a malformed request parameter.
    #[error("{0}")]
    BadRequest(String),
    /// 400: the uploaded data failed validation; nothing was written.
    #[error("{0}")]
    Invalid(ImportErrors),
    /// 401: no or wrong bearer token (or no token configured: read-only server).
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 403: the account lacks a right; the message names it and the record.
    #[error("{0}")]
    Forbidden(String),
    /// 413: the request body is larger than [`crate::MAX_BODY_BYTES`].
    #[error("request body too large: the limit is {} MiB", crate::MAX_BODY_BYTES / (1024 * 1024))]
    PayloadTooLarge,
    /// 408: the request body stopped flowing or took too long
    /// ([`crate::listen::ConnLimits`]).
    #[error("{0}")]
    RequestTimeout(String),
    /// 409: the write conflicts with what exists (POST of an existing id).
    #[error("{0}")]
    Conflict(String),
    /// 422: the request is well formed but beyond a documented limit
    /// (vertices, units, substances); the message names the limit.
    #[error("{0}")]
    Unprocessable(String),
    /// 415: the body is not in a media type the endpoint takes.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 406: neither `f=` nor `Accept` names a format the resource has.
    #[error("{0}")]
    NotAcceptable(String),
    /// 412: `If-Match` names a version that is no longer current; nothing
    /// was written.
    #[error("{0}")]
    PreconditionFailed(String),
    /// 404: no such collection or feature.
    #[error("{0}")]
    NotFound(String),
    /// 500: an internal failure (tile encoding…). Details are logged, not sent.
    #[error("an internal error occurred")]
    Internal(String),
    /// 500: the store failed. Details are logged, not sent.
    #[error("an internal storage error occurred")]
    Store(#[from] riskmap_store::StoreError),
    /// 503 with `Retry-After`: still starting, or too much heavy work queued.
    #[error("{0}")]
    Unavailable(String, u64),
}

impl From<riskmap_app::AppError> for ApiError {
    fn from(e: riskmap_app::AppError) -> Self {
        use riskmap_app::AppError;
        match e {
            AppError::Loading(m) => {
                ApiError::Unavailable(format!("the server is starting: {m}"), 2)
            }
            AppError::Busy(..) => {
                let s = e.to_string();
                let retry = match e {
                    AppError::Busy(_, r) => r,
                    _ => 1,
                };
                ApiError::Unavailable(s, retry)
            }
            AppError::NotFound(m) => ApiError::NotFound(m),
            AppError::Conflict(m) => ApiError::Conflict(m),
            AppError::Forbidden(m) => ApiError::Forbidden(m),
            AppError::Store(s) => ApiError::Store(s),
            AppError::Internal(m) => ApiError::Internal(m),
        }
    }
}

impl ApiError {
    /// The HTTP status for this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::Invalid(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "InvalidParameterValue",
            ApiError::Invalid(_) => "InvalidData",
            ApiError::Unauthorized(_) => "Unauthorized",
            ApiError::Forbidden(_) => "Forbidden",
            ApiError::NotFound(_) => "NotFound",
            ApiError::NotAcceptable(_) => "NotAcceptable",
            ApiError::PreconditionFailed(_) => "PreconditionFailed",
            ApiError::PayloadTooLarge => "PayloadTooLarge",
            ApiError::UnsupportedMediaType(_) => "UnsupportedMediaType",
            ApiError::Conflict(_) => "Conflict",
            ApiError::RequestTimeout(_) => "RequestTimeout",
            ApiError::Unprocessable(_) => "LimitExceeded",
            ApiError::Store(_) | ApiError::Internal(_) => "ServerError",
            ApiError::Unavailable(..) => "ServiceUnavailable",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match &self {
            ApiError::Store(e) => tracing::error!(error = %e, "storage error"),
            ApiError::Internal(e) => tracing::error!(error = %e, "internal error"),
            _ => {}
        }
        let mut body = json!({"code": self.code(), "description": self.to_string()});
        if let ApiError::Invalid(errs) = &self {
            body["description"] = json!(format!("{} error(s); nothing was written", errs.total));
            body["total"] = json!(errs.total);
            body["errors"] = json!(errs
                .errors
                .iter()
                .map(|e| {
                    let mut v = json!({"index": e.index, "id": e.id, "field": e.field, "message": e.message, "text": e.to_string()});
                    // Tabular bodies (CSV, xlsx): the row and column;
                    // GIS layers: the layer's field name.
                    if e.row.is_some() {
                        v["row"] = json!(e.row);
                        v["column"] = json!(e.column);
                    } else if e.column.is_some() {
                        v["column"] = json!(e.column);
                    }
                    v
                })
                .collect::<Vec<_>>());
        }
        let mut resp = (self.status_code(), Json(body)).into_response();
        if matches!(self, ApiError::Unauthorized(_)) {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"riskmap\""),
            );
        }
        if let ApiError::Unavailable(_, retry) = &self {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry),
            );
        }
        resp
    }
}

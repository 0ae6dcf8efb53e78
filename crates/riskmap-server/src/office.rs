//! Office formats over HTTP: `GET /collections/{c}/items?f=csv|xlsx` (the
//! filtered list as a file to download) and `POST /collections/{c}/items`
//! with a CSV or .xlsx body (validated and stored like GeoJSON, all or
//! nothing). The tables themselves are `riskmap_core::office`'s.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use riskmap_app::Work;
use riskmap_core::import::{self, Fill, ImportErrors};
use riskmap_core::{Catalog, Collection, Feature, office};
use riskmap_spatial::Crs;

use crate::error::ApiError;
use crate::state::AppState;

/// The media type of .xlsx workbooks.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The media type of the CSV export.
pub const CSV: &str = "text/csv; charset=utf-8";

/// A table format of the items endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Csv,
    Xlsx,
}

impl Table {
    /// `?f=csv` or `?f=xlsx`; anything else is not a table.
    pub(crate) fn from_param(f: Option<&str>) -> Option<Table> {
        match f.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
            Some("csv") => Some(Table::Csv),
            Some("xlsx") => Some(Table::Xlsx),
            _ => None,
        }
    }
}

/// `GET /collections/{c}/items?f=csv|xlsx[&bbox=&filter=&sortby=&limit=&offset=…]`:
/// the selected features (all of them unless `limit` is given) in the
/// import schema's columns, built on the blocking pool from one snapshot.
pub(crate) async fn export_items(
    state: &AppState,
    c: Collection,
    format: Table,
    selection: crate::filter::Selection,
    limit: Option<usize>,
    offset: usize,
) -> Result<Response, ApiError> {
    let bytes = state
        .read(Work::Analysis, move |w| {
            let features = selection.select(w, c);
            let page = features
                .iter()
                .skip(offset)
                .take(limit.unwrap_or(usize::MAX))
                .map(|f| &**f);
            let table = office::export_table(
                c,
                page,
                |f| w.risk.assessment(c, &f.id).map(|a| a.risk_level),
                w.today(),
            );
            match format {
                Table::Csv => Ok(office::write_csv(&table)),
                Table::Xlsx => office::write_xlsx(&table, c.as_str()).map_err(|e| {
                    ApiError::Unprocessable(format!(
                        "cannot write the workbook: {e}; export CSV (f=csv) or GeoJSON instead"
                    ))
                }),
            }
        })
        .await??;
    let (media, ext) = match format {
        Table::Csv => (CSV, "csv"),
        Table::Xlsx => (XLSX, "xlsx"),
    };
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}.{ext}\"", c.as_str()))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// What a `POST` body is, by its `Content-Type` (none is taken as JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Body {
    GeoJson,
    Csv,
    Xlsx,
}

/// The kind of a `POST` body: GeoJSON (`application/geo+json`,
/// `application/json`), CSV (`text/csv`) or a workbook ([`XLSX`]); 415
/// otherwise.
pub(crate) fn body_kind(headers: &HeaderMap) -> Result<Body, ApiError> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else {
        return Ok(Body::GeoJson);
    };
    let essence = v
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "application/geo+json" => Ok(Body::GeoJson),
        "text/csv" => Ok(Body::Csv),
        XLSX => Ok(Body::Xlsx),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {essence:?} is not accepted: send application/geo+json, application/json, text/csv or {XLSX}"
        ))),
    }
}

/// Reads a CSV (UTF-8, UTF-16 with BOM or GBK) or .xlsx body into validated
/// features; hidden dangers take their enterprise's site, district and
/// industry from `catalog` when the row leaves them out. Errors name the
/// row and column.
pub(crate) fn parse_table_body(
    c: Collection,
    kind: Body,
    bytes: &[u8],
    crs: Crs,
    catalog: &Catalog,
) -> Result<Vec<Feature>, ImportErrors> {
    let fill = office::fill_from_enterprise(
        |id| catalog.get(Collection::Enterprises, id).map(|f| &**f),
        crs,
    );
    let fill: Option<&Fill<'_>> = (c == Collection::HiddenDangers).then_some(&fill as &Fill<'_>);
    match kind {
        Body::Xlsx => office::parse_xlsx_with(c, bytes, crs, fill),
        _ => {
            let (text, _) = import::decode_text(bytes)?;
            import::parse_csv_with(c, &text, crs, fill)
        }
    }
}

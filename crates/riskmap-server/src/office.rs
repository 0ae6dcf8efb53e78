//! Office and GIS formats over HTTP: `GET /collections/{c}/items?f=csv|xlsx|geojson|gpkg|shp`
//! (the filtered list as a file to download, with levels and explanation
//! summaries) and `POST /collections/{c}/items` with a CSV, .xlsx,
//! Shapefile (.zip), GeoPackage, FlatGeobuf or KML body (validated and
//! stored like GeoJSON, all or nothing). The tables and layers themselves
//! are `riskmap_core::office`'s and `riskmap_core::gis`'s; GeoPackages are
//! read and written by `riskmap_store::gpkg`.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use riskmap_app::Work;
use riskmap_core::import::{self, Fill, Format, ImportErrors};
use riskmap_core::{Catalog, Collection, Feature, gis, office};
use riskmap_spatial::Crs;

use crate::error::ApiError;
use crate::state::AppState;

/// The media type of .xlsx workbooks.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The media type of the CSV export.
pub const CSV: &str = "text/csv; charset=utf-8";
/// The media type of a zipped Shapefile.
pub const ZIP: &str = "application/zip";
/// The media type of GeoPackages.
pub const GPKG: &str = "application/geopackage+sqlite3";
/// The media type of FlatGeobuf.
pub const FGB: &str = "application/flatgeobuf";
/// The media type of KML.
pub const KML: &str = "application/vnd.google-earth.kml+xml";

/// A file format of the items endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Table {
    Csv,
    Xlsx,
    GeoJson,
    Gpkg,
    Shp,
}

impl Table {
    /// `?f=csv|xlsx|geojson|gpkg|shp`; anything else is not a file.
    pub(crate) fn from_param(f: Option<&str>) -> Option<Table> {
        match f.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
            Some("csv") => Some(Table::Csv),
            Some("xlsx") => Some(Table::Xlsx),
            Some("geojson") => Some(Table::GeoJson),
            Some("gpkg") => Some(Table::Gpkg),
            Some("shp" | "shp.zip") => Some(Table::Shp),
            _ => None,
        }
    }
}

/// What an export builds on the blocking pool: the bytes, or a layer for
/// the GeoPackage writer.
enum Built {
    Bytes(Vec<u8>),
    Layer(gis::GisTable),
}

/// `GET /collections/{c}/items?f=csv|xlsx|geojson|gpkg|shp[&bbox=&filter=&sortby=&limit=&offset=…]`:
/// the selected features (all of them unless `limit` is given) in the
/// import schema's columns with their levels and explanation summaries,
/// built on the blocking pool from one snapshot.
pub(crate) async fn export_items(
    state: &AppState,
    c: Collection,
    format: Table,
    selection: crate::filter::Selection,
    limit: Option<usize>,
    offset: usize,
) -> Result<Response, ApiError> {
    let built = state
        .read(Work::Analysis, move |w| {
            let features = selection.select(w, c);
            let page = features
                .iter()
                .skip(offset)
                .take(limit.unwrap_or(usize::MAX))
                .map(|f| &**f);
            let risk = |f: &Feature| w.risk.assessment(c, &f.id).map(gis::RiskSummary::of);
            match format {
                Table::Csv | Table::Xlsx => {
                    let table = office::export_table(
                        c,
                        page,
                        |f| w.risk.assessment(c, &f.id).map(|a| a.risk_level),
                        w.today(),
                    );
                    if format == Table::Csv {
                        Ok(Built::Bytes(office::write_csv(&table)))
                    } else {
                        office::write_xlsx(&table, c.as_str())
                            .map(Built::Bytes)
                            .map_err(|e| {
                                ApiError::Unprocessable(format!(
                                    "cannot write the workbook: {e}; export CSV (f=csv) or GeoJSON instead"
                                ))
                            })
                    }
                }
                Table::GeoJson => Ok(Built::Bytes(
                    gis::geojson_export(page, risk).to_string().into_bytes(),
                )),
                Table::Gpkg => Ok(Built::Layer(gis::gis_table(c, page, risk, w.today()))),
                Table::Shp => {
                    let table = gis::gis_table(c, page, risk, w.today());
                    gis::write_shapefile_zip(&table).map(Built::Bytes).map_err(|e| {
                        ApiError::Unprocessable(format!(
                            "cannot write the Shapefile: {e}; export a GeoPackage (f=gpkg) instead"
                        ))
                    })
                }
            }
        })
        .await??;
    let bytes = match built {
        Built::Bytes(b) => b,
        Built::Layer(table) => riskmap_store::gpkg::gpkg_bytes(&table).await?,
    };
    let (media, ext) = match format {
        Table::Csv => (CSV, "csv"),
        Table::Xlsx => (XLSX, "xlsx"),
        Table::GeoJson => ("application/geo+json", "geojson"),
        Table::Gpkg => (GPKG, "gpkg"),
        Table::Shp => (ZIP, "shp.zip"),
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
    /// A GIS layer: Shapefile (.zip), GeoPackage, FlatGeobuf or KML.
    Layer(Format),
}

/// The kind of a `POST` body: GeoJSON (`application/geo+json`,
/// `application/json`), CSV (`text/csv`), a workbook ([`XLSX`]), a zipped
/// Shapefile ([`ZIP`]), a GeoPackage ([`GPKG`]), FlatGeobuf ([`FGB`]) or
/// KML ([`KML`]); 415 otherwise.
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
        ZIP | "application/x-zip-compressed" | "application/x-shapefile" => {
            Ok(Body::Layer(Format::Shapefile))
        }
        GPKG | "application/x-sqlite3" | "application/vnd.sqlite3" => {
            Ok(Body::Layer(Format::GeoPackage))
        }
        FGB => Ok(Body::Layer(Format::FlatGeobuf)),
        KML | "application/vnd.google-earth.kml" => Ok(Body::Layer(Format::Kml)),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "Content-Type {essence:?} is not accepted: send application/geo+json, application/json, text/csv, {XLSX}, {ZIP} (a Shapefile), {GPKG}, {FGB} or {KML}"
        ))),
    }
}

/// Reads a GIS layer body into a [`import::Layer`]. A GeoPackage goes
/// through a temporary file and SQLite, awaited on this blocking-pool
/// thread.
fn read_layer(format: Format, c: Collection, bytes: &[u8]) -> Result<import::Layer, ImportErrors> {
    match format {
        Format::Shapefile => gis::read_shapefile_zip(bytes),
        Format::FlatGeobuf => gis::read_flatgeobuf(bytes),
        Format::Kml => gis::kml::read_kml(bytes),
        Format::GeoPackage => match tokio::runtime::Handle::try_current() {
            Ok(h) => h.block_on(riskmap_store::gpkg::read_gpkg_bytes(
                bytes,
                Some(c.as_str()),
            )),
            Err(_) => Err(ImportErrors::file(
                "(gpkg)",
                "a GeoPackage is read inside the server's runtime",
            )),
        },
        other => Err(ImportErrors::file(
            "(format)",
            format!("{} is not a GIS layer format", other.name()),
        )),
    }
}

/// Reads a CSV (UTF-8, UTF-16 with BOM or GBK), .xlsx or GIS layer body
/// into validated features; hidden dangers take their enterprise's site,
/// district and industry from `catalog` when the row leaves them out.
/// Errors name the row (tables) or record (layers) and the column. A
/// layer's own CRS (a Shapefile's `.prj`, a GeoPackage's `srs_id`) wins
/// over `crs`.
pub(crate) fn parse_table_body(
    c: Collection,
    kind: Body,
    bytes: &[u8],
    crs: Crs,
    catalog: &Catalog,
) -> Result<Vec<Feature>, ImportErrors> {
    let layer = match kind {
        Body::Layer(format) => Some(read_layer(format, c, bytes)?),
        _ => None,
    };
    let crs = layer.as_ref().and_then(|l| l.crs).unwrap_or(crs);
    let fill = office::fill_from_enterprise(
        |id| catalog.get(Collection::Enterprises, id).map(|f| &**f),
        crs,
    );
    let fill: Option<&Fill<'_>> = (c == Collection::HiddenDangers).then_some(&fill as &Fill<'_>);
    match (kind, layer) {
        (_, Some(layer)) => import::parse_layer(c, layer, crs, fill),
        (Body::Xlsx, None) => office::parse_xlsx_with(c, bytes, crs, fill),
        _ => {
            let (text, _) = import::decode_text(bytes)?;
            import::parse_csv_with(c, &text, crs, fill)
        }
    }
}

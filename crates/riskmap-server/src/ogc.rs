//! OGC API – Features: landing page, conformance, collections, items, and
//! Part 4-style writes (`POST` items, `PUT`/`DELETE` an item) behind a bearer token.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use geo::{Geometry, MapCoords, Rect};
use riskmap_core::import;
use riskmap_core::{Collection, Feature};
use riskmap_spatial::Crs;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::derived::{self, Derived};
use crate::error::ApiError;
use crate::filter::Selection;
use crate::params::{Format, Params, negotiate};
use crate::state::AppState;
use riskmap_app::{Readiness, Work, World};

/// OGC CRS84 (longitude, latitude): the default and storage CRS.
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";
/// EPSG:4326 with its authority axis order (latitude, longitude).
pub const EPSG_4326: &str = "http://www.opengis.net/def/crs/EPSG/0/4326";
/// CGCS2000 (EPSG:4490), latitude first.
pub const EPSG_4490: &str = "http://www.opengis.net/def/crs/EPSG/0/4490";

pub(crate) const GEOJSON: &str = "application/geo+json";
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 10_000;

/// The OGC API – Features routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(landing))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/conformance", get(conformance))
        .route("/collections", get(collections))
        .route("/collections/{collection}", get(collection))
        .route("/collections/{collection}/queryables", get(queryables))
        .route(
            "/collections/{collection}/items",
            get(items).post(create_items).options(items_options),
        )
        .route(
            "/collections/{collection}/items/{id}",
            get(item)
                .put(replace_item)
                .patch(patch_item)
                .delete(delete_item)
                .options(item_options),
        )
}

/// An output CRS as OGC API – Features Part 2 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputCrs {
    pub(crate) uri: &'static str,
    /// Authority axis order is latitude first.
    pub(crate) lat_first: bool,
}

impl OutputCrs {
    pub(crate) const DEFAULT: OutputCrs = OutputCrs {
        uri: CRS84,
        lat_first: false,
    };

    pub(crate) fn parse(param: Option<&str>, name: &str) -> Result<Self, ApiError> {
        let Some(raw) = param else {
            return Ok(Self::DEFAULT);
        };
        let s = raw.trim().trim_start_matches('<').trim_end_matches('>');
        let upper = s.to_ascii_uppercase();
        let found = match upper.as_str() {
            u if u == CRS84.to_ascii_uppercase() || u == "CRS84" || u == "OGC:CRS84" => {
                Self::DEFAULT
            }
            u if u == EPSG_4326.to_ascii_uppercase() || u == "EPSG:4326" => OutputCrs {
                uri: EPSG_4326,
                lat_first: true,
            },
            u if u == EPSG_4490.to_ascii_uppercase() || u == "EPSG:4490" => OutputCrs {
                uri: EPSG_4490,
                lat_first: true,
            },
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "unsupported {name} {raw:?}: use {CRS84}, {EPSG_4326} or {EPSG_4490}"
                )));
            }
        };
        Ok(found)
    }

    fn content_crs(self) -> HeaderValue {
        HeaderValue::from_static(match self.uri {
            EPSG_4326 => "<http://www.opengis.net/def/crs/EPSG/0/4326>",
            EPSG_4490 => "<http://www.opengis.net/def/crs/EPSG/0/4490>",
            _ => "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>",
        })
    }

    /// CGCS2000 and WGS84 coincide at our precision (see `riskmap_spatial::crs`);
    /// only the axis order differs.
    pub(crate) fn geometry(self, g: &Geometry<f64>) -> Geometry<f64> {
        if self.lat_first {
            g.map_coords(|c| geo::coord! { x: c.y, y: c.x })
        } else {
            g.clone()
        }
    }
}

/// The base URL for links, from the request's Host (and proxy) headers.
pub(crate) fn base_url(headers: &HeaderMap) -> String {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let proto = get("x-forwarded-proto").unwrap_or("http");
    let host = get("x-forwarded-host")
        .or_else(|| get("host"))
        .unwrap_or("127.0.0.1:8080");
    format!("{proto}://{host}")
}

fn parse_collection(name: &str) -> Result<Collection, ApiError> {
    name.parse::<Collection>()
        .map_err(|e| ApiError::NotFound(e.to_string()))
}

/// The response formats of the OGC resources.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // read as text by `negotiate`; here for the OpenAPI document
pub(crate) enum DocFormat {
    /// JSON (the default unless `Accept` prefers HTML).
    Json,
    /// A plain HTML page.
    Html,
}

/// The query parameters of the landing page, conformance, collections,
/// one collection and its queryables.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the OpenAPI description of what `Params::of` accepts
pub(crate) struct DocQuery {
    /// The format: `json` or `html`; without it, the `Accept` header decides (406 when it allows neither).
    #[param(inline)]
    f: Option<DocFormat>,
}

/// The query parameters of `/`: the OGC landing page's `f`, and the web
/// map's own (a browser asking for HTML gets the web map).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the OpenAPI description of what `Params::of` accepts
pub(crate) struct LandingQuery {
    /// The format: `json` or `html`; without it, the `Accept` header decides (406 when it allows neither).
    #[param(inline)]
    f: Option<DocFormat>,
    /// The web map's language, `zh` (default) or `en`.
    lang: Option<String>,
    /// The web map opens the printable brief of this incident id (事故简报), or `draft` for the assessment in this tab.
    incident: Option<String>,
    /// The web map opens the printable file of this enterprise (一企一档).
    dossier: Option<String>,
}

/// Answers `doc` as JSON or as an HTML page, as the request asks.
fn doc_response(format: Format, title: &str, doc: Value) -> Response {
    match format {
        Format::Json => Json(doc).into_response(),
        Format::Html => crate::html::page(title, &doc),
    }
}

#[utoipa::path(get, path = "/", tag = "OGC API – Features", params(LandingQuery), responses((status = 200, description = "the landing page (browsers without f get the web map)", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 406, description = "neither f nor Accept names JSON or HTML", body = crate::openapi::Exception)))]
pub(crate) async fn landing(
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params::of::<LandingQuery>(pairs, "/")?;
    let base = base_url(&headers);
    if p.get("f").is_none() && negotiate(&headers, None)? == Format::Html {
        // Browsers get the web map; `?f=html` gets the plain landing page
        // and `?f=json` (or an Accept of JSON) the OGC landing document.
        return Ok(crate::web::index(&headers));
    }
    let format = negotiate(&headers, p.get("f"))?;
    let doc = json!({
        "title": "riskmap",
        "description": "安全风险四色图与外部安全防护距离服务 · work-safety risk map and external safety distance service",
        "links": [
            {"href": format!("{base}/?f=json"), "rel": if format == Format::Json { "self" } else { "alternate" }, "type": "application/json", "title": "this document"},
            {"href": format!("{base}/?f=html"), "rel": if format == Format::Html { "self" } else { "alternate" }, "type": "text/html", "title": "this document as HTML"},
            {"href": format!("{base}/api/openapi.json"), "rel": "service-desc", "type": "application/vnd.oai.openapi+json;version=3.1", "title": "OpenAPI 接口描述 the API definition"},
            {"href": format!("{base}/conformance"), "rel": "conformance", "type": "application/json", "title": "conformance classes"},
            {"href": format!("{base}/collections"), "rel": "data", "type": "application/json", "title": "collections"},
            {"href": format!("{base}/"), "rel": "alternate", "type": "text/html", "title": "风险地图 the web map"},
        ]
    });
    Ok(doc_response(format, "riskmap", doc))
}

fn readiness_json(r: &Readiness) -> Value {
    match r {
        Readiness::Loading { step, done } => {
            json!({"status": "loading", "step": step, "progress": (done * 1000.0).round() / 1000.0})
        }
        Readiness::Ready => json!({"status": "ready", "progress": 1.0}),
        Readiness::Failed(e) => json!({"status": "failed", "error": e}),
    }
}

/// `GET /health`: liveness. Always answers at once (no heavy work, no
/// lock): the feature counts and rules of the published world, or the
/// start-up progress while there is none yet.
#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, description = "liveness: counts, world version, date, start-up progress", body = crate::openapi::Document)))]
pub(crate) async fn health(State(state): State<AppState>) -> Json<Value> {
    let app = state.app();
    let mut body = json!({"status": "ok", "backend": app.store().backend(), "ready": readiness_json(&app.readiness())});
    body["rules"] = crate::rules::health(&state);
    if let Ok(world) = app.world() {
        let counts: serde_json::Map<String, Value> = Collection::ALL
            .into_iter()
            .map(|c| (c.as_str().to_string(), json!(world.catalog.len(c))))
            .collect();
        body["features"] = Value::Object(counts);
        body["version"] = json!(world.version());
        body["today"] = json!(world.today());
        // The change-log position taken in (own writes and other servers').
        body["changes_seen"] = json!(app.changes_seen());
        // Heavy reads whose client left before the answer (skipped or cut short).
        body["work_abandoned"] = json!(app.work_abandoned());
    } else {
        body["status"] = json!("starting");
    }
    Json(body)
}

/// `GET /ready`: readiness. 200 once every level is computed; 503 with the
/// progress while the world is still being built.
#[utoipa::path(get, path = "/ready", tag = "service", responses((status = 200, description = "every level is computed", body = crate::openapi::Document), (status = 503, description = "still building, with progress", body = crate::openapi::Document)))]
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    let r = state.app().readiness();
    let status = if r == Readiness::Ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut resp = (status, Json(readiness_json(&r))).into_response();
    if status != StatusCode::OK {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    resp
}

/// The conformance classes implemented, exactly.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/property-property",
    "http://www.opengis.net/spec/cql2/1.0/conf/arithmetic",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/optimistic-locking-etags",
];

#[utoipa::path(get, path = "/conformance", tag = "OGC API – Features", params(DocQuery), responses((status = 200, description = "the conformance classes implemented", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 406, description = "neither f nor Accept names JSON or HTML", body = crate::openapi::Exception)))]
pub(crate) async fn conformance(
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params::of::<DocQuery>(pairs, "/conformance")?;
    let format = negotiate(&headers, p.get("f"))?;
    Ok(doc_response(
        format,
        "符合性类 conformance",
        json!({"conformsTo": CONFORMANCE}),
    ))
}

/// The link relation of a collection's queryables (OGC API – Features Part 3).
pub const REL_QUERYABLES: &str = "http://www.opengis.net/def/rel/ogc/1.0/queryables";

fn collection_doc(world: &World, c: Collection, base: &str) -> Value {
    let extent = world.catalog.extent(c);
    let id = c.as_str();
    let mut doc = json!({
        "id": id,
        "title": format!("{} {}", c.title_zh(), c.title_en()),
        "itemType": "feature",
        "crs": [CRS84, EPSG_4326, EPSG_4490],
        "storageCrs": CRS84,
        "links": [
            {"href": format!("{base}/collections/{id}"), "rel": "self", "type": "application/json"},
            {"href": format!("{base}/collections/{id}?f=html"), "rel": "alternate", "type": "text/html"},
            {"href": format!("{base}/collections/{id}/items"), "rel": "items", "type": GEOJSON},
            {"href": format!("{base}/collections/{id}/items?f=html"), "rel": "items", "type": "text/html"},
            {"href": format!("{base}/collections/{id}/queryables"), "rel": REL_QUERYABLES, "type": "application/schema+json"},
            // The draft relation, which GDAL up to 3.6 follows.
            {"href": format!("{base}/collections/{id}/queryables"), "rel": "queryables", "type": "application/schema+json"},
            {"href": format!("{base}/collections/{id}/items?f=csv"), "rel": "enclosure", "type": "text/csv", "title": "CSV"},
            {"href": format!("{base}/collections/{id}/items?f=xlsx"), "rel": "enclosure", "type": crate::office::XLSX, "title": "Excel"},
        ]
    });
    if let Some(r) = extent {
        doc["extent"] = json!({"spatial": {"bbox": [[r.min().x, r.min().y, r.max().x, r.max().y]], "crs": CRS84}});
    }
    // The temporal extent: the first and last change times (RFC 3339 text
    // in UTC orders as time).
    let mut times = world.catalog.iter(c).filter_map(|f| f.updated.as_deref());
    let first = times.next();
    let (lo, hi) = times.fold((first, first), |(lo, hi), t| {
        (lo.min(Some(t)), hi.max(Some(t)))
    });
    doc["extent"]["temporal"] = json!({"interval": [[lo, hi]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"});
    doc["temporalProperty"] = json!(crate::filter::TEMPORAL_PROPERTY);
    doc
}

#[utoipa::path(get, path = "/collections", tag = "OGC API – Features", params(DocQuery), responses((status = 200, description = "every collection with its extent and links", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 406, description = "neither f nor Accept names JSON or HTML", body = crate::openapi::Exception)))]
pub(crate) async fn collections(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params::of::<DocQuery>(pairs, "/collections")?;
    let format = negotiate(&headers, p.get("f"))?;
    let base = base_url(&headers);
    let body = state
        .read(Work::Map, move |world| {
            let mut list: Vec<Value> = Collection::ALL
                .into_iter()
                .map(|c| collection_doc(world, c, &base))
                .collect();
            list.extend(
                Derived::all().map(|d| derived::doc(world, d, &base)),
            );
            json!({
                "links": [
                    {"href": format!("{base}/collections"), "rel": "self", "type": "application/json"},
                    {"href": format!("{base}/collections?f=html"), "rel": "alternate", "type": "text/html"},
                ],
                "crs": [CRS84, EPSG_4326, EPSG_4490],
                "collections": list,
            })
        })
        .await?;
    Ok(doc_response(format, "数据集 collections", body))
}

#[utoipa::path(get, path = "/collections/{collectionId}", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations"), DocQuery), responses((status = 200, description = "one collection", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such collection or feature", body = crate::openapi::Exception), (status = 406, description = "neither f nor Accept names JSON or HTML", body = crate::openapi::Exception)))]
pub(crate) async fn collection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params::of::<DocQuery>(pairs, "/collections/{collection}")?;
    let format = negotiate(&headers, p.get("f"))?;
    let base = base_url(&headers);
    let doc = if let Some(d) = Derived::parse(&name) {
        state
            .read(Work::Derived, move |w| derived::doc(w, d, &base))
            .await?
    } else {
        let c = parse_collection(&name)?;
        state
            .read(Work::Map, move |w| collection_doc(w, c, &base))
            .await?
    };
    let title = doc["title"].as_str().unwrap_or(&name).to_string();
    Ok(doc_response(format, &title, doc))
}

/// `GET /collections/{c}/queryables`: the JSON Schema of what a filter or
/// `sortby` may name.
#[utoipa::path(get, path = "/collections/{collectionId}/queryables", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations"), DocQuery), responses((status = 200, description = "a JSON Schema of the properties filters and sortby may name", content_type = "application/schema+json", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such collection or feature", body = crate::openapi::Exception), (status = 406, description = "neither f nor Accept names JSON or HTML", body = crate::openapi::Exception)))]
pub(crate) async fn queryables(
    Path(name): Path<String>,
    headers: HeaderMap,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let p = Params::of::<DocQuery>(pairs, "/collections/{collection}/queryables")?;
    let format = negotiate(&headers, p.get("f"))?;
    if Derived::parse(&name).is_some() {
        return Err(ApiError::NotFound(format!(
            "{name} is a derived collection: it has no queryables and takes no filter"
        )));
    }
    let c = parse_collection(&name)?;
    let doc = crate::filter::queryables_doc(c, &base_url(&headers));
    let title = format!("{} queryables", c.title_zh());
    let mut resp = doc_response(format, &title, doc);
    // `application/schema+json` when asked for by name (or nothing is
    // asked); plain JSON for clients that accept only that (GDAL).
    let schema_ok = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|a| a.contains("application/schema+json") || a.contains("*/*"));
    if format == Format::Json && schema_ok {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/schema+json"),
        );
    }
    Ok(resp)
}

/// The formats of `/items`.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)] // read as text; here for the OpenAPI document
pub(crate) enum ItemsFormat {
    /// GeoJSON (the default unless `Accept` prefers HTML).
    Json,
    /// A plain HTML table.
    Html,
    /// CSV, UTF-8 with a byte-order mark (Excel opens it in Chinese).
    Csv,
    /// An Excel workbook, levels coloured.
    Xlsx,
    /// Every selected feature as one GeoJSON file to download.
    Geojson,
    /// A GeoPackage.
    Gpkg,
    /// A zipped Shapefile (UTF-8 DBF, WGS 84 `.prj`).
    Shp,
}

/// The filter languages.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)] // read as text by `filter::Lang`; here for the OpenAPI document
pub(crate) enum FilterLangParam {
    /// CQL2 text (the default).
    Cql2Text,
    /// CQL2 JSON.
    Cql2Json,
    /// The name earlier drafts (and GDAL 3.6) gave CQL2 text.
    CqlText,
}

/// The query parameters of `/collections/{c}/items`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the OpenAPI description of what `Params::of` accepts
pub(crate) struct ItemsQuery {
    /// The format; without it, the `Accept` header decides.
    #[param(inline)]
    f: Option<ItemsFormat>,
    /// Only features meeting this box: `minx,miny,maxx,maxy` in `bbox-crs`.
    bbox: Option<String>,
    /// The CRS of `bbox`: CRS84 (default), EPSG:4326 or EPSG:4490 (latitude first).
    #[serde(rename = "bbox-crs")]
    bbox_crs: Option<String>,
    /// The CRS of the answer: CRS84 (default), EPSG:4326 or EPSG:4490 (latitude first).
    crs: Option<String>,
    /// Features per page, 1–10000 (default 10; larger values give 10000).
    #[param(minimum = 1)]
    limit: Option<u32>,
    /// Features to skip.
    offset: Option<u32>,
    /// An instant or interval (`a/b`, `../b`, `a/..`) on the last change time `updated`: a date is its whole UTC day, a date-time carries its offset.
    datetime: Option<String>,
    /// A CQL2 filter on the queryables (`/collections/{c}/queryables`), e.g. `risk_level = 'red' AND industry = '化工'`.
    filter: Option<String>,
    /// The language of `filter`.
    #[serde(rename = "filter-lang")]
    #[param(inline)]
    filter_lang: Option<FilterLangParam>,
    /// The CRS of geometries in `filter`: CRS84 (default), EPSG:4326 or EPSG:4490.
    #[serde(rename = "filter-crs")]
    filter_crs: Option<String>,
    /// Sort keys: queryables, each `+` (ascending, default) or `-` (descending), e.g. `-risk_score,+name`; then by id.
    sortby: Option<String>,
    /// Only these properties in each feature, comma-separated.
    properties: Option<String>,
    /// Only these feature ids, comma-separated.
    ids: Option<String>,
}

fn parse_usize(v: Option<&str>, name: &str, default: usize) -> Result<usize, ApiError> {
    match v {
        None => Ok(default),
        Some(s) => s.trim().parse::<usize>().map_err(|_| {
            ApiError::BadRequest(format!("{name} must be a non-negative integer, got {s:?}"))
        }),
    }
}

fn parse_bbox(raw: &str, crs: OutputCrs) -> Result<Rect<f64>, ApiError> {
    let nums: Result<Vec<f64>, _> = raw.split(',').map(|s| s.trim().parse::<f64>()).collect();
    let nums = nums.map_err(|_| {
        ApiError::BadRequest(format!(
            "bbox must be 4 comma-separated numbers, got {raw:?}"
        ))
    })?;
    let [a, b, c, d] = match nums.len() {
        4 => [nums[0], nums[1], nums[2], nums[3]],
        6 => [nums[0], nums[1], nums[3], nums[4]],
        _ => {
            return Err(ApiError::BadRequest(format!(
                "bbox must have 4 (or 6) numbers, got {}",
                nums.len()
            )));
        }
    };
    let (minx, miny, maxx, maxy) = if crs.lat_first {
        (b, a, d, c)
    } else {
        (a, b, c, d)
    };
    if nums.iter().any(|x| !x.is_finite()) || minx > maxx || miny > maxy {
        return Err(ApiError::BadRequest(format!(
            "bbox {raw:?} is not a box: expected minx,miny,maxx,maxy with min ≤ max"
        )));
    }
    Ok(Rect::new((minx, miny), (maxx, maxy)))
}

/// A feature as served: GeoJSON in `crs`, its properties with the derived
/// level (`served_properties`), only `keep` of them when given, and links
/// to itself (JSON and HTML) and its collection.
fn feature_json(
    f: &Feature,
    crs: OutputCrs,
    base: &str,
    mut properties: serde_json::Map<String, Value>,
    keep: Option<&[String]>,
) -> Value {
    let c = f.collection().as_str();
    if let Some(keep) = keep {
        properties.retain(|k, _| keep.iter().any(|p| p == k));
    }
    let href = format!("{base}/collections/{c}/items/{}", path_segment(&f.id));
    json!({
        "type": "Feature",
        "id": f.id,
        "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&crs.geometry(&f.geometry))),
        "properties": properties,
        "links": [
            {"href": href, "rel": "self", "type": GEOJSON},
            {"href": format!("{href}?f=html"), "rel": "alternate", "type": "text/html"},
            {"href": format!("{base}/collections/{c}"), "rel": "collection", "type": "application/json"},
        ],
    })
}

/// A feature's strong entity tag: a digest of what is served for it in
/// `crs` (geometry, properties with the derived level). A write with
/// `If-Match` lands only while it is current.
pub(crate) fn feature_etag(f: &Feature, world: &World, crs: OutputCrs) -> String {
    use sha2::Digest;
    let props = crate::filter::served_properties(world, f, false);
    let body = json!({
        "id": f.id,
        "crs": crs.uri,
        "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&crs.geometry(&f.geometry))),
        "properties": props,
    });
    let digest = sha2::Sha256::digest(body.to_string().as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether an `If-Match` / `If-None-Match` list names `etag` (weak
/// comparison: a `W/` prefix, as a proxy adds when it compresses, still
/// matches; `*` matches any).
pub(crate) fn etag_listed(header_value: &str, etag: &str) -> bool {
    header_value.split(',').map(str::trim).any(|t| {
        t == "*" || t.strip_prefix("W/").unwrap_or(t) == etag.strip_prefix("W/").unwrap_or(etag)
    })
}

pub(crate) fn geojson_response(body: Value, crs: OutputCrs) -> Response {
    let mut resp = Json(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    h.insert("content-crs", crs.content_crs());
    resp
}

/// Reads `bbox`, `ids`, `filter`, `filter-lang`, `filter-crs`, `sortby` and
/// `datetime` into a [`Selection`] of collection `c`.
fn selection(c: Collection, p: &Params, limited: bool) -> Result<Selection, ApiError> {
    let bbox_crs = OutputCrs::parse(p.get("bbox-crs"), "bbox-crs")?;
    let filter_crs = OutputCrs::parse(p.get("filter-crs"), "filter-crs")?;
    let lang = crate::filter::Lang::parse(p.get("filter-lang"))?;
    if p.get("filter").is_none()
        && (p.get("filter-lang").is_some() || p.get("filter-crs").is_some())
    {
        return Err(ApiError::BadRequest(
            "filter-lang and filter-crs apply to a filter, and no filter is given".into(),
        ));
    }
    Ok(Selection {
        bbox: p.get("bbox").map(|b| parse_bbox(b, bbox_crs)).transpose()?,
        ids: p.get("ids").map(crate::filter::parse_ids),
        filter: p
            .get("filter")
            .map(|f| crate::filter::Filter::parse(c, f, lang, filter_crs.lat_first))
            .transpose()?,
        sortby: p
            .get("sortby")
            .map(|s| crate::filter::parse_sortby(c, s))
            .transpose()?
            .unwrap_or_default(),
        datetime: p
            .get("datetime")
            .map(crate::filter::Datetime::parse)
            .transpose()?,
        limited,
    })
}

#[utoipa::path(get, path = "/collections/{collectionId}/items", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations"), ItemsQuery), responses((status = 200, description = "a page of features (GeoJSON FeatureCollection with numberMatched, numberReturned and next/prev links), or the file of f=csv|xlsx", content_type = "application/geo+json", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such collection or feature", body = crate::openapi::Exception), (status = 406, description = "neither f nor Accept names JSON or HTML", body = crate::openapi::Exception)))]
pub(crate) async fn items(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = Params::of::<ItemsQuery>(pairs, "/collections/{collection}/items")?;
    let crs = OutputCrs::parse(p.get("crs"), "crs")?;
    let derived = Derived::parse(&name);
    let stored = match derived {
        Some(_) => None,
        None => Some(parse_collection(&name)?),
    };
    let limited = state.limited(crate::auth::caller(&state, &headers).await?.as_ref());
    if let Some(table) = crate::office::Table::from_param(p.get("f")) {
        // A file: every matching feature unless `limit` is given.
        let limit = p
            .get("limit")
            .map(|l| parse_usize(Some(l), "limit", 0))
            .transpose()?;
        let account = crate::auth::caller(&state, &headers).await?;
        crate::auth::require_reader(
            &state,
            account.as_ref(),
            "this server exports files to logged-in users only (--public-read limited)",
        )?;
        let offset = parse_usize(p.get("offset"), "offset", 0)?;
        let Some(c) = stored else {
            return Err(ApiError::BadRequest(format!(
                "f=csv, xlsx, geojson, gpkg and shp export the stored collections; {name} is derived: use f=json"
            )));
        };
        let sel = selection(c, &p, limited)?;
        return crate::office::export_items(&state, c, table, sel, limit, offset).await;
    }
    let format = negotiate(&headers, p.get("f"))?;
    // OGC API – Features: at least 1; above the maximum, the maximum.
    let limit = parse_usize(p.get("limit"), "limit", DEFAULT_LIMIT)?;
    if limit == 0 {
        return Err(ApiError::BadRequest(format!(
            "limit: must be at least 1 (at most {MAX_LIMIT}; larger values give {MAX_LIMIT})"
        )));
    }
    let limit = limit.min(MAX_LIMIT);
    let offset = parse_usize(p.get("offset"), "offset", 0)?;
    let base = base_url(&headers);
    let page_base = base.clone();
    let (work, sel, keep) = match stored {
        Some(c) => (
            Work::Map,
            selection(c, &p, limited)?,
            p.get("properties")
                .map(|r| crate::filter::parse_properties(c, r))
                .transpose()?,
        ),
        None => {
            if let Some(k) = [
                "filter",
                "sortby",
                "ids",
                "properties",
                "datetime",
                "filter-lang",
                "filter-crs",
            ]
            .into_iter()
            .find(|k| p.get(k).is_some())
            {
                return Err(ApiError::BadRequest(format!(
                    "{k}: {name} is a derived collection, which takes bbox, crs, limit and offset only"
                )));
            }
            let bbox_crs = OutputCrs::parse(p.get("bbox-crs"), "bbox-crs")?;
            let bbox = p.get("bbox").map(|b| parse_bbox(b, bbox_crs)).transpose()?;
            (
                Work::Derived,
                Selection {
                    bbox,
                    ..Selection::default()
                },
                None,
            )
        }
    };
    let filter_text = sel.filter.as_ref().map(|f| f.text().to_string());
    let (collection_id, matched, features): (String, usize, Vec<Value>) = state
        .read(work, move |world| match (derived, stored) {
            (Some(d), _) => {
                let (matched, features) =
                    derived::items(world, d, sel.bbox, offset, limit, crs, &page_base);
                (d.as_str().to_string(), matched, features)
            }
            (None, Some(c)) => {
                let (matched, features) = stored_items(
                    world,
                    c,
                    &sel,
                    (offset, limit),
                    crs,
                    &page_base,
                    keep.as_deref(),
                );
                (c.as_str().to_string(), matched, features)
            }
            (None, None) => (String::new(), 0, Vec::new()),
        })
        .await?;
    if let Some(f) = &filter_text {
        tracing::info!(
            target: "riskmap::ogc",
            collection = %collection_id,
            filter = %f,
            matched,
            "filter applied on the server"
        );
    }
    let returned = features.len();
    let link = |off: usize, f: &str| {
        let mut qs = vec![format!("limit={limit}"), format!("offset={off}")];
        for k in crate::params::names_of::<ItemsQuery>() {
            if matches!(k.as_str(), "f" | "limit" | "offset") {
                continue;
            }
            if let Some(v) = p.get(&k) {
                qs.push(format!("{k}={}", query_value(v)));
            }
        }
        qs.push(format!("f={f}"));
        format!("{base}/collections/{collection_id}/items?{}", qs.join("&"))
    };
    let (this, other, other_type) = match format {
        Format::Json => ("json", "html", "text/html"),
        Format::Html => ("html", "json", GEOJSON),
    };
    let this_type = if format == Format::Json {
        GEOJSON
    } else {
        "text/html"
    };
    let mut links = vec![
        json!({"href": link(offset, this), "rel": "self", "type": this_type}),
        json!({"href": link(offset, other), "rel": "alternate", "type": other_type}),
        json!({"href": format!("{base}/collections/{collection_id}"), "rel": "collection", "type": "application/json"}),
    ];
    if offset + returned < matched {
        links
            .push(json!({"href": link(offset + returned, "json"), "rel": "next", "type": GEOJSON}));
    }
    if offset > 0 {
        links.push(
            json!({"href": link(offset.saturating_sub(limit), "json"), "rel": "prev", "type": GEOJSON}),
        );
    }
    let doc = json!({
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched,
        "numberReturned": returned,
        "timeStamp": jiff::Timestamp::now().to_string(),
        "links": links,
    });
    Ok(match format {
        Format::Json => geojson_response(doc, crs),
        Format::Html => crate::html::page(&collection_id, &doc),
    })
}

/// A query value as it goes back into a link.
fn query_value(v: &str) -> String {
    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn stored_items(
    world: &World,
    c: Collection,
    sel: &Selection,
    (offset, limit): (usize, usize),
    crs: OutputCrs,
    base: &str,
    keep: Option<&[String]>,
) -> (usize, Vec<Value>) {
    let (matched, page): (usize, Vec<Arc<Feature>>) = if sel.is_plain() && sel.bbox.is_none() {
        // No test per feature: take the page straight from the catalogue.
        let cat = &world.catalog;
        (
            cat.len(c),
            cat.iter(c).skip(offset).take(limit).cloned().collect(),
        )
    } else {
        let all = sel.select(world, c);
        (
            all.len(),
            all.into_iter().skip(offset).take(limit).collect(),
        )
    };
    let features = page
        .iter()
        .map(|f| {
            let props = crate::filter::served_properties(world, f, sel.limited);
            feature_json(f, crs, base, props, keep)
        })
        .collect();
    (matched, features)
}

/// The query parameters of one item.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the OpenAPI description of what `Params::of` accepts
pub(crate) struct ItemQuery {
    /// The format: `json` or `html`; without it, the `Accept` header decides.
    #[param(inline)]
    f: Option<DocFormat>,
    /// The CRS of the answer: CRS84 (default), EPSG:4326 or EPSG:4490 (latitude first).
    crs: Option<String>,
    /// Only these properties, comma-separated.
    properties: Option<String>,
}

#[utoipa::path(get, path = "/collections/{collectionId}/items/{featureId}", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations"), ("featureId" = String, Path, description = "a feature id"), ItemQuery), responses((status = 200, description = "one feature, with its ETag", content_type = "application/geo+json", body = crate::openapi::Document), (status = 304, description = "If-None-Match names the current ETag"), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such collection or feature", body = crate::openapi::Exception), (status = 406, description = "neither f nor Accept names JSON or HTML", body = crate::openapi::Exception)))]
pub(crate) async fn item(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = Params::of::<ItemQuery>(pairs, "/collections/{collection}/items/{featureId}")?;
    let crs = OutputCrs::parse(p.get("crs"), "crs")?;
    let format = negotiate(&headers, p.get("f"))?;
    let base = base_url(&headers);
    if let Some(d) = Derived::parse(&name) {
        if p.get("properties").is_some() {
            return Err(ApiError::BadRequest(format!(
                "properties: {name} is a derived collection, which takes crs and f only"
            )));
        }
        let resp = state
            .read(Work::Derived, move |w| derived::item(w, d, &id, crs, &base))
            .await??;
        return Ok(resp);
    }
    let c = parse_collection(&name)?;
    let keep = p
        .get("properties")
        .map(|r| crate::filter::parse_properties(c, r))
        .transpose()?;
    let limited = state.limited(crate::auth::caller(&state, &headers).await?.as_ref());
    let world = state.world()?;
    let f = world
        .catalog
        .get(c, &id)
        .ok_or_else(|| ApiError::NotFound(format!("no feature {id:?} in {c}")))?;
    let etag = feature_etag(f, &world, crs);
    let props = crate::filter::served_properties(&world, f, limited);
    let body = feature_json(f, crs, &base, props, keep.as_deref());
    let mut resp = if let Some(inm) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .filter(|v| etag_listed(v, &etag) && !limited && keep.is_none())
    {
        let _ = inm;
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        match format {
            Format::Json => geojson_response(body, crs),
            Format::Html => crate::html::page(&format!("{c} {id}"), &body),
        }
    };
    if !limited
        && keep.is_none()
        && let Ok(v) = HeaderValue::from_str(&etag)
    {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp.headers_mut().insert(
        header::VARY,
        HeaderValue::from_static("accept, authorization"),
    );
    Ok(resp)
}

/// An id as one URL path segment: percent-encoded except RFC 3986's
/// unreserved characters and `:@+` (so 企业-001 becomes
/// `%E4%BC%81%E4%B8%9A-001`, and a derived id's `#` becomes `%23`).
pub fn path_segment(id: &str) -> String {
    const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~')
        .remove(b':')
        .remove(b'@')
        .remove(b'+');
    percent_encoding::utf8_percent_encode(id, SEGMENT).to_string()
}

/// The input CRS of a write: `?crs=` or the `Content-Crs` header; CRS84 by
/// default. Besides the OGC URIs, `GCJ02` and `BD09` are accepted for data
/// from Chinese web maps (longitude first, as those maps write them).
/// EPSG:4326 and EPSG:4490 are read latitude first, their authority axis
/// order, the same as they are answered (OGC API – Features Part 2).
#[derive(Debug, Clone, Copy)]
pub(crate) struct InputCrs {
    pub(crate) crs: Crs,
    pub(crate) lat_first: bool,
}

fn input_crs(q: Option<&str>, headers: &HeaderMap) -> Result<InputCrs, ApiError> {
    let raw = q.map(str::to_string).or_else(|| {
        headers
            .get("content-crs")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let Some(raw) = raw else {
        return Ok(InputCrs {
            crs: Crs::Wgs84,
            lat_first: false,
        });
    };
    let trimmed = raw.trim().trim_start_matches('<').trim_end_matches('>');
    // The OGC names first, for their axis order.
    if let Ok(out) = OutputCrs::parse(Some(trimmed), "crs") {
        return Ok(InputCrs {
            crs: if out.uri == EPSG_4490 {
                Crs::Cgcs2000
            } else {
                Crs::Wgs84
            },
            lat_first: out.lat_first,
        });
    }
    let crs = trimmed
        .parse::<Crs>()
        .map_err(|e| ApiError::BadRequest(format!("crs: {e}")))?;
    Ok(InputCrs {
        crs,
        lat_first: false,
    })
}

/// Swaps the two axes of every position of a GeoJSON value in place: the
/// geometry of a feature or of each feature of a collection, and the
/// geometries of an enterprise's units.
pub(crate) fn swap_axes(value: &mut Value) {
    fn positions(v: &mut Value) {
        match v {
            Value::Array(items)
                if items.len() >= 2 && items.first().is_some_and(Value::is_number) =>
            {
                items.swap(0, 1);
            }
            Value::Array(items) if items.first().is_some_and(Value::is_number) => {}
            Value::Array(items) => items.iter_mut().for_each(positions),
            _ => {}
        }
    }
    fn geometry(g: &mut Value) {
        if let Some(c) = g.get_mut("coordinates") {
            positions(c);
        }
        if let Some(Value::Array(gs)) = g.get_mut("geometries") {
            gs.iter_mut().for_each(geometry);
        }
    }
    fn feature(f: &mut Value) {
        if let Some(g) = f.get_mut("geometry") {
            geometry(g);
        }
        if let Some(Value::Array(units)) = f.pointer_mut("/properties/units") {
            for u in units {
                if let Some(g) = u.get_mut("geometry") {
                    geometry(g);
                }
            }
        }
    }
    match value.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => {
            if let Some(Value::Array(fs)) = value.get_mut("features") {
                fs.iter_mut().for_each(feature);
            }
        }
        Some("Feature") => feature(value),
        _ => geometry(value),
    }
}

/// Refuses a body that is not GeoJSON by its `Content-Type` (none is taken
/// as JSON).
fn require_geojson(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(v) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = v
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence == "application/geo+json" {
        return Ok(());
    }
    let hint = if essence.contains("csv") {
        "; import CSV with `riskmap import`, or send the records as GeoJSON"
    } else {
        ""
    };
    Err(ApiError::UnsupportedMediaType(format!(
        "Content-Type {essence:?} is not accepted: send application/geo+json or application/json{hint}"
    )))
}

/// Reads the body once the request is authorised, up to
/// [`crate::MAX_BODY_BYTES`].
pub(crate) async fn body_bytes(body: Body) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, crate::MAX_BODY_BYTES)
        .await
        .map_err(|e| {
            let message = format!("cannot read the request body: {e}");
            let cause = e.into_inner();
            if cause.is::<http_body_util::LengthLimitError>() {
                ApiError::PayloadTooLarge
            } else if caused_by_timeout(&*cause) {
                ApiError::RequestTimeout(
                    "the request body stopped arriving or took too long; nothing was written"
                        .into(),
                )
            } else {
                ApiError::BadRequest(message)
            }
        })
}

/// Whether a body error comes from the read timeouts of [`crate::listen`].
fn caused_by_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(e) = cur {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cur = e.source();
    }
    false
}

fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    // A UTF-8 byte-order mark may be ignored (RFC 8259 8.1).
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))
}

/// The query parameters of writes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the OpenAPI description of what `Params::of` accepts
pub(crate) struct WriteQuery {
    /// The CRS of the body (else the `Content-Crs` header): CRS84 (default), EPSG:4326 or EPSG:4490 (latitude first, as answered), or GCJ02 (longitude first).
    crs: Option<String>,
}

#[utoipa::path(post, path = "/collections/{collectionId}/items", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations"), WriteQuery), request_body(description = "a GeoJSON Feature or FeatureCollection (or CSV, .xlsx): new ids only, all or nothing", content_type = "application/geo+json", content = crate::openapi::Document), responses((status = 201, description = "inserted; Location names a single new feature", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such collection or feature", body = crate::openapi::Exception), (status = 409, description = "an id exists already", body = crate::openapi::Exception), (status = 415, description = "not GeoJSON, CSV or xlsx", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn create_items(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let p = Params::of::<WriteQuery>(pairs, "POST /collections/{collection}/items")?;
    let by = crate::auth::authorize(&state, &headers).await?;
    let actor = by.account.name.clone();
    let c = parse_collection(&name)?;
    let input = input_crs(p.get("crs"), &headers)?;
    // GeoJSON, or a table (CSV, xlsx) validated the same way.
    let kind = crate::office::body_kind(&headers)?;
    let bytes = body_bytes(body).await?;
    let features = state
        .read(Work::Analysis, move |w| {
            let mut features = if kind == crate::office::Body::GeoJson {
                let mut value = parse_json(&bytes)?;
                if input.lat_first {
                    swap_axes(&mut value);
                }
                if c == Collection::HiddenDangers {
                    crate::dangers::fill_from_enterprises(&mut value, &w.catalog);
                }
                import::parse_geojson_value(c, &value, input.crs).map_err(ApiError::Invalid)?
            } else {
                crate::office::parse_table_body(c, kind, &bytes, input.crs, &w.catalog)
                    .map_err(ApiError::Invalid)?
            };
            import::check_references(c, &features, |rc, id| w.catalog.get(rc, id).is_some())
                .map_err(ApiError::Invalid)?;
            if c == Collection::HiddenDangers {
                crate::dangers::start_lifecycle(&mut features, &actor)?;
            }
            Ok::<_, ApiError>(features)
        })
        .await??;
    let ids: Vec<String> = features.iter().map(|f| f.id.clone()).collect();
    let summary = state.app().insert(c, features, &by).await?;
    let base = base_url(&headers);
    let mut resp = (
        StatusCode::CREATED,
        Json(json!({"inserted": summary.inserted, "replaced": summary.replaced, "ids": ids})),
    )
        .into_response();
    if let [id] = ids.as_slice()
        && let Ok(v) = HeaderValue::from_str(&format!(
            "{base}/collections/{}/items/{}",
            c.as_str(),
            path_segment(id)
        ))
    {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// The `If-Match` header of a write, if any.
fn if_match(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    headers
        .get(header::IF_MATCH)
        .map(|v| {
            v.to_str()
                .map(str::to_string)
                .map_err(|_| ApiError::BadRequest("If-Match: not a list of entity tags".into()))
        })
        .transpose()
}

/// Checks `If-Match` against the current feature's entity tags (in any
/// output CRS, since a client may have read it in EPSG:4490): 412 when
/// none is current.
fn check_if_match(
    expected: Option<&str>,
    current: &Feature,
    world: &World,
) -> Result<(), ApiError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let crs_list = [
        OutputCrs::DEFAULT,
        OutputCrs {
            uri: EPSG_4326,
            lat_first: true,
        },
        OutputCrs {
            uri: EPSG_4490,
            lat_first: true,
        },
    ];
    if crs_list
        .into_iter()
        .any(|crs| etag_listed(expected, &feature_etag(current, world, crs)))
    {
        Ok(())
    } else {
        Err(ApiError::PreconditionFailed(format!(
            "If-Match {expected}: feature {:?} of {} has changed since (now {}); nothing was written: read it again and reapply the change",
            current.id,
            current.collection(),
            feature_etag(current, world, OutputCrs::DEFAULT)
        )))
    }
}

/// Validates a whole GeoJSON feature for `PUT`/`PATCH` of `id` in `c`,
/// against the snapshot `w`.
fn validate_replacement(
    c: Collection,
    id: &str,
    mut value: Value,
    input: InputCrs,
    w: &World,
) -> Result<Feature, ApiError> {
    if input.lat_first {
        swap_axes(&mut value);
    }
    if c == Collection::HiddenDangers {
        crate::dangers::fill_from_enterprises(&mut value, &w.catalog);
    }
    let feature = import::validate_geojson_feature(c, &value, input.crs, Some(id))
        .map_err(ApiError::Invalid)?;
    import::check_references(c, std::slice::from_ref(&feature), |rc, id| {
        w.catalog.get(rc, id).is_some()
    })
    .map_err(ApiError::Invalid)?;
    Ok(feature)
}

/// `f` replacing `old`: a hidden danger keeps its stored status and
/// history (a transition that landed meanwhile is not lost).
fn with_lifecycle(mut f: Feature, old: &Feature, actor: &str) -> Result<Feature, ApiError> {
    if f.collection() == Collection::HiddenDangers {
        crate::dangers::keep_lifecycle(&mut f, Some(old), actor)
            .map_err(|e| ApiError::Conflict(e.to_string()))?;
    }
    Ok(f)
}

/// Replaces one stored feature by `make(current, world)` under the writer
/// lock, after `If-Match`; the answer is the new feature with its tag.
async fn modify_item(
    state: &AppState,
    c: Collection,
    id: &str,
    by: &riskmap_app::By,
    base: &str,
    make: impl FnOnce(&Feature, &World) -> Result<Feature, ApiError> + Send,
) -> Result<Response, ApiError> {
    let mut failure: Option<ApiError> = None;
    let taken = state
        .app()
        .modify(c, id, by, |old, world| {
            make(old, world).map_err(|e| {
                let m = e.to_string();
                failure = Some(e);
                riskmap_app::AppError::Conflict(m)
            })
        })
        .await;
    if let Some(e) = failure {
        return Err(e);
    }
    let (f, _) = taken?;
    let world = state.world()?;
    let mut resp = geojson_response(
        feature_json(
            &f,
            OutputCrs::DEFAULT,
            base,
            crate::filter::served_properties(&world, &f, false),
            None,
        ),
        OutputCrs::DEFAULT,
    );
    // The tag of what was written, as the world now serves it.
    if let Some(now) = world.catalog.get(c, id)
        && let Ok(v) = HeaderValue::from_str(&feature_etag(now, &world, OutputCrs::DEFAULT))
    {
        resp.headers_mut().insert(header::ETAG, v);
    }
    Ok(resp)
}

#[utoipa::path(put, path = "/collections/{collectionId}/items/{featureId}", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations"), ("featureId" = String, Path, description = "a feature id"), WriteQuery), request_body(description = "the whole GeoJSON Feature", content_type = "application/geo+json", content = crate::openapi::Document), responses((status = 200, description = "replaced", body = crate::openapi::Document), (status = 201, description = "created", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 412, description = "If-Match names a version that is no longer current; nothing was written", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn replace_item(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let p = Params::of::<WriteQuery>(pairs, "PUT /collections/{collection}/items/{featureId}")?;
    let by = crate::auth::authorize(&state, &headers).await?;
    let actor = by.account.name.clone();
    let c = parse_collection(&name)?;
    let input = input_crs(p.get("crs"), &headers)?;
    require_geojson(&headers)?;
    let expected = if_match(&headers)?;
    let bytes = body_bytes(body).await?;
    let id_for_read = id.clone();
    let mut feature = state
        .read(Work::Analysis, move |w| {
            validate_replacement(c, &id_for_read, parse_json(&bytes)?, input, w)
        })
        .await??;
    let base = base_url(&headers);
    if c == Collection::HiddenDangers || expected.is_some() {
        // Read under the writer lock: `If-Match` is judged on the version
        // replaced, and a danger's stored status and history are kept so
        // that a transition landing meanwhile is not lost.
        let f = feature.clone();
        let taken = modify_item(&state, c, &id, &by, &base, |old, world| {
            check_if_match(expected.as_deref(), old, world)?;
            with_lifecycle(f, old, &actor)
        })
        .await;
        match taken {
            Err(ApiError::NotFound(m)) if expected.is_some() => {
                return Err(ApiError::PreconditionFailed(format!(
                    "If-Match: {m}; nothing was written"
                )));
            }
            Err(ApiError::NotFound(_)) => {
                crate::dangers::keep_lifecycle(&mut feature, None, &actor)?;
            }
            other => return other,
        }
    }
    let out = feature_json(
        &feature,
        OutputCrs::DEFAULT,
        &base,
        feature.record.to_properties(),
        None,
    );
    let summary = state.app().upsert(c, vec![feature], &by).await?;
    let status = if summary.inserted > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Json(out)).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    Ok(resp)
}

/// RFC 7396 JSON merge patch: `patch` merged into `target`.
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

/// `PATCH /collections/{c}/items/{id}` (Part 4 update): a JSON merge patch
/// (RFC 7396) of the stored feature as GeoJSON — `properties` members to
/// set (`null` removes one), a new `geometry` in the request's CRS. The
/// patched feature is validated whole, like a `PUT`; with `If-Match` it
/// lands only on the version the client read (412 otherwise).
#[utoipa::path(patch, path = "/collections/{collectionId}/items/{featureId}", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations"), ("featureId" = String, Path, description = "a feature id"), WriteQuery), request_body(description = "a JSON merge patch (RFC 7396) of the GeoJSON feature: properties to set (null removes one) and/or a new geometry", content_type = "application/merge-patch+json", content = crate::openapi::Document), responses((status = 200, description = "patched; the answer is the feature with its new ETag", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such collection or feature", body = crate::openapi::Exception), (status = 412, description = "If-Match names a version that is no longer current; nothing was written", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn patch_item(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let p = Params::of::<WriteQuery>(pairs, "PATCH /collections/{collection}/items/{featureId}")?;
    let by = crate::auth::authorize(&state, &headers).await?;
    let actor = by.account.name.clone();
    let c = parse_collection(&name)?;
    let input = input_crs(p.get("crs"), &headers)?;
    if let Some(v) = headers.get(header::CONTENT_TYPE) {
        let essence = v
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(
            essence.as_str(),
            "application/merge-patch+json" | "application/json" | "application/geo+json"
        ) {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type {essence:?} is not accepted: send a JSON merge patch (application/merge-patch+json)"
            )));
        }
    }
    let expected = if_match(&headers)?;
    let patch = parse_json(&body_bytes(body).await?)?;
    if !patch.is_object() {
        return Err(ApiError::BadRequest(
            "the body is not a JSON merge patch object: send {\"properties\": {…}} and/or {\"geometry\": …}".into(),
        ));
    }
    if let Some(k) = patch.as_object().and_then(|o| {
        o.keys()
            .find(|k| !matches!(k.as_str(), "type" | "id" | "properties" | "geometry"))
    }) {
        return Err(ApiError::BadRequest(format!(
            "{k}: a patch may change properties and geometry only"
        )));
    }
    if let Some(new_id) = patch.get("id").filter(|v| v.as_str() != Some(id.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "id: a patch cannot change the id ({new_id} ≠ {id:?}); PUT or POST a new feature"
        )));
    }
    let base = base_url(&headers);
    let patch = Arc::new(patch);
    // The patch is applied and validated on a snapshot, off the async
    // workers and outside the writer lock; under the lock only `If-Match`
    // is judged and the feature checked to be the one patched. When
    // another write replaced it meanwhile, the patch is applied again to
    // the new version (a few times at most).
    for _ in 0..3 {
        let (patch, id_in, expected_in) = (patch.clone(), id.clone(), expected.clone());
        let (base_version, f) = state
            .read(Work::Analysis, move |w| {
                let old =
                    w.catalog.get(c, &id_in).cloned().ok_or_else(|| {
                        ApiError::NotFound(format!("no feature {id_in:?} in {c}"))
                    })?;
                check_if_match(expected_in.as_deref(), &old, w)?;
                let f = patched(c, &old, &patch, input, w)?;
                Ok::<_, ApiError>((old, f))
            })
            .await??;
        let mut stale = false;
        let actor = actor.clone();
        let expected = expected.clone();
        let taken = modify_item(&state, c, &id, &by, &base, |old, world| {
            check_if_match(expected.as_deref(), old, world)?;
            if !std::ptr::eq(old, &*base_version) {
                stale = true;
                return Err(ApiError::Conflict(format!(
                    "{c}/{id}: changed while the patch was applied"
                )));
            }
            with_lifecycle(f, old, &actor)
        })
        .await;
        if !stale {
            return taken;
        }
    }
    Err(ApiError::Conflict(format!(
        "{c}/{id} changed three times while the patch was applied; nothing was written: send it again"
    )))
}

/// `patch` (a JSON merge patch of the GeoJSON feature, geometry in the
/// request's CRS) applied to `old` and validated whole, like a `PUT`.
fn patched(
    c: Collection,
    old: &Feature,
    patch: &Value,
    input: InputCrs,
    world: &World,
) -> Result<Feature, ApiError> {
    // The stored feature as GeoJSON in the request's CRS, patched, then
    // read back like a PUT body.
    let mut current = json!({
        "type": "Feature",
        "id": old.id,
        "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&old.geometry)),
        "properties": old.record.to_properties(),
    });
    if input.crs != Crs::Wgs84 && input.crs != Crs::Cgcs2000 {
        let g = old.geometry.map_coords(|c| {
            let (x, y) = input.crs.from_wgs84(c.x, c.y);
            geo::coord! { x: x, y: y }
        });
        current["geometry"] = json!(geojson::Geometry::new(geojson::GeometryValue::from(&g)));
    }
    if input.lat_first {
        // Back to the request's axis order; `validate_replacement` swaps again.
        swap_axes(&mut current);
    }
    merge_patch(&mut current, patch);
    validate_replacement(c, &old.id, current, input, world)
}

/// `OPTIONS` on items: the methods allowed.
#[utoipa::path(options, path = "/collections/{collectionId}/items", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations")), responses((status = 204, description = "Allow names the methods"), (status = 404, description = "no such collection or feature", body = crate::openapi::Exception)))]
pub(crate) async fn items_options(Path(name): Path<String>) -> Result<Response, ApiError> {
    let allow = if Derived::parse(&name).is_some() {
        "GET, HEAD, OPTIONS"
    } else {
        parse_collection(&name)?;
        "GET, HEAD, POST, OPTIONS"
    };
    Ok(allow_response(allow))
}

/// `OPTIONS` on one item: the methods allowed.
#[utoipa::path(options, path = "/collections/{collectionId}/items/{featureId}", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations"), ("featureId" = String, Path, description = "a feature id")), responses((status = 204, description = "Allow names the methods"), (status = 404, description = "no such collection or feature", body = crate::openapi::Exception)))]
pub(crate) async fn item_options(
    Path((name, _id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let allow = if Derived::parse(&name).is_some() {
        "GET, HEAD, OPTIONS"
    } else {
        parse_collection(&name)?;
        "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"
    };
    Ok(allow_response(allow))
}

fn allow_response(allow: &'static str) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    if allow.contains("PATCH") {
        resp.headers_mut().insert(
            "accept-patch",
            HeaderValue::from_static("application/merge-patch+json"),
        );
    }
    resp
}

#[utoipa::path(delete, path = "/collections/{collectionId}/items/{featureId}", tag = "OGC API – Features", params(("collectionId" = String, Path, description = "a collection: enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters, or derived risk_grid, pipeline_segments, safety_zones, violations"), ("featureId" = String, Path, description = "a feature id")), responses((status = 204, description = "deleted"), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such collection or feature", body = crate::openapi::Exception), (status = 409, description = "other records still name it", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn delete_item(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    Params::new(
        pairs,
        "DELETE /collections/{collection}/items/{featureId}",
        &[],
    )?;
    let by = crate::auth::authorize(&state, &headers).await?;
    let c = parse_collection(&name)?;
    state.app().delete(c, &id, &by).await?;
    Ok(StatusCode::NO_CONTENT)
}

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
use riskmap_core::scoring::Assessment;
use riskmap_core::{Collection, Feature};
use riskmap_spatial::Crs;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::derived::{self, Derived};
use crate::error::ApiError;
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
        .route(
            "/collections/{collection}/items",
            get(items).post(create_items),
        )
        .route(
            "/collections/{collection}/items/{id}",
            get(item).put(replace_item).delete(delete_item),
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
    const DEFAULT: OutputCrs = OutputCrs {
        uri: CRS84,
        lat_first: false,
    };

    fn parse(param: Option<&str>, name: &str) -> Result<Self, ApiError> {
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

fn wants_html(headers: &HeaderMap, f: Option<&str>) -> bool {
    match f {
        Some(f) => f.eq_ignore_ascii_case("html"),
        None => headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html")),
    }
}

#[derive(Debug, Deserialize)]
struct FormatParam {
    f: Option<String>,
}

async fn landing(headers: HeaderMap, Query(q): Query<FormatParam>) -> Response {
    let base = base_url(&headers);
    if wants_html(&headers, q.f.as_deref()) {
        // Browsers get the web map; `?f=json` or an Accept of JSON gets the
        // OGC landing document below.
        return crate::web::index(&headers);
    }
    Json(json!({
        "title": "riskmap",
        "description": "安全风险四色图与外部安全防护距离服务 · work-safety risk map and external safety distance service",
        "links": [
            {"href": format!("{base}/?f=json"), "rel": "self", "type": "application/json", "title": "this document"},
            {"href": format!("{base}/?f=html"), "rel": "alternate", "type": "text/html", "title": "this document as HTML"},
            {"href": format!("{base}/conformance"), "rel": "conformance", "type": "application/json", "title": "conformance classes"},
            {"href": format!("{base}/collections"), "rel": "data", "type": "application/json", "title": "collections"},
        ]
    }))
    .into_response()
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
async fn health(State(state): State<AppState>) -> Json<Value> {
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
async fn ready(State(state): State<AppState>) -> Response {
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

async fn conformance() -> Json<Value> {
    Json(json!({"conformsTo": [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    ]}))
}

fn collection_doc(world: &World, c: Collection, base: &str) -> Value {
    let extent = world.catalog.extent(c);
    let mut doc = json!({
        "id": c.as_str(),
        "title": format!("{} {}", c.title_zh(), c.title_en()),
        "itemType": "feature",
        "crs": [CRS84, EPSG_4326, EPSG_4490],
        "storageCrs": CRS84,
        "links": [
            {"href": format!("{base}/collections/{}", c.as_str()), "rel": "self", "type": "application/json"},
            {"href": format!("{base}/collections/{}/items", c.as_str()), "rel": "items", "type": GEOJSON},
        ]
    });
    if let Some(r) = extent {
        doc["extent"] = json!({"spatial": {"bbox": [[r.min().x, r.min().y, r.max().x, r.max().y]], "crs": CRS84}});
    }
    doc
}

async fn collections(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
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
                "links": [{"href": format!("{base}/collections"), "rel": "self", "type": "application/json"}],
                "crs": [CRS84, EPSG_4326, EPSG_4490],
                "collections": list,
            })
        })
        .await?;
    Ok(Json(body))
}

async fn collection(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    if let Some(d) = Derived::parse(&name) {
        return Ok(Json(
            state
                .read(Work::Derived, move |w| derived::doc(w, d, &base))
                .await?,
        ));
    }
    let c = parse_collection(&name)?;
    Ok(Json(collection_doc(&*state.world()?, c, &base)))
}

/// Query parameters of `/items`.
#[derive(Debug, Deserialize)]
struct ItemsQuery {
    bbox: Option<String>,
    #[serde(rename = "bbox-crs")]
    bbox_crs: Option<String>,
    crs: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    /// `csv` or `xlsx`: the list as a file (`crate::office`); else GeoJSON.
    f: Option<String>,
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

fn feature_json(
    f: &Feature,
    crs: OutputCrs,
    base: &str,
    risk: Option<&Assessment>,
    limited: bool,
) -> Value {
    let c = f.collection().as_str();
    let mut properties = f.record.to_properties();
    if limited {
        riskmap_core::access::redact_public(&mut properties);
    }
    if let Some(a) = risk {
        properties.insert("risk_level".into(), json!(a.risk_level));
        properties.insert("risk_score".into(), json!(a.score));
        properties.insert("risk_model".into(), json!(a.model.id));
    }
    json!({
        "type": "Feature",
        "id": f.id,
        "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&crs.geometry(&f.geometry))),
        "properties": properties,
        "links": [{"href": format!("{base}/collections/{c}/items/{}", path_segment(&f.id)), "rel": "self", "type": GEOJSON}],
    })
}

pub(crate) fn geojson_response(body: Value, crs: OutputCrs) -> Response {
    let mut resp = Json(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    h.insert("content-crs", crs.content_crs());
    resp
}

async fn items(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<ItemsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let crs = OutputCrs::parse(q.crs.as_deref(), "crs")?;
    let bbox_crs = OutputCrs::parse(q.bbox_crs.as_deref(), "bbox-crs")?;
    if let Some(table) = crate::office::Table::from_param(q.f.as_deref()) {
        // A file: every matching feature unless `limit` is given.
        let limit = q
            .limit
            .as_deref()
            .map(|l| parse_usize(Some(l), "limit", 0))
            .transpose()?;
        let account = crate::auth::caller(&state, &headers).await?;
        crate::auth::require_reader(
            &state,
            account.as_ref(),
            "this server exports files to logged-in users only (--public-read limited)",
        )?;
        let offset = parse_usize(q.offset.as_deref(), "offset", 0)?;
        let bbox = q
            .bbox
            .as_deref()
            .map(|b| parse_bbox(b, bbox_crs))
            .transpose()?;
        return crate::office::export_items(&state, &name, table, bbox, limit, offset).await;
    }
    // OGC API – Features: at least 1; above the maximum, the maximum.
    let limit = parse_usize(q.limit.as_deref(), "limit", DEFAULT_LIMIT)?;
    if limit == 0 {
        return Err(ApiError::BadRequest(format!(
            "limit: must be at least 1 (at most {MAX_LIMIT}; larger values give {MAX_LIMIT})"
        )));
    }
    let limit = limit.min(MAX_LIMIT);
    let offset = parse_usize(q.offset.as_deref(), "offset", 0)?;
    let bbox = q
        .bbox
        .as_deref()
        .map(|b| parse_bbox(b, bbox_crs))
        .transpose()?;
    let base = base_url(&headers);
    let limited = state.limited(crate::auth::caller(&state, &headers).await?.as_ref());
    let derived = Derived::parse(&name);
    let stored = match derived {
        Some(_) => None,
        None => Some(parse_collection(&name)?),
    };
    let page_base = base.clone();
    let work = if derived.is_some() {
        Work::Derived
    } else {
        Work::Map
    };
    let (collection_id, matched, features): (String, usize, Vec<Value>) = state
        .read(work, move |world| match (derived, stored) {
            (Some(d), _) => {
                let (matched, features) =
                    derived::items(world, d, bbox, offset, limit, crs, &page_base);
                (d.as_str().to_string(), matched, features)
            }
            (None, Some(c)) => {
                let (matched, features) =
                    stored_items(world, c, bbox, (offset, limit), crs, &page_base, limited);
                (c.as_str().to_string(), matched, features)
            }
            (None, None) => (String::new(), 0, Vec::new()),
        })
        .await?;
    let returned = features.len();
    let link = |off: usize| {
        let mut qs = vec![format!("limit={limit}"), format!("offset={off}")];
        if let Some(b) = &q.bbox {
            qs.push(format!("bbox={b}"));
        }
        if let Some(bc) = &q.bbox_crs {
            qs.push(format!("bbox-crs={bc}"));
        }
        if let Some(cr) = &q.crs {
            qs.push(format!("crs={cr}"));
        }
        format!("{base}/collections/{collection_id}/items?{}", qs.join("&"))
    };
    let mut links = vec![
        json!({"href": link(offset), "rel": "self", "type": GEOJSON}),
        json!({"href": format!("{base}/collections/{collection_id}"), "rel": "collection", "type": "application/json"}),
    ];
    if offset + returned < matched {
        links.push(json!({"href": link(offset + returned), "rel": "next", "type": GEOJSON}));
    }
    if offset > 0 {
        links.push(
            json!({"href": link(offset.saturating_sub(limit)), "rel": "prev", "type": GEOJSON}),
        );
    }
    Ok(geojson_response(
        json!({
            "type": "FeatureCollection",
            "features": features,
            "numberMatched": matched,
            "numberReturned": returned,
            "links": links,
        }),
        crs,
    ))
}

fn stored_items(
    world: &World,
    c: Collection,
    bbox: Option<Rect<f64>>,
    (offset, limit): (usize, usize),
    crs: OutputCrs,
    base: &str,
    limited: bool,
) -> (usize, Vec<Value>) {
    let (matched, page): (usize, Vec<Arc<Feature>>) = {
        let cat = &world.catalog;
        match bbox {
            Some(b) => {
                let all = cat.query_bbox(c, b);
                (
                    all.len(),
                    all.into_iter().skip(offset).take(limit).collect(),
                )
            }
            None => (
                cat.len(c),
                cat.iter(c).skip(offset).take(limit).cloned().collect(),
            ),
        }
    };
    let risk = &world.risk;
    let features = page
        .iter()
        .map(|f| feature_json(f, crs, base, risk.assessment(c, &f.id), limited))
        .collect();
    (matched, features)
}

#[derive(Debug, Deserialize)]
struct CrsParam {
    crs: Option<String>,
}

async fn item(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(q): Query<CrsParam>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let crs = OutputCrs::parse(q.crs.as_deref(), "crs")?;
    let base = base_url(&headers);
    if let Some(d) = Derived::parse(&name) {
        return state
            .read(Work::Derived, move |w| derived::item(w, d, &id, crs, &base))
            .await?;
    }
    let c = parse_collection(&name)?;
    let limited = state.limited(crate::auth::caller(&state, &headers).await?.as_ref());
    let world = state.world()?;
    let f = world
        .catalog
        .get(c, &id)
        .ok_or_else(|| ApiError::NotFound(format!("no feature {id:?} in {c}")))?;
    let body = feature_json(f, crs, &base, world.risk.assessment(c, &id), limited);
    Ok(geojson_response(body, crs))
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

/// The input CRS of a write: `?crs=` or the `Content-Crs` header; CRS84 by default.
/// Besides the OGC URIs, `GCJ02` is accepted for data from Chinese web maps.
fn input_crs(q: &CrsParam, headers: &HeaderMap) -> Result<Crs, ApiError> {
    let raw = q.crs.clone().or_else(|| {
        headers
            .get("content-crs")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    });
    let Some(raw) = raw else {
        return Ok(Crs::Wgs84);
    };
    let trimmed = raw.trim().trim_start_matches('<').trim_end_matches('>');
    trimmed
        .parse::<Crs>()
        .map_err(|e| ApiError::BadRequest(e.to_string()))
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

async fn create_items(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<CrsParam>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let by = crate::auth::authorize(&state, &headers).await?;
    let actor = by.account.name.clone();
    let c = parse_collection(&name)?;
    let crs = input_crs(&q, &headers)?;
    // GeoJSON, or a table (CSV, xlsx) validated the same way.
    let kind = crate::office::body_kind(&headers)?;
    let bytes = body_bytes(body).await?;
    let features = state
        .read(Work::Analysis, move |w| {
            let mut features = if kind == crate::office::Body::GeoJson {
                let mut value = parse_json(&bytes)?;
                if c == Collection::HiddenDangers {
                    crate::dangers::fill_from_enterprises(&mut value, &w.catalog);
                }
                import::parse_geojson_value(c, &value, crs).map_err(ApiError::Invalid)?
            } else {
                crate::office::parse_table_body(c, kind, &bytes, crs, &w.catalog)
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

async fn replace_item(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(q): Query<CrsParam>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let by = crate::auth::authorize(&state, &headers).await?;
    let actor = by.account.name.clone();
    let c = parse_collection(&name)?;
    let crs = input_crs(&q, &headers)?;
    require_geojson(&headers)?;
    let bytes = body_bytes(body).await?;
    let id_for_read = id.clone();
    let mut feature = state
        .read(Work::Analysis, move |w| {
            let mut value = parse_json(&bytes)?;
            if c == Collection::HiddenDangers {
                crate::dangers::fill_from_enterprises(&mut value, &w.catalog);
            }
            let feature = import::validate_geojson_feature(c, &value, crs, Some(&id_for_read))
                .map_err(ApiError::Invalid)?;
            import::check_references(c, std::slice::from_ref(&feature), |rc, id| {
                w.catalog.get(rc, id).is_some()
            })
            .map_err(ApiError::Invalid)?;
            Ok::<_, ApiError>(feature)
        })
        .await??;
    let base = base_url(&headers);
    if c == Collection::HiddenDangers {
        // The stored status and history are kept, read under the writer
        // lock so that a transition landing meanwhile is not lost.
        let taken = state
            .app()
            .modify(c, &id, &by, |old, _| {
                let mut f = feature.clone();
                crate::dangers::keep_lifecycle(&mut f, Some(old), &actor)
                    .map_err(|e| riskmap_app::AppError::Conflict(e.to_string()))?;
                Ok(f)
            })
            .await;
        match taken {
            Ok((f, _)) => {
                let mut resp = (
                    StatusCode::OK,
                    Json(feature_json(&f, OutputCrs::DEFAULT, &base, None, false)),
                )
                    .into_response();
                resp.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
                return Ok(resp);
            }
            Err(riskmap_app::AppError::NotFound(_)) => {
                crate::dangers::keep_lifecycle(&mut feature, None, &actor)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    let out = feature_json(&feature, OutputCrs::DEFAULT, &base, None, false);
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

async fn delete_item(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let by = crate::auth::authorize(&state, &headers).await?;
    let c = parse_collection(&name)?;
    state.app().delete(c, &id, &by).await?;
    Ok(StatusCode::NO_CONTENT)
}

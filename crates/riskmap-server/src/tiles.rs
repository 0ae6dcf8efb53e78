//! Vector tiles: `GET /tiles/{tileset}.json` (TileJSON 3.0.0),
//! `GET /tiles/{tileset}/{z}/{x}/{y}.mvt` and `GET /style.json`.
//!
//! Tiles are built in process from the catalogue and the risk engine (no
//! database round trip), cached in an LRU keyed by tileset and z/x/y, served
//! with an `ETag` (and `304 Not Modified`), and purged after each edit where
//! their bounds meet anything the edit changed.

use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use geo::{BoundingRect, Geometry, Intersects, Rect};
use riskmap_core::engine::RiskState;
use riskmap_core::scoring::RiskLevel;
use riskmap_core::{Catalog, Collection, Record};
use riskmap_tiles::{PropValue, TileCoord, TileFeature, TileOptions, build_layer, encode_tile};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::ogc::base_url;
use crate::state::AppState;

/// Highest zoom served.
pub const MAX_ZOOM: u8 = 16;

/// The tilesets, named like the collections.
pub const TILESETS: [&str; 6] = [
    "districts",
    "risk_grid",
    "parks",
    "pipelines",
    "protection_targets",
    "enterprises",
];

const MVT: &str = "application/vnd.mapbox-vector-tile";

/// The `/tiles` and `/style.json` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tiles/{tileset}", get(tilejson))
        .route("/tiles/{tileset}/{z}/{x}/{file}", get(tile))
        .route("/style.json", get(style))
}

/// Risk rank for the tile pipeline: 0 none, 1 blue … 4 red.
fn rank(level: Option<RiskLevel>) -> u8 {
    level.map_or(0, |l| l.index() as u8 + 1)
}

fn s(v: impl Into<String>) -> PropValue {
    PropValue::String(v.into())
}

/// Features of a tileset meeting `bbox`, ready for the tile pipeline.
pub fn tile_features(
    cat: &Catalog,
    risk: &RiskState,
    tileset: &str,
    bbox: Rect<f64>,
) -> Option<Vec<TileFeature>> {
    let level_props = |l: Option<RiskLevel>| -> Vec<(String, PropValue)> {
        l.map(|l| vec![("risk_level".to_string(), s(l.as_str()))])
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    match tileset {
        "enterprises" | "parks" | "protection_targets" | "districts" => {
            let c: Collection = tileset.parse().ok()?;
            for f in cat.query_bbox(c, bbox) {
                let level = risk.level(c, &f.id);
                let mut props = vec![("id".to_string(), s(f.id.clone()))];
                if let Some(n) = f.record.name() {
                    props.push(("name".into(), s(n)));
                }
                props.extend(level_props(level));
                match &f.record {
                    Record::Enterprise(e) => {
                        if let Some(a) = risk.assessment(c, &f.id).and_then(|a| a.score) {
                            props.push(("score".into(), PropValue::Double(a)));
                        }
                        if let Some(i) = &e.industry {
                            props.push(("industry".into(), s(i.clone())));
                        }
                        if let Some(p) = &e.park_id {
                            props.push(("park_id".into(), s(p.clone())));
                        }
                        if let Some(d) = &e.district_code {
                            props.push(("district_code".into(), s(d.clone())));
                        }
                        if let Some(g) = risk
                            .enterprises
                            .get(&f.id)
                            .and_then(|r| r.major_hazards.iter().filter_map(|h| h.grade).min())
                        {
                            props.push(("major_hazard_grade".into(), PropValue::Int(i64::from(g))));
                        }
                    }
                    Record::ProtectionTarget(t) => {
                        props.push((
                            "category".into(),
                            s(serde_json::to_value(t.category).ok()?.as_str()?.to_string()),
                        ));
                        if let Some(p) = t.population {
                            props.push(("population".into(), PropValue::Int(i64::from(p))));
                        }
                    }
                    Record::Park(p) => {
                        props.push((
                            "kind".into(),
                            s(serde_json::to_value(p.kind).ok()?.as_str()?.to_string()),
                        ));
                    }
                    Record::District(d) => props.push(("code".into(), s(d.code.clone()))),
                    Record::Pipeline(_) => {}
                }
                out.push(TileFeature {
                    id: f.id.clone(),
                    geometry: f.geometry.clone(),
                    rank: rank(level),
                    properties: props,
                });
            }
        }
        "pipelines" => {
            for f in cat.query_bbox(Collection::Pipelines, bbox) {
                let Record::Pipeline(p) = &f.record else {
                    continue;
                };
                let Some(r) = risk.pipelines.get(&f.id) else {
                    continue;
                };
                for seg in &r.segments {
                    let g = Geometry::LineString(seg.geometry.clone());
                    if !g.intersects(&bbox) {
                        continue;
                    }
                    let level = Some(seg.assessment.risk_level);
                    let mut props = vec![
                        ("id".to_string(), s(format!("{}#{}", f.id, seg.index))),
                        ("pipeline_id".into(), s(f.id.clone())),
                        ("name".into(), s(p.name.clone())),
                        ("segment".into(), PropValue::Int(seg.index as i64)),
                        (
                            "kind".into(),
                            s(serde_json::to_value(p.kind).ok()?.as_str()?.to_string()),
                        ),
                        ("diameter_mm".into(), PropValue::Double(p.diameter_mm)),
                        ("maop_mpa".into(), PropValue::Double(p.maop_mpa)),
                    ];
                    props.extend(level_props(level));
                    out.push(TileFeature {
                        id: format!("{}#{}", f.id, seg.index),
                        geometry: g,
                        rank: rank(level),
                        properties: props,
                    });
                }
            }
        }
        "risk_grid" => {
            for c in risk.cells() {
                let g = Geometry::Polygon(c.geometry.clone());
                if !g.bounding_rect().is_some_and(|r| r.intersects(&bbox)) || !g.intersects(&bbox) {
                    continue;
                }
                let mut props = vec![("id".to_string(), s(c.id.clone()))];
                props.extend(level_props(Some(c.risk_level)));
                props.push(("count_red".into(), PropValue::Int(i64::from(c.counts[3]))));
                props.push((
                    "count_orange".into(),
                    PropValue::Int(i64::from(c.counts[2])),
                ));
                props.push((
                    "count_yellow".into(),
                    PropValue::Int(i64::from(c.counts[1])),
                ));
                props.push(("count_blue".into(), PropValue::Int(i64::from(c.counts[0]))));
                props.push(("weighted_level".into(), s(c.weighted_level.as_str())));
                out.push(TileFeature {
                    id: c.id.clone(),
                    geometry: g,
                    rank: rank(Some(c.risk_level)),
                    properties: props,
                });
            }
        }
        _ => return None,
    }
    Some(out)
}

/// Builds one tile of one tileset.
pub fn render(
    cat: &Catalog,
    risk: &RiskState,
    tileset: &str,
    t: TileCoord,
    opts: &TileOptions,
) -> Result<Vec<u8>, ApiError> {
    let bbox = t.buffered_bounds_lonlat(opts.extent, opts.buffer);
    let features = tile_features(cat, risk, tileset, bbox)
        .ok_or_else(|| ApiError::NotFound(format!("no tileset {tileset:?}")))?;
    let refs: Vec<&TileFeature> = features.iter().collect();
    let layer =
        build_layer(tileset, &refs, t, opts).map_err(|e| ApiError::Internal(e.to_string()))?;
    encode_tile(&[layer]).map_err(|e| ApiError::Internal(e.to_string()))
}

/// A cached tile.
#[derive(Debug, Clone)]
pub struct CachedTile {
    /// MVT bytes (uncompressed; compression is negotiated per response).
    pub bytes: Arc<Vec<u8>>,
    /// Strong validator.
    pub etag: String,
    /// Buffered bounds, for invalidation.
    pub bounds: Rect<f64>,
}

/// The tile cache: an LRU keyed by tileset and z/x/y.
pub struct TileCache {
    lru: lru::LruCache<(String, TileCoord), CachedTile>,
}

impl TileCache {
    /// A cache of `capacity` tiles.
    pub fn new(capacity: usize) -> Self {
        Self {
            lru: lru::LruCache::new(
                NonZeroUsize::new(capacity.max(1)).unwrap_or(NonZeroUsize::MIN),
            ),
        }
    }

    /// A cached tile.
    pub fn get(&mut self, tileset: &str, t: TileCoord) -> Option<CachedTile> {
        self.lru.get(&(tileset.to_string(), t)).cloned()
    }

    /// Stores a tile.
    pub fn put(&mut self, tileset: &str, t: TileCoord, tile: CachedTile) {
        self.lru.put((tileset.to_string(), t), tile);
    }

    /// Drops every cached tile whose buffered bounds meet one of `boxes`;
    /// returns how many.
    pub fn purge(&mut self, boxes: &[Rect<f64>]) -> usize {
        let stale: Vec<(String, TileCoord)> = self
            .lru
            .iter()
            .filter(|(_, v)| boxes.iter().any(|b| b.intersects(&v.bounds)))
            .map(|(k, _)| k.clone())
            .collect();
        for k in &stale {
            self.lru.pop(k);
        }
        stale.len()
    }

    /// Number of cached tiles.
    pub fn len(&self) -> usize {
        self.lru.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.lru.is_empty()
    }
}

fn etag_of(bytes: &[u8]) -> String {
    let mut h = std::hash::DefaultHasher::new();
    bytes.hash(&mut h);
    format!("\"{:016x}-{}\"", h.finish(), bytes.len())
}

fn parse_tile(z: &str, x: &str, file: &str) -> Result<TileCoord, ApiError> {
    let y = file
        .strip_suffix(".mvt")
        .or_else(|| file.strip_suffix(".pbf"))
        .ok_or_else(|| ApiError::NotFound(format!("tile {file:?}: expected {{y}}.mvt")))?;
    let bad = || ApiError::BadRequest(format!("invalid tile {z}/{x}/{y}"));
    let (z, x, y) = (
        z.parse::<u8>().map_err(|_| bad())?,
        x.parse::<u32>().map_err(|_| bad())?,
        y.parse::<u32>().map_err(|_| bad())?,
    );
    if z > MAX_ZOOM {
        return Err(ApiError::NotFound(format!(
            "zoom {z} is above the maximum {MAX_ZOOM}"
        )));
    }
    TileCoord::new(z, x, y).map_err(|e| ApiError::BadRequest(e.to_string()))
}

async fn tile(
    State(state): State<AppState>,
    Path((tileset, z, x, file)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !TILESETS.contains(&tileset.as_str()) {
        return Err(ApiError::NotFound(format!(
            "no tileset {tileset:?}; tilesets: {}",
            TILESETS.join(", ")
        )));
    }
    let t = parse_tile(&z, &x, &file)?;
    let cached = state.tile_cache().get(&tileset, t);
    let tile = match cached {
        Some(c) => c,
        None => {
            let opts = TileOptions::default();
            let bytes = {
                let cat = state.catalog();
                let risk = state.risk();
                render(&cat, &risk, &tileset, t, &opts)?
            };
            let tile = CachedTile {
                etag: etag_of(&bytes),
                bytes: Arc::new(bytes),
                bounds: t.buffered_bounds_lonlat(opts.extent, opts.buffer),
            };
            state.tile_cache().put(&tileset, t, tile.clone());
            tile
        }
    };
    let etag = HeaderValue::from_str(&tile.etag).map_err(|e| ApiError::Internal(e.to_string()))?;
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == tile.etag || t.trim() == "*")
        });
    let mut resp = if not_modified {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (StatusCode::OK, tile.bytes.as_ref().clone()).into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
    h.insert(header::ETAG, etag);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(resp)
}

fn fields(tileset: &str) -> Value {
    match tileset {
        "enterprises" => {
            json!({"id": "String", "name": "String", "risk_level": "String", "score": "Number", "industry": "String", "park_id": "String", "district_code": "String", "major_hazard_grade": "Number", "count": "Number", "count_red": "Number", "count_orange": "Number", "count_yellow": "Number", "count_blue": "Number", "aggregated": "Boolean"})
        }
        "parks" => {
            json!({"id": "String", "name": "String", "risk_level": "String", "kind": "String"})
        }
        "pipelines" => {
            json!({"id": "String", "pipeline_id": "String", "name": "String", "segment": "Number", "kind": "String", "diameter_mm": "Number", "maop_mpa": "Number", "risk_level": "String"})
        }
        "protection_targets" => {
            json!({"id": "String", "name": "String", "category": "String", "population": "Number"})
        }
        "districts" => {
            json!({"id": "String", "name": "String", "code": "String", "risk_level": "String"})
        }
        _ => {
            json!({"id": "String", "risk_level": "String", "count_red": "Number", "count_orange": "Number", "count_yellow": "Number", "count_blue": "Number", "weighted_level": "String"})
        }
    }
}

fn bounds_of(state: &AppState, tileset: &str) -> [f64; 4] {
    let cat = state.catalog();
    let r = match tileset.parse::<Collection>() {
        Ok(c) => cat.extent(c),
        Err(_) => [
            Collection::Enterprises,
            Collection::Parks,
            Collection::Pipelines,
        ]
        .into_iter()
        .filter_map(|c| cat.extent(c))
        .reduce(|a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        }),
    };
    r.map_or([-180.0, -85.0511, 180.0, 85.0511], |r| {
        [r.min().x, r.min().y, r.max().x, r.max().y]
    })
}

/// TileJSON 3.0.0 for one tileset.
pub fn tilejson_doc(state: &AppState, tileset: &str, base: &str) -> Value {
    let b = bounds_of(state, tileset);
    json!({
        "tilejson": "3.0.0",
        "name": tileset,
        "description": format!("riskmap {tileset} (四色安全风险图)"),
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{tileset}/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": b,
        "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, 10],
        "vector_layers": [{"id": tileset, "fields": fields(tileset), "minzoom": 0, "maxzoom": MAX_ZOOM}],
        "attribution": "© OpenStreetMap contributors (ODbL); sample enterprises, parks and pipelines",
    })
}

async fn tilejson(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let tileset = file
        .strip_suffix(".json")
        .filter(|t| TILESETS.contains(t))
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no tileset {file:?}; tilesets: {}",
                TILESETS.join(", ")
            ))
        })?;
    Ok(Json(tilejson_doc(&state, tileset, &base_url(&headers))))
}

/// The MapLibre expression that maps `risk_level` to the one palette.
pub fn level_colour_expression() -> Value {
    let mut e = vec![json!("match"), json!(["get", "risk_level"])];
    for l in [
        RiskLevel::Red,
        RiskLevel::Orange,
        RiskLevel::Yellow,
        RiskLevel::Blue,
    ] {
        e.push(json!(l.as_str()));
        e.push(json!(l.colour_hex()));
    }
    e.push(json!("#9E9E9E"));
    Value::Array(e)
}

/// Severity for sort keys: red drawn above blue.
fn rank_expression() -> Value {
    json!([
        "match",
        ["get", "risk_level"],
        "red",
        4,
        "orange",
        3,
        "yellow",
        2,
        "blue",
        1,
        0
    ])
}

/// `GET /style.json`: a MapLibre style drawing every tileset in the four colours.
async fn style(State(state): State<AppState>, headers: HeaderMap) -> Json<Value> {
    let base = base_url(&headers);
    let colour = level_colour_expression();
    let sources: serde_json::Map<String, Value> = TILESETS
        .iter()
        .map(|t| {
            (
                t.to_string(),
                json!({"type": "vector", "url": format!("{base}/tiles/{t}.json")}),
            )
        })
        .collect();
    let b = bounds_of(&state, "risk_grid");
    Json(json!({
        "version": 8,
        "name": "riskmap 四色安全风险图",
        "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0],
        "zoom": 10,
        "sources": sources,
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": "#F4F6F8"}},
            {"id": "districts-fill", "type": "fill", "source": "districts", "source-layer": "districts",
             "paint": {"fill-color": colour.clone(), "fill-opacity": 0.08}},
            {"id": "risk-grid", "type": "fill", "source": "risk_grid", "source-layer": "risk_grid",
             "paint": {"fill-color": colour.clone(), "fill-opacity": 0.45}},
            {"id": "districts-line", "type": "line", "source": "districts", "source-layer": "districts",
             "paint": {"line-color": "#455A64", "line-width": 1.2}},
            {"id": "parks", "type": "fill", "source": "parks", "source-layer": "parks",
             "paint": {"fill-color": colour.clone(), "fill-opacity": 0.25, "fill-outline-color": "#263238"}},
            {"id": "protection-targets", "type": "circle", "source": "protection_targets", "source-layer": "protection_targets",
             "filter": ["==", ["geometry-type"], "Point"],
             "paint": {"circle-color": "#6A1B9A", "circle-radius": 3, "circle-stroke-color": "#FFFFFF", "circle-stroke-width": 1}},
            {"id": "protection-target-areas", "type": "fill", "source": "protection_targets", "source-layer": "protection_targets",
             "filter": ["!=", ["geometry-type"], "Point"],
             "paint": {"fill-color": "#B39DDB", "fill-opacity": 0.35}},
            {"id": "pipelines", "type": "line", "source": "pipelines", "source-layer": "pipelines",
             "layout": {"line-sort-key": rank_expression(), "line-cap": "round"},
             "paint": {"line-color": colour.clone(), "line-width": 3}},
            {"id": "enterprise-sites", "type": "fill", "source": "enterprises", "source-layer": "enterprises",
             "filter": ["!=", ["geometry-type"], "Point"],
             "layout": {"fill-sort-key": rank_expression()},
             "paint": {"fill-color": colour.clone(), "fill-opacity": 0.85, "fill-outline-color": "#212121"}},
            {"id": "enterprises", "type": "circle", "source": "enterprises", "source-layer": "enterprises",
             "filter": ["==", ["geometry-type"], "Point"],
             "layout": {"circle-sort-key": rank_expression()},
             "paint": {"circle-color": colour, "circle-radius": ["case", ["has", "count"], 9, 6],
                       "circle-stroke-color": "#212121", "circle-stroke-width": 1}},
        ]
    }))
}

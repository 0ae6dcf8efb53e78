//! Vector tiles over HTTP: `GET /tiles/{tileset}.json` (TileJSON 3.0.0),
//! `GET /tiles/{tileset}/{z}/{x}/{y}.mvt` and `GET /style.json`.
//!
//! Tiles are rendered by [`riskmap_world::tiles`] from one snapshot of the
//! world, off the async workers, cached by the application layer (an LRU
//! purged by every change where it meets anything the change touched) and
//! served with an `ETag` (and `304 Not Modified`).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use geo::Rect;
use riskmap_app::{Work, World};
use riskmap_core::Collection;
use riskmap_core::scoring::RiskLevel;
use riskmap_tiles::{TileCoord, TileOptions};
pub use riskmap_world::layers::{exported_tilesets, tileset_names, tilesets};
pub use riskmap_world::tiles::{
    CachedTile, MAX_ZOOM, RenderError, TileIndex, TilesetSource, TilesetSpec, render,
    render_safety, tile_features, tileset_spec,
};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::ogc::base_url;
use crate::params::Params;
use crate::state::AppState;

impl From<RenderError> for ApiError {
    fn from(e: RenderError) -> Self {
        match e {
            RenderError::UnknownTileset(t) => ApiError::NotFound(format!("no tileset {t:?}")),
            RenderError::Encode(m) => ApiError::Internal(m),
        }
    }
}

const MVT: &str = "application/vnd.mapbox-vector-tile";

/// The `/tiles` and `/style.json` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tiles/{tileset}", get(tilejson))
        .route("/tiles/{tileset}/{z}/{x}/{file}", get(tile))
        .route("/style.json", get(style))
}

/// Builds one tile of one tileset: from the [`TileIndex`] when it holds the
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

/// The query parameters of a tile.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the OpenAPI description of what `Params::of` accepts
pub(crate) struct TileQuery {
    /// A version to bypass browser caches (the web map sets it after a write).
    v: Option<String>,
    /// A CQL2 filter on the queryables of the tileset's collection (stored collections only); filtered tiles are drawn from the catalogue and not cached.
    filter: Option<String>,
    /// `cql2-text` (default) or `cql2-json`.
    #[serde(rename = "filter-lang")]
    filter_lang: Option<String>,
    /// The CRS of geometries in `filter`.
    #[serde(rename = "filter-crs")]
    filter_crs: Option<String>,
}

#[utoipa::path(
    get,
    path = "/tiles/{tileset}/{z}/{x}/{y}.mvt",
    tag = "tiles",
    params(
        ("tileset" = String, Path, description = "a tileset, named like the collections (see /style.json)"),
        ("z" = u8, Path, description = "zoom 0–22"),
        ("x" = u32, Path, description = "column"),
        ("y" = u32, Path, description = "row"),
        TileQuery
    ),
    responses(
        (status = 200, description = "a Mapbox vector tile with its ETag", content_type = "application/vnd.mapbox-vector-tile"),
        (status = 304, description = "If-None-Match names the current ETag (weak tags match)"),
        (status = 400, description = "a bad tile address or filter; the answer names it", body = crate::openapi::Exception),
        (status = 404, description = "no such tileset or zoom", body = crate::openapi::Exception),
    )
)]
pub(crate) async fn tile(
    State(state): State<AppState>,
    Path((tileset, z, x, file)): Path<(String, String, String, String)>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let p = Params::of::<TileQuery>(pairs, "/tiles/{tileset}/{z}/{x}/{y}.mvt")?;
    let basemap = tileset == crate::basemap::BASEMAP_TILESET;
    let spec = tileset_spec(&tileset);
    let work = match spec {
        Some(spec) => work_of(spec),
        None if basemap => Work::Map,
        None => {
            return Err(ApiError::NotFound(format!(
                "no tileset {tileset:?}; tilesets: {}, {}",
                tileset_names(),
                crate::basemap::BASEMAP_TILESET
            )));
        }
    };
    let t = parse_tile(&z, &x, &file)?;
    let app = state.app();
    if let Some(raw) = p.get("filter") {
        let Some(TilesetSource::Collection(c)) = spec.map(|s| s.source) else {
            return Err(ApiError::BadRequest(format!(
                "filter: tileset {tileset} is derived; filters apply to the tilesets of stored collections"
            )));
        };
        let lang = crate::filter::Lang::parse(p.get("filter-lang"))?;
        let crs = crate::ogc::OutputCrs::parse(p.get("filter-crs"), "filter-crs")?;
        let filter = crate::filter::Filter::parse(c, raw, lang, crs.lat_first)?;
        let limited = state.limited(crate::auth::caller(&state, &headers).await?.as_ref());
        let name = tileset.clone();
        let bytes = state
            .read(work, move |w| -> Result<_, ApiError> {
                let keep = |f: &riskmap_core::Feature| {
                    let props = crate::filter::served_properties(w, f, limited);
                    filter.matches(&f.id, &f.geometry, &props)
                };
                riskmap_world::tiles::render_where(
                    &w.catalog,
                    &w.risk,
                    &name,
                    t,
                    &TileOptions::default(),
                    &keep,
                )
                .unwrap_or_else(|| Err(RenderError::UnknownTileset(name.clone())))
                .map_err(ApiError::from)
            })
            .await??;
        tracing::info!(target: "riskmap::tiles", tileset = %tileset, filter = raw, "filter applied on the server");
        let mut resp = (StatusCode::OK, bytes).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        return Ok(resp);
    }
    let tile = match app.cached_tile(&tileset, t) {
        Some(c) => c,
        None => {
            let name = tileset.clone();
            let (tile, version) = state
                .read(work, move |w| -> Result<_, ApiError> {
                    let opts = TileOptions::default();
                    // The basemap is static: drawn from the embedded data,
                    // never from the world, so cached at once.
                    let bytes = if basemap {
                        crate::basemap::render_tile(t, &opts)?
                    } else {
                        w.render_tile(&name, t, &opts)?
                    };
                    Ok((
                        CachedTile::new(bytes, t, &opts),
                        (basemap || w.is_scored()).then_some(w.version()),
                    ))
                })
                .await??;
            // Refused by the cache if a newer world purged this place
            // meanwhile; never cached while levels are pending (start-up).
            if let Some(version) = version {
                app.cache_tile(&tileset, t, tile.clone(), version);
            }
            tile
        }
    };
    let etag = HeaderValue::from_str(&tile.etag).map_err(|e| ApiError::Internal(e.to_string()))?;
    let not_modified = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| crate::ogc::etag_listed(v, &tile.etag));
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

fn fields(spec: &TilesetSpec) -> Value {
    Value::Object(
        spec.fields
            .iter()
            .map(|(k, v)| ((*k).to_string(), json!(v)))
            .collect(),
    )
}

fn bounds_of(world: &World, spec: &TilesetSpec) -> [f64; 4] {
    let cat = &world.catalog;
    let union = |a: Rect<f64>, b: Rect<f64>| {
        Rect::new(
            (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
            (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
        )
    };
    let r = match spec.source {
        TilesetSource::Collection(c) => cat.extent(c),
        TilesetSource::PipelineSegments => cat.extent(Collection::Pipelines),
        TilesetSource::RiskGrid => [
            Collection::Enterprises,
            Collection::Parks,
            Collection::Pipelines,
        ]
        .into_iter()
        .filter_map(|c| cat.extent(c))
        .reduce(union),
        TilesetSource::SafetyZones | TilesetSource::Violations => {
            world.safety.zones_bbox_all().into_iter().reduce(union)
        }
    };
    r.map_or([-180.0, -85.0511, 180.0, 85.0511], |r| {
        [r.min().x, r.min().y, r.max().x, r.max().y]
    })
}

/// TileJSON 3.0.0 for one tileset.
pub fn tilejson_doc(world: &World, spec: &TilesetSpec, base: &str) -> Value {
    let b = bounds_of(world, spec);
    let name = spec.name;
    let (description, zoom, attribution) = if spec.source.is_safety() {
        (
            format!("riskmap {name} (外部安全防护距离)"),
            12,
            "riskmap GB/T 37243-2019 / GB 36894-2018",
        )
    } else {
        (
            format!("riskmap {name} (四色安全风险图)"),
            10,
            "© OpenStreetMap contributors (ODbL); sample enterprises, parks and pipelines",
        )
    };
    json!({
        "tilejson": "3.0.0",
        "name": name,
        "description": description,
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{name}/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": b,
        "center": [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0, zoom],
        "vector_layers": [{"id": name, "fields": fields(spec), "minzoom": 0, "maxzoom": MAX_ZOOM}],
        "attribution": attribution,
    })
}

#[utoipa::path(get, path = "/tiles/{tileset}.json", tag = "tiles", params(("tileset" = String, Path, description = "a tileset, named like the collections (see /style.json)")), responses((status = 200, description = "the TileJSON 3.0 of the tileset", body = crate::openapi::Document), (status = 404, description = "no such tileset", body = crate::openapi::Exception)))]
pub(crate) async fn tilejson(
    State(state): State<AppState>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    if file == format!("{}.json", crate::basemap::BASEMAP_TILESET) {
        // The embedded basemap is decoded on first use: off the async workers.
        let doc = state
            .read(Work::Map, move |_| crate::basemap::tilejson_doc(&base))
            .await??;
        return Ok(Json(doc));
    }
    let spec = file
        .strip_suffix(".json")
        .and_then(tileset_spec)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no tileset {file:?}; tilesets: {}",
                tileset_names()
            ))
        })?;
    let doc = state
        .read(work_of(spec), move |w| tilejson_doc(w, spec, &base))
        .await?;
    Ok(Json(doc))
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
#[utoipa::path(get, path = "/style.json", tag = "tiles", responses((status = 200, description = "a MapLibre style drawing every tileset in the four colours", body = crate::openapi::Document)))]
pub(crate) async fn style(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let base = base_url(&headers);
    let colour = level_colour_expression();
    let raster = state.basemap_raster();
    let sources: serde_json::Map<String, Value> = crate::basemap::style_sources(&base, raster)
        .into_iter()
        .chain(exported_tilesets().map(|t| {
            (
                t.name.to_string(),
                json!({"type": "vector", "url": format!("{base}/tiles/{}.json", t.name)}),
            )
        }))
        .collect();
    let font = state.glyphs().family();
    let grid =
        tileset_spec("risk_grid").ok_or_else(|| ApiError::Internal("no risk_grid".into()))?;
    let b = bounds_of(&*state.world()?, grid);
    let mut style = json!({
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
            // 应急资源: green shelters, blue depots, teams by kind; never in
            // the four risk colours.
            {"id": "shelter-areas", "type": "fill", "source": "shelters", "source-layer": "shelters",
             "filter": ["!=", ["geometry-type"], "Point"],
             "paint": {"fill-color": "#2E7D32", "fill-opacity": 0.3, "fill-outline-color": "#1B5E20"}},
            {"id": "shelters", "type": "circle", "source": "shelters", "source-layer": "shelters",
             "filter": ["==", ["geometry-type"], "Point"],
             "paint": {"circle-color": "#2E7D32", "circle-radius": 5, "circle-stroke-color": "#FFFFFF", "circle-stroke-width": 1}},
            {"id": "supply-depots", "type": "circle", "source": "supply_depots", "source-layer": "supply_depots",
             "paint": {"circle-color": "#1565C0", "circle-radius": 6, "circle-stroke-color": "#FFFFFF", "circle-stroke-width": 1.5}},
            {"id": "rescue-teams", "type": "circle", "source": "rescue_teams", "source-layer": "rescue_teams",
             "paint": {"circle-color": ["match", ["get", "kind"], "fire", "#C62828", "hazmat", "#F9A825", "medical", "#00897B", "#5D4037"],
                       "circle-radius": 6, "circle-stroke-color": "#000000", "circle-stroke-width": 2}},
        ]
    });
    // The basemap under the risk layers; its labels (and enterprise names)
    // above them, only when there is a font to draw them with.
    if let Some(layers) = style["layers"].as_array_mut() {
        let below = crate::basemap::style_layers_below(raster);
        layers.splice(1..1, below);
        if let Some(font) = font {
            layers.extend(crate::basemap::style_label_layers(font));
        }
    }
    if font.is_some() {
        style["glyphs"] = json!(format!("{base}/fonts/{{fontstack}}/{{range}}.pbf"));
    }
    Ok(Json(style))
}

/// The work a tileset is: the stored collections draw at once (with no
/// level until scoring is done); derived tilesets (grid, segments, zones,
/// violations) wait for every level.
fn work_of(spec: &TilesetSpec) -> Work {
    if spec.source.needs_levels() {
        Work::Derived
    } else {
        Work::Map
    }
}

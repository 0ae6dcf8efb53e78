//! The basemap (底图) over HTTP: the `basemap` tileset's TileJSON and tiles
//! (drawn by [`riskmap_world::basemap`] from the embedded OpenStreetMap
//! data), the label glyphs `GET /fonts/{fontstack}/{start}-{end}.pbf`
//! (signed distance fields rendered from a CJK font by
//! [`riskmap_tiles::glyphs`], lazily per range on the blocking pool, then
//! kept), the style's basemap sources and layers, and the optional external
//! raster basemap (`--basemap-raster`, e.g. 天地图), the only thing that can
//! make a browser ask another host — and only when configured.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use riskmap_app::Work;
use riskmap_tiles::glyphs::{GlyphFont, RANGE_SIZE};
pub use riskmap_world::basemap::{
    BASEMAP_ATTRIBUTION, BASEMAP_FIELDS, BASEMAP_LAYERS, BASEMAP_TILESET, Basemap,
};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// Where `serve` looks for a CJK font when `--glyph-font` is not given
/// (Debian `fonts-wqy-zenhei`, `fonts-wqy-microhei`, `fonts-noto-cjk`), with
/// the face of the collection to use (Noto: the Simplified Chinese face).
pub const DEFAULT_GLYPH_FONTS: [(&str, u32); 4] = [
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
];

/// The glyph ranges of one font, rendered on first request and kept.
pub struct Glyphs {
    font: Option<LoadedFont>,
    ranges: Vec<tokio::sync::OnceCell<Arc<Vec<u8>>>>,
}

struct LoadedFont {
    data: Arc<Vec<u8>>,
    index: u32,
    family: String,
}

impl std::fmt::Debug for Glyphs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Glyphs")
            .field("family", &self.family())
            .finish_non_exhaustive()
    }
}

impl Glyphs {
    /// Glyphs drawn from face `index` of the font file `data`.
    ///
    /// # Errors
    /// The font does not parse, or it has no Chinese characters (中).
    pub fn from_font(data: Vec<u8>, index: u32) -> Result<Self, String> {
        let font = GlyphFont::new(&data, index).map_err(|e| e.to_string())?;
        if !font.has_char('中') {
            return Err("the font has no Chinese characters (no glyph for 中)".into());
        }
        let family = font.family().unwrap_or_else(|| "riskmap".into());
        Ok(Self {
            font: Some(LoadedFont {
                data: Arc::new(data),
                index,
                family,
            }),
            ranges: empty_ranges(),
        })
    }

    /// No font: `/fonts` answers 404 and the style has no labels.
    pub fn none() -> Self {
        Self {
            font: None,
            ranges: empty_ranges(),
        }
    }

    /// The font's family name, the style's `text-font`; `None` without a font.
    pub fn family(&self) -> Option<&str> {
        self.font.as_ref().map(|f| f.family.as_str())
    }
}

fn empty_ranges() -> Vec<tokio::sync::OnceCell<Arc<Vec<u8>>>> {
    (0..0x10000 / RANGE_SIZE)
        .map(|_| tokio::sync::OnceCell::new())
        .collect()
}

/// An external raster basemap (`--basemap-raster`): an XYZ or WMTS (KVP)
/// URL template with `{z}`, `{x}` and `{y}` (or `{quadkey}` or
/// `{bbox-epsg-3857}`); a `{a-c}` or `{0-7}` part is expanded into one URL
/// per letter or digit (MapLibre spreads tiles over them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RasterBasemap {
    /// The URL templates.
    pub tiles: Vec<String>,
    /// Their origins (`https://t0.tianditu.gov.cn`), which the
    /// Content-Security-Policy then allows for images and fetches.
    pub origins: Vec<String>,
    /// The attribution the map shows.
    pub attribution: String,
}

impl RasterBasemap {
    /// Reads a template and its attribution.
    ///
    /// # Errors
    /// A message naming what is wrong with the template.
    pub fn parse(template: &str, attribution: Option<&str>) -> Result<Self, String> {
        let template = template.trim();
        if !(template.starts_with("https://") || template.starts_with("http://")) {
            return Err(format!(
                "--basemap-raster {template:?}: expected an http:// or https:// URL template"
            ));
        }
        let has = |p: &str| template.contains(p);
        if !((has("{z}") && has("{x}") && has("{y}"))
            || has("{quadkey}")
            || has("{bbox-epsg-3857}"))
        {
            return Err(format!(
                "--basemap-raster {template:?}: expected {{z}}, {{x}} and {{y}} (or {{quadkey}} or {{bbox-epsg-3857}}) in the template"
            ));
        }
        if template
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | ';' | ','))
        {
            return Err(format!(
                "--basemap-raster {template:?}: spaces, quotes, ';' and ',' are not allowed in the template"
            ));
        }
        let tiles = expand_range(template);
        let mut origins = Vec::new();
        for t in &tiles {
            let (scheme, rest) = t.split_once("://").unwrap_or(("https", t));
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            if host.is_empty()
                || !host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
            {
                return Err(format!(
                    "--basemap-raster {template:?}: the host {host:?} is not a plain host name"
                ));
            }
            let origin = format!("{scheme}://{host}");
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Self {
            tiles,
            origins,
            attribution: attribution.unwrap_or("").trim().to_string(),
        })
    }
}

/// `https://t{0-2}.x/{z}` → `https://t0.x/{z}`, `…t1…`, `…t2…`.
fn expand_range(template: &str) -> Vec<String> {
    let bytes = template.as_bytes();
    for i in 0..bytes.len().saturating_sub(4) {
        if let [b'{', a, b'-', b, b'}'] = bytes[i..i + 5]
            && a.is_ascii_alphanumeric()
            && b.is_ascii_alphanumeric()
            && a <= b
        {
            return (a..=b)
                .map(|c| format!("{}{}{}", &template[..i], char::from(c), &template[i + 5..]))
                .collect();
        }
    }
    vec![template.to_string()]
}

/// The Content-Security-Policy: only the server's own resources, plus
/// images and fetches from `origins` (the configured raster basemap).
pub fn content_security_policy(origins: &[String]) -> String {
    let extra: String = origins.iter().map(|o| format!(" {o}")).collect();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob:{extra}; worker-src 'self' blob:; child-src blob:; \
         connect-src 'self'{extra}; font-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'self'"
    )
}

/// The `/fonts` route.
pub fn routes() -> Router<AppState> {
    Router::new().route("/fonts/{fontstack}/{file}", get(glyph_range))
}

/// `GET /fonts/{fontstack}/{start}-{end}.pbf`: SDF glyphs of one range.
#[utoipa::path(get, path = "/fonts/{fontstack}/{range}.pbf", tag = "tiles", params(("fontstack" = String, Path, description = "a font stack named in /style.json"), ("range" = String, Path, description = "a 256-glyph range `{start}-{end}`, start a multiple of 256")), responses((status = 200, description = "the glyph range as a MapLibre glyph PBF (SDF, from the CJK font)", content_type = "application/x-protobuf"), (status = 404, description = "no such range, or no glyph font configured", body = crate::openapi::Exception), (status = 503, description = "busy; retry after Retry-After", body = crate::openapi::Exception)))]
pub(crate) async fn glyph_range(
    State(state): State<AppState>,
    Path((stack, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let glyphs = state.glyphs();
    let Some(font) = glyphs.font.as_ref() else {
        return Err(ApiError::NotFound(
            "no glyph font: the server found no CJK font; start it with --glyph-font PATH \
             (a TrueType/OpenType font or collection, e.g. fonts-wqy-zenhei's wqy-zenhei.ttc)"
                .into(),
        ));
    };
    let bad = || {
        ApiError::NotFound(format!(
            "glyph range {file:?}: expected {{start}}-{{end}}.pbf with start a multiple of 256 and end = start + 255"
        ))
    };
    let (start, end) = file
        .strip_suffix(".pbf")
        .and_then(|r| r.split_once('-'))
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .ok_or_else(bad)?;
    if !start.is_multiple_of(RANGE_SIZE) || end != start + RANGE_SIZE - 1 || end > 0xFFFF {
        return Err(bad());
    }
    let cell = glyphs
        .ranges
        .get((start / RANGE_SIZE) as usize)
        .ok_or_else(bad)?;
    let (data, index) = (font.data.clone(), font.index);
    let bytes = cell
        .get_or_try_init(|| async {
            let stack = stack.clone();
            state
                .read(Work::Map, move |_| {
                    GlyphFont::new(&data, index)
                        .and_then(|f| f.render_range(&stack, start, end))
                        .map(Arc::new)
                        .map_err(|e| ApiError::Internal(e.to_string()))
                })
                .await?
        })
        .await?
        .clone();
    let mut resp = (StatusCode::OK, bytes.as_ref().clone()).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-protobuf"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(resp)
}

/// One basemap tile, drawn from the embedded data (decoded on first use).
///
/// # Errors
/// [`ApiError::Internal`] when the embedded data or the tile encoding fails.
pub fn render_tile(
    t: riskmap_tiles::TileCoord,
    opts: &riskmap_tiles::TileOptions,
) -> Result<Vec<u8>, ApiError> {
    Basemap::embedded()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .render(t, opts)
        .map_err(ApiError::Internal)
}

/// TileJSON 3.0.0 of the `basemap` tileset.
pub fn tilejson_doc(base: &str) -> Result<Value, ApiError> {
    let b = Basemap::embedded()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .bounds();
    let fields: serde_json::Map<String, Value> = BASEMAP_FIELDS
        .iter()
        .map(|(k, v)| ((*k).to_string(), json!(v)))
        .collect();
    let layers: Vec<Value> = BASEMAP_LAYERS
        .iter()
        .map(
            |l| json!({"id": l, "fields": fields, "minzoom": 0, "maxzoom": crate::tiles::MAX_ZOOM}),
        )
        .collect();
    Ok(json!({
        "tilejson": "3.0.0",
        "name": BASEMAP_TILESET,
        "description": "riskmap offline basemap (离线底图): water, land use, roads, railways, buildings, place names",
        "scheme": "xyz",
        "tiles": [format!("{base}/tiles/{BASEMAP_TILESET}/{{z}}/{{x}}/{{y}}.mvt")],
        "minzoom": 0,
        "maxzoom": crate::tiles::MAX_ZOOM,
        "bounds": b,
        "center": [120.16, 30.27, 11],
        "vector_layers": layers,
        "attribution": BASEMAP_ATTRIBUTION,
    }))
}

/// The style's basemap sources: `basemap` (vector) and, when configured,
/// `basemap-raster`.
pub fn style_sources(base: &str, raster: Option<&RasterBasemap>) -> Vec<(String, Value)> {
    let mut s = vec![(
        BASEMAP_TILESET.to_string(),
        json!({"type": "vector", "url": format!("{base}/tiles/{BASEMAP_TILESET}.json")}),
    )];
    if let Some(r) = raster {
        s.push((
            "basemap-raster".into(),
            json!({"type": "raster", "tiles": r.tiles, "tileSize": 256, "attribution": r.attribution}),
        ));
    }
    s
}

/// Style layers drawn under the risk layers: the raster basemap when
/// configured, then water, green space and built-up land, buildings,
/// roads by class and railways. Ids start with `basemap-`.
pub fn style_layers_below(raster: Option<&RasterBasemap>) -> Vec<Value> {
    let src = BASEMAP_TILESET;
    let mut l = Vec::new();
    if raster.is_some() {
        l.push(json!({"id": "basemap-raster", "type": "raster", "source": "basemap-raster"}));
    }
    let poly = json!(["!=", ["geometry-type"], "LineString"]);
    let green = json!([
        "match",
        ["get", "kind"],
        ["forest", "wood", "scrub", "heath", "nature_reserve"],
        "#CFE3C3",
        [
            "park",
            "grass",
            "meadow",
            "recreation_ground",
            "garden",
            "village_green",
            "cemetery",
            "allotments"
        ],
        "#DCEBCF",
        ["farm", "vineyard", "orchard"],
        "#E9EED5",
        "residential",
        "#ECE7E1",
        ["industrial", "commercial", "retail"],
        "#E8E1E6",
        "#EEEEEE"
    ]);
    let road_colour = json!([
        "match",
        ["get", "kind"],
        ["motorway", "trunk"],
        "#F7C873",
        "primary",
        "#FCE3A6",
        "path",
        "#D7D2CB",
        "ferry",
        "#8DB6D9",
        "#FFFFFF"
    ]);
    // Width by class and zoom, times `k` (the casing is wider); `zoom` may
    // only be the input of a top-level interpolate, so `k` scales the stops.
    let road_width = |k: f64| {
        json!([
            "interpolate",
            ["exponential", 1.5],
            ["zoom"],
            10,
            [
                "match",
                ["get", "kind"],
                ["motorway", "trunk", "primary"],
                1.2 * k,
                0.4 * k
            ],
            16,
            [
                "match",
                ["get", "kind"],
                ["motorway", "trunk", "primary"],
                9.0 * k,
                "secondary",
                7.0 * k,
                "tertiary",
                6.0 * k,
                "path",
                1.5 * k,
                4.5 * k
            ]
        ])
    };
    l.extend([
        json!({"id": "basemap-landuse", "type": "fill", "source": src, "source-layer": "landuse",
               "paint": {"fill-color": green, "fill-opacity": 0.9}}),
        json!({"id": "basemap-water", "type": "fill", "source": src, "source-layer": "water",
               "filter": poly, "paint": {"fill-color": "#AAD3F0"}}),
        json!({"id": "basemap-waterways", "type": "line", "source": src, "source-layer": "water",
               "filter": ["==", ["geometry-type"], "LineString"],
               "paint": {"line-color": "#AAD3F0", "line-width": 1.5}}),
        json!({"id": "basemap-buildings", "type": "fill", "source": src, "source-layer": "buildings",
               "minzoom": 13, "paint": {"fill-color": "#D9D0C9", "fill-outline-color": "#C4B9B0"}}),
        json!({"id": "basemap-road-casing", "type": "line", "source": src, "source-layer": "roads",
               "filter": ["match", ["get", "kind"], ["path", "ferry"], false, true],
               "layout": {"line-cap": "round", "line-join": "round"},
               "paint": {"line-color": "#C9BFB3", "line-width": road_width(1.4)}}),
        json!({"id": "basemap-roads", "type": "line", "source": src, "source-layer": "roads",
               "layout": {"line-cap": "round", "line-join": "round"},
               "paint": {"line-color": road_colour, "line-width": road_width(1.0)}}),
        json!({"id": "basemap-railways", "type": "line", "source": src, "source-layer": "railways",
               "paint": {"line-color": "#8C8C8C", "line-width": 1.5, "line-dasharray": [3, 2]}}),
    ]);
    l
}

/// Label layers drawn above everything (Chinese `name`s in `font`): road
/// names along the roads, place names, district names and, from zoom 13,
/// enterprise names from the `enterprises` tileset.
pub fn style_label_layers(font: &str) -> Vec<Value> {
    let src = BASEMAP_TILESET;
    let halo =
        json!({"text-color": "#37474F", "text-halo-color": "#FFFFFF", "text-halo-width": 1.5});
    vec![
        json!({"id": "basemap-road-labels", "type": "symbol", "source": src, "source-layer": "roads",
               "minzoom": 13, "filter": ["has", "name"],
               "layout": {"symbol-placement": "line", "text-field": ["get", "name"], "text-font": [font],
                          "text-size": 12, "text-max-angle": 30},
               "paint": halo}),
        json!({"id": "basemap-place-labels", "type": "symbol", "source": src, "source-layer": "places",
               "filter": ["!=", ["get", "kind"], "district"],
               "layout": {"text-field": ["get", "name"], "text-font": [font], "text-size": 12,
                          "text-max-width": 8},
               "paint": {"text-color": ["match", ["get", "kind"], ["water", "river", "reservoir", "wetland", "riverbank"], "#1E5A8A", "#3E5F3A"],
                         "text-halo-color": "#FFFFFF", "text-halo-width": 1.2}}),
        json!({"id": "enterprise-labels", "type": "symbol", "source": "enterprises", "source-layer": "enterprises",
               "minzoom": 13, "filter": ["has", "name"],
               "layout": {"text-field": ["get", "name"], "text-font": [font], "text-size": 11,
                          "text-offset": [0, 1.1], "text-anchor": "top", "text-max-width": 10},
               "paint": {"text-color": "#212121", "text-halo-color": "#FFFFFF", "text-halo-width": 1.5}}),
        json!({"id": "basemap-district-labels", "type": "symbol", "source": src, "source-layer": "places",
               "filter": ["==", ["get", "kind"], "district"],
               "layout": {"text-field": ["get", "name"], "text-font": [font],
                          "text-size": ["interpolate", ["linear"], ["zoom"], 8, 13, 12, 18],
                          "text-allow-overlap": false},
               "paint": {"text-color": "#263238", "text-halo-color": "#FFFFFF", "text-halo-width": 2}}),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raster_templates() {
        let r = RasterBasemap::parse(
            "https://t{0-2}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk=K",
            Some("天地图"),
        )
        .unwrap();
        assert_eq!(r.tiles.len(), 3);
        assert!(r.tiles[1].starts_with("https://t1.tianditu.gov.cn/vec_w/wmts?"));
        assert_eq!(
            r.origins,
            [
                "https://t0.tianditu.gov.cn",
                "https://t1.tianditu.gov.cn",
                "https://t2.tianditu.gov.cn"
            ]
        );
        assert!(RasterBasemap::parse("ftp://x/{z}/{x}/{y}", None).is_err());
        assert!(RasterBasemap::parse("https://x/{z}/{x}", None).is_err());
        assert!(RasterBasemap::parse("https://x; script-src *//{z}/{x}/{y}", None).is_err());
        let csp = content_security_policy(&r.origins);
        assert!(csp.contains("img-src 'self' data: blob: https://t0.tianditu.gov.cn"));
        assert!(csp.contains("connect-src 'self' https://t0.tianditu.gov.cn"));
        assert_eq!(content_security_policy(&[]), crate::CONTENT_SECURITY_POLICY);
    }
}

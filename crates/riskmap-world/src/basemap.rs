//! The offline basemap (离线底图): water, land use, roads, railways,
//! buildings and place names from OpenStreetMap (`data/basemap/`, embedded
//! gzipped), drawn by the same tile code as every other tileset.
//!
//! The basemap is static: [`Basemap::embedded`] decodes it once (about a
//! second in a debug build; call it off the async workers) and keeps, per
//! layer, an R-tree of feature boxes and each feature's geometry generalised
//! for four zoom bands, so a low-zoom tile does not simplify every vertex of
//! Hangzhou again. A feature smaller than a screen pixel at a zoom is left
//! out of that zoom's tiles, and a place name is drawn from its `minzoom`.

use std::io::Read;
use std::sync::{Arc, OnceLock};

use geo::{BoundingRect, Geometry, Rect, Simplify};
use riskmap_spatial::BBoxIndex;
use riskmap_tiles::{
    LayerData, PropValue, TileCoord, TileFeature, TileOptions, build_layer, encode_tile,
};

/// The tileset's name in URLs (`/tiles/basemap/{z}/{x}/{y}.mvt`).
pub const BASEMAP_TILESET: &str = "basemap";

/// The source layers of a basemap tile, drawn in this order.
pub const BASEMAP_LAYERS: [&str; 6] = [
    "water",
    "landuse",
    "roads",
    "railways",
    "buildings",
    "places",
];

/// TileJSON `fields` of every basemap layer.
pub const BASEMAP_FIELDS: [(&str, &str); 2] = [("kind", "String"), ("name", "String")];

/// Attribution of the basemap data.
pub const BASEMAP_ATTRIBUTION: &str = "© OpenStreetMap contributors (ODbL)";

const DATA: &[u8] = include_bytes!("../../../data/basemap/basemap.geojson.gz");

/// Zoom bands of pre-generalised geometry: a tile at zoom `z` uses the
/// first band whose upper zoom is ≥ `z`; the last band is the data itself.
const BANDS: [u8; 3] = [7, 10, 12];

/// Why the embedded basemap could not be read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the embedded basemap is unreadable: {0}")]
pub struct BasemapError(String);

struct BaseFeature {
    minzoom: u8,
    /// Generalised for each of [`BANDS`], then the full geometry.
    levels: [TileFeature; 4],
}

struct BaseLayer {
    name: &'static str,
    features: Vec<BaseFeature>,
    index: BBoxIndex<usize>,
}

/// The basemap, ready to draw tiles.
pub struct Basemap {
    layers: Vec<BaseLayer>,
    bounds: Option<Rect<f64>>,
}

impl std::fmt::Debug for Basemap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Basemap")
            .field("features", &self.len())
            .finish()
    }
}

/// Size of one screen pixel (a 256-pixel tile) at zoom `z`, in degrees of longitude.
fn pixel_degrees(z: u8) -> f64 {
    360.0 / (256.0 * f64::from(1u32 << z.min(24)))
}

/// The first zoom at which a box's larger side spans a screen pixel.
fn size_minzoom(r: Rect<f64>) -> u8 {
    let side = r.width().max(r.height());
    (0..=crate::tiles::MAX_ZOOM)
        .find(|&z| side >= pixel_degrees(z))
        .unwrap_or(crate::tiles::MAX_ZOOM)
}

impl Basemap {
    /// The basemap embedded in the binary, decoded on first use.
    ///
    /// # Errors
    /// [`BasemapError`] when the embedded data cannot be read (a build fault).
    pub fn embedded() -> Result<Arc<Basemap>, BasemapError> {
        static CELL: OnceLock<Result<Arc<Basemap>, BasemapError>> = OnceLock::new();
        CELL.get_or_init(|| Basemap::from_gzip(DATA).map(Arc::new))
            .clone()
    }

    /// A basemap from gzipped GeoJSON whose features carry `layer`, `kind`,
    /// optional `name` and optional `minzoom`.
    ///
    /// # Errors
    /// [`BasemapError`] naming the feature that is not readable.
    pub fn from_gzip(bytes: &[u8]) -> Result<Basemap, BasemapError> {
        let mut text = String::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_string(&mut text)
            .map_err(|e| BasemapError(format!("gzip: {e}")))?;
        Self::from_geojson(&text)
    }

    /// A basemap from GeoJSON text (see [`Basemap::from_gzip`]).
    ///
    /// # Errors
    /// [`BasemapError`] naming the feature that is not readable.
    pub fn from_geojson(text: &str) -> Result<Basemap, BasemapError> {
        let fc: geojson::FeatureCollection = text
            .parse::<geojson::GeoJson>()
            .map_err(|e| BasemapError(e.to_string()))?
            .try_into()
            .map_err(|e: geojson::Error| BasemapError(e.to_string()))?;
        let mut layers: Vec<BaseLayer> = BASEMAP_LAYERS
            .iter()
            .map(|&name| BaseLayer {
                name,
                features: Vec::new(),
                index: BBoxIndex::default(),
            })
            .collect();
        let mut boxes: Vec<Vec<(usize, Rect<f64>)>> = vec![Vec::new(); layers.len()];
        let mut bounds: Option<Rect<f64>> = None;
        for (i, f) in fc.features.into_iter().enumerate() {
            let bad = |what: &str| BasemapError(format!("feature {i}: {what}"));
            let prop = |k: &str| {
                f.properties
                    .as_ref()
                    .and_then(|p| p.get(k))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            let layer = prop("layer").ok_or_else(|| bad("no layer"))?;
            let li = BASEMAP_LAYERS
                .iter()
                .position(|&l| l == layer)
                .ok_or_else(|| bad("unknown layer"))?;
            let kind = prop("kind").unwrap_or_default();
            let name = prop("name");
            let geometry: Geometry<f64> = f
                .geometry
                .as_ref()
                .ok_or_else(|| bad("no geometry"))?
                .try_into()
                .map_err(|e: geojson::Error| bad(&e.to_string()))?;
            let rect = geometry
                .bounding_rect()
                .ok_or_else(|| bad("empty geometry"))?;
            let given = f
                .properties
                .as_ref()
                .and_then(|p| p.get("minzoom"))
                .and_then(serde_json::Value::as_u64)
                .map(|z| u8::try_from(z).unwrap_or(u8::MAX));
            let minzoom = match (&geometry, given) {
                (_, Some(z)) => z,
                (Geometry::Point(_) | Geometry::MultiPoint(_), None) => 13,
                _ => size_minzoom(rect),
            };
            // Districts and named areas outrank the rest when a tile must
            // drop features to fit its byte budget.
            let rank = match (layer.as_str(), kind.as_str()) {
                ("places", "district") => 4,
                ("places", _) => 3,
                ("roads", "motorway" | "trunk" | "primary") | ("water", _) => 2,
                ("roads", _) | ("railways", _) => 1,
                _ => 0,
            };
            let mut properties = vec![("kind".to_owned(), PropValue::String(kind))];
            if let Some(n) = name {
                properties.push(("name".to_owned(), PropValue::String(n)));
            }
            let id = layers[li].features.len();
            let make = |geometry: Geometry<f64>| TileFeature {
                id: id.to_string(),
                geometry,
                rank,
                properties: properties.clone(),
            };
            let levels = [
                make(generalise(&geometry, BANDS[0])),
                make(generalise(&geometry, BANDS[1])),
                make(generalise(&geometry, BANDS[2])),
                make(geometry),
            ];
            boxes[li].push((id, rect));
            layers[li].features.push(BaseFeature { minzoom, levels });
            bounds = Some(bounds.map_or(rect, |b| {
                Rect::new(
                    (b.min().x.min(rect.min().x), b.min().y.min(rect.min().y)),
                    (b.max().x.max(rect.max().x), b.max().y.max(rect.max().y)),
                )
            }));
        }
        for (layer, b) in layers.iter_mut().zip(boxes) {
            layer.index = BBoxIndex::bulk_load(b);
        }
        Ok(Basemap { layers, bounds })
    }

    /// Number of features.
    pub fn len(&self) -> usize {
        self.layers.iter().map(|l| l.features.len()).sum()
    }

    /// Whether there is no feature.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of features of one layer (0 for an unknown layer).
    pub fn layer_len(&self, name: &str) -> usize {
        self.layers
            .iter()
            .find(|l| l.name == name)
            .map_or(0, |l| l.features.len())
    }

    /// The box of every feature (`[west, south, east, north]`).
    pub fn bounds(&self) -> [f64; 4] {
        self.bounds.map_or([-180.0, -85.0511, 180.0, 85.0511], |r| {
            [r.min().x, r.min().y, r.max().x, r.max().y]
        })
    }

    /// The features of one layer drawn in tile `t` (before clipping): those
    /// whose box meets the buffered tile and whose `minzoom` is reached, in
    /// the geometry of `t`'s zoom band.
    pub fn tile_features(
        &self,
        layer: &str,
        t: TileCoord,
        opts: &TileOptions,
    ) -> Vec<&TileFeature> {
        let Some(l) = self.layers.iter().find(|l| l.name == layer) else {
            return Vec::new();
        };
        let band = BANDS.iter().position(|&b| t.z <= b).unwrap_or(BANDS.len());
        let mut ids: Vec<usize> = l
            .index
            .query(t.buffered_bounds_lonlat(opts.extent, opts.buffer))
            .copied()
            .filter(|&i| l.features[i].minzoom <= t.z)
            .collect();
        ids.sort_unstable();
        ids.into_iter()
            .map(|i| &l.features[i].levels[band])
            .collect()
    }

    /// One tile of the `basemap` tileset: a layer per [`BASEMAP_LAYERS`]
    /// with features (points are never aggregated: every name is its own).
    ///
    /// # Errors
    /// The tile code's error, as text.
    pub fn render(&self, t: TileCoord, opts: &TileOptions) -> Result<Vec<u8>, String> {
        let opts = TileOptions {
            aggregate_below_zoom: 0,
            ..opts.clone()
        };
        let layers: Vec<LayerData> = BASEMAP_LAYERS
            .iter()
            .map(|&name| build_layer(name, &self.tile_features(name, t, &opts), t, &opts))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        encode_tile(&layers).map_err(|e| e.to_string())
    }
}

/// `g` simplified to half a screen pixel at zoom `z` (points unchanged).
fn generalise(g: &Geometry<f64>, z: u8) -> Geometry<f64> {
    let eps = pixel_degrees(z) / 2.0;
    match g {
        Geometry::LineString(l) => Geometry::LineString(l.simplify(eps)),
        Geometry::MultiLineString(l) => Geometry::MultiLineString(l.simplify(eps)),
        Geometry::Polygon(p) => Geometry::Polygon(p.simplify(eps)),
        Geometry::MultiPolygon(p) => Geometry::MultiPolygon(p.simplify(eps)),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use riskmap_tiles::decode_tile;

    #[test]
    fn embedded_basemap_has_every_layer() {
        let b = Basemap::embedded().unwrap();
        for l in BASEMAP_LAYERS {
            assert!(b.layer_len(l) > 0, "{l} is empty");
        }
        let [w, s, e, n] = b.bounds();
        // Hangzhou and Shanghai.
        assert!(
            w < 119.5 && e > 121.4 && s < 29.5 && n > 31.2,
            "{w} {s} {e} {n}"
        );
    }

    /// The z12 tile of 西湖区's label (Xixi wetland) holds water, land use and the
    /// district names whose label points a brute-force scan of the data
    /// puts inside it; a z6 tile of all Hangzhou only district names.
    #[test]
    fn tiles_hold_what_lies_inside_them() {
        let b = Basemap::embedded().unwrap();
        let opts = TileOptions::default();
        let t = TileCoord::from_lonlat(120.08, 30.204, 12);
        let tile = decode_tile(&b.render(t, &opts).unwrap()).unwrap();
        for l in ["water", "landuse", "places"] {
            assert!(tile.layer(l).is_some_and(|l| !l.features.is_empty()), "{l}");
        }
        let rect = t.bounds_lonlat();
        let places = &b.layers[5];
        let mut expected: Vec<String> = places
            .features
            .iter()
            .filter(|f| f.minzoom <= t.z)
            .filter_map(
                |f| match (&f.levels[3].geometry, &f.levels[3].properties[..]) {
                    (Geometry::Point(p), [_, (_, PropValue::String(n))])
                        if rect.min().x <= p.x()
                            && p.x() < rect.max().x
                            && rect.min().y < p.y()
                            && p.y() <= rect.max().y =>
                    {
                        Some(n.clone())
                    }
                    _ => None,
                },
            )
            .collect();
        let mut got: Vec<String> = tile
            .layer("places")
            .unwrap()
            .features
            .iter()
            .filter(|f| {
                // Inside the tile proper, not its buffer.
                matches!(f.geometry, Geometry::Point(p)
                    if (0..4096).contains(&p.x()) && (0..4096).contains(&p.y()))
            })
            .filter_map(|f| {
                f.property("name")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected);
        assert!(
            got.iter().any(|n| n == "西湖区" || n == "上城区"),
            "{got:?}"
        );

        let low = TileCoord::from_lonlat(120.14, 30.245, 6);
        let tile = decode_tile(&b.render(low, &opts).unwrap()).unwrap();
        let kinds: Vec<_> = tile
            .layer("places")
            .unwrap()
            .features
            .iter()
            .map(|f| f.property("kind").and_then(|v| v.as_str()).unwrap_or(""))
            .collect();
        assert!(
            kinds.len() >= 13 && kinds.iter().all(|&k| k == "district"),
            "{kinds:?}"
        );
    }

    #[test]
    fn small_features_wait_for_their_zoom() {
        let r = Rect::new((120.0, 30.0), (120.0001, 30.0001));
        let z = size_minzoom(r);
        assert!(pixel_degrees(z) <= 0.0001 && pixel_degrees(z - 1) > 0.0001);
    }
}

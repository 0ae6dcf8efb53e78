//! Vector tiles of riskmap: tile math, clipping and generalisation of WGS84
//! features, Mapbox Vector Tile (MVT 2.1) encoding, a strict MVT decoder for
//! tests, and a PMTiles v3 writer.
//!
//! ```
//! use riskmap_tiles::{build_layer, decode_tile, encode_tile, PropValue, TileCoord, TileFeature, TileOptions};
//!
//! let tile = TileCoord::from_lonlat(120.3, 30.3, 14);
//! let plant = TileFeature {
//!     id: "1001".into(),
//!     geometry: geo::Point::new(120.3, 30.3).into(),
//!     rank: 4,
//!     properties: vec![("risk_level".into(), PropValue::from("red"))],
//! };
//! let opts = TileOptions::default();
//! let layer = build_layer("enterprises", &[&plant], tile, &opts).unwrap();
//! let bytes = encode_tile(&[layer]).unwrap();
//! let decoded = decode_tile(&bytes).unwrap();
//! assert_eq!(decoded.layers[0].features[0].id, Some(1001));
//! ```
//!
//! # Layout
//! - [`tile`]: [`TileCoord`] (XYZ, y down), Web Mercator (EPSG:3857)
//!   projection with latitude clamped to ±85.0511°, tile bounds in WGS84 and
//!   Web Mercator, parents and children, [`tiles_covering`] a bounding box,
//!   PMTiles Hilbert tile ids.
//! - [`feature`]: the input, [`TileFeature`] (WGS84 geometry, risk rank,
//!   properties) and [`PropValue`]; [`TileItem`], what the layer builder
//!   needs of a caller's own point type (id, rank, properties as borrowed
//!   [`PropRef`]s).
//! - `geom` (private): projection to tile pixels, Douglas–Peucker
//!   simplification, clipping to the buffered tile (Liang–Barsky for lines,
//!   Sutherland–Hodgman then an integer `i_overlay` intersection for
//!   polygons, which guarantees valid rings after rounding to pixels).
//! - [`layer`]: [`build_layer`] (clip, simplify, aggregate points into grid
//!   cells below [`TileOptions::aggregate_below_zoom`], drop lowest-rank
//!   features to fit [`TileOptions::byte_budget`], encode),
//!   [`build_layer_with_points`] (the same with the points taken from a
//!   [`PointPyramid`]) and [`encode_tile`] (join layers into a tile).
//! - [`pyramid`]: [`PointPyramid`], a point collection pre-aggregated into
//!   the aggregation cells of every low zoom and bucketed, pre-projected, for
//!   the others; updated point by point. Low-zoom tiles then cost
//!   O(cells in the tile), not O(points in the tile).
//! - [`decode`]: [`decode_tile`], a strict MVT 2.1 decoder and validator with
//!   its own protobuf reader, returning features in tile coordinates.
//! - [`archive`]: [`write_pmtiles`], PMTiles v3 archives (gzipped MVT tiles).
//! - [`glyphs`]: label glyph PBFs (MapLibre's SDF glyph ranges) rendered
//!   from a TrueType/OpenType font through `ttf-parser`, so map labels need
//!   no external font server.
//!
//! # Choices
//! - **Encoder: our own layer writer (`encode`, private), byte for byte
//!   what `fast-mvt` 0.7 writes.** `fast-mvt` (martin's MVT writer) was
//!   chosen over `mvt` 0.15 and geozero 0.15 (`with-mvt`): it takes integer
//!   tile coordinates, fixes ring winding, writes each layer as a
//!   self-contained `Tile.layers` chunk and brings no `prost`. But fitting
//!   the byte budget with it took a size model over the features and then
//!   the encoding (every property hashed twice, with SipHash in the model),
//!   and it copies every new string value into its tables: on a z11 tile of
//!   7,433 enterprises (1,000,000-point set) that was 99 ms at p50. The
//!   writer keeps `fast-mvt`'s output format (field order, keys and values
//!   numbered in order of first use, ring rewinding) and adds features
//!   highest priority first while it knows the layer's exact size, so it
//!   stops at the first feature that would break the budget: one pass, no
//!   model, no bisection, string values borrowed and hashed with `foldhash`
//!   (the same tile: 40 ms, then 16 ms with the other changes of the point
//!   pyramid). `fast-mvt` stays as a test dependency: the tests require our
//!   bytes to equal its bytes, and its reader cross-checks our decoder.
//! - **Decoder: our own** ([`decode`]). It must look at the raw command stream
//!   (counts, zero-length steps, ClosePath, winding) that decoding libraries
//!   normalise away, and being independent of the encoder makes the tests
//!   check one against the other.
//! - **Polygon clipping**: see the `geom` module: Sutherland–Hodgman to cut
//!   to the tile fast and bound coordinates, then `i_overlay` (the engine
//!   behind `geo::BooleanOps`) on the integer pixel grid for valid rings.
//! - **Glyphs: `ttf-parser` and our own distance field.** `pbf_font_tools` /
//!   `sdf_glyph_renderer` rasterise through FreeType (`freetype-sys`: a
//!   system library to install, so `cargo run` would stop working on a fresh
//!   machine); `ttf-parser` reads outlines in pure Rust, and the field is
//!   the exact distance to the flattened outline, written by hand in the
//!   three-message `glyphs.proto` (no `prost`).
//! - **Simplification**: Douglas–Peucker in pixel space before clipping, so a
//!   feature is simplified the same way in every tile it crosses.
//! - **PMTiles: the `pmtiles` crate 0.26** writer (feature `write`, no
//!   async runtime); its async reader reads our archives back in the tests.
//!
//! This crate does no IO of its own (no files, network, async runtime or
//! database): it takes data and returns bytes, or writes to a caller's
//! `std::io::Write`.
#![warn(missing_docs)]

pub mod archive;
pub mod decode;
mod encode;
pub mod feature;
mod geom;
pub mod glyphs;
pub mod layer;
pub mod pyramid;
pub mod tile;

pub use archive::{PmTilesError, PmTilesSummary, write_pmtiles};
pub use decode::{DecodedFeature, DecodedLayer, DecodedTile, MvtDecodeError, decode_tile};
pub use feature::{PropRef, PropValue, TileFeature, TileItem, rank_of_risk_level, risk_level_name};
pub use layer::{
    LayerData, LayerStats, TileError, TileOptions, build_layer, build_layer_with_points,
    encode_tile,
};
pub use pyramid::PointPyramid;
pub use tile::{
    MAX_LATITUDE, MAX_ZOOM, PixelProjector, TileCoord, TileCoordError, TileRange,
    lonlat_to_mercator, mercator_to_lonlat, tiles_covering,
};

//! PMTiles v3 archives of MVT tiles, written with the `pmtiles` crate's
//! stream writer (feature `write` only: no async runtime, no IO of its own).
//!
//! Tiles are stored gzip-compressed (header `tile_compression = gzip`,
//! `tile_type = mvt`), as PMTiles readers and MapLibre's `pmtiles://`
//! protocol expect for vector tiles; directories and metadata are gzipped
//! too. Identical tiles (common: empty sea, uniform areas) are stored once.

use std::collections::HashSet;
use std::io::{Seek, Write};

use geo::Rect;
use pmtiles::{Compression, PmTilesWriter, TileType};

use crate::tile::{MAX_ZOOM, TileCoord};

/// Why an archive could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PmTilesError {
    /// PMTiles metadata for MVT must be a JSON object with `vector_layers`.
    #[error("PMTiles metadata must be a JSON object with a \"vector_layers\" array")]
    Metadata,
    /// `min_zoom > max_zoom` or beyond the deepest zoom.
    #[error("invalid zoom range {min}..={max}")]
    ZoomRange {
        /// Lowest zoom.
        min: u8,
        /// Highest zoom.
        max: u8,
    },
    /// A tile outside the declared zoom range, or not a valid address.
    #[error("tile {0} is outside the archive's zoom range or grid")]
    TileOutOfRange(TileCoord),
    /// The same tile was given twice.
    #[error("tile {0} was given twice")]
    DuplicateTile(TileCoord),
    /// Writing failed.
    #[error("PMTiles writer: {0}")]
    Write(#[from] pmtiles::PmtError),
}

/// What [`write_pmtiles`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PmTilesSummary {
    /// Tiles stored (addressed), identical contents counted each time.
    pub tiles: u64,
    /// Tiles given empty (zero bytes) and left out, as the spec requires.
    pub empty: u64,
}

/// Writes a PMTiles v3 archive of MVT tiles to `out`.
///
/// `tiles` yields uncompressed MVT bytes (as [`crate::encode_tile`] makes
/// them); they are gzipped here. Yield them in increasing
/// [`TileCoord::hilbert_id`] order for a clustered archive (faster reads);
/// any order is accepted. Empty tiles are skipped. `metadata` is the archive's
/// JSON metadata and must be an object with a `vector_layers` array (TileJSON
/// 3.0, as the PMTiles spec requires for MVT). `bounds` is the data extent in
/// WGS84 degrees; the header's centre is its middle at `min_zoom`.
///
/// # Errors
/// [`PmTilesError`] for bad metadata, zooms or tiles, or when writing fails.
pub fn write_pmtiles<W: Write + Seek>(
    out: W,
    tiles: impl IntoIterator<Item = (TileCoord, Vec<u8>)>,
    metadata: serde_json::Value,
    bounds: Rect<f64>,
    min_zoom: u8,
    max_zoom: u8,
) -> Result<PmTilesSummary, PmTilesError> {
    if !metadata
        .get("vector_layers")
        .is_some_and(serde_json::Value::is_array)
    {
        return Err(PmTilesError::Metadata);
    }
    if min_zoom > max_zoom || max_zoom > MAX_ZOOM {
        return Err(PmTilesError::ZoomRange {
            min: min_zoom,
            max: max_zoom,
        });
    }
    let centre = bounds.center();
    let mut writer = PmTilesWriter::new(TileType::Mvt)
        .tile_compression(Compression::Gzip)
        .internal_compression(Compression::Gzip)
        .min_zoom(min_zoom)
        .max_zoom(max_zoom)
        .bounds(
            bounds.min().x,
            bounds.min().y,
            bounds.max().x,
            bounds.max().y,
        )
        .center(centre.x, centre.y)
        .center_zoom(min_zoom)
        .metadata(metadata.to_string())
        .create(out)?;
    let mut seen = HashSet::new();
    let mut summary = PmTilesSummary::default();
    for (coord, data) in tiles {
        if !coord.is_valid() || coord.z < min_zoom || coord.z > max_zoom {
            return Err(PmTilesError::TileOutOfRange(coord));
        }
        if !seen.insert(coord.hilbert_id()) {
            return Err(PmTilesError::DuplicateTile(coord));
        }
        if data.is_empty() {
            summary.empty += 1;
            continue;
        }
        let c = pmtiles::TileCoord::new(coord.z, coord.x, coord.y)?;
        writer.add_tile(c, &data)?;
        summary.tiles += 1;
    }
    writer.finalize()?;
    Ok(summary)
}

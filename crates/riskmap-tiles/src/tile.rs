//! Tile math: XYZ tile coordinates, Web Mercator (EPSG:3857) projection,
//! tile bounds and the tiles covering a bounding box.
//!
//! Tiles follow the XYZ ("slippy map") scheme used by MapLibre, MVT and
//! PMTiles: zoom `z` has `2^z × 2^z` tiles, `x` grows east from the
//! antimeridian and `y` grows **south** from the northern edge of the Web
//! Mercator square (latitude ≈ 85.0511°N).

use std::fmt;

use geo::{Coord, Rect};

/// Radius of the Web Mercator sphere in metres (the WGS84 semi-major axis).
pub const EARTH_RADIUS_M: f64 = 6_378_137.0;

/// Half the side of the Web Mercator square in metres (`π · R`).
pub const MERCATOR_HALF_SIZE_M: f64 = std::f64::consts::PI * EARTH_RADIUS_M;

/// The largest latitude Web Mercator shows, `atan(sinh(π))` in degrees
/// (≈ 85.0511°): the square's northern edge. Latitudes are clamped to
/// `±MAX_LATITUDE` before projecting.
pub const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// The deepest zoom level [`TileCoord`] accepts.
pub const MAX_ZOOM: u8 = 30;

/// Clamps a latitude to the Web Mercator range `±MAX_LATITUDE`.
#[must_use]
pub fn clamp_latitude(lat: f64) -> f64 {
    lat.clamp(-MAX_LATITUDE, MAX_LATITUDE)
}

/// Projects WGS84 longitude/latitude (degrees) to Web Mercator metres
/// (EPSG:3857). Latitude is clamped to `±MAX_LATITUDE`.
#[must_use]
pub fn lonlat_to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = clamp_latitude(lat).to_radians();
    let x = EARTH_RADIUS_M * lon.to_radians();
    let y = EARTH_RADIUS_M * (std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln();
    (x, y)
}

/// Inverse of [`lonlat_to_mercator`]: Web Mercator metres to WGS84 degrees.
#[must_use]
pub fn mercator_to_lonlat(x: f64, y: f64) -> (f64, f64) {
    let lon = (x / EARTH_RADIUS_M).to_degrees();
    let lat = (2.0 * (y / EARTH_RADIUS_M).exp().atan() - std::f64::consts::FRAC_PI_2).to_degrees();
    (lon, lat)
}

/// An invalid tile address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileCoordError {
    /// The zoom is deeper than [`MAX_ZOOM`].
    #[error("zoom {0} is deeper than the maximum {MAX_ZOOM}")]
    ZoomTooDeep(u8),
    /// `x` or `y` is not below `2^z`.
    #[error("tile {z}/{x}/{y} is outside the zoom's {n}×{n} grid")]
    OutOfRange {
        /// Zoom.
        z: u8,
        /// Column.
        x: u32,
        /// Row.
        y: u32,
        /// Tiles per side at this zoom.
        n: u64,
    },
}

/// An XYZ tile address: zoom `z`, column `x` (east), row `y` (south).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileCoord {
    /// Zoom level, `0..=MAX_ZOOM`.
    pub z: u8,
    /// Column, `0..2^z`, growing east.
    pub x: u32,
    /// Row, `0..2^z`, growing south.
    pub y: u32,
}

impl fmt::Display for TileCoord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// Number of tiles along one side at zoom `z`.
#[must_use]
pub fn tiles_per_side(z: u8) -> u64 {
    1u64 << z
}

impl TileCoord {
    /// A tile address, checked against the zoom's grid.
    ///
    /// # Errors
    /// [`TileCoordError`] when `z > MAX_ZOOM` or `x`/`y` ≥ `2^z`.
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self, TileCoordError> {
        if z > MAX_ZOOM {
            return Err(TileCoordError::ZoomTooDeep(z));
        }
        let n = tiles_per_side(z);
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(TileCoordError::OutOfRange { z, x, y, n });
        }
        Ok(Self { z, x, y })
    }

    /// Whether the address lies in its zoom's grid (what [`TileCoord::new`] checks).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        Self::new(self.z, self.x, self.y).is_ok()
    }

    /// The tile at zoom `z` containing a WGS84 position. Latitude is clamped to
    /// `±MAX_LATITUDE`, longitude to `[-180, 180]`; points on a tile edge
    /// belong to the tile east/south of it (except at the world's edge).
    ///
    /// # Panics
    /// When `z > MAX_ZOOM`.
    #[must_use]
    pub fn from_lonlat(lon: f64, lat: f64, z: u8) -> Self {
        assert!(z <= MAX_ZOOM, "zoom {z} is deeper than {MAX_ZOOM}");
        let (fx, fy) = world_fraction(lon, lat);
        let n = tiles_per_side(z) as f64;
        Self {
            z,
            x: grid_index(fx * n, z),
            y: grid_index(fy * n, z),
        }
    }

    /// The tile one zoom out containing this one, or `None` at zoom 0.
    #[must_use]
    pub fn parent(&self) -> Option<Self> {
        (self.z > 0).then(|| Self {
            z: self.z - 1,
            x: self.x / 2,
            y: self.y / 2,
        })
    }

    /// The four tiles one zoom in (north-west, north-east, south-west,
    /// south-east), or `None` at [`MAX_ZOOM`].
    #[must_use]
    pub fn children(&self) -> Option<[Self; 4]> {
        if self.z >= MAX_ZOOM {
            return None;
        }
        let (z, x, y) = (self.z + 1, self.x * 2, self.y * 2);
        Some([
            Self { z, x, y },
            Self { z, x: x + 1, y },
            Self { z, x, y: y + 1 },
            Self {
                z,
                x: x + 1,
                y: y + 1,
            },
        ])
    }

    /// Whether `other` is this tile or lies inside it (at the same or a deeper zoom).
    #[must_use]
    pub fn contains(&self, other: &Self) -> bool {
        if other.z < self.z {
            return false;
        }
        let shift = other.z - self.z;
        other.x >> shift == self.x && other.y >> shift == self.y
    }

    /// Side of this tile in Web Mercator metres.
    #[must_use]
    pub fn size_mercator(&self) -> f64 {
        2.0 * MERCATOR_HALF_SIZE_M / tiles_per_side(self.z) as f64
    }

    /// The tile's square in Web Mercator metres (EPSG:3857).
    #[must_use]
    pub fn bounds_mercator(&self) -> Rect<f64> {
        let size = self.size_mercator();
        let min_x = -MERCATOR_HALF_SIZE_M + f64::from(self.x) * size;
        let max_y = MERCATOR_HALF_SIZE_M - f64::from(self.y) * size;
        Rect::new(
            Coord {
                x: min_x,
                y: max_y - size,
            },
            Coord {
                x: min_x + size,
                y: max_y,
            },
        )
    }

    /// The tile's bounds in WGS84 degrees (`x` = longitude, `y` = latitude).
    #[must_use]
    pub fn bounds_lonlat(&self) -> Rect<f64> {
        let n = tiles_per_side(self.z) as f64;
        let lon = |x: f64| x / n * 360.0 - 180.0;
        let lat = |y: f64| {
            (std::f64::consts::PI * (1.0 - 2.0 * y / n))
                .sinh()
                .atan()
                .to_degrees()
        };
        let (x, y) = (f64::from(self.x), f64::from(self.y));
        Rect::new(
            Coord {
                x: lon(x),
                y: lat(y + 1.0),
            },
            Coord {
                x: lon(x + 1.0),
                y: lat(y),
            },
        )
    }

    /// The tile's bounds grown by `buffer` pixels of a tile with `extent`
    /// pixels a side, in WGS84 degrees, clipped to the Web Mercator world.
    /// This is the box to query features with: everything [`crate::build_layer`]
    /// can keep lies in it.
    #[must_use]
    pub fn buffered_bounds_lonlat(&self, extent: u32, buffer: u32) -> Rect<f64> {
        let merc = self.bounds_mercator();
        let pad = self.size_mercator() * f64::from(buffer) / f64::from(extent.max(1));
        let clampm = |v: f64| v.clamp(-MERCATOR_HALF_SIZE_M, MERCATOR_HALF_SIZE_M);
        let (min_lon, min_lat) =
            mercator_to_lonlat(clampm(merc.min().x - pad), clampm(merc.min().y - pad));
        let (max_lon, max_lat) =
            mercator_to_lonlat(clampm(merc.max().x + pad), clampm(merc.max().y + pad));
        Rect::new(
            Coord {
                x: min_lon,
                y: min_lat,
            },
            Coord {
                x: max_lon,
                y: max_lat,
            },
        )
    }

    /// Converts a position in this tile's pixel space (`extent` pixels a side,
    /// origin top-left, y down) to WGS84 degrees.
    #[must_use]
    pub fn pixel_to_lonlat(&self, px: f64, py: f64, extent: u32) -> (f64, f64) {
        let merc = self.bounds_mercator();
        let scale = self.size_mercator() / f64::from(extent.max(1));
        mercator_to_lonlat(merc.min().x + px * scale, merc.max().y - py * scale)
    }

    /// The [`PixelProjector`] of this tile for `extent` pixels a side.
    #[must_use]
    pub fn projector(&self, extent: u32) -> PixelProjector {
        let merc = self.bounds_mercator();
        PixelProjector {
            min_x: merc.min().x,
            max_y: merc.max().y,
            scale: f64::from(extent) / self.size_mercator(),
        }
    }

    /// The tile's position on the PMTiles v3 Hilbert curve (its tile id).
    #[must_use]
    pub fn hilbert_id(&self) -> u64 {
        // Tile ids of all lower zooms come first: (4^z - 1) / 3.
        let base = ((1u128 << (2 * u32::from(self.z))) - 1) / 3;
        base as u64 + hilbert_xy_to_d(self.z, self.x, self.y)
    }
}

/// Projects WGS84 degrees to one tile's pixel space: Web Mercator first, then
/// an affine map so that the tile spans `0..extent` on both axes, y down.
#[derive(Debug, Clone, Copy)]
pub struct PixelProjector {
    min_x: f64,
    max_y: f64,
    scale: f64,
}

impl PixelProjector {
    /// Pixel position of a WGS84 longitude/latitude (latitude clamped).
    #[must_use]
    pub fn project(&self, lon: f64, lat: f64) -> (f64, f64) {
        let (mx, my) = lonlat_to_mercator(lon, lat);
        self.project_mercator(mx, my)
    }

    /// Pixel position of a Web Mercator position (from [`lonlat_to_mercator`]):
    /// the second half of [`PixelProjector::project`], bit for bit, for
    /// callers that project once and draw in many tiles.
    #[must_use]
    pub fn project_mercator(&self, mx: f64, my: f64) -> (f64, f64) {
        (
            (mx - self.min_x) * self.scale,
            (self.max_y - my) * self.scale,
        )
    }
}

/// Position as a fraction of the Web Mercator square, `(0, 0)` north-west,
/// `(1, 1)` south-east.
fn world_fraction(lon: f64, lat: f64) -> (f64, f64) {
    let (mx, my) = lonlat_to_mercator(lon.clamp(-180.0, 180.0), lat);
    let size = 2.0 * MERCATOR_HALF_SIZE_M;
    (
        (mx + MERCATOR_HALF_SIZE_M) / size,
        (MERCATOR_HALF_SIZE_M - my) / size,
    )
}

/// Floor of a grid position, clamped to the zoom's grid.
fn grid_index(v: f64, z: u8) -> u32 {
    let max = tiles_per_side(z) - 1;
    if v.is_nan() || v <= 0.0 {
        return 0;
    }
    // The clamp keeps the value within u32 for every z ≤ MAX_ZOOM.
    (v.floor() as u64).min(max) as u32
}

/// Distance along the Hilbert curve of order `z` (the PMTiles v3 ordering).
fn hilbert_xy_to_d(z: u8, x: u32, y: u32) -> u64 {
    let n: u64 = 1 << z;
    let (mut x, mut y) = (u64::from(x), u64::from(y));
    let mut d = 0u64;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        // Rotate the quadrant.
        if ry == 0 {
            if rx == 1 {
                x = n - 1 - x;
                y = n - 1 - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    d
}

/// The block of tiles at one zoom covering a WGS84 bounding box, from
/// [`tiles_covering`]. Iterates row by row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileRange {
    /// Zoom level.
    pub z: u8,
    /// Westmost column.
    pub min_x: u32,
    /// Eastmost column (inclusive).
    pub max_x: u32,
    /// Northmost row.
    pub min_y: u32,
    /// Southmost row (inclusive).
    pub max_y: u32,
}

impl TileRange {
    /// Number of tiles in the block.
    #[must_use]
    pub fn len(&self) -> u64 {
        (u64::from(self.max_x - self.min_x) + 1) * (u64::from(self.max_y - self.min_y) + 1)
    }

    /// Always false: a range holds at least one tile.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `tile` is in the block.
    #[must_use]
    pub fn contains(&self, tile: &TileCoord) -> bool {
        tile.z == self.z
            && (self.min_x..=self.max_x).contains(&tile.x)
            && (self.min_y..=self.max_y).contains(&tile.y)
    }

    /// The tiles, row by row (north to south, west to east).
    pub fn iter(&self) -> impl Iterator<Item = TileCoord> + use<> {
        let (z, min_x, max_x) = (self.z, self.min_x, self.max_x);
        (self.min_y..=self.max_y)
            .flat_map(move |y| (min_x..=max_x).map(move |x| TileCoord { z, x, y }))
    }
}

impl IntoIterator for TileRange {
    type Item = TileCoord;
    type IntoIter = Box<dyn Iterator<Item = TileCoord>>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// The tiles at zoom `z` whose area meets a WGS84 bounding box (`x` =
/// longitude, `y` = latitude). Latitudes beyond `±MAX_LATITUDE` are clamped;
/// a box touching a tile edge includes the tile on the far side too.
///
/// # Panics
/// When `z > MAX_ZOOM`.
#[must_use]
pub fn tiles_covering(bbox: Rect<f64>, z: u8) -> TileRange {
    let nw = TileCoord::from_lonlat(bbox.min().x, bbox.max().y, z);
    let se = TileCoord::from_lonlat(bbox.max().x, bbox.min().y, z);
    TileRange {
        z,
        min_x: nw.x,
        max_x: se.x,
        min_y: nw.y,
        max_y: se.y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zoom_zero_is_the_world() {
        let t = TileCoord::new(0, 0, 0).unwrap();
        let b = t.bounds_lonlat();
        assert!((b.min().x + 180.0).abs() < 1e-9 && (b.max().x - 180.0).abs() < 1e-9);
        assert!((b.max().y - MAX_LATITUDE).abs() < 1e-9);
        assert!((b.min().y + MAX_LATITUDE).abs() < 1e-9);
        let m = t.bounds_mercator();
        assert!((m.max().x - MERCATOR_HALF_SIZE_M).abs() < 1e-6);
        assert!((m.max().y - MERCATOR_HALF_SIZE_M).abs() < 1e-6);
        assert_eq!(t.parent(), None);
    }

    #[test]
    fn known_tile_of_hangzhou() {
        // West Lake, Hangzhou, at z14.
        let t = TileCoord::from_lonlat(120.15, 30.25, 14);
        assert_eq!((t.x, t.y), (13660, 6746));
        let b = t.bounds_lonlat();
        assert!(b.min().x <= 120.15 && 120.15 < b.max().x);
        assert!(b.min().y <= 30.25 && 30.25 < b.max().y);
    }

    #[test]
    fn invalid_addresses_are_refused() {
        assert!(TileCoord::new(31, 0, 0).is_err());
        assert!(TileCoord::new(2, 4, 0).is_err());
        assert!(TileCoord::new(2, 3, 3).is_ok());
        assert_eq!(TileCoord::new(3, 1, 2).unwrap().to_string(), "3/1/2");
    }

    #[test]
    fn latitude_is_clamped() {
        let (_, y) = lonlat_to_mercator(0.0, 90.0);
        assert!((y - MERCATOR_HALF_SIZE_M).abs() < 1e-6);
        assert_eq!(TileCoord::from_lonlat(0.0, 89.9, 5).y, 0);
        assert_eq!(TileCoord::from_lonlat(0.0, -89.9, 5).y, 31);
        assert_eq!(TileCoord::from_lonlat(180.0, 0.0, 5).x, 31);
    }

    #[test]
    fn hilbert_ids_match_pmtiles() {
        for z in 0..=6u8 {
            let n = 1u32 << z;
            for x in 0..n {
                for y in 0..n {
                    let ours = TileCoord { z, x, y }.hilbert_id();
                    let theirs: pmtiles::TileId = pmtiles::TileCoord::new(z, x, y).unwrap().into();
                    assert_eq!(ours, theirs.value(), "{z}/{x}/{y}");
                }
            }
        }
        let deep = TileCoord::from_lonlat(120.3, 30.3, 20);
        let theirs: pmtiles::TileId = pmtiles::TileCoord::new(20, deep.x, deep.y).unwrap().into();
        assert_eq!(deep.hilbert_id(), theirs.value());
    }

    #[test]
    fn covering_hangzhou() {
        let bbox = Rect::new(Coord { x: 120.0, y: 30.0 }, Coord { x: 120.6, y: 30.6 });
        let r = tiles_covering(bbox, 10);
        assert!(r.len() >= 4);
        for t in r.iter() {
            let b = t.bounds_lonlat();
            assert!(b.max().x >= 120.0 && b.min().x <= 120.6);
            assert!(b.max().y >= 30.0 && b.min().y <= 30.6);
        }
        // Every tile of the zoom meeting the box is in the range.
        let n = 1u32 << 10;
        let mut count = 0;
        for x in 0..n {
            let t = TileCoord {
                z: 10,
                x,
                y: r.min_y,
            };
            let b = t.bounds_lonlat();
            if b.max().x > 120.0 && b.min().x < 120.6 {
                count += 1;
                assert!(r.contains(&t));
            }
        }
        assert_eq!(u64::from(r.max_x - r.min_x + 1), count);
        assert_eq!(tiles_covering(bbox, 0).len(), 1);
    }

    #[test]
    fn buffered_bounds_grow_by_the_buffer() {
        let t = TileCoord::from_lonlat(120.3, 30.3, 14);
        let b = t.bounds_lonlat();
        let bb = t.buffered_bounds_lonlat(4096, 64);
        let w = b.width();
        assert!((b.min().x - bb.min().x - w * 64.0 / 4096.0).abs() < 1e-9);
        assert!(bb.min().y < b.min().y && bb.max().y > b.max().y);
        let p = t.projector(4096);
        let (x, y) = p.project(bb.min().x, bb.max().y);
        assert!((x + 64.0).abs() < 1e-6 && (y + 64.0).abs() < 1e-6);
        // The world tile's buffer is clipped to the world.
        let w0 = TileCoord { z: 0, x: 0, y: 0 }.buffered_bounds_lonlat(4096, 64);
        assert!((w0.max().x - 180.0).abs() < 1e-9);
    }

    proptest! {
        #[test]
        fn mercator_round_trips(lon in -180.0..180.0f64, lat in -85.0..85.0f64) {
            let (x, y) = lonlat_to_mercator(lon, lat);
            let (lon2, lat2) = mercator_to_lonlat(x, y);
            prop_assert!((lon - lon2).abs() < 1e-9);
            prop_assert!((lat - lat2).abs() < 1e-9);
        }

        #[test]
        fn point_lies_in_its_tile(lon in -180.0..179.999f64, lat in -85.0..85.0f64, z in 0u8..=22) {
            let t = TileCoord::from_lonlat(lon, lat, z);
            prop_assert!(t.is_valid());
            let b = t.bounds_lonlat();
            prop_assert!(b.min().x - 1e-9 <= lon && lon <= b.max().x + 1e-9);
            prop_assert!(b.min().y - 1e-9 <= lat && lat <= b.max().y + 1e-9);
            let (px, py) = t.projector(4096).project(lon, lat);
            prop_assert!((-1e-6..=4096.0 + 1e-6).contains(&px), "{px}");
            prop_assert!((-1e-6..=4096.0 + 1e-6).contains(&py), "{py}");
            let (lon2, lat2) = t.pixel_to_lonlat(px, py, 4096);
            prop_assert!((lon - lon2).abs() < 1e-7 && (lat - lat2).abs() < 1e-7);
        }

        #[test]
        fn parent_and_children_round_trip(x in 0u32..(1 << 16), y in 0u32..(1 << 16), z in 16u8..=24) {
            let t = TileCoord { z, x: x << (z - 16), y: y << (z - 16) };
            prop_assert!(t.is_valid());
            let kids = t.children().unwrap();
            for k in kids {
                prop_assert_eq!(k.parent(), Some(t));
                prop_assert!(t.contains(&k));
                let (kb, tb) = (k.bounds_mercator(), t.bounds_mercator());
                prop_assert!(kb.min().x >= tb.min().x - 1e-6 && kb.max().x <= tb.max().x + 1e-6);
                prop_assert!(kb.min().y >= tb.min().y - 1e-6 && kb.max().y <= tb.max().y + 1e-6);
            }
            // The children tile the parent exactly.
            let area: f64 = kids.iter().map(|k| k.bounds_mercator().width() * k.bounds_mercator().height()).sum();
            let tb = t.bounds_mercator();
            prop_assert!((area / (tb.width() * tb.height()) - 1.0).abs() < 1e-6);
            let mut p = t;
            while let Some(q) = p.parent() { prop_assert!(q.contains(&t)); p = q; }
            prop_assert_eq!(p, TileCoord { z: 0, x: 0, y: 0 });
        }

        #[test]
        fn covering_contains_every_corner(
            lon in -179.0..179.0f64, lat in -80.0..80.0f64,
            w in 0.0..1.0f64, h in 0.0..1.0f64, z in 0u8..=16,
        ) {
            let bbox = Rect::new(Coord { x: lon, y: lat }, Coord { x: lon + w, y: lat + h });
            let r = tiles_covering(bbox, z);
            for (x, y) in [(lon, lat), (lon + w, lat), (lon, lat + h), (lon + w, lat + h), (lon + w / 2.0, lat + h / 2.0)] {
                prop_assert!(r.contains(&TileCoord::from_lonlat(x, y, z)));
            }
            prop_assert_eq!(r.iter().count() as u64, r.len());
        }
    }
}

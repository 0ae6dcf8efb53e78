//! Local metric frames (局部投影): CGCS2000 3° Gauss–Krüger zones.
//!
//! Distances, buffers and areas are computed in metres in the 3° Gauss–Krüger
//! zone of the site's longitude (the family of EPSG:4534–4554, CGCS2000 / 3-degree
//! Gauss-Kruger CM 75E–135E), never in degrees or Web Mercator. The projection
//! is PROJ's `tmerc` through the pure-Rust `proj4rs`; CGCS2000 and WGS84 share
//! the GRS80/WGS84 ellipsoid to 0.1 mm, so geometries in WGS84 go in as they are.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use geo::{Coord, Geometry, MapCoords};
use proj4rs::proj::Proj;

/// A 3° Gauss–Krüger zone with its projection. Cheap to clone; zones are
/// built once and shared.
#[derive(Debug, Clone)]
pub struct GaussKruger {
    zone: i32,
    inner: Arc<Projections>,
}

#[derive(Debug)]
struct Projections {
    geographic: Proj,
    projected: Proj,
}

static ZONES: LazyLock<Mutex<HashMap<i32, GaussKruger>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// A projection failure (coordinates far outside the zone).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("cannot project ({lon}, {lat}) into the 3° Gauss–Krüger zone {zone}")]
pub struct ProjectionError {
    /// Longitude.
    pub lon: f64,
    /// Latitude.
    pub lat: f64,
    /// Zone number (central meridian / 3).
    pub zone: i32,
}

impl GaussKruger {
    /// The zone whose central meridian is nearest to `lon` (zone n has CM 3n°).
    pub fn for_lon(lon: f64) -> Self {
        Self::zone((lon / 3.0).round() as i32)
    }

    /// Zone `n` (central meridian 3n°, false easting 500 km, no zone prefix).
    pub fn zone(n: i32) -> Self {
        let mut zones = ZONES.lock().unwrap_or_else(|e| e.into_inner());
        zones.entry(n).or_insert_with(|| Self::build(n)).clone()
    }

    fn build(n: i32) -> Self {
        let cm = 3 * n;
        // Static strings of supported projections: parsing cannot fail.
        let projected = Proj::from_proj_string(&format!(
            "+proj=tmerc +lat_0=0 +lon_0={cm} +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
        ))
        .expect("a valid tmerc definition");
        let geographic = Proj::from_proj_string("+proj=longlat +ellps=GRS80 +no_defs")
            .expect("a valid longlat definition");
        Self {
            zone: n,
            inner: Arc::new(Projections {
                geographic,
                projected,
            }),
        }
    }

    /// The zone number.
    pub fn zone_number(&self) -> i32 {
        self.zone
    }

    /// The central meridian in degrees.
    pub fn central_meridian(&self) -> f64 {
        f64::from(3 * self.zone)
    }

    /// Projects lon/lat (degrees) to easting/northing (metres).
    pub fn forward(&self, lon: f64, lat: f64) -> Result<(f64, f64), ProjectionError> {
        let mut p = (lon.to_radians(), lat.to_radians(), 0.0);
        proj4rs::transform::transform(&self.inner.geographic, &self.inner.projected, &mut p)
            .map_err(|_| ProjectionError {
                lon,
                lat,
                zone: self.zone,
            })?;
        Ok((p.0, p.1))
    }

    /// Easting/northing (metres) back to lon/lat (degrees).
    pub fn inverse(&self, x: f64, y: f64) -> Result<(f64, f64), ProjectionError> {
        let mut p = (x, y, 0.0);
        proj4rs::transform::transform(&self.inner.projected, &self.inner.geographic, &mut p)
            .map_err(|_| ProjectionError {
                lon: x,
                lat: y,
                zone: self.zone,
            })?;
        Ok((p.0.to_degrees(), p.1.to_degrees()))
    }

    /// Projects a whole geometry to metres.
    pub fn project(&self, g: &Geometry<f64>) -> Result<Geometry<f64>, ProjectionError> {
        g.try_map_coords(|c| {
            let (x, y) = self.forward(c.x, c.y)?;
            Ok(Coord { x, y })
        })
    }

    /// Brings a projected geometry back to lon/lat.
    pub fn unproject(&self, g: &Geometry<f64>) -> Result<Geometry<f64>, ProjectionError> {
        g.try_map_coords(|c| {
            let (x, y) = self.inverse(c.x, c.y)?;
            Ok(Coord { x, y })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_epsg_4547_reference() {
        // design.md §6: 114.3E 30.5N, EPSG:4490 → EPSG:4547 (CM 114E):
        // E 528799.742479, N 3375580.000222 (cs2cs and PostGIS ST_Transform).
        let gk = GaussKruger::for_lon(114.3);
        assert_eq!(gk.central_meridian(), 114.0);
        let (e, n) = gk.forward(114.3, 30.5).unwrap();
        assert!((e - 528_799.742_479).abs() < 1e-3, "{e}");
        assert!((n - 3_375_580.000_222).abs() < 1e-3, "{n}");
        let (lon, lat) = gk.inverse(e, n).unwrap();
        assert!((lon - 114.3).abs() < 1e-10 && (lat - 30.5).abs() < 1e-10);
    }

    #[test]
    fn hangzhou_is_in_zone_40() {
        assert_eq!(GaussKruger::for_lon(120.3).central_meridian(), 120.0);
        assert_eq!(GaussKruger::for_lon(121.6).central_meridian(), 123.0);
    }

    #[test]
    fn projected_distance_agrees_with_geodesic() {
        use crate::metric::geodesic_distance_m;
        use geo::{Distance, Euclidean, Point};
        let gk = GaussKruger::for_lon(120.3);
        let (a, b) = (Point::new(120.31, 30.30), Point::new(120.35, 30.33));
        let pa = gk.forward(a.x(), a.y()).unwrap();
        let pb = gk.forward(b.x(), b.y()).unwrap();
        let d = Euclidean.distance(Point::from(pa), Point::from(pb));
        let g = geodesic_distance_m(a, b);
        // Scale error near the central meridian is ~1e-6.
        assert!((d - g).abs() / g < 1e-4, "{d} vs {g}");
    }
}

//! Coordinate reference systems (坐标参考系) accepted on input.
//!
//! riskmap stores every geometry in WGS84 longitude/latitude (OGC CRS84 axis
//! order). Input may be declared as:
//! - `EPSG:4326` (WGS84, the default),
//! - `EPSG:4490` (CGCS2000, 2000国家大地坐标系): its datum realisation differs
//!   from WGS84 by a few centimetres, far below the accuracy of any data we
//!   hold, so the conversion is the identity (the same null shift PROJ uses),
//! - `GCJ02` (国测局坐标, the offset coordinates of Chinese web maps such as
//!   AMap/高德): converted to WGS84 by inverting the published GCJ-02 forward
//!   transform iteratively, to well under a millimetre.

use std::fmt;
use std::str::FromStr;

/// A CRS riskmap accepts for input (and, for 4326/4490, output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Crs {
    /// WGS84 longitude/latitude (EPSG:4326 / OGC CRS84).
    Wgs84,
    /// CGCS2000 geographic (EPSG:4490), 2000国家大地坐标系.
    Cgcs2000,
    /// GCJ-02, 国测局坐标 ("Mars coordinates") of Chinese web maps.
    Gcj02,
}

/// A CRS name that riskmap does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported CRS {0:?}: use EPSG:4326, EPSG:4490 or GCJ02")]
pub struct CrsError(pub String);

impl Crs {
    /// The canonical short name (`EPSG:4326`, `EPSG:4490`, `GCJ02`).
    pub fn name(self) -> &'static str {
        match self {
            Crs::Wgs84 => "EPSG:4326",
            Crs::Cgcs2000 => "EPSG:4490",
            Crs::Gcj02 => "GCJ02",
        }
    }

    /// Converts one position (longitude, latitude in degrees) in this CRS to
    /// WGS84 longitude/latitude.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
        }
    }

    /// Converts one WGS84 position to this CRS (longitude, latitude).
    pub fn from_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
        }
    }
}

impl fmt::Display for Crs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Crs {
    type Err = CrsError;

    /// Accepts short names (`EPSG:4326`, `4490`, `WGS84`, `CGCS2000`, `GCJ02`,
    /// `GCJ-02`, `CRS84`) and OGC URIs
    /// (`http://www.opengis.net/def/crs/EPSG/0/4490`, `.../OGC/1.3/CRS84`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_uppercase();
        let t = t.trim_start_matches('[').trim_end_matches(']');
        let tail = t.rsplit(['/', ':']).next().unwrap_or(t);
        match (t, tail) {
            (_, "4326" | "CRS84" | "WGS84") => Ok(Crs::Wgs84),
            (_, "4490" | "CGCS2000") => Ok(Crs::Cgcs2000),
            (_, "GCJ02" | "GCJ-02" | "GCJ_02") => Ok(Crs::Gcj02),
            _ => Err(CrsError(s.to_string())),
        }
    }
}

const GCJ_A: f64 = 6_378_245.0;
const GCJ_EE: f64 = 0.006_693_421_622_965_943;

/// Whether GCJ-02 applies at this position (mainland China's rough bounding
/// box, as the published algorithm defines it).
pub fn in_gcj02_area(lon: f64, lat: f64) -> bool {
    (72.004..=137.8347).contains(&lon) && (0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// The GCJ-02 forward transform: WGS84 → GCJ-02.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    if !in_gcj02_area(lon, lat) {
        return (lon, lat);
    }
    let dlat = transform_lat(lon - 105.0, lat - 35.0);
    let dlon = transform_lon(lon - 105.0, lat - 35.0);
    let rad_lat = lat / 180.0 * PI;
    let magic = 1.0 - GCJ_EE * rad_lat.sin() * rad_lat.sin();
    let sqrt_magic = magic.sqrt();
    let dlat = (dlat * 180.0) / ((GCJ_A * (1.0 - GCJ_EE)) / (magic * sqrt_magic) * PI);
    let dlon = (dlon * 180.0) / (GCJ_A / sqrt_magic * rad_lat.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS84 by fixed-point iteration on the forward transform.
///
/// The usual one-step inverse (`2·p − f(p)`) leaves 1–5 m of error; iterating
/// until the forward transform reproduces the input brings it below 1e-9°
/// (about 0.1 mm) in a handful of steps.
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    if !in_gcj02_area(lon, lat) {
        return (lon, lat);
    }
    let (mut x, mut y) = (lon, lat);
    for _ in 0..30 {
        let (fx, fy) = wgs84_to_gcj02(x, y);
        let (dx, dy) = (fx - lon, fy - lat);
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-12 && dy.abs() < 1e-12 {
            break;
        }
    }
    (x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_uris() {
        for (s, c) in [
            ("EPSG:4326", Crs::Wgs84),
            ("epsg:4490", Crs::Cgcs2000),
            ("GCJ02", Crs::Gcj02),
            ("gcj-02", Crs::Gcj02),
            ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", Crs::Wgs84),
            ("http://www.opengis.net/def/crs/EPSG/0/4490", Crs::Cgcs2000),
            ("[EPSG:4326]", Crs::Wgs84),
        ] {
            assert_eq!(s.parse::<Crs>().unwrap(), c, "{s}");
        }
        assert!("EPSG:3857".parse::<Crs>().is_err());
    }

    #[test]
    fn gcj02_offset_in_quanzhou_is_hundreds_of_metres() {
        // shared/data/README: around Quanzhou the offset is ~450 m east, ~300 m south… of WGS84.
        let (lon, lat) = (118.675, 24.874);
        let (glon, glat) = wgs84_to_gcj02(lon, lat);
        let dx = (glon - lon) * 111_320.0 * lat.to_radians().cos();
        let dy = (glat - lat) * 110_574.0;
        assert!(dx > 300.0 && dx < 700.0, "east offset {dx}");
        assert!(dy.abs() < 500.0, "north offset {dy}");
    }

    #[test]
    fn gcj02_inverse_round_trips_below_a_millimetre() {
        for (lon, lat) in [(120.3, 30.25), (118.6, 24.9), (75.99, 39.47), (116.4, 39.9)] {
            let (g1, g2) = wgs84_to_gcj02(lon, lat);
            let (w1, w2) = gcj02_to_wgs84(g1, g2);
            assert!(
                (w1 - lon).abs() < 1e-8 && (w2 - lat).abs() < 1e-8,
                "{lon},{lat}"
            );
        }
    }

    #[test]
    fn outside_china_is_identity() {
        assert_eq!(gcj02_to_wgs84(24.94, 60.17), (24.94, 60.17));
    }
}

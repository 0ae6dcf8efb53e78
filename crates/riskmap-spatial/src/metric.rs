//! Distances in metres (度量). Never compute distances in degrees or in Web Mercator.

use geo::{Distance, Geodesic, Point};

/// Geodesic distance in metres between two WGS84 points (Karney's algorithm on
/// the WGS84 ellipsoid).
pub fn geodesic_distance_m(a: Point<f64>, b: Point<f64>) -> f64 {
    Geodesic.distance(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_degree_of_latitude_near_thirty_north() {
        let d = geodesic_distance_m(Point::new(120.0, 30.0), Point::new(120.0, 31.0));
        assert!((d - 110_861.0).abs() < 50.0, "{d}");
    }
}

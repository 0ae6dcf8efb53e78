//! Metric proximity (距离判定): "which features lie within d metres of this one",
//! computed in the Gauss–Krüger zone of the reference geometry.

use geo::{BoundingRect, Centroid, Distance, Euclidean, Geometry, Rect};

use crate::local::{GaussKruger, ProjectionError};

/// Expands a WGS84 box by at least `metres` on every side (a conservative
/// degree margin for index pre-filtering; the exact test is metric).
pub fn expand_bbox_m(rect: Rect<f64>, metres: f64) -> Rect<f64> {
    const M_PER_DEG_LAT: f64 = 110_574.0;
    let max_abs_lat = rect.min().y.abs().max(rect.max().y.abs()).min(89.0);
    let dlat = metres / M_PER_DEG_LAT * 1.01;
    let dlon = metres / (111_320.0 * (max_abs_lat + dlat).min(89.5).to_radians().cos()) * 1.01;
    Rect::new(
        (rect.min().x - dlon, rect.min().y - dlat),
        (rect.max().x + dlon, rect.max().y + dlat),
    )
}

/// A reference geometry projected once into its local metric frame, ready to
/// measure distances to many others.
#[derive(Debug, Clone)]
pub struct MetricFrame {
    gk: GaussKruger,
    reference: Geometry<f64>,
}

impl MetricFrame {
    /// Projects `reference` (WGS84) into the 3° Gauss–Krüger zone of its centroid.
    pub fn new(reference: &Geometry<f64>) -> Result<Self, ProjectionError> {
        let lon = reference
            .centroid()
            .map(|p| p.x())
            .or_else(|| reference.bounding_rect().map(|r| r.center().x))
            .unwrap_or(0.0);
        let gk = GaussKruger::for_lon(lon);
        let reference = gk.project(reference)?;
        Ok(Self { gk, reference })
    }

    /// The zone used.
    pub fn zone(&self) -> &GaussKruger {
        &self.gk
    }

    /// The reference geometry in metres.
    pub fn reference_m(&self) -> &Geometry<f64> {
        &self.reference
    }

    /// Projects another WGS84 geometry into this frame.
    pub fn project(&self, g: &Geometry<f64>) -> Result<Geometry<f64>, ProjectionError> {
        self.gk.project(g)
    }

    /// Shortest distance in metres from the reference to `other` (WGS84);
    /// 0 when they intersect or one contains the other.
    pub fn distance_m(&self, other: &Geometry<f64>) -> Result<f64, ProjectionError> {
        let o = self.gk.project(other)?;
        Ok(Euclidean.distance(&self.reference, &o))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::geodesic_distance_m;
    use geo::{Contains, Intersects, LineString, Point, coord};
    use proptest::prelude::*;

    /// Brute-force geodesic distance from a point to a line: the minimum over
    /// points sampled every ~0.5 m along each segment.
    fn oracle_point_line(p: Point<f64>, line: &LineString<f64>) -> f64 {
        let mut best = f64::INFINITY;
        for seg in line.lines() {
            let len = geodesic_distance_m(seg.start.into(), seg.end.into());
            let n = (len / 0.5).ceil().max(1.0) as usize;
            for i in 0..=n {
                let t = i as f64 / n as f64;
                let q = coord! { x: seg.start.x + t * (seg.end.x - seg.start.x), y: seg.start.y + t * (seg.end.y - seg.start.y) };
                best = best.min(geodesic_distance_m(p, q.into()));
            }
        }
        best
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn points_within_500m_match_geodesic_oracle(
            site in (120.2..120.6f64, 30.1..30.4f64),
            targets in prop::collection::vec((-0.01..0.01f64, -0.01..0.01f64), 1..60),
        ) {
            let s = Point::new(site.0, site.1);
            let frame = MetricFrame::new(&Geometry::Point(s)).unwrap();
            let rect = expand_bbox_m(Rect::new(s.0, s.0), 500.0);
            for (dx, dy) in targets {
                let t = Point::new(site.0 + dx, site.1 + dy);
                let g = geodesic_distance_m(s, t);
                let d = frame.distance_m(&Geometry::Point(t)).unwrap();
                prop_assert!((d - g).abs() < 0.05 + g * 2e-4, "{d} vs {g}");
                if (g - 500.0).abs() > 0.5 {
                    prop_assert_eq!(d <= 500.0, g <= 500.0);
                }
                if g <= 500.0 {
                    prop_assert!(rect.contains(&t) || rect.intersects(&t), "bbox margin too small");
                }
            }
        }

        #[test]
        fn targets_within_200m_of_a_pipeline_match_geodesic_oracle(
            start in (120.2..120.6f64, 30.1..30.4f64),
            legs in prop::collection::vec((-0.01..0.01f64, -0.01..0.01f64), 1..4),
            targets in prop::collection::vec((-0.012..0.012f64, -0.012..0.012f64), 1..30),
        ) {
            let mut pts = vec![coord! { x: start.0, y: start.1 }];
            for (dx, dy) in legs {
                let last = pts[pts.len() - 1];
                pts.push(coord! { x: last.x + dx, y: last.y + dy });
            }
            let line = LineString::from(pts);
            let frame = MetricFrame::new(&Geometry::LineString(line.clone())).unwrap();
            for (dx, dy) in targets {
                let t = Point::new(start.0 + dx, start.1 + dy);
                let g = oracle_point_line(t, &line);
                let d = frame.distance_m(&Geometry::Point(t)).unwrap();
                prop_assert!((d - g).abs() < 1.0 + g * 1e-3, "{d} vs {g}");
                if (g - 200.0).abs() > 1.0 {
                    prop_assert_eq!(d <= 200.0, g <= 200.0);
                }
            }
        }
    }

    #[test]
    fn expanded_box_covers_the_margin_at_high_latitude() {
        let r = expand_bbox_m(Rect::new((120.0, 53.0), (120.0, 53.0)), 1000.0);
        let east = Point::new(r.max().x, 53.0);
        assert!(geodesic_distance_m(Point::new(120.0, 53.0), east) >= 1000.0);
    }
}

//! Geometry validity (OGC simple features) in near-linear time.
//!
//! `geo::Validation` tests every pair of a ring's segments for a crossing and
//! relates every pair of a multipolygon's parts, so an official district
//! boundary of 100,000 vertices takes minutes. [`validation_errors`] gives
//! the same answers, error for error and in the same order, but finds the
//! candidate segment pairs through an R-tree of segment boxes and relates
//! only parts (and holes) whose boxes meet: two geometries whose boxes are
//! disjoint can neither overlap nor share a boundary line. A property test
//! compares it with `geo::Validation` on random, often invalid, polygons.

use geo::algorithm::validation::{
    GeometryIndex, InvalidGeometry, InvalidMultiPolygon, InvalidPolygon, RingRole,
};
use geo::coordinate_position::CoordPos;
use geo::dimensions::Dimensions;
use geo::relate::IntersectionMatrix;
use geo::{
    BoundingRect, Geometry, Intersects, Line, LineString, MultiPolygon, Polygon, PreparedGeometry,
    Relate, RemoveRepeatedPoints, Validation,
};
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

/// Every validity error of `geometry`, as `geo::Validation::validation_errors`
/// reports them, without its quadratic passes over polygons.
pub fn validation_errors(geometry: &Geometry<f64>) -> Vec<InvalidGeometry> {
    match geometry {
        Geometry::Polygon(p) => polygon_errors(p)
            .into_iter()
            .map(InvalidGeometry::InvalidPolygon)
            .collect(),
        Geometry::MultiPolygon(mp) => multi_polygon_errors(mp)
            .into_iter()
            .map(InvalidGeometry::InvalidMultiPolygon)
            .collect(),
        // Points and lines: geo's checks are linear already (too few
        // points, non-finite coordinates); no crossing test applies.
        other => other.validation_errors(),
    }
}

/// A polygon's errors: per ring (exterior first) too few points, a
/// self-intersection and non-finite coordinates; then holes outside the
/// exterior, and rings that meet on a line or overlap.
pub fn polygon_errors(polygon: &Polygon<f64>) -> Vec<InvalidPolygon> {
    let mut errors = Vec::new();
    if polygon.exterior().0.is_empty() && polygon.interiors().is_empty() {
        return errors;
    }
    let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
    for (ring_idx, ring) in rings.enumerate() {
        if ring.0.is_empty() {
            continue;
        }
        let role = if ring_idx == 0 {
            RingRole::Exterior
        } else {
            RingRole::Interior(ring_idx - 1)
        };
        if ring.remove_repeated_points().0.len() < 4 {
            errors.push(InvalidPolygon::TooFewPointsInRing(role));
        }
        if ring_has_self_intersection(ring) {
            errors.push(InvalidPolygon::SelfIntersection(role));
        }
        for (coord_idx, c) in ring.0.iter().enumerate() {
            if !c.x.is_finite() || !c.y.is_finite() {
                errors.push(InvalidPolygon::NonFiniteCoord(
                    role,
                    geo::algorithm::validation::CoordIndex(coord_idx),
                ));
            }
        }
    }
    let holes: Vec<(usize, &LineString<f64>)> = polygon
        .interiors()
        .iter()
        .enumerate()
        .filter(|(_, ring)| !ring.0.is_empty())
        .collect();
    if holes.is_empty() {
        return errors;
    }
    let exterior = Polygon::new(polygon.exterior().clone(), vec![]);
    let prepared_exterior = PreparedGeometry::from(&exterior);
    let hole_polygons: Vec<Polygon<f64>> = holes
        .iter()
        .map(|(_, ring)| Polygon::new((*ring).clone(), vec![]))
        .collect();
    let boxes: Vec<Option<AABB<[f64; 2]>>> = hole_polygons.iter().map(envelope).collect();
    let overlapping = overlapping_pairs(&boxes);
    for (k, (i, _)) in holes.iter().enumerate() {
        let role = RingRole::Interior(*i);
        let prepared = PreparedGeometry::from(&hole_polygons[k]);
        let Some(m) = relate_or_none(|| prepared_exterior.relate(&prepared)) else {
            errors.push(InvalidPolygon::InteriorRingNotContainedInExteriorRing(role));
            continue;
        };
        if !m.is_contains() {
            errors.push(InvalidPolygon::InteriorRingNotContainedInExteriorRing(role));
        }
        if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
            errors.push(InvalidPolygon::IntersectingRingsOnALine(
                RingRole::Exterior,
                role,
            ));
        }
        for &l in &overlapping[k] {
            let other = RingRole::Interior(holes[l].0);
            let Some(m) = relate_or_none(|| prepared.relate(&hole_polygons[l])) else {
                errors.push(InvalidPolygon::IntersectingRingsOnAnArea(role, other));
                continue;
            };
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                errors.push(InvalidPolygon::IntersectingRingsOnAnArea(role, other));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                errors.push(InvalidPolygon::IntersectingRingsOnALine(role, other));
            }
        }
    }
    errors
}

/// A multipolygon's errors: each part's, then parts that overlap or share
/// a boundary line (only parts whose boxes meet are related).
pub fn multi_polygon_errors(mp: &MultiPolygon<f64>) -> Vec<InvalidMultiPolygon> {
    let mut errors = Vec::new();
    let boxes: Vec<Option<AABB<[f64; 2]>>> = mp.0.iter().map(envelope).collect();
    let overlapping = overlapping_pairs(&boxes);
    for (i, polygon) in mp.0.iter().enumerate() {
        errors.extend(
            polygon_errors(polygon)
                .into_iter()
                .map(|e| InvalidMultiPolygon::InvalidPolygon(GeometryIndex(i), e)),
        );
        if overlapping[i].is_empty() {
            continue;
        }
        let prepared = PreparedGeometry::from(polygon);
        for &j in &overlapping[i] {
            let Some(m) = relate_or_none(|| prepared.relate(&mp.0[j])) else {
                errors.push(InvalidMultiPolygon::ElementsOverlaps(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
                continue;
            };
            if m.get(CoordPos::Inside, CoordPos::Inside) == Dimensions::TwoDimensional {
                errors.push(InvalidMultiPolygon::ElementsOverlaps(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
            if m.get(CoordPos::OnBoundary, CoordPos::OnBoundary) == Dimensions::OneDimensional {
                errors.push(InvalidMultiPolygon::ElementsTouchOnALine(
                    GeometryIndex(i),
                    GeometryIndex(j),
                ));
            }
        }
    }
    errors
}

/// The relation of two rings or parts, or `None` when `geo` could not
/// build it: its topology graph can fail (a debug assertion, or a panic) on
/// rings that cross themselves, and such input is invalid anyway, so the
/// caller reports the pair as overlapping rather than let the import crash.
fn relate_or_none(f: impl FnOnce() -> IntersectionMatrix) -> Option<IntersectionMatrix> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// Whether two segments of the ring that are not neighbours meet, with
/// `geo::Validation`'s rule: segments `a` and `b` (a ≠ b) that intersect,
/// where `a` does not end where `b` starts and `b` does not end where `a`
/// starts. Candidates come from an R-tree of the segments' boxes.
fn ring_has_self_intersection(ring: &LineString<f64>) -> bool {
    let lines: Vec<Line<f64>> = ring.lines().collect();
    if lines.len() < 2 {
        return false;
    }
    let entries: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = lines
        .iter()
        .enumerate()
        .filter_map(|(i, l)| {
            let b = line_envelope(l)?;
            Some(GeomWithData::new(
                Rectangle::from_corners(b.lower(), b.upper()),
                i,
            ))
        })
        .collect();
    let tree = RTree::bulk_load(entries);
    lines.iter().enumerate().any(|(i, a)| {
        let Some(b) = line_envelope(a) else {
            return false;
        };
        tree.locate_in_envelope_intersecting(b).any(|hit| {
            let j = hit.data;
            if j <= i {
                return false;
            }
            let b = &lines[j];
            a.start != b.end && a.end != b.start && a.intersects(b)
        })
    })
}

fn line_envelope(l: &Line<f64>) -> Option<AABB<[f64; 2]>> {
    let (s, e) = (l.start, l.end);
    if ![s.x, s.y, e.x, e.y].iter().all(|v| v.is_finite()) {
        return None;
    }
    Some(AABB::from_corners([s.x, s.y], [e.x, e.y]))
}

fn envelope(p: &Polygon<f64>) -> Option<AABB<[f64; 2]>> {
    let r = p.bounding_rect()?;
    Some(AABB::from_corners(r.min().into(), r.max().into()))
}

/// For each box, the later boxes (higher index) that meet it. A box that is
/// `None` (an empty geometry) meets nothing.
fn overlapping_pairs(boxes: &[Option<AABB<[f64; 2]>>]) -> Vec<Vec<usize>> {
    let entries: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = boxes
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            b.as_ref()
                .map(|b| GeomWithData::new(Rectangle::from_corners(b.lower(), b.upper()), i))
        })
        .collect();
    let tree = RTree::bulk_load(entries);
    boxes
        .iter()
        .enumerate()
        .map(|(i, b)| match b {
            None => Vec::new(),
            Some(b) => {
                let mut later: Vec<usize> = tree
                    .locate_in_envelope_intersecting(*b)
                    .map(|hit| hit.data)
                    .filter(|&j| j > i)
                    .collect();
                later.sort_unstable();
                later
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use geo::{coord, polygon};
    use proptest::prelude::*;

    fn same_as_geo(g: &Geometry<f64>) {
        let fast: Vec<String> = validation_errors(g).iter().map(|e| e.to_string()).collect();
        // geo's relate can fail a debug assertion on rings that cross
        // themselves; there is nothing to compare with then (ours reports
        // such a pair as overlapping, and never panics).
        let Ok(slow) = std::panic::catch_unwind(|| {
            g.validation_errors()
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<String>>()
        }) else {
            assert!(
                !fast.is_empty(),
                "a geometry geo cannot relate is invalid: {g:?}"
            );
            return;
        };
        assert_eq!(fast, slow, "{g:?}");
    }

    #[test]
    fn known_cases_agree_with_geo() {
        let square = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.), (x: 0., y: 0.)];
        let bowtie = polygon![(x: 0., y: 0.), (x: 4., y: 4.), (x: 4., y: 0.), (x: 0., y: 4.), (x: 0., y: 0.)];
        let spike = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 6., y: 4.), (x: 4., y: 4.), (x: 0., y: 4.), (x: 0., y: 0.)];
        let hole_out = Polygon::new(
            square.exterior().clone(),
            vec![LineString::from(vec![
                (5., 5.),
                (6., 5.),
                (6., 6.),
                (5., 5.),
            ])],
        );
        let holes_overlap = Polygon::new(
            square.exterior().clone(),
            vec![
                LineString::from(vec![(1., 1.), (2., 1.), (2., 2.), (1., 2.), (1., 1.)]),
                LineString::from(vec![(1.5, 1.5), (3., 1.5), (3., 3.), (1.5, 3.), (1.5, 1.5)]),
            ],
        );
        let too_few = Polygon::new(LineString::from(vec![(0., 0.), (1., 0.), (0., 0.)]), vec![]);
        for p in [
            square.clone(),
            bowtie,
            spike,
            hole_out,
            holes_overlap,
            too_few,
        ] {
            same_as_geo(&Geometry::Polygon(p));
        }
        let shifted =
            |dx: f64| geo::MapCoords::map_coords(&square, |c| coord! { x: c.x + dx, y: c.y });
        for parts in [
            vec![square.clone(), shifted(10.)],
            vec![square.clone(), shifted(2.)],
            vec![square.clone(), shifted(4.)],
            vec![square.clone(), shifted(10.), shifted(3.)],
        ] {
            same_as_geo(&Geometry::MultiPolygon(MultiPolygon(parts)));
        }
    }

    /// A ring of `n` random vertices on a small integer lattice (so that
    /// touching, collinear and crossing segments are common), closed.
    fn lattice_ring(n: usize) -> impl Strategy<Value = LineString<f64>> {
        prop::collection::vec((0i32..6, 0i32..6), n..=n).prop_map(|pts| {
            let mut coords: Vec<(f64, f64)> = pts
                .iter()
                .map(|&(x, y)| (f64::from(x), f64::from(y)))
                .collect();
            coords.push(coords[0]);
            LineString::from(coords)
        })
    }

    fn lattice_polygon() -> impl Strategy<Value = Polygon<f64>> {
        (3usize..9, prop::collection::vec(3usize..6, 0..3)).prop_flat_map(|(n, holes)| {
            let hole_rings: Vec<_> = holes.into_iter().map(lattice_ring).collect();
            (lattice_ring(n), hole_rings).prop_map(|(ext, holes)| Polygon::new(ext, holes))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn polygons_agree_with_geo(p in lattice_polygon()) {
            same_as_geo(&Geometry::Polygon(p));
        }

        #[test]
        fn multipolygons_agree_with_geo(
            parts in prop::collection::vec((lattice_polygon(), 0i32..3, 0i32..3), 1..4)
        ) {
            let parts = parts
                .into_iter()
                .map(|(p, dx, dy)| {
                    geo::MapCoords::map_coords(&p, |c| coord! {
                        x: c.x + f64::from(dx * 4),
                        y: c.y + f64::from(dy * 4),
                    })
                })
                .collect();
            same_as_geo(&Geometry::MultiPolygon(MultiPolygon(parts)));
        }
    }

    /// A case where geo's relate fails a debug assertion (found by the
    /// property test): ours answers, and calls it invalid.
    #[test]
    fn parts_geo_cannot_relate_are_reported_not_panicked_on() {
        use geo::wkt;
        let a: Polygon<f64> =
            wkt!(POLYGON((4.0 1.0,4.0 4.0,4.0 0.0,4.0 1.0),(4.0 1.0,5.0 0.0,4.0 2.0,4.0 1.0)));
        let b: Polygon<f64> = wkt!(POLYGON((0.0 0.0,0.0 0.0,4.0 0.0,0.0 0.0)));
        let g = Geometry::MultiPolygon(MultiPolygon(vec![a, b]));
        let errors = validation_errors(&g);
        assert!(!errors.is_empty());
        same_as_geo(&g);
    }

    #[test]
    fn a_star_of_many_vertices_is_valid_and_a_crossing_is_found() {
        let n = 20_000;
        let mut coords: Vec<(f64, f64)> = (0..n)
            .map(|i| {
                let t = std::f64::consts::TAU * f64::from(i) / f64::from(n);
                let r = 1.0 + 0.3 * (f64::from(i) * 0.7).sin();
                (120.0 + r * t.cos(), 30.0 + r * t.sin())
            })
            .collect();
        coords.push(coords[0]);
        let star = Polygon::new(LineString::from(coords.clone()), vec![]);
        assert!(validation_errors(&Geometry::Polygon(star)).is_empty());
        // Swap two far-apart vertices: the ring now crosses itself.
        coords.swap(10, n as usize / 2);
        let crossed = Polygon::new(LineString::from(coords), vec![]);
        let errors = validation_errors(&Geometry::Polygon(crossed));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].to_string().contains("self-intersection"));
    }
}

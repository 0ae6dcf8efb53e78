//! Siting answers (`check_proposal`) for proposed protection targets of any
//! width and shape against a geodesic brute-force oracle.
//!
//! A few hazardous sites (QRA, code-distance and explosives sites, new or
//! existing) stand at random places of China's extent, some astride a 3°
//! Gauss–Krüger zone boundary. A proposed school or residential area (a
//! point, a lon/lat box or a star-shaped polygon, from a few hundred metres
//! to tens of degrees wide) is placed around a site, along the edge of one
//! of its zones, near it or far away.
//!
//! The oracle shares nothing with the code under test but the zones it
//! judges (their lon/lat outlines) and the site outlines. Proposal edges are
//! read as GeoJSON reads them, straight in lon/lat; every distance is
//! geodesic (`geo::Geodesic`, Karney). The largest signed depth of the
//! proposal in a zone (distance to the zone boundary, positive inside,
//! negative outside) is found by a branch-and-bound over the proposal's
//! edges: a piece of edge at most `L` long (a bound of its length on the
//! ellipsoid) lies within `L/2` of its midpoint, and the signed depth is
//! 1-Lipschitz, so a piece whose midpoint value plus `L/2` cannot beat the
//! best value found is dropped; the rest are halved, down to centimetres
//! near a zone. Distances from a point to a zone boundary are found the same
//! way over the boundary's segments. A zone partly or wholly inside the
//! proposal is found by point-in-polygon, and its depth by a grid of points.
//! The distance to the site is the same search against the site outline.
//!
//! Compared, for every site and every zone that protects the proposal's
//! class: the set of conflicting (site, zone) pairs, except within 5 cm of
//! the zone boundary (two grid cells for iso-risk zones, where the field
//! decides: see [`BAND_M`]); the reported distance to the site (25 cm +
//! 0.1 %), the required distance, and the sign and size of the margin. A
//! refusal (`FrameError`) is allowed; a wrong "clear" never is.
//!
//! `PROPTEST_CASES` sets the number of random cases (160 by default, about
//! 20 s in a debug build).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};
use std::time::Instant;

use geo::{
    BoundingRect, Centroid, Coord, Destination, Distance, Geodesic, Geometry, LineString, Point,
    Polygon, Rect,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestRunner};
use riskmap_core::model::{
    Enterprise, Installation, ProtectionTarget, Record, Substance, TargetCategory, Unit, UnitKind,
};
use riskmap_core::{Catalog, Collection, Feature};
use riskmap_safety::TargetClass;
use riskmap_safety::site::{
    LocalFrame, ProposedUse, SafetyConfig, SafetyState, SafetyZone, SitingAnswer, ZoneKind,
    check_proposal,
};
use serde_json::Map;

// ---------------------------------------------------------------------------
// The oracle: geodesic distances, branch-and-bound over lon/lat-straight edges.
// ---------------------------------------------------------------------------

/// The largest radius of curvature of the WGS84 ellipsoid (meridian and prime
/// vertical at the poles, a/√(1−e²)), rounded up, metres.
const R_MAX: f64 = 6_399_600.0;
/// Precision of a point-to-boundary distance `d`: 5 mm + 0.01 %, metres.
fn tol_d(d: f64) -> f64 {
    0.005 + 1e-4 * d.abs().min(1e7)
}
/// Precision of the largest signed depth `v` along the proposal's edges:
/// 2 cm + 0.1 %, metres.
fn eps_f(v: f64) -> f64 {
    0.02 + 1e-3 * v.abs().min(1e7)
}
/// Pieces examined per search before it settles for an interval.
const MAX_PIECES: usize = 4000;

fn geod(a: Coord<f64>, b: Coord<f64>) -> f64 {
    Geodesic.distance(Point::from(a), Point::from(b))
}

fn mid(a: Coord<f64>, b: Coord<f64>) -> Coord<f64> {
    Coord {
        x: 0.5 * (a.x + b.x),
        y: 0.5 * (a.y + b.y),
    }
}

/// An upper bound of the length on the ellipsoid of the lon/lat-straight
/// segment a→b: ds² = M²dφ² + N²cos²φ dλ² with M, N ≤ `R_MAX` and cos φ at
/// most its value at the latitude nearest the equator.
fn len_bound(a: Coord<f64>, b: Coord<f64>) -> f64 {
    let dphi = (b.y - a.y).to_radians();
    let dlam = (b.x - a.x).to_radians();
    let lat_min = if a.y.signum() != b.y.signum() {
        0.0
    } else {
        a.y.abs().min(b.y.abs())
    };
    let c = lat_min.to_radians().cos();
    R_MAX * (dphi * dphi + c * c * dlam * dlam).sqrt()
}

/// Crossing-number point-in-polygon over every ring, in lon/lat (edges
/// straight in lon/lat, as GeoJSON reads them).
fn inside_rings(rings: &[Vec<Coord<f64>>], p: Coord<f64>) -> bool {
    let mut inside = false;
    for ring in rings {
        for w in ring.windows(2) {
            let (a, b) = (w[0], w[1]);
            if (a.y > p.y) != (b.y > p.y) {
                let x = a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x);
                if p.x < x {
                    inside = !inside;
                }
            }
        }
    }
    inside
}

fn rings_of(g: &Geometry<f64>) -> Vec<Vec<Coord<f64>>> {
    fn poly(p: &Polygon<f64>, out: &mut Vec<Vec<Coord<f64>>>) {
        for r in std::iter::once(p.exterior()).chain(p.interiors()) {
            let mut v = r.0.clone();
            if v.first() != v.last() {
                v.push(v[0]);
            }
            out.push(v);
        }
    }
    let mut out = Vec::new();
    match g {
        Geometry::Polygon(p) => poly(p, &mut out),
        Geometry::MultiPolygon(mp) => mp.0.iter().for_each(|p| poly(p, &mut out)),
        Geometry::Rect(r) => poly(&r.to_polygon(), &mut out),
        other => panic!("not an area: {other:?}"),
    }
    out
}

struct Chunk {
    centre: Coord<f64>,
    radius: f64,
    /// Segments (a, b, length bound).
    segs: Vec<(Coord<f64>, Coord<f64>, f64)>,
}

/// A zone or a site as the oracle sees it: an area (rings) or a point.
struct Shape {
    rings: Vec<Vec<Coord<f64>>>,
    point: Option<Coord<f64>>,
    chunks: Vec<Chunk>,
    /// Every point of the shape is within `radius` of `centre`.
    centre: Coord<f64>,
    radius: f64,
    bbox: Rect<f64>,
}

impl Shape {
    fn new(g: &Geometry<f64>) -> Shape {
        if let Geometry::Point(p) = g {
            return Shape {
                rings: Vec::new(),
                point: Some(p.0),
                chunks: Vec::new(),
                centre: p.0,
                radius: 0.0,
                bbox: Rect::new(p.0, p.0),
            };
        }
        let rings = rings_of(g);
        let bbox = g.bounding_rect().unwrap();
        let centre = bbox.center();
        let mut chunks = Vec::new();
        let mut radius: f64 = 0.0;
        let n: usize = rings.iter().map(|r| r.len() - 1).sum();
        // About 48 chunks, of 4 segments at least.
        let per_chunk = n.div_ceil(48).max(4);
        for ring in &rings {
            let segs: Vec<(Coord<f64>, Coord<f64>, f64)> = ring
                .windows(2)
                .map(|w| (w[0], w[1], len_bound(w[0], w[1])))
                .collect();
            for part in segs.chunks(per_chunk) {
                let c = part[part.len() / 2].0;
                let half = part.iter().map(|s| s.2).fold(0.0, f64::max) / 2.0;
                let r = part
                    .iter()
                    .flat_map(|s| [s.0, s.1])
                    .map(|v| geod(c, v))
                    .fold(0.0, f64::max)
                    + half;
                chunks.push(Chunk {
                    centre: c,
                    radius: r,
                    segs: part.to_vec(),
                });
                radius =
                    radius.max(part.iter().map(|s| geod(centre, s.0)).fold(0.0, f64::max) + half);
            }
        }
        Shape {
            rings,
            point: None,
            chunks,
            centre,
            radius: radius + 0.01,
            bbox,
        }
    }

    fn inside(&self, p: Coord<f64>) -> bool {
        self.point.is_none() && inside_rings(&self.rings, p)
    }

    /// Geodesic distance from `x` to the boundary: a distance reached, at
    /// most `tol(distance)` above the shortest.
    fn dist_boundary_within(&self, x: Coord<f64>, tol: &dyn Fn(f64) -> f64) -> f64 {
        if let Some(p) = self.point {
            return geod(x, p);
        }
        let mut order: Vec<(f64, usize)> = self
            .chunks
            .iter()
            .enumerate()
            .map(|(i, c)| (geod(x, c.centre) - c.radius, i))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut best = f64::INFINITY;
        for (lb, i) in order {
            if lb >= best - tol(best) {
                break;
            }
            for &(a, b, len) in &self.chunks[i].segs {
                let mut stack = vec![(a, b, len)];
                while let Some((a, b, len)) = stack.pop() {
                    let m = mid(a, b);
                    let dm = geod(x, m);
                    best = best.min(dm);
                    if dm - len / 2.0 >= best - tol(best) || len <= tol(best) {
                        continue;
                    }
                    stack.push((a, m, len_bound(a, m)));
                    stack.push((m, b, len_bound(m, b)));
                }
            }
        }
        best
    }

    /// Bounds of the signed depth at `x` (distance to the boundary, positive
    /// inside, negative outside).
    fn depth(&self, x: Coord<f64>) -> (f64, f64) {
        let d = self.dist_boundary_within(x, &tol_d);
        if self.inside(x) {
            (d - tol_d(d), d)
        } else {
            (-d, -d + tol_d(d))
        }
    }

    /// A lower bound of the depth of `x`, within 1 m + 10 % (cheap even far
    /// inside, where every part of the boundary is about as far).
    fn depth_lower(&self, x: Coord<f64>) -> f64 {
        if !self.inside(x) {
            return f64::NEG_INFINITY;
        }
        let tol = |d: f64| 1.0 + 0.1 * d.min(1e7);
        let d = self.dist_boundary_within(x, &tol);
        d - tol(d)
    }

    /// A vertex of every ring (or the point): a part of the shape inside a
    /// proposal, away from its edges, holds one.
    fn vertices(&self) -> impl Iterator<Item = Coord<f64>> + '_ {
        self.point
            .into_iter()
            .chain(self.rings.iter().map(|r| r[0]))
    }
}

/// A proposal as the oracle sees it.
enum Prop {
    Point(Coord<f64>),
    Area(Vec<Vec<Coord<f64>>>),
}

impl Prop {
    fn new(g: &Geometry<f64>) -> Prop {
        match g {
            Geometry::Point(p) => Prop::Point(p.0),
            other => Prop::Area(rings_of(other)),
        }
    }
}

/// Bounds of the largest signed depth of a proposal in a shape.
#[derive(Debug, Clone, Copy)]
struct Depth {
    /// A point of the proposal is at least this deep (−∞: none found).
    lo: f64,
    /// No point of the proposal is deeper.
    hi: f64,
}

impl Depth {
    /// Bounds of the distance between the proposal and the shape.
    fn distance(&self) -> (f64, f64) {
        ((-self.hi).max(0.0), (-self.lo).max(0.0))
    }
}

/// When a search may stop: once a point deeper than `above` is found, or
/// once no point can be deeper than `below`.
#[derive(Debug, Clone, Copy)]
struct Stop {
    above: f64,
    below: f64,
}

struct Piece {
    ub: f64,
    a: Coord<f64>,
    b: Coord<f64>,
    len: f64,
    exact: bool,
}

impl PartialEq for Piece {
    fn eq(&self, o: &Self) -> bool {
        self.ub.total_cmp(&o.ub) == Ordering::Equal
    }
}
impl Eq for Piece {}
impl PartialOrd for Piece {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Piece {
    fn cmp(&self, o: &Self) -> Ordering {
        self.ub.total_cmp(&o.ub)
    }
}

/// The largest signed depth in `shape` over the lon/lat-straight edges of
/// `rings`, by best-first branch-and-bound (to `eps_f`, or until `stop`).
fn max_depth_on_edges(shape: &Shape, rings: &[Vec<Coord<f64>>], stop: Stop) -> Depth {
    let mut best = f64::NEG_INFINITY;
    let piece = |a: Coord<f64>, b: Coord<f64>, best: &mut f64| -> Piece {
        let m = mid(a, b);
        let len = len_bound(a, b);
        let dc = geod(shape.centre, m);
        if dc - len / 2.0 > shape.radius {
            // Every point of the piece is outside, at least dc − len/2 − R away.
            Piece {
                ub: shape.radius + len / 2.0 - dc,
                a,
                b,
                len,
                exact: false,
            }
        } else {
            let (lo, hi) = shape.depth(m);
            *best = best.max(lo);
            Piece {
                ub: hi + len / 2.0,
                a,
                b,
                len,
                exact: true,
            }
        }
    };
    let mut heap = BinaryHeap::new();
    for ring in rings {
        for w in ring.windows(2) {
            heap.push(piece(w[0], w[1], &mut best));
        }
    }
    let mut pops = 0;
    while let Some(top) = heap.pop() {
        pops += 1;
        let done = top.ub <= best + eps_f(best.max(top.ub));
        if done || best > stop.above || top.ub < stop.below || pops > MAX_PIECES {
            return Depth {
                lo: best,
                hi: top.ub.max(best),
            };
        }
        if top.len <= eps_f(top.ub) {
            if !top.exact {
                best = best.max(shape.depth(mid(top.a, top.b)).0);
            }
            continue;
        }
        let m = mid(top.a, top.b);
        heap.push(piece(top.a, m, &mut best));
        heap.push(piece(m, top.b, &mut best));
    }
    Depth { lo: best, hi: best }
}

/// The deepest point of a grid over the shape that lies in the proposal too
/// (a lower bound of its depth), searched from the middle out; stops above
/// `above`.
fn deepest_grid_point(shape: &Shape, rings: &[Vec<Coord<f64>>], above: f64) -> f64 {
    const N: usize = 16;
    let b = shape.bbox;
    let (dx, dy) = (b.width() / N as f64, b.height() / N as f64);
    let mut cells: Vec<(usize, usize)> = (0..N).flat_map(|i| (0..N).map(move |j| (i, j))).collect();
    cells.sort_by_key(|&(i, j)| (2 * i).abs_diff(N) + (2 * j).abs_diff(N));
    let mut lo = f64::NEG_INFINITY;
    for (i, j) in cells {
        let x = Coord {
            x: b.min().x + (i as f64 + 0.5) * dx,
            y: b.min().y + (j as f64 + 0.5) * dy,
        };
        if inside_rings(rings, x) {
            lo = lo.max(shape.depth_lower(x));
            if lo > above {
                break;
            }
        }
    }
    lo
}

/// Bounds of the largest signed depth of the proposal in `shape`.
fn max_depth(shape: &Shape, prop: &Prop, stop: Stop) -> Depth {
    let rings = match prop {
        Prop::Point(p) => {
            let (lo, hi) = shape.depth(*p);
            return Depth { lo, hi };
        }
        Prop::Area(rings) => rings,
    };
    if shape.vertices().any(|v| inside_rings(rings, v)) {
        // The proposal holds a part of the shape (or all of it): the
        // deepest point may lie inside the proposal, away from its edges;
        // how deep the proposal reaches at most is left open.
        if let Some(p) = shape.point {
            return Depth {
                lo: if inside_rings(rings, p) {
                    0.0
                } else {
                    f64::NEG_INFINITY
                },
                hi: f64::INFINITY,
            };
        }
        let grid = deepest_grid_point(shape, rings, stop.above);
        if grid > stop.above {
            return Depth {
                lo: grid,
                hi: f64::INFINITY,
            };
        }
        let edges = max_depth_on_edges(shape, rings, stop);
        return Depth {
            lo: edges.lo.max(grid),
            hi: f64::INFINITY,
        };
    }
    let edges = max_depth_on_edges(shape, rings, stop);
    if edges.hi < 0.0 {
        // Disjoint: the nearest approach is on the proposal's edges.
        return edges;
    }
    // The proposal's edges enter the shape: it may reach deeper inside.
    let lo = if edges.lo > stop.above {
        edges.lo
    } else {
        edges.lo.max(deepest_grid_point(shape, rings, stop.above))
    };
    Depth {
        lo,
        hi: f64::INFINITY,
    }
}

/// An upper bound of the depth of any point of `shape`: its deepest grid
/// point, plus half a grid cell's diagonal (depth is 1-Lipschitz).
fn deepest_bound(shape: &Shape) -> f64 {
    const N: usize = 16;
    let b = shape.bbox;
    let (dx, dy) = (b.width() / N as f64, b.height() / N as f64);
    let mut best: f64 = 0.0;
    for i in 0..=N {
        for j in 0..=N {
            let x = Coord {
                x: b.min().x + i as f64 * dx,
                y: b.min().y + j as f64 * dy,
            };
            if shape.inside(x) {
                // The distance to a chunk's centre bounds the distance to the boundary.
                let up = shape
                    .chunks
                    .iter()
                    .map(|c| geod(x, c.centre))
                    .fold(f64::INFINITY, f64::min);
                best = best.max(up);
            }
        }
    }
    best + len_bound(
        b.min(),
        Coord {
            x: b.min().x + dx,
            y: b.min().y + dy,
        },
    ) / 2.0
}

// ---------------------------------------------------------------------------
// The world: sites and proposals.
// ---------------------------------------------------------------------------

/// One substance of a site template: name, CAS, the smallest and largest
/// quantity (t), and the kind of unit that holds it.
struct Stock(&'static str, &'static str, f64, f64, UnitKind);

/// Site inventories.
const TEMPLATES: [&[Stock]; 7] = [
    // QRA: chlorine at or above its critical quantity (5 t).
    &[Stock("液氯", "7782-50-5", 5.0, 80.0, UnitKind::Storage)],
    // QRA: LPG above 50 t.
    &[Stock(
        "液化石油气",
        "68476-85-7",
        50.0,
        250.0,
        UnitKind::Storage,
    )],
    // QRA: ammonia above 10 t.
    &[Stock("液氨", "7664-41-7", 10.0, 200.0, UnitKind::Storage)],
    // Code distances: methanol storage.
    &[Stock("甲醇", "67-56-1", 50.0, 2000.0, UnitKind::Storage)],
    // Consequence: TNT.
    &[Stock(
        "2,4,6-三硝基甲苯",
        "118-96-7",
        0.2,
        4.0,
        UnitKind::Storage,
    )],
    // QRA and code distances.
    &[
        Stock("液氯", "7782-50-5", 10.0, 40.0, UnitKind::Storage),
        Stock("甲醇", "67-56-1", 100.0, 1000.0, UnitKind::Storage),
    ],
    // Code distances of a production unit (several distances by class).
    &[Stock("甲醇", "67-56-1", 1.0, 50.0, UnitKind::Production)],
];

#[derive(Debug, Clone)]
enum SiteShape {
    Point,
    /// Width and height (m) and rotation (rad) in the site's local frame.
    Rect(f64, f64, f64),
}

#[derive(Debug, Clone)]
struct SiteSpec {
    template: usize,
    /// Quantity between the template's bounds, 0..1.
    q: f64,
    existing: bool,
    shape: SiteShape,
    /// Explosives: a second unit, placed (fraction of the site's size).
    second_unit: Option<(f64, f64)>,
    /// Position of every site but the first: bearing (°) and distance (m) from it.
    bearing: f64,
    dist_m: f64,
}

#[derive(Debug, Clone)]
enum TargetSpec {
    School,
    /// Households (None: no size given).
    Residential(Option<u32>),
}

#[derive(Debug, Clone)]
enum ShapeSpec {
    Point,
    /// Width and height, nominal metres.
    Box(f64, f64),
    /// Radius (nominal metres), per-vertex radius ratios and angle jitters,
    /// rotation (rad).
    Star(f64, Vec<(f64, f64)>, f64),
}

#[derive(Debug, Clone)]
enum Place {
    /// Around the site: offsets as fractions of the proposal's half-size.
    Contain(f64, f64),
    /// One side along a zone's extreme, `delta` m outside (negative: inside);
    /// the other coordinate at a fraction of the proposal's size.
    Edge(u8, f64, f64),
    /// Centre at a bearing (°) and distance (m) from the site.
    Offset(f64, f64),
}

#[derive(Debug, Clone)]
struct Case {
    lon: f64,
    lat: f64,
    sites: Vec<SiteSpec>,
    target: TargetSpec,
    shape: ShapeSpec,
    place: Place,
    /// Which site and which of its zones the placement refers to.
    pick_site: usize,
    pick_zone: usize,
}

fn substance(name: &str, cas: &str, q: f64) -> Substance {
    Substance {
        name: Some(name.into()),
        cas: Some(cas.into()),
        quantity_t: q,
        hazard_categories: vec![],
    }
}

fn site_feature(id: &str, lon: f64, lat: f64, s: &SiteSpec) -> Feature {
    let frame = LocalFrame::new(lon, lat).unwrap();
    let (geometry, size) = match s.shape {
        SiteShape::Point => (Geometry::Point(Point::new(lon, lat)), 0.0),
        SiteShape::Rect(w, h, rot) => {
            let (c, sn) = (rot.cos(), rot.sin());
            let corners: Vec<Coord<f64>> = [(-w, -h), (w, -h), (w, h), (-w, h), (-w, -h)]
                .iter()
                .map(|&(x, y)| Coord {
                    x: 0.5 * (x * c - y * sn),
                    y: 0.5 * (x * sn + y * c),
                })
                .collect();
            let local = Geometry::Polygon(Polygon::new(LineString::new(corners), vec![]));
            (frame.to_lonlat(&local).unwrap(), w.min(h))
        }
    };
    let inventory = TEMPLATES[s.template];
    let mut units: Vec<Unit> = inventory
        .iter()
        .enumerate()
        .map(|(i, &Stock(name, cas, lo, hi, kind))| Unit {
            id: format!("U{i}"),
            name: None,
            kind,
            geometry: None,
            substances: vec![substance(name, cas, lo + s.q * (hi - lo))],
            processes: vec![],
        })
        .collect();
    if let (Some((fx, fy)), [first]) = (s.second_unit, inventory) {
        // Two units apart: two release points, or a union of blast circles.
        let at = |fx: f64, fy: f64| {
            frame
                .to_lonlat(&Geometry::Point(Point::new(
                    fx * size * 0.4,
                    fy * size * 0.4,
                )))
                .unwrap()
        };
        units[0].geometry = Some(at(fx, fy));
        units.push(Unit {
            id: "U1".into(),
            name: None,
            kind: first.4,
            geometry: Some(at(-fx, -fy)),
            substances: vec![substance(
                first.0,
                first.1,
                first.2 + 0.5 * s.q * (first.3 - first.2),
            )],
            processes: vec![],
        });
    }
    Feature {
        updated: None,
        id: id.into(),
        geometry,
        record: Record::Enterprise(Enterprise {
            name: format!("危化品企业 {id}"),
            credit_code: None,
            industry: Some("化工".into()),
            district_code: None,
            park_id: None,
            employees: Some(80),
            standardization_level: Some(2),
            accidents: vec![],
            units,
            installation: Some(if s.existing {
                Installation::Existing
            } else {
                Installation::New
            }),
            major_hazard_registration: None,
            inspection_findings: Vec::new(),
            extra: Map::new(),
        }),
    }
}

fn target_of(t: &TargetSpec) -> ProtectionTarget {
    let (name, category, population, households) = match t {
        TargetSpec::School => ("拟建小学", TargetCategory::School, Some(1200), None),
        TargetSpec::Residential(h) => ("拟建住宅小区", TargetCategory::Residential, None, *h),
    };
    ProtectionTarget {
        name: Some(name.into()),
        category,
        population,
        households,
        beds: None,
        floor_area_m2: None,
        extra: Map::new(),
    }
}

fn class_of(t: &TargetSpec) -> TargetClass {
    match t {
        TargetSpec::School => TargetClass::HighSensitivity,
        TargetSpec::Residential(None) => TargetClass::General1,
        TargetSpec::Residential(Some(h)) if *h >= 30 => TargetClass::General1,
        TargetSpec::Residential(Some(h)) if *h >= 10 => TargetClass::General2,
        TargetSpec::Residential(Some(_)) => TargetClass::General3,
    }
}

fn dest(from: Coord<f64>, bearing: f64, d: f64) -> Coord<f64> {
    Geodesic.destination(Point::from(from), bearing, d).0
}

/// Nominal metres per degree of longitude and latitude at `lat`.
fn m_per_deg(lat: f64) -> (f64, f64) {
    (111_320.0 * lat.to_radians().cos(), 110_574.0)
}

/// The proposal's geometry for a case, given the site and zone it refers to.
fn proposal_geometry(case: &Case, site: &Feature, zone: Option<&SafetyZone>) -> Geometry<f64> {
    let sc = site.geometry.centroid().unwrap().0;
    // The zone's outline (or the site's, when it has no zone in reach).
    let zb = zone
        .and_then(|z| z.geometry.bounding_rect())
        .unwrap_or_else(|| site.geometry.bounding_rect().unwrap());
    let (mx, my) = m_per_deg(sc.y);
    match (&case.shape, &case.place) {
        (ShapeSpec::Point, Place::Contain(fx, _)) => {
            let reach = geod(sc, zb.max()).max(geod(sc, zb.min())) * 0.7;
            Geometry::Point(Point::from(dest(
                sc,
                fx * 180.0,
                reach * (0.5 + 0.5 * fx.abs()),
            )))
        }
        (ShapeSpec::Point, Place::Edge(side, delta, _)) => {
            let p = match side % 4 {
                0 => Coord {
                    x: sc.x,
                    y: zb.max().y + delta / my,
                },
                1 => Coord {
                    x: sc.x,
                    y: zb.min().y - delta / my,
                },
                2 => Coord {
                    x: zb.max().x + delta / mx,
                    y: sc.y,
                },
                _ => Coord {
                    x: zb.min().x - delta / mx,
                    y: sc.y,
                },
            };
            Geometry::Point(Point::from(p))
        }
        (ShapeSpec::Point, Place::Offset(b, d)) => Geometry::Point(Point::from(dest(sc, *b, *d))),
        (ShapeSpec::Box(w, h), place) => {
            let (wd, hd) = (w / mx, (h / my).min(11.0));
            let (x0, y0) = match place {
                Place::Contain(fx, fy) => (
                    sc.x - wd / 2.0 + fx * 0.45 * wd,
                    sc.y - hd / 2.0 + fy * 0.45 * hd,
                ),
                Place::Edge(side, delta, along) => match side % 4 {
                    // South side along the zone's top: the box lies north.
                    0 => (sc.x - along * wd, zb.max().y + delta / my),
                    1 => (sc.x - along * wd, zb.min().y - delta / my - hd),
                    2 => (zb.max().x + delta / mx, sc.y - along * hd),
                    _ => (zb.min().x - delta / mx - wd, sc.y - along * hd),
                },
                Place::Offset(b, d) => {
                    let c = dest(sc, *b, *d);
                    (c.x - wd / 2.0, c.y - hd / 2.0)
                }
            };
            Geometry::Polygon(Rect::new((x0, y0), (x0 + wd, y0 + hd)).to_polygon())
        }
        (ShapeSpec::Star(r, verts, rot), place) => {
            let n = verts.len();
            let (rx, ry) = (r / mx, (r / my).min(9.0));
            let angle = |i: usize, rot: f64| {
                rot + std::f64::consts::TAU * i as f64 / n as f64
                    + verts[i].1 * std::f64::consts::PI / n as f64 * 0.8
            };
            let (centre, rot) = match place {
                Place::Contain(fx, fy) => {
                    let k = 0.2 * verts.iter().map(|v| v.0).fold(1.0, f64::min);
                    (
                        Coord {
                            x: sc.x + fx * k * rx,
                            y: sc.y + fy * k * ry,
                        },
                        *rot,
                    )
                }
                Place::Edge(side, delta, _) => {
                    // Vertex 0 (no jitter) points back at the zone, just off its extreme.
                    let r0 = verts[0].0;
                    let (v0, a0) = match side % 4 {
                        0 => (
                            Coord {
                                x: sc.x,
                                y: zb.max().y + delta / my,
                            },
                            -90f64,
                        ),
                        1 => (
                            Coord {
                                x: sc.x,
                                y: zb.min().y - delta / my,
                            },
                            90.0,
                        ),
                        2 => (
                            Coord {
                                x: zb.max().x + delta / mx,
                                y: sc.y,
                            },
                            180.0,
                        ),
                        _ => (
                            Coord {
                                x: zb.min().x - delta / mx,
                                y: sc.y,
                            },
                            0.0,
                        ),
                    };
                    let a0 = a0.to_radians();
                    let centre = Coord {
                        x: v0.x - r0 * rx * a0.cos(),
                        y: v0.y - r0 * ry * a0.sin(),
                    };
                    (
                        centre,
                        a0 - verts[0].1 * std::f64::consts::PI / n as f64 * 0.8,
                    )
                }
                Place::Offset(b, d) => (dest(sc, *b, *d), *rot),
            };
            let mut ring: Vec<Coord<f64>> = (0..n)
                .map(|i| {
                    let a = angle(i, rot);
                    Coord {
                        x: centre.x + verts[i].0 * rx * a.cos(),
                        y: centre.y + verts[i].0 * ry * a.sin(),
                    }
                })
                .collect();
            ring.push(ring[0]);
            Geometry::Polygon(Polygon::new(LineString::new(ring), vec![]))
        }
    }
}

// ---------------------------------------------------------------------------
// Strategies.
// ---------------------------------------------------------------------------

/// 10^u for u in the range: log-uniform magnitudes.
fn log_uniform(lo: f64, hi: f64) -> impl Strategy<Value = f64> {
    (lo.log10()..hi.log10()).prop_map(|u| 10f64.powf(u))
}

fn site_spec() -> impl Strategy<Value = SiteSpec> {
    (
        0..TEMPLATES.len(),
        0.0..1.0f64,
        any::<bool>(),
        prop_oneof![
            1 => Just(SiteShape::Point),
            3 => (40.0..500.0f64, 40.0..500.0f64, 0.0..std::f64::consts::PI)
                .prop_map(|(w, h, r)| SiteShape::Rect(w, h, r)),
        ],
        prop::option::of((-1.0..1.0f64, -1.0..1.0f64)),
        0.0..360.0f64,
        log_uniform(300.0, 20_000.0),
    )
        .prop_map(
            |(template, q, existing, shape, second_unit, bearing, dist_m)| SiteSpec {
                template,
                q,
                existing,
                shape,
                second_unit,
                bearing,
                dist_m,
            },
        )
}

fn signed_delta() -> impl Strategy<Value = f64> {
    (any::<bool>(), log_uniform(0.01, 500.0)).prop_map(|(neg, d)| if neg { -d } else { d })
}

fn case() -> impl Strategy<Value = Case> {
    let lon = prop_oneof![
        73.0..135.0f64,
        // Astride a 3° zone boundary (central meridians at multiples of 3°).
        (25u32..=44, -0.05..0.05f64).prop_map(|(k, o)| 1.5 + 3.0 * f64::from(k) + o),
    ];
    let target = prop_oneof![
        2 => Just(TargetSpec::School),
        1 => prop::option::of(prop_oneof![Just(5u32), Just(15), Just(50)])
            .prop_map(TargetSpec::Residential),
    ];
    let shape = prop_oneof![
        1 => Just(ShapeSpec::Point),
        2 => (log_uniform(200.0, 3_000_000.0), log_uniform(200.0, 1_200_000.0))
            .prop_map(|(w, h)| ShapeSpec::Box(w, h)),
        2 => (
            log_uniform(200.0, 2_000_000.0),
            prop::collection::vec((0.25..1.0f64, -1.0..1.0f64), 5..64),
            0.0..std::f64::consts::TAU,
        )
            .prop_map(|(r, v, rot)| ShapeSpec::Star(r, v, rot)),
    ];
    let place = prop_oneof![
        2 => (-1.0..1.0f64, -1.0..1.0f64).prop_map(|(x, y)| Place::Contain(x, y)),
        3 => (0u8..4, signed_delta(), 0.05..0.95f64).prop_map(|(s, d, a)| Place::Edge(s, d, a)),
        1 => (0.0..360.0f64, log_uniform(100.0, 400_000.0)).prop_map(|(b, d)| Place::Offset(b, d)),
    ];
    (
        lon,
        18.0..53.0f64,
        prop::collection::vec(site_spec(), 1..=3),
        target,
        shape,
        place,
        0..3usize,
        0..8usize,
    )
        .prop_map(
            |(lon, lat, sites, target, shape, place, pick_site, pick_zone)| Case {
                lon,
                lat,
                sites,
                target,
                shape,
                place,
                pick_site,
                pick_zone,
            },
        )
}

// ---------------------------------------------------------------------------
// The comparison.
// ---------------------------------------------------------------------------

/// Half-width of the band around a zone boundary within which either
/// answer counts as agreement, metres. The code measures in the site's
/// Gauss–Krüger frame, which is conformal, so a proposal meets a zone there
/// exactly when it does on the ellipsoid; what remains is the zone's and the
/// site's own edges (straight in the frame, read straight in lon/lat here:
/// millimetres for 500 m edges) and the oracle's precision (centimetres).
/// Iso-risk zones widen it to two grid cells: there the field decides, and
/// the contour is drawn from the grid.
const BAND_M: f64 = 0.05;

/// Tolerance of a reported distance `d` to a site: 25 cm + 0.1 % (the frame's
/// scale is within 0.04 % of 1 within 1.6° of its central meridian).
fn dist_tol(d: f64) -> f64 {
    0.25 + 1e-3 * d
}

#[derive(Debug, Default, Clone)]
struct Stats {
    /// Proposals checked.
    cases: usize,
    /// Proposals refused (FrameError).
    refused: usize,
    /// Over 3° wide.
    wide: usize,
    /// (site, zone protecting the class) pairs judged.
    pairs: usize,
    /// Pairs the oracle finds in conflict / clear / within the band.
    conflicts: usize,
    clear: usize,
    banded: usize,
    /// Answers with conflicts / clear.
    answers_conflict: usize,
    answers_clear: usize,
    /// Largest difference between a reported distance and the oracle's, m.
    max_dist_err_m: f64,
    /// Per zone kind: pairs in conflict and clear.
    by_kind: BTreeMap<&'static str, (usize, usize)>,
    /// Per zone kind, within the band: the largest distance outside a zone
    /// reported as a conflict, and the largest depth inside one not reported.
    band_disagreement: BTreeMap<&'static str, (f64, f64)>,
}

impl Stats {
    fn add(&mut self, s: Stats) {
        self.cases += s.cases;
        self.refused += s.refused;
        self.wide += s.wide;
        self.pairs += s.pairs;
        self.conflicts += s.conflicts;
        self.clear += s.clear;
        self.banded += s.banded;
        self.answers_conflict += s.answers_conflict;
        self.answers_clear += s.answers_clear;
        self.max_dist_err_m = self.max_dist_err_m.max(s.max_dist_err_m);
        for (k, v) in s.by_kind {
            let e = self.by_kind.entry(k).or_default();
            e.0 += v.0;
            e.1 += v.1;
        }
        for (k, v) in s.band_disagreement {
            let e = self.band_disagreement.entry(k).or_default();
            e.0 = e.0.max(v.0);
            e.1 = e.1.max(v.1);
        }
    }
}

fn kind_name(k: ZoneKind) -> &'static str {
    match k {
        ZoneKind::IsoRisk => "iso_risk",
        ZoneKind::CodeDistance => "code_distance",
        ZoneKind::Consequence => "consequence",
    }
}

/// Builds the catalogue and state of a case.
fn world(case: &Case, cfg: &SafetyConfig) -> (Catalog, SafetyState, Vec<Feature>) {
    let anchor = Coord {
        x: case.lon,
        y: case.lat,
    };
    let features: Vec<Feature> = case
        .sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let at = if i == 0 {
                anchor
            } else {
                dest(anchor, s.bearing, s.dist_m)
            };
            site_feature(&format!("site{i}"), at.x, at.y, s)
        })
        .collect();
    let mut cat = Catalog::new();
    cat.load(Collection::Enterprises, features.clone());
    let state = SafetyState::compute(&cat, cfg);
    (cat, state, features)
}

/// The answer must agree with the oracle. Returns Err with a description.
fn compare(
    answer: &SitingAnswer,
    geometry: &Geometry<f64>,
    class: TargetClass,
    state: &SafetyState,
    features: &[Feature],
    stats: &mut Stats,
) -> Result<(), String> {
    let prop = Prop::new(geometry);
    if answer.target_class != Some(class) {
        return Err(format!(
            "class {:?}, expected {class:?}",
            answer.target_class
        ));
    }
    let mut oracle_conflicts = 0;
    for a in state.sites.values() {
        let site_geom = &features
            .iter()
            .find(|f| f.id == a.site_id)
            .unwrap()
            .geometry;
        let site_shape = Shape::new(site_geom);
        let mut site_dist: Option<(f64, f64)> = None;
        let mut dist_to_site = || -> (f64, f64) {
            *site_dist.get_or_insert_with(|| {
                max_depth(
                    &site_shape,
                    &prop,
                    Stop {
                        above: 0.0,
                        below: -50_000.0,
                    },
                )
                .distance()
            })
        };
        for z in a.zones.iter().filter(|z| z.classes.contains(&class)) {
            stats.pairs += 1;
            let shape = Shape::new(&Geometry::MultiPolygon(z.geometry.clone()));
            let band = match z.kind {
                ZoneKind::IsoRisk => BAND_M.max(2.0 * a.grid.as_ref().unwrap().cell_m),
                ZoneKind::CodeDistance | ZoneKind::Consequence => BAND_M,
            };
            let d = max_depth(
                &shape,
                &prop,
                Stop {
                    above: band,
                    below: -band,
                },
            );
            let reported = answer.conflicts.iter().find(|c| c.zone_id == z.id);
            let e = stats.by_kind.entry(kind_name(z.kind)).or_default();
            let oracle = if d.lo > band {
                e.0 += 1;
                stats.conflicts += 1;
                oracle_conflicts += 1;
                Some(true)
            } else if d.hi < -band {
                e.1 += 1;
                stats.clear += 1;
                Some(false)
            } else {
                stats.banded += 1;
                // How far the answer strays inside the band.
                let e = stats
                    .band_disagreement
                    .entry(kind_name(z.kind))
                    .or_default();
                if reported.is_some() && d.hi < 0.0 {
                    e.0 = e.0.max(-d.hi);
                }
                if reported.is_none() && d.lo > 0.0 {
                    e.1 = e.1.max(d.lo);
                }
                None
            };
            match (oracle, reported) {
                (Some(true), None) => {
                    return Err(format!(
                        "{}: the proposal reaches {:.3}–{:.3} m into the zone, but no conflict \
                         is reported (band {band:.2} m); conflicts: {:?}",
                        z.id,
                        d.lo,
                        d.hi,
                        answer
                            .conflicts
                            .iter()
                            .map(|c| &c.zone_id)
                            .collect::<Vec<_>>()
                    ));
                }
                (Some(false), Some(c)) => {
                    return Err(format!(
                        "{}: the proposal stays {:.3}–{:.3} m outside the zone, yet a conflict \
                         is reported: {c:#?}",
                        z.id, -d.hi, -d.lo
                    ));
                }
                _ => {}
            }
            let Some(c) = reported else { continue };
            // A reported conflict: its figures.
            if c.site_id != a.site_id || c.target_class != class {
                return Err(format!("{}: wrong site or class: {c:#?}", z.id));
            }
            if c.required_distance_m != z.distance_m {
                return Err(format!(
                    "{}: required {} m, the zone says {} m",
                    z.id, c.required_distance_m, z.distance_m
                ));
            }
            let (dlo, dhi) = dist_to_site();
            let tol = dist_tol(dhi);
            if c.distance_m < dlo - tol || c.distance_m > dhi + tol {
                return Err(format!(
                    "{}: distance to the site {:.3} m, the oracle says {dlo:.3}–{dhi:.3} m",
                    z.id, c.distance_m
                ));
            }
            if dhi - dlo < 0.1 {
                let err = (c.distance_m - 0.5 * (dlo + dhi)).abs();
                stats.max_dist_err_m = stats.max_dist_err_m.max(err);
            }
            if c.margin_m >= 0.0 {
                return Err(format!(
                    "{}: a conflict with margin {} ≥ 0",
                    z.id, c.margin_m
                ));
            }
            match z.kind {
                ZoneKind::CodeDistance => {
                    if (c.margin_m - (c.distance_m - z.distance_m)).abs() > 1e-6 {
                        return Err(format!(
                            "{}: margin {} ≠ distance − required",
                            z.id, c.margin_m
                        ));
                    }
                }
                ZoneKind::IsoRisk | ZoneKind::Consequence => {
                    // The probes lie in the proposal: no deeper than the oracle allows
                    // (in the frame's metres).
                    let most = d.hi.min(deepest_bound(&shape));
                    // The frame's scale (< 0.04 %) is within the distance tolerance.
                    if -c.margin_m > most + dist_tol(most) {
                        return Err(format!(
                            "{}: margin {:.3} m, but the proposal reaches at most {most:.3} m in",
                            z.id, c.margin_m
                        ));
                    }
                    if z.kind == ZoneKind::IsoRisk
                        && !(c.individual_risk_per_year >= z.level
                            && c.criterion_per_year == z.level)
                    {
                        return Err(format!("{}: risk figures {c:#?}", z.id));
                    }
                }
            }
        }
        // The distance given for a considered site.
        if let Some(k) = answer.considered.iter().find(|k| k.id == a.site_id) {
            let (dlo, dhi) = dist_to_site();
            let tol = dist_tol(dhi);
            if k.distance_m < dlo - tol || (dhi < 1000.0 && k.distance_m > dhi + tol) {
                return Err(format!(
                    "considered {}: {:.3} m, the oracle says {dlo:.3}–{dhi:.3} m",
                    a.site_id, k.distance_m
                ));
            }
        }
    }
    // No conflict with a zone that does not protect the class, or twice.
    for c in &answer.conflicts {
        let ok = state.sites.get(&c.site_id).is_some_and(|a| {
            a.zones
                .iter()
                .any(|z| z.id == c.zone_id && z.classes.contains(&class))
        });
        if !ok {
            return Err(format!(
                "a conflict with a zone that does not protect {class:?}: {c:#?}"
            ));
        }
    }
    let mut ids: Vec<&String> = answer.conflicts.iter().map(|c| &c.zone_id).collect();
    ids.sort();
    ids.dedup();
    if ids.len() != answer.conflicts.len() {
        return Err("a zone reported twice".into());
    }
    if oracle_conflicts > 0 && answer.clear {
        return Err("clear, while the oracle finds conflicts".into());
    }
    if answer.clear != answer.conflicts.is_empty() {
        return Err("clear disagrees with the conflicts".into());
    }
    if answer.clear {
        stats.answers_clear += 1;
    } else {
        stats.answers_conflict += 1;
    }
    Ok(())
}

fn run_case(case: &Case, cfg: &SafetyConfig, stats: &mut Stats) -> Result<(), String> {
    let (cat, state, features) = world(case, cfg);
    let site = &features[case.pick_site % features.len()];
    let zones: Vec<&SafetyZone> = state
        .sites
        .get(&site.id)
        .map(|a| a.zones.iter().collect())
        .unwrap_or_default();
    let zone = (!zones.is_empty()).then(|| zones[case.pick_zone % zones.len()]);
    let geometry = proposal_geometry(case, site, zone);
    check(&geometry, &case.target, &state, &cat, &features, cfg, stats)
}

/// Checks a proposal and compares the answer with the oracle's.
fn check(
    geometry: &Geometry<f64>,
    target: &TargetSpec,
    state: &SafetyState,
    cat: &Catalog,
    features: &[Feature],
    cfg: &SafetyConfig,
    stats: &mut Stats,
) -> Result<(), String> {
    stats.cases += 1;
    if geometry.bounding_rect().is_some_and(|b| b.width() > 3.0) {
        stats.wide += 1;
    }
    let proposal = ProposedUse::Target(target_of(target));
    match check_proposal(&proposal, geometry, state, cat, cfg) {
        // A refusal is an answer; a wrong "clear" is not.
        Err(_) => {
            stats.refused += 1;
            Ok(())
        }
        Ok(answer) => compare(&answer, geometry, class_of(target), state, features, stats),
    }
}

#[test]
fn siting_answers_agree_with_a_geodesic_oracle() {
    let cfg = SafetyConfig::embedded();
    let mut runner = TestRunner::new(Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(160),
        source_file: Some(file!()),
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    });
    let stats = std::cell::RefCell::new(Stats::default());
    let t = Instant::now();
    let result = runner.run(&case(), |c| {
        let mut s = Stats::default();
        let r = run_case(&c, &cfg, &mut s);
        if r.is_ok() {
            stats.borrow_mut().add(s);
        }
        r.map_err(TestCaseError::fail)
    });
    let s = stats.into_inner();
    println!("{s:#?}\nin {:.1?}", t.elapsed());
    if let Err(e) = result {
        panic!("{e}");
    }
    // Enough of each outcome for the comparison to mean something.
    assert!(s.conflicts >= 20 && s.clear >= 20, "{s:?}");
    assert!(s.answers_clear >= 10 && s.answers_conflict >= 10, "{s:?}");
    assert!(s.wide >= 10, "{s:?}");
    assert!(s.refused * 10 <= s.cases, "{s:?}");
}

/// A catalogue of the given sites (id, lon, lat, spec) and its state.
fn world_of(
    sites: &[(&str, f64, f64, SiteSpec)],
    cfg: &SafetyConfig,
) -> (Catalog, SafetyState, Vec<Feature>) {
    let features: Vec<Feature> = sites
        .iter()
        .map(|(id, lon, lat, s)| site_feature(id, *lon, *lat, s))
        .collect();
    let mut cat = Catalog::new();
    cat.load(Collection::Enterprises, features.clone());
    let state = SafetyState::compute(&cat, cfg);
    (cat, state, features)
}

fn spec(template: usize, q: f64, shape: SiteShape) -> SiteSpec {
    SiteSpec {
        template,
        q,
        existing: false,
        shape,
        second_unit: None,
        bearing: 0.0,
        dist_m: 0.0,
    }
}

/// The issue's case: a school box over 30.2–30.4° N, from 0.5° to 60° wide,
/// with hazardous sites inside it (one astride the 121.5° E zone boundary,
/// one whose zone crosses the box's north edge) is never clear, and every
/// answer agrees with the oracle.
#[test]
fn the_wide_school_box_of_the_issue_is_never_clear() {
    let cfg = SafetyConfig::embedded();
    let (cat, state, features) = world_of(
        &[
            (
                "chlorine",
                120.62,
                30.30,
                spec(0, 0.6, SiteShape::Rect(200.0, 160.0, 0.3)),
            ),
            ("tnt", 121.5002, 30.25, spec(4, 0.5, SiteShape::Point)),
            (
                "methanol",
                120.30,
                30.3995,
                spec(3, 0.8, SiteShape::Rect(300.0, 120.0, 1.1)),
            ),
            ("lpg", 102.0, 30.35, spec(1, 0.5, SiteShape::Point)),
        ],
        &cfg,
    );
    let mut stats = Stats::default();
    for width in [0.5, 3.0, 6.0, 10.0, 20.0, 60.0] {
        let (w, e) = (120.45 - width / 2.0, 120.45 + width / 2.0);
        let g = Geometry::Polygon(Rect::new((w, 30.2), (e, 30.4)).to_polygon());
        let before = stats.answers_conflict;
        check(
            &g,
            &TargetSpec::School,
            &state,
            &cat,
            &features,
            &cfg,
            &mut stats,
        )
        .unwrap_or_else(|e| panic!("{width}°: {e}"));
        assert_eq!(stats.answers_conflict, before + 1, "{width}°: clear");
    }
    assert_eq!(stats.refused, 0, "{stats:?}");
    assert_eq!(stats.banded, 0, "{stats:?}");
}

/// A box of any width whose lon/lat edge enters a zone by 30 cm at 53° N
/// conflicts with it, and one whose edge stays 30 cm outside does not.
/// (Cut to the site's reach, the edge is a few kilometres of a parallel: its
/// ends alone, projected, give a chord up to 0.7 m poleward of it, which
/// once turned the first into "clear" and the second into a conflict.)
#[test]
fn a_box_edge_decimetres_from_a_zone_at_53_n_is_judged_by_its_lon_lat_line() {
    let cfg = SafetyConfig::embedded();
    let (cat, state, features) = world_of(
        &[
            ("tnt", 121.3, 53.0, spec(4, 0.5, SiteShape::Point)),
            (
                "methanol",
                124.0,
                53.2,
                spec(3, 0.8, SiteShape::Rect(300.0, 200.0, 0.0)),
            ),
        ],
        &cfg,
    );
    let mut stats = Stats::default();
    for a in state.sites.values() {
        for z in &a.zones {
            let zb = z.geometry.bounding_rect().unwrap();
            let sc = features
                .iter()
                .find(|f| f.id == a.site_id)
                .unwrap()
                .geometry
                .centroid()
                .unwrap();
            let my = m_per_deg(sc.y()).1;
            for width in [1.0, 5.0, 20.0] {
                for delta in [-0.3, 0.3] {
                    // North of the site, the south edge `delta` m off the zone's top;
                    // south of it, the north edge `delta` m off its bottom.
                    let top = zb.max().y + delta / my;
                    let bottom = zb.min().y - delta / my;
                    let (w, e) = (sc.x() - width / 3.0, sc.x() + 2.0 * width / 3.0);
                    for g in [
                        Rect::new((w, top), (e, top + 0.2)),
                        Rect::new((w, bottom - 0.2), (e, bottom)),
                    ] {
                        let g = Geometry::Polygon(g.to_polygon());
                        let ans = check_proposal(
                            &ProposedUse::Target(target_of(&TargetSpec::School)),
                            &g,
                            &state,
                            &cat,
                            &cfg,
                        )
                        .unwrap();
                        let found = ans.conflicts.iter().any(|c| c.zone_id == z.id);
                        assert_eq!(
                            found,
                            delta < 0.0,
                            "{} {width}° wide, {delta} m: {:?}",
                            z.id,
                            ans.conflicts.iter().map(|c| &c.zone_id).collect::<Vec<_>>()
                        );
                        check(
                            &g,
                            &TargetSpec::School,
                            &state,
                            &cat,
                            &features,
                            &cfg,
                            &mut stats,
                        )
                        .unwrap_or_else(|e| panic!("{} {width}° wide, {delta} m: {e}", z.id));
                    }
                }
            }
        }
    }
    assert_eq!(stats.banded, 0, "{stats:?}");
}

//! Building one MVT layer from WGS84 features (project, clip, simplify,
//! aggregate, fit the byte budget, encode) and joining layers into a tile.

use std::num::NonZeroU32;

use geo::Geometry;
use i_overlay::i_float::int::point::IntPoint;

use crate::encode::{LayerWriter, Value};
use crate::feature::{PropRef, TileFeature, TileItem, numeric_id, risk_level_name};
use crate::geom::{Clipper, Px, PxGeom, round_point};
use crate::pyramid::{PointPyramid, Slot, TileCells, quantize};
use crate::tile::{PixelProjector, TileCoord, lonlat_to_mercator};

/// How a layer is generalised and encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct TileOptions {
    /// Pixels along a tile side (MVT `extent`). Default 4096.
    pub extent: u32,
    /// Pixels kept around the tile so that lines, polygon edges and point
    /// symbols continue seamlessly into the neighbours. Default 64.
    pub buffer: u32,
    /// Douglas–Peucker tolerance in pixels; 0 turns simplification off.
    /// Default 1.0 (one pixel of a 4096 tile: about 0.13 m on the ground at
    /// z16, 0.5 m at z14, 8 m at z10, at 30°N).
    pub simplify_tolerance_px: f64,
    /// Below this zoom, the layer's point features are aggregated into grid
    /// cells. Default 10.
    pub aggregate_below_zoom: u8,
    /// Side of an aggregation cell in pixels (at least 16). Default 64.
    pub aggregate_cell_px: u32,
    /// Largest encoded layer, in bytes; lower-ranked features are dropped
    /// until the layer fits. Default 500 000.
    pub byte_budget: usize,
}

impl Default for TileOptions {
    fn default() -> Self {
        Self {
            extent: 4096,
            buffer: 64,
            simplify_tolerance_px: 1.0,
            aggregate_below_zoom: 10,
            aggregate_cell_px: 64,
            byte_budget: 500_000,
        }
    }
}

/// What happened to a layer's features.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerStats {
    /// Features given.
    pub features_in: usize,
    /// Features with nothing left in the buffered tile: outside it, or
    /// degenerate once simplified and rounded to pixels.
    pub outside: usize,
    /// Point features merged into aggregate cells (cells of one point keep
    /// the feature itself and are not counted).
    pub aggregated: usize,
    /// Aggregate features made (before the byte budget).
    pub aggregates: usize,
    /// Output features dropped to fit the byte budget.
    pub dropped: usize,
    /// Output features dropped to fit the byte budget, by rank (index 0–4;
    /// an aggregate counts at its highest member rank).
    pub dropped_by_rank: [usize; 5],
    /// Features written to the layer (aggregates included).
    pub kept: usize,
    /// Size of the encoded layer in bytes.
    pub bytes: usize,
}

/// One encoded layer, ready for [`encode_tile`].
#[derive(Debug, Clone, PartialEq)]
pub struct LayerData {
    name: String,
    bytes: Vec<u8>,
    stats: LayerStats,
}

impl LayerData {
    /// The layer name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The encoded layer: a `Tile.layers` protobuf field, so that
    /// concatenating layers makes a tile. Empty when the layer has no feature.
    #[must_use]
    pub fn encoded(&self) -> &[u8] {
        &self.bytes
    }

    /// What happened to the features.
    #[must_use]
    pub fn stats(&self) -> &LayerStats {
        &self.stats
    }

    /// Whether the layer has no feature (it is then left out of the tile).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

/// Why a layer or tile could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// MVT layers need a name.
    #[error("a layer name must not be empty")]
    EmptyLayerName,
    /// MVT layer names must be unique within a tile.
    #[error("two layers of the tile are named {0:?}")]
    DuplicateLayerName(String),
    /// The extent must be positive.
    #[error("the tile extent must be positive")]
    ZeroExtent,
    /// A [`PointPyramid`] cannot be made for these options (see
    /// [`PointPyramid::new`]).
    #[error("no point pyramid for these tile options: {0}")]
    UnsupportedPyramid(String),
    /// The tile options differ from those the [`PointPyramid`] was made for.
    #[error("the point pyramid was made for other tile options")]
    PyramidOptions,
    /// A [`PointPyramid`] holds at most 2³² − 1 points.
    #[error("the point pyramid is full")]
    PyramidFull,
}

/// Joins encoded layers into one MVT tile. Empty layers are left out, so a
/// tile without features is zero bytes long (a valid, empty tile).
///
/// # Errors
/// [`TileError::DuplicateLayerName`] when two non-empty layers share a name.
pub fn encode_tile(layers: &[LayerData]) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::with_capacity(layers.iter().map(|l| l.bytes.len()).sum());
    for (i, layer) in layers.iter().enumerate() {
        if layer.is_empty() {
            continue;
        }
        if layers[..i]
            .iter()
            .any(|l| !l.is_empty() && l.name == layer.name)
        {
            return Err(TileError::DuplicateLayerName(layer.name.clone()));
        }
        out.extend_from_slice(&layer.bytes);
    }
    Ok(out)
}

/// Builds one layer of `tile` from features in WGS84.
///
/// The caller selects the features, normally those meeting
/// [`TileCoord::buffered_bounds_lonlat`]; anything else is clipped away
/// here. Each feature is projected once to Web Mercator and the tile's pixel
/// space, simplified, clipped to the tile and its buffer, rounded to pixels
/// and repaired (see the `geom` module doc); below
/// [`TileOptions::aggregate_below_zoom`], point features are aggregated into
/// grid cells; if the encoded layer is larger than
/// [`TileOptions::byte_budget`], features are dropped lowest rank first
/// (within a rank: smallest first — fewest aggregated points, shortest line,
/// smallest polygon — then by id, descending) until it fits. A feature of
/// rank `r` is never dropped while one of a lower rank is kept.
///
/// Aggregation takes `Point` features (a `MultiPoint` is kept as it is) into
/// square cells of [`TileOptions::aggregate_cell_px`] (at least 16); a cell
/// holding one point keeps that feature unchanged. Aggregate features are
/// points at the centroid of their members (rounded, inside their cell) with
/// `count`, `count_red`, `count_orange`, `count_yellow`, `count_blue`,
/// `max_rank` (ranks above 4 count as 4), `risk_level` (the highest; absent
/// when no member has a level) and `aggregated = true`; they have no id.
/// Cells are aligned on the tile's pixel grid, so neighbouring tiles agree on
/// the cells in their shared buffer; which cell a point falls in, whether it
/// is in the buffered tile (`[-buffer, extent + buffer)` here) and the
/// centroid are computed exactly on quantised positions (see
/// [`crate::pyramid`]), so [`build_layer_with_points`] draws the same cells.
///
/// # Errors
/// [`TileError::EmptyLayerName`] or [`TileError::ZeroExtent`].
pub fn build_layer(
    name: &str,
    features: &[&TileFeature],
    tile: TileCoord,
    opts: &TileOptions,
) -> Result<LayerData, TileError> {
    build(name, features, tile, opts, |_, _| {})
}

/// [`build_layer`] for `features` plus the points of a [`PointPyramid`]:
/// below [`TileOptions::aggregate_below_zoom`] the tile's aggregate cells
/// are read from the pyramid (O(cells in the tile), however many points they
/// hold), above it the tile's points are read from its buckets, already in
/// Web Mercator, and their properties written from the items without
/// copying. The layer is the one [`build_layer`] makes when given the
/// pyramid's points as [`TileFeature`]s with the same ids, ranks and
/// properties (in id order) together with `features`, as long as `features`
/// holds no `Point` (those would be aggregated separately from the pyramid's).
///
/// # Errors
/// As [`build_layer`], and [`TileError::PyramidOptions`] when `opts` is not
/// what the pyramid was made for ([`PointPyramid::supports`]).
pub fn build_layer_with_points<P: TileItem>(
    name: &str,
    features: &[&TileFeature],
    points: &PointPyramid<P>,
    tile: TileCoord,
    opts: &TileOptions,
) -> Result<LayerData, TileError> {
    if !points.supports(opts) {
        return Err(TileError::PyramidOptions);
    }
    build(name, features, tile, opts, |out, stats| {
        prepare_points(points, tile, opts, out, stats);
    })
}

fn build<'a>(
    name: &str,
    features: &[&'a TileFeature],
    tile: TileCoord,
    opts: &TileOptions,
    extra: impl FnOnce(&mut Vec<Prepared<'a>>, &mut LayerStats),
) -> Result<LayerData, TileError> {
    if name.is_empty() {
        return Err(TileError::EmptyLayerName);
    }
    let extent = NonZeroU32::new(opts.extent).ok_or(TileError::ZeroExtent)?;
    let mut stats = LayerStats {
        features_in: features.len(),
        ..LayerStats::default()
    };
    let mut prepared = collect_features(features, tile, opts, &mut stats);
    extra(&mut prepared, &mut stats);
    let order = priority_order(&prepared);
    let (bytes, keep) = write_layer(
        name,
        extent.get(),
        order.iter().map(|&i| &prepared[i as usize]),
        opts.byte_budget,
    );
    for &i in &order[keep..] {
        stats.dropped += 1;
        stats.dropped_by_rank[usize::from(prepared[i as usize].rank.min(4))] += 1;
    }
    stats.kept = keep;
    stats.bytes = bytes.len();
    Ok(LayerData {
        name: name.to_owned(),
        bytes,
        stats,
    })
}

/// Projects, clips, simplifies and aggregates the features; returns the
/// output features highest priority first.
#[cfg(test)]
fn prepare_features<'a>(
    features: &[&'a TileFeature],
    tile: TileCoord,
    opts: &TileOptions,
    stats: &mut LayerStats,
) -> Vec<Prepared<'a>> {
    let prepared = collect_features(features, tile, opts, stats);
    let order = priority_order(&prepared);
    let mut slots: Vec<Option<Prepared<'a>>> = prepared.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&i| slots[i as usize].take())
        .collect()
}

/// The first eight bytes of `s`, zero-padded, big-endian: comparing these
/// orders strings as comparing the strings does, unless they are equal.
pub(crate) fn prefix_key(s: &str) -> u64 {
    let b = s.as_bytes();
    let mut a = [0u8; 8];
    let n = b.len().min(8);
    a[..n].copy_from_slice(&b[..n]);
    u64::from_be_bytes(a)
}

/// Indices of `prepared`, highest priority first (rank, then weight, both
/// descending; then id, first member's id and input order, ascending); the
/// kept features are a prefix of this order. Sorting small integer keys
/// (rank, weight, the id's first eight bytes) rather than the features
/// keeps the sort cheap for thousands of features; only runs that tie on
/// them are ordered by the full ids.
fn priority_order(prepared: &[Prepared<'_>]) -> Vec<u32> {
    // `f64::total_cmp` order as unsigned integers, reversed (descending).
    let weight_key = |w: f64| {
        let b = w.to_bits() as i64;
        let b = b ^ ((((b >> 63) as u64) >> 1) as i64);
        !((b as u64) ^ (1 << 63))
    };
    let mut keys: Vec<(u8, u64, u64, u32)> = prepared
        .iter()
        .enumerate()
        .map(|(i, p)| (u8::MAX - p.rank, weight_key(p.weight), p.prefix, i as u32))
        .collect();
    keys.sort_unstable();
    let mut start = 0;
    while start < keys.len() {
        let head = keys[start];
        let end = start
            + keys[start..]
                .iter()
                .take_while(|k| (k.0, k.1, k.2) == (head.0, head.1, head.2))
                .count();
        if end - start > 1 {
            keys[start..end].sort_by(|a, b| {
                let (pa, pb) = (&prepared[a.3 as usize], &prepared[b.3 as usize]);
                pa.sort_id()
                    .cmp(pb.sort_id())
                    .then_with(|| pa.tie.cmp(pb.tie))
                    .then_with(|| pa.order.cmp(&pb.order))
                    // As a stable sort would.
                    .then_with(|| a.3.cmp(&b.3))
            });
        }
        start = end;
    }
    keys.into_iter().map(|k| k.3).collect()
}

/// Projects, clips, simplifies and aggregates the features (unordered).
fn collect_features<'a>(
    features: &[&'a TileFeature],
    tile: TileCoord,
    opts: &TileOptions,
    stats: &mut LayerStats,
) -> Vec<Prepared<'a>> {
    let projector = tile.projector(opts.extent);
    let mut clipper = Clipper::new(opts.extent, opts.buffer, opts.simplify_tolerance_px);
    let aggregate = tile.z < opts.aggregate_below_zoom;
    let mut grid = aggregate.then(|| Grid::new(tile, opts));

    let mut prepared: Vec<Prepared<'a>> = Vec::new();
    let mut geoms: Vec<PxGeom> = Vec::new();
    for (order, &f) in features.iter().enumerate() {
        if let (Some(grid), Geometry::Point(p)) = (grid.as_mut(), &f.geometry) {
            let (mx, my) = lonlat_to_mercator(p.x(), p.y());
            let q = quantize(mx, my);
            if !grid.add(order, projector.project_mercator(mx, my), q, f.rank) {
                stats.outside += 1;
            }
            continue;
        }
        geoms.clear();
        prepare_geometry(&f.geometry, &projector, &mut clipper, &mut geoms);
        if geoms.is_empty() {
            stats.outside += 1;
        }
        for geom in geoms.drain(..) {
            prepared.push(Prepared::feature(f, order, geom));
        }
    }
    if let Some(grid) = grid {
        grid.emit(features, &mut prepared, stats);
    }
    prepared
}

/// The output features of a [`PointPyramid`] in `tile`: its aggregate cells
/// below the aggregation zoom, its points above.
fn prepare_points<'a, P: TileItem>(
    points: &'a PointPyramid<P>,
    tile: TileCoord,
    opts: &TileOptions,
    out: &mut Vec<Prepared<'a>>,
    stats: &mut LayerStats,
) {
    let projector = tile.projector(opts.extent);
    if tile.z < opts.aggregate_below_zoom {
        let cells = TileCells::new(tile, opts);
        points.for_each_cell(tile, |cell, a, first| {
            let n = u64::from(a.count);
            stats.features_in += a.count as usize;
            if n == 1 {
                let p = round_point(projector.project_mercator(first.merc.0, first.merc.1));
                out.push(Prepared::point(first, PxGeom::Point(p)));
                return;
            }
            stats.aggregated += a.count as usize;
            stats.aggregates += 1;
            let max_rank = a.max_rank();
            out.push(Prepared {
                id: None,
                props: Props::Aggregate(Aggregate {
                    count: n,
                    by_rank: a.by_rank.map(u64::from),
                    max_rank,
                }),
                rank: max_rank,
                weight: n as f64,
                prefix: 0,
                tie: first.item.id(),
                order: 0,
                geom: PxGeom::Point(cells.centroid(a.sum, n, cell)),
            });
        });
    } else {
        let clipper = Clipper::new(opts.extent, opts.buffer, opts.simplify_tolerance_px);
        out.reserve(points.count_points(tile));
        points.for_each_point(tile, |slot| {
            let px = projector.project_mercator(slot.merc.0, slot.merc.1);
            if clipper.contains(px) {
                stats.features_in += 1;
                out.push(Prepared::point(slot, PxGeom::Point(round_point(px))));
            }
        });
    }
}

/// Writes the longest prefix of `prepared` (highest priority first) whose
/// framed layer fits `budget` bytes; returns the bytes (empty when nothing
/// fits or there is nothing) and the prefix length. Adding a feature never
/// shrinks a layer, so the first feature that does not fit ends the prefix.
fn write_layer<'a, 'p: 'a>(
    name: &'a str,
    extent: u32,
    prepared: impl IntoIterator<Item = &'a Prepared<'p>>,
    budget: usize,
) -> (Vec<u8>, usize) {
    let prepared = prepared.into_iter();
    let mut w = LayerWriter::new(name, extent, prepared.size_hint().0, budget);
    for f in prepared {
        if !w.try_add(f.id, &f.geom, |tag| f.for_each_tag(tag), budget) {
            break;
        }
    }
    let keep = w.count();
    (w.finish(), keep)
}

/// Converts one WGS84 geometry to clipped pixel geometries, at most one per
/// MVT geometry type (a collection may give several).
fn prepare_geometry(
    geometry: &Geometry<f64>,
    projector: &PixelProjector,
    clipper: &mut Clipper,
    out: &mut Vec<PxGeom>,
) {
    let mut points = Vec::new();
    let mut lines = Vec::new();
    let mut polygons = Vec::new();
    collect(
        geometry,
        projector,
        clipper,
        &mut points,
        &mut lines,
        &mut polygons,
    );
    if !points.is_empty() {
        out.push(PxGeom::Points(points));
    }
    if !lines.is_empty() {
        out.push(PxGeom::Lines(lines));
    }
    if !polygons.is_empty() {
        out.push(PxGeom::Polygons(polygons));
    }
}

fn collect(
    geometry: &Geometry<f64>,
    projector: &PixelProjector,
    clipper: &mut Clipper,
    points: &mut Vec<IntPoint>,
    lines: &mut Vec<Vec<IntPoint>>,
    polygons: &mut Vec<Vec<Vec<IntPoint>>>,
) {
    let proj = |c: &geo::Coord<f64>| projector.project(c.x, c.y);
    let proj_ls = |ls: &geo::LineString<f64>| ls.0.iter().map(proj).collect::<Vec<Px>>();
    let proj_poly = |p: &geo::Polygon<f64>| {
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(proj_ls)
            .collect::<Vec<_>>()
    };
    match geometry {
        Geometry::Point(p) => clipper.points([proj(&p.0)], points),
        Geometry::MultiPoint(mp) => clipper.points(mp.0.iter().map(|p| proj(&p.0)), points),
        Geometry::Line(l) => clipper.line(&[proj(&l.start), proj(&l.end)], lines),
        Geometry::LineString(ls) => clipper.line(&proj_ls(ls), lines),
        Geometry::MultiLineString(mls) => {
            for ls in &mls.0 {
                clipper.line(&proj_ls(ls), lines);
            }
        }
        Geometry::Polygon(p) => clipper.polygon(&proj_poly(p), polygons),
        Geometry::MultiPolygon(mp) => {
            for p in &mp.0 {
                clipper.polygon(&proj_poly(p), polygons);
            }
        }
        Geometry::Rect(r) => clipper.polygon(&proj_poly(&r.to_polygon()), polygons),
        Geometry::Triangle(t) => clipper.polygon(&proj_poly(&t.to_polygon()), polygons),
        Geometry::GeometryCollection(gc) => {
            for g in &gc.0 {
                collect(g, projector, clipper, points, lines, polygons);
            }
        }
    }
}

/// Per-rank member counts of an aggregate cell.
#[derive(Debug, Clone, Copy)]
struct Aggregate {
    count: u64,
    by_rank: [u64; 5],
    max_rank: u8,
}

#[derive(Clone, Copy)]
enum Props<'a> {
    Item(&'a dyn TileItem),
    Aggregate(Aggregate),
}

impl std::fmt::Debug for Props<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Item(i) => f.debug_tuple("Item").field(&i.id()).finish(),
            Self::Aggregate(a) => f.debug_tuple("Aggregate").field(a).finish(),
        }
    }
}

/// One output feature before encoding.
#[derive(Debug)]
struct Prepared<'a> {
    /// The MVT feature id: the item's id when it is numeric. Read when the
    /// feature is made: points of a [`PointPyramid`] are made in memory order,
    /// features are written in priority order.
    id: Option<u64>,
    props: Props<'a>,
    rank: u8,
    weight: f64,
    /// [`prefix_key`] of the id (0 for aggregates, whose id is empty).
    prefix: u64,
    /// Tie-break after the id: the first member's id for an aggregate from
    /// a [`PointPyramid`] (the order of its first member in an id-ordered
    /// input), else empty.
    tie: &'a str,
    order: usize,
    geom: PxGeom,
}

impl<'a> Prepared<'a> {
    fn feature(f: &'a dyn TileItem, order: usize, geom: PxGeom) -> Self {
        Self {
            id: numeric_id(f.id()),
            props: Props::Item(f),
            rank: f.rank(),
            weight: geom.weight(),
            prefix: prefix_key(f.id()),
            tie: "",
            order,
            geom,
        }
    }

    /// A point of a [`PointPyramid`], from what its slot caches and its id.
    fn point<P: TileItem>(slot: &'a Slot<P>, geom: PxGeom) -> Self {
        Self {
            id: numeric_id(slot.item.id()),
            props: Props::Item(&slot.item),
            rank: slot.rank,
            weight: 1.0,
            prefix: slot.prefix,
            tie: "",
            order: 0,
            geom,
        }
    }

    /// The id features are ordered by ("" for aggregates).
    fn sort_id(&self) -> &'a str {
        match self.props {
            Props::Item(f) => f.id(),
            Props::Aggregate(_) => "",
        }
    }

    /// Calls `tag` for every property, in the order they are written.
    fn for_each_tag<'o>(&self, tag: &mut dyn FnMut(&'o str, Value<'o>))
    where
        'a: 'o,
    {
        match self.props {
            Props::Item(f) => {
                if self.id.is_none() && !f.has_id_property() {
                    tag("id", Value::String(f.id()));
                }
                f.for_each_property(&mut |k, v| tag(k, value_of(v)));
            }
            Props::Aggregate(a) => {
                tag("count", Value::UInt(a.count));
                tag("count_red", Value::UInt(a.by_rank[4]));
                tag("count_orange", Value::UInt(a.by_rank[3]));
                tag("count_yellow", Value::UInt(a.by_rank[2]));
                tag("count_blue", Value::UInt(a.by_rank[1]));
                tag("max_rank", Value::UInt(u64::from(a.max_rank)));
                if let Some(level) = risk_level_name(a.max_rank) {
                    tag("risk_level", Value::String(level));
                }
                tag("aggregated", Value::Bool(true));
            }
        }
    }
}

fn value_of(v: PropRef<'_>) -> Value<'_> {
    match v {
        PropRef::String(s) => Value::String(s),
        PropRef::Int(i) => match u64::try_from(i) {
            Ok(u) => Value::UInt(u),
            Err(_) => Value::SInt(i),
        },
        PropRef::Double(d) => Value::Double(d.to_bits()),
        PropRef::Bool(b) => Value::Bool(b),
    }
}

/// The aggregation grid of one tile: square cells aligned on pixel 0,
/// placed exactly on quantised positions ([`TileCells`]).
struct Grid {
    math: TileCells,
    /// Index of the first cell on both axes (negative in the buffer).
    lo: i64,
    side: usize,
    cells: Vec<Cell>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    count: u64,
    by_rank: [u64; 5],
    /// Sums of the quantised coordinates.
    sum: (u64, u64),
    first: usize,
    first_px: Px,
}

impl Grid {
    fn new(tile: TileCoord, opts: &TileOptions) -> Self {
        let math = TileCells::new(tile, opts);
        let (lo, hi) = math.cell_range();
        let side = usize::try_from(hi - lo + 1).unwrap_or(1).max(1);
        Self {
            math,
            lo,
            side,
            cells: vec![Cell::default(); side * side],
        }
    }

    /// Adds a point (pixel position `px`, quantised position `q`); false when
    /// it lies outside the buffered tile.
    fn add(&mut self, order: usize, px: Px, q: (u32, u32), rank: u8) -> bool {
        let Some((col, row)) = self.math.cell_of(q) else {
            return false;
        };
        let idx = |v: i64| usize::try_from(v - self.lo).ok().filter(|&i| i < self.side);
        let Some(c) = idx(row)
            .zip(idx(col))
            .and_then(|(r, c)| self.cells.get_mut(r * self.side + c))
        else {
            return false;
        };
        if c.count == 0 {
            c.first = order;
            c.first_px = px;
        }
        c.count += 1;
        c.by_rank[usize::from(rank.min(4))] += 1;
        c.sum.0 = c.sum.0.saturating_add(u64::from(q.0));
        c.sum.1 = c.sum.1.saturating_add(u64::from(q.1));
        true
    }

    fn emit<'a>(
        self,
        features: &[&'a TileFeature],
        out: &mut Vec<Prepared<'a>>,
        stats: &mut LayerStats,
    ) {
        for (i, c) in self.cells.iter().enumerate() {
            match c.count {
                0 => {}
                1 => {
                    let f = features[c.first];
                    let p = round_point(c.first_px);
                    out.push(Prepared::feature(f, c.first, PxGeom::Point(p)));
                }
                n => {
                    stats.aggregated += usize::try_from(n).unwrap_or(usize::MAX);
                    stats.aggregates += 1;
                    let (row, col) = (i / self.side, i % self.side);
                    let cell = (self.lo + col as i64, self.lo + row as i64);
                    let max_rank = (0..5u8)
                        .rev()
                        .find(|&r| c.by_rank[usize::from(r)] > 0)
                        .unwrap_or(0);
                    out.push(Prepared {
                        id: None,
                        props: Props::Aggregate(Aggregate {
                            count: n,
                            by_rank: c.by_rank,
                            max_rank,
                        }),
                        rank: max_rank,
                        weight: n as f64,
                        prefix: 0,
                        tie: "",
                        order: c.first,
                        geom: PxGeom::Point(self.math.centroid(c.sum, n, cell)),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_tile;
    use crate::feature::PropValue;
    use geo::{Coord, GeometryCollection, LineString, Point, Polygon};

    fn tile() -> TileCoord {
        TileCoord::from_lonlat(120.3, 30.3, 14)
    }

    /// A WGS84 position at pixel (x, y) of [`tile`].
    fn at(x: f64, y: f64) -> Coord<f64> {
        let (lon, lat) = tile().pixel_to_lonlat(x, y, 4096);
        Coord { x: lon, y: lat }
    }

    fn point(id: &str, x: f64, y: f64, rank: u8) -> TileFeature {
        TileFeature {
            id: id.into(),
            geometry: Point(at(x, y)).into(),
            rank,
            properties: vec![("n".into(), PropValue::Int(-5))],
        }
    }

    /// Many features with varied geometry and properties, highest priority first.
    fn sample() -> Vec<TileFeature> {
        let mut out = Vec::new();
        for i in 0..400u32 {
            let (x, y) = (f64::from(i * 37 % 4000), f64::from(i * 101 % 4000));
            let mut f = point(&format!("{}", i * 1_000_003), x, y, (i % 5) as u8);
            f.properties
                .push(("name".into(), format!("n{}", i % 150).into()));
            f.properties
                .push(("v".into(), PropValue::Double(f64::from(i % 7) / 3.0)));
            f.properties
                .push(("ok".into(), PropValue::Bool(i % 2 == 0)));
            if i % 3 == 0 {
                f.id = format!("S{i}");
                f.geometry =
                    LineString(vec![at(x, y), at(x + 300.0, y + 50.0), at(x, y + 200.0)]).into();
            }
            if i % 5 == 0 {
                f.geometry = Polygon::new(
                    LineString(vec![
                        at(x, y),
                        at(x + 90.0, y),
                        at(x + 90.0, y + 60.0),
                        at(x, y),
                    ]),
                    vec![],
                )
                .into();
            }
            out.push(f);
        }
        out
    }

    /// The layer as `fast-mvt` 0.7 writes it (the writer's reference).
    fn fast_mvt_layer(name: &str, prepared: &[Prepared<'_>]) -> Vec<u8> {
        use fast_mvt::{MvtCoord, MvtGeomType, MvtLayerBuilder, MvtValueRef};
        if prepared.is_empty() {
            return Vec::new();
        }
        let c = |p: &IntPoint| MvtCoord { x: p.x, y: p.y };
        let mut layer = MvtLayerBuilder::new(name).unwrap();
        layer.extent(NonZeroU32::new(4096).unwrap());
        for f in prepared {
            let ty = match f.geom {
                PxGeom::Point(_) | PxGeom::Points(_) => MvtGeomType::Point,
                PxGeom::Lines(_) => MvtGeomType::LineString,
                PxGeom::Polygons(_) => MvtGeomType::Polygon,
            };
            let mut fb = layer.feature_of(ty);
            match &f.geom {
                PxGeom::Point(p) => {
                    fb.points([c(p)]).unwrap();
                }
                PxGeom::Points(pts) => {
                    fb.points(pts.iter().map(c)).unwrap();
                }
                PxGeom::Lines(lines) => {
                    for l in lines {
                        fb.line(l.iter().map(c)).unwrap();
                    }
                }
                PxGeom::Polygons(polys) => {
                    for poly in polys {
                        for (i, ring) in poly.iter().enumerate() {
                            fb.ring(ring.iter().map(c), i == 0).unwrap();
                        }
                    }
                }
            }
            fb.id(f.id);
            f.for_each_tag(&mut |k, v| {
                let v = match v {
                    Value::String(s) => MvtValueRef::String(s),
                    Value::Double(bits) => MvtValueRef::Double(f64::from_bits(bits)),
                    Value::UInt(u) => MvtValueRef::UInt(u),
                    Value::SInt(i) => MvtValueRef::SInt(i),
                    Value::Bool(b) => MvtValueRef::Bool(b),
                };
                fb.tag_ref(k, v).unwrap();
            });
            layer = fb.end();
        }
        layer.encode()
    }

    /// Our writer writes fast-mvt's bytes, and the budget keeps exactly the
    /// longest prefix that fits.
    #[test]
    fn the_writer_matches_fast_mvt_and_fits_the_budget() {
        let features = sample();
        let refs: Vec<&TileFeature> = features.iter().collect();
        let opts = TileOptions {
            aggregate_below_zoom: 0,
            ..TileOptions::default()
        };
        let mut stats = LayerStats::default();
        let mut prepared = prepare_features(&refs, tile(), &opts, &mut stats);
        assert!(prepared.len() >= 400);
        // Rings given closed and with the wrong winding are rewound as
        // fast-mvt does; a multi-point and a lone point.
        let ring = |pts: &[(i32, i32)]| pts.iter().map(|&(x, y)| IntPoint::new(x, y)).collect();
        let odd = TileFeature {
            id: "odd".into(),
            geometry: Point(at(1.0, 1.0)).into(),
            rank: 0,
            properties: vec![("big".into(), PropValue::Int(i64::MIN))],
        };
        for geom in [
            PxGeom::Polygons(vec![vec![
                ring(&[(0, 0), (0, 50), (50, 50), (50, 0), (0, 0)]),
                ring(&[(10, 10), (20, 10), (20, 20), (10, 10)]),
            ]]),
            PxGeom::Points(vec![IntPoint::new(3, 4), IntPoint::new(-7, 9)]),
            PxGeom::Point(IntPoint::new(-3, 4000)),
        ] {
            prepared.push(Prepared::feature(&odd, 0, geom));
        }
        for k in [1, 2, 3, 10, 77, 128, 129, 200, 399, prepared.len()] {
            let want = fast_mvt_layer("layer", &prepared[..k]);
            let (bytes, keep) = write_layer("layer", 4096, &prepared[..k], usize::MAX);
            assert_eq!((keep, &bytes), (k, &want), "prefix {k}");
            let (bytes, keep) = write_layer("layer", 4096, &prepared, want.len());
            assert_eq!((keep, bytes.len()), (k, want.len()), "prefix {k}");
            let (bytes, keep) = write_layer("layer", 4096, &prepared, want.len() - 1);
            assert_eq!(keep, k - 1, "prefix {k}");
            assert_eq!(bytes, fast_mvt_layer("layer", &prepared[..k - 1]));
        }
        assert_eq!(write_layer("layer", 4096, &prepared, 0), (Vec::new(), 0));
    }

    #[test]
    fn points_aggregate_per_cell() {
        let given = [
            point("1", 10.0, 10.0, 1),
            point("2", 20.0, 30.0, 4),
            point("3", 60.0, 50.0, 2),
            point("4", 100.0, 10.0, 3),  // alone in its cell: kept as is
            point("5", -10.0, -10.0, 0), // in the buffer
            point("6", -30.0, -50.0, 0), // same buffer cell
            point("7", -100.0, 10.0, 4), // outside the buffer
        ];
        let t = TileCoord::from_lonlat(120.3, 30.3, 8);
        let features: Vec<TileFeature> = given
            .iter()
            .map(|f| {
                // Same pixels in the z8 tile.
                let Geometry::Point(p) = f.geometry else {
                    unreachable!()
                };
                let (x, y) = tile().projector(4096).project(p.x(), p.y());
                let (lon, lat) = t.pixel_to_lonlat(x, y, 4096);
                TileFeature {
                    geometry: Point::new(lon, lat).into(),
                    ..f.clone()
                }
            })
            .collect();
        let refs: Vec<&TileFeature> = features.iter().collect();
        let layer = build_layer("e", &refs, t, &TileOptions::default()).unwrap();
        let s = layer.stats();
        assert_eq!(
            (s.features_in, s.outside, s.aggregated, s.aggregates, s.kept),
            (7, 1, 5, 2, 3)
        );
        let tile = decode_tile(layer.encoded()).unwrap();
        let feats = &tile.layers[0].features;
        // Priority: red aggregate, then the orange point, then the rank-0 aggregate.
        let first = &feats[0];
        assert_eq!(first.id, None);
        let get = |f: &crate::DecodedFeature, k: &str| f.property(k).cloned();
        assert_eq!(get(first, "count"), Some(PropValue::Int(3)));
        assert_eq!(get(first, "count_red"), Some(PropValue::Int(1)));
        assert_eq!(get(first, "count_yellow"), Some(PropValue::Int(1)));
        assert_eq!(get(first, "count_blue"), Some(PropValue::Int(1)));
        assert_eq!(get(first, "count_orange"), Some(PropValue::Int(0)));
        assert_eq!(get(first, "max_rank"), Some(PropValue::Int(4)));
        assert_eq!(get(first, "risk_level"), Some(PropValue::from("red")));
        assert_eq!(get(first, "aggregated"), Some(PropValue::Bool(true)));
        assert_eq!(first.geometry, Geometry::Point(Point::new(30, 30)));
        assert_eq!(feats[1].id, Some(4));
        assert_eq!(get(&feats[1], "n"), Some(PropValue::Int(-5)));
        let last = &feats[2];
        assert_eq!(get(last, "risk_level"), None);
        assert_eq!(get(last, "count"), Some(PropValue::Int(2)));
        assert_eq!(last.geometry, Geometry::Point(Point::new(-20, -30)));
    }

    #[test]
    fn ids_and_collections() {
        let mut named = point("E-7", 100.0, 100.0, 1);
        named.properties.push(("x".into(), PropValue::from("y")));
        let mut has_id = point("E-8", 200.0, 100.0, 1);
        has_id
            .properties
            .insert(0, ("id".into(), PropValue::from("own")));
        let collection = TileFeature {
            id: "9".into(),
            geometry: Geometry::GeometryCollection(GeometryCollection(vec![
                Point(at(300.0, 300.0)).into(),
                LineString(vec![at(0.0, 0.0), at(100.0, 100.0)]).into(),
            ])),
            rank: 2,
            properties: vec![],
        };
        let refs = vec![&named, &has_id, &collection];
        let layer = build_layer("l", &refs, tile(), &TileOptions::default()).unwrap();
        let t = decode_tile(layer.encoded()).unwrap();
        let feats = &t.layers[0].features;
        assert_eq!(feats.len(), 4);
        let by = |id: &'static str| {
            feats
                .iter()
                .filter(move |f| f.id_string().as_deref() == Some(id))
        };
        let n = by("E-7").next().unwrap();
        assert_eq!(n.id, None);
        assert_eq!(n.properties[0], ("id".into(), PropValue::from("E-7")));
        assert_eq!(by("own").next().unwrap().properties.len(), 2);
        assert_eq!(
            by("9").count(),
            2,
            "a collection gives one feature per geometry type"
        );
    }

    #[test]
    fn tiles_join_layers() {
        let a = point("1", 10.0, 10.0, 1);
        let opts = TileOptions::default();
        let l1 = build_layer("a", &[&a], tile(), &opts).unwrap();
        let l2 = build_layer("b", &[&a], tile(), &opts).unwrap();
        let empty = build_layer("c", &[], tile(), &opts).unwrap();
        assert!(empty.is_empty());
        let bytes = encode_tile(&[l1.clone(), empty.clone(), l2]).unwrap();
        let t = decode_tile(&bytes).unwrap();
        assert_eq!(
            t.layers.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(matches!(
            encode_tile(&[l1.clone(), l1]),
            Err(TileError::DuplicateLayerName(_))
        ));
        assert!(encode_tile(&[empty]).unwrap().is_empty());
        assert!(matches!(
            build_layer("", &[&a], tile(), &opts),
            Err(TileError::EmptyLayerName)
        ));
        let zero = TileOptions {
            extent: 0,
            ..TileOptions::default()
        };
        assert!(matches!(
            build_layer("a", &[&a], tile(), &zero),
            Err(TileError::ZeroExtent)
        ));
    }
}

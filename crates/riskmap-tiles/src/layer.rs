//! Building one MVT layer from WGS84 features (project, clip, simplify,
//! aggregate, fit the byte budget, encode) and joining layers into a tile.

use std::collections::HashMap;
use std::num::NonZeroU32;

use fast_mvt::{MvtCoord, MvtGeomType, MvtLayerBuilder, MvtValueRef};
use geo::Geometry;
use i_overlay::i_float::int::point::IntPoint;

use crate::feature::{PropValue, TileFeature, numeric_id, risk_level_name};
use crate::geom::{Clipper, Px, PxGeom};
use crate::tile::{PixelProjector, TileCoord};

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
    /// The MVT encoder refused the data.
    #[error("MVT encoder: {0}")]
    Encode(#[from] fast_mvt::MvtError),
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
/// square cells of [`TileOptions::aggregate_cell_px`]; a cell holding one
/// point keeps that feature unchanged. Aggregate features are points at the
/// centroid of their members (inside their cell) with `count`, `count_red`, `count_orange`, `count_yellow`,
/// `count_blue`, `max_rank`, `risk_level` (the highest; absent when no member
/// has a level) and `aggregated = true`; they have no id. Cells are aligned on
/// the tile's pixel grid, so neighbouring tiles agree on the cells in their
/// shared buffer.
///
/// # Errors
/// [`TileError::EmptyLayerName`], [`TileError::ZeroExtent`], or the encoder's
/// refusal (not expected for any input).
pub fn build_layer(
    name: &str,
    features: &[&TileFeature],
    tile: TileCoord,
    opts: &TileOptions,
) -> Result<LayerData, TileError> {
    if name.is_empty() {
        return Err(TileError::EmptyLayerName);
    }
    let extent = NonZeroU32::new(opts.extent).ok_or(TileError::ZeroExtent)?;
    let mut stats = LayerStats {
        features_in: features.len(),
        ..LayerStats::default()
    };
    let prepared = prepare_features(features, tile, opts, &mut stats);
    let (bytes, keep) = fit_and_encode(name, extent, &prepared, opts.byte_budget, true)?;
    for f in &prepared[keep..] {
        stats.dropped += 1;
        stats.dropped_by_rank[usize::from(f.rank.min(4))] += 1;
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
fn prepare_features<'a>(
    features: &[&'a TileFeature],
    tile: TileCoord,
    opts: &TileOptions,
    stats: &mut LayerStats,
) -> Vec<Prepared<'a>> {
    let projector = tile.projector(opts.extent);
    let mut clipper = Clipper::new(opts.extent, opts.buffer, opts.simplify_tolerance_px);
    let aggregate = tile.z < opts.aggregate_below_zoom;
    let mut grid = aggregate.then(|| Grid::new(opts));

    let mut prepared: Vec<Prepared<'a>> = Vec::new();
    let mut geoms: Vec<PxGeom> = Vec::new();
    for (order, &f) in features.iter().enumerate() {
        if let (Some(grid), Geometry::Point(p)) = (grid.as_mut(), &f.geometry) {
            let px = projector.project(p.x(), p.y());
            if clipper.contains(px) {
                grid.add(order, px, f.rank);
            } else {
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

    // Highest priority first; the kept features are a prefix of this order.
    prepared.sort_by(|a, b| {
        b.rank
            .cmp(&a.rank)
            .then_with(|| b.weight.total_cmp(&a.weight))
            .then_with(|| a.sort_id.cmp(b.sort_id))
            .then_with(|| a.order.cmp(&b.order))
    });
    prepared
}

/// Encodes the longest prefix of `prepared` that fits `budget` bytes;
/// returns the bytes and the prefix length. The size model ([`fit_budget`])
/// finds the prefix in one pass; should the encoder ever disagree with it
/// (or with `use_model` false), a bisection on real encodings decides.
fn fit_and_encode(
    name: &str,
    extent: NonZeroU32,
    prepared: &[Prepared<'_>],
    budget: usize,
    use_model: bool,
) -> Result<(Vec<u8>, usize), TileError> {
    let keep = if use_model {
        fit_budget(name, extent.get(), prepared, budget)
    } else {
        prepared.len()
    };
    let bytes = encode_layer(name, extent, &prepared[..keep])?;
    if bytes.len() <= budget {
        return Ok((bytes, keep));
    }
    // Invariant: the prefix `lo` fits (0 always does), `hi` does not.
    let (mut lo, mut hi) = (0usize, keep);
    let mut best = Vec::new();
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        let b = encode_layer(name, extent, &prepared[..mid])?;
        if b.len() <= budget {
            lo = mid;
            best = b;
        } else {
            hi = mid;
        }
    }
    Ok((best, lo))
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

#[derive(Debug, Clone, Copy)]
enum Props<'a> {
    Feature(&'a TileFeature),
    Aggregate(Aggregate),
}

/// One output feature before encoding.
#[derive(Debug)]
struct Prepared<'a> {
    id: Option<u64>,
    props: Props<'a>,
    rank: u8,
    weight: f64,
    sort_id: &'a str,
    order: usize,
    geom: PxGeom,
}

impl<'a> Prepared<'a> {
    fn feature(f: &'a TileFeature, order: usize, geom: PxGeom) -> Self {
        Self {
            id: numeric_id(&f.id),
            props: Props::Feature(f),
            rank: f.rank,
            weight: geom.weight(),
            sort_id: &f.id,
            order,
            geom,
        }
    }

    fn geom_type(&self) -> MvtGeomType {
        match self.geom {
            PxGeom::Points(_) => MvtGeomType::Point,
            PxGeom::Lines(_) => MvtGeomType::LineString,
            PxGeom::Polygons(_) => MvtGeomType::Polygon,
        }
    }

    /// Calls `tag` for every property, in the order they are written.
    fn for_each_tag<'s>(&'s self, mut tag: impl FnMut(&'s str, MvtValueRef<'s>)) {
        match &self.props {
            Props::Feature(f) => {
                if self.id.is_none() && !f.properties.iter().any(|(k, _)| k == "id") {
                    tag("id", MvtValueRef::String(&f.id));
                }
                for (k, v) in &f.properties {
                    tag(k, value_ref(v));
                }
            }
            Props::Aggregate(a) => {
                tag("count", MvtValueRef::UInt(a.count));
                tag("count_red", MvtValueRef::UInt(a.by_rank[4]));
                tag("count_orange", MvtValueRef::UInt(a.by_rank[3]));
                tag("count_yellow", MvtValueRef::UInt(a.by_rank[2]));
                tag("count_blue", MvtValueRef::UInt(a.by_rank[1]));
                tag("max_rank", MvtValueRef::UInt(u64::from(a.max_rank)));
                if let Some(level) = risk_level_name(a.max_rank) {
                    tag("risk_level", MvtValueRef::String(level));
                }
                tag("aggregated", MvtValueRef::Bool(true));
            }
        }
    }
}

fn value_ref(v: &PropValue) -> MvtValueRef<'_> {
    match v {
        PropValue::String(s) => MvtValueRef::String(s),
        PropValue::Int(i) => match u64::try_from(*i) {
            Ok(u) => MvtValueRef::UInt(u),
            Err(_) => MvtValueRef::SInt(*i),
        },
        PropValue::Double(d) => MvtValueRef::Double(*d),
        PropValue::Bool(b) => MvtValueRef::Bool(*b),
    }
}

/// The aggregation grid of one tile: square cells aligned on pixel 0.
struct Grid {
    cell: i64,
    lo: i64,
    side: usize,
    cells: Vec<Cell>,
    min: i32,
    max: i32,
}

#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    count: u64,
    by_rank: [u64; 5],
    max_rank: u8,
    sum: (f64, f64),
    first: usize,
    first_px: Px,
}

impl Grid {
    fn new(opts: &TileOptions) -> Self {
        let cell = i64::from(opts.aggregate_cell_px.max(16));
        let (min, max) = (
            -i64::from(opts.buffer),
            i64::from(opts.extent) + i64::from(opts.buffer),
        );
        let lo = min.div_euclid(cell);
        let hi = max.div_euclid(cell);
        let side = usize::try_from(hi - lo + 1).unwrap_or(1);
        Self {
            cell,
            lo,
            side,
            cells: vec![Cell::default(); side * side],
            min: i32::try_from(min).unwrap_or(i32::MIN),
            max: i32::try_from(max).unwrap_or(i32::MAX),
        }
    }

    fn index(&self, v: f64) -> usize {
        let i = (v.floor() as i64).div_euclid(self.cell) - self.lo;
        usize::try_from(i).unwrap_or(0).min(self.side - 1)
    }

    fn add(&mut self, order: usize, px: Px, rank: u8) {
        let i = self.index(px.1) * self.side + self.index(px.0);
        let c = &mut self.cells[i];
        if c.count == 0 {
            c.first = order;
            c.first_px = px;
        }
        c.count += 1;
        c.by_rank[usize::from(rank.min(4))] += 1;
        c.max_rank = c.max_rank.max(rank);
        c.sum.0 += px.0;
        c.sum.1 += px.1;
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
                    let p = IntPoint::new(c.first_px.0.round() as i32, c.first_px.1.round() as i32);
                    out.push(Prepared::feature(f, c.first, PxGeom::Points(vec![p])));
                }
                n => {
                    stats.aggregated += usize::try_from(n).unwrap_or(usize::MAX);
                    stats.aggregates += 1;
                    let (row, col) = (i / self.side, i % self.side);
                    let centre = |sum: f64, idx: usize| -> i32 {
                        let start = (self.lo + idx as i64) * self.cell;
                        let v = (sum / n as f64).round() as i64;
                        let v = v.clamp(start, start + self.cell - 1);
                        (v as i32).clamp(self.min, self.max)
                    };
                    let p = IntPoint::new(centre(c.sum.0, col), centre(c.sum.1, row));
                    out.push(Prepared {
                        id: None,
                        props: Props::Aggregate(Aggregate {
                            count: n,
                            by_rank: c.by_rank,
                            max_rank: c.max_rank,
                        }),
                        rank: c.max_rank,
                        weight: n as f64,
                        sort_id: "",
                        order: c.first,
                        geom: PxGeom::Points(vec![p]),
                    });
                }
            }
        }
    }
}

fn mvt_coord(p: &IntPoint) -> MvtCoord {
    MvtCoord { x: p.x, y: p.y }
}

/// Encodes features with `fast-mvt` as one framed layer (empty when there
/// are no features).
fn encode_layer(
    name: &str,
    extent: NonZeroU32,
    features: &[Prepared<'_>],
) -> Result<Vec<u8>, TileError> {
    if features.is_empty() {
        return Ok(Vec::new());
    }
    let mut layer = MvtLayerBuilder::new(name)?;
    layer.extent(extent);
    for f in features {
        let mut fb = layer.feature_of(f.geom_type());
        match &f.geom {
            PxGeom::Points(pts) => {
                fb.points(pts.iter().map(mvt_coord))?;
            }
            PxGeom::Lines(lines) => {
                for l in lines {
                    fb.line(l.iter().map(mvt_coord))?;
                }
            }
            PxGeom::Polygons(polys) => {
                for poly in polys {
                    for (i, ring) in poly.iter().enumerate() {
                        fb.ring(ring.iter().map(mvt_coord), i == 0)?;
                    }
                }
            }
        }
        fb.id(f.id);
        let mut err = None;
        f.for_each_tag(|k, v| {
            if err.is_none()
                && let Err(e) = fb.tag_ref(k, v)
            {
                err = Some(e);
            }
        });
        if let Some(e) = err {
            return Err(e.into());
        }
        layer = fb.end();
    }
    Ok(layer.encode())
}

/// Value identity in a layer's value table (as the encoder deduplicates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ValueKey<'a> {
    String(&'a str),
    Float(u32),
    Double(u64),
    Int(i64),
    UInt(u64),
    SInt(i64),
    Bool(bool),
}

fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

fn len_field(len: usize) -> usize {
    1 + varint_len(len as u64) + len
}

/// Encoded size of a feature's geometry command integers.
fn geometry_len(geom: &PxGeom) -> usize {
    let mut len = 0usize;
    let mut cursor = IntPoint::new(0, 0);
    let mut delta = |p: &IntPoint, len: &mut usize| {
        *len += varint_len(u64::from(zigzag(p.x.saturating_sub(cursor.x))))
            + varint_len(u64::from(zigzag(p.y.saturating_sub(cursor.y))));
        cursor = *p;
    };
    let command = |id: u32, count: usize| varint_len(u64::from(id) | ((count as u64) << 3));
    match geom {
        PxGeom::Points(pts) => {
            len += command(1, pts.len());
            for p in pts {
                delta(p, &mut len);
            }
        }
        PxGeom::Lines(lines) => {
            for l in lines {
                len += command(1, 1);
                delta(&l[0], &mut len);
                len += command(2, l.len() - 1);
                for p in &l[1..] {
                    delta(p, &mut len);
                }
            }
        }
        PxGeom::Polygons(polys) => {
            for ring in polys.iter().flatten() {
                len += command(1, 1);
                delta(&ring[0], &mut len);
                len += command(2, ring.len() - 1);
                for p in &ring[1..] {
                    delta(p, &mut len);
                }
                len += command(7, 1);
            }
        }
    }
    len
}

/// The largest `k` such that the first `k` features encode within `budget`
/// bytes, by a model of the encoder's output size (checked by the caller).
///
/// Every feature's encoded size is independent of how many features follow
/// it: keys and values get their table index on first use, so a prefix of
/// the features numbers them exactly as the whole list does.
fn fit_budget(name: &str, extent: u32, features: &[Prepared<'_>], budget: usize) -> usize {
    let fixed = len_field(name.len()) + 1 + varint_len(u64::from(extent)) + 2;
    let mut keys: HashMap<&str, u32> = HashMap::new();
    let mut values: HashMap<ValueKey<'_>, u32> = HashMap::new();
    let mut body = fixed;
    for (k, f) in features.iter().enumerate() {
        let mut tags_len = 0usize;
        let mut tables_len = 0usize;
        f.for_each_tag(|key, value| {
            let next = keys.len() as u32;
            let ki = *keys.entry(key).or_insert_with(|| {
                tables_len += len_field(key.len());
                next
            });
            let (vk, payload) = match value {
                MvtValueRef::String(s) => (ValueKey::String(s), len_field(s.len())),
                MvtValueRef::Float(v) => (ValueKey::Float(v.to_bits()), 5),
                MvtValueRef::Double(v) => (ValueKey::Double(v.to_bits()), 9),
                MvtValueRef::Int(v) => (ValueKey::Int(v), 1 + varint_len(v as u64)),
                MvtValueRef::UInt(v) => (ValueKey::UInt(v), 1 + varint_len(v)),
                MvtValueRef::SInt(v) => (
                    ValueKey::SInt(v),
                    1 + varint_len(((v << 1) ^ (v >> 63)) as u64),
                ),
                MvtValueRef::Bool(v) => (ValueKey::Bool(v), 2),
                MvtValueRef::Null => return,
            };
            let next = values.len() as u32;
            let vi = *values.entry(vk).or_insert_with(|| {
                tables_len += len_field(payload);
                next
            });
            tags_len += varint_len(u64::from(ki)) + varint_len(u64::from(vi));
        });
        let geom_len = geometry_len(&f.geom);
        let feature = f.id.map_or(0, |id| 1 + varint_len(id))
            + if tags_len > 0 { len_field(tags_len) } else { 0 }
            + 2
            + if geom_len > 0 { len_field(geom_len) } else { 0 };
        let next_body = body + len_field(feature) + tables_len;
        if len_field(next_body) > budget {
            return k;
        }
        body = next_body;
    }
    features.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_tile;
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

    #[test]
    fn the_size_model_is_exact() {
        let features = sample();
        let refs: Vec<&TileFeature> = features.iter().collect();
        let opts = TileOptions {
            aggregate_below_zoom: 0,
            ..TileOptions::default()
        };
        let mut stats = LayerStats::default();
        let prepared = prepare_features(&refs, tile(), &opts, &mut stats);
        assert!(prepared.len() >= 400);
        let extent = NonZeroU32::new(4096).unwrap();
        for k in [1, 2, 3, 10, 77, 128, 129, 200, 399, prepared.len()] {
            let size = encode_layer("layer", extent, &prepared[..k]).unwrap().len();
            assert_eq!(fit_budget("layer", 4096, &prepared, size), k, "prefix {k}");
            assert_eq!(
                fit_budget("layer", 4096, &prepared, size - 1),
                k - 1,
                "prefix {k}"
            );
            // Without the model, the bisection finds the same prefix.
            let (bytes, keep) = fit_and_encode("layer", extent, &prepared, size, false).unwrap();
            assert_eq!((bytes.len(), keep), (size, k));
            let (_, keep) = fit_and_encode("layer", extent, &prepared, size - 1, false).unwrap();
            assert_eq!(keep, k - 1);
        }
        assert_eq!(fit_budget("layer", 4096, &prepared, 0), 0);
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

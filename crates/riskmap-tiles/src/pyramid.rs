//! Pre-aggregated points (点要素预聚合金字塔): the aggregation cells of every
//! zoom below [`TileOptions::aggregate_below_zoom`], kept for a whole point
//! collection and updated point by point, so that a low-zoom tile costs
//! O(cells in the tile) instead of O(points in the tile), and a bucket index
//! of pre-projected points for the zooms that draw every point.
//!
//! # Exact cells
//! Aggregation works on *quantised* positions: a point's Web Mercator
//! position as a fraction of the world, times 2³² and floored
//! ([`quantize`]). At zoom `z` a tile has `extent · 2^z` pixels per world
//! side, so a quantised position `q` lies at pixel
//! `q · extent · 2^z / 2³² − x · extent` of tile `x`, computed exactly in
//! integers ([`TileCells`]): which cell a point falls in, whether it is in
//! the buffered tile, and where the mean of many points rounds to do not
//! depend on the tile a cell is seen from, nor on the order of the points.
//! [`crate::build_layer`] aggregates with the same arithmetic, so a layer
//! built from a [`PointPyramid`] equals the layer built from the same points
//! as [`crate::TileFeature`]s.
//!
//! When the extent and the cell side are powers of two and the buffer is a
//! whole number of cells, a tile's cells are whole cells of one global grid
//! per zoom (the cell of `q` at zoom `z` is `q >> shift(z)`, and a cell at `z`
//! is the union of four at `z + 1`). [`PointPyramid`] keeps that grid.
//!
//! # Invariant
//! For every zoom `z` below the aggregation zoom and every global cell `c`
//! of that zoom holding at least one point, `levels[z][c]` holds exactly the
//! count, the counts per rank, the sums of the quantised coordinates and the
//! first member (smallest id, then slot) of the points whose quantised
//! position lies in `c`; cells holding no point are absent. `leaves` lists,
//! per cell of the finest aggregation zoom, the slots of its points. Every
//! [`PointPyramid::insert`] and [`PointPyramid::remove`] restores it before
//! returning (O(aggregation zooms · log cells), plus a scan of one leaf when
//! the removed point was a cell's first member); the tests check it against
//! a recomputation from scratch.

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;

use i_overlay::i_float::int::point::IntPoint;

use crate::feature::TileItem;
use crate::layer::{TileError, TileOptions};
use crate::tile::{MERCATOR_HALF_SIZE_M, TileCoord, lonlat_to_mercator};

/// Quantisation steps per world side (2³²).
const ONE: i128 = 1 << 32;

/// Quantised position of a Web Mercator position: the fraction of the world
/// from the north-west corner, times 2³², floored and kept in `u32`.
#[must_use]
pub(crate) fn quantize(mx: f64, my: f64) -> (u32, u32) {
    let size = 2.0 * MERCATOR_HALF_SIZE_M;
    let q = |f: f64| -> u32 {
        let v = (f * 4_294_967_296.0).floor();
        if v.is_nan() || v <= 0.0 {
            0
        } else if v >= 4_294_967_295.0 {
            u32::MAX
        } else {
            v as u32
        }
    };
    (
        q((mx + MERCATOR_HALF_SIZE_M) / size),
        q((MERCATOR_HALF_SIZE_M - my) / size),
    )
}

/// The aggregation cells of one tile, in exact integer arithmetic on
/// quantised positions (see the module doc).
#[derive(Debug, Clone, Copy)]
pub(crate) struct TileCells {
    /// Pixels per world side: `extent · 2^z`.
    scale: i128,
    /// The tile's north-west corner in pixels · 2³² (`x · extent · 2³²`, same for y).
    origin: (i128, i128),
    /// Cell side in pixels.
    cell: i128,
    /// The buffered tile is `[min, max)` pixels on both axes.
    min: i128,
    max: i128,
}

impl TileCells {
    pub(crate) fn new(t: TileCoord, opts: &TileOptions) -> Self {
        let extent = i128::from(opts.extent);
        Self {
            scale: extent << t.z,
            origin: (
                i128::from(t.x) * extent * ONE,
                i128::from(t.y) * extent * ONE,
            ),
            cell: i128::from(cell_px(opts)),
            min: -i128::from(opts.buffer),
            max: extent + i128::from(opts.buffer),
        }
    }

    /// `n` times the mean pixel position of points whose quantised
    /// coordinates sum to `sum`, times 2³² (exact).
    fn scaled(&self, sum: u64, n: u64, origin: i128) -> i128 {
        self.scale
            .saturating_mul(i128::from(sum))
            .saturating_sub(i128::from(n).saturating_mul(origin))
    }

    /// The cell (column, row) holding a quantised position, or `None` when it
    /// is outside the buffered tile `[-buffer, extent + buffer)`.
    pub(crate) fn cell_of(&self, q: (u32, u32)) -> Option<(i64, i64)> {
        let sx = self.scaled(u64::from(q.0), 1, self.origin.0);
        let sy = self.scaled(u64::from(q.1), 1, self.origin.1);
        let (lo, hi) = (self.min * ONE, self.max * ONE);
        if sx < lo || sx >= hi || sy < lo || sy >= hi {
            return None;
        }
        let side = self.cell * ONE;
        Some((
            i64::try_from(sx.div_euclid(side)).ok()?,
            i64::try_from(sy.div_euclid(side)).ok()?,
        ))
    }

    /// Where an aggregate of `n` points whose quantised coordinates sum to
    /// `sum` is drawn: their mean, rounded to a pixel (halves away from
    /// zero), kept inside its `cell` and the buffered tile.
    pub(crate) fn centroid(&self, sum: (u64, u64), n: u64, cell: (i64, i64)) -> IntPoint {
        let den = i128::from(n.max(1)) * ONE;
        let axis = |s: u64, origin: i128, idx: i64| -> i32 {
            let v = div_round(self.scaled(s, n.max(1), origin), den);
            let start = i128::from(idx) * self.cell;
            let v = v
                .clamp(start, start + self.cell - 1)
                .clamp(self.min, self.max);
            i32::try_from(v).unwrap_or(if v < 0 { i32::MIN } else { i32::MAX })
        };
        IntPoint::new(
            axis(sum.0, self.origin.0, cell.0),
            axis(sum.1, self.origin.1, cell.1),
        )
    }

    /// The range of cell indices of the buffered tile, `lo..=hi`.
    pub(crate) fn cell_range(&self) -> (i64, i64) {
        let lo = self.min.div_euclid(self.cell);
        let hi = (self.max - 1).div_euclid(self.cell);
        (
            i64::try_from(lo).unwrap_or(i64::MIN),
            i64::try_from(hi).unwrap_or(i64::MAX),
        )
    }
}

/// `num / den` rounded to the nearest integer, halves away from zero
/// (as `f64::round`); `den > 0`.
fn div_round(num: i128, den: i128) -> i128 {
    let twice = den.saturating_mul(2);
    if num >= 0 {
        num.saturating_mul(2).saturating_add(den) / twice
    } else {
        -(num.saturating_mul(-2).saturating_add(den) / twice)
    }
}

/// Side of an aggregation cell in pixels, as [`crate::build_layer`] uses it.
pub(crate) fn cell_px(opts: &TileOptions) -> u32 {
    opts.aggregate_cell_px.max(16)
}

/// One point of the pyramid.
#[derive(Debug, Clone)]
pub(crate) struct Slot<P> {
    /// Web Mercator position ([`lonlat_to_mercator`] of the given lon/lat).
    pub(crate) merc: (f64, f64),
    /// The item's rank when inserted (counted at most 4 in the cells).
    pub(crate) rank: u8,
    /// [`crate::layer::prefix_key`] of the item's id.
    pub(crate) prefix: u64,
    pub(crate) item: P,
}

/// The aggregate of one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Agg {
    pub(crate) count: u32,
    pub(crate) by_rank: [u32; 5],
    /// Sums of the members' quantised coordinates.
    pub(crate) sum: (u64, u64),
    /// Slot of the member with the smallest id (then the smallest slot).
    pub(crate) first: u32,
}

impl Agg {
    /// The highest rank with a member.
    pub(crate) fn max_rank(&self) -> u8 {
        (0..5u8)
            .rev()
            .find(|&r| self.by_rank[usize::from(r)] > 0)
            .unwrap_or(0)
    }
}

/// Points of one layer, pre-aggregated for every aggregation zoom and
/// bucketed for the zooms above (see the module doc for the invariant).
///
/// Build it once from a point collection with [`PointPyramid::insert`],
/// keep it current with [`PointPyramid::remove`] and `insert` when a point
/// moves or its rank or properties change, and draw it with
/// [`crate::build_layer_with_points`]. Items are the caller's own type
/// ([`TileItem`]): properties are written from them when a tile shows the
/// point itself, and never copied.
#[derive(Debug, Clone)]
pub struct PointPyramid<P> {
    opts: TileOptions,
    /// log2 of the extent and of the cell side.
    extent_log2: u32,
    cell_log2: u32,
    /// Zooms `0..below` are aggregated.
    below: u8,
    slots: Vec<Option<Slot<P>>>,
    free: Vec<u32>,
    levels: Vec<BTreeMap<u64, Agg>>,
    /// Slots per cell of the finest aggregation zoom (zoom 0 when nothing is
    /// aggregated).
    leaves: BTreeMap<u64, Vec<u32>>,
    len: usize,
}

fn key(cx: u64, cy: u64) -> u64 {
    (cy << 32) | cx
}

/// Whether slot `a` sorts before slot `b` (id, then slot).
fn before<P: TileItem>(slots: &[Option<Slot<P>>], a: u32, b: u32) -> bool {
    let id = |s: u32| {
        slots
            .get(s as usize)
            .and_then(Option::as_ref)
            .map(|s| s.item.id())
    };
    (id(a), a) < (id(b), b)
}

impl<P: TileItem> PointPyramid<P> {
    /// An empty pyramid for tiles built with `opts`.
    ///
    /// # Errors
    /// [`TileError::UnsupportedPyramid`] unless the extent and the cell side
    /// (`max(aggregate_cell_px, 16)`) are powers of two, the cell is at most
    /// the extent, the buffer is a whole number of cells, and the cells of
    /// the finest aggregation zoom are no finer than the 2³² quantisation.
    pub fn new(opts: &TileOptions) -> Result<Self, TileError> {
        let cell = cell_px(opts);
        let unsupported = || TileError::UnsupportedPyramid(format!("{opts:?}"));
        if opts.extent == 0
            || !opts.extent.is_power_of_two()
            || !cell.is_power_of_two()
            || cell > opts.extent
            || !opts.buffer.is_multiple_of(cell)
        {
            return Err(unsupported());
        }
        let (extent_log2, cell_log2) = (opts.extent.trailing_zeros(), cell.trailing_zeros());
        let below = opts.aggregate_below_zoom;
        let finest = u32::from(below.saturating_sub(1));
        if 32 + cell_log2 < extent_log2 + finest {
            return Err(unsupported());
        }
        Ok(Self {
            opts: opts.clone(),
            extent_log2,
            cell_log2,
            below,
            slots: Vec::new(),
            free: Vec::new(),
            levels: vec![BTreeMap::new(); usize::from(below)],
            leaves: BTreeMap::new(),
            len: 0,
        })
    }

    /// Whether tiles built with `opts` can be drawn from this pyramid (the
    /// extent, buffer, aggregation zoom and cell side it was made for).
    #[must_use]
    pub fn supports(&self, opts: &TileOptions) -> bool {
        opts.extent == self.opts.extent
            && opts.buffer == self.opts.buffer
            && opts.aggregate_below_zoom == self.opts.aggregate_below_zoom
            && cell_px(opts) == cell_px(&self.opts)
    }

    /// Number of points.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no point.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of aggregate cells kept, over all zooms.
    #[must_use]
    pub fn cells(&self) -> usize {
        self.levels.iter().map(BTreeMap::len).sum()
    }

    /// `q >> shift` gives the cell at zoom `z`.
    fn shift(&self, z: u8) -> u32 {
        32 + self.cell_log2 - self.extent_log2 - u32::from(z)
    }

    fn leaf_zoom(&self) -> u8 {
        self.below.saturating_sub(1)
    }

    fn cell_key(&self, q: (u32, u32), z: u8) -> u64 {
        let s = self.shift(z);
        key(u64::from(q.0) >> s, u64::from(q.1) >> s)
    }

    /// Adds a point at WGS84 `lon`/`lat`. Ids should be unique (the caller
    /// removes a point before adding it again); the rank is read now and
    /// must not change while the item is in the pyramid.
    ///
    /// # Errors
    /// [`TileError::PyramidFull`] when the pyramid already holds 2³² − 1 points.
    pub fn insert(&mut self, lon: f64, lat: f64, item: P) -> Result<(), TileError> {
        let (mx, my) = lonlat_to_mercator(lon, lat);
        let q = quantize(mx, my);
        let rank = item.rank();
        let prefix = crate::layer::prefix_key(item.id());
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                let s = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|&s| s < u32::MAX)
                    .ok_or(TileError::PyramidFull)?;
                self.slots.push(None);
                s
            }
        };
        self.slots[slot as usize] = Some(Slot {
            merc: (mx, my),
            rank,
            prefix,
            item,
        });
        let rank = rank.min(4);
        let leaf = self.cell_key(q, self.leaf_zoom());
        self.leaves.entry(leaf).or_default().push(slot);
        for z in 0..self.below {
            let k = self.cell_key(q, z);
            let (slots, level) = (&self.slots, &mut self.levels[usize::from(z)]);
            match level.entry(k) {
                Entry::Vacant(e) => {
                    let mut by_rank = [0; 5];
                    by_rank[usize::from(rank)] = 1;
                    e.insert(Agg {
                        count: 1,
                        by_rank,
                        sum: (u64::from(q.0), u64::from(q.1)),
                        first: slot,
                    });
                }
                Entry::Occupied(mut e) => {
                    let a = e.get_mut();
                    a.count += 1;
                    a.by_rank[usize::from(rank)] += 1;
                    a.sum.0 += u64::from(q.0);
                    a.sum.1 += u64::from(q.1);
                    if before(slots, slot, a.first) {
                        a.first = slot;
                    }
                }
            }
        }
        self.len += 1;
        Ok(())
    }

    /// Adds many points (see [`PointPyramid::insert`]), in the order of their
    /// cells rather than the order given, so that the points of a cell, and
    /// of neighbouring cells, sit next to each other in memory: tiles then
    /// read them with few cache misses. Use it to build a pyramid.
    ///
    /// # Errors
    /// [`TileError::PyramidFull`] as [`PointPyramid::insert`]; the points
    /// before the one that did not fit are kept.
    pub fn extend(
        &mut self,
        points: impl IntoIterator<Item = (f64, f64, P)>,
    ) -> Result<(), TileError> {
        self.extend_with(points, |item| item)
    }

    /// [`PointPyramid::extend`] making each item from `T` with `make`, in
    /// cell order: whatever the items allocate is then allocated in cell
    /// order too, and lies near in memory for points near on the map.
    ///
    /// # Errors
    /// As [`PointPyramid::extend`].
    pub fn extend_with<T>(
        &mut self,
        points: impl IntoIterator<Item = (f64, f64, T)>,
        mut make: impl FnMut(T) -> P,
    ) -> Result<(), TileError> {
        let leaf = self.leaf_zoom();
        let mut points: Vec<(u64, f64, f64, T)> = points
            .into_iter()
            .map(|(lon, lat, t)| {
                let (mx, my) = lonlat_to_mercator(lon, lat);
                (self.cell_key(quantize(mx, my), leaf), lon, lat, t)
            })
            .collect();
        points.sort_by_key(|p| p.0);
        for (_, lon, lat, t) in points {
            self.insert(lon, lat, make(t))?;
        }
        Ok(())
    }

    /// Removes the point with id `id` inserted at `lon`/`lat` (the same
    /// values given to [`PointPyramid::insert`]); returns its item, or `None`
    /// when no such point is there.
    pub fn remove(&mut self, lon: f64, lat: f64, id: &str) -> Option<P> {
        let (mx, my) = lonlat_to_mercator(lon, lat);
        let q = quantize(mx, my);
        let leaf = self.cell_key(q, self.leaf_zoom());
        let members = self.leaves.get_mut(&leaf)?;
        let slots = &self.slots;
        let pos = members.iter().position(|&s| {
            slots
                .get(s as usize)
                .and_then(Option::as_ref)
                .is_some_and(|s| s.item.id() == id)
        })?;
        let slot = members.swap_remove(pos);
        if members.is_empty() {
            self.leaves.remove(&leaf);
        }
        let removed = self.slots.get_mut(slot as usize)?.take()?;
        let rank = usize::from(removed.rank.min(4));
        for z in (0..self.below).rev() {
            let k = self.cell_key(q, z);
            let zi = usize::from(z);
            let Some(a) = self.levels[zi].get_mut(&k) else {
                continue;
            };
            a.count -= 1;
            a.by_rank[rank] -= 1;
            a.sum.0 -= u64::from(q.0);
            a.sum.1 -= u64::from(q.1);
            if a.count == 0 {
                self.levels[zi].remove(&k);
                continue;
            }
            if a.first != slot {
                continue;
            }
            // The first member left: the smallest of the leaf's members at the
            // finest zoom, else the smallest first of the four children.
            let candidates: Vec<u32> = if z == self.leaf_zoom() {
                self.leaves.get(&leaf).cloned().unwrap_or_default()
            } else {
                let (cx, cy) = (k & 0xFFFF_FFFF, k >> 32);
                let finer = &self.levels[zi + 1];
                [(0, 0), (1, 0), (0, 1), (1, 1)]
                    .iter()
                    .filter_map(|(dx, dy)| finer.get(&key(2 * cx + dx, 2 * cy + dy)))
                    .map(|c| c.first)
                    .collect()
            };
            let slots = &self.slots;
            let first = candidates
                .into_iter()
                .reduce(|a, b| if before(slots, b, a) { b } else { a });
            if let (Some(first), Some(a)) = (first, self.levels[zi].get_mut(&k)) {
                a.first = first;
            }
        }
        self.free.push(slot);
        self.len -= 1;
        Some(removed.item)
    }

    /// Calls `f` with every aggregate cell of tile `t` (`t.z` below the
    /// aggregation zoom): the cell's column and row in the tile's cell grid,
    /// the aggregate and its first member.
    pub(crate) fn for_each_cell<'a>(
        &'a self,
        t: TileCoord,
        mut f: impl FnMut((i64, i64), &'a Agg, &'a Slot<P>),
    ) {
        let Some(level) = self.levels.get(usize::from(t.z)) else {
            return;
        };
        let per_tile = 1i64 << (self.extent_log2 - self.cell_log2);
        let buffer = i64::from(self.opts.buffer >> self.cell_log2);
        let last = (1i64 << (32 - self.shift(t.z))) - 1;
        let span = |tile: u32| {
            let start = i64::from(tile) * per_tile;
            (
                start,
                (start - buffer).max(0),
                (start + per_tile + buffer - 1).min(last),
            )
        };
        let (x0, col_lo, col_hi) = span(t.x);
        let (y0, row_lo, row_hi) = span(t.y);
        if col_lo > col_hi || row_lo > row_hi {
            return;
        }
        for row in row_lo..=row_hi {
            let (lo, hi) = (
                key(col_lo as u64, row as u64),
                key(col_hi as u64, row as u64),
            );
            for (k, a) in level.range(lo..=hi) {
                let col = (k & 0xFFFF_FFFF) as i64;
                if let Some(Some(first)) = self.slots.get(a.first as usize) {
                    f((col - x0, row - y0), a, first);
                }
            }
        }
    }

    /// Calls `f` with every point whose leaf cell meets the buffered tile
    /// `t` (a superset of the points in it; the caller clips).
    pub(crate) fn for_each_point<'a>(&'a self, t: TileCoord, mut f: impl FnMut(&'a Slot<P>)) {
        for members in self.leaves_near(t) {
            for &s in members {
                if let Some(Some(slot)) = self.slots.get(s as usize) {
                    f(slot);
                }
            }
        }
    }

    /// How many points [`PointPyramid::for_each_point`] visits for `t`.
    pub(crate) fn count_points(&self, t: TileCoord) -> usize {
        self.leaves_near(t).map(Vec::len).sum()
    }

    /// The member lists of the leaf cells meeting the buffered tile `t`.
    fn leaves_near(&self, t: TileCoord) -> impl Iterator<Item = &Vec<u32>> {
        let shift = self.shift(self.leaf_zoom());
        let per_tile = 2f64.powi(32 - i32::from(t.z));
        let pad = f64::from(self.opts.buffer) / f64::from(self.opts.extent) * per_tile + 2.0;
        let leaf = |tile: u32| {
            let lo = (f64::from(tile) * per_tile - pad).floor().max(0.0);
            let hi = (f64::from(tile + 1) * per_tile + pad)
                .ceil()
                .min(4_294_967_295.0);
            ((lo as u64) >> shift, (hi as u64) >> shift)
        };
        let (col_lo, col_hi) = leaf(t.x);
        let (row_lo, row_hi) = leaf(t.y);
        (row_lo..=row_hi).flat_map(move |row| {
            self.leaves
                .range(key(col_lo, row)..=key(col_hi, row))
                .map(|(_, members)| members)
        })
    }

    /// Recomputes every aggregate from the points and compares (tests).
    #[cfg(test)]
    pub(crate) fn check_invariant(&self) {
        let mut levels: Vec<BTreeMap<u64, Agg>> = vec![BTreeMap::new(); usize::from(self.below)];
        let mut leaves: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        let mut n = 0;
        for (s, slot) in self.slots.iter().enumerate() {
            let Some(slot) = slot else { continue };
            n += 1;
            let s = s as u32;
            let q = quantize(slot.merc.0, slot.merc.1);
            leaves
                .entry(self.cell_key(q, self.leaf_zoom()))
                .or_default()
                .push(s);
            for z in 0..self.below {
                let a = levels[usize::from(z)]
                    .entry(self.cell_key(q, z))
                    .or_insert(Agg {
                        count: 0,
                        by_rank: [0; 5],
                        sum: (0, 0),
                        first: s,
                    });
                a.count += 1;
                a.by_rank[usize::from(slot.rank.min(4))] += 1;
                a.sum.0 += u64::from(q.0);
                a.sum.1 += u64::from(q.1);
                if before(&self.slots, s, a.first) {
                    a.first = s;
                }
            }
        }
        assert_eq!(n, self.len);
        assert_eq!(levels, self.levels);
        let sorted = |m: &BTreeMap<u64, Vec<u32>>| {
            m.iter()
                .map(|(k, v)| {
                    let mut v = v.clone();
                    v.sort_unstable();
                    (*k, v)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(sorted(&leaves), sorted(&self.leaves));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feature::{PropValue, TileFeature};
    use crate::layer::{build_layer, build_layer_with_points};
    use geo::{Geometry, LineString, Point, Polygon};
    use proptest::prelude::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn point(id: String, lon: f64, lat: f64, rank: u8) -> TileFeature {
        TileFeature {
            properties: vec![
                ("id".into(), PropValue::from(id.as_str())),
                ("n".into(), PropValue::Int(i64::from(rank) - 2)),
            ],
            id,
            geometry: Point::new(lon, lat).into(),
            rank,
        }
    }

    /// Clustered points, some on cell edges and some on top of each other.
    fn points(n: usize, seed: u64) -> Vec<TileFeature> {
        let mut rng = StdRng::seed_from_u64(seed);
        let edge = TileCoord::from_lonlat(120.3, 30.3, 7);
        (0..n)
            .map(|i| {
                let (lon, lat) = match i % 7 {
                    // On a cell corner of the z7 grid (and of every coarser one).
                    0 => edge.pixel_to_lonlat(
                        f64::from(rng.random_range(0..64u32) * 64),
                        f64::from(rng.random_range(0..64u32) * 64),
                        4096,
                    ),
                    // A duplicate position.
                    1 => (120.31, 30.29),
                    _ => (
                        120.3 + rng.random_range(-0.8..0.8f64).powi(3),
                        30.3 + rng.random_range(-0.8..0.8f64).powi(3),
                    ),
                };
                let id = if i % 5 == 0 {
                    format!("E-{i}")
                } else {
                    (i * 7919 % 100_003).to_string()
                };
                point(id, lon, lat, rng.random_range(0..=4u8))
            })
            .collect()
    }

    fn lonlat(f: &TileFeature) -> (f64, f64) {
        match f.geometry {
            Geometry::Point(p) => (p.x(), p.y()),
            _ => unreachable!(),
        }
    }

    fn pyramid(features: &[TileFeature], opts: &TileOptions) -> PointPyramid<TileFeature> {
        let mut p = PointPyramid::new(opts).unwrap();
        for f in features {
            let (lon, lat) = lonlat(f);
            p.insert(lon, lat, f.clone()).unwrap();
        }
        p
    }

    /// Tiles at every zoom up to 15 around the data, with neighbours.
    fn tiles(features: &[TileFeature]) -> Vec<TileCoord> {
        let mut out = Vec::new();
        for z in 0..=15u8 {
            for f in features.iter().step_by(97).take(4) {
                let (lon, lat) = lonlat(f);
                let t = TileCoord::from_lonlat(lon, lat, z);
                for (dx, dy) in [(0i64, 0i64), (1, 0), (0, 1), (-1, -1)] {
                    let (x, y) = (i64::from(t.x) + dx, i64::from(t.y) + dy);
                    if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y))
                        && let Ok(t) = TileCoord::new(z, x, y)
                    {
                        out.push(t);
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The layer from the pyramid equals the layer from the same points as
    /// features in id order, at every zoom, with and without other
    /// geometries, and under a byte budget that drops features.
    #[test]
    fn pyramid_layers_equal_feature_layers() {
        let mut features = points(3000, 7);
        let mut line = point("L-1".into(), 0.0, 0.0, 3);
        line.geometry = LineString::from(vec![(120.0, 30.0), (120.6, 30.5), (120.2, 30.7)]).into();
        let mut area = point("A-1".into(), 0.0, 0.0, 4);
        area.geometry = Polygon::new(
            LineString::from(vec![(120.25, 30.25), (120.35, 30.25), (120.3, 30.35)]),
            vec![],
        )
        .into();
        let others = [line, area];
        for opts in [
            TileOptions::default(),
            TileOptions {
                byte_budget: 3_000,
                ..TileOptions::default()
            },
            TileOptions {
                aggregate_below_zoom: 13,
                aggregate_cell_px: 128,
                buffer: 128,
                ..TileOptions::default()
            },
        ] {
            let p = pyramid(&features, &opts);
            p.check_invariant();
            let mut all: Vec<&TileFeature> = features.iter().chain(&others).collect();
            all.sort_by(|a, b| a.id.cmp(&b.id));
            let other_refs: Vec<&TileFeature> = others.iter().collect();
            let mut dropped = 0;
            for t in tiles(&features) {
                let want = build_layer("e", &all, t, &opts).unwrap();
                let got = build_layer_with_points("e", &other_refs, &p, t, &opts).unwrap();
                assert_eq!(got.encoded(), want.encoded(), "{t} {opts:?}");
                assert_eq!(got.stats().kept, want.stats().kept);
                dropped += got.stats().dropped;
            }
            if opts.byte_budget < 10_000 {
                assert!(dropped > 0, "the budget dropped nothing");
            }
        }
        // After removing a third of the points and moving some, still equal.
        let opts = TileOptions::default();
        let mut p = pyramid(&features, &opts);
        let mut kept = Vec::new();
        for (i, f) in features.drain(..).enumerate() {
            let (lon, lat) = lonlat(&f);
            if i % 3 == 0 {
                assert!(p.remove(lon, lat, &f.id).is_some());
            } else if i % 3 == 1 {
                let mut g = p.remove(lon, lat, &f.id).unwrap();
                g.geometry = Point::new(lon + 0.01, lat - 0.02).into();
                g.rank = (g.rank + 1) % 5;
                p.insert(lon + 0.01, lat - 0.02, g.clone()).unwrap();
                kept.push(g);
            } else {
                kept.push(f);
            }
        }
        p.check_invariant();
        assert_eq!(p.len(), kept.len());
        let mut all: Vec<&TileFeature> = kept.iter().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        for t in tiles(&kept) {
            let want = build_layer("e", &all, t, &opts).unwrap();
            let got = build_layer_with_points("e", &[], &p, t, &opts).unwrap();
            assert_eq!(got.encoded(), want.encoded(), "{t}");
        }
    }

    #[test]
    fn options_are_checked() {
        let opts = TileOptions::default();
        let p: PointPyramid<TileFeature> = PointPyramid::new(&opts).unwrap();
        assert!(p.supports(&TileOptions {
            byte_budget: 1,
            simplify_tolerance_px: 3.0,
            ..opts.clone()
        }));
        let other = TileOptions {
            aggregate_below_zoom: 8,
            ..opts.clone()
        };
        assert!(!p.supports(&other));
        let t = TileCoord::new(3, 1, 1).unwrap();
        assert!(matches!(
            build_layer_with_points("e", &[], &p, t, &other),
            Err(TileError::PyramidOptions)
        ));
        for bad in [
            TileOptions {
                extent: 4000,
                ..opts.clone()
            },
            TileOptions {
                buffer: 10,
                ..opts.clone()
            },
            TileOptions {
                aggregate_cell_px: 48,
                ..opts.clone()
            },
        ] {
            assert!(PointPyramid::<TileFeature>::new(&bad).is_err(), "{bad:?}");
        }
        assert!(p.is_empty());
        assert_eq!(p.cells(), 0);
    }

    #[test]
    fn exact_rounding() {
        assert_eq!(div_round(5, 2), 3);
        assert_eq!(div_round(-5, 2), -3);
        assert_eq!(div_round(4, 3), 1);
        assert_eq!(div_round(-4, 3), -1);
        assert_eq!(div_round(0, 7), 0);
        assert_eq!(
            quantize(-MERCATOR_HALF_SIZE_M, MERCATOR_HALF_SIZE_M),
            (0, 0)
        );
        assert_eq!(
            quantize(MERCATOR_HALF_SIZE_M, -MERCATOR_HALF_SIZE_M),
            (u32::MAX, u32::MAX)
        );
        assert_eq!(quantize(0.0, 0.0), (1 << 31, 1 << 31));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any sequence of inserts and removes keeps every cell equal to a
        /// recomputation from the points.
        #[test]
        fn updates_keep_the_invariant(
            ops in proptest::collection::vec((0u16..60, -0.2f64..0.2, -0.2f64..0.2, 0u8..5, any::<bool>()), 1..200)
        ) {
            let opts = TileOptions::default();
            let mut p: PointPyramid<TileFeature> = PointPyramid::new(&opts).unwrap();
            let mut here: std::collections::BTreeMap<String, (f64, f64)> = Default::default();
            for (id, dx, dy, rank, remove) in ops {
                let id = id.to_string();
                if let Some((lon, lat)) = here.remove(&id) {
                    prop_assert!(p.remove(lon, lat, &id).is_some());
                }
                if !remove {
                    let (lon, lat) = (120.3 + dx * dx.abs(), 30.3 + dy);
                    p.insert(lon, lat, point(id.clone(), lon, lat, rank)).unwrap();
                    here.insert(id, (lon, lat));
                }
                p.check_invariant();
            }
            prop_assert_eq!(p.len(), here.len());
            prop_assert!(p.remove(0.0, 0.0, "nothing").is_none());
        }
    }
}

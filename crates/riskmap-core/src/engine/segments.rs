//! Pipeline segments (管段) and the spatial facts of the GB 32167 HCA rules,
//! measured through R*-trees: of the line's 100 m pieces, of its segments and
//! of the protection targets and flammable sites near the line (candidates
//! come from the catalogue one segment's neighbourhood at a time, so nothing
//! far from the line is projected or measured).
//!
//! [`PipelineIndex`] keeps what a pipeline's segments were measured from (the
//! pieces, the segments, each target's covered piece range and the households
//! and people of every 2 km window), so that a protection-target or
//! flammable-site edit rescores only the segments whose neighbourhood or
//! windows it reaches. The facts are the same as a whole recomputation's, bit
//! for bit: the same geometries are measured with the same functions, targets
//! in the same (id) order, and window sums are integers.

use std::collections::HashSet;
use std::sync::Arc;

use geo::{BoundingRect, Coord, Distance, Euclidean, Geometry, LineString, Rect, coord};
use riskmap_spatial::{MetricFrame, expand_bbox_m};
use rstar::{AABB, RTree, RTreeObject};

use super::{EngineConfig, PipelineRisk, Segment, target_households, target_population};
use crate::catalog::Catalog;
use crate::model::{Collection, Feature, Pipeline, PipelineKind, Record, TargetCategory};
use crate::scoring::{
    Assessment, Factor, Rules, SegmentContext, assess_pipeline_segment, special_site_radius_m,
};

/// Length of the pieces the 2 km window slides over, m.
const PIECE_M: f64 = 100.0;
/// Metres added to every index envelope so that rounding never drops a hit
/// (the exact distance test follows).
const EPS_M: f64 = 1.0;
/// How much farther than the largest search radius a target is looked for
/// (as before: r or 200 m, plus 10 m).
const REACH_MARGIN_M: f64 = 10.0;

/// What the segment computation reads besides the pipeline itself.
pub(super) struct Env<'a> {
    pub(super) catalog: &'a Catalog,
    pub(super) rules: &'a Rules,
    pub(super) config: &'a EngineConfig,
    /// Ids of the enterprises that are flammable/explosive sites.
    pub(super) flammable: &'a HashSet<String>,
}

/// A box in an R*-tree, with the position of what it bounds.
#[derive(Debug, Clone)]
struct Boxed {
    env: AABB<[f64; 2]>,
    i: usize,
}

impl RTreeObject for Boxed {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.env
    }
}

fn aabb(r: Rect<f64>, margin: f64) -> AABB<[f64; 2]> {
    AABB::from_corners(
        [r.min().x - margin, r.min().y - margin],
        [r.max().x + margin, r.max().y + margin],
    )
}

fn grow(r: Rect<f64>, margin: f64) -> Rect<f64> {
    Rect::new(
        (r.min().x - margin, r.min().y - margin),
        (r.max().x + margin, r.max().y + margin),
    )
}

fn rects_meet(a: Rect<f64>, b: Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && b.min().x <= a.max().x
        && a.min().y <= b.max().y
        && b.min().y <= a.max().y
}

/// An R*-tree over geometries' boxes, plus the geometries without a box
/// (empty), which every query returns.
#[derive(Debug, Clone)]
struct BoxTree {
    tree: RTree<Boxed>,
    unboxed: Vec<usize>,
}

impl BoxTree {
    fn new<'g>(geoms: impl Iterator<Item = &'g Geometry<f64>>) -> Self {
        let mut boxed = Vec::new();
        let mut unboxed = Vec::new();
        for (i, g) in geoms.enumerate() {
            match g.bounding_rect() {
                Some(r) => boxed.push(Boxed {
                    env: aabb(r, 0.0),
                    i,
                }),
                None => unboxed.push(i),
            }
        }
        Self {
            tree: RTree::bulk_load(boxed),
            unboxed,
        }
    }

    /// Positions whose box meets `r` grown by `margin`, in no particular order.
    fn near(&self, r: Rect<f64>, margin: f64) -> impl Iterator<Item = usize> + '_ {
        self.tree
            .locate_in_envelope_intersecting(aabb(r, margin))
            .map(|b| b.i)
            .chain(self.unboxed.iter().copied())
    }

    /// Positions near `g` (every position when `g` has no box).
    fn near_geometry(&self, g: &Geometry<f64>, margin: f64) -> Vec<usize> {
        match g.bounding_rect() {
            Some(r) => self.near(r, margin).collect(),
            None => (0..self.tree.size() + self.unboxed.len()).collect(),
        }
    }
}

/// A protection target in the pipeline's metric frame.
#[derive(Debug)]
struct Cand {
    category: TargetCategory,
    households: u64,
    people: u64,
    g: Geometry<f64>,
}

fn project_target(frame: &MetricFrame, t: &Feature) -> Option<Cand> {
    match &t.record {
        Record::ProtectionTarget(pt) => frame.project(&t.geometry).ok().map(|g| Cand {
            category: pt.category,
            households: target_households(pt),
            people: target_population(pt),
            g,
        }),
        _ => None,
    }
}

/// A target within the corridor of some piece: the first and last such piece
/// (a target near two stretches of a winding line counts in every window
/// between them, as the whole-line computation always did), its households
/// and people.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cover {
    first: usize,
    last: usize,
    households: u64,
    people: u64,
}

impl Cover {
    /// The window starts whose window [start, start + w − 1] meets
    /// [first, last].
    fn starts(&self, window_pieces: usize) -> (usize, usize) {
        ((self.first + 1).saturating_sub(window_pieces), self.last)
    }
}

/// One 500 m segment of a part.
#[derive(Debug, Clone)]
struct Seg {
    from: f64,
    to: f64,
    /// The segment in metres (a `LineString`).
    geom_m: Geometry<f64>,
    /// Its box in metres (`None` when empty).
    bbox_m: Option<Rect<f64>>,
    /// First and last piece it spans.
    p0: usize,
    p1: usize,
    /// Its position in [`PipelineRisk::segments`]; `None` when it could not
    /// be brought back to WGS84 and was left out.
    out: Option<usize>,
}

/// One part (line) of a pipeline.
#[derive(Debug, Clone)]
struct Part {
    total: f64,
    window_pieces: usize,
    pieces: Vec<Geometry<f64>>,
    piece_tree: BoxTree,
    segs: Vec<Seg>,
    /// Targets within the corridor of a piece, by id.
    covered: std::collections::HashMap<String, Cover>,
    /// Households and people in the window that starts at each piece.
    window_households: Vec<u64>,
    window_people: Vec<u64>,
}

impl Part {
    /// First and last piece within `corridor` of `g` (metres).
    fn cover_of(&self, g: &Geometry<f64>, corridor: f64) -> Option<(usize, usize)> {
        let mut hit: Option<(usize, usize)> = None;
        for i in self.piece_tree.near_geometry(g, corridor + EPS_M) {
            if Euclidean.distance(&self.pieces[i], g) <= corridor {
                hit = Some(hit.map_or((i, i), |(a, b)| (a.min(i), b.max(i))));
            }
        }
        hit
    }

    /// Adds (or removes) a covered target to the window sums.
    fn apply(&mut self, c: &Cover, add: bool) {
        let (s0, s1) = c.starts(self.window_pieces);
        for s in s0..=s1.min(self.window_households.len().saturating_sub(1)) {
            if add {
                self.window_households[s] += c.households;
                self.window_people[s] += c.people;
            } else {
                self.window_households[s] -= c.households;
                self.window_people[s] -= c.people;
            }
        }
    }

    /// The window starts a segment looks at.
    fn starts_of(&self, seg: &Seg) -> (usize, usize) {
        ((seg.p1 + 1).saturating_sub(self.window_pieces), seg.p0)
    }

    /// The most households (then people) in a 2 km window containing `seg`.
    fn best_window(&self, seg: &Seg) -> (u64, u64) {
        let (s0, s1) = self.starts_of(seg);
        let mut best = (0u64, 0u64);
        for start in s0..=s1 {
            let hh = self.window_households.get(start).copied().unwrap_or(0);
            let pop = self.window_people.get(start).copied().unwrap_or(0);
            if hh > best.0 || (hh == best.0 && pop > best.1) {
                best = (hh, pop);
            }
        }
        best
    }
}

/// What a pipeline's segments were measured from, kept between edits.
#[derive(Debug, Clone)]
pub(super) struct PipelineIndex {
    frame: MetricFrame,
    special_r: f64,
    /// max(corridor, r) + 10 m: how far from a segment a target is looked for.
    reach: f64,
    parts: Vec<Part>,
    /// Whether every segment came back to WGS84 (else the candidates were
    /// taken from the whole line's box, and an edit recomputes it whole).
    per_segment: bool,
}

/// What an edit changed near a pipeline.
#[derive(Debug, Clone, Copy)]
pub(super) enum Touch<'a> {
    /// A protection target: its id, old box, and the feature now (if any).
    Target {
        id: &'a str,
        old_bbox: Option<Rect<f64>>,
        new: Option<&'a Feature>,
    },
    /// An enterprise that is or was a flammable site: its old and new boxes.
    Flammable {
        old_bbox: Option<Rect<f64>>,
        new_bbox: Option<Rect<f64>>,
    },
}

/// The facts of one segment from its nearby targets (in id order) and
/// flammable sites.
#[allow(clippy::too_many_arguments)]
fn segment_context<'c>(
    rules: &Rules,
    part: &Part,
    seg: &Seg,
    targets: impl Iterator<Item = &'c Cand>,
    flammable: impl Iterator<Item = &'c Geometry<f64>>,
    special_r: f64,
    liquid: bool,
) -> SegmentContext {
    let d = &rules.pipeline.distances;
    let best = part.best_window(seg);
    let window_len_km = (d.window_m.min(part.total)) / 1000.0;
    let corridor_km2 = window_len_km * 2.0 * d.corridor_m / 1000.0;
    let mut ctx = SegmentContext {
        households_within_200m_2km_window: best.0,
        class4_indicators: false,
        population_density_per_km2: (corridor_km2 > 0.0).then(|| best.1 as f64 / corridor_km2),
        special_sites_within_r: Vec::new(),
        special_sites_within_200m: Vec::new(),
        flammable_sites_within_200m: 0,
        villages_50_households_within_200m: false,
        flammable_sites_within_50m: 0,
        roads_or_railways_within_50m: None,
        nature_reserve_within_200m: None,
        water_source_within_200m: None,
    };
    for t in targets {
        let dist = Euclidean.distance(&seg.geom_m, &t.g);
        if dist <= special_r {
            ctx.special_sites_within_r.push(t.category);
        }
        if dist <= d.corridor_m {
            ctx.special_sites_within_200m.push(t.category);
            if liquid
                && t.category == TargetCategory::Residential
                && t.households >= d.village_min_households
            {
                ctx.villages_50_households_within_200m = true;
            }
        }
    }
    for g in flammable {
        let dist = Euclidean.distance(&seg.geom_m, g);
        if dist <= d.corridor_m {
            ctx.flammable_sites_within_200m += 1;
        }
        if dist <= d.liquid_near_m {
            ctx.flammable_sites_within_50m += 1;
        }
    }
    ctx
}

/// The pipeline's level: its most severe segment (the first of them), with a
/// factor naming it.
fn pipeline_assessment(segments: &[Segment]) -> Option<Assessment> {
    let worst = segments.iter().max_by(|a, b| {
        a.assessment
            .risk_level
            .cmp(&b.assessment.risk_level)
            .then(b.index.cmp(&a.index))
    })?;
    let mut assessment = worst.assessment.clone();
    assessment.insert_factor(
        0,
        Factor::new(
            "最严重管段 most severe segment",
            format!(
                "segment {} of {} ({:.0}–{:.0} m)",
                worst.index + 1,
                segments.len(),
                worst.from_m,
                worst.to_m
            ),
            None,
            "GB 32167-2015 高后果区识别 (pipeline level = most severe segment, project convention)",
        ),
    );
    Some(assessment)
}

/// Features of `collection` meeting any of `boxes`, each once, ordered by id.
fn features_near<'c>(
    catalog: &'c Catalog,
    collection: Collection,
    boxes: &[Rect<f64>],
    keep: impl Fn(&Feature) -> bool,
) -> Vec<&'c Arc<Feature>> {
    let mut seen: HashSet<*const Feature> = HashSet::new();
    let mut out: Vec<&Arc<Feature>> = Vec::new();
    for b in boxes {
        for f in catalog.query_bbox_unordered(collection, *b) {
            if seen.insert(Arc::as_ptr(f)) && keep(f) {
                out.push(f);
            }
        }
    }
    out.sort_unstable_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Scores a pipeline: splits it into segments, measures their facts and runs
/// the HCA model on each. `None` when the feature is not a pipeline or cannot
/// be projected.
pub(super) fn compute(env: &Env<'_>, f: &Feature) -> Option<(PipelineRisk, PipelineIndex)> {
    let Record::Pipeline(p) = &f.record else {
        return None;
    };
    let frame = MetricFrame::new(&f.geometry).ok()?;
    let lines_m: Vec<LineString<f64>> = match frame.reference_m() {
        Geometry::LineString(l) => vec![l.clone()],
        Geometry::MultiLineString(m) => m.0.clone(),
        _ => return None,
    };
    let d = &env.rules.pipeline.distances;
    let special_r = special_site_radius_m(p, env.rules);
    let reach = d.corridor_m.max(special_r) + REACH_MARGIN_M;
    let seg_len = env.config.segment_length_m;
    let window_pieces = (d.window_m / PIECE_M).round().max(1.0) as usize;

    // Geometry: pieces and segments of every part, segments back in WGS84.
    let mut parts: Vec<Part> = Vec::with_capacity(lines_m.len());
    let mut wgs: Vec<(usize, usize, f64, LineString<f64>)> = Vec::new();
    let mut per_segment = true;
    let mut offset = 0.0;
    for line in &lines_m {
        let total = line_length(line);
        let n_pieces = (total / PIECE_M).ceil().max(1.0) as usize;
        let pieces: Vec<Geometry<f64>> = (0..n_pieces)
            .map(|i| {
                Geometry::LineString(sub_line(
                    line,
                    i as f64 * PIECE_M,
                    ((i + 1) as f64 * PIECE_M).min(total),
                ))
            })
            .collect();
        let piece_tree = BoxTree::new(pieces.iter());
        let n_seg = (total / seg_len).ceil().max(1.0) as usize;
        let mut segs = Vec::with_capacity(n_seg);
        for s in 0..n_seg {
            let from = s as f64 * seg_len;
            let to = ((s + 1) as f64 * seg_len).min(total);
            let geom_m = Geometry::LineString(sub_line(line, from, to));
            let (p0, p1) = (
                (from / PIECE_M) as usize,
                ((to / PIECE_M).ceil() as usize).max(1) - 1,
            );
            match frame.zone().unproject(&geom_m) {
                Ok(Geometry::LineString(l)) => {
                    per_segment &= l.bounding_rect().is_some();
                    wgs.push((parts.len(), segs.len(), offset, l));
                }
                _ => per_segment = false,
            }
            segs.push(Seg {
                from,
                to,
                bbox_m: geom_m.bounding_rect(),
                geom_m,
                p0,
                p1,
                out: None,
            });
        }
        parts.push(Part {
            total,
            window_pieces,
            piece_tree,
            pieces,
            segs,
            covered: Default::default(),
            window_households: vec![0; n_pieces],
            window_people: vec![0; n_pieces],
        });
        offset += total;
    }

    // Candidates: everything within reach of some segment (or, failing
    // that, of the line's box), projected once.
    let boxes: Vec<Rect<f64>> = if per_segment {
        wgs.iter()
            .filter_map(|(_, _, _, l)| l.bounding_rect())
            .map(|b| expand_bbox_m(b, reach))
            .collect()
    } else {
        vec![expand_bbox_m(f.bbox(), reach)]
    };
    let cands: Vec<(&Arc<Feature>, Cand)> =
        features_near(env.catalog, Collection::ProtectionTargets, &boxes, |_| true)
            .into_iter()
            .filter_map(|t| project_target(&frame, t).map(|c| (t, c)))
            .collect();
    let cand_tree = BoxTree::new(cands.iter().map(|(_, c)| &c.g));
    let flammable: Vec<Geometry<f64>> =
        features_near(env.catalog, Collection::Enterprises, &boxes, |e| {
            env.flammable.contains(&e.id)
        })
        .into_iter()
        .filter_map(|e| frame.project(&e.geometry).ok())
        .collect();
    let flammable_tree = BoxTree::new(flammable.iter());

    // Window sums from each target's covered pieces.
    for part in &mut parts {
        for (t, c) in &cands {
            if let Some((first, last)) = part.cover_of(&c.g, d.corridor_m) {
                let cover = Cover {
                    first,
                    last,
                    households: c.households,
                    people: c.people,
                };
                part.apply(&cover, true);
                part.covered.insert(t.id.clone(), cover);
            }
        }
    }

    // Each segment's facts and assessment.
    let liquid = p.kind == PipelineKind::Oil;
    let target_margin = special_r.max(d.corridor_m) + EPS_M;
    let flammable_margin = d.corridor_m.max(d.liquid_near_m) + EPS_M;
    let mut segments: Vec<Segment> = Vec::with_capacity(wgs.len());
    for (pi, si, offset, geometry) in wgs {
        let part = &parts[pi];
        let seg = &part.segs[si];
        let mut near_t: Vec<usize> = match seg.bbox_m {
            Some(b) => cand_tree.near(b, target_margin).collect(),
            None => (0..cands.len()).collect(),
        };
        near_t.sort_unstable();
        let near_f: Vec<usize> = match seg.bbox_m {
            Some(b) => flammable_tree.near(b, flammable_margin).collect(),
            None => (0..flammable.len()).collect(),
        };
        let ctx = segment_context(
            env.rules,
            part,
            seg,
            near_t.iter().map(|i| &cands[*i].1),
            near_f.iter().map(|i| &flammable[*i]),
            special_r,
            liquid,
        );
        let assessment = assess_pipeline_segment(p, &ctx, env.rules);
        let (from, to) = (seg.from, seg.to);
        parts[pi].segs[si].out = Some(segments.len());
        segments.push(Segment {
            index: segments.len(),
            from_m: offset + from,
            to_m: offset + to,
            geometry,
            assessment,
        });
    }
    let assessment = pipeline_assessment(&segments)?;
    Some((
        PipelineRisk {
            assessment,
            segments,
        },
        PipelineIndex {
            frame,
            special_r,
            reach,
            parts,
            per_segment,
        },
    ))
}

impl PipelineIndex {
    /// A WGS84 box in this frame: the box of its projected corners and edge
    /// midpoints, grown by a margin that covers the edges' curvature.
    fn project_rect(&self, r: Rect<f64>) -> Option<Rect<f64>> {
        let (x0, y0, x1, y1) = (r.min().x, r.min().y, r.max().x, r.max().y);
        let (xm, ym) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let pts: Vec<Coord<f64>> = [
            (x0, y0),
            (x1, y0),
            (x0, y1),
            (x1, y1),
            (xm, y0),
            (xm, y1),
            (x0, ym),
            (x1, ym),
        ]
        .iter()
        .filter_map(|(x, y)| self.frame.zone().forward(*x, *y).ok())
        .map(|(x, y)| coord! { x: x, y: y })
        .collect();
        let b = LineString::from(pts).bounding_rect()?;
        Some(grow(b, EPS_M + 1e-3 * b.width().max(b.height())))
    }

    /// Rescores only the segments `touch` can reach; returns the positions (in
    /// `risk.segments`) of those whose assessment changed, or `None` when the
    /// pipeline must be recomputed whole.
    pub(super) fn rescore(
        &mut self,
        env: &Env<'_>,
        p: &Pipeline,
        risk: &mut PipelineRisk,
        touch: Touch<'_>,
    ) -> Option<Vec<usize>> {
        if !self.per_segment {
            return None;
        }
        let d = &env.rules.pipeline.distances;
        let target_margin = self.special_r.max(d.corridor_m) + EPS_M;
        let flammable_margin = d.corridor_m.max(d.liquid_near_m) + EPS_M;
        let mut dirty: Vec<(usize, usize)> = Vec::new();
        match touch {
            Touch::Target { id, old_bbox, new } => {
                let old_m = old_bbox.map(|b| self.project_rect(b));
                let new_c = new.and_then(|t| project_target(&self.frame, t));
                // A target whose position cannot be boxed may be anywhere.
                let new_m = new_c.as_ref().map(|c| c.g.bounding_rect());
                let boxes: Vec<Option<Rect<f64>>> = old_m.into_iter().chain(new_m).collect();
                for (pi, part) in self.parts.iter_mut().enumerate() {
                    let mut starts: Vec<(usize, usize)> = Vec::new();
                    if let Some(c) = part.covered.remove(id) {
                        part.apply(&c, false);
                        starts.push(c.starts(part.window_pieces));
                    }
                    if let Some(c) = &new_c
                        && let Some((first, last)) = part.cover_of(&c.g, d.corridor_m)
                    {
                        let cover = Cover {
                            first,
                            last,
                            households: c.households,
                            people: c.people,
                        };
                        part.apply(&cover, true);
                        starts.push(cover.starts(part.window_pieces));
                        part.covered.insert(id.to_string(), cover);
                    }
                    for (si, seg) in part.segs.iter().enumerate() {
                        let (s0, s1) = part.starts_of(seg);
                        let windows = starts.iter().any(|(a, b)| *a <= s1 && s0 <= *b);
                        if windows || near(seg, &boxes, target_margin) {
                            dirty.push((pi, si));
                        }
                    }
                }
            }
            Touch::Flammable { old_bbox, new_bbox } => {
                let boxes: Vec<Option<Rect<f64>>> = old_bbox
                    .into_iter()
                    .chain(new_bbox)
                    .map(|b| self.project_rect(b))
                    .collect();
                for (pi, part) in self.parts.iter().enumerate() {
                    for (si, seg) in part.segs.iter().enumerate() {
                        if near(seg, &boxes, flammable_margin) {
                            dirty.push((pi, si));
                        }
                    }
                }
            }
        }

        let liquid = p.kind == PipelineKind::Oil;
        let mut changed = Vec::new();
        for (pi, si) in dirty {
            let part = &self.parts[pi];
            let seg = &part.segs[si];
            let Some(out) = seg.out else { continue };
            let current = risk.segments.get_mut(out)?;
            let qbox = expand_bbox_m(current.geometry.bounding_rect()?, self.reach);
            let targets: Vec<Cand> = env
                .catalog
                .query_bbox(Collection::ProtectionTargets, qbox)
                .iter()
                .filter_map(|t| project_target(&self.frame, t))
                .collect();
            let flammable: Vec<Geometry<f64>> = env
                .catalog
                .query_bbox_unordered(Collection::Enterprises, qbox)
                .filter(|e| env.flammable.contains(&e.id))
                .filter_map(|e| self.frame.project(&e.geometry).ok())
                .collect();
            let ctx = segment_context(
                env.rules,
                part,
                seg,
                targets.iter(),
                flammable.iter(),
                self.special_r,
                liquid,
            );
            let assessment = assess_pipeline_segment(p, &ctx, env.rules);
            if assessment != current.assessment {
                current.assessment = assessment;
                changed.push(out);
            }
        }
        if !changed.is_empty() {
            risk.assessment = pipeline_assessment(&risk.segments)?;
        }
        Some(changed)
    }
}

/// Whether `seg`, grown by `margin`, meets any of `boxes` (`None`: a box that
/// could not be computed, which meets everything).
fn near(seg: &Seg, boxes: &[Option<Rect<f64>>], margin: f64) -> bool {
    boxes.iter().any(|b| match (b, seg.bbox_m) {
        (Some(b), Some(s)) => rects_meet(grow(s, margin), *b),
        _ => true,
    })
}

fn line_length(l: &LineString<f64>) -> f64 {
    l.lines().map(|s| Euclidean.distance(s.start, s.end)).sum()
}

/// The part of `l` between chainages `from` and `to` (metres, projected).
fn sub_line(l: &LineString<f64>, from: f64, to: f64) -> LineString<f64> {
    let mut out: Vec<Coord<f64>> = Vec::new();
    let mut acc = 0.0;
    for s in l.lines() {
        let len = Euclidean.distance(s.start, s.end);
        let (a, b) = (acc, acc + len);
        if b >= from && a <= to && len > 0.0 {
            let t0 = ((from - a) / len).clamp(0.0, 1.0);
            let t1 = ((to - a) / len).clamp(0.0, 1.0);
            let at = |t: f64| coord! { x: s.start.x + t * (s.end.x - s.start.x), y: s.start.y + t * (s.end.y - s.start.y) };
            let p0 = at(t0);
            if out.last() != Some(&p0) {
                out.push(p0);
            }
            out.push(at(t1));
        }
        acc = b;
    }
    if out.len() == 1 {
        out.push(out[0]);
    }
    LineString::from(out)
}

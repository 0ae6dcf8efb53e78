//! The engine's earlier whole-line, whole-district algorithms, kept as test
//! oracles: brute force over every candidate and every 100 m piece, exactly as
//! they ran before the indexes. Test-only.

use geo::{
    Centroid, Contains, Coord, Distance, Euclidean, Geometry, Intersects, LineString, coord,
};
use riskmap_spatial::{MetricFrame, expand_bbox_m};

use super::{
    EngineConfig, PipelineRisk, RiskState, Segment, is_flammable_site, target_households,
    target_population,
};
use crate::catalog::Catalog;
use crate::model::{Collection, Feature, PipelineKind, Record, TargetCategory};
use crate::scoring::{
    Assessment, Factor, ParkContext, Rules, SegmentContext, assess_grid_max, assess_park,
    assess_pipeline_segment, special_site_radius_m,
};

pub(super) fn pipeline(
    config: &EngineConfig,
    catalog: &Catalog,
    rules: &Rules,
    f: &Feature,
) -> Option<PipelineRisk> {
    let Record::Pipeline(p) = &f.record else {
        return None;
    };
    let frame = MetricFrame::new(&f.geometry).ok()?;
    let lines_m: Vec<LineString<f64>> = match frame.reference_m() {
        Geometry::LineString(l) => vec![l.clone()],
        Geometry::MultiLineString(m) => m.0.clone(),
        _ => return None,
    };
    let d = &rules.pipeline.distances;
    let special_r = special_site_radius_m(p, rules);
    let reach = d.corridor_m.max(special_r) + 10.0;
    // Candidate neighbours once for the whole line.
    let near_box = expand_bbox_m(f.bbox(), reach);
    let targets: Vec<(TargetCategory, u64, u64, Geometry<f64>)> = catalog
        .query_bbox(Collection::ProtectionTargets, near_box)
        .iter()
        .filter_map(|t| match &t.record {
            Record::ProtectionTarget(pt) => frame
                .project(&t.geometry)
                .ok()
                .map(|g| (pt.category, target_households(pt), target_population(pt), g)),
            _ => None,
        })
        .collect();
    let flammable: Vec<Geometry<f64>> = catalog
        .query_bbox(Collection::Enterprises, near_box)
        .iter()
        .filter(|e| matches!(&e.record, Record::Enterprise(ent) if is_flammable_site(ent)))
        .filter_map(|e| frame.project(&e.geometry).ok())
        .collect();
    let liquid = p.kind == PipelineKind::Oil;
    let mut segments = Vec::new();
    let mut offset = 0.0;
    for line in &lines_m {
        let total = line_length(line);
        // 100 m pieces: which targets lie within 200 m of each piece.
        let piece = 100.0;
        let n_pieces = (total / piece).ceil().max(1.0) as usize;
        let pieces: Vec<LineString<f64>> = (0..n_pieces)
            .map(|i| sub_line(line, i as f64 * piece, ((i + 1) as f64 * piece).min(total)))
            .collect();
        let covered: Vec<Option<(usize, usize)>> = targets
            .iter()
            .map(|(_, _, _, g)| {
                let hits: Vec<usize> = pieces
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| {
                        Euclidean.distance(&Geometry::LineString((*s).clone()), g) <= d.corridor_m
                    })
                    .map(|(i, _)| i)
                    .collect();
                hits.first().zip(hits.last()).map(|(a, b)| (*a, *b))
            })
            .collect();
        let window_pieces = (d.window_m / piece).round().max(1.0) as usize;
        let n_seg = (total / config.segment_length_m).ceil().max(1.0) as usize;
        for s in 0..n_seg {
            let from = s as f64 * config.segment_length_m;
            let to = ((s + 1) as f64 * config.segment_length_m).min(total);
            let seg_m = sub_line(line, from, to);
            let (p0, p1) = (
                (from / piece) as usize,
                ((to / piece).ceil() as usize).max(1) - 1,
            );
            // Every 2 km window (in pieces) that contains this segment.
            let first_start = (p1 + 1).saturating_sub(window_pieces);
            let mut best = (0u64, 0u64);
            for start in first_start..=p0 {
                let end = start + window_pieces - 1;
                let (mut hh, mut pop) = (0u64, 0u64);
                for (i, cov) in covered.iter().enumerate() {
                    if let Some((a, b)) = cov
                        && *a <= end
                        && *b >= start
                    {
                        hh += targets[i].1;
                        pop += targets[i].2;
                    }
                }
                if hh > best.0 || (hh == best.0 && pop > best.1) {
                    best = (hh, pop);
                }
            }
            let window_len_km = (d.window_m.min(total)) / 1000.0;
            let corridor_km2 = window_len_km * 2.0 * d.corridor_m / 1000.0;
            let seg_geom = Geometry::LineString(seg_m.clone());
            let mut ctx = SegmentContext {
                households_within_200m_2km_window: best.0,
                class4_indicators: false,
                population_density_per_km2: (corridor_km2 > 0.0)
                    .then(|| best.1 as f64 / corridor_km2),
                special_sites_within_r: Vec::new(),
                special_sites_within_200m: Vec::new(),
                flammable_sites_within_200m: 0,
                villages_50_households_within_200m: false,
                flammable_sites_within_50m: 0,
                roads_or_railways_within_50m: None,
                nature_reserve_within_200m: None,
                water_source_within_200m: None,
            };
            for (cat, hh, _, g) in &targets {
                let dist = Euclidean.distance(&seg_geom, g);
                if dist <= special_r {
                    ctx.special_sites_within_r.push(*cat);
                }
                if dist <= d.corridor_m {
                    ctx.special_sites_within_200m.push(*cat);
                    if liquid
                        && *cat == TargetCategory::Residential
                        && *hh >= d.village_min_households
                    {
                        ctx.villages_50_households_within_200m = true;
                    }
                }
            }
            for g in &flammable {
                let dist = Euclidean.distance(&seg_geom, g);
                if dist <= d.corridor_m {
                    ctx.flammable_sites_within_200m += 1;
                }
                if dist <= d.liquid_near_m {
                    ctx.flammable_sites_within_50m += 1;
                }
            }
            let assessment = assess_pipeline_segment(p, &ctx, rules);
            let geometry = match frame.zone().unproject(&Geometry::LineString(seg_m)) {
                Ok(Geometry::LineString(l)) => l,
                _ => continue,
            };
            segments.push(Segment {
                index: segments.len(),
                from_m: offset + from,
                to_m: offset + to,
                geometry,
                assessment,
            });
        }
        offset += total;
    }
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
    Some(PipelineRisk {
        assessment,
        segments,
    })
}

pub(super) fn park(
    state: &RiskState,
    catalog: &Catalog,
    rules: &Rules,
    f: &Feature,
) -> Option<Assessment> {
    {
        let Record::Park(p) = &f.record else {
            return None;
        };
        let mut ctx = ParkContext {
            enterprise_levels: Vec::new(),
            major_hazard_grades: Vec::new(),
            population_inside: 0,
            population_buffer: 0,
        };
        for e in catalog.query_bbox(Collection::Enterprises, f.bbox()) {
            let member = matches!(&e.record, Record::Enterprise(ent) if ent.park_id.as_deref() == Some(f.id.as_str()))
                || e.geometry
                    .centroid()
                    .is_some_and(|c| f.geometry.contains(&c));
            if let (true, Some(r)) = (member, state.enterprises.get(&e.id)) {
                ctx.enterprise_levels.push(r.assessment.risk_level);
                ctx.major_hazard_grades
                    .extend(r.major_hazards.iter().filter_map(|h| h.grade));
            }
        }
        // Enterprises assigned by park_id but lying outside the outline.
        for (id, r) in &state.enterprises {
            if let Some(e) = catalog.get(Collection::Enterprises, id)
                && matches!(&e.record, Record::Enterprise(ent) if ent.park_id.as_deref() == Some(f.id.as_str()))
                && !e.bbox().intersects(&f.bbox())
            {
                ctx.enterprise_levels.push(r.assessment.risk_level);
                ctx.major_hazard_grades
                    .extend(r.major_hazards.iter().filter_map(|h| h.grade));
            }
        }
        if let Ok(frame) = MetricFrame::new(&f.geometry) {
            for t in catalog.query_bbox(
                Collection::ProtectionTargets,
                expand_bbox_m(f.bbox(), state.config().park_buffer_m),
            ) {
                let Record::ProtectionTarget(pt) = &t.record else {
                    continue;
                };
                match frame.distance_m(&t.geometry) {
                    Ok(d) if d <= 0.0 => ctx.population_inside += target_population(pt),
                    Ok(d) if d <= state.config().park_buffer_m => {
                        ctx.population_buffer += target_population(pt)
                    }
                    _ => {}
                }
            }
        }
        Some(assess_park(p, &ctx, rules))
    }
}

pub(super) fn district(
    state: &RiskState,
    catalog: &Catalog,
    rules: &Rules,
    d: &Feature,
) -> Assessment {
    {
        let mut levels = Vec::new();
        for c in [Collection::Enterprises, Collection::Parks] {
            for f in catalog.query_bbox(c, d.bbox()) {
                if f.geometry.intersects(&d.geometry)
                    && let Some(l) = state.level(c, &f.id)
                {
                    levels.push(l);
                }
            }
        }
        for f in catalog.query_bbox(Collection::Pipelines, d.bbox()) {
            if let Some(p) = state.pipelines.get(&f.id) {
                levels.extend(
                    p.segments
                        .iter()
                        .filter(|s| s.geometry.intersects(&d.geometry))
                        .map(|s| s.assessment.risk_level),
                );
            }
        }
        assess_grid_max(levels, rules)
    }
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

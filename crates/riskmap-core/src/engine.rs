//! The risk engine (风险计算引擎): computes the spatial facts every scoring
//! model needs from the [`Catalog`], runs the models of [`crate::scoring`], and
//! keeps the results current after each edit by rescoring only what the edit
//! can reach.
//!
//! Spatial facts are measured in metres in the local 3° Gauss–Krüger zone
//! ([`riskmap_spatial::MetricFrame`]):
//! - α (GB 18218-2018 Table 5): people in protection targets within 500 m of
//!   the plant boundary, outside the plant;
//! - pipeline segments: households within 200 m in the 2 km window that holds
//!   the most (GB 32167 class location), 特定场所 within r or 200 m, flammable
//!   sites within 200 m / 50 m;
//! - parks: enterprises inside, residents inside and in a buffer ring;
//! - the four-colour grid (四色图): square cells in the zone of the data, each
//!   coloured by the highest-level source meeting it (就高原则) and by the
//!   weighted index, keeping the sources that set the colour.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use geo::{
    BoundingRect, Centroid, Contains, Coord, Distance, Euclidean, Geometry, Intersects, LineString,
    Polygon, Rect, coord,
};
use riskmap_spatial::{GaussKruger, MetricFrame, expand_bbox_m};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::model::{
    Collection, Enterprise, Feature, ParkKind, PipelineKind, Record, TargetCategory,
};
use crate::scoring::{
    Assessment, EnterpriseContext, Factor, ParkContext, RiskLevel, Rules, SegmentContext,
    UnitHazard, assess_enterprise, assess_grid_max, assess_grid_weighted, assess_park,
    assess_pipeline_segment, special_site_radius_m,
};
use crate::standards::gb18218::Gb18218;

/// People per household used when a residential target gives only one of the two.
pub const PEOPLE_PER_HOUSEHOLD: f64 = 2.8;

/// Settings of one engine run.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Assessment date `YYYY-MM-DD` (accident windows).
    pub today: String,
    /// Pipeline segment length, m.
    pub segment_length_m: f64,
    /// Buffer ring around a park for its population, m.
    pub park_buffer_m: f64,
    /// Grid cell size, m (default from `data/rules/grid.toml`).
    pub cell_size_m: f64,
}

impl EngineConfig {
    /// Defaults: 500 m segments, 1 km park buffer, the rules' cell size.
    pub fn new(today: impl Into<String>, rules: &Rules) -> Self {
        Self {
            today: today.into(),
            segment_length_m: 500.0,
            park_buffer_m: 1000.0,
            cell_size_m: rules.grid.cell_size_m,
        }
    }
}

/// The result for one enterprise.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EnterpriseRisk {
    /// Level, score and explanation.
    pub assessment: Assessment,
    /// GB 18218 identification of each unit (重大危险源辨识).
    pub major_hazards: Vec<UnitHazard>,
    /// People within 500 m outside the plant (α basis).
    pub people_within_500m: u64,
}

/// One pipeline segment with its HCA assessment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    /// 0-based index along the line.
    pub index: usize,
    /// Chainage of the start, m.
    pub from_m: f64,
    /// Chainage of the end, m.
    pub to_m: f64,
    /// Geometry (WGS84).
    #[serde(skip)]
    pub geometry: LineString<f64>,
    /// The HCA assessment.
    pub assessment: Assessment,
}

/// The result for one pipeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PipelineRisk {
    /// The most severe segment's assessment (the pipeline's level).
    pub assessment: Assessment,
    /// Every segment.
    pub segments: Vec<Segment>,
}

/// What set a grid cell's colour.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceRef {
    /// Collection of the source.
    pub collection: Collection,
    /// Id of the source.
    pub id: String,
    /// Segment index for pipelines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<usize>,
}

/// One cell of the four-colour grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// `c{col}_{row}` in the grid's zone.
    pub id: String,
    /// Outline (WGS84).
    #[serde(skip)]
    pub geometry: Polygon<f64>,
    /// Level by the max rule (就高原则).
    pub risk_level: RiskLevel,
    /// The sources at that level (the ones that set the colour).
    pub set_by: Vec<SourceRef>,
    /// Every source meeting the cell.
    pub sources: Vec<SourceRef>,
    /// Sources per level: blue, yellow, orange, red.
    pub counts: [u32; 4],
    /// Weighted index (alternative model).
    pub weighted_index: f64,
    /// Level by the weighted index.
    pub weighted_level: RiskLevel,
}

/// What an update changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    /// Features whose assessment changed (level, score or factors).
    pub features: BTreeSet<(Collection, String)>,
    /// Grid cells whose colour or sources changed.
    pub cells: BTreeSet<String>,
}

/// One edit, as the engine needs to know it.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// Collection of the edited feature.
    pub collection: Collection,
    /// Its id.
    pub id: String,
    /// Its bounding box before the edit (`None` when new).
    pub old_bbox: Option<Rect<f64>>,
    /// Its bounding box after the edit (`None` when deleted).
    pub new_bbox: Option<Rect<f64>>,
}

type CellKey = (i64, i64);

/// Above this many cells the grid keeps only the cells that a source meets;
/// the others are blue by definition (就高原则 with no source).
pub const MAX_DENSE_CELLS: i64 = 200_000;

/// The grid: cells in one Gauss–Krüger zone.
#[derive(Debug)]
struct Grid {
    gk: GaussKruger,
    size: f64,
    /// Inclusive cell ranges (col, row).
    range: Option<(CellKey, CellKey)>,
    /// Dense: every cell of the range exists (blue when no source meets it).
    /// Sparse (ranges above [`MAX_DENSE_CELLS`]): only cells a source meets.
    dense: bool,
    cells: BTreeMap<CellKey, Cell>,
    footprints: HashMap<SourceRef, Vec<CellKey>>,
    members: HashMap<CellKey, BTreeMap<SourceRef, RiskLevel>>,
}

/// Every derived result, kept current by [`RiskState::update`].
#[derive(Debug)]
pub struct RiskState {
    config: EngineConfig,
    /// Enterprises by id.
    pub enterprises: BTreeMap<String, EnterpriseRisk>,
    /// Parks by id.
    pub parks: BTreeMap<String, Assessment>,
    /// Pipelines by id.
    pub pipelines: BTreeMap<String, PipelineRisk>,
    /// Districts by code: the max rule over the sources inside.
    pub districts: BTreeMap<String, Assessment>,
    /// Enterprises that are flammable/explosive sites (for pipeline HCA).
    flammable: BTreeSet<String>,
    grid: Grid,
}

impl RiskState {
    /// Scores everything in the catalogue.
    pub fn compute(catalog: &Catalog, rules: &Rules, config: EngineConfig) -> Self {
        let mut state = RiskState {
            grid: Grid::new(catalog, config.cell_size_m),
            config,
            enterprises: BTreeMap::new(),
            parks: BTreeMap::new(),
            pipelines: BTreeMap::new(),
            districts: BTreeMap::new(),
            flammable: BTreeSet::new(),
        };
        for f in catalog.iter(Collection::Enterprises) {
            if matches!(&f.record, Record::Enterprise(e) if is_flammable_site(e)) {
                state.flammable.insert(f.id.clone());
            }
            if let Some(r) = state.enterprise(catalog, rules, f) {
                state.enterprises.insert(f.id.clone(), r);
            }
        }
        for f in catalog.iter(Collection::Pipelines) {
            if let Some(r) = state.pipeline(catalog, rules, f) {
                state.pipelines.insert(f.id.clone(), r);
            }
        }
        state.parks = state.all_parks(catalog, rules);
        state.rebuild_grid(catalog, rules);
        state.districts = state.all_districts(catalog, rules);
        state
    }

    /// The settings used.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The level of a scored feature (enterprise, park, pipeline, district).
    pub fn level(&self, collection: Collection, id: &str) -> Option<RiskLevel> {
        self.assessment(collection, id).map(|a| a.risk_level)
    }

    /// The assessment of a scored feature.
    pub fn assessment(&self, collection: Collection, id: &str) -> Option<&Assessment> {
        match collection {
            Collection::Enterprises => self.enterprises.get(id).map(|r| &r.assessment),
            Collection::Parks => self.parks.get(id),
            Collection::Pipelines => self.pipelines.get(id).map(|r| &r.assessment),
            Collection::Districts => self.districts.get(id),
            Collection::ProtectionTargets => None,
        }
    }

    /// Every grid cell, ordered by id.
    pub fn cells(&self) -> impl Iterator<Item = &Cell> {
        self.grid.cells.values()
    }

    /// One grid cell.
    pub fn cell(&self, id: &str) -> Option<&Cell> {
        let key = parse_cell_id(id)?;
        self.grid.cells.get(&key)
    }

    /// Rescores what an edit can reach (the catalogue already holds the edit):
    /// the feature itself, enterprises whose α may change, pipelines whose
    /// corridor may change, parks, the grid cells under the old and new
    /// footprints, and districts. Returns what changed.
    pub fn update(&mut self, catalog: &Catalog, rules: &Rules, edit: &Edit) -> Changes {
        let mut changes = Changes::default();
        let boxes: Vec<Rect<f64>> = edit
            .old_bbox
            .iter()
            .chain(edit.new_bbox.iter())
            .copied()
            .collect();
        let near = |c: Collection, metres: f64| -> BTreeSet<String> {
            boxes
                .iter()
                .flat_map(|b| catalog.query_bbox(c, expand_bbox_m(*b, metres)))
                .map(|f| f.id.clone())
                .collect()
        };

        // Enterprises: the edited one, or those within reach of an edited target.
        let enterprises: BTreeSet<String> = match edit.collection {
            Collection::Enterprises => BTreeSet::from([edit.id.clone()]),
            Collection::ProtectionTargets => near(Collection::Enterprises, 600.0),
            _ => BTreeSet::new(),
        };
        let mut moved_sources: Vec<SourceRef> = Vec::new();
        for id in &enterprises {
            let new = catalog
                .get(Collection::Enterprises, id)
                .and_then(|f| self.enterprise(catalog, rules, f));
            if self.enterprises.get(id) != new.as_ref() {
                changes
                    .features
                    .insert((Collection::Enterprises, id.clone()));
            }
            match new {
                Some(r) => self.enterprises.insert(id.clone(), r),
                None => self.enterprises.remove(id),
            };
            moved_sources.push(SourceRef {
                collection: Collection::Enterprises,
                id: id.clone(),
                segment: None,
            });
        }

        // Pipelines: the edited one, or those whose 2 km window and r may reach the edit.
        let flammable_now = catalog
            .get(Collection::Enterprises, &edit.id)
            .is_some_and(|f| matches!(&f.record, Record::Enterprise(e) if is_flammable_site(e)));
        let enterprise_reaches_pipelines = edit.collection == Collection::Enterprises
            && (edit.old_bbox != edit.new_bbox
                || self.flammable.contains(&edit.id) != flammable_now);
        if edit.collection == Collection::Enterprises {
            if flammable_now {
                self.flammable.insert(edit.id.clone());
            } else {
                self.flammable.remove(&edit.id);
            }
        }
        let pipelines: BTreeSet<String> = match edit.collection {
            Collection::Pipelines => BTreeSet::from([edit.id.clone()]),
            Collection::ProtectionTargets => near(Collection::Pipelines, 2500.0),
            Collection::Enterprises if enterprise_reaches_pipelines => {
                near(Collection::Pipelines, 2500.0)
            }
            _ => BTreeSet::new(),
        };
        for id in &pipelines {
            let new = catalog
                .get(Collection::Pipelines, id)
                .and_then(|f| self.pipeline(catalog, rules, f));
            if self.pipelines.get(id) != new.as_ref() {
                changes.features.insert((Collection::Pipelines, id.clone()));
            }
            let old_segments = self.pipelines.get(id).map_or(0, |p| p.segments.len());
            let new_segments = new.as_ref().map_or(0, |p| p.segments.len());
            for i in 0..old_segments.max(new_segments) {
                moved_sources.push(SourceRef {
                    collection: Collection::Pipelines,
                    id: id.clone(),
                    segment: Some(i),
                });
            }
            match new {
                Some(r) => self.pipelines.insert(id.clone(), r),
                None => self.pipelines.remove(id),
            };
        }

        // Parks whose outline or buffer meets the edit, or that the edited
        // enterprises name as theirs.
        let mut park_ids = near(Collection::Parks, self.config.park_buffer_m + 100.0);
        if edit.collection == Collection::Parks {
            park_ids.insert(edit.id.clone());
        }
        for id in &enterprises {
            if let Some(f) = catalog.get(Collection::Enterprises, id)
                && let Record::Enterprise(e) = &f.record
                && let Some(p) = &e.park_id
            {
                park_ids.insert(p.clone());
            }
        }
        for id in &park_ids {
            let new = catalog
                .get(Collection::Parks, id)
                .and_then(|f| self.park(catalog, rules, f));
            if self.parks.get(id) != new.as_ref() {
                changes.features.insert((Collection::Parks, id.clone()));
            }
            match new {
                Some(a) => self.parks.insert(id.clone(), a),
                None => self.parks.remove(id),
            };
        }
        if edit.collection == Collection::Parks {
            moved_sources.push(SourceRef {
                collection: Collection::Parks,
                id: edit.id.clone(),
                segment: None,
            });
        }
        for (c, id) in &changes.features {
            if *c == Collection::Parks {
                moved_sources.push(SourceRef {
                    collection: Collection::Parks,
                    id: id.clone(),
                    segment: None,
                });
            }
        }

        // Grid: re-place the sources that may have moved or changed level.
        if self.grid.covers_all(catalog) {
            let sources = self_sources(self, catalog, &moved_sources);
            changes.cells = self.grid.replace(sources, &moved_sources, rules);
        } else {
            let before: BTreeMap<String, Cell> = self
                .grid
                .cells
                .values()
                .map(|c| (c.id.clone(), c.clone()))
                .collect();
            self.grid = Grid::new(catalog, self.config.cell_size_m);
            self.rebuild_grid(catalog, rules);
            for c in self.grid.cells.values() {
                if before.get(&c.id) != Some(c) {
                    changes.cells.insert(c.id.clone());
                }
            }
            changes
                .cells
                .extend(before.keys().filter(|k| self.cell(k).is_none()).cloned());
        }

        // Districts under anything that changed.
        let mut reach: Vec<Rect<f64>> = boxes.clone();
        for (c, id) in &changes.features {
            if let Some(f) = catalog.get(*c, id) {
                reach.push(f.bbox());
            }
        }
        let district_ids: BTreeSet<String> = reach
            .iter()
            .flat_map(|b| catalog.query_bbox(Collection::Districts, *b))
            .map(|f| f.id.clone())
            .collect();
        for id in district_ids {
            let new = catalog
                .get(Collection::Districts, &id)
                .map(|d| self.district(catalog, rules, d));
            if self.districts.get(&id) != new.as_ref() {
                changes.features.insert((Collection::Districts, id.clone()));
            }
            match new {
                Some(a) => self.districts.insert(id, a),
                None => self.districts.remove(&id),
            };
        }
        changes
    }

    fn enterprise(&self, catalog: &Catalog, rules: &Rules, f: &Feature) -> Option<EnterpriseRisk> {
        let Record::Enterprise(e) = &f.record else {
            return None;
        };
        let frame = MetricFrame::new(&f.geometry).ok()?;
        let mut people = 0u64;
        let mut categories = Vec::new();
        for t in catalog.query_bbox(
            Collection::ProtectionTargets,
            expand_bbox_m(f.bbox(), 500.0),
        ) {
            let Record::ProtectionTarget(pt) = &t.record else {
                continue;
            };
            // Outside the plant: a target inside the 厂区 polygon does not count.
            if f.geometry.contains(&t.geometry) {
                continue;
            }
            if frame.distance_m(&t.geometry).is_ok_and(|d| d <= 500.0) {
                people += target_population(pt);
                categories.push(pt.category);
            }
        }
        let ctx = EnterpriseContext {
            people_within_500m: people,
            targets_within_500m: categories,
            in_chemical_park: in_chemical_park(catalog, f, e),
            today: self.config.today.clone(),
            external_distance_ok: None,
        };
        let (assessment, major_hazards) = assess_enterprise(e, &ctx, rules);
        Some(EnterpriseRisk {
            assessment,
            major_hazards,
            people_within_500m: people,
        })
    }

    fn pipeline(&self, catalog: &Catalog, rules: &Rules, f: &Feature) -> Option<PipelineRisk> {
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
                            Euclidean.distance(&Geometry::LineString((*s).clone()), g)
                                <= d.corridor_m
                        })
                        .map(|(i, _)| i)
                        .collect();
                    hits.first().zip(hits.last()).map(|(a, b)| (*a, *b))
                })
                .collect();
            let window_pieces = (d.window_m / piece).round().max(1.0) as usize;
            let n_seg = (total / self.config.segment_length_m).ceil().max(1.0) as usize;
            for s in 0..n_seg {
                let from = s as f64 * self.config.segment_length_m;
                let to = ((s + 1) as f64 * self.config.segment_length_m).min(total);
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
        assessment.factors.insert(
            0,
            Factor {
                name: "最严重管段 most severe segment".into(),
                value: format!(
                    "segment {} of {} ({:.0}–{:.0} m)",
                    worst.index + 1,
                    segments.len(),
                    worst.from_m,
                    worst.to_m
                ),
                points: None,
                clause: "GB 32167-2015 高后果区识别 (pipeline level = most severe segment, project convention)".into(),
            },
        );
        Some(PipelineRisk {
            assessment,
            segments,
        })
    }

    fn all_parks(&self, catalog: &Catalog, rules: &Rules) -> BTreeMap<String, Assessment> {
        catalog
            .iter(Collection::Parks)
            .filter_map(|f| self.park(catalog, rules, f).map(|a| (f.id.clone(), a)))
            .collect()
    }

    fn park(&self, catalog: &Catalog, rules: &Rules, f: &Feature) -> Option<Assessment> {
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
                if let (true, Some(r)) = (member, self.enterprises.get(&e.id)) {
                    ctx.enterprise_levels.push(r.assessment.risk_level);
                    ctx.major_hazard_grades
                        .extend(r.major_hazards.iter().filter_map(|h| h.grade));
                }
            }
            // Enterprises assigned by park_id but lying outside the outline.
            for (id, r) in &self.enterprises {
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
                    expand_bbox_m(f.bbox(), self.config.park_buffer_m),
                ) {
                    let Record::ProtectionTarget(pt) = &t.record else {
                        continue;
                    };
                    match frame.distance_m(&t.geometry) {
                        Ok(d) if d <= 0.0 => ctx.population_inside += target_population(pt),
                        Ok(d) if d <= self.config.park_buffer_m => {
                            ctx.population_buffer += target_population(pt)
                        }
                        _ => {}
                    }
                }
            }
            Some(assess_park(p, &ctx, rules))
        }
    }

    fn all_districts(&self, catalog: &Catalog, rules: &Rules) -> BTreeMap<String, Assessment> {
        catalog
            .iter(Collection::Districts)
            .map(|d| (d.id.clone(), self.district(catalog, rules, d)))
            .collect()
    }

    fn district(&self, catalog: &Catalog, rules: &Rules, d: &Feature) -> Assessment {
        {
            let mut levels = Vec::new();
            for c in [Collection::Enterprises, Collection::Parks] {
                for f in catalog.query_bbox(c, d.bbox()) {
                    if f.geometry.intersects(&d.geometry)
                        && let Some(l) = self.level(c, &f.id)
                    {
                        levels.push(l);
                    }
                }
            }
            for f in catalog.query_bbox(Collection::Pipelines, d.bbox()) {
                if let Some(p) = self.pipelines.get(&f.id) {
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

    fn rebuild_grid(&mut self, catalog: &Catalog, rules: &Rules) {
        let all = all_sources(self, catalog);
        let refs: Vec<SourceRef> = all.iter().map(|(r, _, _)| r.clone()).collect();
        self.grid.replace(all, &refs, rules);
    }
}

/// Sources (with geometry and level) for the given refs that still exist.
fn self_sources(
    state: &RiskState,
    catalog: &Catalog,
    refs: &[SourceRef],
) -> Vec<(SourceRef, Geometry<f64>, RiskLevel)> {
    refs.iter()
        .filter_map(|r| source_geometry(state, catalog, r).map(|(g, l)| (r.clone(), g, l)))
        .collect()
}

fn source_geometry(
    state: &RiskState,
    catalog: &Catalog,
    r: &SourceRef,
) -> Option<(Geometry<f64>, RiskLevel)> {
    match (r.collection, r.segment) {
        (Collection::Pipelines, Some(i)) => {
            let s = state.pipelines.get(&r.id)?.segments.get(i)?;
            Some((
                Geometry::LineString(s.geometry.clone()),
                s.assessment.risk_level,
            ))
        }
        (c, None) => {
            let f = catalog.get(c, &r.id)?;
            Some((f.geometry.clone(), state.level(c, &r.id)?))
        }
        _ => None,
    }
}

fn all_sources(state: &RiskState, catalog: &Catalog) -> Vec<(SourceRef, Geometry<f64>, RiskLevel)> {
    let mut refs = Vec::new();
    for c in [Collection::Enterprises, Collection::Parks] {
        for f in catalog.iter(c) {
            refs.push(SourceRef {
                collection: c,
                id: f.id.clone(),
                segment: None,
            });
        }
    }
    for (id, p) in &state.pipelines {
        for s in &p.segments {
            refs.push(SourceRef {
                collection: Collection::Pipelines,
                id: id.clone(),
                segment: Some(s.index),
            });
        }
    }
    self_sources(state, catalog, &refs)
}

impl Grid {
    /// A grid in the zone of the sources' centre, covering every source with a
    /// one-cell margin.
    fn new(catalog: &Catalog, size: f64) -> Self {
        let extent = [
            Collection::Enterprises,
            Collection::Parks,
            Collection::Pipelines,
        ]
        .into_iter()
        .filter_map(|c| catalog.extent(c))
        .reduce(union_rect);
        let gk = GaussKruger::for_lon(extent.map_or(120.0, |r| r.center().x));
        let mut grid = Grid {
            gk,
            size,
            range: None,
            dense: true,
            cells: BTreeMap::new(),
            footprints: HashMap::new(),
            members: HashMap::new(),
        };
        if let Some(r) = extent {
            let corners = [
                (r.min().x, r.min().y),
                (r.min().x, r.max().y),
                (r.max().x, r.min().y),
                (r.max().x, r.max().y),
            ];
            let pts: Vec<(f64, f64)> = corners
                .iter()
                .filter_map(|(x, y)| grid.gk.forward(*x, *y).ok())
                .collect();
            if !pts.is_empty() {
                let k = |v: f64| (v / size).floor() as i64;
                let (c0, c1) = (
                    pts.iter().map(|p| k(p.0)).min().unwrap_or(0) - 1,
                    pts.iter().map(|p| k(p.0)).max().unwrap_or(0) + 1,
                );
                let (r0, r1) = (
                    pts.iter().map(|p| k(p.1)).min().unwrap_or(0) - 1,
                    pts.iter().map(|p| k(p.1)).max().unwrap_or(0) + 1,
                );
                grid.range = Some(((c0, r0), (c1, r1)));
                grid.dense = (c1 - c0 + 1) * (r1 - r0 + 1) <= MAX_DENSE_CELLS;
                for col in (c0..=c1).filter(|_| grid.dense) {
                    for row in r0..=r1 {
                        if let Some(cell) = grid.empty_cell((col, row)) {
                            grid.cells.insert((col, row), cell);
                        }
                    }
                }
            }
        }
        grid
    }

    fn cell_polygon_m(&self, (col, row): CellKey) -> Polygon<f64> {
        let (x0, y0) = (col as f64 * self.size, row as f64 * self.size);
        let (x1, y1) = (x0 + self.size, y0 + self.size);
        Polygon::new(
            LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
            vec![],
        )
    }

    fn empty_cell(&self, key: CellKey) -> Option<Cell> {
        let poly = self.cell_polygon_m(key);
        let g = self.gk.unproject(&Geometry::Polygon(poly)).ok()?;
        let Geometry::Polygon(geometry) = g else {
            return None;
        };
        Some(Cell {
            id: format!("c{}_{}", key.0, key.1),
            geometry,
            risk_level: RiskLevel::Blue,
            set_by: Vec::new(),
            sources: Vec::new(),
            counts: [0; 4],
            weighted_index: 0.0,
            weighted_level: RiskLevel::Blue,
        })
    }

    fn in_range(&self, (col, row): CellKey) -> bool {
        self.range
            .is_some_and(|((c0, r0), (c1, r1))| col >= c0 && col <= c1 && row >= r0 && row <= r1)
    }

    /// Whether every current source lies inside the grid's range.
    fn covers_all(&self, catalog: &Catalog) -> bool {
        let Some(((c0, r0), (c1, r1))) = self.range else {
            return false;
        };
        [
            Collection::Enterprises,
            Collection::Parks,
            Collection::Pipelines,
        ]
        .into_iter()
        .filter_map(|c| catalog.extent(c))
        .all(|r| {
            [
                (r.min().x, r.min().y),
                (r.max().x, r.max().y),
                (r.min().x, r.max().y),
                (r.max().x, r.min().y),
            ]
            .iter()
            .all(|(x, y)| {
                self.gk.forward(*x, *y).is_ok_and(|(px, py)| {
                    let (c, rw) = (
                        (px / self.size).floor() as i64,
                        (py / self.size).floor() as i64,
                    );
                    c > c0 && c < c1 && rw > r0 && rw < r1
                })
            })
        })
    }

    /// Removes `moved` sources from their old cells, places `sources` in their
    /// new cells, recomputes the touched cells; returns the cells that changed.
    fn replace(
        &mut self,
        sources: Vec<(SourceRef, Geometry<f64>, RiskLevel)>,
        moved: &[SourceRef],
        rules: &Rules,
    ) -> BTreeSet<String> {
        let mut touched: BTreeSet<CellKey> = BTreeSet::new();
        for r in moved {
            if let Some(keys) = self.footprints.remove(r) {
                for k in keys {
                    if let Some(m) = self.members.get_mut(&k) {
                        m.remove(r);
                    }
                    touched.insert(k);
                }
            }
        }
        for (r, g, level) in sources {
            let Ok(gm) = self.gk.project(&g) else {
                continue;
            };
            let Some(b) = gm.bounding_rect() else {
                continue;
            };
            let k = |v: f64| (v / self.size).floor() as i64;
            let mut keys = Vec::new();
            for col in k(b.min().x)..=k(b.max().x) {
                for row in k(b.min().y)..=k(b.max().y) {
                    if !self.in_range((col, row))
                        || !self.cell_polygon_m((col, row)).intersects(&gm)
                    {
                        continue;
                    }
                    if !self.dense && !self.cells.contains_key(&(col, row)) {
                        match self.empty_cell((col, row)) {
                            Some(cell) => self.cells.insert((col, row), cell),
                            None => continue,
                        };
                    }
                    keys.push((col, row));
                }
            }
            for key in &keys {
                self.members
                    .entry(*key)
                    .or_default()
                    .insert(r.clone(), level);
                touched.insert(*key);
            }
            self.footprints.insert(r, keys);
        }
        let mut changed = BTreeSet::new();
        for key in touched {
            let members = self.members.get(&key).cloned().unwrap_or_default();
            let Some(cell) = self.cells.get_mut(&key) else {
                continue;
            };
            let before = cell.clone();
            let mut counts = [0u32; 4];
            for l in members.values() {
                counts[l.index()] += 1;
            }
            let max = members.values().copied().max().unwrap_or(RiskLevel::Blue);
            let weighted = assess_grid_weighted(counts, rules);
            cell.risk_level = max;
            cell.counts = counts;
            cell.weighted_index = weighted.score.unwrap_or(0.0);
            cell.weighted_level = weighted.risk_level;
            cell.sources = members.keys().cloned().collect();
            cell.set_by = members
                .iter()
                .filter(|(_, l)| **l == max)
                .map(|(r, _)| r.clone())
                .collect();
            if *cell != before {
                changed.insert(cell.id.clone());
            }
        }
        changed
    }
}

fn parse_cell_id(id: &str) -> Option<CellKey> {
    let (a, b) = id.strip_prefix('c')?.split_once('_')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn union_rect(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
        (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
    )
}

/// People a target stands for: its population, else households × 2.8.
pub fn target_population(t: &crate::model::ProtectionTarget) -> u64 {
    match (t.population, t.households) {
        (Some(p), _) => u64::from(p),
        (None, Some(h)) => (f64::from(h) * PEOPLE_PER_HOUSEHOLD).round() as u64,
        _ => 0,
    }
}

/// Households (户) a target stands for: its households; for residential
/// targets with only a population, population / 2.8.
pub fn target_households(t: &crate::model::ProtectionTarget) -> u64 {
    match (t.households, t.population, t.category) {
        (Some(h), _, _) => u64::from(h),
        (None, Some(p), TargetCategory::Residential) => {
            (f64::from(p) / PEOPLE_PER_HOUSEHOLD).round() as u64
        }
        _ => 0,
    }
}

/// Whether an enterprise is a flammable/explosive site (易燃易爆场所) for the
/// pipeline HCA rules: it holds a flammable gas or liquid, or an explosive.
pub fn is_flammable_site(e: &Enterprise) -> bool {
    let t = Gb18218::builtin();
    e.units.iter().flat_map(|u| &u.substances).any(|s| {
        let declared = s
            .hazard_categories
            .iter()
            .any(|c| c.starts_with("W1") || c.starts_with("W2") || c.starts_with("W5"));
        let listed = t
            .find_substance(s.name.as_deref(), s.cas.as_deref())
            .is_some_and(|x| {
                x.is_flammable_gas
                    || x.is_explosive
                    || x.default_category
                        .as_deref()
                        .is_some_and(|c| c.starts_with("W2") || c.starts_with("W5"))
            });
        declared || listed
    })
}

fn in_chemical_park(catalog: &Catalog, f: &Feature, e: &Enterprise) -> bool {
    let chemical =
        |p: &Feature| matches!(&p.record, Record::Park(park) if park.kind == ParkKind::Chemical);
    if let Some(pid) = &e.park_id
        && catalog
            .get(Collection::Parks, pid)
            .is_some_and(|p| chemical(p))
    {
        return true;
    }
    let Some(c) = f.geometry.centroid() else {
        return false;
    };
    catalog
        .query_bbox(Collection::Parks, f.bbox())
        .iter()
        .any(|p| chemical(p) && p.geometry.contains(&c))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse_geojson;
    use riskmap_spatial::Crs;
    use std::time::Instant;

    fn demo() -> Catalog {
        let files = [
            (
                Collection::Districts,
                include_str!("../../../data/demo/districts.geojson"),
            ),
            (
                Collection::Parks,
                include_str!("../../../data/demo/parks.geojson"),
            ),
            (
                Collection::ProtectionTargets,
                include_str!("../../../data/demo/protection_targets.geojson"),
            ),
            (
                Collection::Enterprises,
                include_str!("../../../data/demo/enterprises.geojson"),
            ),
            (
                Collection::Pipelines,
                include_str!("../../../data/demo/pipelines.geojson"),
            ),
        ];
        let mut cat = Catalog::new();
        for (c, text) in files {
            cat.load(c, parse_geojson(c, text, Crs::Wgs84).unwrap());
        }
        cat
    }

    fn config() -> EngineConfig {
        EngineConfig::new("2026-11-23", Rules::builtin())
    }

    fn levels(state: &RiskState) -> BTreeMap<(Collection, String), RiskLevel> {
        let mut out = BTreeMap::new();
        for c in [
            Collection::Enterprises,
            Collection::Parks,
            Collection::Pipelines,
            Collection::Districts,
        ] {
            let ids: Vec<String> = match c {
                Collection::Enterprises => state.enterprises.keys().cloned().collect(),
                Collection::Parks => state.parks.keys().cloned().collect(),
                Collection::Pipelines => state.pipelines.keys().cloned().collect(),
                _ => state.districts.keys().cloned().collect(),
            };
            for id in ids {
                out.insert((c, id.clone()), state.level(c, &id).unwrap());
            }
        }
        out
    }

    #[test]
    fn every_demo_feature_and_cell_has_a_level_and_red_ones_say_why() {
        let cat = demo();
        let state = RiskState::compute(&cat, Rules::builtin(), config());
        assert_eq!(state.enterprises.len(), cat.len(Collection::Enterprises));
        assert_eq!(state.parks.len(), cat.len(Collection::Parks));
        assert_eq!(state.pipelines.len(), cat.len(Collection::Pipelines));
        assert_eq!(state.districts.len(), cat.len(Collection::Districts));
        assert!(state.pipelines.values().all(|p| !p.segments.is_empty()));
        let cells: Vec<&Cell> = state.cells().collect();
        assert!(cells.len() > 100, "{} cells", cells.len());
        for l in RiskLevel::ALL {
            assert!(
                state
                    .enterprises
                    .values()
                    .any(|e| e.assessment.risk_level == l)
                    || state
                        .pipelines
                        .values()
                        .any(|p| p.assessment.risk_level == l),
                "no {l:?} source in the demo"
            );
        }
        for e in state
            .enterprises
            .values()
            .filter(|e| e.assessment.risk_level == RiskLevel::Red)
        {
            assert!(!e.assessment.factors.is_empty());
            assert!(
                e.assessment
                    .factors
                    .iter()
                    .any(|f| f.points.is_some_and(|p| p < 0.0) || f.name.contains("红")),
                "{:?}",
                e.assessment.factors
            );
        }
        // A red cell names the red source that set it.
        let red = cells
            .iter()
            .find(|c| c.risk_level == RiskLevel::Red)
            .expect("a red cell");
        let s = &red.set_by[0];
        let level = match s.segment {
            Some(i) => state.pipelines[&s.id].segments[i].assessment.risk_level,
            None => state.level(s.collection, &s.id).unwrap(),
        };
        assert_eq!(level, RiskLevel::Red);
        // The §1.9 worked example is in the demo as ent-06-T1.
        let h = state.enterprises["ent-06"]
            .major_hazards
            .iter()
            .find(|h| h.unit == "ent-06-T1")
            .unwrap();
        assert!(
            (h.s - 6.2).abs() < 1e-9 && (h.r - 36.3).abs() < 1e-9 && h.grade == Some(3),
            "{h:?}"
        );
    }

    #[test]
    fn an_inventory_edit_rescores_only_what_it_reaches_and_matches_a_full_run() {
        let mut cat = demo();
        let rules = Rules::builtin();
        let mut state = RiskState::compute(&cat, rules, config());
        let before = levels(&state);
        let cells_before: BTreeMap<String, Cell> =
            state.cells().map(|c| (c.id.clone(), c.clone())).collect();
        // Pick a low-risk enterprise without major hazards and give it toxic gases.
        let (id, old_level) = state
            .enterprises
            .iter()
            .find(|(_, e)| {
                e.assessment.risk_level <= RiskLevel::Yellow
                    && e.assessment.model.id == "enterprise-diagnosis-2018"
                    && e.major_hazards.iter().all(|h| h.grade.is_none())
            })
            .map(|(id, e)| (id.clone(), e.assessment.risk_level))
            .expect("a low-risk enterprise");
        let mut f = (**cat.get(Collection::Enterprises, &id).unwrap()).clone();
        let Record::Enterprise(e) = &mut f.record else {
            panic!()
        };
        for (name, cas, q) in [
            ("液氯", "7782-50-5", 200.0),
            ("光气", "75-44-5", 5.0),
            ("液氨", "7664-41-7", 300.0),
        ] {
            e.units[0].substances.push(crate::model::Substance {
                name: Some(name.into()),
                cas: Some(cas.into()),
                quantity_t: q,
                hazard_categories: vec![],
            });
        }
        let bbox = f.bbox();
        cat.insert(f);
        let t = Instant::now();
        let changes = state.update(
            &cat,
            rules,
            &Edit {
                collection: Collection::Enterprises,
                id: id.clone(),
                old_bbox: Some(bbox),
                new_bbox: Some(bbox),
            },
        );
        let took = t.elapsed();
        assert!(took.as_millis() < 1000, "rescore took {took:?}");
        let new_level = state.level(Collection::Enterprises, &id).unwrap();
        assert!(
            new_level > old_level,
            "{old_level:?} → {new_level:?}: {:#?}",
            state.enterprises[&id].assessment
        );
        assert!(
            changes
                .features
                .contains(&(Collection::Enterprises, id.clone()))
        );

        // Incremental == from scratch.
        let full = RiskState::compute(&cat, rules, config());
        assert_eq!(levels(&state), levels(&full));
        let inc_cells: Vec<&Cell> = state.cells().collect();
        let full_cells: Vec<&Cell> = full.cells().collect();
        assert_eq!(inc_cells, full_cells);

        // Nothing else changed: only the enterprise, its park and its district may.
        let after = levels(&state);
        let Record::Enterprise(e) = &cat.get(Collection::Enterprises, &id).unwrap().record else {
            panic!()
        };
        for (k, l) in &after {
            if before.get(k) != Some(l) {
                let allowed = *k == (Collection::Enterprises, id.clone())
                    || Some(&k.1) == e.park_id.as_ref()
                    || k.0 == Collection::Districts;
                assert!(allowed, "{k:?} changed {:?} → {l:?}", before.get(k));
            }
        }
        // Changed cells all lie under the enterprise's site.
        let site = &cat.get(Collection::Enterprises, &id).unwrap().geometry;
        for c in state.cells() {
            if cells_before.get(&c.id) != Some(c) {
                let park_cell = e
                    .park_id
                    .as_ref()
                    .is_some_and(|p| c.sources.iter().any(|s| &s.id == p));
                assert!(
                    c.geometry.intersects(site) || park_cell,
                    "cell {} changed",
                    c.id
                );
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// α's population basis (people within 500 m outside the plant) equals
        /// a brute-force geodesic count over random targets. (Distances to
        /// pipelines go through the same `MetricFrame`, tested against a
        /// geodesic oracle in `riskmap_spatial::proximity`.)
        #[test]
        fn people_within_500m_match_a_geodesic_oracle(
            site in (120.2..120.6f64, 30.1..30.4f64),
            targets in proptest::collection::vec((-0.012..0.012f64, -0.012..0.012f64, 1..500u32), 1..80),
        ) {
            use geo::{Distance, Geodesic, Point};
            let s = Point::new(site.0, site.1);
            let mk = |c: Collection, text: serde_json::Value| parse_geojson(c, &text.to_string(), Crs::Wgs84).unwrap();
            let mut cat = Catalog::new();
            cat.load(Collection::Enterprises, mk(Collection::Enterprises, serde_json::json!({"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": "e", "geometry": {"type": "Point", "coordinates": [site.0, site.1]},
                 "properties": {"name": "e", "industry": "化工", "installation": "existing", "units": [{"id": "T", "kind": "storage", "substances": [{"name": "液氯", "quantity_t": 30}]}]}}]})));
            let line_end = (site.0 + 0.01, site.1 + 0.004);
            cat.load(Collection::Pipelines, mk(Collection::Pipelines, serde_json::json!({"type": "FeatureCollection", "features": [
                {"type": "Feature", "id": "p", "geometry": {"type": "LineString", "coordinates": [[site.0, site.1], [line_end.0, line_end.1]]},
                 "properties": {"name": "p", "kind": "urban_gas", "diameter_mm": 219, "maop_mpa": 0.4}}]})));
            let feats: Vec<serde_json::Value> = targets.iter().enumerate().map(|(i, (dx, dy, pop))| serde_json::json!(
                {"type": "Feature", "id": format!("t{i}"), "geometry": {"type": "Point", "coordinates": [site.0 + dx, site.1 + dy]},
                 "properties": {"category": "school", "population": pop}})).collect();
            cat.load(Collection::ProtectionTargets, mk(Collection::ProtectionTargets, serde_json::json!({"type": "FeatureCollection", "features": feats})));
            let state = RiskState::compute(&cat, Rules::builtin(), config());
            // Oracle for α: geodesic point-to-point.
            let mut want = 0u64;
            let mut borderline = false;
            for (dx, dy, pop) in &targets {
                let d = Geodesic.distance(s, Point::new(site.0 + dx, site.1 + dy));
                borderline |= (d - 500.0).abs() < 0.5;
                if d <= 500.0 { want += u64::from(*pop); }
            }
            if !borderline {
                proptest::prop_assert_eq!(state.enterprises["e"].people_within_500m, want);
            }
        }
    }

    #[test]
    fn a_sparse_grid_updates_like_a_full_run() {
        let mut cat = demo();
        let rules = Rules::builtin();
        let mut cfg = config();
        cfg.cell_size_m = 40.0; // over MAX_DENSE_CELLS for the demo extent
        let mut state = RiskState::compute(&cat, rules, cfg.clone());
        assert!(!state.grid.dense);
        assert!(state.cells().count() > 1000);
        let mut f = (**cat.get(Collection::Enterprises, "ent-06").unwrap()).clone();
        let Record::Enterprise(e) = &mut f.record else {
            panic!()
        };
        e.units[0].substances[0].quantity_t = 500.0;
        let b = f.bbox();
        cat.insert(f);
        state.update(
            &cat,
            rules,
            &Edit {
                collection: Collection::Enterprises,
                id: "ent-06".into(),
                old_bbox: Some(b),
                new_bbox: Some(b),
            },
        );
        let full = RiskState::compute(&cat, rules, cfg);
        let a: Vec<&Cell> = state.cells().filter(|c| !c.sources.is_empty()).collect();
        let b: Vec<&Cell> = full.cells().filter(|c| !c.sources.is_empty()).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn a_new_school_near_a_pipeline_raises_its_hca() {
        let mut cat = demo();
        let rules = Rules::builtin();
        let mut state = RiskState::compute(&cat, rules, config());
        let (pid, seg) = state
            .pipelines
            .iter()
            .flat_map(|(id, p)| p.segments.iter().map(move |s| (id.clone(), s.clone())))
            .find(|(_, s)| s.assessment.risk_level == RiskLevel::Blue)
            .expect("a blue segment");
        let mid = seg.geometry.0[0];
        let school = parse_geojson(
            Collection::ProtectionTargets,
            &serde_json::json!({"type": "Feature", "id": "t-new-school", "geometry": {"type": "Point", "coordinates": [mid.x + 0.0003, mid.y]},
                "properties": {"name": "新建学校", "category": "school", "population": 1200}}).to_string(),
            Crs::Wgs84,
        )
        .unwrap()
        .remove(0);
        let b = school.bbox();
        cat.insert(school);
        let changes = state.update(
            &cat,
            rules,
            &Edit {
                collection: Collection::ProtectionTargets,
                id: "t-new-school".into(),
                old_bbox: None,
                new_bbox: Some(b),
            },
        );
        let after = &state.pipelines[&pid].segments[seg.index];
        assert!(
            after.assessment.risk_level > RiskLevel::Blue,
            "{:?}",
            after.assessment
        );
        assert!(
            changes
                .features
                .contains(&(Collection::Pipelines, pid.clone()))
        );
        let full = RiskState::compute(&cat, rules, config());
        assert_eq!(levels(&state), levels(&full));
    }
}

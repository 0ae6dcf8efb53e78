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
//!   sites within 200 m / 50 m (see `segments.rs`);
//! - parks: enterprises inside, residents inside and in a buffer ring;
//! - the four-colour grid (四色图): square cells in the zone of the data, each
//!   coloured by the highest-level source meeting it (就高原则) and by the
//!   weighted index, keeping the sources that set the colour;
//! - districts: the max rule over the sources meeting each district.
//!
//! A full computation ([`RiskState::compute`]) scores enterprises, pipelines,
//! grid footprints and district memberships in parallel (rayon); the results
//! do not depend on the number of threads. The state keeps the indexes an
//! edit needs (each pipeline's pieces, segments and window sums; each
//! source's grid cells and districts; the enterprises naming each park), so
//! [`RiskState::update`] touches only what an edit reaches.

#[cfg(test)]
mod reference;
mod segments;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;
use std::time::{Duration, Instant};

use geo::{
    BoundingRect, Centroid, Contains, Coord, Geometry, Intersects, LineString, Polygon, Rect,
};
use rayon::prelude::*;
use riskmap_spatial::{GaussKruger, MetricFrame, expand_bbox_m};
use serde::Serialize;

use crate::catalog::Catalog;
use crate::model::{Collection, Enterprise, Feature, ParkKind, Record, TargetCategory};
use crate::scoring::{
    Assessment, DangerOnFile, DangerState, EnterpriseContext, ParkContext, RiskLevel, Rules,
    UnitHazard, assess_enterprise, assess_grid_max, assess_park, grid_weighted_index,
};
use crate::standards::gb18218::Gb18218;
use segments::{Env, PipelineIndex, Touch};

/// People per household used when a residential target gives only one of the two.
pub const PEOPLE_PER_HOUSEHOLD: f64 = 2.8;

/// Below this many items a batch is scored on the calling thread.
const PAR_MIN: usize = 64;

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

impl SourceRef {
    fn feature(collection: Collection, id: &str) -> Self {
        Self {
            collection,
            id: id.to_string(),
            segment: None,
        }
    }

    fn segment(id: &str, i: usize) -> Self {
        Self {
            collection: Collection::Pipelines,
            id: id.to_string(),
            segment: Some(i),
        }
    }
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

/// Wall-clock time of each step of [`RiskState::compute_timed`].
pub type Timings = Vec<(&'static str, Duration)>;

type CellKey = (i64, i64);

/// Above this many cells the grid keeps only the cells that a source meets;
/// the others are blue by definition (就高原则 with no source).
pub const MAX_DENSE_CELLS: i64 = 200_000;

/// The sources of one key with their levels, ordered by source. Most keys
/// (grid cells) hold a few sources, and a `BTreeMap` allocates a node for
/// eleven (about 500 bytes a key at province scale), so up to
/// [`MEMBERS_SMALL`] sources are a sorted vector; a key with more (a
/// district) becomes a map, so inserts stay logarithmic.
#[derive(Debug, Clone)]
enum Members {
    Small(Vec<(SourceRef, RiskLevel)>),
    Large(BTreeMap<SourceRef, RiskLevel>),
}

/// Sources kept in a sorted vector before a key's members become a map.
const MEMBERS_SMALL: usize = 32;

impl Default for Members {
    fn default() -> Self {
        Members::Small(Vec::new())
    }
}

impl Members {
    fn insert(&mut self, r: SourceRef, level: RiskLevel) {
        match self {
            Members::Small(v) => match v.binary_search_by(|(x, _)| x.cmp(&r)) {
                Ok(i) => v[i].1 = level,
                Err(i) if v.len() < MEMBERS_SMALL => v.insert(i, (r, level)),
                Err(_) => {
                    let mut m: BTreeMap<SourceRef, RiskLevel> =
                        std::mem::take(v).into_iter().collect();
                    m.insert(r, level);
                    *self = Members::Large(m);
                }
            },
            Members::Large(m) => {
                m.insert(r, level);
            }
        }
    }

    fn remove(&mut self, r: &SourceRef) {
        match self {
            Members::Small(v) => {
                if let Ok(i) = v.binary_search_by(|(x, _)| x.cmp(r)) {
                    v.remove(i);
                }
            }
            Members::Large(m) => {
                m.remove(r);
            }
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Members::Small(v) => v.is_empty(),
            Members::Large(m) => m.is_empty(),
        }
    }

    fn iter(&self) -> Box<dyn Iterator<Item = (&SourceRef, &RiskLevel)> + '_> {
        match self {
            Members::Small(v) => Box::new(v.iter().map(|(r, l)| (r, l))),
            Members::Large(m) => Box::new(m.iter()),
        }
    }

    fn keys(&self) -> impl Iterator<Item = &SourceRef> {
        self.iter().map(|(r, _)| r)
    }

    fn values(&self) -> impl Iterator<Item = &RiskLevel> {
        self.iter().map(|(_, l)| l)
    }
}

/// Which keys (grid cells, districts) each source lies in, and the sources
/// (with their levels) of each key.
#[derive(Debug, Clone)]
struct Placement<K> {
    footprints: HashMap<SourceRef, Vec<K>>,
    members: HashMap<K, Members>,
}

impl<K> Default for Placement<K> {
    fn default() -> Self {
        Self {
            footprints: HashMap::new(),
            members: HashMap::new(),
        }
    }
}

impl<K: Clone + Eq + Hash + Ord> Placement<K> {
    /// Takes a source out of every key it was in; marks them touched.
    fn remove(&mut self, r: &SourceRef, touched: &mut BTreeSet<K>) {
        if let Some(keys) = self.footprints.remove(r) {
            for k in keys {
                if let Some(m) = self.members.get_mut(&k) {
                    m.remove(r);
                    if m.is_empty() {
                        self.members.remove(&k);
                    }
                }
                touched.insert(k);
            }
        }
    }

    /// Puts a source in `keys` with its level; marks them touched.
    fn insert(&mut self, r: SourceRef, keys: Vec<K>, level: RiskLevel, touched: &mut BTreeSet<K>) {
        for k in &keys {
            self.members
                .entry(k.clone())
                .or_default()
                .insert(r.clone(), level);
            touched.insert(k.clone());
        }
        self.footprints.insert(r, keys);
    }

    /// Takes every source out of one key.
    fn clear_key(&mut self, k: &K) {
        if let Some(m) = self.members.remove(k) {
            for r in m.keys() {
                if let Some(keys) = self.footprints.get_mut(r) {
                    keys.retain(|x| x != k);
                }
            }
        }
    }

    /// Adds one key to a source's footprint.
    fn add(&mut self, r: &SourceRef, k: K, level: RiskLevel) {
        self.members
            .entry(k.clone())
            .or_default()
            .insert(r.clone(), level);
        self.footprints.entry(r.clone()).or_default().push(k);
    }

    /// Sources per level in one key.
    fn levels(&self, k: &K) -> impl Iterator<Item = RiskLevel> + '_ {
        self.members
            .get(k)
            .into_iter()
            .flat_map(|m| m.values().copied())
    }
}

/// The grid: cells in one Gauss–Krüger zone.
#[derive(Debug, Clone)]
struct Grid {
    gk: GaussKruger,
    size: f64,
    /// Inclusive cell ranges (col, row).
    range: Option<(CellKey, CellKey)>,
    /// Dense: every cell of the range exists (blue when no source meets it).
    /// Sparse (ranges above [`MAX_DENSE_CELLS`]): only cells a source meets.
    dense: bool,
    cells: BTreeMap<CellKey, Cell>,
    placement: Placement<CellKey>,
}

/// Every derived result, kept current by [`RiskState::update`].
#[derive(Debug, Clone)]
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
    flammable: HashSet<String>,
    /// Whether each enterprise meets its external safety distance
    /// (外部安全防护距离), as set by [`RiskState::set_external_distance_ok`];
    /// enterprises not in the map are "not computed".
    external_distance_ok: HashMap<String, bool>,
    /// Enterprises naming each park by `park_id`, and the park each names.
    park_named: HashMap<String, BTreeSet<String>>,
    enterprise_park: HashMap<String, String>,
    /// Hidden dangers (事故隐患) naming each enterprise by `enterprise_id`,
    /// and the enterprise each names: an open 重大 danger moves the
    /// enterprise's level (`data/rules/hidden-dangers.toml`).
    dangers_of: HashMap<String, BTreeSet<String>>,
    danger_enterprise: HashMap<String, String>,
    /// What each pipeline's segments were measured from.
    pipeline_index: HashMap<String, PipelineIndex>,
    grid: Grid,
    /// The districts each source meets.
    district_placement: Placement<String>,
}

/// Maps `f` over `items`, in parallel for large batches; the order of the
/// results is that of `items` either way.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync + Send) -> Vec<R> {
    if items.len() >= PAR_MIN {
        items.par_iter().map(f).collect()
    } else {
        items.iter().map(f).collect()
    }
}

impl RiskState {
    /// Scores everything in the catalogue.
    pub fn compute(catalog: &Catalog, rules: &Rules, config: EngineConfig) -> Self {
        Self::compute_timed(catalog, rules, config).0
    }

    /// [`RiskState::compute`], with the time each step took.
    pub fn compute_timed(
        catalog: &Catalog,
        rules: &Rules,
        config: EngineConfig,
    ) -> (Self, Timings) {
        let mut timings: Timings = Vec::new();
        let mut t = Instant::now();
        let mut lap = |name: &'static str, timings: &mut Timings| {
            timings.push((name, t.elapsed()));
            t = Instant::now();
        };
        let mut state = RiskState {
            grid: Grid::new(catalog, config.cell_size_m),
            config,
            enterprises: BTreeMap::new(),
            parks: BTreeMap::new(),
            pipelines: BTreeMap::new(),
            districts: BTreeMap::new(),
            flammable: HashSet::new(),
            external_distance_ok: HashMap::new(),
            park_named: HashMap::new(),
            enterprise_park: HashMap::new(),
            dangers_of: HashMap::new(),
            danger_enterprise: HashMap::new(),
            pipeline_index: HashMap::new(),
            district_placement: Placement::default(),
        };
        let ents: Vec<&Arc<Feature>> = catalog.iter(Collection::Enterprises).collect();
        let flags: Vec<bool> = par_map(
            &ents,
            |f| matches!(&f.record, Record::Enterprise(e) if is_flammable_site(e)),
        );
        for (f, flammable) in ents.iter().zip(flags) {
            if flammable {
                state.flammable.insert(f.id.clone());
            }
            if let Record::Enterprise(e) = &f.record
                && let Some(p) = &e.park_id
            {
                state.name_park(&f.id, p);
            }
        }
        for f in catalog.iter(Collection::HiddenDangers) {
            if let Record::HiddenDanger(h) = &f.record
                && let Some(e) = &h.enterprise_id
            {
                state.name_danger(&f.id, e);
            }
        }
        lap(
            "indexes (flammable sites, park ids, hidden dangers)",
            &mut timings,
        );

        let scored = par_map(&ents, |f| state.enterprise(catalog, rules, f));
        state.enterprises = ents
            .iter()
            .zip(scored)
            .filter_map(|(f, r)| Some((f.id.clone(), r?)))
            .collect();
        lap("enterprises (α, GB 18218, diagnosis)", &mut timings);

        let pipes: Vec<&Arc<Feature>> = catalog.iter(Collection::Pipelines).collect();
        let env = state.env(catalog, rules);
        let scored = par_map(&pipes, |f| segments::compute(&env, f));
        for (f, r) in pipes.iter().zip(scored) {
            if let Some((risk, index)) = r {
                state.pipelines.insert(f.id.clone(), risk);
                state.pipeline_index.insert(f.id.clone(), index);
            }
        }
        lap("pipelines (segments, HCA)", &mut timings);

        let parks: Vec<&Arc<Feature>> = catalog.iter(Collection::Parks).collect();
        let scored = par_map(&parks, |f| state.park(catalog, rules, f));
        state.parks = parks
            .iter()
            .zip(scored)
            .filter_map(|(f, a)| Some((f.id.clone(), a?)))
            .collect();
        lap("parks", &mut timings);

        state.rebuild_grid(catalog, rules);
        lap("grid", &mut timings);

        let all = state.all_sources(catalog);
        let mut touched = BTreeSet::new();
        state.place_districts(catalog, &all, &mut touched);
        state.districts = catalog
            .iter(Collection::Districts)
            .map(|d| (d.id.clone(), state.district(&d.id, rules)))
            .collect();
        lap("districts", &mut timings);
        (state, timings)
    }

    fn env<'a>(&'a self, catalog: &'a Catalog, rules: &'a Rules) -> Env<'a> {
        Env {
            catalog,
            rules,
            config: &self.config,
            flammable: &self.flammable,
        }
    }

    fn name_park(&mut self, enterprise: &str, park: &str) {
        self.park_named
            .entry(park.to_string())
            .or_default()
            .insert(enterprise.to_string());
        self.enterprise_park
            .insert(enterprise.to_string(), park.to_string());
    }

    fn name_danger(&mut self, danger: &str, enterprise: &str) {
        self.dangers_of
            .entry(enterprise.to_string())
            .or_default()
            .insert(danger.to_string());
        self.danger_enterprise
            .insert(danger.to_string(), enterprise.to_string());
    }

    /// Forgets the enterprise a hidden danger named; returns it.
    fn unname_danger(&mut self, danger: &str) -> Option<String> {
        let enterprise = self.danger_enterprise.remove(danger)?;
        if let Some(s) = self.dangers_of.get_mut(&enterprise) {
            s.remove(danger);
            if s.is_empty() {
                self.dangers_of.remove(&enterprise);
            }
        }
        Some(enterprise)
    }

    /// The open 重大 hidden dangers of an enterprise: (danger id, 判定标准 item).
    pub fn open_major_dangers(
        &self,
        catalog: &Catalog,
        enterprise: &str,
    ) -> Vec<(String, Option<String>)> {
        let rules = crate::dangers::DangerRules::builtin();
        self.dangers_of
            .get(enterprise)
            .into_iter()
            .flatten()
            .filter_map(
                |id| match &catalog.get(Collection::HiddenDangers, id)?.record {
                    Record::HiddenDanger(h)
                        if h.level == crate::dangers::DangerLevel::Major
                            && rules.is_open(&h.status) =>
                    {
                        Some((id.clone(), h.rule_item.clone()))
                    }
                    _ => None,
                },
            )
            .collect()
    }

    /// The hidden dangers of an enterprise, as its diagnosis reads them.
    fn dangers_on_file(&self, catalog: &Catalog, enterprise: &str) -> Vec<DangerOnFile> {
        let rules = crate::dangers::DangerRules::builtin();
        self.dangers_of
            .get(enterprise)
            .into_iter()
            .flatten()
            .filter_map(
                |id| match &catalog.get(Collection::HiddenDangers, id)?.record {
                    Record::HiddenDanger(h) => Some(DangerOnFile {
                        id: id.clone(),
                        rule_item: h.rule_item.clone(),
                        found_date: h.found_date.clone(),
                        state: if rules.is_open(&h.status) {
                            DangerState::Open
                        } else if h.status == "closed" {
                            let on = h
                                .history
                                .iter()
                                .rev()
                                .find(|ev| ev.to == "closed")
                                .and_then(|ev| ev.at.get(..10))
                                .unwrap_or_default();
                            DangerState::Closed(on.to_string())
                        } else {
                            DangerState::Rejected
                        },
                    }),
                    _ => None,
                },
            )
            .collect()
    }

    /// Forgets the park an enterprise named; returns it.
    fn unname_park(&mut self, enterprise: &str) -> Option<String> {
        let park = self.enterprise_park.remove(enterprise)?;
        if let Some(s) = self.park_named.get_mut(&park) {
            s.remove(enterprise);
            if s.is_empty() {
                self.park_named.remove(&park);
            }
        }
        Some(park)
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
            Collection::ProtectionTargets
            | Collection::HiddenDangers
            | Collection::RescueTeams
            | Collection::SupplyDepots
            | Collection::Shelters => None,
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

    /// The external-safety-distance verdict used for an enterprise (`None`:
    /// not computed).
    pub fn external_distance_ok(&self, enterprise: &str) -> Option<bool> {
        self.external_distance_ok.get(enterprise).copied()
    }

    /// Sets whether enterprises meet their external safety distance
    /// (外部安全防护距离, `EnterpriseContext::external_distance_ok`): `Some`
    /// records a verdict, `None` forgets it ("not computed"). Rescores only the
    /// enterprises whose verdict changed, and what depends on their level
    /// (parks, grid cells, districts); returns what changed, like
    /// [`RiskState::update`]. Verdicts are kept across edits (an enterprise's
    /// is dropped when the enterprise is deleted) and used by every later
    /// rescoring.
    pub fn set_external_distance_ok(
        &mut self,
        catalog: &Catalog,
        rules: &Rules,
        verdicts: &HashMap<String, Option<bool>>,
    ) -> Changes {
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for (id, v) in verdicts {
            if self.external_distance_ok.get(id).copied() != *v {
                match v {
                    Some(ok) => self.external_distance_ok.insert(id.clone(), *ok),
                    None => self.external_distance_ok.remove(id),
                };
                ids.insert(id.clone());
            }
        }
        let mut changes = Changes::default();
        if ids.is_empty() {
            return changes;
        }
        let mut moved = Vec::new();
        self.rescore_enterprises(catalog, rules, &ids, &mut changes, &mut moved);
        // Parks an enterprise can belong to: those whose outline meets it, and
        // the one it names.
        let mut park_ids = BTreeSet::new();
        for id in &ids {
            if let Some(f) = catalog.get(Collection::Enterprises, id) {
                park_ids.extend(
                    catalog
                        .query_bbox_unordered(Collection::Parks, f.bbox())
                        .map(|p| p.id.clone()),
                );
            }
            if let Some(p) = self.enterprise_park.get(id) {
                park_ids.insert(p.clone());
            }
        }
        self.rescore_parks(catalog, rules, &park_ids, None, &mut changes, &mut moved);
        self.propagate(catalog, rules, &moved, None, &mut changes);
        changes
    }

    /// Rescores what an edit can reach (the catalogue already holds the edit):
    /// the feature itself, enterprises whose α may change, the pipeline
    /// segments whose neighbourhood or 2 km windows may change, parks, the
    /// grid cells under the old and new footprints, and districts. Returns
    /// what changed.
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
                .flat_map(|b| catalog.query_bbox_unordered(c, expand_bbox_m(*b, metres)))
                .map(|f| f.id.clone())
                .collect()
        };
        // Parks whose outline or buffer meets the edit.
        let mut park_ids = near(Collection::Parks, self.config.park_buffer_m + 100.0);

        // Enterprise bookkeeping: the park it names, its verdict when deleted.
        let edited_enterprise = match edit.collection {
            Collection::Enterprises => catalog.get(Collection::Enterprises, &edit.id),
            _ => None,
        };
        if edit.collection == Collection::Enterprises {
            if let Some(old) = self.unname_park(&edit.id) {
                park_ids.insert(old);
            }
            match edited_enterprise.map(|f| &f.record) {
                Some(Record::Enterprise(e)) => {
                    if let Some(p) = &e.park_id {
                        self.name_park(&edit.id, p);
                    }
                }
                _ => {
                    self.external_distance_ok.remove(&edit.id);
                }
            }
        }

        // A hidden danger moves the level of the enterprise it names, before
        // and after the edit.
        let mut danger_enterprises = BTreeSet::new();
        if edit.collection == Collection::HiddenDangers {
            danger_enterprises.extend(self.unname_danger(&edit.id));
            if let Some(f) = catalog.get(Collection::HiddenDangers, &edit.id)
                && let Record::HiddenDanger(h) = &f.record
                && let Some(e) = &h.enterprise_id
            {
                self.name_danger(&edit.id, e);
                danger_enterprises.insert(e.clone());
            }
        }

        // Enterprises: the edited one, those within reach of an edited
        // target, or those an edited park may hold (whether they are in a
        // chemical park).
        let enterprises: BTreeSet<String> = match edit.collection {
            Collection::Enterprises => BTreeSet::from([edit.id.clone()]),
            Collection::HiddenDangers => danger_enterprises,
            Collection::ProtectionTargets => near(Collection::Enterprises, 600.0),
            Collection::Parks => boxes
                .iter()
                .flat_map(|b| catalog.query_bbox_candidates(Collection::Enterprises, *b))
                .map(|f| f.id.clone())
                .chain(self.park_named.get(&edit.id).into_iter().flatten().cloned())
                .collect(),
            _ => BTreeSet::new(),
        };
        let mut moved: Vec<SourceRef> = Vec::new();
        self.rescore_enterprises(catalog, rules, &enterprises, &mut changes, &mut moved);
        for id in &enterprises {
            if let Some(p) = self.enterprise_park.get(id) {
                park_ids.insert(p.clone());
            }
        }

        // Pipelines: the edited one whole; the segments an edited target or
        // flammable site can reach.
        let flammable_now = edited_enterprise
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
        match edit.collection {
            Collection::Pipelines => {
                self.rescore_pipeline(catalog, rules, &edit.id, None, &mut changes, &mut moved)
            }
            Collection::ProtectionTargets => {
                let new = catalog
                    .get(Collection::ProtectionTargets, &edit.id)
                    .map(|f| &**f);
                let touch = Touch::Target {
                    id: &edit.id,
                    old_bbox: edit.old_bbox,
                    new,
                };
                for id in near(Collection::Pipelines, 2500.0) {
                    self.rescore_pipeline(
                        catalog,
                        rules,
                        &id,
                        Some(touch),
                        &mut changes,
                        &mut moved,
                    );
                }
            }
            Collection::Enterprises if enterprise_reaches_pipelines => {
                let touch = Touch::Flammable {
                    old_bbox: edit.old_bbox,
                    new_bbox: edit.new_bbox,
                };
                for id in near(Collection::Pipelines, 2500.0) {
                    self.rescore_pipeline(
                        catalog,
                        rules,
                        &id,
                        Some(touch),
                        &mut changes,
                        &mut moved,
                    );
                }
            }
            _ => {}
        }

        let edited_park = (edit.collection == Collection::Parks).then_some(edit.id.as_str());
        if let Some(p) = edited_park {
            park_ids.insert(p.to_string());
        }
        self.rescore_parks(
            catalog,
            rules,
            &park_ids,
            edited_park,
            &mut changes,
            &mut moved,
        );

        let edited_district =
            (edit.collection == Collection::Districts).then_some(edit.id.as_str());
        self.propagate(catalog, rules, &moved, edited_district, &mut changes);
        changes
    }

    /// Rescores enterprises; records changes and the sources to re-place.
    fn rescore_enterprises(
        &mut self,
        catalog: &Catalog,
        rules: &Rules,
        ids: &BTreeSet<String>,
        changes: &mut Changes,
        moved: &mut Vec<SourceRef>,
    ) {
        let ids: Vec<&String> = ids.iter().collect();
        let scored = par_map(&ids, |id| {
            catalog
                .get(Collection::Enterprises, id)
                .and_then(|f| self.enterprise(catalog, rules, f))
        });
        for (id, new) in ids.into_iter().zip(scored) {
            if self.enterprises.get(id) != new.as_ref() {
                changes
                    .features
                    .insert((Collection::Enterprises, id.clone()));
            }
            match new {
                Some(r) => self.enterprises.insert(id.clone(), r),
                None => self.enterprises.remove(id),
            };
            moved.push(SourceRef::feature(Collection::Enterprises, id));
        }
    }

    /// Rescores one pipeline: only the segments `touch` reaches when given
    /// (and the pipeline's index allows it), else whole.
    fn rescore_pipeline(
        &mut self,
        catalog: &Catalog,
        rules: &Rules,
        id: &str,
        touch: Option<Touch<'_>>,
        changes: &mut Changes,
        moved: &mut Vec<SourceRef>,
    ) {
        let feature = catalog.get(Collection::Pipelines, id);
        if let (Some(touch), Some(f)) = (touch, feature)
            && let Record::Pipeline(p) = &f.record
            && let (Some(mut index), Some(mut risk)) =
                (self.pipeline_index.remove(id), self.pipelines.remove(id))
        {
            let env = self.env(catalog, rules);
            let done = index.rescore(&env, p, &mut risk, touch);
            self.pipeline_index.insert(id.to_string(), index);
            self.pipelines.insert(id.to_string(), risk);
            if let Some(changed) = done {
                if !changed.is_empty() {
                    changes
                        .features
                        .insert((Collection::Pipelines, id.to_string()));
                }
                moved.extend(changed.into_iter().map(|i| SourceRef::segment(id, i)));
                return;
            }
        }
        let new = feature.and_then(|f| segments::compute(&self.env(catalog, rules), f));
        let old_segments = self.pipelines.get(id).map_or(0, |p| p.segments.len());
        let (new_risk, new_index) = match new {
            Some((r, i)) => (Some(r), Some(i)),
            None => (None, None),
        };
        if self.pipelines.get(id) != new_risk.as_ref() {
            changes
                .features
                .insert((Collection::Pipelines, id.to_string()));
        }
        let new_segments = new_risk.as_ref().map_or(0, |p| p.segments.len());
        moved.extend((0..old_segments.max(new_segments)).map(|i| SourceRef::segment(id, i)));
        match new_risk {
            Some(r) => self.pipelines.insert(id.to_string(), r),
            None => self.pipelines.remove(id),
        };
        match new_index {
            Some(i) => self.pipeline_index.insert(id.to_string(), i),
            None => self.pipeline_index.remove(id),
        };
    }

    /// Rescores parks; records changes and the sources to re-place (the
    /// edited park, and parks whose assessment changed).
    fn rescore_parks(
        &mut self,
        catalog: &Catalog,
        rules: &Rules,
        ids: &BTreeSet<String>,
        edited: Option<&str>,
        changes: &mut Changes,
        moved: &mut Vec<SourceRef>,
    ) {
        for id in ids {
            let new = catalog
                .get(Collection::Parks, id)
                .and_then(|f| self.park(catalog, rules, f));
            if self.parks.get(id) != new.as_ref() {
                changes.features.insert((Collection::Parks, id.clone()));
                if edited != Some(id.as_str()) {
                    moved.push(SourceRef::feature(Collection::Parks, id));
                }
            }
            match new {
                Some(a) => self.parks.insert(id.clone(), a),
                None => self.parks.remove(id),
            };
        }
        if let Some(p) = edited {
            moved.push(SourceRef::feature(Collection::Parks, p));
        }
    }

    /// Re-places `moved` sources in the grid and the districts, and rescores
    /// the cells and districts they leave or enter (and an edited district).
    fn propagate(
        &mut self,
        catalog: &Catalog,
        rules: &Rules,
        moved: &[SourceRef],
        edited_district: Option<&str>,
        changes: &mut Changes,
    ) {
        // Grid: re-place the sources that may have moved or changed level.
        if self.grid.covers_all(catalog) {
            let placed = self.grid_footprints(catalog, moved);
            changes.cells = self.grid.place(placed, moved, rules);
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

        // Districts: re-place the same sources; rebuild an edited district.
        let mut touched: BTreeSet<String> = BTreeSet::new();
        if let Some(d) = edited_district {
            self.rebuild_district(catalog, d);
            touched.insert(d.to_string());
        }
        self.place_districts(catalog, moved, &mut touched);
        for id in touched {
            let new = catalog
                .get(Collection::Districts, &id)
                .map(|_| self.district(&id, rules));
            if self.districts.get(&id) != new.as_ref() {
                changes.features.insert((Collection::Districts, id.clone()));
            }
            match new {
                Some(a) => self.districts.insert(id, a),
                None => self.districts.remove(&id),
            };
        }
    }

    fn enterprise(&self, catalog: &Catalog, rules: &Rules, f: &Feature) -> Option<EnterpriseRisk> {
        let Record::Enterprise(e) = &f.record else {
            return None;
        };
        let frame = MetricFrame::new(&f.geometry).ok()?;
        let mut people = 0u64;
        let mut categories = Vec::new();
        // Order does not matter: people are summed, categories counted.
        for t in catalog.query_bbox_unordered(
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
            external_distance_ok: self.external_distance_ok.get(&f.id).copied(),
            dangers: self.dangers_on_file(catalog, &f.id),
        };
        let (mut assessment, mut major_hazards) = assess_enterprise(e, &ctx, rules);
        let open_major = self.open_major_dangers(catalog, &f.id);
        if let Some((min, factor, unconfirmed)) =
            crate::dangers::DangerRules::builtin().level_factor(&open_major)
        {
            assessment.risk_level = assessment.risk_level.max(min);
            assessment.push_factor(factor);
            if unconfirmed {
                assessment.push_unconfirmed(
                    "data/rules/hidden-dangers.toml level_rule open-major-red: a project rule; no provincial rule that an unrectified 重大事故隐患 sets an enterprise's level was found",
                );
            }
        }
        major_hazards.shrink_to_fit();
        for h in &mut major_hazards {
            h.contributions.shrink_to_fit();
            h.notes.shrink_to_fit();
        }
        Some(EnterpriseRisk {
            assessment,
            major_hazards,
            people_within_500m: people,
        })
    }

    fn park(&self, catalog: &Catalog, rules: &Rules, f: &Feature) -> Option<Assessment> {
        let Record::Park(p) = &f.record else {
            return None;
        };
        let mut ctx = ParkContext {
            enterprise_levels: Vec::new(),
            major_hazard_grades: Vec::new(),
            population_inside: 0,
            population_buffer: 0,
        };
        let names_this = |e: &Feature| matches!(&e.record, Record::Enterprise(ent) if ent.park_id.as_deref() == Some(f.id.as_str()));
        for e in catalog.query_bbox(Collection::Enterprises, f.bbox()) {
            let member = names_this(&e)
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
        for id in self.park_named.get(&f.id).into_iter().flatten() {
            if let Some(r) = self.enterprises.get(id)
                && let Some(e) = catalog.get(Collection::Enterprises, id)
                && names_this(e)
                && !e.bbox().intersects(&f.bbox())
            {
                ctx.enterprise_levels.push(r.assessment.risk_level);
                ctx.major_hazard_grades
                    .extend(r.major_hazards.iter().filter_map(|h| h.grade));
            }
        }
        if let Ok(frame) = MetricFrame::new(&f.geometry) {
            for t in catalog.query_bbox_unordered(
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

    /// A district's assessment: the max rule over the sources meeting it.
    fn district(&self, id: &str, rules: &Rules) -> Assessment {
        assess_grid_max(self.district_placement.levels(&id.to_string()), rules)
    }

    /// The districts a source meets (with its level), by the same tests as
    /// always: the source meets the district's box and its outline; a segment
    /// counts when its pipeline meets the district's box.
    fn district_footprint(
        &self,
        catalog: &Catalog,
        r: &SourceRef,
    ) -> Option<(Vec<String>, RiskLevel)> {
        match (r.collection, r.segment) {
            (Collection::Pipelines, Some(i)) => {
                let s = self.pipelines.get(&r.id)?.segments.get(i)?;
                let pf = catalog.get(Collection::Pipelines, &r.id)?;
                let keys = match s.geometry.bounding_rect() {
                    Some(b) => catalog
                        .query_bbox_candidates(Collection::Districts, b)
                        .filter(|d| {
                            pf.geometry.intersects(&d.bbox()) && s.geometry.intersects(&d.geometry)
                        })
                        .map(|d| d.id.clone())
                        .collect(),
                    None => Vec::new(),
                };
                Some((keys, s.assessment.risk_level))
            }
            (c @ (Collection::Enterprises | Collection::Parks), None) => {
                let level = self.level(c, &r.id)?;
                let f = catalog.get(c, &r.id)?;
                let keys = catalog
                    .query_bbox_candidates(Collection::Districts, f.bbox())
                    .filter(|d| {
                        f.geometry.intersects(&d.bbox()) && f.geometry.intersects(&d.geometry)
                    })
                    .map(|d| d.id.clone())
                    .collect();
                Some((keys, level))
            }
            _ => None,
        }
    }

    /// Re-places sources in the districts (in parallel for large batches).
    fn place_districts(
        &mut self,
        catalog: &Catalog,
        refs: &[SourceRef],
        touched: &mut BTreeSet<String>,
    ) {
        let placed = par_map(refs, |r| self.district_footprint(catalog, r));
        for (r, p) in refs.iter().zip(placed) {
            self.district_placement.remove(r, touched);
            if let Some((keys, level)) = p {
                self.district_placement
                    .insert(r.clone(), keys, level, touched);
            }
        }
    }

    /// Recomputes which sources meet one (edited) district.
    fn rebuild_district(&mut self, catalog: &Catalog, id: &str) {
        let key = id.to_string();
        self.district_placement.clear_key(&key);
        let Some(d) = catalog.get(Collection::Districts, id) else {
            return;
        };
        let b = d.bbox();
        let mut add: Vec<(SourceRef, RiskLevel)> = Vec::new();
        for c in [Collection::Enterprises, Collection::Parks] {
            for f in catalog.query_bbox_unordered(c, b) {
                if f.geometry.intersects(&d.geometry)
                    && let Some(l) = self.level(c, &f.id)
                {
                    add.push((SourceRef::feature(c, &f.id), l));
                }
            }
        }
        for f in catalog.query_bbox_unordered(Collection::Pipelines, b) {
            if let Some(p) = self.pipelines.get(&f.id) {
                for s in &p.segments {
                    if s.geometry.intersects(&d.geometry) {
                        add.push((SourceRef::segment(&f.id, s.index), s.assessment.risk_level));
                    }
                }
            }
        }
        for (r, l) in add {
            self.district_placement.add(&r, key.clone(), l);
        }
    }

    /// Every source: enterprises, parks (in the catalogue), pipeline segments.
    fn all_sources(&self, catalog: &Catalog) -> Vec<SourceRef> {
        let mut refs = Vec::new();
        for c in [Collection::Enterprises, Collection::Parks] {
            refs.extend(catalog.iter(c).map(|f| SourceRef::feature(c, &f.id)));
        }
        for (id, p) in &self.pipelines {
            refs.extend(p.segments.iter().map(|s| SourceRef::segment(id, s.index)));
        }
        refs
    }

    /// A source's geometry and level, when it still exists.
    fn source_geometry<'a>(
        &'a self,
        catalog: &'a Catalog,
        r: &SourceRef,
    ) -> Option<(Cow<'a, Geometry<f64>>, RiskLevel)> {
        match (r.collection, r.segment) {
            (Collection::Pipelines, Some(i)) => {
                let s = self.pipelines.get(&r.id)?.segments.get(i)?;
                Some((
                    Cow::Owned(Geometry::LineString(s.geometry.clone())),
                    s.assessment.risk_level,
                ))
            }
            (c, None) => {
                let f = catalog.get(c, &r.id)?;
                Some((Cow::Borrowed(&f.geometry), self.level(c, &r.id)?))
            }
            _ => None,
        }
    }

    /// The grid cells of each source that still exists (in parallel for
    /// large batches).
    fn grid_footprints(
        &self,
        catalog: &Catalog,
        refs: &[SourceRef],
    ) -> Vec<(SourceRef, Vec<CellKey>, RiskLevel)> {
        par_map(refs, |r| {
            let (g, level) = self.source_geometry(catalog, r)?;
            Some((r.clone(), self.grid.footprint(&g)?, level))
        })
        .into_iter()
        .flatten()
        .collect()
    }

    fn rebuild_grid(&mut self, catalog: &Catalog, rules: &Rules) {
        let refs = self.all_sources(catalog);
        let placed = self.grid_footprints(catalog, &refs);
        self.grid.place(placed, &refs, rules);
    }
}

/// A cell's colour and sources, from its members.
#[derive(Debug, PartialEq)]
struct CellState {
    risk_level: RiskLevel,
    set_by: Vec<SourceRef>,
    sources: Vec<SourceRef>,
    counts: [u32; 4],
    weighted_index: f64,
    weighted_level: RiskLevel,
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
            placement: Placement::default(),
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
                if grid.dense {
                    let keys: Vec<CellKey> = (c0..=c1)
                        .flat_map(|col| (r0..=r1).map(move |row| (col, row)))
                        .collect();
                    let cells = grid.empty_cells(&keys);
                    grid.cells = keys
                        .into_iter()
                        .zip(cells)
                        .filter_map(|(k, c)| Some((k, c?)))
                        .collect();
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

    /// New (blue, sourceless) cells for `keys`, in order; `None` where the
    /// outline cannot be brought back to WGS84. Each distinct corner is
    /// unprojected once (neighbouring cells share theirs), which gives the
    /// same coordinates as unprojecting every cell's polygon.
    fn empty_cells(&self, keys: &[CellKey]) -> Vec<Option<Cell>> {
        let bits = |c: &Coord<f64>| (c.x.to_bits(), c.y.to_bits());
        let rings: Vec<Polygon<f64>> = keys.iter().map(|k| self.cell_polygon_m(*k)).collect();
        let mut corners: Vec<Coord<f64>> = rings
            .iter()
            .flat_map(|p| p.exterior().0.iter().copied())
            .collect();
        corners.sort_unstable_by_key(bits);
        corners.dedup_by_key(|c| bits(c));
        let back = par_map(&corners, |c| self.gk.inverse(c.x, c.y).ok());
        let lonlat: HashMap<(u64, u64), (f64, f64)> = corners
            .iter()
            .zip(back)
            .filter_map(|(c, b)| Some((bits(c), b?)))
            .collect();
        keys.iter()
            .zip(rings)
            .map(|(key, ring)| {
                let exterior: Option<Vec<Coord<f64>>> = ring
                    .exterior()
                    .0
                    .iter()
                    .map(|c| lonlat.get(&bits(c)).map(|(x, y)| Coord { x: *x, y: *y }))
                    .collect();
                Some(Cell {
                    id: format!("c{}_{}", key.0, key.1),
                    geometry: Polygon::new(LineString(exterior?), vec![]),
                    risk_level: RiskLevel::Blue,
                    set_by: Vec::new(),
                    sources: Vec::new(),
                    counts: [0; 4],
                    weighted_index: 0.0,
                    weighted_level: RiskLevel::Blue,
                })
            })
            .collect()
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

    /// The cells in range that a (WGS84) geometry meets; `None` when it
    /// cannot be projected or has no box.
    fn footprint(&self, g: &Geometry<f64>) -> Option<Vec<CellKey>> {
        let gm = self.gk.project(g).ok()?;
        let b = gm.bounding_rect()?;
        let k = |v: f64| (v / self.size).floor() as i64;
        let mut keys = Vec::new();
        for col in k(b.min().x)..=k(b.max().x) {
            for row in k(b.min().y)..=k(b.max().y) {
                if self.in_range((col, row)) && self.cell_polygon_m((col, row)).intersects(&gm) {
                    keys.push((col, row));
                }
            }
        }
        Some(keys)
    }

    /// Removes `moved` sources from their old cells, places the new
    /// footprints, recomputes the touched cells; returns the cells that
    /// changed.
    fn place(
        &mut self,
        placed: Vec<(SourceRef, Vec<CellKey>, RiskLevel)>,
        moved: &[SourceRef],
        rules: &Rules,
    ) -> BTreeSet<String> {
        let mut touched: BTreeSet<CellKey> = BTreeSet::new();
        for r in moved {
            self.placement.remove(r, &mut touched);
        }
        // A sparse grid creates the cells a source meets (dropping those
        // that cannot be brought back to WGS84).
        if !self.dense {
            let missing: Vec<CellKey> = placed
                .iter()
                .flat_map(|(_, keys, _)| keys.iter().copied())
                .filter(|k| !self.cells.contains_key(k))
                .collect::<BTreeSet<CellKey>>()
                .into_iter()
                .collect();
            let made = self.empty_cells(&missing);
            for (k, c) in missing.into_iter().zip(made) {
                if let Some(c) = c {
                    self.cells.insert(k, c);
                }
            }
        }
        for (r, mut keys, level) in placed {
            if !self.dense {
                keys.retain(|k| self.cells.contains_key(k));
            }
            self.placement.insert(r, keys, level, &mut touched);
        }
        let touched: Vec<CellKey> = touched
            .into_iter()
            .filter(|k| self.cells.contains_key(k))
            .collect();
        let states = par_map(&touched, |k| self.cell_state(k, rules));
        let mut changed = BTreeSet::new();
        for (k, s) in touched.into_iter().zip(states) {
            let Some(cell) = self.cells.get_mut(&k) else {
                continue;
            };
            let same = cell.risk_level == s.risk_level
                && cell.set_by == s.set_by
                && cell.sources == s.sources
                && cell.counts == s.counts
                && cell.weighted_index == s.weighted_index
                && cell.weighted_level == s.weighted_level;
            if !same {
                cell.risk_level = s.risk_level;
                cell.set_by = s.set_by;
                cell.sources = s.sources;
                cell.counts = s.counts;
                cell.weighted_index = s.weighted_index;
                cell.weighted_level = s.weighted_level;
                changed.insert(cell.id.clone());
            }
        }
        changed
    }

    /// A cell's colour and sources from its members.
    fn cell_state(&self, key: &CellKey, rules: &Rules) -> CellState {
        let empty = Members::default();
        let members = self.placement.members.get(key).unwrap_or(&empty);
        let mut counts = [0u32; 4];
        for l in members.values() {
            counts[l.index()] += 1;
        }
        let max = members.values().copied().max().unwrap_or(RiskLevel::Blue);
        let (weighted_index, weighted_level) = grid_weighted_index(counts, rules);
        CellState {
            risk_level: max,
            set_by: members
                .iter()
                .filter(|(_, l)| **l == max)
                .map(|(r, _)| r.clone())
                .collect(),
            sources: members.keys().cloned().collect(),
            counts,
            weighted_index,
            weighted_level,
        }
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
        let listed = crate::scoring::find_substance(t, s.name.as_deref(), s.cas.as_deref())
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
        .query_bbox_unordered(Collection::Parks, f.bbox())
        .any(|p| chemical(p) && p.geometry.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse_geojson;
    use riskmap_spatial::Crs;
    use std::time::Instant;

    #[test]
    fn members_keep_the_order_and_levels_of_a_map_small_or_large() {
        let mut oracle = BTreeMap::new();
        let mut m = Members::default();
        let levels = [
            RiskLevel::Blue,
            RiskLevel::Yellow,
            RiskLevel::Orange,
            RiskLevel::Red,
        ];
        // A scrambled order of 100 ids (37 is prime to 100), some twice.
        for step in 0..150u32 {
            let id = (step * 37) % 100;
            let r = SourceRef::feature(Collection::Enterprises, &format!("e{id}"));
            let l = levels[(step % 4) as usize];
            m.insert(r.clone(), l);
            oracle.insert(r, l);
            if step % 7 == 0 {
                let gone = SourceRef::feature(Collection::Enterprises, &format!("e{}", id / 2));
                m.remove(&gone);
                oracle.remove(&gone);
            }
            let seen: Vec<(SourceRef, RiskLevel)> =
                m.iter().map(|(r, l)| (r.clone(), *l)).collect();
            let want: Vec<(SourceRef, RiskLevel)> =
                oracle.iter().map(|(r, l)| (r.clone(), *l)).collect();
            assert_eq!(seen, want, "after step {step}");
            assert_eq!(m.is_empty(), oracle.is_empty());
        }
        assert!(matches!(m, Members::Large(_)), "grew past the small size");
    }

    /// The demo city without the sample hidden dangers (these tests count
    /// the levels the other collections give).
    fn demo() -> Catalog {
        let files = crate::demo::FILES
            .into_iter()
            .filter(|(c, _)| *c != Collection::HiddenDangers);
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
                    && &*e.assessment.model.id == "enterprise-diagnosis-2018"
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
                 "properties": {"name": "学校", "category": "school", "population": pop}})).collect();
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
    /// A tiny deterministic generator (xorshift64*), so the tests need no RNG crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn f(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * (self.next() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn n(&mut self, k: usize) -> usize {
            (self.next() % k as u64) as usize
        }
    }

    const M_LON: f64 = 1.0 / 96_000.0; // degrees per metre of longitude near 30°N
    const M_LAT: f64 = 1.0 / 111_000.0;

    fn square_json(x: f64, y: f64, half_m: f64) -> serde_json::Value {
        let (dx, dy) = (half_m * M_LON, half_m * M_LAT);
        serde_json::json!({"type": "Polygon", "coordinates": [[[x - dx, y - dy], [x + dx, y - dy], [x + dx, y + dy], [x - dx, y + dy], [x - dx, y - dy]]]})
    }

    fn target_json(rng: &mut Rng, id: &str, x: f64, y: f64) -> serde_json::Value {
        let cats = [
            "residential",
            "residential",
            "residential",
            "school",
            "kindergarten",
            "hospital",
            "office",
            "mall",
            "nursing_home",
            "other",
        ];
        let cat = cats[rng.n(cats.len())];
        let geometry = if rng.n(6) == 0 {
            square_json(x, y, rng.f(20.0, 120.0))
        } else {
            serde_json::json!({"type": "Point", "coordinates": [x, y]})
        };
        let mut props = serde_json::json!({"name": format!("目标 {id}"), "category": cat, "population": 10 + rng.n(300)});
        if cat == "residential" && rng.n(2) == 0 {
            props["households"] = serde_json::json!(2 + rng.n(40));
        }
        serde_json::json!({"type": "Feature", "id": id, "geometry": geometry, "properties": props})
    }

    fn enterprise_json(
        rng: &mut Rng,
        id: &str,
        x: f64,
        y: f64,
        park: Option<&str>,
    ) -> serde_json::Value {
        let subs = [
            ("汽油", "86290-81-5", 800.0),
            ("液氯", "7782-50-5", 20.0),
            ("甲醇", "67-56-1", 400.0),
            ("液化石油气", "68476-85-7", 100.0),
            ("液氨", "7664-41-7", 50.0),
        ];
        let (name, cas, q) = subs[rng.n(subs.len())];
        let geometry = if rng.n(3) == 0 {
            square_json(x, y, rng.f(50.0, 200.0))
        } else {
            serde_json::json!({"type": "Point", "coordinates": [x, y]})
        };
        let mut props = serde_json::json!({"name": id, "industry": "化工", "installation": "existing", "standardization_level": 1 + rng.n(3),
            "units": [{"id": format!("{id}-U"), "kind": "storage", "substances": [{"name": name, "cas": cas, "quantity_t": q * rng.f(0.05, 1.5)}]}]});
        if let Some(p) = park {
            props["park_id"] = serde_json::json!(p);
        }
        serde_json::json!({"type": "Feature", "id": id, "geometry": geometry, "properties": props})
    }

    fn parse_one(c: Collection, v: serde_json::Value) -> Feature {
        parse_geojson(c, &v.to_string(), Crs::Wgs84)
            .unwrap()
            .remove(0)
    }

    /// A seeded catalogue of winding pipelines with targets and enterprises
    /// crowded along them, two parks and four districts.
    fn synthetic(seed: u64, pipes: usize, targets: usize, enterprises: usize) -> Catalog {
        let mut rng = Rng(seed.max(1));
        let (x0, y0) = (120.05, 30.05);
        let mut vertices: Vec<(f64, f64)> = Vec::new();
        let kinds = [
            ("gas_transmission", 1016.0, 10.0),
            ("gas_transmission", 508.0, 4.0),
            ("oil", 508.0, 8.0),
            ("urban_gas", 323.9, 1.6),
            ("gas_transmission", 219.0, 1.0),
        ];
        let mut feats = Vec::new();
        for i in 0..pipes {
            let (mut x, mut y) = (x0 + rng.f(0.0, 0.15), y0 + rng.f(0.0, 0.15));
            let mut heading = rng.f(0.0, std::f64::consts::TAU);
            let mut pts = vec![[x, y]];
            for _ in 0..3 + rng.n(10) {
                heading += rng.f(-1.2, 1.2);
                let step = rng.f(150.0, 1800.0);
                x += step * heading.cos() * M_LON;
                y += step * heading.sin() * M_LAT;
                pts.push([x, y]);
                vertices.push((x, y));
            }
            let (kind, d, p) = kinds[i % kinds.len()];
            feats.push(serde_json::json!({"type": "Feature", "id": format!("p{i}"), "geometry": {"type": "LineString", "coordinates": pts},
                "properties": {"name": format!("p{i}"), "kind": kind, "diameter_mm": d, "maop_mpa": p}}));
        }
        let fc = |f: Vec<serde_json::Value>| {
            serde_json::json!({"type": "FeatureCollection", "features": f}).to_string()
        };
        let mut cat = Catalog::new();
        cat.load(
            Collection::Pipelines,
            parse_geojson(Collection::Pipelines, &fc(feats), Crs::Wgs84).unwrap(),
        );
        let near = |rng: &mut Rng| {
            let (vx, vy) = vertices[rng.n(vertices.len())];
            (
                vx + rng.f(-700.0, 700.0) * M_LON,
                vy + rng.f(-700.0, 700.0) * M_LAT,
            )
        };
        let t: Vec<serde_json::Value> = (0..targets)
            .map(|i| {
                let (x, y) = near(&mut rng);
                target_json(&mut rng, &format!("t{i}"), x, y)
            })
            .collect();
        cat.load(
            Collection::ProtectionTargets,
            parse_geojson(Collection::ProtectionTargets, &fc(t), Crs::Wgs84).unwrap(),
        );
        let parks = vec![
            serde_json::json!({"type": "Feature", "id": "park-a", "geometry": square_json(x0 + 0.05, y0 + 0.05, 1500.0),
                "properties": {"name": "A", "kind": "chemical"}}),
            serde_json::json!({"type": "Feature", "id": "park-b", "geometry": square_json(x0 + 0.12, y0 + 0.1, 1000.0),
                "properties": {"name": "B", "kind": "chemical", "assessment_score": 70}}),
        ];
        cat.load(
            Collection::Parks,
            parse_geojson(Collection::Parks, &fc(parks), Crs::Wgs84).unwrap(),
        );
        let e: Vec<serde_json::Value> = (0..enterprises)
            .map(|i| {
                let (x, y) = near(&mut rng);
                let park = match rng.n(10) {
                    0 => Some("park-a"),
                    1 => Some("park-b"),
                    _ => None,
                };
                enterprise_json(&mut rng, &format!("e{i}"), x, y, park)
            })
            .collect();
        cat.load(
            Collection::Enterprises,
            parse_geojson(Collection::Enterprises, &fc(e), Crs::Wgs84).unwrap(),
        );
        let d: Vec<serde_json::Value> = (0..4)
            .map(|i| {
                let (a, b) = (x0 - 0.1 + 0.1 * i as f64, x0 + 0.1 * i as f64);
                serde_json::json!({"type": "Feature", "id": format!("33010{i}"), "geometry": {"type": "Polygon", "coordinates": [[[a, y0 - 0.1], [b, y0 - 0.1], [b, y0 + 0.3], [a, y0 + 0.3], [a, y0 - 0.1]]]},
                    "properties": {"code": format!("33010{i}"), "name": format!("区{i}")}})
            })
            .collect();
        cat.load(
            Collection::Districts,
            parse_geojson(Collection::Districts, &fc(d), Crs::Wgs84).unwrap(),
        );
        cat
    }

    /// Every pipeline, park and district equals the earlier brute-force
    /// algorithms (every candidate against every 100 m piece; every source
    /// against every district), and every cell's sources equal a brute-force
    /// scan of every source against every cell.
    fn assert_matches_brute_force(state: &RiskState, cat: &Catalog) {
        let rules = Rules::builtin();
        for f in cat.iter(Collection::Pipelines) {
            let want = reference::pipeline(state.config(), cat, rules, f);
            assert_eq!(
                state.pipelines.get(&f.id),
                want.as_ref(),
                "pipeline {}",
                f.id
            );
        }
        for f in cat.iter(Collection::Parks) {
            let want = reference::park(state, cat, rules, f);
            assert_eq!(state.parks.get(&f.id), want.as_ref(), "park {}", f.id);
        }
        for d in cat.iter(Collection::Districts) {
            let want = reference::district(state, cat, rules, d);
            assert_eq!(state.districts.get(&d.id), Some(&want), "district {}", d.id);
        }
        // Grid: each source against every cell that exists.
        let g = &state.grid;
        let mut want: BTreeMap<CellKey, BTreeMap<SourceRef, RiskLevel>> = BTreeMap::new();
        for r in state.all_sources(cat) {
            let Some((geom, level)) = state.source_geometry(cat, &r) else {
                continue;
            };
            let Ok(gm) = g.gk.project(&geom) else {
                continue;
            };
            for k in g.cells.keys() {
                if g.cell_polygon_m(*k).intersects(&gm) {
                    want.entry(*k).or_default().insert(r.clone(), level);
                }
            }
        }
        for (k, c) in &g.cells {
            let m = want.remove(k).unwrap_or_default();
            let sources: Vec<SourceRef> = m.keys().cloned().collect();
            assert_eq!(c.sources, sources, "cell {}", c.id);
            let max = m.values().copied().max().unwrap_or(RiskLevel::Blue);
            assert_eq!(c.risk_level, max, "cell {}", c.id);
        }
        if g.dense {
            assert!(want.is_empty(), "sources outside every cell: {want:?}");
        }
    }

    fn assert_same_state(a: &RiskState, b: &RiskState) {
        assert_eq!(a.enterprises, b.enterprises);
        assert_eq!(a.pipelines, b.pipelines);
        assert_eq!(a.parks, b.parks);
        assert_eq!(a.districts, b.districts);
        let ca: Vec<&Cell> = a.cells().filter(|c| !c.sources.is_empty()).collect();
        let cb: Vec<&Cell> = b.cells().filter(|c| !c.sources.is_empty()).collect();
        assert_eq!(ca, cb);
    }

    #[test]
    fn shared_corners_unproject_like_whole_cell_polygons() {
        for size in [500.0, 333.3, 40.0] {
            let mut grid = Grid::new(&demo(), size);
            grid.gk = GaussKruger::for_lon(120.2);
            let keys: Vec<CellKey> = (0..12)
                .flat_map(|c| (0..9).map(move |r| (1000 + c * 7 % 11, 6000 + r)))
                .collect();
            let cells = grid.empty_cells(&keys);
            for (k, c) in keys.iter().zip(cells) {
                let Ok(Geometry::Polygon(want)) = grid
                    .gk
                    .unproject(&Geometry::Polygon(grid.cell_polygon_m(*k)))
                else {
                    panic!("cell {k:?}")
                };
                let c = c.unwrap();
                assert_eq!(c.geometry, want);
                assert_eq!(c.id, format!("c{}_{}", k.0, k.1));
            }
        }
    }

    #[test]
    fn the_demo_matches_the_brute_force_algorithms() {
        let cat = demo();
        let state = RiskState::compute(&cat, Rules::builtin(), config());
        assert_matches_brute_force(&state, &cat);
    }

    #[test]
    fn parallel_and_single_threaded_computations_agree() {
        let cat = synthetic(7, 80, 1500, 300);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| RiskState::compute(&cat, Rules::builtin(), config()))
        };
        let one = run(1);
        let four = run(4);
        assert!(one.pipelines.len() >= PAR_MIN && one.enterprises.len() >= PAR_MIN);
        assert_same_state(&one, &four);
        let c1: Vec<&Cell> = one.cells().collect();
        let c4: Vec<&Cell> = four.cells().collect();
        assert_eq!(c1, c4);
        assert_matches_brute_force(&one, &cat);
    }

    /// Random edits of targets and flammable sites rescore only some
    /// segments; the result equals both the brute-force pipeline algorithm
    /// and a full recomputation after every edit.
    #[test]
    fn segment_rescoring_after_edits_matches_brute_force_and_a_full_run() {
        let rules = Rules::builtin();
        for seed in [3u64, 11, 29] {
            let mut cat = synthetic(seed, 6, 400, 60);
            let mut state = RiskState::compute(&cat, rules, config());
            assert_matches_brute_force(&state, &cat);
            let mut rng = Rng(seed * 7919);
            let mut next_id = 10_000;
            for step in 0..30 {
                let edit = match rng.n(8) {
                    // Move a target (often onto a line), or change its people.
                    0 | 1 => {
                        let id = format!("t{}", rng.n(400));
                        let Some(old) = cat.get(Collection::ProtectionTargets, &id).cloned() else {
                            continue;
                        };
                        let p = cat
                            .get(Collection::Pipelines, &format!("p{}", rng.n(6)))
                            .unwrap()
                            .geometry
                            .clone();
                        let Geometry::LineString(l) = p else { panic!() };
                        let v = l.0[rng.n(l.0.len())];
                        let (x, y) = if rng.n(2) == 0 {
                            (
                                v.x + rng.f(-150.0, 150.0) * M_LON,
                                v.y + rng.f(-150.0, 150.0) * M_LAT,
                            )
                        } else {
                            let c = old.geometry.centroid().unwrap();
                            (c.x(), c.y())
                        };
                        let f = parse_one(
                            Collection::ProtectionTargets,
                            target_json(&mut rng, &id, x, y),
                        );
                        let new = f.bbox();
                        cat.insert(f);
                        Edit {
                            collection: Collection::ProtectionTargets,
                            id,
                            old_bbox: Some(old.bbox()),
                            new_bbox: Some(new),
                        }
                    }
                    // Delete a target.
                    2 => {
                        let id = format!("t{}", rng.n(400));
                        let Some(old) = cat.remove(Collection::ProtectionTargets, &id) else {
                            continue;
                        };
                        Edit {
                            collection: Collection::ProtectionTargets,
                            id,
                            old_bbox: Some(old.bbox()),
                            new_bbox: None,
                        }
                    }
                    // Add a big residential block or a school next to a line.
                    3 => {
                        next_id += 1;
                        let id = format!("t{next_id}");
                        let p = cat
                            .get(Collection::Pipelines, &format!("p{}", rng.n(6)))
                            .unwrap()
                            .geometry
                            .clone();
                        let Geometry::LineString(l) = p else { panic!() };
                        let v = l.0[rng.n(l.0.len())];
                        let f = parse_one(
                            Collection::ProtectionTargets,
                            serde_json::json!({"type": "Feature", "id": id,
                            "geometry": {"type": "Point", "coordinates": [v.x + rng.f(-100.0, 100.0) * M_LON, v.y]},
                            "properties": {"name": "新目标", "category": if rng.n(2) == 0 { "residential" } else { "school" }, "households": 150, "population": 420}}),
                        );
                        let b = f.bbox();
                        cat.insert(f);
                        Edit {
                            collection: Collection::ProtectionTargets,
                            id,
                            old_bbox: None,
                            new_bbox: Some(b),
                        }
                    }
                    // Move a park, or change its kind.
                    6 => {
                        let id = ["park-a", "park-b"][rng.n(2)].to_string();
                        let old = cat.get(Collection::Parks, &id).unwrap().clone();
                        let c = old.geometry.centroid().unwrap();
                        let kind = ["chemical", "industrial"][rng.n(2)];
                        let f = parse_one(
                            Collection::Parks,
                            serde_json::json!({"type": "Feature", "id": id,
                                "geometry": square_json(c.x() + rng.f(-500.0, 500.0) * M_LON, c.y(), rng.f(600.0, 2000.0)),
                                "properties": {"name": id, "kind": kind}}),
                        );
                        let new = f.bbox();
                        cat.insert(f);
                        Edit {
                            collection: Collection::Parks,
                            id,
                            old_bbox: Some(old.bbox()),
                            new_bbox: Some(new),
                        }
                    }
                    // Move a district boundary.
                    7 => {
                        let i = rng.n(4);
                        let id = format!("33010{i}");
                        let old = cat.get(Collection::Districts, &id).unwrap().clone();
                        let (a, b) = (
                            120.05 - 0.1 + 0.1 * i as f64 + rng.f(-0.03, 0.03),
                            120.05 + 0.1 * i as f64 + rng.f(-0.03, 0.03),
                        );
                        let f = parse_one(
                            Collection::Districts,
                            serde_json::json!({"type": "Feature", "id": id, "geometry": {"type": "Polygon", "coordinates": [[[a, 29.95], [b, 29.95], [b, 30.35], [a, 30.35], [a, 29.95]]]},
                                "properties": {"code": id, "name": "区"}}),
                        );
                        let new = f.bbox();
                        cat.insert(f);
                        Edit {
                            collection: Collection::Districts,
                            id,
                            old_bbox: Some(old.bbox()),
                            new_bbox: Some(new),
                        }
                    }
                    // Move an enterprise, or change whether it is a flammable site.
                    _ => {
                        let id = format!("e{}", rng.n(60));
                        let old = cat.get(Collection::Enterprises, &id).unwrap().clone();
                        let c = old.geometry.centroid().unwrap();
                        let (x, y) = if rng.n(2) == 0 {
                            (
                                c.x() + rng.f(-300.0, 300.0) * M_LON,
                                c.y() + rng.f(-300.0, 300.0) * M_LAT,
                            )
                        } else {
                            (c.x(), c.y())
                        };
                        let f = parse_one(
                            Collection::Enterprises,
                            enterprise_json(&mut rng, &id, x, y, None),
                        );
                        let new = f.bbox();
                        cat.insert(f);
                        Edit {
                            collection: Collection::Enterprises,
                            id,
                            old_bbox: Some(old.bbox()),
                            new_bbox: Some(new),
                        }
                    }
                };
                state.update(&cat, rules, &edit);
                let full = RiskState::compute(&cat, rules, config());
                assert_same_state(&state, &full);
                if step % 5 == 0 {
                    assert_matches_brute_force(&state, &cat);
                }
            }
        }
    }

    #[test]
    fn an_external_distance_verdict_deducts_its_points_and_rescores_only_dependants() {
        let cat = demo();
        let rules = Rules::builtin();
        let mut state = RiskState::compute(&cat, rules, config());
        let before = levels(&state);
        let cells_before: BTreeMap<String, Cell> =
            state.cells().map(|c| (c.id.clone(), c.clone())).collect();
        let assessments_before = state.enterprises.clone();
        // An enterprise graded by the diagnosis model inside a chemical park
        // (so the surroundings cap does not absorb the deduction).
        let id = state
            .enterprises
            .iter()
            .find(|(id, e)| {
                let Record::Enterprise(ent) = &cat.get(Collection::Enterprises, id).unwrap().record
                else {
                    return false;
                };
                &*e.assessment.model.id == "enterprise-diagnosis-2018"
                    && in_chemical_park(&cat, cat.get(Collection::Enterprises, id).unwrap(), ent)
                    && e.assessment.score.is_some_and(|s| s > 20.0 && s <= 100.0)
            })
            .map(|(id, _)| id.clone())
            .expect("a diagnosed enterprise in a chemical park");
        let old_score = state.enterprises[&id].assessment.score.unwrap();
        let changes = state.set_external_distance_ok(
            &cat,
            rules,
            &HashMap::from([(id.clone(), Some(false))]),
        );
        let new = &state.enterprises[&id].assessment;
        let deduction = rules.enterprise.surroundings.external_distance_not_ok;
        assert!(
            (old_score - new.score.unwrap() - deduction).abs() < 1e-9,
            "{old_score} → {:?}, deduction {deduction}",
            new.score
        );
        assert!(new.factors.iter().any(|f| f.value.contains("NOT met")));
        let new_score = new.score;
        assert_eq!(state.external_distance_ok(&id), Some(false));
        assert!(
            changes
                .features
                .contains(&(Collection::Enterprises, id.clone()))
        );

        // Nothing else changed but the enterprise's dependants.
        let Record::Enterprise(e) = &cat.get(Collection::Enterprises, &id).unwrap().record else {
            panic!()
        };
        let site = &cat.get(Collection::Enterprises, &id).unwrap().geometry;
        for (other, r) in &state.enterprises {
            if *other != id {
                assert_eq!(Some(r), assessments_before.get(other), "{other}");
            }
        }
        let parks_of_site: BTreeSet<String> = cat
            .iter(Collection::Parks)
            .filter(|p| Some(&p.id) == e.park_id.as_ref() || p.geometry.intersects(site))
            .map(|p| p.id.clone())
            .collect();
        for (k, l) in levels(&state) {
            if before.get(&k) != Some(&l) {
                assert!(
                    k == (Collection::Enterprises, id.clone())
                        || (k.0 == Collection::Parks && parks_of_site.contains(&k.1))
                        || k.0 == Collection::Districts,
                    "{k:?} changed"
                );
            }
        }
        for (c, fid) in &changes.features {
            assert!(
                (*c == Collection::Enterprises && *fid == id)
                    || (*c == Collection::Parks && parks_of_site.contains(fid))
                    || *c == Collection::Districts,
                "{c:?} {fid} reported"
            );
        }
        for c in state.cells() {
            if cells_before.get(&c.id) != Some(c) {
                let park_cell = c
                    .sources
                    .iter()
                    .any(|s| s.collection == Collection::Parks && parks_of_site.contains(&s.id));
                assert!(
                    c.geometry.intersects(site) || park_cell,
                    "cell {} changed",
                    c.id
                );
                assert!(changes.cells.contains(&c.id));
            }
        }

        // The verdict is kept by later rescoring, and forgetting it restores
        // the original assessment.
        let mut cat2 = cat.clone();
        let f = (**cat2.get(Collection::Enterprises, &id).unwrap()).clone();
        let b = f.bbox();
        cat2.insert(f);
        state.update(
            &cat2,
            rules,
            &Edit {
                collection: Collection::Enterprises,
                id: id.clone(),
                old_bbox: Some(b),
                new_bbox: Some(b),
            },
        );
        assert_eq!(state.enterprises[&id].assessment.score, new_score);
        let back =
            state.set_external_distance_ok(&cat2, rules, &HashMap::from([(id.clone(), None)]));
        assert!(
            back.features
                .contains(&(Collection::Enterprises, id.clone()))
        );
        assert_eq!(state.enterprises[&id], assessments_before[&id]);
        assert_eq!(levels(&state), before);
        let unchanged =
            state.set_external_distance_ok(&cat2, rules, &HashMap::from([(id.clone(), None)]));
        assert_eq!(unchanged, Changes::default());
    }
}

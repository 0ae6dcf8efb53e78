//! The derived world of riskmap (应用层的世界状态): every feature, every risk
//! level and explanation, the external safety zones and violations, the tile
//! index, the rules and today's date in China time — all of it changed only
//! through [`World::apply`].
//!
//! A [`World`] is a value: nothing in it does IO or takes a lock. The
//! application layer (`riskmap-app`) keeps one published world behind an
//! `Arc` for readers and applies each [`Change`] to a second copy, so readers
//! never wait for a writer and never see half a change. `apply` is
//! deterministic (its result depends only on the world and the change), so
//! applying the same changes in the same order to two copies gives two equal
//! worlds; the tests check that, and that an incrementally changed world
//! equals one built from scratch.
#![warn(missing_docs)]

pub mod basemap;
pub mod history;
pub mod layers;
pub mod properties;
pub mod stats;
pub mod tiles;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use geo::{BoundingRect, Rect};
use riskmap_core::engine::{Changes, Edit, EngineConfig, RiskState};
use riskmap_core::scoring::Rules;
use riskmap_core::{Catalog, Collection, Feature};
use riskmap_safety::site::{SafetyConfig, SafetyState};
use riskmap_tiles::TileOptions;

pub use tiles::{TileCache, TileIndex};

/// Above this many features in one change, rescore everything at once.
pub const FULL_RESCORE_ABOVE: usize = 200;

/// One change to the world. Every write, import, change received from
/// another server and the calendar day rolling over is one of these.
#[derive(Debug, Clone)]
pub enum Change {
    /// Insert or replace features of one collection (already validated).
    Upsert {
        /// The collection.
        collection: Collection,
        /// The new features, shared between the world's copies.
        features: Vec<Arc<Feature>>,
    },
    /// Delete features of one collection by id (ids not present are ignored).
    Delete {
        /// The collection.
        collection: Collection,
        /// The ids.
        ids: Vec<String>,
    },
    /// The calendar day (China time, `YYYY-MM-DD`) for the accident windows
    /// of the scoring models.
    Today(String),
}

impl Change {
    /// Number of features the change names.
    pub fn len(&self) -> usize {
        match self {
            Change::Upsert { features, .. } => features.len(),
            Change::Delete { ids, .. } => ids.len(),
            Change::Today(_) => 0,
        }
    }

    /// Whether the change names no feature.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What one change did, for the caller to act on (purge tiles, answer).
#[derive(Debug, Clone, Default)]
pub struct Effects {
    /// Features inserted (new ids).
    pub inserted: usize,
    /// Features replaced (ids that existed).
    pub replaced: usize,
    /// Features deleted.
    pub deleted: usize,
    /// Boxes (WGS84) where anything drawn changed: edited features, rescored
    /// features and grid cells, safety zones and violations.
    pub boxes: Vec<Rect<f64>>,
    /// Everything may have changed (a full rescore): purge every tile.
    pub everything: bool,
    /// What the change reached, for the history of derived changes
    /// ([`history::diff`]); empty when `everything`.
    pub reached: Reached,
}

/// The scored features, grid cells and sites a change rescored or
/// reassessed (a superset of those whose level or violations changed).
#[derive(Debug, Clone, Default)]
pub struct Reached {
    /// Scored features (enterprises, parks, pipelines, districts) and the
    /// edited features themselves.
    pub features: BTreeSet<(Collection, String)>,
    /// Grid cells.
    pub cells: BTreeSet<String>,
    /// Sites (enterprises) whose safety zones or violations were reassessed.
    pub sites: BTreeSet<String>,
}

/// The whole derived world: one consistent version of every collection and
/// everything computed from it.
#[derive(Debug, Clone)]
pub struct World {
    /// Every stored feature (the store's copy in memory).
    pub catalog: Catalog,
    /// Risk levels, explanations, segments, the grid.
    pub risk: RiskState,
    /// External safety zones and violations (外部安全防护距离).
    pub safety: SafetyState,
    /// Point index of the point tilesets.
    pub tiles: TileIndex,
    rules: &'static Rules,
    safety_config: Arc<SafetyConfig>,
    /// Version: 0 when built, +1 for every change applied.
    version: u64,
    /// Whether levels, zones and violations are computed (评估完成). An
    /// unscored world (start-up) has features and their tiles but no level.
    scored: bool,
}

/// How far a world build has come, for `/ready`.
pub trait Progress: Sync {
    /// Called with a step name and the fraction done (0–1) of the build.
    fn step(&self, name: &str, done: f64);
}

impl Progress for () {
    fn step(&self, _: &str, _: f64) {}
}

impl World {
    /// Builds a world from every collection's features.
    pub fn build(
        features: Vec<(Collection, Vec<Feature>)>,
        rules: &'static Rules,
        safety_config: Arc<SafetyConfig>,
        today: &str,
        progress: &dyn Progress,
    ) -> World {
        progress.step("catalogue", 0.05);
        let mut catalog = Catalog::new();
        for (c, f) in features {
            catalog.load(c, f);
        }
        World::from_catalog(catalog, rules, safety_config, today, progress)
    }

    /// Builds a world from a loaded catalogue.
    pub fn from_catalog(
        catalog: Catalog,
        rules: &'static Rules,
        safety_config: Arc<SafetyConfig>,
        today: &str,
        progress: &dyn Progress,
    ) -> World {
        let config = EngineConfig::new(today, rules);
        World::score_catalog(catalog, rules, safety_config, config, 0, progress)
    }

    /// A world with the features and their point tiles but no levels, zones
    /// or violations yet: what a server shows while it scores at start-up.
    /// Every level is absent (pending), never a provisional guess.
    pub fn unscored(
        catalog: Catalog,
        rules: &'static Rules,
        safety_config: Arc<SafetyConfig>,
        today: &str,
    ) -> World {
        let risk = RiskState::compute(&Catalog::new(), rules, EngineConfig::new(today, rules));
        let tiles = TileIndex::build(&catalog, &risk, &TileOptions::default());
        World {
            catalog,
            risk,
            safety: SafetyState::default(),
            tiles,
            rules,
            safety_config,
            version: 0,
            scored: false,
        }
    }

    /// The scored world of this one's features (a copy; `self` keeps
    /// serving meanwhile), of the same version: scoring applies no change.
    /// Tiles drawn from an unscored world must not be cached.
    pub fn scored(&self, progress: &dyn Progress) -> World {
        World::score_catalog(
            self.catalog.clone(),
            self.rules,
            self.safety_config.clone(),
            self.risk.config().clone(),
            self.version,
            progress,
        )
    }

    fn score_catalog(
        catalog: Catalog,
        rules: &'static Rules,
        safety_config: Arc<SafetyConfig>,
        config: EngineConfig,
        version: u64,
        progress: &dyn Progress,
    ) -> World {
        progress.step("scoring", 0.1);
        let mut risk = RiskState::compute(&catalog, rules, config);
        progress.step("safety distances", 0.5);
        let safety = SafetyState::compute(&catalog, &safety_config);
        risk.set_external_distance_ok(&catalog, rules, &safety.verdicts());
        progress.step("tile index", 0.8);
        let tiles = TileIndex::build(&catalog, &risk, &TileOptions::default());
        progress.step("ready", 1.0);
        World {
            catalog,
            risk,
            safety,
            tiles,
            rules,
            safety_config,
            version,
            scored: true,
        }
    }

    /// Whether every level, zone and violation is computed. Until then a
    /// reader may show features and their tiles, with no level.
    pub fn is_scored(&self) -> bool {
        self.scored
    }

    /// One tile of any tileset of [`layers`], in MVT bytes.
    pub fn render_tile(
        &self,
        tileset: &str,
        t: riskmap_tiles::TileCoord,
        opts: &TileOptions,
    ) -> Result<Vec<u8>, tiles::RenderError> {
        let spec = layers::tileset_spec(tileset)
            .ok_or_else(|| tiles::RenderError::UnknownTileset(tileset.to_string()))?;
        if spec.source.is_safety() {
            tiles::render_safety(&self.safety, tileset, t, opts)
        } else {
            tiles::render(&self.catalog, &self.risk, &self.tiles, tileset, t, opts)
        }
    }

    /// The version: how many changes were applied since the build.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The scoring rules in force.
    pub fn rules(&self) -> &'static Rules {
        self.rules
    }

    /// The settings of the site assessment.
    pub fn safety_config(&self) -> &SafetyConfig {
        &self.safety_config
    }

    /// Today's date as the scoring models see it (`YYYY-MM-DD`).
    pub fn today(&self) -> &str {
        &self.risk.config().today
    }

    /// Applies one change and says what it did. The one path by which the
    /// world changes.
    pub fn apply(&mut self, change: &Change) -> Effects {
        self.version += 1;
        match change {
            Change::Upsert {
                collection,
                features,
            } => self.upsert(*collection, features),
            Change::Delete { collection, ids } => self.delete(*collection, ids),
            Change::Today(day) => {
                if day.as_str() == self.today() {
                    return Effects::default();
                }
                let config = EngineConfig {
                    today: day.clone(),
                    ..self.risk.config().clone()
                };
                self.rescore_all(config);
                Effects {
                    everything: true,
                    ..Effects::default()
                }
            }
        }
    }

    fn rescore_all(&mut self, config: EngineConfig) {
        self.risk = RiskState::compute(&self.catalog, self.rules, config);
        self.risk
            .set_external_distance_ok(&self.catalog, self.rules, &self.safety.verdicts());
        let opts = self.tiles.options().clone();
        self.tiles = TileIndex::build(&self.catalog, &self.risk, &opts);
    }

    fn upsert(&mut self, collection: Collection, features: &[Arc<Feature>]) -> Effects {
        let mut effects = Effects::default();
        let mut edits = Vec::with_capacity(features.len());
        let mut edited = Vec::with_capacity(features.len());
        for f in features {
            debug_assert_eq!(f.collection(), collection);
            let old = self.catalog.insert_arc(f.clone());
            if old.is_some() {
                effects.replaced += 1;
            } else {
                effects.inserted += 1;
            }
            edits.push(Edit {
                collection,
                id: f.id.clone(),
                old_bbox: old.as_ref().map(|o| o.bbox()),
                new_bbox: Some(f.bbox()),
            });
            edited.push((f.id.clone(), old));
        }
        self.after_edits(collection, edits, &edited, effects)
    }

    fn delete(&mut self, collection: Collection, ids: &[String]) -> Effects {
        let mut effects = Effects::default();
        let mut edits = Vec::new();
        let mut edited = Vec::new();
        for id in ids {
            if let Some(old) = self.catalog.remove(collection, id) {
                effects.deleted += 1;
                edits.push(Edit {
                    collection,
                    id: id.clone(),
                    old_bbox: Some(old.bbox()),
                    new_bbox: None,
                });
                edited.push((id.clone(), Some(old)));
            }
        }
        if edits.is_empty() {
            return effects;
        }
        self.after_edits(collection, edits, &edited, effects)
    }

    /// Rescores, reassesses safety and updates the tile index after the
    /// catalogue took `edits`.
    fn after_edits(
        &mut self,
        collection: Collection,
        edits: Vec<Edit>,
        edited: &[(String, Option<Arc<Feature>>)],
        mut effects: Effects,
    ) -> Effects {
        if edits.len() > FULL_RESCORE_ABOVE {
            // Reassess only the sites the change reaches (the costly part:
            // QRA), then rescore everything with their verdicts.
            let ids: Vec<String> = edits.iter().map(|e| e.id.clone()).collect();
            let edit_boxes: Vec<Rect<f64>> = edits
                .iter()
                .flat_map(|e| e.old_bbox.into_iter().chain(e.new_bbox))
                .collect();
            match collection {
                Collection::Enterprises => {
                    self.safety
                        .reassess_many(&self.catalog, &self.safety_config, &ids);
                }
                Collection::ProtectionTargets => {
                    self.safety
                        .target_changed(&self.catalog, &self.safety_config, &edit_boxes);
                }
                _ => {}
            }
            self.rescore_all(self.risk.config().clone());
            effects.everything = true;
            return effects;
        }
        effects.boxes.extend(
            edits
                .iter()
                .flat_map(|e| e.old_bbox.into_iter().chain(e.new_bbox)),
        );
        let edit_boxes = effects.boxes.clone();
        let ids: Vec<String> = edits.iter().map(|e| e.id.clone()).collect();
        let mut changes = Changes::default();
        for edit in &edits {
            let c = self.risk.update(&self.catalog, self.rules, edit);
            changes.features.extend(c.features);
            changes.cells.extend(c.cells);
        }
        effects.boxes.extend(self.changed_boxes(&changes));
        let safety_changes = self.update_safety(collection, &ids, &edit_boxes, &mut effects);
        let reached = &mut effects.reached;
        reached
            .features
            .extend(ids.iter().map(|id| (collection, id.clone())));
        for c in [&changes, &safety_changes] {
            reached.features.extend(c.features.iter().cloned());
            reached.cells.extend(c.cells.iter().cloned());
        }
        self.tiles
            .apply(&self.catalog, &self.risk, collection, edited, &changes);
        self.tiles
            .apply(&self.catalog, &self.risk, collection, &[], &safety_changes);
        effects
    }

    /// Bounding boxes of everything an update changed (features and grid cells).
    fn changed_boxes(&self, changes: &Changes) -> Vec<Rect<f64>> {
        let mut out: Vec<Rect<f64>> = changes
            .features
            .iter()
            .filter_map(|(c, id)| self.catalog.get(*c, id).map(|f| f.bbox()))
            .collect();
        out.extend(
            changes
                .cells
                .iter()
                .filter_map(|id| self.risk.cell(id).and_then(|c| c.geometry.bounding_rect())),
        );
        out
    }

    /// Reassesses the sites an edit touches (an enterprise itself; the sites
    /// whose zones meet an edited protection target) and feeds their
    /// external-distance verdicts to the enterprise scores. Adds the boxes
    /// whose zones, violations or levels changed to `effects`; returns what
    /// the verdicts rescored.
    fn update_safety(
        &mut self,
        collection: Collection,
        ids: &[String],
        edit_boxes: &[Rect<f64>],
        effects: &mut Effects,
    ) -> Changes {
        let sites = match collection {
            Collection::Enterprises => {
                let ch = self
                    .safety
                    .reassess_many(&self.catalog, &self.safety_config, ids);
                effects.boxes.extend(ch.boxes);
                ch.sites
            }
            Collection::ProtectionTargets => {
                let ch = self
                    .safety
                    .target_changed(&self.catalog, &self.safety_config, edit_boxes);
                effects.boxes.extend(ch.boxes);
                ch.sites
            }
            _ => return Changes::default(),
        };
        effects.reached.sites.extend(sites.iter().cloned());
        let verdicts: HashMap<String, Option<bool>> = sites
            .into_iter()
            .map(|id| {
                let v = self.safety.sites.get(&id).map(|a| a.external_distance_ok());
                (id, v)
            })
            .collect();
        let changes = self
            .risk
            .set_external_distance_ok(&self.catalog, self.rules, &verdicts);
        effects.boxes.extend(self.changed_boxes(&changes));
        changes
    }
}

/// Today's date in China Standard Time (UTC+8, no daylight saving) as
/// `YYYY-MM-DD`, from seconds since the Unix epoch: the day the scoring
/// models' accident windows are counted back from.
pub fn china_date(unix_seconds: i64) -> String {
    let days = (unix_seconds + 8 * 3600).div_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests;

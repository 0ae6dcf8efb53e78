//! Shared application state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

use geo::{BoundingRect, Rect};

use crate::tiles::{TileCache, TileIndex};
use riskmap_core::engine::{Changes, Edit, EngineConfig, RiskState};
use riskmap_core::scoring::Rules;
use riskmap_core::{Catalog, Collection, Feature};
use riskmap_safety::site::{SafetyConfig, SafetyState};
use riskmap_store::{ImportSummary, Store, StoreResult};

/// Server settings from the command line.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Bearer tokens allowed to write; empty means the server is read-only.
    pub admin_tokens: Vec<String>,
}

/// What every handler shares: the store (source of truth), the catalogue
/// (serves reads) and the settings.
#[derive(Clone)]
pub struct AppState {
    store: Arc<dyn Store>,
    catalog: Arc<RwLock<Catalog>>,
    /// Every derived result (risk levels, explanations, the grid), kept
    /// current by the risk engine after each write.
    risk: Arc<RwLock<RiskState>>,
    /// External safety zones and violations (外部安全防护距离) of every site,
    /// kept current after each write; their verdicts feed the enterprise score.
    safety: Arc<RwLock<SafetyState>>,
    safety_config: Arc<SafetyConfig>,
    rules: &'static Rules,
    /// Serialises writes so the store and the catalogue change in the same order.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    /// Rendered tiles; purged where an edit changes anything.
    tile_cache: Arc<Mutex<TileCache>>,
    /// Pre-aggregated, pre-projected points of the point tilesets, kept in
    /// step with the catalogue and the risk state by every write.
    tile_index: Arc<RwLock<TileIndex>>,
    config: Arc<ServerConfig>,
}

impl AppState {
    /// Loads every collection from the store into a fresh catalogue.
    pub async fn load(store: Arc<dyn Store>, config: ServerConfig) -> StoreResult<Self> {
        let mut catalog = Catalog::new();
        for c in Collection::ALL {
            catalog.load(c, store.all(c).await?);
        }
        let rules = Rules::builtin();
        let mut risk = RiskState::compute(&catalog, rules, EngineConfig::new(today_utc(), rules));
        let safety_config = SafetyConfig::embedded();
        let safety = SafetyState::compute(&catalog, &safety_config);
        risk.set_external_distance_ok(&catalog, rules, &safety.verdicts());
        let tile_index = TileIndex::build(&catalog, &risk, &riskmap_tiles::TileOptions::default());
        Ok(Self {
            store,
            tile_index: Arc::new(RwLock::new(tile_index)),
            catalog: Arc::new(RwLock::new(catalog)),
            risk: Arc::new(RwLock::new(risk)),
            safety: Arc::new(RwLock::new(safety)),
            safety_config: Arc::new(safety_config),
            rules,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            tile_cache: Arc::new(Mutex::new(TileCache::new(TILE_CACHE_CAPACITY))),
            config: Arc::new(config),
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Read access to the catalogue. Hold it briefly: writers wait for it.
    pub fn catalog(&self) -> RwLockReadGuard<'_, Catalog> {
        // A poisoned lock means a panic while updating; the data is still the
        // last consistent state we wrote, so keep serving it.
        self.catalog.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Read access to the derived results. Hold it briefly.
    pub fn risk(&self) -> RwLockReadGuard<'_, RiskState> {
        self.risk.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Read access to the safety zones and violations. Hold it briefly.
    pub fn safety(&self) -> RwLockReadGuard<'_, SafetyState> {
        self.safety.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The settings of the site assessment.
    pub fn safety_config(&self) -> &SafetyConfig {
        &self.safety_config
    }

    /// Read access to the tile index. Hold it briefly.
    pub fn tile_index(&self) -> RwLockReadGuard<'_, TileIndex> {
        self.tile_index.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The tile cache.
    pub fn tile_cache(&self) -> MutexGuard<'_, TileCache> {
        self.tile_cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The scoring rules in force.
    pub fn rules(&self) -> &'static Rules {
        self.rules
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Whether `token` may write.
    pub fn token_allowed(&self, token: &str) -> bool {
        self.config
            .admin_tokens
            .iter()
            .any(|t| constant_time_eq(t.as_bytes(), token.as_bytes()))
    }

    /// Writes features (one transaction) and then updates the catalogue.
    pub async fn write(
        &self,
        collection: Collection,
        features: Vec<Feature>,
    ) -> StoreResult<ImportSummary> {
        let _guard = self.write_lock.lock().await;
        let summary = self.store.import(collection, &features, None).await?;
        let mut cat = self.catalog.write().unwrap_or_else(|e| e.into_inner());
        let mut edits = Vec::with_capacity(features.len());
        let mut edited = Vec::with_capacity(features.len());
        for f in features {
            let (id, new_bbox) = (f.id.clone(), Some(f.bbox()));
            let old = cat.insert(f);
            edits.push(Edit {
                collection,
                id: id.clone(),
                old_bbox: old.as_ref().map(|o| o.bbox()),
                new_bbox,
            });
            edited.push((id, old));
        }
        let full = edits.len() > FULL_RESCORE_ABOVE;
        let mut risk = self.risk.write().unwrap_or_else(|e| e.into_inner());
        let mut boxes: Vec<Rect<f64>> = edits
            .iter()
            .flat_map(|e| e.old_bbox.into_iter().chain(e.new_bbox))
            .collect();
        let ids: Vec<String> = edits.iter().map(|e| e.id.clone()).collect();
        let edit_boxes = boxes.clone();
        let changes = self.rescore(&cat, &mut risk, edits);
        boxes.extend(changed_boxes(&cat, &risk, &changes));
        let (safety_boxes, safety_changes) =
            self.update_safety(&cat, &mut risk, collection, &ids, &edit_boxes);
        boxes.extend(safety_boxes);
        {
            let mut index = self.tile_index.write().unwrap_or_else(|e| e.into_inner());
            if full {
                let opts = index.options().clone();
                *index = TileIndex::build(&cat, &risk, &opts);
            } else {
                index.apply(&cat, &risk, collection, &edited, &changes);
                index.apply(&cat, &risk, collection, &[], &safety_changes);
            }
        }
        self.tile_cache().purge(&boxes);
        Ok(summary)
    }

    /// Deletes a feature from the store and then from the catalogue.
    pub async fn delete(&self, collection: Collection, id: &str) -> StoreResult<bool> {
        let _guard = self.write_lock.lock().await;
        let old = self.store.delete(collection, id).await?;
        let mut cat = self.catalog.write().unwrap_or_else(|e| e.into_inner());
        let removed = cat.remove(collection, id);
        if let Some(f) = &removed {
            let mut risk = self.risk.write().unwrap_or_else(|e| e.into_inner());
            let edit = Edit {
                collection,
                id: id.to_string(),
                old_bbox: Some(f.bbox()),
                new_bbox: None,
            };
            let changes = risk.update(&cat, self.rules, &edit);
            let mut boxes = vec![f.bbox()];
            boxes.extend(changed_boxes(&cat, &risk, &changes));
            let (safety_boxes, safety_changes) =
                self.update_safety(&cat, &mut risk, collection, &[id.to_string()], &[f.bbox()]);
            boxes.extend(safety_boxes);
            {
                let mut index = self.tile_index.write().unwrap_or_else(|e| e.into_inner());
                index.apply(
                    &cat,
                    &risk,
                    collection,
                    &[(id.to_string(), Some(f.clone()))],
                    &changes,
                );
                index.apply(&cat, &risk, collection, &[], &safety_changes);
            }
            self.tile_cache().purge(&boxes);
        }
        Ok(old.is_some())
    }
}

/// Tiles kept in memory.
const TILE_CACHE_CAPACITY: usize = 20_000;

/// Bounding boxes of everything an update changed (features and grid cells).
fn changed_boxes(cat: &Catalog, risk: &RiskState, changes: &Changes) -> Vec<Rect<f64>> {
    let mut out: Vec<Rect<f64>> = changes
        .features
        .iter()
        .filter_map(|(c, id)| cat.get(*c, id).map(|f| f.bbox()))
        .collect();
    out.extend(
        changes
            .cells
            .iter()
            .filter_map(|id| risk.cell(id).and_then(|c| c.geometry.bounding_rect())),
    );
    out
}

/// Above this many features in one write, rescore everything at once.
const FULL_RESCORE_ABOVE: usize = 200;

impl AppState {
    fn rescore(&self, cat: &Catalog, risk: &mut RiskState, edits: Vec<Edit>) -> Changes {
        if edits.len() > FULL_RESCORE_ABOVE {
            *risk = RiskState::compute(cat, self.rules, risk.config().clone());
            // Everything may have changed: drop every cached tile.
            *self.tile_cache() = TileCache::new(TILE_CACHE_CAPACITY);
            return Changes::default();
        }
        let mut all = Changes::default();
        for edit in edits {
            let c = risk.update(cat, self.rules, &edit);
            all.features.extend(c.features);
            all.cells.extend(c.cells);
        }
        all
    }
}

impl AppState {
    /// Reassesses the sites an edit touches (an enterprise itself; the sites
    /// whose zones meet an edited protection target) and feeds their
    /// external-distance verdicts to the enterprise scores. Returns the boxes
    /// whose zones, violations or levels changed, and what the verdicts
    /// rescored.
    fn update_safety(
        &self,
        cat: &Catalog,
        risk: &mut RiskState,
        collection: Collection,
        ids: &[String],
        edit_boxes: &[Rect<f64>],
    ) -> (Vec<Rect<f64>>, Changes) {
        if !matches!(
            collection,
            Collection::Enterprises | Collection::ProtectionTargets
        ) {
            return (Vec::new(), Changes::default());
        }
        let mut safety = self.safety.write().unwrap_or_else(|e| e.into_inner());
        let mut boxes = Vec::new();
        let sites: Vec<String> = if ids.len() > FULL_RESCORE_ABOVE {
            boxes.extend(safety.zones_bbox_all());
            *safety = SafetyState::compute(cat, &self.safety_config);
            boxes.extend(safety.zones_bbox_all());
            cat.iter(Collection::Enterprises)
                .map(|f| f.id.clone())
                .collect()
        } else if collection == Collection::Enterprises {
            let mut sites = Vec::new();
            for id in ids {
                let ch = safety.reassess(cat, &self.safety_config, id);
                boxes.extend(ch.boxes);
                sites.extend(ch.sites);
            }
            sites
        } else {
            let ch = safety.target_changed(cat, &self.safety_config, edit_boxes);
            boxes.extend(ch.boxes);
            ch.sites
        };
        let verdicts: HashMap<String, Option<bool>> = sites
            .into_iter()
            .map(|id| {
                let v = safety.sites.get(&id).map(|a| a.external_distance_ok());
                (id, v)
            })
            .collect();
        let changes = risk.set_external_distance_ok(cat, self.rules, &verdicts);
        boxes.extend(changed_boxes(cat, risk, &changes));
        (boxes, changes)
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, for the accident windows of the scoring models.
pub fn today_utc() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
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

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

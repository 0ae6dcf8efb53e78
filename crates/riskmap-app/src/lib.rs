//! The application layer (应用层): one [`App`] owns the store and the derived
//! [`World`], and is the only way either changes.
//!
//! # The snapshot rule
//! Readers take the published world ([`App::world`]): an `Arc<World>` that
//! never changes. Everything one request shows comes from that one snapshot,
//! so an enterprise's level in `/api/risk`, in its feature, in its tile and
//! in `/api/stats` agree. Taking it is an atomic load ([`arc_swap`]); a reader
//! never waits for a writer and there is no lock order to get wrong.
//!
//! # The change path
//! [`App::apply`] serialises writers (one async mutex) and then:
//! 1. brings the spare copy of the world (the previous snapshot, once no
//!    reader holds it; a clone of the current one otherwise) up to date and
//!    applies the change to it, on the blocking pool, catching panics;
//! 2. commits the change to the store in one transaction;
//! 3. publishes the new world (an atomic swap) and purges the tiles it
//!    changed. The old snapshot becomes the spare, with this change pending.
//!
//! A panic in 1 or a store error in 2 leaves the published world and the
//! store as they were, and the half-changed copy is dropped, never reused.
//!
//! # Who writes
//! Every local write names its author ([`By`]: an account and, optionally,
//! the action's name). Under the writer lock, before anything changes, the
//! account's right to change each feature from its current to its new
//! state is checked ([`riskmap_core::access::check_write`]; refused:
//! [`AppError::Forbidden`], nothing changed), and the write's audit entries
//! (actor, time, action, collection, id, before, after) are stored in the
//! write's own transaction.
//!
//! # Other writers
//! Every store write is logged ([`riskmap_store::log`]). [`App::follow`]
//! watches the log and applies, in log order, what other processes wrote
//! (another server on the same PostGIS, `riskmap import` on the same
//! SQLite file): it re-reads the rows a logged change names and takes steps
//! 1 and 3 of the change path. It reads and applies under the writer lock,
//! so a local write cannot slip between the read and the publish.
//!
//! # Heavy work
//! [`App::read`] runs CPU-heavy reads (tiles, items, siting, reports,
//! statistics) on the blocking pool with a bound per kind of work
//! ([`Work`]); past the bound the caller gets [`AppError::Busy`] (answered
//! 503 with `Retry-After`), so the unauthenticated siting check cannot starve
//! the map. When the caller goes away (its client disconnected, so the
//! request future was dropped), its work is abandoned: work not yet started
//! is skipped and long work sees [`Cancel`] between its steps
//! ([`App::read_cancellable`]).
#![warn(missing_docs)]

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use riskmap_core::access::{Account, check_write};
use riskmap_core::rule_set::RulesInForce;
use riskmap_core::{Catalog, Collection, Feature};
use riskmap_safety::site::SafetyConfig;
use riskmap_store::access::feature_json;
use riskmap_store::{AuditEntry, DerivedChange, LoggedChange, Store, StoreError, WriteOp};
pub use riskmap_tiles::TileCoord;
use riskmap_world::Progress as _;
use riskmap_world::tiles::{CachedTile, TileCache};
pub use riskmap_world::{Change, Effects, World, china_date};
use tokio::sync::Semaphore;

/// Tiles kept in memory.
const TILE_CACHE_CAPACITY: usize = 20_000;

/// An error of the application layer.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The world is still being built (start-up).
    #[error("the server is starting: {0}")]
    Loading(String),
    /// Too much heavy work is queued; try again after the given seconds.
    #[error("the server is busy ({0}); retry in {1} s")]
    Busy(&'static str, u64),
    /// Nothing with that id.
    #[error("{0}")]
    NotFound(String),
    /// The write conflicts with what exists (a `POST` of an existing id).
    #[error("{0}")]
    Conflict(String),
    /// The author lacks a right (403): the message names the right and the record.
    #[error("{0}")]
    Forbidden(String),
    /// The store failed; nothing changed.
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    /// A bug (a panic while computing); nothing changed.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Result of the application layer.
pub type AppResult<T> = Result<T, AppError>;

/// Whether the caller of a heavy read has gone (see [`App::read_cancellable`]).
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// True once the caller has gone: the work's answer will not be read.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Sets its [`Cancel`] when dropped armed: the future holding it was dropped
/// before the work's answer came back.
struct CancelOnDrop(Option<Cancel>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(c) = &self.0 {
            c.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Kinds of heavy work, each with its own bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// What the map needs: tiles, items, collection documents.
    Map,
    /// What the map needs of derived collections (grid cells, pipeline
    /// segments, safety zones, violations): like `Map`, but only once every
    /// level is final.
    Derived,
    /// Analyses: siting checks, site reports, explanations, statistics,
    /// validation of writes. Only once every level is final.
    Analysis,
}

impl Work {
    /// Whether the work shows levels, zones or violations, so it must wait
    /// until the world is scored (a start-up world has none yet).
    pub fn needs_levels(self) -> bool {
        !matches!(self, Work::Map)
    }
}

/// How many of each kind of heavy work run or wait at once, and how long a
/// request waits for a place before it is told to come back.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Map work in flight (running or queued for a blocking thread).
    pub map: usize,
    /// Analysis work in flight.
    pub analysis: usize,
    /// Longest wait for a place.
    pub queue_wait: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            map: 8 * cores,
            analysis: 2 * cores,
            queue_wait: Duration::from_secs(5),
        }
    }
}

/// Readiness: how far the first build of the world has come.
#[derive(Debug, Clone, PartialEq)]
pub enum Readiness {
    /// Still building: the current step and the fraction done (0–1).
    Loading {
        /// What is being done.
        step: String,
        /// Fraction done, 0–1.
        done: f64,
    },
    /// Serving.
    Ready,
    /// The build failed; the message says why.
    Failed(String),
}

/// Whether and how [`App::apply_locked`] stores a change.
#[derive(Debug, Clone, Copy)]
enum Persist<'a> {
    /// Already stored (by another writer, read back from the change log).
    No,
    /// Stored as it is: upserts replace. With an author, checked and audited.
    Store(Option<&'a By>),
    /// An upsert of new features only: an id that exists in the store
    /// (another server's insert this one has not seen yet) refuses it.
    NewOnly(&'a By),
}

impl Persist<'_> {
    fn by(&self) -> Option<&By> {
        match self {
            Persist::No => None,
            Persist::Store(by) => *by,
            Persist::NewOnly(by) => Some(by),
        }
    }
}

struct Writer {
    /// The previous snapshot: once no reader holds it, it is brought up to
    /// date with `pending` and becomes the next world.
    spare: Option<Arc<World>>,
    pending: Vec<Change>,
}

struct Inner {
    store: Arc<dyn Store>,
    world: ArcSwapOption<World>,
    readiness: Mutex<Readiness>,
    writer: tokio::sync::Mutex<Writer>,
    tiles: Mutex<TileCache>,
    map: Arc<Semaphore>,
    analysis: Arc<Semaphore>,
    limits: Limits,
    /// The last change-log position applied or skipped (written only under
    /// the writer lock).
    seen: AtomicU64,
    /// Heavy reads whose caller had gone before they finished.
    abandoned: AtomicU64,
    rules: RulesInForce,
    safety_config: Arc<SafetyConfig>,
    /// Tile cache hits and misses (`/metrics`).
    tile_hits: AtomicU64,
    tile_misses: AtomicU64,
}

/// The application: store, published world, writer, tile cache, bounds.
/// Cheap to clone (an `Arc`).
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct ReadinessProgress<'a>(&'a Mutex<Readiness>);

impl riskmap_world::Progress for ReadinessProgress<'_> {
    fn step(&self, name: &str, done: f64) {
        let mut r = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *r = Readiness::Loading {
            step: name.to_string(),
            done,
        };
    }
}

/// The author of a write: the account whose rights are checked and who
/// is recorded in the audit log, and the action's name when it is more
/// than `create`/`replace`/`delete` (e.g. `transition:close`).
#[derive(Debug, Clone)]
pub struct By {
    /// The account.
    pub account: Account,
    /// The action's name for the audit log.
    pub action: Option<String>,
}

impl By {
    /// A write by `account`.
    pub fn account(account: Account) -> By {
        By {
            account,
            action: None,
        }
    }

    /// A write by the system itself or an administrator named `name`
    /// (commands, tests).
    pub fn admin(name: &str) -> By {
        By::account(Account::admin(name))
    }

    /// The same author, naming the action.
    pub fn doing(mut self, action: impl Into<String>) -> By {
        self.action = Some(action.into());
        self
    }
}

/// `features` stamped with one last change time (最后更新时间), now: the
/// world and the store keep the same time.
fn stamped(features: Vec<Feature>) -> Vec<Arc<Feature>> {
    let at = riskmap_store::codec::now_stamp();
    features
        .into_iter()
        .map(|mut f| {
            f.updated = Some(at.clone());
            Arc::new(f)
        })
        .collect()
}

/// Now, RFC 3339 UTC (the audit log's clock).
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

/// Checks `by`'s right to each change of `change` against `world` and
/// builds the audit entries (CPU work: run it off the async workers).
fn check_and_audit(world: &World, change: &Change, by: &By) -> AppResult<Vec<AuditEntry>> {
    let at = now_rfc3339();
    let catalog = &world.catalog;
    let entry = |c: Collection,
                 id: &str,
                 default: &str,
                 before: Option<&Feature>,
                 after: Option<&Feature>| AuditEntry {
        at: at.clone(),
        actor: by.account.name.clone(),
        action: by.action.clone().unwrap_or_else(|| default.to_string()),
        collection: c.as_str().to_string(),
        id: Some(id.to_string()),
        before: before.map(feature_json),
        after: after.map(feature_json),
    };
    let mut out = Vec::new();
    match change {
        Change::Upsert {
            collection,
            features,
        } => {
            for f in features {
                let old = catalog.get(*collection, &f.id).map(|a| &**a);
                check_write(&by.account, *collection, old, Some(f), catalog)
                    .map_err(|d| AppError::Forbidden(d.0))?;
                let default = if old.is_some() { "replace" } else { "create" };
                out.push(entry(*collection, &f.id, default, old, Some(f)));
            }
        }
        Change::Delete { collection, ids } => {
            for id in ids {
                let Some(old) = catalog.get(*collection, id) else {
                    continue;
                };
                check_write(&by.account, *collection, Some(old), None, catalog)
                    .map_err(|d| AppError::Forbidden(d.0))?;
                out.push(entry(*collection, id, "delete", Some(old), None));
            }
        }
        Change::Today(_) => {}
    }
    Ok(out)
}

/// Ids named in a derived change's cause, at most.
const CAUSE_IDS: usize = 20;

/// The cause of a change as its derived changes record it: the write
/// (action, collection, ids, actor) or the date rollover.
fn cause_of(change: &Change, by: Option<&By>, audit: &[AuditEntry]) -> serde_json::Value {
    let (collection, ids, default): (Collection, Vec<&str>, &str) = match change {
        Change::Today(day) => return serde_json::json!({"kind": "day", "date": day}),
        Change::Upsert {
            collection,
            features,
        } => (
            *collection,
            features.iter().map(|f| f.id.as_str()).collect(),
            "upsert",
        ),
        Change::Delete { collection, ids } => (
            *collection,
            ids.iter().map(String::as_str).collect(),
            "delete",
        ),
    };
    let actions: std::collections::BTreeSet<&str> =
        audit.iter().map(|a| a.action.as_str()).collect();
    let action = match (by.and_then(|b| b.action.as_deref()), actions.len()) {
        (Some(a), _) => a,
        (None, 1) => actions.first().copied().unwrap_or(default),
        _ => default,
    };
    let mut cause = serde_json::json!({
        "kind": "write",
        "action": action,
        "collection": collection.as_str(),
        "ids": ids.iter().take(CAUSE_IDS).collect::<Vec<_>>(),
        "count": ids.len(),
    });
    if let Some(by) = by {
        cause["actor"] = by.account.name.clone().into();
    }
    cause
}

/// The stored form of a change's derived changes: each with the write's
/// time (its audit entries' time) and cause.
fn derived_changes(
    items: Vec<riskmap_world::history::DerivedItem>,
    change: &Change,
    by: Option<&By>,
    audit: &[AuditEntry],
) -> Vec<DerivedChange> {
    use riskmap_store::history::kind;
    use riskmap_world::history::Kind;
    if items.is_empty() {
        return Vec::new();
    }
    let at = audit.first().map_or_else(now_rfc3339, |a| a.at.clone());
    let cause = cause_of(change, by, audit);
    items
        .into_iter()
        .map(|item| {
            let mut detail = item.detail;
            detail.insert("at".into(), at.clone().into());
            detail.insert("cause".into(), cause.clone());
            DerivedChange {
                at: at.clone(),
                kind: match item.kind {
                    Kind::Level => kind::LEVEL,
                    Kind::ViolationNew => kind::VIOLATION_NEW,
                    Kind::ViolationCleared => kind::VIOLATION_CLEARED,
                }
                .to_string(),
                collection: item.collection,
                id: item.id,
                bbox: item
                    .bbox
                    .map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]),
                detail: serde_json::Value::Object(detail).to_string(),
            }
        })
        .collect()
}

/// Today in China time.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    china_date(secs)
}

impl App {
    /// An application on `store` with no world yet: call [`App::load`].
    /// It scores with the rules in force of the process
    /// ([`RulesInForce::installed`]: `--rules`, else the embedded ones).
    pub fn new(store: Arc<dyn Store>, limits: Limits) -> App {
        App::with_rules(store, limits, RulesInForce::installed())
    }

    /// An application on `store` scoring with `rules`.
    pub fn with_rules(store: Arc<dyn Store>, limits: Limits, rules: RulesInForce) -> App {
        App(Arc::new(Inner {
            store,
            world: ArcSwapOption::empty(),
            readiness: Mutex::new(Readiness::Loading {
                step: "starting".into(),
                done: 0.0,
            }),
            writer: tokio::sync::Mutex::new(Writer {
                spare: None,
                pending: Vec::new(),
            }),
            tiles: Mutex::new(TileCache::new(TILE_CACHE_CAPACITY)),
            map: Arc::new(Semaphore::new(limits.map.max(1))),
            analysis: Arc::new(Semaphore::new(limits.analysis.max(1))),
            limits,
            seen: AtomicU64::new(0),
            abandoned: AtomicU64::new(0),
            rules,
            safety_config: Arc::new(SafetyConfig::embedded()),
            tile_hits: AtomicU64::new(0),
            tile_misses: AtomicU64::new(0),
        }))
    }

    /// Opens the application on `store` and builds the world (for commands
    /// that need it at once).
    pub async fn open(store: Arc<dyn Store>, today: Option<String>) -> AppResult<App> {
        let app = App::new(store, Limits::default());
        app.load(today).await?;
        Ok(app)
    }

    /// Loads every collection from the store and builds the world on the
    /// blocking pool, reporting progress through [`App::readiness`]. Writes
    /// wait until it is done (they take the writer first).
    pub async fn load(&self, today: Option<String>) -> AppResult<()> {
        let result = self.load_inner(today).await;
        let mut r = self.0.readiness.lock().unwrap_or_else(|e| e.into_inner());
        *r = match &result {
            Ok(()) => Readiness::Ready,
            Err(e) => Readiness::Failed(e.to_string()),
        };
        result
    }

    async fn load_inner(&self, today: Option<String>) -> AppResult<()> {
        let _writer = self.0.writer.lock().await;
        // Changes logged from here on are re-read by `follow`, so none is
        // missed between this and reading the collections.
        let seen = self.0.store.last_change().await?;
        self.0.seen.store(seen, Ordering::Relaxed);
        let mut features = Vec::new();
        for (i, c) in Collection::ALL.into_iter().enumerate() {
            ReadinessProgress(&self.0.readiness).step_loading(c, i);
            features.push((c, self.0.store.all(c).await?));
        }
        let inner = self.0.clone();
        let today = today.unwrap_or_else(crate::today);
        let world = tokio::task::spawn_blocking(move || {
            let progress = ReadinessProgress(&inner.readiness);
            progress.step("catalogue", 0.05);
            let mut catalog = Catalog::new();
            for (c, f) in features {
                catalog.load(c, f);
            }
            // Features and their tiles first, with no level (pending); then
            // the scored world, which replaces it whole.
            let unscored = Arc::new(World::unscored(
                catalog,
                inner.rules.scoring,
                inner.safety_config.clone(),
                &today,
            ));
            inner.world.store(Some(unscored.clone()));
            unscored.scored(&progress)
        })
        .await
        .map_err(|e| {
            // Not even the unscored world may serve after a failed build.
            self.0.world.store(None);
            AppError::Internal(format!("building the world failed: {e}"))
        })?;
        self.0.world.store(Some(Arc::new(world)));
        Ok(())
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.0.store
    }

    /// How far start-up has come.
    pub fn readiness(&self) -> Readiness {
        self.0
            .readiness
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The published world: one consistent snapshot, never changed. Hold it
    /// for the whole of one request.
    pub fn world(&self) -> AppResult<Arc<World>> {
        self.0.world.load_full().ok_or_else(|| self.loading_error())
    }

    /// The published world once it is scored (every level final).
    pub fn scored_world(&self) -> AppResult<Arc<World>> {
        let w = self.world()?;
        if w.is_scored() {
            Ok(w)
        } else {
            Err(self.loading_error())
        }
    }

    fn loading_error(&self) -> AppError {
        match self.readiness() {
            Readiness::Loading { step, done } => AppError::Loading(format!(
                "{step}, {:.0} % done; levels are not computed yet",
                done * 100.0
            )),
            Readiness::Failed(e) => AppError::Loading(format!("start-up failed: {e}")),
            Readiness::Ready => AppError::Loading("no world".into()),
        }
    }

    /// Runs `f` on one snapshot on the blocking pool, within the bound for
    /// `work`. Readers never wait for writers: only for a place in the pool.
    /// If the caller goes away first, `f` is not started.
    pub async fn read<R: Send + 'static>(
        &self,
        work: Work,
        f: impl FnOnce(&World) -> R + Send + 'static,
    ) -> AppResult<R> {
        self.read_cancellable(work, move |w, _| f(w)).await
    }

    /// Like [`App::read`], for long work that can stop early: `f` gets a
    /// [`Cancel`] that turns true once the caller has gone (the future of
    /// this call was dropped: in the server, the client disconnected). Work
    /// whose caller has gone before it starts is skipped; either way it
    /// counts in [`App::work_abandoned`].
    pub async fn read_cancellable<R: Send + 'static>(
        &self,
        work: Work,
        f: impl FnOnce(&World, &Cancel) -> R + Send + 'static,
    ) -> AppResult<R> {
        let world = self.world()?;
        if work.needs_levels() && !world.is_scored() {
            return Err(self.loading_error());
        }
        let (sem, name) = match work {
            Work::Map | Work::Derived => (&self.0.map, "map"),
            Work::Analysis => (&self.0.analysis, "analysis"),
        };
        let permit = tokio::time::timeout(self.0.limits.queue_wait, sem.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Busy(name, 1))?
            .map_err(|_| AppError::Busy(name, 1))?;
        let cancel = Cancel::default();
        let mut guard = CancelOnDrop(Some(cancel.clone()));
        let inner = self.0.clone();
        let out = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            if cancel.is_cancelled() {
                inner.abandoned.fetch_add(1, Ordering::Relaxed);
                return None;
            }
            let out = f(&world, &cancel);
            if cancel.is_cancelled() {
                inner.abandoned.fetch_add(1, Ordering::Relaxed);
            }
            Some(out)
        })
        .await
        .map_err(|e| AppError::Internal(format!("a {name} task failed: {e}")));
        guard.0 = None;
        out?.ok_or_else(|| AppError::Internal(format!("a {name} task was abandoned")))
    }

    /// Heavy reads whose caller went away before they finished (skipped, or
    /// stopped early where the work checks [`Cancel`]).
    pub fn work_abandoned(&self) -> u64 {
        self.0.abandoned.load(Ordering::Relaxed)
    }

    /// A cached tile, if any.
    pub fn cached_tile(&self, tileset: &str, t: TileCoord) -> Option<CachedTile> {
        let tile = self
            .0
            .tiles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(tileset, t);
        let counter = if tile.is_some() {
            &self.0.tile_hits
        } else {
            &self.0.tile_misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        tile
    }

    /// Tile cache lookups so far: (hits, misses).
    pub fn tile_cache_stats(&self) -> (u64, u64) {
        (
            self.0.tile_hits.load(Ordering::Relaxed),
            self.0.tile_misses.load(Ordering::Relaxed),
        )
    }

    /// The rules in force: the files (and their digest) and the scoring
    /// rules parsed from them.
    pub fn rules(&self) -> RulesInForce {
        self.0.rules
    }

    /// Caches a tile rendered from the world of `version` (refused when a
    /// newer world purged its place meanwhile).
    pub fn cache_tile(&self, tileset: &str, t: TileCoord, tile: CachedTile, version: u64) {
        self.0
            .tiles
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .put(tileset, t, tile, version);
    }

    /// Inserts or replaces validated features of one collection: stored in
    /// one transaction, then published.
    pub async fn upsert(
        &self,
        collection: Collection,
        features: Vec<Feature>,
        by: &By,
    ) -> AppResult<Effects> {
        let features = stamped(features);
        let mut writer = self.0.writer.lock().await;
        self.apply_locked(
            &mut writer,
            Change::Upsert {
                collection,
                features,
            },
            Persist::Store(Some(by)),
        )
        .await
    }

    /// Inserts new validated features of one collection (`POST`): refused
    /// with [`AppError::Conflict`], changing nothing, when any id exists.
    /// The check and the write happen under the writer lock, so no other
    /// local write slips in between.
    pub async fn insert(
        &self,
        collection: Collection,
        features: Vec<Feature>,
        by: &By,
    ) -> AppResult<Effects> {
        let mut writer = self.0.writer.lock().await;
        let current = self.scored_world()?;
        let taken: Vec<&str> = features
            .iter()
            .filter(|f| current.catalog.get(collection, &f.id).is_some())
            .map(|f| f.id.as_str())
            .collect();
        if !taken.is_empty() {
            let shown: Vec<&str> = taken.iter().take(10).copied().collect();
            return Err(AppError::Conflict(format!(
                "{} feature(s) of {collection} already exist: {}{}; nothing was written. \
                 PUT /collections/{collection}/items/{{id}} replaces one",
                taken.len(),
                shown.join(", "),
                if taken.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            )));
        }
        drop(current);
        let features = stamped(features);
        self.apply_locked(
            &mut writer,
            Change::Upsert {
                collection,
                features,
            },
            Persist::NewOnly(by),
        )
        .await
    }

    /// Deletes one feature; `NotFound` when there is none.
    /// Replaces one feature by `change(current)`, reading the current one
    /// under the writer lock, so that two changes of one feature (two
    /// transitions of one hidden danger) cannot both start from the same
    /// version: the second sees the first. `NotFound` when there is none;
    /// an error from `change` changes nothing.
    pub async fn modify(
        &self,
        collection: Collection,
        id: &str,
        by: &By,
        change: impl FnOnce(&Feature, &World) -> AppResult<Feature>,
    ) -> AppResult<(Arc<Feature>, Effects)> {
        let mut writer = self.0.writer.lock().await;
        let current = self.scored_world()?;
        let Some(old) = current.catalog.get(collection, id).cloned() else {
            return Err(AppError::NotFound(format!(
                "no feature {id:?} in {collection}"
            )));
        };
        let mut new = change(&old, &current)?;
        new.updated = Some(riskmap_store::codec::now_stamp());
        let new = Arc::new(new);
        drop(current);
        let effects = self
            .apply_locked(
                &mut writer,
                Change::Upsert {
                    collection,
                    features: vec![new.clone()],
                },
                Persist::Store(Some(by)),
            )
            .await?;
        Ok((new, effects))
    }

    /// A feature that other records still name is not deleted: a park or
    /// district named by enterprises (`park_id`, `district_code`), a
    /// district named by hidden dangers or emergency resources
    /// (`district_code`), an enterprise named by hidden
    /// dangers (`enterprise_id`: the register keeps its whole record,
    /// 全过程记录). [`AppError::Conflict`] names them and their fields.
    pub async fn delete(&self, collection: Collection, id: &str, by: &By) -> AppResult<Effects> {
        let mut writer = self.0.writer.lock().await;
        let referrers: &'static [Collection] = match collection {
            Collection::Parks => &[Collection::Enterprises],
            Collection::Districts => &[
                Collection::Enterprises,
                Collection::HiddenDangers,
                Collection::RescueTeams,
                Collection::SupplyDepots,
                Collection::Shelters,
            ],
            Collection::Enterprises => &[Collection::HiddenDangers],
            _ => &[],
        };
        // The scan runs on the blocking pool.
        let naming: Vec<String> = if referrers.is_empty() {
            Vec::new()
        } else {
            let current = self.scored_world()?;
            let target = id.to_string();
            tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                for &from in referrers {
                    for f in current.catalog.iter(from) {
                        for (field, c, t) in riskmap_core::import::references(from, f) {
                            if c == collection && t == target {
                                out.push(format!("{from}/{} ({field})", f.id));
                            }
                        }
                    }
                }
                out
            })
            .await
            .map_err(|e| AppError::Internal(format!("the reference check failed: {e}")))?
        };
        if !naming.is_empty() {
            let shown: Vec<&str> = naming.iter().take(10).map(String::as_str).collect();
            return Err(AppError::Conflict(format!(
                "{collection}/{id} is named by {} record(s): {}{}; nothing was deleted. \
                 Change or delete those records first",
                naming.len(),
                shown.join(", "),
                if naming.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            )));
        }
        let effects = self
            .apply_locked(
                &mut writer,
                Change::Delete {
                    collection,
                    ids: vec![id.to_string()],
                },
                Persist::Store(Some(by)),
            )
            .await?;
        if effects.deleted == 0 {
            return Err(AppError::NotFound(format!(
                "no feature {id:?} in {collection}"
            )));
        }
        Ok(effects)
    }

    /// Moves the scoring date to today (China time) when the day has rolled
    /// over; returns whether it did.
    pub async fn roll_day(&self) -> AppResult<bool> {
        let day = today();
        if self.world()?.today() == day {
            return Ok(false);
        }
        self.apply(Change::Today(day)).await?;
        Ok(true)
    }

    /// The one change path: prepare the next world, store, publish.
    pub async fn apply(&self, change: Change) -> AppResult<Effects> {
        let mut writer = self.0.writer.lock().await;
        self.apply_locked(&mut writer, change, Persist::Store(None))
            .await
    }

    async fn apply_locked(
        &self,
        writer: &mut Writer,
        change: Change,
        persist: Persist<'_>,
    ) -> AppResult<Effects> {
        let current = self.scored_world()?;
        if let Change::Delete { collection, ids } = &change
            && !ids
                .iter()
                .any(|id| current.catalog.get(*collection, id).is_some())
        {
            return Ok(Effects::default());
        }
        // The author's rights and the audit entries, before anything changes.
        let audit = match persist.by() {
            Some(by) => {
                let (world, change, by) = (current.clone(), change.clone(), by.clone());
                tokio::task::spawn_blocking(move || check_and_audit(&world, &change, &by))
                    .await
                    .map_err(|e| AppError::Internal(format!("the access check failed: {e}")))??
            }
            None => Vec::new(),
        };
        let spare = writer.spare.take();
        let pending = std::mem::take(&mut writer.pending);
        // Only the server that makes a change records what it changed.
        let record = !matches!(persist, Persist::No);
        let (next, effects, derived) = {
            let current = current.clone();
            let change = change.clone();
            tokio::task::spawn_blocking(move || {
                std::panic::catch_unwind(AssertUnwindSafe(move || {
                    let mut world = reclaim(spare, &pending, &current);
                    let effects = world.apply(&change);
                    let derived = if record {
                        riskmap_world::history::diff(&current, &world, &effects)
                    } else {
                        Vec::new()
                    };
                    (world, effects, derived)
                }))
            })
            .await
            .map_err(|e| AppError::Internal(format!("the change task failed: {e}")))?
            .map_err(|_| {
                tracing::error!("a panic while applying a change; nothing was stored");
                AppError::Internal("a panic while applying the change; nothing was stored".into())
            })?
        };
        if next.version() != current.version() + 1 {
            return Err(AppError::Internal(format!(
                "world versions out of step: {} after {}",
                next.version(),
                current.version()
            )));
        }
        let derived = derived_changes(derived, &change, persist.by(), &audit);
        match (persist, &change) {
            (Persist::No, _) => {}
            (
                Persist::NewOnly(_),
                Change::Upsert {
                    collection,
                    features,
                },
            ) => {
                let plain: Vec<Feature> = features.iter().map(|f| (**f).clone()).collect();
                self.0
                    .store
                    .write_with_changes(*collection, WriteOp::Insert(&plain), &audit, &derived)
                    .await
                    .map_err(|e| match e {
                        StoreError::Exists { collection, ids } => AppError::Conflict(format!(
                            "{} feature(s) of {collection} already exist (stored by another \
                             writer a moment ago): {}; nothing was written. \
                             PUT /collections/{collection}/items/{{id}} replaces one",
                            ids.len(),
                            ids.join(", ")
                        )),
                        other => AppError::Store(other),
                    })?;
            }
            _ => self.store_change(&change, &audit, &derived).await?,
        }
        let version = next.version();
        let old = self.0.world.swap(Some(Arc::new(next)));
        drop(current);
        writer.spare = old;
        writer.pending = vec![change];
        {
            let mut tiles = self.0.tiles.lock().unwrap_or_else(|e| e.into_inner());
            if effects.everything {
                tiles.purge(None, version);
            } else {
                tiles.purge(Some(&effects.boxes), version);
            }
        }
        Ok(effects)
    }

    /// The last change-log position this world has taken in.
    pub fn changes_seen(&self) -> u64 {
        self.0.seen.load(Ordering::Relaxed)
    }

    /// Follows the change log until dropped: whenever the store's
    /// [`Watch`](riskmap_store::Watch) says there may be news, applies what
    /// other writers logged ([`App::catch_up`]). Errors are logged and
    /// retried at the next wake-up.
    pub async fn follow(&self) {
        let watch = loop {
            match self.0.store.watch().await {
                Ok(w) => break w,
                Err(e) => {
                    tracing::warn!("cannot watch the change log ({e}); retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        };
        loop {
            watch.changed().await;
            match self.catch_up().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(changes = n, "applied changes from other writers"),
                Err(e) => tracing::warn!("catching up with the change log failed: {e}"),
            }
        }
    }

    /// Applies, in log order, every change other writers logged after the
    /// last one seen; returns how many logged changes it applied.
    pub async fn catch_up(&self) -> AppResult<usize> {
        const BATCH: usize = 500;
        let mut applied = 0;
        loop {
            let mut writer = self.0.writer.lock().await;
            let seen = self.0.seen.load(Ordering::Relaxed);
            let batch = self.0.store.changes_since(seen, BATCH).await?;
            if batch.is_empty() {
                return Ok(applied);
            }
            for entry in batch {
                if entry.origin != self.0.store.origin() {
                    for change in self.reread(&entry).await? {
                        self.apply_locked(&mut writer, change, Persist::No).await?;
                    }
                    applied += 1;
                }
                self.0.seen.store(entry.seq, Ordering::Relaxed);
            }
        }
    }

    /// The changes that bring the world to the store's rows for what
    /// `entry` names: upserts of the rows there, deletes of those gone.
    async fn reread(&self, entry: &LoggedChange) -> AppResult<Vec<Change>> {
        let world = self.world()?;
        let c = entry.collection;
        let (present, gone): (Vec<Feature>, Vec<String>) = match &entry.ids {
            Some(ids) => {
                let mut present = Vec::new();
                let mut gone = Vec::new();
                for id in ids {
                    match self.0.store.get(c, id).await? {
                        Some(f) => present.push(f),
                        None if world.catalog.get(c, id).is_some() => gone.push(id.clone()),
                        None => {}
                    }
                }
                (present, gone)
            }
            None => {
                let all = self.0.store.all(c).await?;
                let kept: HashSet<&str> = all.iter().map(|f| f.id.as_str()).collect();
                let gone = world
                    .catalog
                    .iter(c)
                    .filter(|f| !kept.contains(f.id.as_str()))
                    .map(|f| f.id.clone())
                    .collect();
                (all, gone)
            }
        };
        let mut changes = Vec::new();
        if !present.is_empty() {
            changes.push(Change::Upsert {
                collection: c,
                features: present.into_iter().map(Arc::new).collect(),
            });
        }
        if !gone.is_empty() {
            changes.push(Change::Delete {
                collection: c,
                ids: gone,
            });
        }
        Ok(changes)
    }

    async fn store_change(
        &self,
        change: &Change,
        audit: &[AuditEntry],
        derived: &[DerivedChange],
    ) -> AppResult<()> {
        let store = &self.0.store;
        match change {
            Change::Upsert {
                collection,
                features,
            } => {
                let plain: Vec<Feature> = features.iter().map(|f| (**f).clone()).collect();
                store
                    .write_with_changes(*collection, WriteOp::Upsert(&plain), audit, derived)
                    .await?;
            }
            Change::Delete { collection, ids } => {
                store
                    .write_with_changes(*collection, WriteOp::Delete(ids), audit, derived)
                    .await?;
            }
            // No write: the levels the new day changed (overdue dangers)
            // are recorded alone, before the new world is published.
            Change::Today(_) => store.record_changes(derived).await?,
        }
        Ok(())
    }
}

impl ReadinessProgress<'_> {
    fn step_loading(&self, c: Collection, i: usize) {
        riskmap_world::Progress::step(
            self,
            &format!("reading {c}"),
            0.05 * i as f64 / Collection::ALL.len() as f64,
        );
    }
}

/// How long the writer waits for readers to let go of the previous
/// snapshot before it clones the current one instead.
const RECLAIM_WAIT: Duration = Duration::from_millis(500);

/// The next world to change: the spare brought up to date when no reader
/// holds it any more, else a clone of the current world.
fn reclaim(spare: Option<Arc<World>>, pending: &[Change], current: &World) -> World {
    if let Some(mut spare) = spare {
        let started = Instant::now();
        loop {
            match Arc::try_unwrap(spare) {
                Ok(mut world) => {
                    for change in pending {
                        world.apply(change);
                    }
                    if world.version() == current.version() {
                        return world;
                    }
                    tracing::warn!("the spare world is out of step; cloning");
                    break;
                }
                Err(shared) if started.elapsed() < RECLAIM_WAIT => {
                    spare = shared;
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(_) => break,
            }
        }
    }
    current.clone()
}

#[cfg(test)]
mod tests;

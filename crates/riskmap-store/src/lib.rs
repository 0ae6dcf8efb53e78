//! Storage of riskmap (数据存储): the source of truth for every feature.
//!
//! # Layout
//! - [`Store`]: the one storage trait. Every backend passes the same
//!   conformance suite (`tests/conformance.rs`).
//! - [`sqlite`]: the embedded default, a SQLite file under `--data-dir`.
//! - [`postgres`]: PostGIS, for shared and production use.
//! - [`codec`]: how a [`Feature`] becomes a row and back.
//! - [`log`]: the change log every write appends to, and [`Watch`], which
//!   says when another process may have written.
//! - [`access`]: accounts, hashed tokens and the audit log, written in the
//!   transaction of the write they describe.
//! - [`history`]: the kept history of derived changes (levels, violations),
//!   written in the transaction of the write that caused them.
//!
//! Only this crate knows SQL. Writes are transactional: an import lands whole
//! or not at all, also when the process is killed in the middle of it.
#![warn(missing_docs)]

pub mod access;
pub mod codec;
pub mod gpkg;
pub mod history;
pub mod log;
pub mod postgres;
pub mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use geo::{Intersects, Rect};
use riskmap_core::{Collection, Feature};

pub use access::{AuditEntry, AuditQuery, AuditRow, StoredAccount, TokenRecord, WriteOp};
pub use history::{DerivedChange, DerivedQuery, DerivedRow};
pub use log::{LoggedChange, Watch};
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Storage errors.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row could not be decoded (the database was edited by hand?).
    #[error("corrupt row {collection}/{id}: {message}")]
    Corrupt {
        /// Collection of the row.
        collection: Collection,
        /// Id of the row.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// A stored account could not be decoded.
    #[error("corrupt account {name}: {message}")]
    CorruptAccount {
        /// The account.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A stored incident could not be encoded or decoded.
    #[error("corrupt incident {id}: {message}")]
    CorruptIncident {
        /// The incident.
        id: String,
        /// What is wrong.
        message: String,
    },
    /// A change-log row could not be decoded.
    #[error("corrupt change-log row {seq}: {message}")]
    CorruptLog {
        /// Position of the row.
        seq: u64,
        /// What is wrong.
        message: String,
    },
    /// The data directory could not be created.
    #[error("cannot create data directory {1}: {0}")]
    DataDir(#[source] std::io::Error, PathBuf),
    /// An insert of new features met ids that exist (perhaps written by
    /// another process a moment earlier); nothing was stored.
    #[error("{} feature(s) of {collection} already exist: {}", ids.len(), ids.join(", "))]
    Exists {
        /// Collection of the features.
        collection: Collection,
        /// The ids that exist (at most the first 10).
        ids: Vec<String>,
    },
}

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Features that did not exist before.
    pub inserted: usize,
    /// Features that replaced one with the same id.
    pub replaced: usize,
}

/// Progress callback for long imports: `(written, total)`.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Send + Sync);

/// The storage trait: the same behaviour on every backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Backend name (`sqlite` or `postgis`).
    fn backend(&self) -> &'static str;

    /// Number of features in a collection.
    async fn count(&self, collection: Collection) -> StoreResult<u64>;

    /// One feature by id.
    async fn get(&self, collection: Collection, id: &str) -> StoreResult<Option<Feature>>;

    /// Every feature of a collection, ordered by id.
    async fn all(&self, collection: Collection) -> StoreResult<Vec<Feature>>;

    /// Features whose geometry intersects `bbox` (WGS84; touching counts), ordered by id.
    async fn query_bbox(
        &self,
        collection: Collection,
        bbox: Rect<f64>,
    ) -> StoreResult<Vec<Feature>>;

    /// Inserts or replaces `features` (all of `collection`) in one transaction:
    /// on any error, and if the process dies, nothing of it is stored.
    async fn import(
        &self,
        collection: Collection,
        features: &[Feature],
        progress: Option<Progress<'_>>,
    ) -> StoreResult<ImportSummary> {
        self.import_audited(collection, features, progress, &[])
            .await
    }

    /// [`Store::import`] with audit entries, stored in the same transaction.
    async fn import_audited(
        &self,
        collection: Collection,
        features: &[Feature],
        progress: Option<Progress<'_>>,
        audit: &[AuditEntry],
    ) -> StoreResult<ImportSummary>;

    /// Inserts new `features` (all of `collection`) in one transaction. If
    /// any id exists when the transaction writes it (also one another
    /// process stored a moment earlier), nothing is stored:
    /// [`StoreError::Exists`] names the ids.
    async fn insert(&self, collection: Collection, features: &[Feature]) -> StoreResult<()>;

    /// Inserts or replaces one feature; returns the one it replaced.
    async fn put(&self, feature: &Feature) -> StoreResult<Option<Feature>>;

    /// Deletes one feature; returns it if it existed.
    async fn delete(&self, collection: Collection, id: &str) -> StoreResult<Option<Feature>>;

    /// One write of `collection` and its audit entries, in one
    /// transaction: both land or neither. [`WriteOp::Insert`] refuses ids
    /// that exist ([`StoreError::Exists`]); [`WriteOp::Delete`] of ids that
    /// do not exist deletes nothing and records nothing for them.
    async fn write(
        &self,
        collection: Collection,
        op: WriteOp<'_>,
        audit: &[AuditEntry],
    ) -> StoreResult<ImportSummary> {
        self.write_with_changes(collection, op, audit, &[]).await
    }

    /// [`Store::write`] with the derived changes it caused (levels,
    /// violations), all in one transaction: the write, its audit entries
    /// and its derived changes land together or not at all. A delete that
    /// deletes nothing records nothing.
    async fn write_with_changes(
        &self,
        collection: Collection,
        op: WriteOp<'_>,
        audit: &[AuditEntry],
        derived: &[DerivedChange],
    ) -> StoreResult<ImportSummary>;

    /// Records derived changes that no write caused (the day's rollover
    /// rescoring overdue dangers), in one transaction.
    async fn record_changes(&self, derived: &[DerivedChange]) -> StoreResult<()>;

    /// Derived changes in a time window (and box), oldest first.
    async fn derived_changes(&self, query: &DerivedQuery) -> StoreResult<Vec<DerivedRow>>;

    /// Audit rows, oldest first.
    async fn audit_log(&self, query: &AuditQuery) -> StoreResult<Vec<AuditRow>>;

    /// Creates or replaces an account, with its audit entry.
    async fn put_account(&self, account: &StoredAccount, audit: &AuditEntry) -> StoreResult<()>;

    /// Every account, by name.
    async fn accounts(&self) -> StoreResult<Vec<StoredAccount>>;

    /// One account.
    async fn account(&self, name: &str) -> StoreResult<Option<StoredAccount>>;

    /// Stores a new token (its hash), with an optional audit entry.
    async fn add_token(&self, token: &TokenRecord, audit: Option<&AuditEntry>) -> StoreResult<()>;

    /// The token with this hash and its account, whether or not it is
    /// still valid (the caller checks expiry, revocation and the account).
    async fn token(&self, hash: &str) -> StoreResult<Option<(StoredAccount, TokenRecord)>>;

    /// The tokens of an account, newest first.
    async fn tokens(&self, account: &str) -> StoreResult<Vec<TokenRecord>>;

    /// Revokes the account's tokens whose hash starts with `id` (all of
    /// them when `None`) that are not revoked yet; returns how many. The
    /// audit entry is stored only when at least one was revoked.
    async fn revoke_tokens(
        &self,
        account: &str,
        id: Option<&str>,
        audit: &AuditEntry,
    ) -> StoreResult<u64>;

    /// Creates or replaces an incident, with its audit entry, in one
    /// transaction.
    async fn put_incident(
        &self,
        incident: &access::StoredIncident,
        audit: &AuditEntry,
    ) -> StoreResult<()>;

    /// Every incident, newest first.
    async fn incidents(&self) -> StoreResult<Vec<access::StoredIncident>>;

    /// One incident.
    async fn incident(&self, id: &str) -> StoreResult<Option<access::StoredIncident>>;

    /// This handle's writer id, recorded with each of its writes in the
    /// change log (so a server can skip its own).
    fn origin(&self) -> &str;

    /// The newest change-log position (0 when the log is empty).
    async fn last_change(&self) -> StoreResult<u64>;

    /// Up to `limit` logged changes after position `after`, oldest first.
    async fn changes_since(&self, after: u64, limit: usize) -> StoreResult<Vec<LoggedChange>>;

    /// A [`Watch`] on the change log: PostGIS listens for notifications,
    /// SQLite polls.
    async fn watch(&self) -> StoreResult<Watch>;
}

/// Where the data lives.
#[derive(Debug, Clone)]
pub enum StoreConfig {
    /// Embedded SQLite in this directory (`riskmap.sqlite` inside it).
    Sqlite {
        /// The data directory (`--data-dir`).
        dir: PathBuf,
    },
    /// PostGIS at this URL (`--database-url`).
    Postgres {
        /// `postgres://…` connection URL.
        url: String,
    },
}

/// Opens (creating and migrating when needed) the configured store.
pub async fn open(config: &StoreConfig) -> StoreResult<Arc<dyn Store>> {
    Ok(match config {
        StoreConfig::Sqlite { dir } => Arc::new(SqliteStore::open(dir).await?),
        StoreConfig::Postgres { url } => Arc::new(PostgresStore::connect(url).await?),
    })
}

/// Exact bbox filter shared by backends whose index only pre-filters by box.
pub(crate) fn intersects_bbox(feature: &Feature, bbox: &Rect<f64>) -> bool {
    feature.geometry.intersects(bbox)
}

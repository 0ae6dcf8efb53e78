//! The embedded default backend: SQLite (bundled) in WAL mode.
//!
//! Geometries are GeoJSON text with their bounding box in four indexed
//! columns; a bbox query pre-filters on those columns and keeps the features
//! whose geometry really intersects the box.
//!
//! Every write appends to `change_log` in its transaction; another process
//! on the same file (a server while `riskmap import` runs) polls it.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use geo::{CoordsIter, Rect};
use riskmap_core::{Collection, Feature};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row};

use crate::access::{AuditEntry, AuditQuery, AuditRow, StoredAccount, TokenRecord, WriteOp};
use crate::codec::{
    decode, geometry_from_geojson, geometry_to_geojson, properties_json, updated_stamp,
};
use crate::history::{DerivedChange, DerivedQuery, DerivedRow, bbox_columns, query_box};
use crate::log::{LoggedChange, Watch, collection_of, logged_ids, new_origin};
use crate::{ImportSummary, Progress, Store, StoreError, StoreResult, intersects_bbox};

/// SQLite store in a data directory.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: PathBuf,
    origin: Arc<str>,
}

/// How often a watch polls the change log.
const WATCH_POLL: Duration = Duration::from_secs(1);

/// What an insert does when the id exists: replace the row.
const UPSERT_TAIL: &str = " ON CONFLICT(id) DO UPDATE SET name = excluded.name, \
     geometry = excluded.geometry, properties = excluded.properties, minx = excluded.minx, \
     miny = excluded.miny, maxx = excluded.maxx, maxy = excluded.maxy, \
     updated_at = excluded.updated_at";

/// Rows per `INSERT` of an import (9 parameters each, well under SQLite's
/// 32,766).
const IMPORT_BATCH: usize = 500;

/// An import reports progress every this many rows.
const PROGRESS_EVERY: usize = 10_000;

/// Rejects non-finite coordinates: GeoJSON has no NaN or infinity (they would
/// be written as `null` and the row could not be read back).
fn check_finite(feature: &Feature) -> StoreResult<()> {
    match feature
        .geometry
        .coords_iter()
        .find(|c| !(c.x.is_finite() && c.y.is_finite()))
    {
        None => Ok(()),
        Some(c) => Err(StoreError::Database(sqlx::Error::Encode(
            format!(
                "{}/{}: non-finite coordinate ({}, {}) in geometry",
                feature.collection(),
                feature.id,
                c.x,
                c.y
            )
            .into(),
        ))),
    }
}

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "riskmap.sqlite";

impl SqliteStore {
    /// Opens `dir/riskmap.sqlite`, creating the directory and the database and
    /// running migrations when needed.
    pub async fn open(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::DataDir(e, dir.to_path_buf()))?;
        let path = dir.join(DB_FILE);
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await?;
        sqlx::migrate!("../../migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool,
            path,
            origin: new_origin().into(),
        })
    }

    /// Appends the write to the change log (in the write's transaction).
    async fn log(
        &self,
        tx: &mut sqlx::SqliteConnection,
        collection: Collection,
        ids: Option<Vec<String>>,
    ) -> StoreResult<()> {
        let ids = ids.map(|ids| serde_json::Value::from(ids).to_string());
        sqlx::query("INSERT INTO change_log (origin, collection, ids) VALUES (?1, ?2, ?3)")
            .bind(&*self.origin)
            .bind(collection.as_str())
            .bind(ids)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn row_to_feature(
        collection: Collection,
        row: &sqlx::sqlite::SqliteRow,
    ) -> StoreResult<Feature> {
        let id: String = row.try_get("id")?;
        let geometry: String = row.try_get("geometry")?;
        let properties: String = row.try_get("properties")?;
        let updated: String = row.try_get("updated_at")?;
        let geometry = geometry_from_geojson(collection, &id, &geometry)?;
        let properties = serde_json::from_str(&properties).map_err(|e| StoreError::Corrupt {
            collection,
            id: id.clone(),
            message: format!("properties: {e}"),
        })?;
        decode(collection, id, geometry, properties, Some(updated))
    }

    async fn upsert<'e, E>(executor: E, feature: &Feature) -> StoreResult<()>
    where
        E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
    {
        check_finite(feature)?;
        let b = feature.bbox();
        let sql = format!(
            "INSERT INTO {t} (id, name, geometry, properties, minx, miny, maxx, maxy, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9){UPSERT_TAIL}",
            t = feature.collection().as_str()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(&feature.id)
            .bind(feature.record.name())
            .bind(geometry_to_geojson(&feature.geometry))
            .bind(properties_json(feature).to_string())
            .bind(b.min().x)
            .bind(b.min().y)
            .bind(b.max().x)
            .bind(b.max().y)
            .bind(updated_stamp(feature))
            .execute(executor)
            .await?;
        Ok(())
    }
    /// Writes `features` in one transaction and logs them. With `new_only`,
    /// ids that exist refuse the whole write with [`StoreError::Exists`]
    /// (checked inside the transaction, which holds SQLite's write lock, so
    /// no other process can insert one meanwhile).
    async fn write_many(
        &self,
        collection: Collection,
        features: &[Feature],
        progress: Option<Progress<'_>>,
        new_only: bool,
        audit: &[AuditEntry],
        derived: &[DerivedChange],
    ) -> StoreResult<ImportSummary> {
        // IMMEDIATE takes the write lock up front, so a second writer waits out
        // the busy timeout instead of failing when it upgrades from a read.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let table = collection.as_str();
        let count_sql = format!("SELECT COUNT(*) FROM {table}");
        let before: i64 = sqlx::query_scalar(AssertSqlSafe(count_sql.clone()))
            .fetch_one(&mut *tx)
            .await?;
        if new_only {
            let mut existing = Vec::new();
            for batch in features.chunks(IMPORT_BATCH) {
                let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
                    "SELECT id FROM {table} WHERE id IN ("
                ));
                let mut ids = q.separated(", ");
                for f in batch {
                    ids.push_bind(f.id.clone());
                }
                q.push(") ORDER BY id LIMIT 10");
                let found: Vec<String> = q.build_query_scalar().fetch_all(&mut *tx).await?;
                existing.extend(found);
            }
            if !existing.is_empty() {
                existing.truncate(10);
                return Err(StoreError::Exists {
                    collection,
                    ids: existing,
                });
            }
        }
        // Many rows per statement: one round trip to SQLite's thread per
        // batch instead of two per row.
        let mut done = 0;
        for batch in features.chunks(IMPORT_BATCH) {
            let mut rows = Vec::with_capacity(batch.len());
            for f in batch {
                debug_assert_eq!(f.collection(), collection);
                check_finite(f)?;
                rows.push((
                    f,
                    geometry_to_geojson(&f.geometry),
                    properties_json(f).to_string(),
                    f.bbox(),
                    updated_stamp(f),
                ));
            }
            let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(format!(
                "INSERT INTO {table} (id, name, geometry, properties, minx, miny, maxx, maxy, updated_at) "
            ));
            q.push_values(rows, |mut b, (f, geometry, properties, bbox, updated)| {
                b.push_bind(f.id.clone())
                    .push_bind(f.record.name().map(str::to_string))
                    .push_bind(geometry)
                    .push_bind(properties)
                    .push_bind(bbox.min().x)
                    .push_bind(bbox.min().y)
                    .push_bind(bbox.max().x)
                    .push_bind(bbox.max().y)
                    .push_bind(updated);
            });
            q.push(UPSERT_TAIL);
            q.build().execute(&mut *tx).await?;
            let reported = done / PROGRESS_EVERY;
            done += batch.len();
            if let Some(p) = progress
                && done / PROGRESS_EVERY > reported
            {
                p(done, features.len());
            }
        }
        let after: i64 = sqlx::query_scalar(AssertSqlSafe(count_sql))
            .fetch_one(&mut *tx)
            .await?;
        let inserted = usize::try_from(after - before).unwrap_or(0);
        let summary = ImportSummary {
            inserted,
            replaced: features.len().saturating_sub(inserted),
        };
        self.log(
            &mut tx,
            collection,
            logged_ids(features.iter().map(|f| f.id.as_str())),
        )
        .await?;
        append_audit(&mut tx, audit).await?;
        append_derived(&mut tx, derived).await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// Deletes `ids` in one transaction, logging those that existed.
    async fn delete_many(
        &self,
        collection: Collection,
        ids: &[String],
        audit: &[AuditEntry],
        derived: &[DerivedChange],
    ) -> StoreResult<Vec<Feature>> {
        let sql = format!(
            "DELETE FROM {} WHERE id = ?1 RETURNING id, geometry, properties, updated_at",
            collection.as_str()
        );
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let mut gone = Vec::new();
        for id in ids {
            let row = sqlx::query(AssertSqlSafe(sql.clone()))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(r) = row {
                gone.push(Self::row_to_feature(collection, &r)?);
            }
        }
        if !gone.is_empty() {
            self.log(
                &mut tx,
                collection,
                Some(gone.iter().map(|f| f.id.clone()).collect()),
            )
            .await?;
            append_audit(&mut tx, audit).await?;
            append_derived(&mut tx, derived).await?;
        }
        tx.commit().await?;
        Ok(gone)
    }
}

/// Derived changes in a window and box, after a position.
const DERIVED_QUERY: &str = "SELECT seq, at, kind, collection, item_id, minx, miny, maxx, maxy, \
     detail FROM derived_changes WHERE seq > ?1 AND at >= ?2 AND at < ?3 AND (?4 IS NULL OR \
     (minx <= ?6 AND maxx >= ?4 AND miny <= ?7 AND maxy >= ?5)) ORDER BY seq LIMIT ?8";

/// Rows per `INSERT` of derived changes (9 parameters each).
const DERIVED_BATCH: usize = 500;

/// Appends derived changes in the write's transaction.
async fn append_derived(
    tx: &mut sqlx::SqliteConnection,
    derived: &[DerivedChange],
) -> StoreResult<()> {
    for batch in derived.chunks(DERIVED_BATCH) {
        let mut q = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO derived_changes (at, kind, collection, item_id, minx, miny, maxx, maxy, \
             detail) ",
        );
        q.push_values(batch, |mut b, d| {
            let [x0, y0, x1, y1] = bbox_columns(d.bbox);
            b.push_bind(d.at.clone())
                .push_bind(d.kind.clone())
                .push_bind(d.collection.clone())
                .push_bind(d.id.clone())
                .push_bind(x0)
                .push_bind(y0)
                .push_bind(x1)
                .push_bind(y1)
                .push_bind(d.detail.clone());
        });
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// Appends audit entries in the write's transaction.
async fn append_audit(tx: &mut sqlx::SqliteConnection, audit: &[AuditEntry]) -> StoreResult<()> {
    for a in audit {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, collection, item_id, before, after) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .bind(&a.at)
        .bind(&a.actor)
        .bind(&a.action)
        .bind(&a.collection)
        .bind(&a.id)
        .bind(&a.before)
        .bind(&a.after)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn incident_of(r: &sqlx::sqlite::SqliteRow) -> StoreResult<crate::access::StoredIncident> {
    let id: String = r.try_get("id")?;
    let record: String = r.try_get("record")?;
    serde_json::from_str(&record).map_err(|e| StoreError::CorruptIncident {
        id,
        message: e.to_string(),
    })
}

fn account_of(r: &sqlx::sqlite::SqliteRow) -> StoreResult<StoredAccount> {
    let name: String = r.try_get("name")?;
    let role: String = r.try_get("role")?;
    let districts: String = r.try_get("districts")?;
    let corrupt = |message: String| StoreError::CorruptAccount {
        name: name.clone(),
        message,
    };
    Ok(StoredAccount {
        account: riskmap_core::access::Account {
            role: role.parse().map_err(corrupt)?,
            districts: serde_json::from_str(&districts)
                .map_err(|e| corrupt(format!("districts: {e}")))?,
            credit_code: r.try_get("credit_code")?,
            name: name.clone(),
        },
        password_hash: r.try_get("password_hash")?,
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
    })
}

fn token_of(r: &sqlx::sqlite::SqliteRow) -> StoreResult<TokenRecord> {
    let hash: String = r.try_get("hash")?;
    Ok(TokenRecord {
        id: hash.chars().take(8).collect(),
        hash,
        account: r.try_get("account")?,
        label: r.try_get("label")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

const ACCOUNT_COLUMNS: &str =
    "name, role, districts, credit_code, password_hash, created_at, disabled_at";
const TOKEN_COLUMNS: &str = "hash, account, label, created_at, expires_at, revoked_at";

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn count(&self, collection: Collection) -> StoreResult<u64> {
        let sql = format!("SELECT COUNT(*) FROM {}", collection.as_str());
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    async fn get(&self, collection: Collection, id: &str) -> StoreResult<Option<Feature>> {
        let sql = format!(
            "SELECT id, geometry, properties, updated_at FROM {} WHERE id = ?1",
            collection.as_str()
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Self::row_to_feature(collection, &r))
            .transpose()
    }

    async fn all(&self, collection: Collection) -> StoreResult<Vec<Feature>> {
        let sql = format!(
            "SELECT id, geometry, properties, updated_at FROM {} ORDER BY id",
            collection.as_str()
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Self::row_to_feature(collection, r))
            .collect()
    }

    async fn query_bbox(
        &self,
        collection: Collection,
        bbox: Rect<f64>,
    ) -> StoreResult<Vec<Feature>> {
        let sql = format!(
            "SELECT id, geometry, properties, updated_at FROM {} \
             WHERE minx <= ?1 AND maxx >= ?2 AND miny <= ?3 AND maxy >= ?4 ORDER BY id",
            collection.as_str()
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(bbox.max().x)
            .bind(bbox.min().x)
            .bind(bbox.max().y)
            .bind(bbox.min().y)
            .fetch_all(&self.pool)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            let f = Self::row_to_feature(collection, r)?;
            if intersects_bbox(&f, &bbox) {
                out.push(f);
            }
        }
        Ok(out)
    }

    async fn import_audited(
        &self,
        collection: Collection,
        features: &[Feature],
        progress: Option<Progress<'_>>,
        audit: &[AuditEntry],
    ) -> StoreResult<ImportSummary> {
        self.write_many(collection, features, progress, false, audit, &[])
            .await
    }

    async fn insert(&self, collection: Collection, features: &[Feature]) -> StoreResult<()> {
        self.write_many(collection, features, None, true, &[], &[])
            .await
            .map(|_| ())
    }

    async fn write_with_changes(
        &self,
        collection: Collection,
        op: WriteOp<'_>,
        audit: &[AuditEntry],
        derived: &[DerivedChange],
    ) -> StoreResult<ImportSummary> {
        match op {
            WriteOp::Upsert(f) => {
                self.write_many(collection, f, None, false, audit, derived)
                    .await
            }
            WriteOp::Insert(f) => {
                self.write_many(collection, f, None, true, audit, derived)
                    .await
            }
            WriteOp::Delete(ids) => {
                self.delete_many(collection, ids, audit, derived).await?;
                Ok(ImportSummary::default())
            }
        }
    }

    async fn record_changes(&self, derived: &[DerivedChange]) -> StoreResult<()> {
        if derived.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        append_derived(&mut tx, derived).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn derived_changes(&self, q: &DerivedQuery) -> StoreResult<Vec<DerivedRow>> {
        let [x0, y0, x1, y1] = query_box(q.bbox);
        let rows = sqlx::query(DERIVED_QUERY)
            .bind(q.after as i64)
            .bind(&q.since)
            .bind(&q.until)
            .bind(x0)
            .bind(y0)
            .bind(x1)
            .bind(y1)
            .bind(q.limit.clamp(1, 1000) as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let bbox = match (
                    r.try_get::<Option<f64>, _>("minx")?,
                    r.try_get::<Option<f64>, _>("miny")?,
                    r.try_get::<Option<f64>, _>("maxx")?,
                    r.try_get::<Option<f64>, _>("maxy")?,
                ) {
                    (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
                    _ => None,
                };
                Ok(DerivedRow {
                    seq: r.try_get::<i64, _>("seq")? as u64,
                    change: DerivedChange {
                        at: r.try_get("at")?,
                        kind: r.try_get("kind")?,
                        collection: r.try_get("collection")?,
                        id: r.try_get("item_id")?,
                        bbox,
                        detail: r.try_get("detail")?,
                    },
                })
            })
            .collect()
    }

    async fn audit_log(&self, q: &AuditQuery) -> StoreResult<Vec<AuditRow>> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, collection, item_id, before, after FROM audit_log \
             WHERE seq > ?1 AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR collection = ?3) \
             AND (?4 IS NULL OR item_id = ?4) AND (?6 IS NULL OR at >= ?6) \
             AND (?7 IS NULL OR at < ?7) ORDER BY seq LIMIT ?5",
        )
        .bind(q.after as i64)
        .bind(&q.actor)
        .bind(&q.collection)
        .bind(&q.id)
        .bind(q.limit.clamp(1, 1000) as i64)
        .bind(&q.since)
        .bind(&q.until)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    seq: r.try_get::<i64, _>("seq")? as u64,
                    entry: AuditEntry {
                        at: r.try_get("at")?,
                        actor: r.try_get("actor")?,
                        action: r.try_get("action")?,
                        collection: r.try_get("collection")?,
                        id: r.try_get("item_id")?,
                        before: r.try_get("before")?,
                        after: r.try_get("after")?,
                    },
                })
            })
            .collect()
    }

    async fn put_account(&self, a: &StoredAccount, audit: &AuditEntry) -> StoreResult<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO accounts (name, role, districts, credit_code, password_hash, created_at, \
             disabled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(name) DO UPDATE SET \
             role = excluded.role, districts = excluded.districts, credit_code = \
             excluded.credit_code, password_hash = excluded.password_hash, disabled_at = \
             excluded.disabled_at",
        )
        .bind(&a.account.name)
        .bind(a.account.role.as_str())
        .bind(serde_json::Value::from(a.account.districts.clone()).to_string())
        .bind(&a.account.credit_code)
        .bind(&a.password_hash)
        .bind(&a.created_at)
        .bind(&a.disabled_at)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn accounts(&self) -> StoreResult<Vec<StoredAccount>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY name");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account_of).collect()
    }

    async fn account(&self, name: &str) -> StoreResult<Option<StoredAccount>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = ?1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_of).transpose()
    }

    async fn add_token(&self, t: &TokenRecord, audit: Option<&AuditEntry>) -> StoreResult<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO tokens (hash, account, label, created_at, expires_at, revoked_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&t.hash)
        .bind(&t.account)
        .bind(&t.label)
        .bind(&t.created_at)
        .bind(&t.expires_at)
        .bind(&t.revoked_at)
        .execute(&mut *tx)
        .await?;
        if let Some(a) = audit {
            append_audit(&mut tx, std::slice::from_ref(a)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn token(&self, hash: &str) -> StoreResult<Option<(StoredAccount, TokenRecord)>> {
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = ?1");
        let Some(row) = sqlx::query(AssertSqlSafe(sql))
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let token = token_of(&row)?;
        Ok(self.account(&token.account).await?.map(|a| (a, token)))
    }

    async fn put_incident(
        &self,
        incident: &crate::access::StoredIncident,
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let record = serde_json::to_string(incident).map_err(|e| StoreError::CorruptIncident {
            id: incident.id.clone(),
            message: e.to_string(),
        })?;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO incidents (id, status, created_at, record) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record",
        )
        .bind(&incident.id)
        .bind(&incident.status)
        .bind(&incident.created_at)
        .bind(record)
        .execute(&mut *tx)
        .await?;
        append_audit(&mut tx, std::slice::from_ref(audit)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn incidents(&self) -> StoreResult<Vec<crate::access::StoredIncident>> {
        let rows = sqlx::query(
            "SELECT id, record AS record FROM incidents ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(incident_of).collect()
    }

    async fn incident(&self, id: &str) -> StoreResult<Option<crate::access::StoredIncident>> {
        let row = sqlx::query("SELECT id, record AS record FROM incidents WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(incident_of).transpose()
    }

    async fn tokens(&self, account: &str) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE account = ?1 ORDER BY created_at DESC"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(account)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token_of).collect()
    }

    async fn revoke_tokens(
        &self,
        account: &str,
        id: Option<&str>,
        audit: &AuditEntry,
    ) -> StoreResult<u64> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let n = sqlx::query(
            "UPDATE tokens SET revoked_at = ?1 WHERE account = ?2 AND revoked_at IS NULL \
             AND (?3 IS NULL OR substr(hash, 1, length(?3)) = ?3)",
        )
        .bind(&audit.at)
        .bind(account)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            append_audit(&mut tx, std::slice::from_ref(audit)).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    async fn put(&self, feature: &Feature) -> StoreResult<Option<Feature>> {
        let collection = feature.collection();
        // IMMEDIATE takes the write lock up front, so a second writer waits out
        // the busy timeout instead of failing when it upgrades from a read.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let sql = format!(
            "SELECT id, geometry, properties, updated_at FROM {} WHERE id = ?1",
            collection.as_str()
        );
        let old = sqlx::query(AssertSqlSafe(sql))
            .bind(&feature.id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| Self::row_to_feature(collection, &r))
            .transpose()?;
        Self::upsert(&mut *tx, feature).await?;
        self.log(&mut tx, collection, Some(vec![feature.id.clone()]))
            .await?;
        tx.commit().await?;
        Ok(old)
    }

    async fn delete(&self, collection: Collection, id: &str) -> StoreResult<Option<Feature>> {
        let sql = format!(
            "DELETE FROM {} WHERE id = ?1 RETURNING id, geometry, properties, updated_at",
            collection.as_str()
        );
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let old = row
            .map(|r| Self::row_to_feature(collection, &r))
            .transpose()?;
        if old.is_some() {
            self.log(&mut tx, collection, Some(vec![id.to_string()]))
                .await?;
        }
        tx.commit().await?;
        Ok(old)
    }

    fn origin(&self) -> &str {
        &self.origin
    }

    async fn last_change(&self) -> StoreResult<u64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT max(seq) FROM change_log")
            .fetch_one(&self.pool)
            .await?;
        Ok(seq.unwrap_or(0) as u64)
    }

    async fn changes_since(&self, after: u64, limit: usize) -> StoreResult<Vec<LoggedChange>> {
        let rows = sqlx::query(
            "SELECT seq, origin, collection, ids FROM change_log WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )
        .bind(after as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let seq = r.try_get::<i64, _>("seq")? as u64;
                let collection: String = r.try_get("collection")?;
                let ids: Option<String> = r.try_get("ids")?;
                let ids = ids
                    .map(|t| serde_json::from_str::<Vec<String>>(&t))
                    .transpose()
                    .map_err(|e| StoreError::CorruptLog {
                        seq,
                        message: format!("ids: {e}"),
                    })?;
                Ok(LoggedChange {
                    seq,
                    origin: r.try_get("origin")?,
                    collection: collection_of(seq, &collection)?,
                    ids,
                })
            })
            .collect()
    }

    async fn watch(&self) -> StoreResult<Watch> {
        Ok(Watch::polling(WATCH_POLL))
    }
}

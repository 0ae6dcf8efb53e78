//! PostGIS backend: one table per collection with a `geometry(Geometry, 4326)`
//! column and a GiST index; properties in `jsonb`.
//!
//! Geometries cross the wire as GeoJSON (`ST_GeomFromGeoJSON` in,
//! `ST_AsGeoJSON(geom, 15)` out: 15 decimals, about 0.1 nm); bbox queries use
//! the index (`&&`) and `ST_Intersects` for the exact test. The query box is
//! built as a `box2d` cast to geometry, which stays exact for degenerate
//! (zero-width or zero-height) boxes, where `ST_MakeEnvelope` yields a collapsed
//! polygon that intersects nothing. Results are ordered by id bytewise
//! (`COLLATE "C"`), as on SQLite, whatever the database's collation.
//!
//! Every write appends to `change_log` in its transaction and sends
//! `NOTIFY riskmap_changes` (delivered on commit). Just before that it takes
//! one transaction-scoped advisory lock, held only through the commit, so
//! log positions follow commit order across servers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use geo::{CoordsIter, Rect};
use riskmap_core::{Collection, Feature};
use sqlx::postgres::{PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Row};
use tokio::sync::Notify;

use crate::access::{AuditEntry, AuditQuery, AuditRow, StoredAccount, TokenRecord, WriteOp};
use crate::codec::{
    decode, geometry_from_geojson, geometry_to_geojson, properties_json, updated_stamp,
};
use crate::history::{DerivedChange, DerivedQuery, DerivedRow, bbox_columns, query_box};
use crate::log::{CHANNEL, LoggedChange, Watch, logged_ids, new_origin};
use crate::{ImportSummary, Progress, Store, StoreError, StoreResult};

/// A PostGIS database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    origin: Arc<str>,
}

/// Advisory lock key that orders change-log positions by commit.
const LOG_LOCK: i64 = 0x0072_6973_6b6d_6170; // "riskmap"

/// How often a watch polls the log even without notifications.
const WATCH_POLL: Duration = Duration::from_secs(5);

const SELECT: &str = "SELECT id, ST_AsGeoJSON(geom, 15) AS geometry, \
     properties::text AS properties, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS updated_at";

/// The query box `($1, $2)–($3, $4)`: a point or line when degenerate.
const BOX: &str = "ST_SetSRID(ST_MakeBox2D(ST_Point($1, $2), ST_Point($3, $4))::geometry, 4326)";

/// Rejects non-finite coordinates: GeoJSON has no NaN or infinity (they would
/// be written as `null`), and PostGIS would silently read `null` as 0.
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

impl PostgresStore {
    /// Connects and runs the migrations in `migrations/postgres` (which enable
    /// the `postgis` extension when it is not yet).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        sqlx::migrate!("../../migrations/postgres")
            .run(&pool)
            .await?;
        Ok(Self {
            pool,
            origin: new_origin().into(),
        })
    }

    /// Appends the write to the change log and notifies listeners (on
    /// commit); call last in the write's transaction.
    async fn log(
        &self,
        tx: &mut PgConnection,
        collection: Collection,
        ids: Option<Vec<String>>,
    ) -> StoreResult<()> {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(LOG_LOCK)
            .execute(&mut *tx)
            .await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO change_log (origin, collection, ids) VALUES ($1, $2, $3) RETURNING seq",
        )
        .bind(&*self.origin)
        .bind(collection.as_str())
        .bind(ids)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(seq.to_string())
            .execute(&mut *tx)
            .await?;
        Ok(())
    }

    /// The connection pool (for tests and benchmarks that compare with PostGIS itself).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn row_to_feature(collection: Collection, row: &PgRow) -> StoreResult<Feature> {
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

    /// Inserts or replaces; returns whether the row is new.
    async fn upsert<'e, E>(executor: E, feature: &Feature) -> StoreResult<bool>
    where
        E: sqlx::Executor<'e, Database = sqlx::Postgres>,
    {
        check_finite(feature)?;
        let sql = format!(
            "INSERT INTO {t} (id, name, geom, properties, updated_at) \
             VALUES ($1, $2, ST_SetSRID(ST_GeomFromGeoJSON($3), 4326), $4::jsonb, $5::timestamptz) \
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, geom = EXCLUDED.geom, \
             properties = EXCLUDED.properties, updated_at = EXCLUDED.updated_at \
             RETURNING (xmax = 0) AS inserted",
            t = feature.collection().as_str()
        );
        let inserted: bool = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(&feature.id)
            .bind(feature.record.name())
            .bind(geometry_to_geojson(&feature.geometry))
            .bind(properties_json(feature).to_string())
            .bind(updated_stamp(feature))
            .fetch_one(executor)
            .await?;
        Ok(inserted)
    }

    /// Writes `features` in one transaction and logs them. With `new_only`,
    /// a row that existed (the upsert replaced it: another process may
    /// have inserted it since this server last looked) rolls everything
    /// back with [`StoreError::Exists`].
    async fn write_many(
        &self,
        collection: Collection,
        features: &[Feature],
        progress: Option<Progress<'_>>,
        new_only: bool,
        audit: &[AuditEntry],
        derived: &[DerivedChange],
    ) -> StoreResult<ImportSummary> {
        let mut tx = self.pool.begin().await?;
        let mut summary = ImportSummary::default();
        let mut existing = Vec::new();
        for (i, f) in features.iter().enumerate() {
            debug_assert_eq!(f.collection(), collection);
            if Self::upsert(&mut *tx, f).await? {
                summary.inserted += 1;
            } else {
                summary.replaced += 1;
                if new_only && existing.len() < 10 {
                    existing.push(f.id.clone());
                }
            }
            if let Some(p) = progress
                && (i + 1) % 10_000 == 0
            {
                p(i + 1, features.len());
            }
        }
        if new_only && summary.replaced > 0 {
            // Dropping the transaction rolls it back.
            return Err(StoreError::Exists {
                collection,
                ids: existing,
            });
        }
        append_audit(&mut tx, audit).await?;
        append_derived(&mut tx, derived).await?;
        self.log(
            &mut tx,
            collection,
            logged_ids(features.iter().map(|f| f.id.as_str())),
        )
        .await?;
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
            "DELETE FROM {} WHERE id = $1 RETURNING id, ST_AsGeoJSON(geom, 15) AS geometry, properties::text AS properties, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS updated_at",
            collection.as_str()
        );
        let mut tx = self.pool.begin().await?;
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
            append_audit(&mut tx, audit).await?;
            append_derived(&mut tx, derived).await?;
            self.log(
                &mut tx,
                collection,
                Some(gone.iter().map(|f| f.id.clone()).collect()),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(gone)
    }
}

/// Derived changes in a window and box, after a position (times compare
/// byte-wise).
const DERIVED_QUERY: &str = "SELECT seq, at, kind, collection, item_id, minx, miny, maxx, maxy, \
     detail::text AS detail FROM derived_changes WHERE seq > $1 AND at COLLATE \"C\" >= $2 \
     AND at COLLATE \"C\" < $3 AND ($4::float8 IS NULL OR (minx <= $6::float8 AND maxx >= \
     $4::float8 AND miny <= $7::float8 AND maxy >= $5::float8)) ORDER BY seq LIMIT $8";

/// Rows per `INSERT` of derived changes (9 parameters each).
const DERIVED_BATCH: usize = 500;

/// Appends derived changes in the write's transaction.
async fn append_derived(tx: &mut PgConnection, derived: &[DerivedChange]) -> StoreResult<()> {
    for batch in derived.chunks(DERIVED_BATCH) {
        let mut q = sqlx::QueryBuilder::<sqlx::Postgres>::new(
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
                .push_bind(d.detail.clone())
                .push_unseparated("::json");
        });
        q.build().execute(&mut *tx).await?;
    }
    Ok(())
}

/// Appends audit entries in the write's transaction.
async fn append_audit(tx: &mut PgConnection, audit: &[AuditEntry]) -> StoreResult<()> {
    for a in audit {
        sqlx::query(
            "INSERT INTO audit_log (at, actor, action, collection, item_id, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6::json, $7::json)",
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

fn incident_of(r: &sqlx::postgres::PgRow) -> StoreResult<crate::access::StoredIncident> {
    let id: String = r.try_get("id")?;
    let record: String = r.try_get("record")?;
    serde_json::from_str(&record).map_err(|e| StoreError::CorruptIncident {
        id,
        message: e.to_string(),
    })
}

fn account_of(r: &PgRow) -> StoreResult<StoredAccount> {
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

fn token_of(r: &PgRow) -> StoreResult<TokenRecord> {
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
impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgis"
    }

    async fn count(&self, collection: Collection) -> StoreResult<u64> {
        let sql = format!("SELECT COUNT(*) FROM {}", collection.as_str());
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    async fn get(&self, collection: Collection, id: &str) -> StoreResult<Option<Feature>> {
        let sql = format!("{SELECT} FROM {} WHERE id = $1", collection.as_str());
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Self::row_to_feature(collection, &r))
            .transpose()
    }

    async fn all(&self, collection: Collection) -> StoreResult<Vec<Feature>> {
        let sql = format!(
            "{SELECT} FROM {} ORDER BY id COLLATE \"C\"",
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
            "{SELECT} FROM {} WHERE geom && {BOX} AND ST_Intersects(geom, {BOX}) ORDER BY id COLLATE \"C\"",
            collection.as_str()
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(bbox.min().x)
            .bind(bbox.min().y)
            .bind(bbox.max().x)
            .bind(bbox.max().y)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Self::row_to_feature(collection, r))
            .collect()
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
        let mut tx = self.pool.begin().await?;
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
            "SELECT seq, at, actor, action, collection, item_id, before::text AS before, \
             after::text AS after FROM audit_log WHERE seq > $1 AND ($2::text IS NULL OR actor = $2) \
             AND ($3::text IS NULL OR collection = $3) AND ($4::text IS NULL OR item_id = $4) \
             AND ($6::text IS NULL OR at COLLATE \"C\" >= $6) \
             AND ($7::text IS NULL OR at COLLATE \"C\" < $7) ORDER BY seq LIMIT $5",
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
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO accounts (name, role, districts, credit_code, password_hash, created_at, \
             disabled_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET \
             role = EXCLUDED.role, districts = EXCLUDED.districts, credit_code = \
             EXCLUDED.credit_code, password_hash = EXCLUDED.password_hash, disabled_at = \
             EXCLUDED.disabled_at",
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
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY name COLLATE \"C\"");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(account_of).collect()
    }

    async fn account(&self, name: &str) -> StoreResult<Option<StoredAccount>> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(account_of).transpose()
    }

    async fn add_token(&self, t: &TokenRecord, audit: Option<&AuditEntry>) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tokens (hash, account, label, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
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
        let sql = format!("SELECT {TOKEN_COLUMNS} FROM tokens WHERE hash = $1");
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
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO incidents (id, status, created_at, record) VALUES ($1, $2, $3, $4::json) \
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
            "SELECT id, record::text AS record FROM incidents ORDER BY created_at DESC, id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(incident_of).collect()
    }

    async fn incident(&self, id: &str) -> StoreResult<Option<crate::access::StoredIncident>> {
        let row = sqlx::query("SELECT id, record::text AS record FROM incidents WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(incident_of).transpose()
    }

    async fn tokens(&self, account: &str) -> StoreResult<Vec<TokenRecord>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM tokens WHERE account = $1 ORDER BY created_at DESC"
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
        let mut tx = self.pool.begin().await?;
        let n = sqlx::query(
            "UPDATE tokens SET revoked_at = $1 WHERE account = $2 AND revoked_at IS NULL \
             AND ($3::text IS NULL OR starts_with(hash, $3))",
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
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "{SELECT} FROM {} WHERE id = $1 FOR UPDATE",
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
            "DELETE FROM {} WHERE id = $1 RETURNING id, ST_AsGeoJSON(geom, 15) AS geometry, properties::text AS properties, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS updated_at",
            collection.as_str()
        );
        let mut tx = self.pool.begin().await?;
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
            "SELECT seq, origin, collection, ids FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after as i64)
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq")?;
                let collection: String = r.try_get("collection")?;
                Ok(LoggedChange {
                    seq: seq as u64,
                    origin: r.try_get("origin")?,
                    collection: crate::log::collection_of(seq as u64, &collection)?,
                    ids: r.try_get("ids")?,
                })
            })
            .collect()
    }

    async fn watch(&self) -> StoreResult<Watch> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(CHANNEL).await?;
        let news = Arc::new(Notify::new());
        let task = tokio::spawn(listen(listener, self.pool.clone(), news.clone()));
        Ok(Watch::notified(news, task.abort_handle(), WATCH_POLL))
    }
}

/// Wakes `news` on each notification and after each reconnection (whatever
/// was sent meanwhile is lost; the reader catches up from the log).
async fn listen(mut listener: PgListener, pool: PgPool, news: Arc<Notify>) {
    loop {
        match listener.try_recv().await {
            Ok(Some(_)) => news.notify_one(),
            Ok(None) => {
                tracing::info!("change feed: reconnected to PostgreSQL");
                news.notify_one();
            }
            Err(e) => {
                tracing::warn!("change feed lost ({e}); reconnecting");
                loop {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    match PgListener::connect_with(&pool).await {
                        Ok(mut l) => match l.listen(CHANNEL).await {
                            Ok(()) => {
                                listener = l;
                                break;
                            }
                            Err(e) => tracing::warn!("change feed: LISTEN failed ({e})"),
                        },
                        Err(e) => tracing::warn!("change feed: cannot reconnect ({e})"),
                    }
                }
                tracing::info!("change feed: listening again");
                news.notify_one();
            }
        }
    }
}

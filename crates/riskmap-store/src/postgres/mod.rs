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

use std::time::Duration;

use async_trait::async_trait;
use geo::{CoordsIter, Rect};
use riskmap_core::{Collection, Feature};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Row};

use crate::codec::{decode, geometry_from_geojson, geometry_to_geojson, properties_json};
use crate::{ImportSummary, Progress, Store, StoreError, StoreResult};

/// A PostGIS database.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

const SELECT: &str =
    "SELECT id, ST_AsGeoJSON(geom, 15) AS geometry, properties::text AS properties";

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
        Ok(Self { pool })
    }

    /// The connection pool (for tests and benchmarks that compare with PostGIS itself).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn row_to_feature(collection: Collection, row: &PgRow) -> StoreResult<Feature> {
        let id: String = row.try_get("id")?;
        let geometry: String = row.try_get("geometry")?;
        let properties: String = row.try_get("properties")?;
        let geometry = geometry_from_geojson(collection, &id, &geometry)?;
        let properties = serde_json::from_str(&properties).map_err(|e| StoreError::Corrupt {
            collection,
            id: id.clone(),
            message: format!("properties: {e}"),
        })?;
        decode(collection, id, geometry, properties)
    }

    /// Inserts or replaces; returns whether the row is new.
    async fn upsert<'e, E>(executor: E, feature: &Feature) -> StoreResult<bool>
    where
        E: sqlx::Executor<'e, Database = sqlx::Postgres>,
    {
        check_finite(feature)?;
        let sql = format!(
            "INSERT INTO {t} (id, name, geom, properties) \
             VALUES ($1, $2, ST_SetSRID(ST_GeomFromGeoJSON($3), 4326), $4::jsonb) \
             ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, geom = EXCLUDED.geom, \
             properties = EXCLUDED.properties, updated_at = now() \
             RETURNING (xmax = 0) AS inserted",
            t = feature.collection().as_str()
        );
        let inserted: bool = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(&feature.id)
            .bind(feature.record.name())
            .bind(geometry_to_geojson(&feature.geometry))
            .bind(properties_json(feature).to_string())
            .fetch_one(executor)
            .await?;
        Ok(inserted)
    }
}

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

    async fn import(
        &self,
        collection: Collection,
        features: &[Feature],
        progress: Option<Progress<'_>>,
    ) -> StoreResult<ImportSummary> {
        let mut tx = self.pool.begin().await?;
        let mut summary = ImportSummary::default();
        for (i, f) in features.iter().enumerate() {
            debug_assert_eq!(f.collection(), collection);
            if Self::upsert(&mut *tx, f).await? {
                summary.inserted += 1;
            } else {
                summary.replaced += 1;
            }
            if let Some(p) = progress
                && (i + 1) % 10_000 == 0
            {
                p(i + 1, features.len());
            }
        }
        tx.commit().await?;
        Ok(summary)
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
        tx.commit().await?;
        Ok(old)
    }

    async fn delete(&self, collection: Collection, id: &str) -> StoreResult<Option<Feature>> {
        let sql = format!(
            "DELETE FROM {} WHERE id = $1 RETURNING id, ST_AsGeoJSON(geom, 15) AS geometry, properties::text AS properties",
            collection.as_str()
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Self::row_to_feature(collection, &r))
            .transpose()
    }
}

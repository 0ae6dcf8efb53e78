//! OGC GeoPackage (GeoPackage 1.4, the SQLite container GIS tools exchange
//! layers in) in and out, through the SQLite driver the store already uses.
//!
//! - [`read_gpkg`]: the first feature table listed in `gpkg_contents` (or the
//!   one named like the collection) as a [`Layer`]: its columns but the
//!   primary key and the geometry, its geometries (the GeoPackage binary
//!   header, then WKB read by the `wkb` crate), its CRS from
//!   `gpkg_spatial_ref_sys` (an EPSG code riskmap knows, or the WKT
//!   definition).
//! - [`write_gpkg`]: a [`GisTable`] as one feature table in EPSG:4326 with
//!   `gpkg_spatial_ref_sys`, `gpkg_contents` (with the extent) and
//!   `gpkg_geometry_columns`, the application id `GPKG` and user version
//!   10400, so `ogrinfo` and QGIS open it as a GeoPackage.

use std::path::Path;
use std::str::FromStr;

use geo::BoundingRect;
use riskmap_core::gis::{FieldType, GisTable};
use riskmap_core::import::{Cell, ImportErrors, Layer, LayerRecord};
use riskmap_spatial::Crs;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{AssertSqlSafe, Connection, Decode, Row, Sqlite, SqliteConnection, TypeInfo, ValueRef};

use crate::{StoreError, StoreResult};

/// The application id of a GeoPackage (`GPKG` in ASCII).
pub const APPLICATION_ID: i64 = 0x4750_4B47;

/// EPSG:4326 as GeoPackage's own example defines it.
const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

fn file_error(message: impl Into<String>) -> ImportErrors {
    ImportErrors::file("(gpkg)", message)
}

/// A quoted SQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Reads the feature table of a GeoPackage file (the one named `prefer`
/// when there are several and one is, else the first in `gpkg_contents`).
pub async fn read_gpkg(path: &Path, prefer: Option<&str>) -> Result<Layer, ImportErrors> {
    let options = SqliteConnectOptions::from_str("sqlite://")
        .map_err(|e| file_error(e.to_string()))?
        .filename(path)
        .read_only(true)
        .immutable(true);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| file_error(format!("not a GeoPackage (SQLite) file: {e}")))?;
    let result = read_layer(&mut conn, prefer).await;
    let _ = conn.close().await;
    result
}

/// [`read_gpkg`] of the bytes of a file (an HTTP body), through a
/// temporary file.
pub async fn read_gpkg_bytes(bytes: &[u8], prefer: Option<&str>) -> Result<Layer, ImportErrors> {
    if !bytes.starts_with(b"SQLite format 3\0") {
        return Err(file_error("not a GeoPackage: no SQLite header"));
    }
    let dir = tempfile::tempdir().map_err(|e| file_error(format!("no temporary file: {e}")))?;
    let path = dir.path().join("upload.gpkg");
    tokio::fs::write(&path, bytes)
        .await
        .map_err(|e| file_error(format!("no temporary file: {e}")))?;
    read_gpkg(&path, prefer).await
}

async fn read_layer(
    conn: &mut SqliteConnection,
    prefer: Option<&str>,
) -> Result<Layer, ImportErrors> {
    let db = |e: sqlx::Error| file_error(format!("cannot read the GeoPackage: {e}"));
    let tables: Vec<(String, String, Option<i64>)> = sqlx::query_as(
        "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c \
         JOIN gpkg_geometry_columns g ON g.table_name = c.table_name \
         WHERE c.data_type = 'features' ORDER BY c.rowid",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| {
        file_error(format!(
            "not a GeoPackage (no gpkg_contents with features): {e}"
        ))
    })?;
    let Some((table, geom_col, srs_id)) = prefer
        .and_then(|p| tables.iter().find(|t| t.0.eq_ignore_ascii_case(p)))
        .or_else(|| tables.first())
        .cloned()
    else {
        return Err(file_error("the GeoPackage holds no feature table"));
    };
    // The CRS: an EPSG code riskmap knows, else the definition's WKT.
    let crs = match srs_id {
        Some(id) => {
            let row: Option<(String, i64, String)> = sqlx::query_as(
                "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
            match row {
                Some((org, code, def)) => {
                    let by_code = org
                        .eq_ignore_ascii_case("EPSG")
                        .then(|| u32::try_from(code).ok().and_then(Crs::from_epsg))
                        .flatten();
                    match by_code {
                        Some(c) => Some(c),
                        None if id == 0 || id == -1 => None,
                        None => Some(Crs::from_wkt(&def).map_err(|e| {
                            file_error(format!("table {table:?}: srs_id {id}: {e}"))
                        })?),
                    }
                }
                None => None,
            }
        }
        None => None,
    };
    let info = sqlx::query(AssertSqlSafe(format!(
        "PRAGMA table_info({})",
        ident(&table)
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    // (name, declared type); the primary key and the geometry are not fields.
    let mut columns: Vec<(String, String)> = Vec::new();
    for r in &info {
        let name: String = r.try_get("name").map_err(db)?;
        let kind: String = r.try_get("type").map_err(db)?;
        let pk: i64 = r.try_get("pk").map_err(db)?;
        if pk > 0 || name.eq_ignore_ascii_case(&geom_col) {
            continue;
        }
        columns.push((name, kind.to_ascii_uppercase()));
    }
    let select = std::iter::once(ident(&geom_col))
        .chain(columns.iter().map(|(n, _)| ident(n)))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {select} FROM {} ORDER BY rowid",
        ident(&table)
    )))
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut records = Vec::with_capacity(rows.len());
    for row in &rows {
        let geometry = match row.try_get::<Option<Vec<u8>>, _>(0) {
            Ok(Some(blob)) => gpkg_geometry(&blob),
            Ok(None) => Ok(None),
            Err(e) => Err(format!("not a geometry blob: {e}")),
        };
        let mut cells = Vec::with_capacity(columns.len());
        let mut failure = None;
        for (i, (name, kind)) in columns.iter().enumerate() {
            match cell(row, i + 1, kind) {
                Ok(c) => cells.push(c),
                Err(e) => {
                    failure = Some(format!("field {name:?}: {e}"));
                    break;
                }
            }
        }
        records.push(LayerRecord {
            cells: failure.map_or(Ok(cells), Err),
            geometry,
        });
    }
    Ok(Layer {
        fields: columns.into_iter().map(|(n, _)| n).collect(),
        records,
        crs,
        truncated_names: false,
    })
}

/// One value as a cell, by what SQLite holds (its storage class) and the
/// declared type (BOOLEAN integers are booleans, DATE/DATETIME text dates).
fn cell(row: &sqlx::sqlite::SqliteRow, i: usize, declared: &str) -> Result<Cell, String> {
    let raw = row.try_get_raw(i).map_err(|e| e.to_string())?;
    if raw.is_null() {
        return Ok(Cell::Empty);
    }
    let class = raw.type_info().name().to_ascii_uppercase();
    let err = |e: sqlx::error::BoxDynError| e.to_string();
    Ok(match class.as_str() {
        "INTEGER" | "BOOLEAN" | "INT" => {
            let v = <i64 as Decode<Sqlite>>::decode(raw).map_err(err)?;
            if declared == "BOOLEAN" {
                Cell::Bool(v != 0)
            } else {
                Cell::Number(v as f64)
            }
        }
        "REAL" | "DOUBLE" | "FLOAT" | "NUMERIC" => {
            Cell::Number(<f64 as Decode<Sqlite>>::decode(raw).map_err(err)?)
        }
        "BLOB" => return Err("a binary value".into()),
        _ => {
            let s = <String as Decode<Sqlite>>::decode(raw).map_err(err)?;
            if declared == "DATE" {
                Cell::Date(s)
            } else {
                Cell::Text(s)
            }
        }
    })
}

/// A GeoPackage geometry blob: `GP`, version, flags (byte order, envelope
/// kind, empty), srs_id, envelope, then WKB.
fn gpkg_geometry(blob: &[u8]) -> Result<Option<geojson::GeometryValue>, String> {
    if blob.len() < 8 || &blob[..2] != b"GP" {
        return Err("not a GeoPackage geometry (no GP header)".into());
    }
    let flags = blob[3];
    if flags & 0b0010_0000 != 0 {
        return Err("an extended GeoPackage geometry type".into());
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        k => return Err(format!("envelope indicator {k} is invalid")),
    };
    let empty = flags & 0b0001_0000 != 0;
    let start = 8 + envelope;
    let wkb = blob.get(start..).ok_or("a truncated GeoPackage geometry")?;
    if empty {
        return Ok(None);
    }
    let g = wkb_geometry(wkb)?;
    Ok(Some(geojson::GeometryValue::from(&g)))
}

/// WKB (ISO or extended, 2D or with Z/M) to a geo geometry (x, y).
pub fn wkb_geometry(wkb: &[u8]) -> Result<geo::Geometry<f64>, String> {
    use geo_traits::to_geo::ToGeoGeometry;
    let parsed = wkb::reader::read_wkb(wkb).map_err(|e| format!("invalid WKB: {e}"))?;
    parsed
        .try_to_geometry()
        .ok_or_else(|| "an empty or unsupported WKB geometry".to_string())
}

/// A geo geometry as little-endian WKB (2D).
pub fn geometry_wkb(g: &geo::Geometry<f64>) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    wkb::writer::write_geometry(&mut out, g, &wkb::writer::WriteOptions::default())
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// The GeoPackage blob of a WGS84 geometry: header (little-endian,
/// envelope minx, maxx, miny, maxy; srs_id 4326), then WKB.
fn gpkg_blob(g: &geo::Geometry<f64>) -> Result<Vec<u8>, String> {
    let mut out = b"GP".to_vec();
    out.push(0); // version 1
    let env = g.bounding_rect();
    out.push(if env.is_some() {
        0b0000_0011
    } else {
        0b0001_0001
    });
    out.extend_from_slice(&4326i32.to_le_bytes());
    if let Some(r) = env {
        for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out.extend(geometry_wkb(g)?);
    Ok(out)
}

/// The OGC name of a geometry's type.
fn type_name(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) => "POINT",
        geo::Geometry::MultiPoint(_) => "MULTIPOINT",
        geo::Geometry::LineString(_) | geo::Geometry::Line(_) => "LINESTRING",
        geo::Geometry::MultiLineString(_) => "MULTILINESTRING",
        geo::Geometry::Polygon(_) | geo::Geometry::Rect(_) | geo::Geometry::Triangle(_) => {
            "POLYGON"
        }
        geo::Geometry::MultiPolygon(_) => "MULTIPOLYGON",
        geo::Geometry::GeometryCollection(_) => "GEOMETRYCOLLECTION",
    }
}

/// Writes `table` as a new GeoPackage at `path` (which must not exist): one
/// feature table named after the collection, `fid` as the primary key,
/// `geom` in EPSG:4326, a column per field (TEXT, INTEGER, REAL, BOOLEAN).
pub async fn write_gpkg(path: &Path, table: &GisTable) -> StoreResult<()> {
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Delete);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let result = write_tables(&mut conn, table).await;
    conn.close().await?;
    result
}

/// [`write_gpkg`] into bytes (an HTTP download), through a temporary file.
pub async fn gpkg_bytes(table: &GisTable) -> StoreResult<Vec<u8>> {
    let dir = tempfile::tempdir().map_err(|e| StoreError::DataDir(e, std::env::temp_dir()))?;
    let path = dir.path().join("export.gpkg");
    write_gpkg(&path, table).await?;
    tokio::fs::read(&path)
        .await
        .map_err(|e| StoreError::DataDir(e, path.clone()))
}

async fn write_tables(conn: &mut SqliteConnection, table: &GisTable) -> StoreResult<()> {
    let name = table.collection.as_str();
    let corrupt = |id: &str, message: String| StoreError::Corrupt {
        collection: table.collection,
        id: id.to_string(),
        message,
    };
    sqlx::query(AssertSqlSafe(format!(
        "PRAGMA application_id = {APPLICATION_ID}"
    )))
    .execute(&mut *conn)
    .await?;
    sqlx::query("PRAGMA user_version = 10400")
        .execute(&mut *conn)
        .await?;
    let mut tx = conn.begin().await?;
    for sql in [
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, \
         organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, \
         definition TEXT NOT NULL, description TEXT)",
        "CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, \
         identifier TEXT UNIQUE, description TEXT DEFAULT '', \
         last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), \
         min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, \
         CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))",
        "CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, \
         geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, \
         CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), \
         CONSTRAINT uk_gc_table_name UNIQUE (table_name), \
         CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), \
         CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))",
    ] {
        sqlx::query(sql).execute(&mut *tx).await?;
    }
    for (srs_name, id, org, code, def, desc) in [
        (
            "Undefined cartesian SRS",
            -1,
            "NONE",
            -1,
            "undefined",
            "undefined cartesian coordinate reference system",
        ),
        (
            "Undefined geographic SRS",
            0,
            "NONE",
            0,
            "undefined",
            "undefined geographic coordinate reference system",
        ),
        (
            "WGS 84 geodetic",
            4326,
            "EPSG",
            4326,
            WGS84_WKT,
            "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
        ),
    ] {
        sqlx::query("INSERT INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)")
            .bind(srs_name)
            .bind(id)
            .bind(org)
            .bind(code)
            .bind(def)
            .bind(desc)
            .execute(&mut *tx)
            .await?;
    }
    // The extent and the geometry type (one type, else GEOMETRY).
    let mut extent: Option<geo::Rect<f64>> = None;
    for r in &table.rows {
        if let Some(b) = r.geometry.bounding_rect() {
            extent = Some(match extent {
                None => b,
                Some(e) => geo::Rect::new(
                    (e.min().x.min(b.min().x), e.min().y.min(b.min().y)),
                    (e.max().x.max(b.max().x), e.max().y.max(b.max().y)),
                ),
            });
        }
    }
    let mut types = table.rows.iter().map(|r| type_name(&r.geometry));
    let first = types.next().unwrap_or("GEOMETRY");
    let geometry_type = if types.all(|t| t == first) {
        first
    } else {
        "GEOMETRY"
    };
    sqlx::query(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, min_x, min_y, max_x, max_y, srs_id) \
         VALUES (?, 'features', ?, ?, ?, ?, ?, ?, 4326)",
    )
    .bind(name)
    .bind(name)
    .bind(format!("riskmap {name}"))
    .bind(extent.map(|e| e.min().x))
    .bind(extent.map(|e| e.min().y))
    .bind(extent.map(|e| e.max().x))
    .bind(extent.map(|e| e.max().y))
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, 4326, 0, 0)")
        .bind(name)
        .bind(geometry_type)
        .execute(&mut *tx)
        .await?;
    let columns: Vec<String> = table
        .fields
        .iter()
        .map(|f| {
            let t = match f.kind {
                FieldType::Text => "TEXT",
                FieldType::Integer => "INTEGER",
                FieldType::Real => "REAL",
                FieldType::Bool => "BOOLEAN",
            };
            format!("{} {t}", ident(&f.name))
        })
        .collect();
    sqlx::query(AssertSqlSafe(format!(
        "CREATE TABLE {} (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom {geometry_type}, {})",
        ident(name),
        columns.join(", ")
    )))
    .execute(&mut *tx)
    .await?;
    let insert = format!(
        "INSERT INTO {} (geom, {}) VALUES (?{})",
        ident(name),
        table
            .fields
            .iter()
            .map(|f| ident(&f.name))
            .collect::<Vec<_>>()
            .join(", "),
        ", ?".repeat(table.fields.len())
    );
    for r in &table.rows {
        let blob = gpkg_blob(&r.geometry).map_err(|m| corrupt(&r.id, m))?;
        let mut q = sqlx::query(AssertSqlSafe(insert.clone())).bind(blob);
        for (c, f) in r.values.iter().zip(&table.fields) {
            q = match (c, f.kind) {
                (Cell::Empty, _) => q.bind(None::<String>),
                (Cell::Number(x), FieldType::Integer) => q.bind(*x as i64),
                (Cell::Number(x), _) => q.bind(*x),
                (Cell::Bool(b), _) => q.bind(*b),
                (Cell::Text(s) | Cell::Date(s), _) => q.bind(s.clone()),
            };
        }
        q.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

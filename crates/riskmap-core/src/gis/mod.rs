//! GIS file formats (GIS 数据格式) in and out, pure: bytes in, bytes or
//! values out.
//!
//! Import: a Shapefile as a .zip ([`shapefile`]: `.shp`, `.shx`, `.dbf`, the
//! `.prj` for the CRS, the `.cpg` or a detection for the DBF's encoding),
//! FlatGeobuf ([`fgb`]) and KML ([`kml`]) become a [`Layer`] of records with
//! the file's own field names and geometries, which
//! [`import::parse_layer`] validates like every other import (the column
//! aliases map 名称 → `name`, 统一社会信用代码 → `credit_code`…). The
//! GeoPackage reader is the store crate's (it needs SQLite).
//!
//! Export: [`gis_table`] lays features out with typed fields (the import
//! schema's columns, nested lists as JSON text, then the derived
//! `risk_level`, `risk_score`, `risk_model` and `risk_summary`, the
//! assessment's leading factors) and their WGS84 geometries, which
//! [`geojson_export`], [`shapefile::write_shapefile_zip`] and the store's
//! GeoPackage writer write. The features are selected by the caller (a
//! bounding box, a filter): the writers take what they are given.

pub mod fgb;
pub mod kml;
pub mod shapefile;

pub use fgb::read_flatgeobuf;
pub use shapefile::{read_shapefile_zip, write_shapefile_zip};

use serde_json::{Map, Value};

use crate::import::{Cell, Layer};
use crate::model::{Collection, Feature};
use crate::office;
use crate::scoring::{Assessment, RiskLevel};

/// The derived risk columns of a scored feature.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskSummary {
    /// The four-colour level.
    pub level: RiskLevel,
    /// The model's score, when it has one.
    pub score: Option<f64>,
    /// The model id and version, e.g. `enterprise-diagnosis-2018@1`.
    pub model: String,
    /// The leading factors in one line (see [`summary_text`]).
    pub summary: String,
}

impl RiskSummary {
    /// The summary of an assessment.
    pub fn of(a: &Assessment) -> RiskSummary {
        RiskSummary {
            level: a.risk_level,
            score: a.score,
            model: format!("{}@{}", a.model.id, a.model.version),
            summary: summary_text(a, 3),
        }
    }
}

/// The `n` factors that weigh most (largest points either way; factors
/// without points after those with), as `name: value (±points, clause)`
/// joined by `; `.
pub fn summary_text(a: &Assessment, n: usize) -> String {
    let mut factors: Vec<_> = a.factors.iter().collect();
    factors.sort_by(|x, y| {
        let w = |f: &&crate::scoring::Factor| f.points.map_or(-1.0, f64::abs);
        w(y).total_cmp(&w(x))
    });
    factors
        .into_iter()
        .take(n)
        .map(|f| {
            let points = f.points.map_or(String::new(), |p| format!("{p:+}, "));
            format!("{}: {} ({points}{})", f.name, f.value, f.clause)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The type of an exported field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// Text (also nested lists, as JSON text).
    Text,
    /// A whole number.
    Integer,
    /// A real number.
    Real,
    /// true/false.
    Bool,
}

/// A field of an exported layer.
#[derive(Debug, Clone, PartialEq)]
pub struct GisField {
    /// The field name (the import schema's).
    pub name: String,
    /// Its type.
    pub kind: FieldType,
}

/// One exported feature.
#[derive(Debug, Clone, PartialEq)]
pub struct GisRow {
    /// The feature id.
    pub id: String,
    /// One value per field (`Cell::Empty` for none), of the field's type.
    pub values: Vec<Cell>,
    /// The WGS84 geometry.
    pub geometry: geo::Geometry<f64>,
}

/// Features laid out for a GIS format.
#[derive(Debug, Clone, PartialEq)]
pub struct GisTable {
    /// The collection (the layer name).
    pub collection: Collection,
    /// The fields, `id` first.
    pub fields: Vec<GisField>,
    /// The features.
    pub rows: Vec<GisRow>,
}

/// Lays `features` out with typed fields: those of [`office::export_table`]
/// (`id`, the schema fields, properties outside the schema, `overdue` for
/// hidden dangers) without its coordinate columns, and for the scored
/// collections `risk_level`, `risk_score`, `risk_model` and `risk_summary`
/// from `risk`. A column whose values are all numbers is a number field
/// (whole: integer), all booleans a boolean field, else text.
pub fn gis_table<'a>(
    collection: Collection,
    features: impl IntoIterator<Item = &'a Feature>,
    risk: impl Fn(&Feature) -> Option<RiskSummary>,
    today: &str,
) -> GisTable {
    let features: Vec<&Feature> = features.into_iter().collect();
    let summaries: Vec<Option<RiskSummary>> = features.iter().map(|f| risk(f)).collect();
    let table = office::export_table(
        collection,
        features.iter().copied(),
        |f| {
            features
                .iter()
                .position(|g| std::ptr::eq(*g, f))
                .and_then(|i| summaries[i].as_ref().map(|s| s.level))
        },
        today,
    );
    let keep: Vec<usize> = (0..table.headers.len())
        .filter(|&i| !["lon", "lat", "wkt"].contains(&table.headers[i].as_str()))
        .collect();
    let scored = table.level_column.is_some();
    let mut names: Vec<String> = keep.iter().map(|&i| table.headers[i].clone()).collect();
    if scored {
        names.extend(["risk_score", "risk_model", "risk_summary"].map(String::from));
    }
    let mut rows: Vec<Vec<Cell>> = table
        .rows
        .into_iter()
        .zip(&summaries)
        .map(|(row, s)| {
            let mut out: Vec<Cell> = keep.iter().map(|&i| row[i].clone()).collect();
            if scored {
                match s {
                    Some(s) => {
                        out.push(s.score.map_or(Cell::Empty, Cell::Number));
                        out.push(Cell::Text(s.model.clone()));
                        out.push(Cell::Text(s.summary.clone()));
                    }
                    None => out.extend([Cell::Empty, Cell::Empty, Cell::Empty]),
                }
            }
            out
        })
        .collect();
    let fields: Vec<GisField> = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let cells = rows.iter().map(|r| &r[i]).filter(|c| **c != Cell::Empty);
            let kind = if i == 0 {
                FieldType::Text
            } else if cells.clone().count() > 0
                && cells.clone().all(|c| matches!(c, Cell::Number(_)))
            {
                if cells
                    .clone()
                    .all(|c| matches!(c, Cell::Number(x) if x.fract() == 0.0 && x.abs() < 9.0e15))
                {
                    FieldType::Integer
                } else {
                    FieldType::Real
                }
            } else if cells.clone().count() > 0 && cells.clone().all(|c| matches!(c, Cell::Bool(_)))
            {
                FieldType::Bool
            } else {
                FieldType::Text
            };
            GisField { name, kind }
        })
        .collect();
    // Text fields hold text only.
    for row in &mut rows {
        for (c, f) in row.iter_mut().zip(&fields) {
            if f.kind == FieldType::Text {
                *c = match std::mem::replace(c, Cell::Empty) {
                    Cell::Number(x) => Cell::Text(x.to_string()),
                    Cell::Bool(b) => Cell::Text(b.to_string()),
                    Cell::Date(d) => Cell::Text(d),
                    other => other,
                };
            }
        }
    }
    let rows = rows
        .into_iter()
        .zip(&features)
        .map(|(values, f)| GisRow {
            id: f.id.clone(),
            values,
            geometry: f.geometry.clone(),
        })
        .collect();
    GisTable {
        collection,
        fields,
        rows,
    }
}

/// A cell as a JSON value (`Empty` → null).
pub fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Empty => Value::Null,
        Cell::Text(s) | Cell::Date(s) => Value::String(s.clone()),
        Cell::Number(x) => {
            if x.fract() == 0.0 && x.abs() < 9.0e15 {
                Value::from(*x as i64)
            } else {
                serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number)
            }
        }
        Cell::Bool(b) => Value::Bool(*b),
    }
}

/// A GeoJSON FeatureCollection of the features with their import-schema
/// properties (nested lists as JSON, not text), the last change time
/// `updated` and, when `risk` gives one,
/// `risk_level`, `risk_score`, `risk_model` and `risk_summary`. It imports
/// back unchanged (the derived properties are ignored).
pub fn geojson_export<'a>(
    features: impl IntoIterator<Item = &'a Feature>,
    risk: impl Fn(&Feature) -> Option<RiskSummary>,
) -> Value {
    let features: Vec<Value> = features
        .into_iter()
        .map(|f| {
            let mut props: Map<String, Value> = f.record.to_properties();
            if let Some(s) = risk(f) {
                props.insert("risk_level".into(), Value::from(s.level.as_str()));
                props.insert(
                    "risk_score".into(),
                    s.score
                        .and_then(serde_json::Number::from_f64)
                        .map_or(Value::Null, Value::Number),
                );
                props.insert("risk_model".into(), Value::from(s.model));
                props.insert("risk_summary".into(), Value::from(s.summary));
            }
            if let Some(t) = &f.updated {
                props.insert("updated".into(), Value::from(t.as_str()));
            }
            serde_json::json!({
                "type": "Feature",
                "id": f.id,
                "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&f.geometry)),
                "properties": props,
            })
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "features": features})
}

/// A layer's field name as the import reads it: the Shapefile short names
/// of [`shapefile::SHORT_NAMES`] back to their schema field.
pub(crate) fn long_name(name: &str) -> String {
    shapefile::SHORT_NAMES
        .iter()
        .find(|(_, short)| short.eq_ignore_ascii_case(name.trim()))
        .map_or_else(|| name.to_string(), |(long, _)| long.to_string())
}

/// A layer with its field names through [`long_name`].
pub(crate) fn with_long_names(mut layer: Layer) -> Layer {
    for f in &mut layer.fields {
        *f = long_name(f);
    }
    layer
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::import::{LayerRecord, parse_layer};
    use geojson::GeometryValue;
    use riskmap_spatial::Crs;

    fn record(cells: Vec<Cell>, x: f64, y: f64) -> LayerRecord {
        LayerRecord {
            cells: Ok(cells),
            geometry: Ok(Some(GeometryValue::new_point([x, y]))),
        }
    }

    /// A DBF-like layer in EPSG:4549 with Chinese (and cut) field names:
    /// the good record lands in WGS84, the bad ones are named by record,
    /// field and the layer's column.
    #[test]
    fn layers_validate_like_tables_in_projected_crs() {
        let gk: Crs = "EPSG:4549".parse().unwrap();
        let (x, y) = gk.from_wgs84(120.3, 30.25);
        let layer = Layer {
            fields: ["企业编号", "名称", "统一社会信", "从业人数"]
                .map(String::from)
                .to_vec(),
            records: vec![
                record(
                    vec![
                        Cell::Text("E-1".into()),
                        Cell::Text("甲化工".into()),
                        Cell::Text("91330114MA2KQJQN6G".into()),
                        Cell::Number(12.0),
                    ],
                    x,
                    y,
                ),
                record(
                    vec![
                        Cell::Text("E-2".into()),
                        Cell::Text("乙化工".into()),
                        Cell::Empty,
                        Cell::Text("很多".into()),
                    ],
                    x,
                    y,
                ),
                // The zone number in front of an easting of EPSG:4549.
                record(
                    vec![
                        Cell::Text("E-3".into()),
                        Cell::Text("丙".into()),
                        Cell::Empty,
                        Cell::Empty,
                    ],
                    x + 40e6,
                    y,
                ),
            ],
            crs: Some(gk),
            truncated_names: true,
        };
        let err = parse_layer(Collection::Enterprises, layer.clone(), gk, None).unwrap_err();
        type Located = (Option<usize>, Option<String>, String, Option<String>);
        let got: Vec<Located> = err
            .errors
            .iter()
            .map(|e| (e.index, e.id.clone(), e.field.clone(), e.column.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Some(1),
                    Some("E-2".into()),
                    "employees".into(),
                    Some("从业人数".into())
                ),
                (
                    Some(2),
                    Some("E-3".into()),
                    "geometry.coordinates".into(),
                    None
                ),
            ],
            "{err}"
        );
        assert!(err.errors[1].message.contains("EPSG:4528"), "{err}");
        let mut good = layer;
        good.records.truncate(1);
        let f = parse_layer(Collection::Enterprises, good, gk, None).unwrap();
        let p = f[0].record.to_properties();
        assert_eq!(p["credit_code"], "91330114MA2KQJQN6G");
        assert_eq!(p["name"], "甲化工");
        match f[0].geometry {
            geo::Geometry::Point(pt) => {
                assert!((pt.x() - 120.3).abs() < 1e-9 && (pt.y() - 30.25).abs() < 1e-9)
            }
            ref g => panic!("{g:?}"),
        }
    }
}

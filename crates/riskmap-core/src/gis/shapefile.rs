//! Esri Shapefiles as .zip archives, in and out (the `shapefile` and
//! `dbase` crates, in memory).
//!
//! Import ([`read_shapefile_zip`]): the archive's one `.shp` with its
//! `.shx`, `.dbf`, `.prj` and `.cpg` (same name, any case, in any folder).
//! The DBF's text is decoded by the `.cpg` (`UTF-8`/`65001`, `GBK`/`936`/
//! `CP936`/`GB2312`, `GB18030`/`54936`), else by the DBF's language driver
//! byte (0x4D, 0x7A: GBK), else detected: valid UTF-8 is UTF-8, anything else
//! GB18030 (which includes GBK). The CRS comes from the `.prj`
//! ([`Crs::from_wkt`]). DBF field names (≤ 10 bytes, often Chinese) are
//! kept as they are for the column aliases, except the short names this
//! module writes ([`SHORT_NAMES`]), which map back to their fields. A
//! single-part multi-geometry (a Shapefile cannot tell them apart) is read
//! as the single geometry.
//!
//! Export ([`write_shapefile_zip`]): one `.shp/.shx/.dbf` set per geometry
//! kind (points, lines, polygons; named after the collection, with
//! `_point`/`_line`/`_polygon` when a collection mixes kinds), a `.prj`
//! (WGS 84) and a `.cpg` (UTF-8). Field names longer than 10 bytes take the
//! short names of [`SHORT_NAMES`] (others are cut to 10 and numbered when
//! two meet); nested lists (units, accidents, findings…) are left out,
//! since a DBF text holds at most 254 bytes: export a GeoPackage or GeoJSON
//! for them; a longer text is cut at 254 bytes.

use std::io::{Cursor, Read, Write};

use dbase::{FieldName, FieldValue, TableWriterBuilder};
use geojson::GeometryValue;
use riskmap_spatial::Crs;

use super::{FieldType, GisTable};
use crate::import::{Cell, ImportErrors, Layer, LayerRecord};

/// The DBF names of the export's fields longer than 10 bytes (the mapping
/// `docs/reference.md` documents); a Shapefile import maps them back.
pub const SHORT_NAMES: [(&str, &str); 18] = [
    ("credit_code", "credit_cd"),
    ("district_code", "district"),
    ("standardization_level", "std_level"),
    ("installation", "install"),
    ("major_hazard_registration", "mh_reg"),
    ("inspection_findings", "findings"),
    ("enterprise_id", "ent_id"),
    ("responsible_person", "resp_pers"),
    ("listing_level", "listing"),
    ("assessment_score", "assess_sc"),
    ("floor_area_m2", "floor_m2"),
    ("capacity_persons", "capacity"),
    ("mobilisation_min", "mobil_min"),
    ("risk_summary", "risk_summ"),
    ("risk_model", "risk_model"),
    ("site_source", "site_src"),
    ("description", "descript"),
    ("diameter_mm", "diam_mm"),
];

/// The largest uncompressed member read from an archive (2 GiB).
const MAX_MEMBER: u64 = 2 << 30;

fn file_error(field: &str, message: impl Into<String>) -> ImportErrors {
    ImportErrors::file(field, message)
}

/// The encoding a `.cpg` names.
fn cpg_encoding(text: &str) -> Option<&'static encoding_rs::Encoding> {
    let t = text
        .trim()
        .to_ascii_uppercase()
        .replace(['-', '_', ' '], "");
    match t.as_str() {
        "UTF8" | "65001" => Some(encoding_rs::UTF_8),
        "GBK" | "936" | "CP936" | "GB2312" | "ANSI936" | "MS936" | "WINDOWS936" => {
            Some(encoding_rs::GBK)
        }
        "GB18030" | "54936" => Some(encoding_rs::GB18030),
        "" => None,
        _ => encoding_rs::Encoding::for_label(text.trim().as_bytes()),
    }
}

/// Reads a zipped Shapefile into a layer. A panic inside the third-party
/// readers on a malformed file is caught and refused.
pub fn read_shapefile_zip(bytes: &[u8]) -> Result<Layer, ImportErrors> {
    std::panic::catch_unwind(|| read(bytes)).unwrap_or_else(|_| {
        Err(file_error(
            "(zip)",
            "malformed Shapefile: its records do not match its headers",
        ))
    })
}

fn read(bytes: &[u8]) -> Result<Layer, ImportErrors> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| file_error("(zip)", format!("not a zip archive: {e}")))?;
    let names: Vec<String> = zip
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.into_owned())
        .collect();
    let visible = |n: &&String| {
        !n.starts_with("__MACOSX") && !n.rsplit('/').next().unwrap_or(n).starts_with('.')
    };
    let shps: Vec<&String> = names
        .iter()
        .filter(visible)
        .filter(|n| n.to_ascii_lowercase().ends_with(".shp"))
        .collect();
    let shp_name = match shps.as_slice() {
        [one] => (*one).clone(),
        [] => return Err(file_error("(zip)", "the archive holds no .shp file")),
        many => {
            return Err(file_error(
                "(zip)",
                format!(
                    "the archive holds {} .shp files ({}): send one layer per archive",
                    many.len(),
                    many.iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    };
    let stem = shp_name[..shp_name.len() - 4].to_string();
    let mut member = |ext: &str| -> Result<Option<Vec<u8>>, ImportErrors> {
        let want = format!("{stem}.{ext}").to_ascii_lowercase();
        let Some(name) = names.iter().find(|n| n.to_ascii_lowercase() == want) else {
            return Ok(None);
        };
        let f = zip
            .by_name(name)
            .map_err(|e| file_error("(zip)", format!("{name}: {e}")))?;
        let mut out = Vec::new();
        f.take(MAX_MEMBER)
            .read_to_end(&mut out)
            .map_err(|e| file_error("(zip)", format!("{name}: {e}")))?;
        Ok(Some(out))
    };
    let shp = member("shp")?.unwrap_or_default();
    let shx = member("shx")?;
    let dbf = member("dbf")?.ok_or_else(|| {
        file_error(
            "(zip)",
            format!("{stem}.dbf is missing: a Shapefile needs its attribute table"),
        )
    })?;
    let prj = member("prj")?;
    let cpg = member("cpg")?;
    let crs = match prj {
        Some(p) => {
            let text = String::from_utf8_lossy(&p);
            Some(
                Crs::from_wkt(&text)
                    .map_err(|e| file_error("(prj)", format!("{stem}.prj: {e}")))?,
            )
        }
        None => None,
    };
    let encoding = match &cpg {
        Some(c) => {
            let text = String::from_utf8_lossy(c);
            match cpg_encoding(&text) {
                Some(e) => Some(e),
                None if text.trim().is_empty() => None,
                None => {
                    return Err(file_error(
                        "(cpg)",
                        format!(
                            "{stem}.cpg names the encoding {:?}, which is not read: use UTF-8, GBK or GB18030",
                            text.trim()
                        ),
                    ));
                }
            }
        }
        None => None,
    }
    .or(match dbf.get(29) {
        Some(0x4D | 0x7A) => Some(encoding_rs::GBK),
        _ => None,
    });
    // The shapes.
    let shape_reader = match shx {
        Some(shx) => ::shapefile::ShapeReader::with_shx(Cursor::new(shp), Cursor::new(shx)),
        None => ::shapefile::ShapeReader::new(Cursor::new(shp)),
    }
    .map_err(|e| file_error("(shp)", format!("{stem}.shp: {e}")))?;
    let shapes = shape_reader
        .read()
        .map_err(|e| file_error("(shp)", format!("{stem}.shp: {e}")))?;
    // The table: the named encoding, else UTF-8 when it all reads, else GB18030.
    let (fields, rows) = match encoding {
        Some(e) => read_dbf(&dbf, e)?,
        None => match read_dbf(&dbf, encoding_rs::UTF_8) {
            Ok(t) => t,
            Err(_) => read_dbf(&dbf, encoding_rs::GB18030)?,
        },
    };
    if rows.len() != shapes.len() {
        return Err(file_error(
            "(dbf)",
            format!(
                "{stem}.dbf has {} records and {stem}.shp {} shapes",
                rows.len(),
                shapes.len()
            ),
        ));
    }
    let records = shapes
        .into_iter()
        .zip(rows)
        .map(|(shape, cells)| LayerRecord {
            cells: Ok(cells),
            geometry: shape_geometry(shape),
        })
        .collect();
    Ok(super::with_long_names(Layer {
        fields,
        records,
        crs,
        truncated_names: true,
    }))
}

/// A shape as a GeoJSON geometry; a null shape is none.
fn shape_geometry(shape: ::shapefile::Shape) -> Result<Option<GeometryValue>, String> {
    if matches!(shape, ::shapefile::Shape::NullShape) {
        return Ok(None);
    }
    let g = geo::Geometry::<f64>::try_from(shape).map_err(|e| format!("unreadable shape: {e}"))?;
    // A Shapefile does not tell a polygon from a one-part multipolygon.
    let g = match g {
        geo::Geometry::MultiPolygon(mut m) if m.0.len() == 1 => {
            geo::Geometry::Polygon(m.0.remove(0))
        }
        geo::Geometry::MultiLineString(mut m) if m.0.len() == 1 => {
            geo::Geometry::LineString(m.0.remove(0))
        }
        geo::Geometry::MultiPoint(mut m) if m.0.len() == 1 => geo::Geometry::Point(m.0.remove(0)),
        g => g,
    };
    Ok(Some(GeometryValue::from(&g)))
}

/// The DBF's field names and records (cells in field order), decoded with
/// `encoding` (UTF-8 strictly: an invalid byte is an error naming the
/// record; others through `encoding_rs`).
fn read_dbf(
    dbf: &[u8],
    encoding: &'static encoding_rs::Encoding,
) -> Result<(Vec<String>, Vec<Vec<Cell>>), ImportErrors> {
    let builder = dbase::ReaderBuilder::new();
    let builder = if encoding == encoding_rs::UTF_8 {
        builder.with_encoding(dbase::Unicode)
    } else {
        builder.with_encoding(dbase::encoding::EncodingRs::from(encoding))
    };
    let mut reader = builder
        .build(Cursor::new(dbf))
        .map_err(|e| file_error("(dbf)", format!("not a dBase table: {e}")))?;
    let fields: Vec<String> = reader
        .fields()
        .iter()
        .map(|f| f.name().to_string())
        .collect();
    let mut rows = Vec::new();
    for (i, r) in reader.iter_records().enumerate() {
        let record = r.map_err(|e| {
            file_error(
                "(dbf)",
                format!("record {i}: {e} (read as {})", encoding.name()),
            )
        })?;
        let mut map: std::collections::HashMap<String, FieldValue> = record.into();
        let cells = fields
            .iter()
            .map(|name| match map.remove(name) {
                None => Cell::Empty,
                Some(v) => value_cell(v),
            })
            .collect();
        rows.push(cells);
    }
    Ok((fields, rows))
}

fn value_cell(v: FieldValue) -> Cell {
    match v {
        FieldValue::Character(Some(s)) => {
            let t = s.trim_end();
            if t.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(t.to_string())
            }
        }
        FieldValue::Memo(s) => {
            if s.trim().is_empty() {
                Cell::Empty
            } else {
                Cell::Text(s)
            }
        }
        FieldValue::Numeric(Some(x)) | FieldValue::Double(x) | FieldValue::Currency(x) => {
            Cell::Number(x)
        }
        FieldValue::Float(Some(x)) => Cell::Number(f64::from(x)),
        FieldValue::Integer(x) => Cell::Number(f64::from(x)),
        FieldValue::Logical(Some(b)) => Cell::Bool(b),
        FieldValue::Date(Some(d)) => {
            Cell::Date(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        _ => Cell::Empty,
    }
}

// ------------------------------------------------------------------ export

/// WGS 84 as Esri's `.prj` (what GDAL writes for EPSG:4326).
pub const WGS84_PRJ: &str = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;

/// The DBF names of `fields`: ≤ 10 bytes, unique (case-insensitively).
pub fn short_names(fields: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(fields.len());
    for f in fields {
        let base = SHORT_NAMES
            .iter()
            .find(|(long, _)| long == f)
            .map_or_else(|| cut(f, 10), |(_, s)| (*s).to_string());
        let mut name = base.clone();
        let mut n = 1;
        while out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
            let suffix = format!("_{n}");
            name = format!("{}{suffix}", cut(&base, 10 - suffix.len()));
            n += 1;
        }
        out.push(name);
    }
    out
}

/// The longest prefix of `s` of at most `max` bytes on a character boundary.
fn cut(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The kind of Shapefile a geometry goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Point,
    MultiPoint,
    Line,
    Polygon,
}

fn kind(g: &geo::Geometry<f64>) -> Option<Kind> {
    match g {
        geo::Geometry::Point(_) => Some(Kind::Point),
        geo::Geometry::MultiPoint(_) => Some(Kind::MultiPoint),
        geo::Geometry::LineString(_)
        | geo::Geometry::MultiLineString(_)
        | geo::Geometry::Line(_) => Some(Kind::Line),
        geo::Geometry::Polygon(_)
        | geo::Geometry::MultiPolygon(_)
        | geo::Geometry::Rect(_)
        | geo::Geometry::Triangle(_) => Some(Kind::Polygon),
        geo::Geometry::GeometryCollection(_) => None,
    }
}

/// The table as a zipped Shapefile (see the module documentation).
pub fn write_shapefile_zip(table: &GisTable) -> Result<Vec<u8>, String> {
    // The fields a DBF holds: not the nested lists.
    let keep: Vec<usize> = (0..table.fields.len())
        .filter(|&i| !crate::office::JSON_COLUMNS.contains(&table.fields[i].name.as_str()))
        .collect();
    let names = short_names(
        &keep
            .iter()
            .map(|&i| table.fields[i].name.as_str())
            .collect::<Vec<_>>(),
    );
    let mut kinds: Vec<Kind> = Vec::new();
    for r in &table.rows {
        let k = kind(&r.geometry).ok_or_else(|| format!("{}: a geometry collection", r.id))?;
        if !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    if kinds.is_empty() {
        kinds.push(
            match table.collection.allowed_geometries().first().copied() {
                Some("LineString" | "MultiLineString") => Kind::Line,
                Some("Polygon" | "MultiPolygon") => Kind::Polygon,
                _ => Kind::Point,
            },
        );
    }
    let layer = table.collection.as_str();
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for k in &kinds {
        let stem = if kinds.len() == 1 {
            layer.to_string()
        } else {
            format!(
                "{layer}_{}",
                match k {
                    Kind::Point => "point",
                    Kind::MultiPoint => "multipoint",
                    Kind::Line => "line",
                    Kind::Polygon => "polygon",
                }
            )
        };
        let rows: Vec<&super::GisRow> = table
            .rows
            .iter()
            .filter(|r| kind(&r.geometry) == Some(*k))
            .collect();
        let (shp, shx, dbf) = match k {
            Kind::Point => write_one(table, &keep, &names, &rows, |g| match g {
                geo::Geometry::Point(p) => Some(::shapefile::Point::from(*p)),
                _ => None,
            }),
            Kind::MultiPoint => write_one(table, &keep, &names, &rows, |g| match g {
                geo::Geometry::MultiPoint(m) => Some(::shapefile::Multipoint::from(m.clone())),
                _ => None,
            }),
            Kind::Line => write_one(table, &keep, &names, &rows, |g| match g {
                geo::Geometry::LineString(l) => Some(::shapefile::Polyline::from(l.clone())),
                geo::Geometry::MultiLineString(m) => Some(::shapefile::Polyline::from(m.clone())),
                geo::Geometry::Line(l) => Some(::shapefile::Polyline::from(*l)),
                _ => None,
            }),
            Kind::Polygon => write_one(table, &keep, &names, &rows, |g| match g {
                geo::Geometry::Polygon(p) => Some(::shapefile::Polygon::from(p.clone())),
                geo::Geometry::MultiPolygon(m) => Some(::shapefile::Polygon::from(m.clone())),
                geo::Geometry::Rect(r) => Some(::shapefile::Polygon::from(r.to_polygon())),
                geo::Geometry::Triangle(t) => Some(::shapefile::Polygon::from(t.to_polygon())),
                _ => None,
            }),
        }?;
        for (ext, bytes) in [
            ("shp", shp),
            ("shx", shx),
            ("dbf", dbf),
            ("prj", WGS84_PRJ.as_bytes().to_vec()),
            ("cpg", b"UTF-8".to_vec()),
        ] {
            zip.start_file(format!("{stem}.{ext}"), options)
                .map_err(|e| e.to_string())?;
            zip.write_all(&bytes).map_err(|e| e.to_string())?;
        }
    }
    let cursor = zip.finish().map_err(|e| e.to_string())?;
    Ok(cursor.into_inner())
}

/// The `.shp`, `.shx` and `.dbf` of one Shapefile.
type ShapefileParts = (Vec<u8>, Vec<u8>, Vec<u8>);

/// One `.shp`, `.shx` and `.dbf` of `rows`.
fn write_one<S: ::shapefile::record::EsriShape>(
    table: &GisTable,
    keep: &[usize],
    names: &[String],
    rows: &[&super::GisRow],
    shape: impl Fn(&geo::Geometry<f64>) -> Option<S>,
) -> Result<ShapefileParts, String> {
    let mut builder = TableWriterBuilder::with_encoding(dbase::Unicode);
    for (&i, name) in keep.iter().zip(names) {
        let field = &table.fields[i];
        let fname =
            FieldName::try_from(name.as_str()).map_err(|e| format!("field {name}: {e:?}"))?;
        builder = match field.kind {
            FieldType::Text => {
                let longest = rows
                    .iter()
                    .map(|r| match &r.values[i] {
                        Cell::Text(s) | Cell::Date(s) => s.len().min(254),
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0)
                    .max(1);
                builder.add_character_field(fname, longest as u8)
            }
            FieldType::Integer => builder.add_numeric_field(fname, 18, 0),
            FieldType::Real => builder.add_numeric_field(fname, 24, 10),
            FieldType::Bool => builder.add_logical_field(fname),
        };
    }
    let (mut shp, mut shx, mut dbf) = (Vec::new(), Vec::new(), Vec::new());
    {
        let dbase_writer = builder.build_with_dest(Cursor::new(&mut dbf));
        let shape_writer =
            ::shapefile::ShapeWriter::with_shx(Cursor::new(&mut shp), Cursor::new(&mut shx));
        let mut writer = ::shapefile::Writer::new(shape_writer, dbase_writer);
        for r in rows {
            let mut record = dbase::Record::default();
            for (&i, name) in keep.iter().zip(names) {
                let v = match (&r.values[i], table.fields[i].kind) {
                    (Cell::Text(s) | Cell::Date(s), _) => FieldValue::Character(Some(cut(s, 254))),
                    (Cell::Number(x), _) => FieldValue::Numeric(Some(*x)),
                    (Cell::Bool(b), _) => FieldValue::Logical(Some(*b)),
                    (Cell::Empty, FieldType::Text) => FieldValue::Character(None),
                    (Cell::Empty, FieldType::Bool) => FieldValue::Logical(None),
                    (Cell::Empty, _) => FieldValue::Numeric(None),
                };
                record.insert(name.clone(), v);
            }
            let shape = shape(&r.geometry)
                .ok_or_else(|| format!("{}: a geometry of another kind", r.id))?;
            writer
                .write_shape_and_record(&shape, &record)
                .map_err(|e| format!("{}: {e}", r.id))?;
        }
    }
    Ok((shp, shx, dbf))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn short_names_fit_and_differ() {
        let names = short_names(&[
            "id",
            "credit_code",
            "risk_summary",
            "a_very_long_name_1",
            "a_very_long_name_2",
            "从业人员数量统计",
        ]);
        assert_eq!(names[1], "credit_cd");
        assert_eq!(names[2], "risk_summ");
        assert!(names.iter().all(|n| n.len() <= 10), "{names:?}");
        assert_ne!(names[3], names[4]);
        // A Chinese name is cut on a character boundary (3 bytes each).
        assert_eq!(names[5], "从业人");
        for (long, short) in SHORT_NAMES {
            assert!(short.len() <= 10, "{short}");
            assert_eq!(super::super::long_name(short), long);
        }
    }

    #[test]
    fn cpg_names() {
        assert_eq!(cpg_encoding("UTF-8"), Some(encoding_rs::UTF_8));
        assert_eq!(cpg_encoding("936\n"), Some(encoding_rs::GBK));
        assert_eq!(cpg_encoding("gbk"), Some(encoding_rs::GBK));
        assert_eq!(cpg_encoding("GB18030"), Some(encoding_rs::GB18030));
    }
}

#[cfg(test)]
mod mutation_tests {
    #![allow(clippy::unwrap_used)]
    use std::io::{Cursor, Read, Write};

    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::gis::{FieldType, GisField, GisRow, GisTable};
    use crate::model::Collection;

    fn table() -> GisTable {
        let square = |x: f64| {
            geo::Geometry::Polygon(geo::Polygon::new(
                geo::LineString::from(vec![
                    (x, 30.0),
                    (x + 0.01, 30.0),
                    (x + 0.01, 30.01),
                    (x, 30.0),
                ]),
                vec![],
            ))
        };
        GisTable {
            collection: Collection::ProtectionTargets,
            fields: vec![
                GisField {
                    name: "id".into(),
                    kind: FieldType::Text,
                },
                GisField {
                    name: "name".into(),
                    kind: FieldType::Text,
                },
                GisField {
                    name: "population".into(),
                    kind: FieldType::Integer,
                },
            ],
            rows: (0..4)
                .map(|i| GisRow {
                    id: format!("t-{i}"),
                    values: vec![
                        Cell::Text(format!("t-{i}")),
                        Cell::Text(format!("学校{i}")),
                        Cell::Number(f64::from(i) * 10.0),
                    ],
                    geometry: if i == 3 {
                        geo::Geometry::Point(geo::Point::new(120.0, 30.0))
                    } else {
                        square(120.0 + f64::from(i))
                    },
                })
                .collect(),
        }
    }

    fn members(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
        let mut z = zip::ZipArchive::new(Cursor::new(zip)).unwrap();
        (0..z.len())
            .map(|i| {
                let mut f = z.by_index(i).unwrap();
                let mut b = Vec::new();
                f.read_to_end(&mut b).unwrap();
                (f.name().unwrap().into_owned(), b)
            })
            .collect()
    }

    fn rezip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (n, b) in members {
            z.start_file(n.as_str(), zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(b).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    /// The export reads back (the polygons' layer), and mutated archives
    /// are refused or read, never a panic.
    #[test]
    fn exports_read_back_and_mutants_never_panic() {
        let zip = write_shapefile_zip(&table()).unwrap();
        let all = members(&zip);
        let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"protection_targets_polygon.shp"),
            "{names:?}"
        );
        assert!(names.contains(&"protection_targets_point.cpg"), "{names:?}");
        let polygons: Vec<(String, Vec<u8>)> = all
            .iter()
            .filter(|(n, _)| n.starts_with("protection_targets_polygon"))
            .cloned()
            .collect();
        let layer = read_shapefile_zip(&rezip(&polygons)).unwrap();
        assert_eq!(layer.fields, ["id", "name", "population"]);
        assert_eq!(layer.records.len(), 3);
        assert_eq!(
            layer.records[1].cells.as_ref().unwrap()[1],
            Cell::Text("学校1".into())
        );
        assert_eq!(layer.crs, Some(Crs::Wgs84));
        let mut rng = rand::rngs::StdRng::seed_from_u64(20261207);
        for _ in 0..400 {
            let mut m = polygons.clone();
            let k = rng.random_range(0..m.len());
            let bytes = &mut m[k].1;
            if bytes.is_empty() {
                continue;
            }
            match rng.random_range(0..3) {
                0 => {
                    for _ in 0..rng.random_range(1..8) {
                        let i = rng.random_range(0..bytes.len());
                        bytes[i] = rng.random();
                    }
                }
                1 => {
                    let n = rng.random_range(0..bytes.len());
                    bytes.truncate(n);
                }
                _ => {
                    let i = rng.random_range(0..bytes.len());
                    let v: u8 = rng.random();
                    bytes.splice(i..i, std::iter::repeat_n(v, rng.random_range(1..64)));
                }
            }
            let _ = read_shapefile_zip(&rezip(&m));
        }
    }
}

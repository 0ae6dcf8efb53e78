//! Import and validation (数据导入与校验).
//!
//! Every way data enters riskmap (the `import` command, HTTP writes) goes
//! through this module. It parses GeoJSON FeatureCollections and CSV (with
//! `lon`/`lat` or `wkt` columns), converts the declared input CRS to WGS84 and
//! checks everything the import schema demands. It reports **every** error it
//! finds (up to [`MAX_REPORTED_ERRORS`]), each naming the record (index and id)
//! and the field, and yields features only when there is none: a caller that
//! writes the result in one transaction therefore never stores a partial import.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use geo::{Geometry, MapCoords};
use geojson::GeometryValue;
use riskmap_spatial::Crs;
use serde_json::{Map, Value};

use crate::model::{
    Accident, AccidentSeverity, Collection, DiagnosisItem, District, Enterprise, Feature,
    FindingResult, InspectionFinding, Installation, Park, ParkKind, Pipeline, PipelineKind,
    ProtectionTarget, Record, Substance, TargetCategory, Unit, UnitKind,
};
use crate::standards::gb18218::Gb18218;

/// At most this many errors are listed; the total is still counted.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// Input file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A GeoJSON FeatureCollection (or a single Feature).
    GeoJson,
    /// CSV with a header row and `lon`,`lat` or `wkt` columns.
    Csv,
    /// An Excel workbook (.xlsx): its first sheet, read like CSV
    /// ([`crate::office::parse_xlsx`]).
    Xlsx,
    /// An Esri Shapefile as a .zip (`.shp`, `.shx`, `.dbf`, `.prj`, `.cpg`),
    /// read by [`crate::gis::read_shapefile_zip`].
    Shapefile,
    /// An OGC GeoPackage (SQLite), read by the store crate's GeoPackage reader.
    GeoPackage,
    /// FlatGeobuf, read by [`crate::gis::read_flatgeobuf`].
    FlatGeobuf,
    /// KML, read by [`crate::gis::kml::read_kml`].
    Kml,
}

impl Format {
    /// Every format, by [`Format::name`].
    pub const ALL: [Format; 7] = [
        Format::GeoJson,
        Format::Csv,
        Format::Xlsx,
        Format::Shapefile,
        Format::GeoPackage,
        Format::FlatGeobuf,
        Format::Kml,
    ];

    /// The name `--format` takes: `geojson`, `csv`, `xlsx`, `shp`, `gpkg`,
    /// `fgb`, `kml`.
    pub fn name(self) -> &'static str {
        match self {
            Format::GeoJson => "geojson",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Shapefile => "shp",
            Format::GeoPackage => "gpkg",
            Format::FlatGeobuf => "fgb",
            Format::Kml => "kml",
        }
    }

    /// A format by its name (or a usual alternative: `json`, `shapefile`,
    /// `zip`, `geopackage`, `flatgeobuf`).
    pub fn from_name(name: &str) -> Option<Format> {
        match name.trim().to_ascii_lowercase().as_str() {
            "geojson" | "json" => Some(Format::GeoJson),
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            "shp" | "shapefile" | "zip" | "shp.zip" => Some(Format::Shapefile),
            "gpkg" | "geopackage" => Some(Format::GeoPackage),
            "fgb" | "flatgeobuf" => Some(Format::FlatGeobuf),
            "kml" => Some(Format::Kml),
            _ => None,
        }
    }

    /// Guesses the format from a file name (`.csv` → CSV, `.xlsx` → Excel,
    /// `.zip`/`.shp.zip` → Shapefile, `.gpkg`, `.fgb`, `.kml`; anything else
    /// GeoJSON).
    pub fn from_path(path: &str) -> Format {
        let lower = path.to_ascii_lowercase();
        let ends = |e: &str| lower.ends_with(e);
        if ends(".csv") {
            Format::Csv
        } else if ends(".xlsx") {
            Format::Xlsx
        } else if ends(".zip") {
            Format::Shapefile
        } else if ends(".gpkg") {
            Format::GeoPackage
        } else if ends(".fgb") {
            Format::FlatGeobuf
        } else if ends(".kml") {
            Format::Kml
        } else {
            Format::GeoJson
        }
    }

    /// The format of a file by its first bytes, for the binary formats and
    /// KML: a SQLite header (GeoPackage), FlatGeobuf's magic, a zip holding a
    /// `.shp` (Shapefile) or an `xl/` part (workbook), `<kml`. `None` for
    /// anything else (text: GeoJSON or CSV, told by the name).
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        if bytes.starts_with(b"SQLite format 3\0") {
            return Some(Format::GeoPackage);
        }
        if bytes.len() >= 8 && &bytes[..3] == b"fgb" && &bytes[4..7] == b"fgb" {
            return Some(Format::FlatGeobuf);
        }
        if bytes.starts_with(b"PK\x03\x04") {
            let has = |needle: &[u8]| {
                bytes
                    .windows(needle.len())
                    .any(|w| w.eq_ignore_ascii_case(needle))
            };
            if has(b".shp") {
                return Some(Format::Shapefile);
            }
            if has(b"xl/") {
                return Some(Format::Xlsx);
            }
            return None;
        }
        let head = &bytes[..bytes.len().min(1024)];
        let head = String::from_utf8_lossy(head);
        let t = head.trim_start_matches('\u{feff}').trim_start();
        if t.starts_with("<kml") || (t.starts_with("<?xml") && t.contains("<kml")) {
            return Some(Format::Kml);
        }
        None
    }

    /// Whether the format is a GIS layer with typed fields and geometries
    /// (read into a [`Layer`] and validated by [`parse_layer`]).
    pub fn is_layer(self) -> bool {
        matches!(
            self,
            Format::Shapefile | Format::GeoPackage | Format::FlatGeobuf | Format::Kml
        )
    }
}

/// One validation error, naming the record and the field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportError {
    /// 0-based index of the record in the input (`None` for file-level errors).
    pub index: Option<usize>,
    /// The record's id, when it has one.
    pub id: Option<String>,
    /// The field path, e.g. `units[0].substances[1].quantity_t` or `geometry`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// Tabular input (CSV, xlsx): the row as a spreadsheet shows it (the
    /// header is row 1; in CSV the line where the record starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row: Option<usize>,
    /// Tabular input: the column by letter and header, e.g. `H (整改期限)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.row, self.index, &self.id) {
            (Some(r), _, Some(id)) => write!(f, "row {r} (id {id:?})")?,
            (Some(r), _, None) => write!(f, "row {r}")?,
            (None, Some(i), Some(id)) => write!(f, "record {i} (id {id:?})")?,
            (None, Some(i), None) => write!(f, "record {i}")?,
            (None, None, _) => write!(f, "file")?,
        }
        if let Some(c) = &self.column {
            write!(f, ", column {c}")?;
        }
        write!(f, ", field `{}`: {}", self.field, self.message)
    }
}

/// All errors of a rejected import.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportErrors {
    /// The first [`MAX_REPORTED_ERRORS`] errors, in input order.
    pub errors: Vec<ImportError>,
    /// How many errors there were in all.
    pub total: usize,
}

impl ImportErrors {
    /// One error of the whole file (no record), e.g. `("(header)", "…")`.
    pub fn file(field: &str, message: impl Into<String>) -> Self {
        ImportErrors {
            errors: vec![ImportError {
                index: None,
                id: None,
                field: field.into(),
                message: message.into(),
                row: None,
                column: None,
            }],
            total: 1,
        }
    }
}

impl fmt::Display for ImportErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} error(s); nothing was imported", self.total)?;
        for e in &self.errors {
            writeln!(f, "  {e}")?;
        }
        if self.total > self.errors.len() {
            writeln!(f, "  … and {} more", self.total - self.errors.len())?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportErrors {}

/// Collects errors across records, keeping the first [`MAX_REPORTED_ERRORS`].
#[derive(Default)]
struct Collector {
    errors: Vec<ImportError>,
    total: usize,
}

impl Collector {
    fn push(&mut self, index: usize, id: Option<&str>, field: String, message: String) {
        self.push_at(index, id, field, message, None, None);
    }

    /// An error of a table row, with its row number and column.
    fn push_at(
        &mut self,
        index: usize,
        id: Option<&str>,
        field: String,
        message: String,
        row: Option<usize>,
        column: Option<String>,
    ) {
        self.total += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(ImportError {
                index: Some(index),
                id: id.map(str::to_string),
                field,
                message,
                row,
                column,
            });
        }
    }

    fn finish(self, features: Vec<Feature>) -> Result<Vec<Feature>, ImportErrors> {
        if self.total == 0 {
            Ok(features)
        } else {
            Err(ImportErrors {
                errors: self.errors,
                total: self.total,
            })
        }
    }
}

/// The text of an input file and the encoding it was read in. Accepted:
/// UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark
/// (Excel's "Unicode text"), and GB18030, which includes GBK and GB2312 (the
/// usual encoding of CSV files saved by Chinese office software). A file
/// in none of these is refused with the line and byte where it fails.
pub fn decode_text(bytes: &[u8]) -> Result<(String, &'static str), ImportErrors> {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom..]);
        if had_errors {
            return Err(ImportErrors::file(
                "(encoding)",
                format!(
                    "the file starts with a {} byte-order mark but is not valid {}",
                    enc.name(),
                    enc.name()
                ),
            ));
        }
        return Ok((text.into_owned(), enc.name()));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((text.to_string(), "UTF-8")),
        Err(utf8) => {
            let gb = encoding_rs::GB18030;
            if let Some(text) = gb.decode_without_bom_handling_and_without_replacement(bytes) {
                return Ok((text.into_owned(), "GB18030"));
            }
            let at = utf8.valid_up_to();
            let line = bytes[..at].iter().filter(|b| **b == b'\n').count() + 1;
            let column = at
                - bytes[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1)
                + 1;
            Err(ImportErrors::file(
                "(encoding)",
                format!(
                    "line {line}, byte {column}: the file is neither UTF-8 nor GB18030/GBK text; save it as UTF-8 (CSV UTF-8 in Excel or WPS)"
                ),
            ))
        }
    }
}

/// The references of validated records to other collections: an
/// enterprise's `park_id` (所属园区) must name a park and its
/// `district_code` (行政区划代码) a district. `exists` answers whether a
/// feature is there (the caller's catalogue or store); every dangling
/// reference is listed by record and field.
pub fn check_references(
    collection: Collection,
    features: &[Feature],
    exists: impl Fn(Collection, &str) -> bool,
) -> Result<(), ImportErrors> {
    let mut col = Collector::default();
    for (index, f) in features.iter().enumerate() {
        for (field, target, value) in references(collection, f) {
            if !exists(target, value) {
                col.push(
                    index,
                    Some(&f.id),
                    field.into(),
                    format!("{value:?}: no such feature in {target}; load {target} first"),
                );
            }
        }
    }
    col.finish(Vec::new()).map(|_| ())
}

/// The (field, collection, id) references of one record.
pub fn references(collection: Collection, f: &Feature) -> Vec<(&'static str, Collection, &str)> {
    let mut out = Vec::new();
    if let (Collection::Enterprises, Record::Enterprise(e)) = (collection, &f.record) {
        if let Some(p) = e.park_id.as_deref().filter(|p| !p.is_empty()) {
            out.push(("park_id", Collection::Parks, p));
        }
        if let Some(d) = e.district_code.as_deref().filter(|d| !d.is_empty()) {
            out.push(("district_code", Collection::Districts, d));
        }
    }
    if let (Collection::HiddenDangers, Record::HiddenDanger(h)) = (collection, &f.record) {
        if let Some(e) = h.enterprise_id.as_deref().filter(|e| !e.is_empty()) {
            out.push(("enterprise_id", Collection::Enterprises, e));
        }
        if let Some(d) = h.district_code.as_deref().filter(|d| !d.is_empty()) {
            out.push(("district_code", Collection::Districts, d));
        }
    }
    // Emergency resources name their district like an enterprise.
    let resource_district = match (collection, &f.record) {
        (Collection::RescueTeams, Record::RescueTeam(r)) => r.district_code.as_deref(),
        (Collection::SupplyDepots, Record::SupplyDepot(r)) => r.district_code.as_deref(),
        (Collection::Shelters, Record::Shelter(r)) => r.district_code.as_deref(),
        _ => None,
    };
    if let Some(d) = resource_district.filter(|d| !d.is_empty()) {
        out.push(("district_code", Collection::Districts, d));
    }
    out
}

/// The tables of `plausible-bounds.toml`: each a table of numbers.
type BoundTables = std::collections::HashMap<String, std::collections::HashMap<String, f64>>;

/// Parses and checks a `plausible-bounds.toml` text: every top-level key a
/// table, every value in it a number > 0.
pub fn parse_bounds(text: &str) -> Result<BoundTables, String> {
    let doc: toml::Table = crate::rule_set::from_toml(text)?;
    let mut out = BoundTables::new();
    for (name, t) in &doc {
        let t = t
            .as_table()
            .ok_or_else(|| format!("{name}: expected a table of numbers"))?;
        let mut numbers = std::collections::HashMap::new();
        for (k, v) in t {
            let x = v
                .as_float()
                .or_else(|| v.as_integer().map(|i| i as f64))
                .ok_or_else(|| format!("{name}.{k}: expected a number"))?;
            if !(x.is_finite() && x > 0.0) {
                return Err(format!("{name}.{k}: must be a number > 0, got {x}"));
            }
            numbers.insert(k.clone(), x);
        }
        out.insert(name.clone(), numbers);
    }
    Ok(out)
}

/// One table of numbers from `plausible-bounds.toml` in force (see
/// [`crate::rule_set`]), parsed once.
fn bounds_table(table: &str) -> &'static std::collections::HashMap<String, f64> {
    static TABLES: std::sync::OnceLock<BoundTables> = std::sync::OnceLock::new();
    static EMPTY: std::sync::OnceLock<std::collections::HashMap<String, f64>> =
        std::sync::OnceLock::new();
    TABLES
        .get_or_init(|| {
            parse_bounds(crate::rule_set::text("plausible-bounds.toml"))
                .unwrap_or_else(|e| panic!("plausible-bounds.toml: {e}"))
        })
        .get(table)
        .unwrap_or_else(|| EMPTY.get_or_init(Default::default))
}

/// The plausible largest extent of a collection's features (the longest
/// side of the bounding box, km), from `data/rules/plausible-bounds.toml`
/// `[max_extent_km]` (UNCONFIRMED project bounds).
pub fn max_extent_km(collection: Collection) -> Option<f64> {
    bounds_table("max_extent_km")
        .get(collection.as_str())
        .copied()
}

/// The plausible maximum of a numeric field, from
/// `data/rules/plausible-bounds.toml` (UNCONFIRMED project bounds).
pub fn plausible_max(field: &str) -> Option<f64> {
    bounds_table("max").get(field).copied()
}

/// Characters an id may hold besides letters and digits (any script).
pub const ID_PUNCTUATION: &str = "-_.:~@+";

/// Whether `id` is a safe feature id: 1–200 characters, each a letter or
/// digit (any script, so 企业-001 is fine) or one of [`ID_PUNCTUATION`],
/// and not `.` or `..`. Ids appear in URLs and file names, so spaces,
/// slashes, control characters and the like are refused.
pub fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".into());
    }
    if id.chars().count() > 200 {
        return Err("longer than 200 characters".into());
    }
    if id == "." || id == ".." {
        return Err(format!("{id:?} is not an id"));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !c.is_alphanumeric() && !ID_PUNCTUATION.contains(*c))
    {
        return Err(format!(
            "{id:?} contains {c:?}: an id may hold letters, digits and {ID_PUNCTUATION}"
        ));
    }
    Ok(())
}

/// Parses and validates a whole file.
pub fn parse(
    collection: Collection,
    format: Format,
    text: &str,
    crs: Crs,
) -> Result<Vec<Feature>, ImportErrors> {
    match format {
        Format::GeoJson => parse_geojson(collection, text, crs),
        Format::Csv => parse_csv(collection, text, crs),
        Format::Xlsx => Err(ImportErrors::file(
            "(format)",
            "an .xlsx workbook is binary: read it with office::parse_xlsx",
        )),
        Format::Kml => parse_layer(
            collection,
            crate::gis::kml::read_kml(text.as_bytes())?,
            crs,
            None,
        ),
        Format::Shapefile | Format::GeoPackage | Format::FlatGeobuf => Err(ImportErrors::file(
            "(format)",
            format!(
                "a {} file is binary: read it into a Layer first",
                format.name()
            ),
        )),
    }
}

/// Parses and validates a GeoJSON FeatureCollection (or one Feature).
pub fn parse_geojson(
    collection: Collection,
    text: &str,
    crs: Crs,
) -> Result<Vec<Feature>, ImportErrors> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let root: Value = serde_json::from_str(text)
        .map_err(|e| ImportErrors::file("(json)", format!("not valid JSON: {e}")))?;
    parse_geojson_value(collection, &root, crs)
}

/// [`parse_geojson`] of an already parsed JSON document.
pub fn parse_geojson_value(
    collection: Collection,
    root: &Value,
    crs: Crs,
) -> Result<Vec<Feature>, ImportErrors> {
    let items: Vec<&Value> = match root.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => match root.get("features") {
            Some(Value::Array(a)) => a.iter().collect(),
            _ => {
                return Err(ImportErrors::file(
                    "features",
                    "a FeatureCollection needs a `features` array",
                ));
            }
        },
        Some("Feature") => vec![root],
        other => {
            return Err(ImportErrors::file(
                "type",
                format!("expected a GeoJSON FeatureCollection or Feature, found {other:?}"),
            ));
        }
    };
    let mut out = Vec::with_capacity(items.len());
    let mut col = Collector::default();
    let mut seen = HashSet::new();
    for (index, item) in items.into_iter().enumerate() {
        match validate_geojson_feature(collection, item, crs, None) {
            Ok(f) => {
                if !seen.insert(f.id.clone()) {
                    col.push(
                        index,
                        Some(&f.id),
                        "id".into(),
                        "duplicate id in this file".into(),
                    );
                } else {
                    out.push(f);
                }
            }
            Err(errs) => {
                for e in errs.errors {
                    col.push(index, e.id.as_deref(), e.field, e.message);
                }
            }
        }
    }
    col.finish(out)
}

/// Validates one GeoJSON Feature object (as sent to the HTTP write endpoints).
///
/// `id` overrides the feature's own id (a `PUT` to `/items/{id}`); a feature
/// that carries a different id is rejected. Errors carry `index: Some(0)`.
pub fn validate_geojson_feature(
    collection: Collection,
    item: &Value,
    crs: Crs,
    id: Option<&str>,
) -> Result<Feature, ImportErrors> {
    validate_feature(collection, item, crs, id, Extent::Bounded)
}

/// Validates a proposed use for a siting question like a stored feature,
/// except that its extent is not bounded: a planner may ask about an area
/// of any size (the siting check measures it per site).
pub fn validate_proposal(
    collection: Collection,
    item: &Value,
    crs: Crs,
) -> Result<Feature, ImportErrors> {
    validate_feature(collection, item, crs, None, Extent::Any)
}

/// Whether a feature's extent is checked against `[max_extent_km]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extent {
    Bounded,
    Any,
}

fn validate_feature(
    collection: Collection,
    item: &Value,
    crs: Crs,
    id: Option<&str>,
    extent: Extent,
) -> Result<Feature, ImportErrors> {
    let mut errs = RecordErrors::default();
    let Some(obj) = item.as_object() else {
        errs.push("(feature)", "expected a GeoJSON Feature object");
        return Err(errs.into_errors(None));
    };
    if obj.get("type").and_then(Value::as_str) != Some("Feature") {
        errs.push("type", "expected \"Feature\"");
    }
    let props = match obj.get("properties") {
        Some(Value::Object(m)) => m.clone(),
        None | Some(Value::Null) => Map::new(),
        Some(_) => {
            errs.push("properties", "must be an object");
            Map::new()
        }
    };
    let feature_id = match obj.get("id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let geometry = match obj.get("geometry") {
        None | Some(Value::Null) => {
            errs.push("geometry", "required");
            None
        }
        Some(g) => match serde_json::from_value::<geojson::Geometry>(g.clone()) {
            Ok(g) => Some(g.value),
            Err(e) => {
                errs.push("geometry", format!("not a valid GeoJSON geometry: {e}"));
                None
            }
        },
    };
    finish_record(
        collection, feature_id, geometry, props, crs, id, extent, errs,
    )
}

/// One cell of a table row, as CSV or a spreadsheet gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// No value.
    Empty,
    /// Text (every CSV cell).
    Text(String),
    /// A number cell.
    Number(f64),
    /// A date cell: `YYYY-MM-DD`, with `THH:MM:SS` when it has a time.
    Date(String),
    /// A boolean cell.
    Bool(bool),
}

/// One row of a table: its number as a spreadsheet shows it (the header is
/// row 1) and its cells, or why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    /// The row number (in CSV, the line where the record starts).
    pub row: usize,
    /// The cells, in header order, or the reason the row is unreadable.
    pub cells: Result<Vec<Cell>, String>,
}

/// The header row of a table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableHeader {
    /// The column names as given (aliases are applied by [`parse_table`]).
    pub headers: Vec<String>,
    /// The 0-based sheet column of the first one (for column letters).
    pub first_column: usize,
}

/// What a tabular import fills in a row before validating it (a hidden
/// danger's location, district and industry from its enterprise, see
/// [`crate::office::fill_from_enterprise`]): the row's properties and its
/// geometry in the input CRS, `None` when the row gives none.
pub type Fill<'a> = dyn Fn(&mut Map<String, Value>, &mut Option<GeometryValue>) + 'a;

/// Parses and validates CSV: a header row, `lon`,`lat` (or `lng`/`longitude`,
/// `latitude`) or `wkt` columns for the geometry, one column per property.
/// Nested lists (`units`, `accidents`, `history`…) are JSON strings; empty
/// cells are absent values. Headers and value labels go through the column
/// aliases ([`crate::office`]); errors name the row and column.
pub fn parse_csv(
    collection: Collection,
    text: &str,
    crs: Crs,
) -> Result<Vec<Feature>, ImportErrors> {
    parse_csv_with(collection, text, crs, None)
}

/// [`parse_csv`] with a [`Fill`] applied to each row before validation.
pub fn parse_csv_with(
    collection: Collection,
    text: &str,
    crs: Crs,
    fill: Option<&Fill<'_>>,
) -> Result<Vec<Feature>, ImportErrors> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| ImportErrors::file("(header)", format!("cannot read the CSV header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let line = |p: Option<&csv::Position>| p.map_or(0, |p| p.line() as usize);
    let rows = rdr.into_records().map(|r| match r {
        Ok(rec) => TableRow {
            row: line(rec.position()),
            cells: Ok(rec.iter().map(|c| Cell::Text(c.to_string())).collect()),
        },
        Err(e) => TableRow {
            row: line(e.position()),
            cells: Err(format!("unreadable CSV row: {e}")),
        },
    });
    parse_table(
        collection,
        TableHeader {
            headers,
            first_column: 0,
        },
        rows,
        crs,
        fill,
    )
}

/// Parses and validates the rows of a table (CSV, or a sheet of a workbook):
/// the columns go through the alias table of [`crate::office`], each row
/// becomes a record like a GeoJSON feature's properties and is validated
/// the same way, and every error names the row and column it comes from.
pub fn parse_table(
    collection: Collection,
    header: TableHeader,
    rows: impl Iterator<Item = TableRow>,
    crs: Crs,
    fill: Option<&Fill<'_>>,
) -> Result<Vec<Feature>, ImportErrors> {
    parse_rows(
        collection,
        header,
        rows.map(|r| (Some(r.row), r.cells, None)),
        crs,
        fill,
    )
}

/// One record of a GIS layer (a Shapefile, GeoPackage, FlatGeobuf or KML
/// feature): its attribute values in the layer's field order, and its
/// geometry as the file gives it, in the input CRS (`Ok(None)`: a null
/// geometry), or why either could not be read.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerRecord {
    /// The attribute values, one per field of [`Layer::fields`].
    pub cells: Result<Vec<Cell>, String>,
    /// The geometry.
    pub geometry: Result<Option<GeometryValue>, String>,
}

/// A GIS layer as a reader of [`crate::gis`] (or the GeoPackage reader of
/// the store) gives it: field names as the file has them (Chinese DBF
/// names included), records, and the CRS the file declares, if any.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layer {
    /// The attribute fields, in order.
    pub fields: Vec<String>,
    /// The features.
    pub records: Vec<LayerRecord>,
    /// The CRS the file declares (a `.prj`, a GeoPackage's `srs_id`).
    pub crs: Option<Crs>,
    /// The field names are a DBF's: at most 10 bytes, so a longer name may
    /// have been cut (统一社会信用代码 → 统一社会信 in GBK, `credit_code` →
    /// `credit_cod`); a cut name that begins exactly one alias header or
    /// schema field of the collection is read as it.
    pub truncated_names: bool,
}

/// Parses and validates a GIS layer like a table ([`parse_table`]): the
/// field names go through the column aliases (名称 → `name`, 统一社会信用代码
/// → `credit_code`…), each record becomes properties validated like a
/// GeoJSON feature's, and each error names the record (0-based index and
/// id) and the field, with the layer's own field name as the column. The
/// geometry is the record's own (a `wkt` or `lon`/`lat` field is used only
/// when it has none).
pub fn parse_layer(
    collection: Collection,
    layer: Layer,
    crs: Crs,
    fill: Option<&Fill<'_>>,
) -> Result<Vec<Feature>, ImportErrors> {
    let headers = if layer.truncated_names {
        let aliases = crate::office::Aliases::builtin();
        layer
            .fields
            .into_iter()
            .map(|f| aliases.expand_truncated(collection, &f).unwrap_or(f))
            .collect()
    } else {
        layer.fields
    };
    let header = TableHeader {
        headers,
        first_column: 0,
    };
    parse_rows(
        collection,
        header,
        layer
            .records
            .into_iter()
            .map(|r| (None, r.cells, Some(r.geometry))),
        crs,
        fill,
    )
}

/// A row of [`parse_rows`]: its number as a sheet shows it (tables only),
/// its cells, and for a layer its own geometry.
type Row = (
    Option<usize>,
    Result<Vec<Cell>, String>,
    Option<Result<Option<GeometryValue>, String>>,
);

fn parse_rows(
    collection: Collection,
    header: TableHeader,
    rows: impl Iterator<Item = Row>,
    crs: Crs,
    fill: Option<&Fill<'_>>,
) -> Result<Vec<Feature>, ImportErrors> {
    let mut rows = rows.peekable();
    // A layer's records carry their geometry, and its columns are named by
    // the field names alone (no column letters).
    let layer = rows.peek().is_some_and(|r| r.2.is_some());
    let mut cols = crate::office::table_columns(collection, &header)?;
    if layer {
        for (c, h) in cols.iter_mut().zip(&header.headers) {
            c.label = h.trim().to_string();
        }
    }
    let pos = |names: &[&str]| {
        cols.iter()
            .position(|c| names.contains(&c.field.to_ascii_lowercase().as_str()))
    };
    let lon_i = pos(&["lon", "lng", "longitude"]);
    let lat_i = pos(&["lat", "latitude"]);
    let wkt_i = pos(&["wkt", "geometry", "geom"]);
    let has_geometry = wkt_i.is_some() || (lon_i.is_some() && lat_i.is_some());
    // A hidden danger may take its enterprise's site (when a fill is given).
    let filled_later = collection == Collection::HiddenDangers && fill.is_some();
    if !has_geometry && !filled_later && !layer {
        return Err(ImportErrors::file(
            "(header)",
            "the CSV needs a `wkt` column or both `lon` and `lat` columns",
        ));
    }
    let label = |i: Option<usize>| i.and_then(|i| cols.get(i)).map(|c| c.label.clone());
    let geometry_label = match (wkt_i, lon_i, lat_i) {
        (Some(w), _, _) => label(Some(w)),
        (None, Some(x), Some(y)) => Some(format!("{}, {}", cols[x].label, cols[y].label)),
        _ => None,
    };
    // The column an error's field comes from.
    let column_of = |field: &str| -> Option<String> {
        let top = field.split(['.', '[']).next().unwrap_or(field);
        match top {
            "geometry" => geometry_label.clone(),
            "lon" => label(lon_i),
            "lat" => label(lat_i),
            "wkt" => label(wkt_i),
            _ => cols
                .iter()
                .find(|c| !c.ignored && c.field == top)
                .map(|c| c.label.clone()),
        }
    };
    let mut out = Vec::new();
    let mut col = Collector::default();
    let mut seen = HashSet::new();
    for (index, (number, cells, own_geometry)) in rows.enumerate() {
        let cells = match cells {
            Ok(c) => c,
            Err(message) => {
                col.push_at(index, None, "(row)".into(), message, number, None);
                continue;
            }
        };
        let mut errs = RecordErrors::default();
        let mut props = Map::new();
        let mut id = None;
        let mut stray: Vec<(String, String)> = Vec::new();
        for (i, cell) in cells.iter().enumerate() {
            if Some(i) == lon_i || Some(i) == lat_i || Some(i) == wkt_i {
                continue;
            }
            let Some(c) = cols.get(i).filter(|c| !c.ignored && !c.field.is_empty()) else {
                if !matches!(cell, Cell::Empty)
                    && !matches!(cell, Cell::Text(s) if s.trim().is_empty())
                {
                    let letter = crate::office::column_letter(header.first_column + i);
                    if cols.get(i).is_none_or(|c| !c.ignored) {
                        stray.push((letter, "a value in a column without a header".into()));
                    }
                }
                continue;
            };
            match crate::office::cell_value(c, cell) {
                Ok(None) => {}
                Ok(Some(v)) if c.field == "id" => {
                    id = match v {
                        Value::String(s) => Some(s),
                        Value::Number(n) => Some(n.to_string()),
                        other => Some(other.to_string()),
                    }
                }
                Ok(Some(v)) => {
                    props.insert(c.field.clone(), v);
                }
                Err(m) => errs.push(&c.field, m),
            }
        }
        // Err: the errors are in `errs`.
        let mut geometry = match own_geometry {
            Some(Ok(Some(g))) => Some(g),
            Some(Err(m)) => {
                errs.push("geometry", m);
                None
            }
            Some(Ok(None)) | None => {
                read_table_geometry(&cells, lon_i, lat_i, wkt_i, &mut errs).unwrap_or_default()
            }
        };
        let geometry_failed = errs
            .0
            .iter()
            .any(|(f, _)| f == "lon" || f == "lat" || f == "wkt" || f == "geometry");
        if let Some(fill) = fill {
            fill(&mut props, &mut geometry);
        }
        if geometry.is_none() && !geometry_failed {
            errs.push(
                "geometry",
                if layer {
                    "required: the record has no geometry"
                } else if collection == Collection::HiddenDangers {
                    "required: give `wkt`, or `lon` and `lat`, or the `enterprise_id` of a loaded enterprise"
                } else {
                    "required: give `wkt`, or `lon` and `lat`"
                },
            );
        }
        let result = finish_record(
            collection,
            id,
            geometry,
            props,
            crs,
            None,
            Extent::Bounded,
            errs,
        );
        for (letter, message) in stray {
            let id = result.as_ref().ok().map(|f| f.id.clone());
            col.push_at(
                index,
                id.as_deref(),
                "(column)".into(),
                message,
                number,
                Some(letter),
            );
        }
        match result {
            Ok(f) => {
                if !seen.insert(f.id.clone()) {
                    col.push_at(
                        index,
                        Some(&f.id),
                        "id".into(),
                        "duplicate id in this file".into(),
                        number,
                        column_of("id"),
                    );
                } else {
                    out.push(f);
                }
            }
            Err(e) => {
                for e in e.errors {
                    let column = column_of(&e.field);
                    col.push_at(index, e.id.as_deref(), e.field, e.message, number, column);
                }
            }
        }
    }
    col.finish(out)
}

/// The geometry of a table row: its WKT, else its `lon` and `lat` (number
/// cells or text); `Ok(None)` when the row gives none, `Err` when what it
/// gives is wrong (the errors are in `errs`).
fn read_table_geometry(
    cells: &[Cell],
    lon_i: Option<usize>,
    lat_i: Option<usize>,
    wkt_i: Option<usize>,
    errs: &mut RecordErrors,
) -> Result<Option<GeometryValue>, ()> {
    let text = |i: Option<usize>| -> Option<String> {
        match i.and_then(|i| cells.get(i))? {
            Cell::Text(s) | Cell::Date(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Cell::Number(x) => Some(x.to_string()),
            Cell::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    };
    if let Some(s) = text(wkt_i) {
        return match wkt::Wkt::<f64>::from_str(&s) {
            Ok(w) => match Geometry::<f64>::try_from(w) {
                Ok(g) => Ok(Some(GeometryValue::from(&g))),
                Err(e) => {
                    errs.push("wkt", format!("unsupported WKT geometry: {e}"));
                    Err(())
                }
            },
            Err(e) => {
                errs.push("wkt", format!("not valid WKT: {e}"));
                Err(())
            }
        };
    }
    let number = |i: Option<usize>| -> Option<Result<f64, String>> {
        match i.and_then(|i| cells.get(i))? {
            Cell::Number(x) => Some(Ok(*x)),
            _ => {
                let s = text(i)?;
                Some(s.parse::<f64>().map_err(|_| s))
            }
        }
    };
    match (number(lon_i), number(lat_i)) {
        (None, None) => Ok(None),
        (x, y) => {
            let mut get = |v: Option<Result<f64, String>>, field: &str| match v {
                Some(Ok(v)) => Some(v),
                Some(Err(s)) => {
                    errs.push(field, format!("not a number: {s:?}"));
                    None
                }
                None => {
                    errs.push(field, "required with the other coordinate");
                    None
                }
            };
            match (get(x, "lon"), get(y, "lat")) {
                (Some(x), Some(y)) => Ok(Some(GeometryValue::new_point([x, y]))),
                _ => Err(()),
            }
        }
    }
}

/// Errors of one record, before it has an index.
#[derive(Default)]
struct RecordErrors(Vec<(String, String)>);

impl RecordErrors {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    fn into_errors(self, id: Option<&str>) -> ImportErrors {
        let total = self.0.len();
        ImportErrors {
            errors: self
                .0
                .into_iter()
                .map(|(field, message)| ImportError {
                    index: Some(0),
                    id: id.map(str::to_string),
                    field,
                    message,
                    row: None,
                    column: None,
                })
                .collect(),
            total,
        }
    }
}

// The record's parts as they come from either reader (GeoJSON or CSV).
#[allow(clippy::too_many_arguments)]
fn finish_record(
    collection: Collection,
    feature_id: Option<String>,
    geometry: Option<GeometryValue>,
    mut props: Map<String, Value>,
    crs: Crs,
    forced_id: Option<&str>,
    extent: Extent,
    mut errs: RecordErrors,
) -> Result<Feature, ImportErrors> {
    // Derived values an export adds (levels, summaries, `overdue`) are
    // computed, never stored.
    for k in crate::office::DERIVED_COLUMNS {
        props.remove(k);
    }
    // The id: the Feature's `id`, else `properties.id` (districts: `code`).
    let prop_id = match props.remove("id") {
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Null) | None => None,
        Some(_) => {
            errs.push("id", "must be a string");
            None
        }
    };
    let mut id = feature_id.or(prop_id);
    if collection == Collection::Districts && id.is_none() {
        id = props
            .get("code")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    if let Some(forced) = forced_id {
        match &id {
            Some(own) if own != forced => {
                errs.push(
                    "id",
                    format!("the body's id {own:?} differs from the URL's {forced:?}"),
                );
            }
            _ => id = Some(forced.to_string()),
        }
    }
    match &id {
        None => errs.push("id", "required"),
        Some(s) => {
            if let Err(m) = check_id(s) {
                errs.push("id", m);
            }
        }
    }
    let geometry =
        geometry.and_then(|g| validate_geometry(collection, &g, crs, "geometry", &mut errs));
    if let Some(g) = &geometry
        && extent == Extent::Bounded
        && let Some(max) = max_extent_km(collection)
        && let Some(r) = geo::BoundingRect::bounding_rect(g)
    {
        let mid = ((r.min().y + r.max().y) / 2.0).to_radians();
        let width = (r.max().x - r.min().x) * 111.32 * mid.cos();
        let height = (r.max().y - r.min().y) * 110.57;
        let extent = width.max(height);
        if extent > max {
            errs.push(
                "geometry",
                format!(
                    "spans {extent:.0} km, above the plausible maximum of {max} km for {collection} \
                     (data/rules/plausible-bounds.toml, an UNCONFIRMED project bound): is the CRS or the axis order wrong?"
                ),
            );
        }
    }
    let record = validate_properties(collection, &props, crs, &mut errs);
    if let (Some(Record::District(d)), Some(id)) = (&record, &id)
        && &d.code != id
    {
        errs.push(
            "code",
            format!("a district's id must be its code ({:?} ≠ {id:?})", d.code),
        );
    }
    match (errs.0.is_empty(), id, geometry, record) {
        (true, Some(id), Some(geometry), Some(record)) => Ok(Feature {
            updated: None,
            id,
            geometry,
            record,
        }),
        (_, id, _, _) => Err(errs.into_errors(id.as_deref())),
    }
}

/// Checks a geometry's structure, coordinate ranges and validity; converts it to WGS84.
fn validate_geometry(
    collection: Collection,
    g: &GeometryValue,
    crs: Crs,
    field: &str,
    errs: &mut RecordErrors,
) -> Option<Geometry<f64>> {
    let allowed = collection.allowed_geometries();
    check_geometry_type(g, allowed, field, errs)?;
    // Projected input (Gauss–Krüger metres) becomes WGS84 first, so that the
    // range and validity checks below read degrees.
    let unprojected;
    let (g, crs) = if crs.is_projected() {
        unprojected = unproject_positions(g, crs, field, errs)?;
        (&unprojected, Crs::Wgs84)
    } else {
        (g, crs)
    };
    let before = errs.0.len();
    check_positions(g, field, errs);
    if errs.0.len() > before {
        return None;
    }
    let geom = match Geometry::<f64>::try_from(g.clone()) {
        Ok(geom) => geom,
        Err(e) => {
            errs.push(field, format!("cannot read geometry: {e}"));
            return None;
        }
    };
    let geom = geom.map_coords(|c| {
        let (x, y) = crs.to_wgs84(c.x, c.y);
        geo::coord! { x: x, y: y }
    });
    let problems = riskmap_spatial::validity::validation_errors(&geom);
    if !problems.is_empty() {
        for p in problems.iter().take(5) {
            errs.push(field, format!("invalid {}: {p}", g.type_name()));
        }
        return None;
    }
    Some(geom)
}

/// Every position of a geometry in a projected CRS, converted to WGS84
/// longitude/latitude; `None` (with the first failing position named) when
/// one cannot be.
fn unproject_positions(
    g: &GeometryValue,
    crs: Crs,
    field: &str,
    errs: &mut RecordErrors,
) -> Option<GeometryValue> {
    let mut out = g.clone();
    let mut failure: Option<(String, String)> = None;
    let mut conv = |p: &mut geojson::Position, path: String| {
        if failure.is_some() || p.len() < 2 {
            return;
        }
        let s = p.as_slice_mut();
        match crs.try_to_wgs84(s[0], s[1]) {
            Ok((x, y)) => {
                s[0] = x;
                s[1] = y;
            }
            Err(m) => failure = Some((path, format!("{m} ({crs})"))),
        }
    };
    let c = format!("{field}.coordinates");
    let ring = |r: &mut Vec<geojson::Position>,
                path: &str,
                conv: &mut dyn FnMut(&mut geojson::Position, String)| {
        for (i, p) in r.iter_mut().enumerate() {
            conv(p, format!("{path}[{i}]"));
        }
    };
    match &mut out {
        GeometryValue::Point { coordinates } => conv(coordinates, c),
        GeometryValue::MultiPoint { coordinates } | GeometryValue::LineString { coordinates } => {
            ring(coordinates, &c, &mut conv)
        }
        GeometryValue::MultiLineString { coordinates } | GeometryValue::Polygon { coordinates } => {
            for (i, l) in coordinates.iter_mut().enumerate() {
                ring(l, &format!("{c}[{i}]"), &mut conv);
            }
        }
        GeometryValue::MultiPolygon { coordinates } => {
            for (i, poly) in coordinates.iter_mut().enumerate() {
                for (j, l) in poly.iter_mut().enumerate() {
                    ring(l, &format!("{c}[{i}][{j}]"), &mut conv);
                }
            }
        }
        GeometryValue::GeometryCollection { .. } => {}
    }
    match failure {
        Some((path, m)) => {
            errs.push(path, m);
            None
        }
        None => Some(out),
    }
}

fn check_geometry_type(
    g: &GeometryValue,
    allowed: &[&str],
    field: &str,
    errs: &mut RecordErrors,
) -> Option<()> {
    if allowed.contains(&g.type_name()) {
        Some(())
    } else {
        errs.push(
            field,
            format!(
                "type {} not allowed here; expected {}",
                g.type_name(),
                allowed.join(" or ")
            ),
        );
        None
    }
}

fn check_position(p: &geojson::Position, path: &str, errs: &mut RecordErrors) -> bool {
    let s = p.as_slice();
    if s.len() < 2 {
        errs.push(path, "a position needs longitude and latitude");
        return false;
    }
    let (x, y) = (s[0], s[1]);
    if !x.is_finite() || !y.is_finite() {
        errs.push(path, "coordinates must be finite numbers");
        return false;
    }
    if !(-180.0..=180.0).contains(&x) || !(-90.0..=90.0).contains(&y) {
        errs.push(
            path,
            format!("({x}, {y}) is out of range: longitude must be within ±180 and latitude within ±90 (is the CRS projected, or are axes swapped?)"),
        );
        return false;
    }
    true
}

fn check_line(
    line: &[geojson::Position],
    min: usize,
    ring: bool,
    path: &str,
    errs: &mut RecordErrors,
) {
    if line.len() < min {
        errs.push(
            path,
            format!("needs at least {min} positions, has {}", line.len()),
        );
        return;
    }
    for (i, p) in line.iter().enumerate() {
        if !check_position(p, &format!("{path}[{i}]"), errs) {
            return;
        }
    }
    if ring && line.first().map(|p| p.as_slice()) != line.last().map(|p| p.as_slice()) {
        errs.push(
            path,
            "ring is not closed: its first and last positions differ",
        );
    }
}

fn check_positions(g: &GeometryValue, field: &str, errs: &mut RecordErrors) {
    let c = format!("{field}.coordinates");
    match g {
        GeometryValue::Point { coordinates } => {
            check_position(coordinates, &c, errs);
        }
        GeometryValue::MultiPoint { coordinates } => {
            for (i, p) in coordinates.iter().enumerate() {
                check_position(p, &format!("{c}[{i}]"), errs);
            }
        }
        GeometryValue::LineString { coordinates } => check_line(coordinates, 2, false, &c, errs),
        GeometryValue::MultiLineString { coordinates } => {
            if coordinates.is_empty() {
                errs.push(&c, "empty MultiLineString");
            }
            for (i, l) in coordinates.iter().enumerate() {
                check_line(l, 2, false, &format!("{c}[{i}]"), errs);
            }
        }
        GeometryValue::Polygon { coordinates } => check_rings(coordinates, &c, errs),
        GeometryValue::MultiPolygon { coordinates } => {
            if coordinates.is_empty() {
                errs.push(&c, "empty MultiPolygon");
            }
            for (i, p) in coordinates.iter().enumerate() {
                check_rings(p, &format!("{c}[{i}]"), errs);
            }
        }
        GeometryValue::GeometryCollection { .. } => {
            errs.push(field, "GeometryCollection is not supported")
        }
    }
}

fn check_rings(rings: &[Vec<geojson::Position>], path: &str, errs: &mut RecordErrors) {
    if rings.is_empty() {
        errs.push(path, "a polygon needs an exterior ring");
    }
    for (i, r) in rings.iter().enumerate() {
        check_line(r, 4, true, &format!("{path}[{i}]"), errs);
    }
}

/// Reads typed fields from a property map, recording one error per bad field.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    fn new(map: &'a Map<String, Value>, prefix: impl Into<String>) -> Self {
        Fields {
            map,
            prefix: prefix.into(),
        }
    }

    fn path(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.prefix)
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str, required: bool, errs: &mut RecordErrors) -> Option<String> {
        match self.get(key) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Some(Value::String(_)) | None => {
                if required {
                    errs.push(self.path(key), "required");
                }
                None
            }
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(_) => {
                errs.push(self.path(key), "must be a string");
                None
            }
        }
    }

    fn number(&self, key: &str, required: bool, errs: &mut RecordErrors) -> Option<f64> {
        let v = match self.get(key) {
            None => {
                if required {
                    errs.push(self.path(key), "required");
                }
                return None;
            }
            Some(Value::Number(n)) => n.as_f64(),
            Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        match v {
            Some(x) if x.is_finite() => match plausible_max(key) {
                Some(max) if x > max => {
                    errs.push(
                        self.path(key),
                        format!(
                            "{x} is above the plausible maximum {max} (data/rules/plausible-bounds.toml, an UNCONFIRMED project bound): check the unit"
                        ),
                    );
                    None
                }
                _ => Some(x),
            },
            _ => {
                errs.push(
                    self.path(key),
                    format!("must be a number, got {}", self.map[key]),
                );
                None
            }
        }
    }

    fn positive(&self, key: &str, required: bool, errs: &mut RecordErrors) -> Option<f64> {
        let x = self.number(key, required, errs)?;
        if x > 0.0 {
            Some(x)
        } else {
            errs.push(self.path(key), format!("must be greater than 0, got {x}"));
            None
        }
    }

    fn integer(&self, key: &str, min: i64, max: i64, errs: &mut RecordErrors) -> Option<i64> {
        let x = self.number(key, false, errs)?;
        if x.fract() != 0.0 || x < min as f64 || x > max as f64 {
            errs.push(
                self.path(key),
                format!("must be a whole number from {min} to {max}, got {x}"),
            );
            return None;
        }
        Some(x as i64)
    }

    fn count(&self, key: &str, errs: &mut RecordErrors) -> Option<u32> {
        self.integer(key, 0, u32::MAX as i64, errs)
            .map(|x| x as u32)
    }

    fn choice<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
        names: &[&str],
        required: bool,
        errs: &mut RecordErrors,
    ) -> Option<T> {
        let s = self.string(key, required, errs)?;
        match serde_json::from_value::<T>(Value::String(s.clone())) {
            Ok(t) if names.contains(&s.as_str()) => Some(t),
            _ => {
                errs.push(
                    self.path(key),
                    format!("unknown value {s:?}; expected one of {}", names.join(", ")),
                );
                None
            }
        }
    }

    /// An optional yes/no: a JSON boolean, or the text `true`/`false`
    /// (a CSV cell), 是/否.
    fn boolean(&self, key: &str, errs: &mut RecordErrors) -> Option<bool> {
        match self.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "" => None,
                "true" | "是" => Some(true),
                "false" | "否" => Some(false),
                other => {
                    errs.push(
                        self.path(key),
                        format!("must be true or false, got {other:?}"),
                    );
                    None
                }
            },
            other => {
                errs.push(
                    self.path(key),
                    format!("must be true or false, got {other}"),
                );
                None
            }
        }
    }

    fn list(&self, key: &str, errs: &mut RecordErrors) -> Vec<&'a Value> {
        match self.get(key) {
            None => Vec::new(),
            Some(Value::Array(a)) => a.iter().collect(),
            Some(_) => {
                errs.push(self.path(key), "must be a list");
                Vec::new()
            }
        }
    }

    fn strings(&self, key: &str, errs: &mut RecordErrors) -> Vec<String> {
        let mut out = Vec::new();
        for (i, v) in self.list(key, errs).into_iter().enumerate() {
            match v.as_str() {
                Some(s) if !s.trim().is_empty() => out.push(s.trim().to_string()),
                _ => errs.push(
                    format!("{}[{i}]", self.path(key)),
                    "must be a non-empty string",
                ),
            }
        }
        out
    }

    fn extra(&self, known: &[&str]) -> Map<String, Value> {
        self.map
            .iter()
            .filter(|(k, _)| !known.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

fn validate_properties(
    collection: Collection,
    props: &Map<String, Value>,
    crs: Crs,
    errs: &mut RecordErrors,
) -> Option<Record> {
    let f = Fields::new(props, "");
    let before = errs.0.len();
    let record = match collection {
        Collection::Enterprises => Record::Enterprise(enterprise(&f, crs, errs)),
        Collection::Parks => {
            let score = f.number("assessment_score", false, errs);
            if let Some(s) = score
                && !(0.0..=100.0).contains(&s)
            {
                errs.push("assessment_score", format!("must be within 0–100, got {s}"));
            }
            Record::Park(Park {
                name: f.string("name", true, errs).unwrap_or_default(),
                kind: f
                    .choice(
                        "kind",
                        &["chemical", "industrial", "logistics", "other"],
                        true,
                        errs,
                    )
                    .unwrap_or(ParkKind::Other),
                assessment_score: score,
                extra: f.extra(&["name", "kind", "assessment_score"]),
            })
        }
        Collection::Pipelines => Record::Pipeline(Pipeline {
            name: f.string("name", true, errs).unwrap_or_default(),
            kind: f
                .choice(
                    "kind",
                    &["gas_transmission", "oil", "urban_gas", "other"],
                    true,
                    errs,
                )
                .unwrap_or(PipelineKind::Other),
            diameter_mm: f.positive("diameter_mm", true, errs).unwrap_or_default(),
            maop_mpa: f.positive("maop_mpa", true, errs).unwrap_or_default(),
            medium: f.string("medium", false, errs),
            material: f.string("material", false, errs),
            year_built: f.integer("year_built", 1850, 2100, errs).map(|y| y as u16),
            operator: f.string("operator", false, errs),
            extra: f.extra(&[
                "name",
                "kind",
                "diameter_mm",
                "maop_mpa",
                "medium",
                "material",
                "year_built",
                "operator",
            ]),
        }),
        Collection::ProtectionTargets => Record::ProtectionTarget(ProtectionTarget {
            // A target is reported by name in every violation and siting answer.
            name: f.string("name", true, errs),
            category: f
                .choice("category", &TargetCategory::NAMES, true, errs)
                .unwrap_or(TargetCategory::Other),
            population: f.count("population", errs),
            households: f.count("households", errs),
            beds: f.count("beds", errs),
            floor_area_m2: f.number("floor_area_m2", false, errs).and_then(|a| {
                if a < 0.0 {
                    errs.push("floor_area_m2", "must not be negative");
                    None
                } else {
                    Some(a)
                }
            }),
            extra: f.extra(&[
                "name",
                "category",
                "population",
                "households",
                "beds",
                "floor_area_m2",
            ]),
        }),
        Collection::Districts => {
            let code = f.string("code", true, errs).unwrap_or_default();
            if !code.is_empty() && !is_division_code(&code) {
                errs.push(
                    "code",
                    format!("must be a 6-digit division code, got {code:?}"),
                );
            }
            Record::District(District {
                code,
                name: f.string("name", true, errs).unwrap_or_default(),
                level: f.string("level", false, errs),
                extra: f.extra(&["code", "name", "level"]),
            })
        }
        Collection::HiddenDangers => Record::HiddenDanger(hidden_danger(&f, errs)),
        Collection::RescueTeams => Record::RescueTeam(rescue_team(&f, errs)),
        Collection::SupplyDepots => Record::SupplyDepot(supply_depot(&f, errs)),
        Collection::Shelters => Record::Shelter(shelter(&f, errs)),
    };
    (errs.0.len() == before).then_some(record)
}

/// An optional 6-digit division code (行政区划代码) in `key`.
fn division_code(f: &Fields<'_>, key: &str, errs: &mut RecordErrors) -> Option<String> {
    let code = f.string(key, false, errs)?;
    if is_division_code(&code) {
        Some(code)
    } else {
        errs.push(
            f.path(key),
            format!("must be a 6-digit division code, got {code:?}"),
        );
        None
    }
}

/// An optional number ≥ 0 in `key`.
fn non_negative(f: &Fields<'_>, key: &str, required: bool, errs: &mut RecordErrors) -> Option<f64> {
    let x = f.number(key, required, errs)?;
    if x < 0.0 {
        errs.push(f.path(key), format!("must not be negative, got {x}"));
        return None;
    }
    Some(x)
}

/// A rescue team (救援队伍).
fn rescue_team(f: &Fields<'_>, errs: &mut RecordErrors) -> crate::resources::RescueTeam {
    use crate::resources::{RescueTeam, TeamKind};
    RescueTeam {
        name: f.string("name", true, errs).unwrap_or_default(),
        kind: f
            .choice("kind", &TeamKind::NAMES, true, errs)
            .unwrap_or(TeamKind::Other),
        members: f.count("members", errs),
        equipment: f.string("equipment", false, errs),
        contact: f.string("contact", false, errs),
        mobilisation_min: non_negative(f, "mobilisation_min", false, errs),
        district_code: division_code(f, "district_code", errs),
        sample: f.boolean("sample", errs),
        extra: f.extra(&[
            "name",
            "kind",
            "members",
            "equipment",
            "contact",
            "mobilisation_min",
            "district_code",
            "sample",
        ]),
    }
}

/// A supply depot (物资储备库) with its stock, each item checked.
fn supply_depot(f: &Fields<'_>, errs: &mut RecordErrors) -> crate::resources::SupplyDepot {
    use crate::resources::{SupplyDepot, SupplyItem};
    let mut items = Vec::new();
    for (i, v) in f.list("items", errs).into_iter().enumerate() {
        let path = format!("items[{i}]");
        let Some(map) = v.as_object() else {
            errs.push(path, "must be an object {name, quantity, unit}");
            continue;
        };
        let item = Fields::new(map, path);
        let name = item.string("name", true, errs);
        let quantity = non_negative(&item, "quantity", true, errs);
        let unit = item.string("unit", false, errs);
        if let (Some(name), Some(quantity)) = (name, quantity) {
            items.push(SupplyItem {
                name,
                quantity,
                unit,
            });
        }
    }
    SupplyDepot {
        name: f.string("name", true, errs).unwrap_or_default(),
        items,
        contact: f.string("contact", false, errs),
        district_code: division_code(f, "district_code", errs),
        sample: f.boolean("sample", errs),
        extra: f.extra(&["name", "items", "contact", "district_code", "sample"]),
    }
}

/// An emergency shelter (应急避难场所).
fn shelter(f: &Fields<'_>, errs: &mut RecordErrors) -> crate::resources::Shelter {
    use crate::resources::{Shelter, ShelterClass};
    if f.get("capacity_persons").is_none() {
        errs.push(f.path("capacity_persons"), "required");
    }
    Shelter {
        name: f.string("name", true, errs).unwrap_or_default(),
        class: f
            .choice("class", &ShelterClass::NAMES, true, errs)
            .unwrap_or(ShelterClass::Emergency),
        capacity_persons: f.count("capacity_persons", errs).unwrap_or_default(),
        area_m2: f.positive("area_m2", false, errs),
        district_code: division_code(f, "district_code", errs),
        sample: f.boolean("sample", errs),
        extra: f.extra(&[
            "name",
            "class",
            "capacity_persons",
            "area_m2",
            "district_code",
            "sample",
        ]),
    }
}

/// A hidden danger (事故隐患). Its status and history are checked against the
/// lifecycle of `data/rules/hidden-dangers.toml`; a new one is `reported`.
fn hidden_danger(f: &Fields<'_>, errs: &mut RecordErrors) -> crate::dangers::HiddenDanger {
    use crate::dangers::{DangerEvent, DangerLevel, DangerRules, DangerSource, FIRST_STATE};
    let rules = DangerRules::builtin();
    let level: Option<DangerLevel> = f.choice("level", &["general", "major"], true, errs);
    let rule_item = f.string("rule_item", false, errs);
    match (&rule_item, level) {
        (Some(item), _) if rules.item(item).is_none() => errs.push(
            "rule_item",
            format!(
                "unknown 判定标准 item {item:?}; expected one of {} … {} (data/rules/hidden-dangers.toml)",
                rules.item.first().map_or("", |i| i.id.as_str()),
                rules.item.last().map_or("", |i| i.id.as_str())
            ),
        ),
        (None, Some(DangerLevel::Major)) => errs.push(
            "rule_item",
            "required for a 重大 (major) danger: the 判定标准 item it meets, e.g. HC121-03",
        ),
        _ => {}
    }
    let district_code = f.string("district_code", false, errs);
    if let Some(code) = &district_code
        && !is_division_code(code)
    {
        errs.push(
            "district_code",
            format!("must be a 6-digit division code, got {code:?}"),
        );
    }
    let date = |key: &str, required: bool, errs: &mut RecordErrors| {
        let d = f.string(key, required, errs)?;
        if is_iso_date(&d) {
            Some(d)
        } else {
            errs.push(key, format!("must be a date YYYY-MM-DD, got {d:?}"));
            None
        }
    };
    let found_date = date("found_date", true, errs);
    let deadline = date("deadline", false, errs);
    if let (Some(found), Some(due)) = (&found_date, &deadline)
        && due < found
    {
        errs.push(
            "deadline",
            format!("{due} is before the found date {found}"),
        );
    }
    let funds_cny = f.number("funds_cny", false, errs);
    if funds_cny.is_some_and(|x| x < 0.0) {
        errs.push("funds_cny", "must not be negative");
    }
    let status = f
        .string("status", false, errs)
        .unwrap_or_else(|| FIRST_STATE.to_string());
    if rules.state(&status).is_none() {
        errs.push(
            "status",
            format!(
                "unknown state {status:?}; expected one of {}",
                rules
                    .state
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let mut history = Vec::new();
    for (i, v) in f.list("history", errs).into_iter().enumerate() {
        match serde_json::from_value::<DangerEvent>(v.clone()) {
            Ok(e) => history.push(e),
            Err(e) => errs.push(format!("history[{i}]"), format!("not a history event: {e}")),
        }
    }
    if let Some(last) = history.last()
        && last.to != status
    {
        errs.push(
            "status",
            format!(
                "{status:?} differs from the last history event's state {:?}",
                last.to
            ),
        );
    }
    crate::dangers::HiddenDanger {
        enterprise_id: f.string("enterprise_id", false, errs),
        district_code,
        industry: f.string("industry", false, errs),
        source: f
            .choice(
                "source",
                &DangerSource::ALL.map(DangerSource::as_str),
                true,
                errs,
            )
            .unwrap_or(DangerSource::SelfCheck),
        level: level.unwrap_or(DangerLevel::General),
        rule_item,
        description: f.string("description", true, errs).unwrap_or_default(),
        found_date: found_date.unwrap_or_default(),
        deadline,
        responsible_person: f.string("responsible_person", false, errs),
        measures: f.string("measures", false, errs),
        funds_cny,
        status,
        listing_level: f.choice(
            "listing_level",
            &["county", "city", "province"],
            false,
            errs,
        ),
        history,
        extra: f.extra(&[
            "enterprise_id",
            "district_code",
            "industry",
            "source",
            "level",
            "rule_item",
            "description",
            "found_date",
            "deadline",
            "responsible_person",
            "measures",
            "funds_cny",
            "status",
            "listing_level",
            "history",
        ]),
    }
}

fn enterprise(f: &Fields<'_>, crs: Crs, errs: &mut RecordErrors) -> Enterprise {
    let credit_code = f.string("credit_code", false, errs);
    if let Some(code) = &credit_code
        && let Err(msg) = check_credit_code(code)
    {
        errs.push("credit_code", msg);
    }
    let district_code = f.string("district_code", false, errs);
    if let Some(code) = &district_code
        && !is_division_code(code)
    {
        errs.push(
            "district_code",
            format!("must be a 6-digit division code, got {code:?}"),
        );
    }
    let mut accidents = Vec::new();
    for (i, a) in f.list("accidents", errs).into_iter().enumerate() {
        let path = format!("accidents[{i}]");
        let Some(m) = a.as_object() else {
            errs.push(path, "must be an object {date, severity, deaths}");
            continue;
        };
        let af = Fields::new(m, path);
        let date = af.string("date", true, errs).unwrap_or_default();
        if !date.is_empty() && !is_iso_date(&date) {
            errs.push(
                af.path("date"),
                format!("must be a date YYYY-MM-DD, got {date:?}"),
            );
        }
        let severity = af.choice(
            "severity",
            &["general", "larger", "major", "especially_major"],
            true,
            errs,
        );
        accidents.push(Accident {
            date,
            severity: severity.unwrap_or(AccidentSeverity::General),
            deaths: af.count("deaths", errs).unwrap_or(0),
        });
    }
    let mut units = Vec::new();
    let mut unit_ids = HashSet::new();
    for (i, u) in f.list("units", errs).into_iter().enumerate() {
        let path = format!("units[{i}]");
        let Some(m) = u.as_object() else {
            errs.push(path, "must be an object {id, kind, substances, …}");
            continue;
        };
        let uf = Fields::new(m, path.clone());
        let id = uf.string("id", true, errs).unwrap_or_default();
        if !id.is_empty() && !unit_ids.insert(id.clone()) {
            errs.push(uf.path("id"), format!("duplicate unit id {id:?}"));
        }
        let geometry = match uf.get("geometry") {
            None => None,
            Some(g) => match serde_json::from_value::<geojson::Geometry>(g.clone()) {
                Ok(g) => validate_geometry(
                    Collection::Enterprises,
                    &g.value,
                    crs,
                    &uf.path("geometry"),
                    errs,
                ),
                Err(e) => {
                    errs.push(
                        uf.path("geometry"),
                        format!("not a valid GeoJSON geometry: {e}"),
                    );
                    None
                }
            },
        };
        let mut substances = Vec::new();
        for (j, s) in uf.list("substances", errs).into_iter().enumerate() {
            let spath = format!("{path}.substances[{j}]");
            let Some(sm) = s.as_object() else {
                errs.push(spath, "must be an object {name, cas, quantity_t}");
                continue;
            };
            substances.extend(substance(&Fields::new(sm, spath), errs));
        }
        units.push(Unit {
            id,
            name: uf.string("name", false, errs),
            kind: uf
                .choice("kind", &["production", "storage"], true, errs)
                .unwrap_or(UnitKind::Storage),
            geometry,
            substances,
            processes: uf.strings("processes", errs),
        });
    }
    let holds_substances = units.iter().any(|u| !u.substances.is_empty());
    let installation: Option<Installation> =
        f.choice("installation", &["new", "existing"], false, errs);
    // A blank value is no value, as for every other field.
    let installation_given = f
        .get("installation")
        .is_some_and(|v| v.as_str().is_none_or(|s| !s.trim().is_empty()));
    if holds_substances && !installation_given {
        errs.push(
            f.path("installation"),
            "required for a site that holds hazardous substances: \"new\" (新建装置) or \"existing\" (在役装置), GB 36894-2018",
        );
    }
    Enterprise {
        name: f.string("name", true, errs).unwrap_or_default(),
        credit_code,
        industry: f.string("industry", false, errs),
        district_code,
        park_id: f.string("park_id", false, errs),
        employees: f.count("employees", errs),
        standardization_level: f
            .integer("standardization_level", 1, 3, errs)
            .map(|x| x as u8),
        accidents,
        units,
        installation,
        major_hazard_registration: registration(f, errs),
        inspection_findings: inspection_findings(f, errs),
        extra: f.extra(&[
            "name",
            "credit_code",
            "industry",
            "district_code",
            "park_id",
            "employees",
            "standardization_level",
            "accidents",
            "units",
            "installation",
            "major_hazard_registration",
            "inspection_findings",
        ]),
    }
}

/// An enterprise's inspection findings (检查发现): each names a heading of the
/// diagnosis guide, a date and a result; a deficient finding on a scored
/// heading carries its deduction, a compliant one none; ids are unique.
fn inspection_findings(f: &Fields<'_>, errs: &mut RecordErrors) -> Vec<InspectionFinding> {
    let keys: Vec<&str> = DiagnosisItem::ALL.iter().map(|i| i.as_str()).collect();
    let mut out = Vec::new();
    let mut ids = HashSet::new();
    for (i, v) in f.list("inspection_findings", errs).into_iter().enumerate() {
        let path = format!("inspection_findings[{i}]");
        let Some(m) = v.as_object() else {
            errs.push(
                path,
                "must be an object {id, item, date, result, deduction, bonus, clause, inspector, note, danger_id}",
            );
            continue;
        };
        let ff = Fields::new(m, path);
        let known = [
            "id",
            "item",
            "date",
            "result",
            "deduction",
            "bonus",
            "clause",
            "inspector",
            "note",
            "danger_id",
        ];
        for k in m.keys().filter(|k| !known.contains(&k.as_str())) {
            errs.push(
                ff.path(k),
                format!("unknown field; expected one of {}", known.join(", ")),
            );
        }
        let id = ff.string("id", true, errs).unwrap_or_default();
        if !id.is_empty() && !ids.insert(id.clone()) {
            errs.push(ff.path("id"), format!("duplicate finding id {id:?}"));
        }
        let item: Option<DiagnosisItem> = ff.choice("item", &keys, true, errs);
        let date = ff.string("date", true, errs).unwrap_or_default();
        if !date.is_empty() && !is_iso_date(&date) {
            errs.push(
                ff.path("date"),
                format!("must be a date YYYY-MM-DD, got {date:?}"),
            );
        }
        let result: Option<FindingResult> =
            ff.choice("result", &["compliant", "deficient"], true, errs);
        let mut points = |key: &str| {
            let x = ff.number(key, false, errs)?;
            if x < 0.0 {
                errs.push(ff.path(key), format!("must be 0 or more, got {x}"));
                return None;
            }
            Some(x)
        };
        let deduction = points("deduction");
        let bonus = points("bonus");
        if let (Some(item), Some(result)) = (item, result) {
            let red = item.is_automatic_red();
            match result {
                FindingResult::Deficient if !red && deduction.is_none() => errs.push(
                    ff.path("deduction"),
                    format!(
                        "required for a deficient finding on {}: the points the guide's line deducts",
                        item.as_str()
                    ),
                ),
                FindingResult::Compliant if deduction.is_some_and(|d| d > 0.0) => errs.push(
                    ff.path("deduction"),
                    "a compliant finding deducts nothing; record the deficiency as result \"deficient\"",
                ),
                _ => {}
            }
            if red && (deduction.is_some_and(|d| d > 0.0) || bonus.is_some_and(|b| b > 0.0)) {
                errs.push(
                    ff.path(if deduction.is_some() { "deduction" } else { "bonus" }),
                    format!(
                        "{} is a 直接判定为红色 item: a deficiency makes the enterprise red, it has no points",
                        item.as_str()
                    ),
                );
            }
        }
        out.push(InspectionFinding {
            id,
            item: item.unwrap_or(DiagnosisItem::Management),
            date,
            result: result.unwrap_or(FindingResult::Compliant),
            deduction,
            bonus,
            clause: ff.string("clause", false, errs),
            inspector: ff.string("inspector", false, errs),
            note: ff.string("note", false, errs),
            danger_id: ff.string("danger_id", false, errs),
        });
    }
    out
}

/// An enterprise's 重大危险源 registration record: dates `YYYY-MM-DD`, not
/// after one another out of order (备案 not before 登记), names as text.
fn registration(
    f: &Fields<'_>,
    errs: &mut RecordErrors,
) -> Option<Box<crate::model::MajorHazardRegistration>> {
    let v = f.get("major_hazard_registration")?;
    let path = f.path("major_hazard_registration");
    let Some(m) = v.as_object() else {
        errs.push(
            path,
            "must be an object {registered, filed, last_assessment, principal, technical, operational, regulator}",
        );
        return None;
    };
    let rf = Fields::new(m, path);
    let known = [
        "registered",
        "filed",
        "last_assessment",
        "principal",
        "technical",
        "operational",
        "regulator",
    ];
    for k in m.keys().filter(|k| !known.contains(&k.as_str())) {
        errs.push(
            rf.path(k),
            format!("unknown field; expected one of {}", known.join(", ")),
        );
    }
    let mut date = |key: &str| {
        let d = rf.string(key, false, errs)?;
        if is_iso_date(&d) {
            Some(d)
        } else {
            errs.push(
                rf.path(key),
                format!("must be a date YYYY-MM-DD, got {d:?}"),
            );
            None
        }
    };
    let registered = date("registered");
    let filed = date("filed");
    let last_assessment = date("last_assessment");
    if let (Some(r), Some(fd)) = (&registered, &filed)
        && fd < r
    {
        errs.push(
            rf.path("filed"),
            format!("{fd} is before the registration date {r}"),
        );
    }
    Some(Box::new(crate::model::MajorHazardRegistration {
        registered,
        filed,
        last_assessment,
        principal: rf.string("principal", false, errs),
        technical: rf.string("technical", false, errs),
        operational: rf.string("operational", false, errs),
        regulator: rf.string("regulator", false, errs),
    }))
}

fn substance(f: &Fields<'_>, errs: &mut RecordErrors) -> Option<Substance> {
    let name = f.string("name", false, errs);
    let cas = f.string("cas", false, errs);
    let quantity_t = f.positive("quantity_t", true, errs);
    let hazard_categories = f.strings("hazard_categories", errs);
    let table = Gb18218::builtin();
    let mut ok = true;
    for (k, c) in hazard_categories.iter().enumerate() {
        if table.category(c).is_none() {
            errs.push(
                format!("{}[{k}]", f.path("hazard_categories")),
                format!("unknown GB 18218-2018 Table 2 category {c:?} (expected J1–J5, W1.1–W11)"),
            );
            ok = false;
        }
    }
    if let Some((by_cas, by_name)) = table.cas_name_conflict(name.as_deref(), cas.as_deref()) {
        errs.push(
            f.path("cas"),
            format!(
                "CAS {} is {} (GB 18218-2018 Table 1 No. {}) but the name {:?} is {} (No. {}); correct one of them",
                cas.as_deref().unwrap_or(""),
                by_cas.name_zh,
                by_cas.no,
                name.as_deref().unwrap_or(""),
                by_name.name_zh,
                by_name.no
            ),
        );
        ok = false;
    }
    if name.is_none() && cas.is_none() {
        errs.push(f.path("name"), "a substance needs a name or a CAS number");
        ok = false;
    } else if hazard_categories.is_empty()
        && table
            .find_substance(name.as_deref(), cas.as_deref())
            .is_none()
    {
        errs.push(
            f.path(if cas.is_some() { "cas" } else { "name" }),
            format!(
                "unknown chemical {}{}: not in GB 18218-2018 Table 1; give `hazard_categories` (Table 2, e.g. [\"W5.3\"])",
                name.as_deref().unwrap_or(""),
                cas.as_deref().map(|c| format!(" (CAS {c})")).unwrap_or_default()
            ),
        );
        ok = false;
    }
    let quantity_t = quantity_t?;
    ok.then_some(Substance {
        name,
        cas,
        quantity_t,
        hazard_categories,
    })
}

/// A 6-digit administrative division code (行政区划代码, GB/T 2260).
fn is_division_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    matches!((num(0..4), num(5..7), num(8..10)), (Some(_), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d))
}

/// Checks a unified social credit code (统一社会信用代码) against GB 32100-2015:
/// 18 characters from `0-9A-HJ-NP-RTUWXY`, the last one a mod-31 check character.
pub fn check_credit_code(code: &str) -> Result<(), String> {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [u32; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let bytes = code.as_bytes();
    if bytes.len() != 18 {
        return Err(format!(
            "must be 18 characters (GB 32100-2015), got {}",
            code.chars().count()
        ));
    }
    let mut values = [0u32; 18];
    for (i, b) in bytes.iter().enumerate() {
        match ALPHABET.iter().position(|a| a == b) {
            Some(v) => values[i] = v as u32,
            None => {
                return Err(format!(
                    "character {:?} at position {} is not allowed (GB 32100-2015)",
                    *b as char,
                    i + 1
                ));
            }
        }
    }
    let sum: u32 = WEIGHTS.iter().zip(values.iter()).map(|(w, v)| w * v).sum();
    let check = (31 - sum % 31) % 31;
    if values[17] == check {
        Ok(())
    } else {
        Err(format!(
            "check character is {:?}, expected {:?} (GB 32100-2015)",
            bytes[17] as char, ALPHABET[check as usize] as char
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fc(features: Vec<Value>) -> String {
        json!({"type": "FeatureCollection", "features": features}).to_string()
    }

    fn target(id: &str, lon: f64, lat: f64) -> Value {
        json!({"type": "Feature", "id": id, "geometry": {"type": "Point", "coordinates": [lon, lat]},
               "properties": {"name": "第一小学", "category": "school", "population": 800}})
    }

    #[test]
    fn credit_codes() {
        assert!(check_credit_code("91350100M000100Y43").is_ok());
        assert!(check_credit_code("91350100M000100Y44").is_err());
        assert!(check_credit_code("91350100M000100Y4").is_err());
        assert!(check_credit_code("91350100M000100YI3").is_err());
    }

    #[test]
    fn accepts_a_valid_target_and_keeps_extra_properties() {
        let mut t = target("t1", 120.3, 30.2);
        t["properties"]["source"] = json!("OpenStreetMap");
        let out = parse_geojson(Collection::ProtectionTargets, &fc(vec![t]), Crs::Wgs84).unwrap();
        assert_eq!(out.len(), 1);
        let Record::ProtectionTarget(p) = &out[0].record else {
            panic!()
        };
        assert_eq!(p.population, Some(800));
        assert_eq!(p.extra["source"], json!("OpenStreetMap"));
    }

    #[test]
    fn reports_every_bad_record_with_index_id_and_field() {
        let mut bad_cat = target("b1", 120.0, 30.0);
        bad_cat["properties"]["category"] = json!("castle");
        let bad_coord = target("b2", 200.0, 30.0);
        let mut bad_pop = target("b3", 120.0, 30.0);
        bad_pop["properties"]["population"] = json!(-5);
        let text = fc(vec![target("ok", 120.0, 30.0), bad_cat, bad_coord, bad_pop]);
        let err = parse_geojson(Collection::ProtectionTargets, &text, Crs::Wgs84).unwrap_err();
        assert_eq!(err.total, 3, "{err}");
        let got: Vec<(Option<usize>, Option<&str>, &str)> = err
            .errors
            .iter()
            .map(|e| (e.index, e.id.as_deref(), e.field.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(1), Some("b1"), "category"),
                (Some(2), Some("b2"), "geometry.coordinates"),
                (Some(3), Some("b3"), "population"),
            ]
        );
    }

    #[test]
    fn rejects_self_intersecting_and_unclosed_polygons() {
        let bowtie = json!({"type": "Feature", "id": "p1", "properties": {"name": "A", "kind": "chemical"},
            "geometry": {"type": "Polygon", "coordinates": [[[0.0,0.0],[1.0,1.0],[1.0,0.0],[0.0,1.0],[0.0,0.0]]]}});
        let open = json!({"type": "Feature", "id": "p2", "properties": {"name": "B", "kind": "chemical"},
            "geometry": {"type": "Polygon", "coordinates": [[[0.0,0.0],[1.0,0.0],[1.0,1.0],[0.0,1.0]]]}});
        let err =
            parse_geojson(Collection::Parks, &fc(vec![bowtie, open]), Crs::Wgs84).unwrap_err();
        assert_eq!(err.total, 2, "{err}");
        assert!(err.errors[0].message.contains("self-intersection"), "{err}");
        assert!(err.errors[1].message.contains("not closed"), "{err}");
    }

    #[test]
    fn substances_must_be_known_or_categorised() {
        let ent = |subs: Value| {
            json!({"type": "Feature", "id": "e1", "geometry": {"type": "Point", "coordinates": [120.0, 30.0]},
                "properties": {"name": "示例化工", "installation": "new", "units": [{"id": "T1", "kind": "storage", "substances": subs}]}})
        };
        let ok = ent(
            json!([{"name": "液氯", "quantity_t": 30}, {"cas": "67-56-1", "quantity_t": 100},
                             {"name": "乙酸丁酯", "quantity_t": 800, "hazard_categories": ["W5.4"]}]),
        );
        assert!(parse_geojson(Collection::Enterprises, &fc(vec![ok]), Crs::Wgs84).is_ok());
        let bad = ent(
            json!([{"name": "神秘物质", "quantity_t": 3}, {"name": "液氯", "quantity_t": 0},
                              {"name": "X", "quantity_t": 1, "hazard_categories": ["Z9"]}]),
        );
        let err = parse_geojson(Collection::Enterprises, &fc(vec![bad]), Crs::Wgs84).unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "units[0].substances[0].name",
                "units[0].substances[1].quantity_t",
                "units[0].substances[2].hazard_categories[0]",
            ],
            "{err}"
        );
    }

    #[test]
    fn gcj02_input_is_converted_to_wgs84() {
        let (glon, glat) = Crs::Wgs84.from_wgs84(120.3, 30.2);
        let (glon, glat) = riskmap_spatial::crs::wgs84_to_gcj02(glon, glat);
        let out = parse_geojson(
            Collection::ProtectionTargets,
            &fc(vec![target("t", glon, glat)]),
            Crs::Gcj02,
        )
        .unwrap();
        let geo::Geometry::Point(p) = out[0].geometry else {
            panic!()
        };
        assert!((p.x() - 120.3).abs() < 1e-8 && (p.y() - 30.2).abs() < 1e-8);
    }

    #[test]
    fn text_is_read_as_utf8_utf16_or_gb18030_or_refused_with_the_line() {
        let csv = "id,name,category,population,lon,lat\nt1,第一中学,school,1200,120.1,30.2\n";
        let (t, enc) = decode_text(csv.as_bytes()).unwrap();
        assert_eq!((t.as_str(), enc), (csv, "UTF-8"));
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend(csv.as_bytes());
        let (t, enc) = decode_text(&bom).unwrap();
        assert_eq!((t.as_str(), enc), (csv, "UTF-8"));
        let (gbk, _, _) = encoding_rs::GBK.encode(csv);
        assert!(
            std::str::from_utf8(&gbk).is_err(),
            "the test file is not UTF-8"
        );
        let (t, enc) = decode_text(&gbk).unwrap();
        assert_eq!((t.as_str(), enc), (csv, "GB18030"));
        let out = parse_csv(Collection::ProtectionTargets, &t, Crs::Wgs84).unwrap();
        assert_eq!(out[0].record.name(), Some("第一中学"));
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(csv.encode_utf16().flat_map(u16::to_le_bytes));
        let (t, enc) = decode_text(&utf16).unwrap();
        assert_eq!((t.as_str(), enc), (csv, "UTF-16LE"));
        // Neither: named with the line and byte.
        let bad = b"id,name\nt1,ok\nt2,\x81\xff\xfe\n";
        let err = decode_text(bad).unwrap_err();
        let m = &err.errors[0].message;
        assert!(m.contains("line 3, byte 4"), "{m}");
        assert!(m.contains("UTF-8"), "{m}");
    }

    #[test]
    fn a_bom_before_geojson_is_ignored_and_a_repeated_csv_column_refused() {
        let gj = "\u{feff}{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"id\":\"t1\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[120.1,30.2]},\"properties\":{\"name\":\"一中\",\"category\":\"school\"}}]}";
        assert_eq!(
            parse_geojson(Collection::ProtectionTargets, gj, Crs::Wgs84)
                .unwrap()
                .len(),
            1
        );
        let csv =
            "id,name,category,Population,population,lon,lat\nt1,一中,school,1200,12,120.1,30.2\n";
        let err = parse_csv(Collection::ProtectionTargets, csv, Crs::Wgs84).unwrap_err();
        assert_eq!(err.errors[0].field, "(header)");
        assert!(
            err.errors[0].message.contains("columns 4 and 5"),
            "{}",
            err.errors[0].message
        );
    }

    #[test]
    fn implausible_figures_and_contradicting_cas_are_refused_by_field() {
        assert_eq!(plausible_max("quantity_t"), Some(1_000_000.0));
        assert_eq!(plausible_max("population"), Some(1_000_000.0));
        let enterprise = |subs: Value| {
            json!({"type": "Feature", "id": "e1", "geometry": {"type": "Point", "coordinates": [120.0, 30.0]},
                "properties": {"name": "示例化工", "employees": 100, "installation": "existing", "units": [{"id": "T1", "kind": "storage", "substances": subs}]}})
        };
        // 1e308 t of chlorine: refused, naming the bound, never scored.
        let err = validate_geojson_feature(
            Collection::Enterprises,
            &enterprise(json!([{"name": "液氯", "quantity_t": 1e308}])),
            Crs::Wgs84,
            None,
        )
        .unwrap_err();
        assert_eq!(err.errors[0].field, "units[0].substances[0].quantity_t");
        assert!(
            err.errors[0].message.contains("plausible maximum 1000000"),
            "{}",
            err.errors[0].message
        );
        // At the bound it is accepted.
        validate_geojson_feature(
            Collection::Enterprises,
            &enterprise(json!([{"name": "液氯", "quantity_t": 1e6}])),
            Crs::Wgs84,
            None,
        )
        .unwrap();
        // The CAS number of 甲醇 with the name 液氯: both named.
        let err = validate_geojson_feature(
            Collection::Enterprises,
            &enterprise(json!([{"name": "液氯", "cas": "67-56-1", "quantity_t": 10}])),
            Crs::Wgs84,
            None,
        )
        .unwrap_err();
        assert_eq!(err.errors[0].field, "units[0].substances[0].cas");
        let m = &err.errors[0].message;
        assert!(m.contains("甲醇") && m.contains("氯"), "{m}");
        // Name and CAS of the same entry are fine, an alias too.
        validate_geojson_feature(
            Collection::Enterprises,
            &enterprise(json!([{"name": "液氯", "cas": "7782-50-5", "quantity_t": 10}])),
            Crs::Wgs84,
            None,
        )
        .unwrap();
        // A protection target with no name.
        let unnamed = json!({"type": "Feature", "id": "t0", "geometry": {"type": "Point", "coordinates": [120.0, 30.0]},
            "properties": {"name": "  ", "category": "school", "population": 500}});
        let err =
            validate_geojson_feature(Collection::ProtectionTargets, &unnamed, Crs::Wgs84, None)
                .unwrap_err();
        assert_eq!(
            (err.errors[0].field.as_str(), err.errors[0].message.as_str()),
            ("name", "required")
        );
        let target = json!({"type": "Feature", "id": "t1", "geometry": {"type": "Point", "coordinates": [120.0, 30.0]},
            "properties": {"name": "一中", "category": "school", "population": 50_000_000}});
        let err =
            validate_geojson_feature(Collection::ProtectionTargets, &target, Crs::Wgs84, None)
                .unwrap_err();
        assert_eq!(err.errors[0].field, "population");
    }

    #[test]
    fn csv_with_lon_lat_and_wkt() {
        let text = "id,name,category,population,lon,lat\nt1,一中,school,1200,120.1,30.2\nt2,人民医院,hospital,abc,120.2,30.3\n";
        let err = parse_csv(Collection::ProtectionTargets, text, Crs::Wgs84).unwrap_err();
        assert_eq!(err.total, 1);
        assert_eq!(
            (err.errors[0].index, err.errors[0].field.as_str()),
            (Some(1), "population")
        );
        let text = "id,name,kind,diameter_mm,maop_mpa,wkt\ng1,西气东输支线,gas_transmission,1016,10,\"LINESTRING(120 30, 120.1 30.1)\"\n";
        let out = parse_csv(Collection::Pipelines, text, Crs::Wgs84).unwrap();
        let Record::Pipeline(p) = &out[0].record else {
            panic!()
        };
        assert_eq!((p.diameter_mm, p.maop_mpa), (1016.0, 10.0));
    }

    #[test]
    fn duplicate_ids_and_wrong_geometry_type() {
        let line = json!({"type": "Feature", "id": "t1", "properties": {"name": "一中", "category": "school"},
            "geometry": {"type": "LineString", "coordinates": [[120.0, 30.0], [120.1, 30.1]]}});
        let text = fc(vec![
            target("t1", 120.0, 30.0),
            target("t1", 120.0, 30.0),
            line,
        ]);
        let err = parse_geojson(Collection::ProtectionTargets, &text, Crs::Wgs84).unwrap_err();
        assert_eq!(err.total, 2, "{err}");
        assert_eq!(err.errors[0].field, "id");
        assert_eq!(err.errors[1].field, "geometry");
    }

    #[test]
    fn an_outline_beyond_the_plausible_extent_is_refused_but_a_proposal_is_not() {
        let wide = serde_json::json!({"type": "Feature", "id": "wide",
            "geometry": {"type": "Polygon", "coordinates": [[[100.0, 30.0], [120.0, 30.0], [120.0, 40.0], [100.0, 40.0], [100.0, 30.0]]]},
            "properties": {"name": "大到不合理的企业", "industry": "机械制造"}});
        let err =
            validate_geojson_feature(Collection::Enterprises, &wide, Crs::Wgs84, None).unwrap_err();
        assert_eq!(err.errors[0].field, "geometry", "{err}");
        assert!(err.to_string().contains("30 km"), "{err}");
        assert!(err.to_string().contains("plausible-bounds.toml"), "{err}");
        // The same outline asked about as a siting proposal is measured.
        validate_proposal(Collection::Enterprises, &wide, Crs::Wgs84).unwrap();
        // A 2 km site passes.
        let small = serde_json::json!({"type": "Feature", "id": "small",
            "geometry": {"type": "Polygon", "coordinates": [[[120.0, 30.0], [120.02, 30.0], [120.02, 30.01], [120.0, 30.01], [120.0, 30.0]]]},
            "properties": {"name": "正常企业", "industry": "机械制造"}});
        validate_geojson_feature(Collection::Enterprises, &small, Crs::Wgs84, None).unwrap();
    }

    #[test]
    fn a_major_hazard_registration_is_checked_field_by_field() {
        let with = |r: serde_json::Value| {
            serde_json::json!({"type": "Feature", "id": "e1",
                "geometry": {"type": "Point", "coordinates": [120.1, 30.2]},
                "properties": {"name": "登记企业", "industry": "机械制造", "major_hazard_registration": r}})
        };
        let ok = validate_geojson_feature(
            Collection::Enterprises,
            &with(
                serde_json::json!({"registered": "2020-03-01", "filed": "2020-03-10",
                "last_assessment": "2022-05-20", "technical": "李工"}),
            ),
            Crs::Wgs84,
            None,
        )
        .unwrap();
        let Record::Enterprise(e) = &ok.record else {
            panic!()
        };
        let r = e.major_hazard_registration.as_deref().unwrap();
        assert_eq!(r.technical.as_deref(), Some("李工"));
        // It round-trips through the stored properties.
        let back =
            Record::from_trusted_properties(Collection::Enterprises, ok.record.to_properties())
                .unwrap();
        assert_eq!(back, ok.record);
        let err = validate_geojson_feature(
            Collection::Enterprises,
            &with(
                serde_json::json!({"registered": "2020-03-10", "filed": "2020-03-01",
                "last_assessment": "22/05/2020", "owner": "x"}),
            ),
            Crs::Wgs84,
            None,
        )
        .unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "major_hazard_registration.owner",
            "major_hazard_registration.last_assessment",
            "major_hazard_registration.filed",
        ] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
    }
    #[test]
    fn inspection_findings_are_checked_field_by_field() {
        let with = |f: serde_json::Value| {
            serde_json::json!({"type": "Feature", "id": "e1",
                "geometry": {"type": "Point", "coordinates": [120.1, 30.2]},
                "properties": {"name": "检查企业", "industry": "机械制造", "inspection_findings": f}})
        };
        let ok = validate_geojson_feature(
            Collection::Enterprises,
            &with(serde_json::json!([
                {"id": "INS-1", "item": "management", "date": "2026-10-12", "result": "deficient",
                 "deduction": 5, "clause": "诊断分级指南 7 操作规程不完善扣5分", "danger_id": "hd-1"},
                {"id": "INS-2", "item": "red_special_workers", "date": "2026-10-12", "result": "compliant"}
            ])),
            Crs::Wgs84,
            None,
        )
        .unwrap();
        let Record::Enterprise(e) = &ok.record else {
            panic!()
        };
        assert_eq!(e.inspection_findings.len(), 2);
        assert_eq!(e.inspection_findings[0].item, DiagnosisItem::Management);
        assert_eq!(e.inspection_findings[0].deduction, Some(5.0));
        let back =
            Record::from_trusted_properties(Collection::Enterprises, ok.record.to_properties())
                .unwrap();
        assert_eq!(back, ok.record);

        let err = validate_geojson_feature(
            Collection::Enterprises,
            &with(serde_json::json!([
                {"id": "A", "item": "paperwork", "date": "2026-10-12", "result": "deficient"},
                {"id": "A", "item": "equipment", "date": "12/10/2026", "result": "deficient"},
                {"id": "B", "item": "personnel", "date": "2026-10-12", "result": "compliant", "deduction": 3},
                {"id": "C", "item": "red_no_design", "date": "2026-10-12", "result": "deficient", "deduction": 2},
                {"id": "D", "item": "equipment", "date": "2026-10-12", "result": "maybe", "bonus": -1, "by": "x"}
            ])),
            Crs::Wgs84,
            None,
        )
        .unwrap_err();
        let fields: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
        for f in [
            "inspection_findings[0].item",
            "inspection_findings[1].id",
            "inspection_findings[1].date",
            "inspection_findings[1].deduction",
            "inspection_findings[2].deduction",
            "inspection_findings[3].deduction",
            "inspection_findings[4].result",
            "inspection_findings[4].bonus",
            "inspection_findings[4].by",
        ] {
            assert!(fields.contains(&f), "{f} not in {fields:?}");
        }
    }

    /// The (index, id, field, message) of every error of parsing `fc` as `c`.
    fn errors_of(c: Collection, features: Vec<Value>) -> Vec<(usize, String, String, String)> {
        parse_geojson(c, &fc(features), Crs::Wgs84)
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| {
                (
                    e.index.unwrap_or(usize::MAX),
                    e.id.unwrap_or_default(),
                    e.field,
                    e.message,
                )
            })
            .collect()
    }

    fn has(errs: &[(usize, String, String, String)], index: usize, id: &str, field: &str) -> bool {
        errs.iter()
            .any(|(i, d, f, _)| *i == index && d == id && f == field)
    }

    fn point_feature(id: &str, props: Value) -> Value {
        serde_json::json!({"type": "Feature", "id": id,
            "geometry": {"type": "Point", "coordinates": [120.35, 30.30]}, "properties": props})
    }

    #[test]
    fn rescue_teams_are_checked_by_record_and_field() {
        let ok = point_feature(
            "T1",
            serde_json::json!({"name": "消防站（示例）", "kind": "hazmat", "members": 30,
                "equipment": "洗消车", "contact": "0571-1", "mobilisation_min": 15,
                "district_code": "330114", "sample": true, "note": "kept"}),
        );
        let out =
            parse_geojson(Collection::RescueTeams, &fc(vec![ok.clone()]), Crs::Wgs84).unwrap();
        let back =
            Record::from_trusted_properties(Collection::RescueTeams, out[0].record.to_properties())
                .unwrap();
        assert_eq!(back, out[0].record);
        let errs = errors_of(
            Collection::RescueTeams,
            vec![
                ok,
                point_feature("T2", serde_json::json!({"kind": "police", "members": -3})),
                point_feature(
                    "T3",
                    serde_json::json!({"name": "x", "kind": "fire", "mobilisation_min": -1,
                        "district_code": "3301", "sample": "maybe"}),
                ),
            ],
        );
        assert!(has(&errs, 1, "T2", "name"), "{errs:?}");
        assert!(has(&errs, 1, "T2", "kind"), "{errs:?}");
        assert!(has(&errs, 1, "T2", "members"), "{errs:?}");
        assert!(has(&errs, 2, "T3", "mobilisation_min"), "{errs:?}");
        assert!(has(&errs, 2, "T3", "district_code"), "{errs:?}");
        assert!(has(&errs, 2, "T3", "sample"), "{errs:?}");
        let kind = errs.iter().find(|e| e.2 == "kind").unwrap();
        assert!(
            kind.3.contains("fire, hazmat, medical, mine, other"),
            "{}",
            kind.3
        );
        assert!(!errs.iter().any(|e| e.0 == 0), "{errs:?}");
    }

    #[test]
    fn supply_depot_items_are_checked_one_by_one() {
        let errs = errors_of(
            Collection::SupplyDepots,
            vec![
                point_feature(
                    "D1",
                    serde_json::json!({"name": "储备库（示例）", "items": [
                        {"name": "帐篷", "quantity": 300, "unit": "顶"},
                        {"quantity": 5},
                        {"name": "水", "quantity": -2},
                        {"name": "沙袋", "quantity": "lots"},
                        "毛毯"
                    ]}),
                ),
                point_feature("D2", serde_json::json!({"items": {"name": "帐篷"}})),
            ],
        );
        assert!(has(&errs, 0, "D1", "items[1].name"), "{errs:?}");
        assert!(has(&errs, 0, "D1", "items[2].quantity"), "{errs:?}");
        assert!(has(&errs, 0, "D1", "items[3].quantity"), "{errs:?}");
        assert!(has(&errs, 0, "D1", "items[4]"), "{errs:?}");
        assert!(!has(&errs, 0, "D1", "items[0].quantity"), "{errs:?}");
        assert!(has(&errs, 1, "D2", "name"), "{errs:?}");
        assert!(has(&errs, 1, "D2", "items"), "{errs:?}");
    }

    #[test]
    fn shelters_are_checked_by_record_and_field() {
        let square = serde_json::json!({"type": "Feature", "id": "S1",
            "geometry": {"type": "Polygon", "coordinates": [[[120.30, 30.30], [120.301, 30.30],
                [120.301, 30.301], [120.30, 30.301], [120.30, 30.30]]]},
            "properties": {"name": "公园（示例避难场所）", "class": "fixed", "capacity_persons": 5000,
                "area_m2": 10000.0, "sample": true}});
        let out =
            parse_geojson(Collection::Shelters, &fc(vec![square.clone()]), Crs::Wgs84).unwrap();
        let Record::Shelter(sh) = &out[0].record else {
            panic!()
        };
        assert_eq!(sh.capacity_persons, 5000);
        let line = serde_json::json!({"type": "Feature", "id": "S4",
            "geometry": {"type": "LineString", "coordinates": [[120.3, 30.3], [120.31, 30.31]]},
            "properties": {"name": "x", "class": "central", "capacity_persons": 1}});
        let errs = errors_of(
            Collection::Shelters,
            vec![
                square,
                point_feature(
                    "S2",
                    serde_json::json!({"name": "广场", "class": "temporary"}),
                ),
                point_feature(
                    "S3",
                    serde_json::json!({"name": "广场", "class": "emergency",
                        "capacity_persons": 12.5, "area_m2": 0}),
                ),
                line,
            ],
        );
        assert!(has(&errs, 1, "S2", "class"), "{errs:?}");
        assert!(has(&errs, 1, "S2", "capacity_persons"), "{errs:?}");
        assert!(has(&errs, 2, "S3", "capacity_persons"), "{errs:?}");
        assert!(has(&errs, 2, "S3", "area_m2"), "{errs:?}");
        assert!(has(&errs, 3, "S4", "geometry"), "{errs:?}");
        let class = errs.iter().find(|e| e.2 == "class").unwrap();
        assert!(class.3.contains("emergency, fixed, central"), "{}", class.3);
        assert!(!errs.iter().any(|e| e.0 == 0), "{errs:?}");
    }

    #[test]
    fn a_resource_names_an_existing_district() {
        let team = parse_geojson(
            Collection::RescueTeams,
            &fc(vec![point_feature(
                "T1",
                serde_json::json!({"name": "队（示例）", "kind": "fire", "district_code": "330999"}),
            )]),
            Crs::Wgs84,
        )
        .unwrap();
        let err = check_references(Collection::RescueTeams, &team, |_, _| false).unwrap_err();
        assert_eq!(err.errors[0].field, "district_code");
        assert_eq!(err.errors[0].id.as_deref(), Some("T1"));
        assert!(
            check_references(Collection::RescueTeams, &team, |c, d| {
                c == Collection::Districts && d == "330999"
            })
            .is_ok()
        );
    }
}

//! Office formats for the registers (台账): Excel workbooks (.xlsx) in and
//! out, CSV out, and the column aliases of the usual provincial templates
//! (`data/rules/column-aliases.toml`).
//!
//! Import: the first sheet of a workbook is read with `calamine` into the
//! rows the CSV importer validates ([`import::parse_table`]), so a workbook
//! and a CSV file give the same records and the same errors, each naming the
//! row as the sheet shows it and the column by letter and header. Headers go
//! through the alias table (隐患编号 → `id`, 整改期限 → `deadline`, 整改资金(万元)
//! → `funds_cny` × 10000…), and so do the Chinese labels of enumerations
//! (重大 → `major`, 企业自查 → `self_check`, 整改中 → `rectifying`). Date
//! cells and Excel serial numbers in date fields become `YYYY-MM-DD`; number
//! cells stay numbers.
//!
//! Export: [`export_table`] lays a list of features out in the columns of the
//! import schema (nested lists as JSON text; `lon`,`lat` for points, else
//! `wkt`), plus the derived `risk_level` and, for hidden dangers, `overdue`,
//! which an import ignores: an export re-imports unchanged. [`write_csv`]
//! writes it as UTF-8 with a byte-order mark (so Excel opens it in Chinese),
//! [`write_xlsx`] as a workbook with the level cells in the four colours.
//!
//! Pure: bytes in, bytes out.

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use geojson::GeometryValue;
use riskmap_spatial::Crs;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::import::{self, Cell, Fill, ImportErrors, TableHeader, TableRow};
use crate::model::{Collection, Feature, Record};
use crate::scoring::RiskLevel;

/// Columns an export adds that are derived, not data: a tabular import
/// ignores them, so that an export re-imports unchanged.
pub const DERIVED_COLUMNS: [&str; 6] = [
    "risk_level",
    "risk_score",
    "risk_model",
    "risk_summary",
    "overdue",
    // The last change time: the server stamps every write.
    "updated",
];

/// Columns whose cells are JSON text (nested lists and objects).
pub const JSON_COLUMNS: [&str; 8] = [
    "units",
    "accidents",
    "processes",
    "hazard_categories",
    "history",
    "major_hazard_registration",
    "inspection_findings",
    "items",
];

/// Fields that hold a date `YYYY-MM-DD`: an Excel serial number or a date
/// text such as 2024/3/5 or 2024年3月5日 in them becomes `2024-03-05`.
pub const DATE_FIELDS: [&str; 2] = ["found_date", "deadline"];

/// The most data rows a sheet holds (Excel's 1,048,576 rows less the header).
pub const MAX_XLSX_ROWS: usize = 1_048_575;

// ------------------------------------------------------------------ aliases

/// One alias of `data/rules/column-aliases.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnAlias {
    /// The schema field the column fills.
    pub field: String,
    /// The headers that name it.
    pub headers: Vec<String>,
    /// A factor the figure is multiplied by (万元 → 元: 10000).
    #[serde(default)]
    pub scale: Option<f64>,
    /// A header that is refused, with the reason (a figure without its unit).
    #[serde(default)]
    pub refuse: Option<String>,
    /// Chinese value labels and the schema value each stands for.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// The column alias table: per collection (and `all`), the aliases.
#[derive(Debug, Clone, PartialEq)]
pub struct Aliases {
    by_collection: HashMap<String, Vec<ColumnAlias>>,
}

impl Aliases {
    /// `column-aliases.toml` in force (embedded, or `--rules`; see
    /// [`crate::rule_set`]).
    pub fn builtin() -> &'static Aliases {
        static ALIASES: std::sync::OnceLock<Aliases> = std::sync::OnceLock::new();
        ALIASES.get_or_init(|| {
            Aliases::from_toml(crate::rule_set::text("column-aliases.toml"))
                .unwrap_or_else(|e| panic!("column-aliases.toml: {e}"))
        })
    }

    /// Parses and checks an alias table: sections named after collections
    /// (or `all`), every header given once per collection.
    pub fn from_toml(text: &str) -> Result<Aliases, String> {
        let doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut by_collection = HashMap::new();
        for (key, value) in doc {
            if key == "about" {
                continue;
            }
            if key != "all" && key.parse::<Collection>().is_err() {
                return Err(format!("[[{key}]]: not a collection (or `all`)"));
            }
            let list: Vec<ColumnAlias> = value
                .try_into()
                .map_err(|e: toml::de::Error| format!("[[{key}]]: {e}"))?;
            by_collection.insert(key, list);
        }
        let aliases = Aliases { by_collection };
        for c in Collection::ALL {
            let mut seen: HashMap<String, &str> = HashMap::new();
            for a in aliases.list(c) {
                if a.headers.is_empty() {
                    return Err(format!("{c}: the alias of {} has no header", a.field));
                }
                for h in &a.headers {
                    if let Some(other) = seen.insert(normalise_header(h), &a.field) {
                        return Err(format!(
                            "{c}: header {h:?} is given for {other} and {}",
                            a.field
                        ));
                    }
                }
            }
        }
        Ok(aliases)
    }

    fn list(&self, c: Collection) -> impl Iterator<Item = &ColumnAlias> {
        self.by_collection
            .get(c.as_str())
            .into_iter()
            .chain(self.by_collection.get("all"))
            .flatten()
    }

    /// The alias a header names in a collection, if any.
    pub fn find(&self, c: Collection, header: &str) -> Option<&ColumnAlias> {
        let h = normalise_header(header);
        self.list(c)
            .find(|a| a.headers.iter().any(|x| normalise_header(x) == h))
    }

    /// The full header or schema field a name cut to a DBF's 10 bytes
    /// stands for: the one alias header or field of the collection it
    /// begins (at least two characters; `None` when the name is whole, or
    /// begins none or several).
    pub fn expand_truncated(&self, c: Collection, name: &str) -> Option<String> {
        let n = normalise_header(name);
        if n.chars().count() < 2 || self.find(c, &n).is_some() {
            return None;
        }
        let fields = schema_fields(c)
            .iter()
            .copied()
            .chain(["id", "lon", "lat", "wkt"]);
        if fields.clone().any(|f| f == n) {
            return None;
        }
        let mut candidates: Vec<String> = self
            .list(c)
            .flat_map(|a| a.headers.iter().map(|h| normalise_header(h)))
            .chain(fields.map(str::to_string))
            .chain(DERIVED_COLUMNS.iter().map(|s| s.to_string()))
            .filter(|h| h.starts_with(&n) && *h != n)
            .collect();
        candidates.sort();
        candidates.dedup();
        match candidates.as_slice() {
            [one] => Some(one.clone()),
            _ => None,
        }
    }

    /// The schema field a header names in a collection: its alias's field,
    /// else the header itself (trimmed).
    pub fn field(&self, c: Collection, header: &str) -> String {
        self.find(c, header)
            .map_or_else(|| header.trim().to_string(), |a| a.field.clone())
    }
}

/// A header as aliases compare it: trimmed, without spaces or `*`, with
/// full-width brackets as ASCII ones.
pub fn normalise_header(h: &str) -> String {
    h.chars()
        .filter(|c| !c.is_whitespace() && *c != '*' && *c != '＊')
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect()
}

/// Column letters as a spreadsheet shows them: 0 → `A`, 25 → `Z`, 26 → `AA`.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// One column of a table being imported: the field it fills and how its
/// cells are read.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    /// The schema field (or the header, for a property outside the schema).
    pub(crate) field: String,
    /// Letter and header, e.g. `H (整改期限)`.
    pub(crate) label: String,
    scale: Option<f64>,
    values: Option<&'static BTreeMap<String, String>>,
    /// Derived (an export's `risk_level`, `overdue`): skipped.
    pub(crate) ignored: bool,
    /// Outside the schema: a JSON list or object in it is read as one.
    outside: bool,
}

/// The columns of a table's header, through the alias table. Refuses a
/// field given twice and a header the table refuses (a figure without unit).
pub(crate) fn table_columns(
    collection: Collection,
    header: &TableHeader,
) -> Result<Vec<Column>, ImportErrors> {
    let aliases = Aliases::builtin();
    let mut cols: Vec<Column> = Vec::with_capacity(header.headers.len());
    for (i, raw) in header.headers.iter().enumerate() {
        let h = raw.trim();
        let label = format!("{} ({h})", column_letter(header.first_column + i));
        let alias = aliases.find(collection, h);
        if let Some(msg) = alias.and_then(|a| a.refuse.as_deref()) {
            return Err(ImportErrors::file(
                "(header)",
                format!("column {label}: {msg}"),
            ));
        }
        let field = alias.map_or_else(|| h.to_string(), |a| a.field.clone());
        if !field.is_empty()
            && let Some(j) = cols
                .iter()
                .position(|c| c.field.eq_ignore_ascii_case(&field))
        {
            return Err(ImportErrors::file(
                "(header)",
                format!(
                    "column {field:?} appears twice (columns {} and {}: {} and {label}); each field may appear once",
                    j + 1,
                    i + 1,
                    cols[j].label
                ),
            ));
        }
        cols.push(Column {
            ignored: DERIVED_COLUMNS.contains(&field.as_str()),
            outside: field != "id"
                && !JSON_COLUMNS.contains(&field.as_str())
                && !schema_fields(collection).contains(&field.as_str())
                && !["lon", "lat", "wkt"].contains(&field.as_str()),
            field,
            label,
            scale: alias.and_then(|a| a.scale),
            values: alias.map(|a| &a.values).filter(|v| !v.is_empty()),
        });
    }
    Ok(cols)
}

/// A cell as the value of its column's field (`None`: empty). Applies the
/// column's value labels, scale, JSON and date reading.
pub(crate) fn cell_value(col: &Column, cell: &Cell) -> Result<Option<Value>, String> {
    let field = col.field.as_str();
    match cell {
        Cell::Empty => return Ok(None),
        Cell::Text(s) if s.trim().is_empty() => return Ok(None),
        _ => {}
    }
    if JSON_COLUMNS.contains(&field) {
        return match cell {
            Cell::Text(s) => serde_json::from_str::<Value>(s)
                .map(Some)
                .map_err(|e| format!("must be JSON (a list or an object): {e}")),
            _ => Err("must be JSON text (a list or an object)".into()),
        };
    }
    // A list or object outside the schema (written so by an export).
    if let (true, Cell::Text(s)) = (col.outside, cell)
        && (s.starts_with('[') || s.starts_with('{'))
        && let Ok(v @ (Value::Array(_) | Value::Object(_))) = serde_json::from_str::<Value>(s)
    {
        return Ok(Some(v));
    }
    if let (Some(values), Cell::Text(s)) = (col.values, cell)
        && let Some(v) = values.get(s.trim())
    {
        return Ok(Some(Value::String(v.clone())));
    }
    if let Some(scale) = col.scale {
        let x = match cell {
            Cell::Number(x) => Some(*x),
            Cell::Text(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        return match x.filter(|x| x.is_finite()) {
            Some(x) => Ok(Some(number((x * scale * 100.0).round() / 100.0))),
            None => Err(format!(
                "must be a number (the column is scaled by {scale}), got {}",
                cell_text(cell)
            )),
        };
    }
    if DATE_FIELDS.contains(&field) {
        let date = match cell {
            Cell::Number(x) => serial_date(*x),
            Cell::Date(d) => Some(d.strip_suffix("T00:00:00").unwrap_or(d).to_string()),
            Cell::Text(t) => date_text(t),
            _ => None,
        };
        if let Some(d) = date {
            return Ok(Some(Value::String(d)));
        }
    }
    Ok(Some(match cell {
        Cell::Number(x) => number(*x),
        Cell::Text(s) => Value::String(s.trim().to_string()),
        Cell::Date(d) => Value::String(d.clone()),
        Cell::Bool(b) => Value::Bool(*b),
        Cell::Empty => Value::Null,
    }))
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Empty => "nothing".into(),
        Cell::Text(s) | Cell::Date(s) => format!("{s:?}"),
        Cell::Number(x) => x.to_string(),
        Cell::Bool(b) => b.to_string(),
    }
}

/// A JSON number: whole numbers as integers (a cell 12 is `12`, not `12.0`).
fn number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::from(x as i64)
    } else {
        serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// An Excel serial date (1900 date system, days since 1899-12-30, Excel's
/// 1900 leap-year bug included) as `YYYY-MM-DD`; the time of day is dropped.
/// `None` outside Excel's range (1900-01-01 to 9999-12-31).
pub fn serial_date(serial: f64) -> Option<String> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let dt =
        calamine::ExcelDateTime::new(serial.floor(), calamine::ExcelDateTimeType::DateTime, false);
    let (y, m, d, ..) = dt.to_ymd_hms_milli();
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// A date text as office software writes it — `2024/3/5`, `2024.3.5`,
/// `2024-3-5`, `2024年3月5日`, perhaps followed by a zero time `0:00` or
/// `00:00:00` — as `2024-03-05`; `None` for anything else.
pub fn date_text(s: &str) -> Option<String> {
    let s = s.trim();
    let (date, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, t.trim()),
        None => (s, ""),
    };
    if !time.is_empty() && !time.chars().all(|c| c == '0' || c == ':') {
        return None;
    }
    let date = date.strip_suffix('日').unwrap_or(date);
    let parts: Vec<&str> = date.split(['-', '/', '.', '年', '月']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let digits = |t: &str, n: std::ops::RangeInclusive<usize>| {
        n.contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit())
    };
    if !digits(y, 4..=4) || !digits(m, 1..=2) || !digits(d, 1..=2) {
        return None;
    }
    let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| format!("{y}-{m:02}-{d:02}"))
}

// ------------------------------------------------------------------ xlsx import

/// Parses and validates the first sheet of an .xlsx workbook like CSV
/// ([`import::parse_csv`]): the header is the first row with more than one
/// value (title rows above it are skipped), empty rows are skipped, and
/// every error names the sheet row and the column.
pub fn parse_xlsx(
    collection: Collection,
    bytes: &[u8],
    crs: Crs,
) -> Result<Vec<Feature>, ImportErrors> {
    parse_xlsx_with(collection, bytes, crs, None)
}

/// [`parse_xlsx`] with a [`Fill`] applied to each row before validation.
pub fn parse_xlsx_with(
    collection: Collection,
    bytes: &[u8],
    crs: Crs,
    fill: Option<&Fill<'_>>,
) -> Result<Vec<Feature>, ImportErrors> {
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes))
        .map_err(|e| ImportErrors::file("(xlsx)", format!("not a readable .xlsx workbook: {e}")))?;
    let sheet = book.sheet_names().first().cloned().unwrap_or_default();
    let range = match book.worksheet_range_at(0) {
        None => return Err(ImportErrors::file("(xlsx)", "the workbook has no sheet")),
        Some(Err(e)) => {
            return Err(ImportErrors::file(
                "(xlsx)",
                format!("cannot read sheet {sheet:?}: {e}"),
            ));
        }
        Some(Ok(r)) => r,
    };
    let Some((top, left)) = range.start() else {
        return Err(ImportErrors::file(
            "(header)",
            format!("sheet {sheet:?} is empty"),
        ));
    };
    let filled = |r: &[Data]| r.iter().filter(|c| !is_blank(c)).count();
    let text = |c: &Data| match to_cell(c) {
        Cell::Text(s) | Cell::Date(s) => s.trim().to_string(),
        Cell::Number(x) => x.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Empty => String::new(),
    };
    // The header row: among the first rows, the one naming the most known
    // columns (schema fields or aliases), so that title rows and the group
    // row of a two-level header are passed over; without any known name,
    // the first row with two or more values. An empty header cell takes the
    // nearest name above it (a cell merged down over two header rows).
    let rows: Vec<&[Data]> = range.rows().take(20).collect();
    let headers_at = |i: usize| -> Vec<String> {
        rows[i]
            .iter()
            .enumerate()
            .map(|(j, c)| {
                let own = text(c);
                if !own.is_empty() {
                    return own;
                }
                rows[..i]
                    .iter()
                    .rev()
                    .find_map(|r| r.get(j).map(text).filter(|t| !t.is_empty()))
                    .unwrap_or_default()
            })
            .collect()
    };
    let aliases = Aliases::builtin();
    let known = |hs: &[String]| {
        hs.iter()
            .filter(|h| {
                aliases.find(collection, h).is_some()
                    || schema_fields(collection).contains(&h.as_str())
                    || ["id", "lon", "lat", "wkt"].contains(&h.as_str())
            })
            .count()
    };
    let best = (0..rows.len())
        .map(|i| (known(&headers_at(i)), i))
        .max_by_key(|&(n, i)| (n, std::cmp::Reverse(i)));
    let header_at = match best {
        Some((n, i)) if n > 0 => i,
        _ => match range.rows().position(|r| filled(r) > 1) {
            Some(i) => i,
            None => {
                return Err(ImportErrors::file(
                    "(header)",
                    format!(
                        "sheet {sheet:?} has no header row (a row with two or more column names)"
                    ),
                ));
            }
        },
    };
    let headers: Vec<String> = if header_at < rows.len() {
        headers_at(header_at)
    } else {
        range
            .rows()
            .nth(header_at)
            .unwrap_or_default()
            .iter()
            .map(text)
            .collect()
    };
    let rows = range
        .rows()
        .enumerate()
        .skip(header_at + 1)
        .filter(|(_, r)| filled(r) > 0)
        .map(|(i, r)| TableRow {
            row: top as usize + i + 1,
            cells: Ok(r.iter().map(to_cell).collect()),
        });
    import::parse_table(
        collection,
        TableHeader {
            headers,
            first_column: left as usize,
        },
        rows,
        crs,
        fill,
    )
}

fn is_blank(c: &Data) -> bool {
    match c {
        Data::Empty => true,
        Data::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// A calamine cell as a table cell: date cells as `YYYY-MM-DD` (with the
/// time, `THH:MM:SS`, when it is not midnight).
fn to_cell(c: &Data) -> Cell {
    match c {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(x) => Cell::Number(*x),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                Cell::Date(format!("{y:04}-{mo:02}-{d:02}"))
            } else {
                Cell::Date(format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"))
            }
        }
        Data::DateTime(dt) => Cell::Number(dt.as_f64()),
        Data::DateTimeIso(s) => Cell::Date(s.strip_suffix("T00:00:00").unwrap_or(s).to_string()),
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

// ------------------------------------------------------------------ filling from the enterprise

/// The [`Fill`] of hidden dangers: a row that names a known enterprise
/// (`enterprise_id`, looked up with `enterprise`) and gives no location takes
/// the enterprise's site (its centroid, in the input CRS `crs`); without a
/// district code or industry, the enterprise's. The rule HTTP writes of
/// GeoJSON follow.
pub fn fill_from_enterprise<'a>(
    enterprise: impl Fn(&str) -> Option<&'a Feature> + 'a,
    crs: Crs,
) -> impl Fn(&mut Map<String, Value>, &mut Option<GeometryValue>) + 'a {
    move |props, geometry| {
        let Some(ent) = props
            .get("enterprise_id")
            .and_then(|v| match v {
                Value::String(s) => Some(s.trim().to_string()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .and_then(|id| enterprise(&id))
        else {
            return;
        };
        if geometry.is_none() {
            use geo::Centroid;
            if let Some(c) = ent.geometry.centroid() {
                let (x, y) = crs.from_wgs84(c.x(), c.y());
                *geometry = Some(GeometryValue::new_point([x, y]));
            }
        }
        if let Record::Enterprise(e) = &ent.record {
            for (k, v) in [
                ("district_code", &e.district_code),
                ("industry", &e.industry),
            ] {
                if let Some(v) = v
                    && props.get(k).is_none_or(Value::is_null)
                {
                    props.insert(k.to_string(), Value::String(v.clone()));
                }
            }
        }
    }
}

// ------------------------------------------------------------------ export

/// The import schema's fields of a collection, in the order of the record.
pub fn schema_fields(collection: Collection) -> &'static [&'static str] {
    match collection {
        Collection::Enterprises => &[
            "name",
            "credit_code",
            "industry",
            "district_code",
            "park_id",
            "employees",
            "standardization_level",
            "installation",
            "accidents",
            "units",
            "major_hazard_registration",
            "inspection_findings",
        ],
        Collection::Parks => &["name", "kind", "assessment_score"],
        Collection::Pipelines => &[
            "name",
            "kind",
            "diameter_mm",
            "maop_mpa",
            "medium",
            "material",
            "year_built",
            "operator",
        ],
        Collection::ProtectionTargets => &[
            "name",
            "category",
            "population",
            "households",
            "beds",
            "floor_area_m2",
        ],
        Collection::Districts => &["code", "name", "level"],
        Collection::HiddenDangers => &[
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
        ],
        Collection::RescueTeams => &[
            "name",
            "kind",
            "members",
            "equipment",
            "contact",
            "mobilisation_min",
            "district_code",
            "sample",
        ],
        Collection::SupplyDepots => &["name", "items", "contact", "district_code", "sample"],
        Collection::Shelters => &[
            "name",
            "class",
            "capacity_persons",
            "area_m2",
            "district_code",
            "sample",
        ],
    }
}

/// A list of features laid out as a table: headers, one row per feature.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportTable {
    /// Column names: `id`, the schema fields, properties outside the schema,
    /// `lon`,`lat` or `wkt`, then the derived `risk_level` or `overdue`,
    /// and the last change time `updated` (最后更新时间).
    pub headers: Vec<String>,
    /// One row per feature, a cell per header.
    pub rows: Vec<Vec<Cell>>,
    /// The `risk_level` column, whose cells are coloured in a workbook.
    pub level_column: Option<usize>,
}

/// Lays `features` of `collection` out as a table in the import schema's
/// columns: `id`; every schema field (nested lists and objects as JSON
/// text); the properties outside the schema, in order of first appearance;
/// `lon`,`lat` when every feature is a point, else `wkt`; then, derived,
/// `risk_level` for the scored collections (from `level`) and `overdue`
/// for hidden dangers (on `today`).
pub fn export_table<'a>(
    collection: Collection,
    features: impl IntoIterator<Item = &'a Feature>,
    level: impl Fn(&Feature) -> Option<RiskLevel>,
    today: &str,
) -> ExportTable {
    let features: Vec<&Feature> = features.into_iter().collect();
    let props: Vec<Map<String, Value>> =
        features.iter().map(|f| f.record.to_properties()).collect();
    let schema = schema_fields(collection);
    let points = match features.first() {
        Some(_) => features
            .iter()
            .all(|f| matches!(f.geometry, geo::Geometry::Point(_))),
        None => collection.allowed_geometries().contains(&"Point"),
    };
    let geometry_columns: &[&str] = if points { &["lon", "lat"] } else { &["wkt"] };
    let scored = matches!(
        collection,
        Collection::Enterprises | Collection::Parks | Collection::Pipelines | Collection::Districts
    );
    let derived: &[&str] = match collection {
        Collection::HiddenDangers => &["overdue"],
        _ if scored => &["risk_level"],
        _ => &[],
    };
    let mut headers: Vec<String> = std::iter::once("id")
        .chain(schema.iter().copied())
        .map(str::to_string)
        .collect();
    let reserved = |k: &str| {
        k == "id"
            || schema.contains(&k)
            || geometry_columns.contains(&k)
            || DERIVED_COLUMNS.contains(&k)
    };
    let mut extra: Vec<String> = Vec::new();
    for p in &props {
        for k in p.keys() {
            if !reserved(k) && !extra.contains(k) {
                extra.push(k.clone());
            }
        }
    }
    headers.extend(extra.iter().cloned());
    headers.extend(geometry_columns.iter().map(|s| s.to_string()));
    let level_column = derived.contains(&"risk_level").then_some(headers.len());
    headers.extend(derived.iter().map(|s| s.to_string()));
    headers.push("updated".into());
    let rules = crate::dangers::DangerRules::builtin();
    let rows = features
        .iter()
        .zip(&props)
        .map(|(f, p)| {
            let mut row = Vec::with_capacity(headers.len());
            row.push(Cell::Text(f.id.clone()));
            for k in schema
                .iter()
                .copied()
                .chain(extra.iter().map(String::as_str))
            {
                row.push(value_cell(p.get(k)));
            }
            match (&f.geometry, points) {
                (geo::Geometry::Point(pt), true) => {
                    row.push(Cell::Number(pt.x()));
                    row.push(Cell::Number(pt.y()));
                }
                (g, _) => {
                    use wkt::ToWkt;
                    row.push(Cell::Text(g.wkt_string()));
                }
            }
            for d in derived {
                row.push(match (*d, &f.record) {
                    ("risk_level", _) => {
                        level(f).map_or(Cell::Empty, |l| Cell::Text(l.as_str().into()))
                    }
                    ("overdue", Record::HiddenDanger(h)) => Cell::Bool(crate::dangers::is_overdue(
                        rules,
                        &h.status,
                        h.deadline.as_deref(),
                        today,
                    )),
                    _ => Cell::Empty,
                });
            }
            row.push(f.updated.clone().map_or(Cell::Empty, Cell::Text));
            row
        })
        .collect();
    ExportTable {
        headers,
        rows,
        level_column,
    }
}

fn value_cell(v: Option<&Value>) -> Cell {
    match v {
        None | Some(Value::Null) => Cell::Empty,
        Some(Value::String(s)) => Cell::Text(s.clone()),
        Some(Value::Number(n)) => n.as_f64().map_or(Cell::Empty, Cell::Number),
        Some(Value::Bool(b)) => Cell::Bool(*b),
        Some(v @ (Value::Array(_) | Value::Object(_))) => Cell::Text(v.to_string()),
    }
}

/// The table as CSV: UTF-8 with a byte-order mark (Excel then reads it as
/// UTF-8), numbers in their shortest exact form, booleans `true`/`false`.
pub fn write_csv(table: &ExportTable) -> Vec<u8> {
    let mut out = b"\xef\xbb\xbf".to_vec();
    {
        let mut w = csv::WriterBuilder::new().from_writer(&mut out);
        // Writing to a Vec cannot fail; a failure would leave the row out.
        let _ = w.write_record(&table.headers);
        for row in &table.rows {
            let _ = w.write_record(row.iter().map(|c| match c {
                Cell::Empty => String::new(),
                Cell::Text(s) | Cell::Date(s) => s.clone(),
                Cell::Number(x) => x.to_string(),
                Cell::Bool(b) => b.to_string(),
            }));
        }
        let _ = w.flush();
    }
    out
}

/// The table as an .xlsx workbook with one sheet named `sheet`: a bold,
/// frozen header row with filters, one row per feature, numbers as number
/// cells, `overdue` as boolean cells, the `risk_level` cells filled in the
/// four colours ([`RiskLevel::colour_hex`]). Refuses more rows than a sheet
/// holds, or a cell longer than Excel's 32,767 characters (a large outline's
/// WKT), naming the row and column.
pub fn write_xlsx(table: &ExportTable, sheet: &str) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Color, Format, Workbook};
    if table.rows.len() > MAX_XLSX_ROWS {
        return Err(format!(
            "{} rows do not fit in one sheet (at most {MAX_XLSX_ROWS}): export CSV, or filter with bbox/limit",
            table.rows.len()
        ));
    }
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet).map_err(|e| e.to_string())?;
    let bold = Format::new().set_bold();
    let fills: Vec<(RiskLevel, Format)> = RiskLevel::ALL
        .into_iter()
        .map(|l| {
            let rgb = u32::from_str_radix(l.colour_hex().trim_start_matches('#'), 16).unwrap_or(0);
            let font = if l == RiskLevel::Red {
                Color::White
            } else {
                Color::Black
            };
            (
                l,
                Format::new()
                    .set_background_color(Color::RGB(rgb))
                    .set_font_color(font),
            )
        })
        .collect();
    let err = |r: usize, c: usize, e: rust_xlsxwriter::XlsxError| {
        format!(
            "row {}, column {} ({}): {e}",
            r + 1,
            column_letter(c),
            table.headers.get(c).map_or("", String::as_str)
        )
    };
    for (c, h) in table.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &bold)
            .map_err(|e| err(0, c, e))?;
    }
    for (i, row) in table.rows.iter().enumerate() {
        let r = i + 1;
        for (c, cell) in row.iter().enumerate() {
            let (rr, cc) = (r as u32, c as u16);
            let done = match cell {
                Cell::Empty => continue,
                Cell::Text(s) if Some(c) == table.level_column => {
                    match fills.iter().find(|(l, _)| l.as_str() == s) {
                        Some((_, f)) => ws.write_string_with_format(rr, cc, s, f),
                        None => ws.write_string(rr, cc, s),
                    }
                }
                Cell::Text(s) | Cell::Date(s) => ws.write_string(rr, cc, s),
                Cell::Number(x) => ws.write_number(rr, cc, *x),
                Cell::Bool(b) => ws.write_boolean(rr, cc, *b),
            };
            done.map_err(|e| err(r, c, e))?;
        }
    }
    let last_col = table.headers.len().saturating_sub(1) as u16;
    ws.set_freeze_panes(1, 0).map_err(|e| e.to_string())?;
    ws.autofilter(0, 0, table.rows.len() as u32, last_col)
        .map_err(|e| e.to_string())?;
    book.save_to_buffer().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dangers::{DangerRules, DangerSource};

    #[test]
    fn column_letters() {
        let got: Vec<String> = [0, 7, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(column_letter)
            .collect();
        assert_eq!(
            got,
            ["A", "H", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"].map(String::from)
        );
    }

    #[test]
    fn excel_serial_dates_and_date_texts() {
        // 1900 system: 1 = 1900-01-01, 60 = Excel's 1900-02-29, 61 = 1900-03-01.
        assert_eq!(serial_date(1.0).as_deref(), Some("1900-01-01"));
        assert_eq!(serial_date(61.0).as_deref(), Some("1900-03-01"));
        assert_eq!(serial_date(45292.0).as_deref(), Some("2024-01-01"));
        assert_eq!(serial_date(45352.75).as_deref(), Some("2024-03-01"));
        assert_eq!(serial_date(0.0), None);
        assert_eq!(serial_date(3.0e6), None);
        for (text, want) in [
            ("2024/3/5", Some("2024-03-05")),
            ("2024-03-05", Some("2024-03-05")),
            ("2024.3.5", Some("2024-03-05")),
            ("2024年3月5日", Some("2024-03-05")),
            ("2024/3/5 0:00", Some("2024-03-05")),
            ("2024-03-05 00:00:00", Some("2024-03-05")),
            ("2024/3/5 8:30", None),
            ("2024/13/5", None),
            ("24/3/5", None),
            ("三月五日", None),
        ] {
            assert_eq!(date_text(text).as_deref(), want, "{text}");
        }
    }

    #[test]
    fn the_alias_table_maps_headers_and_values() {
        let a = Aliases::builtin();
        let hd = Collection::HiddenDangers;
        for (header, field) in [
            ("隐患编号", "id"),
            ("编号", "id"),
            ("企业ID", "enterprise_id"),
            ("企业名称", "enterprise_name"),
            ("区划代码", "district_code"),
            ("所属行业", "industry"),
            ("来源", "source"),
            ("隐患等级", "level"),
            ("判定标准条款", "rule_item"),
            ("隐患内容", "description"),
            ("排查日期", "found_date"),
            ("整改时限", "deadline"),
            ("责任人", "responsible_person"),
            ("整改措施", "measures"),
            ("整改资金（元）", "funds_cny"),
            (" 整改资金 ( 万元 ) ", "funds_cny"),
            ("*隐患描述", "description"),
            ("治理状态", "status"),
            ("经度", "lon"),
            ("纬度", "lat"),
            ("deadline", "deadline"),
            ("备注", "备注"),
        ] {
            assert_eq!(a.field(hd, header), field, "{header}");
        }
        assert_eq!(
            a.find(hd, "整改资金(万元)").and_then(|x| x.scale),
            Some(10000.0)
        );
        assert!(
            a.find(hd, "整改资金")
                .and_then(|x| x.refuse.as_ref())
                .is_some()
        );
        let e = Collection::Enterprises;
        for (header, field) in [
            ("名称", "name"),
            ("企业名称", "name"),
            ("统一社会信用代码", "credit_code"),
            ("行政区划代码", "district_code"),
            ("行业", "industry"),
            ("从业人数", "employees"),
            ("经度", "lon"),
        ] {
            assert_eq!(a.field(e, header), field, "{header}");
        }
        // Aliases are per collection: 隐患编号 means nothing to targets.
        assert_eq!(
            a.field(Collection::ProtectionTargets, "隐患编号"),
            "隐患编号"
        );
        // Every value label names a value the importer accepts.
        let rules = DangerRules::builtin();
        let value_set = |field: &str| -> Vec<String> {
            match field {
                "source" => DangerSource::ALL.map(|s| s.as_str().to_string()).to_vec(),
                "level" => vec!["general".into(), "major".into()],
                "status" => rules.state.iter().map(|s| s.id.clone()).collect(),
                "listing_level" => vec!["county".into(), "city".into(), "province".into()],
                other => panic!("value labels for {other}: add the check"),
            }
        };
        for alias in a.list(hd).filter(|x| !x.values.is_empty()) {
            let ok = value_set(&alias.field);
            for (label, v) in &alias.values {
                assert!(ok.contains(v), "{}: {label} → {v}", alias.field);
            }
        }
        // The resources' value labels name values their importer accepts.
        for (c, field, names) in [
            (
                Collection::RescueTeams,
                "kind",
                &crate::resources::TeamKind::NAMES[..],
            ),
            (
                Collection::Shelters,
                "class",
                &crate::resources::ShelterClass::NAMES[..],
            ),
        ] {
            for alias in a.list(c).filter(|x| !x.values.is_empty()) {
                assert_eq!(alias.field, field);
                for v in alias.values.values() {
                    assert!(names.contains(&v.as_str()), "{c}: {v}");
                }
            }
        }
        // Every state's Chinese name in hidden-dangers.toml is a label.
        let status = a.find(hd, "状态").unwrap();
        for s in &rules.state {
            assert_eq!(status.values.get(&s.zh), Some(&s.id), "{}", s.zh);
        }
        // A header twice in one collection is refused.
        let bad = "[[hidden_dangers]]\nfield = \"id\"\nheaders = [\"编号\"]\n[[hidden_dangers]]\nfield = \"description\"\nheaders = [\"编 号\"]\n";
        assert!(Aliases::from_toml(bad).unwrap_err().contains("编 号"));
        assert!(Aliases::from_toml("[[castles]]\nfield = \"x\"\nheaders = [\"y\"]\n").is_err());
    }

    #[test]
    fn every_demo_collection_round_trips_through_xlsx_and_csv() {
        for c in Collection::ALL {
            let want = import::parse_geojson(c, crate::demo::text(c), Crs::Wgs84).unwrap();
            let table = export_table(c, &want, |_| Some(RiskLevel::Red), "2026-01-01");
            assert_eq!(table.rows.len(), want.len());
            {
                let book = write_xlsx(&table, c.as_str()).unwrap();
                let got = parse_xlsx(c, &book, Crs::Wgs84).unwrap();
                assert_eq!(got.len(), want.len());
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!(g, w, "{c} via xlsx");
                }
            }
            let csv = write_csv(&table);
            let (text, enc) = import::decode_text(&csv).unwrap();
            assert_eq!(enc, "UTF-8");
            let got = import::parse_csv(c, &text, Crs::Wgs84).unwrap();
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert_eq!((&g.id, &g.geometry), (&w.id, &w.geometry), "{c}");
                // CSV has no types: properties outside the schema come back as text.
                let text_of = |f: &Feature| -> Map<String, Value> {
                    f.record
                        .to_properties()
                        .into_iter()
                        .map(|(k, v)| match v {
                            Value::Bool(_) | Value::Number(_)
                                if !schema_fields(c).contains(&k.as_str()) =>
                            {
                                (k, Value::String(v.to_string()))
                            }
                            v => (k, v),
                        })
                        .collect()
                };
                assert_eq!(text_of(g), text_of(w), "{c} {} via csv", g.id);
            }
        }
    }

    #[test]
    fn a_cell_longer_than_excel_holds_is_refused_by_row_and_column() {
        let table = ExportTable {
            headers: vec!["id".into(), "wkt".into()],
            rows: vec![
                vec![Cell::Text("a".into()), Cell::Text("POINT(1 2)".into())],
                vec![Cell::Text("b".into()), Cell::Text("x".repeat(40_000))],
            ],
            level_column: None,
        };
        let err = write_xlsx(&table, "districts").unwrap_err();
        assert!(err.starts_with("row 3, column B (wkt)"), "{err}");
    }

    #[test]
    fn a_two_level_header_under_a_title_is_found() {
        // Row 1: title; rows 2–3: a two-level header (隐患编号 merged down,
        // 整改情况 over 整改期限 and 整改资金（万元）); data from row 4.
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        let f = rust_xlsxwriter::Format::new();
        ws.merge_range(0, 0, 0, 8, "隐患排查治理台账", &f).unwrap();
        ws.write_string(1, 8, "填报日期：2024年3月").unwrap();
        for (c, h) in ["隐患编号", "隐患来源", "隐患级别", "隐患描述", "发现日期"]
            .iter()
            .enumerate()
        {
            ws.merge_range(1, c as u16, 2, c as u16, h, &f).unwrap();
        }
        ws.merge_range(1, 5, 1, 6, "整改情况", &f).unwrap();
        ws.write_string(2, 5, "整改期限").unwrap();
        ws.write_string(2, 6, "整改资金（万元）").unwrap();
        ws.write_string(2, 7, "经度").unwrap();
        ws.write_string(2, 8, "纬度").unwrap();
        let row = [
            "HD-1",
            "举报",
            "一般",
            "楼梯间堆物",
            "2024-03-01",
            "2024/3/31",
        ];
        for (c, v) in row.iter().enumerate() {
            ws.write_string(3, c as u16, *v).unwrap();
        }
        ws.write_number(3, 6, 0.2).unwrap();
        ws.write_number(3, 7, 120.2).unwrap();
        ws.write_string(3, 8, "abc").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let err = parse_xlsx(Collection::HiddenDangers, &bytes, Crs::Wgs84).unwrap_err();
        assert_eq!(err.total, 1, "{err}");
        assert_eq!(
            err.errors[0].to_string(),
            "row 4 (id \"HD-1\"), column I (纬度), field `lat`: not a number: \"abc\""
        );
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        ws.merge_range(0, 0, 0, 3, "隐患排查治理台账", &f).unwrap();
        for (c, h) in [
            "隐患编号",
            "隐患来源",
            "隐患级别",
            "隐患描述",
            "发现日期",
            "经度",
            "纬度",
        ]
        .iter()
        .enumerate()
        {
            ws.write_string(1, c as u16, *h).unwrap();
        }
        for (c, v) in ["HD-1", "举报", "一般", "楼梯间堆物"].iter().enumerate() {
            ws.write_string(2, c as u16, *v).unwrap();
        }
        ws.write_number(2, 4, 45352.0).unwrap(); // a serial date without a date format
        ws.write_number(2, 5, 120.2).unwrap();
        ws.write_number(2, 6, 30.3).unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let got = parse_xlsx(Collection::HiddenDangers, &bytes, Crs::Wgs84).unwrap();
        let Record::HiddenDanger(h) = &got[0].record else {
            panic!()
        };
        assert_eq!(h.found_date, "2024-03-01");
    }

    fn danger_csv(header: &str, rows: &[&str]) -> String {
        let mut s = header.to_string();
        for r in rows {
            s.push('\n');
            s.push_str(r);
        }
        s.push('\n');
        s
    }

    #[test]
    fn chinese_headers_and_labels_import_like_schema_names() {
        let zh = danger_csv(
            "隐患编号,企业名称,隐患来源,隐患级别,判定依据,隐患描述,发现日期,整改期限,整改资金（万元）,治理状态,经度,纬度",
            &[
                "HD-1,示例化工,企业自查,重大隐患,HC121-03,储罐区防护距离不足,2024/3/5,2024年6月30日,1.5,整改中,120.1,30.2",
            ],
        );
        let en = danger_csv(
            "id,enterprise_name,source,level,rule_item,description,found_date,deadline,funds_cny,status,lon,lat",
            &[
                "HD-1,示例化工,self_check,major,HC121-03,储罐区防护距离不足,2024-03-05,2024-06-30,15000,rectifying,120.1,30.2",
            ],
        );
        let a = import::parse_csv(Collection::HiddenDangers, &zh, Crs::Wgs84).unwrap();
        let b = import::parse_csv(Collection::HiddenDangers, &en, Crs::Wgs84).unwrap();
        assert_eq!(a, b);
        let Record::HiddenDanger(h) = &a[0].record else {
            panic!()
        };
        assert_eq!(h.funds_cny, Some(15000.0));
        assert_eq!(h.extra["enterprise_name"], "示例化工");
        // A bare 整改资金 is refused by column.
        let bare = danger_csv("隐患编号,整改资金,经度,纬度", &["HD-2,3,120.1,30.2"]);
        let err = import::parse_csv(Collection::HiddenDangers, &bare, Crs::Wgs84).unwrap_err();
        assert!(err.to_string().contains("column B (整改资金)"), "{err}");
        // The same field twice, once by alias: refused naming both.
        let twice = danger_csv("id,隐患编号,经度,纬度", &["a,b,120.1,30.2"]);
        let err = import::parse_csv(Collection::HiddenDangers, &twice, Crs::Wgs84).unwrap_err();
        assert!(err.to_string().contains("A (id) and B (隐患编号)"), "{err}");
    }

    #[test]
    fn csv_errors_name_row_and_column() {
        let text = danger_csv(
            "隐患编号,隐患来源,隐患级别,隐患描述,发现日期,整改期限,经度,纬度",
            &[
                "HD-1,企业自查,一般,a,2024-03-05,2024-04-01,120.1,30.2",
                "HD-2,企业自查,一般,b,2024-03-05,明天,120.1,30.2",
            ],
        );
        let err = import::parse_csv(Collection::HiddenDangers, &text, Crs::Wgs84).unwrap_err();
        assert_eq!(err.total, 1, "{err}");
        let e = &err.errors[0];
        assert_eq!(
            (e.index, e.row, e.column.as_deref(), e.field.as_str()),
            (Some(1), Some(3), Some("F (整改期限)"), "deadline")
        );
        assert!(
            e.to_string()
                .starts_with("row 3 (id \"HD-2\"), column F (整改期限), field `deadline`"),
            "{e}"
        );
    }

    #[test]
    fn a_shelter_table_with_chinese_headers_imports_and_names_its_columns() {
        let text = "场所编号,场所名称,类别,容纳人数,面积(平方米),经度,纬度\n\
                    S-1,广场（示例避难场所）,紧急避难场所,800,1500,120.30,30.30\n\
                    S-2,公园（示例避难场所）,临时,-1,,120.31,30.31\n";
        let err = import::parse_csv(Collection::Shelters, text, Crs::Wgs84).unwrap_err();
        let fields: Vec<(&str, Option<usize>, Option<&str>)> = err
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.row, e.column.as_deref()))
            .collect();
        assert!(
            fields.contains(&("class", Some(3), Some("C (类别)"))),
            "{fields:?}"
        );
        assert!(
            fields.contains(&("capacity_persons", Some(3), Some("D (容纳人数)"))),
            "{fields:?}"
        );
        assert!(fields.iter().all(|f| f.1 == Some(3)), "{fields:?}");
        let good = text.lines().take(2).collect::<Vec<_>>().join("\n");
        let out = import::parse_csv(Collection::Shelters, &good, Crs::Wgs84).unwrap();
        let Record::Shelter(s) = &out[0].record else {
            panic!()
        };
        assert_eq!(s.class, crate::resources::ShelterClass::Emergency);
        assert_eq!(s.capacity_persons, 800);
        assert_eq!(s.area_m2, Some(1500.0));
    }
}

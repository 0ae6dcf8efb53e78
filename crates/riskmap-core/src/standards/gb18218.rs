//! GB 18218-2018 危险化学品重大危险源辨识 — identification and grading of
//! major hazard installations (重大危险源) of hazardous chemicals.
//!
//! The six tables of the standard live as CSV in `data/standards/` (see its
//! `README.md` for sources and confidence notes). They are embedded at compile
//! time and parsed once, on first use, into a [`Gb18218`] catalogue:
//!
//! - Table 1 (表1): 85 named chemicals and their critical quantity 临界量 Q → [`Table1Entry`].
//! - Table 2 (表2): Q by hazard category (J1–J5, W1.1–W11), joined with
//!   Table 4 (表4): the correction factor β by category → [`HazardCategory`].
//! - Table 3 (表3): β for 14 named toxic gases → [`Table3Entry`].
//! - Table 5 (表5): the exposed-population correction α → [`Gb18218::alpha`].
//! - Table 6 (表6): grades 一级…四级 by R → [`Gb18218::grade`].
//!
//! The formulas themselves are the caller's (the scoring engine's):
//! S = Σ qᵢ/Qᵢ (a 重大危险源 if S ≥ 1) and R = α · Σ βᵢ·qᵢ/Qᵢ.
//!
//! This module is pure: no filesystem access, no allocation after the first
//! parse, and no panics except if the embedded data were invalid, which the
//! unit tests rule out.

use std::sync::LazyLock;

const TABLE1_CSV: &str = include_str!("../../../../data/standards/gb18218-2018-table1.csv");
const TABLE2_CSV: &str = include_str!("../../../../data/standards/gb18218-2018-table2.csv");
const TABLE3_CSV: &str = include_str!("../../../../data/standards/gb18218-2018-table3.csv");
const TABLE4_CSV: &str = include_str!("../../../../data/standards/gb18218-2018-table4.csv");
const TABLE5_CSV: &str = include_str!("../../../../data/standards/gb18218-2018-table5.csv");
const TABLE6_CSV: &str = include_str!("../../../../data/standards/gb18218-2018-table6.csv");

static BUILTIN: LazyLock<Gb18218> =
    LazyLock::new(|| Gb18218::from_embedded().expect("embedded GB 18218 table is valid"));

/// One row of Table 1 (表1): a named hazardous chemical (危险化学品) and its
/// critical quantity (临界量).
#[derive(Debug, Clone, PartialEq)]
pub struct Table1Entry {
    /// Row number (序号) in Table 1, 1..=85.
    pub no: u16,
    /// Name (危险化学品名称) as printed, including any condition in brackets,
    /// e.g. `硝酸铵(含可燃物≤0.2%)`.
    pub name_zh: String,
    /// Synonyms (别名) and English names people use; a project addition, not
    /// part of the standard.
    pub aliases: Vec<String>,
    /// CAS numbers (CAS号); several for #49 and #52, none for #13, #45, #74.
    pub cas: Vec<String>,
    /// Critical quantity (临界量) Q, in tonnes.
    pub critical_quantity_t: f64,
    /// Hazard category (危险性类别, a Table 2 symbol such as `W5.3`) assumed
    /// for β when the entry is not in Table 3. A project judgement from the
    /// GHS classification, not part of the standard; `None` when no Table 2
    /// category applies (e.g. 三氧化硫, corrosive only).
    pub default_category: Option<String>,
    /// A gas with GHS acute toxicity by inhalation (急性毒性-吸入) category 1–3,
    /// or any Table 3 substance. Project judgement.
    pub is_toxic_gas: bool,
    /// A GHS flammable gas (易燃气体) category 1–2. Project judgement.
    pub is_flammable_gas: bool,
    /// A class 1 explosive (爆炸物). Project judgement.
    pub is_explosive: bool,
}

/// A hazard category (危险性类别) of Table 2 (表2) with its β from Table 4 (表4).
#[derive(Debug, Clone, PartialEq)]
pub struct HazardCategory {
    /// Symbol (符号): `J1`..`J5`, `W1.1`..`W11`.
    pub symbol: String,
    /// Category (类别), e.g. `易燃液体`.
    pub category_zh: String,
    /// Classification and description (危险性分类及说明).
    pub description_zh: String,
    /// Critical quantity (临界量) Q, in tonnes (net weight for W3 aerosols).
    pub critical_quantity_t: f64,
    /// Correction factor (校正系数) β from Table 4.
    pub beta: f64,
}

/// One row of Table 3 (表3): β for a named toxic gas (毒性气体).
#[derive(Debug, Clone, PartialEq)]
pub struct Table3Entry {
    /// Name (名称) as printed in Table 3.
    pub name_zh: String,
    /// CAS number; not printed in Table 3, added for matching.
    pub cas: String,
    /// Correction factor (校正系数) β.
    pub beta: f64,
}

/// One band of Table 5: `min..=max` people (`max` open-ended when `None`).
#[derive(Debug, Clone, PartialEq)]
struct AlphaBand {
    min: u64,
    max: Option<u64>,
    alpha: f64,
}

/// One band of Table 6: `r_min <= R < r_max`, an absent bound is unbounded.
#[derive(Debug, Clone, PartialEq)]
struct GradeBand {
    grade: u8,
    r_min: Option<f64>,
    r_max: Option<f64>,
    label_zh: String,
}

impl GradeBand {
    fn contains(&self, r: f64) -> bool {
        self.r_min.is_none_or(|min| r >= min) && self.r_max.is_none_or(|max| r < max)
    }
}

/// The GB 18218-2018 catalogue: Tables 1–6, parsed and cross-checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Gb18218 {
    table1: Vec<Table1Entry>,
    categories: Vec<HazardCategory>,
    table3: Vec<Table3Entry>,
    alpha_bands: Vec<AlphaBand>,
    grade_bands: Vec<GradeBand>,
}

impl Gb18218 {
    /// The catalogue built from the tables embedded in the binary, parsed on
    /// first use.
    pub fn builtin() -> &'static Gb18218 {
        &BUILTIN
    }

    /// All 85 Table 1 entries, in the standard's order.
    pub fn entries(&self) -> &[Table1Entry] {
        &self.table1
    }

    /// All 24 hazard categories of Tables 2 and 4, in the standard's order.
    pub fn categories(&self) -> &[HazardCategory] {
        &self.categories
    }

    /// The 14 rows of Table 3.
    pub fn table3(&self) -> &[Table3Entry] {
        &self.table3
    }

    /// Finds the Table 1 entry for a substance.
    ///
    /// Matching is by CAS first, then by name:
    /// - A CAS is normalised to its digits (so `7664-41-7`, ` 7664-41-7 ` and
    ///   `7664417` are the same) and compared with every CAS of an entry. The
    ///   CAS wins over the name: when the CAS matches, entries whose name does
    ///   not match are still candidates. When it matches nothing, the name is
    ///   tried.
    /// - A name matches an entry's `name_zh` or one of its aliases exactly,
    ///   after trimming, collapsing whitespace, ignoring case and mapping
    ///   full-width forms (（）［］，％ and full-width letters and digits) and
    ///   subscript digits to ASCII. An exact `name_zh` match beats an alias
    ///   match.
    ///
    /// Several entries share a CAS or an alias: the nitrocellulose variants
    /// #37–#42 (9004-70-0, 硝化棉) and ammonium nitrate #43/#44 (6484-52-2,
    /// 硝酸铵). A CAS cannot tell them apart, so the name decides when it
    /// matches one of them; otherwise the entry with the **lowest** critical
    /// quantity is returned (the conservative choice; the first in table order
    /// on a tie). E.g. CAS 6484-52-2 alone gives #43 (Q = 5 t), while adding
    /// the name `硝酸铵(含可燃物≤0.2%)` gives #44 (Q = 50 t).
    ///
    /// Concentration conditions (甲醛 > 90 %, 硝酸 > 70 %, anhydrous HCl/HF)
    /// are not checked: a CAS matches the substance at any concentration.
    pub fn find_substance(&self, name: Option<&str>, cas: Option<&str>) -> Option<&Table1Entry> {
        let name_key = name.map(normalize_name).filter(|k| !k.is_empty());
        if let Some(cas_key) = cas.map(cas_digits).filter(|k| !k.is_empty()) {
            let candidates: Vec<&Table1Entry> = self
                .table1
                .iter()
                .filter(|e| e.cas.iter().any(|c| cas_digits(c) == cas_key))
                .collect();
            if !candidates.is_empty() {
                let by_name = name_key
                    .as_deref()
                    .and_then(|k| pick_by_name(&candidates, k));
                return by_name.or_else(|| lowest_q(candidates.iter().copied()));
            }
        }
        let key = name_key?;
        let all: Vec<&Table1Entry> = self.table1.iter().collect();
        pick_by_name(&all, &key)
    }

    /// When a substance's CAS number and name name two different Table 1
    /// entries (the name is not that of any entry with this CAS number):
    /// the entry of the CAS number and the entry of the name.
    pub fn cas_name_conflict(
        &self,
        name: Option<&str>,
        cas: Option<&str>,
    ) -> Option<(&Table1Entry, &Table1Entry)> {
        let name_key = name.map(normalize_name).filter(|k| !k.is_empty())?;
        let cas_key = cas.map(cas_digits).filter(|k| !k.is_empty())?;
        let by_cas: Vec<&Table1Entry> = self
            .table1
            .iter()
            .filter(|e| e.cas.iter().any(|c| cas_digits(c) == cas_key))
            .collect();
        let first = *by_cas.first()?;
        if pick_by_name(&by_cas, &name_key).is_some() {
            return None;
        }
        let all: Vec<&Table1Entry> = self.table1.iter().collect();
        let by_name = pick_by_name(&all, &name_key)?;
        Some((first, by_name))
    }

    /// The hazard category with this Table 2 symbol (`J1`..`W11`), ignoring
    /// case and surrounding whitespace.
    pub fn category(&self, symbol: &str) -> Option<&HazardCategory> {
        let symbol = symbol.trim();
        self.categories
            .iter()
            .find(|c| c.symbol.eq_ignore_ascii_case(symbol))
    }

    /// β from Table 3 if the entry is one of its named toxic gases, matched
    /// by CAS, else by name or alias (this is how #13 煤气 gets the β of
    /// 一氧化碳). `None` when the entry is not in Table 3; then β comes from
    /// Table 4 by hazard category (see [`Gb18218::beta`]).
    pub fn table3_beta(&self, entry: &Table1Entry) -> Option<f64> {
        let by_cas = self.table3.iter().find(|t| {
            let key = cas_digits(&t.cas);
            entry.cas.iter().any(|c| cas_digits(c) == key)
        });
        if let Some(t) = by_cas {
            return Some(t.beta);
        }
        let keys: Vec<String> = std::iter::once(&entry.name_zh)
            .chain(&entry.aliases)
            .map(|n| normalize_name(n))
            .collect();
        self.table3
            .iter()
            .find(|t| keys.contains(&normalize_name(&t.name_zh)))
            .map(|t| t.beta)
    }

    /// β for a Table 1 entry: Table 3 when it names the entry, else Table 4
    /// for the entry's [`Table1Entry::default_category`]. `None` when neither
    /// applies (the caller must then supply a hazard category).
    pub fn beta(&self, entry: &Table1Entry) -> Option<f64> {
        self.table3_beta(entry).or_else(|| {
            entry
                .default_category
                .as_deref()
                .and_then(|s| self.category(s))
                .map(|c| c.beta)
        })
    }

    /// The exposed-population correction (暴露人员校正系数) α of Table 5,
    /// from the resident population (常住人口) within 500 m of the plant
    /// boundary (厂区边界): 0 → 0.5, 1–29 → 1.0, 30–49 → 1.2, 50–99 → 1.5,
    /// 100 or more → 2.0.
    pub fn alpha(&self, people_within_500m: u64) -> f64 {
        let n = people_within_500m;
        self.alpha_bands
            .iter()
            .find(|b| n >= b.min && b.max.is_none_or(|max| n <= max))
            .or_else(|| {
                self.alpha_bands
                    .iter()
                    .max_by(|a, b| a.alpha.total_cmp(&b.alpha))
            })
            .map_or(2.0, |b| b.alpha)
    }

    /// The grade (分级) of a major hazard installation from R (Table 6):
    /// 1 (一级) for R ≥ 100, 2 (二级) for 50 ≤ R < 100, 3 (三级) for
    /// 10 ≤ R < 50, 4 (四级) for R < 10.
    ///
    /// R must be a number: a NaN R matches no band and is graded 1, so that a
    /// broken computation never hides a hazard.
    pub fn grade(&self, r: f64) -> u8 {
        self.grade_bands
            .iter()
            .find(|b| b.contains(r))
            .or_else(|| self.grade_bands.iter().min_by_key(|b| b.grade))
            .map_or(1, |b| b.grade)
    }

    /// The Chinese label of a grade (`一级`..`四级`), `None` outside 1..=4.
    pub fn grade_label_zh(&self, grade: u8) -> Option<&str> {
        self.grade_bands
            .iter()
            .find(|b| b.grade == grade)
            .map(|b| b.label_zh.as_str())
    }

    /// Parses and cross-checks the embedded CSV tables.
    fn from_embedded() -> Result<Self, String> {
        let categories = parse_categories(TABLE2_CSV, TABLE4_CSV)?;
        let table1 = parse_table1(TABLE1_CSV, &categories)?;
        let table3 = parse_table3(TABLE3_CSV)?;
        let alpha_bands = parse_table5(TABLE5_CSV)?;
        let grade_bands = parse_table6(TABLE6_CSV)?;
        Ok(Self {
            table1,
            categories,
            table3,
            alpha_bands,
            grade_bands,
        })
    }
}

/// Among `candidates`, those whose `name_zh` matches `key` (normalised);
/// failing that, those with a matching alias; the lowest Q among them.
fn pick_by_name<'a>(candidates: &[&'a Table1Entry], key: &str) -> Option<&'a Table1Entry> {
    let by_name = candidates
        .iter()
        .copied()
        .filter(|e| normalize_name(&e.name_zh) == key);
    if let Some(e) = lowest_q(by_name) {
        return Some(e);
    }
    let by_alias = candidates
        .iter()
        .copied()
        .filter(|e| e.aliases.iter().any(|a| normalize_name(a) == key));
    lowest_q(by_alias)
}

/// The entry with the lowest critical quantity; the first one on a tie.
fn lowest_q<'a>(entries: impl Iterator<Item = &'a Table1Entry>) -> Option<&'a Table1Entry> {
    entries.min_by(|a, b| a.critical_quantity_t.total_cmp(&b.critical_quantity_t))
}

/// The digits of a CAS number, which identify it uniquely (the hyphens sit at
/// fixed places from the right).
fn cas_digits(cas: &str) -> String {
    cas.trim().chars().filter(char::is_ascii_digit).collect()
}

/// A name for comparison: full-width ASCII forms (U+FF01–U+FF5E) and the
/// ideographic space mapped to ASCII, subscript digits to digits, whitespace
/// trimmed and collapsed, lower case.
fn normalize_name(name: &str) -> String {
    let mapped: String = name
        .chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{2080}'..='\u{2089}' => {
                char::from_u32(u32::from(c) - 0x2080 + u32::from('0')).unwrap_or(c)
            }
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect();
    mapped
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

// ---------------------------------------------------------------------------
// CSV parsing: a minimal RFC 4180 reader (quoted fields, `""` escapes, no
// multi-line fields), enough for the embedded tables.

/// A parsed CSV file: its header and its rows with their 1-based line numbers.
struct Csv<'a> {
    file: &'a str,
    header: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
}

/// One row, with field access by column name.
struct Row<'c> {
    csv: &'c Csv<'c>,
    line: usize,
    fields: &'c [String],
}

impl<'a> Csv<'a> {
    fn parse(file: &'a str, text: &str) -> Result<Self, String> {
        let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .filter(|(_, l)| !l.trim().is_empty());
        let (header_line, header) = lines.next().ok_or_else(|| format!("{file}: empty file"))?;
        let header = split_record(header).map_err(|e| format!("{file}:{header_line}: {e}"))?;
        let mut rows = Vec::new();
        for (line, text) in lines {
            let fields = split_record(text).map_err(|e| format!("{file}:{line}: {e}"))?;
            if fields.len() != header.len() {
                return Err(format!(
                    "{file}:{line}: {} fields, the header has {}",
                    fields.len(),
                    header.len()
                ));
            }
            rows.push((line, fields));
        }
        Ok(Self { file, header, rows })
    }

    fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |(line, fields)| Row {
            csv: self,
            line: *line,
            fields,
        })
    }
}

impl Row<'_> {
    fn err(&self, msg: impl std::fmt::Display) -> String {
        format!("{}:{}: {msg}", self.csv.file, self.line)
    }

    /// The trimmed field of column `name`.
    fn get(&self, name: &str) -> Result<&str, String> {
        let i = self
            .csv
            .header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| self.err(format_args!("no column {name:?}")))?;
        Ok(self.fields[i].trim())
    }

    /// The field of column `name`, `None` when empty.
    fn opt(&self, name: &str) -> Result<Option<&str>, String> {
        self.get(name).map(|v| Some(v).filter(|v| !v.is_empty()))
    }

    fn f64(&self, name: &str) -> Result<f64, String> {
        self.opt_f64(name)?
            .ok_or_else(|| self.err(format_args!("{name} is empty")))
    }

    fn opt_f64(&self, name: &str) -> Result<Option<f64>, String> {
        let Some(v) = self.opt(name)? else {
            return Ok(None);
        };
        match v.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(self.err(format_args!("{name}: {v:?} is not a number"))),
        }
    }

    /// A strictly positive number (a critical quantity, β or α).
    fn positive(&self, name: &str) -> Result<f64, String> {
        let x = self.f64(name)?;
        if x > 0.0 {
            Ok(x)
        } else {
            Err(self.err(format_args!("{name} must be > 0, got {x}")))
        }
    }

    fn int<T: std::str::FromStr>(&self, name: &str) -> Result<T, String> {
        self.opt_int(name)?
            .ok_or_else(|| self.err(format_args!("{name} is empty")))
    }

    fn opt_int<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, String> {
        let Some(v) = self.opt(name)? else {
            return Ok(None);
        };
        v.parse::<T>()
            .map(Some)
            .map_err(|_| self.err(format_args!("{name}: {v:?} is not an integer")))
    }

    fn bool(&self, name: &str) -> Result<bool, String> {
        match self.get(name)? {
            "true" => Ok(true),
            "false" => Ok(false),
            v => Err(self.err(format_args!("{name}: {v:?} is not true/false"))),
        }
    }

    /// A `|`-separated list, items trimmed, empty items dropped.
    fn list(&self, name: &str) -> Result<Vec<String>, String> {
        Ok(self
            .get(name)?
            .split('|')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect())
    }

    /// A non-empty text field.
    fn text(&self, name: &str) -> Result<String, String> {
        self.opt(name)?
            .map(str::to_owned)
            .ok_or_else(|| self.err(format_args!("{name} is empty")))
    }
}

/// Splits one CSV record into fields. A field may be wrapped in double quotes,
/// inside which `,` is literal and `""` is a quote.
fn split_record(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    // `quoted`: inside quotes; `closed`: the current field's quotes were closed.
    let (mut quoted, mut closed) = (false, false);
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                    closed = true;
                }
            } else {
                field.push(c);
            }
        } else if c == ',' {
            fields.push(std::mem::take(&mut field));
            closed = false;
        } else if closed {
            return Err(format!("text after a closing quote: {line:?}"));
        } else if c == '"' {
            if !field.is_empty() {
                return Err(format!("a quote inside an unquoted field: {line:?}"));
            }
            quoted = true;
        } else {
            field.push(c);
        }
    }
    if quoted {
        return Err(format!("unterminated quote: {line:?}"));
    }
    fields.push(field);
    Ok(fields)
}

fn check_source(row: &Row<'_>, expected: &str) -> Result<(), String> {
    let source = row.get("source")?;
    if source == expected {
        Ok(())
    } else {
        Err(row.err(format_args!("source {source:?}, expected {expected:?}")))
    }
}

fn parse_table1(text: &str, categories: &[HazardCategory]) -> Result<Vec<Table1Entry>, String> {
    let csv = Csv::parse("gb18218-2018-table1.csv", text)?;
    let mut entries: Vec<Table1Entry> = Vec::new();
    for row in csv.rows() {
        check_source(&row, "GB 18218-2018 表1")?;
        let no: u16 = row.int("no")?;
        let expected = entries.last().map_or(1, |e| e.no + 1);
        if no != expected {
            return Err(row.err(format_args!("no {no}, expected {expected}")));
        }
        let default_category = row.opt("default_category")?.map(str::to_owned);
        if let Some(symbol) = &default_category
            && !categories.iter().any(|c| &c.symbol == symbol)
        {
            return Err(row.err(format_args!("unknown default_category {symbol:?}")));
        }
        entries.push(Table1Entry {
            no,
            name_zh: row.text("name_zh")?,
            aliases: row.list("aliases")?,
            cas: row.list("cas")?,
            critical_quantity_t: row.positive("critical_quantity_t")?,
            default_category,
            is_toxic_gas: row.bool("is_toxic_gas")?,
            is_flammable_gas: row.bool("is_flammable_gas")?,
            is_explosive: row.bool("is_explosive")?,
        });
    }
    Ok(entries)
}

/// Table 2 joined with Table 4; both must list the same symbols.
fn parse_categories(table2: &str, table4: &str) -> Result<Vec<HazardCategory>, String> {
    let t4 = Csv::parse("gb18218-2018-table4.csv", table4)?;
    let mut betas: Vec<(String, f64)> = Vec::new();
    for row in t4.rows() {
        check_source(&row, "GB 18218-2018 表4")?;
        betas.push((row.text("symbol")?, row.positive("beta")?));
    }
    let t2 = Csv::parse("gb18218-2018-table2.csv", table2)?;
    let mut categories = Vec::new();
    for row in t2.rows() {
        check_source(&row, "GB 18218-2018 表2")?;
        let symbol = row.text("symbol")?;
        let beta = betas
            .iter()
            .find(|(s, _)| *s == symbol)
            .map(|(_, b)| *b)
            .ok_or_else(|| row.err(format_args!("{symbol} has no β in Table 4")))?;
        categories.push(HazardCategory {
            category_zh: row.text("category_zh")?,
            description_zh: row.text("description_zh")?,
            critical_quantity_t: row.positive("critical_quantity_t")?,
            beta,
            symbol,
        });
    }
    if let Some((s, _)) = betas
        .iter()
        .find(|(s, _)| !categories.iter().any(|c| &c.symbol == s))
    {
        return Err(format!("gb18218-2018-table4.csv: {s} is not in Table 2"));
    }
    Ok(categories)
}

fn parse_table3(text: &str) -> Result<Vec<Table3Entry>, String> {
    let csv = Csv::parse("gb18218-2018-table3.csv", text)?;
    csv.rows()
        .map(|row| {
            check_source(&row, "GB 18218-2018 表3")?;
            Ok(Table3Entry {
                name_zh: row.text("name_zh")?,
                cas: row.text("cas")?,
                beta: row.positive("beta")?,
            })
        })
        .collect()
}

/// Table 5; the bands must cover 0..∞ without gaps or overlaps.
fn parse_table5(text: &str) -> Result<Vec<AlphaBand>, String> {
    let csv = Csv::parse("gb18218-2018-table5.csv", text)?;
    let mut bands = Vec::new();
    for row in csv.rows() {
        check_source(&row, "GB 18218-2018 表5")?;
        let band = AlphaBand {
            min: row.int("min_people")?,
            max: row.opt_int("max_people")?,
            alpha: row.positive("alpha")?,
        };
        if band.max.is_some_and(|max| max < band.min) {
            return Err(row.err("max_people < min_people"));
        }
        bands.push(band);
    }
    let mut sorted: Vec<&AlphaBand> = bands.iter().collect();
    sorted.sort_by_key(|b| b.min);
    let mut next = Some(0_u64);
    for b in sorted {
        if next != Some(b.min) {
            return Err(format!(
                "gb18218-2018-table5.csv: gap or overlap at {} people",
                b.min
            ));
        }
        next = b.max.and_then(|m| m.checked_add(1));
    }
    if next.is_some() {
        return Err("gb18218-2018-table5.csv: the last band must be open-ended".to_owned());
    }
    Ok(bands)
}

fn parse_table6(text: &str) -> Result<Vec<GradeBand>, String> {
    let csv = Csv::parse("gb18218-2018-table6.csv", text)?;
    let mut bands = Vec::new();
    for row in csv.rows() {
        check_source(&row, "GB 18218-2018 表6")?;
        let band = GradeBand {
            grade: row.int("grade")?,
            r_min: row.opt_f64("r_min")?,
            r_max: row.opt_f64("r_max")?,
            label_zh: row.text("label_zh")?,
        };
        if let (Some(min), Some(max)) = (band.r_min, band.r_max)
            && min >= max
        {
            return Err(row.err("r_min must be < r_max"));
        }
        bands.push(band);
    }
    Ok(bands)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb() -> &'static Gb18218 {
        Gb18218::builtin()
    }

    fn no(name: Option<&str>, cas: Option<&str>) -> Option<u16> {
        gb().find_substance(name, cas).map(|e| e.no)
    }

    fn entry(no: u16) -> &'static Table1Entry {
        &gb().entries()[usize::from(no) - 1]
    }

    fn approx(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// The CAS check digit: the sum of the other digits, weighted 1, 2, 3 …
    /// from the right, modulo 10.
    fn cas_is_valid(cas: &str) -> bool {
        let parts: Vec<&str> = cas.split('-').collect();
        let [a, b, check] = parts.as_slice() else {
            return false;
        };
        let all_digits = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
        if !(2..=7).contains(&a.len()) || b.len() != 2 || check.len() != 1 {
            return false;
        }
        if !all_digits(a) || !all_digits(b) || !all_digits(check) {
            return false;
        }
        let sum: u32 = format!("{a}{b}")
            .bytes()
            .rev()
            .zip(1..)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        sum % 10 == u32::from(check.as_bytes()[0] - b'0')
    }

    #[test]
    fn embedded_tables_parse() {
        assert!(
            Gb18218::from_embedded().is_ok(),
            "{:?}",
            Gb18218::from_embedded().err()
        );
    }

    #[test]
    fn all_85_entries_load_in_order() {
        let entries = gb().entries();
        assert_eq!(entries.len(), 85);
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(usize::from(e.no), i + 1);
            assert!(e.critical_quantity_t > 0.0);
            assert!(!e.aliases.is_empty(), "#{} has no aliases", e.no);
        }
        // Spot checks, including the pitfalls of public copies (standards.md §1.8).
        assert_eq!(entry(2).name_zh, "二氟化氧");
        assert_eq!(entry(2).cas, ["7783-41-7"]);
        assert_eq!(entry(27).name_zh, "3-氨基丙烯");
        assert_eq!(entry(31).name_zh, "叠氮化钡");
        assert_eq!(entry(75).name_zh, "戊硼烷");
        assert_eq!(entry(47).name_zh, "1,3-丁二烯");
        assert_eq!(entry(35).name_zh, "2,4,6-三硝基甲苯");
        assert!(approx(entry(6).critical_quantity_t, 0.3));
        assert!(approx(entry(30).critical_quantity_t, 0.75));
        assert!(approx(entry(26).critical_quantity_t, 75.0));
        assert!(approx(entry(46).critical_quantity_t, 1000.0));
        for no in [13, 45, 74] {
            assert!(entry(no).cas.is_empty(), "#{no} has no CAS in Table 1");
        }
    }

    #[test]
    fn critical_quantities_match_the_standard() {
        #[rustfmt::skip]
        let q: [f64; 85] = [
            10.0, 1.0, 1.0, 20.0, 1.0, 0.3, 10.0, 5.0, 1.0, 5.0, 20.0, 5.0, 20.0, 1.0, 1.0,
            1.0, 10.0, 20.0, 20.0, 1.0, 20.0, 20.0, 100.0, 1.0, 1.0, 75.0, 20.0, 20.0, 20.0, 0.75,
            0.5, 0.5, 0.5, 5.0, 5.0, 1.0, 1.0, 1.0, 10.0, 50.0, 50.0, 50.0, 5.0, 50.0, 200.0,
            1000.0, 5.0, 50.0, 50.0, 50.0, 5.0, 50.0, 5.0, 1.0, 50.0, 200.0, 50.0, 500.0, 500.0, 50.0,
            50.0, 500.0, 10.0, 500.0, 500.0, 200.0, 500.0, 10.0, 500.0, 500.0, 10.0, 10.0, 50.0, 1.0, 1.0,
            20.0, 20.0, 100.0, 100.0, 20.0, 100.0, 50.0, 100.0, 1.0, 10.0,
        ];
        for (e, q) in gb().entries().iter().zip(q) {
            assert!(
                approx(e.critical_quantity_t, q),
                "#{}: {} != {q}",
                e.no,
                e.critical_quantity_t
            );
        }
    }

    #[test]
    fn every_cas_has_a_valid_check_digit() {
        assert!(cas_is_valid("7732-18-5"), "water");
        assert!(!cas_is_valid("7732-18-4"));
        assert!(!cas_is_valid("7732185"));
        let table1 = gb().entries().iter().flat_map(|e| &e.cas);
        let table3 = gb().table3().iter().map(|t| &t.cas);
        let mut n = 0;
        for cas in table1.chain(table3) {
            assert!(cas_is_valid(cas), "invalid CAS {cas}");
            n += 1;
        }
        assert_eq!(n, 85 + 14);
    }

    #[test]
    fn lookup_by_cas() {
        assert_eq!(no(None, Some("7782-50-5")), Some(12));
        assert_eq!(no(None, Some("  7782-50-5 ")), Some(12));
        assert_eq!(no(None, Some("7782505")), Some(12));
        assert_eq!(no(None, Some("67-56-1")), Some(65));
        // The CAS wins over a name that points elsewhere.
        assert_eq!(no(Some("液氯"), Some("67-56-1")), Some(65));
        // An unknown CAS falls back to the name.
        assert_eq!(no(Some("甲醇"), Some("7732-18-5")), Some(65));
        assert_eq!(no(None, Some("7732-18-5")), None);
        assert_eq!(no(None, Some("  ")), None);
        assert_eq!(no(None, None), None);
    }

    #[test]
    fn lookup_by_chinese_name_alias_and_english_name() {
        assert_eq!(no(Some("甲醇"), None), Some(65));
        assert_eq!(no(Some(" 氯 "), None), Some(12));
        assert_eq!(no(Some("液氯"), None), Some(12));
        assert_eq!(no(Some("氯气"), None), Some(12));
        assert_eq!(no(Some("液氨"), None), Some(1));
        assert_eq!(no(Some("光气"), None), Some(6));
        assert_eq!(no(Some("电石"), None), Some(83));
        assert_eq!(no(Some("chlorine"), None), Some(12));
        assert_eq!(no(Some("Ammonia"), None), Some(1));
        assert_eq!(no(Some("ANHYDROUS  AMMONIA"), None), Some(1));
        assert_eq!(no(Some("toluene"), None), Some(64));
        assert_eq!(no(Some("Methanol"), None), Some(65));
        assert_eq!(no(Some("TNT"), None), Some(35));
        // Full-width parentheses and subscripts are normalised.
        assert_eq!(no(Some("氧（压缩的或液化的）"), None), Some(56));
        assert_eq!(no(Some("煤气(CO,CO和H2、CH4的混合物等)"), None), Some(13));
        assert_eq!(no(Some("一氧化碳"), None), Some(13));
        // Exact match only.
        assert_eq!(no(Some("甲"), None), None);
        assert_eq!(no(Some("水"), None), None);
        assert_eq!(no(Some(""), None), None);
    }

    #[test]
    fn multi_cas_entries_49_and_52() {
        assert_eq!(entry(49).cas, ["74-82-8", "8006-14-2"]);
        assert_eq!(entry(52).cas, ["68476-85-7", "74-98-6", "106-97-8"]);
        assert_eq!(no(None, Some("74-82-8")), Some(49));
        assert_eq!(no(None, Some("8006-14-2")), Some(49));
        assert_eq!(no(Some("天然气"), None), Some(49));
        assert_eq!(no(Some("LNG"), None), Some(49));
        assert_eq!(no(Some("methane"), None), Some(49));
        for cas in ["68476-85-7", "74-98-6", "106-97-8"] {
            assert_eq!(no(None, Some(cas)), Some(52), "{cas}");
        }
        assert_eq!(no(Some("丙烷"), None), Some(52));
        assert_eq!(no(Some("lpg"), None), Some(52));
    }

    #[test]
    fn shared_cas_takes_the_lowest_q_unless_the_name_decides() {
        // Nitrocellulose #37–#42 share 9004-70-0.
        assert_eq!(no(None, Some("9004-70-0")), Some(37));
        assert_eq!(no(Some("硝化棉"), Some("9004-70-0")), Some(37));
        assert_eq!(
            no(Some("硝化纤维素(含水≥25%)"), Some("9004-70-0")),
            Some(41)
        );
        assert_eq!(
            no(Some("硝化纤维素（含乙醇≥25%）"), Some("9004-70-0")),
            Some(39)
        );
        assert_eq!(no(Some("硝化棉溶液"), Some("9004-70-0")), Some(42));
        assert_eq!(no(Some("硝化棉"), None), Some(37));
        // Ammonium nitrate #43/#44 share 6484-52-2.
        assert_eq!(no(None, Some("6484-52-2")), Some(43));
        assert_eq!(no(Some("硝酸铵"), Some("6484-52-2")), Some(43));
        assert_eq!(
            no(Some("硝酸铵(含可燃物≤0.2%)"), Some("6484-52-2")),
            Some(44)
        );
        assert_eq!(no(Some("硝酸铵"), None), Some(43));
        assert_eq!(no(Some("硝酸铵肥料"), None), Some(45));
    }

    #[test]
    fn table2_has_24_categories_joined_with_table4() {
        let cats = gb().categories();
        assert_eq!(cats.len(), 24);
        let j2 = gb().category("J2").expect("J2");
        assert!(approx(j2.beta, 1.0), "J2 β is 1, not 2");
        assert!(approx(j2.critical_quantity_t, 50.0));
        let w53 = gb().category(" w5.3 ").expect("W5.3");
        assert_eq!(w53.category_zh, "易燃液体");
        assert!(approx(w53.critical_quantity_t, 1000.0));
        assert!(approx(w53.beta, 1.0));
        let expect = [
            ("J1", 5.0, 4.0),
            ("W1.1", 1.0, 2.0),
            ("W2", 10.0, 1.5),
            ("W3", 150.0, 1.0),
        ];
        for (s, q, beta) in expect {
            let c = gb().category(s).expect(s);
            assert!(
                approx(c.critical_quantity_t, q) && approx(c.beta, beta),
                "{s}"
            );
        }
        assert!(gb().category("W12").is_none());
        assert!(gb().category("").is_none());
    }

    #[test]
    fn table3_beta() {
        let beta3 = |no| gb().table3_beta(entry(no));
        assert_eq!(gb().table3().len(), 14);
        assert_eq!(beta3(12), Some(4.0), "氯");
        assert_eq!(beta3(1), Some(2.0), "氨");
        assert_eq!(beta3(11), Some(3.0), "氯化氢");
        assert_eq!(beta3(6), Some(20.0), "光气");
        assert_eq!(beta3(30), Some(20.0), "异氰酸甲酯");
        assert_eq!(beta3(13), Some(2.0), "煤气 via 一氧化碳");
        assert_eq!(beta3(65), None, "甲醇");
        assert_eq!(beta3(5), None, "氟 is not in Table 3");
    }

    #[test]
    fn table3_substances_are_toxic_gases_in_table1() {
        for t in gb().table3() {
            let e = gb()
                .find_substance(Some(&t.name_zh), Some(&t.cas))
                .unwrap_or_else(|| panic!("{} not in Table 1", t.name_zh));
            assert!(e.is_toxic_gas, "#{}", e.no);
            assert_eq!(gb().table3_beta(e), Some(t.beta), "#{}", e.no);
        }
    }

    #[test]
    fn every_entry_but_sulfur_trioxide_has_a_beta() {
        for e in gb().entries() {
            assert_eq!(gb().beta(e).is_none(), e.no == 26, "#{}", e.no);
        }
        assert_eq!(gb().beta(entry(65)), Some(1.0), "甲醇 W5.3");
        assert_eq!(gb().beta(entry(12)), Some(4.0), "氯, Table 3");
        assert_eq!(gb().beta(entry(51)), Some(1.5), "氢 W2");
    }

    #[test]
    fn alpha_bands() {
        let cases = [
            (0, 0.5),
            (1, 1.0),
            (29, 1.0),
            (30, 1.2),
            (49, 1.2),
            (50, 1.5),
            (99, 1.5),
            (100, 2.0),
            (u64::MAX, 2.0),
        ];
        for (n, alpha) in cases {
            assert!(approx(gb().alpha(n), alpha), "{n} people");
        }
    }

    #[test]
    fn grade_edges() {
        let cases = [
            (1e9, 1),
            (100.0, 1),
            (99.99, 2),
            (50.0, 2),
            (49.99, 3),
            (10.0, 3),
            (9.99, 4),
            (0.0, 4),
            (f64::INFINITY, 1),
            (f64::NAN, 1),
        ];
        for (r, grade) in cases {
            assert_eq!(gb().grade(r), grade, "R = {r}");
        }
        assert_eq!(gb().grade_label_zh(3), Some("三级"));
        assert_eq!(gb().grade_label_zh(5), None);
    }

    /// standards.md §1.9: 30 t 液氯 + 100 t 甲醇, 60 people within 500 m.
    #[test]
    fn worked_example() {
        let chlorine = gb().find_substance(Some("液氯"), None).expect("液氯");
        let methanol = gb()
            .find_substance(Some("甲醇"), Some("67-56-1"))
            .expect("甲醇");
        let inventory = [(chlorine, 30.0), (methanol, 100.0)];

        let s: f64 = inventory
            .iter()
            .map(|(e, q)| q / e.critical_quantity_t)
            .sum();
        assert!(approx(s, 6.2), "S = {s}");
        assert!(s >= 1.0, "a major hazard installation");

        assert_eq!(gb().table3_beta(chlorine), Some(4.0));
        assert_eq!(gb().table3_beta(methanol), None);
        assert_eq!(methanol.default_category.as_deref(), Some("W5.3"));
        let alpha = gb().alpha(60);
        assert!(approx(alpha, 1.5));

        let weighted: f64 = inventory
            .iter()
            .map(|(e, q)| gb().beta(e).expect("β") * q / e.critical_quantity_t)
            .sum();
        let r = alpha * weighted;
        assert!(approx(r, 36.3), "R = {r}");
        assert_eq!(gb().grade(r), 3);
    }

    #[test]
    fn csv_records() {
        assert_eq!(split_record("a,b,,c").expect("ok"), ["a", "b", "", "c"]);
        assert_eq!(
            split_record(r#"1,"1,3-丁二烯",x"#).expect("ok"),
            ["1", "1,3-丁二烯", "x"]
        );
        assert_eq!(
            split_record(r#""say ""hi""",2"#).expect("ok"),
            [r#"say "hi""#, "2"]
        );
        assert_eq!(split_record(r#""""#).expect("ok"), [""]);
        assert!(split_record(r#""open,1"#).is_err());
        assert!(split_record(r#""a"b,1"#).is_err());
        assert!(split_record(r#"a"b,1"#).is_err());
    }

    #[test]
    fn csv_errors_name_file_and_line() {
        let err = Csv::parse("t.csv", "a,b\n1,2\n3\n").err().expect("error");
        assert_eq!(err, "t.csv:3: 1 fields, the header has 2");
        assert!(Csv::parse("t.csv", "").is_err());
        let bad_q = "no,name_zh,aliases,cas,critical_quantity_t,default_category,is_toxic_gas,\
                     is_flammable_gas,is_explosive,source\n\
                     1,x,,,0,,false,false,false,GB 18218-2018 表1\n";
        assert!(parse_table1(bad_q, &[]).is_err());
        let bad_band = "min_people,max_people,alpha,source\n0,0,0.5,GB 18218-2018 表5\n\
                        2,,1,GB 18218-2018 表5\n";
        assert!(parse_table5(bad_band).is_err());
    }

    #[test]
    fn name_normalisation() {
        assert_eq!(
            normalize_name("  Anhydrous\u{3000} Ammonia "),
            "anhydrous ammonia"
        );
        assert_eq!(normalize_name("氧（压缩的或液化的）"), "氧(压缩的或液化的)");
        assert_eq!(normalize_name("Ｈ₂Ｓ"), "h2s");
        assert_eq!(cas_digits(" 74-82-8(甲烷) "), "74828");
    }
}

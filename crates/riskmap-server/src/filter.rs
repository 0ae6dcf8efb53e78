//! OGC API – Features Part 3 (filtering) over the items of a collection:
//! queryables (the JSON Schema of the properties a filter or sort may
//! name), CQL2 `filter` in text and JSON (parsed and evaluated by the
//! `cql2` crate), `filter-crs`, `sortby`, `properties` and `ids`.
//!
//! A filter is evaluated on the feature as it is served: its id, its
//! geometry in CRS84 (or in the `filter-crs` axis order) and its
//! properties with the derived `risk_level`, `risk_score` and `risk_model`.

use std::cmp::Ordering;

use std::sync::Arc;

use geo::{Geometry, Rect};
use riskmap_app::World;
use riskmap_core::{Collection, Feature};
use serde_json::{Map, Value, json};

use crate::error::ApiError;

/// The JSON type of a queryable property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Text,
    /// A whole number.
    Integer,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A calendar date `YYYY-MM-DD`.
    Date,
    /// An instant, RFC 3339 UTC.
    Timestamp,
    /// One of a fixed list of strings.
    Enum(&'static [&'static str]),
}

/// A property a filter or `sortby` may name.
#[derive(Debug, Clone, Copy)]
pub struct Queryable {
    /// The property name as served.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// A title, Chinese first.
    pub title: &'static str,
}

const fn q(name: &'static str, kind: Kind, title: &'static str) -> Queryable {
    Queryable { name, kind, title }
}

const LEVELS: &[&str] = &["red", "orange", "yellow", "blue"];
const TARGET_CATEGORIES: &[&str] = &[
    "school",
    "kindergarten",
    "hospital",
    "nursing_home",
    "residential",
    "office",
    "mall",
    "hotel",
    "stadium",
    "transport_hub",
    "cultural_relic",
    "religious",
    "other",
];
const DANGER_STATES: &[&str] = &[
    "reported",
    "verified",
    "supervised",
    "rectifying",
    "rectified",
    "closed",
    "rejected",
];

/// Whether the served features of a collection carry the derived
/// `risk_level`, `risk_score` and `risk_model`.
pub fn is_scored(c: Collection) -> bool {
    matches!(
        c,
        Collection::Enterprises | Collection::Parks | Collection::Pipelines | Collection::Districts
    )
}

/// The scalar properties of a collection that filters and `sortby` may
/// name, besides `id` and `geometry`. Nested values (units, history…) are
/// served but not queryable.
pub fn queryables(c: Collection) -> Vec<Queryable> {
    use Kind::*;
    let mut list = match c {
        Collection::Enterprises => vec![
            q("name", Text, "名称 name"),
            q(
                "credit_code",
                Text,
                "统一社会信用代码 unified social credit code",
            ),
            q("industry", Text, "行业 industry"),
            q("district_code", Text, "行政区划代码 division code"),
            q("park_id", Text, "所在园区 park id"),
            q("employees", Integer, "从业人数 employees"),
            q(
                "standardization_level",
                Integer,
                "安全生产标准化等级 standardisation level",
            ),
            q(
                "installation",
                Enum(&["new", "existing"]),
                "新建/在役 installation",
            ),
        ],
        Collection::Parks => vec![
            q("name", Text, "名称 name"),
            q(
                "kind",
                Enum(&["chemical", "industrial", "logistics", "other"]),
                "园区类型 kind",
            ),
            q("assessment_score", Number, "评估得分 assessment score"),
        ],
        Collection::Pipelines => vec![
            q("name", Text, "名称 name"),
            q(
                "kind",
                Enum(&["gas_transmission", "oil", "urban_gas", "other"]),
                "管道类型 kind",
            ),
            q("diameter_mm", Number, "管径(mm) diameter"),
            q("maop_mpa", Number, "最大允许操作压力(MPa) MAOP"),
            q("medium", Text, "输送介质 medium"),
            q("material", Text, "材质 material"),
            q("year_built", Integer, "建成年份 year built"),
            q("operator", Text, "运营单位 operator"),
        ],
        Collection::ProtectionTargets => vec![
            q("name", Text, "名称 name"),
            q("category", Enum(TARGET_CATEGORIES), "类别 category"),
            q("population", Integer, "人数 population"),
            q("households", Integer, "户数 households"),
            q("beds", Integer, "床位 beds"),
            q("floor_area_m2", Number, "建筑面积(m²) floor area"),
        ],
        Collection::Districts => vec![
            q("code", Text, "行政区划代码 division code"),
            q("name", Text, "名称 name"),
            q("level", Text, "级别 level"),
        ],
        Collection::HiddenDangers => vec![
            q("enterprise_id", Text, "企业 enterprise id"),
            q("district_code", Text, "行政区划代码 division code"),
            q("industry", Text, "行业 industry"),
            q("source", Text, "来源 source"),
            q("level", Enum(&["general", "major"]), "隐患等级 level"),
            q("rule_item", Text, "判定标准条款 criterion item"),
            q("description", Text, "隐患描述 description"),
            q("found_date", Date, "发现日期 found"),
            q("deadline", Date, "整改期限 deadline"),
            q("responsible_person", Text, "整改责任人 responsible person"),
            q("funds_cny", Number, "整改资金(元) funds"),
            q("status", Enum(DANGER_STATES), "状态 status"),
            q("listing_level", Text, "挂牌督办级别 listing level"),
        ],
        Collection::RescueTeams => vec![
            q("name", Text, "名称 name"),
            q("kind", Text, "队伍类型 kind"),
            q("members", Integer, "人数 members"),
            q("mobilisation_min", Number, "出动时间(分钟) mobilisation"),
            q("district_code", Text, "行政区划代码 division code"),
            q("sample", Boolean, "示例数据 sample"),
        ],
        Collection::SupplyDepots => vec![
            q("name", Text, "名称 name"),
            q("district_code", Text, "行政区划代码 division code"),
            q("sample", Boolean, "示例数据 sample"),
        ],
        Collection::Shelters => vec![
            q("name", Text, "名称 name"),
            q("class", Text, "类别 class"),
            q("capacity_persons", Integer, "容纳人数 capacity"),
            q("area_m2", Number, "面积(m²) area"),
            q("district_code", Text, "行政区划代码 division code"),
            q("sample", Boolean, "示例数据 sample"),
        ],
    };
    list.push(q(TEMPORAL_PROPERTY, Timestamp, "最后更新时间 last changed"));
    if is_scored(c) {
        list.push(q("risk_level", Enum(LEVELS), "风险等级 risk level"));
        list.push(q("risk_score", Number, "风险分值 risk score"));
        list.push(q("risk_model", Text, "评估模型 model"));
    }
    list
}

fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Text => json!({"type": "string"}),
        Kind::Integer => json!({"type": "integer"}),
        Kind::Number => json!({"type": "number"}),
        Kind::Boolean => json!({"type": "boolean"}),
        Kind::Date => json!({"type": "string", "format": "date"}),
        Kind::Timestamp => json!({"type": "string", "format": "date-time"}),
        Kind::Enum(values) => json!({"type": "string", "enum": values}),
    }
}

/// `GET /collections/{c}/queryables`: a JSON Schema (2020-12) of the
/// queryable properties, as Part 3 asks.
pub fn queryables_doc(c: Collection, base: &str) -> Value {
    let mut props = Map::new();
    props.insert("id".into(), json!({"title": "标识 id", "type": "string"}));
    props.insert(
        "geometry".into(),
        json!({"title": "几何 geometry", "format": "geometry-any", "x-ogc-role": "primary-geometry"}),
    );
    for qb in queryables(c) {
        let mut s = kind_schema(qb.kind);
        s["title"] = json!(qb.title);
        props.insert(qb.name.into(), s);
    }
    // The draft form of Part 3 (a list of `{id, type}`) beside the JSON
    // Schema: GDAL up to 3.6 reads only that one to know what it may send
    // as a filter. JSON Schema ignores the unknown keyword.
    let draft: Vec<Value> = props
        .iter()
        .filter(|(k, _)| k.as_str() != "geometry")
        .map(|(k, v)| json!({"id": k, "type": v["type"]}))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{base}/collections/{}/queryables", c.as_str()),
        "type": "object",
        "title": format!("{} {}", c.title_zh(), c.title_en()),
        "properties": props,
        "additionalProperties": false,
        "queryables": draft,
    })
}

fn known(c: Collection, name: &str) -> bool {
    name == "id" || name == "geometry" || queryables(c).iter().any(|q| q.name == name)
}

fn names(c: Collection) -> String {
    let mut all = vec!["id".to_string(), "geometry".to_string()];
    all.extend(queryables(c).iter().map(|q| q.name.to_string()));
    all.join(", ")
}

/// The filter languages of Part 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// `cql2-text` (the default).
    Text,
    /// `cql2-json`.
    Json,
}

impl Lang {
    /// Reads `filter-lang`.
    pub fn parse(raw: Option<&str>) -> Result<Lang, ApiError> {
        match raw.map(str::trim) {
            None => Ok(Lang::Text),
            // `cql-text`: the name of earlier drafts, which GDAL 3.6 sends.
            Some(s)
                if s.eq_ignore_ascii_case("cql2-text") || s.eq_ignore_ascii_case("cql-text") =>
            {
                Ok(Lang::Text)
            }
            Some(s) if s.eq_ignore_ascii_case("cql2-json") => Ok(Lang::Json),
            Some(s) => Err(ApiError::BadRequest(format!(
                "filter-lang: {s:?} is not supported; use cql2-text or cql2-json"
            ))),
        }
    }
}

/// A parsed CQL2 filter, checked against a collection's queryables.
#[derive(Debug, Clone)]
pub struct Filter {
    expr: cql2::Expr,
    /// Latitude-first geometry literals (`filter-crs` EPSG:4326/4490).
    lat_first: bool,
    /// The filter as CQL2 text, for logs.
    text: String,
}

fn walk_properties(e: &cql2::Expr, out: &mut Vec<String>) {
    use cql2::Expr;
    match e {
        Expr::Property { property } => out.push(property.clone()),
        Expr::Operation { args, .. } => args.iter().for_each(|a| walk_properties(a, out)),
        Expr::Interval { interval } => interval.iter().for_each(|a| walk_properties(a, out)),
        Expr::Timestamp { timestamp } => walk_properties(timestamp, out),
        Expr::Date { date } => walk_properties(date, out),
        Expr::BBox { bbox } => bbox.iter().for_each(|a| walk_properties(a, out)),
        Expr::Array(items) => items.iter().for_each(|a| walk_properties(a, out)),
        Expr::Float(_) | Expr::Literal(_) | Expr::Bool(_) | Expr::Geometry(_) | Expr::Null => {}
    }
}

impl Filter {
    /// Parses `filter` in `lang` for collection `c`; `lat_first` when
    /// `filter-crs` is EPSG:4326 or EPSG:4490. Every property it names must
    /// be a queryable: a 400 names the first that is not.
    pub fn parse(
        c: Collection,
        raw: &str,
        lang: Lang,
        lat_first: bool,
    ) -> Result<Filter, ApiError> {
        let expr = match lang {
            Lang::Text => cql2::parse_text(raw)
                .map_err(|e| ApiError::BadRequest(format!("filter: not valid CQL2 text: {e}")))?,
            Lang::Json => cql2::parse_json(raw)
                .map_err(|e| ApiError::BadRequest(format!("filter: not valid CQL2 JSON: {e}")))?,
        };
        let mut props = Vec::new();
        walk_properties(&expr, &mut props);
        if let Some(bad) = props.iter().find(|p| !known(c, p)) {
            return Err(ApiError::BadRequest(format!(
                "filter: {bad:?} is not a queryable of {c} (queryables: {})",
                names(c)
            )));
        }
        let text = expr.to_text().unwrap_or_else(|_| raw.to_string());
        Ok(Filter {
            expr,
            lat_first,
            text,
        })
    }

    /// The filter as CQL2 text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether a served feature meets the filter. A predicate that is not
    /// TRUE (false, or unknown because a property is null) is no match.
    pub fn matches(
        &self,
        id: &str,
        geometry: &Geometry<f64>,
        properties: &Map<String, Value>,
    ) -> bool {
        let geometry = if self.lat_first {
            use geo::MapCoords;
            geometry.map_coords(|c| geo::coord! { x: c.y, y: c.x })
        } else {
            geometry.clone()
        };
        let item = json!({
            "id": id,
            "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&geometry)),
            "properties": properties,
        });
        self.expr.clone().matches(Some(&item)).unwrap_or(false)
    }
}

/// One `sortby` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The property.
    pub name: String,
    /// Descending (`-name`).
    pub descending: bool,
}

/// Reads `sortby`: comma-separated property names, each optionally
/// prefixed `+` (ascending, the default) or `-` (descending).
pub fn parse_sortby(c: Collection, raw: &str) -> Result<Vec<SortKey>, ApiError> {
    let mut keys = Vec::new();
    for part in raw.split(',') {
        let part = part.trim();
        let (descending, name) = if let Some(n) = part.strip_prefix('-') {
            (true, n.trim())
        } else {
            (false, part.strip_prefix('+').unwrap_or(part).trim())
        };
        if name.is_empty() {
            return Err(ApiError::BadRequest(format!(
                "sortby: empty key in {raw:?}; use e.g. -risk_score,+name"
            )));
        }
        if name == "geometry" || !known(c, name) {
            return Err(ApiError::BadRequest(format!(
                "sortby: {name:?} is not a sortable property of {c} (sortables: {})",
                names(c).replace("geometry, ", "")
            )));
        }
        keys.push(SortKey {
            name: name.to_string(),
            descending,
        });
    }
    Ok(keys)
}

/// Orders two property values: numbers by value, strings by code point,
/// booleans false first; a missing or null value after every value.
pub fn compare_values(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    let a = a.filter(|v| !v.is_null());
    let b = b.filter(|v| !v.is_null());
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(a), Some(b)) => match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                x.total_cmp(&y)
            }
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            _ => a.to_string().cmp(&b.to_string()),
        },
    }
}

/// Orders two features by `keys`, then by id. Missing values sort last
/// in either direction.
pub fn compare(
    keys: &[SortKey],
    (a_id, a): (&str, &Map<String, Value>),
    (b_id, b): (&str, &Map<String, Value>),
) -> Ordering {
    for k in keys {
        let (va, vb) = if k.name == "id" {
            (
                Some(Value::String(a_id.into())),
                Some(Value::String(b_id.into())),
            )
        } else {
            (a.get(&k.name).cloned(), b.get(&k.name).cloned())
        };
        let present = (
            va.as_ref().is_some_and(|v| !v.is_null()),
            vb.as_ref().is_some_and(|v| !v.is_null()),
        );
        let ord = match present {
            (true, true) => {
                let o = compare_values(va.as_ref(), vb.as_ref());
                if k.descending { o.reverse() } else { o }
            }
            _ => compare_values(va.as_ref(), vb.as_ref()),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a_id.cmp(b_id)
}

/// Reads `properties`: the properties to keep in each feature. Every name
/// must be a property of the collection.
pub fn parse_properties(c: Collection, raw: &str) -> Result<Vec<String>, ApiError> {
    let mut out = Vec::new();
    for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let nested = riskmap_core::office::schema_fields(c).contains(&name);
        if !(known(c, name) || nested) || name == "id" || name == "geometry" {
            return Err(ApiError::BadRequest(format!(
                "properties: {name:?} is not a property of {c}"
            )));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

/// Reads `ids`: comma-separated feature ids.
pub fn parse_ids(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The temporal property of every stored collection, which `datetime`
/// tests: the last change time (最后更新时间), kept by the store.
pub const TEMPORAL_PROPERTY: &str = "updated";

/// One end of a `datetime` interval: a calendar date (the whole UTC day)
/// or an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    Date(jiff::civil::Date),
    Instant(jiff::Timestamp),
}

impl Bound {
    fn parse(raw: &str, whole: &str) -> Result<Bound, ApiError> {
        let bad = |why: &str| {
            ApiError::BadRequest(format!(
                "datetime: {whole:?} is not an RFC 3339 date or date-time, or an interval a/b \
                 with '..' for an open end ({why})"
            ))
        };
        if raw.len() == 10 {
            return jiff::civil::Date::strptime("%Y-%m-%d", raw)
                .map(Bound::Date)
                .map_err(|_| bad("a date is YYYY-MM-DD"));
        }
        raw.parse::<jiff::Timestamp>().map(Bound::Instant).map_err(|_| {
            bad("a date-time carries its offset, e.g. 2026-12-07T08:00:00Z or 2026-12-07T16:00:00+08:00")
        })
    }

    /// The first instant of the bound.
    fn start(self) -> jiff::Timestamp {
        match self {
            Bound::Date(d) => d
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .unwrap_or(jiff::Timestamp::MIN),
            Bound::Instant(t) => t,
        }
    }

    /// The first instant after the bound.
    fn end(self) -> jiff::Timestamp {
        match self {
            Bound::Date(d) => d
                .tomorrow()
                .ok()
                .and_then(|d| d.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
                .map_or(jiff::Timestamp::MAX, |z| z.timestamp()),
            Bound::Instant(t) => t
                .checked_add(jiff::SignedDuration::from_nanos(1))
                .unwrap_or(jiff::Timestamp::MAX),
        }
    }
}

/// A `datetime` parameter: an instant or a closed or half-bounded
/// interval (`a/b`, `../b`, `a/..`) tested against the last change time
/// ([`TEMPORAL_PROPERTY`]). A date bound means its whole UTC day; a
/// date-time bound is that instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datetime {
    /// Inclusive.
    from: Option<jiff::Timestamp>,
    /// Exclusive.
    until: Option<jiff::Timestamp>,
}

impl Datetime {
    /// Reads `datetime`: 400 when the value is not a date, date-time or
    /// interval.
    pub fn parse(raw: &str) -> Result<Datetime, ApiError> {
        let raw = raw.trim();
        let bound = |s: &str| -> Result<Option<Bound>, ApiError> {
            match s.trim() {
                "" | ".." => Ok(None),
                s => Bound::parse(s, raw).map(Some),
            }
        };
        let (from, to) = match raw.split_once('/') {
            Some((a, b)) => {
                let (from, to) = (bound(a)?, bound(b)?);
                if from.is_none() && to.is_none() {
                    return Err(ApiError::BadRequest(format!(
                        "datetime: {raw:?} is open at both ends"
                    )));
                }
                (from, to)
            }
            None => {
                let b = Bound::parse(raw, raw)?;
                (Some(b), Some(b))
            }
        };
        let (from, until) = (from.map(Bound::start), to.map(Bound::end));
        if let (Some(a), Some(b)) = (from, until)
            && a >= b
        {
            return Err(ApiError::BadRequest(format!(
                "datetime: {raw:?} ends before it starts"
            )));
        }
        Ok(Datetime { from, until })
    }

    /// Whether a feature's last change lies in the interval (a feature
    /// without one does not).
    pub fn matches(&self, properties: &Map<String, Value>) -> bool {
        let Some(t) = properties
            .get(TEMPORAL_PROPERTY)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        else {
            return false;
        };
        self.from.is_none_or(|f| t >= f) && self.until.is_none_or(|u| t < u)
    }
}

/// The properties of a feature as served: the record's, with the derived
/// `risk_level`, `risk_score` and `risk_model` of a scored collection, the
/// last change time `updated`, and
/// without the inventories and contacts when `limited`
/// (`--public-read limited` and an anonymous reader).
pub fn served_properties(world: &World, f: &Feature, limited: bool) -> Map<String, Value> {
    let mut properties = f.record.to_properties();
    if limited {
        riskmap_core::access::redact_public(&mut properties);
    }
    if let Some(a) = world.risk.assessment(f.collection(), &f.id) {
        properties.insert("risk_level".into(), json!(a.risk_level));
        properties.insert("risk_score".into(), json!(a.score));
        properties.insert("risk_model".into(), json!(a.model.id));
    }
    if let Some(t) = &f.updated {
        properties.insert(TEMPORAL_PROPERTY.into(), json!(t));
    }
    properties
}

/// Which features of a collection a request asks for, and in what order:
/// `bbox`, `ids`, `filter` and `sortby` (ANDed), then ordered by the sort
/// keys and id.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Features whose geometry meets this box (CRS84).
    pub bbox: Option<Rect<f64>>,
    /// Only these ids.
    pub ids: Option<Vec<String>>,
    /// A CQL2 filter.
    pub filter: Option<Filter>,
    /// Sort keys; empty is by id.
    pub sortby: Vec<SortKey>,
    /// `datetime` on the last change time.
    pub datetime: Option<Datetime>,
    /// Evaluate on the anonymous reader's redacted properties.
    pub limited: bool,
}

impl Selection {
    /// Whether the answer is the catalogue's id order with no per-feature test
    /// beyond the box, so a page can be taken without reading every feature.
    pub fn is_plain(&self) -> bool {
        self.ids.is_none()
            && self.filter.is_none()
            && self.sortby.is_empty()
            && self.datetime.is_none()
    }

    /// The selected features of `c`, in order.
    pub fn select(&self, world: &World, c: Collection) -> Vec<Arc<Feature>> {
        let cat = &world.catalog;
        let mut candidates: Vec<Arc<Feature>> = match (&self.ids, self.bbox) {
            (Some(ids), _) => {
                let mut ids: Vec<&String> = ids.iter().collect();
                ids.sort();
                ids.dedup();
                ids.into_iter()
                    .filter_map(|id| cat.get(c, id).cloned())
                    .filter(|f| {
                        self.bbox.is_none_or(|b| {
                            use geo::Intersects;
                            f.geometry.intersects(&b)
                        })
                    })
                    .collect()
            }
            (None, Some(b)) => cat.query_bbox(c, b),
            (None, None) => cat.iter(c).cloned().collect(),
        };
        if self.filter.is_none() && self.sortby.is_empty() && self.datetime.is_none() {
            return candidates;
        }
        let mut rows: Vec<(Arc<Feature>, Map<String, Value>)> = candidates
            .drain(..)
            .map(|f| {
                let p = served_properties(world, &f, self.limited);
                (f, p)
            })
            .filter(|(f, p)| {
                self.datetime.as_ref().is_none_or(|d| d.matches(p))
                    && self
                        .filter
                        .as_ref()
                        .is_none_or(|flt| flt.matches(&f.id, &f.geometry, p))
            })
            .collect();
        if !self.sortby.is_empty() {
            rows.sort_by(|(fa, pa), (fb, pb)| compare(&self.sortby, (&fa.id, pa), (&fb.id, pb)));
        }
        rows.into_iter().map(|(f, _)| f).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn text_and_json_filters_agree() {
        let p = props(json!({"risk_level": "red", "employees": 120, "industry": "化工"}));
        let g = Geometry::Point(geo::point!(x: 120.1, y: 30.2));
        let t = Filter::parse(
            Collection::Enterprises,
            "risk_level = 'red' AND employees > 100",
            Lang::Text,
            false,
        )
        .expect("text");
        let j = Filter::parse(
            Collection::Enterprises,
            r#"{"op":"and","args":[{"op":"=","args":[{"property":"risk_level"},"red"]},{"op":">","args":[{"property":"employees"},100]}]}"#,
            Lang::Json,
            false,
        )
        .expect("json");
        assert!(t.matches("e1", &g, &p));
        assert!(j.matches("e1", &g, &p));
        let p2 = props(json!({"risk_level": "blue", "employees": 120}));
        assert!(!t.matches("e2", &g, &p2));
        assert!(!j.matches("e2", &g, &p2));
    }

    #[test]
    fn spatial_filters_honour_the_filter_crs_axis_order() {
        let g = Geometry::Point(geo::point!(x: 120.1, y: 30.2));
        let p = Map::new();
        let lonlat = Filter::parse(
            Collection::Enterprises,
            "S_INTERSECTS(geometry, POLYGON((120 30, 121 30, 121 31, 120 31, 120 30)))",
            Lang::Text,
            false,
        )
        .expect("crs84");
        assert!(lonlat.matches("e", &g, &p));
        let latlon = Filter::parse(
            Collection::Enterprises,
            "S_INTERSECTS(geometry, POLYGON((30 120, 30 121, 31 121, 31 120, 30 120)))",
            Lang::Text,
            true,
        )
        .expect("epsg:4326");
        assert!(latlon.matches("e", &g, &p));
        assert!(
            !lonlat
                .clone()
                .matches("e", &Geometry::Point(geo::point!(x: 30.2, y: 120.1)), &p)
        );
    }

    #[test]
    fn unknown_properties_and_bad_syntax_are_named() {
        let e = Filter::parse(Collection::Enterprises, "colour = 'red'", Lang::Text, false)
            .expect_err("unknown");
        assert!(e.to_string().contains("\"colour\""), "{e}");
        let e = Filter::parse(
            Collection::Enterprises,
            "risk_level = = 'red'",
            Lang::Text,
            false,
        )
        .expect_err("syntax");
        assert!(
            e.to_string().starts_with("filter: not valid CQL2 text"),
            "{e}"
        );
        let e = parse_sortby(Collection::Parks, "-colour").expect_err("sortby");
        assert!(e.to_string().contains("\"colour\""), "{e}");
    }

    #[test]
    fn sorting_puts_missing_values_last_in_both_directions() {
        let a = props(json!({"n": 1}));
        let b = props(json!({"n": 2}));
        let none = props(json!({}));
        let asc = [SortKey {
            name: "n".into(),
            descending: false,
        }];
        let desc = [SortKey {
            name: "n".into(),
            descending: true,
        }];
        assert_eq!(compare(&asc, ("a", &a), ("b", &b)), Ordering::Less);
        assert_eq!(compare(&desc, ("a", &a), ("b", &b)), Ordering::Greater);
        assert_eq!(compare(&asc, ("x", &none), ("a", &a)), Ordering::Greater);
        assert_eq!(compare(&desc, ("x", &none), ("a", &a)), Ordering::Greater);
    }
}

//! Scoring models (风险分级): pure functions from records and spatial facts to
//! a four-colour risk level (红橙黄蓝) with its explanation.
//!
//! Nothing here does IO or spatial queries: every spatial fact (people within
//! 500 m, households along a pipeline, protection targets nearby…) arrives as
//! an input computed elsewhere ([`EnterpriseContext`], [`ParkContext`],
//! [`SegmentContext`]).
//!
//! Every threshold, point value, band and convention is data: the TOML files of
//! `data/rules/` (see its `README.md`), embedded at compile time and parsed
//! once into [`Rules::builtin`]. A deployment can override them with
//! [`Rules::from_toml_strs`] or [`Rules::with_overrides`].
//!
//! | model | id | function |
//! |---|---|---|
//! | GB 18218-2018 unit identification | — | [`identify_unit`] |
//! | 危险化学品生产储存企业安全风险评估诊断分级指南（试行） | `enterprise-diagnosis-2018` | [`assess_enterprise`] |
//! | LEC (industries the diagnosis model does not fit) | `lec` | [`assess_lec`], [`assess_enterprise`] |
//! | 5×5 risk matrix | `matrix-5x5` | [`assess_matrix`] |
//! | 化工园区安全风险排查治理导则 (2023) | `park-guideline-2023` | [`assess_park`] |
//! | GB 32167-2015 pipeline HCA | `pipeline-hca-gb32167` | [`assess_pipeline_segment`] |
//! | grid, max rule (就高原则) | `grid-max` | [`grid_level_max`], [`assess_grid_max`] |
//! | grid, weighted index | `grid-weighted` | [`grid_weighted_index`], [`assess_grid_weighted`] |
//!
//! Every [`Assessment`] says what it used and what it could not know:
//! [`Factor`]s with their clauses, `incomplete` (items not assessed, with the
//! default applied), `conventions` (project choices that are not in any
//! standard) and `unconfirmed` (figures whose source is UNCONFIRMED or from
//! memory, naming the rules file and key where they are configured).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

mod enterprise;
mod grid;
mod hazard;
mod lec;
mod park;
mod pipeline;
pub mod rules;

pub use enterprise::{
    DangerOnFile, DangerState, EnterpriseContext, assess_enterprise, assess_enterprise_diagnosis,
    diagnosis_applies, diagnosis_applies_to, diagnosis_level,
};
pub use grid::{assess_grid_max, assess_grid_weighted, grid_level_max, grid_weighted_index};
pub(crate) use hazard::find_substance;
pub use hazard::{SubstanceContribution, UnitHazard, identify_unit};
pub use lec::{assess_lec, assess_matrix};
pub use park::{ParkContext, assess_park};
pub use pipeline::{
    HcaLevel, SegmentContext, assess_pipeline_segment, hca_level, potential_impact_radius_m,
    special_site_radius_m,
};
pub use rules::{About, BUILTIN_FILES, Band, Confidence, Rules, RulesError};

/// Risk level (风险等级), the four colours of 安委办〔2016〕11号.
///
/// Ordered by severity: `Blue < Yellow < Orange < Red`. Serialised as
/// `"blue"`, `"yellow"`, `"orange"`, `"red"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    /// 低风险, blue.
    Blue,
    /// 一般风险, yellow.
    Yellow,
    /// 较大风险, orange.
    Orange,
    /// 重大风险, red.
    Red,
}

impl RiskLevel {
    /// Every level, from the least to the most severe. Arrays indexed by level
    /// (e.g. the counts of [`grid_weighted_index`]) use this order.
    pub const ALL: [RiskLevel; 4] = [
        RiskLevel::Blue,
        RiskLevel::Yellow,
        RiskLevel::Orange,
        RiskLevel::Red,
    ];

    /// The serialised name: `"blue"`, `"yellow"`, `"orange"` or `"red"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Blue => "blue",
            RiskLevel::Yellow => "yellow",
            RiskLevel::Orange => "orange",
            RiskLevel::Red => "red",
        }
    }

    /// The Chinese name: 重大风险, 较大风险, 一般风险 or 低风险.
    pub fn label_zh(self) -> &'static str {
        match self {
            RiskLevel::Blue => "低风险",
            RiskLevel::Yellow => "一般风险",
            RiskLevel::Orange => "较大风险",
            RiskLevel::Red => "重大风险",
        }
    }

    /// The map colour (standards.md §8): red #FF0000, orange #ED7D31,
    /// yellow #FFFF00, blue #00B0F0.
    pub fn colour_hex(self) -> &'static str {
        match self {
            RiskLevel::Blue => "#00B0F0",
            RiskLevel::Yellow => "#FFFF00",
            RiskLevel::Orange => "#ED7D31",
            RiskLevel::Red => "#FF0000",
        }
    }

    /// Position in [`RiskLevel::ALL`]: 0 (blue) to 3 (red).
    pub fn index(self) -> usize {
        match self {
            RiskLevel::Blue => 0,
            RiskLevel::Yellow => 1,
            RiskLevel::Orange => 2,
            RiskLevel::Red => 3,
        }
    }
}

impl fmt::Display for RiskLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a risk level.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown risk level {0:?}: expected red, orange, yellow or blue")]
pub struct UnknownRiskLevel(pub String);

impl FromStr for RiskLevel {
    type Err = UnknownRiskLevel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RiskLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownRiskLevel(s.to_string()))
    }
}

/// A shared, immutable explanation text. Assessments are kept for every
/// feature of a province, and most of their texts (factor names, clauses,
/// notes) are the same for thousands of them: [`intern`] makes equal texts
/// (and equal lists of them) one allocation.
pub type Text = Arc<str>;

/// The model (and its version) that produced an assessment.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelRef {
    /// Model id, e.g. `enterprise-diagnosis-2018`.
    pub id: Text,
    /// Version of the model's rules.
    pub version: Text,
}

/// One input or rule that contributed to an assessment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Factor {
    /// Bilingual name, e.g. `重大危险源 major hazard installations`.
    pub name: Text,
    /// What was found, e.g. `二级 (unit T-101, R = 62.3)`.
    pub value: Text,
    /// Points added (positive) or deducted (negative), when the model scores.
    pub points: Option<f64>,
    /// The clause that gives the rule, e.g. `GB 18218-2018 4.2`.
    pub clause: Text,
}

impl Factor {
    /// A factor, its texts interned.
    pub fn new(
        name: impl AsRef<str>,
        value: impl AsRef<str>,
        points: Option<f64>,
        clause: impl AsRef<str>,
    ) -> Factor {
        Factor {
            name: intern::text(name.as_ref()),
            value: intern::text(value.as_ref()),
            points,
            clause: intern::text(clause.as_ref()),
        }
    }
}

/// Points compare by their bits, so that factors can be interned.
impl PartialEq for Factor {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name
            && self.value == o.value
            && self.points.map(f64::to_bits) == o.points.map(f64::to_bits)
            && self.clause == o.clause
    }
}

impl Eq for Factor {}

impl std::hash::Hash for Factor {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.name.hash(h);
        self.value.hash(h);
        self.points.map(f64::to_bits).hash(h);
        self.clause.hash(h);
    }
}

/// Interning of explanation texts and lists (per thread: no lock, at most one
/// copy of a text per thread). Each table is emptied when it grows past a
/// bound, so texts no longer used do not pile up in a long-running server;
/// the values already handed out stay valid.
pub mod intern {
    use std::cell::RefCell;
    use std::collections::HashSet;
    use std::hash::Hash;
    use std::sync::Arc;

    use super::{Factor, Text};

    /// Entries kept per table and thread before it is emptied.
    const BOUND: usize = 50_000;

    thread_local! {
        static TEXTS: RefCell<HashSet<Arc<str>>> = RefCell::new(HashSet::new());
        static TEXT_LISTS: RefCell<HashSet<Arc<[Text]>>> = RefCell::new(HashSet::new());
        static FACTOR_LISTS: RefCell<HashSet<Arc<[Factor]>>> = RefCell::new(HashSet::new());
    }

    fn get<T: ?Sized + Eq + Hash>(
        table: &'static std::thread::LocalKey<RefCell<HashSet<Arc<T>>>>,
        value: &T,
        make: impl FnOnce() -> Arc<T>,
    ) -> Arc<T> {
        table.with(|t| {
            let mut t = t.borrow_mut();
            if let Some(found) = t.get(value) {
                return found.clone();
            }
            if t.len() >= BOUND {
                t.clear();
            }
            let made = make();
            t.insert(made.clone());
            made
        })
    }

    /// One shared copy of `s`.
    pub fn text(s: &str) -> Text {
        get(&TEXTS, s, || Arc::from(s))
    }

    /// One shared copy of a list of texts.
    pub fn texts(list: Vec<Text>) -> Arc<[Text]> {
        get(&TEXT_LISTS, list.as_slice(), || Arc::from(list.clone()))
    }

    /// One shared copy of a list of factors.
    pub fn factors(list: Vec<Factor>) -> Arc<[Factor]> {
        get(&FACTOR_LISTS, list.as_slice(), || Arc::from(list.clone()))
    }
}

/// The result of a scoring model, with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The four-colour level.
    pub risk_level: RiskLevel,
    /// The model's score, when it has one (diagnosis points, park score, LEC D,
    /// matrix R, grid index).
    pub score: Option<f64>,
    /// The model that produced it.
    pub model: ModelRef,
    /// What contributed, each with its clause.
    pub factors: Arc<[Factor]>,
    /// Items the model needs but could not assess, each with the default
    /// applied (usually: no deduction).
    pub incomplete: Arc<[Text]>,
    /// Project conventions used, which are not in any standard (e.g. "HCA
    /// III→red is a project convention, not in GB 32167").
    pub conventions: Arc<[Text]>,
    /// Figures used whose source is UNCONFIRMED (or from memory), each naming
    /// the rules file and key where it is configured.
    pub unconfirmed: Arc<[Text]>,
}

impl Assessment {
    /// Inserts a factor at `index` (the lists are shared, so this makes a
    /// new one).
    pub fn insert_factor(&mut self, index: usize, factor: Factor) {
        let mut v = self.factors.to_vec();
        v.insert(index.min(v.len()), factor);
        self.factors = intern::factors(v);
    }

    /// Appends a factor.
    pub fn push_factor(&mut self, factor: Factor) {
        let n = self.factors.len();
        self.insert_factor(n, factor);
    }

    /// Appends a note to `incomplete`, unless it is there.
    pub fn push_incomplete(&mut self, note: impl AsRef<str>) {
        let n = self.incomplete.len();
        self.insert_incomplete(n, note);
    }

    /// Inserts a note into `incomplete` at `index`, unless it is there.
    pub fn insert_incomplete(&mut self, index: usize, note: impl AsRef<str>) {
        let note = note.as_ref();
        if self.incomplete.iter().any(|n| &**n == note) {
            return;
        }
        let mut v = self.incomplete.to_vec();
        v.insert(index.min(v.len()), intern::text(note));
        self.incomplete = intern::texts(v);
    }

    /// Appends a note to `conventions`, unless it is there.
    pub fn push_convention(&mut self, note: impl AsRef<str>) {
        self.conventions = push_shared(&self.conventions, note.as_ref());
    }

    /// Appends a note to `unconfirmed`, unless it is there.
    pub fn push_unconfirmed(&mut self, note: impl AsRef<str>) {
        self.unconfirmed = push_shared(&self.unconfirmed, note.as_ref());
    }

    /// A plain-text explanation: level, score, factors, and every item not
    /// assessed, convention and unconfirmed figure.
    pub fn explanation(&self) -> String {
        let mut out = format!(
            "{} {} ({}), model {} v{}",
            self.risk_level.label_zh(),
            self.risk_level.as_str(),
            self.score.map_or_else(
                || "no score".to_string(),
                |s| format!("score {}", fmt_num(s))
            ),
            self.model.id,
            self.model.version
        );
        for f in self.factors.iter() {
            let points = f
                .points
                .map_or(String::new(), |p| format!(" [{}]", fmt_signed(p)));
            out.push_str(&format!(
                "\n- {}: {}{} ({})",
                f.name, f.value, points, f.clause
            ));
        }
        let sections = [
            ("未评估 not assessed", &self.incomplete),
            ("项目约定 conventions", &self.conventions),
            ("待核实 unconfirmed", &self.unconfirmed),
        ];
        for (title, items) in sections {
            if !items.is_empty() {
                out.push_str(&format!("\n{title}:"));
                for i in items.iter() {
                    out.push_str(&format!("\n- {i}"));
                }
            }
        }
        out
    }
}

/// Collects the parts of an [`Assessment`], without duplicate notes.
#[derive(Debug, Default)]
struct Builder {
    factors: Vec<Factor>,
    incomplete: Vec<Text>,
    conventions: Vec<Text>,
    unconfirmed: Vec<Text>,
}

impl Builder {
    fn factor(
        &mut self,
        name: impl AsRef<str>,
        value: impl AsRef<str>,
        points: Option<f64>,
        clause: impl AsRef<str>,
    ) {
        self.factors.push(Factor::new(name, value, points, clause));
    }

    fn incomplete(&mut self, note: impl AsRef<str>) {
        push_unique(&mut self.incomplete, note.as_ref());
    }

    fn convention(&mut self, note: impl AsRef<str>) {
        push_unique(&mut self.conventions, note.as_ref());
    }

    /// Records `what`, configured at `file` / `key`, when `confidence` is
    /// UNCONFIRMED or from memory.
    fn check(&mut self, confidence: Confidence, file: &str, key: &str, what: &str) {
        if confidence.is_unconfirmed() {
            push_unique(
                &mut self.unconfirmed,
                &format!(
                    "{what}: {} — configured in {file}, key `{key}`",
                    confidence.describe()
                ),
            );
        }
    }

    /// Records the band that decided a level and the band whose edge bounded
    /// it, when their figures are unconfirmed.
    fn check_bands(&mut self, file: &str, key: &str, hit: &BandHit<'_>) {
        self.check(
            hit.band.confidence,
            file,
            &format!("{key}[{}]", hit.index),
            &format!("band {}", hit.band.label),
        );
        if let Some((i, next)) = hit.next {
            self.check(
                next.confidence,
                file,
                &format!("{key}[{i}].min"),
                &format!(
                    "band edge {} of {}",
                    fmt_num(next.min.unwrap_or(f64::NAN)),
                    next.label
                ),
            );
        }
    }

    fn finish(self, level: RiskLevel, score: Option<f64>, about: &About) -> Assessment {
        Assessment {
            risk_level: level,
            score,
            model: ModelRef {
                id: intern::text(&about.id),
                version: intern::text(&about.version),
            },
            factors: intern::factors(self.factors),
            incomplete: intern::texts(self.incomplete),
            conventions: intern::texts(self.conventions),
            unconfirmed: intern::texts(self.unconfirmed),
        }
    }

    fn finish_as(
        self,
        level: RiskLevel,
        score: Option<f64>,
        id: &str,
        version: &str,
    ) -> Assessment {
        Assessment {
            risk_level: level,
            score,
            model: ModelRef {
                id: intern::text(id),
                version: intern::text(version),
            },
            factors: intern::factors(self.factors),
            incomplete: intern::texts(self.incomplete),
            conventions: intern::texts(self.conventions),
            unconfirmed: intern::texts(self.unconfirmed),
        }
    }
}

fn push_shared(list: &[Text], note: &str) -> Arc<[Text]> {
    let mut v = list.to_vec();
    push_unique(&mut v, note);
    intern::texts(v)
}

fn push_unique(list: &mut Vec<Text>, note: &str) {
    if !list.iter().any(|n| &**n == note) {
        list.push(intern::text(note));
    }
}

/// The band a value falls in, and the next band up (whose `min` bounded it).
#[derive(Debug)]
struct BandHit<'a> {
    index: usize,
    band: &'a Band,
    next: Option<(usize, &'a Band)>,
}

/// The band holding `x`: the one with the highest `min` not above `x`; the
/// unbounded band when `x` is below every `min`. `bands` are validated (one
/// unbounded band, distinct mins). A NaN `x` gets the most severe band, so a
/// broken input never hides a risk.
fn band_for(bands: &[Band], x: f64) -> BandHit<'_> {
    let mut order: Vec<(usize, &Band)> = bands.iter().enumerate().collect();
    order.sort_by(|a, b| {
        let ka = a.1.min.unwrap_or(f64::NEG_INFINITY);
        let kb = b.1.min.unwrap_or(f64::NEG_INFINITY);
        ka.total_cmp(&kb)
    });
    if x.is_nan() {
        let (index, band) = order
            .iter()
            .copied()
            .max_by_key(|(_, b)| b.level)
            .unwrap_or((0, &bands[0]));
        return BandHit {
            index,
            band,
            next: None,
        };
    }
    let pos = order
        .iter()
        .rposition(|(_, b)| b.min.is_none_or(|m| x >= m))
        .unwrap_or(0);
    let (index, band) = order[pos];
    BandHit {
        index,
        band,
        next: order.get(pos + 1).copied(),
    }
}

/// A number without needless decimals: `36.3`, `10`, `0.25`.
fn fmt_num(x: f64) -> String {
    if x.is_finite() && x == x.round() && x.abs() < 1e15 {
        format!("{x:.0}")
    } else if x.is_finite() {
        let s = format!("{x:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        format!("{x}")
    }
}

fn fmt_signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", fmt_num(x))
    } else {
        fmt_num(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_ordered_and_named() {
        assert!(RiskLevel::Blue < RiskLevel::Yellow);
        assert!(RiskLevel::Yellow < RiskLevel::Orange);
        assert!(RiskLevel::Orange < RiskLevel::Red);
        let labels: Vec<_> = RiskLevel::ALL.iter().map(|l| l.label_zh()).collect();
        assert_eq!(labels, ["低风险", "一般风险", "较大风险", "重大风险"]);
        for (i, l) in RiskLevel::ALL.into_iter().enumerate() {
            assert_eq!(l.index(), i);
            assert_eq!(l.as_str().parse::<RiskLevel>(), Ok(l));
            let json = serde_json::to_value(l).unwrap();
            assert_eq!(json, serde_json::Value::String(l.as_str().into()));
            assert_eq!(serde_json::from_value::<RiskLevel>(json).unwrap(), l);
        }
        assert!("purple".parse::<RiskLevel>().is_err());
        assert_eq!(RiskLevel::Red.to_string(), "red");
    }

    #[test]
    fn assessment_serialises_with_its_explanation() {
        let a = lec::assess_lec(3.0, 6.0, 7.0, Rules::builtin());
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["risk_level"], "yellow");
        assert_eq!(json["model"]["id"], "lec");
        let back: Assessment = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
        let text = a.explanation();
        assert!(
            text.starts_with("一般风险 yellow (score 126), model lec v1"),
            "{text}"
        );
    }

    #[test]
    fn numbers_print_plainly() {
        assert_eq!(fmt_num(36.3), "36.3");
        assert_eq!(fmt_num(10.0), "10");
        assert_eq!(fmt_num(0.25), "0.25");
        assert_eq!(fmt_num(1.0 / 3.0), "0.3333");
        assert_eq!(fmt_signed(-8.0), "-8");
        assert_eq!(fmt_signed(5.0), "+5");
    }
}

//! The rules of the scoring models, as data: `data/rules/*.toml`.
//!
//! Six files, one per model family, each identified by `about.kind`:
//! `enterprise`, `park`, `pipeline`, `lec`, `matrix` and `grid`. Each names its
//! source document and tags every figure with a [`Confidence`]. The files are
//! embedded at compile time ([`BUILTIN_FILES`]) and parsed once, on first use,
//! into [`Rules::builtin`]; [`Rules::from_toml_strs`] and
//! [`Rules::with_overrides`] let a deployment use its own (e.g. a province's
//! matrix bands).
//!
//! Parsing is strict (unknown keys are errors, so a typo cannot silently drop
//! a rule) and every file is checked: bands cover the whole line without
//! overlap, caps and points are non-negative, every pipeline criterion is
//! present, and so on.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use super::RiskLevel;
use crate::model::TargetCategory;

/// The embedded rules files: (path in the repository, contents).
pub const BUILTIN_FILES: [(&str, &str); 6] = [
    (
        "data/rules/enterprise-diagnosis-2018.toml",
        include_str!("../../../../data/rules/enterprise-diagnosis-2018.toml"),
    ),
    (
        "data/rules/park-2023.toml",
        include_str!("../../../../data/rules/park-2023.toml"),
    ),
    (
        "data/rules/pipeline-hca-gb32167.toml",
        include_str!("../../../../data/rules/pipeline-hca-gb32167.toml"),
    ),
    (
        "data/rules/lec.toml",
        include_str!("../../../../data/rules/lec.toml"),
    ),
    (
        "data/rules/matrix-5x5.toml",
        include_str!("../../../../data/rules/matrix-5x5.toml"),
    ),
    (
        "data/rules/grid.toml",
        include_str!("../../../../data/rules/grid.toml"),
    ),
];

static BUILTIN: LazyLock<Rules> = LazyLock::new(|| {
    Rules::from_toml_strs(BUILTIN_FILES).expect("embedded data/rules/*.toml are valid")
});

/// How sure we are of a figure (the tags of `standards.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Confidence {
    /// `C`: seen in a retrieved source.
    #[serde(rename = "C")]
    Confirmed,
    /// `C-2`: confirmed in a secondary source only.
    #[serde(rename = "C-2")]
    Secondary,
    /// `M`: from memory, consistent with the sources; treated as UNCONFIRMED.
    #[serde(rename = "M")]
    Memory,
    /// `UNCONFIRMED`: could not be verified.
    #[serde(rename = "UNCONFIRMED")]
    Unconfirmed,
    /// `project`: a project convention or method, in no standard.
    #[serde(rename = "project")]
    Project,
}

impl Confidence {
    /// True for `M` and `UNCONFIRMED`: such a figure must be reported in
    /// [`super::Assessment::unconfirmed`] when used.
    pub fn is_unconfirmed(self) -> bool {
        matches!(self, Confidence::Memory | Confidence::Unconfirmed)
    }

    /// The tag as written in the rules files.
    pub fn tag(self) -> &'static str {
        match self {
            Confidence::Confirmed => "C",
            Confidence::Secondary => "C-2",
            Confidence::Memory => "M",
            Confidence::Unconfirmed => "UNCONFIRMED",
            Confidence::Project => "project",
        }
    }

    pub(crate) fn describe(self) -> &'static str {
        match self {
            Confidence::Memory => "UNCONFIRMED (from memory, [M])",
            Confidence::Unconfirmed => "UNCONFIRMED",
            Confidence::Confirmed => "confirmed [C]",
            Confidence::Secondary => "secondary source [C-2]",
            Confidence::Project => "project convention",
        }
    }
}

/// The `[about]` table of a rules file: what it is and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct About {
    /// `enterprise`, `park`, `pipeline`, `lec`, `matrix` or `grid`.
    pub kind: String,
    /// Model id, e.g. `enterprise-diagnosis-2018`.
    pub id: String,
    /// Version of these rules.
    pub version: String,
    /// The source document's title.
    pub source: String,
    /// The source document's id (number), e.g. `应急〔2023〕123号`.
    pub document: String,
    /// Confidence in the document id.
    pub document_confidence: Confidence,
    /// Where in `standards.md` and its source list (S1…S17) the figures come from.
    pub source_keys: String,
    /// Overall confidence of the file's figures (each figure may say otherwise).
    pub confidence: Confidence,
    /// The file these rules were read from (set on parsing).
    #[serde(skip)]
    pub file: String,
}

/// One band of a banded model: values `>= min` (down to the next band's `min`)
/// get `level`. The one band without `min` is unbounded below.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    /// The level of this band.
    pub level: RiskLevel,
    /// Lower bound, inclusive; `None` for the lowest band.
    #[serde(default)]
    pub min: Option<f64>,
    /// Label, e.g. `黄色 一般风险 (75–<90)`.
    pub label: String,
    /// Grade letter where the source names one (park A–D).
    #[serde(default)]
    pub grade: Option<String>,
    /// Confidence of this band's figures.
    pub confidence: Confidence,
    /// Remark.
    #[serde(default)]
    pub note: Option<String>,
}

/// One point of a factor scale (LEC L/E/C, matrix L/S).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalePoint {
    /// The value.
    pub value: f64,
    /// Its meaning.
    pub label: String,
}

/// How the 重大危险源 deduction treats several installations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Aggregate {
    /// One deduction, for the most severe grade present.
    Highest,
    /// One deduction per installation, capped.
    Sum,
}

/// 重大危险源 (major hazard installations) item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MajorHazardRule {
    /// Bilingual name.
    pub name: String,
    /// Clause.
    pub clause: String,
    /// Allocation of the item (points).
    pub cap: f64,
    /// Deduction for grades 一级, 二级, 三级, 四级.
    pub deduct_by_grade: [f64; 4],
    /// Highest grade only, or per installation.
    pub aggregate: Aggregate,
    /// Confidence of the aggregation reading.
    pub aggregate_confidence: Confidence,
    /// Confidence of the points.
    pub confidence: Confidence,
}

/// 物质危险性 (substance hazard) item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubstanceHazardRule {
    /// Bilingual name.
    pub name: String,
    /// Clause.
    pub clause: String,
    /// Allocation of the item (points).
    pub cap: f64,
    /// Deduction per explosive.
    pub explosive_each: f64,
    /// Deduction per inhalation-toxic substance.
    pub toxic_inhalation_each: f64,
    /// Deduction per other 重点监管危险化学品.
    pub other_key_supervised_each: f64,
    /// Confidence of the points.
    pub confidence: Confidence,
    /// Table 2 symbols that make a substance explosive.
    pub explosive_categories: Vec<String>,
    /// Table 2 symbols that make a substance inhalation-toxic.
    pub toxic_inhalation_categories: Vec<String>,
    /// Confidence of the two category lists.
    pub categories_confidence: Confidence,
    /// CAS numbers of the 重点监管危险化学品名录; empty = not configured.
    pub key_supervised_cas: Vec<String>,
    /// Source of that list.
    pub key_supervised_source: String,
    /// Confidence of that list.
    pub key_supervised_confidence: Confidence,
}

/// A process of the 18 重点监管危险化工工艺, with the other names it goes by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessName {
    /// Official name.
    pub name: String,
    /// Other spellings.
    pub aliases: Vec<String>,
}

/// 危险化工工艺 (hazardous processes) item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessRule {
    /// Bilingual name.
    pub name: String,
    /// Clause.
    pub clause: String,
    /// Allocation of the item (points).
    pub cap: f64,
    /// Deduction per distinct process.
    pub deduct_each: f64,
    /// Confidence of the points.
    pub confidence: Confidence,
    /// Where the list of processes comes from.
    pub list_source: String,
    /// Confidence of the list.
    pub list_confidence: Confidence,
    /// The 18 processes.
    pub list: Vec<ProcessName>,
}

impl ProcessRule {
    /// The official name of a process, matched by name or alias after
    /// normalisation (full-width forms, whitespace, case).
    pub fn official_name(&self, process: &str) -> Option<&str> {
        let key = normalize(process);
        if key.is_empty() {
            return None;
        }
        self.list
            .iter()
            .find(|p| normalize(&p.name) == key || p.aliases.iter().any(|a| normalize(a) == key))
            .map(|p| p.name.as_str())
    }
}

/// 周边环境 (surroundings) item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurroundingsRule {
    /// Bilingual name.
    pub name: String,
    /// Clause.
    pub clause: String,
    /// Allocation of the item (points).
    pub cap: f64,
    /// Deduction when outside a chemical park.
    pub outside_chemical_park: f64,
    /// Deduction when the external safety distance is not met.
    pub external_distance_not_ok: f64,
    /// Confidence of the points.
    pub confidence: Confidence,
}

/// 安全管理绩效 (safety performance) item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceRule {
    /// Bilingual name.
    pub name: String,
    /// Clause.
    pub clause: String,
    /// Allocation of the deductions (points).
    pub cap: f64,
    /// Bonus for standardisation levels 一级, 二级, 三级.
    pub standardization_bonus: [f64; 3],
    /// Deduction per 较大 (or worse) accident in the window.
    pub larger_accident_each: f64,
    /// Deduction per fatal 一般 accident (1–2 deaths) in the window.
    pub fatal_accident_each: f64,
    /// The accident window, in years.
    pub accident_window_years: u32,
    /// The accident-free window for the bonus, in years.
    pub no_accident_window_years: u32,
    /// Bonus for no accident in that window.
    pub no_accident_bonus: f64,
    /// Confidence of the points.
    pub confidence: Confidence,
}

/// Accident severity implied by deaths (国务院令第493号 第三条).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeverityByDeaths {
    /// Deaths from which an accident is at least 较大.
    pub larger_min_deaths: u32,
    /// Deaths from which an accident is at least 重大.
    pub major_min_deaths: u32,
    /// Deaths from which an accident is 特别重大.
    pub especially_major_min_deaths: u32,
    /// Source.
    pub source: String,
    /// Confidence.
    pub confidence: Confidence,
}

/// 直接判定为红色 from the accident history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomaticRedRule {
    /// Bilingual name.
    pub name: String,
    /// Clause.
    pub clause: String,
    /// Window for an accident at 重大 level or above, in years.
    pub major_window_years: u32,
    /// Window for 较大 accidents, in years.
    pub larger_window_years: u32,
    /// 较大 accidents in that window that make the enterprise red.
    pub larger_min_count: u32,
    /// Window for fatal 一般 accidents, in years.
    pub fatal_general_window_years: u32,
    /// Fatal 一般 accidents in that window that make the enterprise red.
    pub fatal_general_min_count: u32,
    /// Confidence.
    pub confidence: Confidence,
}

/// An item of the diagnosis model that the data model cannot assess.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotAssessed {
    /// Key.
    pub key: String,
    /// Bilingual name.
    pub name: String,
    /// Clause.
    pub clause: String,
    /// Points at stake, when the item has an allocation.
    #[serde(default)]
    pub allocation: Option<f64>,
    /// What the item scores.
    pub content: String,
    /// Why it cannot be assessed.
    pub reason: String,
    /// The default applied.
    pub default: String,
    /// An automatic-red condition.
    #[serde(default)]
    pub automatic_red: bool,
    /// The most an inspection finding may add here (加分), when the heading
    /// has a bonus; none: findings add nothing.
    #[serde(default)]
    pub max_bonus: Option<f64>,
}

/// How an open 重大事故隐患 that names a 判定标准 item answers a heading of
/// the diagnosis guide (hidden-dangers.md §4): the item, the heading, and
/// the guide's line it deducts under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingLink {
    /// The 判定标准 item, e.g. `HC121-17` (`data/rules/hidden-dangers.toml`).
    pub item: String,
    /// The `not_assessed` key it answers, e.g. `management`.
    pub heading: String,
    /// Points deducted while the danger is open (none for 直接判定为红色
    /// headings, which make the enterprise red instead).
    #[serde(default)]
    pub deduction: Option<f64>,
    /// The guide's line, e.g. `未制定操作规程和工艺控制指标扣5分`.
    pub line: String,
    /// Confidence of the link.
    pub confidence: Confidence,
}

/// Which industries the diagnosis model fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Applicability {
    /// Always graded by the diagnosis model.
    pub applies: Vec<String>,
    /// Graded by it when they hold hazardous chemicals.
    pub applies_with_hazardous_units: Vec<String>,
    /// Never: graded by LEC with the industry default.
    pub not_applicable: Vec<String>,
    /// Confidence of the lists.
    pub confidence: Confidence,
}

/// `enterprise-diagnosis-2018.toml`: the 100-point diagnosis model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseRules {
    /// Source and identity.
    pub about: About,
    /// Starting score.
    pub start_score: f64,
    /// Lowest total.
    pub min_score: f64,
    /// Highest total.
    pub max_score: f64,
    /// Score bands (a higher score is a lower risk).
    pub bands: Vec<Band>,
    /// 重大危险源.
    pub major_hazard: MajorHazardRule,
    /// 物质危险性.
    pub substance_hazard: SubstanceHazardRule,
    /// 危险化工工艺.
    pub processes: ProcessRule,
    /// 周边环境.
    pub surroundings: SurroundingsRule,
    /// 安全管理绩效.
    pub performance: PerformanceRule,
    /// Severity implied by deaths.
    pub severity_by_deaths: SeverityByDeaths,
    /// Automatic red from the accident history.
    pub automatic_red: AutomaticRedRule,
    /// Items not assessable from the data model, unless an inspection
    /// finding or a linked hidden danger answers them.
    pub not_assessed: Vec<NotAssessed>,
    /// How 重大事故隐患 items answer those headings.
    #[serde(default)]
    pub finding_link: Vec<FindingLink>,
    /// Which industries the model fits.
    pub applicability: Applicability,
}

/// An aggregate of [`super::ParkContext`] that a park floor tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParkMetric {
    /// Enterprises graded red.
    RedEnterprises,
    /// Enterprises graded orange or red.
    OrangeOrAboveEnterprises,
    /// 一级 major hazard installations.
    Grade1Hazards,
    /// 一级 or 二级 major hazard installations.
    #[serde(rename = "grade1_or_2_hazards")]
    Grade1Or2Hazards,
    /// Major hazard installations of any grade.
    MajorHazards,
    /// Residents inside the park.
    PopulationInside,
    /// Residents in the buffer ring.
    PopulationBuffer,
}

impl ParkMetric {
    /// Bilingual name.
    pub fn name(self) -> &'static str {
        match self {
            ParkMetric::RedEnterprises => "红色企业 red enterprises",
            ParkMetric::OrangeOrAboveEnterprises => "橙色及以上企业 orange-or-red enterprises",
            ParkMetric::Grade1Hazards => "一级重大危险源 grade-1 major hazards",
            ParkMetric::Grade1Or2Hazards => "一级、二级重大危险源 grade-1/2 major hazards",
            ParkMetric::MajorHazards => "重大危险源 major hazard installations",
            ParkMetric::PopulationInside => "园区内人口 residents inside the park",
            ParkMetric::PopulationBuffer => "园区周边人口 residents in the buffer",
        }
    }
}

/// One spatial floor of the park model: `metric >= min` raises the park to at
/// least `level`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParkFloor {
    /// The aggregate tested.
    pub metric: ParkMetric,
    /// Threshold, inclusive.
    pub min: f64,
    /// The level it guarantees.
    pub level: RiskLevel,
    /// Explanation.
    pub note: String,
}

/// The project's spatial adjustments of the park grade.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParkAdjustments {
    /// Description of the method.
    pub method: String,
    /// Confidence (a project method).
    pub confidence: Confidence,
    /// The floors.
    pub floors: Vec<ParkFloor>,
}

/// `park-2023.toml`: 化工园区安全风险排查治理导则 (2023).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParkRules {
    /// Source and identity.
    pub about: About,
    /// Lowest valid score.
    pub min_score: f64,
    /// Highest valid score.
    pub max_score: f64,
    /// Score bands A–D (a higher score is a lower risk).
    pub bands: Vec<Band>,
    /// The letter → colour convention.
    pub colour_convention: String,
    /// The veto items' status.
    pub veto_items_note: String,
    /// Spatial floors.
    pub adjustments: ParkAdjustments,
}

/// The potential impact radius formula of GB 32167 式(1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpactRadius {
    /// r = coefficient · √(d² · p).
    pub coefficient: f64,
    /// Clause.
    pub clause: String,
    /// Confidence.
    pub confidence: Confidence,
}

/// The distances and counts the HCA criteria use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HcaDistances {
    /// Corridor half-width, m (200).
    pub corridor_m: f64,
    /// Window length along the line, m (2000).
    pub window_m: f64,
    /// Near zone of liquid criterion d), m (50).
    pub liquid_near_m: f64,
    /// Households that make a class-3 location (100).
    pub class3_min_households: u64,
    /// Households of a village in liquid criterion c) (50).
    pub village_min_households: u64,
    /// Confidence.
    pub confidence: Confidence,
}

/// The project's population-density proxy for a class-4 location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Class4Proxy {
    /// Density from which a segment is class 4, people per km².
    pub population_density_min_per_km2: f64,
    /// Confidence (a project proxy).
    pub confidence: Confidence,
    /// Explanation.
    pub note: String,
}

/// Large-pipe condition of gas criterion c).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LargePipe {
    /// d > this, mm.
    pub diameter_mm_gt: f64,
    /// MAOP > this, MPa.
    pub maop_mpa_gt: f64,
    /// Confidence.
    pub confidence: Confidence,
}

/// Small-pipe condition of gas criterion d).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmallPipe {
    /// d < this, mm.
    pub diameter_mm_lt: f64,
    /// MAOP < this, MPa.
    pub maop_mpa_lt: f64,
    /// Confidence.
    pub confidence: Confidence,
}

/// 特定场所 (specified sites) as protection-target categories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialSites {
    /// 特定场所 I.
    pub class1: Vec<TargetCategory>,
    /// 特定场所 II.
    pub class2: Vec<TargetCategory>,
    /// Confidence.
    pub confidence: Confidence,
    /// Definitions.
    pub note: String,
}

impl SpecialSites {
    /// Whether a category is a 特定场所 (I or II).
    pub fn contains(&self, c: TargetCategory) -> bool {
        self.class1.contains(&c) || self.class2.contains(&c)
    }
}

/// One HCA criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HcaCriterion {
    /// Item letter `a`–`f`; the code knows what each tests.
    pub item: String,
    /// HCA level it gives, 1 (I) to 3 (III).
    pub level: u8,
    /// Wording.
    pub text: String,
    /// Clause.
    pub clause: String,
    /// Confidence.
    pub confidence: Confidence,
}

/// HCA level → colour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HcaColours {
    /// Not an HCA.
    pub none: RiskLevel,
    /// Level I.
    pub level1: RiskLevel,
    /// Level II.
    pub level2: RiskLevel,
    /// Level III.
    pub level3: RiskLevel,
    /// Confidence (a project convention).
    pub confidence: Confidence,
    /// Explanation.
    pub note: String,
}

/// `pipeline-hca-gb32167.toml`: GB 32167-2015 high-consequence areas.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineRules {
    /// Source and identity.
    pub about: About,
    /// 式(1).
    pub impact_radius: ImpactRadius,
    /// Distances and counts.
    pub distances: HcaDistances,
    /// Class-4 proxy.
    pub class4_proxy: Class4Proxy,
    /// Gas criterion c) condition.
    pub large_pipe: LargePipe,
    /// Gas criterion d) condition.
    pub small_pipe: SmallPipe,
    /// 特定场所.
    pub special_sites: SpecialSites,
    /// 输气管道 criteria a–f.
    pub gas: Vec<HcaCriterion>,
    /// 输油管道 criteria a–f.
    pub liquid: Vec<HcaCriterion>,
    /// Level → colour convention.
    pub colours: HcaColours,
    /// How urban gas mains are treated.
    pub urban_gas_note: String,
    /// Re-identification interval, months (not used by the assessment).
    pub reidentify_months: u32,
    /// Its confidence.
    pub reidentify_confidence: Confidence,
}

impl PipelineRules {
    /// The gas criterion with this item letter (validated to exist).
    pub(crate) fn gas_item(&self, item: &str) -> Option<&HcaCriterion> {
        self.gas.iter().find(|c| c.item == item)
    }

    /// The liquid criterion with this item letter (validated to exist).
    pub(crate) fn liquid_item(&self, item: &str) -> Option<&HcaCriterion> {
        self.liquid.iter().find(|c| c.item == item)
    }
}

/// Default LEC factors for an industry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndustryDefault {
    /// Industry, or `*` for any other.
    pub industry: String,
    /// L.
    pub l: f64,
    /// E.
    pub e: f64,
    /// C.
    pub c: f64,
    /// Why.
    pub note: String,
    /// Confidence (a project default).
    pub confidence: Confidence,
}

/// `lec.toml`: D = L × E × C.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LecRules {
    /// Source and identity.
    pub about: About,
    /// L scale.
    pub l_scale: Vec<ScalePoint>,
    /// E scale.
    pub e_scale: Vec<ScalePoint>,
    /// C scale.
    pub c_scale: Vec<ScalePoint>,
    /// D bands.
    pub bands: Vec<Band>,
    /// Default factors per industry.
    pub industry_defaults: Vec<IndustryDefault>,
}

impl LecRules {
    /// The default factors for an industry: its own row, else the `*` row.
    pub fn default_for(&self, industry: Option<&str>) -> Option<&IndustryDefault> {
        let key = industry.map(str::trim).unwrap_or("");
        self.industry_defaults
            .iter()
            .find(|d| !key.is_empty() && d.industry == key)
            .or_else(|| self.industry_defaults.iter().find(|d| d.industry == "*"))
    }
}

/// `matrix-5x5.toml`: R = L × S.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatrixRules {
    /// Source and identity.
    pub about: About,
    /// That bands vary by province.
    pub province_variation: String,
    /// Its confidence.
    pub province_variation_confidence: Confidence,
    /// L scale, 1–5.
    pub l_scale: Vec<ScalePoint>,
    /// S scale, 1–5.
    pub s_scale: Vec<ScalePoint>,
    /// R bands.
    pub bands: Vec<Band>,
}

/// Weight of each level in the grid's weighted index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelWeights {
    /// Blue.
    pub blue: f64,
    /// Yellow.
    pub yellow: f64,
    /// Orange.
    pub orange: f64,
    /// Red.
    pub red: f64,
    /// Confidence (a project method).
    pub confidence: Confidence,
}

impl LevelWeights {
    /// Weights in [`RiskLevel::ALL`] order.
    pub fn as_array(&self) -> [f64; 4] {
        [self.blue, self.yellow, self.orange, self.red]
    }
}

/// `grid.toml`: the four-colour grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridRules {
    /// Source and identity.
    pub about: About,
    /// Default cell size, m.
    pub cell_size_m: f64,
    /// Description of the max rule.
    pub max_rule: String,
    /// Weights of the weighted index.
    pub weights: LevelWeights,
    /// Index bands.
    pub bands: Vec<Band>,
}

/// All scoring rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    /// `enterprise-diagnosis-2018.toml`.
    pub enterprise: EnterpriseRules,
    /// `park-2023.toml`.
    pub park: ParkRules,
    /// `pipeline-hca-gb32167.toml`.
    pub pipeline: PipelineRules,
    /// `lec.toml`.
    pub lec: LecRules,
    /// `matrix-5x5.toml`.
    pub matrix: MatrixRules,
    /// `grid.toml`.
    pub grid: GridRules,
}

/// A rules file that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RulesError {
    /// Not valid TOML, or not the expected structure.
    #[error("{file}: {message}")]
    Parse {
        /// File name.
        file: String,
        /// Parser message.
        message: String,
    },
    /// `about.kind` is missing or unknown.
    #[error(
        "{file}: about.kind {kind:?} is not one of enterprise, park, pipeline, lec, matrix, grid"
    )]
    UnknownKind {
        /// File name.
        file: String,
        /// The kind found.
        kind: String,
    },
    /// Two files of the same kind.
    #[error("two {kind} rules files: {first} and {second}")]
    Duplicate {
        /// Kind.
        kind: String,
        /// First file.
        first: String,
        /// Second file.
        second: String,
    },
    /// No file of a kind.
    #[error("no {kind} rules file")]
    Missing {
        /// Kind.
        kind: String,
    },
    /// A value that breaks a rule of the format.
    #[error("{file}: `{key}`: {message}")]
    Invalid {
        /// File name.
        file: String,
        /// Key path.
        key: String,
        /// What is wrong.
        message: String,
    },
}

const KINDS: [&str; 6] = ["enterprise", "park", "pipeline", "lec", "matrix", "grid"];

#[derive(Default)]
struct Parsed {
    enterprise: Option<EnterpriseRules>,
    park: Option<ParkRules>,
    pipeline: Option<PipelineRules>,
    lec: Option<LecRules>,
    matrix: Option<MatrixRules>,
    grid: Option<GridRules>,
}

impl Rules {
    /// The rules of `data/rules/*.toml`, embedded at compile time and parsed
    /// on first use.
    pub fn builtin() -> &'static Rules {
        &BUILTIN
    }

    /// Parses a complete set of rules files, given as (file name, TOML text).
    /// Each file declares its kind in `about.kind`; exactly one file of each
    /// of the six kinds is required. The file name is used in error messages
    /// and in [`super::Assessment::unconfirmed`].
    pub fn from_toml_strs<'a, I>(files: I) -> Result<Rules, RulesError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut parsed = Parsed::default();
        parse_into(&mut parsed, files)?;
        let missing = |kind: &str| RulesError::Missing {
            kind: kind.to_string(),
        };
        let rules = Rules {
            enterprise: parsed.enterprise.ok_or_else(|| missing("enterprise"))?,
            park: parsed.park.ok_or_else(|| missing("park"))?,
            pipeline: parsed.pipeline.ok_or_else(|| missing("pipeline"))?,
            lec: parsed.lec.ok_or_else(|| missing("lec"))?,
            matrix: parsed.matrix.ok_or_else(|| missing("matrix"))?,
            grid: parsed.grid.ok_or_else(|| missing("grid"))?,
        };
        rules.validate_across()?;
        Ok(rules)
    }

    /// These rules with some files replaced, e.g. a province's matrix bands:
    /// each given file replaces the rules of its `about.kind`.
    pub fn with_overrides<'a, I>(&self, files: I) -> Result<Rules, RulesError>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut parsed = Parsed::default();
        parse_into(&mut parsed, files)?;
        let rules = Rules {
            enterprise: parsed.enterprise.unwrap_or_else(|| self.enterprise.clone()),
            park: parsed.park.unwrap_or_else(|| self.park.clone()),
            pipeline: parsed.pipeline.unwrap_or_else(|| self.pipeline.clone()),
            lec: parsed.lec.unwrap_or_else(|| self.lec.clone()),
            matrix: parsed.matrix.unwrap_or_else(|| self.matrix.clone()),
            grid: parsed.grid.unwrap_or_else(|| self.grid.clone()),
        };
        rules.validate_across()?;
        Ok(rules)
    }

    /// The `[about]` of every file.
    pub fn abouts(&self) -> [&About; 6] {
        [
            &self.enterprise.about,
            &self.park.about,
            &self.pipeline.about,
            &self.lec.about,
            &self.matrix.about,
            &self.grid.about,
        ]
    }

    /// Checks between files: every industry the diagnosis model does not fit
    /// has LEC default factors.
    fn validate_across(&self) -> Result<(), RulesError> {
        for industry in &self.enterprise.applicability.not_applicable {
            if self.lec.default_for(Some(industry)).is_none() {
                return Err(RulesError::Invalid {
                    file: self.lec.about.file.clone(),
                    key: "industry_defaults".into(),
                    message: format!(
                        "no default (nor `*`) for {industry:?}, which the diagnosis model does not fit"
                    ),
                });
            }
        }
        Ok(())
    }
}

fn parse_into<'a, I>(parsed: &mut Parsed, files: I) -> Result<(), RulesError>
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut seen: Vec<(String, String)> = Vec::new();
    for (file, text) in files {
        let table: toml::Table = toml::from_str(text).map_err(|e| parse_error(file, &e))?;
        let kind = table
            .get("about")
            .and_then(|a| a.get("kind"))
            .and_then(|k| k.as_str())
            .unwrap_or("")
            .to_string();
        if !KINDS.contains(&kind.as_str()) {
            return Err(RulesError::UnknownKind {
                file: file.to_string(),
                kind,
            });
        }
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
            return Err(RulesError::Duplicate {
                kind,
                first: first.clone(),
                second: file.to_string(),
            });
        }
        seen.push((kind.clone(), file.to_string()));
        match kind.as_str() {
            "enterprise" => {
                let mut r: EnterpriseRules = de(file, text)?;
                r.about.file = file.to_string();
                validate_enterprise(&r)?;
                parsed.enterprise = Some(r);
            }
            "park" => {
                let mut r: ParkRules = de(file, text)?;
                r.about.file = file.to_string();
                validate_park(&r)?;
                parsed.park = Some(r);
            }
            "pipeline" => {
                let mut r: PipelineRules = de(file, text)?;
                r.about.file = file.to_string();
                validate_pipeline(&r)?;
                parsed.pipeline = Some(r);
            }
            "lec" => {
                let mut r: LecRules = de(file, text)?;
                r.about.file = file.to_string();
                validate_lec(&r)?;
                parsed.lec = Some(r);
            }
            "matrix" => {
                let mut r: MatrixRules = de(file, text)?;
                r.about.file = file.to_string();
                validate_matrix(&r)?;
                parsed.matrix = Some(r);
            }
            _ => {
                let mut r: GridRules = de(file, text)?;
                r.about.file = file.to_string();
                validate_grid(&r)?;
                parsed.grid = Some(r);
            }
        }
    }
    Ok(())
}

fn de<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, RulesError> {
    crate::rule_set::from_toml(text).map_err(|message| RulesError::Parse {
        file: file.to_string(),
        message,
    })
}

fn parse_error(file: &str, e: &toml::de::Error) -> RulesError {
    RulesError::Parse {
        file: file.to_string(),
        message: e.to_string().trim_end().to_string(),
    }
}

fn invalid(file: &str, key: &str, message: impl Into<String>) -> RulesError {
    RulesError::Invalid {
        file: file.to_string(),
        key: key.to_string(),
        message: message.into(),
    }
}

/// A number that must be finite and `>= 0`.
fn non_negative(file: &str, key: &str, x: f64) -> Result<(), RulesError> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(invalid(
            file,
            key,
            format!("must be a number >= 0, got {x}"),
        ))
    }
}

fn validate_about(about: &About, kind: &str) -> Result<(), RulesError> {
    let f = &about.file;
    for (key, v) in [
        ("about.id", &about.id),
        ("about.version", &about.version),
        ("about.source", &about.source),
        ("about.document", &about.document),
        ("about.source_keys", &about.source_keys),
    ] {
        if v.trim().is_empty() {
            return Err(invalid(f, key, "must not be empty"));
        }
    }
    if about.kind != kind {
        return Err(invalid(f, "about.kind", format!("expected {kind:?}")));
    }
    Ok(())
}

/// Whether a higher value means more or less risk.
#[derive(Clone, Copy, PartialEq)]
enum Direction {
    /// Scores: a higher value is a lower risk.
    Score,
    /// Risk indices: a higher value is a higher risk.
    Risk,
}

/// Bands: at least one, exactly one without `min`, finite distinct mins, and
/// levels monotone in the model's direction.
fn validate_bands(file: &str, key: &str, bands: &[Band], dir: Direction) -> Result<(), RulesError> {
    if bands.is_empty() {
        return Err(invalid(file, key, "no bands"));
    }
    let unbounded = bands.iter().filter(|b| b.min.is_none()).count();
    if unbounded != 1 {
        return Err(invalid(
            file,
            key,
            format!("exactly one band must have no `min` (the lowest), found {unbounded}"),
        ));
    }
    let mut sorted: Vec<&Band> = bands.iter().collect();
    sorted.sort_by(|a, b| {
        a.min
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&b.min.unwrap_or(f64::NEG_INFINITY))
    });
    for pair in sorted.windows(2) {
        let (lo, hi) = (pair[0], pair[1]);
        let hi_min = hi.min.unwrap_or(f64::NAN);
        if !hi_min.is_finite() || lo.min.is_some_and(|m| m >= hi_min) {
            return Err(invalid(
                file,
                key,
                format!("band mins must be finite and distinct ({})", hi.label),
            ));
        }
        let ok = match dir {
            Direction::Risk => lo.level <= hi.level,
            Direction::Score => lo.level >= hi.level,
        };
        if !ok {
            return Err(invalid(
                file,
                key,
                format!(
                    "levels are not monotone between {} and {}",
                    lo.label, hi.label
                ),
            ));
        }
    }
    Ok(())
}

fn validate_enterprise(r: &EnterpriseRules) -> Result<(), RulesError> {
    let f = r.about.file.as_str();
    validate_about(&r.about, "enterprise")?;
    validate_bands(f, "bands", &r.bands, Direction::Score)?;
    if !(r.min_score.is_finite() && r.max_score.is_finite() && r.min_score < r.max_score) {
        return Err(invalid(f, "min_score", "min_score must be below max_score"));
    }
    if !(r.start_score >= r.min_score && r.start_score <= r.max_score) {
        return Err(invalid(
            f,
            "start_score",
            "must lie in [min_score, max_score]",
        ));
    }
    let mh = &r.major_hazard;
    non_negative(f, "major_hazard.cap", mh.cap)?;
    for (i, p) in mh.deduct_by_grade.iter().enumerate() {
        non_negative(f, &format!("major_hazard.deduct_by_grade[{i}]"), *p)?;
    }
    if mh.deduct_by_grade.windows(2).any(|w| w[0] < w[1]) {
        return Err(invalid(
            f,
            "major_hazard.deduct_by_grade",
            "a more severe grade (一级 first) must not deduct less",
        ));
    }
    let sh = &r.substance_hazard;
    for (key, x) in [
        ("substance_hazard.cap", sh.cap),
        ("substance_hazard.explosive_each", sh.explosive_each),
        (
            "substance_hazard.toxic_inhalation_each",
            sh.toxic_inhalation_each,
        ),
        (
            "substance_hazard.other_key_supervised_each",
            sh.other_key_supervised_each,
        ),
        ("processes.cap", r.processes.cap),
        ("processes.deduct_each", r.processes.deduct_each),
        ("surroundings.cap", r.surroundings.cap),
        (
            "surroundings.outside_chemical_park",
            r.surroundings.outside_chemical_park,
        ),
        (
            "surroundings.external_distance_not_ok",
            r.surroundings.external_distance_not_ok,
        ),
        ("performance.cap", r.performance.cap),
        (
            "performance.larger_accident_each",
            r.performance.larger_accident_each,
        ),
        (
            "performance.fatal_accident_each",
            r.performance.fatal_accident_each,
        ),
        (
            "performance.no_accident_bonus",
            r.performance.no_accident_bonus,
        ),
    ] {
        non_negative(f, key, x)?;
    }
    for (i, b) in r.performance.standardization_bonus.iter().enumerate() {
        non_negative(f, &format!("performance.standardization_bonus[{i}]"), *b)?;
    }
    if r.processes.list.is_empty() {
        return Err(invalid(f, "processes.list", "empty"));
    }
    let mut names = BTreeSet::new();
    for (i, p) in r.processes.list.iter().enumerate() {
        for n in std::iter::once(&p.name).chain(&p.aliases) {
            let key = normalize(n);
            if key.is_empty() || !names.insert(key) {
                return Err(invalid(
                    f,
                    &format!("processes.list[{i}]"),
                    format!("empty or duplicate process name {n:?}"),
                ));
            }
        }
    }
    let p = &r.performance;
    let a = &r.automatic_red;
    for (key, years) in [
        ("performance.accident_window_years", p.accident_window_years),
        (
            "performance.no_accident_window_years",
            p.no_accident_window_years,
        ),
        ("automatic_red.major_window_years", a.major_window_years),
        ("automatic_red.larger_window_years", a.larger_window_years),
        (
            "automatic_red.fatal_general_window_years",
            a.fatal_general_window_years,
        ),
        ("automatic_red.larger_min_count", a.larger_min_count),
        (
            "automatic_red.fatal_general_min_count",
            a.fatal_general_min_count,
        ),
    ] {
        if years == 0 {
            return Err(invalid(f, key, "must be at least 1"));
        }
    }
    let s = &r.severity_by_deaths;
    if !(1 <= s.larger_min_deaths
        && s.larger_min_deaths < s.major_min_deaths
        && s.major_min_deaths < s.especially_major_min_deaths)
    {
        return Err(invalid(
            f,
            "severity_by_deaths",
            "thresholds must increase: 1 <= larger < major < especially_major",
        ));
    }
    let mut keys = BTreeSet::new();
    for (i, n) in r.not_assessed.iter().enumerate() {
        if !keys.insert(n.key.as_str()) {
            return Err(invalid(
                f,
                &format!("not_assessed[{i}].key"),
                "duplicate key",
            ));
        }
        let Some(item) = crate::model::DiagnosisItem::parse(&n.key) else {
            return Err(invalid(
                f,
                &format!("not_assessed[{i}].key"),
                format!(
                    "unknown heading {:?}; expected one of {}",
                    n.key,
                    crate::model::DiagnosisItem::ALL
                        .map(|i| i.as_str())
                        .join(", ")
                ),
            ));
        };
        if item.is_automatic_red() != n.automatic_red {
            return Err(invalid(
                f,
                &format!("not_assessed[{i}].automatic_red"),
                "must be true exactly for the 直接判定为红色 headings (red_*)",
            ));
        }
        if let Some(b) = n.max_bonus {
            non_negative(f, &format!("not_assessed[{i}].max_bonus"), b)?;
        }
    }
    for (i, l) in r.finding_link.iter().enumerate() {
        let key = format!("finding_link[{i}]");
        let Some(n) = r.not_assessed.iter().find(|n| n.key == l.heading) else {
            return Err(invalid(
                f,
                &format!("{key}.heading"),
                format!("{:?} is not a not_assessed key", l.heading),
            ));
        };
        match (n.automatic_red, l.deduction) {
            (true, Some(_)) => {
                return Err(invalid(
                    f,
                    &format!("{key}.deduction"),
                    "a 直接判定为红色 heading has no points",
                ));
            }
            (false, None) => {
                return Err(invalid(f, &format!("{key}.deduction"), "required"));
            }
            (false, Some(d)) => {
                non_negative(f, &format!("{key}.deduction"), d)?;
                if n.allocation.is_some_and(|a| d > a) {
                    return Err(invalid(
                        f,
                        &format!("{key}.deduction"),
                        "above the heading's allocation",
                    ));
                }
            }
            (true, None) => {}
        }
        if r.finding_link[..i]
            .iter()
            .any(|o| o.item == l.item && o.heading == l.heading)
        {
            return Err(invalid(f, &key, "duplicate item and heading"));
        }
    }
    let ap = &r.applicability;
    for list in [&ap.applies, &ap.applies_with_hazardous_units] {
        if let Some(clash) = list.iter().find(|i| ap.not_applicable.contains(i)) {
            return Err(invalid(
                f,
                "applicability",
                format!("{clash:?} is both applicable and not applicable"),
            ));
        }
    }
    Ok(())
}

fn validate_park(r: &ParkRules) -> Result<(), RulesError> {
    let f = r.about.file.as_str();
    validate_about(&r.about, "park")?;
    validate_bands(f, "bands", &r.bands, Direction::Score)?;
    if !(r.min_score.is_finite() && r.max_score.is_finite() && r.min_score < r.max_score) {
        return Err(invalid(f, "min_score", "min_score must be below max_score"));
    }
    for (i, floor) in r.adjustments.floors.iter().enumerate() {
        non_negative(f, &format!("adjustments.floors[{i}].min"), floor.min)?;
    }
    Ok(())
}

fn validate_pipeline(r: &PipelineRules) -> Result<(), RulesError> {
    let f = r.about.file.as_str();
    validate_about(&r.about, "pipeline")?;
    if !(r.impact_radius.coefficient.is_finite() && r.impact_radius.coefficient > 0.0) {
        return Err(invalid(f, "impact_radius.coefficient", "must be > 0"));
    }
    let d = &r.distances;
    for (key, x) in [
        ("distances.corridor_m", d.corridor_m),
        ("distances.window_m", d.window_m),
        ("distances.liquid_near_m", d.liquid_near_m),
        (
            "class4_proxy.population_density_min_per_km2",
            r.class4_proxy.population_density_min_per_km2,
        ),
        ("large_pipe.diameter_mm_gt", r.large_pipe.diameter_mm_gt),
        ("large_pipe.maop_mpa_gt", r.large_pipe.maop_mpa_gt),
        ("small_pipe.diameter_mm_lt", r.small_pipe.diameter_mm_lt),
        ("small_pipe.maop_mpa_lt", r.small_pipe.maop_mpa_lt),
    ] {
        non_negative(f, key, x)?;
    }
    if r.small_pipe.diameter_mm_lt > r.large_pipe.diameter_mm_gt
        || r.small_pipe.maop_mpa_lt > r.large_pipe.maop_mpa_gt
    {
        return Err(invalid(
            f,
            "small_pipe",
            "the small-pipe bounds must lie below the large-pipe bounds",
        ));
    }
    for (key, list) in [("gas", &r.gas), ("liquid", &r.liquid)] {
        for item in ["a", "b", "c", "d", "e", "f"] {
            let n = list.iter().filter(|c| c.item == item).count();
            if n != 1 {
                return Err(invalid(
                    f,
                    key,
                    format!("criterion {item:?} appears {n} times, expected once"),
                ));
            }
        }
        if let Some((i, c)) = list
            .iter()
            .enumerate()
            .find(|(_, c)| !(1..=3).contains(&c.level))
        {
            return Err(invalid(
                f,
                &format!("{key}[{i}].level"),
                format!("HCA level {} is not 1..=3", c.level),
            ));
        }
        if list.len() != 6 {
            return Err(invalid(f, key, "unknown criterion item (expected a–f)"));
        }
    }
    let c = &r.colours;
    if !(c.none <= c.level1 && c.level1 <= c.level2 && c.level2 <= c.level3) {
        return Err(invalid(
            f,
            "colours",
            "colours must not decrease with the HCA level",
        ));
    }
    Ok(())
}

fn validate_scale(file: &str, key: &str, scale: &[ScalePoint]) -> Result<(), RulesError> {
    if scale.is_empty() {
        return Err(invalid(file, key, "empty scale"));
    }
    for (i, p) in scale.iter().enumerate() {
        non_negative(file, &format!("{key}[{i}].value"), p.value)?;
    }
    Ok(())
}

fn validate_lec(r: &LecRules) -> Result<(), RulesError> {
    let f = r.about.file.as_str();
    validate_about(&r.about, "lec")?;
    validate_scale(f, "l_scale", &r.l_scale)?;
    validate_scale(f, "e_scale", &r.e_scale)?;
    validate_scale(f, "c_scale", &r.c_scale)?;
    validate_bands(f, "bands", &r.bands, Direction::Risk)?;
    for (i, d) in r.industry_defaults.iter().enumerate() {
        for (k, x) in [("l", d.l), ("e", d.e), ("c", d.c)] {
            non_negative(f, &format!("industry_defaults[{i}].{k}"), x)?;
        }
    }
    Ok(())
}

fn validate_matrix(r: &MatrixRules) -> Result<(), RulesError> {
    let f = r.about.file.as_str();
    validate_about(&r.about, "matrix")?;
    for (key, scale) in [("l_scale", &r.l_scale), ("s_scale", &r.s_scale)] {
        validate_scale(f, key, scale)?;
        let values: Vec<f64> = scale.iter().map(|p| p.value).collect();
        if values != [1.0, 2.0, 3.0, 4.0, 5.0] {
            return Err(invalid(
                f,
                key,
                "the 5×5 matrix scale must list 1, 2, 3, 4, 5 in order",
            ));
        }
    }
    validate_bands(f, "bands", &r.bands, Direction::Risk)
}

fn validate_grid(r: &GridRules) -> Result<(), RulesError> {
    let f = r.about.file.as_str();
    validate_about(&r.about, "grid")?;
    if !(r.cell_size_m.is_finite() && r.cell_size_m > 0.0) {
        return Err(invalid(f, "cell_size_m", "must be > 0"));
    }
    let w = r.weights.as_array();
    for (l, x) in RiskLevel::ALL.iter().zip(w) {
        non_negative(f, &format!("weights.{l}"), x)?;
    }
    if w.windows(2).any(|p| p[0] > p[1]) {
        return Err(invalid(
            f,
            "weights",
            "a more severe level must not weigh less",
        ));
    }
    validate_bands(f, "bands", &r.bands, Direction::Risk)
}

/// A name for comparison: full-width ASCII forms mapped to ASCII, all
/// whitespace removed, lower case.
pub(crate) fn normalize(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_parse() {
        let parsed = Rules::from_toml_strs(BUILTIN_FILES);
        assert!(parsed.is_ok(), "{:?}", parsed.err());
        let r = Rules::builtin();
        assert_eq!(r.enterprise.about.id, "enterprise-diagnosis-2018");
        assert_eq!(r.park.about.id, "park-guideline-2023");
        assert_eq!(r.pipeline.about.id, "pipeline-hca-gb32167");
        assert_eq!(r.lec.about.id, "lec");
        assert_eq!(r.matrix.about.id, "matrix-5x5");
        assert_eq!(r.grid.about.id, "grid");
        assert_eq!(r.enterprise.processes.list.len(), 18);
        assert!((r.grid.cell_size_m - 500.0).abs() < 1e-9);
    }

    #[test]
    fn every_rules_file_names_its_source() {
        for (file, text) in BUILTIN_FILES {
            let table: toml::Table = toml::from_str(text).unwrap();
            let about = table["about"].as_table().unwrap();
            for key in [
                "kind",
                "id",
                "version",
                "source",
                "document",
                "source_keys",
                "confidence",
            ] {
                let v = about.get(key).and_then(|v| v.as_str()).unwrap_or("");
                assert!(!v.trim().is_empty(), "{file}: about.{key} is missing");
            }
        }
        for about in Rules::builtin().abouts() {
            assert!(about.file.starts_with("data/rules/"), "{}", about.file);
        }
    }

    /// Every figure in the files carries a confidence tag: a number in a
    /// table needs a `*confidence` key in that table or an enclosing one.
    /// Top-level numbers and top-level lists (bands, scales, criteria) fall
    /// back to the file's `about.confidence` when they have none of their own.
    #[test]
    fn figures_carry_confidence_tags() {
        fn walk(file: &str, path: &str, t: &toml::Table, inherited: bool) {
            let tagged = inherited || t.keys().any(|k| k.ends_with("confidence"));
            for (k, v) in t {
                let p = format!("{path}.{k}");
                match v {
                    toml::Value::Integer(_) | toml::Value::Float(_) => {
                        assert!(tagged, "{file}: {p} has no confidence tag");
                    }
                    toml::Value::Table(sub) => walk(file, &p, sub, tagged),
                    toml::Value::Array(items) => {
                        for item in items.iter().filter_map(toml::Value::as_table) {
                            walk(file, &p, item, tagged);
                        }
                    }
                    _ => {}
                }
            }
        }
        for (file, text) in BUILTIN_FILES {
            let table: toml::Table = toml::from_str(text).unwrap();
            for (k, v) in &table {
                match v {
                    toml::Value::Table(sub) => walk(file, k, sub, false),
                    toml::Value::Array(items) => {
                        for item in items.iter().filter_map(toml::Value::as_table) {
                            walk(file, k, item, true);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected() {
        let (name, text) = BUILTIN_FILES[4];
        let typo = text.replace("province_variation =", "province_variaton =");
        let err = Rules::builtin()
            .with_overrides([(name, typo.as_str())])
            .unwrap_err();
        assert!(matches!(err, RulesError::Parse { .. }), "{err}");

        let two_bottoms = text.replace("min = 4.0\n", "");
        let err = Rules::builtin()
            .with_overrides([(name, two_bottoms.as_str())])
            .unwrap_err();
        assert!(err.to_string().contains("exactly one band"), "{err}");

        let unsorted = text.replace(
            "level = \"orange\"\nmin = 9.0",
            "level = \"orange\"\nmin = 2.0",
        );
        let err = Rules::builtin()
            .with_overrides([(name, unsorted.as_str())])
            .unwrap_err();
        assert!(err.to_string().contains("monotone"), "{err}");

        let no_kind = text.replace("kind = \"matrix\"", "kind = \"roads\"");
        let err = Rules::builtin()
            .with_overrides([(name, no_kind.as_str())])
            .unwrap_err();
        assert!(matches!(err, RulesError::UnknownKind { .. }), "{err}");

        let (pname, ptext) = BUILTIN_FILES[2];
        let missing_item = ptext.replace("item = \"f\"\nlevel = 3", "item = \"g\"\nlevel = 3");
        let err = Rules::builtin()
            .with_overrides([(pname, missing_item.as_str())])
            .unwrap_err();
        assert!(err.to_string().contains("liquid"), "{err}");
    }

    #[test]
    fn a_complete_set_is_required_and_kinds_are_unique() {
        let err = Rules::from_toml_strs(BUILTIN_FILES.into_iter().take(5)).unwrap_err();
        assert_eq!(
            err,
            RulesError::Missing {
                kind: "grid".into()
            }
        );
        let twice = BUILTIN_FILES.into_iter().chain([BUILTIN_FILES[0]]);
        assert!(matches!(
            Rules::from_toml_strs(twice),
            Err(RulesError::Duplicate { .. })
        ));
    }

    #[test]
    fn overrides_replace_one_file() {
        let (name, text) = BUILTIN_FILES[4];
        let shandong = text.replace("min = 20.0", "min = 15.0");
        let r = Rules::builtin()
            .with_overrides([("province/matrix.toml", shandong.as_str())])
            .unwrap();
        assert_eq!(r.matrix.about.file, "province/matrix.toml");
        assert_eq!(r.park, Rules::builtin().park);
        assert_ne!(name, r.matrix.about.file);
    }

    #[test]
    fn process_names_match_with_aliases_and_full_width_forms() {
        let p = &Rules::builtin().enterprise.processes;
        assert_eq!(
            p.official_name("电解工艺（氯碱）"),
            Some("电解工艺（氯碱）")
        );
        assert_eq!(p.official_name("电解工艺(氯碱)"), Some("电解工艺（氯碱）"));
        assert_eq!(p.official_name(" 加氢工艺 "), Some("加氢工艺"));
        assert_eq!(p.official_name("裂化工艺"), Some("裂解（裂化）工艺"));
        assert_eq!(p.official_name("蒸馏"), None);
        assert_eq!(p.official_name(""), None);
    }

    #[test]
    fn lec_defaults_fall_back_to_star() {
        let lec = &Rules::builtin().lec;
        assert_eq!(
            lec.default_for(Some("粉尘涉爆")).unwrap().industry,
            "粉尘涉爆"
        );
        assert_eq!(lec.default_for(Some("纺织")).unwrap().industry, "*");
        assert_eq!(lec.default_for(None).unwrap().industry, "*");
    }
}

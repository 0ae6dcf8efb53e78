//! Domain types (领域模型).
//!
//! A [`Feature`] is one stored object: an id, a WGS84 geometry and a typed
//! [`Record`] for its collection. Records serialise to the flat property map of
//! the import schema (`design.md` §4), so what is imported is what is served.
//! Properties the schema does not name are kept in `extra` and round-trip.

use std::fmt;
use std::str::FromStr;

use geo::{BoundingRect, Geometry, Rect};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::dangers::HiddenDanger;
pub use crate::resources::{RescueTeam, Shelter, SupplyDepot};

/// The stored collections (数据集).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Collection {
    /// 企业: hazardous-chemical and other enterprises.
    Enterprises,
    /// 园区: chemical and industrial parks.
    Parks,
    /// 管道/生命线: oil and gas pipelines, urban gas mains.
    Pipelines,
    /// 防护目标: schools, hospitals, homes… that must be protected.
    ProtectionTargets,
    /// 行政区划: administrative districts.
    Districts,
    /// 事故隐患: the hidden-danger register (隐患排查治理).
    HiddenDangers,
    /// 救援队伍: rescue teams (应急资源).
    RescueTeams,
    /// 物资储备库: emergency supply depots (应急资源).
    SupplyDepots,
    /// 应急避难场所: emergency shelters (应急资源).
    Shelters,
}

impl Collection {
    /// Every stored collection, in a stable order.
    pub const ALL: [Collection; 9] = [
        Collection::Enterprises,
        Collection::Parks,
        Collection::Pipelines,
        Collection::ProtectionTargets,
        Collection::Districts,
        Collection::HiddenDangers,
        Collection::RescueTeams,
        Collection::SupplyDepots,
        Collection::Shelters,
    ];

    /// The collection id used in URLs, table names and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Collection::Enterprises => "enterprises",
            Collection::Parks => "parks",
            Collection::Pipelines => "pipelines",
            Collection::ProtectionTargets => "protection_targets",
            Collection::Districts => "districts",
            Collection::HiddenDangers => "hidden_dangers",
            Collection::RescueTeams => "rescue_teams",
            Collection::SupplyDepots => "supply_depots",
            Collection::Shelters => "shelters",
        }
    }

    /// The Chinese title.
    pub fn title_zh(self) -> &'static str {
        match self {
            Collection::Enterprises => "企业",
            Collection::Parks => "园区",
            Collection::Pipelines => "管道",
            Collection::ProtectionTargets => "防护目标",
            Collection::Districts => "行政区划",
            Collection::HiddenDangers => "事故隐患",
            Collection::RescueTeams => "救援队伍",
            Collection::SupplyDepots => "物资储备库",
            Collection::Shelters => "应急避难场所",
        }
    }

    /// The English title.
    pub fn title_en(self) -> &'static str {
        match self {
            Collection::Enterprises => "Enterprises",
            Collection::Parks => "Parks",
            Collection::Pipelines => "Pipelines",
            Collection::ProtectionTargets => "Protection targets",
            Collection::Districts => "Administrative districts",
            Collection::HiddenDangers => "Hidden dangers",
            Collection::RescueTeams => "Rescue teams",
            Collection::SupplyDepots => "Supply depots",
            Collection::Shelters => "Emergency shelters",
        }
    }

    /// Geometry types a feature of this collection may have.
    pub fn allowed_geometries(self) -> &'static [&'static str] {
        match self {
            Collection::Enterprises | Collection::ProtectionTargets => {
                &["Point", "Polygon", "MultiPolygon"]
            }
            Collection::Parks | Collection::Districts => &["Polygon", "MultiPolygon"],
            Collection::Pipelines => &["LineString", "MultiLineString"],
            Collection::HiddenDangers | Collection::RescueTeams | Collection::SupplyDepots => {
                &["Point"]
            }
            Collection::Shelters => &["Point", "Polygon"],
        }
    }
}

impl fmt::Display for Collection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A collection name riskmap does not store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown collection {0:?}: expected one of enterprises, parks, pipelines, protection_targets, districts, hidden_dangers, rescue_teams, supply_depots, shelters"
)]
pub struct UnknownCollection(pub String);

impl FromStr for Collection {
    type Err = UnknownCollection;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Collection::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCollection(s.to_string()))
    }
}

/// Kind of a unit inside an enterprise: 生产单元 or 储存单元 (GB 18218-2018 3.4/3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 生产单元: a production unit, bounded by isolation valves (切断阀).
    Production,
    /// 储存单元: a storage unit, a tank farm within its bund (罐区) or a warehouse (库房).
    Storage,
}

/// One hazardous substance held in a unit (危险化学品及其数量).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Substance {
    /// Name (品名), Chinese or English.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// CAS registry number (CAS号).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cas: Option<String>,
    /// Maximum quantity present, in tonnes (实际存在量 q, t).
    pub quantity_t: f64,
    /// GB 18218-2018 Table 2 hazard categories (危险性类别, e.g. `W5.3`), needed
    /// when the substance is not named in Table 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hazard_categories: Vec<String>,
}

/// A production or storage unit (生产单元/储存单元) of an enterprise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unit {
    /// Unit id, unique within the enterprise (e.g. `T-101`).
    pub id: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Production or storage.
    pub kind: UnitKind,
    /// Unit outline or location in WGS84, when known.
    #[serde(
        default,
        with = "geometry_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub geometry: Option<Geometry<f64>>,
    /// Inventory (危险化学品清单).
    #[serde(default)]
    pub substances: Vec<Substance>,
    /// Key supervised hazardous processes (重点监管危险化工工艺) run in the unit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<String>,
}

/// Severity of a production-safety accident (生产安全事故等级).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccidentSeverity {
    /// 一般事故.
    General,
    /// 较大事故.
    Larger,
    /// 重大事故.
    Major,
    /// 特别重大事故.
    EspeciallyMajor,
}

/// One accident in an enterprise's history (事故记录).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accident {
    /// Date, `YYYY-MM-DD`.
    pub date: String,
    /// Severity class.
    pub severity: AccidentSeverity,
    /// Deaths (死亡人数).
    #[serde(default)]
    pub deaths: u32,
}

/// An enterprise (企业).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enterprise {
    /// Name (企业名称).
    pub name: String,
    /// Unified social credit code (统一社会信用代码, GB 32100-2015).
    #[serde(default)]
    pub credit_code: Option<String>,
    /// Industry (行业), e.g. 化工, 石化, 仓储物流, 机械制造.
    #[serde(default)]
    pub industry: Option<String>,
    /// 6-digit administrative division code (行政区划代码).
    #[serde(default)]
    pub district_code: Option<String>,
    /// Park id when inside a park (所属园区).
    #[serde(default)]
    pub park_id: Option<String>,
    /// Employees (从业人员数).
    #[serde(default)]
    pub employees: Option<u32>,
    /// Work-safety standardisation level (安全生产标准化等级), 1 (一级) to 3 (三级).
    #[serde(default)]
    pub standardization_level: Option<u8>,
    /// Accident history (事故记录).
    #[serde(default)]
    pub accidents: Vec<Accident>,
    /// Production and storage units (生产单元/储存单元).
    #[serde(default)]
    pub units: Vec<Unit>,
    /// New or existing installation (新建/在役装置, GB 36894-2018 表1): decides
    /// which individual-risk criterion applies around the site. Required on
    /// import for every enterprise that holds a hazardous substance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub installation: Option<Installation>,
    /// The 重大危险源 registration record (登记建档与备案, 国家安监总局令第40号),
    /// when the enterprise has a major hazard installation on file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Boxed: most enterprises have none, and a record costs memory per enterprise.
    pub major_hazard_registration: Option<Box<MajorHazardRegistration>>,
    /// What inspections found on the items of the 2018 diagnosis guide that
    /// the registration data cannot answer (检查发现: 人员资质, 自控与安全设施,
    /// 设备, 管理制度, 直接判定为红色 1–3 …), recorded by regulators.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inspection_findings: Vec<InspectionFinding>,
    /// Properties outside the schema, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A heading of the 2018 diagnosis guide (危险化学品生产储存企业安全风险评估诊断分级指南)
/// that the data model cannot score from registration data, and that an
/// inspection finding answers. The names are the `not_assessed` keys of
/// `data/rules/enterprise-diagnosis-2018.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosisItem {
    /// 火灾爆炸危险性.
    FireExplosion,
    /// 设计与评估.
    DesignAssessment,
    /// 设备.
    Equipment,
    /// 自控与安全设施.
    Automation,
    /// 人员资质.
    Personnel,
    /// 管理制度.
    Management,
    /// 应急管理.
    Emergency,
    /// 社会影响事件 (安全管理绩效).
    SocialImpactIncident,
    /// 直接判定为红色 第1项: an untested new process.
    RedNewProcess,
    /// 直接判定为红色 第2项: a plant never formally designed.
    RedNoDesign,
    /// 直接判定为红色 第3项: special-operation workers without certificates.
    RedSpecialWorkers,
}

impl DiagnosisItem {
    /// Every heading, in the guide's order.
    pub const ALL: [DiagnosisItem; 11] = [
        DiagnosisItem::FireExplosion,
        DiagnosisItem::DesignAssessment,
        DiagnosisItem::Equipment,
        DiagnosisItem::Automation,
        DiagnosisItem::Personnel,
        DiagnosisItem::Management,
        DiagnosisItem::Emergency,
        DiagnosisItem::SocialImpactIncident,
        DiagnosisItem::RedNewProcess,
        DiagnosisItem::RedNoDesign,
        DiagnosisItem::RedSpecialWorkers,
    ];

    /// The key, as in the rules file.
    pub fn as_str(self) -> &'static str {
        match self {
            DiagnosisItem::FireExplosion => "fire_explosion",
            DiagnosisItem::DesignAssessment => "design_assessment",
            DiagnosisItem::Equipment => "equipment",
            DiagnosisItem::Automation => "automation",
            DiagnosisItem::Personnel => "personnel",
            DiagnosisItem::Management => "management",
            DiagnosisItem::Emergency => "emergency",
            DiagnosisItem::SocialImpactIncident => "social_impact_incident",
            DiagnosisItem::RedNewProcess => "red_new_process",
            DiagnosisItem::RedNoDesign => "red_no_design",
            DiagnosisItem::RedSpecialWorkers => "red_special_workers",
        }
    }

    /// The heading with this key.
    pub fn parse(key: &str) -> Option<DiagnosisItem> {
        DiagnosisItem::ALL.into_iter().find(|i| i.as_str() == key)
    }

    /// Whether a deficiency here makes the enterprise red outright
    /// (直接判定为红色) rather than costing points.
    pub fn is_automatic_red(self) -> bool {
        matches!(
            self,
            DiagnosisItem::RedNewProcess
                | DiagnosisItem::RedNoDesign
                | DiagnosisItem::RedSpecialWorkers
        )
    }
}

/// What an inspection found on one diagnosis heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingResult {
    /// 符合: nothing to deduct.
    Compliant,
    /// 不符合: the recorded points are deducted (or, for 直接判定为红色
    /// items, the enterprise is red).
    Deficient,
}

/// One inspection finding (检查发现) on a diagnosis heading of an enterprise.
/// The latest finding per heading answers it; a deficient finding that names
/// a hidden danger stops counting once that danger is closed (销号).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectionFinding {
    /// The finding's reference (检查记录编号), unique within the enterprise.
    pub id: String,
    /// The heading it answers.
    pub item: DiagnosisItem,
    /// Inspection date, `YYYY-MM-DD`.
    pub date: String,
    /// 符合 or 不符合.
    pub result: FindingResult,
    /// Points deducted under the guide's line (扣分), for a deficient finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deduction: Option<f64>,
    /// Points added (加分), where the heading has a bonus (e.g. 人员资质
    /// 化学化工类专业负责人, 应急管理 专职消防队伍).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus: Option<f64>,
    /// The guide's line or another clause the finding applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clause: Option<String>,
    /// Who inspected (检查人员/单位).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inspector: Option<String>,
    /// What was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The hidden danger the deficiency was registered as, by feature id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub danger_id: Option<String>,
}

/// The 重大危险源 registration record of an enterprise (国家安监总局令第40号;
/// 包保责任制, 应急厅〔2021〕12号). Dates are `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MajorHazardRegistration {
    /// 登记建档 date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered: Option<String>,
    /// 备案 date (filed with the county regulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filed: Option<String>,
    /// The last 安全评估 (safety assessment); the next is due three years on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_assessment: Option<String>,
    /// 主要负责人 (包保: overall).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// 技术负责人 (包保: technical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technical: Option<String>,
    /// 操作负责人 (包保: operation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operational: Option<String>,
    /// The responsible regulator (监管责任单位).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regulator: Option<String>,
}

/// Whether a site's installations are new or existing (新建装置/在役装置,
/// GB 36894-2018): new installations must meet the stricter individual-risk
/// criteria.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Installation {
    /// 新建装置 (new, extended or rebuilt).
    New,
    /// 在役装置 (in service).
    Existing,
}

impl Installation {
    /// `new` or `existing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Installation::New => "new",
            Installation::Existing => "existing",
        }
    }
}

/// Kind of park (园区类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParkKind {
    /// 化工园区.
    Chemical,
    /// 工业园区.
    Industrial,
    /// 物流园区.
    Logistics,
    /// Other.
    Other,
}

/// A park (园区).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Park {
    /// Name (园区名称).
    pub name: String,
    /// Kind.
    pub kind: ParkKind,
    /// Safety-risk assessment score 0–100 (化工园区安全风险评估得分), when assessed.
    #[serde(default)]
    pub assessment_score: Option<f64>,
    /// Properties outside the schema, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Kind of pipeline (管道类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PipelineKind {
    /// 输气管道: gas transmission pipeline.
    GasTransmission,
    /// 输油管道: oil pipeline.
    Oil,
    /// 城镇燃气管道: urban gas main.
    UrbanGas,
    /// Other lifelines.
    Other,
}

/// A pipeline (管道).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// Name (管道名称).
    pub name: String,
    /// Kind.
    pub kind: PipelineKind,
    /// Outside diameter in mm (管径).
    pub diameter_mm: f64,
    /// Maximum allowable operating pressure in MPa (最大允许操作压力 MAOP).
    pub maop_mpa: f64,
    /// Medium (输送介质), e.g. 天然气, 原油.
    #[serde(default)]
    pub medium: Option<String>,
    /// Pipe material (管材), e.g. L485.
    #[serde(default)]
    pub material: Option<String>,
    /// Year built (建成年份).
    #[serde(default)]
    pub year_built: Option<u16>,
    /// Operator (运营单位).
    #[serde(default)]
    pub operator: Option<String>,
    /// Properties outside the schema, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Category of a protection target (防护目标类别).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetCategory {
    /// 学校.
    School,
    /// 幼儿园.
    Kindergarten,
    /// 医院.
    Hospital,
    /// 养老院/福利院.
    NursingHome,
    /// 住宅/居住区.
    Residential,
    /// 办公场所.
    Office,
    /// 商场.
    Mall,
    /// 宾馆.
    Hotel,
    /// 体育场馆.
    Stadium,
    /// 交通枢纽.
    TransportHub,
    /// 文物保护单位.
    CulturalRelic,
    /// 宗教场所.
    Religious,
    /// Other.
    Other,
}

impl TargetCategory {
    /// Every category, as named in the import schema.
    pub const NAMES: [&'static str; 13] = [
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
}

/// A protection target (防护目标, GB 36894-2018).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtectionTarget {
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Category.
    pub category: TargetCategory,
    /// People present (人数).
    #[serde(default)]
    pub population: Option<u32>,
    /// Households (户数).
    #[serde(default)]
    pub households: Option<u32>,
    /// Beds (床位数).
    #[serde(default)]
    pub beds: Option<u32>,
    /// Floor area in m² (建筑面积).
    #[serde(default)]
    pub floor_area_m2: Option<f64>,
    /// Properties outside the schema, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An administrative district (行政区划). Its feature id is its 6-digit code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct District {
    /// 6-digit administrative division code (行政区划代码, GB/T 2260).
    pub code: String,
    /// Name.
    pub name: String,
    /// Level (级别): province, city, district, county, street…
    #[serde(default)]
    pub level: Option<String>,
    /// Properties outside the schema, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The typed payload of a feature, one variant per collection.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// An enterprise.
    Enterprise(Enterprise),
    /// A park.
    Park(Park),
    /// A pipeline.
    Pipeline(Pipeline),
    /// A protection target.
    ProtectionTarget(ProtectionTarget),
    /// A district.
    District(District),
    /// A hidden danger (事故隐患).
    HiddenDanger(HiddenDanger),
    /// A rescue team (救援队伍).
    RescueTeam(RescueTeam),
    /// A supply depot (物资储备库).
    SupplyDepot(SupplyDepot),
    /// An emergency shelter (应急避难场所).
    Shelter(Shelter),
}

impl Record {
    /// The collection this record belongs to.
    pub fn collection(&self) -> Collection {
        match self {
            Record::Enterprise(_) => Collection::Enterprises,
            Record::Park(_) => Collection::Parks,
            Record::Pipeline(_) => Collection::Pipelines,
            Record::ProtectionTarget(_) => Collection::ProtectionTargets,
            Record::District(_) => Collection::Districts,
            Record::HiddenDanger(_) => Collection::HiddenDangers,
            Record::RescueTeam(_) => Collection::RescueTeams,
            Record::SupplyDepot(_) => Collection::SupplyDepots,
            Record::Shelter(_) => Collection::Shelters,
        }
    }

    /// Display name, when the record has one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Record::Enterprise(e) => Some(&e.name),
            Record::Park(p) => Some(&p.name),
            Record::Pipeline(p) => Some(&p.name),
            Record::ProtectionTarget(t) => t.name.as_deref(),
            Record::District(d) => Some(&d.name),
            Record::HiddenDanger(_) => None,
            Record::RescueTeam(r) => Some(&r.name),
            Record::SupplyDepot(r) => Some(&r.name),
            Record::Shelter(r) => Some(&r.name),
        }
    }

    /// The flat property map of the import schema.
    pub fn to_properties(&self) -> Map<String, Value> {
        let v = match self {
            Record::Enterprise(r) => serde_json::to_value(r),
            Record::Park(r) => serde_json::to_value(r),
            Record::Pipeline(r) => serde_json::to_value(r),
            Record::ProtectionTarget(r) => serde_json::to_value(r),
            Record::District(r) => serde_json::to_value(r),
            Record::HiddenDanger(r) => serde_json::to_value(r),
            Record::RescueTeam(r) => serde_json::to_value(r),
            Record::SupplyDepot(r) => serde_json::to_value(r),
            Record::Shelter(r) => serde_json::to_value(r),
        };
        match v {
            Ok(Value::Object(m)) => m,
            // Records are plain data with string keys: serialisation cannot fail.
            _ => Map::new(),
        }
    }

    /// Rebuilds a record from properties this crate wrote ([`Record::to_properties`]).
    ///
    /// Use [`crate::import`] for untrusted input: it validates and reports every
    /// error; this is for data already validated, e.g. read back from the store.
    pub fn from_trusted_properties(
        collection: Collection,
        props: Map<String, Value>,
    ) -> Result<Record, serde_json::Error> {
        let v = Value::Object(props);
        Ok(match collection {
            Collection::Enterprises => Record::Enterprise(serde_json::from_value(v)?),
            Collection::Parks => Record::Park(serde_json::from_value(v)?),
            Collection::Pipelines => Record::Pipeline(serde_json::from_value(v)?),
            Collection::ProtectionTargets => Record::ProtectionTarget(serde_json::from_value(v)?),
            Collection::Districts => Record::District(serde_json::from_value(v)?),
            Collection::HiddenDangers => Record::HiddenDanger(serde_json::from_value(v)?),
            Collection::RescueTeams => Record::RescueTeam(serde_json::from_value(v)?),
            Collection::SupplyDepots => Record::SupplyDepot(serde_json::from_value(v)?),
            Collection::Shelters => Record::Shelter(serde_json::from_value(v)?),
        })
    }
}

/// One stored feature: id, WGS84 geometry and its typed record.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Feature id, unique within its collection.
    pub id: String,
    /// Geometry in WGS84 longitude/latitude.
    pub geometry: Geometry<f64>,
    /// The typed payload.
    pub record: Record,
    /// The last change time (最后更新时间): RFC 3339 UTC with milliseconds,
    /// set by the server when the feature is written and kept by the
    /// store; `None` for a feature not yet stored. Served as the
    /// `updated` property, the temporal property `datetime` tests.
    pub updated: Option<String>,
}

impl Feature {
    /// The collection of this feature.
    pub fn collection(&self) -> Collection {
        self.record.collection()
    }

    /// Bounding box of the geometry. Validated geometries are never empty; an
    /// empty one yields a degenerate box at the origin.
    pub fn bbox(&self) -> Rect<f64> {
        self.geometry
            .bounding_rect()
            .unwrap_or_else(|| Rect::new((0.0, 0.0), (0.0, 0.0)))
    }
}

/// Serde for an optional `geo::Geometry` as a GeoJSON geometry object.
pub mod geometry_serde {
    use geo::Geometry;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serialises as a GeoJSON geometry object.
    pub fn serialize<S: Serializer>(g: &Option<Geometry<f64>>, s: S) -> Result<S::Ok, S::Error> {
        match g {
            Some(g) => geojson::Geometry::new(geojson::GeometryValue::from(g)).serialize(s),
            None => s.serialize_none(),
        }
    }

    /// Deserialises from a GeoJSON geometry object.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Geometry<f64>>, D::Error> {
        let g: Option<geojson::Geometry> = Option::deserialize(d)?;
        g.map(|g| Geometry::<f64>::try_from(g).map_err(serde::de::Error::custom))
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_names_round_trip() {
        for c in Collection::ALL {
            assert_eq!(c.as_str().parse::<Collection>().unwrap(), c);
        }
        assert!("roads".parse::<Collection>().is_err());
    }

    #[test]
    fn target_category_names_match_serde() {
        for n in TargetCategory::NAMES {
            let c: TargetCategory = serde_json::from_value(Value::String(n.into())).unwrap();
            assert_eq!(serde_json::to_value(c).unwrap(), Value::String(n.into()));
        }
    }
}

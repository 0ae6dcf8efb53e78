//! Emergency resources (应急资源): rescue teams (救援队伍), supply depots
//! (物资储备库) and shelters (应急避难场所). Stored and served like every
//! collection; validated by `import` field by field. They are not scored.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Kind of rescue team (队伍类型).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamKind {
    /// 消防救援.
    Fire,
    /// 危险化学品救援.
    Hazmat,
    /// 医疗救护.
    Medical,
    /// 矿山救护.
    Mine,
    /// Other.
    Other,
}

impl TeamKind {
    /// Every kind, as named in the import schema.
    pub const NAMES: [&'static str; 5] = ["fire", "hazmat", "medical", "mine", "other"];
}

/// A rescue team (救援队伍).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RescueTeam {
    /// Name (队伍名称).
    pub name: String,
    /// Kind.
    pub kind: TeamKind,
    /// Members (队员人数).
    #[serde(default)]
    pub members: Option<u32>,
    /// Equipment (主要装备), as text.
    #[serde(default)]
    pub equipment: Option<String>,
    /// Contact (联系方式); hidden under `--public-read limited`.
    #[serde(default)]
    pub contact: Option<String>,
    /// Expected time to mobilise, minutes (预计准备时间).
    #[serde(default)]
    pub mobilisation_min: Option<f64>,
    /// 6-digit division code of its district (行政区划代码).
    #[serde(default)]
    pub district_code: Option<String>,
    /// A sample record (示例数据), not a real one.
    #[serde(default)]
    pub sample: Option<bool>,
    /// Properties outside the schema, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One kind of stock in a depot (储备物资).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplyItem {
    /// Name (物资名称).
    pub name: String,
    /// Quantity (数量), ≥ 0.
    pub quantity: f64,
    /// Unit (单位), e.g. 顶, 件, t.
    #[serde(default)]
    pub unit: Option<String>,
}

/// A supply depot (物资储备库).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SupplyDepot {
    /// Name (储备库名称).
    pub name: String,
    /// Stock (储备物资).
    #[serde(default)]
    pub items: Vec<SupplyItem>,
    /// Contact (联系方式); hidden under `--public-read limited`.
    #[serde(default)]
    pub contact: Option<String>,
    /// 6-digit division code of its district (行政区划代码).
    #[serde(default)]
    pub district_code: Option<String>,
    /// A sample record (示例数据), not a real one.
    #[serde(default)]
    pub sample: Option<bool>,
    /// Properties outside the schema, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Class of a shelter (避难场所类别).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShelterClass {
    /// 紧急避难场所.
    Emergency,
    /// 固定避难场所.
    Fixed,
    /// 中心避难场所.
    Central,
}

impl ShelterClass {
    /// Every class, as named in the import schema.
    pub const NAMES: [&'static str; 3] = ["emergency", "fixed", "central"];
}

/// An emergency shelter (应急避难场所).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shelter {
    /// Name (场所名称).
    pub name: String,
    /// Class.
    pub class: ShelterClass,
    /// People it holds (容纳人数).
    pub capacity_persons: u32,
    /// Area in m² (占地面积), > 0.
    #[serde(default)]
    pub area_m2: Option<f64>,
    /// 6-digit division code of its district (行政区划代码).
    #[serde(default)]
    pub district_code: Option<String>,
    /// A sample designation (示例数据), not a real one.
    #[serde(default)]
    pub sample: Option<bool>,
    /// Properties outside the schema, kept as given.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

//! Code separation distances (规范防火间距) for the "other cases" branch of
//! GB/T 37243-2019 §4, from `data/rules/code-distances.toml` (embedded).
//! **Every distance is UNCONFIRMED**: the shared references name the codes
//! but none of their numbers.
//!
//! The facility kind of a unit follows from its substances' 火灾危险性
//! (`fire_class` in `qra-substances.toml`, else from the GB 18218 hazard
//! categories: W2 → 甲 gas, W5.1–W5.3 → 甲B liquid, W5.4 → 乙A liquid,
//! W6/W7/W8/W10/W11 → 甲 solid; project convention, UNCONFIRMED) and state:
//!
//! | unit | substance | facility kind |
//! |---|---|---|
//! | storage | 甲A (liquefied flammable gas) | [`FacilityKind::LiquefiedHydrocarbonTankFarm`] 液化烃罐组 |
//! | storage | 甲B/乙A/乙B liquid | [`FacilityKind::FlammableLiquidTankFarm`] 甲、乙类液体罐组 |
//! | storage | 甲/乙 gas or liquefied gas not 甲A | [`FacilityKind::FlammableGasStorage`] 可燃气体罐组 |
//! | storage | 甲 solid | [`FacilityKind::WarehouseA`] 甲类仓库 |
//! | production | any 甲/乙 substance | [`FacilityKind::ProcessUnitAb`] 甲、乙类工艺装置 and [`FacilityKind::PlantBuildingAb`] 甲、乙类厂房 |
//!
//! Toxic-only units (e.g. liquid chlorine below its critical quantity) have
//! no row here: no code distance is returned for them.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use riskmap_core::model::{Unit, UnitKind};

use crate::confidence::Confidence;
use crate::error::SafetyError;
use crate::qra::rules::{PhysicalState, QraRules};
use crate::siting::props;
use crate::targets::TargetClass;

const TABLE_NAME: &str = "code-distances.toml";

static EMBEDDED: LazyLock<CodeDistanceTable> = LazyLock::new(|| {
    CodeDistanceTable::from_toml_str(riskmap_core::rule_set::text("code-distances.toml"))
        .expect("code-distances.toml in force is valid (checked at start)")
});

/// Kind of facility a code distance is tabulated for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// 液化烃罐组.
    LiquefiedHydrocarbonTankFarm,
    /// 甲、乙类液体罐组.
    FlammableLiquidTankFarm,
    /// 可燃气体罐组.
    FlammableGasStorage,
    /// 甲、乙类工艺装置或设施.
    ProcessUnitAb,
    /// 甲、乙类厂房.
    PlantBuildingAb,
    /// 甲类仓库.
    WarehouseA,
}

/// One row of `code-distances.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeDistanceRow {
    /// Facility kind.
    pub facility: FacilityKind,
    /// Facility, as the code names it.
    pub facility_zh: String,
    /// GB 36894 target classes the row applies to.
    pub target_classes: Vec<TargetClass>,
    /// The code's own name of the target.
    pub target_zh: String,
    /// Distance, m.
    pub distance_m: f64,
    /// Standard, e.g. `GB 50160-2008(2018年版)`.
    pub standard: String,
    /// Clause (table).
    pub clause: String,
    /// Confidence.
    pub confidence: Confidence,
}

/// A code distance that applies to a set of units and a target class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeDistance {
    /// Distance, m.
    pub distance_m: f64,
    /// Facility, as the code names it (e.g. 液化烃罐组).
    pub facility: String,
    /// Facility kind.
    pub facility_kind: FacilityKind,
    /// The code's name of the target.
    pub target: String,
    /// Standard.
    pub standard: String,
    /// Clause.
    pub clause: String,
    /// True when the distance is UNCONFIRMED.
    pub unconfirmed: bool,
    /// Units of that facility kind.
    pub units: Vec<String>,
}

#[derive(Deserialize)]
struct Raw {
    table_status: String,
    row: Vec<CodeDistanceRow>,
}

/// The code-distance table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CodeDistanceTable {
    /// Status of the whole table (UNCONFIRMED).
    pub table_status: String,
    /// Rows in file order.
    pub rows: Vec<CodeDistanceRow>,
}

/// The facility kinds of a unit (see the module table).
pub fn facility_kinds(unit: &Unit, rules: &QraRules) -> Vec<FacilityKind> {
    let mut out = Vec::new();
    for s in &unit.substances {
        let row = props(rules, s);
        let cats: Vec<String> = s
            .hazard_categories
            .iter()
            .map(|c| c.trim().to_ascii_uppercase())
            .collect();
        let from_cat = || -> Option<(&'static str, PhysicalState)> {
            if cats.iter().any(|c| c == "W2") {
                Some(("甲", PhysicalState::CompressedGas))
            } else if cats
                .iter()
                .any(|c| matches!(c.as_str(), "W5.1" | "W5.2" | "W5.3"))
            {
                Some(("甲B", PhysicalState::Liquid))
            } else if cats.iter().any(|c| c == "W5.4") {
                Some(("乙A", PhysicalState::Liquid))
            } else if cats.iter().any(|c| {
                ["W6", "W7", "W8", "W10", "W11"]
                    .iter()
                    .any(|p| c == p || c.starts_with(&format!("{p}.")))
            }) {
                Some(("甲", PhysicalState::Solid))
            } else {
                None
            }
        };
        let (class, state): (String, PhysicalState) =
            match row.and_then(|p| p.fire_class.clone().map(|c| (c, p.state))) {
                Some(v) => v,
                None => match from_cat() {
                    Some((c, st)) => (c.to_string(), st),
                    None => continue,
                },
            };
        let ab = class.starts_with('甲') || class.starts_with('乙');
        if !ab {
            continue;
        }
        let kinds: Vec<FacilityKind> = match unit.kind {
            UnitKind::Production => {
                vec![FacilityKind::ProcessUnitAb, FacilityKind::PlantBuildingAb]
            }
            UnitKind::Storage => {
                if class == "甲A" {
                    vec![FacilityKind::LiquefiedHydrocarbonTankFarm]
                } else {
                    match state {
                        PhysicalState::Liquid => vec![FacilityKind::FlammableLiquidTankFarm],
                        PhysicalState::Solid => {
                            if class.starts_with('甲') {
                                vec![FacilityKind::WarehouseA]
                            } else {
                                vec![]
                            }
                        }
                        _ => {
                            // Gases: only flammable ones (an oxidiser such as
                            // oxygen is 乙 but not flammable).
                            if row.is_none_or(|p| p.is_flammable()) {
                                vec![FacilityKind::FlammableGasStorage]
                            } else {
                                vec![]
                            }
                        }
                    }
                }
            }
        };
        for k in kinds {
            if !out.contains(&k) {
                out.push(k);
            }
        }
    }
    out
}

impl CodeDistanceTable {
    /// The table in `data/rules/code-distances.toml`, parsed once.
    pub fn embedded() -> &'static CodeDistanceTable {
        &EMBEDDED
    }

    /// Parse and check a table in the format of `code-distances.toml`.
    ///
    /// # Errors
    /// [`SafetyError::Rules`] for a syntax error, a distance that is not a
    /// finite number > 0 or a row without target classes.
    pub fn from_toml_str(text: &str) -> Result<CodeDistanceTable, SafetyError> {
        let err = |message: String| SafetyError::Rules {
            table: TABLE_NAME,
            message,
        };
        let raw: Raw = riskmap_core::rule_set::from_toml(text).map_err(err)?;
        for r in &raw.row {
            if !(r.distance_m.is_finite() && r.distance_m > 0.0) || r.target_classes.is_empty() {
                return Err(err(format!(
                    "{:?} ({}): distance must be > 0 and target_classes non-empty",
                    r.facility, r.standard
                )));
            }
        }
        Ok(CodeDistanceTable {
            table_status: raw.table_status,
            rows: raw.row,
        })
    }

    /// Every row that applies to a facility kind of one of `units` and to
    /// target class `class`, strictest (largest distance) first, with the
    /// units of that kind. Uses the embedded substance properties.
    pub fn required(&self, units: &[Unit], class: TargetClass) -> Vec<CodeDistance> {
        self.required_with(units, class, QraRules::embedded())
    }

    /// [`CodeDistanceTable::required`] with the substance properties of `rules`.
    pub fn required_with(
        &self,
        units: &[Unit],
        class: TargetClass,
        rules: &QraRules,
    ) -> Vec<CodeDistance> {
        let kinds: Vec<(String, Vec<FacilityKind>)> = units
            .iter()
            .map(|u| (u.id.clone(), facility_kinds(u, rules)))
            .collect();
        let mut out: Vec<CodeDistance> = self
            .rows
            .iter()
            .filter(|r| r.target_classes.contains(&class))
            .filter_map(|r| {
                let us: Vec<String> = kinds
                    .iter()
                    .filter(|(_, ks)| ks.contains(&r.facility))
                    .map(|(id, _)| id.clone())
                    .collect();
                (!us.is_empty()).then(|| CodeDistance {
                    distance_m: r.distance_m,
                    facility: r.facility_zh.clone(),
                    facility_kind: r.facility,
                    target: r.target_zh.clone(),
                    standard: r.standard.clone(),
                    clause: r.clause.clone(),
                    unconfirmed: r.confidence.is_unconfirmed()
                        || self.table_status == "UNCONFIRMED",
                    units: us,
                })
            })
            .collect();
        out.sort_by(|a, b| b.distance_m.total_cmp(&a.distance_m));
        out
    }
}

//! Effect thresholds (影响阈值) for consequence footprints, from the rule
//! table `data/rules/consequence-thresholds.toml` (embedded at compile
//! time): ALOHA-style thermal zones (10 / 5 / 2 kW/m²), the World Bank
//! thermal table, Chinese overpressure damage bands, the GB 6722 air-blast
//! limits (placeholders for the unretrieved GB/T 37243 Annex G values),
//! Purple Book lethality rules, and toxic endpoints (IDLH, ERPG, AEGL,
//! HJ 169-2018) for chlorine, ammonia and H₂S.
//!
//! Levels are grouped in named `set`s so that a caller asks for, e.g., the
//! `aloha` thermal levels and passes them to a model's `evaluate`.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;
use crate::consequence::units::ppm_to_kg_per_m3;
use crate::error::{SafetyError, positive};

const TABLE_NAME: &str = "consequence-thresholds.toml";
#[cfg(test)]
const EMBEDDED_TOML: &str = include_str!("../../../../data/rules/consequence-thresholds.toml");

static EMBEDDED: LazyLock<EffectThresholds> = LazyLock::new(|| {
    EffectThresholds::from_toml_str(riskmap_core::rule_set::text("consequence-thresholds.toml"))
        .expect("consequence-thresholds.toml in force is valid (checked at start)")
});

/// A heat-flux threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThermalThreshold {
    /// Id, unique within its set.
    pub id: String,
    /// Set, e.g. `aloha`.
    pub set: String,
    /// Heat flux, W/m².
    pub w_per_m2: f64,
    /// Exposure the effect refers to, s.
    #[serde(default)]
    pub exposure_s: Option<f64>,
    /// Effect (English).
    pub effect: String,
    /// Effect (Chinese).
    #[serde(default)]
    pub effect_zh: Option<String>,
    /// Confidence tag ([`Confidence::Memory`] = UNCONFIRMED).
    pub confidence: Confidence,
    /// Source.
    pub source: String,
}

/// A side-on overpressure threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverpressureThreshold {
    /// Id, unique within its set.
    pub id: String,
    /// Set, e.g. `cn_people`.
    pub set: String,
    /// Overpressure, Pa.
    pub pa: f64,
    /// Effect (English).
    pub effect: String,
    /// Effect (Chinese).
    #[serde(default)]
    pub effect_zh: Option<String>,
    /// Confidence tag ([`Confidence::Memory`] = UNCONFIRMED).
    pub confidence: Confidence,
    /// Source.
    pub source: String,
}

/// A toxic concentration threshold, as published (ppm or mg/m³).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToxicThreshold {
    /// Id, unique within its set.
    pub id: String,
    /// Set, e.g. `idlh`, `erpg2`, `hj169_endpoint_1`.
    pub set: String,
    /// Substance key, as in the toxic-probit table.
    pub substance: String,
    /// CAS number.
    pub cas: String,
    /// Molar mass, g/mol.
    pub molar_mass_g_per_mol: f64,
    /// Value in ppm, when published so.
    #[serde(default)]
    pub ppm: Option<f64>,
    /// Value in mg/m³, when published so.
    #[serde(default)]
    pub mg_per_m3: Option<f64>,
    /// Exposure duration the value refers to, min.
    #[serde(default)]
    pub duration_min: Option<f64>,
    /// Effect.
    pub effect: String,
    /// Confidence tag ([`Confidence::Memory`] = UNCONFIRMED).
    pub confidence: Confidence,
    /// Source.
    pub source: String,
    /// Molar volume for ppm conversion, L/mol; filled from the table.
    #[serde(default)]
    pub molar_volume_l_per_mol: f64,
}

impl ToxicThreshold {
    /// The threshold in kg/m³.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless exactly one of `ppm` /
    /// `mg_per_m3` is given as a finite number > 0 (and, for ppm, the molar
    /// mass and molar volume are finite numbers > 0).
    pub fn kg_per_m3(&self) -> Result<f64, SafetyError> {
        match (self.ppm, self.mg_per_m3) {
            (Some(ppm), None) => {
                let v = positive("ppm", ppm)?;
                let m = positive("molar_mass_g_per_mol", self.molar_mass_g_per_mol)?;
                let vm = positive("molar_volume_l_per_mol", self.molar_volume_l_per_mol)?;
                Ok(ppm_to_kg_per_m3(v, m, vm))
            }
            (None, Some(mg)) => Ok(positive("mg_per_m3", mg)? * 1e-6),
            (Some(ppm), Some(_)) => Err(SafetyError::InvalidInput {
                field: "ppm",
                value: ppm,
                expected: "exactly one of ppm / mg_per_m3, not both",
            }),
            (None, None) => Err(SafetyError::InvalidInput {
                field: "ppm",
                value: f64::NAN,
                expected: "exactly one of ppm / mg_per_m3",
            }),
        }
    }
}

#[derive(Deserialize)]
struct RawTable {
    molar_volume_l_per_mol: f64,
    #[serde(default)]
    thermal: Vec<ThermalThreshold>,
    #[serde(default)]
    overpressure: Vec<OverpressureThreshold>,
    #[serde(default)]
    toxic: Vec<ToxicThreshold>,
}

/// The effect-threshold table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EffectThresholds {
    /// Heat-flux thresholds.
    pub thermal: Vec<ThermalThreshold>,
    /// Overpressure thresholds.
    pub overpressure: Vec<OverpressureThreshold>,
    /// Toxic thresholds.
    pub toxic: Vec<ToxicThreshold>,
}

impl EffectThresholds {
    /// The table in `data/rules/consequence-thresholds.toml`, parsed once.
    pub fn embedded() -> &'static EffectThresholds {
        &EMBEDDED
    }

    /// Parse and check a table in the format of `consequence-thresholds.toml`.
    ///
    /// # Errors
    /// [`SafetyError::Rules`] for a syntax error, a non-positive value, a
    /// toxic row without exactly one of `ppm` / `mg_per_m3`, or a duplicate
    /// id within a set.
    pub fn from_toml_str(text: &str) -> Result<EffectThresholds, SafetyError> {
        let err = |message: String| SafetyError::Rules {
            table: TABLE_NAME,
            message,
        };
        let raw: RawTable = riskmap_core::rule_set::from_toml(text).map_err(err)?;
        let vm = raw.molar_volume_l_per_mol;
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !pos(vm) {
            return Err(err(format!("molar_volume_l_per_mol = {vm} is not > 0")));
        }
        let mut keys = Vec::new();
        for t in &raw.thermal {
            if !pos(t.w_per_m2) {
                return Err(err(format!("thermal {}: w_per_m2 must be > 0", t.id)));
            }
            keys.push(("thermal", &t.set, &t.id));
        }
        for t in &raw.overpressure {
            if !pos(t.pa) {
                return Err(err(format!("overpressure {}: pa must be > 0", t.id)));
            }
            keys.push(("overpressure", &t.set, &t.id));
        }
        for t in &raw.toxic {
            let ok = match (t.ppm, t.mg_per_m3) {
                (Some(v), None) | (None, Some(v)) => pos(v),
                _ => false,
            };
            if !ok || !pos(t.molar_mass_g_per_mol) {
                return Err(err(format!(
                    "toxic {}: give exactly one of ppm / mg_per_m3 (> 0) and a molar mass",
                    t.id
                )));
            }
            keys.push(("toxic", &t.set, &t.id));
        }
        let mut sorted = keys.clone();
        sorted.sort();
        if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
            return Err(err(format!(
                "duplicate id {} in {} set {}",
                w[0].2, w[0].0, w[0].1
            )));
        }
        let mut toxic = raw.toxic;
        for t in &mut toxic {
            if t.molar_volume_l_per_mol == 0.0 {
                t.molar_volume_l_per_mol = vm;
            }
        }
        Ok(EffectThresholds {
            thermal: raw.thermal,
            overpressure: raw.overpressure,
            toxic,
        })
    }

    /// The heat-flux levels (W/m²) of a set, in file order.
    ///
    /// # Errors
    /// [`SafetyError::UnknownThresholdSet`] when no row has this set (an
    /// empty list would draw no zone at all).
    pub fn thermal_levels(&self, set: &str) -> Result<Vec<f64>, SafetyError> {
        let v: Vec<f64> = self
            .thermal
            .iter()
            .filter(|t| t.set == set)
            .map(|t| t.w_per_m2)
            .collect();
        if v.is_empty() {
            return Err(SafetyError::UnknownThresholdSet {
                kind: "thermal",
                set: set.to_string(),
            });
        }
        Ok(v)
    }

    /// The overpressure levels (Pa) of a set, in file order.
    ///
    /// # Errors
    /// [`SafetyError::UnknownThresholdSet`] when no row has this set.
    pub fn overpressure_levels(&self, set: &str) -> Result<Vec<f64>, SafetyError> {
        let v: Vec<f64> = self
            .overpressure
            .iter()
            .filter(|t| t.set == set)
            .map(|t| t.pa)
            .collect();
        if v.is_empty() {
            return Err(SafetyError::UnknownThresholdSet {
                kind: "overpressure",
                set: set.to_string(),
            });
        }
        Ok(v)
    }

    /// The toxic thresholds for a substance (key or CAS), in file order.
    ///
    /// # Errors
    /// [`SafetyError::UnknownSubstance`] when no row names the substance.
    pub fn toxic_for(&self, substance: &str) -> Result<Vec<&ToxicThreshold>, SafetyError> {
        let v: Vec<&ToxicThreshold> = self
            .toxic
            .iter()
            .filter(|t| t.substance == substance || t.cas == substance)
            .collect();
        if v.is_empty() {
            return Err(SafetyError::UnknownSubstance(substance.to_string()));
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_table_parses() {
        let t = EffectThresholds::embedded();
        assert_eq!(
            t.thermal_levels("aloha").unwrap(),
            vec![10_000.0, 5_000.0, 2_000.0]
        );
        assert_eq!(
            t.thermal_levels("world_bank").unwrap(),
            vec![37_500.0, 25_000.0, 12_500.0, 4_000.0, 1_600.0]
        );
        assert_eq!(
            t.overpressure_levels("gb6722_placeholder").unwrap(),
            vec![2_000.0, 10_000.0]
        );
        // 8 psi = 8·6894.757 = 55 158 Pa.
        assert!((t.overpressure_levels("aloha").unwrap()[0] - 8.0 * 6894.757).abs() < 1.0);
        // A mistyped set is refused, not answered with no levels.
        assert!(matches!(
            t.thermal_levels("alhoa"),
            Err(SafetyError::UnknownThresholdSet { .. })
        ));
        assert!(t.overpressure_levels("").is_err());
        assert!(t.thermal.iter().all(|r| !r.source.is_empty()));
    }

    #[test]
    fn toxic_thresholds_convert() {
        // Chlorine IDLH 10 ppm = 10·70.906/24.465 mg/m³ = 28.98 mg/m³.
        let t = EffectThresholds::embedded();
        let cl = t.toxic_for("chlorine").unwrap();
        let idlh = cl.iter().find(|r| r.set == "idlh").unwrap();
        assert!((idlh.kg_per_m3().unwrap() * 1e6 - 28.98).abs() < 0.01);
        let by_cas = t.toxic_for("7782-50-5").unwrap();
        let hj = by_cas.iter().find(|r| r.set == "hj169_endpoint_1").unwrap();
        assert!((hj.kg_per_m3().unwrap() - 58e-6).abs() < 1e-12);
        assert_eq!(t.toxic_for("ammonia").unwrap().len(), 7);
        assert!(t.toxic_for("unobtainium").is_err());
        let mut bad = (*idlh).clone();
        bad.ppm = Some(f64::NAN);
        assert!(bad.kg_per_m3().is_err());
        bad.ppm = None;
        assert!(bad.kg_per_m3().is_err());
    }

    #[test]
    fn rejects_bad_tables() {
        let dup = EMBEDDED_TOML.replace(
            "id = \"aloha_orange\"\nset = \"aloha\"\nw_per_m2",
            "id = \"aloha_red\"\nset = \"aloha\"\nw_per_m2",
        );
        assert!(matches!(
            EffectThresholds::from_toml_str(&dup),
            Err(SafetyError::Rules { .. })
        ));
        let both = EMBEDDED_TOML.replace("ppm = 10.0\n", "ppm = 10.0\nmg_per_m3 = 29.0\n");
        assert!(EffectThresholds::from_toml_str(&both).is_err());
        assert!(EffectThresholds::from_toml_str("molar_volume_l_per_mol = 0.0").is_err());
    }
}

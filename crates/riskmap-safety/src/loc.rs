//! Levels of concern (LOC) for incident threat zones: red, orange and yellow
//! per hazard, from `data/rules/levels-of-concern.toml`. Toxic levels follow
//! ALOHA's hierarchy tier by tier: the 60-min AEGL, else the ERPG of the
//! same tier. Thermal levels are 10/5/2 kW/m², overpressure about 55/24/7
//! kPa. Every level carries its basis and confidence; an answer that uses
//! a value from memory says it is UNCONFIRMED.

use serde::{Deserialize, Serialize};

use crate::error::SafetyError;

#[cfg(test)]
const EMBEDDED_TOML: &str = include_str!("../../../data/rules/levels-of-concern.toml");

/// One guideline value.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TierValue {
    /// 3 (life-threatening), 2 (irreversible effects) or 1 (discomfort).
    pub tier: u8,
    /// Concentration, ppm by volume.
    pub ppm: f64,
    /// `C`, `C-2` or `M` (UNCONFIRMED).
    pub confidence: String,
}

/// A substance's guideline levels.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubstanceLevels {
    /// Chinese and English name.
    pub name: String,
    /// Other names it is registered under (液氯 for 氯气, the names of
    /// GB 18218 Table 1 and of inventories).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// CAS number.
    pub cas: String,
    /// g/mol.
    pub molar_mass_g_mol: f64,
    /// AEGL, 60 min.
    #[serde(default)]
    pub aegl: Vec<TierValue>,
    /// ERPG.
    #[serde(default)]
    pub erpg: Vec<TierValue>,
    /// NIOSH IDLH, ppm (shown beside the zones, not a zone).
    #[serde(default)]
    pub idlh_ppm: Option<f64>,
    /// Normal boiling point, K (UNCONFIRMED handbook value).
    pub boiling_point_k: f64,
}

/// Thermal levels.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ThermalLevels {
    /// Red, orange, yellow, kW/m².
    pub levels_kw_m2: [f64; 3],
    /// Confidence.
    pub confidence: String,
}

/// Overpressure levels.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OverpressureLevels {
    /// Red, orange, yellow, kPa.
    pub levels_kpa: [f64; 3],
    /// Confidence.
    pub confidence: String,
}

/// Sources.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct About {
    /// Publications.
    pub source: String,
    /// Keys into the domain notes.
    pub source_keys: String,
}

/// `data/rules/levels-of-concern.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LevelsOfConcern {
    /// Sources.
    pub about: About,
    /// Thermal.
    pub thermal: ThermalLevels,
    /// Overpressure.
    pub overpressure: OverpressureLevels,
    /// Toxic, per substance.
    pub substance: Vec<SubstanceLevels>,
}

/// A threat level of an answer: red, orange or yellow.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Loc {
    /// `red`, `orange` or `yellow`.
    pub colour: &'static str,
    /// The value in its unit (ppm, kW/m², kPa).
    pub value: f64,
    /// The unit.
    pub unit: &'static str,
    /// Its basis, e.g. `AEGL-3 (60 min)`, `ERPG-2`, `10 kW/m² (60 s)`.
    pub basis: String,
    /// Whether the value is from memory (UNCONFIRMED).
    pub unconfirmed: bool,
}

/// The colours from worst to least.
pub const COLOURS: [&str; 3] = ["red", "orange", "yellow"];

fn unconfirmed(tag: &str) -> bool {
    !matches!(tag, "C" | "C-2" | "V")
}

impl LevelsOfConcern {
    /// The embedded table.
    pub fn builtin() -> &'static LevelsOfConcern {
        static RULES: std::sync::OnceLock<LevelsOfConcern> = std::sync::OnceLock::new();
        RULES.get_or_init(|| {
            LevelsOfConcern::from_toml_str(riskmap_core::rule_set::text("levels-of-concern.toml"))
                .unwrap_or_else(|e| panic!("data/rules/levels-of-concern.toml: {e}"))
        })
    }

    /// Parses and checks a table: positive values, tiers 1–3 once each and
    /// decreasing with the tier, levels falling from red to yellow.
    pub fn from_toml_str(text: &str) -> Result<LevelsOfConcern, SafetyError> {
        let bad = |message: String| SafetyError::Rules {
            table: "levels-of-concern.toml",
            message,
        };
        let r: LevelsOfConcern = riskmap_core::rule_set::from_toml(text).map_err(bad)?;
        let falling = |v: &[f64; 3]| {
            v.iter().all(|x| x.is_finite() && *x > 0.0) && v[0] > v[1] && v[1] > v[2]
        };
        if !falling(&r.thermal.levels_kw_m2) || !falling(&r.overpressure.levels_kpa) {
            return Err(bad(
                "thermal and overpressure levels must be > 0 and fall from red to yellow".into(),
            ));
        }
        for s in &r.substance {
            for (name, list) in [("aegl", &s.aegl), ("erpg", &s.erpg)] {
                let mut seen = [None::<f64>; 4];
                for t in list {
                    if !((1..=3).contains(&t.tier) && t.ppm.is_finite() && t.ppm > 0.0) {
                        return Err(bad(format!("{} {name}: tiers 1–3 with ppm > 0", s.cas)));
                    }
                    if seen[usize::from(t.tier)].replace(t.ppm).is_some() {
                        return Err(bad(format!("{} {name}: tier {} twice", s.cas, t.tier)));
                    }
                }
                let v: Vec<f64> = (1..=3).filter_map(|i| seen[i]).collect();
                if v.windows(2).any(|w| w[1] <= w[0]) {
                    return Err(bad(format!(
                        "{} {name}: a higher tier must be a higher concentration",
                        s.cas
                    )));
                }
            }
            if !(s.molar_mass_g_mol.is_finite() && s.molar_mass_g_mol > 0.0) {
                return Err(bad(format!("{}: molar_mass_g_mol must be > 0", s.cas)));
            }
        }
        Ok(r)
    }

    /// A substance by CAS number or by a name it contains (Chinese or
    /// English, case-insensitive).
    pub fn substance(&self, key: &str) -> Option<&SubstanceLevels> {
        let k = key.trim().to_lowercase();
        if k.is_empty() {
            return None;
        }
        self.substance.iter().find(|s| s.cas == k).or_else(|| {
            self.substance.iter().find(|s| {
                s.name.to_lowercase().split_whitespace().any(|w| w == k)
                    || s.name.to_lowercase() == k
                    || s.aliases.iter().any(|a| a.to_lowercase() == k)
            })
        })
    }

    /// The toxic levels of a substance, red to yellow: AEGL-3/2/1 (60 min),
    /// each falling back to the ERPG of its tier; a tier with neither is
    /// left out.
    pub fn toxic(&self, s: &SubstanceLevels) -> Vec<Loc> {
        (0..3)
            .filter_map(|i| {
                let tier = 3 - i as u8;
                let pick = |list: &[TierValue], label: &str| {
                    list.iter().find(|t| t.tier == tier).map(|t| Loc {
                        colour: COLOURS[i],
                        value: t.ppm,
                        unit: "ppm",
                        basis: format!("{label}-{tier}"),
                        unconfirmed: unconfirmed(&t.confidence),
                    })
                };
                pick(&s.aegl, "AEGL")
                    .map(|mut l| {
                        l.basis.push_str(" (60 min)");
                        l
                    })
                    .or_else(|| pick(&s.erpg, "ERPG"))
            })
            .collect()
    }

    /// Thermal levels, red to yellow (kW/m², 60 s).
    pub fn thermal(&self) -> Vec<Loc> {
        (0..3)
            .map(|i| Loc {
                colour: COLOURS[i],
                value: self.thermal.levels_kw_m2[i],
                unit: "kW/m²",
                basis: format!("{} kW/m² (60 s)", self.thermal.levels_kw_m2[i]),
                unconfirmed: unconfirmed(&self.thermal.confidence),
            })
            .collect()
    }

    /// Overpressure levels, red to yellow (kPa).
    pub fn overpressure(&self) -> Vec<Loc> {
        (0..3)
            .map(|i| Loc {
                colour: COLOURS[i],
                value: self.overpressure.levels_kpa[i],
                unit: "kPa",
                basis: format!("{} kPa", self.overpressure.levels_kpa[i]),
                unconfirmed: unconfirmed(&self.overpressure.confidence),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chlorine_takes_its_aegls_and_phosgene_has_no_yellow() {
        let t = LevelsOfConcern::builtin();
        let cl = t.substance("7782-50-5").unwrap();
        assert_eq!(t.substance("chlorine").unwrap().cas, "7782-50-5");
        assert_eq!(t.substance("氯气").unwrap().cas, "7782-50-5");
        // Inventories name it as GB 18218 Table 1 does.
        assert_eq!(t.substance("液氯").unwrap().cas, "7782-50-5");
        assert_eq!(t.substance("液氨").unwrap().cas, "7664-41-7");
        assert_eq!(t.substance("氟化氢（无水）").unwrap().cas, "7664-39-3");
        let l = t.toxic(cl);
        assert_eq!(
            l.iter().map(|l| (l.colour, l.value)).collect::<Vec<_>>(),
            [("red", 20.0), ("orange", 2.0), ("yellow", 0.5)]
        );
        assert!(l[0].basis.starts_with("AEGL-3") && l[0].unconfirmed);
        let ph = t.toxic(t.substance("75-44-5").unwrap());
        assert_eq!(ph.len(), 2);
        assert!(t.substance("").is_none() && t.substance("water").is_none());
        let h2s = t.toxic(t.substance("7783-06-4").unwrap());
        assert!(h2s.iter().all(|l| !l.unconfirmed));
        assert_eq!(t.thermal()[0].value, 10.0);
        assert!(t.overpressure()[0].unconfirmed);
    }

    #[test]
    fn bad_tables_are_refused() {
        let base = EMBEDDED_TOML;
        let swapped = base.replacen(
            "levels_kw_m2 = [10.0, 5.0, 2.0]",
            "levels_kw_m2 = [2.0, 5.0, 10.0]",
            1,
        );
        assert!(LevelsOfConcern::from_toml_str(&swapped).is_err());
        let twice = base.replacen(
            "{ tier = 2, ppm = 2.0, confidence = \"M\" }",
            "{ tier = 3, ppm = 2.0, confidence = \"M\" }",
            1,
        );
        assert!(LevelsOfConcern::from_toml_str(&twice).is_err());
    }
}

//! Emergency Response Guidebook (ERG) Table 1 distances, reported beside a
//! modelled incident as a plausibility check for the first minutes
//! (`data/rules/erg.toml`; values mostly UNCONFIRMED).

use serde::{Deserialize, Serialize};

use crate::error::SafetyError;

/// The distances of one spill size.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Distances {
    /// Initial isolation radius, m.
    pub isolate_m: f64,
    /// Protective-action distance downwind by day, km.
    #[serde(default)]
    pub day_km: Option<f64>,
    /// …by night, km.
    #[serde(default)]
    pub night_km: Option<f64>,
    /// `C-2` or `M` (UNCONFIRMED).
    pub confidence: String,
}

/// One material.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Material {
    /// CAS number.
    pub cas: String,
    /// UN number.
    pub un: String,
    /// ERG guide.
    pub guide: String,
    /// A small spill holds at most this mass (208 L of liquid), kg.
    pub small_spill_max_kg: f64,
    /// Small spill.
    pub small: Distances,
    /// Large spill, when kept.
    #[serde(default)]
    pub large: Option<Distances>,
}

/// `data/rules/erg.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ErgTable {
    /// Materials.
    pub material: Vec<Material>,
}

/// The ERG answer for one release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErgCheck {
    /// UN number and guide.
    pub un: String,
    /// ERG guide.
    pub guide: String,
    /// `small` or `large`.
    pub spill: &'static str,
    /// `day` or `night`.
    pub period: &'static str,
    /// Initial isolation radius, m.
    pub isolate_m: f64,
    /// Protective-action distance, km, when the table has it.
    pub protective_action_km: Option<f64>,
    /// Whether the values are unconfirmed.
    pub unconfirmed: bool,
}

impl ErgTable {
    /// The embedded table.
    pub fn builtin() -> &'static ErgTable {
        static T: std::sync::OnceLock<ErgTable> = std::sync::OnceLock::new();
        T.get_or_init(|| {
            ErgTable::from_toml_str(riskmap_core::rule_set::text("erg.toml"))
                .unwrap_or_else(|e| panic!("data/rules/erg.toml: {e}"))
        })
    }

    /// Parses and checks a table: distances > 0, large ≥ small.
    pub fn from_toml_str(text: &str) -> Result<ErgTable, SafetyError> {
        let bad = |message: String| SafetyError::Rules {
            table: "erg.toml",
            message,
        };
        let t: ErgTable = riskmap_core::rule_set::from_toml(text).map_err(bad)?;
        for m in &t.material {
            let all = [&Some(m.small.clone()), &m.large];
            for d in all.into_iter().flatten() {
                let ok = |x: f64| x.is_finite() && x > 0.0;
                if !ok(d.isolate_m)
                    || d.day_km.is_some_and(|x| !ok(x))
                    || d.night_km.is_some_and(|x| !ok(x))
                {
                    return Err(bad(format!("{}: distances must be > 0", m.cas)));
                }
            }
            if !(m.small_spill_max_kg.is_finite() && m.small_spill_max_kg > 0.0) {
                return Err(bad(format!("{}: small_spill_max_kg must be > 0", m.cas)));
            }
        }
        Ok(t)
    }

    /// The distances for `mass_kg` of the material `cas` released by day or
    /// night; `None` when the material is not in the table, or a large
    /// spill whose row is not kept.
    pub fn check(&self, cas: &str, mass_kg: f64, night: bool) -> Option<ErgCheck> {
        let m = self.material.iter().find(|m| m.cas == cas)?;
        let (spill, d) = if mass_kg <= m.small_spill_max_kg {
            ("small", &m.small)
        } else {
            ("large", m.large.as_ref()?)
        };
        Some(ErgCheck {
            un: m.un.clone(),
            guide: m.guide.clone(),
            spill,
            period: if night { "night" } else { "day" },
            isolate_m: d.isolate_m,
            protective_action_km: if night { d.night_km } else { d.day_km },
            unconfirmed: d.confidence != "C" && d.confidence != "C-2",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chlorine_spills_read_by_size_and_period() {
        let t = ErgTable::builtin();
        let small = t.check("7782-50-5", 100.0, true).unwrap();
        assert_eq!(
            (small.spill, small.isolate_m, small.protective_action_km),
            ("small", 60.0, Some(1.1))
        );
        let large = t.check("7782-50-5", 5000.0, false).unwrap();
        assert_eq!(
            (large.spill, large.protective_action_km, large.unconfirmed),
            ("large", Some(3.0), false)
        );
        assert_eq!(
            t.check("7782-50-5", 5000.0, true)
                .unwrap()
                .protective_action_km,
            None
        );
        assert!(t.check("7664-41-7", 5000.0, false).is_none());
        assert!(t.check("67-56-1", 10.0, false).is_none());
    }
}

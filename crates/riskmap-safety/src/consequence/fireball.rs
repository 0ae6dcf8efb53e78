//! Fireball from a BLEVE (boiling-liquid expanding-vapour explosion) of a
//! flammable liquefied gas.
//!
//! **CCPS model** (CCPS *Guidelines for Consequence Analysis* 1999, BLEVE and fireball,
//! after Roberts 1982 and Martinsen & Marx 1999; TNO Yellow Book CPR 14E ch. 6
//! uses the same diameter), M the flammable mass in kg:
//! - diameter **D = 5.8·M^(1/3)** m;
//! - duration **t = 0.45·M^(1/3)** s for M < 30 000 kg, **t = 2.6·M^(1/6)** s
//!   otherwise (the published correlation is discontinuous at 30 t: t jumps
//!   by ~4 %, so the SEP, and the flux at a fixed distance, drop by ~4 %);
//! - centre height **H = 0.75·D**;
//! - radiated fraction **F_rad = 0.27·P^0.32**, P the vessel pressure in MPa;
//! - surface emissive power **SEP = F_rad·M·ΔH_c/(π·D²·t)** (or given);
//! - view factor of a sphere to a facing target **F = D²/(4r²)**,
//!   r = √(x² + H²) from the centre;
//! - flux **q = τ·SEP·F**, τ over the path r − D/2.
//!
//! **Chinese 安全评价 model** (《安全评价》 textbooks, \[M\] UNCONFIRMED):
//! R = 2.9·W^(1/3), t = 0.45·W^(1/3),
//! **q(x) = q₀·R²·x·(1 − 0.058·ln x)/(R² + x²)^(3/2)**, q₀ = 270 kW/m²
//! (cylindrical tank) or 200 kW/m² (sphere); 1 − 0.058·ln x is the formula's
//! own transmissivity (x in m). Its geometry peaks at q ≈ 0.385·q₀·τ at
//! x = R/√2, and τ there falls as the fireball grows, so a level above about
//! 0.28·q₀ (75 kW/m² for q₀ = 270 kW/m²) can be reached under a small
//! fireball and not under a large one; below that, more mass always reaches
//! farther (tested).
//!
//! Distances x are horizontal from the point on the ground below the centre.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::consequence::probit::ThermalProbit;
use crate::consequence::transmissivity::Transmissivity;
use crate::consequence::view_factor;
use crate::effect::{EffectDistance, EffectModel, EffectQuantity, ModelInfo};
use crate::error::{SafetyError, positive};

const MAX_DISTANCE_M: f64 = 100_000.0;

/// Mass (kg) at which the CCPS duration switches from 0.45·M^(1/3) to 2.6·M^(1/6).
pub const CCPS_DURATION_SWITCH_KG: f64 = 30_000.0;

const LIMITATIONS: &str = "Fireball of the whole flammable mass at once; no blast, fragments or \
pool fire from the same BLEVE. Radiation from a sphere of constant size and SEP for the whole \
duration (no growth or lift-off phases). The CCPS duration is discontinuous at 30 t. Flat ground, \
unobstructed view.";

const CCPS: ModelInfo = ModelInfo {
    id: "fireball.ccps",
    version: "1",
    source: "CCPS Guidelines for Consequence Analysis of Chemical Releases (1999), BLEVE and fireball: \
D = 5.8 M^(1/3), t = 0.45 M^(1/3) (M < 30 t) or 2.6 M^(1/6), H = 0.75 D, F_rad = 0.27 P^0.32, \
SEP = F_rad M ΔHc/(π D² t), F = D²/(4r²); TNO Yellow Book CPR 14E ch. 6",
    limitations: LIMITATIONS,
};

const CHINESE: ModelInfo = ModelInfo {
    id: "fireball.cn_safety_evaluation",
    version: "1",
    source: "Chinese 安全评价 fireball model: R = 2.9 W^(1/3), t = 0.45 W^(1/3), \
q = q₀R²x(1 − 0.058 ln x)/(R² + x²)^(3/2) (consequence-models.md §3.1, [M] UNCONFIRMED)",
    limitations: LIMITATIONS,
};

/// Surface emissive power of the CCPS fireball.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum FireballSep {
    /// Given SEP, W/m² (CCPS and YB quote 200–350 kW/m²).
    Given {
        /// SEP, W/m².
        w_per_m2: f64,
    },
    /// SEP = F_rad·M·ΔH_c/(π·D²·t) with F_rad = 0.27·P^0.32 (P in MPa).
    FromPressure {
        /// Vessel pressure at failure P, Pa (the correlation takes MPa;
        /// CCPS does not say gauge or absolute \[M\]).
        vessel_pressure_pa: f64,
        /// Lower heat of combustion ΔH_c, J/kg.
        heat_of_combustion_j_per_kg: f64,
    },
}

/// Which fireball model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum FireballModel {
    /// CCPS 1999.
    Ccps {
        /// Surface emissive power.
        sep: FireballSep,
        /// Atmospheric transmissivity.
        transmissivity: Transmissivity,
    },
    /// Chinese 安全评价 model.
    ChineseSafetyEvaluation {
        /// q₀, W/m²: 270 000 for a cylindrical tank, 200 000 for a sphere.
        q0_w_per_m2: f64,
    },
}

/// Inputs of a fireball.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fireball {
    /// Flammable mass M in the fireball, kg.
    pub mass_kg: f64,
    /// Model and its parameters.
    pub model: FireballModel,
}

/// A fireball evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FireballResult {
    /// Model identity and provenance.
    pub model: ModelInfo,
    /// The inputs, as given.
    pub inputs: Fireball,
    /// Fireball diameter, m.
    pub diameter_m: f64,
    /// Duration, s (the exposure time for probits).
    pub duration_s: f64,
    /// Height of the centre above ground, m.
    pub centre_height_m: f64,
    /// Radiated fraction F_rad (CCPS, from pressure only).
    pub radiative_fraction: Option<f64>,
    /// Surface emissive power, W/m² (CCPS only).
    pub surface_emissive_power_w_per_m2: Option<f64>,
    /// Distance to each requested heat-flux level (W/m²).
    pub distances: Vec<EffectDistance>,
}

impl Fireball {
    /// Validate, compute and find the distance to each heat-flux level.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for any non-physical input or level.
    pub fn evaluate(&self, levels_w_per_m2: &[f64]) -> Result<FireballResult, SafetyError> {
        let m = positive("mass_kg", self.mass_kg)?;
        let cube = m.cbrt();
        let mut result = match self.model {
            FireballModel::Ccps {
                sep,
                transmissivity,
            } => {
                transmissivity.validate()?;
                let d = 5.8 * cube;
                let t = if m < CCPS_DURATION_SWITCH_KG {
                    0.45 * cube
                } else {
                    2.6 * m.powf(1.0 / 6.0)
                };
                let (frad, sep) = match sep {
                    FireballSep::Given { w_per_m2 } => (None, positive("sep.w_per_m2", w_per_m2)?),
                    FireballSep::FromPressure {
                        vessel_pressure_pa,
                        heat_of_combustion_j_per_kg,
                    } => {
                        let p = positive("sep.vessel_pressure_pa", vessel_pressure_pa)?;
                        let dhc = positive(
                            "sep.heat_of_combustion_j_per_kg",
                            heat_of_combustion_j_per_kg,
                        )?;
                        let frad = (0.27 * (p / 1e6).powf(0.32)).min(1.0);
                        (Some(frad), frad * m * dhc / (PI * d * d * t))
                    }
                };
                FireballResult {
                    model: CCPS,
                    inputs: *self,
                    diameter_m: d,
                    duration_s: t,
                    centre_height_m: 0.75 * d,
                    radiative_fraction: frad,
                    surface_emissive_power_w_per_m2: Some(sep),
                    distances: Vec::new(),
                }
            }
            FireballModel::ChineseSafetyEvaluation { q0_w_per_m2 } => {
                positive("model.q0_w_per_m2", q0_w_per_m2)?;
                let r = 2.9 * cube;
                FireballResult {
                    model: CHINESE,
                    inputs: *self,
                    diameter_m: 2.0 * r,
                    duration_s: 0.45 * cube,
                    centre_height_m: r,
                    radiative_fraction: None,
                    surface_emissive_power_w_per_m2: None,
                    distances: Vec::new(),
                }
            }
        };
        result.distances = result.distances_to(levels_w_per_m2)?;
        Ok(result)
    }

    /// Heat flux (W/m²) at horizontal distance `distance_m`. The CCPS model
    /// gives at 0 the flux straight below the centre, its largest; the
    /// Chinese formula is not defined at 0 (its transmissivity 1 − 0.058·ln x
    /// is singular there) and refuses it.
    ///
    /// # Errors
    /// As [`Fireball::evaluate`], and [`SafetyError::InvalidInput`] for a
    /// distance that is NaN, infinite or negative (or 0 for the Chinese
    /// formula).
    pub fn flux_at(&self, distance_m: f64) -> Result<f64, SafetyError> {
        self.evaluate(&[])?.effect_at(distance_m)
    }
}

impl FireballResult {
    /// Probability from `probit` at `distance_m`, for an exposure equal to
    /// the fireball duration.
    ///
    /// # Errors
    /// As [`EffectModel::effect_at`] for the distance.
    pub fn probability_at(
        &self,
        probit: &ThermalProbit,
        distance_m: f64,
    ) -> Result<f64, SafetyError> {
        probit.probability(self.effect_at(distance_m)?, self.duration_s)
    }

    /// The farthest distance at which `probit` gives at least probability
    /// `p` for an exposure equal to the fireball duration.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless 0 < p < 1.
    pub fn distance_to_probability(
        &self,
        probit: &ThermalProbit,
        p: f64,
    ) -> Result<EffectDistance, SafetyError> {
        let flux = probit.flux_for_probability(p, self.duration_s)?;
        self.distance_to(flux)
    }
}

impl EffectModel for FireballResult {
    fn model(&self) -> ModelInfo {
        self.model
    }

    fn quantity(&self) -> EffectQuantity {
        EffectQuantity::HeatFluxWPerM2
    }

    fn check_distance(&self, distance_m: f64) -> Result<f64, SafetyError> {
        match self.inputs.model {
            FireballModel::Ccps { .. } => crate::error::distance("distance_m", distance_m),
            FireballModel::ChineseSafetyEvaluation { .. } => {
                if distance_m.is_finite() && distance_m > 0.0 {
                    Ok(distance_m)
                } else {
                    Err(SafetyError::InvalidInput {
                        field: "distance_m",
                        value: distance_m,
                        expected: "a finite distance > 0 m (the Chinese fireball formula is \
singular at x = 0)",
                    })
                }
            }
        }
    }

    fn effect_at_unchecked(&self, distance_m: f64) -> f64 {
        let x = distance_m.max(0.0);
        match self.inputs.model {
            FireballModel::Ccps { transmissivity, .. } => {
                let sep = self.surface_emissive_power_w_per_m2.unwrap_or(0.0);
                let h = self.centre_height_m;
                let r = (x * x + h * h).sqrt();
                let f = view_factor::sphere_facing_unchecked(self.diameter_m, r);
                sep * f * transmissivity.at_unchecked((r - self.diameter_m / 2.0).max(0.0))
            }
            FireballModel::ChineseSafetyEvaluation { q0_w_per_m2 } => {
                if x <= 0.0 {
                    return 0.0;
                }
                let r = self.centre_height_m;
                let tau = (1.0 - 0.058 * x.ln()).clamp(0.0, 1.0);
                q0_w_per_m2 * r * r * x * tau / (r * r + x * x).powf(1.5)
            }
        }
    }

    fn search_range_m(&self) -> (f64, f64) {
        (1e-3, MAX_DISTANCE_M)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    fn propane(m: f64) -> Fireball {
        Fireball {
            mass_kg: m,
            model: FireballModel::Ccps {
                sep: FireballSep::FromPressure {
                    vessel_pressure_pa: 1.5e6,
                    heat_of_combustion_j_per_kg: 46.34e6,
                },
                transmissivity: Transmissivity::default(),
            },
        }
    }

    #[test]
    fn propane_1000_kg() {
        // CCPS 1999, 1000 kg propane, P = 1.5 MPa, ΔH_c = 46.34 MJ/kg, τ = 1:
        // D = 5.8·1000^(1/3) = 5.8·10 = 58 m; t = 0.45·10 = 4.5 s; H = 0.75·58 = 43.5 m;
        // F_rad = 0.27·1.5^0.32 = 0.27·1.13854 = 0.30741;
        // SEP = 0.30741·1000·46.34e6/(π·58²·4.5) = 1.42453e10/47 557 = 299 537 W/m²;
        // at x = 100 m: r = √(100² + 43.5²) = 109.05 m, F = 58²/(4·109.05²)
        // = 3364/47 569 = 0.070718; q = 299 537·0.070718 = 21 183 W/m².
        let r = propane(1000.0).evaluate(&[]).unwrap();
        assert!(close(r.diameter_m, 58.0, 1e-9));
        assert!(close(r.duration_s, 4.5, 1e-9));
        assert!(close(r.centre_height_m, 43.5, 1e-9));
        assert!(close(r.radiative_fraction.unwrap(), 0.30741, 0.001));
        assert!(close(
            r.surface_emissive_power_w_per_m2.unwrap(),
            299_537.0,
            0.02
        ));
        assert!(
            close(r.effect_at(100.0).unwrap(), 21_183.0, 0.02),
            "{}",
            r.effect_at(100.0).unwrap()
        );
    }

    #[test]
    fn propane_truck_ccps_sheet() {
        // Propane tank truck (consequence-models.md §3.1, CCPS sheet):
        // M = 22.7 m³·585.3 kg/m³·0.9 = 11 957.7 kg; D = 5.8·22.8674 = 132.63 m
        // (printed 132.6); t = 0.45·22.8674 = 10.29 s (printed 10.3).
        // With SEP from P = 1.5 MPa: SEP = 299.5 kW/m² (the same as for 1000 kg:
        // for M < 30 t it does not depend on M); H = 99.47 m, r = √(100² + 99.47²)
        // = 141.05 m, F = 132.63²/(4·141.05²) = 0.22105; q = 66.21 kW/m²
        // (printed 66.23).
        let r = propane(11_957.7).evaluate(&[]).unwrap();
        assert!(close(r.diameter_m, 132.6, 0.02));
        assert!(close(r.duration_s, 10.3, 0.02));
        assert!(
            close(r.effect_at(100.0).unwrap(), 66_230.0, 0.02),
            "{}",
            r.effect_at(100.0).unwrap()
        );
        // With the sheet's given SEP = 350 kW/m² and τ = 1 the CCPS sphere view
        // factor (centre at 0.75 D) gives q = 350·0.22105 = 77.37 kW/m²; the
        // sheet's 89.1 uses a different view factor (centre at D/2, §7 item 6).
        let given = Fireball {
            model: FireballModel::Ccps {
                sep: FireballSep::Given { w_per_m2: 350e3 },
                transmissivity: Transmissivity::default(),
            },
            ..propane(11_957.7)
        };
        let q = given.flux_at(100.0).unwrap();
        assert!(close(q, 77_370.0, 0.02), "{q}");
    }

    #[test]
    fn chinese_model_truck() {
        // Chinese model (consequence-models.md §3.1), W = 11 957.7 kg, q₀ = 270 kW/m²:
        // R = 2.9·22.8674 = 66.315 m; at x = 100 m:
        // q = 270e3·66.315²·100·(1 − 0.058·ln 100)/(66.315² + 100²)^1.5
        //   = 270e3·4397.7·100·0.73290/(14 397.7)^1.5 = 8.7024e10/1.72757e6
        //   = 50 373 W/m² (printed 50.37 kW/m²).
        let fb = Fireball {
            mass_kg: 11_957.7,
            model: FireballModel::ChineseSafetyEvaluation { q0_w_per_m2: 270e3 },
        };
        let r = fb.evaluate(&[]).unwrap();
        assert!(close(r.centre_height_m, 66.32, 0.002));
        assert!(
            close(r.effect_at(100.0).unwrap(), 50_370.0, 0.02),
            "{}",
            r.effect_at(100.0).unwrap()
        );
        // 50 % death by the TNO −37.23 probit over t = 10.29 s: printed radius 117.5 m.
        let d = r
            .distance_to_probability(&ThermalProbit::TNO_GREEN_BOOK, 0.5)
            .unwrap();
        assert!(close(d.reach.distance_m().unwrap(), 117.5, 0.02), "{d:?}");
        // Eisenberg −38.48: printed 85.8 m.
        let d = r
            .distance_to_probability(&ThermalProbit::EISENBERG_1975, 0.5)
            .unwrap();
        assert!(close(d.reach.distance_m().unwrap(), 85.8, 0.02), "{d:?}");
    }

    #[test]
    fn ccps_truck_probit() {
        // consequence-models.md §3.1: truck, q(100 m) = 66.23 kW/m², t = 10.29 s,
        // dose t·q^(4/3) = 2.757e7; P = 0.648 (Eisenberg), 0.993 (−36.38).
        let r = propane(11_957.7).evaluate(&[]).unwrap();
        let p = r
            .probability_at(&ThermalProbit::EISENBERG_1975, 100.0)
            .unwrap();
        assert!(close(p, 0.648, 0.02), "{p}");
        let p = r.probability_at(&ThermalProbit::TSAO_PERRY, 100.0).unwrap();
        assert!(close(p, 0.993, 0.02), "{p}");
    }

    #[test]
    fn duration_switches_at_30_t() {
        // 50 t: t = 2.6·50 000^(1/6) = 2.6·6.0696 = 15.78 s (printed 15.78);
        // D = 5.8·36.840 = 213.67 m.
        let r = propane(50_000.0).evaluate(&[]).unwrap();
        assert!(close(r.duration_s, 15.78, 0.002));
        assert!(close(r.diameter_m, 213.67, 0.002));
    }

    #[test]
    fn refuses_nan_and_negative_distances() {
        let ccps = propane(1000.0);
        let cn = Fireball {
            mass_kg: 1000.0,
            model: FireballModel::ChineseSafetyEvaluation { q0_w_per_m2: 270e3 },
        };
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
            assert!(ccps.flux_at(bad).is_err());
            assert!(cn.flux_at(bad).is_err());
            let r = ccps.evaluate(&[]).unwrap();
            assert!(r.probability_at(&ThermalProbit::TSAO_PERRY, bad).is_err());
        }
        // CCPS: straight below the centre is the largest ground flux.
        assert!(ccps.flux_at(0.0).unwrap() >= ccps.flux_at(1.0).unwrap());
        // The Chinese formula is singular at 0.
        assert!(cn.flux_at(0.0).is_err());
        assert!(cn.flux_at(1.0).unwrap() > 0.0);
    }

    proptest! {
        #[test]
        fn more_mass_reaches_farther_within_each_duration_branch(
            m in 1.0f64..29_000.0, f in 1.0f64..1.03, level in 1_000.0f64..200_000.0, big in proptest::bool::ANY,
        ) {
            // The published duration is discontinuous at 30 t, so compare masses on
            // the same branch.
            let m = if big { m + 30_000.0 } else { m };
            let a = propane(m).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            let b = propane((m * f).min(if big { 1e9 } else { 29_999.0 }))
                .evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            prop_assert!(b >= a * (1.0 - 1e-12), "{a} > {b}");
        }

        #[test]
        fn farther_is_never_worse(m in 1.0f64..1e6, x in 0.0f64..10_000.0, dx in 0.0f64..10_000.0) {
            let r = propane(m).evaluate(&[]).unwrap();
            prop_assert!(r.effect_at(x + dx).unwrap() <= r.effect_at(x).unwrap());
        }

        #[test]
        fn chinese_more_mass_reaches_farther(m in 10.0f64..1e6, dm in 0.0f64..1e5, level in 1_000.0f64..60_000.0) {
            let fb = |m| Fireball { mass_kg: m, model: FireballModel::ChineseSafetyEvaluation { q0_w_per_m2: 270e3 } };
            let a = fb(m).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            let b = fb(m + dm).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            prop_assert!(b >= a * (1.0 - 1e-9), "{a} > {b}");
        }
    }
}

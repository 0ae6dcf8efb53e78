//! Pool fire: a burning pool of liquid of given diameter.
//!
//! Steps and formulas (SI units throughout):
//!
//! 1. **Burning rate** m'' (kg/m²·s), [`BurningRate`]: given, Burgess
//!    m'' = 10⁻³·ΔH_c/(ΔH_v + c_p·max(0, T_b − T_a)), or Babrauskas
//!    m'' = m''_∞·(1 − e^(−kβ·D)) (CCPS 1999; TNO Yellow Book
//!    CPR 14E ch. 6, Table 6.5).
//! 2. **Flame length** L (m), [`FlameLength`]: Thomas (1963) in still air
//!    L = 42·D·[m''/(ρ_a·√(gD))]^0.61, or Thomas with wind (YB eq. 6.12–6.14)
//!    L = 55·D·[m''/(ρ_a·√(gD))]^0.67·(u*)^(−0.21), u* = u_w/u_c,
//!    u_c = (g·m''·D/ρ_a)^(1/3), u* = 1 when u_w < u_c.
//!    **Flame tilt** θ, [`FlameTilt`]: none, given, or AGA (1974)
//!    cos θ = 1/√u* for u* ≥ 1 (CCPS 1999).
//! 3. **Radiation**, [`PoolFireRadiation`]:
//!    - point source (CCPS 1999): q(x) = τ·η·m''·A·ΔH_c/(4πx²);
//!    - solid flame (YB ch. 6; Mudan 1984): q(x) = SEP·F_max(x)·τ(x − D/2), a
//!      cylinder of diameter D and length L tilted by θ, F_max = √(F_v² + F_h²)
//!      from [`view_factor::tilted_cylinder`] (closed form when upright), the
//!      target downwind (worst case),
//!      SEP given, Mudan (1984) SEP = 140·e^(−0.12D) + 20·(1 − e^(−0.12D))
//!      kW/m², or the YB soot model SEP = F_s·m''·ΔH_c/(1 + 4L/D)·(1 − ξ)
//!      + 20 kW/m²·ξ;
//!    - Chinese 安全评价 formula: h = 84·r·[m''/(ρ₀√(2gr))]^0.6,
//!      Q = (πr² + 2πrh)·m''·η·ΔH_c/(72·m''^0.6 + 1), q(x) = τ·Q/(4πx²).
//! 4. **Atmospheric transmissivity** τ, [`Transmissivity`].
//!
//! Distances x are horizontal, from the centre of the pool, to a target at
//! ground level (downwind of a tilted flame). Inside the pool (x ≤ D/2) the
//! solid flame gives SEP·τ (engulfment) and the point-source forms give their
//! value at the edge.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::consequence::transmissivity::Transmissivity;
use crate::consequence::units::GRAVITY_M_PER_S2;
use crate::consequence::view_factor;
use crate::effect::{EffectDistance, EffectModel, EffectQuantity, ModelInfo};
use crate::error::{SafetyError, fraction, non_negative, positive, unit_interval};

/// Far limit of the distance search, m.
const MAX_DISTANCE_M: f64 = 100_000.0;

const LIMITATIONS: &str = "Steady burning of a circular pool of the given diameter: no spill, \
spreading or pool-size model. The solid flame is a (tilted) cylinder without flame drag; the distance is for a target \
downwind of the tilt (worst case); point-source forms ignore wind. Point-source forms are \
unreliable within about two pool diameters. Flat, unobstructed ground; target at ground level.";

/// How the burning rate m'' (kg/m²·s) is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum BurningRate {
    /// Given, e.g. from YB Table 6.5 (gasoline 0.055, benzene 0.085, LNG 0.078).
    Given {
        /// m'', kg/m²·s.
        kg_per_m2_s: f64,
    },
    /// Burgess, Strasser & Grumer (1961): m'' = 10⁻³·ΔH_c/(ΔH_v + c_p·(T_b − T_a)),
    /// the sensible-heat term dropped when T_b ≤ T_a (liquefied gases).
    /// CCPS (1999), pool fires.
    Burgess {
        /// Heat of vaporisation at the boiling point ΔH_v, J/kg.
        heat_of_vaporisation_j_per_kg: f64,
        /// Liquid heat capacity c_p, J/kg·K.
        specific_heat_j_per_kg_k: f64,
        /// Normal boiling point T_b, K.
        boiling_point_k: f64,
        /// Ambient temperature T_a, K.
        ambient_temperature_k: f64,
    },
    /// Babrauskas (1983): m'' = m''_∞·(1 − e^(−kβ·D)); YB Table 6.5.
    Babrauskas {
        /// Large-pool burning rate m''_∞, kg/m²·s.
        max_kg_per_m2_s: f64,
        /// kβ, 1/m.
        k_beta_per_m: f64,
    },
}

/// Flame-length correlation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum FlameLength {
    /// Thomas (1963), still air: L = 42·D·[m''/(ρ_a√(gD))]^0.61.
    ThomasStillAir,
    /// Thomas with wind (YB CPR 14E eq. 6.12–6.14), using
    /// [`PoolFire::wind_speed_m_per_s`]:
    /// L = 55·D·[m''/(ρ_a√(gD))]^0.67·(u*)^(−0.21).
    ThomasWind,
}

/// Tilt of the solid flame from the vertical.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum FlameTilt {
    /// Upright flame.
    Vertical,
    /// Given tilt angle.
    Given {
        /// θ from the vertical, degrees, in [0, 85].
        degrees: f64,
    },
    /// AGA (1974) as given by CCPS (1999): cos θ = 1 for u* < 1 and
    /// 1/√u* otherwise, u* = u_w/(g·m''·D/ρ_a)^(1/3). \[M\] CCPS writes the
    /// characteristic velocity with the fuel-vapour density; this uses the
    /// air density, as the YB flame-length correlation does — UNCONFIRMED.
    Aga,
}

/// Surface emissive power of the solid-flame model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum SurfaceEmissivePower {
    /// Given SEP, W/m².
    Given {
        /// SEP, W/m².
        w_per_m2: f64,
    },
    /// Mudan (1984), smoky hydrocarbon pools:
    /// SEP = 140·e^(−0.12D) + 20·(1 − e^(−0.12D)) kW/m² (CCPS 1999, pool fires).
    Mudan,
    /// TNO Yellow Book soot model (CPR 14E ch. 6):
    /// SEP_max = F_s·m''·ΔH_c/(1 + 4L/D), SEP = SEP_max·(1 − ξ) + 20 kW/m²·ξ.
    YellowBookSoot {
        /// F_s, fraction of the combustion energy radiated (YB: 0.4).
        radiative_fraction: f64,
        /// ξ, fraction of the flame surface covered by soot (YB: 0.8).
        soot_fraction: f64,
    },
}

/// How radiation from the flame to the target is modelled.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum PoolFireRadiation {
    /// Point source at the pool centre:
    /// q = τ·η·m''·A·ΔH_c/(4πx²).
    PointSource {
        /// η, fraction of the combustion energy radiated (0.15–0.35).
        radiative_fraction: f64,
    },
    /// Vertical cylindrical solid flame: q = SEP·F_max·τ (YB ch. 6).
    SolidFlame {
        /// The surface emissive power.
        sep: SurfaceEmissivePower,
    },
    /// The Chinese 安全评价 point-source formula (its own flame height h =
    /// 84·r·[m''/(ρ₀√(2gr))]^0.6; the [`FlameLength`] choice is not used):
    /// Q = (πr² + 2πrh)·m''·η·ΔH_c/(72·m''^0.6 + 1), q = τ·Q/(4πx²).
    ChineseSafetyEvaluation {
        /// η, efficiency factor (0.13–0.35; 0.24 typical).
        efficiency: f64,
    },
}

/// Inputs of a pool fire. All SI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PoolFire {
    /// Pool diameter D, m. For a non-circular pool use the equivalent
    /// diameter √(4A/π) ([`PoolFire::equivalent_diameter_m`]).
    pub diameter_m: f64,
    /// Lower heat of combustion ΔH_c, J/kg.
    pub heat_of_combustion_j_per_kg: f64,
    /// Burning rate.
    pub burning_rate: BurningRate,
    /// Flame-length correlation.
    pub flame_length: FlameLength,
    /// Flame tilt (solid flame only; the point-source forms ignore it).
    pub tilt: FlameTilt,
    /// Wind speed u_w at 10 m, m/s (used by [`FlameLength::ThomasWind`] and
    /// [`FlameTilt::Aga`]).
    pub wind_speed_m_per_s: f64,
    /// Radiation model.
    pub radiation: PoolFireRadiation,
    /// Ambient air density ρ_a, kg/m³ (1.2 at 20 °C).
    pub air_density_kg_per_m3: f64,
    /// Atmospheric transmissivity.
    pub transmissivity: Transmissivity,
}

/// A pool fire evaluated: inputs, derived quantities and distances to the
/// requested flux levels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolFireResult {
    /// Model identity and provenance.
    pub model: ModelInfo,
    /// The inputs, as given.
    pub inputs: PoolFire,
    /// Pool area A = πD²/4, m².
    pub pool_area_m2: f64,
    /// Burning rate m'', kg/m²·s.
    pub burning_rate_kg_per_m2_s: f64,
    /// Total burning rate m''·A, kg/s.
    pub mass_burning_rate_kg_per_s: f64,
    /// Flame length L (or h for the Chinese formula), m.
    pub flame_length_m: f64,
    /// Flame tilt from the vertical, degrees (solid flame only, else 0).
    pub tilt_deg: f64,
    /// Surface emissive power, W/m² (solid flame only).
    pub surface_emissive_power_w_per_m2: Option<f64>,
    /// Radiated power, W (point-source forms only).
    pub radiated_power_w: Option<f64>,
    /// Distance to each requested heat-flux level (W/m²).
    pub distances: Vec<EffectDistance>,
}

impl PoolFire {
    /// Equivalent diameter √(4A/π) of a pool of area `area_m2`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless the area is a finite number > 0.
    pub fn equivalent_diameter_m(area_m2: f64) -> Result<f64, SafetyError> {
        Ok((4.0 * positive("area_m2", area_m2)? / PI).sqrt())
    }

    /// Validate, compute the derived quantities and the distance to each
    /// heat-flux level in `levels_w_per_m2`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for any non-physical input or level.
    pub fn evaluate(&self, levels_w_per_m2: &[f64]) -> Result<PoolFireResult, SafetyError> {
        let d = positive("diameter_m", self.diameter_m)?;
        let dhc = positive(
            "heat_of_combustion_j_per_kg",
            self.heat_of_combustion_j_per_kg,
        )?;
        let rho = positive("air_density_kg_per_m3", self.air_density_kg_per_m3)?;
        self.transmissivity.validate()?;
        let m = burning_rate(&self.burning_rate, d, dhc)?;
        let g = GRAVITY_M_PER_S2;
        let area = PI * d * d / 4.0;
        let froude = m / (rho * (g * d).sqrt());
        let uw = non_negative("wind_speed_m_per_s", self.wind_speed_m_per_s)?;
        let ustar = (uw / (g * m * d / rho).cbrt()).max(1.0);
        let thomas = match self.flame_length {
            FlameLength::ThomasStillAir => 42.0 * d * froude.powf(0.61),
            FlameLength::ThomasWind => 55.0 * d * froude.powf(0.67) * ustar.powf(-0.21),
        };
        let tilt_deg = match self.tilt {
            FlameTilt::Vertical => 0.0,
            FlameTilt::Given { degrees } => {
                if degrees.is_finite() && (0.0..=85.0).contains(&degrees) {
                    degrees
                } else {
                    return Err(SafetyError::InvalidInput {
                        field: "tilt.degrees",
                        value: degrees,
                        expected: "an angle in [0, 85] degrees",
                    });
                }
            }
            FlameTilt::Aga => (1.0 / ustar.sqrt()).acos().to_degrees(),
        };
        let (model, flame_length_m, sep, radiated) = match self.radiation {
            PoolFireRadiation::PointSource { radiative_fraction } => {
                let eta = fraction("radiation.radiative_fraction", radiative_fraction)?;
                (POINT_SOURCE, thomas, None, Some(eta * m * area * dhc))
            }
            PoolFireRadiation::SolidFlame { sep } => {
                let sep = match sep {
                    SurfaceEmissivePower::Given { w_per_m2 } => positive("sep.w_per_m2", w_per_m2)?,
                    SurfaceEmissivePower::Mudan => {
                        let e = (-0.12 * d).exp();
                        1e3 * (140.0 * e + 20.0 * (1.0 - e))
                    }
                    SurfaceEmissivePower::YellowBookSoot {
                        radiative_fraction,
                        soot_fraction,
                    } => {
                        let fs = fraction("sep.radiative_fraction", radiative_fraction)?;
                        let xi = unit_interval("sep.soot_fraction", soot_fraction)?;
                        let max = fs * m * dhc / (1.0 + 4.0 * thomas / d);
                        max * (1.0 - xi) + 20e3 * xi
                    }
                };
                (SOLID_FLAME, thomas, Some(sep), None)
            }
            PoolFireRadiation::ChineseSafetyEvaluation { efficiency } => {
                let eta = fraction("radiation.efficiency", efficiency)?;
                let r = d / 2.0;
                let h = 84.0 * r * (m / (rho * (2.0 * g * r).sqrt())).powf(0.6);
                let q =
                    (PI * r * r + 2.0 * PI * r * h) * m * eta * dhc / (72.0 * m.powf(0.6) + 1.0);
                (CHINESE, h, None, Some(q))
            }
        };
        let mut result = PoolFireResult {
            model,
            inputs: *self,
            pool_area_m2: area,
            burning_rate_kg_per_m2_s: m,
            mass_burning_rate_kg_per_s: m * area,
            flame_length_m,
            tilt_deg: if sep.is_some() { tilt_deg } else { 0.0 },
            surface_emissive_power_w_per_m2: sep,
            radiated_power_w: radiated,
            distances: Vec::new(),
        };
        result.distances = result.distances_to(levels_w_per_m2)?;
        Ok(result)
    }

    /// Heat flux (W/m²) at `distance_m` from the pool centre. At 0 (and
    /// anywhere inside the pool) the solid flame gives SEP·τ (engulfment)
    /// and the point-source forms their value at the pool edge: the largest
    /// flux of the model.
    ///
    /// # Errors
    /// As [`PoolFire::evaluate`], and [`SafetyError::InvalidInput`] for a
    /// distance that is NaN, infinite or negative.
    pub fn flux_at(&self, distance_m: f64) -> Result<f64, SafetyError> {
        self.evaluate(&[])?.effect_at(distance_m)
    }
}

fn burning_rate(rate: &BurningRate, d: f64, dhc: f64) -> Result<f64, SafetyError> {
    match *rate {
        BurningRate::Given { kg_per_m2_s } => positive("burning_rate.kg_per_m2_s", kg_per_m2_s),
        BurningRate::Burgess {
            heat_of_vaporisation_j_per_kg,
            specific_heat_j_per_kg_k,
            boiling_point_k,
            ambient_temperature_k,
        } => {
            let hv = positive(
                "burning_rate.heat_of_vaporisation_j_per_kg",
                heat_of_vaporisation_j_per_kg,
            )?;
            let cp = positive(
                "burning_rate.specific_heat_j_per_kg_k",
                specific_heat_j_per_kg_k,
            )?;
            let tb = positive("burning_rate.boiling_point_k", boiling_point_k)?;
            let ta = positive("burning_rate.ambient_temperature_k", ambient_temperature_k)?;
            Ok(1e-3 * dhc / (hv + cp * (tb - ta).max(0.0)))
        }
        BurningRate::Babrauskas {
            max_kg_per_m2_s,
            k_beta_per_m,
        } => {
            let m_inf = positive("burning_rate.max_kg_per_m2_s", max_kg_per_m2_s)?;
            let kb = positive("burning_rate.k_beta_per_m", k_beta_per_m)?;
            Ok(m_inf * (1.0 - (-kb * d).exp()))
        }
    }
}

const POINT_SOURCE: ModelInfo = ModelInfo {
    id: "pool_fire.point_source",
    version: "1",
    source: "CCPS Guidelines for Consequence Analysis of Chemical Releases (1999) (pool fires), \
point-source model; burning rate Burgess (1961) / Babrauskas (1983); flame length \
Thomas (1963), TNO Yellow Book CPR 14E (1997) eq. 6.12–6.14",
    limitations: LIMITATIONS,
};

const SOLID_FLAME: ModelInfo = ModelInfo {
    id: "pool_fire.solid_flame",
    version: "1",
    source: "TNO Yellow Book CPR 14E (1997) ch. 6 solid-flame model with a vertical cylinder; view \
factors Mudan (1984) closed forms (YB App. 6.1; CCPS 1999); SEP given, Mudan (1984) or YB \
soot model; flame length Thomas (1963)",
    limitations: LIMITATIONS,
};

const CHINESE: ModelInfo = ModelInfo {
    id: "pool_fire.cn_safety_evaluation",
    version: "1",
    source: "Chinese 安全评价 pool-fire formula (as in 《安全评价》 textbooks and open-source Chinese \
consequence code): h = 84r[m/(ρ₀√(2gr))]^0.6, Q = (πr²+2πrh)·m·η·ΔHc/(72m^0.6+1), \
q = τQ/(4πx²); consequence-models.md §2.3",
    limitations: LIMITATIONS,
};

impl EffectModel for PoolFireResult {
    fn model(&self) -> ModelInfo {
        self.model
    }

    fn quantity(&self) -> EffectQuantity {
        EffectQuantity::HeatFluxWPerM2
    }

    fn effect_at_unchecked(&self, distance_m: f64) -> f64 {
        let r = self.inputs.diameter_m / 2.0;
        if let Some(sep) = self.surface_emissive_power_w_per_m2 {
            let (fv, fh) = view_factor::tilted_cylinder_unchecked(
                r,
                self.flame_length_m,
                self.tilt_deg.to_radians(),
                distance_m,
            );
            let f = (fv * fv + fh * fh).sqrt().min(1.0);
            sep * f
                * self
                    .inputs
                    .transmissivity
                    .at_unchecked((distance_m - r).max(0.0))
        } else {
            let q = self.radiated_power_w.unwrap_or(0.0);
            let x = distance_m.max(r);
            q * self.inputs.transmissivity.at_unchecked(x) / (4.0 * PI * x * x)
        }
    }

    fn search_range_m(&self) -> (f64, f64) {
        (1e-3, MAX_DISTANCE_M)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::effect::Reach;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    fn gasoline_point_source(d: f64) -> PoolFire {
        PoolFire {
            diameter_m: d,
            heat_of_combustion_j_per_kg: 43.7e6,
            burning_rate: BurningRate::Given { kg_per_m2_s: 0.055 },
            flame_length: FlameLength::ThomasStillAir,
            tilt: FlameTilt::Vertical,
            wind_speed_m_per_s: 0.0,
            radiation: PoolFireRadiation::PointSource {
                radiative_fraction: 0.35,
            },
            air_density_kg_per_m3: 1.2,
            transmissivity: Transmissivity::default(),
        }
    }

    fn dist(r: &PoolFireResult, level: f64) -> f64 {
        r.distance_to(level).unwrap().reach.distance_m().unwrap()
    }

    #[test]
    fn burgess_hexane() {
        // Burgess (CCPS 1999), n-hexane: ΔH_c 4.47e7 J/kg, ΔH_v
        // 3.35e5 J/kg, c_p 2260 J/kg·K, T_b 341.9 K, T_a 293.15 K:
        // m'' = 10⁻³·4.47e7/(3.35e5 + 2260·48.75) = 44 700/445 175
        // = 0.1004 kg/m²·s (consequence-models.md §2.1).
        let m = burning_rate(
            &BurningRate::Burgess {
                heat_of_vaporisation_j_per_kg: 3.35e5,
                specific_heat_j_per_kg_k: 2260.0,
                boiling_point_k: 341.9,
                ambient_temperature_k: 293.15,
            },
            10.0,
            4.47e7,
        )
        .unwrap();
        assert!(close(m, 0.1004, 0.02), "{m}");
    }

    #[test]
    fn point_source_gasoline_20_m() {
        // CCPS point source (consequence-models.md §2.4 b): gasoline, D = 20 m,
        // m'' = 0.055 kg/m²·s, ΔH_c = 43.7 MJ/kg, η = 0.35, τ = 1.
        // A = π·20²/4 = 314.16 m²; m''A = 17.279 kg/s;
        // Q_rad = 0.35·17.279·43.7e6 = 2.6428e8 W.
        // q(50 m) = 2.6428e8/(4π·2500) = 8 412 W/m².
        // x(37.5 kW/m²) = √(2.6428e8/(4π·37 500)) = √560.8 = 23.68 m;
        // x(12.5 kW/m²) = √1682.5 = 41.02 m; x(4 kW/m²) = √5257.7 = 72.51 m.
        // Thomas: m''/(ρ_a√(gD)) = 0.055/(1.2·14.007) = 0.0032721,
        // L = 42·20·0.0032721^0.61 = 25.61 m.
        let r = gasoline_point_source(20.0)
            .evaluate(&[37_500.0, 12_500.0, 4_000.0])
            .unwrap();
        assert!(close(r.mass_burning_rate_kg_per_s, 17.28, 0.02));
        assert!(close(r.radiated_power_w.unwrap(), 2.6428e8, 0.02));
        assert!(close(r.flame_length_m, 25.61, 0.02), "{}", r.flame_length_m);
        assert!(close(r.effect_at(50.0).unwrap(), 8_412.0, 0.02));
        for (d, want) in r.distances.iter().zip([23.68, 41.02, 72.51]) {
            assert!(close(d.reach.distance_m().unwrap(), want, 0.02), "{d:?}");
        }
        assert_eq!(r.model.id, "pool_fire.point_source");
    }

    #[test]
    fn chinese_formula_crude_oil() {
        // Chinese 安全评价 formula (consequence-models.md §2.4 a): crude oil,
        // r = 24.7 m, m'' = 0.0781 kg/m²·s, ΔH_c = 41.03 MJ/kg, ρ₀ = 1.293,
        // η = 0.35 (the source uses g = 9.8; we use 9.81, −0.03 % on h).
        // h = 84·24.7·[0.0781/(1.293·√(2·9.8·24.7))]^0.6
        //   = 2074.8·(0.0781/28.450)^0.6 = 2074.8·0.0029046 = 60.27 m.
        // Q = (π·24.7² + 2π·24.7·60.27)·0.0781·0.35·41.03e6/(72·0.0781^0.6 + 1)
        //   = (1916.6 + 9353.6)·1.12154e6/(72·0.21656 + 1)
        //   = 11 270.2·1.12154e6/16.592 = 7.618e8 W.
        // x(37.5 kW/m²) = √(7.618e8/(4π·37 500)) = 40.21 m;
        // x(4 kW/m²) = 123.11 m; x(1.6 kW/m²) = 194.65 m.
        let fire = PoolFire {
            diameter_m: 49.4,
            heat_of_combustion_j_per_kg: 41.03e6,
            burning_rate: BurningRate::Given {
                kg_per_m2_s: 0.0781,
            },
            flame_length: FlameLength::ThomasStillAir,
            tilt: FlameTilt::Vertical,
            wind_speed_m_per_s: 0.0,
            radiation: PoolFireRadiation::ChineseSafetyEvaluation { efficiency: 0.35 },
            air_density_kg_per_m3: 1.293,
            transmissivity: Transmissivity::default(),
        };
        let r = fire.evaluate(&[37_500.0, 4_000.0, 1_600.0]).unwrap();
        assert!(close(r.flame_length_m, 60.27, 0.02), "{}", r.flame_length_m);
        assert!(close(r.radiated_power_w.unwrap(), 7.618e8, 0.02));
        for (d, want) in r.distances.iter().zip([40.21, 123.11, 194.65]) {
            assert!(close(d.reach.distance_m().unwrap(), want, 0.02), "{d:?}");
        }
    }

    #[test]
    fn yellow_book_benzene_flame_and_sep() {
        // TNO Yellow Book CPR 14E §6.6.3 benzene pool fire (consequence-models.md
        // §2.4 c): D = 42.4457 m, m'' = 0.085 kg/m²·s, u_w = 5 m/s, ρ_a ≈ 1.225.
        // u_c = (9.81·0.085·42.4457/1.225)^(1/3) = 28.893^(1/3) = 3.0685 m/s,
        // u* = 5/3.0685 = 1.6295; m''/(ρ_a√(gD)) = 0.085/(1.225·20.406) = 0.0034004;
        // L/D = 55·0.0034004^0.67·1.6295^(−0.21) = 55·0.022185·0.90266 = 1.1014;
        // L = 46.75 m (printed 46.7725).
        // SEP_max = 0.4·0.085·40.15e6/(1 + 4·46.775/42.4457) = 1.3651e6/5.4080
        //   = 252.4 kW/m²; SEP = 0.2·252.4 + 0.8·20 = 66.48 kW/m² (printed 66).
        let fire = PoolFire {
            diameter_m: 42.4457,
            heat_of_combustion_j_per_kg: 40.15e6,
            burning_rate: BurningRate::Given { kg_per_m2_s: 0.085 },
            flame_length: FlameLength::ThomasWind,
            tilt: FlameTilt::Given { degrees: 50.8287 },
            wind_speed_m_per_s: 5.0,
            radiation: PoolFireRadiation::SolidFlame {
                sep: SurfaceEmissivePower::YellowBookSoot {
                    radiative_fraction: 0.4,
                    soot_fraction: 0.8,
                },
            },
            air_density_kg_per_m3: 1.225,
            transmissivity: Transmissivity::Fixed { tau: 0.71474 },
        };
        let r = fire.evaluate(&[]).unwrap();
        assert!(
            close(r.flame_length_m, 46.7725, 0.02),
            "{}",
            r.flame_length_m
        );
        let sep = r.surface_emissive_power_w_per_m2.unwrap();
        assert!(close(sep, 66_480.0, 0.02), "{sep}");
        // With the YB tilt 50.8287° (the Welker–Sliepcevich correlation, which
        // we do not implement, so it is given) and τ = 0.71474 (given):
        // F_v = 0.091924, F_h = 0.029152, F_max = 0.09644;
        // q(100 m) = 66.48·0.09644·0.71474 = 4.583 kW/m² (printed 4.581).
        let q = r.effect_at(100.0).unwrap();
        assert!(close(q, 4_581.0, 0.02), "{q}");
        // Upright, the same flame gives F_max = 0.06594 and q = 3.13 kW/m²:
        // ignoring tilt would understate the downwind flux by a third.
        let upright = PoolFire {
            tilt: FlameTilt::Vertical,
            ..fire
        };
        let q0 = upright.flux_at(100.0).unwrap();
        assert!(close(q0, 3_134.0, 0.02), "{q0}");
    }

    #[test]
    fn mudan_sep_and_engulfment() {
        // Mudan SEP, D = 10 m: e^(−1.2) = 0.30119, SEP = 140·0.30119 + 20·0.69881
        // = 42.167 + 13.976 = 56.14 kW/m².
        let fire = PoolFire {
            radiation: PoolFireRadiation::SolidFlame {
                sep: SurfaceEmissivePower::Mudan,
            },
            ..gasoline_point_source(10.0)
        };
        let r = fire.evaluate(&[]).unwrap();
        let sep = r.surface_emissive_power_w_per_m2.unwrap();
        assert!(close(sep, 56_140.0, 0.002), "{sep}");
        assert_eq!(r.effect_at(2.0).unwrap(), sep);
        // A level above the SEP is not reached anywhere.
        assert_eq!(r.distance_to(1e6).unwrap().reach, Reach::NotReached);
    }

    #[test]
    fn aga_tilt() {
        // AGA (CCPS 1999): YB benzene case, u* = 5/3.0685 = 1.6295;
        // cos θ = 1/√1.6295 = 0.78338 → θ = 38.43°.
        let fire = PoolFire {
            diameter_m: 42.4457,
            heat_of_combustion_j_per_kg: 40.15e6,
            burning_rate: BurningRate::Given { kg_per_m2_s: 0.085 },
            flame_length: FlameLength::ThomasWind,
            tilt: FlameTilt::Aga,
            wind_speed_m_per_s: 5.0,
            radiation: PoolFireRadiation::SolidFlame {
                sep: SurfaceEmissivePower::Mudan,
            },
            air_density_kg_per_m3: 1.225,
            transmissivity: Transmissivity::default(),
        };
        let r = fire.evaluate(&[]).unwrap();
        assert!(close(r.tilt_deg, 38.43, 0.002), "{}", r.tilt_deg);
        // Tilt toward the target raises the downwind flux.
        let upright = PoolFire {
            tilt: FlameTilt::Vertical,
            ..fire
        };
        assert!(r.effect_at(100.0).unwrap() > upright.flux_at(100.0).unwrap());
        assert!(
            PoolFire {
                tilt: FlameTilt::Given { degrees: 90.0 },
                ..fire
            }
            .evaluate(&[])
            .is_err()
        );
    }

    #[test]
    fn rejects_bad_inputs() {
        let bad = PoolFire {
            diameter_m: -1.0,
            ..gasoline_point_source(10.0)
        };
        assert!(matches!(
            bad.evaluate(&[]),
            Err(SafetyError::InvalidInput {
                field: "diameter_m",
                ..
            })
        ));
        assert!(gasoline_point_source(10.0).evaluate(&[0.0]).is_err());
        assert!(gasoline_point_source(10.0).evaluate(&[f64::NAN]).is_err());
    }

    fn radiations() -> impl Strategy<Value = PoolFireRadiation> {
        prop_oneof![
            (0.15f64..0.35).prop_map(|radiative_fraction| PoolFireRadiation::PointSource {
                radiative_fraction
            }),
            Just(PoolFireRadiation::SolidFlame {
                sep: SurfaceEmissivePower::Mudan
            }),
            Just(PoolFireRadiation::SolidFlame {
                sep: SurfaceEmissivePower::YellowBookSoot {
                    radiative_fraction: 0.4,
                    soot_fraction: 0.8
                }
            }),
            (0.13f64..0.35)
                .prop_map(|efficiency| PoolFireRadiation::ChineseSafetyEvaluation { efficiency }),
        ]
    }

    proptest! {
        #[test]
        fn farther_is_never_worse(
            d in 1.0f64..80.0, radiation in radiations(), x in 0.01f64..2000.0, dx in 0.0f64..2000.0,
            rh in 0.1f64..1.0,
        ) {
            let fire = PoolFire {
                radiation,
                transmissivity: Transmissivity::Bagster { relative_humidity: rh, ambient_temperature_k: 293.15 },
                ..gasoline_point_source(d)
            };
            let r = fire.evaluate(&[]).unwrap();
            prop_assert!(r.effect_at(x + dx).unwrap() <= r.effect_at(x).unwrap() * (1.0 + 1e-12));
        }

        #[test]
        fn tilted_flame_farther_is_never_worse_beyond_its_reach(
            d in 2.0f64..60.0, u in 0.0f64..15.0, f in 1.0f64..4.0, df in 0.0f64..3.0,
        ) {
            let fire = PoolFire {
                radiation: PoolFireRadiation::SolidFlame { sep: SurfaceEmissivePower::Mudan },
                flame_length: FlameLength::ThomasWind,
                tilt: FlameTilt::Aga,
                wind_speed_m_per_s: u,
                ..gasoline_point_source(d)
            };
            let r = fire.evaluate(&[]).unwrap();
            // Beyond the horizontal reach of the tilted flame (R + L·sin θ).
            let reach = d / 2.0 + r.flame_length_m * r.tilt_deg.to_radians().sin();
            let x = reach * f;
            prop_assert!(r.effect_at(x + reach * df).unwrap() <= r.effect_at(x).unwrap() * (1.0 + 1e-9));
        }

        #[test]
        fn more_burning_rate_never_shorter(
            d in 1.0f64..80.0, m in 0.01f64..0.15, dm in 0.0f64..0.1, radiation in radiations(),
            level in 1_000.0f64..40_000.0,
        ) {
            // Point-source and Chinese forms: q ∝ m'' (SEP models: SEP rises with m''
            // through the soot model, the Mudan SEP is independent of it).
            let fire = |m: f64| PoolFire {
                burning_rate: BurningRate::Given { kg_per_m2_s: m },
                radiation,
                ..gasoline_point_source(d)
            };
            let small = fire(m).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            let large = fire(m + dm).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            prop_assert!(large >= small * (1.0 - 1e-9), "{small} > {large}");
        }
    }

    #[test]
    fn refuses_nan_and_negative_distances_and_engulfs_at_zero() {
        for radiation in [
            PoolFireRadiation::PointSource {
                radiative_fraction: 0.35,
            },
            PoolFireRadiation::SolidFlame {
                sep: SurfaceEmissivePower::Mudan,
            },
            PoolFireRadiation::ChineseSafetyEvaluation { efficiency: 0.24 },
        ] {
            let fire = PoolFire {
                radiation,
                ..gasoline_point_source(10.0)
            };
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
                assert!(matches!(
                    fire.flux_at(bad),
                    Err(SafetyError::InvalidInput {
                        field: "distance_m",
                        ..
                    })
                ));
            }
            // At the centre: the largest flux of the model.
            let q0 = fire.flux_at(0.0).unwrap();
            assert!(q0 > 0.0 && q0 >= fire.flux_at(1.0).unwrap());
        }
        assert!(PoolFire::equivalent_diameter_m(f64::NAN).is_err());
        assert!(PoolFire::equivalent_diameter_m(0.0).is_err());
        let d = PoolFire::equivalent_diameter_m(PI).unwrap();
        assert!((d - 2.0).abs() < 1e-12);
    }

    #[test]
    fn bigger_point_source_pool_reaches_farther() {
        let a = dist(&gasoline_point_source(10.0).evaluate(&[]).unwrap(), 5_000.0);
        let b = dist(&gasoline_point_source(20.0).evaluate(&[]).unwrap(), 5_000.0);
        assert!(b > a);
    }
}

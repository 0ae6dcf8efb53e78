//! Toxic dispersion by a **Gaussian plume** (continuous point source with
//! ground reflection) with **Pasquill–Gifford stability classes A–F** and
//! **Briggs (1973)** dispersion coefficients.
//!
//! **Dense-gas behaviour is not modelled.** A heavier-than-air cloud
//! (chlorine, phosgene, H₂S, cold or flashing ammonia, LPG, HF aerosol)
//! slumps under gravity, spreads sideways and upwind, and entrains air far
//! more slowly than this passive model assumes; its real footprint can be
//! wider, shorter or longer than this model's. Use a dense-gas model
//! (Britter–McQuaid, SLAB, DEGADIS, Phast UDM) for such releases; this
//! model is a screening tool for neutrally buoyant gases.
//!
//! Formula (Turner 1970; CCPS 1999; `consequence-models.md` §4.1):
//!
//! C(x, y, z) = Q/(2π·u·σy·σz) · exp(−y²/2σy²) ·
//! [exp(−(z − H)²/2σz²) + exp(−(z + H)²/2σz²)]  (kg/m³)
//!
//! Q the emission rate (kg/s), u the wind speed at release height (m/s), H
//! the (effective) release height and z the receptor height (m), x downwind,
//! y crosswind. At ground level on the centreline with H = 0:
//! C = Q/(π·u·σy·σz).
//!
//! Briggs (1973) σ, x in m, fitted for 100 m ≤ x ≤ 10 km (ALOHA TM NOS OR&R
//! 43 Table 13; GasDispersion.jl `briggs.jl`):
//!
//! | class | σy rural | σz rural | σy urban | σz urban |
//! |---|---|---|---|---|
//! | A | 0.22x(1+0.0001x)^−½ | 0.20x | 0.32x(1+0.0004x)^−½ | 0.24x(1+0.001x)^½ |
//! | B | 0.16x(1+0.0001x)^−½ | 0.12x | as A | as A |
//! | C | 0.11x(1+0.0001x)^−½ | 0.08x(1+0.0002x)^−½ | 0.22x(1+0.0004x)^−½ | 0.20x |
//! | D | 0.08x(1+0.0001x)^−½ | 0.06x(1+0.0015x)^−½ | 0.16x(1+0.0004x)^−½ | 0.14x(1+0.0003x)^−½ |
//! | E | 0.06x(1+0.0001x)^−½ | 0.03x(1+0.0003x)^−1 | 0.11x(1+0.0004x)^−½ | 0.08x(1+0.0015x)^−½ |
//! | F | 0.04x(1+0.0001x)^−½ | 0.016x(1+0.0003x)^−1 | as E | as E |

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::consequence::toxic_probits::ToxicProbit;
use crate::effect::{EffectDistance, EffectModel, EffectQuantity, ModelInfo};
use crate::error::{SafetyError, distance, finite, non_negative, positive};

/// What the Gaussian plume does not model. Returned in every result.
pub const LIMITATIONS: &str = "DENSE-GAS BEHAVIOUR IS NOT MODELLED: this is a passive \
(neutrally buoyant) Gaussian plume. Heavier-than-air releases (chlorine, phosgene, H2S, flashing \
or cold ammonia, LPG, HF) slump, spread upwind and crosswind and dilute more slowly; for them the \
result can be wrong by a large factor in either direction and a dense-gas model must be used. \
Also: steady continuous release (no puffs or time-varying rates, no source-term model); no plume \
rise, building wake or terrain; uniform wind; Briggs σ are fitted for 100 m–10 km (distances \
outside are flagged as extrapolated) with no averaging-time correction (about 10 min); wind speeds \
below about 1 m/s are outside the model's validity.";

const MODEL: ModelInfo = ModelInfo {
    id: "dispersion.gaussian_plume.briggs",
    version: "1",
    source: "Gaussian plume with ground reflection (Turner 1970 Workbook of Atmospheric \
Dispersion Estimates; CCPS 1999); Pasquill–Gifford classes A–F; Briggs (1973) σy, σz \
(rural/urban) as tabulated in ALOHA Technical Documentation NOS OR&R 43 Table 13",
    limitations: LIMITATIONS,
};

/// Far limit of the distance search, m.
const MAX_DISTANCE_M: f64 = 100_000.0;

/// Pasquill–Gifford atmospheric stability class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StabilityClass {
    /// Very unstable.
    A,
    /// Unstable.
    B,
    /// Slightly unstable.
    C,
    /// Neutral.
    D,
    /// Slightly stable.
    E,
    /// Stable.
    F,
}

/// Surface type for the Briggs coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Terrain {
    /// Open country (Briggs rural, after Pasquill–Gifford).
    Rural,
    /// Built-up area (Briggs urban, after McElroy–Pooler St. Louis data).
    Urban,
}

/// Briggs (1973) (σy, σz) in m at downwind distance `x_m` (m); (0, 0) at
/// the source (x = 0).
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless `x_m` is a finite number ≥ 0.
pub fn briggs_sigmas(
    class: StabilityClass,
    terrain: Terrain,
    x_m: f64,
) -> Result<(f64, f64), SafetyError> {
    let x = distance("x_m", x_m)?;
    Ok(briggs_sigmas_unchecked(class, terrain, x))
}

/// [`briggs_sigmas`] without the check, for distances ≥ 0.
pub(crate) fn briggs_sigmas_unchecked(
    class: StabilityClass,
    terrain: Terrain,
    x_m: f64,
) -> (f64, f64) {
    use StabilityClass::*;
    let x = x_m.max(0.0);
    let inv_sqrt = |k: f64| (1.0 + k * x).sqrt().recip();
    match terrain {
        Terrain::Rural => {
            let sy = match class {
                A => 0.22,
                B => 0.16,
                C => 0.11,
                D => 0.08,
                E => 0.06,
                F => 0.04,
            } * x
                * inv_sqrt(0.0001);
            let sz = match class {
                A => 0.20 * x,
                B => 0.12 * x,
                C => 0.08 * x * inv_sqrt(0.0002),
                D => 0.06 * x * inv_sqrt(0.0015),
                E => 0.03 * x / (1.0 + 0.0003 * x),
                F => 0.016 * x / (1.0 + 0.0003 * x),
            };
            (sy, sz)
        }
        Terrain::Urban => match class {
            A | B => (
                0.32 * x * inv_sqrt(0.0004),
                0.24 * x * (1.0 + 0.001 * x).sqrt(),
            ),
            C => (0.22 * x * inv_sqrt(0.0004), 0.20 * x),
            D => (0.16 * x * inv_sqrt(0.0004), 0.14 * x * inv_sqrt(0.0003)),
            E | F => (0.11 * x * inv_sqrt(0.0004), 0.08 * x * inv_sqrt(0.0015)),
        },
    }
}

/// The Gaussian-plume formula itself for given σy, σz (m): concentration
/// (kg/m³) at crosswind `y_m`, height `z_m` from a source of `q_kg_per_s` at
/// height `h_m` in wind `u_m_per_s`, with ground reflection.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless Q, u, σy and σz are finite
/// positive numbers, y is finite and z, H are finite numbers ≥ 0.
pub fn plume_concentration(
    q_kg_per_s: f64,
    u_m_per_s: f64,
    sigma_y_m: f64,
    sigma_z_m: f64,
    y_m: f64,
    z_m: f64,
    h_m: f64,
) -> Result<f64, SafetyError> {
    Ok(plume_concentration_unchecked(
        positive("q_kg_per_s", q_kg_per_s)?,
        positive("u_m_per_s", u_m_per_s)?,
        positive("sigma_y_m", sigma_y_m)?,
        positive("sigma_z_m", sigma_z_m)?,
        finite("y_m", y_m)?,
        non_negative("z_m", z_m)?,
        non_negative("h_m", h_m)?,
    ))
}

/// [`plume_concentration`] without the checks.
pub(crate) fn plume_concentration_unchecked(
    q_kg_per_s: f64,
    u_m_per_s: f64,
    sigma_y_m: f64,
    sigma_z_m: f64,
    y_m: f64,
    z_m: f64,
    h_m: f64,
) -> f64 {
    let (sy, sz) = (sigma_y_m, sigma_z_m);
    let vertical = (-(z_m - h_m).powi(2) / (2.0 * sz * sz)).exp()
        + (-(z_m + h_m).powi(2) / (2.0 * sz * sz)).exp();
    q_kg_per_s / (2.0 * PI * u_m_per_s * sy * sz)
        * (-(y_m * y_m) / (2.0 * sy * sy)).exp()
        * vertical
}

/// Inputs of a Gaussian plume. All SI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GaussianPlume {
    /// Continuous emission rate Q, kg/s.
    pub emission_rate_kg_per_s: f64,
    /// Wind speed u at release height, m/s.
    pub wind_speed_m_per_s: f64,
    /// Pasquill–Gifford stability class.
    pub stability: StabilityClass,
    /// Rural or urban Briggs coefficients.
    pub terrain: Terrain,
    /// (Effective) release height H, m.
    pub release_height_m: f64,
    /// Receptor height z, m (0 for ground level; 1.5 for breathing height).
    pub receptor_height_m: f64,
}

/// A Gaussian plume evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GaussianPlumeResult {
    /// Model identity and provenance; `model.limitations` starts with
    /// "DENSE-GAS BEHAVIOUR IS NOT MODELLED".
    pub model: ModelInfo,
    /// The inputs, as given.
    pub inputs: GaussianPlume,
    /// The same text as `model.limitations`, at the top level so that no
    /// consumer can miss it.
    pub limitations: &'static str,
    /// Centreline distance downwind (at receptor height) to each requested
    /// concentration level (kg/m³).
    pub distances: Vec<EffectDistance>,
}

impl GaussianPlume {
    /// Validate and find the centreline distance to each concentration level.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for any non-physical input or level.
    pub fn evaluate(&self, levels_kg_per_m3: &[f64]) -> Result<GaussianPlumeResult, SafetyError> {
        positive("emission_rate_kg_per_s", self.emission_rate_kg_per_s)?;
        positive("wind_speed_m_per_s", self.wind_speed_m_per_s)?;
        non_negative("release_height_m", self.release_height_m)?;
        non_negative("receptor_height_m", self.receptor_height_m)?;
        let mut result = GaussianPlumeResult {
            model: MODEL,
            inputs: *self,
            limitations: LIMITATIONS,
            distances: Vec::new(),
        };
        result.distances = result.distances_to(levels_kg_per_m3)?;
        Ok(result)
    }
}

/// `x_m` if it is a downwind distance the plume can answer at: finite and
/// positive (the plume is singular at the source, and this passive model says
/// nothing of the upwind side, where a dense gas can spread).
fn downwind(x_m: f64) -> Result<f64, SafetyError> {
    if x_m.is_finite() && x_m > 0.0 {
        Ok(x_m)
    } else {
        Err(SafetyError::InvalidInput {
            field: "x_m",
            value: x_m,
            expected: "a finite downwind distance > 0 m (the plume is singular at the source \
and gives nothing upwind)",
        })
    }
}

impl GaussianPlumeResult {
    /// Concentration (kg/m³) at downwind `x_m`, crosswind `y_m`, height `z_m`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless x is a finite number > 0 (at the
    /// source the plume is singular; upwind it is refused rather than
    /// answered with 0), y is finite and z a finite number ≥ 0.
    pub fn concentration_at(&self, x_m: f64, y_m: f64, z_m: f64) -> Result<f64, SafetyError> {
        let x = downwind(x_m)?;
        let y = finite("y_m", y_m)?;
        let z = non_negative("z_m", z_m)?;
        Ok(self.concentration_unchecked(x, y, z))
    }

    fn concentration_unchecked(&self, x_m: f64, y_m: f64, z_m: f64) -> f64 {
        if x_m <= 0.0 {
            return 0.0;
        }
        let p = &self.inputs;
        let (sy, sz) = briggs_sigmas_unchecked(p.stability, p.terrain, x_m);
        plume_concentration_unchecked(
            p.emission_rate_kg_per_s,
            p.wind_speed_m_per_s,
            sy,
            sz,
            y_m,
            z_m,
            p.release_height_m,
        )
    }

    /// Crosswind half-width (m) of the region above `level_kg_per_m3` at
    /// downwind `x_m` and receptor height: y = σy·√(2·ln(C_cl/level)); 0 when
    /// the centreline is below the level.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless x is a finite number > 0 and the
    /// level a finite number > 0.
    pub fn half_width_m(&self, x_m: f64, level_kg_per_m3: f64) -> Result<f64, SafetyError> {
        let x = downwind(x_m)?;
        let level = positive("level_kg_per_m3", level_kg_per_m3)?;
        let c = self.effect_at_unchecked(x);
        if c <= level {
            return Ok(0.0);
        }
        let (sy, _) = briggs_sigmas_unchecked(self.inputs.stability, self.inputs.terrain, x);
        Ok(sy * (2.0 * (c / level).ln()).sqrt())
    }

    /// The farthest centreline distance at which `probit` gives at least
    /// probability `p` for `exposure_s` seconds of exposure.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless 0 < p < 1 and exposure_s > 0.
    pub fn distance_to_probability(
        &self,
        probit: &ToxicProbit,
        p: f64,
        exposure_s: f64,
    ) -> Result<EffectDistance, SafetyError> {
        let c = probit.concentration_for_probability(p, exposure_s)?;
        self.distance_to(c)
    }
}

impl EffectModel for GaussianPlumeResult {
    fn model(&self) -> ModelInfo {
        self.model
    }

    fn quantity(&self) -> EffectQuantity {
        EffectQuantity::ConcentrationKgPerM3
    }

    /// Downwind distances only, and not 0 (the plume is singular there).
    fn check_distance(&self, distance_m: f64) -> Result<f64, SafetyError> {
        downwind(distance_m).map_err(|e| match e {
            SafetyError::InvalidInput {
                value, expected, ..
            } => SafetyError::InvalidInput {
                field: "distance_m",
                value,
                expected,
            },
            other => other,
        })
    }

    /// Centreline concentration at receptor height.
    fn effect_at_unchecked(&self, distance_m: f64) -> f64 {
        self.concentration_unchecked(distance_m, 0.0, self.inputs.receptor_height_m)
    }

    fn search_range_m(&self) -> (f64, f64) {
        (1.0, MAX_DISTANCE_M)
    }

    fn validity_range_m(&self) -> Option<(f64, f64)> {
        Some((100.0, 10_000.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consequence::units::{MOLAR_VOLUME_25C_L_PER_MOL, ppm_to_kg_per_m3};
    use proptest::prelude::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    fn chlorine(q: f64, u: f64, class: StabilityClass) -> GaussianPlume {
        GaussianPlume {
            emission_rate_kg_per_s: q,
            wind_speed_m_per_s: u,
            stability: class,
            terrain: Terrain::Rural,
            release_height_m: 0.0,
            receptor_height_m: 0.0,
        }
    }

    #[test]
    fn chlorine_1_kg_per_s_class_d() {
        // consequence-models.md §4.2: Q = 1 kg/s, u = 2 m/s, D rural, x = 1000 m,
        // ground source and receptor. σy = 0.08·1000/√1.1 = 80/1.04881 = 76.277 m;
        // σz = 0.06·1000/√2.5 = 60/1.58114 = 37.947 m;
        // C = Q/(π·u·σy·σz) = 1/(π·2·76.277·37.947) = 1/18 186.6 = 5.4985e-5 kg/m³
        // = 54.985 mg/m³ = 18.97 ppm (·24.465/70.906).
        let r = chlorine(1.0, 2.0, StabilityClass::D).evaluate(&[]).unwrap();
        let (sy, sz) = briggs_sigmas(StabilityClass::D, Terrain::Rural, 1000.0).unwrap();
        assert!(close(sy, 76.277, 1e-4) && close(sz, 37.947, 1e-4));
        assert!(close(r.effect_at(1000.0).unwrap(), 5.4985e-5, 0.02));
        // Urban: σy = 135.225, σz = 122.788, C = 9.585 mg/m³.
        let urban = GaussianPlume {
            terrain: Terrain::Urban,
            ..chlorine(1.0, 2.0, StabilityClass::D)
        };
        assert!(close(
            urban.evaluate(&[]).unwrap().effect_at(1000.0).unwrap(),
            9.585e-6,
            0.02
        ));
    }

    #[test]
    fn chlorine_distances_to_endpoints() {
        // Centreline distances (consequence-models.md §4.2), 25 °C molar volume:
        // IDLH 10 ppm = 10·70.906/24.465 = 28.98 mg/m³ → 1483.9 m;
        // 20 ppm → 968.7 m; 3 ppm → 3266.3 m.
        let ppm = |v| ppm_to_kg_per_m3(v, 70.906, MOLAR_VOLUME_25C_L_PER_MOL);
        let r = chlorine(1.0, 2.0, StabilityClass::D)
            .evaluate(&[ppm(10.0), ppm(20.0), ppm(3.0)])
            .unwrap();
        for (d, want) in r.distances.iter().zip([1483.9, 968.7, 3266.3]) {
            assert!(close(d.reach.distance_m().unwrap(), want, 0.02), "{d:?}");
            assert!(!d.extrapolated);
        }
        // Class F, u = 1.5 m/s: IDLH at 6648.8 m.
        let f = chlorine(1.0, 1.5, StabilityClass::F)
            .evaluate(&[ppm(10.0)])
            .unwrap();
        assert!(close(
            f.distances[0].reach.distance_m().unwrap(),
            6648.8,
            0.02
        ));
        assert!(
            f.limitations
                .starts_with("DENSE-GAS BEHAVIOUR IS NOT MODELLED")
        );
        assert_eq!(f.limitations, f.model.limitations);
    }

    #[test]
    fn purple_book_appendix_6b_plume() {
        // Purple Book CPR 18E App. 6.B: Q = 100 kg/s, u = 5 m/s, σy = 28.8 m,
        // σz = 10.3 m, h = z = 1 m, centreline:
        // C = 100/(2π·5·28.8·10.3)·[1 + exp(−2²/(2·10.3²))]
        //   = 100/9 319.1·(1 + e^(−0.018852)) = 0.0107306·1.981324 = 0.021261 kg/m³
        // (printed 21.3 g/m³).
        let c = plume_concentration(100.0, 5.0, 28.8, 10.3, 0.0, 1.0, 1.0).unwrap();
        assert!(plume_concentration(f64::NAN, 5.0, 28.8, 10.3, 0.0, 1.0, 1.0).is_err());
        assert!(plume_concentration(100.0, 5.0, 0.0, 10.3, 0.0, 1.0, 1.0).is_err());
        assert!(briggs_sigmas(StabilityClass::D, Terrain::Rural, -1.0).is_err());
        assert_eq!(
            briggs_sigmas(StabilityClass::D, Terrain::Rural, 0.0).unwrap(),
            (0.0, 0.0)
        );
        assert!(close(c, 0.021261, 0.002), "{c}");
    }

    #[test]
    fn briggs_f_third_party_value() {
        // Briggs rural F, Q = 0.1 kg/s, u = 2 m/s, x = 500 m: σy = 0.04·500/√1.05
        // = 19.518 m, σz = 0.016·500/1.15 = 6.957 m;
        // C = 0.1/(π·2·19.518·6.957) = 0.1/853.15 = 1.1721e-4 kg/m³ (printed 1.1722e-4).
        let r = chlorine(0.1, 2.0, StabilityClass::F).evaluate(&[]).unwrap();
        assert!(close(r.effect_at(500.0).unwrap(), 1.1722e-4, 0.02));
    }

    #[test]
    fn elevated_source_and_off_axis() {
        // H = 20 m, class D, x = 1000 m, ground receptor:
        // C = Q/(π u σy σz)·exp(−20²/(2·37.947²)) = 5.4985e-5·exp(−0.13889)
        //   = 5.4985e-5·0.87032 = 4.7855e-5 kg/m³.
        // Off axis y = σy: factor e^(−½) = 0.60653 → 2.9025e-5.
        let r = GaussianPlume {
            release_height_m: 20.0,
            ..chlorine(1.0, 2.0, StabilityClass::D)
        }
        .evaluate(&[])
        .unwrap();
        assert!(close(r.effect_at(1000.0).unwrap(), 4.7855e-5, 0.02));
        assert!(close(
            r.concentration_at(1000.0, 76.277, 0.0).unwrap(),
            2.9025e-5,
            0.02
        ));
        // Upwind and at the source: refused, not 0.
        for bad in [-10.0, 0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(r.concentration_at(bad, 0.0, 0.0).is_err());
            assert!(r.effect_at(bad).is_err());
            assert!(r.half_width_m(bad, 1e-5).is_err());
            assert!(r.half_width_m(1000.0, bad).is_err());
        }
        assert!(r.concentration_at(1000.0, f64::NAN, 0.0).is_err());
        assert!(r.concentration_at(1000.0, 0.0, -1.0).is_err());
        // Half-width where C = C_cl/e: σy·√2 = 107.87 m.
        let w = r
            .half_width_m(1000.0, r.effect_at(1000.0).unwrap() / std::f64::consts::E)
            .unwrap();
        assert!(close(w, 76.277 * 2f64.sqrt(), 1e-6));
        // Near the stack the ground concentration rises before falling: the
        // distance to a level is the outer crossing.
        let level = r.effect_at(2000.0).unwrap();
        let d = r.distance_to(level).unwrap().reach.distance_m().unwrap();
        assert!(close(d, 2000.0, 1e-6), "{d}");
    }

    fn classes() -> impl Strategy<Value = StabilityClass> {
        prop_oneof![
            Just(StabilityClass::A),
            Just(StabilityClass::B),
            Just(StabilityClass::C),
            Just(StabilityClass::D),
            Just(StabilityClass::E),
            Just(StabilityClass::F),
        ]
    }

    fn terrains() -> impl Strategy<Value = Terrain> {
        prop_oneof![Just(Terrain::Rural), Just(Terrain::Urban)]
    }

    proptest! {
        #[test]
        fn more_release_reaches_farther(
            q in 0.01f64..100.0, dq in 0.0f64..100.0, u in 1.0f64..15.0, class in classes(),
            terrain in terrains(), h in 0.0f64..50.0, level in 1e-7f64..1e-2,
        ) {
            let plume = |q| GaussianPlume {
                emission_rate_kg_per_s: q, wind_speed_m_per_s: u, stability: class, terrain,
                release_height_m: h, receptor_height_m: 0.0,
            };
            let a = plume(q).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            let b = plume(q + dq).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            prop_assert!(b >= a * (1.0 - 1e-12), "{a} > {b}");
        }

        #[test]
        fn farther_is_never_worse_for_ground_release(
            q in 0.01f64..100.0, u in 1.0f64..15.0, class in classes(), terrain in terrains(),
            x in 1.0f64..50_000.0, dx in 0.0f64..50_000.0, y in 0.0f64..500.0,
        ) {
            let r = GaussianPlume {
                emission_rate_kg_per_s: q, wind_speed_m_per_s: u, stability: class, terrain,
                release_height_m: 0.0, receptor_height_m: 0.0,
            }.evaluate(&[]).unwrap();
            prop_assert!(r.effect_at(x + dx).unwrap() <= r.effect_at(x).unwrap());
            prop_assert!(r.concentration_at(x, y, 0.0).unwrap() <= r.effect_at(x).unwrap());
        }
    }
}

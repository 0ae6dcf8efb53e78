//! Jet fire: a burning jet from a pressurised gas release, as an **API 521
//! point source** (API Standard 521, *Pressure-relieving and Depressuring
//! Systems*, flare radiation method; CCPS 1999). The Chamberlain /
//! TNO Yellow Book frustum (solid-flame) model is **not** implemented.
//!
//! Formulas (SI):
//! - heat release Q = ṁ·ΔH_c (W);
//! - flame length (API 521 flame-length chart, fitted; \[M\]): **L = 0.00326·Q^0.478** m, Q in W;
//! - flux at the target: **q = τ·F·Q/(4π·r²)**, F the fraction of heat
//!   radiated (API 521: ~0.15 methane, ~0.3 propane; 0.2 is common for
//!   natural gas), r the distance from the point source.
//!
//! Where the point source sits is [`JetSource`]: at the release point at
//! ground level (r = x, the form of `consequence-models.md` §3.2 and of most
//! Chinese 安全评价 screening), or at mid-flame of a vertical jet
//! (API 521: r = √(x² + (h + L/2)²)).

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::consequence::transmissivity::Transmissivity;
use crate::effect::{EffectDistance, EffectModel, EffectQuantity, ModelInfo};
use crate::error::{SafetyError, fraction, non_negative, positive};

const MAX_DISTANCE_M: f64 = 100_000.0;

const MODEL: ModelInfo = ModelInfo {
    id: "jet_fire.api521_point_source",
    version: "1",
    source: "API Standard 521 (flare radiation, point-source method) as in CCPS Guidelines for \
Consequence Analysis (1999); flame length L = 0.00326·Q^0.478 (Q in W) [M]",
    limitations: "Point source: no flame shape (the Chamberlain/Yellow Book frustum is not \
implemented), so it is unreliable within about one flame length of the flame. No release-rate \
model: the mass rate is an input and is assumed steady. Wind does not bend the flame. The radiated \
fraction is an input (API 521: 0.15 methane to 0.3 propane).",
};

/// Where the API 521 point source is placed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum JetSource {
    /// At the release point, at ground level: r = x (screening form).
    AtRelease,
    /// Vertical jet released at `release_height_m`: the source sits at
    /// mid-flame, r = √(x² + (h + L/2)²) (API 521).
    Vertical {
        /// Height of the release point above ground, m.
        release_height_m: f64,
    },
}

/// Inputs of a jet fire. All SI.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct JetFire {
    /// Release (burning) rate ṁ, kg/s.
    pub mass_rate_kg_per_s: f64,
    /// Lower heat of combustion ΔH_c, J/kg.
    pub heat_of_combustion_j_per_kg: f64,
    /// Fraction of the heat release radiated, F, in (0, 1].
    pub radiative_fraction: f64,
    /// Where the point source sits.
    pub source: JetSource,
    /// Atmospheric transmissivity.
    pub transmissivity: Transmissivity,
}

/// A jet fire evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JetFireResult {
    /// Model identity and provenance.
    pub model: ModelInfo,
    /// The inputs, as given.
    pub inputs: JetFire,
    /// Heat release ṁ·ΔH_c, W.
    pub heat_release_w: f64,
    /// Flame length, m.
    pub flame_length_m: f64,
    /// Radiated power F·ṁ·ΔH_c, W.
    pub radiated_power_w: f64,
    /// Height of the point source above ground, m.
    pub source_height_m: f64,
    /// Distance to each requested heat-flux level (W/m²), horizontal from the
    /// release point.
    pub distances: Vec<EffectDistance>,
}

impl JetFire {
    /// Validate, compute and find the distance to each heat-flux level.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for any non-physical input or level.
    pub fn evaluate(&self, levels_w_per_m2: &[f64]) -> Result<JetFireResult, SafetyError> {
        let m = positive("mass_rate_kg_per_s", self.mass_rate_kg_per_s)?;
        let dhc = positive(
            "heat_of_combustion_j_per_kg",
            self.heat_of_combustion_j_per_kg,
        )?;
        let f = fraction("radiative_fraction", self.radiative_fraction)?;
        self.transmissivity.validate()?;
        let q = m * dhc;
        let length = 0.00326 * q.powf(0.478);
        let source_height_m = match self.source {
            JetSource::AtRelease => 0.0,
            JetSource::Vertical { release_height_m } => {
                non_negative("source.release_height_m", release_height_m)? + length / 2.0
            }
        };
        let mut result = JetFireResult {
            model: MODEL,
            inputs: *self,
            heat_release_w: q,
            flame_length_m: length,
            radiated_power_w: f * q,
            source_height_m,
            distances: Vec::new(),
        };
        result.distances = result.distances_to(levels_w_per_m2)?;
        Ok(result)
    }

    /// Heat flux (W/m²) at horizontal distance `distance_m` from the release.
    /// At 0 a source at the release point ([`JetSource::AtRelease`]) is
    /// singular: the flux is that at 1 µm from it, larger than anywhere
    /// else; a raised source gives its value straight below it, the largest
    /// at ground level.
    ///
    /// # Errors
    /// As [`JetFire::evaluate`], and [`SafetyError::InvalidInput`] for a
    /// distance that is NaN, infinite or negative.
    pub fn flux_at(&self, distance_m: f64) -> Result<f64, SafetyError> {
        self.evaluate(&[])?.effect_at(distance_m)
    }
}

impl EffectModel for JetFireResult {
    fn model(&self) -> ModelInfo {
        self.model
    }

    fn quantity(&self) -> EffectQuantity {
        EffectQuantity::HeatFluxWPerM2
    }

    fn effect_at_unchecked(&self, distance_m: f64) -> f64 {
        let x = distance_m.max(0.0);
        let r2 = (x * x + self.source_height_m * self.source_height_m).max(1e-12);
        let tau = self.inputs.transmissivity.at_unchecked(r2.sqrt());
        tau * self.radiated_power_w / (4.0 * PI * r2)
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

    fn methane(m: f64) -> JetFire {
        JetFire {
            mass_rate_kg_per_s: m,
            heat_of_combustion_j_per_kg: 50e6,
            radiative_fraction: 0.2,
            source: JetSource::AtRelease,
            transmissivity: Transmissivity::default(),
        }
    }

    #[test]
    fn methane_1_kg_per_s() {
        // API 521 point source (consequence-models.md §3.2): methane 1 kg/s,
        // ΔH_c = 50 MJ/kg, F = 0.2, τ = 1. Q = 5e7 W;
        // L = 0.00326·(5e7)^0.478 = 0.00326·e^(0.478·17.72753) = 0.00326·4 787.5
        //   = 15.61 m (printed 15.61).
        // x(q) = √(F·Q/(4πq)) = √(1e7/(4π q)):
        // 37.5 kW/m² → √21.221 = 4.607 m; 25 → √31.831 = 5.642 m;
        // 12.5 → √63.662 = 7.979 m; 4 → √198.94 = 14.105 m.
        let r = methane(1.0)
            .evaluate(&[37_500.0, 25_000.0, 12_500.0, 4_000.0])
            .unwrap();
        assert!(close(r.flame_length_m, 15.61, 0.02), "{}", r.flame_length_m);
        for (d, want) in r.distances.iter().zip([4.61, 5.64, 7.98, 14.10]) {
            assert!(close(d.reach.distance_m().unwrap(), want, 0.02), "{d:?}");
        }
    }

    #[test]
    fn vertical_jet_raises_the_source() {
        // Vertical jet from 10 m: source at 10 + 15.60/2 = 17.80 m. At x = 0,
        // q = 1e7/(4π·17.80²) = 1e7/3 981.6 = 2 511 W/m²: a 4 kW/m² level is
        // never reached at ground.
        let jet = JetFire {
            source: JetSource::Vertical {
                release_height_m: 10.0,
            },
            ..methane(1.0)
        };
        let r = jet.evaluate(&[4_000.0]).unwrap();
        assert!(
            close(r.effect_at(0.0).unwrap(), 2_511.0, 0.02),
            "{}",
            r.effect_at(0.0).unwrap()
        );
        assert_eq!(r.distances[0].reach, crate::effect::Reach::NotReached);
    }

    #[test]
    fn refuses_nan_and_negative_distances() {
        for source in [
            JetSource::AtRelease,
            JetSource::Vertical {
                release_height_m: 5.0,
            },
        ] {
            let jet = JetFire {
                source,
                ..methane(1.0)
            };
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
                assert!(jet.flux_at(bad).is_err());
            }
            assert!(jet.flux_at(0.0).unwrap() >= jet.flux_at(0.5).unwrap());
        }
    }

    proptest! {
        #[test]
        fn more_release_reaches_farther(
            m in 0.01f64..500.0, dm in 0.0f64..500.0, level in 500.0f64..50_000.0, h in 0.0f64..30.0,
        ) {
            let jet = |m| JetFire { source: JetSource::Vertical { release_height_m: h }, ..methane(m) };
            let a = jet(m).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            let b = jet(m + dm).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            prop_assert!(b >= a * (1.0 - 1e-12), "{a} > {b}");
        }

        #[test]
        fn farther_is_never_worse(m in 0.01f64..500.0, x in 0.0f64..5_000.0, dx in 0.0f64..5_000.0, rh in 0.1f64..1.0) {
            let jet = JetFire {
                transmissivity: Transmissivity::Bagster { relative_humidity: rh, ambient_temperature_k: 288.15 },
                ..methane(m)
            };
            let r = jet.evaluate(&[]).unwrap();
            prop_assert!(r.effect_at(x + dx).unwrap() <= r.effect_at(x).unwrap());
        }
    }
}

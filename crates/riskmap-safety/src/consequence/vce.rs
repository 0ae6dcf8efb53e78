//! Vapour-cloud explosion by **TNT equivalence**, and blast overpressure
//! from a published curve fit.
//!
//! **TNT mass** ([`TntEquivalence`]):
//! **W_TNT = β·α·W_f·ΔH_c/Q_TNT** (CCPS 1999; TNO Yellow Book
//! CPR 14E ch. 5; Chinese 安全评价 practice and AQ/T 3046-2013 \[M\]):
//! W_f the flammable mass in the cloud, ΔH_c its lower heat of combustion,
//! α the yield factor (0.03 CCPS/HSE, **0.04** Chinese practice; range
//! 0.01–0.10), Q_TNT the blast energy of TNT (**4.52 MJ/kg** Chinese
//! practice; 4.68 YB), β the Chinese ground-burst factor (1.8; 1 in Western
//! practice). Solid explosives: W_TNT = equivalence factor × mass, given
//! directly.
//!
//! **Scaled distance** Z = R/W_TNT^(1/3) (m/kg^(1/3)), then overpressure from
//! one of the [`BlastCurve`]s. The curves differ by up to ±30 %: a result
//! always names its curve (`consequence-models.md` §1.2, §7 item 1).

use serde::{Deserialize, Serialize};

use crate::consequence::units::STANDARD_ATMOSPHERE_PA;
use crate::effect::{EffectDistance, EffectModel, EffectQuantity, ModelInfo, Reach};
use crate::error::{SafetyError, positive};

const MAX_DISTANCE_M: f64 = 100_000.0;

const LIMITATIONS: &str = "TNT equivalence: no account of congestion or confinement (no \
multi-energy or Baker–Strehlow–Tang); side-on peak overpressure only (no impulse, reflection, \
duration or fragments). The yield factor α dominates the answer. Curve fits differ by up to \
±30 %; outside the curve's scaled-distance range the value is extrapolated (flagged per distance). \
Free-air curves understate a ground burst unless β = 1.8 or the mass is doubled.";

/// How the TNT-equivalent mass is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum TntEquivalence {
    /// W_TNT = β·α·W_f·ΔH_c/Q_TNT.
    VapourCloud {
        /// Flammable mass in the cloud W_f, kg.
        fuel_mass_kg: f64,
        /// Lower heat of combustion ΔH_c, J/kg.
        heat_of_combustion_j_per_kg: f64,
        /// Yield (TNT-equivalence) factor α, in (0, 1].
        yield_factor: f64,
        /// Blast energy of TNT Q_TNT, J/kg (4.52e6 in Chinese practice).
        tnt_blast_energy_j_per_kg: f64,
        /// Ground-burst factor β (1.8 in Chinese practice, 1 otherwise).
        ground_burst_factor: f64,
    },
    /// A given TNT-equivalent mass (e.g. a solid explosive: equivalence
    /// factor × mass).
    Direct {
        /// W_TNT, kg.
        tnt_mass_kg: f64,
    },
}

impl TntEquivalence {
    /// W_TNT in kg.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for a non-positive input.
    pub fn tnt_mass_kg(&self) -> Result<f64, SafetyError> {
        match *self {
            TntEquivalence::VapourCloud {
                fuel_mass_kg,
                heat_of_combustion_j_per_kg,
                yield_factor,
                tnt_blast_energy_j_per_kg,
                ground_burst_factor,
            } => {
                let wf = positive("tnt.fuel_mass_kg", fuel_mass_kg)?;
                let dhc = positive(
                    "tnt.heat_of_combustion_j_per_kg",
                    heat_of_combustion_j_per_kg,
                )?;
                let a = crate::error::fraction("tnt.yield_factor", yield_factor)?;
                let q = positive("tnt.tnt_blast_energy_j_per_kg", tnt_blast_energy_j_per_kg)?;
                let b = positive("tnt.ground_burst_factor", ground_burst_factor)?;
                Ok(b * a * wf * dhc / q)
            }
            TntEquivalence::Direct { tnt_mass_kg } => positive("tnt.tnt_mass_kg", tnt_mass_kg),
        }
    }
}

/// A published fit of side-on peak overpressure against scaled distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlastCurve {
    /// Kinney & Graham (1985), *Explosive Shocks in Air*, free-air burst:
    /// ΔP/P_a = 808·[1 + (Z/4.5)²] / {√[1 + (Z/0.048)²]·√[1 + (Z/0.32)²]·√[1 + (Z/1.35)²]}.
    /// Reproduces the CBU-2020 values (1 kg at 5 m → 29.24 kPa). The
    /// Crowl & Louvar printing with 1616 is a different (×2) quantity and is
    /// not used. No validity range is printed with the fit in our sources;
    /// Z outside 0.2–198.5 m/kg^(1/3) (the Kingery–Bulmash data range) is
    /// flagged as extrapolation (project judgement).
    KinneyGraham1985,
    /// Kingery–Bulmash hemispherical **surface** burst, Swisdak (1994)
    /// simplified fits: ln ΔP(kPa) = A + B·lnZ + C·ln²Z + D·ln³Z + E·ln⁴Z, with
    /// (7.2106, −2.1069, −0.3229, 0.1117, 0.0685) for 0.2 ≤ Z ≤ 2.9,
    /// (7.5938, −3.0523, 0.40977, 0.0261, −0.01267) for 2.9 < Z ≤ 23.8,
    /// (6.0536, −1.4066, 0, 0, 0) for 23.8 < Z ≤ 198.5. Valid
    /// 0.2 ≤ Z ≤ 198.5 m/kg^(1/3). The published pieces step up by 0.7 % at
    /// Z = 23.8; the third piece is capped at the second's value there so
    /// the curve stays monotone (changes ΔP by < 0.7 % for 23.8 < Z < 23.92).
    KingeryBulmashSurface,
    /// Sadovsky ground-burst form as in GB 6722 爆破安全规程 formula (3):
    /// ΔP = (14/Z³ + 4.3/Z² + 1.1/Z)·10⁵ Pa. \[M\] Its range is usually given as
    /// about 1 ≤ Z ≤ 15 m/kg^(1/3) — UNCONFIRMED.
    Sadovsky,
    /// Chinese 超压准则 polynomial of 安全评价 texts:
    /// ΔP/P₀ = 0.137·Z'⁻³ + 0.119·Z'⁻² + 0.269·Z'⁻¹ − 0.019, with the
    /// energy-scaled distance Z' = R·(P₀/E)^(1/3), E = W_TNT·Q_TNT. \[M\] Its
    /// range is usually given as 1 ≤ Z' ≤ 10 — UNCONFIRMED; it is 0 beyond
    /// Z' ≈ 14. Uses Q_TNT of the [`TntEquivalence`] (4.52 MJ/kg when Direct).
    ChineseOverpressure,
}

impl BlastCurve {
    /// Identity and provenance of the curve.
    pub fn info(&self) -> ModelInfo {
        match self {
            BlastCurve::KinneyGraham1985 => ModelInfo {
                id: "vce.tnt.kinney_graham_1985",
                version: "1",
                source: "TNT equivalence (CCPS 1999) with Kinney & Graham (1985) free-air \
overpressure fit, 808 form",
                limitations: LIMITATIONS,
            },
            BlastCurve::KingeryBulmashSurface => ModelInfo {
                id: "vce.tnt.kingery_bulmash_surface",
                version: "1",
                source: "TNT equivalence (CCPS 1999) with Kingery–Bulmash hemispherical \
surface burst, Swisdak (1994) Simplified Kingery Airblast Calculations",
                limitations: LIMITATIONS,
            },
            BlastCurve::Sadovsky => ModelInfo {
                id: "vce.tnt.sadovsky",
                version: "1",
                source: "TNT equivalence with the Sadovsky ground-burst form of GB 6722 爆破安全规程 \
formula (3) [M]",
                limitations: LIMITATIONS,
            },
            BlastCurve::ChineseOverpressure => ModelInfo {
                id: "vce.tnt.cn_overpressure_polynomial",
                version: "1",
                source: "TNT equivalence with the Chinese 安全评价 超压准则 polynomial \
ΔP/P₀ = 0.137Z⁻³ + 0.119Z⁻² + 0.269Z⁻¹ − 0.019, Z = R(P₀/E)^(1/3) [M]",
                limitations: LIMITATIONS,
            },
        }
    }

    /// Side-on overpressure (Pa) at scaled distance `z` = R/W^(1/3)
    /// (m/kg^(1/3)); `ambient_pa` is P_a; `tnt_energy_j_per_kg` is only used
    /// by [`BlastCurve::ChineseOverpressure`] (but checked for every curve).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless `z`, `ambient_pa` and
    /// `tnt_energy_j_per_kg` are finite numbers > 0: every curve is singular
    /// at the charge (Z = 0).
    pub fn overpressure_pa(
        &self,
        z: f64,
        ambient_pa: f64,
        tnt_energy_j_per_kg: f64,
    ) -> Result<f64, SafetyError> {
        let z = positive("z", z)?;
        let pa = positive("ambient_pa", ambient_pa)?;
        let e = positive("tnt_energy_j_per_kg", tnt_energy_j_per_kg)?;
        Ok(self.overpressure_pa_unchecked(z, pa, e))
    }

    /// [`BlastCurve::overpressure_pa`] without the checks; +∞ at z ≤ 0.
    pub(crate) fn overpressure_pa_unchecked(
        &self,
        z: f64,
        ambient_pa: f64,
        tnt_energy_j_per_kg: f64,
    ) -> f64 {
        if z <= 0.0 {
            return f64::INFINITY;
        }
        match self {
            BlastCurve::KinneyGraham1985 => {
                let num = 808.0 * (1.0 + (z / 4.5).powi(2));
                let den = (1.0 + (z / 0.048).powi(2)).sqrt()
                    * (1.0 + (z / 0.32).powi(2)).sqrt()
                    * (1.0 + (z / 1.35).powi(2)).sqrt();
                ambient_pa * num / den
            }
            BlastCurve::KingeryBulmashSurface => {
                let kb = |c: [f64; 5], z: f64| {
                    let l = z.ln();
                    1e3 * (c[0] + l * (c[1] + l * (c[2] + l * (c[3] + l * c[4])))).exp()
                };
                const P1: [f64; 5] = [7.2106, -2.1069, -0.3229, 0.1117, 0.0685];
                const P2: [f64; 5] = [7.5938, -3.0523, 0.40977, 0.0261, -0.01267];
                const P3: [f64; 5] = [6.0536, -1.4066, 0.0, 0.0, 0.0];
                if z <= 2.9 {
                    kb(P1, z)
                } else if z <= 23.8 {
                    kb(P2, z)
                } else {
                    kb(P3, z).min(kb(P2, 23.8))
                }
            }
            BlastCurve::Sadovsky => 1e5 * (14.0 / z.powi(3) + 4.3 / z.powi(2) + 1.1 / z),
            BlastCurve::ChineseOverpressure => {
                let zp = z * (ambient_pa / tnt_energy_j_per_kg).cbrt();
                let ratio = 0.137 / zp.powi(3) + 0.119 / zp.powi(2) + 0.269 / zp - 0.019;
                (ambient_pa * ratio).max(0.0)
            }
        }
    }

    /// The range of Z = R/W^(1/3) (m/kg^(1/3)) in which the curve is used as
    /// published; see each variant.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless `ambient_pa` and
    /// `tnt_energy_j_per_kg` are finite numbers > 0.
    pub fn validity(
        &self,
        ambient_pa: f64,
        tnt_energy_j_per_kg: f64,
    ) -> Result<(f64, f64), SafetyError> {
        let pa = positive("ambient_pa", ambient_pa)?;
        let e = positive("tnt_energy_j_per_kg", tnt_energy_j_per_kg)?;
        Ok(self.validity_unchecked(pa, e))
    }

    fn validity_unchecked(&self, ambient_pa: f64, tnt_energy_j_per_kg: f64) -> (f64, f64) {
        match self {
            BlastCurve::KinneyGraham1985 | BlastCurve::KingeryBulmashSurface => (0.2, 198.5),
            BlastCurve::Sadovsky => (1.0, 15.0),
            BlastCurve::ChineseOverpressure => {
                let k = (tnt_energy_j_per_kg / ambient_pa).cbrt();
                (k, 10.0 * k)
            }
        }
    }
}

/// Inputs of a TNT-equivalent explosion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct VapourCloudExplosion {
    /// TNT-equivalent mass.
    pub tnt: TntEquivalence,
    /// Overpressure curve.
    pub curve: BlastCurve,
    /// Ambient pressure P_a, Pa (101 325).
    pub ambient_pressure_pa: f64,
}

/// A TNT-equivalent explosion evaluated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VapourCloudExplosionResult {
    /// Model identity and provenance (depends on the curve).
    pub model: ModelInfo,
    /// The inputs, as given.
    pub inputs: VapourCloudExplosion,
    /// W_TNT, kg.
    pub tnt_mass_kg: f64,
    /// The curve's validity range of Z, m/kg^(1/3).
    pub validity_scaled_distance: (f64, f64),
    /// Distance to each requested overpressure level (Pa); `extrapolated`
    /// when its scaled distance is outside the curve's validity range.
    pub distances: Vec<EffectDistance>,
}

impl VapourCloudExplosion {
    /// Q_TNT used by the Chinese polynomial: the one of the TNT equivalence,
    /// or 4.52 MJ/kg for a direct mass.
    fn tnt_energy(&self) -> f64 {
        match self.tnt {
            TntEquivalence::VapourCloud {
                tnt_blast_energy_j_per_kg,
                ..
            } => tnt_blast_energy_j_per_kg,
            TntEquivalence::Direct { .. } => 4.52e6,
        }
    }

    /// Validate, compute W_TNT and the distance to each overpressure level.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for any non-physical input or level.
    pub fn evaluate(&self, levels_pa: &[f64]) -> Result<VapourCloudExplosionResult, SafetyError> {
        let w = self.tnt.tnt_mass_kg()?;
        let pa = positive("ambient_pressure_pa", self.ambient_pressure_pa)?;
        let mut result = VapourCloudExplosionResult {
            model: self.curve.info(),
            inputs: *self,
            tnt_mass_kg: w,
            validity_scaled_distance: self.curve.validity_unchecked(pa, self.tnt_energy()),
            distances: Vec::new(),
        };
        result.distances = result.distances_to(levels_pa)?;
        Ok(result)
    }

    /// Side-on overpressure (Pa) at `distance_m`.
    ///
    /// # Errors
    /// As [`VapourCloudExplosion::evaluate`], and
    /// [`SafetyError::InvalidInput`] for a distance that is not a finite
    /// number > 0 m (the blast curves are singular at the charge).
    pub fn overpressure_at(&self, distance_m: f64) -> Result<f64, SafetyError> {
        self.evaluate(&[])?.effect_at(distance_m)
    }
}

impl EffectModel for VapourCloudExplosionResult {
    fn model(&self) -> ModelInfo {
        self.model
    }

    fn quantity(&self) -> EffectQuantity {
        EffectQuantity::OverpressurePa
    }

    fn check_distance(&self, distance_m: f64) -> Result<f64, SafetyError> {
        if distance_m.is_finite() && distance_m > 0.0 {
            Ok(distance_m)
        } else {
            Err(SafetyError::InvalidInput {
                field: "distance_m",
                value: distance_m,
                expected: "a finite distance > 0 m (blast curves are singular at the charge)",
            })
        }
    }

    fn effect_at_unchecked(&self, distance_m: f64) -> f64 {
        let z = distance_m.max(0.0) / self.tnt_mass_kg.cbrt();
        self.inputs.curve.overpressure_pa_unchecked(
            z,
            self.inputs.ambient_pressure_pa,
            self.inputs.tnt_energy(),
        )
    }

    fn search_range_m(&self) -> (f64, f64) {
        (1e-3, MAX_DISTANCE_M)
    }

    fn validity_range_m(&self) -> Option<(f64, f64)> {
        let cube = self.tnt_mass_kg.cbrt();
        let (zmin, zmax) = self.validity_scaled_distance;
        Some((zmin * cube, zmax * cube))
    }
}

/// The Chinese 安全评价 damage radii of a TNT-equivalent explosion \[M\]:
/// death R₀.₅ = 13.6·(W/1000)^0.37 m; serious and slight injury where the
/// [`BlastCurve::ChineseOverpressure`] polynomial gives 44 kPa and 17 kPa;
/// property damage R = 5.6·W^(1/3)/[1 + (3175/W)²]^(1/6).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChineseDamageRadii {
    /// 死亡半径, m.
    pub death_m: f64,
    /// 重伤半径 (44 kPa), m.
    pub serious_injury_m: f64,
    /// 轻伤半径 (17 kPa), m.
    pub slight_injury_m: f64,
    /// 财产损失半径, m.
    pub property_damage_m: f64,
}

/// [`ChineseDamageRadii`] for `tnt_mass_kg` kg TNT, Q_TNT
/// `tnt_energy_j_per_kg` and ambient pressure `ambient_pa`.
///
/// # Errors
/// [`SafetyError::InvalidInput`] for an input that is not a finite positive
/// number, and [`SafetyError::BeyondRange`] when 44 or 17 kPa still reaches the
/// far end of the distance search (100 km): the radius is then unknown,
/// never reported as 0 m.
pub fn chinese_damage_radii(
    tnt_mass_kg: f64,
    tnt_energy_j_per_kg: f64,
    ambient_pa: f64,
) -> Result<ChineseDamageRadii, SafetyError> {
    let w = positive("tnt_mass_kg", tnt_mass_kg)?;
    let q = positive("tnt_energy_j_per_kg", tnt_energy_j_per_kg)?;
    let pa = positive("ambient_pa", ambient_pa)?;
    // W_TNT = 1·1·w·q/q = w, with Q_TNT = q for the polynomial's scaling.
    let scaled = VapourCloudExplosion {
        tnt: TntEquivalence::VapourCloud {
            fuel_mass_kg: w,
            heat_of_combustion_j_per_kg: q,
            yield_factor: 1.0,
            tnt_blast_energy_j_per_kg: q,
            ground_burst_factor: 1.0,
        },
        curve: BlastCurve::ChineseOverpressure,
        ambient_pressure_pa: pa,
    }
    .evaluate(&[44e3, 17e3])?;
    let radius = |i: usize, field: &'static str| -> Result<f64, SafetyError> {
        match scaled.distances.get(i).map(|d| d.reach) {
            Some(Reach::Within { distance_m }) => Ok(distance_m),
            Some(Reach::BeyondRange { max_distance_m }) => Err(SafetyError::BeyondRange {
                field,
                detail: format!(
                    "the overpressure still exceeds its level at {max_distance_m} m, the end of the search"
                ),
            }),
            Some(Reach::NotReached) | None => Err(SafetyError::BeyondRange {
                field,
                detail: "the overpressure is below its level even at 1 mm from the charge".into(),
            }),
        }
    };
    Ok(ChineseDamageRadii {
        death_m: 13.6 * (w / 1000.0).powf(0.37),
        serious_injury_m: radius(0, "serious_injury_m")?,
        slight_injury_m: radius(1, "slight_injury_m")?,
        property_damage_m: 5.6 * w.cbrt() / (1.0 + (3175.0 / w).powi(2)).powf(1.0 / 6.0),
    })
}

/// Default ambient pressure for [`VapourCloudExplosion::ambient_pressure_pa`].
pub const DEFAULT_AMBIENT_PRESSURE_PA: f64 = STANDARD_ATMOSPHERE_PA;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    fn tnt(w: f64, curve: BlastCurve) -> VapourCloudExplosion {
        VapourCloudExplosion {
            tnt: TntEquivalence::Direct { tnt_mass_kg: w },
            curve,
            ambient_pressure_pa: DEFAULT_AMBIENT_PRESSURE_PA,
        }
    }

    #[test]
    fn tnt_equivalent_of_1000_kg_propane() {
        // W_TNT = β·α·W_f·ΔH_c/Q_TNT = 1·0.04·1000·46.34e6/4.52e6
        //       = 40·10.2522 = 410.09 kg (consequence-models.md §1.1: 410.18);
        // with β = 1.8: 738.16 kg (printed 738.32).
        let cloud = |beta| TntEquivalence::VapourCloud {
            fuel_mass_kg: 1000.0,
            heat_of_combustion_j_per_kg: 46.34e6,
            yield_factor: 0.04,
            tnt_blast_energy_j_per_kg: 4.52e6,
            ground_burst_factor: beta,
        };
        assert!(close(cloud(1.0).tnt_mass_kg().unwrap(), 410.18, 0.02));
        assert!(close(cloud(1.8).tnt_mass_kg().unwrap(), 738.32, 0.02));
    }

    #[test]
    fn kinney_graham_reference_values() {
        // Kinney & Graham (1985), 808 form, P_a = 101 325 Pa.
        // 1 kg at 5 m: Z = 5; num = 808·(1 + (5/4.5)²) = 808·2.23457 = 1805.53;
        // den = √(1 + 104.167²)·√(1 + 15.625²)·√(1 + 3.7037²)
        //     = 104.172·15.657·3.8363 = 6256.9; ΔP/P_a = 0.28857 → 29.24 kPa
        // (CBU-2020 value 29.24 kPa).
        let v = tnt(1.0, BlastCurve::KinneyGraham1985);
        assert!(close(v.overpressure_at(5.0).unwrap(), 29_240.0, 0.02));
        // 0.1 kg at 1 m (Z = 2.154): 174.87 kPa; at 2 m: 38.71 kPa.
        let v = tnt(0.1, BlastCurve::KinneyGraham1985);
        assert!(close(v.overpressure_at(1.0).unwrap(), 174_870.0, 0.02));
        assert!(close(v.overpressure_at(2.0).unwrap(), 38_710.0, 0.02));
        // 1000 kg, 20 kPa: 62.27 m (consequence-models.md §1.3).
        let r = tnt(1000.0, BlastCurve::KinneyGraham1985)
            .evaluate(&[20e3])
            .unwrap();
        let d = r.distances[0].reach.distance_m().unwrap();
        assert!(close(d, 62.27, 0.02), "{d}");
        assert!(!r.distances[0].extrapolated);
        // 1000 kg at 1 km is Z = 100: valid for KB/KG; 10 Pa is at Z > 198.5.
        let r = tnt(1000.0, BlastCurve::KinneyGraham1985)
            .evaluate(&[10.0])
            .unwrap();
        assert!(r.distances[0].extrapolated);
    }

    #[test]
    fn kingery_bulmash_surface_reference_values() {
        // Swisdak (1994), W = 1000 kg at 50 m: Z = 5, lnZ = 1.60944,
        // ln ΔP = 7.5938 − 3.0523·1.60944 + 0.40977·2.59029 + 0.0261·4.16891
        //        − 0.01267·6.70960 = 3.76653 → ΔP = 43.23 kPa.
        let v = tnt(1000.0, BlastCurve::KingeryBulmashSurface);
        assert!(close(v.overpressure_at(50.0).unwrap(), 43_230.0, 0.02));
        // Other tabulated values: 20 m → 283.75 kPa; 100 m → 14.89; 200 m → 6.10.
        for (x, p) in [(20.0, 283_750.0), (100.0, 14_890.0), (200.0, 6_100.0)] {
            assert!(close(v.overpressure_at(x).unwrap(), p, 0.02), "{x}");
        }
        // `kingery-bulmash` README: 10 t at 500 m → 5.054964 kPa.
        let v = tnt(10_000.0, BlastCurve::KingeryBulmashSurface);
        assert!(close(v.overpressure_at(500.0).unwrap(), 5_054.964, 0.02));
    }

    #[test]
    fn sadovsky_hand_example() {
        // GB 6722 formula (3), W = 1000 kg, R = 50 m: Z = 5;
        // ΔP = 14/125 + 4.3/25 + 1.1/5 = 0.112 + 0.172 + 0.22 = 0.504·10⁵ Pa = 50.4 kPa.
        let v = tnt(1000.0, BlastCurve::Sadovsky);
        assert!(close(v.overpressure_at(50.0).unwrap(), 50_400.0, 1e-9));
    }

    #[test]
    fn chinese_polynomial_and_radii() {
        // W = 1000 kg, Q_TNT = 4.52 MJ/kg: (E/P₀)^(1/3) = (4.52e9/101 325)^(1/3)
        // = 35.466 m. At R = 50 m: Z' = 1.40982;
        // ΔP/P₀ = 0.137/2.80213 + 0.119/1.98758 + 0.269/1.40982 − 0.019
        //       = 0.048891 + 0.059872 + 0.190805 − 0.019 = 0.280568 → 28.43 kPa.
        let v = tnt(1000.0, BlastCurve::ChineseOverpressure);
        assert!(close(v.overpressure_at(50.0).unwrap(), 28_430.0, 0.02));
        // 20 kPa at 62.42 m (consequence-models.md §1.3).
        let d = v.evaluate(&[20e3]).unwrap().distances[0]
            .reach
            .distance_m()
            .unwrap();
        assert!(close(d, 62.42, 0.02), "{d}");
        // Radii (§1.3): death 13.6·1^0.37 = 13.6 m; serious injury 38.63 m;
        // slight injury 69.41 m; property 5.6·10/(1 + 3.175²)^(1/6)
        // = 56/11.0806^(1/6) = 56/1.49291 = 37.51 m.
        let r = chinese_damage_radii(1000.0, 4.52e6, DEFAULT_AMBIENT_PRESSURE_PA).unwrap();
        assert!(close(r.death_m, 13.6, 1e-9));
        assert!(close(r.serious_injury_m, 38.63, 0.02), "{r:?}");
        assert!(close(r.slight_injury_m, 69.41, 0.02), "{r:?}");
        assert!(close(r.property_damage_m, 37.51, 0.02), "{r:?}");
    }

    #[test]
    fn refuses_the_charge_itself_and_beyond_range() {
        for curve in [
            BlastCurve::KinneyGraham1985,
            BlastCurve::KingeryBulmashSurface,
            BlastCurve::Sadovsky,
            BlastCurve::ChineseOverpressure,
        ] {
            let v = tnt(1000.0, curve);
            for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 0.0] {
                assert!(matches!(
                    v.overpressure_at(bad),
                    Err(SafetyError::InvalidInput {
                        field: "distance_m",
                        ..
                    })
                ));
                assert!(curve.overpressure_pa(bad, 101_325.0, 4.52e6).is_err());
                assert!(curve.overpressure_pa(5.0, bad, 4.52e6).is_err());
                assert!(curve.validity(bad, 4.52e6).is_err());
            }
        }
        // 1e14 kg: (E/P₀)^(1/3) = 166 km, so 44 kPa (Z' ≈ 0.9) is still
        // exceeded at 100 km; no radius is given.
        assert!(matches!(
            chinese_damage_radii(1e14, 4.52e6, DEFAULT_AMBIENT_PRESSURE_PA),
            Err(SafetyError::BeyondRange {
                field: "serious_injury_m",
                ..
            })
        ));
        assert!(chinese_damage_radii(f64::NAN, 4.52e6, DEFAULT_AMBIENT_PRESSURE_PA).is_err());
    }

    fn curves() -> impl Strategy<Value = BlastCurve> {
        prop_oneof![
            Just(BlastCurve::KinneyGraham1985),
            Just(BlastCurve::KingeryBulmashSurface),
            Just(BlastCurve::Sadovsky),
            Just(BlastCurve::ChineseOverpressure),
        ]
    }

    proptest! {
        #[test]
        fn more_fuel_reaches_farther(
            w in 1.0f64..1e6, dw in 0.0f64..1e5, level in 1_000.0f64..500_000.0, curve in curves(),
        ) {
            let a = tnt(w, curve).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            let b = tnt(w + dw, curve).evaluate(&[level]).unwrap().distances[0].reach.as_ordered_m();
            prop_assert!(b >= a * (1.0 - 1e-12), "{a} > {b}");
        }

        #[test]
        fn farther_is_never_worse(
            w in 1.0f64..1e6, x in 0.01f64..10_000.0, dx in 0.0f64..10_000.0, curve in curves(),
        ) {
            let r = tnt(w, curve).evaluate(&[]).unwrap();
            prop_assert!(r.effect_at(x + dx).unwrap() <= r.effect_at(x).unwrap());
        }
    }
}

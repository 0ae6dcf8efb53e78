//! Probit functions: probability of an effect (usually death) from a dose.
//!
//! A probit is Y = a + b·ln(D) for a dose D; the probability is
//! **P = Φ(Y − 5)**, with Φ the standard normal distribution function
//! (Finney 1971; TNO Green Book CPR 16E; CCPS *Guidelines for
//! Consequence Analysis* 1999). Φ is computed from `libm::erfc`:
//! Φ(z) = ½·erfc(−z/√2), so P(Y = 5) = ½ exactly.
//!
//! | probit | dose D | constants |
//! |---|---|---|
//! | [`ThermalProbit`] | t·q^(4/3), q in **W/m²**, t in s | a per set, b = 2.56 |
//! | [`OverpressureProbit`] | ΔP in **Pa** | e.g. lung −77.1 + 6.91 ln ΔP |
//! | [`ToxicProbit`](crate::ToxicProbit) | Cⁿ·t in the row's units (ppm or mg/m³, min) | per substance, from `data/rules/consequence-toxic-probits.toml` |
//!
//! Judgement call on names: the brief for this crate called
//! −36.38 + 2.56 ln(t q^(4/3)) "Eisenberg". In the literature that form is
//! Tsao & Perry (1979), used by the Purple Book (CPR 18E); Eisenberg et al.
//! (1975) is −38.48 + 2.56 ln(t q^(4/3)) (HyRAM+ `probits.py`; HSE OSD/30
//! prints the 50 % dose 2 380 (kW/m²)^(4/3)·s, which −38.48 reproduces).
//! Both are given under their proper names; [`ThermalProbit::TSAO_PERRY`] is
//! the one `standards.md` §3.3 lists for GB/T 37243 Annex H practice (itself
//! UNCONFIRMED against the standard).

use serde::Serialize;

use crate::error::{SafetyError, finite, open_probability, positive};
use crate::solve::invert_increasing;

/// Φ(z), the standard normal cumulative distribution function.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless `z` is a finite number.
pub fn normal_cdf(z: f64) -> Result<f64, SafetyError> {
    Ok(normal_cdf_unchecked(finite("z", z)?))
}

/// [`normal_cdf`] without the check (NaN in, NaN out).
pub(crate) fn normal_cdf_unchecked(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// P = Φ(Y − 5): the probability for probit value `y`.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless `y` is a finite number.
pub fn probability_from_probit(y: f64) -> Result<f64, SafetyError> {
    Ok(probability_from_probit_unchecked(finite("probit", y)?))
}

/// [`probability_from_probit`] without the check, for probits computed from
/// validated doses (Y = −∞ gives 0).
pub(crate) fn probability_from_probit_unchecked(y: f64) -> f64 {
    normal_cdf_unchecked(y - 5.0)
}

/// The probit value Y with Φ(Y − 5) = `p`, by bisection on Φ.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless 0 < p < 1.
pub fn probit_from_probability(p: f64) -> Result<f64, SafetyError> {
    let p = open_probability("probability", p)?;
    Ok(5.0 + invert_increasing(normal_cdf_unchecked, p, -40.0, 40.0))
}

/// `dose` if it is a finite number ≥ 0.
fn dose_value(field: &'static str, dose: f64) -> Result<f64, SafetyError> {
    if dose.is_finite() && dose >= 0.0 {
        Ok(dose)
    } else {
        Err(SafetyError::InvalidInput {
            field,
            value: dose,
            expected: "a finite number ≥ 0",
        })
    }
}

/// A probit of the form Y = a + b·ln(D).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LogProbit {
    /// Constant a.
    pub a: f64,
    /// Slope b (> 0).
    pub b: f64,
}

impl LogProbit {
    /// The constants, if a is finite and b a finite number > 0.
    fn check(&self) -> Result<(), SafetyError> {
        finite("probit.a", self.a)?;
        positive("probit.b", self.b)?;
        Ok(())
    }

    /// Y for dose `dose`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for invalid constants or a dose that is
    /// not a finite number > 0 (Y of a zero dose is −∞;
    /// [`LogProbit::probability`] gives P = 0 for it).
    pub fn probit(&self, dose: f64) -> Result<f64, SafetyError> {
        self.check()?;
        let d = positive("dose", dose)?;
        Ok(self.a + self.b * d.ln())
    }

    /// P = Φ(Y − 5) for dose `dose`; 0 for a zero dose (no exposure, no
    /// effect).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for invalid constants or a dose that is
    /// not a finite number ≥ 0 (a NaN dose is refused, never read as 0).
    pub fn probability(&self, dose: f64) -> Result<f64, SafetyError> {
        self.check()?;
        let d = dose_value("dose", dose)?;
        Ok(self.probability_unchecked(d))
    }

    /// [`LogProbit::probability`] without the checks (0 unless dose > 0).
    pub(crate) fn probability_unchecked(&self, dose: f64) -> f64 {
        if dose > 0.0 {
            probability_from_probit_unchecked(self.a + self.b * dose.ln())
        } else {
            0.0
        }
    }

    /// The dose giving probability `p`: D = exp((Y_p − a)/b).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless 0 < p < 1 and the constants are
    /// valid.
    pub fn dose_for_probability(&self, p: f64) -> Result<f64, SafetyError> {
        self.check()?;
        let y = probit_from_probability(p)?;
        Ok(((y - self.a) / self.b).exp())
    }
}

/// A thermal-radiation probit Y = a + b·ln(t·q^(4/3)), q in W/m², t in s.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ThermalProbit {
    /// Stable id, e.g. `tsao_perry`.
    pub id: &'static str,
    /// Effect, e.g. "death".
    pub effect: &'static str,
    /// Constants, for the dose t·q^(4/3) in s·(W/m²)^(4/3).
    pub probit: LogProbit,
    /// Where the constants come from.
    pub source: &'static str,
}

impl ThermalProbit {
    /// Death, Eisenberg, Lynch & Breeding (1975): Y = −38.48 + 2.56 ln(t q^(4/3)).
    /// 50 % at 2 376.6 (kW/m²)^(4/3)·s. Source: HyRAM+ `probits.py`; HSE
    /// OSD/30 Table 17 (printed 2 380). \[C\]
    pub const EISENBERG_1975: ThermalProbit = ThermalProbit {
        id: "eisenberg_1975",
        effect: "death",
        probit: LogProbit { a: -38.48, b: 2.56 },
        source: "Eisenberg, Lynch & Breeding (1975), Vulnerability model, USCG CG-D-136-75; constants as in HyRAM+ probits.py and HSE SPC/Tech/OSD/30",
    };

    /// Death, Tsao & Perry (1979), adopted by the Purple Book (CPR 18E, ch. 5):
    /// Y = −36.38 + 2.56 ln(t q^(4/3)). 50 % at 1 046 (kW/m²)^(4/3)·s. The form
    /// `standards.md` §3.3 gives for GB/T 37243 Annex H practice (UNCONFIRMED
    /// against the standard). \[C\]
    pub const TSAO_PERRY: ThermalProbit = ThermalProbit {
        id: "tsao_perry",
        effect: "death",
        probit: LogProbit { a: -36.38, b: 2.56 },
        source: "Tsao & Perry (1979); TNO Purple Book CPR 18E ch. 5 (with its 20 s exposure cap and 35 kW/m² rule, which are the caller's); HyRAM+ probits.py",
    };

    /// Death, TNO Green Book as labelled by HyRAM+; also common in Chinese
    /// 安全评价 texts: Y = −37.23 + 2.56 ln(t q^(4/3)). \[C\]
    pub const TNO_GREEN_BOOK: ThermalProbit = ThermalProbit {
        id: "tno_green_book",
        effect: "death",
        probit: LogProbit { a: -37.23, b: 2.56 },
        source: "TNO Green Book CPR 16E (as labelled in HyRAM+ probits.py); Chinese 安全评价 texts",
    };

    /// Second-degree burns (Chinese 安全评价 texts, after Eisenberg):
    /// Y = −43.14 + 3.0188 ln(t q^(4/3)). \[M\] UNCONFIRMED.
    pub const SECOND_DEGREE_BURN: ThermalProbit = ThermalProbit {
        id: "second_degree_burn",
        effect: "second-degree burns",
        probit: LogProbit {
            a: -43.14,
            b: 3.0188,
        },
        source: "Chinese 安全评价 texts (after Eisenberg 1975); UNCONFIRMED, from consequence-models.md §4.5 [M]",
    };

    /// First-degree burns (Chinese 安全评价 texts):
    /// Y = −39.83 + 3.0186 ln(t q^(4/3)). \[M\] UNCONFIRMED.
    pub const FIRST_DEGREE_BURN: ThermalProbit = ThermalProbit {
        id: "first_degree_burn",
        effect: "first-degree burns",
        probit: LogProbit {
            a: -39.83,
            b: 3.0186,
        },
        source: "Chinese 安全评价 texts; UNCONFIRMED, from consequence-models.md §4.5 [M]",
    };

    /// The thermal dose t·q^(4/3) in s·(W/m²)^(4/3); 0 for a zero flux.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless the flux is a finite number ≥ 0
    /// and the exposure a finite number > 0 s (a zero exposure is refused as
    /// a likely missing input).
    pub fn dose(flux_w_m2: f64, exposure_s: f64) -> Result<f64, SafetyError> {
        let q = dose_value("flux_w_m2", flux_w_m2)?;
        let t = positive("exposure_s", exposure_s)?;
        Ok(Self::dose_unchecked(q, t))
    }

    pub(crate) fn dose_unchecked(flux_w_m2: f64, exposure_s: f64) -> f64 {
        exposure_s * flux_w_m2.max(0.0).powf(4.0 / 3.0)
    }

    /// Y for flux `flux_w_m2` (W/m²) during `exposure_s` seconds.
    ///
    /// # Errors
    /// As [`ThermalProbit::dose`], and a zero flux (its probit is −∞).
    pub fn probit_value(&self, flux_w_m2: f64, exposure_s: f64) -> Result<f64, SafetyError> {
        self.probit.probit(Self::dose(flux_w_m2, exposure_s)?)
    }

    /// P = Φ(Y − 5) for flux `flux_w_m2` (W/m²) during `exposure_s` seconds;
    /// 0 for a zero flux.
    ///
    /// # Errors
    /// As [`ThermalProbit::dose`]: a NaN, infinite or negative flux or
    /// exposure is refused, never read as P = 0.
    pub fn probability(&self, flux_w_m2: f64, exposure_s: f64) -> Result<f64, SafetyError> {
        self.probit.probability(Self::dose(flux_w_m2, exposure_s)?)
    }

    /// [`ThermalProbit::probability`] without the checks, for fluxes of a
    /// validated model and a validated exposure.
    pub(crate) fn probability_unchecked(&self, flux_w_m2: f64, exposure_s: f64) -> f64 {
        self.probit
            .probability_unchecked(Self::dose_unchecked(flux_w_m2, exposure_s))
    }

    /// The flux (W/m²) that gives probability `p` in `exposure_s` seconds:
    /// q = (D_p / t)^(3/4).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless 0 < p < 1 and exposure_s > 0.
    pub fn flux_for_probability(&self, p: f64, exposure_s: f64) -> Result<f64, SafetyError> {
        let t = positive("exposure_s", exposure_s)?;
        let dose = self.probit.dose_for_probability(p)?;
        Ok((dose / t).powf(0.75))
    }
}

/// An overpressure probit Y = a + b·ln(ΔP), ΔP (side-on) in Pa.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OverpressureProbit {
    /// Stable id, e.g. `lung_haemorrhage`.
    pub id: &'static str,
    /// Effect, e.g. "death (lung haemorrhage)".
    pub effect: &'static str,
    /// Constants, for ΔP in Pa.
    pub probit: LogProbit,
    /// Where the constants come from.
    pub source: &'static str,
}

impl OverpressureProbit {
    /// Death by lung haemorrhage (Eisenberg et al. 1975):
    /// Y = −77.1 + 6.91 ln ΔP. 50 % at 144.5 kPa. \[C\] HyRAM+.
    pub const LUNG_HAEMORRHAGE: OverpressureProbit = OverpressureProbit {
        id: "lung_haemorrhage",
        effect: "death (lung haemorrhage)",
        probit: LogProbit { a: -77.1, b: 6.91 },
        source: "Eisenberg, Lynch & Breeding (1975); HyRAM+ probits.py; CCPS 1999",
    };

    /// Eardrum rupture (Eisenberg et al. 1975): Y = −15.6 + 1.93 ln ΔP.
    /// 50 % at 43.2 kPa. \[M\] UNCONFIRMED.
    pub const EARDRUM_RUPTURE: OverpressureProbit = OverpressureProbit {
        id: "eardrum_rupture",
        effect: "eardrum rupture",
        probit: LogProbit { a: -15.6, b: 1.93 },
        source: "Eisenberg et al. (1975), CCPS 1999; UNCONFIRMED [M]",
    };

    /// Structural damage (Eisenberg et al. 1975): Y = −23.8 + 2.92 ln ΔP.
    /// 50 % at 19.2 kPa. \[M\] UNCONFIRMED.
    pub const STRUCTURAL_DAMAGE: OverpressureProbit = OverpressureProbit {
        id: "structural_damage",
        effect: "structural damage",
        probit: LogProbit { a: -23.8, b: 2.92 },
        source: "Eisenberg et al. (1975), CCPS 1999; UNCONFIRMED [M]",
    };

    /// Glass breakage: Y = −18.1 + 2.79 ln ΔP. 50 % at 3.94 kPa.
    /// \[M\] UNCONFIRMED.
    pub const GLASS_BREAKAGE: OverpressureProbit = OverpressureProbit {
        id: "glass_breakage",
        effect: "glass breakage",
        probit: LogProbit { a: -18.1, b: 2.79 },
        source: "CCPS 1999; UNCONFIRMED [M]",
    };

    /// Y for side-on overpressure `overpressure_pa`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless the overpressure is a finite
    /// number > 0 Pa.
    pub fn probit_value(&self, overpressure_pa: f64) -> Result<f64, SafetyError> {
        let p = positive("overpressure_pa", overpressure_pa)?;
        self.probit.probit(p)
    }

    /// P = Φ(Y − 5) for side-on overpressure `overpressure_pa`; 0 at 0 Pa.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless the overpressure is a finite
    /// number ≥ 0 Pa (a NaN is refused, never read as P = 0).
    pub fn probability(&self, overpressure_pa: f64) -> Result<f64, SafetyError> {
        let p = dose_value("overpressure_pa", overpressure_pa)?;
        self.probit.probability(p)
    }

    /// The overpressure (Pa) that gives probability `p`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless 0 < p < 1.
    pub fn overpressure_for_probability(&self, p: f64) -> Result<f64, SafetyError> {
        self.probit.dose_for_probability(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn probit_five_is_one_half() {
        assert_eq!(probability_from_probit(5.0).unwrap(), 0.5);
        assert_eq!(normal_cdf(0.0).unwrap(), 0.5);
        assert!((probit_from_probability(0.5).unwrap() - 5.0).abs() < 1e-12);
    }

    #[test]
    fn normal_cdf_known_values() {
        // Φ(1) = 0.841344746, Φ(−2.326348) = 0.01 (standard tables).
        assert!((normal_cdf(1.0).unwrap() - 0.841_344_746).abs() < 1e-9);
        assert!((probit_from_probability(0.01).unwrap() - (5.0 - 2.326_348)).abs() < 1e-6);
    }

    #[test]
    fn thermal_50_percent_doses() {
        // Eisenberg: Y = 5 ⇔ ln D = (5 + 38.48)/2.56 = 16.984375,
        // D = e^16.984375 = 2.3766e7 s·(W/m²)^(4/3) = 2376.6 (kW/m²)^(4/3)·s
        // (W → kW divides q^(4/3) by 1000^(4/3) = 10⁴). OSD/30 prints 2380.
        let d = ThermalProbit::EISENBERG_1975
            .probit
            .dose_for_probability(0.5)
            .unwrap();
        assert!(close(d / 1e4, 2376.6, 0.001), "{d}");
        // Tsao & Perry / Purple Book: ln D = 41.38/2.56 = 16.1641, D/10⁴ = 1046.4.
        let d = ThermalProbit::TSAO_PERRY
            .probit
            .dose_for_probability(0.5)
            .unwrap();
        assert!(close(d / 1e4, 1046.4, 0.001), "{d}");
    }

    #[test]
    fn purple_book_50_percent_flux_at_20_s() {
        // q = (D/t)^(3/4) = (1.04640e7 / 20)^(0.75) = (523 200)^(0.75)
        //   = e^(0.75·13.1678) = e^9.87585 = 19 460 W/m²
        // (consequence-models.md §4.5: 19.46 kW/m²).
        let q = ThermalProbit::TSAO_PERRY
            .flux_for_probability(0.5, 20.0)
            .unwrap();
        assert!(close(q, 19_460.0, 0.02), "{q}");
    }

    #[test]
    fn eisenberg_at_standard_thresholds() {
        // 37.5 kW/m² for 10 s: D = 10·37 500^(4/3) = 10·1.25519e6 = 1.25519e7,
        // ln D = 16.34538, Y = −38.48 + 2.56·16.34538 = 3.36417,
        // P = Φ(−1.63583) = 0.0509 (consequence-models.md §4.5 table: 0.0509).
        let p = ThermalProbit::EISENBERG_1975
            .probability(37_500.0, 10.0)
            .unwrap();
        assert!(close(p, 0.0509, 0.02), "{p}");
    }

    #[test]
    fn lung_haemorrhage_reference_values() {
        // Y = 5 ⇔ ln ΔP = 82.1/6.91 = 11.8813, ΔP = 144 500 Pa.
        let p50 = OverpressureProbit::LUNG_HAEMORRHAGE
            .overpressure_for_probability(0.5)
            .unwrap();
        assert!(close(p50, 144_500.0, 0.002), "{p50}");
        // ΔP = 100 kPa: Y = −77.1 + 6.91·11.5129 = 2.4543, P = Φ(−2.5457) = 0.00545.
        let p = OverpressureProbit::LUNG_HAEMORRHAGE
            .probability(100_000.0)
            .unwrap();
        assert!(close(p, 0.00545, 0.02), "{p}");
        // ΔP = 200 kPa: Y = −77.1 + 6.91·12.2061 = 7.2440, P = Φ(2.2440) = 0.9876.
        let p = OverpressureProbit::LUNG_HAEMORRHAGE
            .probability(200_000.0)
            .unwrap();
        assert!(close(p, 0.9876, 0.002), "{p}");
    }

    #[test]
    fn zero_dose_is_zero_probability() {
        assert_eq!(
            ThermalProbit::TSAO_PERRY.probability(0.0, 60.0).unwrap(),
            0.0
        );
        assert_eq!(
            OverpressureProbit::LUNG_HAEMORRHAGE
                .probability(0.0)
                .unwrap(),
            0.0
        );
    }

    #[test]
    fn nan_and_negative_doses_are_refused() {
        let t = ThermalProbit::TSAO_PERRY;
        let o = OverpressureProbit::LUNG_HAEMORRHAGE;
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
            assert!(t.probability(bad, 60.0).is_err());
            assert!(t.probability(10_000.0, bad).is_err());
            assert!(o.probability(bad).is_err());
            assert!(t.probit.probability(bad).is_err());
        }
        // A probit may be negative; it may not be NaN or infinite.
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(probability_from_probit(bad).is_err());
            assert!(normal_cdf(bad).is_err());
        }
        assert!(t.probability(10_000.0, 0.0).is_err());
        assert!(t.probit_value(0.0, 60.0).is_err());
        let broken = LogProbit {
            a: f64::NAN,
            b: 1.0,
        };
        assert!(broken.probability(1.0).is_err());
        assert!(broken.dose_for_probability(0.5).is_err());
    }

    proptest! {
        #[test]
        fn thermal_probability_monotone_in_dose(
            q in 1.0f64..1e6, dq in 0.0f64..1e5, t in 0.1f64..3600.0, dt in 0.0f64..600.0,
        ) {
            for pr in [ThermalProbit::EISENBERG_1975, ThermalProbit::TSAO_PERRY,
                       ThermalProbit::TNO_GREEN_BOOK, ThermalProbit::SECOND_DEGREE_BURN,
                       ThermalProbit::FIRST_DEGREE_BURN] {
                prop_assert!(pr.probability(q + dq, t + dt).unwrap() >= pr.probability(q, t).unwrap());
            }
        }

        #[test]
        fn overpressure_probability_monotone(p in 1.0f64..1e7, dp in 0.0f64..1e6) {
            for pr in [OverpressureProbit::LUNG_HAEMORRHAGE, OverpressureProbit::EARDRUM_RUPTURE,
                       OverpressureProbit::STRUCTURAL_DAMAGE, OverpressureProbit::GLASS_BREAKAGE] {
                prop_assert!(pr.probability(p + dp).unwrap() >= pr.probability(p).unwrap());
            }
        }

        #[test]
        fn probit_round_trip(p in 1e-6f64..0.999_999) {
            let y = probit_from_probability(p).unwrap();
            prop_assert!((probability_from_probit(y).unwrap() - p).abs() <= 1e-12 + 1e-9 * p);
        }
    }
}

//! Toxic probits Y = a + b·ln(Cⁿ·t) per substance, from the rule table
//! `data/rules/consequence-toxic-probits.toml` (embedded at compile time).
//!
//! The published constants expect C in ppm or mg/m³ and t in **minutes**;
//! [`ToxicProbit`] takes SI (kg/m³, s) and converts, with the row's molar
//! mass and the table's molar volume (24.465 L/mol, 25 °C). P = Φ(Y − 5).
//!
//! **Every row is UNCONFIRMED for Chinese regulatory use**: none has been
//! checked against GB/T 37243-2019 Annex H or AQ/T 3046-2013. Rows carry
//! their source and a [`Confidence`] tag.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;
use crate::consequence::probit::LogProbit;
use crate::consequence::units::{kg_per_m3_to_ppm, ppm_to_kg_per_m3};
use crate::error::{SafetyError, finite, positive};

/// `value` if it is a finite number ≥ 0 (a concentration).
fn concentration(field: &'static str, value: f64) -> Result<f64, SafetyError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(SafetyError::InvalidInput {
            field,
            value,
            expected: "a finite concentration ≥ 0",
        })
    }
}

const TABLE_NAME: &str = "consequence-toxic-probits.toml";
#[cfg(test)]
const EMBEDDED_TOML: &str = include_str!("../../../../data/rules/consequence-toxic-probits.toml");

static EMBEDDED: LazyLock<ToxicProbitTable> = LazyLock::new(|| {
    ToxicProbitTable::from_toml_str(riskmap_core::rule_set::text(
        "consequence-toxic-probits.toml",
    ))
    .expect("consequence-toxic-probits.toml in force is valid (checked at start)")
});

/// The concentration unit a probit's constants expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConcentrationUnit {
    /// Parts per million by volume.
    #[serde(rename = "ppm")]
    Ppm,
    /// Milligrams per cubic metre.
    #[serde(rename = "mg/m3")]
    MgPerM3,
}

/// One row of the toxic-probit table: Y = a + b·ln(Cⁿ·t), C in
/// [`ToxicProbit::unit`], t in minutes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToxicProbit {
    /// Substance key, e.g. `chlorine`.
    pub substance: String,
    /// Chinese name.
    pub name_zh: String,
    /// CAS number.
    pub cas: String,
    /// Molar mass, g/mol.
    pub molar_mass_g_per_mol: f64,
    /// Constant set, e.g. `ccps_lees` or `purple_book`.
    pub set: String,
    /// Whether this is the row used when only the substance is named.
    #[serde(default)]
    pub default: bool,
    /// Constant a.
    pub a: f64,
    /// Constant b (> 0).
    pub b: f64,
    /// Exponent n (> 0).
    pub n: f64,
    /// Concentration unit of the constants.
    pub unit: ConcentrationUnit,
    /// Confidence tag.
    pub confidence: Confidence,
    /// Where the constants come from.
    pub source: String,
    /// Molar volume for ppm conversion, L/mol; filled from the table.
    #[serde(default)]
    pub molar_volume_l_per_mol: f64,
}

impl ToxicProbit {
    /// Check the row's constants: a finite; b, n and the molar mass finite
    /// and > 0; for a ppm row a molar volume finite and > 0.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] naming the first bad constant.
    pub fn validate(&self) -> Result<(), SafetyError> {
        finite("probit.a", self.a)?;
        positive("probit.b", self.b)?;
        positive("probit.n", self.n)?;
        positive("probit.molar_mass_g_per_mol", self.molar_mass_g_per_mol)?;
        if self.unit == ConcentrationUnit::Ppm {
            positive("probit.molar_volume_l_per_mol", self.molar_volume_l_per_mol)?;
        }
        Ok(())
    }

    /// `c_kg_per_m3` expressed in [`ToxicProbit::unit`].
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for invalid row constants or a
    /// concentration that is not a finite number ≥ 0.
    pub fn to_unit(&self, c_kg_per_m3: f64) -> Result<f64, SafetyError> {
        self.validate()?;
        let c = concentration("c_kg_per_m3", c_kg_per_m3)?;
        Ok(self.to_unit_unchecked(c))
    }

    /// [`ToxicProbit::to_unit`] without the checks, for a validated row.
    pub(crate) fn to_unit_unchecked(&self, c_kg_per_m3: f64) -> f64 {
        match self.unit {
            ConcentrationUnit::Ppm => kg_per_m3_to_ppm(
                c_kg_per_m3,
                self.molar_mass_g_per_mol,
                self.molar_volume_l_per_mol,
            ),
            ConcentrationUnit::MgPerM3 => c_kg_per_m3 * 1e6,
        }
    }

    /// A value in [`ToxicProbit::unit`] expressed in kg/m³.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for invalid row constants or a value
    /// that is not a finite number ≥ 0.
    pub fn from_unit(&self, value: f64) -> Result<f64, SafetyError> {
        self.validate()?;
        let v = concentration("value", value)?;
        Ok(self.unit_to_kg_per_m3(v))
    }

    fn unit_to_kg_per_m3(&self, value: f64) -> f64 {
        match self.unit {
            ConcentrationUnit::Ppm => ppm_to_kg_per_m3(
                value,
                self.molar_mass_g_per_mol,
                self.molar_volume_l_per_mol,
            ),
            ConcentrationUnit::MgPerM3 => value * 1e-6,
        }
    }

    fn log_probit(&self) -> LogProbit {
        LogProbit {
            a: self.a,
            b: self.b,
        }
    }

    /// The dose Cⁿ·t in the constants' units (C in [`ToxicProbit::unit`],
    /// t in min) for a constant concentration `c_kg_per_m3` over
    /// `exposure_s`; 0 for a zero concentration.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for invalid row constants, a
    /// concentration that is not a finite number ≥ 0, or an exposure that is
    /// not a finite number > 0 s.
    pub fn dose(&self, c_kg_per_m3: f64, exposure_s: f64) -> Result<f64, SafetyError> {
        self.validate()?;
        let c = concentration("c_kg_per_m3", c_kg_per_m3)?;
        let t = positive("exposure_s", exposure_s)?;
        Ok(self.to_unit_unchecked(c).powf(self.n) * (t / 60.0))
    }

    /// Y for concentration `c_kg_per_m3` (kg/m³) held for `exposure_s` seconds.
    ///
    /// # Errors
    /// As [`ToxicProbit::dose`], and a zero concentration (its probit is −∞).
    pub fn probit_value(&self, c_kg_per_m3: f64, exposure_s: f64) -> Result<f64, SafetyError> {
        self.log_probit()
            .probit(self.dose(c_kg_per_m3, exposure_s)?)
    }

    /// P = Φ(Y − 5); 0 for a zero concentration.
    ///
    /// # Errors
    /// As [`ToxicProbit::dose`]: a NaN, infinite or negative concentration or
    /// exposure is refused, never read as P = 0.
    pub fn probability(&self, c_kg_per_m3: f64, exposure_s: f64) -> Result<f64, SafetyError> {
        self.log_probit()
            .probability(self.dose(c_kg_per_m3, exposure_s)?)
    }

    /// The constant concentration (kg/m³) that gives probability `p` in
    /// `exposure_s` seconds: C = (exp((Y_p − a)/b)/t)^(1/n).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless 0 < p < 1, exposure_s > 0 and the
    /// row's constants are valid.
    pub fn concentration_for_probability(
        &self,
        p: f64,
        exposure_s: f64,
    ) -> Result<f64, SafetyError> {
        self.validate()?;
        let t_min = positive("exposure_s", exposure_s)? / 60.0;
        let dose = self.log_probit().dose_for_probability(p)?;
        Ok(self.unit_to_kg_per_m3((dose / t_min).powf(1.0 / self.n)))
    }
}

#[derive(Deserialize)]
struct RawTable {
    molar_volume_l_per_mol: f64,
    table_status: String,
    probit: Vec<ToxicProbit>,
}

/// The toxic-probit table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToxicProbitTable {
    /// Molar volume used for ppm conversion, L/mol.
    pub molar_volume_l_per_mol: f64,
    /// Status of the whole table (`UNCONFIRMED`).
    pub table_status: String,
    /// The rows, in file order.
    pub probits: Vec<ToxicProbit>,
}

impl ToxicProbitTable {
    /// The table in `data/rules/consequence-toxic-probits.toml`, parsed once.
    pub fn embedded() -> &'static ToxicProbitTable {
        &EMBEDDED
    }

    /// Parse and check a table in the format of
    /// `consequence-toxic-probits.toml`.
    ///
    /// # Errors
    /// [`SafetyError::Rules`] for a syntax error, a non-positive b, n, molar
    /// mass or molar volume, or a substance without exactly one default row.
    pub fn from_toml_str(text: &str) -> Result<ToxicProbitTable, SafetyError> {
        let err = |message: String| SafetyError::Rules {
            table: TABLE_NAME,
            message,
        };
        let raw: RawTable = riskmap_core::rule_set::from_toml(text).map_err(err)?;
        let vm = raw.molar_volume_l_per_mol;
        if !(vm.is_finite() && vm > 0.0) {
            return Err(err(format!("molar_volume_l_per_mol = {vm} is not > 0")));
        }
        let mut probits = raw.probit;
        for p in &mut probits {
            let ok = p.a.is_finite()
                && [p.b, p.n, p.molar_mass_g_per_mol]
                    .iter()
                    .all(|v| v.is_finite() && *v > 0.0);
            if !ok {
                return Err(err(format!(
                    "{} ({}): a must be finite and b, n, molar mass > 0",
                    p.substance, p.set
                )));
            }
            if p.molar_volume_l_per_mol == 0.0 {
                p.molar_volume_l_per_mol = vm;
            }
        }
        for p in &probits {
            let defaults = probits
                .iter()
                .filter(|q| q.substance == p.substance && q.default)
                .count();
            if defaults != 1 {
                return Err(err(format!(
                    "substance {} has {defaults} default rows, expected 1",
                    p.substance
                )));
            }
        }
        Ok(ToxicProbitTable {
            molar_volume_l_per_mol: vm,
            table_status: raw.table_status,
            probits,
        })
    }

    fn matches(p: &ToxicProbit, key: &str) -> bool {
        p.substance.eq_ignore_ascii_case(key) || p.cas == key || p.name_zh == key
    }

    /// The default row for a substance named by key (`chlorine`), CAS
    /// (`7782-50-5`) or Chinese name (`氯`).
    ///
    /// # Errors
    /// [`SafetyError::UnknownSubstance`] when no row matches.
    pub fn find(&self, key: &str) -> Result<&ToxicProbit, SafetyError> {
        self.probits
            .iter()
            .find(|p| p.default && Self::matches(p, key))
            .ok_or_else(|| SafetyError::UnknownSubstance(key.to_string()))
    }

    /// The row of constant set `set` (e.g. `purple_book`) for a substance.
    ///
    /// # Errors
    /// [`SafetyError::UnknownSubstance`] when no row matches.
    pub fn find_in_set(&self, key: &str, set: &str) -> Result<&ToxicProbit, SafetyError> {
        self.probits
            .iter()
            .find(|p| p.set == set && Self::matches(p, key))
            .ok_or_else(|| SafetyError::UnknownSubstance(format!("{key} ({set})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consequence::units::MOLAR_VOLUME_25C_L_PER_MOL;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    fn table() -> &'static ToxicProbitTable {
        ToxicProbitTable::embedded()
    }

    fn ppm(p: &ToxicProbit, v: f64) -> f64 {
        ppm_to_kg_per_m3(v, p.molar_mass_g_per_mol, MOLAR_VOLUME_25C_L_PER_MOL)
    }

    #[test]
    fn embedded_table_parses_and_covers_the_brief() {
        let t = table();
        assert_eq!(t.table_status, "UNCONFIRMED");
        for s in [
            "chlorine",
            "ammonia",
            "hydrogen_sulfide",
            "hydrogen_chloride",
            "hydrogen_fluoride",
            "phosgene",
            "sulfur_dioxide",
            "hydrogen_cyanide",
            "carbon_monoxide",
        ] {
            let p = t.find(s).unwrap();
            assert!(!p.source.is_empty());
        }
        assert_eq!(t.find("7782-50-5").unwrap().substance, "chlorine");
        assert_eq!(t.find("氯").unwrap().substance, "chlorine");
        assert!(t.find("unobtainium").is_err());
    }

    #[test]
    fn chlorine_lees_lc50() {
        // Withers & Lees (1985): Y = −8.29 + 0.92·ln(C²·t), C ppm, t min.
        // Y = 5 ⇔ C²·t = e^(13.29/0.92) = e^14.44565 = 1.8779e6.
        // t = 30 min: C = √(1.8779e6/30) = √62 597 = 250.2 ppm (paper: 250).
        // t = 10 min: C = √187 790 = 433.3 ppm (paper: 433).
        let p = table().find("chlorine").unwrap();
        let c30 = p.concentration_for_probability(0.5, 1800.0).unwrap();
        let ppm30 = p.to_unit(c30).unwrap();
        assert!(close(ppm30, 250.2, 0.002), "{ppm30}");
        let c10 = p.concentration_for_probability(0.5, 600.0).unwrap();
        assert!(close(p.to_unit(c10).unwrap(), 433.3, 0.002));
        assert!((p.probability(c30, 1800.0).unwrap() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn lees_ammonia_and_h2s_lc50_30_min() {
        // Ammonia: C²·30 = e^(40.9/1.85) = e^22.10811 = 3.9945e9 → C = 11 539 ppm.
        // H2S: C^1.43·30 = e^(36.42/3.008) = e^12.10771 = 181 265
        //   → C = (6042.2)^(1/1.43) = 440.7 ppm (OSD/30: 441).
        let t = table();
        for (s, want) in [("ammonia", 11_539.0), ("hydrogen_sulfide", 440.7)] {
            let p = t.find(s).unwrap();
            let c = p.concentration_for_probability(0.5, 1800.0).unwrap();
            let v = p.to_unit(c).unwrap();
            assert!(close(v, want, 0.002), "{s} {v}");
        }
    }

    #[test]
    fn purple_book_co_appendix_6b() {
        // Purple Book App. 6.B: CO at 21 261 mg/m³ for 30 min,
        // Y = −7.4 + 1·ln(21 261·30) = −7.4 + ln(637 830) = −7.4 + 13.36584 = 5.966
        // (printed 5.97); P = Φ(0.966) = 0.833 (printed 0.835 from Table 5.1).
        let p = table()
            .find_in_set("carbon_monoxide", "purple_book")
            .unwrap();
        let c = 21_261e-6;
        assert!(close(p.probit_value(c, 1800.0).unwrap(), 5.966, 0.002));
        assert!(close(p.probability(c, 1800.0).unwrap(), 0.8329, 0.002));
    }

    #[test]
    fn purple_book_chlorine_lc50() {
        // PB chlorine: Y = −6.35 + 0.5·ln(C^2.75·t), C mg/m³.
        // Y = 5 ⇔ C^2.75·t = e^22.7 = 7.2496e9; t = 30: C = (2.41653e8)^(1/2.75)
        //   = e^(19.29880/2.75) = e^7.01775 = 1 116 mg/m³ (consequence-models.md: 1116).
        let p = table().find_in_set("chlorine", "purple_book").unwrap();
        let c = p.concentration_for_probability(0.5, 1800.0).unwrap();
        assert!(close(c * 1e6, 1116.0, 0.02), "{}", c * 1e6);
    }

    #[test]
    fn chlorine_at_1_km_from_1_kg_per_s() {
        // consequence-models.md §4.2: 18.97 ppm for 30 min.
        // Lees: Y = −8.29 + 0.92·ln(18.972²·30) = −8.29 + 0.92·9.28713 = 0.2542;
        // P = Φ(−4.7458) = 1.04e-6 (printed Y = 0.254, P = 1.0e-6).
        let p = table().find("chlorine").unwrap();
        let c = ppm(p, 18.972);
        assert!((p.probit_value(c, 1800.0).unwrap() - 0.254).abs() < 0.01);
        let prob = p.probability(c, 1800.0).unwrap();
        assert!(close(prob, 1.0e-6, 0.1), "{prob}");
    }

    #[test]
    fn rejects_bad_tables() {
        assert!(ToxicProbitTable::from_toml_str("nonsense = [").is_err());
        let two_defaults = EMBEDDED_TOML.replace(
            "set = \"purple_book\"\na = -6.35",
            "set = \"purple_book\"\ndefault = true\na = -6.35",
        );
        assert!(matches!(
            ToxicProbitTable::from_toml_str(&two_defaults),
            Err(SafetyError::Rules { .. })
        ));
        let negative_b = EMBEDDED_TOML.replace("b = 0.92", "b = -0.92");
        assert!(ToxicProbitTable::from_toml_str(&negative_b).is_err());
    }

    #[test]
    fn refuses_nan_concentrations_and_exposures() {
        let p = table().find("chlorine").unwrap();
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e-3] {
            assert!(p.probability(bad, 600.0).is_err());
            assert!(p.probability(1e-3, bad).is_err());
            assert!(p.to_unit(bad).is_err());
            assert!(p.from_unit(bad).is_err());
        }
        assert!(p.probability(1e-3, 0.0).is_err());
        assert_eq!(p.probability(0.0, 600.0).unwrap(), 0.0);
        let broken = ToxicProbit {
            n: f64::NAN,
            ..p.clone()
        };
        assert!(broken.probability(1e-3, 600.0).is_err());
        assert!(broken.concentration_for_probability(0.5, 600.0).is_err());
    }

    proptest! {
        #[test]
        fn probability_monotone_in_dose(
            idx in 0usize..17, c in 1e-9f64..1e-1, dc in 0.0f64..1e-2, t in 1.0f64..7200.0, dt in 0.0f64..3600.0,
        ) {
            let t_ = table();
            let p = &t_.probits[idx % t_.probits.len()];
            prop_assert!(p.probability(c + dc, t + dt).unwrap() >= p.probability(c, t).unwrap());
        }
    }
}

//! The QRA rule tables: `data/rules/qra-leak-frequencies.toml`,
//! `qra-ignition.toml`, `qra-weather.toml`, `qra-substances.toml` and
//! `qra-model.toml`, embedded at compile time and parsed on first use
//! ([`QraRules::embedded`]), or given by the caller
//! ([`QraRules::from_toml_strs`]). Sources and confidence of every figure are
//! in the files' headers and in `data/rules/README-safety.md`.

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;
use crate::consequence::plume::{StabilityClass, Terrain};
use crate::consequence::toxic_probits::{ToxicProbit, ToxicProbitTable};
use crate::consequence::vce::BlastCurve;
use crate::error::SafetyError;

#[cfg(test)]
const LEAK_TOML: &str = include_str!("../../../../data/rules/qra-leak-frequencies.toml");
#[cfg(test)]
const IGNITION_TOML: &str = include_str!("../../../../data/rules/qra-ignition.toml");
#[cfg(test)]
const WEATHER_TOML: &str = include_str!("../../../../data/rules/qra-weather.toml");
#[cfg(test)]
const SUBSTANCES_TOML: &str = include_str!("../../../../data/rules/qra-substances.toml");
#[cfg(test)]
const MODEL_TOML: &str = include_str!("../../../../data/rules/qra-model.toml");

static EMBEDDED: LazyLock<QraRules> = LazyLock::new(|| {
    QraRules::from_toml_strs(
        riskmap_core::rule_set::text("qra-leak-frequencies.toml"),
        riskmap_core::rule_set::text("qra-ignition.toml"),
        riskmap_core::rule_set::text("qra-weather.toml"),
        riskmap_core::rule_set::text("qra-substances.toml"),
        riskmap_core::rule_set::text("qra-model.toml"),
    )
    .expect("qra-*.toml in force is valid (checked at start)")
});

/// Equipment type of a loss-of-containment event (Purple Book ch. 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Equipment {
    /// Stationary pressure vessel (压力容器).
    PressureVessel,
    /// Process or reactor vessel (工艺容器/反应器).
    ProcessVessel,
    /// Atmospheric tank, single containment (常压储罐).
    AtmosphericTank,
}

/// Frequencies (per vessel per year) of the three Purple Book LOC events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EquipmentFrequency {
    /// Equipment type.
    pub key: Equipment,
    /// Chinese name.
    pub name_zh: String,
    /// Instantaneous release of the complete inventory, /yr.
    pub instantaneous: f64,
    /// Continuous release of the complete inventory in 10 min, /yr.
    pub continuous_10min: f64,
    /// Continuous release from a 10 mm hole, /yr.
    pub hole_10mm: f64,
    /// Confidence tag.
    pub confidence: Confidence,
    /// Source.
    pub source: String,
}

/// `qra-leak-frequencies.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeakFrequencies {
    /// Effective hole diameter of the small-leak event, m.
    pub hole_diameter_m: f64,
    /// Duration of the "whole inventory in 10 min" event, s.
    pub continuous_duration_s: f64,
    /// Longest release duration considered, s (PB: 1800).
    pub max_release_duration_s: f64,
    /// Confidence of the table.
    pub confidence: Confidence,
    /// One row per equipment type.
    pub equipment: Vec<EquipmentFrequency>,
}

impl LeakFrequencies {
    /// The row of an equipment type.
    pub fn of(&self, e: Equipment) -> Option<&EquipmentFrequency> {
        self.equipment.iter().find(|r| r.key == e)
    }
}

/// Direct-ignition probabilities by size class (PB Table 4.5): three values
/// for the small, medium and large class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DirectIgnition {
    /// K1 liquids.
    pub liquid: [f64; 3],
    /// Gases (and liquefied gases) of low reactivity.
    pub gas_low_reactivity: [f64; 3],
    /// Gases of average reactivity.
    pub gas_average_reactivity: [f64; 3],
    /// Gases of high reactivity.
    pub gas_high_reactivity: [f64; 3],
}

/// Delayed ignition (PB ch. 4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelayedIgnition {
    /// Share of delayed ignitions that are flash fires (PB 0.6).
    pub flash_fire_fraction: f64,
    /// Share that are explosions (PB 0.4).
    pub explosion_fraction: f64,
    /// Confidence of the 0.6/0.4 split.
    pub flash_fire_explosion_confidence: Confidence,
    /// P(delayed ignition | no direct ignition) for flammable-only substances.
    pub probability_flammable: f64,
    /// The same for substances that are flammable and toxic.
    pub probability_flammable_toxic: f64,
    /// Confidence of the two probabilities.
    pub confidence: Confidence,
}

/// `qra-ignition.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IgnitionRules {
    /// Confidence of Table 4.5 as transcribed.
    pub table_status: Confidence,
    /// Source.
    pub source: String,
    /// Class limits of continuous releases, kg/s.
    pub continuous_class_limits_kg_s: [f64; 2],
    /// Class limits of instantaneous releases, kg.
    pub instantaneous_class_limits_kg: [f64; 2],
    /// Direct ignition.
    pub direct: DirectIgnition,
    /// Delayed ignition.
    pub delayed: DelayedIgnition,
}

/// Reactivity of a flammable gas (PB Table 4.5 rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reactivity {
    /// Low (ammonia, CO, methane, …).
    Low,
    /// Average.
    Average,
    /// High (acetylene, ethylene, ethylene oxide, …).
    High,
}

impl IgnitionRules {
    /// Size class 0, 1 or 2 of a value against two limits.
    fn class(v: f64, limits: [f64; 2]) -> usize {
        if v < limits[0] {
            0
        } else if v <= limits[1] {
            1
        } else {
            2
        }
    }

    /// P(direct ignition) of a release: liquids use the K1 row; gases their
    /// reactivity row, by mass (instantaneous) or rate (continuous).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless the mass and rate are finite
    /// numbers ≥ 0 (a NaN would otherwise fall in the large class).
    pub fn direct(
        &self,
        liquid: bool,
        reactivity: Reactivity,
        instantaneous: bool,
        mass_kg: f64,
        rate_kg_s: f64,
    ) -> Result<f64, SafetyError> {
        crate::error::non_negative("mass_kg", mass_kg)?;
        crate::error::non_negative("rate_kg_s", rate_kg_s)?;
        let class = if instantaneous {
            Self::class(mass_kg, self.instantaneous_class_limits_kg)
        } else {
            Self::class(rate_kg_s, self.continuous_class_limits_kg_s)
        };
        let row = if liquid {
            &self.direct.liquid
        } else {
            match reactivity {
                Reactivity::Low => &self.direct.gas_low_reactivity,
                Reactivity::Average => &self.direct.gas_average_reactivity,
                Reactivity::High => &self.direct.gas_high_reactivity,
            }
        };
        Ok(row[class])
    }
}

/// One weather class of the default weather.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherClassRow {
    /// Id, e.g. `D5`.
    pub id: String,
    /// Pasquill–Gifford class.
    pub stability: StabilityClass,
    /// Wind speed, m/s.
    pub wind_speed_m_s: f64,
    /// Probability.
    pub probability: f64,
    /// Day (true) or night: sets the indoor fraction of the F–N curve.
    pub daytime: bool,
}

/// `qra-weather.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherRules {
    /// Briggs terrain.
    pub terrain: Terrain,
    /// Confidence.
    pub confidence: Confidence,
    /// Source.
    pub source: String,
    /// The classes.
    pub class: Vec<WeatherClassRow>,
}

/// Physical state of a substance as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhysicalState {
    /// Liquid at ambient conditions (常压液体).
    Liquid,
    /// Liquefied under pressure (加压液化气体).
    LiquefiedPressurised,
    /// Liquefied by refrigeration at about atmospheric pressure (低温液化气体).
    LiquefiedRefrigerated,
    /// Compressed gas (压缩气体).
    CompressedGas,
    /// Solid.
    Solid,
}

/// One row of `qra-substances.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubstanceProps {
    /// Stable key.
    pub key: String,
    /// Chinese name.
    pub name_zh: String,
    /// Names matched exactly (after trimming).
    pub names: Vec<String>,
    /// CAS numbers.
    pub cas: Vec<String>,
    /// Molar mass, g/mol.
    pub molar_mass_g_per_mol: f64,
    /// State as stored.
    pub state: PhysicalState,
    /// Lower heat of combustion, MJ/kg (flammable substances).
    pub heat_of_combustion_mj_per_kg: Option<f64>,
    /// Lower flammability limit, vol %.
    pub lfl_vol_pct: Option<f64>,
    /// Pool burning rate, kg/m²s.
    pub burning_rate_kg_m2_s: Option<f64>,
    /// Liquid density, kg/m³.
    pub liquid_density_kg_m3: Option<f64>,
    /// Vapour pressure at 20 °C, kPa absolute.
    pub vapour_pressure_kpa: Option<f64>,
    /// Storage pressure of a compressed gas, kPa absolute.
    pub storage_pressure_kpa: Option<f64>,
    /// Ratio of specific heats of a gas.
    pub gamma: Option<f64>,
    /// Normal boiling point (refrigerated liquids), K.
    pub boiling_point_k: Option<f64>,
    /// PB reactivity (flammable gases).
    pub reactivity: Option<Reactivity>,
    /// Fraction of heat radiated by a jet fire.
    pub jet_radiative_fraction: Option<f64>,
    /// Key of the toxic probit (consequence-toxic-probits.toml).
    pub toxic_probit: Option<String>,
    /// Constant set of the toxic probit (default row when absent).
    pub toxic_probit_set: Option<String>,
    /// Why another substance's probit stands in.
    pub toxic_surrogate: Option<String>,
    /// 火灾危险性 class (甲A, 甲B, 乙A, …).
    pub fire_class: Option<String>,
    /// An explosive (爆炸物).
    #[serde(default)]
    pub explosive: bool,
    /// TNT equivalence factor of an explosive.
    pub tnt_equivalence: Option<f64>,
    /// Confidence of the TNT equivalence factor.
    pub tnt_equivalence_confidence: Option<Confidence>,
    /// Why the QRA does not model the substance.
    pub not_modelled: Option<String>,
}

impl SubstanceProps {
    /// Whether the substance is flammable (has a heat of combustion and LFL).
    pub fn is_flammable(&self) -> bool {
        self.heat_of_combustion_mj_per_kg.is_some() && self.lfl_vol_pct.is_some()
    }

    /// Whether the substance has a toxic probit.
    pub fn is_toxic(&self) -> bool {
        self.toxic_probit.is_some()
    }
}

/// Fallback from a GB 18218 表2 category to a surrogate row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryFallback {
    /// Category symbol, e.g. `J3`.
    pub category: String,
    /// Key of the surrogate row.
    pub surrogate: String,
}

/// `qra-substances.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubstanceTable {
    /// Status of the table (UNCONFIRMED).
    pub table_status: String,
    /// Confidence.
    pub confidence: Confidence,
    /// Source.
    pub source: String,
    /// Rows.
    pub substance: Vec<SubstanceProps>,
    /// Category fallbacks.
    #[serde(default)]
    pub category_fallback: Vec<CategoryFallback>,
}

fn cas_digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

impl SubstanceTable {
    /// The row of a substance: exact name first, then CAS.
    pub fn find(&self, name: Option<&str>, cas: Option<&str>) -> Option<&SubstanceProps> {
        if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
            let by_name = self
                .substance
                .iter()
                .find(|s| s.names.iter().any(|m| m == n || m.eq_ignore_ascii_case(n)));
            if by_name.is_some() {
                return by_name;
            }
        }
        let key = cas.map(cas_digits).filter(|k| !k.is_empty())?;
        self.substance
            .iter()
            .find(|s| s.cas.iter().any(|c| cas_digits(c) == key))
    }

    /// The row with this key.
    pub fn by_key(&self, key: &str) -> Option<&SubstanceProps> {
        self.substance.iter().find(|s| s.key == key)
    }

    /// The surrogate row of a hazard category.
    pub fn fallback(&self, category: &str) -> Option<&SubstanceProps> {
        let f = self
            .category_fallback
            .iter()
            .find(|f| f.category.eq_ignore_ascii_case(category.trim()))?;
        self.by_key(&f.surrogate)
    }
}

/// Source-term parameters (`[source_term]` of `qra-model.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SourceTermRules {
    /// Orifice discharge coefficient.
    pub discharge_coefficient: f64,
    /// Liquid head above a hole, m.
    pub liquid_head_m: f64,
    /// Ambient temperature, K.
    pub ambient_temperature_k: f64,
    /// Ambient pressure, Pa.
    pub ambient_pressure_pa: f64,
    /// Bund height fixing the largest pool of a storage unit, m.
    pub bund_height_m: f64,
    /// Minimum pool thickness, m.
    pub min_pool_thickness_m: f64,
    /// Largest pool of a production unit, m².
    pub max_unbunded_pool_area_m2: f64,
    /// Schmidt number of the Mackay–Matsugu evaporation coefficient.
    pub schmidt_number: f64,
    /// Airborne fraction of a pressurised liquefied release.
    pub airborne_fraction_pressurised: f64,
    /// Release height, m.
    pub release_height_m: f64,
    /// Receptor height, m.
    pub receptor_height_m: f64,
    /// Fraction of an instantaneous cloud that explodes.
    pub instantaneous_flammable_fraction: f64,
    /// Default jet-fire radiative fraction.
    pub jet_radiative_fraction: f64,
    /// Confidence.
    pub confidence: Confidence,
}

/// Explosion parameters (`[explosion]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExplosionRules {
    /// α.
    pub yield_factor: f64,
    /// Q_TNT, J/kg.
    pub tnt_blast_energy_j_per_kg: f64,
    /// β.
    pub ground_burst_factor: f64,
    /// Blast curve.
    pub curve: BlastCurve,
    /// Confidence.
    pub confidence: Confidence,
}

/// Lethality rules (`[lethality]`), PB Table 5.3 outdoors.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LethalityRules {
    /// Thermal probit id (`tsao_perry`, `eisenberg_1975`, `tno_green_book`).
    pub thermal_probit: ThermalProbitId,
    /// Flux at and above which P = 1, W/m².
    pub fire_lethal_flux_w_m2: f64,
    /// Longest fire exposure, s.
    pub fire_max_exposure_s: f64,
    /// Overpressure at and above which P = 1, Pa.
    pub explosion_lethal_overpressure_pa: f64,
    /// Overpressure above which people indoors die with
    /// `explosion_indoor_lethality`, Pa (F–N only).
    pub explosion_indoor_overpressure_pa: f64,
    /// Indoor lethality between the two overpressures (F–N only).
    pub explosion_indoor_lethality: f64,
    /// Longest toxic exposure, s.
    pub toxic_max_exposure_s: f64,
    /// Cut-off probability of the sector method.
    pub toxic_cutoff_probability: f64,
    /// Confidence.
    pub confidence: Confidence,
}

/// The thermal probits a rule file may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThermalProbitId {
    /// Tsao & Perry / Purple Book, −36.38.
    TsaoPerry,
    /// Eisenberg 1975, −38.48.
    #[serde(rename = "eisenberg_1975")]
    Eisenberg1975,
    /// TNO Green Book, −37.23.
    TnoGreenBook,
}

impl ThermalProbitId {
    /// The probit.
    pub fn probit(self) -> crate::ThermalProbit {
        match self {
            ThermalProbitId::TsaoPerry => crate::ThermalProbit::TSAO_PERRY,
            ThermalProbitId::Eisenberg1975 => crate::ThermalProbit::EISENBERG_1975,
            ThermalProbitId::TnoGreenBook => crate::ThermalProbit::TNO_GREEN_BOOK,
        }
    }
}

/// One GB 36894 societal-risk line F = c/N^slope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FnLine {
    /// Name, e.g. 不可接受线.
    pub name_zh: String,
    /// c, the frequency at N = 1, /yr.
    pub f_at_n1: f64,
    /// Slope (1 for F = c/N).
    pub slope: f64,
    /// Smallest N the line applies to.
    pub n_min: f64,
    /// Confidence.
    pub confidence: Confidence,
    /// Whether the line is UNCONFIRMED.
    pub unconfirmed: bool,
    /// Source.
    pub source: String,
}

impl FnLine {
    /// F on the line at N.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless N is a finite number > 0 and
    /// the line has a finite c > 0 and a finite slope.
    pub fn f_at(&self, n: f64) -> Result<f64, SafetyError> {
        crate::error::positive("f_at_n1", self.f_at_n1)?;
        crate::error::finite("slope", self.slope)?;
        let n = crate::error::positive("n", n)?;
        Ok(self.f_at_unchecked(n))
    }

    /// [`FnLine::f_at`] without the checks, for validated lines and N ≥ 1.
    pub(crate) fn f_at_unchecked(&self, n: f64) -> f64 {
        self.f_at_n1 / n.powf(self.slope)
    }
}

/// Societal-risk rules (`[societal]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocietalRules {
    /// Indoor fraction by day.
    pub indoor_fraction_day: f64,
    /// Indoor fraction by night.
    pub indoor_fraction_night: f64,
    /// Toxic lethality indoors as a fraction of outdoors.
    pub toxic_indoor_factor: f64,
    /// Outdoor fire lethality factor below the lethal flux (clothing).
    pub fire_outdoor_factor: f64,
    /// Confidence.
    pub confidence: Confidence,
    /// The unacceptable line.
    pub upper: FnLine,
    /// The acceptable line.
    pub lower: FnLine,
}

/// The consequence method for explosives (`[explosives]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplosivesRules {
    /// Overpressure safety threshold, Pa.
    pub threshold_pa: f64,
    /// Where it comes from.
    pub threshold_source: String,
    /// Whether it is UNCONFIRMED.
    pub unconfirmed: bool,
    /// Blast curve.
    pub curve: BlastCurve,
    /// TNT equivalence used when a row gives none.
    pub default_tnt_equivalence: f64,
    /// The clause of the method.
    pub clause: String,
}

/// `qra-model.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRules {
    /// Source terms.
    pub source_term: SourceTermRules,
    /// Explosions.
    pub explosion: ExplosionRules,
    /// Lethality.
    pub lethality: LethalityRules,
    /// Societal risk.
    pub societal: SocietalRules,
    /// Explosives (consequence method).
    pub explosives: ExplosivesRules,
}

/// All QRA rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QraRules {
    /// Leak frequencies.
    pub leak: LeakFrequencies,
    /// Ignition.
    pub ignition: IgnitionRules,
    /// Default weather.
    pub weather: WeatherRules,
    /// Substance properties.
    pub substances: SubstanceTable,
    /// Model parameters.
    pub model: ModelRules,
    /// Toxic probits (`consequence-toxic-probits.toml` in force).
    pub toxic_probits: ToxicProbitTable,
}

fn parse<T: for<'de> Deserialize<'de>>(table: &'static str, text: &str) -> Result<T, SafetyError> {
    riskmap_core::rule_set::from_toml(text).map_err(|message| SafetyError::Rules { table, message })
}

fn check(
    ok: bool,
    table: &'static str,
    message: impl FnOnce() -> String,
) -> Result<(), SafetyError> {
    if ok {
        Ok(())
    } else {
        Err(SafetyError::Rules {
            table,
            message: message(),
        })
    }
}

fn prob(p: f64) -> bool {
    p.is_finite() && (0.0..=1.0).contains(&p)
}

fn pos(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

impl QraRules {
    /// The `qra-*.toml` rules in force (embedded, or `--rules`; see
    /// [`riskmap_core::rule_set`]), parsed once.
    pub fn embedded() -> &'static QraRules {
        &EMBEDDED
    }

    /// Parse and check rule files in the format of the embedded ones. The
    /// toxic probits are `consequence-toxic-probits.toml` in force.
    ///
    /// # Errors
    /// [`SafetyError::Rules`] for a syntax error, a probability outside
    /// [0, 1], a non-positive physical constant, an unknown probit key or an
    /// equipment type without a row.
    pub fn from_toml_strs(
        leak_frequencies: &str,
        ignition: &str,
        weather: &str,
        substances: &str,
        model: &str,
    ) -> Result<QraRules, SafetyError> {
        QraRules::from_toml_strs_with(
            leak_frequencies,
            ignition,
            weather,
            substances,
            model,
            ToxicProbitTable::embedded().clone(),
        )
    }

    /// [`QraRules::from_toml_strs`] with the toxic probits given.
    ///
    /// # Errors
    /// As [`QraRules::from_toml_strs`].
    pub fn from_toml_strs_with(
        leak_frequencies: &str,
        ignition: &str,
        weather: &str,
        substances: &str,
        model: &str,
        toxic_probits: ToxicProbitTable,
    ) -> Result<QraRules, SafetyError> {
        let leak: LeakFrequencies = parse("qra-leak-frequencies.toml", leak_frequencies)?;
        let ignition: IgnitionRules = parse("qra-ignition.toml", ignition)?;
        let weather: WeatherRules = parse("qra-weather.toml", weather)?;
        let substances: SubstanceTable = parse("qra-substances.toml", substances)?;
        let model: ModelRules = parse("qra-model.toml", model)?;
        let rules = QraRules {
            leak,
            ignition,
            weather,
            substances,
            model,
            toxic_probits,
        };
        rules.validate()?;
        Ok(rules)
    }

    fn validate(&self) -> Result<(), SafetyError> {
        const LEAK: &str = "qra-leak-frequencies.toml";
        const IGN: &str = "qra-ignition.toml";
        const WX: &str = "qra-weather.toml";
        const SUB: &str = "qra-substances.toml";
        const MODEL: &str = "qra-model.toml";
        let l = &self.leak;
        check(
            pos(l.hole_diameter_m) && pos(l.continuous_duration_s) && pos(l.max_release_duration_s),
            LEAK,
            || "hole diameter and durations must be > 0".into(),
        )?;
        for e in [
            Equipment::PressureVessel,
            Equipment::ProcessVessel,
            Equipment::AtmosphericTank,
        ] {
            let row = l.of(e);
            check(row.is_some(), LEAK, || format!("no row for {e:?}"))?;
            if let Some(r) = row {
                check(
                    [r.instantaneous, r.continuous_10min, r.hole_10mm]
                        .iter()
                        .all(|f| f.is_finite() && *f >= 0.0),
                    LEAK,
                    || format!("{e:?}: frequencies must be ≥ 0"),
                )?;
            }
        }
        let i = &self.ignition;
        let d = &i.direct;
        check(
            [
                d.liquid,
                d.gas_low_reactivity,
                d.gas_average_reactivity,
                d.gas_high_reactivity,
            ]
            .iter()
            .flatten()
            .all(|p| prob(*p)),
            IGN,
            || "direct-ignition probabilities must be in [0, 1]".into(),
        )?;
        let dl = &i.delayed;
        check(
            prob(dl.probability_flammable)
                && prob(dl.probability_flammable_toxic)
                && prob(dl.flash_fire_fraction)
                && prob(dl.explosion_fraction)
                && (dl.flash_fire_fraction + dl.explosion_fraction - 1.0).abs() < 1e-9,
            IGN,
            || "delayed ignition: probabilities in [0, 1], flash + explosion = 1".into(),
        )?;
        check(
            i.continuous_class_limits_kg_s[0] <= i.continuous_class_limits_kg_s[1]
                && i.instantaneous_class_limits_kg[0] <= i.instantaneous_class_limits_kg[1],
            IGN,
            || "class limits must be increasing".into(),
        )?;
        let psum: f64 = self.weather.class.iter().map(|c| c.probability).sum();
        check(
            !self.weather.class.is_empty()
                && self
                    .weather
                    .class
                    .iter()
                    .all(|c| prob(c.probability) && pos(c.wind_speed_m_s))
                && (psum - 1.0).abs() < 1e-6,
            WX,
            || {
                format!(
                    "weather classes: probabilities in [0, 1] summing to 1 (sum {psum}), wind > 0"
                )
            },
        )?;
        for s in &self.substances.substance {
            check(pos(s.molar_mass_g_per_mol), SUB, || {
                format!("{}: molar mass must be > 0", s.key)
            })?;
            for v in [
                s.heat_of_combustion_mj_per_kg,
                s.lfl_vol_pct,
                s.burning_rate_kg_m2_s,
                s.liquid_density_kg_m3,
                s.vapour_pressure_kpa,
                s.storage_pressure_kpa,
                s.gamma,
                s.boiling_point_k,
                s.tnt_equivalence,
            ]
            .into_iter()
            .flatten()
            {
                check(pos(v), SUB, || {
                    format!("{}: every value must be > 0", s.key)
                })?;
            }
            if let Some(key) = &s.toxic_probit {
                let found = match &s.toxic_probit_set {
                    Some(set) => self.toxic_probits.find_in_set(key, set).is_ok(),
                    None => self.toxic_probits.find(key).is_ok(),
                };
                check(found, SUB, || {
                    format!(
                        "{}: toxic probit {key} not in consequence-toxic-probits.toml",
                        s.key
                    )
                })?;
            }
            if s.not_modelled.is_none() && !s.explosive && s.state != PhysicalState::Solid {
                let needs_density = matches!(
                    s.state,
                    PhysicalState::Liquid
                        | PhysicalState::LiquefiedPressurised
                        | PhysicalState::LiquefiedRefrigerated
                );
                check(
                    !needs_density || s.liquid_density_kg_m3.is_some(),
                    SUB,
                    || format!("{}: a liquid needs liquid_density_kg_m3", s.key),
                )?;
                check(
                    s.state != PhysicalState::CompressedGas
                        || (s.storage_pressure_kpa.is_some() && s.gamma.is_some()),
                    SUB,
                    || {
                        format!(
                            "{}: a compressed gas needs storage_pressure_kpa and gamma",
                            s.key
                        )
                    },
                )?;
                check(
                    s.state != PhysicalState::LiquefiedRefrigerated || s.boiling_point_k.is_some(),
                    SUB,
                    || format!("{}: a refrigerated liquid needs boiling_point_k", s.key),
                )?;
                check(
                    !matches!(
                        s.state,
                        PhysicalState::Liquid | PhysicalState::LiquefiedPressurised
                    ) || s.vapour_pressure_kpa.is_some(),
                    SUB,
                    || format!("{}: needs vapour_pressure_kpa", s.key),
                )?;
                check(
                    !s.is_flammable()
                        || s.state == PhysicalState::CompressedGas
                        || s.state == PhysicalState::LiquefiedPressurised
                        || s.burning_rate_kg_m2_s.is_some(),
                    SUB,
                    || format!("{}: a flammable liquid needs burning_rate_kg_m2_s", s.key),
                )?;
            }
        }
        for f in &self.substances.category_fallback {
            check(self.substances.by_key(&f.surrogate).is_some(), SUB, || {
                format!("fallback {}: no row {}", f.category, f.surrogate)
            })?;
        }
        let m = &self.model;
        let st = &m.source_term;
        check(
            [
                st.discharge_coefficient,
                st.ambient_temperature_k,
                st.ambient_pressure_pa,
                st.bund_height_m,
                st.min_pool_thickness_m,
                st.max_unbunded_pool_area_m2,
                st.schmidt_number,
                st.jet_radiative_fraction,
            ]
            .iter()
            .all(|v| pos(*v))
                && st.liquid_head_m >= 0.0
                && st.release_height_m >= 0.0
                && st.receptor_height_m >= 0.0
                && prob(st.airborne_fraction_pressurised)
                && prob(st.instantaneous_flammable_fraction),
            MODEL,
            || "[source_term]: values must be > 0 (fractions in [0, 1])".into(),
        )?;
        let e = &m.explosion;
        check(
            pos(e.yield_factor) && pos(e.tnt_blast_energy_j_per_kg) && pos(e.ground_burst_factor),
            MODEL,
            || "[explosion]: values must be > 0".into(),
        )?;
        let le = &m.lethality;
        check(
            pos(le.fire_lethal_flux_w_m2)
                && pos(le.fire_max_exposure_s)
                && pos(le.explosion_lethal_overpressure_pa)
                && pos(le.explosion_indoor_overpressure_pa)
                && prob(le.explosion_indoor_lethality)
                && pos(le.toxic_max_exposure_s)
                && le.toxic_cutoff_probability > 0.0
                && le.toxic_cutoff_probability < 1.0,
            MODEL,
            || "[lethality]: values must be > 0, probabilities in (0, 1)".into(),
        )?;
        let so = &m.societal;
        check(
            prob(so.indoor_fraction_day)
                && prob(so.indoor_fraction_night)
                && prob(so.toxic_indoor_factor)
                && prob(so.fire_outdoor_factor)
                && pos(so.upper.f_at_n1)
                && pos(so.lower.f_at_n1)
                && so.lower.f_at_n1 <= so.upper.f_at_n1
                && [so.upper.slope, so.lower.slope]
                    .iter()
                    .all(|v| v.is_finite())
                && [so.upper.n_min, so.lower.n_min].iter().all(|v| pos(*v)),
            MODEL,
            || {
                "[societal]: fractions in [0, 1]; lines with 0 < lower ≤ upper, finite slopes, n_min > 0"
                    .into()
            },
        )?;
        check(
            pos(m.explosives.threshold_pa) && pos(m.explosives.default_tnt_equivalence),
            MODEL,
            || "[explosives]: threshold and TNT equivalence must be > 0".into(),
        )?;
        Ok(())
    }

    /// The toxic probit of a substance row.
    pub fn probit_of(&self, s: &SubstanceProps) -> Option<&ToxicProbit> {
        let key = s.toxic_probit.as_deref()?;
        match &s.toxic_probit_set {
            Some(set) => self.toxic_probits.find_in_set(key, set).ok(),
            None => self.toxic_probits.find(key).ok(),
        }
    }

    /// Every figure of these rules that is UNCONFIRMED, for `notes` and
    /// `unconfirmed` lists.
    pub fn unconfirmed(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.leak.confidence.is_unconfirmed() {
            v.push("qra-leak-frequencies.toml: Purple Book generic LOC frequencies (pressure vessel 5e-7/5e-7/1e-5, process vessel and atmospheric tank 5e-6/5e-6/1e-4 per year) [M], not GB/T 37243 Annex C / AQ/T 3046".to_string());
        }
        if self.ignition.delayed.confidence.is_unconfirmed() {
            v.push(format!(
                "qra-ignition.toml [delayed]: P(delayed ignition | no direct ignition) = {} (flammable), {} (flammable and toxic) [M]",
                self.ignition.delayed.probability_flammable,
                self.ignition.delayed.probability_flammable_toxic
            ));
        }
        if self.weather.confidence.is_unconfirmed() {
            v.push("qra-weather.toml: default weather D5 (0.44) / F1.5 (0.56) with a uniform wind rose [M]; use site statistics".to_string());
        }
        if self.substances.confidence.is_unconfirmed() {
            v.push("qra-substances.toml: physical properties from memory (densities, vapour pressures, LFLs, burning rates, storage pressures) [M]".to_string());
        }
        if self.model.source_term.confidence.is_unconfirmed() {
            v.push(format!(
                "qra-model.toml [source_term]: Cd {}, liquid head {} m, bund height {} m, minimum pool thickness {} m, unbunded pool ≤ {} m², airborne fraction {}, compressed-gas storage pressures [M / project assumptions]",
                self.model.source_term.discharge_coefficient,
                self.model.source_term.liquid_head_m,
                self.model.source_term.bund_height_m,
                self.model.source_term.min_pool_thickness_m,
                self.model.source_term.max_unbunded_pool_area_m2,
                self.model.source_term.airborne_fraction_pressurised
            ));
        }
        if self.model.lethality.confidence.is_unconfirmed() {
            v.push("qra-model.toml [lethality]: Purple Book Table 5.3 rules [M]".to_string());
        }
        v.push(format!(
            "qra-model.toml [lethality]: toxic exposure capped at {} s [M]",
            self.model.lethality.toxic_max_exposure_s
        ));
        v.push(format!(
            "consequence-toxic-probits.toml: {} (no row checked against GB/T 37243 Annex H)",
            self.toxic_probits.table_status
        ));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_parse_and_match_the_references() {
        let r = QraRules::embedded();
        // Purple Book pressure vessel (consequence-models.md §5.2).
        let pv = r.leak.of(Equipment::PressureVessel).unwrap();
        assert_eq!(
            (pv.instantaneous, pv.continuous_10min, pv.hole_10mm),
            (5e-7, 5e-7, 1e-5)
        );
        // PB Table 4.5: average gas 0.2 / 0.5 / 0.7, K1 liquid 0.065.
        let ig = &r.ignition;
        let direct = |liquid, r, inst, m, q| ig.direct(liquid, r, inst, m, q).unwrap();
        assert_eq!(direct(false, Reactivity::Average, true, 500.0, 0.0), 0.2);
        assert_eq!(direct(false, Reactivity::Average, true, 5000.0, 0.0), 0.5);
        assert_eq!(direct(false, Reactivity::Average, false, 0.0, 150.0), 0.7);
        assert_eq!(direct(false, Reactivity::Low, false, 0.0, 50.0), 0.04);
        assert_eq!(direct(true, Reactivity::Average, true, 1e7, 0.0), 0.065);
        assert!(
            ig.direct(false, Reactivity::Average, true, f64::NAN, 0.0)
                .is_err()
        );
        assert_eq!(ig.delayed.flash_fire_fraction, 0.6);
        // Default weather: D5 0.44, F1.5 0.56.
        let w = &r.weather.class;
        assert_eq!(
            (w[0].stability, w[0].wind_speed_m_s, w[0].probability),
            (StabilityClass::D, 5.0, 0.44)
        );
        assert_eq!(
            (w[1].stability, w[1].wind_speed_m_s, w[1].probability),
            (StabilityClass::F, 1.5, 0.56)
        );
        // GB 36894 lines (standards.md §2.2): 1e-3/N and 1e-5/N.
        assert!((r.model.societal.upper.f_at(10.0).unwrap() - 1e-4).abs() < 1e-18);
        assert!((r.model.societal.lower.f_at(10.0).unwrap() - 1e-6).abs() < 1e-20);
        assert!(r.model.societal.upper.f_at(f64::NAN).is_err());
        assert!(r.model.societal.upper.f_at(0.0).is_err());
        assert!(r.model.explosives.unconfirmed);
        assert_eq!(r.model.explosives.threshold_pa, 2000.0);
    }

    #[test]
    fn every_demo_substance_has_a_row() {
        // The substances of data/demo/enterprises.geojson (by CAS and name).
        let demo = [
            ("100-42-5", "苯乙烯"),
            ("10102-44-0", "二氧化氮"),
            ("106-99-0", "1,3-丁二烯"),
            ("108-88-3", "甲苯"),
            ("109-99-9", "四氢呋喃"),
            ("110-54-3", "正己烷"),
            ("110-82-7", "环己烷"),
            ("115-07-1", "丙烯"),
            ("123-86-4", "乙酸丁酯"),
            ("1330-20-7", "二甲苯"),
            ("1333-74-0", "氢气"),
            ("141-78-6", "乙酸乙酯"),
            ("60-29-7", "乙醚"),
            ("630-08-0", "一氧化碳"),
            ("64-17-5", "乙醇"),
            ("64-19-7", "冰乙酸"),
            ("67-56-1", "甲醇"),
            ("67-63-0", "异丙醇"),
            ("67-64-1", "丙酮"),
            ("68-12-2", "N,N-二甲基甲酰胺"),
            ("68334-30-5", "柴油"),
            ("68476-85-7", "液化石油气"),
            ("71-43-2", "苯"),
            ("74-83-9", "溴甲烷"),
            ("74-85-1", "乙烯"),
            ("74-86-2", "乙炔"),
            ("74-90-8", "氰化氢"),
            ("7429-90-5", "铝粉（未涂层）"),
            ("7440-23-5", "金属钠"),
            ("7446-09-5", "二氧化硫"),
            ("75-01-4", "氯乙烯"),
            ("75-20-7", "碳化钙（电石）"),
            ("75-21-8", "环氧乙烷"),
            ("75-44-5", "光气"),
            ("75-56-9", "1,2-环氧丙烷"),
            ("7647-01-0", "氯化氢（无水）"),
            ("7664-39-3", "氟化氢（无水）"),
            ("7664-41-7", "液氨"),
            ("7722-84-1", "过氧化氢溶液（含量≥27.5%）"),
            ("7775-09-9", "氯酸钠"),
            ("7782-44-7", "液氧"),
            ("7782-50-5", "液氯"),
            ("7783-06-4", "硫化氢"),
            ("78-67-1", "偶氮二异丁腈"),
            ("7803-51-2", "磷化氢"),
            ("79-10-7", "丙烯酸"),
            ("8006-14-2", "天然气"),
            ("8006-14-2", "液化天然气"),
            ("86290-81-5", "汽油"),
        ];
        let t = &QraRules::embedded().substances;
        for (cas, name) in demo {
            let row = t.find(Some(name), Some(cas));
            assert!(row.is_some(), "{name} {cas}");
            let by_cas = t.find(None, Some(cas)).unwrap();
            assert!(by_cas.cas.iter().any(|c| c == cas));
        }
        assert_eq!(
            t.find(Some("液化天然气"), Some("8006-14-2")).unwrap().key,
            "lng"
        );
        assert_eq!(
            t.find(Some("天然气"), Some("8006-14-2")).unwrap().key,
            "natural_gas"
        );
        assert_eq!(t.fallback("J3").unwrap().key, "chlorine");
    }

    #[test]
    fn bad_rules_are_refused() {
        let bad = MODEL_TOML.replace(
            "toxic_cutoff_probability = 0.01",
            "toxic_cutoff_probability = 1.5",
        );
        assert!(
            QraRules::from_toml_strs(
                LEAK_TOML,
                IGNITION_TOML,
                WEATHER_TOML,
                SUBSTANCES_TOML,
                &bad
            )
            .is_err()
        );
        let bad = SUBSTANCES_TOML.replace(
            "toxic_probit = \"toluene\"",
            "toxic_probit = \"unobtainium\"",
        );
        assert!(
            QraRules::from_toml_strs(LEAK_TOML, IGNITION_TOML, WEATHER_TOML, &bad, MODEL_TOML)
                .is_err()
        );
        let bad = WEATHER_TOML.replace("probability = 0.56", "probability = 0.66");
        assert!(
            QraRules::from_toml_strs(LEAK_TOML, IGNITION_TOML, &bad, SUBSTANCES_TOML, MODEL_TOML)
                .is_err()
        );
    }
}

//! Loss-of-containment scenarios (泄漏场景, GB/T 37243-2019 §6.4) and their
//! event trees (事件树, Annex F), Purple Book style.
//!
//! For every unit and every flammable or toxic substance in it,
//! [`scenarios_for_units`] makes the three Purple Book LOC events of one
//! vessel holding the substance's whole quantity:
//!
//! | event | release |
//! |---|---|
//! | [`ScenarioKind::Instantaneous`] | the whole inventory at once |
//! | [`ScenarioKind::Continuous10Min`] | the whole inventory in 10 min |
//! | [`ScenarioKind::Hole10mm`] | through a 10 mm hole (orifice flow) until empty, at most 30 min |
//!
//! with the frequencies of the vessel type (storage unit → atmospheric tank
//! for liquids and refrigerated liquids, pressure vessel for pressurised
//! liquefied and compressed gases; production unit → process vessel).
//!
//! Outcomes (PB event tree, conditional probabilities summing to ≤ 1):
//! - flammable: direct ignition (PB Table 4.5) → pool fire (liquids,
//!   refrigerated liquids), jet fire (continuous gas or pressurised
//!   liquefied releases) or fireball (instantaneous gas or pressurised
//!   liquefied releases); otherwise delayed ignition → 0.6 flash fire /
//!   0.4 explosion (TNT equivalence);
//! - toxic: the cloud that is not ignited → Gaussian plume (continuous) or
//!   puff (instantaneous) dose with the substance's probit;
//! - liquids and refrigerated liquids form a pool; its vapour (Mackay &
//!   Matsugu evaporation) feeds the delayed-ignition and toxic clouds.
//!
//! **Dense-gas behaviour is not modelled** (every cloud is a passive
//! Gaussian plume or puff); nor are rain-out, BLEVE blast and fragments,
//! domino effects, or mitigation (detection, isolation, bund fires).

use serde::Serialize;

use riskmap_core::model::{Unit, UnitKind};

use crate::consequence::toxic_probits::ToxicProbit;
use crate::consequence::units::STANDARD_ATMOSPHERE_PA;
use crate::error::{SafetyError, finite, fraction, non_negative, positive, unit_interval};
use crate::qra::rules::{Equipment, PhysicalState, QraRules, Reactivity, SubstanceProps};

/// How far a scenario's outcome probabilities may sum above 1 (rounding of
/// the event tree).
const OUTCOME_SUM_TOLERANCE: f64 = 1e-9;

/// Universal gas constant, J/(mol·K).
pub(crate) const R_GAS: f64 = 8.314_462;

/// A unit placed in the site-local metric frame (m east, m north of the
/// site's reference point).
#[derive(Debug, Clone, Copy)]
pub struct UnitRelease<'a> {
    /// The unit (生产单元/储存单元) with its substances.
    pub unit: &'a Unit,
    /// Release point, m east.
    pub x_m: f64,
    /// Release point, m north.
    pub y_m: f64,
}

/// The Purple Book loss-of-containment event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ScenarioKind {
    /// Instantaneous release of the complete inventory.
    #[serde(rename = "instantaneous")]
    Instantaneous,
    /// Continuous release of the complete inventory in 10 min.
    #[serde(rename = "continuous_10min")]
    Continuous10Min,
    /// Continuous release from a 10 mm hole.
    #[serde(rename = "hole_10mm")]
    Hole10mm,
}

/// The kind of an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// 池火.
    PoolFire,
    /// 喷射火.
    JetFire,
    /// 火球.
    Fireball,
    /// 闪火.
    FlashFire,
    /// 蒸气云爆炸.
    Explosion,
    /// 中毒.
    Toxic,
}

/// Where the vapour of a cloud comes from. Pools depend on the wind
/// (evaporation), so the cloud is resolved per weather class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Cloud {
    /// A continuous release of constant rate.
    Continuous {
        /// Rate, kg/s.
        rate_kg_s: f64,
        /// Duration, s.
        duration_s: f64,
    },
    /// An instantaneous release (a puff).
    Instantaneous {
        /// Airborne mass, kg.
        mass_kg: f64,
    },
    /// An evaporating pool: rate = min(k·A·c_sat, `max_rate_kg_s`), k the
    /// Mackay–Matsugu coefficient at the class's wind speed.
    Pool {
        /// Pool area, m².
        area_m2: f64,
        /// Saturated vapour concentration at the pool surface, kg/m³.
        saturation_kg_m3: f64,
        /// Mass that evaporates in total, kg.
        mass_kg: f64,
        /// Evaporation cannot exceed the release rate of a continuous spill.
        max_rate_kg_s: f64,
        /// Schmidt number.
        schmidt_number: f64,
    },
}

/// The physics of an outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum OutcomeModel {
    /// Pool fire: solid upright cylinder, Mudan SEP, Thomas flame length
    /// (consequence::pool_fire); P = 1 inside the pool.
    PoolFire {
        /// Pool diameter, m.
        diameter_m: f64,
        /// Burning rate, kg/m²s.
        burning_rate_kg_m2_s: f64,
        /// Lower heat of combustion, J/kg.
        heat_of_combustion_j_per_kg: f64,
    },
    /// Jet fire, API 521 point source at the release point.
    JetFire {
        /// Burning rate, kg/s.
        mass_rate_kg_s: f64,
        /// Lower heat of combustion, J/kg.
        heat_of_combustion_j_per_kg: f64,
        /// Radiated fraction.
        radiative_fraction: f64,
        /// Duration of the fire, s (exposure is the smaller of this and the cap).
        duration_s: f64,
    },
    /// CCPS fireball.
    Fireball {
        /// Mass in the fireball, kg.
        mass_kg: f64,
        /// Vessel pressure, Pa.
        vessel_pressure_pa: f64,
        /// Lower heat of combustion, J/kg.
        heat_of_combustion_j_per_kg: f64,
    },
    /// Flash fire: P = 1 inside the LFL envelope.
    FlashFire {
        /// Vapour source.
        cloud: Cloud,
        /// LFL, kg/m³.
        lfl_kg_m3: f64,
    },
    /// Vapour-cloud explosion by TNT equivalence, centred on the release point.
    Explosion {
        /// Vapour source.
        cloud: Cloud,
        /// LFL, kg/m³ (flammable mass of a continuous cloud).
        lfl_kg_m3: f64,
        /// Lower heat of combustion, J/kg.
        heat_of_combustion_j_per_kg: f64,
    },
    /// Toxic dose with a probit.
    Toxic {
        /// Vapour source.
        cloud: Cloud,
        /// The probit.
        probit: Box<ToxicProbit>,
    },
}

/// One outcome of a scenario with its conditional probability P_i.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Kind.
    pub kind: OutcomeKind,
    /// Probability given the LOC event.
    pub probability: f64,
    /// Physics.
    pub model: OutcomeModel,
}

/// The model constants a scenario carries into the risk calculation (from
/// `qra-model.toml`), so that risk fields need no rules argument.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScenarioParams {
    /// Lethality rules.
    pub lethality: crate::qra::rules::LethalityRules,
    /// Explosion rules.
    pub explosion: crate::qra::rules::ExplosionRules,
    /// Release height, m.
    pub release_height_m: f64,
    /// Receptor height, m.
    pub receptor_height_m: f64,
    /// Fraction of an instantaneous cloud that explodes.
    pub instantaneous_flammable_fraction: f64,
    /// Societal-risk factors.
    pub societal: SocietalFactors,
}

/// PB Table 5.3 factors used for the F–N curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SocietalFactors {
    /// Indoor fraction by day.
    pub indoor_fraction_day: f64,
    /// Indoor fraction by night.
    pub indoor_fraction_night: f64,
    /// Toxic indoor factor.
    pub toxic_indoor_factor: f64,
    /// Outdoor fire factor below the lethal flux.
    pub fire_outdoor_factor: f64,
}

impl ScenarioParams {
    /// The constants of `rules`.
    pub fn from_rules(rules: &QraRules) -> ScenarioParams {
        let m = &rules.model;
        ScenarioParams {
            lethality: m.lethality,
            explosion: m.explosion,
            release_height_m: m.source_term.release_height_m,
            receptor_height_m: m.source_term.receptor_height_m,
            instantaneous_flammable_fraction: m.source_term.instantaneous_flammable_fraction,
            societal: SocietalFactors {
                indoor_fraction_day: m.societal.indoor_fraction_day,
                indoor_fraction_night: m.societal.indoor_fraction_night,
                toxic_indoor_factor: m.societal.toxic_indoor_factor,
                fire_outdoor_factor: m.societal.fire_outdoor_factor,
            },
        }
    }
}

/// A loss-of-containment scenario at a release point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// Stable id: `{unit}/{index}-{substance key}/{kind}`.
    pub id: String,
    /// Unit id.
    pub unit_id: String,
    /// Substance as named in the unit (or its CAS).
    pub substance: String,
    /// Key of the substance row used (a surrogate's key when one stood in).
    pub substance_key: String,
    /// LOC event.
    pub kind: ScenarioKind,
    /// Equipment type that set the frequency.
    pub equipment: Equipment,
    /// Release point, m east.
    pub x_m: f64,
    /// Release point, m north.
    pub y_m: f64,
    /// LOC frequency f_S, per year.
    pub frequency_per_year: f64,
    /// Released mass, kg.
    pub mass_kg: f64,
    /// Release rate of a continuous event, kg/s (0 for instantaneous).
    pub release_rate_kg_s: f64,
    /// Release duration, s (0 for instantaneous).
    pub duration_s: f64,
    /// Outcomes with their conditional probabilities.
    pub outcomes: Vec<Outcome>,
    /// Model constants.
    pub params: ScenarioParams,
}

impl Cloud {
    /// Check the vapour source: rates, durations and masses finite and ≥ 0
    /// (0 is a cloud with nothing in it); a pool's area and Schmidt number
    /// finite and > 0, its rate cap ≥ 0 (+∞: no cap).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<(), SafetyError> {
        match *self {
            Cloud::Continuous {
                rate_kg_s,
                duration_s,
            } => {
                non_negative("cloud.rate_kg_s", rate_kg_s)?;
                non_negative("cloud.duration_s", duration_s)?;
            }
            Cloud::Instantaneous { mass_kg } => {
                non_negative("cloud.mass_kg", mass_kg)?;
            }
            Cloud::Pool {
                area_m2,
                saturation_kg_m3,
                mass_kg,
                max_rate_kg_s,
                schmidt_number,
            } => {
                positive("cloud.area_m2", area_m2)?;
                non_negative("cloud.saturation_kg_m3", saturation_kg_m3)?;
                non_negative("cloud.mass_kg", mass_kg)?;
                if max_rate_kg_s.is_nan() || max_rate_kg_s < 0.0 {
                    return Err(SafetyError::InvalidInput {
                        field: "cloud.max_rate_kg_s",
                        value: max_rate_kg_s,
                        expected: "a rate ≥ 0 (+∞ for no cap)",
                    });
                }
                positive("cloud.schmidt_number", schmidt_number)?;
            }
        }
        Ok(())
    }
}

impl OutcomeModel {
    /// Check the physics inputs of an outcome.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] naming the field: sizes, rates, heats
    /// of combustion, pressures and LFLs must be finite numbers > 0, a
    /// radiated fraction in (0, 1], the cloud as [`Cloud::validate`], the
    /// probit as [`ToxicProbit::validate`].
    pub fn validate(&self) -> Result<(), SafetyError> {
        match self {
            OutcomeModel::PoolFire {
                diameter_m,
                burning_rate_kg_m2_s,
                heat_of_combustion_j_per_kg,
            } => {
                positive("diameter_m", *diameter_m)?;
                positive("burning_rate_kg_m2_s", *burning_rate_kg_m2_s)?;
                positive("heat_of_combustion_j_per_kg", *heat_of_combustion_j_per_kg)?;
            }
            OutcomeModel::JetFire {
                mass_rate_kg_s,
                heat_of_combustion_j_per_kg,
                radiative_fraction,
                duration_s,
            } => {
                positive("mass_rate_kg_s", *mass_rate_kg_s)?;
                positive("heat_of_combustion_j_per_kg", *heat_of_combustion_j_per_kg)?;
                fraction("radiative_fraction", *radiative_fraction)?;
                positive("duration_s", *duration_s)?;
            }
            OutcomeModel::Fireball {
                mass_kg,
                vessel_pressure_pa,
                heat_of_combustion_j_per_kg,
            } => {
                positive("mass_kg", *mass_kg)?;
                positive("vessel_pressure_pa", *vessel_pressure_pa)?;
                positive("heat_of_combustion_j_per_kg", *heat_of_combustion_j_per_kg)?;
            }
            OutcomeModel::FlashFire { cloud, lfl_kg_m3 } => {
                cloud.validate()?;
                positive("lfl_kg_m3", *lfl_kg_m3)?;
            }
            OutcomeModel::Explosion {
                cloud,
                lfl_kg_m3,
                heat_of_combustion_j_per_kg,
            } => {
                cloud.validate()?;
                positive("lfl_kg_m3", *lfl_kg_m3)?;
                positive("heat_of_combustion_j_per_kg", *heat_of_combustion_j_per_kg)?;
            }
            OutcomeModel::Toxic { cloud, probit } => {
                cloud.validate()?;
                probit.validate()?;
            }
        }
        Ok(())
    }
}

impl ScenarioParams {
    /// Check the model constants a scenario carries (they come from
    /// `qra-model.toml`, checked on parsing, but a scenario can be built by
    /// hand).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<(), SafetyError> {
        let le = &self.lethality;
        positive("lethality.fire_lethal_flux_w_m2", le.fire_lethal_flux_w_m2)?;
        positive("lethality.fire_max_exposure_s", le.fire_max_exposure_s)?;
        positive(
            "lethality.explosion_lethal_overpressure_pa",
            le.explosion_lethal_overpressure_pa,
        )?;
        positive(
            "lethality.explosion_indoor_overpressure_pa",
            le.explosion_indoor_overpressure_pa,
        )?;
        unit_interval(
            "lethality.explosion_indoor_lethality",
            le.explosion_indoor_lethality,
        )?;
        positive("lethality.toxic_max_exposure_s", le.toxic_max_exposure_s)?;
        crate::error::open_probability(
            "lethality.toxic_cutoff_probability",
            le.toxic_cutoff_probability,
        )?;
        let ex = &self.explosion;
        fraction("explosion.yield_factor", ex.yield_factor)?;
        positive(
            "explosion.tnt_blast_energy_j_per_kg",
            ex.tnt_blast_energy_j_per_kg,
        )?;
        positive("explosion.ground_burst_factor", ex.ground_burst_factor)?;
        non_negative("release_height_m", self.release_height_m)?;
        non_negative("receptor_height_m", self.receptor_height_m)?;
        unit_interval(
            "instantaneous_flammable_fraction",
            self.instantaneous_flammable_fraction,
        )?;
        let so = &self.societal;
        unit_interval("societal.indoor_fraction_day", so.indoor_fraction_day)?;
        unit_interval("societal.indoor_fraction_night", so.indoor_fraction_night)?;
        unit_interval("societal.toxic_indoor_factor", so.toxic_indoor_factor)?;
        unit_interval("societal.fire_outdoor_factor", so.fire_outdoor_factor)?;
        Ok(())
    }
}

impl Scenario {
    /// Check a scenario before any risk is computed from it.
    ///
    /// # Errors
    /// [`SafetyError::InvalidItem`] naming the scenario (and outcome) and
    /// the field for: a frequency that is not a finite number ≥ 0 per year
    /// (a NaN frequency is an error, never a scenario left out); a release
    /// point that is not finite; a mass, rate or duration that is not a
    /// finite number ≥ 0; an outcome probability outside [0, 1] or
    /// probabilities summing above 1; anything [`OutcomeModel::validate`]
    /// or [`ScenarioParams::validate`] refuses.
    pub fn validate(&self) -> Result<(), SafetyError> {
        let item = || format!("scenario `{}`", self.id);
        let at = |e: SafetyError| e.in_item(item());
        non_negative("frequency_per_year", self.frequency_per_year).map_err(at)?;
        finite("x_m", self.x_m).map_err(at)?;
        finite("y_m", self.y_m).map_err(at)?;
        non_negative("mass_kg", self.mass_kg).map_err(at)?;
        non_negative("release_rate_kg_s", self.release_rate_kg_s).map_err(at)?;
        non_negative("duration_s", self.duration_s).map_err(at)?;
        self.params.validate().map_err(at)?;
        let mut sum = 0.0;
        for (i, o) in self.outcomes.iter().enumerate() {
            let at_outcome = |e: SafetyError| {
                e.in_item(format!("scenario `{}` outcome {i} ({:?})", self.id, o.kind))
            };
            unit_interval("probability", o.probability).map_err(at_outcome)?;
            o.model.validate().map_err(at_outcome)?;
            sum += o.probability;
        }
        if sum > 1.0 + OUTCOME_SUM_TOLERANCE {
            return Err(SafetyError::InvalidItem {
                item: item(),
                field: "outcomes.probability (sum)",
                value: sum,
                expected: "conditional outcome probabilities summing to at most 1",
            });
        }
        Ok(())
    }
}

/// Scenarios of a set of units and what the generation could not do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioSet {
    /// The scenarios.
    pub scenarios: Vec<Scenario>,
    /// Surrogates used, substances skipped and why, unconfirmed figures,
    /// model limitations.
    pub notes: Vec<String>,
}

/// Note carried by every scenario set.
pub const DENSE_GAS_NOTE: &str = "DENSE-GAS BEHAVIOUR IS NOT MODELLED: every cloud is a passive \
Gaussian plume (continuous) or puff (instantaneous) with Briggs sigmas; heavier-than-air releases \
(chlorine, LPG, propylene, phosgene, H2S, flashing ammonia, HF, ...) can reach much farther or \
nearer than computed.";

/// Limitations of the source terms and outcomes, carried by every scenario set.
pub const MODEL_NOTE: &str = "Not modelled: rain-out of pressurised liquefied releases (all \
airborne), BLEVE blast and fragments, domino effects, detection/isolation, the number of vessels \
in a unit (one vessel per unit and substance holding its whole quantity), explosion centres \
downwind of the release point (explosions are centred on the release point), the position of \
ignition sources (delayed ignition probability from qra-ignition.toml). Puffs use plume sigmas with \
σx = σy.";

fn label(s: &riskmap_core::model::Substance) -> String {
    s.name
        .clone()
        .or_else(|| s.cas.clone())
        .unwrap_or_else(|| "(unnamed)".into())
}

/// Finds the property row of a substance, or a category surrogate (with a
/// note), or explains why there is none.
fn resolve<'r>(
    rules: &'r QraRules,
    sub: &riskmap_core::model::Substance,
) -> Result<(&'r SubstanceProps, Option<String>), String> {
    let t = &rules.substances;
    if let Some(row) = t.find(sub.name.as_deref(), sub.cas.as_deref()) {
        return Ok((row, None));
    }
    // GB 18218 Table 1 default category, then the categories given.
    let gb = riskmap_core::standards::gb18218::Gb18218::builtin();
    let mut cats: Vec<String> = sub.hazard_categories.clone();
    if let Some(e) = gb.find_substance(sub.name.as_deref(), sub.cas.as_deref())
        && let Some(c) = &e.default_category
    {
        cats.push(c.clone());
    }
    for c in &cats {
        if let Some(row) = t.fallback(c) {
            return Ok((
                row,
                Some(format!(
                    "{}: no row in qra-substances.toml; surrogate {} ({}) from hazard category {c} (UNCONFIRMED)",
                    label(sub),
                    row.key,
                    row.name_zh
                )),
            ));
        }
    }
    Err(format!(
        "{}: no row in qra-substances.toml and no category fallback (categories {:?}); not modelled",
        label(sub),
        cats
    ))
}

/// Orifice mass rate (kg/s) through a hole of area `a` (m²).
fn hole_rate(props: &SubstanceProps, a: f64, rules: &QraRules) -> f64 {
    let st = &rules.model.source_term;
    let cd = st.discharge_coefficient;
    let pa = st.ambient_pressure_pa;
    let g = crate::consequence::units::GRAVITY_M_PER_S2;
    match props.state {
        PhysicalState::Liquid | PhysicalState::LiquefiedPressurised => {
            let rho = props.liquid_density_kg_m3.unwrap_or(1000.0);
            let pv = props.vapour_pressure_kpa.unwrap_or(0.0) * 1e3;
            let dp = (pv - pa).max(0.0) + rho * g * st.liquid_head_m;
            cd * a * (2.0 * rho * dp).sqrt()
        }
        PhysicalState::LiquefiedRefrigerated => {
            let rho = props.liquid_density_kg_m3.unwrap_or(1000.0);
            cd * a * rho * (2.0 * g * st.liquid_head_m).sqrt()
        }
        PhysicalState::CompressedGas => {
            let p = props.storage_pressure_kpa.unwrap_or(0.0) * 1e3;
            let gam = props.gamma.unwrap_or(1.4);
            let m = props.molar_mass_g_per_mol * 1e-3;
            let t = st.ambient_temperature_k;
            if p <= pa {
                return 0.0;
            }
            let critical = ((gam + 1.0) / 2.0).powf(gam / (gam - 1.0));
            if p / pa >= critical {
                // Choked flow.
                cd * a
                    * p
                    * (gam * m / (R_GAS * t) * (2.0 / (gam + 1.0)).powf((gam + 1.0) / (gam - 1.0)))
                        .sqrt()
            } else {
                let r = pa / p;
                cd * a
                    * p
                    * (2.0 * m / (R_GAS * t) * gam / (gam - 1.0)
                        * (r.powf(2.0 / gam) - r.powf((gam + 1.0) / gam)))
                    .max(0.0)
                    .sqrt()
            }
        }
        PhysicalState::Solid => 0.0,
    }
}

/// Saturated vapour concentration (kg/m³) above a pool of the substance.
fn saturation(props: &SubstanceProps, rules: &QraRules) -> f64 {
    let m = props.molar_mass_g_per_mol * 1e-3;
    match props.state {
        PhysicalState::LiquefiedRefrigerated => {
            let tb = props
                .boiling_point_k
                .unwrap_or(rules.model.source_term.ambient_temperature_k);
            STANDARD_ATMOSPHERE_PA * m / (R_GAS * tb)
        }
        _ => {
            let pv = (props.vapour_pressure_kpa.unwrap_or(0.0) * 1e3).min(STANDARD_ATMOSPHERE_PA);
            pv * m / (R_GAS * rules.model.source_term.ambient_temperature_k)
        }
    }
}

/// LFL in kg/m³ at ambient temperature.
fn lfl_kg_m3(props: &SubstanceProps, rules: &QraRules) -> f64 {
    let x = props.lfl_vol_pct.unwrap_or(100.0) / 100.0;
    x * STANDARD_ATMOSPHERE_PA * props.molar_mass_g_per_mol * 1e-3
        / (R_GAS * rules.model.source_term.ambient_temperature_k)
}

struct Release {
    kind: ScenarioKind,
    frequency: f64,
    mass_kg: f64,
    rate_kg_s: f64,
    duration_s: f64,
}

/// Makes the scenarios of every flammable or toxic substance of every unit.
///
/// Quantities are `Substance::quantity_t` (tonnes). A substance without a
/// row in `qra-substances.toml` uses the surrogate of its GB 18218 hazard
/// category; one that is neither flammable nor toxic (oxidisers, solids,
/// explosives: see `siting`), or has a zero quantity (nothing stored, so
/// nothing released), is skipped. Every surrogate and skip is in
/// [`ScenarioSet::notes`], followed by the UNCONFIRMED figures of `rules`
/// and the model's limitations.
///
/// # Errors
/// [`SafetyError::InvalidItem`] naming the unit (and substance) for a
/// release point that is not finite or a quantity that is not a finite
/// number ≥ 0 t: such a substance is refused, never skipped as if empty.
pub fn scenarios_for_units(
    units: &[UnitRelease<'_>],
    rules: &QraRules,
) -> Result<ScenarioSet, SafetyError> {
    let mut scenarios = Vec::new();
    let mut notes = Vec::new();
    let params = ScenarioParams::from_rules(rules);
    for ur in units {
        let at_unit = |e: SafetyError| e.in_item(format!("unit `{}`", ur.unit.id));
        finite("x_m", ur.x_m).map_err(at_unit)?;
        finite("y_m", ur.y_m).map_err(at_unit)?;
        for (idx, sub) in ur.unit.substances.iter().enumerate() {
            let name = label(sub);
            non_negative("quantity_t", sub.quantity_t).map_err(|e| {
                e.in_item(format!("unit `{}` substance {idx} ({name})", ur.unit.id))
            })?;
            let (props, surrogate) = match resolve(rules, sub) {
                Ok(v) => v,
                Err(why) => {
                    notes.push(format!("unit {}: {why}", ur.unit.id));
                    continue;
                }
            };
            if let Some(s) = surrogate {
                notes.push(format!("unit {}: {s}", ur.unit.id));
            }
            if let Some(why) = &props.not_modelled {
                notes.push(format!("unit {}: {name}: {why}", ur.unit.id));
                continue;
            }
            if props.explosive {
                notes.push(format!(
                    "unit {}: {name}: explosive (爆炸物): GB/T 37243 consequence method (siting::explosive_consequence_zone), not QRA",
                    ur.unit.id
                ));
                continue;
            }
            if !(props.is_flammable() || props.is_toxic()) || props.state == PhysicalState::Solid {
                notes.push(format!(
                    "unit {}: {name}: neither flammable nor toxic in qra-substances.toml; not modelled",
                    ur.unit.id
                ));
                continue;
            }
            if let Some(s) = &props.toxic_surrogate {
                notes.push(format!(
                    "unit {}: {name}: toxic probit surrogate: {s} (UNCONFIRMED)",
                    ur.unit.id
                ));
            }
            let mass_kg = sub.quantity_t * 1e3;
            if mass_kg <= 0.0 {
                notes.push(format!(
                    "unit {}: {name}: quantity {} t; no release",
                    ur.unit.id, sub.quantity_t
                ));
                continue;
            }
            let equipment = match (ur.unit.kind, props.state) {
                (UnitKind::Production, _) => Equipment::ProcessVessel,
                (
                    UnitKind::Storage,
                    PhysicalState::Liquid | PhysicalState::LiquefiedRefrigerated,
                ) => Equipment::AtmosphericTank,
                (UnitKind::Storage, _) => Equipment::PressureVessel,
            };
            let Some(freq) = rules.leak.of(equipment) else {
                notes.push(format!(
                    "unit {}: {name}: no frequency row for {equipment:?}",
                    ur.unit.id
                ));
                continue;
            };
            let leak = &rules.leak;
            let hole_area = std::f64::consts::PI * leak.hole_diameter_m.powi(2) / 4.0;
            let hole = hole_rate(props, hole_area, rules);
            let mut releases = vec![
                Release {
                    kind: ScenarioKind::Instantaneous,
                    frequency: freq.instantaneous,
                    mass_kg,
                    rate_kg_s: 0.0,
                    duration_s: 0.0,
                },
                Release {
                    kind: ScenarioKind::Continuous10Min,
                    frequency: freq.continuous_10min,
                    mass_kg,
                    rate_kg_s: mass_kg / leak.continuous_duration_s,
                    duration_s: leak.continuous_duration_s,
                },
            ];
            if hole > 0.0 {
                let duration = (mass_kg / hole).min(leak.max_release_duration_s);
                releases.push(Release {
                    kind: ScenarioKind::Hole10mm,
                    frequency: freq.hole_10mm,
                    mass_kg: hole * duration,
                    rate_kg_s: hole,
                    duration_s: duration,
                });
            }
            for rel in releases {
                let outcomes = outcomes_for(props, ur.unit.kind, &rel, mass_kg, rules)?;
                scenarios.push(Scenario {
                    id: format!(
                        "{}/{}-{}/{}",
                        ur.unit.id,
                        idx,
                        props.key,
                        match rel.kind {
                            ScenarioKind::Instantaneous => "instantaneous",
                            ScenarioKind::Continuous10Min => "continuous_10min",
                            ScenarioKind::Hole10mm => "hole_10mm",
                        }
                    ),
                    unit_id: ur.unit.id.clone(),
                    substance: name.clone(),
                    substance_key: props.key.clone(),
                    kind: rel.kind,
                    equipment,
                    x_m: ur.x_m,
                    y_m: ur.y_m,
                    frequency_per_year: rel.frequency,
                    mass_kg: rel.mass_kg,
                    release_rate_kg_s: rel.rate_kg_s,
                    duration_s: rel.duration_s,
                    outcomes,
                    params,
                });
            }
        }
    }
    notes.push(DENSE_GAS_NOTE.to_string());
    notes.push(MODEL_NOTE.to_string());
    notes.extend(
        rules
            .unconfirmed()
            .into_iter()
            .map(|u| format!("UNCONFIRMED: {u}")),
    );
    Ok(ScenarioSet { scenarios, notes })
}

/// The event tree of one release.
fn outcomes_for(
    props: &SubstanceProps,
    unit_kind: UnitKind,
    rel: &Release,
    inventory_kg: f64,
    rules: &QraRules,
) -> Result<Vec<Outcome>, SafetyError> {
    let st = &rules.model.source_term;
    let ig = &rules.ignition;
    let flammable = props.is_flammable();
    let probit = rules.probit_of(props);
    let toxic = probit.is_some();
    let instantaneous = rel.kind == ScenarioKind::Instantaneous;
    let pool_state = matches!(
        props.state,
        PhysicalState::Liquid | PhysicalState::LiquefiedRefrigerated
    );
    let dhc = props.heat_of_combustion_mj_per_kg.unwrap_or(0.0) * 1e6;
    // The vapour source.
    let (cloud, pool_area) = if pool_state {
        let rho = props.liquid_density_kg_m3.unwrap_or(1000.0);
        let max_area = match unit_kind {
            UnitKind::Storage => inventory_kg / rho / st.bund_height_m,
            UnitKind::Production => st.max_unbunded_pool_area_m2,
        };
        let spread = rel.mass_kg / rho / st.min_pool_thickness_m;
        let area = spread.min(max_area).max(1e-3);
        (
            Cloud::Pool {
                area_m2: area,
                saturation_kg_m3: saturation(props, rules),
                mass_kg: rel.mass_kg,
                max_rate_kg_s: if instantaneous {
                    f64::INFINITY
                } else {
                    rel.rate_kg_s
                },
                schmidt_number: st.schmidt_number,
            },
            area,
        )
    } else {
        let airborne = if props.state == PhysicalState::LiquefiedPressurised {
            st.airborne_fraction_pressurised
        } else {
            1.0
        };
        if instantaneous {
            (
                Cloud::Instantaneous {
                    mass_kg: rel.mass_kg * airborne,
                },
                0.0,
            )
        } else {
            (
                Cloud::Continuous {
                    rate_kg_s: rel.rate_kg_s * airborne,
                    duration_s: rel.duration_s,
                },
                0.0,
            )
        }
    };
    let mut out = Vec::new();
    let mut p_rest = 1.0;
    if flammable {
        let reactivity = props.reactivity.unwrap_or(Reactivity::Average);
        let p_direct = ig.direct(
            pool_state,
            reactivity,
            instantaneous,
            rel.mass_kg,
            rel.rate_kg_s,
        )?;
        let direct = if pool_state {
            // Pool fire: instantaneous pools burn at full size; continuous
            // spills at the equilibrium area where burning = release rate.
            let m2 = props.burning_rate_kg_m2_s.unwrap_or(0.05);
            let area = if instantaneous {
                pool_area
            } else {
                (rel.rate_kg_s / m2).min(pool_area)
            };
            OutcomeModel::PoolFire {
                diameter_m: (4.0 * area / std::f64::consts::PI).sqrt(),
                burning_rate_kg_m2_s: m2,
                heat_of_combustion_j_per_kg: dhc,
            }
        } else if instantaneous {
            let p = match props.state {
                PhysicalState::CompressedGas => props.storage_pressure_kpa.unwrap_or(101.325) * 1e3,
                _ => props.vapour_pressure_kpa.unwrap_or(101.325) * 1e3,
            };
            OutcomeModel::Fireball {
                mass_kg: rel.mass_kg,
                vessel_pressure_pa: p,
                heat_of_combustion_j_per_kg: dhc,
            }
        } else {
            OutcomeModel::JetFire {
                mass_rate_kg_s: rel.rate_kg_s,
                heat_of_combustion_j_per_kg: dhc,
                radiative_fraction: props
                    .jet_radiative_fraction
                    .unwrap_or(st.jet_radiative_fraction),
                duration_s: rel.duration_s,
            }
        };
        let kind = match direct {
            OutcomeModel::PoolFire { .. } => OutcomeKind::PoolFire,
            OutcomeModel::Fireball { .. } => OutcomeKind::Fireball,
            _ => OutcomeKind::JetFire,
        };
        if p_direct > 0.0 {
            out.push(Outcome {
                kind,
                probability: p_direct,
                model: direct,
            });
        }
        let p_delayed_given = if toxic {
            ig.delayed.probability_flammable_toxic
        } else {
            ig.delayed.probability_flammable
        };
        let p_delayed = (1.0 - p_direct) * p_delayed_given;
        let lfl = lfl_kg_m3(props, rules);
        if p_delayed > 0.0 {
            out.push(Outcome {
                kind: OutcomeKind::FlashFire,
                probability: p_delayed * ig.delayed.flash_fire_fraction,
                model: OutcomeModel::FlashFire {
                    cloud,
                    lfl_kg_m3: lfl,
                },
            });
            out.push(Outcome {
                kind: OutcomeKind::Explosion,
                probability: p_delayed * ig.delayed.explosion_fraction,
                model: OutcomeModel::Explosion {
                    cloud,
                    lfl_kg_m3: lfl,
                    heat_of_combustion_j_per_kg: dhc,
                },
            });
        }
        p_rest = (1.0 - p_direct) * (1.0 - p_delayed_given);
    }
    if let Some(pr) = probit
        && p_rest > 0.0
    {
        out.push(Outcome {
            kind: OutcomeKind::Toxic,
            probability: p_rest,
            model: OutcomeModel::Toxic {
                cloud,
                probit: Box::new(pr.clone()),
            },
        });
    }
    Ok(out)
}

/// Synthetic but honest benchmark input: `n` scenarios from units placed
/// on a ring of 200–1500 m around the origin, each holding one real
/// substance of the demo inventory (chlorine, ammonia, LPG, propylene,
/// methanol, toluene, benzene, hydrogen, natural gas, H2S) in a quantity of
/// 1–200 t, through [`scenarios_for_units`] with the embedded rules. The
/// placement is a fixed low-discrepancy sequence, so the set is
/// reproducible. Returns at least `n` scenarios cut to exactly `n`.
pub fn synthetic_scenarios(n: usize) -> Vec<Scenario> {
    use riskmap_core::model::Substance;
    const SUBS: [(&str, &str, f64); 10] = [
        ("液氯", "7782-50-5", 50.0),
        ("液氨", "7664-41-7", 80.0),
        ("液化石油气", "68476-85-7", 100.0),
        ("丙烯", "115-07-1", 60.0),
        ("甲醇", "67-56-1", 200.0),
        ("甲苯", "108-88-3", 150.0),
        ("苯", "71-43-2", 100.0),
        ("氢气", "1333-74-0", 1.0),
        ("天然气", "8006-14-2", 20.0),
        ("硫化氢", "7783-06-4", 5.0),
    ];
    let rules = QraRules::embedded();
    let mut out = Vec::new();
    let mut k = 0usize;
    while out.len() < n {
        let (name, cas, q) = SUBS[k % SUBS.len()];
        let unit = Unit {
            id: format!("SYN-{k}"),
            name: None,
            kind: if k.is_multiple_of(3) {
                UnitKind::Production
            } else {
                UnitKind::Storage
            },
            geometry: None,
            substances: vec![Substance {
                name: Some(name.to_string()),
                cas: Some(cas.to_string()),
                quantity_t: q * (0.2 + 0.8 * ((k as f64 * 0.618_034) % 1.0)),
                hazard_categories: vec![],
            }],
            processes: vec![],
        };
        // Golden-angle spiral between 200 m and 1500 m.
        let angle = k as f64 * 2.399_963;
        let radius = 200.0 + 1300.0 * ((k as f64 * 0.754_877) % 1.0);
        let ur = UnitRelease {
            unit: &unit,
            x_m: radius * angle.cos(),
            y_m: radius * angle.sin(),
        };
        // Fixed, finite inputs: the set is never refused; stop if it were.
        let Ok(set) = scenarios_for_units(&[ur], rules) else {
            break;
        };
        out.extend(set.scenarios);
        k += 1;
        if k > 10 * n + 100 {
            break;
        }
    }
    out.truncate(n);
    out
}

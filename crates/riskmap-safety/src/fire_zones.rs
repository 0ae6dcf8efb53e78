//! Thermal and overpressure threat zones of an incident (热辐射 / 冲击波
//! 警戒区), in the manner of ALOHA's fire and explosion scenarios: red,
//! orange and yellow circles centred on the release at the levels of
//! [`crate::loc`] (10/5/2 kW/m², about 55/24/7 kPa).
//!
//! The scenario follows the release and the substance's state
//! (`qra-substances.toml`, the same rows the QRA uses):
//!
//! | substance | release | thermal scenario |
//! |---|---|---|
//! | flammable liquid or refrigerated liquefied gas | any | pool fire (solid flame, Mudan SEP, Thomas flame length with wind, AGA tilt; downwind worst case) |
//! | pressurised liquefied or compressed gas | continuous | jet fire (API 521 point source at the release) |
//! | pressurised liquefied gas | instantaneous | fireball / BLEVE of the released mass (CCPS) |
//! | compressed gas | instantaneous | none: a cloud, which burns as a flash fire or explodes on delayed ignition |
//!
//! Overpressure: a vapour-cloud explosion by TNT equivalence
//! ([`crate::consequence::vce`]) with the yield factor, TNT energy,
//! ground-burst factor and blast curve of `qra-model.toml` `[explosion]`.
//! The flammable mass in the cloud follows the QRA's convention
//! (`[source_term]`): an instantaneous cloud holds
//! `instantaneous_flammable_fraction` × the airborne mass; a continuous one
//! rate × (distance to the LFL)/wind speed, capped at the mass released,
//! with the distance to the LFL from the incident's own dispersion model
//! ([`crate::incident::toxic_zones`] at the LFL, dense gas or Gaussian as
//! it chooses). The blast is centred on the release; a drifting cloud can
//! carry it downwind, up to the LFL distance (said in every answer).
//!
//! Every level the model cannot place is said so, never drawn as 0 m: a
//! level the model never reaches, one whose distance lies outside the
//! model's fitted range (blast curves), and one beyond the incident range
//! (drawn to the range, as the toxic zones are).

use std::f64::consts::PI;

use serde::Serialize;

use crate::consequence::fireball::{Fireball, FireballModel, FireballSep};
use crate::consequence::jet_fire::{JetFire, JetSource};
use crate::consequence::pool_fire::{
    BurningRate, FlameLength, FlameTilt, PoolFire, PoolFireRadiation, SurfaceEmissivePower,
};
use crate::consequence::transmissivity::Transmissivity;
use crate::consequence::units::STANDARD_ATMOSPHERE_PA;
use crate::consequence::vce::{TntEquivalence, VapourCloudExplosion};
use crate::effect::{EffectModel, Reach};
use crate::error::{SafetyError, positive};
use crate::incident::{IncidentRules, Release, ToxicRelease, toxic_zones_with};
use crate::loc::Loc;
use crate::qra::rules::{PhysicalState, QraRules, SubstanceProps};

/// Vertices of a zone circle. The polygon is drawn around the circle (its
/// edges touch it), so it holds every point within the radius.
pub const CIRCLE_VERTICES: usize = 128;

/// Molar mass of air, g/mol, for the air density of the pool-fire flame.
const AIR_MOLAR_MASS_G_MOL: f64 = 28.96;

/// Molar gas constant, J/(mol·K).
const R_GAS: f64 = 8.314_462_618;

/// A flammable release as the incident answer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlammableRelease<'a> {
    /// The substance's row (or its GB 18218 category surrogate).
    pub props: &'a SubstanceProps,
    /// The cloud, as the toxic model is given it (molar mass, release,
    /// release and air temperatures, wind, stability, ground): the same
    /// release, read as vapour.
    pub cloud: ToxicRelease,
    /// The bund's area, m², when the release is at a storage unit (its
    /// inventory of the substance at `qra-model.toml` `bund_height_m`);
    /// otherwise the pool spreads up to `max_unbunded_pool_area_m2`.
    pub bund_area_m2: Option<f64>,
}

/// The model and its inputs, to evaluate again at any distance.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum FireSource {
    /// Pool fire.
    PoolFire(PoolFire),
    /// Jet fire.
    JetFire(JetFire),
    /// Fireball.
    Fireball(Fireball),
    /// Vapour-cloud explosion.
    Explosion(VapourCloudExplosion),
}

impl FireSource {
    /// The effect at `distance_m` from the release: heat flux (W/m²) or
    /// side-on overpressure (Pa), as the model gives it.
    ///
    /// # Errors
    /// As the model's `effect_at`.
    pub fn effect_at(&self, distance_m: f64) -> Result<f64, SafetyError> {
        match self {
            FireSource::PoolFire(p) => p.flux_at(distance_m),
            FireSource::JetFire(j) => j.flux_at(distance_m),
            FireSource::Fireball(f) => f.flux_at(distance_m),
            FireSource::Explosion(v) => v.overpressure_at(distance_m),
        }
    }

    /// The model's level in its own unit for a level of concern (kW/m² →
    /// W/m², kPa → Pa).
    pub fn model_level(loc: &Loc) -> f64 {
        loc.value * 1e3
    }
}

/// One zone of a thermal or overpressure hazard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircleZone {
    /// The level of concern.
    pub loc: Loc,
    /// The zone's name in Chinese practice (隔离区/疏散区/警戒区).
    pub zone_name: String,
    /// How far the model reaches the level.
    pub reach: Reach,
    /// Whether that distance lies outside the model's fitted range.
    pub extrapolated: bool,
    /// The radius drawn, m: the model's distance, or the incident range
    /// when the level reaches beyond it; none when nothing is drawn.
    pub radius_m: Option<f64>,
    /// The model's distance to the level, m, when the zone is drawn at it;
    /// none otherwise.
    pub reach_m: Option<f64>,
    /// Whether the level is reached where the model is valid (a zone is
    /// drawn).
    pub reached: bool,
    /// Why a zone is not drawn, or drawn to the range; empty otherwise.
    pub note: String,
    /// The circle in local metres (x east, y north, source at the origin),
    /// closed; empty when not drawn.
    #[serde(skip)]
    pub ring: Vec<[f64; 2]>,
}

/// A thermal or overpressure hazard of an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FireHazard {
    /// `thermal` or `overpressure`.
    pub hazard: &'static str,
    /// `pool_fire`, `jet_fire`, `fireball` or `vapour_cloud_explosion`.
    pub scenario: &'static str,
    /// The model's id (e.g. `pool_fire.solid_flame`).
    pub model: &'static str,
    /// Why this scenario and model, and the figures it used.
    pub reasons: Vec<String>,
    /// Red, orange, yellow.
    pub zones: Vec<CircleZone>,
    /// The model's inputs.
    pub source: FireSource,
    /// What the model does not do.
    pub limitations: &'static str,
    /// Figures used that are not confirmed.
    pub unconfirmed: Vec<String>,
}

/// A hazard an incident does not have, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbsentHazard {
    /// `toxic`, `thermal` or `overpressure`.
    pub hazard: &'static str,
    /// Why.
    pub reason: String,
}

/// The thermal and overpressure answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FireAnswer {
    /// Thermal first, then overpressure; each present only when the
    /// release has it.
    pub hazards: Vec<FireHazard>,
    /// The hazards left out, and why.
    pub absent: Vec<AbsentHazard>,
    /// Notes for the reader (the blast centre may drift, …).
    pub notes: Vec<String>,
}

/// Why a substance has no fire or explosion hazard, when it has none.
pub fn not_flammable_reason(props: &SubstanceProps) -> Option<String> {
    if props.explosive {
        return Some(format!(
            "{} is an explosive (爆炸物): its blast follows the GB/T 37243 consequence method of the siting check, not a vapour-cloud model",
            props.name_zh
        ));
    }
    if let Some(why) = &props.not_modelled {
        return Some(format!("{}: {why}", props.name_zh));
    }
    if !props.is_flammable() {
        return Some(format!(
            "not flammable: {} ({}) has no heat of combustion or flammability limit in qra-substances.toml",
            props.name_zh, props.key
        ));
    }
    if props.state == PhysicalState::Solid {
        return Some(format!(
            "{} is a solid: fires of solids are not modelled",
            props.name_zh
        ));
    }
    None
}

/// A circle of radius `r` around the origin, drawn around it: the
/// vertices lie at r/cos(π/n), so the edges touch the circle.
pub fn circle_ring(r: f64) -> Vec<[f64; 2]> {
    let n = CIRCLE_VERTICES;
    let big = r / (PI / n as f64).cos();
    let mut ring: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let a = 2.0 * PI * i as f64 / n as f64;
            [big * a.sin(), big * a.cos()]
        })
        .collect();
    ring.push(ring[0]);
    ring
}

/// The zones of one evaluated model at `locs`.
fn zones_of(
    model: &dyn EffectModel,
    locs: &[Loc],
    rules: &IncidentRules,
) -> Result<Vec<CircleZone>, SafetyError> {
    let max = rules.limits.max_distance_m;
    locs.iter()
        .map(|l| {
            let d = model.distance_to(FireSource::model_level(l))?;
            let (radius, reached, note) = match d.reach {
                Reach::Within { distance_m } if d.extrapolated => {
                    let range = model
                        .validity_range_m()
                        .map_or(String::new(), |(a, b)| format!(" ({a:.0}–{b:.0} m)"));
                    (
                        None,
                        false,
                        format!(
                            "{}: the model reaches it at {distance_m:.0} m, outside its fitted range{range}: no zone is drawn for this level",
                            l.basis
                        ),
                    )
                }
                Reach::Within { distance_m } if distance_m <= max => {
                    (Some(distance_m), true, String::new())
                }
                Reach::Within { .. } | Reach::BeyondRange { .. } => (
                    Some(max),
                    true,
                    format!(
                        "{} reaches beyond {} km: drawn to {} km",
                        l.basis,
                        max / 1000.0,
                        max / 1000.0
                    ),
                ),
                Reach::NotReached => (
                    None,
                    false,
                    format!(
                        "{} is not reached at any distance: the model's largest value is below it",
                        l.basis
                    ),
                ),
            };
            Ok(CircleZone {
                loc: l.clone(),
                zone_name: rules.zone_name(l.colour).to_string(),
                reach: d.reach,
                extrapolated: d.extrapolated,
                radius_m: radius,
                reach_m: radius.filter(|_| note.is_empty()),
                reached,
                note,
                ring: radius.map(circle_ring).unwrap_or_default(),
            })
        })
        .collect()
}

fn air_density(ta_k: f64) -> f64 {
    STANDARD_ATMOSPHERE_PA * AIR_MOLAR_MASS_G_MOL * 1e-3 / (R_GAS * ta_k)
}

/// The thermal and overpressure hazards of a flammable release, with
/// `thermal` and `overpressure` the levels of concern (red first) and the
/// zone names and range of `rules`. A substance that is not flammable gets
/// none, each with its reason.
///
/// # Errors
/// [`SafetyError::InvalidInput`] naming the field for a release that is
/// not a finite number > 0 (mass, rate, duration), a wind speed that is not
/// > 0, and any model input a model refuses.
pub fn fire_hazards(
    r: &FlammableRelease<'_>,
    thermal: &[Loc],
    overpressure: &[Loc],
    qra: &QraRules,
    rules: &IncidentRules,
) -> Result<FireAnswer, SafetyError> {
    let props = r.props;
    let u = positive("wind_speed_m_s", r.cloud.wind_speed_m_s)?;
    positive("ambient_temperature_k", r.cloud.ambient_temperature_k)?;
    let (mass, rate, duration) = match r.cloud.release {
        Release::Instantaneous { mass_kg } => (positive("mass_kg", mass_kg)?, None, None),
        Release::Continuous {
            rate_kg_s,
            duration_s,
        } => {
            let q = positive("rate_kg_s", rate_kg_s)?;
            let t = positive("duration_s", duration_s)?.min(rules.limits.max_duration_s);
            (q * t, Some(q), Some(t))
        }
    };
    let mut out = FireAnswer {
        hazards: Vec::new(),
        absent: Vec::new(),
        notes: Vec::new(),
    };
    if let Some(why) = not_flammable_reason(props) {
        for hazard in ["thermal", "overpressure"] {
            out.absent.push(AbsentHazard {
                hazard,
                reason: why.clone(),
            });
        }
        return Ok(out);
    }
    let st = &qra.model.source_term;
    // Checked on parsing: a flammable row has both.
    let dhc = props.heat_of_combustion_mj_per_kg.unwrap_or(0.0) * 1e6;
    let lfl_pct = props.lfl_vol_pct.unwrap_or(100.0);
    let mut props_unconfirmed = Vec::new();
    if qra.substances.confidence.is_unconfirmed() {
        props_unconfirmed.push(format!(
            "the properties of {} in qra-substances.toml (heat of combustion, LFL, density, burning rate, vapour pressure) are handbook values from memory",
            props.name_zh
        ));
    }
    let name = &props.name_zh;

    // Thermal.
    let pool_state = matches!(
        props.state,
        PhysicalState::Liquid | PhysicalState::LiquefiedRefrigerated
    );
    let thermal_hazard: Result<FireHazard, String> = if pool_state {
        pool_fire(r, mass, rate, dhc, thermal, qra, rules, &props_unconfirmed)?
    } else if let Some(q) = rate {
        Ok(jet_fire(
            props,
            q,
            dhc,
            thermal,
            qra,
            rules,
            &props_unconfirmed,
        )?)
    } else if props.state == PhysicalState::LiquefiedPressurised {
        Ok(fireball(
            props,
            mass,
            dhc,
            thermal,
            rules,
            &props_unconfirmed,
        )?)
    } else {
        Err(format!(
            "an instantaneous release of {name}, a compressed gas, makes a cloud: it burns as a flash fire or explodes (see overpressure) when it meets an ignition source; there is no fireball (a BLEVE needs a liquefied gas) and the flash-fire envelope is not drawn"
        ))
    };
    match thermal_hazard {
        Ok(h) => out.hazards.push(h),
        Err(reason) => out.absent.push(AbsentHazard {
            hazard: "thermal",
            reason,
        }),
    }

    // Overpressure: the cloud, read as vapour like the toxic cloud.
    let airborne = if props.state == PhysicalState::LiquefiedPressurised {
        st.airborne_fraction_pressurised
    } else {
        1.0
    };
    let lfl_loc = Loc {
        colour: "yellow",
        value: lfl_pct * 1e4,
        unit: "ppm",
        basis: format!("LFL {lfl_pct} % vol"),
        unconfirmed: true,
    };
    let dense_rules = crate::dense_gas::DenseGasRules::builtin();
    let mut cloud = r.cloud.clone();
    cloud.release = match cloud.release {
        Release::Instantaneous { mass_kg } => Release::Instantaneous {
            mass_kg: mass_kg * airborne,
        },
        Release::Continuous {
            rate_kg_s,
            duration_s,
        } => Release::Continuous {
            rate_kg_s: rate_kg_s * airborne,
            duration_s,
        },
    };
    let lfl = toxic_zones_with(&cloud, std::slice::from_ref(&lfl_loc), rules, dense_rules)?;
    let lfl_reach = lfl.zones.first().map_or(Reach::NotReached, |z| z.reach);
    let x_lfl = lfl_reach.as_ordered_m();
    let (fuel, fuel_text) = match (rate, duration) {
        (Some(q), Some(t)) => {
            let q = q * airborne;
            let by_travel = if x_lfl.is_finite() {
                q * x_lfl / u
            } else {
                f64::INFINITY
            };
            let m = by_travel.min(q * t);
            (
                m,
                format!(
                    "flammable mass in the cloud {m:.0} kg: rate {q:.2} kg/s × the distance to the LFL ({}) / wind {u} m/s, at most the {:.0} kg released (the QRA's convention, qra-model.toml [source_term])",
                    reach_text(&lfl_reach),
                    q * t
                ),
            )
        }
        _ => {
            let f = st.instantaneous_flammable_fraction;
            let m = mass * airborne * f;
            (
                m,
                format!(
                    "flammable mass in the cloud {m:.0} kg: {f} × the airborne {:.0} kg (instantaneous_flammable_fraction, qra-model.toml [source_term]; conservative, the mass between the flammability limits is smaller)",
                    mass * airborne
                ),
            )
        }
    };
    if !(fuel.is_finite() && fuel > 0.0) {
        out.absent.push(AbsentHazard {
            hazard: "overpressure",
            reason: format!(
                "the cloud of {name} stays below its LFL ({lfl_pct} % vol) at every distance the dispersion model answers: no flammable mass to explode"
            ),
        });
        return Ok(out);
    }
    let ex = &qra.model.explosion;
    let vce = VapourCloudExplosion {
        tnt: TntEquivalence::VapourCloud {
            fuel_mass_kg: fuel,
            heat_of_combustion_j_per_kg: dhc,
            yield_factor: ex.yield_factor,
            tnt_blast_energy_j_per_kg: ex.tnt_blast_energy_j_per_kg,
            ground_burst_factor: ex.ground_burst_factor,
        },
        curve: ex.curve,
        ambient_pressure_pa: STANDARD_ATMOSPHERE_PA,
    };
    let res = vce.evaluate(&[])?;
    let zones = zones_of(&res, overpressure, rules)?;
    let mut unconfirmed = props_unconfirmed.clone();
    if ex.confidence.is_unconfirmed() {
        unconfirmed.push("qra-model.toml [explosion] yield factor and TNT energy".into());
    }
    if st.confidence.is_unconfirmed() {
        unconfirmed.push("qra-model.toml [source_term]: the flammable-mass convention (instantaneous_flammable_fraction, airborne_fraction_pressurised) is a project assumption".into());
    }
    let mut reasons = vec![
        format!(
            "{name} is flammable (LFL {lfl_pct} % vol): a cloud that meets an ignition source after it has spread can explode (蒸气云爆炸)"
        ),
        fuel_text,
        format!(
            "TNT equivalence W_TNT = β·α·W_f·ΔHc/Q_TNT = {:.0} kg (α = {}, Q_TNT = {} MJ/kg, β = {}; qra-model.toml [explosion]), side-on overpressure from the {:?} curve",
            res.tnt_mass_kg,
            ex.yield_factor,
            ex.tnt_blast_energy_j_per_kg / 1e6,
            ex.ground_burst_factor,
            ex.curve
        ),
    ];
    if pool_state {
        reasons.push(
            "a liquid's release is read as vapour for the cloud, as for the toxic zones (conservative: a pool evaporates no faster than it is fed)".into(),
        );
    }
    out.notes.push(format!(
        "the blast zones are centred on the release; a drifting cloud can move the blast centre downwind, as far as the cloud stays flammable ({})",
        reach_text(&lfl_reach)
    ));
    out.hazards.push(FireHazard {
        hazard: "overpressure",
        scenario: "vapour_cloud_explosion",
        model: res.model.id,
        reasons,
        zones,
        source: FireSource::Explosion(vce),
        limitations: res.model.limitations,
        unconfirmed,
    });
    Ok(out)
}

fn state_text(s: PhysicalState) -> &'static str {
    match s {
        PhysicalState::LiquefiedPressurised => "liquefied",
        PhysicalState::CompressedGas => "compressed",
        PhysicalState::LiquefiedRefrigerated => "refrigerated liquefied",
        PhysicalState::Liquid => "liquid",
        PhysicalState::Solid => "solid",
    }
}

fn reach_text(r: &Reach) -> String {
    match r {
        Reach::Within { distance_m } => format!("{distance_m:.0} m downwind"),
        Reach::BeyondRange { max_distance_m } => {
            format!("beyond {:.0} km downwind", max_distance_m / 1000.0)
        }
        Reach::NotReached => "not reached".into(),
    }
}

/// The jet fire of a continuous release of a gas under pressure.
fn jet_fire(
    props: &SubstanceProps,
    q: f64,
    dhc: f64,
    thermal: &[Loc],
    qra: &QraRules,
    rules: &IncidentRules,
    props_unconfirmed: &[String],
) -> Result<FireHazard, SafetyError> {
    let name = &props.name_zh;
    let frac = props
        .jet_radiative_fraction
        .unwrap_or(qra.model.source_term.jet_radiative_fraction);
    let jet = JetFire {
        mass_rate_kg_per_s: q,
        heat_of_combustion_j_per_kg: dhc,
        radiative_fraction: frac,
        source: JetSource::AtRelease,
        transmissivity: Transmissivity::Fixed { tau: 1.0 },
    };
    let res = jet.evaluate(&[])?;
    let zones = zones_of(&res, thermal, rules)?;
    let mut unconfirmed = props_unconfirmed.to_vec();
    unconfirmed.push(
        "API 521 flame length L = 0.00326·Q^0.478 and the radiated fraction are from memory".into(),
    );
    Ok(FireHazard {
        hazard: "thermal",
        scenario: "jet_fire",
        model: res.model.id,
        reasons: vec![
            format!(
                "a continuous release of {name}, a {} gas, under pressure: if it ignites at once it burns as a jet fire (喷射火)",
                state_text(props.state)
            ),
            format!(
                "API 521 point source at the release at ground level (the worst case for people near it): {q:.2} kg/s × {:.2} MJ/kg = {:.1} MW, radiated fraction {frac} ({}), flame length {:.1} m; no atmospheric absorption (τ = 1, conservative)",
                dhc / 1e6,
                res.heat_release_w / 1e6,
                if props.jet_radiative_fraction.is_some() {
                    "the substance's row"
                } else {
                    "qra-model.toml jet_radiative_fraction"
                },
                res.flame_length_m
            ),
        ],
        zones,
        source: FireSource::JetFire(jet),
        limitations: res.model.limitations,
        unconfirmed,
    })
}

/// The fireball of an instantaneous release of a liquefied gas (BLEVE).
fn fireball(
    props: &SubstanceProps,
    mass: f64,
    dhc: f64,
    thermal: &[Loc],
    rules: &IncidentRules,
    props_unconfirmed: &[String],
) -> Result<FireHazard, SafetyError> {
    let name = &props.name_zh;
    let p = props.vapour_pressure_kpa.unwrap_or(101.325) * 1e3;
    let fb = Fireball {
        mass_kg: mass,
        model: FireballModel::Ccps {
            sep: FireballSep::FromPressure {
                vessel_pressure_pa: p,
                heat_of_combustion_j_per_kg: dhc,
            },
            transmissivity: Transmissivity::Fixed { tau: 1.0 },
        },
    };
    let res = fb.evaluate(&[])?;
    let zones = zones_of(&res, thermal, rules)?;
    let mut unconfirmed = props_unconfirmed.to_vec();
    unconfirmed.push("CCPS fireball radiated fraction F = 0.27·P^0.32 takes the vessel pressure as the vapour pressure at 20 °C (gauge or absolute not stated by CCPS)".into());
    Ok(FireHazard {
        hazard: "thermal",
        scenario: "fireball",
        model: res.model.id,
        reasons: vec![
            format!(
                "an instantaneous release of {name}, a liquefied flammable gas under pressure: the vessel fails as a BLEVE and the released mass burns as a fireball (火球)"
            ),
            format!(
                "CCPS fireball of the whole {mass:.0} kg: diameter {:.0} m, duration {:.1} s, centre {:.0} m high, vessel pressure {:.0} kPa (vapour pressure at 20 °C), SEP {:.0} kW/m²; no atmospheric absorption (τ = 1, conservative); distances are from the point below the centre",
                res.diameter_m,
                res.duration_s,
                res.centre_height_m,
                p / 1e3,
                res.surface_emissive_power_w_per_m2.unwrap_or(0.0) / 1e3
            ),
            format!(
                "the levels are for a 60 s exposure; the fireball lasts {:.1} s",
                res.duration_s
            ),
        ],
        zones,
        source: FireSource::Fireball(fb),
        limitations: res.model.limitations,
        unconfirmed,
    })
}

/// The pool fire of a liquid spill.
#[allow(clippy::too_many_arguments)]
fn pool_fire(
    r: &FlammableRelease<'_>,
    mass: f64,
    rate: Option<f64>,
    dhc: f64,
    thermal: &[Loc],
    qra: &QraRules,
    rules: &IncidentRules,
    props_unconfirmed: &[String],
) -> Result<Result<FireHazard, String>, SafetyError> {
    let props = r.props;
    let name = &props.name_zh;
    let st = &qra.model.source_term;
    let (Some(rho), Some(m2)) = (props.liquid_density_kg_m3, props.burning_rate_kg_m2_s) else {
        return Ok(Err(format!(
            "{name}: no liquid density or burning rate in qra-substances.toml: the pool fire is not modelled"
        )));
    };
    let (cap, cap_text) = match r.bund_area_m2 {
        Some(a) => (
            a,
            format!(
                "the bund of the storage unit ({a:.0} m²: its inventory at {} m deep, qra-model.toml bund_height_m, a project assumption)",
                st.bund_height_m
            ),
        ),
        None => (
            st.max_unbunded_pool_area_m2,
            format!(
                "{} m² (qra-model.toml max_unbunded_pool_area_m2, a project assumption)",
                st.max_unbunded_pool_area_m2
            ),
        ),
    };
    let spread = mass / rho / st.min_pool_thickness_m;
    let (area, area_text) = match rate {
        None => {
            let a = spread.min(cap);
            (
                a,
                format!(
                    "the {mass:.0} kg spilled at once spread to {} m deep ({:.0} m²), at most {cap_text}: pool {a:.0} m²",
                    st.min_pool_thickness_m, spread
                ),
            )
        }
        Some(q) => {
            let eq = q / m2;
            let a = eq.min(spread).min(cap);
            (
                a,
                format!(
                    "a continuous spill of {q:.2} kg/s burns on the pool where burning equals the spill ({eq:.0} m² at {m2} kg/m²·s), no larger than the {mass:.0} kg spread to {} m deep ({spread:.0} m²) or {cap_text}: pool {a:.0} m²",
                    st.min_pool_thickness_m
                ),
            )
        }
    };
    let diameter = (4.0 * area / PI).sqrt();
    let ta = r.cloud.ambient_temperature_k;
    let u = r.cloud.wind_speed_m_s;
    let pf = PoolFire {
        diameter_m: diameter,
        heat_of_combustion_j_per_kg: dhc,
        burning_rate: BurningRate::Given { kg_per_m2_s: m2 },
        flame_length: FlameLength::ThomasWind,
        tilt: FlameTilt::Aga,
        wind_speed_m_per_s: u,
        radiation: PoolFireRadiation::SolidFlame {
            sep: SurfaceEmissivePower::Mudan,
        },
        air_density_kg_per_m3: air_density(ta),
        transmissivity: Transmissivity::Fixed { tau: 1.0 },
    };
    let res = pf.evaluate(&[])?;
    let zones = zones_of(&res, thermal, rules)?;
    let mut unconfirmed = props_unconfirmed.to_vec();
    unconfirmed.push("the AGA flame tilt as CCPS gives it uses the air density in u* (UNCONFIRMED against CCPS); the pool spreads to the PB minimum layer of 1 cm on land [M]".into());
    Ok(Ok(FireHazard {
        hazard: "thermal",
        scenario: "pool_fire",
        model: res.model.id,
        reasons: vec![
            format!(
                "{name} is a flammable {}: the spill forms a pool which, ignited, burns as a pool fire (池火)",
                state_text(props.state)
            ),
            area_text,
            format!(
                "solid-flame cylinder, diameter {diameter:.1} m, flame {:.1} m (Thomas, wind {u} m/s) tilted {:.0}° (AGA), SEP {:.0} kW/m² (Mudan); the flux is for a target downwind of the tilt (worst case), drawn as a circle; no atmospheric absorption (τ = 1, conservative); distances from the pool centre",
                res.flame_length_m,
                res.tilt_deg,
                res.surface_emissive_power_w_per_m2.unwrap_or(0.0) / 1e3
            ),
        ],
        zones,
        source: FireSource::PoolFire(pf),
        limitations: res.model.limitations,
        unconfirmed,
    }))
}

/// One zone of a hazard in the answer's `hazards` list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HazardZone {
    /// `red`, `orange` or `yellow`.
    pub colour: &'static str,
    /// 隔离区/疏散区/警戒区 (`incident.toml` [zoning]).
    pub zone_name: String,
    /// The level of concern, in `unit`.
    pub level: f64,
    /// `ppm`, `kW/m²` or `kPa`.
    pub unit: &'static str,
    /// The distance the level reaches, m; none when it is not reached,
    /// reaches beyond the range, or lies outside the model's fitted range.
    pub reach_m: Option<f64>,
    /// Whether a zone is drawn for the level.
    pub reached: bool,
    /// Why there is no distance, or that the zone is drawn to the range.
    pub note: String,
}

/// One hazard of an incident: its model, scenario and why, and its zones.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HazardSummary {
    /// `toxic`, `thermal` or `overpressure`.
    pub hazard: &'static str,
    /// The model's id.
    pub model: String,
    /// The scenario: `toxic_plume`, `toxic_puff`, `pool_fire`, `jet_fire`,
    /// `fireball` or `vapour_cloud_explosion`.
    pub scenario: String,
    /// Why this scenario and model.
    pub reasons: Vec<String>,
    /// Red to yellow.
    pub zones: Vec<HazardZone>,
}

impl HazardSummary {
    /// The toxic hazard of `t`.
    pub fn toxic(t: &crate::incident::ToxicZones, rules: &IncidentRules) -> HazardSummary {
        let max_km = rules.limits.max_distance_m / 1000.0;
        HazardSummary {
            hazard: "toxic",
            model: t.model.to_string(),
            scenario: if t.model.ends_with("puff") {
                "toxic_puff".into()
            } else {
                "toxic_plume".into()
            },
            reasons: std::iter::once(t.reason.clone())
                .chain(t.limitations.iter().cloned())
                .collect(),
            zones: t
                .zones
                .iter()
                .map(|z| {
                    let (reach_m, reached, note) = match z.reach {
                        Reach::Within { distance_m } => (Some(distance_m), true, String::new()),
                        Reach::BeyondRange { .. } => (
                            None,
                            true,
                            format!(
                                "{} reaches beyond {max_km} km: drawn to {max_km} km",
                                z.loc.basis
                            ),
                        ),
                        Reach::NotReached => (
                            None,
                            false,
                            format!("{} is not reached at any distance", z.loc.basis),
                        ),
                    };
                    HazardZone {
                        colour: z.loc.colour,
                        zone_name: z.zone_name.clone(),
                        level: z.loc.value,
                        unit: z.loc.unit,
                        reach_m,
                        reached,
                        note,
                    }
                })
                .collect(),
        }
    }

    /// A thermal or overpressure hazard.
    pub fn fire(h: &FireHazard) -> HazardSummary {
        HazardSummary {
            hazard: h.hazard,
            model: h.model.to_string(),
            scenario: h.scenario.to_string(),
            reasons: h.reasons.clone(),
            zones: h
                .zones
                .iter()
                .map(|z| HazardZone {
                    colour: z.loc.colour,
                    zone_name: z.zone_name.clone(),
                    level: z.loc.value,
                    unit: z.loc.unit,
                    reach_m: z.reach_m,
                    reached: z.reached,
                    note: z.note.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consequence::plume::{StabilityClass, Terrain};
    use crate::loc::LevelsOfConcern;

    fn row(key: &str) -> &'static SubstanceProps {
        QraRules::embedded().substances.by_key(key).unwrap()
    }

    fn cloud(molar_mass: f64, release: Release, t_release: f64) -> ToxicRelease {
        ToxicRelease {
            molar_mass_g_mol: molar_mass,
            release,
            release_temperature_k: t_release,
            ambient_temperature_k: 293.15,
            wind_speed_m_s: 3.0,
            wind_from_deg: 90.0,
            stability: StabilityClass::D,
            terrain: Terrain::Urban,
        }
    }

    fn answer(key: &str, release: Release, t: f64, bund: Option<f64>) -> FireAnswer {
        let p = row(key);
        let l = LevelsOfConcern::builtin();
        fire_hazards(
            &FlammableRelease {
                props: p,
                cloud: cloud(p.molar_mass_g_per_mol, release, t),
                bund_area_m2: bund,
            },
            &l.thermal(),
            &l.overpressure(),
            QraRules::embedded(),
            IncidentRules::builtin(),
        )
        .unwrap()
    }

    /// Every drawn zone's radius is where the model's own effect equals the
    /// level (within 1 %), red inside orange inside yellow, and the circle
    /// holds the radius.
    fn radii_are_the_models_own(h: &FireHazard) {
        let mut last = 0.0;
        for z in &h.zones {
            let level = FireSource::model_level(&z.loc);
            if let Some(r) = z.reach_m {
                let at = h.source.effect_at(r).unwrap();
                assert!(
                    (at - level).abs() <= 0.01 * level,
                    "{} {}: {at} at {r} m against {level}",
                    h.scenario,
                    z.loc.colour
                );
                // A little farther out the effect is below the level.
                assert!(h.source.effect_at(r * 1.02).unwrap() < level);
                assert!(r > last, "{} {}", h.scenario, z.loc.colour);
                last = r;
                let min = z
                    .ring
                    .iter()
                    .map(|p| p[0].hypot(p[1]))
                    .fold(f64::INFINITY, f64::min);
                assert!(min >= r && min < r * 1.001, "{min} {r}");
                assert_eq!(z.ring.len(), CIRCLE_VERTICES + 1);
            } else {
                assert!(!z.note.is_empty() && z.ring.is_empty());
            }
            assert_ne!(z.radius_m, Some(0.0));
        }
    }

    #[test]
    fn an_instantaneous_lpg_release_is_a_fireball_and_an_explosion() {
        let a = answer(
            "lpg",
            Release::Instantaneous { mass_kg: 20_000.0 },
            231.1,
            None,
        );
        let kinds: Vec<(&str, &str)> = a.hazards.iter().map(|h| (h.hazard, h.scenario)).collect();
        assert_eq!(
            kinds,
            [
                ("thermal", "fireball"),
                ("overpressure", "vapour_cloud_explosion")
            ]
        );
        for h in &a.hazards {
            assert_eq!(h.zones.len(), 3);
            assert!(h.zones.iter().all(|z| z.reached), "{:?}", h.zones);
            radii_are_the_models_own(h);
        }
        assert!(a.hazards[0].reasons[0].contains("BLEVE"));
        assert_eq!(a.hazards[0].zones[0].zone_name, "事故中心区域（隔离区）");
        // The whole 20 t (fraction 1) is the flammable mass: W_TNT =
        // 0.04 × 20 000 × 46.34 / 4.52 = 8201.8 kg.
        match &a.hazards[1].source {
            FireSource::Explosion(v) => {
                let w = v.tnt.tnt_mass_kg().unwrap();
                assert!((w - 8201.77).abs() < 0.1, "{w}");
            }
            other => panic!("{other:?}"),
        }
        assert!(a.notes.iter().any(|n| n.contains("blast centre downwind")));
        assert!(a.absent.is_empty());
    }

    #[test]
    fn a_continuous_propane_release_is_a_jet_fire() {
        let a = answer(
            "lpg",
            Release::Continuous {
                rate_kg_s: 20.0,
                duration_s: 600.0,
            },
            231.1,
            None,
        );
        assert_eq!(a.hazards[0].scenario, "jet_fire");
        assert_eq!(a.hazards[1].scenario, "vapour_cloud_explosion");
        for h in &a.hazards {
            radii_are_the_models_own(h);
        }
        // The cloud's flammable mass is capped at what was released.
        match &a.hazards[1].source {
            FireSource::Explosion(v) => match v.tnt {
                TntEquivalence::VapourCloud { fuel_mass_kg, .. } => {
                    assert!(fuel_mass_kg > 0.0 && fuel_mass_kg <= 12_000.0)
                }
                TntEquivalence::Direct { .. } => panic!(),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_liquid_spill_is_a_pool_fire_limited_by_its_bund() {
        for key in ["gasoline", "benzene"] {
            let open = answer(
                key,
                Release::Instantaneous { mass_kg: 50_000.0 },
                293.15,
                None,
            );
            assert_eq!(open.hazards[0].scenario, "pool_fire", "{key}");
            radii_are_the_models_own(&open.hazards[0]);
            radii_are_the_models_own(&open.hazards[1]);
            // 50 t at 1 cm would cover ~6800 m²: capped at 1500 m² unbunded.
            let d = |a: &FireAnswer| match &a.hazards[0].source {
                FireSource::PoolFire(p) => p.diameter_m,
                other => panic!("{other:?}"),
            };
            assert!((d(&open) - (4.0 * 1500.0 / PI).sqrt()).abs() < 1e-6);
            let bunded = answer(
                key,
                Release::Instantaneous { mass_kg: 50_000.0 },
                293.15,
                Some(400.0),
            );
            assert!((d(&bunded) - (4.0 * 400.0 / PI).sqrt()).abs() < 1e-6);
            assert!(
                bunded.hazards[0].zones[2].reach_m.unwrap()
                    < open.hazards[0].zones[2].reach_m.unwrap()
            );
        }
        // A continuous spill burns where burning equals the spill: 1 kg/s of
        // gasoline at 0.055 kg/m²s is 18.2 m².
        let c = answer(
            "gasoline",
            Release::Continuous {
                rate_kg_s: 1.0,
                duration_s: 1800.0,
            },
            293.15,
            None,
        );
        match &c.hazards[0].source {
            FireSource::PoolFire(p) => {
                let a = PI * p.diameter_m * p.diameter_m / 4.0;
                assert!((a - 1.0 / 0.055).abs() < 1e-6, "{a}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn chlorine_is_not_flammable_and_bad_input_is_refused_by_name() {
        let a = answer(
            "chlorine",
            Release::Continuous {
                rate_kg_s: 2.0,
                duration_s: 600.0,
            },
            239.1,
            None,
        );
        assert!(a.hazards.is_empty());
        assert_eq!(a.absent.len(), 2);
        assert!(
            a.absent
                .iter()
                .all(|x| x.reason.starts_with("not flammable")),
            "{:?}",
            a.absent
        );
        let p = row("lpg");
        let l = LevelsOfConcern::builtin();
        for (release, name) in [
            (Release::Instantaneous { mass_kg: f64::NAN }, "mass_kg"),
            (Release::Instantaneous { mass_kg: -5.0 }, "mass_kg"),
            (
                Release::Continuous {
                    rate_kg_s: -1.0,
                    duration_s: 60.0,
                },
                "rate_kg_s",
            ),
            (
                Release::Continuous {
                    rate_kg_s: 1.0,
                    duration_s: f64::NAN,
                },
                "duration_s",
            ),
        ] {
            let e = fire_hazards(
                &FlammableRelease {
                    props: p,
                    cloud: cloud(44.1, release, 231.1),
                    bund_area_m2: None,
                },
                &l.thermal(),
                &l.overpressure(),
                QraRules::embedded(),
                IncidentRules::builtin(),
            )
            .unwrap_err();
            assert!(
                matches!(e, SafetyError::InvalidInput { field, .. } if field == name),
                "{e}"
            );
        }
        let mut c = cloud(44.1, Release::Instantaneous { mass_kg: 1.0 }, 231.1);
        c.wind_speed_m_s = f64::NAN;
        let e = fire_hazards(
            &FlammableRelease {
                props: p,
                cloud: c,
                bund_area_m2: None,
            },
            &l.thermal(),
            &l.overpressure(),
            QraRules::embedded(),
            IncidentRules::builtin(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("wind_speed_m_s"), "{e}");
    }

    #[test]
    fn a_level_the_model_cannot_place_has_no_radius() {
        // A small instantaneous compressed-gas release: no fireball (said
        // why); a tiny pool fire never reaches 10 kW/m² beyond its edge or
        // is drawn only where the model places it, never at 0 m.
        let a = answer(
            "hydrogen",
            Release::Instantaneous { mass_kg: 5.0 },
            293.15,
            None,
        );
        assert!(a.hazards.iter().all(|h| h.hazard != "thermal"));
        assert!(
            a.absent[0].reason.contains("compressed gas"),
            "{:?}",
            a.absent
        );
        let rules = IncidentRules::builtin();
        let l = LevelsOfConcern::builtin();
        let tiny = PoolFire {
            diameter_m: 0.2,
            heat_of_combustion_j_per_kg: 43.7e6,
            burning_rate: BurningRate::Given { kg_per_m2_s: 0.055 },
            flame_length: FlameLength::ThomasWind,
            tilt: FlameTilt::Aga,
            wind_speed_m_per_s: 3.0,
            radiation: PoolFireRadiation::SolidFlame {
                sep: SurfaceEmissivePower::Given { w_per_m2: 8_000.0 },
            },
            air_density_kg_per_m3: 1.2,
            transmissivity: Transmissivity::Fixed { tau: 1.0 },
        }
        .evaluate(&[])
        .unwrap();
        let z = zones_of(&tiny, &l.thermal(), rules).unwrap();
        assert!(!z[0].reached && z[0].reach_m.is_none() && z[0].ring.is_empty());
        assert!(z[0].note.contains("not reached"), "{}", z[0].note);
        // A blast level outside the curve's fitted range is said, not drawn.
        let vce = VapourCloudExplosion {
            tnt: TntEquivalence::Direct { tnt_mass_kg: 1.0 },
            curve: crate::consequence::vce::BlastCurve::Sadovsky,
            ambient_pressure_pa: STANDARD_ATMOSPHERE_PA,
        }
        .evaluate(&[])
        .unwrap();
        let z = zones_of(&vce, &l.overpressure(), rules).unwrap();
        let yellow = &z[2];
        assert!(yellow.extrapolated && !yellow.reached && yellow.radius_m.is_none());
        assert!(
            yellow.note.contains("outside its fitted range"),
            "{}",
            yellow.note
        );
    }
}

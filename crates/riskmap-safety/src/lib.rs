//! Safety science of riskmap: consequence models (what a fire, explosion or
//! toxic release does at a distance), probits (the probability of death
//! from a dose) and the GB 36894-2018 protection-target classes with their
//! individual-risk criteria.
//!
//! Every function is pure and in SI units (m, s, kg, Pa, W/m², kg/m³).
//! Every formula is documented with its source; every model result echoes
//! its inputs and carries a [`ModelInfo`] (id, version, source,
//! limitations). Each model also answers the inverse question, the distance
//! to an effect level, by a robust monotone bisection ([`solve`]).
//!
//! # Layout
//! - [`consequence`]: the models and their data.
//!   - [`consequence::pool_fire`]: [`PoolFire`] — burning rate (Burgess,
//!     Babrauskas), Thomas flame length, point-source, solid-flame (Mudan
//!     view factors, tilted cylinder) and Chinese 安全评价 radiation.
//!   - [`consequence::jet_fire`]: [`JetFire`] — API 521 point source.
//!   - [`consequence::fireball`]: [`Fireball`] — BLEVE fireball, CCPS 1999
//!     (D = 5.8·M^(1/3)) and the Chinese 安全评价 form.
//!   - [`consequence::vce`]: [`VapourCloudExplosion`] — TNT equivalence
//!     with Kinney–Graham, Kingery–Bulmash, Sadovsky or the Chinese
//!     overpressure polynomial.
//!   - [`consequence::plume`]: [`GaussianPlume`] — passive Gaussian plume,
//!     Pasquill–Gifford A–F, Briggs σ. **Dense-gas behaviour is not
//!     modelled.**
//!   - [`consequence::probit`]: Φ(Y − 5), [`ThermalProbit`],
//!     [`OverpressureProbit`].
//!   - [`consequence::toxic_probits`]: [`ToxicProbit`] per substance from
//!     `data/rules/consequence-toxic-probits.toml`.
//!   - [`consequence::thresholds`]: [`EffectThresholds`] from
//!     `data/rules/consequence-thresholds.toml` (ALOHA 10/5/2 kW/m², …).
//!   - [`consequence::transmissivity`], [`consequence::view_factor`],
//!     [`consequence::units`]: shared physics and unit conversions.
//! - [`dense_gas`]: [`dense_gas::DenseGasRelease`] — the Britter–McQuaid
//!   workbook (重气扩散) for ground-level releases denser than air, plume and
//!   puff, with its Richardson-number test; curves in
//!   `data/rules/dense-gas.toml`.
//! - [`command`]: [`command::assess_incident`] — an incident at a site's unit
//!   or a point: the worst credible release from the inventory, the
//!   stability class from the weather, the zones in WGS84 and who is inside
//!   each (targets, pipelines, other hazardous sites), exactly; rescue
//!   teams, depots and shelters by road when a network is loaded.
//! - [`routing`]: road speeds per class (`data/rules/road-speeds.toml`) and
//!   the road network read from OpenStreetMap XML with them.
//! - [`erg`]: ERG Table 1 isolation and protective-action distances beside a
//!   modelled incident (`data/rules/erg.toml`, mostly UNCONFIRMED).
//! - [`incident`]: [`incident::toxic_zones`] — ALOHA-style threat zones of
//!   a toxic gas release: footprints at the levels of concern, oriented
//!   downwind with the wind-direction uncertainty, dense or passive model
//!   chosen and explained (`data/rules/incident.toml`).
//! - [`loc`]: levels of concern for incident threat zones (AEGL → ERPG,
//!   10/5/2 kW/m², ≈55/24/7 kPa) from `data/rules/levels-of-concern.toml`.
//! - [`targets`]: [`TargetClass`], [`classify()`], [`ir_criterion`], rules
//!   from `data/rules/protection-target-classes.toml` (UNCONFIRMED).
//! - [`qra`]: quantitative risk assessment (定量风险评价, GB/T 37243-2019
//!   §6) against GB 36894-2018, in a site-local metric frame (m east, m
//!   north of the site's reference point):
//!   - [`qra::rules`]: [`QraRules`] from `data/rules/qra-*.toml` (Purple
//!     Book LOC frequencies, PB Table 4.5 ignition, default weather D5/F1.5,
//!     substance properties, lethality rules, F–N lines; most UNCONFIRMED);
//!   - [`qra::scenario`]: [`scenarios_for_units`] — instantaneous, 10-min and
//!     10 mm-hole releases per unit and substance with their PB event trees
//!     (pool/jet fire, fireball, flash fire, TNT explosion, toxic plume or
//!     puff; **dense gas not modelled**);
//!   - [`qra::risk`]: [`individual_risk_at`] (direct evaluation, the oracle),
//!     [`individual_risk_field`] (radial tables per release point, rayon over
//!     rows), [`auto_grid`];
//!   - [`qra::lethality`]: the PB sector method (P_cl, PI, ECW, P_ci);
//!   - [`qra::contours`]: [`risk_contours`] at [`CONTOUR_LEVELS`] (marching
//!     squares on log10 IR via `riskmap_spatial::contour`);
//!   - [`qra::societal`]: [`fn_curve`] against the GB 36894 lines.
//! - [`siting`]: the GB/T 37243-2019 §4 decision flow ([`choose_methods`]:
//!   consequence / QRA / code distances), the consequence method for
//!   explosives ([`explosive_consequence_zone`], GB 6722 2 kPa PLACEHOLDER
//!   threshold, UNCONFIRMED) and code separation distances
//!   ([`CodeDistanceTable`] from `data/rules/code-distances.toml`, every
//!   distance UNCONFIRMED).
//! - [`effect`]: [`EffectModel`], [`EffectDistance`], [`Reach`],
//!   [`ModelInfo`].
//! - [`solve`]: the distance search (log scan + bisection).
//! - [`confidence`]: [`Confidence`] tags of rule-table rows.
//! - [`error`]: the error type, [`SafetyError`].
//!
//! Rule tables are TOML files in `data/rules/`, embedded at compile time
//! (`include_str!`) and parsed on first use; callers may also parse their
//! own with each table's `from_toml_str`. Their sources and confidence are
//! in `data/rules/README-safety.md`.
//!
//! # Example
//! ```
//! use riskmap_safety::{EffectModel, EffectThresholds, Fireball, FireballModel, FireballSep,
//!     ThermalProbit, Transmissivity};
//!
//! // 1000 kg propane BLEVE (CCPS 1999): D = 5.8·1000^(1/3) = 58 m, t = 4.5 s.
//! let fireball = Fireball {
//!     mass_kg: 1000.0,
//!     model: FireballModel::Ccps {
//!         sep: FireballSep::FromPressure {
//!             vessel_pressure_pa: 1.5e6,
//!             heat_of_combustion_j_per_kg: 46.34e6,
//!         },
//!         transmissivity: Transmissivity::Fixed { tau: 1.0 },
//!     },
//! };
//! let aloha = EffectThresholds::embedded().thermal_levels("aloha")?; // 10, 5, 2 kW/m²
//! let result = fireball.evaluate(&aloha)?;
//! assert!((result.diameter_m - 58.0).abs() < 1e-9);
//! let d10 = result.distances[0].reach.distance_m().unwrap();
//! let lethal = result.distance_to_probability(&ThermalProbit::TSAO_PERRY, 0.01)?;
//! assert!(d10 > 100.0 && lethal.reach.distance_m().unwrap() < d10);
//! # Ok::<(), riskmap_safety::SafetyError>(())
//! ```
//!
//! This crate does no IO (no files, network, async runtime or database).
#![warn(missing_docs)]

pub mod command;
pub mod confidence;
pub mod consequence;
pub mod dense_gas;
pub mod effect;
pub mod erg;
pub mod error;
pub mod fire_zones;
pub mod incident;
pub mod loc;
pub mod qra;
mod quadrature;
pub mod routing;
pub mod rule_set;
pub mod site;
pub mod siting;
pub mod solve;
pub mod targets;

pub use confidence::Confidence;
pub use consequence::{
    BlastCurve, BurningRate, ChineseDamageRadii, ConcentrationUnit, EffectThresholds, Fireball,
    FireballModel, FireballResult, FireballSep, FlameLength, FlameTilt, GaussianPlume,
    GaussianPlumeResult, JetFire, JetFireResult, JetSource, LogProbit, OverpressureProbit,
    OverpressureThreshold, PoolFire, PoolFireRadiation, PoolFireResult, StabilityClass,
    SurfaceEmissivePower, Terrain, ThermalProbit, ThermalThreshold, TntEquivalence, ToxicProbit,
    ToxicProbitTable, ToxicThreshold, Transmissivity, VapourCloudExplosion,
    VapourCloudExplosionResult,
};
pub use effect::{EffectDistance, EffectModel, EffectQuantity, ModelInfo, Reach};
pub use error::SafetyError;
pub use qra::{
    CONTOUR_LEVELS, FnCurve, FnPoint, GridSpec, IsoRisk, PopulationPoint, QraModel, QraRules,
    RiskField, Scenario, ScenarioSet, SocietalRegion, UnitRelease, Weather, WeatherClass,
    auto_grid, fn_curve, individual_risk_at, individual_risk_field, risk_contours,
    scenarios_for_units,
};
pub use siting::{
    CodeDistance, CodeDistanceTable, ConsequenceZone, Method, MethodChoice, choose_methods,
    explosive_consequence_zone,
};
pub use targets::{
    InstallationStatus, TargetClass, TargetClassRules, classify, classify_target, ir_criterion,
    meets_ir_criterion,
};

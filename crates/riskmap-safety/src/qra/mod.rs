//! Quantitative risk assessment (定量风险评价, GB/T 37243-2019 §6) against the
//! GB 36894-2018 criteria: loss-of-containment scenarios, individual-risk
//! fields and contours, and the F–N curve.
//!
//! All geometry is in a site-local metric frame: metres, x east, y north,
//! origin at the site's reference point. This module does no IO.
//!
//! - [`rules`] — [`QraRules`] from `data/rules/qra-*.toml` (frequencies,
//!   ignition, weather, substance properties, model constants).
//! - [`weather`] — [`Weather`], [`WeatherClass`].
//! - [`scenario`] — [`scenarios_for_units`] → [`ScenarioSet`].
//! - [`lethality`] — the sector method ([`crosswind_integral`],
//!   [`sector_fraction`]).
//! - [`risk`] — [`individual_risk_at`] (direct), [`individual_risk_field`]
//!   (tables), [`auto_grid`], [`RiskField`].
//! - [`contours`] — [`risk_contours`] at [`CONTOUR_LEVELS`].
//! - [`societal`] — [`fn_curve()`].

pub mod contours;
pub mod lethality;
pub mod risk;
pub mod rules;
pub mod scenario;
pub mod societal;
pub mod weather;

pub use contours::{CONTOUR_LEVELS, IsoRisk, risk_contours};
pub use lethality::{MIN_DISTANCE_M, crosswind_integral, sector_fraction, sector_lethality};
pub use risk::{
    GridSpec, QraModel, RiskField, RiskParts, auto_grid, auto_grid_of, field_of,
    individual_risk_at, individual_risk_field, individual_risk_parts_at,
};
pub use rules::{Equipment, FnLine, PhysicalState, QraRules, Reactivity, SubstanceProps};
pub use scenario::{
    Cloud, Outcome, OutcomeKind, OutcomeModel, Scenario, ScenarioKind, ScenarioParams, ScenarioSet,
    SocietalFactors, UnitRelease, scenarios_for_units, synthetic_scenarios,
};
pub use societal::{FnCurve, FnPoint, PopulationPoint, SocietalRegion, fn_curve, fn_curve_with};
pub use weather::{Weather, WeatherClass};

//! Individual risk (个人风险): the direct evaluation (the oracle) and the
//! gridded field.
//!
//! IR(x, y) = Σ_S Σ_M Σ_o f_S·P_M·P_o·[iso_{S,M,o}(r) + rose[k(θ)]·dir_{S,M,o}(r)]
//!
//! with r, θ the distance and bearing from the scenario's release point,
//! `iso` the lethality of isotropic outcomes (pool fire, jet fire and
//! fireball treated as circular, explosion centred on the release point)
//! and `dir` the sector-method lethality of directional outcomes (toxic
//! plume, flash fire) in the sector the point lies in ([`lethality`]).
//!
//! [`QraModel::risk_at`] evaluates the physics directly at a point.
//! [`individual_risk_field`] precomputes, per release point, a log-spaced
//! radial table of the continuous part of `iso`, the exact step
//! discontinuities of `iso` (P = 1 zones), and for each directional outcome
//! a table of `dir(r)/√(1 − r/r_end)` (the sector-method lethality ends
//! like a square root at its reach r_end); each cell is then a few table
//! lookups. Rows are computed in parallel (rayon).
//!
//! [`lethality`]: crate::qra::lethality

use std::f64::consts::PI;

use rayon::prelude::*;
use serde::Serialize;

use crate::consequence::fireball::{Fireball, FireballModel, FireballResult, FireballSep};
use crate::consequence::jet_fire::{JetFire, JetFireResult, JetSource};
use crate::consequence::plume::{
    StabilityClass, Terrain, briggs_sigmas_unchecked, plume_concentration_unchecked,
};
use crate::consequence::pool_fire::{
    BurningRate, FlameLength, FlameTilt, PoolFire, PoolFireRadiation, PoolFireResult,
    SurfaceEmissivePower,
};
use crate::consequence::probit::{probability_from_probit_unchecked, probit_from_probability};
use crate::consequence::toxic_probits::ToxicProbit;
use crate::consequence::transmissivity::Transmissivity;
use crate::consequence::units::STANDARD_ATMOSPHERE_PA;
use crate::consequence::vce::{TntEquivalence, VapourCloudExplosion};
use crate::effect::{EffectModel, Reach};
use crate::error::finite;
use crate::qra::lethality::{
    MIN_DISTANCE_M, crosswind_integral_unchecked, is_pos, sector_lethality_unchecked,
};
use crate::qra::scenario::{Cloud, OutcomeModel, Scenario, ScenarioParams};
use crate::qra::weather::{Weather, sector_of};
use crate::solve::outer_distance;
use crate::{SafetyError, ThermalProbit};

/// Far limit of every distance search, m.
pub(crate) const MAX_REACH_M: f64 = 100_000.0;

/// Lethality below which a thermal tail is cut (its IR contribution is
/// below 1e-10 × f, far under any criterion).
const THERMAL_TAIL_P: f64 = 1e-10;

/// Nodes of the log-spaced isotropic table.
const N_ISO: usize = 2048;
/// Nodes of each directional table.
const N_DIR: usize = 512;

/// A regular grid in the site-local frame: cell centres at
/// (x0 + (i + ½)·cell, y0 + (j + ½)·cell), i < nx, j < ny.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct GridSpec {
    /// West edge, m.
    pub x0_m: f64,
    /// South edge, m.
    pub y0_m: f64,
    /// Cell size, m.
    pub cell_m: f64,
    /// Columns.
    pub nx: usize,
    /// Rows.
    pub ny: usize,
}

impl GridSpec {
    /// Check the grid: a finite origin, a cell size that is a finite
    /// positive number of metres and at least one cell each way (an empty
    /// grid would show no risk anywhere).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] naming the field.
    pub fn validate(&self) -> Result<(), SafetyError> {
        finite("grid.x0_m", self.x0_m)?;
        finite("grid.y0_m", self.y0_m)?;
        crate::error::positive("grid.cell_m", self.cell_m)?;
        for (field, n) in [("grid.nx", self.nx), ("grid.ny", self.ny)] {
            if n == 0 {
                return Err(SafetyError::InvalidInput {
                    field,
                    value: 0.0,
                    expected: "at least 1 cell",
                });
            }
        }
        Ok(())
    }

    /// Centre of cell (i, j).
    pub fn centre(&self, i: usize, j: usize) -> (f64, f64) {
        (
            self.x0_m + (i as f64 + 0.5) * self.cell_m,
            self.y0_m + (j as f64 + 0.5) * self.cell_m,
        )
    }
}

/// Individual risk on a grid, per year.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RiskField {
    /// The grid.
    pub grid: GridSpec,
    /// IR at the cell centres, row-major (`j·nx + i`, j = 0 south).
    pub values: Vec<f64>,
}

impl RiskField {
    /// Check the grid and that there is one finite value ≥ 0 per cell.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for a bad grid ([`GridSpec::validate`]),
    /// a value count other than nx·ny, or a value that is NaN, infinite or
    /// negative.
    pub fn validate(&self) -> Result<(), SafetyError> {
        let g = &self.grid;
        g.validate()?;
        if self.values.len() != g.nx * g.ny {
            return Err(SafetyError::InvalidInput {
                field: "values",
                value: self.values.len() as f64,
                expected: "one value per cell (nx·ny)",
            });
        }
        if let Some(&v) = self.values.iter().find(|v| !(v.is_finite() && **v >= 0.0)) {
            return Err(SafetyError::InvalidInput {
                field: "values",
                value: v,
                expected: "individual risks that are finite numbers ≥ 0",
            });
        }
        Ok(())
    }

    /// IR at (x, y) by bilinear interpolation between cell centres (the
    /// nearest edge value within half a cell of the border). The grid
    /// resolves the field only to a cell: use [`individual_risk_at`] for the
    /// value at a named place.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for a non-finite coordinate or an
    /// invalid field ([`RiskField::validate`]); [`SafetyError::BeyondRange`]
    /// for a point outside the grid (the field does not know the risk there;
    /// it is not 0).
    pub fn value_at(&self, x_m: f64, y_m: f64) -> Result<f64, SafetyError> {
        let x_m = finite("x_m", x_m)?;
        let y_m = finite("y_m", y_m)?;
        let g = &self.grid;
        if g.nx == 0 || g.ny == 0 || self.values.len() != g.nx * g.ny {
            self.validate()?;
        }
        let fx = (x_m - g.x0_m) / g.cell_m - 0.5;
        let fy = (y_m - g.y0_m) / g.cell_m - 0.5;
        if !(fx >= -0.5 && fy >= -0.5 && fx <= g.nx as f64 - 0.5 && fy <= g.ny as f64 - 0.5) {
            return Err(SafetyError::BeyondRange {
                field: "value_at",
                detail: format!(
                    "({x_m}, {y_m}) lies outside the grid [{}, {}] × [{}, {}] m",
                    g.x0_m,
                    g.x0_m + g.nx as f64 * g.cell_m,
                    g.y0_m,
                    g.y0_m + g.ny as f64 * g.cell_m
                ),
            });
        }
        let cx = fx.clamp(0.0, (g.nx - 1) as f64);
        let cy = fy.clamp(0.0, (g.ny - 1) as f64);
        let i0 = (cx.floor() as usize).min(g.nx.saturating_sub(2));
        let j0 = (cy.floor() as usize).min(g.ny.saturating_sub(2));
        let i1 = (i0 + 1).min(g.nx - 1);
        let j1 = (j0 + 1).min(g.ny - 1);
        let tx = (cx - i0 as f64).clamp(0.0, 1.0);
        let ty = (cy - j0 as f64).clamp(0.0, 1.0);
        let v = |i: usize, j: usize| self.values[j * g.nx + i];
        let a = v(i0, j0) * (1.0 - tx) + v(i1, j0) * tx;
        let b = v(i0, j1) * (1.0 - tx) + v(i1, j1) * tx;
        let ir = a * (1.0 - ty) + b * ty;
        if !(ir.is_finite() && ir >= 0.0) {
            return Err(SafetyError::InvalidInput {
                field: "values",
                value: ir,
                expected: "individual risks that are finite numbers ≥ 0",
            });
        }
        Ok(ir)
    }

    /// The largest value (0 for an empty field).
    pub fn max(&self) -> f64 {
        self.values.iter().copied().fold(0.0, f64::max)
    }
}

/// The two parts of the individual risk at a point.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RiskParts {
    /// From isotropic outcomes (fires, fireballs, explosions), /yr.
    pub isotropic: f64,
    /// From directional outcomes (toxic plumes, flash fires), /yr.
    pub directional: f64,
}

impl RiskParts {
    /// The total.
    pub fn total(&self) -> f64 {
        self.isotropic + self.directional
    }
}

// ---------------------------------------------------------------------------
// Outcome physics per weather class.

#[derive(Debug, Clone)]
pub(crate) enum Flux {
    Pool(Box<PoolFireResult>),
    Jet(Box<JetFireResult>),
    Fireball(Box<FireballResult>),
}

impl Flux {
    fn at(&self, r: f64) -> f64 {
        match self {
            Flux::Pool(p) => p.effect_at_unchecked(r),
            Flux::Jet(j) => j.effect_at_unchecked(r),
            Flux::Fireball(f) => f.effect_at_unchecked(r),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum IsoKind {
    /// A fire: P = 1 for r ≤ r_lethal, else the thermal probit, 0 beyond reach.
    Thermal {
        flux: Flux,
        exposure_s: f64,
        probit: ThermalProbit,
        r_lethal: f64,
        reach: f64,
        /// 1 − P_probit(r_lethal): the jump at r_lethal.
        jump: f64,
        /// Outdoor factor of the F–N curve below the lethal flux.
        fn_outdoor_factor: f64,
    },
    /// An explosion: P = 1 for r ≤ r_lethal (outdoors and indoors); indoors
    /// `indoor_p` for r ≤ r_indoor (F–N only).
    Disc {
        r_lethal: f64,
        r_indoor: f64,
        indoor_p: f64,
    },
}

impl IsoKind {
    /// Outdoor lethality (IR).
    fn lethality(&self, r: f64) -> f64 {
        let r = r.max(MIN_DISTANCE_M);
        match self {
            IsoKind::Thermal {
                flux,
                exposure_s,
                probit,
                r_lethal,
                reach,
                ..
            } => {
                if r <= *r_lethal {
                    1.0
                } else if r > *reach {
                    0.0
                } else {
                    probit.probability_unchecked(flux.at(r), *exposure_s)
                }
            }
            IsoKind::Disc { r_lethal, .. } => f64::from(u8::from(r <= *r_lethal)),
        }
    }

    /// The continuous part: lethality minus its steps.
    fn smooth(&self, r: f64) -> f64 {
        let rc = r.max(MIN_DISTANCE_M);
        match self {
            IsoKind::Thermal { r_lethal, jump, .. } => {
                let l = self.lethality(r);
                if rc <= *r_lethal { l - jump } else { l }
            }
            IsoKind::Disc { .. } => 0.0,
        }
    }

    /// Steps (radius, jump): lethality = smooth + Σ jump·[r ≤ radius].
    fn steps(&self) -> Vec<(f64, f64)> {
        match self {
            IsoKind::Thermal { r_lethal, jump, .. } => vec![(*r_lethal, *jump)],
            IsoKind::Disc { r_lethal, .. } => vec![(*r_lethal, 1.0)],
        }
    }

    fn reach(&self) -> f64 {
        match self {
            IsoKind::Thermal { reach, .. } => *reach,
            IsoKind::Disc { r_lethal, .. } => *r_lethal,
        }
    }

    /// (outdoor, indoor) lethality for the F–N curve (PB Table 5.3).
    fn societal(&self, r: f64) -> (f64, f64) {
        let rc = r.max(MIN_DISTANCE_M);
        match self {
            IsoKind::Thermal {
                r_lethal,
                fn_outdoor_factor,
                ..
            } => {
                if rc <= *r_lethal {
                    (1.0, 1.0)
                } else {
                    (fn_outdoor_factor * self.lethality(r), 0.0)
                }
            }
            IsoKind::Disc {
                r_lethal,
                r_indoor,
                indoor_p,
            } => {
                if rc <= *r_lethal {
                    (1.0, 1.0)
                } else if rc <= *r_indoor {
                    (0.0, *indoor_p)
                } else {
                    (0.0, 0.0)
                }
            }
        }
    }
}

/// A dispersing cloud in one weather class.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geom {
    /// Continuous rate (kg/s) for a plume; mass (kg) for a puff.
    amount: f64,
    puff: bool,
    u: f64,
    stability: StabilityClass,
    terrain: Terrain,
    h: f64,
    z: f64,
}

impl Geom {
    /// (concentration on the centreline, σy) at downwind x: the steady
    /// plume concentration, or the peak concentration of a puff with σx = σy.
    fn centre(&self, x: f64) -> (f64, f64) {
        let x = x.max(MIN_DISTANCE_M);
        let (sy, sz) = briggs_sigmas_unchecked(self.stability, self.terrain, x);
        if self.puff {
            let vertical = (-(self.z - self.h).powi(2) / (2.0 * sz * sz)).exp()
                + (-(self.z + self.h).powi(2) / (2.0 * sz * sz)).exp();
            let c = self.amount / ((2.0 * PI).powf(1.5) * sy * sy * sz) * vertical;
            (c, sy)
        } else {
            (
                plume_concentration_unchecked(self.amount, self.u, sy, sz, 0.0, self.z, self.h),
                sy,
            )
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum DirKind {
    Toxic {
        geom: Geom,
        probit: Box<ToxicProbit>,
        /// Exposure of a plume (s); unused for a puff.
        exposure_s: f64,
        y_cut: f64,
        cutoff: f64,
        indoor_factor: f64,
    },
    Flash {
        geom: Geom,
        lfl: f64,
    },
}

impl DirKind {
    /// (P_cl, σy, Y_cl) on the centreline of a toxic cloud.
    fn toxic_centre(geom: &Geom, probit: &ToxicProbit, exposure_s: f64, x: f64) -> (f64, f64, f64) {
        let (c, sy) = geom.centre(x);
        let cu = probit.to_unit_unchecked(c);
        let t_min = if geom.puff {
            sy * (2.0 * PI / probit.n).sqrt() / geom.u / 60.0
        } else {
            exposure_s / 60.0
        };
        let dose = cu.powf(probit.n) * t_min;
        if !is_pos(dose) {
            return (0.0, sy, f64::NEG_INFINITY);
        }
        let y = probit.a + probit.b * dose.ln();
        (probability_from_probit_unchecked(y), sy, y)
    }

    /// Centreline lethality (toxic) or inside-LFL indicator (flash).
    fn centreline(&self, x: f64) -> f64 {
        match self {
            DirKind::Toxic {
                geom,
                probit,
                exposure_s,
                cutoff,
                ..
            } => {
                let p = Self::toxic_centre(geom, probit, *exposure_s, x).0;
                if p >= *cutoff { p } else { 0.0 }
            }
            DirKind::Flash { geom, lfl } => f64::from(u8::from(geom.centre(x).0 >= *lfl)),
        }
    }

    /// The sector-method lethality at distance r (r ≤ r_end assumed).
    fn sector(&self, r: f64, n: usize) -> f64 {
        let rc = r.max(MIN_DISTANCE_M);
        match self {
            DirKind::Toxic {
                geom,
                probit,
                exposure_s,
                y_cut,
                cutoff,
                ..
            } => {
                let (p, sy, y) = Self::toxic_centre(geom, probit, *exposure_s, rc);
                if p < *cutoff {
                    return 0.0;
                }
                let pi = crosswind_integral_unchecked(y, probit.b * probit.n, sy, *y_cut);
                sector_lethality_unchecked(p, pi, rc, n)
            }
            DirKind::Flash { geom, lfl } => {
                let (c, sy) = geom.centre(rc);
                if c < *lfl {
                    return 0.0;
                }
                let width = 2.0 * sy * (2.0 * (c / lfl).ln()).sqrt();
                sector_lethality_unchecked(1.0, width, rc, n)
            }
        }
    }

    /// (outdoor, indoor) lethality at downwind x, crosswind y (F–N).
    fn societal(&self, x: f64, y: f64) -> (f64, f64) {
        if x <= 0.0 {
            return (0.0, 0.0);
        }
        match self {
            DirKind::Toxic {
                geom,
                probit,
                exposure_s,
                y_cut,
                indoor_factor,
                ..
            } => {
                let (_, sy, ycl) = Self::toxic_centre(geom, probit, *exposure_s, x);
                let yy = ycl - probit.b * probit.n * y * y / (2.0 * sy * sy);
                if yy < *y_cut {
                    return (0.0, 0.0);
                }
                let p = probability_from_probit_unchecked(yy);
                (p, indoor_factor * p)
            }
            DirKind::Flash { geom, lfl } => {
                let (c, sy) = geom.centre(x);
                let inside = c * (-(y * y) / (2.0 * sy * sy)).exp() >= *lfl;
                let p = f64::from(u8::from(inside));
                (p, p)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct IsoComp {
    pub(crate) weight: f64,
    pub(crate) class: usize,
    pub(crate) kind: IsoKind,
}

#[derive(Debug, Clone)]
pub(crate) struct DirComp {
    pub(crate) weight: f64,
    pub(crate) class: usize,
    pub(crate) kind: DirKind,
    pub(crate) r_end: f64,
}

impl IsoComp {
    /// (outdoor, indoor) lethality at distance r for the F–N curve.
    pub(crate) fn kind_societal(&self, r: f64) -> (f64, f64) {
        self.kind.societal(r)
    }
}

impl DirComp {
    /// (outdoor, indoor) lethality at (downwind, crosswind) for the F–N curve.
    pub(crate) fn kind_societal(&self, down: f64, cross: f64) -> (f64, f64) {
        self.kind.societal(down, cross)
    }
}

/// All outcomes of the scenarios at one release point.
#[derive(Debug, Clone)]
pub(crate) struct ReleasePoint {
    pub(crate) x: f64,
    pub(crate) y: f64,
    /// Frequency-weighted (f·P_M·P_o) weight of each scenario in it, for F–N.
    pub(crate) iso: Vec<IsoComp>,
    pub(crate) dir: Vec<DirComp>,
}

/// Scenarios prepared for evaluation in a weather: the physics of every
/// outcome in every class, grouped by release point.
#[derive(Debug, Clone)]
pub struct QraModel {
    pub(crate) points: Vec<ReleasePoint>,
    pub(crate) rose: Vec<f64>,
    pub(crate) n_sectors: usize,
    pub(crate) daytime: Vec<bool>,
}

fn reach_of(r: Reach) -> f64 {
    match r {
        Reach::NotReached => 0.0,
        Reach::Within { distance_m } => distance_m,
        Reach::BeyondRange { max_distance_m } => max_distance_m,
    }
}

fn thermal(
    flux: Flux,
    exposure_s: f64,
    params: &ScenarioParams,
    engulf_m: f64,
) -> Result<Option<IsoKind>, SafetyError> {
    let probit = params.lethality.thermal_probit.probit();
    let f = |r: f64| flux.at(r);
    let r35 = reach_of(outer_distance(
        f,
        params.lethality.fire_lethal_flux_w_m2,
        MIN_DISTANCE_M,
        MAX_REACH_M,
    ));
    let r_lethal = r35.max(engulf_m);
    let tail_flux = probit.flux_for_probability(THERMAL_TAIL_P, exposure_s)?;
    let reach = reach_of(outer_distance(f, tail_flux, MIN_DISTANCE_M, MAX_REACH_M)).max(r_lethal);
    if reach <= 0.0 {
        return Ok(None);
    }
    let p_edge = if r_lethal > 0.0 {
        probit.probability_unchecked(flux.at(r_lethal), exposure_s)
    } else {
        1.0
    };
    Ok(Some(IsoKind::Thermal {
        flux,
        exposure_s,
        probit,
        r_lethal,
        reach,
        jump: (1.0 - p_edge).max(0.0),
        fn_outdoor_factor: params.societal.fire_outdoor_factor,
    }))
}

/// Resolve a cloud in a weather class: (amount, puff, duration).
fn resolve_cloud(cloud: &Cloud, u: f64) -> (f64, bool, f64) {
    match *cloud {
        Cloud::Continuous {
            rate_kg_s,
            duration_s,
        } => (rate_kg_s, false, duration_s),
        Cloud::Instantaneous { mass_kg } => (mass_kg, true, 0.0),
        Cloud::Pool {
            area_m2,
            saturation_kg_m3,
            mass_kg,
            max_rate_kg_s,
            schmidt_number,
        } => {
            // Mackay & Matsugu (1973), SI form: k = 0.004786·u^0.78·D^−0.11·Sc^−0.67.
            let d = (4.0 * area_m2 / PI).sqrt().max(0.1);
            let k = 0.004_786 * u.powf(0.78) * d.powf(-0.11) * schmidt_number.powf(-0.67);
            let rate = (k * area_m2 * saturation_kg_m3).min(max_rate_kg_s);
            let duration = if rate > 0.0 { mass_kg / rate } else { 0.0 };
            (rate, false, duration)
        }
    }
}

impl QraModel {
    /// Prepare `scenarios` for evaluation in `weather`.
    ///
    /// # Errors
    /// - the errors of [`Weather::validate`] (class probabilities or a wind
    ///   rose that do not sum to 1, NaN or negative entries, no class);
    /// - [`SafetyError::InvalidItem`] naming the scenario (and outcome) for
    ///   anything [`Scenario::validate`] refuses — a NaN frequency is an
    ///   error, never a scenario silently left out — and for an outcome
    ///   whose consequence model refuses its inputs in a weather class.
    pub fn new(scenarios: &[Scenario], weather: &Weather) -> Result<QraModel, SafetyError> {
        weather.validate()?;
        for s in scenarios {
            s.validate()?;
        }
        let n = weather.n_sectors();
        let rose: Vec<f64> = weather.wind_rose.clone();
        let mut points: Vec<ReleasePoint> = Vec::new();
        for s in scenarios {
            if s.frequency_per_year <= 0.0 {
                continue;
            }
            let idx = match points.iter().position(|p| p.x == s.x_m && p.y == s.y_m) {
                Some(i) => i,
                None => {
                    points.push(ReleasePoint {
                        x: s.x_m,
                        y: s.y_m,
                        iso: Vec::new(),
                        dir: Vec::new(),
                    });
                    points.len() - 1
                }
            };
            for (class, wc) in weather.classes.iter().enumerate() {
                if wc.probability <= 0.0 {
                    continue;
                }
                for (i, o) in s.outcomes.iter().enumerate() {
                    let weight = s.frequency_per_year * wc.probability * o.probability;
                    if weight <= 0.0 {
                        continue;
                    }
                    let prepared = prepare(o, s, wc.stability, wc.wind_speed_m_s, weather.terrain)
                        .map_err(|e| {
                            e.in_item(format!(
                                "scenario `{}` outcome {i} ({:?}) in weather class `{}`",
                                s.id, o.kind, wc.id
                            ))
                        })?;
                    match prepared {
                        Prepared::Iso(kind) => points[idx].iso.push(IsoComp {
                            weight,
                            class,
                            kind,
                        }),
                        Prepared::Dir(kind, r_end) => points[idx].dir.push(DirComp {
                            weight,
                            class,
                            kind,
                            r_end,
                        }),
                        Prepared::Nothing => {}
                    }
                }
            }
        }
        Ok(QraModel {
            points,
            rose,
            n_sectors: n,
            daytime: weather.classes.iter().map(|c| c.daytime).collect(),
        })
    }

    /// IR at (x, y), by direct evaluation of every outcome. Within
    /// [`MIN_DISTANCE_M`] of a release point (including at it) the
    /// isotropic outcomes are evaluated at that distance, and at the
    /// release point itself, which has no bearing, directional outcomes
    /// take the most frequent sector.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless x and y are finite (a NaN
    /// point is never read as a point near a release).
    pub fn risk_at(&self, x_m: f64, y_m: f64) -> Result<f64, SafetyError> {
        Ok(self.parts_at(x_m, y_m)?.total())
    }

    /// The isotropic and directional parts of the IR at (x, y).
    ///
    /// # Errors
    /// As [`QraModel::risk_at`].
    pub fn parts_at(&self, x_m: f64, y_m: f64) -> Result<RiskParts, SafetyError> {
        let x_m = finite("x_m", x_m)?;
        let y_m = finite("y_m", y_m)?;
        Ok(self.parts_at_unchecked(x_m, y_m))
    }

    /// The probability of the sector from a release point to (dx, dy); the
    /// largest sector's at the release point itself.
    fn rose_at(&self, dx: f64, dy: f64) -> f64 {
        if dx == 0.0 && dy == 0.0 {
            self.rose.iter().copied().fold(0.0, f64::max)
        } else {
            self.rose
                .get(sector_of(dx, dy, self.n_sectors))
                .copied()
                .unwrap_or(0.0)
        }
    }

    fn parts_at_unchecked(&self, x_m: f64, y_m: f64) -> RiskParts {
        let mut iso = 0.0;
        let mut dir = 0.0;
        for p in &self.points {
            let (dx, dy) = (x_m - p.x, y_m - p.y);
            let r = (dx * dx + dy * dy).sqrt();
            for c in &p.iso {
                iso += c.weight * c.kind.lethality(r);
            }
            let rc = r.max(MIN_DISTANCE_M);
            let mut d = 0.0;
            for c in &p.dir {
                if rc <= c.r_end {
                    d += c.weight * c.kind.sector(r, self.n_sectors);
                }
            }
            if d > 0.0 {
                dir += self.rose_at(dx, dy) * d;
            }
        }
        RiskParts {
            isotropic: iso,
            directional: dir,
        }
    }
}

enum Prepared {
    Iso(IsoKind),
    Dir(DirKind, f64),
    Nothing,
}

fn prepare(
    o: &crate::qra::scenario::Outcome,
    s: &Scenario,
    stability: StabilityClass,
    u: f64,
    terrain: Terrain,
) -> Result<Prepared, SafetyError> {
    let params = &s.params;
    let le = &params.lethality;
    let geom_of = |cloud: &Cloud| -> (Geom, f64) {
        let (amount, puff, duration) = resolve_cloud(cloud, u);
        (
            Geom {
                amount,
                puff,
                u,
                stability,
                terrain,
                h: params.release_height_m,
                z: params.receptor_height_m,
            },
            duration,
        )
    };
    Ok(match &o.model {
        OutcomeModel::PoolFire {
            diameter_m,
            burning_rate_kg_m2_s,
            heat_of_combustion_j_per_kg,
        } => {
            let r = PoolFire {
                diameter_m: *diameter_m,
                heat_of_combustion_j_per_kg: *heat_of_combustion_j_per_kg,
                burning_rate: BurningRate::Given {
                    kg_per_m2_s: *burning_rate_kg_m2_s,
                },
                flame_length: FlameLength::ThomasStillAir,
                tilt: FlameTilt::Vertical,
                wind_speed_m_per_s: 0.0,
                radiation: PoolFireRadiation::SolidFlame {
                    sep: SurfaceEmissivePower::Mudan,
                },
                air_density_kg_per_m3: 1.2,
                transmissivity: Transmissivity::Fixed { tau: 1.0 },
            }
            .evaluate(&[])?;
            // Weather-independent: same in every class.
            match thermal(
                Flux::Pool(Box::new(r)),
                le.fire_max_exposure_s,
                params,
                diameter_m / 2.0,
            )? {
                Some(k) => Prepared::Iso(k),
                None => Prepared::Nothing,
            }
        }
        OutcomeModel::JetFire {
            mass_rate_kg_s,
            heat_of_combustion_j_per_kg,
            radiative_fraction,
            duration_s,
        } => {
            let r = JetFire {
                mass_rate_kg_per_s: *mass_rate_kg_s,
                heat_of_combustion_j_per_kg: *heat_of_combustion_j_per_kg,
                radiative_fraction: *radiative_fraction,
                source: JetSource::AtRelease,
                transmissivity: Transmissivity::Fixed { tau: 1.0 },
            }
            .evaluate(&[])?;
            let t = duration_s.min(le.fire_max_exposure_s).max(1e-3);
            match thermal(Flux::Jet(Box::new(r)), t, params, 0.0)? {
                Some(k) => Prepared::Iso(k),
                None => Prepared::Nothing,
            }
        }
        OutcomeModel::Fireball {
            mass_kg,
            vessel_pressure_pa,
            heat_of_combustion_j_per_kg,
        } => {
            let r = Fireball {
                mass_kg: *mass_kg,
                model: FireballModel::Ccps {
                    sep: FireballSep::FromPressure {
                        vessel_pressure_pa: *vessel_pressure_pa,
                        heat_of_combustion_j_per_kg: *heat_of_combustion_j_per_kg,
                    },
                    transmissivity: Transmissivity::Fixed { tau: 1.0 },
                },
            }
            .evaluate(&[])?;
            let t = r.duration_s.min(le.fire_max_exposure_s);
            match thermal(Flux::Fireball(Box::new(r)), t, params, 0.0)? {
                Some(k) => Prepared::Iso(k),
                None => Prepared::Nothing,
            }
        }
        OutcomeModel::Explosion {
            cloud,
            lfl_kg_m3,
            heat_of_combustion_j_per_kg,
        } => {
            let (geom, duration) = geom_of(cloud);
            let mass = if geom.puff {
                geom.amount * params.instantaneous_flammable_fraction
            } else {
                let x_lfl = reach_of(outer_distance(
                    |x| geom.centre(x).0,
                    *lfl_kg_m3,
                    MIN_DISTANCE_M,
                    MAX_REACH_M,
                ));
                (geom.amount * x_lfl / u).min(geom.amount * duration)
            };
            if !is_pos(mass) || !is_pos(*heat_of_combustion_j_per_kg) {
                return Ok(Prepared::Nothing);
            }
            let ex = &params.explosion;
            let vce = VapourCloudExplosion {
                tnt: TntEquivalence::VapourCloud {
                    fuel_mass_kg: mass,
                    heat_of_combustion_j_per_kg: *heat_of_combustion_j_per_kg,
                    yield_factor: ex.yield_factor,
                    tnt_blast_energy_j_per_kg: ex.tnt_blast_energy_j_per_kg,
                    ground_burst_factor: ex.ground_burst_factor,
                },
                curve: ex.curve,
                ambient_pressure_pa: STANDARD_ATMOSPHERE_PA,
            }
            .evaluate(&[
                le.explosion_lethal_overpressure_pa,
                le.explosion_indoor_overpressure_pa,
            ])?;
            let r_lethal = reach_of(vce.distances[0].reach);
            let r_indoor = reach_of(vce.distances[1].reach).max(r_lethal);
            if r_indoor <= 0.0 {
                Prepared::Nothing
            } else {
                Prepared::Iso(IsoKind::Disc {
                    r_lethal,
                    r_indoor,
                    indoor_p: le.explosion_indoor_lethality,
                })
            }
        }
        OutcomeModel::FlashFire { cloud, lfl_kg_m3 } => {
            let (geom, _) = geom_of(cloud);
            if !is_pos(geom.amount) {
                return Ok(Prepared::Nothing);
            }
            let kind = DirKind::Flash {
                geom,
                lfl: *lfl_kg_m3,
            };
            dir_with_end(kind)
        }
        OutcomeModel::Toxic { cloud, probit } => {
            let (geom, duration) = geom_of(cloud);
            if !is_pos(geom.amount) {
                return Ok(Prepared::Nothing);
            }
            let y_cut = probit_from_probability(le.toxic_cutoff_probability)?;
            let kind = DirKind::Toxic {
                geom,
                probit: probit.clone(),
                exposure_s: duration.min(le.toxic_max_exposure_s).max(1.0),
                y_cut,
                cutoff: le.toxic_cutoff_probability,
                indoor_factor: params.societal.toxic_indoor_factor,
            };
            dir_with_end(kind)
        }
    })
}

fn dir_with_end(kind: DirKind) -> Prepared {
    let r_end = reach_of(outer_distance(
        |x| kind.centreline(x),
        f64::MIN_POSITIVE,
        MIN_DISTANCE_M,
        MAX_REACH_M,
    ));
    if r_end > MIN_DISTANCE_M {
        Prepared::Dir(kind, r_end)
    } else {
        Prepared::Nothing
    }
}

// ---------------------------------------------------------------------------
// Tables.

/// A directional outcome tabulated in two pieces: log-spaced in r on
/// [1 m, r_end/2], and uniform in v = √(1 − r/r_end) on [r_end/2, r_end],
/// where the sector-method lethality ends like a square root (so it is
/// close to linear in v).
struct DirTable {
    r_end: f64,
    weight: f64,
    /// Inner piece: dir at r = exp(i·δ_in), i ≤ N_DIR.
    inner: Vec<f64>,
    inv_delta_in: f64,
    /// Outer piece: dir at v = v_mid·i/N_DIR, i ≤ N_DIR, v_mid = √½.
    outer: Vec<f64>,
}

const V_MID: f64 = std::f64::consts::FRAC_1_SQRT_2;

impl DirTable {
    fn build(c: &DirComp, n_sectors: usize) -> DirTable {
        let r_mid = 0.5 * c.r_end;
        let ln_mid = r_mid.max(MIN_DISTANCE_M).ln().max(1e-9);
        let delta_in = ln_mid / N_DIR as f64;
        let inner = (0..=N_DIR)
            .map(|i| c.kind.sector((i as f64 * delta_in).exp(), n_sectors))
            .collect();
        let outer = (0..=N_DIR)
            .map(|i| {
                let v = V_MID * i as f64 / N_DIR as f64;
                let r = c.r_end * (1.0 - v * v);
                c.kind.sector(r, n_sectors)
            })
            .collect();
        DirTable {
            r_end: c.r_end,
            weight: c.weight,
            inner,
            inv_delta_in: 1.0 / delta_in,
            outer,
        }
    }

    /// dir at distance `rc` (≥ 1 m, ≤ r_end); `ln_rc` = ln(rc).
    #[inline]
    fn at(&self, rc: f64, ln_rc: f64) -> f64 {
        if rc <= 0.5 * self.r_end {
            let t = ln_rc * self.inv_delta_in;
            let i = (t.max(0.0).floor() as usize).min(N_DIR - 1);
            let f = (t - i as f64).clamp(0.0, 1.0);
            self.inner[i] + f * (self.inner[i + 1] - self.inner[i])
        } else {
            let v = (1.0 - rc / self.r_end).max(0.0).sqrt();
            let t = v / V_MID * N_DIR as f64;
            let i = (t.floor() as usize).min(N_DIR - 1);
            let f = (t - i as f64).clamp(0.0, 1.0);
            self.outer[i] + f * (self.outer[i + 1] - self.outer[i])
        }
    }
}

struct PointTable {
    x: f64,
    y: f64,
    /// Bounding radius: nothing beyond.
    r_max: f64,
    r_iso: f64,
    /// ln of the continuous isotropic part at r = exp(i·δ), i ≤ N_ISO.
    ln_iso: Vec<f64>,
    iso: Vec<f64>,
    inv_delta: f64,
    /// Step radii ascending and suffix sums of their weighted jumps.
    step_r: Vec<f64>,
    step_suffix: Vec<f64>,
    dir: Vec<DirTable>,
    dir_r_max: f64,
}

impl PointTable {
    fn build(p: &ReleasePoint, n_sectors: usize) -> PointTable {
        let r_iso = p
            .iso
            .iter()
            .map(|c| c.kind.reach())
            .fold(MIN_DISTANCE_M, f64::max);
        let ln_max = r_iso.ln().max(1e-9);
        let delta = ln_max / N_ISO as f64;
        let mut iso = vec![0.0; N_ISO + 1];
        if !p.iso.is_empty() {
            for (i, v) in iso.iter_mut().enumerate() {
                let r = (i as f64 * delta).exp();
                *v = p.iso.iter().map(|c| c.weight * c.kind.smooth(r)).sum();
            }
        }
        let ln_iso = iso
            .iter()
            .map(|&v| if v > 0.0 { v.ln() } else { f64::NEG_INFINITY })
            .collect();
        let mut steps: Vec<(f64, f64)> = p
            .iso
            .iter()
            .flat_map(|c| {
                c.kind
                    .steps()
                    .into_iter()
                    .map(move |(r, j)| (r, j * c.weight))
            })
            .filter(|(r, j)| *r > 0.0 && *j > 0.0)
            .collect();
        steps.sort_by(|a, b| a.0.total_cmp(&b.0));
        let step_r: Vec<f64> = steps.iter().map(|s| s.0).collect();
        let mut step_suffix = vec![0.0; steps.len() + 1];
        for i in (0..steps.len()).rev() {
            step_suffix[i] = step_suffix[i + 1] + steps[i].1;
        }
        let dir: Vec<DirTable> = p
            .dir
            .iter()
            .map(|c| DirTable::build(c, n_sectors))
            .collect();
        let dir_r_max = dir.iter().map(|d| d.r_end).fold(0.0, f64::max);
        PointTable {
            x: p.x,
            y: p.y,
            r_max: r_iso.max(dir_r_max),
            r_iso,
            ln_iso,
            iso,
            inv_delta: 1.0 / delta,
            step_r,
            step_suffix,
            dir,
            dir_r_max,
        }
    }

    /// (isotropic, directional before the rose) at distance r.
    #[inline]
    fn radial(&self, r: f64) -> (f64, f64) {
        let rc = r.max(MIN_DISTANCE_M);
        let ln_rc = rc.ln();
        let mut iso = 0.0;
        if rc <= self.r_iso {
            let t = ln_rc * self.inv_delta;
            let i = (t.floor() as usize).min(N_ISO - 1);
            let f = t - i as f64;
            let (l0, l1) = (self.ln_iso[i], self.ln_iso[i + 1]);
            iso = if l0.is_finite() && l1.is_finite() {
                (l0 + f * (l1 - l0)).exp()
            } else {
                self.iso[i] + f * (self.iso[i + 1] - self.iso[i])
            };
        }
        let k = self.step_r.partition_point(|&s| s < rc);
        iso += self.step_suffix[k];
        let mut dir = 0.0;
        if rc <= self.dir_r_max {
            for d in &self.dir {
                if rc <= d.r_end {
                    dir += d.weight * d.at(rc, ln_rc);
                }
            }
        }
        (iso, dir)
    }
}

/// IR at (x, y) by direct evaluation: the oracle the gridded field is
/// tested against. Prepares the model on every call; for many points use
/// [`QraModel::risk_at`].
///
/// # Errors
/// As [`QraModel::new`] and [`QraModel::risk_at`].
pub fn individual_risk_at(
    scenarios: &[Scenario],
    weather: &Weather,
    x_m: f64,
    y_m: f64,
) -> Result<f64, SafetyError> {
    QraModel::new(scenarios, weather)?.risk_at(x_m, y_m)
}

/// The isotropic and directional parts of the IR at (x, y) (direct).
///
/// # Errors
/// As [`individual_risk_at`].
pub fn individual_risk_parts_at(
    scenarios: &[Scenario],
    weather: &Weather,
    x_m: f64,
    y_m: f64,
) -> Result<RiskParts, SafetyError> {
    QraModel::new(scenarios, weather)?.parts_at(x_m, y_m)
}

fn tables(model: &QraModel) -> Vec<PointTable> {
    model
        .points
        .par_iter()
        .map(|p| PointTable::build(p, model.n_sectors))
        .collect()
}

/// IR at every cell centre of `grid`.
///
/// # Errors
/// As [`QraModel::new`] and [`field_of`].
pub fn individual_risk_field(
    scenarios: &[Scenario],
    weather: &Weather,
    grid: &GridSpec,
) -> Result<RiskField, SafetyError> {
    grid.validate()?;
    let model = QraModel::new(scenarios, weather)?;
    field_of(&model, grid)
}

/// IR at every cell centre of `grid`, for a prepared model.
///
/// # Errors
/// [`SafetyError::InvalidInput`] for a grid [`GridSpec::validate`] refuses.
pub fn field_of(model: &QraModel, grid: &GridSpec) -> Result<RiskField, SafetyError> {
    grid.validate()?;
    let tabs = tables(model);
    let g = *grid;
    let mut values = vec![0.0; g.nx * g.ny];
    values
        .par_chunks_mut(g.nx)
        .enumerate()
        .for_each(|(j, row)| {
            let y = g.y0_m + (j as f64 + 0.5) * g.cell_m;
            for t in &tabs {
                let dy = y - t.y;
                if dy.abs() > t.r_max {
                    continue;
                }
                let half = (t.r_max * t.r_max - dy * dy).max(0.0).sqrt();
                // Columns whose centre lies within r_max of the point.
                let lo = ((t.x - half - g.x0_m) / g.cell_m - 0.5).ceil().max(0.0) as usize;
                let hi_f = ((t.x + half - g.x0_m) / g.cell_m - 0.5).floor();
                if hi_f < 0.0 {
                    continue;
                }
                let hi = (hi_f as usize).min(g.nx - 1);
                for (i, cell) in row.iter_mut().enumerate().take(hi + 1).skip(lo) {
                    let x = g.x0_m + (i as f64 + 0.5) * g.cell_m;
                    let dx = x - t.x;
                    let r = (dx * dx + dy * dy).sqrt();
                    let (iso, dir) = t.radial(r);
                    let mut v = iso;
                    if dir > 0.0 {
                        v += model.rose_at(dx, dy) * dir;
                    }
                    *cell += v;
                }
            }
        });
    Ok(RiskField { grid: g, values })
}

/// A grid covering every point where the IR can be ≥ `min_level`, with at
/// most `max_cells_per_side` cells along its longer side (square cells).
///
/// For each of the K release points the radius R is found beyond which its
/// own envelope iso(r) + max(rose)·dir(r) stays below `min_level`/K; every
/// point outside all these discs has IR < `min_level`. The grid is the
/// bounding box of the discs plus one cell. With nothing above the level it
/// is a single 10 m cell at the centroid of the scenarios (or the origin).
///
/// # Errors
/// As [`QraModel::new`] and [`auto_grid_of`].
pub fn auto_grid(
    scenarios: &[Scenario],
    weather: &Weather,
    min_level: f64,
    max_cells_per_side: usize,
) -> Result<GridSpec, SafetyError> {
    let model = QraModel::new(scenarios, weather)?;
    auto_grid_of(&model, min_level, max_cells_per_side)
}

/// [`auto_grid`] for a prepared model.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless `min_level` is a finite IR > 0 per
/// year and `max_cells_per_side` is at least 1.
pub fn auto_grid_of(
    model: &QraModel,
    min_level: f64,
    max_cells_per_side: usize,
) -> Result<GridSpec, SafetyError> {
    let min_level = crate::error::positive("min_level", min_level)?;
    if max_cells_per_side == 0 {
        return Err(SafetyError::InvalidInput {
            field: "max_cells_per_side",
            value: 0.0,
            expected: "at least 1 cell",
        });
    }
    let tabs = tables(model);
    let k = tabs.len().max(1) as f64;
    let level = min_level / k;
    let rose_max = model.rose.iter().copied().fold(0.0, f64::max);
    let mut bbox: Option<(f64, f64, f64, f64)> = None;
    for t in &tabs {
        let env = |r: f64| {
            let (i, d) = t.radial(r);
            i + rose_max * d
        };
        let r = reach_of(outer_distance(
            env,
            level,
            MIN_DISTANCE_M,
            t.r_max.max(MIN_DISTANCE_M * 2.0),
        ));
        let r = if env(MIN_DISTANCE_M) >= level {
            r.max(MIN_DISTANCE_M)
        } else {
            r
        };
        if r <= 0.0 {
            continue;
        }
        let b = (t.x - r, t.y - r, t.x + r, t.y + r);
        bbox = Some(match bbox {
            None => b,
            Some(a) => (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3)),
        });
    }
    let n = max_cells_per_side.max(1);
    match bbox {
        None => {
            let (cx, cy) = if model.points.is_empty() {
                (0.0, 0.0)
            } else {
                let m = model.points.len() as f64;
                (
                    model.points.iter().map(|p| p.x).sum::<f64>() / m,
                    model.points.iter().map(|p| p.y).sum::<f64>() / m,
                )
            };
            Ok(GridSpec {
                x0_m: cx - 5.0,
                y0_m: cy - 5.0,
                cell_m: 10.0,
                nx: 1,
                ny: 1,
            })
        }
        Some((x0, y0, x1, y1)) => {
            let side = (x1 - x0).max(y1 - y0).max(1.0);
            // One cell of margin on each side.
            let cell = side / (n.saturating_sub(2).max(1)) as f64;
            let nx = (((x1 - x0) / cell).ceil() as usize + 2).min(n).max(1);
            let ny = (((y1 - y0) / cell).ceil() as usize + 2).min(n).max(1);
            let cx = 0.5 * (x0 + x1);
            let cy = 0.5 * (y0 + y1);
            Ok(GridSpec {
                x0_m: cx - 0.5 * nx as f64 * cell,
                y0_m: cy - 0.5 * ny as f64 * cell,
                cell_m: cell,
                nx,
                ny,
            })
        }
    }
}

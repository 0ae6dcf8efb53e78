//! Incident threat zones (应急威胁区) for a toxic gas release, in the manner
//! of ALOHA: red/orange/yellow footprints at the levels of concern
//! ([`crate::loc`]), oriented downwind, with the wind-direction uncertainty
//! drawn, and the model chosen by the workbook's Richardson-number test.
//!
//! Coordinates are metres in a local frame: x east, y north, the source at
//! the origin. The wind is given as meteorologists do, the direction it
//! blows *from* (degrees clockwise from north).
//!
//! Model choice ([`toxic_zones`]): a gas denser than the air at the release
//! (ρ₀ > ρₐ) whose bulk Richardson number passes the Britter–McQuaid test is
//! modelled with [`crate::dense_gas`]; otherwise with the passive Gaussian
//! plume (continuous) or puff (instantaneous, Briggs σ with σx = σy). A
//! continuous release of finite duration is also taken as a puff where
//! u·T_d/x is below the workbook's continuous limit, and the larger distance
//! wins. The answer states the model and why.

use serde::{Deserialize, Serialize};

use crate::consequence::plume::{GaussianPlume, StabilityClass, Terrain, briggs_sigmas_unchecked};
use crate::dense_gas::{DenseGasRelease, DenseGasRules, DenseSource};
use crate::effect::{EffectModel, Reach};
use crate::error::{SafetyError, positive};
use crate::loc::Loc;
use crate::solve::outer_distance;

/// Molar gas constant, J/(mol·K).
const R_GAS: f64 = 8.314_462_618;

/// `data/rules/incident.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentRules {
    /// Wind-direction uncertainty.
    pub wind_uncertainty: WindUncertainty,
    /// Range and duration caps.
    pub limits: Limits,
    /// Zone names in Chinese practice.
    pub zoning: Zoning,
    /// Air.
    pub air: Air,
}

/// Half angle of the wind-direction uncertainty by wind speed.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WindUncertainty {
    /// (m/s, degrees), increasing speed.
    pub points: Vec<[f64; 2]>,
    /// Below this speed the cloud may go anywhere: a full circle.
    pub full_circle_below_m_s: f64,
    /// Confidence.
    pub confidence: String,
}

/// Caps of the answer.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Nothing is reported farther than this, m.
    pub max_distance_m: f64,
    /// Nor later than this, s.
    pub max_duration_s: f64,
    /// Confidence.
    pub confidence: String,
}

/// Names of the zones in Chinese practice.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Zoning {
    /// For red.
    pub red: String,
    /// For orange.
    pub orange: String,
    /// For yellow.
    pub yellow: String,
    /// Confidence.
    pub confidence: String,
    /// Why.
    pub note: String,
}

/// Air.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Air {
    /// g/mol.
    pub molar_mass_g_mol: f64,
    /// Pa.
    pub pressure_pa: f64,
}

impl IncidentRules {
    /// The embedded table.
    pub fn builtin() -> &'static IncidentRules {
        static RULES: std::sync::OnceLock<IncidentRules> = std::sync::OnceLock::new();
        RULES.get_or_init(|| {
            IncidentRules::from_toml_str(riskmap_core::rule_set::text("incident.toml"))
                .unwrap_or_else(|e| panic!("data/rules/incident.toml: {e}"))
        })
    }

    /// Parses and checks a table.
    pub fn from_toml_str(text: &str) -> Result<IncidentRules, SafetyError> {
        let bad = |message: &str| SafetyError::Rules {
            table: "incident.toml",
            message: message.to_string(),
        };
        let r: IncidentRules = riskmap_core::rule_set::from_toml(text).map_err(|e| bad(&e))?;
        let p = &r.wind_uncertainty.points;
        if p.is_empty()
            || p.iter().any(|[u, a]| {
                !(u.is_finite() && *u > 0.0 && a.is_finite() && *a > 0.0 && *a <= 180.0)
            })
            || p.windows(2)
                .any(|w| w[1][0] <= w[0][0] || w[1][1] > w[0][1])
        {
            return Err(bad(
                "wind_uncertainty.points: speeds increasing, angles in (0, 180] not increasing",
            ));
        }
        if !(r.limits.max_distance_m > 0.0 && r.limits.max_duration_s > 0.0) {
            return Err(bad("limits must be > 0"));
        }
        Ok(r)
    }

    /// The half angle (degrees) at wind speed `u`; 180 (a full circle) in
    /// a near calm.
    pub fn uncertainty_deg(&self, u: f64) -> f64 {
        let w = &self.wind_uncertainty;
        if u < w.full_circle_below_m_s {
            return 180.0;
        }
        let p = &w.points;
        if u <= p[0][0] {
            return p[0][1];
        }
        for pair in p.windows(2) {
            let ([u0, a0], [u1, a1]) = (pair[0], pair[1]);
            if u <= u1 {
                return a0 + (u - u0) / (u1 - u0) * (a1 - a0);
            }
        }
        p[p.len() - 1][1]
    }

    /// The zone name of a colour.
    pub fn zone_name(&self, colour: &str) -> &str {
        match colour {
            "red" => &self.zoning.red,
            "orange" => &self.zoning.orange,
            _ => &self.zoning.yellow,
        }
    }
}

/// How the gas is released.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Release {
    /// All at once.
    Instantaneous {
        /// kg.
        mass_kg: f64,
    },
    /// Steadily for a time.
    Continuous {
        /// kg/s.
        rate_kg_s: f64,
        /// s.
        duration_s: f64,
    },
}

/// A toxic gas release at ground level.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ToxicRelease {
    /// The gas's molar mass, g/mol.
    pub molar_mass_g_mol: f64,
    /// The release.
    pub release: Release,
    /// Temperature of the gas as released (the boiling point for a flashing
    /// liquefied gas), K.
    pub release_temperature_k: f64,
    /// Air temperature, K.
    pub ambient_temperature_k: f64,
    /// Wind speed at 10 m, m/s.
    pub wind_speed_m_s: f64,
    /// Direction the wind blows from, degrees clockwise from north.
    pub wind_from_deg: f64,
    /// Pasquill–Gifford class.
    pub stability: StabilityClass,
    /// Rural or urban.
    pub terrain: Terrain,
}

/// One threat zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreatZone {
    /// The level of concern.
    pub loc: Loc,
    /// The zone's name in Chinese practice.
    pub zone_name: String,
    /// How far downwind the level reaches.
    pub reach: Reach,
    /// The footprint, a closed ring in local metres (x east, y north).
    pub footprint: Vec<[f64; 2]>,
    /// Where the footprint may lie given the wind-direction uncertainty:
    /// the footprint swept ± the half angle about the source, a closed ring.
    pub uncertainty_area: Vec<[f64; 2]>,
    /// The two confidence lines from the source, each [start, end].
    pub confidence_lines: [[[f64; 2]; 2]; 2],
}

/// The answer for a toxic release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToxicZones {
    /// `britter_mcquaid_plume`, `britter_mcquaid_puff`, `gaussian_plume`,
    /// `gaussian_puff`, or `not_assessed` ([`ToxicZones::not_assessed`]).
    pub model: &'static str,
    /// Why this model.
    pub reason: String,
    /// Density of the gas at release and of the air, kg/m³.
    pub gas_density_kg_m3: f64,
    /// Air density, kg/m³.
    pub air_density_kg_m3: f64,
    /// Bearing the cloud travels to, degrees clockwise from north.
    pub downwind_deg: f64,
    /// Half angle of the wind-direction uncertainty, degrees.
    pub uncertainty_deg: f64,
    /// Red to yellow.
    pub zones: Vec<ThreatZone>,
    /// Figures used that are not confirmed.
    pub unconfirmed: Vec<String>,
    /// Model limits to show with the zones.
    pub limitations: Vec<String>,
}

impl ToxicZones {
    /// No toxic zones: the substance has no toxic levels of concern on
    /// file (`why` says so). The wind is still read: `downwind_deg` and
    /// the uncertainty half angle are those of the wind given.
    pub fn not_assessed(
        why: String,
        molar_mass_g_mol: f64,
        release_temperature_k: f64,
        ambient_temperature_k: f64,
        wind_from_deg: f64,
        wind_speed_m_s: f64,
        rules: &IncidentRules,
    ) -> ToxicZones {
        let p = rules.air.pressure_pa;
        ToxicZones {
            model: "not_assessed",
            reason: why,
            gas_density_kg_m3: density(molar_mass_g_mol, release_temperature_k, p),
            air_density_kg_m3: density(rules.air.molar_mass_g_mol, ambient_temperature_k, p),
            downwind_deg: (wind_from_deg + 180.0) % 360.0,
            uncertainty_deg: rules.uncertainty_deg(wind_speed_m_s),
            zones: Vec::new(),
            unconfirmed: Vec::new(),
            limitations: Vec::new(),
        }
    }
}

/// Stations along the axis used to draw a footprint.
const STATIONS: usize = 48;

/// Density of an ideal gas, kg/m³.
fn density(molar_mass_g_mol: f64, t_k: f64, p_pa: f64) -> f64 {
    p_pa * molar_mass_g_mol * 1e-3 / (R_GAS * t_k)
}

/// ppm to kg/m³ at the air temperature and pressure.
fn ppm_to_kg_m3(ppm: f64, molar_mass_g_mol: f64, t_k: f64, p_pa: f64) -> f64 {
    ppm * 1e-6 * density(molar_mass_g_mol, t_k, p_pa)
}

/// A model's centre-line level and half-width at a downwind distance.
trait Footprint {
    /// The farthest distance where the centre line reaches `level`.
    fn reach(&self, level: f64) -> Reach;
    /// The half-width at `x` of the region at or above `level`.
    fn half_width(&self, x: f64, level: f64) -> f64;
}

struct Dense {
    s: crate::dense_gas::DenseGasSolution,
}

impl Footprint for Dense {
    fn reach(&self, level: f64) -> Reach {
        self.s
            .distance_to_fraction(level)
            .unwrap_or(Reach::NotReached)
    }
    fn half_width(&self, x: f64, _level: f64) -> f64 {
        // The workbook's cloud is uniform across its width.
        self.s.half_width_m(x).unwrap_or(0.0)
    }
}

struct Plume {
    r: crate::consequence::plume::GaussianPlumeResult,
    max: f64,
}

impl Footprint for Plume {
    fn reach(&self, level: f64) -> Reach {
        self.r
            .distance_to(level)
            .map(|d| d.reach)
            .unwrap_or(Reach::NotReached)
            .clamp_to(self.max)
    }
    fn half_width(&self, x: f64, level: f64) -> f64 {
        self.r.half_width_m(x.max(0.1), level).unwrap_or(0.0)
    }
}

struct Puff {
    mass_kg: f64,
    stability: StabilityClass,
    terrain: Terrain,
    max: f64,
}

impl Puff {
    /// Peak ground-level centre-line concentration at `x` (kg/m³): a ground
    /// puff with reflection, 2M/((2π)^{3/2}σxσyσz), σx = σy.
    fn peak(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return f64::INFINITY;
        }
        let (sy, sz) = briggs_sigmas_unchecked(self.stability, self.terrain, x);
        2.0 * self.mass_kg / ((2.0 * std::f64::consts::PI).powf(1.5) * sy * sy * sz)
    }
}

impl Footprint for Puff {
    fn reach(&self, level: f64) -> Reach {
        outer_distance(|x| self.peak(x), level, 0.1, self.max)
    }
    fn half_width(&self, x: f64, level: f64) -> f64 {
        let c = self.peak(x.max(0.1));
        if c <= level {
            return 0.0;
        }
        let (sy, _) = briggs_sigmas_unchecked(self.stability, self.terrain, x.max(0.1));
        sy * (2.0 * (c / level).ln()).sqrt()
    }
}

trait Clamp {
    fn clamp_to(self, max: f64) -> Reach;
}

impl Clamp for Reach {
    fn clamp_to(self, max: f64) -> Reach {
        match self {
            Reach::Within { distance_m } if distance_m > max => Reach::BeyondRange {
                max_distance_m: max,
            },
            Reach::BeyondRange { .. } => Reach::BeyondRange {
                max_distance_m: max,
            },
            other => other,
        }
    }
}

/// Rotates local (along, across) into (east, north) for a cloud travelling
/// to bearing `to_deg`.
fn rotate(along: f64, across: f64, to_deg: f64) -> [f64; 2] {
    let b = to_deg.to_radians();
    let (s, c) = b.sin_cos();
    // Downwind unit (s, c); its right-hand normal (c, −s).
    [along * s + across * c, along * c - across * s]
}

fn footprint_ring(m: &dyn Footprint, d: f64, level: f64, to_deg: f64) -> Vec<[f64; 2]> {
    let xs: Vec<f64> = (0..=STATIONS)
        .map(|i| d * (i as f64 / STATIONS as f64).powf(1.5))
        .collect();
    let widths: Vec<f64> = xs
        .iter()
        .map(|&x| m.half_width(x, level).max(if x < d { 1.0 } else { 0.0 }))
        .collect();
    let mut ring: Vec<[f64; 2]> = Vec::with_capacity(2 * xs.len() + 1);
    for (x, w) in xs.iter().zip(&widths) {
        ring.push(rotate(*x, *w, to_deg));
    }
    for (x, w) in xs.iter().zip(&widths).rev() {
        if *w > 0.0 {
            ring.push(rotate(*x, -*w, to_deg));
        }
    }
    ring.push(ring[0]);
    ring
}

/// The area the footprint may cover when the wind turns ± `half_deg`: a
/// sector of radius `d` (plus the footprint's width at the source).
fn uncertainty_ring(d: f64, to_deg: f64, half_deg: f64) -> Vec<[f64; 2]> {
    let n = 36;
    let mut ring = Vec::with_capacity(n + 3);
    if half_deg >= 180.0 {
        for i in 0..n {
            let a = to_deg + 360.0 * i as f64 / n as f64;
            ring.push(rotate(d, 0.0, a));
        }
    } else {
        ring.push([0.0, 0.0]);
        for i in 0..=n {
            let a = to_deg - half_deg + 2.0 * half_deg * i as f64 / n as f64;
            ring.push(rotate(d, 0.0, a));
        }
    }
    ring.push(ring[0]);
    ring
}

/// Threat zones of a toxic release at the levels `locs` (ppm, red first).
/// Refuses non-finite or non-positive inputs, a wind direction outside
/// [0, 360), and levels that are not in ppm.
pub fn toxic_zones(r: &ToxicRelease, locs: &[Loc]) -> Result<ToxicZones, SafetyError> {
    toxic_zones_with(r, locs, IncidentRules::builtin(), DenseGasRules::builtin())
}

/// [`toxic_zones`] with given tables.
pub fn toxic_zones_with(
    r: &ToxicRelease,
    locs: &[Loc],
    rules: &IncidentRules,
    dense_rules: &DenseGasRules,
) -> Result<ToxicZones, SafetyError> {
    let mm = positive("molar_mass_g_mol", r.molar_mass_g_mol)?;
    let tr = positive("release_temperature_k", r.release_temperature_k)?;
    let ta = positive("ambient_temperature_k", r.ambient_temperature_k)?;
    let u = positive("wind_speed_m_s", r.wind_speed_m_s)?;
    if !(r.wind_from_deg.is_finite() && (0.0..360.0).contains(&r.wind_from_deg)) {
        return Err(SafetyError::InvalidInput {
            field: "wind_from_deg",
            value: r.wind_from_deg,
            expected: "a direction in [0, 360) degrees clockwise from north",
        });
    }
    for l in locs {
        if l.unit != "ppm" {
            return Err(SafetyError::InvalidInput {
                field: "loc",
                value: l.value,
                expected: "a toxic level of concern in ppm",
            });
        }
        positive("loc", l.value)?;
    }
    let p = rules.air.pressure_pa;
    let rho0 = density(mm, tr, p);
    let rhoa = density(rules.air.molar_mass_g_mol, ta, p);
    let max = rules.limits.max_distance_m;
    let to_deg = (r.wind_from_deg + 180.0) % 360.0;
    let mut unconfirmed: Vec<String> = Vec::new();
    let mut limitations = vec![
        "flat, unobstructed ground; uniform wind; no reaction, rain-out or deposition".to_string(),
        format!(
            "nothing is reported beyond {} km or after {} min; near the source and at wind below 1.3 m/s concentrations may be higher than shown",
            max / 1000.0,
            rules.limits.max_duration_s / 60.0
        ),
    ];

    // The release as a plume and/or a puff.
    let (rate, duration, mass) = match r.release {
        Release::Instantaneous { mass_kg } => (None, None, positive("mass_kg", mass_kg)?),
        Release::Continuous {
            rate_kg_s,
            duration_s,
        } => {
            let q = positive("rate_kg_s", rate_kg_s)?;
            let t = positive("duration_s", duration_s)?;
            let t = t.min(rules.limits.max_duration_s);
            (Some(q), Some(t), q * t)
        }
    };

    let dense_src = |source: DenseSource| {
        DenseGasRelease {
            source,
            source_density_kg_m3: rho0,
            ambient_density_kg_m3: rhoa,
            wind_speed_m_s: u,
            release_temperature_k: tr,
            ambient_temperature_k: ta,
        }
        .solve_with(dense_rules)
    };
    // Candidate models: (id, reason, model, levels are fractions?).
    let mut models: Vec<(&'static str, String, Box<dyn Footprint>, bool)> = Vec::new();
    let heavier = rho0 > rhoa;
    let plume_dense = match rate {
        Some(q) if heavier => Some(dense_src(DenseSource::Continuous {
            volume_rate_m3_s: q / rho0,
        })),
        _ => None,
    };
    let puff_dense = if heavier && (rate.is_none() || duration.is_some()) {
        Some(dense_src(DenseSource::Instantaneous {
            volume_m3: mass / rho0,
        }))
    } else {
        None
    };
    let density_text = format!(
        "gas {:.2} kg/m³ at {:.0} K against air {:.2} kg/m³",
        rho0, tr, rhoa
    );
    // Why the dense-gas model was not used, when it was tried.
    let mut not_dense: Option<String> = None;
    for (id, solved) in [
        ("britter_mcquaid_plume", plume_dense),
        ("britter_mcquaid_puff", puff_dense),
    ] {
        match solved {
            None => {}
            Some(Ok(s)) if s.criterion.dense => {
                unconfirmed.extend(s.unconfirmed.iter().map(|u| (*u).to_string()));
                let reason = format!("{density_text}; {}: dense-gas model", s.criterion.reason);
                models.push((id, reason, Box::new(Dense { s }), true));
            }
            Some(Ok(s)) => not_dense = Some(s.criterion.reason.clone()),
            // Past the workbook's curves (α > 1): passive dispersion, said so.
            Some(Err(SafetyError::InvalidInput { field: "alpha", .. })) => {
                not_dense = Some("α > 1, past the dense-gas workbook's curves".into());
            }
            Some(Err(e)) => return Err(e),
        }
    }
    if models.is_empty() {
        let why = if heavier {
            format!(
                "{density_text}, but {}: passive Gaussian dispersion",
                not_dense.unwrap_or_else(|| "the dense-gas test was not met".into())
            )
        } else {
            format!("{density_text}: not denser than air, passive Gaussian dispersion")
        };
        if let Some(q) = rate {
            let plume = GaussianPlume {
                emission_rate_kg_per_s: q,
                wind_speed_m_per_s: u,
                stability: r.stability,
                terrain: r.terrain,
                release_height_m: 0.0,
                receptor_height_m: 0.0,
            }
            .evaluate(&[])?;
            models.push((
                "gaussian_plume",
                why.clone(),
                Box::new(Plume { r: plume, max }),
                false,
            ));
        }
        if rate.is_none() || duration.is_some() {
            models.push((
                "gaussian_puff",
                why,
                Box::new(Puff {
                    mass_kg: mass,
                    stability: r.stability,
                    terrain: r.terrain,
                    max,
                }),
                false,
            ));
        }
        limitations.push("passive Gaussian dispersion with Briggs σ; dense-gas slumping not modelled for this release".into());
    } else {
        limitations.push("Britter–McQuaid workbook: ground-level release without jet momentum; the cloud is taken uniform across its width".into());
    }

    // Which model answers: the only one, or for a finite continuous release
    // the plume where u·T_d/x ≥ the continuous limit and otherwise the
    // larger of the two (the workbook's rule, applied at the yellow level).
    let level_of = |l: &Loc, fraction: bool| {
        if fraction {
            l.value * 1e-6
        } else {
            ppm_to_kg_m3(l.value, mm, ta, p)
        }
    };
    let pick = if models.len() == 1 {
        0
    } else {
        let far = |i: usize| {
            let (_, _, m, f) = &models[i];
            locs.last()
                .map_or(0.0, |l| m.reach(level_of(l, *f)).as_ordered_m())
        };
        let (d0, d1) = (far(0), far(1));
        let continuous = match duration {
            Some(t) if d0.is_finite() && d0 > 0.0 => {
                u * t / d0 >= dense_rules.criteria.continuous_min
            }
            _ => true,
        };
        if continuous || d0 >= d1 { 0 } else { 1 }
    };
    let (id, reason, model, fraction) = models.swap_remove(pick);
    let reason = if let (Some(t), true) = (duration, rate.is_some()) {
        format!(
            "{reason}; the release lasts {:.0} s{}",
            t,
            if id.ends_with("puff") {
                ", short against the travel time, so it is taken as a puff"
            } else {
                ""
            }
        )
    } else {
        reason
    };
    if rules.wind_uncertainty.confidence == "M" {
        unconfirmed.push("the wind-direction uncertainty angles (data/rules/incident.toml [wind_uncertainty]) are a project reading".into());
    }
    if rules.zoning.confidence == "M" {
        unconfirmed.push(rules.zoning.note.clone());
    }
    let half = rules.uncertainty_deg(u);
    let zones = locs
        .iter()
        .map(|l| {
            let level = level_of(l, fraction);
            let reach = model.reach(level).clamp_to(max);
            let d = match reach {
                Reach::Within { distance_m } => distance_m,
                Reach::BeyondRange { max_distance_m } => max_distance_m,
                Reach::NotReached => 0.0,
            };
            let footprint = if d > 0.0 {
                footprint_ring(model.as_ref(), d, level, to_deg)
            } else {
                Vec::new()
            };
            let uncertainty_area = if d > 0.0 {
                uncertainty_ring(d, to_deg, half)
            } else {
                Vec::new()
            };
            let line = |a: f64| [[0.0, 0.0], rotate(d, 0.0, a)];
            if l.unconfirmed {
                unconfirmed.push(format!("{} {} ppm is from memory", l.basis, l.value));
            }
            ThreatZone {
                loc: l.clone(),
                zone_name: rules.zone_name(l.colour).to_string(),
                reach,
                footprint,
                uncertainty_area,
                confidence_lines: [
                    line(to_deg - half.min(180.0)),
                    line(to_deg + half.min(180.0)),
                ],
            }
        })
        .collect();
    unconfirmed.dedup();
    Ok(ToxicZones {
        model: id,
        reason,
        gas_density_kg_m3: rho0,
        air_density_kg_m3: rhoa,
        downwind_deg: to_deg,
        uncertainty_deg: half,
        zones,
        unconfirmed,
        limitations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loc::LevelsOfConcern;

    fn chlorine(from: f64) -> ToxicRelease {
        ToxicRelease {
            molar_mass_g_mol: 70.91,
            release: Release::Continuous {
                rate_kg_s: 5.0,
                duration_s: 1800.0,
            },
            release_temperature_k: 239.1,
            ambient_temperature_k: 293.15,
            wind_speed_m_s: 3.0,
            wind_from_deg: from,
            stability: StabilityClass::D,
            terrain: Terrain::Rural,
        }
    }

    fn locs(cas: &str) -> Vec<Loc> {
        let t = LevelsOfConcern::builtin();
        t.toxic(t.substance(cas).unwrap())
    }

    fn centroid(ring: &[[f64; 2]]) -> [f64; 2] {
        let n = (ring.len() - 1) as f64;
        let (sx, sy) = ring[..ring.len() - 1]
            .iter()
            .fold((0.0, 0.0), |(a, b), p| (a + p[0], b + p[1]));
        [sx / n, sy / n]
    }

    #[test]
    fn zones_point_downwind_in_every_wind() {
        // Wind from N, E, S, W: the cloud goes S, W, N, E.
        for (from, dir) in [
            (0.0, [0.0, -1.0]),
            (90.0, [-1.0, 0.0]),
            (180.0, [0.0, 1.0]),
            (270.0, [1.0, 0.0]),
        ] {
            let z = toxic_zones(&chlorine(from), &locs("7782-50-5")).unwrap();
            for zone in &z.zones {
                let c = centroid(&zone.footprint);
                let along = c[0] * dir[0] + c[1] * dir[1];
                let across = c[0] * dir[1] - c[1] * dir[0];
                assert!(along > 0.0 && across.abs() < 0.05 * along, "{from}: {c:?}");
            }
        }
    }

    #[test]
    fn chlorine_is_dense_and_methane_passive_and_each_answer_says_why() {
        let mut small = chlorine(0.0);
        small.release = Release::Continuous {
            rate_kg_s: 0.2,
            duration_s: 600.0,
        };
        let z = toxic_zones(&small, &locs("7782-50-5")).unwrap();
        assert!(z.model.starts_with("britter_mcquaid"), "{}", z.model);
        assert!(
            z.reason.contains("Britter–McQuaid") && z.reason.contains("dense-gas model"),
            "{}",
            z.reason
        );
        // Red inside orange inside yellow.
        let d: Vec<f64> = z.zones.iter().map(|z| z.reach.as_ordered_m()).collect();
        assert!(d[0] < d[1] && d[1] < d[2], "{d:?}");
        assert_eq!(z.zones[0].zone_name, "事故中心区域（隔离区）");

        let mut methane = chlorine(0.0);
        methane.molar_mass_g_mol = 16.04;
        methane.release_temperature_k = 293.15;
        let level = [Loc {
            colour: "red",
            value: 5000.0,
            unit: "ppm",
            basis: "test".into(),
            unconfirmed: false,
        }];
        let z = toxic_zones(&methane, &level).unwrap();
        assert_eq!(z.model, "gaussian_plume", "{}", z.reason);
        assert!(z.reason.contains("not denser than air"), "{}", z.reason);
    }

    #[test]
    fn a_calm_draws_a_full_circle_and_bad_input_is_refused() {
        let mut calm = chlorine(45.0);
        calm.wind_speed_m_s = 0.8;
        let z = toxic_zones(&calm, &locs("7782-50-5"));
        if let Ok(z) = z {
            assert_eq!(z.uncertainty_deg, 180.0);
        }
        for bad in [f64::NAN, -1.0, 360.0] {
            let mut r = chlorine(0.0);
            r.wind_from_deg = bad;
            assert!(toxic_zones(&r, &locs("7782-50-5")).is_err());
        }
        let mut r = chlorine(0.0);
        r.release = Release::Continuous {
            rate_kg_s: f64::NAN,
            duration_s: 60.0,
        };
        assert!(toxic_zones(&r, &locs("7782-50-5")).is_err());
        let thermal = LevelsOfConcern::builtin().thermal();
        assert!(toxic_zones(&chlorine(0.0), &thermal).is_err());
    }

    #[test]
    fn a_short_release_is_a_puff_and_reaches_less_far_than_a_long_one() {
        let mut short = chlorine(0.0);
        short.release = Release::Continuous {
            rate_kg_s: 5.0,
            duration_s: 30.0,
        };
        let long = toxic_zones(&chlorine(0.0), &locs("7782-50-5")).unwrap();
        let s = toxic_zones(&short, &locs("7782-50-5")).unwrap();
        assert!(s.zones[2].reach.as_ordered_m() <= long.zones[2].reach.as_ordered_m());
    }
}

//! Societal risk (社会风险): the F–N curve and its GB 36894-2018 region.
//!
//! For every scenario S, weather class M, outcome o and — for directional
//! outcomes — wind sector k (plume along the sector's centre line), the
//! expected number of deaths is
//!
//! N = Σ_p people_p · (f_in·P_in + (1 − f_in)·P_out)
//!
//! with the Purple Book Table 5.3 lethalities (used for the F–N curve only;
//! individual risk uses outdoor, unprotected people):
//!
//! | outcome | outdoors | indoors |
//! |---|---|---|
//! | fire (pool, jet, fireball) | 1 at ≥ 35 kW/m², else 0.14 × probit | 1 at ≥ 35 kW/m², else 0 |
//! | flash fire | 1 inside the LFL envelope | 1 inside the LFL envelope |
//! | explosion | 1 above 0.3 barg | 1 above 0.3 barg, 0.025 above 0.1 barg |
//! | toxic | P (probit, 1 % cut-off) | 0.1 × P |
//!
//! f_in = 0.93 by day and 0.99 by night (the class's `daytime`). The event's
//! frequency is f_S·P_M·P_o (× rose[k] when directional). F(N) is the summed
//! frequency of the events with at least N deaths; the curve is given at
//! every distinct N ≥ 1 of the events. Its region is the worst any point
//! reaches against the lines of `qra-model.toml` (GB 36894: upper 1e-3/N,
//! lower 1e-5/N, both UNCONFIRMED): above the upper line → unacceptable
//! (不可接受区), above the lower → ALARP (尽可能降低区), else acceptable
//! (可接受区). Since F is a non-increasing step function and the lines
//! decrease with N, checking the curve at the events' N is exact.

use serde::Serialize;

use crate::error::SafetyError;
use crate::qra::lethality::{MIN_DISTANCE_M, is_pos};
use crate::qra::risk::QraModel;
use crate::qra::rules::{FnLine, QraRules};
use crate::qra::scenario::Scenario;
use crate::qra::weather::Weather;

/// A place where people are (a protection target, a building, a block).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PopulationPoint {
    /// Id, echoed.
    pub id: String,
    /// m east.
    pub x_m: f64,
    /// m north.
    pub y_m: f64,
    /// Number of people present.
    pub people: f64,
}

/// One point of the F–N curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FnPoint {
    /// Number of deaths N.
    pub n: f64,
    /// Cumulative frequency of ≥ N deaths, per year.
    pub f: f64,
}

/// GB 36894 societal-risk region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SocietalRegion {
    /// 可接受区.
    Acceptable,
    /// 尽可能降低区.
    Alarp,
    /// 不可接受区.
    Unacceptable,
}

/// The F–N curve of a site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FnCurve {
    /// Points at every distinct N ≥ 1, ascending N.
    pub points: Vec<FnPoint>,
    /// The worst region any point reaches.
    pub region: SocietalRegion,
    /// The unacceptable line.
    pub upper: FnLine,
    /// The acceptable line.
    pub lower: FnLine,
    /// Expected deaths per year (PLL), Σ f·N over every event.
    pub expected_deaths_per_year: f64,
    /// Figures behind the curve that are UNCONFIRMED.
    pub unconfirmed: Vec<String>,
}

impl PopulationPoint {
    /// Check the point: finite coordinates and a number of people that is a
    /// finite number ≥ 0 (0 is an empty place and adds no deaths).
    ///
    /// # Errors
    /// [`SafetyError::InvalidItem`] naming the point and the field; a NaN or
    /// negative head count is never counted as nobody.
    pub fn validate(&self) -> Result<(), SafetyError> {
        let item = || format!("population point `{}`", self.id);
        crate::error::finite("x_m", self.x_m).map_err(|e| e.in_item(item()))?;
        crate::error::finite("y_m", self.y_m).map_err(|e| e.in_item(item()))?;
        crate::error::non_negative("people", self.people).map_err(|e| e.in_item(item()))?;
        Ok(())
    }
}

/// The F–N curve with the embedded rules' lines.
///
/// # Errors
/// As [`fn_curve_with`].
pub fn fn_curve(
    scenarios: &[Scenario],
    weather: &Weather,
    population: &[PopulationPoint],
) -> Result<FnCurve, SafetyError> {
    fn_curve_with(scenarios, weather, population, QraRules::embedded())
}

/// Expected deaths and frequency of every event (N, f).
pub(crate) fn fn_events(
    model: &QraModel,
    population: &[PopulationPoint],
    scenarios: &[Scenario],
) -> Vec<(f64, f64)> {
    let indoor = |class: usize| {
        let day = model.daytime.get(class).copied().unwrap_or(true);
        // The factors are the same for every scenario generated from one rule
        // set; take them from the first.
        scenarios.first().map_or(0.0, |s| {
            if day {
                s.params.societal.indoor_fraction_day
            } else {
                s.params.societal.indoor_fraction_night
            }
        })
    };
    let mut events = Vec::new();
    for p in &model.points {
        for c in &p.iso {
            let fin = indoor(c.class);
            let n: f64 = population
                .iter()
                .map(|q| {
                    let r = ((q.x_m - p.x).powi(2) + (q.y_m - p.y).powi(2)).sqrt();
                    let (out, inn) = c.kind_societal(r);
                    q.people * (fin * inn + (1.0 - fin) * out)
                })
                .sum();
            events.push((n, c.weight));
        }
        for c in &p.dir {
            let fin = indoor(c.class);
            for k in 0..model.n_sectors {
                let pk = model.rose[k];
                if !is_pos(pk) {
                    continue;
                }
                let theta = 2.0 * std::f64::consts::PI * k as f64 / model.n_sectors as f64;
                let (se, sn) = (theta.sin(), theta.cos());
                let n: f64 = population
                    .iter()
                    .map(|q| {
                        let (dx, dy) = (q.x_m - p.x, q.y_m - p.y);
                        let down = (dx * se + dy * sn).max(0.0);
                        let cross = -dx * sn + dy * se;
                        let r = (dx * dx + dy * dy).sqrt();
                        if r.max(MIN_DISTANCE_M) > c.r_end || down <= 0.0 {
                            return 0.0;
                        }
                        let (out, inn) = c.kind_societal(down, cross);
                        q.people * (fin * inn + (1.0 - fin) * out)
                    })
                    .sum();
                events.push((n, c.weight * pk));
            }
        }
    }
    events
}

/// The F–N curve with the lines of `rules`.
///
/// # Errors
/// As [`QraModel::new`] for the scenarios and weather, and
/// [`SafetyError::InvalidItem`] for a population point
/// [`PopulationPoint::validate`] refuses (NaN or negative people are
/// refused, never read as "nobody", which would make the site look
/// acceptable).
pub fn fn_curve_with(
    scenarios: &[Scenario],
    weather: &Weather,
    population: &[PopulationPoint],
    rules: &QraRules,
) -> Result<FnCurve, SafetyError> {
    for p in population {
        p.validate()?;
    }
    let model = QraModel::new(scenarios, weather)?;
    let events = fn_events(&model, population, scenarios);
    let soc = &rules.model.societal;
    let pll = events.iter().map(|(n, f)| n * f).sum();
    let mut ev: Vec<(f64, f64)> = events
        .into_iter()
        .filter(|(n, f)| *n >= 1.0 && *f > 0.0)
        .collect();
    ev.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut points: Vec<FnPoint> = Vec::new();
    let mut cum = 0.0;
    for (n, f) in ev {
        cum += f;
        match points.last_mut() {
            Some(last) if last.n == n => last.f = cum,
            _ => points.push(FnPoint { n, f: cum }),
        }
    }
    points.reverse();
    let region = points
        .iter()
        .map(|p| {
            if p.n >= soc.upper.n_min && p.f > soc.upper.f_at_unchecked(p.n) {
                SocietalRegion::Unacceptable
            } else if p.n >= soc.lower.n_min && p.f > soc.lower.f_at_unchecked(p.n) {
                SocietalRegion::Alarp
            } else {
                SocietalRegion::Acceptable
            }
        })
        .max()
        .unwrap_or(SocietalRegion::Acceptable);
    let mut unconfirmed = Vec::new();
    for l in [&soc.upper, &soc.lower] {
        if l.unconfirmed {
            unconfirmed.push(format!(
                "{} F = {:e}/N^{}: {}",
                l.name_zh, l.f_at_n1, l.slope, l.source
            ));
        }
    }
    if soc.confidence.is_unconfirmed() {
        unconfirmed.push("qra-model.toml [societal]: PB indoor fractions and factors [M]".into());
    }
    unconfirmed.push(format!(
        "qra-model.toml [societal]: outdoor fire factor {} below 35 kW/m² [M]",
        soc.fire_outdoor_factor
    ));
    unconfirmed.extend(rules.unconfirmed());
    Ok(FnCurve {
        points,
        region,
        upper: soc.upper.clone(),
        lower: soc.lower.clone(),
        expected_deaths_per_year: pll,
        unconfirmed,
    })
}

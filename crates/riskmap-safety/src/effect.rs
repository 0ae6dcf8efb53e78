//! What every consequence model shares: its identity ([`ModelInfo`]), the
//! [`EffectModel`] trait (effect at a distance and its inverse) and the
//! answer of the inverse ([`EffectDistance`]).

use serde::Serialize;

use crate::error::SafetyError;
use crate::solve;

/// Identity and provenance of a model, echoed in every result so that a
/// stored or displayed result says how it was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    /// Stable machine id, e.g. `pool_fire.point_source`.
    pub id: &'static str,
    /// Version of this implementation of the model. It changes whenever the
    /// same inputs could give a different answer.
    pub version: &'static str,
    /// The published formula the implementation follows.
    pub source: &'static str,
    /// What the model does not do; shown next to every result.
    pub limitations: &'static str,
}

/// The physical quantity an [`EffectModel`] returns, all in SI units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectQuantity {
    /// Incident thermal radiation, W/m².
    HeatFluxWPerM2,
    /// Side-on blast overpressure, Pa.
    OverpressurePa,
    /// Mass concentration in air, kg/m³.
    ConcentrationKgPerM3,
}

/// Where an effect level reaches, as answered by [`EffectModel::distance_to`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "reach", rename_all = "snake_case")]
pub enum Reach {
    /// The effect is below the level even at the nearest distance searched.
    NotReached,
    /// The farthest distance (m) at which the effect is at or above the level.
    Within {
        /// Distance in metres from the model's origin (see each model).
        distance_m: f64,
    },
    /// The effect is still at or above the level at the farthest distance
    /// searched; the true distance is larger than `max_distance_m`.
    BeyondRange {
        /// The far end of the search range, in metres.
        max_distance_m: f64,
    },
}

impl Reach {
    /// The distance when it was found within the search range.
    pub fn distance_m(&self) -> Option<f64> {
        match *self {
            Reach::Within { distance_m } => Some(distance_m),
            _ => None,
        }
    }

    /// A total order for comparisons: 0 when not reached, the distance when
    /// found, +∞ when beyond the search range.
    pub fn as_ordered_m(&self) -> f64 {
        match *self {
            Reach::NotReached => 0.0,
            Reach::Within { distance_m } => distance_m,
            Reach::BeyondRange { .. } => f64::INFINITY,
        }
    }
}

/// The distance to one effect level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EffectDistance {
    /// The level, in the unit of [`EffectDistance::quantity`].
    pub level: f64,
    /// The quantity the level is expressed in.
    pub quantity: EffectQuantity,
    /// How far the level reaches.
    #[serde(flatten)]
    pub reach: Reach,
    /// True when the distance lies outside the range in which the model's
    /// correlation was fitted ([`EffectModel::validity_range_m`]), so the
    /// value is an extrapolation.
    pub extrapolated: bool,
}

/// A consequence model that has been evaluated (inputs validated, derived
/// quantities computed) and can give its effect at any distance.
///
/// The effect is non-increasing with distance beyond the model's near field;
/// [`EffectModel::distance_to`] finds the *farthest* distance at which the
/// effect is at or above a level, with [`solve::outer_distance`].
pub trait EffectModel {
    /// Identity and provenance of the model.
    fn model(&self) -> ModelInfo;

    /// The quantity [`EffectModel::effect_at`] returns.
    fn quantity(&self) -> EffectQuantity;

    /// Effect at `distance_m` metres from the model's origin, in the unit of
    /// [`EffectModel::quantity`]. Never negative; 0 where the model gives
    /// nothing.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for a distance that is NaN, infinite or
    /// negative (it is never read as the distance 0), and at 0 for a model
    /// that is singular there (see [`EffectModel::check_distance`]).
    fn effect_at(&self, distance_m: f64) -> Result<f64, SafetyError> {
        let d = self.check_distance(distance_m)?;
        Ok(self.effect_at_unchecked(d))
    }

    /// The distance if [`EffectModel::effect_at`] can answer at it: by
    /// default a finite number ≥ 0 m; models singular at the origin (blast
    /// curves, the Gaussian plume, the Chinese fireball formula) also refuse 0.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] naming `distance_m`.
    fn check_distance(&self, distance_m: f64) -> Result<f64, SafetyError> {
        crate::error::distance("distance_m", distance_m)
    }

    /// [`EffectModel::effect_at`] without the check: for the distance
    /// search and the risk tables, which pass distances inside
    /// [`EffectModel::search_range_m`]. A NaN or negative distance gives an
    /// unspecified number; call [`EffectModel::effect_at`] instead.
    fn effect_at_unchecked(&self, distance_m: f64) -> f64;

    /// The distances (m) searched by [`EffectModel::distance_to`]: the
    /// nearest meaningful distance and a far limit.
    fn search_range_m(&self) -> (f64, f64);

    /// The distances (m) within which the model's correlations were fitted,
    /// when the source states one (e.g. Briggs σ: 100 m–10 km).
    fn validity_range_m(&self) -> Option<(f64, f64)> {
        None
    }

    /// The farthest distance at which the effect is at or above `level`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] when `level` is not a finite number > 0.
    fn distance_to(&self, level: f64) -> Result<EffectDistance, SafetyError> {
        let level = crate::error::positive("level", level)?;
        let (lo, hi) = self.search_range_m();
        let reach = solve::outer_distance(|x| self.effect_at_unchecked(x), level, lo, hi);
        let extrapolated = match (self.validity_range_m(), reach) {
            (None, _) | (_, Reach::NotReached) => false,
            (Some((a, b)), Reach::Within { distance_m }) => distance_m < a || distance_m > b,
            (Some(_), Reach::BeyondRange { .. }) => true,
        };
        Ok(EffectDistance {
            level,
            quantity: self.quantity(),
            reach,
            extrapolated,
        })
    }

    /// [`EffectModel::distance_to`] for each level, in order.
    ///
    /// # Errors
    /// As [`EffectModel::distance_to`], for the first bad level.
    fn distances_to(&self, levels: &[f64]) -> Result<Vec<EffectDistance>, SafetyError> {
        levels.iter().map(|&l| self.distance_to(l)).collect()
    }
}

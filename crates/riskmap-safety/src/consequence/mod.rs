//! Consequence models: what a fire, an explosion or a toxic release does at
//! a distance, and the inverse, the distance to an effect level.
//!
//! Every model is a plain input struct (SI units, `serde`) with an
//! `evaluate(levels)` method that validates it and returns a result struct
//! holding the inputs, the derived quantities, the distance to each level
//! and the model's [`ModelInfo`](crate::ModelInfo) (id, version, source,
//! limitations). Results implement [`EffectModel`](crate::EffectModel):
//! `effect_at(x)` and `distance_to(level)`.

pub mod fireball;
pub mod jet_fire;
pub mod plume;
pub mod pool_fire;
pub mod probit;
pub mod thresholds;
pub mod toxic_probits;
pub mod transmissivity;
pub mod units;
pub mod vce;
pub mod view_factor;

pub use fireball::{Fireball, FireballModel, FireballResult, FireballSep};
pub use jet_fire::{JetFire, JetFireResult, JetSource};
pub use plume::{GaussianPlume, GaussianPlumeResult, StabilityClass, Terrain};
pub use pool_fire::{
    BurningRate, FlameLength, FlameTilt, PoolFire, PoolFireRadiation, PoolFireResult,
    SurfaceEmissivePower,
};
pub use probit::{LogProbit, OverpressureProbit, ThermalProbit};
pub use thresholds::{EffectThresholds, OverpressureThreshold, ThermalThreshold, ToxicThreshold};
pub use toxic_probits::{ConcentrationUnit, ToxicProbit, ToxicProbitTable};
pub use transmissivity::Transmissivity;
pub use vce::{
    BlastCurve, ChineseDamageRadii, TntEquivalence, VapourCloudExplosion,
    VapourCloudExplosionResult,
};

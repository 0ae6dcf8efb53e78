//! Weather for the QRA: stability classes with their probabilities and the
//! wind rose (风玫瑰).

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::consequence::plume::{StabilityClass, Terrain};
use crate::error::SafetyError;
use crate::qra::rules::QraRules;

/// How far the class probabilities and the wind rose may sum from 1: the
/// tolerance of the `qra-weather.toml` check.
pub const SUM_TOLERANCE: f64 = 1e-6;

/// One weather class (PB: "weather class", stability + wind speed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeatherClass {
    /// Id, e.g. `D5`.
    pub id: String,
    /// Pasquill–Gifford stability class.
    pub stability: StabilityClass,
    /// Wind speed at 10 m, m/s.
    pub wind_speed_m_s: f64,
    /// Probability P_M of the class (the classes sum to 1).
    pub probability: f64,
    /// Day (true) or night; sets the indoor fraction used by the F–N curve.
    #[serde(default = "default_true")]
    pub daytime: bool,
}

fn default_true() -> bool {
    true
}

/// The weather of a site: classes and a wind rose.
///
/// `wind_rose[k]` is the probability that the wind blows **toward** the
/// sector centred on bearing k·360°/n (clockwise from north; sector 0 is
/// centred on north), i.e. that a plume travels into sector k. The rose is
/// shared by all classes and sums to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Weather {
    /// Weather classes.
    pub classes: Vec<WeatherClass>,
    /// Probability per downwind sector, n sectors.
    pub wind_rose: Vec<f64>,
    /// Briggs dispersion terrain.
    #[serde(default = "default_terrain")]
    pub terrain: Terrain,
}

fn default_terrain() -> Terrain {
    Terrain::Rural
}

impl Weather {
    /// The default weather of `qra-weather.toml` (D5 by day, F1.5 by night,
    /// UNCONFIRMED) with a uniform rose of `n_sectors` sectors.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for 0 sectors.
    pub fn default_two_class_uniform(n_sectors: usize) -> Result<Weather, SafetyError> {
        Self::from_rules(QraRules::embedded(), n_sectors)
    }

    /// The default weather of `rules` with a uniform rose.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for 0 sectors.
    pub fn from_rules(rules: &QraRules, n_sectors: usize) -> Result<Weather, SafetyError> {
        if n_sectors == 0 {
            return Err(SafetyError::InvalidInput {
                field: "n_sectors",
                value: 0.0,
                expected: "at least 1 wind-rose sector",
            });
        }
        Ok(Self::uniform(rules, n_sectors))
    }

    /// [`Weather::from_rules`] for a sector count known to be ≥ 1.
    pub(crate) fn uniform(rules: &QraRules, n_sectors: usize) -> Weather {
        let n = n_sectors.max(1);
        Weather {
            classes: rules
                .weather
                .class
                .iter()
                .map(|c| WeatherClass {
                    id: c.id.clone(),
                    stability: c.stability,
                    wind_speed_m_s: c.wind_speed_m_s,
                    probability: c.probability,
                    daytime: c.daytime,
                })
                .collect(),
            wind_rose: vec![1.0 / n as f64; n],
            terrain: rules.weather.terrain,
        }
    }

    /// Check the weather before any risk is computed from it.
    ///
    /// # Errors
    /// - [`SafetyError::InvalidInput`] for no class, an empty wind rose, class
    ///   probabilities or rose frequencies that do not sum to 1 (within
    ///   [`SUM_TOLERANCE`]): a class or sector must never be dropped or
    ///   counted three times;
    /// - [`SafetyError::InvalidItem`] naming the class or sector for a class
    ///   probability outside [0, 1], a wind speed that is not a finite
    ///   positive number (m/s), or a rose frequency that is not a finite
    ///   number ≥ 0.
    pub fn validate(&self) -> Result<(), SafetyError> {
        if self.classes.is_empty() {
            return Err(SafetyError::InvalidInput {
                field: "classes",
                value: 0.0,
                expected: "at least one weather class",
            });
        }
        for c in &self.classes {
            let item = || format!("weather class `{}`", c.id);
            crate::error::unit_interval("probability", c.probability)
                .map_err(|e| e.in_item(item()))?;
            crate::error::positive("wind_speed_m_s", c.wind_speed_m_s)
                .map_err(|e| e.in_item(item()))?;
        }
        let sum: f64 = self.classes.iter().map(|c| c.probability).sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(SafetyError::InvalidInput {
                field: "classes.probability (sum)",
                value: sum,
                expected: "class probabilities summing to 1 (within 1e-6)",
            });
        }
        if self.wind_rose.is_empty() {
            return Err(SafetyError::InvalidInput {
                field: "wind_rose",
                value: 0.0,
                expected: "at least one sector",
            });
        }
        for (k, &p) in self.wind_rose.iter().enumerate() {
            if !(p.is_finite() && p >= 0.0) {
                return Err(SafetyError::InvalidItem {
                    item: format!("wind rose sector {k}"),
                    field: "frequency",
                    value: p,
                    expected: "a finite frequency ≥ 0",
                });
            }
        }
        let sum: f64 = self.wind_rose.iter().sum();
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(SafetyError::InvalidInput {
                field: "wind_rose (sum)",
                value: sum,
                expected: "sector frequencies summing to 1 (within 1e-6)",
            });
        }
        Ok(())
    }

    /// Number of sectors (1 for an empty rose, which
    /// [`Weather::validate`] refuses).
    pub fn n_sectors(&self) -> usize {
        self.wind_rose.len().max(1)
    }

    /// Probability of sector `k`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] when `k` is not a sector of the rose
    /// (never read as probability 0).
    pub fn sector_probability(&self, k: usize) -> Result<f64, SafetyError> {
        self.wind_rose
            .get(k)
            .copied()
            .ok_or(SafetyError::InvalidInput {
                field: "k",
                value: k as f64,
                expected: "a sector index below the number of sectors",
            })
    }

    /// The sector of the bearing from a release point to (dx, dy) (east,
    /// north offsets in m): k = ⌊θ/Δ + ½⌋ mod n, θ clockwise from north.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless dx and dy are finite and not both
    /// 0 (the release point itself has no bearing).
    pub fn sector_of(&self, dx: f64, dy: f64) -> Result<usize, SafetyError> {
        let dx = crate::error::finite("dx", dx)?;
        let dy = crate::error::finite("dy", dy)?;
        if dx == 0.0 && dy == 0.0 {
            return Err(SafetyError::InvalidInput {
                field: "dx",
                value: dx,
                expected: "an offset from the release point (the point itself has no bearing)",
            });
        }
        Ok(sector_of(dx, dy, self.n_sectors()))
    }

    /// Unit vector (east, north) of the centre of sector `k`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] when `k` is not a sector of the rose.
    pub fn sector_direction(&self, k: usize) -> Result<(f64, f64), SafetyError> {
        self.sector_probability(k)?;
        let theta = 2.0 * PI * k as f64 / self.n_sectors() as f64;
        Ok((theta.sin(), theta.cos()))
    }
}

/// Sector index of the bearing of (dx, dy) among `n` sectors centred on
/// 0, Δ, 2Δ, … clockwise from north.
pub(crate) fn sector_of(dx: f64, dy: f64, n: usize) -> usize {
    let n = n.max(1);
    let mut theta = dx.atan2(dy); // clockwise from north, (−π, π]
    if theta < 0.0 {
        theta += 2.0 * PI;
    }
    let k = (theta / (2.0 * PI) * n as f64 + 0.5).floor() as usize;
    k % n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sectors_are_clockwise_from_north() {
        assert_eq!(sector_of(0.0, 10.0, 16), 0);
        assert_eq!(sector_of(10.0, 0.0, 16), 4);
        assert_eq!(sector_of(0.0, -10.0, 16), 8);
        assert_eq!(sector_of(-10.0, 0.0, 16), 12);
        // Just west of north is still sector 0 (centred on north).
        assert_eq!(sector_of(-0.1, 10.0, 16), 0);
        // 12 sectors of 30°: bearing 20° is sector 1 (15°–45°).
        let t = 20f64.to_radians();
        assert_eq!(sector_of(t.sin(), t.cos(), 12), 1);
        let w = Weather::default_two_class_uniform(12).unwrap();
        assert_eq!(w.wind_rose.len(), 12);
        assert!((w.wind_rose.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let (e, n) = w.sector_direction(3).unwrap();
        assert!((e - 1.0).abs() < 1e-12 && n.abs() < 1e-12);
        assert_eq!(w.sector_of(10.0, 0.0).unwrap(), 3);
        assert!(w.validate().is_ok());
    }

    #[test]
    fn bad_weather_is_refused() {
        let good = Weather::default_two_class_uniform(12).unwrap();
        assert!(Weather::default_two_class_uniform(0).is_err());
        let mut w = good.clone();
        w.wind_rose = vec![0.25; 12]; // sums to 3
        assert!(matches!(
            w.validate(),
            Err(SafetyError::InvalidInput { field: "wind_rose (sum)", value, .. }) if (value - 3.0).abs() < 1e-12
        ));
        let mut w = good.clone();
        w.wind_rose[4] = f64::NAN;
        assert!(matches!(w.validate(), Err(SafetyError::InvalidItem { .. })));
        let mut w = good.clone();
        w.classes[0].probability = 1.5;
        assert!(matches!(
            w.validate(),
            Err(SafetyError::InvalidItem {
                field: "probability",
                ..
            })
        ));
        let mut w = good.clone();
        w.classes[1].wind_speed_m_s = f64::NAN;
        assert!(w.validate().is_err());
        let mut w = good.clone();
        w.classes.clear();
        assert!(w.validate().is_err());
        let mut w = good.clone();
        w.wind_rose.clear();
        assert!(w.validate().is_err());
        assert!(good.sector_probability(12).is_err());
        assert!(good.sector_direction(12).is_err());
        assert!(good.sector_of(f64::NAN, 1.0).is_err());
        assert!(good.sector_of(0.0, 0.0).is_err());
    }
}

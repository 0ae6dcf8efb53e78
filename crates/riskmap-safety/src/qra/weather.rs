//! Weather for the QRA: stability classes with their probabilities and the
//! wind rose (风玫瑰).

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use crate::consequence::plume::{StabilityClass, Terrain};
use crate::qra::rules::QraRules;

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
    /// UNCONFIRMED) with a uniform rose of `n_sectors` sectors (at least 1).
    pub fn default_two_class_uniform(n_sectors: usize) -> Weather {
        Self::from_rules(QraRules::embedded(), n_sectors)
    }

    /// The default weather of `rules` with a uniform rose.
    pub fn from_rules(rules: &QraRules, n_sectors: usize) -> Weather {
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

    /// Number of sectors (1 for an empty rose).
    pub fn n_sectors(&self) -> usize {
        self.wind_rose.len().max(1)
    }

    /// Probability of sector `k` (1 for an empty rose).
    pub fn sector_probability(&self, k: usize) -> f64 {
        if self.wind_rose.is_empty() {
            1.0
        } else {
            self.wind_rose.get(k).copied().unwrap_or(0.0)
        }
    }

    /// The sector of the bearing from a release point to (dx, dy) (east,
    /// north offsets in m): k = ⌊θ/Δ + ½⌋ mod n, θ clockwise from north.
    pub fn sector_of(&self, dx: f64, dy: f64) -> usize {
        sector_of(dx, dy, self.n_sectors())
    }

    /// Unit vector (east, north) of the centre of sector `k`.
    pub fn sector_direction(&self, k: usize) -> (f64, f64) {
        let theta = 2.0 * PI * k as f64 / self.n_sectors() as f64;
        (theta.sin(), theta.cos())
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
        let w = Weather::default_two_class_uniform(12);
        assert_eq!(w.wind_rose.len(), 12);
        assert!((w.wind_rose.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let (e, n) = w.sector_direction(3);
        assert!((e - 1.0).abs() < 1e-12 && n.abs() < 1e-12);
    }
}

//! Atmospheric transmissivity τ: the fraction of thermal radiation that
//! reaches the target through the humid air between the flame and it.

use serde::{Deserialize, Serialize};

use crate::error::{SafetyError, distance, fraction, positive};

/// How to compute the atmospheric transmissivity τ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Transmissivity {
    /// A fixed τ in (0, 1]. τ = 1 (no absorption) is the conservative choice
    /// of the Chinese 安全评价 point-source formulas.
    Fixed {
        /// τ, in (0, 1].
        tau: f64,
    },
    /// Bagster (1986) as in the TNO Yellow Book (CPR 14E, 1997, ch. 6):
    /// **τ = 2.02·(p_w·X)^(−0.09)**, p_w the partial pressure of water vapour
    /// in Pa and X the path length from the flame surface in m, with the
    /// saturation pressure **p_w,sat = exp(23.18986 − 3816.42/(T − 46.13))** Pa
    /// (T in K) and p_w = RH·p_w,sat. The fit is stated for
    /// 10⁴ < p_w·X < 10⁵ N/m; outside it the value is extrapolated, and τ is
    /// capped at 1.
    Bagster {
        /// Relative humidity, in (0, 1].
        relative_humidity: f64,
        /// Ambient temperature, K.
        ambient_temperature_k: f64,
    },
}

impl Default for Transmissivity {
    /// τ = 1: no atmospheric absorption (conservative).
    fn default() -> Self {
        Transmissivity::Fixed { tau: 1.0 }
    }
}

impl Transmissivity {
    /// Check the parameters.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for τ or RH outside (0, 1] or a
    /// non-positive temperature.
    pub fn validate(&self) -> Result<(), SafetyError> {
        match *self {
            Transmissivity::Fixed { tau } => fraction("transmissivity.tau", tau).map(|_| ()),
            Transmissivity::Bagster {
                relative_humidity,
                ambient_temperature_k,
            } => {
                fraction("transmissivity.relative_humidity", relative_humidity)?;
                positive(
                    "transmissivity.ambient_temperature_k",
                    ambient_temperature_k - 46.13,
                )?;
                Ok(())
            }
        }
    }

    /// Partial pressure of water vapour (Pa) for the Bagster method.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for a relative humidity outside (0, 1]
    /// or a temperature that is not a finite number above 46.13 K (where
    /// the saturation formula is singular).
    pub fn water_vapour_pressure_pa(
        relative_humidity: f64,
        ambient_temperature_k: f64,
    ) -> Result<f64, SafetyError> {
        Transmissivity::Bagster {
            relative_humidity,
            ambient_temperature_k,
        }
        .validate()?;
        Ok(Self::water_vapour_pressure_unchecked(
            relative_humidity,
            ambient_temperature_k,
        ))
    }

    fn water_vapour_pressure_unchecked(relative_humidity: f64, ambient_temperature_k: f64) -> f64 {
        relative_humidity * (23.18986 - 3816.42 / (ambient_temperature_k - 46.13)).exp()
    }

    /// τ over a path of `path_length_m` metres from the flame surface.
    /// Non-increasing in the path length; at a zero path the Bagster τ is 1
    /// (nothing absorbs).
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] for invalid parameters (see
    /// [`Transmissivity::validate`]) or a path that is not a finite number
    /// ≥ 0 m.
    pub fn at(&self, path_length_m: f64) -> Result<f64, SafetyError> {
        self.validate()?;
        let x = distance("path_length_m", path_length_m)?;
        Ok(self.at_unchecked(x))
    }

    /// [`Transmissivity::at`] without the checks, for models that validated
    /// the parameters and pass a path ≥ 0.
    pub(crate) fn at_unchecked(&self, path_length_m: f64) -> f64 {
        match *self {
            Transmissivity::Fixed { tau } => tau,
            Transmissivity::Bagster {
                relative_humidity,
                ambient_temperature_k,
            } => {
                let pw =
                    Self::water_vapour_pressure_unchecked(relative_humidity, ambient_temperature_k);
                let px = pw * path_length_m.max(0.0);
                if px <= 0.0 {
                    1.0
                } else {
                    (2.02 * px.powf(-0.09)).min(1.0)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bagster_hand_example() {
        // T = 293.15 K: p_sat = exp(23.18986 − 3816.42/247.02) = exp(7.740189)
        // = 2 298.5 Pa. RH = 0.7 → p_w = 1 609.0 Pa. X = 100 m → p_w·X = 160 896
        // N/m; τ = 2.02·160 896^(−0.09) = 2.02·e^(−0.09·11.98851) = 2.02·0.339947
        // = 0.6867.
        let t = Transmissivity::Bagster {
            relative_humidity: 0.7,
            ambient_temperature_k: 293.15,
        };
        let pw = Transmissivity::water_vapour_pressure_pa(0.7, 293.15).unwrap();
        assert!((pw - 1609.0).abs() / 1609.0 < 0.001, "{pw}");
        let tau = t.at(100.0).unwrap();
        assert!((tau - 0.6867).abs() / 0.6867 < 0.02, "{tau}");
        assert_eq!(t.at(0.0).unwrap(), 1.0);
        assert!(t.at(1000.0).unwrap() < tau);
    }

    #[test]
    fn rejects_bad_tau() {
        assert!(Transmissivity::Fixed { tau: 1.5 }.validate().is_err());
        assert!(Transmissivity::Fixed { tau: 0.0 }.validate().is_err());
        assert!(Transmissivity::Fixed { tau: 1.5 }.at(10.0).is_err());
        let t = Transmissivity::default();
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
            assert!(t.at(bad).is_err());
            assert!(Transmissivity::water_vapour_pressure_pa(0.7, bad).is_err());
            assert!(Transmissivity::water_vapour_pressure_pa(bad, 293.15).is_err());
        }
    }
}

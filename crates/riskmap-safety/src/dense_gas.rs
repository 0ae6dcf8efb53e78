//! Dense-gas dispersion (重气扩散): the Britter–McQuaid workbook correlations
//! (HSE CRR 17/1988; CCPS 1999), for ground-level releases denser than air
//! such as chlorine, or cold ones such as LNG.
//!
//! The workbook relates the centre-line concentration ratio c′ = C_m/C₀ to
//! the distance through two dimensionless groups: α (the source's buoyancy
//! against the wind) and β = log10(x/L), with L = √(q₀/u) for a continuous
//! plume and V₀^(1/3) for an instantaneous puff. For a given α each curve of
//! `data/rules/dense-gas.toml` gives the β at which c′ falls to its ratio;
//! between curves c′ is interpolated linearly in β, before the first curve
//! the near-field form a/(a + x′²) applies, and beyond the last one passive
//! decay A/x′². A cold release is corrected to a volume fraction with
//! c = c′/(c′ + (1 − c′)·T_r/T_a).
//!
//! [`DenseGasRelease::solve`] validates the inputs, applies the workbook's
//! Richardson-number test ([`DenseCriterion`]) and refuses α > 1 (outside
//! the curves). The solution gives the volume fraction at a distance and the
//! distance to a fraction ([`DenseGasSolution::distance_to_fraction`]).
//! Flat, unobstructed ground and no jet momentum are assumed.

use serde::{Deserialize, Serialize};

use crate::confidence::Confidence;
use crate::effect::Reach;
use crate::error::{SafetyError, positive};
use crate::solve::outer_distance;

/// Gravitational acceleration, m/s².
pub const G: f64 = 9.81;

/// One linear piece of a curve: β = slope·α + intercept for α ≤ `alpha_max`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    /// The segment holds up to this α.
    pub alpha_max: f64,
    /// dβ/dα.
    pub slope: f64,
    /// β at α = 0.
    pub intercept: f64,
}

/// One workbook curve: where c′ falls to `ratio`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Curve {
    /// c′ = C_m/C₀.
    pub ratio: f64,
    /// β(α), in increasing α.
    pub segments: Vec<Segment>,
}

impl Curve {
    /// β at `alpha` (α ≤ the last segment's end, checked by the caller).
    fn beta(&self, alpha: f64) -> f64 {
        let s = self
            .segments
            .iter()
            .find(|s| alpha <= s.alpha_max)
            .or(self.segments.last());
        s.map_or(f64::NAN, |s| s.slope * alpha + s.intercept)
    }
}

/// The workbook's applicability tests.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Criteria {
    /// Dense when (g₀′q₀/(u³D))^(1/3) is at least this (plume).
    pub plume_dense_min: f64,
    /// Dense when √(g₀′V₀^(1/3))/u is at least this (puff).
    pub puff_dense_min: f64,
    /// Continuous at x when u·T_d/x is at least this.
    pub continuous_min: f64,
    /// Instantaneous at x when u·T_d/x is at most this.
    pub instantaneous_max: f64,
    /// Confidence of these figures.
    pub confidence: Confidence,
}

/// The near-field forms.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NearField {
    /// Plume: c′ = a/(a + x′²).
    pub plume_a: f64,
    /// …for x′ up to this.
    pub plume_x_max: f64,
    /// Puff: c′ = a/(a + x′²).
    pub puff_a: f64,
    /// Confidence.
    pub confidence: Confidence,
}

/// The far-field decay beyond the last curve.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FarField {
    /// Plume: c′ = A/x′^power.
    pub plume_power: f64,
    /// Confidence of the plume form.
    pub plume_confidence: Confidence,
    /// Puff: c′ = A/x′^power.
    pub puff_power: f64,
    /// Confidence of the puff form.
    pub puff_confidence: Confidence,
}

/// Sources of the table.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct About {
    /// The publication.
    pub source: String,
    /// Keys into the domain notes.
    pub source_keys: String,
}

/// `data/rules/dense-gas.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DenseGasRules {
    /// Sources.
    pub about: About,
    /// Applicability tests.
    pub criteria: Criteria,
    /// Near-field forms.
    pub near_field: NearField,
    /// Far-field forms.
    pub far_field: FarField,
    /// Plume curves, from the highest ratio down.
    pub plume_curve: Vec<Curve>,
    /// Puff curves, from the highest ratio down.
    pub puff_curve: Vec<Curve>,
}

impl DenseGasRules {
    /// The embedded table.
    pub fn builtin() -> &'static DenseGasRules {
        static RULES: std::sync::OnceLock<DenseGasRules> = std::sync::OnceLock::new();
        RULES.get_or_init(|| {
            DenseGasRules::from_toml_str(riskmap_core::rule_set::text("dense-gas.toml"))
                .unwrap_or_else(|e| panic!("data/rules/dense-gas.toml: {e}"))
        })
    }

    /// Parses and checks a table: ratios in (0, 1) strictly decreasing,
    /// segments with increasing ends, the last at α = 1.
    pub fn from_toml_str(text: &str) -> Result<DenseGasRules, SafetyError> {
        let bad = |message: String| SafetyError::Rules {
            table: "dense-gas.toml",
            message,
        };
        let r: DenseGasRules = riskmap_core::rule_set::from_toml(text).map_err(bad)?;
        for (name, curves) in [
            ("plume_curve", &r.plume_curve),
            ("puff_curve", &r.puff_curve),
        ] {
            if curves.is_empty() {
                return Err(bad(format!("{name}: no curves")));
            }
            for (i, c) in curves.iter().enumerate() {
                if !(c.ratio > 0.0 && c.ratio < 1.0) {
                    return Err(bad(format!("{name}[{i}].ratio must lie in (0, 1)")));
                }
                if i > 0 && c.ratio >= curves[i - 1].ratio {
                    return Err(bad(format!("{name}[{i}].ratio must be below the previous")));
                }
                let ends: Vec<f64> = c.segments.iter().map(|s| s.alpha_max).collect();
                if ends.is_empty()
                    || ends.windows(2).any(|w| w[1] <= w[0])
                    || ends.last() != Some(&1.0)
                    || c.segments
                        .iter()
                        .any(|s| !s.slope.is_finite() || !s.intercept.is_finite())
                {
                    return Err(bad(format!(
                        "{name}[{i}].segments: finite pieces with increasing alpha_max, the last at 1.0"
                    )));
                }
            }
        }
        let n = &r.near_field;
        let f = &r.far_field;
        if [
            n.plume_a,
            n.plume_x_max,
            n.puff_a,
            f.plume_power,
            f.puff_power,
        ]
        .iter()
        .any(|x| !(x.is_finite() && *x > 0.0))
        {
            return Err(bad("near_field and far_field figures must be > 0".into()));
        }
        Ok(r)
    }
}

/// A continuous plume or an instantaneous puff.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DenseSource {
    /// A steady release of `volume_rate_m3_s` of gas at the release
    /// temperature (q₀ = ṁ/ρ₀).
    Continuous {
        /// q₀, m³/s.
        volume_rate_m3_s: f64,
    },
    /// A cloud of `volume_m3` released at once (V₀ = m/ρ₀).
    Instantaneous {
        /// V₀, m³.
        volume_m3: f64,
    },
}

/// A ground-level release for the workbook.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
pub struct DenseGasRelease {
    /// The source.
    pub source: DenseSource,
    /// Density of the released gas at its release temperature (ρ₀), kg/m³.
    pub source_density_kg_m3: f64,
    /// Density of the air (ρₐ), kg/m³.
    pub ambient_density_kg_m3: f64,
    /// Wind speed at 10 m (u), m/s.
    pub wind_speed_m_s: f64,
    /// Release temperature (T_r), K.
    pub release_temperature_k: f64,
    /// Air temperature (T_a), K.
    pub ambient_temperature_k: f64,
}

/// The workbook's bulk Richardson-number test of a source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenseCriterion {
    /// (g₀′q₀/(u³D))^(1/3) for a plume, √(g₀′V₀^(1/3))/u for a puff.
    pub value: f64,
    /// The threshold it is compared with.
    pub threshold: f64,
    /// Whether the cloud behaves as a dense gas.
    pub dense: bool,
    /// The test, in words, for the answer.
    pub reason: String,
}

/// A solved release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DenseGasSolution {
    /// The release.
    pub release: DenseGasRelease,
    /// g₀′ = g(ρ₀ − ρₐ)/ρₐ, m/s².
    pub reduced_gravity_m_s2: f64,
    /// L: D = √(q₀/u) for a plume, V₀^(1/3) for a puff, m.
    pub length_scale_m: f64,
    /// α.
    pub alpha: f64,
    /// The applicability test.
    pub criterion: DenseCriterion,
    /// (x′ = x/L, c′) of each curve for this α, nearest first.
    pub points: Vec<(f64, f64)>,
    /// Whether a figure used is UNCONFIRMED (the puff far field, the
    /// dense-gas thresholds).
    pub unconfirmed: Vec<&'static str>,
    near_a: f64,
    near_x_max: f64,
    far_power: f64,
    puff: bool,
}

/// The largest distance searched, m (ALOHA reports nothing beyond 10 km).
pub const MAX_DISTANCE_M: f64 = 10_000.0;

impl DenseGasRelease {
    /// Solves with the embedded table.
    pub fn solve(&self) -> Result<DenseGasSolution, SafetyError> {
        self.solve_with(DenseGasRules::builtin())
    }

    /// Solves with `rules`. Refuses non-finite or non-positive inputs, a
    /// source not denser than the air (g₀′ ≤ 0: the workbook does not
    /// apply; use a passive model) and α > 1 (beyond the curves).
    pub fn solve_with(&self, rules: &DenseGasRules) -> Result<DenseGasSolution, SafetyError> {
        let rho0 = positive("source_density_kg_m3", self.source_density_kg_m3)?;
        let rhoa = positive("ambient_density_kg_m3", self.ambient_density_kg_m3)?;
        let u = positive("wind_speed_m_s", self.wind_speed_m_s)?;
        positive("release_temperature_k", self.release_temperature_k)?;
        positive("ambient_temperature_k", self.ambient_temperature_k)?;
        let g0 = G * (rho0 - rhoa) / rhoa;
        if g0 <= 0.0 {
            return Err(SafetyError::InvalidInput {
                field: "source_density_kg_m3",
                value: rho0,
                expected: "a gas denser than the air (ρ₀ > ρₐ) for the dense-gas workbook; a buoyant or neutral release takes the Gaussian model",
            });
        }
        let c = &rules.criteria;
        let (length, alpha, criterion, curves, near_a, far_power, puff) = match self.source {
            DenseSource::Continuous { volume_rate_m3_s } => {
                let q0 = positive("volume_rate_m3_s", volume_rate_m3_s)?;
                let d = (q0 / u).sqrt();
                let alpha = 0.2 * (g0 * g0 * q0 / u.powi(5)).log10();
                let value = (g0 * q0 / (u.powi(3) * d)).cbrt();
                let dense = value >= c.plume_dense_min;
                let reason = format!(
                    "continuous release: (g₀′q₀/(u³D))^(1/3) = {value:.3} {} {} (Britter–McQuaid)",
                    if dense { "≥" } else { "<" },
                    c.plume_dense_min
                );
                (
                    d,
                    alpha,
                    DenseCriterion {
                        value,
                        threshold: c.plume_dense_min,
                        dense,
                        reason,
                    },
                    &rules.plume_curve,
                    rules.near_field.plume_a,
                    rules.far_field.plume_power,
                    false,
                )
            }
            DenseSource::Instantaneous { volume_m3 } => {
                let v0 = positive("volume_m3", volume_m3)?;
                let l = v0.cbrt();
                let alpha = 0.5 * (g0 * l / (u * u)).log10();
                let value = (g0 * l).sqrt() / u;
                let dense = value >= c.puff_dense_min;
                let reason = format!(
                    "instantaneous release: √(g₀′V₀^(1/3))/u = {value:.3} {} {} (Britter–McQuaid)",
                    if dense { "≥" } else { "<" },
                    c.puff_dense_min
                );
                (
                    l,
                    alpha,
                    DenseCriterion {
                        value,
                        threshold: c.puff_dense_min,
                        dense,
                        reason,
                    },
                    &rules.puff_curve,
                    rules.near_field.puff_a,
                    rules.far_field.puff_power,
                    true,
                )
            }
        };
        if !alpha.is_finite() || alpha > 1.0 {
            return Err(SafetyError::InvalidInput {
                field: "alpha",
                value: alpha,
                expected: "α ≤ 1: the workbook's curves end there (a very buoyant source against a light wind); raise the wind speed or use another model",
            });
        }
        let points: Vec<(f64, f64)> = curves
            .iter()
            .map(|cv| (10f64.powf(cv.beta(alpha)), cv.ratio))
            .collect();
        let mut unconfirmed = Vec::new();
        if c.confidence.is_unconfirmed() {
            unconfirmed.push("dense-gas thresholds 0.15/0.20 and the duration tests 2.5/0.6 (data/rules/dense-gas.toml [criteria]) are from memory");
        }
        if puff && rules.far_field.puff_confidence.is_unconfirmed() {
            unconfirmed.push("the puff's far-field decay c′ = A/x′² beyond the last curve (data/rules/dense-gas.toml [far_field]) is not confirmed; it errs long");
        }
        Ok(DenseGasSolution {
            release: *self,
            reduced_gravity_m_s2: g0,
            length_scale_m: length,
            alpha,
            criterion,
            points,
            unconfirmed,
            near_a,
            near_x_max: rules.near_field.plume_x_max,
            far_power,
            puff,
        })
    }
}

impl DenseGasSolution {
    /// c′ = C_m/C₀ at x′ = x/L (isothermal ratio).
    fn ratio_prime(&self, xp: f64) -> f64 {
        let Some(&(x_first, c_first)) = self.points.first() else {
            return f64::NAN;
        };
        let near = |xp: f64| self.near_a / (self.near_a + xp * xp);
        if xp <= x_first {
            if self.puff {
                // The near field, not below the first curve's ratio.
                return near(xp).max(c_first);
            }
            // Plume: the near-field form up to x′ = 30, then linear in β
            // to the first curve.
            if xp <= self.near_x_max {
                return near(xp).max(c_first);
            }
            let (b0, c0) = (self.near_x_max.log10(), near(self.near_x_max));
            let (b1, c1) = (x_first.log10(), c_first);
            if b1 <= b0 {
                return c_first;
            }
            let t = (xp.log10() - b0) / (b1 - b0);
            return (c0 + t * (c1 - c0)).max(c_first);
        }
        for w in self.points.windows(2) {
            let ((xa, ca), (xb, cb)) = (w[0], w[1]);
            if xp <= xb {
                let (ba, bb) = (xa.log10(), xb.log10());
                if bb <= ba {
                    return cb;
                }
                let t = (xp.log10() - ba) / (bb - ba);
                return ca + t * (cb - ca);
            }
        }
        let &(x_last, c_last) = self.points.last().unwrap_or(&(x_first, c_first));
        c_last * (x_last / xp).powf(self.far_power)
    }

    /// The centre-line volume fraction of the released gas at `x_m`
    /// downwind (after the non-isothermal correction), in (0, 1].
    /// Refuses a negative or non-finite distance; at 0 it is 1 (pure gas).
    pub fn fraction_at(&self, x_m: f64) -> Result<f64, SafetyError> {
        if !(x_m.is_finite() && x_m >= 0.0) {
            return Err(SafetyError::InvalidInput {
                field: "distance_m",
                value: x_m,
                expected: "a finite distance ≥ 0",
            });
        }
        Ok(self.fraction_at_unchecked(x_m))
    }

    fn fraction_at_unchecked(&self, x_m: f64) -> f64 {
        if x_m == 0.0 {
            return 1.0;
        }
        let cp = self.ratio_prime(x_m / self.length_scale_m).clamp(0.0, 1.0);
        let r = self.release.release_temperature_k / self.release.ambient_temperature_k;
        cp / (cp + (1.0 - cp) * r)
    }

    /// The farthest distance downwind at which the centre-line volume
    /// fraction is at or above `fraction` (e.g. an AEGL in ppm × 10⁻⁶),
    /// searched to [`MAX_DISTANCE_M`]. Refuses a fraction outside (0, 1].
    pub fn distance_to_fraction(&self, fraction: f64) -> Result<Reach, SafetyError> {
        if !(fraction.is_finite() && fraction > 0.0 && fraction <= 1.0) {
            return Err(SafetyError::InvalidInput {
                field: "fraction",
                value: fraction,
                expected: "a volume fraction in (0, 1]",
            });
        }
        Ok(outer_distance(
            |x| self.fraction_at_unchecked(x),
            fraction,
            0.01,
            MAX_DISTANCE_M,
        ))
    }

    /// The cloud's half-width at `x_m` downwind, m: for a plume
    /// L_H = D + 8l_b + 2.5·l_b^(1/3)·x^(2/3) with l_b = g₀′q₀/u³; for a
    /// puff the radius R = √(R₀² + 1.2·√(g₀′V₀)·t) at t = x/(0.4u) (the
    /// cloud centre moves at 0.4u).
    pub fn half_width_m(&self, x_m: f64) -> Result<f64, SafetyError> {
        if !(x_m.is_finite() && x_m >= 0.0) {
            return Err(SafetyError::InvalidInput {
                field: "distance_m",
                value: x_m,
                expected: "a finite distance ≥ 0",
            });
        }
        let u = self.release.wind_speed_m_s;
        let g0 = self.reduced_gravity_m_s2;
        Ok(match self.release.source {
            DenseSource::Continuous { volume_rate_m3_s } => {
                let lb = g0 * volume_rate_m3_s / u.powi(3);
                self.length_scale_m + 8.0 * lb + 2.5 * lb.cbrt() * x_m.powf(2.0 / 3.0)
            }
            DenseSource::Instantaneous { volume_m3 } => {
                let r0 = (3.0 * volume_m3 / (4.0 * std::f64::consts::PI)).cbrt();
                let t = x_m / (0.4 * u);
                (r0 * r0 + 1.2 * (g0 * volume_m3).sqrt() * t).sqrt()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Burro LNG (CCPS 1999; emergency.md §2.5): 0.23 m³/s of liquid at
    /// 111.15 K, ρ_l 425.6, ρ_v 1.76, u = 10.9 m/s.
    fn burro(ta: f64, rhoa: f64) -> DenseGasRelease {
        let m = 0.23 * 425.6;
        DenseGasRelease {
            source: DenseSource::Continuous {
                volume_rate_m3_s: m / 1.76,
            },
            source_density_kg_m3: 1.76,
            ambient_density_kg_m3: rhoa,
            wind_speed_m_s: 10.9,
            release_temperature_k: 111.15,
            ambient_temperature_k: ta,
        }
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        ((a - b) / b).abs() <= rel
    }

    #[test]
    fn the_curves_reproduce_their_test_points() {
        let r = DenseGasRules::builtin();
        let plume_m075 = [1.75, 1.92, 2.08, 2.25, 2.40, 2.60];
        let plume_0 = [1.78, 1.96, 2.16, 2.35, 2.56, 2.71];
        for (i, c) in r.plume_curve.iter().enumerate() {
            assert!((c.beta(-0.75) - plume_m075[i]).abs() < 1e-9, "{}", c.ratio);
            assert!((c.beta(0.0) - plume_0[i]).abs() < 1e-9, "{}", c.ratio);
        }
        let puff_0 = [0.81, 1.00, 1.19, 1.39, 1.62, 1.83, 2.05];
        for (i, c) in r.puff_curve.iter().enumerate() {
            assert!((c.beta(0.0) - puff_0[i]).abs() < 1e-9, "{}", c.ratio);
        }
    }

    #[test]
    fn burro_lng_reaches_its_lower_flammable_limit_as_in_the_worked_example() {
        // 288.15 K: α = −0.4357, criterion 0.433 (dense), the curves at
        // 135 … 1132 m and the LFL (5 %) at 354.6 m.
        let s = burro(288.15, 1.225).solve().unwrap();
        assert!((s.reduced_gravity_m_s2 - 4.283).abs() < 0.005);
        assert!((s.length_scale_m - 2.259).abs() < 0.001);
        assert!((s.alpha - -0.4357).abs() < 0.0005, "{}", s.alpha);
        assert!(s.criterion.dense && (s.criterion.value - 0.433).abs() < 0.001);
        let xs: Vec<f64> = s.points.iter().map(|p| p.0 * s.length_scale_m).collect();
        for (x, want) in xs.iter().zip([135.0, 228.0, 353.0, 538.0, 789.0, 1132.0]) {
            assert!(close(*x, want, 0.01), "{x} vs {want}");
        }
        let d = s.distance_to_fraction(0.05).unwrap().distance_m().unwrap();
        assert!(close(d, 354.6, 0.02), "{d}");
        // 298 K: 371.5 m.
        let s = burro(298.0, 1.184).solve().unwrap();
        let d = s.distance_to_fraction(0.05).unwrap().distance_m().unwrap();
        assert!(close(d, 371.5, 0.02), "{d}");
    }

    #[test]
    fn the_fraction_falls_with_distance_and_is_pure_at_the_source() {
        let s = burro(288.15, 1.225).solve().unwrap();
        assert_eq!(s.fraction_at(0.0).unwrap(), 1.0);
        let mut last = 1.0;
        for i in 1..2000 {
            let x = f64::from(i) * 5.0;
            let c = s.fraction_at(x).unwrap();
            assert!(c <= last + 1e-12 && c > 0.0, "at {x}: {c} after {last}");
            last = c;
        }
        for bad in [f64::NAN, -1.0, f64::INFINITY] {
            assert!(s.fraction_at(bad).is_err());
            assert!(s.half_width_m(bad).is_err());
        }
        for bad in [f64::NAN, 0.0, -0.1, 1.5] {
            assert!(s.distance_to_fraction(bad).is_err());
        }
    }

    #[test]
    fn sources_outside_the_workbook_are_refused() {
        let mut light = burro(288.15, 1.225);
        light.source_density_kg_m3 = 0.7;
        assert!(light.solve().is_err());
        for field in 0..4 {
            let mut r = burro(288.15, 1.225);
            let v = [f64::NAN, -1.0, 0.0, f64::INFINITY][field];
            match field {
                0 => r.wind_speed_m_s = v,
                1 => r.ambient_density_kg_m3 = v,
                2 => r.release_temperature_k = v,
                _ => {
                    r.source = DenseSource::Continuous {
                        volume_rate_m3_s: v,
                    }
                }
            }
            assert!(r.solve().is_err(), "{field}");
        }
        // A large cold release in a near calm: α > 1 is past the curves.
        let mut calm = burro(288.15, 1.225);
        calm.wind_speed_m_s = 0.05;
        match calm.solve() {
            Err(SafetyError::InvalidInput { field: "alpha", .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_chlorine_puff_is_dense_and_reaches_far_at_low_levels() {
        // 10 t of chlorine gas at 1 atm, 239 K (boiling): ρ₀ ≈ 3.6 kg/m³.
        let rho0 = 101_325.0 * 0.070_906 / (8.314 * 239.0);
        let s = DenseGasRelease {
            source: DenseSource::Instantaneous {
                volume_m3: 10_000.0 / rho0,
            },
            source_density_kg_m3: rho0,
            ambient_density_kg_m3: 1.2,
            wind_speed_m_s: 2.0,
            release_temperature_k: 239.0,
            ambient_temperature_k: 293.0,
        }
        .solve()
        .unwrap();
        assert!(s.criterion.dense, "{}", s.criterion.reason);
        // AEGL-3 20 ppm, AEGL-2 2 ppm: farther for the lower level.
        let d3 = s.distance_to_fraction(20e-6).unwrap().as_ordered_m();
        let d2 = s.distance_to_fraction(2e-6).unwrap().as_ordered_m();
        assert!(d3 > 100.0 && d2 > d3, "{d3} {d2}");
        assert!(!s.unconfirmed.is_empty());
    }
}

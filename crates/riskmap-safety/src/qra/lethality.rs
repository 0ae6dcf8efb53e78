//! Probability of death at a place from one outcome in one weather class:
//! the Purple Book (CPR 18E) rules of Table 5.3 for an unprotected person
//! outdoors, and the **sector method** (PB ch. 6) for directional outcomes.
//!
//! Sector method (PB §6; `consequence-models.md` §5.1): with n wind
//! sectors, a plume that blows into a sector is spread uniformly over it, so
//! at distance r on the sector's arc
//!
//! P_d(r) = P_cl(r) · P_ci(r),  P_ci = min(1, n·ECW(r)/(2πr)),  ECW = PI/P_cl,
//!
//! P_cl the lethality on the plume centreline and PI = ∫ P(y) dy the
//! crosswind integral of the lethality, cut off where P < 1 %
//! ([`crosswind_integral`]). With a Gaussian plume the probit falls across
//! the plume as Y(y) = Y_cl − b·n·y²/(2σy²). For a flash fire P = 1 inside
//! the LFL envelope, so PI is the envelope's width.

use std::f64::consts::PI;

use crate::consequence::probit::probability_from_probit_unchecked;
use crate::error::{SafetyError, distance, finite, positive, unit_interval};

/// Distances below this (m) are evaluated at it: the point-source and plume
/// formulas are singular at the release point.
pub const MIN_DISTANCE_M: f64 = 1.0;

/// `v > 0` (false for NaN).
pub(crate) fn is_pos(v: f64) -> bool {
    v > 0.0
}

/// ∫_a^b f by Gauss–Legendre (20 nodes).
fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    crate::quadrature::integrate_1d(f, a, b)
}

/// The crosswind integral PI (m) of the lethality across a Gaussian plume:
/// PI = ∫ Φ(Y_cl − k·y² − 5) dy over the |y| where the probability is at
/// least the cut-off (probit `y_cut`), k = `b_times_n`/(2σy²).
///
/// `y_cl` is the probit on the centreline; `b_times_n` the product b·n of
/// the toxic probit Y = a + b·ln(Cⁿ·t); `sigma_y_m` the plume's σy. Zero when
/// the centreline itself is below the cut-off. Integrated by Gauss–Legendre
/// on both sides of the 50 % point (where the integrand turns over), 20
/// nodes each.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless both probits are finite and b·n and
/// σy finite numbers > 0 (a NaN probit is refused, never read as "below the
/// cut-off").
pub fn crosswind_integral(
    y_cl: f64,
    b_times_n: f64,
    sigma_y_m: f64,
    y_cut: f64,
) -> Result<f64, SafetyError> {
    Ok(crosswind_integral_unchecked(
        finite("y_cl", y_cl)?,
        positive("b_times_n", b_times_n)?,
        positive("sigma_y_m", sigma_y_m)?,
        finite("y_cut", y_cut)?,
    ))
}

/// [`crosswind_integral`] without the checks.
pub(crate) fn crosswind_integral_unchecked(
    y_cl: f64,
    b_times_n: f64,
    sigma_y_m: f64,
    y_cut: f64,
) -> f64 {
    let dy = y_cl - y_cut;
    if !is_pos(dy) || !is_pos(b_times_n) || !is_pos(sigma_y_m) {
        return 0.0;
    }
    let k = b_times_n / (2.0 * sigma_y_m * sigma_y_m);
    let y_max = (dy / k).sqrt();
    // In s = y/y_max ∈ [0, 1]: Φ(y_cl − dy·s² − 5).
    let g = |s: f64| probability_from_probit_unchecked(y_cl - dy * s * s);
    let s_half = if y_cl > 5.0 {
        ((y_cl - 5.0) / dy).sqrt().min(1.0)
    } else {
        0.0
    };
    let inner = if s_half > 0.0 {
        integrate(g, 0.0, s_half)
    } else {
        0.0
    };
    let outer = if s_half < 1.0 {
        integrate(g, s_half, 1.0)
    } else {
        0.0
    };
    2.0 * y_max * (inner + outer)
}

/// `n` if it is at least one sector.
fn sectors(n_sectors: usize) -> Result<usize, SafetyError> {
    if n_sectors >= 1 {
        Ok(n_sectors)
    } else {
        Err(SafetyError::InvalidInput {
            field: "n_sectors",
            value: 0.0,
            expected: "at least 1 sector",
        })
    }
}

/// P_ci = min(1, n·ECW/(2πr)): the share of the sector's arc at distance
/// `r_m` covered by an effective cloud width `ecw_m`, for `n_sectors`
/// sectors. Distances below [`MIN_DISTANCE_M`] (including 0) are evaluated
/// at it.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless ECW is a finite number ≥ 0, r a
/// finite distance ≥ 0 and there is at least one sector.
pub fn sector_fraction(ecw_m: f64, r_m: f64, n_sectors: usize) -> Result<f64, SafetyError> {
    let ecw = distance("ecw_m", ecw_m)?;
    let r = distance("r_m", r_m)?;
    let n = sectors(n_sectors)?;
    Ok(sector_fraction_unchecked(ecw, r, n))
}

fn sector_fraction_unchecked(ecw_m: f64, r_m: f64, n_sectors: usize) -> f64 {
    let r = r_m.max(MIN_DISTANCE_M);
    (n_sectors as f64 * ecw_m / (2.0 * PI * r)).min(1.0)
}

/// P_d of the sector method: P_cl·min(1, n·ECW/(2πr)) with ECW = PI/P_cl,
/// i.e. min(P_cl, n·PI/(2πr)); 0 when P_cl = 0.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless P_cl is in [0, 1], PI a finite
/// number ≥ 0, r a finite distance ≥ 0 and there is at least one sector.
pub fn sector_lethality(
    p_cl: f64,
    pi_m: f64,
    r_m: f64,
    n_sectors: usize,
) -> Result<f64, SafetyError> {
    let p = unit_interval("p_cl", p_cl)?;
    let pi = distance("pi_m", pi_m)?;
    let r = distance("r_m", r_m)?;
    let n = sectors(n_sectors)?;
    Ok(sector_lethality_unchecked(p, pi, r, n))
}

/// [`sector_lethality`] without the checks.
pub(crate) fn sector_lethality_unchecked(p_cl: f64, pi_m: f64, r_m: f64, n_sectors: usize) -> f64 {
    if p_cl <= 0.0 {
        return 0.0;
    }
    p_cl * sector_fraction_unchecked(pi_m / p_cl, r_m, n_sectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consequence::probit::probit_from_probability;

    #[test]
    fn crosswind_integral_without_cutoff_matches_closed_form() {
        // With the cut-off far out and a centreline probit well above 5,
        // compare against a fine trapezoid on the raw integrand.
        let (ycl, bn, sy) = (7.0, 2.0, 30.0);
        let ycut = probit_from_probability(0.01).unwrap();
        let k = bn / (2.0 * sy * sy);
        let ymax = ((ycl - ycut) / k).sqrt();
        let n = 200_000;
        let h = 2.0 * ymax / n as f64;
        let mut trap = 0.0;
        for i in 0..=n {
            let y = -ymax + i as f64 * h;
            let w = if i == 0 || i == n { 0.5 } else { 1.0 };
            trap += w * probability_from_probit_unchecked(ycl - k * y * y);
        }
        trap *= h;
        let pi = crosswind_integral(ycl, bn, sy, ycut).unwrap();
        assert!((pi - trap).abs() < 1e-6 * trap, "{pi} vs {trap}");
        assert_eq!(crosswind_integral(2.0, bn, sy, ycut).unwrap(), 0.0);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert!(crosswind_integral(bad, bn, sy, ycut).is_err());
            assert!(crosswind_integral(ycl, bn, bad, ycut).is_err());
        }
    }

    #[test]
    fn sector_fraction_caps_at_one() {
        assert_eq!(sector_fraction(1000.0, 10.0, 12).unwrap(), 1.0);
        let f = sector_fraction(10.0, 1000.0, 12).unwrap();
        assert!((f - 12.0 * 10.0 / (2.0 * PI * 1000.0)).abs() < 1e-15);
        assert_eq!(sector_lethality(0.0, 5.0, 100.0, 12).unwrap(), 0.0);
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
            assert!(sector_fraction(10.0, bad, 12).is_err());
            assert!(sector_lethality(0.5, 5.0, bad, 12).is_err());
            assert!(sector_lethality(bad, 5.0, 100.0, 12).is_err());
        }
        assert!(sector_lethality(1.5, 5.0, 100.0, 12).is_err());
        assert!(sector_fraction(10.0, 100.0, 0).is_err());
    }
}

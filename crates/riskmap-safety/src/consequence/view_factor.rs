//! Geometric view factors from a flame surface to a small target.
//!
//! The public functions refuse what they cannot answer (a NaN, infinite or
//! negative distance or size) with [`SafetyError::InvalidInput`]; the
//! consequence models call the unchecked forms after validating their own
//! inputs.

use std::f64::consts::PI;

use crate::error::{SafetyError, distance, positive};

/// Largest flame tilt the tilted-cylinder factor accepts, degrees (as
/// [`FlameTilt::Given`](crate::FlameTilt::Given)).
const MAX_TILT_DEG: f64 = 85.0;

/// View factors from a **vertical cylinder** (radius R, height H, standing on
/// the ground) to a small target at ground level at distance X from the
/// cylinder axis, X > R. Returns (F_v, F_h): the factor for a vertical
/// target facing the cylinder and for a horizontal (upward-facing) target.
///
/// Closed forms of Mudan (1984), as printed in CCPS *Guidelines for
/// Consequence Analysis* (1999) and TNO Yellow Book (CPR 14E, 1997)
/// App. 6.1, with h = H/R, S = X/R, A = (h² + S² + 1)/(2S), B = (1 + S²)/(2S):
///
/// F_v = 1/(πS)·atan(h/√(S²−1)) − h/(πS)·atan(√((S−1)/(S+1)))
///       + A·h/(πS√(A²−1))·atan(√((A+1)(S−1)/((A−1)(S+1))))
///
/// F_h = (B − 1/S)/(π√(B²−1))·atan(√((B+1)(S−1)/((B−1)(S+1))))
///       − (A − 1/S)/(π√(A²−1))·atan(√((A+1)(S−1)/((A−1)(S+1))))
///
/// They reproduce YB Table 6.A.1 (see the tests). For S ≤ 1 (target at or
/// inside the flame, including S = 0 on the axis) this returns (1, 1):
/// engulfment.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless h/R is a finite number > 0 and S a
/// finite number ≥ 0.
pub fn vertical_cylinder(h_over_r: f64, s: f64) -> Result<(f64, f64), SafetyError> {
    let h = positive("h_over_r", h_over_r)?;
    let s = distance("s", s)?;
    Ok(vertical_cylinder_unchecked(h, s))
}

/// [`vertical_cylinder`] without the input checks, for callers that
/// validated h/R > 0 and S ≥ 0.
pub(crate) fn vertical_cylinder_unchecked(h_over_r: f64, s: f64) -> (f64, f64) {
    if s <= 1.0 || h_over_r <= 0.0 {
        return (1.0, 1.0);
    }
    let h = h_over_r;
    let a = (h * h + s * s + 1.0) / (2.0 * s);
    let b = (1.0 + s * s) / (2.0 * s);
    let sm = s - 1.0;
    let sp = s + 1.0;
    let atan_a = (((a + 1.0) * sm) / ((a - 1.0) * sp)).sqrt().atan();
    let fv = (h / (s * s - 1.0).sqrt()).atan() / (PI * s) - h / (PI * s) * (sm / sp).sqrt().atan()
        + a * h / (PI * s * (a * a - 1.0).sqrt()) * atan_a;
    let fh = (b - 1.0 / s) / (PI * (b * b - 1.0).sqrt())
        * (((b + 1.0) * sm) / ((b - 1.0) * sp)).sqrt().atan()
        - (a - 1.0 / s) / (PI * (a * a - 1.0).sqrt()) * atan_a;
    (fv.clamp(0.0, 1.0), fh.clamp(0.0, 1.0))
}

/// The maximum view factor √(F_v² + F_h²) of [`vertical_cylinder`]: the
/// factor for the worst target orientation (YB ch. 6); 1 for S ≤ 1.
///
/// # Errors
/// As [`vertical_cylinder`].
pub fn vertical_cylinder_max(h_over_r: f64, s: f64) -> Result<f64, SafetyError> {
    let (fv, fh) = vertical_cylinder(h_over_r, s)?;
    if s <= 1.0 {
        return Ok(1.0);
    }
    Ok((fv * fv + fh * fh).sqrt().min(1.0))
}

/// View factors (F_v, F_h) from a **tilted (sheared) cylinder** to a small
/// target at ground level, **downwind** (in the direction of tilt), at
/// distance `x_m` from the centre of the base.
///
/// The flame has horizontal circular cross-sections of radius R whose
/// centres lie on an axis of length L tilted by θ from the vertical (the
/// sheared cylinder of TNO Yellow Book CPR 14E ch. 6 and App. 6.1, without
/// flame drag). The view factor is integrated numerically,
/// F = ∫∫ (m·s)⁺·(−n·s)/(π|s|⁴) dφ dz, s from target to flame, n the
/// (area-weighted) outward normal, m the target normal; on the lateral
/// surface −n·s ∝ (X·cosφ − R), so the visible part is |φ| < acos(R/X) at
/// every height and a 32×32 Gauss–Legendre rule over it is smooth. For
/// θ = 0 this returns the closed forms of [`vertical_cylinder`]. The
/// downwind target is the worst case; crosswind and upwind targets receive
/// less. At or inside the base (x ≤ R, including x = 0) it returns (1, 1):
/// engulfment.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless the radius and flame length are
/// finite numbers > 0, the tilt is in [0, 85°] (given in radians) and the
/// distance is a finite number ≥ 0.
pub fn tilted_cylinder(
    radius_m: f64,
    flame_length_m: f64,
    tilt_rad: f64,
    x_m: f64,
) -> Result<(f64, f64), SafetyError> {
    let r = positive("radius_m", radius_m)?;
    let l = positive("flame_length_m", flame_length_m)?;
    if !(tilt_rad.is_finite() && (0.0..=MAX_TILT_DEG.to_radians()).contains(&tilt_rad)) {
        return Err(SafetyError::InvalidInput {
            field: "tilt_rad",
            value: tilt_rad,
            expected: "an angle in [0, 85°], in radians",
        });
    }
    let x = distance("x_m", x_m)?;
    Ok(tilted_cylinder_unchecked(r, l, tilt_rad, x))
}

/// [`tilted_cylinder`] without the input checks, for callers that validated
/// them.
pub(crate) fn tilted_cylinder_unchecked(
    radius_m: f64,
    flame_length_m: f64,
    tilt_rad: f64,
    x_m: f64,
) -> (f64, f64) {
    if x_m <= radius_m {
        return (1.0, 1.0);
    }
    if tilt_rad == 0.0 {
        return vertical_cylinder_unchecked(flame_length_m / radius_m, x_m / radius_m);
    }
    let r = radius_m;
    let (sin_t, cos_t) = tilt_rad.sin_cos();
    let tan_t = sin_t / cos_t;
    let height = flame_length_m * cos_t;
    let phi0 = (r / x_m).acos();
    // Integrand over φ ∈ [0, φ0] (symmetric, doubled) and z ∈ [0, H].
    let kernel = |phi: f64, z: f64, vertical: bool| {
        let (sp, cp) = phi.sin_cos();
        let px = z * tan_t + r * cp;
        let (sx, sy, sz) = (px - x_m, r * sp, z);
        let s2 = sx * sx + sy * sy + sz * sz;
        let visible = r * (x_m * cp - r);
        let facing = if vertical { -sx } else { sz };
        if visible <= 0.0 || facing <= 0.0 {
            0.0
        } else {
            facing * visible / (PI * s2 * s2)
        }
    };
    let fv =
        2.0 * crate::quadrature::integrate_2d(|p, z| kernel(p, z, true), 0.0, phi0, 0.0, height);
    let fh =
        2.0 * crate::quadrature::integrate_2d(|p, z| kernel(p, z, false), 0.0, phi0, 0.0, height);
    (fv.clamp(0.0, 1.0), fh.clamp(0.0, 1.0))
}

/// View factor from a **sphere** of diameter D to a small target facing its
/// centre at distance r from the centre (r ≥ D/2): F = D²/(4r²)
/// (CCPS 1999, fireball). At or inside the sphere (r ≤ D/2, including
/// r = 0) it is 1.
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless D is a finite number > 0 and r a
/// finite number ≥ 0.
pub fn sphere_facing(diameter_m: f64, distance_from_centre_m: f64) -> Result<f64, SafetyError> {
    let d = positive("diameter_m", diameter_m)?;
    let r = distance("distance_from_centre_m", distance_from_centre_m)?;
    Ok(sphere_facing_unchecked(d, r))
}

/// [`sphere_facing`] without the input checks.
pub(crate) fn sphere_facing_unchecked(diameter_m: f64, distance_from_centre_m: f64) -> f64 {
    let r = distance_from_centre_m.max(0.5 * diameter_m);
    (diameter_m * diameter_m / (4.0 * r * r)).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reproduces_yellow_book_table_6a1() {
        // TNO Yellow Book CPR 14E Table 6.A.1, 1000·F printed for (h/R, X/R):
        // (2, 2): F_v 236, F_h 126; (1, 1.5): 312, 170; (5, 3): 161, 91;
        // (20, 10): 48, 26. The table is rounded to the unit, so compare to
        // 2 % (and ±1 unit).
        for (h, s, fv_p, fh_p) in [
            (2.0, 2.0, 236.0, 126.0),
            (1.0, 1.5, 312.0, 170.0),
            (5.0, 3.0, 161.0, 91.0),
            (20.0, 10.0, 48.0, 26.0),
        ] {
            let (fv, fh) = vertical_cylinder(h, s).unwrap();
            assert!(
                (1000.0 * fv - fv_p).abs() <= (0.02 * fv_p).max(1.0),
                "{h} {s} {fv}"
            );
            assert!(
                (1000.0 * fh - fh_p).abs() <= (0.02 * fh_p).max(1.0),
                "{h} {s} {fh}"
            );
        }
    }

    #[test]
    fn sphere_hand_example() {
        // D = 132.63 m, r = 141.05 m: F = 132.63²/(4·141.05²) = 17 590.7/79 580.4
        // = 0.22104 (consequence-models.md §3.1, propane truck: 0.2210).
        let f = sphere_facing(132.63, 141.05).unwrap();
        assert!((f - 0.2210).abs() / 0.2210 < 0.002, "{f}");
    }

    #[test]
    fn numeric_tilted_matches_closed_form_when_upright() {
        // With a tiny tilt the numerical integral must agree with Mudan's
        // closed form for the vertical cylinder.
        for (h, s) in [
            (2.0, 2.0),
            (1.0, 1.5),
            (5.0, 3.0),
            (20.0, 10.0),
            (3.0, 30.0),
        ] {
            let (fv, fh) = tilted_cylinder(1.0, h, 1e-9, s).unwrap();
            let (cv, ch) = vertical_cylinder(h, s).unwrap();
            assert!((fv - cv).abs() < 1e-6 * cv.max(1e-3), "{h} {s} {fv} {cv}");
            assert!((fh - ch).abs() < 1e-6 * ch.max(1e-3), "{h} {s} {fh} {ch}");
        }
    }

    #[test]
    fn reproduces_yellow_book_tilted_benzene_fire() {
        // TNO Yellow Book CPR 14E §6.6.3 (benzene pool fire; consequence-models.md
        // §2.4 c): D = 42.4457 m (R = 21.22285), L = 46.775 m, tilt 50.8287°,
        // target 100 m downwind of the pool centre. Printed: F_v = 0.091915,
        // F_h = 0.029146, F_max = √(F_v² + F_h²) = 0.0964.
        let (fv, fh) = tilted_cylinder(21.22285, 46.775, 50.8287f64.to_radians(), 100.0).unwrap();
        assert!((fv - 0.091915).abs() / 0.091915 < 0.002, "{fv}");
        assert!((fh - 0.029146).abs() / 0.029146 < 0.002, "{fh}");
    }

    #[test]
    fn refuses_what_it_cannot_answer() {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0] {
            assert!(vertical_cylinder(2.0, bad).is_err());
            assert!(vertical_cylinder(bad, 2.0).is_err());
            assert!(sphere_facing(10.0, bad).is_err());
            assert!(tilted_cylinder(1.0, 2.0, 0.3, bad).is_err());
            assert!(tilted_cylinder(1.0, 2.0, bad, 3.0).is_err());
        }
        assert!(vertical_cylinder(0.0, 2.0).is_err());
        assert!(tilted_cylinder(1.0, 2.0, 1.6, 3.0).is_err());
        // At zero distance: engulfment, the largest factor.
        assert_eq!(vertical_cylinder(2.0, 0.0).unwrap(), (1.0, 1.0));
        assert_eq!(tilted_cylinder(1.0, 2.0, 0.3, 0.0).unwrap(), (1.0, 1.0));
        assert_eq!(sphere_facing(10.0, 0.0).unwrap(), 1.0);
    }

    proptest! {
        #[test]
        fn cylinder_factor_falls_with_distance(h in 0.1f64..20.0, s in 1.0001f64..500.0, ds in 0.0f64..50.0) {
            prop_assert!(vertical_cylinder_max(h, s + ds).unwrap() <= vertical_cylinder_max(h, s).unwrap() + 1e-15);
        }

        #[test]
        fn taller_cylinder_is_seen_more(h in 0.1f64..20.0, dh in 0.0f64..20.0, s in 1.0001f64..500.0) {
            prop_assert!(vertical_cylinder_max(h + dh, s).unwrap() >= vertical_cylinder_max(h, s).unwrap() - 1e-15);
        }
    }
}

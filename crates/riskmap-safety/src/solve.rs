//! Robust inversion of "effect at a distance" into "distance to an effect
//! level".
//!
//! Every consequence model here gives an effect (heat flux, overpressure,
//! concentration) that falls with distance in the far field. Some rise first
//! in the near field: a ground receptor under an elevated plume or under a
//! fireball sees less close in. What a safety distance needs is the
//! **farthest** distance at which the effect is still at or above the level.
//!
//! [`outer_distance`] does this in two steps:
//! 1. a scan of [`SCAN_POINTS`] log-spaced distances from the far end of the
//!    range inwards, stopping at the first distance where the effect is at or
//!    above the level; this brackets the outermost crossing;
//! 2. bisection inside that bracket down to adjacent floating-point numbers
//!    (geometric midpoints while the bracket spans more than a factor 2, then
//!    arithmetic ones).
//!
//! For a non-increasing effect this is plain bisection and its answer is the
//! last float at which the effect is at or above the level, so a pointwise
//! larger effect never gives a smaller distance. A near-field bump narrower
//! than the scan spacing (a factor (hi/lo)^(1/SCAN_POINTS), 1.05 for
//! 1 mm–100 km) could be missed; no model here has one.

use crate::effect::Reach;

/// Number of log-spaced distances scanned before bisection.
pub const SCAN_POINTS: usize = 400;

/// The farthest `x` in `[lo, hi]` with `f(x) >= level`.
///
/// `lo` must be > 0 and < `hi`; a NaN effect counts as below the level.
/// Returns [`Reach::NotReached`] when no scanned point reaches the level and
/// [`Reach::BeyondRange`] when `f(hi)` does.
pub fn outer_distance(f: impl Fn(f64) -> f64, level: f64, lo: f64, hi: f64) -> Reach {
    let reaches = |x: f64| f(x) >= level;
    if reaches(hi) {
        return Reach::BeyondRange { max_distance_m: hi };
    }
    let ratio = (hi / lo).ln();
    let mut outer = hi; // invariant: !reaches(outer)
    let mut inner = None;
    for k in (0..SCAN_POINTS).rev() {
        let x = if k == 0 {
            lo
        } else {
            lo * (ratio * k as f64 / SCAN_POINTS as f64).exp()
        };
        if reaches(x) {
            inner = Some(x);
            break;
        }
        outer = x;
    }
    let Some(mut a) = inner else {
        return Reach::NotReached;
    };
    let mut b = outer;
    // Bisection to adjacent floats; 2 200 iterations is far more than the
    // ~64 + log2(log2(hi/lo)) needed and only guards against a bug.
    for _ in 0..2200 {
        let mid = if b > 2.0 * a {
            (a * b).sqrt()
        } else {
            0.5 * (a + b)
        };
        if mid <= a || mid >= b {
            break;
        }
        if reaches(mid) {
            a = mid;
        } else {
            b = mid;
        }
    }
    Reach::Within { distance_m: a }
}

/// The `x` in `[lo, hi]` with `f(x) = target` for a non-decreasing `f`,
/// by bisection to adjacent floats. `f(lo) <= target <= f(hi)` is assumed;
/// otherwise the nearer end is returned.
pub(crate) fn invert_increasing(f: impl Fn(f64) -> f64, target: f64, lo: f64, hi: f64) -> f64 {
    let (mut a, mut b) = (lo, hi);
    if f(a) >= target {
        return a;
    }
    if f(b) <= target {
        return b;
    }
    for _ in 0..2200 {
        let mid = 0.5 * (a + b);
        if mid <= a || mid >= b {
            break;
        }
        if f(mid) < target {
            a = mid;
        } else {
            b = mid;
        }
    }
    0.5 * (a + b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_square_law() {
        // f = 1/x², level 0.01 → x = 10 exactly.
        let r = outer_distance(|x| 1.0 / (x * x), 0.01, 1e-3, 1e5);
        let d = r.distance_m().unwrap();
        assert!((d - 10.0).abs() < 1e-12, "{d}");
    }

    #[test]
    fn not_reached_and_beyond() {
        assert_eq!(
            outer_distance(|x| 1.0 / x, 1e6, 1.0, 10.0),
            Reach::NotReached
        );
        assert_eq!(
            outer_distance(|_| 5.0, 1.0, 1.0, 10.0),
            Reach::BeyondRange {
                max_distance_m: 10.0
            }
        );
    }

    #[test]
    fn finds_outer_crossing_of_a_bump() {
        // Rises to a peak at x = 100 then falls: f = x e^{-x/100}.
        let f = |x: f64| x * (-x / 100.0).exp();
        let level = 10.0;
        let d = outer_distance(f, level, 1e-3, 1e5).distance_m().unwrap();
        assert!(d > 100.0);
        assert!((f(d) - level).abs() < 1e-9);
    }

    #[test]
    fn invert_increasing_finds_root() {
        let x = invert_increasing(|x| x * x * x, 27.0, 0.0, 10.0);
        assert!((x - 3.0).abs() < 1e-12);
    }
}

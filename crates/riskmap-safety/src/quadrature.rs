//! Gauss–Legendre quadrature, for view factors that have no closed form.

use std::f64::consts::PI;
use std::sync::LazyLock;

/// Number of Gauss–Legendre nodes used per dimension.
pub(crate) const NODES: usize = 32;

/// Nodes and weights on [−1, 1], computed once by Newton iteration on the
/// Legendre polynomial P_n (Golub–Welsch not needed at this size).
static GL: LazyLock<(Vec<f64>, Vec<f64>)> = LazyLock::new(|| gauss_legendre(NODES));

fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0; n];
    let mut w = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        // Initial guess (Abramowitz & Stegun 22.16.6 asymptotics).
        let mut z = (PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, z);
            for k in 2..=n {
                let kf = k as f64;
                let p2 = ((2.0 * kf - 1.0) * z * p1 - (kf - 1.0) * p0) / kf;
                p0 = p1;
                p1 = p2;
            }
            dp = n as f64 * (z * p1 - p0) / (z * z - 1.0);
            let dz = p1 / dp;
            z -= dz;
            if dz.abs() < 1e-15 {
                break;
            }
        }
        x[i] = -z;
        x[n - 1 - i] = z;
        let wi = 2.0 / ((1.0 - z * z) * dp * dp);
        w[i] = wi;
        w[n - 1 - i] = wi;
    }
    (x, w)
}

/// The 20-node rule of one-dimensional integrals.
static GL20: LazyLock<(Vec<f64>, Vec<f64>)> = LazyLock::new(|| gauss_legendre(20));

/// ∫_a^b f by 20-node Gauss–Legendre.
pub(crate) fn integrate_1d(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let (x, w) = &*GL20;
    let (h, m) = (0.5 * (b - a), 0.5 * (b + a));
    x.iter()
        .zip(w)
        .map(|(xi, wi)| wi * f(m + h * xi))
        .sum::<f64>()
        * h
}

/// ∫_a^b ∫_c^d f(u, v) dv du by an n×n Gauss–Legendre product rule.
pub(crate) fn integrate_2d(f: impl Fn(f64, f64) -> f64, a: f64, b: f64, c: f64, d: f64) -> f64 {
    let (x, w) = &*GL;
    let (hu, mu) = (0.5 * (b - a), 0.5 * (b + a));
    let (hv, mv) = (0.5 * (d - c), 0.5 * (d + c));
    let mut sum = 0.0;
    for (xi, wi) in x.iter().zip(w) {
        let u = mu + hu * xi;
        let mut inner = 0.0;
        for (xj, wj) in x.iter().zip(w) {
            inner += wj * f(u, mv + hv * xj);
        }
        sum += wi * inner;
    }
    sum * hu * hv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_polynomials_and_trig_exactly() {
        let (x, w) = &*GL;
        assert!((w.iter().sum::<f64>() - 2.0).abs() < 1e-13);
        assert!(x.windows(2).all(|p| p[0] < p[1]));
        // ∫0^1∫0^2 u³v⁵ dv du = (1/4)(64/6) = 8/3.
        let v = integrate_2d(|u, v| u.powi(3) * v.powi(5), 0.0, 1.0, 0.0, 2.0);
        assert!((v - 8.0 / 3.0).abs() < 1e-12);
        // ∫0^π sin = 2.
        let v = integrate_2d(|u, _| u.sin(), 0.0, PI, 0.0, 1.0);
        assert!((v - 2.0).abs() < 1e-12);
    }
}

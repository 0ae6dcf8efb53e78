//! LEC (D = L × E × C, `lec.toml`) and the 5 × 5 risk matrix (R = L × S,
//! `matrix-5x5.toml`).

use super::rules::ScalePoint;
use super::{Assessment, Builder, RiskLevel, Rules, band_for, fmt_num};

fn scale_label(scale: &[ScalePoint], x: f64) -> Option<&str> {
    scale
        .iter()
        .find(|p| (p.value - x).abs() < 1e-9)
        .map(|p| p.label.as_str())
}

/// 作业条件危险性评价法 (LEC): D = L × E × C, banded by `lec.toml` (≥ 320
/// red, ≥ 160 orange, ≥ 70 yellow, else blue, by default).
///
/// For industries the diagnosis model does not fit (工贸, 粉尘涉爆, …). A value
/// off its scale is used as given and reported in `incomplete`; a negative or
/// non-finite value makes D unusable, and the result is red (a broken input
/// never hides a risk), with the reason in `incomplete`.
pub fn assess_lec(l: f64, e: f64, c: f64, rules: &Rules) -> Assessment {
    let r = &rules.lec;
    let file = r.about.file.as_str();
    let mut b = Builder::default();
    let clause = format!("{} D = L × E × C", r.about.source);
    let mut valid = true;
    for (name, x, scale, key) in [
        ("L 事故发生的可能性 likelihood", l, &r.l_scale, "l_scale"),
        (
            "E 暴露于危险环境的频繁程度 exposure",
            e,
            &r.e_scale,
            "e_scale",
        ),
        ("C 事故后果 consequence", c, &r.c_scale, "c_scale"),
    ] {
        let label = scale_label(scale, x);
        b.factor(
            name,
            match label {
                Some(t) => format!("{} ({t})", fmt_num(x)),
                None => fmt_num(x),
            },
            None,
            clause.clone(),
        );
        if !(x.is_finite() && x >= 0.0) {
            valid = false;
            b.incomplete(format!(
                "{name} = {x} is not a non-negative number: D cannot be computed; graded red until assessed"
            ));
        } else if label.is_none() {
            b.incomplete(format!(
                "{name} = {} is not a value of `{key}` in {file}; used as given",
                fmt_num(x)
            ));
        }
    }
    let d = l * e * c;
    if !valid {
        let worst = r
            .bands
            .iter()
            .map(|band| band.level)
            .max()
            .unwrap_or(RiskLevel::Red);
        return b.finish(worst, None, &r.about);
    }
    let hit = band_for(&r.bands, d);
    b.check_bands(file, "bands", &hit);
    b.factor(
        "D 危险性分值 hazard score",
        format!("{} → {}", fmt_num(d), hit.band.label),
        None,
        clause,
    );
    if let Some(note) = &hit.band.note {
        b.convention(format!("{}: {note} (`bands` in {file})", hit.band.label));
    }
    b.finish(hit.band.level, Some(d), &r.about)
}

/// 5 × 5 risk matrix: R = L × S, L and S in 1..=5, banded by
/// `matrix-5x5.toml` (20–25 red, 9–16 orange, 4–8 yellow, 1–3 blue, by
/// default). A value outside 1..=5 is clamped into it and reported in
/// `incomplete`. Provinces use other bands: every assessment says so in
/// `unconfirmed`.
pub fn assess_matrix(l: u8, s: u8, rules: &Rules) -> Assessment {
    let r = &rules.matrix;
    let file = r.about.file.as_str();
    let mut b = Builder::default();
    let clause = format!("{} R = L × S", r.about.source);
    let mut clamped = [l, s];
    for (i, (name, key)) in [
        ("L 可能性 likelihood", "l_scale"),
        ("S 严重性 severity", "s_scale"),
    ]
    .into_iter()
    .enumerate()
    {
        let given = clamped[i];
        let v = given.clamp(1, 5);
        if v != given {
            b.incomplete(format!(
                "{name} = {given} is outside 1–5 (`{key}` in {file}); clamped to {v}"
            ));
        }
        clamped[i] = v;
        let scale = if i == 0 { &r.l_scale } else { &r.s_scale };
        let label = scale_label(scale, f64::from(v)).unwrap_or("");
        b.factor(name, format!("{v} ({label})"), None, clause.clone());
    }
    let product = f64::from(clamped[0]) * f64::from(clamped[1]);
    let hit = band_for(&r.bands, product);
    b.check_bands(file, "bands", &hit);
    b.check(
        r.province_variation_confidence,
        file,
        "bands",
        &r.province_variation,
    );
    b.factor(
        "R 风险值 risk value",
        format!("{} → {}", fmt_num(product), hit.band.label),
        None,
        clause,
    );
    b.finish(hit.band.level, Some(product), &r.about)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> &'static Rules {
        Rules::builtin()
    }

    #[test]
    fn lec_band_edges() {
        // (L, E, C) → D.
        let cases = [
            ((10.0, 10.0, 3.2), 320.0, RiskLevel::Red),
            ((10.0, 6.0, 40.0), 2400.0, RiskLevel::Red),
            ((10.0, 10.0, 3.19), 319.0, RiskLevel::Orange),
            ((10.0, 2.0, 8.0), 160.0, RiskLevel::Orange),
            ((10.0, 2.0, 7.99), 159.8, RiskLevel::Yellow),
            ((10.0, 1.0, 7.0), 70.0, RiskLevel::Yellow),
            ((10.0, 1.0, 6.99), 69.9, RiskLevel::Blue),
            ((10.0, 2.0, 1.0), 20.0, RiskLevel::Blue),
            ((0.1, 0.5, 1.0), 0.05, RiskLevel::Blue),
        ];
        for ((l, e, c), d, level) in cases {
            let a = assess_lec(l, e, c, rules());
            let score = a.score.unwrap();
            assert!((score - d).abs() < 1e-9, "D = {score}, expected {d}");
            assert_eq!(a.risk_level, level, "D = {d}");
            assert_eq!(&*a.model.id, "lec");
        }
    }

    #[test]
    fn lec_reports_unconfirmed_bands_and_off_scale_values() {
        // D = 126 lies in the 70–160 band, whose colour is [M].
        let a = assess_lec(3.0, 6.0, 7.0, rules());
        assert_eq!(a.risk_level, RiskLevel::Yellow);
        assert!(a.incomplete.is_empty());
        assert!(
            a.unconfirmed
                .iter()
                .any(|u| u.contains("lec.toml") && u.contains("bands[2]")),
            "{:?}",
            a.unconfirmed
        );
        // D = 1800 is confirmed [C-2] territory.
        let a = assess_lec(10.0, 6.0, 30.0, rules());
        assert!(
            a.incomplete.iter().any(|i| i.contains("c_scale")),
            "30 is off the C scale"
        );
        assert!(a.unconfirmed.is_empty(), "{:?}", a.unconfirmed);
        // 20–70 → blue carries its note.
        let a = assess_lec(1.0, 6.0, 7.0, rules());
        assert!(a.conventions.iter().any(|c| c.contains("yellow")));
        // Broken input → red, not assessed.
        let a = assess_lec(f64::NAN, 6.0, 7.0, rules());
        assert_eq!((a.risk_level, a.score), (RiskLevel::Red, None));
        let a = assess_lec(-1.0, 6.0, 7.0, rules());
        assert_eq!(a.risk_level, RiskLevel::Red);
    }

    #[test]
    fn matrix_band_edges() {
        let cases = [
            ((5, 5), 25.0, RiskLevel::Red),
            ((4, 5), 20.0, RiskLevel::Red),
            ((4, 4), 16.0, RiskLevel::Orange),
            ((3, 3), 9.0, RiskLevel::Orange),
            ((2, 4), 8.0, RiskLevel::Yellow),
            ((2, 2), 4.0, RiskLevel::Yellow),
            ((1, 3), 3.0, RiskLevel::Blue),
            ((1, 1), 1.0, RiskLevel::Blue),
        ];
        for ((l, s), r, level) in cases {
            let a = assess_matrix(l, s, rules());
            assert_eq!(a.score, Some(r));
            assert_eq!(a.risk_level, level, "R = {r}");
            assert_eq!(&*a.model.id, "matrix-5x5");
            assert!(
                a.unconfirmed.iter().any(|u| u.contains("province")),
                "{:?}",
                a.unconfirmed
            );
        }
        // Every product of the matrix is covered, and the level never falls as L or S rise.
        for l in 1..=5u8 {
            for s in 1..=5u8 {
                let here = assess_matrix(l, s, rules()).risk_level;
                if l < 5 {
                    assert!(assess_matrix(l + 1, s, rules()).risk_level >= here);
                }
                if s < 5 {
                    assert!(assess_matrix(l, s + 1, rules()).risk_level >= here);
                }
            }
        }
    }

    #[test]
    fn matrix_clamps_out_of_range_values() {
        let a = assess_matrix(0, 9, rules());
        assert_eq!(a.score, Some(5.0));
        assert_eq!(a.incomplete.len(), 2);
    }
}

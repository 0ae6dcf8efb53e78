//! The four-colour grid (四色图) of a city or region: each cell combines the
//! levels of the risk sources that touch it, by the max rule (就高原则) or a
//! weighted index (`grid.toml`). Both are project methods (standards.md §5.7):
//! no national method exists.

use super::{Assessment, Builder, RiskLevel, Rules, band_for, fmt_num};

/// 就高原则: the most severe level, `None` when there is none.
pub fn grid_level_max(levels: impl IntoIterator<Item = RiskLevel>) -> Option<RiskLevel> {
    levels.into_iter().max()
}

fn counts_of(levels: impl IntoIterator<Item = RiskLevel>) -> [u32; 4] {
    let mut counts = [0u32; 4];
    for l in levels {
        counts[l.index()] = counts[l.index()].saturating_add(1);
    }
    counts
}

fn counts_text(counts: [u32; 4]) -> String {
    RiskLevel::ALL
        .iter()
        .zip(counts)
        .map(|(l, n)| format!("{} {n}", l.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The max rule as an [`Assessment`] (model `grid-max`): the cell takes the
/// colour of its most severe source; a cell with no source is blue.
pub fn assess_grid_max(levels: impl IntoIterator<Item = RiskLevel>, rules: &Rules) -> Assessment {
    let g = &rules.grid;
    let counts = counts_of(levels);
    let mut b = Builder::default();
    let level = RiskLevel::ALL
        .into_iter()
        .rev()
        .find(|l| counts[l.index()] > 0);
    b.factor(
        "风险源 risk sources in the cell",
        counts_text(counts),
        None,
        format!("{} 就高原则", g.about.file),
    );
    b.convention(g.max_rule.clone());
    b.convention(
        "grid aggregation is a project method (standards.md §5.7): no national method exists",
    );
    b.finish_as(
        level.unwrap_or(RiskLevel::Blue),
        None,
        "grid-max",
        &g.about.version,
    )
}

/// The weighted index of a cell: Σ weight(level) × count(level), with
/// `counts` in [`RiskLevel::ALL`] order (blue, yellow, orange, red), and its
/// band. Weights and bands are in `grid.toml`.
pub fn grid_weighted_index(counts: [u32; 4], rules: &Rules) -> (f64, RiskLevel) {
    let g = &rules.grid;
    let index: f64 = g
        .weights
        .as_array()
        .iter()
        .zip(counts)
        .map(|(w, n)| w * f64::from(n))
        .sum();
    (index, band_for(&g.bands, index).band.level)
}

/// The weighted index as an [`Assessment`] (model `grid-weighted`).
pub fn assess_grid_weighted(counts: [u32; 4], rules: &Rules) -> Assessment {
    let g = &rules.grid;
    let (index, level) = grid_weighted_index(counts, rules);
    let hit = band_for(&g.bands, index);
    let mut b = Builder::default();
    let w = &g.weights;
    b.factor(
        "风险源 risk sources in the cell",
        counts_text(counts),
        None,
        format!(
            "{} weights: blue {}, yellow {}, orange {}, red {}",
            g.about.file,
            fmt_num(w.blue),
            fmt_num(w.yellow),
            fmt_num(w.orange),
            fmt_num(w.red)
        ),
    );
    b.factor(
        "加权指数 weighted index",
        format!("{} → {}", fmt_num(index), hit.band.label),
        None,
        format!("{} bands", g.about.file),
    );
    b.check_bands(&g.about.file, "bands", &hit);
    b.convention("the weighted grid index, its weights and bands are a project method (standards.md §5.7), not a quoted standard");
    b.finish_as(level, Some(index), "grid-weighted", &g.about.version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rules() -> &'static Rules {
        Rules::builtin()
    }

    #[test]
    fn max_rule() {
        use RiskLevel::*;
        assert_eq!(grid_level_max([]), None);
        assert_eq!(grid_level_max([Blue, Orange, Yellow]), Some(Orange));
        assert_eq!(grid_level_max(vec![Red, Blue]), Some(Red));
        let a = assess_grid_max([Yellow, Yellow, Blue], rules());
        assert_eq!(a.risk_level, Yellow);
        assert_eq!(&*a.model.id, "grid-max");
        assert!(a.factors[0].value.contains("yellow 2"));
        assert_eq!(assess_grid_max([], rules()).risk_level, Blue);
    }

    #[test]
    fn weighted_index_bands() {
        let cases = [
            ([0, 0, 0, 0], 0.0, RiskLevel::Blue),
            ([5, 0, 0, 0], 2.5, RiskLevel::Blue),
            ([6, 0, 0, 0], 3.0, RiskLevel::Yellow),
            ([0, 1, 0, 0], 3.0, RiskLevel::Yellow),
            ([1, 2, 0, 0], 6.5, RiskLevel::Yellow),
            ([0, 3, 0, 0], 9.0, RiskLevel::Orange),
            ([0, 0, 1, 0], 9.0, RiskLevel::Orange),
            ([1, 0, 2, 0], 18.5, RiskLevel::Orange),
            ([0, 0, 3, 0], 27.0, RiskLevel::Red),
            ([0, 0, 0, 1], 27.0, RiskLevel::Red),
        ];
        for (counts, index, level) in cases {
            assert_eq!(
                grid_weighted_index(counts, rules()),
                (index, level),
                "{counts:?}"
            );
        }
        let a = assess_grid_weighted([0, 0, 2, 0], rules());
        assert_eq!(
            (&*a.model.id, a.score, a.risk_level),
            ("grid-weighted", Some(18.0), RiskLevel::Orange)
        );
        assert!(a.conventions[0].contains("project method"));
    }

    proptest! {
        #[test]
        fn max_is_at_least_every_level(levels in prop::collection::vec(0usize..4, 0..10)) {
            let levels: Vec<RiskLevel> = levels.into_iter().map(|i| RiskLevel::ALL[i]).collect();
            let max = grid_level_max(levels.iter().copied());
            prop_assert!(levels.iter().all(|l| Some(*l) <= max));
            prop_assert_eq!(max.is_none(), levels.is_empty());
        }

        /// Adding a source never lowers the weighted level.
        #[test]
        fn weighted_is_monotone(counts in prop::array::uniform4(0u32..20), add in 0usize..4) {
            let (i0, l0) = grid_weighted_index(counts, rules());
            let mut more = counts;
            more[add] += 1;
            let (i1, l1) = grid_weighted_index(more, rules());
            prop_assert!(i1 >= i0);
            prop_assert!(l1 >= l0);
        }
    }
}

//! Chemical-park grading: 化工园区安全风险排查治理导则 (应急〔2023〕123号) bands
//! on the park's own evaluation score, raised by the project's spatial floors
//! (`park-2023.toml`).

use serde::{Deserialize, Serialize};

use super::rules::ParkMetric;
use super::{Assessment, Builder, RiskLevel, Rules, band_for, fmt_num};
use crate::model::{Park, ParkKind};

/// The spatial aggregate of a park, computed elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ParkContext {
    /// Levels of the enterprises inside the park.
    pub enterprise_levels: Vec<RiskLevel>,
    /// Grades (1–4) of the major hazard installations inside the park.
    pub major_hazard_grades: Vec<u8>,
    /// Residents inside the park outline.
    pub population_inside: u64,
    /// Residents in the buffer ring around the park.
    pub population_buffer: u64,
}

impl ParkContext {
    fn metric(&self, m: ParkMetric) -> f64 {
        let count = |n: usize| n as f64;
        match m {
            ParkMetric::RedEnterprises => count(
                self.enterprise_levels
                    .iter()
                    .filter(|l| **l == RiskLevel::Red)
                    .count(),
            ),
            ParkMetric::OrangeOrAboveEnterprises => count(
                self.enterprise_levels
                    .iter()
                    .filter(|l| **l >= RiskLevel::Orange)
                    .count(),
            ),
            ParkMetric::Grade1Hazards => {
                count(self.major_hazard_grades.iter().filter(|g| **g == 1).count())
            }
            ParkMetric::Grade1Or2Hazards => count(
                self.major_hazard_grades
                    .iter()
                    .filter(|g| (1..=2).contains(*g))
                    .count(),
            ),
            ParkMetric::MajorHazards => count(self.major_hazard_grades.len()),
            ParkMetric::PopulationInside => self.population_inside as f64,
            ParkMetric::PopulationBuffer => self.population_buffer as f64,
        }
    }
}

/// Grades a park.
///
/// 1. The park's evaluation score (`Park::assessment_score`, 0–100) gives the
///    导则 grade: A < 60 (red), B 60–<70 (orange), C 70–<85 (yellow), D ≥ 85
///    (blue). Without a valid score the grade is not assessed and the level
///    comes from step 2 alone (a lower bound).
/// 2. Project method: each configured floor whose aggregate of `ctx` reaches
///    its threshold raises the level to at least the floor's level. Floors
///    never lower a level.
pub fn assess_park(p: &Park, ctx: &ParkContext, rules: &Rules) -> Assessment {
    let r = &rules.park;
    let file = r.about.file.as_str();
    let mut b = Builder::default();
    b.check(
        r.about.document_confidence,
        file,
        "about.document",
        &format!("document number {}", r.about.document),
    );
    if p.kind != ParkKind::Chemical {
        b.convention(format!(
            "the 导则 grades 化工园区; this {} park is graded with the same bands and floors",
            match p.kind {
                ParkKind::Industrial => "industrial",
                ParkKind::Logistics => "logistics",
                _ => "non-chemical",
            }
        ));
    }

    let score = p
        .assessment_score
        .filter(|s| s.is_finite() && *s >= r.min_score && *s <= r.max_score);
    let mut level = RiskLevel::Blue;
    match (score, p.assessment_score) {
        (Some(s), _) => {
            let hit = band_for(&r.bands, s);
            b.check_bands(file, "bands", &hit);
            level = hit.band.level;
            b.factor(
                "园区安全风险评估得分 park evaluation score",
                format!("{} → {}", fmt_num(s), hit.band.label),
                None,
                format!("{} ({})", r.about.source, r.about.document),
            );
            b.convention(r.colour_convention.clone());
        }
        (None, given) => {
            b.incomplete(format!(
                "园区安全风险评估得分 park evaluation score: {}; the 导则 grade is not assessed and the level comes from the spatial floors alone (a lower bound)",
                match given {
                    Some(s) => format!("{s} is outside {}–{}", fmt_num(r.min_score), fmt_num(r.max_score)),
                    None => "missing".to_string(),
                }
            ));
        }
    }
    b.incomplete(r.veto_items_note.clone());

    let adj = &r.adjustments;
    b.convention(adj.method.clone());
    for (i, f) in adj.floors.iter().enumerate() {
        let v = ctx.metric(f.metric);
        let hit = v >= f.min;
        let raises = hit && f.level > level;
        b.factor(
            format!("空间修正 spatial floor: {}", f.metric.name()),
            format!(
                "{} (threshold {} → at least {}){}",
                fmt_num(v),
                fmt_num(f.min),
                f.level.as_str(),
                if raises {
                    " — raises the level"
                } else if hit {
                    " — reached"
                } else {
                    ""
                }
            ),
            None,
            format!(
                "{file} adjustments.floors[{i}] (project method): {}",
                f.note
            ),
        );
        if hit {
            level = level.max(f.level);
        }
    }
    let grades_out_of_range = ctx
        .major_hazard_grades
        .iter()
        .filter(|g| !(1..=4).contains(*g))
        .count();
    if grades_out_of_range > 0 {
        b.incomplete(format!(
            "{grades_out_of_range} major hazard grade(s) outside 1–4 ignored"
        ));
    }
    b.finish(level, score, &r.about)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn park(score: Option<f64>) -> Park {
        Park {
            name: "示例化工园区".into(),
            kind: ParkKind::Chemical,
            assessment_score: score,
            extra: Default::default(),
        }
    }

    fn level(score: Option<f64>, ctx: &ParkContext) -> RiskLevel {
        assess_park(&park(score), ctx, Rules::builtin()).risk_level
    }

    #[test]
    fn score_band_edges() {
        let c = ParkContext::default();
        let cases = [
            (100.0, RiskLevel::Blue),
            (85.0, RiskLevel::Blue),
            (84.99, RiskLevel::Yellow),
            (70.0, RiskLevel::Yellow),
            (69.99, RiskLevel::Orange),
            (60.0, RiskLevel::Orange),
            (59.99, RiskLevel::Red),
            (0.0, RiskLevel::Red),
        ];
        for (s, l) in cases {
            assert_eq!(level(Some(s), &c), l, "score {s}");
        }
        let a = assess_park(&park(Some(72.0)), &c, Rules::builtin());
        assert_eq!(a.score, Some(72.0));
        assert_eq!(&*a.model.id, "park-guideline-2023");
        assert!(a.factors[0].value.contains("C类"), "{}", a.factors[0].value);
        assert!(a.conventions.iter().any(|c| c.contains("A→red")));
        assert!(a.conventions.iter().any(|c| c.contains("project method")));
    }

    #[test]
    fn missing_or_bad_score_is_incomplete() {
        let c = ParkContext::default();
        for s in [None, Some(f64::NAN), Some(120.0), Some(-1.0)] {
            let a = assess_park(&park(s), &c, Rules::builtin());
            assert_eq!(a.risk_level, RiskLevel::Blue);
            assert_eq!(a.score, None);
            assert!(
                a.incomplete[0].contains("not assessed"),
                "{:?}",
                a.incomplete
            );
        }
    }

    #[test]
    fn spatial_floors_raise_but_never_lower() {
        let red = ParkContext {
            enterprise_levels: vec![RiskLevel::Red],
            ..Default::default()
        };
        assert_eq!(level(Some(95.0), &red), RiskLevel::Orange);
        assert_eq!(level(Some(50.0), &red), RiskLevel::Red);
        let three_red = ParkContext {
            enterprise_levels: vec![RiskLevel::Red; 3],
            ..Default::default()
        };
        assert_eq!(level(Some(95.0), &three_red), RiskLevel::Red);
        let grade1 = ParkContext {
            major_hazard_grades: vec![1, 3],
            ..Default::default()
        };
        assert_eq!(level(None, &grade1), RiskLevel::Yellow);
        let people = ParkContext {
            population_inside: 1000,
            ..Default::default()
        };
        assert_eq!(level(Some(90.0), &people), RiskLevel::Orange);
        let few = ParkContext {
            population_inside: 999,
            ..Default::default()
        };
        assert_eq!(level(Some(90.0), &few), RiskLevel::Blue);
    }

    fn arb_ctx() -> impl Strategy<Value = ParkContext> {
        (
            prop::collection::vec(0usize..4, 0..8),
            prop::collection::vec(1u8..5, 0..8),
            0u64..3000,
            0u64..30000,
        )
            .prop_map(|(levels, grades, inside, buffer)| ParkContext {
                enterprise_levels: levels.into_iter().map(|i| RiskLevel::ALL[i]).collect(),
                major_hazard_grades: grades,
                population_inside: inside,
                population_buffer: buffer,
            })
    }

    proptest! {
        /// More (or worse) enterprises, hazards or people never lower the level;
        /// a lower score never lowers it either.
        #[test]
        fn monotone(
            c in arb_ctx(),
            score in prop::option::of(0.0f64..100.0),
            extra_level in 0usize..4,
            extra_grade in 1u8..5,
            more_people in 0u64..5000,
            less in 0.0f64..30.0,
        ) {
            let before = level(score, &c);
            let mut more = c.clone();
            more.enterprise_levels.push(RiskLevel::ALL[extra_level]);
            more.major_hazard_grades.push(extra_grade);
            more.population_inside += more_people;
            more.population_buffer += more_people;
            prop_assert!(level(score, &more) >= before);
            let lower = score.map(|s| (s - less).max(0.0));
            prop_assert!(level(lower, &c) >= before || score.is_none());
        }
    }
}

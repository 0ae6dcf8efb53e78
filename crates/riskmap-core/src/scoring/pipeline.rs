//! Pipeline high-consequence areas (高后果区, HCA): GB 32167-2015
//! 油气输送管道完整性管理规范, gas criteria (输气管道) and liquid criteria
//! (输油管道), `pipeline-hca-gb32167.toml`.

use serde::{Deserialize, Serialize};

use super::rules::HcaCriterion;
use super::{Assessment, Builder, Rules, fmt_num};
use crate::model::{Pipeline, PipelineKind, TargetCategory};

/// HCA level (高后果区等级). III is the most severe: `I < II < III`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum HcaLevel {
    /// Ⅰ级.
    I,
    /// Ⅱ级.
    II,
    /// Ⅲ级.
    III,
}

impl HcaLevel {
    /// From 1, 2 or 3.
    pub fn from_number(n: u8) -> Option<HcaLevel> {
        match n {
            1 => Some(HcaLevel::I),
            2 => Some(HcaLevel::II),
            3 => Some(HcaLevel::III),
            _ => None,
        }
    }

    /// `I`, `II` or `III`.
    pub fn as_str(self) -> &'static str {
        match self {
            HcaLevel::I => "I",
            HcaLevel::II => "II",
            HcaLevel::III => "III",
        }
    }
}

/// The spatial facts of one pipeline segment, computed elsewhere with the
/// distances of `pipeline-hca-gb32167.toml` (`[distances]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentContext {
    /// Households (户) within 200 m on each side of the centre-line, in the
    /// 2 km length that contains the most (三级地区 test: ≥ 100).
    pub households_within_200m_2km_window: u64,
    /// The caller judged the segment a 四级地区 (class-4 location): ≥ 4-storey
    /// buildings common, heavy traffic, much underground infrastructure.
    pub class4_indicators: bool,
    /// Population density in the 200 m corridor, people/km², when known: at or
    /// above `class4_proxy.population_density_min_per_km2` the segment is
    /// taken as class 4 (a project proxy for the storey test).
    pub population_density_per_km2: Option<f64>,
    /// Categories of the protection targets within the potential impact radius
    /// r ([`potential_impact_radius_m`]; search radius: [`special_site_radius_m`]).
    pub special_sites_within_r: Vec<TargetCategory>,
    /// Categories of the protection targets within 200 m on each side.
    pub special_sites_within_200m: Vec<TargetCategory>,
    /// 加油站, 油库 and other flammable/explosive sites within 200 m each side.
    pub flammable_sites_within_200m: u32,
    /// Liquid: a village or town (村庄、乡镇) of ≥ 50 households within 200 m.
    pub villages_50_households_within_200m: bool,
    /// Liquid: flammable/explosive sites within 50 m each side.
    pub flammable_sites_within_50m: u32,
    /// Liquid: 高速公路, 国道, 省道 or 铁路 within 50 m; `None` = not computed.
    pub roads_or_railways_within_50m: Option<bool>,
    /// Liquid: wetland, forest, estuary or other national nature reserve
    /// within 200 m; `None` = not computed.
    pub nature_reserve_within_200m: Option<bool>,
    /// Liquid: water source, river, large or medium reservoir within 200 m;
    /// `None` = not computed.
    pub water_source_within_200m: Option<bool>,
}

/// Potential impact radius (潜在影响半径) of a gas pipeline, m:
/// r = 0.099 · √(d² · p), GB 32167-2015 式(1), with d the outside diameter in
/// mm and p the MAOP in MPa. The coefficient is `impact_radius.coefficient` of
/// the built-in rules. A non-positive or non-finite input gives 0.
pub fn potential_impact_radius_m(diameter_mm: f64, maop_mpa: f64) -> f64 {
    radius(Rules::builtin(), diameter_mm, maop_mpa)
}

fn radius(rules: &Rules, d: f64, p: f64) -> f64 {
    if d.is_finite() && p.is_finite() && d > 0.0 && p > 0.0 {
        rules.pipeline.impact_radius.coefficient * (d * d * p).sqrt()
    } else {
        0.0
    }
}

/// How far to search for 特定场所 for `SegmentContext::special_sites_within_r`:
/// the potential impact radius r for pipes under gas criteria c) and d) (large
/// or small pipes), otherwise the 200 m corridor of criterion e).
pub fn special_site_radius_m(p: &Pipeline, rules: &Rules) -> f64 {
    match pipe_size(p, rules) {
        PipeSize::Large | PipeSize::Small => radius(rules, p.diameter_mm, p.maop_mpa),
        PipeSize::Other => rules.pipeline.distances.corridor_m,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum PipeSize {
    Large,
    Small,
    Other,
}

fn pipe_size(p: &Pipeline, rules: &Rules) -> PipeSize {
    let r = &rules.pipeline;
    if p.diameter_mm > r.large_pipe.diameter_mm_gt && p.maop_mpa > r.large_pipe.maop_mpa_gt {
        PipeSize::Large
    } else if p.diameter_mm < r.small_pipe.diameter_mm_lt && p.maop_mpa < r.small_pipe.maop_mpa_lt {
        PipeSize::Small
    } else {
        PipeSize::Other
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Medium {
    Gas,
    Liquid,
}

/// The HCA level of a segment: the highest level among the criteria it meets
/// (see [`assess_pipeline_segment`]); `None` when it is not an HCA.
pub fn hca_level(p: &Pipeline, ctx: &SegmentContext, rules: &Rules) -> Option<HcaLevel> {
    evaluate(p, ctx, rules, &mut Builder::default())
}

/// Grades a pipeline segment by its GB 32167 HCA level.
///
/// - Gas transmission (输气管道) uses the gas criteria a–f (standards.md
///   §6.2); oil (输油管道) the liquid criteria a–f (§6.3). Urban gas mains
///   (城镇燃气) use the gas criteria, and the assessment says so. Other
///   pipelines are classed by their medium (油 → liquid, else gas).
/// - The level is the highest one among the criteria met; the colour follows
///   the project convention III→red, II→orange, I→yellow, none→blue
///   (`[colours]`), which is not in GB 32167.
pub fn assess_pipeline_segment(p: &Pipeline, ctx: &SegmentContext, rules: &Rules) -> Assessment {
    let r = &rules.pipeline;
    let mut b = Builder::default();
    let hca = evaluate(p, ctx, rules, &mut b);
    let c = &r.colours;
    let level = match hca {
        None => c.none,
        Some(HcaLevel::I) => c.level1,
        Some(HcaLevel::II) => c.level2,
        Some(HcaLevel::III) => c.level3,
    };
    b.factor(
        "高后果区等级 HCA level",
        hca.map_or_else(
            || "not a high-consequence area".to_string(),
            |h| format!("{} → {}", h.as_str(), level.as_str()),
        ),
        None,
        format!("{} 高后果区识别", r.about.document),
    );
    b.convention(c.note.clone());
    b.finish(level, None, &r.about)
}

fn evaluate(
    p: &Pipeline,
    ctx: &SegmentContext,
    rules: &Rules,
    b: &mut Builder,
) -> Option<HcaLevel> {
    let r = &rules.pipeline;
    let file = r.about.file.as_str();
    let medium = match p.kind {
        PipelineKind::GasTransmission => Medium::Gas,
        PipelineKind::Oil => Medium::Liquid,
        PipelineKind::UrbanGas => {
            b.convention(r.urban_gas_note.clone());
            Medium::Gas
        }
        PipelineKind::Other => {
            let m = p.medium.as_deref().unwrap_or("");
            if m.contains('油') || m.to_lowercase().contains("oil") {
                b.convention(format!(
                    "pipeline of kind `other` with medium {m:?}: assessed with the liquid (输油管道) criteria"
                ));
                Medium::Liquid
            } else {
                if m.trim().is_empty() {
                    b.incomplete(
                        "pipeline of kind `other` without a medium: assessed with the gas (输气管道) criteria",
                    );
                } else {
                    b.convention(format!(
                        "pipeline of kind `other` with medium {m:?}: assessed with the gas (输气管道) criteria"
                    ));
                }
                Medium::Gas
            }
        }
    };

    let d = &r.distances;
    let class4_by_density = ctx
        .population_density_per_km2
        .is_some_and(|x| x >= r.class4_proxy.population_density_min_per_km2);
    let class4 = ctx.class4_indicators || class4_by_density;
    let class3 = ctx.households_within_200m_2km_window >= d.class3_min_households;
    b.check(
        d.confidence,
        file,
        "distances",
        "HCA distances and household counts",
    );
    if class4_by_density && !ctx.class4_indicators {
        b.convention(r.class4_proxy.note.clone());
    }

    let mut level: Option<HcaLevel> = None;
    let mut criterion =
        |b: &mut Builder, c: Option<&HcaCriterion>, key: &str, met: bool, value: String| {
            let Some(c) = c else {
                return;
            };
            b.factor(
                format!("{}) {}", c.item, c.text),
                format!("{} — {value}", if met { "met" } else { "not met" }),
                None,
                c.clause.clone(),
            );
            if met {
                b.check(
                    c.confidence,
                    file,
                    &format!("{key}[item = \"{}\"]", c.item),
                    &format!("HCA criterion {}", c.clause),
                );
                level = level.max(HcaLevel::from_number(c.level));
            }
        };

    let class4_value = if ctx.class4_indicators {
        "class-4 indicators given".to_string()
    } else if let Some(x) = ctx.population_density_per_km2 {
        format!(
            "population density {} /km² (proxy threshold {})",
            fmt_num(x),
            fmt_num(r.class4_proxy.population_density_min_per_km2)
        )
    } else {
        "no class-4 indicators".to_string()
    };
    let class3_value = format!(
        "{} households within {} m in a {} m window (threshold {})",
        ctx.households_within_200m_2km_window,
        fmt_num(d.corridor_m),
        fmt_num(d.window_m),
        d.class3_min_households
    );

    match medium {
        Medium::Gas => {
            let item = |i: &str| r.gas_item(i);
            criterion(b, item("a"), "gas", class4, class4_value);
            criterion(b, item("b"), "gas", class3, class3_value);

            let valid = p.diameter_mm.is_finite()
                && p.maop_mpa.is_finite()
                && p.diameter_mm > 0.0
                && p.maop_mpa > 0.0;
            if !valid {
                b.incomplete(format!(
                    "diameter {} mm / MAOP {} MPa are not positive numbers: potential impact radius not computed; criteria c) and d) not applicable",
                    p.diameter_mm, p.maop_mpa
                ));
            }
            let size = pipe_size(p, rules);
            let rad = radius(rules, p.diameter_mm, p.maop_mpa);
            let sites = |v: &[TargetCategory]| -> (usize, Vec<String>) {
                let mut ignored = Vec::new();
                let n = v
                    .iter()
                    .filter(|c| {
                        let special = r.special_sites.contains(**c);
                        if !special {
                            ignored.push(category_name(**c));
                        }
                        special
                    })
                    .count();
                ignored.sort();
                ignored.dedup();
                (n, ignored)
            };
            let describe = |(n, ignored): (usize, Vec<String>), zone: String| {
                let mut s = format!("{n} 特定场所 within {zone}");
                if !ignored.is_empty() {
                    s.push_str(&format!(" (not 特定场所, ignored: {})", ignored.join(", ")));
                }
                s
            };
            b.check(
                r.special_sites.confidence,
                file,
                "special_sites",
                "the 特定场所 definitions (which target categories count)",
            );
            let within_r = sites(&ctx.special_sites_within_r);
            let within_200 = sites(&ctx.special_sites_within_200m);
            let zone_r = format!("r = {} m", fmt_num(rad));
            let dims = format!(
                "d = {} mm, MAOP = {} MPa",
                fmt_num(p.diameter_mm),
                fmt_num(p.maop_mpa)
            );
            if size != PipeSize::Other {
                b.factor(
                    "潜在影响半径 potential impact radius",
                    format!("{zone_r} ({dims})"),
                    None,
                    r.impact_radius.clause.clone(),
                );
                b.check(
                    r.impact_radius.confidence,
                    file,
                    "impact_radius.coefficient",
                    &format!(
                        "potential impact radius coefficient {} of {}",
                        fmt_num(r.impact_radius.coefficient),
                        r.impact_radius.clause
                    ),
                );
            }
            match size {
                PipeSize::Large => {
                    b.check(
                        r.large_pipe.confidence,
                        file,
                        "large_pipe",
                        "large-pipe bounds of criterion c)",
                    );
                    let met = within_r.0 > 0;
                    criterion(
                        b,
                        item("c"),
                        "gas",
                        met,
                        format!("{dims}; {}", describe(within_r, zone_r)),
                    );
                }
                PipeSize::Small => {
                    b.check(
                        r.small_pipe.confidence,
                        file,
                        "small_pipe",
                        &format!(
                            "small-pipe bounds of criterion d) (d < {} mm, MAOP < {} MPa)",
                            fmt_num(r.small_pipe.diameter_mm_lt),
                            fmt_num(r.small_pipe.maop_mpa_lt)
                        ),
                    );
                    let met = within_r.0 > 0;
                    criterion(
                        b,
                        item("d"),
                        "gas",
                        met,
                        format!("{dims}; {}", describe(within_r, zone_r)),
                    );
                }
                PipeSize::Other => {
                    let met = within_200.0 > 0;
                    let zone = format!("{} m", fmt_num(d.corridor_m));
                    criterion(
                        b,
                        item("e"),
                        "gas",
                        met,
                        format!("{dims}; {}", describe(within_200, zone)),
                    );
                }
            }
            let f_met = !(class3 || class4) && ctx.flammable_sites_within_200m > 0;
            criterion(
                b,
                item("f"),
                "gas",
                f_met,
                format!(
                    "{} flammable/explosive site(s) within {} m{}",
                    ctx.flammable_sites_within_200m,
                    fmt_num(d.corridor_m),
                    if class3 || class4 {
                        "; the segment is class 3/4, so f) does not apply"
                    } else {
                        ""
                    }
                ),
            );
        }
        Medium::Liquid => {
            let item = |i: &str| r.liquid_item(i);
            criterion(b, item("a"), "liquid", class4, class4_value);
            criterion(b, item("b"), "liquid", class3, class3_value);
            criterion(
                b,
                item("c"),
                "liquid",
                ctx.villages_50_households_within_200m,
                format!(
                    "village/town of ≥ {} households within {} m: {}",
                    d.village_min_households,
                    fmt_num(d.corridor_m),
                    if ctx.villages_50_households_within_200m {
                        "yes"
                    } else {
                        "no"
                    }
                ),
            );
            let near = fmt_num(d.liquid_near_m);
            let roads = ctx.roads_or_railways_within_50m;
            if roads.is_none() {
                b.incomplete(format!(
                    "输油管道 d): 高速公路/国道/省道/铁路 within {near} m not computed; only flammable sites counted"
                ));
            }
            criterion(
                b,
                item("d"),
                "liquid",
                roads == Some(true) || ctx.flammable_sites_within_50m > 0,
                format!(
                    "roads/railways within {near} m: {}; {} flammable/explosive site(s) within {near} m",
                    yes_no(roads),
                    ctx.flammable_sites_within_50m
                ),
            );
            let corridor = fmt_num(d.corridor_m);
            for (key, fact, what) in [
                ("e", ctx.nature_reserve_within_200m, "nature reserve"),
                (
                    "f",
                    ctx.water_source_within_200m,
                    "water source / river / reservoir",
                ),
            ] {
                if fact.is_none() {
                    b.incomplete(format!(
                        "输油管道 {key}): {what} within {corridor} m not computed; default: not met"
                    ));
                }
                criterion(
                    b,
                    item(key),
                    "liquid",
                    fact == Some(true),
                    format!("{what} within {corridor} m: {}", yes_no(fact)),
                );
            }
        }
    }
    level
}

fn yes_no(x: Option<bool>) -> &'static str {
    match x {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not computed",
    }
}

fn category_name(c: TargetCategory) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::RiskLevel;
    use proptest::prelude::*;

    fn pipe(kind: PipelineKind, d: f64, p: f64) -> Pipeline {
        Pipeline {
            name: "示例管道".into(),
            kind,
            diameter_mm: d,
            maop_mpa: p,
            medium: None,
            material: None,
            year_built: None,
            operator: None,
            extra: Default::default(),
        }
    }

    fn rules() -> &'static Rules {
        Rules::builtin()
    }

    fn level(p: &Pipeline, c: &SegmentContext) -> RiskLevel {
        assess_pipeline_segment(p, c, rules()).risk_level
    }

    #[test]
    fn worked_impact_radius() {
        let r = potential_impact_radius_m(1016.0, 10.0);
        assert!((r - 318.0).abs() < 1.0, "r = {r}");
        assert_eq!(potential_impact_radius_m(-1.0, 10.0), 0.0);
        assert_eq!(potential_impact_radius_m(500.0, f64::NAN), 0.0);
        let big = pipe(PipelineKind::GasTransmission, 1016.0, 10.0);
        assert!((special_site_radius_m(&big, rules()) - r).abs() < 1e-9);
        let mid = pipe(PipelineKind::GasTransmission, 508.0, 4.0);
        assert_eq!(special_site_radius_m(&mid, rules()), 200.0);
    }

    #[test]
    fn gas_criteria() {
        let big = pipe(PipelineKind::GasTransmission, 1016.0, 10.0);
        let none = SegmentContext::default();
        let a = assess_pipeline_segment(&big, &none, rules());
        assert_eq!(a.risk_level, RiskLevel::Blue);
        assert_eq!(&*a.model.id, "pipeline-hca-gb32167");
        assert!(
            a.conventions
                .iter()
                .any(|c| c.contains("project convention"))
        );
        assert!(
            a.unconfirmed
                .iter()
                .any(|u| u.contains("impact_radius.coefficient")),
            "{:?}",
            a.unconfirmed
        );
        assert!(a.unconfirmed.iter().any(|u| u.contains("special_sites")));
        // a) class 4 → III → red.
        let c = SegmentContext {
            class4_indicators: true,
            ..Default::default()
        };
        assert_eq!(hca_level(&big, &c, rules()), Some(HcaLevel::III));
        assert_eq!(level(&big, &c), RiskLevel::Red);
        let c = SegmentContext {
            population_density_per_km2: Some(12000.0),
            ..Default::default()
        };
        let a = assess_pipeline_segment(&big, &c, rules());
        assert_eq!(a.risk_level, RiskLevel::Red);
        assert!(a.conventions.iter().any(|c| c.contains("proxy")));
        // b) 100 households → II; 99 → none.
        let c = SegmentContext {
            households_within_200m_2km_window: 100,
            ..Default::default()
        };
        assert_eq!(hca_level(&big, &c, rules()), Some(HcaLevel::II));
        assert_eq!(level(&big, &c), RiskLevel::Orange);
        let c = SegmentContext {
            households_within_200m_2km_window: 99,
            ..Default::default()
        };
        assert_eq!(hca_level(&big, &c, rules()), None);
        // c) large pipe: a school within r → I; a school only within 200 m does not count.
        let c = SegmentContext {
            special_sites_within_r: vec![TargetCategory::School],
            ..Default::default()
        };
        assert_eq!(hca_level(&big, &c, rules()), Some(HcaLevel::I));
        assert_eq!(level(&big, &c), RiskLevel::Yellow);
        let c = SegmentContext {
            special_sites_within_200m: vec![TargetCategory::School],
            ..Default::default()
        };
        assert_eq!(hca_level(&big, &c, rules()), None);
        // Residential targets are not 特定场所.
        let c = SegmentContext {
            special_sites_within_r: vec![TargetCategory::Residential],
            ..Default::default()
        };
        let a = assess_pipeline_segment(&big, &c, rules());
        assert_eq!(a.risk_level, RiskLevel::Blue);
        assert!(
            a.factors
                .iter()
                .any(|f| f.value.contains("ignored: residential"))
        );
        // e) other pipes use 200 m.
        let mid = pipe(PipelineKind::GasTransmission, 508.0, 4.0);
        let c = SegmentContext {
            special_sites_within_200m: vec![TargetCategory::Hospital],
            ..Default::default()
        };
        assert_eq!(hca_level(&mid, &c, rules()), Some(HcaLevel::I));
        // d) small pipes use r, and row d is UNCONFIRMED.
        let small = pipe(PipelineKind::GasTransmission, 219.0, 1.0);
        let c = SegmentContext {
            special_sites_within_r: vec![TargetCategory::Kindergarten],
            ..Default::default()
        };
        let a = assess_pipeline_segment(&small, &c, rules());
        assert_eq!(a.risk_level, RiskLevel::Yellow);
        assert!(
            a.unconfirmed.iter().any(|u| u.contains("small_pipe")),
            "{:?}",
            a.unconfirmed
        );
        // f) flammable sites outside class 3/4 → II.
        let c = SegmentContext {
            flammable_sites_within_200m: 1,
            ..Default::default()
        };
        assert_eq!(hca_level(&mid, &c, rules()), Some(HcaLevel::II));
    }

    #[test]
    fn d_and_p_thresholds_are_strict() {
        // c) needs d > 762 and p > 6.9: exactly 762 mm is an "other" pipe (e).
        let edge = pipe(PipelineKind::GasTransmission, 762.0, 10.0);
        assert_eq!(special_site_radius_m(&edge, rules()), 200.0);
        let edge = pipe(PipelineKind::GasTransmission, 813.0, 6.9);
        assert_eq!(special_site_radius_m(&edge, rules()), 200.0);
        let large = pipe(PipelineKind::GasTransmission, 813.0, 6.91);
        assert!(special_site_radius_m(&large, rules()) > 200.0);
        let edge = pipe(PipelineKind::GasTransmission, 273.0, 1.0);
        assert_eq!(special_site_radius_m(&edge, rules()), 200.0);
        let small = pipe(PipelineKind::GasTransmission, 272.9, 1.59);
        assert!(special_site_radius_m(&small, rules()) < 50.0);
    }

    #[test]
    fn liquid_criteria() {
        let oil = pipe(PipelineKind::Oil, 610.0, 8.0);
        let all_known = SegmentContext {
            roads_or_railways_within_50m: Some(false),
            nature_reserve_within_200m: Some(false),
            water_source_within_200m: Some(false),
            ..Default::default()
        };
        let a = assess_pipeline_segment(&oil, &all_known, rules());
        assert_eq!(a.risk_level, RiskLevel::Blue);
        assert!(a.incomplete.is_empty(), "{:?}", a.incomplete);
        let cases: [(SegmentContext, Option<HcaLevel>); 6] = [
            (
                SegmentContext {
                    class4_indicators: true,
                    ..all_known.clone()
                },
                Some(HcaLevel::III),
            ),
            (
                SegmentContext {
                    households_within_200m_2km_window: 150,
                    ..all_known.clone()
                },
                Some(HcaLevel::II),
            ),
            (
                SegmentContext {
                    villages_50_households_within_200m: true,
                    ..all_known.clone()
                },
                Some(HcaLevel::II),
            ),
            (
                SegmentContext {
                    roads_or_railways_within_50m: Some(true),
                    ..all_known.clone()
                },
                Some(HcaLevel::I),
            ),
            (
                SegmentContext {
                    nature_reserve_within_200m: Some(true),
                    ..all_known.clone()
                },
                Some(HcaLevel::II),
            ),
            (
                SegmentContext {
                    water_source_within_200m: Some(true),
                    ..all_known.clone()
                },
                Some(HcaLevel::III),
            ),
        ];
        for (c, expected) in cases {
            assert_eq!(hca_level(&oil, &c, rules()), expected, "{c:?}");
        }
        // Unknown environment layers are reported.
        let a = assess_pipeline_segment(&oil, &SegmentContext::default(), rules());
        assert_eq!(a.incomplete.len(), 3, "{:?}", a.incomplete);
        // Special sites are a gas criterion only.
        let c = SegmentContext {
            special_sites_within_200m: vec![TargetCategory::School],
            ..all_known
        };
        assert_eq!(hca_level(&oil, &c, rules()), None);
    }

    #[test]
    fn urban_gas_and_other_pipelines_say_which_criteria_they_use() {
        let urban = pipe(PipelineKind::UrbanGas, 325.0, 0.4);
        let c = SegmentContext {
            households_within_200m_2km_window: 500,
            ..Default::default()
        };
        let a = assess_pipeline_segment(&urban, &c, rules());
        assert_eq!(a.risk_level, RiskLevel::Orange);
        assert!(
            a.conventions.iter().any(|c| c.contains("城镇燃气")),
            "{:?}",
            a.conventions
        );
        let mut other = pipe(PipelineKind::Other, 300.0, 2.0);
        other.medium = Some("成品油".into());
        let a = assess_pipeline_segment(&other, &SegmentContext::default(), rules());
        assert!(a.conventions.iter().any(|c| c.contains("liquid")));
        other.medium = None;
        let a = assess_pipeline_segment(&other, &SegmentContext::default(), rules());
        assert!(a.incomplete.iter().any(|c| c.contains("without a medium")));
    }

    const CATEGORIES: [TargetCategory; 6] = [
        TargetCategory::School,
        TargetCategory::Hospital,
        TargetCategory::Residential,
        TargetCategory::Stadium,
        TargetCategory::Office,
        TargetCategory::Mall,
    ];

    fn arb_ctx() -> impl Strategy<Value = SegmentContext> {
        (
            0u64..300,
            any::<bool>(),
            prop::option::of(0.0f64..20000.0),
            prop::collection::vec(0usize..6, 0..3),
            prop::collection::vec(0usize..6, 0..3),
            0u32..3,
            any::<bool>(),
            0u32..3,
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
            prop::option::of(any::<bool>()),
        )
            .prop_map(|(h, c4, dens, r, s200, f200, v, f50, roads, nat, water)| {
                SegmentContext {
                    households_within_200m_2km_window: h,
                    class4_indicators: c4,
                    population_density_per_km2: dens,
                    special_sites_within_r: r.into_iter().map(|i| CATEGORIES[i]).collect(),
                    special_sites_within_200m: s200.into_iter().map(|i| CATEGORIES[i]).collect(),
                    flammable_sites_within_200m: f200,
                    villages_50_households_within_200m: v,
                    flammable_sites_within_50m: f50,
                    roads_or_railways_within_50m: roads,
                    nature_reserve_within_200m: nat,
                    water_source_within_200m: water,
                }
            })
    }

    fn arb_pipe() -> impl Strategy<Value = Pipeline> {
        (0usize..4, 50.0f64..1400.0, 0.1f64..12.0).prop_map(|(k, d, p)| {
            let kind = [
                PipelineKind::GasTransmission,
                PipelineKind::Oil,
                PipelineKind::UrbanGas,
                PipelineKind::Other,
            ][k];
            pipe(kind, d, p)
        })
    }

    proptest! {
        /// More households, special sites or flammable sites never lower a
        /// segment's level.
        #[test]
        fn more_exposure_never_lowers_the_level(
            p in arb_pipe(),
            c in arb_ctx(),
            more_households in 0u64..300,
            site_r in prop::option::of(0usize..6),
            site_200 in prop::option::of(0usize..6),
            more_flammable in 0u32..3,
        ) {
            let before = level(&p, &c);
            let mut more = c.clone();
            more.households_within_200m_2km_window += more_households;
            more.special_sites_within_r.extend(site_r.map(|i| CATEGORIES[i]));
            more.special_sites_within_200m.extend(site_200.map(|i| CATEGORIES[i]));
            more.flammable_sites_within_200m += more_flammable;
            more.flammable_sites_within_50m += more_flammable;
            prop_assert!(level(&p, &more) >= before);
            prop_assert!(hca_level(&p, &more, rules()) >= hca_level(&p, &c, rules()));
        }
    }
}

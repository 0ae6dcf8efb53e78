//! `riskmap bench …`: the benchmarks behind BENCHMARKS.md.
//!
//! Synthetic data is seeded and clustered around city centres, as real
//! enterprises and homes are, over a province-sized area (118.0–122.5°E,
//! 27.2–31.2°N, about 430 × 445 km).

use std::time::{Duration, Instant};

use geo::{Geometry, LineString, Point, Polygon, Rect};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use riskmap_core::engine::{Edit, EngineConfig, RiskState};
use riskmap_core::model::{
    District, Enterprise, Installation, Park, ParkKind, Pipeline, PipelineKind, ProtectionTarget,
    Substance, TargetCategory, Unit, UnitKind,
};
use riskmap_core::scoring::Rules;
use riskmap_core::{Catalog, Collection, Feature, Record};
use serde_json::Map;

/// Sizes of the synthetic data set.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoreBench {
    pub(crate) enterprises: usize,
    pub(crate) targets: usize,
    pub(crate) pipeline_km: f64,
    pub(crate) edits: usize,
    pub(crate) seed: u64,
}

const AREA: (f64, f64, f64, f64) = (118.0, 27.2, 122.5, 31.2);
const KM_LON: f64 = 1.0 / 98.0; // degrees per km of longitude near 29°N
const KM_LAT: f64 = 1.0 / 111.0;

const SUBSTANCES: [(&str, &str, f64); 12] = [
    ("液氯", "7782-50-5", 40.0),
    ("甲醇", "67-56-1", 800.0),
    ("液氨", "7664-41-7", 100.0),
    ("苯", "71-43-2", 300.0),
    ("甲苯", "108-88-3", 800.0),
    ("汽油", "86290-81-5", 1500.0),
    ("液化石油气", "68476-85-7", 300.0),
    ("氢", "1333-74-0", 5.0),
    ("乙烯", "74-85-1", 200.0),
    ("硫化氢", "7783-06-4", 3.0),
    ("环氧乙烷", "75-21-8", 30.0),
    ("丙酮", "67-64-1", 600.0),
];

fn clustered(rng: &mut StdRng, centres: &[(f64, f64)], sigma_km: f64) -> (f64, f64) {
    let (cx, cy) = centres[rng.random_range(0..centres.len())];
    // Box–Muller for a normal offset.
    let (u1, u2): (f64, f64) = (rng.random_range(1e-12..1.0), rng.random_range(0.0..1.0));
    let r = (-2.0 * u1.ln()).sqrt() * sigma_km;
    let t = std::f64::consts::TAU * u2;
    let x = (cx + r * t.cos() * KM_LON).clamp(AREA.0, AREA.2);
    let y = (cy + r * t.sin() * KM_LAT).clamp(AREA.1, AREA.3);
    (x, y)
}

fn square(x: f64, y: f64, half_m: f64) -> Polygon<f64> {
    let (dx, dy) = (half_m / 1000.0 * KM_LON, half_m / 1000.0 * KM_LAT);
    Polygon::new(
        LineString::from(vec![
            (x - dx, y - dy),
            (x + dx, y - dy),
            (x + dx, y + dy),
            (x - dx, y + dy),
            (x - dx, y - dy),
        ]),
        vec![],
    )
}

/// A seeded synthetic province.
pub(crate) fn synthetic(b: &ScoreBench) -> Catalog {
    let mut rng = StdRng::seed_from_u64(b.seed);
    let centres: Vec<(f64, f64)> = (0..200)
        .map(|_| {
            (
                rng.random_range(AREA.0..AREA.2),
                rng.random_range(AREA.1..AREA.3),
            )
        })
        .collect();
    let mut cat = Catalog::new();

    let categories = [
        (TargetCategory::Residential, 0.80),
        (TargetCategory::Office, 0.07),
        (TargetCategory::Mall, 0.03),
        (TargetCategory::School, 0.04),
        (TargetCategory::Kindergarten, 0.02),
        (TargetCategory::Hospital, 0.02),
        (TargetCategory::NursingHome, 0.02),
    ];
    let targets = (0..b.targets)
        .map(|i| {
            let (x, y) = clustered(&mut rng, &centres, 6.0);
            let mut u: f64 = rng.random_range(0.0..1.0);
            let category = categories
                .iter()
                .find(|(_, p)| {
                    u -= p;
                    u <= 0.0
                })
                .map_or(TargetCategory::Other, |(c, _)| *c);
            let population = rng.random_range(20..2000u32);
            Feature {
                updated: None,
                id: format!("t{i}"),
                geometry: Geometry::Point(Point::new(x, y)),
                record: Record::ProtectionTarget(ProtectionTarget {
                    name: None,
                    category,
                    population: Some(population),
                    households: (category == TargetCategory::Residential).then_some(population / 3),
                    beds: None,
                    floor_area_m2: None,
                    extra: Map::new(),
                }),
            }
        })
        .collect();
    cat.load(Collection::ProtectionTargets, targets);

    let parks: Vec<Feature> = centres
        .iter()
        .take(50)
        .enumerate()
        .map(|(i, (x, y))| Feature {
            updated: None,
            id: format!("park{i}"),
            geometry: Geometry::Polygon(square(*x, *y, 1500.0)),
            record: Record::Park(Park {
                name: format!("合成园区 {i}"),
                kind: ParkKind::Chemical,
                assessment_score: (i % 2 == 0).then_some(55.0 + (i % 40) as f64),
                extra: Map::new(),
            }),
        })
        .collect();
    cat.load(Collection::Parks, parks);

    let enterprises = (0..b.enterprises)
        .map(|i| {
            let (x, y) = clustered(&mut rng, &centres, 8.0);
            let units = (0..rng.random_range(1..=3))
                .map(|u| Unit {
                    id: format!("e{i}-U{u}"),
                    name: None,
                    kind: if u == 0 {
                        UnitKind::Storage
                    } else {
                        UnitKind::Production
                    },
                    geometry: None,
                    substances: (0..rng.random_range(1..=3))
                        .map(|_| {
                            let (name, cas, scale) =
                                SUBSTANCES[rng.random_range(0..SUBSTANCES.len())];
                            Substance {
                                name: Some(name.into()),
                                cas: Some(cas.into()),
                                quantity_t: scale * rng.random_range(0.01..1.5f64),
                                hazard_categories: vec![],
                            }
                        })
                        .collect(),
                    processes: if rng.random_range(0..4) == 0 {
                        vec!["氯化工艺".into()]
                    } else {
                        vec![]
                    },
                })
                .collect();
            let geometry = if i % 3 == 0 {
                Geometry::Polygon(square(x, y, rng.random_range(60.0..250.0)))
            } else {
                Geometry::Point(Point::new(x, y))
            };
            Feature {
                updated: None,
                id: format!("e{i}"),
                geometry,
                record: Record::Enterprise(Enterprise {
                    name: format!("合成企业 {i}"),
                    credit_code: None,
                    industry: Some(["化工", "石化", "医药", "仓储物流"][i % 4].into()),
                    district_code: None,
                    park_id: None,
                    employees: Some(rng.random_range(20..2000)),
                    standardization_level: Some(rng.random_range(1..=3)),
                    accidents: vec![],
                    units,
                    installation: Some(Installation::Existing),
                    major_hazard_registration: None,
                    inspection_findings: Vec::new(),
                    extra: Map::new(),
                }),
            }
        })
        .collect();
    cat.load(Collection::Enterprises, enterprises);

    // Pipelines: random walks of 40 km with a vertex every 2 km.
    let per_line_km = 40.0;
    let n_lines = (b.pipeline_km / per_line_km).ceil() as usize;
    let specs = [
        (PipelineKind::GasTransmission, 1016.0, 10.0),
        (PipelineKind::GasTransmission, 813.0, 6.3),
        (PipelineKind::Oil, 508.0, 8.0),
        (PipelineKind::UrbanGas, 323.9, 1.6),
    ];
    let pipelines = (0..n_lines)
        .map(|i| {
            let (mut x, mut y) = clustered(&mut rng, &centres, 15.0);
            let mut heading: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let mut pts = vec![(x, y)];
            for _ in 0..(per_line_km / 2.0) as usize {
                heading += rng.random_range(-0.4..0.4);
                x = (x + 2.0 * heading.cos() * KM_LON).clamp(AREA.0, AREA.2);
                y = (y + 2.0 * heading.sin() * KM_LAT).clamp(AREA.1, AREA.3);
                pts.push((x, y));
            }
            let (kind, d, p) = specs[i % specs.len()];
            Feature {
                updated: None,
                id: format!("p{i}"),
                geometry: Geometry::LineString(LineString::from(pts)),
                record: Record::Pipeline(Pipeline {
                    name: format!("合成管道 {i}"),
                    kind,
                    diameter_mm: d,
                    maop_mpa: p,
                    medium: None,
                    material: None,
                    year_built: None,
                    operator: None,
                    extra: Map::new(),
                }),
            }
        })
        .collect();
    cat.load(Collection::Pipelines, pipelines);

    let districts = (0..11)
        .map(|i| {
            let x0 = AREA.0 + (AREA.2 - AREA.0) * i as f64 / 11.0;
            let x1 = AREA.0 + (AREA.2 - AREA.0) * (i + 1) as f64 / 11.0;
            Feature {
                updated: None,
                id: format!("{}", 330100 + i * 100),
                geometry: Geometry::Polygon(Rect::new((x0, AREA.1), (x1, AREA.3)).to_polygon()),
                record: Record::District(District {
                    code: format!("{}", 330100 + i * 100),
                    name: format!("合成区 {i}"),
                    level: Some("district".into()),
                    extra: Map::new(),
                }),
            }
        })
        .collect();
    cat.load(Collection::Districts, districts);
    cat
}

fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Runs the scoring benchmark and prints a Markdown report.
pub(crate) fn run_score(b: ScoreBench) {
    let rules = Rules::builtin();
    let rss0 = rss_mib();
    let t = Instant::now();
    let mut cat = synthetic(&b);
    let gen_time = t.elapsed();
    let rss_data = rss_mib();
    let segments_km: f64 = b.pipeline_km;
    let t = Instant::now();
    let (mut state, steps) =
        RiskState::compute_timed(&cat, rules, EngineConfig::new("2026-11-23", rules));
    let full = t.elapsed();
    let rss1 = rss_mib();

    // Incremental: change one enterprise's inventory, then move a target.
    let mut rng = StdRng::seed_from_u64(b.seed ^ 0x5eed);
    let mut times = Vec::new();
    for _ in 0..b.edits {
        let id = format!("e{}", rng.random_range(0..b.enterprises));
        let Some(mut f) = cat.get(Collection::Enterprises, &id).map(|f| (**f).clone()) else {
            continue;
        };
        if let Record::Enterprise(e) = &mut f.record
            && let Some(s) = e.units.first_mut().and_then(|u| u.substances.first_mut())
        {
            s.quantity_t *= 10.0;
        }
        let bbox = f.bbox();
        cat.insert(f);
        let t = Instant::now();
        state.update(
            &cat,
            rules,
            &Edit {
                collection: Collection::Enterprises,
                id,
                old_bbox: Some(bbox),
                new_bbox: Some(bbox),
            },
        );
        times.push(t.elapsed());
    }
    let mut target_times = Vec::new();
    for _ in 0..b.edits {
        let id = format!("t{}", rng.random_range(0..b.targets));
        let Some(mut f) = cat
            .get(Collection::ProtectionTargets, &id)
            .map(|f| (**f).clone())
        else {
            continue;
        };
        let old = f.bbox();
        if let Record::ProtectionTarget(t) = &mut f.record {
            t.population = Some(t.population.unwrap_or(0) + 500);
        }
        let new = f.bbox();
        cat.insert(f);
        let t = Instant::now();
        state.update(
            &cat,
            rules,
            &Edit {
                collection: Collection::ProtectionTargets,
                id,
                old_bbox: Some(old),
                new_bbox: Some(new),
            },
        );
        target_times.push(t.elapsed());
    }
    let stats = |v: &mut Vec<Duration>| {
        v.sort();
        let p = |q: f64| {
            v.get(((v.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or_default()
        };
        (
            ms(p(0.5)),
            ms(p(0.99)),
            ms(v.last().copied().unwrap_or_default()),
        )
    };
    let (e50, e99, emax) = stats(&mut times);
    let (t50, t99, tmax) = stats(&mut target_times);
    let segments: usize = state.pipelines.values().map(|p| p.segments.len()).sum();
    let cells = state.cells().count();
    println!("## riskmap bench score");
    println!();
    println!(
        "Synthetic province: {} enterprises, {} protection targets, {:.0} km of pipelines ({} segments), 50 parks, 11 districts; seed {}; {} grid cells with a source.",
        b.enterprises, b.targets, segments_km, segments, b.seed, cells
    );
    println!();
    println!("| step | time |");
    println!("|---|---|");
    println!(
        "| generate data (not scored) | {:.2} s |",
        gen_time.as_secs_f64()
    );
    println!(
        "| full scoring (`RiskState::compute`) | {:.2} s |",
        full.as_secs_f64()
    );
    println!(
        "| one enterprise inventory edit, rescore (p50 / p99 / max of {}) | {e50:.1} / {e99:.1} / {emax:.1} ms |",
        times.len()
    );
    println!(
        "| one protection-target edit, rescore (p50 / p99 / max of {}) | {t50:.1} / {t99:.1} / {tmax:.1} ms |",
        target_times.len()
    );
    if let (Some(a), Some(d), Some(b)) = (rss0, rss_data, rss1) {
        println!(
            "| resident memory after scoring (data + scores) | {b:.0} MiB (start {a:.0} MiB, data alone {d:.0} MiB) |"
        );
    }
    println!();
    println!(
        "Steps of the full scoring ({} hardware threads):",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!();
    println!("| step | time |");
    println!("|---|---|");
    for (name, d) in steps {
        println!("| {name} | {:.2} s |", d.as_secs_f64());
    }
}

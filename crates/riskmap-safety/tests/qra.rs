//! QRA layer tests: the Purple Book worked example, the gridded field
//! against the direct oracle, contours against the oracle, monotonicity,
//! and a hand-computable F–N curve.

use geo::{Contains, Distance, Euclidean, Point};
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use riskmap_core::model::{Substance, Unit, UnitKind};
use riskmap_safety::consequence::plume::plume_concentration;
use riskmap_safety::consequence::probit::probit_from_probability;
use riskmap_safety::consequence::toxic_probits::ToxicProbitTable;
use riskmap_safety::consequence::vce::{BlastCurve, TntEquivalence, VapourCloudExplosion};
use riskmap_safety::qra::{
    CONTOUR_LEVELS, Cloud, Equipment, GridSpec, Outcome, OutcomeKind, OutcomeModel,
    PopulationPoint, QraModel, QraRules, Scenario, ScenarioKind, ScenarioParams, SocietalRegion,
    UnitRelease, Weather, WeatherClass, auto_grid, crosswind_integral, fn_curve,
    individual_risk_at, individual_risk_field, individual_risk_parts_at, risk_contours,
    scenarios_for_units, sector_fraction, sector_lethality,
};
use riskmap_safety::{EffectModel, StabilityClass};

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

fn sub(name: &str, cas: &str, q: f64) -> Substance {
    Substance {
        name: Some(name.into()),
        cas: Some(cas.into()),
        quantity_t: q,
        hazard_categories: vec![],
    }
}

fn unit(id: &str, kind: UnitKind, substances: Vec<Substance>) -> Unit {
    Unit {
        id: id.into(),
        name: None,
        kind,
        geometry: None,
        substances,
        processes: vec![],
    }
}

/// A demo-like site: the substances and quantities of the demo enterprises
/// (data/demo/enterprises.geojson), spread over 1 km.
fn site_units() -> Vec<(Unit, f64, f64)> {
    vec![
        (
            unit(
                "T1",
                UnitKind::Storage,
                vec![sub("液氯", "7782-50-5", 300.0)],
            ),
            0.0,
            0.0,
        ),
        (
            unit(
                "T2",
                UnitKind::Storage,
                vec![sub("液化石油气", "68476-85-7", 100.0)],
            ),
            400.0,
            250.0,
        ),
        (
            unit("T3", UnitKind::Storage, vec![sub("甲醇", "67-56-1", 500.0)]),
            -350.0,
            120.0,
        ),
        (
            unit(
                "P1",
                UnitKind::Production,
                vec![sub("氢气", "1333-74-0", 0.8), sub("液氯", "7782-50-5", 4.0)],
            ),
            120.0,
            -300.0,
        ),
        (
            unit(
                "P2",
                UnitKind::Production,
                vec![sub("液氨", "7664-41-7", 20.0)],
            ),
            -250.0,
            -420.0,
        ),
        (
            unit("T4", UnitKind::Storage, vec![sub("苯", "71-43-2", 200.0)]),
            300.0,
            -120.0,
        ),
    ]
}

fn site_scenarios() -> Vec<Scenario> {
    let units = site_units();
    let releases: Vec<UnitRelease<'_>> = units
        .iter()
        .map(|(u, x, y)| UnitRelease {
            unit: u,
            x_m: *x,
            y_m: *y,
        })
        .collect();
    scenarios_for_units(&releases, QraRules::embedded())
        .expect("the demo-like site is valid")
        .scenarios
}

/// Default D5/F1.5 weather with a non-uniform 16-sector rose (a prevailing
/// south-west wind blowing toward the north-east).
fn skewed_weather() -> Weather {
    let mut w = Weather::default_two_class_uniform(16).expect("16 sectors");
    let raw: Vec<f64> = (0..16)
        .map(|k| 1.0 + 2.0 * (-(((k as f64 - 2.0) / 2.5).powi(2))).exp())
        .collect();
    let s: f64 = raw.iter().sum();
    w.wind_rose = raw.iter().map(|v| v / s).collect();
    w
}

/// Purple Book (TNO CPR 18E, 1999) Appendix 6.B, as reproduced in
/// /work/shared/domain/consequence-models.md §5.3: CO from a pipe rupture,
/// Q = 100 kg/s, u = 5 m/s, x = 361 m, σy = 28.8 m, σz = 10.3 m,
/// h = z = 1 m, 30 min, PB CO probit (−7.4, 1, 1), 12 sectors, 1 % cut-off.
/// Printed: C = 21.3 g/m³, Pr 5.97, P_cl 0.835, PI 72 m, ECW 86.2 m,
/// P_ci 0.456, P_d 0.381, P_M·P_φ = 0.44·0.0376 + 0.56·0.0362,
/// f = 5e-7 /yr, ΔIR = 7.0e-9 /yr. Reference values (recomputed in the
/// domain notes): P_cl 0.8329, PI 71.88 m, ECW 86.30 m, P_ci 0.4566,
/// P_d 0.3803, ΔIR 7.00e-9.
#[test]
fn purple_book_appendix_6b() {
    let co = ToxicProbitTable::embedded()
        .find_in_set("carbon_monoxide", "purple_book")
        .unwrap();
    let c = plume_concentration(100.0, 5.0, 28.8, 10.3, 0.0, 1.0, 1.0).unwrap();
    assert!(close(c, 0.02126, 0.02), "C = {c}");
    let y_cl = co.probit_value(c, 1800.0).unwrap();
    assert!(close(y_cl, 5.966, 0.02), "Pr = {y_cl}");
    let p_cl = co.probability(c, 1800.0).unwrap();
    assert!(close(p_cl, 0.8329, 0.02), "P_cl = {p_cl}");
    let y_cut = probit_from_probability(0.01).unwrap();
    let pi = crosswind_integral(y_cl, co.b * co.n, 28.8, y_cut).unwrap();
    assert!(close(pi, 71.88, 0.02), "PI = {pi}");
    let ecw = pi / p_cl;
    assert!(close(ecw, 86.30, 0.02), "ECW = {ecw}");
    let p_ci = sector_fraction(ecw, 361.0, 12).unwrap();
    assert!(close(p_ci, 0.4566, 0.02), "P_ci = {p_ci}");
    let p_d = sector_lethality(p_cl, pi, 361.0, 12).unwrap();
    assert!(close(p_d, 0.3803, 0.02), "P_d = {p_d}");
    let d_ir = 5e-7 * (0.44 * 0.0376 + 0.56 * 0.0362) * p_d;
    assert!(close(d_ir, 7.0e-9, 0.02), "ΔIR = {d_ir}");
}

#[test]
fn scenario_set_covers_the_site_and_says_what_it_assumes() {
    let units = site_units();
    let releases: Vec<UnitRelease<'_>> = units
        .iter()
        .map(|(u, x, y)| UnitRelease {
            unit: u,
            x_m: *x,
            y_m: *y,
        })
        .collect();
    let set = scenarios_for_units(&releases, QraRules::embedded()).unwrap();
    // 7 substances × 3 events.
    assert_eq!(set.scenarios.len(), 21);
    let cl = set
        .scenarios
        .iter()
        .find(|s| s.id == "T1/0-chlorine/instantaneous")
        .unwrap();
    assert_eq!(cl.equipment, Equipment::PressureVessel);
    assert_eq!(cl.frequency_per_year, 5e-7);
    assert_eq!(cl.outcomes.len(), 1);
    assert_eq!(cl.outcomes[0].kind, OutcomeKind::Toxic);
    let me = set
        .scenarios
        .iter()
        .find(|s| s.id == "T3/0-methanol/hole_10mm")
        .unwrap();
    assert_eq!(me.equipment, Equipment::AtmosphericTank);
    let kinds: Vec<OutcomeKind> = me.outcomes.iter().map(|o| o.kind).collect();
    assert_eq!(
        kinds,
        [
            OutcomeKind::PoolFire,
            OutcomeKind::FlashFire,
            OutcomeKind::Explosion
        ]
    );
    // PB K1 liquid: 0.065 direct; the rest 0.6/0.4.
    assert!(close(me.outcomes[0].probability, 0.065, 1e-12));
    assert!(close(me.outcomes[1].probability, 0.935 * 0.6, 1e-12));
    // 10 mm hole, methanol, 5 m head: Q = 0.62·π/4·0.01²·792·√(2·9.81·5) = 0.3828 kg/s.
    assert!(
        close(me.release_rate_kg_s, 0.3828, 0.01),
        "{}",
        me.release_rate_kg_s
    );
    let lpg = set
        .scenarios
        .iter()
        .find(|s| s.id == "T2/0-lpg/instantaneous")
        .unwrap();
    assert_eq!(lpg.outcomes[0].kind, OutcomeKind::Fireball);
    // 100 t instantaneous, average reactivity: 0.7 direct.
    assert_eq!(lpg.outcomes[0].probability, 0.7);
    let nh3 = set
        .scenarios
        .iter()
        .find(|s| s.id == "P2/0-ammonia/continuous_10min")
        .unwrap();
    assert_eq!(nh3.equipment, Equipment::ProcessVessel);
    assert_eq!(
        nh3.outcomes.iter().map(|o| o.kind).collect::<Vec<_>>(),
        [OutcomeKind::JetFire, OutcomeKind::Toxic]
    );
    assert!(
        set.notes
            .iter()
            .any(|n| n.starts_with("DENSE-GAS BEHAVIOUR IS NOT MODELLED"))
    );
    assert!(set.notes.iter().any(|n| n.contains("UNCONFIRMED")));
}

#[test]
fn surrogates_and_skips_are_noted() {
    let u = unit(
        "U",
        UnitKind::Storage,
        vec![
            sub("溴甲烷", "74-83-9", 10.0),
            sub("液氧", "7782-44-7", 10.0),
            Substance {
                name: Some("某易燃液体".into()),
                cas: None,
                quantity_t: 5.0,
                hazard_categories: vec!["W5.3".into()],
            },
            Substance {
                name: Some("某氧化剂".into()),
                cas: None,
                quantity_t: 5.0,
                hazard_categories: vec!["W9.2".into()],
            },
        ],
    );
    let set = scenarios_for_units(
        &[UnitRelease {
            unit: &u,
            x_m: 0.0,
            y_m: 0.0,
        }],
        QraRules::embedded(),
    )
    .unwrap();
    let notes = set.notes.join("\n");
    assert!(
        notes.contains("methyl bromide") && notes.contains("surrogate"),
        "{notes}"
    );
    assert!(
        notes.contains("液氧") && notes.contains("oxidiser"),
        "{notes}"
    );
    assert!(
        notes.contains("某易燃液体") && notes.contains("surrogate n_hexane"),
        "{notes}"
    );
    assert!(
        notes.contains("某氧化剂") && notes.contains("no category fallback"),
        "{notes}"
    );
    // Methyl bromide (3) + surrogate liquid (3).
    assert_eq!(set.scenarios.len(), 6);
}

/// The gridded field reproduces the direct evaluation at random cell
/// centres: relative error < 1 % wherever IR > 1e-9 /yr.
#[test]
fn field_matches_direct_oracle() {
    let scenarios = site_scenarios();
    let weather = skewed_weather();
    let model = QraModel::new(&scenarios, &weather).unwrap();
    // The auto grid down to 1e-8 (tens of km: F-class puffs), and a 3 km
    // window over the site with 10 m cells (the near field).
    let wide = auto_grid(&scenarios, &weather, 1e-8, 300).unwrap();
    assert!(wide.nx > 100 && wide.ny > 100, "{wide:?}");
    let near = GridSpec {
        x0_m: -1500.0,
        y0_m: -1500.0,
        cell_m: 10.0,
        nx: 300,
        ny: 300,
    };
    let mut rng = StdRng::seed_from_u64(7);
    for grid in [wide, near] {
        let field = individual_risk_field(&scenarios, &weather, &grid).unwrap();
        let mut checked = 0;
        let mut worst: f64 = 0.0;
        let mut tries = 0;
        while checked < 250 && tries < 20_000 {
            tries += 1;
            let i = rng.random_range(0..grid.nx);
            let j = rng.random_range(0..grid.ny);
            let (x, y) = grid.centre(i, j);
            let want = model.risk_at(x, y).unwrap();
            if want <= 1e-9 {
                continue;
            }
            let got = field.values[j * grid.nx + i];
            let rel = (got - want).abs() / want;
            worst = worst.max(rel);
            assert!(
                rel < 0.01,
                "({x}, {y}): field {got} vs direct {want} (rel {rel})"
            );
            checked += 1;
        }
        assert!(checked >= 200, "only {checked} points above 1e-9");
        eprintln!(
            "field vs oracle: grid {grid:?}; {checked} points, worst relative error {worst:.2e}"
        );
        // value_at at a cell centre is the cell's value.
        let (x, y) = grid.centre(grid.nx / 2, grid.ny / 3);
        assert!(close(
            field.value_at(x, y).unwrap(),
            field.values[(grid.ny / 3) * grid.nx + grid.nx / 2],
            1e-12
        ));
    }
    let grid = near;
    // The free function is the same direct evaluation.
    let (x, y) = grid.centre(grid.nx / 3, grid.ny / 2);
    assert_eq!(
        individual_risk_at(&scenarios, &weather, x, y).unwrap(),
        model.risk_at(x, y).unwrap()
    );
}

/// Contours against the oracle: for every non-empty level, random points
/// farther than one cell diagonal from the contour are inside exactly when
/// the direct IR is ≥ the level. Points within one cell diagonal of the
/// boundary are excluded: the grid resolves the field only to a cell, and
/// marching squares places the line by interpolating between cell centres.
/// For the same reason points within one cell diagonal of a release point
/// are excluded: the P = 1 discs of small fires and explosions there (a few
/// metres across) can fall between cell centres and then have no contour.
#[test]
fn contours_agree_with_oracle_away_from_their_boundary() {
    let scenarios = site_scenarios();
    let weather = skewed_weather();
    let grid = auto_grid(&scenarios, &weather, 3e-7, 250).unwrap();
    let field = individual_risk_field(&scenarios, &weather, &grid).unwrap();
    let contours = risk_contours(&field, &CONTOUR_LEVELS).unwrap();
    assert_eq!(contours.len(), CONTOUR_LEVELS.len());
    let model = QraModel::new(&scenarios, &weather).unwrap();
    let diag = grid.cell_m * std::f64::consts::SQRT_2;
    let mut rng = StdRng::seed_from_u64(11);
    let mut nonempty = 0;
    let (mut inside, mut outside) = (0, 0);
    for iso in &contours {
        if iso.area.0.is_empty() {
            continue;
        }
        nonempty += 1;
        // Sample around each polygon (its bounding box widened by half its
        // size plus two cells), so that both sides of every ring are hit.
        for poly in &iso.area.0 {
            assert!(poly.exterior().is_closed());
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for c in poly.exterior().coords() {
                x0 = x0.min(c.x);
                y0 = y0.min(c.y);
                x1 = x1.max(c.x);
                y1 = y1.max(c.y);
            }
            let pad = 0.5 * (x1 - x0).max(y1 - y0) + 2.0 * diag;
            let mut sampled = 0;
            let mut tries = 0;
            while sampled < 800 && tries < 20_000 {
                tries += 1;
                let x = rng.random_range(x0 - pad..x1 + pad);
                let y = rng.random_range(y0 - pad..y1 + pad);
                let pt = Point::new(x, y);
                let near = iso.area.0.iter().any(|p| {
                    std::iter::once(p.exterior())
                        .chain(p.interiors())
                        .any(|ring| Euclidean.distance(&pt, ring) <= diag)
                });
                let at_source = scenarios
                    .iter()
                    .any(|s| (s.x_m - x).hypot(s.y_m - y) <= diag);
                if near || at_source {
                    continue;
                }
                sampled += 1;
                let ir = model.risk_at(x, y).unwrap();
                if iso.area.contains(&pt) {
                    inside += 1;
                    assert!(
                        ir >= iso.level,
                        "level {}: ({x}, {y}) inside but IR = {ir}",
                        iso.level
                    );
                } else {
                    outside += 1;
                    assert!(
                        ir < iso.level,
                        "level {}: ({x}, {y}) outside but IR = {ir}",
                        iso.level
                    );
                }
            }
        }
    }
    eprintln!("contours: grid {grid:?}; {inside} points inside, {outside} outside");
    assert!(
        inside >= 200 && outside >= 200,
        "{inside} in, {outside} out"
    );
    assert!(nonempty >= 4, "only {nonempty} non-empty levels");
}

fn one_unit_scenarios(name: &str, cas: &str, q: f64, kind: UnitKind) -> Vec<Scenario> {
    let u = unit("U", kind, vec![sub(name, cas, q)]);
    scenarios_for_units(
        &[UnitRelease {
            unit: &u,
            x_m: 0.0,
            y_m: 0.0,
        }],
        QraRules::embedded(),
    )
    .expect("one valid unit")
    .scenarios
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// More inventory never lowers IR at a point. Tested on substances whose
    /// event-tree split does not depend on the quantity (toxic only, K1
    /// liquids), and on propane within one PB Table 4.5 class (1–5.9 t: the
    /// instantaneous mass stays in 1–10 t and the 10-min rate below 10 kg/s;
    /// 6 t would release exactly 10 kg/s, the next class).
    /// Across a class boundary direct ignition rises and takes probability
    /// from delayed outcomes, which can legitimately lower IR where those
    /// dominate.
    #[test]
    fn more_inventory_never_lowers_ir(
        which in 0usize..4, q in 1.0f64..100.0, dq in 0.0f64..100.0,
        r in 5.0f64..3000.0, theta in 0.0f64..std::f64::consts::TAU,
        production in proptest::bool::ANY,
    ) {
        let (name, cas, q0, q1) = match which {
            0 => ("液氯", "7782-50-5", q, q + dq),
            1 => ("甲醇", "67-56-1", q, q + dq),
            2 => ("甲苯", "108-88-3", q, q + dq),
            _ => ("液化石油气", "68476-85-7", 1.0 + 4.9 * q / 100.0, 1.0 + 4.9 * (q + dq.min(100.0 - q).max(0.0)) / 100.0),
        };
        let kind = if production { UnitKind::Production } else { UnitKind::Storage };
        let w = skewed_weather();
        let (x, y) = (r * theta.sin(), r * theta.cos());
        let a = individual_risk_at(&one_unit_scenarios(name, cas, q0, kind), &w, x, y).unwrap();
        let b = individual_risk_at(&one_unit_scenarios(name, cas, q1, kind), &w, x, y).unwrap();
        prop_assert!(b >= a * (1.0 - 1e-9), "{name}: {q0} t → {a}, {q1} t → {b} at r = {r}");
    }

    /// Farther along a ray never raises the isotropic part of the IR.
    #[test]
    fn isotropic_part_falls_along_a_ray(
        r in 0.5f64..2000.0, dr in 0.0f64..500.0, theta in 0.0f64..std::f64::consts::TAU,
    ) {
        let scenarios: Vec<Scenario> = [
            ("液化石油气", "68476-85-7", 50.0, UnitKind::Storage),
            ("甲醇", "67-56-1", 300.0, UnitKind::Storage),
            ("氢气", "1333-74-0", 2.0, UnitKind::Production),
            ("苯", "71-43-2", 50.0, UnitKind::Production),
        ]
        .iter()
        .flat_map(|(n, c, q, k)| one_unit_scenarios(n, c, *q, *k))
        .collect();
        let w = skewed_weather();
        let (s, c) = theta.sin_cos();
        let near = individual_risk_parts_at(&scenarios, &w, r * s, r * c).unwrap().isotropic;
        let far = individual_risk_parts_at(&scenarios, &w, (r + dr) * s, (r + dr) * c).unwrap().isotropic;
        prop_assert!(far <= near * (1.0 + 1e-12), "r {r}: {near}, r {}: {far}", r + dr);
    }
}

/// F–N by hand: one instantaneous propane explosion (1000 kg, α = 0.04,
/// Q_TNT 4.52 MJ/kg: W_TNT = 0.04·1000·46.34/4.52 = 410.1 kg TNT,
/// Kingery–Bulmash surface), one point of 50 people inside the 0.3 barg
/// radius and one of 40 people between 0.1 and 0.3 barg, one far away.
/// PB Table 5.3: inside 0.3 barg everyone dies; between 0.1 and 0.3 barg
/// 0.025 of those indoors (0.93 by day, 0.99 by night).
/// Day: N = 50 + 40·0.93·0.025 = 50.93 with F = f·0.44·p;
/// night: N = 50 + 40·0.99·0.025 = 50.99 with F = f·0.56·p.
/// So F(50.93) = f·p and F(50.99) = 0.56·f·p, f = 1e-5, p = 0.4.
#[test]
fn fn_curve_by_hand() {
    let rules = QraRules::embedded();
    let tnt = VapourCloudExplosion {
        tnt: TntEquivalence::VapourCloud {
            fuel_mass_kg: 1000.0,
            heat_of_combustion_j_per_kg: 46.34e6,
            yield_factor: 0.04,
            tnt_blast_energy_j_per_kg: 4.52e6,
            ground_burst_factor: 1.0,
        },
        curve: BlastCurve::KingeryBulmashSurface,
        ambient_pressure_pa: 101_325.0,
    }
    .evaluate(&[])
    .unwrap();
    // Check the hand geometry: 20 m is above 0.3 barg, 70 m between 0.1 and 0.3.
    assert!(tnt.effect_at(20.0).unwrap() > 30_000.0);
    assert!(tnt.effect_at(70.0).unwrap() < 30_000.0 && tnt.effect_at(70.0).unwrap() > 10_000.0);
    assert!(tnt.effect_at(2000.0).unwrap() < 10_000.0);
    let scenario = Scenario {
        id: "hand".into(),
        unit_id: "U".into(),
        substance: "丙烷".into(),
        substance_key: "lpg".into(),
        kind: ScenarioKind::Instantaneous,
        equipment: Equipment::PressureVessel,
        x_m: 0.0,
        y_m: 0.0,
        frequency_per_year: 1e-5,
        mass_kg: 1000.0,
        release_rate_kg_s: 0.0,
        duration_s: 0.0,
        outcomes: vec![Outcome {
            kind: OutcomeKind::Explosion,
            probability: 0.4,
            model: OutcomeModel::Explosion {
                cloud: Cloud::Instantaneous { mass_kg: 1000.0 },
                lfl_kg_m3: 0.0385,
                heat_of_combustion_j_per_kg: 46.34e6,
            },
        }],
        params: ScenarioParams::from_rules(rules),
    };
    let weather = Weather {
        classes: vec![
            WeatherClass {
                id: "D5".into(),
                stability: StabilityClass::D,
                wind_speed_m_s: 5.0,
                probability: 0.44,
                daytime: true,
            },
            WeatherClass {
                id: "F1.5".into(),
                stability: StabilityClass::F,
                wind_speed_m_s: 1.5,
                probability: 0.56,
                daytime: false,
            },
        ],
        wind_rose: vec![1.0 / 12.0; 12],
        terrain: riskmap_safety::Terrain::Rural,
    };
    let people = [
        PopulationPoint {
            id: "A".into(),
            x_m: 20.0,
            y_m: 0.0,
            people: 50.0,
        },
        PopulationPoint {
            id: "B".into(),
            x_m: 0.0,
            y_m: -70.0,
            people: 40.0,
        },
        PopulationPoint {
            id: "C".into(),
            x_m: 2000.0,
            y_m: 0.0,
            people: 1000.0,
        },
    ];
    let curve = fn_curve(&[scenario], &weather, &people).unwrap();
    assert_eq!(curve.points.len(), 2, "{:?}", curve.points);
    let (p0, p1) = (curve.points[0], curve.points[1]);
    assert!(
        close(p0.n, 50.93, 1e-9) && close(p0.f, 4e-6, 1e-9),
        "{p0:?}"
    );
    assert!(
        close(p1.n, 50.99, 1e-9) && close(p1.f, 0.56 * 4e-6, 1e-9),
        "{p1:?}"
    );
    // 4e-6 > 1e-5/50.93 = 1.96e-7 (lower) and < 1e-3/50.93 (upper): ALARP.
    assert_eq!(curve.region, SocietalRegion::Alarp);
    assert!(curve.unconfirmed.iter().any(|u| u.contains("UNCONFIRMED")));
    // PLL = 4e-6·0.44·50.93 + 4e-6·0.56·50.99.
    let pll = 4e-6 * (0.44 * 50.93 + 0.56 * 50.99);
    assert!(close(curve.expected_deaths_per_year, pll, 1e-9));
}

/// The F–N region rises with the frequency: unacceptable above 1e-3/N.
#[test]
fn fn_region_follows_the_lines() {
    let scenarios = site_scenarios();
    let weather = Weather::default_two_class_uniform(12).unwrap();
    let people: Vec<PopulationPoint> = (0..40)
        .map(|k| {
            let a = k as f64 * 0.7;
            PopulationPoint {
                id: format!("p{k}"),
                x_m: 300.0 * a.cos(),
                y_m: 300.0 * a.sin(),
                people: 200.0,
            }
        })
        .collect();
    let base = fn_curve(&scenarios, &weather, &people).unwrap();
    assert!(!base.points.is_empty());
    assert!(
        base.points
            .windows(2)
            .all(|w| w[0].n < w[1].n && w[0].f >= w[1].f)
    );
    let mut hot = scenarios.clone();
    for s in &mut hot {
        s.frequency_per_year *= 1e4;
    }
    let worse = fn_curve(&hot, &weather, &people).unwrap();
    assert!(worse.region >= base.region);
    assert_eq!(worse.region, SocietalRegion::Unacceptable);
}

/// Timing of the benchmark case (not an assertion): 1000×1000 cells,
/// 100 scenarios, 16 sectors, 2 weather classes. Run with
/// `cargo test -p riskmap-safety --release -- --ignored --nocapture timing`.
#[test]
#[ignore]
fn timing_1000x1000_100_scenarios() {
    let scenarios = riskmap_safety::qra::synthetic_scenarios(100);
    assert_eq!(scenarios.len(), 100);
    let weather = Weather::default_two_class_uniform(16).unwrap();
    let t0 = std::time::Instant::now();
    let grid = auto_grid(&scenarios, &weather, 3e-7, 1000).unwrap();
    let t1 = std::time::Instant::now();
    // Exactly 1000×1000 cells of the auto grid's size, centred on it.
    let (cx, cy) = (
        grid.x0_m + 0.5 * grid.nx as f64 * grid.cell_m,
        grid.y0_m + 0.5 * grid.ny as f64 * grid.cell_m,
    );
    let grid = riskmap_safety::qra::GridSpec {
        x0_m: cx - 500.0 * grid.cell_m,
        y0_m: cy - 500.0 * grid.cell_m,
        nx: 1000,
        ny: 1000,
        ..grid
    };
    let field = individual_risk_field(&scenarios, &weather, &grid).unwrap();
    let t2 = std::time::Instant::now();
    let contours = risk_contours(&field, &CONTOUR_LEVELS).unwrap();
    let t3 = std::time::Instant::now();
    eprintln!(
        "auto_grid {:?}; field {}×{} ({} m cells) {:?}; contours {:?}; max IR {:e}; {} levels",
        t1 - t0,
        grid.nx,
        grid.ny,
        grid.cell_m,
        t2 - t1,
        t3 - t2,
        field.max(),
        contours.iter().filter(|c| !c.area.0.is_empty()).count()
    );
}

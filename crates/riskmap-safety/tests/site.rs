//! Site assessment on the map: zones, violations and siting answers against
//! the individual-risk field itself (`QraModel::risk_at`, the direct sum).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use geo::{Coord, Geometry, Point, Polygon, Rect};
use riskmap_core::model::{
    Enterprise, Installation, ProtectionTarget, Record, Substance, TargetCategory, Unit, UnitKind,
};
use riskmap_core::{Catalog, Collection, Feature};
use riskmap_safety::site::{
    LocalFrame, ProposedUse, SafetyConfig, SafetyState, ZoneKind, check_proposal,
};
use riskmap_safety::{Method, TargetClass};
use serde_json::Map;

const LON0: f64 = 120.9;
const LAT0: f64 = 30.55;

fn site(id: &str, installation: Installation, substances: Vec<(&str, &str, f64)>) -> Feature {
    site_units(id, installation, vec![substances])
}

/// A 200 m × 200 m site centred on (LON0, LAT0), one storage unit per list.
fn site_units(id: &str, installation: Installation, units: Vec<Vec<(&str, &str, f64)>>) -> Feature {
    let frame = LocalFrame::new(LON0, LAT0).unwrap();
    let square = Polygon::from(Rect::new(
        Coord {
            x: -100.0,
            y: -100.0,
        },
        Coord { x: 100.0, y: 100.0 },
    ));
    let geometry = frame.to_lonlat(&Geometry::Polygon(square)).unwrap();
    Feature {
        updated: None,
        id: id.into(),
        geometry,
        record: Record::Enterprise(Enterprise {
            name: format!("示例 {id}"),
            credit_code: None,
            industry: Some("化工".into()),
            district_code: None,
            park_id: None,
            employees: Some(40),
            standardization_level: Some(2),
            accidents: vec![],
            units: units
                .into_iter()
                .enumerate()
                .map(|(i, substances)| Unit {
                    id: format!("T{}", i + 1),
                    name: None,
                    kind: UnitKind::Storage,
                    geometry: None,
                    substances: substances
                        .into_iter()
                        .map(|(name, cas, q)| Substance {
                            name: Some(name.into()),
                            cas: Some(cas.into()),
                            quantity_t: q,
                            hazard_categories: vec![],
                        })
                        .collect(),
                    processes: vec![],
                })
                .collect(),
            installation: Some(installation),
            major_hazard_registration: None,
            inspection_findings: Vec::new(),
            extra: Map::new(),
        }),
    }
}

fn school() -> ProtectionTarget {
    ProtectionTarget {
        name: Some("拟建小学".into()),
        category: TargetCategory::School,
        population: Some(1200),
        households: None,
        beds: None,
        floor_area_m2: None,
        extra: Map::new(),
    }
}

fn lonlat(frame: &LocalFrame, x: f64, y: f64) -> Geometry<f64> {
    frame.to_lonlat(&Geometry::Point(Point::new(x, y))).unwrap()
}

/// The distance east of the site centre where IR falls through `level`,
/// by bisection on the direct sum (not the grid).
fn crossing_east(state: &SafetyState, id: &str, level: f64) -> f64 {
    let a = &state.sites[id];
    let frame = a.frame().unwrap();
    let ir = |x: f64| {
        let Geometry::Point(p) = lonlat(frame, x, 0.0) else {
            unreachable!()
        };
        a.individual_risk_at_lonlat(p.x(), p.y()).unwrap()
    };
    let (mut lo, mut hi) = (100.0, 100.0);
    while ir(hi) >= level {
        lo = hi;
        hi *= 1.5;
        assert!(hi < 200_000.0, "IR never falls below {level}");
    }
    assert!(ir(lo) >= level, "IR at the site edge is below {level}");
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if ir(mid) >= level {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

#[test]
fn a_school_inside_the_new_site_3e7_contour_conflicts_with_its_margin_and_outside_is_clear() {
    let mut cat = Catalog::new();
    cat.load(
        Collection::Enterprises,
        vec![site(
            "cl",
            Installation::New,
            vec![("液氯", "7782-50-5", 50.0)],
        )],
    );
    let cfg = SafetyConfig::embedded();
    let state = SafetyState::compute(&cat, &cfg);
    let a = &state.sites["cl"];
    assert!(a.methods.iter().any(|m| m.method == Method::Qra));
    let zone = a
        .zones
        .iter()
        .find(|z| z.kind == ZoneKind::IsoRisk && z.level == Some(3e-7))
        .expect("a 3e-7 contour");
    assert!(zone.classes.contains(&TargetClass::HighSensitivity));
    let r = crossing_east(&state, "cl", 3e-7);
    assert!(
        r > 130.0,
        "the 3e-7 crossing at {r} m is too close to the site edge (100 m)"
    );
    let cell = a.grid.as_ref().unwrap().cell_m;
    let frame = a.frame().unwrap().clone();
    let proposal = ProposedUse::Target(school());

    // Inside by 10 m and by half the way to the site edge.
    for depth in [10.0, ((r - 100.0) / 2.0).floor()] {
        let g = lonlat(&frame, r - depth, 0.0);
        let ans = check_proposal(&proposal, &g, &state, &cat, &cfg).unwrap();
        let c = ans
            .conflicts
            .iter()
            .find(|c| c.zone_id == zone.id)
            .unwrap_or_else(|| panic!("{depth} m inside: no conflict with {}", zone.id));
        assert_eq!(c.method, Method::Qra);
        assert_eq!(c.criterion_per_year, Some(3e-7));
        assert!(c.individual_risk_per_year.unwrap() >= 3e-7);
        // The contour is drawn from the grid: its edge is within a cell of the true crossing.
        assert!(
            (c.margin_m + depth).abs() <= cell * std::f64::consts::SQRT_2 + 0.5,
            "margin {} for {depth} m inside (cell {cell} m)",
            c.margin_m
        );
        assert!(
            (c.distance_m - (r - depth - 100.0)).abs() < 1.0,
            "{}",
            c.distance_m
        );
    }
    let g = lonlat(&frame, r + 2.0 * cell, 0.0);
    let ans = check_proposal(&proposal, &g, &state, &cat, &cfg).unwrap();
    assert!(ans.clear, "{:#?}", ans.conflicts);
    assert!(ans.considered.iter().any(|s| s.id == "cl"));

    // The same site as an existing installation: the 3e-6 contour protects schools instead.
    let mut cat2 = Catalog::new();
    cat2.load(
        Collection::Enterprises,
        vec![site(
            "cl",
            Installation::Existing,
            vec![("液氯", "7782-50-5", 50.0)],
        )],
    );
    let state2 = SafetyState::compute(&cat2, &cfg);
    for z in &state2.sites["cl"].zones {
        if z.classes.contains(&TargetClass::HighSensitivity) {
            assert_eq!(z.level, Some(3e-6), "{}", z.id);
        }
        if z.level == Some(3e-7) {
            assert!(z.classes.is_empty(), "{} protects {:?}", z.id, z.classes);
        }
    }
    let g = lonlat(&frame, r - 10.0, 0.0);
    let ans = check_proposal(&proposal, &g, &state2, &cat2, &cfg).unwrap();
    assert!(
        ans.clear,
        "an existing site's 3e-7 contour does not bind: {:#?}",
        ans.conflicts
    );
}

#[test]
fn violations_follow_targets_and_the_verdict_flips() {
    let mut cat = Catalog::new();
    cat.load(
        Collection::Enterprises,
        vec![site(
            "cl",
            Installation::New,
            vec![("液氯", "7782-50-5", 50.0)],
        )],
    );
    let cfg = SafetyConfig::embedded();
    let mut state = SafetyState::compute(&cat, &cfg);
    assert!(state.sites["cl"].violations.is_empty());
    assert_eq!(state.verdicts()["cl"], Some(true));
    let frame = state.sites["cl"].frame().unwrap().clone();
    let g = lonlat(&frame, 130.0, 0.0);
    let f = Feature {
        updated: None,
        id: "home".into(),
        geometry: g.clone(),
        record: Record::ProtectionTarget(ProtectionTarget {
            name: Some("幼儿园".into()),
            category: TargetCategory::Kindergarten,
            population: Some(300),
            households: None,
            beds: None,
            floor_area_m2: None,
            extra: Map::new(),
        }),
    };
    let bbox = f.bbox();
    cat.insert(f);
    let ch = state.target_changed(&cat, &cfg, &[bbox]);
    assert_eq!(ch.sites, vec!["cl".to_string()]);
    let v = &state.sites["cl"].violations;
    assert!(
        !v.is_empty(),
        "a kindergarten 30 m from a new chlorine store is inside its 3e-7 zone"
    );
    assert!(v.iter().all(|v| v.target_id == "home" && v.margin_m < 0.0));
    assert_eq!(state.verdicts()["cl"], Some(false));
    let removed: Arc<Feature> = cat.remove(Collection::ProtectionTargets, "home").unwrap();
    state.target_changed(&cat, &cfg, &[removed.bbox()]);
    assert!(state.sites["cl"].violations.is_empty());
    assert_eq!(state.verdicts()["cl"], Some(true));
}

#[test]
fn several_methods_on_one_site_mark_the_strictest_as_governing() {
    let mut cat = Catalog::new();
    // Chlorine above its critical quantity (QRA) and methanol (code distances).
    cat.load(
        Collection::Enterprises,
        vec![site_units(
            "mix",
            Installation::Existing,
            vec![
                vec![("液氯", "7782-50-5", 20.0)],
                vec![("甲醇", "67-56-1", 2000.0)],
            ],
        )],
    );
    let cfg = SafetyConfig::embedded();
    let state = SafetyState::compute(&cat, &cfg);
    let a = &state.sites["mix"];
    let methods: Vec<Method> = a.methods.iter().map(|m| m.method).collect();
    assert!(methods.contains(&Method::Qra), "{methods:?}");
    assert!(methods.contains(&Method::CodeDistance), "{methods:?}");
    for class in [
        TargetClass::HighSensitivity,
        TargetClass::General1,
        TargetClass::General3,
    ] {
        let rows: Vec<_> = a.distances.iter().filter(|d| d.class == class).collect();
        assert!(!rows.is_empty(), "{class:?}");
        let gov: Vec<_> = rows.iter().filter(|d| d.governing).collect();
        assert_eq!(gov.len(), 1, "{class:?}: {rows:#?}");
        let max = rows.iter().map(|d| d.distance_m).fold(0.0, f64::max);
        assert_eq!(gov[0].distance_m, max);
    }
}

#[test]
fn a_proposed_hazardous_site_lists_existing_targets_inside_its_zones() {
    let mut cat = Catalog::new();
    let frame = LocalFrame::new(LON0, LAT0).unwrap();
    let near = lonlat(&frame, 60.0, 0.0);
    let far = lonlat(&frame, 60_000.0, 0.0);
    for (id, g) in [("near", near), ("far", far)] {
        cat.insert(Feature {
            updated: None,
            id: id.into(),
            geometry: g,
            record: Record::ProtectionTarget(ProtectionTarget {
                name: None,
                category: TargetCategory::Kindergarten,
                population: Some(150),
                households: None,
                beds: None,
                floor_area_m2: None,
                extra: Map::new(),
            }),
        });
    }
    let cfg = SafetyConfig::embedded();
    let state = SafetyState::compute(&cat, &cfg);
    let Record::Enterprise(e) =
        site("p", Installation::New, vec![("液氯", "7782-50-5", 30.0)]).record
    else {
        unreachable!()
    };
    let proposal = ProposedUse::Site {
        units: e.units,
        installation: Installation::New,
        name: "拟建".into(),
    };
    let g = Geometry::Point(Point::new(LON0, LAT0));
    let ans = check_proposal(&proposal, &g, &state, &cat, &cfg).unwrap();
    assert!(!ans.zones.is_empty());
    assert!(!ans.clear);
    assert!(ans.conflicts.iter().any(|c| c.target_id == "near"));
    assert!(ans.conflicts.iter().all(|c| c.target_id != "far"));
    assert!(ans.considered.iter().any(|c| c.id == "near"));
    let fnc = ans.assessment.as_ref().unwrap().fn_curve.as_ref().unwrap();
    assert!(
        !fnc.points.is_empty(),
        "150 people 60 m from 30 t chlorine give an F–N curve"
    );
}

#[test]
#[ignore]
fn print_demo_like_sites() {
    for (name, cas, q) in [
        ("液氯", "7782-50-5", 50.0),
        ("液化石油气", "68476-85-7", 100.0),
        ("液氨", "7664-41-7", 100.0),
    ] {
        let mut cat = Catalog::new();
        cat.load(
            Collection::Enterprises,
            vec![site("s", Installation::New, vec![(name, cas, q)])],
        );
        let cfg = SafetyConfig::embedded();
        let state = SafetyState::compute(&cat, &cfg);
        let a = &state.sites["s"];
        println!(
            "{name} {q} t: grid {:?} max IR {:?}",
            a.grid, a.max_individual_risk
        );
        for z in &a.zones {
            println!(
                "  {} {:?} {:?} {:.0} m classes {:?}",
                z.id, z.kind, z.level, z.distance_m, z.classes
            );
        }
        let frame = a.frame().unwrap();
        for x in [
            0.0, 20.0, 50.0, 100.0, 150.0, 200.0, 300.0, 500.0, 1000.0, 2000.0, 5000.0,
        ] {
            let Geometry::Point(p) = lonlat(frame, x, 0.0) else {
                unreachable!()
            };
            println!(
                "  IR({x} m) = {:.3e}",
                a.individual_risk_at_lonlat(p.x(), p.y()).unwrap()
            );
        }
    }
}

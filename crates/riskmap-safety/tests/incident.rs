//! An incident at a demo chlorine unit: the dense-gas model is chosen and
//! says why, and who is inside each zone equals a brute-force count with a
//! hand-written ray-casting test (no spatial index, no geo predicate).

#![allow(clippy::unwrap_used)]

use riskmap_core::model::Collection;
use riskmap_core::{Catalog, demo, import::parse_geojson};
use riskmap_safety::command::{IncidentRequest, TimeOfDay, assess_incident};

fn demo_catalog() -> Catalog {
    let mut cat = Catalog::new();
    for c in Collection::ALL {
        for f in parse_geojson(c, demo::text(c), riskmap_spatial::Crs::Wgs84).unwrap() {
            cat.insert(f);
        }
    }
    cat
}

/// Ray casting: whether (x, y) lies inside the closed ring.
fn in_ring(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    let mut j = n - 1;
    for i in 0..n {
        let (xi, yi) = ring[i];
        let (xj, yj) = ring[j];
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

fn segments_cross(a: (f64, f64), b: (f64, f64), c: (f64, f64), d: (f64, f64)) -> bool {
    let cross = |o: (f64, f64), p: (f64, f64), q: (f64, f64)| {
        (p.0 - o.0) * (q.1 - o.1) - (p.1 - o.1) * (q.0 - o.0)
    };
    let (d1, d2) = (cross(c, d, a), cross(c, d, b));
    let (d3, d4) = (cross(a, b, c), cross(a, b, d));
    (d1 > 0.0) != (d2 > 0.0) && (d3 > 0.0) != (d4 > 0.0)
}

/// Whether a geometry's coordinates touch the ring: a vertex inside, a
/// ring vertex inside the geometry's own outline (not needed for points),
/// or an edge crossing.
fn touches(ring: &[(f64, f64)], g: &geo::Geometry<f64>) -> bool {
    use geo::CoordsIter;
    let pts: Vec<(f64, f64)> = g.coords_iter().map(|c| (c.x, c.y)).collect();
    if pts.iter().any(|&(x, y)| in_ring(ring, x, y)) {
        return true;
    }
    if let geo::Geometry::Polygon(p) = g {
        let outer: Vec<(f64, f64)> = p.exterior().coords().map(|c| (c.x, c.y)).collect();
        if ring.iter().any(|&(x, y)| in_ring(&outer, x, y)) {
            return true;
        }
    }
    if let geo::Geometry::MultiPolygon(mp) = g {
        for p in &mp.0 {
            let outer: Vec<(f64, f64)> = p.exterior().coords().map(|c| (c.x, c.y)).collect();
            if ring.iter().any(|&(x, y)| in_ring(&outer, x, y)) {
                return true;
            }
        }
    }
    pts.windows(2).any(|e| {
        ring.windows(2)
            .any(|r| segments_cross(e[0], e[1], r[0], r[1]))
    })
}

fn chlorine_at_ent01(from: f64) -> IncidentRequest {
    IncidentRequest {
        site_id: Some("ent-01".into()),
        unit_id: Some("ent-01-T1".into()),
        point: None,
        substance: "7782-50-5".into(),
        release: Some(riskmap_safety::incident::Release::Continuous {
            rate_kg_s: 2.0,
            duration_s: 1800.0,
        }),
        wind_from_deg: from,
        wind_speed_m_s: 3.0,
        stability: None,
        time_of_day: Some(TimeOfDay::Day),
        cloud_cover_oktas: Some(4),
        ambient_temperature_c: Some(20.0),
        terrain: None,
    }
}

#[test]
fn a_chlorine_release_at_a_demo_unit_takes_the_dense_gas_model() {
    let cat = demo_catalog();
    let a = assess_incident(&chlorine_at_ent01(90.0), &cat, None).unwrap();
    assert!(
        a.toxic.model.starts_with("britter_mcquaid"),
        "{}",
        a.toxic.model
    );
    assert!(
        a.toxic.reason.contains("dense-gas model"),
        "{}",
        a.toxic.reason
    );
    assert_eq!(a.cas, "7782-50-5");
    assert_eq!(a.footprints.len(), 3);
    // ERG beside the model: 3.6 t over 30 min of chlorine is a large
    // spill; by day the table keeps 3.0 km downwind.
    let erg = a.erg.as_ref().unwrap();
    assert_eq!((erg.spill, erg.protective_action_km), ("large", Some(3.0)));
    assert!(
        a.notes.iter().any(|n| n.starts_with("ERG (UN 1017")),
        "{:?}",
        a.notes
    );
    // Help: teams soonest first, straight-line distances labelled as such,
    // arrival never sooner than the straight drive at 50 km/h; shelters
    // outside every zone, filled nearest first.
    let h = &a.help;
    assert!(h.distance_basis.starts_with("straight line"));
    assert!(!h.teams.is_empty() && !h.shelters.is_empty());
    assert!(
        h.teams
            .windows(2)
            .all(|w| w[0].eta_min[1] <= w[1].eta_min[1])
    );
    for t in &h.teams {
        assert!(t.eta_min[0] >= 1.0 + t.distance_m / 1000.0 / 50.0 * 60.0 - 1e-9);
    }
    for s in &h.shelters {
        let g = &cat.get(Collection::Shelters, &s.id).unwrap().geometry;
        for z in a.footprints.iter().chain(&a.uncertainty_areas) {
            let ring: Vec<(f64, f64)> = z.exterior().coords().map(|c| (c.x, c.y)).collect();
            assert!(
                ring.len() < 4 || !touches(&ring, g),
                "shelter {} is in a zone",
                s.id
            );
        }
    }
    let assigned: u64 = h.shelters.iter().map(|s| s.assigned).sum();
    assert_eq!(assigned + h.unassigned, h.people_to_evacuate);
    // The worst credible case comes from the unit's 300 t over 10 min.
    let mut worst = chlorine_at_ent01(90.0);
    worst.release = None;
    let w = assess_incident(&worst, &cat, None).unwrap();
    assert!(w.release_basis.contains("300 t"), "{}", w.release_basis);
    // Unknown substance and missing unit are named.
    let mut bad = chlorine_at_ent01(90.0);
    bad.substance = "unobtainium".into();
    assert!(
        assess_incident(&bad, &cat, None)
            .unwrap_err()
            .to_string()
            .starts_with("substance")
    );
    let mut bad = chlorine_at_ent01(90.0);
    bad.unit_id = Some("T9".into());
    assert!(
        assess_incident(&bad, &cat, None)
            .unwrap_err()
            .to_string()
            .starts_with("unit_id")
    );
}

#[test]
fn who_is_inside_equals_a_brute_force_count() {
    let cat = demo_catalog();
    let mut any = 0;
    for from in [0.0, 90.0, 200.0, 290.0] {
        let a = assess_incident(&chlorine_at_ent01(from), &cat, None).unwrap();
        for (fp, inside) in a.footprints.iter().zip(&a.inside) {
            let ring: Vec<(f64, f64)> = fp.exterior().coords().map(|c| (c.x, c.y)).collect();
            if ring.len() < 4 {
                continue;
            }
            let mut want: Vec<String> = cat
                .iter(Collection::ProtectionTargets)
                .filter(|f| touches(&ring, &f.geometry))
                .map(|f| f.id.clone())
                .collect();
            want.sort();
            let mut got: Vec<String> = inside.targets.iter().map(|t| t.id.clone()).collect();
            got.sort();
            assert_eq!(got, want, "wind from {from}, {}", inside.colour);
            any += got.len();
            let mut want: Vec<String> = cat
                .iter(Collection::Pipelines)
                .filter(|f| touches(&ring, &f.geometry))
                .map(|f| f.id.clone())
                .collect();
            want.sort();
            let mut got: Vec<String> = inside.pipelines.iter().map(|t| t.id.clone()).collect();
            got.sort();
            assert_eq!(got, want, "pipelines, wind from {from}, {}", inside.colour);
            // Vulnerable targets are listed first.
            use riskmap_core::model::TargetCategory as C;
            let vulnerable = |c: C| {
                matches!(
                    c,
                    C::School | C::Kindergarten | C::Hospital | C::NursingHome
                )
            };
            if let Some(i) = inside.targets.iter().position(|t| !vulnerable(t.category)) {
                assert!(inside.targets[i..].iter().all(|t| !vulnerable(t.category)));
            }
        }
    }
    assert!(any > 0, "the test needs zones with targets inside");
}

fn lpg_at(
    site: &str,
    unit: &str,
    release: Option<riskmap_safety::incident::Release>,
) -> IncidentRequest {
    IncidentRequest {
        site_id: Some(site.into()),
        unit_id: Some(unit.into()),
        point: None,
        substance: "液化石油气".into(),
        release,
        wind_from_deg: 45.0,
        wind_speed_m_s: 2.5,
        stability: None,
        time_of_day: Some(TimeOfDay::Day),
        cloud_cover_oktas: Some(4),
        ambient_temperature_c: Some(20.0),
        terrain: None,
    }
}

/// Brute-force "who is inside" for every drawn zone of an answer: toxic
/// footprints, then the thermal and overpressure circles, against the
/// answer's `inside` in the same order.
fn check_inside(cat: &Catalog, a: &riskmap_safety::command::IncidentAnswer, what: &str) -> usize {
    let zones: Vec<&geo::Polygon<f64>> = a.footprints.iter().chain(&a.fire_footprints).collect();
    assert_eq!(zones.len(), a.inside.len(), "{what}");
    let hazards: Vec<(&str, &str)> = a
        .toxic
        .zones
        .iter()
        .map(|z| ("toxic", z.loc.colour))
        .chain(
            a.fire
                .iter()
                .flat_map(|h| h.zones.iter().map(|z| (h.hazard, z.loc.colour))),
        )
        .collect();
    let mut any = 0;
    for ((fp, inside), (hazard, colour)) in zones.iter().zip(&a.inside).zip(hazards) {
        assert_eq!((inside.hazard, inside.colour), (hazard, colour), "{what}");
        let ring: Vec<(f64, f64)> = fp.exterior().coords().map(|c| (c.x, c.y)).collect();
        if ring.len() < 4 {
            assert!(inside.targets.is_empty());
            continue;
        }
        for (c, got) in [
            (
                Collection::ProtectionTargets,
                inside
                    .targets
                    .iter()
                    .map(|t| t.id.clone())
                    .collect::<Vec<_>>(),
            ),
            (
                Collection::Pipelines,
                inside.pipelines.iter().map(|t| t.id.clone()).collect(),
            ),
        ] {
            let mut want: Vec<String> = cat
                .iter(c)
                .filter(|f| touches(&ring, &f.geometry))
                .map(|f| f.id.clone())
                .collect();
            want.sort();
            let mut got = got;
            got.sort();
            assert_eq!(got, want, "{what}: {c:?} in {hazard} {colour}");
            any += got.len();
        }
    }
    any
}

#[test]
fn who_is_inside_the_fire_and_blast_zones_equals_a_brute_force_count() {
    use riskmap_safety::incident::Release;
    let cat = demo_catalog();
    let mut any = 0;
    for (site, unit) in [("ent-21", "ent-21-T1"), ("ent-04", "ent-04-T1")] {
        for release in [
            Some(Release::Instantaneous { mass_kg: 30_000.0 }),
            Some(Release::Continuous {
                rate_kg_s: 50.0,
                duration_s: 600.0,
            }),
            None,
        ] {
            let a = assess_incident(&lpg_at(site, unit, release), &cat, None).unwrap();
            assert!(a.fire.len() == 2, "{site}: {:?}", a.absent_hazards);
            any += check_inside(&cat, &a, &format!("{site} {release:?}"));
            // Shelters avoid every zone of every hazard.
            for s in &a.help.shelters {
                let g = &cat.get(Collection::Shelters, &s.id).unwrap().geometry;
                for z in a.fire_footprints.iter() {
                    let ring: Vec<(f64, f64)> = z.exterior().coords().map(|c| (c.x, c.y)).collect();
                    assert!(
                        ring.len() < 4 || !touches(&ring, g),
                        "shelter {} in a fire zone",
                        s.id
                    );
                }
            }
        }
    }
    assert!(any > 0, "the test needs fire zones with targets inside");
    // The chlorine zones keep their count, and have no fire zones.
    let a = assess_incident(&chlorine_at_ent01(90.0), &cat, None).unwrap();
    check_inside(&cat, &a, "chlorine");
    assert_eq!(a.inside.len(), 3);
}

#[test]
fn flammable_releases_at_demo_units_take_their_fire_scenarios() {
    use riskmap_safety::fire_zones::FireSource;
    use riskmap_safety::incident::Release;
    let cat = demo_catalog();
    // LPG at once: fireball (BLEVE) and explosion; no toxic levels on file.
    let a = assess_incident(
        &lpg_at(
            "ent-21",
            "ent-21-T1",
            Some(Release::Instantaneous { mass_kg: 30_000.0 }),
        ),
        &cat,
        None,
    )
    .unwrap();
    let scen: Vec<&str> = a.hazards.iter().map(|h| h.scenario.as_str()).collect();
    assert_eq!(scen, ["fireball", "vapour_cloud_explosion"]);
    assert_eq!(a.absent_hazards[0].hazard, "toxic");
    assert!(a.footprints.is_empty() && a.toxic.model == "not_assessed");
    for h in &a.fire {
        for z in &h.zones {
            let r = z.reach_m.unwrap();
            let level = FireSource::model_level(&z.loc);
            let at = h.source.effect_at(r).unwrap();
            assert!(
                (at - level).abs() <= 0.01 * level,
                "{} {}",
                h.scenario,
                z.loc.colour
            );
        }
    }
    assert!(a.notes.iter().any(|n| n.contains("blast centre downwind")));
    // The worst credible case (the whole 400 t over 10 min) is a jet fire.
    let w = assess_incident(&lpg_at("ent-21", "ent-21-T1", None), &cat, None).unwrap();
    assert!(w.release_basis.contains("400 t"), "{}", w.release_basis);
    assert_eq!(w.hazards[0].scenario, "jet_fire");
    // Propane by its English name and CAS is the same row.
    let mut p = lpg_at("ent-21", "ent-21-T1", None);
    p.substance = "74-98-6".into();
    let pa = assess_incident(&p, &cat, None).unwrap();
    assert_eq!(pa.cas, "74-98-6");
    assert_eq!(pa.hazards[0].scenario, "jet_fire");
    // Gasoline from its storage unit: a pool fire in the bund.
    let mut g = lpg_at(
        "ent-04",
        "ent-04-T2",
        Some(Release::Instantaneous { mass_kg: 100_000.0 }),
    );
    g.substance = "汽油".into();
    let ga = assess_incident(&g, &cat, None).unwrap();
    assert_eq!(ga.hazards[0].scenario, "pool_fire");
    assert!(
        ga.hazards[0].reasons.iter().any(|r| r.contains("bund")),
        "{:?}",
        ga.hazards[0].reasons
    );
    // Benzene: toxic as before, and a pool fire and an explosion.
    let mut b = lpg_at(
        "ent-04",
        "ent-04-P3",
        Some(Release::Continuous {
            rate_kg_s: 5.0,
            duration_s: 600.0,
        }),
    );
    b.substance = "71-43-2".into();
    let ba = assess_incident(&b, &cat, None).unwrap();
    let hz: Vec<&str> = ba.hazards.iter().map(|h| h.hazard).collect();
    assert_eq!(hz, ["toxic", "thermal", "overpressure"]);
    assert_eq!(ba.hazards[1].scenario, "pool_fire");
    assert_eq!(ba.inside.len(), 9);
    // Chlorine: toxic only, and says why there is no fire.
    let c = assess_incident(&chlorine_at_ent01(90.0), &cat, None).unwrap();
    assert_eq!(c.hazards.len(), 1);
    assert!(c.fire.is_empty() && c.fire_footprints.is_empty());
    assert!(
        c.absent_hazards
            .iter()
            .all(|x| x.reason.starts_with("not flammable"))
    );
    assert!(
        c.notes
            .iter()
            .any(|n| n.starts_with("no thermal hazard: not flammable"))
    );
    // NaN and negative inputs are refused by name.
    for (release, name) in [
        (Release::Instantaneous { mass_kg: f64::NAN }, "mass_kg"),
        (
            Release::Continuous {
                rate_kg_s: -3.0,
                duration_s: 60.0,
            },
            "rate_kg_s",
        ),
    ] {
        let e =
            assess_incident(&lpg_at("ent-21", "ent-21-T1", Some(release)), &cat, None).unwrap_err();
        assert!(e.to_string().contains(name), "{e}");
    }
    let mut bad = lpg_at("ent-21", "ent-21-T1", None);
    bad.wind_speed_m_s = -1.0;
    assert!(
        assess_incident(&bad, &cat, None)
            .unwrap_err()
            .to_string()
            .contains("wind_speed_m_s")
    );
    let mut bad = lpg_at("ent-21", "ent-21-T1", None);
    bad.wind_from_deg = f64::NAN;
    assert!(
        assess_incident(&bad, &cat, None)
            .unwrap_err()
            .to_string()
            .contains("wind_from_deg")
    );
}

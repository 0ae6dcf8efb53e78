//! Help by road: an incident in Shanghai Jing'an with rescue teams, a depot
//! and shelters placed on its OpenStreetMap network. Teams are ranked by
//! their road arrival, each distance and route is the network's own fastest
//! route (an independent check is `riskmap-spatial`'s Dijkstra oracle), no
//! distance beats the straight line, and a team off the network is given
//! its straight-line distance, labelled.

#![allow(clippy::unwrap_used)]

use geo::Point;
use riskmap_core::Catalog;
use riskmap_core::import::parse_geojson;
use riskmap_core::model::Collection;
use riskmap_safety::command::{DistanceBasis, IncidentRequest, TimeOfDay, assess_incident};
use riskmap_safety::routing::{RoadRules, Roads};
use riskmap_spatial::metric::geodesic_distance_m;

const JINGAN: &[u8] = include_bytes!("../../../data/roads/shanghai-jingan.osm");
const SOURCE: [f64; 2] = [121.4745, 31.2300];

fn point_features(c: Collection, items: &[(&str, [f64; 2], &str)]) -> Vec<riskmap_core::Feature> {
    let features: Vec<String> = items
        .iter()
        .map(|(id, p, props)| {
            format!(
                r#"{{"type":"Feature","id":"{id}","geometry":{{"type":"Point","coordinates":[{},{}]}},"properties":{{{props}}}}}"#,
                p[0], p[1]
            )
        })
        .collect();
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    );
    parse_geojson(c, &text, riskmap_spatial::Crs::Wgs84).unwrap()
}

fn catalog() -> Catalog {
    let mut cat = Catalog::new();
    let teams = point_features(
        Collection::RescueTeams,
        &[
            (
                "t-north",
                [121.4700, 31.2390],
                r#""name":"静安北站","kind":"fire","members":30"#,
            ),
            (
                "t-west",
                [121.4640, 31.2250],
                r#""name":"西站","kind":"hazmat","members":20,"mobilisation_min":3"#,
            ),
            (
                "t-east",
                [121.4840, 31.2330],
                r#""name":"东站","kind":"medical","members":12"#,
            ),
            // 30 km away: off the network.
            (
                "t-far",
                [121.20, 31.10],
                r#""name":"远郊站","kind":"fire","members":25"#,
            ),
        ],
    );
    let depots = point_features(
        Collection::SupplyDepots,
        &[(
            "d-1",
            [121.4800, 31.2220],
            r#""name":"物资库","items":[{"name":"堵漏工具","quantity":10,"unit":"套"}]"#,
        )],
    );
    let shelters = point_features(
        Collection::Shelters,
        &[
            (
                "s-1",
                [121.4650, 31.2400],
                r#""name":"北广场","class":"emergency","capacity_persons":800"#,
            ),
            (
                "s-2",
                [121.4850, 31.2210],
                r#""name":"南公园","class":"fixed","capacity_persons":3000"#,
            ),
        ],
    );
    for f in teams.into_iter().chain(depots).chain(shelters) {
        cat.insert(f);
    }
    cat
}

fn request() -> IncidentRequest {
    IncidentRequest {
        site_id: None,
        unit_id: None,
        point: Some(SOURCE),
        substance: "7782-50-5".into(),
        release: Some(riskmap_safety::incident::Release::Continuous {
            rate_kg_s: 0.5,
            duration_s: 600.0,
        }),
        wind_from_deg: 0.0,
        wind_speed_m_s: 4.0,
        stability: None,
        time_of_day: Some(TimeOfDay::Day),
        cloud_cover_oktas: Some(4),
        ambient_temperature_c: Some(20.0),
        terrain: None,
    }
}

#[test]
fn help_is_ranked_by_road_arrival_with_routes() {
    let roads = Roads::from_osm_xml(JINGAN, "shanghai-jingan.osm").unwrap();
    let cat = catalog();
    let a = assess_incident(&request(), &cat, Some(&roads)).unwrap();
    let h = &a.help;
    assert!(h.distance_basis.starts_with("road"), "{}", h.distance_basis);
    assert_eq!(h.roads.as_ref().unwrap().source, "shanghai-jingan.osm");
    assert_eq!(h.teams.len(), 4);
    let rules = RoadRules::builtin();
    for t in &h.teams {
        let p = cat.get(Collection::RescueTeams, &t.id).unwrap();
        let here = match &p.geometry {
            geo::Geometry::Point(q) => [q.x(), q.y()],
            g => panic!("{g:?}"),
        };
        let straight = geodesic_distance_m(Point::from(here), Point::from(SOURCE));
        assert!(
            t.distance_m >= straight - 1e-6,
            "{}: {} < {straight}",
            t.id,
            t.distance_m
        );
        if t.id == "t-far" {
            assert_eq!(t.distance_basis, DistanceBasis::StraightLine);
            assert!(t.route.is_none());
            assert!(
                t.route_note.as_deref().unwrap().contains("start"),
                "{:?}",
                t.route_note
            );
            assert!((t.distance_m - straight).abs() < 1e-6);
            continue;
        }
        assert_eq!(t.distance_basis, DistanceBasis::Road, "{}", t.id);
        let route = t.route.as_ref().unwrap();
        assert_eq!((route[0], *route.last().unwrap()), (here, SOURCE));
        // The network's own route, inbound (team → incident).
        let r = roads.network.route(here, SOURCE, rules.access()).unwrap();
        assert!((t.distance_m - r.distance_m).abs() < 1e-9);
        let mobilise = if t.id == "t-west" { 3.0 } else { 0.0 };
        let free = 1.0 + mobilise + r.seconds / 60.0;
        let peak = 1.0 + mobilise + r.seconds / 60.0 / rules.peak_factor;
        assert!(
            (t.eta_min[0] - free).abs() < 1e-9 && (t.eta_min[1] - peak).abs() < 1e-9,
            "{t:?}"
        );
        assert!(t.distance_m > straight, "a city route bends: {}", t.id);
    }
    // Soonest first at peak.
    assert!(
        h.teams
            .windows(2)
            .all(|w| w[0].eta_min[1] <= w[1].eta_min[1])
    );
    assert_eq!(h.teams.last().unwrap().id, "t-far");
    assert_eq!(h.depots[0].distance_basis, DistanceBasis::Road);
    // Shelters outbound (incident → shelter), nearest by road first.
    assert!(
        h.shelters
            .iter()
            .all(|s| s.distance_basis == DistanceBasis::Road)
    );
    assert!(
        h.shelters
            .windows(2)
            .all(|w| w[0].distance_m <= w[1].distance_m)
    );
    for s in &h.shelters {
        let route = s.route.as_ref().unwrap();
        assert_eq!(route[0], SOURCE);
    }
    assert!(h.assumptions.iter().any(|x| x.contains("UNCONFIRMED")));
}

#[test]
fn without_roads_help_is_straight_and_says_so() {
    let a = assess_incident(&request(), &catalog(), None).unwrap();
    assert!(a.help.distance_basis.starts_with("straight line"));
    assert!(a.help.roads.is_none());
    assert!(
        a.help
            .teams
            .iter()
            .all(|t| t.distance_basis == DistanceBasis::StraightLine && t.route.is_none())
    );
}

//! Emergency command (应急指挥): an incident on the map. [`assess_incident`]
//! takes a release at a site's unit or at a point, the substance, the
//! weather and (optionally) the release itself, draws the toxic threat zones
//! ([`crate::incident::toxic_zones`]) in WGS84 and lists who is inside each:
//! protection targets by category with their population (schools,
//! kindergartens, hospitals and nursing homes first), the pipelines crossed
//! and the other hazardous sites (domino candidates), all tested exactly on
//! the geometry.
//!
//! A flammable substance (a row of `qra-substances.toml`, or a GB 18218
//! category that has a flammable surrogate there) also gets its thermal and
//! overpressure zones ([`crate::fire_zones`]: pool fire, jet fire or
//! fireball, and a vapour-cloud explosion), circles on the release with the
//! same "who is inside"; a substance without toxic levels of concern on
//! file (propane, gasoline) gets those alone, and the answer says why each
//! hazard is absent. Every zone of every hazard is avoided by the shelters.
//!
//! Without a release the worst credible case is taken from the unit's
//! inventory: the unit's whole quantity of the substance released over
//! 10 minutes (the US EPA RMP worst-case convention, 40 CFR 68.25; a project
//! convention here), and the answer says so.

use geo::{BoundingRect, Intersects, Polygon};
use serde::{Deserialize, Serialize};

use riskmap_core::model::{Collection, Record, TargetCategory, UnitKind};
use riskmap_core::{Catalog, Feature};

use crate::consequence::plume::{StabilityClass, Terrain};
use crate::effect::Reach;
use crate::error::SafetyError;
use crate::fire_zones::{AbsentHazard, FireAnswer, FlammableRelease, HazardSummary, fire_hazards};
use crate::incident::{IncidentRules, Release, ToxicRelease, ToxicZones, toxic_zones};
use crate::loc::LevelsOfConcern;
use crate::qra::rules::{PhysicalState, QraRules, SubstanceProps};
use crate::routing::{RoadRules, Roads};
use crate::site::LocalFrame;

/// Day or night, for the stability class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeOfDay {
    /// Sunrise to sunset.
    Day,
    /// Sunset to sunrise.
    Night,
}

/// An incident as reported (the body of `POST /api/incidents`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IncidentRequest {
    /// The enterprise where it happens, by feature id.
    #[serde(default)]
    pub site_id: Option<String>,
    /// Its unit (生产/储存单元), by unit id; needed for the worst credible
    /// case.
    #[serde(default)]
    pub unit_id: Option<String>,
    /// Or a point, `[lon, lat]` WGS84.
    #[serde(default)]
    pub point: Option<[f64; 2]>,
    /// The substance, by CAS number or name.
    pub substance: String,
    /// The release; the worst credible case of the unit when absent.
    #[serde(default)]
    pub release: Option<Release>,
    /// Direction the wind blows from, degrees clockwise from north.
    pub wind_from_deg: f64,
    /// Wind speed at 10 m, m/s.
    pub wind_speed_m_s: f64,
    /// Pasquill–Gifford class; derived from the time of day and the cloud
    /// cover when absent.
    #[serde(default)]
    pub stability: Option<StabilityClass>,
    /// Day or night (for the stability class).
    #[serde(default)]
    pub time_of_day: Option<TimeOfDay>,
    /// Cloud cover in oktas, 0–8 (for the stability class).
    #[serde(default)]
    pub cloud_cover_oktas: Option<u8>,
    /// Air temperature, °C (20 when absent).
    #[serde(default)]
    pub ambient_temperature_c: Option<f64>,
    /// Rural or urban ground (urban when absent: the demo city is built up).
    #[serde(default)]
    pub terrain: Option<Terrain>,
}

/// A protection target inside a zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetInside {
    /// Feature id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Category.
    pub category: TargetCategory,
    /// People (population, else the category's estimate).
    pub population: u64,
}

/// A feature inside a zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeatureInside {
    /// Feature id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
}

/// Who is inside one zone.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inside {
    /// `toxic`, `thermal` or `overpressure`.
    pub hazard: &'static str,
    /// `red`, `orange` or `yellow`.
    pub colour: &'static str,
    /// Protection targets, vulnerable ones first, then by population.
    pub targets: Vec<TargetInside>,
    /// Their people.
    pub population: u64,
    /// People by category.
    pub population_by_category: Vec<(TargetCategory, u64)>,
    /// Pipelines crossed.
    pub pipelines: Vec<FeatureInside>,
    /// Other hazardous sites inside (domino candidates).
    pub hazardous_sites: Vec<FeatureInside>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentAnswer {
    /// Where, `[lon, lat]`.
    pub source: [f64; 2],
    /// The substance as matched: name and CAS.
    pub substance: String,
    /// Its CAS number.
    pub cas: String,
    /// The release used.
    pub release: Release,
    /// How the release was chosen.
    pub release_basis: String,
    /// The stability class used and how it was chosen.
    pub stability: StabilityClass,
    /// Why this class.
    pub stability_basis: String,
    /// The zones in local metres, the model and its reasons.
    pub toxic: ToxicZones,
    /// The zones' footprints, WGS84, red first.
    pub footprints: Vec<Polygon<f64>>,
    /// Their uncertainty areas, WGS84.
    pub uncertainty_areas: Vec<Polygon<f64>>,
    /// Who is inside each zone: the toxic zones red first, then the
    /// thermal, then the overpressure zones.
    pub inside: Vec<Inside>,
    /// Every hazard present (toxic, thermal, overpressure): model,
    /// scenario, why, and its zones.
    pub hazards: Vec<crate::fire_zones::HazardSummary>,
    /// The hazards absent, and why (a substance that is not flammable has
    /// no thermal or overpressure hazard).
    pub absent_hazards: Vec<crate::fire_zones::AbsentHazard>,
    /// The thermal and overpressure hazards in full (model inputs, zones in
    /// local metres).
    #[serde(skip)]
    pub fire: Vec<crate::fire_zones::FireHazard>,
    /// Their zones, WGS84, in the order of `fire` and its zones (empty
    /// polygons where no zone is drawn).
    #[serde(skip)]
    pub fire_footprints: Vec<Polygon<f64>>,
    /// The nearest help and the shelters (应急资源).
    pub help: Help,
    /// ERG Table 1 distances for the same release, a plausibility check
    /// for the first minutes (none when the material is not in the table).
    pub erg: Option<crate::erg::ErgCheck>,
    /// Everything a reader must know that is a convention or unconfirmed.
    pub notes: Vec<String>,
}

/// How a distance was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DistanceBasis {
    /// Along the road network (fastest route at the class speeds).
    Road,
    /// The straight line (geodesic): no network here, or the place is off it.
    StraightLine,
}

/// A rescue team or depot ranked for an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resource {
    /// Feature id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Team kind (`fire`, `hazmat`, …) or `depot`.
    pub kind: String,
    /// Distance to the incident, m, along `route` or straight.
    pub distance_m: f64,
    /// Estimated arrival, minutes: dispatch 1 min + mobilisation + driving;
    /// by road at free flow and at peak (the class speeds × the peak
    /// factor), else straight at 50 and at 30 km/h.
    pub eta_min: [f64; 2],
    /// How `distance_m` was measured.
    pub distance_basis: DistanceBasis,
    /// The road route from the resource to the incident, `[lon, lat]`.
    pub route: Option<Vec<[f64; 2]>>,
    /// Why there is no route, when there is a network.
    pub route_note: Option<String>,
}

/// A shelter outside the zones, with the people assigned to it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShelterOption {
    /// Feature id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `emergency`, `fixed` or `central`.
    pub class: String,
    /// People it holds.
    pub capacity_persons: u32,
    /// Distance from the incident, m, along `route` or straight.
    pub distance_m: f64,
    /// How `distance_m` was measured.
    pub distance_basis: DistanceBasis,
    /// The road route from the incident to the shelter, `[lon, lat]`.
    pub route: Option<Vec<[f64; 2]>>,
    /// People assigned by the nearest-first fill.
    pub assigned: u64,
}

/// The road network an answer used.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoadSummary {
    /// The file it was read from.
    pub source: String,
    /// Ways, nodes and kilometres of road.
    pub ways: usize,
    /// Graph nodes.
    pub nodes: usize,
    /// Road length, km.
    pub length_km: f64,
    /// Speeds and their confidence.
    pub speeds: String,
    /// Whether the speeds are unconfirmed.
    pub unconfirmed: bool,
}

/// Help for an incident: teams and depots by arrival, shelters outside
/// the zones by distance with a nearest-first assignment of the people to
/// evacuate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Help {
    /// How distances were measured.
    pub distance_basis: String,
    /// The road network, when one is loaded.
    pub roads: Option<RoadSummary>,
    /// Rescue teams, soonest first (at most 10).
    pub teams: Vec<Resource>,
    /// Supply depots, soonest first (at most 5).
    pub depots: Vec<Resource>,
    /// People to evacuate: those in the protection targets of the largest
    /// zone.
    pub people_to_evacuate: u64,
    /// Shelters outside every zone and its wind-uncertainty area, nearest
    /// first (at most 20).
    pub shelters: Vec<ShelterOption>,
    /// People the listed shelters cannot take.
    pub unassigned: u64,
    /// Assumptions of the estimates.
    pub assumptions: Vec<String>,
}

/// Planning speeds for straight-line arrival estimates, km/h (30–50 km/h
/// planning practice, emergency.md §6.2).
const SPEEDS_KMH: [f64; 2] = [50.0, 30.0];

/// One place to reach: its straight-line distance, then its road route.
struct Measured {
    distance_m: f64,
    /// Driving minutes at [free flow, peak] (straight: at 50 and 30 km/h).
    drive_min: [f64; 2],
    basis: DistanceBasis,
    route: Option<Vec<[f64; 2]>>,
    note: Option<String>,
}

impl Measured {
    fn straight(d: f64) -> Measured {
        Measured {
            distance_m: d,
            drive_min: SPEEDS_KMH.map(|v| d / 1000.0 / v * 60.0),
            basis: DistanceBasis::StraightLine,
            route: None,
            note: None,
        }
    }
}

/// Measures how far each place (with its straight-line distance) is from
/// `source`: by road when `roads` is given (from the place to the source
/// when `inbound`, else outward; one search for all), else straight.
fn reach(
    roads: Option<&Roads>,
    source: [f64; 2],
    places: &[([f64; 2], f64)],
    inbound: bool,
) -> Vec<Measured> {
    let Some(roads) = roads else {
        return places.iter().map(|&(_, d)| Measured::straight(d)).collect();
    };
    let rules = RoadRules::builtin();
    let points: Vec<[f64; 2]> = places.iter().map(|&(p, _)| p).collect();
    roads
        .network
        .routes_from(source, &points, inbound, rules.access())
        .into_iter()
        .zip(places)
        .map(|(r, &(_, d))| match r {
            Ok(r) => Measured {
                distance_m: r.distance_m,
                drive_min: [r.seconds / 60.0, r.seconds / 60.0 / rules.peak_factor],
                basis: DistanceBasis::Road,
                route: Some(r.path),
                note: None,
            },
            Err(e) => Measured {
                note: Some(format!("{e}: straight line instead")),
                ..Measured::straight(d)
            },
        })
        .collect()
}

fn help(
    catalog: &Catalog,
    source: [f64; 2],
    avoid: &[Polygon<f64>],
    people: u64,
    roads: Option<&Roads>,
) -> Help {
    use geo::Centroid;
    let rules = RoadRules::builtin();
    let here = geo::Point::new(source[0], source[1]);
    let at = |g: &geo::Geometry<f64>| {
        g.centroid().map(|c| {
            (
                [c.x(), c.y()],
                riskmap_spatial::metric::geodesic_distance_m(here, c),
            )
        })
    };
    // The nearest `candidates_per_list` by straight line are measured by road.
    fn nearest(mut v: Vec<(f64, [f64; 2], &Feature)>, n: usize) -> Vec<(f64, [f64; 2], &Feature)> {
        v.retain(|(d, _, _)| d.is_finite());
        v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.id.cmp(&b.2.id)));
        v.truncate(n);
        v
    }
    let resources = |collection: Collection| {
        nearest(
            catalog
                .iter(collection)
                .filter_map(|f| at(&f.geometry).map(|(p, d)| (d, p, &**f)))
                .collect(),
            rules.candidates_per_list,
        )
    };
    let resource = |f: &Feature, r: Measured| -> Option<Resource> {
        let (name, kind, mobilise) = match &f.record {
            Record::RescueTeam(t) => (
                t.name.clone(),
                serde_json::to_value(t.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                t.mobilisation_min.unwrap_or(0.0),
            ),
            Record::SupplyDepot(t) => (t.name.clone(), "depot".to_string(), 0.0),
            _ => return None,
        };
        Some(Resource {
            id: f.id.clone(),
            name,
            kind,
            distance_m: r.distance_m,
            eta_min: r.drive_min.map(|m| 1.0 + mobilise + m),
            distance_basis: r.basis,
            route: r.route,
            route_note: r.note,
        })
    };
    let soonest =
        |a: &Resource, b: &Resource| a.eta_min[1].total_cmp(&b.eta_min[1]).then(a.id.cmp(&b.id));
    // Teams and depots drive to the incident: one search for both.
    let (team_c, depot_c) = (
        resources(Collection::RescueTeams),
        resources(Collection::SupplyDepots),
    );
    let inbound: Vec<([f64; 2], f64)> = team_c
        .iter()
        .chain(&depot_c)
        .map(|&(d, p, _)| (p, d))
        .collect();
    let mut measured = reach(roads, source, &inbound, true).into_iter();
    let mut teams: Vec<Resource> = team_c
        .iter()
        .zip(measured.by_ref())
        .filter_map(|(&(_, _, f), r)| resource(f, r))
        .collect();
    teams.sort_by(soonest);
    teams.truncate(10);
    let mut depots: Vec<Resource> = depot_c
        .iter()
        .zip(measured)
        .filter_map(|(&(_, _, f), r)| resource(f, r))
        .collect();
    depots.sort_by(soonest);
    depots.truncate(5);
    let shelter_c = nearest(
        catalog
            .iter(Collection::Shelters)
            .filter(|f| {
                !avoid
                    .iter()
                    .any(|z| !z.exterior().0.is_empty() && f.geometry.intersects(z))
            })
            .filter_map(|f| at(&f.geometry).map(|(p, d)| (d, p, &**f)))
            .collect(),
        rules.candidates_per_list,
    );
    // People leave the incident for the shelters: one search outward.
    let outbound: Vec<([f64; 2], f64)> = shelter_c.iter().map(|&(d, p, _)| (p, d)).collect();
    let mut shelters: Vec<ShelterOption> = shelter_c
        .iter()
        .zip(reach(roads, source, &outbound, false))
        .filter_map(|(&(_, _, f), r)| match &f.record {
            Record::Shelter(s) => Some(ShelterOption {
                id: f.id.clone(),
                name: s.name.clone(),
                class: serde_json::to_value(s.class)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                capacity_persons: s.capacity_persons,
                distance_m: r.distance_m,
                distance_basis: r.basis,
                route: r.route,
                assigned: 0,
            }),
            _ => None,
        })
        .collect();
    shelters.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m).then(a.id.cmp(&b.id)));
    shelters.truncate(20);
    let mut left = people;
    for s in &mut shelters {
        let take = left.min(u64::from(s.capacity_persons));
        s.assigned = take;
        left -= take;
    }
    let mut assumptions: Vec<String> = Vec::new();
    let (distance_basis, summary) = match roads {
        Some(r) => {
            let st = r.network.stats();
            assumptions.push(format!(
                "arrival = 1 min dispatch + the team's mobilisation time (0 when not recorded) + driving the fastest road route at the class speeds (free flow) and at {:.0} % of them (peak); {}{}",
                rules.peak_factor * 100.0,
                rules.note,
                if rules.unconfirmed() { " (UNCONFIRMED)" } else { "" }
            ));
            assumptions.push(format!(
                "places join the road network at its nearest node over a straight leg at {} km/h; places more than {} m from it, and resources beyond the {} nearest by straight line, are given straight-line distances (marked per item)",
                rules.off_road_kmh, rules.max_snap_m, rules.candidates_per_list
            ));
            (
                format!(
                    "road: fastest routes over {} ({} ways, {:.1} km of road); items marked straight_line could not be routed",
                    r.source, st.ways, st.length_km
                ),
                Some(RoadSummary {
                    source: r.source.clone(),
                    ways: st.ways,
                    nodes: st.nodes,
                    length_km: st.length_km,
                    speeds: rules.note.clone(),
                    unconfirmed: rules.unconfirmed(),
                }),
            )
        }
        None => {
            assumptions.push("arrival = 1 min dispatch + the team's mobilisation time (0 when not recorded) + driving at 50 or 30 km/h (planning practice 30–50 km/h; 建标152-2017 sets 5 min to the district edge)".into());
            (
                "straight line (geodesic): no road network is loaded for this area, so road distances and times are longer than shown".into(),
                None,
            )
        }
    };
    assumptions.push("distances are to the release point; teams should stage upwind, outside the red and orange zones".into());
    assumptions.push("shelters touching any zone or its wind-uncertainty area are left out; people are assigned nearest shelter first up to its capacity (a simple fill, not an optimal assignment)".into());
    Help {
        distance_basis,
        roads: summary,
        teams,
        depots,
        people_to_evacuate: people,
        shelters,
        unassigned: left,
        assumptions,
    }
}

/// Why an incident cannot be assessed as asked.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IncidentError {
    /// A field is wrong; the message names it.
    #[error("{field}: {message}")]
    Field {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A model refused its input.
    #[error(transparent)]
    Model(#[from] SafetyError),
}

fn field(field: &'static str, message: impl Into<String>) -> IncidentError {
    IncidentError::Field {
        field,
        message: message.into(),
    }
}

/// The Pasquill–Gifford class from wind, time of day and cloud cover
/// (Pasquill 1961 / Turner 1970 table, insolation read from the cloud cover
/// by day; a class between two, such as A–B, is taken as the more stable
/// one, which gives longer toxic distances). Overcast (8/8) is D.
pub fn stability_from(u: f64, time: TimeOfDay, oktas: u8) -> StabilityClass {
    use StabilityClass::*;
    if oktas >= 8 {
        return D;
    }
    match time {
        TimeOfDay::Day => {
            // Strong (≤ 2/8), moderate (3–5/8), slight (6–7/8) insolation.
            let col = match oktas {
                0..=2 => 0,
                3..=5 => 1,
                _ => 2,
            };
            let row: [StabilityClass; 3] = if u < 2.0 {
                [A, B, B]
            } else if u < 3.0 {
                [B, B, C]
            } else if u < 5.0 {
                [B, C, C]
            } else {
                // 5–6 m/s and above 6 m/s read alike once C–D is taken as D.
                [C, D, D]
            };
            row[col]
        }
        TimeOfDay::Night => {
            let cloudy = oktas >= 4;
            if u < 3.0 {
                if cloudy && u >= 2.0 { E } else { F }
            } else if u < 5.0 {
                if cloudy { D } else { E }
            } else {
                D
            }
        }
    }
}

fn population(t: &riskmap_core::model::ProtectionTarget) -> u64 {
    riskmap_core::engine::target_population(t)
}

fn vulnerable(c: TargetCategory) -> bool {
    matches!(
        c,
        TargetCategory::School
            | TargetCategory::Kindergarten
            | TargetCategory::Hospital
            | TargetCategory::NursingHome
    )
}

fn inside(
    catalog: &Catalog,
    zone: &Polygon<f64>,
    hazard: &'static str,
    colour: &'static str,
    site: Option<&str>,
) -> Inside {
    let Some(bbox) = zone.bounding_rect() else {
        return Inside {
            hazard,
            colour,
            targets: Vec::new(),
            population: 0,
            population_by_category: Vec::new(),
            pipelines: Vec::new(),
            hazardous_sites: Vec::new(),
        };
    };
    let hits = |c: Collection| -> Vec<std::sync::Arc<Feature>> {
        catalog
            .query_bbox(c, bbox)
            .into_iter()
            .filter(|f| f.geometry.intersects(zone))
            .collect()
    };
    let mut targets: Vec<TargetInside> = hits(Collection::ProtectionTargets)
        .iter()
        .filter_map(|f| match &f.record {
            Record::ProtectionTarget(t) => Some(TargetInside {
                id: f.id.clone(),
                name: t.name.clone(),
                category: t.category,
                population: population(t),
            }),
            _ => None,
        })
        .collect();
    targets.sort_by(|a, b| {
        vulnerable(b.category)
            .cmp(&vulnerable(a.category))
            .then(b.population.cmp(&a.population))
            .then(a.id.cmp(&b.id))
    });
    let mut by_cat: Vec<(TargetCategory, u64)> = Vec::new();
    for t in &targets {
        match by_cat.iter_mut().find(|(c, _)| *c == t.category) {
            Some((_, n)) => *n += t.population,
            None => by_cat.push((t.category, t.population)),
        }
    }
    let named = |f: &Feature| FeatureInside {
        id: f.id.clone(),
        name: match &f.record {
            Record::Pipeline(p) => Some(p.name.clone()),
            Record::Enterprise(e) => Some(e.name.clone()),
            _ => None,
        },
    };
    Inside {
        hazard,
        colour,
        population: targets.iter().map(|t| t.population).sum(),
        targets,
        population_by_category: by_cat,
        pipelines: hits(Collection::Pipelines)
            .iter()
            .map(|f| named(f))
            .collect(),
        hazardous_sites: hits(Collection::Enterprises)
            .iter()
            .filter(|f| Some(f.id.as_str()) != site)
            .filter(|f| {
                matches!(&f.record, Record::Enterprise(e)
                    if e.units.iter().flat_map(|u| &u.substances).any(|s| s.quantity_t > 0.0))
            })
            .map(|f| named(f))
            .collect(),
    }
}

/// The substance of a request: its toxic levels of concern and its
/// `qra-substances.toml` row (or GB 18218 category surrogate), either of
/// which may be absent, not both.
struct Matched<'a> {
    loc: Option<&'a crate::loc::SubstanceLevels>,
    row: Option<&'a SubstanceProps>,
    /// The row stands in for the substance through its GB 18218 category.
    surrogate: bool,
    name: String,
    cas: String,
    molar_mass_g_mol: f64,
}

fn match_substance<'a>(
    key: &str,
    table: &'a LevelsOfConcern,
    qra: &'a QraRules,
    notes: &mut Vec<String>,
) -> Result<Matched<'a>, IncidentError> {
    let loc = table.substance(key);
    let k = key.trim();
    let (row, surrogate) = match loc {
        Some(s) => (qra.substances.find(None, Some(&s.cas)), false),
        None => match qra.substances.find(Some(k), Some(k)) {
            Some(r) => (Some(r), false),
            None => {
                let gb = riskmap_core::standards::gb18218::Gb18218::builtin();
                let fallback = gb.find_substance(Some(k), Some(k)).and_then(|e| {
                    let c = e.default_category.as_deref()?;
                    let r = qra.substances.fallback(c)?;
                    Some((e, c, r))
                });
                match fallback {
                    Some((e, c, r)) if r.is_flammable() => {
                        notes.push(format!(
                            "{} ({}) has no row in qra-substances.toml: its fire and explosion use the properties of {} ({}), the surrogate of its GB 18218 category {c} (UNCONFIRMED)",
                            e.name_zh,
                            e.cas.join(", "),
                            r.name_zh,
                            r.key
                        ));
                        (Some(r), true)
                    }
                    _ => (None, false),
                }
            }
        },
    };
    let flammable = row.is_some_and(|r| r.is_flammable());
    if loc.is_none() && !flammable {
        return Err(field(
            "substance",
            format!(
                "{:?} has no levels of concern on file and is not a flammable substance of qra-substances.toml or GB 18218; known toxic: {}",
                key,
                table
                    .substance
                    .iter()
                    .map(|s| format!("{} ({})", s.name, s.cas))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    Ok(match (loc, row) {
        (Some(s), _) => Matched {
            loc,
            row,
            surrogate,
            name: s.name.clone(),
            cas: s.cas.clone(),
            molar_mass_g_mol: s.molar_mass_g_mol,
        },
        (None, Some(r)) => {
            let english = r
                .names
                .iter()
                .find(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == ' '))
                .cloned()
                .unwrap_or_else(|| r.key.clone());
            let cas = r
                .cas
                .iter()
                .find(|c| !digits(k).is_empty() && digits(c) == digits(k))
                .or_else(|| r.cas.first())
                .cloned()
                .unwrap_or_default();
            Matched {
                loc,
                row,
                surrogate,
                name: if surrogate {
                    k.to_string()
                } else {
                    format!("{} {english}", r.name_zh)
                },
                cas: if surrogate { k.to_string() } else { cas },
                molar_mass_g_mol: r.molar_mass_g_per_mol,
            }
        }
        (None, None) => return Err(field("substance", "unknown")),
    })
}

/// Assesses an incident against the world in `catalog`; help is measured
/// along `roads` when a network is given, else straight.
pub fn assess_incident(
    req: &IncidentRequest,
    catalog: &Catalog,
    roads: Option<&Roads>,
) -> Result<IncidentAnswer, IncidentError> {
    let table = LevelsOfConcern::builtin();
    let qra = QraRules::embedded();
    let rules = IncidentRules::builtin();
    let mut notes: Vec<String> = Vec::new();
    let m = match_substance(&req.substance, table, qra, &mut notes)?;
    let substance = &m;

    // Where.
    let site = match &req.site_id {
        Some(id) => Some(
            catalog
                .get(Collection::Enterprises, id)
                .ok_or_else(|| field("site_id", format!("no enterprise {id:?}")))?,
        ),
        None => None,
    };
    let enterprise = site.as_ref().and_then(|f| match &f.record {
        Record::Enterprise(e) => Some(e),
        _ => None,
    });
    let unit = match (&req.unit_id, enterprise) {
        (Some(u), Some(e)) => Some(e.units.iter().find(|x| &x.id == u).ok_or_else(|| {
            field(
                "unit_id",
                format!(
                    "enterprise {} has no unit {u:?}; its units: {}",
                    req.site_id.as_deref().unwrap_or(""),
                    e.units
                        .iter()
                        .map(|x| x.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?),
        (Some(_), None) => return Err(field("unit_id", "needs site_id")),
        _ => None,
    };
    let source: [f64; 2] = if let Some([lon, lat]) = req.point {
        if !(lon.is_finite()
            && lat.is_finite()
            && (-180.0..=180.0).contains(&lon)
            && (-90.0..=90.0).contains(&lat))
        {
            return Err(field("point", "must be [lon, lat] in WGS84 degrees"));
        }
        [lon, lat]
    } else {
        use geo::Centroid;
        let g = unit
            .and_then(|u| u.geometry.clone())
            .or_else(|| site.as_ref().map(|f| f.geometry.clone()))
            .ok_or_else(|| field("point", "give a point, or a site_id (and unit_id)"))?;
        let c = g
            .centroid()
            .ok_or_else(|| field("site_id", "the site has no geometry"))?;
        [c.x(), c.y()]
    };

    // The weather.
    let u = req.wind_speed_m_s;
    let ta = req.ambient_temperature_c.unwrap_or(20.0);
    if !(ta.is_finite() && (-50.0..=60.0).contains(&ta)) {
        return Err(field(
            "ambient_temperature_c",
            "must be between −50 and 60 °C",
        ));
    }
    if req.ambient_temperature_c.is_none() {
        notes.push("air temperature not given: 20 °C assumed".into());
    }
    let ta_k = ta + 273.15;
    let (stability, stability_basis) = match (req.stability, req.time_of_day, req.cloud_cover_oktas)
    {
        (Some(s), _, _) => (s, "given".to_string()),
        (None, Some(t), Some(o)) if o <= 8 => (
            stability_from(u, t, o),
            format!(
                "from wind {u} m/s, {} and cloud cover {o}/8 (Pasquill–Turner table; an in-between class is taken as the more stable)",
                if t == TimeOfDay::Day { "day" } else { "night" }
            ),
        ),
        (None, _, Some(o)) if o > 8 => return Err(field("cloud_cover_oktas", "must be 0–8")),
        _ => (
            StabilityClass::F,
            "not given: F (stable, the worst case for toxic clouds) assumed".to_string(),
        ),
    };

    // The release.
    let liquid = match (substance.loc, substance.row) {
        (Some(s), _) => s.boiling_point_k > ta_k,
        (None, Some(r)) => r.state == PhysicalState::Liquid,
        _ => false,
    };
    let key = req.substance.trim().to_lowercase();
    // The unit's inventory of the substance, t.
    let held_in = |unit: &riskmap_core::model::Unit| -> f64 {
        unit.substances
            .iter()
            .filter(|s| match (substance.loc, substance.row) {
                (Some(l), _) => {
                    s.cas.as_deref() == Some(l.cas.as_str())
                        || s.name.as_deref().is_some_and(|n| {
                            let n = n.to_lowercase();
                            l.name.to_lowercase().contains(&n) || n == key
                        })
                }
                (None, Some(r)) if !substance.surrogate => qra
                    .substances
                    .find(s.name.as_deref(), s.cas.as_deref())
                    .is_some_and(|x| x.key == r.key),
                _ => {
                    s.cas.as_deref().map(str::trim) == Some(req.substance.trim())
                        || s.name.as_deref().map(str::trim) == Some(req.substance.trim())
                }
            })
            .map(|s| s.quantity_t)
            .sum()
    };
    let (release, release_basis) = match req.release {
        Some(r) => (r, "given".to_string()),
        None => {
            let Some(unit) = unit else {
                return Err(field(
                    "release",
                    "required when no site unit is named (the worst credible case comes from a unit's inventory)",
                ));
            };
            if let (true, Some(l)) = (liquid, substance.loc) {
                return Err(field(
                    "release",
                    format!(
                        "{} boils at {:.0} K, above the air temperature: it is a liquid, and the evaporation rate from a pool is not modelled; give release.rate_kg_s",
                        l.name, l.boiling_point_k
                    ),
                ));
            }
            let held = held_in(unit);
            if held <= 0.0 {
                return Err(field(
                    "substance",
                    format!(
                        "unit {} holds no {}: give the release",
                        unit.id, substance.name
                    ),
                ));
            }
            let kg = held * 1000.0;
            (
                Release::Continuous {
                    rate_kg_s: kg / 600.0,
                    duration_s: 600.0,
                },
                format!(
                    "worst credible case: the unit's {} t of {} released over 10 min (EPA RMP worst-case convention, 40 CFR 68.25; a project convention)",
                    held, substance.name
                ),
            )
        }
    };
    let release_t = if liquid {
        if substance.loc.is_some() {
            notes.push(format!(
                "{} is a liquid at {ta} °C: the given rate is taken as vapour at the air temperature",
                substance.name
            ));
        }
        ta_k
    } else {
        match (substance.loc, substance.row) {
            (Some(l), _) => l.boiling_point_k,
            (None, Some(r)) => match (r.state, r.boiling_point_k) {
                (PhysicalState::CompressedGas, _) => ta_k,
                (_, Some(b)) => b.min(ta_k),
                (_, None) => {
                    notes.push(format!(
                        "{}: no boiling point on file: the cloud is taken at the air temperature",
                        substance.name
                    ));
                    ta_k
                }
            },
            _ => ta_k,
        }
    };
    let cloud = ToxicRelease {
        molar_mass_g_mol: substance.molar_mass_g_mol,
        release,
        release_temperature_k: release_t,
        ambient_temperature_k: ta_k,
        wind_speed_m_s: u,
        wind_from_deg: req.wind_from_deg,
        stability,
        terrain: req.terrain.unwrap_or(Terrain::Urban),
    };
    let toxic = match substance.loc {
        Some(l) => toxic_zones(&cloud, &table.toxic(l))?,
        None => {
            crate::error::positive("wind_speed_m_s", u)?;
            if !(req.wind_from_deg.is_finite() && (0.0..360.0).contains(&req.wind_from_deg)) {
                return Err(SafetyError::InvalidInput {
                    field: "wind_from_deg",
                    value: req.wind_from_deg,
                    expected: "a direction in [0, 360) degrees clockwise from north",
                }
                .into());
            }
            ToxicZones::not_assessed(
                format!(
                    "no toxic levels of concern (AEGL, ERPG) on file for {}: no toxic zones",
                    substance.name
                ),
                substance.molar_mass_g_mol,
                release_t,
                ta_k,
                req.wind_from_deg,
                u,
                rules,
            )
        }
    };
    if req.terrain.is_none() {
        notes.push("ground not given: urban (built-up) assumed".into());
    }
    let fire = match substance.row {
        Some(r) => {
            let bund_area_m2 = unit
                .filter(|un| un.kind == UnitKind::Storage)
                .and_then(|un| {
                    let kg = held_in(un) * 1000.0;
                    let rho = r.liquid_density_kg_m3?;
                    (kg > 0.0).then_some(kg / rho / qra.model.source_term.bund_height_m)
                });
            fire_hazards(
                &FlammableRelease {
                    props: r,
                    cloud: cloud.clone(),
                    bund_area_m2,
                },
                &table.thermal(),
                &table.overpressure(),
                qra,
                rules,
            )?
        }
        None => FireAnswer {
            hazards: Vec::new(),
            absent: ["thermal", "overpressure"]
                .into_iter()
                .map(|hazard| AbsentHazard {
                    hazard,
                    reason: format!(
                        "{} has no row in qra-substances.toml and no flammable GB 18218 category: not assessed as flammable",
                        substance.name
                    ),
                })
                .collect(),
            notes: Vec::new(),
        },
    };

    // The zones in WGS84 and who is inside.
    let frame = LocalFrame::new(source[0], source[1])
        .map_err(|e| field("point", format!("cannot be projected: {e}")))?;
    let to_polygon = |ring: &[[f64; 2]]| -> Result<Polygon<f64>, IncidentError> {
        let local = Polygon::new(
            geo::LineString::from(ring.iter().map(|p| (p[0], p[1])).collect::<Vec<_>>()),
            vec![],
        );
        frame
            .to_lonlat(&local)
            .map_err(|e| field("point", format!("the zone cannot be projected: {e}")))
    };
    let mut footprints = Vec::new();
    let mut uncertainty_areas = Vec::new();
    let mut ins = Vec::new();
    for z in &toxic.zones {
        let fp = if z.footprint.len() >= 4 {
            to_polygon(&z.footprint)?
        } else {
            Polygon::new(geo::LineString::new(vec![]), vec![])
        };
        let ua = if z.uncertainty_area.len() >= 4 {
            to_polygon(&z.uncertainty_area)?
        } else {
            Polygon::new(geo::LineString::new(vec![]), vec![])
        };
        ins.push(inside(
            catalog,
            &fp,
            "toxic",
            z.loc.colour,
            req.site_id.as_deref(),
        ));
        if let Reach::BeyondRange { max_distance_m } = z.reach {
            notes.push(format!(
                "the {} zone ({}) reaches beyond {} km: drawn to {} km",
                z.loc.colour,
                z.loc.basis,
                max_distance_m / 1000.0,
                max_distance_m / 1000.0
            ));
        }
        footprints.push(fp);
        uncertainty_areas.push(ua);
    }
    let mut fire_footprints = Vec::new();
    for h in &fire.hazards {
        for z in &h.zones {
            let fp = if z.ring.len() >= 4 {
                to_polygon(&z.ring)?
            } else {
                Polygon::new(geo::LineString::new(vec![]), vec![])
            };
            ins.push(inside(
                catalog,
                &fp,
                h.hazard,
                z.loc.colour,
                req.site_id.as_deref(),
            ));
            if !z.note.is_empty() {
                notes.push(format!("{} {} zone: {}", h.hazard, z.loc.colour, z.note));
            }
            fire_footprints.push(fp);
        }
    }
    let avoid: Vec<Polygon<f64>> = footprints
        .iter()
        .chain(uncertainty_areas.iter())
        .chain(fire_footprints.iter())
        .cloned()
        .collect();
    let people = ins.iter().map(|i| i.population).max().unwrap_or(0);
    let help = help(catalog, source, &avoid, people, roads);
    notes.extend(
        toxic
            .unconfirmed
            .iter()
            .map(|u| format!("UNCONFIRMED: {u}")),
    );
    notes.extend(fire.notes.iter().cloned());
    for a in &fire.absent {
        notes.push(format!("no {} hazard: {}", a.hazard, a.reason));
    }
    let mut fire_unconfirmed: Vec<String> = Vec::new();
    for h in &fire.hazards {
        let levels = h.zones.iter().find(|z| z.loc.unconfirmed).map(|_| {
            format!(
                "the {} levels of concern ({}) are from memory",
                h.hazard,
                h.zones
                    .iter()
                    .map(|z| format!("{} {}", z.loc.value, z.loc.unit))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        for u in levels.into_iter().chain(h.unconfirmed.iter().cloned()) {
            if !fire_unconfirmed.contains(&u) {
                fire_unconfirmed.push(u);
            }
        }
    }
    notes.extend(
        fire_unconfirmed
            .into_iter()
            .map(|u| format!("UNCONFIRMED: {u}")),
    );
    // ERG beside the model: night when the stability is E or F or it is
    // night by the request.
    let mass = match release {
        Release::Instantaneous { mass_kg } => mass_kg,
        Release::Continuous {
            rate_kg_s,
            duration_s,
        } => rate_kg_s * duration_s,
    };
    let night = req.time_of_day == Some(TimeOfDay::Night)
        || matches!(stability, StabilityClass::E | StabilityClass::F);
    let erg = crate::erg::ErgTable::builtin().check(&substance.cas, mass, night);
    if let Some(e) = &erg {
        let orange = toxic
            .zones
            .iter()
            .find(|z| z.loc.colour == "orange")
            .map(|z| z.reach.as_ordered_m());
        notes.push(format!(
            "ERG (UN {}, guide {}, {} spill, {}): isolate {} m, protective action {}; modelled orange zone {}{}",
            e.un,
            e.guide,
            e.spill,
            e.period,
            e.isolate_m,
            e.protective_action_km
                .map_or("not kept for this case".to_string(), |k| format!("{k} km downwind")),
            orange.map_or("—".to_string(), |d| if d.is_finite() {
                format!("{:.1} km", d / 1000.0)
            } else {
                "beyond the range".to_string()
            }),
            if e.unconfirmed { " (ERG values UNCONFIRMED)" } else { "" }
        ));
    }
    let mut hazards = Vec::new();
    let mut absent_hazards = Vec::new();
    if substance.loc.is_some() {
        hazards.push(HazardSummary::toxic(&toxic, rules));
    } else {
        absent_hazards.push(AbsentHazard {
            hazard: "toxic",
            reason: toxic.reason.clone(),
        });
    }
    hazards.extend(fire.hazards.iter().map(HazardSummary::fire));
    absent_hazards.extend(fire.absent.iter().cloned());
    Ok(IncidentAnswer {
        source,
        substance: substance.name.clone(),
        cas: substance.cas.clone(),
        release,
        release_basis,
        stability,
        stability_basis,
        toxic,
        footprints,
        uncertainty_areas,
        inside: ins,
        hazards,
        absent_hazards,
        fire: fire.hazards,
        fire_footprints,
        help,
        erg,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stability_table_reads_as_published() {
        use StabilityClass::*;
        assert_eq!(stability_from(1.5, TimeOfDay::Day, 0), A);
        assert_eq!(stability_from(4.0, TimeOfDay::Day, 4), C);
        assert_eq!(stability_from(7.0, TimeOfDay::Day, 0), C);
        assert_eq!(stability_from(2.5, TimeOfDay::Night, 6), E);
        assert_eq!(stability_from(1.0, TimeOfDay::Night, 0), F);
        assert_eq!(stability_from(4.0, TimeOfDay::Night, 2), E);
        assert_eq!(stability_from(10.0, TimeOfDay::Night, 0), D);
        assert_eq!(stability_from(1.0, TimeOfDay::Day, 8), D);
    }
}

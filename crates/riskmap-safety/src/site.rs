//! External safety protection distances of real sites (外部安全防护距离,
//! GB/T 37243-2019) on the map, the protection targets that violate them
//! (GB 36894-2018), and siting answers for proposed uses (规划选址).
//!
//! This module joins the pieces: for every enterprise that holds hazardous
//! substances it picks the methods ([`crate::siting::choose_methods`]), runs
//! them in a site-local Gauss–Krüger frame in metres (QRA contours from
//! [`crate::qra`], code-distance buffers from
//! [`crate::siting::CodeDistanceTable`], the explosives consequence circle),
//! turns each result into a [`SafetyZone`] that protects named
//! [`TargetClass`]es, and lists every protection target inside a zone that
//! protects its class as a [`Violation`] with distance, required value and
//! margin. [`SafetyState`] holds this for a whole catalogue and recomputes
//! only the sites an edit touches.
//!
//! Zone semantics:
//! - **Iso-risk zone** at level L (per year): the area where the individual
//!   risk is ≥ L. It protects the classes whose GB 36894 criterion for the
//!   site's installation status (新建/在役) is L; context contours (1×10⁻⁶,
//!   1×10⁻⁴ and levels no class uses) protect nobody and make no violation.
//! - **Code-distance zone**: the site buffered by the strictest applicable
//!   code distance for the class.
//! - **Consequence zone** (explosives): a circle around the explosive units
//!   with the overpressure-threshold radius; protects every class.
//!
//! Several methods on one site: for each class the method with the largest
//! distance from the site boundary governs (`governing = true`), as GB/T
//! 37243 asks for the most stringent result.

use std::collections::{BTreeMap, HashMap};

use geo::{
    Area, BooleanOps, BoundingRect, Buffer, Centroid, Contains, Coord, CoordsIter, Densify,
    Distance, Euclidean, Geometry, InteriorPoint, Intersects, LineString, LinesIter, MapCoords,
    MultiLineString, MultiPolygon, Point, Rect,
};
use rayon::prelude::*;
use riskmap_core::model::{Installation, ProtectionTarget, Record, Unit};
use riskmap_core::{Catalog, Collection, Feature};
use riskmap_spatial::local::GaussKruger;
use serde::Serialize;

use crate::qra::{
    self, CONTOUR_LEVELS, FnCurve, PopulationPoint, QraModel, QraRules, Scenario, UnitRelease,
    Weather,
};
use crate::siting::{self, CodeDistanceTable, Method, MethodChoice};
use crate::targets::{TargetClass, TargetClassRules, classify_target, ir_criterion};

/// Model id recorded on every zone and violation.
pub const MODEL_ID: &str = "external-safety-distance-gbt37243";
/// Model version.
pub const MODEL_VERSION: &str = "1";

/// Every target class, strictest first.
pub const CLASSES: [TargetClass; 5] = [
    TargetClass::HighSensitivity,
    TargetClass::Important,
    TargetClass::General1,
    TargetClass::General2,
    TargetClass::General3,
];

/// Settings of the site assessment.
#[derive(Debug, Clone)]
pub struct SafetyConfig {
    /// QRA data (frequencies, ignition, substances).
    pub qra: &'static QraRules,
    /// Weather classes and wind rose used for every site.
    pub weather: Weather,
    /// Code distances.
    pub code: &'static CodeDistanceTable,
    /// Protection-target classification rules.
    pub classes: &'static TargetClassRules,
    /// Largest QRA grid side in cells (the cell size follows from the extent).
    pub max_cells_per_side: usize,
}

impl SafetyConfig {
    /// The embedded tables, the default two-class weather with a uniform
    /// 16-sector wind rose, and QRA grids of at most 400×400 cells.
    pub fn embedded() -> Self {
        SafetyConfig {
            qra: QraRules::embedded(),
            weather: Weather::uniform(QraRules::embedded(), 16),
            code: CodeDistanceTable::embedded(),
            classes: TargetClassRules::embedded(),
            max_cells_per_side: 400,
        }
    }
}

/// What a zone comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    /// An individual-risk contour (个人风险等值线).
    IsoRisk,
    /// A code separation distance (规范防火间距).
    CodeDistance,
    /// An explosion consequence footprint (爆炸冲击波超压安全阈值).
    Consequence,
}

/// One external safety protection zone (外部安全防护区) of a site.
#[derive(Debug, Clone, Serialize)]
pub struct SafetyZone {
    /// `{site}#{kind}-{detail}`, unique.
    pub id: String,
    /// The site (enterprise id).
    pub site_id: String,
    /// Contour, code distance or consequence.
    pub kind: ZoneKind,
    /// The GB/T 37243 method behind it.
    pub method: Method,
    /// Individual-risk level of an iso-risk zone, per year.
    pub level: Option<f64>,
    /// Target classes the zone protects; empty for context contours.
    pub classes: Vec<TargetClass>,
    /// For code-distance and consequence zones the required distance; for an
    /// iso-risk zone the largest distance from the site boundary to the
    /// contour (the external safety distance it implies), in metres.
    pub distance_m: f64,
    /// Standard and clause.
    pub clause: String,
    /// Chinese label, e.g. `个人风险 3×10⁻⁷/年`.
    pub label_zh: String,
    /// English label.
    pub label_en: String,
    /// Whether a figure behind the zone is unconfirmed against the standard.
    pub unconfirmed: bool,
    /// Whether this zone gives the strictest distance for at least one class.
    pub governing: bool,
    /// Zone area, m².
    pub area_m2: f64,
    /// Zone in WGS84 lon/lat.
    #[serde(skip)]
    pub geometry: MultiPolygon<f64>,
    /// Zone in the site's local frame, metres.
    #[serde(skip)]
    pub local: MultiPolygon<f64>,
}

/// A protection target inside a zone that protects its class (违规防护目标).
#[derive(Debug, Clone, Serialize)]
pub struct Violation {
    /// `{site}|{target}|{zone}`.
    pub id: String,
    /// Target id (for a proposed target: `proposed`).
    pub target_id: String,
    /// Target name.
    pub target_name: Option<String>,
    /// Target class (GB 36894).
    pub target_class: TargetClass,
    /// Site id.
    pub site_id: String,
    /// Site name.
    pub site_name: String,
    /// Zone id.
    pub zone_id: String,
    /// Method of the zone.
    pub method: Method,
    /// Standard and clause.
    pub clause: String,
    /// Distance from the target to the site boundary, metres.
    pub distance_m: f64,
    /// Required distance from the site boundary (the zone's `distance_m`).
    pub required_distance_m: f64,
    /// GB 36894 criterion for an iso-risk zone, per year.
    pub criterion_per_year: Option<f64>,
    /// Highest computed individual risk at the target, per year (iso-risk zones).
    pub individual_risk_per_year: Option<f64>,
    /// Signed distance from the target to the zone boundary, metres:
    /// negative when inside (how far it would have to move out).
    pub margin_m: f64,
    /// Whether the zone is the governing (strictest) one for this class.
    pub governing: bool,
    /// Whether a figure behind the zone is unconfirmed.
    pub unconfirmed: bool,
    /// A representative point of the target (lon/lat).
    #[serde(skip)]
    pub point: Point<f64>,
}

/// The external safety distance for one target class and one method.
#[derive(Debug, Clone, Serialize)]
pub struct ClassDistance {
    /// Target class.
    pub class: TargetClass,
    /// Method.
    pub method: Method,
    /// Zone id.
    pub zone_id: String,
    /// Distance from the site boundary, metres.
    pub distance_m: f64,
    /// Whether this is the strictest method for the class.
    pub governing: bool,
    /// Standard and clause.
    pub clause: String,
}

/// One release scenario as reported (the full scenario stays internal).
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioRow {
    /// Scenario id.
    pub id: String,
    /// Unit id.
    pub unit_id: String,
    /// Substance.
    pub substance: String,
    /// Frequency, per year.
    pub frequency_per_year: f64,
    /// The whole scenario, as the QRA module describes it.
    pub detail: serde_json::Value,
}

/// Everything riskmap knows about one site's external safety distance.
#[derive(Debug, Clone, Serialize)]
pub struct SiteAssessment {
    /// Enterprise id.
    pub site_id: String,
    /// Enterprise name.
    pub site_name: String,
    /// New or existing installation; `None` falls back to new (stricter) and says so.
    pub installation: Option<Installation>,
    /// Model id and version.
    pub model: ModelRef,
    /// The GB/T 37243 methods that apply, with reasons.
    pub methods: Vec<MethodChoice>,
    /// Release scenarios of the QRA.
    pub scenarios: Vec<ScenarioRow>,
    /// Weather classes and wind rose of the QRA.
    pub weather: Option<serde_json::Value>,
    /// Zones.
    pub zones: Vec<SafetyZone>,
    /// Distances per class and method, the governing one marked.
    pub distances: Vec<ClassDistance>,
    /// Societal risk (F–N) from the protection targets around.
    pub fn_curve: Option<FnCurve>,
    /// Protection targets inside zones that protect their class.
    pub violations: Vec<Violation>,
    /// Peak individual risk of the QRA field, per year.
    pub max_individual_risk: Option<f64>,
    /// QRA grid: cell size (m) and cells per side.
    pub grid: Option<GridInfo>,
    /// Surrogates, skipped substances, unconfirmed figures, limitations.
    pub notes: Vec<String>,
    /// Lon/lat of the local frame's origin.
    pub origin: [f64; 2],
    #[serde(skip)]
    frame: Option<LocalFrame>,
    #[serde(skip)]
    site_local: Geometry<f64>,
    #[serde(skip)]
    qra_scenarios: Vec<Scenario>,
    #[serde(skip)]
    qra_model: Option<QraModel>,
}

/// Model id and version.
#[derive(Debug, Clone, Serialize)]
pub struct ModelRef {
    /// Model id.
    pub id: &'static str,
    /// Version.
    pub version: &'static str,
}

/// The QRA grid of a site.
#[derive(Debug, Clone, Serialize)]
pub struct GridInfo {
    /// Cell size, metres.
    pub cell_m: f64,
    /// Cells east–west.
    pub nx: usize,
    /// Cells north–south.
    pub ny: usize,
}

/// A site-local metric frame: CGCS2000 3° Gauss–Krüger, shifted so that the
/// site's reference point is the origin.
#[derive(Debug, Clone)]
pub struct LocalFrame {
    gk: GaussKruger,
    ox: f64,
    oy: f64,
    lon: f64,
    lat: f64,
}

/// A coordinate outside what the frame can project, or a model input the
/// QRA or consequence models refused (the site is then not assessed, never
/// assessed as clear).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameError(pub String);

impl From<crate::SafetyError> for FrameError {
    fn from(e: crate::SafetyError) -> FrameError {
        FrameError(format!("model input refused: {e}"))
    }
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl LocalFrame {
    /// A frame centred on `lon`, `lat`.
    pub fn new(lon: f64, lat: f64) -> Result<Self, FrameError> {
        let gk = GaussKruger::for_lon(lon);
        let (ox, oy) = gk
            .forward(lon, lat)
            .map_err(|e| FrameError(e.to_string()))?;
        Ok(LocalFrame {
            gk,
            ox,
            oy,
            lon,
            lat,
        })
    }

    /// A frame centred on the geometry's centroid.
    pub fn for_geometry(g: &Geometry<f64>) -> Result<Self, FrameError> {
        let c = g
            .centroid()
            .ok_or_else(|| FrameError("empty geometry".into()))?;
        LocalFrame::new(c.x(), c.y())
    }

    /// Lon/lat → local metres.
    pub fn to_local(&self, g: &Geometry<f64>) -> Result<Geometry<f64>, FrameError> {
        g.try_map_coords(|c| {
            self.gk
                .forward(c.x, c.y)
                .map(|(x, y)| Coord {
                    x: x - self.ox,
                    y: y - self.oy,
                })
                .map_err(|e| FrameError(e.to_string()))
        })
    }

    /// Local metres → lon/lat.
    pub fn to_lonlat<G: MapCoords<f64, f64>>(&self, g: &G) -> Result<G::Output, FrameError> {
        g.try_map_coords(|c| {
            self.gk
                .inverse(c.x + self.ox, c.y + self.oy)
                .map(|(x, y)| Coord { x, y })
                .map_err(|e| FrameError(e.to_string()))
        })
    }

    /// The origin, lon/lat.
    pub fn origin(&self) -> [f64; 2] {
        [self.lon, self.lat]
    }
}

/// A site to assess.
#[derive(Debug, Clone, Copy)]
pub struct SiteInput<'a> {
    /// Id.
    pub id: &'a str,
    /// Name.
    pub name: &'a str,
    /// Site outline or point (lon/lat).
    pub geometry: &'a Geometry<f64>,
    /// Units and inventories.
    pub units: &'a [Unit],
    /// New or existing.
    pub installation: Option<Installation>,
}

/// A protection target to check.
#[derive(Debug, Clone, Copy)]
pub struct TargetInput<'a> {
    /// Id.
    pub id: &'a str,
    /// The record.
    pub target: &'a ProtectionTarget,
    /// Geometry (lon/lat).
    pub geometry: &'a Geometry<f64>,
}

/// `3×10⁻⁷`, as the standards print it.
fn sci(v: f64) -> String {
    let e = v.log10().floor();
    let m = (v / 10f64.powf(e) * 10.0).round() / 10.0;
    let sup: String = format!("{}", e as i64)
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect();
    if (m - 1.0).abs() < 1e-9 {
        format!("10{sup}")
    } else {
        format!("{m}×10{sup}")
    }
}

fn ir_clause() -> String {
    "GB/T 37243-2019 §6.8; GB 36894-2018 表1 个人风险基准".into()
}

/// Assesses one site against the given targets (those near it; others are
/// ignored). Returns `None` when the site holds no hazardous substance.
pub fn assess_site(
    site: SiteInput<'_>,
    targets: &[TargetInput<'_>],
    cfg: &SafetyConfig,
) -> Result<Option<SiteAssessment>, FrameError> {
    if site.units.iter().all(|u| u.substances.is_empty()) {
        return Ok(None);
    }
    let frame = LocalFrame::for_geometry(site.geometry)?;
    let site_local = frame.to_local(site.geometry)?;
    let mut notes = Vec::new();
    let status = site.installation.unwrap_or_else(|| {
        notes.push(
            "installation (新建/在役) not given: the stricter new-installation criteria are used"
                .to_string(),
        );
        Installation::New
    });
    let methods = siting::choose_methods(site.units);
    let mut zones: Vec<SafetyZone> = Vec::new();
    let mut scenarios_out = Vec::new();
    let mut qra_scenarios = Vec::new();
    let mut fn_curve = None;
    let mut max_ir = None;
    let mut grid_info = None;
    let mut weather_json = None;
    let mut qra_model = None;
    let site_centre = site_local
        .centroid()
        .map_or(Coord { x: 0.0, y: 0.0 }, |p| p.0);

    // Release points: each unit's centroid, else the site's.
    let unit_points: Vec<Coord<f64>> = site
        .units
        .iter()
        .map(|u| {
            u.geometry
                .as_ref()
                .and_then(|g| frame.to_local(g).ok())
                .and_then(|g| g.centroid())
                .map_or(site_centre, |p| p.0)
        })
        .collect();

    if methods.iter().any(|m| m.method == Method::Qra) {
        let releases: Vec<UnitRelease<'_>> = site
            .units
            .iter()
            .zip(&unit_points)
            .map(|(unit, c)| UnitRelease {
                unit,
                x_m: c.x,
                y_m: c.y,
            })
            .collect();
        let set = qra::scenarios_for_units(&releases, cfg.qra)?;
        notes.extend(set.notes.iter().cloned());
        let scen = set.scenarios;
        let model = QraModel::new(&scen, &cfg.weather)?;
        let min_level = CONTOUR_LEVELS.iter().copied().fold(f64::INFINITY, f64::min);
        let grid = qra::auto_grid_of(&model, min_level, cfg.max_cells_per_side)?;
        let field = qra::field_of(&model, &grid)?;
        qra_model = Some(model);
        max_ir = Some(field.max());
        grid_info = Some(GridInfo {
            cell_m: grid.cell_m,
            nx: grid.nx,
            ny: grid.ny,
        });
        weather_json = serde_json::to_value(&cfg.weather).ok();
        for iso in qra::risk_contours(&field, &CONTOUR_LEVELS)? {
            if iso.area.0.is_empty() {
                continue;
            }
            let classes: Vec<TargetClass> = CLASSES
                .into_iter()
                .filter(|c| (ir_criterion(*c, status) - iso.level).abs() <= 1e-12)
                .collect();
            let distance_m = farthest_from(&site_local, &iso.area);
            let tag = sci(iso.level);
            zones.push(SafetyZone {
                id: format!("{}#ir-{:e}", site.id, iso.level),
                site_id: site.id.to_string(),
                kind: ZoneKind::IsoRisk,
                method: Method::Qra,
                level: Some(iso.level),
                classes,
                distance_m,
                clause: ir_clause(),
                label_zh: format!("个人风险 {tag}/年"),
                label_en: format!("individual risk {tag} per year"),
                unconfirmed: false,
                governing: false,
                area_m2: iso.area.unsigned_area(),
                geometry: frame.to_lonlat(&iso.area)?,
                local: iso.area,
            });
        }
        for s in &scen {
            scenarios_out.push(ScenarioRow {
                id: s.id.clone(),
                unit_id: s.unit_id.clone(),
                substance: s.substance.clone(),
                frequency_per_year: s.frequency_per_year,
                detail: serde_json::to_value(s).unwrap_or(serde_json::Value::Null),
            });
        }
        qra_scenarios = scen;
    }

    if methods.iter().any(|m| m.method == Method::CodeDistance) {
        // One zone per distinct distance; each class takes its strictest row.
        let mut by_distance: BTreeMap<u64, (crate::siting::CodeDistance, Vec<TargetClass>)> =
            BTreeMap::new();
        for class in CLASSES {
            if let Some(row) = cfg.code.required(site.units, class).into_iter().next() {
                let key = (row.distance_m * 1000.0).round() as u64;
                by_distance
                    .entry(key)
                    .or_insert_with(|| (row.clone(), Vec::new()))
                    .1
                    .push(class);
            }
        }
        for (row, classes) in by_distance.into_values() {
            let local = buffer_m(&site_local, row.distance_m);
            zones.push(SafetyZone {
                id: format!("{}#code-{}m", site.id, row.distance_m),
                site_id: site.id.to_string(),
                kind: ZoneKind::CodeDistance,
                method: Method::CodeDistance,
                level: None,
                classes,
                distance_m: row.distance_m,
                clause: format!("{} {}", row.standard, row.clause),
                label_zh: format!("{} 防火间距 {} m", row.facility, row.distance_m),
                label_en: format!("code distance {} m ({})", row.distance_m, row.facility),
                unconfirmed: row.unconfirmed,
                governing: false,
                area_m2: local.unsigned_area(),
                geometry: frame.to_lonlat(&local)?,
                local,
            });
        }
    }

    if methods.iter().any(|m| m.method == Method::Consequence)
        && let Some(cz) = siting::explosive_consequence_zone(site.units, cfg.qra)?
    {
        // Around every unit that holds explosives (or the site when none is placed).
        let mut local = MultiPolygon::new(vec![]);
        for (u, c) in site.units.iter().zip(&unit_points) {
            if is_explosive_unit(u) {
                let circle = Point::from(*c).buffer(cz.radius_m);
                local = local.union(&circle);
            }
        }
        if local.0.is_empty() {
            local = Point::from(site_centre).buffer(cz.radius_m);
        }
        let distance_m = farthest_from(&site_local, &local);
        zones.push(SafetyZone {
            id: format!("{}#consequence", site.id),
            site_id: site.id.to_string(),
            kind: ZoneKind::Consequence,
            method: Method::Consequence,
            level: None,
            classes: CLASSES.to_vec(),
            distance_m,
            clause: cz.clause.clone(),
            label_zh: format!(
                "爆炸冲击波超压 {:.0} kPa 范围 (TNT 当量 {:.0} kg)",
                cz.threshold_pa / 1000.0,
                cz.tnt_kg
            ),
            label_en: format!(
                "blast overpressure {:.0} kPa (TNT equivalent {:.0} kg)",
                cz.threshold_pa / 1000.0,
                cz.tnt_kg
            ),
            unconfirmed: cz.unconfirmed,
            governing: false,
            area_m2: local.unsigned_area(),
            geometry: frame.to_lonlat(&local)?,
            local,
        });
    }

    // Governing zone per class: the largest distance from the site boundary.
    let mut distances = Vec::new();
    for class in CLASSES {
        let mut best: Option<(usize, f64)> = None;
        for (i, z) in zones.iter().enumerate() {
            if z.classes.contains(&class) {
                distances.push(ClassDistance {
                    class,
                    method: z.method,
                    zone_id: z.id.clone(),
                    distance_m: z.distance_m,
                    governing: false,
                    clause: z.clause.clone(),
                });
                if best.is_none_or(|(_, d)| z.distance_m > d) {
                    best = Some((i, z.distance_m));
                }
            }
        }
        if let Some((i, _)) = best {
            zones[i].governing = true;
            let id = zones[i].id.clone();
            for d in distances.iter_mut().filter(|d| d.class == class) {
                d.governing = d.zone_id == id;
            }
        }
    }

    let mut a = SiteAssessment {
        site_id: site.id.to_string(),
        site_name: site.name.to_string(),
        installation: site.installation,
        model: ModelRef {
            id: MODEL_ID,
            version: MODEL_VERSION,
        },
        methods,
        scenarios: scenarios_out,
        weather: weather_json,
        zones,
        distances,
        fn_curve: None,
        violations: Vec::new(),
        max_individual_risk: max_ir,
        grid: grid_info,
        notes,
        origin: frame.origin(),
        frame: Some(frame),
        site_local,
        qra_scenarios,
        qra_model,
    };
    a.check_targets(targets, cfg)?;
    if !a.qra_scenarios.is_empty() {
        fn_curve = Some(a.societal_risk(targets, cfg)?);
    }
    a.fn_curve = fn_curve;
    Ok(Some(a))
}

fn is_explosive_unit(u: &Unit) -> bool {
    siting::choose_methods(std::slice::from_ref(u))
        .iter()
        .any(|m| m.method == Method::Consequence)
}

/// Buffer in metres (rounded joins); a zero distance keeps the site itself.
fn buffer_m(g: &Geometry<f64>, d: f64) -> MultiPolygon<f64> {
    let b = g.buffer(d);
    if b.0.is_empty() {
        // A point with d = 0: a tiny square so the zone is drawable.
        let p = g.centroid().map_or(Coord { x: 0.0, y: 0.0 }, |p| p.0);
        Point::from(p).buffer(d.max(0.5))
    } else {
        b
    }
}

/// The largest distance from `site` to any vertex of `zone` (0 when the zone
/// lies inside the site).
fn farthest_from(site: &Geometry<f64>, zone: &MultiPolygon<f64>) -> f64 {
    zone.exterior_coords_iter()
        .map(|c| {
            let p = Point::from(c);
            if site.contains(&p) {
                0.0
            } else {
                Euclidean.distance(&Geometry::Point(p), site)
            }
        })
        .fold(0.0, f64::max)
}

fn boundary(mp: &MultiPolygon<f64>) -> MultiLineString<f64> {
    let mut lines: Vec<LineString<f64>> = Vec::new();
    for p in &mp.0 {
        lines.push(p.exterior().clone());
        lines.extend(p.interiors().iter().cloned());
    }
    MultiLineString::new(lines)
}

/// Points that stand for a target: a point itself; the vertices and an
/// interior point of a polygon or line.
fn sample_points(g: &Geometry<f64>) -> Vec<Point<f64>> {
    match g {
        Geometry::Point(p) => vec![*p],
        _ => {
            let mut v: Vec<Point<f64>> = g.coords_iter().map(Point::from).collect();
            if let Some(p) = g.interior_point() {
                v.push(p);
            }
            v
        }
    }
}

/// Points that stand for the part of a target inside a zone: the target's
/// own sample points and, for an area, the vertices and an interior point of
/// its intersection with the zone (so a polygon whose edge crosses the zone
/// between its vertices is still probed where it lies inside).
fn probe_points(target: &Geometry<f64>, zone: &MultiPolygon<f64>) -> Vec<Point<f64>> {
    let mut pts = sample_points(target);
    let area = match target {
        Geometry::Polygon(p) => Some(MultiPolygon::new(vec![p.clone()])),
        Geometry::MultiPolygon(mp) => Some(mp.clone()),
        Geometry::Rect(r) => Some(MultiPolygon::new(vec![r.to_polygon()])),
        _ => None,
    };
    if let Some(area) = area {
        let inside = area.intersection(zone);
        pts.extend(inside.exterior_coords_iter().map(Point::from));
        pts.extend(inside.interior_point());
    }
    pts
}

/// Minus the deepest reach of `probes` into `zone` (distance to its
/// boundary), 0 when none lies strictly inside.
fn depth_margin(probes: &[Point<f64>], zone: &MultiPolygon<f64>) -> f64 {
    let edge = Geometry::MultiLineString(boundary(zone));
    let depth = probes
        .iter()
        .filter(|p| zone.contains(*p))
        .map(|p| Euclidean.distance(&Geometry::Point(*p), &edge))
        .fold(0.0, f64::max);
    -depth
}

fn representative(g: &Geometry<f64>) -> Point<f64> {
    g.interior_point()
        .or_else(|| g.centroid())
        .unwrap_or(Point::new(0.0, 0.0))
}

impl SiteAssessment {
    /// The local frame.
    pub fn frame(&self) -> Option<&LocalFrame> {
        self.frame.as_ref()
    }

    /// Bounding box of all zones (lon/lat), if any.
    pub fn zones_bbox(&self) -> Option<Rect<f64>> {
        self.zones
            .iter()
            .filter_map(|z| z.geometry.bounding_rect())
            .reduce(|a, b| {
                Rect::new(
                    Coord {
                        x: a.min().x.min(b.min().x),
                        y: a.min().y.min(b.min().y),
                    },
                    Coord {
                        x: a.max().x.max(b.max().x),
                        y: a.max().y.max(b.max().y),
                    },
                )
            })
    }

    /// Individual risk at a lon/lat point from this site's QRA, per year.
    pub fn individual_risk_at_lonlat(&self, lon: f64, lat: f64) -> Option<f64> {
        let frame = self.frame.as_ref()?;
        let model = self.qra_model.as_ref()?;
        let g = frame
            .to_local(&Geometry::Point(Point::new(lon, lat)))
            .ok()?;
        let Geometry::Point(p) = g else { return None };
        model.risk_at(p.x(), p.y()).ok()
    }

    /// The violations one target would make (or makes) against this site.
    pub fn violations_for(
        &self,
        target: TargetInput<'_>,
        cfg: &SafetyConfig,
    ) -> Result<Vec<Violation>, FrameError> {
        let Some(frame) = &self.frame else {
            return Ok(Vec::new());
        };
        let (class, _) = classify_target(target.target, cfg.classes);
        let local = frame.to_local(target.geometry)?;
        let distance_m = if self.site_local.intersects(&local) {
            0.0
        } else {
            Euclidean.distance(&local, &self.site_local)
        };
        let mut out = Vec::new();
        for z in self.zones.iter().filter(|z| z.classes.contains(&class)) {
            if !local.intersects(&z.local) {
                continue;
            }
            let probes = probe_points(&local, &z.local);
            let (criterion, ir, margin_m) = match z.kind {
                ZoneKind::IsoRisk => {
                    // The contour is drawn from the grid; the field itself
                    // decides: a target whose highest individual risk stays
                    // below the level only grazes the drawn line.
                    let ir = match self.qra_model.as_ref() {
                        Some(m) => Some(
                            probes
                                .iter()
                                .map(|p| m.risk_at(p.x(), p.y()))
                                .try_fold(0.0, |acc: f64, r| r.map(|v| acc.max(v)))?,
                        ),
                        None => None,
                    };
                    if let (Some(ir), Some(level)) = (ir, z.level)
                        && ir < level
                    {
                        continue;
                    }
                    (z.level, ir, depth_margin(&probes, &z.local))
                }
                // A buffer of the site: the margin is the distance short of the requirement.
                ZoneKind::CodeDistance => (None, None, distance_m - z.distance_m),
                ZoneKind::Consequence => (None, None, depth_margin(&probes, &z.local)),
            };
            if z.kind != ZoneKind::IsoRisk && margin_m >= 0.0 {
                continue;
            }
            let margin_m = if margin_m == 0.0 { 0.0 } else { margin_m };
            out.push(Violation {
                id: format!("{}|{}|{}", self.site_id, target.id, z.id),
                target_id: target.id.to_string(),
                target_name: target.target.name.clone(),
                target_class: class,
                site_id: self.site_id.clone(),
                site_name: self.site_name.clone(),
                zone_id: z.id.clone(),
                method: z.method,
                clause: z.clause.clone(),
                distance_m,
                required_distance_m: z.distance_m,
                criterion_per_year: criterion,
                individual_risk_per_year: ir,
                margin_m,
                governing: z.governing,
                unconfirmed: z.unconfirmed,
                point: representative(target.geometry),
            });
        }
        Ok(out)
    }

    /// Recomputes the violations from `targets`.
    pub fn check_targets(
        &mut self,
        targets: &[TargetInput<'_>],
        cfg: &SafetyConfig,
    ) -> Result<(), FrameError> {
        let bbox = self.zones_bbox();
        let mut v = Vec::new();
        for t in targets {
            let near = match (bbox, t.geometry.bounding_rect()) {
                (Some(b), Some(tb)) => b.intersects(&tb),
                _ => false,
            };
            if near {
                v.extend(self.violations_for(*t, cfg)?);
            }
        }
        v.sort_by(|a, b| a.id.cmp(&b.id));
        self.violations = v;
        Ok(())
    }

    /// The F–N curve from the population of `targets`.
    pub fn societal_risk(
        &self,
        targets: &[TargetInput<'_>],
        cfg: &SafetyConfig,
    ) -> Result<FnCurve, FrameError> {
        let mut pop = Vec::new();
        let Some(frame) = &self.frame else {
            return Ok(qra::fn_curve(&self.qra_scenarios, &cfg.weather, &pop)?);
        };
        for t in targets {
            let people = population_of(t.target);
            if people <= 0.0 {
                continue;
            }
            let p = representative(t.geometry);
            if let Geometry::Point(lp) = frame.to_local(&Geometry::Point(p))? {
                pop.push(PopulationPoint {
                    id: t.id.to_string(),
                    x_m: lp.x(),
                    y_m: lp.y(),
                    people,
                });
            }
        }
        Ok(qra::fn_curve(&self.qra_scenarios, &cfg.weather, &pop)?)
    }

    /// Whether the site meets its external safety distances (no violation).
    pub fn external_distance_ok(&self) -> bool {
        self.violations.is_empty()
    }
}

/// People at a target: its population, else 3 per household (an estimate),
/// else its beds.
pub fn population_of(t: &ProtectionTarget) -> f64 {
    if let Some(p) = t.population {
        f64::from(p)
    } else if let Some(h) = t.households {
        3.0 * f64::from(h)
    } else if let Some(b) = t.beds {
        f64::from(b)
    } else {
        0.0
    }
}

fn target_inputs(features: &[std::sync::Arc<Feature>]) -> Vec<TargetInput<'_>> {
    features
        .iter()
        .filter_map(|f| match &f.record {
            Record::ProtectionTarget(t) => Some(TargetInput {
                id: &f.id,
                target: t,
                geometry: &f.geometry,
            }),
            _ => None,
        })
        .collect()
}

/// Margin (metres) searched around a site for targets before its zones are
/// known; zones reaching farther are searched again with their own extent.
const FIRST_SEARCH_M: f64 = 3000.0;

/// Zones and violations of every site in a catalogue, kept current.
#[derive(Debug, Clone, Default)]
pub struct SafetyState {
    /// Assessments by site id.
    pub sites: BTreeMap<String, SiteAssessment>,
}

/// What an update changed: boxes (lon/lat) whose zones or violations changed,
/// and the sites whose external-distance verdict may have changed.
#[derive(Debug, Clone, Default)]
pub struct SafetyChanges {
    /// Boxes of old and new zones and violations.
    pub boxes: Vec<Rect<f64>>,
    /// Sites reassessed.
    pub sites: Vec<String>,
}

impl SafetyState {
    /// Assesses every enterprise that holds a hazardous substance, the
    /// sites in parallel (rayon).
    pub fn compute(catalog: &Catalog, cfg: &SafetyConfig) -> SafetyState {
        let ids: Vec<String> = catalog
            .iter(Collection::Enterprises)
            .map(|f| f.id.clone())
            .collect();
        let mut s = SafetyState::default();
        s.reassess_many(catalog, cfg, &ids);
        s
    }

    /// Reassesses one site (after its record changed or was deleted).
    pub fn reassess(&mut self, catalog: &Catalog, cfg: &SafetyConfig, id: &str) -> SafetyChanges {
        self.reassess_many(catalog, cfg, std::slice::from_ref(&id.to_string()))
    }

    /// Reassesses the sites `ids` (after their records changed or were
    /// deleted), in parallel: each site's assessment reads only the
    /// catalogue, so the order does not matter.
    pub fn reassess_many(
        &mut self,
        catalog: &Catalog,
        cfg: &SafetyConfig,
        ids: &[String],
    ) -> SafetyChanges {
        let assessed: Vec<Option<SiteAssessment>> = ids
            .par_iter()
            .map(|id| assess_enterprise(catalog, cfg, id))
            .collect();
        let mut ch = SafetyChanges {
            sites: ids.to_vec(),
            ..Default::default()
        };
        for (id, a) in ids.iter().zip(assessed) {
            if let Some(old) = self.sites.remove(id) {
                ch.boxes.extend(old.zones_bbox());
            }
            if let Some(a) = a {
                ch.boxes.extend(a.zones_bbox());
                self.sites.insert(id.clone(), a);
            }
        }
        ch
    }

    /// After protection targets changed (their old and new boxes),
    /// recomputes the violations and F–N of the sites whose zones meet any
    /// box, in parallel.
    pub fn target_changed(
        &mut self,
        catalog: &Catalog,
        cfg: &SafetyConfig,
        boxes: &[Rect<f64>],
    ) -> SafetyChanges {
        let edited = riskmap_spatial::BBoxIndex::bulk_load(boxes.iter().map(|b| ((), *b)));
        let touched: Vec<(&String, &mut SiteAssessment)> = self
            .sites
            .iter_mut()
            .filter(|(_, a)| {
                a.zones_bbox()
                    .is_some_and(|zb| edited.query(zb).next().is_some())
            })
            .collect();
        let results: Vec<(String, Option<Rect<f64>>)> = touched
            .into_par_iter()
            .filter_map(|(id, a)| {
                let zb = a.zones_bbox()?;
                let near = catalog.query_bbox(Collection::ProtectionTargets, zb);
                let targets = target_inputs(&near);
                let before: Vec<String> = a.violations.iter().map(|v| v.id.clone()).collect();
                a.check_targets(&targets, cfg).ok()?;
                if !a.qra_scenarios.is_empty()
                    && let Ok(fnc) = a.societal_risk(&targets, cfg)
                {
                    a.fn_curve = Some(fnc);
                }
                let after: Vec<String> = a.violations.iter().map(|v| v.id.clone()).collect();
                Some((id.clone(), (before != after).then_some(zb)))
            })
            .collect();
        let mut ch = SafetyChanges::default();
        for (id, changed) in results {
            ch.boxes.extend(changed);
            ch.sites.push(id);
        }
        ch
    }

    /// Every zone.
    pub fn zones(&self) -> impl Iterator<Item = &SafetyZone> {
        self.sites.values().flat_map(|a| a.zones.iter())
    }

    /// Every violation.
    pub fn violations(&self) -> impl Iterator<Item = &Violation> {
        self.sites.values().flat_map(|a| a.violations.iter())
    }

    /// External-distance verdict per assessed site (true: no violation).
    pub fn verdicts(&self) -> HashMap<String, Option<bool>> {
        self.sites
            .iter()
            .map(|(id, a)| (id.clone(), Some(a.external_distance_ok())))
            .collect()
    }
}

/// Assesses the enterprise `id` of the catalogue, if it is there and has
/// anything to assess.
fn assess_enterprise(catalog: &Catalog, cfg: &SafetyConfig, id: &str) -> Option<SiteAssessment> {
    let f = catalog.get(Collection::Enterprises, id)?;
    let Record::Enterprise(e) = &f.record else {
        return None;
    };
    assess_with_catalog(
        SiteInput {
            id: &f.id,
            name: &e.name,
            geometry: &f.geometry,
            units: &e.units,
            installation: e.installation,
        },
        catalog,
        cfg,
    )
}

/// Assesses a site against the catalogue's protection targets near it.
pub fn assess_with_catalog(
    site: SiteInput<'_>,
    catalog: &Catalog,
    cfg: &SafetyConfig,
) -> Option<SiteAssessment> {
    let bbox = site.geometry.bounding_rect()?;
    let first = riskmap_spatial::proximity::expand_bbox_m(bbox, FIRST_SEARCH_M);
    let near = catalog.query_bbox(Collection::ProtectionTargets, first);
    let targets = target_inputs(&near);
    let mut a = assess_site(site, &targets, cfg).ok()??;
    // Zones larger than the first search: search their whole extent.
    if let Some(zb) = a.zones_bbox()
        && !(first.contains(&zb.min()) && first.contains(&zb.max()))
    {
        let near = catalog.query_bbox(Collection::ProtectionTargets, zb);
        let targets = target_inputs(&near);
        a.check_targets(&targets, cfg).ok()?;
        if !a.qra_scenarios.is_empty() {
            a.fn_curve = a.societal_risk(&targets, cfg).ok();
        }
    }
    Some(a)
}

/// What a proposed use is.
#[derive(Debug, Clone)]
pub enum ProposedUse {
    /// A protection target (school, homes, hospital…).
    Target(ProtectionTarget),
    /// A hazardous-chemical site with its inventory.
    Site {
        /// Units and inventories.
        units: Vec<Unit>,
        /// New (the default for a proposal) or existing.
        installation: Installation,
        /// Name.
        name: String,
    },
}

/// A site or target the check looked at.
#[derive(Debug, Clone, Serialize)]
pub struct Considered {
    /// Collection: `enterprises` or `protection_targets`.
    pub collection: &'static str,
    /// Id.
    pub id: String,
    /// Name.
    pub name: Option<String>,
    /// Methods of a site.
    pub methods: Vec<Method>,
    /// Distance from the proposal, metres.
    pub distance_m: f64,
}

/// The answer to a siting question (规划选址).
#[derive(Debug, Clone, Serialize)]
pub struct SitingAnswer {
    /// `protection_target` or `hazardous_site`.
    pub kind: &'static str,
    /// Class of a proposed target, with the reasons.
    pub target_class: Option<TargetClass>,
    /// Why the class.
    pub class_reasons: Vec<String>,
    /// Every conflict; empty means clear.
    pub conflicts: Vec<Violation>,
    /// `true` when there is no conflict.
    pub clear: bool,
    /// What was checked.
    pub considered: Vec<Considered>,
    /// Zones of a proposed site.
    pub zones: Vec<SafetyZone>,
    /// The assessment of a proposed site (methods, scenarios, F–N…).
    pub assessment: Option<SiteAssessment>,
    /// Notes.
    pub notes: Vec<String>,
}

/// Longest edge, in degrees, of a proposal's part before it is projected
/// into a site's frame. An edge is straight in lon/lat (the GeoJSON
/// reading); projected by its ends alone it would become the straight line
/// between them in the frame, which parts from it by about L²·tan φ / 8R: up
/// to a metre for a 5 km edge at 53° N (a box's edge cut to a site's
/// reach), under a millimetre for 0.001° (≈ 110 m).
const PART_STEP_DEG: f64 = 0.001;

/// At most this many vertices are added to a part; a part with more edge
/// length than that allows at [`PART_STEP_DEG`] gets a longer step.
const PART_MAX_ADDED: f64 = 200_000.0;

/// The step for `g`'s edges: [`PART_STEP_DEG`], or longer for a very long outline.
fn part_step<'a, G: LinesIter<'a, Scalar = f64>>(g: &'a G) -> f64 {
    let length: f64 = g.lines_iter().map(|l| l.dx().hypot(l.dy())).sum();
    PART_STEP_DEG.max(length / PART_MAX_ADDED)
}

/// `g` with vertices added along its lon/lat edges (see [`PART_STEP_DEG`]).
fn densify_part(g: Geometry<f64>) -> Geometry<f64> {
    match g {
        Geometry::Polygon(p) => Geometry::Polygon(Euclidean.densify(&p, part_step(&p))),
        Geometry::MultiPolygon(mp) => {
            Geometry::MultiPolygon(Euclidean.densify(&mp, part_step(&mp)))
        }
        Geometry::LineString(l) => Geometry::LineString(Euclidean.densify(&l, part_step(&l))),
        Geometry::MultiLineString(ml) => {
            Geometry::MultiLineString(Euclidean.densify(&ml, part_step(&ml)))
        }
        Geometry::Rect(r) => Geometry::Polygon(Euclidean.densify(&r, part_step(&r))),
        Geometry::Triangle(t) => Geometry::Polygon(Euclidean.densify(&t, part_step(&t))),
        other => other,
    }
}

/// The part of `g` (lon/lat) inside `rect`, or `None` when they do not
/// meet. Polygons are cut with the rectangle as drawn in lon/lat (the
/// GeoJSON reading of their edges), so the part is exact however wide `g`
/// is; a geometry inside `rect` is returned whole. The part's edges are cut
/// to [`PART_STEP_DEG`], so that projected into a frame they still follow
/// their lon/lat lines.
fn clip_to(g: &Geometry<f64>, rect: Rect<f64>) -> Option<Geometry<f64>> {
    clip_whole(g, rect).map(densify_part)
}

/// [`clip_to`] before the part's edges are cut.
fn clip_whole(g: &Geometry<f64>, rect: Rect<f64>) -> Option<Geometry<f64>> {
    let b = g.bounding_rect()?;
    if rect.contains(&b) {
        return Some(g.clone());
    }
    if !b.intersects(&rect) {
        return None;
    }
    let window = MultiPolygon::new(vec![rect.to_polygon()]);
    let part = match g {
        Geometry::Polygon(p) => Geometry::MultiPolygon(p.intersection(&window)),
        Geometry::MultiPolygon(mp) => Geometry::MultiPolygon(mp.intersection(&window)),
        Geometry::LineString(l) => {
            Geometry::MultiLineString(window.clip(&MultiLineString::new(vec![l.clone()]), false))
        }
        Geometry::MultiLineString(ml) => Geometry::MultiLineString(window.clip(ml, false)),
        Geometry::Rect(r) => Geometry::MultiPolygon(r.to_polygon().intersection(&window)),
        Geometry::Triangle(t) => Geometry::MultiPolygon(t.to_polygon().intersection(&window)),
        // Points and collections of points: kept when they meet the window.
        other => {
            return other.intersects(&rect).then(|| other.clone());
        }
    };
    let empty = match &part {
        Geometry::MultiPolygon(mp) => mp.0.is_empty(),
        Geometry::MultiLineString(ml) => ml.0.is_empty(),
        _ => false,
    };
    (!empty).then_some(part)
}

/// Sites within this distance of a proposed target beyond their zones are listed as considered.
const CONSIDER_MARGIN_M: f64 = 2000.0;

/// Checks a proposed use at `geometry` (lon/lat) against the current state.
pub fn check_proposal(
    proposal: &ProposedUse,
    geometry: &Geometry<f64>,
    state: &SafetyState,
    catalog: &Catalog,
    cfg: &SafetyConfig,
) -> Result<SitingAnswer, FrameError> {
    match check_proposal_until(proposal, geometry, state, catalog, cfg, &|| false)? {
        Some(answer) => Ok(answer),
        None => unreachable!("a check that is never told to stop does not stop"),
    }
}

/// [`check_proposal`] for a caller that may go away: `stop` is asked before
/// each site is measured and after a proposed site is assessed, and once it
/// says so the check ends with `None` (no partial answer, never "clear").
pub fn check_proposal_until(
    proposal: &ProposedUse,
    geometry: &Geometry<f64>,
    state: &SafetyState,
    catalog: &Catalog,
    cfg: &SafetyConfig,
    stop: &dyn Fn() -> bool,
) -> Result<Option<SitingAnswer>, FrameError> {
    match proposal {
        ProposedUse::Target(t) => {
            let (class, reasons) = classify_target(t, cfg.classes);
            let mut conflicts = Vec::new();
            let mut considered = Vec::new();
            let gb = geometry.bounding_rect();
            for a in state.sites.values() {
                if stop() {
                    return Ok(None);
                }
                let Some(zb) = a.zones_bbox() else { continue };
                let reach = riskmap_spatial::proximity::expand_bbox_m(zb, CONSIDER_MARGIN_M);
                if !gb.is_some_and(|g| g.intersects(&reach)) {
                    continue;
                }
                // Only the part of the proposal near this site is measured,
                // in the site's own frame: a proposal of any extent is then
                // projected without distortion (a wide polygon projected
                // whole into one frame can miss a site inside it).
                let Some(near) = clip_to(geometry, reach) else {
                    continue;
                };
                let input = TargetInput {
                    id: "proposed",
                    target: t,
                    geometry: &near,
                };
                let distance_m = match a.frame() {
                    Some(fr) => {
                        let l = fr.to_local(&near)?;
                        if a.site_local.intersects(&l) {
                            0.0
                        } else {
                            Euclidean.distance(&l, &a.site_local)
                        }
                    }
                    None => f64::NAN,
                };
                considered.push(Considered {
                    collection: "enterprises",
                    id: a.site_id.clone(),
                    name: Some(a.site_name.clone()),
                    methods: a.methods.iter().map(|m| m.method).collect(),
                    distance_m,
                });
                conflicts.extend(a.violations_for(input, cfg)?);
            }
            considered.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
            conflicts.sort_by(|a, b| a.margin_m.total_cmp(&b.margin_m));
            let notes = if considered.is_empty() {
                vec!["no hazardous-chemical site has a zone within 2 km of this place".into()]
            } else {
                Vec::new()
            };
            Ok(Some(SitingAnswer {
                kind: "protection_target",
                target_class: Some(class),
                class_reasons: reasons,
                clear: conflicts.is_empty(),
                conflicts,
                considered,
                zones: Vec::new(),
                assessment: None,
                notes,
            }))
        }
        ProposedUse::Site {
            units,
            installation,
            name,
        } => {
            let site = SiteInput {
                id: "proposed",
                name,
                geometry,
                units,
                installation: Some(*installation),
            };
            let Some(a) = assess_with_catalog(site, catalog, cfg) else {
                return Ok(Some(SitingAnswer {
                    kind: "hazardous_site",
                    target_class: None,
                    class_reasons: Vec::new(),
                    conflicts: Vec::new(),
                    clear: true,
                    considered: Vec::new(),
                    zones: Vec::new(),
                    assessment: None,
                    notes: vec!["the proposal holds no hazardous substance: no zone".into()],
                }));
            };
            if stop() {
                return Ok(None);
            }
            let mut considered = Vec::new();
            if let (Some(zb), Some(fr)) = (a.zones_bbox(), a.frame()) {
                for f in catalog.query_bbox(Collection::ProtectionTargets, zb) {
                    let l = fr.to_local(&f.geometry)?;
                    considered.push(Considered {
                        collection: "protection_targets",
                        id: f.id.clone(),
                        name: f.record.name().map(str::to_string),
                        methods: Vec::new(),
                        distance_m: if a.site_local.intersects(&l) {
                            0.0
                        } else {
                            Euclidean.distance(&l, &a.site_local)
                        },
                    });
                }
            }
            considered.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
            let mut conflicts = a.violations.clone();
            conflicts.sort_by(|a, b| a.margin_m.total_cmp(&b.margin_m));
            Ok(Some(SitingAnswer {
                kind: "hazardous_site",
                target_class: None,
                class_reasons: Vec::new(),
                clear: conflicts.is_empty(),
                conflicts,
                considered,
                zones: a.zones.clone(),
                notes: a.notes.clone(),
                assessment: Some(a),
            }))
        }
    }
}

/// Words accepted as the `use` of a proposed hazardous site.
pub const SITE_USES: [&str; 3] = ["hazardous_site", "enterprise", "plant"];

impl SafetyState {
    /// The bounding box of every site's zones, one per site.
    pub fn zones_bbox_all(&self) -> Vec<Rect<f64>> {
        self.sites.values().filter_map(|a| a.zones_bbox()).collect()
    }
}

//! `riskmap bench qra`: the individual-risk grid of one site (default 1000 ×
//! 1000 cells, 100 release scenarios, 16 wind sectors, 2 weather classes) and
//! the external safety assessment of every demo site.

use std::time::{Duration, Instant};

use riskmap_core::model::{Substance, Unit, UnitKind};
use riskmap_core::{Catalog, import};
use riskmap_safety::SafetyError;
use riskmap_safety::qra::{
    self, CONTOUR_LEVELS, GridSpec, QraRules, Scenario, UnitRelease, Weather,
};
use riskmap_safety::site::{SafetyConfig, SafetyState};
use riskmap_spatial::Crs;

/// Sizes of the benchmark.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QraBench {
    pub(crate) cells: usize,
    pub(crate) scenarios: usize,
    pub(crate) sectors: usize,
    pub(crate) repeats: usize,
}

/// Real substances (GB 18218 Table 1) and inventories of a large site.
const INVENTORY: [(&str, &str, f64); 8] = [
    ("液氯", "7782-50-5", 60.0),
    ("液氨", "7664-41-7", 200.0),
    ("液化石油气", "68476-85-7", 400.0),
    ("丙烯", "115-07-1", 300.0),
    ("硫化氢", "7783-06-4", 5.0),
    ("甲醇", "67-56-1", 2000.0),
    ("氢气", "1333-74-0", 8.0),
    ("苯", "71-43-2", 800.0),
];

/// Units spread over a 600 m × 600 m plant until `n` scenarios exist.
fn synthetic_scenarios(n: usize, rules: &QraRules) -> Result<(Vec<Scenario>, usize), SafetyError> {
    let mut units = Vec::new();
    let mut scenarios = Vec::new();
    let mut i = 0usize;
    while scenarios.len() < n && i < 10 * n + 10 {
        let (name, cas, q) = INVENTORY[i % INVENTORY.len()];
        units.push(Unit {
            id: format!("U{i:03}"),
            name: None,
            kind: if i.is_multiple_of(3) {
                UnitKind::Production
            } else {
                UnitKind::Storage
            },
            geometry: None,
            substances: vec![Substance {
                name: Some(name.into()),
                cas: Some(cas.into()),
                quantity_t: q,
                hazard_categories: vec![],
            }],
            processes: vec![],
        });
        let releases: Vec<UnitRelease<'_>> = units
            .iter()
            .enumerate()
            .map(|(k, unit)| UnitRelease {
                unit,
                x_m: ((k * 7919) % 600) as f64 - 300.0,
                y_m: ((k * 104_729) % 600) as f64 - 300.0,
            })
            .collect();
        scenarios = qra::scenarios_for_units(&releases, rules)?.scenarios;
        i += 1;
    }
    scenarios.truncate(n);
    Ok((scenarios, units.len()))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Runs the benchmark and prints a Markdown report.
pub(crate) fn run(b: QraBench) {
    if let Err(e) = run_site(b) {
        eprintln!("the QRA refused the benchmark input: {e}");
        return;
    }
    run_demo(b);
}

/// The one-site part of [`run`].
fn run_site(b: QraBench) -> Result<(), SafetyError> {
    let rules = QraRules::embedded();
    let (scenarios, units) = synthetic_scenarios(b.scenarios, rules)?;
    let mut weather = Weather::default_two_class_uniform(b.sectors)?;
    // A non-uniform rose (prevailing north-easterly) so the sector path is exercised.
    for (k, p) in weather.wind_rose.iter_mut().enumerate() {
        *p = 1.0 + 0.8 * ((k as f64) * std::f64::consts::TAU / b.sectors as f64).cos();
    }
    let total: f64 = weather.wind_rose.iter().sum();
    weather.wind_rose.iter_mut().for_each(|p| *p /= total);
    let auto = qra::auto_grid(&scenarios, &weather, CONTOUR_LEVELS[0], b.cells)?;
    let side = (auto.nx as f64 * auto.cell_m).max(auto.ny as f64 * auto.cell_m);
    let (cx, cy) = (
        auto.x0_m + auto.nx as f64 * auto.cell_m / 2.0,
        auto.y0_m + auto.ny as f64 * auto.cell_m / 2.0,
    );
    let cell_m = side / b.cells as f64;
    let grid = GridSpec {
        x0_m: cx - side / 2.0,
        y0_m: cy - side / 2.0,
        cell_m,
        nx: b.cells,
        ny: b.cells,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("## riskmap bench qra\n");
    println!(
        "One site: {} release scenarios from {units} units of {} real substances (GB 18218 Table 1), {} weather classes, {} wind sectors (non-uniform rose), a {} × {} grid of {:.2} m cells ({:.2} km square); {threads} threads; median of {} runs.\n",
        scenarios.len(),
        INVENTORY.len(),
        weather.classes.len(),
        weather.wind_rose.len(),
        grid.nx,
        grid.ny,
        cell_m,
        side / 1000.0,
        b.repeats
    );
    let mut field_times = Vec::new();
    let mut field = None;
    for _ in 0..b.repeats.max(1) {
        let t = Instant::now();
        field = Some(qra::individual_risk_field(&scenarios, &weather, &grid)?);
        field_times.push(t.elapsed());
    }
    let Some(field) = field else { return Ok(()) };
    let t = Instant::now();
    let contours = qra::risk_contours(&field, &CONTOUR_LEVELS)?;
    let contour_time = t.elapsed();
    // Oracle spot check: the grid against the direct sum at a few cells.
    let mut worst: f64 = 0.0;
    for k in 0..50 {
        let i = (k * 7919) % grid.nx;
        let j = (k * 6271) % grid.ny;
        let x = grid.x0_m + (i as f64 + 0.5) * grid.cell_m;
        let y = grid.y0_m + (j as f64 + 0.5) * grid.cell_m;
        let direct = qra::individual_risk_at(&scenarios, &weather, x, y)?;
        let gridv = field.values[j * grid.nx + i];
        if direct > 1e-9 {
            worst = worst.max((gridv - direct).abs() / direct);
        }
    }
    println!("| step | time |\n|---|---|");
    println!(
        "| individual-risk field, {}×{} cells, {} scenarios × {} sectors × {} weather classes | {:.3} s |",
        grid.nx,
        grid.ny,
        scenarios.len(),
        weather.wind_rose.len(),
        weather.classes.len(),
        median(field_times).as_secs_f64()
    );
    println!(
        "| contours at {} levels ({} polygons) | {:.3} s |",
        CONTOUR_LEVELS.len(),
        contours.iter().map(|c| c.area.0.len()).sum::<usize>(),
        contour_time.as_secs_f64()
    );
    println!(
        "\nPeak individual risk {:.2e}/yr; largest relative difference grid vs direct sum at 50 cells: {:.2} %.\n",
        field.max(),
        worst * 100.0
    );
    Ok(())
}

/// The demo part of [`run`]: every demo site, as `riskmap serve` computes
/// them at start.
fn run_demo(b: QraBench) {
    let mut catalog = Catalog::new();
    for (collection, text) in crate::demo::FILES {
        match import::parse_geojson(collection, text, Crs::Wgs84) {
            Ok(f) => catalog.load(collection, f),
            Err(e) => {
                eprintln!("the built-in demo {collection} is invalid: {e}");
                return;
            }
        }
    }
    let cfg = SafetyConfig::embedded();
    let mut times = Vec::new();
    let mut state = SafetyState::default();
    for _ in 0..b.repeats.max(1) {
        let t = Instant::now();
        state = SafetyState::compute(&catalog, &cfg);
        times.push(t.elapsed());
    }
    let qra_sites = state.sites.values().filter(|a| a.grid.is_some()).count();
    println!("| demo (Hangzhou) | value |\n|---|---|");
    println!(
        "| sites assessed (QRA / other methods) | {} ({qra_sites} / {}) |",
        state.sites.len(),
        state.sites.len() - qra_sites
    );
    println!(
        "| scenarios in all | {} |",
        state
            .sites
            .values()
            .map(|a| a.scenarios.len())
            .sum::<usize>()
    );
    println!("| zones | {} |", state.zones().count());
    println!("| violations | {} |", state.violations().count());
    println!(
        "| all demo sites (`SafetyState::compute`), median | {:.3} s |",
        median(times).as_secs_f64()
    );
}

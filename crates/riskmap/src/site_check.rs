//! `riskmap site-check`: the siting question of `POST /api/siting/check`
//! (规划选址) from the command line, answered from the store's data.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use riskmap_safety::site::check_proposal;
use riskmap_server::siting::parse_request;
use serde_json::{Map, Value, json};

/// What the command line asked.
#[derive(Debug, Clone)]
pub(crate) struct SiteCheck {
    /// `school`, `residential`, … or `hazardous_site`.
    pub(crate) use_: String,
    /// GeoJSON geometry text, or a file holding a geometry, Feature or FeatureCollection.
    pub(crate) geometry: String,
    /// Input CRS.
    pub(crate) crs: String,
    /// Name of the proposal.
    pub(crate) name: Option<String>,
    /// People (a proposed target).
    pub(crate) population: Option<u32>,
    /// Households (a proposed target).
    pub(crate) households: Option<u32>,
    /// Beds (a proposed target).
    pub(crate) beds: Option<u32>,
    /// Floor area, m² (a proposed target).
    pub floor_area_m2: Option<f64>,
    /// Units with inventories, JSON text or a file (a proposed site).
    pub(crate) units: Option<String>,
    /// `new` or `existing` (a proposed site; default new).
    pub(crate) installation: Option<String>,
    /// Print JSON instead of tables.
    pub(crate) json: bool,
}

/// Reads `arg` as JSON, or as a file of JSON when it is a path.
fn json_arg(arg: &str, what: &str) -> anyhow::Result<Value> {
    let text = if Path::new(arg).is_file() {
        std::fs::read_to_string(arg).with_context(|| format!("cannot read {what} file {arg}"))?
    } else {
        arg.to_string()
    };
    serde_json::from_str(&text).with_context(|| format!("{what} is neither JSON nor a JSON file"))
}

/// The request body the HTTP endpoint would get.
pub(crate) fn request(c: &SiteCheck) -> anyhow::Result<Value> {
    let mut geometry = json_arg(&c.geometry, "--geometry")?;
    // Accept a Feature or a one-feature FeatureCollection as well.
    if geometry["type"] == "FeatureCollection" {
        geometry = geometry["features"][0].clone();
    }
    if geometry["type"] == "Feature" {
        geometry = geometry["geometry"].clone();
    }
    let mut body = Map::new();
    body.insert("use".into(), json!(c.use_));
    body.insert("geometry".into(), geometry);
    body.insert("crs".into(), json!(c.crs));
    if let Some(n) = &c.name {
        body.insert("name".into(), json!(n));
    }
    for (k, v) in [
        ("population", c.population.map(|v| json!(v))),
        ("households", c.households.map(|v| json!(v))),
        ("beds", c.beds.map(|v| json!(v))),
        ("floor_area_m2", c.floor_area_m2.map(|v| json!(v))),
        ("installation", c.installation.as_ref().map(|v| json!(v))),
    ] {
        if let Some(v) = v {
            body.insert(k.into(), v);
        }
    }
    if let Some(u) = &c.units {
        body.insert("units".into(), json_arg(u, "--units")?);
    }
    Ok(Value::Object(body))
}

fn sci(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2e}"))
}

/// Runs the check; exit status 0 = clear, 3 = conflicts, 2 = invalid input.
pub(crate) fn run(c: &SiteCheck, world: &riskmap_world::World) -> anyhow::Result<ExitCode> {
    let body = request(c)?;
    let (proposal, geometry) = match parse_request(&body) {
        Ok(p) => p,
        Err(errors) => {
            eprint!("site-check: {errors}");
            return Ok(ExitCode::from(2));
        }
    };
    let answer = check_proposal(
        &proposal,
        &geometry,
        &world.safety,
        &world.catalog,
        world.safety_config(),
    )
    .map_err(|e| anyhow::anyhow!("geometry cannot be projected: {e}"))?;
    if c.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&riskmap_server::siting::answer_json(&answer, &geometry))?
        );
    } else {
        match answer.target_class {
            Some(class) => println!(
                "proposed {} ({}): {} — {}",
                c.use_,
                class.label_zh(),
                serde_json::to_value(class)?.as_str().unwrap_or_default(),
                answer.class_reasons.join("; ")
            ),
            None => println!("proposed hazardous site ({} zone(s))", answer.zones.len()),
        }
        for z in &answer.zones {
            println!(
                "  zone {:<34} {:<14} {:>8.0} m  {}{}",
                z.id,
                serde_json::to_value(z.method)?.as_str().unwrap_or_default(),
                z.distance_m,
                z.label_zh,
                if z.unconfirmed { " [UNCONFIRMED]" } else { "" }
            );
        }
        if answer.clear {
            println!("CLEAR 无冲突: no conflict.");
        } else {
            println!("CONFLICTS 冲突: {}", answer.conflicts.len());
            println!(
                "  {:<12} {:<14} {:<14} {:>10} {:>10} {:>10} {:>10} {:>10}  clause",
                "site", "target", "method", "dist m", "req m", "IR /yr", "limit", "margin m"
            );
            for v in &answer.conflicts {
                println!(
                    "  {:<12} {:<14} {:<14} {:>10.1} {:>10.1} {:>10} {:>10} {:>10.1}  {}",
                    v.site_id,
                    v.target_id,
                    serde_json::to_value(v.method)?.as_str().unwrap_or_default(),
                    v.distance_m,
                    v.required_distance_m,
                    sci(v.individual_risk_per_year),
                    sci(v.criterion_per_year),
                    v.margin_m,
                    v.clause
                );
            }
        }
        let names: Vec<String> = answer
            .considered
            .iter()
            .map(|s| format!("{} ({:.0} m)", s.id, s.distance_m))
            .collect();
        println!(
            "considered {} {}: {}",
            answer.considered.len(),
            if answer.kind == "hazardous_site" {
                "protection target(s)"
            } else {
                "site(s)"
            },
            if names.is_empty() {
                "none nearby".to_string()
            } else {
                names.join(", ")
            }
        );
        for n in &answer.notes {
            println!("note: {n}");
        }
    }
    Ok(if answer.clear {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

//! The risk API: explanations of any coloured feature and counts per level.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use geo::{Centroid, Contains};
use riskmap_core::{Collection, Record};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// The `/api` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/risk/{collection}/{id}", get(explain))
        .route("/api/stats/risk", get(stats))
}

/// `GET /api/risk/{collection}/{id}`: level, score, model, factors with their
/// clauses, `incomplete`, and for enterprises every unit's S, R and grade.
async fn explain(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let risk = state.risk();
    if name == "risk_grid" {
        let c = risk
            .cell(&id)
            .ok_or_else(|| ApiError::NotFound(format!("no grid cell {id:?}")))?;
        let weighted = riskmap_core::scoring::assess_grid_weighted(c.counts, state.rules());
        return Ok(Json(json!({
            "collection": "risk_grid", "id": c.id,
            "risk_level": c.risk_level,
            "score": null,
            "model": {"id": "grid-max", "version": "1"},
            "rule": state.rules().grid.max_rule,
            "set_by": c.set_by,
            "sources": c.sources,
            "counts": {"blue": c.counts[0], "yellow": c.counts[1], "orange": c.counts[2], "red": c.counts[3]},
            "weighted": weighted,
            "incomplete": [],
        })));
    }
    let c: Collection = name
        .parse()
        .map_err(|e: riskmap_core::model::UnknownCollection| ApiError::NotFound(e.to_string()))?;
    if state.catalog().get(c, &id).is_none() {
        return Err(ApiError::NotFound(format!("no feature {id:?} in {c}")));
    }
    let a = risk.assessment(c, &id).ok_or_else(|| {
        ApiError::NotFound(format!("{c} are not scored; scored collections: enterprises, parks, pipelines, districts, risk_grid"))
    })?;
    let mut body = json!({
        "collection": c, "id": id,
        "risk_level": a.risk_level,
        "score": a.score,
        "model": a.model,
        "factors": a.factors,
        "incomplete": a.incomplete,
        "conventions": a.conventions,
        "unconfirmed": a.unconfirmed,
        "explanation": a.explanation(),
    });
    match c {
        Collection::Enterprises => {
            if let Some(e) = risk.enterprises.get(&id) {
                body["people_within_500m"] = json!(e.people_within_500m);
                body["major_hazards"] = json!(e
                    .major_hazards
                    .iter()
                    .map(|h| json!({"unit": h.unit, "s": round(h.s), "r": round(h.r), "alpha": h.alpha, "grade": h.grade, "contributions": h.contributions}))
                    .collect::<Vec<_>>());
            }
        }
        Collection::Pipelines => {
            if let Some(p) = risk.pipelines.get(&id) {
                body["segments"] = json!(p.segments);
            }
        }
        _ => {}
    }
    Ok(Json(body))
}

fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[derive(Debug, Deserialize)]
struct StatsQuery {
    group_by: Option<String>,
    collection: Option<String>,
}

/// `GET /api/stats/risk?group_by=district|industry|park[&collection=enterprises]`:
/// counts per level by group.
async fn stats(
    State(state): State<AppState>,
    Query(q): Query<StatsQuery>,
) -> Result<Json<Value>, ApiError> {
    let group_by = q.group_by.as_deref().unwrap_or("district");
    if !["district", "industry", "park"].contains(&group_by) {
        return Err(ApiError::BadRequest(format!(
            "group_by must be district, industry or park, got {group_by:?}"
        )));
    }
    let collection = match q.collection.as_deref().unwrap_or("enterprises") {
        "enterprises" => Collection::Enterprises,
        "pipelines" => Collection::Pipelines,
        "parks" => Collection::Parks,
        other => {
            return Err(ApiError::BadRequest(format!(
                "collection must be enterprises, parks or pipelines, got {other:?}"
            )));
        }
    };
    if collection != Collection::Enterprises && group_by != "district" {
        return Err(ApiError::BadRequest(format!(
            "{collection} can only be grouped by district"
        )));
    }
    let cat = state.catalog();
    let risk = state.risk();
    let districts: Vec<_> = cat.iter(Collection::Districts).cloned().collect();
    let district_of = |f: &riskmap_core::Feature| -> Option<String> {
        let c = f.geometry.centroid()?;
        districts
            .iter()
            .find(|d| d.geometry.contains(&c))
            .map(|d| d.id.clone())
    };
    let mut groups: BTreeMap<String, [u64; 4]> = BTreeMap::new();
    let mut totals = [0u64; 4];
    for f in cat.iter(collection) {
        let Some(level) = risk.level(collection, &f.id) else {
            continue;
        };
        let key = match (&f.record, group_by) {
            (Record::Enterprise(e), "industry") => e.industry.clone(),
            (Record::Enterprise(e), "park") => e.park_id.clone(),
            (Record::Enterprise(e), _) => e.district_code.clone().or_else(|| district_of(f)),
            _ => district_of(f),
        }
        .unwrap_or_else(|| "(none)".to_string());
        let i = level.index();
        groups.entry(key).or_default()[i] += 1;
        totals[i] += 1;
    }
    let name_of = |key: &str| -> Option<String> {
        let c = match group_by {
            "district" => Collection::Districts,
            "park" => Collection::Parks,
            _ => return None,
        };
        cat.get(c, key)
            .and_then(|f| f.record.name().map(str::to_string))
    };
    let counts = |c: &[u64; 4]| json!({"red": c[3], "orange": c[2], "yellow": c[1], "blue": c[0]});
    let groups: Vec<Value> = groups
        .iter()
        .map(|(k, c)| json!({"key": k, "name": name_of(k), "counts": counts(c), "total": c.iter().sum::<u64>()}))
        .collect();
    Ok(Json(json!({
        "collection": collection,
        "group_by": group_by,
        "groups": groups,
        "totals": counts(&totals),
    })))
}

//! The risk API: explanations of any coloured feature and counts per level.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use riskmap_app::{Work, World};
use riskmap_core::Collection;
use riskmap_world::stats::GroupBy;
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
#[utoipa::path(get, path = "/api/risk/{collection}/{id}", tag = "risk API", params(("collection" = String, Path, description = "a scored collection: enterprises, parks, pipelines, districts, or risk_grid"), ("id" = String, Path, description = "a feature id or grid cell id")), responses((status = 200, description = "level, score, model, factors with their clauses (风险因子与条款), incomplete inputs; for enterprises every unit's S, R and grade (重大危险源分级)", body = crate::openapi::Document), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 404, description = "no such collection, feature or grid cell, or the collection is not scored", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security((), ("bearer" = [])))]
pub(crate) async fn explain(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let limited = state.limited(crate::auth::caller(&state, &headers).await?.as_ref());
    let mut body = state
        .read(Work::Analysis, move |w| explanation(w, &name, &id))
        .await??;
    if limited && let Some(o) = body.as_object_mut() {
        // Per-unit S and R follow from the inventories.
        o.remove("major_hazards");
    }
    if let Some(o) = body.as_object_mut() {
        o.insert("rules_digest".into(), crate::rules::digest(&state).into());
    }
    Ok(Json(body))
}

pub(crate) fn explanation(world: &World, name: &str, id: &str) -> Result<Value, ApiError> {
    let risk = &world.risk;
    let rules = world.rules();
    if name == "risk_grid" {
        let c = risk
            .cell(id)
            .ok_or_else(|| ApiError::NotFound(format!("no grid cell {id:?}")))?;
        let weighted = riskmap_core::scoring::assess_grid_weighted(c.counts, rules);
        return Ok(json!({
            "collection": "risk_grid", "id": c.id,
            "risk_level": c.risk_level,
            "score": null,
            "model": {"id": "grid-max", "version": "1"},
            "rule": rules.grid.max_rule,
            "set_by": c.set_by,
            "sources": c.sources,
            "counts": {"blue": c.counts[0], "yellow": c.counts[1], "orange": c.counts[2], "red": c.counts[3]},
            "weighted": weighted,
            "incomplete": [],
        }));
    }
    let c: Collection = name
        .parse()
        .map_err(|e: riskmap_core::model::UnknownCollection| ApiError::NotFound(e.to_string()))?;
    if world.catalog.get(c, id).is_none() {
        return Err(ApiError::NotFound(format!("no feature {id:?} in {c}")));
    }
    let a = risk.assessment(c, id).ok_or_else(|| {
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
        "world_version": world.version(),
    });
    match c {
        Collection::Enterprises => {
            if let Some(e) = risk.enterprises.get(id) {
                body["people_within_500m"] = json!(e.people_within_500m);
                body["major_hazards"] = json!(e
                    .major_hazards
                    .iter()
                    .map(|h| json!({"unit": h.unit, "s": round(h.s), "r": round(h.r), "alpha": h.alpha, "grade": h.grade, "contributions": h.contributions}))
                    .collect::<Vec<_>>());
            }
        }
        Collection::Pipelines => {
            if let Some(p) = risk.pipelines.get(id) {
                body["segments"] = json!(p.segments);
            }
        }
        _ => {}
    }
    Ok(body)
}

fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatsQuery {
    /// Group by `district` (default), `industry` or `park`.
    group_by: Option<String>,
    /// `enterprises` (default), `parks` or `pipelines` (by district only).
    collection: Option<String>,
}

/// `GET /api/stats/risk?group_by=district|industry|park[&collection=enterprises]`:
/// counts per level by group.
#[utoipa::path(get, path = "/api/stats/risk", operation_id = "risk_stats", tag = "risk API", params(StatsQuery), responses((status = 200, description = "counts per level (红橙黄蓝) per group and totals", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)))]
pub(crate) async fn stats(
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
    let group = match group_by {
        "industry" => GroupBy::Industry,
        "park" => GroupBy::Park,
        _ => GroupBy::District,
    };
    let stats = state
        .read(Work::Analysis, move |w| w.risk_stats(collection, group))
        .await?;
    let counts = |c: &[u64; 4]| json!({"red": c[3], "orange": c[2], "yellow": c[1], "blue": c[0]});
    let groups: Vec<Value> = stats
        .groups
        .iter()
        .map(|g| json!({"key": g.key, "name": g.name, "counts": counts(&g.counts), "total": g.counts.iter().sum::<u64>()}))
        .collect();
    Ok(Json(json!({
        "collection": collection,
        "group_by": group_by,
        "groups": groups,
        "totals": counts(&stats.totals),
    })))
}

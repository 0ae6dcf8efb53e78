//! Siting answers and site reports (规划选址, 外部安全防护距离):
//! `POST /api/siting/check` and `GET /api/sites/{id}/report`.
//!
//! The work is [`riskmap_safety::site`]'s; this module parses, runs it off
//! the async threads and adds GeoJSON geometries to the answer.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use geo::Geometry;
use riskmap_safety::site::{
    SafetyZone, SiteAssessment, SitingAnswer, Violation, check_proposal, parse_proposal,
};
use serde_json::{Value, json};

use crate::derived::{violation_properties, zone_properties};
use crate::error::ApiError;
use crate::state::AppState;
use riskmap_app::Work;

/// The siting routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/siting/check", post(check))
        .route("/api/sites/{id}/report", get(report))
}

fn geojson(g: &Geometry<f64>) -> Value {
    serde_json::to_value(geojson::Geometry::new(geojson::GeometryValue::from(g)))
        .unwrap_or(Value::Null)
}

/// Zones as a GeoJSON FeatureCollection (WGS84).
pub fn zones_geojson(zones: &[SafetyZone]) -> Value {
    json!({
        "type": "FeatureCollection",
        "features": zones.iter().map(|z| json!({
            "type": "Feature",
            "id": z.id,
            "geometry": geojson(&Geometry::MultiPolygon(z.geometry.clone())),
            "properties": zone_properties(z),
        })).collect::<Vec<_>>(),
    })
}

/// Violations as a GeoJSON FeatureCollection of target points (WGS84).
pub fn violations_geojson(v: &[Violation]) -> Value {
    json!({
        "type": "FeatureCollection",
        "features": v.iter().map(|v| json!({
            "type": "Feature",
            "id": v.id,
            "geometry": geojson(&Geometry::Point(v.point)),
            "properties": violation_properties(v),
        })).collect::<Vec<_>>(),
    })
}

/// The full JSON of a site assessment: the assessment itself plus its zones
/// and violations as GeoJSON.
pub fn report_json(a: &SiteAssessment) -> Value {
    let mut body = serde_json::to_value(a).unwrap_or(Value::Null);
    body["zones_geojson"] = zones_geojson(&a.zones);
    body["violations_geojson"] = violations_geojson(&a.violations);
    body
}

/// The JSON of a siting answer, with geometries.
pub fn answer_json(answer: &SitingAnswer, proposal_geometry: &Geometry<f64>) -> Value {
    let mut body = serde_json::to_value(answer).unwrap_or(Value::Null);
    body["proposal_geometry"] = geojson(proposal_geometry);
    body["zones_geojson"] = zones_geojson(&answer.zones);
    body["conflicts_geojson"] = violations_geojson(&answer.conflicts);
    body
}

/// `POST /api/siting/check`: may this use go here? See
/// [`riskmap_safety::site::parse_proposal`] for the body.
async fn check(State(state): State<AppState>, body: Json<Value>) -> Result<Json<Value>, ApiError> {
    let (proposal, geometry) = parse_proposal(&body.0).map_err(ApiError::Invalid)?;
    let out = state
        .read(Work::Analysis, move |w| {
            check_proposal(
                &proposal,
                &geometry,
                &w.safety,
                &w.catalog,
                w.safety_config(),
            )
            .map(|answer| answer_json(&answer, &geometry))
        })
        .await?
        .map_err(|e| ApiError::BadRequest(format!("geometry cannot be projected: {e}")))?;
    Ok(Json(out))
}

/// `GET /api/sites/{id}/report`: methods, scenarios, zones, contours, the
/// F–N curve and the violations of one site.
async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let body = state
        .read(Work::Analysis, move |w| match w.safety.sites.get(&id) {
            Some(a) => Ok(report_json(a)),
            None => {
                let known = w
                    .catalog
                    .get(riskmap_core::Collection::Enterprises, &id)
                    .is_some();
                Err(ApiError::NotFound(if known {
                    format!(
                        "enterprise {id:?} holds no hazardous substance: it has no safety report"
                    )
                } else {
                    format!("no enterprise {id:?}")
                }))
            }
        })
        .await??;
    Ok(Json(body))
}

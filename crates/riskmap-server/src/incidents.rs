//! Emergency command (应急指挥): `POST /api/incidents` draws an incident's
//! threat zones and lists who is inside them. The work is
//! [`riskmap_safety::command::assess_incident`]'s, on one world snapshot off
//! the async threads; this module parses the body (every error names its
//! field) and adds the zones as GeoJSON.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use geo::Geometry;
use riskmap_app::Work;
use riskmap_safety::command::{IncidentAnswer, IncidentError, IncidentRequest, assess_incident};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// Largest incident request body (413 above).
pub const MAX_INCIDENT_BODY_BYTES: usize = 64 * 1024;

/// The incident routes.
pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/incidents",
        post(create).layer(axum::extract::DefaultBodyLimit::max(
            MAX_INCIDENT_BODY_BYTES,
        )),
    )
}

fn geojson(g: &Geometry<f64>) -> Value {
    serde_json::to_value(geojson::Geometry::new(geojson::GeometryValue::from(g)))
        .unwrap_or(Value::Null)
}

/// The answer as JSON: the assessment, the zones and their uncertainty
/// areas as GeoJSON features (red first) with who is inside each.
pub fn answer_json(a: &IncidentAnswer) -> Value {
    let mut body = serde_json::to_value(a).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut body {
        m.remove("footprints");
        m.remove("uncertainty_areas");
    }
    let feature = |kind: &str, i: usize, g: &geo::Polygon<f64>| {
        let z = &a.toxic.zones[i];
        let inside = &a.inside[i];
        json!({
            "type": "Feature",
            "id": format!("{kind}-{}", z.loc.colour),
            "geometry": if g.exterior().0.is_empty() { Value::Null } else { geojson(&Geometry::Polygon(g.clone())) },
            "properties": {
                "kind": kind,
                "colour": z.loc.colour,
                "zone_name": z.zone_name,
                "level": z.loc.value,
                "unit": z.loc.unit,
                "basis": z.loc.basis,
                "unconfirmed": z.loc.unconfirmed,
                "reach": z.reach,
                "population": inside.population,
                "targets": inside.targets.len(),
            },
        })
    };
    let zones: Vec<Value> = a
        .footprints
        .iter()
        .enumerate()
        .map(|(i, g)| feature("threat_zone", i, g))
        .chain(
            a.uncertainty_areas
                .iter()
                .enumerate()
                .map(|(i, g)| feature("wind_uncertainty", i, g)),
        )
        .collect();
    body["zones_geojson"] = json!({"type": "FeatureCollection", "features": zones});
    body
}

/// Parses the body: JSON of [`IncidentRequest`]; unknown or mistyped
/// fields are refused by name.
fn parse(body: &[u8]) -> Result<IncidentRequest, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ApiError::BadRequest(format!(
            "incident request, field `{}`: {}",
            if path == "." {
                "(body)".to_string()
            } else {
                path
            },
            e.inner()
        ))
    })
}

/// `POST /api/incidents`: the threat zones of a release and who is inside.
async fn create(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let req = parse(&body)?;
    let out = state
        .read(Work::Analysis, move |w| {
            assess_incident(&req, &w.catalog)
                .map(|a| answer_json(&a))
                .map_err(|e| match e {
                    IncidentError::Field { field, message } => ApiError::Unprocessable(format!(
                        "incident request, field `{field}`: {message}"
                    )),
                    IncidentError::Model(m) => {
                        ApiError::Unprocessable(format!("incident request: {m}"))
                    }
                })
        })
        .await??;
    Ok(Json(out))
}

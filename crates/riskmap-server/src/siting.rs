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
    ProposedUse, SITE_USES, SafetyZone, SiteAssessment, SitingAnswer, Violation,
    check_proposal_until,
};
use serde_json::{Value, json};

use crate::derived::{violation_properties, zone_properties};
use crate::error::ApiError;
use crate::state::AppState;
use riskmap_app::Work;

/// The siting routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/siting/check",
            post(check).layer(axum::extract::DefaultBodyLimit::max(MAX_SITING_BODY_BYTES)),
        )
        .route("/api/sites/{id}/report", get(report))
}

/// Largest siting request body (413 above).
pub const MAX_SITING_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Most vertices of a proposal's geometry (422 above): a planning parcel
/// has hundreds; this bounds the work one anonymous request can ask for.
pub const MAX_SITING_VERTICES: usize = 20_000;
/// Most units of a proposed hazardous site (422 above).
pub const MAX_SITING_UNITS: usize = 100;
/// Most substances in one unit of a proposed site (422 above).
pub const MAX_SITING_SUBSTANCES: usize = 50;

/// Checks a siting request against the limits above before any parsing
/// work; the message names the limit.
pub fn check_limits(req: &Value) -> Result<(), String> {
    fn vertices(v: &Value) -> usize {
        match v {
            Value::Array(a) if a.first().is_some_and(Value::is_number) => 1,
            Value::Array(a) => a.iter().map(vertices).sum(),
            _ => 0,
        }
    }
    let geometry = &req["geometry"];
    let coords = if geometry["type"] == "Feature" {
        &geometry["geometry"]["coordinates"]
    } else {
        &geometry["coordinates"]
    };
    let n = vertices(coords);
    if n > MAX_SITING_VERTICES {
        return Err(format!(
            "geometry: {n} vertices; a siting check takes at most {MAX_SITING_VERTICES} (simplify the outline)"
        ));
    }
    if let Some(units) = req["units"].as_array() {
        if units.len() > MAX_SITING_UNITS {
            return Err(format!(
                "units: {} units; a proposed site may have at most {MAX_SITING_UNITS}",
                units.len()
            ));
        }
        for (i, u) in units.iter().enumerate() {
            let k = u["substances"].as_array().map_or(0, Vec::len);
            if k > MAX_SITING_SUBSTANCES {
                return Err(format!(
                    "units[{i}].substances: {k} substances; a unit may have at most {MAX_SITING_SUBSTANCES}"
                ));
            }
        }
    }
    Ok(())
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

/// Reads a siting question `{"use", "geometry", "crs"?, "name"?, …}`: for a
/// protection target (`use` = a target category such as `school`) also
/// `population`, `households`, `beds`, `floor_area_m2`; for a hazardous site
/// (`use` = `hazardous_site`) `units` (the import schema's units with their
/// inventories) and `installation` (default `new`). Every error names the
/// field; the geometry is validated and converted to WGS84 like an import.
pub fn parse_request(
    req: &serde_json::Value,
) -> Result<(ProposedUse, Geometry<f64>), riskmap_core::import::ImportErrors> {
    use riskmap_core::import::{ImportError, ImportErrors};
    use riskmap_core::model::TargetCategory;
    use serde_json::{Map, Value, json};

    let fail = |field: &str, message: String| ImportErrors {
        errors: vec![ImportError {
            index: None,
            id: None,
            field: field.to_string(),
            message,
            row: None,
            column: None,
        }],
        total: 1,
    };
    let Some(obj) = req.as_object() else {
        return Err(fail(
            "(body)",
            "expected a JSON object {\"use\", \"geometry\", …}".into(),
        ));
    };
    let uses = || {
        let mut v: Vec<&str> = TargetCategory::NAMES.to_vec();
        v.extend(SITE_USES);
        v.join(", ")
    };
    let use_ = match obj.get("use") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(_) => return Err(fail("use", format!("must be one of {}", uses()))),
        None => return Err(fail("use", format!("required: one of {}", uses()))),
    };
    let crs: riskmap_spatial::Crs = match obj.get("crs") {
        None | Some(Value::Null) => riskmap_spatial::Crs::Wgs84,
        Some(Value::String(s)) => s.parse().map_err(|_| {
            fail(
                "crs",
                format!("unknown CRS {s:?}; expected EPSG:4326, EPSG:4490 or GCJ02"),
            )
        })?,
        Some(_) => return Err(fail("crs", "must be a string".into())),
    };
    let copy = |keys: &[&str], props: &mut Map<String, Value>| {
        for k in keys {
            if let Some(v) = obj.get(*k) {
                props.insert((*k).to_string(), v.clone());
            }
        }
    };
    let mut props = Map::new();
    let (collection, is_site) = if TargetCategory::NAMES.contains(&use_.as_str()) {
        props.insert("category".into(), Value::String(use_.clone()));
        // A proposal may be unnamed; a stored target may not.
        let named = obj
            .get("name")
            .filter(|v| v.as_str().is_none_or(|s| !s.trim().is_empty()) && !v.is_null());
        props.insert(
            "name".into(),
            named
                .cloned()
                .unwrap_or_else(|| Value::String("拟建防护目标 proposed target".into())),
        );
        copy(
            &["population", "households", "beds", "floor_area_m2"],
            &mut props,
        );
        (riskmap_core::Collection::ProtectionTargets, false)
    } else if SITE_USES.contains(&use_.as_str()) {
        props.insert(
            "name".into(),
            obj.get("name")
                .cloned()
                .unwrap_or_else(|| Value::String("拟建项目 proposed site".into())),
        );
        props.insert(
            "installation".into(),
            obj.get("installation")
                .cloned()
                .unwrap_or_else(|| Value::String("new".into())),
        );
        copy(&["units", "industry"], &mut props);
        if !obj.contains_key("units") {
            return Err(fail(
                "units",
                "required for a proposed hazardous site: its units and inventories".into(),
            ));
        }
        (riskmap_core::Collection::Enterprises, true)
    } else {
        return Err(fail(
            "use",
            format!("unknown use {use_:?}; expected one of {}", uses()),
        ));
    };
    let feature = json!({
        "type": "Feature",
        "id": "proposed",
        "geometry": obj.get("geometry").cloned().unwrap_or(Value::Null),
        "properties": props,
    });
    let f = riskmap_core::import::validate_proposal(collection, &feature, crs)?;
    let proposal = match f.record {
        riskmap_core::Record::ProtectionTarget(t) if !is_site => ProposedUse::Target(t),
        riskmap_core::Record::Enterprise(e) if is_site => ProposedUse::Site {
            units: e.units,
            installation: e
                .installation
                .unwrap_or(riskmap_core::model::Installation::New),
            name: e.name,
        },
        _ => return Err(fail("use", "does not match the record".into())),
    };
    Ok((proposal, f.geometry))
}

/// `POST /api/siting/check`: may this use go here? See [`parse_request`]
/// for the body, which is validated off the async threads like the check.
#[utoipa::path(post, path = "/api/siting/check", tag = "siting", request_body(description = "a proposal: geometry (GeoJSON), use or hazardous units with substances", content_type = "application/json", content = crate::openapi::Document), responses((status = 200, description = "may this use go here: the external safety distances (外部安全防护距离) and individual/societal risk at the proposal, with violations", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 413, description = "the body is larger than the limit", body = crate::openapi::Exception), (status = 415, description = "the body is not JSON (Content-Type)", body = crate::openapi::Exception), (status = 422, description = "the proposal is invalid or beyond a limit (vertices, units, substances); the answer names the field", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)))]
pub(crate) async fn check(
    State(state): State<AppState>,
    body: Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let out = state
        .app()
        .read_cancellable(Work::Analysis, move |w, cancel| {
            check_limits(&body.0).map_err(ApiError::Unprocessable)?;
            let (proposal, geometry) = parse_request(&body.0).map_err(ApiError::Invalid)?;
            // The client may leave while a large proposal is measured: stop
            // between sites rather than finish work nobody will read.
            let answer = check_proposal_until(
                &proposal,
                &geometry,
                &w.safety,
                &w.catalog,
                w.safety_config(),
                &|| cancel.is_cancelled(),
            )
            .map_err(|e| ApiError::BadRequest(format!("geometry cannot be projected: {e}")))?;
            answer
                .map(|answer| answer_json(&answer, &geometry))
                .ok_or_else(|| ApiError::Internal("the client left; the check was stopped".into()))
        })
        .await??;
    Ok(Json(out))
}

/// `GET /api/sites/{id}/report`: methods, scenarios, zones, contours, the
/// F–N curve and the violations of one site.
#[utoipa::path(get, path = "/api/sites/{id}/report", tag = "siting", params(("id" = String, Path, description = "an enterprise (site) id")), responses((status = 200, description = "methods, scenarios, zones, contours, the F–N curve and violations of the site", body = crate::openapi::Document), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such site", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security((), ("bearer" = [])))]
pub(crate) async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let account = crate::auth::caller(&state, &headers).await?;
    crate::auth::require_reader(
        &state,
        account.as_ref(),
        "this server shows site reports (inventories, scenarios) to logged-in users only \
         (--public-read limited)",
    )?;
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

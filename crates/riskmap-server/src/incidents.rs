//! Emergency command (应急指挥): incidents and their threat zones.
//!
//! - `POST /api/incidents/assess`: the zones of a release and who is inside,
//!   not stored (anyone may ask, like a siting check).
//! - `POST /api/incidents`: reports an incident (logged-in admin, regulator
//!   or inspector): stored with its request, answered with the zones.
//! - `GET /api/incidents[?status=open]`, `GET /api/incidents/{id}`: the
//!   register and one incident with its zones recomputed on the current
//!   world (so an edit to a target inside changes the counts).
//! - `PATCH /api/incidents/{id}`: the weather or release changes (wind,
//!   stability, temperature, release); the zones are recomputed, stored and
//!   pushed to every open map.
//! - `POST /api/incidents/{id}/close`.
//! - `GET /api/incidents/{id}/events`: Server-Sent Events, the zones now
//!   and after each change (`zones`), and `closed`; changes made on another
//!   server of the same store, and edits that change who is inside, arrive
//!   within two seconds.
//!
//! The work is [`riskmap_safety::command::assess_incident`]'s, on one world
//! snapshot off the async threads; request errors name their field.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::stream::Stream;
use geo::Geometry;
use riskmap_app::Work;
use riskmap_core::access::Role;
use riskmap_safety::command::{IncidentAnswer, IncidentError, IncidentRequest, assess_incident};
use riskmap_store::access::{StoredIncident, incident_entry};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::{AppState, IncidentEvent};

/// Largest incident request body (413 above).
pub const MAX_INCIDENT_BODY_BYTES: usize = 64 * 1024;

/// The incident routes.
pub fn routes() -> Router<AppState> {
    let limit = || axum::extract::DefaultBodyLimit::max(MAX_INCIDENT_BODY_BYTES);
    Router::new()
        .route("/api/incidents/assess", post(assess).layer(limit()))
        .route("/api/incidents", post(create).get(list).layer(limit()))
        .route("/api/incidents/{id}", get(one).patch(patch).layer(limit()))
        .route("/api/incidents/{id}/close", post(close))
        .route("/api/incidents/{id}/events", get(events))
}

fn geojson(g: &Geometry<f64>) -> Value {
    serde_json::to_value(geojson::Geometry::new(geojson::GeometryValue::from(g)))
        .unwrap_or(Value::Null)
}

/// The answer as JSON: the assessment, its `hazards` (model, scenario,
/// why, zones per hazard) and every threat zone as a GeoJSON feature
/// (`zones_geojson`): the toxic zones red to yellow, then the thermal, then
/// the overpressure zones, then the toxic wind-uncertainty areas, each with
/// its `hazard`, id `{kind}-{hazard}-{colour}` and who is inside (`inside`
/// has one entry per threat zone, in the same order).
pub fn answer_json(a: &IncidentAnswer) -> Value {
    let mut body = serde_json::to_value(a).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut body {
        m.remove("footprints");
        m.remove("uncertainty_areas");
    }
    struct Zone<'a> {
        hazard: &'a str,
        colour: &'a str,
        zone_name: &'a str,
        loc: &'a riskmap_safety::loc::Loc,
        reach: &'a riskmap_safety::Reach,
    }
    let feature = |kind: &str,
                   z: &Zone,
                   g: &geo::Polygon<f64>,
                   inside: Option<&riskmap_safety::command::Inside>| {
        json!({
            "type": "Feature",
            "id": format!("{kind}-{}-{}", z.hazard, z.colour),
            "geometry": if g.exterior().0.is_empty() { Value::Null } else { geojson(&Geometry::Polygon(g.clone())) },
            "properties": {
                "kind": kind,
                "hazard": z.hazard,
                "colour": z.colour,
                "zone_name": z.zone_name,
                "level": z.loc.value,
                "unit": z.loc.unit,
                "basis": z.loc.basis,
                "unconfirmed": z.loc.unconfirmed,
                "reach": z.reach,
                "population": inside.map_or(0, |i| i.population),
                "targets": inside.map_or(0, |i| i.targets.len()),
            },
        })
    };
    let toxic: Vec<Zone> = a
        .toxic
        .zones
        .iter()
        .map(|z| Zone {
            hazard: "toxic",
            colour: z.loc.colour,
            zone_name: &z.zone_name,
            loc: &z.loc,
            reach: &z.reach,
        })
        .collect();
    let fire: Vec<Zone> = a
        .fire
        .iter()
        .flat_map(|h| {
            h.zones.iter().map(|z| Zone {
                hazard: h.hazard,
                colour: z.loc.colour,
                zone_name: &z.zone_name,
                loc: &z.loc,
                reach: &z.reach,
            })
        })
        .collect();
    let zones: Vec<Value> = toxic
        .iter()
        .zip(&a.footprints)
        .chain(fire.iter().zip(&a.fire_footprints))
        .enumerate()
        .map(|(i, (z, g))| feature("threat_zone", z, g, a.inside.get(i)))
        .chain(
            toxic
                .iter()
                .zip(&a.uncertainty_areas)
                .enumerate()
                .map(|(i, (z, g))| feature("wind_uncertainty", z, g, a.inside.get(i))),
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

/// Runs the assessment of `req` on one snapshot.
async fn answer(state: &AppState, req: IncidentRequest) -> Result<Value, ApiError> {
    let roads = state.roads();
    state
        .read(Work::Analysis, move |w| {
            assess_incident(&req, &w.catalog, roads.as_deref())
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
        .await?
}

/// `POST /api/incidents/assess`: the threat zones of a release and who is
/// inside, not stored.
#[utoipa::path(post, path = "/api/incidents/assess", tag = "incidents", request_body(description = "an incident request: location, substance, release, weather (GeoJSON point and fields)", content_type = "application/json", content = crate::openapi::Document), responses((status = 200, description = "threat zones of the release and who is inside (not stored)", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 413, description = "the body is larger than the limit", body = crate::openapi::Exception), (status = 415, description = "the body is not JSON (Content-Type)", body = crate::openapi::Exception), (status = 422, description = "a field of the request is invalid; the answer names it", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)))]
pub(crate) async fn assess(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let req = parse(&body)?;
    Ok(Json(answer(&state, req).await?))
}

fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}

/// The caller, who must be an admin, a regulator or an inspector (指挥、
/// 监管、网格员): 401 anonymous, 403 otherwise naming the right.
async fn commander(
    state: &AppState,
    headers: &HeaderMap,
    right: &str,
) -> Result<riskmap_core::access::Account, ApiError> {
    let by = crate::auth::authorize(state, headers).await?;
    match by.account.role {
        Role::Admin | Role::Regulator | Role::Inspector => Ok(by.account),
        other => Err(ApiError::Forbidden(format!(
            "{} {:?} lacks the right to {right}: admins, regulators and inspectors only",
            other.as_str(),
            by.account.name
        ))),
    }
}

fn with_record(mut answer: Value, inc: &StoredIncident) -> Value {
    answer["incident"] = serde_json::to_value(inc).unwrap_or(Value::Null);
    answer
}

/// `POST /api/incidents`: reports and stores an incident; answers with its
/// zones (201).
#[utoipa::path(post, path = "/api/incidents", tag = "incidents", request_body(description = "an incident request: location, substance, release, weather", content_type = "application/json", content = crate::openapi::Document), responses((status = 201, description = "stored, with its zones", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 413, description = "the body is larger than the limit", body = crate::openapi::Exception), (status = 415, description = "the body is not JSON (Content-Type)", body = crate::openapi::Exception), (status = 422, description = "a field of the request is invalid; the answer names it", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    let account = commander(&state, &headers, "report incidents").await?;
    let req = parse(&body)?;
    let request = serde_json::to_value(&req).unwrap_or(Value::Null);
    let out = answer(&state, req).await?;
    let at = now();
    let suffix: String = crate::auth::new_token()
        .map_err(ApiError::Internal)?
        .chars()
        .rev()
        .take(6)
        .collect();
    let stamp: String = at.chars().filter(char::is_ascii_digit).take(14).collect();
    let inc = StoredIncident {
        id: format!("inc-{stamp}-{suffix}"),
        status: "open".into(),
        request,
        created_at: at.clone(),
        created_by: account.name.clone(),
        updated_at: at.clone(),
        closed_at: None,
        revision: 1,
    };
    state
        .app()
        .store()
        .put_incident(
            &inc,
            &incident_entry(&at, &account.name, "incident:create", None, &inc),
        )
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(with_record(out, &inc)),
    ))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    /// `open` or `closed`; without it, every incident.
    status: Option<String>,
}

/// `GET /api/incidents[?status=open|closed]`: the register, newest first.
#[utoipa::path(get, path = "/api/incidents", tag = "incidents", params(ListQuery), responses((status = 200, description = "the incident register, newest first", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception)), security((), ("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    if let Some(s) = q.status.as_deref()
        && s != "open"
        && s != "closed"
    {
        return Err(ApiError::BadRequest(format!(
            "status: unknown value {s:?}; expected open or closed"
        )));
    }
    let all = state.app().store().incidents().await?;
    let items: Vec<&StoredIncident> = all
        .iter()
        .filter(|i| q.status.as_deref().is_none_or(|s| i.status == s))
        .collect();
    Ok(Json(json!({"incidents": items, "count": items.len()})))
}

async fn stored(state: &AppState, id: &str) -> Result<StoredIncident, ApiError> {
    state
        .app()
        .store()
        .incident(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no incident {id:?}")))
}

fn request_of(inc: &StoredIncident) -> Result<IncidentRequest, ApiError> {
    serde_json::from_value(inc.request.clone())
        .map_err(|e| ApiError::Internal(format!("incident {}: stored request: {e}", inc.id)))
}

/// `GET /api/incidents/{id}`: the incident and its zones on the current
/// world.
#[utoipa::path(get, path = "/api/incidents/{id}", operation_id = "incident", tag = "incidents", params(("id" = String, Path, description = "an incident id")), responses((status = 200, description = "the incident and its zones on the current world", body = crate::openapi::Document), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such incident", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security((), ("bearer" = [])))]
pub(crate) async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let inc = stored(&state, &id).await?;
    let out = answer(&state, request_of(&inc)?).await?;
    Ok(Json(with_record(out, &inc)))
}

/// The fields a `PATCH` may change.
const PATCHABLE: [&str; 8] = [
    "wind_from_deg",
    "wind_speed_m_s",
    "stability",
    "time_of_day",
    "cloud_cover_oktas",
    "ambient_temperature_c",
    "terrain",
    "release",
];

/// `PATCH /api/incidents/{id}`: new weather or release; the zones are
/// recomputed, stored and pushed to open maps.
#[utoipa::path(patch, path = "/api/incidents/{id}", tag = "incidents", params(("id" = String, Path, description = "an incident id")), request_body(description = "the fields to change: wind_from_deg, wind_speed_m_s, stability, time_of_day, cloud_cover_oktas, ambient_temperature_c, terrain, release", content_type = "application/json", content = crate::openapi::Document), responses((status = 200, description = "the incident with its recomputed zones", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such incident", body = crate::openapi::Exception), (status = 409, description = "the incident is closed", body = crate::openapi::Exception), (status = 413, description = "the body is larger than the limit", body = crate::openapi::Exception), (status = 422, description = "a field of the change is invalid; the answer names it", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn patch(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let account = commander(&state, &headers, "change incidents").await?;
    let changes: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("incident change: not JSON: {e}")))?;
    let Some(changes) = changes.as_object() else {
        return Err(ApiError::BadRequest(
            "incident change: expected a JSON object of the fields to change".into(),
        ));
    };
    if let Some(k) = changes.keys().find(|k| !PATCHABLE.contains(&k.as_str())) {
        return Err(ApiError::BadRequest(format!(
            "incident change, field `{k}`: not changeable; a change may set {}",
            PATCHABLE.join(", ")
        )));
    }
    let before = stored(&state, &id).await?;
    if before.status != "open" {
        return Err(ApiError::Conflict(format!(
            "incident {id} is {}: a closed incident is not changed",
            before.status
        )));
    }
    let mut request = before.request.clone();
    for (k, v) in changes {
        request[k] = v.clone();
    }
    let req = parse(request.to_string().as_bytes())?;
    let out = answer(&state, req).await?;
    let at = now();
    let mut inc = before.clone();
    inc.request = request;
    inc.updated_at = at.clone();
    inc.revision += 1;
    state
        .app()
        .store()
        .put_incident(
            &inc,
            &incident_entry(&at, &account.name, "incident:update", Some(&before), &inc),
        )
        .await?;
    let out = with_record(out, &inc);
    // Nobody listening is not an error.
    let _ = state.incident_events().send(IncidentEvent {
        id: id.clone(),
        revision: inc.revision,
        kind: "zones",
        data: Arc::from(out.to_string()),
    });
    Ok(Json(out))
}

/// `POST /api/incidents/{id}/close`.
#[utoipa::path(post, path = "/api/incidents/{id}/close", tag = "incidents", params(("id" = String, Path, description = "an incident id")), responses((status = 200, description = "the closed incident", body = crate::openapi::Document), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such incident", body = crate::openapi::Exception), (status = 409, description = "the incident is closed already", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn close(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let account = commander(&state, &headers, "close incidents").await?;
    let before = stored(&state, &id).await?;
    if before.status != "open" {
        return Err(ApiError::Conflict(format!(
            "incident {id} is already {}",
            before.status
        )));
    }
    let at = now();
    let mut inc = before.clone();
    inc.status = "closed".into();
    inc.closed_at = Some(at.clone());
    inc.updated_at = at.clone();
    inc.revision += 1;
    state
        .app()
        .store()
        .put_incident(
            &inc,
            &incident_entry(&at, &account.name, "incident:close", Some(&before), &inc),
        )
        .await?;
    let body = json!({"incident": inc});
    let _ = state.incident_events().send(IncidentEvent {
        id: id.clone(),
        revision: inc.revision,
        kind: "closed",
        data: Arc::from(body.to_string()),
    });
    Ok(Json(body))
}

/// How often an open event stream looks for changes this process did not
/// push: a `PATCH` or close made on another server of the same store, or an
/// edit that changes who is inside (a new world version).
const EVENT_POLL: std::time::Duration = std::time::Duration::from_secs(2);

/// What an event stream knows it has sent.
struct Follow {
    state: AppState,
    id: String,
    rx: tokio::sync::broadcast::Receiver<IncidentEvent>,
    first: Option<Event>,
    done: bool,
    revision: u64,
    world: u64,
    /// The last answer sent, without the record: a re-computation that
    /// gives the same is not sent again.
    sent: String,
    tick: tokio::time::Interval,
}

fn answer_text(answer: &Value) -> String {
    let mut a = answer.clone();
    if let Value::Object(m) = &mut a {
        m.remove("incident");
    }
    a.to_string()
}

fn world_version(state: &AppState) -> u64 {
    state.app().world().map_or(0, |w| w.version())
}

impl Follow {
    /// The next event: this process's pushes at once; on each poll, the
    /// stored incident (a newer revision or a close from elsewhere) and the
    /// world (an edit that changes the answer).
    async fn next(&mut self) -> Option<Event> {
        if let Some(ev) = self.first.take() {
            return Some(ev);
        }
        if self.done {
            return None;
        }
        loop {
            tokio::select! {
                got = self.rx.recv() => match got {
                    Ok(e) if e.id == self.id => {
                        self.done = e.kind == "closed";
                        self.revision = self.revision.max(e.revision);
                        if let Ok(v) = serde_json::from_str::<Value>(&e.data) {
                            self.sent = answer_text(&v);
                        }
                        return Some(Event::default().event(e.kind).data(&*e.data));
                    }
                    Ok(_) => {}
                    // Missed events: say so; the client re-reads the incident.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        return Some(Event::default().event("lagged").data(n.to_string()));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.tick.tick() => {
                    if let Some(ev) = self.poll().await {
                        return Some(ev);
                    }
                }
            }
        }
    }

    async fn poll(&mut self) -> Option<Event> {
        let inc = stored(&self.state, &self.id).await.ok()?;
        if inc.status != "open" {
            self.done = true;
            return Some(
                Event::default()
                    .event("closed")
                    .data(json!({"incident": inc}).to_string()),
            );
        }
        let world = world_version(&self.state);
        if inc.revision == self.revision && world == self.world {
            return None;
        }
        let req = request_of(&inc).ok()?;
        let out = answer(&self.state, req).await.ok()?;
        self.world = world;
        self.revision = inc.revision;
        let text = answer_text(&out);
        if text == self.sent {
            return None;
        }
        self.sent = text;
        Some(
            Event::default()
                .event("zones")
                .data(with_record(out, &inc).to_string()),
        )
    }
}

/// `GET /api/incidents/{id}/events`: Server-Sent Events. The first event
/// is the zones now; then one per change (`zones`) until `closed`: a
/// change made here at once, one made on another server of the same store
/// or an edit that changes the zones' counts within [`EVENT_POLL`].
#[utoipa::path(get, path = "/api/incidents/{id}/events", tag = "incidents", params(("id" = String, Path, description = "an incident id")), responses((status = 200, description = "Server-Sent Events: the zones now, then one event per change until closed", content_type = "text/event-stream"), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such incident", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security((), ("bearer" = [])))]
pub(crate) async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribe before reading, so that no change falls in between.
    let rx = state.incident_events().subscribe();
    let world = world_version(&state);
    let inc = stored(&state, &id).await?;
    let (first, sent) = if inc.status == "open" {
        let out = answer(&state, request_of(&inc)?).await?;
        let sent = answer_text(&out);
        (
            Event::default()
                .event("zones")
                .data(with_record(out, &inc).to_string()),
            sent,
        )
    } else {
        (
            Event::default()
                .event("closed")
                .data(json!({"incident": inc}).to_string()),
            String::new(),
        )
    };
    let mut tick = tokio::time::interval(EVENT_POLL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.reset();
    let follow = Follow {
        state,
        id,
        rx,
        first: Some(first),
        done: false,
        revision: inc.revision,
        world,
        sent,
        tick,
    };
    let stream = futures_util::stream::unfold(follow, |mut f| async move {
        f.next().await.map(|ev| (Ok(ev), f))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

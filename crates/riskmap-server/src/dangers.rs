//! 隐患排查治理 over HTTP: the lifecycle of a hidden danger.
//!
//! - `POST /api/hidden-dangers/{id}/transitions` with `{"action": "verify",
//!   "note": …, "evidence": …, "listing_level": "city"}` moves a danger by
//!   one step of the lifecycle (`data/rules/hidden-dangers.toml`) and
//!   appends the step to its history; an illegal step is 409 naming the
//!   current state and the allowed next ones.
//! - `GET /api/hidden-dangers/{id}`: the danger with its state names, the
//!   moves allowed now and whether it is overdue.
//! - `GET /api/hidden-dangers/lifecycle`: the states, moves and 判定标准 items.
//!
//! A new danger (`POST /collections/hidden_dangers/items`) starts as
//! `reported` with its first history event written here; a `PUT` keeps the
//! stored status and history, which only transitions change.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use riskmap_core::access::{Account, check_write, permitted_transitions};
use riskmap_core::dangers::{
    DangerEvent, DangerRules, FIRST_STATE, HiddenDanger, ListingLevel, is_overdue,
};
use riskmap_core::{Catalog, Collection, Feature, Record};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;
use riskmap_app::Work;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/hidden-dangers/lifecycle", get(lifecycle))
        .route("/api/hidden-dangers/{id}", get(one))
        .route("/api/hidden-dangers/{id}/transitions", post(transition))
        .route("/api/stats/hidden-dangers", get(stats))
        .route("/api/enterprises/{id}/dossier", get(dossier))
}

/// The 重大危险源 registration record of an enterprise (登记建档, 国家安监总局令
/// 第40号), from its `major_hazard_registration` property when recorded:
/// 登记/备案 dates, the last safety assessment and the next one due three
/// years later (Art. 21 re-assessment), the three 包保责任人 and the
/// responsible regulator.
fn registration(e: &riskmap_core::model::Enterprise, today: &str) -> Value {
    let Some(r) = &e.major_hazard_registration else {
        return json!({"recorded": false,
            "note": "no major_hazard_registration recorded for this enterprise (登记/备案 dates, last assessment, 包保责任人, regulator)"});
    };
    let next_due = r.last_assessment.as_deref().and_then(|d| {
        let date = jiff::civil::Date::strptime("%Y-%m-%d", d).ok()?;
        date.checked_add(jiff::Span::new().years(3))
            .ok()
            .map(|d| d.to_string())
    });
    json!({
        "recorded": true,
        "registered": r.registered,
        "filed": r.filed,
        "last_assessment": r.last_assessment,
        "next_assessment_due": next_due,
        "assessment_overdue": next_due.as_deref().is_some_and(|d| d < today),
        "rule": "重大危险源安全评估每三年一次 (国家安监总局令第40号; hidden-dangers.md §5.1, secondary source)",
        "guarantors": {
            "principal": r.principal,
            "technical": r.technical,
            "operational": r.operational,
        },
        "regulator": r.regulator,
    })
}

/// `GET /api/enterprises/{id}/dossier` (一企一档): registration data, units
/// with their GB 18218 grades, the 重大危险源 registration record, the
/// four-colour level with its explanation, the external-safety-distance
/// report and violations, the hidden dangers (open first) with their
/// histories, and the accidents, all from one snapshot.
#[utoipa::path(get, path = "/api/enterprises/{id}/dossier", tag = "hidden dangers", params(("id" = String, Path, description = "an enterprise id")), responses((status = 200, description = "一企一档: registration, units with GB 18218 grades, level and explanation, distances and violations, hidden dangers, accidents", body = crate::openapi::Document), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such enterprise", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security((), ("bearer" = [])))]
pub(crate) async fn dossier(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let account = crate::auth::caller(&state, &headers).await?;
    crate::auth::require_reader(
        &state,
        account.as_ref(),
        "this server shows dossiers (一企一档) to logged-in users only (--public-read limited)",
    )?;
    let out = state
        .read(Work::Analysis, move |w| {
            let f = w
                .catalog
                .get(Collection::Enterprises, &id)
                .ok_or_else(|| ApiError::NotFound(format!("no enterprise {id:?}")))?;
            let Record::Enterprise(e) = &f.record else {
                return Err(ApiError::NotFound(format!("no enterprise {id:?}")));
            };
            let today = w.today().to_string();
            let rules = DangerRules::builtin();
            let mut dangers: Vec<(&Feature, &HiddenDanger)> = w
                .catalog
                .iter(Collection::HiddenDangers)
                .filter_map(|d| Some((&**d, danger(d)?)))
                .filter(|(_, h)| h.enterprise_id.as_deref() == Some(id.as_str()))
                .collect();
            dangers.sort_by(|a, b| {
                (!rules.is_open(&a.1.status), std::cmp::Reverse(&a.1.found_date), &a.0.id)
                    .cmp(&(!rules.is_open(&b.1.status), std::cmp::Reverse(&b.1.found_date), &b.0.id))
            });
            let safety = w.safety.sites.get(&id).map(crate::siting::report_json);
            Ok::<_, ApiError>(json!({
                "id": id,
                "today": today,
                "world_version": w.version(),
                "enterprise": e,
                "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&f.geometry)),
                "major_hazard_registration": registration(e, &today),
                "risk": crate::api::explanation(w, "enterprises", &id).ok(),
                "external_safety": safety,
                "hidden_dangers": dangers.iter().map(|(f, h)| describe(f, h, &today)).collect::<Vec<_>>(),
                "hidden_danger_counts": {
                    "total": dangers.len(),
                    "open": dangers.iter().filter(|(_, h)| rules.is_open(&h.status)).count(),
                    "open_major": dangers.iter().filter(|(_, h)| rules.is_open(&h.status) && h.level == riskmap_core::dangers::DangerLevel::Major).count(),
                    "overdue": dangers.iter().filter(|(_, h)| is_overdue(rules, &h.status, h.deadline.as_deref(), &today)).count(),
                },
                "accidents": e.accidents,
            }))
        })
        .await??;
    Ok(Json(out))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct StatsQuery {
    /// Group by `district`, `industry`, `level`, `status`, `source` or `month`.
    group_by: Option<String>,
    /// Only hidden dangers found on or after this day, `YYYY-MM-DD`.
    from: Option<String>,
    /// Only hidden dangers found on or before this day, `YYYY-MM-DD`.
    to: Option<String>,
    /// Only this level: `general` (一般隐患) or `major` (重大隐患).
    level: Option<String>,
    /// Only this lifecycle state.
    status: Option<String>,
}

/// `GET /api/stats/hidden-dangers?group_by=district|industry|level|status|source|month
/// [&from=YYYY-MM-DD&to=YYYY-MM-DD&level=general|major&status=…]`: per group
/// the dangers found, 重大 among them, open, overdue, closed, rejected, the
/// 整改率 (closed ÷ (found − rejected)) and the median days to close; the
/// totals last.
#[utoipa::path(get, path = "/api/stats/hidden-dangers", operation_id = "hidden_danger_stats", tag = "hidden dangers", params(StatsQuery), responses((status = 200, description = "counts per group", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)))]
pub(crate) async fn stats(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<StatsQuery>,
) -> Result<Json<Value>, ApiError> {
    use riskmap_core::dangers::{DangerFilter, DangerGroup, DangerLevel, danger_stats};
    let name = q.group_by.clone().unwrap_or_else(|| "district".to_string());
    let group = DangerGroup::ALL
        .iter()
        .find(|(n, _)| *n == name.as_str())
        .map(|(_, g)| *g)
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "group_by must be one of {}, got {name:?}",
                DangerGroup::ALL.map(|(n, _)| n).join(", ")
            ))
        })?;
    for (field, d) in [("from", &q.from), ("to", &q.to)] {
        if let Some(d) = d
            && (d.len() != 10 || jiff::civil::Date::strptime("%Y-%m-%d", d).is_err())
        {
            return Err(ApiError::BadRequest(format!(
                "{field} must be a date YYYY-MM-DD, got {d:?}"
            )));
        }
    }
    let level = match q.level.as_deref() {
        None => None,
        Some("general") => Some(DangerLevel::General),
        Some("major") => Some(DangerLevel::Major),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "level must be general or major, got {other:?}"
            )));
        }
    };
    let rules = DangerRules::builtin();
    if let Some(s) = &q.status
        && rules.state(s).is_none()
    {
        return Err(ApiError::BadRequest(format!("unknown status {s:?}")));
    }
    let filter = DangerFilter {
        from: q.from,
        to: q.to,
        level,
        status: q.status,
    };
    let out = state
        .read(Work::Analysis, move |w| {
            let today = w.today().to_string();
            let rows = danger_stats(
                w.catalog.iter(Collection::HiddenDangers).filter_map(|f| danger(f)),
                group,
                &filter,
                &today,
                rules,
            );
            json!({
                "group_by": name,
                "today": today,
                "definitions": {
                    "rectification_rate": "整改率 = closed ÷ (found − rejected), for the dangers found in the filter's period",
                    "overdue": "open (not closed or rejected) with a rectification deadline before today",
                    "median_days_to_close": "median of days from found_date to the closing step, over the closed dangers",
                },
                "groups": &rows[..rows.len().saturating_sub(1)],
                "total": rows.last(),
            })
        })
        .await?;
    Ok(Json(out))
}

/// Now, RFC 3339 in UTC to the second.
pub(crate) fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}

fn danger(f: &Feature) -> Option<&HiddenDanger> {
    match &f.record {
        Record::HiddenDanger(h) => Some(h),
        _ => None,
    }
}

/// Fills what a new or replaced danger takes from its enterprise: the
/// location (the site's centre) when the body has no geometry, and the
/// district and industry when not given. Works on the request JSON, before
/// validation, so that a danger may be posted with an enterprise alone.
pub(crate) fn fill_from_enterprises(value: &mut Value, catalog: &Catalog) {
    let features: Vec<&mut Value> = match value.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => match value.get_mut("features") {
            Some(Value::Array(a)) => a.iter_mut().collect(),
            _ => Vec::new(),
        },
        _ => vec![value],
    };
    for f in features {
        let Some(eid) = f
            .pointer("/properties/enterprise_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            continue;
        };
        let Some(ent) = catalog.get(Collection::Enterprises, &eid) else {
            continue;
        };
        if f.get("geometry").is_none_or(Value::is_null) {
            use geo::Centroid;
            if let Some(c) = ent.geometry.centroid() {
                f["geometry"] = json!({"type": "Point", "coordinates": [c.x(), c.y()]});
            }
        }
        if let (Record::Enterprise(e), Some(Value::Object(props))) =
            (&ent.record, f.get_mut("properties"))
        {
            for (k, v) in [
                ("district_code", &e.district_code),
                ("industry", &e.industry),
            ] {
                if let Some(v) = v
                    && props.get(k).is_none_or(Value::is_null)
                {
                    props.insert(k.to_string(), json!(v));
                }
            }
        }
    }
}

/// A new danger starts as `reported`, its history one event by `actor`;
/// a status or history in the body is refused (transitions change them).
pub(crate) fn start_lifecycle(features: &mut [Feature], actor: &str) -> Result<(), ApiError> {
    let at = now();
    for f in features {
        let id = f.id.clone();
        let Record::HiddenDanger(h) = &mut f.record else {
            continue;
        };
        if h.status != FIRST_STATE || !h.history.is_empty() || h.listing_level.is_some() {
            return Err(ApiError::Unprocessable(format!(
                "hidden_dangers/{id}: field status: a new danger starts as {FIRST_STATE:?} with no history or listing level; \
                 later states are reached through POST /api/hidden-dangers/{id}/transitions"
            )));
        }
        h.history.push(DangerEvent {
            action: "report".into(),
            from: None,
            to: FIRST_STATE.into(),
            actor: actor.to_string(),
            at: at.clone(),
            note: None,
            evidence: None,
            listing_level: None,
        });
    }
    Ok(())
}

/// A replaced danger keeps its stored status, listing level and history: a
/// body that gives others is refused (409). With nothing stored it starts
/// like a new one.
pub(crate) fn keep_lifecycle(
    new: &mut Feature,
    old: Option<&Feature>,
    actor: &str,
) -> Result<(), ApiError> {
    let id = new.id.clone();
    let Record::HiddenDanger(h) = &mut new.record else {
        return Ok(());
    };
    let Some(old) = old.and_then(danger) else {
        return start_lifecycle(std::slice::from_mut(new), actor);
    };
    let given_default = h.status == FIRST_STATE && h.history.is_empty();
    if !given_default
        && (h.status != old.status || (!h.history.is_empty() && h.history != old.history))
    {
        return Err(ApiError::Conflict(format!(
            "hidden_dangers/{id}: field status: it is {:?} and changes only through POST /api/hidden-dangers/{id}/transitions; \
             a PUT keeps the status and history",
            old.status
        )));
    }
    h.status = old.status.clone();
    h.history = old.history.clone();
    h.listing_level = old.listing_level;
    Ok(())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransitionBody {
    action: String,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    listing_level: Option<ListingLevel>,
}

fn describe(f: &Feature, h: &HiddenDanger, today: &str) -> Value {
    let rules = DangerRules::builtin();
    let state = rules.state(&h.status);
    json!({
        "id": f.id,
        "status": h.status,
        "status_zh": state.map(|s| s.zh.as_str()),
        "status_en": state.map(|s| s.en.as_str()),
        "open": rules.is_open(&h.status),
        "overdue": is_overdue(rules, &h.status, h.deadline.as_deref(), today),
        "today": today,
        "level": h.level.as_str(),
        "level_zh": h.level.zh(),
        "rule_item": h.rule_item.as_deref().and_then(|i| rules.item(i)),
        "allowed": rules.allowed(&h.status, h.level),
        "danger": h,
        "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&f.geometry)),
    })
}

/// What `account` may do with a danger now: `allowed_transitions` (the
/// lifecycle's next steps its role and scope permit) and `editable`
/// (whether it may change the record itself).
fn rights_on(
    out: &mut Value,
    f: &Feature,
    h: &HiddenDanger,
    account: Option<&Account>,
    catalog: &Catalog,
) {
    let (actions, editable) = match account {
        Some(a) => {
            let allowed = DangerRules::builtin().allowed(&h.status, h.level);
            let actions: Vec<&str> = permitted_transitions(a, f, allowed, catalog)
                .into_iter()
                .map(|t| t.action.as_str())
                .collect();
            let editable =
                check_write(a, Collection::HiddenDangers, Some(f), Some(f), catalog).is_ok();
            (actions, editable)
        }
        None => (Vec::new(), false),
    };
    out["allowed_transitions"] = json!(actions);
    out["editable"] = json!(editable);
}

/// `GET /api/hidden-dangers/{id}`: with a bearer token, also what the
/// caller may do with it.
#[utoipa::path(get, path = "/api/hidden-dangers/{id}", operation_id = "hidden_danger", tag = "hidden dangers", params(("id" = String, Path, description = "a hidden danger id")), responses((status = 200, description = "the hidden danger, its history and, with a token, what the caller may do", body = crate::openapi::Document), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 404, description = "no such hidden danger", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security((), ("bearer" = [])))]
pub(crate) async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let account = crate::auth::caller(&state, &headers).await?;
    let limited = state.limited(account.as_ref());
    let out = state
        .read(Work::Analysis, move |w| {
            let f = w
                .catalog
                .get(Collection::HiddenDangers, &id)
                .ok_or_else(|| ApiError::NotFound(format!("no hidden danger {id:?}")))?;
            let h =
                danger(f).ok_or_else(|| ApiError::NotFound(format!("no hidden danger {id:?}")))?;
            let mut out = describe(f, h, w.today());
            rights_on(&mut out, f, h, account.as_ref(), &w.catalog);
            if limited {
                crate::auth::redact_danger(&mut out["danger"]);
            }
            Ok::<_, ApiError>(out)
        })
        .await??;
    Ok(Json(out))
}

/// `GET /api/hidden-dangers/lifecycle`.
#[utoipa::path(get, path = "/api/hidden-dangers/lifecycle", tag = "hidden dangers", responses((status = 200, description = "states, transitions and checklist items of the hidden-danger lifecycle (隐患排查治理闭环)", body = crate::openapi::Document)))]
pub(crate) async fn lifecycle() -> Json<Value> {
    let r = DangerRules::builtin();
    Json(json!({
        "states": r.state.iter().map(|s| json!({"id": s.id, "zh": s.zh, "en": s.en, "open": s.open})).collect::<Vec<_>>(),
        "transitions": r.transition,
        "items": r.item,
        "source": r.about.source,
    }))
}

/// `POST /api/hidden-dangers/{id}/transitions`.
#[utoipa::path(post, path = "/api/hidden-dangers/{id}/transitions", tag = "hidden dangers", params(("id" = String, Path, description = "a hidden danger id")), request_body(description = "action, note, evidence, listing_level (挂牌督办级别)", content_type = "application/json", content = TransitionBody), responses((status = 200, description = "the hidden danger after the transition", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 403, description = "the account lacks the right; the answer names it", body = crate::openapi::Exception), (status = 404, description = "no such hidden danger", body = crate::openapi::Exception), (status = 409, description = "the transition is not allowed from the current state", body = crate::openapi::Exception), (status = 413, description = "the body is larger than the limit", body = crate::openapi::Exception), (status = 422, description = "the transition lacks what it needs (evidence, note…); the answer names it", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security(("bearer" = [])))]
pub(crate) async fn transition(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    let by = crate::auth::authorize(&state, &headers).await?;
    let actor = by.account.name.clone();
    let bytes = crate::ogc::body_bytes(body).await?;
    let body: TransitionBody = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::BadRequest(format!(
            "a transition is {{\"action\": …, \"note\": …, \"evidence\": …, \"listing_level\": …}}: {e}"
        ))
    })?;
    let at = now();
    let by_step = by.clone().doing(format!("transition:{}", body.action));
    let (feature, _) = state
        .app()
        .modify(Collection::HiddenDangers, &id, &by_step, |old, world| {
            let mut f = old.clone();
            let Record::HiddenDanger(h) = &mut f.record else {
                return Err(riskmap_app::AppError::NotFound(format!(
                    "no hidden danger {id:?}"
                )));
            };
            let rules = DangerRules::builtin();
            let t = rules
                .transition(&h.status, h.level, &body.action, body.listing_level)
                .map_err(|e| {
                    riskmap_app::AppError::Conflict(format!("hidden_dangers/{id}: {e}"))
                })?;
            riskmap_core::access::check_transition(&by.account, old, t, &world.catalog)
                .map_err(|d| riskmap_app::AppError::Forbidden(d.0))?;
            h.history.push(DangerEvent {
                action: t.action.clone(),
                from: Some(h.status.clone()),
                to: t.to.clone(),
                actor: actor.clone(),
                at: at.clone(),
                note: body.note.clone(),
                evidence: body.evidence.clone(),
                listing_level: body.listing_level,
            });
            h.status = t.to.clone();
            if body.listing_level.is_some() {
                h.listing_level = body.listing_level;
            }
            Ok(f)
        })
        .await?;
    let world = state.world()?;
    let h =
        danger(&feature).ok_or_else(|| ApiError::NotFound(format!("no hidden danger {id:?}")))?;
    let mut out = describe(&feature, h, world.today());
    rights_on(&mut out, &feature, h, Some(&by.account), &world.catalog);
    Ok(Json(out))
}

//! `GET /api/changes?since=YYYY-MM-DD[&until=YYYY-MM-DD][&bbox=…]`: what
//! changed since a date (变化情况), from the kept history.
//!
//! - `levels`: risk levels that changed (enterprises, parks, pipelines,
//!   pipeline segments, districts, grid cells), old → new, with the reason
//!   (the new assessment's deciding factors) and the cause (the write, or
//!   the day's rollover), from the store's history of derived changes;
//! - `violations.new` / `violations.cleared`: protection targets that came
//!   inside, or left, a zone of a site (外部安全防护距离), same history;
//! - `dangers.opened` / `dangers.closed`: hidden dangers (事故隐患) that
//!   became open (reported, reopened) or left the open states (closed,
//!   rejected), from the audit log;
//! - `edits`: every write of a feature collection in the window, from the
//!   audit log.
//!
//! Dates are days in China time (UTC+8): `since` from its 00:00, `until`
//! (default today) to its end. `bbox` (`minlon,minlat,maxlon,maxlat`,
//! WGS84) keeps the items whose old or new geometry's box meets it; a
//! whole-file import names no feature and is left out then.
//!
//! Who made a change (`actor`) is shown to admins, regulators and
//! inspectors (网格员) only: the audit log itself is admin-only, and
//! enterprise accounts, viewers and anonymous readers get no account names.

use std::collections::HashSet;

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use geo::Rect;
use riskmap_app::Work;
use riskmap_core::Collection;
use riskmap_core::access::Role;
use riskmap_core::dangers::DangerRules;
use riskmap_store::history::{kind, time_bound};
use riskmap_store::{AuditQuery, AuditRow, DerivedQuery, DerivedRow};
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::state::AppState;

/// Rows read from each log per request, at most; past it the answer says
/// `truncated` (ask for a shorter window or a box).
pub const MAX_ROWS: usize = 20_000;

/// The longest window, in days.
pub const MAX_DAYS: i64 = 366;

/// Rows per store page.
const PAGE: usize = 1000;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/api/changes", get(changes))
}

/// The query parameters [`parse_window`] accepts, for the OpenAPI document.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // the OpenAPI description of what `parse_window` accepts
pub(crate) struct ChangesQuery {
    /// The first day, `YYYY-MM-DD` in China time (required).
    since: String,
    /// The last day, `YYYY-MM-DD` (default today); at most the window limit after `since`.
    until: Option<String>,
    /// Only features meeting `minlon,minlat,maxlon,maxlat` (WGS84).
    bbox: Option<String>,
}

/// The parsed query.
#[derive(Debug, Clone)]
struct Window {
    since: jiff::civil::Date,
    until: jiff::civil::Date,
    bbox: Option<Rect<f64>>,
}

fn parse_date(name: &str, raw: &str) -> Result<jiff::civil::Date, ApiError> {
    let bad = || {
        ApiError::BadRequest(format!(
            "{name}: expected a date YYYY-MM-DD (China time), got {raw:?}"
        ))
    };
    if raw.len() != 10 {
        return Err(bad());
    }
    raw.parse::<jiff::civil::Date>().map_err(|_| bad())
}

fn parse_bbox(raw: &str) -> Result<Rect<f64>, ApiError> {
    let bad = |why: &str| {
        ApiError::BadRequest(format!(
            "bbox: expected minlon,minlat,maxlon,maxlat (WGS84) {why}, got {raw:?}"
        ))
    };
    let nums: Vec<f64> = raw
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| bad("as four numbers"))?;
    let [x0, y0, x1, y1] = nums[..] else {
        return Err(bad("as four numbers"));
    };
    let lon_ok = |x: f64| (-180.0..=180.0).contains(&x);
    let lat_ok = |y: f64| (-90.0..=90.0).contains(&y);
    if !(lon_ok(x0) && lon_ok(x1) && lat_ok(y0) && lat_ok(y1)) {
        return Err(bad("within ±180 and ±90"));
    }
    if x0 > x1 || y0 > y1 {
        return Err(bad("with min ≤ max"));
    }
    Ok(Rect::new((x0, y0), (x1, y1)))
}

fn parse_window(params: &[(String, String)], today: &str) -> Result<Window, ApiError> {
    let mut seen = HashSet::new();
    let (mut since, mut until, mut bbox) = (None, None, None);
    for (k, v) in params {
        if !seen.insert(k.as_str()) {
            return Err(ApiError::BadRequest(format!("{k}: given more than once")));
        }
        match k.as_str() {
            "since" => since = Some(parse_date("since", v)?),
            "until" => until = Some(parse_date("until", v)?),
            "bbox" => bbox = Some(parse_bbox(v)?),
            other => {
                return Err(ApiError::BadRequest(format!(
                    "{other}: unknown parameter; /api/changes takes since, until and bbox"
                )));
            }
        }
    }
    let since = since.ok_or_else(|| {
        ApiError::BadRequest("since: required, a date YYYY-MM-DD (China time)".into())
    })?;
    let until = match until {
        Some(u) => u,
        None => parse_date("until", today)?,
    };
    if until < since {
        return Err(ApiError::BadRequest(format!(
            "until: {until} is before since {since}"
        )));
    }
    let days = since
        .until(until)
        .map(|s| i64::from(s.get_days()))
        .unwrap_or(i64::MAX);
    if days >= MAX_DAYS {
        return Err(ApiError::BadRequest(format!(
            "until: the window from {since} to {until} is longer than {MAX_DAYS} days"
        )));
    }
    Ok(Window { since, until, bbox })
}

/// The UTC bound of 00:00 China time (UTC+8) on `day`, as the store
/// compares it ([`time_bound`]).
fn china_midnight(day: jiff::civil::Date) -> Result<String, ApiError> {
    // 00:00 at UTC+8 is 16:00 UTC the day before.
    let before = day
        .yesterday()
        .map_err(|e| ApiError::BadRequest(format!("since: {e}")))?;
    Ok(time_bound(&format!("{before}T16:00:00Z")))
}

/// `GET /api/changes`.
#[utoipa::path(get, path = "/api/changes", tag = "changes", params(ChangesQuery), responses((status = 200, description = "level changes (风险等级变化) per feature in the window, with the writes that caused them", body = crate::openapi::Document), (status = 400, description = "a parameter or the body is invalid; the answer names it", body = crate::openapi::Exception), (status = 401, description = "no or wrong bearer token", body = crate::openapi::Exception), (status = 503, description = "the server is still building its world or is busy; retry after Retry-After", body = crate::openapi::Exception)), security((), ("bearer" = [])))]
pub(crate) async fn changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Json<Value>, ApiError> {
    let window = parse_window(&params, &riskmap_app::today())?;
    let caller = crate::auth::caller(&state, &headers).await?;
    let actors = caller
        .as_ref()
        .is_some_and(|a| matches!(a.role, Role::Admin | Role::Regulator | Role::Inspector));
    let since = china_midnight(window.since)?;
    let next_day = window
        .until
        .tomorrow()
        .map_err(|e| ApiError::BadRequest(format!("until: {e}")))?;
    let until = china_midnight(next_day)?;
    let store = state.app().store().clone();
    // The history of derived changes, in pages.
    let mut derived: Vec<DerivedRow> = Vec::new();
    let mut truncated = false;
    loop {
        let page = store
            .derived_changes(&DerivedQuery {
                since: since.clone(),
                until: until.clone(),
                bbox: window.bbox,
                after: derived.last().map_or(0, |r| r.seq),
                limit: PAGE,
            })
            .await?;
        let full = page.len() == PAGE;
        derived.extend(page);
        if derived.len() >= MAX_ROWS {
            truncated = full;
            break;
        }
        if !full {
            break;
        }
    }
    let mut audit: Vec<AuditRow> = Vec::new();
    loop {
        let page = store
            .audit_log(&AuditQuery {
                after: audit.last().map_or(0, |r| r.seq),
                limit: PAGE,
                since: Some(since.clone()),
                until: Some(until.clone()),
                ..AuditQuery::default()
            })
            .await?;
        let full = page.len() == PAGE;
        audit.extend(page);
        if audit.len() >= MAX_ROWS {
            truncated |= full;
            break;
        }
        if !full {
            break;
        }
    }
    let bbox = window.bbox;
    let mut body = state
        .read(Work::Analysis, move |_| {
            assemble(&derived, &audit, bbox, actors)
        })
        .await?;
    body["since"] = json!(window.since.to_string());
    body["until"] = json!(window.until.to_string());
    body["bbox"] = json!(bbox.map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]));
    body["actors"] = json!(actors);
    body["truncated"] = json!(truncated);
    Ok(Json(body))
}

/// The answer from the rows read (CPU work: parses JSON and geometries).
fn assemble(
    derived: &[DerivedRow],
    audit: &[AuditRow],
    bbox: Option<Rect<f64>>,
    actors: bool,
) -> Value {
    let mut levels = Vec::new();
    let mut new_v = Vec::new();
    let mut cleared_v = Vec::new();
    for row in derived {
        let Ok(Value::Object(mut item)) = serde_json::from_str::<Value>(&row.change.detail) else {
            tracing::warn!(seq = row.seq, "unreadable derived change; skipped");
            continue;
        };
        if !actors && let Some(Value::Object(cause)) = item.get_mut("cause") {
            cause.remove("actor");
        }
        item.insert("bbox".into(), json!(row.change.bbox));
        match row.change.kind.as_str() {
            kind::LEVEL => levels.push(Value::Object(item)),
            kind::VIOLATION_NEW => new_v.push(Value::Object(item)),
            kind::VIOLATION_CLEARED => cleared_v.push(Value::Object(item)),
            _ => {}
        }
    }
    let rules = DangerRules::builtin();
    let mut edits = Vec::new();
    let mut opened = Vec::new();
    let mut closed = Vec::new();
    for row in audit {
        let e = &row.entry;
        let Ok(collection) = e.collection.parse::<Collection>() else {
            continue; // accounts, tokens, incidents: not feature edits
        };
        let before = e.before.as_deref().and_then(parse_feature);
        let after = e.after.as_deref().and_then(parse_feature);
        let boxes: Vec<Rect<f64>> = [&before, &after]
            .into_iter()
            .flatten()
            .filter_map(|f| geometry_box(f.get("geometry")?))
            .collect();
        if let Some(b) = bbox
            && !boxes.iter().any(|g| boxes_meet(g, &b))
        {
            continue;
        }
        let item_box = boxes.into_iter().reduce(|a, b| {
            Rect::new(
                (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
                (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
            )
        });
        let item_box = json!(item_box.map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]));
        let mut edit = json!({
            "at": e.at, "action": e.action, "collection": e.collection, "id": e.id,
            "bbox": item_box,
        });
        if actors {
            edit["actor"] = json!(e.actor);
        }
        if collection == Collection::HiddenDangers
            && let Some(id) = &e.id
        {
            let status = |f: &Option<Value>| {
                f.as_ref()
                    .and_then(|f| f.pointer("/properties/status"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            };
            let (was, now) = (status(&before), status(&after));
            let was_open = was.as_deref().is_some_and(|s| rules.is_open(s));
            let is_open = now.as_deref().is_some_and(|s| rules.is_open(s));
            let shown = after.as_ref().or(before.as_ref());
            let prop = |k: &str| {
                shown
                    .and_then(|f| f.pointer(&format!("/properties/{k}")))
                    .cloned()
                    .unwrap_or(Value::Null)
            };
            let mut danger = json!({
                "at": e.at, "id": id, "action": e.action,
                "from": was, "status": now,
                "level": prop("level"), "enterprise_id": prop("enterprise_id"),
                "description": prop("description"), "rule_item": prop("rule_item"),
                "bbox": item_box,
            });
            if actors {
                danger["actor"] = json!(e.actor);
            }
            if after.is_some() && !was_open && is_open {
                opened.push(danger);
            } else if after.is_some() && was_open && !is_open {
                closed.push(danger);
            }
        }
        edits.push(edit);
    }
    json!({
        "levels": levels,
        "violations": {"new": new_v, "cleared": cleared_v},
        "dangers": {"opened": opened, "closed": closed},
        "edits": edits,
    })
}

fn parse_feature(text: &str) -> Option<Value> {
    serde_json::from_str::<Value>(text)
        .ok()
        .filter(|v| v.get("type").and_then(Value::as_str) == Some("Feature"))
}

/// The box of a GeoJSON geometry's coordinates.
fn geometry_box(g: &Value) -> Option<Rect<f64>> {
    fn walk(v: &Value, acc: &mut Option<[f64; 4]>) {
        let Some(a) = v.as_array() else { return };
        if let [x, y, ..] = &a[..]
            && let (Some(x), Some(y)) = (x.as_f64(), y.as_f64())
        {
            let b = acc.get_or_insert([x, y, x, y]);
            *b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
            return;
        }
        for c in a {
            walk(c, acc);
        }
    }
    let mut acc = None;
    if let Some(parts) = g.get("geometries").and_then(Value::as_array) {
        for p in parts {
            walk(p.get("coordinates").unwrap_or(&Value::Null), &mut acc);
        }
    } else {
        walk(g.get("coordinates")?, &mut acc);
    }
    acc.map(|[a, b, c, d]| Rect::new((a, b), (c, d)))
}

fn boxes_meet(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x
        && a.max().x >= b.min().x
        && a.min().y <= b.max().y
        && a.max().y >= b.min().y
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn window_parameters_are_checked_by_name() {
        let today = "2026-12-07";
        let w = parse_window(&p(&[("since", "2026-12-01")]), today).expect("valid");
        assert_eq!(w.until.to_string(), today);
        for (params, name) in [
            (p(&[]), "since"),
            (p(&[("since", "2026-13-01")]), "since"),
            (p(&[("since", "2026-1-01")]), "since"),
            (p(&[("since", "2026-12-01"), ("until", "x")]), "until"),
            (
                p(&[("since", "2026-12-05"), ("until", "2026-12-01")]),
                "until",
            ),
            (p(&[("since", "2026-12-01"), ("bbox", "1,2,3")]), "bbox"),
            (p(&[("since", "2026-12-01"), ("bbox", "3,2,1,4")]), "bbox"),
            (p(&[("since", "2026-12-01"), ("bbox", "1,2,300,4")]), "bbox"),
            (p(&[("since", "2026-12-01"), ("limit", "3")]), "limit"),
            (
                p(&[("since", "2026-12-01"), ("since", "2026-12-02")]),
                "since",
            ),
            (p(&[("since", "2020-01-01")]), "until"),
        ] {
            match parse_window(&params, today) {
                Err(ApiError::BadRequest(m)) => {
                    assert!(m.starts_with(name), "{params:?}: {m}")
                }
                other => panic!("{params:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn china_midnight_is_16_00_utc_the_day_before() {
        let d: jiff::civil::Date = "2026-12-07".parse().expect("date");
        assert_eq!(china_midnight(d).expect("bound"), "2026-12-06T16:00:00");
    }

    #[test]
    fn geometry_boxes_cover_every_coordinate() {
        let g = json!({"type": "Polygon", "coordinates": [[[1.0, 2.0], [3.0, 2.0], [3.0, 5.0], [1.0, 2.0]]]});
        let b = geometry_box(&g).expect("box");
        assert_eq!(
            (b.min().x, b.min().y, b.max().x, b.max().y),
            (1.0, 2.0, 3.0, 5.0)
        );
        let p = json!({"type": "Point", "coordinates": [120.1, 30.2]});
        let b = geometry_box(&p).expect("box");
        assert_eq!((b.min().x, b.max().y), (120.1, 30.2));
    }
}

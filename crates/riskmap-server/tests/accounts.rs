//! Accounts, roles, tokens and the audit log through the router: an
//! enterprise touches only its own dangers, a regulator only its districts,
//! revoked tokens stop at once, every write is in the audit log with its
//! actor, and the limited public view hides inventories.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riskmap_app::{App, Limits};
use riskmap_core::Collection;
use riskmap_core::import::parse_geojson;
use riskmap_server::{AppState, PublicRead, ServerConfig, app};
use riskmap_spatial::Crs;
use riskmap_store::{SqliteStore, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn state(dir: &std::path::Path, public_read: PublicRead) -> AppState {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).await.unwrap());
    for c in Collection::ALL {
        let f = parse_geojson(c, riskmap_core::demo::text(c), Crs::Wgs84).unwrap();
        store.import(c, &f, None).await.unwrap();
    }
    let app = App::new(store, Limits::default());
    app.load(Some("2026-12-03".into())).await.unwrap();
    AppState::new(
        app,
        ServerConfig {
            admin_tokens: vec!["t".into()],
            public_read,
        },
    )
}

async fn call(s: &AppState, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app(s.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn req(method: &str, uri: &str, token: Option<&str>, body: Option<&Value>) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    }
}

/// Creates an account as the admin; returns its token.
async fn account(s: &AppState, body: Value) -> String {
    let (st, v) = call(s, req("POST", "/api/accounts", Some("t"), Some(&body))).await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    v["token"].as_str().unwrap().to_string()
}

async fn danger(s: &AppState, id: &str, token: Option<&str>) -> Value {
    let (st, v) = call(
        s,
        req("GET", &format!("/api/hidden-dangers/{id}"), token, None),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v
}

fn step(action: &str) -> Value {
    json!({"action": action, "note": "test", "listing_level": "city"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_scope_every_write_and_the_audit_log_names_each_actor() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path(), PublicRead::Full).await;
    // ent-23 (钱塘区 330114) has hd-004, rectified; ent-37 (萧山区 330109) has hd-006.
    let own = account(
        &s,
        json!({"name": "ent23", "role": "enterprise", "credit_code": "91330114MA2FJ4F71G"}),
    )
    .await;
    let other = account(
        &s,
        json!({"name": "ent37", "role": "enterprise", "credit_code": "91330109MA2JBERE26"}),
    )
    .await;
    let reg_a = account(
        &s,
        json!({"name": "reg-qiantang", "role": "regulator", "districts": ["330114"], "password": "qiantang-2026"}),
    )
    .await;
    let reg_b = account(
        &s,
        json!({"name": "reg-xiaoshan", "role": "regulator", "districts": ["330109"]}),
    )
    .await;
    let inspector = account(
        &s,
        json!({"name": "grid-7", "role": "inspector", "districts": ["3301"]}),
    )
    .await;
    let viewer = account(&s, json!({"name": "viewer", "role": "viewer"})).await;

    // A bad account is 400 naming the field.
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/api/accounts",
            Some("t"),
            Some(&json!({"name": "r2", "role": "regulator"})),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(
        v["description"].as_str().unwrap().contains("districts"),
        "{v}"
    );
    // Only admins manage accounts.
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/api/accounts",
            Some(&reg_a),
            Some(&json!({"name": "x", "role": "admin"})),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");

    // /api/me and a password login.
    let (st, me) = call(&s, req("GET", "/api/me", Some(&reg_a), None)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(me["role"], "regulator");
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/api/login",
            None,
            Some(&json!({"name": "reg-qiantang", "password": "wrong-password"})),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "{v}");
    let (st, login) = call(
        &s,
        req(
            "POST",
            "/api/login",
            None,
            Some(&json!({"name": "reg-qiantang", "password": "qiantang-2026"})),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{login}");
    let session = login["token"].as_str().unwrap().to_string();
    assert_eq!(login["account"]["districts"], json!(["330114"]));

    // What each caller may do with hd-004 (rectified, 钱塘区, ent-23).
    let d = danger(&s, "hd-004", Some(&own)).await;
    assert_eq!(d["editable"], true);
    assert_eq!(
        d["allowed_transitions"],
        json!([]),
        "close/reopen are the regulator's"
    );
    let d = danger(&s, "hd-004", Some(&other)).await;
    assert_eq!(d["editable"], false);
    assert_eq!(d["allowed_transitions"], json!([]));
    let d = danger(&s, "hd-004", Some(&session)).await;
    assert_eq!(d["editable"], true);
    assert_eq!(d["allowed_transitions"], json!(["close", "reopen"]));
    let d = danger(&s, "hd-004", Some(&reg_b)).await;
    assert_eq!(d["allowed_transitions"], json!([]));
    let d = danger(&s, "hd-004", None).await;
    assert_eq!(d["editable"], false);

    let count = |s: &AppState| s.world().unwrap().catalog.len(Collection::HiddenDangers);
    let n0 = count(&s);
    let version = |s: &AppState| s.world().unwrap().version();

    // Another enterprise cannot create, change or move ent-23's dangers.
    let new_danger = |id: &str, ent: &str| {
        json!({"type": "Feature", "id": id, "geometry": null, "properties": {
            "enterprise_id": ent, "source": "self_check", "level": "general",
            "description": "消防通道堵塞", "found_date": "2026-12-02", "deadline": "2026-12-20"}})
    };
    let v0 = version(&s);
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/collections/hidden_dangers/items",
            Some(&other),
            Some(&new_danger("hd-x1", "ent-23")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let msg = v["description"].as_str().unwrap();
    assert!(
        msg.contains("create hidden_dangers") && msg.contains("ent-23"),
        "{msg}"
    );
    let before = danger(&s, "hd-004", None).await;
    let mut changed = s
        .world()
        .unwrap()
        .catalog
        .get(Collection::HiddenDangers, "hd-004")
        .map(|f| riskmap_store::access::feature_json(f))
        .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        .unwrap();
    changed["properties"]["description"] = json!("改写");
    let (st, v) = call(
        &s,
        req(
            "PUT",
            "/collections/hidden_dangers/items/hd-004",
            Some(&other),
            Some(&changed),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/api/hidden-dangers/hd-006/transitions",
            Some(&own),
            Some(&step("request_closure")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(version(&s), v0, "a refused write changes nothing");
    assert_eq!(count(&s), n0);
    assert_eq!(danger(&s, "hd-004", None).await["danger"], before["danger"]);
    // Nor its enterprise record, nor any other collection.
    let (st, _) = call(
        &s,
        req(
            "DELETE",
            "/collections/protection_targets/items/x",
            Some(&own),
            None,
        ),
    )
    .await;
    assert!(st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND);
    // It may not record inspection findings on itself (检查发现 are the
    // regulator's): 403, nothing changed.
    let mut own_record = s
        .world()
        .unwrap()
        .catalog
        .get(Collection::Enterprises, "ent-23")
        .map(|f| riskmap_store::access::feature_json(f))
        .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        .unwrap();
    own_record["properties"]["inspection_findings"] = json!([{"id": "self-1",
        "item": "red_special_workers", "date": "2026-12-01", "result": "compliant"}]);
    let (st, v) = call(
        &s,
        req(
            "PUT",
            "/collections/enterprises/items/ent-23",
            Some(&own),
            Some(&own_record),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(
        v["description"].as_str().unwrap().contains("inventory"),
        "{v}"
    );
    assert_eq!(version(&s), v0, "a refused write changes nothing");

    // Its own: report, then change.
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/collections/hidden_dangers/items",
            Some(&own),
            Some(&new_danger("hd-own", "ent-23")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = call(
        &s,
        req(
            "PUT",
            "/collections/hidden_dangers/items/hd-004",
            Some(&own),
            Some(&changed),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    // The enterprise may not close its own danger; the regulator of 萧山
    // may not close one in 钱塘; the regulator of 钱塘 may.
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/api/hidden-dangers/hd-004/transitions",
            Some(&own),
            Some(&step("close")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(v["description"].as_str().unwrap().contains("close"), "{v}");
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/api/hidden-dangers/hd-004/transitions",
            Some(&reg_b),
            Some(&step("close")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let msg = v["description"].as_str().unwrap();
    assert!(
        msg.contains("330114") && msg.contains("reg-xiaoshan"),
        "{msg}"
    );
    assert_eq!(danger(&s, "hd-004", None).await["status"], "rectified");
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/api/hidden-dangers/hd-004/transitions",
            Some(&session),
            Some(&step("close")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "closed");
    let last = v["danger"]["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actor"], "reg-qiantang");

    // The inspector reports in its districts but changes nothing else; the
    // viewer writes nothing.
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/collections/hidden_dangers/items",
            Some(&inspector),
            Some(&new_danger("hd-grid", "ent-37")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/api/hidden-dangers/hd-grid/transitions",
            Some(&inspector),
            Some(&step("verify")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/collections/hidden_dangers/items",
            Some(&viewer),
            Some(&new_danger("hd-v", "ent-37")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    // The regulator of 萧山 verifies the inspector's report there.
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/api/hidden-dangers/hd-grid/transitions",
            Some(&reg_b),
            Some(&step("verify")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // Revoked and logged-out tokens stop at once.
    let (st, _) = call(
        &s,
        req("DELETE", "/api/accounts/ent37/tokens", Some("t"), None),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (st, _) = call(&s, req("GET", "/api/me", Some(&other), None)).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = call(&s, req("POST", "/api/logout", Some(&session), None)).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = call(
        &s,
        req(
            "POST",
            "/api/hidden-dangers/hd-grid/transitions",
            Some(&session),
            Some(&step("reject")),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);

    // The audit log: every write of this test, with its actor, in order.
    let (st, v) = call(&s, req("GET", "/api/audit", Some(&reg_a), None)).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = call(&s, req("GET", "/api/audit?limit=1000", Some("t"), None)).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let got: Vec<(String, String, String, String)> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().to_string(),
                e["action"].as_str().unwrap().to_string(),
                e["collection"].as_str().unwrap().to_string(),
                e["id"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let t = |a: &str, b: &str, c: &str, d: &str| (a.into(), b.into(), c.into(), d.into());
    let want: Vec<(String, String, String, String)> = vec![
        t("admin", "account:create", "accounts", "ent23"),
        t("admin", "account:create", "accounts", "ent37"),
        t("admin", "account:create", "accounts", "reg-qiantang"),
        t("admin", "account:create", "accounts", "reg-xiaoshan"),
        t("admin", "account:create", "accounts", "grid-7"),
        t("admin", "account:create", "accounts", "viewer"),
        t("reg-qiantang", "login", "accounts", "reg-qiantang"),
        t("ent23", "create", "hidden_dangers", "hd-own"),
        t("ent23", "replace", "hidden_dangers", "hd-004"),
        t(
            "reg-qiantang",
            "transition:close",
            "hidden_dangers",
            "hd-004",
        ),
        t("grid-7", "create", "hidden_dangers", "hd-grid"),
        t(
            "reg-xiaoshan",
            "transition:verify",
            "hidden_dangers",
            "hd-grid",
        ),
        t("admin", "token:revoke", "accounts", "ent37"),
        t("reg-qiantang", "logout", "accounts", "reg-qiantang"),
    ];
    assert_eq!(got, want);
    // Before and after of the closing step.
    let close = &v["entries"].as_array().unwrap()[9];
    assert_eq!(close["before"]["properties"]["status"], "rectified");
    assert_eq!(close["after"]["properties"]["status"], "closed");
    // Filters.
    let (_, v) = call(&s, req("GET", "/api/audit?actor=ent23", Some("t"), None)).await;
    assert_eq!(v["entries"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limited_public_view_hides_inventories_and_contacts() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path(), PublicRead::Limited).await;
    let viewer = account(&s, json!({"name": "v", "role": "viewer"})).await;
    let (st, v) = call(
        &s,
        req("GET", "/collections/enterprises/items/ent-02", None, None),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert!(v["properties"].get("units").is_none(), "{v}");
    assert!(v["properties"]["name"].is_string());
    let (_, v) = call(
        &s,
        req(
            "GET",
            "/collections/enterprises/items/ent-02",
            Some(&viewer),
            None,
        ),
    )
    .await;
    assert!(v["properties"]["units"].is_array(), "{v}");
    let (_, v) = call(
        &s,
        req(
            "GET",
            "/collections/enterprises/items?limit=100",
            None,
            None,
        ),
    )
    .await;
    assert!(
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"].get("units").is_none())
    );
    let (_, v) = call(
        &s,
        req(
            "GET",
            "/collections/hidden_dangers/items/hd-001",
            None,
            None,
        ),
    )
    .await;
    assert!(v["properties"].get("responsible_person").is_none(), "{v}");
    let (st, _) = call(
        &s,
        req("GET", "/api/enterprises/ent-02/dossier", None, None),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = call(
        &s,
        req(
            "GET",
            "/api/enterprises/ent-02/dossier",
            Some(&viewer),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (_, v) = call(&s, req("GET", "/api/risk/enterprises/ent-02", None, None)).await;
    assert!(v.get("major_hazards").is_none(), "{v}");
    assert!(v["risk_level"].is_string());
}

/// 应急资源 through the OGC API: a regulator creates a shelter in its
/// district and reads it back; another district's regulator, an
/// enterprise account and a viewer are refused and nothing changes; a bad
/// shelter is 400 naming the record's field; a team's contact is hidden
/// from anonymous readers under `--public-read limited`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emergency_resources_round_trip_and_follow_the_roles() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path(), PublicRead::Limited).await;
    let version = |s: &AppState| s.world().unwrap().version();
    let count = |s: &AppState| s.world().unwrap().catalog.len(Collection::Shelters);
    let reg = account(
        &s,
        json!({"name": "reg-qiantang", "role": "regulator", "districts": ["330114"]}),
    )
    .await;
    let reg_other = account(
        &s,
        json!({"name": "reg-xiaoshan", "role": "regulator", "districts": ["330109"]}),
    )
    .await;
    let ent = account(
        &s,
        json!({"name": "ent23", "role": "enterprise", "credit_code": "91330114MA2FJ4F71G"}),
    )
    .await;
    let viewer = account(&s, json!({"name": "viewer", "role": "viewer"})).await;
    let shelter = json!({
        "type": "Feature", "id": "shelter-new",
        "geometry": {"type": "Polygon", "coordinates": [[[120.340, 30.300], [120.342, 30.300],
            [120.342, 30.302], [120.340, 30.302], [120.340, 30.300]]]},
        "properties": {"name": "测试广场（示例避难场所）", "class": "fixed", "capacity_persons": 12000,
            "area_m2": 40000.0, "district_code": "330114", "sample": true}
    });

    // Refused: an enterprise account, a viewer, a regulator of another district.
    let (v0, n0) = (version(&s), count(&s));
    for (token, why) in [
        (&ent, "enterprise"),
        (&viewer, "viewer"),
        (&reg_other, "district"),
    ] {
        let (st, v) = call(
            &s,
            req(
                "POST",
                "/collections/shelters/items",
                Some(token),
                Some(&shelter),
            ),
        )
        .await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
        assert!(v["description"].as_str().unwrap().contains(why), "{v}");
    }
    let existing = s
        .world()
        .unwrap()
        .catalog
        .iter(Collection::Shelters)
        .next()
        .map(|f| f.id.clone())
        .unwrap();
    let mut changed = shelter.clone();
    changed["id"] = json!(existing);
    let (st, v) = call(
        &s,
        req(
            "PUT",
            &format!("/collections/shelters/items/{existing}"),
            Some(&ent),
            Some(&changed),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, _) = call(
        &s,
        req(
            "DELETE",
            &format!("/collections/shelters/items/{existing}"),
            Some(&ent),
            None,
        ),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!((version(&s), count(&s)), (v0, n0), "nothing changed");

    // A bad shelter names the field.
    let mut bad = shelter.clone();
    bad["properties"]["class"] = json!("temporary");
    bad["properties"]["capacity_persons"] = json!(-5);
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/collections/shelters/items",
            Some(&reg),
            Some(&bad),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let text = v.to_string();
    assert!(
        text.contains("class") && text.contains("emergency, fixed, central"),
        "{v}"
    );
    assert!(text.contains("capacity_persons"), "{v}");
    assert_eq!(count(&s), n0);

    // The regulator of 钱塘 creates it; it reads back as written.
    let (st, v) = call(
        &s,
        req(
            "POST",
            "/collections/shelters/items",
            Some(&reg),
            Some(&shelter),
        ),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    assert_eq!(count(&s), n0 + 1);
    let (st, v) = call(
        &s,
        req("GET", "/collections/shelters/items/shelter-new", None, None),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["geometry"], shelter["geometry"], "{v}");
    for k in [
        "name",
        "class",
        "capacity_persons",
        "area_m2",
        "district_code",
        "sample",
    ] {
        assert_eq!(v["properties"][k], shelter["properties"][k], "{k}: {v}");
    }
    let (st, v) = call(
        &s,
        req("GET", "/collections/shelters/items?limit=100", None, None),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(v["numberMatched"], json!(n0 + 1), "{v}");
    let (st, v) = call(&s, req("GET", "/tiles/shelters.json", None, None)).await;
    assert_eq!(st, StatusCode::OK, "{v}");

    // A team's contact: hidden from anonymous readers, shown to a viewer.
    let (_, v) = call(
        &s,
        req("GET", "/collections/rescue_teams/items/team-01", None, None),
    )
    .await;
    assert!(v["properties"]["name"].is_string(), "{v}");
    assert!(v["properties"].get("contact").is_none(), "{v}");
    let (_, v) = call(
        &s,
        req(
            "GET",
            "/collections/rescue_teams/items/team-01",
            Some(&viewer),
            None,
        ),
    )
    .await;
    assert!(v["properties"]["contact"].is_string(), "{v}");
}

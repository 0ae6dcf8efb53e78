//! Bounded concurrency stress test (about 30 s, 127.0.0.1 only): writers
//! change enterprises and protection targets (moving safety zones and
//! violations) while readers hit every endpoint family. No request may hang
//! (client time-out 10 s) or fail with a 5xx, `/health` must answer within
//! 1 s throughout, and at the end the server's levels, zones and violations
//! must equal those of a fresh server started on the same store.
//!
//! Phase 1 is the scenario that deadlocked the server before the snapshot
//! world: two clients PUT enterprises while eight read
//! `/api/risk/enterprises/{id}`, `/collections/safety_zones/items`,
//! `/api/stats/risk` and `POST /api/siting/check`. Phase 2 adds every other
//! endpoint and target writes, hidden dangers moved through their lifecycle
//! by a regulator account, logins and token revocations, an enterprise
//! account refused (403) on another enterprise, the audit log, office
//! exports and what changed since yesterday (`/api/changes`).
//!
//! `RISKMAP_STRESS_SECS` sets the total duration (default 30).

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Server, repo_root, tile_at};
use serde_json::{Value, json};

const TOKEN: &str = "stress-token";

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

/// Failures seen by any task.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<String>>>, Arc<Mutex<BTreeMap<String, u64>>>);

impl Log {
    fn fail(&self, what: String) {
        let mut v = self.0.lock().expect("log");
        if v.len() < 50 {
            v.push(what);
        }
    }
    fn count(&self, family: &str) {
        *self
            .1
            .lock()
            .expect("log")
            .entry(family.to_string())
            .or_default() += 1;
    }
    /// Checks one response: answered in time and not a 5xx.
    async fn check(
        &self,
        family: &str,
        what: &str,
        r: Result<reqwest::Response, reqwest::Error>,
    ) -> Option<reqwest::Response> {
        self.count(family);
        match r {
            Err(e) => {
                self.fail(format!("{what}: {e}"));
                None
            }
            Ok(resp) if resp.status().is_server_error() => {
                let s = resp.status();
                let body = resp.text().await.unwrap_or_default();
                self.fail(format!("{what}: {s} {body}"));
                None
            }
            Ok(resp) => Some(resp),
        }
    }
}

fn demo(collection: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(repo_root().join(format!("data/demo/{collection}.geojson")))
        .expect("demo file");
    let v: Value = serde_json::from_str(&text).expect("demo json");
    v["features"].as_array().expect("features").clone()
}

/// Hazardous demo enterprises (with units), as importable features.
fn hazardous() -> Vec<Value> {
    demo("enterprises")
        .into_iter()
        .filter(|f| {
            f["properties"]["units"]
                .as_array()
                .is_some_and(|u| !u.is_empty())
        })
        .collect()
}

/// The enterprise with every substance quantity scaled.
fn scaled(f: &Value, k: f64) -> Value {
    let mut f = f.clone();
    if let Some(units) = f["properties"]["units"].as_array_mut() {
        for u in units {
            if let Some(subs) = u["substances"].as_array_mut() {
                for s in subs {
                    if let Some(q) = s["quantity_t"].as_f64() {
                        s["quantity_t"] = json!(q * k);
                    }
                }
            }
        }
    }
    f
}

fn target(id: &str, lon: f64, lat: f64) -> Value {
    json!({"type": "Feature", "id": id,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": format!("压力测试幼儿园 {id}"), "category": "kindergarten", "population": 300}})
}

/// A point of a feature's geometry (its first coordinate).
fn first_point(f: &Value) -> (f64, f64) {
    let mut c = &f["geometry"]["coordinates"];
    while c[0].is_array() {
        c = &c[0];
    }
    (
        c[0].as_f64().unwrap_or(120.2),
        c[1].as_f64().unwrap_or(30.3),
    )
}

/// A tile at zoom `z` around the demo city.
/// Everything derived that must be reproducible from the store.
async fn derived_state(base: &str) -> BTreeMap<String, String> {
    let c = http();
    let mut out = BTreeMap::new();
    for (coll, keys) in [
        ("enterprises", &["risk_level", "risk_score"][..]),
        ("parks", &["risk_level"][..]),
        ("districts", &["risk_level"][..]),
        ("risk_grid", &["risk_level", "count_red"][..]),
        ("safety_zones", &["distance_m", "governing"][..]),
        ("violations", &["margin_m", "target_id"][..]),
        ("protection_targets", &["category"][..]),
    ] {
        let fc: Value = c
            .get(format!("{base}/collections/{coll}/items?limit=10000"))
            .send()
            .await
            .expect("items")
            .json()
            .await
            .expect("json");
        for f in fc["features"].as_array().expect("features") {
            let id = f["id"]
                .as_str()
                .map_or_else(|| f["id"].to_string(), str::to_string);
            let vals: Vec<String> = keys
                .iter()
                .map(|k| f["properties"][*k].to_string())
                .collect();
            out.insert(format!("{coll}/{id}"), vals.join(" "));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_and_writers_together_never_hang_fail_or_diverge() {
    let secs: u64 = std::env::var("RISKMAP_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(30);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_string_lossy().to_string();
    let server = Server::start(&["--data-dir", &data, "--admin-token", TOKEN]);
    let base = server.base.clone();
    let log = Log::default();
    let started = Instant::now();
    let phase1_end = started + Duration::from_secs(secs / 3);
    let end = started + Duration::from_secs(secs);
    let sites = hazardous();
    assert!(sites.len() >= 10, "the demo has hazardous sites");
    let ids: Vec<String> = sites
        .iter()
        .map(|f| f["id"].as_str().expect("id").to_string())
        .collect();

    // Accounts: a regulator for the whole province (writes dangers through
    // its own login token) and an enterprise bound to the first site (whose
    // writes to other enterprises must be refused with 403 throughout).
    let setup = http();
    for body in [
        json!({"name": "stress-reg", "role": "regulator", "districts": ["33"], "password": "stress-password-1"}),
        json!({"name": "stress-ent", "role": "enterprise",
               "credit_code": sites[0]["properties"]["credit_code"], "password": "stress-password-2"}),
    ] {
        let r = setup
            .post(format!("{base}/api/accounts"))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .expect("create account");
        assert_eq!(
            r.status(),
            201,
            "{body}: {}",
            r.text().await.unwrap_or_default()
        );
    }
    let login = |name: &'static str, password: &'static str| {
        let (c, base) = (setup.clone(), base.clone());
        async move {
            let r = c
                .post(format!("{base}/api/login"))
                .json(&json!({"name": name, "password": password}))
                .send()
                .await
                .expect("login");
            assert_eq!(r.status(), 200, "login {name}");
            let v: Value = r.json().await.expect("login body");
            v["token"].as_str().expect("token").to_string()
        }
    };
    let reg_token = login("stress-reg", "stress-password-1").await;
    let ent_token = login("stress-ent", "stress-password-2").await;

    // The label glyphs the style names (a CJK font range), when the
    // server found a font.
    let style: Value = setup
        .get(format!("{base}/style.json"))
        .send()
        .await
        .expect("style")
        .json()
        .await
        .expect("style json");
    let glyphs: Option<String> = style["glyphs"].as_str().and_then(|g| {
        let font = style["layers"]
            .as_array()?
            .iter()
            .find_map(|l| l["layout"]["text-font"][0].as_str())?;
        Some(
            g.replace("{fontstack}", &font.replace(' ', "%20"))
                .replace("{range}", "19968-20223"),
        )
    });
    let today = riskmap_app::today();

    let mut tasks = Vec::new();
    // /health must answer within 1 s throughout.
    let health_worst = Arc::new(Mutex::new(Duration::ZERO));
    {
        let (base, log, worst) = (base.clone(), log.clone(), health_worst.clone());
        tasks.push(tokio::spawn(async move {
            let c = reqwest::Client::builder()
                .timeout(Duration::from_secs(1))
                .build()
                .expect("client");
            while Instant::now() < end {
                let t = Instant::now();
                let r = c.get(format!("{base}/health")).send().await;
                let took = t.elapsed();
                {
                    let mut w = worst.lock().expect("worst");
                    *w = (*w).max(took);
                }
                if let Some(resp) = log.check("health", "GET /health", r).await
                    && resp.status() != 200
                {
                    log.fail(format!("/health answered {}", resp.status()));
                }
                let r = c.get(format!("{base}/ready")).send().await;
                if let Some(resp) = log.check("ready", "GET /ready", r).await
                    && resp.status() != 200
                {
                    log.fail(format!("/ready answered {}", resp.status()));
                }
                // Prometheus metrics, read under the same load.
                let r = c.get(format!("{base}/metrics")).send().await;
                if let Some(resp) = log.check("metrics", "GET /metrics", r).await {
                    let ok = resp.status() == 200;
                    let text = resp.text().await.unwrap_or_default();
                    if !ok || !text.contains("riskmap_http_requests_total{") {
                        log.fail(format!("/metrics answered {ok}: {text:.200}"));
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }));
    }
    // Two enterprise writers (both phases): inventories scaled up and back,
    // which moves zones, violations and levels.
    for w in 0..2 {
        let (base, log, sites) = (base.clone(), log.clone(), sites.clone());
        tasks.push(tokio::spawn(async move {
            let c = http();
            let mut i = w;
            while Instant::now() < end {
                let f = &sites[i % sites.len()];
                let id = f["id"].as_str().unwrap_or("x");
                let k = if (i / sites.len()).is_multiple_of(2) {
                    3.0
                } else {
                    1.0
                };
                let r = c
                    .put(format!("{base}/collections/enterprises/items/{id}"))
                    .bearer_auth(TOKEN)
                    .json(&scaled(f, k))
                    .send()
                    .await;
                if let Some(resp) = log.check("write", &format!("PUT enterprise {id}"), r).await
                    && !resp.status().is_success()
                {
                    log.fail(format!("PUT enterprise {id}: {}", resp.status()));
                }
                i += 2;
            }
        }));
    }
    // Phase 2: a target writer: POST kindergartens next to hazardous sites
    // (inside their zones), move them, delete some.
    {
        let (base, log, sites) = (base.clone(), log.clone(), sites.clone());
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(phase1_end.into()).await;
            let c = http();
            let mut i = 0usize;
            while Instant::now() < end {
                let (lon, lat) = first_point(&sites[i % sites.len()]);
                let id = format!("stress-{i}");
                let r = c
                    .post(format!("{base}/collections/protection_targets/items"))
                    .bearer_auth(TOKEN)
                    .json(&json!({"type": "FeatureCollection", "features": [
                        target(&id, lon + 0.0005, lat + 0.0005),
                        target(&format!("{id}-b"), lon - 0.0008, lat),
                    ]}))
                    .send()
                    .await;
                log.check("write", "POST targets", r).await;
                let r = c
                    .put(format!("{base}/collections/protection_targets/items/{id}"))
                    .bearer_auth(TOKEN)
                    .json(&target(&id, lon + 0.001, lat - 0.0003))
                    .send()
                    .await;
                log.check("write", "PUT target", r).await;
                if i.is_multiple_of(2) {
                    let r = c
                        .delete(format!(
                            "{base}/collections/protection_targets/items/{id}-b"
                        ))
                        .bearer_auth(TOKEN)
                        .send()
                        .await;
                    log.check("write", "DELETE target", r).await;
                }
                i += 1;
            }
        }));
    }
    // Phase 2: a QGIS-style editor (OGC API – Features Part 4): reads a
    // demo protection target and its ETag, PATCHes it with If-Match (200),
    // then again with the stale tag (412, nothing changes).
    {
        let (base, log) = (base.clone(), log.clone());
        let targets: Vec<String> = demo("protection_targets")
            .iter()
            .filter_map(|f| f["id"].as_str().map(str::to_string))
            .take(20)
            .collect();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(phase1_end.into()).await;
            let c = http();
            let mut i = 0usize;
            while Instant::now() < end {
                let id = &targets[i % targets.len()];
                let url = format!("{base}/collections/protection_targets/items/{id}");
                let r = c.get(&url).send().await;
                let Some(resp) = log.check("patch", &format!("GET {id}"), r).await else {
                    i += 1;
                    continue;
                };
                let Some(tag) = resp
                    .headers()
                    .get("etag")
                    .and_then(|t| t.to_str().ok())
                    .map(str::to_string)
                else {
                    log.fail(format!("GET {id}: no ETag"));
                    i += 1;
                    continue;
                };
                for (want, population) in [(200, 100 + i), (412, 1)] {
                    let r = c
                        .patch(&url)
                        .bearer_auth(TOKEN)
                        .header("content-type", "application/merge-patch+json")
                        .header("if-match", &tag)
                        .body(json!({"properties": {"population": population}}).to_string())
                        .send()
                        .await;
                    if let Some(resp) = log.check("patch", &format!("PATCH {id}"), r).await
                        && resp.status() != want
                    {
                        log.fail(format!("PATCH {id}: {} (wanted {want})", resp.status()));
                    }
                }
                i += 1;
            }
        }));
    }
    // Phase 2: a hidden-danger writer: a 重大 danger on a hazardous site
    // (its enterprise turns red), moved through its whole lifecycle to
    // closed (the level comes back), one after another, by the regulator
    // account with its login token.
    {
        let (base, log, sites) = (base.clone(), log.clone(), sites.clone());
        let token = reg_token.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(phase1_end.into()).await;
            let c = http();
            let mut i = 0usize;
            while Instant::now() < end {
                let site = sites[i % sites.len()]["id"]
                    .as_str()
                    .unwrap_or("x")
                    .to_string();
                let id = format!("stress-hd-{i}");
                let r = c
                    .post(format!("{base}/collections/hidden_dangers/items"))
                    .bearer_auth(&token)
                    .json(
                        &json!({"type": "Feature", "id": id, "geometry": null, "properties": {
                        "enterprise_id": site, "source": "inspection", "level": "major",
                        "rule_item": "HC121-05", "description": "压力测试隐患",
                        "found_date": "2026-12-01", "deadline": "2026-12-31"}}),
                    )
                    .send()
                    .await;
                log.check("dangers", "POST hidden danger", r).await;
                for (action, extra) in [
                    ("verify", json!(null)),
                    ("supervise", json!("county")),
                    ("start_rectification", json!(null)),
                    ("request_closure", json!(null)),
                    ("close", json!(null)),
                ] {
                    let r = c
                        .post(format!("{base}/api/hidden-dangers/{id}/transitions"))
                        .bearer_auth(&token)
                        .json(&json!({"action": action, "listing_level": extra}))
                        .send()
                        .await;
                    if let Some(resp) = log.check("dangers", &format!("{action} {id}"), r).await
                        && !resp.status().is_success()
                    {
                        log.fail(format!("{action} {id}: {}", resp.status()));
                    }
                }
                i += 1;
            }
        }));
    }
    // Phase 2: emergency command. A regulator reports an incident at a
    // hazardous site, turns its wind again and again (each change is pushed
    // to the open maps), reads it and the register, and closes it.
    {
        let (base, log, sites) = (base.clone(), log.clone(), sites.clone());
        let token = reg_token.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(phase1_end.into()).await;
            let c = http();
            let mut i = 0usize;
            while Instant::now() < end {
                let (lon, lat) = first_point(&sites[i % sites.len()]);
                let r = c
                    .post(format!("{base}/api/incidents"))
                    .bearer_auth(&token)
                    .json(&json!({"point": [lon, lat], "substance": "7664-41-7",
                        "release": {"kind": "instantaneous", "mass_kg": 500.0},
                        "wind_from_deg": 0, "wind_speed_m_s": 2.0, "stability": "E"}))
                    .send()
                    .await;
                let Some(resp) = log.check("incidents", "POST incident", r).await else {
                    i += 1;
                    continue;
                };
                let id = resp
                    .json::<Value>()
                    .await
                    .ok()
                    .and_then(|v| v["incident"]["id"].as_str().map(str::to_string));
                let Some(id) = id else {
                    log.fail("POST incident: no id".into());
                    i += 1;
                    continue;
                };
                // An open map subscribes to its zones (Server-Sent Events)
                // and reads the first event; the stream is then dropped.
                let r = c
                    .get(format!("{base}/api/incidents/{id}/events"))
                    .send()
                    .await;
                if let Some(mut resp) = log.check("incidents", &format!("events {id}"), r).await {
                    match tokio::time::timeout(Duration::from_secs(10), resp.chunk()).await {
                        Ok(Ok(Some(b))) if b.starts_with(b"event: zones") => {}
                        other => log.fail(format!("events {id}: first event {other:?}")),
                    }
                }
                for k in 1..4 {
                    let r = c
                        .patch(format!("{base}/api/incidents/{id}"))
                        .bearer_auth(&token)
                        .json(&json!({"wind_from_deg": (k * 90) % 360}))
                        .send()
                        .await;
                    log.check("incidents", &format!("PATCH {id}"), r).await;
                    let r = c.get(format!("{base}/api/incidents/{id}")).send().await;
                    log.check("incidents", &format!("GET {id}"), r).await;
                }
                let r = c
                    .get(format!("{base}/api/incidents?status=open"))
                    .send()
                    .await;
                log.check("incidents", "GET register", r).await;
                let r = c
                    .post(format!("{base}/api/incidents/{id}/close"))
                    .bearer_auth(&token)
                    .send()
                    .await;
                log.check("incidents", &format!("close {id}"), r).await;
                i += 1;
            }
        }));
    }
    // Phase 2: sessions and refusals. An account logs in, reads `/api/me`
    // and logs out (argon2 runs off the async workers); an admin issues and
    // revokes an API token; the enterprise account tries to change another
    // enterprise and must get 403 every time, with nothing changed.
    {
        let (base, log, sites) = (base.clone(), log.clone(), sites.clone());
        let ent_token = ent_token.clone();
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(phase1_end.into()).await;
            let c = http();
            let mut i = 0usize;
            while Instant::now() < end {
                let r = c
                    .post(format!("{base}/api/login"))
                    .json(&json!({"name": "stress-reg", "password": "stress-password-1"}))
                    .send()
                    .await;
                let token = match log.check("accounts", "login", r).await {
                    Some(resp) if resp.status() == 200 => resp
                        .json::<Value>()
                        .await
                        .ok()
                        .and_then(|v| v["token"].as_str().map(str::to_string)),
                    Some(resp) => {
                        log.fail(format!("login: {}", resp.status()));
                        None
                    }
                    None => None,
                };
                if let Some(token) = token {
                    for (what, req, want) in [
                        ("me", c.get(format!("{base}/api/me")), 200),
                        ("logout", c.post(format!("{base}/api/logout")), 204),
                        ("me after logout", c.get(format!("{base}/api/me")), 401),
                    ] {
                        let r = req.bearer_auth(&token).send().await;
                        if let Some(resp) = log.check("accounts", what, r).await
                            && resp.status() != want
                        {
                            log.fail(format!("{what}: {} (wanted {want})", resp.status()));
                        }
                    }
                }
                let r = c
                    .post(format!("{base}/api/accounts/stress-reg/tokens"))
                    .bearer_auth(TOKEN)
                    .json(&json!({"label": "stress"}))
                    .send()
                    .await;
                if let Some(resp) = log.check("accounts", "issue token", r).await {
                    let id = resp
                        .json::<Value>()
                        .await
                        .ok()
                        .and_then(|v| v["token_id"].as_str().map(str::to_string));
                    match id {
                        Some(id) => {
                            let r = c
                                .delete(format!("{base}/api/accounts/stress-reg/tokens/{id}"))
                                .bearer_auth(TOKEN)
                                .send()
                                .await;
                            log.check("accounts", "revoke token", r).await;
                        }
                        None => log.fail("issue token: no token_id".into()),
                    }
                }
                let other = &sites[1 + i % (sites.len() - 1)];
                if other["properties"]["credit_code"] != sites[0]["properties"]["credit_code"] {
                    let oid = other["id"].as_str().unwrap_or("x");
                    let r = c
                        .put(format!("{base}/collections/enterprises/items/{oid}"))
                        .bearer_auth(&ent_token)
                        .json(&scaled(other, 5.0))
                        .send()
                        .await;
                    if let Some(resp) = log.check("denied", "enterprise PUT", r).await
                        && resp.status() != 403
                    {
                        log.fail(format!(
                            "enterprise PUT {oid}: {} (wanted 403)",
                            resp.status()
                        ));
                    }
                }
                i += 1;
            }
        }));
    }
    // Eight readers.
    for r in 0..8usize {
        let (base, log, ids, sites) = (base.clone(), log.clone(), ids.clone(), sites.clone());
        let (glyphs, today) = (glyphs.clone(), today.clone());
        tasks.push(tokio::spawn(async move {
            let c = http();
            let mut i = r;
            while Instant::now() < end {
                let id = &ids[i % ids.len()];
                let (lon, lat) = first_point(&sites[i % sites.len()]);
                let phase2 = Instant::now() >= phase1_end;
                let n = if phase2 { 34 } else { 4 };
                let (family, req) = match i % n {
                    0 => ("risk", c.get(format!("{base}/api/risk/enterprises/{id}"))),
                    1 => (
                        "derived",
                        c.get(format!("{base}/collections/safety_zones/items?limit=50")),
                    ),
                    2 => (
                        "stats",
                        c.get(format!("{base}/api/stats/risk?group_by=district")),
                    ),
                    3 => (
                        "siting",
                        c.post(format!("{base}/api/siting/check")).json(&json!({
                            "use": "school", "population": 800,
                            "geometry": {"type": "Point", "coordinates": [lon + 0.001, lat + 0.001]}
                        })),
                    ),
                    4 => (
                        "items",
                        c.get(format!(
                            "{base}/collections/enterprises/items?bbox={},{},{},{}&limit=100",
                            lon - 0.05,
                            lat - 0.05,
                            lon + 0.05,
                            lat + 0.05
                        )),
                    ),
                    5 => (
                        "derived",
                        c.get(format!("{base}/collections/violations/items")),
                    ),
                    6 => (
                        "derived",
                        c.get(format!("{base}/collections/risk_grid/items?limit=200")),
                    ),
                    7 => ("report", c.get(format!("{base}/api/sites/{id}/report"))),
                    8 | 9 => {
                        let tilesets = [
                            "enterprises",
                            "risk_grid",
                            "safety_zones",
                            "violations",
                            "pipelines",
                            "protection_targets",
                            "districts",
                            "parks",
                            "hidden_dangers",
                        ];
                        let ts = tilesets[(i / n) % tilesets.len()];
                        let (z, x, y) = tile_at(8 + (i % 8) as u8, lon, lat);
                        ("tiles", c.get(format!("{base}/tiles/{ts}/{z}/{x}/{y}.mvt")))
                    }
                    10 => ("tilejson", c.get(format!("{base}/tiles/safety_zones.json"))),
                    11 => (
                        "item",
                        c.get(format!("{base}/collections/enterprises/items/{id}")),
                    ),
                    12 => ("collections", c.get(format!("{base}/collections"))),
                    13 => (
                        "dangers",
                        c.get(format!("{base}/collections/hidden_dangers/items?limit=100")),
                    ),
                    14 => (
                        "dangers",
                        c.get(format!(
                            "{base}/api/hidden-dangers/hd-{:03}",
                            1 + (i / n) % 38
                        )),
                    ),
                    15 => (
                        "dangers",
                        c.get(format!("{base}/api/stats/hidden-dangers?group_by=district")),
                    ),
                    16 => (
                        "dangers",
                        c.get(format!("{base}/api/enterprises/{id}/dossier")),
                    ),
                    17 => (
                        "dangers",
                        c.get(format!("{base}/api/hidden-dangers/lifecycle")),
                    ),
                    18 => (
                        "audit",
                        c.get(format!(
                            "{base}/api/audit?limit=50&collection=hidden_dangers"
                        ))
                        .bearer_auth(TOKEN),
                    ),
                    19 => (
                        "office",
                        c.get(format!("{base}/collections/hidden_dangers/items?f=xlsx")),
                    ),
                    20 => (
                        "office",
                        c.get(format!(
                            "{base}/collections/enterprises/items?f=csv&limit=200"
                        )),
                    ),
                    21 => (
                        "accounts",
                        c.get(format!("{base}/api/accounts")).bearer_auth(TOKEN),
                    ),
                    22 => (
                        "incidents",
                        c.post(format!("{base}/api/incidents/assess")).json(&json!({
                            "point": [lon, lat], "substance": "7782-50-5",
                            "release": {"kind": "continuous", "rate_kg_s": 1.0 + (i % 5) as f64, "duration_s": 900.0},
                            "wind_from_deg": ((i * 37) % 360) as f64, "wind_speed_m_s": 3.0,
                            "time_of_day": "night", "cloud_cover_oktas": 2
                        })),
                    ),
                    23 => {
                        let rc = ["shelters", "rescue_teams", "supply_depots"][(i / n) % 3];
                        ("resources", c.get(format!("{base}/collections/{rc}/items?limit=100")))
                    }
                    24 => {
                        // What changed since yesterday, signed in or not,
                        // in the whole city or around one site.
                        let since = riskmap_app::china_date(
                            std::time::SystemTime::now()
                                .duration_since(std::time::UNIX_EPOCH)
                                .map_or(0, |d| d.as_secs() as i64)
                                - 86_400,
                        );
                        let req = if (i / n) % 2 == 0 {
                            c.get(format!("{base}/api/changes?since={since}"))
                                .bearer_auth(TOKEN)
                        } else {
                            c.get(format!(
                                "{base}/api/changes?since={since}&bbox={},{},{},{}",
                                lon - 0.01,
                                lat - 0.01,
                                lon + 0.01,
                                lat + 0.01
                            ))
                        };
                        ("changes", req)
                    }
                    25 => (
                        "ogc",
                        c.get(format!("{base}/collections/enterprises/queryables")),
                    ),
                    26 => {
                        // Part 3: a CQL2 text filter and a sort, as QGIS sends.
                        let q = [
                            ("filter", "risk_level IN ('red','orange') OR employees > 100"),
                            ("sortby", "-risk_score,name"),
                            ("limit", "50"),
                        ];
                        ("ogc", c.get(format!("{base}/collections/enterprises/items")).query(&q))
                    }
                    27 => {
                        // CQL2 JSON, properties and datetime (the last change).
                        let f = json!({"op": "s_intersects", "args": [{"property": "geometry"},
                            {"bbox": [lon - 0.05, lat - 0.05, lon + 0.05, lat + 0.05]}]});
                        let q = [
                            ("filter", f.to_string()),
                            ("filter-lang", "cql2-json".to_string()),
                            ("properties", "name,category,population,updated".to_string()),
                            ("datetime", format!("{today}/..")),
                            ("limit", "200".to_string()),
                        ];
                        ("ogc", c.get(format!("{base}/collections/protection_targets/items")).query(&q))
                    }
                    28 => ("ogc", c.get(format!("{base}/api/openapi.json"))),
                    29 => (
                        "ogc",
                        c.get(format!("{base}/collections/enterprises/items?f=html&limit=20")),
                    ),
                    30 => {
                        // Filtered tiles: only red enterprises of one industry.
                        let (z, x, y) = tile_at(9 + (i % 6) as u8, lon, lat);
                        (
                            "tiles",
                            c.get(format!("{base}/tiles/enterprises/{z}/{x}/{y}.mvt"))
                                .query(&[("filter", "risk_level = 'red' OR industry = 'chemical'")]),
                        )
                    }
                    31 => {
                        let (z, x, y) = tile_at(10 + (i % 7) as u8, lon, lat);
                        ("basemap", c.get(format!("{base}/tiles/basemap/{z}/{x}/{y}.mvt")))
                    }
                    32 => match &glyphs {
                        Some(g) => ("basemap", c.get(g)),
                        None => ("basemap", c.get(format!("{base}/tiles/basemap.json"))),
                    },
                    33 => {
                        let (f, coll) = [("gpkg", "protection_targets"), ("shp", "enterprises")][(i / n) % 2];
                        ("office", c.get(format!("{base}/collections/{coll}/items?f={f}&limit=200")))
                    }
                    _ => ("style", c.get(format!("{base}/style.json"))),
                };
                let what = format!("{family} #{i}");
                if let Some(resp) = log.check(family, &what, req.send().await).await {
                    // The interoperability reads are all well-formed: each
                    // must succeed, not only avoid a 5xx.
                    if matches!(family, "ogc" | "basemap") && !resp.status().is_success() {
                        let status = resp.status();
                        let body = resp.text().await.unwrap_or_default();
                        log.fail(format!("{what}: {status} {body:.300}"));
                        i += 8;
                        continue;
                    }
                    // Read the whole body: a response cut short is a failure too.
                    if let Err(e) = resp.bytes().await {
                        log.fail(format!("{what}: body: {e}"));
                    }
                }
                i += 8;
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let failures = log.0.lock().expect("log").clone();
    let counts = log.1.lock().expect("log").clone();
    let worst = *health_worst.lock().expect("worst");
    eprintln!("stress: {counts:?}; /health worst {worst:?}");
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    assert!(worst < Duration::from_secs(1), "/health took {worst:?}");
    for family in [
        "risk",
        "derived",
        "stats",
        "siting",
        "items",
        "report",
        "tiles",
        "write",
        "dangers",
        "accounts",
        "denied",
        "audit",
        "office",
        "incidents",
        "resources",
        "changes",
        "metrics",
        "ogc",
        "patch",
        "basemap",
    ] {
        assert!(
            counts.get(family).copied().unwrap_or(0) >= 3,
            "too few {family} requests: {counts:?}"
        );
    }

    // The refused writes left no trace; the regulator's steps are all audited.
    let audit = |actor: &str| {
        let (c, base) = (http(), base.clone());
        let url = format!("{base}/api/audit?actor={actor}&limit=1000");
        async move {
            let v: Value = c
                .get(url)
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("audit")
                .json()
                .await
                .expect("audit body");
            v["entries"].as_array().cloned().unwrap_or_default()
        }
    };
    let ent: Vec<Value> = audit("stress-ent").await;
    let ent_actions: Vec<&str> = ent.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        ent_actions,
        ["login"],
        "denied writes are not audited, only the login"
    );
    let reg = audit("stress-reg").await;
    assert!(
        reg.iter().any(|e| e["action"] == "transition:close"),
        "the regulator's closures are audited: {} entries",
        reg.len()
    );

    // The end state equals a fresh server's on the same store.
    let after = derived_state(&base).await;
    drop(server);
    let fresh = Server::start(&["--data-dir", &data]);
    let fresh_state = derived_state(&fresh.base).await;
    assert!(
        after.keys().any(|k| k.starts_with("violations/")),
        "violations exist"
    );
    let diff: Vec<String> = after
        .iter()
        .filter(|(k, v)| fresh_state.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {v} vs fresh {:?}", fresh_state.get(k)))
        .chain(
            fresh_state
                .keys()
                .filter(|k| !after.contains_key(*k))
                .map(|k| format!("{k}: only in the fresh server")),
        )
        .take(20)
        .collect();
    assert!(
        diff.is_empty(),
        "the world diverged from the store:\n{}",
        diff.join("\n")
    );
}

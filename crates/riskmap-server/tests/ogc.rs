//! OGC API – Features beyond Core through the router: Part 3 filters and
//! sorting against a brute force over every item, queryables, strict
//! parameters, format negotiation, HTML pages, Part 4 PATCH with
//! `If-Match`, OPTIONS, and the EPSG:4490 axis order of writes.

#![allow(clippy::unwrap_used)]

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use riskmap_app::{App, Limits};
use riskmap_core::Collection;
use riskmap_core::import::parse_geojson;
use riskmap_server::{AppState, ServerConfig, app};
use riskmap_spatial::Crs;
use riskmap_store::{SqliteStore, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn state(dir: &std::path::Path) -> AppState {
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
            public_read: riskmap_server::PublicRead::Full,
        },
    )
}

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
    bytes: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
}

async fn send(s: &AppState, req: Request<Body>) -> Answer {
    let resp = app(s.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        text: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

async fn get(s: &AppState, uri: &str) -> Answer {
    send(s, Request::get(uri).body(Body::empty()).unwrap()).await
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn ids(v: &Value) -> Vec<String> {
    v["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

/// Every enterprise as served, the brute force's input.
async fn all(s: &AppState, c: &str) -> Vec<Value> {
    let a = get(s, &format!("/collections/{c}/items?limit=10000")).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.json()["features"].as_array().unwrap().clone()
}

fn cmp_json(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::Number(x), Value::Number(y)) => x.as_f64().unwrap().total_cmp(&y.as_f64().unwrap()),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_and_sorting_equal_a_brute_force_over_every_item() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let every = all(&s, "enterprises").await;
    assert!(every.len() > 20);

    // CQL2 text: the red enterprises.
    let brute: Vec<String> = every
        .iter()
        .filter(|f| f["properties"]["risk_level"] == "red")
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!brute.is_empty() && brute.len() < every.len());
    let a = get(
        &s,
        &format!(
            "/collections/enterprises/items?limit=1000&filter={}",
            enc("risk_level = 'red'")
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(ids(&a.json()), brute);
    assert_eq!(a.json()["numberMatched"], json!(brute.len()));

    // CQL2 JSON with sortby: employees above 100 and not blue, by score
    // descending then name.
    let filter = json!({"op": "and", "args": [
        {"op": ">", "args": [{"property": "employees"}, 100]},
        {"op": "<>", "args": [{"property": "risk_level"}, "blue"]},
    ]});
    let mut brute: Vec<&Value> = every
        .iter()
        .filter(|f| {
            f["properties"]["employees"]
                .as_f64()
                .is_some_and(|e| e > 100.0)
                && f["properties"]["risk_level"]
                    .as_str()
                    .is_some_and(|l| l != "blue")
        })
        .collect();
    brute.sort_by(|a, b| {
        cmp_json(
            &b["properties"]["risk_score"],
            &a["properties"]["risk_score"],
        )
        .then_with(|| cmp_json(&a["properties"]["name"], &b["properties"]["name"]))
        .then_with(|| a["id"].as_str().cmp(&b["id"].as_str()))
    });
    let brute: Vec<String> = brute
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        brute.len() > 2,
        "a filter that selects something: {brute:?}"
    );
    let uri = format!(
        "/collections/enterprises/items?limit=1000&filter-lang=cql2-json&filter={}&sortby={}",
        enc(&filter.to_string()),
        enc("-risk_score,+name")
    );
    let a = get(&s, &uri).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(ids(&a.json()), brute);

    // Paging over a filtered, sorted answer keeps the order; next links carry the filter.
    let uri = format!(
        "/collections/enterprises/items?limit=2&filter-lang=cql2-json&filter={}&sortby={}",
        enc(&filter.to_string()),
        enc("-risk_score,+name")
    );
    let mut seen = Vec::new();
    let mut next = Some(uri);
    while let Some(u) = next {
        let v = get(&s, &u).await.json();
        seen.extend(ids(&v));
        next = v["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == "next")
            .map(|l| {
                let h = l["href"].as_str().unwrap();
                h[h.find("/collections").unwrap()..].to_string()
            });
    }
    assert_eq!(seen, brute);

    // A spatial filter equals the bbox parameter.
    let bbox = get(
        &s,
        "/collections/protection_targets/items?limit=10000&bbox=120.2,30.2,120.3,30.3",
    )
    .await;
    let spatial = get(
        &s,
        &format!(
            "/collections/protection_targets/items?limit=10000&filter={}",
            enc("S_INTERSECTS(geometry, BBOX(120.2,30.2,120.3,30.3))")
        ),
    )
    .await;
    assert_eq!(spatial.status, StatusCode::OK, "{}", spatial.text);
    assert_eq!(ids(&spatial.json()), ids(&bbox.json()));
    assert!(!ids(&bbox.json()).is_empty());

    // ids and properties.
    let pick: Vec<String> = every
        .iter()
        .step_by(5)
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    let a = get(
        &s,
        &format!(
            "/collections/enterprises/items?ids={}&properties=name,risk_level",
            enc(&pick.join(","))
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let mut sorted = pick.clone();
    sorted.sort();
    assert_eq!(ids(&a.json()), sorted);
    for f in a.json()["features"].as_array().unwrap() {
        let keys: Vec<&String> = f["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["name", "risk_level"]);
    }
}

/// The ids of `features` whose `updated` lies in `[from, until)`.
fn changed_in(features: &[Value], from: Option<&str>, until: Option<&str>) -> Vec<String> {
    let ts = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    features
        .iter()
        .filter(|f| {
            let t = ts(f["properties"]["updated"].as_str().unwrap());
            from.is_none_or(|a| t >= ts(a)) && until.is_none_or(|b| t < ts(b))
        })
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datetime_selects_by_the_last_change_time() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    // Every item carries its last change time, as the store kept it; the
    // queryables and the collection declare it.
    let before = all(&s, "shelters").await;
    assert!(before.len() > 3);
    for f in &before {
        let t = f["properties"]["updated"].as_str().unwrap();
        assert!(
            t.ends_with('Z') && t.parse::<jiff::Timestamp>().is_ok(),
            "{t}"
        );
    }
    let q = get(&s, "/collections/shelters/queryables").await.json();
    assert_eq!(q["properties"]["updated"]["format"], "date-time");
    let doc = get(&s, "/collections/shelters").await.json();
    assert_eq!(doc["temporalProperty"], "updated");
    let mut times: Vec<&str> = before
        .iter()
        .map(|f| f["properties"]["updated"].as_str().unwrap())
        .collect();
    times.sort();
    assert_eq!(
        doc["extent"]["temporal"]["interval"],
        json!([[times[0], times[times.len() - 1]]])
    );
    let loaded = times[times.len() - 1].to_string();

    // One shelter changes later: it alone is newer than the load.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let id = before[1]["id"].as_str().unwrap();
    let req = Request::patch(format!("/collections/shelters/items/{id}"))
        .header("authorization", "Bearer t")
        .header("content-type", "application/merge-patch+json")
        .body(Body::from(
            json!({"properties": {"capacity_persons": 777}}).to_string(),
        ))
        .unwrap();
    let a = send(&s, req).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let after = all(&s, "shelters").await;
    let changed = after.iter().find(|f| f["id"] == id).unwrap()["properties"]["updated"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(changed > loaded, "{changed} after {loaded}");
    // A write keeps the same time in the store as in the world.
    let stored = s
        .app()
        .store()
        .get(Collection::Shelters, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.updated.as_deref(), Some(changed.as_str()));

    // Instants, half-open and closed intervals, and dates (whole UTC
    // days), against a brute force over every item.
    let after_load = (loaded.parse::<jiff::Timestamp>().unwrap()
        + jiff::SignedDuration::from_millis(1))
    .to_string();
    let day = &changed[..10];
    let next_day = (jiff::civil::Date::strptime("%Y-%m-%d", day)
        .unwrap()
        .tomorrow()
        .unwrap())
    .to_string();
    let cases: Vec<(String, Option<String>, Option<String>)> = vec![
        (format!("{after_load}/.."), Some(after_load.clone()), None),
        (format!("../{loaded}"), None, Some(after_load.clone())),
        (
            changed.clone(),
            Some(changed.clone()),
            Some(
                (changed.parse::<jiff::Timestamp>().unwrap() + jiff::SignedDuration::from_nanos(1))
                    .to_string(),
            ),
        ),
        (
            format!("{}/{}", times[0], loaded),
            Some(times[0].to_string()),
            Some(after_load.clone()),
        ),
        (
            day.to_string(),
            Some(format!("{day}T00:00:00Z")),
            Some(format!("{next_day}T00:00:00Z")),
        ),
        (
            "2020-01-01/2020-12-31".into(),
            Some("2020-01-01T00:00:00Z".into()),
            Some("2021-01-01T00:00:00Z".into()),
        ),
    ];
    for (datetime, from, until) in cases {
        let brute = changed_in(&after, from.as_deref(), until.as_deref());
        let a = get(
            &s,
            &format!(
                "/collections/shelters/items?limit=10000&datetime={}",
                enc(&datetime)
            ),
        )
        .await;
        assert_eq!(a.status, StatusCode::OK, "{datetime}: {}", a.text);
        assert_eq!(ids(&a.json()), brute, "datetime={datetime}");
    }
    let a = get(
        &s,
        &format!(
            "/collections/shelters/items?datetime={}/..",
            enc(&after_load)
        ),
    )
    .await;
    assert_eq!(ids(&a.json()), [id.to_string()]);
    // A filter on the same property agrees.
    let a = get(
        &s,
        &format!(
            "/collections/shelters/items?filter={}",
            enc(&format!("updated > TIMESTAMP('{loaded}')"))
        ),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(ids(&a.json()), [id.to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_parameters_name_themselves_and_formats_are_negotiated() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    for (uri, word) in [
        ("/collections/enterprises/items?fliter=x", "fliter"),
        ("/collections/enterprises/items?filter=colour%3D1", "colour"),
        (
            "/collections/enterprises/items?filter=risk_level%20%3D%3D",
            "filter",
        ),
        ("/collections/enterprises/items?sortby=-colour", "colour"),
        ("/collections/enterprises/items?properties=colour", "colour"),
        (
            "/collections/enterprises/items?filter-lang=cql2-json",
            "filter",
        ),
        (
            "/collections/enterprises/items?datetime=2026-13-01",
            "datetime",
        ),
        (
            "/collections/enterprises/items?datetime=2026-01-01T08:00:00",
            "offset",
        ),
        (
            "/collections/enterprises/items?datetime=2026-02-01/2026-01-01",
            "datetime",
        ),
        ("/collections/enterprises/items?limit=1&limit=2", "limit"),
        ("/collections/risk_grid/items?filter=x", "filter"),
        ("/collections?bbox=1,2,3,4", "bbox"),
        ("/conformance?x=1", "\"x\""),
        ("/collections/enterprises/items/ent-01?limit=1", "limit"),
        (
            "/tiles/enterprises/10/856/418.mvt?filter=colour%3D1",
            "colour",
        ),
    ] {
        let a = get(&s, uri).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}: {}", a.text);
        assert!(
            a.json()["description"].as_str().unwrap().contains(word),
            "{uri}: {}",
            a.text
        );
    }
    let req = Request::get("/collections")
        .header("accept", "image/png")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&s, req).await.status, StatusCode::NOT_ACCEPTABLE);
    let req = Request::get("/collections/parks/items")
        .header("accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let a = send(&s, req).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(a.text.contains("<table"), "{}", a.text);
    // HTML pages link to HTML pages, down to one item.
    let a = get(&s, "/collections?f=html").await;
    assert!(
        a.text.contains("/collections/enterprises/items?f=html"),
        "{}",
        a.text
    );
    let a = get(&s, "/collections/enterprises/items/ent-01?f=html").await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.text.contains("ent-01") && a.text.contains("risk_level"));
    // The landing page: JSON with the service description; HTML on request.
    let a = get(&s, "/?f=json").await;
    let links = a.json()["links"].as_array().unwrap().clone();
    assert!(links.iter().any(|l| l["rel"] == "service-desc"));
    let a = get(&s, "/?f=html").await;
    assert!(a.text.contains("conformance"), "{}", a.text);
    // A browser gets the web map, with the web map's own parameters (the
    // printable brief and dossier pages); unknown ones are still refused.
    for uri in ["/?incident=draft&lang=en", "/?dossier=ent-01"] {
        let req = Request::get(uri)
            .header("accept", "text/html,application/xhtml+xml")
            .body(Body::empty())
            .unwrap();
        let a = send(&s, req).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}: {}", a.text);
        assert!(!a.text.contains("conformance"), "{uri}: the web map");
    }
    let a = get(&s, "/?incidnet=x").await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.text.contains("incidnet"), "{}", a.text);

    // Queryables: a JSON Schema naming every property a filter may use.
    let a = get(&s, "/collections/enterprises/queryables").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["content-type"], "application/schema+json");
    let q = a.json();
    assert_eq!(
        q["properties"]["risk_level"]["enum"],
        json!(["red", "orange", "yellow", "blue"])
    );
    assert_eq!(q["properties"]["employees"]["type"], "integer");
    // Every queryable is a property the items carry with that type.
    let every = all(&s, "enterprises").await;
    for (name, schema) in q["properties"].as_object().unwrap() {
        if name == "id" || name == "geometry" {
            continue;
        }
        let ty = schema["type"].as_str().unwrap();
        let mut seen = false;
        for f in &every {
            let v = &f["properties"][name];
            let ok = match ty {
                _ if v.is_null() => true,
                "string" => v.is_string(),
                "integer" => v.is_i64() || v.is_u64(),
                "number" => v.is_number(),
                "boolean" => v.is_boolean(),
                _ => false,
            };
            assert!(ok, "{name}: {v} is not {ty}");
            seen |= !v.is_null();
        }
        assert!(
            seen || name == "park_id" || name == "installation",
            "{name} never set"
        );
    }
    // Conformance names Part 3.
    let a = get(&s, "/conformance").await;
    let classes = a.json()["conformsTo"].as_array().unwrap().clone();
    assert!(
        classes
            .iter()
            .any(|c| c.as_str().unwrap().ends_with("/conf/features-filter"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_lands_only_on_the_version_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let a = get(&s, "/collections/protection_targets/items?limit=1").await;
    let id = ids(&a.json())[0].clone();
    let uri = format!("/collections/protection_targets/items/{id}");
    let first = get(&s, &uri).await;
    let etag = first.headers["etag"].to_str().unwrap().to_string();
    // A conditional GET: 304 with the same tag, also weakened by a proxy.
    for tag in [etag.clone(), format!("W/{etag}")] {
        let req = Request::get(&uri)
            .header("if-none-match", tag)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&s, req).await.status, StatusCode::NOT_MODIFIED);
    }
    let patch = |tag: &str, body: Value| {
        Request::patch(&uri)
            .header("authorization", "Bearer t")
            .header("content-type", "application/merge-patch+json")
            .header("if-match", tag)
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    // The current tag: lands; only the patched member changes.
    let a = send(
        &s,
        patch(&etag, json!({"properties": {"population": 4321}})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let after = get(&s, &uri).await;
    let (before_v, after_v) = (first.json(), after.json());
    assert_eq!(after_v["properties"]["population"], 4321);
    assert_eq!(
        after_v["properties"]["name"],
        before_v["properties"]["name"]
    );
    assert_eq!(after_v["geometry"], before_v["geometry"]);
    let new_tag = after.headers["etag"].to_str().unwrap().to_string();
    assert_ne!(new_tag, etag);
    assert_eq!(a.headers["etag"].to_str().unwrap(), new_tag);
    // The stale tag: 412 and nothing changes.
    let a = send(&s, patch(&etag, json!({"properties": {"population": 1}}))).await;
    assert_eq!(a.status, StatusCode::PRECONDITION_FAILED, "{}", a.text);
    assert_eq!(get(&s, &uri).await.json()["properties"]["population"], 4321);
    // A stale PUT is refused the same way.
    let mut body = after_v.clone();
    body["properties"]["population"] = json!(2);
    let req = Request::put(&uri)
        .header("authorization", "Bearer t")
        .header("content-type", "application/geo+json")
        .header("if-match", &etag)
        .body(Body::from(body.to_string()))
        .unwrap();
    assert_eq!(send(&s, req).await.status, StatusCode::PRECONDITION_FAILED);
    // An invalid patch names the field and changes nothing.
    let a = send(
        &s,
        patch(&new_tag, json!({"properties": {"population": -5}})),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert!(a.text.contains("population"), "{}", a.text);
    assert_eq!(get(&s, &uri).await.json()["properties"]["population"], 4321);
    // OPTIONS states the methods.
    let req = Request::options(&uri).body(Body::empty()).unwrap();
    let a = send(&s, req).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT, "{}", a.text);
    assert_eq!(a.headers["allow"], "GET, HEAD, PUT, PATCH, DELETE, OPTIONS");
    let req = Request::options("/collections/risk_grid/items")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&s, req).await.headers["allow"], "GET, HEAD, OPTIONS");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epsg_4490_writes_are_read_latitude_first_like_reads() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    const CRS: &str = "http://www.opengis.net/def/crs/EPSG/0/4490";
    // Written latitude first in EPSG:4490 …
    let feature = json!({"type": "Feature", "id": "cgcs-1",
        "geometry": {"type": "Point", "coordinates": [30.27, 120.15]},
        "properties": {"name": "测试学校", "category": "school", "population": 300}});
    let req = Request::post(format!(
        "/collections/protection_targets/items?crs={}",
        enc(CRS)
    ))
    .header("authorization", "Bearer t")
    .header("content-type", "application/geo+json")
    .body(Body::from(feature.to_string()))
    .unwrap();
    let a = send(&s, req).await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    // … is stored longitude first (CRS84) …
    let v = get(&s, "/collections/protection_targets/items/cgcs-1")
        .await
        .json();
    assert_eq!(v["geometry"]["coordinates"], json!([120.15, 30.27]));
    // … and reads back in EPSG:4490 as written.
    let a = get(
        &s,
        &format!(
            "/collections/protection_targets/items/cgcs-1?crs={}",
            enc(CRS)
        ),
    )
    .await;
    assert_eq!(a.json()["geometry"]["coordinates"], json!([30.27, 120.15]));
    // A PATCH of the geometry in EPSG:4490 with the tag read in EPSG:4490.
    let tag = a.headers["etag"].to_str().unwrap().to_string();
    let req = Request::patch(format!(
        "/collections/protection_targets/items/cgcs-1?crs={}",
        enc(CRS)
    ))
    .header("authorization", "Bearer t")
    .header("content-type", "application/merge-patch+json")
    .header("if-match", tag)
    .body(Body::from(
        json!({"geometry": {"type": "Point", "coordinates": [30.28, 120.16]}}).to_string(),
    ))
    .unwrap();
    let a = send(&s, req).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let v = get(&s, "/collections/protection_targets/items/cgcs-1")
        .await
        .json();
    assert_eq!(v["geometry"]["coordinates"], json!([120.16, 30.28]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_on_tiles_draws_only_what_it_admits() {
    let dir = tempfile::tempdir().unwrap();
    let s = state(dir.path()).await;
    let every = all(&s, "enterprises").await;
    let red: Vec<&Value> = every
        .iter()
        .filter(|f| f["properties"]["risk_level"] == "red")
        .collect();
    // The first position of the first red enterprise's geometry.
    let (lon, lat) = {
        let mut c = &red[0]["geometry"]["coordinates"];
        while c[0].is_array() {
            c = &c[0];
        }
        (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
    };
    let z = 14u32;
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n) as u32;
    let y = ((1.0
        - (lat.to_radians().tan() + 1.0 / lat.to_radians().cos()).ln() / std::f64::consts::PI)
        / 2.0
        * n) as u32;
    let tile_ids = |a: &Answer| -> Vec<String> {
        assert_eq!(a.status, StatusCode::OK, "{}", a.text);
        let t = riskmap_tiles::decode::decode_tile(&a.bytes).unwrap();
        let mut ids: Vec<String> = t
            .layer("enterprises")
            .map(|l| l.features.iter().filter_map(|f| f.id_string()).collect())
            .unwrap_or_default();
        ids.sort();
        ids
    };
    let whole = tile_ids(&get(&s, &format!("/tiles/enterprises/{z}/{x}/{y}.mvt")).await);
    let filtered = tile_ids(
        &get(
            &s,
            &format!(
                "/tiles/enterprises/{z}/{x}/{y}.mvt?filter={}",
                enc("risk_level = 'red'")
            ),
        )
        .await,
    );
    let red_ids: Vec<String> = red
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    // The filtered tile holds exactly the red enterprises the whole tile holds.
    let expected: Vec<String> = whole
        .iter()
        .filter(|i| red_ids.contains(i))
        .cloned()
        .collect();
    assert!(
        !expected.is_empty(),
        "the tile holds a red enterprise: {whole:?}"
    );
    assert_eq!(filtered, expected);
    assert!(whole.len() >= filtered.len());
}

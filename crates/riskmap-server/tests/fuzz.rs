//! Fuzzing the HTTP API through the real router (`app(state).oneshot(…)`,
//! a SQLite store in a temporary directory holding the demo city): the
//! committed corpus in `fuzz/corpus/{query,tiles,siting,geojson}/`, then
//! mutants of it for `RISKMAP_FUZZ_SECS` seconds each (see `fuzz/README.md`).
//!
//! - `query`: OGC items parameters (`bbox`, `bbox-crs`, `crs`, `limit`,
//!   `offset`), ids in item paths, `/api/stats/risk?group_by=`, explanations
//!   and site reports;
//! - `tiles`: `/tiles/{tileset}/{z}/{x}/{y}.mvt` and TileJSON paths;
//! - `siting`: bodies of `POST /api/siting/check`;
//! - `writes`: GeoJSON bodies of `POST /collections/{c}/items` and
//!   `PUT /collections/{c}/items/{id}` with a valid admin token.
//!
//! No request may panic, take longer than a minute, or answer 5xx other
//! than 503 (busy or loading): bad input is a 4xx. After the run the server
//! must still answer `/ready` and items.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../fuzz/harness.rs"]
mod harness;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode};
use harness::{Budget, Entry, Mutator};
use http_body_util::BodyExt;
use riskmap_app::{App, Limits};
use riskmap_core::Collection;
use riskmap_core::import::parse_geojson;
use riskmap_server::{AppState, ServerConfig, app};
use riskmap_spatial::Crs;
use riskmap_store::{SqliteStore, Store};
use tower::ServiceExt;

/// Longest a single request may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The demo city, as the binary embeds it.
const DEMO: [(Collection, &str); 5] = [
    (
        Collection::Districts,
        include_str!("../../../data/demo/districts.geojson"),
    ),
    (
        Collection::Parks,
        include_str!("../../../data/demo/parks.geojson"),
    ),
    (
        Collection::Enterprises,
        include_str!("../../../data/demo/enterprises.geojson"),
    ),
    (
        Collection::Pipelines,
        include_str!("../../../data/demo/pipelines.geojson"),
    ),
    (
        Collection::ProtectionTargets,
        include_str!("../../../data/demo/protection_targets.geojson"),
    ),
];

/// The demo city in a SQLite store in `dir`, scored, with admin token `t`.
async fn demo_state(dir: &std::path::Path) -> AppState {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir).await.unwrap());
    for (c, text) in DEMO {
        let features = parse_geojson(c, text, Crs::Wgs84).unwrap();
        store.import(c, &features, None).await.unwrap();
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

/// One request as the fuzzer made it.
#[derive(Debug, Clone)]
struct Call {
    method: Method,
    uri: String,
    content_type: Option<&'static str>,
    token: bool,
    body: Vec<u8>,
}

impl Call {
    fn get(uri: String) -> Call {
        Call {
            method: Method::GET,
            uri,
            content_type: None,
            token: false,
            body: Vec::new(),
        }
    }

    /// The call as bytes, for `target/fuzz-failures/`.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!(
            "{} {}\ncontent-type: {}\nauthorization: {}\n\n",
            self.method,
            self.uri,
            self.content_type.unwrap_or("(none)"),
            if self.token { "Bearer t" } else { "(none)" }
        )
        .into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// Sends `call` through a fresh router; answers the status, or what went
/// wrong (a panic, a 5xx other than 503, a body that fails, no answer in time).
async fn send(state: &AppState, call: &Call) -> Result<Option<(StatusCode, Bytes)>, String> {
    let mut req = Request::builder()
        .method(call.method.clone())
        .uri(&call.uri);
    if let Some(ct) = call.content_type {
        req = req.header("content-type", ct);
    }
    if call.token {
        req = req.header("authorization", "Bearer t");
    }
    // A target the HTTP layer cannot carry never reaches the server.
    let Ok(req) = req.body(Body::from(call.body.clone())) else {
        return Ok(None);
    };
    let router = app(state.clone());
    let task = tokio::spawn(async move {
        let resp = router.oneshot(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await;
        (
            status,
            body.map(|b| b.to_bytes()).map_err(|e| e.to_string()),
        )
    });
    let abort = task.abort_handle();
    match tokio::time::timeout(REQUEST_TIMEOUT, task).await {
        Err(_) => {
            abort.abort();
            Err(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs()))
        }
        Ok(Err(e)) if e.is_panic() => Err(format!(
            "panic: {}",
            harness::panic_message(&*e.into_panic())
        )),
        Ok(Err(e)) => Err(format!("the request task failed: {e}")),
        Ok(Ok((_, Err(e)))) => Err(format!("the response body failed: {e}")),
        Ok(Ok((status, Ok(body)))) => {
            if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
                Err(format!("status {status}: {}", harness::show(&body)))
            } else {
                Ok(Some((status, body)))
            }
        }
    }
}

/// Bytes as a request target: `/` first; bytes a URI may not hold
/// (controls, spaces, non-ASCII, `#`…) percent-encoded, so odd bytes still
/// reach the server as they would from a client that encodes them.
fn request_target(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 1);
    if bytes.first() != Some(&b'/') {
        s.push('/');
    }
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"/?&=%,:+-._~@!$'()*;[]".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// A value for a query parameter or a path segment, percent-encoded.
fn encoded(m: &mut Mutator) -> String {
    let raw: String = match m.below(4) {
        0 => (*m.pick(harness::NUMBERS)).to_string(),
        1 => (*m.pick(harness::STRINGS)).to_string(),
        2 => {
            let n = *m.pick(&[3usize, 4, 5, 6, 7]);
            (0..n)
                .map(|_| *m.pick(harness::NUMBERS))
                .collect::<Vec<_>>()
                .join(",")
        }
        _ => (*m.pick(&[
            "120.5,30.2,120.7,30.4",
            "30.2,120.5,30.4,120.7",
            "-180,-90,180,90",
            "EPSG:4326",
            "EPSG:4490",
            "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
            "<http://www.opengis.net/def/crs/EPSG/0/4326>",
            "district",
            "industry",
            "park",
            "enterprises",
            "pipelines",
            "parks",
            "json",
            "html",
        ]))
        .to_string(),
    };
    percent_encode(raw.as_bytes())
}

fn percent_encode(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~,:".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

const QUERY_KEYS: &[&str] = &[
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "f",
    "group_by",
    "collection",
    "bbox_crs",
    "",
];

const COLLECTIONS: &[&str] = &[
    "enterprises",
    "parks",
    "pipelines",
    "protection_targets",
    "districts",
    "risk_grid",
    "pipeline_segments",
    "safety_zones",
    "violations",
    "ENTERPRISES",
    "..",
    "%2E%2E",
    "%00",
];

/// A structure-aware mutant of a request target: parameters replaced,
/// dropped, duplicated or added; path segments replaced.
fn mutate_query(m: &mut Mutator, target: &str) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut segs: Vec<String> = path.split('/').map(str::to_string).collect();
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    for _ in 0..1 + m.below(3) {
        match m.below(7) {
            0 | 1 if !pairs.is_empty() => {
                let i = m.below(pairs.len());
                pairs[i].1 = encoded(m);
            }
            2 if !pairs.is_empty() => {
                pairs.remove(m.below(pairs.len()));
            }
            3 if !pairs.is_empty() => {
                let p = pairs[m.below(pairs.len())].clone();
                pairs.push(p);
            }
            4 => {
                let k = (*m.pick(QUERY_KEYS)).to_string();
                let v = encoded(m);
                pairs.push((k, v));
            }
            5 if segs.len() > 2 => {
                // /collections/{c}/… and /tiles/{t}/…: another name.
                segs[2] = (*m.pick(COLLECTIONS)).to_string();
            }
            _ if segs.len() > 4 => {
                // An item id (or /api/risk/{c}/{id}): an odd one.
                let i = if segs[1] == "api" { 4 } else { segs.len() - 1 };
                segs[i] = encoded(m);
            }
            _ => {
                let k = (*m.pick(QUERY_KEYS)).to_string();
                let v = encoded(m);
                pairs.push((k, v));
            }
        }
    }
    let mut out = segs.join("/");
    if !pairs.is_empty() || m.chance(0.1) {
        out.push('?');
        let q: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| {
                if v.is_empty() && m.chance(0.3) {
                    k
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        out.push_str(&q.join("&"));
    }
    out
}

const TILESETS: &[&str] = &[
    "enterprises",
    "protection_targets",
    "parks",
    "pipelines",
    "districts",
    "risk_grid",
    "safety_zones",
    "violations",
    "pipeline_segments",
    "nothing",
];

/// A structure-aware mutant of a tile path: `/tiles/{t}/{z}/{x}/{y}.ext`
/// with odd numbers, names and extensions.
fn mutate_tile(m: &mut Mutator) -> String {
    let num = |m: &mut Mutator, z: u32| -> String {
        match m.below(6) {
            0 => (*m.pick(&[
                "0",
                "-1",
                "+1",
                "01",
                "1.5",
                "",
                " 1",
                "%31",
                "4294967295",
                "4294967296",
                "18446744073709551616",
                "255",
                "256",
                "NaN",
            ]))
            .to_string(),
            1 => (1u64 << z.min(32)).to_string(),
            2 => ((1u64 << z.min(32)).saturating_sub(1)).to_string(),
            _ => m.below(1 << z.min(20) as usize).to_string(),
        }
    };
    let z: u32 = if m.chance(0.9) {
        m.below(17) as u32
    } else {
        *m.pick(&[17u32, 24, 31, 32, 255])
    };
    let zs = if m.chance(0.9) {
        z.to_string()
    } else {
        num(m, 5)
    };
    let x = num(m, z);
    let y = num(m, z);
    let ext = *m.pick(&[
        ".mvt", ".mvt", ".mvt", ".pbf", ".png", "", ".mvt.mvt", ".MVT", "%2Emvt",
    ]);
    let t = *m.pick(TILESETS);
    match m.below(20) {
        0 => format!("/tiles/{t}.json"),
        1 => format!("/tiles/{t}/{zs}/{x}/{y}{ext}/extra"),
        2 => format!("/tiles/{t}/{zs}/{x}{ext}"),
        _ => format!("/tiles/{t}/{zs}/{x}/{y}{ext}"),
    }
}

/// What a target makes of its corpus.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Query,
    Tiles,
    Siting,
    Writes,
}

fn collection_of(name: &str) -> Option<Collection> {
    Collection::ALL
        .into_iter()
        .filter(|c| name.starts_with(c.as_str()))
        .max_by_key(|c| c.as_str().len())
}

/// The id of a GeoJSON Feature body (or its first feature), if a string.
fn body_id(body: &[u8]) -> Option<String> {
    let v = harness::parse_json(body)?;
    let f = match v.get("features") {
        Some(fs) => fs.get(0)?.clone(),
        None => v,
    };
    f.get("id")?.as_str().map(str::to_string)
}

/// The ids a `201 Created` answer names: `ids` of a POST, `id` of a PUT.
fn created_ids(body: &[u8]) -> Vec<String> {
    let Some(v) = harness::parse_json(body) else {
        return Vec::new();
    };
    match (
        v.get("ids").and_then(|i| i.as_array()),
        v.get("id").and_then(|i| i.as_str()),
    ) {
        (Some(ids), _) => ids
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        (None, Some(id)) => vec![id.to_string()],
        _ => Vec::new(),
    }
}

/// The collection of a `/collections/{c}/items…` target.
fn collection_in(uri: &str) -> Option<&str> {
    uri.strip_prefix("/collections/")?.split('/').next()
}

/// The request for the `n`-th input of a target.
fn make_call(m: &mut Mutator, kind: Kind, entry: &Entry, mutate: bool) -> Call {
    let body = |m: &mut Mutator| {
        if mutate {
            m.mutate(&entry.bytes)
        } else {
            entry.bytes.clone()
        }
    };
    match kind {
        Kind::Query | Kind::Tiles => {
            let text = String::from_utf8_lossy(&entry.bytes).trim().to_string();
            let uri = if !mutate {
                request_target(text.as_bytes())
            } else if kind == Kind::Tiles && m.chance(0.4) {
                mutate_tile(m)
            } else if m.chance(0.5) {
                mutate_query(m, &text)
            } else {
                // Byte-level: the harness's mutations of the target text.
                let b = m.bytes(text.as_bytes());
                request_target(&b)
            };
            Call::get(uri)
        }
        Kind::Siting => Call {
            method: Method::POST,
            uri: "/api/siting/check".into(),
            content_type: Some(if m.chance(0.95) {
                "application/json"
            } else {
                *m.pick(&["text/plain", "application/json; charset=gbk", ""])
            }),
            token: false,
            body: body(m),
        },
        Kind::Writes if !mutate => Call {
            method: Method::POST,
            uri: format!(
                "/collections/{}/items",
                collection_of(&entry.name).unwrap_or(Collection::Enterprises)
            ),
            content_type: Some("application/geo+json"),
            token: true,
            body: body(m),
        },
        Kind::Writes => {
            let bytes = body(m);
            let c = match collection_of(&entry.name) {
                Some(c) if m.chance(0.9) => c,
                _ => *m.pick(&Collection::ALL),
            };
            let crs = match m.below(10) {
                0 => "?crs=EPSG:4490",
                1 => "?crs=GCJ02",
                2 => "?crs=%3Chttp%3A%2F%2Fwww.opengis.net%2Fdef%2Fcrs%2FOGC%2F1.3%2FCRS84%3E",
                3 => "?crs=EPSG:3857",
                _ => "",
            };
            let put = m.chance(0.25);
            let uri = if put {
                let id = match body_id(&bytes) {
                    Some(id) if m.chance(0.7) => percent_encode(id.as_bytes()),
                    _ => encoded(m),
                };
                format!("/collections/{}/items/{id}{crs}", c.as_str())
            } else {
                format!("/collections/{}/items{crs}", c.as_str())
            };
            Call {
                method: if put { Method::PUT } else { Method::POST },
                uri,
                content_type: Some(if m.chance(0.95) {
                    "application/geo+json"
                } else {
                    *m.pick(&["application/json; charset=utf-8", "text/csv"])
                }),
                token: true,
                body: bytes,
            }
        }
    }
}

/// Fuzzes one target against one demo server.
async fn fuzz(target: &str, corpus_dir: &str, kind: Kind) -> Result<(), String> {
    let corpus = harness::load_corpus(corpus_dir);
    let budget = Budget::from_env(target);
    let dir = tempfile::tempdir().unwrap();
    let loading = Instant::now();
    let state = demo_state(dir.path()).await;
    eprintln!(
        "fuzz {target}: demo server ready in {:.1} s",
        loading.elapsed().as_secs_f64()
    );
    let mut m = Mutator::new(budget.seed, &corpus);
    let mut clock = budget.start();
    let mut statuses = std::collections::BTreeMap::<u16, u64>::new();
    let mut slowest = (Duration::ZERO, String::new());
    let mut skipped = 0u64;
    let mut n = 0u64;
    let mut failure = None;
    let mut corpus_secs = 0.0;
    loop {
        let call = if (n as usize) < corpus.len() {
            make_call(&mut m, kind, &corpus[n as usize], false)
        } else {
            if n as usize == corpus.len() {
                corpus_secs = clock.started.elapsed().as_secs_f64();
                clock.restart();
            }
            if !clock.tick() {
                break;
            }
            let i = m.below(corpus.len());
            make_call(&mut m, kind, &corpus[i], true)
        };
        n += 1;
        let t = Instant::now();
        let outcome = send(&state, &call).await;
        let took = t.elapsed();
        if took > Duration::from_secs(2) {
            eprintln!(
                "fuzz {target}: {:.1} s for {} {} ({} bytes)",
                took.as_secs_f64(),
                call.method,
                call.uri,
                call.body.len()
            );
        }
        if took > slowest.0 {
            slowest = (took, format!("{} {}", call.method, call.uri));
        }
        let created = match outcome {
            Ok(Some((status, body))) => {
                *statuses.entry(status.as_u16()).or_default() += 1;
                if status == StatusCode::CREATED {
                    created_ids(&body)
                } else {
                    Vec::new()
                }
            }
            Ok(None) => {
                skipped += 1;
                Vec::new()
            }
            Err(problem) => {
                failure = Some((problem, call));
                break;
            }
        };
        // Take back what a write created, so the world stays the demo city
        // (and the deletes are fuzzed too: ids as odd as the writes made).
        let c = collection_in(&call.uri).unwrap_or_default().to_string();
        for id in created {
            let mut del = Call::get(format!(
                "/collections/{c}/items/{}",
                percent_encode(id.as_bytes())
            ));
            del.method = Method::DELETE;
            del.token = true;
            let t = Instant::now();
            let got = send(&state, &del).await;
            if t.elapsed() > Duration::from_secs(2) {
                eprintln!(
                    "fuzz {target}: {:.1} s for DELETE {}",
                    t.elapsed().as_secs_f64(),
                    del.uri
                );
            }
            match got {
                Ok(Some((st, _))) if st == StatusCode::NO_CONTENT => {}
                Ok(other) => {
                    let st = other.map(|o| o.0);
                    failure = Some((format!("deleting {id:?} it created: {st:?}"), del));
                    break;
                }
                Err(problem) => {
                    failure = Some((problem, del));
                    break;
                }
            }
        }
        if failure.is_some() {
            break;
        }
    }
    eprintln!(
        "fuzz {target}: {} corpus entries in {corpus_secs:.1} s, then {}; statuses {statuses:?}; \
         {skipped} targets not sendable; slowest {:.2} s: {}",
        corpus.len(),
        clock.summary(),
        slowest.0.as_secs_f64(),
        harness::show(slowest.1.as_bytes())
    );
    if let Some((problem, call)) = failure {
        let path = harness::save_failure(target, budget.seed, n, &call.to_bytes());
        return Err(format!(
            "fuzz {target}: input {n} (seed {}): {problem}\n{} {}\nsaved to {}\nbody: {}",
            budget.seed,
            call.method,
            call.uri,
            path.display(),
            harness::show(&call.body)
        ));
    }
    // The server still answers.
    for uri in ["/ready", "/collections/enterprises/items?limit=1"] {
        match send(&state, &Call::get(uri.into())).await {
            Ok(Some((StatusCode::OK, _))) => {}
            other => {
                let st = other.map(|o| o.map(|(st, _)| st));
                return Err(format!("fuzz {target}: {uri} afterwards: {st:?}"));
            }
        }
    }
    Ok(())
}

/// Runs one target on its own runtime. A request that never ends has
/// failed already; the runtime is then let go without waiting for the
/// blocking thread still working on it.
fn run(target: &str, corpus_dir: &str, kind: Kind) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(fuzz(target, corpus_dir, kind));
    rt.shutdown_timeout(Duration::from_secs(1));
    if let Err(message) = outcome {
        panic!("{message}");
    }
}

#[test]
fn fuzz_query_parameters() {
    run("query", "query", Kind::Query);
}

#[test]
fn fuzz_tile_paths() {
    run("tiles", "tiles", Kind::Tiles);
}

#[test]
fn fuzz_siting_bodies() {
    run("siting", "siting", Kind::Siting);
}

#[test]
fn fuzz_write_bodies() {
    run("writes", "geojson", Kind::Writes);
}

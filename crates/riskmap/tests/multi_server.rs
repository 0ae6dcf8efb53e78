//! Several `riskmap serve` on one PostGIS learn of each other's writes
//! (change log + LISTEN/NOTIFY), also after their connections are killed
//! and after PostgreSQL restarts, and a `riskmap import` by another process
//! reaches the running servers.
//!
//! Needs `DATABASE_URL` (run under `scripts/with-postgis`, which also sets
//! `RISKMAP_PG_RESTART`, a command that restarts the test cluster). Skipped
//! without it unless `RISKMAP_REQUIRE_PG=1`.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Server, client, riskmap, tile_at};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Connection, PgConnection};

const TOKEN: &str = "multi-secret";

fn database_url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("RISKMAP_REQUIRE_PG").as_deref() == Ok("1") => {
            panic!("RISKMAP_REQUIRE_PG=1 but DATABASE_URL is unset")
        }
        _ => {
            eprintln!("skipping: DATABASE_URL unset (run under scripts/with-postgis)");
            None
        }
    }
}

/// `url` with its database replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = &base[..base[authority..]
        .find('/')
        .map_or(base.len(), |i| authority + i)];
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

async fn exec(conn: &mut PgConnection, sql: String) {
    sqlx::query(AssertSqlSafe(sql.clone()))
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn status(url: &str) -> u16 {
    match client().get(url).send().await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

async fn get_json(url: &str) -> Value {
    let resp = client().get(url).send().await.unwrap();
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.json().await.unwrap()
}

/// Waits until GET `url` answers `want`; returns how long it took.
async fn until_status(url: &str, want: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let got = status(url).await;
        if got == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "GET {url} still answers {got}, not {want}, after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// PUTs `body` to `url`, retrying while the server cannot reach the
/// database (after its connections were killed or PostgreSQL restarted).
async fn put_retrying(url: &str, body: &Value, within: Duration) -> u16 {
    let started = Instant::now();
    loop {
        let resp = client()
            .put(url)
            .bearer_auth(TOKEN)
            .json(body)
            .send()
            .await
            .unwrap();
        let s = resp.status().as_u16();
        if s < 500 || started.elapsed() > within {
            return s;
        }
        eprintln!(
            "PUT {url}: {s} {} (retrying)",
            resp.text().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn etag(url: &str) -> String {
    let resp = client().get(url).send().await.unwrap();
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.headers()["etag"].to_str().unwrap().to_string()
}

fn target(lon: f64, lat: f64, name: &str) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": name, "category": "school", "population": 600}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_on_one_postgis_follow_each_other() {
    let Some(url) = database_url() else { return };
    let db = format!("riskmap_ms_{:x}", std::process::id());
    let mut admin = PgConnection::connect(&url).await.unwrap();
    exec(
        &mut admin,
        format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    )
    .await;
    exec(&mut admin, format!("CREATE DATABASE {db}")).await;
    let db_url = with_database(&url, &db);
    let a = Server::start(&[
        "--database-url",
        &db_url,
        "--load-demo",
        "--admin-token",
        TOKEN,
    ]);
    let b = Server::start(&["--database-url", &db_url, "--admin-token", TOKEN]);
    let wait = Duration::from_secs(15);

    // 1. An enterprise written on a: b has it, with the same level.
    let demo = get_json(&a.url("/collections/enterprises/items/ent-06")).await;
    // The first vertex of its geometry, whatever the type.
    let mut c = &demo["geometry"]["coordinates"];
    while c[0].is_array() {
        c = &c[0];
    }
    let (z, x, y) = tile_at(14, c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let tile = b.url(&format!("/tiles/enterprises/{z}/{x}/{y}.mvt"));
    let etag_before = etag(&tile).await;
    let mut copy = demo.clone();
    copy["id"] = json!("ms-ent-1");
    let put = client()
        .put(a.url("/collections/enterprises/items/ms-ent-1"))
        .bearer_auth(TOKEN)
        .json(&copy)
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201, "{}", put.text().await.unwrap());
    let took = until_status(&b.url("/api/risk/enterprises/ms-ent-1"), 200, wait).await;
    eprintln!("a → b: {took:?}");
    // b's tile of the new enterprise changed with it (purged, re-rendered).
    assert_ne!(etag(&tile).await, etag_before, "{tile}");
    let level = |s: &Server| {
        let url = s.url("/api/risk/enterprises/ms-ent-1");
        async move { get_json(&url).await["risk_level"].clone() }
    };
    assert_eq!(level(&a).await, level(&b).await);
    // Both serve the same last change time, the one a stamped and stored.
    let updated = |s: &Server| {
        let url = s.url("/collections/enterprises/items/ms-ent-1");
        async move { get_json(&url).await["properties"]["updated"].clone() }
    };
    let (ua, ub) = (updated(&a).await, updated(&b).await);
    assert!(
        ua.as_str() > demo["properties"]["updated"].as_str(),
        "{ua} after the demo's {}",
        demo["properties"]["updated"]
    );
    assert_eq!(ua, ub);
    assert_eq!(
        level(&b).await,
        get_json(&b.url("/api/risk/enterprises/ent-06")).await["risk_level"]
    );

    // 2. A delete on b reaches a.
    let del = client()
        .delete(b.url("/collections/enterprises/items/ms-ent-1"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(del.status().is_success(), "{}", del.status());
    let took = until_status(&a.url("/api/risk/enterprises/ms-ent-1"), 404, wait).await;
    eprintln!("b → a (delete): {took:?}");

    // 3. Every connection to the database killed (pg_terminate_backend):
    //    both servers reconnect, and b still follows a.
    exec(
        &mut admin,
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{db}' AND pid <> pg_backend_pid()"
        ),
    )
    .await;
    let s = put_retrying(
        &a.url("/collections/protection_targets/items/ms-after-kill"),
        &target(120.31, 30.31, "连接中断后新建学校"),
        wait,
    )
    .await;
    assert_eq!(s, 201);
    let took = until_status(
        &b.url("/collections/protection_targets/items/ms-after-kill"),
        200,
        wait,
    )
    .await;
    eprintln!("a → b after pg_terminate_backend: {took:?}");

    // 4. PostgreSQL restarted under both servers.
    match std::env::var("RISKMAP_PG_RESTART") {
        Ok(restart) if !restart.is_empty() => {
            admin.close().await.ok();
            let out = std::process::Command::new(&restart).output().unwrap();
            assert!(
                out.status.success(),
                "{restart}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let s = put_retrying(
                &b.url("/collections/protection_targets/items/ms-after-restart"),
                &target(120.32, 30.32, "数据库重启后新建学校"),
                Duration::from_secs(60),
            )
            .await;
            assert_eq!(s, 201);
            let took = until_status(
                &a.url("/collections/protection_targets/items/ms-after-restart"),
                200,
                Duration::from_secs(30),
            )
            .await;
            eprintln!("b → a after a PostgreSQL restart: {took:?}");
            admin = PgConnection::connect(&url).await.unwrap();
        }
        _ if std::env::var("RISKMAP_REQUIRE_PG").as_deref() == Ok("1") => {
            panic!("RISKMAP_REQUIRE_PG=1 but RISKMAP_PG_RESTART is unset")
        }
        _ => eprintln!("RISKMAP_PG_RESTART unset: not restarting PostgreSQL"),
    }

    // 5. `riskmap import` by another process reaches both servers.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("targets.geojson");
    let mut t = target(120.33, 30.33, "导入的学校");
    t["id"] = json!("ms-imported");
    std::fs::write(
        &file,
        json!({"type": "FeatureCollection", "features": [t]}).to_string(),
    )
    .unwrap();
    let out = riskmap()
        .args(["import", "protection_targets"])
        .arg(&file)
        .args(["--database-url", &db_url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for s in [&a, &b] {
        until_status(
            &s.url("/collections/protection_targets/items/ms-imported"),
            200,
            wait,
        )
        .await;
    }
    // Both took in the whole log and show the same world.
    let health = |s: &Server| {
        let url = s.url("/health");
        async move { get_json(&url).await }
    };
    let started = Instant::now();
    loop {
        let (ha, hb) = (health(&a).await, health(&b).await);
        if ha["features"] == hb["features"] && ha["changes_seen"] == hb["changes_seen"] {
            break;
        }
        assert!(started.elapsed() < wait, "a {ha}\nb {hb}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    drop((a, b));
    exec(
        &mut admin,
        format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    )
    .await;
}

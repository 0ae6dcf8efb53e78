//! Start-up and shutdown: `/health` answers while the world is built and
//! `/ready` says when it is; SIGTERM in the middle of a write lets the write
//! land whole or not at all, and the process exits 0.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::Server;
use serde_json::{Value, json};

const TOKEN: &str = "lifecycle-token";

async fn count(base: &str, collection: &str) -> u64 {
    let v: Value = reqwest::get(format!("{base}/collections/{collection}/items?limit=1"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["numberMatched"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_answers_at_once_and_ready_says_when_the_world_is_built() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().to_string();
    let server = Server::start_listening(&["--data-dir", &data]);
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let started = Instant::now();
    let mut saw = Vec::new();
    loop {
        let h = c.get(server.url("/health")).send().await.unwrap();
        assert_eq!(h.status(), 200, "liveness is always 200");
        let h: Value = h.json().await.unwrap();
        let r = c.get(server.url("/ready")).send().await.unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().await.unwrap();
        saw.push((status, h["status"].clone(), body["status"].clone()));
        if status == 200 {
            assert_eq!(body["status"], "ready");
            assert!(h["features"]["enterprises"].as_u64().unwrap() > 0);
            break;
        }
        assert_eq!(status, 503);
        assert_eq!(body["status"], "loading", "{body}");
        assert!(body["progress"].as_f64().unwrap() < 1.0);
        // Data requests say the server is starting, with Retry-After.
        let items = c
            .get(server.url("/collections/enterprises/items"))
            .send()
            .await
            .unwrap();
        if items.status() == 503 {
            assert!(items.headers().contains_key("retry-after"));
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{saw:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(count(&server.base, "enterprises").await > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_write_lands_it_whole_or_not_at_all_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().to_string();
    for delay_ms in [0u64, 30, 150] {
        let mut server = Server::start(&["--data-dir", &data, "--admin-token", TOKEN]);
        let before = count(&server.base, "protection_targets").await;
        let n: u32 = 150;
        let features: Vec<Value> = (0..n)
            .map(|i| {
                json!({"type": "Feature", "id": format!("term-{delay_ms}-{i}"),
                "geometry": {"type": "Point", "coordinates": [120.2 + f64::from(i) * 1e-4, 30.25]},
                "properties": {"name": format!("住宅 {i}"), "category": "residential", "households": 40}})
            })
            .collect();
        let url = server.url("/collections/protection_targets/items");
        let write = tokio::spawn(async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(TOKEN)
                .json(&json!({"type": "FeatureCollection", "features": features}))
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        let code = tokio::task::spawn_blocking(move || {
            let code = server.terminate(Duration::from_secs(60));
            (code, server)
        })
        .await
        .unwrap();
        assert_eq!(code.0, Some(0), "exit status after SIGTERM");
        drop(code.1);
        let answered = write.await.unwrap();
        let fresh = Server::start(&["--data-dir", &data]);
        let after = count(&fresh.base, "protection_targets").await;
        assert!(
            after == before || after == before + u64::from(n),
            "partial write: {before} → {after} (answer {answered:?})"
        );
        if matches!(answered, Ok(201)) {
            assert_eq!(after, before + u64::from(n), "a 201 write must have landed");
        }
        eprintln!("SIGTERM after {delay_ms} ms: answer {answered:?}, {before} → {after}");
    }
}

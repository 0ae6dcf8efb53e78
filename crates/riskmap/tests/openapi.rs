//! End-to-end: the OpenAPI document `riskmap serve` publishes is valid
//! OpenAPI 3.1 by an independent validator (`openapi-spec-validator`), and
//! a bounded schemathesis run of requests generated from it finds no 5xx.
//! Both tools come pinned and hash-checked from
//! `tests/openapi-tools/requirements.txt`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, client};
use serde_json::Value;

fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openapi-tools")
}

/// The virtual environment's `bin` with both tools, created when missing.
/// Never skips: tools that cannot be set up fail the test.
fn tools_bin() -> PathBuf {
    common::python_venv(
        "openapi-tools-venv",
        &tools_dir().join("requirements.txt"),
        |bin| {
            bin.join("openapi-spec-validator").exists()
                && Command::new(bin.join("schemathesis"))
                    .arg("--version")
                    .output()
                    .is_ok_and(|o| o.status.success())
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_validates_and_schemathesis_finds_no_server_error() {
    let bin = tokio::task::spawn_blocking(tools_bin).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&[
        "--data-dir",
        data.to_str().unwrap(),
        "--admin-token",
        "schemathesis-token",
    ]);
    let doc: Value = client()
        .get(server.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    // The landing page links it as the service description.
    let landing: Value = client()
        .get(server.url("/?f=json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        landing["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "service-desc"
                && l["href"].as_str().unwrap().ends_with("/api/openapi.json"))
    );
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = Command::new(bin.join("openapi-spec-validator"))
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openapi-spec-validator: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // Generated requests, bounded in count and time, to 127.0.0.1 only.
    let url = server.url("/api/openapi.json");
    // Its cache (`.schemathesis/`) goes to the scratch directory, not the checkout.
    let scratch = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(bin.join("schemathesis"))
            .current_dir(&scratch)
            .args(["run", &url])
            .args(["--checks", "not_a_server_error"])
            .args(["--max-examples", "25"])
            .args(["--request-timeout", "60"])
            .args(["--header", "Authorization: Bearer schemathesis-token"])
            .args(["--generation-deterministic", "--no-color"])
            .env("SCHEMATHESIS_HOOKS", "")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis found failures:\n{text}");
    eprintln!(
        "{}",
        text.lines().rev().take(15).collect::<Vec<_>>().join("\n")
    );
}

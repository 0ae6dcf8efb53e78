//! End-to-end: `--rules DIR`. A province's override of one band of the
//! enterprise diagnosis moves a demo enterprise to the level its score
//! gives under the new bands; `/health` and every explanation report the
//! new digest, which equals `sha256sum` of the files in force; a bad
//! override or an unknown file name stops the start naming file and key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{Server, client, repo_root, riskmap};
use serde_json::Value;

const FILE: &str = "enterprise-diagnosis-2018.toml";

async fn get_json(url: &str) -> Value {
    let resp = client().get(url).send().await.unwrap();
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.json().await.unwrap()
}

/// `LC_ALL=C sha256sum *.toml | sha256sum` in `dir` (coreutils, the
/// independent reference of the digest).
fn sha256sum_digest(dir: &Path) -> String {
    let out = Command::new("sh")
        .arg("-c")
        .arg("LC_ALL=C sha256sum *.toml | sha256sum")
        .current_dir(dir)
        .output()
        .expect("sha256sum");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

fn sha256sum_file(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap()[..64].to_string()
}

/// The enterprise diagnosis bands: (level, min) from the highest min down.
fn bands(toml_text: &str) -> Vec<(String, Option<f64>)> {
    let doc: toml::Table = toml::from_str(toml_text).unwrap();
    let mut b: Vec<(String, Option<f64>)> = doc["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["level"].as_str().unwrap().to_string(),
                b.get("min").and_then(|m| m.as_float()),
            )
        })
        .collect();
    b.sort_by(|x, y| y.1.unwrap_or(f64::MIN).total_cmp(&x.1.unwrap_or(f64::MIN)));
    b
}

/// The level a score gets by hand: the first band (highest min first)
/// whose min it reaches.
fn band_of(bands: &[(String, Option<f64>)], score: f64) -> String {
    bands
        .iter()
        .find(|(_, min)| min.is_none_or(|m| score >= m))
        .map(|(l, _)| l.clone())
        .unwrap()
}

/// Every enterprise's explanation: id → (level, score, model id, digest).
async fn explanations(server: &Server) -> BTreeMap<String, (String, Option<f64>, String, String)> {
    let fc = get_json(&server.url("/collections/enterprises/items?limit=10000")).await;
    let mut out = BTreeMap::new();
    for f in fc["features"].as_array().unwrap() {
        let id = f["id"].as_str().unwrap();
        let e = get_json(&server.url(&format!("/api/risk/enterprises/{id}"))).await;
        out.insert(
            id.to_string(),
            (
                e["risk_level"].as_str().unwrap().to_string(),
                e["score"].as_f64(),
                e["model"]["id"].as_str().unwrap_or_default().to_string(),
                e["rules_digest"].as_str().unwrap().to_string(),
            ),
        );
    }
    out
}

#[tokio::test]
async fn a_province_band_moves_a_level_and_the_digest_follows() {
    let rules_dir = repo_root().join("data/rules");
    let embedded_text = std::fs::read_to_string(rules_dir.join(FILE)).unwrap();
    let old_bands = bands(&embedded_text);

    // The embedded rules: the digest is sha256sum's over data/rules.
    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", data.path().to_str().unwrap()]);
    let health = get_json(&server.url("/health")).await;
    let embedded_digest = health["rules"]["digest"].as_str().unwrap().to_string();
    assert_eq!(embedded_digest, sha256sum_digest(&rules_dir));
    assert_eq!(health["rules"]["overridden"], serde_json::json!([]));
    let before = explanations(&server).await;
    drop(server);

    // A yellow enterprise whose level is its band: the province raises
    // the yellow band's lower bound just above its score.
    let (id, score) = before
        .iter()
        .filter(|(_, (level, score, model, digest))| {
            assert_eq!(digest, &embedded_digest);
            model == "enterprise-diagnosis-2018"
                && level == "yellow"
                && score.is_some_and(|s| band_of(&old_bands, s) == "yellow" && s + 0.5 < 90.0)
        })
        .map(|(id, (_, s, _, _))| (id.clone(), s.unwrap()))
        .next()
        .expect("a yellow enterprise scored by the diagnosis model");
    let old_min = old_bands
        .iter()
        .find(|(l, _)| l == "yellow")
        .unwrap()
        .1
        .unwrap();
    let new_min = score + 0.5;
    let province = tempfile::tempdir().unwrap();
    let new_text = embedded_text.replacen(
        &format!("level = \"yellow\"\nmin = {old_min:.1}"),
        &format!("level = \"yellow\"\nmin = {new_min:?}"),
        1,
    );
    assert_ne!(new_text, embedded_text, "the yellow band is where expected");
    std::fs::write(province.path().join(FILE), &new_text).unwrap();
    let new_bands = bands(&new_text);

    let data = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        data.path().to_str().unwrap(),
        "--rules",
        province.path().to_str().unwrap(),
    ]);
    let health = get_json(&server.url("/health")).await;
    let digest = health["rules"]["digest"].as_str().unwrap().to_string();
    assert_ne!(digest, embedded_digest);
    assert_eq!(health["rules"]["overridden"], serde_json::json!([FILE]));
    assert_eq!(
        health["rules"]["files"][FILE].as_str().unwrap(),
        sha256sum_file(&province.path().join(FILE))
    );
    // The digest is sha256sum's over the files in force.
    let in_force = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&rules_dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&p, in_force.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    std::fs::write(in_force.path().join(FILE), &new_text).unwrap();
    assert_eq!(digest, sha256sum_digest(in_force.path()));

    let after = explanations(&server).await;
    let (level, new_score, _, d) = &after[&id];
    assert_eq!(
        new_score,
        &Some(score),
        "{id}: the score does not depend on bands"
    );
    assert_eq!(
        level, "orange",
        "{id} scored {score}, yellow now from {new_min}"
    );
    assert_eq!(d, &digest);
    // Every enterprise whose level was its band's has its new band's level.
    let mut moved = 0;
    for (eid, (old_level, s, model, _)) in &before {
        let Some(s) = s else { continue };
        if model != "enterprise-diagnosis-2018" || *old_level != band_of(&old_bands, *s) {
            continue;
        }
        let expected = band_of(&new_bands, *s);
        assert_eq!(after[eid].0, expected, "{eid} scored {s}");
        moved += usize::from(expected != *old_level);
    }
    assert!(moved >= 1);
    drop(server);

    // `riskmap score` scores with the same rules.
    let out = riskmap()
        .args([
            "score",
            "--json",
            "--data-dir",
            data.path().to_str().unwrap(),
        ])
        .args(["--rules", province.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["enterprises"][&id], "orange");
}

fn start_fails(rules: &Path) -> String {
    let data = tempfile::tempdir().unwrap();
    let out = riskmap()
        .args(["serve", "--addr", "127.0.0.1:0", "--no-demo"])
        .args(["--data-dir", data.path().to_str().unwrap()])
        .args(["--rules", rules.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the start is refused");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("listening on"), "{stderr}");
    stderr
}

#[test]
fn a_bad_override_stops_the_start_naming_file_and_key() {
    let embedded = std::fs::read_to_string(repo_root().join("data/rules").join(FILE)).unwrap();
    // A wrong type.
    let dir = tempfile::tempdir().unwrap();
    let bad = embedded.replacen("min = 75.0", "min = \"seventy-five\"", 1);
    std::fs::write(dir.path().join(FILE), bad).unwrap();
    let stderr = start_fails(dir.path());
    let path = dir.path().join(FILE);
    assert!(
        stderr.contains(&format!(
            "{}: bands[1].min: invalid type: string \"seventy-five\"",
            path.display()
        )),
        "{stderr}"
    );
    // Bands that overlap: the semantic check names the key.
    let bad = embedded.replacen("min = 75.0", "min = 95.0", 1);
    std::fs::write(dir.path().join(FILE), bad).unwrap();
    let stderr = start_fails(dir.path());
    assert!(
        stderr.contains(&format!("{}: bands", path.display())),
        "{stderr}"
    );
    // A safety table: the key of the wrong value.
    let dir = tempfile::tempdir().unwrap();
    let speeds = std::fs::read_to_string(repo_root().join("data/rules/road-speeds.toml"))
        .unwrap()
        .replacen("primary = 45.0", "primary = -45.0", 1);
    std::fs::write(dir.path().join("road-speeds.toml"), speeds).unwrap();
    let stderr = start_fails(dir.path());
    assert!(stderr.contains("road-speeds.toml"), "{stderr}");
    assert!(stderr.contains("speeds_kmh.primary"), "{stderr}");
    // Unknown names, all of them.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("grids.toml"), "").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "").unwrap();
    let stderr = start_fails(dir.path());
    assert!(stderr.contains("grids.toml"), "{stderr}");
    assert!(stderr.contains("notes.txt"), "{stderr}");
    assert!(stderr.contains("not a rules file name"), "{stderr}");
}

//! End-to-end: `riskmap import` reports every error and changes nothing on
//! failure, also when killed with SIGKILL in the middle of a large import.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;

use common::riskmap;
use riskmap_core::Collection;
use riskmap_store::{SqliteStore, Store};
use serde_json::{Value, json};

fn target(id: &str, lon: f64, lat: f64) -> Value {
    json!({"type": "Feature", "id": id, "geometry": {"type": "Point", "coordinates": [lon, lat]},
           "properties": {"name": format!("住宅 {id}"), "category": "residential", "population": 120, "households": 40}})
}

fn write_fc(path: &Path, features: Vec<Value>) {
    std::fs::write(
        path,
        json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
}

/// Runs `riskmap import <collection> <file> --data-dir <data>` to its end.
fn import_file(collection: &str, file: &Path, data: &Path) -> std::process::Output {
    riskmap()
        .args(["import", collection])
        .arg(file)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

async fn count(dir: &Path) -> u64 {
    SqliteStore::open(dir)
        .await
        .unwrap()
        .count(Collection::ProtectionTargets)
        .await
        .unwrap()
}

#[tokio::test]
async fn three_bad_records_are_all_reported_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let good = dir.path().join("good.geojson");
    write_fc(
        &good,
        (0..20)
            .map(|i| target(&format!("g{i}"), 120.3 + i as f64 * 0.001, 30.3))
            .collect(),
    );
    let out = import_file("protection_targets", &good, &data);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(count(&data).await, 20);

    let mut features: Vec<Value> = (0..10)
        .map(|i| target(&format!("n{i}"), 120.4, 30.3 + i as f64 * 0.001))
        .collect();
    features[2]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("category");
    features[5]["geometry"]["coordinates"] = json!([300.0, 30.0]);
    features[7]["properties"]["households"] = json!("many");
    let bad = dir.path().join("bad.geojson");
    write_fc(&bad, features);
    let out = import_file("protection_targets", &bad, &data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("3 error(s)"), "{stderr}");
    for expected in [
        "record 2 (id \"n2\"), field `category`",
        "record 5 (id \"n5\"), field `geometry.coordinates`",
        "record 7 (id \"n7\"), field `households`",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    assert_eq!(count(&data).await, 20);
}

#[tokio::test]
async fn gcj02_csv_import_lands_in_wgs84() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let csv = dir.path().join("targets.csv");
    // GCJ-02 of WGS84 (120.30, 30.30), computed with the forward transform.
    let (glon, glat) = riskmap_spatial::crs::wgs84_to_gcj02(120.30, 30.30);
    std::fs::write(
        &csv,
        format!(
            "id,name,category,population,lon,lat\nk1,阳光幼儿园,kindergarten,180,{glon},{glat}\n"
        ),
    )
    .unwrap();
    let out = riskmap()
        .args(["import", "protection_targets"])
        .arg(&csv)
        .args(["--crs", "GCJ02", "--data-dir"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = SqliteStore::open(&data).await.unwrap();
    let f = store
        .get(Collection::ProtectionTargets, "k1")
        .await
        .unwrap()
        .unwrap();
    let geo::Geometry::Point(p) = f.geometry else {
        panic!()
    };
    assert!(
        (p.x() - 120.30).abs() < 1e-8 && (p.y() - 30.30).abs() < 1e-8,
        "{p:?}"
    );
}

#[tokio::test]
async fn sigkill_during_a_large_import_leaves_the_store_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let base = dir.path().join("base.geojson");
    write_fc(
        &base,
        (0..100)
            .map(|i| target(&format!("b{i}"), 120.2, 30.2 + i as f64 * 0.0001))
            .collect(),
    );
    assert!(
        riskmap()
            .args(["import", "protection_targets"])
            .arg(&base)
            .arg("--data-dir")
            .arg(&data)
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(count(&data).await, 100);

    // 150,000 records, some replacing the base ones: the write takes seconds.
    let big = dir.path().join("big.geojson");
    write_fc(
        &big,
        (0..150_000)
            .map(|i| {
                target(
                    &format!("b{i}"),
                    120.0 + (i % 1000) as f64 * 0.0005,
                    30.0 + (i / 1000) as f64 * 0.0005,
                )
            })
            .collect(),
    );
    let mut child = riskmap()
        .args(["import", "protection_targets"])
        .arg(&big)
        .arg("--data-dir")
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    // Wait until the transaction has written 10,000 rows, then kill -9.
    let mut seen = Vec::new();
    loop {
        let line = lines
            .next()
            .expect("import ended before writing 10,000 rows")
            .unwrap();
        // Plain progress lines (not a terminal): `writing: 10000/150000`.
        if line.trim().starts_with("writing: 10000/") {
            break;
        }
        seen.push(line);
    }
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "the import finished before it was killed: {seen:?}"
    );

    assert_eq!(count(&data).await, 100);
    let store = SqliteStore::open(&data).await.unwrap();
    let b0 = store
        .get(Collection::ProtectionTargets, "b0")
        .await
        .unwrap()
        .unwrap();
    let geo::Geometry::Point(p) = b0.geometry else {
        panic!()
    };
    assert!(
        (p.x() - 120.2).abs() < 1e-12,
        "b0 was replaced by the killed import"
    );
    assert!(
        store
            .get(Collection::ProtectionTargets, "b5000")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_gbk_csv_is_read_and_undecodable_bytes_exit_2_with_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // "一中" in GBK, as Chinese office software saves CSV.
    let mut gbk = b"id,name,category,population,lon,lat\nt1,".to_vec();
    gbk.extend([0xd2, 0xbb, 0xd6, 0xd0]);
    gbk.extend(b",school,1200,120.1,30.2\n");
    let file = dir.path().join("targets.csv");
    std::fs::write(&file, &gbk).unwrap();
    let out = import_file("protection_targets", &file, &data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("read as GB18030"), "{stderr}");
    let store = SqliteStore::open(&data).await.unwrap();
    let f = store
        .get(Collection::ProtectionTargets, "t1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(f.record.name(), Some("一中"));
    drop(store);
    // Bytes that are neither UTF-8 nor GB18030: exit 2, the line named,
    // nothing written.
    let bad = b"id,name,category,population,lon,lat\nt2,ok,school,10,120.1,30.2\nt3,\x81\xff\xfe,school,10,120.1,30.2\n";
    std::fs::write(&file, bad).unwrap();
    let out = import_file("protection_targets", &file, &data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("line 3"), "{stderr}");
    assert_eq!(count(&data).await, 1);
    // A repeated column: exit 2.
    std::fs::write(
        &file,
        "id,name,name,category,lon,lat\nt4,a,b,school,120.1,30.2\n",
    )
    .unwrap();
    let out = import_file("protection_targets", &file, &data);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("appears twice"));
    assert_eq!(count(&data).await, 1);
    // An enterprise in a district that is not loaded: exit 2, by field.
    let ents = dir.path().join("enterprises.csv");
    std::fs::write(
        &ents,
        "id,name,district_code,lon,lat\ne1,示例化工,330199,120.1,30.2\n",
    )
    .unwrap();
    let out = import_file("enterprises", &ents, &data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("district_code") && stderr.contains("330199"),
        "{stderr}"
    );
}

//! End-to-end: external safety distances and siting answers (外部安全防护距离,
//! 规划选址) through the HTTP API and the `riskmap site-check` command of a
//! real `riskmap serve`.
//!
//! A new chlorine store (新建装置, 50 t 液氯 — a major hazard, so GB/T 37243
//! asks for a QRA) is written through the API in an empty area east of the
//! demo city. Its 3×10⁻⁷/yr individual-risk contour is the external safety
//! distance for 高敏感 targets such as schools. A school 60 m inside that
//! contour must be reported with a margin of about −60 m; 60 m outside, it
//! must be clear.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, client, riskmap};
use serde_json::{Value, json};

const TOKEN: &str = "s1t1ng";
const LON0: f64 = 120.90;
const LAT0: f64 = 30.55;
const SITE: &str = "siting-test-chlorine";

fn m_per_deg_lon() -> f64 {
    111_320.0 * LAT0.to_radians().cos()
}

fn site_feature() -> Value {
    let (dx, dy) = (100.0 / m_per_deg_lon(), 100.0 / 111_320.0);
    json!({
        "type": "Feature", "id": SITE,
        "geometry": {"type": "Polygon", "coordinates": [[
            [LON0 - dx, LAT0 - dy], [LON0 + dx, LAT0 - dy], [LON0 + dx, LAT0 + dy],
            [LON0 - dx, LAT0 + dy], [LON0 - dx, LAT0 - dy]]]},
        "properties": {
            "name": "示例新建液氯储存站", "industry": "化工", "installation": "new",
            "employees": 40, "standardization_level": 2,
            "units": [{"id": "T1", "kind": "storage", "name": "液氯储罐",
                       "substances": [{"name": "液氯", "cas": "7782-50-5", "quantity_t": 50.0}]}]
        }
    })
}

async fn get_json(url: &str) -> Value {
    let resp = client().get(url).send().await.unwrap();
    assert!(resp.status().is_success(), "GET {url}: {}", resp.status());
    resp.json().await.unwrap()
}

async fn check(server: &Server, body: &Value) -> (u16, Value) {
    let resp = client()
        .post(server.url("/api/siting/check"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

/// The easternmost vertex of a GeoJSON (Multi)Polygon.
fn easternmost(g: &Value) -> (f64, f64) {
    let mut best = (f64::MIN, 0.0);
    fn walk(v: &Value, best: &mut (f64, f64)) {
        if let Some(a) = v.as_array() {
            if a.len() == 2 && a[0].is_number() {
                let (x, y) = (a[0].as_f64().unwrap(), a[1].as_f64().unwrap());
                if x > best.0 {
                    *best = (x, y);
                }
            } else {
                for x in a {
                    walk(x, best);
                }
            }
        }
    }
    walk(&g["coordinates"], &mut best);
    best
}

fn school(lon: f64, lat: f64) -> Value {
    json!({"use": "school", "name": "拟建示例小学", "population": 1200,
           "geometry": {"type": "Point", "coordinates": [lon, lat]}})
}

#[tokio::test]
async fn a_school_inside_the_3e7_contour_conflicts_and_just_outside_is_clear() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_string();
    let server = Server::start(&["--data-dir", &data_dir, "--admin-token", TOKEN]);

    let resp = client()
        .post(server.url("/collections/enterprises/items"))
        .bearer_auth(TOKEN)
        .json(&site_feature())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());

    // The site's report: QRA chosen, the 3e-7 zone protects 高敏感 targets.
    let report = get_json(&server.url(&format!("/api/sites/{SITE}/report"))).await;
    let methods: Vec<&str> = report["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert!(methods.contains(&"qra"), "{methods:?}");
    assert!(!report["scenarios"].as_array().unwrap().is_empty());
    assert!(
        report["fn_curve"]["points"].is_array(),
        "{}",
        report["fn_curve"]
    );
    let zone = report["zones_geojson"]["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| {
            let p = &z["properties"];
            p["kind"] == "iso_risk"
                && (p["level"].as_f64().unwrap() - 3e-7).abs() < 1e-12
                && p["classes"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("high_sensitivity"))
        })
        .unwrap_or_else(|| panic!("no 3e-7 zone for schools: {:#}", report["zones"]))
        .clone();
    let zone_id = zone["id"].as_str().unwrap().to_string();
    let radius_m = zone["properties"]["distance_m"].as_f64().unwrap();
    assert!(
        radius_m > 60.0,
        "3e-7 zone reaches only {radius_m} m beyond the site"
    );
    let cell_m = report["grid"]["cell_m"].as_f64().unwrap();

    let (vx, vy) = easternmost(&zone["geometry"]);
    let step = 60.0 / m_per_deg_lon();

    // Inside by 60 m: a conflict with that zone, margin about −60 m.
    let (status, inside) = check(&server, &school(vx - step, vy)).await;
    assert_eq!(status, 200, "{inside:#}");
    assert_eq!(inside["target_class"], "high_sensitivity", "{inside:#}");
    assert_eq!(inside["clear"], false);
    let c = inside["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["zone_id"] == zone_id.as_str())
        .unwrap_or_else(|| panic!("no conflict with {zone_id}: {inside:#}"));
    assert_eq!(c["site_id"], SITE);
    assert_eq!(c["method"], "qra");
    assert_eq!(c["criterion_per_year"].as_f64().unwrap(), 3e-7);
    assert!(
        c["individual_risk_per_year"].as_f64().unwrap() >= 3e-7,
        "{c:#}"
    );
    let margin = c["margin_m"].as_f64().unwrap();
    let tol = 5.0 + cell_m;
    assert!(
        (margin + 60.0).abs() <= tol,
        "margin {margin} m, expected −60 ± {tol} m"
    );
    assert!(c["clause"].as_str().unwrap().contains("GB 36894"), "{c:#}");
    assert!(
        inside["considered"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == SITE)
    );

    // Outside by 60 m: clear, and the site was considered.
    let (status, outside) = check(&server, &school(vx + step, vy)).await;
    assert_eq!(status, 200, "{outside:#}");
    assert_eq!(outside["clear"], true, "{outside:#}");
    assert!(outside["conflicts"].as_array().unwrap().is_empty());
    assert!(
        outside["considered"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == SITE),
        "{outside:#}"
    );

    // The same through the CLI, on the same store: exit 3 with the conflict, 0 clear.
    let point = |lon: f64| format!(r#"{{"type":"Point","coordinates":[{lon},{vy}]}}"#);
    let out = riskmap()
        .args(["site-check", "--data-dir", &data_dir, "--use", "school"])
        .args(["--population", "1200", "--geometry", &point(vx - step)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains(SITE) && text.contains("CONFLICTS"), "{text}");
    let out = riskmap()
        .args([
            "site-check",
            "--data-dir",
            &data_dir,
            "--use",
            "school",
            "--json",
        ])
        .args(["--geometry", &point(vx - step)])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cli_margin = json["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["zone_id"] == zone_id.as_str())
        .unwrap()["margin_m"]
        .as_f64()
        .unwrap();
    assert!(
        (cli_margin - margin).abs() < 0.5,
        "CLI {cli_margin} vs HTTP {margin}"
    );
    let out = riskmap()
        .args(["site-check", "--data-dir", &data_dir, "--use", "school"])
        .args(["--geometry", &point(vx + step)])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("CLEAR"), "{text}");
}

#[tokio::test]
async fn zones_and_violations_follow_edits_and_feed_the_enterprise_score() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--admin-token",
        TOKEN,
    ]);
    let resp = client()
        .post(server.url("/collections/enterprises/items"))
        .bearer_auth(TOKEN)
        .json(&site_feature())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let zones = get_json(&server.url("/collections/safety_zones/items?limit=10000")).await;
    assert!(
        zones["features"]
            .as_array()
            .unwrap()
            .iter()
            .any(|z| z["properties"]["site_id"] == SITE)
    );
    let before = get_json(&server.url(&format!("/api/risk/enterprises/{SITE}"))).await;
    let score_before = before["score"].as_f64().unwrap();

    // A kindergarten 30 m east of the site edge, well inside the 3e-7 contour
    // (about 190 m from the centre for 50 t of chlorine).
    let k = json!({"type": "Feature", "id": "siting-test-kindergarten",
        "geometry": {"type": "Point", "coordinates": [LON0 + 130.0 / m_per_deg_lon(), LAT0]},
        "properties": {"name": "示例幼儿园", "category": "kindergarten", "population": 200}});
    let resp = client()
        .post(server.url("/collections/protection_targets/items"))
        .bearer_auth(TOKEN)
        .json(&k)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v = get_json(&server.url("/collections/violations/items?limit=10000")).await;
    let mine: Vec<&Value> = v["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["target_id"] == "siting-test-kindergarten")
        .collect();
    assert!(!mine.is_empty(), "no violation for the kindergarten");
    assert!(mine.iter().all(|f| f["properties"]["site_id"] == SITE));
    assert!(
        mine.iter()
            .all(|f| f["properties"]["margin_m"].as_f64().unwrap() < 0.0)
    );

    // The enterprise diagnosis now deducts for the external distance (周边环境).
    let after = get_json(&server.url(&format!("/api/risk/enterprises/{SITE}"))).await;
    let score_after = after["score"].as_f64().unwrap();
    assert!(
        score_after < score_before,
        "{score_before} -> {score_after}"
    );
    assert!(
        after["factors"]
            .to_string()
            .contains("external safety distance NOT met"),
        "{:#}",
        after["factors"]
    );
    let report = get_json(&server.url(&format!("/api/sites/{SITE}/report"))).await;
    assert!(!report["violations"].as_array().unwrap().is_empty());

    // The same as vector tiles: the zones and the violation, decoded.
    let tj = get_json(&server.url("/tiles/safety_zones.json")).await;
    assert_eq!(tj["vector_layers"][0]["id"], "safety_zones");
    let t = riskmap_tiles::TileCoord::from_lonlat(LON0, LAT0, 14);
    let fetch = |ts: &'static str| {
        let url = server.url(&format!("/tiles/{ts}/{t}.mvt"));
        async move {
            let resp = client().get(&url).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{url}");
            let etag = resp.headers()["etag"].to_str().unwrap().to_string();
            let bytes = resp.bytes().await.unwrap();
            let tile = riskmap_tiles::decode_tile(&bytes).unwrap();
            let props: Vec<String> = tile
                .layers
                .iter()
                .flat_map(|l| l.features.iter())
                .map(|f| format!("{:?}", f.properties))
                .collect();
            (etag, props)
        }
    };
    let (_, zones_tile) = fetch("safety_zones").await;
    assert!(
        zones_tile.iter().any(|p| p.contains(SITE)),
        "{zones_tile:?}"
    );
    let (violations_etag, violations_tile) = fetch("violations").await;
    assert!(
        violations_tile
            .iter()
            .any(|p| p.contains("siting-test-kindergarten")),
        "{violations_tile:?}"
    );

    // Deleting the kindergarten clears the violation.
    let resp = client()
        .delete(server.url("/collections/protection_targets/items/siting-test-kindergarten"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());
    let v = get_json(&server.url("/collections/violations/items?limit=10000")).await;
    assert!(
        v["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["target_id"] != "siting-test-kindergarten")
    );
    let (etag_after, violations_tile) = fetch("violations").await;
    assert_ne!(etag_after, violations_etag);
    assert!(
        violations_tile
            .iter()
            .all(|p| !p.contains("siting-test-kindergarten"))
    );
    let again = get_json(&server.url(&format!("/api/risk/enterprises/{SITE}"))).await;
    assert_eq!(again["score"].as_f64().unwrap(), score_before);
}

#[tokio::test]
async fn a_proposed_hazardous_site_lists_the_targets_inside_its_zones_and_bad_input_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    // 60 m from real housing (一般防护目标一类: ≥ 100 residents) in the demo:
    // a new 30 t chlorine store proposed there conflicts with it.
    let targets = get_json(&server.url("/collections/protection_targets/items?limit=10000")).await;
    let home = targets["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            let p = &f["properties"];
            p["category"] == "residential"
                && f["geometry"]["type"] == "Polygon"
                && p["population"].as_f64().unwrap_or(0.0) >= 100.0
        })
        .expect("a residential polygon with at least 100 residents")
        .clone();
    let (hx, hy) = easternmost(&home["geometry"]);
    let body = json!({
        "use": "hazardous_site", "name": "拟建液氯库",
        "geometry": {"type": "Point", "coordinates": [hx + 60.0 / m_per_deg_lon(), hy]},
        "units": [{"id": "T1", "kind": "storage",
                   "substances": [{"name": "液氯", "cas": "7782-50-5", "quantity_t": 30.0}]}]
    });
    let (status, answer) = check(&server, &body).await;
    assert_eq!(status, 200, "{answer:#}");
    assert_eq!(answer["kind"], "hazardous_site");
    assert!(!answer["zones"].as_array().unwrap().is_empty());
    assert_eq!(answer["clear"], false, "{answer:#}");
    assert!(
        answer["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["target_id"] == home["id"]),
        "the housing 60 m away is not among the conflicts: {answer:#}"
    );
    assert!(!answer["considered"].as_array().unwrap().is_empty());
    assert!(answer["assessment"]["methods"].to_string().contains("qra"));

    // Bad input: every error names the field; nothing is computed.
    for (body, field) in [
        (
            json!({"use": "spaceport", "geometry": {"type": "Point", "coordinates": [120.3, 30.3]}}),
            "use",
        ),
        (json!({"use": "school"}), "geometry"),
        (
            json!({"use": "school", "crs": "EPSG:3857", "geometry": {"type": "Point", "coordinates": [120.3, 30.3]}}),
            "crs",
        ),
        (
            json!({"use": "school", "geometry": {"type": "Point", "coordinates": [200.0, 30.3]}}),
            "geometry",
        ),
        (
            json!({"use": "hazardous_site", "geometry": {"type": "Point", "coordinates": [120.3, 30.3]},
                "units": [{"id": "T1", "kind": "storage", "substances": [{"name": "不存在的化学品", "quantity_t": 1.0}]}]}),
            "units[0].substances[0]",
        ),
    ] {
        let (status, err) = check(&server, &body).await;
        assert_eq!(status, 400, "{body} -> {err:#}");
        assert!(
            err.to_string().contains(field),
            "{body} -> {err:#} (expected field {field})"
        );
    }
}

/// A school box over the demo city, from half a degree to twenty degrees
/// wide: the same sites' zones lie inside every one, so every width reports
/// the same conflicts, and none answers "clear".
#[tokio::test]
async fn a_wide_school_box_reports_the_same_conflicts_at_any_width() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&["--data-dir", dir.path().to_str().unwrap()]);
    let centre = 120.45;
    let mut seen: Option<Vec<String>> = None;
    for width in [0.5, 3.0, 6.0, 10.0, 20.0, 60.0] {
        let (w, e) = (centre - width / 2.0, centre + width / 2.0);
        let body = json!({"use": "school", "name": "规划学校", "population": 1200,
            "geometry": {"type": "Polygon", "coordinates": [[[w, 30.2], [e, 30.2], [e, 30.4], [w, 30.4], [w, 30.2]]]}});
        let (status, answer) = check(&server, &body).await;
        assert_eq!(status, 200, "{width}°: {answer}");
        assert_eq!(
            answer["clear"], false,
            "{width}°: a wide box is never clear here"
        );
        let mut ids: Vec<String> = answer["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c["site_id"], c["zone_id"]))
            .collect();
        ids.sort();
        assert!(!ids.is_empty());
        match &seen {
            None => seen = Some(ids),
            Some(first) => assert_eq!(&ids, first, "{width}° against 0.5°"),
        }
    }
}

//! End-to-end: `riskmap serve --roads FILE.osm` ranks help by road. A bad
//! road file stops the start and names the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Server, client, repo_root, riskmap};
use serde_json::{Value, json};

#[test]
fn a_bad_road_file_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.osm");
    std::fs::write(&bad, "<osm><node id='1' lat='north' lon='120'/></osm>").unwrap();
    for (file, expect) in [
        (bad.clone(), "lat"),
        (dir.path().join("missing.osm"), "cannot read"),
    ] {
        let out = riskmap()
            .args(["serve", "--addr", "127.0.0.1:0", "--no-demo", "--data-dir"])
            .arg(dir.path().join("data"))
            .arg("--roads")
            .arg(&file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains(&*file.to_string_lossy()) && err.contains(expect),
            "{err}"
        );
    }
}

#[tokio::test]
async fn help_goes_by_road_where_the_network_reaches() {
    let dir = tempfile::tempdir().unwrap();
    let roads = repo_root().join("data/roads/shanghai-jingan.osm");
    let server = Server::start(&[
        "--data-dir",
        dir.path().to_str().unwrap(),
        "--admin-token",
        "t0ken",
        "--roads",
        roads.to_str().unwrap(),
    ]);
    let c = client();
    // A team in Jing'an, on the network; the demo city's teams are far off it.
    let team = json!({"type": "Feature", "id": "jingan-fire", "geometry": {"type": "Point",
        "coordinates": [121.4700, 31.2390]}, "properties": {"name": "静安消防站", "kind": "fire", "members": 30}});
    let r = c
        .post(server.url("/collections/rescue_teams/items"))
        .bearer_auth("t0ken")
        .header("content-type", "application/geo+json")
        .body(team.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().await.unwrap());
    let point = [121.4745, 31.2300];
    let body = json!({"point": point, "substance": "氯气", "wind_from_deg": 0, "wind_speed_m_s": 3,
        "time_of_day": "day", "cloud_cover_oktas": 4,
        "release": {"kind": "continuous", "rate_kg_s": 0.5, "duration_s": 600}});
    let r = c
        .post(server.url("/api/incidents/assess"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let a: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{a}");
    let help = &a["help"];
    assert_eq!(help["roads"]["source"], "shanghai-jingan.osm", "{help}");
    assert!(help["distance_basis"].as_str().unwrap().starts_with("road"));
    let teams = help["teams"].as_array().unwrap();
    let first = &teams[0];
    assert_eq!(first["id"], "jingan-fire", "{help}");
    assert_eq!(first["distance_basis"], "road");
    let route = first["route"].as_array().unwrap();
    assert_eq!(route[0], json!([121.47, 31.239]));
    assert_eq!(route[route.len() - 1], json!(point));
    assert!(first["distance_m"].as_f64().unwrap() > 1000.0);
    // Hangzhou's teams are 170 km away: straight lines, saying why.
    for t in &teams[1..] {
        assert_eq!(t["distance_basis"], "straight_line", "{t}");
        assert!(t["route"].is_null());
        assert!(
            t["route_note"].as_str().unwrap().contains("road node"),
            "{t}"
        );
    }
}

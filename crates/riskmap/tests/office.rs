//! End-to-end: office formats of the registers (隐患台账).
//!
//! - An .xlsx export of hidden dangers, read back by an independent reader
//!   (openpyxl, see `tests/xlsx-reader/`), equals the items cell by cell; an
//!   enterprises export has its `risk_level` cells in the four colours.
//! - Exports re-import unchanged: xlsx exactly, CSV up to the text of
//!   properties outside the schema.
//! - An .xlsx import with three bad rows is refused whole, each error naming
//!   the sheet row and the column; nothing is stored.
//! - A GBK CSV with Chinese headers imports.
//! - CSV and .xlsx bodies of `POST /collections/{c}/items` land like GeoJSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Server, client, riskmap};
use riskmap_core::{Collection, Feature};
use riskmap_store::{SqliteStore, Store};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::{Value, json};

const TOKEN: &str = "office-test-token";
const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn reader_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xlsx-reader")
}

/// The Python of the reader's virtual environment, created (and the pinned,
/// hash-checked openpyxl installed) when missing. `scripts/test` does the
/// same up front; `RISKMAP_XLSX_PYTHON` overrides. Never skips: a reader
/// that cannot be set up fails the test.
fn reader_python() -> PathBuf {
    if let Ok(p) = std::env::var("RISKMAP_XLSX_PYTHON") {
        return PathBuf::from(p);
    }
    common::python_venv(
        "xlsx-reader-venv",
        &reader_dir().join("requirements.txt"),
        |bin| common::python_runs(&bin.join("python"), "import openpyxl"),
    )
    .join("python")
}

/// The first sheet of a workbook as openpyxl reads it.
fn read_xlsx(path: &Path) -> Value {
    let out = Command::new(reader_python())
        .arg(reader_dir().join("read_xlsx.py"))
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reader failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn get(server: &Server, path: &str) -> reqwest::Response {
    let resp = client().get(server.url(path)).send().await.unwrap();
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp
}

async fn get_json(server: &Server, path: &str) -> Value {
    get(server, path).await.json().await.unwrap()
}

/// A cell equals a property: same text, same number, JSON text of the same
/// list or object, empty for null.
fn assert_cell(cell: &Value, prop: &Value, what: &str) {
    match prop {
        Value::Null => assert!(cell.is_null(), "{what}: {cell} for null"),
        Value::Number(n) => assert_eq!(cell.as_f64(), n.as_f64(), "{what}"),
        Value::Array(_) | Value::Object(_) => {
            let parsed: Value = serde_json::from_str(cell.as_str().unwrap_or("")).unwrap();
            assert_eq!(&parsed, prop, "{what}");
        }
        _ => assert_eq!(cell, prop, "{what}"),
    }
}

const DANGER_FIELDS: [&str; 15] = [
    "enterprise_id",
    "district_code",
    "industry",
    "source",
    "level",
    "rule_item",
    "description",
    "found_date",
    "deadline",
    "responsible_person",
    "measures",
    "funds_cny",
    "status",
    "listing_level",
    "history",
];

#[tokio::test]
async fn an_xlsx_export_reads_back_in_openpyxl_as_the_items() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data-dir", data.to_str().unwrap()]);
    let items = get_json(&server, "/collections/hidden_dangers/items?limit=10000").await;
    let features = items["features"].as_array().unwrap();
    assert!(features.len() >= 30, "{} dangers", features.len());
    let today = get_json(&server, "/health").await["today"]
        .as_str()
        .unwrap()
        .to_string();
    let lifecycle = get_json(&server, "/api/hidden-dangers/lifecycle").await;
    let open_states: Vec<&str> = lifecycle["states"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["open"] == json!(true))
        .map(|s| s["id"].as_str().unwrap())
        .collect();

    let resp = get(&server, "/collections/hidden_dangers/items?f=xlsx").await;
    assert_eq!(resp.headers()["content-type"], XLSX);
    assert_eq!(
        resp.headers()["content-disposition"],
        "attachment; filename=\"hidden_dangers.xlsx\""
    );
    let book = dir.path().join("hidden_dangers.xlsx");
    std::fs::write(&book, resp.bytes().await.unwrap()).unwrap();
    let sheet = read_xlsx(&book);
    assert_eq!(sheet["sheet"], "hidden_dangers");
    assert_eq!(sheet["freeze_panes"], "A2");
    let rows = sheet["rows"].as_array().unwrap();
    // The header: id, the schema fields, the properties outside the schema
    // in order of first appearance, lon, lat, overdue.
    let mut extra: Vec<String> = Vec::new();
    for f in features {
        for k in f["properties"].as_object().unwrap().keys() {
            // The last change time comes last.
            if !DANGER_FIELDS.contains(&k.as_str()) && !extra.contains(k) && k != "updated" {
                extra.push(k.clone());
            }
        }
    }
    let mut want_header: Vec<String> = vec!["id".into()];
    want_header.extend(DANGER_FIELDS.map(String::from));
    want_header.extend(extra.iter().cloned());
    want_header.extend(["lon", "lat", "overdue", "updated"].map(String::from));
    let header: Vec<String> = rows[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(header, want_header);
    assert_eq!(rows.len(), features.len() + 1);
    let mut overdue = 0;
    for (f, row) in features.iter().zip(&rows[1..]) {
        let row = row.as_array().unwrap();
        let id = f["id"].as_str().unwrap();
        assert_eq!(row[0], json!(id));
        let props = f["properties"].as_object().unwrap();
        for (k, cell) in header.iter().zip(row).skip(1) {
            match k.as_str() {
                "lon" => assert_eq!(cell.as_f64(), f["geometry"]["coordinates"][0].as_f64()),
                "lat" => assert_eq!(cell.as_f64(), f["geometry"]["coordinates"][1].as_f64()),
                "overdue" => {
                    let status = props["status"].as_str().unwrap();
                    let late = open_states.contains(&status)
                        && props
                            .get("deadline")
                            .and_then(Value::as_str)
                            .is_some_and(|d| d < today.as_str());
                    assert_eq!(cell, &json!(late), "{id} overdue");
                    overdue += usize::from(late);
                }
                _ => assert_cell(
                    cell,
                    props.get(k).unwrap_or(&Value::Null),
                    &format!("{id}.{k}"),
                ),
            }
        }
    }
    assert!(overdue > 0, "no overdue danger in the demo");

    // The filters of the items endpoint apply: a box and a page.
    let bbox = "120.55,30.25,120.65,30.35";
    let matched = get_json(
        &server,
        &format!("/collections/hidden_dangers/items?bbox={bbox}&limit=1"),
    )
    .await["numberMatched"]
        .as_u64()
        .unwrap() as usize;
    assert!(matched > 2 && matched < features.len(), "{matched}");
    let resp = get(
        &server,
        &format!("/collections/hidden_dangers/items?f=xlsx&bbox={bbox}&offset=1&limit=1000"),
    )
    .await;
    std::fs::write(&book, resp.bytes().await.unwrap()).unwrap();
    assert_eq!(
        read_xlsx(&book)["rows"].as_array().unwrap().len(),
        matched - 1 + 1
    );

    // Enterprises: risk_level in the four colours of the style.
    let ents = get_json(&server, "/collections/enterprises/items?limit=10000").await;
    let resp = get(&server, "/collections/enterprises/items?f=xlsx").await;
    std::fs::write(&book, resp.bytes().await.unwrap()).unwrap();
    let sheet = read_xlsx(&book);
    let rows = sheet["rows"].as_array().unwrap();
    let col = rows[0]
        .as_array()
        .unwrap()
        .iter()
        .position(|h| h == "risk_level")
        .unwrap();
    let palette = |l: &str| match l {
        "red" => "FF0000",
        "orange" => "ED7D31",
        "yellow" => "FFFF00",
        "blue" => "00B0F0",
        other => panic!("level {other}"),
    };
    let ents = ents["features"].as_array().unwrap();
    assert_eq!(rows.len(), ents.len() + 1);
    let mut levels = std::collections::BTreeSet::new();
    for (i, f) in ents.iter().enumerate() {
        let level = f["properties"]["risk_level"].as_str().unwrap();
        assert_eq!(rows[i + 1][col], json!(level), "{}", f["id"]);
        assert_eq!(
            sheet["fills"][i + 1][col],
            json!(palette(level)),
            "{}",
            f["id"]
        );
        levels.insert(level);
    }
    assert!(levels.len() >= 3, "{levels:?}");

    // CSV: UTF-8 with a byte-order mark, the same columns.
    let resp = get(&server, "/collections/hidden_dangers/items?f=csv").await;
    assert_eq!(resp.headers()["content-type"], "text/csv; charset=utf-8");
    let body = resp.bytes().await.unwrap();
    assert!(body.starts_with(b"\xef\xbb\xbfid,enterprise_id,"));
    let mut rdr = csv::Reader::from_reader(&body[3..]);
    assert_eq!(
        rdr.headers().unwrap().iter().collect::<Vec<_>>(),
        want_header
    );
    assert_eq!(rdr.records().count(), features.len());
    // A derived collection is not a table.
    let resp = client()
        .get(server.url("/collections/risk_grid/items?f=csv"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

fn run(args: &[&str], data: &Path) -> std::process::Output {
    riskmap()
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .output()
        .unwrap()
}

fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The stored features of `c`, without their last change times (each
/// store stamps its own writes).
async fn all(data: &Path, c: Collection) -> Vec<Feature> {
    let mut all = SqliteStore::open(data).await.unwrap().all(c).await.unwrap();
    for f in &mut all {
        assert!(f.updated.is_some(), "{}: stamped", f.id);
        f.updated = None;
    }
    all
}

/// A record's properties with those outside the schema as text (CSV has
/// no types).
fn as_csv_reads(f: &Feature) -> serde_json::Map<String, Value> {
    let schema = riskmap_core::office::schema_fields(f.collection());
    f.record
        .to_properties()
        .into_iter()
        .map(|(k, v)| match v {
            Value::Bool(_) | Value::Number(_) if !schema.contains(&k.as_str()) => {
                (k, Value::String(v.to_string()))
            }
            v => (k, v),
        })
        .collect()
}

#[tokio::test]
async fn exports_import_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    // Store a is new: the export loads the demo city into it, like `score`.
    let order = [
        Collection::Districts,
        Collection::Parks,
        Collection::Enterprises,
        Collection::HiddenDangers,
    ];
    for col in order {
        for (ext, to) in [("xlsx", &b), ("csv", &c)] {
            let file = dir.path().join(format!("{col}.{ext}"));
            let out = run(&["export", col.as_str(), file.to_str().unwrap()], &a);
            assert_ok(&out);
            assert!(
                String::from_utf8_lossy(&out.stdout).contains("exported"),
                "{}",
                String::from_utf8_lossy(&out.stdout)
            );
            assert_ok(&run(&["import", col.as_str(), file.to_str().unwrap()], to));
        }
    }
    for col in order {
        let want = all(&a, col).await;
        assert!(!want.is_empty(), "{col}");
        assert_eq!(all(&b, col).await, want, "{col} through xlsx");
        let got = all(&c, col).await;
        assert_eq!(got.len(), want.len(), "{col} through csv");
        for (g, w) in got.iter().zip(&want) {
            assert_eq!((&g.id, &g.geometry), (&w.id, &w.geometry), "{col}");
            assert_eq!(as_csv_reads(g), as_csv_reads(w), "{col} {}", g.id);
        }
    }
    // A file of no export format: exit 2.
    let out = run(&["export", "parks", "parks.txt"], &a);
    assert_eq!(out.status.code(), Some(2));
}

/// A 隐患台账 as provincial templates lay it out: a title row, Chinese
/// headers, date cells, funds in 万元.
const HEADERS: [&str; 12] = [
    "隐患编号",
    "企业名称",
    "隐患来源",
    "隐患级别",
    "判定依据",
    "隐患描述",
    "发现日期",
    "整改期限",
    "整改责任人",
    "整改资金（万元）",
    "经度",
    "纬度",
];

struct Row<'a> {
    id: &'a str,
    level: &'a str,
    found: (u16, u8, u8),
    deadline: (u16, u8, u8),
    lon: &'a str,
}

fn register(rows: &[Row<'_>]) -> Vec<u8> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name("隐患台账").unwrap();
    let title = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy/m/d");
    ws.merge_range(0, 0, 0, 11, "示例化工有限公司隐患排查治理台账", &title)
        .unwrap();
    for (c, h) in HEADERS.iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (i, r) in rows.iter().enumerate() {
        let y = (i + 2) as u32;
        ws.write_string(y, 0, r.id).unwrap();
        ws.write_string(y, 1, "示例化工有限公司").unwrap();
        ws.write_string(y, 2, "企业自查").unwrap();
        ws.write_string(y, 3, r.level).unwrap();
        if r.level.starts_with("重大") {
            ws.write_string(y, 4, "HC121-03").unwrap();
        }
        ws.write_string(y, 5, format!("隐患 {}", r.id)).unwrap();
        let (fy, fm, fd) = r.found;
        ws.write_datetime_with_format(y, 6, ExcelDateTime::from_ymd(fy, fm, fd).unwrap(), &date)
            .unwrap();
        let (dy, dm, dd) = r.deadline;
        ws.write_datetime_with_format(y, 7, ExcelDateTime::from_ymd(dy, dm, dd).unwrap(), &date)
            .unwrap();
        ws.write_string(y, 8, "王工").unwrap();
        ws.write_number(y, 9, 1.5).unwrap();
        match r.lon.parse::<f64>() {
            Ok(x) => ws.write_number(y, 10, x).unwrap(),
            Err(_) => ws.write_string(y, 10, r.lon).unwrap(),
        };
        ws.write_number(y, 11, 30.2).unwrap();
    }
    book.save_to_buffer().unwrap()
}

fn good(id: &str) -> Row<'_> {
    Row {
        id,
        level: "一般",
        found: (2024, 3, 5),
        deadline: (2024, 6, 30),
        lon: "120.1",
    }
}

#[tokio::test]
async fn an_xlsx_with_three_bad_rows_is_refused_whole_by_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("台账.xlsx");
    let mut major = good("HD-02");
    major.level = "重大隐患";
    std::fs::write(&file, register(&[good("HD-01"), major, good("HD-03")])).unwrap();
    assert_ok(&run(
        &["import", "hidden_dangers", file.to_str().unwrap()],
        &data,
    ));
    let stored = all(&data, Collection::HiddenDangers).await;
    assert_eq!(stored.len(), 3);
    let Some(riskmap_core::Record::HiddenDanger(h)) =
        stored.iter().find(|f| f.id == "HD-02").map(|f| &f.record)
    else {
        panic!("HD-02 not stored")
    };
    assert_eq!(h.level.as_str(), "major");
    assert_eq!(h.rule_item.as_deref(), Some("HC121-03"));
    assert_eq!(h.source.as_str(), "self_check");
    assert_eq!(
        (h.found_date.as_str(), h.deadline.as_deref()),
        ("2024-03-05", Some("2024-06-30"))
    );
    assert_eq!(h.funds_cny, Some(15000.0));
    assert_eq!(h.status, "reported");
    assert_eq!(h.extra["enterprise_name"], "示例化工有限公司");

    // Eight rows (sheet rows 3–10), three of them bad.
    let mut rows: Vec<Row<'_>> = [
        "HD-01", "HD-02", "HD-03", "HD-04", "HD-05", "HD-06", "HD-07", "HD-08",
    ]
    .into_iter()
    .map(good)
    .collect();
    rows[2].level = "严重"; // sheet row 5
    rows[4].deadline = (2024, 3, 1); // sheet row 7: before the found date
    rows[7].lon = "东经120.1"; // sheet row 10
    std::fs::write(&file, register(&rows)).unwrap();
    let out = run(&["import", "hidden_dangers", file.to_str().unwrap()], &data);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("3 error(s); nothing was imported"),
        "{stderr}"
    );
    for expected in [
        "row 5 (id \"HD-03\"), column D (隐患级别), field `level`: unknown value \"严重\"",
        "row 7 (id \"HD-05\"), column H (整改期限), field `deadline`: 2024-03-01 is before the found date 2024-03-05",
        "row 10 (id \"HD-08\"), column K (经度), field `lon`: not a number: \"东经120.1\"",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }
    // Nothing stored: HD-04…HD-07 are absent, HD-01…HD-03 as before.
    assert_eq!(all(&data, Collection::HiddenDangers).await, stored);
}

#[tokio::test]
async fn a_gbk_csv_with_chinese_headers_imports() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // As Excel saves "CSV (逗号分隔)" on a Chinese system: GBK, dates 2024/3/5.
    let text = "隐患编号,所属行业,隐患来源,隐患等级,隐患内容,排查日期,整改时限,整改资金(元),治理状态,经度,纬度\n\
                GB-1,化工,监管检查,一般隐患,消防通道堵塞,2024/3/5,2024/4/5,800,整改中,120.31,30.29\n\
                GB-2,仓储物流,群众举报,一般,叉车未年检,2024/3/6,,,已上报,120.32,30.28\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&gbk).is_err(), "the file is not UTF-8");
    let file = dir.path().join("隐患.csv");
    std::fs::write(&file, &gbk).unwrap();
    let out = run(&["import", "hidden_dangers", file.to_str().unwrap()], &data);
    assert_ok(&out);
    assert!(String::from_utf8_lossy(&out.stderr).contains("read as GB18030"));
    let stored = all(&data, Collection::HiddenDangers).await;
    let props: Vec<Value> = stored
        .iter()
        .map(|f| Value::Object(f.record.to_properties()))
        .collect();
    assert_eq!(stored[0].id, "GB-1");
    assert_eq!(
        props[0],
        json!({"industry": "化工", "source": "inspection", "level": "general",
               "description": "消防通道堵塞", "found_date": "2024-03-05", "deadline": "2024-04-05",
               "funds_cny": 800.0, "status": "rectifying", "history": []})
    );
    assert_eq!(props[1]["source"], "public_report");
    assert_eq!(props[1]["status"], "reported");
}

#[tokio::test]
async fn csv_and_xlsx_bodies_post_like_geojson() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&["--data-dir", data.to_str().unwrap(), "--admin-token", TOKEN]);
    let post = |body: Vec<u8>, content_type: &'static str| {
        let url = server.url("/collections/hidden_dangers/items");
        async move {
            client()
                .post(url)
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    // A workbook row naming a demo enterprise, without a location: like a
    // GeoJSON feature without geometry, it takes the enterprise's site,
    // district and industry and starts as reported.
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    for (c, h) in [
        "隐患编号",
        "企业编号",
        "隐患来源",
        "隐患级别",
        "隐患描述",
        "发现日期",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in [
        "X-1",
        "ent-01",
        "网格员巡查",
        "一般",
        "安全出口标志缺失",
        "2024-05-01",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(1, c as u16, *v).unwrap();
    }
    let resp = post(book.save_to_buffer().unwrap(), XLSX).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let geo = json!({"type": "Feature", "id": "X-2", "geometry": null, "properties": {
        "enterprise_id": "ent-01", "source": "grid_worker", "level": "general",
        "description": "安全出口标志缺失", "found_date": "2024-05-01"}});
    let resp = post(geo.to_string().into_bytes(), "application/geo+json").await;
    assert_eq!(resp.status(), 201);
    let x1 = get_json(&server, "/collections/hidden_dangers/items/X-1").await;
    let x2 = get_json(&server, "/collections/hidden_dangers/items/X-2").await;
    assert_eq!(x1["geometry"], x2["geometry"]);
    for k in ["district_code", "industry", "source", "level", "status"] {
        assert_eq!(x1["properties"][k], x2["properties"][k], "{k}");
    }
    assert_eq!(x1["properties"]["status"], "reported");
    assert_eq!(x1["properties"]["history"][0]["action"], "report");

    // CSV with two bad rows: 400, each error by row and column; nothing stored.
    let csv = "隐患编号,隐患来源,隐患级别,隐患描述,发现日期,经度,纬度\n\
               C-1,企业自查,一般,a,2024-05-01,120.3,30.3\n\
               C-2,企业自查,一般,b,五月一日,120.3,30.3\n\
               C-3,自己发现,一般,c,2024-05-01,120.3,30.3\n";
    let resp = post(csv.as_bytes().to_vec(), "text/csv").await;
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["total"], 2, "{body}");
    let located: Vec<(Value, Value, Value)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["row"].clone(), e["column"].clone(), e["field"].clone()))
        .collect();
    assert_eq!(
        located,
        vec![
            (json!(3), json!("E (发现日期)"), json!("found_date")),
            (json!(4), json!("B (隐患来源)"), json!("source")),
        ]
    );
    let resp = client()
        .get(server.url("/collections/hidden_dangers/items/C-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    // The same body, fixed, lands.
    let fixed = csv
        .replace("五月一日", "2024/5/1")
        .replace("自己发现", "举报");
    let resp = post(fixed.into_bytes(), "text/csv; charset=utf-8").await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    // Anything else is 415.
    let resp = post(b"<x/>".to_vec(), "application/xml").await;
    assert_eq!(resp.status(), 415);
}

//! Every route the router source registers (`.route("…", get(…).post(…))`
//! in `src/*.rs`) is in the OpenAPI document with each of its methods, and
//! the document names no path or method the router lacks: a new route
//! without a `#[utoipa::path]` listed in `openapi.rs` fails here.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// A path with every parameter segment made `{}`, so that the router's
/// `{collection}`, `{*path}` and `{file}` (a tile's `{y}.mvt`, a TileJSON's
/// `{tileset}.json`) meet the document's `{collectionId}`, `{path}`,
/// `{y}.mvt` and `{tileset}.json`.
fn shape(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// The (path shape, method) pairs routed in the source of `src/`.
fn routed() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeSet::new();
    let mut files: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let calls: Vec<&str> = text.split(".route(").skip(1).collect();
        for call in calls {
            let call = call.trim_start();
            let Some(rest) = call.strip_prefix('"') else {
                continue;
            };
            let end = rest.find('"').unwrap();
            let path = &rest[..end];
            // The method router: up to the `)` closing `.route(`.
            let mut depth = 1usize;
            let mut stop = rest.len();
            for (i, c) in rest[end + 1..].char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            stop = end + 1 + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let chain = &rest[end + 1..stop];
            let mut methods = 0;
            for token in chain.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '(')) {
                if let Some(m) = METHODS.iter().find(|m| {
                    token
                        .strip_prefix(**m)
                        .is_some_and(|after| after.starts_with('('))
                }) {
                    out.insert((shape(path), m.to_string()));
                    methods += 1;
                }
            }
            assert!(
                methods > 0,
                "{}: no method found for route {path:?} in {chain:?}",
                file.display()
            );
        }
    }
    out
}

/// The (path shape, method) pairs of the OpenAPI document.
fn documented() -> BTreeSet<(String, String)> {
    let doc = riskmap_server::openapi::document();
    let paths = doc["paths"].as_object().expect("paths");
    let mut out = BTreeSet::new();
    for (path, item) in paths {
        for m in METHODS {
            if item.get(m).is_some() {
                out.insert((shape(path), m.to_string()));
            }
        }
    }
    out
}

#[test]
fn every_routed_path_and_method_is_in_the_openapi_document() {
    let routed = routed();
    // The router registers the routes this test knows are there, so that
    // a parser that finds nothing cannot pass.
    for known in [
        ("/collections/{}/items/{}", "patch"),
        ("/tiles/{}/{}/{}/{}", "get"),
        ("/api/accounts/{}/tokens", "delete"),
        ("/assets/{}", "get"),
    ] {
        assert!(
            routed.contains(&(known.0.to_string(), known.1.to_string())),
            "the router source parse missed {known:?}: {routed:?}"
        );
    }
    let documented = documented();
    let missing: Vec<_> = routed.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes without a #[utoipa::path] listed in openapi.rs: {missing:?}"
    );
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        extra.is_empty(),
        "the OpenAPI document names operations no route serves: {extra:?}"
    );
}

#[test]
fn path_shapes_meet() {
    assert_eq!(
        shape("/tiles/{tileset}/{z}/{x}/{y}.mvt"),
        shape("/tiles/{tileset}/{z}/{x}/{file}")
    );
    assert_eq!(shape("/tiles/{tileset}.json"), shape("/tiles/{tileset}"));
    assert_eq!(shape("/assets/{*path}"), "/assets/{}");
    assert_ne!(shape("/collections/{c}"), shape("/collections/{c}/items"));
}

//! Fuzzing the importers (GeoJSON and CSV, through `decode_text` as the
//! `import` command reads files): the committed corpus in
//! `fuzz/corpus/{geojson,csv}/`, then mutants of it for `RISKMAP_FUZZ_SECS`
//! seconds (see `fuzz/README.md`). No input may panic; an accepted feature
//! must have a safe id and WGS84 coordinates in range, read back from its
//! stored properties unchanged, and pass validation again as written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../fuzz/harness.rs"]
mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};

use geo::CoordsIter;
use harness::{Budget, Entry, Mutator};
use riskmap_core::import::{
    Format, check_id, check_references, decode_text, parse, validate_geojson_feature,
};
use riskmap_core::{Collection, Feature, Record};
use riskmap_spatial::Crs;
use serde_json::{Value, json};

const CRSES: [Crs; 3] = [Crs::Wgs84, Crs::Cgcs2000, Crs::Gcj02];

/// The collection a corpus file is for, by its name's prefix.
fn collection_of(name: &str) -> Option<Collection> {
    Collection::ALL
        .into_iter()
        .filter(|c| name.starts_with(c.as_str()))
        .max_by_key(|c| c.as_str().len())
}

/// What an accepted feature must satisfy.
fn check_accepted(c: Collection, f: &Feature) -> Result<(), String> {
    check_id(&f.id).map_err(|e| format!("accepted id {:?}: {e}", f.id))?;
    if f.collection() != c {
        return Err(format!("a {c} input gave a {} record", f.collection()));
    }
    if let Some(p) = f
        .geometry
        .coords_iter()
        .find(|p| !(p.x.abs() <= 180.0 && p.y.abs() <= 90.0))
    {
        return Err(format!("accepted coordinate {p:?} of {:?}", f.id));
    }
    let props = f.record.to_properties();
    let back = Record::from_trusted_properties(c, props.clone())
        .map_err(|e| format!("{:?}: stored properties do not read back: {e}", f.id))?;
    if back != f.record {
        return Err(format!(
            "{:?}: stored properties read back differently",
            f.id
        ));
    }
    let written = json!({
        "type": "Feature",
        "id": f.id,
        "geometry": geojson::Geometry::new(geojson::GeometryValue::from(&f.geometry)),
        "properties": props,
    });
    let again = validate_geojson_feature(c, &written, Crs::Wgs84, None)
        .map_err(|e| format!("{:?}: refused as written back: {e}", f.id))?;
    if again.record != f.record {
        return Err(format!("{:?}: validation is not idempotent", f.id));
    }
    Ok(())
}

/// Runs one input through the importer as the `import` command does;
/// answers how many features it accepted.
fn import(format: Format, bytes: &[u8], c: Collection, crs: Crs) -> Result<usize, String> {
    let Ok((text, _encoding)) = decode_text(bytes) else {
        return Ok(0);
    };
    let Ok(features) = parse(c, format, &text, crs) else {
        return Ok(0);
    };
    for f in &features {
        check_accepted(c, f)?;
    }
    // References to a catalogue that has nothing, and one that has all.
    let _ = check_references(c, &features, |_, _| false);
    check_references(c, &features, |_, _| true).map_err(|e| format!("references: {e}"))?;
    // Each feature alone with an id forced by a URL (`PUT /items/{id}`).
    if format == Format::GeoJson
        && let Some(root) = harness::parse_json(bytes)
    {
        let items: Vec<&Value> = match root.get("features").and_then(Value::as_array) {
            Some(a) => a.iter().collect(),
            None => vec![&root],
        };
        for (item, f) in items.iter().zip(&features) {
            let g = validate_geojson_feature(c, item, crs, Some(&f.id))
                .map_err(|e| format!("{:?} refused with its own id forced: {e}", f.id))?;
            check_accepted(c, &g)?;
            let _ = validate_geojson_feature(c, item, crs, Some("other-id"));
        }
    }
    Ok(features.len())
}

/// Fuzzes one importer target; fails with the first input that panics or
/// breaks an invariant (saved to `target/fuzz-failures/`).
fn fuzz(target: &str, format: Format) {
    let corpus: Vec<Entry> = harness::load_corpus(target);
    let budget = Budget::from_env(target);
    let mut m = Mutator::new(budget.seed, &corpus);
    let mut clock = budget.start();
    let mut accepted = 0u64;
    let mut failure: Option<(String, Vec<u8>, u64)> = None;
    // Every corpus entry as committed, for every collection and CRS, then mutants.
    let mut queue: Vec<(Vec<u8>, Collection, Crs)> = corpus
        .iter()
        .flat_map(|e| {
            Collection::ALL
                .into_iter()
                .flat_map(move |c| CRSES.into_iter().map(move |crs| (e.bytes.clone(), c, crs)))
        })
        .collect();
    queue.reverse();
    let mut n = 0u64;
    let mut corpus_secs = None;
    loop {
        let (input, c, crs) = match queue.pop() {
            Some(x) => x,
            None => {
                if corpus_secs.is_none() {
                    corpus_secs = Some(clock.started.elapsed().as_secs_f64());
                    clock.restart();
                }
                if !clock.tick() {
                    break;
                }
                let i = m.below(corpus.len());
                let base = if m.chance(0.9) {
                    corpus[i].bytes.clone()
                } else {
                    // Mutants of mutants, now and then.
                    let once = m.mutate(&corpus[i].bytes);
                    m.mutate(&once)
                };
                let input = m.mutate(&base);
                let c = match collection_of(&corpus[i].name) {
                    Some(c) if m.chance(0.8) => c,
                    _ => *m.pick(&Collection::ALL),
                };
                let crs = if m.chance(0.8) {
                    Crs::Wgs84
                } else {
                    *m.pick(&CRSES)
                };
                (input, c, crs)
            }
        };
        n += 1;
        let outcome = catch_unwind(AssertUnwindSafe(|| import(format, &input, c, crs)));
        let problem = match outcome {
            Ok(Ok(k)) => {
                accepted += u64::from(k > 0);
                None
            }
            Ok(Err(broken)) => Some(broken),
            Err(p) => Some(format!("panic: {}", harness::panic_message(&*p))),
        };
        if let Some(problem) = problem {
            failure = Some((format!("{problem} ({c}, {crs:?})"), input, n));
            break;
        }
    }
    eprintln!(
        "fuzz {target}: {} corpus runs (each entry, collection and CRS) in {:.1} s, then {}; \
         {accepted} inputs accepted",
        corpus.len() * Collection::ALL.len() * CRSES.len(),
        corpus_secs.unwrap_or_default(),
        clock.summary(),
    );
    if let Some((problem, input, n)) = failure {
        let path = harness::save_failure(target, budget.seed, n, &input);
        panic!(
            "fuzz {target}: input {n} (seed {}): {problem}\nsaved to {}\ninput: {}",
            budget.seed,
            path.display(),
            harness::show(&input)
        );
    }
}

#[test]
fn fuzz_geojson_import() {
    fuzz("geojson", Format::GeoJson);
}

#[test]
fn fuzz_csv_import() {
    fuzz("csv", Format::Csv);
}

/// Found by `fuzz_geojson_import`: a blank `installation` passed for a site
/// holding hazardous substances (the new/existing criteria of GB 36894 then
/// had nothing to go on) and the record it gave was refused when read back.
#[test]
fn a_blank_installation_is_refused_like_a_missing_one() {
    for installation in [json!(""), json!("  "), Value::Null] {
        let f = json!({"type": "Feature", "id": "e1",
            "geometry": {"type": "Point", "coordinates": [120.57, 30.285]},
            "properties": {"name": "示例化工", "installation": installation,
                "units": [{"id": "T1", "kind": "storage",
                           "substances": [{"name": "液氯", "quantity_t": 10}]}]}});
        let err = validate_geojson_feature(Collection::Enterprises, &f, Crs::Wgs84, None)
            .expect_err("a site with chlorine needs new or existing");
        assert_eq!(err.errors[0].field, "installation", "{installation}: {err}");
        assert!(err.errors[0].message.starts_with("required"), "{err}");
    }
    // Without substances it may stay blank.
    let f = json!({"type": "Feature", "id": "e2",
        "geometry": {"type": "Point", "coordinates": [120.57, 30.285]},
        "properties": {"name": "示例机械", "installation": ""}});
    validate_geojson_feature(Collection::Enterprises, &f, Crs::Wgs84, None).unwrap();
}

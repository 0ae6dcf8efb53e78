//! Office formats on the command line: `riskmap import` of CSV and .xlsx
//! (through `riskmap_core::office`, hidden dangers taking their
//! enterprise's site, district and industry from the store), and
//! `riskmap export <collection> <out.csv|out.xlsx>`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use riskmap_core::import::{self, Format};
use riskmap_core::{Collection, Feature, office};
use riskmap_spatial::Crs;
use riskmap_store::{Store, StoreConfig};

/// Reads and validates an import file: the features, or the exit code after
/// the errors are printed (2: invalid input).
pub(crate) async fn parse_file(
    collection: Collection,
    format: Format,
    bytes: Vec<u8>,
    crs: Crs,
    store: &dyn Store,
    file: &Path,
) -> anyhow::Result<Result<Vec<Feature>, ExitCode>> {
    let fail = |errors: import::ImportErrors| {
        eprint!("{}: {errors}", file.display());
        Err(ExitCode::from(2))
    };
    // A hidden danger in a table may leave out its location, district and
    // industry: its enterprise's (as over HTTP).
    let enterprises: HashMap<String, Feature> =
        if collection == Collection::HiddenDangers && format != Format::GeoJson {
            store
                .all(Collection::Enterprises)
                .await?
                .into_iter()
                .map(|f| (f.id.clone(), f))
                .collect()
        } else {
            HashMap::new()
        };
    let fill = office::fill_from_enterprise(|id| enterprises.get(id), crs);
    let fill: Option<&import::Fill<'_>> =
        (collection == Collection::HiddenDangers).then_some(&fill as &import::Fill<'_>);
    if format == Format::Xlsx {
        return Ok(
            match office::parse_xlsx_with(collection, &bytes, crs, fill) {
                Ok(f) => Ok(f),
                Err(errors) => fail(errors),
            },
        );
    }
    let (text, encoding) = match import::decode_text(&bytes) {
        Ok(t) => t,
        Err(errors) => return Ok(fail(errors)),
    };
    drop(bytes);
    if encoding != "UTF-8" {
        eprintln!("{}: read as {encoding}", file.display());
    }
    let parsed = match format {
        Format::Csv => import::parse_csv_with(collection, &text, crs, fill),
        _ => import::parse(collection, format, &text, crs),
    };
    Ok(parsed.or_else(fail))
}

/// `riskmap export`: the collection (within `bbox`) as CSV or .xlsx, with
/// the levels of a scored world.
pub(crate) async fn run(
    collection: Collection,
    out: PathBuf,
    bbox: Option<String>,
    today: Option<String>,
    config: StoreConfig,
) -> anyhow::Result<ExitCode> {
    let name = out.to_string_lossy().to_ascii_lowercase();
    let xlsx = if name.ends_with(".xlsx") {
        true
    } else if name.ends_with(".csv") {
        false
    } else {
        eprintln!("{}: the file name must end in .csv or .xlsx", out.display());
        return Ok(ExitCode::from(2));
    };
    let bbox = match bbox.as_deref().map(parse_bbox).transpose() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("--bbox: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    // A new embedded store gets the demo city, as for `score` and `tiles export`.
    let store = crate::open_store(&config, true, false).await?;
    let app = crate::progress::open_app(store, today).await?;
    let (bytes, rows) = app
        .read(riskmap_app::Work::Analysis, move |w| {
            let features: Vec<std::sync::Arc<Feature>> = match bbox {
                Some(b) => w.catalog.query_bbox(collection, b),
                None => w.catalog.iter(collection).cloned().collect(),
            };
            let table = office::export_table(
                collection,
                features.iter().map(|f| &**f),
                |f| w.risk.assessment(collection, &f.id).map(|a| a.risk_level),
                w.today(),
            );
            let bytes = if xlsx {
                office::write_xlsx(&table, collection.as_str())
            } else {
                Ok(office::write_csv(&table))
            };
            bytes.map(|b| (b, table.rows.len()))
        })
        .await?
        .map_err(anyhow::Error::msg)?;
    std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
    println!(
        "exported {rows} feature(s) of {collection} to {} ({} bytes)",
        out.display(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn parse_bbox(s: &str) -> Result<geo::Rect<f64>, String> {
    let n: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("expected minlon,minlat,maxlon,maxlat, got {s:?}"))?;
    match n.as_slice() {
        [a, b, c, d] if a <= c && b <= d && n.iter().all(|x| x.is_finite()) => {
            Ok(geo::Rect::new((*a, *b), (*c, *d)))
        }
        _ => Err(format!(
            "expected minlon,minlat,maxlon,maxlat with min ≤ max, got {s:?}"
        )),
    }
}

//! The demo city (data/demo): real Hangzhou districts and OpenStreetMap
//! protection targets with a labelled sample of enterprises, parks and
//! pipelines. Built into the binary so `riskmap serve` needs no files.

use anyhow::Context;
use riskmap_core::import;
use riskmap_spatial::Crs;
use riskmap_store::Store;

/// Each collection's demo file, as committed under `data/demo/`.
pub(crate) use riskmap_core::demo::FILES;

/// Validates and stores the demo city; returns the number of features.
pub(crate) async fn load(store: &dyn Store) -> anyhow::Result<usize> {
    let mut n = 0;
    for (collection, text) in FILES {
        let features = import::parse_geojson(collection, text, Crs::Wgs84)
            .map_err(|e| anyhow::anyhow!("the built-in demo {collection} is invalid: {e}"))?;
        store
            .import(collection, &features, None)
            .await
            .with_context(|| format!("cannot store the demo {collection}"))?;
        n += features.len();
    }
    Ok(n)
}

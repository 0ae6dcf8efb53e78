//! The demo city's data (`data/demo/`): real Hangzhou districts and
//! OpenStreetMap protection targets with a labelled sample of enterprises,
//! parks, pipelines and hidden dangers, and emergency resources (sample
//! rescue teams and depots; real OpenStreetMap parks as sample shelters).
//! Embedded at compile time, so the binary and the tests need no files; see
//! `data/demo/README.md`.

use crate::Collection;

/// Each collection's demo GeoJSON, in an order that loads references first
/// (districts and parks before the enterprises that name them, enterprises
/// before the hidden dangers that name them).
pub const FILES: [(Collection, &str); 9] = [
    (
        Collection::Districts,
        include_str!("../../../data/demo/districts.geojson"),
    ),
    (
        Collection::Parks,
        include_str!("../../../data/demo/parks.geojson"),
    ),
    (
        Collection::ProtectionTargets,
        include_str!("../../../data/demo/protection_targets.geojson"),
    ),
    (
        Collection::Enterprises,
        include_str!("../../../data/demo/enterprises.geojson"),
    ),
    (
        Collection::Pipelines,
        include_str!("../../../data/demo/pipelines.geojson"),
    ),
    (
        Collection::HiddenDangers,
        include_str!("../../../data/demo/hidden_dangers.geojson"),
    ),
    (
        Collection::RescueTeams,
        include_str!("../../../data/demo/rescue_teams.geojson"),
    ),
    (
        Collection::SupplyDepots,
        include_str!("../../../data/demo/supply_depots.geojson"),
    ),
    (
        Collection::Shelters,
        include_str!("../../../data/demo/shelters.geojson"),
    ),
];

/// The demo GeoJSON of one collection.
pub fn text(collection: Collection) -> &'static str {
    FILES
        .iter()
        .find(|(c, _)| *c == collection)
        .map_or("", |(_, t)| t)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn every_collection_has_a_valid_demo_file() {
        for c in Collection::ALL {
            let features =
                crate::import::parse_geojson(c, text(c), riskmap_spatial::Crs::Wgs84).unwrap();
            assert!(!features.is_empty(), "{c}");
        }
    }
}

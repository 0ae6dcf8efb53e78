//! Road speeds for arrival estimates (`data/rules/road-speeds.toml`) and the
//! road network built with them ([`riskmap_spatial::roads`]).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use riskmap_spatial::roads::{Access, RoadError, RoadNetwork};
use serde::Deserialize;

use crate::error::SafetyError;

#[cfg(test)]
const EMBEDDED_TOML: &str = include_str!("../../../data/rules/road-speeds.toml");

/// The road-speed rules.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoadRules {
    /// Confidence tag of the figures.
    pub confidence: String,
    /// What a reader must know.
    pub note: String,
    /// Peak speed / free-flow speed.
    pub peak_factor: f64,
    /// Speed of the legs off the network, km/h.
    pub off_road_kmh: f64,
    /// The farthest a point may lie from the network, m.
    pub max_snap_m: f64,
    /// How many of the nearest resources are routed per list.
    pub candidates_per_list: usize,
    /// Speed per `highway=` class, km/h.
    pub speeds_kmh: BTreeMap<String, f64>,
}

impl RoadRules {
    /// The rules shipped in `data/rules/road-speeds.toml`.
    pub fn builtin() -> &'static RoadRules {
        static RULES: OnceLock<RoadRules> = OnceLock::new();
        RULES.get_or_init(|| {
            RoadRules::from_toml_str(riskmap_core::rule_set::text("road-speeds.toml"))
                .unwrap_or_else(|e| panic!("data/rules/road-speeds.toml: {e}"))
        })
    }

    /// Parses and checks a rules file.
    pub fn from_toml_str(text: &str) -> Result<RoadRules, SafetyError> {
        let bad = |message: String| SafetyError::Rules {
            table: "road-speeds.toml",
            message,
        };
        let r: RoadRules = riskmap_core::rule_set::from_toml(text).map_err(bad)?;
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if !(positive(r.peak_factor) && r.peak_factor <= 1.0) {
            return Err(bad("peak_factor must be in (0, 1]".into()));
        }
        if !positive(r.off_road_kmh) || !positive(r.max_snap_m) || r.candidates_per_list == 0 {
            return Err(bad(
                "off_road_kmh, max_snap_m and candidates_per_list must be > 0".into(),
            ));
        }
        if let Some((k, v)) = r.speeds_kmh.iter().find(|(_, v)| !positive(**v)) {
            return Err(bad(format!("speeds_kmh.{k} = {v} is not a positive speed")));
        }
        Ok(r)
    }

    /// The speed of a `highway=` class, km/h; `None` for classes not driven
    /// (footways, cycleways, …).
    pub fn speed_kmh(&self, class: &str) -> Option<f64> {
        self.speeds_kmh.get(class).copied()
    }

    /// How points join the network.
    pub fn access(&self) -> Access {
        Access {
            off_road_m_s: self.off_road_kmh / 3.6,
            max_snap_m: self.max_snap_m,
        }
    }

    /// Whether the figures are unconfirmed.
    pub fn unconfirmed(&self) -> bool {
        self.confidence.starts_with('M')
    }
}

/// A road network and where it came from.
#[derive(Debug, Clone)]
pub struct Roads {
    /// The graph.
    pub network: RoadNetwork,
    /// The file it was read from (its name, for answers).
    pub source: String,
}

impl Roads {
    /// Reads OSM XML with the built-in speeds.
    pub fn from_osm_xml(xml: &[u8], source: impl Into<String>) -> Result<Roads, RoadError> {
        let rules = RoadRules::builtin();
        Ok(Roads {
            network: RoadNetwork::from_osm_xml(xml, |c| rules.speed_kmh(c))?,
            source: source.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_speeds_sit_in_the_planning_range_and_bad_files_are_refused() {
        let r = RoadRules::builtin();
        assert!(r.unconfirmed());
        assert_eq!(r.speed_kmh("primary"), Some(45.0));
        assert_eq!(r.speed_kmh("footway"), None);
        let bad = EMBEDDED_TOML.replace("primary = 45.0", "primary = -1.0");
        let e = RoadRules::from_toml_str(&bad).expect_err("negative speed");
        assert!(e.to_string().contains("speeds_kmh.primary"), "{e}");
        let bad = EMBEDDED_TOML.replace("peak_factor = 0.6", "peak_factor = 1.6");
        assert!(RoadRules::from_toml_str(&bad).is_err());
    }
}

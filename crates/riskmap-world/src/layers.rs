//! The layer registry (图层注册表): every layer riskmap serves, listed once.
//! A layer is an OGC API collection (stored, or derived from the scores and
//! the safety assessment) and, when it is drawn, a tileset. Items,
//! collection documents, tiles, TileJSON, the style and the PMTiles export
//! all read this one table; nothing else lists layer or tileset names.

use riskmap_core::Collection;

/// A collection computed from the others, never stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Derived {
    /// The four-colour grid (四色图网格).
    RiskGrid,
    /// Pipeline segments with their HCA level (管段高后果区).
    PipelineSegments,
    /// External safety protection zones (外部安全防护区) of every site.
    SafetyZones,
    /// Protection targets inside a zone that protects their class (违规防护目标).
    Violations,
}

/// What a layer's collection serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Items {
    /// Stored features.
    Stored(Collection),
    /// A derived, read-only collection.
    Derived(Derived),
}

/// Where a tileset's features come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilesetSource {
    /// A collection's features with their risk level and properties.
    Collection(Collection),
    /// Pipeline segments (管段) with their HCA level.
    PipelineSegments,
    /// The four-colour grid (四色网格).
    RiskGrid,
    /// Safety zones of every site (外部安全防护区).
    SafetyZones,
    /// Violations (targets inside a zone that protects their class).
    Violations,
}

impl TilesetSource {
    /// Whether the tileset shows only what scoring computes (levels of
    /// segments and cells, zones, violations), so it waits for the scored
    /// world; a stored collection draws at once, with no level until then.
    pub fn needs_levels(self) -> bool {
        !matches!(self, TilesetSource::Collection(_))
    }

    /// Whether the features come from the safety assessment.
    pub fn is_safety(self) -> bool {
        matches!(self, TilesetSource::SafetyZones | TilesetSource::Violations)
    }
}

/// One tileset: how it is built and described.
#[derive(Debug, Clone, Copy)]
pub struct TilesetSpec {
    /// Name in URLs, TileJSON and as the MVT layer name (the layer's name).
    pub name: &'static str,
    /// Where the features come from.
    pub source: TilesetSource,
    /// Keep the source collection's points in a `TileIndex` (collections
    /// with many points: low zooms aggregate them).
    pub point_index: bool,
    /// In `/style.json` and the PMTiles export. The safety tilesets are
    /// served and purged like the others, but a site's zones are per
    /// request, not part of the base map.
    pub exported: bool,
    /// TileJSON `vector_layers[].fields`: property name and type, in order.
    pub fields: &'static [(&'static str, &'static str)],
}

/// One layer: its collection and, if drawn, its tileset.
#[derive(Debug, Clone, Copy)]
pub struct Layer {
    /// Collection id and tileset name.
    pub name: &'static str,
    /// What the collection serves.
    pub items: Items,
    /// How it is drawn, if it is.
    pub tiles: Option<TilesetSpec>,
}

const NAME_LEVEL: [(&str, &str); 3] = [
    ("id", "String"),
    ("name", "String"),
    ("risk_level", "String"),
];

const fn tiles(
    name: &'static str,
    source: TilesetSource,
    point_index: bool,
    exported: bool,
    fields: &'static [(&'static str, &'static str)],
) -> Option<TilesetSpec> {
    Some(TilesetSpec {
        name,
        source,
        point_index,
        exported,
        fields,
    })
}

/// Every layer. Tilesets are drawn (and archived) in this order.
pub const LAYERS: [Layer; 13] = [
    Layer {
        name: "districts",
        items: Items::Stored(Collection::Districts),
        tiles: tiles(
            "districts",
            TilesetSource::Collection(Collection::Districts),
            false,
            true,
            &[
                NAME_LEVEL[0],
                NAME_LEVEL[1],
                ("code", "String"),
                NAME_LEVEL[2],
            ],
        ),
    },
    Layer {
        name: "risk_grid",
        items: Items::Derived(Derived::RiskGrid),
        tiles: tiles(
            "risk_grid",
            TilesetSource::RiskGrid,
            false,
            true,
            &[
                ("id", "String"),
                ("risk_level", "String"),
                ("count_red", "Number"),
                ("count_orange", "Number"),
                ("count_yellow", "Number"),
                ("count_blue", "Number"),
                ("weighted_level", "String"),
            ],
        ),
    },
    Layer {
        name: "parks",
        items: Items::Stored(Collection::Parks),
        tiles: tiles(
            "parks",
            TilesetSource::Collection(Collection::Parks),
            false,
            true,
            &[
                NAME_LEVEL[0],
                NAME_LEVEL[1],
                NAME_LEVEL[2],
                ("kind", "String"),
            ],
        ),
    },
    Layer {
        name: "pipelines",
        items: Items::Stored(Collection::Pipelines),
        // Drawn by segment, each in its HCA level.
        tiles: tiles(
            "pipelines",
            TilesetSource::PipelineSegments,
            false,
            true,
            &[
                ("id", "String"),
                ("pipeline_id", "String"),
                ("name", "String"),
                ("segment", "Number"),
                ("kind", "String"),
                ("diameter_mm", "Number"),
                ("maop_mpa", "Number"),
                ("risk_level", "String"),
            ],
        ),
    },
    Layer {
        name: "protection_targets",
        items: Items::Stored(Collection::ProtectionTargets),
        tiles: tiles(
            "protection_targets",
            TilesetSource::Collection(Collection::ProtectionTargets),
            true,
            true,
            &[
                NAME_LEVEL[0],
                NAME_LEVEL[1],
                ("category", "String"),
                ("population", "Number"),
            ],
        ),
    },
    Layer {
        name: "enterprises",
        items: Items::Stored(Collection::Enterprises),
        tiles: tiles(
            "enterprises",
            TilesetSource::Collection(Collection::Enterprises),
            true,
            true,
            &[
                NAME_LEVEL[0],
                NAME_LEVEL[1],
                NAME_LEVEL[2],
                ("score", "Number"),
                ("industry", "String"),
                ("park_id", "String"),
                ("district_code", "String"),
                ("major_hazard_grade", "Number"),
                ("count", "Number"),
                ("count_red", "Number"),
                ("count_orange", "Number"),
                ("count_yellow", "Number"),
                ("count_blue", "Number"),
                ("aggregated", "Boolean"),
            ],
        ),
    },
    Layer {
        name: "hidden_dangers",
        items: Items::Stored(Collection::HiddenDangers),
        // Served with TileJSON; the web map draws it itself (by level and
        // status, overdue marked), so it is not in the base style.
        tiles: tiles(
            "hidden_dangers",
            TilesetSource::Collection(Collection::HiddenDangers),
            false,
            false,
            &[
                ("id", "String"),
                ("level", "String"),
                ("status", "String"),
                ("overdue", "Boolean"),
                ("enterprise_id", "String"),
                ("rule_item", "String"),
                ("district_code", "String"),
            ],
        ),
    },
    Layer {
        name: "shelters",
        items: Items::Stored(Collection::Shelters),
        tiles: tiles(
            "shelters",
            TilesetSource::Collection(Collection::Shelters),
            false,
            true,
            &[
                ("id", "String"),
                ("name", "String"),
                ("class", "String"),
                ("capacity_persons", "Number"),
                ("area_m2", "Number"),
                ("district_code", "String"),
                ("sample", "Boolean"),
            ],
        ),
    },
    Layer {
        name: "supply_depots",
        items: Items::Stored(Collection::SupplyDepots),
        tiles: tiles(
            "supply_depots",
            TilesetSource::Collection(Collection::SupplyDepots),
            false,
            true,
            &[
                ("id", "String"),
                ("name", "String"),
                ("item_count", "Number"),
                ("district_code", "String"),
                ("sample", "Boolean"),
            ],
        ),
    },
    Layer {
        name: "rescue_teams",
        items: Items::Stored(Collection::RescueTeams),
        tiles: tiles(
            "rescue_teams",
            TilesetSource::Collection(Collection::RescueTeams),
            false,
            true,
            &[
                ("id", "String"),
                ("name", "String"),
                ("kind", "String"),
                ("members", "Number"),
                ("mobilisation_min", "Number"),
                ("district_code", "String"),
                ("sample", "Boolean"),
            ],
        ),
    },
    Layer {
        name: "pipeline_segments",
        items: Items::Derived(Derived::PipelineSegments),
        // Drawn as the `pipelines` tileset.
        tiles: None,
    },
    Layer {
        name: "safety_zones",
        items: Items::Derived(Derived::SafetyZones),
        tiles: tiles(
            "safety_zones",
            TilesetSource::SafetyZones,
            false,
            false,
            &[
                ("id", "String"),
                ("site_id", "String"),
                ("kind", "String"),
                ("method", "String"),
                ("level", "Number"),
                ("classes", "String"),
                ("distance_m", "Number"),
                ("clause", "String"),
                ("label_zh", "String"),
                ("label_en", "String"),
                ("governing", "Boolean"),
                ("unconfirmed", "Boolean"),
                ("area_m2", "Number"),
                ("model", "String"),
            ],
        ),
    },
    Layer {
        name: "violations",
        items: Items::Derived(Derived::Violations),
        tiles: tiles(
            "violations",
            TilesetSource::Violations,
            false,
            false,
            &[
                ("id", "String"),
                ("target_id", "String"),
                ("name", "String"),
                ("target_class", "String"),
                ("site_id", "String"),
                ("site_name", "String"),
                ("zone_id", "String"),
                ("method", "String"),
                ("clause", "String"),
                ("distance_m", "Number"),
                ("required_distance_m", "Number"),
                ("criterion_per_year", "Number"),
                ("individual_risk_per_year", "Number"),
                ("margin_m", "Number"),
                ("governing", "Boolean"),
                ("unconfirmed", "Boolean"),
            ],
        ),
    },
];

/// The layer named `name`.
pub fn layer(name: &str) -> Option<&'static Layer> {
    LAYERS.iter().find(|l| l.name == name)
}

/// The tileset named `name`.
pub fn tileset_spec(name: &str) -> Option<&'static TilesetSpec> {
    layer(name).and_then(|l| l.tiles.as_ref())
}

/// Every tileset, in drawing order.
pub fn tilesets() -> impl Iterator<Item = &'static TilesetSpec> {
    LAYERS.iter().filter_map(|l| l.tiles.as_ref())
}

/// The tilesets of the style and the PMTiles export, in drawing order.
pub fn exported_tilesets() -> impl Iterator<Item = &'static TilesetSpec> {
    tilesets().filter(|t| t.exported)
}

/// Every tileset name, for messages.
pub fn tileset_names() -> String {
    tilesets().map(|t| t.name).collect::<Vec<_>>().join(", ")
}

impl Derived {
    /// Every derived collection, in registry order.
    pub fn all() -> impl Iterator<Item = Derived> {
        LAYERS.iter().filter_map(|l| match l.items {
            Items::Derived(d) => Some(d),
            Items::Stored(_) => None,
        })
    }

    /// The derived collection named `name`.
    pub fn parse(name: &str) -> Option<Derived> {
        match layer(name)?.items {
            Items::Derived(d) => Some(d),
            Items::Stored(_) => None,
        }
    }

    /// Its layer.
    pub fn layer(self) -> &'static Layer {
        // Every variant is registered (checked by a test).
        LAYERS
            .iter()
            .find(|l| l.items == Items::Derived(self))
            .unwrap_or(&LAYERS[0])
    }

    /// The collection id.
    pub fn as_str(self) -> &'static str {
        self.layer().name
    }

    /// Bilingual title.
    pub fn title(self) -> &'static str {
        match self {
            Derived::RiskGrid => "四色图网格 Four-colour risk grid",
            Derived::PipelineSegments => "管段高后果区 Pipeline segments (HCA)",
            Derived::SafetyZones => "外部安全防护区 External safety protection zones",
            Derived::Violations => {
                "外部安全防护距离内的防护目标 Protection targets inside safety zones"
            }
        }
    }
}

impl Layer {
    /// Bilingual title.
    pub fn title(&self) -> String {
        match self.items {
            Items::Stored(c) => format!("{} {}", c.title_zh(), c.title_en()),
            Items::Derived(d) => d.title().to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_is_registered_once_and_named_alike() {
        let names: std::collections::BTreeSet<&str> = LAYERS.iter().map(|l| l.name).collect();
        assert_eq!(names.len(), LAYERS.len(), "names are unique");
        for l in &LAYERS {
            if let Some(t) = &l.tiles {
                assert_eq!(t.name, l.name);
                assert!(t.fields.iter().any(|(k, _)| *k == "id"));
                assert!(!t.point_index || matches!(t.source, TilesetSource::Collection(_)));
            }
            if let Items::Stored(c) = l.items {
                assert_eq!(c.as_str(), l.name);
            }
        }
        for c in Collection::ALL {
            assert!(matches!(layer(c.as_str()).map(|l| l.items), Some(Items::Stored(x)) if x == c));
        }
        for d in [
            Derived::RiskGrid,
            Derived::PipelineSegments,
            Derived::SafetyZones,
            Derived::Violations,
        ] {
            assert_eq!(d.layer().items, Items::Derived(d));
            assert_eq!(Derived::parse(d.as_str()), Some(d));
        }
        assert_eq!(Derived::all().count(), 4);
        assert!(tileset_spec("roads").is_none());
        assert!(tileset_spec("pipeline_segments").is_none());
        assert_eq!(exported_tilesets().count(), 9);
    }
}

//! Counts of features per risk level by group (`/api/stats/risk`).

use std::collections::BTreeMap;

use geo::{Centroid, Contains};
use riskmap_core::{Collection, Feature, Record};

use crate::World;

/// How to group features for counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    /// By 行政区划 (the enterprise's `district_code`, else the district
    /// containing the feature's centroid).
    District,
    /// By industry (行业), enterprises only.
    Industry,
    /// By chemical park (`park_id`), enterprises only.
    Park,
}

/// One group's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The key (district code, industry, park id, or `(none)`).
    pub key: String,
    /// The district's or park's name, when the key names one.
    pub name: Option<String>,
    /// Counts by level index (0 blue … 3 red).
    pub counts: [u64; 4],
}

/// Counts per level by group, and the totals.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskStats {
    /// The groups, ordered by key.
    pub groups: Vec<Group>,
    /// Counts over every group, by level index.
    pub totals: [u64; 4],
}

impl World {
    /// Counts the scored features of `collection` per level by `group_by`.
    pub fn risk_stats(&self, collection: Collection, group_by: GroupBy) -> RiskStats {
        let cat = &self.catalog;
        let districts: Vec<_> = cat.iter(Collection::Districts).collect();
        let district_of = |f: &Feature| -> Option<String> {
            let c = f.geometry.centroid()?;
            districts
                .iter()
                .find(|d| d.geometry.contains(&c))
                .map(|d| d.id.clone())
        };
        let mut groups: BTreeMap<String, [u64; 4]> = BTreeMap::new();
        let mut totals = [0u64; 4];
        for f in cat.iter(collection) {
            let Some(level) = self.risk.level(collection, &f.id) else {
                continue;
            };
            let key = match (&f.record, group_by) {
                (Record::Enterprise(e), GroupBy::Industry) => e.industry.clone(),
                (Record::Enterprise(e), GroupBy::Park) => e.park_id.clone(),
                (Record::Enterprise(e), GroupBy::District) => {
                    e.district_code.clone().or_else(|| district_of(f))
                }
                _ => district_of(f),
            }
            .unwrap_or_else(|| "(none)".to_string());
            let i = level.index();
            groups.entry(key).or_default()[i] += 1;
            totals[i] += 1;
        }
        let name_of = |key: &str| -> Option<String> {
            let c = match group_by {
                GroupBy::District => Collection::Districts,
                GroupBy::Park => Collection::Parks,
                GroupBy::Industry => return None,
            };
            cat.get(c, key)
                .and_then(|f| f.record.name().map(str::to_string))
        };
        RiskStats {
            groups: groups
                .into_iter()
                .map(|(key, counts)| Group {
                    name: name_of(&key),
                    key,
                    counts,
                })
                .collect(),
            totals,
        }
    }
}

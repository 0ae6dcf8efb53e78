//! What one change did to what riskmap derives (变化情况): the risk levels
//! that changed (old → new, with the new assessment's deciding factors) and
//! the external-safety-distance violations that appeared or cleared,
//! computed from the world before and after the change.
//!
//! Only what the change reached is compared ([`Effects::reached`]: the
//! features and grid cells the engine rescored, the sites the safety engine
//! reassessed); a change that rescored everything (the day's rollover, a
//! large import) is compared whole. The application layer adds the time
//! and the cause and keeps the result in the store's history.

use std::collections::{BTreeMap, BTreeSet};

use geo::{BoundingRect, Rect};
use riskmap_core::scoring::{Assessment, RiskLevel};
use riskmap_core::{Collection, Record};
use riskmap_safety::site::Violation;
use serde_json::{Map, Value, json};

use crate::{Effects, World};

/// What a derived change is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A risk level changed.
    Level,
    /// A violation appeared.
    ViolationNew,
    /// A violation cleared.
    ViolationCleared,
}

/// One derived change, without its time and cause.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedItem {
    /// What changed.
    pub kind: Kind,
    /// The item's collection (`enterprises`, `parks`, `pipelines`,
    /// `pipeline_segments`, `districts`, `risk_grid`, `violations`).
    pub collection: String,
    /// The item's id (a segment `P1#3`, a cell `c12_40`, a violation
    /// `site|target|zone`).
    pub id: String,
    /// The box of its old and new geometry.
    pub bbox: Option<Rect<f64>>,
    /// The item as served: for levels `collection`, `id`, `name`, `old`,
    /// `new`, `reason`; for violations the site, the target (name,
    /// category, class), the zone (method, clause, required distance) and
    /// the distance and margin.
    pub detail: Map<String, Value>,
}

/// The collections whose features have a level.
const SCORED: [Collection; 4] = [
    Collection::Enterprises,
    Collection::Parks,
    Collection::Pipelines,
    Collection::Districts,
];

/// Factors named in a level change's reason, at most.
const REASON_FACTORS: usize = 3;

/// The derived changes from `old` to `new`, which `effects` produced:
/// levels first (features, pipeline segments, grid cells), then
/// violations, each ordered by collection and id.
pub fn diff(old: &World, new: &World, effects: &Effects) -> Vec<DerivedItem> {
    let mut out = Vec::new();
    let features: BTreeSet<(Collection, String)> = if effects.everything {
        SCORED
            .iter()
            .flat_map(|&c| {
                old.catalog
                    .iter(c)
                    .chain(new.catalog.iter(c))
                    .map(move |f| (c, f.id.clone()))
            })
            .collect()
    } else {
        effects
            .reached
            .features
            .iter()
            .filter(|(c, _)| SCORED.contains(c))
            .cloned()
            .collect()
    };
    for (c, id) in &features {
        feature_level(old, new, *c, id, &mut out);
        if *c == Collection::Pipelines {
            segment_levels(old, new, id, &mut out);
        }
    }
    let cells: BTreeSet<String> = if effects.everything {
        old.risk
            .cells()
            .chain(new.risk.cells())
            .map(|c| c.id.clone())
            .collect()
    } else {
        effects.reached.cells.clone()
    };
    for id in &cells {
        cell_level(old, new, id, &mut out);
    }
    let sites: BTreeSet<String> = if effects.everything {
        old.safety
            .sites
            .keys()
            .chain(new.safety.sites.keys())
            .cloned()
            .collect()
    } else {
        effects.reached.sites.clone()
    };
    let mut new_v = Vec::new();
    let mut cleared_v = Vec::new();
    for site in &sites {
        let before = violations_of(old, site);
        let after = violations_of(new, site);
        for (id, v) in &after {
            if !before.contains_key(id) {
                new_v.push(violation_item(new, v, Kind::ViolationNew));
            }
        }
        for (id, v) in &before {
            if !after.contains_key(id) {
                cleared_v.push(violation_item(old, v, Kind::ViolationCleared));
            }
        }
    }
    out.extend(new_v);
    out.extend(cleared_v);
    out
}

fn violations_of<'a>(w: &'a World, site: &str) -> BTreeMap<&'a str, &'a Violation> {
    w.safety
        .sites
        .get(site)
        .map(|a| a.violations.iter().map(|v| (v.id.as_str(), v)).collect())
        .unwrap_or_default()
}

fn level_item(
    collection: &str,
    id: &str,
    name: Option<&str>,
    old: Option<RiskLevel>,
    new: Option<RiskLevel>,
    reason: String,
    bbox: Option<Rect<f64>>,
) -> DerivedItem {
    let detail = json!({
        "collection": collection,
        "id": id,
        "name": name,
        "old": old,
        "new": new,
        "reason": reason,
    });
    DerivedItem {
        kind: Kind::Level,
        collection: collection.to_string(),
        id: id.to_string(),
        bbox,
        detail: detail.as_object().cloned().unwrap_or_default(),
    }
}

fn union(a: Option<Rect<f64>>, b: Option<Rect<f64>>) -> Option<Rect<f64>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(Rect::new(
            (a.min().x.min(b.min().x), a.min().y.min(b.min().y)),
            (a.max().x.max(b.max().x), a.max().y.max(b.max().y)),
        )),
        (a, b) => a.or(b),
    }
}

fn feature_level(old: &World, new: &World, c: Collection, id: &str, out: &mut Vec<DerivedItem>) {
    let (oa, na) = (old.risk.assessment(c, id), new.risk.assessment(c, id));
    let (ol, nl) = (oa.map(|a| a.risk_level), na.map(|a| a.risk_level));
    if ol == nl {
        return;
    }
    let (of, nf) = (old.catalog.get(c, id), new.catalog.get(c, id));
    let name = nf.or(of).and_then(|f| f.record.name());
    let bbox = union(of.map(|f| f.bbox()), nf.map(|f| f.bbox()));
    out.push(level_item(
        c.as_str(),
        id,
        name,
        ol,
        nl,
        reason(oa, na),
        bbox,
    ));
}

fn segment_levels(old: &World, new: &World, id: &str, out: &mut Vec<DerivedItem>) {
    let (op, np) = (old.risk.pipelines.get(id), new.risk.pipelines.get(id));
    let n = op
        .map_or(0, |p| p.segments.len())
        .max(np.map_or(0, |p| p.segments.len()));
    let name = new
        .catalog
        .get(Collection::Pipelines, id)
        .or_else(|| old.catalog.get(Collection::Pipelines, id))
        .and_then(|f| f.record.name());
    for i in 0..n {
        let os = op.and_then(|p| p.segments.get(i));
        let ns = np.and_then(|p| p.segments.get(i));
        let (ol, nl) = (
            os.map(|s| s.assessment.risk_level),
            ns.map(|s| s.assessment.risk_level),
        );
        if ol == nl {
            continue;
        }
        let bbox = union(
            os.and_then(|s| s.geometry.bounding_rect()),
            ns.and_then(|s| s.geometry.bounding_rect()),
        );
        out.push(level_item(
            "pipeline_segments",
            &format!("{id}#{i}"),
            name,
            ol,
            nl,
            reason(os.map(|s| &s.assessment), ns.map(|s| &s.assessment)),
            bbox,
        ));
    }
}

fn cell_level(old: &World, new: &World, id: &str, out: &mut Vec<DerivedItem>) {
    let (oc, nc) = (old.risk.cell(id), new.risk.cell(id));
    let (ol, nl) = (oc.map(|c| c.risk_level), nc.map(|c| c.risk_level));
    if ol == nl {
        return;
    }
    let reason = match nc {
        Some(c) => {
            let shown: Vec<String> = c
                .set_by
                .iter()
                .take(REASON_FACTORS)
                .map(|s| match s.segment {
                    Some(i) => format!("{}/{}#{i}", s.collection, s.id),
                    None => format!("{}/{}", s.collection, s.id),
                })
                .collect();
            format!(
                "就高原则 max rule: set by {}{}",
                shown.join(", "),
                if c.set_by.len() > shown.len() {
                    ", …"
                } else {
                    ""
                }
            )
        }
        None => "无风险源 no source left in the cell".to_string(),
    };
    let bbox = union(
        oc.and_then(|c| c.geometry.bounding_rect()),
        nc.and_then(|c| c.geometry.bounding_rect()),
    );
    out.push(level_item("risk_grid", id, None, ol, nl, reason, bbox));
}

/// The new assessment's deciding factors, short: the score's move and the
/// factors that are new in it (or its first ones), e.g. `score 72 → 55;
/// 外部安全防护距离 external safety distance: 1 violation`.
fn reason(old: Option<&Assessment>, new: Option<&Assessment>) -> String {
    let Some(new) = new else {
        return "不再评估 no longer assessed (deleted)".to_string();
    };
    let mut parts = Vec::new();
    if let Some(n) = new.score {
        match old.and_then(|o| o.score) {
            Some(o) if (o - n).abs() > 1e-9 => parts.push(format!("score {} → {}", fmt(o), fmt(n))),
            _ => parts.push(format!("score {}", fmt(n))),
        }
    }
    let known: BTreeSet<(&str, &str)> = old
        .map(|o| {
            o.factors
                .iter()
                .map(|f| (&*f.name, &*f.value))
                .collect::<BTreeSet<_>>()
        })
        .unwrap_or_default();
    let mut fresh: Vec<_> = new
        .factors
        .iter()
        .filter(|f| !known.contains(&(&*f.name, &*f.value)))
        .collect();
    if fresh.is_empty() {
        fresh = new.factors.iter().collect();
    }
    // The factors whose points moved most first (a new deduction before a
    // changed figure that scores the same).
    let old_points = |name: &str| {
        old.and_then(|o| o.factors.iter().find(|f| &*f.name == name))
            .and_then(|f| f.points)
            .unwrap_or(0.0)
    };
    let moved =
        |f: &&riskmap_core::scoring::Factor| (f.points.unwrap_or(0.0) - old_points(&f.name)).abs();
    fresh.sort_by(|a, b| moved(b).total_cmp(&moved(a)));
    parts.extend(fresh.iter().take(REASON_FACTORS).map(|f| {
        if f.value.is_empty() {
            f.name.to_string()
        } else {
            format!("{}: {}", f.name, f.value)
        }
    }));
    if parts.is_empty() {
        format!("{} ({})", new.model.id, new.risk_level.as_str())
    } else {
        parts.join("; ")
    }
}

fn fmt(x: f64) -> String {
    let r = (x * 10.0).round() / 10.0;
    if r.fract() == 0.0 {
        format!("{r:.0}")
    } else {
        format!("{r:.1}")
    }
}

fn violation_item(w: &World, v: &Violation, kind: Kind) -> DerivedItem {
    let target = w.catalog.get(Collection::ProtectionTargets, &v.target_id);
    let category = target.and_then(|f| match &f.record {
        Record::ProtectionTarget(t) => serde_json::to_value(t.category).ok(),
        _ => None,
    });
    // The violation's geometry, as `/collections/violations` serves it.
    let bbox = Some(v.point.bounding_rect());
    let mut detail = crate::properties::violation_properties(v);
    detail["id"] = json!(v.id);
    detail["target_category"] = category.unwrap_or(Value::Null);
    DerivedItem {
        kind,
        collection: "violations".into(),
        id: v.id.clone(),
        bbox,
        detail: detail.as_object().cloned().unwrap_or_default(),
    }
}

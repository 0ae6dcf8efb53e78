//! Properties of derived features as served in collections and tiles alike.

use serde_json::{Value, json};

/// Properties of a safety zone as served (collection items and tiles).
pub fn zone_properties(z: &riskmap_safety::site::SafetyZone) -> Value {
    json!({
        "site_id": z.site_id,
        "kind": z.kind,
        "method": z.method,
        "level": z.level,
        "classes": z.classes,
        "distance_m": round1(z.distance_m),
        "clause": z.clause,
        "label_zh": z.label_zh,
        "label_en": z.label_en,
        "governing": z.governing,
        "unconfirmed": z.unconfirmed,
        "area_m2": round1(z.area_m2),
        "model": riskmap_safety::site::MODEL_ID,
    })
}

/// Properties of a violation as served (collection items and tiles).
pub fn violation_properties(v: &riskmap_safety::site::Violation) -> Value {
    json!({
        "target_id": v.target_id,
        "name": v.target_name,
        "target_class": v.target_class,
        "site_id": v.site_id,
        "site_name": v.site_name,
        "zone_id": v.zone_id,
        "method": v.method,
        "clause": v.clause,
        "distance_m": round1(v.distance_m),
        "required_distance_m": round1(v.required_distance_m),
        "criterion_per_year": v.criterion_per_year,
        "individual_risk_per_year": v.individual_risk_per_year,
        "margin_m": round1(v.margin_m),
        "governing": v.governing,
        "unconfirmed": v.unconfirmed,
    })
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

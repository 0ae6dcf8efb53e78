//! Classifying a protection target into its GB 36894 class.

use riskmap_core::model::{ProtectionTarget, TargetCategory};

use crate::targets::class::TargetClass;
use crate::targets::rules::{CategoryClass, SizeMetric, TargetClassRules, category_name};

/// The GB 36894-2018 class of a protection target, with the reasons.
///
/// - A category ruled 高敏感 or 重要 gets that class whatever its size.
/// - A general (一般) category is split by each size criterion of its rule
///   that has data: ≥ `class_1_min` → 一类, ≥ `class_2_min` → 二类, else
///   三类; the most severe class over the criteria wins (就高).
/// - A general target without any usable size attribute gets
///   `rules.missing_size_class` (一类 in the shipped rules: conservative).
/// - A floor area that is not a finite number ≥ 0 is ignored (and said so).
///
/// The reasons name each rule applied, its value and the rule's status
/// (the shipped rules are UNCONFIRMED).
pub fn classify(
    category: TargetCategory,
    population: Option<u32>,
    households: Option<u32>,
    beds: Option<u32>,
    floor_area_m2: Option<f64>,
    rules: &TargetClassRules,
) -> (TargetClass, Vec<String>) {
    let name = category_name(category);
    let mut reasons = vec![format!(
        "rules: GB 36894-2018 protection-target classes, status {}",
        rules.status
    )];
    let Some(rule) = rules.rule(category) else {
        // Unreachable with validated rules; conservative answer all the same.
        reasons.push(format!(
            "no rule for category `{name}`: assumed {} (conservative)",
            TargetClass::HighSensitivity.label_zh()
        ));
        return (TargetClass::HighSensitivity, reasons);
    };
    match rule.class {
        CategoryClass::HighSensitivity => {
            reasons.push(format!(
                "category `{name}` is a {} by category ({})",
                TargetClass::HighSensitivity.label_zh(),
                rule.source
            ));
            return (TargetClass::HighSensitivity, reasons);
        }
        CategoryClass::Important => {
            reasons.push(format!(
                "category `{name}` is a {} by category ({})",
                TargetClass::Important.label_zh(),
                rule.source
            ));
            return (TargetClass::Important, reasons);
        }
        CategoryClass::General => {}
    }
    let floor_area = match floor_area_m2 {
        Some(a) if a.is_finite() && a >= 0.0 => Some(a),
        Some(a) => {
            reasons.push(format!(
                "floor_area_m2 = {a} ignored: not a finite number ≥ 0"
            ));
            None
        }
        None => None,
    };
    let mut class: Option<TargetClass> = None;
    for c in &rule.criteria {
        let value = match c.metric {
            SizeMetric::Households => households.map(f64::from),
            SizeMetric::Population => population.map(f64::from),
            SizeMetric::Beds => beds.map(f64::from),
            SizeMetric::FloorAreaM2 => floor_area,
        };
        let Some(v) = value else { continue };
        let k = c.class_of_unchecked(v);
        let bound = match k {
            TargetClass::General1 => format!("≥ {}", c.class_1_min),
            TargetClass::General2 => format!("in [{}, {})", c.class_2_min, c.class_1_min),
            _ => format!("< {}", c.class_2_min),
        };
        reasons.push(format!(
            "{} = {v} {bound} → {} (category `{name}`)",
            c.metric.name(),
            k.label_zh()
        ));
        class = Some(class.map_or(k, |prev| prev.min(k)));
    }
    match class {
        Some(k) => {
            reasons.push(format!(
                "class: {} (most severe over the criteria, 就高; {})",
                k.label_zh(),
                rule.source
            ));
            (k, reasons)
        }
        None => {
            let k = rules.missing_size_class;
            let metrics: Vec<&str> = rule.criteria.iter().map(|c| c.metric.name()).collect();
            reasons.push(format!(
                "no size attribute ({}) given for general category `{name}`: assumed {} \
                 (`missing_size_class`)",
                metrics.join(", "),
                k.label_zh()
            ));
            (k, reasons)
        }
    }
}

/// [`classify`] for a [`ProtectionTarget`] record.
pub fn classify_target(
    target: &ProtectionTarget,
    rules: &TargetClassRules,
) -> (TargetClass, Vec<String>) {
    classify(
        target.category,
        target.population,
        target.households,
        target.beds,
        target.floor_area_m2,
        rules,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rules() -> &'static TargetClassRules {
        TargetClassRules::embedded()
    }

    #[test]
    fn sensitive_and_important_by_category() {
        for c in [
            TargetCategory::School,
            TargetCategory::Kindergarten,
            TargetCategory::Hospital,
            TargetCategory::NursingHome,
        ] {
            let (k, reasons) = classify(c, Some(1), None, None, None, rules());
            assert_eq!(k, TargetClass::HighSensitivity);
            assert!(reasons[0].contains("UNCONFIRMED"));
        }
        for c in [TargetCategory::CulturalRelic, TargetCategory::Religious] {
            assert_eq!(
                classify(c, None, None, None, None, rules()).0,
                TargetClass::Important
            );
        }
    }

    #[test]
    fn residential_bands() {
        let r = |h, p| classify(TargetCategory::Residential, p, h, None, None, rules()).0;
        // ≥ 30 households or ≥ 100 residents → 一类.
        assert_eq!(r(Some(30), None), TargetClass::General1);
        assert_eq!(r(None, Some(100)), TargetClass::General1);
        // 10–30 households or 30–100 residents → 二类.
        assert_eq!(r(Some(29), None), TargetClass::General2);
        assert_eq!(r(Some(10), Some(5)), TargetClass::General2);
        assert_eq!(r(None, Some(30)), TargetClass::General2);
        // < 10 households and < 30 residents → 三类.
        assert_eq!(r(Some(9), Some(29)), TargetClass::General3);
        // The most severe criterion wins.
        assert_eq!(r(Some(5), Some(150)), TargetClass::General1);
        // No data → conservative 一类.
        let (k, reasons) = classify(TargetCategory::Residential, None, None, None, None, rules());
        assert_eq!(k, TargetClass::General1);
        assert!(reasons.iter().any(|s| s.contains("missing_size_class")));
    }

    #[test]
    fn hotels_offices_and_bad_area() {
        let hotel = |b| classify(TargetCategory::Hotel, None, None, b, None, rules()).0;
        assert_eq!(hotel(Some(100)), TargetClass::General1);
        assert_eq!(hotel(Some(50)), TargetClass::General2);
        assert_eq!(hotel(Some(10)), TargetClass::General3);
        let office = |a| classify(TargetCategory::Office, Some(10), None, None, a, rules()).0;
        assert_eq!(office(Some(6000.0)), TargetClass::General1);
        assert_eq!(office(Some(2000.0)), TargetClass::General2);
        assert_eq!(office(Some(100.0)), TargetClass::General3);
        let (k, reasons) = classify(
            TargetCategory::Office,
            Some(10),
            None,
            None,
            Some(f64::NAN),
            rules(),
        );
        assert_eq!(k, TargetClass::General3);
        assert!(reasons.iter().any(|s| s.contains("ignored")));
    }

    #[test]
    fn classifies_a_record() {
        let t = ProtectionTarget {
            name: Some("小区".into()),
            category: TargetCategory::Residential,
            population: Some(40),
            households: Some(12),
            beds: None,
            floor_area_m2: None,
            extra: Default::default(),
        };
        assert_eq!(classify_target(&t, rules()).0, TargetClass::General2);
    }

    proptest! {
        #[test]
        fn more_people_never_lowers_the_class(p in 0u32..10_000, dp in 0u32..10_000, h in proptest::option::of(0u32..200)) {
            for c in [TargetCategory::Residential, TargetCategory::Office, TargetCategory::Other, TargetCategory::Stadium] {
                let a = classify(c, Some(p), h, None, None, rules()).0;
                let b = classify(c, Some(p + dp), h, None, None, rules()).0;
                prop_assert!(b <= a, "{c:?}: {a:?} → {b:?}");
            }
        }
    }
}

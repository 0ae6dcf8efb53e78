//! The protection-target classification rules, from
//! `data/rules/protection-target-classes.toml` (embedded at compile time).
//! **All UNCONFIRMED** (`standards.md` §2.3): see the file's header.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use riskmap_core::model::TargetCategory;
use serde::{Deserialize, Serialize};

use crate::error::SafetyError;
use crate::targets::class::TargetClass;

const TABLE_NAME: &str = "protection-target-classes.toml";
#[cfg(test)]
const EMBEDDED_TOML: &str = include_str!("../../../../data/rules/protection-target-classes.toml");

static EMBEDDED: LazyLock<TargetClassRules> = LazyLock::new(|| {
    TargetClassRules::from_toml_str(riskmap_core::rule_set::text(
        "protection-target-classes.toml",
    ))
    .expect("protection-target-classes.toml in force is valid (checked at start)")
});

/// Every [`TargetCategory`] with its import-schema name. Exhaustive, so a
/// new category in `riskmap-core` fails to compile here until it has a rule.
pub(crate) fn category_name(category: TargetCategory) -> &'static str {
    match category {
        TargetCategory::School => "school",
        TargetCategory::Kindergarten => "kindergarten",
        TargetCategory::Hospital => "hospital",
        TargetCategory::NursingHome => "nursing_home",
        TargetCategory::Residential => "residential",
        TargetCategory::Office => "office",
        TargetCategory::Mall => "mall",
        TargetCategory::Hotel => "hotel",
        TargetCategory::Stadium => "stadium",
        TargetCategory::TransportHub => "transport_hub",
        TargetCategory::CulturalRelic => "cultural_relic",
        TargetCategory::Religious => "religious",
        TargetCategory::Other => "other",
    }
}

/// The class family a category belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CategoryClass {
    /// 高敏感防护目标, whatever its size.
    HighSensitivity,
    /// 重要防护目标, whatever its size.
    Important,
    /// 一般防护目标, split into 一类/二类/三类 by size.
    General,
}

/// A size attribute of a protection target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeMetric {
    /// 户数.
    Households,
    /// 人数.
    Population,
    /// 床位数.
    Beds,
    /// 建筑面积, m².
    FloorAreaM2,
}

impl SizeMetric {
    /// The metric's name in the rule file and in reasons.
    pub fn name(self) -> &'static str {
        match self {
            SizeMetric::Households => "households",
            SizeMetric::Population => "population",
            SizeMetric::Beds => "beds",
            SizeMetric::FloorAreaM2 => "floor_area_m2",
        }
    }
}

/// One size criterion of a general category: ≥ `class_1_min` → 一类,
/// ≥ `class_2_min` → 二类, else 三类.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SizeCriterion {
    /// The attribute.
    pub metric: SizeMetric,
    /// Lower bound (inclusive) of 一类.
    pub class_1_min: f64,
    /// Lower bound (inclusive) of 二类.
    pub class_2_min: f64,
}

impl SizeCriterion {
    /// The class for value `v`.
    ///
    /// # Errors
    /// [`SafetyError::InvalidInput`] unless `v` is a finite number ≥ 0 (a
    /// NaN size would otherwise fall in 三类, the least protected class).
    pub fn class_of(&self, v: f64) -> Result<TargetClass, SafetyError> {
        let v = crate::error::non_negative(self.metric.name(), v)?;
        Ok(self.class_of_unchecked(v))
    }

    pub(crate) fn class_of_unchecked(&self, v: f64) -> TargetClass {
        if v >= self.class_1_min {
            TargetClass::General1
        } else if v >= self.class_2_min {
            TargetClass::General2
        } else {
            TargetClass::General3
        }
    }
}

/// The rule of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryRule {
    /// Class family.
    pub class: CategoryClass,
    /// Size criteria (general categories only).
    #[serde(default)]
    pub criteria: Vec<SizeCriterion>,
    /// Where the rule comes from.
    pub source: String,
}

#[derive(Deserialize)]
struct RawRules {
    status: String,
    source: String,
    missing_size_class: TargetClass,
    category: BTreeMap<String, CategoryRule>,
}

/// The protection-target classification rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetClassRules {
    /// Status of the table (`UNCONFIRMED`).
    pub status: String,
    /// Source of the table.
    pub source: String,
    /// Class of a general target none of whose criteria has data.
    pub missing_size_class: TargetClass,
    /// Rule per category, keyed by import-schema name.
    pub categories: BTreeMap<String, CategoryRule>,
}

impl TargetClassRules {
    /// The rules in `data/rules/protection-target-classes.toml`, parsed once.
    pub fn embedded() -> &'static TargetClassRules {
        &EMBEDDED
    }

    /// Parse and check rules in the format of
    /// `protection-target-classes.toml`.
    ///
    /// # Errors
    /// [`SafetyError::Rules`] for a syntax error, an unknown or missing
    /// category, a general category without criteria, criteria on a
    /// non-general category, `class_2_min > class_1_min`, or a
    /// non-general `missing_size_class`.
    pub fn from_toml_str(text: &str) -> Result<TargetClassRules, SafetyError> {
        let err = |message: String| SafetyError::Rules {
            table: TABLE_NAME,
            message,
        };
        let raw: RawRules = riskmap_core::rule_set::from_toml(text).map_err(err)?;
        for name in raw.category.keys() {
            if !TargetCategory::NAMES.contains(&name.as_str()) {
                return Err(err(format!("unknown category `{name}`")));
            }
        }
        for name in TargetCategory::NAMES {
            let Some(rule) = raw.category.get(name) else {
                return Err(err(format!("no rule for category `{name}`")));
            };
            match rule.class {
                CategoryClass::General if rule.criteria.is_empty() => {
                    return Err(err(format!("general category `{name}` has no criteria")));
                }
                CategoryClass::HighSensitivity | CategoryClass::Important
                    if !rule.criteria.is_empty() =>
                {
                    return Err(err(format!(
                        "category `{name}` is not general but has criteria"
                    )));
                }
                _ => {}
            }
            for c in &rule.criteria {
                let ok = c.class_2_min.is_finite()
                    && c.class_1_min.is_finite()
                    && c.class_2_min >= 0.0
                    && c.class_2_min <= c.class_1_min;
                if !ok {
                    return Err(err(format!(
                        "category `{name}`, {}: need 0 ≤ class_2_min ≤ class_1_min",
                        c.metric.name()
                    )));
                }
            }
        }
        if !raw.missing_size_class.is_general() {
            return Err(err(
                "missing_size_class must be general_1, general_2 or general_3".into(),
            ));
        }
        Ok(TargetClassRules {
            status: raw.status,
            source: raw.source,
            missing_size_class: raw.missing_size_class,
            categories: raw.category,
        })
    }

    /// The rule for `category` (always present after validation).
    pub fn rule(&self, category: TargetCategory) -> Option<&CategoryRule> {
        self.categories.get(category_name(category))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_parse_and_cover_every_category() {
        let r = TargetClassRules::embedded();
        assert_eq!(r.status, "UNCONFIRMED");
        assert_eq!(r.categories.len(), TargetCategory::NAMES.len());
        assert_eq!(r.missing_size_class, TargetClass::General1);
        assert!(r.categories.values().all(|c| !c.source.is_empty()));
    }

    #[test]
    fn rejects_bad_rules() {
        let no_school = EMBEDDED_TOML.replace("[category.school]", "[category.schoool]");
        assert!(matches!(
            TargetClassRules::from_toml_str(&no_school),
            Err(SafetyError::Rules { .. })
        ));
        let swapped = EMBEDDED_TOML.replace(
            "{ metric = \"households\", class_1_min = 30.0, class_2_min = 10.0 }",
            "{ metric = \"households\", class_1_min = 10.0, class_2_min = 30.0 }",
        );
        assert!(TargetClassRules::from_toml_str(&swapped).is_err());
        let bad_default = EMBEDDED_TOML.replace(
            "missing_size_class = \"general_1\"",
            "missing_size_class = \"important\"",
        );
        assert!(TargetClassRules::from_toml_str(&bad_default).is_err());
    }
}

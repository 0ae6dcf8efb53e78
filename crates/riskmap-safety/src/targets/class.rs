//! Protection-target classes of GB 36894-2018 and their individual-risk
//! criteria.

use serde::{Deserialize, Serialize};

use crate::error::SafetyError;

/// Class of a protection target (防护目标), GB 36894-2018.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetClass {
    /// 高敏感防护目标: schools, kindergartens, hospitals, welfare homes…
    HighSensitivity,
    /// 重要防护目标: cultural relics, religious sites, rail transit, military…
    Important,
    /// 一般防护目标 一类.
    #[serde(rename = "general_1")]
    General1,
    /// 一般防护目标 二类.
    #[serde(rename = "general_2")]
    General2,
    /// 一般防护目标 三类.
    #[serde(rename = "general_3")]
    General3,
}

impl TargetClass {
    /// The class name in the standard's words.
    pub fn label_zh(self) -> &'static str {
        match self {
            TargetClass::HighSensitivity => "高敏感防护目标",
            TargetClass::Important => "重要防护目标",
            TargetClass::General1 => "一般防护目标中的一类防护目标",
            TargetClass::General2 => "一般防护目标中的二类防护目标",
            TargetClass::General3 => "一般防护目标中的三类防护目标",
        }
    }

    /// Whether this is one of the three 一般防护目标 classes.
    pub fn is_general(self) -> bool {
        matches!(
            self,
            TargetClass::General1 | TargetClass::General2 | TargetClass::General3
        )
    }
}

/// Whether the installation is new (新建) or existing (在役), which sets
/// the individual-risk criterion: the enterprise's own `installation` field
/// ([`riskmap_core::model::Installation`]).
pub use riskmap_core::model::Installation as InstallationStatus;

/// GB 36894-2018 individual-risk criterion (个人风险基准), per year: the
/// individual risk at a protection target of `class` must be ≤ this value.
///
/// | class | new | existing |
/// |---|---|---|
/// | 高敏感, 重要, 一般一类 | 3×10⁻⁷ | 3×10⁻⁶ |
/// | 一般二类 | 3×10⁻⁶ | 1×10⁻⁵ |
/// | 一般三类 | 1×10⁻⁵ | 3×10⁻⁵ |
///
/// Numbers \[C-2\]: the same pairs are in the 2014 interim criteria
/// (安监总局公告2014年第13号); their mapping to the 2018 class names is \[M\]
/// (`standards.md` §2.1).
pub fn ir_criterion(class: TargetClass, status: InstallationStatus) -> f64 {
    use InstallationStatus::{Existing, New};
    use TargetClass::*;
    match (class, status) {
        (HighSensitivity | Important | General1, New) => 3e-7,
        (HighSensitivity | Important | General1, Existing) => 3e-6,
        (General2, New) => 3e-6,
        (General2, Existing) => 1e-5,
        (General3, New) => 1e-5,
        (General3, Existing) => 3e-5,
    }
}

/// Whether an individual risk `ir_per_year` at a target of `class` meets
/// the GB 36894 criterion (≤).
///
/// # Errors
/// [`SafetyError::InvalidInput`] unless the risk is a finite number ≥ 0
/// per year (a negative or NaN risk is refused, never judged to meet it).
pub fn meets_ir_criterion(
    class: TargetClass,
    status: InstallationStatus,
    ir_per_year: f64,
) -> Result<bool, SafetyError> {
    let ir = crate::error::non_negative("ir_per_year", ir_per_year)?;
    Ok(ir <= ir_criterion(class, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_table() {
        use InstallationStatus::*;
        use TargetClass::*;
        for c in [HighSensitivity, Important, General1] {
            assert_eq!(ir_criterion(c, New), 3e-7);
            assert_eq!(ir_criterion(c, Existing), 3e-6);
        }
        assert_eq!(ir_criterion(General2, New), 3e-6);
        assert_eq!(ir_criterion(General2, Existing), 1e-5);
        assert_eq!(ir_criterion(General3, New), 1e-5);
        assert_eq!(ir_criterion(General3, Existing), 3e-5);
        assert!(meets_ir_criterion(General3, Existing, 3e-5).unwrap());
        assert!(!meets_ir_criterion(General1, New, 3.1e-7).unwrap());
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1e-9] {
            assert!(meets_ir_criterion(General3, Existing, bad).is_err());
        }
        assert!(meets_ir_criterion(General3, Existing, 0.0).unwrap());
    }

    #[test]
    fn existing_is_never_stricter_than_new() {
        use TargetClass::*;
        for c in [HighSensitivity, Important, General1, General2, General3] {
            assert!(
                ir_criterion(c, InstallationStatus::Existing)
                    >= ir_criterion(c, InstallationStatus::New)
            );
        }
    }
}

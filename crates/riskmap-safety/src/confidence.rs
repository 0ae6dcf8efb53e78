//! How far a constant in a rule table can be trusted.

use serde::{Deserialize, Serialize};

/// Confidence tag of a constant, as in `consequence-models.md` and
/// `standards.md` (shared domain notes of the project).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Confidence {
    /// Verified: reproduces a published worked example or value.
    #[serde(rename = "V")]
    Verified,
    /// Corroborated: seen in at least one independent public source.
    #[serde(rename = "C")]
    Corroborated,
    /// From memory, not re-checked against a primary text: **UNCONFIRMED**.
    #[serde(rename = "M")]
    Memory,
}

impl Confidence {
    /// True for [`Confidence::Memory`], which the project treats as
    /// UNCONFIRMED.
    pub fn is_unconfirmed(self) -> bool {
        self == Confidence::Memory
    }
}

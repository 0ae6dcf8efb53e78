//! Protection targets (防护目标) of GB 36894-2018: their class and the
//! individual-risk criterion that applies to them.
//!
//! - [`class`]: [`TargetClass`] (高敏感 / 重要 / 一般一类·二类·三类),
//!   [`InstallationStatus`] (new / existing) and [`ir_criterion`]
//!   (3×10⁻⁷/3×10⁻⁶, 3×10⁻⁶/1×10⁻⁵, 1×10⁻⁵/3×10⁻⁵ per year).
//! - [`rules`]: the classification rules from
//!   `data/rules/protection-target-classes.toml` — **UNCONFIRMED** against
//!   the official text (`standards.md` §2.3).
//! - [`classify`](mod@classify): [`classify`](fn@classify) a target from its
//!   category, population, households, beds and floor area, with reasons.

pub mod class;
pub mod classify;
pub mod rules;

pub use class::{InstallationStatus, TargetClass, ir_criterion, meets_ir_criterion};
pub use classify::{classify, classify_target};
pub use rules::{CategoryClass, CategoryRule, SizeCriterion, SizeMetric, TargetClassRules};

//! Standards as data: the tables of national standards that the scoring
//! models use, embedded from `data/standards/` at compile time and parsed once.
//!
//! - [`gb18218`]: GB 18218-2018 危险化学品重大危险源辨识 (identification and
//!   grading of major hazard installations of hazardous chemicals), Tables 1–6.

pub mod gb18218;

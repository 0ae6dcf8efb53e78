//! GB/T 37243-2019 §4: which method sets the external safety distance.
//!
//! 1. Explosives (爆炸物) present → 事故后果法 (consequence method).
//! 2. Toxic gases (有毒气体) or flammable gases (易燃气体) whose design
//!    maximum quantities reach the GB 18218-2018 critical quantities,
//!    Σ q/Q ≥ 1 over those gases in the unit → 定量风险评价法 (QRA).
//! 3. Otherwise (any hazardous substance) → the separation distances of the
//!    relevant codes (GB 50160, GB 50016, GB 50074, …).
//!
//! Branches 1–2 are [C-2] (`standards.md` §3.1, the Beijing 2020 notice
//! quoting the standard, its text truncated after "设计最大量与GB 18218-2018
//! 中规定的临界量…"); branch 3 and "several apply → the most stringent" are
//! [M]. Each unit is classified on its own (GB 18218 units: 生产单元/储存单元);
//! a unit may need both 1 and 2; a unit that needs neither gets 3. The sum
//! in branch 2 runs over the unit's toxic and flammable gases only.
//!
//! A toxic gas is a GB 18218 表1 entry flagged toxic gas or a substance
//! given category J1/J3 (gases with acute toxicity); a flammable gas is a
//! 表1 entry flagged flammable gas or a substance given W2. The 表1 flags
//! are a project judgement of the table data (see `riskmap_core`).

use serde::Serialize;

use riskmap_core::model::Unit;
use riskmap_core::scoring::identify_unit;
use riskmap_core::standards::gb18218::Gb18218;

use crate::qra::rules::QraRules;
use crate::siting::{is_explosive, label};

/// A siting method of GB/T 37243-2019.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// 事故后果法 (§5).
    Consequence,
    /// 定量风险评价法 (§6).
    Qra,
    /// Separation distances of the relevant codes.
    CodeDistance,
}

/// A method that applies, with why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodChoice {
    /// The method.
    pub method: Method,
    /// Reason, Chinese.
    pub reason_zh: String,
    /// Reason, English.
    pub reason_en: String,
    /// The clause.
    pub clause: String,
    /// Substances that make it apply.
    pub substances: Vec<String>,
    /// Units it applies to.
    pub units: Vec<String>,
    /// Whether the clause wording is UNCONFIRMED.
    pub unconfirmed: bool,
}

const CLAUSE: &str = "GB/T 37243-2019 第4章";

/// The methods that apply to `units`, in the order consequence, QRA, code
/// distances; empty when no unit holds a substance.
pub fn choose_methods(units: &[Unit]) -> Vec<MethodChoice> {
    let gb = Gb18218::builtin();
    let rules = QraRules::embedded();
    let mut consequence: (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    let mut qra: (Vec<String>, Vec<String>, Vec<String>) = (Vec::new(), Vec::new(), Vec::new());
    let mut code: (Vec<String>, Vec<String>) = (Vec::new(), Vec::new());
    for u in units {
        let explosives: Vec<String> = u
            .substances
            .iter()
            .filter(|s| is_explosive(rules, s))
            .map(label)
            .collect();
        let mut ratio = 0.0;
        let mut gases = Vec::new();
        for s in &u.substances {
            // GB 18218 identification of the substance alone (its q/Q).
            let one = Unit {
                substances: vec![s.clone()],
                ..u.clone()
            };
            let hazard = identify_unit(&one, 0, gb);
            let Some(c) = hazard.contributions.first() else {
                continue;
            };
            let entry = gb.find_substance(s.name.as_deref(), s.cas.as_deref());
            let cats = |p: &[&str]| {
                c.categories
                    .iter()
                    .any(|k| p.iter().any(|q| k.eq_ignore_ascii_case(q)))
            };
            let toxic_gas = c.is_toxic_gas || cats(&["J1", "J3"]);
            let flammable_gas = entry.is_some_and(|e| e.is_flammable_gas) || cats(&["W2"]);
            if toxic_gas || flammable_gas {
                ratio += c.ratio();
                gases.push(format!("{} ({} t / {} t)", label(s), c.q_t, c.critical_t));
            }
        }
        let is_qra = ratio >= 1.0;
        if !explosives.is_empty() {
            consequence.0.extend(explosives.iter().cloned());
            consequence.1.push(u.id.clone());
        }
        if is_qra {
            qra.0.extend(gases.iter().cloned());
            qra.1.push(u.id.clone());
            qra.2.push(format!("{} Σq/Q = {ratio:.3}", u.id));
        }
        if explosives.is_empty() && !is_qra && !u.substances.is_empty() {
            code.0.extend(u.substances.iter().map(label));
            code.1.push(u.id.clone());
        }
    }
    let dedup = |mut v: Vec<String>| {
        let mut seen = std::collections::BTreeSet::new();
        v.retain(|s| seen.insert(s.clone()));
        v
    };
    let mut out = Vec::new();
    if !consequence.1.is_empty() {
        out.push(MethodChoice {
            method: Method::Consequence,
            reason_zh: format!(
                "单元 {} 涉及爆炸物，采用事故后果法确定外部安全防护距离",
                consequence.1.join("、")
            ),
            reason_en: format!(
                "units {} hold explosives: the consequence method applies",
                consequence.1.join(", ")
            ),
            clause: format!("{CLAUSE} (爆炸物 → 事故后果法, 第5章)"),
            substances: dedup(consequence.0),
            units: consequence.1,
            unconfirmed: false,
        });
    }
    if !qra.1.is_empty() {
        out.push(MethodChoice {
            method: Method::Qra,
            reason_zh: format!(
                "涉及有毒气体或易燃气体，且设计最大量与 GB 18218-2018 临界量比值之和 ≥ 1（{}），采用定量风险评价法",
                qra.2.join("；")
            ),
            reason_en: format!(
                "toxic or flammable gases with Σq/Q ≥ 1 against GB 18218-2018 ({}): QRA applies",
                qra.2.join("; ")
            ),
            clause: format!("{CLAUSE} (有毒气体/易燃气体且 Σq/Q ≥ 1 → 定量风险评价法, 第6章)"),
            substances: dedup(qra.0),
            units: qra.1,
            unconfirmed: false,
        });
    }
    if !code.1.is_empty() {
        out.push(MethodChoice {
            method: Method::CodeDistance,
            reason_zh: format!(
                "单元 {} 不涉及爆炸物，且有毒/易燃气体未达临界量，外部安全防护距离应满足相关标准规范的要求（GB 50160、GB 50016、GB 50074 等）",
                code.1.join("、")
            ),
            reason_en: format!(
                "units {} hold no explosives and no toxic/flammable gas at Σq/Q ≥ 1: the separation distances of the relevant codes apply (GB 50160, GB 50016, GB 50074, ...)",
                code.1.join(", ")
            ),
            clause: format!("{CLAUSE} (其他情形 → 相关标准规范的距离要求; wording UNCONFIRMED)"),
            substances: dedup(code.0),
            units: code.1,
            unconfirmed: true,
        });
    }
    out
}

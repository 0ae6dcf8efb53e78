//! Enterprise grading: the 100-point 危险化学品生产储存企业安全风险评估诊断分级指南（试行）
//! (`enterprise-diagnosis-2018.toml`), or LEC with the industry's default
//! factors for industries the guide does not fit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::hazard::{UnitHazard, identify_unit};
use super::rules::{Aggregate, Confidence, EnterpriseRules, normalize};
use super::{Assessment, Builder, RiskLevel, Rules, band_for, fmt_num, fmt_signed};
use crate::model::{AccidentSeverity, DiagnosisItem, Enterprise, FindingResult, TargetCategory};
use crate::standards::gb18218::Gb18218;

/// Everything spatial (and temporal) the enterprise model needs, computed
/// elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnterpriseContext {
    /// Resident population within 500 m of the plant boundary (厂区边界),
    /// for GB 18218 α (Table 5).
    pub people_within_500m: u64,
    /// Categories of the protection targets within 500 m (informational).
    pub targets_within_500m: Vec<TargetCategory>,
    /// Whether the enterprise lies in a chemical park (化工园区/化工集中区).
    pub in_chemical_park: bool,
    /// The assessment date, `YYYY-MM-DD`, for the 1-, 3- and 5-year accident
    /// windows.
    pub today: String,
    /// Whether the external safety protection distance (外部安全防护距离) is
    /// met; `None` when not yet computed (reported as incomplete, no
    /// deduction).
    pub external_distance_ok: Option<bool>,
    /// The enterprise's hidden dangers (事故隐患) as the diagnosis reads them:
    /// open 重大 ones whose 判定标准 item is linked to a heading answer it
    /// (`finding_link`), and closure ends a deficiency an inspection finding
    /// registered as that danger.
    pub dangers: Vec<DangerOnFile>,
}

/// One hidden danger of an enterprise, for the diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DangerOnFile {
    /// Feature id.
    pub id: String,
    /// The 重大事故隐患判定标准 item, e.g. `HC121-17`.
    pub rule_item: Option<String>,
    /// 发现日期, `YYYY-MM-DD`.
    pub found_date: String,
    /// Where it stands.
    pub state: DangerState,
}

/// Where a hidden danger stands, for the diagnosis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DangerState {
    /// Not yet closed (reported … rectified).
    Open,
    /// 销号 on this date (`YYYY-MM-DD`; empty when the history has no date).
    Closed(String),
    /// 不予认定: not a danger.
    Rejected,
}

/// Whether the diagnosis model fits an industry: listed in `applies` or
/// `applies_with_hazardous_units` of `enterprise-diagnosis-2018.toml`
/// `[applicability]`. A missing or unlisted industry gives `false` here; for a
/// whole enterprise (whose inventory decides those cases) use
/// [`diagnosis_applies_to`].
pub fn diagnosis_applies(industry: Option<&str>, rules: &Rules) -> bool {
    let Some(ind) = industry.map(str::trim).filter(|s| !s.is_empty()) else {
        return false;
    };
    let ap = &rules.enterprise.applicability;
    ap.applies
        .iter()
        .chain(&ap.applies_with_hazardous_units)
        .any(|i| i.trim() == ind)
}

/// Whether [`assess_enterprise`] grades this enterprise with the diagnosis
/// model: always for an industry in `applies`, never for one in
/// `not_applicable`, and otherwise (listed in `applies_with_hazardous_units`,
/// unlisted, or missing) when it holds hazardous chemicals: a unit with a
/// substance of quantity > 0.
pub fn diagnosis_applies_to(e: &Enterprise, rules: &Rules) -> bool {
    let ap = &rules.enterprise.applicability;
    let ind = e.industry.as_deref().map(str::trim).unwrap_or("");
    if !ind.is_empty() && ap.applies.iter().any(|i| i.trim() == ind) {
        return true;
    }
    if !ind.is_empty() && ap.not_applicable.iter().any(|i| i.trim() == ind) {
        return false;
    }
    has_hazardous_inventory(e)
}

fn has_hazardous_inventory(e: &Enterprise) -> bool {
    e.units
        .iter()
        .flat_map(|u| &u.substances)
        .any(|s| s.quantity_t > 0.0)
}

/// Grades an enterprise, and identifies each of its units under GB 18218
/// (α from `ctx.people_within_500m`).
///
/// When [`diagnosis_applies_to`] the enterprise, this is
/// [`assess_enterprise_diagnosis`]; otherwise the enterprise is graded by LEC
/// ([`super::assess_lec`]) with the default L/E/C configured for its industry
/// in `lec.toml`, which the assessment reports as a default, not a site
/// assessment.
pub fn assess_enterprise(
    e: &Enterprise,
    ctx: &EnterpriseContext,
    rules: &Rules,
) -> (Assessment, Vec<UnitHazard>) {
    let hazards = identify_units(e, ctx);
    let a = if diagnosis_applies_to(e, rules) {
        diagnosis(e, ctx, rules, &hazards)
    } else {
        lec_fallback(e, rules, &hazards)
    };
    (a, hazards)
}

/// Grades an enterprise with the 100-point diagnosis model whatever its
/// industry (see [`assess_enterprise`]).
pub fn assess_enterprise_diagnosis(
    e: &Enterprise,
    ctx: &EnterpriseContext,
    rules: &Rules,
) -> (Assessment, Vec<UnitHazard>) {
    let hazards = identify_units(e, ctx);
    (diagnosis(e, ctx, rules, &hazards), hazards)
}

/// The colour of a diagnosis score under the configured bands (≥90 blue,
/// 75–<90 yellow, 60–<75 orange, <60 red), e.g. for a full on-site diagnosis
/// scored elsewhere. Automatic-red conditions are not considered here.
pub fn diagnosis_level(score: f64, rules: &Rules) -> RiskLevel {
    band_for(&rules.enterprise.bands, score).band.level
}

fn identify_units(e: &Enterprise, ctx: &EnterpriseContext) -> Vec<UnitHazard> {
    e.units
        .iter()
        .map(|u| identify_unit(u, ctx.people_within_500m, Gb18218::builtin()))
        .collect()
}

/// A deduction as signed points (0 stays 0, not −0).
fn neg(d: f64) -> f64 {
    if d == 0.0 { 0.0 } else { -d }
}

const GRADE_ZH: [&str; 4] = ["一级", "二级", "三级", "四级"];
const STD_ZH: [&str; 3] = ["一级", "二级", "三级"];

fn grade_zh(g: u8) -> &'static str {
    GRADE_ZH
        .get(usize::from(g).wrapping_sub(1))
        .copied()
        .unwrap_or("?")
}

fn diagnosis(
    e: &Enterprise,
    ctx: &EnterpriseContext,
    rules: &Rules,
    hazards: &[UnitHazard],
) -> Assessment {
    let r = &rules.enterprise;
    let file = r.about.file.as_str();
    let mut b = Builder::default();
    b.check(
        r.about.document_confidence,
        file,
        "about.document",
        &format!(
            "document number {} of the diagnosis guide",
            r.about.document
        ),
    );
    let industry = e.industry.as_deref().map(str::trim).unwrap_or("");
    let ap = &r.applicability;
    if !ap.applies.iter().any(|i| i.trim() == industry) {
        b.convention(format!(
            "industry {:?} is not in `applicability.applies` of {file}; graded by the diagnosis model because it holds hazardous chemicals",
            if industry.is_empty() { "(none)" } else { industry }
        ));
    }
    if e.units.is_empty() {
        b.incomplete(
            "no production or storage units (生产单元/储存单元) recorded: 重大危险源, 物质危险性 and 危险化工工艺 found nothing to deduct",
        );
    }

    let mut deductions = 0.0;
    deductions += major_hazards(r, hazards, &mut b);
    deductions += substance_hazard(r, hazards, &mut b);
    deductions += processes(e, r, &mut b);
    deductions += surroundings(r, ctx, &mut b);
    let perf = performance(e, ctx, r, &mut b);
    deductions += perf.deduction;

    let found = findings(e, ctx, r, &mut b);
    deductions += found.deduction;

    let raw = r.start_score - deductions + perf.bonus + found.bonus;
    // Points are multiples of 0.1: round away float noise so that 60 is 60.
    let score = ((raw.clamp(r.min_score, r.max_score)) * 1e6).round() / 1e6;
    let hit = band_for(&r.bands, score);
    b.check_bands(file, "bands", &hit);
    let mut level = hit.band.level;
    if let Some(reason) = perf.automatic_red {
        level = RiskLevel::Red;
        b.factor(
            r.automatic_red.name.clone(),
            reason,
            None,
            r.automatic_red.clause.clone(),
        );
    }
    if found.automatic_red {
        level = RiskLevel::Red;
    }
    b.finish(level, Some(score), &r.about)
}

/// 1.固有危险性 重大危险源.
fn major_hazards(r: &EnterpriseRules, hazards: &[UnitHazard], b: &mut Builder) -> f64 {
    let mh = &r.major_hazard;
    let file = r.about.file.as_str();
    let deduct = |g: u8| {
        mh.deduct_by_grade
            .get(usize::from(g).wrapping_sub(1))
            .copied()
            .unwrap_or(mh.deduct_by_grade[0])
    };
    let mut graded: Vec<(&UnitHazard, u8)> = Vec::new();
    for h in hazards {
        for note in &h.notes {
            b.incomplete(format!("unit {}: {note}", h.unit));
        }
        if let Some(g) = h.grade {
            graded.push((h, g));
            b.factor(
                "重大危险源辨识 major hazard installation (GB 18218)",
                format!(
                    "unit {}: S = {}, α = {}, R = {} → {}",
                    h.unit,
                    fmt_num(h.s),
                    fmt_num(h.alpha),
                    fmt_num(h.r),
                    grade_zh(g)
                ),
                None,
                "GB 18218-2018 4.2, 4.3, 表6",
            );
        }
    }
    let raw = match mh.aggregate {
        Aggregate::Highest => graded.iter().map(|&(_, g)| deduct(g)).fold(0.0, f64::max),
        Aggregate::Sum => graded.iter().map(|&(_, g)| deduct(g)).sum(),
    };
    let d = raw.min(mh.cap);
    let value = if graded.is_empty() {
        "none (no unit with S ≥ 1)".to_string()
    } else {
        let worst = graded.iter().map(|&(_, g)| g).min().unwrap_or(4);
        format!(
            "{} installation(s), most severe {}",
            graded.len(),
            grade_zh(worst)
        )
    };
    b.factor(mh.name.clone(), value, Some(neg(d)), mh.clause.clone());
    if graded.len() > 1 && mh.aggregate_confidence == Confidence::Project {
        b.convention(format!(
            "重大危险源 deduction: {} (`major_hazard.aggregate` in {file}), a project reading of “存在X级…重大危险源的，扣N分”",
            match mh.aggregate {
                Aggregate::Highest => "one deduction for the most severe grade",
                Aggregate::Sum => "one deduction per installation, capped",
            }
        ));
    }
    b.check(
        mh.confidence,
        file,
        "major_hazard.deduct_by_grade",
        "重大危险源 points",
    );
    d
}

/// A distinct substance of the enterprise (over all units), by Table 1 row,
/// else CAS, else name.
struct Distinct {
    label: String,
    cas: Option<String>,
    explosive: bool,
    toxic: bool,
    by_category: bool,
    from_flags: bool,
}

/// 1.固有危险性 物质危险性.
fn substance_hazard(r: &EnterpriseRules, hazards: &[UnitHazard], b: &mut Builder) -> f64 {
    let sh = &r.substance_hazard;
    let file = r.about.file.as_str();
    let has = |list: &[String], cats: &[String]| {
        cats.iter()
            .any(|c| list.iter().any(|l| l.eq_ignore_ascii_case(c)))
    };
    let mut distinct: BTreeMap<String, Distinct> = BTreeMap::new();
    for c in hazards.iter().flat_map(|h| &h.contributions) {
        if c.q_t <= 0.0 {
            continue;
        }
        let key = match (c.table1_no, &c.cas) {
            (Some(no), _) => format!("#{no}"),
            (None, Some(cas)) if !cas.trim().is_empty() => {
                format!(
                    "cas:{}",
                    cas.chars().filter(char::is_ascii_digit).collect::<String>()
                )
            }
            _ => format!("name:{}", normalize(&c.substance)),
        };
        let cat_explosive = has(&sh.explosive_categories, &c.categories);
        let cat_toxic = has(&sh.toxic_inhalation_categories, &c.categories);
        let entry = distinct.entry(key).or_insert_with(|| Distinct {
            label: c.substance.clone(),
            cas: c.cas.clone(),
            explosive: false,
            toxic: false,
            by_category: false,
            from_flags: false,
        });
        entry.explosive |= c.is_explosive || cat_explosive;
        entry.toxic |= c.is_toxic_gas || cat_toxic;
        entry.by_category |= (cat_explosive && !c.is_explosive) || (cat_toxic && !c.is_toxic_gas);
        entry.from_flags |= c.is_explosive || c.is_toxic_gas;
        if entry.cas.is_none() {
            entry.cas = c.cas.clone();
        }
    }
    let explosive: Vec<&str> = distinct
        .values()
        .filter(|d| d.explosive)
        .map(|d| d.label.as_str())
        .collect();
    let toxic: Vec<&str> = distinct
        .values()
        .filter(|d| d.toxic && !d.explosive)
        .map(|d| d.label.as_str())
        .collect();
    let key_list: Vec<String> = sh
        .key_supervised_cas
        .iter()
        .map(|c| c.chars().filter(char::is_ascii_digit).collect())
        .collect();
    let other: Vec<&str> = distinct
        .values()
        .filter(|d| !d.explosive && !d.toxic)
        .filter(|d| {
            d.cas.as_deref().is_some_and(|cas| {
                let digits: String = cas.chars().filter(char::is_ascii_digit).collect();
                key_list.contains(&digits)
            })
        })
        .map(|d| d.label.as_str())
        .collect();
    let raw = sh.explosive_each * explosive.len() as f64
        + sh.toxic_inhalation_each * toxic.len() as f64
        + sh.other_key_supervised_each * other.len() as f64;
    let d = raw.min(sh.cap);
    let list = |v: &[&str]| {
        if v.is_empty() {
            "0".to_string()
        } else {
            format!("{} ({})", v.len(), v.join(", "))
        }
    };
    let mut value = format!(
        "爆炸品 explosives {}; 吸入性有毒 inhalation-toxic {}",
        list(&explosive),
        list(&toxic)
    );
    if !key_list.is_empty() {
        value.push_str(&format!(
            "; 其他重点监管 other key-supervised {}",
            list(&other)
        ));
        b.check(
            sh.key_supervised_confidence,
            file,
            "substance_hazard.key_supervised_cas",
            "重点监管危险化学品名录 CAS list",
        );
    } else {
        b.incomplete(format!(
            "其他重点监管危险化学品 other key-supervised hazardous chemicals ({}, {} 分 each): not assessed — the 名录 is not configured (`substance_hazard.key_supervised_cas` in {file} is empty); default: no deduction",
            sh.clause,
            fmt_num(sh.other_key_supervised_each)
        ));
    }
    b.factor(sh.name.clone(), value, Some(neg(d)), sh.clause.clone());
    if distinct
        .values()
        .any(|d| d.from_flags && (d.explosive || d.toxic))
    {
        b.convention(
            "爆炸品 and 吸入性剧毒 are read from the is_explosive / is_toxic_gas flags of the GB 18218 Table 1 data, which are project judgements (data/standards/README.md); is_toxic_gas (inhalation-toxic gases, GHS cat. 1–3) is broader than the 剧毒化学品 list the guide means (e.g. 氨), a conservative reading",
        );
    }
    if distinct.values().any(|d| d.by_category) {
        b.convention(format!(
            "substances not in Table 1 count as explosive / inhalation-toxic by their Table 2 symbols ({} / {}; `substance_hazard.*_categories` in {file})",
            sh.explosive_categories.join(", "),
            sh.toxic_inhalation_categories.join(", ")
        ));
    }
    d
}

/// 1.固有危险性 危险化工工艺种类.
fn processes(e: &Enterprise, r: &EnterpriseRules, b: &mut Builder) -> f64 {
    let p = &r.processes;
    let file = r.about.file.as_str();
    let mut found: Vec<&str> = Vec::new();
    let mut any = false;
    for u in &e.units {
        for name in &u.processes {
            any = true;
            match p.official_name(name) {
                Some(official) => {
                    if !found.contains(&official) {
                        found.push(official);
                    }
                }
                None => b.incomplete(format!(
                    "unit {}: process {name:?} is not one of the 18 重点监管危险化工工艺 (`processes.list` in {file}); not counted",
                    u.id
                )),
            }
        }
    }
    let d = (p.deduct_each * found.len() as f64).min(p.cap);
    let value = if found.is_empty() {
        "none".to_string()
    } else {
        format!("{} ({})", found.len(), found.join(", "))
    };
    b.factor(p.name.clone(), value, Some(neg(d)), p.clause.clone());
    if any {
        b.check(
            p.list_confidence,
            file,
            "processes.list",
            "the list of 18 重点监管危险化工工艺",
        );
    }
    d
}

/// 2.周边环境.
fn surroundings(r: &EnterpriseRules, ctx: &EnterpriseContext, b: &mut Builder) -> f64 {
    let s = &r.surroundings;
    let mut raw = 0.0;
    let mut parts = Vec::new();
    if ctx.in_chemical_park {
        parts.push("in a chemical park".to_string());
    } else {
        raw += s.outside_chemical_park;
        parts.push(format!(
            "outside a chemical park ({})",
            fmt_signed(-s.outside_chemical_park)
        ));
    }
    match ctx.external_distance_ok {
        Some(true) => parts.push("external safety distance met".to_string()),
        Some(false) => {
            raw += s.external_distance_not_ok;
            parts.push(format!(
                "external safety distance NOT met ({})",
                fmt_signed(-s.external_distance_not_ok)
            ));
        }
        None => {
            parts.push("external safety distance not computed".to_string());
            b.incomplete(format!(
                "外部安全防护距离 external safety distance ({}, {} 分): not yet computed; default: no deduction",
                s.clause,
                fmt_num(s.external_distance_not_ok)
            ));
        }
    }
    let d = raw.min(s.cap);
    b.factor(
        s.name.clone(),
        parts.join("; "),
        Some(neg(d)),
        s.clause.clone(),
    );
    if !ctx.targets_within_500m.is_empty() {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for t in &ctx.targets_within_500m {
            let name = serde_json::to_value(t)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            *counts.entry(name).or_default() += 1;
        }
        let list: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        b.factor(
            "500 m 内防护目标 protection targets within 500 m",
            format!(
                "{} ({}); informational: the guide scores 周边环境 through the external safety distance",
                ctx.targets_within_500m.len(),
                list.join(", ")
            ),
            None,
            "GB 36894-2018 防护目标",
        );
    }
    d
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Date {
    y: i32,
    m: u32,
    d: u32,
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Date {
    /// `YYYY-MM-DD`, a real calendar date.
    fn parse(s: &str) -> Option<Date> {
        let s = s.trim();
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let all_digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        if !(all_digits(0..4) && all_digits(5..7) && all_digits(8..10)) {
            return None;
        }
        let y: i32 = s.get(0..4)?.parse().ok()?;
        let m: u32 = s.get(5..7)?.parse().ok()?;
        let d: u32 = s.get(8..10)?.parse().ok()?;
        ((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d)).then_some(Date {
            y,
            m,
            d,
        })
    }

    /// The same day `n` years earlier (29 Feb → 28 Feb).
    fn years_before(self, n: u32) -> Date {
        let y = self.y - i32::try_from(n).unwrap_or(i32::MAX / 2);
        Date {
            y,
            m: self.m,
            d: self.d.min(days_in_month(y, self.m)),
        }
    }

    /// Whether `self` lies in the `years` up to and including `today`.
    fn within(self, today: Date, years: u32) -> bool {
        self <= today && self >= today.years_before(years)
    }
}

struct Found {
    deduction: f64,
    bonus: f64,
    automatic_red: bool,
}

/// The headings the registration data cannot score (`not_assessed`), each
/// answered by its latest inspection finding and by the open 重大 dangers
/// linked to it, or reported as not assessed. Findings and dangers dated
/// after the assessment date are not yet known.
fn findings(
    e: &Enterprise,
    ctx: &EnterpriseContext,
    r: &EnterpriseRules,
    b: &mut Builder,
) -> Found {
    let items = crate::dangers::DangerRules::builtin();
    let file = r.about.file.as_str();
    let known = |date: &str| ctx.today.is_empty() || date <= ctx.today.as_str();
    let danger = |id: &str| ctx.dangers.iter().find(|d| d.id == id);
    let mut out = Found {
        deduction: 0.0,
        bonus: 0.0,
        automatic_red: false,
    };
    for n in &r.not_assessed {
        let heading = DiagnosisItem::parse(&n.key);
        // The latest finding on this heading; the later entry wins a tie.
        let latest = e
            .inspection_findings
            .iter()
            .filter(|f| Some(f.item) == heading && known(&f.date))
            .max_by(|a, b| a.date.cmp(&b.date));
        let links: Vec<(&DangerOnFile, &super::rules::FindingLink)> = ctx
            .dangers
            .iter()
            .filter(|d| d.state == DangerState::Open && known(&d.found_date))
            .filter_map(|d| {
                let item = d.rule_item.as_deref()?;
                let l = r
                    .finding_link
                    .iter()
                    .find(|l| l.item == item && l.heading == n.key)?;
                Some((d, l))
            })
            .collect();
        if latest.is_none() && links.is_empty() {
            let stake = n
                .allocation
                .map_or(String::new(), |a| format!(", {} 分", fmt_num(a)));
            b.incomplete(format!(
                "{} ({}{stake}): not assessed — {}, and no inspection finding or linked hidden danger answers it; default: {} [{}]",
                n.name, n.clause, n.reason, n.default, n.content
            ));
            continue;
        }
        let mut deduction = 0.0;
        let mut red = false;
        // A deficiency registered as a danger counts once, as the finding.
        let mut counted: Option<&str> = None;
        if let Some(f) = latest {
            let clause = f.clause.as_deref().unwrap_or(&n.clause);
            let by = f
                .inspector
                .as_deref()
                .map_or(String::new(), |i| format!(", {i}"));
            let note = f
                .note
                .as_deref()
                .map_or(String::new(), |t| format!(": {t}"));
            let closed = f
                .danger_id
                .as_deref()
                .and_then(danger)
                .and_then(|d| match &d.state {
                    DangerState::Closed(on) if known(on) => Some(on.as_str()),
                    _ => None,
                });
            counted = f.danger_id.as_deref();
            let (value, points) = match (f.result, closed) {
                (FindingResult::Compliant, _) => (
                    format!("finding {} ({}{by}): 符合 compliant{note}", f.id, f.date),
                    Some(0.0),
                ),
                (FindingResult::Deficient, Some(on)) => (
                    format!(
                        "finding {} ({}{by}): 不符合{note}; its hidden danger {} was closed (销号) on {on}: rectified, no deduction",
                        f.id,
                        f.date,
                        f.danger_id.as_deref().unwrap_or("")
                    ),
                    Some(0.0),
                ),
                (FindingResult::Deficient, None) => {
                    let registered = f
                        .danger_id
                        .as_deref()
                        .map_or(String::new(), |d| format!(" (hidden danger {d})"));
                    if n.automatic_red {
                        red = true;
                        (
                            format!(
                                "finding {} ({}{by}): 不符合{note}{registered} → 直接判定为红色",
                                f.id, f.date
                            ),
                            None,
                        )
                    } else {
                        let d = f.deduction.unwrap_or(0.0);
                        deduction += d;
                        (
                            format!(
                                "finding {} ({}{by}): 不符合{note}{registered}",
                                f.id, f.date
                            ),
                            Some(neg(d)),
                        )
                    }
                }
            };
            b.factor(n.name.clone(), value, points, clause);
            if let Some(x) = f.bonus.filter(|&x| x > 0.0) {
                match n.max_bonus {
                    Some(max) => {
                        let x = x.min(max);
                        out.bonus += x;
                        b.factor(
                            n.name.clone(),
                            format!(
                                "finding {} ({}): bonus (加分){}",
                                f.id,
                                f.date,
                                if x < f.bonus.unwrap_or(x) {
                                    format!(", capped at {} (`max_bonus` in {file})", fmt_num(max))
                                } else {
                                    String::new()
                                }
                            ),
                            Some(x),
                            clause,
                        );
                    }
                    None => b.incomplete(format!(
                        "finding {}: bonus {} ignored — {} has no bonus (`max_bonus` in {file})",
                        f.id,
                        fmt_num(x),
                        n.name
                    )),
                }
            }
        }
        for (d, l) in &links {
            if counted == Some(d.id.as_str()) {
                continue;
            }
            let item_clause = items
                .item(&l.item)
                .map_or(l.item.clone(), |i| i.clause.clone());
            let clause = format!("{}; {item_clause}", n.clause);
            let value = format!(
                "open 重大事故隐患 {} ({}, found {}): {}",
                d.id, l.item, d.found_date, l.line
            );
            if n.automatic_red {
                red = true;
                b.factor(
                    n.name.clone(),
                    format!("{value} → 直接判定为红色"),
                    None,
                    clause,
                );
            } else {
                let x = l.deduction.unwrap_or(0.0);
                deduction += x;
                b.factor(n.name.clone(), value, Some(neg(x)), clause);
            }
            b.convention(format!(
                "{} answers {} through `finding_link` in {file}: a project reading (UNCONFIRMED): no published text links the 判定标准 items to the guide's headings",
                l.item, n.key
            ));
        }
        if let Some(cap) = n.allocation
            && deduction > cap
        {
            b.factor(
                n.name.clone(),
                format!(
                    "deductions {} capped at the allocation (扣完为止)",
                    fmt_num(deduction)
                ),
                Some(deduction - cap),
                n.clause.clone(),
            );
            deduction = cap;
        }
        out.deduction += deduction;
        out.automatic_red |= red;
    }
    out
}

struct Performance {
    deduction: f64,
    bonus: f64,
    automatic_red: Option<String>,
}

/// 9.安全管理绩效 and 直接判定为红色 第4项.
fn performance(
    e: &Enterprise,
    ctx: &EnterpriseContext,
    r: &EnterpriseRules,
    b: &mut Builder,
) -> Performance {
    let p = &r.performance;
    let a = &r.automatic_red;
    let sev = &r.severity_by_deaths;
    let file = r.about.file.as_str();
    let mut bonus = 0.0;

    match e.standardization_level {
        Some(l @ 1..=3) => {
            let i = usize::from(l - 1);
            let pts = p.standardization_bonus[i];
            bonus += pts;
            b.factor(
                "安全生产标准化 work-safety standardisation",
                STD_ZH[i],
                Some(pts),
                p.clause.clone(),
            );
        }
        Some(other) => b.incomplete(format!(
            "安全生产标准化 standardisation level {other} is not 1–3; no bonus"
        )),
        None => b.factor(
            "安全生产标准化 work-safety standardisation",
            "none recorded",
            Some(0.0),
            p.clause.clone(),
        ),
    }

    let Some(today) = Date::parse(&ctx.today) else {
        b.incomplete(format!(
            "accident history ({}; {}): not assessed — the assessment date {:?} is not YYYY-MM-DD; default: no deduction, no bonus, no automatic red",
            p.clause, a.clause, ctx.today
        ));
        return Performance {
            deduction: 0.0,
            bonus,
            automatic_red: None,
        };
    };

    let mut all_dated = true;
    let mut dated = Vec::new();
    for (i, acc) in e.accidents.iter().enumerate() {
        match Date::parse(&acc.date) {
            Some(d) if d <= today => {
                let by_deaths = if acc.deaths >= sev.especially_major_min_deaths {
                    AccidentSeverity::EspeciallyMajor
                } else if acc.deaths >= sev.major_min_deaths {
                    AccidentSeverity::Major
                } else if acc.deaths >= sev.larger_min_deaths {
                    AccidentSeverity::Larger
                } else {
                    AccidentSeverity::General
                };
                if by_deaths > acc.severity {
                    b.check(
                        sev.confidence,
                        file,
                        "severity_by_deaths",
                        &format!(
                            "accident {} counted at the severity its {} deaths imply ({})",
                            acc.date, acc.deaths, sev.source
                        ),
                    );
                }
                dated.push((d, acc.severity.max(by_deaths), acc.deaths));
            }
            Some(_) => b.incomplete(format!(
                "accidents[{i}] dated {} is after the assessment date {}; ignored",
                acc.date, ctx.today
            )),
            None => {
                all_dated = false;
                b.incomplete(format!(
                    "accidents[{i}] date {:?} is not YYYY-MM-DD; ignored",
                    acc.date
                ));
            }
        }
    }

    // Deductions in the window.
    let in_window: Vec<_> = dated
        .iter()
        .filter(|(d, _, _)| d.within(today, p.accident_window_years))
        .collect();
    let larger = in_window
        .iter()
        .filter(|(_, s, _)| *s >= AccidentSeverity::Larger)
        .count();
    let fatal = in_window
        .iter()
        .filter(|(_, s, deaths)| *s == AccidentSeverity::General && *deaths >= 1)
        .count();
    let raw = p.larger_accident_each * larger as f64 + p.fatal_accident_each * fatal as f64;
    let deduction = raw.min(p.cap);
    b.factor(
        "事故 accidents",
        format!(
            "in the {} years to {}: 较大 or worse {larger}, fatal 一般 (1–2 deaths) {fatal}",
            p.accident_window_years, ctx.today
        ),
        Some(neg(deduction)),
        p.clause.clone(),
    );

    // Bonus for no accident in 5 years.
    let recent = dated
        .iter()
        .any(|(d, _, _)| d.within(today, p.no_accident_window_years));
    if !recent && all_dated {
        bonus += p.no_accident_bonus;
        b.factor(
            "无事故 no accident",
            format!(
                "no accident in the {} years to {}",
                p.no_accident_window_years, ctx.today
            ),
            Some(p.no_accident_bonus),
            p.clause.clone(),
        );
    } else if !recent {
        b.incomplete("no-accident bonus not given: an accident date could not be read");
    }

    // Automatic red.
    let major = dated
        .iter()
        .filter(|(d, s, _)| *s >= AccidentSeverity::Major && d.within(today, a.major_window_years));
    let larger_n = dated
        .iter()
        .filter(|(d, s, _)| {
            *s >= AccidentSeverity::Larger && d.within(today, a.larger_window_years)
        })
        .count();
    let fatal_general_n = dated
        .iter()
        .filter(|(d, s, deaths)| {
            *s == AccidentSeverity::General
                && *deaths >= 1
                && d.within(today, a.fatal_general_window_years)
        })
        .count();
    let mut reasons = Vec::new();
    let major_n = major.count();
    if major_n > 0 {
        reasons.push(format!(
            "{major_n} accident(s) at 重大 level or above within {} years",
            a.major_window_years
        ));
    }
    if larger_n >= a.larger_min_count as usize {
        reasons.push(format!(
            "{larger_n} 较大-or-worse accidents within {} years (≥ {})",
            a.larger_window_years, a.larger_min_count
        ));
    }
    if fatal_general_n >= a.fatal_general_min_count as usize {
        reasons.push(format!(
            "{fatal_general_n} fatal 一般 accidents within {} year(s) (≥ {})",
            a.fatal_general_window_years, a.fatal_general_min_count
        ));
    }
    Performance {
        deduction,
        bonus,
        automatic_red: (!reasons.is_empty()).then(|| reasons.join("; ")),
    }
}

/// LEC with the industry's configured default factors.
fn lec_fallback(e: &Enterprise, rules: &Rules, hazards: &[UnitHazard]) -> Assessment {
    let industry = e.industry.as_deref().map(str::trim).unwrap_or("");
    let shown = if industry.is_empty() {
        "(none)"
    } else {
        industry
    };
    let lec_file = rules.lec.about.file.as_str();
    let Some(d) = rules.lec.default_for(e.industry.as_deref()) else {
        // Validation requires a default for every not-applicable industry.
        let mut a = super::assess_lec(f64::NAN, f64::NAN, f64::NAN, rules);
        a.push_incomplete(format!(
            "no LEC default for industry {shown} in {lec_file}: graded red until assessed"
        ));
        return a;
    };
    let mut a = super::assess_lec(d.l, d.e, d.c, rules);
    a.insert_incomplete(
        0,
        format!(
            "LEC factors are the configured default for industry {shown} (`industry_defaults` row {:?} in {lec_file}: L = {}, E = {}, C = {} — {}), not a site assessment",
            d.industry,
            fmt_num(d.l),
            fmt_num(d.e),
            fmt_num(d.c),
            d.note
        ),
    );
    let listed = rules
        .enterprise
        .applicability
        .not_applicable
        .iter()
        .any(|i| i.trim() == industry);
    a.push_convention(if listed {
        format!(
            "the diagnosis guide (诊断分级指南) does not fit industry {shown} (`applicability.not_applicable` in {}): graded by LEC",
            rules.enterprise.about.file
        )
    } else {
        format!(
            "industry {shown} holds no hazardous chemicals, so the diagnosis guide (危险化学品生产储存企业) does not apply: graded by LEC"
        )
    });
    if d.confidence == Confidence::Project {
        a.push_convention(
            "the per-industry LEC defaults are project defaults, not from any standard",
        );
    }
    for h in hazards {
        if let Some(g) = h.grade {
            a.push_factor(super::Factor::new(
                "重大危险源辨识 major hazard installation (GB 18218)",
                format!(
                    "unit {}: S = {}, R = {} → {} (informational: LEC does not use it)",
                    h.unit,
                    fmt_num(h.s),
                    fmt_num(h.r),
                    grade_zh(g)
                ),
                None,
                "GB 18218-2018 4.2, 4.3, 表6",
            ));
        }
    }
    if !e.accidents.is_empty() {
        a.push_incomplete(format!(
            "{} accident record(s) not used: the LEC default does not score accident history",
            e.accidents.len()
        ));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Accident, Substance, Unit, UnitKind};
    use proptest::prelude::*;

    fn rules() -> &'static Rules {
        Rules::builtin()
    }

    fn sub(name: &str, q: f64) -> Substance {
        Substance {
            name: Some(name.to_string()),
            cas: None,
            quantity_t: q,
            hazard_categories: vec![],
        }
    }

    fn unit(id: &str, substances: Vec<Substance>, processes: &[&str]) -> Unit {
        Unit {
            id: id.to_string(),
            name: None,
            kind: UnitKind::Storage,
            geometry: None,
            substances,
            processes: processes.iter().map(|p| p.to_string()).collect(),
        }
    }

    fn enterprise(industry: &str, units: Vec<Unit>, accidents: Vec<Accident>) -> Enterprise {
        Enterprise {
            name: "示例".into(),
            credit_code: None,
            industry: Some(industry.into()),
            district_code: None,
            park_id: None,
            employees: None,
            standardization_level: None,
            accidents,
            units,
            installation: None,
            major_hazard_registration: None,
            inspection_findings: Vec::new(),
            extra: Default::default(),
        }
    }

    fn acc(date: &str, severity: AccidentSeverity, deaths: u32) -> Accident {
        Accident {
            date: date.into(),
            severity,
            deaths,
        }
    }

    fn ctx(people: u64) -> EnterpriseContext {
        EnterpriseContext {
            people_within_500m: people,
            targets_within_500m: vec![],
            in_chemical_park: true,
            today: "2024-06-30".into(),
            external_distance_ok: Some(true),
            dangers: vec![],
        }
    }

    /// An old accident (4 years ago): no deduction, and no 5-year bonus.
    fn old() -> Accident {
        acc("2020-06-01", AccidentSeverity::General, 0)
    }

    /// 甲醇 25000 t with ≥100 people: S = 50, R = 2·50 = 100 → 一级 (−10),
    /// and 甲醇 is neither explosive nor toxic.
    fn grade1_unit(processes: &[&str]) -> Unit {
        unit("T1", vec![sub("甲醇", 25000.0)], processes)
    }

    fn with_key_supervised_methanol() -> Rules {
        let (name, text) = BUILTIN_FILES_ENTERPRISE;
        let text = text.replace(
            "key_supervised_cas = []",
            "key_supervised_cas = [\"67-56-1\"]",
        );
        Rules::builtin()
            .with_overrides([(name, text.as_str())])
            .unwrap()
    }

    const BUILTIN_FILES_ENTERPRISE: (&str, &str) = super::super::BUILTIN_FILES[0];

    fn methanol_with_cas(mut u: Unit) -> Unit {
        for s in &mut u.substances {
            s.cas = Some("67-56-1".into());
        }
        u
    }

    fn finding(
        id: &str,
        item: DiagnosisItem,
        date: &str,
        result: FindingResult,
        deduction: Option<f64>,
    ) -> crate::model::InspectionFinding {
        crate::model::InspectionFinding {
            id: id.into(),
            item,
            date: date.into(),
            result,
            deduction,
            bonus: None,
            clause: None,
            inspector: Some("区应急管理局".into()),
            note: None,
            danger_id: None,
        }
    }

    fn danger(id: &str, item: &str, state: DangerState) -> DangerOnFile {
        DangerOnFile {
            id: id.into(),
            rule_item: Some(item.into()),
            found_date: "2024-03-01".into(),
            state,
        }
    }

    /// The factors of a heading, as `value` texts with their points.
    fn heading(a: &Assessment, name_prefix: &str) -> Vec<(String, Option<f64>, String)> {
        a.factors
            .iter()
            .filter(|f| f.name.starts_with(name_prefix))
            .map(|f| (f.value.to_string(), f.points, f.clause.to_string()))
            .collect()
    }

    fn not_assessed(a: &Assessment, name_prefix: &str) -> bool {
        a.incomplete.iter().any(|t| t.starts_with(name_prefix))
    }

    #[test]
    fn inspection_findings_answer_the_headings_registration_data_cannot() {
        // 90 without findings (一级 −10), every heading not assessed.
        let base = enterprise("化工", vec![grade1_unit(&[])], vec![old()]);
        let (a, _) = assess_enterprise(&base, &ctx(100), rules());
        assert_eq!(a.score, Some(90.0));
        assert!(not_assessed(&a, "管理制度") && not_assessed(&a, "人员资质"));

        let mut e = base.clone();
        let mut ok = finding(
            "INS-2",
            DiagnosisItem::Personnel,
            "2024-05-10",
            FindingResult::Compliant,
            None,
        );
        ok.bonus = Some(2.0);
        ok.clause = Some("诊断分级指南 6.人员资质 化学化工类专业负责人加2分".into());
        e.inspection_findings = vec![
            finding(
                "INS-1",
                DiagnosisItem::Management,
                "2024-05-10",
                FindingResult::Deficient,
                Some(5.0),
            ),
            ok,
        ];
        let (a, _) = assess_enterprise(&e, &ctx(100), rules());
        // 90 − 5 + 2.
        assert_eq!(a.score, Some(87.0), "{}", a.explanation());
        assert_eq!(a.risk_level, RiskLevel::Yellow);
        let m = heading(&a, "管理制度");
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(
            m[0].0.contains("INS-1") && m[0].0.contains("不符合"),
            "{m:?}"
        );
        assert_eq!(m[0].1, Some(-5.0));
        assert_eq!(m[0].2, "诊断分级指南 7.安全管理制度（10分）");
        let p = heading(&a, "人员资质");
        assert!(
            p.iter()
                .any(|(v, pts, c)| v.contains("INS-2") && *pts == Some(2.0) && c.contains("加2分")),
            "{p:?}"
        );
        assert!(!not_assessed(&a, "管理制度") && !not_assessed(&a, "人员资质"));
        assert!(not_assessed(&a, "设备"), "{}", a.explanation());
    }

    #[test]
    fn the_latest_finding_answers_and_future_ones_are_not_yet_known() {
        let mut e = enterprise("化工", vec![grade1_unit(&[])], vec![old()]);
        e.inspection_findings = vec![
            finding(
                "INS-new",
                DiagnosisItem::Equipment,
                "2024-06-01",
                FindingResult::Compliant,
                None,
            ),
            finding(
                "INS-old",
                DiagnosisItem::Equipment,
                "2023-06-01",
                FindingResult::Deficient,
                Some(5.0),
            ),
            // After the assessment date (2024-06-30): not yet known.
            finding(
                "INS-later",
                DiagnosisItem::Equipment,
                "2024-07-01",
                FindingResult::Deficient,
                Some(2.0),
            ),
        ];
        let (a, _) = assess_enterprise(&e, &ctx(100), rules());
        assert_eq!(a.score, Some(90.0), "{}", a.explanation());
        let f = heading(&a, "设备");
        assert_eq!(f.len(), 1);
        assert!(
            f[0].0.contains("INS-new") && f[0].0.contains("符合"),
            "{f:?}"
        );
        // A bonus where the heading has none is ignored and said so.
        e.inspection_findings[0].bonus = Some(3.0);
        let (a, _) = assess_enterprise(&e, &ctx(100), rules());
        assert_eq!(a.score, Some(90.0));
        assert!(
            a.incomplete
                .iter()
                .any(|t| t.contains("INS-new") && t.contains("ignored"))
        );
    }

    #[test]
    fn an_open_linked_major_danger_deducts_until_it_is_closed() {
        let e = enterprise("化工", vec![grade1_unit(&[])], vec![old()]);
        let mut c = ctx(100);
        c.dangers = vec![danger("hd-9", "HC121-17", DangerState::Open)];
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.score, Some(85.0), "{}", a.explanation());
        let m = heading(&a, "管理制度");
        assert_eq!(m.len(), 1);
        assert!(
            m[0].0.contains("hd-9") && m[0].0.contains("HC121-17"),
            "{m:?}"
        );
        assert!(m[0].2.contains("第十七条"), "{m:?}");
        assert!(
            a.conventions
                .iter()
                .any(|t| t.contains("UNCONFIRMED") && t.contains("HC121-17"))
        );

        // Closed (销号): the assessment is what it was before the danger.
        let (before, _) = assess_enterprise(&e, &ctx(100), rules());
        c.dangers[0].state = DangerState::Closed("2024-06-20".into());
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a, before);
        assert!(not_assessed(&a, "管理制度"));

        // A rejected danger answers nothing; an unlinked item neither.
        c.dangers = vec![
            danger("hd-9", "HC121-17", DangerState::Rejected),
            danger("hd-10", "HC121-03", DangerState::Open),
        ];
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.score, Some(90.0));
        assert!(not_assessed(&a, "管理制度"));

        // Three open 特殊作业 dangers (−10 each) stop at the allocation (10).
        c.dangers = (1..=3)
            .map(|i| danger(&format!("hd-{i}"), "HC121-18", DangerState::Open))
            .collect();
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.score, Some(80.0), "{}", a.explanation());
    }

    #[test]
    fn a_deficiency_registered_as_a_danger_counts_once_and_ends_at_closure() {
        let mut e = enterprise("化工", vec![grade1_unit(&[])], vec![old()]);
        let mut f = finding(
            "INS-7",
            DiagnosisItem::Management,
            "2024-03-01",
            FindingResult::Deficient,
            Some(10.0),
        );
        f.danger_id = Some("hd-7".into());
        e.inspection_findings = vec![f];
        let mut c = ctx(100);
        c.dangers = vec![danger("hd-7", "HC121-18", DangerState::Open)];
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.score, Some(80.0), "{}", a.explanation());
        assert_eq!(heading(&a, "管理制度").len(), 1);
        c.dangers[0].state = DangerState::Closed("2024-06-01".into());
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.score, Some(90.0), "{}", a.explanation());
        let m = heading(&a, "管理制度");
        assert!(
            m[0].0.contains("INS-7") && m[0].0.contains("hd-7") && m[0].0.contains("2024-06-01"),
            "{m:?}"
        );
    }

    #[test]
    fn direct_red_headings_answer_from_findings_and_linked_dangers() {
        let e = enterprise("化工", vec![grade1_unit(&[])], vec![old()]);
        let mut red = e.clone();
        red.inspection_findings = vec![finding(
            "INS-3",
            DiagnosisItem::RedSpecialWorkers,
            "2024-04-01",
            FindingResult::Deficient,
            None,
        )];
        let (a, _) = assess_enterprise(&red, &ctx(100), rules());
        assert_eq!(a.risk_level, RiskLevel::Red, "{}", a.explanation());
        assert_eq!(a.score, Some(90.0));
        let f = heading(&a, "直接判定为红色 3");
        assert!(
            f[0].0.contains("INS-3") && f[0].2.contains("第3项"),
            "{f:?}"
        );

        let mut c = ctx(100);
        c.dangers = vec![danger("hd-2", "HC121-10", DangerState::Open)];
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.risk_level, RiskLevel::Red);
        assert!(heading(&a, "直接判定为红色 2")[0].0.contains("hd-2"));
        c.dangers[0].state = DangerState::Closed("2024-05-01".into());
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.risk_level, RiskLevel::Blue, "{}", a.explanation());
    }

    #[test]
    fn every_finding_link_names_a_known_item() {
        let items = crate::dangers::DangerRules::builtin();
        for l in &rules().enterprise.finding_link {
            assert!(items.item(&l.item).is_some(), "{}", l.item);
        }
        assert!(rules().enterprise.finding_link.len() >= 10);
    }

    #[test]
    fn score_edges_at_90_75_60() {
        // 90: −10 (一级).
        let e = enterprise("化工", vec![grade1_unit(&[])], vec![old()]);
        let (a, h) = assess_enterprise(&e, &ctx(100), rules());
        assert_eq!(h[0].grade, Some(1));
        assert_eq!(a.score, Some(90.0), "{}", a.explanation());
        assert_eq!(a.risk_level, RiskLevel::Blue);
        assert_eq!(&*a.model.id, "enterprise-diagnosis-2018");
        // 89.9: the same, plus one other key-supervised chemical (−0.1).
        let r = with_key_supervised_methanol();
        let e2 = enterprise(
            "化工",
            vec![methanol_with_cas(grade1_unit(&[]))],
            vec![old()],
        );
        let (a, _) = assess_enterprise(&e2, &ctx(100), &r);
        assert_eq!(a.score, Some(89.9), "{}", a.explanation());
        assert_eq!(a.risk_level, RiskLevel::Yellow);

        // 75: −10 (一级) −10 (external distance) −10 (one 较大 accident) +5 (标准化二级).
        let mut c = ctx(100);
        c.external_distance_ok = Some(false);
        let larger = acc("2023-01-15", AccidentSeverity::Larger, 3);
        let mut e = enterprise("化工", vec![grade1_unit(&[])], vec![larger.clone()]);
        e.standardization_level = Some(2);
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.score, Some(75.0), "{}", a.explanation());
        assert_eq!(a.risk_level, RiskLevel::Yellow);
        let mut e2 = e.clone();
        e2.units = vec![methanol_with_cas(grade1_unit(&[]))];
        let (a, _) = assess_enterprise(&e2, &c, &r);
        assert_eq!(a.score, Some(74.9));
        assert_eq!(a.risk_level, RiskLevel::Orange);

        // 60: −10 −10 −10 (five processes) −10 (较大 accident).
        let five = ["加氢工艺", "氯化工艺", "硝化工艺", "氧化工艺", "聚合工艺"];
        let e = enterprise("化工", vec![grade1_unit(&five)], vec![larger]);
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.score, Some(60.0), "{}", a.explanation());
        assert_eq!(a.risk_level, RiskLevel::Orange);
        let mut e2 = e.clone();
        e2.units = vec![methanol_with_cas(grade1_unit(&five))];
        let (a, _) = assess_enterprise(&e2, &c, &r);
        assert_eq!(a.score, Some(59.9));
        assert_eq!(a.risk_level, RiskLevel::Red);
    }

    #[test]
    fn diagnosis_level_bands() {
        let cases = [
            (100.0, RiskLevel::Blue),
            (90.0, RiskLevel::Blue),
            (89.999, RiskLevel::Yellow),
            (75.0, RiskLevel::Yellow),
            (74.999, RiskLevel::Orange),
            (60.0, RiskLevel::Orange),
            (59.999, RiskLevel::Red),
            (0.0, RiskLevel::Red),
            (f64::NAN, RiskLevel::Red),
        ];
        for (s, l) in cases {
            assert_eq!(diagnosis_level(s, rules()), l, "score {s}");
        }
    }

    #[test]
    fn deductions_are_capped_per_item_and_explained() {
        // Six processes (−12 → −10), two toxic gases + an explosive (−6 → −5),
        // outside a park with the distance unknown (−3, incomplete).
        let six = [
            "加氢工艺",
            "氯化工艺",
            "硝化工艺",
            "氧化工艺",
            "聚合工艺",
            "磺化工艺",
        ];
        let u = unit(
            "P1",
            vec![sub("液氯", 1.0), sub("光气", 0.01), sub("TNT", 0.1)],
            &six,
        );
        let mut e = enterprise("化工", vec![u], vec![]);
        e.standardization_level = Some(1);
        let mut c = ctx(0);
        c.in_chemical_park = false;
        c.external_distance_ok = None;
        let (a, h) = assess_enterprise(&e, &c, rules());
        assert_eq!(h[0].grade, None);
        let pts = |prefix: &str| {
            a.factors
                .iter()
                .find(|f| f.name.starts_with(prefix))
                .and_then(|f| f.points)
        };
        assert_eq!(pts("危险化工工艺"), Some(-10.0));
        assert_eq!(pts("物质危险性"), Some(-5.0));
        assert_eq!(pts("周边环境"), Some(-3.0));
        assert_eq!(pts("重大危险源"), Some(-0.0));
        assert_eq!(pts("安全生产标准化"), Some(15.0));
        assert_eq!(pts("无事故"), Some(5.0));
        // 100 − 10 − 5 − 3 + 15 + 5 = 102 → 100.
        assert_eq!(a.score, Some(100.0));
        assert_eq!(a.risk_level, RiskLevel::Blue);
        let text = a.explanation();
        for item in [
            "设计与评估",
            "人员资质",
            "自控与安全设施",
            "外部安全防护距离",
            "火灾爆炸危险性",
            "直接判定为红色 1",
        ] {
            assert!(
                a.incomplete.iter().any(|i| i.contains(item)),
                "{item} missing:\n{text}"
            );
        }
        assert!(
            a.unconfirmed.iter().any(|u| u.contains("应急〔2018〕19号")),
            "{text}"
        );
        assert!(
            a.unconfirmed.iter().any(|u| u.contains("processes.list")),
            "{text}"
        );
        assert!(a.factors.iter().all(|f| !f.clause.is_empty()));
    }

    #[test]
    fn automatic_red_from_accident_history() {
        let base = || {
            let mut e = enterprise("化工", vec![], vec![]);
            e.standardization_level = Some(1);
            e
        };
        let c = ctx(0);
        // One 重大 accident within 3 years.
        let mut e = base();
        e.accidents = vec![acc("2022-01-01", AccidentSeverity::Major, 12)];
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_eq!(a.risk_level, RiskLevel::Red);
        assert!(a.score.unwrap() >= 90.0, "the score alone would be blue");
        assert!(
            a.factors
                .iter()
                .any(|f| f.name.starts_with("直接判定为红色"))
        );
        // Two 较大 within 3 years.
        e.accidents = vec![
            acc("2022-01-01", AccidentSeverity::Larger, 3),
            acc("2023-01-01", AccidentSeverity::Larger, 4),
        ];
        assert_eq!(
            assess_enterprise(&e, &c, rules()).0.risk_level,
            RiskLevel::Red
        );
        // One 较大: not automatic red.
        e.accidents.pop();
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_ne!(a.risk_level, RiskLevel::Red);
        // Two fatal 一般 within one year: red; 13 months apart: not.
        e.accidents = vec![
            acc("2023-08-01", AccidentSeverity::General, 1),
            acc("2024-06-01", AccidentSeverity::General, 2),
        ];
        assert_eq!(
            assess_enterprise(&e, &c, rules()).0.risk_level,
            RiskLevel::Red
        );
        e.accidents[0].date = "2023-05-01".into();
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert_ne!(a.risk_level, RiskLevel::Red);
        // −8 −8 capped at −10.
        let f = a
            .factors
            .iter()
            .find(|f| f.name.starts_with("事故"))
            .unwrap();
        assert_eq!(f.points, Some(-10.0));
        // A 一般 record with 3 deaths counts as 较大 (and says so).
        e.accidents = vec![acc("2024-01-01", AccidentSeverity::General, 3)];
        let (a, _) = assess_enterprise(&e, &c, rules());
        let f = a
            .factors
            .iter()
            .find(|f| f.name.starts_with("事故"))
            .unwrap();
        assert!(f.value.contains("较大 or worse 1"), "{}", f.value);
        assert!(
            a.unconfirmed
                .iter()
                .any(|u| u.contains("severity_by_deaths"))
        );
    }

    #[test]
    fn accident_windows_and_bad_dates() {
        let c = ctx(0);
        let mut e = enterprise("化工", vec![], vec![]);
        // Exactly 3 years before today is inside the window; a day earlier is not.
        e.accidents = vec![acc("2021-06-30", AccidentSeverity::General, 1)];
        let pts = |e: &Enterprise, c: &EnterpriseContext| {
            let (a, _) = assess_enterprise(e, c, rules());
            a.factors
                .iter()
                .find(|f| f.name.starts_with("事故"))
                .and_then(|f| f.points)
        };
        assert_eq!(pts(&e, &c), Some(-8.0));
        e.accidents[0].date = "2021-06-29".into();
        assert_eq!(pts(&e, &c), Some(-0.0));
        // A bad assessment date: accident items not assessed.
        let mut bad = c.clone();
        bad.today = "30/06/2024".into();
        let (a, _) = assess_enterprise(&e, &bad, rules());
        assert!(a.incomplete.iter().any(|i| i.contains("not YYYY-MM-DD")));
        // A bad accident date: ignored, and no no-accident bonus.
        e.accidents[0].date = "2021-02-30".into();
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert!(a.factors.iter().all(|f| !f.name.starts_with("无事故")));
        assert!(a.incomplete.iter().any(|i| i.contains("accidents[0] date")));
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.years_before(1)),
            Date::parse("2023-02-28")
        );
    }

    #[test]
    fn applicability() {
        let r = rules();
        assert!(diagnosis_applies(Some("化工"), r));
        assert!(diagnosis_applies(Some(" 医药 "), r));
        assert!(diagnosis_applies(Some("仓储物流"), r));
        assert!(!diagnosis_applies(Some("机械制造"), r));
        assert!(!diagnosis_applies(Some("粉尘涉爆"), r));
        assert!(!diagnosis_applies(None, r));
        let empty_logistics = enterprise("仓储物流", vec![], vec![]);
        assert!(!diagnosis_applies_to(&empty_logistics, r));
        let logistics = enterprise(
            "仓储物流",
            vec![unit("W1", vec![sub("甲苯", 300.0)], &[])],
            vec![],
        );
        assert!(diagnosis_applies_to(&logistics, r));
        let machining = enterprise(
            "机械制造",
            vec![unit("W1", vec![sub("乙炔", 2.0)], &[])],
            vec![],
        );
        assert!(!diagnosis_applies_to(&machining, r));
        let power = enterprise(
            "热电",
            vec![unit("A1", vec![sub("液氨", 60.0)], &[])],
            vec![],
        );
        assert!(diagnosis_applies_to(&power, r));
        let (a, _) = assess_enterprise(&power, &ctx(0), r);
        assert!(
            a.conventions.iter().any(|c| c.contains("热电")),
            "{:?}",
            a.conventions
        );
    }

    #[test]
    fn industries_outside_the_guide_use_lec_defaults() {
        let e = enterprise(
            "粉尘涉爆",
            vec![],
            vec![acc("2024-01-01", AccidentSeverity::General, 1)],
        );
        let (a, _) = assess_enterprise(&e, &ctx(0), rules());
        assert_eq!(&*a.model.id, "lec");
        assert_eq!(a.score, Some(270.0));
        assert_eq!(a.risk_level, RiskLevel::Orange);
        assert!(a.incomplete[0].contains("default"), "{:?}", a.incomplete);
        assert!(a.conventions.iter().any(|c| c.contains("does not fit")));
        let e = enterprise(
            "机械制造",
            vec![unit("G1", vec![sub("乙炔", 2.0)], &[])],
            vec![],
        );
        let (a, h) = assess_enterprise(&e, &ctx(0), rules());
        assert_eq!((&*a.model.id, a.risk_level), ("lec", RiskLevel::Yellow));
        assert_eq!(h[0].grade, Some(4));
        assert!(a.factors.iter().any(|f| f.value.contains("informational")));
        // The diagnosis model can still be forced.
        let (a, _) = assess_enterprise_diagnosis(&e, &ctx(0), rules());
        assert_eq!(&*a.model.id, "enterprise-diagnosis-2018");
    }

    #[test]
    fn unknown_processes_and_targets_are_reported() {
        let mut c = ctx(0);
        c.targets_within_500m = vec![
            TargetCategory::School,
            TargetCategory::School,
            TargetCategory::Residential,
        ];
        let e = enterprise(
            "化工",
            vec![unit("P1", vec![], &["蒸馏", "加氢工艺", "加氢工艺"])],
            vec![],
        );
        let (a, _) = assess_enterprise(&e, &c, rules());
        assert!(a.incomplete.iter().any(|i| i.contains("\"蒸馏\"")));
        let p = a
            .factors
            .iter()
            .find(|f| f.name.starts_with("危险化工工艺"))
            .unwrap();
        assert_eq!(p.points, Some(-2.0), "one distinct process");
        let t = a.factors.iter().find(|f| f.name.contains("500 m")).unwrap();
        assert!(
            t.value.starts_with("3 (residential 1, school 2)"),
            "{}",
            t.value
        );
    }

    const PALETTE: [(&str, &[&str]); 8] = [
        ("液氯", &[]),
        ("甲醇", &[]),
        ("液氨", &[]),
        ("氢气", &[]),
        ("光气", &[]),
        ("丙烯", &["W2"]),
        ("铝粉", &["W10", "W11"]),
        ("甲苯", &[]),
    ];
    const INDUSTRIES: [&str; 6] = ["化工", "医药", "仓储物流", "热电", "机械制造", "粉尘涉爆"];

    fn arb_enterprise() -> impl Strategy<Value = Enterprise> {
        let units = prop::collection::vec(
            prop::collection::vec((0usize..8, 0.0f64..3000.0), 0..4),
            1..4,
        );
        let accidents = prop::collection::vec((0u32..6, 0u32..4, 1u32..13), 0..3);
        (
            units,
            0usize..6,
            prop::option::of(1u8..4),
            accidents,
            0usize..4,
        )
            .prop_map(|(units, ind, std, accidents, nproc)| {
                let procs = ["加氢工艺", "氯化工艺", "硝化工艺", "氧化工艺"];
                let units = units
                    .into_iter()
                    .enumerate()
                    .map(|(i, subs)| {
                        let subs = subs
                            .into_iter()
                            .map(|(k, q)| {
                                let (name, cats) = PALETTE[k];
                                Substance {
                                    hazard_categories: cats.iter().map(|c| c.to_string()).collect(),
                                    ..sub(name, q)
                                }
                            })
                            .collect();
                        unit(&format!("U{i}"), subs, &procs[..nproc])
                    })
                    .collect();
                let accidents = accidents
                    .into_iter()
                    .map(|(years_ago, deaths, month)| {
                        acc(
                            &format!("{}-{month:02}-15", 2023 - years_ago),
                            AccidentSeverity::General,
                            deaths,
                        )
                    })
                    .collect();
                let mut e = enterprise(INDUSTRIES[ind], units, accidents);
                e.standardization_level = std;
                e
            })
    }

    proptest! {
        /// Scaling any quantity up never lowers the enterprise level.
        #[test]
        fn more_inventory_never_lowers_the_level(
            e in arb_enterprise(),
            pick in (0usize..4, 0usize..4),
            factor in 1.0f64..100.0,
            people in 0u64..200,
            in_park: bool,
        ) {
            let mut c = ctx(people);
            c.in_chemical_park = in_park;
            let (before, _) = assess_enterprise(&e, &c, rules());
            let mut more = e.clone();
            let u = pick.0 % more.units.len();
            if !more.units[u].substances.is_empty() {
                let s = pick.1 % more.units[u].substances.len();
                more.units[u].substances[s].quantity_t *= factor;
            }
            let (after, _) = assess_enterprise(&more, &c, rules());
            prop_assert!(after.risk_level >= before.risk_level,
                "{:?} → {:?}", before.risk_level, after.risk_level);
        }

        /// More people within 500 m never lowers the enterprise level.
        #[test]
        fn more_people_never_lowers_the_level(
            e in arb_enterprise(),
            people in 0u64..200,
            extra in 0u64..200,
        ) {
            let (before, _) = assess_enterprise(&e, &ctx(people), rules());
            let (after, _) = assess_enterprise(&e, &ctx(people + extra), rules());
            prop_assert!(after.risk_level >= before.risk_level);
        }
    }
}

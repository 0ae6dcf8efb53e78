//! 事故隐患排查治理: the hidden-danger register's rules — the lifecycle, the
//! 重大事故隐患判定标准 items and the rules by which open dangers move an
//! enterprise's level — all read from `data/rules/hidden-dangers.toml`.
//!
//! A danger moves only by a [`Transition`] of the lifecycle: from one state,
//! by a named action, to the next, perhaps only for one level (挂牌督办 is
//! for 重大 dangers) and perhaps needing a field (the listing level). Each
//! move is kept as a [`DangerEvent`] (who, when, note, evidence): the history
//! is appended to, never rewritten (全过程记录). "Overdue" (超期) is not a
//! state but derived from the deadline and the date.

use serde::{Deserialize, Serialize};

use crate::scoring::{Factor, RiskLevel};

/// 隐患等级: 一般 or 重大 (安全生产事故隐患排查治理暂行规定 Art. 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DangerLevel {
    /// 一般事故隐患: low harm, can be fixed at once.
    General,
    /// 重大事故隐患: harmful and hard to fix, or not fixable by the unit alone.
    Major,
}

impl DangerLevel {
    /// `general` or `major`.
    pub fn as_str(self) -> &'static str {
        match self {
            DangerLevel::General => "general",
            DangerLevel::Major => "major",
        }
    }

    /// 一般 or 重大.
    pub fn zh(self) -> &'static str {
        match self {
            DangerLevel::General => "一般",
            DangerLevel::Major => "重大",
        }
    }
}

/// 隐患来源: who found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DangerSource {
    /// 企业自查.
    SelfCheck,
    /// 监管检查 (regulator inspection, incl. 四不两直).
    Inspection,
    /// 举报 (a public report).
    PublicReport,
    /// 网格员 patrol.
    GridWorker,
}

impl DangerSource {
    /// Every source, in order.
    pub const ALL: [DangerSource; 4] = [
        DangerSource::SelfCheck,
        DangerSource::Inspection,
        DangerSource::PublicReport,
        DangerSource::GridWorker,
    ];

    /// The id used in data and URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            DangerSource::SelfCheck => "self_check",
            DangerSource::Inspection => "inspection",
            DangerSource::PublicReport => "public_report",
            DangerSource::GridWorker => "grid_worker",
        }
    }
}

/// 挂牌督办 level: the government level that lists a 重大 danger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListingLevel {
    /// 县级.
    County,
    /// 市级.
    City,
    /// 省级.
    Province,
}

/// One step of a danger's history (全过程记录): never changed once written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DangerEvent {
    /// The action (`report` for the first event, else a transition's action).
    pub action: String,
    /// The state before (`None` for the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The state after.
    pub to: String,
    /// Who did it (the account or token name).
    pub actor: String,
    /// When, RFC 3339 UTC.
    pub at: String,
    /// The note (意见/说明).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The evidence as text (整改照片、验收报告 references…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The listing level, for 挂牌督办.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_level: Option<ListingLevel>,
}

/// A hidden danger (事故隐患), the record of the `hidden_dangers` collection.
/// Its feature geometry is where it is (the enterprise's site by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenDanger {
    /// The enterprise it belongs to (所属企业), by feature id; none for a
    /// danger in a public place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    /// 6-digit administrative division code (行政区划代码), the enterprise's
    /// when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_code: Option<String>,
    /// Industry (行业), the enterprise's when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    /// Who found it (隐患来源).
    pub source: DangerSource,
    /// 一般 or 重大 (隐患等级).
    pub level: DangerLevel,
    /// The 重大事故隐患判定标准 item a 重大 danger meets, e.g. `HC121-03`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_item: Option<String>,
    /// What was found (隐患描述).
    pub description: String,
    /// When it was found (发现日期), `YYYY-MM-DD`.
    pub found_date: String,
    /// Rectification deadline (整改期限), `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// Person responsible for the rectification (整改责任人).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible_person: Option<String>,
    /// Rectification measures (整改措施).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measures: Option<String>,
    /// Rectification funds in yuan (整改资金, 元).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funds_cny: Option<f64>,
    /// The lifecycle state (状态), one of the states of the rules file.
    pub status: String,
    /// The 挂牌督办 level, once listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listing_level: Option<ListingLevel>,
    /// Every step so far, oldest first (全过程记录).
    #[serde(default)]
    pub history: Vec<DangerEvent>,
    /// Properties outside the schema, kept as given.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// One state of the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct State {
    /// Id, e.g. `rectifying`.
    pub id: String,
    /// Chinese name.
    pub zh: String,
    /// English name.
    pub en: String,
    /// Whether a danger in this state is still open (counts as not rectified).
    pub open: bool,
}

/// One allowed move of the lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// The action's name, e.g. `close`.
    pub action: String,
    /// Chinese name of the action.
    pub zh: String,
    /// From this state.
    pub from: String,
    /// To this state.
    pub to: String,
    /// Only for dangers of these levels (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<DangerLevel>,
    /// Fields the move needs (`listing_level`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<String>,
    /// The roles that may take it (admins may take every move).
    #[serde(default)]
    pub roles: Vec<crate::access::Role>,
}

/// A 重大事故隐患判定标准 item.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Id, e.g. `HC121-03`.
    pub id: String,
    /// The clause, e.g. `安监总管三〔2017〕121号 第三条`.
    pub clause: String,
    /// The item's text (paraphrase).
    pub zh: String,
    /// `C`, `C-2`, `M`: anything but `C` is reported as unconfirmed.
    pub confidence: String,
}

/// How open dangers move an enterprise's level.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelRule {
    /// Id, e.g. `open-major-red`.
    pub id: String,
    /// The condition: `open_major` (an open 重大 danger of the enterprise).
    pub when: String,
    /// The lowest level the enterprise may then have.
    pub min_level: RiskLevel,
    /// The rule in Chinese.
    pub zh: String,
    /// Its basis.
    pub clause: String,
    /// Confidence (`project` for a project rule).
    pub confidence: String,
}

/// Where the rules come from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct About {
    /// The documents.
    pub source: String,
    /// The sections of the domain reference and their source keys.
    pub source_keys: String,
}

/// The rules of `hidden-dangers.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DangerRules {
    /// Sources.
    pub about: About,
    /// The states, in lifecycle order.
    pub state: Vec<State>,
    /// The allowed moves.
    pub transition: Vec<Transition>,
    /// The 判定标准 items.
    pub item: Vec<Item>,
    /// The level rules.
    pub level_rule: Vec<LevelRule>,
}

/// Why a move is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransitionError {
    /// The action is not allowed from the current state (for this level).
    #[error(
        "cannot {action} a {level} danger that is {current}: allowed from {current} are {}",
        if allowed.is_empty() { "none (a final state)".to_string() } else { allowed.join(", ") }
    )]
    NotAllowed {
        /// The action asked for.
        action: String,
        /// The current state.
        current: String,
        /// The danger's level.
        level: &'static str,
        /// The actions allowed now, as `action → state`.
        allowed: Vec<String>,
    },
    /// The move needs a field.
    #[error("{action} needs {field}")]
    Missing {
        /// The action asked for.
        action: String,
        /// The missing field.
        field: String,
    },
}

/// The state every new danger starts in.
pub const FIRST_STATE: &str = "reported";

impl DangerRules {
    /// `hidden-dangers.toml` in force (embedded, or `--rules`; see
    /// [`crate::rule_set`]).
    pub fn builtin() -> &'static DangerRules {
        static RULES: std::sync::OnceLock<DangerRules> = std::sync::OnceLock::new();
        RULES.get_or_init(|| {
            DangerRules::from_toml(crate::rule_set::text("hidden-dangers.toml"))
                .unwrap_or_else(|e| panic!("hidden-dangers.toml: {e}"))
        })
    }

    /// Parses and checks a rules text: transitions between known states,
    /// a first state, unique item ids, known level-rule conditions.
    pub fn from_toml(text: &str) -> Result<DangerRules, String> {
        let r: DangerRules = crate::rule_set::from_toml(text)?;
        let known = |s: &str| r.state.iter().any(|st| st.id == s);
        if !known(FIRST_STATE) {
            return Err(format!("no state {FIRST_STATE:?}"));
        }
        for t in &r.transition {
            for s in [&t.from, &t.to] {
                if !known(s) {
                    return Err(format!("transition {}: unknown state {s:?}", t.action));
                }
            }
            if let Some(f) = t.requires.iter().find(|f| *f != "listing_level") {
                return Err(format!(
                    "transition {}: unknown requirement {f:?}",
                    t.action
                ));
            }
        }
        let mut ids: Vec<&str> = r.item.iter().map(|i| i.id.as_str()).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1]) {
            return Err("an item id is given twice".into());
        }
        if let Some(l) = r.level_rule.iter().find(|l| l.when != "open_major") {
            return Err(format!(
                "level rule {}: unknown condition {:?}",
                l.id, l.when
            ));
        }
        Ok(r)
    }

    /// A state by id.
    pub fn state(&self, id: &str) -> Option<&State> {
        self.state.iter().find(|s| s.id == id)
    }

    /// Whether a danger in `status` is open (not closed, not rejected).
    pub fn is_open(&self, status: &str) -> bool {
        self.state(status).is_none_or(|s| s.open)
    }

    /// A 判定标准 item by id.
    pub fn item(&self, id: &str) -> Option<&Item> {
        self.item.iter().find(|i| i.id == id)
    }

    /// The moves allowed now for a danger of `level` in `status`.
    pub fn allowed(&self, status: &str, level: DangerLevel) -> Vec<&Transition> {
        self.transition
            .iter()
            .filter(|t| t.from == status && (t.levels.is_empty() || t.levels.contains(&level)))
            .collect()
    }

    /// The move `action` from `status` for a danger of `level`, with its
    /// requirements met (`listing_level` given when needed).
    pub fn transition(
        &self,
        status: &str,
        level: DangerLevel,
        action: &str,
        listing_level: Option<ListingLevel>,
    ) -> Result<&Transition, TransitionError> {
        let allowed = self.allowed(status, level);
        let Some(t) = allowed.iter().find(|t| t.action == action) else {
            return Err(TransitionError::NotAllowed {
                action: action.to_string(),
                current: status.to_string(),
                level: level.as_str(),
                allowed: allowed
                    .iter()
                    .map(|t| format!("{} → {}", t.action, t.to))
                    .collect(),
            });
        };
        if t.requires.iter().any(|f| f == "listing_level") && listing_level.is_none() {
            return Err(TransitionError::Missing {
                action: action.to_string(),
                field: "listing_level (county, city or province)".into(),
            });
        }
        Ok(t)
    }

    /// The factor an enterprise's explanation shows for its open 重大
    /// dangers under a level rule, and the level it sets at least.
    pub fn level_factor(
        &self,
        open_major: &[(String, Option<String>)],
    ) -> Option<(RiskLevel, Factor, bool)> {
        if open_major.is_empty() {
            return None;
        }
        let rule = self.level_rule.iter().find(|l| l.when == "open_major")?;
        let listed: Vec<String> = open_major
            .iter()
            .map(
                |(id, item)| match item.as_deref().and_then(|i| self.item(i)) {
                    Some(it) => format!("{id} ({}: {})", it.id, it.clause),
                    None => format!("{id} (no 判定标准 item)"),
                },
            )
            .collect();
        let factor = Factor::new(
            format!("重大事故隐患 open major hidden danger ({})", rule.id),
            format!("{}: {}", rule.zh, listed.join("; ")),
            None,
            rule.clause.clone(),
        );
        Some((rule.min_level, factor, rule.confidence != "C"))
    }
}

/// Whether a danger is overdue (超期) on `today` (`YYYY-MM-DD`): open, with a
/// rectification deadline before today.
pub fn is_overdue(rules: &DangerRules, status: &str, deadline: Option<&str>, today: &str) -> bool {
    rules.is_open(status) && deadline.is_some_and(|d| !d.is_empty() && d < today)
}

/// How hidden-danger statistics are grouped (分区域、分行业…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DangerGroup {
    /// By 6-digit district code.
    District,
    /// By industry.
    Industry,
    /// 一般 / 重大.
    Level,
    /// By lifecycle state.
    Status,
    /// By source.
    Source,
    /// By the month found (`YYYY-MM`).
    Month,
}

impl DangerGroup {
    /// Every grouping with its name in URLs.
    pub const ALL: [(&'static str, DangerGroup); 6] = [
        ("district", DangerGroup::District),
        ("industry", DangerGroup::Industry),
        ("level", DangerGroup::Level),
        ("status", DangerGroup::Status),
        ("source", DangerGroup::Source),
        ("month", DangerGroup::Month),
    ];
}

/// Which dangers the statistics count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DangerFilter {
    /// Found on or after this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Found on or before this date.
    pub to: Option<String>,
    /// Only this level.
    pub level: Option<DangerLevel>,
    /// Only this state.
    pub status: Option<String>,
}

impl DangerFilter {
    /// Whether a danger is counted.
    pub fn admits(&self, h: &HiddenDanger) -> bool {
        self.from
            .as_deref()
            .is_none_or(|f| h.found_date.as_str() >= f)
            && self
                .to
                .as_deref()
                .is_none_or(|t| h.found_date.as_str() <= t)
            && self.level.is_none_or(|l| l == h.level)
            && self.status.as_deref().is_none_or(|s| s == h.status)
    }
}

/// The statistics of one group.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DangerStats {
    /// The group's key (district code, industry, level…; `(none)` when absent).
    pub key: String,
    /// Dangers found (rejected ones included).
    pub count: u64,
    /// Of which 重大.
    pub major: u64,
    /// Still open (not closed, not rejected).
    pub open: u64,
    /// Open and past their deadline (超期).
    pub overdue: u64,
    /// Closed (销号).
    pub closed: u64,
    /// Rejected (不予认定).
    pub rejected: u64,
    /// 整改率: closed ÷ (found − rejected), for this cohort; `None` when
    /// nothing counts.
    pub rectification_rate: Option<f64>,
    /// Median days from found to closed, over the closed ones.
    pub median_days_to_close: Option<f64>,
}

/// Days between two dates `YYYY-MM-DD…` (the first 10 characters), by the
/// proleptic Gregorian calendar.
fn days_between(a: &str, b: &str) -> Option<i64> {
    fn day_number(d: &str) -> Option<i64> {
        let y: i64 = d.get(0..4)?.parse().ok()?;
        let m: i64 = d.get(5..7)?.parse().ok()?;
        let day: i64 = d.get(8..10)?.parse().ok()?;
        // Howard Hinnant's days_from_civil.
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(era * 146_097 + doe - 719_468)
    }
    Some(day_number(b)? - day_number(a)?)
}

/// Statistics of `dangers` grouped by `group`, with the totals last (key
/// `total`). Groups are ordered by key.
pub fn danger_stats<'a>(
    dangers: impl IntoIterator<Item = &'a HiddenDanger>,
    group: DangerGroup,
    filter: &DangerFilter,
    today: &str,
    rules: &DangerRules,
) -> Vec<DangerStats> {
    let mut groups: std::collections::BTreeMap<String, (DangerStats, Vec<i64>)> =
        std::collections::BTreeMap::new();
    let mut total = (
        DangerStats {
            key: "total".into(),
            ..DangerStats::default()
        },
        Vec::new(),
    );
    for h in dangers.into_iter().filter(|h| filter.admits(h)) {
        let key = match group {
            DangerGroup::District => h.district_code.clone(),
            DangerGroup::Industry => h.industry.clone(),
            DangerGroup::Level => Some(h.level.as_str().to_string()),
            DangerGroup::Status => Some(h.status.clone()),
            DangerGroup::Source => Some(h.source.as_str().to_string()),
            DangerGroup::Month => h.found_date.get(0..7).map(str::to_string),
        }
        .unwrap_or_else(|| "(none)".to_string());
        let closed_days = (h.status == "closed")
            .then(|| {
                h.history
                    .iter()
                    .rev()
                    .find(|e| e.to == "closed")
                    .and_then(|e| days_between(&h.found_date, &e.at))
            })
            .flatten();
        let entry = groups.entry(key.clone()).or_insert_with(|| {
            (
                DangerStats {
                    key,
                    ..DangerStats::default()
                },
                Vec::new(),
            )
        });
        for (s, days) in [(&mut entry.0, &mut entry.1), (&mut total.0, &mut total.1)] {
            s.count += 1;
            s.major += u64::from(h.level == DangerLevel::Major);
            let open = rules.is_open(&h.status);
            s.open += u64::from(open);
            s.overdue += u64::from(is_overdue(rules, &h.status, h.deadline.as_deref(), today));
            s.closed += u64::from(h.status == "closed");
            s.rejected += u64::from(h.status == "rejected");
            days.extend(closed_days);
        }
    }
    let finish = |(mut s, mut days): (DangerStats, Vec<i64>)| {
        let base = s.count - s.rejected;
        s.rectification_rate = (base > 0).then(|| s.closed as f64 / base as f64);
        days.sort_unstable();
        s.median_days_to_close = match days.len() {
            0 => None,
            n if n % 2 == 1 => Some(days[n / 2] as f64),
            n => Some((days[n / 2 - 1] + days[n / 2]) as f64 / 2.0),
        };
        s
    };
    let mut out: Vec<DangerStats> = groups.into_values().map(finish).collect();
    out.push(finish(total));
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const STATES: [&str; 7] = [
        "reported",
        "verified",
        "supervised",
        "rectifying",
        "rectified",
        "closed",
        "rejected",
    ];
    const ACTIONS: [&str; 8] = [
        "verify",
        "reject",
        "supervise",
        "start_rectification",
        "request_closure",
        "close",
        "reopen",
        "report",
    ];

    /// The lifecycle written out by hand, independently of the data file:
    /// (level, from, action) → to.
    fn expected(level: DangerLevel, from: &str, action: &str) -> Option<&'static str> {
        use DangerLevel::*;
        match (level, from, action) {
            (_, "reported", "verify") => Some("verified"),
            (_, "reported", "reject") => Some("rejected"),
            (Major, "verified", "supervise") => Some("supervised"),
            (General, "verified", "start_rectification") => Some("rectifying"),
            (_, "supervised", "start_rectification") => Some("rectifying"),
            (_, "rectifying", "request_closure") => Some("rectified"),
            (_, "rectified", "close") => Some("closed"),
            (_, "rectified", "reopen") => Some("rectifying"),
            _ => None,
        }
    }

    #[test]
    fn every_allowed_move_is_taken_and_every_other_refused() {
        let r = DangerRules::builtin();
        let mut allowed = 0;
        let mut refused = 0;
        for level in [DangerLevel::General, DangerLevel::Major] {
            for from in STATES {
                for action in ACTIONS {
                    let got = r.transition(from, level, action, Some(ListingLevel::City));
                    match expected(level, from, action) {
                        Some(to) => {
                            assert_eq!(got.unwrap().to, to, "{level:?} {from} {action}");
                            allowed += 1;
                        }
                        None => {
                            let e = got.unwrap_err();
                            let TransitionError::NotAllowed { current, .. } = &e else {
                                panic!("{e}")
                            };
                            assert_eq!(current, from);
                            assert!(e.to_string().contains(from), "{e}");
                            refused += 1;
                        }
                    }
                }
            }
        }
        assert_eq!(allowed, 14);
        assert_eq!(refused, 2 * 7 * 8 - 14);
    }

    #[test]
    fn a_refusal_names_the_state_and_the_allowed_moves() {
        let r = DangerRules::builtin();
        let e = r
            .transition("verified", DangerLevel::Major, "start_rectification", None)
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("verified") && text.contains("supervise → supervised"),
            "{text}"
        );
        let e = r
            .transition("closed", DangerLevel::General, "reopen", None)
            .unwrap_err();
        assert!(e.to_string().contains("none (a final state)"), "{e}");
        let e = r
            .transition("verified", DangerLevel::Major, "supervise", None)
            .unwrap_err();
        assert!(matches!(e, TransitionError::Missing { .. }), "{e}");
    }

    #[test]
    fn the_file_has_the_twenty_items_and_a_level_rule() {
        let r = DangerRules::builtin();
        assert_eq!(r.item.len(), 20);
        assert!(r.item("HC121-03").unwrap().zh.contains("外部安全防护距离"));
        assert!(!r.is_open("closed") && !r.is_open("rejected") && r.is_open("rectified"));
        let (level, f, unconfirmed) = r
            .level_factor(&[("HD-1".into(), Some("HC121-03".into()))])
            .unwrap();
        assert_eq!(level, RiskLevel::Red);
        assert!(f.value.as_ref().contains("HD-1") && f.value.as_ref().contains("第三条"));
        assert!(unconfirmed);
        assert!(r.level_factor(&[]).is_none());
        assert!(DangerRules::from_toml("about = 1").is_err());
    }

    #[test]
    fn days_between_dates_and_timestamps() {
        assert_eq!(days_between("2026-01-01", "2026-01-31T10:00:00Z"), Some(30));
        assert_eq!(days_between("2024-02-28", "2024-03-01"), Some(2));
        assert_eq!(days_between("2025-12-31", "2026-01-01"), Some(1));
        assert_eq!(days_between("bad", "2026-01-01"), None);
    }

    #[test]
    fn overdue_is_open_and_past_the_deadline() {
        let r = DangerRules::builtin();
        assert!(is_overdue(
            r,
            "rectifying",
            Some("2026-01-01"),
            "2026-01-02"
        ));
        assert!(!is_overdue(
            r,
            "rectifying",
            Some("2026-01-02"),
            "2026-01-02"
        ));
        assert!(!is_overdue(r, "closed", Some("2026-01-01"), "2026-01-02"));
        assert!(!is_overdue(r, "reported", None, "2026-01-02"));
    }
}

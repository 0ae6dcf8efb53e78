//! GB 18218-2018 identification and grading of one 生产单元/储存单元.
//!
//! S = Σ qᵢ/Qᵢ (a 重大危险源 when S ≥ 1, GB 18218-2018 4.2) and
//! R = α · Σ βᵢ·qᵢ/Qᵢ (4.3), graded by Table 6.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

use crate::model::{Substance, Unit};
use crate::standards::gb18218::{Gb18218, HazardCategory, Table1Entry};

/// GB 18218-2018 identification of one 生产单元/储存单元.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitHazard {
    /// Unit id.
    pub unit: String,
    /// S = Σ q/Q.
    pub s: f64,
    /// R = α · Σ β·q/Q.
    pub r: f64,
    /// α (Table 5) from the people within 500 m.
    pub alpha: f64,
    /// 1 (一级) to 4 (四级); `None` when S < 1 (not a major hazard installation).
    pub grade: Option<u8>,
    /// One entry per substance that could be identified.
    pub contributions: Vec<SubstanceContribution>,
    /// Substances that could not be identified (neither in Table 1 nor given a
    /// known Table 2 category), and other caveats. They add nothing to S or R.
    pub notes: Vec<String>,
}

impl UnitHazard {
    /// Whether the unit is a 重大危险源 (S ≥ 1).
    pub fn is_major_hazard(&self) -> bool {
        self.grade.is_some()
    }
}

/// One substance's share of S and R.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubstanceContribution {
    /// Name as given (or the CAS, or the Table 1 name).
    pub substance: String,
    /// Quantity q, t.
    pub q_t: f64,
    /// Critical quantity Q, t.
    pub critical_t: f64,
    /// Correction factor β.
    pub beta: f64,
    /// How Q was found: `cas`, `name` (Table 1) or `category W5.3` (Table 2).
    pub matched_by: String,
    /// Where Q and β come from, e.g. `GB 18218-2018 表1 #12; β 表3`.
    pub clause: String,
    /// Table 1 row number, when named there.
    pub table1_no: Option<u16>,
    /// CAS as given.
    pub cas: Option<String>,
    /// Hazard categories as given, plus the Table 1 default category.
    pub categories: Vec<String>,
    /// Table 1 flags an explosive (project judgement of the Table 1 data).
    pub is_explosive: bool,
    /// Table 1 flags a toxic gas (project judgement of the Table 1 data).
    pub is_toxic_gas: bool,
}

impl SubstanceContribution {
    /// q/Q.
    pub fn ratio(&self) -> f64 {
        self.q_t / self.critical_t
    }
}

/// Identifies and grades one unit (GB 18218-2018 4.2/4.3).
///
/// - Q: Table 1 when the substance is named there (by CAS, then name: see
///   [`Gb18218::find_substance`]); otherwise the **lowest** Q among its
///   Table 2 categories.
/// - β: Table 3 for its named toxic gases; otherwise the **largest** Table 4 β
///   among the substance's categories (those given, else the Table 1 entry's
///   default category); 1 when none applies (三氧化硫), with a note.
/// - α: Table 5 for `people_within_500m`.
///
/// A negative or NaN quantity counts as 0 (import rejects them). A substance
/// that cannot be identified adds nothing and is reported in
/// [`UnitHazard::notes`].
pub fn identify_unit(unit: &Unit, people_within_500m: u64, t: &Gb18218) -> UnitHazard {
    let alpha = t.alpha(people_within_500m);
    let mut contributions = Vec::new();
    let mut notes = Vec::new();
    for (i, sub) in unit.substances.iter().enumerate() {
        match contribution(sub, t, &mut notes) {
            Some(c) => contributions.push(c),
            None => notes.push(format!(
                "substances[{i}] {}: not in GB 18218-2018 表1 and no known 表2 hazard category; not counted",
                label(sub)
            )),
        }
    }
    let s: f64 = contributions.iter().map(SubstanceContribution::ratio).sum();
    let weighted: f64 = contributions.iter().map(|c| c.beta * c.ratio()).sum();
    let r = alpha * weighted;
    let grade = (s >= 1.0).then(|| t.grade(r));
    UnitHazard {
        unit: unit.id.clone(),
        s,
        r,
        alpha,
        grade,
        contributions,
        notes,
    }
}

/// Most lookups a thread remembers before it starts over.
const MEMO_MAX: usize = 4096;

type SubstanceKey = (Option<String>, Option<String>);

thread_local! {
    /// Table 1 positions by (name, CAS) as given, for the built-in catalogue.
    static FOUND: RefCell<HashMap<SubstanceKey, Option<usize>>> = RefCell::new(HashMap::new());
}

/// Table 3 β of each built-in Table 1 entry, by position.
static TABLE3_BETA: LazyLock<Vec<Option<f64>>> = LazyLock::new(|| {
    let t = Gb18218::builtin();
    t.entries().iter().map(|e| t.table3_beta(e)).collect()
});

/// [`Gb18218::find_substance`], remembered per thread for the built-in
/// catalogue (each call normalises every entry's CAS numbers and names, and
/// the same few substances come back for every enterprise). Same result.
pub(crate) fn find_substance<'t>(
    t: &'t Gb18218,
    name: Option<&str>,
    cas: Option<&str>,
) -> Option<&'t Table1Entry> {
    if !std::ptr::eq(t, Gb18218::builtin()) {
        return t.find_substance(name, cas);
    }
    let key: SubstanceKey = (name.map(str::to_string), cas.map(str::to_string));
    let known = FOUND.with(|m| m.borrow().get(&key).copied());
    let pos = match known {
        Some(pos) => pos,
        None => {
            let pos = t.find_substance(name, cas).and_then(|e| position(t, e));
            FOUND.with(|m| {
                let mut m = m.borrow_mut();
                if m.len() >= MEMO_MAX {
                    m.clear();
                }
                m.insert(key, pos);
            });
            pos
        }
    };
    pos.and_then(|i| t.entries().get(i))
}

/// [`Gb18218::table3_beta`], precomputed for the built-in catalogue.
fn table3_beta(t: &Gb18218, e: &Table1Entry) -> Option<f64> {
    if std::ptr::eq(t, Gb18218::builtin())
        && let Some(i) = position(t, e)
    {
        return TABLE3_BETA.get(i).copied().flatten();
    }
    t.table3_beta(e)
}

/// Position of an entry of `t` in its Table 1.
fn position(t: &Gb18218, e: &Table1Entry) -> Option<usize> {
    t.entries().iter().position(|x| std::ptr::eq(x, e))
}

fn label(sub: &Substance) -> String {
    sub.name
        .clone()
        .or_else(|| sub.cas.clone())
        .unwrap_or_else(|| "(unnamed)".to_string())
}

fn cas_digits(cas: &str) -> String {
    cas.chars().filter(char::is_ascii_digit).collect()
}

fn contribution(
    sub: &Substance,
    t: &Gb18218,
    notes: &mut Vec<String>,
) -> Option<SubstanceContribution> {
    let q = if sub.quantity_t.is_nan() || sub.quantity_t < 0.0 {
        notes.push(format!(
            "{}: quantity {} is not a non-negative number; counted as 0 t",
            label(sub),
            sub.quantity_t
        ));
        0.0
    } else {
        sub.quantity_t
    };
    let given: Vec<&HazardCategory> = sub
        .hazard_categories
        .iter()
        .filter_map(|c| {
            let found = t.category(c);
            if found.is_none() {
                notes.push(format!(
                    "{}: hazard category {c:?} is not in GB 18218-2018 表2; ignored",
                    label(sub)
                ));
            }
            found
        })
        .collect();
    let entry = find_substance(t, sub.name.as_deref(), sub.cas.as_deref());
    match entry {
        Some(e) => Some(from_table1(sub, q, e, &given, t, notes)),
        None => from_categories(sub, q, &given),
    }
}

fn from_table1(
    sub: &Substance,
    q: f64,
    e: &Table1Entry,
    given: &[&HazardCategory],
    t: &Gb18218,
    notes: &mut Vec<String>,
) -> SubstanceContribution {
    let by_cas = sub
        .cas
        .as_deref()
        .map(cas_digits)
        .is_some_and(|key| !key.is_empty() && e.cas.iter().any(|c| cas_digits(c) == key));
    let default_cat = e.default_category.as_deref().and_then(|s| t.category(s));
    let (beta, beta_clause) = if let Some(b) = table3_beta(t, e) {
        (b, "β 表3".to_string())
    } else if let Some(c) = max_beta(given) {
        (c.beta, format!("β 表4 {}", c.symbol))
    } else if let Some(c) = default_cat {
        (c.beta, format!("β 表4 {}", c.symbol))
    } else {
        notes.push(format!(
            "{}: no 表3 entry and no 表4 category; β = 1 assumed",
            e.name_zh
        ));
        (1.0, "β = 1 (no 表3/表4 category)".to_string())
    };
    let mut categories: Vec<String> = given.iter().map(|c| c.symbol.clone()).collect();
    if let Some(c) = default_cat.filter(|c| !categories.contains(&c.symbol)) {
        categories.push(c.symbol.clone());
    }
    SubstanceContribution {
        substance: sub.name.clone().unwrap_or_else(|| e.name_zh.clone()),
        q_t: q,
        critical_t: e.critical_quantity_t,
        beta,
        matched_by: if by_cas { "cas" } else { "name" }.to_string(),
        clause: format!("GB 18218-2018 表1 #{}; {beta_clause}", e.no),
        table1_no: Some(e.no),
        cas: sub.cas.clone(),
        categories,
        is_explosive: e.is_explosive,
        is_toxic_gas: e.is_toxic_gas,
    }
}

/// A substance not named in Table 1: Q is the lowest among its categories
/// (standards.md §1.1), β the largest.
fn from_categories(
    sub: &Substance,
    q: f64,
    given: &[&HazardCategory],
) -> Option<SubstanceContribution> {
    let governing = given.iter().copied().min_by(|a, b| {
        a.critical_quantity_t
            .total_cmp(&b.critical_quantity_t)
            .then(b.beta.total_cmp(&a.beta))
    })?;
    let beta = max_beta(given).map_or(governing.beta, |c| c.beta);
    Some(SubstanceContribution {
        substance: label(sub),
        q_t: q,
        critical_t: governing.critical_quantity_t,
        beta,
        matched_by: format!("category {}", governing.symbol),
        clause: format!("GB 18218-2018 表2 {}; β 表4", governing.symbol),
        table1_no: None,
        cas: sub.cas.clone(),
        categories: given.iter().map(|c| c.symbol.clone()).collect(),
        is_explosive: false,
        is_toxic_gas: false,
    })
}

fn max_beta<'a>(cats: &[&'a HazardCategory]) -> Option<&'a HazardCategory> {
    cats.iter()
        .copied()
        .max_by(|a, b| a.beta.total_cmp(&b.beta))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::UnitKind;
    use proptest::prelude::*;

    fn gb() -> &'static Gb18218 {
        Gb18218::builtin()
    }

    #[test]
    fn remembered_lookups_equal_the_catalogue_s() {
        let t = gb();
        let mut probes: Vec<(Option<String>, Option<String>)> = vec![(None, None)];
        for e in t.entries() {
            probes.push((Some(e.name_zh.clone()), None));
            for c in &e.cas {
                probes.push((None, Some(c.clone())));
                probes.push((Some(e.name_zh.clone()), Some(format!(" {c} "))));
                probes.push((Some("未知物质".into()), Some(c.clone())));
            }
            for a in &e.aliases {
                probes.push((Some(format!("  {a} ")), None));
            }
        }
        probes.push((
            Some("硝酸铵(含可燃物≤0.2%)".into()),
            Some("6484-52-2".into()),
        ));
        probes.push((Some("".into()), Some("".into())));
        for _ in 0..2 {
            for (n, c) in &probes {
                let want = t.find_substance(n.as_deref(), c.as_deref());
                let got = find_substance(t, n.as_deref(), c.as_deref());
                assert_eq!(got.map(|e| e.no), want.map(|e| e.no), "{n:?} {c:?}");
                if let Some(e) = got {
                    assert!(std::ptr::eq(e, want.unwrap()));
                    assert_eq!(table3_beta(t, e), t.table3_beta(e));
                }
            }
        }
    }

    fn sub(name: &str, cas: Option<&str>, q: f64, cats: &[&str]) -> Substance {
        Substance {
            name: Some(name.to_string()),
            cas: cas.map(str::to_string),
            quantity_t: q,
            hazard_categories: cats.iter().map(|c| c.to_string()).collect(),
        }
    }

    fn unit(substances: Vec<Substance>) -> Unit {
        Unit {
            id: "U1".into(),
            name: None,
            kind: UnitKind::Storage,
            geometry: None,
            substances,
            processes: vec![],
        }
    }

    fn approx(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    /// standards.md §1.9: 30 t 液氯 + 100 t 甲醇, 60 residents within 500 m.
    #[test]
    fn worked_example() {
        let u = unit(vec![
            sub("液氯", Some("7782-50-5"), 30.0, &[]),
            sub("甲醇", None, 100.0, &[]),
        ]);
        let h = identify_unit(&u, 60, gb());
        assert!(approx(h.s, 6.2), "S = {}", h.s);
        assert!(approx(h.alpha, 1.5));
        assert!(approx(h.r, 36.3), "R = {}", h.r);
        assert_eq!(h.grade, Some(3));
        assert!(h.notes.is_empty(), "{:?}", h.notes);
        let [cl, me] = &h.contributions[..] else {
            panic!("two contributions")
        };
        assert_eq!(
            (cl.matched_by.as_str(), cl.beta, cl.critical_t),
            ("cas", 4.0, 5.0)
        );
        assert_eq!(cl.clause, "GB 18218-2018 表1 #12; β 表3");
        assert_eq!(
            (me.matched_by.as_str(), me.beta, me.critical_t),
            ("name", 1.0, 500.0)
        );
        assert_eq!(me.clause, "GB 18218-2018 表1 #65; β 表4 W5.3");
        assert!(cl.is_toxic_gas && !me.is_toxic_gas);
    }

    /// R band edges (Table 6): 液氯 (Q = 5 t, β = 4) with α = 1 (1–29 people),
    /// so R = 4·q/5 = 0.8·q.
    #[test]
    fn r_band_edges() {
        let grade = |q: f64| identify_unit(&unit(vec![sub("氯", None, q, &[])]), 10, gb());
        let cases = [
            (125.0, 100.0, 1),
            (124.99, 99.992, 2),
            (62.5, 50.0, 2),
            (62.49, 49.992, 3),
            (12.5, 10.0, 3),
            (12.49, 9.992, 4),
        ];
        for (q, r, g) in cases {
            let h = grade(q);
            assert!(approx(h.r, r), "q = {q}: R = {}", h.r);
            assert_eq!(h.grade, Some(g), "R = {r}");
        }
    }

    /// S = 1 exactly is a major hazard (S ≥ 1); just below is not.
    #[test]
    fn s_edge() {
        let h = identify_unit(&unit(vec![sub("甲醇", None, 500.0, &[])]), 0, gb());
        assert!(approx(h.s, 1.0));
        assert!(approx(h.alpha, 0.5));
        assert_eq!(h.grade, Some(4), "R = {}", h.r);
        let h = identify_unit(&unit(vec![sub("甲醇", None, 499.99, &[])]), 0, gb());
        assert!(h.s < 1.0);
        assert_eq!(h.grade, None);
        assert!(!h.is_major_hazard());
        // Two substances summing to exactly 1.
        let h = identify_unit(
            &unit(vec![
                sub("甲醇", None, 250.0, &[]),
                sub("液氯", None, 2.5, &[]),
            ]),
            0,
            gb(),
        );
        assert!(approx(h.s, 1.0));
        assert!(h.is_major_hazard());
    }

    #[test]
    fn categories_for_substances_not_in_table1() {
        // 丙烯 W2: Q = 10, β = 1.5.
        let h = identify_unit(
            &unit(vec![sub("丙烯", Some("115-07-1"), 30.0, &["W2"])]),
            0,
            gb(),
        );
        let c = &h.contributions[0];
        assert_eq!(c.matched_by, "category W2");
        assert_eq!((c.critical_t, c.beta), (10.0, 1.5));
        assert!(approx(h.s, 3.0));
        assert!(approx(h.r, 0.5 * 1.5 * 3.0));
        // 一氧化碳 is Table 1 #13 (煤气) by alias; Table 3 β = 2 wins over W2/J3.
        let h = identify_unit(
            &unit(vec![sub("一氧化碳", Some("630-08-0"), 20.0, &["W2", "J3"])]),
            0,
            gb(),
        );
        let c = &h.contributions[0];
        assert_eq!((c.table1_no, c.critical_t, c.beta), (Some(13), 20.0, 2.0));
        assert_eq!(c.matched_by, "name");
        // Several categories, not in Table 1: lowest Q, largest β.
        let h = identify_unit(
            &unit(vec![sub("某物", None, 100.0, &["W10", "J3"])]),
            0,
            gb(),
        );
        let c = &h.contributions[0];
        assert_eq!((c.critical_t, c.beta), (50.0, 2.0));
        assert_eq!(c.matched_by, "category J3");
    }

    #[test]
    fn unknown_substances_and_bad_quantities_are_reported_not_counted() {
        let h = identify_unit(
            &unit(vec![
                sub("水", None, 1000.0, &[]),
                sub("甲醇", None, f64::NAN, &["X9"]),
            ]),
            0,
            gb(),
        );
        assert_eq!(h.contributions.len(), 1);
        assert_eq!(h.s, 0.0);
        assert_eq!(h.notes.len(), 3, "{:?}", h.notes);
        assert!(h.notes.iter().any(|n| n.contains("substances[0] 水")));
        // 三氧化硫 has no Table 3/4 β: β = 1 with a note.
        let h = identify_unit(&unit(vec![sub("三氧化硫", None, 75.0, &[])]), 0, gb());
        assert_eq!(h.contributions[0].beta, 1.0);
        assert!(h.notes[0].contains("β = 1"));
    }

    fn palette() -> Vec<Substance> {
        vec![
            sub("液氯", Some("7782-50-5"), 1.0, &[]),
            sub("甲醇", Some("67-56-1"), 1.0, &[]),
            sub("液氨", None, 1.0, &[]),
            sub("氢气", None, 1.0, &[]),
            sub("光气", None, 1.0, &[]),
            sub("丙烯", None, 1.0, &["W2"]),
            sub("过氧化氢溶液", None, 1.0, &["W9.2"]),
            sub("铝粉", None, 1.0, &["W10", "W11"]),
            sub("TNT", None, 1.0, &[]),
        ]
    }

    fn severity(grade: Option<u8>) -> u8 {
        grade.map_or(0, |g| 5 - g)
    }

    proptest! {
        /// Scaling any quantity up never lowers the grade's severity.
        #[test]
        fn more_inventory_never_lowers_the_grade(
            picks in prop::collection::vec((0usize..9, 0.0f64..500.0), 1..6),
            which in 0usize..6,
            factor in 1.0f64..50.0,
            people in 0u64..200,
        ) {
            let pal = palette();
            let subs: Vec<Substance> = picks
                .iter()
                .map(|(i, q)| Substance { quantity_t: *q, ..pal[*i].clone() })
                .collect();
            let before = identify_unit(&unit(subs.clone()), people, gb());
            let mut more = subs;
            let k = which % more.len();
            more[k].quantity_t *= factor;
            let after = identify_unit(&unit(more), people, gb());
            prop_assert!(after.s >= before.s);
            prop_assert!(after.r >= before.r);
            prop_assert!(severity(after.grade) >= severity(before.grade));
        }

        /// More people within 500 m never lowers the grade's severity.
        #[test]
        fn more_people_never_lowers_the_grade(
            picks in prop::collection::vec((0usize..9, 0.0f64..500.0), 1..6),
            people in 0u64..200,
            extra in 0u64..200,
        ) {
            let pal = palette();
            let subs: Vec<Substance> = picks
                .iter()
                .map(|(i, q)| Substance { quantity_t: *q, ..pal[*i].clone() })
                .collect();
            let u = unit(subs);
            let before = identify_unit(&u, people, gb());
            let after = identify_unit(&u, people + extra, gb());
            prop_assert!(severity(after.grade) >= severity(before.grade));
        }
    }
}

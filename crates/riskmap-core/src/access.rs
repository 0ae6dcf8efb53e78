//! Who may change what (权限): account roles and their scope.
//!
//! Every write names an [`Account`]. Its [`Role`] says which collections and
//! hidden-danger transitions it may touch, and its scope says where:
//!
//! | role | may |
//! |---|---|
//! | `admin` | everything, accounts and the audit log included |
//! | `regulator` (监管人员) | create, replace and delete enterprises, parks, pipelines, protection targets and hidden dangers whose district code starts with one of its prefixes; take the regulator's transitions of dangers there (核实, 挂牌督办, 验收销号 …) |
//! | `enterprise` (企业) | report and update the hidden dangers of the enterprise with its 统一社会信用代码, take the enterprise's transitions of them (开始整改, 申请验收), and change its own enterprise's inventory (`units`) — nothing else |
//! | `inspector` (网格员/检查员) | report hidden dangers in its districts |
//! | `viewer` | read |
//!
//! A feature lies in a district when its `district_code` (enterprises,
//! hidden dangers), its `code` (districts) or, for records without one, the
//! most specific district polygon holding its first vertex starts with a
//! prefix. A write needs the right for the feature as it was and as it will
//! be, so nothing moves out of a scope or into another's.
//!
//! A refusal ([`Denied`]) names the account, the missing right and the
//! record, so that the 403 says what to ask for.

use geo::{Contains, CoordsIter, Point, Rect};
use serde::{Deserialize, Serialize};

use crate::dangers::{HiddenDanger, Transition};
use crate::{Catalog, Collection, Feature, Record};

/// An account's role (角色).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 系统管理员: everything.
    Admin,
    /// 监管人员: edits and decides within its district-code prefixes.
    Regulator,
    /// 企业用户: its own dangers and inventory, by 统一社会信用代码.
    Enterprise,
    /// 网格员/检查员: reports dangers within its district-code prefixes.
    Inspector,
    /// 只读用户.
    Viewer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Regulator,
        Role::Enterprise,
        Role::Inspector,
        Role::Viewer,
    ];

    /// The role's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Regulator => "regulator",
            Role::Enterprise => "enterprise",
            Role::Inspector => "inspector",
            Role::Viewer => "viewer",
        }
    }

    /// Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            Role::Admin => "系统管理员",
            Role::Regulator => "监管人员",
            Role::Enterprise => "企业用户",
            Role::Inspector => "网格员/检查员",
            Role::Viewer => "只读用户",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown role {s:?}: expected admin, regulator, enterprise, inspector or viewer"
                )
            })
    }
}

/// Who acts: a named account with its role and scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Login name, also the actor in histories and the audit log.
    pub name: String,
    /// The role.
    pub role: Role,
    /// District-code prefixes (regulators, inspectors), e.g. `3301` for all of
    /// Hangzhou, `330106` for 西湖区.
    #[serde(default)]
    pub districts: Vec<String>,
    /// The 统一社会信用代码 of an enterprise account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_code: Option<String>,
}

impl Account {
    /// The built-in administrator behind `--admin-token`.
    pub fn admin(name: &str) -> Account {
        Account {
            name: name.to_string(),
            role: Role::Admin,
            districts: Vec::new(),
            credit_code: None,
        }
    }

    /// Checks that the role's scope is given and well formed.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty()
            || self.name.len() > 64
            || !self
                .name
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.@".contains(c))
        {
            return Err(format!(
                "name {:?}: 1–64 letters, digits or -_.@",
                self.name
            ));
        }
        match self.role {
            Role::Regulator | Role::Inspector => {
                if self.districts.is_empty() {
                    return Err(format!(
                        "a {} needs district-code prefixes (districts)",
                        self.role.as_str()
                    ));
                }
                if let Some(bad) = self
                    .districts
                    .iter()
                    .find(|d| d.is_empty() || d.len() > 6 || !d.bytes().all(|b| b.is_ascii_digit()))
                {
                    return Err(format!(
                        "districts: {bad:?} is not a prefix of a 6-digit division code"
                    ));
                }
            }
            Role::Enterprise => {
                let Some(code) = &self.credit_code else {
                    return Err("an enterprise account needs credit_code (统一社会信用代码)".into());
                };
                if code.len() != 18 {
                    return Err(format!("credit_code {code:?}: 18 characters expected"));
                }
            }
            Role::Admin | Role::Viewer => {}
        }
        Ok(())
    }

    fn in_districts(&self, code: Option<&str>) -> bool {
        code.is_some_and(|c| self.districts.iter().any(|p| c.starts_with(p.as_str())))
    }

    fn scope_text(&self) -> String {
        match self.role {
            Role::Regulator | Role::Inspector => format!("districts {}", self.districts.join(", ")),
            Role::Enterprise => format!(
                "统一社会信用代码 {}",
                self.credit_code.as_deref().unwrap_or("?")
            ),
            Role::Admin | Role::Viewer => "no scope".into(),
        }
    }
}

/// A refused action (403): the message names the account, the missing
/// right and the record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Denied(pub String);

fn denied(account: &Account, right: &str, what: &str, why: &str) -> Denied {
    Denied(format!(
        "{} {:?} ({}) lacks the right to {right} {what}: {why}; nothing was changed",
        account.role.as_str(),
        account.name,
        account.scope_text()
    ))
}

/// The district code a feature lies in (see the module docs).
pub fn district_of(feature: &Feature, catalog: &Catalog) -> Option<String> {
    match &feature.record {
        Record::Enterprise(e) if e.district_code.is_some() => return e.district_code.clone(),
        Record::HiddenDanger(h) if h.district_code.is_some() => return h.district_code.clone(),
        Record::RescueTeam(r) if r.district_code.is_some() => return r.district_code.clone(),
        Record::SupplyDepot(r) if r.district_code.is_some() => return r.district_code.clone(),
        Record::Shelter(r) if r.district_code.is_some() => return r.district_code.clone(),
        Record::District(d) => return Some(d.code.clone()),
        _ => {}
    }
    let c = feature.geometry.coords_iter().next()?;
    let p = Point::from(c);
    catalog
        .query_bbox_candidates(Collection::Districts, Rect::new(c, c))
        .filter(|d| d.geometry.contains(&p))
        .filter_map(|d| match &d.record {
            Record::District(r) => Some(r.code.clone()),
            _ => None,
        })
        // The most specific: the longest code without trailing zeros.
        .max_by_key(|code| code.trim_end_matches('0').len())
}

/// The credit code of the enterprise a hidden danger names.
fn danger_credit_code<'a>(h: &HiddenDanger, catalog: &'a Catalog) -> Option<&'a str> {
    let e = catalog.get(Collection::Enterprises, h.enterprise_id.as_deref()?)?;
    match &e.record {
        Record::Enterprise(e) => e.credit_code.as_deref(),
        _ => None,
    }
}

fn verb(old: Option<&Feature>, new: Option<&Feature>) -> &'static str {
    match (old, new) {
        (None, _) => "create",
        (Some(_), Some(_)) => "change",
        (Some(_), None) => "delete",
    }
}

/// Whether `account` may change a feature of `collection` from `old` to
/// `new` (`None`: absent before, or deleted).
pub fn check_write(
    account: &Account,
    collection: Collection,
    old: Option<&Feature>,
    new: Option<&Feature>,
    catalog: &Catalog,
) -> Result<(), Denied> {
    let id = new.or(old).map_or("", |f| f.id.as_str());
    let what = format!("{collection}/{id}");
    let action = verb(old, new);
    let right = format!("{action} {collection}");
    let sides = || old.into_iter().chain(new);
    // Both the old and the new feature must lie in the account's districts.
    let in_scope = || {
        for f in sides() {
            let code = district_of(f, catalog);
            if !account.in_districts(code.as_deref()) {
                return Err(denied(
                    account,
                    &right,
                    &what,
                    &format!(
                        "it lies in district {}, outside the account's districts",
                        code.as_deref().unwrap_or("(none)")
                    ),
                ));
            }
        }
        Ok(())
    };
    match account.role {
        Role::Admin => Ok(()),
        Role::Viewer => Err(denied(account, &right, &what, "a viewer may only read")),
        Role::Regulator => {
            if collection == Collection::Districts {
                return Err(denied(
                    account,
                    &right,
                    &what,
                    "districts are edited by admins only",
                ));
            }
            in_scope()
        }
        Role::Inspector => {
            if collection != Collection::HiddenDangers || old.is_some() {
                return Err(denied(
                    account,
                    &right,
                    &what,
                    "an inspector may only report new hidden dangers",
                ));
            }
            in_scope()
        }
        Role::Enterprise => {
            let own = account.credit_code.as_deref();
            match collection {
                Collection::HiddenDangers => {
                    if new.is_none() {
                        return Err(denied(
                            account,
                            &right,
                            &what,
                            "an enterprise may not delete hidden dangers",
                        ));
                    }
                    for f in sides() {
                        let Record::HiddenDanger(h) = &f.record else {
                            continue;
                        };
                        let code = danger_credit_code(h, catalog);
                        if code.is_none() || code != own {
                            return Err(denied(
                                account,
                                &right,
                                &what,
                                &format!(
                                    "it belongs to {}, not to this enterprise",
                                    h.enterprise_id.as_deref().map_or_else(
                                        || "no enterprise (a public place)".to_string(),
                                        |e| format!("enterprise {e}")
                                    )
                                ),
                            ));
                        }
                    }
                    Ok(())
                }
                Collection::Enterprises => {
                    let (Some(old), Some(new)) = (old, new) else {
                        return Err(denied(
                            account,
                            &right,
                            &what,
                            "an enterprise may only change its own inventory (units)",
                        ));
                    };
                    let (Record::Enterprise(o), Record::Enterprise(n)) = (&old.record, &new.record)
                    else {
                        return Err(denied(account, &right, &what, "not an enterprise"));
                    };
                    if o.credit_code.as_deref() != own || own.is_none() {
                        return Err(denied(account, &right, &what, "it is another enterprise"));
                    }
                    let mut same = n.clone();
                    same.units.clone_from(&o.units);
                    if same != *o || new.geometry != old.geometry {
                        return Err(denied(
                            account,
                            "change registration data (anything but units) of",
                            &what,
                            "an enterprise account may change only its inventory (units); \
                             ask its regulator for other changes",
                        ));
                    }
                    Ok(())
                }
                _ => Err(denied(
                    account,
                    &right,
                    &what,
                    "an enterprise may change only its own hidden dangers and inventory",
                )),
            }
        }
    }
}

/// Whether `account` may take `transition` on the hidden danger `danger`.
pub fn check_transition(
    account: &Account,
    danger: &Feature,
    transition: &Transition,
    catalog: &Catalog,
) -> Result<(), Denied> {
    let what = format!("hidden_dangers/{}", danger.id);
    let right = format!("{} ({})", transition.action, transition.zh);
    if account.role == Role::Admin {
        return Ok(());
    }
    if !transition.roles.contains(&account.role) {
        let allowed: Vec<&str> = transition.roles.iter().map(|r| r.as_str()).collect();
        return Err(denied(
            account,
            &right,
            &what,
            &format!(
                "this step is for {} (and admins)",
                if allowed.is_empty() {
                    "no role".to_string()
                } else {
                    allowed.join(", ")
                }
            ),
        ));
    }
    let Record::HiddenDanger(h) = &danger.record else {
        return Err(denied(account, &right, &what, "not a hidden danger"));
    };
    match account.role {
        Role::Enterprise => {
            let code = danger_credit_code(h, catalog);
            if code.is_none() || code != account.credit_code.as_deref() {
                return Err(denied(
                    account,
                    &right,
                    &what,
                    "it belongs to another enterprise",
                ));
            }
        }
        _ => {
            let code = district_of(danger, catalog);
            if !account.in_districts(code.as_deref()) {
                return Err(denied(
                    account,
                    &right,
                    &what,
                    &format!(
                        "it lies in district {}, outside the account's districts",
                        code.as_deref().unwrap_or("(none)")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The transitions of `allowed` (those the lifecycle allows now) that
/// `account` may take on `danger`.
pub fn permitted_transitions<'a>(
    account: &Account,
    danger: &Feature,
    allowed: Vec<&'a Transition>,
    catalog: &Catalog,
) -> Vec<&'a Transition> {
    allowed
        .into_iter()
        .filter(|t| check_transition(account, danger, t, catalog).is_ok())
        .collect()
}

/// The rights of a role, as shown to its user (`GET /api/me`).
pub fn rights(role: Role) -> &'static [&'static str] {
    match role {
        Role::Admin => &[
            "read",
            "write:any",
            "hidden_dangers:report",
            "hidden_dangers:transition:any",
            "accounts:manage",
            "audit:read",
        ],
        Role::Regulator => &[
            "read",
            "write:in_districts",
            "hidden_dangers:report",
            "hidden_dangers:transition:regulator",
        ],
        Role::Enterprise => &[
            "read",
            "enterprises:units:own",
            "hidden_dangers:report:own",
            "hidden_dangers:transition:enterprise",
        ],
        Role::Inspector => &["read", "hidden_dangers:report:in_districts"],
        Role::Viewer => &["read"],
    }
}

/// Properties anonymous readers do not see on a server started with
/// `--public-read limited`: inventories (`units`), the 重大危险源
/// registration record with its 包保责任人, inspection findings, the person responsible for a
/// rectification, and contact details (the `contact` of rescue teams and
/// supply depots, and those kept outside the schema).
pub const PRIVATE_PROPERTIES: [&str; 15] = [
    "units",
    "major_hazard_registration",
    "inspection_findings",
    "responsible_person",
    "contact",
    "contact_person",
    "phone",
    "telephone",
    "mobile",
    "email",
    "legal_representative",
    "联系人",
    "联系电话",
    "法定代表人",
    "手机",
];

/// Removes [`PRIVATE_PROPERTIES`] from a property map, and the actors of a
/// hidden danger's history (who decided stays in the audit log).
pub fn redact_public(props: &mut serde_json::Map<String, serde_json::Value>) {
    for k in PRIVATE_PROPERTIES {
        props.remove(k);
    }
    if let Some(serde_json::Value::Array(events)) = props.get_mut("history") {
        for e in events {
            if let Some(o) = e.as_object_mut() {
                o.remove("actor");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::dangers::DangerRules;

    fn demo() -> Catalog {
        let mut catalog = Catalog::new();
        for c in Collection::ALL {
            let features =
                crate::import::parse_geojson(c, crate::demo::text(c), riskmap_spatial::Crs::Wgs84)
                    .unwrap_or_else(|e| panic!("{c}: {e:?}"));
            catalog.load(c, features);
        }
        catalog
    }

    fn account(role: Role, districts: &[&str], credit_code: Option<&str>) -> Account {
        Account {
            name: format!("test-{}", role.as_str()),
            role,
            districts: districts.iter().map(|s| s.to_string()).collect(),
            credit_code: credit_code.map(str::to_string),
        }
    }

    fn danger_of(catalog: &Catalog, pred: impl Fn(&HiddenDanger) -> bool) -> Feature {
        catalog
            .iter(Collection::HiddenDangers)
            .find(|f| matches!(&f.record, Record::HiddenDanger(h) if pred(h)))
            .map(|f| (**f).clone())
            .expect("a demo danger")
    }

    #[test]
    fn accounts_are_validated_by_role() {
        assert!(account(Role::Regulator, &[], None).validate().is_err());
        assert!(account(Role::Regulator, &["33a"], None).validate().is_err());
        assert!(account(Role::Regulator, &["3301"], None).validate().is_ok());
        assert!(account(Role::Enterprise, &[], None).validate().is_err());
        assert!(account(Role::Viewer, &[], None).validate().is_ok());
        assert_eq!("inspector".parse::<Role>(), Ok(Role::Inspector));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn a_regulator_acts_only_within_its_districts() {
        let catalog = demo();
        let d = danger_of(&catalog, |h| h.district_code.is_some());
        let code = district_of(&d, &catalog).expect("district");
        let home = account(Role::Regulator, &[&code], None);
        let other = account(Role::Regulator, &["110101"], None);
        let rules = DangerRules::builtin();
        let close = rules
            .transition
            .iter()
            .find(|t| t.action == "close")
            .expect("close");
        assert!(check_transition(&home, &d, close, &catalog).is_ok());
        let err = check_transition(&other, &d, close, &catalog).unwrap_err();
        assert!(err.0.contains("close") && err.0.contains(&code), "{err}");
        assert!(
            check_write(
                &home,
                Collection::HiddenDangers,
                Some(&d),
                Some(&d),
                &catalog
            )
            .is_ok()
        );
        assert!(
            check_write(
                &other,
                Collection::HiddenDangers,
                Some(&d),
                Some(&d),
                &catalog
            )
            .is_err()
        );
        // Moving a record out of one's districts is refused too.
        let mut moved = d.clone();
        if let Record::HiddenDanger(h) = &mut moved.record {
            h.district_code = Some("110101".into());
        }
        assert!(
            check_write(
                &home,
                Collection::HiddenDangers,
                Some(&d),
                Some(&moved),
                &catalog
            )
            .is_err()
        );
    }

    #[test]
    fn an_enterprise_touches_only_its_own_dangers_and_units() {
        let catalog = demo();
        let d = danger_of(&catalog, |h| h.enterprise_id.is_some());
        let Record::HiddenDanger(h) = &d.record else {
            unreachable!()
        };
        let ent = catalog
            .get(Collection::Enterprises, h.enterprise_id.as_deref().unwrap())
            .unwrap();
        let Record::Enterprise(e) = &ent.record else {
            unreachable!()
        };
        let own = account(Role::Enterprise, &[], e.credit_code.as_deref());
        let stranger = account(Role::Enterprise, &[], Some("91330100000000000X"));
        assert!(check_write(&own, Collection::HiddenDangers, None, Some(&d), &catalog).is_ok());
        let err = check_write(
            &stranger,
            Collection::HiddenDangers,
            None,
            Some(&d),
            &catalog,
        )
        .unwrap_err();
        assert!(err.0.contains("create hidden_dangers"), "{err}");
        let rules = DangerRules::builtin();
        let by_action = |a: &str| rules.transition.iter().find(|t| t.action == a).unwrap();
        assert!(check_transition(&own, &d, by_action("request_closure"), &catalog).is_ok());
        assert!(check_transition(&own, &d, by_action("close"), &catalog).is_err());
        assert!(check_transition(&stranger, &d, by_action("request_closure"), &catalog).is_err());
        // Its inventory, yes; its name or another enterprise, no.
        let mut units = (**ent).clone();
        let mut renamed = (**ent).clone();
        if let (Record::Enterprise(u), Record::Enterprise(r)) =
            (&mut units.record, &mut renamed.record)
        {
            u.units.pop();
            r.name.push('X');
        }
        assert!(
            check_write(
                &own,
                Collection::Enterprises,
                Some(ent),
                Some(&units),
                &catalog
            )
            .is_ok()
        );
        assert!(
            check_write(
                &own,
                Collection::Enterprises,
                Some(ent),
                Some(&renamed),
                &catalog
            )
            .is_err()
        );
        assert!(
            check_write(
                &stranger,
                Collection::Enterprises,
                Some(ent),
                Some(&units),
                &catalog
            )
            .is_err()
        );
        assert!(check_write(&own, Collection::Parks, None, Some(ent), &catalog).is_err());
    }

    #[test]
    fn inspectors_report_and_viewers_read() {
        let catalog = demo();
        let d = danger_of(&catalog, |h| h.district_code.is_some());
        let code = district_of(&d, &catalog).unwrap();
        let inspector = account(Role::Inspector, &[&code[..4]], None);
        assert!(
            check_write(
                &inspector,
                Collection::HiddenDangers,
                None,
                Some(&d),
                &catalog
            )
            .is_ok()
        );
        assert!(
            check_write(
                &inspector,
                Collection::HiddenDangers,
                Some(&d),
                Some(&d),
                &catalog
            )
            .is_err()
        );
        let viewer = account(Role::Viewer, &[], None);
        let err =
            check_write(&viewer, Collection::HiddenDangers, None, Some(&d), &catalog).unwrap_err();
        assert!(err.0.contains("viewer"), "{err}");
    }

    #[test]
    fn features_without_a_code_lie_in_the_district_that_holds_them() {
        let catalog = demo();
        let t = catalog.iter(Collection::ProtectionTargets).next().unwrap();
        let code = district_of(t, &catalog);
        assert!(code.as_deref().is_some_and(|c| c.len() == 6), "{code:?}");
    }

    #[test]
    fn emergency_resources_are_edited_by_regulators_in_their_districts_only() {
        let catalog = demo();
        for c in [
            Collection::RescueTeams,
            Collection::SupplyDepots,
            Collection::Shelters,
        ] {
            let f = catalog.iter(c).next().expect("a demo resource");
            let code = district_of(f, &catalog).expect("district");
            let home = account(Role::Regulator, &[&code[..4]], None);
            let other = account(Role::Regulator, &["110101"], None);
            assert!(
                check_write(&home, c, Some(f), Some(f), &catalog).is_ok(),
                "{c}"
            );
            assert!(
                check_write(&home, c, None, Some(f), &catalog).is_ok(),
                "{c}"
            );
            assert!(
                check_write(&home, c, Some(f), None, &catalog).is_ok(),
                "{c}"
            );
            assert!(
                check_write(&other, c, Some(f), Some(f), &catalog).is_err(),
                "{c}"
            );
            let own = catalog
                .iter(Collection::Enterprises)
                .find_map(|e| match &e.record {
                    Record::Enterprise(e) => e.credit_code.clone(),
                    _ => None,
                })
                .expect("a credit code");
            for denied in [
                account(Role::Enterprise, &[], Some(&own)),
                account(Role::Inspector, &[&code], None),
                account(Role::Viewer, &[], None),
            ] {
                assert!(
                    check_write(&denied, c, None, Some(f), &catalog).is_err(),
                    "{c} {:?}",
                    denied.role
                );
                assert!(check_write(&denied, c, Some(f), Some(f), &catalog).is_err());
            }
        }
    }

    #[test]
    fn a_resource_contact_is_hidden_from_limited_public_reads() {
        let catalog = demo();
        for c in [Collection::RescueTeams, Collection::SupplyDepots] {
            let f = catalog.iter(c).next().expect("a demo resource");
            let mut props = f.record.to_properties();
            assert!(props.contains_key("contact"), "{c}");
            redact_public(&mut props);
            assert!(!props.contains_key("contact"), "{c}");
            assert!(props.contains_key("name"), "{c}");
        }
    }
}

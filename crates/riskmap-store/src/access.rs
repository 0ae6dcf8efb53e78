//! Accounts, their tokens and the audit log (账号、令牌与审计日志), stored
//! beside the features so that every server on one database sees the same
//! users and one history.
//!
//! - An account ([`StoredAccount`]) holds a role and scope
//!   ([`riskmap_core::access::Account`]) and, optionally, an argon2 password
//!   hash for the web map's login. It is disabled, never deleted, so the
//!   audit log's actors stay meaningful.
//! - A token is stored only as its SHA-256 hash ([`TokenRecord`]); it can
//!   expire (login sessions) and be revoked one by one or all of an account's
//!   at once.
//! - The audit log ([`AuditEntry`]) is appended in the transaction of the
//!   write it describes ([`crate::Store::write`]), so a write and its record
//!   land together or not at all.

use riskmap_core::Feature;
use riskmap_core::access::Account;
use serde::Serialize;

use crate::codec::{geometry_to_geojson, properties_json};

/// One write as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// When, RFC 3339 UTC.
    pub at: String,
    /// The account (or `admin` for the `--admin-token`, `cli:<user>` for the CLI).
    pub actor: String,
    /// `create`, `replace`, `delete`, `import`, `transition:<action>`,
    /// `account:create`, `token:revoke`, …
    pub action: String,
    /// The collection (or `accounts`).
    pub collection: String,
    /// The feature or account id; `None` for a whole-file import.
    pub id: Option<String>,
    /// The record before, as GeoJSON text (`None` when new).
    pub before: Option<String>,
    /// The record after, as GeoJSON text (`None` when deleted).
    pub after: Option<String>,
}

/// An audit entry read back, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    /// Position in the log (1, 2, …).
    pub seq: u64,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
}

/// Which audit rows to read, oldest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Rows after this position.
    pub after: u64,
    /// At most this many (capped at 1,000).
    pub limit: usize,
    /// Only this actor.
    pub actor: Option<String>,
    /// Only this collection.
    pub collection: Option<String>,
    /// Only this id.
    pub id: Option<String>,
    /// Only rows at or after this time bound
    /// ([`crate::history::time_bound`]).
    pub since: Option<String>,
    /// Only rows before this time bound.
    pub until: Option<String>,
}

/// A feature as GeoJSON text, for the audit log.
pub fn feature_json(f: &Feature) -> String {
    format!(
        r#"{{"type":"Feature","id":{},"geometry":{},"properties":{}}}"#,
        serde_json::Value::from(f.id.as_str()),
        geometry_to_geojson(&f.geometry),
        properties_json(f)
    )
}

/// One write of features, with the audit entries that describe it.
#[derive(Debug, Clone, Copy)]
pub enum WriteOp<'a> {
    /// Insert or replace.
    Upsert(&'a [Feature]),
    /// Insert new ids only ([`crate::StoreError::Exists`] otherwise).
    Insert(&'a [Feature]),
    /// Delete these ids.
    Delete(&'a [String]),
}

/// A stored account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredAccount {
    /// Name, role and scope.
    #[serde(flatten)]
    pub account: Account,
    /// The argon2 PHC string of its password, when it may log in.
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// When created, RFC 3339 UTC.
    pub created_at: String,
    /// When disabled (its tokens stop working), RFC 3339 UTC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_at: Option<String>,
}

/// A stored token (only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenRecord {
    /// SHA-256 of the token, hex.
    #[serde(skip)]
    pub hash: String,
    /// A short public id (the first 8 hex digits of the hash) to name it when revoking.
    pub id: String,
    /// The account it acts for.
    pub account: String,
    /// What it is for (`login`, `api`, …).
    pub label: String,
    /// When issued, RFC 3339 UTC.
    pub created_at: String,
    /// When it stops working, RFC 3339 UTC (none: until revoked).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// When revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// The audit entry of an account change.
pub fn account_entry(at: &str, actor: &str, action: &str, account: &StoredAccount) -> AuditEntry {
    AuditEntry {
        at: at.to_string(),
        actor: actor.to_string(),
        action: action.to_string(),
        collection: "accounts".into(),
        id: Some(account.account.name.clone()),
        before: None,
        after: serde_json::to_string(account).ok(),
    }
}

/// A stored incident of emergency command (应急指挥): the request as
/// reported and last edited, its status and times. Its zones are not
/// stored: they are recomputed from the request on the current world.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StoredIncident {
    /// Id, e.g. `inc-20261206-214501-3f2a`.
    pub id: String,
    /// `open` or `closed`.
    pub status: String,
    /// The request (the body of `POST /api/incidents`), as last edited.
    pub request: serde_json::Value,
    /// When it was reported, RFC 3339 UTC.
    pub created_at: String,
    /// Who reported it.
    pub created_by: String,
    /// When it was last changed.
    pub updated_at: String,
    /// When it was closed.
    #[serde(default)]
    pub closed_at: Option<String>,
    /// Changes so far (1 when new).
    pub revision: u64,
}

/// The audit entry of an incident write.
pub fn incident_entry(
    at: &str,
    actor: &str,
    action: &str,
    before: Option<&StoredIncident>,
    after: &StoredIncident,
) -> AuditEntry {
    AuditEntry {
        at: at.to_string(),
        actor: actor.to_string(),
        action: action.to_string(),
        collection: "incidents".into(),
        id: Some(after.id.clone()),
        before: before.and_then(|b| serde_json::to_string(b).ok()),
        after: serde_json::to_string(after).ok(),
    }
}

-- Accounts with roles (账号), their tokens (stored as SHA-256 hashes only)
-- and the audit log (审计日志), appended in each write's own transaction.
-- before/after are `json`, not `jsonb`: the record is kept as written.
CREATE TABLE accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    districts TEXT NOT NULL DEFAULT '[]',
    credit_code TEXT,
    password_hash TEXT,
    created_at TEXT NOT NULL,
    disabled_at TEXT
);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts(name),
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
);
CREATE INDEX tokens_account ON tokens (account);
CREATE TABLE audit_log (
    seq BIGSERIAL PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    collection TEXT NOT NULL,
    item_id TEXT,
    before JSON,
    after JSON
);
CREATE INDEX audit_log_item ON audit_log (collection, item_id);
CREATE INDEX audit_log_actor ON audit_log (actor);

-- The change log (变更日志): one row per committed write, appended in the
-- write's own transaction, so other servers on this database can catch up
-- (they LISTEN on channel riskmap_changes). `ids` NULL: a large import, the
-- whole collection may have changed.
CREATE TABLE change_log (
    seq BIGSERIAL PRIMARY KEY,
    origin TEXT NOT NULL,
    collection TEXT NOT NULL,
    ids TEXT[],
    at TIMESTAMPTZ NOT NULL DEFAULT now()
);

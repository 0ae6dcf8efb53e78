-- The kept history of derived changes (变化情况): risk levels that changed
-- (old → new, with the reason and the cause) and external-safety-distance
-- violations that appeared or cleared. Written by the server that made the
-- change, in the transaction of the write that caused it (or at the day's
-- rollover). Derived results themselves are never stored: these rows are
-- what they were when they changed.
CREATE TABLE derived_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    collection TEXT NOT NULL,
    item_id TEXT NOT NULL,
    minx REAL,
    miny REAL,
    maxx REAL,
    maxy REAL,
    detail TEXT NOT NULL
);
CREATE INDEX derived_changes_at ON derived_changes (at);
-- "What changed since" reads the audit log by time.
CREATE INDEX audit_log_at ON audit_log (at);

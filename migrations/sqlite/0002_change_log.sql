-- The change log (变更日志): one row per committed write, appended in the
-- write's own transaction, so another process on this file (a server while
-- `riskmap import` runs) can catch up. `ids`: a JSON array, NULL for a large
-- import (the whole collection may have changed).
CREATE TABLE change_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    collection TEXT NOT NULL,
    ids TEXT,
    at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- 隐患排查治理: the hidden-danger register, shaped like every collection.
CREATE TABLE hidden_dangers (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    geometry TEXT NOT NULL,
    properties TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX hidden_dangers_bbox ON hidden_dangers (minx, maxx, miny, maxy);

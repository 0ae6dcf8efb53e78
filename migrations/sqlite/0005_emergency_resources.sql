-- 应急资源 (emergency resources): rescue teams, supply depots and shelters,
-- shaped like every collection.
CREATE TABLE rescue_teams (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    geometry TEXT NOT NULL,
    properties TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX rescue_teams_bbox ON rescue_teams (minx, maxx, miny, maxy);

CREATE TABLE supply_depots (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    geometry TEXT NOT NULL,
    properties TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX supply_depots_bbox ON supply_depots (minx, maxx, miny, maxy);

CREATE TABLE shelters (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    geometry TEXT NOT NULL,
    properties TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX shelters_bbox ON shelters (minx, maxx, miny, maxy);

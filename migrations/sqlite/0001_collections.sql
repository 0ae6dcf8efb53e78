-- One table per collection, all of the same shape. Geometry is GeoJSON text in
-- WGS84 (EPSG:4326); minx..maxy is its bounding box for range pre-filtering.
CREATE TABLE enterprises (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    geometry TEXT NOT NULL,
    properties TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX enterprises_bbox ON enterprises (minx, maxx, miny, maxy);

CREATE TABLE parks (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    geometry TEXT NOT NULL,
    properties TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX parks_bbox ON parks (minx, maxx, miny, maxy);

CREATE TABLE pipelines (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    geometry TEXT NOT NULL,
    properties TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX pipelines_bbox ON pipelines (minx, maxx, miny, maxy);

CREATE TABLE protection_targets (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    geometry TEXT NOT NULL,
    properties TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX protection_targets_bbox ON protection_targets (minx, maxx, miny, maxy);

CREATE TABLE districts (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT,
    geometry TEXT NOT NULL,
    properties TEXT NOT NULL,
    minx REAL NOT NULL, miny REAL NOT NULL, maxx REAL NOT NULL, maxy REAL NOT NULL,
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX districts_bbox ON districts (minx, maxx, miny, maxy);

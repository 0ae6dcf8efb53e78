-- One table per collection, all of the same shape, geometry in WGS84 (SRID 4326)
-- with a GiST index. Readable by any PostGIS client (QGIS, GDAL).
CREATE EXTENSION IF NOT EXISTS postgis;

CREATE TABLE enterprises (
    id TEXT PRIMARY KEY,
    name TEXT,
    geom geometry(Geometry, 4326) NOT NULL,
    properties JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX enterprises_geom ON enterprises USING GIST (geom);

CREATE TABLE parks (
    id TEXT PRIMARY KEY,
    name TEXT,
    geom geometry(Geometry, 4326) NOT NULL,
    properties JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX parks_geom ON parks USING GIST (geom);

CREATE TABLE pipelines (
    id TEXT PRIMARY KEY,
    name TEXT,
    geom geometry(Geometry, 4326) NOT NULL,
    properties JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX pipelines_geom ON pipelines USING GIST (geom);

CREATE TABLE protection_targets (
    id TEXT PRIMARY KEY,
    name TEXT,
    geom geometry(Geometry, 4326) NOT NULL,
    properties JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX protection_targets_geom ON protection_targets USING GIST (geom);

CREATE TABLE districts (
    id TEXT PRIMARY KEY,
    name TEXT,
    geom geometry(Geometry, 4326) NOT NULL,
    properties JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX districts_geom ON districts USING GIST (geom);

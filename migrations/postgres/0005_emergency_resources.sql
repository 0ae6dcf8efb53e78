-- 应急资源 (emergency resources): rescue teams, supply depots and shelters,
-- shaped like every collection.
CREATE TABLE rescue_teams (
    id TEXT PRIMARY KEY,
    name TEXT,
    geom geometry(Geometry, 4326) NOT NULL,
    properties JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX rescue_teams_geom ON rescue_teams USING GIST (geom);

CREATE TABLE supply_depots (
    id TEXT PRIMARY KEY,
    name TEXT,
    geom geometry(Geometry, 4326) NOT NULL,
    properties JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX supply_depots_geom ON supply_depots USING GIST (geom);

CREATE TABLE shelters (
    id TEXT PRIMARY KEY,
    name TEXT,
    geom geometry(Geometry, 4326) NOT NULL,
    properties JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX shelters_geom ON shelters USING GIST (geom);

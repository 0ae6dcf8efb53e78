-- 隐患排查治理: the hidden-danger register, shaped like every collection.
CREATE TABLE hidden_dangers (
    id TEXT PRIMARY KEY,
    name TEXT,
    geom geometry(Geometry, 4326) NOT NULL,
    properties JSONB NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX hidden_dangers_geom ON hidden_dangers USING GIST (geom);

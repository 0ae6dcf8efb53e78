-- Incidents of emergency command (应急指挥): the request as reported and
-- edited (wind changes), its status and times. The zones are recomputed
-- from the request on the current world, so they are not stored.
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE INDEX incidents_status ON incidents (status, created_at);

-- shopshield schema, version 1: the rights registry, listings with their
-- version history, decisions and API keys. Documents are stored as JSON
-- (the serde form of the model types) next to the columns we query on.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('registry_version', '0');

CREATE TABLE holders (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE rights (
    id         TEXT PRIMARY KEY,
    holder_id  TEXT NOT NULL REFERENCES holders(id),
    kind       TEXT NOT NULL,
    enabled    INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    image      BLOB,
    updated_at TEXT NOT NULL
) STRICT;
CREATE INDEX rights_by_holder ON rights(holder_id);

CREATE TABLE listings (
    id           TEXT PRIMARY KEY,
    shop_id      TEXT NOT NULL,
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    action       TEXT NOT NULL,
    updated_at   TEXT NOT NULL
) STRICT;
CREATE INDEX listings_by_shop ON listings(shop_id, id);

CREATE TABLE listing_versions (
    listing_id   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    doc          TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    PRIMARY KEY (listing_id, version)
) STRICT;

CREATE TABLE decisions (
    decision_id TEXT PRIMARY KEY,
    listing_id  TEXT NOT NULL,
    version     INTEGER NOT NULL,
    action      TEXT NOT NULL,
    score       REAL NOT NULL,
    doc         TEXT NOT NULL,
    decided_at  TEXT NOT NULL
) STRICT;
CREATE INDEX decisions_by_listing ON decisions(listing_id, version);

CREATE TABLE api_keys (
    key_hash   TEXT PRIMARY KEY,
    role       TEXT NOT NULL,
    holder_id  TEXT,
    shop_id    TEXT,
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

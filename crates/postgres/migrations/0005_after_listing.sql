-- shopshield PostgreSQL schema, version 5: detection after listing (the
-- same tables as SQLite's 0005_after_listing).
--
-- * listing_terms: the sweep index, normalised terms of each listing's
--   latest version (and `cat:`/`right:` terms) to the listing, replaced in
--   the transaction that stores a version; index_terms: their vocabulary.
-- * sweeps: each sweep with its progress (doc) and its claim, taken
--   FOR UPDATE SKIP LOCKED.
-- * sweep_watermark: registry changes up to this version have sweeps.

CREATE TABLE listing_terms (
    term       text COLLATE "C" NOT NULL,
    listing_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (term, listing_id)
);
CREATE INDEX listing_terms_by_listing ON listing_terms(listing_id);

CREATE TABLE index_terms (
    term text COLLATE "C" PRIMARY KEY
);

CREATE TABLE sweeps (
    id          text COLLATE "C" PRIMARY KEY,
    seq         bigint NOT NULL UNIQUE,
    state       text NOT NULL,
    claimed_by  text,
    claim_until timestamptz,
    doc         text NOT NULL
);
CREATE INDEX sweeps_open ON sweeps(state, seq);

CREATE TABLE sweep_watermark (
    id  integer PRIMARY KEY CHECK (id = 1),
    doc text NOT NULL
);
INSERT INTO sweep_watermark (id, doc)
    SELECT 1, '{"registry_version":' || value || '}' FROM meta WHERE key = 'registry_version';
INSERT INTO meta (key, value) VALUES ('sweep_seq', 0);

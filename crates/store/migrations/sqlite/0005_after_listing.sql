-- shopshield schema, version 5: detection after listing.
--
-- * The sweep index: normalised terms of each listing's latest version (and
--   `cat:`/`right:` terms) to the listing, replaced in the transaction that
--   stores a version, and the vocabulary of distinct terms.
-- * Sweeps with their progress, so a sweep resumes after a crash.
-- * The sweep watermark: registry changes up to this version have sweeps.

CREATE TABLE listing_terms (
    term       TEXT NOT NULL,
    listing_id TEXT NOT NULL,
    PRIMARY KEY (term, listing_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX listing_terms_by_listing ON listing_terms(listing_id);

CREATE TABLE index_terms (
    term TEXT PRIMARY KEY
) STRICT, WITHOUT ROWID;

CREATE TABLE sweeps (
    id          TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL UNIQUE,
    state       TEXT NOT NULL,
    claimed_by  TEXT,
    claim_until TEXT,
    doc         TEXT NOT NULL
) STRICT;
CREATE INDEX sweeps_open ON sweeps(state, seq);

INSERT INTO meta (key, value)
    SELECT 'sweep_watermark',
           '{"registry_version":' || value || '}'
    FROM meta WHERE key = 'registry_version';
INSERT INTO meta (key, value) VALUES ('sweep_seq', '0');

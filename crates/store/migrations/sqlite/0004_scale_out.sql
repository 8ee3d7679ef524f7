-- shopshield schema, version 4: the scale-out seams.
--
-- * Rights remember the registry version of their last change, so a process
--   reads only what changed since the version it knows, and keep the logo's
--   keypoint features beside the image, so no process decodes it again.
-- * Decisions get an explicit sequence (`seq`, assigned from the
--   `decision_seq` counter inside the writing transaction) instead of the
--   SQLite rowid, so the same ordering exists in PostgreSQL.
-- * API keys belong to a principal: the identity enforcement records name.
-- * Snapshots of the folded enforcement state, case leases and outbox claims.

ALTER TABLE rights ADD COLUMN features BLOB;
ALTER TABLE rights ADD COLUMN changed_version INTEGER NOT NULL DEFAULT 0;
UPDATE rights SET changed_version =
    (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'registry_version');
CREATE INDEX rights_by_version ON rights(changed_version);

ALTER TABLE decisions ADD COLUMN seq INTEGER;
UPDATE decisions SET seq = rowid;
CREATE UNIQUE INDEX decisions_by_seq ON decisions(seq);
INSERT INTO meta (key, value)
    SELECT 'decision_seq', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM decisions;

-- Filled in by the migration code: the label when it is a valid id (the
-- identity such keys had before), otherwise key- and a hash prefix.
ALTER TABLE api_keys ADD COLUMN principal_id TEXT;

CREATE TABLE enforcement_snapshots (
    seq        INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL,
    body       BLOB NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE case_leases (
    case_id  TEXT PRIMARY KEY,
    reviewer TEXT NOT NULL,
    until    TEXT NOT NULL
) STRICT;

ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claim_until TEXT;

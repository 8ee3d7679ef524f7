-- shopshield schema, version 2: enforcement. The hash-chained event log
-- (append-only; `seq` is the primary key, so two writers that computed
-- events from the same head cannot both append), the head anchor kept
-- outside the log rows, the webhook outbox, and creator-scoped API keys.

CREATE TABLE enforcement_log (
    seq       INTEGER PRIMARY KEY,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    body      TEXT NOT NULL,
    at        TEXT NOT NULL
) STRICT;

-- One row: the head of the log as of the last append. A log whose last
-- entries were cut off, or that was rewritten with fresh hashes, no longer
-- matches it.
CREATE TABLE enforcement_anchor (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
) STRICT;

CREATE TABLE outbox (
    idempotency_key TEXT PRIMARY KEY,
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

-- Decisions up to this rowid have been handed to enforcement.
INSERT INTO meta (key, value) VALUES ('enforcement_cursor', '0');

ALTER TABLE api_keys ADD COLUMN creator_id TEXT;

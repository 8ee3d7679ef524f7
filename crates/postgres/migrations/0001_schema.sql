-- shopshield on PostgreSQL, schema version 1: the same tables as the SQLite
-- store at its schema version 4 (crates/store/migrations/sqlite), with
-- PostgreSQL's types.
--
-- * Text that is compared or ordered (ids, names, hashes) is COLLATE "C":
--   byte order, as SQLite compares, so pages and orderings are the same on
--   both stores whatever the database's locale.
-- * Times are timestamptz (microseconds, as the SQLite store's text).
-- * Documents (the serde JSON of the model types) are text: kept byte for
--   byte as written, never parsed by the server (no query looks inside
--   them). The enforcement log body must be text: its hash covers the bytes.
-- * Images, features, snapshots are bytea.
-- * Versions, sequence numbers and counters are bigint.

CREATE TABLE meta (
    key   text COLLATE "C" PRIMARY KEY,
    value bigint NOT NULL
);
-- registry_version: bumped by every registry change (and NOTIFY'd).
-- decision_seq: the last decision's sequence number; the row is locked by
--   the writing transaction, so sequence numbers follow commit order.
-- enforcement_cursor: decisions up to it were handed to enforcement.
INSERT INTO meta (key, value) VALUES
    ('registry_version', 0),
    ('decision_seq', 0),
    ('enforcement_cursor', 0);

CREATE TABLE holders (
    id         text COLLATE "C" PRIMARY KEY,
    name       text COLLATE "C" NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE rights (
    id              text COLLATE "C" PRIMARY KEY,
    holder_id       text COLLATE "C" NOT NULL REFERENCES holders(id),
    kind            text NOT NULL,
    enabled         boolean NOT NULL,
    doc             text NOT NULL,
    image           bytea,
    features        bytea,
    changed_version bigint NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX rights_by_holder ON rights (holder_id, id);
CREATE INDEX rights_by_version ON rights (changed_version);

CREATE TABLE listings (
    id           text COLLATE "C" PRIMARY KEY,
    shop_id      text COLLATE "C" NOT NULL,
    version      bigint NOT NULL,
    content_hash text NOT NULL,
    action       text NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX listings_by_shop ON listings (shop_id, id);

CREATE TABLE listing_versions (
    listing_id   text COLLATE "C" NOT NULL,
    version      bigint NOT NULL,
    content_hash text NOT NULL,
    doc          text NOT NULL,
    submitted_at timestamptz NOT NULL,
    PRIMARY KEY (listing_id, version)
);

CREATE TABLE decisions (
    decision_id text COLLATE "C" PRIMARY KEY,
    seq         bigint NOT NULL UNIQUE,
    listing_id  text COLLATE "C" NOT NULL,
    version     bigint NOT NULL,
    action      text NOT NULL,
    score       double precision NOT NULL,
    doc         text NOT NULL,
    decided_at  timestamptz NOT NULL
);
CREATE INDEX decisions_by_listing ON decisions (listing_id, version);

CREATE TABLE qualifications (
    shop_id       text COLLATE "C" NOT NULL,
    qualification text COLLATE "C" NOT NULL,
    region        text COLLATE "C" NOT NULL,
    doc           text NOT NULL,
    updated_at    timestamptz NOT NULL,
    PRIMARY KEY (shop_id, qualification, region)
);

CREATE TABLE api_keys (
    key_hash     text COLLATE "C" PRIMARY KEY,
    role         text NOT NULL,
    holder_id    text,
    shop_id      text,
    label        text NOT NULL,
    created_at   timestamptz NOT NULL,
    creator_id   text,
    principal_id text NOT NULL
);

-- The hash-chained event log. `seq` is the primary key, so two writers
-- that computed entries from the same head cannot both append; appends
-- also lock the anchor row first, so they queue instead of colliding.
CREATE TABLE enforcement_log (
    seq       bigint PRIMARY KEY,
    prev_hash text NOT NULL,
    hash      text NOT NULL,
    body      text NOT NULL,
    at        timestamptz NOT NULL
);

-- One row, present from the start: the head of the log as of the last
-- append (seq 0: nothing appended yet). Every append locks it
-- (SELECT ... FOR UPDATE) before it checks the head.
CREATE TABLE enforcement_anchor (
    id   integer PRIMARY KEY CHECK (id = 1),
    seq  bigint NOT NULL,
    hash text NOT NULL
);
INSERT INTO enforcement_anchor (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE enforcement_snapshots (
    seq        bigint PRIMARY KEY,
    hash       text NOT NULL,
    body       bytea NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE case_leases (
    case_id  text COLLATE "C" PRIMARY KEY,
    reviewer text NOT NULL,
    until    timestamptz NOT NULL
);

CREATE TABLE outbox (
    idempotency_key text COLLATE "C" PRIMARY KEY,
    seq             bigint NOT NULL,
    kind            text NOT NULL,
    payload         text NOT NULL,
    status          text NOT NULL,
    failures        bigint NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_error      text,
    claimed_by      text,
    claim_until     timestamptz
);
CREATE INDEX outbox_by_seq ON outbox (seq, idempotency_key);
-- Only pending rows are ever claimed: a partial index keeps the claim
-- query off the delivered history.
CREATE INDEX outbox_due ON outbox (seq, idempotency_key) WHERE status = 'pending';

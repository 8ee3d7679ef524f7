-- Rights holders' notices and the state of each of their items.

CREATE TABLE notices (
    id           TEXT PRIMARY KEY,
    holder_id    TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    doc          TEXT NOT NULL
) STRICT;
CREATE INDEX notices_by_holder ON notices(holder_id, id);

CREATE TABLE notice_items (
    notice_id   TEXT NOT NULL REFERENCES notices(id),
    item_id     TEXT NOT NULL,
    position    INTEGER NOT NULL,
    shop_id     TEXT NOT NULL,
    state       TEXT NOT NULL,
    version     INTEGER NOT NULL,
    received_at TEXT NOT NULL,
    due_at      TEXT,
    doc         TEXT NOT NULL,
    PRIMARY KEY (notice_id, item_id)
) STRICT;
CREATE INDEX notice_items_by_state ON notice_items(state, received_at, notice_id, position);
CREATE INDEX notice_items_due ON notice_items(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX notice_items_by_shop ON notice_items(shop_id, state);

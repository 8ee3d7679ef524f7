-- Rights holders' notices and the state of each of their items.

CREATE TABLE notices (
    id           text COLLATE "C" PRIMARY KEY,
    holder_id    text COLLATE "C" NOT NULL,
    content_hash text NOT NULL,
    received_at  timestamptz NOT NULL,
    doc          text NOT NULL
);
CREATE INDEX notices_by_holder ON notices (holder_id, id);

CREATE TABLE notice_items (
    notice_id   text COLLATE "C" NOT NULL REFERENCES notices (id),
    item_id     text COLLATE "C" NOT NULL,
    position    integer NOT NULL,
    shop_id     text COLLATE "C" NOT NULL,
    state       text NOT NULL,
    version     bigint NOT NULL,
    received_at timestamptz NOT NULL,
    due_at      timestamptz,
    doc         text NOT NULL,
    PRIMARY KEY (notice_id, item_id)
);
CREATE INDEX notice_items_by_state ON notice_items (state, received_at, notice_id, position);
CREATE INDEX notice_items_due ON notice_items (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX notice_items_by_shop ON notice_items (shop_id, state);

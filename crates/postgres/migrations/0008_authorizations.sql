-- Brand authorisation: sellers' requests for a letter of authorisation on
-- a right, and the log of authorised-seller changes they made (each one a
-- registry version of its own, so sweeps scope it to the shop).

CREATE TABLE authorizations (
    id               text COLLATE "C" PRIMARY KEY,
    right_id         text COLLATE "C" NOT NULL REFERENCES rights (id),
    holder_id        text COLLATE "C" NOT NULL,
    shop_id          text COLLATE "C" NOT NULL,
    state            text NOT NULL,
    version          bigint NOT NULL,
    registry_version bigint,
    created_at       timestamptz NOT NULL,
    doc              text NOT NULL
);
-- One pending request per right and shop.
CREATE UNIQUE INDEX authorizations_one_pending ON authorizations (right_id, shop_id)
    WHERE state = 'pending';
CREATE INDEX authorizations_by_holder ON authorizations (holder_id, id);
CREATE INDEX authorizations_by_shop ON authorizations (shop_id, id);

CREATE TABLE authorization_changes (
    registry_version bigint PRIMARY KEY,
    authorization_id text COLLATE "C" NOT NULL REFERENCES authorizations (id),
    right_id         text COLLATE "C" NOT NULL,
    shop_id          text COLLATE "C" NOT NULL,
    change           text NOT NULL
);

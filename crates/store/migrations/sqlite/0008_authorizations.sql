-- Brand authorisation: sellers' requests for a letter of authorisation on
-- a right, and the log of authorised-seller changes they made (each one a
-- registry version of its own, so sweeps scope it to the shop).

CREATE TABLE authorizations (
    id               TEXT PRIMARY KEY,
    right_id         TEXT NOT NULL REFERENCES rights(id),
    holder_id        TEXT NOT NULL,
    shop_id          TEXT NOT NULL,
    state            TEXT NOT NULL,
    version          INTEGER NOT NULL,
    registry_version INTEGER,
    created_at       TEXT NOT NULL,
    doc              TEXT NOT NULL
) STRICT;
-- One pending request per right and shop.
CREATE UNIQUE INDEX authorizations_one_pending ON authorizations(right_id, shop_id)
    WHERE state = 'pending';
CREATE INDEX authorizations_by_holder ON authorizations(holder_id, id);
CREATE INDEX authorizations_by_shop ON authorizations(shop_id, id);

CREATE TABLE authorization_changes (
    registry_version INTEGER PRIMARY KEY,
    authorization_id TEXT NOT NULL REFERENCES authorizations(id),
    right_id         TEXT NOT NULL,
    shop_id          TEXT NOT NULL,
    change           TEXT NOT NULL
) STRICT;

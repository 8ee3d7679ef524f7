-- Seller qualifications (licences, registrations) that unlock restricted
-- goods in a region. The same shop may hold the same qualification in
-- several regions; registering it again for a region replaces it.

CREATE TABLE qualifications (
    shop_id       TEXT NOT NULL,
    qualification TEXT NOT NULL,
    region        TEXT NOT NULL,
    doc           TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (shop_id, qualification, region)
) STRICT;

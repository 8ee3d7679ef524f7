-- Proof of rights: a right's registration (number, office, dates) and its
-- review state live in its document; the registration's last day is kept
-- beside it too, so that sweeps find the rights whose registration lapsed
-- without reading every right.
ALTER TABLE rights ADD COLUMN expires_on TEXT;
UPDATE rights SET expires_on = json_extract(doc, '$.registration.expires_on');
CREATE INDEX rights_by_expiry ON rights(expires_on) WHERE expires_on IS NOT NULL;

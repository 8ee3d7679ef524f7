-- The sweep index without its second tree: a listing's row keeps the terms
-- its latest version was indexed under (a JSON array), so replacing a
-- version deletes exactly those (term, listing) entries by their key. The
-- index by listing, which only that deletion used, cost a second B-tree
-- insert for every term of every listing stored.
ALTER TABLE listings ADD COLUMN terms TEXT;
UPDATE listings SET terms =
    (SELECT json_group_array(term) FROM listing_terms WHERE listing_id = listings.id);
DROP INDEX listing_terms_by_listing;

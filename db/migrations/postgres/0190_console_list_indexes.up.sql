-- The console's license lists filtered by policy or product, counted and
-- paged by cursor (newest first) at any depth from the index alone.
CREATE INDEX licenses_account_policy_created_idx ON licenses (account_id, policy_id, created_at, id);
CREATE INDEX licenses_account_product_created_idx ON licenses (account_id, product_id, created_at, id);

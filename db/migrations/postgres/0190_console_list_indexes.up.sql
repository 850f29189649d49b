-- The console's license lists filtered by policy or product, paged by
-- cursor (newest first) at any depth from the index alone; and the
-- overview's count of an account's licenses from the narrowest index.
CREATE INDEX licenses_account_policy_created_idx ON licenses (account_id, policy_id, created_at, id);
CREATE INDEX licenses_account_product_created_idx ON licenses (account_id, product_id, created_at, id);
CREATE INDEX licenses_account_idx ON licenses (account_id);

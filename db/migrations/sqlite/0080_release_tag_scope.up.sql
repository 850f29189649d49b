-- A release tag is unique per product and package, as in Keygen (scope: tag,
-- release_package_id, product_id, account_id); the account-wide index stays
-- for lookups by tag.
DROP INDEX releases_account_tag_idx;
CREATE INDEX releases_account_tag_idx ON releases (account_id, tag);
CREATE UNIQUE INDEX releases_product_package_tag_idx ON releases (product_id, COALESCE(package_id, ''), tag);

DROP INDEX releases_product_package_tag_idx;
DROP INDEX releases_account_tag_idx;
CREATE UNIQUE INDEX releases_account_tag_idx ON releases (account_id, tag);

-- Looking a release up by version (as upgrades and downloads do, with or
-- without a product) reads one index entry instead of every release of the
-- product: the unique index leads with the product, then COALESCE(package_id),
-- which a lookup without a package cannot use.
CREATE INDEX releases_account_version_idx ON releases (account_id, version);

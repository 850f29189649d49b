DROP TRIGGER packages_delete_releases;
DROP INDEX releases_package_idx;
DROP TABLE packages;

ALTER TABLE releases DROP CONSTRAINT releases_package_id_fkey;
DROP INDEX releases_package_idx;
DROP TABLE packages;

DROP INDEX licenses_metadata_idx;
DROP INDEX users_metadata_idx;
DROP INDEX machines_metadata_idx;
DROP INDEX products_metadata_idx;
DROP INDEX policies_metadata_idx;
DROP INDEX releases_metadata_idx;

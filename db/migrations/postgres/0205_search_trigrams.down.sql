DROP INDEX entitlements_code_trgm_idx;
DROP INDEX entitlements_name_trgm_idx;
DROP INDEX products_name_trgm_idx;
DROP INDEX policies_name_trgm_idx;
DROP INDEX licenses_name_trgm_idx;
DROP INDEX machines_fingerprint_trgm_idx;
DROP INDEX machines_name_trgm_idx;
DROP INDEX users_email_trgm_idx;
DROP INDEX users_first_name_trgm_idx;
DROP INDEX users_last_name_trgm_idx;
DROP INDEX releases_version_trgm_idx;
DROP INDEX releases_tag_trgm_idx;
DROP INDEX groups_name_trgm_idx;
-- pg_trgm stays: it may have been installed before this migration, and other schemas may use it.

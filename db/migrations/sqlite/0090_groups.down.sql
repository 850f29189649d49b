DROP INDEX machines_group_idx;
DROP INDEX licenses_group_idx;
DROP INDEX users_group_idx;
ALTER TABLE machines DROP COLUMN group_id;
ALTER TABLE licenses DROP COLUMN group_id;
ALTER TABLE users DROP COLUMN group_id;
DROP TABLE group_owners;
DROP TABLE groups;

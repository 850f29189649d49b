DROP TABLE rate_limits;
DROP INDEX tokens_account_created_idx;
DROP INDEX users_account_role_created_idx;
ALTER TABLE users DROP COLUMN password_reset_expiry;
ALTER TABLE users DROP COLUMN password_reset_digest;
ALTER TABLE tokens DROP COLUMN permissions;

ALTER TABLE tokens ADD COLUMN permissions jsonb;
ALTER TABLE users ADD COLUMN password_reset_digest text;
ALTER TABLE users ADD COLUMN password_reset_expiry timestamptz;
CREATE INDEX users_account_role_created_idx ON users (account_id, role, created_at, id);
CREATE INDEX tokens_account_created_idx ON tokens (account_id, created_at, id);

CREATE TABLE rate_limits (
    key          text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL
);
CREATE INDEX rate_limits_window_start_idx ON rate_limits (window_start);

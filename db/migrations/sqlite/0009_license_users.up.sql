CREATE TABLE license_users (
    id         text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    license_id text NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL
);
CREATE UNIQUE INDEX license_users_pair_idx ON license_users (license_id, user_id);
CREATE INDEX license_users_user_idx ON license_users (user_id);

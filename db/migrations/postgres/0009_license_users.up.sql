CREATE TABLE license_users (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    license_id uuid NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX license_users_pair_idx ON license_users (license_id, user_id);
CREATE INDEX license_users_user_idx ON license_users (user_id);

CREATE TABLE account_settings (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX account_settings_account_key_idx ON account_settings (account_id, key);
CREATE INDEX account_settings_account_created_idx ON account_settings (account_id, created_at, id);

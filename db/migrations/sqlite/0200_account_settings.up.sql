CREATE TABLE account_settings (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       text NOT NULL,
    created_at  datetime NOT NULL,
    updated_at  datetime NOT NULL
);
CREATE UNIQUE INDEX account_settings_account_key_idx ON account_settings (account_id, key);
CREATE INDEX account_settings_account_created_idx ON account_settings (account_id, created_at, id);

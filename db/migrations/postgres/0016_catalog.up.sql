-- Channels, platforms, arches and engines: read-only keys recorded per
-- account as releases, artifacts and packages use them.
CREATE TABLE catalog_entries (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    key        text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX catalog_entries_account_kind_key_idx ON catalog_entries (account_id, kind, key);

CREATE TABLE release_entitlement_constraints (
    id             text PRIMARY KEY,
    account_id     text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    release_id     text NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    entitlement_id text NOT NULL REFERENCES entitlements (id) ON DELETE CASCADE,
    created_at     datetime NOT NULL,
    updated_at     datetime NOT NULL
);
CREATE UNIQUE INDEX release_entitlement_constraints_pair_idx ON release_entitlement_constraints (release_id, entitlement_id);
CREATE INDEX release_entitlement_constraints_entitlement_idx ON release_entitlement_constraints (entitlement_id);

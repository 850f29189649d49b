CREATE TABLE release_entitlement_constraints (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    release_id     uuid NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    entitlement_id uuid NOT NULL REFERENCES entitlements (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX release_entitlement_constraints_pair_idx ON release_entitlement_constraints (release_id, entitlement_id);
CREATE INDEX release_entitlement_constraints_entitlement_idx ON release_entitlement_constraints (entitlement_id);

CREATE TABLE entitlements (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name       text NOT NULL,
    code       text NOT NULL,
    metadata   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX entitlements_account_code_idx ON entitlements (account_id, code);
CREATE INDEX entitlements_account_created_idx ON entitlements (account_id, created_at, id);

CREATE TABLE policy_entitlements (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    policy_id      uuid NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    entitlement_id uuid NOT NULL REFERENCES entitlements (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX policy_entitlements_pair_idx ON policy_entitlements (policy_id, entitlement_id);

CREATE TABLE license_entitlements (
    id             uuid PRIMARY KEY,
    account_id     uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    license_id     uuid NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    entitlement_id uuid NOT NULL REFERENCES entitlements (id) ON DELETE CASCADE,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX license_entitlements_pair_idx ON license_entitlements (license_id, entitlement_id);

CREATE TABLE components (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    machine_id  uuid NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    license_id  uuid NOT NULL,
    policy_id   uuid NOT NULL,
    product_id  uuid NOT NULL,
    fingerprint text NOT NULL,
    name        text NOT NULL,
    metadata    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX components_machine_fingerprint_idx ON components (machine_id, fingerprint);
CREATE INDEX components_account_fingerprint_idx ON components (account_id, fingerprint);

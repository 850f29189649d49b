CREATE TABLE components (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    machine_id  text NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    license_id  text NOT NULL,
    policy_id   text NOT NULL,
    product_id  text NOT NULL,
    fingerprint text NOT NULL,
    name        text NOT NULL,
    metadata    text NOT NULL DEFAULT '{}',
    created_at  datetime NOT NULL,
    updated_at  datetime NOT NULL
);
CREATE UNIQUE INDEX components_machine_fingerprint_idx ON components (machine_id, fingerprint);
CREATE INDEX components_account_fingerprint_idx ON components (account_id, fingerprint);

CREATE TABLE machines (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    license_id        uuid NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    policy_id         uuid NOT NULL,
    product_id        uuid NOT NULL,
    owner_id          uuid REFERENCES users (id) ON DELETE SET NULL,
    fingerprint       text NOT NULL,
    name              text,
    hostname          text,
    ip                text,
    platform          text,
    cores             bigint,
    memory            bigint,
    disk              bigint,
    last_heartbeat_at timestamptz,
    metadata          jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE UNIQUE INDEX machines_license_fingerprint_idx ON machines (license_id, fingerprint);
CREATE INDEX machines_account_fingerprint_idx ON machines (account_id, fingerprint);
CREATE INDEX machines_account_created_idx ON machines (account_id, created_at, id);

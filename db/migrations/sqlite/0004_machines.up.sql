CREATE TABLE machines (
    id                text PRIMARY KEY,
    account_id        text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    license_id        text NOT NULL REFERENCES licenses (id) ON DELETE CASCADE,
    policy_id         text NOT NULL,
    product_id        text NOT NULL,
    owner_id          text REFERENCES users (id) ON DELETE SET NULL,
    fingerprint       text NOT NULL,
    name              text,
    hostname          text,
    ip                text,
    platform          text,
    cores             bigint,
    memory            bigint,
    disk              bigint,
    last_heartbeat_at datetime,
    metadata          text NOT NULL DEFAULT '{}',
    created_at        datetime NOT NULL,
    updated_at        datetime NOT NULL
);
CREATE UNIQUE INDEX machines_license_fingerprint_idx ON machines (license_id, fingerprint);
CREATE INDEX machines_account_fingerprint_idx ON machines (account_id, fingerprint);
CREATE INDEX machines_account_created_idx ON machines (account_id, created_at, id);

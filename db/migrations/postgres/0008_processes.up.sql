CREATE TABLE processes (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    machine_id        uuid NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    license_id        uuid NOT NULL,
    policy_id         uuid NOT NULL,
    product_id        uuid NOT NULL,
    owner_id          uuid,
    pid               text NOT NULL,
    last_heartbeat_at timestamptz NOT NULL,
    metadata          jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE UNIQUE INDEX processes_machine_pid_idx ON processes (machine_id, pid);
CREATE INDEX processes_license_idx ON processes (license_id);
CREATE INDEX processes_policy_heartbeat_idx ON processes (policy_id, last_heartbeat_at);

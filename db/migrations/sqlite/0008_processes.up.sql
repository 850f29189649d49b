CREATE TABLE processes (
    id                text PRIMARY KEY,
    account_id        text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    machine_id        text NOT NULL REFERENCES machines (id) ON DELETE CASCADE,
    license_id        text NOT NULL,
    policy_id         text NOT NULL,
    product_id        text NOT NULL,
    owner_id          text,
    pid               text NOT NULL,
    last_heartbeat_at datetime NOT NULL,
    metadata          text NOT NULL DEFAULT '{}',
    created_at        datetime NOT NULL,
    updated_at        datetime NOT NULL
);
CREATE UNIQUE INDEX processes_machine_pid_idx ON processes (machine_id, pid);
CREATE INDEX processes_license_idx ON processes (license_id);
CREATE INDEX processes_policy_heartbeat_idx ON processes (policy_id, last_heartbeat_at);

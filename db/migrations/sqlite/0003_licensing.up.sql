CREATE TABLE policies (
    id                              text PRIMARY KEY,
    account_id                      text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id                      text NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name                            text NOT NULL,
    duration                        bigint,
    strict                          boolean NOT NULL DEFAULT false,
    floating                        boolean NOT NULL DEFAULT false,
    protected                       boolean NOT NULL DEFAULT false,
    max_machines                    bigint,
    max_processes                   bigint,
    max_users                       bigint,
    max_cores                       bigint,
    max_memory                      bigint,
    max_disk                        bigint,
    max_uses                        bigint,
    scheme                          text,
    require_product_scope           boolean NOT NULL DEFAULT false,
    require_policy_scope            boolean NOT NULL DEFAULT false,
    require_machine_scope           boolean NOT NULL DEFAULT false,
    require_fingerprint_scope       boolean NOT NULL DEFAULT false,
    require_components_scope        boolean NOT NULL DEFAULT false,
    require_user_scope              boolean NOT NULL DEFAULT false,
    require_checksum_scope          boolean NOT NULL DEFAULT false,
    require_version_scope           boolean NOT NULL DEFAULT false,
    require_check_in                boolean NOT NULL DEFAULT false,
    check_in_interval               text,
    check_in_interval_count         bigint,
    require_heartbeat               boolean NOT NULL DEFAULT false,
    heartbeat_duration              bigint,
    heartbeat_basis                 text NOT NULL,
    heartbeat_cull_strategy         text NOT NULL,
    heartbeat_resurrection_strategy text NOT NULL,
    machine_uniqueness_strategy     text NOT NULL,
    machine_matching_strategy       text NOT NULL,
    component_uniqueness_strategy   text NOT NULL,
    component_matching_strategy     text NOT NULL,
    expiration_strategy             text NOT NULL,
    expiration_basis                text NOT NULL,
    renewal_basis                   text NOT NULL,
    transfer_strategy               text NOT NULL,
    authentication_strategy         text NOT NULL,
    machine_leasing_strategy        text NOT NULL,
    process_leasing_strategy        text NOT NULL,
    overage_strategy                text NOT NULL,
    metadata                        text NOT NULL DEFAULT '{}',
    created_at                      datetime NOT NULL,
    updated_at                      datetime NOT NULL
);
CREATE INDEX policies_account_created_idx ON policies (account_id, created_at, id);
CREATE INDEX policies_product_idx ON policies (product_id);

CREATE TABLE licenses (
    id                     text PRIMARY KEY,
    account_id             text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id             text NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    policy_id              text NOT NULL REFERENCES policies (id),
    owner_id               text REFERENCES users (id) ON DELETE SET NULL,
    name                   text,
    key_digest             text NOT NULL,
    key_sealed             text NOT NULL,
    expiry                 datetime,
    suspended              boolean NOT NULL DEFAULT false,
    protected              boolean,
    uses                   bigint NOT NULL DEFAULT 0,
    max_machines           bigint,
    max_processes          bigint,
    max_users              bigint,
    max_cores              bigint,
    max_memory             bigint,
    max_disk               bigint,
    max_uses               bigint,
    last_validated_at      datetime,
    last_validated_version text,
    last_check_in_at       datetime,
    last_check_out_at      datetime,
    metadata               text NOT NULL DEFAULT '{}',
    created_at             datetime NOT NULL,
    updated_at             datetime NOT NULL
);
CREATE UNIQUE INDEX licenses_account_key_idx ON licenses (account_id, key_digest);
CREATE INDEX licenses_account_created_idx ON licenses (account_id, created_at, id);
CREATE INDEX licenses_policy_idx ON licenses (policy_id);
CREATE INDEX licenses_product_idx ON licenses (product_id, created_at, id);
CREATE INDEX licenses_owner_idx ON licenses (owner_id);

ALTER TABLE tokens ADD COLUMN max_activations bigint;
ALTER TABLE tokens ADD COLUMN activations bigint NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN max_deactivations bigint;
ALTER TABLE tokens ADD COLUMN deactivations bigint NOT NULL DEFAULT 0;

-- Pooled keys: a policy that uses a pool gives its new licenses the oldest
-- key of its pool (Keygen's keys). Keys are sealed at rest and found by
-- their digest, as licenses' keys are.
ALTER TABLE policies ADD COLUMN use_pool boolean NOT NULL DEFAULT 0;

CREATE TABLE keys (
    id         text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    policy_id  text NOT NULL REFERENCES policies (id) ON DELETE CASCADE,
    product_id text NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    key_digest text NOT NULL,
    key_sealed text NOT NULL,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL
);
CREATE UNIQUE INDEX keys_account_digest_idx ON keys (account_id, key_digest);
CREATE INDEX keys_account_created_idx ON keys (account_id, created_at, id);
CREATE INDEX keys_policy_created_idx ON keys (policy_id, created_at, id);

-- A user's TOTP second factor (one per user, as Keygen has it). The secret
-- is sealed with the master key; last_verified_step is the time step of
-- the last code accepted, so that no code works twice.
CREATE TABLE second_factors (
    id                 uuid PRIMARY KEY,
    account_id         uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed      text NOT NULL,
    enabled            boolean NOT NULL DEFAULT false,
    last_verified_step bigint NOT NULL DEFAULT 0,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE UNIQUE INDEX second_factors_user_idx ON second_factors (user_id);
CREATE INDEX second_factors_account_created_idx ON second_factors (account_id, created_at, id);

CREATE TABLE console_sessions (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    bearer_type text NOT NULL,
    bearer_id   text NOT NULL,
    digest      text NOT NULL,
    csrf        text NOT NULL,
    expires_at  datetime NOT NULL,
    revoked_at  datetime,
    created_at  datetime NOT NULL
);
CREATE UNIQUE INDEX console_sessions_digest_idx ON console_sessions (digest);
CREATE INDEX console_sessions_bearer_idx ON console_sessions (account_id, bearer_type, bearer_id);

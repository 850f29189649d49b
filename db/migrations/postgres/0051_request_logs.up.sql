-- The request log: one row per API request of an account, written in
-- batches off the request path. No bodies, keys, tokens or query strings.
CREATE TABLE request_logs (
    id            uuid PRIMARY KEY,
    account_id    uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    method        text NOT NULL,
    path          text NOT NULL,
    status        integer NOT NULL,
    ip            text NOT NULL,
    user_agent    text NOT NULL,
    request_id    text NOT NULL,
    bearer_type   text,
    bearer_id     text,
    resource_type text,
    resource_id   text,
    duration_ms   double precision NOT NULL,
    created_at    timestamptz NOT NULL
);
CREATE INDEX request_logs_account_created_idx ON request_logs (account_id, created_at);
CREATE INDEX request_logs_created_idx ON request_logs (created_at);

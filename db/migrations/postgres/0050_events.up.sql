-- The outbox and event log: one row per event, written in the transaction
-- of the change it records. fanned_out is false until the fan-out pass has
-- made the event's webhook deliveries.
CREATE TABLE events (
    id              uuid PRIMARY KEY,
    account_id      uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    event           text NOT NULL,
    resource_type   text NOT NULL,
    resource_id     text NOT NULL,
    product_id      uuid,
    whodunnit_type  text,
    whodunnit_id    text,
    request_id      text,
    idempotency_key text NOT NULL,
    metadata        jsonb,
    payload         text NOT NULL,
    fanned_out      boolean NOT NULL DEFAULT false,
    -- What a scheduled event is about (a license's expiry), so that it is
    -- emitted once per occurrence whichever replica's pass finds it first.
    occurrence      text,
    created_at      timestamptz NOT NULL
);
CREATE INDEX events_account_created_idx ON events (account_id, created_at);
CREATE INDEX events_pending_idx ON events (created_at) WHERE NOT fanned_out;
CREATE INDEX events_created_idx ON events (created_at);
CREATE UNIQUE INDEX events_occurrence_idx ON events (account_id, event, resource_id, occurrence) WHERE occurrence IS NOT NULL;
-- The scheduled pass looks for licenses expiring around now.
CREATE INDEX licenses_expiry_idx ON licenses (expiry) WHERE expiry IS NOT NULL;

CREATE TABLE webhook_endpoints (
    id                  uuid PRIMARY KEY,
    account_id          uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id          uuid REFERENCES products (id) ON DELETE CASCADE,
    url                 text NOT NULL,
    subscriptions       jsonb NOT NULL,
    signature_algorithm text NOT NULL,
    api_version         text NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_account_idx ON webhook_endpoints (account_id, created_at);

-- One delivery of an event to an endpoint. A replica claims a due row by
-- setting claimed_until; another replica takes it only once the claim ran out.
CREATE TABLE webhook_events (
    id                 uuid PRIMARY KEY,
    account_id         uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    endpoint_id        uuid REFERENCES webhook_endpoints (id) ON DELETE SET NULL,
    endpoint           text NOT NULL,
    event_id           uuid NOT NULL,
    event              text NOT NULL,
    api_version        text NOT NULL,
    payload            text NOT NULL,
    status             text NOT NULL,
    attempts           integer NOT NULL DEFAULT 0,
    next_attempt_at    timestamptz NOT NULL,
    claimed_until      timestamptz,
    last_response_code integer,
    last_response_body text,
    idempotency_token  text NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX webhook_events_account_created_idx ON webhook_events (account_id, created_at);
CREATE INDEX webhook_events_due_idx ON webhook_events (next_attempt_at) WHERE status IN ('DELIVERING', 'FAILING');

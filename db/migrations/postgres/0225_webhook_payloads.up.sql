-- A delivery's payload is its event's document, the same for every endpoint
-- and attempt: kept once per event, out of the delivery rows that claims and
-- attempts rewrite.
CREATE TABLE webhook_payloads (
    event_id   uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    payload    text NOT NULL
);
INSERT INTO webhook_payloads (event_id, account_id, payload)
    SELECT DISTINCT ON (event_id) event_id, account_id, payload FROM webhook_events ORDER BY event_id;
ALTER TABLE webhook_events DROP COLUMN payload;

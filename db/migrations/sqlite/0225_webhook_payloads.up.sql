-- A delivery's payload is its event's document, the same for every endpoint
-- and attempt: kept once per event, out of the delivery rows that claims and
-- attempts rewrite.
CREATE TABLE webhook_payloads (
    event_id   text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    payload    text NOT NULL
);
INSERT INTO webhook_payloads (event_id, account_id, payload)
    SELECT event_id, MIN(account_id), MIN(payload) FROM webhook_events GROUP BY event_id;
ALTER TABLE webhook_events DROP COLUMN payload;

ALTER TABLE webhook_events ADD COLUMN payload text NOT NULL DEFAULT '';
UPDATE webhook_events SET payload = (SELECT p.payload FROM webhook_payloads p WHERE p.event_id = webhook_events.event_id);
DROP TABLE webhook_payloads;

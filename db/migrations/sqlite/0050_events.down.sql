DROP INDEX licenses_expiry_idx;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
DROP TABLE events;

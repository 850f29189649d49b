DROP INDEX artifacts_waiting_idx;
CREATE INDEX artifacts_status_created_idx ON artifacts (status, created_at);
DROP INDEX releases_intermediate_idx;

-- The tables written on every validation (events, request logs, usage
-- analytics) no longer check each row against accounts: accounts are never
-- deleted (Keygen CE refuses DELETE /v1/accounts/:id to every bearer), so
-- the check bought nothing and cost a lookup and a row lock per row.
ALTER TABLE events DROP CONSTRAINT IF EXISTS events_account_id_fkey;
ALTER TABLE request_logs DROP CONSTRAINT IF EXISTS request_logs_account_id_fkey;
ALTER TABLE analytics_minutes DROP CONSTRAINT IF EXISTS analytics_minutes_account_id_fkey;
ALTER TABLE analytics_minute_devices DROP CONSTRAINT IF EXISTS analytics_minute_devices_account_id_fkey;
ALTER TABLE analytics_hours DROP CONSTRAINT IF EXISTS analytics_hours_account_id_fkey;
ALTER TABLE analytics_hour_devices DROP CONSTRAINT IF EXISTS analytics_hour_devices_account_id_fkey;
ALTER TABLE analytics_days DROP CONSTRAINT IF EXISTS analytics_days_account_id_fkey;
ALTER TABLE analytics_day_devices DROP CONSTRAINT IF EXISTS analytics_day_devices_account_id_fkey;
-- Validations rewrite licenses.last_validated_at all day: room on each page
-- lets PostgreSQL update in place (HOT) instead of touching every index.
ALTER TABLE licenses SET (fillfactor = 80);
-- Each activation and deactivation rewrites its license's totals row.
ALTER TABLE license_machine_totals SET (fillfactor = 50);

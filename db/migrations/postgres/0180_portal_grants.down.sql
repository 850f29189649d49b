ALTER TABLE console_sessions DROP COLUMN portal_grant;

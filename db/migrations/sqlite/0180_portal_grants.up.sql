ALTER TABLE console_sessions ADD COLUMN portal_grant text;

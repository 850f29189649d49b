ALTER TABLE releases DROP COLUMN download_count;
DROP TABLE artifacts;

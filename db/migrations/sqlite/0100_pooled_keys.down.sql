DROP TABLE keys;
ALTER TABLE policies DROP COLUMN use_pool;

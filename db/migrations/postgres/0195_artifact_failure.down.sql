ALTER TABLE artifacts DROP COLUMN failure;

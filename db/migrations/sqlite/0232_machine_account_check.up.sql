-- PostgreSQL drops the account foreign key of machines, whose share locks
-- on the account's row queued concurrent activations; SQLite checks a
-- foreign key with one in-process index probe under its single writer, so
-- nothing changes here.
SELECT 1;

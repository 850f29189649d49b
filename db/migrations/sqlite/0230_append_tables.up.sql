-- PostgreSQL drops the account foreign keys of the tables validations write
-- and leaves room on license and machine-totals pages for in-place updates;
-- SQLite checks a
-- foreign key with one in-process index probe and updates rows in place,
-- so nothing changes here.
SELECT 1;

-- SQLite has no index over JSON containment; searches stay scoped by the account indexes.
SELECT 1;

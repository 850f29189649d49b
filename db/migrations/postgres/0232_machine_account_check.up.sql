-- An activation no longer checks its machine row against accounts. The
-- check took a share lock on the account's one row for every machine
-- inserted, so an account's concurrent activations piled up on that row
-- (PostgreSQL records several lockers of a row as a multixact: 93 µs per
-- check in the benchmark, against 28 µs for the license's own check).
-- Accounts are never deleted (see 0230), and a machine's account is its
-- license's, which the license foreign key still checks.
ALTER TABLE machines DROP CONSTRAINT IF EXISTS machines_account_id_fkey;

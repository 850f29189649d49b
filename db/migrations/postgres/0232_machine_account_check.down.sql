ALTER TABLE machines ADD CONSTRAINT machines_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE;

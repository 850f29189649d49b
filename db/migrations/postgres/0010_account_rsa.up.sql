ALTER TABLE accounts ADD COLUMN rsa_private_key text;
ALTER TABLE accounts ADD COLUMN rsa_public_key text;

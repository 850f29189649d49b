ALTER TABLE accounts DROP COLUMN rsa_public_key;
ALTER TABLE accounts DROP COLUMN rsa_private_key;

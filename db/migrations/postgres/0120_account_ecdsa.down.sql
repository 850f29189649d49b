ALTER TABLE accounts DROP COLUMN ecdsa_public_key;
ALTER TABLE accounts DROP COLUMN ecdsa_private_key;

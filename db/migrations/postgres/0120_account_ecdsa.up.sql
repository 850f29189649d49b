ALTER TABLE accounts ADD COLUMN ecdsa_private_key text;
ALTER TABLE accounts ADD COLUMN ecdsa_public_key text;

-- An account's default Keygen API version (Keygen's api_version); NULL = the latest.
ALTER TABLE accounts ADD COLUMN api_version text;

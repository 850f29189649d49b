-- Trigram indexes under the text columns search matches by substring (ILIKE
-- '%term%'): internal/search's indexed lists the same columns.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX entitlements_code_trgm_idx ON entitlements USING gin (code gin_trgm_ops);
CREATE INDEX entitlements_name_trgm_idx ON entitlements USING gin (name gin_trgm_ops);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX policies_name_trgm_idx ON policies USING gin (name gin_trgm_ops);
CREATE INDEX licenses_name_trgm_idx ON licenses USING gin (name gin_trgm_ops);
CREATE INDEX machines_fingerprint_trgm_idx ON machines USING gin (fingerprint gin_trgm_ops);
CREATE INDEX machines_name_trgm_idx ON machines USING gin (name gin_trgm_ops);
CREATE INDEX users_email_trgm_idx ON users USING gin (email gin_trgm_ops);
CREATE INDEX users_first_name_trgm_idx ON users USING gin (first_name gin_trgm_ops);
CREATE INDEX users_last_name_trgm_idx ON users USING gin (last_name gin_trgm_ops);
CREATE INDEX releases_version_trgm_idx ON releases USING gin (version gin_trgm_ops);
CREATE INDEX releases_tag_trgm_idx ON releases USING gin (tag gin_trgm_ops);
CREATE INDEX groups_name_trgm_idx ON groups USING gin (name gin_trgm_ops);

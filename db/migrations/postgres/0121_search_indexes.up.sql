CREATE INDEX licenses_metadata_idx ON licenses USING gin (metadata jsonb_path_ops);
CREATE INDEX users_metadata_idx ON users USING gin (metadata jsonb_path_ops);
CREATE INDEX machines_metadata_idx ON machines USING gin (metadata jsonb_path_ops);
CREATE INDEX products_metadata_idx ON products USING gin (metadata jsonb_path_ops);
CREATE INDEX policies_metadata_idx ON policies USING gin (metadata jsonb_path_ops);
CREATE INDEX releases_metadata_idx ON releases USING gin (metadata jsonb_path_ops);

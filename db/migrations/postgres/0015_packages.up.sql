CREATE TABLE packages (
    id         uuid PRIMARY KEY,
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name       text NOT NULL,
    key        text NOT NULL,
    engine     text,
    metadata   jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX packages_account_key_idx ON packages (account_id, key);
CREATE INDEX packages_account_created_idx ON packages (account_id, created_at, id);
CREATE INDEX packages_product_idx ON packages (product_id);
CREATE INDEX releases_package_idx ON releases (package_id);
ALTER TABLE releases ADD CONSTRAINT releases_package_id_fkey FOREIGN KEY (package_id) REFERENCES packages (id) ON DELETE CASCADE;

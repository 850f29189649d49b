CREATE TABLE packages (
    id         text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id text NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    name       text NOT NULL,
    key        text NOT NULL,
    engine     text,
    metadata   text NOT NULL DEFAULT '{}',
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL
);
CREATE UNIQUE INDEX packages_account_key_idx ON packages (account_id, key);
CREATE INDEX packages_account_created_idx ON packages (account_id, created_at, id);
CREATE INDEX packages_product_idx ON packages (product_id);
CREATE INDEX releases_package_idx ON releases (package_id);
-- SQLite cannot add a foreign key to an existing column: a package's
-- releases go with it through this trigger instead (as ON DELETE CASCADE
-- does on PostgreSQL).
CREATE TRIGGER packages_delete_releases AFTER DELETE ON packages
BEGIN
    DELETE FROM releases WHERE package_id = OLD.id;
END;

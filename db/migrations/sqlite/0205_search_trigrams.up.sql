-- A trigram FTS5 index per searched table, under the text columns search
-- matches by substring (internal/search's indexed lists the same columns).
-- Contentless, keyed by the table's rowid (VACUUM and VACUUM INTO keep
-- rowids), kept by triggers (an update that keeps the text leaves the index
-- be); search matches MATCH's candidates by LIKE again, so that case folds
-- as LIKE's does.
CREATE VIRTUAL TABLE entitlements_search USING fts5(code, name, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO entitlements_search (rowid, code, name) SELECT rowid, code, name FROM entitlements;
CREATE TRIGGER entitlements_search_insert AFTER INSERT ON entitlements BEGIN
    INSERT INTO entitlements_search (rowid, code, name) VALUES (new.rowid, new.code, new.name);
END;
CREATE TRIGGER entitlements_search_update AFTER UPDATE OF code, name ON entitlements
WHEN old.code IS NOT new.code OR old.name IS NOT new.name BEGIN
    DELETE FROM entitlements_search WHERE rowid = old.rowid;
    INSERT INTO entitlements_search (rowid, code, name) VALUES (new.rowid, new.code, new.name);
END;
CREATE TRIGGER entitlements_search_delete AFTER DELETE ON entitlements BEGIN
    DELETE FROM entitlements_search WHERE rowid = old.rowid;
END;
CREATE VIRTUAL TABLE products_search USING fts5(name, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO products_search (rowid, name) SELECT rowid, name FROM products;
CREATE TRIGGER products_search_insert AFTER INSERT ON products BEGIN
    INSERT INTO products_search (rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER products_search_update AFTER UPDATE OF name ON products
WHEN old.name IS NOT new.name BEGIN
    DELETE FROM products_search WHERE rowid = old.rowid;
    INSERT INTO products_search (rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER products_search_delete AFTER DELETE ON products BEGIN
    DELETE FROM products_search WHERE rowid = old.rowid;
END;
CREATE VIRTUAL TABLE policies_search USING fts5(name, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO policies_search (rowid, name) SELECT rowid, name FROM policies;
CREATE TRIGGER policies_search_insert AFTER INSERT ON policies BEGIN
    INSERT INTO policies_search (rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER policies_search_update AFTER UPDATE OF name ON policies
WHEN old.name IS NOT new.name BEGIN
    DELETE FROM policies_search WHERE rowid = old.rowid;
    INSERT INTO policies_search (rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER policies_search_delete AFTER DELETE ON policies BEGIN
    DELETE FROM policies_search WHERE rowid = old.rowid;
END;
CREATE VIRTUAL TABLE licenses_search USING fts5(name, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO licenses_search (rowid, name) SELECT rowid, name FROM licenses;
CREATE TRIGGER licenses_search_insert AFTER INSERT ON licenses BEGIN
    INSERT INTO licenses_search (rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER licenses_search_update AFTER UPDATE OF name ON licenses
WHEN old.name IS NOT new.name BEGIN
    DELETE FROM licenses_search WHERE rowid = old.rowid;
    INSERT INTO licenses_search (rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER licenses_search_delete AFTER DELETE ON licenses BEGIN
    DELETE FROM licenses_search WHERE rowid = old.rowid;
END;
CREATE VIRTUAL TABLE machines_search USING fts5(fingerprint, name, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO machines_search (rowid, fingerprint, name) SELECT rowid, fingerprint, name FROM machines;
CREATE TRIGGER machines_search_insert AFTER INSERT ON machines BEGIN
    INSERT INTO machines_search (rowid, fingerprint, name) VALUES (new.rowid, new.fingerprint, new.name);
END;
CREATE TRIGGER machines_search_update AFTER UPDATE OF fingerprint, name ON machines
WHEN old.fingerprint IS NOT new.fingerprint OR old.name IS NOT new.name BEGIN
    DELETE FROM machines_search WHERE rowid = old.rowid;
    INSERT INTO machines_search (rowid, fingerprint, name) VALUES (new.rowid, new.fingerprint, new.name);
END;
CREATE TRIGGER machines_search_delete AFTER DELETE ON machines BEGIN
    DELETE FROM machines_search WHERE rowid = old.rowid;
END;
CREATE VIRTUAL TABLE users_search USING fts5(email, first_name, last_name, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO users_search (rowid, email, first_name, last_name) SELECT rowid, email, first_name, last_name FROM users;
CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO users_search (rowid, email, first_name, last_name) VALUES (new.rowid, new.email, new.first_name, new.last_name);
END;
CREATE TRIGGER users_search_update AFTER UPDATE OF email, first_name, last_name ON users
WHEN old.email IS NOT new.email OR old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name BEGIN
    DELETE FROM users_search WHERE rowid = old.rowid;
    INSERT INTO users_search (rowid, email, first_name, last_name) VALUES (new.rowid, new.email, new.first_name, new.last_name);
END;
CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM users_search WHERE rowid = old.rowid;
END;
CREATE VIRTUAL TABLE releases_search USING fts5(version, tag, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO releases_search (rowid, version, tag) SELECT rowid, version, tag FROM releases;
CREATE TRIGGER releases_search_insert AFTER INSERT ON releases BEGIN
    INSERT INTO releases_search (rowid, version, tag) VALUES (new.rowid, new.version, new.tag);
END;
CREATE TRIGGER releases_search_update AFTER UPDATE OF version, tag ON releases
WHEN old.version IS NOT new.version OR old.tag IS NOT new.tag BEGIN
    DELETE FROM releases_search WHERE rowid = old.rowid;
    INSERT INTO releases_search (rowid, version, tag) VALUES (new.rowid, new.version, new.tag);
END;
CREATE TRIGGER releases_search_delete AFTER DELETE ON releases BEGIN
    DELETE FROM releases_search WHERE rowid = old.rowid;
END;
CREATE VIRTUAL TABLE groups_search USING fts5(name, content='', contentless_delete=1, tokenize='trigram');
INSERT INTO groups_search (rowid, name) SELECT rowid, name FROM groups;
CREATE TRIGGER groups_search_insert AFTER INSERT ON groups BEGIN
    INSERT INTO groups_search (rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER groups_search_update AFTER UPDATE OF name ON groups
WHEN old.name IS NOT new.name BEGIN
    DELETE FROM groups_search WHERE rowid = old.rowid;
    INSERT INTO groups_search (rowid, name) VALUES (new.rowid, new.name);
END;
CREATE TRIGGER groups_search_delete AFTER DELETE ON groups BEGIN
    DELETE FROM groups_search WHERE rowid = old.rowid;
END;

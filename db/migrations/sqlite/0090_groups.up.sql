-- Groups gather users, licenses and machines under optional limits; group
-- owners are users who see what their groups hold.
CREATE TABLE groups (
    id           text PRIMARY KEY,
    account_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name         text NOT NULL,
    max_users    integer,
    max_licenses integer,
    max_machines integer,
    metadata     text NOT NULL DEFAULT '{}',
    created_at   datetime NOT NULL,
    updated_at   datetime NOT NULL
);
CREATE INDEX groups_account_created_idx ON groups (account_id, created_at, id);

CREATE TABLE group_owners (
    id         text PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    group_id   text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at datetime NOT NULL,
    updated_at datetime NOT NULL
);
CREATE UNIQUE INDEX group_owners_group_user_idx ON group_owners (group_id, user_id);
CREATE INDEX group_owners_user_idx ON group_owners (user_id);

ALTER TABLE users ADD COLUMN group_id text REFERENCES groups (id) ON DELETE SET NULL;
ALTER TABLE licenses ADD COLUMN group_id text REFERENCES groups (id) ON DELETE SET NULL;
ALTER TABLE machines ADD COLUMN group_id text REFERENCES groups (id) ON DELETE SET NULL;
CREATE INDEX users_group_idx ON users (group_id, created_at, id) WHERE group_id IS NOT NULL;
CREATE INDEX licenses_group_idx ON licenses (group_id, created_at, id) WHERE group_id IS NOT NULL;
CREATE INDEX machines_group_idx ON machines (group_id, created_at, id) WHERE group_id IS NOT NULL;

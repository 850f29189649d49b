CREATE TABLE artifacts (
    id          uuid PRIMARY KEY,
    account_id  uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    release_id  uuid NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    product_id  uuid NOT NULL,
    filename    text NOT NULL,
    filetype    text,
    filesize    bigint,
    platform    text,
    arch        text,
    checksum    text,
    signature   text,
    status      text NOT NULL,
    storage_key text NOT NULL,
    metadata    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX artifacts_release_filename_idx ON artifacts (release_id, filename);
CREATE INDEX artifacts_account_filename_idx ON artifacts (account_id, filename);
CREATE INDEX artifacts_account_created_idx ON artifacts (account_id, created_at, id);
CREATE INDEX artifacts_status_created_idx ON artifacts (status, created_at);
ALTER TABLE releases ADD COLUMN download_count bigint NOT NULL DEFAULT 0;

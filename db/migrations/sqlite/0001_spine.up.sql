CREATE TABLE accounts (
    id                  text PRIMARY KEY,
    slug                text NOT NULL,
    name                text NOT NULL,
    protected           boolean NOT NULL DEFAULT false,
    ed25519_public_key  text NOT NULL,
    ed25519_private_key text NOT NULL,
    secret_key          text NOT NULL,
    created_at          datetime NOT NULL,
    updated_at          datetime NOT NULL
);
CREATE UNIQUE INDEX accounts_slug_idx ON accounts (slug);

CREATE TABLE users (
    id              text PRIMARY KEY,
    account_id      text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email           text NOT NULL,
    first_name      text,
    last_name       text,
    password_digest text,
    role            text NOT NULL,
    banned_at       datetime,
    metadata        text NOT NULL DEFAULT '{}',
    created_at      datetime NOT NULL,
    updated_at      datetime NOT NULL
);
CREATE UNIQUE INDEX users_account_email_idx ON users (account_id, lower(email));
CREATE INDEX users_account_created_idx ON users (account_id, created_at, id);

CREATE TABLE tokens (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    bearer_type text NOT NULL,
    bearer_id   text NOT NULL,
    kind        text NOT NULL,
    digest      text NOT NULL,
    name        text,
    expiry      datetime,
    created_at  datetime NOT NULL,
    updated_at  datetime NOT NULL
);
CREATE UNIQUE INDEX tokens_digest_idx ON tokens (digest);
CREATE INDEX tokens_account_bearer_idx ON tokens (account_id, bearer_type, bearer_id);

CREATE TABLE products (
    id                    text PRIMARY KEY,
    account_id            text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name                  text NOT NULL,
    code                  text,
    distribution_strategy text NOT NULL,
    url                   text,
    platforms             text,
    metadata              text NOT NULL DEFAULT '{}',
    created_at            datetime NOT NULL,
    updated_at            datetime NOT NULL
);
CREATE UNIQUE INDEX products_account_code_idx ON products (account_id, lower(code));
CREATE INDEX products_account_created_idx ON products (account_id, created_at, id);

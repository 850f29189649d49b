-- Mail waiting to be sent (password reset tokens): written in the
-- transaction of the request that causes it, claimed by one replica's pass
-- at a time through lease_until, deleted once sent. body_sealed is sealed
-- with the master key.
CREATE TABLE mail_outbox (
    id          text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    recipient   text NOT NULL,
    subject     text NOT NULL,
    body_sealed text NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    not_before  datetime NOT NULL,
    lease_until datetime,
    created_at  datetime NOT NULL
);
CREATE INDEX mail_outbox_due_idx ON mail_outbox (not_before);

-- Which replica runs each background pass until when: a pass runs on one replica at a time.
CREATE TABLE job_leases (
    name   text PRIMARY KEY,
    holder text NOT NULL,
    until  timestamptz NOT NULL
);

-- Usage analytics per hour (issue 14), kept 35 days: the days of another
-- offset than UTC (Nucleus's utcOffset) are made of hours. Hours are unix
-- hours. Counters are additive upserts; device sets (all devices, and by
-- version and platform) are one row per writer, merged on read.
CREATE TABLE analytics_hours (
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id text NOT NULL,
    hour       bigint NOT NULL,
    kind       text NOT NULL,
    result     text NOT NULL,
    count      bigint NOT NULL,
    PRIMARY KEY (account_id, product_id, hour, kind, result)
);
CREATE INDEX analytics_hours_hour_idx ON analytics_hours (hour);

CREATE TABLE analytics_hour_devices (
    account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id text NOT NULL,
    hour       bigint NOT NULL,
    dim        text NOT NULL,
    value      text NOT NULL,
    writer     text NOT NULL,
    devices    bytea NOT NULL,
    PRIMARY KEY (account_id, product_id, dim, hour, value, writer)
);
CREATE INDEX analytics_hour_devices_hour_idx ON analytics_hour_devices (hour);

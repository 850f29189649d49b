-- Usage analytics (issue 14): counters and distinct-device sets of the usage
-- signals, written in batches by each replica's analytics buffer. Minutes
-- are unix minutes and days unix days (UTC). Counters are additive upserts;
-- device sets are one row per writer (a replica process), merged on read.
CREATE TABLE analytics_minutes (
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id text NOT NULL,
    minute     bigint NOT NULL,
    kind       text NOT NULL,
    result     text NOT NULL,
    count      bigint NOT NULL,
    PRIMARY KEY (account_id, product_id, minute, kind, result)
);
CREATE INDEX analytics_minutes_minute_idx ON analytics_minutes (minute);

CREATE TABLE analytics_minute_devices (
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id text NOT NULL,
    minute     bigint NOT NULL,
    writer     text NOT NULL,
    devices    blob NOT NULL,
    PRIMARY KEY (account_id, product_id, minute, writer)
);
CREATE INDEX analytics_minute_devices_minute_idx ON analytics_minute_devices (minute);

CREATE TABLE analytics_days (
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id text NOT NULL,
    day        integer NOT NULL,
    kind       text NOT NULL,
    dim        text NOT NULL,
    value      text NOT NULL,
    count      bigint NOT NULL,
    PRIMARY KEY (account_id, product_id, dim, day, kind, value)
);
CREATE INDEX analytics_days_day_idx ON analytics_days (day);

CREATE TABLE analytics_day_devices (
    account_id text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id text NOT NULL,
    day        integer NOT NULL,
    dim        text NOT NULL,
    value      text NOT NULL,
    writer     text NOT NULL,
    devices    blob NOT NULL,
    PRIMARY KEY (account_id, product_id, dim, day, value, writer)
);
CREATE INDEX analytics_day_devices_day_idx ON analytics_day_devices (day);

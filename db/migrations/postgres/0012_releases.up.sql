CREATE TABLE releases (
    id                uuid PRIMARY KEY,
    account_id        uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id        uuid NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    package_id        uuid,
    name              text,
    description       text,
    channel           text NOT NULL,
    status            text NOT NULL,
    version           text NOT NULL,
    tag               text,
    semver_major      bigint NOT NULL,
    semver_minor      bigint NOT NULL,
    semver_patch      bigint NOT NULL,
    semver_pre_word   text,
    semver_pre_num    bigint,
    semver_build_word text,
    semver_build_num  bigint,
    backdated_to      timestamptz,
    yanked_at         timestamptz,
    metadata          jsonb NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
CREATE UNIQUE INDEX releases_product_package_version_idx ON releases (product_id, COALESCE(package_id::text, ''), version);
CREATE UNIQUE INDEX releases_account_tag_idx ON releases (account_id, tag);
CREATE INDEX releases_account_created_idx ON releases (account_id, created_at, id);
CREATE INDEX releases_semver_idx ON releases (product_id, status, semver_major DESC, semver_minor DESC, semver_patch DESC,
    semver_pre_word DESC NULLS FIRST, semver_pre_num DESC, semver_build_word DESC, semver_build_num DESC);

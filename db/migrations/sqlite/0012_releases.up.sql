CREATE TABLE releases (
    id                text PRIMARY KEY,
    account_id        text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    product_id        text NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    package_id        text,
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
    backdated_to      datetime,
    yanked_at         datetime,
    metadata          text NOT NULL DEFAULT '{}',
    created_at        datetime NOT NULL,
    updated_at        datetime NOT NULL
);
CREATE UNIQUE INDEX releases_product_package_version_idx ON releases (product_id, COALESCE(package_id, ''), version);
CREATE UNIQUE INDEX releases_account_tag_idx ON releases (account_id, tag);
CREATE INDEX releases_account_created_idx ON releases (account_id, created_at, id);
CREATE INDEX releases_semver_idx ON releases (product_id, status, semver_major DESC, semver_minor DESC, semver_patch DESC,
    semver_pre_word DESC, semver_pre_num DESC, semver_build_word DESC, semver_build_num DESC);

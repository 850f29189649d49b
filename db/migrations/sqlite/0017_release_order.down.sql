DROP INDEX releases_latest_idx;
CREATE INDEX releases_semver_idx ON releases (product_id, status, semver_major DESC, semver_minor DESC, semver_patch DESC,
    semver_pre_word DESC, semver_pre_num DESC, semver_build_word DESC, semver_build_num DESC);

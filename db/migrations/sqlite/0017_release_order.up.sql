-- "Newest version first" as expressions that sort the same way on both
-- engines (no reliance on where each puts NULLs), so an index walk serves
-- upgrades and filename lookups without sorting the candidates.
DROP INDEX releases_semver_idx;
CREATE INDEX releases_latest_idx ON releases (product_id, status, semver_major DESC, semver_minor DESC, semver_patch DESC,
    (semver_pre_word IS NULL) DESC, COALESCE(semver_pre_word, '') DESC, COALESCE(semver_pre_num, -1) DESC,
    COALESCE(semver_build_word, '') DESC, COALESCE(semver_build_num, -1) DESC, created_at DESC);

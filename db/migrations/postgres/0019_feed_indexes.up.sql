-- The required intermediate releases of a product in version order, so a
-- feed finds the oldest one above a client's version by walking those alone,
-- not every release above it.
CREATE INDEX releases_intermediate_idx ON releases (product_id, status, semver_major DESC, semver_minor DESC, semver_patch DESC,
    (semver_pre_word IS NULL) DESC, COALESCE(semver_pre_word, '') DESC, COALESCE(semver_pre_num, -1) DESC,
    COALESCE(semver_build_word, '') DESC, COALESCE(semver_build_num, -1) DESC, created_at DESC)
    WHERE metadata->>'required_intermediate' = 'true';

-- Artifacts by status served only the sweep of waiting uploads; without
-- statistics both planners took it for "status = 'UPLOADED'" (nearly every
-- artifact) and read the account's artifacts to find one release's.
DROP INDEX artifacts_status_created_idx;
CREATE INDEX artifacts_waiting_idx ON artifacts (created_at) WHERE status = 'WAITING';

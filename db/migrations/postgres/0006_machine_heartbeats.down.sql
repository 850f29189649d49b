DROP INDEX policies_cull_idx;
DROP INDEX machines_policy_heartbeat_idx;

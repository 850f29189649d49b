CREATE INDEX machines_policy_heartbeat_idx ON machines (policy_id, last_heartbeat_at);
CREATE INDEX policies_cull_idx ON policies (heartbeat_cull_strategy);

ALTER TABLE tokens DROP COLUMN deactivations;
ALTER TABLE tokens DROP COLUMN max_deactivations;
ALTER TABLE tokens DROP COLUMN activations;
ALTER TABLE tokens DROP COLUMN max_activations;
DROP TABLE licenses;
DROP TABLE policies;

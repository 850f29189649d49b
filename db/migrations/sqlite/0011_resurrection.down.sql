ALTER TABLE processes DROP COLUMN resurrected_at;
ALTER TABLE machines DROP COLUMN resurrected_at;

ALTER TABLE machines ADD COLUMN resurrected_at datetime;
ALTER TABLE processes ADD COLUMN resurrected_at datetime;

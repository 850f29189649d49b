ALTER TABLE machines ADD COLUMN resurrected_at timestamptz;
ALTER TABLE processes ADD COLUMN resurrected_at timestamptz;

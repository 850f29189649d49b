-- A license's machine totals, kept by triggers in the transaction of every
-- change to its machines, so that activation reads (and locks) one row
-- instead of summing the license's machines. Every license has its row
-- from its creation: an activation's lock always finds it.
CREATE TABLE license_machine_totals (
    license_id uuid PRIMARY KEY REFERENCES licenses (id) ON DELETE CASCADE,
    machines   bigint NOT NULL DEFAULT 0,
    cores      bigint NOT NULL DEFAULT 0,
    memory     bigint NOT NULL DEFAULT 0,
    disk       bigint NOT NULL DEFAULT 0
);
INSERT INTO license_machine_totals (license_id, machines, cores, memory, disk)
SELECT l.id, COUNT(m.id), COALESCE(SUM(m.cores), 0), COALESCE(SUM(m.memory), 0), COALESCE(SUM(m.disk), 0)
FROM licenses l LEFT JOIN machines m ON m.license_id = l.id GROUP BY l.id;

CREATE FUNCTION license_machine_totals_open() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO license_machine_totals (license_id) VALUES (NEW.id);
    RETURN NULL;
END $$;
CREATE TRIGGER licenses_machine_totals AFTER INSERT ON licenses
    FOR EACH ROW EXECUTE FUNCTION license_machine_totals_open();

CREATE FUNCTION license_machine_totals_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        UPDATE license_machine_totals SET machines = machines - 1, cores = cores - COALESCE(OLD.cores, 0),
            memory = memory - COALESCE(OLD.memory, 0), disk = disk - COALESCE(OLD.disk, 0)
        WHERE license_id = OLD.license_id;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE license_machine_totals SET machines = machines + 1, cores = cores + COALESCE(NEW.cores, 0),
            memory = memory + COALESCE(NEW.memory, 0), disk = disk + COALESCE(NEW.disk, 0)
        WHERE license_id = NEW.license_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER machines_license_totals AFTER INSERT OR DELETE ON machines
    FOR EACH ROW EXECUTE FUNCTION license_machine_totals_count();
-- Saves write every column: only a change of the counted ones moves totals.
CREATE TRIGGER machines_license_totals_change AFTER UPDATE OF license_id, cores, memory, disk ON machines
    FOR EACH ROW WHEN (OLD.license_id IS DISTINCT FROM NEW.license_id OR OLD.cores IS DISTINCT FROM NEW.cores
        OR OLD.memory IS DISTINCT FROM NEW.memory OR OLD.disk IS DISTINCT FROM NEW.disk)
    EXECUTE FUNCTION license_machine_totals_count();

-- A license's machine totals, kept by triggers in the transaction of every
-- change to its machines, so that activation reads one row instead of
-- summing the license's machines. Every license has its row from its
-- creation.
CREATE TABLE license_machine_totals (
    license_id text PRIMARY KEY REFERENCES licenses (id) ON DELETE CASCADE,
    machines   bigint NOT NULL DEFAULT 0,
    cores      bigint NOT NULL DEFAULT 0,
    memory     bigint NOT NULL DEFAULT 0,
    disk       bigint NOT NULL DEFAULT 0
);
INSERT INTO license_machine_totals (license_id, machines, cores, memory, disk)
SELECT l.id, COUNT(m.id), COALESCE(SUM(m.cores), 0), COALESCE(SUM(m.memory), 0), COALESCE(SUM(m.disk), 0)
FROM licenses l LEFT JOIN machines m ON m.license_id = l.id GROUP BY l.id;

CREATE TRIGGER licenses_machine_totals AFTER INSERT ON licenses
BEGIN
    INSERT INTO license_machine_totals (license_id) VALUES (NEW.id);
END;
CREATE TRIGGER machines_license_totals_insert AFTER INSERT ON machines
BEGIN
    UPDATE license_machine_totals SET machines = machines + 1, cores = cores + COALESCE(NEW.cores, 0),
        memory = memory + COALESCE(NEW.memory, 0), disk = disk + COALESCE(NEW.disk, 0)
    WHERE license_id = NEW.license_id;
END;
CREATE TRIGGER machines_license_totals_delete AFTER DELETE ON machines
BEGIN
    UPDATE license_machine_totals SET machines = machines - 1, cores = cores - COALESCE(OLD.cores, 0),
        memory = memory - COALESCE(OLD.memory, 0), disk = disk - COALESCE(OLD.disk, 0)
    WHERE license_id = OLD.license_id;
END;
-- Saves write every column: only a change of the counted ones moves totals.
CREATE TRIGGER machines_license_totals_change AFTER UPDATE OF license_id, cores, memory, disk ON machines
WHEN OLD.license_id IS NOT NEW.license_id OR OLD.cores IS NOT NEW.cores OR OLD.memory IS NOT NEW.memory OR OLD.disk IS NOT NEW.disk
BEGIN
    UPDATE license_machine_totals SET machines = machines - 1, cores = cores - COALESCE(OLD.cores, 0),
        memory = memory - COALESCE(OLD.memory, 0), disk = disk - COALESCE(OLD.disk, 0)
    WHERE license_id = OLD.license_id;
    UPDATE license_machine_totals SET machines = machines + 1, cores = cores + COALESCE(NEW.cores, 0),
        memory = memory + COALESCE(NEW.memory, 0), disk = disk + COALESCE(NEW.disk, 0)
    WHERE license_id = NEW.license_id;
END;

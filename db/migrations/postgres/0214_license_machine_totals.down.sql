DROP TRIGGER machines_license_totals_change ON machines;
DROP TRIGGER machines_license_totals ON machines;
DROP TRIGGER licenses_machine_totals ON licenses;
DROP FUNCTION license_machine_totals_count();
DROP FUNCTION license_machine_totals_open();
DROP TABLE license_machine_totals;

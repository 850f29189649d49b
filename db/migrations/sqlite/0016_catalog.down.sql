DROP TABLE catalog_entries;

DROP TABLE license_users;

DROP TABLE products;
DROP TABLE tokens;
DROP TABLE users;
DROP TABLE accounts;

DROP TABLE machines;

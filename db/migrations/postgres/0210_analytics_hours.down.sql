DROP TABLE analytics_hour_devices;
DROP TABLE analytics_hours;

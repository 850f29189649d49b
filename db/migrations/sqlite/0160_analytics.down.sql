DROP TABLE analytics_day_devices;
DROP TABLE analytics_days;
DROP TABLE analytics_minute_devices;
DROP TABLE analytics_minutes;

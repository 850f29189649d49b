INSERT INTO analytics_days (account_id, product_id, day, kind, dim, value, count)
SELECT account_id, product_id, day, kind, 'license', split_part(value, '/', 1), SUM(count)
FROM analytics_days WHERE dim = 'license-result' AND kind = 'validation'
GROUP BY account_id, product_id, day, kind, split_part(value, '/', 1);

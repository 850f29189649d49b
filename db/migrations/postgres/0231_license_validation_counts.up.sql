-- A license's validations per day are the sum of its per-result counters
-- (dim license-result), which every validation has written since 0160:
-- the per-license validation counters repeated them, one more row written
-- per validated license. Reads fold the results instead.
DELETE FROM analytics_days WHERE dim = 'license' AND kind = 'validation';

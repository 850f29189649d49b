DROP TABLE license_entitlements;
DROP TABLE policy_entitlements;
DROP TABLE entitlements;

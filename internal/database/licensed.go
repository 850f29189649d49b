package database

// LicensesOfUser is the subquery of the ids of the licenses a user holds,
// as owner or as licensee; its arguments are the account id and the user
// id twice. Every store that shows users what their licenses reach uses it.
const LicensesOfUser = `SELECT id FROM licenses WHERE account_id = ? AND (owner_id = ? OR id IN (SELECT license_id FROM license_users WHERE user_id = ?))`

package database

// LicensesOfUser is the subquery of the ids of the licenses a user holds,
// as owner or as licensee; its arguments are the account id and the user
// id twice. Every store that shows users what their licenses reach uses it.
const LicensesOfUser = `SELECT id FROM licenses WHERE account_id = ? AND (owner_id = ? OR id IN (SELECT license_id FROM license_users WHERE user_id = ?))`

// AnyOpenProduct is the condition that the account whose id is the column
// account has an OPEN product, whose releases its licenses see too: part of
// a license's reach, which the license reads and the release rules read
// when it was not.
func AnyOpenProduct(account string) string {
	return "EXISTS (SELECT 1 FROM products o WHERE o.account_id = " + account + " AND o.distribution_strategy = 'OPEN')"
}

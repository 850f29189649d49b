package account

import (
	"context"

	"github.com/relkey/relkey/internal/access"
)

// Delete is Keygen CE's DELETE /v1/accounts/:account: authenticated
// bearers of the account are always refused (its AccountPolicy#destroy?
// denies every bearer), so an account is never deleted through the API.
// Anonymous is a 401, a bearer of another account too.
func (s *Service) Delete(_ context.Context, who *access.Principal, t *Tenant) error {
	if who == nil {
		return access.ErrTokenMissing
	}
	if err := who.In(t.ID); err != nil {
		return err
	}
	return access.Denied("accounts are not deleted through the API")
}

package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/ratelimit"
)

// Keys of the guess guards: a client address (across accounts) and an account.
func guessAddress(c echo.Context) string { return ratelimit.Key("guess-address", c.RealIP()) }
func guessAccount(c echo.Context) string {
	return ratelimit.Key("guess-account", tenantOf(c).ID)
}

// guessAllowed refuses, before any lookup, a client address that failed too
// many key or token guesses, and, while an account's keys are being guessed
// at from many addresses, every address that failed one: a client that
// never guessed wrong is never refused for what others did.
func (s *Server) guessAllowed(c echo.Context) error {
	if s.Guesses == nil {
		return nil
	}
	address := s.Guesses.Address.Check(guessAddress(c))
	if !address.Allowed {
		return s.rateLimited(c, address, "key-guesses")
	}
	if account := s.Guesses.Account.Check(guessAccount(c)); !account.Allowed && address.Count > 0 {
		return s.rateLimited(c, account, "key-guesses")
	}
	return nil
}

// guessFailed counts a failed key or token guess; err is the answer.
func (s *Server) guessFailed(c echo.Context, err error) error {
	if s.Guesses == nil {
		return err
	}
	s.Guesses.Account.Failed(guessAccount(c))
	r := s.Guesses.Address.Failed(guessAddress(c))
	_ = s.rateLimited(c, r, "")
	return err
}

// failedGuess reports whether an authentication error says the presented
// key or token matched nothing.
func failedGuess(err error) bool { return apperr.Is(err, apperr.Unauthenticated) }

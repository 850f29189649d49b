package validation

import "time"

// SetClock makes the service and its validator read the time from now
// (tests move it).
func (s *Service) SetClock(now func() time.Time) { s.now, s.validator.now = now, now }

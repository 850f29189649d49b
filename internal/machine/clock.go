package machine

import "time"

// SetClock makes the service read the time from now (tests move it).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

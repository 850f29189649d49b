package document

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Window is a time filter as Keygen's expires[…], expired[…] and
// activity[…] scopes read it: Key is the hash key given (within, in,
// inside, outside: a Duration; before, after: a Time; on: the Time of a
// day's start, UTC).
type Window struct {
	Key      string
	Duration time.Duration
	Time     time.Time
}

// WindowFilter reads name[key]=value for the keys (in Keygen's order of
// precedence): nil when absent. A duration is seconds or ISO 8601 (P1D,
// 1DT12H, PT30M), a time Unix seconds or RFC 3339 (or a date), a day a
// date; a value of another shape is a 400 on name[key].
func WindowFilter(q url.Values, name string, keys ...string) (*Window, error) {
	entries, err := HashFilter(q, name, keys...)
	if err != nil || entries == nil {
		return nil, err
	}
	for _, key := range keys {
		raw, ok := entries[key]
		if !ok {
			continue
		}
		raw = strings.TrimSpace(raw)
		param := name + "[" + key + "]"
		w := &Window{Key: key}
		switch key {
		case "within", "in", "inside", "outside":
			d, ok := parseDuration(raw)
			if !ok {
				return nil, paramErr(param+" must be a duration in seconds or ISO 8601 (P30D)", param)
			}
			w.Duration = d
		case "on":
			day, err := time.Parse(time.DateOnly, raw)
			if err != nil {
				return nil, paramErr(param+" must be a date (YYYY-MM-DD)", param)
			}
			w.Time = day
		default:
			t, ok := parseTime(raw)
			if !ok {
				return nil, paramErr(param+" must be a time in Unix seconds or RFC 3339", param)
			}
			w.Time = t
		}
		return w, nil
	}
	return nil, nil
}

var isoDuration = regexp.MustCompile(`^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?` +
	`(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)

// isoUnits are the lengths of ISO 8601's units, as ActiveSupport counts
// them (a year of 365.2425 days, a month of a twelfth of it).
var isoUnits = []float64{365.2425 * 86400, 365.2425 * 86400 / 12, 7 * 86400, 86400, 3600, 60, 1}

// parseDuration reads seconds or an ISO 8601 duration, its leading P
// optional (Keygen's reading).
func parseDuration(raw string) (time.Duration, bool) {
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	s := "P" + strings.TrimPrefix(strings.ToUpper(raw), "P")
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, false
	}
	var seconds float64
	for i, part := range m[1:] {
		if part != "" {
			v, _ := strconv.ParseFloat(part, 64)
			seconds += v * isoUnits[i]
		}
	}
	return time.Duration(seconds * float64(time.Second)), true
}

// parseTime reads Unix seconds, RFC 3339 or a date (its start, UTC).
func parseTime(raw string) (time.Time, bool) {
	if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), true
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, raw); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

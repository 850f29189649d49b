// Package analytics records usage signals off the request path and answers
// who runs which version where: an in-memory buffer aggregates the signals
// of the hot paths (validations, activations, heartbeats, update checks,
// downloads…) and writes them in batches, as per-minute counters kept 48
// hours, per-hour counters kept 35 days (the days of other offsets than
// UTC), per-day rollups kept for the retention, and distinct-device sets
// of each (exact while small, HyperLogLog sketches beyond) that merge
// across days and replicas.
package analytics

import (
	"strings"
	"time"
)

// Kind is what a signal records.
type Kind string

// The kinds of signal, one per hot path.
const (
	Validation   Kind = "validation"
	Activation   Kind = "activation"
	Deactivation Kind = "deactivation"
	Heartbeat    Kind = "heartbeat"
	ProcessPing  Kind = "process-ping"
	UpgradeCheck Kind = "upgrade"
	FeedRequest  Kind = "feed"
	Download     Kind = "download"
	CheckOut     Kind = "check-out"
)

// Kinds lists every kind, in the order the README documents them.
var Kinds = []Kind{Validation, Activation, Deactivation, Heartbeat, ProcessPing, UpgradeCheck, FeedRequest, Download, CheckOut}

// Signal is one use of the API by a device.
type Signal struct {
	Kind      Kind
	AccountID string
	ProductID string
	PolicyID  string
	LicenseID string
	// Device identifies the installation: the X-Device-ID header, else the
	// machine's fingerprint, else the fingerprint the request named; ""
	// when none (then no device is counted).
	Device string
	// Version is the application's version the device runs.
	Version, Platform, Arch string
	// Result is a validation's code, a feed's engine; "" otherwise.
	Result string
	// ReleaseID and ArtifactID are a download's.
	ReleaseID, ArtifactID string
	// At is when it happened; the buffer's clock when zero.
	At time.Time
}

// Recorder takes signals; it never blocks and never fails.
type Recorder interface {
	Record(Signal)
}

// Discard is the recorder of an app with analytics off.
type Discard struct{}

// Record drops s.
func (Discard) Record(Signal) {}

// Headers a client may send to describe itself.
const (
	HeaderDevice   = "X-Device-ID"
	HeaderVersion  = "X-App-Version"
	HeaderPlatform = "X-App-Platform"
	HeaderArch     = "X-App-Arch"
)

// Client is what a request says of the client that sent it.
type Client struct{ Device, Version, Platform, Arch string }

// ClientOf reads the describing headers (get is a header getter), falling
// back on a Keygen SDK's User-Agent ("keygen/1.7 sdk/3.2.1 go/go1.24
// linux/amd64 MyApp/1.2.3": its os/arch and the application's token).
func ClientOf(get func(string) string) Client {
	c := Client{
		Device: clip(get(HeaderDevice)), Version: clip(get(HeaderVersion)),
		Platform: clip(get(HeaderPlatform)), Arch: clip(get(HeaderArch)),
	}
	ua := strings.Fields(get("User-Agent"))
	if len(ua) == 0 || !strings.HasPrefix(ua[0], "keygen/") {
		return c
	}
	for _, tok := range ua[1:] {
		name, value, ok := strings.Cut(tok, "/")
		if !ok || value == "" {
			continue
		}
		switch {
		case name == "sdk" || strings.HasPrefix(name, "go") && strings.HasPrefix(value, "go"):
		case knownPlatforms[name]:
			if c.Platform == "" {
				c.Platform = name
			}
			if c.Arch == "" {
				c.Arch = clip(value)
			}
		case c.Version == "":
			c.Version = clip(value)
		}
	}
	return c
}

var knownPlatforms = map[string]bool{"linux": true, "darwin": true, "windows": true, "freebsd": true, "openbsd": true,
	"netbsd": true, "android": true, "ios": true, "illumos": true, "solaris": true, "js": true, "wasip1": true}

// maxValue bounds what a client may write into a dimension.
const maxValue = 64

func clip(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > maxValue {
		s = s[:maxValue]
	}
	return s
}

// Or is the first non-empty value.
func Or(values ...string) string {
	for _, v := range values {
		if v != "" {
			return clip(v)
		}
	}
	return ""
}

// Deref is *p, or "" for nil.
func Deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// Minute is the unix minute of t; Day its unix day (UTC).
func Minute(t time.Time) int64 { return t.Unix() / 60 }

// Hour is the unix hour of t.
func Hour(t time.Time) int64 { return t.Unix() / 3600 }

// Day is the unix day of t (UTC).
func Day(t time.Time) int64 { return t.Unix() / 86400 }

// DayTime is the midnight (UTC) of unix day d.
func DayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// Package config reads relkey's configuration from the environment and
// validates it before anything starts.
package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/relkey/relkey/internal/mail"
	"github.com/relkey/relkey/internal/password"
)

// Config is the validated configuration of one relkey process.
type Config struct {
	Listen         string
	DataDir        string
	DatabaseURL    string // empty: embedded SQLite in DataDir
	Storage        *S3    // nil: local folder in DataDir
	SecretKey      string // empty: generated into DataDir (embedded mode only)
	PublicURL      *url.URL
	Account        string
	RequestTimeout time.Duration
	MaxBodyBytes   int64
	LogLevel       slog.Level
	// PasswordCost is the bcrypt cost of new password digests (0: password.DefaultCost).
	PasswordCost int
	// TLS, when set, makes relkey serve HTTPS itself with this certificate.
	TLS *tls.Certificate
	// DatabaseMaxConns caps the database connection pool (0: four per CPU).
	DatabaseMaxConns int
	// DebugListen, when set, serves Go's profiles (net/http/pprof) there.
	DebugListen string
	// MetricsListen, when set, serves the Prometheus metrics (/metrics) there.
	MetricsListen string
	// Webhooks says which URLs webhook endpoints may point at.
	WebhookAllowInsecure, WebhookAllowPrivate bool
	// EventLogRetention is how long the event log keeps events.
	EventLogRetention time.Duration
	// RequestLog turns the request log on; RequestLogRetention is how long it keeps requests.
	RequestLog          bool
	RequestLogRetention time.Duration
	// Analytics turns usage analytics on; AnalyticsRetention is how long
	// their per-day rollups are kept.
	Analytics          bool
	AnalyticsRetention time.Duration
	// SMTP, when set, mails password reset tokens (RELKEY_SMTP_URL).
	SMTP *mail.Settings
	// Edge is how relkey meets the network in front of it.
	Edge Edge
	// ShutdownTimeout bounds the drain of in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration
}

// Edge is the settings for the network in front of relkey.
type Edge struct {
	// TrustedProxies are the peers whose X-Forwarded-For counts; from any
	// other peer the socket's address is the client's.
	TrustedProxies []*net.IPNet
	// AllowedHosts, when set, are the only Host headers answered.
	AllowedHosts []string
	// CORSOrigins are the browser origins answered with CORS headers.
	CORSOrigins []string
	// ConnectionsPerAddress bounds the connections one client address
	// (other than a trusted proxy) holds open at once; 0 = no bound.
	ConnectionsPerAddress int
}

// S3 is a parsed RELKEY_STORAGE_URL.
type S3 struct {
	AccessKey string
	SecretKey string
	Endpoint  string // host:port
	Bucket    string
	Secure    bool
	Region    string
}

// Embedded reports whether the database is the embedded SQLite file.
func (c Config) Embedded() bool { return c.DatabaseURL == "" }

// SQLitePath is the embedded database file.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "relkey.db") }

// BlobDir is the folder of the local object store.
func (c Config) BlobDir() string { return filepath.Join(c.DataDir, "blobs") }

// StagingDir is the folder of what OCI pushes send before their manifest.
func (c Config) StagingDir() string { return filepath.Join(c.DataDir, "oci-staging") }

// SecretKeyPath is where the embedded mode keeps its generated master key.
func (c Config) SecretKeyPath() string { return filepath.Join(c.DataDir, "secret.key") }

// MinSecretKeyLength is the shortest accepted RELKEY_SECRET_KEY.
const MinSecretKeyLength = 32

// Variable documents one environment variable; Variables drives both parsing
// and the README's configuration table test.
type Variable struct {
	Name    string
	Default string
	Help    string
}

// Variables lists every setting relkey reads.
var Variables = []Variable{
	{"RELKEY_LISTEN", "127.0.0.1:8080", "host:port to serve HTTP on"},
	{"RELKEY_DATA_DIR", "./data", "folder for the embedded database, local blobs and the generated secret key"},
	{"RELKEY_DATABASE_URL", "", "postgres://… selects PostgreSQL; unset = embedded SQLite file in the data dir"},
	{"RELKEY_STORAGE_URL", "", "s3://ACCESS:SECRET@HOST:PORT/BUCKET?secure=false&region=us-east-1 selects S3; unset = local folder in the data dir"},
	{"RELKEY_SECRET_KEY", "", "master key (≥32 characters) encrypting account keys and signing local URLs; unset in embedded mode = generated once into the data dir"},
	{"RELKEY_PUBLIC_URL", "", "external base URL for absolute links; unset = derived from the request"},
	{"RELKEY_ACCOUNT", "", "id or slug of the account served under bare /v1/...; unset and exactly one account = that one"},
	{"RELKEY_REQUEST_TIMEOUT", "5s", "deadline of every request; database waits stay below it"},
	{"RELKEY_MAX_BODY_BYTES", "1048576", "largest accepted API request document"},
	{"RELKEY_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"RELKEY_PASSWORD_COST", "12", "bcrypt cost of new password digests, 4 to 31 (12 is Keygen's; each step doubles the work)"},
	{"RELKEY_TLS_CERT", "", "PEM certificate (chain) file: serve HTTPS on RELKEY_LISTEN; needs RELKEY_TLS_KEY"},
	{"RELKEY_TLS_KEY", "", "PEM private key file of RELKEY_TLS_CERT"},
	{"RELKEY_DATABASE_MAX_CONNS", "0", "largest number of open database connections for requests and passes, 1 to 1000; 0 = four per CPU on PostgreSQL, two on SQLite (batch writers and webhook deliveries have two more of their own)"},
	{"RELKEY_DEBUG_LISTEN", "", "host:port to serve Go's profiles on (/debug/pprof/); unset = off. Keep it on loopback"},
	{"RELKEY_METRICS_LISTEN", "", "host:port to serve Prometheus metrics on (/metrics); unset = off"},
	{"RELKEY_WEBHOOK_ALLOW_INSECURE", "false", "true lets webhook endpoints on loopback hosts use http:// (with RELKEY_WEBHOOK_ALLOW_PRIVATE)"},
	{"RELKEY_WEBHOOK_ALLOW_PRIVATE", "false", "true lets webhook endpoints point at loopback, private and link-local addresses"},
	{"RELKEY_EVENT_LOG_RETENTION", "2160h", "how long the event log keeps events (default 90 days), at least 1h"},
	{"RELKEY_REQUEST_LOG", "true", "false turns the request log (GET /request-logs) off"},
	{"RELKEY_REQUEST_LOG_RETENTION", "720h", "how long the request log keeps requests (default 30 days), at least 1h"},
	{"RELKEY_ANALYTICS", "true", "false turns usage analytics (GET /analytics/...) off: no signal is recorded"},
	{"RELKEY_ANALYTICS_RETENTION", "9600h", "how long usage analytics keep per-day rollups (default 400 days), at least 1h"},
	{"RELKEY_SMTP_URL", "", "smtp://user:password@host:port?from=address mails password reset tokens (STARTTLS when the server offers it); unset = they are only published as user.password-reset"},
	{"RELKEY_TRUSTED_PROXIES", "", "comma-separated CIDRs (or addresses) of the reverse proxies whose X-Forwarded-For names the client; unset = the socket's address, forwarded headers ignored"},
	{"RELKEY_ALLOWED_HOSTS", "", "comma-separated Host names (host or host:port) answered; other hosts get 400; unset = any (set it or RELKEY_PUBLIC_URL in production)"},
	{"RELKEY_CORS_ORIGINS", "", "comma-separated browser origins (https://app.example.com, or *) given CORS answers; unset = none"},
	{"RELKEY_CONNECTIONS_PER_ADDRESS", "256", "how many connections one client address may hold open at once (trusted proxies are exempt); 0 = no limit"},
	{"RELKEY_SHUTDOWN_TIMEOUT", "30s", "how long SIGTERM waits for accepted requests to be answered, 1s to 10m"},
}

// FromEnv reads and validates the configuration. Every problem is reported
// at once, one per line.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		for _, v := range Variables {
			if v.Name == name {
				return v.Default
			}
		}
		return ""
	}
	var problems []string
	bad := func(name, format string, args ...any) {
		problems = append(problems, name+": "+fmt.Sprintf(format, args...))
	}

	c := Config{
		Listen:      get("RELKEY_LISTEN"),
		DataDir:     get("RELKEY_DATA_DIR"),
		DatabaseURL: get("RELKEY_DATABASE_URL"),
		SecretKey:   get("RELKEY_SECRET_KEY"),
		Account:     get("RELKEY_ACCOUNT"),
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("RELKEY_LISTEN", "%q is not host:port", c.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("RELKEY_LISTEN", "port %q is not a number from 0 to 65535", port)
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			bad("RELKEY_DATABASE_URL", "must be a postgres://user:password@host:port/database URL")
		}
		if c.SecretKey == "" {
			bad("RELKEY_SECRET_KEY", "is required with RELKEY_DATABASE_URL, so that every replica shares it")
		}
	}
	if c.SecretKey != "" && len(c.SecretKey) < MinSecretKeyLength {
		bad("RELKEY_SECRET_KEY", "must be at least %d characters", MinSecretKeyLength)
	}
	if raw := get("RELKEY_STORAGE_URL"); raw != "" {
		s3, err := ParseS3URL(raw)
		if err != nil {
			bad("RELKEY_STORAGE_URL", "%v", err)
		}
		c.Storage = s3
	}
	switch certFile, keyFile := get("RELKEY_TLS_CERT"), get("RELKEY_TLS_KEY"); {
	case certFile == "" && keyFile == "":
	case certFile == "" || keyFile == "":
		bad("RELKEY_TLS_CERT", "RELKEY_TLS_CERT and RELKEY_TLS_KEY must be set together")
	default:
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			bad("RELKEY_TLS_CERT", "cannot load the certificate and key: %v", err)
		}
		c.TLS = &cert
	}
	if raw := get("RELKEY_SMTP_URL"); raw != "" {
		smtp, err := mail.ParseURL(raw)
		if err != nil {
			bad("RELKEY_SMTP_URL", "%v", err)
		}
		c.SMTP = smtp
	}
	if raw := get("RELKEY_PUBLIC_URL"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			bad("RELKEY_PUBLIC_URL", "must be an absolute http(s) URL without a query, e.g. https://licensing.example.com")
		} else {
			u.Path = strings.TrimSuffix(u.Path, "/")
			c.PublicURL = u
		}
	}
	if d, err := time.ParseDuration(get("RELKEY_REQUEST_TIMEOUT")); err != nil || d < 100*time.Millisecond || d > 10*time.Minute {
		bad("RELKEY_REQUEST_TIMEOUT", "must be a duration from 100ms to 10m, e.g. 5s")
	} else {
		c.RequestTimeout = d
	}
	if n, err := strconv.ParseInt(get("RELKEY_MAX_BODY_BYTES"), 10, 64); err != nil || n < 1024 {
		bad("RELKEY_MAX_BODY_BYTES", "must be a whole number of bytes, at least 1024")
	} else {
		c.MaxBodyBytes = n
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("RELKEY_LOG_LEVEL"))); err != nil {
		bad("RELKEY_LOG_LEVEL", "must be debug, info, warn or error")
	}
	if n, err := strconv.Atoi(get("RELKEY_DATABASE_MAX_CONNS")); err != nil || n < 0 || n > 1000 {
		bad("RELKEY_DATABASE_MAX_CONNS", "must be a whole number from 0 to 1000")
	} else {
		c.DatabaseMaxConns = n
	}
	// A side listener is off while its variable is unset.
	sideListener := func(name string) string {
		addr := get(name)
		if _, _, err := net.SplitHostPort(addr); addr != "" && err != nil {
			bad(name, "%q is not host:port", addr)
		}
		return addr
	}
	c.DebugListen = sideListener("RELKEY_DEBUG_LISTEN")
	c.MetricsListen = sideListener("RELKEY_METRICS_LISTEN")
	if n, err := strconv.Atoi(get("RELKEY_PASSWORD_COST")); err != nil || n < password.MinCost || n > password.MaxCost {
		bad("RELKEY_PASSWORD_COST", "must be a whole number from %d to %d", password.MinCost, password.MaxCost)
	} else {
		c.PasswordCost = n
	}
	for name, flag := range map[string]*bool{"RELKEY_WEBHOOK_ALLOW_INSECURE": &c.WebhookAllowInsecure, "RELKEY_WEBHOOK_ALLOW_PRIVATE": &c.WebhookAllowPrivate, "RELKEY_REQUEST_LOG": &c.RequestLog, "RELKEY_ANALYTICS": &c.Analytics} {
		v, err := strconv.ParseBool(get(name))
		if err != nil {
			bad(name, "must be true or false")
		}
		*flag = v
	}
	for name, retention := range map[string]*time.Duration{"RELKEY_EVENT_LOG_RETENTION": &c.EventLogRetention, "RELKEY_REQUEST_LOG_RETENTION": &c.RequestLogRetention, "RELKEY_ANALYTICS_RETENTION": &c.AnalyticsRetention} {
		d, err := time.ParseDuration(get(name))
		if err != nil || d < time.Hour {
			bad(name, "must be a duration of at least 1h, e.g. 720h")
		}
		*retention = d
	}
	for _, raw := range list(get("RELKEY_TRUSTED_PROXIES")) {
		if !strings.Contains(raw, "/") {
			if ip := net.ParseIP(raw); ip != nil && ip.To4() != nil {
				raw += "/32"
			} else {
				raw += "/128"
			}
		}
		_, n, err := net.ParseCIDR(raw)
		if err != nil {
			bad("RELKEY_TRUSTED_PROXIES", "%q is not a CIDR (10.0.0.0/8) or an address", raw)
			continue
		}
		c.Edge.TrustedProxies = append(c.Edge.TrustedProxies, n)
	}
	for _, host := range list(get("RELKEY_ALLOWED_HOSTS")) {
		if strings.ContainsAny(host, "/ @") {
			bad("RELKEY_ALLOWED_HOSTS", "%q is not a host or host:port", host)
		}
		c.Edge.AllowedHosts = append(c.Edge.AllowedHosts, strings.ToLower(host))
	}
	for _, origin := range list(get("RELKEY_CORS_ORIGINS")) {
		if u, err := url.Parse(origin); origin != "*" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/")) {
			bad("RELKEY_CORS_ORIGINS", "%q is not an origin like https://app.example.com (or *)", origin)
		}
		c.Edge.CORSOrigins = append(c.Edge.CORSOrigins, strings.ToLower(strings.TrimSuffix(origin, "/")))
	}
	if n, err := strconv.Atoi(get("RELKEY_CONNECTIONS_PER_ADDRESS")); err != nil || n < 0 || n > 1_000_000 {
		bad("RELKEY_CONNECTIONS_PER_ADDRESS", "must be a whole number from 0 (no limit) to 1000000")
	} else {
		c.Edge.ConnectionsPerAddress = n
	}
	if d, err := time.ParseDuration(get("RELKEY_SHUTDOWN_TIMEOUT")); err != nil || d < time.Second || d > 10*time.Minute {
		bad("RELKEY_SHUTDOWN_TIMEOUT", "must be a duration from 1s to 10m, e.g. 30s")
	} else {
		c.ShutdownTimeout = d
	}
	if len(problems) > 0 {
		return Config{}, errors.New("invalid configuration:\n  " + strings.Join(problems, "\n  "))
	}
	return c, nil
}

// list splits a comma-separated setting, dropping empty entries.
func list(raw string) []string {
	var out []string
	for _, part := range strings.Split(raw, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ParseS3URL parses s3://ACCESS:SECRET@HOST:PORT/BUCKET?secure=false&region=us-east-1.
func ParseS3URL(raw string) (*S3, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "s3" {
		return nil, errors.New("must look like s3://ACCESS:SECRET@HOST:PORT/BUCKET?secure=false&region=us-east-1")
	}
	s := &S3{Endpoint: u.Host, Bucket: strings.Trim(u.Path, "/"), Secure: true, Region: "us-east-1"}
	if u.User != nil {
		s.AccessKey = u.User.Username()
		s.SecretKey, _ = u.User.Password()
	}
	if s.AccessKey == "" || s.SecretKey == "" {
		return nil, errors.New("needs ACCESS:SECRET credentials before the host")
	}
	if s.Endpoint == "" {
		return nil, errors.New("needs a HOST:PORT")
	}
	if s.Bucket == "" || strings.Contains(s.Bucket, "/") {
		return nil, errors.New("needs exactly one bucket name as its path")
	}
	q := u.Query()
	for key := range q {
		if key != "secure" && key != "region" {
			return nil, fmt.Errorf("unknown option %q (known: secure, region)", key)
		}
	}
	if v := q.Get("secure"); v != "" {
		secure, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("secure=%q is not true or false", v)
		}
		s.Secure = secure
	}
	if v := q.Get("region"); v != "" {
		s.Region = v
	}
	return s, nil
}

package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/password"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DataDir != "./data" || !c.Embedded() || c.Storage != nil ||
		c.RequestTimeout != 5*time.Second || c.MaxBodyBytes != 1<<20 || c.PublicURL != nil || c.PasswordCost != password.DefaultCost ||
		c.DatabaseMaxConns != 0 || c.DebugListen != "" || c.MetricsListen != "" || c.Edge.ConnectionsPerAddress != 256 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestValidValues(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"RELKEY_LISTEN":                  "0.0.0.0:9000",
		"RELKEY_DATABASE_URL":            "postgres://u:p@db:5432/relkey",
		"RELKEY_SECRET_KEY":              strings.Repeat("k", 32),
		"RELKEY_STORAGE_URL":             "s3://AK:SK@127.0.0.1:9000/artifacts?secure=false&region=eu-west-1",
		"RELKEY_PUBLIC_URL":              "https://licensing.example.com/",
		"RELKEY_DATABASE_MAX_CONNS":      "6",
		"RELKEY_DEBUG_LISTEN":            "127.0.0.1:6060",
		"RELKEY_METRICS_LISTEN":          "0.0.0.0:9090",
		"RELKEY_TRUSTED_PROXIES":         "10.0.0.0/8, 192.0.2.7",
		"RELKEY_ALLOWED_HOSTS":           "Licensing.example.com,localhost:8080",
		"RELKEY_CORS_ORIGINS":            "https://app.example.com/",
		"RELKEY_SHUTDOWN_TIMEOUT":        "45s",
		"RELKEY_CONNECTIONS_PER_ADDRESS": "0",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Edge.TrustedProxies) != 2 || c.Edge.TrustedProxies[1].String() != "192.0.2.7/32" ||
		strings.Join(c.Edge.AllowedHosts, ",") != "licensing.example.com,localhost:8080" ||
		strings.Join(c.Edge.CORSOrigins, ",") != "https://app.example.com" || c.ShutdownTimeout != 45*time.Second || c.Edge.ConnectionsPerAddress != 0 {
		t.Fatalf("edge %+v, shutdown %v", c.Edge, c.ShutdownTimeout)
	}
	want := S3{AccessKey: "AK", SecretKey: "SK", Endpoint: "127.0.0.1:9000", Bucket: "artifacts", Secure: false, Region: "eu-west-1"}
	if *c.Storage != want {
		t.Fatalf("storage = %+v", *c.Storage)
	}
	if c.DatabaseMaxConns != 6 || c.DebugListen != "127.0.0.1:6060" {
		t.Fatalf("pool %d, debug listener %q", c.DatabaseMaxConns, c.DebugListen)
	}
	if c.MetricsListen != "0.0.0.0:9090" {
		t.Fatalf("metrics listener %q", c.MetricsListen)
	}
	if c.PublicURL.String() != "https://licensing.example.com" || c.Embedded() {
		t.Fatalf("public url %v embedded %v", c.PublicURL, c.Embedded())
	}
}

func TestInvalidValuesAreAllReported(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"listen without port", "RELKEY_LISTEN", "localhost", "RELKEY_LISTEN"},
		{"listen bad port", "RELKEY_LISTEN", "localhost:http", "RELKEY_LISTEN"},
		{"mysql url", "RELKEY_DATABASE_URL", "mysql://x", "RELKEY_DATABASE_URL"},
		{"postgres without secret", "RELKEY_DATABASE_URL", "postgres://u@h/db", "RELKEY_SECRET_KEY: is required"},
		{"short secret", "RELKEY_SECRET_KEY", "short", "at least 32"},
		{"storage scheme", "RELKEY_STORAGE_URL", "http://a:b@h/b", "RELKEY_STORAGE_URL"},
		{"storage no creds", "RELKEY_STORAGE_URL", "s3://h:9000/b", "credentials"},
		{"storage no bucket", "RELKEY_STORAGE_URL", "s3://a:b@h:9000/", "bucket"},
		{"storage bad secure", "RELKEY_STORAGE_URL", "s3://a:b@h:9000/b?secure=maybe", "secure"},
		{"storage unknown option", "RELKEY_STORAGE_URL", "s3://a:b@h:9000/b?foo=1", "unknown option"},
		{"public url relative", "RELKEY_PUBLIC_URL", "/relkey", "RELKEY_PUBLIC_URL"},
		{"timeout", "RELKEY_REQUEST_TIMEOUT", "soon", "RELKEY_REQUEST_TIMEOUT"},
		{"body limit", "RELKEY_MAX_BODY_BYTES", "12", "RELKEY_MAX_BODY_BYTES"},
		{"log level", "RELKEY_LOG_LEVEL", "loud", "RELKEY_LOG_LEVEL"},
		{"trusted proxy", "RELKEY_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local", "RELKEY_TRUSTED_PROXIES"},
		{"allowed host", "RELKEY_ALLOWED_HOSTS", "https://x.example", "RELKEY_ALLOWED_HOSTS"},
		{"cors origin", "RELKEY_CORS_ORIGINS", "app.example.com", "RELKEY_CORS_ORIGINS"},
		{"shutdown timeout", "RELKEY_SHUTDOWN_TIMEOUT", "0s", "RELKEY_SHUTDOWN_TIMEOUT"},
		{"negative connections per address", "RELKEY_CONNECTIONS_PER_ADDRESS", "-1", "RELKEY_CONNECTIONS_PER_ADDRESS"},
		{"connections per address not a number", "RELKEY_CONNECTIONS_PER_ADDRESS", "many", "RELKEY_CONNECTIONS_PER_ADDRESS"},
		{"password cost below bcrypt's minimum", "RELKEY_PASSWORD_COST", "3", "RELKEY_PASSWORD_COST"},
		{"password cost above bcrypt's maximum", "RELKEY_PASSWORD_COST", "32", "RELKEY_PASSWORD_COST"},
		{"password cost not a number", "RELKEY_PASSWORD_COST", "high", "RELKEY_PASSWORD_COST"},
		{"negative pool", "RELKEY_DATABASE_MAX_CONNS", "-1", "RELKEY_DATABASE_MAX_CONNS"},
		{"huge pool", "RELKEY_DATABASE_MAX_CONNS", "5000", "RELKEY_DATABASE_MAX_CONNS"},
		{"debug listen without port", "RELKEY_DEBUG_LISTEN", "localhost", "RELKEY_DEBUG_LISTEN"},
		{"metrics listen without port", "RELKEY_METRICS_LISTEN", "localhost", "RELKEY_METRICS_LISTEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(env(map[string]string{tt.key: tt.value}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
	_, err := FromEnv(env(map[string]string{"RELKEY_LISTEN": "x", "RELKEY_LOG_LEVEL": "loud"}))
	if err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Fatalf("want both problems reported, got %v", err)
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 into dir.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for file, block := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(file, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	certFile, keyFile := selfSigned(t, t.TempDir())
	c, err := FromEnv(env(map[string]string{"RELKEY_TLS_CERT": certFile, "RELKEY_TLS_KEY": keyFile}))
	if err != nil || c.TLS == nil || len(c.TLS.Certificate) != 1 {
		t.Fatalf("a valid pair: %v, %+v", err, c.TLS)
	}
	for name, m := range map[string]map[string]string{
		"cert alone":      {"RELKEY_TLS_CERT": certFile},
		"key alone":       {"RELKEY_TLS_KEY": keyFile},
		"missing files":   {"RELKEY_TLS_CERT": certFile + ".nope", "RELKEY_TLS_KEY": keyFile},
		"key as the cert": {"RELKEY_TLS_CERT": keyFile, "RELKEY_TLS_KEY": keyFile},
	} {
		if _, err := FromEnv(env(m)); err == nil || !strings.Contains(err.Error(), "RELKEY_TLS_CERT") {
			t.Errorf("%s: err = %v, want a RELKEY_TLS_CERT problem", name, err)
		}
	}
}

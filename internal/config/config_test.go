package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := FromEnv(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.DataDir != "./data" || !c.Embedded() || c.Storage != nil ||
		c.RequestTimeout != 5*time.Second || c.MaxBodyBytes != 1<<20 || c.PublicURL != nil {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestValidValues(t *testing.T) {
	c, err := FromEnv(env(map[string]string{
		"RELKEY_LISTEN":       "0.0.0.0:9000",
		"RELKEY_DATABASE_URL": "postgres://u:p@db:5432/relkey",
		"RELKEY_SECRET_KEY":   strings.Repeat("k", 32),
		"RELKEY_STORAGE_URL":  "s3://AK:SK@127.0.0.1:9000/artifacts?secure=false&region=eu-west-1",
		"RELKEY_PUBLIC_URL":   "https://licensing.example.com/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := S3{AccessKey: "AK", SecretKey: "SK", Endpoint: "127.0.0.1:9000", Bucket: "artifacts", Secure: false, Region: "eu-west-1"}
	if *c.Storage != want {
		t.Fatalf("storage = %+v", *c.Storage)
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

package proof

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/license"
	"github.com/relkey/relkey/internal/machine"
	"github.com/relkey/relkey/internal/policy"
)

func TestSignIsKeygensProofFormat(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, dataset := range []any{map[string]any{"nonce": 1}, map[string]any{}, []int{1, 2}} {
		signed, err := Sign(key, dataset)
		if err != nil {
			t.Fatal(err)
		}
		signing, sig, ok := strings.Cut(signed, ".")
		encoded, isProof := strings.CutPrefix(signing, "proof/")
		raw, _ := base64.URLEncoding.DecodeString(sig)
		digest := sha256.Sum256([]byte(signing))
		if !ok || !isProof || rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, digest[:], raw) != nil {
			t.Fatalf("%v: %s does not verify", dataset, signed)
		}
		data, _ := base64.URLEncoding.DecodeString(encoded)
		want, _ := json.Marshal(dataset)
		if string(data) != string(want) {
			t.Fatalf("dataset %s, want %s", data, want)
		}
	}
}

func TestDefaultDataset(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC)
	duration := int64(3600)
	for _, tt := range []struct {
		name     string
		expiry   *time.Time
		duration *int64
		want     string
	}{
		{"no expiry", nil, nil, `{"account":{"id":"a"},"license":{"expiry":null,"id":"l","key":"K"},"machine":{"created":"2026-01-02T03:04:05.006Z","fingerprint":"fp","id":"m"},"policy":{"duration":null,"id":"p"},"product":{"id":"pr"}}`},
		{"expiry", &created, &duration, `{"account":{"id":"a"},"license":{"expiry":"2026-01-02T03:04:05.006Z","id":"l","key":"K"},"machine":{"created":"2026-01-02T03:04:05.006Z","fingerprint":"fp","id":"m"},"policy":{"duration":3600,"id":"p"},"product":{"id":"pr"}}`},
	} {
		m := &machine.Machine{ID: "m", ProductID: "pr", Fingerprint: "fp", CreatedAt: created}
		l := &license.License{ID: "l", Key: "K", Expiry: tt.expiry}
		pol := &policy.Policy{ID: "p", Duration: tt.duration}
		got, _ := json.Marshal(Default("a", m, l, pol))
		if string(got) != tt.want {
			t.Errorf("%s: %s", tt.name, got)
		}
	}
}

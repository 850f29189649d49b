package keyring

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestSealOpenRoundTripAndTamper(t *testing.T) {
	k, err := New(strings.Repeat("a", 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := k.Seal([]byte("private key"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "private key") {
		t.Fatal("sealed value leaks plaintext")
	}
	plain, err := k.Open(sealed)
	if err != nil || string(plain) != "private key" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	other, _ := New(strings.Repeat("b", 32))
	if _, err := other.Open(sealed); err == nil {
		t.Fatal("a different master key opened the value")
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, sealedPrefix))
	raw[len(raw)-1] ^= 1
	if _, err := k.Open(sealedPrefix + base64.StdEncoding.EncodeToString(raw)); err == nil {
		t.Fatal("tampered value opened")
	}
	if bytes.Equal(Derive("m", "a"), Derive("m", "b")) {
		t.Fatal("derived keys for different purposes are equal")
	}
}

func TestLoadOrCreateIsStableAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "secret.key")
	keys := make([]string, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreate(path)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if k != keys[0] || len(k) != 64 {
			t.Fatalf("keys differ or wrong length: %q vs %q", k, keys[0])
		}
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode = %v, want 0600", info.Mode().Perm())
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreate(path); err == nil {
		t.Fatal("a short key file was accepted")
	}
}

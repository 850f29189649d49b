package masterkey

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/keyring"
)

// memory is a store of sealed values whose transaction (tx) rolls back.
type memory struct{ values map[string]string }

func (m *memory) Reseal(_ context.Context, reseal func(string) (string, error)) (int64, error) {
	var n int64
	for k, v := range m.values {
		out, err := reseal(v)
		if err != nil {
			return n, err
		}
		if out != v {
			m.values[k], n = out, n+1
		}
	}
	return n, nil
}

type tx struct{ stores []*memory }

func (t tx) InTx(ctx context.Context, fn func(context.Context) error) error {
	saved := make([]map[string]string, len(t.stores))
	for i, s := range t.stores {
		saved[i] = maps.Clone(s.values)
	}
	err := fn(ctx)
	if err != nil {
		for i, s := range t.stores {
			s.values = saved[i]
		}
	}
	return err
}

func sealWith(t *testing.T, key string, plain ...string) map[string]string {
	t.Helper()
	kr, err := keyring.New(key)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range plain {
		out[p], err = kr.Seal([]byte(p))
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// opens reports whether key opens every value to its plaintext (the map key).
func opens(t *testing.T, key string, values map[string]string) bool {
	t.Helper()
	kr, _ := keyring.New(key)
	for plain, sealed := range values {
		got, err := kr.Open(sealed)
		if err != nil || string(got) != plain {
			return false
		}
	}
	return true
}

var (
	oldKey   = strings.Repeat("o", 64)
	otherKey = strings.Repeat("x", 64)
)

func TestRotate(t *testing.T) {
	tests := []struct {
		name string
		// setup writes the files and returns the stores' values and the rotation.
		setup func(t *testing.T, dir string) ([]*memory, Rotation)
		// newKey is the key the values end under, "" for a generated one.
		newKey    string
		err       string
		unchanged bool // the values and the key file are as before
	}{
		{name: "embedded: the key file is replaced", setup: func(t *testing.T, dir string) ([]*memory, Rotation) {
			keyFile := writeKey(t, dir, "secret.key", oldKey)
			return []*memory{{sealWith(t, oldKey, "ed25519", "secret")}, {sealWith(t, oldKey, "license-1", "license-2")}},
				Rotation{Current: oldKey, KeyFile: keyFile, NewKeyFile: keyFile + NewSuffix}
		}},
		{name: "embedded: a rotation interrupted after its commit is finished", newKey: otherKey, setup: func(t *testing.T, dir string) ([]*memory, Rotation) {
			keyFile := writeKey(t, dir, "secret.key", oldKey)
			writeKey(t, dir, "secret.key"+NewSuffix, otherKey)
			writeKey(t, dir, "secret.key"+OldSuffix, oldKey)
			resealed := sealWith(t, otherKey, "ed25519", "secret")
			maps.Copy(resealed, sealWith(t, oldKey, "rsa"))
			return []*memory{{resealed}, {sealWith(t, otherKey, "license-1")}},
				Rotation{Current: oldKey, KeyFile: keyFile, NewKeyFile: keyFile + NewSuffix}
		}},
		{name: "environment: the new key is kept in the operator's file", setup: func(t *testing.T, dir string) ([]*memory, Rotation) {
			return []*memory{{sealWith(t, oldKey, "ed25519")}}, Rotation{Current: oldKey, NewKeyFile: filepath.Join(dir, "next.key")}
		}},
		{name: "environment: a key the operator chose", newKey: otherKey, setup: func(t *testing.T, dir string) ([]*memory, Rotation) {
			return []*memory{{sealWith(t, oldKey, "ed25519")}}, Rotation{Current: oldKey, NewKeyFile: writeKey(t, dir, "chosen.key", otherKey)}
		}},
		{name: "a value no key opens rolls everything back", err: "license keys", unchanged: true, setup: func(t *testing.T, dir string) ([]*memory, Rotation) {
			keyFile := writeKey(t, dir, "secret.key", oldKey)
			return []*memory{{sealWith(t, oldKey, "ed25519")}, {sealWith(t, strings.Repeat("?", 64), "stray")}},
				Rotation{Current: oldKey, KeyFile: keyFile, NewKeyFile: keyFile + NewSuffix}
		}},
		{name: "the new key file holds the current key", err: "holds the current master key", unchanged: true, setup: func(t *testing.T, dir string) ([]*memory, Rotation) {
			return []*memory{{sealWith(t, oldKey, "ed25519")}}, Rotation{Current: oldKey, NewKeyFile: writeKey(t, dir, "same.key", oldKey)}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			stores, r := tt.setup(t, dir)
			before := make([]map[string]string, len(stores))
			sealed := make([]Sealed, len(stores))
			for i, s := range stores {
				before[i] = maps.Clone(s.values)
				sealed[i] = Sealed{Name: []string{"account keys", "license keys"}[i], Store: s}
			}
			report, err := Rotate(context.Background(), tx{stores}, sealed, r)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if tt.unchanged {
				for i, s := range stores {
					if !maps.Equal(s.values, before[i]) {
						t.Fatal("a failed rotation changed values")
					}
				}
				if r.KeyFile != "" && (readKey(t, r.KeyFile) != oldKey || readKey(t, r.KeyFile+OldSuffix) != oldKey) {
					t.Fatal("a failed rotation replaced the key file, or did not keep the old key beside it")
				}
				return
			}
			newKey := tt.newKey
			if newKey == "" {
				newKey = readKey(t, report.KeyFile)
			}
			if newKey == oldKey || len(newKey) < 32 {
				t.Fatalf("new key %q", newKey)
			}
			for _, s := range stores {
				if !opens(t, newKey, s.values) {
					t.Fatal("the new key does not open every value")
				}
				for plain, v := range s.values {
					if opens(t, oldKey, map[string]string{plain: v}) {
						t.Fatal("the old key still opens a value")
					}
				}
			}
			if readKey(t, report.KeyFile) != newKey {
				t.Fatalf("%s does not hold the new key", report.KeyFile)
			}
			if r.KeyFile != "" {
				if report.KeyFile != r.KeyFile {
					t.Fatalf("report names %s, want the key file %s", report.KeyFile, r.KeyFile)
				}
				for _, leftover := range []string{r.KeyFile + OldSuffix, r.KeyFile + NewSuffix} {
					if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
						t.Fatalf("%s is left behind", leftover)
					}
				}
				if info, _ := os.Stat(r.KeyFile); info.Mode().Perm() != 0o600 {
					t.Fatalf("key file mode %v", info.Mode().Perm())
				}
			}
		})
	}
}

func writeKey(t *testing.T, dir, name, key string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := keyring.Save(path, key); err != nil {
		t.Fatal(err)
	}
	return path
}

func readKey(t *testing.T, path string) string {
	t.Helper()
	key, err := keyring.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

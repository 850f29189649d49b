// Package keyring derives purpose-bound keys from relkey's master key
// (RELKEY_SECRET_KEY) and encrypts secrets at rest with it.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/relkey/relkey/internal/durable"
)

// Keyring holds the keys derived from the master key.
type Keyring struct {
	encryption cipher.AEAD
	urlSigning []byte
}

// New derives the keyring from a master key.
func New(master string) (*Keyring, error) {
	if master == "" {
		return nil, errors.New("keyring: empty master key")
	}
	block, err := aes.NewCipher(Derive(master, "relkey/encryption"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Keyring{encryption: aead, urlSigning: Derive(master, "relkey/url-signing")}, nil
}

// Derive returns a 32-byte key for one purpose: HMAC-SHA256(master, purpose).
func Derive(master, purpose string) []byte {
	mac := hmac.New(sha256.New, []byte(master))
	mac.Write([]byte(purpose))
	return mac.Sum(nil)
}

// URLSigningKey is the key that signs the local object store's URLs.
func (k *Keyring) URLSigningKey() []byte { return k.urlSigning }

const sealedPrefix = "v1:"

// Seal encrypts plaintext; the result is printable text for a database column.
func (k *Keyring) Seal(plaintext []byte) (string, error) {
	nonce := make([]byte, k.encryption.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	sealed := k.encryption.Seal(nonce, nonce, plaintext, nil)
	return sealedPrefix + base64.StdEncoding.EncodeToString(sealed), nil
}

// Open decrypts what Seal produced; a wrong master key or tampering fails.
func (k *Keyring) Open(sealed string) ([]byte, error) {
	raw, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return nil, errors.New("keyring: unknown sealed format")
	}
	data, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	n := k.encryption.NonceSize()
	if len(data) < n {
		return nil, errors.New("keyring: sealed value too short")
	}
	plain, err := k.encryption.Open(nil, data[:n], data[n:], nil)
	if err != nil {
		return nil, errors.New("keyring: cannot decrypt (wrong RELKEY_SECRET_KEY?)")
	}
	return plain, nil
}

// LoadOrCreate reads the master key file at path, or generates one (64 hex
// characters, mode 0600) when it does not exist yet. Concurrent callers,
// in this process or another, agree on one key.
func LoadOrCreate(path string) (string, error) {
	if key, err := Read(path); err == nil {
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	key, err := generate()
	if err != nil {
		return "", err
	}
	tmp, err := durable.WriteTemp(path, keyWriter(key))
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	// A hard link publishes the complete file atomically and fails when
	// another process won the race, in which case its key is the one.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return Read(path)
		}
		return "", err
	}
	return key, durable.SyncDir(filepath.Dir(path))
}

// generate returns a new random master key: 64 hex characters.
func generate() (string, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return hex.EncodeToString(buf), nil
}

// Save writes key to the file at path (mode 0600), replacing it
// atomically: readers, and the file after a crash, hold the old key or the
// whole new one.
func Save(path, key string) error { return durable.WriteFile(path, keyWriter(key)) }

func keyWriter(key string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, key+"\n")
		return err
	}
}

// Read returns the master key the file at path holds.
func Read(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	key := strings.TrimSpace(string(raw))
	if len(key) < 32 {
		return "", fmt.Errorf("%s holds no usable key (want at least 32 characters)", path)
	}
	return key, nil
}

package checkout

import (
	"bytes"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/relkey/relkey/internal/httpsig"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// certificate is the payload a file's certificate frames.
type certificate struct {
	Enc string `json:"enc"`
	Sig string `json:"sig"`
	Alg string `json:"alg"`
}

// parse reads a certificate as Keygen's SDKs do: the exact header and
// footer, base64 between them (line breaks ignored), a JSON payload of
// exactly enc, sig and alg.
func parse(t *testing.T, kind Kind, cert string) certificate {
	t.Helper()
	label := map[Kind]string{License: "LICENSE FILE", Machine: "MACHINE FILE"}[kind]
	header, footer := "-----BEGIN "+label+"-----\n", "-----END "+label+"-----\n"
	body, framed := strings.CutPrefix(cert, header)
	body, ended := strings.CutSuffix(body, footer)
	if !framed || !ended || !strings.HasSuffix(body, "\n") {
		t.Fatalf("certificate is not framed by %q and %q:\n%s", header, footer, cert)
	}
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	for i, line := range lines {
		if len(line) > lineWidth || i < len(lines)-1 && len(line) != lineWidth {
			t.Fatalf("line %d is %d characters, want lines of 60 (the last at most), as Keygen's Base64.encode64", i+1, len(line))
		}
	}
	raw, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		t.Fatalf("payload is not standard base64: %v", err)
	}
	var members map[string]string
	if err := json.Unmarshal(raw, &members); err != nil || len(members) != 3 {
		t.Fatalf("payload %s: %v, want an object of enc, sig and alg", raw, err)
	}
	var c certificate
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// open decrypts "<ciphertext>.<iv>.<tag>" as the SDKs do: AES-256-GCM
// under SHA-256(secret), the tag appended to the ciphertext.
func open(enc, secret string) ([]byte, error) {
	var parts [3][]byte
	for i, p := range strings.SplitN(enc, ".", 3) {
		var err error
		if parts[i], err = base64.StdEncoding.DecodeString(p); err != nil {
			return nil, err
		}
	}
	key := sha256.Sum256([]byte(secret))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if len(parts[1]) != 12 || len(parts[2]) != 16 {
		return nil, os.ErrInvalid
	}
	return gcm.Open(nil, parts[1], append(parts[0], parts[2]...), nil)
}

func testKey() ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

func TestCertificateRoundTrip(t *testing.T) {
	signer := testKey()
	// Long enough to span lines, with bytes JSON would escape.
	dataset := []byte(`{"data":{"type":"licenses","id":"lic1","attributes":{"key":"KEY-123","name":"<Acme & Co>"}},"meta":{"ttl":2629746}}`)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]crypto.Signer{httpsig.Ed25519: signer, httpsig.RSAPSSSHA256: rsaKey, httpsig.RSASHA256: rsaKey, httpsig.ECDSAP256: ecKey}
	tests := []struct {
		kind    Kind
		encrypt bool
		secret  string
		signing string
		alg     string
	}{
		{License, false, "KEY-123", httpsig.Ed25519, "base64+ed25519"},
		{License, true, "KEY-123", httpsig.Ed25519, "aes-256-gcm+ed25519"},
		{Machine, false, "KEY-123FP-9", httpsig.Ed25519, "base64+ed25519"},
		{Machine, true, "KEY-123FP-9", httpsig.Ed25519, "aes-256-gcm+ed25519"},
		{License, false, "KEY-123", httpsig.RSAPSSSHA256, "base64+rsa-pss-sha256"},
		{License, true, "KEY-123", httpsig.RSASHA256, "aes-256-gcm+rsa-sha256"},
		{Machine, true, "KEY-123FP-9", httpsig.RSAPSSSHA256, "aes-256-gcm+rsa-pss-sha256"},
		{Machine, false, "KEY-123FP-9", httpsig.ECDSAP256, "base64+ecdsa-p256"},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind)+"/"+tt.alg, func(t *testing.T) {
			key := keys[tt.signing]
			public := key.Public()
			cert, alg, err := Certificate(tt.kind, dataset, tt.encrypt, tt.secret, tt.signing, signWith(tt.signing, key))
			if err != nil {
				t.Fatal(err)
			}
			c := parse(t, tt.kind, cert)
			if alg != tt.alg || c.Alg != tt.alg {
				t.Errorf("algorithm %q, payload alg %q, want %q", alg, c.Alg, tt.alg)
			}
			sig, err := base64.StdEncoding.DecodeString(c.Sig)
			if err != nil || httpsig.Verify(tt.signing, public, []byte(string(tt.kind)+"/"+c.Enc), sig) != nil {
				t.Errorf("sig does not verify over %q + enc: %v", tt.kind+"/", err)
			}
			other := map[Kind]string{License: "machine/", Machine: "license/"}[tt.kind]
			if httpsig.Verify(tt.signing, public, []byte(other+c.Enc), sig) == nil {
				t.Errorf("a %s file's signature verifies as a %s", tt.kind, other)
			}
			if !tt.encrypt {
				if got, err := base64.StdEncoding.DecodeString(c.Enc); err != nil || !bytes.Equal(got, dataset) {
					t.Errorf("enc decodes to %q, %v; want the dataset", got, err)
				}
				return
			}
			if got, err := open(c.Enc, tt.secret); err != nil || !bytes.Equal(got, dataset) {
				t.Errorf("enc decrypts to %q, %v; want the dataset", got, err)
			}
			for _, wrong := range []string{"", "KEY-124", tt.secret + "x", strings.TrimSuffix(tt.secret, "FP-9")} {
				if wrong == tt.secret {
					continue
				}
				if _, err := open(c.Enc, wrong); err == nil {
					t.Errorf("decrypted with the secret %q", wrong)
				}
			}
			again, _, err := Certificate(tt.kind, dataset, true, tt.secret, tt.signing, signWith(tt.signing, key))
			if err != nil || parse(t, tt.kind, again).Enc == c.Enc {
				t.Error("two encryptions of one dataset are alike: the IV is not random")
			}
		})
	}
}

// signWith signs by algorithm with key.
func signWith(algorithm string, key crypto.Signer) func([]byte) ([]byte, error) {
	return func(message []byte) ([]byte, error) { return httpsig.Sign(algorithm, key, message) }
}

func TestCertificateWrapping(t *testing.T) {
	// Payloads of every length modulo 64 wrap without empty lines.
	for n := range 100 {
		dataset := bytes.Repeat([]byte("x"), n)
		for _, kind := range []Kind{License, Machine} {
			cert, _, err := Certificate(kind, dataset, false, "", httpsig.Ed25519, signWith(httpsig.Ed25519, testKey()))
			if err != nil {
				t.Fatal(err)
			}
			if c := parse(t, kind, cert); c.Enc != base64.StdEncoding.EncodeToString(dataset) || strings.Contains(cert, "\n\n") {
				t.Fatalf("%d bytes: enc %q, certificate\n%s", n, c.Enc, cert)
			}
		}
	}
}

// TestCertificateGolden pins an unencrypted license file: Ed25519
// signatures are deterministic, so a fixed key and dataset give one
// certificate (go test -run Golden -update rewrites it).
func TestCertificateGolden(t *testing.T) {
	dataset := []byte(`{"data":{"type":"licenses","id":"0b4b1a9e-3f2c-4d5e-8f90-1a2b3c4d5e6f","attributes":{"key":"ABC-DEF-GHI","expiry":null}},"meta":{"issued":"2024-05-06T05:08:09.123Z","expiry":"2024-06-05T15:37:15.123Z","ttl":2629746}}`)
	cert, alg, err := Certificate(License, dataset, false, "ABC-DEF-GHI", httpsig.Ed25519, signWith(httpsig.Ed25519, testKey()))
	if err != nil || alg != "base64+ed25519" {
		t.Fatalf("%q, %v", alg, err)
	}
	path := filepath.Join("testdata", "license-file.golden")
	if *update {
		if err := os.WriteFile(path, []byte(cert), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if cert != string(want) {
		t.Errorf("certificate changed:\n%s\nwant:\n%s", cert, want)
	}
	c := parse(t, License, string(want))
	sig, _ := base64.StdEncoding.DecodeString(c.Sig)
	if !ed25519.Verify(testKey().Public().(ed25519.PublicKey), []byte("license/"+c.Enc), sig) {
		t.Error("the golden certificate does not verify")
	}
	if got, _ := base64.StdEncoding.DecodeString(c.Enc); c.Alg != "base64+ed25519" || !bytes.Equal(got, dataset) {
		t.Errorf("golden alg %q, enc %q; want base64+ed25519 of the dataset", c.Alg, got)
	}
}

package httpsig

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
)

func TestParseAccept(t *testing.T) {
	const account = "acct"
	tests := []struct {
		header    string
		want      Accept
		err       error
		algorithm string
	}{
		{header: `algorithm="ed25519"`, want: Accept{Algorithm: "ed25519"}},
		{header: `algorithm="RSA-PSS-SHA256";`, want: Accept{Algorithm: "RSA-PSS-SHA256"}},
		{header: `keyid="acct", algorithm="ecdsa-p256"`, want: Accept{KeyID: "acct", Algorithm: "ecdsa-p256"}},
		{header: `keyid="acct",algorithm="rsa-sha256" ; `, want: Accept{KeyID: "acct", Algorithm: "rsa-sha256"}},
		{header: `keyid="other", algorithm="ed25519"`, err: ErrKeyID},
		{header: `algorithm="rsa-sha1"`, err: ErrUnsupported},
		{header: `keyid="acct" algorithm="ed25519"`, err: ErrMalformed},
		{header: `<algorithm:rsa>`, err: ErrMalformed},
		{header: `keyid="acct"`, err: ErrMalformed},
	}
	for _, tt := range tests {
		got, err := ParseAccept(tt.header, account)
		if !errors.Is(err, tt.err) || (tt.err == nil && got != tt.want) {
			t.Errorf("%s: %+v, %v; want %+v, %v", tt.header, got, err, tt.want, tt.err)
		}
	}
}

func TestSignVerify(t *testing.T) {
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys := map[Key]crypto.Signer{KeyEd25519: ed, KeyRSA: rk, KeyECDSA: ek}
	message := []byte("(request-target): get /v1/x")
	for _, algorithm := range append(Algorithms, "RSA-SHA256") {
		kind, ok := KeyOf(algorithm)
		if !ok {
			t.Fatalf("%s unsupported", algorithm)
		}
		sig, err := Sign(algorithm, keys[kind], message)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(algorithm, keys[kind].Public(), message, sig); err != nil {
			t.Errorf("%s: %v", algorithm, err)
		}
		if Verify(algorithm, keys[kind].Public(), []byte("tampered"), sig) == nil {
			t.Errorf("%s verifies a tampered message", algorithm)
		}
		if _, err := Sign(algorithm, keys[(kind+1)%3], message); err == nil {
			t.Errorf("%s signs with the wrong key kind", algorithm)
		}
	}
	if _, ok := KeyOf("rsa-sha1"); ok {
		t.Error("rsa-sha1 supported")
	}
}

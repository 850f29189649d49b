package totp

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA-1: the secret is "12345678901234567890"; the
// RFC prints 8 digits, whose last 6 are the 6-digit codes.
func TestRFC6238Vectors(t *testing.T) {
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte("12345678901234567890"))
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	} {
		got, err := Code(secret, Counter(time.Unix(tc.unix, 0)))
		if err != nil || got != tc.want {
			t.Errorf("t=%d: %q %v, want %q", tc.unix, got, err, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	secret, err := NewSecret()
	if err != nil || len(secret) != 32 {
		t.Fatalf("secret %q %v", secret, err)
	}
	now := time.Unix(1_700_000_015, 0) // 15 s into a step
	cur := Counter(now)
	code := func(c int64) string { s, _ := Code(secret, c); return s }
	for _, tc := range []struct {
		name  string
		code  string
		after int64
		ok    bool
		step  int64
	}{
		{"current step", code(cur), 0, true, cur},
		{"previous step within the drift", code(cur - 1), 0, true, cur - 1},
		{"two steps back is too old", code(cur - 2), 0, false, 0},
		{"next step is not yet valid", code(cur + 1), 0, false, 0},
		{"a used step is refused", code(cur), cur, false, 0},
		{"a step after the used one works", code(cur), cur - 1, true, cur},
		{"wrong length", "12345", 0, false, 0},
		{"not the code", "000000", 0, code(cur) == "000000" || code(cur-1) == "000000", cur},
	} {
		t.Run(tc.name, func(t *testing.T) {
			step, ok, err := Match(secret, tc.code, now, 20*time.Second, tc.after)
			if err != nil || ok != tc.ok || (ok && step != tc.step) {
				t.Fatalf("Match = %d %v %v, want %d %v", step, ok, err, tc.step, tc.ok)
			}
		})
	}
	if _, _, err := Match("not base32!", "123456", now, 0, 0); err == nil {
		t.Fatal("a malformed secret matched without error")
	}
}

func TestURI(t *testing.T) {
	got := URI("JBSWY3DPEHPK3PXP", "relkey", "ada@example.com")
	want := "otpauth://totp/relkey:ada@example.com?issuer=relkey&secret=JBSWY3DPEHPK3PXP"
	if got != want {
		t.Fatalf("URI = %s", got)
	}
	if !strings.HasPrefix(URI("S", "a b", "c"), "otpauth://totp/a%20b:c?") {
		t.Fatal("label not escaped")
	}
}

// Package totp is RFC 6238 time-based one-time passwords as authenticator
// apps make them: HMAC-SHA1, 6 digits, 30-second steps, base32 secrets.
package totp

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Step is the length of one time step; Digits the length of a code.
const (
	Step   = 30 * time.Second
	Digits = 6
)

var encoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret returns a random 160-bit secret in base32 (32 characters).
func NewSecret() (string, error) {
	buf := make([]byte, 20)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	return encoding.EncodeToString(buf), nil
}

// Counter is the time step t falls in.
func Counter(t time.Time) int64 { return t.Unix() / int64(Step/time.Second) }

// Code is the one-time password of secret for the step counter (RFC 4226's
// HOTP over the RFC 6238 counter).
func Code(secret string, counter int64) (string, error) {
	key, err := encoding.DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil {
		return "", fmt.Errorf("totp: secret: %w", err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	offset := sum[len(sum)-1] & 0x0f
	value := binary.BigEndian.Uint32(sum[offset:offset+4]) & 0x7fffffff
	return fmt.Sprintf("%0*d", Digits, value%1_000_000), nil
}

// Match returns the step at which code is valid for secret: the step of
// now or of up to drift before it, but never a step at or before after (a
// code once used stays used). ok is false when no step matches.
func Match(secret, code string, now time.Time, drift time.Duration, after int64) (step int64, ok bool, err error) {
	code = strings.TrimSpace(code)
	if len(code) != Digits {
		return 0, false, nil
	}
	last := Counter(now)
	for c := Counter(now.Add(-drift)); c <= last; c++ {
		if c <= after {
			continue
		}
		want, err := Code(secret, c)
		if err != nil {
			return 0, false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return c, true, nil
		}
	}
	return 0, false, nil
}

// URI is the otpauth:// provisioning URI authenticator apps read (as a QR
// code), labelled issuer:account.
func URI(secret, issuer, account string) string {
	label := url.PathEscape(issuer + ":" + account)
	q := url.Values{"secret": {secret}, "issuer": {issuer}}
	return "otpauth://totp/" + label + "?" + q.Encode()
}

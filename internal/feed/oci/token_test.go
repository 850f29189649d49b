package oci

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/relkey/relkey/internal/apperr"
	"github.com/relkey/relkey/internal/feed/feedtest"
	"github.com/relkey/relkey/internal/keyring"
)

func TestRepository(t *testing.T) {
	for name, want := range map[string][3]string{
		"app":                               {"", "app", "ok"},
		"acme/app":                          {"acme", "app", "ok"},
		"v1/engines/oci/app":                {"", "app", "ok"},
		"v1/accounts/acme/engines/oci/app":  {"acme", "app", "ok"},
		"v1/accounts/acme/engines/pypi/app": {"", "", ""},
		"a/b/c":                             {"", "", ""},
		"":                                  {"", "", ""},
		"acme/":                             {"acme", "", ""},
	} {
		account, pkg, ok := Repository(name)
		if got := [3]string{account, pkg, map[bool]string{true: "ok"}[ok]}; got != want {
			t.Errorf("Repository(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestScopes(t *testing.T) {
	got := scopes([]string{"repository:acme/app:pull,push repository:tools:pull", "repository:acme/other:*", "registry:catalog:*", "repository:x:delete"})
	want := []scope{{"acme", "app", []string{"pull", "push"}}, {"", "tools", []string{"pull"}}, {"acme", "other", []string{"pull", "push"}}, {"", "x", nil}}
	if !slices.EqualFunc(got, want, func(a, b scope) bool {
		return a.account == b.account && a.pkg == b.pkg && slices.Equal(a.actions, b.actions)
	}) {
		t.Fatalf("scopes = %+v, want %+v", got, want)
	}
}

func TestTokens(t *testing.T) {
	kr, err := keyring.New("a master key of at least thirty-two characters")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tk := NewTokens(kr)
	tk.SetClock(func() time.Time { return now })
	g := Grant{Account: "acct", Packages: map[string][]string{"app": {"pull"}}, Authorization: "Basic bGljZW5zZTprZXk="}
	token, err := tk.Issue(g)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(token, "bGljZW5zZTprZXk") || strings.Contains(token, "acct") {
		t.Fatalf("the token shows what it seals: %q", token)
	}
	got, err := tk.Open(token)
	if err != nil || !got.Allows("acct", "app", "pull") || got.Allows("acct", "app", "push") || got.Allows("other", "app", "pull") ||
		got.Allows("acct", "tools", "pull") || got.Authorization != g.Authorization {
		t.Fatalf("Open = %+v, %v", got, err)
	}
	for name, bad := range map[string]string{"no prefix": token[len(tokenPrefix):], "tampered": token[:len(token)-2] + "AA", "not sealed": tokenPrefix + "x"} {
		if _, err := tk.Open(bad); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("%s: %v", name, err)
		}
	}
	other, _ := keyring.New("another master key of at least thirty-two chars")
	if _, err := NewTokens(other).Open(token); !apperr.Is(err, apperr.Unauthenticated) {
		t.Errorf("sealed by another key: %v", err)
	}
	now = now.Add(TokenLifetime)
	if _, err := tk.Open(token); err == nil || err.(*apperr.Error).Code != "TOKEN_EXPIRED" {
		t.Errorf("expired: %v", err)
	}
}

func TestChannel(t *testing.T) {
	for tag, want := range map[string]string{"1.2.0": "stable", "1.2.0-beta.1": "beta", "2.0.0-rc.2": "rc", "1.0.0-alpha": "alpha",
		"1.0.0-dev.3": "dev", "1.0.0-nightly.1": "", "latest": "", "v1.2.0": "", "1.2": ""} {
		got, ok := Channel(tag)
		if got != want || ok != (want != "") {
			t.Errorf("Channel(%q) = %q %v, want %q", tag, got, ok, want)
		}
	}
}

func TestTokenAnswerWireFormat(t *testing.T) {
	body, err := json.Marshal(TokenAnswer{Token: "rkoci.v1:SEALED-GRANT", AccessToken: "rkoci.v1:SEALED-GRANT", ExpiresIn: int(TokenLifetime / time.Second),
		IssuedAt: "2026-01-02T03:04:05Z"})
	if err != nil {
		t.Fatal(err)
	}
	feedtest.Golden(t, "token.json", append(body, '\n'))
}

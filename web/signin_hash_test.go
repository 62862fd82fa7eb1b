package web

import (
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
)

// Anti-enumeration (SPEC §8, ram.Service.SignIn): a sign-in with an unknown
// name computes the same number of argon2id hashes as one with a known name
// and a wrong password, so the time taken does not tell whether the name
// exists. The service's hash hook runs once per argon2id computation.
func TestSignInHashesAsMuchForUnknownNames(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	expectHandover(t, owner.post("/users", url.Values{"name": {"rita"}, "console_login": {"true"}, "password": {ramUserPW}}), "create rita")
	owner.get("/users/new")
	expectRedirect(t, owner.post("/users", url.Values{"name": {"nologin"}}), "/users/nologin", "create nologin (no console access)")

	var hashes atomic.Int64
	h.svc.SetHashHook(func() { hashes.Add(1) })
	t.Cleanup(func() { h.svc.SetHashHook(func() {}) })
	countSignIn := func(username, password string) int64 {
		t.Helper()
		b := h.browser()
		b.get("/login")
		before := hashes.Load()
		p := b.post("/login", url.Values{"username": {username}, "password": {password}})
		expectStatus(t, p, http.StatusUnauthorized, "sign-in as "+username+" with a wrong password")
		return hashes.Load() - before
	}

	known := countSignIn("rita", "Not-Ritas-Password-41")
	if known < 1 {
		t.Fatalf("a known name with a wrong password computed %d password hashes, want at least 1", known)
	}
	for _, tc := range []struct{ what, username string }{
		{"the owner's email", testOwnerEmail},
		{"an unknown name", "nobody-by-this-name"},
		{"an unknown email", "nobody@example.com"},
		{"a user without console access", "nologin"},
	} {
		if got := countSignIn(tc.username, "Not-Ritas-Password-41"); got != known {
			t.Errorf("sign-in as %s (%q) computed %d password hashes, want %d as for a known name", tc.what, tc.username, got, known)
		}
	}
}

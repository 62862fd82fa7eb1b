package web

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"ramconsole/ram"
)

// A stranger who knows the owner's email cannot lock the owner out with
// wrong passwords: the password step is followed by a mandatory code, so
// password failures alone do not count while a device is bound. The owner
// still signs in with the right password and code.
func TestStrangerCannotLockOutOwner(t *testing.T) {
	h := newHarness(t)
	_, secret := h.setupOwner()
	stranger := h.browser()
	stranger.get("/login")
	for i := 0; i < 20; i++ {
		expectStatus(t, stranger.post("/login", url.Values{"username": {testOwnerEmail}, "password": {fmt.Sprintf("guess-%d", i)}}), 401, "stranger's guess")
	}
	h.signIn(secret)
	for _, e := range h.events() {
		if e.ErrorCode == "AccountLocked" {
			t.Fatalf("the owner was locked by password guesses")
		}
	}
}

// Guessing stays bounded: wrong codes after the password lock the owner
// (MaxLoginAttemps), and without a bound device — when the password alone
// leads to binding one — wrong passwords lock as before.
func TestOwnerGuessingStillBounded(t *testing.T) {
	h := newHarness(t)
	_, secret := h.setupOwner()
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), "/login/mfa", "password")
	b.get("/login/mfa")
	for i := 0; i < 5; i++ {
		expectStatus(t, b.post("/login/mfa", url.Values{"code": {fmt.Sprintf("00000%d", i)}}), 401, "wrong code")
	}
	expectStatus(t, b.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}}), 401, "right code after five wrong ones")

	// The host removes the device: the password is the only factor now.
	h2 := newHarness(t)
	h2.setupOwner()
	if _, err := h2.svc.ResetOwnerMFA(context.Background(), ram.Actor{RequestID: "host-1", SourceIP: "host"}); err != nil {
		t.Fatal(err)
	}
	c := h2.browser()
	c.get("/login")
	for i := 0; i < 5; i++ {
		expectStatus(t, c.post("/login", url.Values{"username": {testOwnerEmail}, "password": {fmt.Sprintf("guess-%d", i)}}), 401, "guess without a device")
	}
	expectStatus(t, c.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), 401, "right password after five guesses without a device")
}

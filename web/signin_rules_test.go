package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestPasswordExpiry(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"olga"}, "console_login": {"true"}, "password": {ramUserPW}})
	owner.get("/settings")
	expectRedirect(t, owner.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"12"}, "MaxPasswordAge": {"30"},
		"PasswordReusePrevention": {"2"}, "MaxLoginAttemps": {"5"}}), "/settings", "policy with a 30-day age")
	signIn := func() page {
		b := h.browser()
		b.get("/login")
		return b.post("/login", url.Values{"username": {"olga"}, "password": {ramUserPW}})
	}
	expectRedirect(t, signIn(), "/", "a fresh password")
	h.clock.Advance(31 * 24 * time.Hour)
	expectRedirect(t, signIn(), "/password/change", "an expired password must be changed first")
	// HardExpiry: blocked until an administrator resets it.
	b := h.ownerAgain()
	b.get("/settings")
	expectRedirect(t, b.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"12"}, "MaxPasswordAge": {"30"}, "HardExpiry": {"true"},
		"PasswordReusePrevention": {"2"}, "MaxLoginAttemps": {"5"}}), "/settings", "hard expiry")
	p := signIn()
	expectStatus(t, p, http.StatusForbidden, "expired under HardExpiry")
	if !strings.Contains(p.body, "expired") {
		t.Errorf("the refusal does not say the password expired")
	}
	if !h.hasEvent("ConsoleSignin", "PasswordExpired") {
		t.Errorf("no PasswordExpired event")
	}
	b.get("/users/olga")
	newPW := "Reset-By-The-Owner-39"
	expectHandover(t, b.post("/users/olga/login-profile/password", url.Values{"password": {newPW}, "password_reset_required": {"true"}}), "admin reset")
	c := h.browser()
	c.get("/login")
	expectRedirect(t, c.post("/login", url.Values{"username": {"olga"}, "password": {newPW}}), "/password/change", "after the reset: change it")
	// Reuse prevention: the last two passwords are refused.
	c.get("/password/change")
	p = c.post("/password/change", url.Values{"current_password": {newPW}, "new_password": {newPW}, "confirm_password": {newPW}})
	expectStatus(t, p, 422, "the same password")
}

// ownerAgain signs the owner in again in a fresh browser (its device is
// already bound by setupOwner).
func (h *harness) ownerAgain() *browser {
	h.t.Helper()
	return h.signIn(h.ownerSecret)
}

func TestEnforceMFAForLoginAndRememberedDevice(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"pia"}, "console_login": {"true"}, "password": {ramUserPW}})
	owner.get("/settings")
	expectRedirect(t, owner.post("/settings/security", url.Values{"LoginSessionDuration": {"6"}, "EnforceMFAForLogin": {"true"},
		"EnableSaveMFATicket": {"true"}, "AllowUserToChangePassword": {"true"}, "AllowUserToManageMFADevices": {"true"}}), "/settings", "enforce MFA")
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"pia"}, "password": {ramUserPW}}), "/mfa/bind", "MFA required for every user")
	p := b.get("/mfa/bind")
	secret := find(t, secretRE, p.body, "MFA secret")
	expectRedirect(t, b.post("/mfa/bind", url.Values{"code1": {h.code(secret, -1)}, "code2": {h.code(secret, 0)}}), "/", "bound")
	h.clock.Advance(30 * time.Second)

	// Sign in again and remember the device.
	c := h.browser()
	c.get("/login")
	expectRedirect(t, c.post("/login", url.Values{"username": {"pia"}, "password": {ramUserPW}}), "/login/mfa", "MFA step")
	p = c.get("/login/mfa")
	if !strings.Contains(p.body, `name="remember"`) {
		t.Fatalf("no remember-this-device box")
	}
	expectRedirect(t, c.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}, "remember": {"true"}}), "/", "remembered")
	c.post("/logout", nil)
	c.get("/login")
	expectRedirect(t, c.post("/login", url.Values{"username": {"pia"}, "password": {ramUserPW}}), "/", "the remembered device skips the code")
	// Another browser still needs the code.
	d := h.browser()
	d.get("/login")
	expectRedirect(t, d.post("/login", url.Values{"username": {"pia"}, "password": {ramUserPW}}), "/login/mfa", "an unknown device")
	// Eight days later the ticket is gone.
	h.clock.Advance(8 * 24 * time.Hour)
	c.get("/login")
	expectRedirect(t, c.post("/login", url.Values{"username": {"pia"}, "password": {ramUserPW}}), "/login/mfa", "after 7 days")
}

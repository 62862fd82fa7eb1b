package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// Every check of a password or code counts toward lockout as a sign-in
// failure does (SPEC §2: MaxLoginAttemps failures within one hour lock the
// identity for one hour), is audited as a failure, and a locked identity is
// refused there too, even with the right password.

// countEvents counts the audit events named name with errorCode.
func (h *harness) countEvents(name, errorCode string) int {
	n := 0
	for _, e := range h.events() {
		if e.EventName == name && e.ErrorCode == errorCode {
			n++
		}
	}
	return n
}

// expectSignInLocked checks that the identity is locked for sign-in too.
func (h *harness) expectSignInLocked(logon, password string) {
	h.t.Helper()
	b := h.browser()
	b.get("/login")
	expectStatus(h.t, b.post("/login", url.Values{"username": {logon}, "password": {password}}), http.StatusUnauthorized, "sign-in with the right password while locked")
}

func TestPasswordChangeCountsTowardLockout(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	expectHandover(t, owner.post("/users", url.Values{"name": {"lou"}, "console_login": {"true"}, "password": {ramUserPW}}), "create lou")
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"lou"}, "password": {ramUserPW}}), "/", "lou signs in")
	newPW := "Another-Fine-Secret-58"
	b.get("/password/change")
	for i := 0; i < 5; i++ {
		p := b.post("/password/change", url.Values{"current_password": {"not-the-password-" + string(rune('a'+i))}, "new_password": {newPW}, "confirm_password": {newPW}})
		expectStatus(t, p, http.StatusUnprocessableEntity, "wrong current password")
	}
	p := b.post("/password/change", url.Values{"current_password": {ramUserPW}, "new_password": {newPW}, "confirm_password": {newPW}})
	if p.status == http.StatusSeeOther {
		t.Fatalf("the right current password changed the password of a locked user")
	}
	if !strings.Contains(p.body, "Too many failed attempts") {
		t.Errorf("the refusal does not say why: %d %s", p.status, p.body)
	}
	if n := h.countEvents("ChangePassword", "InvalidParameter.OldPassword.Incorrect"); n != 5 {
		t.Errorf("%d failed ChangePassword events, want 5", n)
	}
	if !h.hasEvent("ChangePassword", "AccountLocked") {
		t.Errorf("no AccountLocked event for the refused change")
	}
	h.expectSignInLocked("lou", ramUserPW)
	h.clock.Advance(61 * time.Minute)
	b.get("/password/change")
	expectRedirect(t, b.post("/password/change", url.Values{"current_password": {ramUserPW}, "new_password": {newPW}, "confirm_password": {newPW}}), "/", "after an hour")
}

func TestOwnMFAUnbindCountsTowardLockout(t *testing.T) {
	h := newHarness(t)
	owner, secret := h.setupOwner()
	owner.get("/mfa/bind")
	for i := 0; i < 3; i++ {
		p := owner.post("/mfa/unbind", url.Values{"password": {"wrong password " + string(rune('a'+i))}, "code": {h.code(secret, 0)}})
		expectStatus(t, p, http.StatusUnprocessableEntity, "unbind with a wrong password")
	}
	for i := 0; i < 2; i++ {
		p := owner.post("/mfa/unbind", url.Values{"password": {testOwnerPW}, "code": {"00000" + string(rune('0'+i))}})
		expectStatus(t, p, http.StatusUnprocessableEntity, "unbind with a wrong code")
	}
	p := owner.post("/mfa/unbind", url.Values{"password": {testOwnerPW}, "code": {h.code(secret, 0)}})
	if p.status == http.StatusSeeOther {
		t.Fatalf("a locked owner unbound its device")
	}
	if !strings.Contains(p.body, "Too many failed attempts") {
		t.Errorf("the refusal does not say why: %d %s", p.status, p.body)
	}
	if n := h.countEvents("UnbindMFADevice", "InvalidParameter.Password") + h.countEvents("UnbindMFADevice", "CheckAuthenticationCodeFail"); n != 5 {
		t.Errorf("%d failed UnbindMFADevice events, want 5", n)
	}
	if !h.hasEvent("UnbindMFADevice", "AccountLocked") {
		t.Errorf("no AccountLocked event for the refused unbind")
	}
	h.expectSignInLocked(testOwnerEmail, testOwnerPW)
}

func TestAPIChangePasswordCountsTowardLockout(t *testing.T) {
	env := newAPIEnv(t)
	env.owner.get("/users/new")
	p := env.owner.post("/users", url.Values{"name": {"apilou"}, "console_login": {"true"}, "password": {ramUserPW}, "create_access_key": {"true"}})
	p = env.owner.follow(p)
	expectStatus(t, p, 200, "create apilou")
	uc := env.sdkClient(find(t, keyIDRE, p.body, "AccessKey ID"), find(t, keySecretRE, p.body, "AccessKey secret"))
	cp := ramsdk.CreateChangePasswordRequest()
	env.at(cp)
	cp.NewPassword = "Zebra-Quartz-7741!x"
	for i := 0; i < 5; i++ {
		cp.OldPassword = "not-the-password-" + string(rune('a'+i))
		_, err := uc.ChangePassword(cp)
		expectCode(t, err, "InvalidParameter.OldPassword.Incorrect", 400, "ChangePassword with a wrong old password")
	}
	cp.OldPassword = ramUserPW
	_, err := uc.ChangePassword(cp)
	expectCode(t, err, "AccountLocked", 403, "ChangePassword with the right old password while locked")
	if n := env.countEvents("ChangePassword", "InvalidParameter.OldPassword.Incorrect"); n != 5 {
		t.Errorf("%d failed ChangePassword events, want 5", n)
	}
	env.expectSignInLocked("apilou", ramUserPW)
}

package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"ramconsole/ram"
	"ramconsole/store"
)

// sqlExec changes the database behind the service's back: the state an
// older version could leave.
func (h *harness) sqlExec(query string, args ...any) {
	h.t.Helper()
	db := h.openDB()
	if _, err := db.Exec(query, args...); err != nil {
		h.t.Fatalf("%s: %v", query, err)
	}
}

// legacyRoot creates an employee and names it "root", as an installation
// from before the name was reserved may have one.
func (h *harness) legacyRoot(owner *browser) employee {
	h.t.Helper()
	e := h.createEmployee(owner, "legacy")
	h.sqlExec("UPDATE users SET user_name = 'root', user_name_lower = 'root' WHERE user_name = 'legacy'")
	e.name = "root"
	return e
}

func (h *harness) userDevice(name string) *store.MFADevice {
	h.t.Helper()
	ctx := context.Background()
	u, err := h.st.UserByName(ctx, name)
	if err != nil {
		h.t.Fatal(err)
	}
	d, err := h.st.MFADeviceFor(ctx, u.Principal())
	if err != nil {
		h.t.Fatalf("%s's device: %v", name, err)
	}
	return d
}

func (h *harness) ownerSerial() string { return "acs:ram::" + h.accountID() + ":mfa/root" }

// ownerBindsAgain signs the owner in after a reset and binds a new device.
func (h *harness) ownerBindsAgain() string {
	h.t.Helper()
	b := h.browser()
	b.get("/login")
	expectRedirect(h.t, b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), "/mfa/bind", "owner after reset")
	p := b.get("/mfa/bind")
	secret := find(h.t, secretRE, p.body, "MFA secret")
	expectRedirect(h.t, b.post("/mfa/bind", url.Values{"code1": {h.code(secret, -1)}, "code2": {h.code(secret, 0)}}), "/", "owner binds again")
	h.clock.Advance(30e9)
	d, err := h.st.MFADeviceFor(context.Background(), string(ram.PrincipalRoot))
	if err != nil {
		h.t.Fatal(err)
	}
	return d.Serial
}

func hostReset(t *testing.T, h *harness) *ram.OwnerMFAReset {
	t.Helper()
	r, err := h.svc.ResetOwnerMFA(context.Background(), ram.Actor{RequestID: ram.NewRequestID(), SourceIP: "host"})
	if err != nil {
		t.Fatalf("reset-mfa: %v", err)
	}
	return r
}

// No RAM user can be named root, in any case, created or renamed, in the
// console or the API; a user who already has the name keeps it.
func TestUserNameRootIsReserved(t *testing.T) {
	env := newAPIEnv(t)
	h, owner := env.harness, env.owner
	for _, name := range []string{"root", "ROOT", "Root"} {
		owner.get("/users/new")
		p := owner.post("/users", url.Values{"name": {name}, "console_login": {"false"}})
		expectStatus(t, p, http.StatusUnprocessableEntity, "create "+name)
		if !strings.Contains(p.body, "reserved") {
			t.Errorf("create %s: no message saying the name is reserved", name)
		}
		create := ramsdk.CreateCreateUserRequest()
		env.at(create)
		create.UserName = name
		_, err := env.client.CreateUser(create)
		se := expectCode(t, err, "InvalidParameter.UserName.Reserved", http.StatusBadRequest, "API CreateUser "+name)
		if !strings.Contains(se.Message(), "reserved") {
			t.Errorf("API message %q", se.Message())
		}
	}
	owner.get("/users/new")
	expectRedirect(t, owner.post("/users", url.Values{"name": {"alice"}, "console_login": {"false"}}), "/users/alice", "create alice")
	owner.get("/users/alice/edit")
	p := owner.post("/users/alice/edit", url.Values{"name": {"Root"}, "display_name": {"Alice"}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "rename to Root")
	if !strings.Contains(p.body, "reserved") {
		t.Errorf("rename: no message saying the name is reserved")
	}
	up := ramsdk.CreateUpdateUserRequest()
	env.at(up)
	up.UserName, up.NewUserName = "alice", "rOOt"
	_, err := env.client.UpdateUser(up)
	expectCode(t, err, "InvalidParameter.NewUserName.Reserved", http.StatusBadRequest, "API rename to rOOt")
	if _, err := h.st.UserByName(context.Background(), "alice"); err != nil {
		t.Errorf("a refused rename changed alice: %v", err)
	}

	// An existing "root" keeps its name and can still be edited.
	h.legacyRoot(owner)
	owner.get("/users/root/edit")
	expectRedirect(t, owner.post("/users/root/edit", url.Values{"name": {"root"}, "display_name": {"Old Root"}}), "/users/root", "edit the legacy root user")
}

// A RAM user named root (an existing one) binding a device does not take
// the owner's serial, so the owner can always bind again after a reset.
func TestOwnerSerialNotSquatted(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	e := h.legacyRoot(owner)
	hostReset(t, h)
	h.signInEmployee("root", e.password)
	if s := h.userDevice("root").Serial; s == h.ownerSerial() {
		t.Fatalf("the user root's device took the owner's serial %s", s)
	}
	if s := h.ownerBindsAgain(); s != h.ownerSerial() {
		t.Errorf("owner serial = %s, want %s", s, h.ownerSerial())
	}
}

// reset-mfa recovers from any state: a device left holding the owner's
// serial (bound to a user, or unbound) gets a serial of its own, and with
// no device at all the reset still succeeds.
func TestOwnerResetMFARepairsSerial(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	e := h.legacyRoot(owner)
	if r := hostReset(t, h); !r.Removed {
		t.Errorf("the owner's device was not reported removed")
	}
	_, secret, userPW := h.signInEmployee("root", e.password)
	// What an older version did: the user's device took the owner's serial.
	h.sqlExec("UPDATE mfa_devices SET serial = ? WHERE principal <> 'root'", h.ownerSerial())

	r := hostReset(t, h)
	if r.Removed || len(r.Moved) != 1 {
		t.Errorf("reset = %+v, want nothing removed and one device moved", r)
	}
	if s := h.ownerBindsAgain(); s != h.ownerSerial() {
		t.Errorf("owner serial = %s, want %s", s, h.ownerSerial())
	}
	if s := h.userDevice("root").Serial; !strings.HasPrefix(s, h.ownerSerial()+"-") {
		t.Errorf("the user's device serial = %s", s)
	}
	// The user's device still works.
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"root"}, "password": {userPW}}), "/login/mfa", "user root password")
	b.get("/login/mfa")
	expectRedirect(t, b.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}}), "/", "user root code")
	h.clock.Advance(30e9)

	// An unbound device left with the owner's serial.
	hostReset(t, h)
	h.sqlExec("UPDATE mfa_devices SET serial = ?, principal = NULL, bound_at = NULL", h.ownerSerial())
	if r := hostReset(t, h); len(r.Moved) != 1 {
		t.Errorf("reset = %+v, want the unbound device moved", r)
	}
	if s := h.ownerBindsAgain(); s != h.ownerSerial() {
		t.Errorf("owner serial = %s, want %s", s, h.ownerSerial())
	}

	// Nothing to reset: still succeeds.
	hostReset(t, h)
	if r := hostReset(t, h); r.Removed || len(r.Moved) != 0 {
		t.Errorf("reset without a device = %+v", r)
	}
	if !h.hasEvent("ResetOwnerMFA", "") {
		t.Errorf("no ResetOwnerMFA event")
	}
}

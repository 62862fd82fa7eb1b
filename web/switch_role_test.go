package web

import (
	"net/url"
	"strings"
	"testing"
)

// Switch role in the console: a RAM user acts as a role, every page follows
// the role's permissions, and switching back (or the session's end) returns
// the user's own.
func TestSwitchRoleInTheConsole(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	createAuditorRole(t, owner)
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"bob"}})
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"bobs-role"}, "preset": {"users"}, "preset_users": {"bob"},
		"max_session_duration": {"3600"}}), "/roles/bobs-role", "create bobs-role")
	mayAssume := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"acs:ram:*:` + acct + `:role/*"}]}`
	emp := h.ramUser(owner, "emp", nil, map[string]string{"EmpMayAssume": mayAssume})
	nobody := h.ramUser(owner, "nobody", nil, nil)

	expectStatus(t, emp.get("/users"), 403, "the users list before switching")
	p := emp.get("/me")
	if !strings.Contains(p.body, `href="/switch-role"`) {
		t.Errorf("a RAM user's navigation has no Switch role")
	}
	expectRedirect(t, emp.get("/switch-role?role=auditor"), "/roles/auditor/switch", "switch-role form")
	expectStatus(t, emp.get("/roles/auditor/switch"), 200, "the switch confirmation")
	expectRedirect(t, emp.post("/roles/auditor/switch", nil), "/roles/auditor", "switch to auditor")

	p = emp.get("/users")
	expectStatus(t, p, 200, "the users list as the role")
	if !strings.Contains(p.body, `data-testid="switched-banner"`) || !strings.Contains(p.body, "auditor") || !strings.Contains(p.body, "Back to emp") {
		t.Errorf("no banner naming the role and the user")
	}
	emp.get("/users/new")
	expectStatus(t, emp.post("/users", url.Values{"name": {"intruder"}}), 403, "creating a user as a read-only role")
	var denied bool
	for _, ev := range h.events() {
		if ev.EventName == "CreateUser" && ev.ErrorCode == "NoPermission" {
			denied = ev.UserIdentity.Type == "assumed-role" && ev.UserIdentity.SourceUserName == "emp" &&
				ev.UserIdentity.ARN == "acs:ram::"+acct+":role/auditor"
		}
	}
	if !denied {
		t.Errorf("the refused CreateUser is not recorded as the role session of emp")
	}
	if !h.hasEvent("SwitchRole", "") {
		t.Errorf("no SwitchRole event")
	}

	emp.get("/users")
	expectRedirect(t, emp.post("/roles/switch-back", nil), "/me", "switch back")
	p = emp.get("/me")
	if strings.Contains(p.body, `data-testid="switched-banner"`) {
		t.Errorf("the banner stays after switching back")
	}
	expectStatus(t, emp.get("/users"), 403, "the users list after switching back")
	if !h.hasEvent("SwitchBack", "") {
		t.Errorf("no SwitchBack event")
	}

	// Revoked while switched: the next page is the user's own again.
	emp.get("/roles/auditor/switch")
	expectRedirect(t, emp.post("/roles/auditor/switch", nil), "/roles/auditor", "switch again")
	expectStatus(t, emp.get("/users"), 200, "as the role again")
	owner.get("/roles/auditor")
	expectRedirect(t, owner.post("/roles/auditor/sessions/revoke", nil), "/roles/auditor", "revoke")
	p = emp.get("/users")
	expectStatus(t, p, 403, "after the role session was revoked")
	if !strings.Contains(emp.get("/me").body, "Switch role") {
		t.Errorf("after the revocation the user is not back to itself")
	}

	// Refusals.
	nobody.get("/roles/auditor/switch")
	expectStatus(t, nobody.post("/roles/auditor/switch", nil), 403, "a user whose policies do not allow sts:AssumeRole")
	emp.get("/roles/bobs-role/switch")
	expectStatus(t, emp.post("/roles/bobs-role/switch", nil), 403, "a trust policy that names another user")
	owner.get("/roles/auditor/switch")
	expectStatus(t, owner.post("/roles/auditor/switch", nil), 400, "the owner")
}

// createAuditorRole creates, as the owner, the role "auditor" that every
// RAM user of the account may be trusted to assume, with
// AliyunRAMReadOnlyAccess.
func createAuditorRole(t *testing.T, owner *browser) {
	t.Helper()
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"auditor"}, "preset": {"account"}, "max_session_duration": {"3600"}}),
		"/roles/auditor", "create auditor")
	owner.get("/roles/auditor")
	expectRedirect(t, owner.post("/roles/auditor/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunRAMReadOnlyAccess"}}),
		"/roles/auditor", "attach read-only")
}

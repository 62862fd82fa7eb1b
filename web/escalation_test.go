package web

import (
	"context"
	"net/url"
	"strings"
	"testing"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// A rename must be allowed on the new name too: otherwise a user renames
// itself (or another) into a name other statements trust.
func TestRenameNeedsPermissionOnTheNewName(t *testing.T) {
	env := newAPIEnv(t)
	h, owner := env.harness, env.owner
	deny := `{"Version":"1","Statement":[{"Effect":"Deny","Action":"ram:*","Resource":[
		"acs:ram:*:*:user/trusted-*","acs:ram:*:*:group/Admins*"]}]}`
	mallory := h.createEmployee(owner, "mallory")
	grantAdmin(t, h, "mallory")
	owner.get("/policies/new")
	owner.post("/policies", url.Values{"name": {"NoTrusted"}, "document": {deny}})
	owner.get("/users/mallory")
	expectRedirect(t, owner.post("/users/mallory/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"NoTrusted"}}), "/users/mallory", "attach")
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"bob"}})
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"ops"}})
	client := h.sdkClient(mallory.keyID, mallory.secret)

	for _, tc := range []struct{ user, newName string }{{"bob", "trusted-bob"}, {"mallory", "trusted-mallory"}, {"bob", "TRUSTED-bob"}} {
		req := ramsdk.CreateUpdateUserRequest()
		h.at(req)
		req.UserName, req.NewUserName = tc.user, tc.newName
		_, err := client.UpdateUser(req)
		if tc.newName == "TRUSTED-bob" {
			// Resource matching is case-sensitive: a Deny on trusted-* does not name TRUSTED-bob.
			must(t, err, "rename into a name the Deny does not match")
			continue
		}
		expectCode(t, err, "NoPermission", 403, "API rename "+tc.user+" → "+tc.newName)
	}
	greq := ramsdk.CreateUpdateGroupRequest()
	h.at(greq)
	greq.GroupName, greq.NewGroupName = "ops", "Admins2"
	_, err := client.UpdateGroup(greq)
	expectCode(t, err, "NoPermission", 403, "API rename group ops → Admins2")

	// The console, signed in as an administrator with the same Deny.
	b := h.ramUser(owner, "mal2", []string{"AdministratorAccess"}, nil)
	owner.get("/users/mal2")
	owner.post("/users/mal2/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"NoTrusted"}})
	b.get("/users/mal2/edit")
	expectStatus(t, b.post("/users/mal2/edit", url.Values{"name": {"trusted-mal2"}, "display_name": {"x"}}), 403, "console self-rename into trusted-*")
	b.get("/groups/ops/edit")
	expectStatus(t, b.post("/groups/ops/edit", url.Values{"name": {"Admins-ops"}}), 403, "console group rename into Admins*")
	for _, name := range []string{"trusted-bob", "trusted-mallory", "trusted-mal2"} {
		if u, err := h.st.UserByName(context.Background(), name); err == nil && u.UserName == name {
			t.Errorf("a user is now named %s", name)
		}
	}
	if _, err := h.st.GroupByName(context.Background(), "ops"); err != nil {
		t.Errorf("group ops was renamed: %v", err)
	}
	// A rename the policies allow still works.
	b.get("/groups/ops/edit")
	expectRedirect(t, b.post("/groups/ops/edit", url.Values{"name": {"ops-team"}}), "/groups/ops-team", "allowed rename")
}

// Deleting with clean-up performs detachments, removals and version
// deletions; each must be allowed on its own, or the delete is refused and
// nothing changes.
func TestCascadesAuthoriseEveryStep(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	guard := `{"Version":"1","Statement":[{"Effect":"Deny","Action":"ecs:*","Resource":"*"}]}`
	owner.get("/policies/new")
	owner.post("/policies", url.Values{"name": {"Guardrail"}, "document": {guard}})
	owner.get("/policies/Custom/Guardrail")
	owner.post("/policies/Custom/Guardrail/versions", url.Values{"document": {guard}})
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"staff"}})
	owner.get("/groups/staff")
	expectRedirect(t, owner.post("/groups/staff/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"Guardrail"}}), "/groups/staff", "attach to staff")
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"bob"}})
	owner.get("/users/bob")
	expectRedirect(t, owner.post("/users/bob/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"Guardrail"}}), "/users/bob", "attach to bob")
	expectRedirect(t, owner.post("/users/bob/groups", url.Values{"group": {"staff"}}), "/users/bob", "bob joins staff")

	keep := `{"Version":"1","Statement":[{"Effect":"Deny","Action":["ram:DetachPolicyFromGroup","ram:DetachPolicyFromUser","ram:DeletePolicyVersion"],
		"Resource":"acs:ram:*:` + acct + `:policy/Guardrail"},
		{"Effect":"Deny","Action":"ram:RemoveUserFromGroup","Resource":"acs:ram:*:` + acct + `:group/staff"}]}`
	mal := h.ramUser(owner, "mal", []string{"AdministratorAccess"}, map[string]string{"KeepGuardrail": keep})

	mal.get("/policies/Custom/Guardrail/delete")
	expectStatus(t, mal.post("/policies/Custom/Guardrail/delete", url.Values{"cleanup": {"true"}, "confirm": {"Guardrail"}}), 403,
		"delete the guardrail with clean-up")
	mal.get("/groups/staff/delete")
	expectStatus(t, mal.post("/groups/staff/delete", url.Values{"empty": {"true"}, "confirm": {"staff"}}), 403,
		"delete the group (members and the guardrail) with clean-up")
	mal.get("/users/bob/delete")
	expectStatus(t, mal.post("/users/bob/delete", url.Values{"confirm": {"bob"}}), 403, "delete bob (and his guardrail)")

	ctx := context.Background()
	if atts, _ := h.st.PolicyAttachments(ctx, "Custom", "Guardrail"); len(atts) != 2 {
		t.Errorf("Guardrail has %d attachments, want 2", len(atts))
	}
	if p, err := h.st.CustomPolicy(ctx, "Guardrail"); err != nil {
		t.Fatalf("Guardrail: %v", err)
	} else if vs, _ := h.st.PolicyVersions(ctx, p.PolicyID); len(vs) != 2 {
		t.Errorf("Guardrail has %d versions, want 2", len(vs))
	}
	bob, err := h.st.UserByName(ctx, "bob")
	if err != nil {
		t.Fatalf("bob: %v", err)
	}
	if gs, _ := h.st.GroupsForUser(ctx, bob.UserID); len(gs) != 1 {
		t.Errorf("bob is in %d groups, want 1", len(gs))
	}

	// The owner may do all of it.
	owner.get("/users/bob/delete")
	expectRedirect(t, owner.post("/users/bob/delete", url.Values{"confirm": {"bob"}}), "/users", "owner deletes bob")
	owner.get("/groups/staff/delete")
	expectRedirect(t, owner.post("/groups/staff/delete", url.Values{"empty": {"true"}, "confirm": {"staff"}}), "/groups", "owner deletes staff")
	owner.get("/policies/Custom/Guardrail/delete")
	expectRedirect(t, owner.post("/policies/Custom/Guardrail/delete", url.Values{"cleanup": {"true"}, "confirm": {"Guardrail"}}), "/policies", "owner deletes Guardrail")
}

// The user page shows each section only to a viewer the API would answer:
// ram:GetUser alone shows the profile, not the keys, MFA device, groups or
// console access, and says which permission each section needs.
func TestUserPageShowsOnlyWhatTheAPIWould(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	keyID := caseFixtures(t, h, owner)
	getOnly := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:GetUser","Resource":"*"}]}`
	viewer := h.ramUser(owner, "viewer", nil, map[string]string{"GetUserOnly": getOnly})
	denied := h.countDenied()
	p := viewer.get("/users/Target")
	expectStatus(t, p, 200, "the user page with ram:GetUser")
	for _, secret := range []string{keyID, "Admins", "login-status", "mfa-status", "Unbind MFA device", "Remove console access"} {
		if strings.Contains(p.body, secret) {
			t.Errorf("the page shows %q to a viewer with only ram:GetUser", secret)
		}
	}
	for _, need := range []string{"ram:ListAccessKeys", "ram:GetUserMFAInfo", "ram:ListGroupsForUser", "ram:GetLoginProfile", "ram:ListPoliciesForUser"} {
		if !strings.Contains(p.body, need) {
			t.Errorf("the page does not say that %s is needed", need)
		}
	}
	if n := h.countDenied(); n != denied {
		t.Errorf("viewing the page recorded %d refusals", n-denied)
	}
	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	p = reader.get("/users/Target")
	for _, shown := range []string{keyID, "Admins", "login-status", "mfa-status"} {
		if !strings.Contains(p.body, shown) {
			t.Errorf("the page hides %q from a read-only viewer", shown)
		}
	}
}

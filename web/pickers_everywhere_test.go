package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ramconsole/store"
)

// A value of a megabyte, for fields that must refuse it with a message.
var megabyteName = strings.Repeat("a", 1<<20-4096)

// expectFieldError checks a re-rendered form: status, and the message next
// to field.
func expectFieldError(t *testing.T, p page, status int, field, want, what string) {
	t.Helper()
	expectStatus(t, p, status, what)
	if !strings.Contains(p.body, `data-field="`+field+`"`) || !strings.Contains(p.body, want) {
		t.Errorf("%s: no message %q next to %s", what, want, field)
	}
}

// expectPicked checks a re-rendered picker: the message next to field, and
// a value that names nothing not offered back (a megabyte of it least of all).
func expectPicked(t *testing.T, p page, status int, field, want, what string) {
	t.Helper()
	expectFieldError(t, p, status, field, want, what)
	if strings.Contains(p.body, megabyteName[:1000]) {
		t.Errorf("%s: the page echoes the megabyte value", what)
	}
}

func (h *harness) roleAttachments(name string) []string {
	h.t.Helper()
	r, err := h.st.RoleByName(context.Background(), name)
	if err != nil {
		h.t.Fatal(err)
	}
	atts, err := h.st.RoleAttachments(context.Background(), r.RoleID)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, a := range atts {
		out = append(out, a.PolicyType+":"+a.PolicyName)
	}
	return out
}

// TestRolePermissionsPanel: a role's policies are added through the same
// "Add permissions" panel as users' and groups', several at once, each
// attachment audited; a name that names nothing is a message next to its
// list and attaches nothing; the policy's own ARN is authorised.
func TestRolePermissionsPanel(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"deployer"}, "preset": {"account"}, "max_session_duration": {"3600"}}),
		"/roles/deployer", "create deployer")
	owner.get("/policies/new")
	expectRedirect(t, owner.post("/policies", url.Values{"name": {"DeployApps"},
		"document": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:StartInstance","Resource":"*"}]}`}}),
		"/policies/Custom/DeployApps", "create DeployApps")

	p := owner.get("/roles/deployer")
	if !strings.Contains(p.body, `data-testid="add-permissions"`) || !strings.Contains(p.body, "/permissions/new?kind=role&amp;role=deployer") {
		t.Errorf("the role page does not lead to the Add permissions panel")
	}
	if strings.Contains(p.body, `name="policy_name"`) {
		t.Errorf("the role page still offers a free-text policy name")
	}
	p = owner.get("/permissions/new?kind=role&role=deployer")
	expectStatus(t, p, 200, "the panel for a role")
	for _, want := range []string{`name="role" value="deployer" checked`, "<strong>Roles</strong>", `value="System:AliyunECSReadOnlyAccess"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the role panel lacks %s", want)
		}
	}
	if p = owner.get("/permissions/new?kind=role&pq=dep"); !strings.Contains(p.body, `name="role" value="deployer"`) {
		t.Errorf("the role search does not find deployer")
	}
	// Switching the kind keeps the ticked policies.
	if p = owner.get("/permissions/new?kind=user&policy=Custom:DeployApps"); !strings.Contains(p.body, "/permissions/new?kind=role&amp;policy=Custom%3ADeployApps") {
		t.Errorf("the Roles tab drops the ticked policy")
	}

	two := url.Values{"role": {"deployer"}, "policy": {"System:AliyunECSReadOnlyAccess", "Custom:DeployApps"}}
	p = owner.get("/permissions/review?kind=role&" + two.Encode())
	expectStatus(t, p, 200, "review")
	if !strings.Contains(p.body, "Attach 2 permission(s)?") || !strings.Contains(p.body, `action="/permissions/roles"`) {
		t.Errorf("the review does not attach 2 policies to the role")
	}

	// Bad input: nothing attached, a message next to the list.
	for _, tc := range []struct {
		what, field, want string
		form              url.Values
	}{
		{"an unknown policy", "policy", "No policy is named “NoSuchPolicy”", url.Values{"role": {"deployer"}, "policy": {"System:AliyunECSReadOnlyAccess", "System:NoSuchPolicy"}}},
		{"an unknown role", "principal", "No role is named “ghost”", url.Values{"role": {"deployer", "ghost"}, "policy": {"Custom:DeployApps"}}},
		{"a megabyte role name", "principal", "No role is named “aaaa", url.Values{"role": {megabyteName}, "policy": {"Custom:DeployApps"}}},
		{"a megabyte policy name", "policy", "No policy is named “aaaa", url.Values{"role": {"deployer"}, "policy": {"Custom:" + megabyteName}}},
		{"no policy", "policy", "Tick at least one policy.", url.Values{"role": {"deployer"}}},
	} {
		tc.form.Set("kind", "role")
		expectPicked(t, owner.post("/permissions/roles", tc.form), http.StatusUnprocessableEntity, tc.field, tc.want, tc.what)
		if got := h.roleAttachments("deployer"); len(got) != 0 {
			t.Fatalf("after %s the role has %v", tc.what, got)
		}
	}
	p = owner.get("/permissions/review?kind=role&role=deployer&policy=System:NoSuchPolicy")
	expectFieldError(t, p, http.StatusUnprocessableEntity, "policy", "No policy is named", "review with an unknown policy")

	// Both at once.
	owner.get("/permissions/review?kind=role&" + two.Encode())
	expectRedirect(t, owner.post("/permissions/roles", two), "/roles/deployer", "grant two policies")
	if got := h.roleAttachments("deployer"); len(got) != 2 {
		t.Errorf("the role has %v, want both policies", got)
	}
	p = owner.get("/roles/deployer")
	if !strings.Contains(p.body, "2 permission(s) granted.") || !strings.Contains(p.body, `href="/policies/Custom/DeployApps"`) ||
		!strings.Contains(p.body, `href="/policies/System/AliyunECSReadOnlyAccess"`) {
		t.Errorf("the role page does not show both policies granted")
	}
	attached := map[string]bool{}
	for _, ev := range h.events() {
		if ev.EventName == "AttachPolicyToRole" && ev.ErrorCode == "" && ev.RequestParameters["RoleName"] == "deployer" {
			attached[ev.RequestParameters["PolicyName"].(string)] = true
		}
	}
	if !attached["AliyunECSReadOnlyAccess"] || !attached["DeployApps"] {
		t.Errorf("AttachPolicyToRole events for %v, want both policies", attached)
	}

	// A RAM user who may attach only DeployApps: the policy's own ARN decides.
	mayAttach := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:ListPolicies","ram:ListRoles","ram:GetRole"],"Resource":"*"},
		{"Effect":"Allow","Action":"ram:AttachPolicyToRole","Resource":["acs:ram:*:` + acct + `:role/*","acs:ram:*:` + acct + `:policy/DeployApps"]}]}`
	owner.get("/roles/new")
	owner.post("/roles", url.Values{"name": {"builder"}, "preset": {"account"}, "max_session_duration": {"3600"}})
	op := h.ramUser(owner, "operator", nil, map[string]string{"MayAttachDeploy": mayAttach})
	expectStatus(t, op.get("/permissions/new?kind=role&role=builder"), 200, "the panel for a RAM user")
	expectStatus(t, op.post("/permissions/roles", url.Values{"role": {"builder"}, "policy": {"System:AdministratorAccess"}}), 403,
		"attaching a policy whose ARN is not allowed")
	if got := h.roleAttachments("builder"); len(got) != 0 {
		t.Errorf("a refused grant attached %v", got)
	}
	expectRedirect(t, op.post("/permissions/roles", url.Values{"role": {"builder"}, "policy": {"Custom:DeployApps"}}), "/roles/builder",
		"attaching the allowed policy")
	if got := h.roleAttachments("builder"); len(got) != 1 || got[0] != "Custom:DeployApps" {
		t.Errorf("builder has %v, want Custom:DeployApps", got)
	}
}

// TestTrustPresetPicksUsers: the "these RAM users" preset of the trust
// form lists the account's users to tick, on create and on edit; a name
// that names no user is a message next to the list and creates nothing.
func TestTrustPresetPicksUsers(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	for _, n := range []string{"ana", "ben", "cy"} {
		owner.get("/users/new")
		expectRedirect(t, owner.post("/users", url.Values{"name": {n}}), "/users/"+n, "create "+n)
	}
	p := owner.get("/roles/new")
	for _, n := range []string{"ana", "ben", "cy"} {
		if !strings.Contains(p.body, `name="preset_users" value="`+n+`"`) {
			t.Errorf("the trust form does not offer %s", n)
		}
	}
	form := url.Values{"name": {"pair"}, "preset": {"users"}, "preset_users": {"ana", "BEN"}, "max_session_duration": {"3600"}}
	expectRedirect(t, owner.post("/roles", form), "/roles/pair", "create with picked users")
	r, err := h.st.RoleByName(context.Background(), "pair")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.AssumeRolePolicy, `"acs:ram::`+acct+`:user/ana"`) || !strings.Contains(r.AssumeRolePolicy, `"acs:ram::`+acct+`:user/ben"`) ||
		strings.Contains(r.AssumeRolePolicy, "user/cy") {
		t.Errorf("the picked users wrote %s", r.AssumeRolePolicy)
	}

	// Bad input creates nothing.
	for _, tc := range []struct{ what, users, want string }{
		{"an unknown user", "ghost", "No user is named “ghost”"},
		{"a megabyte name", megabyteName, "No user is named “aaaa"},
	} {
		owner.get("/roles/new")
		p = owner.post("/roles", url.Values{"name": {"nobody-role"}, "preset": {"users"}, "preset_users": {"ana", tc.users}, "max_session_duration": {"3600"}})
		expectPicked(t, p, http.StatusUnprocessableEntity, "preset_users", tc.want, tc.what)
		if !strings.Contains(p.body, `name="preset_users" value="ana" checked`) {
			t.Errorf("%s: the ticked user is not kept", tc.what)
		}
		if _, err := h.st.RoleByName(context.Background(), "nobody-role"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s created the role (%v)", tc.what, err)
		}
	}

	// Users ticked under another answer: asked, not a wider trust policy.
	owner.get("/roles/new")
	p = owner.post("/roles", url.Values{"name": {"nobody-role"}, "preset": {"account"}, "preset_users": {"ana"}, "max_session_duration": {"3600"}})
	expectFieldError(t, p, http.StatusUnprocessableEntity, "preset_users", "count only with “Only these RAM users”", "users ticked with the account preset")
	if _, err := h.st.RoleByName(context.Background(), "nobody-role"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("users ticked with the account preset created the role (%v)", err)
	}

	// Edit: the users it names now are ticked; picking others rewrites it.
	p = owner.get("/roles/pair/edit")
	expectStatus(t, p, 200, "edit form")
	for _, want := range []string{`name="preset_users" value="ana" checked`, `name="preset_users" value="ben" checked`, `name="preset" value="custom" checked`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the edit form lacks %s", want)
		}
	}
	if strings.Contains(p.body, `name="preset_users" value="cy" checked`) {
		t.Errorf("the edit form ticks cy")
	}
	edit := url.Values{"description": {""}, "max_session_duration": {"3600"}, "trust_policy": {r.AssumeRolePolicy}, "preset": {"users"}}
	edit["preset_users"] = []string{"ghost"}
	expectFieldError(t, owner.post("/roles/pair/edit", edit), http.StatusUnprocessableEntity, "preset_users", "No user is named “ghost”", "edit with an unknown user")
	if r2, _ := h.st.RoleByName(context.Background(), "pair"); r2.AssumeRolePolicy != r.AssumeRolePolicy {
		t.Errorf("a refused edit changed the trust policy")
	}
	edit["preset_users"] = []string{"cy"}
	edit.Set("preset", "custom")
	expectFieldError(t, owner.post("/roles/pair/edit", edit), http.StatusUnprocessableEntity, "preset_users", "count only with", "other users ticked, the JSON kept")
	edit.Set("preset", "users")
	expectRedirect(t, owner.post("/roles/pair/edit", edit), "/roles/pair", "edit with a picked user")
	r, _ = h.st.RoleByName(context.Background(), "pair")
	if !strings.Contains(r.AssumeRolePolicy, "user/cy") || strings.Contains(r.AssumeRolePolicy, "user/ana") {
		t.Errorf("after picking cy the trust policy is %s", r.AssumeRolePolicy)
	}
	// Keeping the JSON as it is does not touch the trust policy.
	edit.Set("preset", "custom")
	edit.Set("trust_policy", r.AssumeRolePolicy)
	edit.Set("description", "Pairs")
	before := countEvents(h, "UpdateRole")
	expectRedirect(t, owner.post("/roles/pair/edit", edit), "/roles/pair", "edit keeping the trust policy")
	if r2, _ := h.st.RoleByName(context.Background(), "pair"); r2.AssumeRolePolicy != r.AssumeRolePolicy || countEvents(h, "UpdateRole") != before+1 {
		t.Errorf("keeping the trust policy changed it")
	}
}

func countEvents(h *harness, name string) int {
	n := 0
	for _, ev := range h.events() {
		if ev.EventName == name {
			n++
		}
	}
	return n
}

// TestSimulatorOffersUsers: the simulator's user field offers the
// account's users; a picked one is simulated, an unknown one is a message.
func TestSimulatorOffersUsers(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	h.ramUser(owner, "ana", []string{"AliyunECSReadOnlyAccess"}, nil)
	p := owner.get("/simulator")
	if !strings.Contains(p.body, `list="l-user"`) || !strings.Contains(p.body, `<option value="ana">`) {
		t.Errorf("the simulator does not offer the users")
	}
	p = owner.post("/simulator", url.Values{"user": {"ana"}, "action": {"ecs:DescribeInstances"}, "resource": {"*"}})
	expectStatus(t, p, 200, "simulate a picked user")
	if !strings.Contains(p.body, `data-testid="decision">Allow<`) {
		t.Errorf("the picked user is not allowed ecs:DescribeInstances")
	}
	expectFieldError(t, owner.post("/simulator", url.Values{"user": {"anna"}, "action": {"ecs:DescribeInstances"}, "resource": {"*"}}),
		http.StatusUnprocessableEntity, "user", "There is no user with this name.", "an unknown user")
}

// TestQuickCanBox: the "can this user do X on Y?" box of a user's page
// answers: an empty resource means *, an empty action says what to enter.
func TestQuickCanBox(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	h.ramUser(owner, "ana", []string{"AliyunECSReadOnlyAccess"}, nil)
	p := owner.get("/users/ana")
	if !strings.Contains(p.body, `data-testid="can-box"`) || !strings.Contains(p.body, `class="ask"`) || !strings.Contains(p.body, `action="/simulator"`) {
		t.Fatalf("the user page has no quick box")
	}
	for _, tc := range []struct{ action, want string }{
		{"ecs:DescribeInstances", "Allow"},
		{"ecs:DeleteInstance", "ImplicitDeny"},
	} {
		p = owner.get("/simulator?" + url.Values{"user": {"ana"}, "action": {tc.action}, "resource": {""}}.Encode())
		expectStatus(t, p, 200, tc.action+" with an empty resource")
		if !strings.Contains(p.body, `data-testid="decision">`+tc.want+`<`) || !strings.Contains(p.body, "<h3>*: "+tc.want+"</h3>") {
			t.Errorf("%s on an empty resource is not answered %s for *", tc.action, tc.want)
		}
	}
	p = owner.get("/simulator?" + url.Values{"user": {"ana"}, "action": {""}, "resource": {""}}.Encode())
	expectFieldError(t, p, http.StatusUnprocessableEntity, "action", "Enter an action such as ecs:DescribeInstances", "an empty action")
	// Opening the simulator for a user is not a question yet.
	p = owner.get("/simulator?user=ana")
	expectStatus(t, p, 200, "the simulator for a user")
	if strings.Contains(p.body, `data-testid="decision"`) || strings.Contains(p.body, `data-testid="field-error"`) {
		t.Errorf("opening the simulator for a user answers or complains")
	}
	owner.get("/simulator")
	expectFieldError(t, owner.post("/simulator", url.Values{"user": {"ana"}, "action": {megabyteName}, "resource": {"*"}}),
		http.StatusUnprocessableEntity, "action", "Enter an action", "a megabyte action")
}

// TestSwitchRolePicker: Switch role offers the roles the user may switch
// to (its policies and the trust policy), and a picked one switches.
func TestSwitchRolePicker(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"bob"}})
	for _, form := range []url.Values{
		{"name": {"auditor"}, "preset": {"account"}},
		{"name": {"bobs-role"}, "preset": {"users"}, "preset_users": {"bob"}},
		{"name": {"other-account"}, "preset": {"custom"}, "trust_policy": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}]}`}},
	} {
		form.Set("max_session_duration", "3600")
		owner.get("/roles/new")
		expectRedirect(t, owner.post("/roles", form), "/roles/"+form.Get("name"), "create "+form.Get("name"))
	}
	mayAssume := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"acs:ram:*:` + acct + `:role/*"}]}`
	emp := h.ramUser(owner, "emp", nil, map[string]string{"EmpMayAssume": mayAssume})
	nobody := h.ramUser(owner, "nobody", nil, nil)

	events := len(h.events())
	p := emp.get("/switch-role")
	expectStatus(t, p, 200, "switch role")
	if !strings.Contains(p.body, `<select id="f-role" name="role"`) || !strings.Contains(p.body, `<option value="auditor">`) {
		t.Errorf("Switch role does not offer auditor")
	}
	for _, role := range []string{"bobs-role", "other-account"} {
		if strings.Contains(p.body, `<option value="`+role+`">`) {
			t.Errorf("Switch role offers %s, whose trust policy does not name emp", role)
		}
	}
	if n := len(h.events()); n != events {
		t.Errorf("listing the roles to switch to recorded %d events", n-events)
	}
	if p = nobody.get("/switch-role"); !strings.Contains(p.body, `data-testid="no-switchable-roles"`) || strings.Contains(p.body, "<option") {
		t.Errorf("a user who may assume nothing is offered roles")
	}
	if p = owner.get("/switch-role"); !strings.Contains(p.body, `data-testid="switch-refusal"`) || strings.Contains(p.body, "<select") {
		t.Errorf("the owner is offered roles to switch to")
	}
	// The picked role: its confirmation, then the switch.
	expectRedirect(t, emp.get("/switch-role?role=auditor"), "/roles/auditor/switch", "pick auditor")
	expectStatus(t, emp.get("/roles/auditor/switch"), 200, "the confirmation")
	// The role may not read its own page: the switch lands on My account.
	expectRedirect(t, emp.post("/roles/auditor/switch", nil), "/me", "switch to auditor")
	if p = emp.get("/switch-role"); !strings.Contains(p.body, "switch back first") || strings.Contains(p.body, "<select") {
		t.Errorf("a user acting as a role is offered another")
	}
}

// TestMembersPickerDidYouMean: a members search that finds no one suggests
// the nearest name; a megabyte name is refused without a 500.
func TestMembersPickerDidYouMean(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"carmen"}})
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"developers"}})
	p := owner.get("/groups/developers/members/add?q=carmne")
	expectStatus(t, p, 200, "a search that finds no one")
	if !strings.Contains(p.body, "Did you mean") || !strings.Contains(p.body, `href="/groups/developers/members/add?q=carmen" data-testid="suggestion">carmen</a>`) {
		t.Errorf("the members picker does not suggest carmen")
	}
	p = owner.get("/groups/developers/members/add?q=zzzzzz")
	if strings.Contains(p.body, "Did you mean") {
		t.Errorf("the members picker suggests a name far from the search")
	}
	p = owner.post("/groups/developers/members", url.Values{"user": {megabyteName}})
	if p.status >= 500 || len(p.header.Get("Location")) > 1000 {
		t.Errorf("a megabyte member: %d → %.100q", p.status, p.header.Get("Location"))
	}
	if p = owner.get("/groups/developers"); strings.Contains(p.body, `href="/users/carmen"`) {
		t.Errorf("a refused member changed the group")
	}
}

package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// The roles console: create from each preset, view, edit, attach, delete.
func TestRolesConsole(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()

	expectStatus(t, owner.get("/roles/new"), 200, "new role form")
	p := owner.post("/roles", url.Values{"name": {"bad name"}, "preset": {"account"}, "max_session_duration": {"3600"}})
	expectStatus(t, p, 422, "a bad role name")
	if !strings.Contains(p.body, `value="bad name"`) {
		t.Errorf("the form lost the typed name")
	}
	expectStatus(t, owner.post("/roles", url.Values{"name": {"r1"}, "preset": {"users"}, "max_session_duration": {"3600"}}), 422,
		"the users preset without users")
	expectStatus(t, owner.post("/roles", url.Values{"name": {"r1"}, "preset": {"account"}, "max_session_duration": {"60"}}), 422,
		"a session limit out of range")
	expectStatus(t, owner.post("/roles", url.Values{"name": {"r1"}, "preset": {"custom"}, "trust_policy": {`{"Version":`},
		"max_session_duration": {"3600"}}), 422, "a broken custom trust policy")

	// The users preset names existing users (picked from a list).
	for _, n := range []string{"alice", "bob"} {
		owner.get("/users/new")
		expectRedirect(t, owner.post("/users", url.Values{"name": {n}}), "/users/"+n, "create "+n)
	}
	for name, form := range map[string]url.Values{
		"whole-account": {"preset": {"account"}},
		"two-users":     {"preset": {"users"}, "preset_users": {"alice, bob"}},
		"ecs-service":   {"preset": {"service"}, "preset_service": {"ecs.aliyuncs.com"}},
	} {
		form.Set("name", name)
		form.Set("max_session_duration", "7200")
		owner.get("/roles/new")
		expectRedirect(t, owner.post("/roles", form), "/roles/"+name, "create "+name)
	}
	r, err := h.st.RoleByName(context.Background(), "two-users")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.AssumeRolePolicy, `"acs:ram::`+acct+`:user/alice"`) || !strings.Contains(r.AssumeRolePolicy, `user/bob"`) ||
		r.MaxSessionDuration != 7200 {
		t.Errorf("the users preset wrote %s (%d s)", r.AssumeRolePolicy, r.MaxSessionDuration)
	}
	p = owner.get("/roles")
	for _, name := range []string{"whole-account", "two-users", "ecs-service"} {
		if !strings.Contains(p.body, ">"+name+"<") {
			t.Errorf("the roles list lacks %s", name)
		}
	}
	p = owner.get("/roles/ECS-SERVICE")
	expectStatus(t, p, 200, "a role page in another case")
	if !strings.Contains(p.body, "acs:ram::"+acct+":role/ecs-service") || !strings.Contains(p.body, "ecs.aliyuncs.com") {
		t.Errorf("the role page lacks its ARN or trust policy")
	}
	expectRedirect(t, owner.post("/roles/ecs-service/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunECSFullAccess"}}),
		"/roles/ecs-service", "attach to the role")
	owner.get("/roles/ecs-service/edit")
	expectRedirect(t, owner.post("/roles/ecs-service/edit", url.Values{"description": {"Runs instances"}, "max_session_duration": {"3600"},
		"trust_policy": {trustAccount(acct)}}), "/roles/ecs-service", "edit the role")
	if r, _ := h.st.RoleByName(context.Background(), "ecs-service"); r.Description != "Runs instances" || !strings.Contains(r.AssumeRolePolicy, ":root") {
		t.Errorf("after the edit: %+v", r)
	}
	owner.get("/roles/ecs-service/delete")
	expectStatus(t, owner.post("/roles/ecs-service/delete", url.Values{"confirm": {"ecs-service"}}), 409, "delete with a policy attached")
	expectRedirect(t, owner.post("/roles/ecs-service/delete", url.Values{"confirm": {"ecs-service"}, "detach": {"true"}}), "/roles",
		"delete with its policy detached")
	expectStatus(t, owner.get("/roles/ecs-service"), 404, "the deleted role")
}

// The simulator decides sts:AssumeRole as STS does: the user's policies and
// the role's trust policy, with the trust policy's statements as reasons.
func TestSimulatorAssumeRole(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	for _, name := range []string{"bob", "eve"} {
		owner.get("/users/new")
		owner.post("/users", url.Values{"name": {name}})
		owner.get("/users/" + name)
		owner.post("/users/"+name+"/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunSTSAssumeRoleAccess"}})
	}
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"only-bob"}, "preset": {"users"}, "preset_users": {"bob"}, "max_session_duration": {"3600"}}),
		"/roles/only-bob", "create only-bob")
	owner.get("/roles/new")
	owner.post("/roles", url.Values{"name": {"anyone"}, "preset": {"account"}, "max_session_duration": {"3600"}})
	owner.get("/simulator")
	for _, tc := range []struct{ user, role, want string }{
		{"bob", "only-bob", "Allow"}, {"eve", "only-bob", "ImplicitDeny"}, {"eve", "anyone", "Allow"},
	} {
		_, res := simulate(t, owner, url.Values{"user": {tc.user}, "action": {"sts:AssumeRole"}, "resource": {"acs:ram::" + acct + ":role/" + tc.role}})
		if res["decision"] != tc.want {
			t.Errorf("%s assumes %s: %v, want %s (%v)", tc.user, tc.role, res["decision"], tc.want, res)
		}
	}
	_, res := simulate(t, owner, url.Values{"user": {"bob"}, "action": {"sts:AssumeRole"}, "resource": {"acs:ram::" + acct + ":role/only-bob"}})
	if !strings.Contains(fmt.Sprint(res["matched"]), "Trust") {
		t.Errorf("the trust policy's statement is not among the reasons: %v", res["matched"])
	}
}

package ram

import (
	"strings"
	"testing"
)

// The roles' rules, on one account (each part names its own roles and
// users; the account is filled to its limit last).
func TestRoles(t *testing.T) {
	onOneAccount(t,
		part{"UpdateRole", testUpdateRole},
		part{"DeleteRole", testDeleteRole},
		part{"CreateRole", testCreateRole},
	)
}

// CreateRole validates the name (no underscore), the session limit and
// the trust policy, keeps names unique and stops at 1000 roles.
func testCreateRole(t *testing.T, e *testEnv) {
	reader := e.member(t, "reader", "AliyunRAMReadOnlyAccess")
	trust := e.trustAccount()
	create := func(a Actor, in RoleInput) func() error {
		return func() error { return ignore(e.svc.CreateRole(e.ctx, a, in)) }
	}
	noPrincipal := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`
	e.check(t, []rule{
		{"a role is created and recorded", create(e.owner, RoleInput{RoleName: "reader.role", AssumeRolePolicy: trust}), "", []string{"CreateRole"}},
		{"a name taken in another case is EntityAlreadyExists.Role", create(e.owner, RoleInput{RoleName: "READER.ROLE", AssumeRolePolicy: trust}),
			"EntityAlreadyExists.Role", []string{"CreateRole/EntityAlreadyExists.Role"}},
		{"an underscore is not allowed in role names", create(e.owner, RoleInput{RoleName: "read_only", AssumeRolePolicy: trust}),
			"InvalidParameter.RoleName.InvalidChars", []string{"CreateRole/InvalidParameter.RoleName.InvalidChars"}},
		{"a 65-character name is too long", create(e.owner, RoleInput{RoleName: strings.Repeat("r", 65), AssumeRolePolicy: trust}),
			"InvalidParameter.RoleName.Length", []string{"CreateRole/InvalidParameter.RoleName.Length"}},
		{"a session limit under an hour is refused", create(e.owner, RoleInput{RoleName: "short", AssumeRolePolicy: trust, MaxSessionDuration: 3599}),
			"InvalidParameter.MaxSessionDuration", []string{"CreateRole/InvalidParameter.MaxSessionDuration"}},
		{"a session limit over 12 hours is refused", create(e.owner, RoleInput{RoleName: "long", AssumeRolePolicy: trust, MaxSessionDuration: 43201}),
			"InvalidParameter.MaxSessionDuration", []string{"CreateRole/InvalidParameter.MaxSessionDuration"}},
		{"a trust statement without a Principal is malformed", create(e.owner, RoleInput{RoleName: "nobody", AssumeRolePolicy: noPrincipal}),
			"MalformedPolicyDocument", []string{"CreateRole/MalformedPolicyDocument"}},
		{"a trust policy that is not JSON is malformed", create(e.owner, RoleInput{RoleName: "nobody", AssumeRolePolicy: "{"}),
			"MalformedPolicyDocument", []string{"CreateRole/MalformedPolicyDocument"}},
		{"a description over 1024 characters is refused", create(e.owner, RoleInput{RoleName: "wordy", AssumeRolePolicy: trust, Description: strings.Repeat("d", 1025)}),
			"InvalidParameter.Description.Length", []string{"CreateRole/InvalidParameter.Description.Length"}},
		{"a read-only user may not create roles", create(reader, RoleInput{RoleName: "mine", AssumeRolePolicy: trust}),
			"NoPermission", []string{"CreateRole/NoPermission"}},
	})
	r, err := e.svc.GetRole(e.ctx, reader, "Reader.Role")
	if err != nil || r.RoleName != "reader.role" || r.MaxSessionDuration != DefaultMaxSessionDuration || r.AssumeRolePolicy != trust {
		t.Errorf("GetRole(Reader.Role) = %+v, %v", r, err)
	}
	n, err := e.st.CountRoles(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.fillRows(t, MaxRoles-n, "roles", []string{"role_id", "role_name", "role_name_lower", "assume_role_policy", "max_session_duration", "created_at", "updated_at"},
		[]string{"? || i", "? || (1000+i)", "? || (1000+i)", "?", "3600", "?", "?"}, "9", "filler-", "filler-", trust, fillTime, fillTime)
	e.expect(t, create(e.owner, RoleInput{RoleName: "one-too-many", AssumeRolePolicy: trust}), "LimitExceeded.Role", "CreateRole/LimitExceeded.Role")
	page, err := e.svc.ListRoles(e.ctx, reader, "filler-18", "", 60)
	if err != nil || len(page.Roles) != 60 || !page.IsTruncated || page.Roles[0].RoleName != "filler-1800" {
		t.Fatalf("ListRoles(filler-18, 60): %d roles, %v", len(page.Roles), err)
	}
	next, err := e.svc.ListRoles(e.ctx, reader, "filler-18", page.Marker, 60)
	if err != nil || len(next.Roles) != 40 || next.IsTruncated || next.Roles[0].RoleName != "filler-1860" {
		t.Errorf("the second page: %+v, %v; want the 40 roles from filler-1860", next, err)
	}
}

// UpdateRole changes what is given; a new trust policy ends the role's
// sessions at once, other changes leave them be.
func testUpdateRole(t *testing.T, e *testEnv) {
	viewer := e.member(t, "viewer", "AliyunRAMReadOnlyAccess")
	u, k := e.keyedUser(t, "ops", "AliyunSTSAssumeRoleAccess")
	e.createRole(t, "runner")
	creds := e.assume(t, u, k, "runner")
	update := func(a Actor, name string, up RoleUpdate) func() error {
		return func() error { return ignore(e.svc.UpdateRole(e.ctx, a, name, up)) }
	}
	same, other := e.trustAccount(), strings.Replace(e.trustAccount(), `"Allow"`, `"Allow","Condition":{"Bool":{"acs:MFAPresent":"true"}}`, 1)
	for _, tc := range []struct {
		name   string
		op     func() error
		code   string
		events []string
		live   bool // whether the session lives on
	}{
		{"a new description keeps the sessions", update(e.owner, "RUNNER", RoleUpdate{NewDescription: ptr("Nightly jobs"), NewMaxSessionDuration: ptr(7200)}),
			"", []string{"UpdateRole"}, true},
		{"the same trust policy keeps the sessions", update(e.owner, "runner", RoleUpdate{NewAssumeRolePolicy: &same}), "", []string{"UpdateRole"}, true},
		{"a session limit over 12 hours is refused", update(e.owner, "runner", RoleUpdate{NewMaxSessionDuration: ptr(50000)}),
			"InvalidParameter.NewMaxSessionDuration", []string{"UpdateRole/InvalidParameter.NewMaxSessionDuration"}, true},
		{"a malformed trust policy is refused", update(e.owner, "runner", RoleUpdate{NewAssumeRolePolicy: ptr(`{"Version":"1"}`)}),
			"MalformedPolicyDocument", []string{"UpdateRole/MalformedPolicyDocument"}, true},
		{"a description over 1024 characters is refused", update(e.owner, "runner", RoleUpdate{NewDescription: ptr(strings.Repeat("d", 1025))}),
			"InvalidParameter.NewDescription.Length", []string{"UpdateRole/InvalidParameter.NewDescription.Length"}, true},
		{"an unknown role is EntityNotExist.Role", update(e.owner, "walker", RoleUpdate{NewDescription: ptr("")}),
			"EntityNotExist.Role", []string{"UpdateRole/EntityNotExist.Role"}, true},
		{"a read-only user may not update roles", update(viewer, "runner", RoleUpdate{NewAssumeRolePolicy: &other}),
			"NoPermission", []string{"UpdateRole/NoPermission"}, true},
		{"a new trust policy ends the sessions", update(e.owner, "runner", RoleUpdate{NewAssumeRolePolicy: &other}), "", []string{"UpdateRole"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.expect(t, tc.op, tc.code, tc.events...)
			if live := e.sessionLive(t, creds); live != tc.live {
				t.Errorf("the session lives: %t, want %t", live, tc.live)
			}
		})
	}
	r, err := e.svc.GetRole(e.ctx, viewer, "runner")
	if err != nil || r.Description != "Nightly jobs" || r.MaxSessionDuration != 7200 || r.AssumeRolePolicy != other {
		t.Errorf("GetRole(runner) = %+v, %v", r, err)
	}
}

// A role with policies is not deleted through the API
// (DeleteConflict.Role.Policy); the console's cascade detaches them, each
// detachment authorised. Deleting a role ends its sessions.
func testDeleteRole(t *testing.T, e *testEnv) {
	u, k := e.keyedUser(t, "worker-user", "AliyunSTSAssumeRoleAccess")
	e.createRole(t, "worker")
	e.attach(t, kindRole, PolicyTypeSystem, "AliyunOSSReadOnlyAccess", "worker")
	creds := e.assume(t, u, k, "worker")
	remover := e.granted(t, "remover", doc(allow([]string{"*"}, "ram:DeleteRole")))
	del := func(a Actor, name string, cascade bool) func() error {
		return func() error { return e.svc.DeleteRole(e.ctx, a, name, cascade) }
	}
	e.check(t, []rule{
		{"policies refuse the delete", del(e.owner, "worker", false), "DeleteConflict.Role.Policy", []string{"DeleteRole/DeleteConflict.Role.Policy"}},
		{"a cascade needs each detachment allowed", del(remover, "worker", true), "NoPermission", []string{"DetachPolicyFromRole/NoPermission"}},
		{"the owner's cascade detaches and deletes", del(e.owner, "Worker", true), "", []string{"DeleteRole"}},
		{"an unknown role is EntityNotExist.Role", del(e.owner, "worker", true), "EntityNotExist.Role", []string{"DeleteRole/EntityNotExist.Role"}},
	})
	if e.sessionLive(t, creds) {
		t.Error("a session of the deleted role still authenticates")
	}
	if _, _, roles, err := e.svc.ListEntitiesForPolicy(e.ctx, e.owner, PolicyTypeSystem, "AliyunOSSReadOnlyAccess"); err != nil || len(roles) != 0 {
		t.Errorf("roles holding AliyunOSSReadOnlyAccess after the delete: %v, %v", roles, err)
	}
}

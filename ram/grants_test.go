package ram

import (
	"testing"

	"ramconsole/policy"
	"ramconsole/store"
)

// A grant's revoke link is decided on the ARNs the detach itself is
// authorised on: the ones lookupUser, lookupGroup, lookupRole and
// lookupPolicy build from the stored entities.
func TestGrantResourcesAreTheDetachsResources(t *testing.T) {
	const acct = "1234567890123456"
	sp, ok := policy.LookupSystemPolicy("AliyunECSReadOnlyAccess")
	if !ok {
		t.Fatal("no AliyunECSReadOnlyAccess in the catalogue")
	}
	for _, tc := range []struct {
		rule      string
		g         Grant
		principal Resource
		policy    Resource
	}{
		{"a user's grant of a system policy", Grant{PrincipalType: "user", PrincipalName: "alice", PolicyType: PolicyTypeSystem, PolicyName: sp.Name},
			userResource(acct, &store.User{UserName: "alice"}), systemPolicyResource(sp)},
		{"a group's grant of a custom policy", Grant{PrincipalType: "group", PrincipalName: "devs", PolicyType: PolicyTypeCustom, PolicyName: "ReadLogs"},
			groupResource(acct, &store.Group{GroupName: "devs"}), customPolicyResource(acct, &store.CustomPolicy{PolicyName: "ReadLogs"})},
		{"a role's grant", Grant{PrincipalType: "role", PrincipalName: "ops", PolicyType: PolicyTypeCustom, PolicyName: "ReadLogs"},
			roleResource(acct, &store.Role{RoleName: "ops"}), customPolicyResource(acct, &store.CustomPolicy{PolicyName: "ReadLogs"})},
	} {
		got := grantResources(acct, &tc.g)
		if len(got) != 2 || got[0] != tc.principal || got[1] != tc.policy {
			t.Errorf("%s: grantResources(%+v) = %v, want [%v %v]", tc.rule, tc.g, got, tc.principal, tc.policy)
		}
		if grantDetachAction[tc.g.PrincipalType] != attachDetachAction(tc.g.PrincipalType) {
			t.Errorf("%s: revoking needs %s, the detach %s", tc.rule, grantDetachAction[tc.g.PrincipalType], attachDetachAction(tc.g.PrincipalType))
		}
	}
}

// attachDetachAction is the action attachTo authorises a detach with.
func attachDetachAction(kind string) string {
	return "ram:DetachPolicyFrom" + map[string]string{"user": "User", "group": "Group", "role": "Role"}[kind]
}

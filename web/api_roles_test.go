package web

import (
	"fmt"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// trustAccount is a trust policy that lets the account's RAM users and
// roles assume the role (subject to their own policies).
func trustAccount(acct string) string {
	return `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + acct + `:root"]}}]}`
}

// The eight role actions through the official classic Go SDK.
func TestAPIRolesThroughClassicSDK(t *testing.T) {
	env := newAPIEnv(t)
	h, c := env.harness, env.client
	acct := h.accountID()
	trust := trustAccount(acct)

	cr := ramsdk.CreateCreateRoleRequest()
	h.at(cr)
	cr.RoleName, cr.AssumeRolePolicyDocument, cr.Description = "ecs-operator", trust, "Operates ECS"
	cr.MaxSessionDuration = requests.NewInteger(7200)
	created, err := c.CreateRole(cr)
	must(t, err, "CreateRole")
	r := created.Role
	if r.RoleName != "ecs-operator" || r.Arn != "acs:ram::"+acct+":role/ecs-operator" || r.MaxSessionDuration != 7200 ||
		r.AssumeRolePolicyDocument != trust || r.Description != "Operates ECS" || r.RoleId == "" || r.CreateDate == "" {
		t.Errorf("CreateRole answered %+v", r)
	}
	_, err = c.CreateRole(cr)
	expectCode(t, err, "EntityAlreadyExists.Role", 409, "CreateRole twice")
	cr.RoleName = "ECS-OPERATOR"
	_, err = c.CreateRole(cr)
	expectCode(t, err, "EntityAlreadyExists.Role", 409, "CreateRole differing in case")

	for _, tc := range []struct{ name, doc, dur, code string }{
		{"under_score", trust, "", "InvalidParameter.RoleName.InvalidChars"},
		{"", trust, "", "MissingParameter"},
		{"r1", `{"Version":"1",`, "", "MalformedPolicyDocument"},
		{"r1", trust, "3599", "InvalidParameter.MaxSessionDuration"},
		{"r1", trust, "43201", "InvalidParameter.MaxSessionDuration"},
	} {
		bad := ramsdk.CreateCreateRoleRequest()
		h.at(bad)
		bad.RoleName, bad.AssumeRolePolicyDocument, bad.MaxSessionDuration = tc.name, tc.doc, requests.Integer(tc.dur)
		_, err := c.CreateRole(bad)
		expectCode(t, err, tc.code, 400, fmt.Sprintf("CreateRole %q %q", tc.name, tc.dur))
	}

	gr := ramsdk.CreateGetRoleRequest()
	h.at(gr)
	gr.RoleName = "ECS-Operator"
	got, err := c.GetRole(gr)
	must(t, err, "GetRole in another case")
	if got.Role.RoleName != "ecs-operator" || got.Role.AssumeRolePolicyDocument != trust || got.Role.UpdateDate == "" {
		t.Errorf("GetRole answered %+v", got.Role)
	}
	gr.RoleName = "nobody"
	_, err = c.GetRole(gr)
	expectCode(t, err, "EntityNotExist.Role", 404, "GetRole of nothing")

	ur := ramsdk.CreateUpdateRoleRequest()
	h.at(ur)
	ur.RoleName, ur.NewDescription, ur.NewMaxSessionDuration = "ecs-operator", "Runs ECS", requests.NewInteger(3600)
	upd, err := c.UpdateRole(ur)
	must(t, err, "UpdateRole")
	if upd.Role.Description != "Runs ECS" || upd.Role.MaxSessionDuration != 3600 || upd.Role.AssumeRolePolicyDocument != trust {
		t.Errorf("UpdateRole answered %+v", upd.Role)
	}
	ur.NewAssumeRolePolicyDocument = `{"Version":"1"`
	_, err = c.UpdateRole(ur)
	expectCode(t, err, "MalformedPolicyDocument", 400, "UpdateRole with a broken trust policy")

	ap := ramsdk.CreateAttachPolicyToRoleRequest()
	h.at(ap)
	ap.RoleName, ap.PolicyType, ap.PolicyName = "ecs-operator", "System", "AliyunECSFullAccess"
	_, err = c.AttachPolicyToRole(ap)
	must(t, err, "AttachPolicyToRole")
	ap.PolicyName = "NoSuchPolicy"
	_, err = c.AttachPolicyToRole(ap)
	expectCode(t, err, "EntityNotExist.Policy", 404, "attach a policy that does not exist")
	ap.RoleName, ap.PolicyName = "nobody", "AliyunECSFullAccess"
	_, err = c.AttachPolicyToRole(ap)
	expectCode(t, err, "EntityNotExist.Role", 404, "attach to a role that does not exist")

	lp := ramsdk.CreateListPoliciesForRoleRequest()
	h.at(lp)
	lp.RoleName = "ecs-operator"
	pols, err := c.ListPoliciesForRole(lp)
	must(t, err, "ListPoliciesForRole")
	if len(pols.Policies.Policy) != 1 || pols.Policies.Policy[0].PolicyName != "AliyunECSFullAccess" || pols.Policies.Policy[0].AttachDate == "" {
		t.Errorf("ListPoliciesForRole answered %+v", pols.Policies.Policy)
	}
	le := ramsdk.CreateListEntitiesForPolicyRequest()
	h.at(le)
	le.PolicyType, le.PolicyName = "System", "AliyunECSFullAccess"
	ents, err := c.ListEntitiesForPolicy(le)
	must(t, err, "ListEntitiesForPolicy")
	if len(ents.Roles.Role) != 1 || ents.Roles.Role[0].RoleName != "ecs-operator" || ents.Roles.Role[0].Arn == "" {
		t.Errorf("ListEntitiesForPolicy roles = %+v", ents.Roles.Role)
	}

	dr := ramsdk.CreateDeleteRoleRequest()
	h.at(dr)
	dr.RoleName = "ecs-operator"
	_, err = c.DeleteRole(dr)
	expectCode(t, err, "DeleteConflict.Role.Policy", 409, "DeleteRole with a policy attached")
	dp := ramsdk.CreateDetachPolicyFromRoleRequest()
	h.at(dp)
	dp.RoleName, dp.PolicyType, dp.PolicyName = "ecs-operator", "System", "AliyunECSFullAccess"
	_, err = c.DetachPolicyFromRole(dp)
	must(t, err, "DetachPolicyFromRole")
	_, err = c.DetachPolicyFromRole(dp)
	expectCode(t, err, "EntityNotExist.Role.Policy", 404, "detach twice")

	// ListRoles, paged.
	for i := 0; i < 5; i++ {
		cr.RoleName = fmt.Sprintf("role-%d", i)
		_, err := c.CreateRole(cr)
		must(t, err, "CreateRole "+cr.RoleName)
	}
	lr := ramsdk.CreateListRolesRequest()
	h.at(lr)
	lr.MaxItems = requests.NewInteger(4)
	var names []string
	for page := 0; ; page++ {
		res, err := c.ListRoles(lr)
		must(t, err, "ListRoles")
		for _, r := range res.Roles.Role {
			names = append(names, r.RoleName)
		}
		if !res.IsTruncated {
			break
		}
		if page > 3 || res.Marker == "" {
			t.Fatalf("ListRoles paging: %+v", res)
		}
		lr.Marker = res.Marker
	}
	if fmt.Sprint(names) != "[ecs-operator role-0 role-1 role-2 role-3 role-4]" {
		t.Errorf("ListRoles = %v", names)
	}
	_, err = c.DeleteRole(dr)
	must(t, err, "DeleteRole")
	gr.RoleName = "ecs-operator"
	_, err = c.GetRole(gr)
	expectCode(t, err, "EntityNotExist.Role", 404, "GetRole after DeleteRole")

	// Every role action is audited.
	for _, name := range []string{"CreateRole", "GetRole", "UpdateRole", "DeleteRole", "ListRoles", "AttachPolicyToRole", "DetachPolicyFromRole", "ListPoliciesForRole"} {
		if !h.hasEvent(name, "") {
			t.Errorf("no %s event", name)
		}
	}

	// A RAM user without permission is refused, and a Deny on the stored
	// role name cannot be dodged by another spelling.
	nobody := h.createEmployee(env.owner, "nobody")
	cn := h.sdkClient(nobody.keyID, nobody.secret)
	gr.RoleName = "role-1"
	_, err = cn.GetRole(gr)
	expectCode(t, err, "NoPermission", 403, "GetRole without permission")
}

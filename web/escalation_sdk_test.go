package web

import (
	"context"
	"testing"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
)

// No privilege escalation through the OpenAPI (SPEC §8, reference/ram-actions.md):
// AttachPolicyToUser needs ram:AttachPolicyToUser on both the user's ARN and
// the policy's ARN. A user allowed the action on every user, but not on
// AdministratorAccess's ARN, cannot attach it to itself through the official
// SDK; once the policy's ARN is allowed too, the same call works.
func TestAttachPolicyThroughSDKNeedsThePolicyARN(t *testing.T) {
	env := newAPIEnv(t)
	ctx := context.Background()
	acct := env.accountID()
	admin := env.client

	cu := ramsdk.CreateCreateUserRequest()
	env.at(cu)
	cu.UserName = "eve"
	_, err := admin.CreateUser(cu)
	must(t, err, "CreateUser eve")
	ck := ramsdk.CreateCreateAccessKeyRequest()
	env.at(ck)
	ck.UserName = "eve"
	key, err := admin.CreateAccessKey(ck)
	must(t, err, "CreateAccessKey eve")
	attach := func(policyName, doc string) {
		t.Helper()
		cp := ramsdk.CreateCreatePolicyRequest()
		env.at(cp)
		cp.PolicyName, cp.PolicyDocument = policyName, doc
		_, err := admin.CreatePolicy(cp)
		must(t, err, "CreatePolicy "+policyName)
		au := ramsdk.CreateAttachPolicyToUserRequest()
		env.at(au)
		au.PolicyType, au.PolicyName, au.UserName = "Custom", policyName, "eve"
		_, err = admin.AttachPolicyToUser(au)
		must(t, err, "attach "+policyName+" to eve")
	}
	// Every user, no policy: the user half of the rule is satisfied.
	attach("AttachOnUsers", `{"Version":"1","Statement":[{"Effect":"Allow",
		"Action":["ram:AttachPolicyToUser","ram:ListPoliciesForUser"],"Resource":"acs:ram:*:`+acct+`:user/*"}]}`)

	eve := env.sdkClient(key.AccessKey.AccessKeyId, key.AccessKey.AccessKeySecret)
	selfAdmin := func() error {
		req := ramsdk.CreateAttachPolicyToUserRequest()
		env.at(req)
		req.PolicyType, req.PolicyName, req.UserName = "System", "AdministratorAccess", "eve"
		_, err := eve.AttachPolicyToUser(req)
		return err
	}
	hasAdmin := func() bool {
		t.Helper()
		u, err := env.st.UserByName(ctx, "eve")
		if err != nil {
			t.Fatalf("eve: %v", err)
		}
		atts, err := env.st.UserAttachments(ctx, u.UserID)
		if err != nil {
			t.Fatalf("eve's attachments: %v", err)
		}
		for _, a := range atts {
			if a.PolicyType == "System" && a.PolicyName == "AdministratorAccess" {
				return true
			}
		}
		return false
	}

	se := expectCode(t, selfAdmin(), "NoPermission", 403, "eve attaches AdministratorAccess without the policy's ARN")
	if got := se.AccessDeniedDetail()["AuthAction"]; got != "ram:AttachPolicyToUser" {
		t.Errorf("AccessDeniedDetail[AuthAction] = %v, want ram:AttachPolicyToUser (all: %v)", got, se.AccessDeniedDetail())
	}
	if _, _, _, code, _, ok := env.apiEvent(se.RequestId()); !ok || code != "NoPermission" {
		t.Errorf("the refusal's audit event: found=%v errorCode=%q, want NoPermission", ok, code)
	}
	if hasAdmin() {
		t.Fatal("AdministratorAccess is attached to eve after a refused AttachPolicyToUser")
	}
	lp := ramsdk.CreateListPoliciesForUserRequest()
	env.at(lp)
	lp.UserName = "eve"
	list, err := eve.ListPoliciesForUser(lp)
	must(t, err, "eve lists her policies")
	for _, p := range list.Policies.Policy {
		if p.PolicyName == "AdministratorAccess" {
			t.Errorf("ListPoliciesForUser(eve) lists AdministratorAccess after the refusal")
		}
	}

	// The policy's ARN allowed as well: the same call now works.
	attach("AttachAdminPolicy", `{"Version":"1","Statement":[{"Effect":"Allow",
		"Action":"ram:AttachPolicyToUser","Resource":"acs:ram:*:system:policy/AdministratorAccess"}]}`)
	must(t, selfAdmin(), "eve attaches AdministratorAccess with both ARNs allowed")
	if !hasAdmin() {
		t.Error("AdministratorAccess is not attached to eve after an allowed AttachPolicyToUser")
	}
}

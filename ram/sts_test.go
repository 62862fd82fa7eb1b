package ram

import (
	"testing"
)

// Temporary credentials authenticate as the role session; revoking the
// role's sessions ends them at once, and deactivating the key that assumed
// the role ends them for good.
func TestSTSCredentialsAuthenticate(t *testing.T) {
	e := newTestEnv(t)
	acct := e.svc.AccountID(e.ctx)
	u, k := e.user("ops", "AliyunSTSAssumeRoleAccess")
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["` + RootARN(acct) + `"]}}]}`
	if _, err := e.svc.CreateRole(e.ctx, e.owner, RoleInput{RoleName: "reader", AssumeRolePolicy: trust}); err != nil {
		t.Fatal(err)
	}
	ops := Actor{Principal: UserPrincipal(u.UserID), Name: "ops", API: true, AccessKeyID: k.AccessKeyID, RequestID: NewRequestID()}
	assume := func() *AssumedRole {
		creds, err := e.svc.AssumeRole(e.ctx, ops, AssumeRoleInput{RoleArn: RoleARN(acct, "reader"), RoleSessionName: "nightly"})
		if err != nil {
			t.Fatal(err)
		}
		return creds
	}
	auth := func(c *AssumedRole) *Call {
		req := e.signedV1(c.AccessKeyID, c.AccessKeySecret, map[string]string{"Action": "GetCallerIdentity"})
		req.Token = c.SecurityToken
		return e.svc.Authenticate(e.ctx, Actor{RequestID: NewRequestID()}, req)
	}
	creds := assume()
	call := auth(creds)
	if call.Err() != nil {
		t.Fatal(call.Err())
	}
	if call.Actor.Session == nil || PrincipalARN(acct, call.Actor) != AssumedRoleARN(acct, "reader", "nightly") {
		t.Errorf("the STS caller acts as %+v", call.Actor)
	}
	wrong := e.signedV1(creds.AccessKeyID, creds.AccessKeySecret, nil)
	if c := e.svc.Authenticate(e.ctx, Actor{}, wrong); errCode(c.Err()) != "MissingSecurityToken" {
		t.Errorf("STS credentials without their token: %v", c.Err())
	}
	if _, err := e.svc.RevokeRoleSessions(e.ctx, e.owner, "reader"); err != nil {
		t.Fatal(err)
	}
	if c := auth(creds); errCode(c.Err()) != "InvalidSecurityToken.Expired" {
		t.Errorf("a revoked session: %v", c.Err())
	}
	creds = assume()
	if err := e.svc.UpdateAccessKey(e.ctx, e.owner, "ops", k.AccessKeyID, "Inactive"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.UpdateAccessKey(e.ctx, e.owner, "ops", k.AccessKeyID, "Active"); err != nil {
		t.Fatal(err)
	}
	if c := auth(creds); errCode(c.Err()) != "InvalidSecurityToken.Expired" {
		t.Errorf("a session of a key deactivated and re-activated: %v, want it ended for good", c.Err())
	}
}

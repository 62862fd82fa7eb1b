package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	stssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"ramconsole/ram"
)

// stsEnv is an account with a read-only role "ops" that every RAM user of
// the account may assume as its own policies allow, and "dev", a user
// whose policies allow sts:AssumeRole on ops.
type stsEnv struct {
	*apiEnv
	acct string
	dev  employee
}

func newSTSEnv(t testing.TB) *stsEnv {
	t.Helper()
	return newSTSEnvOn(t, newAPIEnv(t))
}

// newSTSEnvOn is newSTSEnv in a given API environment.
func newSTSEnvOn(t testing.TB, env *apiEnv) *stsEnv {
	t.Helper()
	e := &stsEnv{apiEnv: env, acct: env.accountID()}
	e.createRole(t, "ops", trustAccount(e.acct), "AliyunRAMReadOnlyAccess")
	e.dev = env.createEmployee(env.owner, "dev")
	e.grant(t, "dev", "DevMayAssumeOps", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"acs:ram:*:`+e.acct+`:role/ops"}]}`)
	return e
}

func (e *stsEnv) createRole(t testing.TB, name, trust string, systemPolicies ...string) {
	t.Helper()
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	if _, err := e.svc.CreateRole(context.Background(), a, ram.RoleInput{RoleName: name, AssumeRolePolicy: trust, MaxSessionDuration: 7200}); err != nil {
		t.Fatalf("create role %s: %v", name, err)
	}
	for _, p := range systemPolicies {
		if err := e.svc.AttachPolicyToRole(context.Background(), a, "System", p, name); err != nil {
			t.Fatalf("attach %s to %s: %v", p, name, err)
		}
	}
}

// grant attaches a new custom policy to a user, as the owner.
func (e *stsEnv) grant(t testing.TB, user, name, doc string) {
	t.Helper()
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ctx := context.Background()
	if _, err := e.svc.CreatePolicy(ctx, a, name, doc, ""); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if err := e.svc.AttachPolicyToUser(ctx, a, "Custom", name, user); err != nil {
		t.Fatalf("attach %s: %v", name, err)
	}
}

func (e *stsEnv) stsClient(t testing.TB, id, secret string) *stssdk.Client {
	t.Helper()
	c, err := stssdk.NewClientWithAccessKey("cn-hangzhou", id, secret)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *stsEnv) assume(t testing.TB, c *stssdk.Client, role, session string, tweak func(*stssdk.AssumeRoleRequest)) (*stssdk.AssumeRoleResponse, error) {
	t.Helper()
	req := stssdk.CreateAssumeRoleRequest()
	e.at(req)
	req.RoleArn, req.RoleSessionName = "acs:ram::"+e.acct+":role/"+role, session
	if tweak != nil {
		tweak(req)
	}
	return c.AssumeRole(req)
}

func (e *stsEnv) ramAs(t *testing.T, creds stssdk.Credentials) *ramsdk.Client {
	t.Helper()
	c, err := ramsdk.NewClientWithStsToken("cn-hangzhou", creds.AccessKeyId, creds.AccessKeySecret, creds.SecurityToken)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *stsEnv) getUser(c *ramsdk.Client, name string) error {
	req := ramsdk.CreateGetUserRequest()
	e.at(req)
	req.UserName = name
	_, err := c.GetUser(req)
	return err
}

func (e *stsEnv) createUser(c *ramsdk.Client, name string) error {
	req := ramsdk.CreateCreateUserRequest()
	e.at(req)
	req.UserName = name
	_, err := c.CreateUser(req)
	return err
}

func TestSTSAssumeRoleAndUseTheCredentials(t *testing.T) {
	e := newSTSEnv(t)
	dev := e.stsClient(t, e.dev.keyID, e.dev.secret)
	resp, err := e.assume(t, dev, "ops", "dev-laptop", nil)
	must(t, err, "AssumeRole")
	cr := resp.Credentials
	if !strings.HasPrefix(cr.AccessKeyId, "STS.") || cr.AccessKeySecret == "" || cr.SecurityToken == "" {
		t.Fatalf("credentials %+v", cr)
	}
	if resp.AssumedRoleUser.Arn != "acs:ram::"+e.acct+":assumed-role/ops/dev-laptop" || !strings.HasSuffix(resp.AssumedRoleUser.AssumedRoleId, ":dev-laptop") {
		t.Errorf("AssumedRoleUser %+v", resp.AssumedRoleUser)
	}
	exp, err := time.Parse("2006-01-02T15:04:05Z", cr.Expiration)
	if err != nil || exp.Sub(e.clock.Now()) != time.Hour {
		t.Errorf("Expiration %q, want an hour from now", cr.Expiration)
	}

	// Who am I, with the user's key and with the role session's.
	gci := stssdk.CreateGetCallerIdentityRequest()
	e.at(gci)
	me, err := dev.GetCallerIdentity(gci)
	must(t, err, "GetCallerIdentity as dev")
	if me.IdentityType != "RAMUser" || me.Arn != "acs:ram::"+e.acct+":user/dev" || me.AccountId != e.acct || me.UserId == "" {
		t.Errorf("dev's identity %+v", me)
	}
	sc, err := stssdk.NewClientWithStsToken("cn-hangzhou", cr.AccessKeyId, cr.AccessKeySecret, cr.SecurityToken)
	must(t, err, "sts client")
	gci = stssdk.CreateGetCallerIdentityRequest()
	e.at(gci)
	me, err = sc.GetCallerIdentity(gci)
	must(t, err, "GetCallerIdentity as the role session")
	if me.IdentityType != "AssumedRoleUser" || me.Arn != resp.AssumedRoleUser.Arn || me.RoleId == "" || me.PrincipalId != resp.AssumedRoleUser.AssumedRoleId {
		t.Errorf("the session's identity %+v", me)
	}

	// The session has the role's permissions: read-only RAM.
	rc := e.ramAs(t, cr)
	must(t, e.getUser(rc, "dev"), "GetUser as the role session")
	expectCode(t, e.createUser(rc, "intruder"), "NoPermission", 403, "CreateUser as a read-only role session")
	evs := e.events()
	found := false
	for _, ev := range evs {
		if ev.EventName == "CreateUser" && ev.ErrorCode == "NoPermission" {
			found = true
			id := ev.UserIdentity
			if id.Type != "assumed-role" || id.AccessKeyID != cr.AccessKeyId || id.PrincipalID != resp.AssumedRoleUser.AssumedRoleId ||
				id.ARN != "acs:ram::"+e.acct+":role/ops" || id.SessionName != "dev-laptop" || id.SourceUserName != "dev" ||
				id.SourceUserID == "" || id.SourceAccessKeyID != e.dev.keyID {
				t.Errorf("the session's refused call is recorded as %+v", ev.UserIdentity)
			}
		}
	}
	if !found {
		t.Errorf("the session's refused CreateUser is not in the audit log")
	}
	for _, ev := range evs {
		if strings.Contains(string(ev.Body), cr.AccessKeySecret) || strings.Contains(string(ev.Body), cr.SecurityToken) {
			t.Fatalf("an event holds the session's secret or token: %s", ev.Body)
		}
	}

	// A session policy narrows the session.
	narrow, err := e.assume(t, dev, "ops", "narrow", func(r *stssdk.AssumeRoleRequest) {
		r.Policy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:GetUser","Resource":"*"}]}`
	})
	must(t, err, "AssumeRole with a session policy")
	nc := e.ramAs(t, narrow.Credentials)
	must(t, e.getUser(nc, "dev"), "GetUser within the session policy")
	lu := ramsdk.CreateListUsersRequest()
	e.at(lu)
	_, err = nc.ListUsers(lu)
	expectCode(t, err, "NoPermission", 403, "ListUsers outside the session policy")

	// A detached policy stops working on the next call.
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	must(t, e.svc.DetachPolicyFromRole(context.Background(), a, "System", "AliyunRAMReadOnlyAccess", "ops"), "detach")
	expectCode(t, e.getUser(rc, "dev"), "NoPermission", 403, "GetUser after the role's policy was detached")
}

func TestSTSRefusals(t *testing.T) {
	e := newSTSEnv(t)
	dev := e.stsClient(t, e.dev.keyID, e.dev.secret)
	e.createRole(t, "only-bob", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+e.acct+`:user/bob"]}}]}`)
	e.createRole(t, "with-external-id", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::`+e.acct+`:root"]},
		"Condition":{"StringEquals":{"sts:ExternalId":"abc-123"}}}]}`)
	e.grant(t, "dev", "DevMayAssumeAll", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"acs:ram:*:`+e.acct+`:role/*"}]}`)
	nobody := e.createEmployee(e.owner, "nobody")

	_, err := e.assume(t, e.stsClient(t, nobody.keyID, nobody.secret), "ops", "s1", nil)
	expectCode(t, err, "NoPermission", 403, "a caller whose policies do not allow sts:AssumeRole")
	_, err = e.assume(t, dev, "only-bob", "s1", nil)
	expectCode(t, err, "NoPermission", 403, "a trust policy that names another user")
	_, err = e.assume(t, dev, "with-external-id", "s1", nil)
	expectCode(t, err, "NoPermission", 403, "no ExternalId")
	_, err = e.assume(t, dev, "with-external-id", "s1", func(r *stssdk.AssumeRoleRequest) { r.ExternalId = "wrong" })
	expectCode(t, err, "NoPermission", 403, "a wrong ExternalId")
	_, err = e.assume(t, dev, "with-external-id", "s1", func(r *stssdk.AssumeRoleRequest) { r.ExternalId = "abc-123" })
	must(t, err, "the right ExternalId")

	for _, tc := range []struct {
		what, code string
		status     int
		tweak      func(*stssdk.AssumeRoleRequest)
	}{
		{"a bad session name", "InvalidParameter.RoleSessionName", 400, func(r *stssdk.AssumeRoleRequest) { r.RoleSessionName = "x" }},
		{"a session name with a space", "InvalidParameter.RoleSessionName", 400, func(r *stssdk.AssumeRoleRequest) { r.RoleSessionName = "a b" }},
		{"a duration under 900 s", "InvalidParameter.DurationSeconds", 400, func(r *stssdk.AssumeRoleRequest) { r.DurationSeconds = requests.NewInteger(899) }},
		{"a duration over the role's maximum", "InvalidParameter.DurationSeconds", 400, func(r *stssdk.AssumeRoleRequest) { r.DurationSeconds = requests.NewInteger(7201) }},
		{"a malformed session policy", "InvalidParameter.PolicyGrammar", 400, func(r *stssdk.AssumeRoleRequest) { r.Policy = `{"Version":"1",` }},
		{"a session policy over the size limit", "InvalidParameter.PolicySize", 400, func(r *stssdk.AssumeRoleRequest) { r.Policy = strings.Repeat(" ", 2049) + "{}" }},
		{"an unknown role", "EntityNotExist.Role", 404, func(r *stssdk.AssumeRoleRequest) { r.RoleArn = "acs:ram::" + e.acct + ":role/nothing" }},
		{"a role of another account, not allowed by the caller's policies", "NoPermission", 403, func(r *stssdk.AssumeRoleRequest) {
			r.RoleArn = "acs:ram::1234567890123456:role/ops"
		}},
		{"not a role ARN", "InvalidParameter.RoleArn", 400, func(r *stssdk.AssumeRoleRequest) { r.RoleArn = "acs:ram::" + e.acct + ":user/dev" }},
	} {
		_, err := e.assume(t, dev, "ops", "ok-name", tc.tweak)
		expectCode(t, err, tc.code, tc.status, tc.what)
	}
	admin := e.stsClient(t, e.admin.keyID, e.admin.secret)
	_, err = e.assume(t, admin, "ops", "s1", func(r *stssdk.AssumeRoleRequest) { r.RoleArn = "acs:ram::1234567890123456:role/ops" })
	expectCode(t, err, "EntityNotExist.Role", 404, "a role of another account, for an administrator")
	if n := len(e.mustSessions(t, "ops")); n != 0 {
		t.Errorf("refused calls left %d sessions", n)
	}
}

func (e *stsEnv) mustSessions(t *testing.T, role string) []string {
	t.Helper()
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ss, err := e.svc.RoleSessions(context.Background(), a, role)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range ss {
		out = append(out, s.SessionName)
	}
	return out
}

// Temporary credentials end when the session ends: expiry, revocation, a
// new trust policy, the role's deletion.
func TestSTSSessionsEnd(t *testing.T) {
	e := newSTSEnv(t)
	dev := e.stsClient(t, e.dev.keyID, e.dev.secret)
	real := e.clock.Now()

	// Expiry: a 15-minute session started 14 minutes "ago", used 2 minutes after it ended.
	e.setClock(real.Add(-14 * time.Minute))
	short, err := e.assume(t, dev, "ops", "short", func(r *stssdk.AssumeRoleRequest) { r.DurationSeconds = requests.NewInteger(900) })
	must(t, err, "a 15-minute session")
	e.setClock(real)
	must(t, e.getUser(e.ramAs(t, short.Credentials), "dev"), "within the session")
	e.setClock(real.Add(2 * time.Minute))
	expectCode(t, e.getUser(e.ramAs(t, short.Credentials), "dev"), "InvalidSecurityToken.Expired", 400, "after the session expired")
	e.setClock(real)

	owner := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ctx := context.Background()
	s1, err := e.assume(t, dev, "ops", "s1", nil)
	must(t, err, "s1")
	c1 := e.ramAs(t, s1.Credentials)
	must(t, e.getUser(c1, "dev"), "s1 works")
	// Revoke sessions on the role page.
	e.owner.get("/roles/ops")
	expectRedirect(t, e.owner.post("/roles/ops/sessions/revoke", nil), "/roles/ops", "revoke the sessions")
	expectCode(t, e.getUser(c1, "dev"), "InvalidSecurityToken.Expired", 400, "after Revoke sessions")

	s2, err := e.assume(t, dev, "ops", "s2", nil)
	must(t, err, "s2")
	c2 := e.ramAs(t, s2.Credentials)
	must(t, e.getUser(c2, "dev"), "s2 works")
	doc := strings.Replace(trustAccount(e.acct), `"sts:AssumeRole"`, `["sts:AssumeRole"]`, 1)
	_, err = e.svc.UpdateRole(ctx, owner, "ops", ram.RoleUpdate{NewAssumeRolePolicy: &doc})
	must(t, err, "a new trust policy")
	expectCode(t, e.getUser(c2, "dev"), "InvalidSecurityToken.Expired", 400, "after the trust policy changed")

	s3, err := e.assume(t, dev, "ops", "s3", nil)
	must(t, err, "s3")
	c3 := e.ramAs(t, s3.Credentials)
	must(t, e.getUser(c3, "dev"), "s3 works")
	must(t, e.svc.DeleteRole(ctx, owner, "ops", true), "delete the role")
	expectCode(t, e.getUser(c3, "dev"), "InvalidSecurityToken.Expired", 400, "after the role was deleted")
}

// Raw V1 and V3 calls with a tampered, foreign, malformed or missing token.
func TestSTSTokensRaw(t *testing.T) {
	e := newSTSEnv(t)
	dev := e.stsClient(t, e.dev.keyID, e.dev.secret)
	a, err := e.assume(t, dev, "ops", "raw-1", nil)
	must(t, err, "session 1")
	b, err := e.assume(t, dev, "ops", "raw-2", nil)
	must(t, err, "session 2")
	ca, cb := a.Credentials, b.Credentials
	get := url.Values{"Action": {"GetUser"}, "UserName": {"dev"}}
	with := func(token string) url.Values {
		v := url.Values{"SecurityToken": {token}}
		for k, vv := range get {
			v[k] = vv
		}
		return v
	}
	expectStatus(t, e.rawV1(ca.AccessKeyId, ca.AccessKeySecret, http.MethodGet, with(ca.SecurityToken), nil), 200, "V1 with the session's token")
	expectAPIError(t, e.rawV1(ca.AccessKeyId, ca.AccessKeySecret, http.MethodGet, get, nil), "MissingSecurityToken", 400, "V1 without a token")
	expectAPIError(t, e.rawV1(ca.AccessKeyId, ca.AccessKeySecret, http.MethodGet, with(cb.SecurityToken), nil),
		"InvalidSecurityToken.MismatchWithAccessKey", 400, "V1 with another session's token")
	tampered := ca.SecurityToken[:len(ca.SecurityToken)-4] + "0000"
	expectAPIError(t, e.rawV1(ca.AccessKeyId, ca.AccessKeySecret, http.MethodGet, with(tampered), nil),
		"InvalidSecurityToken.MismatchWithAccessKey", 400, "V1 with a tampered token")
	expectAPIError(t, e.rawV1(ca.AccessKeyId, ca.AccessKeySecret, http.MethodGet, with("garbage"), nil),
		"InvalidSecurityToken.Malformed", 400, "V1 with a malformed token")
	expectAPIError(t, e.rawV1(e.dev.keyID, e.dev.secret, http.MethodGet, with(ca.SecurityToken), nil),
		"InvalidSecurityToken.MismatchWithAccessKey", 400, "a permanent key with a token")
	// The token is signed: changing it after signing breaks the signature.
	p := e.rawV1(ca.AccessKeyId, ca.AccessKeySecret, http.MethodGet, with(ca.SecurityToken), func(v url.Values) { v.Set("SecurityToken", cb.SecurityToken) })
	expectAPIError(t, p, "InvalidSecurityToken.MismatchWithAccessKey", 400, "V1 with the token swapped after signing")

	v3 := func(token string) page {
		req := e.v3Request(ca.AccessKeyId, ca.AccessKeySecret, "GetUser", url.Values{"UserName": {"dev"}}, nil)
		if token != "" {
			req.Header.Set("x-acs-security-token", token)
			signV3(req, ca.AccessKeyId, ca.AccessKeySecret)
		}
		return e.send(req)
	}
	expectStatus(t, v3(ca.SecurityToken), 200, "V3 with the session's token")
	expectAPIError(t, v3(""), "MissingSecurityToken", 400, "V3 without a token")
	expectAPIError(t, v3(tampered), "InvalidSecurityToken.MismatchWithAccessKey", 400, "V3 with a tampered token")
	expectAPIError(t, v3("x"), "InvalidSecurityToken.Malformed", 400, "V3 with a malformed token")
}

// A role session cannot climb: not to a role its own permissions do not
// allow, not through a wider session policy, not by rewriting its trust
// policy; and a user allowed role A cannot reach role B.
func TestSTSNoEscalation(t *testing.T) {
	e := newSTSEnv(t)
	e.createRole(t, "admin-role", trustAccount(e.acct), "AdministratorAccess")
	dev := e.stsClient(t, e.dev.keyID, e.dev.secret)
	_, err := e.assume(t, dev, "admin-role", "climb", nil)
	expectCode(t, err, "NoPermission", 403, "dev may assume ops, not admin-role")

	s, err := e.assume(t, dev, "ops", "wide", func(r *stssdk.AssumeRoleRequest) {
		r.Policy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	})
	must(t, err, "a session policy wider than the role")
	rc := e.ramAs(t, s.Credentials)
	expectCode(t, e.createUser(rc, "intruder"), "NoPermission", 403, "a session policy cannot add permissions")
	sc, err := stssdk.NewClientWithStsToken("cn-hangzhou", s.Credentials.AccessKeyId, s.Credentials.AccessKeySecret, s.Credentials.SecurityToken)
	must(t, err, "sts client")
	_, err = e.assume(t, sc, "admin-role", "chain", nil)
	expectCode(t, err, "NoPermission", 403, "the session assumes a role its role's policies do not allow")
	ur := ramsdk.CreateUpdateRoleRequest()
	e.at(ur)
	ur.RoleName, ur.NewAssumeRolePolicyDocument = "admin-role", trustAccount(e.acct)
	_, err = rc.UpdateRole(ur)
	expectCode(t, err, "NoPermission", 403, "the session rewrites a trust policy without ram:UpdateRole")
}

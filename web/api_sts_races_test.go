package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	stssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/sts"

	"ramconsole/ram"
)

// rootActor is the owner, for changes the tests make through the service.
func rootActor() ram.Actor {
	return ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
}

// A compiled trust policy is cached by its document: a change committed in
// the same millisecond as the last one is seen all the same.
func TestSTSTrustChangeSeenInTheSameMillisecond(t *testing.T) {
	e := newSTSEnv(t)
	dev := e.stsClient(t, e.dev.keyID, e.dev.secret)
	_, err := e.assume(t, dev, "ops", "s1", nil) // compiles and caches ops's trust
	must(t, err, "first AssumeRole")
	deny := `{"Version":"1","Statement":[{"Effect":"Deny","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + e.acct + `:user/dev"]}}]}`
	_, err = e.svc.UpdateRole(context.Background(), rootActor(), "ops", ram.RoleUpdate{NewAssumeRolePolicy: &deny})
	must(t, err, "UpdateRole")
	r, err := e.svc.GetRole(context.Background(), rootActor(), "ops")
	must(t, err, "GetRole")
	if r.AssumeRolePolicy != deny {
		t.Fatalf("stored trust after UpdateRole = %s, want %s", r.AssumeRolePolicy, deny)
	}
	_, err = e.assume(t, dev, "ops", "s2", nil)
	expectCode(t, err, "NoPermission", 403, "AssumeRole after the trust policy changed to deny dev in the same millisecond (stale compiled trust?)")
	// Control: with the clock moved on, the same change is seen.
	e.clock.Advance(time.Millisecond)
	allow := trustAccount(e.acct)
	_, err = e.svc.UpdateRole(context.Background(), rootActor(), "ops", ram.RoleUpdate{NewAssumeRolePolicy: &allow})
	must(t, err, "control: UpdateRole back to allow")
	_, err = e.assume(t, dev, "ops", "s3", nil)
	must(t, err, "control: AssumeRole under the allowing trust policy")
	e.clock.Advance(time.Millisecond)
	_, err = e.svc.UpdateRole(context.Background(), rootActor(), "ops", ram.RoleUpdate{NewAssumeRolePolicy: &deny})
	must(t, err, "control: UpdateRole to deny")
	_, err = e.assume(t, dev, "ops", "s4", nil)
	expectCode(t, err, "NoPermission", 403, "control: AssumeRole a millisecond after the trust policy changed to deny dev")
}

// Ending a session ends the sessions chained from it, and deleting the
// AccessKey that started a session ends it.
func TestSTSEndingASessionEndsTheSessionsChainedFromIt(t *testing.T) {
	e := newSTSEnv(t)
	// "admin-ish" role trusts the account; ops gets sts:AssumeRole via a custom policy.
	e.createRole(t, "target", trustAccount(e.acct), "AliyunRAMReadOnlyAccess")
	a := rootActor()
	ctx := context.Background()
	_, err := e.svc.CreatePolicy(ctx, a, "OpsMayChain", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`, "")
	must(t, err, "create policy")
	must(t, e.svc.AttachPolicyToRole(ctx, a, "Custom", "OpsMayChain", "ops"), "attach")

	dev := e.stsClient(t, e.dev.keyID, e.dev.secret)
	first, err := e.assume(t, dev, "ops", "s1", nil)
	must(t, err, "AssumeRole ops")
	sc, err := stssdk.NewClientWithStsToken("cn-hangzhou", first.Credentials.AccessKeyId, first.Credentials.AccessKeySecret, first.Credentials.SecurityToken)
	must(t, err, "client")
	chained, err := e.assume(t, sc, "target", "chained", nil)
	must(t, err, "AssumeRole target from the ops session")

	// The owner revokes ops's sessions and deletes dev's AccessKey.
	must(t, e.getUser(e.ramAs(t, first.Credentials), "dev"), "the ops session before revocation")
	must(t, e.getUser(e.ramAs(t, chained.Credentials), "dev"), "the chained session before revocation")
	n, err := e.svc.RevokeRoleSessions(ctx, a, "ops")
	must(t, err, "revoke")
	if n != 1 {
		t.Errorf("RevokeRoleSessions(ops) = %d, want 1 (the session s1)", n)
	}
	must(t, e.svc.DeleteAccessKey(ctx, a, "dev", e.dev.keyID), "delete dev's key")

	expectCode(t, e.getUser(e.ramAs(t, first.Credentials), "dev"), "InvalidSecurityToken.Expired", 400, "the revoked ops session")
	expectCode(t, e.getUser(e.ramAs(t, chained.Credentials), "dev"), "InvalidSecurityToken.Expired", 400,
		"the session chained from the revoked ops session, after Revoke sessions on ops and deletion of the source AccessKey")
}

// errCode is the RAM error code of a refusal by the service ("" for none).
func errCode(err error) string {
	var re *ram.Error
	if errors.As(err, &re) {
		return re.Code
	}
	return ""
}

// A trust change wins its race with AssumeRoles in flight: no session
// checked against the old trust policy survives the change.
func TestSTSTrustChangeWinsTheRaceWithAssumeRole(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	u, err := e.svc.GetUser(ctx, rootActor(), "dev")
	must(t, err, "get dev")
	devActor := ram.Actor{Principal: ram.UserPrincipal(u.UserID), Name: "dev", RequestID: ram.NewRequestID(), API: true}
	allow := trustAccount(e.acct)
	deny := `{"Version":"1","Statement":[{"Effect":"Deny","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + e.acct + `:root"]}}]}`
	roleARN := "acs:ram::" + e.acct + ":role/ops"
	var unexpected atomic.Pointer[error]
	for round := 0; round < 60; round++ {
		e.clock.Advance(time.Second) // distinct UpdatedAt, so the trust cache is not the cause
		_, err := e.svc.UpdateRole(ctx, rootActor(), "ops", ram.RoleUpdate{NewAssumeRolePolicy: &allow})
		must(t, err, "allow")
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					a := devActor
					a.RequestID = ram.NewRequestID()
					// Allowed before the change, refused by the trust policy after it, or
					// refused because the role changed between the check and the write.
					_, err := e.svc.AssumeRole(ctx, a, ram.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "race"})
					if code := errCode(err); err != nil && code != "NoPermission" && code != "Conflict.Role.Changed" {
						unexpected.CompareAndSwap(nil, &err)
					}
				}
			}()
		}
		time.Sleep(3 * time.Millisecond)
		e.clock.Advance(time.Second)
		_, err = e.svc.UpdateRole(ctx, rootActor(), "ops", ram.RoleUpdate{NewAssumeRolePolicy: &deny})
		must(t, err, "deny")
		close(stop)
		wg.Wait()
		if err := unexpected.Load(); err != nil {
			t.Fatalf("round %d: a racing AssumeRole failed with %v, want success, NoPermission or Conflict.Role.Changed", round, *err)
		}
		live, err := e.svc.RoleSessions(ctx, rootActor(), "ops")
		must(t, err, "sessions")
		a := devActor
		a.RequestID = ram.NewRequestID()
		if _, err := e.svc.AssumeRole(ctx, a, ram.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "after"}); errCode(err) != "NoPermission" {
			t.Fatalf("control: AssumeRole under the deny trust = %v, want NoPermission", err)
		}
		if len(live) > 0 {
			for _, l := range live {
				t.Logf("live session %s created %s", l.AccessKeyID, l.CreatedAt)
			}
			t.Fatalf("round %d: %d session(s) of ops exist after its trust policy was changed to deny everyone (created under the old trust, after the change ended the others)", round, len(live))
		}
	}
}

// A signature mismatch answers the server's string to sign (the SDKs need
// it), but the audit log records none of it: it holds every parameter, a
// security token or a password included.
func TestSignatureMismatchRecordsNoSecret(t *testing.T) {
	e := newSTSEnv(t)
	dev := e.stsClient(t, e.dev.keyID, e.dev.secret)
	resp, err := e.assume(t, dev, "ops", "s1", nil)
	must(t, err, "AssumeRole")
	cr := resp.Credentials
	p := e.rawV1(cr.AccessKeyId, "wrong-secret", "GET", url.Values{"Action": {"GetUser"}, "UserName": {"dev"}, "SecurityToken": {cr.SecurityToken}}, nil)
	expectSignatureMismatch(t, e, p, "GetUser with a role session's token and a wrong secret")
	for _, ev := range e.events() {
		if strings.Contains(string(ev.Body), cr.SecurityToken) || strings.Contains(string(ev.Body), url.QueryEscape(url.QueryEscape(cr.SecurityToken))) {
			t.Errorf("event %s holds the security token: %.300s", ev.EventName, ev.Body)
		}
	}
	// Same with a password.
	p = e.rawV1(e.admin.keyID, "wrong", "GET", url.Values{"Action": {"CreateLoginProfile"}, "UserName": {"dev"}, "Password": {"Sup3r-Secret-Pass!"}}, nil)
	expectSignatureMismatch(t, e, p, "CreateLoginProfile with a password and a wrong secret")
	for _, ev := range e.events() {
		if strings.Contains(string(ev.Body), "Sup3r") {
			t.Errorf("event %s holds a password: %.300s", ev.EventName, ev.Body)
		}
	}
}

// expectSignatureMismatch checks that a raw call was refused with
// SignatureDoesNotMatch (400) and that the refusal was recorded under its
// RequestId, so the no-secret checks look at a real event.
func expectSignatureMismatch(t *testing.T, e *stsEnv, p page, what string) {
	t.Helper()
	var body struct{ RequestId, Code string }
	if err := json.Unmarshal([]byte(p.body), &body); err != nil {
		t.Fatalf("%s: status %d, body %q is not JSON: %v", what, p.status, p.body, err)
	}
	if p.status != http.StatusBadRequest || body.Code != "SignatureDoesNotMatch" {
		t.Fatalf("%s: status %d, code %q; want 400 SignatureDoesNotMatch", what, p.status, body.Code)
	}
	if _, _, _, code, _, ok := e.apiEvent(body.RequestId); !ok || code != "SignatureDoesNotMatch" {
		t.Errorf("%s: the refusal's audit event: found=%v errorCode=%q, want SignatureDoesNotMatch", what, ok, code)
	}
}

// A user deleted while its AssumeRoles are in flight keeps no session:
// the transaction re-checks the caller, and a session whose user is gone
// is refused.
func TestSTSDeletedUserKeepsNoRacingSession(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	roleARN := "acs:ram::" + e.acct + ":role/ops"
	for round := 0; round < 20; round++ {
		name := "victim" + string(rune('a'+round))
		_, err := e.svc.CreateUser(ctx, rootActor(), ram.UserInput{UserName: name})
		must(t, err, "create")
		_, err = e.svc.CreatePolicy(ctx, rootActor(), "P"+name, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`, "")
		must(t, err, "policy")
		must(t, e.svc.AttachPolicyToUser(ctx, rootActor(), "Custom", "P"+name, name), "attach")
		u, err := e.svc.GetUser(ctx, rootActor(), name)
		must(t, err, "get")
		actor := ram.Actor{Principal: ram.UserPrincipal(u.UserID), Name: name, API: true}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var got []*ram.AssumedRole
		var mu sync.Mutex
		var unexpected atomic.Pointer[error]
		for g := 0; g < 2; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					a := actor
					a.RequestID = ram.NewRequestID()
					r, err := e.svc.AssumeRole(ctx, a, ram.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "race"})
					switch {
					case err == nil:
						mu.Lock()
						got = append(got, r)
						mu.Unlock()
					case !callerGone(err):
						unexpected.CompareAndSwap(nil, &err)
					}
				}
			}()
		}
		time.Sleep(3 * time.Millisecond)
		must(t, e.svc.DeleteUser(ctx, rootActor(), name, true), "delete user")
		close(stop)
		wg.Wait()
		if err := unexpected.Load(); err != nil {
			t.Fatalf("round %d: a racing AssumeRole failed with %v, want success or a refusal of the deleted caller", round, *err)
		}
		for _, r := range got {
			c, err := e.svc.RoleSessionCaller(ctx, r.AccessKeyID, r.SecurityToken)
			if err == nil {
				t.Fatalf("round %d: user %s was deleted, yet its role session %s still authenticates (source %s)", round, name, r.AccessKeyID, c.Session.Session.SourcePrincipal)
			}
			if errCode(err) != "InvalidSecurityToken.Expired" {
				t.Fatalf("round %d: role session %s of deleted user %s: %v, want InvalidSecurityToken.Expired", round, r.AccessKeyID, name, err)
			}
		}
	}
}

// Deleting a user ends the role sessions it started.
func TestSTSDeletedUserSessionsEnd(t *testing.T) {
	e := newSTSEnv(t)
	ctx := context.Background()
	roleARN := "acs:ram::" + e.acct + ":role/ops"
	_, err := e.svc.CreateUser(ctx, rootActor(), ram.UserInput{UserName: "v"})
	must(t, err, "create")
	_, err = e.svc.CreatePolicy(ctx, rootActor(), "Pv", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`, "")
	must(t, err, "policy")
	must(t, e.svc.AttachPolicyToUser(ctx, rootActor(), "Custom", "Pv", "v"), "attach")
	u, err := e.svc.GetUser(ctx, rootActor(), "v")
	must(t, err, "get v")
	r, err := e.svc.AssumeRole(ctx, ram.Actor{Principal: ram.UserPrincipal(u.UserID), Name: "v", API: true, RequestID: ram.NewRequestID()}, ram.AssumeRoleInput{RoleArn: roleARN, RoleSessionName: "xx"})
	must(t, err, "assume")
	_, err = e.svc.RoleSessionCaller(ctx, r.AccessKeyID, r.SecurityToken)
	must(t, err, "the session before its user's deletion")
	must(t, e.svc.DeleteUser(ctx, rootActor(), "v", true), "delete user")
	if _, err := e.svc.RoleSessionCaller(ctx, r.AccessKeyID, r.SecurityToken); err == nil {
		t.Fatalf("the session survives its user's deletion")
	} else if errCode(err) != "InvalidSecurityToken.Expired" {
		t.Fatalf("the session after its user's deletion: %v, want InvalidSecurityToken.Expired", err)
	}
}

// callerGone reports whether err is the service refusing an AssumeRole
// because its caller was deleted in the meantime: before the check (the
// user's policies are gone) or between the check and the write (the
// session's source is gone).
func callerGone(err error) bool {
	switch errCode(err) {
	case "NoPermission", "InvalidSecurityToken.Expired":
		return true
	}
	return false
}

package ram

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"ramconsole/ram/oidcfed/oidctest"
	"ramconsole/store"
)

// oidcEnv is an account with an OIDC provider "ci" for a running issuer
// and a role "deploy" that trusts it for one repository's main branch.
type oidcEnv struct {
	*testEnv
	iss  *oidctest.Issuer
	in   AssumeRoleWithOIDCInput
	anon Actor
}

func newOIDCFedEnv(t *testing.T) *oidcEnv {
	t.Helper()
	e := &oidcEnv{testEnv: newTestEnv(t), iss: oidctest.NewIssuer(t)}
	e.iss.SetClock(e.clock.Now)
	e.createProvider()
	acct := e.svc.accountID(e.ctx)
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":["` +
		OIDCProviderARN(acct, "ci") + `"]},"Condition":{"StringLike":{"oidc:sub":"repo:org/repo:ref:refs/heads/main"}}}]}`
	if _, err := e.svc.CreateRole(e.ctx, e.owner, RoleInput{RoleName: "deploy", AssumeRolePolicy: trust, MaxSessionDuration: 3600}); err != nil {
		t.Fatal(err)
	}
	e.in = AssumeRoleWithOIDCInput{OIDCProviderArn: OIDCProviderARN(acct, "ci"), RoleArn: RoleARN(acct, "deploy"), RoleSessionName: "job"}
	e.anon = Actor{RequestID: NewRequestID(), SourceIP: "192.0.2.9", API: true}
	return e
}

func (e *oidcEnv) createProvider() {
	e.t.Helper()
	if _, err := e.svc.CreateOIDCProvider(e.ctx, e.owner, OIDCProviderInput{Name: "ci", IssuerURL: e.iss.URL(), ClientIDs: []string{"sts.aliyuncs.com"},
		Fingerprints: []string{e.iss.Fingerprint()}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *oidcEnv) assume(svc *Service) (*OIDCAssumedRole, error) {
	in := e.in
	in.OIDCToken = e.iss.Token(oidctest.Claims{Subject: "repo:org/repo:ref:refs/heads/main", Audience: []string{"sts.aliyuncs.com"}})
	return svc.AssumeRoleWithOIDC(e.ctx, e.anon, in)
}

// A session is tied to its provider by id: a provider deleted and created
// again under the same name revives none of the old sessions.
func TestFederatedSessionEndsWithItsProvider(t *testing.T) {
	e := newOIDCFedEnv(t)
	r, err := e.assume(e.svc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RoleSessionCaller(e.ctx, r.AccessKeyID, r.SecurityToken); err != nil {
		t.Fatalf("a fresh session: %v", err)
	}
	if err := e.svc.DeleteOIDCProvider(e.ctx, e.owner, "ci"); err != nil {
		t.Fatal(err)
	}
	e.createProvider()
	if _, err := e.svc.RoleSessionCaller(e.ctx, r.AccessKeyID, r.SecurityToken); errCode(err) != errTokenExpired.Code {
		t.Errorf("a session of a deleted provider: %v", err)
	}
	if _, err := e.assume(e.svc); err != nil {
		t.Errorf("the provider created again: %v", err)
	}
}

// The issuer's JWKS is cached in the database: another node (a second
// service over the same store) does not fetch it again.
func TestFederatedJWKSCachedInStore(t *testing.T) {
	e := newOIDCFedEnv(t)
	if _, err := e.assume(e.svc); err != nil {
		t.Fatal(err)
	}
	fetched := e.iss.JWKSRequests()
	if fetched != 1 {
		t.Fatalf("JWKS fetched %d times, want 1", fetched)
	}
	other := New(e.st, e.svc.sealer)
	if _, err := e.assume(other); err != nil {
		t.Fatal(err)
	}
	if n := e.iss.JWKSRequests(); n != fetched {
		t.Errorf("the second node fetched the JWKS again (%d fetches)", n)
	}
}

// connectProxy is an HTTP CONNECT proxy that counts its tunnels.
func connectProxy(t *testing.T) (*url.URL, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		up, err := net.Dial("tcp", r.Host)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		n.Add(1)
		w.WriteHeader(http.StatusOK)
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		go func() { io.Copy(up, buf); up.Close() }()
		go func() { io.Copy(conn, up); conn.Close() }()
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &url.URL{Scheme: "http", Host: ln.Addr().String()}, &n
}

// --outbound-proxy: the issuer is reached through the proxy, and only
// through it.
func TestFederatedOutboundProxy(t *testing.T) {
	e := newOIDCFedEnv(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := &url.URL{Scheme: "http", Host: dead.Addr().String()}
	dead.Close()
	e.svc.SetOutboundProxy(deadURL)
	if _, err := e.assume(e.svc); errCode(err) != "AuthenticationFail.OIDCToken.IssuerConfigurationBroken" {
		t.Errorf("through a proxy that is down: %v", err)
	}
	proxy, tunnels := connectProxy(t)
	e.svc.SetOutboundProxy(proxy)
	e.clock.Advance(time.Minute) // a failed fetch is remembered for a minute
	if _, err := e.assume(e.svc); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	if tunnels.Load() == 0 {
		t.Error("the issuer was not reached through the proxy")
	}
}

// Refusals before the token is verified name no subject; a refused token
// never starts a session.
func TestFederatedRefusalStartsNothing(t *testing.T) {
	e := newOIDCFedEnv(t)
	in := e.in
	in.OIDCToken = e.iss.Token(oidctest.Claims{Subject: "repo:org/repo:ref:refs/heads/dev", Audience: []string{"sts.aliyuncs.com"}})
	_, err := e.svc.AssumeRoleWithOIDC(e.ctx, e.anon, in)
	var re *Error
	if !errors.As(err, &re) || re.Code != "NoPermission" || re.Denial == nil || re.Denial.PolicyType != "AssumeRolePolicy" {
		t.Fatalf("trust refusal: %v", err)
	}
	sessions, err := e.svc.RoleSessions(e.ctx, e.owner, "deploy")
	if err != nil || len(sessions) != 0 {
		t.Errorf("sessions after a refusal: %v %v", sessions, err)
	}
	var ev *store.StoredEvent
	for _, x := range e.events() {
		if x.EventName == EventAssumeRoleWithOIDC {
			ev = &x
			break
		}
	}
	if ev == nil || !ev.IsError || ev.UserIdentity.Type != "oidc-user" || ev.UserIdentity.UserName != "repo:org/repo:ref:refs/heads/dev" {
		t.Errorf("refusal event %+v", ev)
	}
}

package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ramconsole/ram"
	"ramconsole/store"
)

// gatewayEnv is an account with the ECS-shaped rpc service and the
// OSS-shaped rest service, served on loopback to a trusted proxy
// (127.0.0.1), and an employee with AliyunECSReadOnlyAccess.
type gatewayEnv struct {
	*harness
	owner *browser
	emp   employee
}

const (
	gwECS = `{"code": "ecs", "name": "Instances", "hosts": ["ecs.internal.example"], "region": "cn-hangzhou", "style": "rpc",
		"resources": {"StopInstance": "instance/{InstanceId}", "StartInstance": "instance/{InstanceId}", "*": "*"}}`
	gwOSS = `{"code": "oss", "name": "Objects", "hosts": ["oss.internal.example"], "style": "rest", "rules": [
		{"methods": ["GET", "HEAD"], "path": "/{bucket}/{key...}", "action": "oss:GetObject", "resource": "{bucket}/{key}"},
		{"methods": ["PUT"], "path": "/{bucket}/{key...}", "action": "oss:PutObject", "resource": "{bucket}/{key}"}]}`
)

func newGatewayEnv(t *testing.T) *gatewayEnv {
	t.Helper()
	h := newHarnessConfig(t, Config{TrustedProxies: []string{"127.0.0.1"}})
	h.setClock(time.Now().UTC().Truncate(time.Second))
	owner, _ := h.setupOwner()
	for _, def := range []string{gwECS, gwOSS} {
		owner.get("/services")
		p := owner.post("/services/import", url.Values{"definition": {def}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("import a service: %d %s", p.status, p.body)
		}
	}
	emp := h.createEmployee(owner, "ops")
	owner.get("/users/ops")
	expectRedirect(t, owner.post("/users/ops/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunECSReadOnlyAccess"}}), "/users/ops", "attach")
	return &gatewayEnv{harness: h, owner: owner, emp: emp}
}

// ask sends the proxy's question about an original request.
func (e *gatewayEnv) ask(method, host, uri string, header http.Header, cookie string) page {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/gateway/auth", nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("X-Original-Method", method)
	req.Header.Set("X-Original-URI", uri)
	req.Header.Set("X-Forwarded-Host", host)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: CookieName, Value: cookie})
	}
	return e.sendNoFollow(req)
}

// sendNoFollow sends a request and returns its answer, redirects unfollowed.
func (e *gatewayEnv) sendNoFollow(req *http.Request) page {
	e.t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

// signedRPC is the URI of an RPC request signed with V1.
func (e *gatewayEnv) signedRPC(id, secret, method string, params url.Values) string {
	return "/?" + e.signedV1(id, secret, method, params).Encode()
}

func TestGatewayDecidesSignedRequests(t *testing.T) {
	e := newGatewayEnv(t)
	acct := e.accountID()
	uri := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}, "RegionId": {"cn-beijing"}})
	p := e.ask("GET", "ecs.internal.example", uri, nil, "")
	expectStatus(t, p, 200, "DescribeInstances with AliyunECSReadOnlyAccess")
	for name, want := range map[string]string{"X-Ram-Account-Id": acct, "X-Ram-Principal-Type": "SubUser", "X-Ram-User-Name": "ops",
		"X-Ram-Principal-Arn": "acs:ram::" + acct + ":user/ops", "X-Ram-Action": "ecs:DescribeInstances",
		"X-Ram-Resource": "acs:ecs:cn-beijing:" + acct + ":*"} {
		if got := p.header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// The 200 is for the proxy, never shown: no page headers, and never
	// cached. A refusal, which Caddy and Traefik show, has them all.
	if p.header.Get("Content-Security-Policy") != "" || p.header.Get("Cache-Control") != "no-store" {
		t.Errorf("an allowing decision's headers: %v", p.header)
	}
	rid := p.header.Get("X-Ram-Request-Id")
	if rid == "" || p.header.Get("X-Request-Id") != "" {
		t.Errorf("X-Ram-Request-Id %q, X-Request-Id %q: want the id in X-Ram-Request-Id alone", rid, p.header.Get("X-Request-Id"))
	}
	ev := e.eventOf(t, rid)
	if ev.EventSource != "ecs.internal.example" || ev.ServiceName != "ecs" || ev.EventName != "DescribeInstances" ||
		ev.AcsRegion != "cn-beijing" || ev.RecipientAccountID != acct || ev.UserIdentity.UserName != "ops" || ev.IsError {
		t.Errorf("the decision's event: %+v", ev.Event)
	}
	// The audit page filters by service: the decision is the one ecs event.
	ap := e.owner.get("/audit?service=ECS")
	expectStatus(t, ap, 200, "/audit?service=ECS")
	if n := strings.Count(ap.body, `data-testid="event-link"`); n != 1 || !strings.Contains(ap.body, ev.EventID) {
		t.Errorf("/audit?service=ECS lists %d events, want the one decision %s", n, ev.EventID)
	}

	// Any method asks (Traefik asks with the original request's): a POST
	// question is decided as a GET one. An rpc request with no body says
	// so (the recipes pass X-Original-Content-Length).
	post, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/gateway/auth", nil)
	post.Header.Set("X-Forwarded-Method", "POST")
	post.Header.Set("X-Original-Content-Length", "0")
	post.Header.Set("X-Forwarded-Uri", e.signedRPC(e.emp.keyID, e.emp.secret, "POST", url.Values{"Action": {"DescribeInstances"}}))
	post.Header.Set("X-Forwarded-Host", "ecs.internal.example")
	expectStatus(t, e.send(post), 200, "a POST question about DescribeInstances")

	// Replayed: the nonce is spent.
	expectAPIError(t, e.ask("GET", "ecs.internal.example", uri, nil, ""), "SignatureNonceUsed", 401, "a replayed request")
	// Refused by the policies: nothing would reach the backend.
	stop := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-1"}})
	p = e.ask("GET", "ecs.internal.example", stop, nil, "")
	expectAPIError(t, p, "NoPermission", 403, "StopInstance with a read-only policy")
	expectPageHeaders(t, p.header, "a refusal")
	if p.header.Get("X-Request-Id") != p.header.Get("X-Ram-Request-Id") {
		t.Errorf("a refusal's X-Request-Id %q, X-Ram-Request-Id %q: want the same id", p.header.Get("X-Request-Id"), p.header.Get("X-Ram-Request-Id"))
	}
	var body struct {
		AccessDeniedDetail struct{ AuthAction, NoPermissionType string }
	}
	_ = json.Unmarshal([]byte(p.body), &body)
	if body.AccessDeniedDetail.AuthAction != "ecs:StopInstance" || body.AccessDeniedDetail.NoPermissionType != "ImplicitDeny" {
		t.Errorf("AccessDeniedDetail %+v", body.AccessDeniedDetail)
	}
	// A tampered query.
	tampered := strings.Replace(e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}, "InstanceIds": {"i-1"}}),
		"i-1", "i-2", 1)
	expectAPIError(t, e.ask("GET", "ecs.internal.example", tampered, nil, ""), "SignatureDoesNotMatch", 401, "a tampered query")
	// No identity, an unknown host, a missing header.
	expectAPIError(t, e.ask("GET", "ecs.internal.example", "/?Action=DescribeInstances", nil, ""), "MissingAuthorization", 401, "unsigned")
	expectAPIError(t, e.ask("GET", "nowhere.example", uri, nil, ""), "UnknownService", 403, "an unknown host")
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/gateway/auth", nil)
	req.Header.Set("X-Forwarded-Host", "ecs.internal.example")
	expectAPIError(t, e.send(req), "MissingParameter", 403, "no forwarded method or URI")

	// Full access and an explicit Deny on one instance.
	e.owner.get("/users/ops")
	e.owner.post("/users/ops/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunECSFullAccess"}})
	stop = e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-1"}})
	expectStatus(t, e.ask("GET", "ecs.internal.example", stop, nil, ""), 200, "StopInstance with AliyunECSFullAccess")
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ctx := context.Background()
	if _, err := e.svc.CreatePolicy(ctx, a, "KeepProd", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"ecs:*","Resource":"acs:ecs:*:*:instance/i-prod"}]}`, ""); err != nil {
		t.Fatal(err)
	}
	must(t, e.svc.AttachPolicyToUser(ctx, a, "Custom", "KeepProd", "ops"), "attach the deny")
	stop = e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-prod"}})
	expectAPIError(t, e.ask("GET", "ecs.internal.example", stop, nil, ""), "NoPermission", 403, "an explicit Deny on one instance")
}

func (e *gatewayEnv) eventOf(t *testing.T, requestID string) store.StoredEvent {
	t.Helper()
	for _, ev := range e.events() {
		if ev.RequestID == requestID {
			return ev
		}
	}
	t.Fatalf("no event with RequestId %s", requestID)
	return store.StoredEvent{}
}

func TestGatewayRefusesUntrustedPeersAndReadsSessions(t *testing.T) {
	e := newGatewayEnv(t)
	// A console session of the owner is an identity too.
	p := e.ask("GET", "oss.internal.example", "/b1/k1", nil, e.owner.cookie())
	expectStatus(t, p, 200, "the owner's console session")
	if p.header.Get("X-Ram-Action") != "oss:GetObject" || !strings.HasSuffix(p.header.Get("X-Ram-Resource"), ":b1/k1") {
		t.Errorf("mapped to %q %q", p.header.Get("X-Ram-Action"), p.header.Get("X-Ram-Resource"))
	}
	expectAPIError(t, e.ask("DELETE", "oss.internal.example", "/b1/k1", nil, e.owner.cookie()), "NoMatchingRoute", 403, "no rule")

	// A browser nobody could identify is sent to sign in, and back: with
	// a 302 for Caddy and Traefik; nginx's auth_request takes a 302 for an
	// error, so asked by nginx it is a 401 naming where to sign in.
	browserHTML := http.Header{"Accept": {"text/html,application/xhtml+xml"}}
	back := "/login?next=" + url.QueryEscape("http://oss.internal.example/b1/k1?v=1")
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/gateway/auth", nil)
	req.Header = http.Header{"Accept": browserHTML["Accept"], "X-Forwarded-Method": {"GET"}, "X-Forwarded-Uri": {"/b1/k1?v=1"},
		"X-Forwarded-Host": {"oss.internal.example"}}
	if p = e.sendNoFollow(req); p.status != http.StatusFound || p.header.Get("Location") != back || p.header.Get("X-Ram-Login-Url") != "" {
		t.Errorf("an unidentified browser asked about by Caddy: %d → %q, want 302 to sign in and back", p.status, p.header.Get("Location"))
	}
	p = e.ask("GET", "oss.internal.example", "/b1/k1?v=1", browserHTML, "")
	if p.status != http.StatusUnauthorized || p.header.Get("Location") != "" || p.header.Get("X-Ram-Login-Url") != "http://oss.internal.example"+back {
		t.Errorf("an unidentified browser asked about by nginx: %d, X-Ram-Login-Url %q; want 401 naming %q", p.status,
			p.header.Get("X-Ram-Login-Url"), "http://oss.internal.example"+back)
	}
	p = e.ask("GET", "oss.internal.example:8443", "/b1/k1", http.Header{"Accept": {"text/html"}, "X-Forwarded-Proto": {"https"}}, "")
	if want := "https://oss.internal.example:8443/login?next=" + url.QueryEscape("https://oss.internal.example:8443/b1/k1"); p.header.Get("X-Ram-Login-Url") != want {
		t.Errorf("X-Ram-Login-Url %q, want %q (the scheme and host the browser used)", p.header.Get("X-Ram-Login-Url"), want)
	}
	// Every other refusal names no sign-in: a program's, a refused browser's.
	if p = e.ask("GET", "oss.internal.example", "/b1/k1", nil, ""); p.status != 401 || p.header.Get("X-Ram-Login-Url") != "" {
		t.Errorf("a program's 401 names a sign-in: %d %q", p.status, p.header.Get("X-Ram-Login-Url"))
	}
	// The signature's parameter spelt encoded is a signature all the same.
	encoded := strings.Replace(e.signedRPC(e.emp.keyID, "wrong", "GET", url.Values{"Action": {"DescribeInstances"}}), "Signature=", "Signatur%65=", 1)
	if p = e.ask("GET", "ecs.internal.example", encoded, browserHTML, ""); p.status != 401 || p.header.Get("X-Ram-Login-Url") != "" {
		t.Errorf("an encoded Signature parameter is treated as a browser's request: %d %q", p.status, p.header.Get("X-Ram-Login-Url"))
	}
	signedBrowser := e.signedRPC(e.emp.keyID, "wrong", "GET", url.Values{"Action": {"DescribeInstances"}})
	if p = e.ask("GET", "ecs.internal.example", signedBrowser, browserHTML, ""); p.status != 401 || p.header.Get("X-Ram-Login-Url") != "" {
		t.Errorf("a signed request that accepts HTML is treated as a browser: %d %q", p.status, p.header.Get("X-Ram-Login-Url"))
	}
	p = e.ask("GET", "oss.internal.example", "//evil.example/x", http.Header{"Accept": {"text/html"}}, "")
	if p.status != http.StatusForbidden || p.header.Get("Location") != "" || p.header.Get("X-Ram-Error-Code") != "InvalidPath" {
		t.Errorf("a hostile forwarded URI: %d %q → %q, want 403 InvalidPath and no redirect", p.status, p.header.Get("X-Ram-Error-Code"), p.header.Get("Location"))
	}

	// The same question from a peer that is not a trusted proxy.
	h2 := newHarness(t)
	h2.setupOwner()
	req, _ = http.NewRequest(http.MethodGet, h2.srv.URL+"/gateway/auth", nil)
	req.Header.Set("X-Original-Method", "GET")
	req.Header.Set("X-Original-URI", "/b1/k1")
	req.Header.Set("X-Forwarded-Host", "oss.internal.example")
	expectAPIError(t, h2.send(req), "Forbidden.UntrustedProxy", 403, "an untrusted peer")
	found := false
	for _, ev := range h2.events() {
		found = found || ev.ErrorCode == "Forbidden.UntrustedProxy"
	}
	if !found {
		t.Errorf("the untrusted peer's question is not recorded")
	}
}

// The simulator takes a request to a resource service and shows what its
// service maps it to and what the policies decide.
func TestSimulatorServiceRequest(t *testing.T) {
	e := newGatewayEnv(t)
	e.owner.get("/simulator")
	for _, tc := range []struct{ request, action, decision string }{
		{"GET https://ecs.internal.example/?Action=DescribeInstances", "ecs:DescribeInstances", "Allow"},
		{"GET https://ecs.internal.example/?Action=StopInstance&InstanceId=i-1", "ecs:StopInstance", "ImplicitDeny"},
		{"get https://oss.internal.example/b1/k1", "oss:GetObject", "ImplicitDeny"},
	} {
		_, res := simulate(t, e.owner, url.Values{"user": {"ops"}, "request": {tc.request}})
		if res["action"] != tc.action || res["decision"] != tc.decision {
			t.Errorf("%s: %v %v, want %s %s", tc.request, res["action"], res["decision"], tc.action, tc.decision)
		}
	}
	p := e.owner.post("/simulator", url.Values{"user": {"ops"}, "request": {"GET https://ecs.internal.example/?Action=StopInstance&InstanceId=i-9"}})
	expectStatus(t, p, 200, "the simulator page")
	if !strings.Contains(p.body, `data-testid="mapped"`) || !strings.Contains(p.body, "instance/i-9") {
		t.Errorf("the page does not say what the request maps to")
	}
	for _, bad := range []string{"FETCH https://ecs.internal.example/", "GET /relative", "GET https://nowhere.example/", "DELETE https://oss.internal.example/b1/k1"} {
		p := e.owner.post("/simulator", url.Values{"user": {"ops"}, "request": {bad}})
		expectStatus(t, p, 422, bad)
	}
}

// acs:SourceIp of a gateway decision is the client's address from the
// trusted proxy's X-Forwarded-For.
func TestGatewaySourceIPFromTheTrustedProxy(t *testing.T) {
	e := newGatewayEnv(t)
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ctx := context.Background()
	_, err := e.svc.CreatePolicy(ctx, a, "OfficeOnly", `{"Version":"1","Statement":[{"Effect":"Deny","Action":"ecs:*","Resource":"*",
		"Condition":{"NotIpAddress":{"acs:SourceIp":"10.1.2.0/24"}}}]}`, "")
	must(t, err, "create the policy")
	must(t, e.svc.AttachPolicyToUser(ctx, a, "Custom", "OfficeOnly", "ops"), "attach")
	for _, tc := range []struct {
		xff  string
		want int
	}{{"10.1.2.3", 200}, {"203.0.113.9", 403}, {"10.1.2.3, 203.0.113.9", 403}} {
		uri := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}})
		p := e.ask("GET", "ecs.internal.example", uri, http.Header{"X-Forwarded-For": {tc.xff}}, "")
		if p.status != tc.want {
			t.Errorf("X-Forwarded-For %q: %d, want %d", tc.xff, p.status, tc.want)
		}
	}
}

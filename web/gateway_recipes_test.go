package web

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"ramconsole/ram"
)

// actingBackend is a service's backend as real ones are: it acts on what it
// receives — the method, the raw path, the parameters of the query and of a
// form body, the X-Ram-* headers — and logs it.
type actingBackend struct {
	*httptest.Server
	mu   sync.Mutex
	seen []backendRequest
}

type backendRequest struct {
	method, uri, action, instance, user, arn, cookie string
}

func newActingBackend(t *testing.T) *actingBackend {
	b := &actingBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		b.mu.Lock()
		b.seen = append(b.seen, backendRequest{method: r.Method, uri: r.RequestURI, action: r.Form.Get("Action"),
			instance: r.Form.Get("InstanceId"), user: r.Header.Get("X-Ram-User-Name"), arn: r.Header.Get("X-Ram-Principal-Arn"),
			cookie: r.Header.Get("Cookie")})
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"RequestId":"backend"}`)
	}))
	t.Cleanup(b.Close)
	return b
}

// take returns what the backend ran since the last call.
func (b *actingBackend) take() []backendRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.seen
	b.seen = nil
	return s
}

func (b *actingBackend) addr() string { return strings.TrimPrefix(b.URL, "http://") }

// viaProxy sends a request to host through the proxy at addr, its URI as written.
func viaProxy(t *testing.T, addr, method, host, uri string, header http.Header, body string) page {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+host+":"+port+uri, rd)
	if err != nil {
		t.Fatal(err)
	}
	path, query, _ := strings.Cut(uri, "?")
	req.URL.Opaque, req.URL.RawQuery = "//"+host+":"+port+path, query // sent as written
	for k, v := range header {
		req.Header[k] = v
	}
	client := &http.Client{Transport: loopbackTransport(addr), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// The attacks of a review, through nginx configured exactly as
// docs/gateway.md says: each one used to run a request on the backend that
// the gateway had not decided. Now the gateway decides the request the
// backend runs, and the backend learns only what the gateway decided.
func TestGatewayNginxRecipeHoldsAgainstSpoofing(t *testing.T) {
	e := newGatewayEnv(t)
	backend := newActingBackend(t)
	addr := startNginx(t, strings.TrimPrefix(e.srv.URL, "http://"), backend.addr())
	const ecs = "ecs.internal.example"

	// A read-only employee's StopInstance, dressed up with the client's
	// own X-Forwarded-* (naming a harmless request) and X-Ram-* headers.
	stop := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-1"}})
	harmless := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}})
	p := viaProxy(t, addr, "GET", ecs, stop, http.Header{"X-Forwarded-Uri": {harmless}, "X-Forwarded-Method": {"GET"},
		"X-Ram-User-Name": {"admin"}}, "")
	if p.status != 403 || p.header.Get("Content-Type") != "application/json" || !strings.Contains(p.body, `"Code":"NoPermission"`) {
		t.Errorf("a spoofed StopInstance: %d %s, want 403 NoPermission", p.status, p.body)
	}
	if got := backend.take(); len(got) != 0 {
		t.Errorf("the backend ran %+v", got)
	}
	ev := e.events()[0]
	if ev.ServiceName != "ecs" || ev.EventName != "StopInstance" || ev.ErrorCode != "NoPermission" {
		t.Errorf("the audit log recorded %s %s %s, want the refused StopInstance", ev.ServiceName, ev.EventName, ev.ErrorCode)
	}
	// An allowed request: the backend learns who called from the gateway,
	// never from the client.
	p = viaProxy(t, addr, "GET", ecs, harmless, http.Header{"X-Ram-User-Name": {"admin"}, "X-Ram-Principal-Arn": {"acs:ram::1:root"}}, "")
	expectStatus(t, p, 200, "DescribeInstances with a client's X-Ram-* headers")
	if got := backend.take(); len(got) != 1 || got[0].action != "DescribeInstances" || got[0].user != "ops" ||
		got[0].arn != "acs:ram::"+e.accountID()+":user/ops" {
		t.Errorf("the backend ran %+v, want DescribeInstances by ops", got)
	}

	// rpc parameters in a body the gateway never sees.
	describe := e.signedRPC(e.emp.keyID, e.emp.secret, "POST", url.Values{"Action": {"DescribeInstances"}})
	p = viaProxy(t, addr, "POST", ecs, describe, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "Action=StopInstance&InstanceId=i-1")
	if p.status != 403 || !strings.Contains(p.body, "UnsupportedRequestBody") {
		t.Errorf("a StopInstance in the body of a signed DescribeInstances: %d %s", p.status, p.body)
	}
	// The same, chunked.
	p = viaProxy(t, addr, "POST", ecs, e.signedRPC(e.emp.keyID, e.emp.secret, "POST", url.Values{"Action": {"DescribeInstances"}}),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Transfer-Encoding": {"chunked"}}, "Action=StopInstance")
	if p.status != 403 || !strings.Contains(p.body, "UnsupportedRequestBody") {
		t.Errorf("a chunked body: %d %s", p.status, p.body)
	}
	// Two Actions.
	p = viaProxy(t, addr, "GET", ecs, e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}})+"&Action=StopInstance", nil, "")
	if p.status != 403 || !strings.Contains(p.body, "AmbiguousParameter") {
		t.Errorf("two Actions: %d %s", p.status, p.body)
	}
	if got := backend.take(); len(got) != 0 {
		t.Errorf("the backend ran %+v", got)
	}

	// An absolute-form request line naming this server, with a Host header
	// naming another service's host: nginx serves the request line's host,
	// so the recipe refuses a Host that disagrees.
	conn, err := net.Dial("tcp", addr)
	must(t, err, "dial nginx")
	defer conn.Close()
	fmt.Fprintf(conn, "GET http://%s%s HTTP/1.1\r\nHost: oss.internal.example\r\nConnection: close\r\n\r\n", ecs, stop)
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.Contains(status, " 421 ") {
		t.Errorf("an absolute-form request with another Host: %q %v, want 421", status, err)
	}
	// A host nginx has no server for.
	if p := viaProxy(t, addr, "GET", "oss.internal.example", harmless, nil, ""); p.status != 421 {
		t.Errorf("a host no server names: %d, want 421", p.status)
	}
	if got := backend.take(); len(got) != 0 {
		t.Errorf("the backend ran %+v", got)
	}
}

// A rest service behind the nginx recipe: paths a backend could read as
// another path are refused, the console's cookie authorises no cross-site
// change and never reaches the backend, and the gateway's own endpoints
// are not reachable through the console's public server.
func TestGatewayNginxRecipeRestService(t *testing.T) {
	h := newHarnessConfig(t, Config{TrustedProxies: []string{"127.0.0.1"}})
	owner, _ := h.setupOwner()
	owner.get("/services")
	def := strings.ReplaceAll(gwOSS, "oss.internal.example", "ecs.internal.example")
	expectStatus(t, owner.post("/services/import", url.Values{"definition": {def}}), 303, "import a rest service")
	emp := h.createEmployee(owner, "ops")
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ctx := context.Background()
	_, err := h.svc.CreatePolicy(ctx, a, "PublicReads", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"acs:oss:*:*:b1/public/*"}]}`, "")
	must(t, err, "create the policy")
	must(t, h.svc.AttachPolicyToUser(ctx, a, "Custom", "PublicReads", "ops"), "attach")
	eb, _, _ := h.signInEmployee(emp.name, emp.password)
	backend := newActingBackend(t)
	addr := startNginx(t, strings.TrimPrefix(h.srv.URL, "http://"), backend.addr())
	const host = "ecs.internal.example"
	cookie := http.Header{"Cookie": {CookieName + "=" + eb.cookie() + "; theme=dark"}}

	p := viaProxy(t, addr, "GET", host, "/b1/public/report.txt", cookie, "")
	expectStatus(t, p, 200, "a public object")
	got := backend.take()
	if len(got) != 1 || got[0].uri != "/b1/public/report.txt" || got[0].user != "ops" {
		t.Fatalf("the backend ran %+v", got)
	}
	if strings.Contains(got[0].cookie, CookieName) {
		t.Errorf("the backend received the console's session cookie: %q", got[0].cookie)
	}
	p = viaProxy(t, addr, "GET", host, "/b1/public/report.txt", http.Header{"Cookie": {"theme=dark"}, "X-Forwarded-Uri": {"/b1/secret/x"}}, "")
	if p.status != 401 {
		t.Errorf("no session: %d", p.status)
	}
	for _, uri := range []string{"/b1/public/../secret/payroll.xlsx", "/b1/public/%2e%2e/secret/payroll.xlsx", "/b1/public%2F..%2Fsecret/payroll.xlsx",
		"/b1/public/..%5Csecret/payroll.xlsx", "/b1/public/..;/secret/payroll.xlsx", "/b1/public//x", "/b1/public/./x"} {
		p := viaProxy(t, addr, "GET", host, uri, cookie, "")
		if p.status != 403 || !strings.Contains(p.body, "InvalidPath") {
			t.Errorf("%s: %d %s, want 403 InvalidPath", uri, p.status, p.body)
		}
	}
	if got := backend.take(); len(got) != 0 {
		t.Errorf("the backend ran %+v", got)
	}

	// The owner's cookie may PUT, but not from another site's form.
	ownerCookie := http.Header{"Cookie": {CookieName + "=" + owner.cookie()}}
	cross := http.Header{"Cookie": ownerCookie["Cookie"], "Origin": {"http://evil.example"}, "Sec-Fetch-Site": {"cross-site"},
		"Content-Type": {"text/plain"}}
	if p := viaProxy(t, addr, "PUT", host, "/b1/public/x", cross, "overwritten"); p.status != 403 || !strings.Contains(p.body, "CrossSiteRequest") {
		t.Errorf("a cross-site PUT: %d %s", p.status, p.body)
	}
	same := http.Header{"Cookie": ownerCookie["Cookie"], "Sec-Fetch-Site": {"same-origin"}, "Content-Type": {"text/plain"}}
	expectStatus(t, viaProxy(t, addr, "PUT", host, "/b1/public/x", same, "new"), 200, "a same-origin PUT")
	if got := backend.take(); len(got) != 1 || got[0].method != "PUT" {
		t.Errorf("the backend ran %+v, want the one same-origin PUT", got)
	}

	// The console through the same nginx: its pages, not the gateway's
	// endpoints, in any spelling.
	expectStatus(t, viaProxy(t, addr, "GET", "ram.internal.example", "/login", nil, ""), 200, "the console's sign-in through nginx")
	for _, uri := range []string{"/gateway/auth", "/metrics", "/gateway/%61uth", "//gateway/auth", "/gateway/./auth", "/static/../gateway/auth"} {
		forged := http.Header{"X-Original-Uri": {"/b1/secret/payroll.xlsx"}, "X-Original-Method": {"GET"}, "X-Forwarded-Host": {host},
			"Cookie": cookie["Cookie"]}
		if p := viaProxy(t, addr, "GET", "ram.internal.example", uri, forged, ""); p.status != 404 {
			t.Errorf("%s through the console's server: %d, want 404", uri, p.status)
		}
	}
}

// The same attacks through Caddy configured exactly as docs/gateway.md
// says.
func TestGatewayCaddyRecipeHoldsAgainstSpoofing(t *testing.T) {
	h := newHarnessConfig(t, Config{TrustedProxies: []string{"127.0.0.1"}})
	owner, _ := h.setupOwner()
	owner.get("/services")
	expectStatus(t, owner.post("/services/import", url.Values{"definition": {gwOSS}}), 303, "import the service")
	emp := h.createEmployee(owner, "ops")
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	_, err := h.svc.CreatePolicy(context.Background(), a, "PublicReads", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"acs:oss:*:*:b1/public/*"}]}`, "")
	must(t, err, "create the policy")
	must(t, h.svc.AttachPolicyToUser(context.Background(), a, "Custom", "PublicReads", "ops"), "attach")
	eb, _, _ := h.signInEmployee(emp.name, emp.password)
	backend := newActingBackend(t)
	port := startCaddy(t, strings.TrimPrefix(h.srv.URL, "http://"), backend.addr())
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	const host = "oss.internal.example"
	cookie := CookieName + "=" + eb.cookie() + "; theme=dark"

	// A client's own X-Original-* (naming an allowed object) for a secret one.
	p := viaProxy(t, addr, "GET", host, "/b1/secret/payroll.xlsx", http.Header{"Cookie": {cookie},
		"X-Original-Uri": {"/b1/public/x"}, "X-Original-Method": {"GET"}}, "")
	if p.status != 403 || !strings.Contains(p.body, "NoPermission") {
		t.Errorf("a spoofed X-Original-URI through Caddy: %d %s, want 403 NoPermission", p.status, p.body)
	}
	for _, uri := range []string{"/b1/public/%2e%2e/secret/payroll.xlsx", "/b1/public%2F..%2Fsecret/payroll.xlsx", "/b1/public/..;/secret/x"} {
		if p := viaProxy(t, addr, "GET", host, uri, http.Header{"Cookie": {cookie}}, ""); p.status != 403 || !strings.Contains(p.body, "InvalidPath") {
			t.Errorf("%s through Caddy: %d %s, want 403 InvalidPath", uri, p.status, p.body)
		}
	}
	if got := backend.take(); len(got) != 0 {
		t.Errorf("the backend ran %+v", got)
	}
	p = viaProxy(t, addr, "GET", host, "/b1/public/x", http.Header{"Cookie": {cookie}, "X-Ram-User-Name": {"admin"},
		"X-Ram-Principal-Arn": {"acs:ram::1:root"}}, "")
	expectStatus(t, p, 200, "an allowed read with a client's X-Ram-* headers")
	got := backend.take()
	if len(got) != 1 || got[0].user != "ops" || got[0].arn != "acs:ram::"+h.accountID()+":user/ops" {
		t.Fatalf("the backend ran %+v, want the read by ops", got)
	}
	if strings.Contains(got[0].cookie, eb.cookie()) || !strings.Contains(got[0].cookie, "theme=dark") {
		t.Errorf("the backend's cookies: %q, want the backend's own and not the console's session", got[0].cookie)
	}
	// The console through the same Caddy: not the gateway's endpoints.
	expectStatus(t, viaProxy(t, addr, "GET", "ram.internal.example", "/login", nil, ""), 200, "the console's sign-in through Caddy")
	for _, uri := range []string{"/gateway/auth", "/metrics", "/gateway/%61uth", "/Gateway/auth"} {
		forged := http.Header{"X-Forwarded-Uri": {"/b1/secret/payroll.xlsx"}, "X-Forwarded-Method": {"GET"}, "Cookie": {cookie}}
		if p := viaProxy(t, addr, "GET", "ram.internal.example", uri, forged, ""); p.status != 404 {
			t.Errorf("%s through the console's Caddy site: %d, want 404", uri, p.status)
		}
	}
}

// The official ECS SDK through Caddy configured as docs/gateway.md says:
// its POSTs without a body are decided (the recipe passes the length),
// and a read-only employee's StopInstance never reaches the backend.
func TestGatewayCaddyRecipeWithTheECSSDK(t *testing.T) {
	h := newHarnessConfig(t, Config{TrustedProxies: []string{"127.0.0.1"}})
	h.setClock(time.Now().UTC().Truncate(time.Second)) // the SDK signs with the real time
	owner, _ := h.setupOwner()
	owner.get("/services")
	def := strings.ReplaceAll(gwECS, "ecs.internal.example", "oss.internal.example")
	expectStatus(t, owner.post("/services/import", url.Values{"definition": {def}}), 303, "import an rpc service")
	emp := h.createEmployee(owner, "ops")
	owner.get("/users/ops")
	expectRedirect(t, owner.post("/users/ops/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunECSReadOnlyAccess"}}), "/users/ops", "attach")
	backend := newActingBackend(t)
	port := startCaddy(t, strings.TrimPrefix(h.srv.URL, "http://"), backend.addr())

	client, err := ecssdk.NewClientWithAccessKey("cn-hangzhou", emp.keyID, emp.secret)
	must(t, err, "ECS client")
	client.SetTransport(loopbackTransport(fmt.Sprintf("127.0.0.1:%d", port)))
	describe := ecssdk.CreateDescribeInstancesRequest()
	describe.Domain, describe.Scheme = fmt.Sprintf("oss.internal.example:%d", port), "HTTP"
	_, err = client.DescribeInstances(describe)
	if err != nil && !strings.Contains(err.Error(), "backend") { // the backend's answer is no ECS answer
		t.Fatalf("DescribeInstances through Caddy: %v", err)
	}
	stop := ecssdk.CreateStopInstanceRequest()
	stop.Domain, stop.Scheme, stop.InstanceId = describe.Domain, "HTTP", "i-1"
	_, err = client.StopInstance(stop)
	var se *sdkerrors.ServerError
	if !errors.As(err, &se) || se.HttpStatus() != 403 || se.ErrorCode() != "NoPermission" {
		t.Errorf("StopInstance through Caddy with a read-only policy: %v, want 403 NoPermission", err)
	}
	if got := backend.take(); len(got) != 1 || got[0].action != "DescribeInstances" || got[0].user != "ops" {
		t.Errorf("the backend ran %+v, want the one DescribeInstances by ops", got)
	}
}

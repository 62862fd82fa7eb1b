package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"
	ecssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ecs"

	"ramconsole/ram"
)

// nginxBinary finds nginx; without it the test fails and says what to
// install (.ci/run installs it).
func nginxBinary(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("nginx is not installed: apt-get install nginx (.ci/run does it on a fresh machine)")
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// docBlocks returns the fenced blocks of lang in docs/gateway.md, in
// order: the tests run the proxies exactly as the docs configure them.
func docBlocks(t testing.TB, lang string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "gateway.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	var cur *strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case cur == nil && line == "```"+lang:
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if len(blocks) == 0 {
		t.Fatalf("docs/gateway.md has no %s block", lang)
	}
	return blocks
}

// nginxRecipe is the docs' nginx configuration for a service on
// ecs.internal.example and the console on ram.internal.example, with
// loopback addresses and plain HTTP.
func nginxRecipe(t testing.TB, ramconsole, backend string, port int) string {
	blocks := docBlocks(t, "nginx")
	if len(blocks) < 2 {
		t.Fatalf("docs/gateway.md: want the service's and the console's nginx blocks, found %d", len(blocks))
	}
	conf := blocks[0] + blocks[1]
	conf = strings.NewReplacer("ramconsole.internal:8080", ramconsole, "ecs-backend.internal:8000", backend,
		"listen 443 ssl", fmt.Sprintf("listen 127.0.0.1:%d", port), "ssl_reject_handshake on;", "return 421;").Replace(conf)
	var out []string
	for _, line := range strings.Split(conf, "\n") {
		if !strings.Contains(line, "ssl_certificate") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// startNginx runs nginx as a child process on a free loopback port, in
// front of backend, configured as docs/gateway.md says (only nginx and the
// backend when ramconsole is ""), and stops it when the test ends. It
// returns host:port; requests name their host in the Host header
// (ecs.internal.example, or ram.internal.example for the console).
func startNginx(t testing.TB, ramconsole, backend string) string {
	t.Helper()
	return runNginx(t, func(port int) string {
		if ramconsole == "" {
			return fmt.Sprintf(`upstream backend { server %s; keepalive 32; }
proxy_http_version 1.1;
server {
	listen 127.0.0.1:%d;
	location / { proxy_set_header Connection ""; proxy_pass http://backend; }
}
`, backend, port)
		}
		return nginxRecipe(t, ramconsole, backend, port)
	})
}

// runNginx runs nginx as a child process with the http block recipe gives
// for a free loopback port, stops it when the test ends and returns
// host:port.
func runNginx(t testing.TB, recipeFor func(port int) string) string {
	t.Helper()
	bin := nginxBinary(t)
	dir := t.TempDir()
	for _, d := range []string{"body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		if err := os.MkdirAll(filepath.Join(dir, "tmp", d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	port := freePort(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	recipe := recipeFor(port)
	conf := fmt.Sprintf(`%[1]s
daemon off;
master_process off;
worker_processes 1;
error_log %[2]s/error.log warn;
pid %[2]s/nginx.pid;
events { worker_connections 512; }
http {
	access_log off;
	client_body_temp_path %[2]s/tmp/body;
	proxy_temp_path %[2]s/tmp/proxy;
	fastcgi_temp_path %[2]s/tmp/fastcgi;
	uwsgi_temp_path %[2]s/tmp/uwsgi;
	scgi_temp_path %[2]s/tmp/scgi;
%[3]s
}
`, user, dir, recipe)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	t.Fatalf("nginx did not start: %s\n%s", log, conf)
	return ""
}

// loopbackTransport reaches every host name on addr (as a resolver rule
// would), so clients name the service's host as a real one would. It is
// no *http.Transport, whose dialer the Alibaba SDK would replace.
func loopbackTransport(addr string) http.RoundTripper {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return loopbackRT{&http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}}}
}

type loopbackRT struct{ t *http.Transport }

func (l loopbackRT) RoundTrip(r *http.Request) (*http.Response, error) { return l.t.RoundTrip(r) }

// The official ECS SDK against nginx, which asks ramconsole about every
// request: a read-only employee may describe, not stop; an administrator
// may stop; refused requests never reach the backend; the backend learns
// who called.
func TestGatewayBehindNginxWithTheECSSDK(t *testing.T) {
	e := newGatewayEnv(t)
	var mu sync.Mutex
	var seen []string // Action, X-Ram-User-Name
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		seen = append(seen, r.Form.Get("Action")+" by "+r.Header.Get("X-Ram-User-Name"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"RequestId":"backend","TotalCount":0,"PageNumber":1,"PageSize":10,"Instances":{"Instance":[]}}`)
	}))
	defer backend.Close()
	ramAddr := strings.TrimPrefix(e.srv.URL, "http://")
	nginx := startNginx(t, ramAddr, strings.TrimPrefix(backend.URL, "http://"))
	_, port, _ := net.SplitHostPort(nginx)
	proxy := "ecs.internal.example:" + port
	transport := loopbackTransport(nginx)

	client, err := ecssdk.NewClientWithAccessKey("cn-hangzhou", e.emp.keyID, e.emp.secret)
	must(t, err, "ECS client")
	client.SetTransport(transport)
	describe := ecssdk.CreateDescribeInstancesRequest()
	describe.Domain, describe.Scheme = proxy, "HTTP"
	_, err = client.DescribeInstances(describe)
	must(t, err, "DescribeInstances through nginx with AliyunECSReadOnlyAccess")
	stop := ecssdk.CreateStopInstanceRequest()
	stop.Domain, stop.Scheme = proxy, "HTTP"
	stop.InstanceId = "i-1"
	_, err = client.StopInstance(stop)
	var se *sdkerrors.ServerError
	if err == nil || !errors.As(err, &se) || se.HttpStatus() != 403 || se.ErrorCode() != "NoPermission" {
		t.Fatalf("StopInstance through nginx with a read-only policy: %v, want 403 NoPermission", err)
	}
	mu.Lock()
	got := strings.Join(seen, "; ")
	mu.Unlock()
	if got != "DescribeInstances by ops" {
		t.Errorf("the backend saw %q, want only the allowed DescribeInstances, by ops", got)
	}

	// A replayed and a tampered request are refused at nginx.
	signed := e.signedV1(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}})
	get := func(q string) int {
		resp, err := (&http.Client{Transport: transport}).Get("http://" + proxy + "/?" + q)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(signed.Encode()); s != 200 {
		t.Fatalf("a signed request: %d", s)
	}
	if s := get(signed.Encode()); s != 401 {
		t.Errorf("the same request again: %d, want 401", s)
	}
	tampered := e.signedV1(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}, "RegionId": {"cn-hangzhou"}})
	tampered.Set("RegionId", "cn-beijing")
	if s := get(tampered.Encode()); s != 401 {
		t.Errorf("a tampered request: %d, want 401", s)
	}

	// With AliyunECSFullAccess the same SDK call passes.
	e.owner.get("/users/ops")
	e.owner.post("/users/ops/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunECSFullAccess"}})
	stop = ecssdk.CreateStopInstanceRequest()
	stop.Domain, stop.Scheme = proxy, "HTTP"
	stop.InstanceId = "i-1"
	_, err = client.StopInstance(stop)
	must(t, err, "StopInstance through nginx with AliyunECSFullAccess")
	// STS credentials through nginx: a role with AliyunECSReadOnlyAccess.
	owner := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ctx := context.Background()
	_, err = e.svc.CreateRole(ctx, owner, ram.RoleInput{RoleName: "ecs-reader", AssumeRolePolicy: trustAccount(e.accountID())})
	must(t, err, "create the role")
	must(t, e.svc.AttachPolicyToRole(ctx, owner, "System", "AliyunECSReadOnlyAccess", "ecs-reader"), "attach to the role")
	must(t, e.svc.AttachPolicyToUser(ctx, owner, "System", "AliyunSTSAssumeRoleAccess", "ops"), "let ops assume roles")
	creds, err := e.svc.AssumeRole(ctx, ram.Actor{Principal: ram.UserPrincipal(e.userID(t, "ops")), Name: "ops", API: true,
		AccessKeyID: e.emp.keyID, RequestID: ram.NewRequestID()}, ram.AssumeRoleInput{RoleArn: "acs:ram::" + e.accountID() + ":role/ecs-reader",
		RoleSessionName: "nightly"})
	must(t, err, "AssumeRole")
	sts, err := ecssdk.NewClientWithStsToken("cn-hangzhou", creds.AccessKeyID, creds.AccessKeySecret, creds.SecurityToken)
	must(t, err, "ECS client with STS credentials")
	sts.SetTransport(transport)
	describe = ecssdk.CreateDescribeInstancesRequest()
	describe.Domain, describe.Scheme = proxy, "HTTP"
	_, err = sts.DescribeInstances(describe)
	must(t, err, "DescribeInstances through nginx with the role session")
	stop = ecssdk.CreateStopInstanceRequest()
	stop.Domain, stop.Scheme = proxy, "HTTP"
	stop.InstanceId = "i-1"
	_, err = sts.StopInstance(stop)
	if err == nil || !errors.As(err, &se) || se.HttpStatus() != 403 || se.ErrorCode() != "NoPermission" {
		t.Errorf("StopInstance with the read-only role session: %v, want 403 NoPermission", err)
	}
	mu.Lock()
	got = strings.Join(seen, "; ")
	mu.Unlock()
	if !strings.HasSuffix(got, "DescribeInstances by ops") {
		t.Errorf("the backend saw %q; want the role session's DescribeInstances last, with its source user", got)
	}

	// Every decision is in the audit log, with the service.
	n := 0
	for _, ev := range e.events() {
		if ev.ServiceName == "ecs" {
			n++
		}
	}
	if n < 6 {
		t.Errorf("%d gateway decisions recorded, want at least 6", n)
	}
}

// userID is a user's UserId.
func (h *harness) userID(t *testing.T, name string) string {
	t.Helper()
	u, err := h.st.UserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.UserID
}

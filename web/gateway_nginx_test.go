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

// startNginx runs nginx as a child process on a free loopback port, in
// front of backend, asking ramconsole about every request with
// auth_request (nothing when ramconsole is ""), and stops it when the test
// ends. It returns host:port.
func startNginx(t testing.TB, ramconsole, backend, serviceHost string) string {
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
	locations := fmt.Sprintf(`		location / {
			auth_request /_ramconsole;
			auth_request_set $ram_user $upstream_http_x_ram_user_name;
			auth_request_set $ram_action $upstream_http_x_ram_action;
			auth_request_set $ram_error $upstream_http_x_ram_error_code;
			auth_request_set $ram_request $upstream_http_x_ram_request_id;
			error_page 401 = @ram401;
			error_page 403 = @ram403;
			proxy_set_header X-Ram-User-Name $ram_user;
			proxy_set_header X-Ram-Action $ram_action;
			proxy_set_header Connection "";
			proxy_pass http://backend;
		}
		location @ram401 {
			default_type application/json;
			return 401 '{"RequestId":"$ram_request","HostId":"$host","Code":"$ram_error","Message":"Refused by ramconsole.","Recommend":""}';
		}
		location @ram403 {
			default_type application/json;
			return 403 '{"RequestId":"$ram_request","HostId":"$host","Code":"$ram_error","Message":"Refused by ramconsole.","Recommend":""}';
		}
		location = /_ramconsole {
			internal;
			proxy_pass http://ramconsole/gateway/auth;
			proxy_pass_request_body off;
			proxy_set_header Content-Length "";
			proxy_set_header X-Original-Method $request_method;
			proxy_set_header X-Original-URI $request_uri;
			proxy_set_header X-Forwarded-Host %[1]s;
			proxy_set_header X-Forwarded-For $remote_addr;
			proxy_set_header Connection "";
		}
`, serviceHost)
	upstreams := fmt.Sprintf("\tupstream backend { server %s; keepalive 32; }\n\tupstream ramconsole { server %s; keepalive 32; }\n", backend, ramconsole)
	if ramconsole == "" {
		locations = "\t\tlocation / { proxy_pass http://backend; }\n"
		upstreams = fmt.Sprintf("\tupstream backend { server %s; keepalive 32; }\n", backend)
	}
	conf := fmt.Sprintf(`%[1]s
daemon off;
master_process off;
worker_processes 1;
error_log %[2]s/error.log warn;
pid %[2]s/nginx.pid;
events { worker_connections 512; }
http {
	access_log off;
	# Keep connections to ramconsole and the backend open between requests
	# (each location that sets headers sets Connection "" too: nginx does
	# not inherit proxy_set_header into a location that has its own).
	proxy_http_version 1.1;
	proxy_set_header Connection "";
%[5]s
	client_body_temp_path %[2]s/tmp/body;
	proxy_temp_path %[2]s/tmp/proxy;
	fastcgi_temp_path %[2]s/tmp/fastcgi;
	uwsgi_temp_path %[2]s/tmp/uwsgi;
	scgi_temp_path %[2]s/tmp/scgi;
	server {
		listen 127.0.0.1:%[3]d;
%[4]s	}
}
`, user, dir, port, locations, upstreams)
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
	t.Fatalf("nginx did not start: %s", log)
	return ""
}

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
	proxy := startNginx(t, ramAddr, strings.TrimPrefix(backend.URL, "http://"), "ecs.internal.example")

	client, err := ecssdk.NewClientWithAccessKey("cn-hangzhou", e.emp.keyID, e.emp.secret)
	must(t, err, "ECS client")
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
		resp, err := http.Get("http://" + proxy + "/?" + q)
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

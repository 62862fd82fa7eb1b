package web

import (
	"context"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ramconsole/ram"
)

// caddyBinary finds caddy; without it the test fails and says what to
// install (.ci/run installs it).
func caddyBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("caddy")
	if err != nil {
		t.Fatal("caddy is not installed: apt-get install caddy (.ci/run does it on a fresh machine)")
	}
	return path
}

// startCaddy runs Caddy as a child process on a free loopback port,
// configured as docs/gateway.md says: the service on oss.internal.example
// (the console's sign-in pages from ramconsole, everything else from
// backend after forward_auth asks ramconsole) and the console on
// ram.internal.example. It returns the port.
func startCaddy(t *testing.T, ramconsole, backend string) int {
	t.Helper()
	bin := caddyBinary(t)
	dir := t.TempDir()
	port := freePort(t)
	blocks := docBlocks(t, "caddyfile")
	if len(blocks) < 2 {
		t.Fatalf("docs/gateway.md: want the service's and the console's Caddy blocks, found %d", len(blocks))
	}
	site := func(host string) string { return fmt.Sprintf("http://%s:%d {\n\tbind 127.0.0.1", host, port) }
	recipe := strings.NewReplacer("oss.internal.example {", site("oss.internal.example"), "ram.internal.example {", site("ram.internal.example"),
		"ramconsole.internal:8080", ramconsole, "oss-backend.internal:9000", backend).Replace(blocks[0] + blocks[1])
	conf := fmt.Sprintf(`{
	admin off
	auto_https off
	storage file_system %[1]s/storage
}

%[2]s
`, dir, recipe)
	confPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", confPath, "--adapter", "caddyfile")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	logPath := filepath.Join(dir, "caddy.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start caddy: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logFile.Close()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; i < 200; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return port
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(logPath)
	t.Fatalf("caddy did not start: %s", log)
	return 0
}

// An employee's browser at a REST service behind Caddy's forward_auth and
// behind nginx's auth_request, each configured as docs/gateway.md says:
// sent to sign in on the service's host and back to the page it asked for
// (nginx: through a 401 naming the sign-in, since auth_request cannot pass
// a redirect on), shown a page the policies allow (the backend learns
// who), refused one they do not (Caddy: the denied page; nginx: its 403);
// nothing refused reaches the backend.
func TestGatewayBehindProxiesWithABrowser(t *testing.T) {
	for _, proxy := range []string{"caddy", "nginx"} {
		t.Run(proxy, func(t *testing.T) { gatewayBrowserJourney(t, proxy) })
	}
}

func gatewayBrowserJourney(t *testing.T, proxy string) {
	host := map[string]string{"caddy": "oss.internal.example", "nginx": "ecs.internal.example"}[proxy]
	h := newHarnessConfig(t, Config{TrustedProxies: []string{"127.0.0.1"}})
	owner, _ := h.setupOwner()
	owner.get("/services")
	def := strings.ReplaceAll(gwOSS, "oss.internal.example", host)
	expectStatus(t, owner.post("/services/import", url.Values{"definition": {def}}), 303, "import the service")
	emp := h.createEmployee(owner, "ops")
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ctx := context.Background()
	if _, err := h.svc.CreatePolicy(ctx, a, "ReadBucketB1", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"acs:oss:*:*:b1/*"}]}`, ""); err != nil {
		t.Fatal(err)
	}
	must(t, h.svc.AttachPolicyToUser(ctx, a, "Custom", "ReadBucketB1", "ops"), "attach")
	_, mfaSecret, password := h.signInEmployee(emp.name, emp.password)

	reached := make(chan string, 16)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached <- r.URL.Path
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>object</title><p id="object">%s for %s</p>`, html.EscapeString(r.URL.Path), html.EscapeString(r.Header.Get("X-Ram-User-Name")))
	}))
	t.Cleanup(backend.Close)
	ramAddr, backendAddr := strings.TrimPrefix(h.srv.URL, "http://"), strings.TrimPrefix(backend.URL, "http://")
	var port int
	if proxy == "caddy" {
		port = startCaddy(t, ramAddr, backendAddr)
	} else {
		_, p, _ := net.SplitHostPort(startNginx(t, ramAddr, backendAddr))
		port, _ = strconv.Atoi(p)
	}
	site := fmt.Sprintf("http://%s:%d", host, port)

	cx := newChrome(t, chromedp.Flag("host-resolver-rules", "MAP "+host+" 127.0.0.1"))
	err := do(cx,
		chromedp.Navigate(site+"/b1/report.txt"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, emp.name+"@"+testAlias),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`input[name=code]`),
		chromedp.SendKeys(`input[name=code]`, h.code(mfaSecret, 0)),
		chromedp.Click(`form[action="/login/mfa"] button[type=submit]`),
		chromedp.WaitVisible(`#object`),
	)
	if err != nil {
		dumpPage(t, cx)
		t.Fatalf("sign in through the service and come back: %v", err)
	}
	landed, _ := chromedp.Run(cx, chromedp.Location())
	text, err := chromedp.Run(cx, chromedp.Text(`#object`))
	if err != nil || text != "/b1/report.txt for ops" || landed != site+"/b1/report.txt" {
		t.Errorf("the allowed page shows %q at %s (%v), want the object for ops at %s", text, landed, err, site+"/b1/report.txt")
	}
	if got := <-reached; got != "/b1/report.txt" {
		t.Errorf("the backend was asked for %q", got)
	}

	// Refused on the same host, and the backend never asked.
	err = do(cx,
		chromedp.Navigate(site+"/b2/payroll.xlsx"),
		chromedp.WaitVisible(`body`),
	)
	if err != nil {
		dumpPage(t, cx)
		t.Fatalf("open a refused page: %v", err)
	}
	body, err := chromedp.Run(cx, chromedp.Text(`body`))
	want := []string{"oss:GetObject", "b2/payroll.xlsx"} // the denied page
	if proxy == "nginx" {
		want = []string{"NoPermission"} // nginx's 403: auth_request discards the body
	}
	for _, w := range want {
		if err != nil || !strings.Contains(body, w) {
			t.Errorf("the refused page says %q (%v), want %q", body, err, w)
		}
	}
	select {
	case p := <-reached:
		t.Errorf("a refused request reached the backend: %s", p)
	default:
	}
}

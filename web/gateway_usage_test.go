package web

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"ramconsole/ram"
)

// A service's page shows the gateway's decisions per day, action and
// operator, allowed and denied, and exports them as CSV; a viewer who may
// not read the audit log is told which permission is missing.
func TestServiceUsage(t *testing.T) {
	e := newGatewayEnv(t)
	acct := e.accountID()
	for range 2 {
		uri := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"DescribeInstances"}})
		expectStatus(t, e.ask("GET", "ecs.internal.example", uri, nil, ""), 200, "DescribeInstances")
	}
	stop := e.signedRPC(e.emp.keyID, e.emp.secret, "GET", url.Values{"Action": {"StopInstance"}, "InstanceId": {"i-1"}})
	expectAPIError(t, e.ask("GET", "ecs.internal.example", stop, nil, ""), "NoPermission", 403, "StopInstance")
	expectStatus(t, e.ask("GET", "oss.internal.example", "/b1/k1", nil, e.owner.cookie()), 200, "the owner reads an object")

	p := e.owner.get("/services/ecs")
	expectStatus(t, p, 200, "the service page")
	if !strings.Contains(p.body, `data-testid="service-usage-table"`) || !strings.Contains(p.body, "2 allowed, 1 denied.") {
		t.Fatalf("the usage section does not sum the decisions:\n%s", p.body)
	}
	p = e.owner.get("/services/ecs/usage.csv?days=30")
	expectStatus(t, p, 200, "the usage CSV")
	recs, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, r := range recs[1:] {
		got[r[2]] = r
	}
	day := e.clock.Now().UTC().Format("2006-01-02")
	if r := got["DescribeInstances"]; len(r) != 8 || r[0] != day || r[1] != "ecs" || r[3] != "ram-user" || r[4] != "ops" || r[5] != "2" || r[6] != "0" || r[7] != acct {
		t.Errorf("DescribeInstances row %v", r)
	}
	if r := got["StopInstance"]; len(r) != 8 || r[5] != "0" || r[6] != "1" {
		t.Errorf("StopInstance row %v", r)
	}
	if len(recs) != 3 {
		t.Errorf("the ECS usage has %d rows, want 2 (the OSS read is another service's): %v", len(recs)-1, recs)
	}
	found := false
	for _, ev := range e.events() {
		found = found || ev.EventName == ram.EventExportServiceUsage && ev.UserIdentity.Type == "root-account"
	}
	if !found {
		t.Errorf("the usage export is not recorded")
	}
	expectStatus(t, e.owner.get("/services/ecs?days=3"), 400, "a period not offered")
	expectStatus(t, e.owner.get("/services/ecs/usage.csv?days=x"), 400, "a period not offered (CSV)")

	// A viewer who may see the service but not read the audit log.
	ctx := context.Background()
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	if _, err := e.svc.CreatePolicy(ctx, a, "SeeServices", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"gateway:*Service*","Resource":"*"}]}`, ""); err != nil {
		t.Fatal(err)
	}
	must(t, e.svc.AttachPolicyToUser(ctx, a, "Custom", "SeeServices", "ops"), "attach")
	b, _, _ := e.signInEmployee(e.emp.name, e.emp.password)
	p = b.get("/services/ecs")
	expectStatus(t, p, 200, "the service page for a viewer without LookupEvents")
	if !strings.Contains(p.body, `data-testid="section-denied"`) || !strings.Contains(p.body, ram.ActionLookupEvents) || strings.Contains(p.body, "service-usage-table") {
		t.Errorf("the usage section does not say which permission is missing")
	}
	expectStatus(t, b.get("/services/ecs/usage.csv"), 403, "the CSV for a viewer without LookupEvents")
}

// A browser at the gateway: sent to sign in (at --console-url when set)
// and back to the service page, which only registered service hosts may
// be; refused with the console's denied page, not a JSON body.
func TestGatewayBrowserJourney(t *testing.T) {
	e := newGatewayEnv(t)
	html := http.Header{"Accept": {"text/html"}}

	// The console elsewhere: the redirect names it, and the session cookie
	// goes to the whole domain.
	app2, err := New(Config{TrustedProxies: []string{"127.0.0.1"}, ConsoleURL: "https://ram.internal.example/", CookieDomain: ".Internal.Example"},
		Deps{Store: e.st, RAM: e.svc})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/gateway/auth", nil)
	req.RemoteAddr = "127.0.0.1:4321"
	req.Header = http.Header{"Accept": {"text/html"}, "X-Forwarded-Method": {"GET"}, "X-Forwarded-Proto": {"https"},
		"X-Forwarded-Host": {"oss.internal.example"}, "X-Forwarded-Uri": {"/b1/k1"}}
	rec := httptest.NewRecorder()
	app2.ServeHTTP(rec, req)
	if want := "https://ram.internal.example/login?next=" + url.QueryEscape("https://oss.internal.example/b1/k1"); rec.Code != 302 || rec.Header().Get("Location") != want {
		t.Errorf("redirect with --console-url: %d %q, want %q", rec.Code, rec.Header().Get("Location"), want)
	}
	expectPageHeaders(t, rec.Header(), "the redirect to sign in")
	rec = httptest.NewRecorder()
	app2.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/login", nil))
	if sc := rec.Header().Get("Set-Cookie"); !strings.Contains(sc, "Domain=internal.example") {
		t.Errorf("the session cookie is not for the domain: %q", sc)
	}
	for _, bad := range []Config{{CookieDomain: "https://x.example"}, {CookieDomain: "localhost:80"}, {ConsoleURL: "ram.example"}, {ConsoleURL: "https://ram.example/console?x=1"}} {
		if _, err := New(bad, Deps{Store: e.st, RAM: e.svc}); err == nil {
			t.Errorf("%+v is accepted", bad)
		}
	}

	// Sign in and come back: only to the host the sign-in arrived at, or
	// one within --cookie-domain. A registered service host is no redirect
	// target by itself (SPEC §13).
	emp := e.emp
	b := e.browser()
	back := "http://oss.internal.example/b1/k1"
	p := b.get("/login?next=" + url.QueryEscape(back))
	if strings.Contains(p.body, `value="`+back) {
		t.Errorf("signing in on the console's host keeps %q, a service host outside --cookie-domain", back)
	}
	keeps := func(app http.Handler, host string) bool {
		req := httptest.NewRequest(http.MethodGet, "/login?next="+url.QueryEscape(back), nil)
		req.Host = host
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, req)
		return strings.Contains(rec.Body.String(), `value="`+back+`"`)
	}
	if !keeps(e.app, "oss.internal.example:8443") {
		t.Errorf("signing in on the service's own host does not keep the page to come back to")
	}
	if !keeps(app2, "ram.internal.example") {
		t.Errorf("signing in within --cookie-domain does not keep a page of the domain")
	}
	if keeps(e.app, "ecs.internal.example") {
		t.Errorf("signing in on one service's host keeps a page of another host")
	}
	for _, bad := range []string{"http://evil.example/", "https://oss.internal.example.evil.example/", "javascript:alert(1)", "http://user@oss.internal.example/"} {
		if p := b.get("/login?next=" + url.QueryEscape(bad)); strings.Contains(p.body, `value="`+bad) {
			t.Errorf("the sign-in form keeps %q", bad)
		}
	}
	// An employee the policies refuse sees the denied page.
	eb, _, _ := e.signInEmployee(emp.name, emp.password)
	p = e.ask("GET", "oss.internal.example", "/b1/k1", html, eb.cookie())
	if p.status != 403 || !strings.Contains(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "oss:GetObject") ||
		p.header.Get("X-Ram-Error-Code") != "NoPermission" {
		t.Errorf("a refused browser: %d %q, want the denied page naming oss:GetObject", p.status, p.header.Get("Content-Type"))
	}
	expectPageHeaders(t, p.header, "the denied page")
	expectAPIError(t, e.ask("GET", "oss.internal.example", "/b1/k1", nil, eb.cookie()), "NoPermission", 403, "a refused program gets JSON")
}

package web

import (
	"regexp"
	"strings"
	"testing"
)

// navHref finds the navigation's links on a page.
var navHref = regexp.MustCompile(`<nav[\s\S]*?</nav>`)
var hrefRE = regexp.MustCompile(`href="(/[^"]*)"`)

// While switched to a role, /me answers as the role session (the role, the
// session and the user it came from) instead of the user's own password,
// MFA and AccessKey forms, and no page of the navigation answers 500.
func TestMeWhileSwitchedToARole(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	createAuditorRole(t, owner)
	mayAssume := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"acs:ram:*:` + acct + `:role/*"}]}`
	emp := h.ramUser(owner, "emp", nil, map[string]string{"EmpMayAssume": mayAssume})

	expectStatus(t, emp.get("/roles/auditor/switch"), 200, "the switch confirmation")
	expectRedirect(t, emp.post("/roles/auditor/switch", nil), "/roles/auditor", "switch to auditor")

	p := emp.get("/me")
	expectStatus(t, p, 200, "/me while switched to a role")
	for _, want := range []string{`data-testid="me-role-session"`, "acs:ram::" + acct + ":assumed-role/auditor/emp",
		"acs:ram::" + acct + ":role/auditor", `data-testid="me-source-user"`, "Back to emp"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/me while switched does not show %q", want)
		}
	}
	for _, notWant := range []string{`action="/me/accesskeys"`, `href="/password/change"`, `href="/mfa/bind"`, `data-testid="me-name"`} {
		if strings.Contains(p.body, notWant) {
			t.Errorf("/me while switched shows the user's own %q", notWant)
		}
	}

	// Every page of the navigation answers as the role session, never 500.
	nav := navHref.FindString(p.body)
	if nav == "" {
		t.Fatalf("/me while switched has no navigation")
	}
	seen := map[string]bool{}
	for _, m := range hrefRE.FindAllStringSubmatch(nav, -1) {
		href := strings.ReplaceAll(m[1], "&amp;", "&")
		if seen[href] {
			continue
		}
		seen[href] = true
		q := emp.get(href)
		if q.status >= 500 {
			t.Errorf("GET %s while switched = %d, want no 5xx", href, q.status)
		}
		if q.status == 200 && !strings.Contains(q.body, `data-testid="switched-banner"`) {
			t.Errorf("GET %s while switched has no banner naming the role", href)
		}
	}
	t.Logf("navigation while switched: %v", seen)
	if len(seen) < 3 {
		t.Errorf("the navigation while switched has %d links: %v", len(seen), seen)
	}

	// The self-service pages are the user's, not the role's: refused, never 500.
	for _, path := range []string{"/password/change", "/mfa/bind"} {
		if q := emp.get(path); q.status >= 500 {
			t.Errorf("GET %s while switched = %d, want no 5xx", path, q.status)
		}
	}
	emp.get("/me")
	if q := emp.post("/me/accesskeys", nil); q.status >= 500 || q.status < 400 {
		t.Errorf("POST /me/accesskeys while switched = %d, want a 4xx refusal", q.status)
	}

	// Back to the user: /me is the user's own page again.
	emp.get("/users")
	expectRedirect(t, emp.post("/roles/switch-back", nil), "/me", "switch back")
	p = emp.get("/me")
	expectStatus(t, p, 200, "/me after switching back")
	if !strings.Contains(p.body, `data-testid="me-name"`) || strings.Contains(p.body, `data-testid="me-role-session"`) {
		t.Errorf("/me after switching back is not the user's own page")
	}
}

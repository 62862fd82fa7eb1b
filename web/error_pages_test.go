package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestUnknownAddressAndWrongMethodInsideTheLayout: 404 and 405 are pages of
// the console as the viewer sees it — signed in, with the navigation and
// Sign out — leading back to the viewer's start page (and to the page the
// viewer came from); without a session, to the sign-in form. The OpenAPI
// and the gateway keep their own answers.
func TestUnknownAddressAndWrongMethodInsideTheLayout(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	anonymous := h.browser()
	anonymous.get("/login")

	send := func(b *browser, method, path, referer string) page {
		t.Helper()
		req, _ := http.NewRequest(method, h.srv.URL+path, strings.NewReader(url.Values{"csrf_token": {b.csrf}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "text/html")
		if referer != "" {
			req.Header.Set("Referer", h.srv.URL+referer)
		}
		return b.do(req)
	}
	signOut := `<form class="signout" method="post" action="/logout">`
	cases := []struct {
		name         string
		b            *browser
		method, path string
		status       int
		title        string
		signedIn     bool
		nav          string // a navigation link the viewer has
		home         string
	}{
		{"an unknown address, signed out", anonymous, http.MethodGet, "/no/such/page", 404, "Not found", false, "", `href="/login"`},
		{"a wrong method, signed out", anonymous, http.MethodGet, "/users/bulk/groups", 405, "Method not allowed", false, "", `href="/login"`},
		{"an unknown address, the owner", owner, http.MethodGet, "/no/such/page", 404, "Not found", true, `href="/users"`, `href="/"`},
		{"a wrong method, the owner", owner, http.MethodGet, "/users/bulk/groups", 405, "Method not allowed", true, `href="/users"`, `href="/"`},
		{"a post to a page that only shows, the owner", owner, http.MethodPost, "/settings", 405, "Method not allowed", true, `href="/settings"`, `href="/"`},
		{"an unknown address, a RAM user", reader, http.MethodGet, "/users/reader/nothing", 404, "Not found", true, `href="/me"`, `href="/me"`},
		{"a wrong method, a RAM user", reader, http.MethodPut, "/users", 405, "Method not allowed", true, `href="/users"`, `href="/me"`},
		{"setup after setup, the owner", owner, http.MethodGet, "/setup", 404, "Not found", true, `href="/users"`, `href="/"`},
	}
	for _, c := range cases {
		p := send(c.b, c.method, c.path, "/groups")
		if p.status != c.status {
			t.Errorf("%s: %s %s = %d, want %d", c.name, c.method, c.path, p.status, c.status)
			continue
		}
		if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "<h1>"+c.title+"</h1>") {
			t.Errorf("%s: not the console's %q page: %.300s", c.name, c.title, p.body)
		}
		if got := strings.Contains(p.body, signOut); got != c.signedIn {
			t.Errorf("%s: Sign out shown = %v, want %v", c.name, got, c.signedIn)
		}
		if got := strings.Contains(p.body, `<nav class="side"`); got != c.signedIn {
			t.Errorf("%s: navigation shown = %v, want %v", c.name, got, c.signedIn)
		}
		if c.nav != "" && !strings.Contains(p.body, c.nav) {
			t.Errorf("%s: the navigation lacks %s", c.name, c.nav)
		}
		if !strings.Contains(p.body, `data-testid="error-home"`) || !strings.Contains(p.body, c.home+` data-testid="error-home"`) {
			t.Errorf("%s: no way back to %s", c.name, c.home)
		}
		if !strings.Contains(p.body, `<a href="/groups" data-testid="error-previous">`) {
			t.Errorf("%s: no way back to the page it came from", c.name)
		}
	}

	// The OpenAPI answers its callers in its own format, session or not.
	for _, b := range []*browser{anonymous, owner} {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			p := send(b, method, "/?Action=GetUser&UserName=reader", "")
			if p.status != http.StatusBadRequest || !strings.HasPrefix(p.header.Get("Content-Type"), "application/json") || !strings.Contains(p.body, `"Code":"MissingParameter"`) {
				t.Errorf("%s an unsigned API call: %d %s %.200s", method, p.status, p.header.Get("Content-Type"), p.body)
			}
		}
	}
	// The gateway answers a program (not a browser) without a page.
	for _, b := range []*browser{anonymous, owner} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/gateway/auth", nil)
		req.Header.Set("Accept", "application/json")
		p := b.do(req)
		if p.status != http.StatusForbidden || strings.HasPrefix(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, `"Code"`) {
			t.Errorf("the gateway asked by an untrusted peer: %d %s %.200s", p.status, p.header.Get("Content-Type"), p.body)
		}
	}
}

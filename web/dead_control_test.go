package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"ramconsole/ram/softkey"

	"golang.org/x/net/html"
)

// control is one thing on a page that leads somewhere: a link, a form or a
// button that submits its form elsewhere.
type control struct {
	kind   string // "link", "form", "button"
	method string
	target string // the address, resolved against the page's
}

// pageControls parses a page and returns its links, forms and buttons with
// a formaction, each with the method it uses.
func pageControls(pageURL *url.URL, body string) ([]control, error) {
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	attr := func(n *html.Node, name string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == name {
				return a.Val, true
			}
		}
		return "", false
	}
	resolve := func(ref string) string {
		u, err := url.Parse(ref)
		if err != nil {
			return ref
		}
		return pageURL.ResolveReference(u).String()
	}
	formMethod := func(n *html.Node) string {
		m, _ := attr(n, "method")
		if strings.EqualFold(m, "post") {
			return http.MethodPost
		}
		return http.MethodGet
	}
	var out []control
	var visit func(n *html.Node, form *html.Node)
	visit = func(n *html.Node, form *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "a":
				if href, ok := attr(n, "href"); ok {
					out = append(out, control{"link", http.MethodGet, resolve(href)})
				}
			case "form":
				form = n
				action, ok := attr(n, "action")
				if !ok {
					action = pageURL.String() // a form without action posts to its page
				}
				out = append(out, control{"form", formMethod(n), resolve(action)})
			case "button", "input":
				if fa, ok := attr(n, "formaction"); ok {
					method := http.MethodGet
					if form != nil {
						method = formMethod(form)
					}
					if fm, ok := attr(n, "formmethod"); ok {
						method = strings.ToUpper(fm)
					}
					out = append(out, control{"button", method, resolve(fa)})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c, form)
		}
	}
	visit(doc, nil)
	return out, nil
}

// routeOf returns the route of the table that answers method at path, or
// nil: a parameter matches any one non-empty segment.
func routeOf(routes []Route, method, path string) *Route {
	segs := strings.Split(path, "/")
	for i := range routes {
		r := &routes[i]
		if r.Method != method {
			continue
		}
		rs := strings.Split(r.Path, "/")
		if len(rs) != len(segs) {
			continue
		}
		ok := true
		for j, s := range rs {
			if strings.HasPrefix(s, ":") && segs[j] != "" || s == segs[j] {
				continue
			}
			ok = false
			break
		}
		if ok {
			return r
		}
	}
	return nil
}

// populateConsole fills an account with a bit of everything a page can
// show: users with and without console access and keys, a group with
// members and policies, a custom policy with two versions, a role, a
// resource service, settings and the audit events all this leaves.
func populateConsole(t *testing.T, h *harness, owner *browser) {
	t.Helper()
	h.createEmployee(owner, "alice")
	owner.get("/users/new")
	expectHandover(t, owner.post("/users", url.Values{"name": {"bob"}, "display_name": {"Bob"}, "create_access_key": {"true"}}), "create bob")
	owner.get("/groups/new")
	expectRedirect(t, owner.post("/groups", url.Values{"name": {"developers"}, "comments": {"Everyone who ships code"}}), "/groups/developers", "create group")
	owner.get("/groups/developers")
	expectRedirect(t, owner.post("/groups/developers/members", url.Values{"user": {"alice", "bob"}}), "/groups/developers", "members")
	expectRedirect(t, owner.post("/groups/developers/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunECSReadOnlyAccess"}}),
		"/groups/developers", "group policy")
	owner.get("/policies/new")
	expectRedirect(t, owner.post("/policies", url.Values{"name": {"ReadLogs"}, "description": {"Logs, read only"},
		"document": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"log:Get*","Resource":"*"}]}`}}), "/policies/Custom/ReadLogs", "custom policy")
	owner.get("/policies/Custom/ReadLogs")
	owner.post("/policies/Custom/ReadLogs/versions", url.Values{"document": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"log:List*","Resource":"*"}]}`}})
	owner.get("/users/alice")
	expectRedirect(t, owner.post("/users/alice/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"ReadLogs"}}), "/users/alice", "user policy")
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"auditor"}, "description": {"Reads RAM"}, "preset": {"account"}, "max_session_duration": {"3600"}}),
		"/roles/auditor", "create role")
	owner.get("/roles/auditor")
	owner.post("/roles/auditor/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunRAMReadOnlyAccess"}})
	owner.get("/services/new")
	owner.post("/services", url.Values{"definition": {testECSDef}})
	owner.get("/sso/saml-providers/new")
	expectRedirect(t, owner.post("/sso/saml-providers", url.Values{"name": {"corp"}, "metadata": {ssoTestMetadata(t)}}),
		"/sso/saml-providers/corp", "SAML provider")
	owner.get("/sso/oidc-providers/new")
	expectRedirect(t, owner.post("/sso/oidc-providers", url.Values{"name": {"ci"}, "issuer_url": {"https://ci.example.com"},
		"client_ids": {"sts.aliyuncs.com"}, "fingerprints": {strings.Repeat("ab", 20)}}), "/sso/oidc-providers/ci", "OIDC provider")
}

// walk opens every page reachable from start by links as b, and checks
// each link, form and formaction it meets against the route table. Pages
// of one route with the same query fields are opened a few times, not
// once per row. It returns the problems found and the pages opened.
func walk(t *testing.T, h *harness, b *browser, start []string, check func(page string, c control, r *Route) string) (problems []string, opened int) {
	t.Helper()
	base, _ := url.Parse(h.srv.URL)
	routes := h.app.Routes()
	type item struct{ path, from string }
	queue := make([]item, 0, len(start))
	for _, s := range start {
		queue = append(queue, item{s, "(start)"})
	}
	seen, perKind := map[string]bool{}, map[string]int{}
	// Each problem is told once, on the first page it is met.
	report := map[string]bool{}
	problem := func(key, s string) {
		if !report[key] {
			report[key] = true
			problems = append(problems, s)
		}
	}
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		p := b.get(it.path)
		opened++
		switch {
		case p.status == http.StatusSeeOther || p.status == http.StatusFound:
			loc := p.header.Get("Location")
			if u, err := base.Parse(loc); err == nil && u.Host == base.Host && !seen[u.RequestURI()] {
				seen[u.RequestURI()] = true
				queue = append(queue, item{u.RequestURI(), it.from})
			}
			continue
		case p.status != http.StatusOK:
			problem(it.path, fmt.Sprintf("GET %s (linked from %s) answers %d", it.path, it.from, p.status))
			continue
		case !strings.HasPrefix(p.header.Get("Content-Type"), "text/html"):
			continue // a download
		}
		// Every page: the console's one CSP, and no inline code at all.
		if csp := p.header.Get("Content-Security-Policy"); csp != consoleCSP {
			problem("csp "+it.path, fmt.Sprintf("GET %s: Content-Security-Policy %q, want the console's %q", it.path, csp, consoleCSP))
		}
		if msg := inlineCode(p.body); msg != "" {
			problem("inline "+it.path, fmt.Sprintf("GET %s: %s", it.path, msg))
		}
		pageURL, _ := base.Parse(it.path)
		controls, err := pageControls(pageURL, p.body)
		if err != nil {
			t.Fatalf("parse %s: %v", it.path, err)
		}
		for _, c := range controls {
			u, err := url.Parse(c.target)
			if err != nil {
				problem(c.target, fmt.Sprintf("%s: %s %q does not parse", it.path, c.kind, c.target))
				continue
			}
			if u.Scheme != "http" && u.Scheme != "https" || u.Host != base.Host {
				continue // another site, mailto: and the like
			}
			if c.kind == "link" && u.Path == pageURL.Path && u.RawQuery == pageURL.RawQuery && u.Fragment != "" {
				continue // an anchor on the page itself
			}
			r := routeOf(routes, c.method, u.Path)
			if r == nil {
				problem(c.kind+" "+c.method+" "+u.Path, fmt.Sprintf("%s: %s %s %s names no route of the table", it.path, c.kind, c.method, u.Path))
				continue
			}
			if msg := check(it.path, c, r); msg != "" {
				problem(c.kind+" "+c.method+" "+r.Path, msg)
			}
			if c.method != http.MethodGet || c.kind != "link" {
				continue
			}
			next := u.RequestURI()
			var keys []string
			for k := range u.Query() {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			kind := r.Path + "?" + strings.Join(keys, "&")
			if seen[next] || perKind[kind] >= 3 {
				continue
			}
			seen[next] = true
			perKind[kind]++
			queue = append(queue, item{next, it.path})
		}
	}
	return problems, opened
}

// TestEveryControlNamesARoute walks every page of a populated console as
// the owner and as a read-only user: every link, form action and button
// formaction names a route of the table that answers its method, and every
// link opens (no 404, no refusal). The read-only user meets no form that
// changes anything but its own session and account.
func TestEveryControlNamesARoute(t *testing.T) {
	h := newHarness(t)
	h.enableKeys() // the security-key pages are walked too
	owner, _ := h.setupOwner()
	expectRedirect(t, registerKey(t, owner, softkey.New(keyOrigin), "walk", ""), "/mfa/security-keys", "a key to walk past")
	populateConsole(t, h, owner)
	reader := h.ramUser(owner, "reader", []string{"ReadOnlyAccess", "AliyunActionTrailReadOnlyAccess"}, nil)
	owner = h.signIn(h.ownerSecret)

	// Pages reached by a form's GET rather than a link: the bulk actions and
	// the "Add permissions" panel with ticks.
	ownerStart := []string{"/", "/users", "/groups", "/policies", "/roles", "/services", "/settings", "/audit", "/simulator",
		"/bulk/users/add-to-group?user=alice&user=bob", "/bulk/users/delete?user=bob",
		"/permissions/new?kind=user&user=alice", "/permissions/new?kind=group&group=developers&q=read",
		"/permissions/review?kind=user&user=alice&policy=System:ReadOnlyAccess", "/groups/developers/members/add?q=b",
		"/simulator?user=alice&action=ecs:DescribeInstances&resource=*"}
	noCheck := func(string, control, *Route) string { return "" }
	problems, opened := walk(t, h, owner, ownerStart, noCheck)
	for _, p := range problems {
		t.Errorf("owner: %s", p)
	}
	t.Logf("the owner's walk opened %d pages", opened)
	if opened < 60 {
		t.Errorf("the owner's walk opened %d pages, want at least 60", opened)
	}

	// The read-only user: its own forms (sign-out, its password, MFA device
	// and AccessKeys), checking the audit log, and nothing that changes the
	// account.
	selfService := func(r *Route) bool {
		switch r.Path {
		case "/logout", "/mfa/bind", "/mfa/bind/new", "/mfa/unbind", "/password/change", "/audit/verify", "/mfa/security-keys":
			return true
		}
		return strings.HasPrefix(r.Path, "/me/") || strings.HasPrefix(r.Path, "/mfa/security-keys/")
	}
	readOnly := func(page string, c control, r *Route) string {
		if c.method == http.MethodPost && !selfService(r) {
			return fmt.Sprintf("%s: the read-only user is offered %s POST %s (%s)", page, c.kind, c.target, r.Action)
		}
		return ""
	}
	before := countRefused(t, h, "reader")
	problems, opened = walk(t, h, reader, []string{"/", "/me"}, readOnly)
	for _, p := range problems {
		t.Errorf("read-only: %s", p)
	}
	t.Logf("the read-only walk opened %d pages", opened)
	if opened < 40 {
		t.Errorf("the read-only walk opened %d pages, want at least 40", opened)
	}
	if after := countRefused(t, h, "reader"); after != before {
		t.Errorf("browsing as the read-only user recorded %d refusals", after-before)
	}
}

// TestRouteOf: the walk's matcher follows the table's parameters.
func TestRouteOf(t *testing.T) {
	routes := []Route{{Method: http.MethodGet, Path: "/users/:name"}, {Method: http.MethodPost, Path: "/users/:name/groups"}}
	cases := []struct {
		method, path string
		want         bool
	}{
		{http.MethodGet, "/users/alice", true},
		{http.MethodGet, "/users/", false},
		{http.MethodPost, "/users/alice", false},
		{http.MethodGet, "/users/bulk/groups", false},
		{http.MethodPost, "/users/bulk/groups", true},
	}
	for _, c := range cases {
		if got := routeOf(routes, c.method, c.path) != nil; got != c.want {
			t.Errorf("routeOf(%s %s) = %v, want %v", c.method, c.path, got, c.want)
		}
	}
}

var (
	scriptTagRE   = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	onAttrRE      = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	jsURLRE       = regexp.MustCompile(`(?i)(href|src|action|formaction)\s*=\s*"\s*javascript:`)
	staticJSSrcRE = regexp.MustCompile(`^\s+defer src="/static/[0-9a-f]{12}/webauthn\.js"\s*$`)
)

// inlineCode says what inline code a page carries ("" for none): a script
// with a body or another source than the hashed webauthn.js, an on…=
// attribute, a javascript: URL.
func inlineCode(body string) string {
	for _, m := range scriptTagRE.FindAllStringSubmatch(body, -1) {
		if strings.TrimSpace(m[2]) != "" || !staticJSSrcRE.MatchString(m[1]) {
			return fmt.Sprintf("a script other than the hashed webauthn.js: %.120s", m[0])
		}
	}
	if m := onAttrRE.FindString(body); m != "" {
		return fmt.Sprintf("an event-handler attribute: %.120s", m)
	}
	if m := jsURLRE.FindString(body); m != "" {
		return fmt.Sprintf("a javascript: URL: %.120s", m)
	}
	return ""
}

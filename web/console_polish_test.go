package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The pages' HTML, parsed: what a browser reads, not what a regexp finds.

func parseHTML(t testing.TB, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse the page: %v", err)
	}
	return doc
}

// findAll returns the elements under n that match, in document order.
func findAll(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

// findOne returns the only element under n that matches.
func findOne(t testing.TB, n *html.Node, what string, match func(*html.Node) bool) *html.Node {
	t.Helper()
	found := findAll(n, match)
	if len(found) != 1 {
		t.Fatalf("%d elements are %s, want 1", len(found), what)
	}
	return found[0]
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// textOf is the text of n as read, spaces collapsed.
func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

func testID(id string) func(*html.Node) bool {
	return func(n *html.Node) bool { return attr(n, "data-testid") == id }
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

// linkText finds the links whose text is text.
func linkText(text string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == "a" && textOf(n) == text }
}

// csvSafe is a cell as the one-time CSVs write it: formula-looking values
// behind an apostrophe.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// polishedAccount is an owner with user kim (console access) in group ops,
// role deployer, and a System policy attached to each.
func polishedAccount(t *testing.T) (*harness, *browser) {
	t.Helper()
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	expectHandover(t, owner.post("/users", url.Values{"name": {"kim"}, "console_login": {"true"}, "password": {ramUserPW}}), "create kim")
	owner.get("/groups/new")
	expectRedirect(t, owner.post("/groups", url.Values{"name": {"ops"}}), "/groups/ops", "create ops")
	owner.get("/groups/ops")
	owner.post("/groups/ops/members", url.Values{"user": {"kim"}})
	owner.post("/groups/ops/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunECSReadOnlyAccess"}})
	owner.get("/users/kim")
	owner.post("/users/kim/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunRAMReadOnlyAccess"}})
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"deployer"}, "preset": {"account"}, "max_session_duration": {"3600"}}),
		"/roles/deployer", "create deployer")
	owner.get("/roles/deployer")
	owner.post("/roles/deployer/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunOSSFullAccess"}})
	return h, owner
}

// TestDetachConfirmSaysWhoLosesWhat: the detach confirmation names who
// loses the policy in a sentence that reads right for a user, a group's
// members and a role's sessions.
func TestDetachConfirmSaysWhoLosesWhat(t *testing.T) {
	_, owner := polishedAccount(t)
	cases := []struct{ page, want string }{
		{"/users/kim/policies/System/AliyunRAMReadOnlyAccess/detach",
			"User kim loses what System policy AliyunRAMReadOnlyAccess allows, at once, unless another policy or one of the user's groups grants it."},
		{"/groups/ops/policies/System/AliyunECSReadOnlyAccess/detach",
			"Every member of group ops loses what System policy AliyunECSReadOnlyAccess allows through the group, at once, unless another policy or group grants it."},
		{"/roles/deployer/policies/System/AliyunOSSFullAccess/detach",
			"Every session of role deployer, those already started included, loses what System policy AliyunOSSFullAccess allows from its next call, unless another policy of the role grants it."},
	}
	for _, tc := range cases {
		p := owner.get(tc.page)
		expectStatus(t, p, http.StatusOK, "GET "+tc.page)
		breaks := findOne(t, parseHTML(t, p.body), "the confirm page's breaks", testID("confirm-breaks"))
		items := findAll(breaks, tag("li"))
		if len(items) != 1 || textOf(items[0]) != tc.want {
			var got []string
			for _, li := range items {
				got = append(got, textOf(li))
			}
			t.Errorf("GET %s says %q, want %q", tc.page, got, tc.want)
		}
	}
}

// TestRowActionsAreQuietLinks: Detach and Remove in the tables of the user,
// group, role and policy pages are links of the row-action class, not
// buttons, while each section's Add stays a button.
func TestRowActionsAreQuietLinks(t *testing.T) {
	_, owner := polishedAccount(t)
	cases := []struct {
		page    string
		actions map[string]int // link text → how many rows offer it
		adds    []string       // the section's Add buttons, by data-testid
	}{
		{"/users/kim", map[string]int{"Detach": 1, "Remove": 1}, []string{"add-permissions"}},
		{"/groups/ops", map[string]int{"Detach": 1, "Remove": 1}, []string{"add-permissions", "add-members"}},
		{"/roles/deployer", map[string]int{"Detach": 1}, nil},
		{"/policies/System/AliyunRAMReadOnlyAccess", map[string]int{"Detach": 1}, nil},
	}
	for _, tc := range cases {
		p := owner.get(tc.page)
		expectStatus(t, p, http.StatusOK, "GET "+tc.page)
		doc := parseHTML(t, p.body)
		for text, n := range tc.actions {
			links := findAll(doc, linkText(text))
			if len(links) != n {
				t.Errorf("%s: %d %s links, want %d", tc.page, len(links), text, n)
			}
			for _, a := range links {
				if !hasClass(a, "row-action") || hasClass(a, "button") {
					t.Errorf("%s: %s has class %q, want row-action and no button", tc.page, text, attr(a, "class"))
				}
			}
		}
		for _, id := range tc.adds {
			add := findOne(t, doc, tc.page+"'s "+id, testID(id))
			if !hasClass(add, "button") {
				t.Errorf("%s: %s is not a button: class %q", tc.page, id, attr(add, "class"))
			}
		}
	}
	// The class is styled: quieter than a button.
	sheet := findOne(t, parseHTML(t, owner.get("/users/kim").body), "the stylesheet", func(n *html.Node) bool {
		return n.Data == "link" && attr(n, "rel") == "stylesheet"
	})
	if css := owner.get(attr(sheet, "href")); !strings.Contains(css.body, "a.row-action {") {
		t.Errorf("the stylesheet does not style a.row-action")
	}
}

// handoverSteps is what the hand-over sheet says the person's sign-in
// asks, by data-step.
func handoverSteps(t testing.TB, doc *html.Node) []string {
	t.Helper()
	var steps []string
	for _, list := range findAll(doc, testID("handover-first-sign-in")) {
		for _, li := range findAll(list, tag("li")) {
			steps = append(steps, attr(li, "data-step"))
		}
	}
	return steps
}

// downloads lists the sheet's download links by data-testid.
func downloads(doc *html.Node) []string {
	var ids []string
	for _, a := range findAll(doc, func(n *html.Node) bool { return n.Data == "a" && attr(n, "download") != "" }) {
		ids = append(ids, attr(a, "data-testid"))
	}
	return ids
}

// TestOneCredentialsFileAndWhatSignInAsks: a user created with console
// access and an AccessKey gets one one-time CSV holding both, in the
// columns of every hand-over CSV; the sheet tells the person what their
// sign-in will ask (bind MFA, a new password, or a code of the device they
// have) — and an AccessKey alone keeps its AccessKey.csv.
func TestOneCredentialsFileAndWhatSignInAsks(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	const header = "UserName,LogonName,Password,AccessKeyId,AccessKeySecret,LogonUrl\n"
	sheet := func(form url.Values, what string) (page, *html.Node) {
		t.Helper()
		p := owner.follow(owner.post("/users", form))
		expectStatus(t, p, http.StatusOK, what)
		return p, parseHTML(t, p.body)
	}

	// Both kinds of access: one file.
	owner.get("/users/new")
	p, doc := sheet(url.Values{"name": {"ann"}, "console_login": {"true"}, "generate_password": {"true"}, "password_reset_required": {"true"},
		"mfa_bind_required": {"true"}, "create_access_key": {"true"}}, "ann's sheet")
	if got := downloads(doc); strings.Join(got, ",") != "credentials-csv" {
		t.Fatalf("ann's sheet offers the downloads %v, want credentials-csv only", got)
	}
	if got := strings.Join(handoverSteps(t, doc), ","); got != "password,bind-mfa,new-password" {
		t.Errorf("ann's sheet says her sign-in asks %s, want password,bind-mfa,new-password", got)
	}
	findOne(t, doc, "the note that the key is in the file", testID("accesskey-in-credentials"))
	pw, keyID, secret := find(t, generatedPWRE, p.body, "password"), find(t, keyIDRE, p.body, "key id"), find(t, keySecretRE, p.body, "secret")
	href := attr(findOne(t, doc, "the credentials link", testID("credentials-csv")), "href")
	csv := owner.get(href)
	expectStatus(t, csv, http.StatusOK, "ann's credentials")
	if want := header + "ann,ann@" + testAlias + "," + csvSafe(pw) + "," + keyID + "," + secret + "," + h.srv.URL + "/login\n"; csv.body != want {
		t.Errorf("ann's credentials = %q, want %q", csv.body, want)
	}
	expectStatus(t, owner.get(href), http.StatusNotFound, "ann's credentials again")

	// Console access alone, nothing asked after the password: the same columns.
	owner.get("/users/new")
	p, doc = sheet(url.Values{"name": {"bo"}, "console_login": {"true"}, "generate_password": {"false"}, "password": {ramUserPW}}, "bo's sheet")
	if got := strings.Join(handoverSteps(t, doc), ","); got != "password" {
		t.Errorf("bo's sheet says his sign-in asks %s, want password only", got)
	}
	csv = owner.get(attr(findOne(t, doc, "the credentials link", testID("credentials-csv")), "href"))
	if want := header + "bo,bo@" + testAlias + "," + csvSafe(ramUserPW) + ",,," + h.srv.URL + "/login\n"; csv.body != want {
		t.Errorf("bo's credentials = %q, want %q", csv.body, want)
	}

	// A person with a bound device whose password is reset: a code, then a new password.
	e := h.createEmployee(owner, "cy")
	h.signInEmployee("cy@"+testAlias, e.password)
	owner.get("/users/cy")
	p = owner.follow(owner.post("/users/cy/login-profile/password", url.Values{"generate_password": {"true"}, "password_reset_required": {"true"}}))
	expectStatus(t, p, http.StatusOK, "cy's new password")
	if got := strings.Join(handoverSteps(t, parseHTML(t, p.body)), ","); got != "password,mfa-code,new-password" {
		t.Errorf("cy's sheet says her sign-in asks %s, want password,mfa-code,new-password", got)
	}

	// A program: its AccessKey.csv, nothing about signing in.
	owner.get("/users/new")
	p, doc = sheet(url.Values{"name": {"robot"}, "create_access_key": {"true"}}, "robot's sheet")
	if got := downloads(doc); strings.Join(got, ",") != "accesskey-csv" {
		t.Errorf("robot's sheet offers the downloads %v, want accesskey-csv only", got)
	}
	if steps := handoverSteps(t, doc); len(steps) != 0 {
		t.Errorf("a program's sheet tells about signing in: %v", steps)
	}
	csv = owner.get(find(t, csvHrefRE, p.body, "AccessKey CSV"))
	if want := "AccessKey ID,AccessKey Secret\n" + find(t, keyIDRE, p.body, "key id") + "," + find(t, keySecretRE, p.body, "secret") + "\n"; csv.body != want {
		t.Errorf("robot's AccessKey.csv = %q, want %q", csv.body, want)
	}
}

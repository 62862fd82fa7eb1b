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

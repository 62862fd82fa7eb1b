package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
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

// TestRowActionsAreQuietLinks: Detach, Remove and Revoke in the tables of
// the user, group, role, policy and grants pages are links of the
// row-action class, not buttons, while each section's Add stays a button.
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
		{"/grants", map[string]int{"Revoke…": 3}, nil},
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
// access and an AccessKey gets one one-time CSV holding both (and the
// AccessKey's own AccessKey.csv beside it), in the
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

	// Both kinds of access: one file with both, and the AccessKey's own
	// AccessKey.csv (SPEC §3) for a program that reads it alone.
	owner.get("/users/new")
	p, doc := sheet(url.Values{"name": {"ann"}, "console_login": {"true"}, "generate_password": {"true"}, "password_reset_required": {"true"},
		"mfa_bind_required": {"true"}, "create_access_key": {"true"}}, "ann's sheet")
	if got := downloads(doc); strings.Join(got, ",") != "credentials-csv,accesskey-csv" {
		t.Fatalf("ann's sheet offers the downloads %v, want credentials-csv, then accesskey-csv", got)
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
	keyCSV := owner.get(attr(findOne(t, doc, "the AccessKey.csv link", testID("accesskey-csv")), "href"))
	if expectStatus(t, keyCSV, http.StatusOK, "ann's AccessKey.csv"); !strings.HasPrefix(keyCSV.body, "AccessKey ID,AccessKey Secret") ||
		!strings.Contains(keyCSV.body, keyID+","+secret) {
		t.Errorf("ann's AccessKey.csv = %q", keyCSV.body)
	}

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

// checklist reads the overview's checklist: each item's state badge by
// the item's text.
func checklist(t testing.TB, body string) map[string]string {
	t.Helper()
	list := findOne(t, parseHTML(t, body), "the checklist", testID("checklist"))
	states := map[string]string{}
	for _, li := range findAll(list, tag("li")) {
		state := findOne(t, li, "a check's state", testID("check-state"))
		states[strings.TrimSpace(strings.TrimPrefix(textOf(li), textOf(state)))] = textOf(state)
	}
	return states
}

// TestOverviewChecklistWithoutUsers: an account without users has nothing
// to check about users' MFA and AccessKeys: the checklist says so rather
// than "Done"; with a user the checks apply.
func TestOverviewChecklistWithoutUsers(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	mfa, keys := "Every user with console access has MFA", "No AccessKey unused for 90 days"
	got := checklist(t, owner.get("/").body)
	for _, check := range []string{mfa, keys} {
		// The item is the label alone: no hint, no link to fix anything.
		if got[check] != "No users yet" {
			t.Errorf("%q on an empty account = %q, want No users yet (checklist %v)", check, got[check], got)
		}
	}
	if got["Owner MFA bound — the owner's password alone never opens the console"] != "Done" {
		t.Errorf("the owner's MFA check is not Done: %v", got)
	}
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"nomfa"}, "console_login": {"true"}, "password": {ramUserPW}})
	got = checklist(t, owner.get("/").body)
	if state := got[mfa+" — 1 user signs in without MFA Require MFA for every sign-in"]; state != "To do" {
		t.Errorf("with a user without MFA the MFA check = %q, want To do (checklist %v)", state, got)
	}
	if state := got[keys+" — 0 keys have not been used for 90 days; disable or delete them"]; state != "Done" {
		t.Errorf("with a user and no stale key the key check = %q, want Done (checklist %v)", state, got)
	}
}

// mfaColumn reads the users list's MFA column by user name.
func mfaColumn(t testing.TB, body string) map[string]string {
	t.Helper()
	table := findOne(t, parseHTML(t, body), "the users table", testID("users-table"))
	col := -1
	for i, th := range findAll(table, tag("th")) {
		if textOf(th) == "MFA" {
			col = i
		}
	}
	got := map[string]string{}
	for _, tr := range findAll(table, tag("tr"))[1:] {
		cells := findAll(tr, tag("td"))
		if col < 0 || len(cells) <= col {
			t.Fatalf("a users row without an MFA column")
		}
		name := findAll(tr, tag("a"))
		if len(name) == 0 {
			t.Fatalf("a users row without the user's link")
		}
		got[textOf(name[0])] = textOf(cells[col])
	}
	return got
}

// TestMFABadgeTellsPendingFromNotRequired: the users list and the user's
// page tell a user who will bind a device at sign-in (required, not bound
// yet) from one of whom MFA is not required.
func TestMFABadgeTellsPendingFromNotRequired(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	create := func(form url.Values) {
		t.Helper()
		owner.get("/users/new")
		if p := owner.post("/users", form); p.status != http.StatusSeeOther {
			t.Fatalf("create %s: %d", form.Get("name"), p.status)
		}
	}
	create(url.Values{"name": {"pending"}, "console_login": {"true"}, "password": {ramUserPW}, "mfa_bind_required": {"true"}})
	create(url.Values{"name": {"free"}, "console_login": {"true"}, "password": {ramUserPW}})
	create(url.Values{"name": {"program"}, "create_access_key": {"true"}})
	bound := h.createEmployee(owner, "bound")
	h.signInEmployee("bound@"+testAlias, bound.password)
	again := h.createEmployee(owner, "again")
	h.signInEmployee("again@"+testAlias, again.password)
	owner.get("/users/again/mfa/unbind")
	expectRedirect(t, owner.post("/users/again/mfa/unbind", nil), "/users/again", "unbind again's device")

	want := map[string]string{"pending": "Will bind at first sign-in", "free": "Not required", "program": "None", "bound": "Bound",
		"again": "Will bind at next sign-in"}
	got := mfaColumn(t, owner.get("/users").body)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("users list: %s's MFA = %q, want %q", name, got[name], w)
		}
	}
	page := func(name string) string {
		t.Helper()
		p := owner.get("/users/" + name)
		expectStatus(t, p, http.StatusOK, name+"'s page")
		return textOf(findOne(t, parseHTML(t, p.body), name+"'s MFA status", testID("mfa-status")))
	}
	for name, w := range map[string]string{"pending": "Will bind at first sign-in", "free": "Not required", "again": "Will bind at next sign-in"} {
		if got := page(name); !strings.Contains(got, w) {
			t.Errorf("%s's page says %q, want %q in it", name, got, w)
		}
	}
	if got := page("program"); got != "No MFA device bound." {
		t.Errorf("a user without console access: %q", got)
	}

	// Requiring MFA of every user makes everyone without a device pending.
	owner.get("/settings")
	expectRedirect(t, owner.post("/settings/security", url.Values{"LoginSessionDuration": {"6"}, "EnforceMFAForLogin": {"true"},
		"AllowUserToChangePassword": {"true"}}), "/settings", "require MFA of everyone")
	if got := mfaColumn(t, owner.get("/users").body); got["free"] != "Will bind at first sign-in" || got["program"] != "None" {
		t.Errorf("with MFA required of everyone: free %q, program %q; want Will bind at first sign-in, None", got["free"], got["program"])
	}
}

// TestUserWithoutAccessIsTold: a user created with neither console access
// nor an AccessKey lands on its page with a notice that says so and where
// access is added later; nothing is handed over.
func TestUserWithoutAccessIsTold(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	p := owner.post("/users", url.Values{"name": {"idle"}})
	expectRedirect(t, p, "/users/idle", "create idle")
	p = owner.get("/users/idle")
	flash := textOf(findOne(t, parseHTML(t, p.body), "the notice", testID("flash")))
	for _, want := range []string{"no access", "neither sign in to the console nor call the API", "Enable console access", "Create AccessKey"} {
		if !strings.Contains(flash, want) {
			t.Errorf("the notice %q does not say %q", flash, want)
		}
	}
	// The controls it names are on the page.
	doc := parseHTML(t, p.body)
	for _, label := range []string{"Enable console access", "Create AccessKey"} {
		if len(findAll(doc, func(n *html.Node) bool { return n.Data == "button" && textOf(n) == label })) != 1 {
			t.Errorf("the user's page has no %q button", label)
		}
	}
	// A user with access gets no such notice.
	owner.get("/users/new")
	owner.follow(owner.post("/users", url.Values{"name": {"busy"}, "create_access_key": {"true"}}))
	if p := owner.get("/users/busy"); strings.Contains(p.body, "no access") {
		t.Errorf("a user with an AccessKey is said to have no access")
	}
}

// formOf returns the values a browser would post from the page's form with
// action (its inputs' values, ticked boxes, textareas), and the form.
func formOf(t testing.TB, doc *html.Node, action string) url.Values {
	t.Helper()
	form := findOne(t, doc, "the form posting to "+action, func(n *html.Node) bool { return n.Data == "form" && attr(n, "action") == action })
	vals := url.Values{}
	for _, in := range findAll(form, func(n *html.Node) bool { return n.Data == "input" || n.Data == "textarea" }) {
		name := attr(in, "name")
		switch {
		case name == "":
		case in.Data == "textarea":
			vals.Add(name, textContent(in))
		case attr(in, "type") == "checkbox" || attr(in, "type") == "radio":
			if hasAttr(in, "checked") {
				vals.Add(name, attr(in, "value"))
			}
		default:
			vals.Add(name, attr(in, "value"))
		}
	}
	return vals
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// textContent is a node's text exactly (a textarea's value).
func textContent(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.TrimPrefix(b.String(), "\n")
}

// TestFormPostedAfterSessionEndedComesBack: a form posted after the
// session ended creates nothing; the sign-in page says so and, once signed
// in again (a wrong password on the way), the person is back on the form
// with what they typed — never a password — once. Typed markup stays text.
func TestFormPostedAfterSessionEndedComesBack(t *testing.T) {
	h := newHarness(t)
	_, secret := h.setupOwner()
	sameSite := func(page string) map[string]string {
		return map[string]string{"Origin": h.srv.URL, "Referer": h.srv.URL + page, "Sec-Fetch-Site": "same-origin"}
	}
	const xss = `"><script>alert(1)</script>`
	typedPW := "Typed-Secret-Password-77"
	cases := []struct {
		name, page, action string
		typed              url.Values
		want               map[string]string // the form's values once back
		made               func() bool
	}{
		{"a new user", "/users/new", "/users",
			url.Values{"name": {"late-user"}, "display_name": {"Late " + xss}, "comments": {"line one\nline two"}, "console_login": {"true"},
				"generate_password": {"false"}, "password": {typedPW}, "password_reset_required": {"true"}},
			map[string]string{"name": "late-user", "display_name": "Late " + xss, "comments": "line one\nline two", "console_login": "true",
				"generate_password": "false", "password": "", "password_reset_required": "true", "mfa_bind_required": "", "create_access_key": ""},
			func() bool { u, _ := h.st.UserByName(t.Context(), "late-user"); return u != nil }},
		{"a new policy, shown again with its messages when the session ended", "/policies", "/policies",
			url.Values{"name": {"LatePolicy"}, "description": {"typed for a long time"},
				"document": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`}},
			map[string]string{"name": "LatePolicy", "description": "typed for a long time",
				"document": `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`},
			func() bool { p, _ := h.st.CustomPolicy(t.Context(), "LatePolicy"); return p != nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := h.signIn(secret)
			b.get(tc.page)
			h.clock.Advance(7 * time.Hour)
			p := b.postFrom(tc.action, tc.typed, sameSite(tc.page))
			expectStatus(t, p, http.StatusUnauthorized, "the post after the session ended")
			if strings.Contains(p.body, typedPW) || strings.Contains(p.body, "<script>") {
				t.Fatalf("the sign-in page carries the password or the typed markup as markup")
			}
			doc := parseHTML(t, p.body)
			if notice := textOf(findOne(t, doc, "the notice", testID("flash"))); !strings.Contains(notice, "nothing was saved") {
				t.Errorf("the sign-in page says %q, not that nothing was saved", notice)
			}
			// A wrong password first: the form still comes back after.
			login := formOf(t, doc, "/login")
			login.Set("username", testOwnerEmail)
			login.Set("password", "not-the-password")
			p = b.post("/login", login)
			expectStatus(t, p, http.StatusUnauthorized, "a wrong password")
			login = formOf(t, parseHTML(t, p.body), "/login")
			login.Set("username", testOwnerEmail)
			login.Set("password", testOwnerPW)
			expectRedirect(t, b.post("/login", login), "/login/mfa", "the password")
			b.get("/login/mfa")
			back := "/users/new"
			if tc.action == "/policies" {
				back = "/policies/new"
			}
			expectRedirect(t, b.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}}), back, "the code")
			h.clock.Advance(30 * time.Second)

			p = b.get(back)
			expectStatus(t, p, http.StatusOK, "the form again")
			doc = parseHTML(t, p.body)
			got := formOf(t, doc, tc.action)
			for k, want := range tc.want {
				if got.Get(k) != want {
					t.Errorf("%s comes back as %q, want %q", k, got.Get(k), want)
				}
			}
			if !strings.Contains(textOf(findOne(t, doc, "the note", testID("flash"))), "before your session ended") {
				t.Errorf("the restored form does not say why it is filled in")
			}
			if strings.Contains(p.body, typedPW) || strings.Contains(p.body, "<script>") {
				t.Errorf("the restored form shows the password or the typed markup as markup")
			}
			if tc.made() {
				t.Errorf("the post after the session ended was carried out")
			}
			// Once: the next visit is the empty form.
			if again := formOf(t, parseHTML(t, b.get(back).body), tc.action); again.Get("name") != "" {
				t.Errorf("the form comes back filled a second time: %v", again)
			}
		})
	}

	// Too much to carry (over 64 KiB), or a form whose page does not take
	// drafts: nothing is carried, and the page says nothing was saved
	// without promising the form back.
	for _, tc := range []struct {
		page, action string
		form         url.Values
	}{
		{"/groups/new", "/groups", url.Values{"name": {"big"}, "comments": {strings.Repeat("x", 100<<10)}}},
		{"/roles/new", "/roles", url.Values{"name": {"late-role"}, "preset": {"account"}, "max_session_duration": {"3600"}}},
	} {
		b := h.signIn(secret)
		b.get(tc.page)
		h.clock.Advance(7 * time.Hour)
		p := b.postFrom(tc.action, tc.form, sameSite(tc.page))
		expectStatus(t, p, http.StatusUnauthorized, "POST "+tc.action+" after the session ended")
		doc := parseHTML(t, p.body)
		notice := textOf(findOne(t, doc, "the notice", testID("flash")))
		if len(findAll(doc, testID("login-draft"))) != 0 || !strings.Contains(notice, "nothing was saved") || strings.Contains(notice, "what you typed") {
			t.Errorf("POST %s: a draft is carried, or the notice %q does not fit", tc.action, notice)
		}
	}
}

// TestUserPageHasATableOfContents: the user's page opens with links to
// each of its sections, in the page's order, each to a section that is
// there — the hand-over sheet's next steps (#groups, #policies) included.
func TestUserPageHasATableOfContents(t *testing.T) {
	_, owner := polishedAccount(t)
	p := owner.get("/users/kim")
	expectStatus(t, p, http.StatusOK, "kim's page")
	doc := parseHTML(t, p.body)
	toc := findOne(t, doc, "the table of contents", testID("user-toc"))
	if toc.Data != "nav" || attr(toc, "aria-label") == "" {
		t.Errorf("the table of contents is a <%s> labelled %q, want a labelled nav", toc.Data, attr(toc, "aria-label"))
	}
	var linked []string
	for _, a := range findAll(toc, tag("a")) {
		linked = append(linked, strings.TrimPrefix(attr(a, "href"), "#"))
	}
	var sections []string
	for _, s := range findAll(doc, func(n *html.Node) bool { return n.Data == "section" && attr(n, "id") != "" }) {
		sections = append(sections, attr(s, "id"))
	}
	if strings.Join(linked, ",") != strings.Join(sections, ",") {
		t.Errorf("the table of contents links %v; the page's sections are %v", linked, sections)
	}
	for _, want := range []string{"profile", "console-access", "mfa", "accesskeys", "policies", "groups"} {
		if !strings.Contains(","+strings.Join(sections, ",")+",", ","+want+",") {
			t.Errorf("no section #%s", want)
		}
	}
	// Resetting the password is folded away until a reset is refused.
	if reset := findOne(t, doc, "the reset form", testID("reset-password")); reset.Data != "details" || hasAttr(reset, "open") {
		t.Errorf("the reset-password form is a <%s>, open %v; want a closed <details>", reset.Data, hasAttr(reset, "open"))
	}
	p = owner.post("/users/kim/login-profile/password", url.Values{"generate_password": {"false"}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "a reset without a password")
	reset := findOne(t, parseHTML(t, p.body), "the reset form", testID("reset-password"))
	if !hasAttr(reset, "open") || len(findAll(reset, testID("field-error"))) != 1 {
		t.Errorf("a refused reset is not shown open with its message")
	}
}

// TestAuditTableWrapsARNsAtSeparators: the audit table offers a line break
// after each ':' and '/' of a resource (and nowhere else), its text stays
// the resource exactly, and a resource a caller typed stays text; the table
// is marked to use the page's width.
func TestAuditTableWrapsARNsAtSeparators(t *testing.T) {
	h := newHarness(t)
	h.setClock(time.Now().UTC().Truncate(time.Second))
	owner, _ := h.setupOwner()
	e := h.createEmployee(owner, "nopol")
	typed := `<img src=x onerror=alert(1)>/a:b`
	r := ramsdk.CreateGetUserRequest()
	h.at(r)
	r.UserName = typed
	_, err := h.sdkClient(e.keyID, e.secret).GetUser(r)
	expectCode(t, err, "InvalidParameter.UserName.InvalidChars", http.StatusBadRequest, "GetUser of a name with markup")
	hal := h.ramUser(owner, "hal", nil, nil)
	expectStatus(t, hal.get("/groups"), http.StatusForbidden, "hal lists groups")

	p := owner.get("/audit")
	expectStatus(t, p, http.StatusOK, "the audit log")
	if strings.Contains(p.body, "<img") {
		t.Fatalf("a typed resource is markup on the audit page")
	}
	table := findOne(t, parseHTML(t, p.body), "the audit table", testID("audit-table"))
	if !hasClass(table, "full-width") {
		t.Errorf("the audit table is not marked full-width: class %q", attr(table, "class"))
	}
	arn := "acs:ram:*:" + h.accountID() + ":group/*"
	seen := map[string]bool{}
	for _, td := range findAll(table, func(n *html.Node) bool { return n.Data == "td" && hasClass(n, "resource") }) {
		// The cell's pieces: text, then <wbr>, then text…
		var pieces []string
		for c := td.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				pieces = append(pieces, c.Data)
			case c.Data == "wbr":
				pieces = append(pieces, "|")
			}
		}
		text := strings.ReplaceAll(strings.Join(pieces, ""), "|", "")
		for i, piece := range pieces {
			if piece == "|" && (i == 0 || !strings.HasSuffix(pieces[i-1], ":") && !strings.HasSuffix(pieces[i-1], "/")) {
				t.Errorf("%q: a line break not after a separator", text)
			}
			if piece != "|" && strings.ContainsAny(strings.TrimRight(piece, ":/"), ":/") {
				t.Errorf("%q: no line break offered inside %q", text, piece)
			}
		}
		seen[text] = true
	}
	for _, want := range []string{arn, typed} {
		if !seen[want] {
			t.Errorf("the audit table lacks the resource %q (has %v)", want, seen)
		}
	}
	sheet := findOne(t, parseHTML(t, p.body), "the stylesheet", func(n *html.Node) bool {
		return n.Data == "link" && attr(n, "rel") == "stylesheet"
	})
	if css := owner.get(attr(sheet, "href")); !strings.Contains(css.body, "main:has(table.full-width) { max-width: none; }") {
		t.Errorf("the stylesheet does not widen a page with a full-width table")
	}
}

// navOf reads the side navigation: headings as "[Heading]", links by href.
func navOf(t testing.TB, body string) []string {
	t.Helper()
	nav := findOne(t, parseHTML(t, body), "the side navigation", func(n *html.Node) bool { return n.Data == "nav" && hasClass(n, "side") })
	var got []string
	for _, n := range findAll(nav, func(n *html.Node) bool { return n.Data == "a" || hasClass(n, "nav-heading") }) {
		if n.Data == "a" {
			got = append(got, attr(n, "href"))
		} else {
			got = append(got, "["+textOf(n)+"]")
		}
	}
	return got
}

// TestNavigationGroupedAsRAM: the navigation lists Identities (users,
// groups, roles) and Permissions (policies, grants when the console has
// them) under their headings, then Settings and Audit; each identity
// still sees only the entries it may use, and a heading only with one.
func TestNavigationGroupedAsRAM(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	grants := ""
	for _, r := range h.app.Routes() {
		if r.Method == http.MethodGet && r.Path == "/grants" && r.Nav != "" {
			grants = "/grants,"
		}
	}
	want := "/,[Identities],/users,/groups,/roles,/sso,[Permissions],/policies," + grants + "/simulator,/services,/applications,/settings,/audit," +
		"[Your account],/mfa/bind,/password/change"
	if got := strings.Join(navOf(t, owner.get("/users").body), ","); got != want {
		t.Errorf("the owner's navigation:\n got %s\nwant %s", got, want)
	}
	// A read-only administrator: what it may read, grouped the same way.
	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	got := strings.Join(navOf(t, reader.get("/me").body), ",")
	for _, part := range []string{"/me,/switch-role,[Identities],/users,/groups,/roles,/sso,[Permissions],/policies,"} {
		if !strings.HasPrefix(got, part) {
			t.Errorf("the read-only user's navigation %s does not start %s", got, part)
		}
	}
	// No policies: no section, and so no heading.
	hal := h.ramUser(owner, "hal", nil, nil)
	if got := strings.Join(navOf(t, hal.get("/me").body), ","); got != "/me,/switch-role" {
		t.Errorf("hal's navigation = %s, want /me,/switch-role", got)
	}
}

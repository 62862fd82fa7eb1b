package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
	xhtml "golang.org/x/net/html"

	"ramconsole/ram"
	"ramconsole/store"
	"ramconsole/views"
)

// The access review's console pages (SPEC §16.2–16.6), over activity made
// by real requests: OpenAPI calls signed by a user's AccessKey and by a
// role session's STS credentials.

// accessFixture is an account with:
//   - dev: an AccessKey; policies DevMayAssumeOps (sts:AssumeRole on ops),
//     dev-read (Statement 0 ram:ListUsers, Statement 1 ram:ListGroups) and,
//     through the group team, team-read (ram:GetRole and ram:GetUser);
//     dev listed users, read the role ops, assumed ops and was refused
//     ram:CreateUser;
//   - ops: a role with AliyunRAMReadOnlyAccess, whose session read the user
//     dev and was refused ram:CreateUser;
//   - -idle: a user with an AccessKey and the policy -unused, never used;
//     idle-role: a role never assumed;
//   - reader: a console user with AliyunRAMReadOnlyAccess.
type accessFixture struct {
	*stsEnv
	reader  *browser
	idleKey string
}

const accessDevRead = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:ListUsers","Resource":"*"},` +
	`{"Effect":"Allow","Action":"ram:ListGroups","Resource":"*"}]}`

func newAccessFixture(t *testing.T) *accessFixture {
	t.Helper()
	e := newSTSEnv(t)
	f := &accessFixture{stsEnv: e}
	ctx := context.Background()
	root := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	e.grant(t, "dev", "dev-read", accessDevRead)
	_, err := e.svc.CreateGroup(ctx, root, "team", "")
	must(t, err, "create team")
	must(t, e.svc.AddUserToGroup(ctx, root, "team", "dev"), "dev joins team")
	_, err = e.svc.CreatePolicy(ctx, root, "team-read", `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:GetRole","ram:GetUser"],"Resource":"*"}]}`, "")
	must(t, err, "create team-read")
	must(t, e.svc.AttachPolicyToGroup(ctx, root, "Custom", "team-read", "team"), "attach team-read")
	_, err = e.svc.CreateUser(ctx, root, ram.UserInput{UserName: "-idle"})
	must(t, err, "create -idle")
	k, err := e.svc.CreateAccessKey(ctx, root, "-idle")
	must(t, err, "-idle's key")
	f.idleKey = k.AccessKeyID
	e.grant(t, "-idle", "-unused", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:DescribeInstances","Resource":"*"}]}`)
	e.createRole(t, "idle-role", trustAccount(e.acct))

	// dev's own requests.
	dev := e.sdkClient(e.dev.keyID, e.dev.secret)
	lu := ramsdk.CreateListUsersRequest()
	e.at(lu)
	_, err = dev.ListUsers(lu)
	must(t, err, "dev lists users")
	gr := ramsdk.CreateGetRoleRequest()
	e.at(gr)
	gr.RoleName = "ops"
	_, err = dev.GetRole(gr)
	must(t, err, "dev reads ops")
	expectCode(t, e.createUser(dev, "x"), "NoPermission", 403, "dev creates a user")
	// ops's session.
	resp, err := e.assume(t, e.stsClient(t, e.dev.keyID, e.dev.secret), "ops", "review", nil)
	must(t, err, "dev assumes ops")
	session := e.ramAs(t, resp.Credentials)
	must(t, e.getUser(session, "dev"), "ops reads dev")
	expectCode(t, e.createUser(session, "y"), "NoPermission", 403, "ops creates a user")

	f.reader = e.ramUser(e.owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	return f
}

// rfc3339RE is a time of the access pages: RFC 3339 UTC with seconds.
var rfc3339RE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// decodeObject decodes a JSON object answer.
func decodeObject(t *testing.T, p page, what string) map[string]any {
	t.Helper()
	expectStatus(t, p, http.StatusOK, what)
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s: Content-Type %q, want JSON", what, ct)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(p.body), &m); err != nil {
		t.Fatalf("%s: %v: %s", what, err, p.body)
	}
	return m
}

// expectKeys checks that a JSON object has exactly the keys given.
func expectKeys(t *testing.T, what string, v any, want ...string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s = %v, want an object", what, v)
	}
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s keys = %v, want %v", what, got, want)
	}
	return m
}

// list is a JSON value that must be a list (never null).
func list(t *testing.T, what string, v any) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%s = %#v, want a list", what, v)
	}
	return l
}

// expectTime checks a JSON time: null for never, else RFC 3339 UTC.
func expectTime(t *testing.T, what string, v any, never bool) {
	t.Helper()
	s, isString := v.(string)
	switch {
	case never && v != nil:
		t.Errorf("%s = %v, want null", what, v)
	case !never && (!isString || !rfc3339RE.MatchString(s)):
		t.Errorf("%s = %v, want an RFC 3339 UTC time", what, v)
	}
}

// expectErrors checks an error answer: the status and, for JSON, exactly
// {"errors":[want]}.
func expectErrors(t *testing.T, p page, status int, want, what string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d: %.300s", what, p.status, status, p.body)
	}
	var m map[string][]string
	if err := json.Unmarshal([]byte(p.body), &m); err != nil || len(m) != 1 || len(m["errors"]) != 1 {
		t.Fatalf("%s: body %s, want {\"errors\":[…]}", what, p.body)
	}
	if want != "" && m["errors"][0] != want {
		t.Errorf("%s: errors = %q, want %q", what, m["errors"], want)
	}
}

// accessRow is a row of a principal's access table.
type accessRow struct{ action, used, group, status string }

func accessTable(t *testing.T, body string) []accessRow {
	t.Helper()
	table := findOne(t, parseHTML(t, body), "the access table", testID("access-table"))
	var rows []accessRow
	for _, tr := range findAll(table, testID("access-row")) {
		rows = append(rows, accessRow{attr(tr, "data-action"), attr(tr, "data-used"), attr(tr, "data-group"),
			textOf(findOne(t, tr, "a row's use", testID("access-status")))})
	}
	return rows
}

// rawText is an element's text as written (spaces kept).
func rawText(n *xhtml.Node) string {
	var b strings.Builder
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// viewEvent returns the one event of a page view's request named name.
func viewEvent(t *testing.T, h *harness, p page, name, what string) store.StoredEvent {
	t.Helper()
	id := p.header.Get("X-Request-Id")
	var found []store.StoredEvent
	for _, e := range h.events() {
		if e.RequestID == id && e.EventName == name {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d %s events for request %s, want 1", what, len(found), name, id)
	}
	return found[0]
}

// expectView checks a page view's event: a console read of name, with the
// report (for GenerateServiceLastAccessedDetails) and, when refused,
// NoPermission.
func expectView(t *testing.T, h *harness, p page, name, resourceSuffix, report, format string, refused bool, what string) {
	t.Helper()
	e := viewEvent(t, h, p, name, what)
	if e.EventType != ram.EventConsoleOperation || (e.ErrorCode == "NoPermission") != refused {
		t.Errorf("%s: event %s %s errorCode %q, want a console operation, refused=%v", what, e.EventName, e.EventType, e.ErrorCode, refused)
	}
	if !strings.HasSuffix(e.ResourceName, resourceSuffix) {
		t.Errorf("%s: resourceName %q, want …%s", what, e.ResourceName, resourceSuffix)
	}
	if e.EventRW != "Read" {
		t.Errorf("%s: eventRW %q, want Read", what, e.EventRW)
	}
	if refused {
		format = "" // a refused view is not one of a format yet
	}
	if report != "" && e.AdditionalEventData["report"] != report || format != "" && e.AdditionalEventData["format"] != format {
		t.Errorf("%s: additionalEventData %v, want report %q format %q", what, e.AdditionalEventData, report, format)
	}
}

func TestAccessPrincipalPages(t *testing.T) {
	f := newAccessFixture(t)
	owner := f.owner
	cases := []struct {
		path, kind, name string
		rows             []accessRow // every row, in order; nil: check the groups' order only
		first, last      string
	}{
		{path: "/users/dev/access", kind: "user", name: "dev", rows: []accessRow{
			{"ram:GetRole", "true", "used", "Used"},
			{"ram:ListUsers", "true", "used", "Used"},
			{"sts:AssumeRole", "true", "used", "Used"},
			{"ram:GetUser", "false", "unused", "Never used in 90 days"},
			{"ram:ListGroups", "false", "unused", "Never used in 90 days"},
			{"ram:CreateUser", "false", "denied", "Tried but not allowed"},
		}},
		{path: "/groups/team/access", kind: "group", name: "team", rows: []accessRow{
			{"ram:GetRole", "true", "used", "Used"},
			{"ram:GetUser", "false", "unused", "Never used in 90 days"},
		}},
		{path: "/roles/ops/access", kind: "role", name: "ops", first: "ram:GetUser", last: "ram:CreateUser"},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			p := owner.get(c.path)
			expectStatus(t, p, http.StatusOK, c.path)
			rows := accessTable(t, p.body)
			if c.rows != nil && !slices.Equal(rows, c.rows) {
				t.Errorf("%s rows = %v, want %v", c.path, rows, c.rows)
			}
			rank := map[string]int{"used": 0, "unused": 1, "denied": 2}
			for i := 1; i < len(rows); i++ {
				if rank[rows[i].group] < rank[rows[i-1].group] {
					t.Errorf("%s: %v after %v: used first, then granted but unused, then tried but not allowed", c.path, rows[i], rows[i-1])
				}
			}
			if c.first != "" && (len(rows) < 3 || rows[0] != accessRow{c.first, "true", "used", "Used"} ||
				rows[len(rows)-1] != accessRow{c.last, "false", "denied", "Tried but not allowed"}) {
				t.Errorf("%s rows = %v, want %s first and %s last", c.path, rows, c.first, c.last)
			}
			expectView(t, f.harness, p, ram.EventGetServiceLastAccessedDetails, ":"+c.kind+"/"+c.name, "", "", false, c.path)
			generate := findAll(parseHTML(t, p.body), testID("access-generate"))
			if (len(generate) == 1) != (c.kind != "group") {
				t.Errorf("%s: %d links to draft a policy", c.path, len(generate))
			}

			p = owner.getJSON(c.path + "?days=30")
			m := decodeObject(t, p, c.path+" JSON")
			expectKeys(t, c.path, m, "principal", "principalType", "name", "days", "from", "to", "actions")
			if m["principal"] != "acs:ram::"+f.acct+":"+c.kind+"/"+c.name || m["principalType"] != c.kind || m["name"] != c.name || m["days"] != 30.0 {
				t.Errorf("%s JSON = %v", c.path, m)
			}
			expectTime(t, c.path+" from", m["from"], false)
			expectTime(t, c.path+" to", m["to"], false)
			if !strings.HasSuffix(m["from"].(string), "T00:00:00Z") {
				t.Errorf("%s: from %v is not a UTC midnight", c.path, m["from"])
			}
			var names []string
			for _, a := range list(t, c.path+" actions", m["actions"]) {
				e := expectKeys(t, c.path+" action", a, "action", "service", "granted", "allowedCount", "deniedCount", "lastAllowed",
					"lastDenied", "resources")
				action := e["action"].(string)
				names = append(names, action)
				used, denied := e["allowedCount"].(float64) > 0, e["deniedCount"].(float64) > 0
				expectTime(t, action+" lastAllowed", e["lastAllowed"], !used)
				expectTime(t, action+" lastDenied", e["lastDenied"], !denied)
				if res := list(t, action+" resources", e["resources"]); len(res) > 0 != used {
					t.Errorf("%s %s: resources %v with allowedCount %v", c.path, action, res, e["allowedCount"])
				}
				if svc, _, _ := strings.Cut(action, ":"); e["service"] != svc {
					t.Errorf("%s %s: service %v", c.path, action, e["service"])
				}
			}
			if !slices.IsSortedFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) }) {
				t.Errorf("%s: actions not sorted: %v", c.path, names)
			}
			expectView(t, f.harness, p, ram.EventGetServiceLastAccessedDetails, ":"+c.kind+"/"+c.name, "", "", false, c.path+" JSON")
		})
	}

	// dev's figures, exactly.
	m := decodeObject(t, owner.getJSON("/users/dev/access"), "dev JSON")
	byAction := map[string]map[string]any{}
	for _, a := range m["actions"].([]any) {
		byAction[a.(map[string]any)["action"].(string)] = a.(map[string]any)
	}
	for action, want := range map[string][2]float64{"ram:ListUsers": {1, 0}, "ram:GetRole": {1, 0}, "sts:AssumeRole": {1, 0},
		"ram:CreateUser": {0, 1}, "ram:ListGroups": {0, 0}} {
		a := byAction[action]
		if a == nil || a["allowedCount"] != want[0] || a["deniedCount"] != want[1] || a["granted"] != (action != "ram:CreateUser") {
			t.Errorf("dev's %s = %v, want allowed %v denied %v", action, a, want[0], want[1])
		}
	}
	if res := byAction["ram:GetRole"]["resources"]; !slices.Equal(toStrings(res), []string{"acs:ram:*:" + f.acct + ":role/ops"}) {
		t.Errorf("dev's ram:GetRole resources = %v", res)
	}

	// The detail pages link to their access pages.
	for _, base := range []string{"/users/dev", "/groups/team", "/roles/ops", "/policies/Custom/dev-read", "/policies/System/AliyunRAMReadOnlyAccess"} {
		link := findOne(t, parseHTML(t, owner.get(base).body), base+"'s access link", testID("access-link"))
		if attr(link, "href") != base+"/access" {
			t.Errorf("%s: access link %q", base, attr(link, "href"))
		}
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

func TestAccessPolicyPage(t *testing.T) {
	f := newAccessFixture(t)
	path := "/policies/Custom/dev-read/access"
	p := f.owner.get(path)
	expectStatus(t, p, http.StatusOK, path)
	table := findOne(t, parseHTML(t, p.body), "the statement-use table", testID("statement-use-table"))
	rows := findAll(table, testID("statement-use-row"))
	if len(rows) != 2 {
		t.Fatalf("%d statement rows, want 2", len(rows))
	}
	if got := []string{attr(rows[0], "data-statement"), textOf(findOne(t, rows[0], "count", testID("statement-use-count"))),
		attr(rows[1], "data-statement"), textOf(findOne(t, rows[1], "count", testID("statement-use-count")))}; !slices.Equal(got, []string{"0", "1", "1", "0"}) {
		t.Errorf("statements and counts = %v, want 0:1 1:0", got)
	}
	if by := findAll(rows[0], testID("statement-use-principal")); len(by) != 1 || attr(by[0], "data-name") != "dev" {
		t.Errorf("Statement[0]'s principals: %d", len(by))
	}
	if !strings.Contains(textOf(rows[1]), "Never") {
		t.Errorf("the unused statement's row = %q, want Never", textOf(rows[1]))
	}
	expectView(t, f.harness, p, ram.EventGetServiceLastAccessedDetails, ":policy/dev-read", "", "", false, path)

	p = f.owner.getJSON(path)
	m := decodeObject(t, p, path+" JSON")
	expectKeys(t, path, m, "policyType", "policyName", "version", "days", "statements")
	if m["policyType"] != "Custom" || m["policyName"] != "dev-read" || m["version"] != "v1" || m["days"] != 90.0 {
		t.Errorf("%s JSON = %v", path, m)
	}
	sts := list(t, "statements", m["statements"])
	if len(sts) != 2 {
		t.Fatalf("statements = %v", sts)
	}
	s0 := expectKeys(t, "Statement[0]", sts[0], "statement", "effect", "count", "lastUsed", "principals")
	s1 := expectKeys(t, "Statement[1]", sts[1], "statement", "effect", "count", "lastUsed", "principals")
	if s0["statement"] != 0.0 || s0["effect"] != "Allow" || s0["count"] != 1.0 || s1["statement"] != 1.0 || s1["count"] != 0.0 {
		t.Errorf("statements = %v", sts)
	}
	expectTime(t, "Statement[0] lastUsed", s0["lastUsed"], false)
	expectTime(t, "Statement[1] lastUsed", s1["lastUsed"], true)
	if ps := list(t, "Statement[1] principals", s1["principals"]); len(ps) != 0 {
		t.Errorf("a never-used statement has principals %v", ps)
	}
	ps := list(t, "Statement[0] principals", s0["principals"])
	if len(ps) != 1 {
		t.Fatalf("Statement[0] principals = %v", ps)
	}
	pr := expectKeys(t, "a principal", ps[0], "principal", "type", "name", "count", "lastUsed")
	if pr["principal"] != "acs:ram::"+f.acct+":user/dev" || pr["type"] != "user" || pr["name"] != "dev" || pr["count"] != 1.0 {
		t.Errorf("Statement[0]'s principal = %v", pr)
	}
	expectTime(t, "the principal's lastUsed", pr["lastUsed"], false)
	expectView(t, f.harness, p, ram.EventGetServiceLastAccessedDetails, ":policy/dev-read", "", "", false, path+" JSON")

	// A system policy's page.
	m = decodeObject(t, f.owner.getJSON("/policies/System/AliyunRAMReadOnlyAccess/access"), "a system policy's JSON")
	if m["policyType"] != "System" || len(list(t, "statements", m["statements"])) == 0 {
		t.Errorf("system policy JSON = %v", m)
	}
}

// A policy named "generate" keeps its pages, and /policies/generate stays
// the draft: the fixed path has one segment, a policy's two.
func TestAccessPolicyNamedGenerate(t *testing.T) {
	f := newAccessFixture(t)
	f.owner.get("/policies/new")
	expectRedirect(t, f.owner.post("/policies", url.Values{"name": {"generate"}, "document": {accessDevRead}}), "/policies/Custom/generate",
		"create the policy generate")
	p := f.owner.get("/policies/Custom/generate")
	expectStatus(t, p, http.StatusOK, "the policy generate's page")
	findOne(t, parseHTML(t, p.body), "the policy page's access link", testID("access-link"))
	p = f.owner.get("/policies/Custom/generate/access")
	expectStatus(t, p, http.StatusOK, "the policy generate's statement use")
	findOne(t, parseHTML(t, p.body), "the statement-use table", testID("statement-use-table"))
	p = f.owner.get("/policies/generate")
	expectStatus(t, p, http.StatusOK, "the draft form")
	findOne(t, parseHTML(t, p.body), "the draft form", testID("generate-form"))
}

func TestAccessUnusedPage(t *testing.T) {
	f := newAccessFixture(t)
	p := f.owner.get("/access/unused")
	expectStatus(t, p, http.StatusOK, "/access/unused")
	doc := parseHTML(t, p.body)
	names := func(id string) []string {
		var out []string
		for _, tr := range findAll(findOne(t, doc, id, testID(id)), func(n *xhtml.Node) bool { return n.Data == "tr" && attr(n, "data-name") != "" }) {
			out = append(out, attr(tr, "data-name"))
		}
		return out
	}
	if got := names("unused-users"); !slices.Contains(got, "-idle") || slices.Contains(got, "dev") || slices.Contains(got, "reader") {
		t.Errorf("unused users = %v, want -idle and not dev or reader", got)
	}
	if got := names("unused-access-keys"); !slices.Contains(got, f.idleKey) || slices.Contains(got, f.dev.keyID) {
		t.Errorf("unused keys = %v, want -idle's and not dev's", got)
	}
	if got := names("unused-roles"); !slices.Equal(got, []string{"idle-role"}) {
		t.Errorf("unused roles = %v, want idle-role", got)
	}
	if got := names("unused-policies"); !slices.Contains(got, "-unused") || slices.Contains(got, "dev-read") {
		t.Errorf("unused policies = %v", got)
	}
	findOne(t, doc, "the statement dev-read#1", func(n *xhtml.Node) bool {
		return attr(n, "data-testid") == "unused-statement" && attr(n, "data-name") == "dev-read" && attr(n, "data-statement") == "1"
	})
	csvLink := findOne(t, doc, "the CSV link", testID("unused-csv"))
	if attr(csvLink, "href") != "/access/unused.csv?days=90" {
		t.Errorf("CSV link = %q", attr(csvLink, "href"))
	}
	expectView(t, f.harness, p, ram.EventGenerateServiceLastAccessedDetails, "*", "unused", "html", false, "/access/unused")

	p = f.owner.getJSON("/access/unused?days=7")
	m := decodeObject(t, p, "/access/unused JSON")
	expectKeys(t, "unused", m, "days", "asOf", "users", "accessKeys", "roles", "policies", "statements")
	if m["days"] != 7.0 {
		t.Errorf("days = %v", m["days"])
	}
	expectTime(t, "asOf", m["asOf"], false)
	find := func(key, field, value string, keys ...string) map[string]any {
		t.Helper()
		for _, x := range list(t, key, m[key]) {
			if x.(map[string]any)[field] == value {
				return expectKeys(t, key+" "+value, x, keys...)
			}
		}
		t.Fatalf("no %s %s in %v", key, value, m[key])
		return nil
	}
	u := find("users", "userName", "-idle", "userName", "userId", "consoleLogin", "lastLogin", "lastActivity")
	if u["consoleLogin"] != false || u["userId"] == "" {
		t.Errorf("-idle = %v", u)
	}
	expectTime(t, "-idle lastLogin", u["lastLogin"], true)
	expectTime(t, "-idle lastActivity", u["lastActivity"], true)
	k := find("accessKeys", "accessKeyId", f.idleKey, "userName", "accessKeyId", "status", "createDate", "lastUsed")
	if k["userName"] != "-idle" || k["status"] != "Active" {
		t.Errorf("-idle's key = %v", k)
	}
	expectTime(t, "key createDate", k["createDate"], false)
	expectTime(t, "key lastUsed", k["lastUsed"], true)
	expectTime(t, "idle-role lastUsed", find("roles", "roleName", "idle-role", "roleName", "lastUsed")["lastUsed"], true)
	if pol := find("policies", "policyName", "-unused", "policyType", "policyName", "lastUsed"); pol["policyType"] != "Custom" || pol["lastUsed"] != nil {
		t.Errorf("-unused = %v", pol)
	}
	var stmts []string
	for _, x := range list(t, "statements", m["statements"]) {
		s := expectKeys(t, "a statement", x, "policyType", "policyName", "version", "statement")
		stmts = append(stmts, fmt.Sprintf("%v#%v@%v", s["policyName"], s["statement"], s["version"]))
	}
	if !slices.Contains(stmts, "dev-read#1@v1") || slices.Contains(stmts, "dev-read#0@v1") {
		t.Errorf("unused statements = %v", stmts)
	}
	expectView(t, f.harness, p, ram.EventGenerateServiceLastAccessedDetails, "*", "unused", "json", false, "/access/unused JSON")

	// The CSV: its header, neutralised cells, and its event.
	p = f.owner.get("/access/unused.csv")
	expectStatus(t, p, http.StatusOK, "/access/unused.csv")
	if ct, cd := p.header.Get("Content-Type"), p.header.Get("Content-Disposition"); ct != "text/csv; charset=utf-8" || cd != `attachment; filename="unused-access.csv"` {
		t.Errorf("CSV headers: %q %q", ct, cd)
	}
	recs, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	must(t, err, "parse the CSV")
	if !slices.Equal(recs[0], []string{"kind", "name", "detail", "last_used"}) {
		t.Errorf("CSV header = %v", recs[0])
	}
	want := [][]string{{"user", "'-idle", "", "Never"}, {"accesskey", f.idleKey, "'-idle", "Never"}, {"role", "idle-role", "", "Never"},
		{"policy", "'-unused", "Custom", "Never"}, {"statement", "'-unused#0", "Custom", "Never"}, {"statement", "dev-read#1", "Custom", "Never"}}
	for _, w := range want {
		if !slices.ContainsFunc(recs, func(r []string) bool { return slices.Equal(r, w) }) {
			t.Errorf("the CSV lacks the row %q:\n%s", w, p.body)
		}
	}
	for _, r := range recs[1:] {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("CSV cell %q is not neutralised", cell)
			}
		}
	}
	expectView(t, f.harness, p, ram.EventGenerateServiceLastAccessedDetails, "*", "unused", "csv", false, "/access/unused.csv")

	// The overview's checklist leads here.
	link := findOne(t, parseHTML(t, f.owner.get("/").body), "the checklist's unused-access link", testID("checklist-unused-access"))
	if attr(link, "href") != "/access/unused" {
		t.Errorf("checklist link = %q", attr(link, "href"))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	must(t, err, "marshal")
	return string(b)
}

func TestAccessGeneratePolicy(t *testing.T) {
	f := newAccessFixture(t)
	path := "/policies/generate?principal=user/dev"
	p := f.owner.getJSON(path)
	m := decodeObject(t, p, path+" JSON")
	expectKeys(t, "draft", m, "principal", "from", "to", "document", "observed", "allowedByDraft", "calls", "denied")
	if m["principal"] != "acs:ram::"+f.acct+":user/dev" || m["observed"] != 3.0 || m["allowedByDraft"] != 3.0 {
		t.Errorf("draft = %v", m)
	}
	expectTime(t, "from", m["from"], false)
	expectTime(t, "to", m["to"], false)
	document := expectKeys(t, "document", m["document"], "Version", "Statement")
	if document["Version"] != "1" || len(list(t, "Statement", document["Statement"])) == 0 {
		t.Errorf("document = %v", document)
	}
	var called []string
	for _, c := range list(t, "calls", m["calls"]) {
		e := expectKeys(t, "a call", c, "action", "resources", "count", "allowedByDraft")
		called = append(called, e["action"].(string))
		if e["allowedByDraft"] != true || e["count"] != 1.0 {
			t.Errorf("call = %v", e)
		}
	}
	sort.Strings(called)
	if !slices.Equal(called, []string{"ram:GetRole", "ram:ListUsers", "sts:AssumeRole"}) {
		t.Errorf("calls = %v", called)
	}
	denied := list(t, "denied", m["denied"])
	if len(denied) != 1 || expectKeys(t, "a denied call", denied[0], "action", "resources", "count")["action"] != "ram:CreateUser" {
		t.Errorf("denied = %v", denied)
	}
	compact, err := json.Marshal(m["document"])
	must(t, err, "the document")
	expectView(t, f.harness, p, ram.EventGenerateServiceLastAccessedDetails, "*", "policy", "", false, path+" JSON")

	p = f.owner.get(path)
	expectStatus(t, p, http.StatusOK, path)
	doc := parseHTML(t, p.body)
	shown := rawText(findOne(t, doc, "the draft", testID("generated-policy")))
	var got, want bytes.Buffer
	must(t, json.Compact(&got, []byte(shown)), "the shown draft is JSON")
	must(t, json.Compact(&want, compact), "the JSON document")
	var a, b any
	_ = json.Unmarshal(got.Bytes(), &a)
	_ = json.Unmarshal(want.Bytes(), &b)
	if mustJSON(t, a) != mustJSON(t, b) {
		t.Errorf("the page's draft %s, want %s", got.String(), want.String())
	}
	for id, want := range map[string]string{"replay-observed": "3", "replay-allowed": "3"} {
		if v := textOf(findOne(t, doc, id, testID(id))); v != want {
			t.Errorf("%s = %q, want %q", id, v, want)
		}
	}
	if n := len(findAll(doc, testID("replay-failed"))); n != 0 {
		t.Errorf("a proven draft shows the replay failure")
	}
	expectView(t, f.harness, p, ram.EventGenerateServiceLastAccessedDetails, "*", "policy", "", false, path)

	// "Create policy from draft" opens the new-policy form filled in.
	link := findOne(t, doc, "the create link", testID("generate-create-policy"))
	if textOf(link) != "Create policy from draft" {
		t.Errorf("create link text = %q", textOf(link))
	}
	href := attr(link, "href")
	u, err := url.Parse(href)
	must(t, err, "the create link")
	if u.Path != "/policies/new" {
		t.Fatalf("create link = %q", href)
	}
	writes := writeEvents(f.harness)
	form := f.owner.get(href)
	expectStatus(t, form, http.StatusOK, "the pre-filled form")
	draft := prefillField(t, form.body, "document")
	if draft != u.Query().Get("document") || !json.Valid([]byte(draft)) {
		t.Errorf("the form's document = %q", draft)
	}
	var fromLink any
	_ = json.Unmarshal([]byte(draft), &fromLink)
	if mustJSON(t, fromLink) != mustJSON(t, b) {
		t.Errorf("the form's document %s, want the draft %s", draft, want.String())
	}
	wantDesc := "Generated from user/dev's activity " + textOf(findAll(doc, tag("time"))[0]) + " – " + textOf(findAll(doc, tag("time"))[1])
	if desc := prefillField(t, form.body, "description"); desc != wantDesc {
		t.Errorf("the form's description = %q, want %q", desc, wantDesc)
	}
	if writeEvents(f.harness) != writes {
		t.Errorf("opening the pre-filled form changed something")
	}
	// Posting it creates the policy as drafted.
	p = f.owner.post("/policies", url.Values{"name": {"dev-least"}, "description": {wantDesc}, "document": {draft}})
	expectRedirect(t, p, "/policies/Custom/dev-least", "create the drafted policy")

	// The form alone, and a role's draft.
	findOne(t, parseHTML(t, f.owner.get("/policies/generate").body), "the draft form", testID("generate-form"))
	m = decodeObject(t, f.owner.getJSON("/policies/generate?principal=role/ops&from=2020-01-01&to=2020-12-31"), "a role's old draft")
	if m["observed"] != 0.0 || len(list(t, "calls", m["calls"])) != 0 || m["from"] != "2020-01-01T00:00:00Z" || m["to"] != "2020-12-31T23:59:59Z" {
		t.Errorf("ops's draft of 2020 = %v", m)
	}
	// A period without allowed requests drafts nothing to create.
	empty := parseHTML(t, f.owner.get("/policies/generate?principal=role/ops&from=2020-01-01&to=2020-12-31").body)
	findOne(t, empty, "the empty draft's note", testID("draft-empty"))
	if n := len(findAll(empty, testID("generate-create-policy"))); n != 0 {
		t.Errorf("an empty draft offers to create a policy")
	}
}

func TestAccessBadInput(t *testing.T) {
	f := newAccessFixture(t)
	before := len(f.events())
	const daysMsg = "days must be an integer from 1 to 400"
	for _, path := range []string{"/users/dev/access", "/groups/team/access", "/roles/ops/access", "/policies/Custom/dev-read/access", "/access/unused"} {
		for _, days := range []string{"0", "abc", "401", "-1", "1.5"} {
			what := path + "?days=" + days
			p := f.owner.get(what)
			expectStatus(t, p, http.StatusBadRequest, what)
			e := findOne(t, parseHTML(t, p.body), what+"'s field error", testID("field-error"))
			if attr(e, "data-field") != "days" || textOf(e) != daysMsg {
				t.Errorf("%s: field error %s %q", what, attr(e, "data-field"), textOf(e))
			}
			expectErrors(t, f.owner.getJSON(what), http.StatusBadRequest, daysMsg, what+" JSON")
		}
	}
	p := f.owner.get("/access/unused.csv?days=401")
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "days") {
		t.Errorf("CSV with days=401: %d %q", p.status, p.body)
	}
	for _, c := range []struct{ query, field string }{
		{"principal=dev", "principal"},
		{"principal=", "principal"},
		{"principal=group/team", "principal"},
		{"principal=user/dev&from=yesterday", "from"},
		{"principal=user/dev&to=2026-13-01", "to"},
		{"principal=user/dev&from=2026-02-01&to=2026-01-01", "from"},
		{"principal=user/dev&from=2020-01-01&to=2026-01-01", "from"},
	} {
		what := "/policies/generate?" + c.query
		p := f.owner.get(what)
		expectStatus(t, p, http.StatusBadRequest, what)
		e := findOne(t, parseHTML(t, p.body), what+"'s field error", testID("field-error"))
		if attr(e, "data-field") != c.field {
			t.Errorf("%s: field error on %q, want %s", what, attr(e, "data-field"), c.field)
		}
		if n := len(findAll(parseHTML(t, p.body), testID("generated-policy"))); n != 0 {
			t.Errorf("%s shows a draft", what)
		}
		expectErrors(t, f.owner.getJSON(what), http.StatusBadRequest, "", what+" JSON")
	}
	if after := len(f.events()); after != before {
		t.Errorf("bad input recorded %d events", after-before)
	}

	// Unknown principals and policies.
	for _, path := range []string{"/users/nobody/access", "/groups/nobody/access", "/roles/nobody/access", "/policies/Custom/nobody/access",
		"/policies/System/NoSuchPolicy/access", "/policies/Other/dev-read/access", "/policies/generate?principal=user/nobody",
		"/policies/generate?principal=role/nobody"} {
		expectStatus(t, f.owner.get(path), http.StatusNotFound, path)
		expectErrors(t, f.owner.getJSON(path), http.StatusNotFound, "", path+" JSON")
	}
}

func TestAccessPagesEscapeNames(t *testing.T) {
	f := newAccessFixture(t)
	script := "<script>alert(1)</script>"
	img := `"><img src=x onerror=alert(1)>`
	for _, path := range []string{"/users/" + url.PathEscape(script) + "/access?days=abc", "/groups/" + url.PathEscape(img) + "/access?days=0",
		"/roles/" + url.PathEscape(script) + "/access?days=0", "/policies/Custom/" + url.PathEscape(img) + "/access?days=abc",
		"/policies/" + url.PathEscape(script) + "/x/access?days=abc", "/policies/generate?principal=" + url.QueryEscape("user/"+script) + "&from=" + url.QueryEscape(img),
		"/users/" + url.PathEscape(script) + "/access", "/policies/Custom/" + url.PathEscape(img) + "/access"} {
		for _, p := range []page{f.owner.get(path), f.owner.getJSON(path)} {
			if p.status < 400 || p.status >= 500 {
				t.Errorf("%s: %d", path, p.status)
			}
			if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") {
				t.Errorf("%s: the name is not escaped: %.2000s", path, p.body)
			}
		}
	}
	// The draft form shows the typed principal back, escaped.
	p := f.owner.get("/policies/generate?principal=" + url.QueryEscape("user/"+script))
	expectStatus(t, p, http.StatusNotFound, "a draft of an unknown user")
	p = f.owner.get("/policies/generate?principal=" + url.QueryEscape(script))
	expectStatus(t, p, http.StatusBadRequest, "a draft of a bad principal")
	if !strings.Contains(p.body, `value="`+html.EscapeString(script)+`"`) {
		t.Errorf("the typed principal is not shown escaped: %.3000s", p.body)
	}
}

func TestAccessAuthorization(t *testing.T) {
	f := newAccessFixture(t)
	reader := f.reader
	// AliyunRAMReadOnlyAccess's ram:Get* opens the per-principal and
	// per-policy pages…
	for _, path := range []string{"/users/dev/access", "/groups/team/access", "/roles/ops/access", "/policies/Custom/dev-read/access"} {
		p := reader.get(path)
		expectStatus(t, p, http.StatusOK, "the reader: "+path)
		if n := len(findAll(parseHTML(t, p.body), testID("access-generate"))); n != 0 {
			t.Errorf("the reader is offered a draft on %s", path)
		}
		decodeObject(t, reader.getJSON(path), "the reader: "+path+" JSON")
	}
	// …but not the unused list or drafts.
	for _, path := range []string{"/access/unused", "/access/unused.csv", "/policies/generate", "/policies/generate?principal=user/dev"} {
		report := "unused"
		if strings.HasPrefix(path, "/policies/") {
			report = "policy"
		}
		p := reader.get(path)
		expectStatus(t, p, http.StatusForbidden, "the reader: "+path)
		if d := findOne(t, parseHTML(t, p.body), "the denial", testID("denied-action")); textOf(d) != ram.ActionGenerateServiceLastAccessedDetails {
			t.Errorf("%s: denied action %q", path, textOf(d))
		}
		expectView(t, f.harness, p, ram.EventGenerateServiceLastAccessedDetails, "*", report, "", true, "the reader: "+path)
		p = reader.getJSON(path)
		expectErrors(t, p, http.StatusForbidden, "", "the reader: "+path+" JSON")
		expectView(t, f.harness, p, ram.EventGenerateServiceLastAccessedDetails, "*", report, "", true, "the reader: "+path+" JSON")
	}
	// A user with no policy is refused the per-principal pages, recorded.
	nobody := f.ramUser(f.owner, "nobody", nil, nil)
	// Whether the name exists or not, the refusal is the same: it tells nothing.
	for _, c := range []struct{ path, resource string }{{"/users/dev/access", ":user/dev"}, {"/roles/ops/access", ":role/ops"},
		{"/policies/Custom/dev-read/access", ":policy/dev-read"}, {"/users/ghost/access", ":user/ghost"},
		{"/groups/ghost/access", ":group/ghost"}, {"/roles/ghost/access", ":role/ghost"},
		{"/policies/Custom/ghost/access", ":policy/ghost"}, {"/policies/System/Ghost/access", ":policy/Ghost"}} {
		p := nobody.get(c.path)
		expectStatus(t, p, http.StatusForbidden, "nobody: "+c.path)
		expectView(t, f.harness, p, ram.EventGetServiceLastAccessedDetails, c.resource, "", "", true, "nobody: "+c.path)
		expectErrors(t, nobody.getJSON(c.path), http.StatusForbidden, "", "nobody: "+c.path+" JSON")
	}
}

// A draft the replay does not prove is shown in red, with no way to create
// it, whatever else the page is given.
func TestAccessUnprovenDraftOffersNoCreate(t *testing.T) {
	var buf bytes.Buffer
	m := views.GeneratedPolicy{Drafted: true, Document: `{"Version":"1","Statement":[]}`, Observed: "2", AllowedByDraft: "1",
		Proven: false, MayCreate: true, CreateHref: "/policies/new?document=x"}
	must(t, views.GeneratedPolicyPage(m).Render(context.Background(), &buf), "render")
	doc := parseHTML(t, buf.String())
	findOne(t, doc, "the replay failure", testID("replay-failed"))
	if n := len(findAll(doc, testID("generate-create-policy"))); n != 0 {
		t.Errorf("an unproven draft offers %d create links", n)
	}
	if got := textOf(findOne(t, doc, "replay-allowed", testID("replay-allowed"))) + "/" + textOf(findOne(t, doc, "replay-observed", testID("replay-observed"))); got != "1/2" {
		t.Errorf("replay figures = %s, want 1/2", got)
	}
}

// An OpenAPI call answered a moment ago is on the page, though its record
// may still be in the audit journal: the page waits for it.
func TestAccessPageCountsTheCallJustAnswered(t *testing.T) {
	f := newAccessFixture(t)
	dev := f.sdkClient(f.dev.keyID, f.dev.secret)
	count := func() float64 {
		m := decodeObject(t, f.owner.getJSON("/users/dev/access"), "dev JSON")
		for _, a := range list(t, "actions", m["actions"]) {
			if e := a.(map[string]any); e["action"] == "ram:ListUsers" {
				return e["allowedCount"].(float64)
			}
		}
		t.Fatal("ram:ListUsers is not on dev's page")
		return 0
	}
	before := count()
	for i := 1; i <= 5; i++ {
		lu := ramsdk.CreateListUsersRequest()
		f.at(lu)
		_, err := dev.ListUsers(lu)
		must(t, err, "dev lists users")
		if n := count(); n != before+float64(i) {
			t.Fatalf("after %d more ListUsers the page counts %v, want %v", i, n, before+float64(i))
		}
	}
}

// A console change counts its own decision, not the reads its page made
// on the way (they are page views).
func TestAccessConsoleChangeCountsItsOwnDecision(t *testing.T) {
	f := newAccessFixture(t)
	editor := f.ramUser(f.owner, "editor", []string{"AliyunRAMFullAccess"}, nil)
	root := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	role, err := f.svc.GetRole(context.Background(), root, "ops")
	must(t, err, "read ops")
	expectStatus(t, editor.get("/roles/ops/edit"), http.StatusOK, "the edit form")
	p := editor.post("/roles/ops/edit", url.Values{"description": {"release"}, "max_session_duration": {"3600"},
		"trust_policy": {role.AssumeRolePolicy}, "preset": {"custom"}})
	expectRedirect(t, p, "/roles/ops", "update ops")
	counts := map[string]float64{}
	for _, a := range list(t, "actions", decodeObject(t, f.owner.getJSON("/users/editor/access"), "editor JSON")["actions"]) {
		e := a.(map[string]any)
		counts[e["action"].(string)] = e["allowedCount"].(float64)
	}
	if counts["ram:UpdateRole"] != 1 || counts["ram:GetRole"] != 0 {
		t.Errorf("editor's counts: UpdateRole %v, GetRole %v; want 1 and 0", counts["ram:UpdateRole"], counts["ram:GetRole"])
	}
}

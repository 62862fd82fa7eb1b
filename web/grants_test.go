package web

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ramconsole/store"
)

// grantsFixture is an account with six grants, a minute apart, newest
// last: alice (ECS read-only, then ReadLogs), -dash (OSS), group devs (ECS
// read-only), role ops (ReadLogs), bob (Log read-only).
func grantsFixture(t *testing.T) (*harness, *browser) {
	t.Helper()
	h := newHarness(t)
	owner, _ := h.setupOwner()
	for _, u := range []string{"alice", "-dash", "bob"} {
		owner.get("/users/new")
		if p := owner.post("/users", url.Values{"name": {u}}); p.status != http.StatusSeeOther {
			t.Fatalf("create user %s: %d %s", u, p.status, p.body)
		}
	}
	owner.get("/groups/new")
	expectRedirect(t, owner.post("/groups", url.Values{"name": {"devs"}}), "/groups/devs", "create group")
	owner.get("/roles/new")
	if p := owner.post("/roles", url.Values{"name": {"ops"}, "preset": {"account"}, "max_session_duration": {"3600"}}); p.status != http.StatusSeeOther {
		t.Fatalf("create role: %d %s", p.status, p.body)
	}
	owner.get("/policies/new")
	expectRedirect(t, owner.post("/policies", url.Values{"name": {"ReadLogs"}, "document": {
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"log:Get*","Resource":"*"}]}`}}), "/policies/Custom/ReadLogs", "create policy")
	for _, g := range []struct{ base, typ, policy string }{
		{"/users/alice", "System", "AliyunECSReadOnlyAccess"},
		{"/users/alice", "Custom", "ReadLogs"},
		{"/users/-dash", "System", "AliyunOSSFullAccess"},
		{"/groups/devs", "System", "AliyunECSReadOnlyAccess"},
		{"/roles/ops", "Custom", "ReadLogs"},
		{"/users/bob", "System", "AliyunLogReadOnlyAccess"},
	} {
		h.clock.Advance(time.Minute)
		owner.get(g.base)
		if p := owner.post(g.base+"/policies", url.Values{"policy_type": {g.typ}, "policy_name": {g.policy}}); p.status != http.StatusSeeOther {
			t.Fatalf("attach %s to %s: %d %s", g.policy, g.base, p.status, p.body)
		}
	}
	owner.get("/") // takes the last attachment's flash
	return h, owner
}

var grantRowRE = regexp.MustCompile(`<tr data-testid="grant-row" data-principal-type="([^"]*)" data-principal="([^"]*)" data-policy-type="([^"]*)" data-policy="([^"]*)">`)

// grantRows are a grants page's rows as type/principal:policyType/policy.
func grantRows(body string) []string {
	var out []string
	for _, m := range grantRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]+"/"+m[2]+":"+m[3]+"/"+m[4]))
	}
	return out
}

func expectGrants(t *testing.T, p page, what string, want ...string) {
	t.Helper()
	expectStatus(t, p, http.StatusOK, what)
	if got := grantRows(p.body); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: rows = %q, want %q", what, got, want)
	}
}

// inProcess runs one request through the app without a network between
// (a URL longer than net/http's header limit reaches the handlers), with
// br's cookies.
func (b *browser) inProcess(path string, header http.Header) page {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	u, _ := url.Parse(b.h.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.h.app.ServeHTTP(rec, req)
	return page{status: rec.Code, header: rec.Header(), body: rec.Body.String()}
}

func (b *browser) getJSON(path string) page {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.h.srv.URL+path, nil)
	req.Header.Set("Accept", "application/json")
	return b.do(req)
}

func TestGrantsPageListsEveryAttachmentNewestFirst(t *testing.T) {
	h, owner := grantsFixture(t)
	p := owner.get("/grants")
	expectGrants(t, p, "GET /grants", "user/bob:System/AliyunLogReadOnlyAccess", "role/ops:Custom/ReadLogs",
		"group/devs:System/AliyunECSReadOnlyAccess", "user/-dash:System/AliyunOSSFullAccess", "user/alice:Custom/ReadLogs",
		"user/alice:System/AliyunECSReadOnlyAccess")
	for _, want := range []string{`data-testid="grants-table"`, `<time datetime="2026-11-26T09:06:40Z"`, `href="/users/bob"`,
		`href="/roles/ops"`, `href="/policies/Custom/ReadLogs"`, `data-testid="grants-export-csv"`,
		`href="/roles/ops/policies/Custom/ReadLogs/detach?from=grants"`, `href="/grants"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the grants page lacks %s", want)
		}
	}
	if n := strings.Count(p.body, `data-testid="grant-revoke"`); n != 6 {
		t.Errorf("the owner sees %d revoke links, want 6", n)
	}
	if strings.Contains(p.body, `rel="next"`) {
		t.Error("one page of six grants links to a next page")
	}
	// The navigation lists it next to Policies.
	if i, j := strings.Index(p.body, `href="/policies"`), strings.Index(p.body, `href="/grants"`); i < 0 || j < i {
		t.Errorf("navigation: Policies at %d, Grants at %d; want Grants after Policies", i, j)
	}
	_ = h
}

func TestGrantsFilters(t *testing.T) {
	_, owner := grantsFixture(t)
	for _, tc := range []struct {
		rule, query string
		want        []string
	}{
		{"q finds a principal's name, ignoring case", "q=ALICE", []string{"user/alice:Custom/ReadLogs", "user/alice:System/AliyunECSReadOnlyAccess"}},
		{"q finds a part of a policy's name", "q=readlog", []string{"role/ops:Custom/ReadLogs", "user/alice:Custom/ReadLogs"}},
		{"q finds a part anywhere in a name", "q=ash", []string{"user/-dash:System/AliyunOSSFullAccess"}},
		{"q's underscore is no wildcard", "q=a_i", nil},
		{"principal_type keeps groups", "principal_type=group", []string{"group/devs:System/AliyunECSReadOnlyAccess"}},
		{"principal_type keeps roles", "principal_type=role", []string{"role/ops:Custom/ReadLogs"}},
		{"policy_type keeps custom policies", "policy_type=Custom", []string{"role/ops:Custom/ReadLogs", "user/alice:Custom/ReadLogs"}},
		{"policy is an exact name", "policy=AliyunECSReadOnlyAccess", []string{"group/devs:System/AliyunECSReadOnlyAccess", "user/alice:System/AliyunECSReadOnlyAccess"}},
		{"policy is not a prefix", "policy=AliyunECS", nil},
		{"filters combine", "principal_type=user&policy_type=System", []string{"user/bob:System/AliyunLogReadOnlyAccess",
			"user/-dash:System/AliyunOSSFullAccess", "user/alice:System/AliyunECSReadOnlyAccess"}},
	} {
		p := owner.get("/grants?" + tc.query)
		expectGrants(t, p, tc.rule, tc.want...)
		if len(tc.want) == 0 && !strings.Contains(p.body, "No grant matches this filter") {
			t.Errorf("%s: an empty result does not say so", tc.rule)
		}
		// The filter stays in the form and in the export link.
		v, _ := url.ParseQuery(tc.query)
		if want := html.EscapeString("/grants/export.csv?" + v.Encode()); !strings.Contains(p.body, want) {
			t.Errorf("%s: the export link is not %s", tc.rule, want)
		}
	}
}

// seedGrants adds n users with one policy each straight through the store.
func seedGrants(t testing.TB, h *harness, n int, prefix string) {
	t.Helper()
	ctx := context.Background()
	err := h.st.Update(ctx, func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			u := &store.User{UserID: fmt.Sprintf("7%015d", i), UserName: fmt.Sprintf("%s%03d", prefix, i), DisplayName: "Seeded"}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			if err := tx.Attach(ctx, store.Attachment{PolicyType: "System", PolicyName: "AliyunOSSReadOnlyAccess", UserID: u.UserID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

var nextRE = regexp.MustCompile(`<a href="([^"]+)" rel="next">`)

func TestGrantsPagingByCursor(t *testing.T) {
	h, owner := grantsFixture(t)
	seedGrants(t, h, 60, "seed-")
	// 66 grants: 50 on the first page, 16 on the second; the filter
	// travels with the cursor.
	var all []string
	path := "/grants?principal_type=user"
	for pages := 0; path != ""; pages++ {
		if pages > 2 {
			t.Fatal("more than two pages of 64 user grants")
		}
		p := owner.get(path)
		expectStatus(t, p, http.StatusOK, path)
		rows := grantRows(p.body)
		all = append(all, rows...)
		path = ""
		if m := nextRE.FindStringSubmatch(p.body); m != nil {
			path = html.UnescapeString(m[1])
			if len(rows) != 50 {
				t.Errorf("a page with a next link has %d rows, want 50", len(rows))
			}
			if !strings.Contains(path, "principal_type=user") || !strings.Contains(path, "cursor=") {
				t.Errorf("next link %q lost the filter or has no cursor", path)
			}
		}
	}
	if len(all) != 64 {
		t.Fatalf("walked %d user grants, want 64", len(all))
	}
	seen := map[string]bool{}
	for _, r := range all {
		if seen[r] {
			t.Errorf("%s listed twice", r)
		}
		seen[r] = true
		if strings.HasPrefix(r, "group/") || strings.HasPrefix(r, "role/") {
			t.Errorf("%s listed under principal_type=user", r)
		}
	}
	// The JSON carries the same cursor.
	p := owner.getJSON("/grants")
	var doc struct {
		Grants []map[string]any `json:"grants"`
		Next   string           `json:"next"`
	}
	if err := json.Unmarshal([]byte(p.body), &doc); err != nil {
		t.Fatalf("JSON: %v: %s", err, p.body)
	}
	if len(doc.Grants) != 50 || doc.Next == "" {
		t.Fatalf("JSON first page: %d grants, next %q", len(doc.Grants), doc.Next)
	}
	p = owner.getJSON("/grants?cursor=" + url.QueryEscape(doc.Next))
	doc.Next = "unset"
	if err := json.Unmarshal([]byte(p.body), &doc); err != nil || len(doc.Grants) != 16 || doc.Next != "" {
		t.Errorf("JSON second page: %d grants, next %q, %v", len(doc.Grants), doc.Next, err)
	}
}

func TestGrantsJSONShape(t *testing.T) {
	_, owner := grantsFixture(t)
	p := owner.getJSON("/grants?principal_type=role")
	expectStatus(t, p, http.StatusOK, "JSON")
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(p.body), &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"grants": []any{map[string]any{"principalType": "role", "principalName": "ops", "policyType": "Custom",
		"policyName": "ReadLogs", "attachDate": "2026-11-26T09:05:40Z"}}, "next": ""}
	if fmt.Sprint(doc) != fmt.Sprint(want) {
		t.Errorf("JSON = %v, want %v", doc, want)
	}
	// An empty result is an empty list, not null.
	p = owner.getJSON("/grants?q=nothing-like-this")
	if !strings.Contains(p.body, `"grants":[]`) {
		t.Errorf("empty JSON = %s", p.body)
	}
}

func TestGrantsCSVExport(t *testing.T) {
	h, owner := grantsFixture(t)
	// Names of the console's rules cannot begin with =, + or @; one that
	// came in another way is neutralised all the same.
	ctx := context.Background()
	err := h.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.CreateUser(ctx, &store.User{UserID: "7999999999999999", UserName: "=HYPERLINK(1)", DisplayName: "x"}); err != nil {
			return err
		}
		return tx.Attach(ctx, store.Attachment{PolicyType: "Custom", PolicyName: "@SUM", UserID: "7999999999999999"})
	})
	if err != nil {
		t.Fatal(err)
	}
	p := owner.get("/grants/export.csv")
	expectStatus(t, p, http.StatusOK, "export")
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := p.header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "grants.csv") {
		t.Errorf("Content-Disposition = %q", cd)
	}
	recs, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"PrincipalType", "PrincipalName", "PolicyType", "PolicyName", "AttachDate"},
		{"user", "'=HYPERLINK(1)", "Custom", "'@SUM", "2026-11-26T09:06:40Z"},
		{"user", "bob", "System", "AliyunLogReadOnlyAccess", "2026-11-26T09:06:40Z"},
		{"role", "ops", "Custom", "ReadLogs", "2026-11-26T09:05:40Z"},
		{"group", "devs", "System", "AliyunECSReadOnlyAccess", "2026-11-26T09:04:40Z"},
		{"user", "'-dash", "System", "AliyunOSSFullAccess", "2026-11-26T09:03:40Z"},
		{"user", "alice", "Custom", "ReadLogs", "2026-11-26T09:02:40Z"},
		{"user", "alice", "System", "AliyunECSReadOnlyAccess", "2026-11-26T09:01:40Z"},
	}
	if fmt.Sprint(recs) != fmt.Sprint(want) {
		t.Errorf("CSV =\n%v\nwant\n%v", recs, want)
	}
	// The export is of the filtered set, the whole of it (not a page).
	seedGrants(t, h, 60, "seed-")
	p = owner.get("/grants/export.csv?principal_type=user&q=seed")
	if recs, _ := csv.NewReader(strings.NewReader(p.body)).ReadAll(); len(recs) != 61 {
		t.Errorf("filtered export has %d lines, want header + 60", len(recs))
	}
	p = owner.get("/grants/export.csv?q=no-such-grant")
	if strings.TrimSpace(p.body) != "PrincipalType,PrincipalName,PolicyType,PolicyName,AttachDate" {
		t.Errorf("empty export = %q, want the header alone", p.body)
	}
}

var revokeRE = regexp.MustCompile(`<a class="row-action" href="([^"]+)" data-testid="grant-revoke">`)

func TestGrantsRevokeIsConfirmedDetach(t *testing.T) {
	h, owner := grantsFixture(t)
	p := owner.get("/grants?principal_type=role")
	m := revokeRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no revoke link: %s", p.body)
	}
	confirm := html.UnescapeString(m[1])
	if confirm != "/roles/ops/policies/Custom/ReadLogs/detach?from=grants" {
		t.Fatalf("revoke link = %q", confirm)
	}
	// The link only asks.
	p = owner.get(confirm)
	expectStatus(t, p, http.StatusOK, "revoke confirmation")
	for _, want := range []string{`data-testid="confirm-form"`, `action="/roles/ops/policies/Custom/ReadLogs/detach"`,
		`name="from" value="grants"`, `<a href="/grants">Cancel</a>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the confirmation lacks %s", want)
		}
	}
	expectGrants(t, owner.get("/grants?principal_type=role"), "before confirming", "role/ops:Custom/ReadLogs")
	// Confirmed: the role's detach, back to the grants.
	owner.get(confirm)
	expectRedirect(t, owner.post("/roles/ops/policies/Custom/ReadLogs/detach", url.Values{"from": {"grants"}}), "/grants", "confirm revoke")
	p = owner.get("/grants")
	if !strings.Contains(p.body, "Policy ReadLogs detached.") {
		t.Error("no flash after the revoke")
	}
	if rows := grantRows(p.body); len(rows) != 5 || strings.Contains(fmt.Sprint(rows), "role/ops") {
		t.Errorf("after the revoke: %v", rows)
	}
	var ev *store.StoredEvent
	for _, e := range h.events() { // newest first
		if e.EventName == "DetachPolicyFromRole" {
			ev = &e
			break
		}
	}
	if ev == nil || ev.IsError || ev.RequestParameters["RoleName"] != "ops" || ev.RequestParameters["PolicyName"] != "ReadLogs" ||
		ev.RequestParameters["PolicyType"] != "Custom" || ev.EventType != "ConsoleOperation" {
		t.Errorf("audit event of the revoke = %+v", ev)
	}
	// A user's grant goes the same way, through the user's detach.
	p = owner.get("/grants?q=-dash")
	m = revokeRE.FindStringSubmatch(p.body)
	if m == nil || html.UnescapeString(m[1]) != "/users/-dash/policies/System/AliyunOSSFullAccess/detach?from=grants" {
		t.Fatalf("user revoke link: %v", m)
	}
	owner.get(html.UnescapeString(m[1]))
	expectRedirect(t, owner.post("/users/-dash/policies/System/AliyunOSSFullAccess/detach", url.Values{"from": {"grants"}}), "/grants", "revoke a user's grant")
	expectGrants(t, owner.get("/grants?q=-dash"), "after revoking -dash's grant")
}

func TestGrantsReadOnlyViewer(t *testing.T) {
	h, owner := grantsFixture(t)
	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	p := reader.get("/grants?principal_type=role")
	expectGrants(t, p, "read-only viewer", "role/ops:Custom/ReadLogs")
	if strings.Contains(p.body, `data-testid="grant-revoke"`) || strings.Contains(p.body, "/detach") {
		t.Error("a read-only viewer is offered a revoke")
	}
	if !strings.Contains(p.body, `href="/grants"`) {
		t.Error("a read-only viewer's navigation lacks Grants")
	}
	before := h.countDenied()
	expectStatus(t, reader.get("/roles/ops/policies/Custom/ReadLogs/detach?from=grants"), http.StatusForbidden, "read-only revoke confirmation")
	expectStatus(t, reader.post("/roles/ops/policies/Custom/ReadLogs/detach", url.Values{"from": {"grants"}}), http.StatusForbidden, "read-only revoke")
	expectGrants(t, owner.get("/grants?principal_type=role"), "after the refused revoke", "role/ops:Custom/ReadLogs")
	if h.countDenied() < before+2 {
		t.Errorf("refused revokes audited: %d, want %d", h.countDenied()-before, 2)
	}
}

func TestGrantsNeedListPolicies(t *testing.T) {
	h, owner := grantsFixture(t)
	nobody := h.ramUser(owner, "nobody", nil, nil)
	for _, path := range []string{"/grants", "/grants/export.csv"} {
		p := nobody.get(path)
		expectStatus(t, p, http.StatusForbidden, path+" without ram:ListPolicies")
		if !strings.Contains(p.body, `data-testid="denied-action">ram:ListPolicies<`) || !strings.Contains(p.body, "<code>ram:ListPolicies</code>") {
			t.Errorf("%s: the denial does not name ram:ListPolicies: %s", path, p.body)
		}
	}
	if p := nobody.get("/me"); strings.Contains(p.body, `href="/grants"`) {
		t.Error("the navigation offers Grants to a viewer who may not open it")
	}

	// ram:ListPolicies without ram:ListUsers: the users' grants are left
	// out, and the page says what would show them.
	doc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:ListPolicies","ram:ListGroups","ram:ListRoles"],"Resource":"*"}]}`
	partial := h.ramUser(owner, "partial", nil, map[string]string{"ListAllButUsers": doc})
	p := partial.get("/grants")
	expectGrants(t, p, "without ram:ListUsers", "role/ops:Custom/ReadLogs", "group/devs:System/AliyunECSReadOnlyAccess")
	if !strings.Contains(p.body, `data-kind="user">You need <code>ram:ListUsers</code>`) {
		t.Errorf("no note about ram:ListUsers: %s", p.body)
	}
	p = partial.get("/grants?principal_type=user")
	expectStatus(t, p, http.StatusUnprocessableEntity, "principal_type=user without ram:ListUsers")
	if !strings.Contains(p.body, "ram:ListUsers") {
		t.Error("the refusal does not name ram:ListUsers")
	}
	p = partial.get("/grants/export.csv")
	if strings.Contains(p.body, "alice") || strings.Count(p.body, "\n") != 3 {
		t.Errorf("export without ram:ListUsers = %q", p.body)
	}
}

func TestGrantsBadInput(t *testing.T) {
	h, owner := grantsFixture(t)
	var attachments int
	db := h.openDB()
	count := func() int {
		if err := db.QueryRow("SELECT count(*) FROM policy_attachments").Scan(&attachments); err != nil {
			t.Fatal(err)
		}
		return attachments
	}
	before, events := count(), len(h.events())
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		rule, query, field, message string
	}{
		{"an unknown principal type", "principal_type=admin", "principal_type", "Choose user, group or role."},
		{"an unknown policy type", "policy_type=Managed", "policy_type", "Choose System or Custom."},
		{"a policy name no policy can have", "policy=" + url.QueryEscape("Read Logs!"), "policy", "Use letters, digits and hyphens only."},
		{"a cursor that is not base64", "cursor=%21%21%21", "cursor", "The page link is not one this server made"},
		{"a cursor of no number", "cursor=" + b64("alice"), "cursor", "The page link is not one this server made"},
		{"a cursor of a negative number", "cursor=" + b64("-5"), "cursor", "The page link is not one this server made"},
		{"a search longer than any name", "q=" + strings.Repeat("a", 129), "q", "at most 128 characters"},
		{"a search with a control character", "q=a%00b", "q", "without control characters"},
	} {
		for _, path := range []string{"/grants?", "/grants/export.csv?"} {
			if tc.field == "cursor" && path != "/grants?" {
				continue // the export is of the whole filtered set: it takes no cursor
			}
			p := owner.get(path + tc.query)
			expectStatus(t, p, http.StatusUnprocessableEntity, tc.rule+" ("+path+")")
			if !strings.Contains(p.body, `data-field="`+tc.field+`"`) || !strings.Contains(p.body, html.EscapeString(tc.message)) {
				t.Errorf("%s (%s): no message %q at %s: %s", tc.rule, path, tc.message, tc.field, p.body)
			}
			if strings.Contains(p.body, `data-testid="grant-row"`) {
				t.Errorf("%s (%s): rows listed for a refused filter", tc.rule, path)
			}
		}
		p := owner.getJSON("/grants?" + tc.query)
		var doc struct{ Errors []string }
		if p.status != http.StatusUnprocessableEntity || json.Unmarshal([]byte(p.body), &doc) != nil || len(doc.Errors) == 0 ||
			!strings.HasPrefix(doc.Errors[0], tc.field+": ") {
			t.Errorf("%s as JSON: %d %s", tc.rule, p.status, p.body)
		}
	}
	// A 1 MB search: refused with the message (net/http itself answers
	// 431 to a request line that long; the handler must not need it).
	huge := strings.Repeat("x", 1<<20)
	p := owner.inProcess("/grants?q="+huge, nil)
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `data-field="q"`) {
		t.Errorf("1 MB q: %d", p.status)
	}
	if len(p.body) > 100_000 {
		t.Errorf("1 MB q: the page repeats it (%d bytes)", len(p.body))
	}
	if p := owner.inProcess("/grants?q="+huge, http.Header{"Accept": {"application/json"}}); p.status != http.StatusUnprocessableEntity {
		t.Errorf("1 MB q as JSON: %d", p.status)
	}
	if p := owner.get("/grants?q=" + huge); p.status >= 500 {
		t.Errorf("1 MB q over the network: %d", p.status)
	}
	if count() != before {
		t.Errorf("bad input changed the attachments: %d, was %d", attachments, before)
	}
	if n := len(h.events()); n != events {
		t.Errorf("bad filters recorded %d events", n-events)
	}
}

package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestAddPermissionsPanel: principals × policies picked, searched without
// JavaScript (the ticks survive a search), reviewed, granted; more than five
// policies is a message, not a grant.
func TestAddPermissionsPanel(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	for _, n := range []string{"ana", "ben"} {
		owner.get("/users/new")
		expectRedirect(t, owner.post("/users", url.Values{"name": {n}}), "/users/"+n, "create "+n)
	}
	p := owner.get("/permissions/new?kind=user&user=ana&q=readonly&policy=System:AdministratorAccess")
	expectStatus(t, p, 200, "the panel")
	for _, want := range []string{`name="user" value="ana" checked`, `name="policy" value="System:AdministratorAccess" checked`,
		`value="System:AliyunRAMReadOnlyAccess"`, "read-only access to Resource Access Management"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the panel lacks %s", want)
		}
	}
	if strings.Contains(p.body, `value="System:AliyunECSFullAccess"`) {
		t.Errorf("the policy search does not filter")
	}
	// Principals found by a search.
	p = owner.get("/permissions/new?kind=user&user=ana&pq=b")
	if !strings.Contains(p.body, `name="user" value="ben"`) {
		t.Errorf("the principal search does not find ben")
	}
	// Six policies: refused with a message, nothing attached.
	six := "/permissions/review?user=ana"
	for _, n := range []string{"AdministratorAccess", "AliyunRAMReadOnlyAccess", "AliyunECSReadOnlyAccess", "AliyunECSFullAccess", "AliyunOSSReadOnlyAccess", "AliyunRAMFullAccess"} {
		six += "&policy=System:" + n
	}
	p = owner.get(six)
	expectStatus(t, p, http.StatusUnprocessableEntity, "six policies")
	if !strings.Contains(p.body, `data-field="policy"`) || !strings.Contains(p.body, "At most 5 policies") {
		t.Errorf("six policies are not refused with a message")
	}
	// Two users × two policies.
	p = owner.get("/permissions/review?user=ana&user=ben&policy=System:AliyunRAMReadOnlyAccess&policy=System:AliyunECSReadOnlyAccess")
	expectStatus(t, p, 200, "review")
	if !strings.Contains(p.body, "Attach 4 permission(s)?") {
		t.Errorf("the review does not count 4 attachments")
	}
	form := url.Values{"user": {"ana", "ben"}, "policy": {"System:AliyunRAMReadOnlyAccess", "System:AliyunECSReadOnlyAccess"}}
	expectRedirect(t, owner.post("/permissions/users", form), "/users", "grant")
	for _, n := range []string{"ana", "ben"} {
		p = owner.get("/users/" + n)
		if !strings.Contains(p.body, `href="/policies/System/AliyunRAMReadOnlyAccess"`) || !strings.Contains(p.body, `href="/policies/System/AliyunECSReadOnlyAccess"`) {
			t.Errorf("%s lacks the granted policies", n)
		}
	}
	// Granting again changes nothing and says so.
	owner.get("/permissions/review?user=ana&policy=System:AliyunRAMReadOnlyAccess")
	expectRedirect(t, owner.post("/permissions/users", url.Values{"user": {"ana"}, "policy": {"System:AliyunRAMReadOnlyAccess"}}), "/users/ana", "grant again")
	if p = owner.get("/users/ana"); !strings.Contains(p.body, "1 already in place") {
		t.Errorf("a repeated grant is not reported as already in place")
	}
}

// TestMistypedNamesSuggest: a mistyped policy, member or group name keeps
// the typed text and suggests the closest existing name.
func TestMistypedNamesSuggest(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"carmen"}})
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"developers"}})

	owner.get("/users/carmen")
	p := owner.post("/users/carmen/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AdministratorAcess"}})
	expectStatus(t, p, http.StatusSeeOther, "a mistyped policy")
	p = owner.get(p.header.Get("Location"))
	for _, want := range []string{`value="AdministratorAcess"`, "Did you mean", ">AdministratorAccess</a>", `name="user" value="carmen" checked`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("after a mistyped policy the panel lacks %s", want)
		}
	}
	owner.get("/groups/developers")
	p = owner.post("/groups/developers/members", url.Values{"user": {"carmne"}})
	expectStatus(t, p, http.StatusSeeOther, "a mistyped member")
	p = owner.get(p.header.Get("Location"))
	for _, want := range []string{`value="carmne"`, "No user is named", ">carmen</a>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("after a mistyped member the picker lacks %s", want)
		}
	}
	owner.get("/users/carmen")
	expectRedirect(t, owner.post("/users/carmen/groups", url.Values{"group": {"developer"}}), "/users/carmen", "a mistyped group")
	if p = owner.get("/users/carmen"); !strings.Contains(p.body, "Did you mean developers?") {
		t.Errorf("a mistyped group does not suggest developers")
	}
	// The pickers: ticking members, choosing a group from a list.
	p = owner.get("/groups/developers/members/add?q=car")
	if !strings.Contains(p.body, `name="user" value="carmen"`) {
		t.Errorf("the member picker does not list carmen")
	}
	expectRedirect(t, owner.post("/groups/developers/members", url.Values{"user": {"carmen"}}), "/groups/developers", "add by picker")
	p = owner.get("/users/carmen")
	if !strings.Contains(p.body, `href="/groups/developers"`) {
		t.Errorf("carmen is not in developers")
	}
}

// TestBulkActions: the users ticked on the list are added to groups and
// deleted behind a confirmation that needs their number typed.
func TestBulkActions(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	for _, n := range []string{"u1", "u2", "u3"} {
		owner.get("/users/new")
		owner.post("/users", url.Values{"name": {n}})
	}
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"ops"}})
	p := owner.get("/bulk/users/add-to-group?user=u1&user=u2")
	expectStatus(t, p, 200, "bulk add page")
	if !strings.Contains(p.body, `name="group" value="ops"`) {
		t.Errorf("the bulk page does not offer ops")
	}
	expectStatus(t, owner.post("/bulk/users/add-to-group", url.Values{"user": {"u1", "u2"}}), http.StatusUnprocessableEntity, "no group ticked")
	expectRedirect(t, owner.post("/bulk/users/add-to-group", url.Values{"user": {"u1", "u2"}, "group": {"ops"}}), "/users", "bulk add")
	if p = owner.get("/groups/ops"); strings.Count(p.body, `<td><a href="/users/u`) != 2 {
		t.Errorf("ops does not have u1 and u2 as members")
	}
	p = owner.get("/bulk/users/delete?user=u1&user=u3")
	expectStatus(t, p, 200, "bulk delete page")
	if !strings.Contains(p.body, "membership of group ops") || !strings.Contains(p.body, "Type 2 to confirm") {
		t.Errorf("the bulk delete page does not say what goes")
	}
	p = owner.post("/bulk/users/delete", url.Values{"user": {"u1", "u3"}, "confirm": {"3"}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "a wrong count")
	expectStatus(t, owner.get("/users/u1"), 200, "u1 after a wrong count")
	expectRedirect(t, owner.post("/bulk/users/delete", url.Values{"user": {"u1", "u3"}, "confirm": {"2"}}), "/users", "bulk delete")
	expectStatus(t, owner.get("/users/u1"), 404, "u1 deleted")
	expectStatus(t, owner.get("/users/u3"), 404, "u3 deleted")
	expectStatus(t, owner.get("/users/u2"), 200, "u2 kept")
	expectStatus(t, owner.get("/bulk/users/delete"), http.StatusUnprocessableEntity, "nothing ticked")
}

var mutationFormRE = regexp.MustCompile(`<form[^>]*method="post"[^>]*action="([^"]+)"`)

// TestPagesKnowWhatTheViewerMayDo: a read-only user sees no form that
// changes anything (only sign-out) and a note instead; a section it may
// not read names the permission, and looking is not recorded as a refusal.
func TestPagesKnowWhatTheViewerMayDo(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"team"}})
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"target"}, "console_login": {"true"}, "password": {ramUserPW}, "create_access_key": {"true"}})
	owner.get("/groups/team")
	owner.post("/groups/team/members", url.Values{"user": {"target"}})
	owner.get("/policies/new")
	owner.post("/policies", url.Values{"name": {"pol"}, "document": {`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`}})
	owner.get("/users/target")
	owner.post("/users/target/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"pol"}})
	owner.get("/roles/new")
	owner.post("/roles", url.Values{"name": {"op"}, "preset": {"account"}, "max_session_duration": {"3600"}})
	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	for _, path := range []string{"/users", "/users/target", "/groups", "/groups/team", "/policies", "/policies/System/AdministratorAccess", "/policies/Custom/pol", "/roles", "/roles/op"} {
		p := reader.get(path)
		expectStatus(t, p, 200, path+" as read-only")
		for _, m := range mutationFormRE.FindAllStringSubmatch(p.body, -1) {
			if m[1] != "/logout" {
				t.Errorf("%s offers the read-only user a form posting to %s", path, m[1])
			}
		}
		for _, link := range []string{`href="/users/new"`, `href="/groups/new"`, `href="/policies/new"`, `/edit"`, `/delete"`, `/permissions/new`} {
			if strings.Contains(p.body, link) {
				t.Errorf("%s links the read-only user to %s", path, link)
			}
		}
	}
	if p := reader.get("/users/target"); !strings.Contains(p.body, `data-testid="needs-permission"`) || !strings.Contains(p.body, "ram:CreateAccessKey") {
		t.Errorf("the user page does not say which permission creating AccessKeys needs")
	}
	// The owner sees the actions.
	if p := owner.get("/users/target"); !strings.Contains(p.body, `action="/users/target/accesskeys"`) || strings.Contains(p.body, `data-testid="needs-permission"`) {
		t.Errorf("the owner's user page lacks an action or shows a note")
	}
	// May read the group but not its members.
	onlyGroup := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:GetGroup","ram:ListPoliciesForGroup"],"Resource":"*"}]}`
	peek := h.ramUser(owner, "peek", nil, map[string]string{"OnlyGroup": onlyGroup})
	before := h.countDenied()
	p := peek.get("/groups/team")
	expectStatus(t, p, 200, "a group without its members")
	if !strings.Contains(p.body, `data-testid="section-denied"`) || !strings.Contains(p.body, "ram:ListUsersForGroup") {
		t.Errorf("the members section does not name ram:ListUsersForGroup")
	}
	if strings.Contains(p.body, `href="/users/target"`) {
		t.Errorf("a member is listed to a viewer who may not list them")
	}
	if n := h.countDenied(); n != before {
		t.Errorf("viewing the page recorded %d refusals", n-before)
	}
}

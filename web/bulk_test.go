package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBulkAddToGroupRules: the bulk add is the single add for each ticked
// user and group — authorised on each stored user and group, audited as
// the one who asked — and bad input changes nothing.
func TestBulkAddToGroupRules(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	for _, n := range []string{"ana", "ben"} {
		owner.get("/users/new")
		expectRedirect(t, owner.post("/users", url.Values{"name": {n}}), "/users/"+n, "create "+n)
	}
	for _, g := range []string{"ops", "admins"} {
		owner.get("/groups/new")
		expectRedirect(t, owner.post("/groups", url.Values{"name": {g}}), "/groups/"+g, "create "+g)
	}
	opsOnly := `{"Version":"1","Statement":[
		{"Effect":"Allow","Action":"ram:AddUserToGroup","Resource":["acs:ram:*:` + acct + `:group/ops","acs:ram:*:` + acct + `:user/*"]},
		{"Effect":"Allow","Action":["ram:List*","ram:Get*"],"Resource":"*"}]}`
	lead := h.ramUser(owner, "lead", nil, map[string]string{"OpsMembers": opsOnly})
	members := func(group string) int {
		t.Helper()
		return strings.Count(owner.get("/groups/"+group).body, `<td><a href="/users/`)
	}

	// The button is offered only to who may use it on every group: lead may
	// not add to admins, so the list offers no bulk add; the page itself
	// offers what lead may list.
	if p := lead.get("/users"); strings.Contains(p.body, `data-testid="bulk-add-to-group"`) {
		t.Errorf("the bulk add is offered to a user who may add to one group only")
	}
	expectStatus(t, lead.get("/bulk/users/add-to-group?user=ana&user=ben"), http.StatusOK, "the group picker")
	expectStatus(t, lead.post("/bulk/users/add-to-group", url.Values{"user": {"ana", "ben"}, "group": {"ops", "admins"}}),
		http.StatusForbidden, "ops and admins")
	if n := members("ops") + members("admins"); n != 0 {
		t.Errorf("a refused bulk add left %d memberships", n)
	}
	lead.get("/bulk/users/add-to-group?user=ana&user=ben")
	expectRedirect(t, lead.post("/bulk/users/add-to-group", url.Values{"user": {"ana", "ben"}, "group": {"ops"}}), "/users", "ops only")
	if n := members("ops"); n != 2 {
		t.Errorf("ops has %d members, want 2", n)
	}
	var byLead int
	for _, e := range h.events() {
		if e.EventName == "AddUserToGroup" && !e.IsError && e.UserIdentity.UserName == "lead" && e.ResourceName == "ops" {
			byLead++
		}
	}
	if byLead != 2 {
		t.Errorf("%d AddUserToGroup events by lead, want 2", byLead)
	}
	p := lead.get("/users")
	if !strings.Contains(p.body, "2 membership(s) added (ana, ben → ops)") {
		t.Errorf("the flash does not say what was added: %.2000s", p.body)
	}
	// Again: already in place, said so, nothing doubled.
	lead.get("/bulk/users/add-to-group?user=ana&user=ben")
	expectRedirect(t, lead.post("/bulk/users/add-to-group", url.Values{"user": {"ana", "ben"}, "group": {"ops"}}), "/users", "again")
	if p := lead.get("/users"); !strings.Contains(p.body, "0 membership(s) added, 2 already in place") {
		t.Errorf("the second bulk add does not say both were in place")
	}

	// ana in 9 groups: a 10th is fine, an 11th is not, so adding her to two
	// more adds to neither.
	var eight []string
	for i := 1; i <= 8; i++ {
		eight = append(eight, fmt.Sprintf("g%d", i))
	}
	for _, g := range append(eight, "full") {
		owner.get("/groups/new")
		expectRedirect(t, owner.post("/groups", url.Values{"name": {g}}), "/groups/"+g, "create "+g)
	}
	owner.get("/users")
	expectRedirect(t, owner.post("/bulk/users/add-to-group", url.Values{"user": {"ana"}, "group": eight}), "/users", "ana into eight more groups")

	// Bad input: a clear answer, nothing changed.
	many := url.Values{"group": {"admins"}}
	for i := 0; i <= 50; i++ {
		many.Add("user", fmt.Sprintf("user-%02d", i))
	}
	bad := []struct {
		name   string
		form   url.Values
		status int
		says   string
	}{
		{"no user ticked", url.Values{"group": {"admins"}}, http.StatusUnprocessableEntity, "Tick 1 to 50 users"},
		{"no group ticked", url.Values{"user": {"ana"}}, http.StatusUnprocessableEntity, "Tick at least one group."},
		{"51 users", many, http.StatusUnprocessableEntity, "Tick 1 to 50 users"},
		{"an unknown user", url.Values{"user": {"ana", "ghost"}, "group": {"admins"}}, http.StatusNotFound, "does not exist"},
		{"an unknown group", url.Values{"user": {"ana"}, "group": {"ghosts"}}, http.StatusNotFound, "does not exist"},
		{"a name that is not one", url.Values{"user": {"ana"}, "group": {"<script>"}}, http.StatusUnprocessableEntity, "A group name is not valid"},
		{"a group ana may not join", url.Values{"user": {"ana"}, "group": {"admins", "full"}}, http.StatusConflict, "ana is in 10 already. Nothing was added."},
	}
	for _, c := range bad {
		owner.get("/users")
		p := owner.post("/bulk/users/add-to-group", c.form)
		if p.status != c.status || !strings.Contains(p.body, c.says) {
			t.Errorf("%s: %d, want %d saying %q: %.300s", c.name, p.status, c.status, c.says, p.body)
		}
	}
	if n := members("admins"); n != 0 {
		t.Errorf("bad input left %d members in admins", n)
	}
	expectStatus(t, owner.get("/bulk/users/add-to-group"), http.StatusUnprocessableEntity, "the picker with nothing ticked")
}

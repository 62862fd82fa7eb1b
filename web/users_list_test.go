package web

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ramconsole/store"
)

// seedUsers creates n users named user-000…, one a minute, straight through
// the store.
func seedUsers(t testing.TB, h *harness, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		h.clock.Advance(time.Minute)
		err := h.st.Update(ctx, func(tx *store.Tx) error {
			return tx.CreateUser(ctx, &store.User{UserID: fmt.Sprintf("8%015d", i), UserName: fmt.Sprintf("user-%03d", i)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

var userLinkRE = regexp.MustCompile(`<td><a href="/users/([^"]+)">`)

func listedUsers(body string) []string {
	var names []string
	for _, m := range userLinkRE.FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
	}
	return names
}

func pagerLink(t *testing.T, body, rel string) string {
	t.Helper()
	m := regexp.MustCompile(`href="([^"]+)" rel="` + rel + `"`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

// TestUsersListAtScale: the total, three orders, paging forwards and back,
// the status columns and the bulk actions' buttons.
func TestUsersListAtScale(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	seedUsers(t, h, 120)
	emp := h.createEmployee(owner, "zed")
	_ = emp

	p := owner.get("/users")
	expectStatus(t, p, 200, "/users")
	if !strings.Contains(p.body, `data-testid="users-total">121<`) {
		t.Errorf("/users does not say 121 users")
	}
	first := listedUsers(p.body)
	if len(first) != 50 || first[0] != "user-000" || first[49] != "user-049" {
		t.Fatalf("first page by name: %d users, %v…", len(first), first[:min(3, len(first))])
	}
	if pagerLink(t, p.body, "prev") != "" {
		t.Errorf("the first page links to a previous one")
	}
	next := pagerLink(t, p.body, "next")
	p = owner.get(next)
	second := listedUsers(p.body)
	if len(second) != 50 || second[0] != "user-050" {
		t.Fatalf("second page: %v…", second[:min(3, len(second))])
	}
	p = owner.get(pagerLink(t, p.body, "next"))
	third := listedUsers(p.body)
	if len(third) != 21 || third[20] != "zed" || pagerLink(t, p.body, "next") != "" {
		t.Fatalf("last page: %d users, next %q", len(third), pagerLink(t, p.body, "next"))
	}
	p = owner.get(pagerLink(t, p.body, "prev"))
	if back := listedUsers(p.body); strings.Join(back, ",") != strings.Join(second, ",") {
		t.Errorf("previous of the last page lists %v…, want the second page", back[:min(3, len(back))])
	}
	if !strings.Contains(p.body, `>« First</a>`) {
		t.Errorf("no link to the first page")
	}

	// Newest first: zed, then the seeded users backwards.
	p = owner.get("/users?sort=created")
	byCreated := listedUsers(p.body)
	if len(byCreated) != 50 || byCreated[0] != "zed" || byCreated[1] != "user-119" {
		t.Errorf("newest first: %v…", byCreated[:min(3, len(byCreated))])
	}
	p = owner.get(pagerLink(t, p.body, "next"))
	if got := listedUsers(p.body); len(got) != 50 || got[0] != "user-070" {
		t.Errorf("second page newest first: %v…", got[:min(3, len(got))])
	}
	if !strings.Contains(pagerLink(t, p.body, "next"), "sort=created") {
		t.Errorf("paging forgets the order")
	}
	// Last sign-in: the one user who signed in comes first.
	h.signInEmployee("zed@"+testAlias, emp.password)
	p = owner.get("/users?sort=last_login&q=")
	if got := listedUsers(p.body); len(got) == 0 || got[0] != "zed" {
		t.Errorf("by last sign-in: %v…", got[:min(3, len(got))])
	}
	// Status columns: zed has console access, a bound MFA device and one key.
	p = owner.get("/users?q=zed")
	for _, want := range []string{`data-testid="users-total">1<`, "<td>Active</td>", "<td>Bound</td>", "<td>1 active of 1</td>", "<td>Never</td>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/users?q=zed lacks %s", want)
		}
	}
	// A seeded user has none of them, and has never signed in.
	p = owner.get("/users?q=user-007")
	for _, want := range []string{"<td>None</td>", "<td>—</td>", "<td>Never</td>"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/users?q=user-007 lacks %s", want)
		}
	}
	for _, want := range []string{`data-testid="bulk-add-to-group"`, `data-testid="bulk-grant"`, `data-testid="bulk-delete"`, `name="user" value="user-007"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the owner's users list lacks %s", want)
		}
	}
	p = owner.get("/users?q=nobody-like-this")
	if !strings.Contains(p.body, "No user's name or display name starts with") {
		t.Errorf("an empty search does not explain itself")
	}
	expectStatus(t, owner.get("/users?sort=size"), 400, "an unknown order")
	expectStatus(t, owner.get("/users?after="+url.QueryEscape("@@@")), 400, "a garbled cursor")
}

package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserBulkButtons: the owner ticks rows on the users list and
// presses each bulk button: Add to group adds the ticked users to the
// chosen group (recorded like single adds), Grant permissions attaches a
// policy to the ticked user after a review, Delete removes the ticked user
// after its count is typed. Pressed with nothing ticked, a button says what
// to do inside the console.
func TestBrowserBulkButtons(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	owner, _ := h.setupOwner()
	for _, n := range []string{"ana", "ben", "cy"} {
		owner.get("/users/new")
		expectRedirect(t, owner.post("/users", url.Values{"name": {n}}), "/users/"+n, "create "+n)
	}
	owner.get("/groups/new")
	expectRedirect(t, owner.post("/groups", url.Values{"name": {"ops"}}), "/groups/ops", "create ops")
	tick := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Click(`[data-testid=users-table] input[name=user][value="` + name + `"]`)
	}
	flash := func(what string) string {
		t.Helper()
		text, err := chromedp.Run(ctx, chromedp.Text(`[data-testid=flash]`))
		if err != nil {
			dumpPage(t, ctx)
			t.Fatalf("%s: no flash: %v", what, err)
		}
		return text
	}
	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := do(ctx, steps...); err != nil {
			dumpPage(t, ctx)
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Add to group.
	step("add to group",
		useSession(h, owner),
		chromedp.Navigate(h.srv.URL+"/users"),
		chromedp.WaitVisible(`[data-testid=users-table]`),
		tick("ana"), tick("ben"),
		chromedp.Click(`[data-testid=bulk-add-to-group]`),
		chromedp.WaitVisible(`[data-testid=bulk-groups-form]`),
	)
	if lead, _ := chromedp.Run(ctx, chromedp.Text(`main .lead`)); !strings.Contains(lead, "ana") || !strings.Contains(lead, "ben") || strings.Contains(lead, "cy") {
		t.Errorf("the group picker is for %q, want ana and ben", lead)
	}
	saveShot(t, ctx, "bulk-add-to-group")
	step("pick the group",
		chromedp.Click(`[data-testid=bulk-groups-form] input[name=group][value=ops]`),
		chromedp.Click(`[data-testid=bulk-groups-form] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=flash]`),
	)
	waitLocation(t, ctx, "/users")
	if got := flash("add to group"); !strings.Contains(got, "2 membership(s) added") || !strings.Contains(got, "ops") {
		t.Errorf("after adding to the group the page says %q", got)
	}
	p := owner.get("/groups/ops")
	for _, n := range []string{"ana", "ben"} {
		if !strings.Contains(p.body, `href="/users/`+n+`"`) {
			t.Errorf("%s is not a member of ops", n)
		}
	}
	if strings.Contains(p.body, `href="/users/cy"`) {
		t.Errorf("cy, not ticked, is a member of ops")
	}
	added := map[string]bool{}
	for _, e := range h.events() {
		if e.EventName == "AddUserToGroup" && !e.IsError && e.EventType == "ConsoleOperation" && e.ResourceName == "ops" {
			added[fmt.Sprint(e.RequestParameters["UserName"])] = true
		}
	}
	if len(added) != 2 || !added["ana"] || !added["ben"] {
		t.Errorf("AddUserToGroup events for %v, want one for each of ana and ben", added)
	}

	// Grant permissions.
	step("grant permissions",
		chromedp.WaitVisible(`[data-testid=users-table]`),
		tick("ana"),
		chromedp.Click(`[data-testid=bulk-grant]`),
		chromedp.WaitVisible(`[data-testid=policy-picker]`),
	)
	if ticked, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid=grant-form] input[name=user][value=ana]:checked')`)); !ticked {
		t.Errorf("the permissions panel does not have ana ticked")
	}
	step("review and grant",
		chromedp.Click(`[data-testid=policy-picker] input[name=policy][value="System:ReadOnlyAccess"]`),
		chromedp.Click(`[data-testid=grant-review]`),
		chromedp.WaitVisible(`[data-testid=grant-confirm]`),
		chromedp.Click(`[data-testid=grant-confirm] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=flash]`),
	)
	if got := flash("grant"); !strings.Contains(got, "1 permission(s) granted") {
		t.Errorf("after granting the page says %q", got)
	}
	if p := owner.get("/users/ana"); !strings.Contains(p.body, "ReadOnlyAccess") {
		t.Errorf("ana has no ReadOnlyAccess after the grant")
	}

	// Delete.
	step("delete",
		chromedp.Navigate(h.srv.URL+"/users"),
		chromedp.WaitVisible(`[data-testid=users-table]`),
		tick("cy"),
		chromedp.Click(`[data-testid=bulk-delete]`),
		chromedp.WaitVisible(`[data-testid=bulk-delete-list]`),
		chromedp.SendKeys(`input[name=confirm]`, "1"),
		chromedp.Click(`main form button.danger`),
		chromedp.WaitVisible(`[data-testid=flash]`),
	)
	if got := flash("delete"); !strings.Contains(got, "1 user(s) deleted: cy") {
		t.Errorf("after deleting the page says %q", got)
	}
	expectStatus(t, owner.get("/users/cy"), http.StatusNotFound, "cy after the bulk delete")
	expectStatus(t, owner.get("/users/ana"), http.StatusOK, "ana, not ticked for deletion")

	// Nothing ticked: a message inside the console, nothing done.
	for _, button := range []string{"bulk-add-to-group", "bulk-delete"} {
		step("press "+button+" with nothing ticked",
			chromedp.Navigate(h.srv.URL+"/users"),
			chromedp.WaitVisible(`[data-testid=users-table]`),
			chromedp.Click(`[data-testid=`+button+`]`),
			chromedp.WaitVisible(`[data-testid=error-home]`),
		)
		text, _ := chromedp.Run(ctx, chromedp.Text(`main`))
		if !strings.Contains(text, "Tick 1 to 50 users") {
			t.Errorf("%s with nothing ticked says %q", button, text)
		}
		nav, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('nav.side a[href="/users"]')`))
		if !nav {
			t.Errorf("%s with nothing ticked leaves the console's navigation", button)
		}
	}
	saveShot(t, ctx, "bulk-nothing-ticked")

	// An address that names nothing is a page of the console too.
	step("an unknown address", chromedp.Navigate(h.srv.URL+"/users/ana/nothing"), chromedp.WaitVisible(`[data-testid=error-home]`))
	if nav, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('nav.side a[href="/users"]') && !!document.querySelector('header form[action="/logout"]')`)); !nav {
		t.Errorf("the not-found page has no navigation or Sign out")
	}
	saveShot(t, ctx, "not-found")
}

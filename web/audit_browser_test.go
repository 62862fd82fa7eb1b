package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAuditFilter: the owner filters the audit log to one user's
// failed sign-ins and opens one of them.
func TestBrowserAuditFilter(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	owner, secret := h.setupOwner()
	h.createEmployee(owner, "rita")
	h.createEmployee(owner, "sam")
	for _, try := range []struct{ user, pw string }{
		{"rita", "Wrong-Rita-Pass-1"}, {"sam", "Wrong-Sam-Pass-1"}, {"rita", "Wrong-Rita-Pass-2"},
	} {
		b := h.browser()
		b.get("/login")
		b.post("/login", url.Values{"username": {try.user}, "password": {try.pw}})
	}
	h.clock.Advance(30 * time.Second)

	err := do(ctx,
		chromedp.Navigate(h.srv.URL+"/login"),
		ownerSignsIn(h, secret),
		chromedp.Click(`nav.side a[href="/audit"]`),
		chromedp.WaitVisible(`[data-testid=audit-table]`),
		chromedp.SendKeys(`input[name=user]`, "rita"),
		chromedp.SendKeys(`input[name=event]`, "ConsoleSignin"),
		chromedp.SetValue(`select[name=result]`, "failure"),
		chromedp.Click(`form[data-testid=audit-filter] button[type=submit]`),
		chromedp.WaitVisible(`input[name=user][value=rita]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("filter the log: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('[data-testid=audit-table] tbody tr')).map(r => r.innerText)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("the filtered log lists %d events, want rita's 2 failed sign-ins: %q", len(rows), rows)
	}
	for _, r := range rows {
		if !strings.Contains(r, "rita") || !strings.Contains(r, "InvalidCredentials") {
			t.Errorf("row %q is not one of rita's failed sign-ins", r)
		}
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(loc, "user=rita") || !strings.Contains(loc, "result=failure") {
		t.Errorf("the filter is not in the URL: %s (%v)", loc, err)
	}
	err = do(ctx,
		chromedp.Click(`[data-testid=audit-table] tbody tr:first-child [data-testid=event-link]`),
		chromedp.WaitVisible(`[data-testid=event-name]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("open the event: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(`main`))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ConsoleSignin", "InvalidCredentials", "rita"} {
		if !strings.Contains(text, want) {
			t.Errorf("the event page does not show %q", want)
		}
	}
	if strings.Contains(text, "Wrong-Rita") {
		t.Errorf("the event page shows the typed password")
	}
}

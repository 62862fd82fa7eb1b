package web

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserGrantsPage: the owner filters the grants page, revokes a grant
// through its confirmation and lands back on the grants; at 390 px the page
// does not scroll sideways. Screenshots at both widths.
func TestBrowserGrantsPage(t *testing.T) {
	ctx := newChrome(t)
	h, owner := grantsFixture(t)
	err := do(ctx,
		useSession(h, owner),
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(h.srv.URL+"/grants"),
		chromedp.WaitVisible(`[data-testid=grants-table]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("open the grants: %v", err)
	}
	saveShot(t, ctx, "grants-1440")
	err = do(ctx,
		chromedp.SetValue(`#f-principal_type`, "role"),
		chromedp.Click(`[data-testid=grants-filter] button[type=submit]`),
		chromedp.WaitVisible(`tr[data-testid=grant-row][data-principal="ops"]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("filter by principal kind: %v", err)
	}
	waitLocation(t, ctx, "principal_type=role")
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=grant-row]').length`))
	if err != nil || n != 1 {
		t.Fatalf("role grants: %d rows, %v", n, err)
	}
	err = do(ctx,
		chromedp.Click(`tr[data-principal="ops"] [data-testid=grant-revoke]`),
		chromedp.WaitVisible(`[data-testid=confirm-form]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("open the revoke confirmation: %v", err)
	}
	saveShot(t, ctx, "grants-revoke-1440")
	err = do(ctx,
		chromedp.Click(`[data-testid=confirm-form] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=flash]`),
		chromedp.WaitVisible(`[data-testid=grants-table]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("confirm the revoke: %v", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/grants") {
		t.Errorf("after the revoke the browser is at %s, want /grants", loc)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid=grant-row][data-principal="ops"]').length`)); n != 0 {
		t.Error("the revoked grant is still listed")
	}
	err = do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(h.srv.URL+"/grants"),
		chromedp.WaitVisible(`[data-testid=grants-table]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	saveShot(t, ctx, "grants-390")
	if over, sw, iw, err := overflows(ctx); err != nil || over {
		t.Errorf("the grants page at 390 px scrolls sideways: scrollWidth %d > innerWidth %d (%v)", sw, iw, err)
	}
}

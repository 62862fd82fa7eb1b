package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserUserPageAndAuditAsRead: at desktop and phone width, the user's
// page keeps its table of contents in view and its links lead to their
// sections, row actions read quieter than the Add button, the navigation
// shows its group headings, and the audit table uses the page's width
// without scrolling sideways on a phone. Each page is saved as a
// screenshot.
func TestBrowserUserPageAndAuditAsRead(t *testing.T) {
	ctx := newChrome(t)
	h, owner := polishedAccount(t)
	hal := h.ramUser(owner, "hal", nil, nil)
	expectStatus(t, hal.get("/groups"), http.StatusForbidden, "hal lists groups") // an ARN in the audit log
	if err := do(ctx, useSession(h, owner)); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int64{1440, 390} {
		err := do(ctx,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(h.srv.URL+"/users/kim"),
			chromedp.WaitVisible(`[data-testid=user-toc]`),
		)
		if err != nil {
			dumpPage(t, ctx)
			t.Fatalf("kim's page at %d px: %v", width, err)
		}
		saveShot(t, ctx, fmt.Sprintf("user-sections-%d", width))
		if err := do(ctx, chromedp.Click(`[data-testid=user-toc] a[href="#groups"]`)); err != nil {
			t.Fatal(err)
		}
		// The section's heading is in view, below the table of contents, which stays in view.
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
			const toc = document.querySelector('[data-testid=user-toc]').getBoundingClientRect();
			const h2 = document.querySelector('#groups h2').getBoundingClientRect();
			return [toc.top, toc.bottom, h2.top, h2.bottom, window.innerHeight, window.scrollY];
		})()`))
		if err != nil || len(got) != 6 {
			t.Fatalf("measure kim's page: %v", err)
		}
		tocTop, tocBottom, h2Top, h2Bottom, inner, scrolled := got[0], got[1], got[2], got[3], got[4], got[5]
		if scrolled <= 0 || tocTop < 0 || h2Top < tocBottom || h2Bottom > inner {
			t.Errorf("at %d px after Groups: contents %.0f–%.0f, heading %.0f–%.0f, window %.0f, scrolled %.0f: want the heading in view below the contents",
				width, tocTop, tocBottom, h2Top, h2Bottom, inner, scrolled)
		}
		if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/users/kim#groups") {
			t.Errorf("the contents led to %s", loc)
		}
		over, sw, iw, err := overflows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if over {
			t.Errorf("kim's page at %d px scrolls sideways: %d > %d", width, sw, iw)
		}
		// A row action is a quiet link; Add permissions is a button.
		styles, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
			const s = (el) => getComputedStyle(el);
			const row = document.querySelector('a.row-action'), add = document.querySelector('[data-testid=add-permissions]');
			return [s(row).backgroundColor, s(add).backgroundColor,
				String(parseFloat(s(row).fontSize) < parseFloat(s(add).fontSize)), String(s(row).borderStyle === 'none')];
		})()`))
		if err != nil || len(styles) != 4 {
			t.Fatalf("styles: %v", err)
		}
		if styles[0] != "rgba(0, 0, 0, 0)" || styles[1] == "rgba(0, 0, 0, 0)" || styles[2] != "true" || styles[3] != "true" {
			t.Errorf("row action background %s; Add background %s; smaller %s, borderless %s: want a plain, smaller link beside a button",
				styles[0], styles[1], styles[2], styles[3])
		}

		if err := do(ctx, chromedp.Navigate(h.srv.URL+"/audit"), chromedp.WaitVisible(`[data-testid=audit-table]`)); err != nil {
			t.Fatal(err)
		}
		saveShot(t, ctx, fmt.Sprintf("audit-width-%d", width))
		widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(() => {
			const main = document.querySelector('main').getBoundingClientRect();
			const table = document.querySelector('[data-testid=audit-table]').getBoundingClientRect();
			const side = document.querySelector('nav.side').getBoundingClientRect();
			return [main.width, table.width, document.documentElement.clientWidth - side.width];
		})()`))
		if err != nil || len(widths) != 3 {
			t.Fatalf("measure the audit page: %v", err)
		}
		if width > 400 && (widths[0] < widths[2]-1 || widths[1] < widths[0]-80) {
			t.Errorf("at %d px the audit page is %.0f px wide of %.0f beside the navigation, its table %.0f: want the width used",
				width, widths[0], widths[2], widths[1])
		}
		if over, sw, iw, err := overflows(ctx); err != nil || over {
			t.Errorf("the audit page at %d px scrolls sideways: %d > %d (%v)", width, sw, iw, err)
		}
		if width > 400 {
			headings, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
				`Array.from(document.querySelectorAll('nav.side .nav-heading')).filter(e => e.getBoundingClientRect().height > 0).map(e => e.innerText.trim())`))
			if err != nil || strings.Join(headings, ",") != "IDENTITIES,PERMISSIONS,YOUR ACCOUNT" {
				t.Errorf("the navigation's visible headings: %v (%v)", headings, err)
			}
		}
	}
}

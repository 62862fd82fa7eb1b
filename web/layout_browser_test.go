package web

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// saveShot saves a full-page screenshot as name.png into the folder
// RAMCONSOLE_SCREENSHOTS names (make test sets ./screenshots), for a person
// to look at; without the variable it saves nothing.
func saveShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("RAMCONSOLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Errorf("screenshots folder: %v", err)
		return
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), shot, 0o644); err != nil {
		t.Errorf("screenshot %s: %v", name, err)
	}
}

// useSession puts an HTTP test browser's session cookie into Chromium, so a
// journey starts signed in without typing the sign-in steps again.
func useSession(h *harness, b *browser) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: CookieName, Value: b.cookie(), URL: h.srv.URL + "/"})
		return err
	})
}

// overflows reports whether the page scrolls sideways.
func overflows(ctx context.Context) (bool, int, int, error) {
	dims, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if err != nil || len(dims) != 2 {
		return false, 0, 0, fmt.Errorf("measure the page: %v", err)
	}
	return dims[0] > dims[1], dims[0], dims[1], nil
}

// TestBrowserMainPagesAtDesktopAndPhone opens the main pages at 1440 and
// 390 px: at phone width no page scrolls sideways, the menu is one tap away
// (a <details>, no JavaScript) and "Sign out" stays in the header. Each page
// is saved as a screenshot.
func TestBrowserMainPagesAtDesktopAndPhone(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	owner, _ := h.setupOwner()
	seedUsers(t, h, 60)
	h.createEmployee(owner, "alice-with-a-rather-long-user-name")
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"developers"}, "comments": {"Everyone who ships code"}})
	owner.get("/groups/developers")
	owner.post("/groups/developers/members", url.Values{"user": {"alice-with-a-rather-long-user-name"}})
	pages := []struct{ name, path, wait string }{
		{"overview", "/", "[data-testid=account-id]"},
		{"users", "/users", "[data-testid=users-table]"},
		{"user", "/users/alice-with-a-rather-long-user-name", "[data-testid=user-profile]"},
		{"groups", "/groups", "[data-testid=groups-table]"},
		{"group", "/groups/developers", "h1"},
		{"policies", "/policies", "[data-testid=policies-table]"},
		{"policy", "/policies/System/AdministratorAccess", "h1"},
		{"simulator", "/simulator", "form"},
		{"add-permissions", "/permissions/new?kind=user&user=user-001&q=read", "[data-testid=policy-picker]"},
		{"bulk-delete", "/bulk/users/delete?user=user-001&user=user-002", "[data-testid=bulk-delete-list]"},
		{"audit", "/audit", "[data-testid=audit-table]"},
		{"settings", "/settings", "h1"},
	}
	if err := do(ctx, useSession(h, owner)); err != nil {
		t.Fatal(err)
	}
	for _, width := range []int64{1440, 390} {
		if err := do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if err := do(ctx, chromedp.Navigate(h.srv.URL+p.path), chromedp.WaitVisible(p.wait)); err != nil {
				dumpPage(t, ctx)
				t.Fatalf("%s at %d px: %v", p.path, width, err)
			}
			saveShot(t, ctx, fmt.Sprintf("%s-%d", p.name, width))
			if width > 400 {
				continue
			}
			over, sw, iw, err := overflows(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if over {
				t.Errorf("%s at %d px scrolls sideways: scrollWidth %d > innerWidth %d", p.path, width, sw, iw)
			}
			vis, err := chromedp.Run(ctx, chromedp.Evaluate[[]bool](`(() => {
				const shown = (el) => !!el && el.getBoundingClientRect().width > 0 && el.getBoundingClientRect().right <= window.innerWidth;
				return [shown(document.querySelector('header form[action="/logout"] button')),
					shown(document.querySelector('details.navmenu summary')), shown(document.querySelector('nav.side'))];
			})()`))
			if err != nil || len(vis) != 3 {
				t.Fatalf("measure %s: %v", p.path, err)
			}
			signOutVisible, menuVisible, sideVisible := vis[0], vis[1], vis[2]
			if !signOutVisible || !menuVisible || sideVisible {
				t.Errorf("%s at %d px: sign out visible %v, menu visible %v, side navigation visible %v; want true, true, false",
					p.path, width, signOutVisible, menuVisible, sideVisible)
			}
		}
	}
	// The menu opens without JavaScript and leads to a section.
	err := do(ctx,
		chromedp.Navigate(h.srv.URL+"/"),
		chromedp.Click(`details.navmenu summary`),
		chromedp.Click(`details.navmenu a[href="/users"]`),
		chromedp.WaitVisible(`[data-testid=users-table]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("the phone menu: %v", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/users") {
		t.Errorf("the menu led to %s", loc)
	}
}

// TestBrowserReadOnlyUserSeesNoMutationButtons: a user with
// AliyunRAMReadOnlyAccess browses users, groups, policies and roles and
// meets no form that changes anything, no create, edit or delete link, and
// no bulk action; at phone width the users list does not scroll sideways.
func TestBrowserReadOnlyUserSeesNoMutationButtons(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	owner, _ := h.setupOwner()
	seedUsers(t, h, 60)
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"team"}})
	owner.get("/groups/team")
	owner.post("/groups/team/members", url.Values{"user": {"user-001"}})
	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	if err := do(ctx, useSession(h, reader)); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/users", "/users/user-001", "/groups", "/groups/team", "/policies", "/policies/System/AdministratorAccess", "/roles", "/settings"} {
		if err := do(ctx, chromedp.Navigate(h.srv.URL+path), chromedp.WaitVisible(`main h1`)); err != nil {
			dumpPage(t, ctx)
			t.Fatalf("%s: %v", path, err)
		}
		found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
			const out = [];
			for (const f of document.querySelectorAll('form')) {
				if (f.method === 'post' && f.getAttribute('action') !== '/logout') out.push('form ' + f.getAttribute('action'));
			}
			for (const a of document.querySelectorAll('main a')) {
				const h = a.getAttribute('href') || '';
				if (/\/(new|edit|delete)$/.test(h) || h.startsWith('/permissions/')) out.push('link ' + h);
			}
			for (const b of document.querySelectorAll('main button[formaction]')) out.push('button ' + b.getAttribute('formaction'));
			return out;
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		if len(found) > 0 {
			t.Errorf("%s offers the read-only user %v", path, found)
		}
	}
	saveShot(t, ctx, "settings-read-only")
	if err := do(ctx, chromedp.EmulateViewport(390, 844), chromedp.Navigate(h.srv.URL+"/users"), chromedp.WaitVisible(`[data-testid=users-table]`)); err != nil {
		t.Fatal(err)
	}
	saveShot(t, ctx, "users-read-only-390")
	over, sw, iw, err := overflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if over {
		t.Errorf("the users list at 390 px scrolls sideways: scrollWidth %d > innerWidth %d", sw, iw)
	}
	note, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=create-user-note]`))
	if !strings.Contains(note, "ram:CreateUser") {
		t.Errorf("the users list does not say creating users needs ram:CreateUser: %q", note)
	}
}

package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserHandoverJourney: a program user gets an AccessKey and no
// console access; its key is deleted only after disabling it and typing its
// ID; a person's typed password is kept and handed over with the logon name
// and URL, once.
func TestBrowserHandoverJourney(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	_, secret := h.setupOwner()
	err := do(ctx,
		chromedp.Navigate(h.srv.URL+"/login"),
		ownerSignsIn(h, secret),
		// A program: only "OpenAPI access" ticked.
		chromedp.Navigate(h.srv.URL+"/users/new"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "robot"),
		chromedp.Click(`input[name=create_access_key]`),
		chromedp.Click(`form[action="/users"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=accesskey-id]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("create a program user: %v", err)
	}
	keyID, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=accesskey-id]`))
	if body, _ := chromedp.Run(ctx, chromedp.Text(`main`)); strings.Contains(body, "Console sign-in") {
		t.Errorf("a program user's sheet hands over console credentials")
	}
	err = do(ctx,
		chromedp.Navigate(h.srv.URL+"/users/robot"),
		chromedp.WaitVisible(`[data-testid=accesskeys-table]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text(`main`)); !strings.Contains(body, "No console access") {
		t.Errorf("the program user has console access")
	}
	keyPage := h.srv.URL + "/users/robot/accesskeys/" + keyID + "/delete"
	err = do(ctx,
		// An Active key cannot be deleted: the confirm page offers to disable it.
		chromedp.Navigate(keyPage),
		chromedp.WaitVisible(`[data-testid=confirm-blocked]`),
		chromedp.Click(`[data-testid=confirm-fix]`),
		chromedp.WaitVisible(`[data-testid=accesskeys-table]`),
		chromedp.Navigate(keyPage),
		chromedp.WaitVisible(`input[name=confirm]`),
		chromedp.SendKeys(`input[name=confirm]`, keyID[:8]),
		chromedp.Click(`[data-testid=confirm-form] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=field-error]`),
		chromedp.SetValue(`input[name=confirm]`, keyID),
		chromedp.Click(`[data-testid=confirm-form] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=flash]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("delete the key: %v", err)
	}
	if flash, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=flash]`)); flash != "AccessKey "+keyID+" deleted." {
		t.Errorf("after deleting, the flash says %q", flash)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text(`main`)); strings.Count(body, keyID) != 1 {
		t.Errorf("after deleting, the user page still lists the key")
	}

	// A person with a typed password.
	typed := "Typed-Harbor-Pass-3861"
	err = do(ctx,
		chromedp.Navigate(h.srv.URL+"/users/new"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "tess"),
		chromedp.Click(`input[name=console_login]`),
		chromedp.Click(`input[name=generate_password][value=false]`),
		chromedp.SendKeys(`input[name=password]`, typed),
		chromedp.Click(`form[action="/users"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=handover-sheet]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("create a console user with a typed password: %v", err)
	}
	for sel, want := range map[string]string{
		`[data-testid=handover-logon-name]`: "tess@" + testAlias,
		`[data-testid=handover-logon-url]`:  h.srv.URL + "/login",
		`[data-testid=handover-password]`:   typed,
	} {
		if got, err := chromedp.Run(ctx, chromedp.Text(sel)); err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", sel, got, err, want)
		}
	}
	err = do(ctx, chromedp.Reload(), chromedp.WaitVisible(`[data-testid=handover-gone]`))
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("reload the sheet: %v", err)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text(`body`)); strings.Contains(body, typed) {
		t.Errorf("the reloaded sheet shows the password")
	}
	// The typed password is the one that works.
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"tess@" + testAlias}, "password": {typed}}), "/mfa/bind", "tess signs in with the typed password")
}

// TestBrowserSessionsAndMFAReload: reloading the MFA binding page keeps the
// key, and a form posted after the session ended leads to sign-in and back
// to the form, filled in as it was typed.
func TestBrowserSessionsAndMFAReload(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	err := do(ctx,
		chromedp.Navigate(h.srv.URL+"/setup?token="+h.token),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, testOwnerEmail),
		chromedp.SendKeys(`input[name=password]`, testOwnerPW),
		chromedp.SendKeys(`input[name=confirm_password]`, testOwnerPW),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=mfa-secret]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("setup: %v", err)
	}
	first, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=mfa-secret]`))
	if err := do(ctx, chromedp.Reload(), chromedp.WaitVisible(`[data-testid=mfa-secret]`)); err != nil {
		t.Fatal(err)
	}
	second, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=mfa-secret]`))
	if first == "" || second != first {
		t.Fatalf("reloading the binding page changed the key: %q, then %q", first, second)
	}
	secret := strings.TrimSpace(first)
	err = do(ctx,
		chromedp.SendKeys(`input[name=code1]`, h.code(secret, -1)),
		chromedp.SendKeys(`input[name=code2]`, h.code(secret, 0)),
		chromedp.Click(`form[action="/mfa/bind"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=account-id]`),
		chromedp.Navigate(h.srv.URL+"/users/new"),
		chromedp.WaitVisible(`input[name=name]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("bind and open the create form: %v", err)
	}
	// The session ends while the form is open; the form is posted.
	h.clock.Advance(7 * time.Hour)
	err = do(ctx,
		chromedp.SendKeys(`input[name=name]`, "late"),
		chromedp.Click(`form[action="/users"] button[type=submit]`),
		chromedp.WaitVisible(`input[name=username]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("post after the session ended: %v", err)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text(`main`)); !strings.Contains(body, "Your session ended") || strings.Contains(body, "Access denied") {
		t.Errorf("the sign-in page says %.300s", body)
	}
	err = do(ctx, ownerSubmitsSignIn(h, secret), chromedp.WaitVisible(`form[action="/users"] input[name=name]`))
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("sign in again: %v", err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.HasSuffix(loc, "/users/new") {
		t.Errorf("after signing in again the browser is at %s, want the form", loc)
	}
	if typed, _ := chromedp.Run(ctx, chromedp.Value(`form[action="/users"] input[name=name]`)); typed != "late" {
		t.Errorf("the form is back with name %q, want what was typed, late", typed)
	}
	if u, _ := h.st.UserByName(t.Context(), "late"); u != nil {
		t.Errorf("the post after the session ended created the user")
	}
}

package web

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserRolePermissionsPanel: the owner adds two policies to a role
// through the Add permissions panel, ticking one, searching, ticking the
// other (the first stays ticked), reviewing and granting; the quick box of
// a user's page has fields wide enough to read.
func TestBrowserRolePermissionsPanel(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	owner, secret := h.setupOwner()
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"deployer"}, "preset": {"account"}, "max_session_duration": {"3600"}}),
		"/roles/deployer", "create deployer")
	owner.get("/users/new")
	expectRedirect(t, owner.post("/users", url.Values{"name": {"ana"}}), "/users/ana", "create ana")
	h.clock.Advance(30 * time.Second)

	err := do(ctx,
		chromedp.Navigate(h.srv.URL+"/login"),
		ownerSignsIn(h, secret),
		chromedp.Navigate(h.srv.URL+"/roles/deployer"),
		chromedp.Click(`[data-testid=add-permissions]`),
		chromedp.WaitVisible(`input[name=role][value=deployer]:checked`),
		chromedp.SendKeys(`input[name=q]`, "AliyunECSReadOnly"),
		chromedp.Click(`[data-testid=grant-form] input[name=q] ~ button`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("open the panel from the role: %v", err)
	}
	waitLocation(t, ctx, "q=AliyunECSReadOnly")
	err = do(ctx,
		chromedp.Click(`input[name=policy][value="System:AliyunECSReadOnlyAccess"]`),
		chromedp.SetValue(`input[name=q]`, "AliyunOSSReadOnly"),
		chromedp.Click(`[data-testid=grant-form] input[name=q] ~ button`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("tick the first policy: %v", err)
	}
	waitLocation(t, ctx, "q=AliyunOSSReadOnly")
	err = do(ctx,
		chromedp.WaitVisible(`input[name=policy][value="System:AliyunECSReadOnlyAccess"]:checked`),
		chromedp.Click(`input[name=policy][value="System:AliyunOSSReadOnlyAccess"]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("tick the second policy: %v", err)
	}
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		if dir := os.Getenv("RAMCONSOLE_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "role-add-permissions.png"), shot, 0o644)
		}
	}
	err = do(ctx,
		chromedp.Click(`[data-testid=grant-review]`),
		chromedp.WaitVisible(`[data-testid=grant-confirm]`),
		chromedp.Click(`[data-testid=grant-confirm] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=attached-policies-table] a[href="/policies/System/AliyunECSReadOnlyAccess"]`),
		chromedp.WaitVisible(`[data-testid=attached-policies-table] a[href="/policies/System/AliyunOSSReadOnlyAccess"]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("review and grant: %v", err)
	}
	if got := h.roleAttachments("deployer"); len(got) != 2 {
		t.Errorf("the role has %v, want two policies", got)
	}

	// The quick box: an action and an ARN fit in its fields.
	err = do(ctx, chromedp.Navigate(h.srv.URL+"/users/ana"), chromedp.WaitVisible(`[data-testid=can-box]`))
	if err != nil {
		dumpPage(t, ctx)
		t.Fatal(err)
	}
	for sel, least := range map[string]float64{"f-can-action": 200, "f-can-resource": 300} {
		width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("`+sel+`").getBoundingClientRect().width`))
		if err != nil || width < least {
			t.Errorf("#%s is %.0f px wide (%v), want at least %.0f", sel, width, err, least)
		}
	}
}

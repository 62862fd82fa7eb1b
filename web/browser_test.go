package web

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newChrome starts headless Chromium for a journey test. Without chromium
// the test is skipped locally and fails in CI, where .ci/run installs it.
func newChrome(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed; .ci/run should have installed it")
		}
		t.Skip("chromium is not installed (apt-get install chromium); skipping the browser journey")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	return ctx
}

func TestBrowserOwnerSetupAndMFA(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(h.srv.URL+"/"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.Navigate(h.srv.URL+"/setup?token="+h.token),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, testOwnerEmail),
		chromedp.SendKeys(`input[name=password]`, testOwnerPW),
		chromedp.SendKeys(`input[name=alias]`, testAlias),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=mfa-secret]`),
	)
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Text(`[data-testid=mfa-secret]`))
	if err != nil {
		t.Fatal(err)
	}
	secret = strings.TrimSpace(secret)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(`input[name=code1]`, h.code(secret, -1)),
		chromedp.SendKeys(`input[name=code2]`, h.code(secret, 0)),
		chromedp.Click(`form[action="/mfa/bind"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=account-id]`),
	)
	if err != nil {
		t.Fatalf("bind MFA: %v", err)
	}
	accountID, err := chromedp.Run(ctx, chromedp.Text(`[data-testid=account-id]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(strings.TrimSpace(accountID)) != 16 {
		t.Errorf("overview AccountId = %q", accountID)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "overview.png")
	if err := os.WriteFile(out, shot, 0o600); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("RAMCONSOLE_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "overview.png"), shot, 0o644)
	}
	t.Logf("screenshot: %s", out)

	// Sign out and back in with password and TOTP.
	h.clock.Advance(30 * time.Second)
	err = chromedp.Do(ctx,
		chromedp.Click(`header form[action="/logout"] button`),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, testOwnerEmail),
		chromedp.SendKeys(`input[name=password]`, testOwnerPW),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`input[name=code]`),
		chromedp.SendKeys(`input[name=code]`, h.code(secret, 0)),
		chromedp.Click(`form[action="/login/mfa"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=account-id]`),
	)
	if err != nil {
		t.Fatalf("sign in again: %v", err)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(`[data-testid=who]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(who, testOwnerEmail) {
		t.Errorf("top bar shows %q", who)
	}
}

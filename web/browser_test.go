package web

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// newChrome starts headless Chromium for a journey test. Without chromium
// the test fails and says what to install (.ci/run installs it). extra
// options are added to the defaults.
func newChrome(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: apt-get install chromium (.ci/run does it on a fresh machine)")
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
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	// Start the browser on the test's context, not on a step's shorter one.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

func TestBrowserOwnerSetupAndMFA(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	err := do(ctx,
		chromedp.Navigate(h.srv.URL+"/"),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.Navigate(h.srv.URL+"/setup?token="+h.token),
		chromedp.WaitVisible(`input[name=email]`),
		chromedp.SendKeys(`input[name=email]`, testOwnerEmail),
		chromedp.SendKeys(`input[name=password]`, testOwnerPW),
		chromedp.SendKeys(`input[name=confirm_password]`, testOwnerPW),
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
	err = do(ctx,
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
	err = do(ctx,
		chromedp.Click(`header form[action="/logout"] button`),
		ownerSignsIn(h, secret),
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

// TestBrowserEmployeeJourney: the owner creates an employee with console
// access and an AccessKey, downloads the CSV into the browser's download
// folder, signs out; the employee signs in, binds MFA, changes the password
// and reaches their own page.
func TestBrowserEmployeeJourney(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	_, secret := h.setupOwner()
	downloads := t.TempDir()
	h.clock.Advance(30 * time.Second)

	// The owner signs in in the browser.
	err := do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
			return err
		}),
		chromedp.Navigate(h.srv.URL+"/login"),
		ownerSignsIn(h, secret),
		// Create the employee.
		chromedp.Navigate(h.srv.URL+"/users/new"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "alice"),
		chromedp.SendKeys(`input[name=display_name]`, "Alice Example"),
		chromedp.Click(`input[name=console_login]`),
		chromedp.Click(`input[name=create_access_key]`),
		chromedp.Click(`form[action="/users"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=credentials-csv]`),
	)
	if err != nil {
		t.Fatalf("owner creates the employee: %v", err)
	}
	password, err := chromedp.Run(ctx, chromedp.Text(`[data-testid=generated-password]`))
	if err != nil {
		t.Fatal(err)
	}
	keyID, err := chromedp.Run(ctx, chromedp.Text(`[data-testid=accesskey-id]`))
	if err != nil {
		t.Fatal(err)
	}
	keySecret, err := chromedp.Run(ctx, chromedp.Text(`[data-testid=accesskey-secret]`))
	if err != nil {
		t.Fatal(err)
	}
	// One file holds the sign-in and the AccessKey.
	if err := do(ctx, chromedp.Click(`[data-testid=credentials-csv]`)); err != nil {
		t.Fatal(err)
	}
	csvPath := filepath.Join(downloads, "credentials.csv")
	var csv []byte
	for i := 0; i < 100; i++ {
		if csv, err = os.ReadFile(csvPath); err == nil && len(csv) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if want := "UserName,LogonName,Password,AccessKeyId,AccessKeySecret,LogonUrl\nalice,alice@" + testAlias + "," + csvSafe(password) +
		"," + keyID + "," + keySecret + "," + h.srv.URL + "/login\n"; string(csv) != want {
		t.Fatalf("downloaded CSV = %q, want %q", csv, want)
	}

	// The employee signs in: forced MFA binding, then a new password.
	err = do(ctx,
		chromedp.Click(`header form[action="/logout"] button`),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, "alice@"+testAlias),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=mfa-secret]`),
	)
	if err != nil {
		t.Fatalf("employee password step: %v", err)
	}
	mfaSecret, err := chromedp.Run(ctx, chromedp.Text(`[data-testid=mfa-secret]`))
	if err != nil {
		t.Fatal(err)
	}
	mfaSecret = strings.TrimSpace(mfaSecret)
	newPW := "Bright-Harbor-Lantern-27"
	err = do(ctx,
		chromedp.SendKeys(`input[name=code1]`, h.code(mfaSecret, -1)),
		chromedp.SendKeys(`input[name=code2]`, h.code(mfaSecret, 0)),
		chromedp.Click(`form[action="/mfa/bind"] button[type=submit]`),
		chromedp.WaitVisible(`input[name=current_password]`),
		chromedp.SendKeys(`input[name=current_password]`, password),
		chromedp.SendKeys(`input[name=new_password]`, newPW),
		chromedp.SendKeys(`input[name=confirm_password]`, newPW),
		chromedp.Click(`form[action="/password/change"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=me-name]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("employee binds MFA and changes the password: %v", err)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(`[data-testid=me-name]`))
	if err != nil || name != "alice" {
		t.Errorf("/me shows %q (%v)", name, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		if dir := os.Getenv("RAMCONSOLE_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "me.png"), shot, 0o644)
		}
	}
}

// waitLocation waits until the browser's URL contains part.
func waitLocation(t *testing.T, ctx context.Context, part string) {
	t.Helper()
	loc := ""
	for range 200 {
		loc, _ = chromedp.Run(ctx, chromedp.Location())
		if strings.Contains(loc, part) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("the browser stayed at %s, waiting for %q", loc, part)
}

// dumpPage logs where the browser is and what the page says, for a failure.
func dumpPage(t *testing.T, ctx context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Text("body"))
	t.Logf("browser at %s: %.1500s", loc, text)
}

// do runs browser steps with a deadline, so a stuck step fails the test
// quickly and leaves the browser usable for dumpPage.
func do(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// TestBrowserPolicyJourney: the owner writes a custom policy (first with an
// error, shown in place), attaches it to a group; an employee in the group
// opens an allowed page, then gets the denied page with its reasons; the
// simulator agrees with what the employee experienced.
func TestBrowserPolicyJourney(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	owner, secret := h.setupOwner()
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"readers"}})
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"kai"}, "console_login": {"true"}, "password": {ramUserPW}})
	owner.get("/groups/readers")
	owner.post("/groups/readers/members", url.Values{"user": {"kai"}})
	h.clock.Advance(30 * time.Second)

	bad := `{"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:ListUsers", "Resource": "*",}]}`
	good := `{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["ram:ListUsers", "ram:ListGroups"], "Resource": "*"}]}`
	err := do(ctx,
		chromedp.Navigate(h.srv.URL+"/login"),
		ownerSignsIn(h, secret),
		chromedp.Navigate(h.srv.URL+"/policies/new"),
		chromedp.WaitVisible(`textarea[name=document]`),
		chromedp.SendKeys(`input[name=name]`, "ListPeople"),
		chromedp.SetValue(`textarea[name=document]`, bad),
		chromedp.Click(`form[action="/policies"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=policy-problems]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("owner writes a bad policy: %v", err)
	}
	problem, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=policy-problems]`))
	if !strings.Contains(problem, "line 1, column") {
		t.Errorf("the syntax error is shown as %q", problem)
	}
	kept, _ := chromedp.Run(ctx, chromedp.Value(`textarea[name=document]`))
	if kept != bad {
		t.Errorf("the typed document was not kept: %q", kept)
	}
	err = do(ctx,
		chromedp.SetValue(`textarea[name=document]`, good),
		chromedp.Click(`form[action="/policies"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=policy-document]`),
		// Attach it with the picker: search, tick, review, grant.
		chromedp.Navigate(h.srv.URL+"/groups/readers"),
		chromedp.Click(`[data-testid=add-permissions]`),
		chromedp.WaitVisible(`input[name=q]`),
		chromedp.SendKeys(`input[name=q]`, "listpeo"),
		chromedp.Click(`[data-testid=grant-form] input[name=q] ~ button`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("owner searches the policies: %v", err)
	}
	// The search's page, not the one before it, whose boxes would be lost.
	waitLocation(t, ctx, "q=listpeo")
	err = do(ctx,
		chromedp.WaitVisible(`input[name=policy][value="Custom:ListPeople"]`),
		chromedp.Click(`input[name=policy][value="Custom:ListPeople"]`),
		chromedp.Click(`[data-testid=grant-review]`),
		chromedp.WaitVisible(`[data-testid=grant-confirm]`),
		chromedp.Click(`[data-testid=grant-confirm] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=attached-policies-table] a[href="/policies/Custom/ListPeople"]`),
		chromedp.Click(`header form[action="/logout"] button`),
		// The employee.
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, "kai@"+testAlias),
		chromedp.SendKeys(`input[name=password]`, ramUserPW),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=me-name]`),
		chromedp.Navigate(h.srv.URL+"/users"),
		chromedp.WaitVisible(`[data-testid=users-table]`),
		chromedp.Navigate(h.srv.URL+"/users/kai"),
		chromedp.WaitVisible(`[data-testid=deny-type]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("policy journey: %v", err)
	}
	denyType, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=deny-type]`))
	action, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=denied-action]`))
	if denyType != "ImplicitDeny" || action != "ram:GetUser" {
		t.Errorf("denied page: %q %q", denyType, action)
	}
	// The simulator, asked by the owner, agrees.
	owner.get("/simulator")
	acct := h.accountID()
	_, allowed := simulate(t, owner, url.Values{"user": {"kai"}, "action": {"ram:ListUsers"}, "resource": {"acs:ram:*:" + acct + ":user/*"}})
	_, denied := simulate(t, owner, url.Values{"user": {"kai"}, "action": {"ram:GetUser"}, "resource": {"acs:ram:*:" + acct + ":user/kai"}})
	if allowed["decision"] != "Allow" || denied["decision"] != "ImplicitDeny" {
		t.Errorf("the simulator says %v and %v", allowed["decision"], denied["decision"])
	}
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		if dir := os.Getenv("RAMCONSOLE_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "denied.png"), shot, 0o644)
		}
	}
}

// ownerSignsIn is the owner's sign-in from the sign-in form to the overview,
// with the code of the harness clock's current step.
func ownerSignsIn(h *harness, secret string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		return chromedp.Do(ctx, ownerSubmitsSignIn(h, secret), chromedp.WaitVisible(`[data-testid=account-id]`))
	})
}

// ownerSubmitsSignIn is the owner's sign-in from the sign-in form to
// wherever it leads.
func ownerSubmitsSignIn(h *harness, secret string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		return chromedp.Do(ctx,
			chromedp.WaitVisible(`input[name=username]`),
			chromedp.SendKeys(`input[name=username]`, testOwnerEmail),
			chromedp.SendKeys(`input[name=password]`, testOwnerPW),
			chromedp.Click(`button[type=submit]`),
			chromedp.WaitVisible(`input[name=code]`),
			chromedp.SendKeys(`input[name=code]`, h.code(secret, 0)),
			chromedp.Click(`form[action="/login/mfa"] button[type=submit]`),
		)
	})
}

// TestBrowserSwitchRole: an employee switches to a role from the
// navigation, sees the banner and the role's pages, is refused a page the
// role may not open, and switches back.
func TestBrowserSwitchRole(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"auditor"}, "preset": {"account"}, "max_session_duration": {"3600"}}),
		"/roles/auditor", "create auditor")
	owner.get("/roles/auditor")
	owner.post("/roles/auditor/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunRAMReadOnlyAccess"}})
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"kai"}, "console_login": {"true"}, "password": {ramUserPW}})
	owner.get("/users/kai")
	owner.post("/users/kai/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunSTSAssumeRoleAccess"}})

	err := do(ctx,
		chromedp.Navigate(h.srv.URL+"/login"),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.SendKeys(`input[name=username]`, "kai@"+testAlias),
		chromedp.SendKeys(`input[name=password]`, ramUserPW),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=me-name]`),
		chromedp.Click(`nav a[href="/switch-role"]`),
		chromedp.WaitVisible(`select[name=role]`),
		chromedp.SetValue(`select[name=role]`, "auditor"),
		chromedp.Click(`form[action="/switch-role"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=switch-confirm]`),
		chromedp.Click(`[data-testid=switch-confirm]`),
		chromedp.WaitVisible(`[data-testid=switched-banner]`),
		chromedp.Navigate(h.srv.URL+"/users"),
		chromedp.WaitVisible(`[data-testid=users-table]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("switch to the role: %v", err)
	}
	banner, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=switched-banner]`))
	if !strings.Contains(banner, "auditor") || !strings.Contains(banner, "Back to kai") {
		t.Errorf("the banner says %q", banner)
	}
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		if dir := os.Getenv("RAMCONSOLE_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "switched-role.png"), shot, 0o644)
		}
	}
	err = do(ctx,
		chromedp.Navigate(h.srv.URL+"/users/new"),
		chromedp.WaitVisible(`[data-testid=deny-type]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("a page the role may not open: %v", err)
	}
	action, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=denied-action]`))
	if action != "ram:CreateUser" {
		t.Errorf("denied action %q", action)
	}
	err = do(ctx,
		chromedp.Click(`[data-testid=switch-back]`),
		chromedp.WaitVisible(`[data-testid=me-name]`),
		chromedp.Navigate(h.srv.URL+"/users"),
		chromedp.WaitVisible(`[data-testid=deny-type]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("switch back: %v", err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Text(`body`)); strings.Contains(n, "Acting as role") {
		t.Errorf("the banner stays after switching back")
	}
}

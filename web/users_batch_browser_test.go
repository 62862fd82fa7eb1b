package web

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestBrowserBatchCreateUsers: the owner opens the batch form from the
// users list, fills three rows, adds rows (what was typed stays), is
// refused a name typed twice (next to its row), creates the users, sees the
// one hand-over sheet, downloads the one CSV, and a second download is
// refused.
func TestBrowserBatchCreateUsers(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	owner, _ := h.setupOwner()
	downloads := t.TempDir()
	people := [][2]string{{"nora", "Nora North"}, {"omar", "Omar Ortiz"}, {"pia", ""}}
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: downloads})
			return err
		}),
		useSession(h, owner),
		chromedp.Navigate(h.srv.URL + "/users"),
		chromedp.Click(`[data-testid=create-users]`),
		chromedp.WaitVisible(`[data-testid=batch-form]`),
	}
	for i, p := range people {
		n := string(rune('1' + i))
		steps = append(steps, chromedp.SendKeys(`#f-name-`+n, p[0]))
		if p[1] != "" {
			steps = append(steps, chromedp.SendKeys(`#f-display_name-`+n, p[1]))
		}
	}
	steps = append(steps,
		chromedp.Click(`input[name=console_login]`),
		chromedp.Click(`input[name=create_access_key]`),
		chromedp.Click(`[data-testid=batch-add-rows]`),
		chromedp.WaitVisible(`#f-name-10`),
	)
	if err := do(ctx, steps...); err != nil {
		dumpPage(t, ctx)
		t.Fatalf("fill the batch form: %v", err)
	}
	kept, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[1, 2, 3].map(n => document.getElementById('f-name-' + n).value).concat([document.querySelector('input[name=console_login]').checked + ''])`))
	if err != nil || strings.Join(kept, ",") != "nora,omar,pia,true" {
		t.Fatalf("after Add rows the form holds %q (%v)", kept, err)
	}
	saveShot(t, ctx, "users-batch-form")

	// A name twice: refused next to its row, everything kept, nothing created.
	err = do(ctx,
		chromedp.SendKeys(`#f-name-4`, "NORA"),
		chromedp.Click(`[data-testid=batch-create]`),
		chromedp.WaitVisible(`[data-testid=batch-refused]`),
		chromedp.WaitVisible(`[data-testid=field-error][data-row="4"]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("a duplicate name: %v", err)
	}
	saveShot(t, ctx, "users-batch-refused")
	if n := h.countUsers(); n != 0 {
		t.Fatalf("a refused batch created %d users", n)
	}
	err = do(ctx,
		chromedp.Clear(`#f-name-4`),
		chromedp.Click(`[data-testid=batch-create]`),
		chromedp.WaitVisible(`[data-testid=handover-csv]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("create the users: %v", err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll('[data-testid=handover-user]')).map(r =>
		[r.dataset.user].concat(['handover-logon-name', 'generated-password', 'accesskey-id', 'accesskey-secret'].map(id =>
			r.querySelector('[data-testid=' + id + ']').textContent)))`))
	if err != nil || len(shown) != 3 {
		t.Fatalf("the sheet shows %q (%v), want three users", shown, err)
	}
	saveShot(t, ctx, "users-batch-handover")
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid=handover-csv]').getAttribute('href')`))
	if err != nil {
		t.Fatal(err)
	}
	if err := do(ctx, chromedp.Click(`[data-testid=handover-csv]`)); err != nil {
		t.Fatal(err)
	}
	var body []byte
	for range 100 {
		if body, err = os.ReadFile(filepath.Join(downloads, "credentials.csv")); err == nil && len(body) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	records, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(records) != 4 || strings.Join(records[0], ",") != "UserName,LogonName,Password,AccessKeyId,AccessKeySecret,LogonUrl" {
		t.Fatalf("downloaded CSV %q (%v)", body, err)
	}
	for i, s := range shown {
		want := append(s, h.srv.URL+"/login")
		if s[0] != people[i][0] || strings.Join(records[i+1], ",") != strings.Join(want, ",") {
			t.Errorf("CSV line %d = %q, the sheet shows %q", i+1, records[i+1], want)
		}
	}

	// The link works once.
	err = do(ctx,
		chromedp.Navigate(h.srv.URL+href),
		chromedp.WaitVisible(`main`),
	)
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(`main`))
	if err != nil || !strings.Contains(text, "used once") {
		t.Errorf("the second download shows %q (%v), want it refused", text, err)
	}
	if n := h.countUsers(); n != 3 {
		t.Errorf("%d users, want 3", n)
	}

	// At phone width the form and a sheet scroll inside their tables, never
	// the page. (The sheet of a batch made through the same session.)
	owner.get("/users/new?rows=2")
	post := owner.post("/users/batch", batchForm([][2]string{{"quentin-with-a-long-name", "Quentin"}, {"rosa", ""}}, "console_login", "create_access_key"))
	expectHandover(t, post, "a second batch")
	for _, p := range []struct{ name, path, wait string }{
		{"users-batch-form-390", "/users/new?rows=5", "[data-testid=batch-form]"},
		{"users-batch-handover-390", post.header.Get("Location"), "[data-testid=handover-csv]"},
	} {
		if err := do(ctx, chromedp.EmulateViewport(390, 900), chromedp.Navigate(h.srv.URL+p.path), chromedp.WaitVisible(p.wait)); err != nil {
			dumpPage(t, ctx)
			t.Fatalf("%s at 390 px: %v", p.path, err)
		}
		saveShot(t, ctx, p.name)
		if over, sw, iw, err := overflows(ctx); err != nil || over {
			t.Errorf("%s at 390 px scrolls sideways: scrollWidth %d > innerWidth %d (%v)", p.path, sw, iw, err)
		}
	}
}

package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"ramconsole/ram"
	"ramconsole/store"
)

// oauth2ProxyVersion is the oauth2-proxy the end-to-end test signs in
// through; it is built from source once and kept between test runs.
const oauth2ProxyVersion = "v7.15.6"

// oauth2ProxyBinary returns oauth2-proxy, built with go install into a
// cache folder shared by every run (and by packages testing in parallel:
// each build goes to its own folder and is renamed into place). The first
// build downloads and compiles it (a few minutes); a failed build fails
// the test, it never skips.
func oauth2ProxyBinary(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "ramconsole-test-bin", "oauth2-proxy-"+oauth2ProxyVersion)
	bin := filepath.Join(dir, "oauth2-proxy")
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("oauth2-proxy cache folder: %v", err)
	}
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		t.Fatalf("oauth2-proxy build folder: %v", err)
	}
	defer os.RemoveAll(tmp)
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building oauth2-proxy needs the go command on PATH: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, goBin, "install", "github.com/oauth2-proxy/oauth2-proxy/v7@"+oauth2ProxyVersion)
	// Outside this module, with no inherited flags (-mod, -race…) that
	// would change or refuse the build of another module.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go install github.com/oauth2-proxy/oauth2-proxy/v7@%s: %v\n%s", oauth2ProxyVersion, err, out)
	}
	if err := os.Rename(filepath.Join(tmp, "oauth2-proxy"), bin); err != nil {
		t.Fatalf("oauth2-proxy into the cache: %v", err)
	}
	t.Logf("built oauth2-proxy %s in %s into %s", oauth2ProxyVersion, time.Since(start).Round(time.Second), bin)
	return bin
}

// lockedBuffer collects a child process's output for a failure report.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// oauth2ProxyDocFlags is the oauth2-proxy command of docs/oidc.md (the
// first fenced block under "## oauth2-proxy"), as the shell would split
// it: its flags, each "--name=value", in order.
func oauth2ProxyDocFlags(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "oidc.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## oauth2-proxy\n")
	if !ok {
		t.Fatal(`docs/oidc.md has no "## oauth2-proxy" section`)
	}
	_, block, ok := strings.Cut(section, "```")
	if ok {
		_, block, ok = strings.Cut(block, "\n") // the fence's language, if any
	}
	if ok {
		block, _, ok = strings.Cut(block, "```")
	}
	if !ok {
		t.Fatal("docs/oidc.md: the oauth2-proxy section has no fenced command")
	}
	words := shellWords(t, strings.ReplaceAll(block, "\\\n", " "))
	if len(words) < 2 || words[0] != "oauth2-proxy" {
		t.Fatalf("docs/oidc.md: the oauth2-proxy block is not an oauth2-proxy command: %q", words)
	}
	for _, w := range words[1:] {
		if !strings.HasPrefix(w, "--") || !strings.Contains(w, "=") {
			t.Fatalf("docs/oidc.md: oauth2-proxy argument %q is not --name=value", w)
		}
	}
	return words[1:]
}

// shellWords splits a command line as sh does for plain words and quotes
// (no variables, no globbing: the docs' commands have none); a placeholder
// such as <32 random bytes> stays one word.
func shellWords(t *testing.T, line string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote == '<' && r == '>':
			cur.WriteRune(r)
			quote = 0
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '<':
			cur.WriteRune(r)
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// startOAuth2Proxy runs oauth2-proxy (bin) as docs/oidc.md configures it,
// on 127.0.0.1:port in front of upstream, signing in with ramconsole at
// issuer, until the test ends. Of the docs' flags only the deployment's
// values are replaced (issuer, client, redirect URL, cookie secret,
// upstream: the docs must set each); the test adds the listening address,
// plain-HTTP cookies and no oauth2-proxy button page. Its output is logged
// when the test fails.
func startOAuth2Proxy(t *testing.T, bin string, port int, issuer, clientID, clientSecret, upstream string) {
	t.Helper()
	cookieSecret := make([]byte, 32)
	_, _ = rand.Read(cookieSecret)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deployment := map[string]string{
		"--oidc-issuer-url": issuer,
		"--client-id":       clientID,
		"--client-secret":   clientSecret,
		"--redirect-url":    "http://" + addr + "/oauth2/callback",
		"--cookie-secret":   base64.URLEncoding.EncodeToString(cookieSecret),
		"--upstream":        upstream,
	}
	var args []string
	for _, flag := range oauth2ProxyDocFlags(t) {
		name, _, _ := strings.Cut(flag, "=")
		if v, ok := deployment[name]; ok {
			flag = name + "=" + v
			delete(deployment, name)
		}
		args = append(args, flag)
	}
	for name := range deployment {
		t.Errorf("docs/oidc.md: the oauth2-proxy command does not set %s", name)
	}
	args = append(args, "--http-address="+addr, "--cookie-secure=false", "--skip-provider-button=true", "--pass-user-headers=true")
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start oauth2-proxy: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("oauth2-proxy output:\n%s", out)
		}
	})
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("oauth2-proxy exited: %v\n%s", err, out)
		default:
		}
		if resp, err := client.Get("http://" + addr + "/ping"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("oauth2-proxy did not answer on %s:\n%s", addr, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// seenRequest is what the backend behind oauth2-proxy was sent.
type seenRequest struct {
	path, user, email, preferredUsername string
}

// documentLog records the documents a Chromium tab asked for, each
// redirect's answer included: requests as "GET url", answers as
// "status url", in order.
type documentLog struct {
	mu        sync.Mutex
	lines     []string
	answers   []docAnswer
	requested []string
}

type docAnswer struct {
	url    string
	status int64
}

func (d *documentLog) listen(t *testing.T, ctx context.Context) {
	t.Helper()
	err := chromedp.Listen(ctx, func(ev any) {
		d.mu.Lock()
		defer d.mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			if ev.Type != network.ResourceTypeDocument {
				return
			}
			if r := ev.RedirectResponse; r != nil {
				d.answers = append(d.answers, docAnswer{r.URL, r.Status})
				d.lines = append(d.lines, fmt.Sprintf("  %d %s", r.Status, r.URL))
			}
			d.requested = append(d.requested, ev.Request.URL)
			d.lines = append(d.lines, fmt.Sprintf("%s %s", ev.Request.Method, ev.Request.URL))
		case *network.EventResponseReceived:
			if ev.Type == network.ResourceTypeDocument {
				d.answers = append(d.answers, docAnswer{ev.Response.URL, ev.Response.Status})
				d.lines = append(d.lines, fmt.Sprintf("  %d %s", ev.Response.Status, ev.Response.URL))
			}
		}
	})
	if err != nil {
		t.Fatalf("listen to the tab: %v", err)
	}
}

// status is the status of the last answer for a URL that starts with
// prefix (0: none).
func (d *documentLog) status(prefix string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.answers) - 1; i >= 0; i-- {
		if strings.HasPrefix(d.answers[i].url, prefix) {
			return d.answers[i].status
		}
	}
	return 0
}

// asked is the last document URL asked for that starts with prefix.
func (d *documentLog) asked(prefix string) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.requested) - 1; i >= 0; i-- {
		if strings.HasPrefix(d.requested[i], prefix) {
			return d.requested[i]
		}
	}
	return ""
}

func (d *documentLog) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return strings.Join(d.lines, "\n")
}

// TestBrowserOAuth2ProxySignsInThroughRamconsole: a web app behind a real
// oauth2-proxy (the relying party the docs describe) in headless Chromium.
// An allowed employee opening the app is sent to ramconsole's sign-in,
// types the password and lands on the app, which learns who they are from
// the proxy's headers: the last step of the sign-in is a form POST whose
// redirect chain ends at another origin, which Chromium checks against the
// console's CSP form-action (SPEC §17.8). An employee no policy allows
// stays on ramconsole's denied page and the app never sees them. The audit
// log has both decisions and the token exchange, and no secret.
func TestBrowserOAuth2ProxySignsInThroughRamconsole(t *testing.T) {
	bin := oauth2ProxyBinary(t) // the one-time build first, before the browser and the console start
	ctx := newChrome(t)
	h := newHarness(t)
	// ID tokens are dated by the harness clock and oauth2-proxy checks them
	// against the real one.
	h.setClock(time.Now().UTC().Truncate(time.Second))
	h.svc.SetIssuer(h.srv.URL)
	owner, _ := h.setupOwner()

	proxyPort := freePort(t)
	proxyURL := fmt.Sprintf("http://127.0.0.1:%d", proxyPort)
	callback := proxyURL + "/oauth2/callback"
	bg := context.Background()
	app, err := h.svc.CreateApplication(bg, ownerActor(h), ram.ApplicationInput{AppName: "proxyapp", DisplayName: "Proxy App",
		AppType: ram.AppTypeWeb, RedirectURIs: []string{callback}, Scopes: []string{"openid", "profile", "email", "groups"}})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := h.svc.CreateAppSecret(bg, ownerActor(h), "proxyapp", false)
	if err != nil {
		t.Fatal(err)
	}

	// alice may sign in to the app; bob has no policy naming oidc:.
	// Neither has an email: the docs' --oidc-email-claim lets them in.
	h.ramUser(owner, "alice", nil, map[string]string{"ProxyAppSignIn": `{"Version":"1","Statement":[{"Effect":"Allow",` +
		`"Action":"oidc:SignIn","Resource":"acs:oidc:*:*:application/proxyapp"}]}`})
	h.ramUser(owner, "bob", nil, nil)
	aliceID := h.userID(t, "alice")

	// The app behind the proxy: it shows who the proxy says is there.
	var mu sync.Mutex
	var seen []seenRequest
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := seenRequest{path: r.URL.Path, user: r.Header.Get("X-Forwarded-User"), email: r.Header.Get("X-Forwarded-Email"),
			preferredUsername: r.Header.Get("X-Forwarded-Preferred-Username")}
		mu.Lock()
		seen = append(seen, s)
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Proxy App</title><h1 data-testid="backend">The app behind oauth2-proxy</h1>
<p>X-Forwarded-User: <span data-testid="fwd-user">%s</span></p>
<p>X-Forwarded-Email: <span data-testid="fwd-email">%s</span></p>
<p>X-Forwarded-Preferred-Username: <span data-testid="fwd-preferred">%s</span></p>
`, html.EscapeString(s.user), html.EscapeString(s.email), html.EscapeString(s.preferredUsername))
	}))
	t.Cleanup(backend.Close)
	backendSeen := func() []seenRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]seenRequest(nil), seen...)
	}

	// Signing up moved the clock on; never back, but not behind real time.
	if now := time.Now().UTC().Truncate(time.Second); h.clock.Now().Before(now) {
		h.setClock(now)
	}
	startOAuth2Proxy(t, bin, proxyPort, h.srv.URL, app.AppID, sec.Value, backend.URL)
	began := time.Now()

	// alice: the app → ramconsole's sign-in → the app, as alice.
	var aliceDocs documentLog
	aliceDocs.listen(t, ctx)
	err = do(ctx,
		chromedp.Navigate(proxyURL+"/"),
		chromedp.WaitVisible(`form[action="/login"] input[name=username]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("the app sends alice to ramconsole: %v\n%s", err, &aliceDocs)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasPrefix(loc, h.srv.URL+"/login?") {
		t.Fatalf("the app sent alice to %s, want ramconsole's sign-in", loc)
	}
	err = do(ctx,
		chromedp.SendKeys(`form[action="/login"] input[name=username]`, "alice"),
		chromedp.SendKeys(`form[action="/login"] input[name=password]`, ramUserPW),
		chromedp.Click(`form[action="/login"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=backend]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("alice signs in and lands on the app (SPEC §17.8: a form POST's redirect chain to another origin meets form-action in Chromium): %v\ndocuments:\n%s",
			err, &aliceDocs)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != proxyURL+"/" {
		t.Errorf("alice ended on %s, want %s/", loc, proxyURL)
	}
	user, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=fwd-user]`))
	email, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=fwd-email]`))
	preferred, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=fwd-preferred]`))
	upn := "alice@" + testAlias
	if user != aliceID || email != upn || preferred != upn {
		t.Errorf("the app shows user %q email %q preferred %q; want %q, %s, %s", user, email, preferred, aliceID, upn, upn)
	}
	saveShot(t, ctx, "oidc-oauth2-proxy-app")
	aliceSeen := backendSeen()
	if len(aliceSeen) == 0 {
		t.Fatal("the backend saw no request")
	}
	for _, s := range aliceSeen {
		if s.user != aliceID || s.email != upn || s.preferredUsername != upn {
			t.Errorf("the backend got a request without alice's identity: %+v", s)
		}
	}
	// The code went to the proxy's callback once; it must not be audited.
	cb, _ := url.Parse(aliceDocs.asked(callback))
	code := ""
	if cb != nil {
		code = cb.Query().Get("code")
	}
	if code == "" || cb.Query().Get("iss") != h.srv.URL {
		t.Errorf("no callback with a code and the issuer among alice's documents:\n%s", &aliceDocs)
	}
	t.Logf("alice's sign-in through oauth2-proxy took %s:\n%s", time.Since(began).Round(time.Millisecond), &aliceDocs)

	// bob, in a browser context of his own: the denied page, no code.
	bobCtx, cancelBob := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	defer cancelBob()
	var bobDocs documentLog
	bobDocs.listen(t, bobCtx)
	err = do(bobCtx,
		chromedp.Navigate(proxyURL+"/"),
		chromedp.WaitVisible(`form[action="/login"] input[name=username]`),
		chromedp.SendKeys(`form[action="/login"] input[name=username]`, "bob"),
		chromedp.SendKeys(`form[action="/login"] input[name=password]`, ramUserPW),
		chromedp.Click(`form[action="/login"] button[type=submit]`),
		chromedp.WaitVisible(`[data-testid=oidc-denied]`),
	)
	if err != nil {
		dumpPage(t, bobCtx)
		t.Fatalf("bob signs in and gets the denied page: %v\ndocuments:\n%s", err, &bobDocs)
	}
	if loc, _ := chromedp.Run(bobCtx, chromedp.Location()); !strings.HasPrefix(loc, h.srv.URL+"/oauth2/v1/auth?") {
		t.Errorf("bob's denied page is at %s, want ramconsole's authorization endpoint", loc)
	}
	if st := bobDocs.status(h.srv.URL + "/oauth2/v1/auth?"); st != http.StatusForbidden {
		t.Errorf("bob's authorization answered %d, want 403; documents:\n%s", st, &bobDocs)
	}
	if c := bobDocs.asked(callback); c != "" {
		t.Errorf("bob's browser went to the app's callback: %s", c)
	}
	action, _ := chromedp.Run(bobCtx, chromedp.Text(`[data-testid=denied-action]`))
	decision, _ := chromedp.Run(bobCtx, chromedp.Text(`[data-testid=denied-decision]`))
	if action != "oidc:SignIn" || decision != "ImplicitDeny" {
		t.Errorf("the denied page names action %q and decision %q", action, decision)
	}
	saveShot(t, bobCtx, "oidc-oauth2-proxy-denied")
	if after := backendSeen(); len(after) != len(aliceSeen) {
		t.Errorf("the backend was reached while bob was refused: %+v", after[len(aliceSeen):])
	}

	// The audit log (newest first): both decisions and the exchange, and
	// none of the secrets.
	var aliceAllowed, bobDenied, token *store.StoredEvent
	events := h.events()
	for i := range events {
		ev := &events[i]
		switch {
		case ev.EventName == "Authorize" && ev.ErrorCode == "" && ev.UserIdentity.UserName == "alice" && aliceAllowed == nil:
			aliceAllowed = ev
		case ev.EventName == "Authorize" && ev.ErrorCode == "access_denied" && ev.UserIdentity.UserName == "bob" && bobDenied == nil:
			bobDenied = ev
		case ev.EventName == "Token" && ev.ErrorCode == "" && token == nil:
			token = ev
		}
		for what, secret := range map[string]string{"client secret": sec.Value, "authorization code": code} {
			if secret != "" && strings.Contains(ev.Body, secret) {
				t.Errorf("event %s records the %s: %s", ev.EventName, what, ev.Body)
			}
		}
	}
	switch {
	case aliceAllowed == nil:
		t.Error("no Authorize event allowing alice")
	case aliceAllowed.EventSource != "oidc" || aliceAllowed.RequestParameters["client_id"] != app.AppID ||
		aliceAllowed.RequestParameters["redirect_uri"] != callback:
		t.Errorf("alice's Authorize event: %s", aliceAllowed.Body)
	}
	switch {
	case bobDenied == nil:
		t.Error("no Authorize event refusing bob with access_denied")
	case bobDenied.EventSource != "oidc" || bobDenied.RequestParameters["client_id"] != app.AppID:
		t.Errorf("bob's Authorize event: %s", bobDenied.Body)
	}
	switch {
	case token == nil:
		t.Error("no successful Token event")
	case token.EventSource != "oidc" || token.RequestParameters["grant_type"] != "authorization_code":
		t.Errorf("the Token event: %s", token.Body)
	}
	if t.Failed() {
		for _, ev := range events {
			if ev.EventSource == "oidc" {
				t.Logf("event: %s", ev.Body)
			}
		}
	}
}

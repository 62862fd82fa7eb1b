package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"ramconsole/ram/samlsp/samltest"
)

// User SSO in Chromium: the console at http://localhost:PORT, the identity
// provider at http://127.0.0.1:PORT (another site), its auto-submitting
// form posting the response across sites to the ACS.
func TestBrowserUserSSOSignIn(t *testing.T) {
	ctx := newChrome(t)
	h := newHarness(t)
	base := bkBase(t, h, "localhost")
	h.svc.SetIssuer(base)
	owner, _ := h.setupOwner()
	var idp *samltest.IdP
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { idp.Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	idp = samltest.New(t, srv.URL)
	idp.SetClock(h.clock.Now)
	h.ramUser(owner, "alice", nil, nil)
	e := &ssoEnv{t: t, h: h, idp: idp, sp: h.svc.UserSAMLSP()}
	e.on()
	idp.SetUser(samltest.User{NameID: "alice@" + testAlias})

	// SP-initiated: /login's "Sign in with SSO", the IdP, the overview.
	err := do(ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.Click(`[data-testid=sso-login]`),
		chromedp.WaitVisible(`[data-testid=who]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("SP-initiated sign-in: %v", err)
	}
	who, _ := chromedp.Run(ctx, chromedp.Text(`[data-testid=who]`))
	// The overview of a RAM user is its own page.
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/me" || !strings.Contains(who, "alice") {
		t.Errorf("after SP-initiated SSO the browser is at %s as %q, want %s/me as alice", loc, who, base)
	}
	if len(idp.Requests()) != 1 {
		t.Errorf("the IdP saw %d AuthnRequests", len(idp.Requests()))
	}

	// IdP-initiated, with a RelayState deep link, in a fresh session.
	q := url.Values{"acs": {e.sp.ACS}, "audience": {e.sp.EntityID}, "relay": {"/me?tab=keys"}}
	err = do(ctx,
		chromedp.Click(`header form[action="/logout"] button`),
		chromedp.WaitVisible(`input[name=username]`),
		chromedp.Navigate(srv.URL+"/idp-initiated?"+q.Encode()),
		chromedp.WaitVisible(`[data-testid=me-name]`),
	)
	if err != nil {
		dumpPage(t, ctx)
		t.Fatalf("IdP-initiated sign-in: %v", err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != base+"/me?tab=keys" {
		t.Errorf("after IdP-initiated SSO the browser is at %s, want %s/me?tab=keys", loc, base)
	}
}

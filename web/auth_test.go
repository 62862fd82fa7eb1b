package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ramconsole/ram"
)

func TestFirstRunJourney(t *testing.T) {
	h := newHarness(t)
	anon := h.browser()
	expectRedirect(t, anon.get("/"), "/setup", "before setup, / leads to setup")
	expectRedirect(t, anon.get("/login"), "/setup", "before setup, /login leads to setup")

	b, secret := h.setupOwner()
	p := b.get("/")
	expectStatus(t, p, 200, "overview")
	for _, want := range []string{`data-testid="account-id"`, testAlias, "/login", "Owner MFA bound"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if !regexp.MustCompile(`data-testid="account-id">\d{16}<`).MatchString(p.body) {
		t.Errorf("overview shows no 16-digit AccountId")
	}
	expectStatus(t, anon.get("/setup"), 404, "after setup /setup is gone")
	expectStatus(t, anon.post("/setup", url.Values{"token": {h.token}}), 404, "after setup POST /setup is gone")

	expectRedirect(t, b.post("/logout", nil), "/login", "sign out")
	expectRedirect(t, b.get("/"), "/login?next=%2F", "signed out")

	b = h.signIn(secret)
	expectStatus(t, b.get("/"), 200, "overview after signing in again")

	names := map[string]int{}
	for _, e := range h.events() {
		names[e.EventName]++
		if e.RequestID == "" || e.SourceIPAddress == "" {
			t.Errorf("event %s lacks requestId or sourceIpAddress", e.EventName)
		}
	}
	for _, want := range []string{"SetupAccount", "BindMFADevice", "ConsoleSignout", "ConsoleSignin"} {
		if names[want] == 0 {
			t.Errorf("no %s event; have %v", want, names)
		}
	}
	rep, err := h.st.VerifyChain(context.Background())
	if err != nil || !rep.OK {
		t.Fatalf("VerifyChain = %+v, %v; want intact", rep, err)
	}
}

func TestSetupValidation(t *testing.T) {
	h := newHarness(t)
	cases := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"wrong token", url.Values{"token": {"nope"}, "email": {testOwnerEmail}, "password": {testOwnerPW}}, "token"},
		{"bad email", url.Values{"email": {"not-an-email"}, "password": {testOwnerPW}}, "email"},
		{"short password", url.Values{"email": {testOwnerEmail}, "password": {"Short-1a"}}, "password"},
		{"common password", url.Values{"email": {testOwnerEmail}, "password": {"Password1234!"}}, "password"},
		{"password with own name", url.Values{"email": {"margaret@example.com"}, "password": {"xx-margaret-2026-yy"}}, "password"},
		{"password over 256 characters", url.Values{"email": {testOwnerEmail}, "password": {strings.Repeat("aB3$", 65)}}, "password"},
		{"alias with upper case", url.Values{"email": {testOwnerEmail}, "password": {testOwnerPW}, "alias": {"Enterprise"}}, "alias"},
		{"alias with double hyphen", url.Values{"email": {testOwnerEmail}, "password": {testOwnerPW}, "alias": {"a--b"}}, "alias"},
		{"alias too short", url.Values{"email": {testOwnerEmail}, "password": {testOwnerPW}, "alias": {"ab"}}, "alias"},
		{"passwords typed twice differ", url.Values{"email": {testOwnerEmail}, "password": {testOwnerPW}, "confirm_password": {testOwnerPW + "x"}}, "confirm_password"},
		{"password not typed twice", url.Values{"email": {testOwnerEmail}, "password": {testOwnerPW}}, "confirm_password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := h.browser()
			b.get("/setup")
			if tc.form.Get("token") == "" {
				tc.form.Set("token", h.token)
			}
			p := b.post("/setup", tc.form)
			expectStatus(t, p, http.StatusUnprocessableEntity, tc.name)
			if !strings.Contains(p.body, `data-field="`+tc.field+`"`) {
				t.Errorf("no message next to %s: %s", tc.field, p.body)
			}
			if e := tc.form.Get("email"); e != "" && !strings.Contains(p.body, `value="`+e+`"`) {
				t.Errorf("typed email %q not kept", e)
			}
			if strings.Contains(p.body, testOwnerPW) {
				t.Errorf("the password was echoed back")
			}
			if need, _ := h.svc.NeedsSetup(context.Background()); !need {
				t.Fatalf("invalid setup created the account")
			}
		})
	}
	if n := len(h.events()); n != 0 {
		t.Errorf("refused setups wrote %d events", n)
	}
}

func TestSetupTokenIsSingleUse(t *testing.T) {
	h := newHarness(t)
	h.setupOwner()
	if _, err := h.svc.IssueSetupToken(context.Background(), h.dataDir()); err != nil {
		t.Fatal(err)
	}
	if tok, _ := h.svc.IssueSetupToken(context.Background(), h.dataDir()); tok != "" {
		t.Errorf("a new setup token was issued after setup")
	}
	if _, err := filepath.Glob(filepath.Join(h.dataDir(), ram.SetupTokenFile)); err != nil {
		t.Fatal(err)
	}
	err := h.svc.Setup(context.Background(), ram.Actor{}, ram.SetupInput{Token: h.token, Email: "x@example.com", Password: testOwnerPW})
	if ram.ErrorKind(err) != ram.ENOTFOUND {
		t.Errorf("second Setup = %v, want not found", err)
	}
}

func TestSignInFormValidation(t *testing.T) {
	h := newHarness(t)
	h.setupOwner()
	b := h.browser()
	b.get("/login")
	before := len(h.events())
	p := b.post("/login", url.Values{"username": {"someone"}, "password": {""}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "empty password")
	if !strings.Contains(p.body, `data-field="password"`) || !strings.Contains(p.body, `value="someone"`) {
		t.Errorf("no message next to the password, or the typed name was lost")
	}
	b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	b.get("/login/mfa")
	expectStatus(t, b.post("/login/mfa", url.Values{"code": {"12ab"}}), http.StatusUnprocessableEntity, "malformed code")
	if n := len(h.events()) - before; n != 0 {
		t.Errorf("malformed input wrote %d events", n)
	}
	o, _ := h.st.Owner(context.Background())
	if o.FailedCount != 0 {
		t.Errorf("malformed input counted as %d failed attempts", o.FailedCount)
	}
}

func TestMFACodeReplayAndAge(t *testing.T) {
	h := newHarness(t)
	_, secret := h.setupOwner()

	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), "/login/mfa", "password step")
	b.get("/login/mfa")
	code := h.code(secret, 0)
	expectRedirect(t, b.post("/login/mfa", url.Values{"code": {code}}), "/", "first use of a code")

	b2 := h.browser()
	b2.get("/login")
	b2.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	b2.get("/login/mfa")
	expectStatus(t, b2.post("/login/mfa", url.Values{"code": {code}}), http.StatusUnauthorized, "replayed code")

	h.clock.Advance(30 * time.Second)
	expectStatus(t, b2.post("/login/mfa", url.Values{"code": {h.code(secret, -2)}}), http.StatusUnauthorized, "code two steps old")
	expectRedirect(t, b2.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}}), "/", "fresh code")

	var replay, invalid bool
	for _, e := range h.events() {
		if e.EventName == "CheckMFA" && e.ErrorCode == "MFACodeReplayed" {
			replay = true
		}
		if e.EventName == "CheckMFA" && e.ErrorCode == "InvalidMFACode" {
			invalid = true
		}
	}
	if !replay || !invalid {
		t.Errorf("audit: replay event %v, invalid-code event %v; want both", replay, invalid)
	}
}

func TestLockout(t *testing.T) {
	h := newHarness(t)
	_, secret := h.setupOwner()
	b := h.browser()
	b.get("/login")
	// Wrong owner passwords do not count while a device is bound (the code
	// step follows; TestStrangerCannotLockOutOwner); wrong codes do.
	for i := 0; i < 3; i++ {
		expectStatus(t, b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {"wrong password " + string(rune('a'+i))}}), 401, "wrong password")
	}
	b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	b.get("/login/mfa")
	for i := 0; i < 5; i++ {
		expectStatus(t, b.post("/login/mfa", url.Values{"code": {fmt.Sprintf("00000%d", i)}}), 401, "wrong code")
	}
	// Locked: even the right code and the right password are refused.
	expectStatus(t, b.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}}), 401, "right code while locked")
	c := h.browser()
	c.get("/login")
	expectStatus(t, c.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), 401, "right password while locked")

	h.clock.Advance(61 * time.Minute)
	c.get("/login")
	expectRedirect(t, c.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), "/login/mfa", "after an hour")
	c.get("/login/mfa")
	expectRedirect(t, c.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}}), "/", "code after an hour")

	var locked bool
	for _, e := range h.events() {
		locked = locked || e.ErrorCode == "AccountLocked"
	}
	if !locked {
		t.Errorf("no AccountLocked event")
	}
}

// normalise removes what differs between any two responses (tokens, ids).
func normalise(body string) string {
	body = csrfRE.ReplaceAllString(body, `name="csrf_token" value=""`)
	return regexp.MustCompile(`value="[^"]*" autocomplete="username"`).ReplaceAllString(body, `value="" autocomplete="username"`)
}

func TestSignInRefusalsAreIdentical(t *testing.T) {
	h := newHarness(t)
	h.setupOwner()
	try := func(user, pw string) page {
		b := h.browser()
		b.get("/login")
		return b.post("/login", url.Values{"username": {user}, "password": {pw}})
	}
	unknown := try("nobody@example.com", testOwnerPW)
	wrong := try(testOwnerEmail, "not the password")
	// Lock the owner with wrong codes (wrong passwords alone do not).
	l := h.browser()
	l.get("/login")
	l.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	l.get("/login/mfa")
	for i := 0; i < 5; i++ {
		l.post("/login/mfa", url.Values{"code": {"000000"}})
	}
	locked := try(testOwnerEmail, testOwnerPW)
	for name, p := range map[string]page{"wrong password": wrong, "locked": locked} {
		if p.status != unknown.status || normalise(p.body) != normalise(unknown.body) {
			t.Errorf("%s answers %d %q; unknown user %d %q", name, p.status, normalise(p.body), unknown.status, normalise(unknown.body))
		}
	}
	if !strings.Contains(unknown.body, "Incorrect logon name or password") {
		t.Errorf("refusal message missing")
	}
	var sawUnknown bool
	for _, e := range h.events() {
		if e.UserIdentity.Type == "unknown" && e.AdditionalEventData["loginAccount"] == "nobody@example.com" {
			sawUnknown = true
		}
	}
	if !sawUnknown {
		t.Errorf("the unknown name's sign-in was not audited with its loginAccount")
	}
}

func TestCSRF(t *testing.T) {
	h := newHarness(t)
	b, _ := h.setupOwner()
	before := len(h.events())
	p := b.post("/logout", url.Values{"csrf_token": {""}})
	expectStatus(t, p, http.StatusForbidden, "POST without token")
	p = b.post("/logout", url.Values{"csrf_token": {"forged"}})
	expectStatus(t, p, http.StatusForbidden, "POST with a wrong token")

	b.get("/")
	for _, hdr := range []map[string]string{
		{"Origin": "https://evil.example"},
		{"Sec-Fetch-Site": "cross-site"},
		{"Sec-Fetch-Site": "same-site"},
	} {
		form := url.Values{"csrf_token": {b.csrf}}
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/logout", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		expectStatus(t, b.do(req), http.StatusForbidden, "cross-site POST "+strings.Join(mapKeys(hdr), ","))
	}
	expectStatus(t, b.get("/"), 200, "still signed in after refused posts")
	if after := len(h.events()); after != before {
		t.Errorf("refused posts wrote %d events", after-before)
	}
	// A same-origin post with the token works.
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/logout", strings.NewReader(url.Values{"csrf_token": {b.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	expectRedirect(t, b.do(req), "/login", "same-origin sign-out")
}

func mapKeys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSessionFixation(t *testing.T) {
	h := newHarness(t)
	_, secret := h.setupOwner()
	b := h.browser()
	b.get("/login")
	anonID := b.cookie()
	if anonID == "" {
		t.Fatal("the sign-in form set no session cookie")
	}
	b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	pendingID := b.cookie()
	if pendingID == anonID {
		t.Fatal("the session id did not change after the password step")
	}
	b.get("/login/mfa")
	expectRedirect(t, b.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}}), "/", "MFA step")
	fullID := b.cookie()
	if fullID == pendingID || fullID == anonID {
		t.Fatal("the session id did not change after MFA")
	}

	// The old ids are dead.
	for name, id := range map[string]string{"anonymous": anonID, "pending": pendingID} {
		attacker := h.browser()
		attacker.setCookie(id)
		expectRedirect(t, attacker.get("/"), "/login?next=%2F", name+" id after sign-in")
	}
	// Logout kills the session server-side: a copy of the cookie is useless.
	stolen := h.browser()
	stolen.setCookie(fullID)
	expectStatus(t, stolen.get("/"), 200, "copy of a live session")
	b.get("/")
	expectRedirect(t, b.post("/logout", nil), "/login", "sign out")
	expectRedirect(t, stolen.get("/"), "/login?next=%2F", "copy after sign-out")
}

func TestStagedSessionExpires(t *testing.T) {
	h := newHarness(t)
	h.setupOwner()
	b := h.browser()
	b.get("/login")
	b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	expectStatus(t, b.get("/login/mfa"), 200, "MFA step")
	h.clock.Advance(5*time.Minute + time.Second)
	expectRedirect(t, b.get("/login/mfa"), "/login?next=%2Flogin%2Fmfa", "MFA step after 5 minutes")
}

// Every route a session part-way through sign-in may not use turns it away,
// generated from the route table so a new route cannot escape.
func TestNoMFABypass(t *testing.T) {
	h := newHarness(t)
	h.setupOwner()
	b := h.browser()
	b.get("/login")
	b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	b.get("/login/mfa")
	checked := 0
	for _, r := range h.app.Routes() {
		switch r.Access {
		case Public, MFAStep, AnySession, SetupOnly:
			continue
		}
		path := strings.ReplaceAll(r.Path, ":name", "x")
		var p page
		if r.Method == http.MethodGet {
			p = b.get(path)
		} else {
			p = b.post(path, url.Values{})
		}
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/login/mfa" {
			t.Errorf("%s %s with an MFA-pending session: %d → %q, want 303 → /login/mfa", r.Method, r.Path, p.status, p.header.Get("Location"))
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no route checked")
	}
}

func TestDatabaseHoldsNoSecrets(t *testing.T) {
	h := newHarness(t)
	_, secret := h.setupOwner()
	h.signIn(secret)
	raw := h.rawDatabase()
	seed, _ := ram.DecodeTOTPSecret(secret)
	for name, needle := range map[string][]byte{
		"owner password":     []byte(testOwnerPW),
		"TOTP seed (Base32)": []byte(secret),
		"TOTP seed (raw)":    seed,
		"setup token":        []byte(h.token),
	} {
		if bytes.Contains(raw, needle) {
			t.Errorf("the database file contains the %s", name)
		}
	}
	if strings.Contains(h.logs.String(), h.token) || strings.Contains(h.logs.String(), testOwnerPW) {
		t.Errorf("a secret reached the log")
	}
}

func TestAuditVerifyDetectsTampering(t *testing.T) {
	tamper := []struct {
		name string
		sql  string
	}{
		{"body changed", `UPDATE events SET body = replace(body, '"isError":false', '"isError":true') WHERE seq = 3`},
		{"column changed", `UPDATE events SET user_name = 'someone' WHERE seq = 3`},
		{"row deleted", `DELETE FROM events WHERE seq = 2`},
		{"newest row deleted", `DELETE FROM events WHERE seq = 3`},
		{"oldest row deleted", `DELETE FROM events WHERE seq = 1`},
		{"rows reordered", `UPDATE events SET seq = CASE seq WHEN 2 THEN -3 WHEN 3 THEN -2 END WHERE seq IN (2, 3);
			UPDATE events SET seq = -seq WHERE seq < 0`},
		{"link changed", `UPDATE events SET prev_hash = 'x' WHERE seq = 2`},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			_, secret := h.setupOwner()
			h.signIn(secret)
			ctx := context.Background()
			if rep, err := h.st.VerifyChain(ctx); err != nil || !rep.OK {
				t.Fatalf("intact chain: %+v %v", rep, err)
			}
			db := h.openDB()
			if _, err := db.Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			rep, err := h.st.VerifyChain(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK || rep.BrokenAt == 0 {
				t.Errorf("VerifyChain after %s = %+v, want broken", tc.name, rep)
			}
		})
	}
}

// expectPageHeaders checks the headers SPEC §8 asks of every page: a
// strict Content-Security-Policy, X-Frame-Options, X-Content-Type-Options,
// Referrer-Policy, and the request's id.
func expectPageHeaders(t *testing.T, h http.Header, what string) {
	t.Helper()
	for k, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s: %s = %q, want %q", what, k, got, want)
		}
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("%s: CSP = %q", what, csp)
	}
	if h.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", what)
	}
}

func TestSecurityHeadersAndLimits(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	p := b.get("/setup")
	expectPageHeaders(t, p.header, "/setup")
	big := url.Values{"token": {strings.Repeat("x", 1<<20+10)}}
	expectStatus(t, b.post("/setup", big), http.StatusRequestEntityTooLarge, "1 MiB body")
	expectStatus(t, b.get("/no/such/page"), 404, "unknown path")
	css := regexp.MustCompile(`href="(/static/[^"]+)"`).FindStringSubmatch(p.body)
	if css == nil {
		t.Fatal("no stylesheet link")
	}
	sp := b.get(css[1])
	expectStatus(t, sp, 200, "stylesheet")
	if cc := sp.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
		t.Errorf("static Cache-Control = %q", cc)
	}
	expectStatus(t, b.get("/static/000000000000/app.css"), 404, "stale asset hash")
	hp := b.get("/healthz")
	if hp.status != 200 || !strings.Contains(hp.body, `"status":"ok"`) {
		t.Errorf("healthz = %d %s", hp.status, hp.body)
	}
}

func TestUnbindAndHostReset(t *testing.T) {
	h := newHarness(t)
	b, secret := h.setupOwner()
	p := b.get("/mfa/bind")
	if !strings.Contains(p.body, "/mfa/unbind") {
		t.Fatalf("the MFA page of a bound owner offers no unbind")
	}
	expectStatus(t, b.post("/mfa/unbind", url.Values{"password": {"wrong"}, "code": {h.code(secret, 0)}}), 422, "unbind with a wrong password")
	expectRedirect(t, b.post("/mfa/unbind", url.Values{"password": {testOwnerPW}, "code": {h.code(secret, 0)}}), "/mfa/bind", "unbind")
	expectRedirect(t, b.get("/"), "/mfa/bind", "owner without MFA reaches only binding")

	// Bind again, then lose the phone: the host resets it.
	p = b.get("/mfa/bind")
	secret = secretRE.FindStringSubmatch(p.body)[1]
	h.clock.Advance(30 * time.Second)
	expectRedirect(t, b.post("/mfa/bind", url.Values{"code1": {h.code(secret, -1)}, "code2": {h.code(secret, 0)}}), "/", "bind again")
	if _, err := h.svc.ResetOwnerMFA(context.Background(), ram.Actor{RequestID: "host"}); err != nil {
		t.Fatal(err)
	}
	expectRedirect(t, b.get("/"), "/login?next=%2F", "sessions end at reset")
	c := h.browser()
	c.get("/login")
	expectRedirect(t, c.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), "/mfa/bind", "sign-in after reset")
	expectRedirect(t, c.get("/"), "/mfa/bind", "only binding until bound")
}

// next= after sign-in leads only to local paths (SPEC §8).
func TestNextIsLocalOnly(t *testing.T) {
	h := newHarness(t)
	_, secret := h.setupOwner()
	for next, want := range map[string]string{
		"/users":                 "/users",
		"//evil.example/":        "/",
		"https://evil.example/":  "/",
		"/\\evil.example":        "/",
		"javascript:alert(1)":    "/",
		"/users\r\nSet-Cookie:x": "/",
		"/\t/evil.example":       "/",
		"/%09/evil.example":      "/",
		"/%2F/evil.example":      "/",
		"\\/evil.example":        "/",
		" //evil.example":        "/",
	} {
		b := h.browser()
		b.get("/login?next=" + url.QueryEscape(next))
		b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}, "next": {next}})
		b.get("/login/mfa")
		p := b.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}})
		h.clock.Advance(30 * time.Second)
		if got := p.header.Get("Location"); got != want {
			t.Errorf("next=%q: redirected to %q, want %q", next, got, want)
		}
	}
}

// Over TLS: HSTS, and the session cookie is Secure (SPEC §2, §8).
func TestTLSHeadersAndSecureCookie(t *testing.T) {
	h := newHarness(t)
	app, err := New(Config{TLS: true}, Deps{Store: h.st, RAM: h.svc})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(app)
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q", hsts)
	}
	// An OpenAPI answer (here a refusal of an unsigned call) too.
	api, err := srv.Client().Get(srv.URL + "/?Action=GetUser&UserName=x")
	if err != nil {
		t.Fatal(err)
	}
	api.Body.Close()
	if hsts := api.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("OpenAPI answer: Strict-Transport-Security = %q", hsts)
	}
	var found bool
	for _, c := range resp.Cookies() {
		if c.Name == CookieName {
			found = true
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("session cookie Secure=%v HttpOnly=%v SameSite=%v", c.Secure, c.HttpOnly, c.SameSite)
			}
		}
	}
	if !found {
		t.Errorf("no session cookie on the setup form")
	}
}

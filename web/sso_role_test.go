package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ramconsole/ram"
	"ramconsole/ram/samlsp/samltest"
	"ramconsole/store"
)

// Console role-based SSO (SPEC §18.11 §5): an identity provider posts a
// signed response to /saml-role/sso; the console acts as the role session
// it grants, authorised by the role's policies, with no RAM user behind it.

// roleSSOEnv is a console whose SAML provider "corp-idp" is a samltest IdP,
// with roles trusting it: user-reader (may list users), group-reader (may
// list groups) and picky (trusts only another NameID).
type roleSSOEnv struct {
	t           *testing.T
	h           *harness
	owner       *browser
	idp         *samltest.IdP
	acct        string
	providerARN string
}

func newRoleSSOEnv(t *testing.T) *roleSSOEnv {
	t.Helper()
	h := newHarness(t)
	h.svc.SetIssuer(h.srv.URL)
	owner, _ := h.setupOwner()
	e := &roleSSOEnv{t: t, h: h, owner: owner, idp: samltest.New(t, "https://idp.example.net"), acct: h.svc.AccountID(context.Background())}
	e.idp.SetClock(h.clock.Now)
	e.setUp(h)
	return e
}

// setUp registers the provider and the roles in the console of h.
func (e *roleSSOEnv) setUp(h *harness) {
	ctx := context.Background()
	if _, err := h.svc.CreateSAMLProvider(ctx, ownerActor(h), ram.SAMLProviderInput{Name: "corp-idp", MetadataXML: string(e.idp.Metadata())}); err != nil {
		e.t.Fatalf("create SAML provider: %v", err)
	}
	e.providerARN = ram.SAMLProviderARN(e.acct, "corp-idp")
	trust := func(cond string) string {
		return fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":["%s"]},`+
			`"Condition":{"StringEquals":{%s}}}]}`, e.providerARN, cond)
	}
	recipient := fmt.Sprintf(`"saml:recipient":"%s"`, h.svc.RoleSSOACSURL())
	for _, r := range []struct{ name, trust, action string }{
		{"user-reader", trust(recipient), `["ram:ListUsers","ram:GetUser"]`},
		{"group-reader", trust(recipient), `"ram:ListGroups"`},
		{"picky", trust(`"saml:sub":"someone-else@corp.example"`), `"ram:ListUsers"`},
	} {
		if _, err := h.svc.CreateRole(ctx, ownerActor(h), ram.RoleInput{RoleName: r.name, AssumeRolePolicy: r.trust, MaxSessionDuration: 7200}); err != nil {
			e.t.Fatalf("create role %s: %v", r.name, err)
		}
		doc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":` + r.action + `,"Resource":"*"}]}`
		if _, err := h.svc.CreatePolicy(ctx, ownerActor(h), r.name+"-access", doc, ""); err != nil {
			e.t.Fatalf("create policy: %v", err)
		}
		if err := h.svc.AttachPolicyToRole(ctx, ownerActor(h), "Custom", r.name+"-access", r.name); err != nil {
			e.t.Fatalf("attach policy: %v", err)
		}
	}
}

// response is a signed response for the role SP listing roles (by name)
// with corp-idp, for the session name alice.
func (e *roleSSOEnv) response(o samltest.Options, roles ...string) string {
	if o.Audience == "" {
		o.Audience = e.h.svc.RoleSSOEntityID()
	}
	if o.Recipient == "" {
		o.Recipient = e.h.svc.RoleSSOACSURL()
	}
	if o.NameID == "" {
		o.NameID = "alice@corp.example"
	}
	if o.Attributes == nil {
		o.Attributes = map[string][]string{ram.SAMLRoleSessionNameAttribute: {"alice"}}
	}
	for _, r := range roles {
		o.Attributes[ram.SAMLRoleAttribute] = append(o.Attributes[ram.SAMLRoleAttribute], ram.RoleARN(e.acct, r)+","+e.providerARN)
	}
	return e.idp.Response(o)
}

// acs posts a response to the role ACS as the IdP's page does: cross-site,
// without the console's CSRF token.
func (e *roleSSOEnv) acs(b *browser, samlResponse, relay string) page {
	e.t.Helper()
	f := url.Values{"SAMLResponse": {samlResponse}}
	if relay != "" {
		f.Set("RelayState", relay)
	}
	req, _ := http.NewRequest(http.MethodPost, b.h.srv.URL+"/saml-role/sso", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://idp.example.net")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return b.do(req)
}

// signIn signs b in through role SSO as the only role listed.
func (e *roleSSOEnv) signIn(b *browser, role string) {
	e.t.Helper()
	p := e.acs(b, e.response(samltest.Options{}, role), "")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/me" {
		e.t.Fatalf("role SSO as %s: %d → %q: %s", role, p.status, p.header.Get("Location"), p.body)
	}
}

// lastEvent is the newest event named name.
func (e *roleSSOEnv) lastEvent(name string) store.StoredEvent {
	e.t.Helper()
	for _, ev := range e.h.events() {
		if ev.EventName == name {
			return ev
		}
	}
	e.t.Fatalf("no %s event", name)
	return store.StoredEvent{}
}

// expectRefused checks a refused role sign-in: 403 sso-error with text,
// no cookie, and a failed AssumeRoleWithSAML event with code.
func (e *roleSSOEnv) expectRefused(p page, text, code, what string) {
	e.t.Helper()
	if p.status != http.StatusForbidden || !strings.Contains(p.body, `data-testid="sso-error"`) || !strings.Contains(p.body, html.EscapeString(text)) {
		e.t.Errorf("%s: %d, want 403 sso-error with %q: %.400s", what, p.status, text, p.body)
	}
	if c := p.header.Values("Set-Cookie"); len(c) > 0 {
		e.t.Errorf("%s: the refusal set cookies %v", what, c)
	}
	if ev := e.lastEvent(ram.EventAssumeRoleWithSAML); !ev.IsError || ev.ErrorCode != code {
		e.t.Errorf("%s: AssumeRoleWithSAML errorCode %q (isError %v), want %s", what, ev.ErrorCode, ev.IsError, code)
	}
}

// expectSignedOut checks that b's console session is over.
func expectSignedOut(t *testing.T, b *browser, what string) {
	t.Helper()
	if p := b.get("/users"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Errorf("%s: GET /users %d → %q, want 303 to /login", what, p.status, p.header.Get("Location"))
	}
}

// One role listed: the console acts as its session — pages its policy
// allows work, others are refused naming the role session —, the user's
// own account is not there, and signing out ends the role session.
func TestRoleSSOOneRole(t *testing.T) {
	e := newRoleSSOEnv(t)
	b := e.h.browser()
	e.signIn(b, "user-reader")

	p := b.get("/me")
	if p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="me-role-session"`) ||
		!strings.Contains(p.body, "assumed-role/user-reader/alice") || !strings.Contains(p.body, e.providerARN) {
		t.Fatalf("/me: %d: %.600s", p.status, p.body)
	}
	for _, absent := range []string{`action="/me/accesskeys"`, `action="/roles/switch-back"`, `href="/password/change"`, `href="/switch-role"`,
		`href="/mfa/bind"`, `data-testid="switched-banner"`} {
		if strings.Contains(p.body, absent) {
			t.Errorf("/me of a role SSO session offers %s", absent)
		}
	}
	if !strings.Contains(p.body, "user-reader/alice") {
		t.Errorf("the page does not name the role session as who is signed in")
	}
	if p := b.get("/users"); p.status != http.StatusOK {
		t.Errorf("GET /users as user-reader: %d, want 200", p.status)
	}
	p = b.get("/groups")
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "user-reader/alice") || !strings.Contains(p.body, "ram:ListGroups") {
		t.Errorf("GET /groups as user-reader: %d, want 403 naming the role session: %.600s", p.status, p.body)
	}
	if p := b.post("/users", url.Values{"name": {"mallory"}}); p.status != http.StatusForbidden {
		t.Errorf("POST /users as user-reader: %d, want 403", p.status)
	}

	// The user's own account: not reachable, never a 500.
	for _, r := range []struct{ method, path string }{
		{"GET", "/password/change"}, {"POST", "/password/change"}, {"GET", "/mfa/bind"}, {"GET", "/mfa/security-keys"},
		{"POST", "/me/accesskeys"}, {"POST", "/me/sign-out-everywhere"}, {"POST", "/roles/switch-back"}, {"GET", "/switch-role"},
		{"GET", "/roles/group-reader/switch"}, {"POST", "/roles/group-reader/switch"},
	} {
		var p page
		if r.method == "GET" {
			p = b.get(r.path)
		} else {
			p = b.post(r.path, url.Values{"current_password": {"x"}, "new_password": {"Canary-Pass-Long-1234"}, "confirm_password": {"Canary-Pass-Long-1234"}})
		}
		if p.status != http.StatusSeeOther || p.header.Get("Location") != "/me" {
			t.Errorf("%s %s as a role SSO session: %d → %q, want 303 to /me", r.method, r.path, p.status, p.header.Get("Location"))
		}
	}
	if p := b.get("/me"); !strings.Contains(p.body, "no password, MFA device, AccessKey or role switch of your own") {
		t.Errorf("/me after a refused own-account page shows no reason: %.400s", p.body)
	}
	if p := b.get("/"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/me" {
		t.Errorf("GET / as a role SSO session: %d → %q, want /me", p.status, p.header.Get("Location"))
	}

	// Audit: the STS part and the console sign-in as the role session.
	sts := e.lastEvent(ram.EventAssumeRoleWithSAML)
	if sts.IsError || sts.UserIdentity.Type != "saml-user" || sts.UserIdentity.UserName != "alice@corp.example" ||
		sts.ResourceName != ram.RoleARN(e.acct, "user-reader") || !strings.Contains(sts.Body, `"loginType":"saml"`) || !strings.Contains(sts.Body, `"via":"console"`) {
		t.Errorf("AssumeRoleWithSAML event: %s", sts.Body)
	}
	in := e.lastEvent(ram.EventConsoleSignin)
	if in.IsError || in.UserIdentity.Type != "assumed-role" || in.UserIdentity.SessionName != "alice" ||
		!strings.Contains(in.Body, `"loginType":"saml"`) || !strings.Contains(in.Body, `"mfaChecked":false`) {
		t.Errorf("ConsoleSignin event: %s", in.Body)
	}

	// The console session ends with the role session at the latest.
	ss, err := e.h.st.Session(context.Background(), hashID(b.cookie()))
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`STS\.[A-Za-z0-9]+`).FindString(ss.Principal)
	rs, err := e.h.st.RoleSession(context.Background(), key)
	if err != nil {
		t.Fatalf("the role session %q of the console session: %v", key, err)
	}
	if ss.ExpiresAt.After(rs.ExpiresAt) {
		t.Errorf("the console session ends %v, after its role session (%v)", ss.ExpiresAt, rs.ExpiresAt)
	}

	// Sign out: the console session and the role session end.
	b.get("/me")
	if p := b.post("/logout", nil); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Errorf("sign out: %d → %q", p.status, p.header.Get("Location"))
	}
	expectSignedOut(t, b, "after signing out")
	if _, err := e.h.st.RoleSession(context.Background(), key); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the role session after signing out: %v, want it gone", err)
	}
	if ev := e.lastEvent("ConsoleSignout"); ev.UserIdentity.Type != "assumed-role" {
		t.Errorf("ConsoleSignout event: %s", ev.Body)
	}
}

var choiceTokenRE = regexp.MustCompile(`name="choice" value="([^"]+)"`)

// Several roles: the picker, whose choice starts the picked role's session
// and is used once; the assertion itself is never in the page.
func TestRoleSSOSeveralRoles(t *testing.T) {
	e := newRoleSSOEnv(t)
	b := e.h.browser()
	resp := e.response(samltest.Options{}, "user-reader", "group-reader")
	p := e.acs(b, resp, "/groups")
	if p.status != http.StatusOK || !strings.Contains(p.body, `data-testid="sso-role-choice"`) ||
		!strings.Contains(p.body, `data-role="user-reader"`) || !strings.Contains(p.body, `data-role="group-reader"`) {
		t.Fatalf("several roles: %d, want the picker: %.600s", p.status, p.body)
	}
	if strings.Contains(p.body, "SAMLResponse") || strings.Contains(p.body, resp[:40]) {
		t.Errorf("the picker carries the assertion")
	}
	m := choiceTokenRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatal("no choice token in the picker")
	}
	token := m[1]
	for _, ev := range e.h.events() {
		if ev.EventName == ram.EventConsoleSignin || ev.EventName == ram.EventAssumeRoleWithSAML {
			t.Errorf("%s was recorded before a role was picked", ev.EventName)
		}
	}
	preSession, preCSRF := b.cookie(), b.csrf

	// A wrong token takes nothing.
	if p := b.post("/saml-role/choose", url.Values{"choice": {"not-the-token"}, "role": {ram.RoleARN(e.acct, "group-reader")}}); p.status != http.StatusForbidden ||
		!strings.Contains(p.body, `data-testid="sso-error"`) {
		t.Errorf("a wrong choice token: %d, want 403 sso-error", p.status)
	}
	p = b.post("/saml-role/choose", url.Values{"choice": {token}, "role": {ram.RoleARN(e.acct, "group-reader")}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/groups" {
		t.Fatalf("choosing group-reader: %d → %q: %.400s", p.status, p.header.Get("Location"), p.body)
	}
	if p := b.get("/groups"); p.status != http.StatusOK {
		t.Errorf("GET /groups as group-reader: %d", p.status)
	}
	if p := b.get("/users"); p.status != http.StatusForbidden || !strings.Contains(p.body, "group-reader/alice") {
		t.Errorf("GET /users as group-reader: %d, want 403 naming group-reader/alice", p.status)
	}

	// The same choice again, from the pre-session it was made in: refused.
	again := e.h.browser()
	again.setCookie(preSession)
	again.csrf = preCSRF
	p = again.post("/saml-role/choose", url.Values{"choice": {token}, "role": {ram.RoleARN(e.acct, "user-reader")}})
	if p.status != http.StatusForbidden || !strings.Contains(p.body, `data-testid="sso-error"`) || !strings.Contains(p.body, "used already") {
		t.Errorf("the choice token again: %d, want 403 sso-error: %.400s", p.status, p.body)
	}
	expectSignedOut(t, again, "the reused choice")
	// And the assertion again: a replay.
	e.expectRefused(e.acs(e.h.browser(), resp, ""), ram.SSOResponseRefused, "AuthenticationFail.SAMLAssertion.Invalid", "the assertion again")

	// A role the assertion did not list cannot be picked.
	c := e.h.browser()
	p = e.acs(c, e.response(samltest.Options{}, "user-reader", "group-reader"), "")
	m = choiceTokenRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatal("no picker")
	}
	if p := c.post("/saml-role/choose", url.Values{"choice": {m[1]}, "role": {ram.RoleARN(e.acct, "picky")}}); p.status != http.StatusForbidden ||
		!strings.Contains(p.body, html.EscapeString(ram.SSORoleRefused)) {
		t.Errorf("picking an unlisted role: %d, want 403 %q", p.status, ram.SSORoleRefused)
	}
	expectSignedOut(t, c, "an unlisted role picked")
}

// Refusals: 403 sso-error, no session, no cookie, audited as
// AssumeRoleWithSAML.
func TestRoleSSORefusals(t *testing.T) {
	e := newRoleSSOEnv(t)
	b := e.h.browser()
	e.signIn(b, "user-reader")

	r := e.response(samltest.Options{}, "user-reader")
	if p := e.acs(e.h.browser(), r, ""); p.status != http.StatusSeeOther {
		t.Fatalf("first use: %d", p.status)
	}
	e.expectRefused(e.acs(e.h.browser(), r, ""), ram.SSOResponseRefused, "AuthenticationFail.SAMLAssertion.Invalid", "replayed assertion")
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{}, "picky"), ""), ram.SSORoleRefused, "NoPermission", "the trust policy refuses")
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{Audience: e.h.srv.URL + "/saml/metadata.xml"}, "user-reader"), ""),
		ram.SSOResponseRefused, "AuthenticationFail.SAMLAssertion.Invalid", "the user SP's audience")
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{Recipient: e.h.srv.URL + "/saml/acs"}, "user-reader"), ""),
		ram.SSOResponseRefused, "AuthenticationFail.SAMLAssertion.Invalid", "the user ACS as recipient")
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{}), ""), ram.SSORoleRefused, "NoPermission", "no role listed")
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{Attributes: map[string][]string{}}, "user-reader"), ""),
		ram.SSOResponseRefused, "InvalidParameter.RoleSessionName", "no RoleSessionName")
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{Lifetime: -time.Minute}, "user-reader"), ""),
		ram.SSOResponseRefused, "AuthenticationFail.SAMLAssertion.Expired", "expired")
	other := samltest.New(t, "https://idp.example.net")
	other.SetClock(e.h.clock.Now)
	forged := other.Response(samltest.Options{Audience: e.h.svc.RoleSSOEntityID(), Recipient: e.h.svc.RoleSSOACSURL(), NameID: "alice@corp.example",
		Attributes: map[string][]string{ram.SAMLRoleSessionNameAttribute: {"alice"}, ram.SAMLRoleAttribute: {ram.RoleARN(e.acct, "user-reader") + "," + e.providerARN}}})
	e.expectRefused(e.acs(e.h.browser(), forged, ""), ram.SSOResponseRefused, "AuthenticationFail.SAMLAssertion.Invalid", "signed with another key")
	e.expectRefused(e.acs(e.h.browser(), "bm90IHhtbA==", ""), ram.SSOResponseRefused, "AuthenticationFail.SAMLAssertion.Invalid", "not XML")
	// A browser already signed in that posts a refused response keeps
	// nothing: the refusal starts no session.
	if p := b.get("/users"); p.status != http.StatusOK {
		t.Errorf("the earlier session: %d", p.status)
	}
}

// The console session ends at the next request once its role session
// ends: the provider deleted, the role's sessions revoked, the trust
// policy changed, or the time is up.
func TestRoleSSOSessionEnds(t *testing.T) {
	e := newRoleSSOEnv(t)
	ctx := context.Background()
	for _, c := range []struct {
		what string
		end  func()
	}{
		{"the role's sessions revoked", func() {
			if _, err := e.h.svc.RevokeRoleSessions(ctx, ownerActor(e.h), "user-reader"); err != nil {
				t.Fatal(err)
			}
		}},
		{"the trust policy changed", func() {
			doc := fmt.Sprintf(`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":["%s"]}}]}`, e.providerARN)
			if _, err := e.h.svc.UpdateRole(ctx, ownerActor(e.h), "user-reader", ram.RoleUpdate{NewAssumeRolePolicy: &doc}); err != nil {
				t.Fatal(err)
			}
		}},
		{"the session's time is up", func() { e.h.clock.Advance(2 * time.Hour) }},
		{"the provider deleted", func() {
			if err := e.h.svc.DeleteSAMLProvider(ctx, ownerActor(e.h), "corp-idp"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		b := e.h.browser()
		e.signIn(b, "user-reader")
		if p := b.get("/users"); p.status != http.StatusOK {
			t.Fatalf("%s: before: %d", c.what, p.status)
		}
		c.end()
		expectSignedOut(t, b, c.what)
	}
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{}, "user-reader"), ""), ram.SSOResponseRefused,
		"AuthenticationFail.SAMLAssertion.Invalid", "the provider deleted")
}

// roleSSOWho marks the role SSO cases of the audit coverage journey, whose
// events are checkRoleSSOEvent's to check.
const roleSSOWho = "role-sso"

// roleSSOCoverage returns the role SSO requests of the audit coverage
// journey on h: one role listed, and a role picked from several.
func roleSSOCoverage(t *testing.T, h *harness) (one, choose func() page) {
	var e *roleSSOEnv
	env := func() *roleSSOEnv {
		if e == nil {
			e = &roleSSOEnv{t: t, h: h, idp: samltest.New(t, "https://idp.example.net"), acct: h.svc.AccountID(context.Background())}
			e.idp.SetClock(h.clock.Now)
			e.setUp(h)
		}
		return e
	}
	one = func() page {
		e := env()
		return e.acs(h.uaBrowser(), e.response(samltest.Options{}, "user-reader"), "")
	}
	choose = func() page {
		e := env()
		b := h.uaBrowser()
		m := choiceTokenRE.FindStringSubmatch(e.acs(b, e.response(samltest.Options{}, "user-reader", "group-reader"), "").body)
		if m == nil {
			t.Fatal("role SSO with two roles showed no picker")
		}
		return b.post("/saml-role/choose", url.Values{"choice": {m[1]}, "role": {ram.RoleARN(e.acct, "group-reader")}})
	}
	return one, choose
}

// checkRoleSSOEvent checks an event of a role SSO coverage case: the STS
// part as the identity provider's user, the console sign-in as the role
// session.
func checkRoleSSOEvent(t *testing.T, c auditCase, e store.StoredEvent) {
	t.Helper()
	want := map[string][2]string{ram.EventAssumeRoleWithSAML: {ram.EventAPICall, "saml-user"},
		ram.EventConsoleSignin: {ram.EventConsoleSignin, "assumed-role"}}[e.EventName]
	if e.EventType != want[0] || e.UserIdentity.Type != want[1] || e.IsError || e.UserIdentity.AccountID == "" ||
		e.SourceIPAddress != "127.0.0.1" || e.UserAgent != auditUA {
		t.Errorf("%s (%s): %s: eventType %q, userIdentity %q, isError %v, source %q %q", c.route, c.what, e.EventName, e.EventType,
			e.UserIdentity.Type, e.IsError, e.SourceIPAddress, e.UserAgent)
	}
}

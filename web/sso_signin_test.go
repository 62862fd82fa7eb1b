package web

import (
	"context"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"ramconsole/ram"
	"ramconsole/ram/samlsp/samltest"
	"ramconsole/store"
)

// ssoEnv is a console whose user-based SSO trusts a samltest identity
// provider served on loopback; the console's public URL is its own server,
// so the IdP's forms post to its ACS.
type ssoEnv struct {
	t     *testing.T
	h     *harness
	owner *browser
	idp   *samltest.IdP
	sp    ram.SAMLServiceProvider
}

func newSSOEnv(t *testing.T) *ssoEnv {
	t.Helper()
	// Its tests post dozens of responses from one address at machine
	// speed: the per-address limit (TestSignInRateLimited) is not theirs.
	h := newHarnessConfig(t, Config{SignInRate: 1e6, SignInBurst: 1e6})
	h.svc.SetIssuer(h.srv.URL)
	owner, _ := h.setupOwner()
	var idp *samltest.IdP
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { idp.Handler().ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	idp = samltest.New(t, srv.URL)
	idp.SetClock(h.clock.Now)
	e := &ssoEnv{t: t, h: h, owner: owner, idp: idp, sp: h.svc.UserSAMLSP()}
	if e.sp.ACS != h.srv.URL+"/saml/acs" || e.sp.EntityID != h.srv.URL+"/saml/metadata.xml" {
		t.Fatalf("the user SP is %+v, want it under %s", e.sp, h.srv.URL)
	}
	return e
}

var ssoOwner = ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail}

// set changes the user SSO setting as the owner would.
func (e *ssoEnv) set(in ram.UserSSOInput) {
	e.t.Helper()
	a := ssoOwner
	a.RequestID = ram.NewRequestID()
	if _, err := e.h.svc.SetUserSSOSettings(context.Background(), a, in); err != nil {
		e.t.Fatalf("SetUserSSOSettings: %v", err)
	}
}

// on turns user SSO on with the IdP's metadata.
func (e *ssoEnv) on() {
	e.t.Helper()
	md := string(e.idp.Metadata())
	e.set(ram.UserSSOInput{SsoEnabled: ptr(true), MetadataXML: &md})
}

func ptr[T any](v T) *T { return &v }

// response is a signed response of the IdP for the user SP (what o leaves
// out: the SP's audience and ACS).
func (e *ssoEnv) response(o samltest.Options) string {
	if o.Audience == "" {
		o.Audience = e.sp.EntityID
	}
	if o.Recipient == "" {
		o.Recipient = e.sp.ACS
	}
	return e.idp.Response(o)
}

// acs posts a response to the ACS as the IdP's page does: cross-site,
// without the console's CSRF token.
func (e *ssoEnv) acs(b *browser, samlResponse, relay string) page {
	e.t.Helper()
	f := url.Values{"SAMLResponse": {samlResponse}}
	if relay != "" {
		f.Set("RelayState", relay)
	}
	req, _ := http.NewRequest(http.MethodPost, e.h.srv.URL+"/saml/acs", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://idp.example.net")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return b.do(req)
}

var (
	samlResponseRE = regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`)
	relayStateRE   = regexp.MustCompile(`name="RelayState" value="([^"]*)"`)
)

// startSSO starts an SP-initiated sign-in from /saml/login and returns the
// IdP's URL and the RelayState.
func (e *ssoEnv) startSSO(b *browser, next string) (string, string) {
	e.t.Helper()
	path := "/saml/login"
	if next != "" {
		path += "?next=" + url.QueryEscape(next)
	}
	p := b.get(path)
	to := p.header.Get("Location")
	if p.status != http.StatusFound || !strings.HasPrefix(to, e.idp.SSOURL()+"?") {
		e.t.Fatalf("GET %s: %d → %q, want 302 to the IdP", path, p.status, to)
	}
	u, _ := url.Parse(to)
	relay := u.Query().Get("RelayState")
	if len(relay) < 32 || u.Query().Get("SAMLRequest") == "" {
		e.t.Fatalf("the IdP URL %s has no AuthnRequest or RelayState", to)
	}
	return to, relay
}

// atIdP opens the IdP's URL and returns the response and RelayState its
// auto-submitting form would post.
func (e *ssoEnv) atIdP(to string) (string, string) {
	e.t.Helper()
	resp, err := http.Get(to)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	body := string(raw)
	m, r := samlResponseRE.FindStringSubmatch(body), relayStateRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil || r == nil {
		e.t.Fatalf("the IdP answered %d: %s", resp.StatusCode, body)
	}
	return html.UnescapeString(m[1]), html.UnescapeString(r[1])
}

// lastSignin is the newest ConsoleSignin event.
func (e *ssoEnv) lastSignin() store.StoredEvent {
	e.t.Helper()
	for _, ev := range e.h.events() {
		if ev.EventName == ram.EventConsoleSignin {
			return ev
		}
	}
	e.t.Fatal("no ConsoleSignin event")
	return store.StoredEvent{}
}

// sessionValue is a value the stored session of b holds.
func (e *ssoEnv) sessionValue(b *browser, key string) string {
	e.t.Helper()
	ss, err := e.h.st.Session(context.Background(), hashID(b.cookie()))
	if err != nil {
		e.t.Fatalf("the session of the browser: %v", err)
	}
	m := regexp.MustCompile(`"` + regexp.QuoteMeta(key) + `":"([^"]*)"`).FindStringSubmatch(ss.Data)
	if m == nil {
		return ""
	}
	return m[1]
}

// expectRefused checks a refused SSO sign-in: 403, the page's text, no
// cookie, and the audit's errorCode.
func (e *ssoEnv) expectRefused(p page, text, code, what string) {
	e.t.Helper()
	if p.status != http.StatusForbidden || !strings.Contains(p.body, `data-testid="sso-error"`) || !strings.Contains(p.body, text) {
		body := p.body
		if len(body) > 400 {
			body = body[:400]
		}
		e.t.Errorf("%s: %d, want 403 with %q: %s", what, p.status, text, body)
	}
	if c := p.header.Values("Set-Cookie"); len(c) > 0 {
		e.t.Errorf("%s: the refusal set cookies %v", what, c)
	}
	if csp := p.header.Get("Content-Security-Policy"); csp != consoleCSP {
		e.t.Errorf("%s: CSP %q, want the console's", what, csp)
	}
	if ev := e.lastSignin(); !ev.IsError || ev.ErrorCode != code {
		e.t.Errorf("%s: audit errorCode %q (isError %v), want %s", what, ev.ErrorCode, ev.IsError, code)
	}
}

func (e *ssoEnv) user(name string) *store.User {
	e.t.Helper()
	u, err := e.h.st.UserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

const mfaOnlyPolicy = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:ListUsers","Resource":"*",
	"Condition":{"Bool":{"acs:MFAPresent":"true"}}}]}`

// SP- and IdP-initiated sign-ins give a console session as a password
// sign-in does, marked saml, whose acs:MFAPresent follows the assertion's
// AuthnContextClassRef.
func TestUserSSOSignIn(t *testing.T) {
	e := newSSOEnv(t)
	e.h.ramUser(e.owner, "alice", nil, map[string]string{"MFAOnly": mfaOnlyPolicy})
	e.on()
	alias := "alice@" + testAlias

	// SP-initiated, from /login's link, with a deep link; a password class.
	b := e.h.browser()
	p := b.get("/login?next=/users")
	if !strings.Contains(p.body, `data-testid="sso-login"`) || !strings.Contains(p.body, `href="/saml/login?next=%2Fusers"`) {
		t.Fatalf("/login offers no SSO link while SSO is on: %s", p.body)
	}
	e.idp.SetUser(samltest.User{NameID: alias, AuthnContextClassRef: samltest.PasswordProtectedTransport})
	to, relay := e.startSSO(b, "/users")
	resp, gotRelay := e.atIdP(to)
	if gotRelay != relay || len(e.idp.Requests()) != 1 {
		t.Fatalf("the IdP returned RelayState %q for %q, requests %v", gotRelay, relay, e.idp.Requests())
	}
	p = e.acs(b, resp, relay)
	expectRedirect(t, p, "/users", "SP-initiated sign-in")
	if got := e.sessionValue(b, "v_"+ram.SessionLoginType); got != ram.LoginTypeSAML {
		t.Errorf("the session's loginType = %q, want saml", got)
	}
	if got := e.sessionValue(b, "v_mfa"); got != "" {
		t.Errorf("a password-class sign-in has acs:MFAPresent %q", got)
	}
	expectStatus(t, b.get("/me"), 200, "alice's page after SSO")
	if p := b.get("/users"); p.status != http.StatusForbidden {
		t.Errorf("GET /users without MFA under an MFA-only policy: %d, want 403", p.status)
	}
	ev := e.lastSignin()
	d := ev.AdditionalEventData
	if ev.IsError || ev.UserIdentity.Type != "ram-user" || ev.UserIdentity.UserName != "alice" || d["loginType"] != "saml" ||
		d["mfaChecked"] != false || d["idpEntityId"] != e.idp.EntityID() || d["nameId"] != alias ||
		d["authnContextClassRef"] != samltest.PasswordProtectedTransport || d["initiatedBy"] != "sp" {
		t.Errorf("the SP-initiated sign-in's event: %s", ev.Body)
	}

	// IdP-initiated, with an MFA class: acs:MFAPresent is true; a
	// RelayState deep link is followed, a foreign one ignored.
	b2 := e.h.browser()
	e.h.clock.Advance(time.Second)
	p = e.acs(b2, e.response(samltest.Options{NameID: "ALICE@" + strings.ToUpper(testAlias), AuthnContextClassRef: "https://refeds.org/profile/mfa"}), "/users?x=1")
	expectRedirect(t, p, "/users?x=1", "IdP-initiated sign-in")
	if got := e.sessionValue(b2, "v_mfa"); got != "true" {
		t.Errorf("an MFA-class sign-in has acs:MFAPresent %q", got)
	}
	expectStatus(t, b2.get("/users"), 200, "GET /users with MFA under an MFA-only policy")
	if d := e.lastSignin().AdditionalEventData; d["initiatedBy"] != "idp" || d["mfaChecked"] != true {
		t.Errorf("the IdP-initiated sign-in's event: %v", d)
	}
	for _, relay := range []string{"https://evil.example/", "//evil.example/x", "javascript:alert(1)"} {
		expectRedirect(t, e.acs(e.h.browser(), e.response(samltest.Options{NameID: alias}), relay), "/", "RelayState "+relay)
	}

	// Entra ID's MFA attribute counts as MFA.
	b3 := e.h.browser()
	p = e.acs(b3, e.response(samltest.Options{NameID: alias, Attributes: map[string][]string{
		"http://schemas.microsoft.com/claims/authnmethodsreferences": {"http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password", "http://schemas.microsoft.com/claims/multipleauthn"}}}), "")
	expectRedirect(t, p, "/", "Entra ID sign-in")
	expectStatus(t, b3.get("/users"), 200, "GET /users after an Entra ID MFA sign-in")

	// The session ends by the IdP's SessionNotOnOrAfter.
	b4 := e.h.browser()
	p = e.acs(b4, e.response(samltest.Options{NameID: alias, SessionNotOnOrAfter: e.h.clock.Now().Add(10 * time.Minute)}), "")
	expectRedirect(t, p, "/", "a sign-in with SessionNotOnOrAfter")
	expectStatus(t, b4.get("/me"), 200, "within SessionNotOnOrAfter")
	e.h.clock.Advance(11 * time.Minute)
	if p := b4.get("/me"); p.status != http.StatusSeeOther {
		t.Errorf("after SessionNotOnOrAfter: %d, want 303 to /login", p.status)
	}
	expectStatus(t, b2.get("/me"), 200, "a session without SessionNotOnOrAfter")

	// No TOTP, binding or forced password change of ramconsole's own after
	// SSO: the identity provider authenticated the user.
	ctx := context.Background()
	must(t, e.h.st.Update(ctx, func(tx *store.Tx) error {
		lp, err := tx.LoginProfile(ctx, e.user("alice").UserID)
		if err != nil {
			return err
		}
		lp.MFABindRequired, lp.PasswordResetRequired = true, true
		return tx.PutLoginProfile(ctx, lp)
	}), "require MFA binding and a new password of alice")
	b5 := e.h.browser()
	expectRedirect(t, e.acs(b5, e.response(samltest.Options{NameID: alias}), "/me"), "/me", "SSO of a user who must bind MFA and change the password")
	expectStatus(t, b5.get("/me"), 200, "alice's page, no sign-in step asked")
}

// NameID mapping (SPEC §18.4): name@alias, @AccountId or @AuxiliaryDomain
// with SsoLoginWithDomain, the bare name without; the name in any case.
func TestUserSSONameIDMapping(t *testing.T) {
	e := newSSOEnv(t)
	e.h.ramUser(e.owner, "alice", nil, nil)
	e.on()
	e.set(ram.UserSSOInput{AuxiliaryDomain: ptr("corp.example.com")})
	acct := e.h.accountID()
	check := func(nameID string, ok bool) {
		t.Helper()
		e.h.clock.Advance(time.Second)
		p := e.acs(e.h.browser(), e.response(samltest.Options{NameID: nameID}), "")
		if ok {
			expectRedirect(t, p, "/", "NameID "+nameID)
		} else {
			e.expectRefused(p, ram.SSOUserRefused, "SAMLUserNotFound", "NameID "+nameID)
		}
	}
	check("alice@"+testAlias, true)
	check("Alice@"+acct, true)
	check("ALICE@CORP.example.com", true)
	check("alice@other.example.com", false)
	check("alice", false)
	check("alice@"+testAlias+"@"+testAlias, false)
	e.set(ram.UserSSOInput{SsoLoginWithDomain: ptr(false)})
	check("alice", true)
	check("ALICE", true)
	check("alice@"+testAlias, false)
	check("bob", false)
}

// Every refusal of SPEC §18.8's user column: 403 with its text, no session
// and no cookie, the audit's errorCode, nothing counted.
func TestUserSSORefusals(t *testing.T) {
	e := newSSOEnv(t)
	e.h.ramUser(e.owner, "alice", nil, nil)
	e.h.ramUser(e.owner, "locked", nil, nil)
	e.owner.get("/users/new")
	expectRedirect(t, e.owner.post("/users", url.Values{"name": {"noconsole"}}), "/users/noconsole", "a user without console access")
	e.on()
	alias := "alice@" + testAlias
	ctx := context.Background()
	locked := e.user("locked")
	must(t, e.h.st.Update(ctx, func(tx *store.Tx) error {
		_, err := tx.RecordUserFailure(ctx, locked.UserID, 1, time.Hour, time.Hour)
		return err
	}), "lock a user")

	signed := e.idp.ResponseXML(samltest.Options{NameID: alias, Audience: e.sp.EntityID, Recipient: e.sp.ACS})
	edit := func(f func(resp, assertion *etree.Element)) string {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(signed); err != nil {
			t.Fatal(err)
		}
		resp := doc.Root()
		f(resp, resp.FindElement("./Assertion"))
		out, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return base64.StdEncoding.EncodeToString(out)
	}
	// unsignedCopy is the signed assertion without its signature, naming
	// another user.
	unsignedCopy := func(assertion *etree.Element) *etree.Element {
		evil := assertion.Copy()
		evil.RemoveChild(evil.FindElement("./Signature"))
		evil.CreateAttr("ID", "id-evil")
		evil.FindElement("./Subject/NameID").SetText("locked@" + testAlias)
		return evil
	}
	other := samltest.New(t, "https://idp.other.example")
	other.SetClock(e.h.clock.Now)
	bad := e.response(samltest.Options{NameID: alias})
	cases := []struct {
		what, response, code string
	}{
		{"unsigned", edit(func(_, a *etree.Element) { a.RemoveChild(a.FindElement("./Signature")) }), "SAMLSignatureInvalid"},
		{"content changed after signing", edit(func(_, a *etree.Element) { a.FindElement("./Subject/NameID").SetText("locked@" + testAlias) }), "SAMLSignatureInvalid"},
		{"another key", other.Response(samltest.Options{NameID: alias, Audience: e.sp.EntityID, Recipient: e.sp.ACS, Issuer: e.idp.EntityID()}), "SAMLSignatureInvalid"},
		{"RSA-SHA1", e.response(samltest.Options{NameID: alias, SHA1: true}), "SAMLSignatureInvalid"},
		{"an unsigned assertion before the signed one", edit(func(r, a *etree.Element) { r.InsertChildAt(a.Index(), unsignedCopy(a)) }), "*"},
		{"the signed assertion moved into Extensions", edit(func(r, a *etree.Element) {
			evil := unsignedCopy(a)
			r.RemoveChild(a)
			ext := r.CreateElement("samlp:Extensions")
			ext.AddChild(a)
			r.AddChild(evil)
		}), "*"},
		{"an unsigned assertion around the signed one", edit(func(r, a *etree.Element) {
			evil := unsignedCopy(a)
			r.RemoveChild(a)
			evil.CreateElement("saml:Advice").AddChild(a)
			r.AddChild(evil)
		}), "*"},
		{"EncryptedAssertion", edit(func(r, _ *etree.Element) {
			r.CreateElement("saml:EncryptedAssertion").CreateElement("xenc:EncryptedData")
		}), "SAMLResponseInvalid"},
		{"DTD", base64.StdEncoding.EncodeToString(append([]byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "alice">]>`),
			regexp.MustCompile(`^<\?xml[^>]*\?>`).ReplaceAll(signed, nil)...)), "SAMLResponseInvalid"},
		{"not Base64", "%%% not base64 %%%", "SAMLResponseInvalid"},
		{"not XML", base64.StdEncoding.EncodeToString([]byte("hello")), "SAMLResponseInvalid"},
		{"other Issuer", e.response(samltest.Options{NameID: alias, Issuer: "https://idp.other.example/metadata"}), "SAMLResponseInvalid"},
		{"wrong audience", e.response(samltest.Options{NameID: alias, Audience: e.h.svc.RoleSAMLSP().EntityID}), "SAMLAudienceMismatch"},
		{"wrong recipient (the role ACS)", e.response(samltest.Options{NameID: alias, Recipient: e.h.svc.RoleSAMLSP().ACS}), "SAMLRecipientMismatch"},
	}
	for _, c := range cases {
		p := e.acs(e.h.browser(), c.response, "")
		code := c.code
		if code == "*" {
			code = e.lastSignin().ErrorCode
			if code != "SAMLSignatureInvalid" && code != "SAMLResponseInvalid" {
				t.Errorf("%s: errorCode %q, want SAMLSignatureInvalid or SAMLResponseInvalid", c.what, code)
			}
		}
		e.expectRefused(p, ram.SSOResponseRefused, code, c.what)
	}

	// Time: expired, not yet valid.
	e.idp.SetClock(func() time.Time { return e.h.clock.Now().Add(-10 * time.Minute) })
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{NameID: alias}), ""), ram.SSOResponseRefused, "SAMLAssertionExpired", "expired")
	e.idp.SetClock(func() time.Time { return e.h.clock.Now().Add(5 * time.Minute) })
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{NameID: alias}), ""), ram.SSOResponseRefused, "SAMLAssertionExpired", "issued 5 minutes ahead")
	e.idp.SetClock(e.h.clock.Now)

	// Replay: the same assertion twice.
	expectRedirect(t, e.acs(e.h.browser(), bad, ""), "/", "the first use of an assertion")
	e.expectRefused(e.acs(e.h.browser(), bad, ""), ram.SSOResponseRefused, "SAMLAssertionReplayed", "replayed")

	// InResponseTo: unknown, of another RelayState, used.
	e.idp.SetUser(samltest.User{NameID: alias})
	b := e.h.browser()
	to1, relay1 := e.startSSO(b, "")
	_, relay2 := e.startSSO(b, "")
	e.expectRefused(e.acs(b, e.response(samltest.Options{NameID: alias, InResponseTo: "id-unknown"}), relay2), ram.SSOResponseRefused, "SAMLResponseInvalid", "InResponseTo unknown")
	resp1, _ := e.atIdP(to1)
	_, relay3 := e.startSSO(b, "")
	e.expectRefused(e.acs(b, resp1, relay3), ram.SSOResponseRefused, "SAMLResponseInvalid", "InResponseTo of another RelayState")
	to4, relay4 := e.startSSO(b, "")
	resp4, _ := e.atIdP(to4)
	expectRedirect(t, e.acs(b, resp4, relay4), "/", "an SP-initiated sign-in")
	again := e.response(samltest.Options{NameID: alias, InResponseTo: e.idp.Requests()[len(e.idp.Requests())-1]})
	e.expectRefused(e.acs(e.h.browser(), again, relay4), ram.SSOResponseRefused, "SAMLResponseInvalid", "InResponseTo used")
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{NameID: alias, InResponseTo: "id-x"}), ""), ram.SSOResponseRefused, "SAMLResponseInvalid", "InResponseTo without RelayState")
	_ = relay1

	// Identities that may not sign in: one text for all, the event says which.
	before := e.user("alice").FailedCount
	for _, c := range []struct{ what, nameID, reason string }{
		{"unknown NameID", "nobody@" + testAlias, "no such user"},
		{"no console access", "noconsole@" + testAlias, "no console access"},
		{"locked", "locked@" + testAlias, "locked"},
		{"the owner's address", testOwnerEmail, "owner"},
	} {
		e.h.clock.Advance(time.Second)
		e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{NameID: c.nameID}), ""), ram.SSOUserRefused, "SAMLUserNotFound", c.what)
		ev := e.lastSignin()
		if !strings.Contains(ev.ErrorMessage, c.reason) || ev.AdditionalEventData["loginAccount"] != c.nameID {
			t.Errorf("%s: the event says %q, loginAccount %v", c.what, ev.ErrorMessage, ev.AdditionalEventData["loginAccount"])
		}
		wantType := "unknown"
		if c.what == "no console access" || c.what == "locked" {
			wantType = "ram-user"
		}
		if ev.UserIdentity.Type != wantType {
			t.Errorf("%s: userIdentity.type %q, want %s", c.what, ev.UserIdentity.Type, wantType)
		}
	}
	if after := e.user("alice").FailedCount; after != before {
		t.Errorf("refused SSO sign-ins counted %d failures", after-before)
	}

	// SSO off: the same text for any response.
	e.set(ram.UserSSOInput{SsoEnabled: ptr(false)})
	e.expectRefused(e.acs(e.h.browser(), e.response(samltest.Options{NameID: alias}), ""), ram.SSOOff, "SSODisabled", "SSO off")
	if p := e.h.browser().get("/saml/login"); p.status != http.StatusForbidden || !strings.Contains(p.body, ram.SSOOff) {
		t.Errorf("GET /saml/login while SSO is off: %d", p.status)
	}
}

// While user SSO is on, RAM users' password sign-in is refused with the SSO
// message, uncounted; the owner signs in as always; turning SSO off
// restores password sign-in and ends the SSO sessions.
func TestUserSSOPasswordSignInOff(t *testing.T) {
	e := newSSOEnv(t)
	e.h.ramUser(e.owner, "alice", nil, nil)
	e.on()
	password := e.h.browser()
	password.get("/login")
	p := password.post("/login", url.Values{"username": {"alice@" + testAlias}, "password": {ramUserPW}})
	// Wrong passwords and unknown names get the same page, uncounted.
	for i := 0; i < 7; i++ {
		b := e.h.browser()
		b.get("/login")
		name := []string{"alice", "nobody"}[i%2]
		q := b.post("/login", url.Values{"username": {name}, "password": {"Wrong-Password-123"}})
		if q.status != p.status || !strings.Contains(q.body, "Single sign-on is on for this account: sign in with SSO") {
			t.Fatalf("a wrong password for %s while SSO is on: %d", name, q.status)
		}
	}
	if p.status != http.StatusOK || !strings.Contains(p.body, "Single sign-on is on for this account: sign in with SSO") ||
		!strings.Contains(p.body, `data-testid="sso-login"`) {
		t.Fatalf("alice's password sign-in while SSO is on: %d %s", p.status, p.body)
	}
	if p := password.get("/me"); p.status != http.StatusSeeOther {
		t.Errorf("after a refused password sign-in GET /me: %d, want 303 to /login", p.status)
	}
	if ev := e.lastSignin(); ev.ErrorCode != "PasswordLoginDisabled" {
		t.Errorf("the refusal's errorCode %q", ev.ErrorCode)
	}
	if u := e.user("alice"); u.FailedCount != 0 || u.LockedUntil.After(e.h.clock.Now()) {
		t.Errorf("refused password sign-ins counted: %d failures, locked until %v", u.FailedCount, u.LockedUntil)
	}
	// The owner: password and MFA.
	owner := e.h.signIn(e.h.ownerSecret)
	expectStatus(t, owner.get("/users"), 200, "the owner while SSO is on")

	sso := e.h.browser()
	expectRedirect(t, e.acs(sso, e.response(samltest.Options{NameID: "alice@" + testAlias}), ""), "/", "alice through SSO")
	expectStatus(t, sso.get("/me"), 200, "alice's SSO session")

	// Off: SSO sessions end, others stay; passwords work again.
	e.set(ram.UserSSOInput{SsoEnabled: ptr(false)})
	if p := sso.get("/me"); p.status != http.StatusSeeOther {
		t.Errorf("alice's SSO session after SSO was turned off: %d, want 303 to /login", p.status)
	}
	expectStatus(t, owner.get("/users"), 200, "the owner's session after SSO was turned off")
	b := e.h.browser()
	b.get("/login")
	if strings.Contains(b.get("/login").body, `data-testid="sso-login"`) {
		t.Error("/login offers SSO while it is off")
	}
	expectRedirect(t, b.post("/login", url.Values{"username": {"alice@" + testAlias}, "password": {ramUserPW}}), "/", "alice's password after SSO is off")

	// Changing the metadata ends SSO sessions too.
	e.on()
	sso = e.h.browser()
	expectRedirect(t, e.acs(sso, e.response(samltest.Options{NameID: "alice@" + testAlias}), ""), "/", "alice through SSO again")
	other := samltest.New(t, "https://idp.other.example")
	md := string(other.Metadata())
	e.set(ram.UserSSOInput{MetadataXML: &md})
	if p := sso.get("/me"); p.status != http.StatusSeeOther {
		t.Errorf("alice's SSO session after the metadata changed: %d, want 303 to /login", p.status)
	}
}

// The ACS alone is exempt from the CSRF token and same-origin checks: every
// other POST route refuses a cross-site, token-less form.
func TestUserSSOCSRFExemptionIsTheACSOnly(t *testing.T) {
	e := newSSOEnv(t)
	e.h.ramUser(e.owner, "alice", nil, nil)
	e.on()
	exempt := map[string]bool{"/saml/acs": true, "/saml-role/sso": true}
	checked := 0
	for _, r := range e.h.app.Routes() {
		if r.Method != http.MethodPost || exempt[r.Path] || r.Access == SetupOnly {
			continue
		}
		path := strings.NewReplacer(":name", "alice", ":id", "x", ":group", "g", ":user", "u", ":type", "Custom", ":version", "v1",
			":policy", "p", ":token", "t", ":code", "ecs").Replace(r.Path)
		for _, b := range []*browser{e.h.browser(), e.owner} {
			req, _ := http.NewRequest(http.MethodPost, e.h.srv.URL+path, strings.NewReader("x=1"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", "https://idp.example.net")
			req.Header.Set("Sec-Fetch-Site", "cross-site")
			if p := b.do(req); p.status != http.StatusForbidden {
				t.Errorf("a cross-site POST %s: %d, want 403", path, p.status)
			}
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("%d POST routes checked", checked)
	}
	expectRedirect(t, e.acs(e.h.browser(), e.response(samltest.Options{NameID: "alice@" + testAlias}), ""), "/", "the cross-site ACS")

	// A 10 MB post is refused before it is read; no session.
	b := e.h.browser()
	req, _ := http.NewRequest(http.MethodPost, e.h.srv.URL+"/saml/acs", strings.NewReader("SAMLResponse="+strings.Repeat("A", 10<<20)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if p := b.do(req); p.status != http.StatusRequestEntityTooLarge || len(p.header.Values("Set-Cookie")) > 0 {
		t.Errorf("a 10 MB ACS post: %d, cookies %v", p.status, p.header.Values("Set-Cookie"))
	}

	// The metadata documents.
	for path, acs := range map[string]string{"/saml/metadata.xml": e.sp.ACS, "/saml-role/metadata.xml": e.h.svc.RoleSAMLSP().ACS} {
		p := e.h.browser().get(path)
		if p.status != 200 || p.header.Get("Content-Type") != "application/samlmetadata+xml" || !strings.Contains(p.body, acs) ||
			!strings.Contains(p.body, e.h.srv.URL+path) {
			t.Errorf("GET %s: %d %q %s", path, p.status, p.header.Get("Content-Type"), p.body)
		}
	}
}

// ssoSignIn turns user SSO on with a fresh identity provider, posts its
// response for nameID to the ACS from b, and turns SSO off again (the
// audit coverage journey's SSO step).
func ssoSignIn(t *testing.T, h *harness, b *browser, nameID string) page {
	t.Helper()
	e := &ssoEnv{t: t, h: h, idp: samltest.New(t, "https://idp.example.net"), sp: h.svc.UserSAMLSP()}
	e.idp.SetClock(h.clock.Now)
	e.on()
	defer e.set(ram.UserSSOInput{SsoEnabled: ptr(false)})
	return e.acs(b, e.response(samltest.Options{NameID: nameID}), "")
}

// The owner saving the user SSO form as the page shows it — a browser
// sends its text area's line breaks as CRLF — changes nothing: the
// metadata stays as set and SSO users stay signed in.
func TestUserSSOFormSavedUnchanged(t *testing.T) {
	e := newSSOEnv(t)
	e.h.ramUser(e.owner, "alice", nil, nil)
	e.on()
	before, err := e.h.svc.CurrentUserSSO(context.Background())
	must(t, err, "read the settings")
	b := e.h.browser()
	expectRedirect(t, e.acs(b, e.response(samltest.Options{NameID: "alice@" + testAlias}), "/me"), "/me", "alice signs in with SSO")
	form := formOf(t, parseHTML(t, e.owner.get("/sso/user").body), "/sso/user")
	if !strings.Contains(form.Get("metadata"), "\n") {
		t.Fatal("the form's metadata has no line break to send as CRLF")
	}
	form.Set("metadata", strings.ReplaceAll(form.Get("metadata"), "\n", "\r\n")) // as a browser sends a text area
	expectRedirect(t, e.owner.postMultipart("/sso/user", form, nil), "/sso/user", "save the form unchanged")
	after, err := e.h.svc.CurrentUserSSO(context.Background())
	must(t, err, "read the settings again")
	if after.Settings.MetadataDocument != before.Settings.MetadataDocument {
		t.Error("saving the form unchanged changed the stored metadata")
	}
	expectStatus(t, b.get("/me"), http.StatusOK, "alice's SSO session after the owner saved the form unchanged")
}

package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"ramconsole/ram"
	"ramconsole/store/pgtest"
)

// oidcEnv is a console with an OpenID application and a relying party
// built from coreos/go-oidc and x/oauth2, as an enterprise's web app is.
type oidcEnv struct {
	h        *harness
	owner    *browser
	app      *ram.Application
	secret   string
	callback string // the relying party's registered redirect URI
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

func ownerActor(*harness) ram.Actor {
	return ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID(), SourceIP: "127.0.0.1"}
}

func newOIDCEnv(t *testing.T, appType string) *oidcEnv {
	t.Helper()
	h := newHarness(t)
	h.svc.SetIssuer(h.srv.URL)
	owner, _ := h.setupOwner()
	e := &oidcEnv{h: h, owner: owner, callback: "http://127.0.0.1:9/callback"}
	var err error
	e.app, err = h.svc.CreateApplication(context.Background(), ownerActor(h), ram.ApplicationInput{AppName: "wiki", DisplayName: "Wiki",
		AppType: appType, RedirectURIs: []string{e.callback}, LogoutURIs: []string{"http://127.0.0.1:9/bye"},
		Scopes: []string{"openid", "profile", "email", "groups", "aliuid"}})
	if err != nil {
		t.Fatal(err)
	}
	if appType == ram.AppTypeWeb {
		sec, err := h.svc.CreateAppSecret(context.Background(), ownerActor(h), "wiki", false)
		if err != nil {
			t.Fatal(err)
		}
		e.secret = sec.Value
	}
	ctx := context.Background()
	if e.provider, err = oidc.NewProvider(ctx, h.srv.URL); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	e.verifier = e.provider.Verifier(&oidc.Config{ClientID: e.app.AppID, Now: h.clock.Now})
	return e
}

func (e *oidcEnv) config(style oauth2.AuthStyle) *oauth2.Config {
	ep := e.provider.Endpoint()
	ep.AuthStyle = style
	return &oauth2.Config{ClientID: e.app.AppID, ClientSecret: e.secret, Endpoint: ep, RedirectURL: e.callback,
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", "groups"}}
}

// allowSignIn gives a user a policy allowing oidc:SignIn on the wiki.
func (e *oidcEnv) allowSignIn(t *testing.T, user, condition string) {
	t.Helper()
	doc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oidc:SignIn","Resource":"acs:oidc:*:*:application/wiki"` + condition + `}]}`
	name := "WikiSignIn" + user
	if p := e.owner.get("/policies/Custom/" + name); p.status != http.StatusOK {
		e.owner.get("/policies/new")
		expectRedirect(t, e.owner.post("/policies", url.Values{"name": {name}, "document": {doc}}), "/policies/Custom/"+name, "policy")
	}
	e.owner.get("/users/" + user)
	expectRedirect(t, e.owner.post("/users/"+user+"/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {name}}), "/users/"+user, "attach")
}

func randomString() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize runs a browser through the authorization endpoint, signing in
// with the password (b is a signed-in browser or nil), and returns the
// redirect the console answered with.
func (e *oidcEnv) authorize(t *testing.T, b *browser, user string, cfg *oauth2.Config, state, nonce, verifier string) (*browser, *url.URL) {
	t.Helper()
	opts := []oauth2.AuthCodeOption{oidc.Nonce(nonce)}
	if verifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	authURL, _ := url.Parse(cfg.AuthCodeURL(state, opts...))
	if b == nil {
		b = e.h.browser()
	}
	p := b.get(authURL.RequestURI())
	if p.status == http.StatusSeeOther && strings.HasPrefix(p.header.Get("Location"), "/login?") {
		login := p.header.Get("Location")
		b.get(login)
		lu, _ := url.Parse(login)
		p = b.post("/login", url.Values{"username": {user}, "password": {ramUserPW}, "next": {lu.Query().Get("next")}})
		expectStatus(t, p, http.StatusSeeOther, "sign in for the application")
		p = b.get(p.header.Get("Location"))
	}
	if p.status != http.StatusFound {
		t.Fatalf("the authorization answered %d: %.600s", p.status, p.body)
	}
	to, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return b, to
}

// The code flow with go-oidc as the relying party: discovery, the ID
// token's signature, audience, nonce and claims, userinfo, both client
// authentication methods, refresh rotation and reuse detection, and a key
// rotation the verifier follows.
func TestOIDCCodeFlowWithGoOIDC(t *testing.T) {
	e := newOIDCEnv(t, ram.AppTypeWeb)
	h := e.h
	h.ramUser(e.owner, "dev", nil, nil)
	e.owner.get("/groups/new")
	e.owner.post("/groups", url.Values{"name": {"sre"}})
	e.owner.get("/users/dev")
	e.owner.post("/users/dev/groups", url.Values{"group": {"sre"}})
	e.allowSignIn(t, "dev", "")
	ctx := context.Background()

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cfg := e.config(style)
		state, nonce, verifier := randomString(), randomString(), oauth2.GenerateVerifier()
		_, to := e.authorize(t, nil, "dev", cfg, state, nonce, verifier)
		q := to.Query()
		if to.Scheme+"://"+to.Host+to.Path != e.callback || q.Get("state") != state || q.Get("iss") != h.srv.URL || q.Get("code") == "" {
			t.Fatalf("redirect %s", to)
		}
		tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange (%v): %v", style, err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := e.verifier.Verify(ctx, raw)
		if err != nil {
			t.Fatalf("verify the ID token: %v", err)
		}
		var claims map[string]any
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		uid := h.userID(t, "dev")
		if idt.Nonce != nonce || idt.Subject != uid || claims["preferred_username"] != "dev@"+testAlias || claims["aid"] != h.accountID() {
			t.Errorf("ID token claims %v", claims)
		}
		if g, _ := claims["groups"].([]any); len(g) != 1 || g[0] != "sre" {
			t.Errorf("groups %v", claims["groups"])
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
		ui, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		var uc map[string]any
		_ = ui.Claims(&uc)
		if ui.Subject != uid || uc["preferred_username"] != "dev@"+testAlias {
			t.Errorf("userinfo %v", uc)
		}
		// The code again: refused, and what it issued is revoked.
		if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_grant") {
			t.Errorf("a replayed code: %v", err)
		}
		if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
			t.Error("the tokens of a replayed code still work")
		}
	}

	// Refresh: a new pair each time; the rotated-out token revokes all.
	cfg := e.config(oauth2.AuthStyleInHeader)
	verifier := oauth2.GenerateVerifier()
	_, to := e.authorize(t, nil, "dev", cfg, "s", "n", verifier)
	tok, err := cfg.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	old := tok.RefreshToken
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, tok).Token()
	if err != nil || fresh.RefreshToken == old || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %v", err)
	}
	h.clock.Advance(3 * time.Second)
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Minute)}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("a rotated-out refresh token: %v", err)
	}
	if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("the family's newest refresh token after a reuse: %v", err)
	}

	// Key rotation: new tokens carry the new kid; the verifier follows.
	if _, err := h.svc.RotateSigningKey(ctx, ownerActor(h)); err != nil {
		t.Fatal(err)
	}
	verifier = oauth2.GenerateVerifier()
	_, to = e.authorize(t, nil, "dev", cfg, "s", "n2", verifier)
	tok, err = cfg.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.verifier.Verify(ctx, tok.Extra("id_token").(string)); err != nil {
		t.Fatalf("a token of the new key: %v", err)
	}

	// Bad client credentials: invalid_client, 401.
	bad := e.config(oauth2.AuthStyleInHeader)
	bad.ClientSecret = "wrong"
	verifier = oauth2.GenerateVerifier()
	_, to = e.authorize(t, nil, "dev", cfg, "s", "n3", verifier)
	if _, err := bad.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(verifier)); !isOAuthError(err, "invalid_client") {
		t.Errorf("a wrong secret: %v", err)
	}
	for _, ev := range h.events() {
		for _, secret := range []string{e.secret, tok.AccessToken, tok.RefreshToken, verifier} {
			if strings.Contains(string(ev.Body), secret) {
				t.Fatalf("event %s records a secret: %s", ev.EventName, ev.Body)
			}
		}
	}
}

func isOAuthError(err error, code string) bool {
	var re *oauth2.RetrieveError
	return errors.As(err, &re) && re.ErrorCode == code
}

// Who may sign in is a policy decision: without a policy the user gets
// the denied page and no code; a condition on MFA refuses a password-only
// session; revocation wins at the next refresh and userinfo.
func TestOIDCPolicyDecisionAndRevocation(t *testing.T) {
	e := newOIDCEnv(t, ram.AppTypeWeb)
	h := e.h
	h.ramUser(e.owner, "eve", nil, nil)
	cfg := e.config(oauth2.AuthStyleInHeader)
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"eve"}, "password": {ramUserPW}}), "/", "eve signs in")
	authURL, _ := url.Parse(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	p := b.get(authURL.RequestURI())
	expectStatus(t, p, http.StatusForbidden, "no policy allows eve")
	if !strings.Contains(p.body, `data-testid="oidc-denied"`) || !strings.Contains(p.body, "oidc:SignIn") || !strings.Contains(p.body, "ImplicitDeny") ||
		strings.Contains(p.body, "code=") {
		t.Errorf("denied page: %.800s", p.body)
	}
	ev := lastEvent(t, h, "Authorize")
	if ev.ErrorCode != "access_denied" || ev.EventSource != "oidc" {
		t.Errorf("denied event: %s", ev.Body)
	}

	// Only with MFA: a password-only session is refused.
	e.allowSignIn(t, "eve", `,"Condition":{"Bool":{"acs:MFAPresent":"true"}}`)
	expectStatus(t, b.get(authURL.RequestURI()), http.StatusForbidden, "MFA required")

	// Allowed without a condition: then revocation.
	h.ramUser(e.owner, "fay", nil, nil)
	e.allowSignIn(t, "fay", "")
	ctx := context.Background()
	verifier := oauth2.GenerateVerifier()
	_, to := e.authorize(t, nil, "fay", cfg, "s", "n", verifier)
	tok, err := cfg.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	// Detaching the policy stops userinfo and the next refresh.
	e.owner.get("/users/fay")
	expectRedirect(t, e.owner.post("/users/fay/policies/Custom/WikiSignInfay/detach", nil), "/users/fay", "detach")
	if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo after the policy was detached")
	}
	tok.Expiry = time.Now().Add(-time.Minute)
	if _, err := cfg.TokenSource(ctx, tok).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("refresh after the policy was detached: %v", err)
	}

	// Deactivating console access revokes the tokens at once.
	e.allowSignIn(t, "fay", "")
	verifier = oauth2.GenerateVerifier()
	_, to = e.authorize(t, nil, "fay", cfg, "s", "n", verifier)
	tok, err = cfg.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	e.owner.get("/users/fay")
	e.owner.post("/users/fay/login-profile/status", url.Values{"status": {"Inactive"}})
	tok.Expiry = time.Now().Add(-time.Minute)
	if _, err := cfg.TokenSource(ctx, tok).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("refresh after console access was deactivated: %v", err)
	}
}

// The authorization endpoint's errors: a bad client or redirect URI is
// shown by ramconsole (400, never a redirect); the rest go back with the
// OAuth error, the state and the issuer.
func TestOIDCAuthorizationErrors(t *testing.T) {
	e := newOIDCEnv(t, ram.AppTypeNative)
	h := e.h
	b := h.browser()
	base := url.Values{"client_id": {e.app.AppID}, "redirect_uri": {e.callback}, "response_type": {"code"}, "scope": {"openid"},
		"state": {"xyz"}, "code_challenge": {pkce("v" + strings.Repeat("x", 50))}, "code_challenge_method": {"S256"}}
	with := func(k, v string) string {
		q := url.Values{}
		for kk, vv := range base {
			q[kk] = vv
		}
		if v == "" {
			q.Del(k)
		} else {
			q.Set(k, v)
		}
		return "/oauth2/v1/auth?" + q.Encode()
	}
	for _, c := range []struct{ what, path, code string }{
		{"unknown client", with("client_id", "1234567890123456789"), "invalid_client"},
		{"near-miss redirect (slash)", with("redirect_uri", e.callback+"/"), "invalid_request"},
		{"near-miss redirect (case)", with("redirect_uri", strings.ToUpper(e.callback)), "invalid_request"},
		{"near-miss redirect (query)", with("redirect_uri", e.callback+"?x=1"), "invalid_request"},
		{"no redirect", with("redirect_uri", ""), "invalid_request"},
	} {
		p := b.get(c.path)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, `data-error="`+c.code+`"`) || p.header.Get("Location") != "" {
			t.Errorf("%s: %d %q %.300s", c.what, p.status, p.header.Get("Location"), p.body)
		}
	}
	for _, c := range []struct{ what, path, code string }{
		{"token response type", with("response_type", "token"), "unsupported_response_type"},
		{"no openid", with("scope", "profile"), "invalid_scope"},
		{"unknown scope", with("scope", "openid admin"), "invalid_scope"},
		{"native without PKCE", with("code_challenge", ""), "invalid_request"},
		{"plain PKCE", with("code_challenge_method", "plain"), "invalid_request"},
		{"request object", with("request", "eyJ"), "request_not_supported"},
		{"prompt none without a session", with("prompt", "none"), "login_required"},
	} {
		p := b.get(c.path)
		to, _ := url.Parse(p.header.Get("Location"))
		if p.status != http.StatusFound || to == nil || to.Query().Get("error") != c.code || to.Query().Get("state") != "xyz" ||
			to.Query().Get("iss") != h.srv.URL || !strings.HasPrefix(to.String(), e.callback) {
			t.Errorf("%s: %d %q", c.what, p.status, p.header.Get("Location"))
		}
	}
}

func pkce(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// The token endpoint's refusals, each RFC 6749's error, audited, changing
// nothing: a wrong verifier, an expired code, another redirect URI, an
// unsupported grant; a public client without a secret.
func TestOIDCTokenErrors(t *testing.T) {
	e := newOIDCEnv(t, ram.AppTypeNative)
	h := e.h
	h.ramUser(e.owner, "dev", nil, nil)
	e.allowSignIn(t, "dev", "")
	cfg := e.config(oauth2.AuthStyleInParams)
	ctx := context.Background()
	code := func() (string, string) {
		v := oauth2.GenerateVerifier()
		_, to := e.authorize(t, nil, "dev", cfg, "s", "n", v)
		return to.Query().Get("code"), v
	}
	c, _ := code()
	if _, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(oauth2.GenerateVerifier())); !isOAuthError(err, "invalid_grant") {
		t.Errorf("a wrong verifier: %v", err)
	}
	c, v := code()
	if _, err := cfg.Exchange(ctx, c); !isOAuthError(err, "invalid_grant") {
		t.Errorf("no verifier: %v", err)
	}
	c, v = code()
	h.clock.Advance(61 * time.Second)
	if _, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("an expired code: %v", err)
	}
	c, v = code()
	other := *cfg
	other.RedirectURL = "http://127.0.0.1:9/other"
	if _, err := other.Exchange(ctx, c, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("another redirect_uri: %v", err)
	}
	c, v = code()
	if tok, err := cfg.Exchange(ctx, c, oauth2.VerifierOption(v)); err != nil || tok.AccessToken == "" {
		t.Errorf("a public client's exchange: %v", err)
	}
	resp, err := http.PostForm(h.srv.URL+"/v1/token", url.Values{"grant_type": {"password"}, "client_id": {e.app.AppID}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var answer map[string]string
	_ = json.Unmarshal(body, &answer)
	if resp.StatusCode != 400 || answer["error"] != "unsupported_grant_type" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("unsupported grant: %d %s", resp.StatusCode, body)
	}
	resp, err = http.PostForm(h.srv.URL+"/v1/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"nobody"}, "code": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("an unknown client: %d", resp.StatusCode)
	}
}

// RP-initiated logout: a valid hint and a registered URI sign out and go
// back; an unregistered URI gets ramconsole's own page, never a redirect.
func TestOIDCLogout(t *testing.T) {
	e := newOIDCEnv(t, ram.AppTypeWeb)
	h := e.h
	h.ramUser(e.owner, "dev", nil, nil)
	e.allowSignIn(t, "dev", "")
	cfg := e.config(oauth2.AuthStyleInHeader)
	v := oauth2.GenerateVerifier()
	b, to := e.authorize(t, nil, "dev", cfg, "s", "n", v)
	tok, err := cfg.Exchange(context.Background(), to.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	hint := tok.Extra("id_token").(string)
	p := b.get("/oauth2/v1/logout?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode())
	if p.status != 200 || !strings.Contains(p.body, "oidc-logout-confirm") {
		t.Errorf("an unregistered URI: %d %q", p.status, p.header.Get("Location"))
	}
	p = b.get("/oauth2/v1/logout?" + url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "state": {"k"}}.Encode())
	if p.status != http.StatusFound || p.header.Get("Location") != "http://127.0.0.1:9/bye?state=k" {
		t.Errorf("a registered URI: %d %q", p.status, p.header.Get("Location"))
	}
	expectRedirect(t, b.get("/me"), "/login?next=%2Fme", "the console session ended")
}

// The discovery document and the keys.
func TestOIDCDiscoveryAndKeys(t *testing.T) {
	h := newHarness(t)
	h.svc.SetIssuer(h.srv.URL)
	h.setupOwner()
	resp, err := http.Get(h.srv.URL + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if doc["issuer"] != h.srv.URL || doc["token_endpoint"] != h.srv.URL+"/v1/token" || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("discovery %v %v", doc, resp.Header)
	}
	resp, err = http.Get(h.srv.URL + "/v1/keys")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var set struct{ Keys []map[string]any }
	_ = json.Unmarshal(body, &set)
	if len(set.Keys) != 1 || set.Keys[0]["kty"] != "RSA" || set.Keys[0]["alg"] != "RS256" || set.Keys[0]["d"] != nil || set.Keys[0]["p"] != nil {
		t.Errorf("keys %s", body)
	}
	if !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=300") {
		t.Errorf("keys cache-control %q", resp.Header.Get("Cache-Control"))
	}
	// The private half is sealed in the database.
	if raw := h.rawDatabase(); strings.Contains(string(raw), "BEGIN") {
		t.Error("a private key in clear in the database")
	}
}

// On two nodes: a code issued on one is redeemed on the other once, and a
// revocation on one stops the refresh on the other at once.
func TestOIDCOnTwoNodes(t *testing.T) {
	a := newHarnessOn(t, Config{}, pgtest.NewDatabase(t, pgtest.Server(t)))
	a.svc.SetIssuer(a.srv.URL)
	owner, _ := a.setupOwner()
	b := a.node(Config{})
	b.svc.SetIssuer(a.srv.URL) // one issuer behind a load balancer
	ctx := context.Background()
	app, err := a.svc.CreateApplication(ctx, ownerActor(a), ram.ApplicationInput{AppName: "wiki", AppType: ram.AppTypeWeb,
		RedirectURIs: []string{"http://127.0.0.1:9/callback"}})
	if err != nil {
		t.Fatal(err)
	}
	sec, err := a.svc.CreateAppSecret(ctx, ownerActor(a), "wiki", false)
	if err != nil {
		t.Fatal(err)
	}
	a.ramUser(owner, "dev", nil, nil)
	e := &oidcEnv{h: a, owner: owner, app: app, secret: sec.Value, callback: "http://127.0.0.1:9/callback"}
	e.allowSignIn(t, "dev", "")
	provider := func(n *harness) *oauth2.Config {
		return &oauth2.Config{ClientID: app.AppID, ClientSecret: sec.Value, RedirectURL: e.callback, Scopes: []string{"openid"},
			Endpoint: oauth2.Endpoint{AuthURL: n.srv.URL + "/oauth2/v1/auth", TokenURL: n.srv.URL + "/v1/token", AuthStyle: oauth2.AuthStyleInHeader}}
	}
	v := oauth2.GenerateVerifier()
	br := a.browser()
	br.get("/login")
	expectRedirect(t, br.post("/login", url.Values{"username": {"dev"}, "password": {ramUserPW}}), "/", "dev signs in on a")
	au, _ := url.Parse(provider(a).AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	p := br.get(au.RequestURI())
	to, _ := url.Parse(p.header.Get("Location"))
	code := to.Query().Get("code")
	if code == "" {
		t.Fatalf("no code: %d %s", p.status, p.header.Get("Location"))
	}
	tok, err := provider(b).Exchange(ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("the code on node b: %v", err)
	}
	if _, err := provider(a).Exchange(ctx, code, oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("the same code on node a: %v", err)
	}
	// The replay revoked the family: mint a new one, then revoke on b.
	v = oauth2.GenerateVerifier()
	au, _ = url.Parse(provider(a).AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
	to, _ = url.Parse(br.get(au.RequestURI()).header.Get("Location"))
	if tok, err = provider(a).Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(v)); err != nil {
		t.Fatal(err)
	}
	ob := owner.on(b)
	ob.get("/users/dev")
	ob.post("/users/dev/login-profile/status", url.Values{"status": {"Inactive"}})
	tok.Expiry = time.Now().Add(-time.Minute)
	if _, err := provider(a).TokenSource(ctx, tok).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("a refresh on node a after a revocation on node b: %v", err)
	}
}

// RFC 7009 revocation: a refresh token dies with its family, an access
// token alone; an unknown token is answered 200 too; a wrong client 401.
func TestOIDCRevocationEndpoint(t *testing.T) {
	e := newOIDCEnv(t, ram.AppTypeWeb)
	h := e.h
	h.ramUser(e.owner, "dev", nil, nil)
	e.allowSignIn(t, "dev", "")
	cfg := e.config(oauth2.AuthStyleInHeader)
	ctx := context.Background()
	issue := func() *oauth2.Token {
		v := oauth2.GenerateVerifier()
		_, to := e.authorize(t, nil, "dev", cfg, "s", "n", v)
		tok, err := cfg.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	revoke := func(clientSecret, token string) int {
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/v1/revoke", strings.NewReader(url.Values{"token": {token}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(e.app.AppID), url.QueryEscape(clientSecret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	tok := issue()
	if st := revoke(e.secret, tok.AccessToken); st != 200 {
		t.Fatalf("revoke the access token: %d", st)
	}
	if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("userinfo with a revoked access token")
	}
	tok.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("the refresh token outlives its revoked access token: %v", err)
	}
	if st := revoke(e.secret, fresh.RefreshToken); st != 200 {
		t.Fatalf("revoke the refresh token: %d", st)
	}
	if _, err := e.provider.UserInfo(ctx, oauth2.StaticTokenSource(fresh)); err == nil {
		t.Error("the family's access token after its refresh token was revoked")
	}
	fresh.Expiry = time.Now().Add(-time.Minute)
	if _, err := cfg.TokenSource(ctx, fresh).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("refresh after revocation: %v", err)
	}
	if st := revoke(e.secret, "no-such-token"); st != 200 {
		t.Errorf("an unknown token: %d", st)
	}
	if st := revoke("wrong-secret", issue().RefreshToken); st != 401 {
		t.Errorf("a wrong client secret: %d", st)
	}
	if ev := lastEvent(t, h, "RevokeToken"); ev.ErrorCode != "invalid_client" || ev.EventSource != "oidc" {
		t.Errorf("revocation event: %s", ev.Body)
	}
}

// Five failed client authentications in a minute refuse the client for
// the next minute, the right secret too.
func TestOIDCClientAuthenticationThrottled(t *testing.T) {
	e := newOIDCEnv(t, ram.AppTypeWeb)
	token := func(secret string) int {
		req, _ := http.NewRequest(http.MethodPost, e.h.srv.URL+"/v1/token", strings.NewReader(url.Values{"grant_type": {"refresh_token"},
			"refresh_token": {"x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(e.app.AppID, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := token(e.secret); st != 400 {
		t.Fatalf("the right secret with a bad refresh token: %d, want 400 invalid_grant", st)
	}
	for i := 0; i < 5; i++ {
		if st := token("wrong"); st != 401 {
			t.Fatalf("wrong secret %d: %d", i, st)
		}
	}
	if st := token(e.secret); st != 401 {
		t.Errorf("the right secret right after five failures: %d, want 401", st)
	}
	e.h.clock.Advance(61 * time.Second)
	if st := token(e.secret); st != 400 {
		t.Errorf("the right secret a minute later: %d, want 400 invalid_grant", st)
	}
}

// A code not yet redeemed dies with a revocation ("Revoke all tokens"
// here); a sign-in that must first change its password still ends at the
// application.
func TestOIDCPendingCodeRevokedAndForcedStepsKeepTheRequest(t *testing.T) {
	e := newOIDCEnv(t, ram.AppTypeWeb)
	h := e.h
	h.ramUser(e.owner, "dev", nil, nil)
	e.allowSignIn(t, "dev", "")
	cfg := e.config(oauth2.AuthStyleInHeader)
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	_, to := e.authorize(t, nil, "dev", cfg, "s", "n", v)
	if _, err := h.svc.RevokeApplicationTokens(ctx, ownerActor(h), "wiki"); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(v)); !isOAuthError(err, "invalid_grant") {
		t.Errorf("a code issued before \"Revoke all tokens\": %v", err)
	}

	// kim must change the password at the first sign-in.
	e.owner.get("/users/new")
	expectHandover(t, e.owner.post("/users", url.Values{"name": {"kim"}, "console_login": {"true"}, "password": {ramUserPW},
		"password_reset_required": {"true"}}), "create kim")
	e.allowSignIn(t, "kim", "")
	v = oauth2.GenerateVerifier()
	au, _ := url.Parse(cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
	b := h.browser()
	login := b.get(au.RequestURI()).header.Get("Location")
	lu, _ := url.Parse(login)
	b.get(login)
	expectRedirect(t, b.post("/login", url.Values{"username": {"kim"}, "password": {ramUserPW}, "next": {lu.Query().Get("next")}}),
		"/password/change", "kim must change the password")
	b.get("/password/change")
	newPW := "Another-Long-Pass-8812"
	p := b.post("/password/change", url.Values{"current_password": {ramUserPW}, "new_password": {newPW}, "confirm_password": {newPW}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/oauth2/v1/auth?") {
		t.Fatalf("after the forced change: %d %q, want back to the authorization", p.status, p.header.Get("Location"))
	}
	p = b.get(p.header.Get("Location"))
	back, _ := url.Parse(p.header.Get("Location"))
	if p.status != http.StatusFound || back.Query().Get("code") == "" || back.Query().Get("state") != "st" {
		t.Fatalf("the authorization after the forced steps: %d %q", p.status, p.header.Get("Location"))
	}
}

// "Sign out everywhere else" ends the other console sessions and revokes
// the applications' tokens; the session it was pressed in stays.
func TestOIDCSignOutEverywhere(t *testing.T) {
	e := newOIDCEnv(t, ram.AppTypeWeb)
	h := e.h
	h.ramUser(e.owner, "dev", nil, nil)
	e.allowSignIn(t, "dev", "")
	cfg := e.config(oauth2.AuthStyleInHeader)
	ctx := context.Background()
	v := oauth2.GenerateVerifier()
	other, to := e.authorize(t, nil, "dev", cfg, "s", "n", v)
	tok, err := cfg.Exchange(ctx, to.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	here := h.browser()
	here.get("/login")
	expectRedirect(t, here.post("/login", url.Values{"username": {"dev"}, "password": {ramUserPW}}), "/", "dev signs in again")
	p := here.get("/me")
	if !strings.Contains(p.body, `data-testid="sign-out-everywhere"`) {
		t.Fatal("no sign-out-everywhere button on /me")
	}
	expectRedirect(t, here.post("/me/sign-out-everywhere", nil), "/me", "sign out everywhere")
	expectStatus(t, here.get("/me"), 200, "this session stays")
	expectRedirect(t, other.get("/me"), "/login?next=%2Fme", "the other session ended")
	tok.Expiry = time.Now().Add(-time.Minute)
	if _, err := cfg.TokenSource(ctx, tok).Token(); !isOAuthError(err, "invalid_grant") {
		t.Errorf("the application's refresh after sign-out everywhere: %v", err)
	}
}

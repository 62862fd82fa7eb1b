package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"ramconsole/ram"
)

// benchOIDC is a console with a WebApp and a signed-in user allowed to
// sign in to it, for the token endpoint's and userinfo's benchmarks.
func benchOIDC(b *testing.B) (*oidcEnv, *browser, *oauth2.Config) {
	h := newHarness(b)
	h.svc.SetIssuer(h.srv.URL)
	owner, _ := h.setupOwner()
	e := &oidcEnv{h: h, owner: owner, callback: "http://127.0.0.1:9/callback"}
	ctx := context.Background()
	var err error
	if e.app, err = h.svc.CreateApplication(ctx, ownerActor(h), ram.ApplicationInput{AppName: "wiki", AppType: ram.AppTypeWeb,
		RedirectURIs: []string{e.callback}, Scopes: []string{"openid", "profile", "groups"}}); err != nil {
		b.Fatal(err)
	}
	sec, err := h.svc.CreateAppSecret(ctx, ownerActor(h), "wiki", false)
	if err != nil {
		b.Fatal(err)
	}
	e.secret = sec.Value
	h.ramUser(owner, "dev", nil, nil)
	doc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"oidc:SignIn","Resource":"acs:oidc:*:*:application/wiki"}]}`
	owner.get("/policies/new")
	owner.post("/policies", url.Values{"name": {"WikiSignIn"}, "document": {doc}})
	owner.get("/users/dev")
	owner.post("/users/dev/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"WikiSignIn"}})
	br := h.browser()
	br.get("/login")
	expectRedirect(b, br.post("/login", url.Values{"username": {"dev"}, "password": {ramUserPW}}), "/", "dev signs in")
	cfg := &oauth2.Config{ClientID: e.app.AppID, ClientSecret: e.secret, RedirectURL: e.callback, Scopes: []string{"openid", "profile", "groups"},
		Endpoint: oauth2.Endpoint{AuthURL: h.srv.URL + "/oauth2/v1/auth", TokenURL: h.srv.URL + "/v1/token", AuthStyle: oauth2.AuthStyleInHeader}}
	return e, br, cfg
}

// mintCode runs the signed-in browser through the authorization endpoint.
func mintCode(b *testing.B, br *browser, cfg *oauth2.Config) (code, verifier string) {
	verifier = oauth2.GenerateVerifier()
	au, _ := url.Parse(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	p := br.get(au.RequestURI())
	to, err := url.Parse(p.header.Get("Location"))
	if p.status != http.StatusFound || err != nil || to.Query().Get("code") == "" {
		b.Fatalf("authorize: %d %q", p.status, p.header.Get("Location"))
	}
	return to.Query().Get("code"), verifier
}

// reportLatency adds p50 and p99 (µs) of the timed calls.
func reportLatency(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkOIDCCodeExchange: the token endpoint's code exchange over
// loopback (client authentication, the code's single use, PKCE, a token
// family, three tokens and a signed ID token, the audit event).
func BenchmarkOIDCCodeExchange(b *testing.B) {
	_, br, cfg := benchOIDC(b)
	ctx := context.Background()
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		code, v := mintCode(b, br, cfg)
		b.StartTimer()
		start := time.Now()
		if _, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	reportLatency(b, took)
}

// BenchmarkOIDCRefresh: a refresh (rotation, the live checks and the
// policy decision again, new tokens).
func BenchmarkOIDCRefresh(b *testing.B) {
	_, br, cfg := benchOIDC(b)
	ctx := context.Background()
	code, v := mintCode(b, br, cfg)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		b.Fatal(err)
	}
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tok.Expiry = time.Now().Add(-time.Minute)
		start := time.Now()
		if tok, err = cfg.TokenSource(ctx, tok).Token(); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(start))
	}
	reportLatency(b, took)
}

// BenchmarkOIDCUserInfo: userinfo with a bearer token (the live checks,
// the policy decision, the claims read now, the audit event).
func BenchmarkOIDCUserInfo(b *testing.B) {
	_, br, cfg := benchOIDC(b)
	ctx := context.Background()
	code, v := mintCode(b, br, cfg)
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		b.Fatal(err)
	}
	url := br.h.srv.URL + "/v1/userinfo"
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("userinfo: %v %v", resp, err)
		}
		resp.Body.Close()
		took = append(took, time.Since(start))
	}
	reportLatency(b, took)
}

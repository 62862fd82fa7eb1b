package oidcfed_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ramconsole/ram/oidcfed"
	"ramconsole/ram/oidcfed/oidctest"
)

// memCache is a Cache kept in memory.
type memCache struct {
	mu      sync.Mutex
	entries map[string]memEntry
}

type memEntry struct {
	doc     []byte
	fetched time.Time
}

func (c *memCache) LoadJWKS(_ context.Context, key string) ([]byte, time.Time, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	return e.doc, e.fetched, ok, nil
}

func (c *memCache) StoreJWKS(_ context.Context, key, _ string, doc []byte, fetched time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]memEntry{}
	}
	c.entries[key] = memEntry{doc: slices.Clone(doc), fetched: fetched}
	return nil
}

// clock is a clock tests move.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

const audience = "sts.aliyuncs.com"

type fixture struct {
	issuer   *oidctest.Issuer
	clock    *clock
	cache    *memCache
	verifier *oidcfed.Verifier
	provider *oidcfed.Provider
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{issuer: oidctest.NewIssuer(t), clock: &clock{t: time.Date(2026, 11, 26, 9, 0, 10, 0, time.UTC)}, cache: &memCache{}}
	f.issuer.SetClock(f.clock.Now)
	f.verifier = &oidcfed.Verifier{Cache: f.cache, Now: f.clock.Now}
	f.provider = &oidcfed.Provider{
		ID:            "op-1",
		IssuerURL:     f.issuer.URL(),
		ClientIDs:     []string{"other-client", audience},
		Fingerprints:  []string{strings.ToUpper(f.issuer.Fingerprint())},
		IssuanceLimit: 12 * time.Hour,
	}
	return f
}

func (f *fixture) token() string {
	return f.issuer.Token(oidctest.Claims{Subject: "repo:acme/app:ref:refs/heads/main", Audience: []string{audience}, JTI: "j-1"})
}

func (f *fixture) verify(t testing.TB, token string) (*oidcfed.Claims, error) {
	t.Helper()
	return f.verifier.Verify(context.Background(), f.provider, token)
}

// wantCode checks that err is a refusal with code.
func wantCode(t *testing.T, err error, code oidcfed.ErrorCode) *oidcfed.Error {
	t.Helper()
	var e *oidcfed.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("Verify error = %v, want code %s", err, code)
	}
	t.Logf("refused: %v", e)
	return e
}

func TestVerifyAcceptsEveryAudienceShape(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		aud  any
		want []string
	}{
		{"string", audience, []string{audience}},
		{"array of one", []string{audience}, []string{audience}},
		{"array with one client ID among others", []string{"https://github.com/acme", audience}, []string{"https://github.com/acme", audience}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := f.issuer.Token(oidctest.Claims{Subject: "system:serviceaccount:ci:deployer", JTI: "j-2", Extra: map[string]any{"aud": tc.aud}})
			c, err := f.verify(t, tok)
			if err != nil {
				t.Fatalf("Verify = %v, want success", err)
			}
			now := f.clock.Now()
			want := oidcfed.Claims{Subject: "system:serviceaccount:ci:deployer", Issuer: f.issuer.URL(), Audiences: tc.want,
				Expiry: now.Add(10 * time.Minute), IssuedAt: now, JTI: "j-2"}
			if c.Subject != want.Subject || c.Issuer != want.Issuer || !slices.Equal(c.Audiences, want.Audiences) ||
				!c.Expiry.Equal(want.Expiry) || !c.IssuedAt.Equal(want.IssuedAt) || c.JTI != want.JTI {
				t.Errorf("Verify = %+v, want %+v", *c, want)
			}
		})
	}
}

func TestVerifyAllowsPresentingATokenAgainUntilItExpires(t *testing.T) {
	f := newFixture(t)
	tok := f.token()
	for range 2 {
		if _, err := f.verify(t, tok); err != nil {
			t.Fatalf("Verify = %v, want success", err)
		}
	}
	f.clock.Add(10*time.Minute + 30*time.Second)
	if _, err := f.verify(t, tok); err != nil {
		t.Fatalf("Verify within 60 s of exp = %v, want success", err)
	}
	f.clock.Add(31 * time.Second)
	_, err := f.verify(t, tok)
	wantCode(t, err, oidcfed.Expired)
}

func TestVerifyRefusals(t *testing.T) {
	f := newFixture(t)
	other := oidctest.NewIssuer(t) // its first key has the same kid as f.issuer's
	now := f.clock.Now()
	payload := func(extra map[string]any) []byte {
		claims := map[string]any{"iss": f.issuer.URL(), "sub": "repo:acme/app", "aud": audience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range extra {
			claims[k] = v
		}
		b, _ := json.Marshal(claims)
		return b
	}
	claims := func(c oidctest.Claims) string {
		if c.Subject == "" {
			c.Subject = "repo:acme/app"
		}
		if c.Audience == nil {
			c.Audience = []string{audience}
		}
		return f.issuer.Token(c)
	}
	for _, tc := range []struct {
		name  string
		token func() string
		want  oidcfed.ErrorCode
	}{
		{"empty token", func() string { return "" }, oidcfed.TokenInvalid},
		{"two parts", func() string { return "eyJhbGciOiJSUzI1NiJ9.e30" }, oidcfed.TokenInvalid},
		{"four parts", func() string { return f.token() + ".x" }, oidcfed.TokenInvalid},
		{"not Base64url", func() string { return "eyJ!.e30.sig" }, oidcfed.TokenInvalid},
		{"header not JSON", func() string { return "bm90IGpzb24.e30.c2ln" }, oidcfed.TokenInvalid},
		{"payload not JSON", func() string {
			tok := f.token()
			parts := strings.Split(tok, ".")
			return parts[0] + ".bm90IGpzb24." + parts[2]
		}, oidcfed.TokenInvalid},
		{"alg none", func() string {
			return f.issuer.Sign(map[string]any{"alg": "none", "kid": f.issuer.KeyID()}, payload(nil), "none")
		}, oidcfed.TokenInvalid},
		{"RS256 key used as an HS256 secret", func() string {
			return f.issuer.Sign(map[string]any{"alg": "HS256", "kid": f.issuer.KeyID()}, payload(nil), "HS256")
		}, oidcfed.TokenInvalid},
		{"HS512", func() string {
			return f.issuer.Sign(map[string]any{"alg": "HS512", "kid": f.issuer.KeyID()}, payload(nil), "HS512")
		}, oidcfed.TokenInvalid},
		{"algorithm outside the list", func() string {
			return f.issuer.Sign(map[string]any{"alg": "EdDSA", "kid": f.issuer.KeyID()}, payload(nil), "EdDSA")
		}, oidcfed.TokenInvalid},
		{"algorithm differs from the JWK's", func() string {
			return f.issuer.Sign(map[string]any{"alg": "RS384", "kid": f.issuer.KeyID()}, payload(nil), "RS384")
		}, oidcfed.TokenInvalid},
		{"no kid", func() string { return f.issuer.Sign(map[string]any{"alg": "RS256"}, payload(nil), "RS256") }, oidcfed.TokenInvalid},
		{"unknown kid", func() string {
			return f.issuer.Sign(map[string]any{"alg": "RS256", "kid": "unknown"}, payload(nil), "RS256")
		}, oidcfed.InvalidSignature},
		{"payload changed after signing", func() string {
			parts := strings.Split(f.token(), ".")
			forged := strings.Split(f.issuer.Sign(nil, payload(map[string]any{"sub": "repo:evil/app"}), "none"), ".")
			return parts[0] + "." + forged[1] + "." + parts[2]
		}, oidcfed.InvalidSignature},
		{"signed by another issuer's key with the same kid", func() string {
			return other.Sign(map[string]any{"alg": "RS256", "kid": f.issuer.KeyID()}, payload(nil), "RS256")
		}, oidcfed.InvalidSignature},
		{"another issuer", func() string { return claims(oidctest.Claims{Issuer: other.URL()}) }, oidcfed.IssuerNotMatch},
		{"issuer with a trailing slash", func() string { return claims(oidctest.Claims{Issuer: f.issuer.URL() + "/"}) }, oidcfed.IssuerNotMatch},
		{"audience not a client ID", func() string { return claims(oidctest.Claims{Audience: []string{"someone-else"}}) }, oidcfed.AudienceNotMatch},
		{"no audience", func() string { return claims(oidctest.Claims{Extra: map[string]any{"aud": nil}}) }, oidcfed.AudienceNotMatch},
		{"audience not a string", func() string { return claims(oidctest.Claims{Extra: map[string]any{"aud": 7}}) }, oidcfed.AudienceNotMatch},
		{"expired beyond 60 s", func() string {
			return claims(oidctest.Claims{IssuedAt: now.Add(-time.Hour), Expiry: now.Add(-61 * time.Second)})
		}, oidcfed.Expired},
		{"no exp", func() string { return claims(oidctest.Claims{Extra: map[string]any{"exp": nil}}) }, oidcfed.TokenInvalid},
		{"nbf more than 60 s ahead", func() string { return claims(oidctest.Claims{NotBefore: now.Add(2 * time.Minute)}) }, oidcfed.TokenInvalid},
		{"iat more than 60 s ahead", func() string { return claims(oidctest.Claims{IssuedAt: now.Add(2 * time.Minute)}) }, oidcfed.TokenInvalid},
		{"iat older than the issuance limit", func() string {
			return claims(oidctest.Claims{IssuedAt: now.Add(-13 * time.Hour), Expiry: now.Add(time.Hour)})
		}, oidcfed.TokenInvalid},
		{"no iat", func() string { return claims(oidctest.Claims{Extra: map[string]any{"iat": nil}}) }, oidcfed.TokenInvalid},
		{"no sub", func() string { return claims(oidctest.Claims{Extra: map[string]any{"sub": nil}}) }, oidcfed.TokenInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.verify(t, tc.token())
			wantCode(t, err, tc.want)
		})
	}
}

func TestVerifyNamesTheUnknownAlgorithm(t *testing.T) {
	f := newFixture(t)
	tok := f.issuer.Sign(map[string]any{"alg": "HS256", "kid": f.issuer.KeyID()}, []byte(`{"sub":"x"}`), "HS256")
	_, err := f.verify(t, tok)
	if e := wantCode(t, err, oidcfed.TokenInvalid); e.Message != "The algorithm HS256 that be specified in Jwt header is unknown." {
		t.Errorf("Message = %q, want Alibaba's text", e.Message)
	}
	if n := f.issuer.JWKSRequests(); n != 0 {
		t.Errorf("JWKSRequests() = %d, want 0: an HMAC token never reaches the key set", n)
	}
}

func TestVerifyRefetchesForAnUnknownKidAtMostOnceAMinute(t *testing.T) {
	f := newFixture(t)
	if _, err := f.verify(t, f.token()); err != nil {
		t.Fatalf("Verify = %v, want success", err)
	}
	unknown := f.issuer.Sign(map[string]any{"alg": "RS256", "kid": "unknown"}, []byte(`{}`), "RS256")
	for _, step := range []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {30 * time.Second, 1}, {31 * time.Second, 2}, {0, 2}, {59 * time.Second, 2}, {time.Second, 3}} {
		f.clock.Add(step.advance)
		_, err := f.verify(t, unknown)
		wantCode(t, err, oidcfed.InvalidSignature)
		if n := f.issuer.JWKSRequests(); n != step.want {
			t.Fatalf("after %v: JWKSRequests() = %d, want %d", step.advance, n, step.want)
		}
	}
}

func TestVerifyUsesTheCachedKeySetForAnHour(t *testing.T) {
	f := newFixture(t)
	for _, step := range []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {59 * time.Minute, 1}, {time.Minute, 2}, {time.Minute, 2}} {
		f.clock.Add(step.advance)
		if _, err := f.verify(t, f.token()); err != nil {
			t.Fatalf("Verify = %v, want success", err)
		}
		if n := f.issuer.JWKSRequests(); n != step.want {
			t.Fatalf("after %v: JWKSRequests() = %d, want %d", step.advance, n, step.want)
		}
	}
}

func TestVerifyPicksUpARotatedKey(t *testing.T) {
	f := newFixture(t)
	if _, err := f.verify(t, f.token()); err != nil {
		t.Fatalf("Verify = %v, want success", err)
	}
	f.issuer.RotateKey()
	f.clock.Add(61 * time.Second)
	if _, err := f.verify(t, f.token()); err != nil {
		t.Fatalf("Verify with the rotated key = %v, want success", err)
	}
	if n := f.issuer.JWKSRequests(); n != 2 {
		t.Errorf("JWKSRequests() = %d, want 2", n)
	}
}

func TestVerifyFingerprintMismatch(t *testing.T) {
	f := newFixture(t)
	f.provider.Fingerprints = []string{strings.Repeat("ab", 20)}
	_, err := f.verify(t, f.token())
	wantCode(t, err, oidcfed.FingerprintMismatch)
	if n := f.issuer.JWKSRequests(); n != 0 {
		t.Errorf("JWKSRequests() = %d, want 0", n)
	}
}

func TestVerifyAfterAFingerprintChangeDoesNotReadTheOldCache(t *testing.T) {
	f := newFixture(t)
	if _, err := f.verify(t, f.token()); err != nil {
		t.Fatalf("Verify = %v, want success", err)
	}
	old := oidcfed.CacheKey(f.provider)
	reordered := *f.provider
	reordered.Fingerprints = []string{strings.Repeat("AB", 20), f.issuer.Fingerprint()}
	f.provider.Fingerprints = []string{f.issuer.Fingerprint(), strings.Repeat("ab", 20)}
	if a, b := oidcfed.CacheKey(f.provider), oidcfed.CacheKey(&reordered); a != b {
		t.Errorf("CacheKey depends on order or case: %q != %q", a, b)
	}
	if !strings.HasPrefix(old, "op-1:") || oidcfed.CacheKey(f.provider) == old {
		t.Fatalf("CacheKey = %q after a fingerprint change, was %q", oidcfed.CacheKey(f.provider), old)
	}
	if _, err := f.verify(t, f.token()); err != nil {
		t.Fatalf("Verify = %v, want success", err)
	}
	if n := f.issuer.JWKSRequests(); n != 2 {
		t.Errorf("JWKSRequests() = %d, want 2: the key set is fetched again under the new fingerprints", n)
	}
	// Under fingerprints that no longer match, the set cached under the
	// matching ones is never used.
	f.provider.Fingerprints = []string{strings.Repeat("cd", 20)}
	_, err := f.verify(t, f.token())
	wantCode(t, err, oidcfed.FingerprintMismatch)
}

func TestVerifyIssuerConfigurationBroken(t *testing.T) {
	serve := func(body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) })
	}
	discovery := func(f *fixture, change func(map[string]any)) http.Handler {
		doc := f.issuer.Discovery()
		change(doc)
		b, _ := json.Marshal(doc)
		return serve(string(b))
	}
	for _, tc := range []struct {
		name  string
		setup func(f *fixture)
		want  string // in the message
	}{
		{"jwks_uri on another host", func(f *fixture) {
			f.issuer.Handle(oidctest.DiscoveryPath, discovery(f, func(d map[string]any) {
				d["jwks_uri"] = strings.Replace(f.issuer.URL(), "127.0.0.1", "localhost", 1) + oidctest.JWKSPath
			}))
		}, "jwks_uri"},
		{"jwks_uri over http", func(f *fixture) {
			f.issuer.Handle(oidctest.DiscoveryPath, discovery(f, func(d map[string]any) {
				d["jwks_uri"] = strings.Replace(f.issuer.URL(), "https:", "http:", 1) + oidctest.JWKSPath
			}))
		}, "jwks_uri"},
		{"discovery names another issuer", func(f *fixture) {
			f.issuer.Handle(oidctest.DiscoveryPath, discovery(f, func(d map[string]any) { d["issuer"] = "https://token.actions.githubusercontent.com" }))
		}, "names another issuer"},
		{"discovery not JSON", func(f *fixture) { f.issuer.Handle(oidctest.DiscoveryPath, serve("<html>")) }, "not JSON"},
		{"discovery missing", func(f *fixture) { f.issuer.Handle(oidctest.DiscoveryPath, http.NotFoundHandler()) }, "answered 404"},
		{"discovery larger than 1 MiB", func(f *fixture) {
			f.issuer.Handle(oidctest.DiscoveryPath, serve(`{"x":"`+strings.Repeat("a", 1<<20)+`"}`))
		}, "larger than 1 MiB"},
		{"redirect to another host", func(f *fixture) {
			f.issuer.Handle(oidctest.DiscoveryPath, http.RedirectHandler(strings.Replace(f.issuer.URL(), "127.0.0.1", "localhost", 1)+oidctest.JWKSPath, http.StatusFound))
		}, "could not be fetched"},
		{"JWKS not JSON", func(f *fixture) { f.issuer.Handle(oidctest.JWKSPath, serve("keys")) }, "JWKS is not"},
		{"issuer unreachable", func(f *fixture) { f.issuer.Close() }, "could not be fetched"},
		{"http issuer", func(f *fixture) { f.provider.IssuerURL = strings.Replace(f.issuer.URL(), "https:", "http:", 1) }, "not HTTPS"},
		{"certificate not valid at the verifier's clock", func(f *fixture) {
			f.verifier.Now = func() time.Time { return time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC) }
		}, "could not be fetched"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			tok := f.token()
			tc.setup(f)
			_, err := f.verify(t, tok)
			e := wantCode(t, err, oidcfed.IssuerConfigurationBroken)
			if !strings.Contains(e.Message, f.provider.IssuerURL) || !strings.Contains(e.Message, tc.want) {
				t.Errorf("Message = %q, want it to name the issuer %s and say %q", e.Message, f.provider.IssuerURL, tc.want)
			}
		})
	}
}

// connectProxy is an HTTP CONNECT proxy that sends every tunnel to target,
// whatever host the client asked for; it counts the tunnels.
func connectProxy(t *testing.T, target string) (*url.URL, *atomic.Int32) {
	var tunnels atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		tunnels.Add(1)
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		io.WriteString(conn, "HTTP/1.1 200 Connection established\r\n\r\n")
		go func() {
			io.Copy(up, buf)
			up.Close()
		}()
		io.Copy(conn, bufio.NewReader(up))
		conn.Close()
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u, &tunnels
}

func TestVerifyGoesThroughTheConfiguredProxy(t *testing.T) {
	f := newFixture(t)
	f.issuer.SetHost("issuer.test") // resolvable only by the proxy
	f.provider.IssuerURL = f.issuer.URL()
	proxy, tunnels := connectProxy(t, f.issuer.Addr())
	f.verifier.Proxy = http.ProxyURL(proxy)
	if _, err := f.verify(t, f.token()); err != nil {
		t.Fatalf("Verify = %v, want success", err)
	}
	if n := tunnels.Load(); n != 2 {
		t.Errorf("proxy tunnels = %d, want 2 (discovery and JWKS)", n)
	}
	got, err := oidcfed.Fingerprint(context.Background(), f.issuer.URL(), http.ProxyURL(proxy))
	if err != nil || got != f.issuer.Fingerprint() {
		t.Errorf("Fingerprint through the proxy = %q, %v, want %s", got, err, f.issuer.Fingerprint())
	}
}

func TestVerifyIgnoresTheProxyEnvironment(t *testing.T) {
	f := newFixture(t)
	f.issuer.SetHost("issuer.test")
	f.provider.IssuerURL = f.issuer.URL()
	proxy, tunnels := connectProxy(t, f.issuer.Addr())
	for _, name := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"} {
		t.Setenv(name, proxy.String())
	}
	t.Setenv("NO_PROXY", "")
	_, err := f.verify(t, f.token())
	wantCode(t, err, oidcfed.IssuerConfigurationBroken)
	if n := tunnels.Load(); n != 0 {
		t.Errorf("proxy tunnels = %d, want 0", n)
	}
}

func TestFingerprintReturnsTheLastCertificatesSHA1(t *testing.T) {
	iss := oidctest.NewIssuer(t)
	got, err := oidcfed.Fingerprint(context.Background(), iss.URL(), nil)
	if err != nil || got != iss.Fingerprint() {
		t.Errorf("Fingerprint(%s) = %q, %v, want %s", iss.URL(), got, err, iss.Fingerprint())
	}
	httpURL := strings.Replace(iss.URL(), "https:", "http:", 1)
	if got, err := oidcfed.Fingerprint(context.Background(), httpURL, nil); err == nil {
		t.Errorf("Fingerprint(%s) = %q, want an error", httpURL, got)
	}
	iss.Close()
	if got, err := oidcfed.Fingerprint(context.Background(), iss.URL(), nil); err == nil {
		t.Errorf("Fingerprint of a closed server = %q, want an error", got)
	}
}

func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	good := fx.token()
	if _, err := fx.verify(f, good); err != nil { // fills the cache: no iteration fetches
		f.Fatalf("Verify = %v, want success", err)
	}
	for _, seed := range []string{good, "", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.",
		fx.issuer.Sign(map[string]any{"alg": "HS256", "kid": fx.issuer.KeyID()}, []byte(`{}`), "HS256"),
		fx.issuer.Sign(nil, []byte(`{"aud":[1,{}],"exp":1e400,"iat":"x","nbf":-1}`), "RS256"),
		fx.issuer.Sign(map[string]any{"alg": []int{1}, "kid": 3}, []byte(`[]`), "RS256")} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, token string) {
		c, err := fx.verifier.Verify(context.Background(), fx.provider, token)
		var e *oidcfed.Error
		if (c == nil) == (err == nil) || (err != nil && !errors.As(err, &e)) {
			t.Fatalf("Verify(%q) = %v, %v, want claims or a refusal", token, c, err)
		}
	})
}

// A broken issuer is asked at most once a minute: forged tokens naming it
// cannot make ramconsole fetch on every call.
func TestVerifyRemembersAFailedFetchForAMinute(t *testing.T) {
	f := newFixture(t)
	f.issuer.Handle(oidctest.JWKSPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	for _, step := range []struct {
		advance time.Duration
		want    int
	}{{0, 1}, {0, 1}, {59 * time.Second, 1}, {time.Second, 2}} {
		f.clock.Add(step.advance)
		_, err := f.verify(t, f.token())
		wantCode(t, err, oidcfed.IssuerConfigurationBroken)
		if n := f.issuer.JWKSRequests(); n != step.want {
			t.Fatalf("after %v: JWKSRequests() = %d, want %d", step.advance, n, step.want)
		}
	}
}

// A caller that hangs up does not end the shared fetch for the others, nor
// leave a failure remembered: the next caller's token is verified.
func TestVerifyAfterACallerHungUp(t *testing.T) {
	f := newFixture(t)
	f.provider.ID = "op-hung-up" // a key set of its own in the shared fetches
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = f.verifier.Verify(ctx, f.provider, f.token())
	if _, err := f.verify(t, f.token()); err != nil {
		t.Fatalf("Verify after a caller hung up = %v, want success", err)
	}
}

// Package oidcfed verifies the OIDC tokens an external issuer (a CI system,
// Kubernetes, an enterprise IdP) presents to STS AssumeRoleWithOIDC (SPEC
// §18.6, §18.7). The issuer's discovery document and JWKS are fetched over
// HTTPS pinned to the provider's fingerprints (the SHA-1 of the last
// certificate the server presents), never trusting the system roots, and
// cached through the Cache the caller provides (the database: every node
// shares it).
package oidcfed

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"
)

// ErrorCode is an AssumeRoleWithOIDC refusal code (SPEC §18.8).
type ErrorCode string

// Refusal codes, all answered 401.
const (
	TokenInvalid              ErrorCode = "AuthenticationFail.OIDCToken.Invalid"
	InvalidSignature          ErrorCode = "AuthenticationFail.OIDCToken.InvalidSignature"
	IssuerNotMatch            ErrorCode = "AuthenticationFail.OIDCToken.IssuerNotMatch"
	AudienceNotMatch          ErrorCode = "AuthenticationFail.OIDCToken.AudienceNotMatch"
	Expired                   ErrorCode = "AuthenticationFail.OIDCToken.Expired"
	FingerprintMismatch       ErrorCode = "AuthenticationFail.OIDCToken.PublicKeyFingerprintMismatch"
	IssuerConfigurationBroken ErrorCode = "AuthenticationFail.OIDCToken.IssuerConfigurationBroken"
)

// Error is a refused token; Message is safe to answer to the caller.
type Error struct {
	Code    ErrorCode
	Message string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Provider is an OIDC provider as stored.
type Provider struct {
	ID            string // the stored provider's id
	IssuerURL     string
	ClientIDs     []string
	Fingerprints  []string // 40 lowercase hex digits each
	IssuanceLimit time.Duration
}

// Claims are a verified token's claims.
type Claims struct {
	Subject   string
	Issuer    string
	Audiences []string
	Expiry    time.Time
	IssuedAt  time.Time
	JTI       string
}

// Cache keeps fetched JWKS documents. Key is derived from the provider's
// id and fingerprints (CacheKey), so a change of fingerprints never reads
// a document fetched under the old ones.
type Cache interface {
	LoadJWKS(ctx context.Context, key string) (doc []byte, fetched time.Time, ok bool, err error)
	StoreJWKS(ctx context.Context, key, providerID string, doc []byte, fetched time.Time) error
}

// Verifier verifies tokens and fetches issuers' configuration.
type Verifier struct {
	Cache Cache
	Now   func() time.Time
	// Proxy is the outbound proxy (--outbound-proxy); nil connects directly
	// (HTTP(S)_PROXY are never read).
	Proxy func(*http.Request) (*url.URL, error)
}

// Cache and clock rules (SPEC §18.6), and the clock skew of §18.7.
const (
	jwksMaxAge           = time.Hour
	jwksRefetchInterval  = time.Minute
	clockSkew            = 60 * time.Second
	defaultIssuanceLimit = 12 * time.Hour
)

// allowedAlgorithms are the token algorithms AssumeRoleWithOIDC accepts.
var allowedAlgorithms = map[string]jose.SignatureAlgorithm{
	"RS256": jose.RS256, "RS384": jose.RS384, "RS512": jose.RS512,
	"PS256": jose.PS256, "ES256": jose.ES256, "ES384": jose.ES384,
}

// CacheKey is the Cache key of a provider's JWKS: its id and fingerprints.
func CacheKey(p *Provider) string {
	fps := make([]string, len(p.Fingerprints))
	for i, fp := range p.Fingerprints {
		fps[i] = strings.ToLower(fp)
	}
	slices.Sort(fps)
	sum := sha256.Sum256([]byte(strings.Join(fps, ",")))
	return p.ID + ":" + hex.EncodeToString(sum[:])
}

func refuse(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Verify checks token for p in SPEC §18.8's order (format, algorithm and
// kid, signature, iss, aud, times) and returns its claims; a refusal is an
// *Error.
func (v *Verifier) Verify(ctx context.Context, p *Provider, token string) (*Claims, error) {
	header, err := parseCompact(token)
	if err != nil {
		return nil, err
	}
	alg, _ := header["alg"].(string)
	sigAlg, ok := allowedAlgorithms[alg]
	if !ok {
		return nil, refuse(TokenInvalid, "The algorithm %s that be specified in Jwt header is unknown.", printable(header["alg"]))
	}
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{sigAlg})
	if err != nil || len(jws.Signatures) != 1 {
		return nil, refuse(TokenInvalid, "The OIDC token is not a valid JWT.")
	}
	kid, _ := header["kid"].(string)
	if kid == "" {
		return nil, refuse(TokenInvalid, "The OIDC token has no kid in its header.")
	}
	key, err := v.key(ctx, p, kid)
	if err != nil {
		return nil, err
	}
	if key.Algorithm != "" && key.Algorithm != alg {
		return nil, refuse(TokenInvalid, "The algorithm %s that be specified in Jwt header differs from the key's algorithm %s.", alg, printable(key.Algorithm))
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, refuse(InvalidSignature, "The signature of the OIDC token is invalid.")
	}
	return v.checkClaims(p, payload)
}

// parseCompact checks that token is three Base64url parts whose first two
// are JSON objects, and returns the header.
func parseCompact(token string) (map[string]any, error) {
	invalid := refuse(TokenInvalid, "The OIDC token is not a valid JWT.")
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, invalid
	}
	var header, payload map[string]any
	for i, dst := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, dst) != nil || *dst == nil {
			return nil, invalid
		}
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return nil, invalid
	}
	return header, nil
}

// printable renders a header value for a refusal message.
func printable(v any) string {
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.ToValidUTF8(s, "")
}

// tokenClaims are the registered claims ramconsole reads.
type tokenClaims struct {
	Issuer    any          `json:"iss"`
	Subject   any          `json:"sub"`
	Audience  any          `json:"aud"`
	Expiry    *json.Number `json:"exp"`
	NotBefore *json.Number `json:"nbf"`
	IssuedAt  *json.Number `json:"iat"`
	JTI       any          `json:"jti"`
}

func (v *Verifier) checkClaims(p *Provider, payload []byte) (*Claims, error) {
	invalid := refuse(TokenInvalid, "The OIDC token's claims are not valid.")
	var tc tokenClaims
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.UseNumber()
	if err := dec.Decode(&tc); err != nil {
		return nil, invalid
	}
	iss, _ := tc.Issuer.(string)
	if iss != p.IssuerURL {
		return nil, refuse(IssuerNotMatch, "The issuer of the OIDC token does not match the OIDC provider's issuer URL.")
	}
	auds, ok := audiences(tc.Audience)
	if !ok || !slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(p.ClientIDs, a) }) {
		return nil, refuse(AudienceNotMatch, "The audience of the OIDC token matches no client ID of the OIDC provider.")
	}
	now := v.now()
	exp, ok := unixTime(tc.Expiry)
	if !ok {
		return nil, refuse(TokenInvalid, "The OIDC token has no valid exp claim.")
	}
	if !now.Before(exp.Add(clockSkew)) {
		return nil, refuse(Expired, "The OIDC token has expired.")
	}
	if nbf, ok := unixTime(tc.NotBefore); tc.NotBefore != nil && (!ok || nbf.After(now.Add(clockSkew))) {
		return nil, refuse(TokenInvalid, "The OIDC token is not valid yet (nbf).")
	}
	iat, ok := unixTime(tc.IssuedAt)
	if !ok || iat.After(now.Add(clockSkew)) {
		return nil, refuse(TokenInvalid, "The OIDC token has no valid iat claim.")
	}
	limit := p.IssuanceLimit
	if limit <= 0 {
		limit = defaultIssuanceLimit
	}
	if now.Sub(iat) > limit {
		return nil, refuse(TokenInvalid, "The OIDC token was issued longer ago than the OIDC provider's issuance limit.")
	}
	sub, _ := tc.Subject.(string)
	if sub == "" {
		return nil, refuse(TokenInvalid, "The OIDC token has no sub claim.")
	}
	jti, _ := tc.JTI.(string)
	return &Claims{Subject: sub, Issuer: iss, Audiences: auds, Expiry: exp, IssuedAt: iat, JTI: jti}, nil
}

// audiences reads aud, a string or an array of strings.
func audiences(v any) ([]string, bool) {
	switch aud := v.(type) {
	case string:
		return []string{aud}, true
	case []any:
		out := make([]string, 0, len(aud))
		for _, a := range aud {
			s, ok := a.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	return nil, false
}

// unixTime reads a NumericDate (seconds, possibly fractional).
func unixTime(n *json.Number) (time.Time, bool) {
	if n == nil {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

// key finds kid in p's JWKS: the cached set when it is younger than an
// hour, else (or when kid is unknown and the set is older than a minute)
// a fresh one.
func (v *Verifier) key(ctx context.Context, p *Provider, kid string) (*jose.JSONWebKey, error) {
	cacheKey := CacheKey(p)
	now := v.now()
	if v.Cache != nil {
		doc, fetched, ok, err := v.Cache.LoadJWKS(ctx, cacheKey)
		if err != nil {
			return nil, fmt.Errorf("oidcfed: load JWKS of %s: %w", p.ID, err)
		}
		age := now.Sub(fetched)
		if ok && age < jwksMaxAge {
			if key := findKey(doc, kid); key != nil {
				return key, nil
			}
			if age < jwksRefetchInterval {
				return nil, unknownKID(kid)
			}
		}
	}
	doc, err := v.fetchShared(ctx, p, cacheKey, now)
	if err != nil {
		return nil, err
	}
	if v.Cache != nil {
		if err := v.Cache.StoreJWKS(ctx, cacheKey, p.ID, doc, now); err != nil {
			return nil, fmt.Errorf("oidcfed: store JWKS of %s: %w", p.ID, err)
		}
	}
	if key := findKey(doc, kid); key != nil {
		return key, nil
	}
	return nil, unknownKID(kid)
}

func unknownKID(kid string) *Error {
	return refuse(InvalidSignature, "The kid %s of the OIDC token is not in the issuer's JWKS.", printable(kid))
}

// findKey returns the signing key kid of a JWKS document; keys ramconsole
// cannot read are skipped rather than spoiling the set.
func findKey(doc []byte, kid string) *jose.JSONWebKey {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(doc, &set) != nil {
		return nil
	}
	for _, raw := range set.Keys {
		var key jose.JSONWebKey
		if json.Unmarshal(raw, &key) != nil || key.KeyID != kid || key.Use == "enc" || !key.IsPublic() {
			continue
		}
		return &key
	}
	return nil
}

// fetches merges concurrent fetches of one key set and remembers a failed
// one for a minute, so that forged tokens naming a broken or unreachable
// issuer make at most one outbound fetch a minute per node.
var fetches = struct {
	group  singleflight.Group
	mu     sync.Mutex
	failed map[string]failedFetch
}{failed: map[string]failedFetch{}}

type failedFetch struct {
	at  time.Time
	err error
}

// fetchShared is fetchJWKS through fetches.
func (v *Verifier) fetchShared(ctx context.Context, p *Provider, cacheKey string, now time.Time) ([]byte, error) {
	id := cacheKey + " " + p.IssuerURL
	fetches.mu.Lock()
	f, ok := fetches.failed[id]
	if ok && now.Sub(f.at) >= jwksRefetchInterval || now.Before(f.at) {
		delete(fetches.failed, id)
		ok = false
	}
	fetches.mu.Unlock()
	if ok {
		return nil, f.err
	}
	// The fetch is shared: one caller hanging up must not end it for the
	// others, nor leave its failure remembered (the fetch has its own
	// timeout).
	shared := context.WithoutCancel(ctx)
	doc, err, _ := fetches.group.Do(id, func() (any, error) { return v.fetchJWKS(shared, p) })
	if err != nil {
		var refused *Error
		if errors.As(err, &refused) && ctx.Err() == nil {
			fetches.mu.Lock()
			if len(fetches.failed) > 10000 {
				clear(fetches.failed)
			}
			fetches.failed[id] = failedFetch{at: now, err: err}
			fetches.mu.Unlock()
		}
		return nil, err
	}
	return doc.([]byte), nil
}

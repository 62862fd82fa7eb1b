// Package oidctest runs an OIDC issuer for tests: a stand-in for a CI system
// (GitHub Actions, GitLab CI) that serves a discovery document and a JWKS
// over HTTPS and signs ID tokens with an RSA-2048 key.
//
// The server presents a two-certificate chain (a leaf for 127.0.0.1,
// localhost and the host set with SetHost, then the CA that signed it), so
// the fingerprint an administrator registers is the CA's, as for a real
// issuer.
package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"hash"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Paths the issuer serves.
const (
	DiscoveryPath = "/.well-known/openid-configuration"
	JWKSPath      = "/jwks"
)

// Issuer is a running OIDC issuer.
type Issuer struct {
	t      testing.TB
	server *httptest.Server
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey

	mu        sync.Mutex
	now       func() time.Time
	host      string // host in URL(); "127.0.0.1" unless SetHost
	leaf      *tls.Certificate
	key       *rsa.PrivateKey
	kid       string
	keySerial int
	overrides map[string]http.Handler
	jwksHits  int
}

// Claims are the claims Token signs. Zero times take the issuer's clock:
// IssuedAt now, Expiry now + 10 minutes; a zero NotBefore is left out. An
// empty Issuer is the issuer's URL. One audience is encoded as a string,
// several as an array. Extra claims are added last and replace standard
// ones of the same name; a nil value removes the claim.
type Claims struct {
	Subject   string
	Audience  []string
	Issuer    string
	IssuedAt  time.Time
	Expiry    time.Time
	NotBefore time.Time
	JTI       string
	Extra     map[string]any
}

// NewIssuer starts an issuer; it is closed when the test ends.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	i := &Issuer{t: t, now: time.Now, host: "127.0.0.1", overrides: map[string]http.Handler{}}
	i.caKey = newECKey(t)
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ramconsole test issuer CA"},
		NotBefore:             time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &i.caKey.PublicKey, i.caKey)
	if err != nil {
		t.Fatalf("oidctest: create CA: %v", err)
	}
	if i.caCert, err = x509.ParseCertificate(der); err != nil {
		t.Fatalf("oidctest: parse CA: %v", err)
	}
	i.leaf = i.newLeaf("")
	i.RotateKey()

	mux := http.NewServeMux()
	mux.HandleFunc(DiscoveryPath, i.serve(DiscoveryPath, i.serveDiscovery))
	mux.HandleFunc(JWKSPath, i.serve(JWKSPath, i.serveJWKS))
	i.server = httptest.NewUnstartedServer(mux)
	i.server.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		i.mu.Lock()
		defer i.mu.Unlock()
		return &tls.Config{Certificates: []tls.Certificate{*i.leaf}}, nil
	}}
	i.server.StartTLS()
	t.Cleanup(i.Close)
	return i
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("oidctest: generate key: %v", err)
	}
	return key
}

// newLeaf issues the server certificate for 127.0.0.1, ::1, localhost and
// extra (when not empty), signed by the CA.
func (i *Issuer) newLeaf(extra string) *tls.Certificate {
	key := newECKey(i.t)
	template := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "ramconsole test issuer"},
		NotBefore:    time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	if extra != "" {
		if ip := net.ParseIP(extra); ip != nil {
			template.IPAddresses = append(template.IPAddresses, ip)
		} else {
			template.DNSNames = append(template.DNSNames, extra)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, template, i.caCert, &key.PublicKey, i.caKey)
	if err != nil {
		i.t.Fatalf("oidctest: create leaf: %v", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der, i.caCert.Raw}, PrivateKey: key}
}

// serve answers path with the override set by Handle, else with def.
func (i *Issuer) serve(path string, def http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i.mu.Lock()
		if path == JWKSPath {
			i.jwksHits++
		}
		h := i.overrides[path]
		i.mu.Unlock()
		if h != nil {
			h.ServeHTTP(w, r)
			return
		}
		def(w, r)
	}
}

func (i *Issuer) serveDiscovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, i.Discovery())
}

func (i *Issuer) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, i.JWKS())
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// URL is the issuer identifier: https://127.0.0.1:<port> (or the host set
// with SetHost), without a trailing slash.
func (i *Issuer) URL() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.urlLocked()
}

func (i *Issuer) urlLocked() string {
	_, port, _ := net.SplitHostPort(i.server.Listener.Addr().String())
	return "https://" + net.JoinHostPort(i.host, port)
}

// Addr is the address the server listens on (127.0.0.1:<port>), for a
// proxy in a test that must reach it under another name.
func (i *Issuer) Addr() string { return i.server.Listener.Addr().String() }

// SetHost makes URL (and so the discovery document's issuer and jwks_uri and
// the tokens' iss) use host instead of 127.0.0.1, and adds host to the
// server certificate. Nothing resolves host: a test reaches it through a
// proxy. The fingerprint does not change.
func (i *Issuer) SetHost(host string) {
	leaf := i.newLeaf(host)
	i.mu.Lock()
	defer i.mu.Unlock()
	i.host, i.leaf = host, leaf
}

// Fingerprint is the SHA-1 (lowercase hex) of the last certificate the
// server presents: the CA certificate.
func (i *Issuer) Fingerprint() string {
	sum := sha1.Sum(i.caCert.Raw)
	return hex.EncodeToString(sum[:])
}

// Discovery is the discovery document the issuer serves by default; a test
// may change a copy and serve it with Handle.
func (i *Issuer) Discovery() map[string]any {
	u := i.URL()
	return map[string]any{
		"issuer":                                u,
		"jwks_uri":                              u + JWKSPath,
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf"},
	}
}

// JWKS is the key set the issuer serves by default: the current key.
func (i *Issuer) JWKS() map[string]any {
	i.mu.Lock()
	defer i.mu.Unlock()
	pub := i.key.PublicKey
	return map[string]any{"keys": []map[string]any{{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": i.kid,
		"n":   b64(pub.N.Bytes()),
		"e":   b64(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}

// Handle serves path (DiscoveryPath or JWKSPath) with h from now on; a nil
// h restores the default. JWKS fetches are counted either way.
func (i *Issuer) Handle(path string, h http.Handler) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if h == nil {
		delete(i.overrides, path)
		return
	}
	i.overrides[path] = h
}

// SetClock sets the clock Token reads for zero times.
func (i *Issuer) SetClock(now func() time.Time) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.now = now
}

// KeyID is the kid of the current signing key.
func (i *Issuer) KeyID() string {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.kid
}

// PublicKeyPEM is the current key's public half as a PKIX PEM block: the
// secret Sign uses for HS256/HS384/HS512 (the key-confusion attack).
func (i *Issuer) PublicKeyPEM() []byte {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.publicPEMLocked()
}

func (i *Issuer) publicPEMLocked() []byte {
	der, err := x509.MarshalPKIXPublicKey(&i.key.PublicKey)
	if err != nil {
		i.t.Fatalf("oidctest: marshal public key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// RotateKey replaces the signing key (with a new kid); the JWKS serves only
// the new one from now on.
func (i *Issuer) RotateKey() {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		i.t.Fatalf("oidctest: generate RSA key: %v", err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keySerial++
	i.key, i.kid = key, "key-"+strconv.Itoa(i.keySerial)
}

// JWKSRequests is how many times the JWKS was fetched.
func (i *Issuer) JWKSRequests() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.jwksHits
}

// Token signs c with the current key (RS256, with its kid).
func (i *Issuer) Token(c Claims) string {
	i.mu.Lock()
	now, iss, kid := i.now(), i.urlLocked(), i.kid
	i.mu.Unlock()
	claims := map[string]any{"iss": iss}
	if c.Issuer != "" {
		claims["iss"] = c.Issuer
	}
	if c.Subject != "" {
		claims["sub"] = c.Subject
	}
	switch len(c.Audience) {
	case 0:
	case 1:
		claims["aud"] = c.Audience[0]
	default:
		claims["aud"] = c.Audience
	}
	if c.IssuedAt.IsZero() {
		c.IssuedAt = now
	}
	if c.Expiry.IsZero() {
		c.Expiry = now.Add(10 * time.Minute)
	}
	claims["iat"] = c.IssuedAt.Unix()
	claims["exp"] = c.Expiry.Unix()
	if !c.NotBefore.IsZero() {
		claims["nbf"] = c.NotBefore.Unix()
	}
	if c.JTI != "" {
		claims["jti"] = c.JTI
	}
	for k, v := range c.Extra {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		i.t.Fatalf("oidctest: marshal claims: %v", err)
	}
	return i.Sign(map[string]any{"alg": "RS256", "kid": kid, "typ": "JWT"}, payload, "RS256")
}

// Sign makes a compact JWS of header and payload exactly as given (a nil
// header is {"alg": alg, "kid": the current kid, "typ": "JWT"}), signed
// with alg: RS256/RS384/RS512/PS256 with the current RSA key,
// HS256/HS384/HS512 with PublicKeyPEM as the HMAC secret, anything else
// (such as "none") with an empty signature.
func (i *Issuer) Sign(header map[string]any, payload []byte, alg string) string {
	i.mu.Lock()
	key, kid, secret := i.key, i.kid, i.publicPEMLocked()
	i.mu.Unlock()
	if header == nil {
		header = map[string]any{"alg": alg, "kid": kid, "typ": "JWT"}
	}
	h, err := json.Marshal(header)
	if err != nil {
		i.t.Fatalf("oidctest: marshal header: %v", err)
	}
	input := b64(h) + "." + b64(payload)
	var sig []byte
	digest := func(ch crypto.Hash) []byte {
		d := ch.New()
		d.Write([]byte(input))
		return d.Sum(nil)
	}
	mac := func(f func() hash.Hash) []byte {
		m := hmac.New(f, secret)
		m.Write([]byte(input))
		return m.Sum(nil)
	}
	switch alg {
	case "RS256", "RS384", "RS512":
		ch := map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512}[alg]
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, ch, digest(ch))
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest(crypto.SHA256), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "HS256":
		sig = mac(sha256.New)
	case "HS384":
		sig = mac(sha512.New384)
	case "HS512":
		sig = mac(sha512.New)
	}
	if err != nil {
		i.t.Fatalf("oidctest: sign: %v", err)
	}
	return input + "." + b64(sig)
}

// Close stops the server.
func (i *Issuer) Close() { i.server.Close() }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

package oidcfed

import (
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Outbound rules (SPEC §18.10).
const (
	fetchTimeout  = 5 * time.Second
	maxBody       = 1 << 20
	maxRedirects  = 5
	discoveryPath = "/.well-known/openid-configuration"
)

// pinned is the TLS check of one fetch: the last certificate the server
// presents must be one of fingerprints, every certificate must be signed
// by the next one, and the leaf must be valid at now for host. mismatch
// records a refusal that FingerprintMismatch answers.
type pinned struct {
	fingerprints []string
	host         string
	now          time.Time
	mismatch     atomic.Bool
}

var errPin = errors.New("oidcfed: certificate chain not anchored at a registered fingerprint")

func (p *pinned) verify(cs tls.ConnectionState) error {
	certs := cs.PeerCertificates
	if len(certs) == 0 {
		return errors.New("oidcfed: no certificate presented")
	}
	anchored := slices.ContainsFunc(p.fingerprints, func(fp string) bool {
		return strings.EqualFold(fp, sha1Hex(certs[len(certs)-1]))
	})
	for i := 0; anchored && i < len(certs)-1; i++ {
		anchored = certs[i].CheckSignatureFrom(certs[i+1]) == nil
	}
	if !anchored {
		p.mismatch.Store(true)
		return errPin
	}
	leaf := certs[0]
	if p.now.Before(leaf.NotBefore) || p.now.After(leaf.NotAfter) {
		return fmt.Errorf("oidcfed: certificate not valid at %s", p.now.UTC().Format(time.RFC3339))
	}
	return leaf.VerifyHostname(p.host)
}

func sha1Hex(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return hex.EncodeToString(sum[:])
}

// hostKey is a URL's host for comparison: lower case, with the port made
// explicit.
func hostKey(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// newClient is an HTTPS client that only talks to origin's host, through
// proxy when it is set, with verifyConnection as its only certificate check.
func newClient(origin *url.URL, proxy func(*http.Request) (*url.URL, error), verifyConnection func(tls.ConnectionState) error) *http.Client {
	return &http.Client{
		Timeout: fetchTimeout,
		Transport: &http.Transport{
			Proxy:             proxy,
			DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{
				InsecureSkipVerify: true, // verifyConnection checks the chain against the fingerprints
				VerifyConnection:   verifyConnection,
				MinVersion:         tls.VersionTLS12,
			},
			TLSHandshakeTimeout:   fetchTimeout,
			ResponseHeaderTimeout: fetchTimeout,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects || req.URL.Scheme != "https" || hostKey(req.URL) != hostKey(origin) {
				return errors.New("oidcfed: redirect away from the issuer's host")
			}
			return nil
		},
	}
}

// httpsURL parses an issuer's https URL.
func httpsURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil {
		return nil, errors.New("not an https URL")
	}
	return u, nil
}

// fetchJWKS fetches p's discovery document and then its JWKS (SPEC §18.6).
func (v *Verifier) fetchJWKS(ctx context.Context, p *Provider) ([]byte, error) {
	broken := func(reason string) *Error {
		return refuse(IssuerConfigurationBroken, "The configuration of the OIDC issuer %s could not be used: %s.", p.IssuerURL, reason)
	}
	issuer, err := httpsURL(p.IssuerURL)
	if err != nil {
		return nil, broken("the issuer URL is not HTTPS")
	}
	pin := &pinned{fingerprints: p.Fingerprints, host: issuer.Hostname(), now: v.now()}
	client := newClient(issuer, v.Proxy, pin.verify)
	get := func(u string) ([]byte, *Error) {
		body, err := fetch(ctx, client, u)
		switch {
		case pin.mismatch.Load():
			return nil, refuse(FingerprintMismatch, "The certificate of the OIDC issuer %s matches no fingerprint of the OIDC provider.", p.IssuerURL)
		case err != nil:
			return nil, broken(err.Error())
		}
		return body, nil
	}

	body, ferr := get(strings.TrimSuffix(p.IssuerURL, "/") + discoveryPath)
	if ferr != nil {
		return nil, ferr
	}
	var discovery struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if json.Unmarshal(body, &discovery) != nil {
		return nil, broken("the discovery document is not JSON")
	}
	if discovery.Issuer != p.IssuerURL {
		return nil, broken("the discovery document names another issuer")
	}
	jwksURI, err := httpsURL(discovery.JWKSURI)
	if err != nil || hostKey(jwksURI) != hostKey(issuer) {
		return nil, broken("jwks_uri is not an https URL on the issuer's host")
	}
	body, ferr = get(jwksURI.String())
	if ferr != nil {
		return nil, ferr
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(body, &set) != nil || set.Keys == nil {
		return nil, broken("the JWKS is not a JSON key set")
	}
	return body, nil
}

// fetch GETs u and returns its body (at most 1 MiB) when the answer is 200.
func fetch(ctx context.Context, client *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, errors.New("bad URL")
	}
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) && uerr.Timeout() {
			return nil, fmt.Errorf("%s timed out", u)
		}
		return nil, fmt.Errorf("%s could not be fetched over HTTPS", u)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %d", u, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s could not be read", u)
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("%s is larger than 1 MiB", u)
	}
	return body, nil
}

// errCaptured ends Fingerprint's handshake once the certificates are seen.
var errCaptured = errors.New("oidcfed: certificates captured")

// Fingerprint connects to issuerURL's host over TLS and returns the SHA-1
// (40 lowercase hex digits) of the last certificate the server presents —
// the value an administrator compares and registers.
func Fingerprint(ctx context.Context, issuerURL string, proxy func(*http.Request) (*url.URL, error)) (string, error) {
	u, err := httpsURL(issuerURL)
	if err != nil {
		return "", fmt.Errorf("oidcfed: fingerprint of %q: %w", issuerURL, err)
	}
	var fingerprint atomic.Value
	client := newClient(u, proxy, func(cs tls.ConnectionState) error {
		if n := len(cs.PeerCertificates); n > 0 {
			fingerprint.Store(sha1Hex(cs.PeerCertificates[n-1]))
		}
		return errCaptured // shown to an administrator, never trusted: no need to finish
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, u.String(), nil)
	if err != nil {
		return "", fmt.Errorf("oidcfed: fingerprint of %q: %w", issuerURL, err)
	}
	res, err := client.Do(req)
	if err == nil {
		res.Body.Close()
	}
	fp, _ := fingerprint.Load().(string)
	if fp == "" {
		return "", fmt.Errorf("oidcfed: fingerprint of %q: no certificate: %w", issuerURL, err)
	}
	return fp, nil
}

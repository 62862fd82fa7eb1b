// Package samltest is a SAML 2.0 identity provider for ramconsole's tests,
// built on github.com/crewjam/saml's IdentityProvider: it publishes its
// metadata, answers an SP-initiated AuthnRequest (HTTP-Redirect or HTTP-POST)
// with an auto-submitting HTML form, starts IdP-initiated sign-ins, and makes
// signed Responses directly for tests of the service provider and of STS.
//
// It signs with an RSA-2048 key and a self-signed certificate, RSA-SHA256
// (or RSA-SHA1 on request) and exclusive canonicalisation.
package samltest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// Defaults of Options and User.
const (
	EmailAddressFormat         = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	PasswordProtectedTransport = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	DefaultLifetime            = 5 * time.Minute
)

// crewjamMu serialises every use of crewjam that reads the package-level
// saml.TimeNow, which is set to the clock of the IdP in use meanwhile.
var crewjamMu sync.Mutex

// IdP is a SAML identity provider (RSA-2048 key, self-signed certificate,
// RSA-SHA256, exclusive C14N).
type IdP struct {
	baseURL string
	key     *rsa.PrivateKey
	cert    *x509.Certificate

	mu       sync.Mutex
	clock    func() time.Time
	user     *User
	requests []string
}

// Options describe one Response.
type Options struct {
	Audience             string // AudienceRestriction/Audience (the SP entityID)
	Recipient            string // SubjectConfirmationData Recipient and Response Destination (the ACS URL)
	NameID               string
	NameIDFormat         string // default EmailAddressFormat
	InResponseTo         string // "" for IdP-initiated
	AuthnContextClassRef string // default PasswordProtectedTransport
	Attributes           map[string][]string
	Lifetime             time.Duration // NotOnOrAfter = now + Lifetime (default 5 min)
	SessionNotOnOrAfter  time.Time     // zero: omitted
	SignResponse         bool          // sign the Response element instead of the Assertion
	SignBoth             bool          // sign the assertion and the response
	SHA1                 bool          // sign with RSA-SHA1/SHA1 digest
	Issuer               string        // override the issuer (default EntityID)
}

// User is who the IdP signs in on /sso and /idp-initiated.
type User struct {
	NameID, NameIDFormat, AuthnContextClassRef string
	Attributes                                 map[string][]string
}

// New returns an IdP with a fresh key and certificate. baseURL is where
// Handler is served: the entity ID is baseURL+"/metadata" and the SSO URL
// baseURL+"/sso". The certificate is valid from 2000 to 2099, so that any
// test clock accepts it.
func New(t testing.TB, baseURL string) *IdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("samltest: generate key: %v", err)
	}
	u, err := url.Parse(baseURL)
	if err != nil || u.Host == "" {
		t.Fatalf("samltest: base URL %q is not an absolute URL", baseURL)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: u.Host},
		NotBefore:             time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2099, 12, 31, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("samltest: create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("samltest: parse certificate: %v", err)
	}
	return &IdP{baseURL: strings.TrimRight(baseURL, "/"), key: key, cert: cert, clock: time.Now}
}

// EntityID is baseURL+"/metadata".
func (p *IdP) EntityID() string { return p.baseURL + "/metadata" }

// SSOURL is baseURL+"/sso", the SingleSignOnService of both bindings.
func (p *IdP) SSOURL() string { return p.baseURL + "/sso" }

// Certificate is the IdP's signing certificate.
func (p *IdP) Certificate() *x509.Certificate { return p.cert }

// Key is the IdP's signing key.
func (p *IdP) Key() *rsa.PrivateKey { return p.key }

// SetClock sets where the IdP reads the time (default time.Now).
func (p *IdP) SetClock(now func() time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clock = now
}

// SetUser sets who the IdP signs in next on /sso and /idp-initiated.
func (p *IdP) SetUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = &u
}

// Requests returns the IDs of the AuthnRequests accepted on /sso, in order.
func (p *IdP) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

func (p *IdP) now() time.Time {
	p.mu.Lock()
	clock := p.clock
	p.mu.Unlock()
	return clock().UTC()
}

// withCrewjam runs f holding crewjamMu, with saml.TimeNow reading the
// IdP's clock.
func (p *IdP) withCrewjam(f func()) {
	now := p.now()
	crewjamMu.Lock()
	defer crewjamMu.Unlock()
	saved := saml.TimeNow
	saml.TimeNow = func() time.Time { return now }
	defer func() { saml.TimeNow = saved }()
	f()
}

// identityProvider is the crewjam IdentityProvider for this IdP; issuer
// is its entity ID as written in responses.
func (p *IdP) identityProvider(issuer string) *saml.IdentityProvider {
	sso, _ := url.Parse(p.SSOURL())
	return &saml.IdentityProvider{
		Key:           p.key,
		Certificate:   p.cert,
		MetadataURL:   url.URL{Opaque: issuer}, // String() is issuer, whatever it is
		SSOURL:        *sso,
		NameIDFormats: []saml.NameIDFormat{EmailAddressFormat},
	}
}

// Metadata is the IdP's metadata: an IDPSSODescriptor with the signing
// certificate and SingleSignOnServices for HTTP-Redirect and HTTP-POST.
func (p *IdP) Metadata() []byte {
	var buf []byte
	var err error
	p.withCrewjam(func() {
		buf, err = xml.MarshalIndent(p.identityProvider(p.EntityID()).Metadata(), "", "  ")
	})
	if err != nil {
		panic("samltest: metadata: " + err.Error())
	}
	return buf
}

// Response is the Base64 of a signed SAML Response, as posted in SAMLResponse.
func (p *IdP) Response(o Options) string {
	return base64.StdEncoding.EncodeToString(p.ResponseXML(o))
}

// ResponseXML is the signed SAML Response as XML.
func (p *IdP) ResponseXML(o Options) []byte {
	el, err := p.responseElement(o)
	if err != nil {
		panic("samltest: response: " + err.Error())
	}
	doc := etree.NewDocument()
	doc.SetRoot(el)
	buf, err := doc.WriteToBytes()
	if err != nil {
		panic("samltest: response: " + err.Error())
	}
	return buf
}

// responseElement builds the Response with crewjam's types and signs it
// with crewjam's IdpAuthnRequest: MakeAssertionEl signs the assertion,
// MakeResponse signs the response.
func (p *IdP) responseElement(o Options) (*etree.Element, error) {
	now := p.now()
	issuer := o.Issuer
	if issuer == "" {
		issuer = p.EntityID()
	}
	idp := p.identityProvider(issuer)
	if o.SHA1 {
		idp.SignatureMethod = dsig.RSASHA1SignatureMethod
	} else {
		idp.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	req := &saml.IdpAuthnRequest{
		IDP:             idp,
		Now:             now,
		Request:         saml.AuthnRequest{ID: o.InResponseTo},
		SPSSODescriptor: &saml.SPSSODescriptor{},
		ACSEndpoint:     &saml.IndexedEndpoint{Binding: saml.HTTPPostBinding, Location: o.Recipient},
		Assertion:       p.assertion(o, issuer, now),
	}
	var err error
	p.withCrewjam(func() {
		signAssertion := o.SignBoth || !o.SignResponse
		if signAssertion {
			err = req.MakeAssertionEl()
		} else {
			req.AssertionEl, err = req.Assertion.CanonicalElement()
		}
		if err != nil {
			return
		}
		if o.SignBoth || o.SignResponse {
			err = req.MakeResponse()
			return
		}
		response := &saml.Response{
			Destination:  o.Recipient,
			ID:           newID(),
			InResponseTo: o.InResponseTo,
			IssueInstant: now,
			Version:      "2.0",
			Issuer:       &saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: issuer},
			Status:       saml.Status{StatusCode: saml.StatusCode{Value: saml.StatusSuccess}},
		}
		req.ResponseEl = response.Element()
		req.ResponseEl.AddChild(req.AssertionEl)
	})
	return req.ResponseEl, err
}

func (p *IdP) assertion(o Options, issuer string, now time.Time) *saml.Assertion {
	format := o.NameIDFormat
	if format == "" {
		format = EmailAddressFormat
	}
	classRef := o.AuthnContextClassRef
	if classRef == "" {
		classRef = PasswordProtectedTransport
	}
	lifetime := o.Lifetime
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	notOnOrAfter := now.Add(lifetime)
	authn := saml.AuthnStatement{
		AuthnInstant: now,
		SessionIndex: newID(),
		AuthnContext: saml.AuthnContext{AuthnContextClassRef: &saml.AuthnContextClassRef{Value: classRef}},
	}
	if !o.SessionNotOnOrAfter.IsZero() {
		t := o.SessionNotOnOrAfter.UTC()
		authn.SessionNotOnOrAfter = &t
	}
	a := &saml.Assertion{
		ID:           newID(),
		IssueInstant: now,
		Version:      "2.0",
		Issuer:       saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: issuer},
		Subject: &saml.Subject{
			NameID: &saml.NameID{Format: format, Value: o.NameID},
			SubjectConfirmations: []saml.SubjectConfirmation{{
				Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &saml.SubjectConfirmationData{
					InResponseTo: o.InResponseTo,
					NotOnOrAfter: notOnOrAfter,
					Recipient:    o.Recipient,
				},
			}},
		},
		Conditions: &saml.Conditions{
			NotBefore:            now,
			NotOnOrAfter:         notOnOrAfter,
			AudienceRestrictions: []saml.AudienceRestriction{{Audience: saml.Audience{Value: o.Audience}}},
		},
		AuthnStatements: []saml.AuthnStatement{authn},
	}
	if len(o.Attributes) > 0 {
		names := make([]string, 0, len(o.Attributes))
		for name := range o.Attributes {
			names = append(names, name)
		}
		sort.Strings(names)
		var attrs []saml.Attribute
		for _, name := range names {
			nameFormat := "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
			if strings.Contains(name, ":") {
				nameFormat = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
			}
			attr := saml.Attribute{Name: name, NameFormat: nameFormat}
			for _, v := range o.Attributes[name] {
				attr.Values = append(attr.Values, saml.AttributeValue{Type: "xs:string", Value: v})
			}
			attrs = append(attrs, attr)
		}
		a.AttributeStatements = []saml.AttributeStatement{{Attributes: attrs}}
	}
	return a
}

func newID() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return fmt.Sprintf("id-%x", b)
}

// Handler serves the IdP:
//   - GET /metadata: Metadata;
//   - GET (HTTP-Redirect) or POST (HTTP-POST) /sso: an AuthnRequest, checked
//     by crewjam (Destination, IssueInstant against the IdP's clock, ID,
//     Issuer). The user set by SetUser is signed in at once, and the answer
//     is an auto-submitting HTML form that posts SAMLResponse and RelayState
//     to the request's AssertionConsumerServiceURL, with InResponseTo the
//     request ID and Audience the request's Issuer;
//   - GET /idp-initiated?acs=<url>&audience=<entityID>&relay=<RelayState>:
//     an unsolicited response, posted the same way.
func (p *IdP) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(p.Metadata())
	})
	mux.HandleFunc("/sso", p.serveSSO)
	mux.HandleFunc("GET /idp-initiated", p.serveIDPInitiated)
	return mux
}

// requestedSP makes the service provider of an AuthnRequest up from the
// request itself: its Issuer is the entity ID and its
// AssertionConsumerServiceURL the only ACS, with the HTTP-POST binding.
type requestedSP struct{ req **saml.IdpAuthnRequest }

func (sp requestedSP) GetServiceProvider(_ *http.Request, entityID string) (*saml.EntityDescriptor, error) {
	acs := (*sp.req).Request.AssertionConsumerServiceURL
	if acs == "" {
		return nil, fmt.Errorf("the AuthnRequest has no AssertionConsumerServiceURL")
	}
	return &saml.EntityDescriptor{
		EntityID: entityID,
		SPSSODescriptors: []saml.SPSSODescriptor{{
			AssertionConsumerServices: []saml.IndexedEndpoint{{Binding: saml.HTTPPostBinding, Location: acs, Index: 1}},
		}},
	}, nil
}

func (p *IdP) serveSSO(w http.ResponseWriter, r *http.Request) {
	var req *saml.IdpAuthnRequest
	var err error
	p.withCrewjam(func() {
		idp := p.identityProvider(p.EntityID())
		idp.ServiceProviderProvider = requestedSP{&req}
		if req, err = saml.NewIdpAuthnRequest(idp, r); err == nil {
			err = req.Validate()
		}
	})
	if err != nil {
		http.Error(w, "samltest: AuthnRequest refused: "+err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	p.requests = append(p.requests, req.Request.ID)
	p.mu.Unlock()
	p.signIn(w, req, req.ServiceProviderMetadata.EntityID)
}

func (p *IdP) serveIDPInitiated(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	acs, audience := q.Get("acs"), q.Get("audience")
	if acs == "" || audience == "" {
		http.Error(w, "samltest: acs and audience are required", http.StatusBadRequest)
		return
	}
	req := &saml.IdpAuthnRequest{
		IDP:         p.identityProvider(p.EntityID()),
		HTTPRequest: r,
		RelayState:  q.Get("relay"),
		ACSEndpoint: &saml.IndexedEndpoint{Binding: saml.HTTPPostBinding, Location: acs},
	}
	p.signIn(w, req, audience)
}

// signIn answers req for the current user with crewjam's auto-submitting
// form.
func (p *IdP) signIn(w http.ResponseWriter, req *saml.IdpAuthnRequest, audience string) {
	p.mu.Lock()
	user := p.user
	p.mu.Unlock()
	if user == nil || user.NameID == "" {
		http.Error(w, "samltest: no user is signed in at the IdP (SetUser)", http.StatusBadRequest)
		return
	}
	el, err := p.responseElement(Options{
		Audience:             audience,
		Recipient:            req.ACSEndpoint.Location,
		InResponseTo:         req.Request.ID,
		NameID:               user.NameID,
		NameIDFormat:         user.NameIDFormat,
		AuthnContextClassRef: user.AuthnContextClassRef,
		Attributes:           user.Attributes,
	})
	if err == nil {
		req.ResponseEl = el
		err = req.WriteResponse(w)
	}
	if err != nil {
		http.Error(w, "samltest: "+err.Error(), http.StatusInternalServerError)
	}
}

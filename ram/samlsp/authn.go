package samlsp

import (
	"bytes"
	"compress/flate"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"strings"
	"time"
)

// AuthnRequest is an SP-initiated sign-in's request: its ID (≥ 128 random
// bits) and the URL of the IdP's SSO service carrying it with the
// HTTP-Redirect binding and relayState.
type AuthnRequest struct {
	ID  string
	URL string
}

// NewAuthnRequest writes an AuthnRequest to idp for the SP.
//
// The request always travels with the HTTP-Redirect binding. When the
// metadata lists only an HTTP-POST SingleSignOnService, the redirect is sent
// to that location: the IdPs seen in practice (Keycloak, Entra ID, AD FS,
// Okta, Shibboleth) serve both bindings on one endpoint, and a redirect keeps
// the sign-in a plain 302 with no page of ours in between.
func NewAuthnRequest(idp *IDPMetadata, spEntityID, acsURL, relayState string, now time.Time) (*AuthnRequest, error) {
	if idp == nil {
		return nil, errors.New("samlsp: no identity provider metadata")
	}
	dest := idp.SSOURLRedirect
	if dest == "" {
		dest = idp.SSOURLPost
	}
	u, err := url.Parse(dest)
	if err != nil || !httpURL(dest) {
		return nil, errors.New("samlsp: the identity provider has no usable SingleSignOnService URL")
	}
	var rnd [20]byte // 160 random bits
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, err
	}
	id := "_" + hex.EncodeToString(rnd[:])
	doc := `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"` +
		` ID="` + id + `" Version="2.0" IssueInstant="` + now.UTC().Format("2006-01-02T15:04:05Z") + `"` +
		` Destination="` + escape(dest) + `" AssertionConsumerServiceURL="` + escape(acsURL) + `"` +
		` ProtocolBinding="` + BindingPOST + `">` +
		`<saml:Issuer>` + escape(spEntityID) + `</saml:Issuer></samlp:AuthnRequest>`
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	_, _ = w.Write([]byte(doc))
	if err := w.Close(); err != nil {
		return nil, err
	}
	q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(z.Bytes()))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	if u.RawQuery != "" {
		q = u.RawQuery + "&" + q
	}
	u.RawQuery = q
	u.Fragment = ""
	return &AuthnRequest{ID: id, URL: u.String()}, nil
}

// AuthnRequestXML inflates the SAMLRequest parameter of an HTTP-Redirect
// URL back to the request's XML (for tests and diagnostics).
func AuthnRequestXML(redirectURL string) (string, error) {
	u, err := url.Parse(redirectURL)
	if err != nil {
		return "", err
	}
	raw, err := base64.StdEncoding.DecodeString(u.Query().Get("SAMLRequest"))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	r := flate.NewReader(bytes.NewReader(raw))
	defer r.Close()
	if _, err := io.Copy(&b, io.LimitReader(r, maxXMLBytes)); err != nil {
		return "", err
	}
	return b.String(), nil
}

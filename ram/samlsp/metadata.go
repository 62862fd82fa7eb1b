package samlsp

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// MaxMetadataChars is the longest IdP metadata document accepted (SPEC §18.10).
const MaxMetadataChars = 100000

// SAML binding URIs.
const (
	BindingRedirect = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
	BindingPOST     = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
)

// ParseIDPMetadata checks an IdP's SAML 2.0 metadata as SPEC §18.2 says
// (one IDPSSODescriptor, an entityID, a SingleSignOnService with the
// HTTP-Redirect or HTTP-POST binding, at least one signing certificate,
// ≤ 100 000 characters, no DTD or entities). The error's text tells an
// administrator what is wrong.
func ParseIDPMetadata(doc []byte) (*IDPMetadata, error) {
	if n := utf8.RuneCount(doc); n > MaxMetadataChars {
		return nil, fmt.Errorf("the metadata is %d characters long; at most %d are allowed", n, MaxMetadataChars)
	}
	root, err := parseXML(doc)
	if err != nil {
		return nil, errors.New(strings.Replace(err.Error(), "the document", "the metadata", 1))
	}
	ed, err := entityDescriptor(root)
	if err != nil {
		return nil, err
	}
	md := &IDPMetadata{EntityID: strings.TrimSpace(ed.SelectAttrValue("entityID", ""))}
	if md.EntityID == "" {
		return nil, errors.New("the metadata has no entityID")
	}
	idps := children(ed, nsMetadata, "IDPSSODescriptor")
	switch {
	case len(idps) == 0:
		return nil, errors.New("the metadata has no IDPSSODescriptor")
	case len(idps) > 1:
		return nil, fmt.Errorf("the metadata has %d IDPSSODescriptor elements; exactly one is needed", len(idps))
	}
	idp := idps[0]
	for _, s := range children(idp, nsMetadata, "SingleSignOnService") {
		binding, loc := s.SelectAttrValue("Binding", ""), strings.TrimSpace(s.SelectAttrValue("Location", ""))
		if binding != BindingRedirect && binding != BindingPOST {
			continue
		}
		if !httpURL(loc) {
			return nil, fmt.Errorf("the SingleSignOnService Location %q is not an http(s) URL", loc)
		}
		if binding == BindingRedirect && md.SSOURLRedirect == "" {
			md.SSOURLRedirect = loc
		}
		if binding == BindingPOST && md.SSOURLPost == "" {
			md.SSOURLPost = loc
		}
	}
	if md.SSOURLRedirect == "" && md.SSOURLPost == "" {
		return nil, errors.New("the metadata has no SingleSignOnService with the HTTP-Redirect or HTTP-POST binding")
	}
	for _, kd := range children(idp, nsMetadata, "KeyDescriptor") {
		if use := kd.SelectAttrValue("use", ""); use != "" && use != "signing" {
			continue
		}
		for _, x := range descendants(kd, nsDSig, "X509Certificate") {
			c, err := parseCertificate(x.Text())
			if err != nil {
				return nil, fmt.Errorf("the certificate in KeyDescriptor does not parse: %v", err)
			}
			md.Certificates = append(md.Certificates, c)
		}
	}
	if len(md.Certificates) == 0 {
		return nil, errors.New("the metadata has no signing certificate (a KeyDescriptor with use=\"signing\" or without use, holding an X509Certificate)")
	}
	return md, nil
}

// entityDescriptor is the metadata's EntityDescriptor: the root itself, or
// the one entity of an EntitiesDescriptor that describes an IdP.
func entityDescriptor(root *etree.Element) (*etree.Element, error) {
	switch {
	case is(root, nsMetadata, "EntityDescriptor"):
		return root, nil
	case is(root, nsMetadata, "EntitiesDescriptor"):
		var idps []*etree.Element
		for _, ed := range descendants(root, nsMetadata, "EntityDescriptor") {
			if child(ed, nsMetadata, "IDPSSODescriptor") != nil {
				idps = append(idps, ed)
			}
		}
		switch len(idps) {
		case 0:
			return nil, errors.New("the metadata's EntitiesDescriptor holds no EntityDescriptor with an IDPSSODescriptor")
		case 1:
			return idps[0], nil
		default:
			return nil, fmt.Errorf("the metadata's EntitiesDescriptor holds %d identity providers; exactly one is needed", len(idps))
		}
	}
	return nil, fmt.Errorf("the metadata's root element is %s, not a SAML 2.0 metadata EntityDescriptor", root.FullTag())
}

// parseCertificate reads the Base64 DER of an X509Certificate element and
// accepts the key types goxmldsig verifies with.
func parseCertificate(text string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(stripSpace(text))
	if err != nil {
		return nil, errors.New("it is not Base64")
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	switch c.PublicKey.(type) {
	case *rsa.PublicKey, *ecdsa.PublicKey:
		return c, nil
	}
	return nil, errors.New("its key is neither RSA nor ECDSA")
}

// stripSpace removes the XML whitespace that wraps Base64 text.
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil
}

// SPMetadata is the SP metadata document of SPEC §18.1 for an entityID and
// its Assertion Consumer Service URL.
func SPMetadata(entityID, acsURL string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + escape(entityID) + `">
  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:AssertionConsumerService Binding="` + BindingPOST + `" Location="` + escape(acsURL) + `" index="0" isDefault="true"/>
  </md:SPSSODescriptor>
</md:EntityDescriptor>
`)
}

// escape is s as XML text or attribute value.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

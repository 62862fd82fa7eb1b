package samlsp_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/xml"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"ramconsole/ram/samlsp"
	"ramconsole/ram/samlsp/samltest"
)

// newCertificate is a self-signed ECDSA certificate valid from notBefore
// to notAfter, Base64 of its DER.
func newCertificate(t testing.TB, notBefore, notAfter time.Time) (*x509.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"},
		NotBefore: notBefore, NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, base64.StdEncoding.EncodeToString(der)
}

// Metadata shaped as Keycloak, Microsoft Entra ID and Google Workspace
// publish it; CERT is replaced by a certificate.
const (
	keycloakMetadata = `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://kc.example.com/realms/acme">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo>
        <ds:KeyName>Xq3bW4m9RZlq0kzW2xkq1</ds:KeyName>
        <ds:X509Data>
          <ds:X509Certificate>CERT</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:ArtifactResolutionService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://kc.example.com/realms/acme/protocol/saml/resolve" index="0"/>
    <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://kc.example.com/realms/acme/protocol/saml"/>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://kc.example.com/realms/acme/protocol/saml"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://kc.example.com/realms/acme/protocol/saml"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:SOAP" Location="https://kc.example.com/realms/acme/protocol/saml"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="https://kc.example.com/realms/acme/protocol/saml"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`

	entraMetadata = `<?xml version="1.0" encoding="utf-8"?><EntityDescriptor ID="_5a1d3c1e-1111-4c3e-9f1b-0c2f6a7d8e9f" entityID="https://sts.windows.net/0d9e5f3c-1111-2222-3333-444455556666/" xmlns="urn:oasis:names:tc:SAML:2.0:metadata"><Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" /><SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" /><Reference URI="#_5a1d3c1e-1111-4c3e-9f1b-0c2f6a7d8e9f"><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature" /><Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#" /></Transforms><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256" /><DigestValue>bm90IGEgcmVhbCBkaWdlc3Q=</DigestValue></Reference></SignedInfo><SignatureValue>bm90IGEgcmVhbCBzaWduYXR1cmU=</SignatureValue><KeyInfo><X509Data><X509Certificate>CERT</X509Certificate></X509Data></KeyInfo></Signature><RoleDescriptor xsi:type="fed:SecurityTokenServiceType" protocolSupportEnumeration="http://docs.oasis-open.org/wsfed/federation/200706" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:fed="http://docs.oasis-open.org/wsfed/federation/200706"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>CERT</X509Certificate></X509Data></KeyInfo></KeyDescriptor><fed:PassiveRequestorEndpoint><wsa:EndpointReference xmlns:wsa="http://www.w3.org/2005/08/addressing"><wsa:Address>https://login.microsoftonline.com/0d9e5f3c-1111-2222-3333-444455556666/wsfed</wsa:Address></wsa:EndpointReference></fed:PassiveRequestorEndpoint></RoleDescriptor><IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><KeyDescriptor use="signing"><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>CERT</X509Certificate></X509Data></KeyInfo></KeyDescriptor><SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/0d9e5f3c-1111-2222-3333-444455556666/saml2" /><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://login.microsoftonline.com/0d9e5f3c-1111-2222-3333-444455556666/saml2" /><SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://login.microsoftonline.com/0d9e5f3c-1111-2222-3333-444455556666/saml2" /></IDPSSODescriptor></EntityDescriptor>`

	googleMetadata = `<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://accounts.google.com/o/saml2?idpid=C01abcdef" validUntil="2031-05-01T00:00:00.000Z">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
        <ds:X509Data>
          <ds:X509Certificate>CERT</ds:X509Certificate>
        </ds:X509Data>
      </ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://accounts.google.com/o/saml2/idp?idpid=C01abcdef"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://accounts.google.com/o/saml2/idp?idpid=C01abcdef"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`

	// minimalMetadata is edited by the refusal cases below.
	minimalMetadata = `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/metadata">
<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<KeyDescriptor><KeyInfo xmlns="http://www.w3.org/2000/09/xmldsig#"><X509Data><X509Certificate>CERT</X509Certificate></X509Data></KeyInfo></KeyDescriptor>
<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso"/>
</IDPSSODescriptor>
</EntityDescriptor>`
)

func TestParseIDPMetadataAcceptsKnownIdPs(t *testing.T) {
	_, b64 := newCertificate(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	wrapped := ""
	for s := b64; s != ""; {
		n := min(64, len(s))
		wrapped, s = wrapped+"\n            "+s[:n], s[n:]
	}
	idp := samltest.New(t, "https://idp.example.com")
	cases := []struct {
		name, doc, entityID, redirect, post string
		certs                               int
	}{
		{"keycloak", strings.ReplaceAll(keycloakMetadata, "CERT", wrapped), "https://kc.example.com/realms/acme",
			"https://kc.example.com/realms/acme/protocol/saml", "https://kc.example.com/realms/acme/protocol/saml", 1},
		{"entra", strings.ReplaceAll(entraMetadata, "CERT", b64), "https://sts.windows.net/0d9e5f3c-1111-2222-3333-444455556666/",
			"https://login.microsoftonline.com/0d9e5f3c-1111-2222-3333-444455556666/saml2",
			"https://login.microsoftonline.com/0d9e5f3c-1111-2222-3333-444455556666/saml2", 1},
		{"google", strings.ReplaceAll(googleMetadata, "CERT", b64), "https://accounts.google.com/o/saml2?idpid=C01abcdef",
			"https://accounts.google.com/o/saml2/idp?idpid=C01abcdef", "https://accounts.google.com/o/saml2/idp?idpid=C01abcdef", 1},
		{"key descriptor without use, POST only", strings.ReplaceAll(minimalMetadata, "CERT", b64), "https://idp.example.com/metadata",
			"", "https://idp.example.com/sso", 1},
		{"entities descriptor with one identity provider", `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` +
			string(samlsp.SPMetadata("https://sp.example.com", "https://sp.example.com/acs"))[len(`<?xml version="1.0" encoding="UTF-8"?>`):] +
			strings.ReplaceAll(minimalMetadata, "CERT", b64) + `</md:EntitiesDescriptor>`,
			"https://idp.example.com/metadata", "", "https://idp.example.com/sso", 1},
		{"crewjam identity provider", string(idp.Metadata()), idp.EntityID(), idp.SSOURL(), idp.SSOURL(), 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			md, err := samlsp.ParseIDPMetadata([]byte(tc.doc))
			if err != nil {
				t.Fatalf("ParseIDPMetadata: %v", err)
			}
			if md.EntityID != tc.entityID || md.SSOURLRedirect != tc.redirect || md.SSOURLPost != tc.post || len(md.Certificates) != tc.certs {
				t.Errorf("got %+v", md)
			}
		})
	}
}

func TestParseIDPMetadataRefuses(t *testing.T) {
	_, b64 := newCertificate(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	good := strings.ReplaceAll(minimalMetadata, "CERT", b64)
	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q not in the metadata", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	idpSSO := `<IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">`
	postSSO := `<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso"/>`
	keyDesc := `<KeyDescriptor><KeyInfo`
	deep := strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70)
	padded := func(n int) string { // good, grown to n characters with a comment
		pad := n - len(good) - len("<!---->")
		return good + "<!--" + strings.Repeat("é", pad/2) + strings.Repeat("x", pad-pad/2) + "-->"
	}
	if _, err := samlsp.ParseIDPMetadata([]byte(padded(samlsp.MaxMetadataChars))); err != nil {
		t.Fatalf("metadata of exactly %d characters: %v", samlsp.MaxMetadataChars, err)
	}
	cases := []struct{ name, doc, want string }{
		{"empty", "", "no root element"},
		{"not XML", "entityID=https://idp", "no root element"},
		{"truncated", good[:len(good)-10], "not well-formed XML"},
		{"100 001 characters", padded(samlsp.MaxMetadataChars + 1), "100001 characters long"},
		{"DOCTYPE", `<?xml version="1.0"?><!DOCTYPE EntityDescriptor>` + good, "DOCTYPE"},
		{"billion laughs", `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>` +
			edit(`entityID="https://idp.example.com/metadata"`, `entityID="&lol2;"`), "not well-formed XML"},
		{"entity declaration only", `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + good, "DOCTYPE"},
		{"processing instruction", `<?xml-stylesheet href="x.xsl"?>` + good, "processing instruction"},
		{"nested too deep", edit("</IDPSSODescriptor>", deep+"</IDPSSODescriptor>"), "deeper than 64"},
		{"SAML 1 root", `<EntityDescriptor entityID="x"/>`, "not a SAML 2.0 metadata EntityDescriptor"},
		{"no entityID", edit(`entityID="https://idp.example.com/metadata"`, ""), "no entityID"},
		{"blank entityID", edit(`entityID="https://idp.example.com/metadata"`, `entityID="  "`), "no entityID"},
		{"service provider metadata", string(samlsp.SPMetadata("https://sp.example.com", "https://sp.example.com/acs")), "no IDPSSODescriptor"},
		{"two IDPSSODescriptors", edit("</EntityDescriptor>", idpSSO+postSSO+"</IDPSSODescriptor></EntityDescriptor>"), "2 IDPSSODescriptor elements"},
		{"entities descriptor without identity provider", `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata"/>`, "holds no EntityDescriptor"},
		{"entities descriptor with two identity providers", `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` + good + good + `</EntitiesDescriptor>`, "holds 2 identity providers"},
		{"no SingleSignOnService", edit(postSSO, ""), "no SingleSignOnService"},
		{"SOAP SingleSignOnService only", edit("bindings:HTTP-POST", "bindings:SOAP"), "no SingleSignOnService"},
		{"SingleSignOnService not http", edit("https://idp.example.com/sso", "javascript:alert(1)"), "not an http(s) URL"},
		{"no KeyDescriptor", strings.Replace(edit(keyDesc, "<Extensions><KeyInfo"), "</KeyDescriptor>", "</Extensions>", 1), "no signing certificate"},
		{"encryption key only", edit(keyDesc, `<KeyDescriptor use="encryption"><KeyInfo`), "no signing certificate"},
		{"certificate not Base64", edit(b64, "%%%"), "the certificate in KeyDescriptor does not parse"},
		{"certificate not DER", edit(b64, base64.StdEncoding.EncodeToString([]byte("not a certificate"))), "the certificate in KeyDescriptor does not parse"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			md, err := samlsp.ParseIDPMetadata([]byte(tc.doc))
			if err == nil {
				t.Fatalf("accepted: %+v", md)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestSPMetadata(t *testing.T) {
	doc := samlsp.SPMetadata(`https://console.example.com/saml/metadata.xml?a=1&b="2"`, "https://console.example.com/saml/acs")
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, doc)
	}
	ed := d.Root()
	if ed.Tag != "EntityDescriptor" || ed.NamespaceURI() != "urn:oasis:names:tc:SAML:2.0:metadata" {
		t.Fatalf("root %s", ed.FullTag())
	}
	if got := ed.SelectAttrValue("entityID", ""); got != `https://console.example.com/saml/metadata.xml?a=1&b="2"` {
		t.Errorf("entityID %q", got)
	}
	sps := ed.SelectElements("SPSSODescriptor")
	if len(sps) != 1 || len(ed.ChildElements()) != 1 {
		t.Fatalf("want exactly one SPSSODescriptor:\n%s", doc)
	}
	sp := sps[0]
	for attr, want := range map[string]string{
		"AuthnRequestsSigned": "false", "WantAssertionsSigned": "true",
		"protocolSupportEnumeration": "urn:oasis:names:tc:SAML:2.0:protocol",
	} {
		if got := sp.SelectAttrValue(attr, ""); got != want {
			t.Errorf("%s = %q, want %q", attr, got, want)
		}
	}
	var formats []string
	for _, f := range sp.SelectElements("NameIDFormat") {
		formats = append(formats, f.Text())
	}
	wantFormats := "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	if strings.Join(formats, " ") != wantFormats {
		t.Errorf("NameIDFormat %q", formats)
	}
	if sp.SelectElement("KeyDescriptor") != nil {
		t.Error("no key is published")
	}
	acs := sp.SelectElements("AssertionConsumerService")
	if len(acs) != 1 || acs[0].SelectAttrValue("Binding", "") != samlsp.BindingPOST ||
		acs[0].SelectAttrValue("Location", "") != "https://console.example.com/saml/acs" || acs[0].SelectAttrValue("index", "") != "0" {
		t.Errorf("AssertionConsumerService:\n%s", doc)
	}
	// Metadata written for one console is refused as an IdP's.
	if _, err := samlsp.ParseIDPMetadata(doc); err == nil {
		t.Error("SP metadata accepted as IdP metadata")
	}
}

func TestNewAuthnRequest(t *testing.T) {
	now := time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	const sp, acs = "https://console.example.com/saml/metadata.xml", "https://console.example.com/saml/acs"
	cases := []struct{ name, redirect, post, wantDest, wantQuery string }{
		{"redirect binding preferred", "https://idp.example.com/redirect", "https://idp.example.com/post", "https://idp.example.com/redirect", ""},
		{"POST-only IdP gets the redirect at its POST location", "", "https://idp.example.com/post", "https://idp.example.com/post", ""},
		{"query of the SSO URL kept", "https://accounts.google.com/o/saml2/idp?idpid=C01abcdef", "", "https://accounts.google.com/o/saml2/idp?idpid=C01abcdef", "C01abcdef"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			idp := &samlsp.IDPMetadata{EntityID: "https://idp.example.com", SSOURLRedirect: tc.redirect, SSOURLPost: tc.post}
			req, err := samlsp.NewAuthnRequest(idp, sp, acs, "relay/state&x=1", now)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(req.ID, "_") || len(req.ID) < 1+32 {
				t.Errorf("ID %q has fewer than 128 random bits", req.ID)
			}
			u, err := url.Parse(req.URL)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(req.URL, tc.wantDest) {
				t.Errorf("URL %s does not go to %s", req.URL, tc.wantDest)
			}
			if tc.wantQuery != "" && u.Query().Get("idpid") != tc.wantQuery {
				t.Errorf("the SSO URL's own query is lost: %s", req.URL)
			}
			if got := u.Query().Get("RelayState"); got != "relay/state&x=1" {
				t.Errorf("RelayState %q", got)
			}
			doc, err := samlsp.AuthnRequestXML(req.URL)
			if err != nil {
				t.Fatal(err)
			}
			var ar struct {
				XMLName                     xml.Name
				ID, Version, IssueInstant   string `xml:",attr"`
				Destination                 string `xml:",attr"`
				AssertionConsumerServiceURL string `xml:",attr"`
				ProtocolBinding             string `xml:",attr"`
				Issuer                      string `xml:"urn:oasis:names:tc:SAML:2.0:assertion Issuer"`
			}
			if err := xml.Unmarshal([]byte(doc), &ar); err != nil {
				t.Fatalf("%v\n%s", err, doc)
			}
			want := []string{"urn:oasis:names:tc:SAML:2.0:protocol AuthnRequest", req.ID, "2.0", "2030-06-01T12:00:00Z", tc.wantDest, acs, samlsp.BindingPOST, sp}
			got := []string{ar.XMLName.Space + " " + ar.XMLName.Local, ar.ID, ar.Version, ar.IssueInstant, ar.Destination, ar.AssertionConsumerServiceURL, ar.ProtocolBinding, ar.Issuer}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("AuthnRequest\n got %q\nwant %q", got, want)
			}
		})
	}
	t.Run("IDs differ", func(t *testing.T) {
		idp := &samlsp.IDPMetadata{SSOURLRedirect: "https://idp.example.com/sso"}
		a, _ := samlsp.NewAuthnRequest(idp, sp, acs, "", now)
		b, _ := samlsp.NewAuthnRequest(idp, sp, acs, "", now)
		if a.ID == b.ID {
			t.Error("two requests share an ID")
		}
		if strings.Contains(a.URL, "RelayState") {
			t.Error("an empty RelayState is sent")
		}
	})
	t.Run("no SSO URL", func(t *testing.T) {
		if _, err := samlsp.NewAuthnRequest(&samlsp.IDPMetadata{}, sp, acs, "", now); err == nil {
			t.Error("accepted")
		}
	})
}

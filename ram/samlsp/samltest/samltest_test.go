package samltest

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

var testNow = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func newTestIdP(t *testing.T, baseURL string) *IdP {
	p := New(t, baseURL)
	p.SetClock(func() time.Time { return testNow })
	return p
}

// verify checks el's enveloped signature against cert and returns the
// verified element.
func verify(t *testing.T, el *etree.Element, cert *x509.Certificate) *etree.Element {
	t.Helper()
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
	ctx.Clock = dsig.NewFakeClockAt(testNow)
	verified, err := ctx.Validate(el)
	if err != nil {
		t.Fatalf("signature of %s does not verify: %v", el.Tag, err)
	}
	return verified
}

func parse(t *testing.T, buf []byte) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(buf); err != nil {
		t.Fatalf("parse: %v", err)
	}
	return doc.Root()
}

func hasSignature(el *etree.Element) bool { return el.SelectElement("Signature") != nil }

func TestResponseSignatureVerifies(t *testing.T) {
	t.Parallel()
	p := newTestIdP(t, "http://idp.example")
	other := newTestIdP(t, "http://idp.example")
	cases := []struct {
		name                     string
		o                        Options
		assertionSigned, respSig bool
	}{
		{"assertion", Options{}, true, false},
		{"response", Options{SignResponse: true}, false, true},
		{"both", Options{SignBoth: true}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.o.Audience, c.o.Recipient, c.o.NameID = "urn:sp", "https://sp.example/acs", "alice@example.com"
			b64 := p.Response(c.o)
			buf, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				t.Fatal(err)
			}
			resp := parse(t, buf)
			assertion := resp.SelectElement("Assertion")
			if assertion == nil {
				t.Fatal("no Assertion in the Response")
			}
			if hasSignature(resp) != c.respSig || hasSignature(assertion) != c.assertionSigned {
				t.Fatalf("response signed %v, assertion signed %v; want %v, %v",
					hasSignature(resp), hasSignature(assertion), c.respSig, c.assertionSigned)
			}
			if c.respSig {
				verify(t, resp, p.Certificate())
			}
			if c.assertionSigned {
				verified := verify(t, assertion, p.Certificate())
				if got := verified.FindElement("./Subject/NameID").Text(); got != "alice@example.com" {
					t.Fatalf("NameID = %q", got)
				}
			}
			signed := assertion
			if !c.assertionSigned {
				signed = resp
			}
			ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{other.Certificate()}})
			ctx.Clock = dsig.NewFakeClockAt(testNow)
			if _, err := ctx.Validate(signed); err == nil {
				t.Fatal("signature verifies against another IdP's certificate")
			}
			sm := signed.FindElement("./Signature/SignedInfo/SignatureMethod").SelectAttrValue("Algorithm", "")
			if sm != dsig.RSASHA256SignatureMethod {
				t.Fatalf("SignatureMethod = %s", sm)
			}
			c14n := signed.FindElement("./Signature/SignedInfo/CanonicalizationMethod").SelectAttrValue("Algorithm", "")
			if c14n != string(dsig.CanonicalXML10ExclusiveAlgorithmId) {
				t.Fatalf("CanonicalizationMethod = %s", c14n)
			}
		})
	}
}

func TestResponseFieldsFollowOptionsAndClock(t *testing.T) {
	t.Parallel()
	p := newTestIdP(t, "http://idp.example")
	session := testNow.Add(8 * time.Hour)
	buf := p.ResponseXML(Options{
		Audience:            "urn:sp",
		Recipient:           "https://sp.example/acs",
		NameID:              "alice",
		NameIDFormat:        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
		InResponseTo:        "id-req1",
		Attributes:          map[string][]string{"https://www.aliyun.com/SAML-Role/Attributes/Role": {"a", "b"}},
		Lifetime:            10 * time.Minute,
		SessionNotOnOrAfter: session,
	})
	var r saml.Response
	if err := xml.Unmarshal(buf, &r); err != nil {
		t.Fatal(err)
	}
	a := r.Assertion
	checks := []struct{ what, got, want string }{
		{"Response IssueInstant", r.IssueInstant.UTC().String(), testNow.String()},
		{"Response Destination", r.Destination, "https://sp.example/acs"},
		{"Response InResponseTo", r.InResponseTo, "id-req1"},
		{"Response Issuer", r.Issuer.Value, p.EntityID()},
		{"Assertion Issuer", a.Issuer.Value, p.EntityID()},
		{"Assertion IssueInstant", a.IssueInstant.UTC().String(), testNow.String()},
		{"NameID", a.Subject.NameID.Value, "alice"},
		{"NameID Format", a.Subject.NameID.Format, "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"},
		{"Recipient", a.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient, "https://sp.example/acs"},
		{"SubjectConfirmationData InResponseTo", a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo, "id-req1"},
		{"SubjectConfirmationData NotOnOrAfter", a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter.UTC().String(), testNow.Add(10 * time.Minute).String()},
		{"NotBefore", a.Conditions.NotBefore.UTC().String(), testNow.String()},
		{"NotOnOrAfter", a.Conditions.NotOnOrAfter.UTC().String(), testNow.Add(10 * time.Minute).String()},
		{"Audience", a.Conditions.AudienceRestrictions[0].Audience.Value, "urn:sp"},
		{"AuthnInstant", a.AuthnStatements[0].AuthnInstant.UTC().String(), testNow.String()},
		{"SessionNotOnOrAfter", a.AuthnStatements[0].SessionNotOnOrAfter.UTC().String(), session.String()},
		{"AuthnContextClassRef", a.AuthnStatements[0].AuthnContext.AuthnContextClassRef.Value, PasswordProtectedTransport},
		{"Attribute", a.AttributeStatements[0].Attributes[0].Name, "https://www.aliyun.com/SAML-Role/Attributes/Role"},
		{"Attribute values", a.AttributeStatements[0].Attributes[0].Values[0].Value + "," + a.AttributeStatements[0].Attributes[0].Values[1].Value, "a,b"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
		}
	}

	later := testNow.Add(3 * time.Hour)
	p.SetClock(func() time.Time { return later })
	buf = p.ResponseXML(Options{Audience: "urn:sp", Recipient: "https://sp.example/acs", NameID: "alice", Issuer: "urn:other-idp"})
	r = saml.Response{}
	if err := xml.Unmarshal(buf, &r); err != nil {
		t.Fatal(err)
	}
	if !r.IssueInstant.Equal(later) || !r.Assertion.Conditions.NotOnOrAfter.Equal(later.Add(DefaultLifetime)) {
		t.Errorf("after SetClock: IssueInstant %v, NotOnOrAfter %v", r.IssueInstant, r.Assertion.Conditions.NotOnOrAfter)
	}
	if r.InResponseTo != "" || r.Assertion.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo != "" {
		t.Error("an unsolicited response has an InResponseTo")
	}
	if r.Assertion.Subject.NameID.Format != EmailAddressFormat {
		t.Errorf("default NameID Format = %q", r.Assertion.Subject.NameID.Format)
	}
	if r.Issuer.Value != "urn:other-idp" || r.Assertion.Issuer.Value != "urn:other-idp" {
		t.Errorf("Issuer override: %q, %q", r.Issuer.Value, r.Assertion.Issuer.Value)
	}
	if r.Assertion.AuthnStatements[0].SessionNotOnOrAfter != nil {
		t.Error("SessionNotOnOrAfter present when not asked for")
	}
}

func TestResponseSHA1(t *testing.T) {
	t.Parallel()
	p := newTestIdP(t, "http://idp.example")
	for _, o := range []Options{{SHA1: true}, {SHA1: true, SignResponse: true}} {
		o.Audience, o.Recipient, o.NameID = "urn:sp", "https://sp.example/acs", "alice"
		resp := parse(t, p.ResponseXML(o))
		signed := resp.SelectElement("Assertion")
		if o.SignResponse {
			signed = resp
		}
		sm := signed.FindElement("./Signature/SignedInfo/SignatureMethod").SelectAttrValue("Algorithm", "")
		dm := signed.FindElement("./Signature/SignedInfo/Reference/DigestMethod").SelectAttrValue("Algorithm", "")
		if sm != dsig.RSASHA1SignatureMethod || dm != "http://www.w3.org/2000/09/xmldsig#sha1" {
			t.Fatalf("SignatureMethod %s, DigestMethod %s", sm, dm)
		}
		verify(t, signed, p.Certificate())
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	p := newTestIdP(t, "http://idp.example")
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(p.Metadata(), &ed); err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != "http://idp.example/metadata" || len(ed.IDPSSODescriptors) != 1 {
		t.Fatalf("entityID %q, %d IDPSSODescriptors", ed.EntityID, len(ed.IDPSSODescriptors))
	}
	d := ed.IDPSSODescriptors[0]
	bindings := map[string]string{}
	for _, s := range d.SingleSignOnServices {
		bindings[s.Binding] = s.Location
	}
	if bindings[saml.HTTPRedirectBinding] != "http://idp.example/sso" || bindings[saml.HTTPPostBinding] != "http://idp.example/sso" {
		t.Fatalf("SingleSignOnServices %v", bindings)
	}
	found := false
	for _, kd := range d.KeyDescriptors {
		if kd.Use == "signing" && kd.KeyInfo.X509Data.X509Certificates[0].Data == base64.StdEncoding.EncodeToString(p.Certificate().Raw) {
			found = true
		}
	}
	if !found {
		t.Fatal("no signing KeyDescriptor with the IdP certificate")
	}
}

// redirectURL encodes an AuthnRequest with the HTTP-Redirect binding.
func redirectURL(t *testing.T, sso, id, issuer, acs, relay string, issued time.Time) string {
	t.Helper()
	req := fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"`+
		` ID="%s" Version="2.0" IssueInstant="%s" Destination="%s" AssertionConsumerServiceURL="%s"`+
		` ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`,
		id, issued.UTC().Format(time.RFC3339), sso, acs, issuer)
	var buf bytes.Buffer
	fw, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	_, _ = fw.Write([]byte(req))
	_ = fw.Close()
	q := url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(buf.Bytes())}, "RelayState": {relay}}
	return sso + "?" + q.Encode()
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	formField  = regexp.MustCompile(`name="(SAMLResponse|RelayState)" value="([^"]*)"`)
)

// postedForm fetches u and returns the form's action and fields.
func postedForm(t *testing.T, u string) (string, map[string]string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, res.StatusCode, body)
	}
	m := formAction.FindSubmatch(body)
	if m == nil || !strings.Contains(string(body), ".submit()") {
		t.Fatalf("no auto-submitting form in %s", body)
	}
	fields := map[string]string{}
	for _, f := range formField.FindAllSubmatch(body, -1) {
		fields[string(f[1])] = html.UnescapeString(string(f[2]))
	}
	return html.UnescapeString(string(m[1])), fields
}

func postedResponse(t *testing.T, p *IdP, b64 string) (*etree.Element, saml.Response) {
	t.Helper()
	buf, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	var r saml.Response
	if err := xml.Unmarshal(buf, &r); err != nil {
		t.Fatal(err)
	}
	verify(t, parse(t, buf).SelectElement("Assertion"), p.Certificate())
	return parse(t, buf), r
}

func TestHandlerSSO(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	defer srv.Close()
	p := newTestIdP(t, srv.URL)
	srv.Config.Handler = p.Handler()
	p.SetUser(User{NameID: "alice@example.com", Attributes: map[string][]string{"groups": {"dev"}}})

	acs := "https://console.example/saml/acs"
	action, fields := postedForm(t, redirectURL(t, p.SSOURL(), "id-abc123", "https://console.example/saml/metadata", acs, "next=/home", testNow))
	if action != acs || fields["RelayState"] != "next=/home" {
		t.Fatalf("form action %q, RelayState %q", action, fields["RelayState"])
	}
	_, r := postedResponse(t, p, fields["SAMLResponse"])
	if r.InResponseTo != "id-abc123" || r.Assertion.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo != "id-abc123" {
		t.Fatalf("InResponseTo %q", r.InResponseTo)
	}
	if got := r.Assertion.Conditions.AudienceRestrictions[0].Audience.Value; got != "https://console.example/saml/metadata" {
		t.Fatalf("Audience %q", got)
	}
	if r.Assertion.Subject.NameID.Value != "alice@example.com" || r.Destination != acs || !r.IssueInstant.Equal(testNow) {
		t.Fatalf("NameID %q, Destination %q, IssueInstant %v", r.Assertion.Subject.NameID.Value, r.Destination, r.IssueInstant)
	}
	if got := p.Requests(); len(got) != 1 || got[0] != "id-abc123" {
		t.Fatalf("Requests() = %v", got)
	}

	// A request issued long before the IdP's clock is refused, as is one
	// for another IdP.
	for _, u := range []string{
		redirectURL(t, p.SSOURL(), "id-old", "urn:sp", acs, "", testNow.Add(-time.Hour)),
		redirectURL(t, "https://other.example/sso", "id-other", "urn:sp", acs, "", testNow),
	} {
		res, err := http.Get(strings.Replace(u, "https://other.example/sso?", p.SSOURL()+"?", 1))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", res.StatusCode)
		}
	}
	if got := p.Requests(); len(got) != 1 {
		t.Fatalf("refused requests recorded: %v", got)
	}

	res, err := http.Get(srv.URL + "/metadata")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !bytes.Contains(body, []byte(`entityID="`+p.EntityID()+`"`)) {
		t.Fatalf("metadata: %s", body)
	}
}

func TestHandlerIDPInitiated(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nil)
	defer srv.Close()
	p := newTestIdP(t, srv.URL)
	srv.Config.Handler = p.Handler()
	p.SetUser(User{NameID: "bob", NameIDFormat: "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
		AuthnContextClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"})

	acs := "https://console.example/saml/acs"
	q := url.Values{"acs": {acs}, "audience": {"urn:console"}, "relay": {"r1"}}
	action, fields := postedForm(t, srv.URL+"/idp-initiated?"+q.Encode())
	if action != acs || fields["RelayState"] != "r1" {
		t.Fatalf("form action %q, RelayState %q", action, fields["RelayState"])
	}
	_, r := postedResponse(t, p, fields["SAMLResponse"])
	a := r.Assertion
	if r.InResponseTo != "" || a.Conditions.AudienceRestrictions[0].Audience.Value != "urn:console" ||
		a.Subject.NameID.Value != "bob" || a.Subject.NameID.Format != "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" ||
		a.AuthnStatements[0].AuthnContext.AuthnContextClassRef.Value != "urn:oasis:names:tc:SAML:2.0:ac:classes:X509" {
		t.Fatalf("unexpected response %+v", r)
	}
	if len(p.Requests()) != 0 {
		t.Fatal("an IdP-initiated sign-in was recorded as an AuthnRequest")
	}
}

func TestParallelClocks(t *testing.T) {
	t.Parallel()
	for i := range 4 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			now := testNow.Add(time.Duration(i) * 24 * time.Hour)
			p := New(t, "http://idp.example")
			p.SetClock(func() time.Time { return now })
			for range 5 {
				var ed saml.EntityDescriptor
				if err := xml.Unmarshal(p.Metadata(), &ed); err != nil {
					t.Fatal(err)
				}
				if !ed.ValidUntil.After(now) || ed.ValidUntil.After(now.Add(7*24*time.Hour)) {
					t.Fatalf("validUntil %v for clock %v", ed.ValidUntil, now)
				}
				var r saml.Response
				if err := xml.Unmarshal(p.ResponseXML(Options{Audience: "a", Recipient: "r", NameID: "n"}), &r); err != nil {
					t.Fatal(err)
				}
				if !r.IssueInstant.Equal(now) {
					t.Fatalf("IssueInstant %v, want %v", r.IssueInstant, now)
				}
			}
		})
	}
}

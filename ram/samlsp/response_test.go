package samlsp_test

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"

	"ramconsole/ram/samlsp"
	"ramconsole/ram/samlsp/samltest"
)

const (
	testSP  = "https://console.example.com/saml/metadata.xml"
	testACS = "https://console.example.com/saml/acs"
)

var testNow = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

// fixture is an identity provider, its parsed metadata and the console's
// clock.
type fixture struct {
	idp *samltest.IdP
	md  *samlsp.IDPMetadata
	now time.Time
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{idp: samltest.New(t, "https://idp.example.com"), now: testNow}
	f.idp.SetClock(func() time.Time { return f.now })
	md, err := samlsp.ParseIDPMetadata(f.idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	f.md = md
	return f
}

func (f *fixture) options() samltest.Options {
	return samltest.Options{
		Audience: testSP, Recipient: testACS, NameID: "alice@example.com", InResponseTo: "_request1",
		Attributes: map[string][]string{"groups": {"admins", "dev"}},
	}
}

func (f *fixture) expect() samlsp.Expect {
	return samlsp.Expect{IDP: f.md, Audience: testSP, Recipient: testACS, Now: f.now}
}

// responseAt is a response the IdP makes at its clock's time at.
func (f *fixture) responseAt(at time.Time, o samltest.Options) string {
	saved := f.now
	f.now = at
	defer func() { f.now = saved }()
	return f.idp.Response(o)
}

// tamper parses a signed response, lets edit change it, and encodes it again.
func (f *fixture) tamper(t testing.TB, o samltest.Options, edit func(resp *etree.Element)) string {
	t.Helper()
	return encode(t, f.idp.ResponseXML(o), edit)
}

func encode(t testing.TB, doc []byte, edit func(resp *etree.Element)) string {
	t.Helper()
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		t.Fatal(err)
	}
	edit(d.Root())
	out, err := d.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(out)
}

func find(el *etree.Element, path string) *etree.Element {
	e := el.FindElement(path)
	if e == nil {
		panic("no " + path)
	}
	return e
}

func TestParseResponseAccepts(t *testing.T) {
	f := newFixture(t)
	session := testNow.Add(8 * time.Hour)
	cases := []struct {
		name string
		opt  func(o *samltest.Options)
	}{
		{"assertion signed", func(o *samltest.Options) {}},
		{"response signed", func(o *samltest.Options) { o.SignResponse = true }},
		{"response and assertion signed", func(o *samltest.Options) { o.SignBoth = true }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := f.options()
			o.AuthnContextClassRef = "https://refeds.org/profile/mfa"
			o.SessionNotOnOrAfter = session
			o.Attributes = map[string][]string{
				"https://www.aliyun.com/SAML-Role/Attributes/Role": {"acs:ram::1:role/a,acs:ram::1:saml-provider/p", "acs:ram::1:role/b,acs:ram::1:saml-provider/p"},
				"email": {"alice@example.com"},
			}
			tc.opt(&o)
			a, err := samlsp.ParseResponse(f.idp.Response(o), f.expect())
			if err != nil {
				t.Fatalf("ParseResponse: %v", err)
			}
			if a.ID == "" || a.Issuer != f.idp.EntityID() || a.NameID != "alice@example.com" ||
				a.NameIDFormat != samltest.EmailAddressFormat || a.InResponseTo != "_request1" ||
				strings.Join(a.Audiences, ",") != testSP || a.Recipient != testACS ||
				!a.IssueInstant.Equal(testNow) || !a.NotOnOrAfter.Equal(testNow.Add(samltest.DefaultLifetime)) ||
				!a.SessionNotOnOrAfter.Equal(session) || a.AuthnContextClassRef != "https://refeds.org/profile/mfa" {
				t.Errorf("assertion %+v", a)
			}
			roles := a.Attributes["https://www.aliyun.com/SAML-Role/Attributes/Role"]
			if len(a.Attributes) != 2 || len(roles) != 2 || roles[0] != "acs:ram::1:role/a,acs:ram::1:saml-provider/p" ||
				roles[1] != "acs:ram::1:role/b,acs:ram::1:saml-provider/p" || a.Attributes["email"][0] != "alice@example.com" {
				t.Errorf("attributes %q", a.Attributes)
			}
		})
	}
	t.Run("IdP-initiated", func(t *testing.T) {
		o := f.options()
		o.InResponseTo = ""
		a, err := samlsp.ParseResponse(f.idp.Response(o), f.expect())
		if err != nil || a.InResponseTo != "" {
			t.Fatalf("%+v %v", a, err)
		}
	})
	t.Run("Base64 with line breaks", func(t *testing.T) {
		b64 := f.idp.Response(f.options())
		var wrapped strings.Builder
		for i := 0; i < len(b64); i += 76 {
			wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
		}
		if _, err := samlsp.ParseResponse(wrapped.String(), f.expect()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("issued within the clock skew", func(t *testing.T) {
		if _, err := samlsp.ParseResponse(f.responseAt(testNow.Add(2*time.Minute), f.options()), f.expect()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("certificate rotation: the second certificate of the metadata signs", func(t *testing.T) {
		other := samltest.New(t, "https://idp.example.com")
		other.SetClock(func() time.Time { return testNow })
		exp := f.expect()
		md := *f.md
		md.Certificates = append([]*x509.Certificate{other.Certificate()}, f.md.Certificates...)
		exp.IDP = &md
		if _, err := samlsp.ParseResponse(f.idp.Response(f.options()), exp); err != nil {
			t.Fatal(err)
		}
	})
}

// unsigned is a copy of the signed assertion a without its signature,
// naming mallory instead.
func unsigned(a *etree.Element, id string) *etree.Element {
	evil := a.Copy()
	evil.RemoveChild(find(evil, "Signature"))
	find(evil, "Subject/NameID").SetText("mallory@example.com")
	evil.CreateAttr("ID", id)
	return evil
}

func TestParseResponseRefuses(t *testing.T) {
	f := newFixture(t)
	other := samltest.New(t, "https://idp.example.com") // same entity ID, another key
	other.SetClock(func() time.Time { return testNow })
	o := f.options()
	withOpt := func(edit func(o *samltest.Options)) samltest.Options {
		o := f.options()
		edit(&o)
		return o
	}
	signResponse := withOpt(func(o *samltest.Options) { o.SignResponse = true })
	signBoth := withOpt(func(o *samltest.Options) { o.SignBoth = true })
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	deep := strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70)

	cases := []struct {
		name     string
		response func() string
		want     samlsp.ErrorCode
	}{
		// Signatures.
		{"no signature", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				a := find(r, "Assertion")
				a.RemoveChild(find(a, "Signature"))
			})
		}, samlsp.SignatureInvalid},
		{"assertion changed after signing", func() string {
			return f.tamper(t, o, func(r *etree.Element) { find(r, "Assertion/Subject/NameID").SetText("mallory@example.com") })
		}, samlsp.SignatureInvalid},
		{"response-signed, assertion changed after signing", func() string {
			return f.tamper(t, signResponse, func(r *etree.Element) { find(r, "Assertion/Subject/NameID").SetText("mallory@example.com") })
		}, samlsp.SignatureInvalid},
		{"both signed, response changed after signing", func() string {
			return f.tamper(t, signBoth, func(r *etree.Element) { r.CreateAttr("Consent", "urn:oasis:names:tc:SAML:2.0:consent:obtained") })
		}, samlsp.SignatureInvalid},
		{"both signed, assertion signature removed", func() string {
			return f.tamper(t, signBoth, func(r *etree.Element) { a := find(r, "Assertion"); a.RemoveChild(find(a, "Signature")) })
		}, samlsp.SignatureInvalid},
		{"signed with another key", func() string { return other.Response(o) }, samlsp.SignatureInvalid},
		{"response signed with another key", func() string { return other.Response(signResponse) }, samlsp.SignatureInvalid},
		{"RSA-SHA1", func() string { return f.idp.Response(withOpt(func(o *samltest.Options) { o.SHA1 = true })) }, samlsp.SignatureInvalid},
		{"response signed with RSA-SHA1", func() string {
			return f.idp.Response(withOpt(func(o *samltest.Options) { o.SHA1, o.SignResponse = true, true }))
		}, samlsp.SignatureInvalid},
		{"inclusive C14N", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				find(r, "Assertion/Signature/SignedInfo/CanonicalizationMethod").CreateAttr("Algorithm", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315")
			})
		}, samlsp.SignatureInvalid},
		{"reference to another element", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				find(r, "Assertion/Signature/SignedInfo/Reference").CreateAttr("URI", "#"+r.SelectAttrValue("ID", ""))
			})
		}, samlsp.SignatureInvalid},

		// Signature wrapping.
		{"unsigned assertion after the signed one", func() string {
			return f.tamper(t, o, func(r *etree.Element) { r.AddChild(unsigned(find(r, "Assertion"), "_evil")) })
		}, samlsp.SignatureInvalid},
		{"unsigned assertion before the signed one", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				a := find(r, "Assertion")
				r.InsertChildAt(a.Index(), unsigned(a, "_evil"))
			})
		}, samlsp.SignatureInvalid},
		{"unsigned assertion with the signed one's ID", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				a := find(r, "Assertion")
				r.InsertChildAt(a.Index(), unsigned(a, a.SelectAttrValue("ID", "")))
			})
		}, samlsp.SignatureInvalid},
		{"unsigned assertion around the signed one", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				a := find(r, "Assertion")
				evil := unsigned(a, "_evil")
				r.RemoveChild(a)
				evil.CreateElement("saml:Advice").AddChild(a)
				r.AddChild(evil)
			})
		}, samlsp.SignatureInvalid},
		{"signed assertion moved into Extensions", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				a := find(r, "Assertion")
				r.RemoveChild(a)
				ext := etree.NewElement("samlp:Extensions")
				ext.AddChild(a)
				r.InsertChildAt(1, ext)
				r.AddChild(unsigned(a, "_evil"))
			})
		}, samlsp.SignatureInvalid},
		{"signed assertion alone in Extensions", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				a := find(r, "Assertion")
				r.RemoveChild(a)
				ext := etree.NewElement("samlp:Extensions")
				ext.AddChild(a)
				r.InsertChildAt(1, ext)
			})
		}, samlsp.SignatureInvalid},
		{"signed assertion moved into the signature's Object", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				a := find(r, "Assertion")
				evil := a.Copy()
				find(evil, "Subject/NameID").SetText("mallory@example.com")
				r.RemoveChild(a)
				find(evil, "Signature").CreateElement("ds:Object").AddChild(a)
				r.AddChild(evil)
			})
		}, samlsp.SignatureInvalid},
		{"response signature moved into Extensions", func() string {
			return f.tamper(t, signResponse, func(r *etree.Element) {
				sig := find(r, "Signature")
				r.RemoveChild(sig)
				r.InsertChildAt(1, etree.NewElement("samlp:Extensions"))
				find(r, "Extensions").AddChild(sig)
			})
		}, samlsp.SignatureInvalid},
		{"two signed assertions", func() string {
			second := etree.NewDocument()
			_ = second.ReadFromBytes(f.idp.ResponseXML(withOpt(func(o *samltest.Options) { o.NameID = "mallory@example.com" })))
			return f.tamper(t, o, func(r *etree.Element) { r.AddChild(find(second.Root(), "Assertion").Copy()) })
		}, samlsp.SignatureInvalid},
		{"response-signed with an injected second assertion", func() string {
			return f.tamper(t, signResponse, func(r *etree.Element) {
				evil := find(r, "Assertion").Copy()
				find(evil, "Subject/NameID").SetText("mallory@example.com")
				evil.CreateAttr("ID", "_evil")
				r.InsertChildAt(find(r, "Assertion").Index(), evil)
			})
		}, samlsp.SignatureInvalid},
		{"EncryptedAssertion", func() string {
			return f.tamper(t, o, func(r *etree.Element) { r.CreateElement("saml:EncryptedAssertion").CreateElement("xenc:EncryptedData") })
		}, samlsp.ResponseInvalid},
		{"EncryptedAssertion only", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				r.RemoveChild(find(r, "Assertion"))
				r.CreateElement("saml:EncryptedAssertion")
			})
		}, samlsp.ResponseInvalid},
		{"no assertion", func() string {
			return f.tamper(t, o, func(r *etree.Element) { r.RemoveChild(find(r, "Assertion")) })
		}, samlsp.ResponseInvalid},

		// Times.
		{"expired", func() string { return f.responseAt(testNow.Add(-10*time.Minute), o) }, samlsp.AssertionExpired},
		{"expired this second (NotOnOrAfter = now)", func() string { return f.responseAt(testNow.Add(-samltest.DefaultLifetime), o) }, samlsp.AssertionExpired},
		{"not yet valid", func() string { return f.responseAt(testNow.Add(10*time.Minute), o) }, samlsp.AssertionExpired},
		{"IssueInstant more than 3 minutes ahead", func() string { return f.responseAt(testNow.Add(3*time.Minute+time.Second), o) }, samlsp.AssertionExpired},
		{"response-signed, expired", func() string { return f.responseAt(testNow.Add(-10*time.Minute), signResponse) }, samlsp.AssertionExpired},

		// Audience, recipient, issuer, status.
		{"wrong audience", func() string {
			return f.idp.Response(withOpt(func(o *samltest.Options) { o.Audience = "https://other.example.com/saml/metadata.xml" }))
		}, samlsp.AudienceMismatch},
		{"response-signed, wrong audience", func() string {
			return f.idp.Response(withOpt(func(o *samltest.Options) { o.Audience, o.SignResponse = "https://other.example.com", true }))
		}, samlsp.AudienceMismatch},
		{"wrong recipient (the role ACS)", func() string {
			return f.idp.Response(withOpt(func(o *samltest.Options) { o.Recipient = "https://console.example.com/saml-role/sso" }))
		}, samlsp.RecipientMismatch},
		{"response-signed, wrong recipient", func() string {
			return f.idp.Response(withOpt(func(o *samltest.Options) { o.Recipient, o.SignResponse = "https://other.example.com/acs", true }))
		}, samlsp.RecipientMismatch},
		{"other issuer", func() string {
			return f.idp.Response(withOpt(func(o *samltest.Options) { o.Issuer = "https://evil.example.com/metadata" }))
		}, samlsp.ResponseInvalid},
		{"response-signed, other issuer", func() string {
			return f.idp.Response(withOpt(func(o *samltest.Options) { o.Issuer, o.SignResponse = "https://evil.example.com/metadata", true }))
		}, samlsp.ResponseInvalid},
		{"status not Success", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				find(r, "Status/StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Requester")
			})
		}, samlsp.ResponseInvalid},

		// Format.
		{"not Base64", func() string { return "PHNhbWxwOlJlc3BvbnNl!!" }, samlsp.ResponseInvalid},
		{"empty", func() string { return "" }, samlsp.ResponseInvalid},
		{"not XML", func() string { return b64(`{"SAMLResponse": true}`) }, samlsp.ResponseInvalid},
		{"truncated XML", func() string { x := f.idp.ResponseXML(o); return b64(string(x[:len(x)/2])) }, samlsp.ResponseInvalid},
		{"root not a Response", func() string {
			d := etree.NewDocument()
			_ = d.ReadFromBytes(f.idp.ResponseXML(o))
			d.SetRoot(find(d.Root(), "Assertion"))
			s, _ := d.WriteToString()
			return b64(s)
		}, samlsp.ResponseInvalid},
		{"DOCTYPE", func() string { return b64(`<!DOCTYPE samlp:Response>` + string(f.idp.ResponseXML(o))) }, samlsp.ResponseInvalid},
		{"billion laughs", func() string {
			return b64(`<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
				`<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>` +
				`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol2;</samlp:Response>`)
		}, samlsp.ResponseInvalid},
		{"external entity", func() string {
			return b64(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&x;</samlp:Response>`)
		}, samlsp.ResponseInvalid},
		{"processing instruction", func() string { return b64(`<?evil x?>` + string(f.idp.ResponseXML(o))) }, samlsp.ResponseInvalid},
		{"nested deeper than 64", func() string {
			return f.tamper(t, o, func(r *etree.Element) {
				d := etree.NewDocument()
				_ = d.ReadFromString(deep)
				r.AddChild(d.Root())
			})
		}, samlsp.ResponseInvalid},
		{"10 MB", func() string { return strings.Repeat("PHNhbWxwOlJlc3BvbnNlPg==", 10<<20/24) }, samlsp.ResponseInvalid},
		{"1 MiB of XML inside the Base64 limit", func() string {
			return f.tamper(t, o, func(r *etree.Element) { r.CreateComment(strings.Repeat("x", 1<<20)) })
		}, samlsp.ResponseInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := samlsp.ParseResponse(tc.response(), f.expect())
			if err == nil {
				t.Fatalf("accepted: %+v", a)
			}
			var se *samlsp.Error
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *samlsp.Error", err)
			}
			if se.Code != tc.want {
				t.Errorf("code %s (%s), want %s", se.Code, se.Reason, tc.want)
			}
			t.Log(se.Reason)
		})
	}
}

func TestParseResponseTimesReportedInOrder(t *testing.T) {
	f := newFixture(t)
	_, err := samlsp.ParseResponse(f.responseAt(testNow.Add(3*time.Minute+time.Second), f.options()), f.expect())
	var se *samlsp.Error
	if !errors.As(err, &se) || se.Code != samlsp.AssertionExpired || !strings.Contains(se.Reason, "IssueInstant") {
		t.Fatalf("got %v", err)
	}
}

func TestParseResponseNoMetadata(t *testing.T) {
	f := newFixture(t)
	exp := f.expect()
	exp.IDP = nil
	if _, err := samlsp.ParseResponse(f.idp.Response(f.options()), exp); err == nil {
		t.Fatal("accepted without metadata")
	}
}

// The IdP signs "alice@example.com.evil.com"; a comment inserted after
// "alice@example.com" leaves the signature valid (exclusive C14N drops
// comments) and must not shorten the name that is read.
func TestParseResponseReadsNameIDAcrossComment(t *testing.T) {
	f := newFixture(t)
	o := f.options()
	o.NameID = "alice@example.com.evil.com"
	resp := f.tamper(t, o, func(r *etree.Element) {
		n := find(r, "Assertion/Subject/NameID")
		n.SetText("alice@example.com")
		n.CreateComment("")
		n.CreateText(".evil.com")
	})
	a, err := samlsp.ParseResponse(resp, f.expect())
	if err != nil {
		t.Fatal(err)
	}
	if a.NameID != "alice@example.com.evil.com" {
		t.Fatalf("NameID %q", a.NameID)
	}
}

// The metadata is the trust anchor: a signing certificate past its
// NotAfter keeps verifying until the administrator replaces the metadata.
func TestParseResponseExpiredCertificate(t *testing.T) {
	f := newFixture(t)
	f.now = time.Date(2100, 3, 1, 0, 0, 0, 0, time.UTC) // the certificate ends in 2099
	if f.now.Before(f.idp.Certificate().NotAfter) {
		t.Fatal("the certificate has not expired")
	}
	a, err := samlsp.ParseResponse(f.idp.Response(f.options()), f.expect())
	if err != nil {
		t.Fatal(err)
	}
	if a.NameID != "alice@example.com" {
		t.Errorf("NameID %q", a.NameID)
	}
}

func TestMFAPresent(t *testing.T) {
	cases := []struct {
		classRef string
		attrs    map[string][]string
		want     bool
	}{
		{"https://refeds.org/profile/mfa", nil, true},
		{"http://schemas.microsoft.com/claims/multipleauthn", nil, true},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract", nil, true},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered", nil, true},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken", nil, true},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard", nil, true},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI", nil, true},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:X509", nil, true},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:Password", map[string][]string{
			"http://schemas.microsoft.com/claims/authnmethodsreferences": {"http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password", "http://schemas.microsoft.com/claims/multipleauthn"},
		}, true},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:Password", map[string][]string{
			"http://schemas.microsoft.com/claims/authnmethodsreferences": {"http://schemas.microsoft.com/ws/2008/06/identity/authenticationmethod/password"},
		}, false},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", nil, false},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:Password", nil, false},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified", nil, false},
		{"", nil, false},
		{"HTTPS://REFEDS.ORG/PROFILE/MFA", nil, false},
		{"urn:oasis:names:tc:SAML:2.0:ac:classes:Password", map[string][]string{"amr": {"http://schemas.microsoft.com/claims/multipleauthn"}}, false},
	}
	for _, tc := range cases {
		if got := samlsp.MFAPresent(&samlsp.Assertion{AuthnContextClassRef: tc.classRef, Attributes: tc.attrs}); got != tc.want {
			t.Errorf("MFAPresent(%q, %v) = %v, want %v", tc.classRef, tc.attrs, got, tc.want)
		}
	}
	if samlsp.MFAPresent(nil) {
		t.Error("MFAPresent(nil) = true")
	}
}

// An MFA class reference arrives through a real signed response.
func TestParseResponseMFAPresent(t *testing.T) {
	f := newFixture(t)
	o := f.options()
	o.AuthnContextClassRef = "urn:oasis:names:tc:SAML:2.0:ac:classes:X509"
	a, err := samlsp.ParseResponse(f.idp.Response(o), f.expect())
	if err != nil || !samlsp.MFAPresent(a) {
		t.Fatalf("%+v %v", a, err)
	}
}

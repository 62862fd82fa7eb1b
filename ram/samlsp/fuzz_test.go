package samlsp_test

import (
	"github.com/beevik/etree"

	"encoding/base64"
	"strings"
	"testing"
	"time"

	"ramconsole/ram/samlsp"
	"ramconsole/ram/samlsp/samltest"
)

// FuzzParseResponse feeds response XML (and the same bytes as the posted
// text) to ParseResponse: it must refuse or accept, never panic, and
// refuse with an *Error.
func FuzzParseResponse(f *testing.F) {
	fx := newFixture(f)
	for _, o := range []samltest.Options{fx.options(), {SignResponse: true}, {SignBoth: true}, {SHA1: true}} {
		if o.Audience == "" {
			o.Audience, o.Recipient, o.NameID = testSP, testACS, "alice@example.com"
		}
		o.Attributes = nil
		// Without the outermost KeyInfo (outside what is signed) the seed stays valid and
		// is a third smaller, which keeps the fuzzer's minimisation quick.
		small, _ := base64.StdEncoding.DecodeString(encode(f, fx.idp.ResponseXML(o), func(r *etree.Element) {
			ki := r.FindElement("./Signature/KeyInfo") // the outermost signature's
			if ki == nil {
				ki = r.FindElement("./Assertion/Signature/KeyInfo")
			}
			ki.Parent().RemoveChild(ki)
		}))
		if _, err := samlsp.ParseResponse(base64.StdEncoding.EncodeToString(small), fx.expect()); (err == nil) == o.SHA1 {
			f.Fatalf("seed %+v: %v", o, err)
		}
		f.Add(small)
	}
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"><saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="a"/></samlp:Response>`))
	f.Add([]byte(`<!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>`))
	exp := fx.expect()
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 16<<10 {
			t.Skip("the size limits have their own tests; large inputs only slow the fuzzer's minimisation")
		}
		for _, in := range []string{base64.StdEncoding.EncodeToString(doc), string(doc)} {
			a, err := samlsp.ParseResponse(in, exp)
			if err == nil {
				if a == nil || a.ID == "" || a.NameID == "" || a.Issuer != exp.IDP.EntityID {
					t.Fatalf("accepted an incomplete assertion %+v", a)
				}
				continue
			}
			if _, ok := err.(*samlsp.Error); !ok {
				t.Fatalf("error %T %v is not a *samlsp.Error", err, err)
			}
		}
	})
}

// FuzzParseIDPMetadata: never a panic; an accepted document has an entity
// ID, an SSO URL and a certificate.
func FuzzParseIDPMetadata(f *testing.F) {
	_, cert := newCertificate(f, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	for _, doc := range []string{keycloakMetadata, entraMetadata, googleMetadata, minimalMetadata} {
		f.Add([]byte(strings.ReplaceAll(doc, "CERT", cert)))
	}
	f.Add(samltest.New(f, "https://idp.example.com").Metadata())
	f.Add(samlsp.SPMetadata("https://sp.example.com", "https://sp.example.com/acs"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		if len(doc) > 16<<10 {
			t.Skip("the size limits have their own tests; large inputs only slow the fuzzer's minimisation")
		}
		md, err := samlsp.ParseIDPMetadata(doc)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an error without text")
			}
			return
		}
		if md.EntityID == "" || (md.SSOURLRedirect == "" && md.SSOURLPost == "") || len(md.Certificates) == 0 {
			t.Fatalf("accepted incomplete metadata %+v", md)
		}
	})
}

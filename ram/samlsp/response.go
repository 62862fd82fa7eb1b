package samlsp

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// ClockSkew is how far ahead of ramconsole's clock an IdP's NotBefore and
// IssueInstant may be (SPEC §18.3). NotOnOrAfter gets no skew.
const ClockSkew = 3 * time.Minute

// maxEncodedResponse bounds the Base64 text before it is decoded: 1 MiB of
// XML, as Base64 with line breaks.
const maxEncodedResponse = maxXMLBytes/3*4 + maxXMLBytes/32

const (
	bearerMethod  = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
	statusSuccess = "urn:oasis:names:tc:SAML:2.0:status:Success"
)

// The algorithms a signature may use (SPEC §18.3: RSA-SHA256 or stronger,
// exclusive C14N). SHA-1 is refused in both the signature and the digest.
var (
	signatureMethods = []string{
		dsig.RSASHA256SignatureMethod, dsig.RSASHA384SignatureMethod, dsig.RSASHA512SignatureMethod,
		dsig.ECDSASHA256SignatureMethod, dsig.ECDSASHA384SignatureMethod, dsig.ECDSASHA512SignatureMethod,
	}
	digestMethods = []string{
		"http://www.w3.org/2001/04/xmlenc#sha256",
		"http://www.w3.org/2001/04/xmldsig-more#sha384",
		"http://www.w3.org/2001/04/xmlenc#sha512",
	}
	exclusiveC14N = []string{
		string(dsig.CanonicalXML10ExclusiveAlgorithmId), string(dsig.CanonicalXML10ExclusiveWithCommentsAlgorithmId),
	}
)

func refuse(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// ParseResponse validates a posted SAMLResponse (Base64 of the Response
// XML) against exp, checks 1–4 of SPEC §18.3 except InResponseTo and
// replay, and returns the verified assertion; any refusal is an *Error.
func ParseResponse(samlResponse string, exp Expect) (*Assertion, error) {
	if exp.IDP == nil || len(exp.IDP.Certificates) == 0 {
		return nil, refuse(ResponseInvalid, "no identity provider metadata to check the response against")
	}
	resp, asrt, err := verifiedResponse(samlResponse, exp)
	if err != nil {
		return nil, err
	}
	return readAssertion(resp, asrt, exp)
}

// verifiedResponse decodes and parses the response and verifies its
// signatures. It returns the Response element as goxmldsig verified it
// (nil when the Response itself is not signed) and the Assertion element
// read from a verified element; nothing else of the posted document is
// used afterwards, except a Status that refuses.
func verifiedResponse(samlResponse string, exp Expect) (resp, asrt *etree.Element, err error) {
	if len(samlResponse) > maxEncodedResponse {
		return nil, nil, refuse(ResponseInvalid, "the response is larger than 1 MiB")
	}
	raw, err := base64.StdEncoding.DecodeString(stripSpace(samlResponse))
	if err != nil {
		return nil, nil, refuse(ResponseInvalid, "the response is not Base64")
	}
	root, err := parseXML(raw)
	if err != nil {
		return nil, nil, refuse(ResponseInvalid, "%v", err)
	}
	if !is(root, nsProtocol, "Response") {
		return nil, nil, refuse(ResponseInvalid, "the root element is %s, not a SAML 2.0 protocol Response", root.FullTag())
	}
	if len(descendants(root, nsAssertion, "EncryptedAssertion")) > 0 {
		return nil, nil, refuse(ResponseInvalid, "the response carries an EncryptedAssertion, which ramconsole does not accept")
	}
	all := descendants(root, nsAssertion, "Assertion")
	switch {
	case len(all) == 0:
		return nil, nil, refuse(ResponseInvalid, "the response carries no assertion (status %s)", statusCode(root))
	case len(all) > 1:
		return nil, nil, refuse(SignatureInvalid, "the response carries %d Assertion elements; exactly one is accepted", len(all))
	case all[0].Parent() != root:
		return nil, nil, refuse(SignatureInvalid, "the Assertion is not a direct child of the Response")
	}
	posted := all[0]
	if err := checkSignaturePlacement(root, posted); err != nil {
		return nil, nil, refuse(SignatureInvalid, "%v", err)
	}
	certs := exp.IDP.Certificates
	if child(root, nsDSig, "Signature") != nil {
		if resp, err = verify(root, certs, exp.Now); err != nil {
			return nil, nil, refuse(SignatureInvalid, "the Response's signature does not verify: %v", err)
		}
		as := children(resp, nsAssertion, "Assertion")
		if len(as) != 1 {
			return nil, nil, refuse(SignatureInvalid, "the verified Response carries %d assertions", len(as))
		}
		asrt = as[0]
		if child(posted, nsDSig, "Signature") != nil {
			if _, err := verify(posted, certs, exp.Now); err != nil {
				return nil, nil, refuse(SignatureInvalid, "the Assertion's signature does not verify: %v", err)
			}
		}
		return resp, asrt, nil
	}
	if child(posted, nsDSig, "Signature") == nil {
		return nil, nil, refuse(SignatureInvalid, "neither the Response nor the Assertion is signed")
	}
	if asrt, err = verify(posted, certs, exp.Now); err != nil {
		return nil, nil, refuse(SignatureInvalid, "the Assertion's signature does not verify: %v", err)
	}
	// The Response is not signed: its Status may only refuse (an IdP that
	// says no is believed; a forged Success changes nothing, the assertion
	// is checked on its own).
	if code := statusCode(root); code != "" && code != statusSuccess {
		return nil, nil, refuse(ResponseInvalid, "the response's status is %s", code)
	}
	return nil, asrt, nil
}

// checkSignaturePlacement requires every XML signature in the document to
// be the one enveloped signature of the Response or of the Assertion,
// referencing that element's ID, with exclusive C14N and SHA-256 or
// stronger. goxmldsig picks the first signature it finds that references
// the element it validates, wherever it sits; with this check, whichever it
// picks is one of these two and uses allowed algorithms.
func checkSignaturePlacement(response, assertion *etree.Element) error {
	seen := map[*etree.Element]bool{}
	for _, sig := range descendants(response, nsDSig, "Signature") {
		parent := sig.Parent()
		if parent != response && parent != assertion {
			return fmt.Errorf("a Signature sits in %s, not directly in the Response or the Assertion", parent.FullTag())
		}
		if seen[parent] {
			return fmt.Errorf("the %s has more than one Signature", parent.Tag)
		}
		seen[parent] = true
		if err := checkSignature(sig, parent); err != nil {
			return fmt.Errorf("the %s's signature: %v", parent.Tag, err)
		}
	}
	return nil
}

// checkSignature checks the algorithms and the single reference of an
// enveloped signature of parent.
func checkSignature(sig, parent *etree.Element) error {
	id := parent.SelectAttrValue("ID", "")
	if id == "" {
		return errors.New("the signed element has no ID")
	}
	si, err := only(sig, "SignedInfo")
	if err != nil {
		return err
	}
	if _, err := only(sig, "SignatureValue"); err != nil {
		return err
	}
	if err := algorithm(si, "CanonicalizationMethod", exclusiveC14N); err != nil {
		return err
	}
	if err := algorithm(si, "SignatureMethod", signatureMethods); err != nil {
		return err
	}
	ref, err := only(si, "Reference")
	if err != nil {
		return err
	}
	if uri := ref.SelectAttrValue("URI", ""); uri != "#"+id {
		return fmt.Errorf("the Reference URI %q is not #%s", uri, id)
	}
	if err := algorithm(ref, "DigestMethod", digestMethods); err != nil {
		return err
	}
	ts, err := only(ref, "Transforms")
	if err != nil {
		return err
	}
	enveloped, c14n := 0, 0
	for _, t := range ts.ChildElements() {
		alg := t.SelectAttrValue("Algorithm", "")
		switch {
		case !is(t, nsDSig, "Transform"):
			return fmt.Errorf("unexpected %s in Transforms", t.FullTag())
		case alg == string(dsig.EnvelopedSignatureAltorithmId):
			enveloped++
		case slices.Contains(exclusiveC14N, alg):
			c14n++
		default:
			return fmt.Errorf("the transform %q is not allowed", alg)
		}
	}
	if enveloped != 1 || c14n != 1 {
		return errors.New("the transforms are not one enveloped-signature and one exclusive C14N")
	}
	return nil
}

// only is el's one child ds:<local>; several, none or one outside the XML
// signature namespace is an error.
func only(el *etree.Element, local string) (*etree.Element, error) {
	var found []*etree.Element
	for _, c := range el.ChildElements() {
		if c.Tag == local {
			found = append(found, c)
		}
	}
	if len(found) != 1 || found[0].NamespaceURI() != nsDSig {
		return nil, fmt.Errorf("%s needs exactly one ds:%s", el.Tag, local)
	}
	return found[0], nil
}

func algorithm(el *etree.Element, local string, allowed []string) error {
	m, err := only(el, local)
	if err != nil {
		return err
	}
	if alg := m.SelectAttrValue("Algorithm", ""); !slices.Contains(allowed, alg) {
		return fmt.Errorf("the %s %q is not allowed", local, alg)
	}
	return nil
}

// verify validates el's enveloped signature with goxmldsig against the
// metadata's certificates and returns the element goxmldsig verified.
//
// The IdP metadata is the trust anchor, as AWS and Alibaba treat it: a
// certificate's NotBefore/NotAfter is not checked, so an IdP whose
// self-signed signing certificate has passed its date keeps working until
// the administrator replaces the metadata (the certificate's expiry is
// shown on the SSO page). goxmldsig refuses a certificate outside its
// validity at the validation clock, so each certificate is tried alone
// with the clock moved inside its validity period.
func verify(el *etree.Element, certs []*x509.Certificate, now time.Time) (*etree.Element, error) {
	ctx, err := etreeutils.NSBuildParentContext(el)
	if err != nil {
		return nil, err
	}
	detached, err := etreeutils.NSDetatch(ctx, el)
	if err != nil {
		return nil, err
	}
	err = errors.New("no certificate")
	for _, c := range certs {
		vc := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{c}})
		vc.Clock = dsig.NewFakeClockAt(within(now, c))
		var v *etree.Element
		if v, err = vc.Validate(detached); err == nil {
			return v, nil
		}
	}
	return nil, err
}

// within is now moved into c's validity period.
func within(now time.Time, c *x509.Certificate) time.Time {
	switch {
	case now.Before(c.NotBefore):
		return c.NotBefore
	case now.After(c.NotAfter):
		return c.NotAfter
	}
	return now
}

// statusCode is the top-level StatusCode Value of a Response, "" when it
// has no Status.
func statusCode(resp *etree.Element) string {
	sc := child(child(resp, nsProtocol, "Status"), nsProtocol, "StatusCode")
	if sc == nil {
		return ""
	}
	return strings.TrimSpace(sc.SelectAttrValue("Value", ""))
}

// readAssertion runs the checks 2–4 of SPEC §18.3 in order on the verified
// elements and fills the Assertion. resp is nil when only the assertion is
// signed.
func readAssertion(resp, asrt *etree.Element, exp Expect) (*Assertion, error) {
	a := &Assertion{ID: asrt.SelectAttrValue("ID", ""), Attributes: map[string][]string{}}
	if a.ID == "" {
		return nil, refuse(ResponseInvalid, "the assertion has no ID")
	}
	if v := asrt.SelectAttrValue("Version", ""); v != "2.0" {
		return nil, refuse(ResponseInvalid, "the assertion's Version is %q, not 2.0", v)
	}
	var err error
	if a.IssueInstant, err = timeAttr(asrt, "IssueInstant", true); err != nil {
		return nil, err
	}

	// 2. Issuer and Status.
	a.Issuer = text(child(asrt, nsAssertion, "Issuer"))
	if a.Issuer != exp.IDP.EntityID {
		return nil, refuse(ResponseInvalid, "the assertion's Issuer %q is not the IdP %q", a.Issuer, exp.IDP.EntityID)
	}
	if resp != nil {
		if iss := child(resp, nsAssertion, "Issuer"); iss != nil && text(iss) != exp.IDP.EntityID {
			return nil, refuse(ResponseInvalid, "the Response's Issuer %q is not the IdP %q", text(iss), exp.IDP.EntityID)
		}
		if code := statusCode(resp); code != "" && code != statusSuccess {
			return nil, refuse(ResponseInvalid, "the response's status is %s", code)
		}
		a.InResponseTo = resp.SelectAttrValue("InResponseTo", "")
	}

	// 3. Conditions: times, then audience.
	latest := exp.Now.Add(ClockSkew)
	if a.IssueInstant.After(latest) {
		return nil, refuse(AssertionExpired, "the assertion's IssueInstant %s is ahead of now", a.IssueInstant.Format(time.RFC3339))
	}
	if resp != nil {
		t, err := timeAttr(resp, "IssueInstant", false)
		if err != nil {
			return nil, err
		}
		if t.After(latest) {
			return nil, refuse(AssertionExpired, "the Response's IssueInstant %s is ahead of now", t.Format(time.RFC3339))
		}
	}
	cond := child(asrt, nsAssertion, "Conditions")
	if cond == nil {
		return nil, refuse(AudienceMismatch, "the assertion has no Conditions (and so no AudienceRestriction)")
	}
	if err := notBefore(cond, latest, "Conditions"); err != nil {
		return nil, err
	}
	if a.NotOnOrAfter, err = timeAttr(cond, "NotOnOrAfter", false); err != nil {
		return nil, err
	}
	if !a.NotOnOrAfter.IsZero() && !exp.Now.Before(a.NotOnOrAfter) {
		return nil, refuse(AssertionExpired, "the assertion expired at %s", a.NotOnOrAfter.Format(time.RFC3339))
	}
	ars := children(cond, nsAssertion, "AudienceRestriction")
	if len(ars) == 0 {
		return nil, refuse(AudienceMismatch, "the assertion has no AudienceRestriction")
	}
	for _, ar := range ars { // each restriction must admit the SP (SAML core 2.5.1.4)
		var auds []string
		for _, au := range children(ar, nsAssertion, "Audience") {
			auds = append(auds, text(au))
		}
		a.Audiences = append(a.Audiences, auds...)
		if !slices.Contains(auds, exp.Audience) {
			return nil, refuse(AudienceMismatch, "the audiences %q do not include %q", auds, exp.Audience)
		}
	}

	// 4. Subject: NameID and a bearer confirmation for our ACS.
	subj := child(asrt, nsAssertion, "Subject")
	nameID := child(subj, nsAssertion, "NameID")
	a.NameID, a.NameIDFormat = text(nameID), ""
	if nameID != nil {
		a.NameIDFormat = nameID.SelectAttrValue("Format", "")
	}
	if a.NameID == "" {
		return nil, refuse(ResponseInvalid, "the assertion's Subject has no NameID")
	}
	if resp != nil {
		if d := resp.SelectAttrValue("Destination", ""); d != "" && d != exp.Recipient {
			return nil, refuse(RecipientMismatch, "the Response's Destination %q is not %q", d, exp.Recipient)
		}
	}
	var scd *etree.Element
	bearer := false
	for _, sc := range children(subj, nsAssertion, "SubjectConfirmation") {
		if sc.SelectAttrValue("Method", "") != bearerMethod {
			continue
		}
		bearer = true
		d := child(sc, nsAssertion, "SubjectConfirmationData")
		if d != nil && d.SelectAttrValue("Recipient", "") == exp.Recipient {
			scd = d
			break
		}
	}
	if scd == nil {
		if !bearer {
			return nil, refuse(ResponseInvalid, "the assertion has no bearer SubjectConfirmation")
		}
		return nil, refuse(RecipientMismatch, "no bearer SubjectConfirmationData has the Recipient %q", exp.Recipient)
	}
	a.Recipient = exp.Recipient
	if err := notBefore(scd, latest, "SubjectConfirmationData"); err != nil {
		return nil, err
	}
	t, err := timeAttr(scd, "NotOnOrAfter", true)
	if err != nil {
		return nil, err
	}
	if !exp.Now.Before(t) {
		return nil, refuse(AssertionExpired, "the SubjectConfirmationData expired at %s", t.Format(time.RFC3339))
	}
	if a.NotOnOrAfter.IsZero() || t.Before(a.NotOnOrAfter) {
		a.NotOnOrAfter = t
	}
	if irt := scd.SelectAttrValue("InResponseTo", ""); irt != "" {
		if a.InResponseTo != "" && a.InResponseTo != irt {
			return nil, refuse(ResponseInvalid, "the Response answers %q but its assertion %q", a.InResponseTo, irt)
		}
		a.InResponseTo = irt
	}

	// What the IdP says about the sign-in.
	if as := child(asrt, nsAssertion, "AuthnStatement"); as != nil {
		if a.SessionNotOnOrAfter, err = timeAttr(as, "SessionNotOnOrAfter", false); err != nil {
			return nil, err
		}
		a.AuthnContextClassRef = text(child(child(as, nsAssertion, "AuthnContext"), nsAssertion, "AuthnContextClassRef"))
	}
	for _, st := range children(asrt, nsAssertion, "AttributeStatement") {
		for _, at := range children(st, nsAssertion, "Attribute") {
			name := at.SelectAttrValue("Name", "")
			vals := a.Attributes[name]
			for _, v := range children(at, nsAssertion, "AttributeValue") {
				vals = append(vals, v.Text())
			}
			a.Attributes[name] = vals
		}
	}
	return a, nil
}

// notBefore refuses an element whose NotBefore is later than latest.
func notBefore(el *etree.Element, latest time.Time, what string) error {
	t, err := timeAttr(el, "NotBefore", false)
	if err != nil {
		return err
	}
	if t.After(latest) {
		return refuse(AssertionExpired, "the %s are not valid before %s", what, t.Format(time.RFC3339))
	}
	return nil
}

// timeAttr reads an xs:dateTime attribute; absent is the zero time unless
// required.
func timeAttr(el *etree.Element, name string, required bool) (time.Time, error) {
	v := el.SelectAttrValue(name, "")
	if v == "" {
		if required {
			return time.Time{}, refuse(ResponseInvalid, "%s has no %s", el.Tag, name)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, refuse(ResponseInvalid, "%s's %s %q is not a date and time", el.Tag, name, v)
	}
	return t.UTC(), nil
}

// text is el's text without surrounding whitespace, "" for nil.
func text(el *etree.Element) string {
	if el == nil {
		return ""
	}
	return strings.TrimSpace(el.Text())
}

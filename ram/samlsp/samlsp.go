// Package samlsp is ramconsole's SAML 2.0 service provider (SPEC §18): it
// checks an identity provider's metadata, writes the SP metadata and the
// AuthnRequest of an SP-initiated sign-in, and validates a Response posted
// to an Assertion Consumer Service. Signatures are verified by goxmldsig,
// and every value is read from the element goxmldsig returns as verified —
// never from the document as posted — so a wrapped, unsigned assertion is
// never read. The package keeps no state: the caller checks InResponseTo
// against its outstanding requests and consumes the assertion ID (replay).
package samlsp

import (
	"crypto/x509"
	"time"
)

// ErrorCode says why a response was refused; the names are the audit's
// errorCode values of SPEC §18.9.
type ErrorCode string

// Refusal codes.
const (
	SignatureInvalid  ErrorCode = "SAMLSignatureInvalid"
	ResponseInvalid   ErrorCode = "SAMLResponseInvalid"
	AssertionExpired  ErrorCode = "SAMLAssertionExpired"
	AudienceMismatch  ErrorCode = "SAMLAudienceMismatch"
	RecipientMismatch ErrorCode = "SAMLRecipientMismatch"
)

// Error is a refused response. Reason is for the audit log and the server
// log only; users see one fixed text per SPEC §18.3.
type Error struct {
	Code   ErrorCode
	Reason string
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Reason }

// IDPMetadata is an identity provider's SAML 2.0 metadata as ramconsole
// uses it.
type IDPMetadata struct {
	EntityID       string
	SSOURLRedirect string // SingleSignOnService, HTTP-Redirect binding ("" when absent)
	SSOURLPost     string // SingleSignOnService, HTTP-POST binding ("" when absent)
	Certificates   []*x509.Certificate
}

// Assertion is what a validated response says, read from the verified
// element only.
type Assertion struct {
	ID                   string
	Issuer               string
	NameID               string
	NameIDFormat         string // as sent, e.g. urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress
	InResponseTo         string // "" for an IdP-initiated (unsolicited) response
	Audiences            []string
	Recipient            string
	IssueInstant         time.Time
	NotOnOrAfter         time.Time // the earliest of Conditions and SubjectConfirmationData NotOnOrAfter
	SessionNotOnOrAfter  time.Time // AuthnStatement's, zero when absent
	AuthnContextClassRef string
	Attributes           map[string][]string
}

// Expect is what a response must match.
type Expect struct {
	IDP       *IDPMetadata
	Audience  string // the SP entityID
	Recipient string // the ACS URL
	Now       time.Time
}

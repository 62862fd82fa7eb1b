package samlsp

import "slices"

// mfaClassRefs are the AuthnContextClassRef values that say the IdP used
// more than a password (SPEC §18.4).
var mfaClassRefs = []string{
	"https://refeds.org/profile/mfa",
	"http://schemas.microsoft.com/claims/multipleauthn",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorUnregistered",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:TimeSyncToken",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:Smartcard",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI",
	"urn:oasis:names:tc:SAML:2.0:ac:classes:X509",
}

// Entra ID reports MFA in this attribute while its class stays Password.
const (
	entraAuthnMethods  = "http://schemas.microsoft.com/claims/authnmethodsreferences"
	entraMultipleAuthn = "http://schemas.microsoft.com/claims/multipleauthn"
)

// MFAPresent is acs:MFAPresent for a session signed in with a (SPEC §18.4).
func MFAPresent(a *Assertion) bool {
	if a == nil {
		return false
	}
	return slices.Contains(mfaClassRefs, a.AuthnContextClassRef) ||
		slices.Contains(a.Attributes[entraAuthnMethods], entraMultipleAuthn)
}

package views

// SSOTab is one tab of the SSO pages.
type SSOTab struct {
	Title, Href string
	Current     bool
}

// IDPFacts is what ramconsole read from an identity provider's metadata.
type IDPFacts struct {
	EntityID string
	SSOURL   string
	// Certs: each signing certificate's subject and expiry.
	Certs []CertFact
}

// CertFact is one signing certificate of an identity provider.
type CertFact struct {
	Subject, Expires string
	Expired          bool
}

// UserSSO is the user-based SSO tab (SPEC §18.2).
type UserSSO struct {
	Layout  Layout
	Tabs    []SSOTab
	Issuer  Issuer // the public URL the SP addresses derive from
	SP      SPAddresses
	Enabled bool
	IDP     *IDPFacts // nil until metadata is saved
	Form    Form
	CanEdit bool
	// Denied names the permission the viewer lacks to read the setting.
	Denied string
}

// SPAddresses are a service provider's entityID (also its metadata URL)
// and Assertion Consumer Service URL.
type SPAddresses struct {
	MetadataURL, EntityID, ACSURL string
}

// ProviderRow is one identity provider of a list.
type ProviderRow struct {
	Name, Href, Arn, Detail, Description, Updated string
}

// Providers is the list of SAML or OIDC providers.
type Providers struct {
	Layout    Layout
	Tabs      []SSOTab
	Kind      string // "saml" or "oidc"
	Rows      []ProviderRow
	CanCreate bool
	RoleSP    SPAddresses // the role SP (SAML)
	Issuer    Issuer
}

// SAMLProviderForm creates a SAML provider.
type SAMLProviderForm struct {
	Layout Layout
	Tabs   []SSOTab
	Form   Form
}

// SAMLProviderDetail is a SAML provider's page with its edit form.
type SAMLProviderDetail struct {
	Layout           Layout
	Tabs             []SSOTab
	Name, Arn        string
	Description      string
	IDP              *IDPFacts
	Created, Updated string
	Roles            RoleLinks
	CanEdit          bool
	Action           string // the edit form's POST
	DeleteHref       string // "" when the viewer may not delete
	Form             Form
}

// RoleLinks are the roles whose trust policy names a provider, or the
// permission the viewer lacks to list them.
type RoleLinks struct {
	Roles  []Link
	Denied string
}

// OIDCProviderForm creates an OIDC provider.
type OIDCProviderForm struct {
	Layout Layout
	Tabs   []SSOTab
	Form   Form
	// Fingerprint is the value "Get fingerprint" computed, to compare.
	Fingerprint string
}

// OIDCProviderDetail is an OIDC provider's page with its edit form.
type OIDCProviderDetail struct {
	Layout                  Layout
	Tabs                    []SSOTab
	Name, Arn, IssuerURL    string
	Description             string
	ClientIDs, Fingerprints []string
	IssuanceLimit           string
	Created, Updated        string
	Roles                   RoleLinks
	CanEdit                 bool
	CanFingerprint          bool
	Action                  string
	DeleteHref              string
	Form                    Form
	Fingerprint             string
}

package views

// OIDCError is ramconsole's own error page of an authorization request.
type OIDCError struct {
	Layout                 Layout
	Heading, Code, Message string
}

// OIDCDenied is the page of a refused sign-in to an application.
type OIDCDenied struct {
	Layout                         Layout
	AppName, Who, Action, Resource string
	Decision                       string
	Matched                        []string
	BackURL                        string
}

// OIDCContinue moves a browser on to an application with its code.
type OIDCContinue struct {
	Layout  Layout
	AppName string
	URL     string
}

// OIDCLogout asks before an RP-initiated sign-out.
type OIDCLogout struct {
	Layout   Layout
	SignedIn bool
}

// OIDCSettings is the OpenID provider's settings page.
type OIDCSettings struct {
	Layout    Layout
	Issuer    string
	IssuerSet bool
	Keys      []OIDCKeyRow
	// CanManage: the owner rotates and revokes keys.
	CanManage bool
}

// OIDCKeyRow is one published signing key.
type OIDCKeyRow struct {
	KID, Created, State string
	Current             bool
}

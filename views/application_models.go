package views

// Applications: the OpenID provider's OAuth clients (SPEC §17.3).

// Issuer is the OpenID issuer the application pages show, and whether
// --public-url sets it (else the pages warn: apps must be configured with
// the issuer they will keep seeing).
type Issuer struct {
	URL string
	// Unset: --public-url is not set, and URL is the console URL or the
	// listening address.
	Unset bool
}

// ApplicationRow is one application of the applications list.
type ApplicationRow struct {
	Name, Href, DisplayName, AppType, AppID, Created string
}

// Applications is the applications list.
type Applications struct {
	Layout Layout
	Issuer Issuer
	Rows   []ApplicationRow
	// CanCreate: whether the viewer may create an application.
	CanCreate bool
}

// ScopeChoice is one scope's checkbox of an application form.
type ScopeChoice struct {
	Name, Description string
	Checked           bool
	// Always: openid, ticked and not to be unticked (a hidden input posts it).
	Always bool
}

// ApplicationForm creates (New) or edits an application. On the edit form
// the name and type are shown, not posted.
type ApplicationForm struct {
	Layout Layout
	New    bool
	Action string
	// Name and AppType of the application edited.
	Name, AppType string
	Form          Form
	Scopes        []ScopeChoice
	Back          string
}

// ApplicationReveal is the page that follows creating an application or a
// secret: the AppId and, once, the secret with its one-time CSV.
type ApplicationReveal struct {
	Layout      Layout
	Title       string
	Name        string
	DisplayName string
	AppType     string
	AppID       string
	SecretID    string
	Secret      string
	CSVHref     string
	Href        string
	// NoSecret says why a new WebApp has no secret yet (its creator may not
	// create one).
	NoSecret string
	// Gone: the page was shown once already.
	Gone bool
}

// AppSecretRow is one secret of an application, by id and date.
type AppSecretRow struct {
	ID, Created, DeleteAction string
}

// SignInRow is one recent sign-in to an application from the audit log.
type SignInRow struct {
	Time, User, Href string
	Allowed          bool
	ErrorCode        string
}

// Endpoint is one of the issuer's endpoints an application is configured
// with.
type Endpoint struct {
	Label, URL string
}

// ApplicationDetail is one application's page.
type ApplicationDetail struct {
	Layout      Layout
	Name        string
	DisplayName string
	AppType     string
	AppID       string
	ARN         string
	SignInARN   string
	Created     string
	Updated     string
	Redirects   []string
	LogoutURIs  []string
	Scopes      string
	// AccessValidity and RefreshValidity are the lifetimes, for people.
	AccessValidity, RefreshValidity string
	// HTTPRedirects are redirect URIs served over plain http on other hosts
	// than the loopback ones (warned about).
	HTTPRedirects []string
	Issuer        Issuer
	Endpoints     []Endpoint
	// Secrets, or SecretsDenied naming the permission the viewer lacks to
	// list them; MaxSecrets is the most an application may have.
	Secrets       []AppSecretRow
	SecretsDenied string
	MaxSecrets    int
	// SimulatorHref asks the simulator about oidc:SignIn on the application
	// ("" when the viewer may not use the simulator).
	SimulatorHref string
	// SignIns are the recent sign-ins, or SignInsDenied names the permission
	// the viewer lacks to read them.
	SignIns       []SignInRow
	SignInsDenied string
	// What the viewer may do, with where.
	CanEdit, CanDelete, CanCreateSecret, CanDeleteSecret, CanRevoke bool
	EditHref, DeleteHref, SecretsAction, RevokeAction               string
}

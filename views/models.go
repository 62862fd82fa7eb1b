// Package views holds the console's templ components and the view models
// they render. Handlers fill the models (dates, ARNs and badges already
// formatted); views only loop and branch.
package views

// NavItem is one entry of the left navigation.
type NavItem struct {
	Label  string
	Href   string
	Active bool
	// Group is the heading the entry is listed under ("" for none).
	Group string
}

// Layout is what every console page's frame shows.
type Layout struct {
	Title     string
	Alias     string // the account alias (or AccountId) in the top bar
	Who       string // the signed-in identity
	SignedIn  bool
	CSRFToken string
	Nav       []NavItem
	Flash     string
	FlashErr  bool
	// Switched is set while a RAM user acts as a role.
	Switched *SwitchBanner
	// WebAuthn loads webauthn.js: the page runs a security-key ceremony.
	WebAuthn bool
	// RefreshTo, when set, moves the browser on to this URL at once (a
	// meta refresh: no script).
	RefreshTo string
}

// SwitchBanner says whose role session the console acts as.
type SwitchBanner struct {
	Role, RoleHref, User, BackAction, Expires string
}

// Form carries a form's typed values and its per-field messages.
type Form struct {
	Values map[string]string
	Errors map[string]string
}

// Value returns the typed value of a field.
func (f Form) Value(name string) string { return f.Values[name] }

// Error returns the message for a field, or "".
func (f Form) Error(name string) string { return f.Errors[name] }

// Setup is the first-run page.
type Setup struct {
	Layout Layout
	Form   Form
}

// Login is the sign-in page.
type Login struct {
	Layout  Layout
	Form    Form
	Message string // the one refusal message
	Notice  string // why the person is asked to sign in (a session that ended)
	Next    string
	// DraftAction and Draft carry a form posted after the session ended
	// (its action and url-encoded values, passwords left out) through the
	// sign-in, back to the form.
	DraftAction, Draft string
	// SSO, while user SSO is on, is where "Sign in with SSO" leads.
	SSO string
}

// LoginMFA is the sign-in's MFA step.
type LoginMFA struct {
	Layout        Layout
	Message       string
	OfferRemember bool // "remember this device for 7 days"
	HasTOTP       bool // the TOTP form is shown
	// Key is the security-key form's ceremony (empty: no key form).
	Key KeyCeremony
	// KeysUnavailable is set when the identity has keys but keys cannot
	// be used on this console.
	KeysUnavailable string
}

// MFABind is the binding page of a virtual MFA device.
type MFABind struct {
	Layout Layout
	Form   Form
	Secret string // Base32 seed
	// SecretGroups is the seed in groups of four for typing by hand.
	SecretGroups string
	URI          string // otpauth URI
	QRCode       string // base64 PNG
	Forced       bool   // binding is required before anything else
	HasDevice    bool   // a device is bound already: offer to unbind instead
	// KeysAvailable offers security keys (a factor instead of TOTP).
	KeysAvailable bool
}

// Check is one line of the overview's security checklist.
type Check struct {
	Label string
	OK    bool
	Hint  string
	// Href leads to what to fix (the users concerned, the setting);
	// FixHref and FixLabel, when set, to a second place (the setting).
	Href, FixHref, FixLabel string
	// Pending, when set, says why the check does not apply yet ("No users
	// yet"): shown instead of Done or To do.
	Pending string
}

// Count is one figure on the overview.
type Count struct {
	Label string
	Value int
	Href  string
}

// Overview is the console's first page.
type Overview struct {
	Layout    Layout
	AccountID string
	Alias     string
	LogonURL  string
	LogonName string // the form of a RAM user's logon name
	Counts    []Count
	Checks    []Check
	// Empty: no users, groups or custom policies yet (a "get started" card).
	Empty bool
}

// Error is an error page.
type Error struct {
	Layout    Layout
	Status    int
	Title     string
	Message   string
	RequestID string
	// For an access-denied page: what was refused, the kind of deny and,
	// for an explicit deny, the statement that denied.
	Action    string
	Resources []string
	DenyType  string
	DeniedBy  string
	// Diagnostic is the denial as text to copy into a request for access.
	Diagnostic string
	// Home is where the page leads back to, as the viewer is; Previous is
	// the page of this site the viewer came from, if known.
	Home, HomeLabel, Previous string
}

// UserRow is one line of the users table.
type UserRow struct {
	Name, DisplayName, Href, Created, LastLogin string
	Console, MFA, Keys, KeyLastUsed             string
	ConsoleWarn                                 bool // console access without MFA
	KeyStale                                    bool // a key unused for 90 days
	// MFAPending: MFA is required and not bound yet; MFA says when the
	// user binds a device.
	MFAPending bool
}

// Users is the users list.
type Users struct {
	Layout Layout
	Query  string
	Sort   string
	Sorts  []Link // the orders, the current one marked
	// Status narrows the list (no_mfa, stale_keys); StatusNote says how.
	Status, StatusNote string
	Total              int // users the search matches
	Rows               []UserRow
	// FirstHref, PrevHref and NextHref page through the list ("" for none).
	FirstHref, PrevHref, NextHref string
	// What the viewer may do, for the buttons: hidden or disabled otherwise.
	CanCreate, CanAddToGroup, CanGrant, CanDelete bool
	// Hidden names the status columns the viewer may not see, with the
	// permission each needs.
	Hidden map[string]string
}

// UserNew is the create-user form.
type UserNew struct {
	Layout Layout
	Form   Form
}

// KeyRow is one AccessKey in a table (never its secret).
type KeyRow struct {
	ID, Status, Created, LastUsed string
	StatusAction, NewStatus       string // the form that flips the status
	StatusLabel, DeleteAction     string
}

// GroupRef is a group a user belongs to.
type GroupRef struct {
	Name, Href, Joined, RemoveAction string
}

// UserDetail is a user's page.
type UserDetail struct {
	Layout                                Layout
	Base                                  string // /users/<name>
	Name, DisplayName, Email, MobilePhone string
	Comments, UserID, ARN, LogonName      string
	Created, Updated, LastLogin           string
	Locked                                bool
	LockedUntil                           string
	HasLogin                              bool
	LoginStatus, PasswordChanged          string
	ResetRequired, MFARequired            bool
	HasMFA                                bool
	MFASerial, MFABound                   string
	SecurityKeys                          []SecurityKeyRow
	Keys                                  []KeyRow
	CanAddKey                             bool
	Groups                                []GroupRef
	LoginForm                             Form // the console-access forms' values and messages
	Policies                              PrincipalPolicies
	// Hidden names the sections the viewer may not see ("login", "mfa",
	// "accesskeys", "groups"), each with the permission it needs.
	Hidden map[string]string
	// Can says which actions ("ram:UpdateUser", …) the viewer may do on
	// the user: the others' buttons are left out, with a note.
	Can map[string]bool
	// GroupChoices are the groups the user may be added to.
	GroupChoices []string
	// MFAPending says when a user who must use MFA binds a device (""
	// when bound, or not required).
	MFAPending string
}

// UserEdit is the edit-user form.
type UserEdit struct {
	Layout Layout
	Name   string
	Form   Form
}

// UserDelete is the delete confirmation: what goes with the user.
type UserDelete struct {
	Layout Layout
	Name   string
	Goes   []string
	Form   Form
}

// Reveal is the one-time page of a generated password and/or a new
// AccessKey's secret.
type Reveal struct {
	Layout    Layout
	Title     string
	UserName  string
	LogonName string
	LogonURL  string
	Password  string
	Generated bool // the password was generated (else typed by the administrator)
	KeyID     string
	KeySecret string
	CSVHref   string
	// CredentialsHref is the one-time CSV of the console credentials.
	CredentialsHref string
	Back            string
	NextSteps       []Link
	// Gone: the page was shown once already; the secret can no longer be shown.
	Gone bool
	// KeyInCredentials: the AccessKey is in the credentials CSV too (its
	// only download).
	KeyInCredentials bool
	// What the person's next sign-in asks after the password: the code of
	// the bound MFA device or binding one, then a new password.
	SignInMFACode, SignInBindMFA, SignInNewPassword bool
}

// GroupRow is one line of the groups table.
type GroupRow struct {
	Name, Href, Comments, Created string
}

// Groups is the groups list.
type Groups struct {
	Layout   Layout
	Query    string
	Rows     []GroupRow
	NextHref string
	// CanCreate and CanGrant: the viewer may create groups, attach policies to them.
	CanCreate, CanGrant bool
}

// GroupNew is the create-group form.
type GroupNew struct {
	Layout Layout
	Form   Form
}

// MemberRow is one member of a group.
type MemberRow struct {
	Name, DisplayName, Href, Joined, RemoveAction string
}

// GroupDetail is a group's page.
type GroupDetail struct {
	Layout                       Layout
	Base                         string
	Name, Comments, GroupID, ARN string
	Created, Updated             string
	Members                      []MemberRow
	NextHref                     string
	Form                         Form // add-member form
	Policies                     PrincipalPolicies
	// MembersDenied, when set, is the permission the viewer lacks to see
	// the members.
	MembersDenied string
	// Can says which actions the viewer may do on the group.
	Can map[string]bool
}

// GroupEdit is the edit-group form.
type GroupEdit struct {
	Layout Layout
	Name   string
	Form   Form
}

// GroupDelete is the delete confirmation of a group.
type GroupDelete struct {
	Layout      Layout
	Name        string
	Members     int
	MoreMembers bool // more than Members: the count stopped at a page
	Form        Form
}

// Settings is the account settings page: password policy, security
// preference and alias, each its own form.
type Settings struct {
	Layout    Layout
	AccountID string
	Policy    Form
	Pref      Form
	Alias     Form
	// CanSetPolicy, CanSetPref and CanSetAlias: what the viewer may change.
	// A section it may not change is shown as facts, with the permission
	// changing needs.
	CanSetPolicy, CanSetPref, CanSetAlias bool
	PolicyFacts, PrefFacts, AliasFacts    []Fact
	// PrefDenied and AliasDenied name the permission a section the viewer
	// may not read needs ("" when it may).
	PrefDenied, AliasDenied string
	// Keys is the relying party security keys are bound to.
	Keys KeySettings
}

// KeySettings says where security keys work (the --public-url).
type KeySettings struct {
	Available    bool
	Reason       string
	Origin, RPID string
}

// Fact is one labelled value of a read-only section.
type Fact struct {
	Label, Value string
}

// Me is a RAM user's own page.
type Me struct {
	Layout                                Layout
	Name, DisplayName, Email, MobilePhone string
	LogonName, LastLogin, PasswordChanged string
	HasMFA                                bool
	CanChangePassword                     bool
	CanManageMFA                          bool
	KeysAvailable                         bool
	CanManageKeys                         bool
	CanAddKey                             bool
	Keys                                  []KeyRow
	Groups                                []string
}

// PasswordChange is the own-password form.
type PasswordChange struct {
	Layout Layout
	Form   Form
	Forced bool
}

// bulk reports whether the users list offers any bulk action.
func (m Users) bulk() bool { return m.CanAddToGroup || m.CanGrant || m.CanDelete }

// HiddenField is a hidden form field.
type HiddenField struct{ Name, Value string }

// Confirm is a confirmation page before an irreversible or locking-out
// change.
type Confirm struct {
	Layout    Layout
	Title     string
	Breaks    []string // what stops working
	Notes     []string
	Action    string // the POST
	Button    string
	Hidden    []HiddenField
	Want      string // typed confirmation, when set
	WantLabel string
	Form      Form
	Back      string
	// Blocked says why it cannot be done yet; FixAction is the POST that
	// gets there (disable the key), labelled FixLabel.
	Blocked   string
	FixAction string
	FixLabel  string
	FixHidden []HiddenField
}

// verbatim is a textarea's text as written after its opening tag: HTML drops
// one newline right after <textarea>, so a leading newline of its own keeps
// a value that starts with one (a pasted or linked policy document) intact.
func verbatim(s string) string { return "\n" + s }

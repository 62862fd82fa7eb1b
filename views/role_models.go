package views

// RoleRow is one role in the roles list.
type RoleRow struct {
	Name, Href, Description, Created, MaxSession string
}

// Roles is the roles list.
type Roles struct {
	Layout   Layout
	Query    string
	Rows     []RoleRow
	NextHref string
	// CanCreate: the viewer may create roles.
	CanCreate bool
}

// RoleForm is the create-role form (and its trust-policy presets).
type RoleForm struct {
	Layout    Layout
	AccountID string
	Form      Form
	Trust     TrustUsers
}

// TrustUsers is the "these RAM users" preset of a trust form: the
// account's users to tick and, when Typed, a field for other names (the
// form's preset_users value).
type TrustUsers struct {
	Users []Pick
	// More: the account has more users than Users lists.
	More  bool
	Typed bool
	// Needs names the permission to list users, when the viewer lacks it.
	Needs string
	// Providers are the identity providers to choose for the "an identity
	// provider" preset (values "saml:<name>", "oidc:<name>").
	Providers []Pick
}

// RoleSessionRow is a live STS session of a role.
type RoleSessionRow struct {
	SessionName, Source, Created, Expires, KeyID string
}

// RoleDetail is a role's page.
type RoleDetail struct {
	Layout                   Layout
	Base                     string
	Name, RoleID, ARN        string
	Description, MaxSession  string
	Created, Updated         string
	TrustPolicy              string // indented
	TrustWarning             string // what is risky in the trust policy ("" for nothing)
	Policies                 PrincipalPolicies
	Sessions                 []RoleSessionRow
	SessionsDenied           string // the permission needed to see the sessions, when missing
	CanSwitch                bool   // a RAM user who may switch to the role
	SwitchHref, RevokeAction string
	EditHref, DeleteHref     string
}

// RoleEdit is the edit-role form.
type RoleEdit struct {
	Layout Layout
	Name   string
	Form   Form
	Trust  TrustUsers
}

// RoleDelete is the delete confirmation of a role.
type RoleDelete struct {
	Layout   Layout
	Name     string
	Policies int
	Form     Form
}

// RoleSwitch confirms switching to a role in the console.
type RoleSwitch struct {
	Layout            Layout
	Name, Description string
	Action            string
	Refusal           string // why this identity cannot switch, when it cannot
}

// SwitchRoleForm asks which role to switch to: one of Roles, those the
// user may switch to now.
type SwitchRoleForm struct {
	Layout  Layout
	Roles   []string
	Refusal string // why this identity cannot switch, when it cannot
}

package views

// The access review's pages (SPEC §16.2–16.6). Times are pre-formatted:
// RFC 3339 UTC with seconds, or "Never".

// AccessWindowView is the period a page reports on and the days form that
// picks it (Form holds the typed days and its message).
type AccessWindowView struct {
	Form     Form
	Action   string // where the days form goes
	Days     string
	From, To string
}

// The groups of a principal's access page, in the page's order.
const (
	AccessUsed   = "used"
	AccessUnused = "unused"
	AccessDenied = "denied"
)

// PrincipalAccess is a user's, group's or role's access page.
type PrincipalAccess struct {
	Layout Layout
	Window AccessWindowView
	// Invalid: the days field is wrong; the table is not shown.
	Invalid bool
	Kind    string // user, group, role
	Name    string
	ARN     string
	Href    string // the principal's own page
	Rows    []AccessRow
	// GenerateHref drafts a policy from the principal's activity ("" when
	// not offered: a group, or a viewer who may not).
	GenerateHref string
}

// AccessRow is one action of a principal's access page.
type AccessRow struct {
	Action, Service string
	Group           string // AccessUsed, AccessUnused or AccessDenied
	Status          string // what the group means for this row, for people
	Granted         bool
	Allowed, Denied string
	LastAllowed     string
	LastDenied      string
	Resources       []string
}

// PolicyAccess is a policy's statement-use page.
type PolicyAccess struct {
	Layout     Layout
	Window     AccessWindowView
	Invalid    bool
	PolicyType string
	PolicyName string
	Version    string
	Href       string // the policy's own page
	Rows       []StatementUseRow
}

// StatementUseRow is one statement of the policy's default version.
type StatementUseRow struct {
	Statement  string // from 0
	Effect     string
	Count      string
	LastUsed   string
	Principals []StatementPrincipalRow
}

// StatementPrincipalRow is a principal credited with a statement's use.
type StatementPrincipalRow struct {
	Type, Name string
	Href       string // "" for the owner
	Count      string
	LastUsed   string
}

// UnusedAccess is the unused list.
type UnusedAccess struct {
	Layout     Layout
	Window     AccessWindowView
	Invalid    bool
	AsOf       string
	CSVHref    string
	Users      []UnusedUserRow
	AccessKeys []UnusedKeyRow
	Roles      []UnusedNamedRow
	Policies   []UnusedNamedRow
	Statements []UnusedStatementRow
}

// UnusedUserRow is a user with no sign-in and no request in the window.
type UnusedUserRow struct {
	Name, Href   string
	ConsoleLogin bool
	LastLogin    string
	LastActivity string
}

// UnusedKeyRow is an AccessKey not used in the window.
type UnusedKeyRow struct {
	UserName, UserHref, AccessKeyID, Status string
	Created, LastUsed                       string
}

// UnusedNamedRow is a role or a policy not used in the window.
type UnusedNamedRow struct {
	Name, Href string
	Type       string // a policy's type; "" for a role
	LastUsed   string
}

// UnusedStatementRow is a statement of an attached policy that never
// matched in the window.
type UnusedStatementRow struct {
	PolicyType, PolicyName, Href string
	Version, Statement           string
}

// GeneratedPolicy is the least-privilege draft page: its form, and once a
// principal is named, the draft and its replay.
type GeneratedPolicy struct {
	Layout Layout
	// Form holds principal, from and to with their messages.
	Form    Form
	Drafted bool
	ARN     string
	From    string
	To      string
	// Document is the draft, indented.
	Document       string
	Observed       string
	AllowedByDraft string
	// Proven: the draft allows every call it was drafted from.
	Proven bool
	// CreateHref opens the new-policy form filled with the draft ("" when
	// not offered: unproven, or a viewer without ram:CreatePolicy).
	CreateHref string
	// MayCreate: the viewer may create policies.
	MayCreate bool
	Calls     []DraftCallRow
	Denied    []DraftCallRow
}

// DraftCallRow is one distinct observed (action, resources).
type DraftCallRow struct {
	Action    string
	Resources []string
	Count     string
	// Replayed says whether the draft allows it ("" for a denied call).
	Replayed string
}

package views

// PolicyRow is one line of the policies table.
type PolicyRow struct {
	Name, Type, Href, Description, DefaultVersion, Updated string
	Attachments                                            int
}

// Policies is the policies list.
type Policies struct {
	Layout   Layout
	Type     string // "", System or Custom
	Query    string
	Rows     []PolicyRow
	NextHref string
	// CanCreate and CanGrant: the viewer may create policies, attach them.
	CanCreate, CanGrant bool
}

// PolicyNew is the create-policy form; Problems are the validator's messages.
type PolicyNew struct {
	Layout   Layout
	Form     Form
	Problems []string
	// Excerpt is the document's lines the problems point at, numbered.
	Excerpt []NumberedLine
}

// NumberedLine is one numbered line of a document; Bad marks a line a
// problem points at.
type NumberedLine struct {
	No   int
	Text string
	Bad  bool
}

// VersionRow is one version of a policy.
type VersionRow struct {
	ID, Created, Href string
	Default           bool
	DefaultAction     string
	DeleteAction      string
}

// EntityRow is a user or group a policy is attached to.
type EntityRow struct {
	Kind, Name, Href, Attached, DetachAction string
}

// PolicyDetail is a policy's page: its document, versions and references.
type PolicyDetail struct {
	Layout         Layout
	Base           string
	Name, Type     string
	Description    string
	DefaultVersion string
	Document       string // the shown version's document, indented
	ShownVersion   string
	ARN            string
	Custom         bool
	Versions       []VersionRow
	Entities       []EntityRow
	VersionForm    Form // the new-version form
	Problems       []string
	DescForm       Form
	// Can says which actions the viewer may do on the policy ("detach":
	// from its users and groups).
	Can map[string]bool
	// GrantHref is the "Add permissions" panel with this policy ticked.
	GrantHref string
}

// PolicyDelete confirms deleting a custom policy.
type PolicyDelete struct {
	Layout      Layout
	Name        string
	Attachments int
	OldVersions int
	Form        Form
}

// AttachedPolicy is a policy attached to a user or group, with its detach form.
type AttachedPolicy struct {
	Name, Type, Href, Attached, DetachAction, Via string
}

// PrincipalPolicies is the policies section of a user's, group's or role's page.
type PrincipalPolicies struct {
	Attached     []AttachedPolicy
	Effective    []AttachedPolicy // users only: everything in force, with the group it comes through
	AttachAction string
	SimulateHref string // users only: the simulator for this user
	UserName     string
	CSRFToken    string
	// Denied, when set, is the permission the viewer lacks to see them.
	Denied string
	// CanAttach and CanDetach say whether the viewer may change them; the
	// Needs fields name the permission missing.
	CanAttach, CanDetach     bool
	AttachNeeds, DetachNeeds string
	// PickerHref is the "Add permissions" panel for this principal.
	PickerHref string
}

// Match is a statement that matched, in the simulator and denied pages.
type Match struct {
	PolicyType, PolicyName, Version, Effect string
	Statement                               int
}

// ResourceDecision is the simulator's decision on one resource.
type ResourceDecision struct {
	Resource string
	Decision string
	Matched  []Match
}

// Simulator is the policy simulator's page.
type Simulator struct {
	Layout    Layout
	Form      Form
	Problems  []string
	Decided   bool
	Decision  string
	Resources []ResourceDecision
	// Mapped says how a resource service mapped the request asked about.
	Mapped string
	// Users are the user names offered for the user field.
	Users []string
}

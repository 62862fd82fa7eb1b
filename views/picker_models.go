package views

// Pick is one tickable item of a picker.
type Pick struct {
	Value, Label string
	Note         string // a short tag (the policy type)
	Description  string
	Checked      bool
}

// Grant is the "Add permissions" panel: principals of one kind (users,
// groups or roles) × up to MaxPolicies policies, each list searchable by a
// GET filter that keeps the ticks.
type Grant struct {
	Layout         Layout
	Kind           string // user | group | role
	Tabs           []GrantTab
	PrincipalQuery string
	Principals     []Pick // the ticked ones first, then the search's
	PrincipalNote  string
	Query, Type    string
	Chosen         []Pick // ticked policies
	Policies       []Pick // the search's policies
	More           bool   // the search found more than it shows
	PolicyNote     string
	Suggest        string // the closest policy name to a search that found nothing
	SuggestHref    string
	MaxPolicies    int
	Errors         map[string]string
}

// GrantTab is one principal kind of the panel; Href keeps the ticked
// policies.
type GrantTab struct {
	Kind, Title, Href string
	Current           bool
}

// GrantReview lists what a grant attaches, with the form that does it.
type GrantReview struct {
	Layout     Layout
	Kind       string
	Principals []string
	Policies   []string // "Type:Name"
	Pairs      int
	Action     string
	Back       string
}

// BulkGroups picks the groups to add ticked users to.
type BulkGroups struct {
	Layout Layout
	Users  []string
	Query  string
	Groups []Pick
	Note   string
	Errors map[string]string
}

// BulkDeleteUser is one user of a bulk deletion and what goes with it.
type BulkDeleteUser struct {
	Name string
	Goes []string
}

// BulkDelete confirms deleting several users.
type BulkDelete struct {
	Layout Layout
	Users  []BulkDeleteUser
	Count  string
	Form   Form
}

// MembersPick picks users to add to a group.
type MembersPick struct {
	Layout      Layout
	Group, Base string
	Query       string
	Users       []Pick
	More        bool
	Error       string
	Suggest     string
	SuggestHref string
}

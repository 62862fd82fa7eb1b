package views

// Grants is the grants page: every policy attachment of the account, with
// its filter, paging and export.
type Grants struct {
	Layout Layout
	Filter Form
	// Invalid is set when the filter was refused: the page lists nothing.
	Invalid bool
	// Filtered is set when any filter is in force.
	Filtered       bool
	PrincipalTypes []FilterOption
	PolicyTypes    []FilterOption
	// PolicyNames are offered for the policy filter.
	PolicyNames []string
	Rows        []GrantRow
	// CanRevoke is set when some row has a revoke link.
	CanRevoke bool
	// Hidden are the principal kinds whose grants the viewer may not list.
	Hidden    []HiddenKind
	NextHref  string
	FirstHref string
	CSVHref   string
}

// FilterOption is one choice of a filter's select.
type FilterOption struct{ Value, Label string }

// GrantRow is one grant: who holds which policy since when, with the way
// to revoke it when the viewer may.
type GrantRow struct {
	PrincipalType  string // user, group or role
	PrincipalLabel string
	Principal      string
	PrincipalHref  string
	PolicyType     string
	Policy         string
	PolicyHref     string
	Attached       string // for people
	AttachedISO    string // yyyy-MM-ddTHH:mm:ssZ
	RevokeHref     string // the detach confirmation; "" when not allowed
}

// HiddenKind is a principal kind left out of a list, with the action the
// viewer would need to see it.
type HiddenKind struct{ Kind, Action string }

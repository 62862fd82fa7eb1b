package ram

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"ramconsole/policy"
	"ramconsole/store"
)

// Grant is one policy attachment of the account (RAM console's "Grants"):
// who holds which policy since when.
type Grant struct {
	PrincipalType string // user, group or role
	PrincipalName string
	PolicyType    string
	PolicyName    string
	AttachDate    time.Time
	// Revocable is set on a listed grant the viewer may detach.
	Revocable bool
}

// GrantsInput asks for a page of the account's grants. Every filter is
// optional: Query is a case-insensitive part of the principal's or the
// policy's name, PrincipalType is user, group or role, PolicyType System
// or Custom, PolicyName a policy's exact name. Cursor is a previous page's
// Next.
type GrantsInput struct {
	Query         string
	PrincipalType string
	PolicyType    string
	PolicyName    string
	Cursor        string
	Size          int
}

// GrantsPage is a page of grants, newest first, with the cursor of the next
// page ("" on the last).
type GrantsPage struct {
	Grants []Grant
	Next   string
	// Hidden names the principal kinds whose grants the viewer may not
	// list, each with the action it needs; their grants are left out.
	Hidden map[string]string
}

// Grant filter limits.
const (
	// MaxGrantQuery is the longest search of the grants, in characters:
	// no principal's or policy's name is longer.
	MaxGrantQuery = 128
	// grantExportBatch is how many grants an export reads at a time.
	grantExportBatch = 500
)

// grantKinds are the principal kinds of grants, in the page's order, with
// the action that lists each kind.
var grantKinds = []struct {
	kind, action string
	all          func(acct string) Resource
}{
	{store.GrantUser, "ram:ListUsers", allUsersResource},
	{store.GrantGroup, "ram:ListGroups", allGroupsResource},
	{store.GrantRole, "ram:ListRoles", allRolesResource},
}

// grantFilter authorises a grants listing (ram:ListPolicies), checks its
// filters and turns them into the store's filter. The principal kinds the
// viewer may not list are left out and named in hidden.
func (s *Service) grantFilter(ctx context.Context, a Actor, in GrantsInput) (store.GrantFilter, map[string]string, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:ListPolicies", allPoliciesResource(acct)); err != nil {
		return store.GrantFilter{}, nil, err
	}
	var fe fieldErrors
	if n := utf8.RuneCountInString(in.Query); n > MaxGrantQuery || !utf8.ValidString(in.Query) {
		fe.add("q", "InvalidParameter.Query.Length", "Search with at most %d characters: no name is longer.", MaxGrantQuery)
	} else if strings.ContainsFunc(in.Query, unicode.IsControl) {
		fe.add("q", "InvalidParameter.Query.InvalidChars", "Search without control characters.")
	}
	switch in.PrincipalType {
	case "", store.GrantUser, store.GrantGroup, store.GrantRole:
	default:
		fe.add("principal_type", "InvalidParameter.PrincipalType", "Choose user, group or role.")
	}
	if in.PolicyType != "" {
		checkPolicyType(&fe, in.PolicyType)
	}
	if in.PolicyName != "" {
		checkPolicyName(&fe, "policy", in.PolicyName)
	}
	var before int64
	if in.Cursor != "" {
		m, err := decodeMarker(in.Cursor)
		if err == nil {
			before, err = strconv.ParseInt(m, 10, 64)
		}
		if err != nil || before <= 0 {
			fe.add("cursor", "InvalidParameter.Marker", "The page link is not one this server made: start again from the first page.")
		}
	}
	f := store.GrantFilter{Query: in.Query, PolicyType: in.PolicyType, PolicyName: in.PolicyName, Before: before}
	hidden := map[string]string{}
	for _, k := range grantKinds {
		if !s.permits(ctx, a, k.action, k.all(acct)) {
			hidden[k.kind] = k.action
			if in.PrincipalType == k.kind {
				fe.add("principal_type", "InvalidParameter.PrincipalType", "Listing %ss needs %s.", k.kind, k.action)
			}
			continue
		}
		if in.PrincipalType == "" || in.PrincipalType == k.kind {
			f.Kinds = append(f.Kinds, k.kind)
		}
	}
	if err := fe.err(); err != nil {
		return f, hidden, err
	}
	return f, hidden, nil
}

func grantOf(g *store.Grant) Grant {
	return Grant{PrincipalType: g.PrincipalType, PrincipalName: g.PrincipalName, PolicyType: g.PolicyType, PolicyName: g.PolicyName, AttachDate: g.AttachedAt}
}

// ListGrants returns a page of the account's policy attachments, newest
// first (ram:ListPolicies; a principal kind's grants also need that kind's
// List action). Invalid filters are EINVALID with a message per field (q,
// principal_type, policy_type, policy, cursor).
func (s *Service) ListGrants(ctx context.Context, a Actor, in GrantsInput) (*GrantsPage, error) {
	f, hidden, err := s.grantFilter(ctx, a, in)
	if err != nil {
		return nil, err
	}
	if in.Size < 1 || in.Size > maxPageSize {
		in.Size = defaultPageSize
	}
	f.Limit = in.Size + 1
	rows, err := s.st.Grants(ctx, f)
	if err != nil {
		return nil, err
	}
	p := &GrantsPage{Grants: make([]Grant, 0, len(rows))}
	if len(hidden) > 0 {
		p.Hidden = hidden
	}
	if len(rows) > in.Size {
		rows = rows[:in.Size]
		p.Next = encodeMarker(strconv.FormatInt(rows[len(rows)-1].ID, 10))
	}
	acct := s.accountID(ctx)
	for i := range rows {
		g := grantOf(&rows[i])
		g.Revocable = s.permits(ctx, a, grantDetachAction[g.PrincipalType], grantResources(acct, &g)...)
		p.Grants = append(p.Grants, g)
	}
	return p, nil
}

// grantDetachAction is the action that revokes a grant of each principal
// kind: the principal's detach.
var grantDetachAction = map[string]string{
	store.GrantUser:  "ram:DetachPolicyFromUser",
	store.GrantGroup: "ram:DetachPolicyFromGroup",
	store.GrantRole:  "ram:DetachPolicyFromRole",
}

// grantResources are the resources a grant's detach is authorised on: the
// principal and the policy, by the stored names the grant was read with
// (as lookupUser and lookupPolicy would name them, without reading them
// again for every row of a page).
func grantResources(acct string, g *Grant) []Resource {
	prin := Resource{"acs:ram:*:" + acct + ":" + g.PrincipalType + "/" + g.PrincipalName}
	pol := Resource{"acs:ram:*:" + acct + ":policy/" + g.PolicyName}
	if g.PolicyType == PolicyTypeSystem {
		pol = Resource{"acs:ram:*:" + systemPolicyAccountPart + ":policy/" + g.PolicyName}
	}
	return []Resource{prin, pol}
}

// ExportGrants calls each for every grant the filter selects (the cursor
// and size are ignored), newest first, under ListGrants' rules.
func (s *Service) ExportGrants(ctx context.Context, a Actor, in GrantsInput, each func(Grant) error) error {
	in.Cursor = ""
	f, _, err := s.grantFilter(ctx, a, in)
	if err != nil {
		return err
	}
	f.Limit = grantExportBatch
	for {
		rows, err := s.st.Grants(ctx, f)
		if err != nil {
			return err
		}
		for i := range rows {
			if err := each(grantOf(&rows[i])); err != nil {
				return err
			}
		}
		if len(rows) < f.Limit {
			return nil
		}
		f.Before = rows[len(rows)-1].ID
	}
}

// PolicyNames returns the names of every system and custom policy, sorted
// and each once, for a filter that names one (ram:ListPolicies).
func (s *Service) PolicyNames(ctx context.Context, a Actor) ([]string, error) {
	if err := s.authorize(ctx, a, "ram:ListPolicies", allPoliciesResource(s.accountID(ctx))); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, sp := range policy.SystemPolicies() {
		if !seen[sp.Name] {
			seen[sp.Name] = true
			out = append(out, sp.Name)
		}
	}
	custom, err := s.st.CustomPolicies(ctx, "", "", MaxCustomPolicies)
	if err != nil {
		return nil, err
	}
	for _, p := range custom {
		if !seen[p.PolicyName] {
			seen[p.PolicyName] = true
			out = append(out, p.PolicyName)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out, nil
}

package handlers

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// Limits of the pickers and bulk actions: a page of users at a time, and at
// most five policies a grant (as RAM's "Add permissions").
const (
	maxBulkUsers      = listPageSize
	maxBulkGroups     = listPageSize
	maxGrantPolicies  = 5
	maxGrantPrincipal = listPageSize
	pickerRows        = 30
	// offerRows is how many names a form offers in a list without a search
	// (the trust form's users, the simulator's): a team's worth, and a
	// page that stays small; more are typed.
	offerRows = 200
)

// formList returns the distinct, trimmed, non-empty values of a field, from
// the query and the posted form, in their order.
func formList(c echo.Context, name string) []string {
	vals, _ := c.FormParams()
	var out []string
	seen := map[string]bool{}
	for _, v := range vals[name] {
		v = strings.TrimSpace(v)
		if v != "" && !seen[strings.ToLower(v)] {
			seen[strings.ToLower(v)] = true
			out = append(out, v)
		}
	}
	return out
}

// errBulkUsers answers a bulk action with no user ticked, or more than a
// page of them: invalid input, nothing done.
var errBulkUsers = &ram.Error{Kind: ram.EINVALID, Code: "InvalidParameter.UserName",
	Message: "Tick 1 to " + strconv.Itoa(maxBulkUsers) + " users on the users list, then press the button again."}

// FormUsers is what a bulk route names: every "user" of the form.
func FormUsers(c echo.Context) []string { return formList(c, "user") }

// FormGroups is every "group" of the form.
func FormGroups(c echo.Context) []string { return formList(c, "group") }

// FormRoles is every "role" of the form.
func FormRoles(c echo.Context) []string { return formList(c, "role") }

// grantKinds are the principal kinds of the "Add permissions" panel, in the
// order of its tabs; each kind's form field is its own name.
var grantKinds = []string{"user", "group", "role"}

// FormPolicies is every "policy" of the form ("System:Name" or
// "Custom:Name"), with the single policy_type + policy_name of the older
// form when it is used.
func FormPolicies(c echo.Context) [][2]string {
	var out [][2]string
	for _, v := range formList(c, "policy") {
		t, n, ok := strings.Cut(v, ":")
		if !ok {
			t, n = ram.PolicyTypeCustom, v
		}
		out = append(out, [2]string{t, n})
	}
	if n := strings.TrimSpace(c.FormValue("policy_name")); n != "" && len(out) == 0 {
		out = append(out, [2]string{c.FormValue("policy_type"), n})
	}
	return out
}

// closest is the candidate nearest to a mistyped name (case-insensitive
// edit distance), or "" when none is near enough to suggest.
func closest(typed string, candidates []string) string {
	t := strings.ToLower(typed)
	best, bestD := "", len(t)/3+2
	for _, c := range candidates {
		if d := editDistance(t, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// allPolicies lists every policy the viewer may list, system first.
func (h *Handlers) allPolicies(c echo.Context, typ string) ([]ram.Policy, error) {
	var out []ram.Policy
	marker := ""
	for {
		page, err := h.RAM.ListPolicies(ctx(c), ActorOf(c), ram.ListPoliciesInput{PolicyType: typ, Marker: marker, MaxItems: 1000})
		if err != nil {
			return nil, err
		}
		out = append(out, page.Policies...)
		if !page.IsTruncated {
			return out, nil
		}
		marker = page.Marker
	}
}

// userNames and groupNames: every name, for suggestions.
func (h *Handlers) userNames(c echo.Context) []string {
	return pagedNames(0, func(marker string) ([]string, string, bool, error) {
		page, err := h.RAM.ListUsers(ctx(c), ActorOf(c), ram.ListUsersInput{Marker: marker, MaxItems: 1000})
		if err != nil {
			return nil, "", false, err
		}
		names := make([]string, len(page.Users))
		for i, u := range page.Users {
			names[i] = u.UserName
		}
		return names, page.Marker, page.IsTruncated, nil
	})
}

// roleNames lists the roles whose names start with query (at most limit;
// 0 = all).
func (h *Handlers) roleNames(c echo.Context, query string, limit int) []string {
	return pagedNames(limit, func(marker string) ([]string, string, bool, error) {
		page, err := h.RAM.ListRoles(ctx(c), ActorOf(c), query, marker, 1000)
		if err != nil {
			return nil, "", false, err
		}
		names := make([]string, len(page.Roles))
		for i, r := range page.Roles {
			names[i] = r.RoleName
		}
		return names, page.Marker, page.IsTruncated, nil
	})
}

func (h *Handlers) groupNames(c echo.Context, query string, limit int) []string {
	return pagedNames(limit, func(marker string) ([]string, string, bool, error) {
		page, err := h.RAM.ListGroups(ctx(c), ActorOf(c), query, marker, 1000)
		if err != nil {
			return nil, "", false, err
		}
		names := make([]string, len(page.Groups))
		for i, g := range page.Groups {
			names[i] = g.GroupName
		}
		return names, page.Marker, page.IsTruncated, nil
	})
}

// pagedNames reads names page by page from next (a page from a marker: its
// names, the next marker, whether more follow) until the last page or
// limit names (0 = all); a page that cannot be read ends the list.
func pagedNames(limit int, next func(marker string) ([]string, string, bool, error)) []string {
	var out []string
	marker := ""
	for {
		names, nextMarker, more, err := next(marker)
		if err != nil {
			return out
		}
		for _, n := range names {
			out = append(out, n)
			if limit > 0 && len(out) >= limit {
				return out
			}
		}
		if !more {
			return out
		}
		marker = nextMarker
	}
}

// policyMatches reports whether a policy's name or description contains q.
func policyMatches(p ram.Policy, q string) bool {
	q = strings.ToLower(q)
	return q == "" || strings.Contains(strings.ToLower(p.PolicyName), q) || strings.Contains(strings.ToLower(p.Description), q)
}

// GrantForm handles GET /permissions/new: the "Add permissions" panel.
// Principals (users, groups or roles) and up to five policies are ticked;
// the searches are GET filters of the same form, so ticks survive them.
func (h *Handlers) GrantForm(c echo.Context) error {
	return h.renderGrant(c, http.StatusOK, nil, nil)
}

func grantKind(c echo.Context) string {
	switch k := c.FormValue("kind"); k {
	case "group", "role":
		return k
	}
	return "user"
}

// listActions are what listing each principal kind needs.
var listActions = map[string]struct {
	action string
	ref    func() ram.Ref
}{
	"user":  {"ram:ListUsers", ram.AllUsersRef},
	"group": {"ram:ListGroups", ram.AllGroupsRef},
	"role":  {"ram:ListRoles", ram.AllRolesRef},
}

// mayList reports, without recording anything, whether the viewer may list
// principals of kind.
func (h *Handlers) mayList(c echo.Context, kind string) bool {
	la := listActions[kind]
	return h.can(c, la.action, la.ref())
}

// principalNames lists the names of kind starting with query (users: or
// display names), at most limit.
func (h *Handlers) principalNames(c echo.Context, kind, query string, limit int) []string {
	switch kind {
	case "group":
		return h.groupNames(c, query, limit)
	case "role":
		return h.roleNames(c, query, limit)
	}
	var out []string
	if page, err := h.RAM.ListUsers(ctx(c), ActorOf(c), ram.ListUsersInput{Query: query, MaxItems: limit}); err == nil {
		for _, u := range page.Users {
			out = append(out, u.UserName)
		}
	}
	return out
}

// maxNameLength is longer than any user, group or role name: a longer
// value names nothing and is not looked up.
const maxNameLength = 128

// resolveNames looks each name up among the principals of kind: known are
// the stored spellings of those found, unknown the names that name nothing.
// A viewer who may not list them gets ok false and nothing looked up (the
// domain answers for each name).
func (h *Handlers) resolveNames(c echo.Context, kind string, names []string) (known, unknown []string, ok bool) {
	if !h.mayList(c, kind) {
		return nil, nil, false
	}
	for _, n := range names {
		found := ""
		if utf8.RuneCountInString(n) <= maxNameLength {
			for _, m := range h.principalNames(c, kind, n, 1000) {
				if strings.EqualFold(m, n) {
					found = m
					break
				}
			}
		}
		if found == "" {
			unknown = append(unknown, n)
		} else {
			known = append(known, found)
		}
	}
	return known, unknown, true
}

// unknownPolicies are the "Type:Name" policies the form names that do not
// exist, as far as the viewer may list policies.
func (h *Handlers) unknownPolicies(c echo.Context, policies [][2]string) ([]string, error) {
	if !h.can(c, "ram:ListPolicies", ram.AllPoliciesRef()) {
		return nil, nil
	}
	all, err := h.allPolicies(c, "")
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, p := range all {
		known[p.PolicyType+":"+strings.ToLower(p.PolicyName)] = true
	}
	var unknown []string
	for _, p := range policies {
		if !known[p[0]+":"+strings.ToLower(p[1])] {
			unknown = append(unknown, p[1])
		}
	}
	return unknown, nil
}

// quoted names names for a message: at most three, each cut short.
func quoted(names []string) string {
	var out []string
	for i, n := range names {
		if i == 3 {
			out = append(out, "and "+strconv.Itoa(len(names)-3)+" more")
			break
		}
		if r := []rune(n); len(r) > 64 {
			n = string(r[:64]) + "…"
		}
		out = append(out, "“"+n+"”")
	}
	return strings.Join(out, ", ")
}

// checkGrant checks a grant's principals and policies before anything is
// attached: how many, and that each names something. drop are the
// principals not to tick again (lower case).
func (h *Handlers) checkGrant(c echo.Context, kind string, principals []string, policies [][2]string) (errs map[string]string, drop map[string]bool, err error) {
	errs, drop = map[string]string{}, map[string]bool{}
	switch {
	case len(principals) == 0:
		errs["principal"] = "Tick at least one " + kind + "."
	case len(principals) > maxGrantPrincipal:
		errs["principal"] = "At most " + strconv.Itoa(maxGrantPrincipal) + " at a time."
	default:
		if _, unknown, _ := h.resolveNames(c, kind, principals); len(unknown) > 0 {
			errs["principal"] = "No " + kind + " is named " + quoted(unknown) + "."
			for _, n := range unknown {
				drop[strings.ToLower(n)] = true
			}
		}
	}
	switch {
	case len(policies) == 0:
		errs["policy"] = "Tick at least one policy."
	case len(policies) > maxGrantPolicies:
		errs["policy"] = "At most 5 policies at a time; untick " + strconv.Itoa(len(policies)-maxGrantPolicies) + "."
	default:
		unknown, err := h.unknownPolicies(c, policies)
		if err != nil {
			return nil, nil, err
		}
		if len(unknown) > 0 {
			errs["policy"] = "No policy is named " + quoted(unknown) + "."
		}
	}
	return errs, drop, nil
}

func (h *Handlers) renderGrant(c echo.Context, status int, errs map[string]string, drop map[string]bool) error {
	kind := grantKind(c)
	q, typ, pq := strings.TrimSpace(c.QueryParam("q")), c.QueryParam("type"), strings.TrimSpace(c.QueryParam("pq"))
	if typ != ram.PolicyTypeSystem && typ != ram.PolicyTypeCustom {
		typ = ""
	}
	m := views.Grant{Layout: h.layout(c, "Add permissions"), Kind: kind, Query: q, Type: typ, PrincipalQuery: pq,
		Errors: errs, MaxPolicies: maxGrantPolicies}
	if errs == nil {
		m.Errors = map[string]string{}
	}
	if missing := c.QueryParam("missing"); missing != "" {
		m.Errors["policy"] = "No policy is named " + quoted([]string{missing}) + "."
	}
	selected := map[string]bool{}
	for _, n := range formList(c, kind) {
		if drop[strings.ToLower(n)] {
			continue
		}
		selected[strings.ToLower(n)] = true
		m.Principals = append(m.Principals, views.Pick{Value: n, Label: n, Checked: true})
	}
	if pq != "" {
		if !h.mayList(c, kind) {
			m.PrincipalNote = "You need " + listActions[kind].action + " to find " + kind + "s."
		} else {
			found := h.principalNames(c, kind, pq, pickerRows)
			for _, n := range found {
				if !selected[strings.ToLower(n)] {
					m.Principals = append(m.Principals, views.Pick{Value: n, Label: n})
				}
			}
			if len(found) == 0 {
				m.PrincipalNote = "No " + kind + " name starts with “" + pq + "”."
			}
		}
	}
	all, err := h.allPolicies(c, "")
	if err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, p := range FormPolicies(c) {
		chosen[p[0]+":"+p[1]] = true
	}
	shown := 0
	var names, kept []string // kept: the ticked policies that exist, for the links that keep them
	for _, p := range all {
		names = append(names, p.PolicyName)
		v := p.PolicyType + ":" + p.PolicyName
		pick := views.Pick{Value: v, Label: p.PolicyName, Note: p.PolicyType, Description: p.Description, Checked: chosen[v]}
		switch {
		case chosen[v]:
			m.Chosen = append(m.Chosen, pick)
			kept = append(kept, v)
		case (typ == "" || p.PolicyType == typ) && policyMatches(p, q) && shown < pickerRows:
			m.Policies = append(m.Policies, pick)
			shown++
		}
	}
	if q != "" && shown == 0 {
		m.PolicyNote = "No policy's name or description contains “" + q + "”."
		if s := closest(q, names); s != "" {
			m.Suggest = s
			m.SuggestHref = grantHref(kind, principalValues(m.Principals), kept, s)
		}
	}
	m.More = shown == pickerRows
	for _, k := range grantKinds {
		m.Tabs = append(m.Tabs, views.GrantTab{Kind: k, Title: views.KindTitle(k), Href: grantHref(k, nil, kept, ""), Current: k == kind})
	}
	return Render(c, status, views.GrantPage(m))
}

// grantHref is the panel for kind with principals and policies ticked and
// a policy search q.
func grantHref(kind string, principals, policies []string, q string) string {
	v := url.Values{"kind": {kind}}
	if q != "" {
		v.Set("q", q)
	}
	for _, n := range principals {
		v.Add(kind, n)
	}
	for _, p := range policies {
		v.Add("policy", p)
	}
	return "/permissions/new?" + v.Encode()
}

// principalValues are the ticked principals of the panel.
func principalValues(picks []views.Pick) []string {
	var out []string
	for _, p := range picks {
		if p.Checked {
			out = append(out, p.Value)
		}
	}
	return out
}

// GrantReview handles GET /permissions/review: the principals × policies
// that will be attached, with the one form that attaches them.
func (h *Handlers) GrantReview(c echo.Context) error {
	kind := grantKind(c)
	principals, policies := formList(c, kind), FormPolicies(c)
	errs, drop, err := h.checkGrant(c, kind, principals, policies)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return h.renderGrant(c, http.StatusUnprocessableEntity, errs, drop)
	}
	m := views.GrantReview{Layout: h.layout(c, "Review permissions"), Kind: kind, Principals: principals,
		Action: "/permissions/" + kind + "s", Back: grantHref(kind, principals, formList(c, "policy"), "")}
	for _, p := range policies {
		m.Policies = append(m.Policies, p[0]+":"+p[1])
	}
	m.Pairs = len(principals) * len(policies)
	return Render(c, http.StatusOK, views.GrantReviewPage(m))
}

// Grant handles POST /permissions/users, /permissions/groups and
// /permissions/roles: attaches every ticked policy to every ticked
// principal. The principals and policies are checked first (a name that
// names nothing re-renders the panel and attaches nothing); each attachment
// is then the domain's, authorised on its stored principal and policy, and
// one already in place is counted, not an error.
func (h *Handlers) Grant(kind string) echo.HandlerFunc {
	pk := principalKinds[kind]
	return func(c echo.Context) error {
		principals, policies := formList(c, kind), FormPolicies(c)
		errs, drop, err := h.checkGrant(c, kind, principals, policies)
		if err != nil {
			return err
		}
		if len(errs) > 0 {
			return h.renderGrant(c, http.StatusUnprocessableEntity, errs, drop)
		}
		done, already := 0, 0
		var failed []string
		for _, p := range principals {
			for _, pol := range policies {
				err := pk.attach(h.RAM)(ctx(c), ActorOf(c), pol[0], pol[1], p)
				e, ok := ram.AsError(err)
				switch {
				case err == nil:
					done++
				case ok && e.Kind == ram.ECONFLICT:
					already++
				case ok && e.Kind != ram.EFORBIDDEN:
					failed = append(failed, pol[1]+" to "+p+": "+e.Message)
				default:
					return err
				}
			}
		}
		msg := strconv.Itoa(done) + " permission(s) granted"
		if already > 0 {
			msg += ", " + strconv.Itoa(already) + " already in place"
		}
		back := "/" + kind + "s"
		if len(principals) == 1 {
			back = pk.href(principals[0])
		}
		if len(failed) > 0 {
			_ = SessionOf(c).AddFlash(flashErrorPrefix + msg + ". Not granted: " + strings.Join(failed, "; "))
			return redirect(c, back)
		}
		return flashDone(c, back, msg+".")
	}
}

// BulkGroupsForm handles GET /bulk/users/add-to-group: the groups to add
// the ticked users to, with a search.
func (h *Handlers) BulkGroupsForm(c echo.Context) error {
	return h.renderBulkGroups(c, http.StatusOK, nil)
}

func (h *Handlers) renderBulkGroups(c echo.Context, status int, errs map[string]string) error {
	users := FormUsers(c)
	q := strings.TrimSpace(c.QueryParam("q"))
	m := views.BulkGroups{Layout: h.layout(c, "Add users to groups"), Users: users, Query: q, Errors: errs}
	if len(users) == 0 || len(users) > maxBulkUsers {
		return errBulkUsers
	}
	chosen := map[string]bool{}
	for _, g := range FormGroups(c) {
		chosen[strings.ToLower(g)] = true
		m.Groups = append(m.Groups, views.Pick{Value: g, Label: g, Checked: true})
	}
	for _, g := range h.groupNames(c, q, pickerRows) {
		if !chosen[strings.ToLower(g)] {
			m.Groups = append(m.Groups, views.Pick{Value: g, Label: g})
		}
	}
	if len(m.Groups) == 0 {
		m.Note = "No groups yet: create one first."
		if q != "" {
			m.Note = "No group name starts with “" + q + "”."
		}
	}
	return Render(c, status, views.BulkGroupsPage(m))
}

// BulkGroupsAdd handles POST /bulk/users/add-to-group: every ticked user
// into every ticked group, all or nothing (the domain checks each
// membership as a single add before making any).
func (h *Handlers) BulkGroupsAdd(c echo.Context) error {
	users, groups := FormUsers(c), FormGroups(c)
	if len(users) == 0 || len(users) > maxBulkUsers {
		return errBulkUsers
	}
	switch {
	case len(groups) == 0:
		return h.renderBulkGroups(c, http.StatusUnprocessableEntity, map[string]string{"group": "Tick at least one group."})
	case len(groups) > maxBulkGroups:
		return h.renderBulkGroups(c, http.StatusUnprocessableEntity, map[string]string{"group": "At most " + strconv.Itoa(maxBulkGroups) + " groups at a time."})
	}
	done, already, err := h.RAM.AddUsersToGroups(ctx(c), ActorOf(c), groups, users)
	if fields, ok := fieldErrors(err); ok {
		// A name that is not one (the form was edited): said at the groups.
		msgs := make([]string, 0, len(fields))
		for _, k := range []string{"user", "group"} {
			if m := fields[k]; m != "" {
				msgs = append(msgs, "A "+k+" name is not valid: "+m)
			}
		}
		return h.renderBulkGroups(c, http.StatusUnprocessableEntity, map[string]string{"group": strings.Join(msgs, " ") + " Nothing was added."})
	}
	if e, ok := ram.AsError(err); ok && (e.Kind == ram.ELIMIT || e.Kind == ram.ECONFLICT) {
		return h.renderBulkGroups(c, http.StatusConflict, map[string]string{"group": e.Message + " Nothing was added."})
	}
	if err != nil {
		return err
	}
	msg := strconv.Itoa(done) + " membership(s) added"
	if already > 0 {
		msg += ", " + strconv.Itoa(already) + " already in place"
	}
	return flashDone(c, "/users", msg+" ("+strings.Join(users, ", ")+" → "+strings.Join(groups, ", ")+").")
}

// BulkDeleteForm handles GET /bulk/users/delete: what goes with each ticked
// user, and the count to type to confirm.
func (h *Handlers) BulkDeleteForm(c echo.Context) error {
	return h.renderBulkDelete(c, http.StatusOK, views.Form{})
}

func (h *Handlers) renderBulkDelete(c echo.Context, status int, f views.Form) error {
	users := FormUsers(c)
	if len(users) == 0 || len(users) > maxBulkUsers {
		return errBulkUsers
	}
	m := views.BulkDelete{Layout: h.layout(c, "Delete users"), Form: f, Count: strconv.Itoa(len(users))}
	for _, u := range users {
		d, err := h.RAM.UserDetail(ctx(c), ActorOf(c), u)
		if err != nil {
			return err
		}
		dm := h.deleteModel(c, d, views.Form{})
		m.Users = append(m.Users, views.BulkDeleteUser{Name: d.User.UserName, Goes: dm.Goes})
	}
	sort.Slice(m.Users, func(i, j int) bool { return m.Users[i].Name < m.Users[j].Name })
	return Render(c, status, views.BulkDeletePage(m))
}

// BulkDelete handles POST /bulk/users/delete: with the count typed, deletes
// each ticked user with everything it has.
func (h *Handlers) BulkDelete(c echo.Context) error {
	users := FormUsers(c)
	if len(users) == 0 || len(users) > maxBulkUsers {
		return errBulkUsers
	}
	if strings.TrimSpace(c.FormValue("confirm")) != strconv.Itoa(len(users)) {
		return h.renderBulkDelete(c, http.StatusUnprocessableEntity, views.Form{Values: map[string]string{"confirm": c.FormValue("confirm")},
			Errors: map[string]string{"confirm": "Type " + strconv.Itoa(len(users)) + ", the number of users, to confirm."}})
	}
	var deleted []string
	for _, u := range users {
		if err := h.RAM.DeleteUser(ctx(c), ActorOf(c), u, true); err != nil {
			if len(deleted) > 0 {
				_ = SessionOf(c).AddFlash(flashErrorPrefix + "Deleted " + strings.Join(deleted, ", ") + "; stopped at " + u + ".")
			}
			return err
		}
		deleted = append(deleted, u)
	}
	return flashDone(c, "/users", strconv.Itoa(len(deleted))+" user(s) deleted: "+strings.Join(deleted, ", ")+".")
}

// GroupMembersPick handles GET /groups/:name/members/add: users to tick,
// found by a search, to add to the group.
func (h *Handlers) GroupMembersPick(c echo.Context) error {
	name := c.Param("name")
	g, err := h.RAM.GetGroup(ctx(c), ActorOf(c), name)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(c.QueryParam("q"))
	m := views.MembersPick{Layout: h.layout(c, "Add users to "+g.GroupName), Group: g.GroupName, Base: groupHref(g.GroupName), Query: q}
	if missing := c.QueryParam("missing"); missing != "" {
		m.Error = "No user is named “" + missing + "”."
		if s := closest(missing, h.userNames(c)); s != "" {
			m.Suggest, m.SuggestHref = s, groupHref(g.GroupName)+"/members/add?q="+url.QueryEscape(s)
		}
	}
	page, err := h.RAM.ListUsers(ctx(c), ActorOf(c), ram.ListUsersInput{Query: q, MaxItems: maxBulkUsers})
	if err != nil {
		return err
	}
	for _, u := range page.Users {
		label := u.UserName
		if u.DisplayName != "" && u.DisplayName != u.UserName {
			label += " (" + u.DisplayName + ")"
		}
		m.Users = append(m.Users, views.Pick{Value: u.UserName, Label: label})
	}
	m.More = page.IsTruncated
	if len(m.Users) == 0 && q != "" && m.Suggest == "" {
		// A search that finds no one: the nearest name, as for a mistyped member.
		if s := closest(q, h.userNames(c)); s != "" {
			m.Suggest, m.SuggestHref = s, groupHref(g.GroupName)+"/members/add?q="+url.QueryEscape(s)
		}
	}
	return Render(c, http.StatusOK, views.MembersPickPage(m))
}

// can reports, without recording anything, whether the viewer may do action
// on refs: the same check the route table makes, for showing a button.
func (h *Handlers) can(c echo.Context, action string, refs ...ram.Ref) bool {
	return h.RAM.Allowed(ctx(c), ActorOf(c), action, refs...)
}

// permissions maps each action to whether the viewer may do it on refs.
func (h *Handlers) permissions(c echo.Context, refs []ram.Ref, actions ...string) map[string]bool {
	m := make(map[string]bool, len(actions))
	for _, a := range actions {
		m[a] = h.can(c, a, refs...)
	}
	return m
}

package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

func roleHref(name string) string { return "/roles/" + url.PathEscape(name) }

// sessionLength says how long a number of seconds is, for people.
func sessionLength(seconds int) string {
	if seconds%3600 == 0 {
		if seconds == 3600 {
			return "1 hour"
		}
		return strconv.Itoa(seconds/3600) + " hours"
	}
	return strconv.Itoa(seconds/60) + " minutes"
}

// RolesList handles GET /roles.
func (h *Handlers) RolesList(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	page, err := h.RAM.ListRoles(ctx(c), ActorOf(c), q, c.QueryParam("marker"), listPageSize)
	if e, ok := ram.AsError(err); ok && e.Kind == ram.EINVALID {
		return echo.NewHTTPError(http.StatusBadRequest, e.Message)
	}
	if err != nil {
		return err
	}
	m := views.Roles{Layout: h.layout(c, "Roles"), Query: q}
	m.CanCreate = h.can(c, "ram:CreateRole", ram.AllRolesRef())
	for _, r := range page.Roles {
		m.Rows = append(m.Rows, views.RoleRow{Name: r.RoleName, Href: roleHref(r.RoleName), Description: r.Description,
			Created: date(r.CreatedAt), MaxSession: sessionLength(r.MaxSessionDuration)})
	}
	if page.IsTruncated {
		v := url.Values{"marker": {page.Marker}}
		if q != "" {
			v.Set("q", q)
		}
		m.NextHref = "/roles?" + v.Encode()
	}
	return Render(c, http.StatusOK, views.RolesPage(m))
}

// RoleNew handles GET /roles/new.
func (h *Handlers) RoleNew(c echo.Context) error {
	f := views.Form{Values: map[string]string{"preset": "account", "max_session_duration": "3600"}}
	return h.renderRoleNew(c, http.StatusOK, f, nil)
}

func (h *Handlers) renderRoleNew(c echo.Context, status int, f views.Form, users []string) error {
	m := views.RoleForm{Layout: h.layout(c, "New role"), AccountID: h.RAM.AccountID(ctx(c)), Form: f}
	m.Trust = h.trustUserPicker(c, &m.Form, users)
	return Render(c, status, views.RoleNewPage(m))
}

// maxPresetUsers is how many users the preset names at most (a trust
// policy holds about as many ARNs).
const maxPresetUsers = 100

// presetUsers is every user the "these RAM users" preset names: its ticked
// boxes and the names typed beside them (separated by commas or spaces),
// each once.
func presetUsers(c echo.Context) []string {
	vals, _ := c.FormParams()
	var out []string
	seen := map[string]bool{}
	for _, v := range vals["preset_users"] {
		for _, n := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
			if !seen[strings.ToLower(n)] {
				seen[strings.ToLower(n)] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// trustUserPicker lists the account's users to tick for the "these RAM
// users" preset, the picked ones ticked; picked names it does not list are
// put in f's typed field (a name too long to be one is left out).
func (h *Handlers) trustUserPicker(c echo.Context, f *views.Form, picked []string) views.TrustUsers {
	var t views.TrustUsers
	ticked := map[string]bool{}
	for _, n := range picked {
		ticked[strings.ToLower(n)] = true
	}
	listed := map[string]bool{}
	var page *ram.UserPage
	if h.mayList(c, "user") {
		page, _ = h.RAM.ListUsers(ctx(c), ActorOf(c), ram.ListUsersInput{MaxItems: offerRows})
	}
	if page == nil {
		t.Needs, t.Typed = "ram:ListUsers", true
	} else {
		for _, u := range page.Users {
			label := u.UserName
			if u.DisplayName != "" && u.DisplayName != u.UserName {
				label += " (" + u.DisplayName + ")"
			}
			t.Users = append(t.Users, views.Pick{Value: u.UserName, Label: label, Checked: ticked[strings.ToLower(u.UserName)]})
			listed[strings.ToLower(u.UserName)] = true
		}
		t.More = page.IsTruncated
	}
	var rest []string
	for _, n := range picked {
		if !listed[strings.ToLower(n)] && utf8.RuneCountInString(n) <= maxNameLength {
			rest = append(rest, n)
		}
	}
	t.Typed = t.Typed || t.More || len(rest) > 0
	t.Providers = h.trustProviders(c)
	if f.Values == nil {
		f.Values = map[string]string{}
	}
	f.Values["preset_users"] = strings.Join(rest, ", ")
	return t
}

// trustStatement is one statement of a trust policy a preset writes.
type trustStatement struct {
	Effect    string
	Action    string
	Principal map[string][]string
	Condition map[string]map[string]string `json:",omitempty"`
}

// presetTrustPolicy writes the trust policy of a preset: the account's RAM
// users (each as its own policies allow), named RAM users, or a service.
func presetTrustPolicy(acct, preset string, users []string, service string) (string, string) {
	var principal map[string][]string
	switch preset {
	case "account":
		principal = map[string][]string{"RAM": {ram.RootARN(acct)}}
	case "users":
		var arns []string
		for _, n := range users {
			arns = append(arns, ram.UserARN(acct, n))
		}
		if len(arns) == 0 {
			return "", "Name at least one RAM user."
		}
		principal = map[string][]string{"RAM": arns}
	case "service":
		service = strings.TrimSpace(service)
		if service == "" {
			return "", "Name the service, for example ecs.aliyuncs.com."
		}
		principal = map[string][]string{"Service": {service}}
	default:
		return "", "Choose who can assume the role."
	}
	doc := struct {
		Version   string
		Statement []trustStatement
	}{"1", []trustStatement{{Effect: "Allow", Action: "sts:AssumeRole", Principal: principal}}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b), ""
}

// presetTrust is the trust policy a form's preset writes, with the
// messages of what is wrong; users are the users it names (the stored
// spelling of each that exists).
func (h *Handlers) presetTrust(c echo.Context, vals map[string]string) (doc string, users []string, errs map[string]string) {
	errs = map[string]string{}
	users = presetUsers(c)
	if vals["preset"] == "users" && len(users) > 0 {
		if len(users) > maxPresetUsers {
			errs["preset_users"] = "At most " + strconv.Itoa(maxPresetUsers) + " users here; for more, write the trust policy yourself."
			return "", users, errs
		}
		known, unknown, ok := h.resolveNames(c, "user", users)
		if ok && len(unknown) > 0 {
			errs["preset_users"] = "No user is named " + quoted(unknown) + "."
			return "", users, errs
		}
		if ok {
			users = known
		}
	}
	if vals["preset"] == "provider" {
		doc, msg := h.providerTrustPolicy(c, vals)
		if msg != "" {
			errs["preset"] = msg
		}
		return doc, users, errs
	}
	doc, msg := presetTrustPolicy(h.RAM.AccountID(ctx(c)), vals["preset"], users, vals["preset_service"])
	if msg != "" {
		errs["preset"] = msg
	}
	return doc, users, errs
}

// strayTicks is the message for users ticked (or unticked) while another
// answer than "these RAM users" is chosen: rather than a trust policy the
// person may not have meant, the form asks. from are the users the form
// started with.
func strayTicks(preset string, users, from []string) string {
	if preset == "users" {
		return ""
	}
	was := map[string]bool{}
	for _, n := range from {
		was[strings.ToLower(n)] = true
	}
	same := len(users) == len(was)
	for _, n := range users {
		same = same && was[strings.ToLower(n)]
	}
	if same {
		return ""
	}
	return "The ticked users count only with “Only these RAM users”: choose it, or leave the users as they were."
}

// RoleCreate handles POST /roles.
func (h *Handlers) RoleCreate(c echo.Context) error {
	vals := form(c, "name", "description", "max_session_duration", "preset", "preset_service", "trust_policy", "preset_provider",
		"preset_oidc_aud", "preset_oidc_sub")
	errs := map[string]string{}
	trust := vals["trust_policy"]
	users := presetUsers(c)
	if vals["preset"] != "custom" {
		trust, users, errs = h.presetTrust(c, vals)
	}
	if msg := strayTicks(vals["preset"], users, nil); msg != "" {
		errs["preset_users"] = msg
	}
	dur, err := strconv.Atoi(strings.TrimSpace(vals["max_session_duration"]))
	if err != nil {
		errs["max_session_duration"] = "Enter a whole number of seconds from 3600 to 43200."
	}
	if len(errs) > 0 {
		return h.renderRoleNew(c, http.StatusUnprocessableEntity, views.Form{Values: vals, Errors: errs}, users)
	}
	r, err := h.RAM.CreateRole(ctx(c), ActorOf(c), ram.RoleInput{RoleName: strings.TrimSpace(vals["name"]), Description: vals["description"],
		AssumeRolePolicy: trust, MaxSessionDuration: dur})
	if fields, ok := fieldErrors(err); ok {
		if vals["preset"] != "custom" && fields["trust_policy"] != "" {
			fields["preset"] = fields["trust_policy"]
		}
		return h.renderRoleNew(c, formStatus(err), views.Form{Values: vals, Errors: fields}, users)
	}
	if err != nil {
		return err
	}
	return flashDone(c, roleHref(r.RoleName), "Role "+r.RoleName+" created.")
}

// RoleShow handles GET /roles/:name.
func (h *Handlers) RoleShow(c echo.Context) error {
	a := ActorOf(c)
	r, err := h.RAM.GetRole(ctx(c), a, c.Param("name"))
	if err != nil {
		return err
	}
	base := roleHref(r.RoleName)
	m := views.RoleDetail{Layout: h.layout(c, r.RoleName), Base: base, Name: r.RoleName, RoleID: r.RoleID,
		ARN: ram.RoleARN(h.RAM.AccountID(ctx(c)), r.RoleName), Description: r.Description, MaxSession: sessionLength(r.MaxSessionDuration),
		Created: date(r.CreatedAt), Updated: date(r.UpdatedAt), TrustPolicy: indentJSON(r.AssumeRolePolicy), TrustWarning: trustWarning(r.AssumeRolePolicy),
		EditHref: base + "/edit", DeleteHref: base + "/delete", SwitchHref: base + "/switch", RevokeAction: base + "/sessions/revoke"}
	if !h.can(c, "ram:UpdateRole", ram.RoleRef(r.RoleName)) {
		m.EditHref, m.RevokeAction = "", ""
	}
	if !h.can(c, "ram:DeleteRole", ram.RoleRef(r.RoleName)) {
		m.DeleteHref = ""
	}
	if m.Policies, err = h.principalPolicies(c, "role", r.RoleName); err != nil {
		return err
	}
	m.CanSwitch = !a.Principal.IsOwner() && a.Session == nil && h.RAM.Allowed(ctx(c), a, "sts:AssumeRole", ram.RoleRef(r.RoleName))
	if !h.RAM.Allowed(ctx(c), a, "ram:GetRole", ram.RoleRef(r.RoleName)) {
		m.SessionsDenied = "ram:GetRole"
	} else {
		sessions, err := h.RAM.RoleSessions(ctx(c), a, r.RoleName)
		if err != nil {
			return err
		}
		for _, s := range sessions {
			src := s.SourceName
			if s.SourceKeyID != "" {
				src += " (" + s.SourceKeyID + ")"
			}
			m.Sessions = append(m.Sessions, views.RoleSessionRow{SessionName: s.SessionName, Source: src, KeyID: s.AccessKeyID,
				Created: date(s.CreatedAt), Expires: date(s.ExpiresAt)})
		}
	}
	return Render(c, http.StatusOK, views.RolePage(m))
}

// RoleEditForm handles GET /roles/:name/edit. The trust policy is kept
// as it is unless a preset is chosen; the "these RAM users" preset starts
// from the users it names now.
func (h *Handlers) RoleEditForm(c echo.Context) error {
	r, err := h.RAM.GetRole(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{"description": r.Description, "max_session_duration": strconv.Itoa(r.MaxSessionDuration),
		"trust_policy": indentJSON(r.AssumeRolePolicy), "preset": "custom"}}
	return h.renderRoleEdit(c, http.StatusOK, r.RoleName, f, trustedUsers(h.RAM.AccountID(ctx(c)), r.AssumeRolePolicy))
}

func (h *Handlers) renderRoleEdit(c echo.Context, status int, name string, f views.Form, users []string) error {
	m := views.RoleEdit{Layout: h.layout(c, "Edit "+name), Name: name, Form: f}
	m.Trust = h.trustUserPicker(c, &m.Form, users)
	return Render(c, status, views.RoleEditPage(m))
}

// trustedUsers are the RAM users of the account a trust policy names.
func trustedUsers(acct, doc string) []string {
	var d struct {
		Statement []struct {
			Principal struct {
				RAM json.RawMessage
			}
		}
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return nil
	}
	prefix := "acs:ram::" + acct + ":user/"
	var out []string
	for _, st := range d.Statement {
		var arns []string
		if json.Unmarshal(st.Principal.RAM, &arns) != nil {
			var one string
			if json.Unmarshal(st.Principal.RAM, &one) != nil {
				continue
			}
			arns = []string{one}
		}
		for _, arn := range arns {
			if n, ok := strings.CutPrefix(arn, prefix); ok && n != "" && n != "*" {
				out = append(out, n)
			}
		}
	}
	return out
}

// RoleUpdate handles POST /roles/:name/edit: the trust policy as written,
// or the one a chosen preset writes.
func (h *Handlers) RoleUpdate(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, "description", "max_session_duration", "trust_policy", "preset", "preset_service", "preset_provider",
		"preset_oidc_aud", "preset_oidc_sub")
	if vals["preset"] == "" {
		vals["preset"] = "custom"
	}
	cur, err := h.RAM.GetRole(ctx(c), ActorOf(c), name)
	if err != nil {
		return err
	}
	errs := map[string]string{}
	trust := vals["trust_policy"]
	users := presetUsers(c)
	if vals["preset"] != "custom" {
		trust, users, errs = h.presetTrust(c, vals)
	}
	if msg := strayTicks(vals["preset"], users, trustedUsers(h.RAM.AccountID(ctx(c)), cur.AssumeRolePolicy)); msg != "" {
		errs["preset_users"] = msg
	}
	dur, err := strconv.Atoi(strings.TrimSpace(vals["max_session_duration"]))
	if err != nil {
		errs["max_session_duration"] = "Enter a whole number of seconds from 3600 to 43200."
	}
	if len(errs) > 0 {
		return h.renderRoleEdit(c, http.StatusUnprocessableEntity, name, views.Form{Values: vals, Errors: errs}, users)
	}
	up := ram.RoleUpdate{NewDescription: ptr(vals["description"]), NewMaxSessionDuration: &dur}
	if !sameJSON(trust, cur.AssumeRolePolicy) {
		up.NewAssumeRolePolicy = ptr(trust)
	}
	r, err := h.RAM.UpdateRole(ctx(c), ActorOf(c), name, up)
	if fields, ok := fieldErrors(err); ok {
		if vals["preset"] != "custom" && fields["trust_policy"] != "" {
			fields["preset"] = fields["trust_policy"]
		}
		return h.renderRoleEdit(c, formStatus(err), name, views.Form{Values: vals, Errors: fields}, users)
	}
	if err != nil {
		return err
	}
	return flashDone(c, roleHref(r.RoleName), "Role "+r.RoleName+" updated.")
}

// sameJSON reports whether two documents say the same (as text when
// either does not parse): re-saving a trust policy unchanged must not end
// the role's sessions.
func sameJSON(a, b string) bool {
	var va, vb any
	if json.Unmarshal([]byte(a), &va) != nil || json.Unmarshal([]byte(b), &vb) != nil {
		return strings.TrimSpace(a) == strings.TrimSpace(b)
	}
	return reflect.DeepEqual(va, vb)
}

func ptr[T any](v T) *T { return &v }

// RoleDeleteForm handles GET /roles/:name/delete.
func (h *Handlers) RoleDeleteForm(c echo.Context) error {
	return h.renderRoleDelete(c, http.StatusOK, views.Form{})
}

func (h *Handlers) renderRoleDelete(c echo.Context, status int, f views.Form) error {
	r, err := h.RAM.GetRole(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	m := views.RoleDelete{Layout: h.layout(c, "Delete "+r.RoleName), Name: r.RoleName, Form: f}
	if ps, err := h.RAM.ListPoliciesForRole(ctx(c), ActorOf(c), r.RoleName); err == nil {
		m.Policies = len(ps)
	}
	return Render(c, status, views.RoleDeletePage(m))
}

// RoleDelete handles POST /roles/:name/delete; with "detach" its policies
// are detached first, each as if by hand.
func (h *Handlers) RoleDelete(c echo.Context) error {
	name := c.Param("name")
	if c.FormValue("confirm") != name {
		return h.renderRoleDelete(c, http.StatusUnprocessableEntity, views.Form{Values: map[string]string{"confirm": c.FormValue("confirm")},
			Errors: map[string]string{"confirm": "Type the role name exactly to confirm."}})
	}
	err := h.RAM.DeleteRole(ctx(c), ActorOf(c), name, checked(c, "detach"))
	if e, ok := ram.AsError(err); ok && e.Kind == ram.ECONFLICT {
		return h.renderRoleDelete(c, http.StatusConflict, views.Form{Values: map[string]string{"confirm": name},
			Errors: map[string]string{"detach": e.Message + " Tick the box to detach them with it."}})
	}
	if err != nil {
		return err
	}
	return flashDone(c, "/roles", "Role "+name+" deleted.")
}

// RoleSessionsRevoke handles POST /roles/:name/sessions/revoke: every live
// session of the role ends at once.
func (h *Handlers) RoleSessionsRevoke(c echo.Context) error {
	name := c.Param("name")
	n, err := h.RAM.RevokeRoleSessions(ctx(c), ActorOf(c), name)
	if err != nil {
		return err
	}
	return flashDone(c, roleHref(name), "Ended "+strconv.Itoa(n)+" "+map[bool]string{true: "session", false: "sessions"}[n == 1]+" of "+name+".")
}

// SwitchRoleForm handles GET /switch-role: a RAM user picks the role to
// act as among those it may switch to (?role=<name> goes straight to its
// confirmation).
func (h *Handlers) SwitchRoleForm(c echo.Context) error {
	if name := strings.TrimSpace(c.QueryParam("role")); name != "" {
		return c.Redirect(http.StatusSeeOther, roleHref(name)+"/switch")
	}
	a := ActorOf(c)
	m := views.SwitchRoleForm{Layout: h.layout(c, "Switch role")}
	switch {
	case a.Principal.IsOwner():
		m.Refusal = "The account owner does not switch roles: sign in as a RAM user to act as a role."
	case a.Session != nil:
		m.Refusal = "You act as role " + a.Session.Role.RoleName + " now: switch back first."
	default:
		roles, err := h.RAM.SwitchableRoles(ctx(c), a)
		if err != nil {
			return err
		}
		m.Roles = roles
	}
	return Render(c, http.StatusOK, views.SwitchRolePage(m))
}

// RoleSwitchForm handles GET /roles/:name/switch: what switching means,
// before the person confirms. A viewer who may read the role sees its
// description; anyone else only the name asked for, and is not recorded as
// refused GetRole: the page only looks.
func (h *Handlers) RoleSwitchForm(c echo.Context) error {
	a := ActorOf(c)
	name := c.Param("name")
	m := views.RoleSwitch{Layout: h.layout(c, "Switch to "+name), Name: name, Action: roleHref(name) + "/switch"}
	if h.can(c, "ram:GetRole", ram.RoleRef(name)) {
		if r, err := h.RAM.GetRole(ctx(c), a, name); err == nil {
			m.Name, m.Description, m.Action = r.RoleName, r.Description, roleHref(r.RoleName)+"/switch"
		}
	}
	switch {
	case a.Principal.IsOwner():
		m.Refusal = "The account owner does not switch roles: sign in as a RAM user to act as a role."
	case a.Session != nil:
		m.Refusal = "You act as role " + a.Session.Role.RoleName + " now: switch back first."
	}
	return Render(c, http.StatusOK, views.RoleSwitchPage(m))
}

// RoleSwitch handles POST /roles/:name/switch: a signed-in RAM user whose
// policies and the role's trust policy allow it acts as the role until it
// switches back (SPEC §12).
func (h *Handlers) RoleSwitch(c echo.Context) error {
	a := ActorOf(c)
	if a.Principal.IsOwner() {
		return echo.NewHTTPError(http.StatusBadRequest, "The account owner does not switch roles.")
	}
	key, err := h.RAM.SwitchRole(ctx(c), a, c.Param("name"))
	if err != nil {
		return err
	}
	s := SessionOf(c)
	if err := s.Advance(ram.StepDone); err != nil { // a new session id for the new privileges
		return err
	}
	if err := s.Set(SwitchKey, key); err != nil {
		return err
	}
	// The role's page when the role session may read it, else My account
	// (which shows the role session): never a refusal right after switching.
	next := "/me"
	if rs, err := h.RAM.SwitchedSession(ctx(c), a.Principal, key); err == nil && h.RAM.Allowed(ctx(c), rs.Act(a), "ram:GetRole", ram.RoleRef(c.Param("name"))) {
		next = roleHref(c.Param("name"))
	}
	return flashDone(c, next, "You act as role "+c.Param("name")+" now.")
}

// SwitchBack handles POST /roles/switch-back: the role session ends and the
// user acts as itself again.
func (h *Handlers) SwitchBack(c echo.Context) error {
	a := ActorOf(c)
	if err := h.RAM.SwitchBack(ctx(c), a); err != nil {
		return err
	}
	s := SessionOf(c)
	if err := s.Advance(ram.StepDone); err != nil {
		return err
	}
	if err := s.Set(SwitchKey, ""); err != nil {
		return err
	}
	msg := "You act as yourself again."
	if a.Session != nil {
		msg = "Back to " + a.Session.Session.SourceName + "."
	}
	return flashDone(c, "/me", msg)
}

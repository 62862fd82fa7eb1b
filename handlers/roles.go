package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

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
	return h.renderRoleNew(c, http.StatusOK, f)
}

func (h *Handlers) renderRoleNew(c echo.Context, status int, f views.Form) error {
	return Render(c, status, views.RoleNewPage(views.RoleForm{Layout: h.layout(c, "New role"), AccountID: h.RAM.AccountID(ctx(c)), Form: f}))
}

// trustStatement is one statement of a trust policy a preset writes.
type trustStatement struct {
	Effect    string
	Action    string
	Principal map[string][]string
}

// presetTrustPolicy writes the trust policy of a preset: the account's RAM
// users (each as its own policies allow), named RAM users, or a service.
func presetTrustPolicy(acct, preset, users, service string) (string, string) {
	var principal map[string][]string
	switch preset {
	case "account":
		principal = map[string][]string{"RAM": {"acs:ram::" + acct + ":root"}}
	case "users":
		var arns []string
		for _, n := range strings.FieldsFunc(users, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' }) {
			arns = append(arns, "acs:ram::"+acct+":user/"+n)
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

// RoleCreate handles POST /roles.
func (h *Handlers) RoleCreate(c echo.Context) error {
	vals := form(c, "name", "description", "max_session_duration", "preset", "preset_users", "preset_service", "trust_policy")
	errs := map[string]string{}
	trust := vals["trust_policy"]
	if vals["preset"] != "custom" {
		doc, msg := presetTrustPolicy(h.RAM.AccountID(ctx(c)), vals["preset"], vals["preset_users"], vals["preset_service"])
		if msg != "" {
			errs["preset"] = msg
		}
		trust = doc
	}
	dur, err := strconv.Atoi(strings.TrimSpace(vals["max_session_duration"]))
	if err != nil {
		errs["max_session_duration"] = "Enter a whole number of seconds from 3600 to 43200."
	}
	if len(errs) > 0 {
		return h.renderRoleNew(c, http.StatusUnprocessableEntity, views.Form{Values: vals, Errors: errs})
	}
	r, err := h.RAM.CreateRole(ctx(c), ActorOf(c), ram.RoleInput{RoleName: strings.TrimSpace(vals["name"]), Description: vals["description"],
		AssumeRolePolicy: trust, MaxSessionDuration: dur})
	if fields, ok := fieldErrors(err); ok {
		if vals["preset"] != "custom" && fields["trust_policy"] != "" {
			fields["preset"] = fields["trust_policy"]
		}
		return h.renderRoleNew(c, formStatus(err), views.Form{Values: vals, Errors: fields})
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
		Created: date(r.CreatedAt), Updated: date(r.UpdatedAt), TrustPolicy: indentJSON(r.AssumeRolePolicy),
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

// RoleEditForm handles GET /roles/:name/edit.
func (h *Handlers) RoleEditForm(c echo.Context) error {
	r, err := h.RAM.GetRole(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{"description": r.Description, "max_session_duration": strconv.Itoa(r.MaxSessionDuration),
		"trust_policy": indentJSON(r.AssumeRolePolicy)}}
	return Render(c, http.StatusOK, views.RoleEditPage(views.RoleEdit{Layout: h.layout(c, "Edit "+r.RoleName), Name: r.RoleName, Form: f}))
}

// RoleUpdate handles POST /roles/:name/edit.
func (h *Handlers) RoleUpdate(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, "description", "max_session_duration", "trust_policy")
	fail := func(status int, errs map[string]string) error {
		return Render(c, status, views.RoleEditPage(views.RoleEdit{Layout: h.layout(c, "Edit "+name), Name: name, Form: views.Form{Values: vals, Errors: errs}}))
	}
	dur, err := strconv.Atoi(strings.TrimSpace(vals["max_session_duration"]))
	if err != nil {
		return fail(http.StatusUnprocessableEntity, map[string]string{"max_session_duration": "Enter a whole number of seconds from 3600 to 43200."})
	}
	up := ram.RoleUpdate{NewDescription: ptr(vals["description"]), NewMaxSessionDuration: &dur}
	cur, err := h.RAM.GetRole(ctx(c), ActorOf(c), name)
	if err != nil {
		return err
	}
	if strings.TrimSpace(vals["trust_policy"]) != strings.TrimSpace(indentJSON(cur.AssumeRolePolicy)) {
		up.NewAssumeRolePolicy = ptr(vals["trust_policy"])
	}
	r, err := h.RAM.UpdateRole(ctx(c), ActorOf(c), name, up)
	if fields, ok := fieldErrors(err); ok {
		return fail(formStatus(err), fields)
	}
	if err != nil {
		return err
	}
	return flashDone(c, roleHref(r.RoleName), "Role "+r.RoleName+" updated.")
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

// SwitchRoleForm handles GET /switch-role: a RAM user names the role to act
// as (?role=<name> goes straight to its confirmation).
func (h *Handlers) SwitchRoleForm(c echo.Context) error {
	if name := strings.TrimSpace(c.QueryParam("role")); name != "" {
		return c.Redirect(http.StatusSeeOther, roleHref(name)+"/switch")
	}
	return Render(c, http.StatusOK, views.SwitchRolePage(views.SwitchRoleForm{Layout: h.layout(c, "Switch role")}))
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

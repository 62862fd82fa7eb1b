package handlers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"ramconsole/policy"
	"ramconsole/ram"
	"ramconsole/views"
)

func policyHref(policyType, name string) string {
	return "/policies/" + policyType + "/" + url.PathEscape(name)
}

// PoliciesList handles GET /policies: type filter, search, attachment counts.
func (h *Handlers) PoliciesList(c echo.Context) error {
	typ, q := c.QueryParam("type"), strings.TrimSpace(c.QueryParam("q"))
	if typ != "" && typ != ram.PolicyTypeSystem && typ != ram.PolicyTypeCustom {
		typ = ""
	}
	page, err := h.RAM.ListPolicies(ctx(c), ActorOf(c), ram.ListPoliciesInput{PolicyType: typ, Query: q, Marker: c.QueryParam("marker"), MaxItems: listPageSize})
	if e, ok := ram.AsError(err); ok && e.Kind == ram.EINVALID {
		return echo.NewHTTPError(http.StatusBadRequest, e.Message)
	}
	if err != nil {
		return err
	}
	m := views.Policies{Layout: h.layout(c, "Policies"), Type: typ, Query: q}
	m.CanCreate = h.can(c, "ram:CreatePolicy", ram.AllPoliciesRef())
	m.CanGrant = h.can(c, "ram:AttachPolicyToUser", ram.AllUsersRef(), ram.AllPoliciesRef()) ||
		h.can(c, "ram:AttachPolicyToGroup", ram.AllGroupsRef(), ram.AllPoliciesRef())
	for _, p := range page.Policies {
		m.Rows = append(m.Rows, views.PolicyRow{Name: p.PolicyName, Type: p.PolicyType, Href: policyHref(p.PolicyType, p.PolicyName),
			Description: p.Description, DefaultVersion: p.DefaultVersion, Updated: date(p.UpdateDate), Attachments: p.AttachmentCount})
	}
	if page.IsTruncated {
		v := url.Values{"marker": {page.Marker}}
		if q != "" {
			v.Set("q", q)
		}
		if typ != "" {
			v.Set("type", typ)
		}
		m.NextHref = "/policies?" + v.Encode()
	}
	return Render(c, http.StatusOK, views.PoliciesPage(m))
}

const policyTemplate = `{
  "Version": "1",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["ram:Get*", "ram:List*"],
      "Resource": "*"
    }
  ]
}`

// policyPrefillLimits are the longest name, description and document the
// new-policy form accepts from a link, in characters: CreatePolicy's own
// limits, so a pre-filled form never holds more than can be created.
var policyPrefillLimits = []struct {
	field, what string
	max         int
}{
	{"name", "policy name", 128},
	{"description", "description", 1024},
	{"document", "policy document", policy.MaxDocumentLength},
}

// PolicyNew handles GET /policies/new. A link may pre-fill the form with
// name, description and document (the policy generator's "Create policy
// from draft" does); nothing is created until the form is posted, where the
// usual validation applies. A value over its limit is not filled in: the
// field keeps its default and says why, rather than holding a cut-off
// value (a truncated document is never valid JSON).
func (h *Handlers) PolicyNew(c echo.Context) error {
	base := views.Form{Values: map[string]string{"document": policyTemplate}}
	q := c.QueryParams()
	prefill := false
	for _, l := range policyPrefillLimits {
		if _, ok := q[l.field]; ok {
			prefill = true
		}
	}
	var problems []string
	f := base
	if prefill {
		for _, l := range policyPrefillLimits {
			v, ok := q[l.field]
			if !ok {
				continue
			}
			if n := utf8.RuneCountInString(v[0]); n > l.max {
				if f.Errors == nil {
					f.Errors = map[string]string{}
				}
				msg := fmt.Sprintf("The link's %s has %d characters; at most %d are allowed, so it was not filled in.", l.what, n, l.max)
				f.Errors[l.field] = msg
				if l.field == "document" {
					problems = append(problems, msg)
				}
				continue
			}
			f.Values[l.field] = v[0]
		}
	} else {
		f = h.restoreDraft(c, "/policies", base, "name", "description", "document")
	}
	m := views.PolicyNew{Layout: h.layout(c, "New policy"), Form: f, Problems: problems}
	return Render(c, http.StatusOK, views.PolicyNewPage(m))
}

// PolicyCreate handles POST /policies. Validation messages appear next to
// the document (line and column, or the element's path); the text is kept.
func (h *Handlers) PolicyCreate(c echo.Context) error {
	vals := form(c, "name", "description", "document")
	name := strings.TrimSpace(vals["name"])
	_, err := h.RAM.CreatePolicy(ctx(c), ActorOf(c), name, vals["document"], vals["description"])
	if fields, ok := fieldErrors(err); ok {
		m := views.PolicyNew{Layout: h.layout(c, "New policy"), Form: views.Form{Values: vals, Errors: fields}, Problems: ram.PolicyProblems(err)}
		m.Excerpt = numberedExcerpt(vals["document"], m.Problems)
		if msg, ok := fields["document"]; ok && len(m.Problems) == 0 {
			m.Problems = []string{msg}
		}
		return Render(c, formStatus(err), views.PolicyNewPage(m))
	}
	if err != nil {
		return err
	}
	return flashDone(c, policyHref(ram.PolicyTypeCustom, name), "Policy "+name+" created.")
}

// PolicyShow handles GET /policies/:type/:name and, with :version, one version.
func (h *Handlers) PolicyShow(c echo.Context) error {
	return h.renderPolicy(c, http.StatusOK, views.Form{}, nil, views.Form{})
}

func (h *Handlers) renderPolicy(c echo.Context, status int, versionForm views.Form, problems []string, descForm views.Form) error {
	typ, name := c.Param("type"), c.Param("name")
	a := ActorOf(c)
	p, def, err := h.RAM.GetPolicy(ctx(c), a, typ, name)
	if e, ok := ram.AsError(err); ok && e.Kind == ram.EINVALID {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	versions, err := h.RAM.ListPolicyVersions(ctx(c), a, typ, p.PolicyName)
	if err != nil {
		return err
	}
	base := policyHref(p.PolicyType, p.PolicyName)
	shown := def
	if want := c.Param("version"); want != "" {
		shown = nil
		for i := range versions {
			if versions[i].VersionID == want {
				shown = &versions[i]
			}
		}
		if shown == nil {
			return echo.ErrNotFound
		}
	}
	m := views.PolicyDetail{Layout: h.layout(c, p.PolicyName), Base: base, Name: p.PolicyName, Type: p.PolicyType,
		Description: p.Description, DefaultVersion: p.DefaultVersion, ARN: ram.PolicyARN(h.RAM.AccountID(ctx(c)), p),
		Custom: p.PolicyType == ram.PolicyTypeCustom, VersionForm: versionForm, Problems: problems, DescForm: descForm}
	pref := []ram.Ref{ram.PolicyRef(p.PolicyType, p.PolicyName)}
	m.Can = h.permissions(c, pref, "ram:UpdatePolicyDescription", "ram:CreatePolicyVersion", "ram:SetDefaultPolicyVersion",
		"ram:DeletePolicyVersion", "ram:DeletePolicy")
	if h.can(c, "ram:AttachPolicyToUser", append(pref, ram.AllUsersRef())...) {
		m.GrantHref = "/permissions/new?" + url.Values{"policy": {p.PolicyType + ":" + p.PolicyName}}.Encode()
	}
	m.Can["detach"] = h.can(c, "ram:DetachPolicyFromUser", append(pref, ram.AllUsersRef())...) &&
		h.can(c, "ram:DetachPolicyFromGroup", append(pref, ram.AllGroupsRef())...)
	if m.DescForm.Values == nil {
		m.DescForm.Values = map[string]string{"description": p.Description}
	}
	if shown != nil {
		m.Document, m.ShownVersion = indentJSON(shown.PolicyDocument), shown.VersionID
	}
	if m.VersionForm.Values == nil && shown != nil {
		m.VersionForm.Values = map[string]string{"document": m.Document, "set_as_default": "true"}
	}
	for _, v := range versions {
		m.Versions = append(m.Versions, views.VersionRow{ID: v.VersionID, Created: date(v.CreateDate), Href: base + "/versions/" + v.VersionID,
			Default: v.IsDefaultVersion, DefaultAction: base + "/versions/" + v.VersionID + "/default", DeleteAction: base + "/versions/" + v.VersionID + "/delete"})
	}
	users, groups, roles, err := h.RAM.ListEntitiesForPolicy(ctx(c), a, p.PolicyType, p.PolicyName)
	if err != nil && ram.ErrorKind(err) != ram.EFORBIDDEN {
		return err
	}
	for _, u := range users {
		m.Entities = append(m.Entities, views.EntityRow{Kind: "User", Name: u.UserName, Href: userHref(u.UserName), Attached: date(u.AttachDate),
			DetachAction: userHref(u.UserName) + "/policies/" + p.PolicyType + "/" + url.PathEscape(p.PolicyName) + "/detach"})
	}
	for _, g := range groups {
		m.Entities = append(m.Entities, views.EntityRow{Kind: "Group", Name: g.GroupName, Href: groupHref(g.GroupName), Attached: date(g.AttachDate),
			DetachAction: groupHref(g.GroupName) + "/policies/" + p.PolicyType + "/" + url.PathEscape(p.PolicyName) + "/detach"})
	}
	for _, r := range roles {
		m.Entities = append(m.Entities, views.EntityRow{Kind: "Role", Name: r.RoleName, Href: roleHref(r.RoleName), Attached: date(r.AttachDate),
			DetachAction: roleHref(r.RoleName) + "/policies/" + p.PolicyType + "/" + url.PathEscape(p.PolicyName) + "/detach"})
	}
	return Render(c, status, views.PolicyPage(m))
}

// indentJSON shows a document indented (as stored when it does not parse).
func indentJSON(doc string) string {
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(doc), "", "  "); err != nil {
		return doc
	}
	return buf.String()
}

// PolicyDescription handles POST /policies/Custom/:name/description.
func (h *Handlers) PolicyDescription(c echo.Context) error {
	name := c.Param("name")
	desc := c.FormValue("description")
	_, err := h.RAM.UpdatePolicyDescription(ctx(c), ActorOf(c), name, desc)
	if fields, ok := fieldErrors(err); ok {
		c.SetParamNames("type", "name")
		c.SetParamValues(ram.PolicyTypeCustom, name)
		return h.renderPolicy(c, http.StatusUnprocessableEntity, views.Form{}, nil, views.Form{Values: map[string]string{"description": desc}, Errors: fields})
	}
	if err != nil {
		return err
	}
	return flashDone(c, policyHref(ram.PolicyTypeCustom, name), "Description saved.")
}

// PolicyVersionCreate handles POST /policies/Custom/:name/versions.
func (h *Handlers) PolicyVersionCreate(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, "document", "set_as_default", "rotate")
	rotate := ""
	if checked(c, "rotate") {
		rotate = "DeleteOldestNonDefaultVersionWhenLimitExceeded"
	}
	v, err := h.RAM.CreatePolicyVersion(ctx(c), ActorOf(c), name, vals["document"], checked(c, "set_as_default"), rotate)
	if e, ok := ram.AsError(err); ok && (len(e.Fields) > 0 || e.Kind == ram.ELIMIT) {
		f := views.Form{Values: vals, Errors: e.Fields}
		if e.Kind == ram.ELIMIT {
			f.Errors = map[string]string{"limit": e.Message}
		}
		c.SetParamNames("type", "name")
		c.SetParamValues(ram.PolicyTypeCustom, name)
		return h.renderPolicy(c, formStatus(err), f, ram.PolicyProblems(err), views.Form{})
	}
	if err != nil {
		return err
	}
	return flashDone(c, policyHref(ram.PolicyTypeCustom, name), "Version "+v.VersionID+" created.")
}

// PolicyVersionDefault handles POST /policies/Custom/:name/versions/:version/default.
func (h *Handlers) PolicyVersionDefault(c echo.Context) error {
	name, v := c.Param("name"), c.Param("version")
	if err := h.RAM.SetDefaultPolicyVersion(ctx(c), ActorOf(c), name, v); err != nil {
		return err
	}
	return flashDone(c, policyHref(ram.PolicyTypeCustom, name), v+" is now the default version.")
}

// PolicyVersionDelete handles POST /policies/Custom/:name/versions/:version/delete.
func (h *Handlers) PolicyVersionDelete(c echo.Context) error {
	name, v := c.Param("name"), c.Param("version")
	if err := h.RAM.DeletePolicyVersion(ctx(c), ActorOf(c), name, v); err != nil {
		return err
	}
	return flashDone(c, policyHref(ram.PolicyTypeCustom, name), "Version "+v+" deleted.")
}

// PolicyDeleteForm handles GET /policies/Custom/:name/delete.
func (h *Handlers) PolicyDeleteForm(c echo.Context) error {
	return h.renderPolicyDelete(c, http.StatusOK, views.Form{})
}

func (h *Handlers) renderPolicyDelete(c echo.Context, status int, f views.Form) error {
	a := ActorOf(c)
	p, _, err := h.RAM.GetPolicy(ctx(c), a, ram.PolicyTypeCustom, c.Param("name"))
	if err != nil {
		return err
	}
	versions, err := h.RAM.ListPolicyVersions(ctx(c), a, ram.PolicyTypeCustom, p.PolicyName)
	if err != nil {
		return err
	}
	m := views.PolicyDelete{Layout: h.layout(c, "Delete "+p.PolicyName), Name: p.PolicyName, Attachments: p.AttachmentCount,
		OldVersions: len(versions) - 1, Form: f}
	return Render(c, status, views.PolicyDeletePage(m))
}

// PolicyDelete handles POST /policies/Custom/:name/delete.
func (h *Handlers) PolicyDelete(c echo.Context) error {
	name := c.Param("name")
	if c.FormValue("confirm") != name {
		return h.renderPolicyDelete(c, http.StatusUnprocessableEntity, views.Form{Values: map[string]string{"confirm": c.FormValue("confirm")},
			Errors: map[string]string{"confirm": "Type the policy name exactly to confirm."}})
	}
	err := h.RAM.DeletePolicy(ctx(c), ActorOf(c), name, checked(c, "cleanup"))
	if e, ok := ram.AsError(err); ok && e.Kind == ram.ECONFLICT {
		return h.renderPolicyDelete(c, http.StatusConflict, views.Form{Values: map[string]string{"confirm": name},
			Errors: map[string]string{"cleanup": e.Message + " Tick the box to clean up first."}})
	}
	if err != nil {
		return err
	}
	return flashDone(c, "/policies", "Policy "+name+" deleted.")
}

// lineRE finds the line a validator's message points at ("line 3, column 7").
var lineRE = regexp.MustCompile(`\bline (\d+)`)

// numberedExcerpt is the part of a document the problems point at: each
// named line with the one before and after, numbered, the named ones marked.
func numberedExcerpt(doc string, problems []string) []views.NumberedLine {
	lines := strings.Split(doc, "\n")
	bad := map[int]bool{}
	for _, p := range problems {
		if m := lineRE.FindStringSubmatch(p); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 && n <= len(lines) {
				bad[n] = true
			}
		}
	}
	var out []views.NumberedLine
	for n := 1; n <= len(lines) && len(out) < 30; n++ {
		if bad[n] || bad[n-1] || bad[n+1] {
			text := strings.TrimRight(lines[n-1], "\r")
			if len(text) > 200 {
				text = text[:200] + "…"
			}
			out = append(out, views.NumberedLine{No: n, Text: text, Bad: bad[n]})
		}
	}
	return out
}

// principalPolicies fills the policies section of a user's, group's or role's page.
func (h *Handlers) principalPolicies(c echo.Context, kind, name string) (views.PrincipalPolicies, error) {
	a := ActorOf(c)
	pk := principalKinds[kind]
	base := pk.href(name)
	m := views.PrincipalPolicies{AttachAction: base + "/policies", CSRFToken: SessionOf(c).CSRFToken()}
	attachAction, detachAction := attachActions[kind][0], attachActions[kind][1]
	m.CanAttach = h.can(c, attachAction, pk.ref(name), ram.AllPoliciesRef())
	m.CanDetach = h.can(c, detachAction, pk.ref(name), ram.AllPoliciesRef())
	if !m.CanAttach {
		m.AttachNeeds = attachAction
	}
	if !m.CanDetach {
		m.DetachNeeds = detachAction
	}
	m.PickerHref = "/permissions/new?" + url.Values{"kind": {kind}, kind: {name}}.Encode()
	list, action, ref := pk.list(h.RAM), pk.listAction, pk.ref(name)
	if !h.RAM.Allowed(ctx(c), a, action, ref) {
		m.Denied = action // the page says what the viewer would need; looking is not audited
		return m, nil
	}
	attached, err := list(ctx(c), a, name)
	if err != nil {
		return m, err
	}
	for _, p := range attached {
		m.Attached = append(m.Attached, views.AttachedPolicy{Name: p.PolicyName, Type: p.PolicyType, Href: policyHref(p.PolicyType, p.PolicyName),
			Attached: date(p.AttachDate), DetachAction: base + "/policies/" + p.PolicyType + "/" + url.PathEscape(p.PolicyName) + "/detach"})
	}
	if kind == "user" {
		m.UserName = name
		eff, err := h.RAM.EffectivePolicies(ctx(c), a, name)
		if err != nil && ram.ErrorKind(err) != ram.EFORBIDDEN {
			return m, err
		}
		for _, p := range eff {
			via := "attached to the user"
			if p.Via != "" {
				via = "group " + p.Via
			}
			m.Effective = append(m.Effective, views.AttachedPolicy{Name: p.PolicyName, Type: p.PolicyType, Href: policyHref(p.PolicyType, p.PolicyName), Via: via})
		}
	}
	return m, nil
}

// attachActions are each principal kind's attach and detach actions.
var attachActions = map[string][2]string{
	"user":  {"ram:AttachPolicyToUser", "ram:DetachPolicyFromUser"},
	"group": {"ram:AttachPolicyToGroup", "ram:DetachPolicyFromGroup"},
	"role":  {"ram:AttachPolicyToRole", "ram:DetachPolicyFromRole"},
}

// principalKind is what the policy handlers need to know of the principals
// policies attach to: users, groups and roles.
type principalKind struct {
	href       func(string) string
	ref        func(string) ram.Ref
	listAction string
	list       func(*ram.Service) func(context.Context, ram.Actor, string) ([]ram.Policy, error)
	attach     func(*ram.Service) func(context.Context, ram.Actor, string, string, string) error
	detach     func(*ram.Service) func(context.Context, ram.Actor, string, string, string) error
}

var principalKinds = map[string]principalKind{
	"user": {href: userHref, ref: ram.UserRef, listAction: "ram:ListPoliciesForUser",
		list: func(s *ram.Service) func(context.Context, ram.Actor, string) ([]ram.Policy, error) {
			return s.ListPoliciesForUser
		},
		attach: func(s *ram.Service) func(context.Context, ram.Actor, string, string, string) error {
			return s.AttachPolicyToUser
		},
		detach: func(s *ram.Service) func(context.Context, ram.Actor, string, string, string) error {
			return s.DetachPolicyFromUser
		}},
	"group": {href: groupHref, ref: ram.GroupRef, listAction: "ram:ListPoliciesForGroup",
		list: func(s *ram.Service) func(context.Context, ram.Actor, string) ([]ram.Policy, error) {
			return s.ListPoliciesForGroup
		},
		attach: func(s *ram.Service) func(context.Context, ram.Actor, string, string, string) error {
			return s.AttachPolicyToGroup
		},
		detach: func(s *ram.Service) func(context.Context, ram.Actor, string, string, string) error {
			return s.DetachPolicyFromGroup
		}},
	"role": {href: roleHref, ref: ram.RoleRef, listAction: "ram:ListPoliciesForRole",
		list: func(s *ram.Service) func(context.Context, ram.Actor, string) ([]ram.Policy, error) {
			return s.ListPoliciesForRole
		},
		attach: func(s *ram.Service) func(context.Context, ram.Actor, string, string, string) error {
			return s.AttachPolicyToRole
		},
		detach: func(s *ram.Service) func(context.Context, ram.Actor, string, string, string) error {
			return s.DetachPolicyFromRole
		}},
}

// PolicyAttach handles POST /users/:name/policies, /groups/:name/policies
// and /roles/:name/policies with policy_type and policy_name, or with
// several policy values ("System:Name") from a picker.
func (h *Handlers) PolicyAttach(kind string) echo.HandlerFunc {
	pk := principalKinds[kind]
	return func(c echo.Context) error {
		name := c.Param("name")
		back := pk.href(name)
		policies := FormPolicies(c)
		if len(policies) == 0 {
			policies = [][2]string{{c.FormValue("policy_type"), ""}}
		}
		if len(policies) > maxGrantPolicies {
			return echo.NewHTTPError(http.StatusBadRequest, "At most 5 policies at a time.")
		}
		var attached []string
		for _, p := range policies {
			err := pk.attach(h.RAM)(ctx(c), ActorOf(c), p[0], p[1], name)
			if e, ok := ram.AsError(err); ok && e.Code == "EntityNotExist.Policy" && len(policies) == 1 && p[1] != "" && len(p[1]) <= maxNameLength {
				// A mistyped name: the panel keeps it as its search and suggests the nearest.
				return redirect(c, "/permissions/new?"+url.Values{"kind": {kind}, kind: {name}, "q": {p[1]}, "missing": {p[1]}}.Encode())
			}
			if err != nil {
				if len(attached) > 0 {
					_ = SessionOf(c).AddFlash(flashErrorPrefix + strings.Join(attached, ", ") + " attached; " + p[1] + ": " + errMessage(err))
					return redirect(c, back)
				}
				return h.membershipError(c, err, back)
			}
			attached = append(attached, p[1])
		}
		msg := "Policy " + attached[0] + " attached."
		if len(attached) > 1 {
			msg = "Policies " + strings.Join(attached, ", ") + " attached."
		}
		return flashDone(c, back, msg)
	}
}

// PolicyDetach handles POST …/:name/policies/:type/:policy/detach for users,
// groups and roles (the grants page's revoke, with from=grants).
func (h *Handlers) PolicyDetach(kind string) echo.HandlerFunc {
	pk := principalKinds[kind]
	return func(c echo.Context) error {
		name, typ, policyName := c.Param("name"), c.Param("type"), c.Param("policy")
		back := pk.href(name)
		if err := pk.detach(h.RAM)(ctx(c), ActorOf(c), typ, policyName, name); err != nil {
			return err
		}
		if c.FormValue("from") == "grants" {
			back = "/grants"
		}
		if c.FormValue("from") == "policy" {
			back = policyHref(typ, policyName)
		}
		return flashDone(c, back, "Policy "+policyName+" detached.")
	}
}

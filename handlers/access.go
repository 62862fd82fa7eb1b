package handlers

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// The access review's console pages (SPEC §16.2–16.6): a principal's and a
// policy's use, the unused list and its CSV, and the least-privilege draft.
// Each answers HTML, or JSON when the request's Accept asks for it. The
// domain authorises and records every view; these handlers only read the
// parameters and shape the answer.

// accessTime is a time of the access pages: RFC 3339 UTC with seconds.
func accessTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// accessTimeJSON is a time of the JSON answers: null for never.
func accessTimeJSON(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := accessTime(t)
	return &s
}

// accessTimeHTML is a time of the pages: "Never" for never.
func accessTimeHTML(t time.Time) string {
	if t.IsZero() {
		return "Never"
	}
	return accessTime(t)
}

func count(n int64) string { return strconv.FormatInt(n, 10) }

// orEmpty keeps a JSON list a list when it has nothing.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// accessFailure answers an access page's error. Bad input is a 400: the
// JSON {"errors":[…]}, or the page again (page) with its field messages.
// For JSON, an unknown principal or policy is a 404 and a refusal a 403
// with the same list; for HTML they, and anything else, go to the error
// pages.
func accessFailure(c echo.Context, err error, page func(fields map[string]string) error) error {
	e, ok := ram.AsError(err)
	if !ok {
		return err
	}
	status := 0
	switch e.Kind {
	case ram.EINVALID:
		status = http.StatusBadRequest
	case ram.ENOTFOUND:
		status = http.StatusNotFound
	case ram.EFORBIDDEN:
		status = http.StatusForbidden
	}
	switch {
	case status == 0:
		return err
	case wantsJSON(c):
		return c.JSON(status, map[string][]string{"errors": {e.Detail()}})
	case status == http.StatusBadRequest && len(e.Fields) > 0:
		return page(e.Fields)
	}
	return err
}

// accessWindowView is the page's period and days form.
func accessWindowView(action, days string, w *ram.AccessWindow, fields map[string]string) views.AccessWindowView {
	v := views.AccessWindowView{Action: action, Form: views.Form{Values: map[string]string{"days": days}, Errors: fields}}
	if w != nil {
		v.Days, v.From, v.To = strconv.Itoa(w.Days), accessTime(w.From), accessTime(w.To)
		if days == "" {
			v.Form.Values["days"] = v.Days
		}
	}
	return v
}

// principalAccessJSON is the JSON of a principal's access page (§16.3).
type principalAccessJSON struct {
	Principal     string             `json:"principal"`
	PrincipalType string             `json:"principalType"`
	Name          string             `json:"name"`
	Days          int                `json:"days"`
	From          string             `json:"from"`
	To            string             `json:"to"`
	Actions       []accessActionJSON `json:"actions"`
}

type accessActionJSON struct {
	Action       string   `json:"action"`
	Service      string   `json:"service"`
	Granted      bool     `json:"granted"`
	AllowedCount int64    `json:"allowedCount"`
	DeniedCount  int64    `json:"deniedCount"`
	LastAllowed  *string  `json:"lastAllowed"`
	LastDenied   *string  `json:"lastDenied"`
	Resources    []string `json:"resources"`
}

// PrincipalAccess handles GET /users/:name/access, /groups/:name/access
// and /roles/:name/access (kind: ram.AccessUser, AccessGroup, AccessRole).
func (h *Handlers) PrincipalAccess(kind string) echo.HandlerFunc {
	hrefOf := map[string]func(string) string{ram.AccessUser: userHref, ram.AccessGroup: groupHref, ram.AccessRole: roleHref}[kind]
	return func(c echo.Context) error {
		name, days := c.Param("name"), c.QueryParam("days")
		base := hrefOf(name)
		page := func(fields map[string]string) error {
			m := views.PrincipalAccess{Layout: h.layout(c, "Access of "+name), Window: accessWindowView(base+"/access", days, nil, fields),
				Invalid: true, Kind: kind, Name: name, Href: base}
			return Render(c, http.StatusBadRequest, views.PrincipalAccessPage(m))
		}
		w, err := h.RAM.AccessWindow(days)
		if err != nil {
			return accessFailure(c, err, page)
		}
		pa, err := h.RAM.PrincipalAccess(ctx(c), ActorOf(c), kind, name, w)
		if err != nil {
			return accessFailure(c, err, page)
		}
		if wantsJSON(c) {
			out := principalAccessJSON{Principal: pa.Principal, PrincipalType: pa.PrincipalType, Name: pa.Name, Days: w.Days,
				From: accessTime(w.From), To: accessTime(w.To), Actions: make([]accessActionJSON, 0, len(pa.Actions))}
			for _, a := range pa.Actions {
				out.Actions = append(out.Actions, accessActionJSON{Action: a.Action, Service: a.Service, Granted: a.Granted,
					AllowedCount: a.AllowedCount, DeniedCount: a.DeniedCount, LastAllowed: accessTimeJSON(a.LastAllowed),
					LastDenied: accessTimeJSON(a.LastDenied), Resources: orEmpty(a.Resources)})
			}
			return c.JSON(http.StatusOK, out)
		}
		base = hrefOf(pa.Name)
		m := views.PrincipalAccess{Layout: h.layout(c, "Access of "+pa.Name), Window: accessWindowView(base+"/access", days, &w, nil),
			Kind: kind, Name: pa.Name, ARN: pa.Principal, Href: base}
		if kind != ram.AccessGroup && h.can(c, ram.ActionGenerateServiceLastAccessedDetails, ram.AnyRef()) {
			m.GenerateHref = "/policies/generate?" + url.Values{"principal": {kind + "/" + pa.Name}}.Encode()
		}
		m.Rows = accessRows(pa.Actions, w.Days)
		return Render(c, http.StatusOK, views.PrincipalAccessPage(m))
	}
}

// accessRows orders a principal's actions as the page shows them: used,
// then granted but unused, then tried but not allowed; each group by
// action.
func accessRows(actions []ram.AccessAction, days int) []views.AccessRow {
	groups := map[string][]views.AccessRow{}
	for _, a := range actions {
		r := views.AccessRow{Action: a.Action, Service: a.Service, Granted: a.Granted, Allowed: count(a.AllowedCount),
			Denied: count(a.DeniedCount), LastAllowed: accessTimeHTML(a.LastAllowed), LastDenied: accessTimeHTML(a.LastDenied),
			Resources: a.Resources}
		switch {
		case a.Used():
			r.Group, r.Status = views.AccessUsed, "Used"
		case a.Granted:
			r.Group, r.Status = views.AccessUnused, "Never used in "+strconv.Itoa(days)+" days"
		default:
			r.Group, r.Status = views.AccessDenied, "Tried but not allowed"
		}
		groups[r.Group] = append(groups[r.Group], r)
	}
	rows := make([]views.AccessRow, 0, len(actions))
	for _, g := range []string{views.AccessUsed, views.AccessUnused, views.AccessDenied} {
		rows = append(rows, groups[g]...)
	}
	return rows
}

// policyAccessJSON is the JSON of a policy's statement-use page (§16.4).
type policyAccessJSON struct {
	PolicyType string             `json:"policyType"`
	PolicyName string             `json:"policyName"`
	Version    string             `json:"version"`
	Days       int                `json:"days"`
	Statements []statementUseJSON `json:"statements"`
}

type statementUseJSON struct {
	Statement  int                      `json:"statement"`
	Effect     string                   `json:"effect"`
	Count      int64                    `json:"count"`
	LastUsed   *string                  `json:"lastUsed"`
	Principals []statementPrincipalJSON `json:"principals"`
}

type statementPrincipalJSON struct {
	Principal string  `json:"principal"`
	Type      string  `json:"type"`
	Name      string  `json:"name"`
	Count     int64   `json:"count"`
	LastUsed  *string `json:"lastUsed"`
}

// PolicyAccess handles GET /policies/:type/:name/access.
func (h *Handlers) PolicyAccess(c echo.Context) error {
	policyType, name, days := c.Param("type"), c.Param("name"), c.QueryParam("days")
	base := policyHref(policyType, name)
	page := func(fields map[string]string) error {
		m := views.PolicyAccess{Layout: h.layout(c, "Statement use of "+name), Window: accessWindowView(base+"/access", days, nil, fields),
			Invalid: true, PolicyType: policyType, PolicyName: name, Href: base}
		return Render(c, http.StatusBadRequest, views.PolicyAccessPage(m))
	}
	w, err := h.RAM.AccessWindow(days)
	if err != nil {
		return accessFailure(c, err, page)
	}
	pa, err := h.RAM.PolicyAccess(ctx(c), ActorOf(c), policyType, name, w)
	if err != nil {
		return accessFailure(c, err, page)
	}
	if wantsJSON(c) {
		out := policyAccessJSON{PolicyType: pa.PolicyType, PolicyName: pa.PolicyName, Version: pa.Version, Days: w.Days,
			Statements: make([]statementUseJSON, 0, len(pa.Statements))}
		for _, s := range pa.Statements {
			st := statementUseJSON{Statement: s.Statement, Effect: s.Effect, Count: s.Count, LastUsed: accessTimeJSON(s.LastUsed),
				Principals: make([]statementPrincipalJSON, 0, len(s.Principals))}
			for _, p := range s.Principals {
				st.Principals = append(st.Principals, statementPrincipalJSON{Principal: p.Principal, Type: p.Type, Name: p.Name,
					Count: p.Count, LastUsed: accessTimeJSON(p.LastUsed)})
			}
			out.Statements = append(out.Statements, st)
		}
		return c.JSON(http.StatusOK, out)
	}
	base = policyHref(pa.PolicyType, pa.PolicyName)
	m := views.PolicyAccess{Layout: h.layout(c, "Statement use of "+pa.PolicyName), Window: accessWindowView(base+"/access", days, &w, nil),
		PolicyType: pa.PolicyType, PolicyName: pa.PolicyName, Version: pa.Version, Href: base}
	for _, s := range pa.Statements {
		r := views.StatementUseRow{Statement: strconv.Itoa(s.Statement), Effect: s.Effect, Count: count(s.Count), LastUsed: accessTimeHTML(s.LastUsed)}
		for _, p := range s.Principals {
			pr := views.StatementPrincipalRow{Type: p.Type, Name: p.Name, Count: count(p.Count), LastUsed: accessTimeHTML(p.LastUsed)}
			switch p.Type {
			case ram.AccessUser:
				pr.Href = userHref(p.Name)
			case ram.AccessRole:
				pr.Href = roleHref(p.Name)
			}
			r.Principals = append(r.Principals, pr)
		}
		m.Rows = append(m.Rows, r)
	}
	return Render(c, http.StatusOK, views.PolicyAccessPage(m))
}

// unusedAccessJSON is the JSON of the unused list (§16.5).
type unusedAccessJSON struct {
	Days       int                   `json:"days"`
	AsOf       string                `json:"asOf"`
	Users      []unusedUserJSON      `json:"users"`
	AccessKeys []unusedKeyJSON       `json:"accessKeys"`
	Roles      []unusedRoleJSON      `json:"roles"`
	Policies   []unusedPolicyJSON    `json:"policies"`
	Statements []unusedStatementJSON `json:"statements"`
}

type unusedUserJSON struct {
	UserName     string  `json:"userName"`
	UserID       string  `json:"userId"`
	ConsoleLogin bool    `json:"consoleLogin"`
	LastLogin    *string `json:"lastLogin"`
	LastActivity *string `json:"lastActivity"`
}

type unusedKeyJSON struct {
	UserName    string  `json:"userName"`
	AccessKeyID string  `json:"accessKeyId"`
	Status      string  `json:"status"`
	CreateDate  string  `json:"createDate"`
	LastUsed    *string `json:"lastUsed"`
}

type unusedRoleJSON struct {
	RoleName string  `json:"roleName"`
	LastUsed *string `json:"lastUsed"`
}

type unusedPolicyJSON struct {
	PolicyType string  `json:"policyType"`
	PolicyName string  `json:"policyName"`
	LastUsed   *string `json:"lastUsed"`
}

type unusedStatementJSON struct {
	PolicyType string `json:"policyType"`
	PolicyName string `json:"policyName"`
	Version    string `json:"version"`
	Statement  int    `json:"statement"`
}

// UnusedAccess handles GET /access/unused.
func (h *Handlers) UnusedAccess(c echo.Context) error {
	days := c.QueryParam("days")
	page := func(fields map[string]string) error {
		m := views.UnusedAccess{Layout: h.layout(c, "Unused access"), Window: accessWindowView("/access/unused", days, nil, fields), Invalid: true}
		return Render(c, http.StatusBadRequest, views.UnusedAccessPage(m))
	}
	w, err := h.RAM.AccessWindow(days)
	if err != nil {
		return accessFailure(c, err, page)
	}
	format := "html"
	if wantsJSON(c) {
		format = "json"
	}
	u, err := h.RAM.UnusedAccess(ctx(c), ActorOf(c), w, format)
	if err != nil {
		return accessFailure(c, err, page)
	}
	if format == "json" {
		return c.JSON(http.StatusOK, unusedJSON(u))
	}
	m := views.UnusedAccess{Layout: h.layout(c, "Unused access"), Window: accessWindowView("/access/unused", days, &w, nil),
		AsOf: accessTime(u.AsOf), CSVHref: "/access/unused.csv?" + url.Values{"days": {strconv.Itoa(w.Days)}}.Encode()}
	for _, x := range u.Users {
		m.Users = append(m.Users, views.UnusedUserRow{Name: x.UserName, Href: userHref(x.UserName), ConsoleLogin: x.ConsoleLogin,
			LastLogin: accessTimeHTML(x.LastLogin), LastActivity: accessTimeHTML(x.LastActivity)})
	}
	for _, x := range u.AccessKeys {
		m.AccessKeys = append(m.AccessKeys, views.UnusedKeyRow{UserName: x.UserName, UserHref: userHref(x.UserName), AccessKeyID: x.AccessKeyID,
			Status: x.Status, Created: accessTimeHTML(x.CreateDate), LastUsed: accessTimeHTML(x.LastUsed)})
	}
	for _, x := range u.Roles {
		m.Roles = append(m.Roles, views.UnusedNamedRow{Name: x.RoleName, Href: roleHref(x.RoleName), LastUsed: accessTimeHTML(x.LastUsed)})
	}
	for _, x := range u.Policies {
		m.Policies = append(m.Policies, views.UnusedNamedRow{Name: x.PolicyName, Type: x.PolicyType, Href: policyHref(x.PolicyType, x.PolicyName),
			LastUsed: accessTimeHTML(x.LastUsed)})
	}
	for _, x := range u.Statements {
		m.Statements = append(m.Statements, views.UnusedStatementRow{PolicyType: x.PolicyType, PolicyName: x.PolicyName,
			Href: policyHref(x.PolicyType, x.PolicyName) + "/access", Version: x.Version, Statement: strconv.Itoa(x.Statement)})
	}
	return Render(c, http.StatusOK, views.UnusedAccessPage(m))
}

// unusedJSON is the unused list's JSON, every list a list.
func unusedJSON(u *ram.UnusedAccess) unusedAccessJSON {
	out := unusedAccessJSON{Days: u.Window.Days, AsOf: accessTime(u.AsOf), Users: []unusedUserJSON{}, AccessKeys: []unusedKeyJSON{},
		Roles: []unusedRoleJSON{}, Policies: []unusedPolicyJSON{}, Statements: []unusedStatementJSON{}}
	for _, x := range u.Users {
		out.Users = append(out.Users, unusedUserJSON{UserName: x.UserName, UserID: x.UserID, ConsoleLogin: x.ConsoleLogin,
			LastLogin: accessTimeJSON(x.LastLogin), LastActivity: accessTimeJSON(x.LastActivity)})
	}
	for _, x := range u.AccessKeys {
		out.AccessKeys = append(out.AccessKeys, unusedKeyJSON{UserName: x.UserName, AccessKeyID: x.AccessKeyID, Status: x.Status,
			CreateDate: accessTime(x.CreateDate), LastUsed: accessTimeJSON(x.LastUsed)})
	}
	for _, x := range u.Roles {
		out.Roles = append(out.Roles, unusedRoleJSON{RoleName: x.RoleName, LastUsed: accessTimeJSON(x.LastUsed)})
	}
	for _, x := range u.Policies {
		out.Policies = append(out.Policies, unusedPolicyJSON{PolicyType: x.PolicyType, PolicyName: x.PolicyName, LastUsed: accessTimeJSON(x.LastUsed)})
	}
	for _, x := range u.Statements {
		out.Statements = append(out.Statements, unusedStatementJSON{PolicyType: x.PolicyType, PolicyName: x.PolicyName, Version: x.Version,
			Statement: x.Statement})
	}
	return out
}

// UnusedAccessCSV handles GET /access/unused.csv: the unused list, one row
// per entry, each cell neutralised as the audit export's are.
func (h *Handlers) UnusedAccessCSV(c echo.Context) error {
	w, err := h.RAM.AccessWindow(c.QueryParam("days"))
	if err != nil {
		return accessCSVFailure(c, err)
	}
	u, err := h.RAM.UnusedAccess(ctx(c), ActorOf(c), w, "csv")
	if err != nil {
		return accessCSVFailure(c, err)
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	for _, row := range u.CSVRows() {
		for i := range row {
			row[i] = neutralise(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="unused-access.csv"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// accessCSVFailure answers the CSV's errors: a bad days is a 400 with its
// message as text; the rest as the pages answer them.
func accessCSVFailure(c echo.Context, err error) error {
	if e, ok := ram.AsError(err); ok && e.Kind == ram.EINVALID && !wantsJSON(c) {
		return c.String(http.StatusBadRequest, e.Detail())
	}
	return accessFailure(c, err, nil)
}

// policyDraftJSON is the JSON of a least-privilege draft (§16.6).
type policyDraftJSON struct {
	Principal      string           `json:"principal"`
	From           string           `json:"from"`
	To             string           `json:"to"`
	Document       json.RawMessage  `json:"document"`
	Observed       int              `json:"observed"`
	AllowedByDraft int              `json:"allowedByDraft"`
	Calls          []draftCallJSON  `json:"calls"`
	Denied         []deniedCallJSON `json:"denied"`
}

type draftCallJSON struct {
	Action         string   `json:"action"`
	Resources      []string `json:"resources"`
	Count          int64    `json:"count"`
	AllowedByDraft bool     `json:"allowedByDraft"`
}

type deniedCallJSON struct {
	Action    string   `json:"action"`
	Resources []string `json:"resources"`
	Count     int64    `json:"count"`
}

// draftFields are the draft form's fields.
var draftFields = []string{"principal", "from", "to"}

// GeneratePolicy handles GET /policies/generate: without a principal, the
// form; with one, the draft from its allowed requests between from and to
// and the replay that proves it, with a link to create it as a policy.
func (h *Handlers) GeneratePolicy(c echo.Context) error {
	vals := map[string]string{}
	for _, f := range draftFields {
		vals[f] = c.QueryParam(f)
	}
	page := func(status int, m views.GeneratedPolicy) error {
		m.Layout, m.Form.Values = h.layout(c, "Draft a least-privilege policy"), vals
		return Render(c, status, views.GeneratedPolicyPage(m))
	}
	if _, named := c.QueryParams()["principal"]; !named && !wantsJSON(c) {
		// The empty form: the viewer must be one who may draft.
		if err := h.RAM.MayDraft(ctx(c), ActorOf(c)); err != nil {
			return err
		}
		return page(http.StatusOK, views.GeneratedPolicy{})
	}
	d, err := h.RAM.GeneratePolicy(ctx(c), ActorOf(c), vals["principal"], vals["from"], vals["to"])
	if err != nil {
		return accessFailure(c, err, func(fields map[string]string) error {
			return page(http.StatusBadRequest, views.GeneratedPolicy{Form: views.Form{Errors: fields}})
		})
	}
	from, to := accessTime(d.From), accessTime(d.To)
	if wantsJSON(c) {
		out := policyDraftJSON{Principal: d.Principal, From: from, To: to, Document: json.RawMessage(d.Document),
			Observed: d.Observed, AllowedByDraft: d.AllowedByDraft, Calls: make([]draftCallJSON, 0, len(d.Calls)),
			Denied: make([]deniedCallJSON, 0, len(d.Denied))}
		for _, x := range d.Calls {
			out.Calls = append(out.Calls, draftCallJSON{Action: x.Action, Resources: orEmpty(x.Resources), Count: x.Count, AllowedByDraft: x.AllowedByDraft})
		}
		for _, x := range d.Denied {
			out.Denied = append(out.Denied, deniedCallJSON{Action: x.Action, Resources: orEmpty(x.Resources), Count: x.Count})
		}
		return c.JSON(http.StatusOK, out)
	}
	m := views.GeneratedPolicy{Drafted: true, ARN: d.Principal, From: from, To: to, Document: d.Pretty,
		Observed: strconv.Itoa(d.Observed), AllowedByDraft: strconv.Itoa(d.AllowedByDraft), Proven: d.Proven(),
		MayCreate: h.can(c, "ram:CreatePolicy", ram.AllPoliciesRef())}
	if m.Document == "" {
		m.Document = d.Document
	}
	if m.Proven && m.MayCreate {
		m.CreateHref = "/policies/new?" + url.Values{"document": {d.Document},
			"description": {"Generated from " + d.PrincipalName + "'s activity " + from + " – " + to}}.Encode()
	}
	for _, x := range d.Calls {
		m.Calls = append(m.Calls, views.DraftCallRow{Action: x.Action, Resources: x.Resources, Count: count(x.Count), Replayed: yesNo(x.AllowedByDraft)})
	}
	for _, x := range d.Denied {
		m.Denied = append(m.Denied, views.DraftCallRow{Action: x.Action, Resources: x.Resources, Count: count(x.Count)})
	}
	return page(http.StatusOK, m)
}

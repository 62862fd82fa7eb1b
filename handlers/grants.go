package handlers

import (
	"bufio"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// grantsPageSize is the number of grants on one page.
const grantsPageSize = 50

// grantFields are the grants filter's query parameters, in the form's order.
var grantFields = []string{"q", "principal_type", "policy_type", "policy"}

// grantKindLabels name each principal kind for people.
var grantKindLabels = map[string]string{"user": "User", "group": "Group", "role": "Role"}

// grantsFilter reads the filter from the query string. The form keeps what
// was typed, cut to a readable length.
func grantsFilter(c echo.Context) (ram.GrantsInput, views.Form) {
	f := views.Form{Values: map[string]string{}}
	raw := map[string]string{}
	for _, name := range grantFields {
		raw[name] = strings.TrimSpace(c.QueryParam(name))
		f.Values[name] = cutBytes(raw[name], 2*ram.MaxGrantQuery)
	}
	in := ram.GrantsInput{Query: raw["q"], PrincipalType: raw["principal_type"], PolicyType: raw["policy_type"], PolicyName: raw["policy"],
		Cursor: c.QueryParam("cursor"), Size: grantsPageSize}
	return in, f
}

// cutBytes shortens s to at most n bytes without splitting a character.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// grantsQuery is the filter as a query string, without the cursor.
func grantsQuery(f views.Form) url.Values {
	q := url.Values{}
	for _, name := range grantFields {
		if v := f.Values[name]; v != "" {
			q.Set(name, v)
		}
	}
	return q
}

// grantJSON is one grant in the page's JSON (SPEC §5).
type grantJSON struct {
	PrincipalType string `json:"principalType"`
	PrincipalName string `json:"principalName"`
	PolicyType    string `json:"policyType"`
	PolicyName    string `json:"policyName"`
	AttachDate    string `json:"attachDate"`
}

// grantsJSON is the page's JSON: the grants and the next page's cursor.
type grantsJSON struct {
	Grants []grantJSON `json:"grants"`
	Next   string      `json:"next"`
}

// errorsJSON lists a refused filter's messages, each after its field.
func errorsJSON(fields map[string]string, order []string) map[string][]string {
	var errs []string
	for _, name := range order {
		if msg, ok := fields[name]; ok {
			errs = append(errs, name+": "+msg)
		}
	}
	return map[string][]string{"errors": errs}
}

// GrantsList handles GET /grants: every policy attachment of the account,
// newest first, filtered by a search, a principal kind, a policy type and
// a policy, paged by a cursor; JSON to Accept: application/json.
func (h *Handlers) GrantsList(c echo.Context) error {
	in, form := grantsFilter(c)
	page, err := h.RAM.ListGrants(ctx(c), ActorOf(c), in)
	if fields, ok := fieldErrors(err); ok {
		if wantsJSON(c) {
			return c.JSON(http.StatusUnprocessableEntity, errorsJSON(fields, append(grantFields, "cursor")))
		}
		form.Errors = fields
		return h.renderGrants(c, http.StatusUnprocessableEntity, form, nil)
	}
	if err != nil {
		return err
	}
	if wantsJSON(c) {
		out := grantsJSON{Grants: make([]grantJSON, 0, len(page.Grants)), Next: page.Next}
		for _, g := range page.Grants {
			out.Grants = append(out.Grants, grantJSON{PrincipalType: g.PrincipalType, PrincipalName: g.PrincipalName,
				PolicyType: g.PolicyType, PolicyName: g.PolicyName, AttachDate: g.AttachDate.UTC().Format(timestampLayout)})
		}
		return c.JSON(http.StatusOK, out)
	}
	return h.renderGrants(c, http.StatusOK, form, page)
}

// renderGrants renders the grants page; a nil page is a refused filter.
func (h *Handlers) renderGrants(c echo.Context, status int, form views.Form, page *ram.GrantsPage) error {
	q := grantsQuery(form)
	m := views.Grants{Layout: h.layout(c, "Grants"), Filter: form, CSVHref: withQuery("/grants/export.csv", q),
		PrincipalTypes: []views.FilterOption{{Value: "", Label: "All principals"}, {Value: "user", Label: "Users"}, {Value: "group", Label: "Groups"}, {Value: "role", Label: "Roles"}},
		PolicyTypes:    []views.FilterOption{{Value: "", Label: "All types"}, {Value: ram.PolicyTypeSystem, Label: "System"}, {Value: ram.PolicyTypeCustom, Label: "Custom"}},
		Filtered:       len(q) > 0}
	names, err := h.RAM.PolicyNames(ctx(c), ActorOf(c))
	if err != nil {
		return err
	}
	m.PolicyNames = names
	if page == nil {
		m.Invalid = true
		return Render(c, status, views.GrantsPage(m))
	}
	for _, k := range []string{"user", "group", "role"} {
		if action, ok := page.Hidden[k]; ok {
			m.Hidden = append(m.Hidden, views.HiddenKind{Kind: k, Action: action})
		}
	}
	for _, g := range page.Grants {
		pk := principalKinds[g.PrincipalType]
		r := views.GrantRow{PrincipalType: g.PrincipalType, PrincipalLabel: grantKindLabels[g.PrincipalType], Principal: g.PrincipalName,
			PrincipalHref: pk.href(g.PrincipalName), PolicyType: g.PolicyType, Policy: g.PolicyName, PolicyHref: policyHref(g.PolicyType, g.PolicyName),
			Attached: date(g.AttachDate), AttachedISO: g.AttachDate.UTC().Format(timestampLayout)}
		// The revoke is the principal page's detach, behind its confirmation.
		if g.Revocable {
			r.RevokeHref = pk.href(g.PrincipalName) + "/policies/" + url.PathEscape(g.PolicyType) + "/" + url.PathEscape(g.PolicyName) + "/detach?from=grants"
			m.CanRevoke = true
		}
		m.Rows = append(m.Rows, r)
	}
	if page.Next != "" {
		next := grantsQuery(form)
		next.Set("cursor", page.Next)
		m.NextHref = withQuery("/grants", next)
	}
	if c.QueryParam("cursor") != "" {
		m.FirstHref = withQuery("/grants", q)
	}
	return Render(c, status, views.GrantsPage(m))
}

// grantsCSVHeader is the grants export's header row (SPEC §5).
var grantsCSVHeader = []string{"PrincipalType", "PrincipalName", "PolicyType", "PolicyName", "AttachDate"}

// GrantsExportCSV handles GET /grants/export.csv: every grant the filter
// selects, newest first, streamed; every cell a spreadsheet would read as
// a formula is neutralised, names included.
func (h *Handlers) GrantsExportCSV(c echo.Context) error {
	in, form := grantsFilter(c)
	resp := c.Response()
	bw := bufio.NewWriterSize(resp, 64<<10)
	cw := csv.NewWriter(bw)
	started := false
	start := func() error {
		if started {
			return nil
		}
		started = true
		resp.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		resp.Header().Set(echo.HeaderContentDisposition, `attachment; filename="grants.csv"`)
		resp.WriteHeader(http.StatusOK)
		return cw.Write(grantsCSVHeader)
	}
	err := h.RAM.ExportGrants(ctx(c), ActorOf(c), in, func(g ram.Grant) error {
		if err := start(); err != nil {
			return err
		}
		return cw.Write([]string{neutralise(g.PrincipalType), neutralise(g.PrincipalName), neutralise(g.PolicyType),
			neutralise(g.PolicyName), neutralise(g.AttachDate.UTC().Format(timestampLayout))})
	})
	if fields, ok := fieldErrors(err); ok && !started {
		form.Errors = fields
		return h.renderGrants(c, http.StatusUnprocessableEntity, form, nil)
	}
	if err == nil {
		err = start()
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil && started {
		// Headers are out: abort the connection, so a cut-short file
		// never looks complete.
		panic(http.ErrAbortHandler)
	}
	return err
}

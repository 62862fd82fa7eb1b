package handlers

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

func serviceHref(code string) string { return "/services/" + url.PathEscape(code) }

// ServicesList handles GET /services.
func (h *Handlers) ServicesList(c echo.Context) error {
	page, err := h.RAM.ListServices(ctx(c), ActorOf(c), c.QueryParam("marker"), listPageSize)
	if e, ok := ram.AsError(err); ok && e.Kind == ram.EINVALID {
		return echo.NewHTTPError(http.StatusBadRequest, e.Message)
	}
	if err != nil {
		return err
	}
	m := views.Services{Layout: h.layout(c, "Services")}
	m.CanCreate = h.can(c, ram.ActionCreateService, ram.AllServicesRef())
	m.CanImport = m.CanCreate || h.can(c, ram.ActionUpdateService, ram.AllServicesRef())
	for _, s := range page.Services {
		m.Rows = append(m.Rows, views.ServiceRow{Code: s.Code, Href: serviceHref(s.Code), Name: s.Name, Style: s.Style,
			Region: s.Region, Hosts: strings.Join(s.Hosts, ", "), Updated: date(s.UpdatedAt)})
	}
	if page.IsTruncated {
		m.NextHref = "/services?" + url.Values{"marker": {page.Marker}}.Encode()
	}
	return Render(c, http.StatusOK, views.ServicesPage(m))
}

// ServiceNew handles GET /services/new.
func (h *Handlers) ServiceNew(c echo.Context) error {
	return h.renderServiceForm(c, http.StatusOK, "/services", views.Form{})
}

func (h *Handlers) renderServiceForm(c echo.Context, status int, action string, f views.Form) error {
	title := "Create service"
	if action == "/services/import" {
		title = "Import service"
	}
	return Render(c, status, views.ServiceNewPage(views.ServiceForm{Layout: h.layout(c, title), Title: title, Action: action, Form: f}))
}

// ServiceCreate handles POST /services.
func (h *Handlers) ServiceCreate(c echo.Context) error {
	vals := form(c, "definition")
	s, err := h.RAM.CreateService(ctx(c), ActorOf(c), vals["definition"])
	if fields, ok := fieldErrors(err); ok {
		return h.renderServiceForm(c, formStatus(err), "/services", views.Form{Values: vals, Errors: fields})
	}
	if err != nil {
		return err
	}
	return flashDone(c, serviceHref(s.Code), "Service "+s.Code+" created.")
}

// ServiceImport handles POST /services/import: create, or replace the
// definition of the service with the same code.
func (h *Handlers) ServiceImport(c echo.Context) error {
	vals := form(c, "definition")
	s, created, err := h.RAM.ImportService(ctx(c), ActorOf(c), vals["definition"])
	if fields, ok := fieldErrors(err); ok {
		return h.renderServiceForm(c, formStatus(err), "/services/import", views.Form{Values: vals, Errors: fields})
	}
	if err != nil {
		return err
	}
	msg := "Service " + s.Code + " replaced by the imported definition."
	if created {
		msg = "Service " + s.Code + " created from the imported definition."
	}
	return flashDone(c, serviceHref(s.Code), msg)
}

// ServiceShow handles GET /services/:code.
func (h *Handlers) ServiceShow(c echo.Context) error {
	s, err := h.RAM.GetService(ctx(c), ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	base := serviceHref(s.Code)
	m := views.ServiceDetail{Layout: h.layout(c, s.Name), Code: s.Code, Name: s.Name,
		ARN: "acs:gateway::" + h.RAM.AccountID(ctx(c)) + ":service/" + s.Code, Style: s.Style, Region: s.Region,
		Created: date(s.CreatedAt), Updated: date(s.UpdatedAt), Hosts: s.Hosts, Definition: s.Definition,
		ExportHref: base + "/export", DeleteHref: base + "/delete", CanDelete: h.can(c, ram.ActionDeleteService, ram.ServiceRef(s.Code))}
	for _, r := range s.Rules {
		m.Rules = append(m.Rules, views.ServiceRuleRow{Methods: strings.Join(r.Methods, ", "), Path: r.Path, Action: r.Action, Resource: r.Resource})
	}
	actions := make([]string, 0, len(s.Resources))
	for a := range s.Resources {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	for _, a := range actions {
		name := s.Code + ":" + a
		if a == "*" {
			name = "any other action"
		}
		m.Resources = append(m.Resources, views.ServiceResourceRow{Action: name, Resource: s.Resources[a]})
	}
	if err := h.serviceUsage(c, &m); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.ServicePage(m))
}

// usagePeriods are the usage section's periods, in days.
var usagePeriods = []struct {
	days  int
	label string
}{{1, "today"}, {7, "7 days"}, {30, "30 days"}, {90, "90 days"}}

// usageDays reads the period (?days=, 7 when absent).
func usageDays(c echo.Context) (int, error) {
	v := c.QueryParam("days")
	if v == "" {
		return 7, nil
	}
	for _, p := range usagePeriods {
		if v == strconv.Itoa(p.days) {
			return p.days, nil
		}
	}
	return 0, echo.NewHTTPError(http.StatusBadRequest, "The period must be 1, 7, 30 or 90 days.")
}

// serviceUsage fills the service page's usage section, or says which
// permission the viewer lacks to see it (looking records no refusal).
func (h *Handlers) serviceUsage(c echo.Context, m *views.ServiceDetail) error {
	days, err := usageDays(c)
	if err != nil {
		return err
	}
	base := serviceHref(m.Code)
	m.UsageDays = days
	for _, p := range usagePeriods {
		m.UsagePeriods = append(m.UsagePeriods, views.UsagePeriod{Label: p.label, Current: p.days == days,
			Href: base + "?days=" + strconv.Itoa(p.days) + "#usage"})
	}
	m.UsageCSVHref = base + "/usage.csv?days=" + strconv.Itoa(days)
	if !h.RAM.Allowed(ctx(c), ActorOf(c), ram.ActionLookupEvents, ram.AnyRef()) {
		m.UsageDenied = ram.ActionLookupEvents
		return nil
	}
	rows, err := h.RAM.ServiceUsage(ctx(c), ActorOf(c), m.Code, days, false)
	if err != nil {
		return err
	}
	for _, r := range rows {
		m.Usage = append(m.Usage, views.ServiceUsageRow{Day: r.Day, Action: r.Action, Operator: operatorLabel(r), OperatorType: r.OperatorType,
			Allowed: r.Allowed, Denied: r.Denied})
		m.UsageAllowed += r.Allowed
		m.UsageDen += r.Denied
	}
	return nil
}

// operatorLabel names who made the requests of a usage row.
func operatorLabel(r ram.UsageRow) string {
	switch {
	case r.OperatorType == "root-account":
		return "the account owner"
	case r.OperatorType == "assumed-role":
		return "assumed-role/" + r.Operator
	case r.Operator == "":
		return "unidentified"
	}
	return r.Operator
}

// ServiceUsageCSV handles GET /services/:code/usage.csv: the usage section
// as CSV (cells a spreadsheet would read as a formula are neutralised).
func (h *Handlers) ServiceUsageCSV(c echo.Context) error {
	days, err := usageDays(c)
	if err != nil {
		return err
	}
	code := c.Param("code")
	rows, err := h.RAM.ServiceUsage(ctx(c), ActorOf(c), code, days, true)
	if err != nil {
		return err
	}
	acct := h.RAM.AccountID(ctx(c))
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"Day", "Service", "Action", "OperatorType", "Operator", "Allowed", "Denied", "PayerAccountId"})
	for _, r := range rows {
		_ = w.Write([]string{r.Day, neutralise(strings.ToLower(code)), neutralise(r.Action), neutralise(r.OperatorType), neutralise(operatorLabel(r)),
			strconv.FormatInt(r.Allowed, 10), strconv.FormatInt(r.Denied, 10), acct})
	}
	w.Flush()
	hd := c.Response().Header()
	hd.Set("Content-Disposition", `attachment; filename="`+strings.ToLower(code)+`-usage-`+strconv.Itoa(days)+`d.csv"`)
	hd.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", []byte(b.String()))
}

// ServiceExport handles GET /services/:code/export: the definition as a
// JSON file, for POST /services/import or `ramconsole service import`.
func (h *Handlers) ServiceExport(c echo.Context) error {
	code := c.Param("code")
	text, err := h.RAM.ExportService(ctx(c), ActorOf(c), code)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+strings.ToLower(code)+`.json"`)
	return c.Blob(http.StatusOK, "application/json", []byte(text))
}

// ServiceDeleteForm handles GET /services/:code/delete.
func (h *Handlers) ServiceDeleteForm(c echo.Context) error {
	return h.renderServiceDelete(c, http.StatusOK, views.Form{})
}

func (h *Handlers) renderServiceDelete(c echo.Context, status int, f views.Form) error {
	s, err := h.RAM.GetService(ctx(c), ActorOf(c), c.Param("code"))
	if err != nil {
		return err
	}
	return Render(c, status, views.ServiceDeletePage(views.ServiceDelete{Layout: h.layout(c, "Delete "+s.Code), Code: s.Code, Form: f}))
}

// ServiceDelete handles POST /services/:code/delete.
func (h *Handlers) ServiceDelete(c echo.Context) error {
	code := c.Param("code")
	if c.FormValue("confirm") != code {
		return h.renderServiceDelete(c, http.StatusUnprocessableEntity, views.Form{Values: map[string]string{"confirm": c.FormValue("confirm")},
			Errors: map[string]string{"confirm": "Type the service code exactly to confirm."}})
	}
	if err := h.RAM.DeleteService(ctx(c), ActorOf(c), code); err != nil {
		return err
	}
	return flashDone(c, "/services", "Service "+code+" deleted.")
}

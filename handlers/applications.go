package handlers

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// Applications: the OpenID provider's OAuth clients in the console (SPEC
// §17.3). The route table authorises each page with the ram:*Application*
// action of the domain call it makes; extra sections (secrets, sign-ins,
// buttons) appear only where the viewer may use them, checked without
// recording anything.

func appHref(name string) string { return "/applications/" + url.PathEscape(name) }

// appFields are the application form's single-valued fields.
var appFields = []string{"name", "display_name", "app_type", "redirect_uris", "post_logout_redirect_uris",
	"access_token_validity", "refresh_token_validity"}

// scopeDescriptions say what each scope adds, for the form.
var scopeDescriptions = map[string]string{
	"openid":         "the ID token with the user's id (always)",
	"profile":        "the logon name (UPN) and display name",
	"email":          "the email address, when the user has one",
	"groups":         "the names of the user's groups",
	"aliuid":         "the user's UID and the account's id",
	"offline_access": "refresh tokens (always issued)",
}

// Kinds of the one-time results of this file, kept by the hand-over store
// (ram.OfferHandover): the reveal page, and the CSV it links to.
const (
	appRevealKind = "application-reveal"
	appCSVKind    = "application-secret-csv"
)

// appReveal is the one-time content of the page that follows creating an
// application or a secret.
type appReveal struct {
	Kind                                  string
	Title                                 string
	AppName, DisplayName, AppType         string
	AppID, SecretID, SecretValue, CSVHref string
	NoSecret                              string
}

// appSecretCSV is the one-time AppSecret.csv.
type appSecretCSV struct {
	Kind    string
	AppName string
	CSV     []byte
}

// issuer is the OpenID issuer as the pages show it, and whether
// --public-url sets it (the pages warn while it does not).
func (h *Handlers) issuer() views.Issuer {
	return views.Issuer{URL: h.RAM.Issuer(), Unset: !h.RAM.IssuerConfigured()}
}

// ApplicationsList handles GET /applications.
func (h *Handlers) ApplicationsList(c echo.Context) error {
	apps, err := h.RAM.ListApplications(ctx(c), ActorOf(c))
	if err != nil {
		return err
	}
	m := views.Applications{Layout: h.layout(c, "Applications"), Issuer: h.issuer(),
		CanCreate: h.can(c, ram.ActionCreateApplication, ram.AllApplicationsRef())}
	for _, a := range apps {
		m.Rows = append(m.Rows, views.ApplicationRow{Name: a.AppName, Href: appHref(a.AppName), DisplayName: a.DisplayName,
			AppType: a.AppType, AppID: a.AppID, Created: date(a.CreatedAt)})
	}
	return Render(c, http.StatusOK, views.ApplicationsPage(m))
}

// scopeChoices are the form's scope checkboxes, ticked as given.
func scopeChoices(ticked []string) []views.ScopeChoice {
	out := make([]views.ScopeChoice, 0, len(ram.OIDCScopes))
	for _, s := range ram.OIDCScopes {
		out = append(out, views.ScopeChoice{Name: s, Description: scopeDescriptions[s], Checked: s == "openid" || slices.Contains(ticked, s),
			Always: s == "openid"})
	}
	return out
}

// ApplicationNew handles GET /applications/new.
func (h *Handlers) ApplicationNew(c echo.Context) error {
	f := views.Form{Values: map[string]string{"app_type": ram.AppTypeWeb, "access_token_validity": "3600"}}
	return h.renderAppForm(c, http.StatusOK, nil, f, []string{"openid", "profile", "email"})
}

// renderAppForm shows the create form (app nil) or the edit form of app.
func (h *Handlers) renderAppForm(c echo.Context, status int, app *ram.Application, f views.Form, scopes []string) error {
	m := views.ApplicationForm{New: app == nil, Action: "/applications", Form: f, Scopes: scopeChoices(scopes), Back: "/applications"}
	title := "Create application"
	if app != nil {
		m.Name, m.AppType = app.AppName, app.AppType
		m.Action, m.Back = appHref(app.AppName)+"/edit", appHref(app.AppName)
		title = "Edit " + app.AppName
	}
	m.Layout = h.layout(c, title)
	return Render(c, status, views.ApplicationFormPage(m))
}

// postedScopes returns the ticked scopes (repeated scopes fields).
func postedScopes(c echo.Context) []string {
	params, err := c.FormParams()
	if err != nil {
		return nil
	}
	return params["scopes"]
}

// validity reads a lifetime in seconds. Empty is 0 (the default) where
// emptyOK, else -1, as is anything but a positive whole number: the domain
// refuses it with the range to give.
func validity(s string, emptyOK bool) int {
	s = strings.TrimSpace(s)
	if s == "" && emptyOK {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return -1
	}
	return n
}

// ApplicationCreate handles POST /applications: a WebApp gets its first
// secret at once, and both lead to the one-time page that shows them.
func (h *Handlers) ApplicationCreate(c echo.Context) error {
	vals := form(c, appFields...)
	scopes := postedScopes(c)
	in := ram.ApplicationInput{AppName: vals["name"], DisplayName: strings.TrimSpace(vals["display_name"]), AppType: vals["app_type"],
		RedirectURIs: ram.ParseURIList(vals["redirect_uris"]), LogoutURIs: ram.ParseURIList(vals["post_logout_redirect_uris"]),
		Scopes: scopes, AccessTokenValidity: validity(vals["access_token_validity"], true),
		RefreshTokenValidity: validity(vals["refresh_token_validity"], true)}
	app, err := h.RAM.CreateApplication(ctx(c), ActorOf(c), in)
	if fields, ok := fieldErrors(err); ok {
		return h.renderAppForm(c, formStatus(err), nil, views.Form{Values: vals, Errors: fields}, scopes)
	}
	if e, ok := ram.AsError(err); ok && e.Kind == ram.ELIMIT {
		return h.renderAppForm(c, http.StatusConflict, nil, views.Form{Values: vals, Errors: map[string]string{"name": e.Message}}, scopes)
	}
	if err != nil {
		return err
	}
	sheet := appReveal{Title: "Application " + app.AppName + " created"}
	var sec *ram.AppSecretValue
	if app.AppType == ram.AppTypeWeb {
		sec, err = h.RAM.CreateAppSecret(ctx(c), ActorOf(c), app.AppName, false)
		if e, ok := ram.AsError(err); ok {
			// Created, but the creator may not create its secret (or the
			// limit says no): the page says so; the application stays.
			sheet.NoSecret = "The application was created without a secret: " + e.Message +
				" Someone allowed ram:CreateAppSecret on it can create one on its page."
		} else if err != nil {
			return err
		}
	}
	return h.revealApp(c, sheet, app.AppName, app.DisplayName, app.AppType, app.AppID, sec)
}

// revealApp keeps the reveal page's content (and the secret's one-time
// CSV) sealed for this session, and redirects to the page that shows it
// once: POST/redirect/GET, so a reload never posts again.
func (h *Handlers) revealApp(c echo.Context, sheet appReveal, name, displayName, appType, appID string, sec *ram.AppSecretValue) error {
	sess := SessionOf(c).IDHash()
	sheet.Kind, sheet.AppName, sheet.DisplayName, sheet.AppType, sheet.AppID = appRevealKind, name, displayName, appType, appID
	if sec != nil {
		var b strings.Builder
		w := csv.NewWriter(&b)
		_ = w.Write([]string{"AppId", "AppSecretId", "AppSecretValue"})
		_ = w.Write([]string{neutralise(sec.AppID), neutralise(sec.SecretID), neutralise(sec.Value)})
		w.Flush()
		file, err := json.Marshal(appSecretCSV{Kind: appCSVKind, AppName: name, CSV: []byte(b.String())})
		if err != nil {
			return err
		}
		token, err := h.RAM.OfferHandover(ctx(c), sess, file)
		if err != nil {
			return err
		}
		sheet.SecretID, sheet.SecretValue, sheet.CSVHref = sec.SecretID, sec.Value, "/applications/download/"+token
	}
	b, err := json.Marshal(sheet)
	if err != nil {
		return err
	}
	token, err := h.RAM.OfferHandover(ctx(c), sess, b)
	if err != nil {
		return err
	}
	return redirect(c, appHref(name)+"/reveal/"+url.PathEscape(token))
}

// ApplicationReveal handles GET /applications/:name/reveal/:token: the
// AppId and the new secret, shown once to the session that created them;
// after that (a reload, the back button) it says the secret can no longer
// be shown.
func (h *Handlers) ApplicationReveal(c echo.Context) error {
	gone := func() error {
		m := views.ApplicationReveal{Layout: h.layout(c, "Shown once"), Gone: true}
		return Render(c, http.StatusGone, views.ApplicationRevealPage(m))
	}
	b, err := h.RAM.TakeHandover(ctx(c), SessionOf(c).IDHash(), c.Param("token"))
	if ram.ErrorKind(err) == ram.ENOTFOUND {
		return gone()
	}
	if err != nil {
		return err
	}
	var sh appReveal
	if err := json.Unmarshal(b, &sh); err != nil || sh.Kind != appRevealKind {
		return gone()
	}
	m := views.ApplicationReveal{Layout: h.layout(c, sh.Title), Title: sh.Title, Name: sh.AppName, DisplayName: sh.DisplayName,
		AppType: sh.AppType, AppID: sh.AppID, SecretID: sh.SecretID, Secret: sh.SecretValue, CSVHref: sh.CSVHref,
		Href: appHref(sh.AppName), NoSecret: sh.NoSecret}
	if m.DisplayName == "" {
		m.DisplayName = sh.AppName
	}
	return Render(c, http.StatusOK, views.ApplicationRevealPage(m))
}

// AppSecretDownload handles GET /applications/download/:token: the
// one-time AppSecret.csv of a new secret, only for the session that created
// it, within 10 minutes.
func (h *Handlers) AppSecretDownload(c echo.Context) error {
	b, err := h.RAM.TakeHandover(ctx(c), SessionOf(c).IDHash(), c.Param("token"))
	if err != nil {
		return err
	}
	var f appSecretCSV
	if err := json.Unmarshal(b, &f); err != nil || f.Kind != appCSVKind {
		return echo.NewHTTPError(http.StatusNotFound, "The download does not exist (it is used once, by the session that created it, within 10 minutes).")
	}
	hd := c.Response().Header()
	hd.Set(echo.HeaderContentDisposition, `attachment; filename="AppSecret.csv"`)
	hd.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv", f.CSV)
}

// lifetime says a number of seconds for people: "3600 s (1 hour)".
func lifetime(s int) string {
	out := strconv.Itoa(s) + " s"
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + one + "s"
	}
	switch {
	case s%86400 == 0:
		return out + " (" + unit(s/86400, "day") + ")"
	case s%3600 == 0:
		return out + " (" + unit(s/3600, "hour") + ")"
	case s%60 == 0:
		return out + " (" + unit(s/60, "minute") + ")"
	}
	return out
}

// ApplicationShow handles GET /applications/:name.
func (h *Handlers) ApplicationShow(c echo.Context) error {
	app, err := h.RAM.GetApplication(ctx(c), ActorOf(c), c.Param("name"), false)
	if err != nil {
		return err
	}
	name, ref := app.AppName, ram.ApplicationRef(app.AppName)
	base := appHref(name)
	iss := h.issuer()
	m := views.ApplicationDetail{Layout: h.layout(c, app.DisplayName), Name: name, DisplayName: app.DisplayName, AppType: app.AppType,
		AppID: app.AppID, ARN: ram.ApplicationARN(app.AccountID, name), SignInARN: ram.SignInARN(app.AccountID, name),
		Created: date(app.CreatedAt), Updated: date(app.UpdatedAt), Redirects: app.RedirectURIs, LogoutURIs: app.LogoutURIs,
		Scopes: strings.Join(app.Scopes, " "), AccessValidity: lifetime(app.AccessValidity), RefreshValidity: lifetime(app.RefreshValidity),
		HTTPRedirects: app.HTTPRedirects, Issuer: iss, MaxSecrets: ram.MaxAppSecrets,
		EditHref: base + "/edit", DeleteHref: base + "/delete", SecretsAction: base + "/secrets", RevokeAction: base + "/revoke-tokens"}
	// The endpoints as text, not links: they are the apps' to call.
	m.Endpoints = []views.Endpoint{
		{Label: "Discovery", URL: iss.URL + "/.well-known/openid-configuration"},
		{Label: "Authorization endpoint", URL: iss.URL + "/oauth2/v1/auth"},
		{Label: "Token endpoint", URL: iss.URL + "/v1/token"},
		{Label: "Userinfo endpoint", URL: iss.URL + "/v1/userinfo"},
		{Label: "JWKS (keys)", URL: iss.URL + "/v1/keys"},
	}
	m.CanEdit = h.can(c, ram.ActionUpdateApplication, ref)
	m.CanRevoke = m.CanEdit
	m.CanDelete = h.can(c, ram.ActionDeleteApplication, ref)
	m.CanCreateSecret = app.AppType == ram.AppTypeWeb && h.can(c, ram.ActionCreateAppSecret, ref)
	m.CanDeleteSecret = h.can(c, ram.ActionDeleteAppSecret, ref)
	if h.can(c, ram.ActionListAppSecretIDs, ref) {
		_, secs, err := h.RAM.ListAppSecrets(ctx(c), ActorOf(c), name, false)
		if err != nil {
			return err
		}
		for _, s := range secs {
			m.Secrets = append(m.Secrets, views.AppSecretRow{ID: s.SecretID, Created: date(s.CreatedAt),
				DeleteAction: base + "/secrets/" + url.PathEscape(s.SecretID) + "/delete"})
		}
	} else {
		m.SecretsDenied = ram.ActionListAppSecretIDs
	}
	if h.can(c, "ram:SimulatePrincipalPolicy", ram.UserRef("")) {
		m.SimulatorHref = "/simulator?" + url.Values{"action": {"oidc:SignIn"}, "resource": {m.SignInARN}}.Encode()
	}
	if err := h.recentSignIns(c, app, &m); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.ApplicationPage(m))
}

// Recent sign-ins: at most this many, found among at most signInScan of
// the newest Authorize events.
const (
	maxRecentSignIns = 20
	signInScan       = 2000
	signInScanPage   = 200
)

// recentSignIns fills the page's recent sign-ins from the audit log (the
// oidc Authorize events of the application), or says which permission the
// viewer lacks to read them.
func (h *Handlers) recentSignIns(c echo.Context, app *ram.Application, m *views.ApplicationDetail) error {
	if !h.can(c, ram.ActionLookupEvents, ram.AnyRef()) {
		m.SignInsDenied = ram.ActionLookupEvents
		return nil
	}
	arn := ram.ApplicationARN(app.AccountID, app.AppName)
	f := ram.EventFilter{EventName: "Authorize"}
	for scanned := 0; scanned < signInScan && len(m.SignIns) < maxRecentSignIns; scanned += signInScanPage {
		page, err := h.RAM.LookupEvents(ctx(c), ActorOf(c), f, signInScanPage)
		if err != nil {
			return err
		}
		for _, e := range page.Events {
			if e.EventSource != "oidc" || e.ResourceName != arn {
				continue
			}
			user := e.UserIdentity.UserName
			if e.UserIdentity.Type == "root-account" {
				user = "the account owner"
			} else if user == "" {
				user = "unidentified"
			}
			when := e.EventTime
			if t, err := time.Parse(time.RFC3339Nano, e.EventTime); err == nil {
				when = date(t)
			}
			m.SignIns = append(m.SignIns, views.SignInRow{Time: when, User: user, Href: eventHref(e.EventID), Allowed: !e.IsError,
				ErrorCode: e.ErrorCode})
			if len(m.SignIns) == maxRecentSignIns {
				break
			}
		}
		if page.Next == 0 {
			break
		}
		f.Before = page.Next
	}
	return nil
}

// ApplicationEditForm handles GET /applications/:name/edit.
func (h *Handlers) ApplicationEditForm(c echo.Context) error {
	app, err := h.RAM.GetApplication(ctx(c), ActorOf(c), c.Param("name"), false)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{"display_name": app.DisplayName, "redirect_uris": strings.Join(app.RedirectURIs, "\n"),
		"post_logout_redirect_uris": strings.Join(app.LogoutURIs, "\n"), "access_token_validity": strconv.Itoa(app.AccessValidity),
		"refresh_token_validity": strconv.Itoa(app.RefreshValidity)}}
	return h.renderAppForm(c, http.StatusOK, app, f, app.Scopes)
}

// ApplicationUpdate handles POST /applications/:name/edit (its name and
// type never change).
func (h *Handlers) ApplicationUpdate(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, appFields...)
	scopes := postedScopes(c)
	dn := strings.TrimSpace(vals["display_name"])
	redirects, logouts := ram.ParseURIList(vals["redirect_uris"]), ram.ParseURIList(vals["post_logout_redirect_uris"])
	access, refresh := validity(vals["access_token_validity"], false), validity(vals["refresh_token_validity"], false)
	upd := ram.ApplicationUpdate{DisplayName: &dn, RedirectURIs: &redirects, LogoutURIs: &logouts, Scopes: &scopes,
		AccessTokenValidity: &access, RefreshTokenValidity: &refresh}
	app, err := h.RAM.UpdateApplication(ctx(c), ActorOf(c), name, false, upd)
	if fields, ok := fieldErrors(err); ok {
		// The form again, with the stored name and type when the viewer may read them.
		shown := &ram.Application{}
		shown.AppName = name
		if h.can(c, ram.ActionGetApplication, ram.ApplicationRef(name)) {
			if cur, gerr := h.RAM.GetApplication(ctx(c), ActorOf(c), name, false); gerr == nil {
				shown = cur
			}
		}
		return h.renderAppForm(c, formStatus(err), shown, views.Form{Values: vals, Errors: fields}, scopes)
	}
	if err != nil {
		return err
	}
	return flashDone(c, appHref(app.AppName), "Application "+app.AppName+" saved.")
}

// appError turns a refused secret or token change caused by the state of
// the application (the secret limit, an unknown secret) into a message on
// its page; a refusal of permission stays an error page.
func appError(c echo.Context, err error, back string) error {
	e, ok := ram.AsError(err)
	if !ok || e.Kind == ram.EFORBIDDEN || e.Kind == ram.EAUTH {
		return err
	}
	if e.Code == "EntityNotExist.Application" {
		return err
	}
	_ = SessionOf(c).AddFlash(flashErrorPrefix + e.Message)
	return redirect(c, back)
}

// ApplicationSecretCreate handles POST /applications/:name/secrets: a new
// secret (at most two), shown once on the page that follows.
func (h *Handlers) ApplicationSecretCreate(c echo.Context) error {
	name := c.Param("name")
	sec, err := h.RAM.CreateAppSecret(ctx(c), ActorOf(c), name, false)
	if err != nil {
		return appError(c, err, appHref(name))
	}
	displayName, appType := name, ""
	if h.can(c, ram.ActionGetApplication, ram.ApplicationRef(name)) {
		if app, err := h.RAM.GetApplication(ctx(c), ActorOf(c), name, false); err == nil {
			name, displayName, appType = app.AppName, app.DisplayName, app.AppType
		}
	}
	return h.revealApp(c, appReveal{Title: "New secret for " + name}, name, displayName, appType, sec.AppID, sec)
}

// ApplicationSecretDelete handles POST /applications/:name/secrets/:id/delete:
// the secret stops working at once.
func (h *Handlers) ApplicationSecretDelete(c echo.Context) error {
	name, id := c.Param("name"), c.Param("id")
	if err := h.RAM.DeleteAppSecret(ctx(c), ActorOf(c), name, false, id); err != nil {
		return err
	}
	return flashDone(c, appHref(name), "Secret "+id+" deleted: it no longer works.")
}

// ApplicationRevokeTokens handles POST /applications/:name/revoke-tokens:
// every token the application holds is revoked.
func (h *Handlers) ApplicationRevokeTokens(c echo.Context) error {
	name := c.Param("name")
	n, err := h.RAM.RevokeApplicationTokens(ctx(c), ActorOf(c), name)
	if err != nil {
		return err
	}
	msg := "Every token of " + name + " is revoked: "
	switch n {
	case 0:
		msg += "nobody was signed in to it."
	case 1:
		msg += "1 sign-in ended."
	default:
		msg += strconv.FormatInt(n, 10) + " sign-ins ended."
	}
	return flashDone(c, appHref(name), msg)
}

// appDeleteModel is the confirmation before deleting app.
func appDeleteModel(app *ram.Application) views.Confirm {
	base := appHref(app.AppName)
	return views.Confirm{Title: "Delete application " + app.AppName + "?", Action: base + "/delete", Button: "Delete application",
		Want: app.AppName, WantLabel: "Type the application name to confirm", Back: base,
		Breaks: []string{
			"Nobody can sign in to " + app.DisplayName + " with ramconsole any more: its AppId (client_id) " + app.AppID + " and its secrets stop working at once.",
			"Everyone signed in to it through ramconsole is signed out: every token it was given is revoked.",
		},
		Notes: []string{"Policies that name the application stay; they would apply to a new application of the same name, which gets a new AppId."}}
}

// ApplicationDeleteForm handles GET /applications/:name/delete.
func (h *Handlers) ApplicationDeleteForm(c echo.Context) error {
	app, err := h.RAM.GetApplication(ctx(c), ActorOf(c), c.Param("name"), false)
	if err != nil {
		return err
	}
	return h.confirmPage(c, http.StatusOK, appDeleteModel(app))
}

// ApplicationDelete handles POST /applications/:name/delete: with the
// application's name typed again.
func (h *Handlers) ApplicationDelete(c echo.Context) error {
	name, typed := c.Param("name"), c.FormValue("confirm")
	if typed != name {
		app, err := h.RAM.GetApplication(ctx(c), ActorOf(c), name, false)
		if err != nil {
			return err
		}
		if typed != app.AppName {
			m := appDeleteModel(app)
			m.Form = views.Form{Values: map[string]string{"confirm": typed},
				Errors: map[string]string{"confirm": "Type the application name exactly to confirm."}}
			return h.confirmPage(c, http.StatusUnprocessableEntity, m)
		}
		name = app.AppName
	}
	if err := h.RAM.DeleteApplication(ctx(c), ActorOf(c), name, false); err != nil {
		return err
	}
	return flashDone(c, "/applications", "Application "+name+" deleted: its tokens are revoked and its secrets no longer work.")
}

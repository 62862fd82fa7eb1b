package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// What the application routes act on.
func allApplications(echo.Context) []ram.Ref { return refs(ram.AllApplicationsRef()) }
func theApplication(c echo.Context) []ram.Ref {
	return refs(ram.ApplicationRef(c.Param("name")))
}

// newApplication: the application the create form names (all of them
// while it names none), as the domain authorises it.
func newApplication(c echo.Context) []ram.Ref {
	if name := strings.TrimSpace(c.FormValue("name")); name != "" {
		return refs(ram.ApplicationRef(name))
	}
	return allApplications(c)
}

// applicationRoutes are the OpenID provider's applications' console routes
// (SPEC §17.3). The one-time pages that follow creating an application or a
// secret (its reveal page and AppSecret.csv) are bound to the session that
// created them, as the hand-over sheet and AccessKey.csv are, and name no
// action of their own.
func applicationRoutes(h *handlers.Handlers) []Route {
	get, post := http.MethodGet, http.MethodPost
	return []Route{
		{Method: get, Path: "/applications", Access: SignedIn, Handler: h.ApplicationsList, Action: ram.ActionListApplications, Resources: allApplications, Nav: "Applications"},
		{Method: get, Path: "/applications/new", Access: SignedIn, Handler: h.ApplicationNew, Action: ram.ActionCreateApplication, Resources: allApplications},
		{Method: post, Path: "/applications", Access: SignedIn, Handler: h.ApplicationCreate, Action: ram.ActionCreateApplication, Resources: newApplication},
		{Method: get, Path: "/applications/download/:token", Access: SignedIn, Handler: h.AppSecretDownload},
		{Method: get, Path: "/applications/:name", Access: SignedIn, Handler: h.ApplicationShow, Action: ram.ActionGetApplication, Resources: theApplication},
		{Method: get, Path: "/applications/:name/reveal/:token", Access: SignedIn, Handler: h.ApplicationReveal},
		{Method: get, Path: "/applications/:name/edit", Access: SignedIn, Handler: h.ApplicationEditForm, Action: ram.ActionUpdateApplication, Resources: theApplication},
		{Method: post, Path: "/applications/:name/edit", Access: SignedIn, Handler: h.ApplicationUpdate, Action: ram.ActionUpdateApplication, Resources: theApplication},
		{Method: post, Path: "/applications/:name/secrets", Access: SignedIn, Handler: h.ApplicationSecretCreate, Action: ram.ActionCreateAppSecret, Resources: theApplication},
		{Method: post, Path: "/applications/:name/secrets/:id/delete", Access: SignedIn, Handler: h.ApplicationSecretDelete, Action: ram.ActionDeleteAppSecret, Resources: theApplication},
		{Method: post, Path: "/applications/:name/revoke-tokens", Access: SignedIn, Handler: h.ApplicationRevokeTokens, Action: ram.ActionUpdateApplication, Resources: theApplication},
		{Method: get, Path: "/applications/:name/delete", Access: SignedIn, Handler: h.ApplicationDeleteForm, Action: ram.ActionDeleteApplication, Resources: theApplication},
		{Method: post, Path: "/applications/:name/delete", Access: SignedIn, Handler: h.ApplicationDelete, Action: ram.ActionDeleteApplication, Resources: theApplication},
	}
}

package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// What the resource service routes act on.
func allServices(echo.Context) []ram.Ref  { return refs(ram.AllServicesRef()) }
func theService(c echo.Context) []ram.Ref { return refs(ram.ServiceRef(c.Param("code"))) }

// serviceRoutes are the resource services' console routes (SPEC §13). An
// import that replaces a service is authorised as gateway:UpdateService on
// it by the domain, once the definition names it.
func serviceRoutes(h *handlers.Handlers) []Route {
	get, post := http.MethodGet, http.MethodPost
	return []Route{
		{Method: get, Path: "/services", Access: SignedIn, Handler: h.ServicesList, Action: ram.ActionListServices, Resources: allServices, Nav: "Services"},
		{Method: get, Path: "/services/new", Access: SignedIn, Handler: h.ServiceNew, Action: ram.ActionCreateService, Resources: allServices},
		{Method: post, Path: "/services", Access: SignedIn, Handler: h.ServiceCreate, Action: ram.ActionCreateService, Resources: allServices},
		{Method: post, Path: "/services/import", Access: SignedIn, Handler: h.ServiceImport},
		{Method: get, Path: "/services/:code", Access: SignedIn, Handler: h.ServiceShow, Action: ram.ActionGetService, Resources: theService},
		{Method: get, Path: "/services/:code/export", Access: SignedIn, Handler: h.ServiceExport, Action: ram.ActionGetService, Resources: theService},
		{Method: get, Path: "/services/:code/usage.csv", Access: SignedIn, Handler: h.ServiceUsageCSV, Action: ram.ActionGetService, Resources: theService},
		{Method: get, Path: "/services/:code/delete", Access: SignedIn, Handler: h.ServiceDeleteForm, Action: ram.ActionDeleteService, Resources: theService},
		{Method: post, Path: "/services/:code/delete", Access: SignedIn, Handler: h.ServiceDelete, Action: ram.ActionDeleteService, Resources: theService},
	}
}

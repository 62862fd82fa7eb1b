package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// anything is what the report routes act on: no particular resource (*).
func anything(echo.Context) []ram.Ref { return refs(ram.AnyRef()) }

// reportRoutes are the credential report's console routes (SPEC §16.7).
func reportRoutes(h *handlers.Handlers) []Route {
	get, post := http.MethodGet, http.MethodPost
	return []Route{
		{Method: get, Path: "/reports/credentials", Access: SignedIn, Handler: h.CredentialReport, Action: ram.ActionGetCredentialReport, Resources: anything},
		{Method: post, Path: "/reports/credentials", Access: SignedIn, Handler: h.CredentialReportGenerate, Action: ram.ActionGenerateCredentialReport, Resources: anything},
		{Method: get, Path: "/reports/credentials.csv", Access: SignedIn, Handler: h.CredentialReportCSV, Action: ram.ActionGetCredentialReport, Resources: anything},
	}
}

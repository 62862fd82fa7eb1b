package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// anyResource is the resource of actions that name none (actiontrail:LookupEvents).
func anyResource(echo.Context) []ram.Ref { return refs(ram.AnyRef()) }

// auditRoutes are the audit log's console routes (SPEC §5, §7). Reading the
// log, an event or an export needs actiontrail:LookupEvents on "*". Echo
// matches the static export paths before the /audit/:id parameter.
func auditRoutes(h *handlers.Handlers) []Route {
	get := http.MethodGet
	return []Route{
		{Method: get, Path: "/audit", Access: SignedIn, Handler: h.AuditList, Action: ram.ActionLookupEvents, Resources: anyResource, Nav: "Audit"},
		{Method: get, Path: "/audit/export.csv", Access: SignedIn, Handler: h.AuditExportCSV, Action: ram.ActionLookupEvents, Resources: anyResource},
		{Method: get, Path: "/audit/export.ndjson", Access: SignedIn, Handler: h.AuditExportNDJSON, Action: ram.ActionLookupEvents, Resources: anyResource},
		{Method: http.MethodPost, Path: "/audit/verify", Access: SignedIn, Handler: h.AuditVerifyNow, Action: ram.ActionLookupEvents, Resources: anyResource},
		{Method: get, Path: "/audit/:id", Access: SignedIn, Handler: h.AuditEventShow, Action: ram.ActionLookupEvents, Resources: anyResource},
	}
}

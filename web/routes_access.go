package web

import (
	"net/http"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// accessRoutes are the access review's console routes (SPEC §16.2–16.6).
//
// They name no Action: the domain authorises each view itself
// (ram:GetServiceLastAccessedDetails on the principal's or policy's stored
// ARN, ram:GenerateServiceLastAccessedDetails on *) and records it, allowed
// or refused, as the view's one event. A check in the route table would
// count the decision a second time and answer a refusal as a page even to a
// request that asked for JSON.
//
// /policies/generate has one segment after /policies, so it can never be
// read as a policy: policies live at /policies/:type/:name, and a custom
// policy named "generate" is /policies/Custom/generate. Echo also matches
// the fixed /access/unused.csv before any parameter.
func accessRoutes(h *handlers.Handlers) []Route {
	get := http.MethodGet
	return []Route{
		{Method: get, Path: "/users/:name/access", Access: SignedIn, Handler: h.PrincipalAccess(ram.AccessUser)},
		{Method: get, Path: "/groups/:name/access", Access: SignedIn, Handler: h.PrincipalAccess(ram.AccessGroup)},
		{Method: get, Path: "/roles/:name/access", Access: SignedIn, Handler: h.PrincipalAccess(ram.AccessRole)},
		{Method: get, Path: "/policies/:type/:name/access", Access: SignedIn, Handler: h.PolicyAccess},
		{Method: get, Path: "/access/unused", Access: SignedIn, Handler: h.UnusedAccess},
		{Method: get, Path: "/access/unused.csv", Access: SignedIn, Handler: h.UnusedAccessCSV},
		{Method: get, Path: "/policies/generate", Access: SignedIn, Handler: h.GeneratePolicy},
	}
}

package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// What the role routes act on.
func allRoles(echo.Context) []ram.Ref  { return refs(ram.AllRolesRef()) }
func theRole(c echo.Context) []ram.Ref { return refs(ram.RoleRef(c.Param("name"))) }

func roleAndFormPolicy(c echo.Context) []ram.Ref {
	return refs(ram.RoleRef(c.Param("name")), formPolicy(c))
}

func roleAndRoutePolicy(c echo.Context) []ram.Ref {
	return refs(ram.RoleRef(c.Param("name")), routePolicy(c, "type", "policy"))
}

// roleRoutes are the RAM roles' console routes (SPEC §12).
func roleRoutes(h *handlers.Handlers) []Route {
	get, post := http.MethodGet, http.MethodPost
	return []Route{
		{Method: get, Path: "/roles", Access: SignedIn, Handler: h.RolesList, Action: "ram:ListRoles", Resources: allRoles, Nav: "Roles"},
		{Method: get, Path: "/roles/new", Access: SignedIn, Handler: h.RoleNew, Action: "ram:CreateRole", Resources: allRoles},
		{Method: post, Path: "/roles", Access: SignedIn, Handler: h.RoleCreate, Action: "ram:CreateRole", Resources: allRoles},
		// Switch role: the checks are AssumeRole's (the user's policies and the trust policy).
		{Method: get, Path: "/switch-role", Access: SignedIn, Handler: h.SwitchRoleForm, Nav: "Switch role", NavFor: NavRAMUser},
		{Method: post, Path: "/roles/switch-back", Access: SignedIn, Handler: h.SwitchBack},
		{Method: get, Path: "/roles/:name/switch", Access: SignedIn, Handler: h.RoleSwitchForm},
		{Method: post, Path: "/roles/:name/switch", Access: SignedIn, Handler: h.RoleSwitch},
		{Method: get, Path: "/roles/:name", Access: SignedIn, Handler: h.RoleShow, Action: "ram:GetRole", Resources: theRole},
		{Method: get, Path: "/roles/:name/edit", Access: SignedIn, Handler: h.RoleEditForm, Action: "ram:UpdateRole", Resources: theRole},
		{Method: post, Path: "/roles/:name/edit", Access: SignedIn, Handler: h.RoleUpdate, Action: "ram:UpdateRole", Resources: theRole},
		{Method: get, Path: "/roles/:name/delete", Access: SignedIn, Handler: h.RoleDeleteForm, Action: "ram:DeleteRole", Resources: theRole},
		{Method: post, Path: "/roles/:name/delete", Access: SignedIn, Handler: h.RoleDelete, Action: "ram:DeleteRole", Resources: theRole},
		{Method: post, Path: "/roles/:name/sessions/revoke", Access: SignedIn, Handler: h.RoleSessionsRevoke, Action: "ram:UpdateRole", Resources: theRole},
		{Method: post, Path: "/roles/:name/policies", Access: SignedIn, Handler: h.PolicyAttach("role"), Action: "ram:AttachPolicyToRole", Resources: roleAndFormPolicy},
		{Method: get, Path: "/roles/:name/policies/:type/:policy/detach", Access: SignedIn, Handler: h.PolicyDetachForm("role"), Action: "ram:DetachPolicyFromRole", Resources: roleAndRoutePolicy},
		{Method: post, Path: "/roles/:name/policies/:type/:policy/detach", Access: SignedIn, Handler: h.PolicyDetach("role"), Action: "ram:DetachPolicyFromRole", Resources: roleAndRoutePolicy},
	}
}

package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// What the policy routes act on.
func allPolicies(echo.Context) []ram.Ref { return refs(ram.AllPoliciesRef()) }

func routePolicy(c echo.Context, typeParam, nameParam string) ram.Ref {
	t := c.Param(typeParam)
	if t == "" {
		t = ram.PolicyTypeCustom
	}
	return ram.PolicyRef(t, c.Param(nameParam))
}

func formPolicy(c echo.Context) ram.Ref {
	return ram.PolicyRef(c.FormValue("policy_type"), c.FormValue("policy_name"))
}

func thePolicy(c echo.Context) []ram.Ref { return refs(routePolicy(c, "type", "name")) }

// userAndFormPolicy: attaching the policies named in the form (policy
// values, or policy_type + policy_name) to the route's user.
func userAndFormPolicy(c echo.Context) []ram.Ref {
	return append(refs(ram.UserRef(c.Param("name"))), formPolicyRefs(c)...)
}

func groupAndFormPolicy(c echo.Context) []ram.Ref {
	return append(refs(ram.GroupRef(c.Param("name"))), formPolicyRefs(c)...)
}

func formPolicyRefs(c echo.Context) []ram.Ref {
	if len(handlers.FormPolicies(c)) == 0 {
		return refs(formPolicy(c))
	}
	return formPolicies(c)
}

func userAndRoutePolicy(c echo.Context) []ram.Ref {
	return refs(ram.UserRef(c.Param("name")), routePolicy(c, "type", "policy"))
}

func groupAndRoutePolicy(c echo.Context) []ram.Ref {
	return refs(ram.GroupRef(c.Param("name")), routePolicy(c, "type", "policy"))
}

// simulatedUser: the user the simulator is asked about.
func simulatedUser(c echo.Context) []ram.Ref { return refs(ram.UserRef(c.FormValue("user"))) }

// policyRoutes are the policies' and the simulator's console routes (SPEC §5).
func policyRoutes(h *handlers.Handlers) []Route {
	get, post := http.MethodGet, http.MethodPost
	return []Route{
		{Method: get, Path: "/policies", Access: SignedIn, Handler: h.PoliciesList, Action: "ram:ListPolicies", Resources: allPolicies, Nav: "Policies"},
		// Grants: every attachment of the account; revoking is the principals' detach below.
		{Method: get, Path: "/grants", Access: SignedIn, Handler: h.GrantsList, Action: "ram:ListPolicies", Resources: allPolicies, Nav: "Grants"},
		{Method: get, Path: "/grants/export.csv", Access: SignedIn, Handler: h.GrantsExportCSV, Action: "ram:ListPolicies", Resources: allPolicies},
		{Method: get, Path: "/policies/new", Access: SignedIn, Handler: h.PolicyNew, Action: "ram:CreatePolicy", Resources: allPolicies},
		{Method: post, Path: "/policies", Access: SignedIn, Handler: h.PolicyCreate, Action: "ram:CreatePolicy", Resources: allPolicies},
		{Method: get, Path: "/policies/:type/:name", Access: SignedIn, Handler: h.PolicyShow, Action: "ram:GetPolicy", Resources: thePolicy},
		{Method: get, Path: "/policies/:type/:name/versions/:version", Access: SignedIn, Handler: h.PolicyShow, Action: "ram:GetPolicyVersion", Resources: thePolicy},
		{Method: post, Path: "/policies/Custom/:name/description", Access: SignedIn, Handler: h.PolicyDescription, Action: "ram:UpdatePolicyDescription", Resources: thePolicy},
		{Method: post, Path: "/policies/Custom/:name/versions", Access: SignedIn, Handler: h.PolicyVersionCreate, Action: "ram:CreatePolicyVersion", Resources: thePolicy},
		{Method: post, Path: "/policies/Custom/:name/versions/:version/default", Access: SignedIn, Handler: h.PolicyVersionDefault, Action: "ram:SetDefaultPolicyVersion", Resources: thePolicy},
		{Method: post, Path: "/policies/Custom/:name/versions/:version/delete", Access: SignedIn, Handler: h.PolicyVersionDelete, Action: "ram:DeletePolicyVersion", Resources: thePolicy},
		{Method: get, Path: "/policies/Custom/:name/delete", Access: SignedIn, Handler: h.PolicyDeleteForm, Action: "ram:DeletePolicy", Resources: thePolicy},
		{Method: post, Path: "/policies/Custom/:name/delete", Access: SignedIn, Handler: h.PolicyDelete, Action: "ram:DeletePolicy", Resources: thePolicy},

		// Attachments, from the user and group pages (and the policy's references).
		{Method: post, Path: "/users/:name/policies", Access: SignedIn, Handler: h.PolicyAttach("user"), Action: "ram:AttachPolicyToUser", Resources: userAndFormPolicy},
		{Method: get, Path: "/users/:name/policies/:type/:policy/detach", Access: SignedIn, Handler: h.PolicyDetachForm("user"), Action: "ram:DetachPolicyFromUser", Resources: userAndRoutePolicy},
		{Method: post, Path: "/users/:name/policies/:type/:policy/detach", Access: SignedIn, Handler: h.PolicyDetach("user"), Action: "ram:DetachPolicyFromUser", Resources: userAndRoutePolicy},
		{Method: post, Path: "/groups/:name/policies", Access: SignedIn, Handler: h.PolicyAttach("group"), Action: "ram:AttachPolicyToGroup", Resources: groupAndFormPolicy},
		{Method: get, Path: "/groups/:name/policies/:type/:policy/detach", Access: SignedIn, Handler: h.PolicyDetachForm("group"), Action: "ram:DetachPolicyFromGroup", Resources: groupAndRoutePolicy},
		{Method: post, Path: "/groups/:name/policies/:type/:policy/detach", Access: SignedIn, Handler: h.PolicyDetach("group"), Action: "ram:DetachPolicyFromGroup", Resources: groupAndRoutePolicy},

		// The policy simulator.
		{Method: get, Path: "/simulator", Access: SignedIn, Handler: h.Simulator, Action: "ram:SimulatePrincipalPolicy", Resources: simulatedUser, Nav: "Simulator"},
		{Method: post, Path: "/simulator", Access: SignedIn, Handler: h.Simulator, Action: "ram:SimulatePrincipalPolicy", Resources: simulatedUser},
	}
}

package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// What the pickers' and bulk actions' routes act on: every user, group and
// policy the form names, each resolved to its stored entity.
func formUsers(c echo.Context) []ram.Ref {
	return namedRefs(handlers.FormUsers(c), ram.UserRef, ram.AllUsersRef)
}

func formGroups(c echo.Context) []ram.Ref {
	return namedRefs(handlers.FormGroups(c), ram.GroupRef, ram.AllGroupsRef)
}

func formRoles(c echo.Context) []ram.Ref {
	return namedRefs(handlers.FormRoles(c), ram.RoleRef, ram.AllRolesRef)
}

func formPolicies(c echo.Context) []ram.Ref {
	var rs []ram.Ref
	for _, p := range handlers.FormPolicies(c) {
		rs = append(rs, ram.PolicyRef(p[0], p[1]))
	}
	if len(rs) == 0 {
		rs = append(rs, ram.AllPoliciesRef())
	}
	return rs
}

// namedRefs resolves each name the form gives, or the whole collection
// when it gives none.
func namedRefs(names []string, ref func(string) ram.Ref, all func() ram.Ref) []ram.Ref {
	if len(names) == 0 {
		return []ram.Ref{all()}
	}
	rs := make([]ram.Ref, len(names))
	for i, n := range names {
		rs[i] = ref(n)
	}
	return rs
}

func formUsersAndPolicies(c echo.Context) []ram.Ref { return append(formUsers(c), formPolicies(c)...) }
func formGroupsAndPolicies(c echo.Context) []ram.Ref {
	return append(formGroups(c), formPolicies(c)...)
}
func formRolesAndPolicies(c echo.Context) []ram.Ref {
	return append(formRoles(c), formPolicies(c)...)
}
func formUsersAndGroups(c echo.Context) []ram.Ref { return append(formUsers(c), formGroups(c)...) }

// pickerRoutes are the "Add permissions" panel (users, groups or roles)
// and the users list's bulk actions: pages to pick from, and the posts that
// do what was picked.
func pickerRoutes(h *handlers.Handlers) []Route {
	get, post := http.MethodGet, http.MethodPost
	return []Route{
		{Method: get, Path: "/permissions/new", Access: SignedIn, Handler: h.GrantForm, Action: "ram:ListPolicies", Resources: allPolicies},
		{Method: get, Path: "/permissions/review", Access: SignedIn, Handler: h.GrantReview, Action: "ram:ListPolicies", Resources: allPolicies},
		{Method: post, Path: "/permissions/users", Access: SignedIn, Handler: h.Grant("user"), Action: "ram:AttachPolicyToUser", Resources: formUsersAndPolicies},
		{Method: post, Path: "/permissions/groups", Access: SignedIn, Handler: h.Grant("group"), Action: "ram:AttachPolicyToGroup", Resources: formGroupsAndPolicies},
		{Method: post, Path: "/permissions/roles", Access: SignedIn, Handler: h.Grant("role"), Action: "ram:AttachPolicyToRole", Resources: formRolesAndPolicies},
		{Method: get, Path: "/bulk/users/add-to-group", Access: SignedIn, Handler: h.BulkGroupsForm, Action: "ram:ListGroups", Resources: allGroups},
		{Method: post, Path: "/bulk/users/add-to-group", Access: SignedIn, Handler: h.BulkGroupsAdd, Action: "ram:AddUserToGroup", Resources: formUsersAndGroups},
		{Method: get, Path: "/bulk/users/delete", Access: SignedIn, Handler: h.BulkDeleteForm, Action: "ram:DeleteUser", Resources: formUsers},
		{Method: post, Path: "/bulk/users/delete", Access: SignedIn, Handler: h.BulkDelete, Action: "ram:DeleteUser", Resources: formUsers},
		{Method: get, Path: "/groups/:name/members/add", Access: SignedIn, Handler: h.GroupMembersPick, Action: "ram:AddUserToGroup", Resources: theGroup},
	}
}

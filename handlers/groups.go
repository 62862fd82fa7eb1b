package handlers

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

func groupHref(name string) string { return "/groups/" + url.PathEscape(name) }

// GroupsList handles GET /groups.
func (h *Handlers) GroupsList(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	page, err := h.RAM.ListGroups(ctx(c), ActorOf(c), q, c.QueryParam("marker"), listPageSize)
	if e, ok := ram.AsError(err); ok && e.Kind == ram.EINVALID {
		return echo.NewHTTPError(http.StatusBadRequest, e.Message)
	}
	if err != nil {
		return err
	}
	m := views.Groups{Layout: h.layout(c, "Groups"), Query: q}
	m.CanCreate = h.can(c, "ram:CreateGroup", ram.AllGroupsRef())
	m.CanGrant = h.can(c, "ram:AttachPolicyToGroup", ram.AllGroupsRef(), ram.AllPoliciesRef())
	for _, g := range page.Groups {
		m.Rows = append(m.Rows, views.GroupRow{Name: g.GroupName, Href: groupHref(g.GroupName), Comments: g.Comments, Created: date(g.CreatedAt)})
	}
	if page.IsTruncated {
		v := url.Values{"marker": {page.Marker}}
		if q != "" {
			v.Set("q", q)
		}
		m.NextHref = "/groups?" + v.Encode()
	}
	return Render(c, http.StatusOK, views.GroupsPage(m))
}

// GroupNew handles GET /groups/new.
func (h *Handlers) GroupNew(c echo.Context) error {
	f := h.restoreDraft(c, "/groups", views.Form{}, "name", "comments")
	return Render(c, http.StatusOK, views.GroupNewPage(views.GroupNew{Layout: h.layout(c, "New group"), Form: f}))
}

// GroupCreate handles POST /groups.
func (h *Handlers) GroupCreate(c echo.Context) error {
	vals := form(c, "name", "comments")
	g, err := h.RAM.CreateGroup(ctx(c), ActorOf(c), strings.TrimSpace(vals["name"]), vals["comments"])
	if fields, ok := fieldErrors(err); ok {
		return Render(c, formStatus(err), views.GroupNewPage(views.GroupNew{Layout: h.layout(c, "New group"), Form: views.Form{Values: vals, Errors: fields}}))
	}
	if err != nil {
		return err
	}
	return flashDone(c, groupHref(g.GroupName), "Group "+g.GroupName+" created.")
}

// GroupShow handles GET /groups/:name: the group and a page of its members.
func (h *Handlers) GroupShow(c echo.Context) error {
	return h.renderGroup(c, http.StatusOK, views.Form{})
}

func (h *Handlers) renderGroup(c echo.Context, status int, f views.Form) error {
	name := c.Param("name")
	g, err := h.RAM.GetGroup(ctx(c), ActorOf(c), name)
	if err != nil {
		return err
	}
	base := groupHref(g.GroupName)
	m := views.GroupDetail{Layout: h.layout(c, g.GroupName), Base: base, Name: g.GroupName, Comments: g.Comments, GroupID: g.GroupID,
		Created: date(g.CreatedAt), Updated: date(g.UpdatedAt), ARN: "acs:ram::" + h.RAM.AccountID(ctx(c)) + ":group/" + g.GroupName, Form: f}
	ref := ram.GroupRef(g.GroupName)
	m.Can = h.permissions(c, []ram.Ref{ref}, "ram:UpdateGroup", "ram:DeleteGroup", "ram:AddUserToGroup")
	m.Can["ram:RemoveUserFromGroup"] = h.can(c, "ram:RemoveUserFromGroup", ram.AllUsersRef(), ref)
	page := &ram.MemberPage{}
	if h.can(c, "ram:ListUsersForGroup", ref) {
		page, err = h.RAM.ListUsersForGroup(ctx(c), ActorOf(c), g.GroupName, c.QueryParam("marker"), listPageSize)
		if e, ok := ram.AsError(err); ok && e.Kind == ram.EINVALID {
			return echo.NewHTTPError(http.StatusBadRequest, e.Message)
		}
		if err != nil {
			return err
		}
	} else {
		m.MembersDenied = "ram:ListUsersForGroup" // looking is not audited as a refusal
	}
	for _, mem := range page.Members {
		m.Members = append(m.Members, views.MemberRow{Name: mem.UserName, DisplayName: mem.DisplayName, Href: userHref(mem.UserName),
			Joined: date(mem.JoinedAt), RemoveAction: base + "/members/" + url.PathEscape(mem.UserName) + "/remove"})
	}
	if page.IsTruncated {
		m.NextHref = base + "?" + url.Values{"marker": {page.Marker}}.Encode()
	}
	if m.Policies, err = h.principalPolicies(c, "group", g.GroupName); err != nil {
		return err
	}
	return Render(c, status, views.GroupPage(m))
}

// GroupEditForm handles GET /groups/:name/edit.
func (h *Handlers) GroupEditForm(c echo.Context) error {
	g, err := h.RAM.GetGroup(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{"name": g.GroupName, "comments": g.Comments}}
	f = h.restoreDraft(c, groupHref(g.GroupName)+"/edit", f, "name", "comments")
	return Render(c, http.StatusOK, views.GroupEditPage(views.GroupEdit{Layout: h.layout(c, "Edit "+g.GroupName), Name: g.GroupName, Form: f}))
}

// GroupUpdate handles POST /groups/:name/edit.
func (h *Handlers) GroupUpdate(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, "name", "comments")
	newName, comments := strings.TrimSpace(vals["name"]), vals["comments"]
	g, err := h.RAM.UpdateGroup(ctx(c), ActorOf(c), name, &newName, &comments)
	if fields, ok := fieldErrors(err); ok {
		m := views.GroupEdit{Layout: h.layout(c, "Edit "+name), Name: name, Form: views.Form{Values: vals, Errors: fields}}
		return Render(c, formStatus(err), views.GroupEditPage(m))
	}
	if err != nil {
		return err
	}
	return flashDone(c, groupHref(g.GroupName), "Group "+g.GroupName+" updated.")
}

// GroupDeleteForm handles GET /groups/:name/delete.
func (h *Handlers) GroupDeleteForm(c echo.Context) error {
	return h.renderGroupDelete(c, http.StatusOK, views.Form{})
}

func (h *Handlers) renderGroupDelete(c echo.Context, status int, f views.Form) error {
	g, err := h.RAM.GetGroup(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	page, err := h.RAM.ListUsersForGroup(ctx(c), ActorOf(c), g.GroupName, "", 1000)
	if err != nil {
		return err
	}
	m := views.GroupDelete{Layout: h.layout(c, "Delete "+g.GroupName), Name: g.GroupName, Members: len(page.Members), Form: f}
	m.MoreMembers = page.IsTruncated
	return Render(c, status, views.GroupDeletePage(m))
}

// GroupDelete handles POST /groups/:name/delete. A group with members is
// emptied first when the person ticked "remove its members".
func (h *Handlers) GroupDelete(c echo.Context) error {
	name := c.Param("name")
	if c.FormValue("confirm") != name {
		return h.renderGroupDelete(c, http.StatusUnprocessableEntity, views.Form{Values: map[string]string{"confirm": c.FormValue("confirm")},
			Errors: map[string]string{"confirm": "Type the group name exactly to confirm."}})
	}
	err := h.RAM.DeleteGroup(ctx(c), ActorOf(c), name, checked(c, "empty"))
	if e, ok := ram.AsError(err); ok && e.Kind == ram.ECONFLICT {
		return h.renderGroupDelete(c, http.StatusConflict, views.Form{Values: map[string]string{"confirm": name},
			Errors: map[string]string{"empty": e.Message + " Tick the box to remove the members with it."}})
	}
	if err != nil {
		return err
	}
	return flashDone(c, "/groups", "Group "+name+" deleted.")
}

// GroupMemberAdd handles POST /groups/:name/members with user.
func (h *Handlers) GroupMemberAdd(c echo.Context) error {
	name := c.Param("name")
	users := FormUsers(c)
	if len(users) == 0 {
		_ = SessionOf(c).AddFlash(flashErrorPrefix + "Tick at least one user.")
		return redirect(c, groupHref(name)+"/members/add")
	}
	if len(users) > maxBulkUsers {
		return echo.NewHTTPError(http.StatusBadRequest, "At most 50 users at a time.")
	}
	var added []string
	for _, user := range users {
		err := h.RAM.AddUserToGroup(ctx(c), ActorOf(c), name, user)
		if ram.ErrorKind(err) == ram.ENOTFOUND && len(users) == 1 && len(user) <= maxNameLength {
			if _, gerr := h.RAM.GetGroup(ctx(c), ActorOf(c), name); gerr == nil {
				// A mistyped name: the picker keeps it and suggests the nearest.
				return redirect(c, groupHref(name)+"/members/add?missing="+url.QueryEscape(user)+"&q="+url.QueryEscape(user))
			}
		}
		if err != nil {
			if len(added) > 0 {
				_ = SessionOf(c).AddFlash(flashErrorPrefix + strings.Join(added, ", ") + " added; " + user + ": " + errMessage(err))
				return redirect(c, groupHref(name))
			}
			return h.membershipError(c, err, groupHref(name))
		}
		added = append(added, user)
	}
	return flashDone(c, groupHref(name), strings.Join(added, ", ")+" added to "+name+".")
}

// errMessage is a domain error's message for people.
func errMessage(err error) string {
	if e, ok := ram.AsError(err); ok {
		return e.Message
	}
	return "something went wrong"
}

// GroupMemberRemove handles POST /groups/:name/members/:user/remove.
func (h *Handlers) GroupMemberRemove(c echo.Context) error {
	name, user := c.Param("name"), c.Param("user")
	if err := h.RAM.RemoveUserFromGroup(ctx(c), ActorOf(c), name, user); err != nil {
		return err
	}
	return flashDone(c, groupHref(name), user+" removed from "+name+".")
}

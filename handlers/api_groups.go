package handlers

import (
	"ramconsole/ram"
)

// OpenAPI actions on groups and their members.

// apiGroup is RAM's Group; each action fills the fields its answer carries.
type apiGroup struct {
	GroupID    string `json:"GroupId,omitempty" xml:"GroupId,omitempty"`
	GroupName  string `json:",omitempty" xml:",omitempty"`
	Comments   string `json:",omitempty" xml:",omitempty"`
	CreateDate string `json:",omitempty" xml:",omitempty"`
	UpdateDate string `json:",omitempty" xml:",omitempty"`
	AttachDate string `json:",omitempty" xml:",omitempty"`
	JoinDate   string `json:",omitempty" xml:",omitempty"`
}

func toAPIGroup(g *ram.Group) apiGroup {
	return apiGroup{GroupID: g.GroupID, GroupName: g.GroupName, Comments: g.Comments, CreateDate: apiDate(g.CreatedAt),
		UpdateDate: apiDate(g.UpdatedAt)}
}

type apiGroups struct {
	Group []apiGroup
}

type groupResponse struct {
	apiMeta
	Group apiGroup
}

type listGroupsResponse struct {
	apiMeta
	IsTruncated bool
	Marker      string `json:",omitempty" xml:",omitempty"`
	Groups      apiGroups
}

type groupsResponse struct {
	apiMeta
	Groups apiGroups
}

func apiCreateGroup(c *apiCall) (apiResponse, error) {
	g, err := c.svc.CreateGroup(c.ctx, c.actor, c.p["GroupName"], c.p["Comments"])
	if err != nil {
		return nil, err
	}
	out := toAPIGroup(g)
	out.UpdateDate = ""
	return &groupResponse{Group: out}, nil
}

func apiGetGroup(c *apiCall) (apiResponse, error) {
	g, err := c.svc.GetGroup(c.ctx, c.actor, c.p["GroupName"])
	if err != nil {
		return nil, err
	}
	return &groupResponse{Group: toAPIGroup(g)}, nil
}

func apiUpdateGroup(c *apiCall) (apiResponse, error) {
	g, err := c.svc.UpdateGroup(c.ctx, c.actor, c.p["GroupName"], c.p.opt("NewGroupName"), c.p.opt("NewComments"))
	if err != nil {
		return nil, err
	}
	return &groupResponse{Group: toAPIGroup(g)}, nil
}

// apiDeleteGroup does not cascade: the console can empty a group first;
// the API refuses with DeleteConflict.Group.* while it has members or
// policies, as Alibaba Cloud RAM does.
func apiDeleteGroup(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteGroup(c.ctx, c.actor, c.p["GroupName"], false))
}

// maxItems reads MaxItems (0 = the default page size).
func maxItems(p apiParams) (int, error) {
	n, err := p.intOpt("MaxItems")
	if err != nil {
		return 0, err
	}
	if n == nil {
		return 0, nil
	}
	if *n == 0 {
		return 0, apiError("InvalidParameter.MaxItems", "MaxItems must be from 1 to 1000.")
	}
	return *n, nil
}

func apiListGroups(c *apiCall) (apiResponse, error) {
	n, err := maxItems(c.p)
	if err != nil {
		return nil, err
	}
	page, err := c.svc.ListGroups(c.ctx, c.actor, "", c.p["Marker"], n)
	if err != nil {
		return nil, err
	}
	out := &listGroupsResponse{IsTruncated: page.IsTruncated, Marker: page.Marker, Groups: apiGroups{Group: make([]apiGroup, 0, len(page.Groups))}}
	for i := range page.Groups {
		out.Groups.Group = append(out.Groups.Group, toAPIGroup(&page.Groups[i]))
	}
	return out, nil
}

func apiAddUserToGroup(c *apiCall) (apiResponse, error) {
	return empty(c.svc.AddUserToGroup(c.ctx, c.actor, c.p["GroupName"], c.p["UserName"]))
}

func apiRemoveUserFromGroup(c *apiCall) (apiResponse, error) {
	return empty(c.svc.RemoveUserFromGroup(c.ctx, c.actor, c.p["GroupName"], c.p["UserName"]))
}

func apiListGroupsForUser(c *apiCall) (apiResponse, error) {
	groups, err := c.svc.ListGroupsForUser(c.ctx, c.actor, c.p["UserName"])
	if err != nil {
		return nil, err
	}
	out := &groupsResponse{Groups: apiGroups{Group: make([]apiGroup, 0, len(groups))}}
	for _, g := range groups {
		out.Groups.Group = append(out.Groups.Group, apiGroup{GroupName: g.GroupName, Comments: g.Comments, JoinDate: apiDate(g.JoinedAt)})
	}
	return out, nil
}

func apiListUsersForGroup(c *apiCall) (apiResponse, error) {
	n, err := maxItems(c.p)
	if err != nil {
		return nil, err
	}
	page, err := c.svc.ListUsersForGroup(c.ctx, c.actor, c.p["GroupName"], c.p["Marker"], n)
	if err != nil {
		return nil, err
	}
	out := &listUsersResponse{IsTruncated: page.IsTruncated, Marker: page.Marker, Users: apiUsers{User: make([]apiUser, 0, len(page.Members))}}
	for _, m := range page.Members {
		out.Users.User = append(out.Users.User, apiUser{UserName: m.UserName, DisplayName: m.DisplayName, JoinDate: apiDate(m.JoinedAt)})
	}
	return out, nil
}

package ram

import (
	"context"
	"errors"
	"slices"
	"strconv"

	"ramconsole/store"
)

// Group is a RAM user group.
type Group = store.Group

// Member is a user in a group.
type Member = store.Member

func newGroupID() string { return "g-" + randomAlnum(16) }

// CreateGroup creates a group.
func (s *Service) CreateGroup(ctx context.Context, a Actor, name, comments string) (*Group, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:CreateGroup", allGroupsResource(acct)); err != nil {
		return nil, err
	}
	var fe fieldErrors
	checkName(&fe, "name", "GroupName", "group name", name)
	checkText(&fe, "comments", "Comments", comments, 0, maxCommentsLength)
	if err := fe.err(); err != nil {
		return nil, s.refuse(ctx, a, acct, "CreateGroup", name, err)
	}
	g := &store.Group{GroupID: newGroupID(), GroupName: name, Comments: comments}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.CountGroups(ctx)
		if err != nil {
			return err
		}
		if n >= MaxGroups {
			return limit("LimitExceeded.Group", "The account already has the maximum of 300 groups.")
		}
		if err := tx.CreateGroup(ctx, g); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.Group", Message: "A group with this name already exists.",
					Fields: map[string]string{"name": "A group with this name already exists (names are not case-sensitive)."}}
			}
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "CreateGroup", name, map[string]any{"GroupName": name, "Comments": comments}))
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "CreateGroup", name, err)
	}
	return g, nil
}

// GetGroup returns a group.
func (s *Service) GetGroup(ctx context.Context, a Actor, name string) (*Group, error) {
	_, g, err := s.authorizeGroup(ctx, a, "ram:GetGroup", name)
	return g, err
}

// UpdateGroup renames a group or changes its comments (nil = unchanged).
func (s *Service) UpdateGroup(ctx context.Context, a Actor, name string, newName, newComments *string) (*Group, error) {
	acct, old, err := s.authorizeGroup(ctx, a, "ram:UpdateGroup", name)
	if err != nil {
		return nil, s.refused(ctx, a, acct, "UpdateGroup", name, err)
	}
	if newName != nil && *newName != old.GroupName {
		// A rename must be allowed on the new name too, or a group could be
		// renamed into a name that other statements trust.
		if err := nameError("name", "NewGroupName", "group name", *newName); err != nil {
			return nil, s.refuse(ctx, a, acct, "UpdateGroup", name, err)
		}
		if err := s.authorize(ctx, a, "ram:UpdateGroup", unresolved(acct, "group", *newName)); err != nil {
			return nil, err
		}
	}
	var g *store.Group
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		if g, err = s.sameGroup(ctx, tx, old); err != nil {
			return err
		}
		params := map[string]any{"GroupName": g.GroupName}
		var fe fieldErrors
		if newName != nil {
			checkName(&fe, "name", "NewGroupName", "group name", *newName)
			g.GroupName = *newName
			params["NewGroupName"] = *newName
		}
		if newComments != nil {
			checkText(&fe, "comments", "NewComments", *newComments, 0, maxCommentsLength)
			g.Comments = *newComments
			params["NewComments"] = *newComments
		}
		if err := fe.err(); err != nil {
			return err
		}
		if err := tx.UpdateGroup(ctx, g); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.Group", Message: "A group with this name already exists.",
					Fields: map[string]string{"name": "A group with this name already exists (names are not case-sensitive)."}}
			}
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "UpdateGroup", name, params))
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "UpdateGroup", name, err)
	}
	return g, nil
}

// DeleteGroup deletes a group. RAM refuses while it has members or policies
// (DeleteConflict.Group.*); with cascade (the console, after the person
// agreed) its memberships and attachments go with it, counted in the event.
func (s *Service) DeleteGroup(ctx context.Context, a Actor, name string, cascade bool) error {
	acct, target, err := s.authorizeGroup(ctx, a, "ram:DeleteGroup", name)
	if err != nil {
		return s.refused(ctx, a, acct, "DeleteGroup", name, err)
	}
	var plan *cascadePlan
	if cascade {
		// Each removal and detachment the cascade performs must be allowed
		// on its own: a cascade is no way around a refused detach.
		if plan, err = s.groupCascade(ctx, s.st.Reads, acct, target); err != nil {
			return err
		}
		if err := s.authorizeCascade(ctx, a, plan); err != nil {
			return err
		}
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		g, err := s.sameGroup(ctx, tx, target)
		if err != nil {
			return err
		}
		if cascade {
			if err := s.sameCascade(ctx, tx, plan, func() (*cascadePlan, error) { return s.groupCascade(ctx, tx.Reads, acct, g) }); err != nil {
				return err
			}
		}
		n, err := tx.CountMembers(ctx, g.GroupID)
		if err != nil {
			return err
		}
		if n > 0 && !cascade {
			return conflict("DeleteConflict.Group.User", "The group still has members. Remove them first.")
		}
		if sys, custom, err := tx.CountAttachments(ctx, store.Attachment{GroupID: g.GroupID}); err != nil {
			return err
		} else if sys+custom > 0 && !cascade {
			return conflict("DeleteConflict.Group.Policy", "The group still has policies attached. Detach them first.")
		}
		if err := tx.DeleteGroup(ctx, g.GroupID); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "DeleteGroup", g.GroupName, map[string]any{"GroupName": g.GroupName})
		if cascade && n > 0 {
			ev.AdditionalEventData = map[string]any{"removedMembers": n}
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "DeleteGroup", name, err)
	}
	return nil
}

// GroupPage is one page of a group list.
type GroupPage struct {
	Groups      []Group
	Marker      string
	IsTruncated bool
}

// ListGroups returns a page of groups ordered by name, optionally those
// whose name starts with query.
func (s *Service) ListGroups(ctx context.Context, a Actor, query, marker string, maxItems int) (*GroupPage, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:ListGroups", allGroupsResource(acct)); err != nil {
		return nil, err
	}
	size, after, err := pageArgs(maxItems, marker)
	if err != nil {
		return nil, err
	}
	groups, err := s.st.Groups(ctx, store.GroupFilter{Query: query, After: after, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	page := &GroupPage{Groups: groups}
	if len(groups) > size {
		page.Groups, page.IsTruncated = groups[:size], true
		page.Marker = encodeMarker(groups[size-1].GroupName)
	}
	return page, nil
}

// membership validates and authorises an add or remove of a user and a
// group, on both stored entities.
func (s *Service) membership(ctx context.Context, a Actor, action, groupName, userName string) (string, *store.Group, *store.User, error) {
	acct := s.accountID(ctx)
	var fe fieldErrors
	checkName(&fe, "group", "GroupName", "group name", groupName)
	checkName(&fe, "user", "UserName", "user name", userName)
	if err := fe.err(); err != nil {
		return acct, nil, nil, err
	}
	ures, u, err := s.lookupUser(ctx, s.st, acct, userName)
	if err != nil {
		return acct, nil, nil, err
	}
	gres, g, err := s.lookupGroup(ctx, s.st, acct, groupName)
	if err != nil {
		return acct, nil, nil, err
	}
	if err := s.authorize(ctx, a, action, ures, gres); err != nil {
		return acct, nil, nil, err
	}
	if g == nil {
		return acct, nil, nil, notFound("EntityNotExist.Group", "group")
	}
	if u == nil {
		return acct, nil, nil, notFound("EntityNotExist.User", "user")
	}
	return acct, g, u, nil
}

// groupAndUser re-reads both sides of a membership inside tx.
func (s *Service) groupAndUser(ctx context.Context, tx *store.Tx, g *store.Group, u *store.User) (*store.Group, *store.User, error) {
	g, err := s.sameGroup(ctx, tx, g)
	if err != nil {
		return nil, nil, err
	}
	u, err = s.sameUser(ctx, tx, u)
	if err != nil {
		return nil, nil, err
	}
	return g, u, nil
}

// AddUserToGroup adds a user to a group.
func (s *Service) AddUserToGroup(ctx context.Context, a Actor, groupName, userName string) error {
	_, _, err := s.addMembers(ctx, a, []string{groupName}, []string{userName}, true)
	return err
}

// AddUsersToGroups adds every user to every group (the console's bulk
// action), all or nothing: each membership is checked as AddUserToGroup
// checks it (names, the stored user and group, authorisation on both, the
// per-user group limit) before any is made, and each made is recorded as
// its own AddUserToGroup event. A membership already in place is counted in
// already, not made again.
func (s *Service) AddUsersToGroups(ctx context.Context, a Actor, groupNames, userNames []string) (added, already int, err error) {
	return s.addMembers(ctx, a, groupNames, userNames, false)
}

// addMembers is AddUserToGroup for every group × user pair in one
// transaction; strict makes a membership already in place the
// EntityAlreadyExists error.
func (s *Service) addMembers(ctx context.Context, a Actor, groupNames, userNames []string, strict bool) (added, already int, err error) {
	acct := s.accountID(ctx)
	type pair struct {
		g *store.Group
		u *store.User
	}
	pairs := make([]pair, 0, len(groupNames)*len(userNames))
	for _, gn := range groupNames {
		for _, un := range userNames {
			_, g, u, err := s.membership(ctx, a, "ram:AddUserToGroup", gn, un)
			if err != nil {
				return 0, 0, s.refused(ctx, a, acct, "AddUserToGroup", gn, err)
			}
			pairs = append(pairs, pair{g, u})
		}
	}
	failed := "" // the group of the membership that could not be made
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		added, already = 0, 0
		for _, p := range pairs {
			failed = p.g.GroupName
			g, u, err := s.groupAndUser(ctx, tx, p.g, p.u)
			if err != nil {
				return err
			}
			in, err := tx.GroupsForUser(ctx, u.UserID)
			if err != nil {
				return err
			}
			if slices.ContainsFunc(in, func(x store.Group) bool { return x.GroupID == g.GroupID }) {
				if strict {
					return conflict("EntityAlreadyExists.User.Group", "The user is already in this group.")
				}
				already++
				continue
			}
			if len(in) >= MaxGroupsPerUser {
				msg := "A user can be in at most " + strconv.Itoa(MaxGroupsPerUser) + " groups."
				if !strict {
					msg = msg[:len(msg)-1] + "; " + u.UserName + " is in " + strconv.Itoa(len(in)) + " already."
				}
				return limit("LimitExceeded.User.Group", msg)
			}
			if err := tx.AddMember(ctx, g.GroupID, u.UserID); errors.Is(err, store.ErrConflict) {
				return conflict("EntityAlreadyExists.User.Group", "The user is already in this group.")
			} else if err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, s.change(ctx, a, acct, "AddUserToGroup", g.GroupName, map[string]any{"GroupName": g.GroupName, "UserName": u.UserName})); err != nil {
				return err
			}
			added++
		}
		return nil
	})
	if err != nil {
		return 0, 0, s.refuse(ctx, a, acct, "AddUserToGroup", failed, err)
	}
	return added, already, nil
}

// RemoveUserFromGroup takes a user out of a group.
func (s *Service) RemoveUserFromGroup(ctx context.Context, a Actor, groupName, userName string) error {
	acct, g0, u0, err := s.membership(ctx, a, "ram:RemoveUserFromGroup", groupName, userName)
	if err != nil {
		return s.refused(ctx, a, acct, "RemoveUserFromGroup", groupName, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		g, u, err := s.groupAndUser(ctx, tx, g0, u0)
		if err != nil {
			return err
		}
		if err := tx.RemoveMember(ctx, g.GroupID, u.UserID); errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist.User.Group", "membership")
		} else if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "RemoveUserFromGroup", g.GroupName, map[string]any{"GroupName": g.GroupName, "UserName": u.UserName}))
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "RemoveUserFromGroup", groupName, err)
	}
	return nil
}

// ListGroupsForUser returns the groups a user is in.
func (s *Service) ListGroupsForUser(ctx context.Context, a Actor, userName string) ([]Group, error) {
	_, u, err := s.authorizeUser(ctx, a, "ram:ListGroupsForUser", userName)
	if err != nil {
		return nil, err
	}
	return s.st.GroupsForUser(ctx, u.UserID)
}

// MemberPage is one page of a group's members.
type MemberPage struct {
	Members     []Member
	Marker      string
	IsTruncated bool
}

// ListUsersForGroup returns a page of a group's members.
func (s *Service) ListUsersForGroup(ctx context.Context, a Actor, groupName, marker string, maxItems int) (*MemberPage, error) {
	_, g, err := s.authorizeGroup(ctx, a, "ram:ListUsersForGroup", groupName)
	if err != nil {
		return nil, err
	}
	size, after, err := pageArgs(maxItems, marker)
	if err != nil {
		return nil, err
	}
	members, err := s.st.Members(ctx, g.GroupID, after, size+1)
	if err != nil {
		return nil, err
	}
	page := &MemberPage{Members: members}
	if len(members) > size {
		page.Members, page.IsTruncated = members[:size], true
		page.Marker = encodeMarker(members[size-1].UserName)
	}
	return page, nil
}

func (s *Service) groupByID(ctx context.Context, id string) (*store.Group, error) {
	g, err := s.st.GroupByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("EntityNotExist.Group", "group")
	}
	return g, err
}

package ram

import (
	"fmt"
	"strings"
	"testing"
)

// fillGroups adds n groups named prefix-<number> straight in the store;
// the users join them.
func (e *testEnv) fillGroups(t *testing.T, prefix string, n int, userIDs ...string) {
	t.Helper()
	e.fillRows(t, n, "groups", []string{"group_id", "group_name", "group_name_lower", "comments", "created_at", "updated_at"},
		[]string{"? || i", "? || (100+i)", "? || (100+i)", "''", "?", "?"}, "g-"+prefix+"-", prefix+"-", prefix+"-", fillTime, fillTime)
	for _, id := range userIDs {
		e.fillRows(t, n, "group_members", []string{"group_id", "user_id", "joined_at"}, []string{"? || i", "?", "?"},
			"g-"+prefix+"-", id, fillTime)
	}
}

// The groups' rules, on one account (each part names its own groups and
// users; the account is filled to its limit last).
func TestGroups(t *testing.T) {
	onOneAccount(t,
		part{"UpdateGroup", testUpdateGroup},
		part{"membership", testGroupMembership},
		part{"DeleteGroup", testDeleteGroup},
		part{"CreateGroup", testCreateGroup},
	)
}

// CreateGroup keeps names unique case-insensitively, validates with RAM's
// codes and stops at 300 groups.
func testCreateGroup(t *testing.T, e *testEnv) {
	reader := e.member(t, "reader", "AliyunRAMReadOnlyAccess")
	create := func(a Actor, name, comments string) func() error {
		return func() error { return ignore(e.svc.CreateGroup(e.ctx, a, name, comments)) }
	}
	e.check(t, []rule{
		{"a new group is created and recorded", create(e.owner, "sales", "Sales people"), "", []string{"CreateGroup"}},
		{"a name taken in another case is EntityAlreadyExists.Group", create(e.owner, "SALES", ""),
			"EntityAlreadyExists.Group", []string{"CreateGroup/EntityAlreadyExists.Group"}},
		{"a slash in the name is InvalidChars", create(e.owner, "dev/ops", ""),
			"InvalidParameter.GroupName.InvalidChars", []string{"CreateGroup/InvalidParameter.GroupName.InvalidChars"}},
		{"an empty name is refused", create(e.owner, "", ""), "InvalidParameter.GroupName.Length", []string{"CreateGroup/InvalidParameter.GroupName.Length"}},
		{"comments longer than 128 characters are refused", create(e.owner, "ops", strings.Repeat("c", 129)),
			"InvalidParameter.Comments.Length", []string{"CreateGroup/InvalidParameter.Comments.Length"}},
		{"a read-only user may not create groups", create(reader, "ops", ""), "NoPermission", []string{"CreateGroup/NoPermission"}},
	})
	n, err := e.st.CountGroups(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.fillGroups(t, "filler", MaxGroups-n)
	e.expect(t, create(e.owner, "one-too-many", ""), "LimitExceeded.Group", "CreateGroup/LimitExceeded.Group")
	if g, err := e.svc.GetGroup(e.ctx, reader, "Sales"); err != nil || g.GroupName != "sales" || g.Comments != "Sales people" {
		t.Errorf("GetGroup(Sales) = %+v, %v", g, err)
	}
}

// A group's rename must be allowed on the new name too, and keeps names
// unique.
func testUpdateGroup(t *testing.T, e *testEnv) {
	for _, g := range []string{"web", "api"} {
		if _, err := e.svc.CreateGroup(e.ctx, e.owner, g, ""); err != nil {
			t.Fatal(err)
		}
	}
	editor := e.granted(t, "editor", doc(allow([]string{e.arn("group", "web")}, "ram:UpdateGroup")))
	update := func(a Actor, name string, newName, comments *string) func() error {
		return func() error { return ignore(e.svc.UpdateGroup(e.ctx, a, name, newName, comments)) }
	}
	e.check(t, []rule{
		{"comments change on the group's own ARN", update(editor, "WEB", nil, ptr("Web developers")), "", []string{"UpdateGroup"}},
		{"a rename must be allowed on the new name", update(editor, "web", ptr("webs"), nil), "NoPermission", []string{"UpdateGroup/NoPermission"}},
		{"a name taken in another case is EntityAlreadyExists.Group", update(e.owner, "web", ptr("API"), nil),
			"EntityAlreadyExists.Group", []string{"UpdateGroup/EntityAlreadyExists.Group"}},
		{"a new name with a space is InvalidChars", update(e.owner, "web", ptr("web team"), nil),
			"InvalidParameter.NewGroupName.InvalidChars", []string{"UpdateGroup/InvalidParameter.NewGroupName.InvalidChars"}},
		{"new comments longer than 128 characters are refused", update(e.owner, "web", nil, ptr(strings.Repeat("c", 129))),
			"InvalidParameter.NewComments.Length", []string{"UpdateGroup/InvalidParameter.NewComments.Length"}},
		{"an unknown group is EntityNotExist.Group", update(e.owner, "qa", nil, ptr("")), "EntityNotExist.Group", []string{"UpdateGroup/EntityNotExist.Group"}},
		{"the owner renames a group", update(e.owner, "web", ptr("webs"), nil), "", []string{"UpdateGroup"}},
	})
	if g, err := e.svc.GetGroup(e.ctx, e.owner, "webs"); err != nil || g.Comments != "Web developers" {
		t.Errorf("GetGroup(webs) = %+v, %v", g, err)
	}
}

// Adding and removing members is authorised on both the user and the
// group, and a user is in at most 10 groups.
func testGroupMembership(t *testing.T, e *testEnv) {
	for _, g := range []string{"dev", "ops"} {
		if _, err := e.svc.CreateGroup(e.ctx, e.owner, g, ""); err != nil {
			t.Fatal(err)
		}
	}
	e.newUser(t, "ann")
	ben := e.newUser(t, "ben")
	groupOnly := e.granted(t, "lead", doc(allow([]string{e.arn("group", "dev")}, "ram:AddUserToGroup")))
	both := e.granted(t, "lead2", doc(allow([]string{e.arn("group", "dev"), e.arn("user", "ben")}, "ram:AddUserToGroup")))
	add := func(a Actor, group, user string) func() error {
		return func() error { return e.svc.AddUserToGroup(e.ctx, a, group, user) }
	}
	remove := func(group, user string) func() error {
		return func() error { return e.svc.RemoveUserFromGroup(e.ctx, e.owner, group, user) }
	}
	e.check(t, []rule{
		{"the owner adds a user to a group", add(e.owner, "dev", "ann"), "", []string{"AddUserToGroup"}},
		{"adding again, spelled otherwise, is EntityAlreadyExists.User.Group", add(e.owner, "DEV", "ANN"),
			"EntityAlreadyExists.User.Group", []string{"AddUserToGroup/EntityAlreadyExists.User.Group"}},
		{"an unknown group is EntityNotExist.Group", add(e.owner, "qa", "ann"), "EntityNotExist.Group", []string{"AddUserToGroup/EntityNotExist.Group"}},
		{"an unknown user is EntityNotExist.User", add(e.owner, "dev", "zoe"), "EntityNotExist.User", []string{"AddUserToGroup/EntityNotExist.User"}},
		{"a bad group name is InvalidChars", add(e.owner, "dev ops", "ann"),
			"InvalidParameter.GroupName.InvalidChars", []string{"AddUserToGroup/InvalidParameter.GroupName.InvalidChars"}},
		{"allowed on the group alone is not enough", add(groupOnly, "dev", "ben"), "NoPermission", []string{"AddUserToGroup/NoPermission"}},
		{"allowed on both the user and the group", add(both, "dev", "ben"), "", []string{"AddUserToGroup"}},
		{"the owner removes a member", remove("dev", "ann"), "", []string{"RemoveUserFromGroup"}},
		{"removing a non-member is EntityNotExist.User.Group", remove("dev", "ann"),
			"EntityNotExist.User.Group", []string{"RemoveUserFromGroup/EntityNotExist.User.Group"}},
	})
	e.fillGroups(t, "member", MaxGroupsPerUser-1, ben.UserID) // and dev: ben is in 10
	e.expect(t, add(e.owner, "ops", "ben"), "LimitExceeded.User.Group", "AddUserToGroup/LimitExceeded.User.Group")
	if gs, err := e.svc.ListGroupsForUser(e.ctx, e.owner, "ben"); err != nil || len(gs) != MaxGroupsPerUser {
		t.Errorf("ListGroupsForUser(ben) = %d groups, %v; want %d", len(gs), err, MaxGroupsPerUser)
	}
	if gs, err := e.svc.ListGroupsForUser(e.ctx, e.owner, "ann"); err != nil || len(gs) != 0 {
		t.Errorf("ListGroupsForUser(ann) = %v, %v; want none", gs, err)
	}
	page, err := e.svc.ListGroups(e.ctx, e.owner, "member-", "", 5)
	if err != nil || len(page.Groups) != 5 || !page.IsTruncated || page.Groups[0].GroupName != "member-101" {
		t.Fatalf("ListGroups(member-, 5) = %+v, %v", page, err)
	}
	if next, err := e.svc.ListGroups(e.ctx, e.owner, "member-", page.Marker, 5); err != nil || len(next.Groups) != 4 || next.IsTruncated {
		t.Errorf("the second page: %+v, %v", next, err)
	}
}

// A group with members or policies is not deleted through the API
// (DeleteConflict.Group.*); the console's cascade removes both, each
// removal authorised on its own.
func testDeleteGroup(t *testing.T, e *testEnv) {
	for _, g := range []string{"team", "solo"} {
		if _, err := e.svc.CreateGroup(e.ctx, e.owner, g, ""); err != nil {
			t.Fatal(err)
		}
		e.attach(t, kindGroup, PolicyTypeSystem, "AliyunOSSReadOnlyAccess", g)
	}
	e.newUser(t, "dora")
	if err := e.svc.AddUserToGroup(e.ctx, e.owner, "team", "dora"); err != nil {
		t.Fatal(err)
	}
	deleter := e.granted(t, "deleter", doc(allow([]string{"*"}, "ram:DeleteGroup", "ram:RemoveUserFromGroup")))
	del := func(a Actor, name string, cascade bool) func() error {
		return func() error { return e.svc.DeleteGroup(e.ctx, a, name, cascade) }
	}
	e.check(t, []rule{
		{"members refuse the delete", del(e.owner, "team", false), "DeleteConflict.Group.User", []string{"DeleteGroup/DeleteConflict.Group.User"}},
		{"policies refuse the delete", del(e.owner, "solo", false), "DeleteConflict.Group.Policy", []string{"DeleteGroup/DeleteConflict.Group.Policy"}},
		{"a cascade needs each detachment allowed", del(deleter, "team", true), "NoPermission", []string{"DetachPolicyFromGroup/NoPermission"}},
	})
	ev := only(t, e.expect(t, del(e.owner, "TEAM", true), "", "DeleteGroup"))
	if n := fmt.Sprint(ev.AdditionalEventData["removedMembers"]); n != "1" {
		t.Errorf("the owner's cascade counts %s members removed, want 1", n)
	}
	e.check(t, []rule{
		{"an unknown group is EntityNotExist.Group", del(e.owner, "team", false), "EntityNotExist.Group", []string{"DeleteGroup/EntityNotExist.Group"}},
		{"a group emptied by hand is deleted", func() error {
			if err := e.svc.DetachPolicyFromGroup(e.ctx, e.owner, PolicyTypeSystem, "AliyunOSSReadOnlyAccess", "solo"); err != nil {
				return err
			}
			return e.svc.DeleteGroup(e.ctx, deleter, "solo", false)
		}, "", []string{"DetachPolicyFromGroup", "DeleteGroup"}},
	})
	if gs, err := e.svc.ListGroupsForUser(e.ctx, e.owner, "dora"); err != nil || len(gs) != 0 {
		t.Errorf("dora's groups after the cascade: %v, %v", gs, err)
	}
	if _, groups, _, err := e.svc.ListEntitiesForPolicy(e.ctx, e.owner, PolicyTypeSystem, "AliyunOSSReadOnlyAccess"); err != nil || len(groups) != 0 {
		t.Errorf("groups still holding AliyunOSSReadOnlyAccess: %v, %v", groups, err)
	}
}

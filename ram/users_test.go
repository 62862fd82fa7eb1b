package ram

import (
	"strings"
	"testing"
)

// The users' rules, on one account (each part names its own users).
func TestUsers(t *testing.T) {
	onOneAccount(t,
		part{"CreateUser", testCreateUser},
		part{"CreateUserWithAccess", testCreateUserWithAccess},
		part{"UpdateUser", testUpdateUser},
		part{"DeleteUser", testDeleteUser},
		part{"ListUsers and UserDetail", testListUsersAndDetail},
	)
}

// CreateUser validates the profile with RAM's codes, keeps names unique
// case-insensitively, reserves the owner's name and records every attempt.
func testCreateUser(t *testing.T, e *testEnv) {
	reader := e.member(t, "reader", "AliyunRAMReadOnlyAccess")
	create := func(a Actor, in UserInput) func() error {
		return func() error { return ignore(e.svc.CreateUser(e.ctx, a, in)) }
	}
	e.check(t, []rule{
		{"a new user is created and recorded", create(e.owner, UserInput{UserName: "alice", Email: "Alice@Example.com"}), "", []string{"CreateUser"}},
		{"a name taken in another case is EntityAlreadyExists.User", create(e.owner, UserInput{UserName: "ALICE"}),
			"EntityAlreadyExists.User", []string{"CreateUser/EntityAlreadyExists.User"}},
		{"a space in the name is InvalidChars", create(e.owner, UserInput{UserName: "bad name"}),
			"InvalidParameter.UserName.InvalidChars", []string{"CreateUser/InvalidParameter.UserName.InvalidChars"}},
		{"a 65-character name is too long", create(e.owner, UserInput{UserName: strings.Repeat("a", 65)}),
			"InvalidParameter.UserName.Length", []string{"CreateUser/InvalidParameter.UserName.Length"}},
		{"root is reserved in any case", create(e.owner, UserInput{UserName: "Root"}),
			"InvalidParameter.UserName.Reserved", []string{"CreateUser/InvalidParameter.UserName.Reserved"}},
		{"a display name with a line break is refused", create(e.owner, UserInput{UserName: "bob", DisplayName: "Bob\nSmith"}),
			"InvalidParameter.DisplayName.InvalidChars", []string{"CreateUser/InvalidParameter.DisplayName.InvalidChars"}},
		{"comments longer than 128 characters are refused", create(e.owner, UserInput{UserName: "bob", Comments: strings.Repeat("é", 129)}),
			"InvalidParameter.Comments.Length", []string{"CreateUser/InvalidParameter.Comments.Length"}},
		{"an email without a domain is refused", create(e.owner, UserInput{UserName: "bob", Email: "bob@localhost"}),
			"InvalidParameter.Email.Format", []string{"CreateUser/InvalidParameter.Email.Format"}},
		{"a mobile phone with letters is refused", create(e.owner, UserInput{UserName: "bob", MobilePhone: "86-1380000abcd"}),
			"InvalidParameter.MobilePhone.Format", []string{"CreateUser/InvalidParameter.MobilePhone.Format"}},
		{"a read-only user may not create users", create(reader, UserInput{UserName: "bob"}),
			"NoPermission", []string{"CreateUser/NoPermission"}},
	})
	u, err := e.svc.GetUser(e.ctx, e.owner, "Alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.UserName != "alice" || u.DisplayName != "alice" || u.Email != "alice@example.com" || len(u.UserID) != 16 {
		t.Errorf("GetUser(Alice) = %+v, want alice with its name as display name and the email in lower case", u)
	}
}

// Creating a user with console access and an AccessKey is one
// transaction: all of it, each part with its own event, or nothing.
func testCreateUserWithAccess(t *testing.T, e *testEnv) {
	hr := e.granted(t, "hr", doc(allow([]string{e.arn("user", "*")}, "ram:CreateUser", "ram:CreateLoginProfile")))
	maker := e.granted(t, "maker", doc(allow([]string{e.arn("user", "*")}, "ram:CreateUser")))
	var created *Created
	evs := e.expect(t, func() error {
		var err error
		_, created, err = e.svc.CreateUserWithAccess(e.ctx, e.owner, UserInput{UserName: "dev"},
			&NewUserAccess{GeneratePassword: true, PasswordResetRequired: true}, true)
		return err
	}, "", "CreateUser", "CreateLoginProfile", "CreateAccessKey")
	if created == nil || created.GeneratedPassword == "" || created.AccessKey == nil || created.AccessKey.UserName != "dev" {
		t.Fatalf("created %+v, want a generated password and an AccessKey", created)
	}
	for _, ev := range evs {
		if strings.Contains(ev.Body, created.GeneratedPassword) || strings.Contains(ev.Body, created.AccessKey.AccessKeySecret) {
			t.Errorf("event %s records a secret: %s", ev.EventName, ev.Body)
		}
	}
	if lp, err := e.svc.GetLoginProfile(e.ctx, e.owner, "dev"); err != nil || !lp.PasswordResetRequired {
		t.Errorf("GetLoginProfile(dev) = %+v, %v; want one that requires a reset", lp, err)
	}
	for _, tc := range []struct {
		name   string
		a      Actor
		login  *NewUserAccess
		key    bool
		code   string
		events []string
	}{
		{"a weak password refuses the user too", e.owner, &NewUserAccess{Password: "password"}, true,
			"InvalidParameter.Password.TooWeak", []string{"CreateUser/InvalidParameter.Password.TooWeak"}},
		{"a password containing the user's name is weak", e.owner, &NewUserAccess{Password: "Tester-Orbit-Ladder-17"}, false,
			"InvalidParameter.Password.TooWeak", []string{"CreateUser/InvalidParameter.Password.TooWeak"}},
		{"an AccessKey needs ram:CreateAccessKey as well", hr, nil, true, "NoPermission", []string{"CreateAccessKey/NoPermission"}},
		{"console access needs ram:CreateLoginProfile as well", maker, &NewUserAccess{GeneratePassword: true}, false,
			"NoPermission", []string{"CreateLoginProfile/NoPermission"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.expect(t, func() error {
				_, _, err := e.svc.CreateUserWithAccess(e.ctx, tc.a, UserInput{UserName: "tester"}, tc.login, tc.key)
				return err
			}, tc.code, tc.events...)
		})
	}
}

// UpdateUser finds the stored user whatever the spelling, and a rename must
// be allowed on the new name too.
func testUpdateUser(t *testing.T, e *testEnv) {
	e.newUser(t, "uma")
	e.newUser(t, "ugo")
	editor := e.granted(t, "editor", doc(allow([]string{e.arn("user", "ugo")}, "ram:UpdateUser")))
	guard := e.granted(t, "guard", doc(allow([]string{e.arn("user", "*")}, "ram:UpdateUser"), deny([]string{e.arn("user", "ugo")}, "ram:UpdateUser")))
	update := func(a Actor, name string, up UserUpdate) func() error {
		return func() error { return ignore(e.svc.UpdateUser(e.ctx, a, name, up)) }
	}
	e.check(t, []rule{
		{"the owner renames a user", update(e.owner, "UMA", UserUpdate{NewUserName: ptr("una"), NewDisplayName: ptr("Una")}), "", []string{"UpdateUser"}},
		{"a name taken in another case is EntityAlreadyExists.User", update(e.owner, "una", UserUpdate{NewUserName: ptr("UGO")}),
			"EntityAlreadyExists.User", []string{"UpdateUser/EntityAlreadyExists.User"}},
		{"root is reserved for a rename too", update(e.owner, "una", UserUpdate{NewUserName: ptr("root")}),
			"InvalidParameter.NewUserName.Reserved", []string{"UpdateUser/InvalidParameter.NewUserName.Reserved"}},
		{"a new name with a space is InvalidChars", update(e.owner, "una", UserUpdate{NewUserName: ptr("una smith")}),
			"InvalidParameter.NewUserName.InvalidChars", []string{"UpdateUser/InvalidParameter.NewUserName.InvalidChars"}},
		{"a malformed new email is refused", update(e.owner, "una", UserUpdate{NewEmail: ptr("una")}),
			"InvalidParameter.NewEmail.Format", []string{"UpdateUser/InvalidParameter.NewEmail.Format"}},
		{"an unknown user is EntityNotExist.User", update(e.owner, "ghost", UserUpdate{NewComments: ptr("x")}),
			"EntityNotExist.User", []string{"UpdateUser/EntityNotExist.User"}},
		{"a rename must be allowed on the new name", update(editor, "ugo", UserUpdate{NewUserName: ptr("uri")}),
			"NoPermission", []string{"UpdateUser/NoPermission"}},
		{"a change allowed on the user's own ARN is made", update(editor, "ugo", UserUpdate{NewDisplayName: ptr("Hugo")}), "", []string{"UpdateUser"}},
		{"another user is not the editor's", update(editor, "una", UserUpdate{NewDisplayName: ptr("U")}), "NoPermission", []string{"UpdateUser/NoPermission"}},
		{"a deny on the stored name refuses another spelling", update(guard, "UGO", UserUpdate{NewDisplayName: ptr("G")}),
			"NoPermission", []string{"UpdateUser/NoPermission"}},
	})
	if u, err := e.svc.GetUser(e.ctx, e.owner, "una"); err != nil || u.DisplayName != "Una" {
		t.Errorf("GetUser(una) = %+v, %v", u, err)
	}
	if _, err := e.svc.GetUser(e.ctx, e.owner, "uma"); errCode(err) != "EntityNotExist.User" {
		t.Errorf("GetUser(uma) after the rename: %v, want EntityNotExist.User", err)
	}
	_, err := e.svc.UpdateUser(e.ctx, guard, "Ugo", UserUpdate{NewDisplayName: ptr("G")})
	if d, ok := DenialOf(err); !ok || d.Type != "ExplicitDeny" || d.Resources[0] != e.arn("user", "ugo") || d.PolicyName != "guard-grants" {
		t.Errorf("the deny on user/ugo: %+v, want an explicit deny of the stored ARN by guard-grants", d)
	}
}

// Through the API a user with anything left is not deleted
// (DeleteConflict.User.*, in RAM's order); the console's cascade removes
// it all, each part authorised on its own.
func testDeleteUser(t *testing.T, e *testEnv) {
	if _, err := e.svc.CreateGroup(e.ctx, e.owner, "staff", ""); err != nil {
		t.Fatal(err)
	}
	// full gives a user one of everything a delete must deal with.
	full := func(name string) *NewAccessKey {
		t.Helper()
		u, _, err := e.svc.CreateUserWithAccess(e.ctx, e.owner, UserInput{UserName: name}, &NewUserAccess{GeneratePassword: true}, false)
		if err != nil {
			t.Fatal(err)
		}
		k, err := e.svc.CreateAccessKey(e.ctx, e.owner, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.svc.AddUserToGroup(e.ctx, e.owner, "staff", name); err != nil {
			t.Fatal(err)
		}
		e.bindMFA(t, actorOf(u))
		e.attach(t, kindUser, PolicyTypeSystem, "AliyunECSReadOnlyAccess", name)
		return k
	}
	k := full("leaver")
	for _, tc := range []struct {
		conflict string
		clear    func() error
	}{
		{"DeleteConflict.User.Group", func() error { return e.svc.RemoveUserFromGroup(e.ctx, e.owner, "staff", "leaver") }},
		{"DeleteConflict.User.AccessKey", func() error { return e.svc.DeleteAccessKey(e.ctx, e.owner, "leaver", k.AccessKeyID) }},
		{"DeleteConflict.User.LoginProfile", func() error { return e.svc.DeleteLoginProfile(e.ctx, e.owner, "leaver") }},
		{"DeleteConflict.User.MFADevice", func() error { return ignore(e.svc.UnbindMFADevice(e.ctx, e.owner, "leaver")) }},
		{"DeleteConflict.User.Policy", func() error {
			return e.svc.DetachPolicyFromUser(e.ctx, e.owner, PolicyTypeSystem, "AliyunECSReadOnlyAccess", "leaver")
		}},
	} {
		t.Run(tc.conflict, func(t *testing.T) {
			e.expect(t, func() error { return e.svc.DeleteUser(e.ctx, e.owner, "leaver", false) }, tc.conflict, "DeleteUser/"+tc.conflict)
			if err := tc.clear(); err != nil {
				t.Fatal(err)
			}
		})
	}
	e.expect(t, func() error { return e.svc.DeleteUser(e.ctx, e.owner, "LEAVER", false) }, "", "DeleteUser")

	// A cascade is refused when one of its parts is: here the detachment.
	full("mover")
	admin := e.granted(t, "admin", doc(allow([]string{"*"}, "ram:DeleteUser", "ram:DeleteAccessKey", "ram:DeleteLoginProfile",
		"ram:UnbindMFADevice", "ram:RemoveUserFromGroup")))
	e.expect(t, func() error { return e.svc.DeleteUser(e.ctx, admin, "mover", true) }, "NoPermission", "DetachPolicyFromUser/NoPermission")
	evs := e.expect(t, func() error { return e.svc.DeleteUser(e.ctx, e.owner, "mover", true) }, "", "DeleteUser")
	if ev := only(t, evs); ev.AdditionalEventData["cascade"] != true {
		t.Errorf("the cascade's event: %+v", ev.AdditionalEventData)
	}
	if page, err := e.svc.ListUsersForGroup(e.ctx, e.owner, "staff", "", 0); err != nil || len(page.Members) != 0 {
		t.Errorf("staff's members after both deletes: %+v, %v", page, err)
	}
	for _, name := range []string{"leaver", "mover"} {
		e.expect(t, func() error { return e.svc.DeleteUser(e.ctx, e.owner, name, true) }, "EntityNotExist.User", "DeleteUser/EntityNotExist.User")
	}
}

// ListUsers pages by name with an opaque marker; UserDetail hides each
// section the viewer may not read, without recording a refusal.
func testListUsersAndDetail(t *testing.T, e *testEnv) {
	for _, n := range []string{"page-c", "page-a", "page-e", "page-b", "page-d"} {
		e.newUser(t, n)
	}
	viewer := e.granted(t, "viewer", doc(allow([]string{e.arn("user", "*")}, "ram:GetUser", "ram:ListUsers")))
	seq := e.lastSeq(t)
	var got []string
	marker := ""
	for pages := 0; ; pages++ {
		page, err := e.svc.ListUsers(e.ctx, viewer, ListUsersInput{Query: "page-", Marker: marker, MaxItems: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.Users {
			got = append(got, u.UserName)
		}
		if !page.IsTruncated {
			if pages != 2 || page.Marker != "" {
				t.Errorf("the last page is page %d with marker %q, want page 2 and none", pages, page.Marker)
			}
			break
		}
		marker = page.Marker
	}
	if strings.Join(got, ",") != "page-a,page-b,page-c,page-d,page-e" {
		t.Errorf("ListUsers in pages of 2 = %v", got)
	}
	for _, tc := range []struct {
		name string
		in   ListUsersInput
		code string
	}{
		{"MaxItems above 1000 is refused", ListUsersInput{MaxItems: 1001}, "InvalidParameter.MaxItems"},
		{"a marker this server did not give is refused", ListUsersInput{Marker: "%%%"}, "InvalidParameter.Marker"},
	} {
		if _, err := e.svc.ListUsers(e.ctx, viewer, tc.in); errCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	d, err := e.svc.UserDetail(e.ctx, viewer, "PAGE-A")
	if err != nil {
		t.Fatal(err)
	}
	if d.User.UserName != "page-a" || len(d.Hidden) != 4 || d.Hidden[SectionAccessKeys] != "ram:ListAccessKeys" || d.LogonName != "page-a@acme" {
		t.Errorf("UserDetail for a viewer with ram:GetUser only: %+v", d)
	}
	if evs := eventNames(e.eventsSince(t, seq)); len(evs) != 0 {
		t.Errorf("reading wrote events %v", evs)
	}
	nobody := e.member(t, "nobody")
	e.expect(t, func() error { return ignore(e.svc.ListUsers(e.ctx, nobody, ListUsersInput{})) }, "NoPermission", "ListUsers/NoPermission")
}

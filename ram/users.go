package ram

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"unicode"
	"unicode/utf8"

	"ramconsole/store"
)

// User is a RAM user.
type User = store.User

// Limits (SPEC §10).
const (
	MaxUsers            = 5000
	MaxGroups           = 300
	MaxGroupsPerUser    = 10
	MaxAccessKeys       = 2
	defaultPageSize     = 100
	maxPageSize         = 1000
	maxNameLength       = 64
	maxDisplayLength    = 128
	maxCommentsLength   = 128
	maxEmailLength      = 128
	maxMobilePhoneChars = 32
)

var mobileRE = regexp.MustCompile(`^(\d{1,4}-)?\d{4,20}$`)

// checkName validates a user or group name: 1–64 of [A-Za-z0-9._-].
func checkName(fe *fieldErrors, field, param, what, v string) {
	if v == "" || len(v) > maxNameLength {
		fe.add(field, "InvalidParameter."+param+".Length", "Use 1 to %d characters for the %s.", maxNameLength, what)
		return
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			fe.add(field, "InvalidParameter."+param+".InvalidChars", "Use letters, digits, periods (.), underscores (_) and hyphens (-) only.")
			return
		}
	}
}

// checkText validates free text such as a display name or comments: any
// printable characters, no control characters, at most max characters.
func checkText(fe *fieldErrors, field, param string, v string, min, max int) {
	n := utf8.RuneCountInString(v)
	if n < min || n > max {
		if min > 0 {
			fe.add(field, "InvalidParameter."+param+".Length", "Use %d to %d characters.", min, max)
		} else {
			fe.add(field, "InvalidParameter."+param+".Length", "Use at most %d characters.", max)
		}
		return
	}
	if !utf8.ValidString(v) {
		fe.add(field, "InvalidParameter."+param+".InvalidChars", "Use printable characters only.")
		return
	}
	for _, r := range v {
		if unicode.IsControl(r) || r == utf8.RuneError {
			fe.add(field, "InvalidParameter."+param+".InvalidChars", "Use printable characters only (no line breaks or control characters).")
			return
		}
	}
}

// UserInput is a user's profile as typed in a form or sent to the API.
type UserInput struct {
	UserName    string
	DisplayName string
	Email       string
	MobilePhone string
	Comments    string
}

// validateUser checks a profile; prefix is "" for CreateUser and "New" for
// UpdateUser, matching RAM's parameter names in error codes.
func validateUser(fe *fieldErrors, in *UserInput, prefix string) {
	checkName(fe, "name", prefix+"UserName", "user name", in.UserName)
	checkText(fe, "display_name", prefix+"DisplayName", in.DisplayName, 1, maxDisplayLength)
	checkText(fe, "comments", prefix+"Comments", in.Comments, 0, maxCommentsLength)
	if in.Email != "" {
		email, msg := normalizeEmail(in.Email)
		if msg == "" && len(email) > maxEmailLength {
			msg = "Use at most 128 characters."
		}
		if msg != "" {
			fe.add("email", "InvalidParameter."+prefix+"Email.Format", "%s", msg)
		} else {
			in.Email = email
		}
	}
	if in.MobilePhone != "" && (len(in.MobilePhone) > maxMobilePhoneChars || !mobileRE.MatchString(in.MobilePhone)) {
		fe.add("mobile_phone", "InvalidParameter."+prefix+"MobilePhone.Format", "Use digits with an optional country code, like 86-13800001234.")
	}
}

// nameError validates a name used to look something up, with RAM's codes.
func nameError(field, param, what, v string) error {
	var fe fieldErrors
	checkName(&fe, field, param, what, v)
	return fe.err()
}

// CreateUser creates a RAM user.
func (s *Service) CreateUser(ctx context.Context, a Actor, in UserInput) (*User, error) {
	u, _, err := s.CreateUserWithAccess(ctx, a, in, nil, false)
	return u, err
}

// NewUserAccess is what the console's create form can add to a new user.
type NewUserAccess struct {
	// Console login: Password (typed) or GeneratePassword.
	Password              string
	GeneratePassword      bool
	PasswordResetRequired bool
	MFABindRequired       bool
}

// Created is what creating a user with access produced, shown once.
type Created struct {
	GeneratedPassword string
	AccessKey         *NewAccessKey
}

// CreateUserWithAccess creates a user and, in the same transaction, its
// login profile and an AccessKey when asked: all of it or nothing. Each RAM
// action writes its own audit event.
func (s *Service) CreateUserWithAccess(ctx context.Context, a Actor, in UserInput, login *NewUserAccess, accessKey bool) (*User, *Created, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:CreateUser", allUsersResource(acct)); err != nil {
		return nil, nil, err
	}
	if in.DisplayName == "" {
		in.DisplayName = in.UserName
	}
	var fe fieldErrors
	validateUser(&fe, &in, "")
	checkReservedUserName(&fe, "UserName", in.UserName, "")
	out := &Created{}
	var password string
	if login != nil {
		// The user does not exist yet: it will be stored as spelled.
		if err := s.authorize(ctx, a, "ram:CreateLoginProfile", unresolved(acct, "user", in.UserName)); err != nil {
			return nil, nil, err
		}
		password = login.Password
		if login.GeneratePassword {
			password = s.GeneratePassword(ctx)
			out.GeneratedPassword = password
		} else if msg := s.checkNewPassword(ctx, password, in.UserName, in.DisplayName); msg != "" {
			fe.add("password", "InvalidParameter.Password.TooWeak", "%s", msg)
		}
	}
	if accessKey {
		if err := s.authorize(ctx, a, "ram:CreateAccessKey", unresolved(acct, "user", in.UserName)); err != nil {
			return nil, nil, err
		}
	}
	if err := fe.err(); err != nil {
		return nil, nil, s.refuse(ctx, a, acct, "CreateUser", in.UserName, err)
	}
	u := &store.User{UserID: newID(16), UserName: in.UserName, DisplayName: in.DisplayName, Email: in.Email,
		MobilePhone: in.MobilePhone, Comments: in.Comments}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		n, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if n >= MaxUsers {
			return limit("LimitExceeded.User", "The account already has the maximum of 5000 users.")
		}
		if err := tx.CreateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.User", Message: "A user with this name already exists.",
					Fields: map[string]string{"name": "A user with this name already exists (names are not case-sensitive)."}}
			}
			return err
		}
		ev := s.change(ctx, a, acct, "CreateUser", u.UserName, map[string]any{"UserName": u.UserName, "DisplayName": u.DisplayName, "Email": u.Email,
			"MobilePhone": u.MobilePhone, "Comments": u.Comments})
		if err := tx.AppendEvent(ctx, ev); err != nil {
			return err
		}
		if login != nil {
			if err := s.putLoginProfile(ctx, tx, a, acct, u, password, login.PasswordResetRequired, login.MFABindRequired, "CreateLoginProfile"); err != nil {
				return err
			}
		}
		if accessKey {
			k, err := s.createAccessKey(ctx, tx, a, acct, u)
			if err != nil {
				return err
			}
			out.AccessKey = k
		}
		return nil
	})
	if err != nil {
		return nil, nil, s.refuse(ctx, a, acct, "CreateUser", in.UserName, err)
	}
	return u, out, nil
}

// GetUser returns a user by name.
func (s *Service) GetUser(ctx context.Context, a Actor, name string) (*User, error) {
	_, u, err := s.authorizeUser(ctx, a, "ram:GetUser", name)
	return u, err
}

// UserUpdate names the fields of a user to change; nil leaves one as it is.
type UserUpdate struct {
	NewUserName    *string
	NewDisplayName *string
	NewEmail       *string
	NewMobilePhone *string
	NewComments    *string
}

// UpdateUser changes a user's profile, its name included.
func (s *Service) UpdateUser(ctx context.Context, a Actor, name string, up UserUpdate) (*User, error) {
	acct, old, err := s.authorizeUser(ctx, a, "ram:UpdateUser", name)
	if err != nil {
		return nil, s.refused(ctx, a, acct, "UpdateUser", name, err)
	}
	if up.NewUserName != nil && *up.NewUserName != old.UserName {
		// A rename must be allowed on the new name too (as AWS requires), or a
		// user could rename itself into a name other statements trust.
		if err := nameError("name", "NewUserName", "user name", *up.NewUserName); err != nil {
			return nil, s.refuse(ctx, a, acct, "UpdateUser", name, err)
		}
		if err := s.authorize(ctx, a, "ram:UpdateUser", unresolved(acct, "user", *up.NewUserName)); err != nil {
			return nil, err
		}
	}
	var u *store.User
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = s.sameUser(ctx, tx, old); err != nil {
			return err
		}
		in := UserInput{UserName: u.UserName, DisplayName: u.DisplayName, Email: u.Email, MobilePhone: u.MobilePhone, Comments: u.Comments}
		params := map[string]any{"UserName": u.UserName}
		set := func(dst *string, src *string, key string) {
			if src != nil {
				*dst = *src
				params[key] = *src
			}
		}
		set(&in.UserName, up.NewUserName, "NewUserName")
		set(&in.DisplayName, up.NewDisplayName, "NewDisplayName")
		set(&in.Email, up.NewEmail, "NewEmail")
		set(&in.MobilePhone, up.NewMobilePhone, "NewMobilePhone")
		set(&in.Comments, up.NewComments, "NewComments")
		var fe fieldErrors
		validateUser(&fe, &in, "New")
		checkReservedUserName(&fe, "NewUserName", in.UserName, u.UserName)
		if err := fe.err(); err != nil {
			return err
		}
		u.UserName, u.DisplayName, u.Email, u.MobilePhone, u.Comments = in.UserName, in.DisplayName, in.Email, in.MobilePhone, in.Comments
		if err := tx.UpdateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.User", Message: "A user with this name already exists.",
					Fields: map[string]string{"name": "A user with this name already exists (names are not case-sensitive)."}}
			}
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "UpdateUser", name, params))
	})
	if err != nil {
		return nil, s.refuse(ctx, a, acct, "UpdateUser", name, err)
	}
	return u, nil
}

// DeleteUser deletes a user. With cascade (the console, after an explicit
// confirmation) it first removes the user's AccessKeys, login profile, MFA
// device, group memberships and policy attachments; without it (the API, as
// RAM does) it refuses with DeleteConflict.* while any of them remain.
func (s *Service) DeleteUser(ctx context.Context, a Actor, name string, cascade bool) error {
	acct, target, err := s.authorizeUser(ctx, a, "ram:DeleteUser", name)
	if err != nil {
		return s.refused(ctx, a, acct, "DeleteUser", name, err)
	}
	var plan *cascadePlan
	if cascade {
		// Each thing the cascade removes must be allowed on its own.
		if plan, err = s.userCascade(ctx, s.st.Reads, acct, target); err != nil {
			return err
		}
		if err := s.authorizeCascade(ctx, a, plan); err != nil {
			return err
		}
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, err := s.sameUser(ctx, tx, target)
		if err != nil {
			return err
		}
		if cascade {
			if err := s.sameCascade(ctx, tx, plan, func() (*cascadePlan, error) { return s.userCascade(ctx, tx.Reads, acct, u) }); err != nil {
				return err
			}
		} else {
			if err := s.deleteConflicts(ctx, tx, u); err != nil {
				return err
			}
		}
		if err := tx.DeleteUser(ctx, u); err != nil {
			return err
		}
		// The role sessions the user started end with it.
		if err := tx.DeleteRoleSessionsFrom(ctx, string(UserPrincipal(u.UserID))); err != nil {
			return err
		}
		ev := s.change(ctx, a, acct, "DeleteUser", u.UserName, map[string]any{"UserName": u.UserName})
		if cascade {
			ev.AdditionalEventData = map[string]any{"cascade": true}
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "DeleteUser", name, err)
	}
	return nil
}

// deleteConflicts is RAM's refusal to delete a user that still has things.
func (s *Service) deleteConflicts(ctx context.Context, tx *store.Tx, u *store.User) error {
	if n, err := tx.CountGroupsForUser(ctx, u.UserID); err != nil || n > 0 {
		return firstErr(err, conflict("DeleteConflict.User.Group", "The user is still a member of groups."))
	}
	if keys, err := tx.AccessKeys(ctx, u.UserID); err != nil || len(keys) > 0 {
		return firstErr(err, conflict("DeleteConflict.User.AccessKey", "The user still has AccessKeys."))
	}
	if _, err := tx.LoginProfile(ctx, u.UserID); err == nil || !errors.Is(err, store.ErrNotFound) {
		return firstErr(err, conflict("DeleteConflict.User.LoginProfile", "The user still has a login profile."))
	}
	if has, err := tx.HasSecondFactor(ctx, u.Principal()); err != nil || has {
		return firstErr(err, conflict("DeleteConflict.User.MFADevice", "The user still has an MFA device or security keys."))
	}
	if sys, custom, err := tx.CountAttachments(ctx, store.Attachment{UserID: u.UserID}); err != nil || sys+custom > 0 {
		return firstErr(err, conflict("DeleteConflict.User.Policy", "The user still has policies attached."))
	}
	return nil
}

func firstErr(err error, otherwise error) error {
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return otherwise
}

// UserPage is one page of a user list.
type UserPage struct {
	Users       []User
	Marker      string // pass back to get the next page; "" on the last
	IsTruncated bool
}

// ListUsersInput selects a page: an optional name or display-name prefix.
type ListUsersInput struct {
	Query    string
	Marker   string
	MaxItems int
}

// ListUsers returns a page of users ordered by name.
func (s *Service) ListUsers(ctx context.Context, a Actor, in ListUsersInput) (*UserPage, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:ListUsers", allUsersResource(acct)); err != nil {
		return nil, err
	}
	size, after, err := pageArgs(in.MaxItems, in.Marker)
	if err != nil {
		return nil, err
	}
	users, err := s.st.Users(ctx, store.UserFilter{Query: in.Query, After: after, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	page := &UserPage{Users: users}
	if len(users) > size {
		page.Users, page.IsTruncated = users[:size], true
		page.Marker = encodeMarker(users[size-1].UserName)
	}
	return page, nil
}

func pageArgs(maxItems int, marker string) (int, string, error) {
	if maxItems == 0 {
		maxItems = defaultPageSize
	}
	if maxItems < 1 || maxItems > maxPageSize {
		return 0, "", &Error{Kind: EINVALID, Code: "InvalidParameter.MaxItems", Message: "MaxItems must be from 1 to 1000."}
	}
	after, err := decodeMarker(marker)
	if err != nil {
		return 0, "", &Error{Kind: EINVALID, Code: "InvalidParameter.Marker", Message: "The Marker is not one this server returned."}
	}
	return maxItems, after, nil
}

func encodeMarker(last string) string { return base64.RawURLEncoding.EncodeToString([]byte(last)) }

func decodeMarker(m string) (string, error) {
	if m == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(m)
	if err != nil || !utf8.Valid(b) {
		return "", errors.New("bad marker")
	}
	return string(b), nil
}

// UnlockUser clears a user's sign-in lockout.
func (s *Service) UnlockUser(ctx context.Context, a Actor, name string) error {
	acct, target, err := s.authorizeUser(ctx, a, "ram:UnlockUser", name)
	if err != nil {
		return s.refused(ctx, a, acct, "UnlockUser", name, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		u, err := s.sameUser(ctx, tx, target)
		if err != nil {
			return err
		}
		if err := tx.ClearUserFailures(ctx, u.UserID, false); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.change(ctx, a, acct, "UnlockUser", u.UserName, map[string]any{"UserName": u.UserName}))
	})
	if err != nil {
		return s.refuse(ctx, a, acct, "UnlockUser", name, err)
	}
	return nil
}

// UserDetail is everything the user page shows.
type UserDetail struct {
	User         User
	LoginProfile *store.LoginProfile
	MFADevice    *store.MFADevice
	SecurityKeys []store.SecurityKey
	AccessKeys   []store.AccessKey
	Groups       []store.Group
	Locked       bool
	LogonName    string
	// Hidden names the sections the viewer may not see, each with the
	// permission it needs (SectionLogin, …); the section is left empty.
	Hidden map[string]string
}

// The user page's sections and the actions that show them: the API's.
const (
	SectionLogin      = "login"
	SectionMFA        = "mfa"
	SectionAccessKeys = "accesskeys"
	SectionGroups     = "groups"
)

var sectionActions = map[string]string{
	SectionLogin:      "ram:GetLoginProfile",
	SectionMFA:        "ram:GetUserMFAInfo",
	SectionAccessKeys: "ram:ListAccessKeys",
	SectionGroups:     "ram:ListGroupsForUser",
}

// UserDetail gathers a user's page: the profile needs ram:GetUser, and each
// section what the API needs for it (a section the viewer may not see is
// left out and named in Hidden; looking is not audited as a refusal).
func (s *Service) UserDetail(ctx context.Context, a Actor, name string) (*UserDetail, error) {
	acct, u, err := s.authorizeUser(ctx, a, "ram:GetUser", name)
	if err != nil {
		return nil, err
	}
	d, err := s.userDetail(ctx, u)
	if err != nil {
		return nil, err
	}
	res := userResource(acct, u)
	for section, action := range sectionActions {
		if s.permits(ctx, a, action, res) {
			continue
		}
		if d.Hidden == nil {
			d.Hidden = map[string]string{}
		}
		d.Hidden[section] = action
		switch section {
		case SectionLogin:
			d.LoginProfile = nil
		case SectionMFA:
			d.MFADevice, d.SecurityKeys = nil, nil
		case SectionAccessKeys:
			d.AccessKeys = nil
		case SectionGroups:
			d.Groups = nil
		}
	}
	return d, nil
}

func (s *Service) userDetail(ctx context.Context, u *store.User) (*UserDetail, error) {
	var err error
	d := &UserDetail{User: *u, Locked: u.LockedUntil.After(s.Now())}
	if lp, err := s.st.LoginProfile(ctx, u.UserID); err == nil {
		d.LoginProfile = lp
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if dev, err := s.st.MFADeviceFor(ctx, u.Principal()); err == nil {
		d.MFADevice = dev
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if d.SecurityKeys, err = s.st.SecurityKeysOf(ctx, u.Principal()); err != nil {
		return nil, err
	}
	if d.AccessKeys, err = s.st.AccessKeys(ctx, u.UserID); err != nil {
		return nil, err
	}
	if d.Groups, err = s.st.GroupsForUser(ctx, u.UserID); err != nil {
		return nil, err
	}
	if acct, err := s.st.Account(ctx); err == nil {
		d.LogonName = u.UserName + "@" + displayAlias(acct)
	}
	return d, nil
}

package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

const listPageSize = 50

func userHref(name string) string { return "/users/" + url.PathEscape(name) }

// UsersList handles GET /users: search by name or display name, sort by
// name, creation or last sign-in, keyset paging both ways, the total, and
// the status of each user's console access, MFA and AccessKeys.
func (h *Handlers) UsersList(c echo.Context) error {
	q, sort := strings.TrimSpace(c.QueryParam("q")), c.QueryParam("sort")
	status := c.QueryParam("status")
	in := ram.UserListInput{Query: q, Sort: sort, After: c.QueryParam("after"), Before: c.QueryParam("before"), Size: listPageSize, Status: status}
	if in.After == "" {
		in.After = c.QueryParam("marker") // the links of earlier versions
	}
	page, err := h.RAM.ListUserSummaries(ctx(c), ActorOf(c), in)
	if e, ok := ram.AsError(err); ok && e.Kind == ram.EINVALID {
		return echo.NewHTTPError(http.StatusBadRequest, e.Message)
	}
	if err != nil {
		return err
	}
	if sort == "" {
		sort = ram.SortUsersByName
	}
	m := views.Users{Layout: h.layout(c, "Users"), Query: q, Sort: sort, Total: page.Total, Hidden: page.Hidden, Status: status}
	switch status {
	case "no_mfa":
		m.StatusNote = "Users with console access and no MFA device"
	case "stale_keys":
		m.StatusNote = "Users with an AccessKey unused for 90 days"
	}
	a, all := ActorOf(c), ram.AllUsersRef()
	m.CanCreate = h.RAM.Allowed(ctx(c), a, "ram:CreateUser", all)
	// A bulk button shows only when its page (the groups or policies to
	// pick from) opens too.
	m.CanAddToGroup = h.RAM.Allowed(ctx(c), a, "ram:AddUserToGroup", all, ram.AllGroupsRef()) &&
		h.RAM.Allowed(ctx(c), a, "ram:ListGroups", ram.AllGroupsRef())
	m.CanGrant = h.RAM.Allowed(ctx(c), a, "ram:AttachPolicyToUser", all, ram.AllPoliciesRef()) &&
		h.RAM.Allowed(ctx(c), a, "ram:ListPolicies", ram.AllPoliciesRef())
	m.CanDelete = h.RAM.Allowed(ctx(c), a, "ram:DeleteUser", all)
	now, mfaForAll := h.RAM.Now(), h.RAM.SelfService(ctx(c)).EnforceMFAForLogin
	for _, u := range page.Users {
		r := views.UserRow{Name: u.UserName, DisplayName: u.DisplayName, Href: userHref(u.UserName),
			Created: date(u.CreatedAt), LastLogin: never(date(u.LastLoginAt)), Console: "None", MFA: "None",
			Keys: "None", KeyLastUsed: "—"}
		if u.LoginStatus != "" {
			r.Console = u.LoginStatus
		}
		switch {
		case u.MFABound:
			r.MFA = "Bound"
		case u.LoginStatus == "":
		case u.MFARequired || mfaForAll:
			r.MFA, r.MFAPending = mfaPendingText(u.LastLoginAt), true
		default:
			r.MFA = "Not required"
		}
		if u.Keys > 0 {
			r.Keys = strconv.Itoa(u.ActiveKeys) + " active of " + strconv.Itoa(u.Keys)
			r.KeyLastUsed = "Never"
			if u.KeyLastUsed != "" {
				if t, err := time.Parse(time.RFC3339Nano, u.KeyLastUsed); err == nil {
					r.KeyLastUsed = date(t)
					r.KeyStale = now.Sub(t) > 90*24*time.Hour
				}
			}
		}
		r.ConsoleWarn = u.LoginStatus == "Active" && !u.MFABound
		m.Rows = append(m.Rows, r)
	}
	link := func(k, v string) string {
		vals := url.Values{}
		if q != "" {
			vals.Set("q", q)
		}
		if status != "" {
			vals.Set("status", status)
		}
		if sort != ram.SortUsersByName {
			vals.Set("sort", sort)
		}
		if k != "" {
			vals.Set(k, v)
		}
		return withQuery("/users", vals)
	}
	if page.Prev != "" {
		m.FirstHref, m.PrevHref = link("", ""), link("before", page.Prev)
	}
	if page.Next != "" {
		m.NextHref = link("after", page.Next)
	}
	for _, o := range []struct{ value, label string }{{ram.SortUsersByName, "Name"}, {ram.SortUsersByCreated, "Newest"}, {ram.SortUsersByLastLogin, "Last sign-in"}} {
		vals := url.Values{}
		if q != "" {
			vals.Set("q", q)
		}
		if status != "" {
			vals.Set("status", status)
		}
		if o.value != ram.SortUsersByName {
			vals.Set("sort", o.value)
		}
		m.Sorts = append(m.Sorts, views.Link{Label: o.label, Href: withQuery("/users", vals), Active: o.value == sort})
	}
	return Render(c, http.StatusOK, views.UsersPage(m))
}

// mfaPendingText says when a user required to use MFA, without a device
// yet, binds one: at the first sign-in, or the next after an unbinding.
func mfaPendingText(lastLogin time.Time) string {
	if lastLogin.IsZero() {
		return "Will bind at first sign-in"
	}
	return "Will bind at next sign-in"
}

// never is a blank date as people read it.
func never(d string) string {
	if d == "" {
		return "Never"
	}
	return d
}

var userFields = []string{"name", "display_name", "comments", "email", "mobile_phone", "console_login", "generate_password",
	"password_reset_required", "mfa_bind_required", "create_access_key"}

// UserNew handles GET /users/new. No access is chosen for the user: the
// administrator picks console access (a person) and/or an AccessKey (a
// program). Console users must bind an MFA device at first sign-in unless
// that is unticked. With rows=N it is the form that creates several users
// at once (users_batch.go).
func (h *Handlers) UserNew(c echo.Context) error {
	if c.QueryParams().Has("rows") {
		return h.userBatchForm(c)
	}
	f := views.Form{Values: map[string]string{"generate_password": "true", "password_reset_required": "true", "mfa_bind_required": "true"}}
	f = h.restoreDraft(c, "/users", f, userFields...)
	return Render(c, http.StatusOK, views.UserNewPage(views.UserNew{Layout: h.layout(c, "New user"), Form: f}))
}

// UserCreate handles POST /users: the user, and in the same transaction its
// console login and an AccessKey when asked.
func (h *Handlers) UserCreate(c echo.Context) error {
	vals := form(c, userFields...)
	in := ram.UserInput{UserName: strings.TrimSpace(vals["name"]), DisplayName: strings.TrimSpace(vals["display_name"]),
		Comments: vals["comments"], Email: strings.TrimSpace(vals["email"]), MobilePhone: strings.TrimSpace(vals["mobile_phone"])}
	var login *ram.NewUserAccess
	var typed string
	if checked(c, "console_login") {
		generate, pw, fields := passwordChoice(c)
		if fields != nil {
			return Render(c, http.StatusUnprocessableEntity, views.UserNewPage(views.UserNew{Layout: h.layout(c, "New user"),
				Form: views.Form{Values: vals, Errors: fields}}))
		}
		typed = pw
		login = &ram.NewUserAccess{Password: pw, GeneratePassword: generate,
			PasswordResetRequired: checked(c, "password_reset_required"), MFABindRequired: checked(c, "mfa_bind_required")}
	} else if c.FormValue("password") != "" {
		fields := map[string]string{"console_login": "You typed a password but did not choose console access. Tick console access to use it, or clear the password."}
		return Render(c, http.StatusUnprocessableEntity, views.UserNewPage(views.UserNew{Layout: h.layout(c, "New user"),
			Form: views.Form{Values: vals, Errors: fields}}))
	}
	u, created, err := h.RAM.CreateUserWithAccess(ctx(c), ActorOf(c), in, login, checked(c, "create_access_key"))
	if fields, ok := fieldErrors(err); ok {
		m := views.UserNew{Layout: h.layout(c, "New user"), Form: views.Form{Values: vals, Errors: fields}}
		return Render(c, formStatus(err), views.UserNewPage(m))
	}
	if err != nil {
		return err
	}
	if login == nil && created.AccessKey == nil {
		return flashDone(c, userHref(u.UserName), "User "+u.UserName+" created with no access: it can neither sign in to the console "+
			"nor call the API. To add access later, use “Enable console access” or “Create AccessKey” on this page.")
	}
	sh := handoverSheet{Title: "User " + u.UserName + " created", UserName: u.UserName, Back: userHref(u.UserName), Admin: true}
	if login != nil {
		sh.Password, sh.Generated = typed, created.GeneratedPassword != ""
		if sh.Generated {
			sh.Password = created.GeneratedPassword
		}
	}
	return h.handOver(c, sh, created.AccessKey)
}

// passwordChoice reads the one radio group of a password form
// (generate_password "true" generates, "false" takes the typed password; a
// form without the group takes a typed password) and the typed password.
// Contradictory input is a field error, so a typed password is never
// silently replaced.
func passwordChoice(c echo.Context) (generate bool, password string, fields map[string]string) {
	password = c.FormValue("password")
	generate = checked(c, "generate_password")
	switch {
	case generate && password != "":
		return false, "", map[string]string{"password": "You chose to generate the password but also typed one. Choose “Type a password” to use yours, or clear this field."}
	case !generate && password == "":
		return false, "", map[string]string{"password": "Type a password, or choose “Generate a password”."}
	}
	return generate, password, nil
}

// UserShow handles GET /users/:name.
func (h *Handlers) UserShow(c echo.Context) error {
	d, err := h.RAM.UserDetail(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	m := h.userModel(c, d, views.Form{})
	if m.Policies, err = h.principalPolicies(c, "user", d.User.UserName); err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.UserPage(m))
}

func (h *Handlers) userModel(c echo.Context, d *ram.UserDetail, loginForm views.Form) views.UserDetail {
	u := d.User
	base := userHref(u.UserName)
	m := views.UserDetail{Layout: h.layout(c, u.UserName), Base: base, Name: u.UserName, DisplayName: u.DisplayName,
		Email: u.Email, MobilePhone: u.MobilePhone, Comments: u.Comments, UserID: u.UserID, Created: date(u.CreatedAt),
		Updated: date(u.UpdatedAt), LastLogin: date(u.LastLoginAt), ARN: ram.UserARN(h.RAM.AccountID(ctx(c)), u.UserName),
		LogonName: d.LogonName, Locked: d.Locked, LockedUntil: date(u.LockedUntil), LoginForm: loginForm, Hidden: d.Hidden}
	if lp := d.LoginProfile; lp != nil {
		m.HasLogin, m.LoginStatus, m.ResetRequired, m.MFARequired = true, lp.Status, lp.PasswordResetRequired, lp.MFABindRequired
		m.PasswordChanged = date(lp.PasswordChangedAt)
	}
	for _, k := range d.SecurityKeys {
		row := securityKeyRow(k)
		row.DeleteAction = base + "/mfa/security-keys/" + url.PathEscape(k.ID) + "/delete"
		m.SecurityKeys = append(m.SecurityKeys, row)
	}
	if dev := d.MFADevice; dev != nil {
		m.HasMFA, m.MFASerial, m.MFABound = true, dev.Serial, date(dev.BoundAt)
	} else if _, hidden := d.Hidden[ram.SectionMFA]; !hidden && len(m.SecurityKeys) == 0 && m.HasLogin && (m.MFARequired || h.RAM.SelfService(ctx(c)).EnforceMFAForLogin) {
		m.MFAPending = mfaPendingText(u.LastLoginAt)
	}
	for _, k := range d.AccessKeys {
		m.Keys = append(m.Keys, keyRow(base+"/accesskeys/"+k.AccessKeyID, k))
	}
	m.CanAddKey = len(d.AccessKeys) < ram.MaxAccessKeys
	m.Can = h.permissions(c, []ram.Ref{ram.UserRef(u.UserName)}, "ram:UpdateUser", "ram:DeleteUser", "ram:UnlockUser",
		"ram:CreateLoginProfile", "ram:UpdateLoginProfile", "ram:DeleteLoginProfile", "ram:UnbindMFADevice",
		"ram:CreateAccessKey", "ram:UpdateAccessKey", "ram:DeleteAccessKey")
	m.Can["ram:AddUserToGroup"] = h.can(c, "ram:AddUserToGroup", ram.UserRef(u.UserName), ram.AllGroupsRef())
	m.Can["ram:RemoveUserFromGroup"] = h.can(c, "ram:RemoveUserFromGroup", ram.UserRef(u.UserName), ram.AllGroupsRef())
	if m.Can["ram:AddUserToGroup"] {
		joined := map[string]bool{}
		for _, g := range d.Groups {
			joined[strings.ToLower(g.GroupName)] = true
		}
		for _, g := range h.groupNames(c, "", 0) {
			if !joined[strings.ToLower(g)] {
				m.GroupChoices = append(m.GroupChoices, g)
			}
		}
	}
	for _, g := range d.Groups {
		m.Groups = append(m.Groups, views.GroupRef{Name: g.GroupName, Href: groupHref(g.GroupName), Joined: date(g.JoinedAt),
			RemoveAction: base + "/groups/" + url.PathEscape(g.GroupName) + "/remove"})
	}
	return m
}

func keyRow(base string, k ram.AccessKey) views.KeyRow {
	r := views.KeyRow{ID: k.AccessKeyID, Status: k.Status, Created: date(k.CreatedAt), LastUsed: date(k.LastUsedAt),
		StatusAction: base + "/status", DeleteAction: base + "/delete", NewStatus: "Inactive", StatusLabel: "Disable"}
	if k.Status != "Active" {
		r.NewStatus, r.StatusLabel = "Active", "Enable"
	}
	return r
}

var editFields = []string{"name", "display_name", "comments", "email", "mobile_phone"}

// UserEditForm handles GET /users/:name/edit.
func (h *Handlers) UserEditForm(c echo.Context) error {
	u, err := h.RAM.GetUser(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{"name": u.UserName, "display_name": u.DisplayName, "comments": u.Comments,
		"email": u.Email, "mobile_phone": u.MobilePhone}}
	f = h.restoreDraft(c, userHref(u.UserName)+"/edit", f, editFields...)
	return Render(c, http.StatusOK, views.UserEditPage(views.UserEdit{Layout: h.layout(c, "Edit "+u.UserName), Name: u.UserName, Form: f}))
}

// UserUpdate handles POST /users/:name/edit.
func (h *Handlers) UserUpdate(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, editFields...)
	trim := func(k string) *string { v := strings.TrimSpace(vals[k]); return &v }
	comments := vals["comments"]
	up := ram.UserUpdate{NewUserName: trim("name"), NewDisplayName: trim("display_name"), NewEmail: trim("email"),
		NewMobilePhone: trim("mobile_phone"), NewComments: &comments}
	u, err := h.RAM.UpdateUser(ctx(c), ActorOf(c), name, up)
	if fields, ok := fieldErrors(err); ok {
		m := views.UserEdit{Layout: h.layout(c, "Edit "+name), Name: name, Form: views.Form{Values: vals, Errors: fields}}
		return Render(c, formStatus(err), views.UserEditPage(m))
	}
	if err != nil {
		return err
	}
	return flashDone(c, userHref(u.UserName), "User "+u.UserName+" updated.")
}

// UserDeleteForm handles GET /users/:name/delete: what will go with the user.
func (h *Handlers) UserDeleteForm(c echo.Context) error {
	d, err := h.RAM.UserDetail(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.UserDeletePage(h.deleteModel(c, d, views.Form{})))
}

func (h *Handlers) deleteModel(c echo.Context, d *ram.UserDetail, f views.Form) views.UserDelete {
	m := views.UserDelete{Layout: h.layout(c, "Delete "+d.User.UserName), Name: d.User.UserName, Form: f}
	if d.LoginProfile != nil {
		m.Goes = append(m.Goes, "console access (login profile)")
	}
	if d.MFADevice != nil {
		m.Goes = append(m.Goes, "the MFA device")
	}
	for _, k := range d.AccessKeys {
		m.Goes = append(m.Goes, "AccessKey "+k.AccessKeyID+" (programs using it stop working)")
	}
	for _, g := range d.Groups {
		m.Goes = append(m.Goes, "membership of group "+g.GroupName)
	}
	return m
}

// UserDelete handles POST /users/:name/delete: needs the name typed again,
// then removes the user with everything it has.
func (h *Handlers) UserDelete(c echo.Context) error {
	name := c.Param("name")
	if c.FormValue("confirm") != name {
		d, err := h.RAM.UserDetail(ctx(c), ActorOf(c), name)
		if err != nil {
			return err
		}
		f := views.Form{Values: map[string]string{"confirm": c.FormValue("confirm")},
			Errors: map[string]string{"confirm": "Type the user name exactly to confirm."}}
		return Render(c, http.StatusUnprocessableEntity, views.UserDeletePage(h.deleteModel(c, d, f)))
	}
	if err := h.RAM.DeleteUser(ctx(c), ActorOf(c), name, true); err != nil {
		return err
	}
	return flashDone(c, "/users", "User "+name+" deleted.")
}

// UserUnlock handles POST /users/:name/unlock.
func (h *Handlers) UserUnlock(c echo.Context) error {
	name := c.Param("name")
	if err := h.RAM.UnlockUser(ctx(c), ActorOf(c), name); err != nil {
		return err
	}
	return flashDone(c, userHref(name), "User "+name+" unlocked.")
}

// userFormError shows the user page again with the login-profile form's messages.
func (h *Handlers) userFormError(c echo.Context, err error, vals map[string]string) error {
	fields, ok := fieldErrors(err)
	if !ok {
		return err
	}
	d, derr := h.RAM.UserDetail(ctx(c), ActorOf(c), c.Param("name"))
	if derr != nil {
		return derr
	}
	delete(vals, "password")
	m := h.userModel(c, d, views.Form{Values: vals, Errors: fields})
	if m.Policies, derr = h.principalPolicies(c, "user", d.User.UserName); derr != nil {
		return derr
	}
	return Render(c, formStatus(err), views.UserPage(m))
}

// LoginProfileCreate handles POST /users/:name/login-profile: console access
// with a typed or generated password.
func (h *Handlers) LoginProfileCreate(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, "generate_password", "password_reset_required", "mfa_bind_required")
	generate, pw, fields := passwordChoice(c)
	if fields != nil {
		return h.userFormError(c, &ram.Error{Kind: ram.EINVALID, Code: "InvalidParameter.Password", Message: fields["password"], Fields: fields}, vals)
	}
	in := ram.LoginProfileInput{Password: pw, GeneratePassword: generate,
		PasswordResetRequired: checked(c, "password_reset_required"), MFABindRequired: checked(c, "mfa_bind_required")}
	_, generated, err := h.RAM.CreateLoginProfile(ctx(c), ActorOf(c), name, in)
	if err != nil {
		return h.userFormError(c, err, vals)
	}
	sh := handoverSheet{Title: "Console access for " + name, UserName: name, Password: pw, Back: userHref(name), Admin: true}
	if generated != "" {
		sh.Password, sh.Generated = generated, true
	}
	return h.handOver(c, sh, nil)
}

// LoginProfilePassword handles POST /users/:name/login-profile/password: a reset.
func (h *Handlers) LoginProfilePassword(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, "generate_password", "password_reset_required")
	generate, pw, fields := passwordChoice(c)
	if fields != nil {
		return h.userFormError(c, &ram.Error{Kind: ram.EINVALID, Code: "InvalidParameter.Password", Message: fields["password"], Fields: fields}, vals)
	}
	reset := checked(c, "password_reset_required")
	up := ram.LoginProfileUpdate{GeneratePassword: generate, PasswordResetRequired: &reset}
	if !generate {
		up.Password = &pw
	}
	generated, err := h.RAM.UpdateLoginProfile(ctx(c), ActorOf(c), name, up)
	if err != nil {
		return h.userFormError(c, err, vals)
	}
	_ = SessionOf(c).AddFlash("Password of " + name + " reset; the user's sessions ended.")
	sh := handoverSheet{Title: "New password for " + name, UserName: name, Password: pw, Back: userHref(name), Admin: true}
	if generated != "" {
		sh.Password, sh.Generated = generated, true
	}
	return h.handOver(c, sh, nil)
}

// LoginProfileFlags handles POST /users/:name/login-profile/flags.
func (h *Handlers) LoginProfileFlags(c echo.Context) error {
	name := c.Param("name")
	reset, mfa := checked(c, "password_reset_required"), checked(c, "mfa_bind_required")
	if _, err := h.RAM.UpdateLoginProfile(ctx(c), ActorOf(c), name, ram.LoginProfileUpdate{PasswordResetRequired: &reset, MFABindRequired: &mfa}); err != nil {
		return h.userFormError(c, err, form(c, "password_reset_required", "mfa_bind_required"))
	}
	return flashDone(c, userHref(name), "Console access settings of "+name+" saved.")
}

// LoginProfileStatus handles POST /users/:name/login-profile/status.
func (h *Handlers) LoginProfileStatus(c echo.Context) error {
	name := c.Param("name")
	status := c.FormValue("status")
	if _, err := h.RAM.UpdateLoginProfile(ctx(c), ActorOf(c), name, ram.LoginProfileUpdate{Status: &status}); err != nil {
		return h.userFormError(c, err, map[string]string{})
	}
	msg := "Console access of " + name + " activated."
	if status == "Inactive" {
		msg = "Console access of " + name + " deactivated; the user's sessions ended."
	}
	return flashDone(c, userHref(name), msg)
}

// LoginProfileDelete handles POST /users/:name/login-profile/delete.
func (h *Handlers) LoginProfileDelete(c echo.Context) error {
	name := c.Param("name")
	if err := h.RAM.DeleteLoginProfile(ctx(c), ActorOf(c), name); err != nil {
		return err
	}
	return flashDone(c, userHref(name), "Console access of "+name+" removed; the user's sessions ended.")
}

// UserMFAUnbind handles POST /users/:name/mfa/unbind.
func (h *Handlers) UserMFAUnbind(c echo.Context) error {
	name := c.Param("name")
	if _, err := h.RAM.UnbindMFADevice(ctx(c), ActorOf(c), name); err != nil {
		return err
	}
	return flashDone(c, userHref(name), "MFA devices and security keys of "+name+" removed; the user's sessions ended.")
}

// UserSecurityKeyDelete handles POST /users/:name/mfa/security-keys/:id/delete:
// an administrator removes one key of a user.
func (h *Handlers) UserSecurityKeyDelete(c echo.Context) error {
	name := c.Param("name")
	k, err := h.RAM.DeleteUserSecurityKey(ctx(c), ActorOf(c), name, c.Param("id"))
	if err != nil {
		return err
	}
	return flashDone(c, userHref(name), "Security key "+k.Name+" of "+name+" removed; the user's sessions ended.")
}

// AccessKeyCreate handles POST /users/:name/accesskeys: the one-time reveal.
func (h *Handlers) AccessKeyCreate(c echo.Context) error {
	name := c.Param("name")
	k, err := h.RAM.CreateAccessKey(ctx(c), ActorOf(c), name)
	if err != nil {
		return err
	}
	return h.handOver(c, handoverSheet{Title: "AccessKey for " + name, UserName: name, Back: userHref(name), Admin: true}, k)
}

// AccessKeyStatus handles POST /users/:name/accesskeys/:id/status.
func (h *Handlers) AccessKeyStatus(c echo.Context) error {
	name, id, status := c.Param("name"), c.Param("id"), c.FormValue("status")
	if err := h.RAM.UpdateAccessKey(ctx(c), ActorOf(c), name, id, status); err != nil {
		return err
	}
	return flashDone(c, userHref(name), "AccessKey "+id+" is now "+status+".")
}

// AccessKeyDelete handles POST /users/:name/accesskeys/:id/delete: the key
// must be Inactive and its ID typed again (confirm).
func (h *Handlers) AccessKeyDelete(c echo.Context) error {
	name, id := c.Param("name"), c.Param("id")
	base, back := userHref(name)+"/accesskeys/"+url.PathEscape(id), userHref(name)
	if c.FormValue("confirm") != id {
		return h.keyDeleteRefused(c, false, base, back, nil)
	}
	if err := h.RAM.DeleteDisabledAccessKey(ctx(c), ActorOf(c), name, id); err != nil {
		return h.keyDeleteRefused(c, false, base, back, err)
	}
	return flashDone(c, back, "AccessKey "+id+" deleted.")
}

// UserGroupAdd handles POST /users/:name/groups with group.
func (h *Handlers) UserGroupAdd(c echo.Context) error {
	name, group := c.Param("name"), strings.TrimSpace(c.FormValue("group"))
	if err := h.RAM.AddUserToGroup(ctx(c), ActorOf(c), group, name); err != nil {
		if e, ok := ram.AsError(err); ok && e.Code == "EntityNotExist.Group" && group != "" {
			msg := "No group is named “" + group + "”."
			if s := closest(group, h.groupNames(c, "", 0)); s != "" {
				msg += " Did you mean " + s + "?"
			}
			_ = SessionOf(c).AddFlash(flashErrorPrefix + msg)
			return redirect(c, userHref(name))
		}
		return h.membershipError(c, err, userHref(name))
	}
	return flashDone(c, userHref(name), name+" added to group "+group+".")
}

// UserGroupRemove handles POST /users/:name/groups/:group/remove.
func (h *Handlers) UserGroupRemove(c echo.Context) error {
	name, group := c.Param("name"), c.Param("group")
	if err := h.RAM.RemoveUserFromGroup(ctx(c), ActorOf(c), group, name); err != nil {
		return err
	}
	return flashDone(c, userHref(name), name+" removed from group "+group+".")
}

// membershipError turns a refused membership change caused by the typed
// name (unknown, already a member, a limit) into a message on the page.
func (h *Handlers) membershipError(c echo.Context, err error, back string) error {
	e, ok := ram.AsError(err)
	if !ok || e.Kind == ram.EFORBIDDEN {
		return err
	}
	_ = SessionOf(c).AddFlash(flashErrorPrefix + e.Message)
	return redirect(c, back)
}

// AccessKeyDownload handles GET /accesskeys/download/:token: the one-time
// CSV of a new key, only for the session that created it, within 10 minutes.
func (h *Handlers) AccessKeyDownload(c echo.Context) error {
	id, secret, err := h.RAM.TakeKeyDownload(ctx(c), ActorOf(c), SessionOf(c).IDHash(), c.Param("token"))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="AccessKey.csv"`)
	return c.Blob(http.StatusOK, "text/csv", []byte("AccessKey ID,AccessKey Secret\n"+id+","+secret+"\n"))
}

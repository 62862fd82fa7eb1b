package handlers

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// Me handles GET /me: the signed-in RAM user's own page. The owner's is the
// overview; while the user acts as a role it is the role session's.
func (h *Handlers) Me(c echo.Context) error {
	a := ActorOf(c)
	if a.Principal == ram.PrincipalRoot {
		return redirect(c, "/")
	}
	if rs := SAMLRoleSessionOf(c); rs != nil {
		return h.meAsSAMLRole(c, a, rs)
	}
	if rs := RoleSessionOf(c); rs != nil {
		return h.meAsRole(c, a, rs)
	}
	d, err := h.RAM.OwnDetail(ctx(c), a)
	if err != nil {
		return err
	}
	pref := h.RAM.SelfService(ctx(c))
	u := d.User
	m := views.Me{Layout: h.layout(c, "My account"), Name: u.UserName, DisplayName: u.DisplayName, Email: u.Email,
		MobilePhone: u.MobilePhone, LogonName: d.LogonName, LastLogin: date(u.LastLoginAt), HasMFA: d.MFADevice != nil || len(d.SecurityKeys) > 0,
		CanChangePassword: pref.AllowUserToChangePassword, CanManageMFA: pref.AllowUserToManageMFADevices,
		CanManageKeys: pref.AllowUserToManageAccessKeys, KeysAvailable: h.RAM.SecurityKeySupport().Available}
	if d.LoginProfile != nil {
		m.PasswordChanged = date(d.LoginProfile.PasswordChangedAt)
	}
	for _, k := range d.AccessKeys {
		m.Keys = append(m.Keys, keyRow("/me/accesskeys/"+k.AccessKeyID, k))
	}
	m.CanAddKey = m.CanManageKeys && len(d.AccessKeys) < ram.MaxAccessKeys
	for _, g := range d.Groups {
		m.Groups = append(m.Groups, g.GroupName)
	}
	return Render(c, http.StatusOK, views.MePage(m))
}

// SignOutEverywhere handles POST /me/sign-out-everywhere: every other
// console session ends and the applications' tokens are revoked; this
// session stays.
func (h *Handlers) SignOutEverywhere(c echo.Context) error {
	if err := h.RAM.SignOutEverywhere(ctx(c), ActorOf(c), SessionOf(c).IDHash()); err != nil {
		return err
	}
	return flashDone(c, "/me", "Your other sessions ended; applications will ask you to sign in again.")
}

// meAsRole is /me while the signed-in user acts as a role: who the console
// session is now (the assumed-role ARN, the role, the user it came from and
// until when), not the user's own password, MFA and AccessKey forms, which
// are not the role's.
func (h *Handlers) meAsRole(c echo.Context, a ram.Actor, rs *ram.RoleSessionActor) error {
	who, err := h.RAM.GetCallerIdentity(ctx(c), a)
	if err != nil {
		return err
	}
	sess := rs.Session
	m := views.MeRoleSession{Layout: h.layout(c, "My account"), Arn: who.Arn, AssumedRoleID: who.PrincipalID,
		Role: rs.Role.RoleName, RoleHref: roleHref(rs.Role.RoleName), RoleArn: ram.RoleARN(who.AccountID, rs.Role.RoleName),
		SessionName: sess.SessionName, SourceUser: sess.SourceName, Started: date(sess.CreatedAt), Expires: date(sess.ExpiresAt),
		MFAPresent: sess.MFAPresent, BackAction: "/roles/switch-back"}
	return Render(c, http.StatusOK, views.MeRoleSessionPage(m))
}

// MeAccessKeyCreate handles POST /me/accesskeys.
func (h *Handlers) MeAccessKeyCreate(c echo.Context) error {
	k, err := h.RAM.CreateOwnAccessKey(ctx(c), ActorOf(c))
	if err != nil {
		return err
	}
	return h.handOver(c, handoverSheet{Title: "Your new AccessKey", UserName: k.UserName, Back: "/me"}, k)
}

// MeAccessKeyStatus handles POST /me/accesskeys/:id/status.
func (h *Handlers) MeAccessKeyStatus(c echo.Context) error {
	id, status := c.Param("id"), c.FormValue("status")
	if err := h.RAM.UpdateOwnAccessKey(ctx(c), ActorOf(c), id, status); err != nil {
		return err
	}
	return flashDone(c, "/me", "AccessKey "+id+" is now "+status+".")
}

// MeAccessKeyDelete handles POST /me/accesskeys/:id/delete.
func (h *Handlers) MeAccessKeyDelete(c echo.Context) error {
	id := c.Param("id")
	base := "/me/accesskeys/" + url.PathEscape(id)
	if c.FormValue("confirm") != id {
		return h.keyDeleteRefused(c, true, base, "/me", nil)
	}
	if err := h.RAM.DeleteOwnAccessKey(ctx(c), ActorOf(c), id); err != nil {
		return h.keyDeleteRefused(c, true, base, "/me", err)
	}
	return flashDone(c, "/me", "AccessKey "+id+" deleted.")
}

// PasswordForm handles GET /password/change.
func (h *Handlers) PasswordForm(c echo.Context) error {
	return Render(c, http.StatusOK, views.PasswordPage(views.PasswordChange{Layout: h.layout(c, "Change password"),
		Forced: SessionOf(c).Stage() == ram.StepChangePassword}))
}

// PasswordChange handles POST /password/change. The person stays signed in
// on a fresh session id; every other session of theirs ends.
func (h *Handlers) PasswordChange(c echo.Context) error {
	s := SessionOf(c)
	in := ram.ChangePasswordInput{Current: c.FormValue("current_password"), New: c.FormValue("new_password"), Confirm: c.FormValue("confirm_password")}
	err := h.RAM.ChangePassword(ctx(c), ActorOf(c), in, s.IDHash())
	if fields, ok := fieldErrors(err); ok {
		m := views.PasswordChange{Layout: h.layout(c, "Change password"), Forced: s.Stage() == ram.StepChangePassword,
			Form: views.Form{Errors: fields}}
		return Render(c, http.StatusUnprocessableEntity, views.PasswordPage(m))
	}
	if err != nil {
		return err
	}
	finishing := s.Stage() == ram.StepChangePassword
	if err := s.Advance(ram.StepDone); err != nil {
		return err
	}
	dest := "/"
	if finishing {
		// The password was the sign-in's last step: on to where it was going.
		h.markFactor(s)
		dest = h.signedInDest(c, s)
	}
	return flashDone(c, dest, "Password changed.")
}

package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// StagePath is the page a session at a sign-in step must go to.
func StagePath(step ram.Step) string {
	switch step {
	case ram.StepMFA:
		return "/login/mfa"
	case ram.StepBindMFA:
		return "/mfa/bind"
	case ram.StepChangePassword:
		return "/password/change"
	}
	return "/"
}

// SetupForm handles GET /setup.
func (h *Handlers) SetupForm(c echo.Context) error {
	f := views.Form{Values: map[string]string{"token": c.QueryParam("token")}}
	return Render(c, http.StatusOK, views.SetupPage(views.Setup{Layout: h.layout(c, "Set up"), Form: f}))
}

// Setup handles POST /setup: creates the account and owner, signs the owner
// in and leads to MFA binding.
func (h *Handlers) Setup(c echo.Context) error {
	vals := form(c, "token", "email", "password", "confirm_password", "alias")
	confirm := vals["confirm_password"]
	in := ram.SetupInput{Token: vals["token"], Email: vals["email"], Password: vals["password"], ConfirmPassword: &confirm,
		Alias: strings.TrimSpace(vals["alias"])}
	err := h.RAM.Setup(ctx(c), ActorOf(c), in)
	if fields, ok := fieldErrors(err); ok {
		delete(vals, "password")
		delete(vals, "confirm_password")
		f := views.Form{Values: vals, Errors: fields}
		return Render(c, http.StatusUnprocessableEntity, views.SetupPage(views.Setup{Layout: h.layout(c, "Set up"), Form: f}))
	}
	if err != nil {
		return err
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if err := SessionOf(c).Begin(ram.PrincipalRoot, email, ram.StepBindMFA); err != nil {
		return err
	}
	return redirect(c, "/mfa/bind")
}

// LoginForm handles GET /login.
func (h *Handlers) LoginForm(c echo.Context) error {
	s := SessionOf(c)
	if s.Principal() != "" {
		return redirect(c, StagePath(s.Stage()))
	}
	m := views.Login{Layout: h.layout(c, "Sign in"), Next: h.nextOf(c, c.QueryParam("next"))}
	m.SSO = h.ssoLink(c, m.Next)
	if hint := c.QueryParam("login_hint"); hint != "" && len(hint) <= 128 {
		// An application's login_hint (SPEC §17.4) fills the logon name.
		m.Form = views.Form{Values: map[string]string{"username": hint}}
	}
	if c.QueryParam("ended") == "1" {
		m.Notice = "Your session ended. Sign in again to continue where you were."
	}
	return Render(c, http.StatusOK, views.LoginPage(m))
}

// Login handles POST /login: the password step.
func (h *Handlers) Login(c echo.Context) error {
	username := strings.TrimSpace(c.FormValue("username"))
	next := h.nextOf(c, c.FormValue("next"))
	if username == "" || c.FormValue("password") == "" {
		f := views.Form{Values: map[string]string{"username": username}, Errors: map[string]string{}}
		if username == "" {
			f.Errors["username"] = "Enter your logon name."
		}
		if c.FormValue("password") == "" {
			f.Errors["password"] = "Enter your password."
		}
		m := views.Login{Layout: h.layout(c, "Sign in"), Next: next, Form: f}
		return Render(c, http.StatusUnprocessableEntity, views.LoginPage(h.keepDraft(c, m)))
	}
	ticket := ""
	if ck, err := c.Cookie(TicketCookie); err == nil {
		ticket = ck.Value
	}
	res, err := h.RAM.SignIn(ctx(c), ActorOf(c), username, c.FormValue("password"), ticket)
	if ram.ErrPasswordExpired(err) {
		m := views.Login{Layout: h.layout(c, "Sign in"), Message: "Your password has expired. Ask an administrator to reset it.", Next: next,
			Form: views.Form{Values: map[string]string{"username": username}}}
		return Render(c, http.StatusForbidden, views.LoginPage(m))
	}
	if ram.ErrPasswordSignInOff(err) {
		m := views.Login{Layout: h.layout(c, "Sign in"), Message: "Single sign-on is on for this account: sign in with SSO", Next: next,
			SSO: h.ssoLink(c, next), Form: views.Form{Values: map[string]string{"username": username}}}
		return Render(c, http.StatusOK, views.LoginPage(m))
	}
	if ram.ErrBadLogin(err) {
		m := views.Login{Layout: h.layout(c, "Sign in"), Message: "Incorrect logon name or password", Next: next,
			Form: views.Form{Values: map[string]string{"username": username}}}
		return Render(c, http.StatusUnauthorized, views.LoginPage(h.keepDraft(c, m)))
	}
	if err != nil {
		return err
	}
	s := SessionOf(c)
	if err := s.Begin(res.Principal, res.Name, res.Next); err != nil {
		return err
	}
	if next != "/" {
		_ = s.Set("next", next)
	}
	h.saveDraft(c)
	if res.MFAChecked {
		_ = s.Set(mfaKey, "true")
	}
	if res.Next == ram.StepDone {
		h.markFactor(s)
	}
	if res.Next == ram.StepDone {
		return redirect(c, next)
	}
	return redirect(c, StagePath(res.Next))
}

// TicketCookie remembers a device that passed MFA ("remember this device").
const TicketCookie = "ramconsole_mfa_ticket"

// mfaPage is the sign-in's MFA step: the security-key form (with a fresh
// challenge) when the identity has keys and keys can be used, and the code
// form when it has a TOTP device.
func (h *Handlers) mfaPage(c echo.Context, message string) (views.LoginMFA, error) {
	s := SessionOf(c)
	m := views.LoginMFA{Layout: h.layout(c, "MFA"), Message: message, OfferRemember: h.RAM.SelfService(ctx(c)).EnableSaveMFATicket}
	var err error
	if m.HasTOTP, err = h.RAM.HasTOTP(ctx(c), s.Principal()); err != nil {
		return m, err
	}
	if sup := h.RAM.SecurityKeySupport(); sup.Available {
		if m.Key, err = h.beginCeremony(c, ram.KeyLogin); err != nil {
			return m, err
		}
		m.Layout.WebAuthn = m.Key.Options != ""
	} else if keys, err := h.RAM.SecurityKeys(ctx(c), s.Principal()); err != nil {
		return m, err
	} else if len(keys) > 0 {
		m.KeysUnavailable = sup.Reason
	}
	return m, nil
}

func (h *Handlers) renderMFAStep(c echo.Context, status int, message string) error {
	m, err := h.mfaPage(c, message)
	if err != nil {
		return err
	}
	return Render(c, status, views.LoginMFAPage(m))
}

// LoginMFAForm handles GET /login/mfa.
func (h *Handlers) LoginMFAForm(c echo.Context) error {
	return h.renderMFAStep(c, http.StatusOK, "")
}

// LoginMFA handles POST /login/mfa: the code step.
func (h *Handlers) LoginMFA(c echo.Context) error {
	code := strings.TrimSpace(c.FormValue("code"))
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return h.renderMFAStep(c, http.StatusUnprocessableEntity, "Enter the 6-digit code your authenticator app shows.")
	}
	next, ticket, err := h.RAM.CheckMFA(ctx(c), ActorOf(c), code, c.FormValue("remember") == "true")
	if ram.ErrBadMFA(err) {
		return h.renderMFAStep(c, http.StatusUnauthorized, "The code is not valid. Wait for a new code and try again.")
	}
	if err != nil {
		return err
	}
	_ = SessionOf(c).Set(amrKey, "otp")
	return h.passedMFA(c, next, ticket)
}

// passedMFA continues a sign-in whose second factor was checked: the
// remembered-device cookie when one was issued, a fresh session id at the
// next step, acs:MFAPresent.
func (h *Handlers) passedMFA(c echo.Context, next ram.Step, ticket string) error {
	if ticket != "" {
		c.SetCookie(&http.Cookie{Name: TicketCookie, Value: ticket, Path: "/login", MaxAge: 7 * 24 * 3600,
			HttpOnly: true, Secure: h.SecureCookies || c.IsTLS(), SameSite: http.SameSiteLaxMode})
	}
	s := SessionOf(c)
	if err := s.Advance(next); err != nil {
		return err
	}
	_ = s.Set(mfaKey, "true")
	h.markFactor(s)
	if next != ram.StepDone {
		return redirect(c, StagePath(next))
	}
	return redirect(c, h.signedInDest(c, s))
}

// Logout handles POST /logout: ends the session server-side.
func (h *Handlers) Logout(c echo.Context) error {
	s := SessionOf(c)
	if s.Principal() != "" {
		if err := h.RAM.SignOut(ctx(c), ActorOf(c)); err != nil {
			return err
		}
		if err := h.RAM.EndSAMLRoleConsole(ctx(c), ActorOf(c)); err != nil {
			return err
		}
	}
	if err := s.Destroy(); err != nil {
		return err
	}
	return redirect(c, "/login")
}

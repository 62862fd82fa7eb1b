package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/ram/samlsp"
	"ramconsole/views"
)

// User-based SSO with SAML 2.0 (SPEC §18.1, §18.3): the service provider's
// metadata, the SP-initiated start and the Assertion Consumer Service.

const samlMetadataType = "application/samlmetadata+xml"

// SAMLMetadata handles GET /saml/metadata.xml: the user SSO service provider.
func (h *Handlers) SAMLMetadata(c echo.Context) error {
	sp := h.RAM.UserSAMLSP()
	return c.Blob(http.StatusOK, samlMetadataType, samlsp.SPMetadata(sp.EntityID, sp.ACS))
}

// SAMLRoleMetadata handles GET /saml-role/metadata.xml: the role SSO
// service provider.
func (h *Handlers) SAMLRoleMetadata(c echo.Context) error {
	sp := h.RAM.RoleSAMLSP()
	return c.Blob(http.StatusOK, samlMetadataType, samlsp.SPMetadata(sp.EntityID, sp.ACS))
}

// SAMLLogin handles GET /saml/login?next=: 302 to the identity provider
// with an AuthnRequest.
func (h *Handlers) SAMLLogin(c echo.Context) error {
	next := c.QueryParam("next")
	if !isLocalPath(next) {
		next = ""
	}
	to, err := h.RAM.StartSAMLSignIn(ctx(c), next)
	if err != nil {
		return h.ssoRefused(c, err)
	}
	return c.Redirect(http.StatusFound, to)
}

// SAMLACS handles POST /saml/acs: a response that passes every check of
// SPEC §18.3 starts a console session as a password sign-in does; a refusal
// is a 403 page that starts nothing and sets no cookie.
func (h *Handlers) SAMLACS(c echo.Context) error {
	if err := c.Request().ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return echo.ErrStatusRequestEntityTooLarge
		}
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	// The caller is whoever the identity provider vouches for, never the
	// session the browser may already hold.
	a := ram.Actor{RequestID: RequestID(c), SourceIP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512), SecureTransport: c.IsTLS()}
	res, err := h.RAM.SAMLSignIn(ctx(c), a, c.Request().PostFormValue("SAMLResponse"), c.Request().PostFormValue("RelayState"))
	if err != nil {
		return h.ssoRefused(c, err)
	}
	s := SessionOf(c)
	if err := startSSOSession(s, res.Principal, res.Name, res.MFAPresent, res.SessionNotOnOrAfter, ram.SessionLoginType, ram.LoginTypeSAML); err != nil {
		return err
	}
	h.markFactor(s)
	next := "/"
	if isLocalPath(res.Next) {
		next = localPath(res.Next)
	}
	return redirect(c, next)
}

// ssoRefused answers a refused SSO sign-in with its 403 page, which sets
// no cookie; other errors go to the error handler.
func (h *Handlers) ssoRefused(c echo.Context, err error) error {
	var r *ram.SSORefusal
	if !errors.As(err, &r) {
		return err
	}
	l := views.Layout{Title: "Single sign-on", Alias: h.RAM.DisplayAlias(ctx(c))}
	return Render(c, http.StatusForbidden, views.SSOErrorPage(views.SSOError{Layout: l, Message: r.Message}))
}

// ssoLink is where /login's "Sign in with SSO" leads while user SSO is on
// ("" while it is off).
func (h *Handlers) ssoLink(c echo.Context, next string) string {
	if on, err := h.RAM.UserSSOOn(ctx(c)); err != nil || !on {
		return ""
	}
	if next == "" || next == "/" || !isLocalPath(next) {
		return "/saml/login"
	}
	return "/saml/login?next=" + url.QueryEscape(next)
}

// startSSOSession starts the console session of an SSO sign-in, marked
// with mark=value (user SSO: loginType saml, so turning SSO off ends it),
// with the IdP's MFA verdict, ending by end (zero: no cap).
func startSSOSession(s Session, principal ram.Principal, name string, mfa bool, end time.Time, mark, value string) error {
	values := map[string]string{mark: value}
	if mfa {
		values[mfaKey] = "true"
	}
	return s.BeginMarked(principal, name, ram.StepDone, values, end)
}

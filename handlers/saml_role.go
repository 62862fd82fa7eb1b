package handlers

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// Console role-based SSO (SPEC §18.11 §5): POST /saml-role/sso checks the
// identity provider's response as AssumeRoleWithSAML does; the console then
// acts as the role session, as after Switch role (§12). When the assertion
// lists several roles, the accepted outcome waits server-side, in a fresh
// pre-session of the console, under an opaque single-use token, while the
// person picks one (POST /saml-role/choose): the assertion is never posted
// again.

const (
	// stepSAMLRoleChoice is a pre-session waiting for a role to be picked
	// (a few minutes, as any session between sign-in steps).
	stepSAMLRoleChoice ram.Step = "saml_role_choice"
	// samlRoleChoiceKey holds the pending choice; samlRoleKey marks a
	// console session signed in through role SSO.
	samlRoleChoiceKey = "saml_role_choice"
	samlRoleKey       = "saml_role"
)

// pendingRoleChoice is what the pre-session keeps: the token's SHA-256,
// the accepted assertion's outcome and where to go afterwards.
type pendingRoleChoice struct {
	TokenHash string            `json:"t"`
	Grant     ram.SAMLRoleGrant `json:"g"`
	Next      string            `json:"n,omitempty"`
}

var errRoleChoiceGone = &ram.SSORefusal{Code: "SAMLRoleChoiceInvalid",
	Message: "This choice of role expired or was used already: sign in through your identity provider again."}

// SAMLRoleACS handles POST /saml-role/sso.
func (h *Handlers) SAMLRoleACS(c echo.Context) error {
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
	res, err := h.RAM.SAMLRoleSignIn(ctx(c), a, c.Request().PostFormValue("SAMLResponse"))
	if err != nil {
		return h.ssoRefused(c, err)
	}
	next := ""
	if relay := c.Request().PostFormValue("RelayState"); isLocalPath(relay) {
		next = localPath(relay)
	}
	if res.Choice != nil {
		return h.samlRoleChoice(c, res.Choice, next)
	}
	return h.startSAMLRoleConsole(c, res, next)
}

// samlRoleChoice keeps the outcome in a new pre-session and shows the
// role picker.
func (h *Handlers) samlRoleChoice(c echo.Context, g *ram.SAMLRoleGrant, next string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	data, err := json.Marshal(pendingRoleChoice{TokenHash: choiceHash(token), Grant: *g, Next: next})
	if err != nil {
		return err
	}
	s := SessionOf(c)
	if err := s.Begin("", "", stepSAMLRoleChoice); err != nil {
		return err
	}
	if err := s.Set(samlRoleChoiceKey, string(data)); err != nil {
		return err
	}
	m := views.SAMLRoleChoice{Layout: h.layout(c, "Choose a role"), Subject: g.Subject, Action: "/saml-role/choose", Token: token}
	for _, p := range g.Roles {
		name := p.RoleArn[strings.LastIndexByte(p.RoleArn, '/')+1:]
		m.Roles = append(m.Roles, views.SAMLRoleOption{Name: name, Arn: p.RoleArn, Provider: p.ProviderArn})
	}
	return Render(c, http.StatusOK, views.SAMLRoleChoicePage(m))
}

func choiceHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// SAMLRoleChoose handles POST /saml-role/choose: the picked role's session
// starts. The pending choice is taken once: the pre-session moves to a
// fresh id, which only one request can do.
func (h *Handlers) SAMLRoleChoose(c echo.Context) error {
	s := SessionOf(c)
	var p pendingRoleChoice
	raw := s.Get(samlRoleChoiceKey)
	token := c.FormValue("choice")
	if raw == "" || s.Principal() != "" || s.Stage() != stepSAMLRoleChoice || json.Unmarshal([]byte(raw), &p) != nil || token == "" ||
		subtle.ConstantTimeCompare([]byte(choiceHash(token)), []byte(p.TokenHash)) != 1 {
		return h.ssoRefused(c, errRoleChoiceGone)
	}
	if err := s.Advance(stepSAMLRoleChoice); err != nil {
		return err
	}
	if err := s.Set(samlRoleChoiceKey, ""); err != nil {
		return err
	}
	a := ram.Actor{RequestID: RequestID(c), SourceIP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512), SecureTransport: c.IsTLS()}
	res, err := h.RAM.ChooseSAMLRole(ctx(c), a, &p.Grant, c.FormValue("role"))
	if err != nil {
		return h.ssoRefused(c, err)
	}
	return h.startSAMLRoleConsole(c, res, p.Next)
}

// startSAMLRoleConsole starts the console session acting as the role
// session, ending with it at the latest.
func (h *Handlers) startSAMLRoleConsole(c echo.Context, res *ram.SAMLRoleConsole, next string) error {
	s := SessionOf(c)
	if err := startSSOSession(s, res.Principal, res.Name, res.MFAPresent, res.Expiration, samlRoleKey, "true"); err != nil {
		return err
	}
	if next == "" {
		next = "/me"
	}
	return redirect(c, next)
}

// SAMLRoleSessionOf returns the role session of a console session signed
// in through role SSO, or nil (anyone else, including a RAM user who
// switched to a role).
func SAMLRoleSessionOf(c echo.Context) *ram.RoleSessionActor {
	if rs := RoleSessionOf(c); rs != nil && rs.FederatedBy() != "" {
		return rs
	}
	return nil
}

// meAsSAMLRole is My account of a console session signed in through role
// SSO: the role session, and nothing of a user's own.
func (h *Handlers) meAsSAMLRole(c echo.Context, a ram.Actor, rs *ram.RoleSessionActor) error {
	who, err := h.RAM.GetCallerIdentity(ctx(c), a)
	if err != nil {
		return err
	}
	sess := rs.Session
	m := views.SAMLRoleSession{Layout: h.layout(c, "My account"), Arn: who.Arn, AssumedRoleID: who.PrincipalID,
		Role: rs.Role.RoleName, RoleHref: roleHref(rs.Role.RoleName), RoleArn: ram.RoleARN(who.AccountID, rs.Role.RoleName),
		SessionName: sess.SessionName, Provider: rs.FederatedBy(), Subject: sess.SourceName, Started: date(sess.CreatedAt),
		Expires: date(sess.ExpiresAt), MFAPresent: sess.MFAPresent}
	return Render(c, http.StatusOK, views.SAMLRoleSessionPage(m))
}

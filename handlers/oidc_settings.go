package handlers

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// OIDCSettings handles GET /settings/oidc: the issuer and the signing keys.
func (h *Handlers) OIDCSettings(c echo.Context) error {
	keys, err := h.RAM.SigningKeys(ctx(c))
	if err != nil {
		return err
	}
	m := views.OIDCSettings{Layout: h.layout(c, "OpenID signing keys"), Issuer: h.RAM.Issuer(), IssuerSet: h.RAM.IssuerConfigured(),
		CanManage: SessionOf(c).Principal() == ram.PrincipalRoot}
	for _, k := range keys {
		row := views.OIDCKeyRow{KID: k.KID, Created: date(k.Created), Current: k.Current, State: "signing"}
		if !k.Current {
			row.State = "previous, published until " + date(k.Retired.Add(24*time.Hour))
		}
		m.Keys = append(m.Keys, row)
	}
	return Render(c, http.StatusOK, views.OIDCSettingsPage(m))
}

// OIDCRotateKey handles POST /settings/oidc/rotate-key.
func (h *Handlers) OIDCRotateKey(c echo.Context) error {
	kid, err := h.RAM.RotateSigningKey(ctx(c), ActorOf(c))
	if err != nil {
		return err
	}
	return flashDone(c, "/settings/oidc", "New signing key "+kid+"; the previous key stays published for 24 hours.")
}

// OIDCRevokeKey handles POST /settings/oidc/revoke-key.
func (h *Handlers) OIDCRevokeKey(c echo.Context) error {
	kid := c.FormValue("kid")
	if err := h.RAM.RevokeSigningKey(ctx(c), ActorOf(c), kid); err != nil {
		_ = SessionOf(c).AddFlash(FlashError(err))
		return redirect(c, "/settings/oidc")
	}
	return flashDone(c, "/settings/oidc", "Signing key "+kid+" revoked: tokens it signed no longer verify.")
}

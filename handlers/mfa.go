package handlers

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// pendingKey keeps the sealed seed offered for binding in the session.
const pendingKey = "pending_mfa"

// MFABindForm handles GET /mfa/bind: the seed to scan, or the unbind form
// when a device is bound. The seed stays the same across reloads until it is
// bound or the person asks for a new one (POST /mfa/bind/new), so a QR code
// scanned before a reload still works.
func (h *Handlers) MFABindForm(c echo.Context) error {
	return h.renderBind(c, http.StatusOK, views.Form{})
}

// MFABindNew handles POST /mfa/bind/new: a fresh seed replaces the pending one.
func (h *Handlers) MFABindNew(c echo.Context) error {
	s := SessionOf(c)
	id, err := h.RAM.Identity(ctx(c), s.Principal())
	if err != nil {
		return err
	}
	hasTOTP, err := h.RAM.HasTOTP(ctx(c), s.Principal())
	if err != nil {
		return err
	}
	if !hasTOTP {
		p, err := h.RAM.NewPendingMFA(ctx(c), s.Principal(), id.Name)
		if err != nil {
			return err
		}
		if err := s.Set(pendingKey, base64.StdEncoding.EncodeToString(p.Sealed)); err != nil {
			return err
		}
		_ = s.AddFlash("A new key was made. Delete the old entry from your app and scan the new code.")
	}
	return redirect(c, "/mfa/bind")
}

func (h *Handlers) renderBind(c echo.Context, status int, f views.Form) error {
	s := SessionOf(c)
	id, err := h.RAM.Identity(ctx(c), s.Principal())
	if err != nil {
		return err
	}
	hasTOTP, err := h.RAM.HasTOTP(ctx(c), s.Principal())
	if err != nil {
		return err
	}
	m := views.MFABind{Layout: h.layout(c, "MFA device"), Form: f, Forced: s.Stage() == ram.StepBindMFA, HasDevice: hasTOTP,
		KeysAvailable: h.RAM.SecurityKeySupport().Available}
	if !hasTOTP {
		var p *ram.PendingMFA
		if sealed, err := base64.StdEncoding.DecodeString(s.Get(pendingKey)); err == nil && len(sealed) > 0 {
			p, err = h.RAM.ReopenPendingMFA(ctx(c), s.Principal(), id.Name, sealed)
			if err != nil {
				p = nil
			}
		}
		if p == nil {
			if p, err = h.RAM.NewPendingMFA(ctx(c), s.Principal(), id.Name); err != nil {
				return err
			}
			if err := s.Set(pendingKey, base64.StdEncoding.EncodeToString(p.Sealed)); err != nil {
				return err
			}
		}
		m.Secret, m.URI, m.QRCode = p.Enrollment.Secret, p.Enrollment.URI, p.Enrollment.QRCodePNG
		m.SecretGroups = groupsOf4(p.Enrollment.Secret)
		m.Layout.CSRFToken = s.CSRFToken()
	}
	return Render(c, status, views.MFABindPage(m))
}

// MFABind handles POST /mfa/bind with two consecutive codes.
func (h *Handlers) MFABind(c echo.Context) error {
	s := SessionOf(c)
	vals := form(c, "code1", "code2")
	sealed, _ := base64.StdEncoding.DecodeString(s.Get(pendingKey))
	next, err := h.RAM.BindMFA(ctx(c), ActorOf(c), sealed, strings.TrimSpace(vals["code1"]), strings.TrimSpace(vals["code2"]), s.IDHash())
	if fields, ok := fieldErrors(err); ok {
		return h.renderBind(c, http.StatusUnprocessableEntity, views.Form{Values: vals, Errors: fields})
	}
	if err != nil {
		return err
	}
	_ = s.Set(pendingKey, "")
	finishing := s.Stage() == ram.StepBindMFA
	if !finishing {
		next = ram.StepDone
	}
	if err := s.Advance(next); err != nil {
		return err
	}
	_ = s.Set(mfaKey, "true")
	_ = s.Set(amrKey, "otp")
	h.markFactor(s)
	_ = s.AddFlash("MFA device bound.")
	if finishing && next == ram.StepDone {
		return redirect(c, h.signedInDest(c, s))
	}
	return redirect(c, StagePath(next))
}

// MFAUnbind handles POST /mfa/unbind: needs the password and a current code.
func (h *Handlers) MFAUnbind(c echo.Context) error {
	s := SessionOf(c)
	vals := form(c, "password", "code")
	err := h.RAM.UnbindOwnMFA(ctx(c), ActorOf(c), vals["password"], strings.TrimSpace(vals["code"]), s.IDHash())
	if fields, ok := fieldErrors(err); ok {
		delete(vals, "password")
		return h.renderBind(c, http.StatusUnprocessableEntity, views.Form{Values: vals, Errors: fields})
	}
	if err != nil {
		return err
	}
	// The owner may not use the console without a factor: back to binding
	// unless a security key remains.
	next := ram.StepDone
	if s.Principal() == ram.PrincipalRoot {
		if id, err := h.RAM.Identity(ctx(c), s.Principal()); err != nil {
			return err
		} else if !id.HasMFA {
			next = ram.StepBindMFA
		}
	}
	if err := s.Advance(next); err != nil {
		return err
	}
	_ = s.Set(mfaKey, "")
	_ = s.AddFlash("MFA device unbound.")
	return redirect(c, StagePath(next))
}

// groupsOf4 spaces a key in groups of four characters for typing by hand.
func groupsOf4(key string) string {
	var b strings.Builder
	for i, r := range key {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

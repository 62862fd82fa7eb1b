package handlers

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/store"
	"ramconsole/views"
)

// Security keys (SPEC §15): the pages that list, add and delete one's own
// keys, and the sign-in step's "Use security key". A ceremony's challenge
// waits in the server-side session under challengeKey(ceremony) and is
// taken out by the first POST that presents it, whatever the outcome.

// factorAtKey is when the session last passed a factor check (Unix
// seconds): for five minutes after, adding a key asks no password.
const factorAtKey = "factor_at"

// recentFactor is how long a factor check lets a key be added without the
// password.
const recentFactor = 5 * time.Minute

func challengeKey(c ram.KeyCeremony) string { return "webauthn_" + string(c) }

// signedInDest is where a sign-in that just completed goes: the page (or
// application sign-in) it was started for, once, else the overview.
func (h *Handlers) signedInDest(c echo.Context, s Session) string {
	dest := h.nextOf(c, s.Get("next"))
	_ = s.Set("next", "")
	return dest
}

// markFactor records that the session just passed a factor check.
func (h *Handlers) markFactor(s Session) {
	_ = s.Set(factorAtKey, strconv.FormatInt(h.RAM.Now().Unix(), 10))
}

func (h *Handlers) recentFactor(s Session) bool {
	at, err := strconv.ParseInt(s.Get(factorAtKey), 10, 64)
	return err == nil && h.RAM.Now().Sub(time.Unix(at, 0)) < recentFactor
}

// beginCeremony issues a fresh challenge for the session's identity and
// keeps it in the session; "" options when there is nothing to answer
// with (no key to sign in with).
func (h *Handlers) beginCeremony(c echo.Context, ceremony ram.KeyCeremony) (views.KeyCeremony, error) {
	s := SessionOf(c)
	opts, state, err := h.RAM.BeginKeyCeremony(ctx(c), s.Principal(), ceremony)
	if err != nil {
		return views.KeyCeremony{}, err
	}
	if err := s.Set(challengeKey(ceremony), state); err != nil {
		return views.KeyCeremony{}, err
	}
	kind := "get"
	if ceremony == ram.KeyRegister {
		kind = "create"
	}
	return views.KeyCeremony{Kind: kind, Options: opts}, nil
}

// takeChallenge removes a ceremony's challenge from the session and
// returns it: single use, whatever the POST's outcome.
func takeChallenge(c echo.Context, ceremony ram.KeyCeremony) (string, error) {
	s := SessionOf(c)
	state := s.Get(challengeKey(ceremony))
	if state == "" {
		return "", nil
	}
	return state, s.Set(challengeKey(ceremony), "")
}

// keysAvailable answers 404 for a security-key route when keys are off.
func (h *Handlers) keysAvailable() error {
	if !h.RAM.SecurityKeySupport().Available {
		return echo.ErrNotFound
	}
	return nil
}

func securityKeyRow(k store.SecurityKey) views.SecurityKeyRow {
	prefix := base64.RawURLEncoding.EncodeToString(k.CredentialID)
	if len(prefix) > 8 {
		prefix = prefix[:8]
	}
	used := date(k.LastUsedAt)
	if used == "" {
		used = "never"
	}
	return views.SecurityKeyRow{ID: k.ID, Name: k.Name, Added: date(k.CreatedAt), LastUsed: used, Synced: k.BackupState,
		CredentialPrefix: prefix, DeleteHref: "/mfa/security-keys/" + url.PathEscape(k.ID) + "/delete"}
}

// SecurityKeysPage handles GET /mfa/security-keys: one's own keys.
func (h *Handlers) SecurityKeysPage(c echo.Context) error {
	m := views.SecurityKeys{Layout: h.layout(c, "Security keys"), Max: ram.MaxSecurityKeys}
	if sup := h.RAM.SecurityKeySupport(); !sup.Available {
		m.Unavailable = sup.Reason
		return Render(c, http.StatusOK, views.SecurityKeysPage(m))
	}
	keys, err := h.RAM.SecurityKeys(ctx(c), SessionOf(c).Principal())
	if err != nil {
		return err
	}
	may, err := h.RAM.MayManageOwnKeys(ctx(c), SessionOf(c).Principal())
	if err != nil {
		return err
	}
	for _, k := range keys {
		row := securityKeyRow(k)
		if !may {
			row.DeleteHref = ""
		}
		m.Keys = append(m.Keys, row)
	}
	m.CanAdd, m.Managed = may && len(keys) < ram.MaxSecurityKeys, !may
	return Render(c, http.StatusOK, views.SecurityKeysPage(m))
}

// SecurityKeyNewForm handles GET /mfa/security-keys/new.
func (h *Handlers) SecurityKeyNewForm(c echo.Context) error {
	if err := h.keysAvailable(); err != nil {
		return err
	}
	return h.renderKeyNew(c, http.StatusOK, views.Form{}, "")
}

func (h *Handlers) renderKeyNew(c echo.Context, status int, f views.Form, msg string) error {
	s := SessionOf(c)
	if may, err := h.RAM.MayManageOwnKeys(ctx(c), s.Principal()); err != nil {
		return err
	} else if !may {
		return ram.ErrSelfServiceMFA
	}
	cer, err := h.beginCeremony(c, ram.KeyRegister)
	if err != nil {
		return err
	}
	ask, err := h.RAM.PasswordNeededForKey(ctx(c), s.Principal(), h.recentFactor(s))
	if err != nil {
		return err
	}
	delete(f.Values, "password")
	m := views.SecurityKeyNew{Layout: h.layout(c, "Add a security key"), Form: f, Message: msg, Ceremony: cer,
		AskPassword: ask, Forced: s.Stage() == ram.StepBindMFA}
	m.Layout.WebAuthn = true
	return Render(c, status, views.SecurityKeyNewPage(m))
}

// SecurityKeyCreate handles POST /mfa/security-keys: the browser's answer
// to the registration challenge, verified and stored.
func (h *Handlers) SecurityKeyCreate(c echo.Context) error {
	if err := h.keysAvailable(); err != nil {
		return err
	}
	s := SessionOf(c)
	state, err := takeChallenge(c, ram.KeyRegister)
	if err != nil {
		return err
	}
	vals := form(c, "name", "password")
	in := ram.KeyRegistration{Name: vals["name"], Answer: c.FormValue("credential"), Password: vals["password"], State: state,
		Recent: h.recentFactor(s)}
	next, err := h.RAM.RegisterSecurityKey(ctx(c), ActorOf(c), in, s.IDHash())
	if fields, ok := fieldErrors(err); ok {
		return h.renderKeyNew(c, http.StatusUnprocessableEntity, views.Form{Values: vals, Errors: fields}, "")
	}
	if e, ok := ram.AsError(err); ok && (e.Kind == ram.EINVALID || e.Kind == ram.ELIMIT || e.Kind == ram.EFORBIDDEN) {
		return h.renderKeyNew(c, http.StatusUnprocessableEntity, views.Form{Values: vals}, e.Message)
	}
	if err != nil {
		return err
	}
	msg := "Security key " + in.Name + " added."
	if s.Stage() != ram.StepBindMFA {
		return flashDone(c, "/mfa/security-keys", msg)
	}
	// Forced binding: a key is the factor; on to the next sign-in step.
	if err := s.Advance(next); err != nil {
		return err
	}
	_ = s.Set(mfaKey, "true")
	_ = s.Set(amrKey, "hwk")
	h.markFactor(s)
	dest := StagePath(next)
	if next == ram.StepDone {
		dest = h.signedInDest(c, s)
	}
	return flashDone(c, dest, msg)
}

// SecurityKeyDeleteForm handles GET /mfa/security-keys/:id/delete.
func (h *Handlers) SecurityKeyDeleteForm(c echo.Context) error {
	if err := h.keysAvailable(); err != nil {
		return err
	}
	return h.renderKeyDelete(c, http.StatusOK, views.Form{}, "")
}

func (h *Handlers) renderKeyDelete(c echo.Context, status int, f views.Form, msg string) error {
	s := SessionOf(c)
	k, err := h.RAM.SecurityKeyOf(ctx(c), s.Principal(), c.Param("id"))
	if err != nil {
		return err
	}
	cer, err := h.beginCeremony(c, ram.KeyConfirm)
	if err != nil {
		return err
	}
	hasTOTP, err := h.RAM.HasTOTP(ctx(c), s.Principal())
	if err != nil {
		return err
	}
	delete(f.Values, "password")
	m := views.SecurityKeyDelete{Layout: h.layout(c, "Delete security key"), Form: f, Message: msg, Key: securityKeyRow(*k),
		HasTOTP: hasTOTP, Ceremony: cer}
	m.Layout.WebAuthn = cer.Options != ""
	return Render(c, status, views.SecurityKeyDeletePage(m))
}

// SecurityKeyDelete handles POST /mfa/security-keys/:id/delete: the
// password and a current factor remove one of one's own keys.
func (h *Handlers) SecurityKeyDelete(c echo.Context) error {
	if err := h.keysAvailable(); err != nil {
		return err
	}
	s := SessionOf(c)
	state, err := takeChallenge(c, ram.KeyConfirm)
	if err != nil {
		return err
	}
	vals := form(c, "password", "code")
	in := ram.KeyDeletion{ID: c.Param("id"), Password: vals["password"], Code: vals["code"], Answer: c.FormValue("credential"), State: state}
	err = h.RAM.DeleteOwnSecurityKey(ctx(c), ActorOf(c), in, s.IDHash())
	if fields, ok := fieldErrors(err); ok {
		return h.renderKeyDelete(c, http.StatusUnprocessableEntity, views.Form{Values: vals, Errors: fields}, "")
	}
	if e, ok := ram.AsError(err); ok && (e.Kind == ram.EINVALID || e.Kind == ram.EFORBIDDEN) {
		return h.renderKeyDelete(c, http.StatusUnprocessableEntity, views.Form{Values: vals}, e.Message)
	}
	if err != nil {
		return err
	}
	return flashDone(c, "/mfa/security-keys", "Security key deleted; your other sessions ended.")
}

// LoginSecurityKey handles POST /login/mfa/webauthn: a key's answer to the
// sign-in challenge, in place of a code.
func (h *Handlers) LoginSecurityKey(c echo.Context) error {
	if err := h.keysAvailable(); err != nil {
		return err
	}
	state, err := takeChallenge(c, ram.KeyLogin)
	if err != nil {
		return err
	}
	next, ticket, err := h.RAM.CheckSecurityKey(ctx(c), ActorOf(c), state, c.FormValue("credential"), c.FormValue("remember") == "true")
	if ram.ErrBadKey(err) {
		m, err := h.mfaPage(c, "The security key could not be verified")
		if err != nil {
			return err
		}
		return Render(c, http.StatusUnprocessableEntity, views.LoginMFAPage(m))
	}
	if err != nil {
		return err
	}
	_ = SessionOf(c).Set(amrKey, "hwk")
	return h.passedMFA(c, next, ticket)
}

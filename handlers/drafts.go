package handlers

import (
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/views"
)

// Drafts: a form of this site posted after its session ended changes
// nothing, but what was typed is not lost. The sign-in page that answers
// it carries the typed values (never a password, secret, token or code)
// in hidden fields, so an anonymous visitor still writes nothing to the
// database; signing in keeps them in the new session, and the form's page
// shows them once, if it is opened within draftTTL (docs/decisions.md).

const (
	// draftKey holds "<unix time>\n<form action>\n<url-encoded values>".
	draftKey = "draft"
	// maxDraft bounds what is carried: larger forms are not kept.
	maxDraft = 64 << 10
	draftTTL = 10 * time.Minute
)

// draftForms are the actions (path.Match patterns) whose form pages show a
// draft again (restoreDraft): the forms with most to type.
var draftForms = []string{"/users", "/users/*/edit", "/groups", "/groups/*/edit", "/policies"}

// formPages names the page that shows the form posted to an action, where
// they differ (a form shown again with its messages has the action's
// address).
var formPages = map[string]string{"/users": "/users/new", "/groups": "/groups/new", "/policies": "/policies/new"}

func draftForm(action string) bool {
	for _, p := range draftForms {
		if ok, _ := path.Match(p, action); ok {
			return true
		}
	}
	return false
}

// keptField reports whether a form field may be carried through sign-in:
// passwords, secrets, tokens, MFA codes and typed confirmations are not.
func keptField(name string) bool {
	n := strings.ToLower(name)
	if strings.Contains(n, "secret") || strings.Contains(n, "token") {
		return false
	}
	switch n {
	case "password", "current_password", "new_password", "confirm_password", "old_password", // the choices (generate_password, password_reset_required) are kept
		"code", "code1", "code2", "confirm", "draft", "draft_action", "next":
		return false
	}
	return true
}

// keptValues is vals without the fields keptField refuses, url-encoded;
// "" when nothing is left or it is larger than maxDraft.
func keptValues(vals url.Values) string {
	kept := url.Values{}
	for k, vs := range vals {
		if keptField(k) {
			kept[k] = vs
		}
	}
	enc := kept.Encode()
	if len(enc) > maxDraft {
		return ""
	}
	return enc
}

// SessionEnded answers a form of this site posted after its session ended
// (the route table's guard decides that, and that it came from page):
// nothing is done, and the sign-in page says so, carrying what was typed
// back to the form.
func (h *Handlers) SessionEnded(c echo.Context, page string) error {
	action := c.Request().URL.Path
	if u, err := url.Parse(page); err == nil && u.Path == action && formPages[action] != "" {
		page = formPages[action]
	}
	_ = c.Request().ParseForm()
	m := views.Login{Layout: h.layout(c, "Sign in"), Next: h.nextOf(c, page),
		Notice: "Your session ended before the form was sent, so nothing was saved. Sign in again to continue where you were."}
	if draft := keptValues(c.Request().PostForm); draft != "" && draftForm(action) {
		m.DraftAction, m.Draft = action, draft
		m.Notice = "Your session ended before the form was sent, so nothing was saved. Sign in again to get back to the form " +
			"with what you typed (passwords are not kept)."
	}
	return Render(c, http.StatusUnauthorized, views.LoginPage(m))
}

// keepDraft carries a posted draft into a sign-in page shown again (a
// wrong password), so a second try still brings the form back.
func (h *Handlers) keepDraft(c echo.Context, m views.Login) views.Login {
	action, draft := c.FormValue("draft_action"), c.FormValue("draft")
	if draft == "" || !draftForm(action) || len(draft) > maxDraft {
		return m
	}
	vals, err := url.ParseQuery(draft)
	if err != nil {
		return m
	}
	if m.DraftAction, m.Draft = action, keptValues(vals); m.Draft != "" && m.Notice == "" {
		m.Notice = "Sign in to get back to the form with what you typed (passwords are not kept)."
	}
	return m
}

// saveDraft keeps a posted draft in the session that has just begun.
func (h *Handlers) saveDraft(c echo.Context) {
	if m := h.keepDraft(c, views.Login{}); m.Draft != "" {
		_ = SessionOf(c).Set(draftKey, strconv.FormatInt(h.RAM.Now().Unix(), 10)+"\n"+m.DraftAction+"\n"+m.Draft)
	}
}

// restoreDraft returns the form posted to action before the session ended,
// once, as the values of the named fields (a field the draft lacks, an
// unticked checkbox, is empty), with a note; otherwise f as it is.
func (h *Handlers) restoreDraft(c echo.Context, action string, f views.Form, names ...string) views.Form {
	s := SessionOf(c)
	if s == nil {
		return f
	}
	parts := strings.SplitN(s.Get(draftKey), "\n", 3)
	if len(parts) != 3 || parts[1] != action {
		return f
	}
	_ = s.Set(draftKey, "")
	at, err := strconv.ParseInt(parts[0], 10, 64)
	vals, perr := url.ParseQuery(parts[2])
	if err != nil || perr != nil || h.RAM.Now().Sub(time.Unix(at, 0)) > draftTTL {
		return f
	}
	restored := views.Form{Values: map[string]string{}, Errors: f.Errors}
	for _, n := range names {
		restored.Values[n] = vals.Get(n)
	}
	_ = s.AddFlash("This is the form as you typed it before your session ended; nothing was saved. Check it, type any password again, and send it.")
	return restored
}

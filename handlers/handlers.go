// Package handlers turns HTTP requests into calls of the ram domain service
// and its results into pages. Each file serves one resource; forms and their
// validation live beside their handlers.
package handlers

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// Session is the console session of a request, as the web layer keeps it.
type Session interface {
	// Principal is "root", "user/<UserId>", or "" before sign-in.
	Principal() ram.Principal
	// Name is the signed-in identity's logon name.
	Name() string
	// Stage is the sign-in step the session is at; ram.StepDone when signed in.
	Stage() ram.Step
	// CSRFToken is the token every form of this session must carry.
	CSRFToken() string
	// IDHash identifies the stored session (the SHA-256 of its id).
	IDHash() string
	// Begin starts a sign-in for principal at step under a fresh session id.
	Begin(principal ram.Principal, name string, step ram.Step) error
	// Advance moves to the next step under a fresh session id.
	Advance(step ram.Step) error
	// BeginMarked is Begin with values kept in the session and, when end is
	// not zero, an end no later than end (an identity provider's
	// SessionNotOnOrAfter), all stored in one write: the session never
	// exists without them.
	BeginMarked(principal ram.Principal, name string, step ram.Step, values map[string]string, end time.Time) error
	// Get and Set keep small values (sealed where secret) in the session.
	Get(key string) string
	Set(key, value string) error
	// Destroy ends the session server-side and clears the cookie.
	Destroy() error
	// AddFlash queues a message for the next page; Flash takes it.
	AddFlash(msg string) error
	Flash() string
}

// Context keys the web layer sets for handlers.
const (
	KeySession   = "ramconsole.session"
	KeyRequestID = "ramconsole.request_id"
	KeyIdentity  = "ramconsole.identity"
	// KeyAPIPrincipal is the principal an OpenAPI call was authenticated
	// as, for the access log.
	KeyAPIPrincipal = "ramconsole.api_principal"
	// KeyRoleSession is the role session a signed-in RAM user switched to
	// (a *ram.RoleSessionActor): every page is authorised as the role.
	KeyRoleSession = "ramconsole.role_session"
)

// SwitchKey is the session value that names the console role session a
// RAM user switched to (its temporary AccessKey id).
const SwitchKey = "role_session"

// mfaKey marks a session that passed an MFA check (acs:MFAPresent).
const mfaKey = "mfa"

// IdentityOf returns the signed-in identity, or nil.
func IdentityOf(c echo.Context) *ram.Identity {
	id, _ := c.Get(KeyIdentity).(*ram.Identity)
	return id
}

// SessionOf returns the request's session.
func SessionOf(c echo.Context) Session {
	s, _ := c.Get(KeySession).(Session)
	return s
}

// RequestID returns the request's id.
func RequestID(c echo.Context) string {
	id, _ := c.Get(KeyRequestID).(string)
	return id
}

// ActorOf describes the request's caller for the domain service's audit events.
func ActorOf(c echo.Context) ram.Actor {
	a := ram.Actor{RequestID: RequestID(c), SourceIP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512), SecureTransport: c.IsTLS()}
	if s := SessionOf(c); s != nil {
		a.MFAPresent = s.Get(mfaKey) == "true"
	}
	if id := IdentityOf(c); id != nil {
		a.Principal, a.Name = id.Principal, id.Name
	} else if s := SessionOf(c); s != nil {
		a.Principal, a.Name = s.Principal(), s.Name()
	}
	if rs := RoleSessionOf(c); rs != nil {
		a = rs.Act(a)
	}
	return a
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Render renders a component into a buffer first, so a failed render is a
// clean error, never half a page.
func Render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// Deps is what the handlers need from the rest of the program.
type Deps struct {
	RAM *ram.Service
	// SecureCookies marks the cookies the handlers set Secure.
	SecureCookies bool
	// Nav returns the navigation entries the signed-in identity may use.
	Nav func(c echo.Context) []views.NavItem
	// CookieDomain is --cookie-domain ("" when unset): after signing in, a
	// browser may be sent back to a page of a host within it.
	CookieDomain string
}

// Handlers holds every console handler.
type Handlers struct {
	Deps
}

// New returns the handlers.
func New(d Deps) *Handlers { return &Handlers{Deps: d} }

// layout fills the page frame for the request.
func (h *Handlers) layout(c echo.Context, title string) views.Layout {
	l := views.Layout{Title: title}
	s := SessionOf(c)
	if s == nil {
		return l
	}
	l.CSRFToken = s.CSRFToken()
	l.Flash = s.Flash()
	if msg, isErr := strings.CutPrefix(l.Flash, flashErrorPrefix); isErr {
		l.Flash, l.FlashErr = msg, true
	}
	if id := IdentityOf(c); id != nil {
		l.Who = id.Name
		if id.IsOwner {
			l.Who = id.Name + " (owner)"
		} else if id.DisplayName != "" && id.DisplayName != id.Name {
			l.Who = id.DisplayName + " (" + id.Name + ")"
		}
	} else if s.Principal() != "" {
		l.Who = s.Name()
	}
	if rs := RoleSessionOf(c); rs != nil && rs.FederatedBy() == "" { // role SSO has no one to switch back to
		l.Switched = &views.SwitchBanner{Role: rs.Role.RoleName, RoleHref: roleHref(rs.Role.RoleName), User: rs.Session.SourceName,
			BackAction: "/roles/switch-back", Expires: date(rs.Session.ExpiresAt)}
	}
	if s.Stage() == ram.StepDone && s.Principal() != "" {
		l.SignedIn = true
		if h.Nav != nil {
			l.Nav = h.Nav(c)
		}
	}
	l.Alias = h.RAM.DisplayAlias(c.Request().Context())
	return l
}

// form returns the posted values of the named fields, trimmed of nothing:
// what the person typed is kept as typed.
func form(c echo.Context, names ...string) map[string]string {
	v := make(map[string]string, len(names))
	for _, n := range names {
		v[n] = c.FormValue(n)
	}
	return v
}

// fieldErrors returns the per-field messages of a domain error that names
// fields (invalid input, a name already taken): the form is shown again.
func fieldErrors(err error) (map[string]string, bool) {
	e, ok := ram.AsError(err)
	if !ok || len(e.Fields) == 0 {
		return nil, false
	}
	return e.Fields, true
}

// formError is the status a form re-rendered for err answers with.
func formStatus(err error) int {
	if e, ok := ram.AsError(err); ok && (e.Kind == ram.ECONFLICT || e.Kind == ram.ELIMIT) {
		return http.StatusConflict
	}
	return http.StatusUnprocessableEntity
}

// flashErrorPrefix marks a flash message as a refusal.
const flashErrorPrefix = "error:"

// flashDone queues a success message and redirects (redirect-after-post).
func flashDone(c echo.Context, to, msg string) error {
	_ = SessionOf(c).AddFlash(msg)
	return redirect(c, to)
}

// checked reports whether a checkbox was ticked.
func checked(c echo.Context, name string) bool {
	v := c.FormValue(name)
	return v == "true" || v == "on" || v == "1"
}

// date formats a time for people ("" for never).
func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// localPath returns next when it is a local path of this site, else "/".
// Browsers read a Location loosely: they drop tab, CR and LF anywhere, trim
// C0 controls and spaces at the ends and take a backslash for a slash, so
// "/\t/evil.example" leads to //evil.example. A value a browser would read
// differently from how it is written is refused, as is one that is not a
// local path ("/x", not "//x", no scheme or host) once percent-decoded, at
// every level of encoding (a proxy may decode it once more).
func localPath(next string) string {
	v := next
	for range 4 {
		if !isLocalPath(v) {
			return "/"
		}
		d, err := url.PathUnescape(v)
		if err != nil {
			return "/"
		}
		if d == v {
			return next
		}
		v = d
	}
	return "/"
}

// nextOf returns where to go after signing in: next when it is a local
// path, or an http(s) URL on the host this sign-in arrived at (a service's
// host whose proxy serves the sign-in pages) or on a host within
// --cookie-domain (the gateway sends a browser nobody could identify to
// sign in and back to the page it asked for, SPEC §13); else "/".
// Registering a service host never makes it a redirect target by itself.
func (h *Handlers) nextOf(c echo.Context, next string) string {
	if isLocalPath(next) {
		return localPath(next)
	}
	if len(next) > 2048 || strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' || r == ' ' }) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.Opaque != "" || u.Hostname() == "" {
		return "/"
	}
	host := strings.ToLower(u.Hostname())
	if host != strings.ToLower(hostOnly(c.Request().Host)) && (h.CookieDomain == "" || !withinDomain(host, h.CookieDomain)) {
		return "/"
	}
	return u.String()
}

// isLocalPath reports whether v, read as a browser reads it, is a path on
// this site: it starts with one slash, has no control character, space at
// the ends or backslash, and parses without a scheme, user or host.
func isLocalPath(v string) bool {
	if len(v) == 0 || v[0] != '/' || len(v) > 1 && v[1] == '/' || v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b == 0x7f || b == '\\' {
			return false
		}
	}
	u, err := url.Parse(v)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

// redirect is the redirect-after-post.
func redirect(c echo.Context, to string) error { return c.Redirect(http.StatusSeeOther, to) }

// ctx is the request's context.
func ctx(c echo.Context) context.Context { return c.Request().Context() }

// ErrorPage renders the error page; the web layer's error handler calls it.
// It leads back to the viewer's start page and to the page of this site the
// viewer came from.
func (h *Handlers) ErrorPage(c echo.Context, status int, title, message string, denial *ram.Denial) error {
	home, label := homeOf(c)
	return h.errorPage(c, status, title, message, denial, home, label, previousPage(c))
}

// ServiceErrorPage is the error page of a browser the gateway refused at a
// service's host: it leads back to that host's start page.
func (h *Handlers) ServiceErrorPage(c echo.Context, status int, title, message string, denial *ram.Denial) error {
	return h.errorPage(c, status, title, message, denial, "/", "Back to the overview", "")
}

func (h *Handlers) errorPage(c echo.Context, status int, title, message string, denial *ram.Denial, home, homeLabel, previous string) error {
	l := views.Layout{Title: title}
	if SessionOf(c) != nil {
		l = h.layout(c, title)
	}
	m := views.Error{Layout: l, Status: status, Title: title, Message: message, Home: home, HomeLabel: homeLabel, Previous: previous}
	if denial != nil {
		m.Action, m.Resources, m.DenyType = denial.Action, denial.Resources, denial.Type
		if denial.PolicyName != "" {
			m.DeniedBy = denial.PolicyType + " policy " + denial.PolicyName + ", Statement[" + strconv.Itoa(denial.Statement) + "]"
		}
	}
	if status >= 500 || denial != nil {
		m.RequestID = RequestID(c)
	}
	if denial != nil {
		who := ""
		if id := IdentityOf(c); id != nil {
			who = id.Name
		}
		if rs := RoleSessionOf(c); rs != nil {
			who += " acting as role " + rs.Role.RoleName
		}
		lines := []string{"Request ID: " + m.RequestID, "Time: " + h.RAM.Now().UTC().Format(time.RFC3339), "Principal: " + who,
			"Page: " + c.Request().Method + " " + c.Request().URL.Path, "Action: " + denial.Action,
			"Resources: " + strings.Join(denial.Resources, ", "), "Decision: " + denial.Type}
		if m.DeniedBy != "" {
			lines = append(lines, "Denied by: "+m.DeniedBy)
		}
		m.Diagnostic = strings.Join(lines, "\n")
	}
	return Render(c, status, views.ErrorPage(m))
}

// homeOf is where an error page leads back to, as the viewer is: the
// overview (the owner), My account (a RAM user), the sign-in step the
// session is at, or the sign-in form.
func homeOf(c echo.Context) (href, label string) {
	s := SessionOf(c)
	switch {
	case s == nil || s.Principal() == "":
		return "/login", "Sign in"
	case s.Stage() != ram.StepDone:
		return StagePath(s.Stage()), "Continue signing in"
	case !s.Principal().IsOwner():
		return "/me", "Back to My account"
	}
	return "/", "Back to the overview"
}

// previousPage is the page of this site the request came from (its
// Referer, same host, another path), or "".
func previousPage(c echo.Context) string {
	ref := c.Request().Header.Get("Referer")
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil || !strings.EqualFold(u.Host, c.Request().Host) || u.Path == c.Request().URL.Path {
		return ""
	}
	if p := u.RequestURI(); isLocalPath(p) {
		return p
	}
	return ""
}

// RoleSessionOf returns the role session a signed-in RAM user switched to,
// or nil.
func RoleSessionOf(c echo.Context) *ram.RoleSessionActor {
	rs, _ := c.Get(KeyRoleSession).(*ram.RoleSessionActor)
	return rs
}

// FlashError is the flash message of a domain error, shown as an error.
func FlashError(err error) string {
	if e, ok := ram.AsError(err); ok {
		return flashErrorPrefix + e.Message
	}
	return flashErrorPrefix + "Something went wrong."
}

package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// Access says which sessions may reach a route.
type Access int

// Access levels, from the most open.
const (
	// Public routes answer anyone, before and after setup.
	Public Access = iota
	// SetupOnly routes exist only until the account is created.
	SetupOnly
	// Guest routes answer anyone once set up (the sign-in form).
	Guest
	// AnySession routes answer any session, signed in or part-way (sign-out).
	AnySession
	// MFAStep routes answer only a session at the MFA code step.
	MFAStep
	// BindStep routes answer a session that must bind MFA, and signed-in ones.
	BindStep
	// PasswordStep routes answer a session that must change its password, and signed-in ones.
	PasswordStep
	// SignedIn routes need a session that passed every sign-in step.
	SignedIn
)

// Route is one entry of the route table. Action and Resources name the RAM
// action and resource ARNs that authorise a RAM user on the route.
type Route struct {
	Method    string
	Path      string
	Access    Access
	Handler   echo.HandlerFunc
	Action    string
	Resources func(c echo.Context, accountID string) []string
	// Nav, when set, lists the route in the navigation under this label.
	Nav string
}

// routes is the one route table of the console.
func routes(h *handlers.Handlers) []Route {
	return []Route{
		// Health and first run.
		{Method: http.MethodGet, Path: "/healthz", Access: Public, Handler: h.Health},
		{Method: http.MethodGet, Path: "/setup", Access: SetupOnly, Handler: h.SetupForm},
		{Method: http.MethodPost, Path: "/setup", Access: SetupOnly, Handler: h.Setup},

		// Sign-in, step by step, and sign-out.
		{Method: http.MethodGet, Path: "/login", Access: Guest, Handler: h.LoginForm},
		{Method: http.MethodPost, Path: "/login", Access: Guest, Handler: h.Login},
		{Method: http.MethodGet, Path: "/login/mfa", Access: MFAStep, Handler: h.LoginMFAForm},
		{Method: http.MethodPost, Path: "/login/mfa", Access: MFAStep, Handler: h.LoginMFA},
		{Method: http.MethodPost, Path: "/logout", Access: AnySession, Handler: h.Logout},

		// The signed-in identity's own MFA device.
		{Method: http.MethodGet, Path: "/mfa/bind", Access: BindStep, Handler: h.MFABindForm, Nav: "MFA device"},
		{Method: http.MethodPost, Path: "/mfa/bind", Access: BindStep, Handler: h.MFABind},
		{Method: http.MethodPost, Path: "/mfa/unbind", Access: SignedIn, Handler: h.MFAUnbind},

		// The console.
		{Method: http.MethodGet, Path: "/", Access: SignedIn, Handler: h.Overview, Nav: "Overview"},
	}
}

// guard enforces a route's access level: before setup everything but public
// routes leads to /setup; after it /setup is gone; a session part-way
// through sign-in reaches only its step's pages and sign-out.
func guard(svc *ram.Service, r Route) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if r.Access == Public {
				return next(c)
			}
			need, err := svc.NeedsSetup(c.Request().Context())
			if err != nil {
				return err
			}
			if need != (r.Access == SetupOnly) {
				if need {
					return c.Redirect(http.StatusSeeOther, "/setup")
				}
				return echo.ErrNotFound
			}
			if err := checkCSRF(c); err != nil {
				return err
			}
			s := handlers.SessionOf(c)
			stage, signedIn := s.Stage(), s.Principal() != ""
			allowed := false
			switch r.Access {
			case SetupOnly, AnySession:
				allowed = true
			case Guest:
				allowed = !signedIn
			case MFAStep:
				allowed = signedIn && stage == ram.StepMFA
			case BindStep:
				allowed = signedIn && (stage == ram.StepBindMFA || stage == ram.StepDone)
			case PasswordStep:
				allowed = signedIn && (stage == ram.StepChangePassword || stage == ram.StepDone)
			case SignedIn:
				allowed = signedIn && stage == ram.StepDone
			}
			if allowed {
				return next(c)
			}
			if !signedIn {
				if c.Request().Method == http.MethodGet {
					return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
				}
				return c.Redirect(http.StatusSeeOther, "/login")
			}
			return c.Redirect(http.StatusSeeOther, handlers.StagePath(stage))
		}
	}
}

package web

import (
	"net/http"
	"net/url"
	"strings"

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

// NavFor says who sees a route in the navigation.
type NavFor int

// Navigation audiences.
const (
	// NavAuthorized shows the entry to whoever the route's action allows.
	NavAuthorized NavFor = iota
	// NavOwner shows the entry to the owner only.
	NavOwner
	// NavRAMUser shows the entry to RAM users only.
	NavRAMUser
)

// Route is one entry of the route table. Action and Resources name the RAM
// action and what it acts on for a RAM user on the route: Resources names
// what to resolve (the user, group or policy as the request spells it), and
// the service authorises against the stored entity's ARN. A route of a
// signed-in identity without an Action is self-service.
type Route struct {
	Method    string
	Path      string
	Access    Access
	Handler   echo.HandlerFunc
	Action    string
	Resources func(c echo.Context) []ram.Ref
	// Nav, when set, lists the route in the navigation under this label.
	Nav    string
	NavFor NavFor
}

// What the routes act on, for the route table.
func refs(r ...ram.Ref) []ram.Ref { return r }

func allUsers(echo.Context) []ram.Ref  { return refs(ram.AllUsersRef()) }
func allGroups(echo.Context) []ram.Ref { return refs(ram.AllGroupsRef()) }
func account(echo.Context) []ram.Ref   { return refs(ram.AccountRef()) }

// theUser and theGroup: the route's :name.
func theUser(c echo.Context) []ram.Ref  { return refs(ram.UserRef(c.Param("name"))) }
func theGroup(c echo.Context) []ram.Ref { return refs(ram.GroupRef(c.Param("name"))) }

// userAndFormGroup: adding the route's user to the group named in the form.
func userAndFormGroup(c echo.Context) []ram.Ref {
	return refs(ram.UserRef(c.Param("name")), ram.GroupRef(c.FormValue("group")))
}

// userAndGroup: the route's user and group.
func userAndGroup(c echo.Context) []ram.Ref {
	return refs(ram.UserRef(c.Param("name")), ram.GroupRef(c.Param("group")))
}

// formUserAndGroup: adding the users named in the form to the route's group.
func formUserAndGroup(c echo.Context) []ram.Ref {
	var rs []ram.Ref
	for _, n := range handlers.FormUsers(c) {
		rs = append(rs, ram.UserRef(n))
	}
	if len(rs) == 0 {
		rs = append(rs, ram.UserRef(""))
	}
	return append(rs, ram.GroupRef(c.Param("name")))
}

// memberAndGroup: the route's member and group.
func memberAndGroup(c echo.Context) []ram.Ref {
	return refs(ram.UserRef(c.Param("user")), ram.GroupRef(c.Param("name")))
}

// routes is the one route table of the console.
func routes(h *handlers.Handlers) []Route {
	get, post := http.MethodGet, http.MethodPost
	table := []Route{
		// Health and first run.
		{Method: get, Path: "/healthz", Access: Public, Handler: h.Health},
		{Method: get, Path: "/setup", Access: SetupOnly, Handler: h.SetupForm},
		{Method: post, Path: "/setup", Access: SetupOnly, Handler: h.Setup},

		// Sign-in, step by step, and sign-out.
		{Method: get, Path: "/login", Access: Guest, Handler: h.LoginForm},
		{Method: post, Path: "/login", Access: Guest, Handler: h.Login},
		{Method: get, Path: "/login/mfa", Access: MFAStep, Handler: h.LoginMFAForm},
		{Method: post, Path: "/login/mfa", Access: MFAStep, Handler: h.LoginMFA},
		{Method: post, Path: "/login/mfa/webauthn", Access: MFAStep, Handler: h.LoginSecurityKey},
		{Method: post, Path: "/logout", Access: AnySession, Handler: h.Logout},

		// Overview, and a RAM user's own page.
		{Method: get, Path: "/", Access: SignedIn, Handler: h.Overview, Nav: "Overview", NavFor: NavOwner},
		{Method: get, Path: "/me", Access: SignedIn, Handler: h.Me, Nav: "My account", NavFor: NavRAMUser},
		{Method: post, Path: "/me/accesskeys", Access: SignedIn, Handler: h.MeAccessKeyCreate},
		{Method: post, Path: "/me/sign-out-everywhere", Access: SignedIn, Handler: h.SignOutEverywhere},
		{Method: post, Path: "/me/accesskeys/:id/status", Access: SignedIn, Handler: h.MeAccessKeyStatus},
		{Method: get, Path: "/me/accesskeys/:id/delete", Access: SignedIn, Handler: h.MeAccessKeyDeleteForm},
		{Method: post, Path: "/me/accesskeys/:id/delete", Access: SignedIn, Handler: h.MeAccessKeyDelete},
		{Method: get, Path: "/accesskeys/download/:token", Access: SignedIn, Handler: h.AccessKeyDownload},
		// One-time results: the hand-over sheet after a new password or key, and its credentials CSV.
		{Method: get, Path: "/handover/:token", Access: SignedIn, Handler: h.Handover},
		{Method: get, Path: "/credentials/download/:token", Access: SignedIn, Handler: h.CredentialsDownload},

		// The signed-in identity's own MFA device and password (self-service).
		{Method: get, Path: "/mfa/bind", Access: BindStep, Handler: h.MFABindForm, Nav: "MFA device", NavFor: NavOwner},
		{Method: post, Path: "/mfa/bind", Access: BindStep, Handler: h.MFABind},
		{Method: post, Path: "/mfa/bind/new", Access: BindStep, Handler: h.MFABindNew},
		{Method: post, Path: "/mfa/unbind", Access: SignedIn, Handler: h.MFAUnbind},
		// Security keys: reachable while binding a factor is required, so a
		// key may be that factor.
		{Method: get, Path: "/mfa/security-keys", Access: BindStep, Handler: h.SecurityKeysPage},
		{Method: get, Path: "/mfa/security-keys/new", Access: BindStep, Handler: h.SecurityKeyNewForm},
		{Method: post, Path: "/mfa/security-keys", Access: BindStep, Handler: h.SecurityKeyCreate},
		{Method: get, Path: "/mfa/security-keys/:id/delete", Access: SignedIn, Handler: h.SecurityKeyDeleteForm},
		{Method: post, Path: "/mfa/security-keys/:id/delete", Access: SignedIn, Handler: h.SecurityKeyDelete},
		{Method: get, Path: "/password/change", Access: PasswordStep, Handler: h.PasswordForm, Nav: "Change password", NavFor: NavOwner},
		{Method: post, Path: "/password/change", Access: PasswordStep, Handler: h.PasswordChange},

		// Users.
		{Method: get, Path: "/users", Access: SignedIn, Handler: h.UsersList, Action: "ram:ListUsers", Resources: allUsers, Nav: "Users"},
		{Method: get, Path: "/users/new", Access: SignedIn, Handler: h.UserNew, Action: "ram:CreateUser", Resources: allUsers},
		{Method: post, Path: "/users", Access: SignedIn, Handler: h.UserCreate, Action: "ram:CreateUser", Resources: allUsers},
		{Method: post, Path: "/users/batch", Access: SignedIn, Handler: h.UserBatchCreate, Action: "ram:CreateUser", Resources: allUsers},
		{Method: get, Path: "/users/:name", Access: SignedIn, Handler: h.UserShow, Action: "ram:GetUser", Resources: theUser},
		{Method: get, Path: "/users/:name/edit", Access: SignedIn, Handler: h.UserEditForm, Action: "ram:UpdateUser", Resources: theUser},
		{Method: post, Path: "/users/:name/edit", Access: SignedIn, Handler: h.UserUpdate, Action: "ram:UpdateUser", Resources: theUser},
		{Method: get, Path: "/users/:name/delete", Access: SignedIn, Handler: h.UserDeleteForm, Action: "ram:DeleteUser", Resources: theUser},
		{Method: post, Path: "/users/:name/delete", Access: SignedIn, Handler: h.UserDelete, Action: "ram:DeleteUser", Resources: theUser},
		{Method: post, Path: "/users/:name/unlock", Access: SignedIn, Handler: h.UserUnlock, Action: "ram:UnlockUser", Resources: theUser},
		{Method: post, Path: "/users/:name/login-profile", Access: SignedIn, Handler: h.LoginProfileCreate, Action: "ram:CreateLoginProfile", Resources: theUser},
		{Method: post, Path: "/users/:name/login-profile/password", Access: SignedIn, Handler: h.LoginProfilePassword, Action: "ram:UpdateLoginProfile", Resources: theUser},
		{Method: post, Path: "/users/:name/login-profile/flags", Access: SignedIn, Handler: h.LoginProfileFlags, Action: "ram:UpdateLoginProfile", Resources: theUser},
		{Method: post, Path: "/users/:name/login-profile/status", Access: SignedIn, Handler: h.LoginProfileStatus, Action: "ram:UpdateLoginProfile", Resources: theUser},
		{Method: get, Path: "/users/:name/login-profile/delete", Access: SignedIn, Handler: h.LoginProfileDeleteForm, Action: "ram:DeleteLoginProfile", Resources: theUser},
		{Method: post, Path: "/users/:name/login-profile/delete", Access: SignedIn, Handler: h.LoginProfileDelete, Action: "ram:DeleteLoginProfile", Resources: theUser},
		{Method: get, Path: "/users/:name/mfa/unbind", Access: SignedIn, Handler: h.UserMFAUnbindForm, Action: "ram:UnbindMFADevice", Resources: theUser},
		{Method: post, Path: "/users/:name/mfa/unbind", Access: SignedIn, Handler: h.UserMFAUnbind, Action: "ram:UnbindMFADevice", Resources: theUser},
		{Method: post, Path: "/users/:name/mfa/security-keys/:id/delete", Access: SignedIn, Handler: h.UserSecurityKeyDelete, Action: "ram:UnbindMFADevice", Resources: theUser},
		{Method: post, Path: "/users/:name/accesskeys", Access: SignedIn, Handler: h.AccessKeyCreate, Action: "ram:CreateAccessKey", Resources: theUser},
		{Method: post, Path: "/users/:name/accesskeys/:id/status", Access: SignedIn, Handler: h.AccessKeyStatus, Action: "ram:UpdateAccessKey", Resources: theUser},
		{Method: get, Path: "/users/:name/accesskeys/:id/delete", Access: SignedIn, Handler: h.AccessKeyDeleteForm, Action: "ram:DeleteAccessKey", Resources: theUser},
		{Method: post, Path: "/users/:name/accesskeys/:id/delete", Access: SignedIn, Handler: h.AccessKeyDelete, Action: "ram:DeleteAccessKey", Resources: theUser},
		{Method: post, Path: "/users/:name/groups", Access: SignedIn, Handler: h.UserGroupAdd, Action: "ram:AddUserToGroup", Resources: userAndFormGroup},
		{Method: get, Path: "/users/:name/groups/:group/remove", Access: SignedIn, Handler: h.UserGroupRemoveForm, Action: "ram:RemoveUserFromGroup", Resources: userAndGroup},
		{Method: post, Path: "/users/:name/groups/:group/remove", Access: SignedIn, Handler: h.UserGroupRemove, Action: "ram:RemoveUserFromGroup", Resources: userAndGroup},

		// Groups.
		{Method: get, Path: "/groups", Access: SignedIn, Handler: h.GroupsList, Action: "ram:ListGroups", Resources: allGroups, Nav: "Groups"},
		{Method: get, Path: "/groups/new", Access: SignedIn, Handler: h.GroupNew, Action: "ram:CreateGroup", Resources: allGroups},
		{Method: post, Path: "/groups", Access: SignedIn, Handler: h.GroupCreate, Action: "ram:CreateGroup", Resources: allGroups},
		{Method: get, Path: "/groups/:name", Access: SignedIn, Handler: h.GroupShow, Action: "ram:GetGroup", Resources: theGroup},
		{Method: get, Path: "/groups/:name/edit", Access: SignedIn, Handler: h.GroupEditForm, Action: "ram:UpdateGroup", Resources: theGroup},
		{Method: post, Path: "/groups/:name/edit", Access: SignedIn, Handler: h.GroupUpdate, Action: "ram:UpdateGroup", Resources: theGroup},
		{Method: get, Path: "/groups/:name/delete", Access: SignedIn, Handler: h.GroupDeleteForm, Action: "ram:DeleteGroup", Resources: theGroup},
		{Method: post, Path: "/groups/:name/delete", Access: SignedIn, Handler: h.GroupDelete, Action: "ram:DeleteGroup", Resources: theGroup},
		{Method: post, Path: "/groups/:name/members", Access: SignedIn, Handler: h.GroupMemberAdd, Action: "ram:AddUserToGroup", Resources: formUserAndGroup},
		{Method: get, Path: "/groups/:name/members/:user/remove", Access: SignedIn, Handler: h.GroupMemberRemoveForm, Action: "ram:RemoveUserFromGroup", Resources: memberAndGroup},
		{Method: post, Path: "/groups/:name/members/:user/remove", Access: SignedIn, Handler: h.GroupMemberRemove, Action: "ram:RemoveUserFromGroup", Resources: memberAndGroup},

		// Account settings.
		{Method: get, Path: "/settings", Access: SignedIn, Handler: h.Settings, Action: "ram:GetPasswordPolicy", Resources: account, Nav: "Settings"},
		{Method: post, Path: "/settings/password-policy", Access: SignedIn, Handler: h.PasswordPolicySave, Action: "ram:SetPasswordPolicy", Resources: account},
		{Method: post, Path: "/settings/security", Access: SignedIn, Handler: h.SecurityPreferenceSave, Action: "ram:SetSecurityPreference", Resources: account},
		{Method: post, Path: "/settings/alias", Access: SignedIn, Handler: h.AliasSave, Action: "ram:SetAccountAlias", Resources: account},
		// The OpenID provider's signing keys: public keys for anyone signed
		// in to see; rotating and revoking are the owner's (the domain
		// refuses anyone else).
		{Method: get, Path: "/settings/oidc", Access: SignedIn, Handler: h.OIDCSettings},
		{Method: post, Path: "/settings/oidc/rotate-key", Access: SignedIn, Handler: h.OIDCRotateKey},
		{Method: post, Path: "/settings/oidc/revoke-key", Access: SignedIn, Handler: h.OIDCRevokeKey},
	}
	table = append(table, policyRoutes(h)...)
	table = append(table, roleRoutes(h)...)
	table = append(table, serviceRoutes(h)...)
	table = append(table, applicationRoutes(h)...)
	table = append(table, ssoRoutes(h)...)
	table = append(table, pickerRoutes(h)...)
	table = append(table, samlRoutes(h)...)
	table = append(table, reportRoutes(h)...)
	table = append(table, accessRoutes(h)...)
	return append(table, auditRoutes(h)...)
}

// guard enforces a route's access level: before setup everything but public
// routes leads to /setup; after it /setup is gone; a session part-way
// through sign-in reaches only its step's pages and sign-out. A form of
// this site posted after its session ended is answered by ended, with the
// page it came from.
func guard(svc *ram.Service, r Route, ended func(c echo.Context, page string) error) echo.MiddlewareFunc {
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
				// A form of this site posted after its session ended is a
				// sign-in to do, not an attack: back to the form after it.
				if r.Access >= AnySession && handlers.SessionOf(c).Principal() == "" {
					if page, ok := sameSiteForm(c.Request()); ok {
						return ended(c, page)
					}
				}
				return err
			}
			s := handlers.SessionOf(c)
			stage, signedIn := s.Stage(), s.Principal() != ""
			if signedIn {
				err := identify(c, svc, s)
				if ram.ErrorKind(err) == ram.EAUTH {
					// Deleted, or console access removed: the session is over.
					if err := s.Destroy(); err != nil {
						return err
					}
					return c.Redirect(http.StatusSeeOther, "/login")
				}
				if err != nil {
					return err
				}
			}
			if signedIn && ownAccountRoute(r.Path) && handlers.SAMLRoleSessionOf(c) != nil {
				_ = s.AddFlash(handlers.FlashError(errNoOwnAccount))
				return c.Redirect(http.StatusSeeOther, "/me")
			}
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
				if r.Action != "" {
					if err := svc.Authorize(c.Request().Context(), handlers.ActorOf(c), r.Action, r.Resources(c)...); err != nil {
						return err
					}
				}
				return next(c)
			}
			if !signedIn {
				if c.Request().Method == http.MethodGet {
					return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
				}
				if page, ok := sameSiteForm(c.Request()); ok {
					return ended(c, page)
				}
				return c.Redirect(http.StatusSeeOther, "/login")
			}
			return c.Redirect(http.StatusSeeOther, handlers.StagePath(stage))
		}
	}
}

// identify puts the signed-in identity of session s on the request, and
// the role session it acts through while that lives (a role session that
// ended is dropped with a flash). An identity that is gone (deleted, console
// access removed) is an EAUTH error.
func identify(c echo.Context, svc *ram.Service, s handlers.Session) error {
	if _, _, ok := s.Principal().RoleSession(); ok {
		// Signed in through role SSO: the console session is the role
		// session, while it lives; no RAM user stands behind it.
		id, rs, err := svc.SAMLRoleConsoleSession(c.Request().Context(), s.Principal())
		if err != nil {
			return err
		}
		c.Set(handlers.KeyIdentity, id)
		c.Set(handlers.KeyRoleSession, rs)
		return nil
	}
	id, err := svc.Identity(c.Request().Context(), s.Principal())
	if err != nil {
		return err
	}
	c.Set(handlers.KeyIdentity, id)
	key := s.Get(handlers.SwitchKey)
	if key == "" {
		return nil
	}
	// A RAM user acting as a role: pages follow the role session while it lives.
	rs, err := svc.SwitchedSession(c.Request().Context(), id.Principal, key)
	switch {
	case ram.ErrorKind(err) == ram.EAUTH:
		if err := s.Set(handlers.SwitchKey, ""); err != nil {
			return err
		}
		_ = s.AddFlash(handlers.FlashError(err))
	case err != nil:
		return err
	default:
		c.Set(handlers.KeyRoleSession, rs)
	}
	return nil
}

// errNoOwnAccount answers a console session signed in through role SSO on
// a page of a RAM user's own account.
var errNoOwnAccount = &ram.Error{Kind: ram.EFORBIDDEN, Code: "NoPermission",
	Message: "You signed in through your identity provider as a role session: there is no password, MFA device, AccessKey or role switch of your own here."}

// ownAccountRoute says whether a route is a RAM user's own account (its
// password, MFA devices, AccessKeys, sessions, role switching), which a
// console session signed in through role SSO does not have.
func ownAccountRoute(path string) bool {
	for _, p := range []string{"/me/", "/mfa/", "/password/", "/switch-role", "/roles/switch-back"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return strings.HasPrefix(path, "/roles/:name/switch")
}

// sameSiteForm says whether an unsafe request provably comes from a page of
// this site (Sec-Fetch-Site same-origin, or an Origin or Referer naming this
// host, and nothing naming another), and which page posted it: the
// Referer's path, else the overview.
func sameSiteForm(r *http.Request) (page string, ok bool) {
	proof := false
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin":
		proof = true
	case "":
	default:
		return "", false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return "", false
		}
		proof = true
	}
	page = "/"
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Host != r.Host {
			return "", false
		}
		proof = true
		if u.Path != "" && u.Path != "/login" {
			page = u.RequestURI()
		}
	}
	return page, proof
}

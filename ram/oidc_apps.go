package ram

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"ramconsole/store"
)

// Applications: the OpenID provider's OAuth clients (SPEC §17.3), managed
// in the console and through IMS 2019-08-15, authorised by ram:*Application*
// actions on acs:ram:*:<AccountId>:application/<AppName>.

// Application limits and defaults.
const (
	MaxApplications          = 50
	MaxAppSecrets            = 2
	maxRedirectURIs          = 10
	defaultAccessValidity    = 3600
	defaultWebRefresh        = 7776000
	defaultNativeRefresh     = 2592000
	AppTypeWeb               = "WebApp"
	AppTypeNative            = "NativeApp"
	appSecretLength          = 48
	appSecretIDLength        = 24
	minAccessTokenValidity   = 900
	maxAccessTokenValidity   = 10800
	minRefreshTokenValidity  = 7200
	maxRefreshTokenValidity  = 31536000
	maxApplicationDisplayLen = 24
)

// OIDCScopes are the scopes an application may predefine, in order.
var OIDCScopes = []string{"openid", "profile", "email", "groups", "aliuid", "offline_access"}

// The IMS actions on applications.
const (
	ActionCreateApplication = "ram:CreateApplication"
	ActionGetApplication    = "ram:GetApplication"
	ActionListApplications  = "ram:ListApplications"
	ActionUpdateApplication = "ram:UpdateApplication"
	ActionDeleteApplication = "ram:DeleteApplication"
	ActionCreateAppSecret   = "ram:CreateAppSecret"
	ActionGetAppSecret      = "ram:GetAppSecret"
	ActionListAppSecretIDs  = "ram:ListAppSecretIds"
	ActionDeleteAppSecret   = "ram:DeleteAppSecret"
)

// ApplicationARN is the ARN the ram:*Application* actions act on.
func ApplicationARN(acct, name string) string { return "acs:ram:*:" + acct + ":application/" + name }

// SignInARN is the ARN oidc:SignIn acts on (SPEC §17.6).
func SignInARN(acct, name string) string { return "acs:oidc:*:" + acct + ":application/" + name }

var appNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// reservedAppNames are the console's own pages under /applications/.
var reservedAppNames = map[string]bool{"new": true, "download": true, ".": true, "..": true}

// ApplicationInput creates an application. Zero validities take the
// defaults; SecretRequired is forced for WebApps.
type ApplicationInput struct {
	AppName, DisplayName, AppType string
	RedirectURIs, LogoutURIs      []string
	Scopes, RequiredScopes        []string
	SecretRequired                bool
	AccessTokenValidity           int
	RefreshTokenValidity          int
}

// ApplicationUpdate changes what is set of an application.
type ApplicationUpdate struct {
	DisplayName              *string
	RedirectURIs, LogoutURIs *[]string
	Scopes, RequiredScopes   *[]string
	SecretRequired           *bool
	AccessTokenValidity      *int
	RefreshTokenValidity     *int
}

// Application is an application as the console and IMS show it.
type Application struct {
	store.Application
	AccountID string
	// HTTPRedirects lists the http redirect URIs on other hosts than the
	// loopback ones (allowed for WebApps, warned about).
	HTTPRedirects []string
}

func (s *Service) application(ctx context.Context, a *store.Application) *Application {
	out := &Application{Application: *a, AccountID: s.accountID(ctx)}
	for _, u := range a.RedirectURIs {
		if strings.HasPrefix(u, "http:") && !loopbackRedirect(u) {
			out.HTTPRedirects = append(out.HTTPRedirects, u)
		}
	}
	return out
}

// appEvent is the audit event of a change to an application.
func (s *Service) appEvent(ctx context.Context, a Actor, acct, name, appName string, params map[string]any) *store.Event {
	ev := s.change(ctx, a, acct, name, ApplicationARN(acct, appName), params)
	ev.EventSource = "oidc"
	return ev
}

// refuseApp records a refused application operation (authorize has
// recorded a NoPermission already).
func (s *Service) refuseApp(ctx context.Context, a Actor, acct, name, appName string, err error) error {
	e, ok := AsError(err)
	if !ok || e.Code == "NoPermission" || e.Kind == EAUTH {
		return err
	}
	ev := s.appEvent(ctx, a, acct, name, appName, nil)
	if rerr := s.record(ctx, failEvent(ev, e.Code, e.Message)); rerr != nil {
		return rerr
	}
	return err
}

func appNotFound() error { return notFound("EntityNotExist.Application", "application") }

// authorizeApp authorises action on the stored application named by its
// AppId (byID) or name, and returns it.
func (s *Service) authorizeApp(ctx context.Context, a Actor, action, ref string, byID bool) (string, *store.Application, error) {
	acct := s.accountID(ctx)
	var app *store.Application
	var err error
	if byID {
		app, err = s.st.Application(ctx, ref)
	} else if appNameRE.MatchString(ref) {
		app, err = s.st.ApplicationByName(ctx, ref)
	} else {
		err = store.ErrNotFound
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return acct, nil, err
	}
	name := ref
	if app != nil {
		name = app.AppName
	} else if byID {
		name = "*"
	}
	if err := s.authorize(ctx, a, action, Resource{ApplicationARN(acct, name)}); err != nil {
		return acct, nil, err
	}
	if app == nil {
		return acct, nil, appNotFound()
	}
	return acct, app, nil
}

// loopbackRedirect reports whether an http redirect URI names a loopback
// host (RFC 8252).
func loopbackRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// checkRedirectURIs validates redirect URIs: absolute, no fragment or
// wildcard, https (or http on a loopback host; on any host for a WebApp).
func checkRedirectURIs(fe *fieldErrors, field, param string, uris []string, appType string, min int) {
	if len(uris) < min || len(uris) > maxRedirectURIs {
		fe.add(field, "InvalidParameter."+param, "Give %d to %d URIs.", min, maxRedirectURIs)
		return
	}
	seen := map[string]bool{}
	for _, raw := range uris {
		u, err := url.Parse(raw)
		switch {
		case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
			fe.add(field, "InvalidParameter."+param, "%q is not an absolute URI.", raw)
		case u.Fragment != "" || strings.Contains(raw, "#"):
			fe.add(field, "InvalidParameter."+param, "%q has a fragment; redirect URIs may not.", raw)
		case strings.Contains(raw, "*"):
			fe.add(field, "InvalidParameter."+param, "%q has a wildcard; give each URI exactly.", raw)
		case strings.ContainsFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }):
			fe.add(field, "InvalidParameter."+param, "%q has spaces or control characters.", raw)
		case u.Scheme == "https":
		case u.Scheme == "http" && (loopbackRedirect(raw) || appType == AppTypeWeb):
		default:
			fe.add(field, "InvalidParameter."+param, "%q must use https (http only for localhost, 127.0.0.1 or [::1]).", raw)
		}
		if seen[raw] {
			fe.add(field, "InvalidParameter."+param, "%q is listed twice.", raw)
		}
		seen[raw] = true
	}
}

// normaliseScopes checks scopes against the supported ones and returns
// them in their canonical order, openid always first.
func normaliseScopes(fe *fieldErrors, field, param string, scopes []string, addOpenID bool) []string {
	want := map[string]bool{}
	for _, sc := range scopes {
		sc = strings.TrimSpace(sc)
		if sc == "" {
			continue
		}
		if !slices.Contains(OIDCScopes, sc) {
			fe.add(field, "InvalidParameter."+param, "Unknown scope %q; the scopes are %s.", sc, strings.Join(OIDCScopes, ", "))
			continue
		}
		want[sc] = true
	}
	if addOpenID {
		want["openid"] = true
	}
	var out []string
	for _, sc := range OIDCScopes {
		if want[sc] {
			out = append(out, sc)
		}
	}
	return out
}

func checkValidity(fe *fieldErrors, field, param string, v, lo, hi int) {
	if v < lo || v > hi {
		fe.add(field, "InvalidParameter."+param, "Give a number of seconds from %d to %d.", lo, hi)
	}
}

func checkDisplayName(fe *fieldErrors, name string) {
	if n := utf8.RuneCountInString(name); n < 1 || n > maxApplicationDisplayLen {
		fe.add("display_name", "InvalidParameter.DisplayName", "Give a display name of 1 to %d characters.", maxApplicationDisplayLen)
		return
	}
	checkText(fe, "display_name", "DisplayName", name, 1, maxApplicationDisplayLen)
}

// CreateApplication creates an application (it has no secret yet).
func (s *Service) CreateApplication(ctx context.Context, a Actor, in ApplicationInput) (*Application, error) {
	acct := s.accountID(ctx)
	in.AppName = strings.TrimSpace(in.AppName)
	target := in.AppName
	if !appNameRE.MatchString(target) {
		target = "*"
	}
	if err := s.authorize(ctx, a, ActionCreateApplication, Resource{ApplicationARN(acct, target)}); err != nil {
		return nil, err
	}
	var fe fieldErrors
	if !appNameRE.MatchString(in.AppName) {
		fe.add("name", "InvalidParameter.AppName", "Use 1 to 64 letters, digits, periods, underscores and hyphens.")
	} else if reservedAppNames[strings.ToLower(in.AppName)] {
		fe.add("name", "InvalidParameter.AppName", "%s names a page of the console; choose another name.", in.AppName)
	}
	if in.DisplayName == "" {
		in.DisplayName = truncateRunes(in.AppName, maxApplicationDisplayLen)
	}
	checkDisplayName(&fe, in.DisplayName)
	switch in.AppType {
	case AppTypeWeb:
		in.SecretRequired = true
	case AppTypeNative:
	default:
		fe.add("app_type", "InvalidParameter.AppType", "Choose WebApp (a server that keeps a secret) or NativeApp (public, with PKCE); ServerApp is not served.")
	}
	checkRedirectURIs(&fe, "redirect_uris", "RedirectUris", in.RedirectURIs, in.AppType, 1)
	checkRedirectURIs(&fe, "post_logout_redirect_uris", "PostLogoutRedirectUris", in.LogoutURIs, in.AppType, 0)
	scopes := normaliseScopes(&fe, "scopes", "PredefinedScopes", in.Scopes, true)
	required := normaliseScopes(&fe, "scopes", "RequiredScopes", in.RequiredScopes, false)
	if in.AccessTokenValidity == 0 {
		in.AccessTokenValidity = defaultAccessValidity
	}
	if in.RefreshTokenValidity == 0 {
		in.RefreshTokenValidity = defaultWebRefresh
		if in.AppType == AppTypeNative {
			in.RefreshTokenValidity = defaultNativeRefresh
		}
	}
	checkValidity(&fe, "access_token_validity", "AccessTokenValidity", in.AccessTokenValidity, minAccessTokenValidity, maxAccessTokenValidity)
	checkValidity(&fe, "refresh_token_validity", "RefreshTokenValidity", in.RefreshTokenValidity, minRefreshTokenValidity, maxRefreshTokenValidity)
	if err := fe.err(); err != nil {
		return nil, s.refuseApp(ctx, a, acct, "CreateApplication", target, err)
	}
	app := &store.Application{AppID: newID(19), AppName: in.AppName, DisplayName: in.DisplayName, AppType: in.AppType,
		RedirectURIs: in.RedirectURIs, LogoutURIs: in.LogoutURIs, Scopes: scopes, RequiredScopes: required, SecretRequired: in.SecretRequired,
		AccessValidity: in.AccessTokenValidity, RefreshValidity: in.RefreshTokenValidity}
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		switch err := tx.CreateApplication(ctx, app, MaxApplications); {
		case errors.Is(err, store.ErrConflict):
			return &Error{Kind: ECONFLICT, Code: "EntityAlreadyExists.Application", Message: "An application named " + in.AppName + " exists already.",
				Fields: map[string]string{"name": "An application of this name exists already."}}
		case errors.Is(err, store.ErrLimitExceeded):
			return limit("LimitExceeded.Application", fmt.Sprintf("The account has %d applications, the most it may have.", MaxApplications))
		case err != nil:
			return err
		}
		return tx.AppendEvent(ctx, s.appEvent(ctx, a, acct, "CreateApplication", app.AppName, appParams(app)))
	})
	if err != nil {
		return nil, s.refuseApp(ctx, a, acct, "CreateApplication", in.AppName, err)
	}
	return s.application(ctx, app), nil
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

func appParams(app *store.Application) map[string]any {
	return map[string]any{"AppId": app.AppID, "AppName": app.AppName, "DisplayName": app.DisplayName, "AppType": app.AppType,
		"RedirectUris": strings.Join(app.RedirectURIs, ";"), "PredefinedScopes": strings.Join(app.Scopes, ";"),
		"AccessTokenValidity": app.AccessValidity, "RefreshTokenValidity": app.RefreshValidity, "SecretRequired": app.SecretRequired}
}

// GetApplication returns an application by AppId (byID) or name.
func (s *Service) GetApplication(ctx context.Context, a Actor, ref string, byID bool) (*Application, error) {
	_, app, err := s.authorizeApp(ctx, a, ActionGetApplication, ref, byID)
	if err != nil {
		return nil, err
	}
	return s.application(ctx, app), nil
}

// ListApplications lists every application.
func (s *Service) ListApplications(ctx context.Context, a Actor) ([]Application, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, ActionListApplications, Resource{ApplicationARN(acct, "*")}); err != nil {
		return nil, err
	}
	apps, err := s.st.Applications(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Application, len(apps))
	for i := range apps {
		out[i] = *s.application(ctx, &apps[i])
	}
	return out, nil
}

// UpdateApplication changes an application's settings (its name and
// type never change).
func (s *Service) UpdateApplication(ctx context.Context, a Actor, ref string, byID bool, upd ApplicationUpdate) (*Application, error) {
	acct, app, err := s.authorizeApp(ctx, a, ActionUpdateApplication, ref, byID)
	if err != nil {
		return nil, s.refuseApp(ctx, a, acct, "UpdateApplication", ref, err)
	}
	var fe fieldErrors
	if upd.DisplayName != nil {
		app.DisplayName = *upd.DisplayName
		checkDisplayName(&fe, app.DisplayName)
	}
	if upd.RedirectURIs != nil {
		app.RedirectURIs = *upd.RedirectURIs
		checkRedirectURIs(&fe, "redirect_uris", "RedirectUris", app.RedirectURIs, app.AppType, 1)
	}
	if upd.LogoutURIs != nil {
		app.LogoutURIs = *upd.LogoutURIs
		checkRedirectURIs(&fe, "post_logout_redirect_uris", "PostLogoutRedirectUris", app.LogoutURIs, app.AppType, 0)
	}
	if upd.Scopes != nil {
		app.Scopes = normaliseScopes(&fe, "scopes", "PredefinedScopes", *upd.Scopes, true)
	}
	if upd.RequiredScopes != nil {
		app.RequiredScopes = normaliseScopes(&fe, "scopes", "RequiredScopes", *upd.RequiredScopes, false)
	}
	if upd.SecretRequired != nil {
		app.SecretRequired = *upd.SecretRequired || app.AppType == AppTypeWeb
	}
	if upd.AccessTokenValidity != nil {
		app.AccessValidity = *upd.AccessTokenValidity
		checkValidity(&fe, "access_token_validity", "AccessTokenValidity", app.AccessValidity, minAccessTokenValidity, maxAccessTokenValidity)
	}
	if upd.RefreshTokenValidity != nil {
		app.RefreshValidity = *upd.RefreshTokenValidity
		checkValidity(&fe, "refresh_token_validity", "RefreshTokenValidity", app.RefreshValidity, minRefreshTokenValidity, maxRefreshTokenValidity)
	}
	if err := fe.err(); err != nil {
		return nil, s.refuseApp(ctx, a, acct, "UpdateApplication", app.AppName, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateApplication(ctx, app); errors.Is(err, store.ErrNotFound) {
			return appNotFound()
		} else if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.appEvent(ctx, a, acct, "UpdateApplication", app.AppName, appParams(app)))
	})
	if err != nil {
		return nil, s.refuseApp(ctx, a, acct, "UpdateApplication", app.AppName, err)
	}
	return s.application(ctx, app), nil
}

// DeleteApplication removes an application with its secrets and every
// token it issued.
func (s *Service) DeleteApplication(ctx context.Context, a Actor, ref string, byID bool) error {
	acct, app, err := s.authorizeApp(ctx, a, ActionDeleteApplication, ref, byID)
	if err != nil {
		return s.refuseApp(ctx, a, acct, "DeleteApplication", ref, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteApplication(ctx, app.AppID); errors.Is(err, store.ErrNotFound) {
			return appNotFound()
		} else if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.appEvent(ctx, a, acct, "DeleteApplication", app.AppName, map[string]any{"AppId": app.AppID}))
	})
	if err != nil {
		return s.refuseApp(ctx, a, acct, "DeleteApplication", app.AppName, err)
	}
	return nil
}

// RevokeApplicationTokens revokes every refresh token (and with it the
// access tokens) an application holds (ram:UpdateApplication).
func (s *Service) RevokeApplicationTokens(ctx context.Context, a Actor, name string) (int64, error) {
	acct, app, err := s.authorizeApp(ctx, a, ActionUpdateApplication, name, false)
	if err != nil {
		return 0, s.refuseApp(ctx, a, acct, "RevokeApplicationTokens", name, err)
	}
	var n int64
	err = s.st.Update(ctx, func(tx *store.Tx) (err error) {
		if n, err = tx.RevokeOIDCFamilies(ctx, "app_id", app.AppID); err != nil {
			return err
		}
		ev := s.appEvent(ctx, a, acct, "RevokeApplicationTokens", app.AppName, map[string]any{"AppId": app.AppID})
		ev.AdditionalEventData = map[string]any{"familiesRevoked": n}
		return tx.AppendEvent(ctx, ev)
	})
	return n, err
}

// AppSecretValue is a new secret, shown once.
type AppSecretValue struct {
	AppID, SecretID, Value string
	CreatedAt              time.Time
}

// CreateAppSecret adds a secret (at most two) and returns its value, the
// only time it is ever seen.
func (s *Service) CreateAppSecret(ctx context.Context, a Actor, ref string, byID bool) (*AppSecretValue, error) {
	acct, app, err := s.authorizeApp(ctx, a, ActionCreateAppSecret, ref, byID)
	if err != nil {
		return nil, s.refuseApp(ctx, a, acct, "CreateAppSecret", ref, err)
	}
	value := randomAlnum(appSecretLength)
	sec := &store.AppSecret{SecretID: randomAlnum(appSecretIDLength), AppID: app.AppID, Hash: tokenHash(value)}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if _, err := tx.Application(ctx, app.AppID); errors.Is(err, store.ErrNotFound) {
			return appNotFound()
		}
		if err := tx.AddAppSecret(ctx, sec, MaxAppSecrets); errors.Is(err, store.ErrLimitExceeded) {
			return limit("LimitExceeded.AppSecret", fmt.Sprintf("The application has %d secrets, the most it may have: delete one first.", MaxAppSecrets))
		} else if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.appEvent(ctx, a, acct, "CreateAppSecret", app.AppName, map[string]any{"AppId": app.AppID, "AppSecretId": sec.SecretID}))
	})
	if err != nil {
		return nil, s.refuseApp(ctx, a, acct, "CreateAppSecret", app.AppName, err)
	}
	return &AppSecretValue{AppID: app.AppID, SecretID: sec.SecretID, Value: value, CreatedAt: sec.CreatedAt}, nil
}

// ListAppSecrets lists an application's secrets by id and date.
func (s *Service) ListAppSecrets(ctx context.Context, a Actor, ref string, byID bool) (*Application, []store.AppSecret, error) {
	_, app, err := s.authorizeApp(ctx, a, ActionListAppSecretIDs, ref, byID)
	if err != nil {
		return nil, nil, err
	}
	secs, err := s.st.AppSecrets(ctx, app.AppID)
	return s.application(ctx, app), secs, err
}

// GetAppSecret returns one secret's id and date.
func (s *Service) GetAppSecret(ctx context.Context, a Actor, appID, secretID string) (*store.AppSecret, error) {
	_, app, err := s.authorizeApp(ctx, a, ActionGetAppSecret, appID, true)
	if err != nil {
		return nil, err
	}
	secs, err := s.st.AppSecrets(ctx, app.AppID)
	if err != nil {
		return nil, err
	}
	for i := range secs {
		if secs[i].SecretID == secretID {
			return &secs[i], nil
		}
	}
	return nil, notFound("EntityNotExist.AppSecret", "application secret")
}

// DeleteAppSecret removes a secret; it stops working at once.
func (s *Service) DeleteAppSecret(ctx context.Context, a Actor, ref string, byID bool, secretID string) error {
	acct, app, err := s.authorizeApp(ctx, a, ActionDeleteAppSecret, ref, byID)
	if err != nil {
		return s.refuseApp(ctx, a, acct, "DeleteAppSecret", ref, err)
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteAppSecret(ctx, app.AppID, secretID); errors.Is(err, store.ErrNotFound) {
			return notFound("EntityNotExist.AppSecret", "application secret")
		} else if err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.appEvent(ctx, a, acct, "DeleteAppSecret", app.AppName, map[string]any{"AppId": app.AppID, "AppSecretId": secretID}))
	})
	if err != nil {
		return s.refuseApp(ctx, a, acct, "DeleteAppSecret", app.AppName, err)
	}
	return nil
}

// checkAppSecret reports whether value is one of the application's
// secrets, comparing hashes in constant time.
func (s *Service) checkAppSecret(ctx context.Context, appID, value string) (bool, error) {
	secs, err := s.st.AppSecrets(ctx, appID)
	if err != nil {
		return false, err
	}
	h := []byte(tokenHash(value))
	ok := false
	for _, sec := range secs {
		if subtle.ConstantTimeCompare(h, []byte(sec.Hash)) == 1 {
			ok = true
		}
	}
	return ok, nil
}

// ParseURIList splits a text area's URIs, one per line (blank lines and
// surrounding space ignored).
func ParseURIList(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

package handlers

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/views"
)

// The OpenID provider's endpoints (SPEC §17): the wire only; ram decides.

// amrKey keeps the session's second factor for the amr claim: "otp" or
// "hwk" (a security key).
const amrKey = "amr"

// OIDCDiscovery handles GET /.well-known/openid-configuration.
func (h *Handlers) OIDCDiscovery(c echo.Context) error {
	iss := h.RAM.Issuer()
	doc := map[string]any{
		"issuer":                                     iss,
		"authorization_endpoint":                     iss + "/oauth2/v1/auth",
		"token_endpoint":                             iss + "/v1/token",
		"userinfo_endpoint":                          iss + "/v1/userinfo",
		"jwks_uri":                                   iss + "/v1/keys",
		"revocation_endpoint":                        iss + "/v1/revoke",
		"end_session_endpoint":                       iss + "/oauth2/v1/logout",
		"response_types_supported":                   []string{"code"},
		"response_modes_supported":                   []string{"query"},
		"grant_types_supported":                      []string{"authorization_code", "refresh_token"},
		"subject_types_supported":                    []string{"public"},
		"id_token_signing_alg_values_supported":      []string{"RS256"},
		"code_challenge_methods_supported":           []string{"S256"},
		"token_endpoint_auth_methods_supported":      []string{"client_secret_basic", "client_secret_post", "none"},
		"revocation_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"scopes_supported":                           ram.OIDCScopes,
		"claims_supported": []string{"iss", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "sub", "aid", "amr",
			"uid", "preferred_username", "name", "upn", "updated_at", "email", "email_verified", "groups"},
		"authorization_response_iss_parameter_supported": true,
		"request_parameter_supported":                    false,
		"request_uri_parameter_supported":                false,
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "public, max-age=3600")
	hd.Set("Access-Control-Allow-Origin", "*")
	return c.JSON(http.StatusOK, doc)
}

// OIDCKeys handles GET /v1/keys: the public signing keys.
func (h *Handlers) OIDCKeys(c echo.Context) error {
	b, err := h.RAM.JWKS(ctx(c))
	if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "public, max-age=300")
	hd.Set("Access-Control-Allow-Origin", "*")
	return c.JSONBlob(http.StatusOK, b)
}

// param reads a parameter of a GET query or a POST form.
func param(c echo.Context, name string) string {
	if c.Request().Method == http.MethodPost {
		return c.FormValue(name)
	}
	return c.QueryParam(name)
}

func authRequestOf(c echo.Context) ram.AuthRequest {
	return ram.AuthRequest{ClientID: param(c, "client_id"), RedirectURI: param(c, "redirect_uri"), ResponseType: param(c, "response_type"),
		Scope: param(c, "scope"), State: param(c, "state"), Nonce: param(c, "nonce"), CodeChallenge: param(c, "code_challenge"),
		CodeChallengeMethod: param(c, "code_challenge_method"), Prompt: param(c, "prompt"), MaxAge: param(c, "max_age"),
		LoginHint: param(c, "login_hint"), Request: param(c, "request"), RequestURI: param(c, "request_uri")}
}

// authURL is the authorization request as a local path; fresh drops the
// parameters a fresh sign-in satisfies (prompt=login, max_age), so the
// request does not ask for one again when the browser comes back.
func authURL(req ram.AuthRequest, fresh bool) string {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("client_id", req.ClientID)
	set("redirect_uri", req.RedirectURI)
	set("response_type", req.ResponseType)
	set("scope", req.Scope)
	set("state", req.State)
	set("nonce", req.Nonce)
	set("code_challenge", req.CodeChallenge)
	set("code_challenge_method", req.CodeChallengeMethod)
	if !fresh {
		set("max_age", req.MaxAge)
		set("prompt", req.Prompt)
	}
	return "/oauth2/v1/auth?" + q.Encode()
}

// signInSession describes the console session's sign-in.
func (h *Handlers) signInSession(s Session) ram.SignInSession {
	at, _ := strconv.ParseInt(s.Get(factorAtKey), 10, 64)
	amr := []string{"pwd"}
	if s.Get(mfaKey) == "true" {
		if f := s.Get(amrKey); f != "" {
			amr = append(amr, f)
		}
		amr = append(amr, "mfa")
	}
	sid := s.IDHash()
	if len(sid) > 22 {
		sid = sid[:22]
	}
	return ram.SignInSession{AuthTime: time.Unix(at, 0).UTC(), AMR: amr, SID: sid}
}

// OIDCAuthorize handles GET and POST /oauth2/v1/auth (SPEC §17.4).
func (h *Handlers) OIDCAuthorize(c echo.Context) error {
	req := authRequestOf(c)
	a := ActorOf(c)
	app, scopes, oe := h.RAM.CheckAuthRequest(ctx(c), a, &req)
	if oe != nil {
		if !oe.Redirect {
			m := views.OIDCError{Layout: h.layout(c, "Sign-in request refused"), Heading: "This sign-in request cannot be answered",
				Code: oe.Code, Message: oe.Description}
			return Render(c, http.StatusBadRequest, views.OIDCErrorPage(m))
		}
		return c.Redirect(http.StatusFound, h.RAM.ErrorRedirect(&req, oe))
	}
	s := SessionOf(c)
	signedIn := s.Principal() != "" && s.Stage() == ram.StepDone
	if signedIn {
		if _, err := h.RAM.Identity(ctx(c), s.Principal()); err != nil {
			signedIn = false
		}
	}
	if s.Principal() != "" && !signedIn && s.Stage() != ram.StepDone && req.Prompt != "none" {
		// Part-way through signing in: finish that first, then come back.
		_ = s.Set("next", authURL(req, false))
		return redirect(c, StagePath(s.Stage()))
	}
	sess := h.signInSession(s)
	fresh := func() bool {
		if req.MaxAge == "" {
			return true
		}
		n, _ := strconv.Atoi(req.MaxAge)
		return h.RAM.Now().Sub(sess.AuthTime) <= time.Duration(n)*time.Second
	}
	if signedIn && (req.Prompt == "login" || !fresh()) {
		// Only a top-level navigation may end the console session: an
		// image or a frame of another site must not sign anyone out.
		if dest := c.Request().Header.Get("Sec-Fetch-Dest"); req.Prompt == "none" || dest != "" && dest != "document" {
			return c.Redirect(http.StatusFound, h.RAM.ErrorRedirect(&req, &ram.OAuthError{Code: "login_required", Description: "a fresh sign-in is required"}))
		}
		// A new sign-in is asked for: this session ends first.
		if err := h.RAM.SignOut(ctx(c), a); err != nil {
			return err
		}
		if err := s.Destroy(); err != nil {
			return err
		}
		signedIn = false
	}
	if !signedIn {
		if req.Prompt == "none" {
			return c.Redirect(http.StatusFound, h.RAM.ErrorRedirect(&req, &ram.OAuthError{Code: "login_required", Description: "the user is not signed in"}))
		}
		q := url.Values{"next": {authURL(req, true)}}
		if req.LoginHint != "" && len(req.LoginHint) <= 128 {
			q.Set("login_hint", req.LoginHint)
		}
		return redirect(c, "/login?"+q.Encode())
	}
	// A role session signs in as its user (SPEC §17.4).
	id := IdentityOf(c)
	if id == nil {
		var err error
		if id, err = h.RAM.Identity(ctx(c), s.Principal()); err != nil {
			return err
		}
	}
	user := ram.Actor{RequestID: RequestID(c), SourceIP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512), SecureTransport: c.IsTLS(),
		MFAPresent: s.Get(mfaKey) == "true", Principal: id.Principal, Name: id.Name}
	to, denial, err := h.RAM.AuthorizeSignIn(ctx(c), user, &req, app, scopes, sess)
	if err != nil {
		return err
	}
	if denial != nil {
		if req.Prompt == "none" {
			return c.Redirect(http.StatusFound, denial.BackURL)
		}
		m := views.OIDCDenied{Layout: h.layout(c, "Sign-in refused"), AppName: app.DisplayName, Who: id.Name, Action: denial.Action,
			Resource: denial.Resource, Decision: denial.Decision, BackURL: denial.BackURL}
		for _, r := range denial.Matched {
			m.Matched = append(m.Matched, r.PolicyType+" policy "+r.PolicyName+", Statement["+strconv.Itoa(r.Statement)+"]: "+r.Effect)
		}
		return Render(c, http.StatusForbidden, views.OIDCDeniedPage(m))
	}
	// After a form of this console (the sign-in's last step), a redirect
	// to another origin would meet the CSP's form-action in Chromium: the
	// browser moves on from a page of ours instead (SPEC §17.8).
	if c.Request().Header.Get("Sec-Fetch-Site") == "same-origin" {
		m := views.OIDCContinue{Layout: h.layout(c, "Signing in to "+app.DisplayName), AppName: app.DisplayName, URL: to}
		m.Layout.RefreshTo = to
		c.Response().Header().Set("Referrer-Policy", "no-referrer")
		return Render(c, http.StatusOK, views.OIDCContinuePage(m))
	}
	return c.Redirect(http.StatusFound, to)
}

// tokenRequestOf reads a token or revocation request and its client
// authentication: HTTP Basic (form-urlencoded id and secret, RFC 6749
// §2.3.1) or the form's client_id and client_secret, not both.
func tokenRequestOf(c echo.Context) (*ram.TokenRequest, *ram.OAuthError) {
	r := c.Request()
	req := &ram.TokenRequest{GrantType: c.FormValue("grant_type"), Code: c.FormValue("code"), RedirectURI: c.FormValue("redirect_uri"),
		CodeVerifier: c.FormValue("code_verifier"), RefreshToken: c.FormValue("refresh_token"), Scope: c.FormValue("scope"),
		Token: c.FormValue("token"), TokenTypeHint: c.FormValue("token_type_hint")}
	formID, formSecret := c.FormValue("client_id"), c.FormValue("client_secret")
	if id, secret, ok := r.BasicAuth(); ok {
		if formSecret != "" {
			return req, &ram.OAuthError{Code: "invalid_request", Description: "use one client authentication method", Status: 400}
		}
		var err1, err2 error
		req.ClientID, err1 = url.QueryUnescape(id)
		req.ClientSecret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || formID != "" && formID != req.ClientID {
			return req, &ram.OAuthError{Code: "invalid_client", Description: "malformed client credentials", Status: 401}
		}
		req.Basic = true
		return req, nil
	}
	req.ClientID, req.ClientSecret = formID, formSecret
	return req, nil
}

// oauthJSON answers a token, userinfo or revocation request.
func oauthJSON(c echo.Context, status int, v any) error {
	hd := c.Response().Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("Pragma", "no-cache")
	return c.JSON(status, v)
}

func oauthError(c echo.Context, req *ram.TokenRequest, oe *ram.OAuthError) error {
	if oe.Status == http.StatusUnauthorized && req != nil && req.Basic {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="ramconsole"`)
	}
	return oauthJSON(c, oe.Status, map[string]string{"error": oe.Code, "error_description": oe.Description})
}

// apiActor is the caller of a client-facing endpoint.
func apiActor(c echo.Context) ram.Actor {
	return ram.Actor{RequestID: RequestID(c), SourceIP: c.RealIP(), UserAgent: truncate(c.Request().UserAgent(), 512), SecureTransport: c.IsTLS(), API: true}
}

// OIDCToken handles POST /v1/token.
func (h *Handlers) OIDCToken(c echo.Context) error {
	req, oe := tokenRequestOf(c)
	if oe != nil {
		return oauthError(c, req, oe)
	}
	resp, oe, err := h.RAM.Token(ctx(c), apiActor(c), req)
	if err != nil {
		return err
	}
	if oe != nil {
		return oauthError(c, req, oe)
	}
	return oauthJSON(c, http.StatusOK, resp)
}

// OIDCUserInfo handles GET and POST /v1/userinfo.
func (h *Handlers) OIDCUserInfo(c echo.Context) error {
	bearer := ""
	if auth := c.Request().Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") {
		bearer = auth[7:]
	}
	claims, err := h.RAM.UserInfo(ctx(c), apiActor(c), strings.TrimSpace(bearer))
	if err != nil {
		return err
	}
	if claims == nil {
		c.Response().Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		return oauthJSON(c, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": "the access token is not valid"})
	}
	return oauthJSON(c, http.StatusOK, claims)
}

// OIDCRevoke handles POST /v1/revoke (RFC 7009).
func (h *Handlers) OIDCRevoke(c echo.Context) error {
	req, oe := tokenRequestOf(c)
	if oe != nil {
		return oauthError(c, req, oe)
	}
	oe, err := h.RAM.Revoke(ctx(c), apiActor(c), req)
	if err != nil {
		return err
	}
	if oe != nil {
		return oauthError(c, req, oe)
	}
	return oauthJSON(c, http.StatusOK, map[string]string{})
}

// OIDCLogout handles GET and POST /oauth2/v1/logout (RP-initiated logout):
// a verified id_token_hint of the signed-in user and a registered URI sign
// out and go back; anything else asks on a page of this console.
func (h *Handlers) OIDCLogout(c echo.Context) error {
	s := SessionOf(c)
	hint, valid := h.RAM.CheckLogoutHint(ctx(c), param(c, "id_token_hint"))
	target := param(c, "post_logout_redirect_uri")
	if cid := param(c, "client_id"); valid && cid != "" && cid != hint.ClientID {
		valid = false
	}
	signedIn := s.Principal() != ""
	sameUser := valid && signedIn && h.RAM.SubjectOf(ctx(c), s.Principal()) == hint.Subject
	registered := valid && target != "" && (slices.Contains(hint.App.LogoutURIs, target) || slices.Contains(hint.App.RedirectURIs, target))
	if registered && (sameUser || !signedIn) {
		if sameUser {
			if err := h.RAM.SignOut(ctx(c), ActorOf(c)); err != nil {
				return err
			}
			if err := s.Destroy(); err != nil {
				return err
			}
		}
		if err := h.RAM.RecordEndSession(ctx(c), ActorOf(c), hint.App, true); err != nil {
			return err
		}
		if st := param(c, "state"); st != "" {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			target += sep + url.Values{"state": {st}}.Encode()
		}
		return c.Redirect(http.StatusFound, target)
	}
	m := views.OIDCLogout{Layout: h.layout(c, "Sign out"), SignedIn: signedIn}
	return Render(c, http.StatusOK, views.OIDCLogoutPage(m))
}

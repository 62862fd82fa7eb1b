package ram

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"ramconsole/policy"
	"ramconsole/store"
)

// The OpenID provider's flow (SPEC §17.4–§17.7): the authorization
// request, the policy decision oidc:SignIn, codes, tokens, userinfo,
// revocation. Codes, tokens and secrets are stored hashed and never logged.

// ActionOIDCSignIn is signing in to an application.
const ActionOIDCSignIn = "oidc:SignIn"

const (
	codeLifetime    = 60 * time.Second
	refreshGrace    = 2 * time.Second
	clientFailLimit = 5
	clientFailSpan  = time.Minute
)

// SetIssuer sets the OpenID issuer: the public URL, else the console URL,
// else the listening address.
func (s *Service) SetIssuer(iss string) { s.issuer.Store(strings.TrimSuffix(iss, "/")) }

// Issuer is the OpenID issuer.
func (s *Service) Issuer() string {
	if v, ok := s.issuer.Load().(string); ok && v != "" {
		return v
	}
	return "http://127.0.0.1:8080"
}

// IssuerConfigured reports whether --public-url set the issuer.
func (s *Service) IssuerConfigured() bool { return s.relyingParty().Origin != "" }

// OAuthError is an OAuth 2.0 / OpenID error answer.
type OAuthError struct {
	Code, Description string
	// Redirect: the error goes back to the redirect URI (the client and
	// the redirect URI were valid); otherwise ramconsole shows it.
	Redirect bool
	Status   int
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(code, desc string) *OAuthError {
	return &OAuthError{Code: code, Description: desc, Status: 400}
}

// AuthRequest is an authorization request's parameters.
type AuthRequest struct {
	ClientID, RedirectURI, ResponseType, Scope, State, Nonce string
	CodeChallenge, CodeChallengeMethod, Prompt, MaxAge       string
	LoginHint, Request, RequestURI                           string
}

// SignInSession is what the console session says of the sign-in behind an
// authorization: when it happened, with which factors, and its id.
type SignInSession struct {
	AuthTime time.Time
	AMR      []string
	SID      string
}

// oidcEvent starts an OpenID provider event.
func (s *Service) oidcEvent(ctx context.Context, a Actor, acct, eventType, name, appName string) *store.Event {
	ev := s.event(ctx, a, acct, eventType, name)
	ev.EventSource = "oidc"
	if appName != "" {
		ev.ResourceName = ApplicationARN(acct, appName)
	}
	return ev
}

func (r *AuthRequest) params() map[string]any {
	p := map[string]any{"client_id": r.ClientID, "redirect_uri": r.RedirectURI, "response_type": r.ResponseType}
	if r.Scope != "" {
		p["scope"] = r.Scope
	}
	if r.CodeChallengeMethod != "" {
		p["code_challenge_method"] = r.CodeChallengeMethod
	}
	if r.Prompt != "" {
		p["prompt"] = r.Prompt
	}
	return p
}

// recordAuthorize writes an Authorize event; oe nil is a success.
func (s *Service) recordAuthorize(ctx context.Context, a Actor, req *AuthRequest, app *store.Application, oe *OAuthError, extra map[string]any) error {
	acct := s.accountID(ctx)
	name := ""
	if app != nil {
		name = app.AppName
	}
	ev := s.oidcEvent(ctx, a, acct, EventConsoleOperation, "Authorize", name)
	if a.Principal == "" {
		ev.UserIdentity = store.Identity{Type: "unknown", AccountID: acct}
	}
	ev.RequestParameters = req.params()
	ev.AdditionalEventData = map[string]any{"mfaChecked": a.MFAPresent}
	if app != nil {
		ev.AdditionalEventData["appName"] = app.AppName
	}
	for k, v := range extra {
		ev.AdditionalEventData[k] = v
	}
	if oe != nil {
		failEvent(ev, oe.Code, oe.Description)
	}
	return s.record(ctx, ev)
}

// OIDCApplication returns the application a client_id names (no
// authorisation: the protocol's endpoints identify clients themselves).
func (s *Service) OIDCApplication(ctx context.Context, clientID string) (*store.Application, error) {
	if clientID == "" || len(clientID) > 64 {
		return nil, store.ErrNotFound
	}
	return s.st.Application(ctx, clientID)
}

var challengeRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// CheckAuthRequest validates an authorization request before anyone signs
// in. An error with Redirect false is shown by ramconsole (400, the client
// or redirect URI is wrong: never a redirect); one with Redirect true goes
// back to the redirect URI. Failures are audited.
func (s *Service) CheckAuthRequest(ctx context.Context, a Actor, req *AuthRequest) (*store.Application, []string, *OAuthError) {
	fail := func(app *store.Application, oe *OAuthError) (*store.Application, []string, *OAuthError) {
		_ = s.recordAuthorize(ctx, a, req, app, oe, nil)
		return app, nil, oe
	}
	app, err := s.OIDCApplication(ctx, req.ClientID)
	if err != nil {
		return fail(nil, oauthErr("invalid_client", "no application has this client_id"))
	}
	if req.RedirectURI == "" || !slices.Contains(app.RedirectURIs, req.RedirectURI) {
		return fail(app, oauthErr("invalid_request", "redirect_uri is not one of the application's registered redirect URIs"))
	}
	back := func(code, desc string) (*store.Application, []string, *OAuthError) {
		oe := oauthErr(code, desc)
		oe.Redirect = true
		return fail(app, oe)
	}
	switch {
	case req.Request != "" || req.RequestURI != "":
		return back("request_not_supported", "request objects are not supported")
	case req.ResponseType != "code":
		return back("unsupported_response_type", "only response_type=code is supported")
	}
	scopes := strings.Fields(req.Scope)
	if !slices.Contains(scopes, "openid") {
		return back("invalid_scope", "the scope must include openid")
	}
	for _, sc := range scopes {
		if !slices.Contains(app.Scopes, sc) {
			return back("invalid_scope", "scope "+truncate(sc, 40)+" is not one of the application's scopes")
		}
	}
	switch {
	case req.CodeChallenge == "" && app.AppType == AppTypeNative:
		return back("invalid_request", "a NativeApp must send a PKCE code_challenge (S256)")
	case req.CodeChallenge != "" && req.CodeChallengeMethod != "S256":
		return back("invalid_request", "code_challenge_method must be S256")
	case req.CodeChallenge == "" && req.CodeChallengeMethod != "":
		return back("invalid_request", "code_challenge_method without a code_challenge")
	case req.CodeChallenge != "" && !challengeRE.MatchString(req.CodeChallenge):
		return back("invalid_request", "code_challenge is not 43 to 128 characters of base64url")
	}
	if req.MaxAge != "" {
		if n, err := strconv.Atoi(req.MaxAge); err != nil || n < 0 {
			return back("invalid_request", "max_age is not a number of seconds")
		}
	}
	switch req.Prompt {
	case "", "none", "login", "consent", "select_account":
	default:
		return back("invalid_request", "prompt is not one of none, login, consent, select_account")
	}
	return app, dedupe(scopes), nil
}

func dedupe(in []string) []string {
	var out []string
	for _, v := range in {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// ErrorRedirect is the redirect URI with an error, the state and the
// issuer (RFC 6749 §4.1.2.1, RFC 9207).
func (s *Service) ErrorRedirect(req *AuthRequest, oe *OAuthError) string {
	q := url.Values{"error": {oe.Code}, "error_description": {oe.Description}, "iss": {s.Issuer()}}
	if req.State != "" {
		q.Set("state", req.State)
	}
	return withQuery(req.RedirectURI, q)
}

func withQuery(base string, q url.Values) string {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + q.Encode()
}

// SignInDenial explains why a user may not sign in to an application.
type SignInDenial struct {
	Action, Resource, Decision string
	Matched                    []policy.Reason
	AppDisplayName             string
	BackURL                    string // the redirect URI with error=access_denied
}

// decideSignIn evaluates oidc:SignIn on the application for a, once per
// requested scope (oidc:Scope is each of them); the owner is always
// allowed.
func (s *Service) decideSignIn(ctx context.Context, a Actor, app *store.Application, scopes []string) (policy.Decision, *policy.Result, error) {
	if a.Principal == PrincipalRoot {
		return policy.Allow, nil, nil
	}
	set, err := s.effectivePolicies(ctx, a.Principal.UserID())
	if err != nil {
		return policy.ImplicitDeny, nil, err
	}
	acct := s.accountID(ctx)
	resources := []string{SignInARN(acct, app.AppName)}
	if len(scopes) == 0 {
		scopes = []string{"openid"}
	}
	// One context from the pool, filled once; oidc:Scope is replaced for
	// each scope.
	pc := contexts.Get().(*policy.Context)
	pc.Reset()
	defer contexts.Put(pc)
	s.fillContext(pc, a, acct)
	pc.Set("oidc:ClientId", app.AppID)
	req := &policy.Request{Action: ActionOIDCSignIn, Resources: resources, Context: pc}
	for _, sc := range scopes {
		pc.Set("oidc:Scope", sc)
		if d := set.Evaluate(req); d != policy.Allow {
			res := set.Explain(req)
			return res.Decision, &res, nil
		}
	}
	return policy.Allow, nil, nil
}

// codeGrant is what a code carries to the token endpoint.
type codeGrant struct {
	AppID       string    `json:"app"`
	RedirectURI string    `json:"redirect_uri"`
	Challenge   string    `json:"challenge,omitempty"`
	Nonce       string    `json:"nonce,omitempty"`
	Scopes      []string  `json:"scopes"`
	Principal   Principal `json:"principal"`
	AuthTime    time.Time `json:"auth_time"`
	MFA         bool      `json:"mfa"`
	AMR         []string  `json:"amr"`
	SID         string    `json:"sid"`
}

// family is a token family's data: the sign-in it came from, with the
// browser's request context (userinfo is decided again in it).
type family struct {
	Scopes    []string  `json:"scopes"`
	AuthTime  time.Time `json:"auth_time"`
	MFA       bool      `json:"mfa"`
	AMR       []string  `json:"amr"`
	SID       string    `json:"sid"`
	SourceIP  string    `json:"ip,omitempty"`
	UserAgent string    `json:"ua,omitempty"`
	Secure    bool      `json:"tls,omitempty"`
}

// AuthorizeSignIn takes the policy decision for a signed-in actor and, when
// allowed, issues a code: it returns the URL to send the browser to. A
// refusal returns the denial (no code, no redirect).
func (s *Service) AuthorizeSignIn(ctx context.Context, a Actor, req *AuthRequest, app *store.Application, scopes []string, sess SignInSession) (string, *SignInDenial, error) {
	decision, res, err := s.decideSignIn(ctx, a, app, scopes)
	if err != nil {
		return "", nil, err
	}
	s.observeDecision("oidc", decision == policy.Allow)
	acct := s.accountID(ctx)
	if decision != policy.Allow {
		d := &SignInDenial{Action: ActionOIDCSignIn, Resource: SignInARN(acct, app.AppName), Decision: decision.String(), AppDisplayName: app.DisplayName,
			BackURL: s.ErrorRedirect(req, &OAuthError{Code: "access_denied", Description: "the account's policies do not allow this user to sign in to the application"})}
		matched := []string{}
		if res != nil {
			d.Matched = res.Matched
			for _, m := range res.Matched {
				matched = append(matched, m.PolicyType+":"+m.PolicyName+" Statement["+strconv.Itoa(m.Statement)+"] "+m.Effect)
			}
		}
		if err := s.recordAuthorize(ctx, a, req, app, oauthErr("access_denied", "denied by "+d.Decision),
			map[string]any{"decision": d.Decision, "matchedStatements": matched}); err != nil {
			return "", nil, err
		}
		return "", d, nil
	}
	code := newToken()
	fam := newToken()[:32]
	g := codeGrant{AppID: app.AppID, RedirectURI: req.RedirectURI, Challenge: req.CodeChallenge, Nonce: req.Nonce, Scopes: scopes,
		Principal: a.Principal, AuthTime: sess.AuthTime, MFA: a.MFAPresent, AMR: sess.AMR, SID: sess.SID}
	data, err := json.Marshal(g)
	if err != nil {
		return "", nil, err
	}
	// The family exists from the code on, so a revocation before the code
	// is redeemed (a password reset, "Revoke all tokens") kills it too.
	fdata, err := json.Marshal(family{Scopes: scopes, AuthTime: sess.AuthTime, MFA: a.MFAPresent, AMR: sess.AMR, SID: sess.SID,
		SourceIP: a.SourceIP, UserAgent: a.UserAgent, Secure: a.SecureTransport})
	if err != nil {
		return "", nil, err
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		if err := tx.PutOIDCFamily(ctx, fam, app.AppID, string(a.Principal), string(fdata)); err != nil {
			return err
		}
		if err := tx.PutOIDCCode(ctx, tokenHash(code), app.AppID, fam, string(data), tx.Now().Add(codeLifetime)); err != nil {
			return err
		}
		ev := s.oidcEvent(ctx, a, acct, EventConsoleOperation, "Authorize", app.AppName)
		ev.RequestParameters = req.params()
		ev.AdditionalEventData = map[string]any{"mfaChecked": a.MFAPresent, "appName": app.AppName, "decision": "Allow"}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return "", nil, err
	}
	q := url.Values{"code": {code}, "iss": {s.Issuer()}}
	if req.State != "" {
		q.Set("state", req.State)
	}
	return withQuery(req.RedirectURI, q), nil, nil
}

// TokenRequest is a token or revocation request.
type TokenRequest struct {
	GrantType, Code, RedirectURI, CodeVerifier, RefreshToken, Scope string
	ClientID, ClientSecret                                          string
	// Basic is true when the client authenticated with HTTP Basic.
	Basic bool
	// Token and TokenTypeHint are the revocation endpoint's.
	Token, TokenTypeHint string
}

func (r *TokenRequest) params() map[string]any {
	p := map[string]any{"client_id": r.ClientID}
	if r.GrantType != "" {
		p["grant_type"] = r.GrantType
	}
	if r.RedirectURI != "" {
		p["redirect_uri"] = r.RedirectURI
	}
	if r.Scope != "" {
		p["scope"] = r.Scope
	}
	return p
}

// TokenResponse is the token endpoint's answer.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// clientFailures counts failed client authentications per AppId.
type clientFailures struct {
	mu   sync.Mutex
	seen map[string][]time.Time
}

func (c *clientFailures) blocked(appID string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	var recent []time.Time
	for _, t := range c.seen[appID] {
		if now.Sub(t) < clientFailSpan {
			recent = append(recent, t)
		}
	}
	if len(recent) == 0 {
		delete(c.seen, appID)
	} else {
		c.seen[appID] = recent
	}
	return len(recent) >= clientFailLimit
}

func (c *clientFailures) add(appID string, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string][]time.Time{}
	}
	if len(c.seen) > 10000 {
		c.seen = map[string][]time.Time{} // bounded: a flood of made-up ids forgets
	}
	c.seen[appID] = append(c.seen[appID], now)
}

// tokenEvent starts an event of the token, userinfo or revocation
// endpoint: the user once known, else the client.
func (s *Service) tokenEvent(ctx context.Context, a Actor, name string, app *store.Application, principal Principal) *store.Event {
	acct := s.accountID(ctx)
	appName := ""
	if app != nil {
		appName = app.AppName
	}
	ua := a
	ua.API = true
	if principal != "" {
		ua.Principal, ua.Name = principal, s.principalName(ctx, principal)
	}
	ev := s.oidcEvent(ctx, ua, acct, EventAPICall, name, appName)
	if principal == "" {
		id := ""
		if app != nil {
			id = app.AppID
		}
		ev.UserIdentity = store.Identity{Type: "oauth-client", PrincipalID: id, AccountID: acct}
	}
	return ev
}

// principalName is a principal's name for events ("" when gone).
func (s *Service) principalName(ctx context.Context, p Principal) string {
	if p == PrincipalRoot {
		if o, err := s.st.Owner(ctx); err == nil {
			return o.Email
		}
		return ""
	}
	if u, err := s.st.UserByID(ctx, p.UserID()); err == nil {
		return u.UserName
	}
	return ""
}

// authenticateClient checks the client's credentials (SPEC §17.5).
func (s *Service) authenticateClient(ctx context.Context, req *TokenRequest) (*store.Application, *OAuthError) {
	bad := &OAuthError{Code: "invalid_client", Description: "client authentication failed", Status: 401}
	app, err := s.OIDCApplication(ctx, req.ClientID)
	if err != nil {
		return nil, bad
	}
	if s.clientFails.blocked(app.AppID, s.Now()) {
		return app, &OAuthError{Code: "invalid_client", Description: "too many failed client authentications; wait a minute", Status: 401}
	}
	needSecret := app.AppType == AppTypeWeb || app.SecretRequired
	if req.ClientSecret == "" && !needSecret {
		return app, nil
	}
	ok, err := s.checkAppSecret(ctx, app.AppID, req.ClientSecret)
	if err != nil || !ok {
		s.clientFails.add(app.AppID, s.Now())
		return app, bad
	}
	return app, nil
}

// Token answers the token endpoint (authorization_code and refresh_token
// grants). Every answer is audited.
func (s *Service) Token(ctx context.Context, a Actor, req *TokenRequest) (*TokenResponse, *OAuthError, error) {
	app, oe := s.authenticateClient(ctx, req)
	if oe != nil {
		ev := s.tokenEvent(ctx, a, "Token", app, "")
		ev.RequestParameters = req.params()
		if err := s.record(ctx, failEvent(ev, oe.Code, oe.Description)); err != nil {
			return nil, nil, err
		}
		return nil, oe, nil
	}
	switch req.GrantType {
	case "authorization_code":
		return s.exchangeCode(ctx, a, app, req)
	case "refresh_token":
		return s.refresh(ctx, a, app, req)
	}
	oe = oauthErr("unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	if req.GrantType == "" {
		oe = oauthErr("invalid_request", "grant_type is missing")
	}
	ev := s.tokenEvent(ctx, a, "Token", app, "")
	ev.RequestParameters = req.params()
	return nil, oe, s.record(ctx, failEvent(ev, oe.Code, oe.Description))
}

// pkceS256 is the S256 challenge of a verifier.
func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

var verifierRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

func (s *Service) exchangeCode(ctx context.Context, a Actor, app *store.Application, req *TokenRequest) (*TokenResponse, *OAuthError, error) {
	// The signing key exists before the transaction (the first is made in
	// one of its own).
	if _, err := s.signingKeys(ctx); err != nil {
		return nil, nil, err
	}
	var resp *TokenResponse
	var oe *OAuthError
	var who Principal
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		resp, oe, who = nil, nil, ""
		refuse := func(desc string) error {
			oe = oauthErr("invalid_grant", desc)
			ev := s.tokenEvent(ctx, a, "Token", app, who)
			ev.RequestParameters = req.params()
			ev.AdditionalEventData = map[string]any{"grantType": req.GrantType, "appName": app.AppName}
			return tx.AppendEvent(ctx, failEvent(ev, oe.Code, oe.Description))
		}
		if req.Code == "" {
			oe = oauthErr("invalid_request", "code is missing")
			ev := s.tokenEvent(ctx, a, "Token", app, "")
			ev.RequestParameters = req.params()
			return tx.AppendEvent(ctx, failEvent(ev, oe.Code, oe.Description))
		}
		rec, first, err := tx.UseOIDCCode(ctx, tokenHash(req.Code))
		if errors.Is(err, store.ErrNotFound) {
			return refuse("unknown code")
		}
		if err != nil {
			return err
		}
		var g codeGrant
		if err := json.Unmarshal([]byte(rec.Data), &g); err != nil {
			return err
		}
		who = g.Principal
		switch {
		case rec.AppID != app.AppID:
			who = ""
			return refuse("the code was issued to another client")
		case !first:
			// A code presented twice: everything issued from it dies.
			if _, err := tx.RevokeOIDCFamilies(ctx, "family", rec.Family); err != nil {
				return err
			}
			return refuse("the code was used already; the tokens issued from it are revoked")
		case tx.Now().After(rec.ExpiresAt):
			return refuse("the code expired")
		case req.RedirectURI != g.RedirectURI:
			return refuse("redirect_uri differs from the authorization request's")
		case g.Challenge != "" && (req.CodeVerifier == "" || !verifierRE.MatchString(req.CodeVerifier) ||
			subtle.ConstantTimeCompare([]byte(pkceS256(req.CodeVerifier)), []byte(g.Challenge)) != 1):
			return refuse("code_verifier does not match the code_challenge")
		case g.Challenge == "" && req.CodeVerifier != "":
			return refuse("a code_verifier was sent for a code issued without a challenge")
		}
		fam, err := tx.OIDCFamily(ctx, rec.Family)
		if errors.Is(err, store.ErrNotFound) {
			return refuse("the code's sign-in was revoked")
		} else if err != nil {
			return err
		}
		if fam.Revoked {
			return refuse("the code's sign-in was revoked")
		}
		var f family
		if err := json.Unmarshal([]byte(fam.Data), &f); err != nil {
			return err
		}
		if resp, err = s.issueTokens(ctx, tx, app, rec.Family, g.Principal, f, g.Scopes, g.Nonce); err != nil {
			return err
		}
		ev := s.tokenEvent(ctx, a, "Token", app, who)
		ev.RequestParameters = req.params()
		ev.AdditionalEventData = map[string]any{"grantType": req.GrantType, "appName": app.AppName, "mfaChecked": g.MFA}
		return tx.AppendEvent(ctx, ev)
	})
	return resp, oe, err
}

// issueTokens makes an access token, a refresh token and an ID token of a
// family.
func (s *Service) issueTokens(ctx context.Context, tx *store.Tx, app *store.Application, fam string, p Principal, f family, scopes []string, nonce string) (*TokenResponse, error) {
	access, refresh := newToken(), newToken()
	scope := strings.Join(scopes, " ")
	now := tx.Now()
	if err := tx.PutOIDCToken(ctx, tokenHash(access), "access", fam, scope, now.Add(time.Duration(app.AccessValidity)*time.Second)); err != nil {
		return nil, err
	}
	if err := tx.PutOIDCToken(ctx, tokenHash(refresh), "refresh", fam, scope, now.Add(time.Duration(app.RefreshValidity)*time.Second)); err != nil {
		return nil, err
	}
	claims, err := s.userClaims(ctx, tx.Reads, p, scopes)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(access))
	claims["iss"], claims["aud"], claims["azp"] = s.Issuer(), app.AppID, app.AppID
	claims["iat"], claims["exp"] = now.Unix(), now.Add(time.Duration(app.AccessValidity)*time.Second).Unix()
	claims["auth_time"], claims["amr"], claims["sid"] = f.AuthTime.Unix(), f.AMR, f.SID
	claims["at_hash"] = base64.RawURLEncoding.EncodeToString(sum[:16])
	if nonce != "" {
		claims["nonce"] = nonce
	}
	idToken, err := s.signJWT(ctx, claims)
	if err != nil {
		return nil, err
	}
	return &TokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: app.AccessValidity, IDToken: idToken, RefreshToken: refresh, Scope: scope}, nil
}

// userClaims are the claims of the granted scopes (SPEC §17.7), read from
// the database now.
func (s *Service) userClaims(ctx context.Context, r store.Reads, p Principal, scopes []string) (map[string]any, error) {
	acct, err := r.Account(ctx)
	if err != nil {
		return nil, err
	}
	c := map[string]any{"aid": acct.AccountID}
	has := func(sc string) bool { return slices.Contains(scopes, sc) }
	if p == PrincipalRoot {
		o, err := r.Owner(ctx)
		if err != nil {
			return nil, err
		}
		c["sub"] = acct.AccountID
		if has("aliuid") {
			c["uid"] = acct.AccountID
		}
		if has("profile") {
			c["preferred_username"], c["name"], c["upn"] = o.Email, o.Email, o.Email
		}
		if has("email") {
			c["email"], c["email_verified"] = o.Email, true
		}
		if has("groups") {
			c["groups"] = []string{}
		}
		return c, nil
	}
	u, err := r.UserByID(ctx, p.UserID())
	if err != nil {
		return nil, err
	}
	c["sub"] = u.UserID
	if has("aliuid") {
		c["uid"] = u.UserID
	}
	if has("profile") {
		upn := u.UserName + "@" + displayAlias(acct)
		c["preferred_username"], c["name"], c["upn"], c["updated_at"] = upn, u.DisplayName, upn, u.UpdatedAt.Unix()
	}
	if has("email") && u.Email != "" {
		c["email"], c["email_verified"] = u.Email, true
	}
	if has("groups") {
		groups, err := r.GroupsForUser(ctx, u.UserID)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(groups))
		for _, g := range groups {
			names = append(names, g.GroupName)
		}
		c["groups"] = names
	}
	return c, nil
}

// liveGrant checks a family's sign-in still holds (SPEC §17.5): the user
// exists, its console access is Active, it is not locked, and the policy
// still allows it, with acs:MFAPresent as at sign-in and this request's
// address. "" when it holds, else why not.
func (s *Service) liveGrant(ctx context.Context, a Actor, app *store.Application, p Principal, f family, asBrowser bool) (string, error) {
	if asBrowser {
		// Userinfo is called by the application's server: the decision is
		// taken again in the context of the browser's sign-in.
		a.SourceIP, a.UserAgent, a.SecureTransport = f.SourceIP, f.UserAgent, f.Secure
	}
	if p != PrincipalRoot {
		u, lp, _, err := s.st.UserLogin(ctx, p.UserID())
		if errors.Is(err, store.ErrNotFound) {
			return "the user no longer exists", nil
		}
		if err != nil {
			return "", err
		}
		if lp == nil || lp.Status != "Active" {
			return "the user's console access was removed or deactivated", nil
		}
		if u.LockedUntil.After(s.Now()) {
			return "the user is locked", nil
		}
		a.Name = u.UserName
	}
	a.Principal, a.MFAPresent, a.Session = p, f.MFA, nil
	d, _, err := s.decideSignIn(ctx, a, app, f.Scopes)
	if err != nil {
		return "", err
	}
	if d != policy.Allow {
		return "the account's policies no longer allow the user to sign in to the application (" + d.String() + ")", nil
	}
	return "", nil
}

func (s *Service) refresh(ctx context.Context, a Actor, app *store.Application, req *TokenRequest) (*TokenResponse, *OAuthError, error) {
	var resp *TokenResponse
	var oe *OAuthError
	if req.RefreshToken == "" {
		oe = oauthErr("invalid_request", "refresh_token is missing")
		ev := s.tokenEvent(ctx, a, "Token", app, "")
		ev.RequestParameters = req.params()
		return nil, oe, s.record(ctx, failEvent(ev, oe.Code, oe.Description))
	}
	if _, err := s.signingKeys(ctx); err != nil {
		return nil, nil, err
	}
	rec, err := s.st.OIDCToken(ctx, tokenHash(req.RefreshToken))
	var f family
	var who Principal
	if err == nil {
		who = Principal(rec.Principal)
		if err := json.Unmarshal([]byte(rec.Data), &f); err != nil {
			return nil, nil, err
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, nil, err
	}
	// The live checks read outside the write transaction (the policy
	// evaluation reads caches); the rotation inside it decides.
	why := ""
	if rec != nil && rec.Kind == "refresh" && rec.AppID == app.AppID && !rec.Revoked {
		if why, err = s.liveGrant(ctx, a, app, who, f, false); err != nil {
			return nil, nil, err
		}
	}
	err = s.st.Update(ctx, func(tx *store.Tx) error {
		resp, oe = nil, nil
		refuse := func(desc string, revoke bool) error {
			oe = oauthErr("invalid_grant", desc)
			if revoke {
				if _, err := tx.RevokeOIDCFamilies(ctx, "family", rec.Family); err != nil {
					return err
				}
			}
			ev := s.tokenEvent(ctx, a, "Token", app, who)
			ev.RequestParameters = req.params()
			ev.AdditionalEventData = map[string]any{"grantType": req.GrantType, "appName": app.AppName}
			return tx.AppendEvent(ctx, failEvent(ev, oe.Code, oe.Description))
		}
		// The token as this transaction sees it: another node may have
		// rotated it or revoked its family since the read above.
		if rec != nil {
			cur, err := tx.OIDCToken(ctx, rec.Hash)
			if errors.Is(err, store.ErrNotFound) {
				return refuse("the refresh token was revoked", false)
			} else if err != nil {
				return err
			}
			rec = cur
		}
		switch {
		case rec == nil || rec.Kind != "refresh":
			who = ""
			return refuse("unknown refresh token", false)
		case rec.AppID != app.AppID:
			who = ""
			return refuse("the refresh token was issued to another client", false)
		case rec.Revoked:
			return refuse("the refresh token was revoked", false)
		case tx.Now().After(rec.ExpiresAt):
			return refuse("the refresh token expired", false)
		case why != "":
			return refuse(why+"; the tokens are revoked", true)
		}
		scopes := f.Scopes
		if req.Scope != "" {
			scopes = strings.Fields(req.Scope)
			for _, sc := range scopes {
				if !slices.Contains(f.Scopes, sc) {
					oe = oauthErr("invalid_scope", "scope "+truncate(sc, 40)+" was not granted")
					ev := s.tokenEvent(ctx, a, "Token", app, who)
					ev.RequestParameters = req.params()
					return tx.AppendEvent(ctx, failEvent(ev, oe.Code, oe.Description))
				}
			}
		}
		if !rec.UsedAt.IsZero() && tx.Now().Sub(rec.UsedAt) > refreshGrace {
			// A rotated-out token presented again: someone holds a copy.
			return refuse("the refresh token was used already; its family is revoked", true)
		}
		if _, err := tx.RotateOIDCToken(ctx, rec.Hash); err != nil {
			return err
		}
		if resp, err = s.issueTokens(ctx, tx, app, rec.Family, who, f, scopes, ""); err != nil {
			return err
		}
		ev := s.tokenEvent(ctx, a, "Token", app, who)
		ev.RequestParameters = req.params()
		ev.AdditionalEventData = map[string]any{"grantType": req.GrantType, "appName": app.AppName, "mfaChecked": f.MFA}
		return tx.AppendEvent(ctx, ev)
	})
	return resp, oe, err
}

// UserInfo answers the userinfo endpoint for a bearer token: the claims of
// its scopes, read now; nil claims when the token is not (or no longer)
// valid. Audited either way.
func (s *Service) UserInfo(ctx context.Context, a Actor, bearer string) (map[string]any, error) {
	rec, err := s.st.OIDCToken(ctx, tokenHash(bearer))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	var app *store.Application
	var who Principal
	why := ""
	var f family
	switch {
	case bearer == "" || rec == nil || rec.Kind != "access":
		why = "unknown access token"
	case rec.Revoked:
		why = "the token was revoked"
	case s.Now().After(rec.ExpiresAt):
		why = "the token expired"
	}
	if rec != nil {
		if app, err = s.st.Application(ctx, rec.AppID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if app == nil && why == "" {
			why = "the application was deleted"
		}
		who = Principal(rec.Principal)
		if err := json.Unmarshal([]byte(rec.Data), &f); err != nil {
			return nil, err
		}
	}
	if why == "" {
		if why, err = s.liveGrant(ctx, a, app, who, f, true); err != nil {
			return nil, err
		}
	}
	if why != "" && rec != nil && rec.Kind == "access" {
		who = Principal(rec.Principal)
	} else if why != "" {
		who = ""
	}
	ev := s.tokenEvent(ctx, a, "UserInfo", app, who)
	if why != "" {
		return nil, s.record(ctx, failEvent(ev, "invalid_token", why))
	}
	claims, err := s.userClaims(ctx, s.st.Reads, who, strings.Fields(rec.Scopes))
	if err != nil {
		return nil, err
	}
	return claims, s.record(ctx, ev)
}

// Revoke answers the revocation endpoint (RFC 7009): a refresh token dies
// with its family, an access token alone; an unknown token or another
// client's is answered the same (200).
func (s *Service) Revoke(ctx context.Context, a Actor, req *TokenRequest) (*OAuthError, error) {
	app, oe := s.authenticateClient(ctx, req)
	if oe != nil {
		ev := s.tokenEvent(ctx, a, "RevokeToken", app, "")
		ev.RequestParameters = req.params()
		return oe, s.record(ctx, failEvent(ev, oe.Code, oe.Description))
	}
	if req.Token == "" {
		oe = oauthErr("invalid_request", "token is missing")
		ev := s.tokenEvent(ctx, a, "RevokeToken", app, "")
		ev.RequestParameters = req.params()
		return oe, s.record(ctx, failEvent(ev, oe.Code, oe.Description))
	}
	rec, err := s.st.OIDCToken(ctx, tokenHash(req.Token))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return nil, s.st.Update(ctx, func(tx *store.Tx) error {
		var who Principal
		data := map[string]any{"appName": app.AppName, "revoked": false}
		if rec != nil && rec.AppID == app.AppID {
			who = Principal(rec.Principal)
			data["revoked"], data["tokenType"] = true, rec.Kind
			if rec.Kind == "refresh" {
				if _, err := tx.RevokeOIDCFamilies(ctx, "family", rec.Family); err != nil {
					return err
				}
			} else if err := tx.DeleteOIDCToken(ctx, rec.Hash); err != nil {
				return err
			}
		}
		ev := s.tokenEvent(ctx, a, "RevokeToken", app, who)
		ev.RequestParameters = req.params()
		ev.AdditionalEventData = data
		return tx.AppendEvent(ctx, ev)
	})
}

// LogoutHint is what a verified id_token_hint says.
type LogoutHint struct {
	Subject, ClientID string
	App               *store.Application
}

// CheckLogoutHint verifies an id_token_hint's signature (its expiry
// ignored, as RP-initiated logout allows) and names its user and client.
func (s *Service) CheckLogoutHint(ctx context.Context, hint string) (*LogoutHint, bool) {
	if hint == "" || len(hint) > 16<<10 {
		return nil, false
	}
	claims, err := s.verifyJWT(ctx, hint)
	if err != nil {
		return nil, false
	}
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	aud, _ := claims["aud"].(string)
	if iss != s.Issuer() || sub == "" || aud == "" {
		return nil, false
	}
	app, err := s.st.Application(ctx, aud)
	if err != nil {
		return nil, false
	}
	return &LogoutHint{Subject: sub, ClientID: aud, App: app}, true
}

// SubjectOf is the sub claim of a principal.
func (s *Service) SubjectOf(ctx context.Context, p Principal) string {
	if p == PrincipalRoot {
		return s.accountID(ctx)
	}
	return p.UserID()
}

// RecordEndSession audits an RP-initiated logout.
func (s *Service) RecordEndSession(ctx context.Context, a Actor, app *store.Application, redirected bool) error {
	name := ""
	if app != nil {
		name = app.AppName
	}
	ev := s.oidcEvent(ctx, a, s.accountID(ctx), EventConsoleOperation, "EndSession", name)
	if a.Principal == "" {
		ev.UserIdentity = store.Identity{Type: "unknown", AccountID: s.accountID(ctx)}
	}
	ev.AdditionalEventData = map[string]any{"redirected": redirected}
	return s.record(ctx, ev)
}

// revokeOIDCOf revokes every token family of a principal (its sessions
// ended: password, MFA or console access changed, or it was deleted).
func revokeOIDCOf(ctx context.Context, tx *store.Tx, p Principal) error {
	_, err := tx.RevokeOIDCFamilies(ctx, "principal", string(p))
	return err
}

package handlers

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
)

// Gateway answers the forward-auth requests of the proxies in front of the
// enterprise's services (SPEC §13): who is calling, may they, and the
// record of it. It answers only 200, 401 and 403 (what nginx's
// auth_request, Caddy's forward_auth and Traefik's ForwardAuth understand),
// and never lets a request pass on an error.
type Gateway struct {
	RAM *ram.Service
	Log *slog.Logger
	// Trusted reports whether a connection's peer may ask (the proxies of
	// --trusted-proxies).
	Trusted func(remoteAddr string) bool
	// ConsoleURL is the console's address as browsers reach it ("" = the
	// service's own host: the proxy serves the console's pages there too).
	ConsoleURL string
	// Page renders the console's error page (for a refused browser).
	Page func(c echo.Context, status int, title, message string, denial *ram.Denial) error
}

// gatewayRequest is the original request, as the proxy forwarded it.
type gatewayRequest struct {
	method, uri, host, proto string
	path                     string
	query                    map[string]string
}

// originalRequest reads the original request from Traefik's and Caddy's
// X-Forwarded-* headers or nginx's X-Original-* ones.
func originalRequest(r *http.Request) (*gatewayRequest, error) {
	h := r.Header
	g := &gatewayRequest{method: first(h.Get("X-Forwarded-Method"), h.Get("X-Original-Method")),
		uri: first(h.Get("X-Forwarded-Uri"), h.Get("X-Original-URI")), host: first(h.Get("X-Forwarded-Host"), r.Host),
		proto: first(h.Get("X-Forwarded-Proto"), "http")}
	switch {
	case g.method == "":
		return nil, apiError("MissingParameter", "The proxy sent no X-Forwarded-Method or X-Original-Method header.")
	case g.uri == "":
		return nil, apiError("MissingParameter", "The proxy sent no X-Forwarded-Uri or X-Original-URI header.")
	}
	u, err := url.ParseRequestURI(g.uri)
	if err != nil || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		return nil, apiError("InvalidParameter.ForwardedUri", "The forwarded URI %q is not a request path.", truncate(g.uri, 200))
	}
	g.path, g.query = u.Path, map[string]string{}
	if err := parseValues(u.RawQuery, g.query, "forwarded query"); err != nil {
		return nil, err
	}
	return g, nil
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// Auth handles /gateway/auth (any method).
func (g *Gateway) Auth(c echo.Context) error {
	r := c.Request()
	ctx := r.Context()
	rid := RequestID(c)
	a := ram.Actor{RequestID: rid, SourceIP: c.RealIP(), UserAgent: truncate(r.UserAgent(), 512), API: true}
	if !g.Trusted(r.RemoteAddr) {
		err := apiError("Forbidden.UntrustedProxy", "Only the proxies of --trusted-proxies may ask the gateway.")
		_ = g.RAM.GatewayRefuse(ctx, ram.Actor{RequestID: rid, SourceIP: remoteIP(r.RemoteAddr), UserAgent: a.UserAgent, API: true},
			ram.GatewayCall{Host: "gateway"}, err)
		return g.deny(c, http.StatusForbidden, err)
	}
	orig, err := originalRequest(r)
	if err != nil {
		_ = g.RAM.GatewayRefuse(ctx, a, ram.GatewayCall{Host: "gateway"}, err)
		return g.deny(c, http.StatusForbidden, err)
	}
	a.SecureTransport = strings.EqualFold(orig.proto, "https")
	call := ram.GatewayCall{Host: strings.ToLower(orig.host)}
	svc, err := g.RAM.ServiceForHost(ctx, orig.host)
	if err != nil {
		return g.refuse(c, a, call, http.StatusForbidden, err)
	}
	call.Service = svc
	params := apiParams(orig.query)
	call.Params = params.audit()
	mreq := ram.GatewayRequest{Method: orig.method, Path: orig.path}
	if svc.Style == ram.StyleRPC { // a rest service maps its path alone
		mreq.Query, mreq.Action = urlValues(orig.query), r.Header.Get("X-Acs-Action")
	}
	call.Action, call.Resource, err = svc.Map(g.RAM.AccountID(ctx), mreq)
	if err != nil {
		return g.refuse(c, a, call, http.StatusForbidden, err)
	}

	// Who is calling: a signature of the original request, else a console session.
	switch auth := r.Header.Get("Authorization"); {
	case strings.HasPrefix(auth, AlgorithmV3), orig.query["Signature"] != "":
		sr := Signed{method: orig.method, path: orig.path, host: orig.host, query: orig.query, params: params, header: r.Header}
		if auth != "" {
			v3, err := ParseAuthorization(auth)
			if err != nil {
				return g.refuse(c, a, call, http.StatusUnauthorized, apiError("IncompleteSignature", "The Authorization header is not a valid ACS3-HMAC-SHA256 authorization."))
			}
			sr.v3, sr.keyID = &v3, v3.Credential
		} else {
			sr.keyID, sr.token = orig.query["AccessKeyId"], orig.query["SecurityToken"]
		}
		caller, nonce, ts, err := (&Verifier{RAM: g.RAM}).Verify(ctx, &sr)
		if err != nil {
			if caller != nil {
				a = caller.Actor(rid, a.SourceIP, a.UserAgent, a.SecureTransport)
			}
			a.AccessKeyID = sr.keyID
			return g.refuse(c, a, call, http.StatusUnauthorized, err)
		}
		a = caller.Actor(rid, a.SourceIP, a.UserAgent, a.SecureTransport)
		call.Caller, call.Nonce, call.Timestamp = caller, nonce, ts
	default:
		s := SessionOf(c)
		if s == nil || s.Principal() == "" || s.Stage() != ram.StepDone {
			return g.refuse(c, a, call, http.StatusUnauthorized, apiError("InvalidAccessKeyId.NotFound",
				"Nobody could be identified: sign the request, or sign in to the console."))
		}
		id, err := g.RAM.Identity(ctx, s.Principal())
		if err != nil {
			return g.refuse(c, a, call, http.StatusUnauthorized, err)
		}
		a.Principal, a.Name, a.API = id.Principal, id.Name, false
		a.MFAPresent = s.Get(mfaKey) == "true"
		if key := s.Get(SwitchKey); key != "" {
			if rs, err := g.RAM.SwitchedSession(ctx, id.Principal, key); err == nil {
				a = rs.Act(a)
			}
		}
	}

	if err := g.RAM.GatewayDecide(ctx, a, call); err != nil {
		status := http.StatusForbidden
		if e, ok := ram.AsError(err); ok && e.Code == ram.ErrNonceUsed.Code {
			status = http.StatusUnauthorized
		}
		return g.deny(c, status, err)
	}
	acct := g.RAM.AccountID(ctx)
	h := allowHeaders{hd: c.Response().Header()}
	h.set("X-Ram-Account-Id", acct)
	h.set("X-Ram-Action", call.Action)
	h.set("X-Ram-Resource", call.Resource)
	h.set("X-Ram-Request-Id", rid)
	switch {
	case a.Session != nil:
		h.set("X-Ram-Principal-Type", "AssumedRoleUser")
		h.set("X-Ram-Principal-Arn", ram.AssumedRoleARN(acct, a.Session.Role.RoleName, a.Session.Session.SessionName))
		h.set("X-Ram-User-Name", a.Session.Session.SourceName)
		h.set("X-Ram-User-Id", ram.Principal(a.Session.Session.SourcePrincipal).UserID())
	case a.Principal.IsOwner():
		h.set("X-Ram-Principal-Type", "Root")
		h.set("X-Ram-Principal-Arn", "acs:ram::"+acct+":root")
		h.set("X-Ram-User-Name", a.Name)
	default:
		h.set("X-Ram-Principal-Type", "SubUser")
		h.set("X-Ram-Principal-Arn", "acs:ram::"+acct+":user/"+a.Name)
		h.set("X-Ram-User-Name", a.Name)
		h.set("X-Ram-User-Id", a.Principal.UserID())
	}
	return c.NoContent(http.StatusOK)
}

// allowHeaders sets the headers of an allowing decision, their values
// in one array: a decision is the gateway's hot path.
type allowHeaders struct {
	hd   http.Header
	vals [8]string
	n    int
}

// set sets a header; name must be in canonical form.
func (h *allowHeaders) set(name, value string) {
	h.vals[h.n] = value
	h.hd[name] = h.vals[h.n : h.n+1 : h.n+1]
	h.n++
}

// refuse records a refusal before a decision and answers it. A browser
// that nobody could identify is sent to sign in, and back to the page it
// asked for (a local path of the service's host: the console serves the
// sign-in under the same host).
func (g *Gateway) refuse(c echo.Context, a ram.Actor, call ram.GatewayCall, status int, cause error) error {
	if err := g.RAM.GatewayRefuse(c.Request().Context(), a, call, cause); err != cause {
		g.Log.Error("gateway refusal not recorded", "request_id", RequestID(c), "error", err)
		return g.deny(c, http.StatusForbidden, err)
	}
	if status == http.StatusUnauthorized && a.AccessKeyID == "" && wantsHTML(c) {
		return c.Redirect(http.StatusFound, g.ConsoleURL+"/login?next="+url.QueryEscape(originalURL(c.Request())))
	}
	return g.deny(c, status, cause)
}

// wantsHTML reports whether the original request came from a browser.
func wantsHTML(c echo.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "text/html")
}

// hostRE is a host name with an optional port, as a browser sends it.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})(:[0-9]{1,5})?$`)

// originalURL is the URL the browser asked for, to come back to after
// signing in; its path alone when the host is not a plain host name.
func originalURL(r *http.Request) string {
	h := r.Header
	uri := localPath(first(h.Get("X-Forwarded-Uri"), h.Get("X-Original-URI")))
	host := first(h.Get("X-Forwarded-Host"), r.Host)
	proto := strings.ToLower(first(h.Get("X-Forwarded-Proto"), "http"))
	if !hostRE.MatchString(host) || (proto != "http" && proto != "https") {
		return uri
	}
	return proto + "://" + strings.ToLower(host) + uri
}

// deny answers a refusal: 401 or 403 with the OpenAPI's error body, or
// the console's denied page for a browser (an internal error is a 403 and
// is logged: the gateway never fails open).
func (g *Gateway) deny(c echo.Context, status int, err error) error {
	body := apiErrorBody{RequestID: RequestID(c), HostID: c.Request().Host}
	if e, ok := ram.AsError(err); ok {
		body.Code, body.Message = e.Code, apiMessage(e)
		if d, ok := ram.DenialOf(err); ok && e.Code == "NoPermission" {
			body.AccessDeniedDetail = &accessDeniedDetail{AuthAction: d.Action, AuthPrincipalType: "SubUser",
				AuthPrincipalOwnerID: g.RAM.AccountID(c.Request().Context()), NoPermissionType: d.Type, PolicyType: "AccountLevelIdentityBasedPolicy"}
		}
		if e.Code == "EntityNotExist.Service" {
			body.Code, body.Message = "UnknownService", "No resource service serves this host."
		}
	} else {
		g.Log.Error("gateway decision failed", "request_id", RequestID(c), "error", err)
		status, body.Code, body.Message = http.StatusForbidden, "InternalError", "The decision could not be made; the request is denied."
	}
	hd := c.Response().Header()
	hd.Set("Cache-Control", "no-store")
	if status == http.StatusForbidden && g.Page != nil && wantsHTML(c) {
		// Caddy and Traefik answer the browser with this page; nginx
		// answers with its own unless error_page names one.
		hd.Set("X-Ram-Error-Code", body.Code)
		hd.Set("X-Ram-Request-Id", body.RequestID)
		var denial *ram.Denial
		if d, ok := ram.DenialOf(err); ok {
			denial = d
		}
		return g.Page(c, status, "Access denied", body.Message, denial)
	}
	// For proxies that answer the client themselves (nginx's error_page):
	// the refusal's code and its audit record.
	hd.Set("X-Ram-Error-Code", body.Code)
	hd.Set("X-Ram-Request-Id", body.RequestID)
	b, _ := json.Marshal(body)
	return c.Blob(status, "application/json;charset=utf-8", b)
}

func urlValues(m map[string]string) url.Values {
	v := make(url.Values, len(m))
	for k, s := range m {
		v[k] = []string{s}
	}
	return v
}

func remoteIP(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		return strings.Trim(addr[:i], "[]")
	}
	return addr
}

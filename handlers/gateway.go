package handlers

import (
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/sign"
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
	// CookieDomain is --cookie-domain ("" when unset): a page of a host
	// within it is of the same site.
	CookieDomain string
	// Page renders the console's error page (for a refused browser).
	Page func(c echo.Context, status int, title, message string, denial *ram.Denial) error
}

// gatewayRequest is the original request, as the proxy forwarded it.
type gatewayRequest struct {
	method, uri, host, proto string
	path                     string // decoded once, segment by segment
	query                    map[string]string
}

// Canonical names of the headers that say what the original request was.
const (
	hForwardedMethod   = "X-Forwarded-Method"
	hForwardedURI      = "X-Forwarded-Uri"
	hOriginalMethod    = "X-Original-Method"
	hOriginalURI       = "X-Original-Uri"
	hOriginalLength    = "X-Original-Content-Length"
	hOriginalTransfer  = "X-Original-Transfer-Encoding"
	hAcsAction         = "X-Acs-Action"
	hForwardedHost     = "X-Forwarded-Host"
	hForwardedProto    = "X-Forwarded-Proto"
	hSecFetchSite      = "Sec-Fetch-Site"
	hOrigin            = "Origin"
	hLoginURL          = "X-Ram-Login-Url"
	hMethodOverride    = "X-Http-Method-Override"
	hMethodOverrideAlt = "X-Http-Method"
	hMethodOverrideMS  = "X-Method-Override"
)

// originalRequest reads the original request from Traefik's and Caddy's
// X-Forwarded-* headers or nginx's X-Original-* ones: one family per
// question, so a client's own headers can never stand in for the proxy's.
// The path is refused, never normalised, when a backend could read it as
// another path than the one decided (pathSegments).
func originalRequest(r *http.Request) (*gatewayRequest, error) {
	h := r.Header
	fwd := len(h[hForwardedMethod]) > 0 || len(h[hForwardedURI]) > 0
	orig := len(h[hOriginalMethod]) > 0 || len(h[hOriginalURI]) > 0
	if fwd && orig {
		return nil, apiError("AmbiguousForwardedRequest",
			"The question carries both X-Original-* and X-Forwarded-Method/X-Forwarded-Uri: the proxy must clear the family it does not set.")
	}
	for _, name := range []string{hForwardedMethod, hForwardedURI, hOriginalMethod, hOriginalURI, hForwardedHost, hForwardedProto} {
		if len(h[name]) > 1 {
			return nil, apiError("AmbiguousForwardedRequest", "The question carries %s more than once.", name)
		}
	}
	for _, name := range []string{hMethodOverride, hMethodOverrideAlt, hMethodOverrideMS} {
		if len(h[name]) > 0 {
			return nil, apiError("AmbiguousForwardedRequest",
				"The request carries %s: a backend could run another method than the one decided.", name)
		}
	}
	g := &gatewayRequest{method: h.Get(hForwardedMethod), uri: h.Get(hForwardedURI),
		host: first(h.Get(hForwardedHost), r.Host), proto: first(h.Get(hForwardedProto), "http")}
	if orig {
		g.method, g.uri = h.Get(hOriginalMethod), h.Get(hOriginalURI)
	}
	switch {
	case g.method == "":
		return nil, apiError("MissingParameter", "The proxy sent no X-Forwarded-Method or X-Original-Method header.")
	case g.uri == "":
		return nil, apiError("MissingParameter", "The proxy sent no X-Forwarded-Uri or X-Original-URI header.")
	case !methodRE.MatchString(g.method):
		return nil, apiError("InvalidParameter.ForwardedMethod", "The forwarded method %q is not an HTTP method.", truncate(g.method, 32))
	}
	rawPath, rawQuery, _ := strings.Cut(g.uri, "?")
	if !strings.HasPrefix(rawPath, "/") {
		return nil, apiError("InvalidPath", "The forwarded URI %q is not a request path.", truncate(g.uri, 200))
	}
	path, err := pathSegments(rawPath)
	if err != nil {
		return nil, err
	}
	g.path, g.query = path, map[string]string{}
	if strings.IndexByte(rawQuery, '#') >= 0 {
		return nil, apiError("InvalidPath", "The forwarded URI carries a fragment.")
	}
	if err := parseValues(rawQuery, g.query, "forwarded query"); err != nil {
		if e, ok := ram.AsError(err); ok && e.Code == "InvalidParameter" {
			e.Code = "AmbiguousParameter"
		}
		return nil, err
	}
	return g, nil
}

// methodRE is an HTTP method as proxies forward it.
var methodRE = regexp.MustCompile(`^[A-Z]{1,16}$`)

// pathSegments decodes the original path the way a backend that splits on
// "/" and decodes each segment once reads it, and refuses every path that
// another backend could read as a different one: dot segments (also
// encoded), encoded slashes and backslashes, backslashes, ";" (path
// parameters), empty segments ("//") and control characters. A trailing
// "/" is allowed.
func pathSegments(raw string) (string, error) {
	bad := func(why string) error {
		return apiError("InvalidPath", "The path %q is refused: %s.", truncate(raw, 200), why)
	}
	var b strings.Builder
	rest := raw[1:]
	for {
		seg, more := rest, false
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, rest, more = rest[:i], rest[i+1:], true
		}
		if seg == "" && more {
			return "", bad("it has an empty segment")
		}
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return "", bad("it has a malformed escape")
		}
		switch {
		case dec == "." || dec == "..":
			return "", bad("it has a dot segment")
		case strings.ContainsAny(dec, "/\\"):
			return "", bad("it has a backslash or an encoded slash")
		case strings.IndexByte(dec, ';') >= 0:
			return "", bad("it has a \";\"")
		case strings.ContainsFunc(dec, func(c rune) bool { return c < 0x20 || c == 0x7f }) || strings.IndexByte(seg, ' ') >= 0:
			return "", bad("it has a control character")
		}
		b.WriteByte('/')
		b.WriteString(dec)
		if !more {
			return b.String(), nil
		}
	}
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// Auth handles /gateway/auth (any method): it translates the proxy's
// forwarded headers into the original request, and the decision into the
// answer's headers; ram authenticates, decides and records.
func (g *Gateway) Auth(c echo.Context) error {
	r := c.Request()
	ctx := r.Context()
	rid := RequestID(c)
	who := ram.Actor{RequestID: rid, SourceIP: c.RealIP(), UserAgent: truncate(r.UserAgent(), 512)}
	if !g.Trusted(r.RemoteAddr) {
		who.SourceIP = remoteIP(r.RemoteAddr)
		err := apiError("Forbidden.UntrustedProxy", "Only the proxies of --trusted-proxies may ask the gateway.")
		_ = g.RAM.GatewayRefuse(ctx, g.RAM.Anonymous(who), ram.GatewayCall{Host: "gateway"}, err)
		return g.deny(c, http.StatusForbidden, err)
	}
	call := g.RAM.Anonymous(who)
	orig, err := originalRequest(r)
	if err != nil {
		_ = g.RAM.GatewayRefuse(ctx, call, ram.GatewayCall{Host: "gateway"}, err)
		return g.deny(c, http.StatusForbidden, err)
	}
	who.SecureTransport = strings.EqualFold(orig.proto, "https")
	call.Actor.SecureTransport = who.SecureTransport
	gc := ram.GatewayCall{Host: strings.ToLower(orig.host)}
	svc, err := g.RAM.ServiceForHost(ctx, orig.host)
	if err != nil {
		return g.refuse(c, call, gc, http.StatusForbidden, err)
	}
	gc.Service = svc
	params := apiParams(orig.query)
	gc.Params = params.audit()
	mreq := ram.GatewayRequest{Method: orig.method, Path: orig.path}
	if svc.Style == ram.StyleRPC { // a rest service maps its path alone
		if err := rpcShape(r, orig); err != nil {
			return g.refuse(c, call, gc, http.StatusForbidden, err)
		}
		mreq.Query, mreq.Action = urlValues(orig.query), r.Header.Get(hAcsAction)
	}
	gc.Action, gc.Resource, err = svc.Map(g.RAM.AccountID(ctx), mreq)
	if err != nil {
		return g.refuse(c, call, gc, http.StatusForbidden, err)
	}

	// Who is calling: a signature of the original request, else a console session.
	switch auth := r.Header.Get("Authorization"); {
	case strings.HasPrefix(auth, sign.AlgorithmV3), orig.query["Signature"] != "":
		sr := ram.SignedRequest{Method: orig.method, Path: orig.path, Host: orig.host, Query: orig.query, Params: orig.query, Header: r.Header}
		if auth != "" {
			v3, err := sign.ParseAuthorization(auth)
			if err != nil {
				return g.refuse(c, call, gc, http.StatusUnauthorized, apiError("IncompleteSignature", "The Authorization header is not a valid ACS3-HMAC-SHA256 authorization."))
			}
			sr.V3, sr.KeyID = &v3, v3.Credential
		} else {
			sr.KeyID, sr.Token = orig.query["AccessKeyId"], orig.query["SecurityToken"]
		}
		if call = g.RAM.Authenticate(ctx, who, &sr); call.Err() != nil {
			return g.refuse(c, call, gc, http.StatusUnauthorized, call.Err())
		}
	default:
		s := SessionOf(c)
		if s == nil || s.Principal() == "" || s.Stage() != ram.StepDone {
			return g.refuse(c, call, gc, http.StatusUnauthorized, apiError("MissingAuthorization",
				"Nobody could be identified: sign the request, or sign in to the console."))
		}
		id, err := g.RAM.Identity(ctx, s.Principal())
		if err != nil {
			return g.refuse(c, call, gc, http.StatusUnauthorized, err)
		}
		a := who
		a.Principal, a.Name = id.Principal, id.Name
		a.MFAPresent = s.Get(mfaKey) == "true"
		if key := s.Get(SwitchKey); key != "" {
			if rs, err := g.RAM.SwitchedSession(ctx, id.Principal, key); err == nil {
				a = rs.Act(a)
			}
		}
		call = g.RAM.SessionCall(a)
		if err := g.sameSite(r, orig); err != nil {
			return g.refuse(c, call, gc, http.StatusForbidden, err)
		}
	}

	if err := g.RAM.GatewayDecide(ctx, call, gc); err != nil {
		status := http.StatusForbidden
		if e, ok := ram.AsError(err); ok && e.Code == ram.ErrNonceUsed.Code {
			status = http.StatusUnauthorized
		}
		return g.deny(c, status, err)
	}
	a := call.Actor
	acct := g.RAM.AccountID(ctx)
	h := allowHeaders{hd: c.Response().Header()}
	h.set("X-Ram-Account-Id", acct)
	h.set("X-Ram-Action", gc.Action)
	h.set("X-Ram-Resource", gc.Resource.ARN())
	h.set("X-Ram-Request-Id", rid)
	h.set("X-Ram-Principal-Type", ram.PrincipalType(a))
	h.set("X-Ram-Principal-Arn", ram.PrincipalARN(acct, a))
	switch {
	case a.Session != nil:
		h.set("X-Ram-User-Name", a.Session.Session.SourceName)
		h.set("X-Ram-User-Id", ram.Principal(a.Session.Session.SourcePrincipal).UserID())
	case a.Principal.IsOwner():
		h.set("X-Ram-User-Name", a.Name)
		h.set("X-Ram-User-Id", acct) // the account's own id, as Alibaba's root identity
	default:
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
func (g *Gateway) refuse(c echo.Context, call *ram.Call, gc ram.GatewayCall, status int, cause error) error {
	if err := g.RAM.GatewayRefuse(c.Request().Context(), call, gc, cause); err != cause {
		g.Log.Error("gateway refusal not recorded", "request_id", RequestID(c), "error", err)
		return g.deny(c, http.StatusForbidden, err)
	}
	// A request that carries a signature, valid or not, is a program's.
	if status == http.StatusUnauthorized && !signed(c.Request()) && wantsHTML(c) {
		r := c.Request()
		next := "/login?next=" + url.QueryEscape(originalURL(r))
		if len(r.Header[hOriginalURI]) == 0 {
			return c.Redirect(http.StatusFound, g.ConsoleURL+next)
		}
		// nginx's auth_request takes a 302 for an error (its 500): it gets
		// a 401 naming where to sign in, which its recipe redirects to.
		base := g.ConsoleURL
		if base == "" {
			if u, err := url.Parse(originalURL(r)); err == nil && u.Host != "" {
				base = u.Scheme + "://" + u.Host
			}
		}
		c.Response().Header().Set(hLoginURL, base+next)
	}
	return g.deny(c, status, cause)
}

// signed reports whether the original request carries a signature, valid
// or not: V3's Authorization header or V1's Signature parameter.
func signed(r *http.Request) bool {
	if strings.HasPrefix(r.Header.Get("Authorization"), sign.AlgorithmV3) {
		return true
	}
	orig, err := originalRequest(r) // decided as Auth decides it (a refusal's path only)
	return err == nil && orig.query["Signature"] != ""
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

// rpcShape refuses an rpc-style request whose parameters the gateway
// cannot all see or could read otherwise than the backend: a body (which
// the gateway never sees, and a backend may read parameters from), and an
// Action parameter that an x-acs-action header contradicts.
func rpcShape(r *http.Request, orig *gatewayRequest) error {
	h := r.Header
	said := false
	// An empty value says nothing: Caddy sends the header empty for a
	// request without Content-Length.
	if v := h[hOriginalLength]; len(v) > 1 || len(v) == 1 && strings.TrimSpace(v[0]) != "" {
		said = true
		n, err := strconv.ParseInt(strings.TrimSpace(first(v...)), 10, 64)
		if len(v) != 1 || err != nil || n < 0 {
			return apiError("UnsupportedRequestBody", "The proxy sent a malformed X-Original-Content-Length.")
		}
		if n > 0 {
			return errRequestBody
		}
	}
	if len(h[hOriginalTransfer]) > 0 || len(r.TransferEncoding) > 0 || r.ContentLength != 0 {
		return errRequestBody
	}
	switch orig.method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		if !said {
			return apiError("UnsupportedRequestBody",
				"The proxy did not say whether the %s request has a body (X-Original-Content-Length): it is refused.", orig.method)
		}
	}
	actions := h[hAcsAction]
	if len(actions) > 1 || len(actions) == 1 && orig.query["Action"] != "" && orig.query["Action"] != actions[0] {
		return apiError("AmbiguousAction", "The Action parameter and the x-acs-action header name different actions.")
	}
	return nil
}

var errRequestBody = apiError("UnsupportedRequestBody",
	"The request has a body, which the gateway does not see: send an rpc request's parameters in its query.")

// sameSite refuses a change authorised by the console's session cookie
// that a page of another site may have sent (SPEC §13): it needs
// Sec-Fetch-Site same-origin (or same-site within --cookie-domain), or an
// Origin naming the original host.
func (g *Gateway) sameSite(r *http.Request, orig *gatewayRequest) error {
	switch orig.method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	host := strings.ToLower(orig.host)
	switch r.Header.Get(hSecFetchSite) {
	case "same-origin":
		return nil
	case "same-site":
		if g.CookieDomain != "" && withinDomain(hostOnly(host), g.CookieDomain) {
			return nil
		}
	}
	if o := r.Header.Get(hOrigin); o != "" && o != "null" {
		if u, err := url.Parse(o); err == nil && u.Host != "" && (strings.EqualFold(u.Host, host) ||
			u.Port() == "" && strings.EqualFold(u.Hostname(), hostOnly(host))) {
			return nil
		}
	}
	return apiError("CrossSiteRequest",
		"A %s authorised by the console's session must come from a page of the same site.", orig.method)
}

// hostOnly is a host without its port.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// withinDomain reports whether host is domain or one of its subdomains.
func withinDomain(host, domain string) bool {
	host, domain = strings.ToLower(host), strings.ToLower(domain)
	return host == domain || strings.HasSuffix(host, "."+domain)
}

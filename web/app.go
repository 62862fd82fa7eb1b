// Package web is ramconsole's HTTP shell: the echo app, its one route table,
// middleware and the central error handler.
package web

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
	"ramconsole/static"
	"ramconsole/store"
	"ramconsole/views"
)

// Config is the web shell's configuration.
type Config struct {
	// TLS is true when the server terminates TLS itself (HSTS, secure cookies).
	TLS bool
	// SecureCookies marks the session cookie Secure (behind a TLS proxy).
	SecureCookies bool
	// TrustedProxies are CIDRs or IPs whose X-Forwarded-For is believed.
	TrustedProxies []string
	Logger         *slog.Logger
	// SignInRate and SignInBurst set the per-address limit of sign-in
	// posts (attempts a second, and at once); zero means 10 and 30.
	SignInRate  float64
	SignInBurst float64
	// CookieDomain, when set, sends the session cookie to that domain and
	// its subdomains, so the gateway knows console users on the services'
	// hosts (SPEC §13).
	CookieDomain string
	// ConsoleURL is the console's address as browsers reach it: where the
	// gateway sends a browser to sign in ("" = the service's own host).
	ConsoleURL string
}

// Deps are the services the web shell serves.
type Deps struct {
	Store *store.Store
	RAM   *ram.Service
}

// App is the console's HTTP application.
type App struct {
	*echo.Echo
	routes []Route
	log    *slog.Logger
	h      *handlers.Handlers
	svc    *ram.Service
	// metrics are served at /metrics to the trusted proxies, or on their
	// own listener (MetricsHandler).
	metrics *metrics
	// gateway answers the gateway's decision endpoint (see ServeHTTP).
	gateway echo.HandlerFunc
	// withSession loads the session of a request that carries its cookie.
	withSession echo.MiddlewareFunc
}

// ServeHTTP answers a request. The gateway's decision endpoint, asked
// about every request to the enterprise's services, is answered by a chain
// of its own built once, without routing; everything else by echo.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != gatewayPath {
		a.Echo.ServeHTTP(w, r)
		return
	}
	c := a.Echo.AcquireContext()
	c.Reset(r, w)
	if err := a.gateway(c); err != nil {
		a.Echo.HTTPErrorHandler(err, c)
	}
	a.Echo.ReleaseContext(c)
}

// New builds the echo app with every route and middleware.
func New(cfg Config, d Deps) (*App, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	extractor, err := ipExtractor(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	e.IPExtractor = extractor
	a := &App{Echo: e, log: log}
	a.svc = d.RAM
	cookieDomain, consoleURL, err := gatewayConfig(cfg)
	if err != nil {
		return nil, err
	}
	a.h = handlers.New(handlers.Deps{RAM: d.RAM, Nav: a.nav, SecureCookies: cfg.TLS || cfg.SecureCookies, CookieDomain: cookieDomain})
	a.routes = routes(a.h)
	e.HTTPErrorHandler = a.handleError

	e.Use(requestID, accessLog(log, a), recoverPanic(log), securityHeaders(cfg.TLS, consoleCSP))
	e.Use(limitBody(maxBody))

	a.metrics = newMetrics(d.Store, d.RAM)
	a.mountAPI(cfg.TLS)
	e.GET(static.Prefix+"*", serveStatic)
	sessions := newServerSessions(d.Store, d.RAM.MAC, cfg.TLS || cfg.SecureCookies)
	sessions.options.Domain = cookieDomain
	withSession := loadSession(sessions, d.Store.Now, d.RAM.SessionLifetime)
	a.withSession = withSession
	a.mountOIDC(withSession)
	rate, burst := cfg.SignInRate, cfg.SignInBurst
	if rate <= 0 {
		rate = signInRate
	}
	if burst <= 0 {
		burst = signInBurst
	}
	signIns := limitRate(newRateLimiter(rate, burst, maxSignInBuckets, time.Now))
	for _, r := range a.routes {
		if r.Method == http.MethodPost && signInPaths[r.Path] || r.Method == http.MethodGet && signInGets[r.Path] {
			e.Add(r.Method, r.Path, r.Handler, signIns, withSession, guard(d.RAM, r, a.h.SessionEnded))
			continue
		}
		e.Add(r.Method, r.Path, r.Handler, withSession, guard(d.RAM, r, a.h.SessionEnded))
	}
	trusted, err := trustedPeers(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	// The resource gateway's decision endpoint, for the trusted proxies in
	// front of the enterprise's services (SPEC §13): any method, a console
	// session read when the request carries one.
	gw := &handlers.Gateway{RAM: d.RAM, Log: log, Trusted: trusted, ConsoleURL: consoleURL, CookieDomain: cookieDomain, Page: a.h.ServiceErrorPage}
	// The session is read only when the request carries its cookie: the
	// signed calls of programs, most of the gateway's traffic, have none.
	gwSession := func(next echo.HandlerFunc) echo.HandlerFunc {
		withS := withSession(next)
		return func(c echo.Context) error {
			if _, err := c.Request().Cookie(CookieName); err != nil {
				return next(c)
			}
			return withS(c)
		}
	}
	// Its chain (see ServeHTTP): what every request gets but the body
	// limit (the gateway reads no body) and the page headers on its 200s
	// (see gatewayHeaders).
	a.gateway = gatewayRequestID(accessLog(log, a)(recoverPanic(log)(gatewayHeaders(cfg.TLS)(gwSession(gw.Auth)))))
	// The metrics, for the trusted proxies only: anyone else is told
	// nothing is there.
	metricsHandler := echo.WrapHandler(a.metrics.handler())
	e.GET("/metrics", func(c echo.Context) error {
		if !trusted(c.Request().RemoteAddr) {
			return echo.ErrNotFound
		}
		return metricsHandler(c)
	})
	return a, nil
}

// gatewayPath is the gateway's decision endpoint (SPEC §13).
const gatewayPath = "/gateway/auth"

// trustedPeers reports whether a connection's peer address is one of the
// trusted proxies (none when the list is empty).
func trustedPeers(list []string) (func(remoteAddr string) bool, error) {
	nets, err := parseTrusted(list)
	if err != nil {
		return nil, err
	}
	return func(remoteAddr string) bool {
		host, _, err := net.SplitHostPort(remoteAddr)
		if err != nil {
			host = remoteAddr
		}
		ip := net.ParseIP(host)
		for _, n := range nets {
			if ip != nil && n.Contains(ip) {
				return true
			}
		}
		return false
	}, nil
}

// Routes returns the route table (for tests that must cover every route).
func (a *App) Routes() []Route { return a.routes }

// navSections orders the navigation as RAM's console groups it: the
// entries above every heading, Identities, Permissions, Settings and
// Audit, then the owner's own device and password. An entry is listed only
// when its route is in the table and the identity may use it; one not
// named here comes last, in table order.
func navSections() []struct {
	heading string
	paths   []string
} {
	return []struct {
		heading string
		paths   []string
	}{
		{"", []string{"/", "/me", "/switch-role"}},
		{"Identities", []string{"/users", "/groups", "/roles", "/sso"}},
		// "/grants" is RAM's Grants: every policy attachment of the account.
		{"Permissions", []string{"/policies", "/grants", "/simulator", "/services", "/applications"}},
		{"", []string{"/settings", "/audit"}},
		{"Your account", []string{"/mfa/bind", "/password/change"}},
	}
}

// nav lists the sections the signed-in identity may use, grouped and
// ordered by navSections.
func (a *App) nav(c echo.Context) []views.NavItem {
	id := handlers.IdentityOf(c)
	if id == nil {
		return nil
	}
	actor := handlers.ActorOf(c)
	var items []views.NavItem
	for _, r := range a.routes {
		if r.Nav == "" || r.Method != http.MethodGet {
			continue
		}
		switch r.NavFor {
		case NavOwner:
			if !id.IsOwner {
				continue
			}
		case NavRAMUser:
			if id.IsOwner || ownAccountRoute(r.Path) && handlers.SAMLRoleSessionOf(c) != nil {
				continue
			}
		default:
			if r.Action != "" && !a.svc.Allowed(c.Request().Context(), actor, r.Action, r.Resources(c)...) {
				continue
			}
		}
		active := c.Path() == r.Path || r.Path != "/" && strings.HasPrefix(c.Path(), r.Path+"/")
		items = append(items, views.NavItem{Label: r.Nav, Href: r.Path, Active: active})
	}
	order, group := map[string]int{}, map[string]string{}
	for _, s := range navSections() {
		for _, p := range s.paths {
			order[p], group[p] = len(order)+1, s.heading
		}
	}
	rank := func(path string) int {
		if n, ok := order[path]; ok {
			return n
		}
		return len(order) + 1
	}
	sort.SliceStable(items, func(i, j int) bool { return rank(items[i].Href) < rank(items[j].Href) })
	for i := range items {
		items[i].Group = group[items[i].Href]
	}
	return items
}

func serveStatic(c echo.Context) error {
	name, ok := static.Lookup(strings.TrimPrefix(c.Request().URL.Path, static.Prefix))
	if !ok {
		return echo.ErrNotFound
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	b, err := fs.ReadFile(static.FS, name)
	if err != nil {
		return echo.ErrNotFound
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return c.Blob(http.StatusOK, ctype, b)
}

// handleError is the one place errors are logged and error pages chosen.
func (a *App) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if errors.Is(err, errSessionGone) {
		// Signed out or revoked while the request ran: it is signed out.
		_ = c.Redirect(http.StatusSeeOther, "/login")
		return
	}
	status, title, msg := http.StatusInternalServerError, "Internal error", "Something went wrong on our side. If it persists, give the request ID to your administrator."
	var he *echo.HTTPError
	if de, ok := ram.AsError(err); ok {
		msg = de.Message
		switch de.Kind {
		case ram.ENOTFOUND:
			status, title = http.StatusNotFound, "Not found"
		case ram.EFORBIDDEN:
			status, title = http.StatusForbidden, "Access denied"
		case ram.ECONFLICT, ram.ELIMIT:
			status, title = http.StatusConflict, "Cannot do that"
		case ram.EINVALID:
			status, title = http.StatusUnprocessableEntity, "Invalid input"
		case ram.EAUTH:
			status, title = http.StatusUnauthorized, "Sign-in failed"
		case ram.EBUSY:
			status, title = http.StatusServiceUnavailable, "Busy"
			c.Response().Header().Set("Retry-After", strconv.Itoa(ram.HashRetryAfter))
		}
	} else if errors.As(err, &he) {
		status = he.Code
		switch status {
		case http.StatusNotFound:
			title, msg = "Not found", "There is nothing at this address."
		case http.StatusForbidden:
			title, msg = "Access denied", fmt.Sprint(he.Message)
		case http.StatusRequestEntityTooLarge:
			title, msg = "Request too large", "The request is larger than 1 MiB."
		case http.StatusMethodNotAllowed:
			title, msg = "Method not allowed", "This address does not take that method."
		default:
			if status >= 500 {
				a.log.Error("request failed", "request_id", handlers.RequestID(c), "error", err)
				status, title = http.StatusInternalServerError, "Internal error"
			} else {
				title, msg = http.StatusText(status), fmt.Sprint(he.Message)
			}
		}
	} else if store.IsUnavailable(err) {
		// The database does not answer: nothing was decided; try again.
		a.log.Error("database unavailable", "request_id", handlers.RequestID(c), "error", err)
		status, title, msg = http.StatusServiceUnavailable, "Unavailable", "The service cannot reach its database just now. Try again in a moment."
		c.Response().Header().Set("Retry-After", "5")
	} else {
		a.log.Error("request failed", "request_id", handlers.RequestID(c), "error", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	if status < 500 {
		a.knowViewer(c)
	}
	denial, _ := ram.DenialOf(err)
	if err := a.h.ErrorPage(c, status, title, msg, denial); err != nil {
		a.log.Error("render error page", "request_id", handlers.RequestID(c), "error", err)
		_ = c.String(status, title)
	}
}

// knowViewer loads who is asking when an error came before the route's own
// middleware did (an unknown address, a wrong method, a refused form), so
// the error page shows the console as the viewer sees it: navigation and
// Sign out when signed in. Requests without the session cookie, the
// gateway's and the OpenAPI's are left as they are.
func (a *App) knowViewer(c echo.Context) {
	r := c.Request()
	if r.URL.Path == gatewayPath || c.Get(keyAPIBody) != nil {
		return
	}
	if handlers.SessionOf(c) == nil {
		if _, err := r.Cookie(CookieName); err != nil {
			return
		}
		if err := a.withSession(func(echo.Context) error { return nil })(c); err != nil {
			return
		}
	}
	s := handlers.SessionOf(c)
	if s == nil || s.Principal() == "" || handlers.IdentityOf(c) != nil {
		return
	}
	_ = identify(c, a.svc, s)
}

// ipExtractor believes X-Forwarded-For only from trusted proxies.
func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	nets, err := parseTrusted(trusted)
	if err != nil || len(nets) == 0 {
		return echo.ExtractIPDirect(), err
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range nets {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// parseTrusted reads --trusted-proxies: IPs and CIDRs.
func parseTrusted(list []string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, t := range list {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if !strings.Contains(t, "/") {
			if ip := net.ParseIP(t); ip != nil && ip.To4() != nil {
				t += "/32"
			} else {
				t += "/128"
			}
		}
		_, n, err := net.ParseCIDR(t)
		if err != nil {
			return nil, fmt.Errorf("web: trusted proxy %q is not an IP or CIDR", t)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// domainRE is a DNS name of two labels or more.
var domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// gatewayConfig checks --cookie-domain and --console-url.
func gatewayConfig(cfg Config) (cookieDomain, consoleURL string, err error) {
	if d := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(cfg.CookieDomain)), "."); d != "" {
		if !domainRE.MatchString(d) {
			return "", "", fmt.Errorf("--cookie-domain %q is not a domain name such as example.com", cfg.CookieDomain)
		}
		cookieDomain = d
	}
	if u := strings.TrimSpace(cfg.ConsoleURL); u != "" {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" || p.User != nil || (p.Path != "" && p.Path != "/") || p.RawQuery != "" || p.Fragment != "" {
			return "", "", fmt.Errorf("--console-url %q is not an address such as https://ram.example.com", cfg.ConsoleURL)
		}
		consoleURL = p.Scheme + "://" + p.Host
	}
	return cookieDomain, consoleURL, nil
}

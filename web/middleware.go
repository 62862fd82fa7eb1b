package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// requestID gives every request an id, returned in X-Request-Id and carried
// into audit events and error pages.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := ram.NewRequestID()
		c.Set(handlers.KeyRequestID, id)
		c.Response().Header().Set("X-Request-Id", id)
		keepDecisions(c)
		return next(c)
	}
}

// accessLog writes one line per request and counts it in the metrics. It
// logs the path without the query string, which may carry a setup token.
func accessLog(log *slog.Logger, a *App) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			r := c.Request()
			took := time.Since(start)
			status := c.Response().Status
			a.metrics.observe(c, status, took)
			// The gateway's decisions are each an audit event and counted in
			// the metrics: a line per decision would repeat them, at a cost
			// the gateway's throughput feels. Its failures are logged.
			if status < 500 && r.URL.Path == gatewayPath {
				return nil
			}
			var principal ram.Principal
			if s := handlers.SessionOf(c); s != nil {
				principal = s.Principal()
			} else if p, ok := c.Get(handlers.KeyAPIPrincipal).(ram.Principal); ok {
				principal = p // an OpenAPI call's AccessKey owner or role session
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("method", r.Method),
				slog.String("path", loggedPath(c)),
				slog.Int("status", status),
				slog.Float64("duration_ms", float64(took.Microseconds())/1000),
				slog.String("request_id", handlers.RequestID(c)),
				slog.String("principal", string(principal)),
				slog.String("ip", c.RealIP()))
			return nil
		}
	}
}

// recoverPanic turns a panic into an error for the central error handler.
func recoverPanic(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.Error("panic", "request_id", handlers.RequestID(c), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
					err = fmt.Errorf("web: panic: %v", r)
				}
			}()
			return next(c)
		}
	}
}

// securityHeaders sets the headers of SPEC §8 on every response, with csp
// as its Content-Security-Policy. The value slices are shared: a Set
// replaces one, and appending to a one-element slice copies it.
func securityHeaders(tls bool, csp string) echo.MiddlewareFunc {
	cspValue := []string{csp}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			setSecurityHeaders(c.Response().Header(), tls, cspValue)
			return next(c)
		}
	}
}

func setSecurityHeaders(h http.Header, tls bool, csp []string) {
	h["Content-Security-Policy"] = csp
	h["X-Frame-Options"] = deny
	h["X-Content-Type-Options"] = nosniff
	h["Referrer-Policy"] = sameOrigin
	h["Cache-Control"] = noStore
	if tls {
		h["Strict-Transport-Security"] = hsts
	}
}

// gatewayHeaders sets the headers of SPEC §8 on every answer of the
// gateway but an allowing decision: that 200 has no body, and the proxy
// reads its X-Ram-* headers (X-Ram-Request-Id is its request id) and shows
// it to nobody. It keeps Cache-Control: no-store, so no proxy cache ever
// answers for the gateway.
// A refusal, a redirect or an error page (which Caddy and Traefik show
// the browser) gets them all.
func gatewayHeaders(tls bool) echo.MiddlewareFunc {
	cspValue := []string{consoleCSP}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			res.Header()["Cache-Control"] = noStore
			res.Before(func() {
				if res.Status != http.StatusOK {
					setSecurityHeaders(res.Header(), tls, cspValue)
					res.Header()["X-Request-Id"] = []string{handlers.RequestID(c)}
				}
			})
			return next(c)
		}
	}
}

// gatewayRequestID gives a gateway question its request id. An allowing
// answer carries it as X-Ram-Request-Id (SPEC §13); any other answer in
// X-Request-Id too (gatewayHeaders), like every other response.
func gatewayRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(handlers.KeyRequestID, ram.NewRequestID())
		keepDecisions(c)
		return next(c)
	}
}

// keepDecisions gives the request a context its authorisation decisions
// ride on until its event records them (the access review, SPEC §16.1).
func keepDecisions(c echo.Context) {
	ctx, _ := ram.WithEventMark(c.Request().Context())
	c.SetRequest(c.Request().WithContext(ctx))
}

// The Content-Security-Policy of console pages, and of OpenAPI answers
// (JSON or XML: nothing in them may load anything).
const (
	consoleCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	apiCSP = "default-src 'none'; frame-ancestors 'none'"
)

var (
	deny       = []string{"DENY"}
	nosniff    = []string{"nosniff"}
	sameOrigin = []string{"same-origin"}
	noStore    = []string{"no-store"}
	hsts       = []string{"max-age=63072000; includeSubDomains"}
)

// loadSession attaches the request's console session.
func loadSession(st sessions.Store, now func() time.Time, life func(context.Context) time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			gs, err := st.Get(c.Request(), CookieName)
			if err != nil {
				return err
			}
			c.Set(handlers.KeySession, &session{gs: gs, c: c, now: now, life: life})
			return next(c)
		}
	}
}

// errForbiddenCSRF refuses a cross-site or token-less form post.
var errForbiddenCSRF = echo.NewHTTPError(http.StatusForbidden, "The form expired or came from another site. Reload the page and try again.")

// checkCSRF refuses unsafe requests sent from another site (Sec-Fetch-Site,
// Origin) or without the session's token.
func checkCSRF(c echo.Context) error {
	r := c.Request()
	if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
		return nil
	}
	// The identity provider's signed response is the authentication of
	// the Assertion Consumer Services, posted from its site (SPEC §8).
	if r.Method == http.MethodPost && (c.Path() == "/saml/acs" || c.Path() == "/saml-role/sso") {
		return nil
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errForbiddenCSRF
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != r.Host {
			return errForbiddenCSRF
		}
	}
	parse := r.ParseForm
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		// A form with a file input (the SSO metadata).
		parse = func() error { return r.ParseMultipartForm(maxBody) }
	}
	if err := parse(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return echo.ErrStatusRequestEntityTooLarge
		}
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	s, _ := handlers.SessionOf(c).(*session)
	token := c.FormValue("csrf_token")
	if token == "" {
		token = r.Header.Get("X-CSRF-Token")
	}
	if s == nil || !s.checkCSRF(token) {
		return errForbiddenCSRF
	}
	return nil
}

// maxBody is the largest request body accepted (SPEC: 1 MiB; larger → 413).
const maxBody = 1 << 20

// limitBody refuses bodies over limit: at once when Content-Length says so,
// else when reading passes the limit.
func limitBody(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.ContentLength > limit {
				return echo.ErrStatusRequestEntityTooLarge
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
			return next(c)
		}
	}
}

// loggedPath is a request's path for the log: a one-time download or
// hand-over token (whose holder may take a password or a secret) stands
// as the route's pattern, never as itself.
func loggedPath(c echo.Context) string {
	if p := c.Path(); strings.Contains(p, ":token") {
		return p
	}
	return c.Request().URL.Path
}

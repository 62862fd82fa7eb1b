package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
)

// mountAPI serves the RAM OpenAPI (SPEC §6) on the same listener: a request
// to "/" that carries an Action (query string or form body) or an
// x-acs-action header is an API call, GET or POST; anything else goes on to
// the console. API calls never meet the console's sessions or CSRF checks:
// they are authenticated by their signature alone.
func (a *App) mountAPI(tls bool) {
	api := handlers.NewAPI(a.svc, a.log)
	serve := func(c echo.Context) error {
		b, _ := c.Get(keyAPIBody).([]byte)
		return api.Serve(c, b)
	}
	// The API's own chain: request id, access log and panic recovery as for
	// every request; the body limit is applied while reading it.
	chain := requestID(accessLog(a.log, a)(recoverPanic(a.log)(apiRecover(api, securityHeaders(tls, apiCSP)(serve)))))
	a.Echo.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if r.URL.Path != "/" {
				return next(c)
			}
			b, isAPI, err := handlers.ReadAPIRequest(r)
			if !isAPI {
				if errors.Is(err, handlers.ErrAPIBodyTooLarge) {
					return echo.ErrStatusRequestEntityTooLarge
				}
				return next(c)
			}
			c.Set(keyAPIBody, b)
			if err != nil {
				c.Set(keyAPIReadError, err)
			}
			return chain(c)
		}
	})
}

const (
	keyAPIBody      = "ramconsole.api_body"
	keyAPIReadError = "ramconsole.api_read_error"
)

// apiRecover answers an unreadable body or a panic inside an API call with
// the API's own error body, never the console's error page.
func apiRecover(api *handlers.API, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		if rerr, ok := c.Get(keyAPIReadError).(error); ok {
			return api.ServeError(c, rerr)
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				api.Log.Error("api panic", "request_id", handlers.RequestID(c), "panic", p)
				err = api.ServeError(c, errors.New("web: api panic"))
			}
		}()
		return next(c)
	}
}

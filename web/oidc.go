package web

import (
	"github.com/labstack/echo/v4"
)

// mountOIDC serves the OpenID provider (SPEC §17). The browser's endpoints
// (authorization and RP-initiated logout) read the console session, outside
// the route table's CSRF rule: applications send browsers there with GET
// or a form of their own. The client-facing ones (discovery, keys, token,
// userinfo, revocation) read no session and answer with the API's CSP.
func (a *App) mountOIDC(withSession echo.MiddlewareFunc) {
	e, h := a.Echo, a.h
	api := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Response().Header().Set("Content-Security-Policy", apiCSP)
			return next(c)
		}
	}
	e.GET("/.well-known/openid-configuration", h.OIDCDiscovery, api)
	e.GET("/v1/keys", h.OIDCKeys, api)
	e.POST("/v1/token", h.OIDCToken, api)
	e.GET("/v1/userinfo", h.OIDCUserInfo, api)
	e.POST("/v1/userinfo", h.OIDCUserInfo, api)
	e.POST("/v1/revoke", h.OIDCRevoke, api)
	for _, m := range []string{"GET", "POST"} {
		e.Add(m, "/oauth2/v1/auth", h.OIDCAuthorize, withSession)
		e.Add(m, "/oauth2/v1/logout", h.OIDCLogout, withSession)
	}
}

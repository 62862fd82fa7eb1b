package web

import (
	"net/http"

	"ramconsole/handlers"
)

// samlRoutes are user-based SSO's service provider (SPEC §18.1, §18.3):
// metadata for anyone, the SP-initiated start, and the Assertion Consumer
// Service, which checks no CSRF token or origin (the identity provider's
// signature authenticates it, checkCSRF) and replaces whatever session the
// browser held.
func samlRoutes(h *handlers.Handlers) []Route {
	get, post := http.MethodGet, http.MethodPost
	return []Route{
		{Method: get, Path: "/saml/metadata.xml", Access: Public, Handler: h.SAMLMetadata},
		{Method: get, Path: "/saml-role/metadata.xml", Access: Public, Handler: h.SAMLRoleMetadata},
		{Method: get, Path: "/saml/login", Access: Guest, Handler: h.SAMLLogin},
		{Method: post, Path: "/saml/acs", Access: AnySession, Handler: h.SAMLACS},
		// Role SSO in the console: the role ACS, and the role picked when
		// the assertion listed several (SPEC §18.11).
		{Method: post, Path: "/saml-role/sso", Access: AnySession, Handler: h.SAMLRoleACS},
		{Method: post, Path: "/saml-role/choose", Access: AnySession, Handler: h.SAMLRoleChoose},
	}
}

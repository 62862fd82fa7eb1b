package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/handlers"
	"ramconsole/ram"
)

// What the SSO routes act on: the user SSO setting is on "*" (SPEC §18.2),
// a provider is its ARN, and every provider of a kind is …/*.
func allSAMLProviders(echo.Context) []ram.Ref { return refs(ram.AllSAMLProvidersRef()) }
func allOIDCProviders(echo.Context) []ram.Ref { return refs(ram.AllOIDCProvidersRef()) }
func theSAMLProvider(c echo.Context) []ram.Ref {
	return refs(ram.SAMLProviderRef(c.Param("name")))
}
func theOIDCProvider(c echo.Context) []ram.Ref {
	return refs(ram.OIDCProviderRef(c.Param("name")))
}

// newSAMLProvider and newOIDCProvider: the provider the create form names
// (all of them while it names none), as the domain authorises it.
func newSAMLProvider(c echo.Context) []ram.Ref {
	if name := strings.TrimSpace(c.FormValue("name")); name != "" {
		return refs(ram.SAMLProviderRef(name))
	}
	return allSAMLProviders(c)
}

func newOIDCProvider(c echo.Context) []ram.Ref {
	if name := strings.TrimSpace(c.FormValue("name")); name != "" {
		return refs(ram.OIDCProviderRef(name))
	}
	return allOIDCProviders(c)
}

// ssoRoutes are the console's single sign-on pages (SPEC §18.2, §18.6):
// user-based SSO and the identity providers roles trust. "Get fingerprint"
// changes nothing; it is authorised as creating a provider.
func ssoRoutes(h *handlers.Handlers) []Route {
	get, post := http.MethodGet, http.MethodPost
	return []Route{
		{Method: get, Path: "/sso", Access: SignedIn, Handler: h.SSO, Action: ram.ActionGetUserSsoSettings, Resources: anyResource, Nav: "SSO"},
		{Method: get, Path: "/sso/user", Access: SignedIn, Handler: h.UserSSO, Action: ram.ActionGetUserSsoSettings, Resources: anyResource},
		{Method: post, Path: "/sso/user", Access: SignedIn, Handler: h.UserSSOSave, Action: ram.ActionSetUserSsoSettings, Resources: anyResource},

		{Method: get, Path: "/sso/saml-providers", Access: SignedIn, Handler: h.SAMLProvidersList, Action: ram.ActionListSAMLProviders, Resources: allSAMLProviders},
		{Method: get, Path: "/sso/saml-providers/new", Access: SignedIn, Handler: h.SAMLProviderNew, Action: ram.ActionCreateSAMLProvider, Resources: allSAMLProviders},
		{Method: post, Path: "/sso/saml-providers", Access: SignedIn, Handler: h.SAMLProviderCreate, Action: ram.ActionCreateSAMLProvider, Resources: newSAMLProvider},
		{Method: get, Path: "/sso/saml-providers/:name", Access: SignedIn, Handler: h.SAMLProviderShow, Action: ram.ActionGetSAMLProvider, Resources: theSAMLProvider},
		{Method: post, Path: "/sso/saml-providers/:name", Access: SignedIn, Handler: h.SAMLProviderUpdate, Action: ram.ActionUpdateSAMLProvider, Resources: theSAMLProvider},
		{Method: get, Path: "/sso/saml-providers/:name/delete", Access: SignedIn, Handler: h.SAMLProviderDeleteForm, Action: ram.ActionDeleteSAMLProvider, Resources: theSAMLProvider},
		{Method: post, Path: "/sso/saml-providers/:name/delete", Access: SignedIn, Handler: h.SAMLProviderDelete, Action: ram.ActionDeleteSAMLProvider, Resources: theSAMLProvider},

		{Method: get, Path: "/sso/oidc-providers", Access: SignedIn, Handler: h.OIDCProvidersList, Action: ram.ActionListOIDCProviders, Resources: allOIDCProviders},
		{Method: get, Path: "/sso/oidc-providers/new", Access: SignedIn, Handler: h.OIDCProviderNew, Action: ram.ActionCreateOIDCProvider, Resources: allOIDCProviders},
		{Method: post, Path: "/sso/oidc-providers", Access: SignedIn, Handler: h.OIDCProviderCreate, Action: ram.ActionCreateOIDCProvider, Resources: newOIDCProvider},
		{Method: post, Path: "/sso/oidc-providers/fingerprint", Access: SignedIn, Handler: h.OIDCProviderFingerprint, Action: ram.ActionCreateOIDCProvider, Resources: allOIDCProviders},
		{Method: get, Path: "/sso/oidc-providers/:name", Access: SignedIn, Handler: h.OIDCProviderShow, Action: ram.ActionGetOIDCProvider, Resources: theOIDCProvider},
		{Method: post, Path: "/sso/oidc-providers/:name", Access: SignedIn, Handler: h.OIDCProviderUpdate, Action: ram.ActionUpdateOIDCProvider, Resources: theOIDCProvider},
		{Method: get, Path: "/sso/oidc-providers/:name/delete", Access: SignedIn, Handler: h.OIDCProviderDeleteForm, Action: ram.ActionDeleteOIDCProvider, Resources: theOIDCProvider},
		{Method: post, Path: "/sso/oidc-providers/:name/delete", Access: SignedIn, Handler: h.OIDCProviderDelete, Action: ram.ActionDeleteOIDCProvider, Resources: theOIDCProvider},
	}
}

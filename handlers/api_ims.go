package handlers

import (
	"strings"

	"ramconsole/ram"
	"ramconsole/store"
)

// The IMS OpenAPI, version 2019-08-15, on the same listener and path as
// RAM's (SPEC §17.9): the OpenID provider's applications and their
// secrets, with the names and shapes of the SDK's services/ims. Each change
// is authorised and audited (eventSource oidc) by the domain service.

// IMSVersion is the IMS API version served.
const IMSVersion = "2019-08-15"

// imsActions are the IMS actions served.
var imsActions = map[string]apiAction{
	"CreateApplication": writeAction(apiCreateApplication, "AppName", "DisplayName", "AppType"),
	"GetApplication":    readAction(apiGetApplication, "AppId"),
	"ListApplications":  readAction(apiListApplications),
	"UpdateApplication": writeAction(apiUpdateApplication, "AppId"),
	"DeleteApplication": writeAction(apiDeleteApplication, "AppId"),
	"CreateAppSecret":   writeAction(apiCreateAppSecret, "AppId"),
	"GetAppSecret":      readAction(apiGetAppSecret, "AppId", "AppSecretId"),
	"ListAppSecretIds":  readAction(apiListAppSecretIDs, "AppId"),
	"DeleteAppSecret":   writeAction(apiDeleteAppSecret, "AppId", "AppSecretId"),
}

// IMSActions lists the IMS actions served (for docs and tests).
func IMSActions() []string {
	out := make([]string, 0, len(imsActions))
	for name := range imsActions {
		out = append(out, name)
	}
	return out
}

// imsScopeDescriptions describe the scopes an application may predefine.
var imsScopeDescriptions = map[string]string{
	"openid":         "Sign in with a RAM identity",
	"profile":        "Name and logon name",
	"email":          "E-mail address",
	"groups":         "Group names",
	"aliuid":         "Account and user IDs",
	"offline_access": "Refresh tokens",
}

type apiRedirectURIs struct {
	RedirectURI []string `json:"RedirectUri" xml:"RedirectUri"`
}

type apiPredefinedScope struct {
	Name        string
	Description string
	Required    bool
}

type apiPredefinedScopes struct {
	PredefinedScope []apiPredefinedScope
}

type apiDelegatedScope struct {
	PredefinedScopes apiPredefinedScopes
}

// apiApplication is IMS's Application.
type apiApplication struct {
	AppID                string `json:"AppId" xml:"AppId"`
	AppName              string
	DisplayName          string
	AppType              string
	AccountID            string `json:"AccountId" xml:"AccountId"`
	AppPrincipalName     string
	SecretRequired       bool
	AccessTokenValidity  int
	RefreshTokenValidity int
	IsMultiTenant        bool
	TenantID             string `json:"TenantId" xml:"TenantId"`
	RedirectUris         apiRedirectURIs
	DelegatedScope       apiDelegatedScope
	CreateDate           string
	UpdateDate           string
}

func toAPIApplication(a *ram.Application) apiApplication {
	out := apiApplication{AppID: a.AppID, AppName: a.AppName, DisplayName: a.DisplayName, AppType: a.AppType,
		AccountID: a.AccountID, SecretRequired: a.SecretRequired, AccessTokenValidity: a.AccessValidity,
		RefreshTokenValidity: a.RefreshValidity, CreateDate: apiDate(a.CreatedAt), UpdateDate: apiDate(a.UpdatedAt),
		RedirectUris:   apiRedirectURIs{RedirectURI: append(make([]string, 0, len(a.RedirectURIs)), a.RedirectURIs...)},
		DelegatedScope: apiDelegatedScope{PredefinedScopes: apiPredefinedScopes{PredefinedScope: make([]apiPredefinedScope, 0, len(a.Scopes))}}}
	required := map[string]bool{}
	for _, sc := range a.RequiredScopes {
		required[sc] = true
	}
	for _, sc := range a.Scopes {
		out.DelegatedScope.PredefinedScopes.PredefinedScope = append(out.DelegatedScope.PredefinedScopes.PredefinedScope,
			apiPredefinedScope{Name: sc, Description: imsScopeDescriptions[sc], Required: required[sc]})
	}
	return out
}

type applicationResponse struct {
	apiMeta
	Application apiApplication
}

type listApplicationsResponse struct {
	apiMeta
	Applications struct {
		Application []apiApplication
	}
}

// apiAppSecret is IMS's AppSecret; AppSecretValue only in CreateAppSecret's
// answer.
type apiAppSecret struct {
	AppID          string `json:"AppId" xml:"AppId"`
	AppSecretID    string `json:"AppSecretId" xml:"AppSecretId"`
	AppSecretValue string
	CreateDate     string
}

type appSecretResponse struct {
	apiMeta
	AppSecret apiAppSecret
}

type listAppSecretsResponse struct {
	apiMeta
	AppSecrets struct {
		AppSecret []apiAppSecret
	}
}

// semicolonList splits a semicolon-separated parameter (surrounding space
// and empty items dropped).
func semicolonList(s string) []string {
	out := []string{}
	for _, item := range strings.Split(s, ";") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// listOpt is an optional semicolon-separated parameter: nil when not sent.
func (p apiParams) listOpt(name string) *[]string {
	v, ok := p[name]
	if !ok {
		return nil
	}
	l := semicolonList(v)
	return &l
}

func apiCreateApplication(c *apiCall) (apiResponse, error) {
	secret, err := c.p.boolOpt("SecretRequired")
	if err != nil {
		return nil, err
	}
	if _, err := c.p.boolOpt("IsMultiTenant"); err != nil { // accepted; one account is never multi-tenant
		return nil, err
	}
	access, err := c.p.intOpt("AccessTokenValidity")
	if err != nil {
		return nil, err
	}
	refresh, err := c.p.intOpt("RefreshTokenValidity")
	if err != nil {
		return nil, err
	}
	in := ram.ApplicationInput{AppName: c.p["AppName"], DisplayName: c.p["DisplayName"], AppType: c.p["AppType"],
		RedirectURIs: semicolonList(c.p["RedirectUris"]), Scopes: semicolonList(c.p["PredefinedScopes"]),
		RequiredScopes: semicolonList(c.p["RequiredScopes"]), SecretRequired: secret != nil && *secret}
	if access != nil {
		in.AccessTokenValidity = *access
	}
	if refresh != nil {
		in.RefreshTokenValidity = *refresh
	}
	app, err := c.svc.CreateApplication(c.ctx, c.actor, in)
	if err != nil {
		return nil, err
	}
	return &applicationResponse{Application: toAPIApplication(app)}, nil
}

func apiGetApplication(c *apiCall) (apiResponse, error) {
	app, err := c.svc.GetApplication(c.ctx, c.actor, c.p["AppId"], true)
	if err != nil {
		return nil, err
	}
	return &applicationResponse{Application: toAPIApplication(app)}, nil
}

func apiListApplications(c *apiCall) (apiResponse, error) {
	apps, err := c.svc.ListApplications(c.ctx, c.actor)
	if err != nil {
		return nil, err
	}
	out := &listApplicationsResponse{}
	out.Applications.Application = make([]apiApplication, 0, len(apps))
	for i := range apps {
		out.Applications.Application = append(out.Applications.Application, toAPIApplication(&apps[i]))
	}
	return out, nil
}

func apiUpdateApplication(c *apiCall) (apiResponse, error) {
	secret, err := c.p.boolOpt("NewSecretRequired")
	if err != nil {
		return nil, err
	}
	if _, err := c.p.boolOpt("NewIsMultiTenant"); err != nil { // accepted; always false
		return nil, err
	}
	access, err := c.p.intOpt("NewAccessTokenValidity")
	if err != nil {
		return nil, err
	}
	refresh, err := c.p.intOpt("NewRefreshTokenValidity")
	if err != nil {
		return nil, err
	}
	upd := ram.ApplicationUpdate{DisplayName: c.p.opt("NewDisplayName"), RedirectURIs: c.p.listOpt("NewRedirectUris"),
		Scopes: c.p.listOpt("NewPredefinedScopes"), RequiredScopes: c.p.listOpt("NewRequiredScopes"), SecretRequired: secret,
		AccessTokenValidity: access, RefreshTokenValidity: refresh}
	app, err := c.svc.UpdateApplication(c.ctx, c.actor, c.p["AppId"], true, upd)
	if err != nil {
		return nil, err
	}
	return &applicationResponse{Application: toAPIApplication(app)}, nil
}

func apiDeleteApplication(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteApplication(c.ctx, c.actor, c.p["AppId"], true))
}

// apiCreateAppSecret is the one answer that carries an AppSecretValue.
func apiCreateAppSecret(c *apiCall) (apiResponse, error) {
	s, err := c.svc.CreateAppSecret(c.ctx, c.actor, c.p["AppId"], true)
	if err != nil {
		return nil, err
	}
	return &appSecretResponse{AppSecret: apiAppSecret{AppID: s.AppID, AppSecretID: s.SecretID, AppSecretValue: s.Value,
		CreateDate: apiDate(s.CreatedAt)}}, nil
}

func toAPIAppSecret(s *store.AppSecret) apiAppSecret {
	return apiAppSecret{AppID: s.AppID, AppSecretID: s.SecretID, CreateDate: apiDate(s.CreatedAt)}
}

func apiGetAppSecret(c *apiCall) (apiResponse, error) {
	s, err := c.svc.GetAppSecret(c.ctx, c.actor, c.p["AppId"], c.p["AppSecretId"])
	if err != nil {
		return nil, err
	}
	return &appSecretResponse{AppSecret: toAPIAppSecret(s)}, nil
}

func apiListAppSecretIDs(c *apiCall) (apiResponse, error) {
	_, secs, err := c.svc.ListAppSecrets(c.ctx, c.actor, c.p["AppId"], true)
	if err != nil {
		return nil, err
	}
	out := &listAppSecretsResponse{}
	out.AppSecrets.AppSecret = make([]apiAppSecret, 0, len(secs))
	for i := range secs {
		out.AppSecrets.AppSecret = append(out.AppSecrets.AppSecret, toAPIAppSecret(&secs[i]))
	}
	return out, nil
}

func apiDeleteAppSecret(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteAppSecret(c.ctx, c.actor, c.p["AppId"], true, c.p["AppSecretId"]))
}

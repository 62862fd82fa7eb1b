package handlers

import (
	"encoding/base64"
	"strconv"
	"strings"

	"ramconsole/ram"
)

// The IMS actions of federation (SPEC §18.2, §18.6): the user-based SSO
// setting and the SAML and OIDC identity providers of role-based SSO, with
// the names and shapes of the SDK's services/ims. Each is authorised and
// audited (eventSource ims) by the domain service.

// imsFederationActions are merged into imsActions.
var imsFederationActions = map[string]apiAction{
	"GetUserSsoSettings":                readAction(apiGetUserSsoSettings),
	"SetUserSsoSettings":                metadataAction(apiSetUserSsoSettings),
	"CreateSAMLProvider":                metadataAction(apiCreateSAMLProvider, "SAMLProviderName"),
	"GetSAMLProvider":                   readAction(apiGetSAMLProvider, "SAMLProviderName"),
	"ListSAMLProviders":                 readAction(apiListSAMLProviders),
	"UpdateSAMLProvider":                metadataAction(apiUpdateSAMLProvider, "SAMLProviderName"),
	"DeleteSAMLProvider":                writeAction(apiDeleteSAMLProvider, "SAMLProviderName"),
	"CreateOIDCProvider":                writeAction(apiCreateOIDCProvider, "OIDCProviderName", "IssuerUrl", "Fingerprints"),
	"GetOIDCProvider":                   readAction(apiGetOIDCProvider, "OIDCProviderName"),
	"ListOIDCProviders":                 readAction(apiListOIDCProviders),
	"UpdateOIDCProvider":                writeAction(apiUpdateOIDCProvider, "OIDCProviderName"),
	"DeleteOIDCProvider":                writeAction(apiDeleteOIDCProvider, "OIDCProviderName"),
	"AddClientIdToOIDCProvider":         writeAction(apiAddClientIDToOIDCProvider, "OIDCProviderName", "ClientId"),
	"RemoveClientIdFromOIDCProvider":    writeAction(apiRemoveClientIDFromOIDCProvider, "OIDCProviderName", "ClientId"),
	"AddFingerprintToOIDCProvider":      writeAction(apiAddFingerprintToOIDCProvider, "OIDCProviderName", "Fingerprint"),
	"RemoveFingerprintFromOIDCProvider": writeAction(apiRemoveFingerprintFromOIDCProvider, "OIDCProviderName", "Fingerprint"),
}

func init() {
	for name, action := range imsFederationActions {
		imsActions[name] = action
	}
}

// metadataAction is a write that hands its metadata parameters
// (documentParams, which the audit log records by SHA-256 only) to call.
func metadataAction(call func(c *apiCall, docs map[string]*string) (apiResponse, error), required ...string) apiAction {
	return writeAction(func(c *apiCall) (apiResponse, error) {
		docs := map[string]*string{}
		for name := range documentParams {
			if v, ok := c.p[name]; ok {
				docs[name] = &v
			}
		}
		return call(c, docs)
	}, required...)
}

// apiUserSsoSettings is IMS's UserSsoSettings, with SsoLoginWithDomain.
type apiUserSsoSettings struct {
	SsoEnabled         bool
	MetadataDocument   string
	AuxiliaryDomain    string
	SsoLoginWithDomain bool
}

type userSsoSettingsResponse struct {
	apiMeta
	UserSsoSettings apiUserSsoSettings
}

func toUserSsoSettings(u *ram.UserSSO) *userSsoSettingsResponse {
	s := u.Settings
	return &userSsoSettingsResponse{UserSsoSettings: apiUserSsoSettings{SsoEnabled: s.SsoEnabled, MetadataDocument: s.MetadataDocument,
		AuxiliaryDomain: s.AuxiliaryDomain, SsoLoginWithDomain: s.SsoLoginWithDomain}}
}

func apiGetUserSsoSettings(c *apiCall) (apiResponse, error) {
	u, err := c.svc.GetUserSSOSettings(c.ctx, c.actor)
	if err != nil {
		return nil, err
	}
	return toUserSsoSettings(u), nil
}

func apiSetUserSsoSettings(c *apiCall, docs map[string]*string) (apiResponse, error) {
	enabled, err := c.p.boolOpt("SsoEnabled")
	if err != nil {
		return nil, err
	}
	withDomain, err := c.p.boolOpt("SsoLoginWithDomain")
	if err != nil {
		return nil, err
	}
	u, err := c.svc.SetUserSSOSettings(c.ctx, c.actor, ram.UserSSOInput{SsoEnabled: enabled, MetadataDocument: docs["MetadataDocument"],
		AuxiliaryDomain: c.p.opt("AuxiliaryDomain"), SsoLoginWithDomain: withDomain})
	if err != nil {
		return nil, err
	}
	return toUserSsoSettings(u), nil
}

// apiSAMLProvider is IMS's SAMLProvider.
type apiSAMLProvider struct {
	Arn                         string
	SAMLProviderName            string
	Description                 string
	EncodedSAMLMetadataDocument string
	CreateDate                  string
	UpdateDate                  string
}

func toAPISAMLProvider(p *ram.SAMLProvider) apiSAMLProvider {
	return apiSAMLProvider{Arn: p.Arn, SAMLProviderName: p.Name, Description: p.Description,
		EncodedSAMLMetadataDocument: base64.StdEncoding.EncodeToString([]byte(p.Metadata)),
		CreateDate:                  apiDate(p.CreatedAt), UpdateDate: apiDate(p.UpdatedAt)}
}

type samlProviderResponse struct {
	apiMeta
	SAMLProvider apiSAMLProvider
}

type listSAMLProvidersResponse struct {
	apiMeta
	IsTruncated   bool
	Marker        string `json:",omitempty" xml:",omitempty"`
	SAMLProviders struct {
		SAMLProvider []apiSAMLProvider
	}
}

func samlProviderAnswer(p *ram.SAMLProvider, err error) (apiResponse, error) {
	if err != nil {
		return nil, err
	}
	return &samlProviderResponse{SAMLProvider: toAPISAMLProvider(p)}, nil
}

func apiCreateSAMLProvider(c *apiCall, docs map[string]*string) (apiResponse, error) {
	in := ram.SAMLProviderInput{Name: c.p["SAMLProviderName"], Description: c.p["Description"]}
	if d := docs["EncodedSAMLMetadataDocument"]; d != nil {
		in.EncodedMetadata = *d
	}
	if d := docs["SAMLMetadataDocument"]; d != nil {
		in.MetadataXML = *d
	}
	return samlProviderAnswer(c.svc.CreateSAMLProvider(c.ctx, c.actor, in))
}

func apiGetSAMLProvider(c *apiCall) (apiResponse, error) {
	return samlProviderAnswer(c.svc.GetSAMLProvider(c.ctx, c.actor, c.p["SAMLProviderName"]))
}

func apiListSAMLProviders(c *apiCall) (apiResponse, error) {
	n, err := maxItems(c.p)
	if err != nil {
		return nil, err
	}
	list, err := c.svc.ListSAMLProviders(c.ctx, c.actor)
	if err != nil {
		return nil, err
	}
	page, next, truncated, err := ram.ProviderPage(list, func(p *ram.SAMLProvider) string { return p.Name }, c.p["Marker"], n)
	if err != nil {
		return nil, err
	}
	out := &listSAMLProvidersResponse{IsTruncated: truncated, Marker: next}
	out.SAMLProviders.SAMLProvider = make([]apiSAMLProvider, 0, len(page))
	for i := range page {
		out.SAMLProviders.SAMLProvider = append(out.SAMLProviders.SAMLProvider, toAPISAMLProvider(&page[i]))
	}
	return out, nil
}

func apiUpdateSAMLProvider(c *apiCall, docs map[string]*string) (apiResponse, error) {
	upd := ram.SAMLProviderUpdate{EncodedMetadata: docs["NewEncodedSAMLMetadataDocument"], MetadataXML: docs["NewSAMLMetadataDocument"],
		Description: c.p.opt("NewDescription")}
	return samlProviderAnswer(c.svc.UpdateSAMLProvider(c.ctx, c.actor, c.p["SAMLProviderName"], upd))
}

func apiDeleteSAMLProvider(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteSAMLProvider(c.ctx, c.actor, c.p["SAMLProviderName"]))
}

// apiOIDCProvider is IMS's OIDCProvider: lists comma-separated, GmtCreate
// and GmtModified in milliseconds.
type apiOIDCProvider struct {
	Arn               string
	OIDCProviderName  string
	IssuerUrl         string
	ClientIds         string
	Fingerprints      string
	IssuanceLimitTime int
	Description       string
	CreateDate        string
	UpdateDate        string
	GmtCreate         string
	GmtModified       string
}

func toAPIOIDCProvider(p *ram.OIDCProvider) apiOIDCProvider {
	return apiOIDCProvider{Arn: p.Arn, OIDCProviderName: p.Name, IssuerUrl: p.IssuerURL, ClientIds: strings.Join(p.ClientIDs, ","),
		Fingerprints: strings.Join(p.Fingerprints, ","), IssuanceLimitTime: p.IssuanceLimitTime, Description: p.Description,
		CreateDate: apiDate(p.CreatedAt), UpdateDate: apiDate(p.UpdatedAt),
		GmtCreate: strconv.FormatInt(p.CreatedAt.UnixMilli(), 10), GmtModified: strconv.FormatInt(p.UpdatedAt.UnixMilli(), 10)}
}

type oidcProviderResponse struct {
	apiMeta
	OIDCProvider apiOIDCProvider
}

type listOIDCProvidersResponse struct {
	apiMeta
	IsTruncated   bool
	Marker        string `json:",omitempty" xml:",omitempty"`
	OIDCProviders struct {
		OIDCProvider []apiOIDCProvider
	}
}

func oidcProviderAnswer(p *ram.OIDCProvider, err error) (apiResponse, error) {
	if err != nil {
		return nil, err
	}
	return &oidcProviderResponse{OIDCProvider: toAPIOIDCProvider(p)}, nil
}

// commaList splits a comma-separated parameter (surrounding space and
// empty items dropped).
func commaList(s string) []string {
	out := []string{}
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// issuanceLimitTime reads IssuanceLimitTime (nil when not sent).
func issuanceLimitTime(p apiParams) (*int, error) {
	n, err := p.intOpt("IssuanceLimitTime")
	if err == nil && n != nil && *n == 0 {
		err = apiError("InvalidParameter.IssuanceLimitTime", "IssuanceLimitTime must be a number of hours from 1 to 168.")
	}
	return n, err
}

func apiCreateOIDCProvider(c *apiCall) (apiResponse, error) {
	limit, err := issuanceLimitTime(c.p)
	if err != nil {
		return nil, err
	}
	in := ram.OIDCProviderInput{Name: c.p["OIDCProviderName"], IssuerURL: c.p["IssuerUrl"], Description: c.p["Description"],
		ClientIDs: commaList(c.p["ClientIds"]), Fingerprints: commaList(c.p["Fingerprints"])}
	if limit != nil {
		in.IssuanceLimitTime = *limit
	}
	return oidcProviderAnswer(c.svc.CreateOIDCProvider(c.ctx, c.actor, in))
}

func apiGetOIDCProvider(c *apiCall) (apiResponse, error) {
	return oidcProviderAnswer(c.svc.GetOIDCProvider(c.ctx, c.actor, c.p["OIDCProviderName"]))
}

func apiListOIDCProviders(c *apiCall) (apiResponse, error) {
	n, err := maxItems(c.p)
	if err != nil {
		return nil, err
	}
	list, err := c.svc.ListOIDCProviders(c.ctx, c.actor)
	if err != nil {
		return nil, err
	}
	page, next, truncated, err := ram.ProviderPage(list, func(p *ram.OIDCProvider) string { return p.Name }, c.p["Marker"], n)
	if err != nil {
		return nil, err
	}
	out := &listOIDCProvidersResponse{IsTruncated: truncated, Marker: next}
	out.OIDCProviders.OIDCProvider = make([]apiOIDCProvider, 0, len(page))
	for i := range page {
		out.OIDCProviders.OIDCProvider = append(out.OIDCProviders.OIDCProvider, toAPIOIDCProvider(&page[i]))
	}
	return out, nil
}

func apiUpdateOIDCProvider(c *apiCall) (apiResponse, error) {
	limit, err := issuanceLimitTime(c.p)
	if err != nil {
		return nil, err
	}
	upd := ram.OIDCProviderUpdate{IssuanceLimitTime: limit, Description: c.p.opt("NewDescription")}
	if v, ok := c.p["ClientIds"]; ok {
		ids := commaList(v)
		upd.ClientIDs = &ids
	}
	return oidcProviderAnswer(c.svc.UpdateOIDCProvider(c.ctx, c.actor, c.p["OIDCProviderName"], upd))
}

func apiDeleteOIDCProvider(c *apiCall) (apiResponse, error) {
	return empty(c.svc.DeleteOIDCProvider(c.ctx, c.actor, c.p["OIDCProviderName"]))
}

func apiAddClientIDToOIDCProvider(c *apiCall) (apiResponse, error) {
	return oidcProviderAnswer(c.svc.AddClientIDToOIDCProvider(c.ctx, c.actor, c.p["OIDCProviderName"], c.p["ClientId"]))
}

func apiRemoveClientIDFromOIDCProvider(c *apiCall) (apiResponse, error) {
	return oidcProviderAnswer(c.svc.RemoveClientIDFromOIDCProvider(c.ctx, c.actor, c.p["OIDCProviderName"], c.p["ClientId"]))
}

func apiAddFingerprintToOIDCProvider(c *apiCall) (apiResponse, error) {
	return oidcProviderAnswer(c.svc.AddFingerprintToOIDCProvider(c.ctx, c.actor, c.p["OIDCProviderName"], c.p["Fingerprint"]))
}

func apiRemoveFingerprintFromOIDCProvider(c *apiCall) (apiResponse, error) {
	return oidcProviderAnswer(c.svc.RemoveFingerprintFromOIDCProvider(c.ctx, c.actor, c.p["OIDCProviderName"], c.p["Fingerprint"]))
}

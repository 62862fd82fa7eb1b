package handlers

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/ram/samlsp"
	"ramconsole/views"
)

// Single sign-on in the console (SPEC §18.2, §18.6): user-based SSO and
// the SAML and OIDC identity providers roles trust. The route table
// authorises each page with the ram: action of the domain call it makes;
// forms and buttons appear only where the viewer may use them, checked
// without recording anything.

func samlProviderHref(name string) string { return "/sso/saml-providers/" + url.PathEscape(name) }
func oidcProviderHref(name string) string { return "/sso/oidc-providers/" + url.PathEscape(name) }

// ssoTabs are the three tabs, current the one shown.
func ssoTabs(current string) []views.SSOTab {
	tabs := []views.SSOTab{{Title: "User-based SSO", Href: "/sso/user"}, {Title: "SAML providers", Href: "/sso/saml-providers"},
		{Title: "OIDC providers", Href: "/sso/oidc-providers"}}
	for i := range tabs {
		tabs[i].Current = tabs[i].Href == current
	}
	return tabs
}

// userSP and roleSP are the service provider addresses of SPEC §18.1,
// derived from the public URL (the issuer: --public-url, else the console's
// address).
func (h *Handlers) userSP() views.SPAddresses { return spAddresses(h.RAM.UserSAMLSP()) }

func (h *Handlers) roleSP() views.SPAddresses { return spAddresses(h.RAM.RoleSAMLSP()) }

// spAddresses shows a service provider: its entityID is its metadata URL.
func spAddresses(sp ram.SAMLServiceProvider) views.SPAddresses {
	return views.SPAddresses{MetadataURL: sp.EntityID, EntityID: sp.EntityID, ACSURL: sp.ACS}
}

// idpFacts is what the pages show of parsed metadata.
func (h *Handlers) idpFacts(c echo.Context, idp *samlsp.IDPMetadata) *views.IDPFacts {
	if idp == nil {
		return nil
	}
	f := &views.IDPFacts{EntityID: idp.EntityID, SSOURL: idp.SSOURLRedirect}
	if f.SSOURL == "" {
		f.SSOURL = idp.SSOURLPost
	}
	now := h.RAM.Now()
	for _, cert := range idp.Certificates {
		subject := cert.Subject.CommonName
		if subject == "" {
			subject = cert.Subject.String()
		}
		f.Certs = append(f.Certs, views.CertFact{Subject: subject, Expires: date(cert.NotAfter), Expired: now.After(cert.NotAfter)})
	}
	return f
}

// ssoFieldOf names the form field of a domain error's field or code: the
// domain names fields as IMS spells its parameters or as the form does.
func ssoFieldOf(key string) string {
	k := strings.ToLower(strings.ReplaceAll(key, "_", ""))
	k = strings.TrimPrefix(k, "invalidparameter.")
	k = strings.TrimPrefix(k, "entityalreadyexists.")
	k = strings.TrimPrefix(k, "limitexceeded.")
	k = strings.TrimPrefix(k, "new")
	k = strings.TrimPrefix(k, "encoded")
	switch {
	case strings.Contains(k, "metadata"):
		return "metadata"
	case k == "name" || strings.HasSuffix(k, "providername") || k == "samlprovider" || k == "oidcprovider":
		return "name"
	case k == "issuerurl" || k == "oidcprovider.url" || k == "url":
		return "issuer_url"
	case strings.HasPrefix(k, "clientid") || k == "oidcprovider.clientid":
		return "client_ids"
	case strings.HasPrefix(k, "fingerprint") || k == "oidcprovider.fingerprint":
		return "fingerprints"
	case k == "issuancelimittime":
		return "issuance_limit_time"
	case k == "description":
		return "description"
	case k == "auxiliarydomain":
		return "auxiliary_domain"
	case k == "ssoenabled":
		return "sso_enabled"
	case k == "ssologinwithdomain":
		return "sso_login_with_domain"
	}
	return ""
}

// ssoFormErrors turns a refusal caused by the input (invalid, taken, over
// a limit) into messages next to the fields of the form ("_": the form as
// a whole); ok is false for any other error.
func ssoFormErrors(err error) (map[string]string, bool) {
	e, ok := ram.AsError(err)
	if !ok || e.Kind != ram.EINVALID && e.Kind != ram.ECONFLICT && e.Kind != ram.ELIMIT {
		return nil, false
	}
	out := map[string]string{}
	put := func(field, msg string) {
		if field == "" {
			field = "_"
		}
		if out[field] == "" {
			out[field] = msg
		}
	}
	for k, msg := range e.Fields {
		put(ssoFieldOf(k), msg)
	}
	if len(out) == 0 {
		put(ssoFieldOf(e.Code), e.Message)
	}
	return out, true
}

// metadataInput is the posted metadata: the uploaded file when one is
// given, else the text area, whose line breaks a browser sends as CRLF:
// they are read as the LF the page showed, so that saving a form unchanged
// changes nothing (and ends no SSO session).
func metadataInput(c echo.Context) (string, error) {
	fh, err := c.FormFile("metadata_file")
	if err != nil || fh.Size == 0 {
		return strings.ReplaceAll(c.FormValue("metadata"), "\r\n", "\n"), nil
	}
	f, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, ram.MaxMetadataLength*4+1))
	return string(b), err
}

// splitLines is a text area's values, one a line (commas also separate),
// blanks dropped.
func splitLines(s string) []string {
	out := []string{}
	for _, v := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == ',' }) {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// SSO handles GET /sso: the first tab.
func (h *Handlers) SSO(c echo.Context) error { return redirect(c, "/sso/user") }

// UserSSO handles GET /sso/user.
func (h *Handlers) UserSSO(c echo.Context) error { return h.renderUserSSO(c, http.StatusOK, nil) }

// renderUserSSO shows the user-SSO tab; f is the form posted again (nil:
// the saved setting).
func (h *Handlers) renderUserSSO(c echo.Context, status int, f *views.Form) error {
	m := views.UserSSO{Layout: h.layout(c, "Single sign-on"), Tabs: ssoTabs("/sso/user"), SP: h.userSP(),
		Issuer:  views.Issuer{URL: h.RAM.Issuer(), Unset: !h.RAM.IssuerConfigured()},
		CanEdit: h.can(c, ram.ActionSetUserSsoSettings, ram.AnyRef())}
	saved := views.Form{Values: map[string]string{"sso_login_with_domain": "true"}}
	if h.can(c, ram.ActionGetUserSsoSettings, ram.AnyRef()) {
		s, err := h.RAM.GetUserSSOSettings(ctx(c), ActorOf(c))
		if err != nil {
			return err
		}
		m.Enabled, m.IDP = s.Settings.SsoEnabled, h.idpFacts(c, s.IDP)
		saved.Values = map[string]string{"sso_enabled": strconv.FormatBool(s.Settings.SsoEnabled), "metadata": s.MetadataXML,
			"auxiliary_domain": s.Settings.AuxiliaryDomain, "sso_login_with_domain": strconv.FormatBool(s.Settings.SsoLoginWithDomain)}
	} else {
		m.Denied = ram.ActionGetUserSsoSettings
	}
	m.Form = saved
	if f != nil {
		m.Form = *f
	}
	return Render(c, status, views.UserSSOPage(m))
}

// UserSSOSave handles POST /sso/user. The metadata is sent to the domain
// only when it differs from the saved one: saving it unchanged must not end
// the SSO sessions.
func (h *Handlers) UserSSOSave(c echo.Context) error {
	vals := form(c, "auxiliary_domain")
	meta, err := metadataInput(c)
	if err != nil {
		return err
	}
	enabled, withDomain := checked(c, "sso_enabled"), checked(c, "sso_login_with_domain")
	vals["metadata"], vals["sso_enabled"], vals["sso_login_with_domain"] = meta, strconv.FormatBool(enabled), strconv.FormatBool(withDomain)
	aux := strings.TrimSpace(vals["auxiliary_domain"])
	in := ram.UserSSOInput{SsoEnabled: &enabled, AuxiliaryDomain: &aux, SsoLoginWithDomain: &withDomain}
	if strings.TrimSpace(meta) != "" {
		same := false
		if h.can(c, ram.ActionGetUserSsoSettings, ram.AnyRef()) {
			if cur, err := h.RAM.GetUserSSOSettings(ctx(c), ActorOf(c)); err == nil {
				same = strings.TrimSpace(cur.MetadataXML) == strings.TrimSpace(meta)
			}
		}
		if !same {
			in.MetadataXML = &meta
		}
	}
	_, err = h.RAM.SetUserSSOSettings(ctx(c), ActorOf(c), in)
	if fields, ok := ssoFormErrors(err); ok {
		return h.renderUserSSO(c, http.StatusUnprocessableEntity, &views.Form{Values: vals, Errors: fields})
	}
	if err != nil {
		return err
	}
	msg := "Single sign-on settings saved: single sign-on is off."
	if enabled {
		msg = "Single sign-on settings saved: single sign-on is on, and RAM users sign in through the identity provider."
	}
	return flashDone(c, "/sso/user", msg)
}

// trustingRoles lists the roles whose trust policy names arn, where the
// viewer may list roles.
func (h *Handlers) trustingRoles(c echo.Context, arn string) (views.RoleLinks, error) {
	if !h.can(c, "ram:ListRoles", ram.AllRolesRef()) {
		return views.RoleLinks{Denied: "ram:ListRoles"}, nil
	}
	names, err := h.RAM.RolesTrustingProvider(ctx(c), ActorOf(c), arn)
	if err != nil {
		return views.RoleLinks{}, err
	}
	var out views.RoleLinks
	for _, n := range names {
		out.Roles = append(out.Roles, views.Link{Label: n, Href: roleHref(n)})
	}
	return out, nil
}

// SAMLProvidersList handles GET /sso/saml-providers.
func (h *Handlers) SAMLProvidersList(c echo.Context) error {
	ps, err := h.RAM.ListSAMLProviders(ctx(c), ActorOf(c))
	if err != nil {
		return err
	}
	m := views.Providers{Layout: h.layout(c, "SAML providers"), Tabs: ssoTabs("/sso/saml-providers"), Kind: "saml", RoleSP: h.roleSP(),
		Issuer:    views.Issuer{URL: h.RAM.Issuer(), Unset: !h.RAM.IssuerConfigured()},
		CanCreate: h.can(c, ram.ActionCreateSAMLProvider, ram.AllSAMLProvidersRef())}
	for _, p := range ps {
		row := views.ProviderRow{Name: p.Name, Href: samlProviderHref(p.Name), Arn: p.Arn, Description: p.Description, Updated: date(p.UpdatedAt)}
		if p.IDP != nil {
			row.Detail = p.IDP.EntityID
		}
		m.Rows = append(m.Rows, row)
	}
	return Render(c, http.StatusOK, views.ProvidersPage(m))
}

// SAMLProviderNew handles GET /sso/saml-providers/new.
func (h *Handlers) SAMLProviderNew(c echo.Context) error {
	return h.renderSAMLNew(c, http.StatusOK, views.Form{})
}

func (h *Handlers) renderSAMLNew(c echo.Context, status int, f views.Form) error {
	m := views.SAMLProviderForm{Layout: h.layout(c, "Create SAML provider"), Tabs: ssoTabs("/sso/saml-providers"), Form: f}
	return Render(c, status, views.SAMLProviderNewPage(m))
}

// SAMLProviderCreate handles POST /sso/saml-providers.
func (h *Handlers) SAMLProviderCreate(c echo.Context) error {
	vals := form(c, "name", "description")
	meta, err := metadataInput(c)
	if err != nil {
		return err
	}
	vals["metadata"] = meta
	p, err := h.RAM.CreateSAMLProvider(ctx(c), ActorOf(c), ram.SAMLProviderInput{Name: strings.TrimSpace(vals["name"]),
		Description: vals["description"], MetadataXML: meta})
	if fields, ok := ssoFormErrors(err); ok {
		return h.renderSAMLNew(c, formStatus(err), views.Form{Values: vals, Errors: fields})
	}
	if err != nil {
		return err
	}
	return flashDone(c, samlProviderHref(p.Name), "SAML provider "+p.Name+" created.")
}

// SAMLProviderShow handles GET /sso/saml-providers/:name.
func (h *Handlers) SAMLProviderShow(c echo.Context) error {
	return h.renderSAMLProvider(c, http.StatusOK, c.Param("name"), nil)
}

// renderSAMLProvider shows a provider's page; f is its edit form posted
// again (nil: the stored values).
func (h *Handlers) renderSAMLProvider(c echo.Context, status int, name string, f *views.Form) error {
	p, err := h.RAM.GetSAMLProvider(ctx(c), ActorOf(c), name)
	if err != nil {
		return err
	}
	ref, base := ram.SAMLProviderRef(p.Name), samlProviderHref(p.Name)
	m := views.SAMLProviderDetail{Layout: h.layout(c, "SAML provider "+p.Name), Tabs: ssoTabs("/sso/saml-providers"), Name: p.Name,
		Arn: p.Arn, Description: p.Description, IDP: h.idpFacts(c, p.IDP), Created: date(p.CreatedAt), Updated: date(p.UpdatedAt),
		CanEdit: h.can(c, ram.ActionUpdateSAMLProvider, ref), Action: base,
		Form: views.Form{Values: map[string]string{"description": p.Description, "metadata": p.Metadata}}}
	if h.can(c, ram.ActionDeleteSAMLProvider, ref) {
		m.DeleteHref = base + "/delete"
	}
	if f != nil {
		m.Form = *f
	}
	if m.Roles, err = h.trustingRoles(c, p.Arn); err != nil {
		return err
	}
	return Render(c, status, views.SAMLProviderPage(m))
}

// SAMLProviderUpdate handles POST /sso/saml-providers/:name: its
// description and metadata (the metadata only when changed).
func (h *Handlers) SAMLProviderUpdate(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, "description")
	meta, err := metadataInput(c)
	if err != nil {
		return err
	}
	vals["metadata"] = meta
	upd := ram.SAMLProviderUpdate{Description: ptr(vals["description"])}
	if strings.TrimSpace(meta) != "" {
		upd.MetadataXML = &meta
	}
	p, err := h.RAM.UpdateSAMLProvider(ctx(c), ActorOf(c), name, upd)
	if fields, ok := ssoFormErrors(err); ok {
		return h.renderSAMLProvider(c, formStatus(err), name, &views.Form{Values: vals, Errors: fields})
	}
	if err != nil {
		return err
	}
	return flashDone(c, samlProviderHref(p.Name), "SAML provider "+p.Name+" saved.")
}

// providerDeleteModel is the confirmation before deleting a provider.
func providerDeleteModel(kind, name, base, arn string) views.Confirm {
	return views.Confirm{Title: "Delete " + kind + " provider " + name + "?", Action: base + "/delete", Button: "Delete provider",
		Want: name, WantLabel: "Type the provider name to confirm", Back: base,
		Breaks: []string{
			"Nobody can assume a role through " + name + " any more, and every role session started through it ends at once.",
		},
		Notes: []string{"Trust policies that name " + arn + " stay; they match nothing until a provider of the same name is created again."}}
}

// SAMLProviderDeleteForm handles GET /sso/saml-providers/:name/delete.
func (h *Handlers) SAMLProviderDeleteForm(c echo.Context) error {
	p, err := h.RAM.GetSAMLProvider(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	return h.confirmPage(c, http.StatusOK, providerDeleteModel("SAML", p.Name, samlProviderHref(p.Name), p.Arn))
}

// SAMLProviderDelete handles POST /sso/saml-providers/:name/delete: with
// the provider's name typed again.
func (h *Handlers) SAMLProviderDelete(c echo.Context) error {
	name, typed := c.Param("name"), c.FormValue("confirm")
	if typed != name {
		p, err := h.RAM.GetSAMLProvider(ctx(c), ActorOf(c), name)
		if err != nil {
			return err
		}
		if typed != p.Name {
			m := providerDeleteModel("SAML", p.Name, samlProviderHref(p.Name), p.Arn)
			m.Form = views.Form{Values: map[string]string{"confirm": typed},
				Errors: map[string]string{"confirm": "Type the provider name exactly to confirm."}}
			return h.confirmPage(c, http.StatusUnprocessableEntity, m)
		}
		name = p.Name
	}
	if err := h.RAM.DeleteSAMLProvider(ctx(c), ActorOf(c), name); err != nil {
		return err
	}
	return flashDone(c, "/sso/saml-providers", "SAML provider "+name+" deleted: the role sessions started through it have ended.")
}

// OIDCProvidersList handles GET /sso/oidc-providers.
func (h *Handlers) OIDCProvidersList(c echo.Context) error {
	ps, err := h.RAM.ListOIDCProviders(ctx(c), ActorOf(c))
	if err != nil {
		return err
	}
	m := views.Providers{Layout: h.layout(c, "OIDC providers"), Tabs: ssoTabs("/sso/oidc-providers"), Kind: "oidc",
		CanCreate: h.can(c, ram.ActionCreateOIDCProvider, ram.AllOIDCProvidersRef())}
	for _, p := range ps {
		m.Rows = append(m.Rows, views.ProviderRow{Name: p.Name, Href: oidcProviderHref(p.Name), Arn: p.Arn, Detail: p.IssuerURL,
			Description: p.Description, Updated: date(p.UpdatedAt)})
	}
	return Render(c, http.StatusOK, views.ProvidersPage(m))
}

// oidcFields are the OIDC provider form's fields.
var oidcFields = []string{"name", "issuer_url", "client_ids", "fingerprints", "issuance_limit_time", "description"}

// OIDCProviderNew handles GET /sso/oidc-providers/new.
func (h *Handlers) OIDCProviderNew(c echo.Context) error {
	return h.renderOIDCNew(c, http.StatusOK, views.Form{Values: map[string]string{"client_ids": "sts.aliyuncs.com",
		"issuance_limit_time": strconv.Itoa(ram.DefaultIssuanceLimitTime)}}, "")
}

func (h *Handlers) renderOIDCNew(c echo.Context, status int, f views.Form, fingerprint string) error {
	m := views.OIDCProviderForm{Layout: h.layout(c, "Create OIDC provider"), Tabs: ssoTabs("/sso/oidc-providers"), Form: f,
		Fingerprint: fingerprint}
	return Render(c, status, views.OIDCProviderNewPage(m))
}

// hours reads the issuance limit: empty is 0 (the default) where emptyOK,
// anything but a whole number -1, which the domain refuses with the range.
func hours(s string, emptyOK bool) int {
	s = strings.TrimSpace(s)
	if s == "" && emptyOK {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// OIDCProviderCreate handles POST /sso/oidc-providers.
func (h *Handlers) OIDCProviderCreate(c echo.Context) error {
	vals := form(c, oidcFields...)
	in := ram.OIDCProviderInput{Name: strings.TrimSpace(vals["name"]), IssuerURL: strings.TrimSpace(vals["issuer_url"]),
		Description: vals["description"], ClientIDs: splitLines(vals["client_ids"]), Fingerprints: splitLines(vals["fingerprints"]),
		IssuanceLimitTime: hours(vals["issuance_limit_time"], true)}
	p, err := h.RAM.CreateOIDCProvider(ctx(c), ActorOf(c), in)
	if fields, ok := ssoFormErrors(err); ok {
		return h.renderOIDCNew(c, formStatus(err), views.Form{Values: vals, Errors: fields}, "")
	}
	if err != nil {
		return err
	}
	return flashDone(c, oidcProviderHref(p.Name), "OIDC provider "+p.Name+" created.")
}

// OIDCProviderShow handles GET /sso/oidc-providers/:name.
func (h *Handlers) OIDCProviderShow(c echo.Context) error {
	return h.renderOIDCProvider(c, http.StatusOK, c.Param("name"), nil, "")
}

func (h *Handlers) renderOIDCProvider(c echo.Context, status int, name string, f *views.Form, fingerprint string) error {
	p, err := h.RAM.GetOIDCProvider(ctx(c), ActorOf(c), name)
	if err != nil {
		return err
	}
	ref, base := ram.OIDCProviderRef(p.Name), oidcProviderHref(p.Name)
	m := views.OIDCProviderDetail{Layout: h.layout(c, "OIDC provider "+p.Name), Tabs: ssoTabs("/sso/oidc-providers"), Name: p.Name,
		Arn: p.Arn, IssuerURL: p.IssuerURL, Description: p.Description, ClientIDs: p.ClientIDs, Fingerprints: p.Fingerprints,
		IssuanceLimit: strconv.Itoa(p.IssuanceLimitTime) + " hours", Created: date(p.CreatedAt), Updated: date(p.UpdatedAt),
		CanEdit: h.can(c, ram.ActionUpdateOIDCProvider, ref), CanFingerprint: h.can(c, ram.ActionCreateOIDCProvider, ram.AllOIDCProvidersRef()),
		Action: base, Fingerprint: fingerprint,
		Form: views.Form{Values: map[string]string{"client_ids": strings.Join(p.ClientIDs, "\n"), "fingerprints": strings.Join(p.Fingerprints, "\n"),
			"issuance_limit_time": strconv.Itoa(p.IssuanceLimitTime), "description": p.Description}}}
	if h.can(c, ram.ActionDeleteOIDCProvider, ref) {
		m.DeleteHref = base + "/delete"
	}
	if f != nil {
		m.Form = *f
	}
	if m.Roles, err = h.trustingRoles(c, p.Arn); err != nil {
		return err
	}
	return Render(c, status, views.OIDCProviderPage(m))
}

// OIDCProviderUpdate handles POST /sso/oidc-providers/:name: client ids,
// fingerprints, the issuance limit and the description (the issuer URL
// never changes).
func (h *Handlers) OIDCProviderUpdate(c echo.Context) error {
	name := c.Param("name")
	vals := form(c, oidcFields...)
	ids, fps, limit := splitLines(vals["client_ids"]), splitLines(vals["fingerprints"]), hours(vals["issuance_limit_time"], false)
	upd := ram.OIDCProviderUpdate{ClientIDs: &ids, Fingerprints: &fps, IssuanceLimitTime: &limit, Description: ptr(vals["description"])}
	p, err := h.RAM.UpdateOIDCProvider(ctx(c), ActorOf(c), name, upd)
	if fields, ok := ssoFormErrors(err); ok {
		return h.renderOIDCProvider(c, formStatus(err), name, &views.Form{Values: vals, Errors: fields}, "")
	}
	if err != nil {
		return err
	}
	return flashDone(c, oidcProviderHref(p.Name), "OIDC provider "+p.Name+" saved.")
}

// OIDCProviderFingerprint handles POST /sso/oidc-providers/fingerprint:
// the form it came from again (a new provider's, or the named provider's
// edit form) with the fingerprint the issuer presents now, shown for the
// administrator to compare and never filled in. An issuer that cannot be
// reached is a message next to its URL.
func (h *Handlers) OIDCProviderFingerprint(c echo.Context) error {
	vals := form(c, oidcFields...)
	provider := c.FormValue("provider")
	fp, err := h.RAM.OIDCIssuerFingerprint(ctx(c), ActorOf(c), strings.TrimSpace(vals["issuer_url"]))
	status, f := http.StatusOK, views.Form{Values: vals}
	if err != nil {
		e, ok := ram.AsError(err)
		if ok && (e.Kind == ram.EFORBIDDEN || e.Kind == ram.EAUTH) {
			return err
		}
		msg := "The issuer could not be reached: " + err.Error()
		if ok {
			msg = e.Message
			if fields, _ := ssoFormErrors(err); fields["issuer_url"] != "" {
				msg = fields["issuer_url"]
			}
		}
		status, f.Errors = http.StatusUnprocessableEntity, map[string]string{"issuer_url": msg}
	}
	if provider != "" {
		if err != nil {
			f.Errors = map[string]string{"fingerprints": f.Errors["issuer_url"]}
		}
		return h.renderOIDCProvider(c, status, provider, &f, fp)
	}
	return h.renderOIDCNew(c, status, f, fp)
}

// OIDCProviderDeleteForm handles GET /sso/oidc-providers/:name/delete.
func (h *Handlers) OIDCProviderDeleteForm(c echo.Context) error {
	p, err := h.RAM.GetOIDCProvider(ctx(c), ActorOf(c), c.Param("name"))
	if err != nil {
		return err
	}
	return h.confirmPage(c, http.StatusOK, providerDeleteModel("OIDC", p.Name, oidcProviderHref(p.Name), p.Arn))
}

// OIDCProviderDelete handles POST /sso/oidc-providers/:name/delete: with
// the provider's name typed again.
func (h *Handlers) OIDCProviderDelete(c echo.Context) error {
	name, typed := c.Param("name"), c.FormValue("confirm")
	if typed != name {
		p, err := h.RAM.GetOIDCProvider(ctx(c), ActorOf(c), name)
		if err != nil {
			return err
		}
		if typed != p.Name {
			m := providerDeleteModel("OIDC", p.Name, oidcProviderHref(p.Name), p.Arn)
			m.Form = views.Form{Values: map[string]string{"confirm": typed},
				Errors: map[string]string{"confirm": "Type the provider name exactly to confirm."}}
			return h.confirmPage(c, http.StatusUnprocessableEntity, m)
		}
		name = p.Name
	}
	if err := h.RAM.DeleteOIDCProvider(ctx(c), ActorOf(c), name); err != nil {
		return err
	}
	return flashDone(c, "/sso/oidc-providers", "OIDC provider "+name+" deleted: the role sessions started through it have ended.")
}

// trustProviders are the identity providers the role form offers, those
// the viewer may list.
func (h *Handlers) trustProviders(c echo.Context) []views.Pick {
	var out []views.Pick
	if h.can(c, ram.ActionListSAMLProviders, ram.AllSAMLProvidersRef()) {
		ps, _ := h.RAM.ListSAMLProviders(ctx(c), ActorOf(c))
		for _, p := range ps {
			out = append(out, views.Pick{Value: "saml:" + p.Name, Label: "SAML: " + p.Name})
		}
	}
	if h.can(c, ram.ActionListOIDCProviders, ram.AllOIDCProvidersRef()) {
		ps, _ := h.RAM.ListOIDCProviders(ctx(c), ActorOf(c))
		for _, p := range ps {
			out = append(out, views.Pick{Value: "oidc:" + p.Name, Label: "OIDC: " + p.Name + " (" + p.IssuerURL + ")"})
		}
	}
	return out
}

// providerTrustPolicy writes the trust policy of the "an identity
// provider" preset (SPEC §18.6, §18.7): the provider as the Federated
// principal; for SAML the role SP's ACS as saml:recipient, for OIDC the
// issuer, one audience and the subjects (StringLike when they hold *).
// The message says what is missing.
func (h *Handlers) providerTrustPolicy(c echo.Context, vals map[string]string) (string, string) {
	kind, name, _ := strings.Cut(vals["preset_provider"], ":")
	st := trustStatement{Effect: "Allow", Action: "sts:AssumeRole"}
	switch kind {
	case "saml":
		p, err := h.RAM.GetSAMLProvider(ctx(c), ActorOf(c), name)
		if err != nil {
			return "", "Choose an identity provider you may read (ram:GetSAMLProvider)."
		}
		st.Principal = map[string][]string{"Federated": {p.Arn}}
		st.Condition = map[string]map[string]string{"StringEquals": {"saml:recipient": h.roleSP().ACSURL}}
	case "oidc":
		p, err := h.RAM.GetOIDCProvider(ctx(c), ActorOf(c), name)
		if err != nil {
			return "", "Choose an identity provider you may read (ram:GetOIDCProvider)."
		}
		aud, sub := strings.TrimSpace(vals["preset_oidc_aud"]), strings.TrimSpace(vals["preset_oidc_sub"])
		if aud == "" && len(p.ClientIDs) > 0 {
			aud = p.ClientIDs[0]
		}
		switch {
		case aud == "":
			return "", "Name the audience (client ID) the role accepts."
		case sub == "":
			return "", "Name the workloads that may assume the role (the token's sub): without it, any workload of the issuer could."
		}
		st.Principal = map[string][]string{"Federated": {p.Arn}}
		st.Condition = map[string]map[string]string{"StringEquals": {"oidc:iss": p.IssuerURL, "oidc:aud": aud}}
		if strings.Contains(sub, "*") {
			st.Condition["StringLike"] = map[string]string{"oidc:sub": sub}
		} else {
			st.Condition["StringEquals"]["oidc:sub"] = sub
		}
	default:
		return "", "Choose the identity provider."
	}
	doc := struct {
		Version   string
		Statement []trustStatement
	}{"1", []trustStatement{st}}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return string(b), ""
}

// trustWarning says what is risky in a trust policy: an Allow statement
// that trusts an OIDC provider without any oidc:sub condition lets every
// workload of that issuer assume the role.
func trustWarning(doc string) string {
	var d struct {
		Statement json.RawMessage
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return ""
	}
	type statement struct {
		Effect    string
		Principal struct{ Federated json.RawMessage }
		Condition map[string]map[string]json.RawMessage
	}
	var sts []statement
	if json.Unmarshal(d.Statement, &sts) != nil {
		var one statement
		if json.Unmarshal(d.Statement, &one) != nil {
			return ""
		}
		sts = []statement{one}
	}
	for _, st := range sts {
		if !strings.EqualFold(st.Effect, "Allow") || !namesOIDCProvider(st.Principal.Federated) {
			continue
		}
		hasSub := false
		for _, keys := range st.Condition {
			for k := range keys {
				hasSub = hasSub || strings.EqualFold(k, "oidc:sub")
			}
		}
		if !hasSub {
			return "This role trusts an OIDC provider without an oidc:sub condition: every workload the issuer gives a token to (any repository, any pipeline) can assume it. Add a condition on oidc:sub."
		}
	}
	return ""
}

// namesOIDCProvider reports whether a Federated principal (one ARN or a
// list) names an OIDC provider.
func namesOIDCProvider(raw json.RawMessage) bool {
	var arns []string
	if json.Unmarshal(raw, &arns) != nil {
		var one string
		if json.Unmarshal(raw, &one) != nil {
			return false
		}
		arns = []string{one}
	}
	for _, a := range arns {
		if strings.Contains(a, ":oidc-provider/") {
			return true
		}
	}
	return false
}

package web

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"ramconsole/ram"
	"ramconsole/ram/oidcfed/oidctest"
	"ramconsole/ram/samlsp/samltest"
)

// Single sign-on in the console, SPEC §18.2 and §18.6: user-based SSO with
// pasted and uploaded metadata, SAML and OIDC providers (create, edit,
// delete, the roles that trust them), "Get fingerprint", the role form's
// identity-provider preset, the trust warning, and who is refused.

// postMultipart posts fields as multipart/form-data with the last CSRF
// token seen, and the file as metadata_file when content is not nil.
func (b *browser) postMultipart(path string, fields url.Values, content []byte) page {
	b.h.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if fields.Get("csrf_token") == "" {
		_ = w.WriteField("csrf_token", b.csrf)
	}
	for k, vs := range fields {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	if content != nil {
		fw, _ := w.CreateFormFile("metadata_file", "idp-metadata.xml")
		_, _ = fw.Write(content)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.h.srv.URL+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

// testidText returns the text of the first element with data-testid id.
func testidText(body, id string) string {
	m := regexp.MustCompile(`data-testid="` + regexp.QuoteMeta(id) + `"[^>]*>([^<]*)<`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

func expectSSOFieldError(t *testing.T, p page, field, what string) {
	t.Helper()
	if p.status != http.StatusUnprocessableEntity || !strings.Contains(p.body, `data-testid="field-error" data-field="`+field+`"`) {
		t.Errorf("%s: %d, want 422 with a field-error on %s; body %.800s", what, p.status, field, p.body)
	}
}

func TestSSOConsoleUserSSOPastedAndUploaded(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	ctx := context.Background()

	expectRedirect(t, owner.get("/sso"), "/sso/user", "GET /sso")
	p := owner.get("/sso/user")
	expectStatus(t, p, http.StatusOK, "GET /sso/user")
	base := h.svc.Issuer()
	for id, want := range map[string]string{"sp-metadata-url": base + "/saml/metadata.xml", "sp-entity-id": base + "/saml/metadata.xml",
		"sp-acs-url": base + "/saml/acs"} {
		if got := testidText(p.body, id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	for _, want := range []string{`data-testid="public-url-warning"`, `enctype="multipart/form-data"`, `name="metadata_file"`,
		`name="csrf_token"`, `href="/sso/saml-providers"`, `href="/sso/oidc-providers"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the user SSO page lacks %q", want)
		}
	}

	// Pasted metadata, SSO on.
	idp := samltest.New(t, "https://idp.example.com/saml")
	f := url.Values{"sso_enabled": {"true"}, "metadata": {string(idp.Metadata())}, "auxiliary_domain": {"example.com"},
		"sso_login_with_domain": {"true"}}
	expectRedirect(t, owner.postMultipart("/sso/user", f, nil), "/sso/user", "save pasted metadata")
	p = owner.get("/sso/user")
	if got := testidText(p.body, "idp-entity-id"); got != idp.EntityID() {
		t.Errorf("idp-entity-id = %q, want %q", got, idp.EntityID())
	}
	if got := testidText(p.body, "idp-sso-url"); got != idp.SSOURL() {
		t.Errorf("idp-sso-url = %q, want %q", got, idp.SSOURL())
	}
	if got := testidText(p.body, "idp-cert-expiry"); !strings.HasPrefix(got, "2099-12-31") {
		t.Errorf("idp-cert-expiry = %q, want 2099-12-31…", got)
	}
	saved, err := h.svc.GetUserSSOSettings(ctx, rootActor())
	if err != nil {
		t.Fatal(err)
	}
	if !saved.Settings.SsoEnabled || saved.Settings.AuxiliaryDomain != "example.com" || !saved.Settings.SsoLoginWithDomain {
		t.Errorf("saved %+v", saved.Settings)
	}

	// Bad input: 422 next to the field, nothing changed.
	bad := []struct{ what, field, metadata, aux string }{
		{"not XML", "metadata", "<EntityDescriptor", "example.com"},
		{"a DTD", "metadata", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>` + string(idp.Metadata()), "example.com"},
		{"no IdP", "metadata", `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`, "example.com"},
		{"an auxiliary domain that is no DNS name", "auxiliary_domain", string(idp.Metadata()), "not a domain"},
	}
	for _, c := range bad {
		owner.get("/sso/user")
		other := samltest.New(t, "https://other.example.com/saml")
		meta := c.metadata
		if c.field == "auxiliary_domain" {
			meta = string(other.Metadata())
		}
		p := owner.postMultipart("/sso/user", url.Values{"sso_enabled": {"true"}, "metadata": {meta}, "auxiliary_domain": {c.aux},
			"sso_login_with_domain": {"true"}}, nil)
		expectSSOFieldError(t, p, c.field, c.what)
		now, err := h.svc.GetUserSSOSettings(ctx, rootActor())
		if err != nil {
			t.Fatal(err)
		}
		if now.Settings.MetadataDocument != saved.Settings.MetadataDocument || now.Settings.AuxiliaryDomain != "example.com" {
			t.Errorf("%s changed the setting", c.what)
		}
	}

	// An uploaded file wins over the text area.
	uploaded := samltest.New(t, "https://upload.example.com/saml")
	owner.get("/sso/user")
	f = url.Values{"sso_enabled": {"true"}, "metadata": {"not the metadata"}, "auxiliary_domain": {""}, "sso_login_with_domain": {"false"}}
	expectRedirect(t, owner.postMultipart("/sso/user", f, uploaded.Metadata()), "/sso/user", "upload metadata")
	p = owner.get("/sso/user")
	if got := testidText(p.body, "idp-entity-id"); got != uploaded.EntityID() {
		t.Errorf("after the upload idp-entity-id = %q, want %q", got, uploaded.EntityID())
	}
	now, err := h.svc.GetUserSSOSettings(ctx, rootActor())
	if err != nil {
		t.Fatal(err)
	}
	if now.Settings.SsoLoginWithDomain || now.Settings.AuxiliaryDomain != "" || !strings.Contains(now.MetadataXML, uploaded.EntityID()) {
		t.Errorf("after the upload: %+v", now.Settings)
	}

	// Off again, the metadata kept.
	owner.get("/sso/user")
	expectRedirect(t, owner.postMultipart("/sso/user", url.Values{"metadata": {now.MetadataXML}, "sso_login_with_domain": {"true"}}, nil),
		"/sso/user", "turn SSO off")
	if off, _ := h.svc.GetUserSSOSettings(ctx, rootActor()); off == nil || off.Settings.SsoEnabled || off.IDP == nil {
		t.Errorf("after turning SSO off: %+v", off)
	}
}

// createRoleWithPreset creates a role through the role form's identity
// provider preset and returns its trust policy as the role page shows it,
// with the page.
func createRoleWithPreset(t *testing.T, b *browser, name string, f url.Values) (map[string]any, page) {
	t.Helper()
	b.get("/roles/new")
	f.Set("name", name)
	f.Set("preset", "provider")
	f.Set("max_session_duration", "3600")
	expectRedirect(t, b.post("/roles", f), "/roles/"+name, "create role "+name)
	p := b.get("/roles/" + name)
	var doc map[string]any
	if err := json.Unmarshal([]byte(testidText(p.body, "trust-policy")), &doc); err != nil {
		t.Fatalf("the trust policy of %s does not parse: %v", name, err)
	}
	return doc, p
}

func TestSSOConsoleSAMLProviderJourney(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	idp := samltest.New(t, "https://idp.example.com/saml")

	p := owner.get("/sso/saml-providers")
	expectStatus(t, p, http.StatusOK, "GET /sso/saml-providers")
	if !strings.Contains(p.body, `data-testid="saml-providers-table"`) || !strings.Contains(p.body, h.svc.Issuer()+"/saml-role/sso") {
		t.Errorf("the SAML providers page lacks its table or the role ACS")
	}
	expectStatus(t, owner.get("/sso/saml-providers/new"), http.StatusOK, "the create form")
	expectSSOFieldError(t, owner.postMultipart("/sso/saml-providers", url.Values{"name": {"-bad"}, "metadata": {string(idp.Metadata())}}, nil),
		"name", "a bad name")
	expectSSOFieldError(t, owner.postMultipart("/sso/saml-providers", url.Values{"name": {"corp"}, "metadata": {"<x/>"}}, nil), "metadata", "bad metadata")
	xss := `<script>alert(1)</script>`
	owner.get("/sso/saml-providers/new")
	expectRedirect(t, owner.postMultipart("/sso/saml-providers", url.Values{"name": {"corp"}, "description": {xss}}, idp.Metadata()),
		"/sso/saml-providers/corp", "create corp from a file")
	p = owner.get("/sso/saml-providers/corp")
	arn := ram.SAMLProviderARN(acct, "corp")
	if got := testidText(p.body, "provider-arn"); got != arn {
		t.Errorf("provider-arn = %q, want %q", got, arn)
	}
	if testidText(p.body, "idp-entity-id") != idp.EntityID() || !strings.Contains(p.body, `data-testid="trusting-roles-none"`) {
		t.Errorf("the provider page lacks its entity ID or says roles trust it")
	}
	if strings.Contains(p.body, xss) || !strings.Contains(p.body, html.EscapeString(xss)) {
		t.Errorf("the description is not escaped")
	}
	owner.get("/sso/saml-providers/new")
	expectStatus(t, owner.postMultipart("/sso/saml-providers", url.Values{"name": {"CORP"}, "metadata": {string(idp.Metadata())}}, nil),
		http.StatusConflict, "a name taken in another case")
	p = owner.get("/sso/saml-providers")
	if !strings.Contains(p.body, `data-provider="corp"`) || !strings.Contains(p.body, idp.EntityID()) {
		t.Errorf("the list lacks corp")
	}

	// A role trusting it, through the preset.
	doc, _ := createRoleWithPreset(t, owner, "sso-admin", url.Values{"preset_provider": {"saml:corp"}})
	st := doc["Statement"].([]any)[0].(map[string]any)
	if fed := st["Principal"].(map[string]any)["Federated"].([]any); len(fed) != 1 || fed[0] != arn {
		t.Errorf("Federated = %v, want [%s]", fed, arn)
	}
	if rec := st["Condition"].(map[string]any)["StringEquals"].(map[string]any)["saml:recipient"]; rec != h.svc.Issuer()+"/saml-role/sso" {
		t.Errorf("saml:recipient = %v", rec)
	}
	p = owner.get("/sso/saml-providers/corp")
	if !strings.Contains(p.body, `data-testid="trusting-roles"`) || !strings.Contains(p.body, `href="/roles/sso-admin"`) {
		t.Errorf("the provider page does not list sso-admin")
	}

	// Edit: description and new metadata; bad metadata changes nothing.
	next := samltest.New(t, "https://idp2.example.com/saml")
	expectRedirect(t, owner.postMultipart("/sso/saml-providers/corp", url.Values{"description": {"Corporate IdP"}, "metadata": {string(next.Metadata())}}, nil),
		"/sso/saml-providers/corp", "edit corp")
	p = owner.get("/sso/saml-providers/corp")
	if testidText(p.body, "provider-description") != "Corporate IdP" || testidText(p.body, "idp-entity-id") != next.EntityID() {
		t.Errorf("the edit did not show")
	}
	expectSSOFieldError(t, owner.postMultipart("/sso/saml-providers/corp", url.Values{"description": {"x"}, "metadata": {"<broken"}}, nil),
		"metadata", "edit with bad metadata")
	if p := owner.get("/sso/saml-providers/corp"); testidText(p.body, "provider-description") != "Corporate IdP" {
		t.Errorf("a refused edit changed the description")
	}

	// Unknown: 404. Delete: typed name, then gone.
	expectStatus(t, owner.get("/sso/saml-providers/nobody"), http.StatusNotFound, "an unknown provider")
	expectStatus(t, owner.get("/sso/saml-providers/corp/delete"), http.StatusOK, "the delete confirmation")
	expectStatus(t, owner.post("/sso/saml-providers/corp/delete", url.Values{"confirm": {"cor"}}), http.StatusUnprocessableEntity, "a wrong name")
	owner.get("/sso/saml-providers/corp/delete")
	expectRedirect(t, owner.post("/sso/saml-providers/corp/delete", url.Values{"confirm": {"corp"}}), "/sso/saml-providers", "delete corp")
	if p := owner.get("/sso/saml-providers"); strings.Contains(p.body, `data-provider="corp"`) {
		t.Errorf("corp is still listed")
	}
	expectStatus(t, owner.get("/sso/saml-providers/corp"), http.StatusNotFound, "a deleted provider")
}

func TestSSOConsoleOIDCProviderJourney(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	acct := h.accountID()
	iss := oidctest.NewIssuer(t)

	p := owner.get("/sso/oidc-providers")
	expectStatus(t, p, http.StatusOK, "GET /sso/oidc-providers")
	if !strings.Contains(p.body, `data-testid="oidc-providers-table"`) {
		t.Errorf("the OIDC providers page lacks its table")
	}
	p = owner.get("/sso/oidc-providers/new")
	if !strings.Contains(p.body, `formaction="/sso/oidc-providers/fingerprint"`) {
		t.Errorf("the create form lacks Get fingerprint")
	}

	// Get fingerprint: shown to compare, never filled in.
	f := url.Values{"name": {"ci"}, "issuer_url": {iss.URL()}, "client_ids": {"sts.aliyuncs.com"}, "fingerprints": {""}, "issuance_limit_time": {"12"}}
	p = owner.post("/sso/oidc-providers/fingerprint", f)
	expectStatus(t, p, http.StatusOK, "Get fingerprint")
	if got := testidText(p.body, "fingerprint-value"); got != iss.Fingerprint() {
		t.Errorf("fingerprint-value = %q, want %q", got, iss.Fingerprint())
	}
	if strings.Contains(p.body, `name="fingerprints" rows="3" class="code" spellcheck="false">`+iss.Fingerprint()) {
		t.Errorf("the fingerprint was filled in")
	}
	if !strings.Contains(p.body, `value="ci"`) {
		t.Errorf("the form lost its values")
	}
	p = owner.post("/sso/oidc-providers/fingerprint", url.Values{"issuer_url": {"https://127.0.0.1:1"}})
	expectSSOFieldError(t, p, "issuer_url", "an unreachable issuer")

	// Create, with bad input first.
	bad := map[string]url.Values{
		"issuer_url":          {"issuer_url": {"http://plain.example.com"}},
		"fingerprints":        {"fingerprints": {"abc"}},
		"issuance_limit_time": {"issuance_limit_time": {"500"}},
		"client_ids":          {"client_ids": {"-bad"}},
	}
	for field, set := range bad {
		g := url.Values{"name": {"ci"}, "issuer_url": {iss.URL()}, "client_ids": {"sts.aliyuncs.com"}, "fingerprints": {iss.Fingerprint()},
			"issuance_limit_time": {"12"}}
		for k, v := range set {
			g[k] = v
		}
		owner.get("/sso/oidc-providers/new")
		expectSSOFieldError(t, owner.post("/sso/oidc-providers", g), field, "bad "+field)
	}
	f.Set("fingerprints", strings.ToUpper(iss.Fingerprint()))
	f.Set("client_ids", "sts.aliyuncs.com\nother-client")
	owner.get("/sso/oidc-providers/new")
	expectRedirect(t, owner.post("/sso/oidc-providers", f), "/sso/oidc-providers/ci", "create ci")
	p = owner.get("/sso/oidc-providers/ci")
	arn := ram.OIDCProviderARN(acct, "ci")
	if testidText(p.body, "provider-arn") != arn || testidText(p.body, "provider-issuer") != iss.URL() ||
		!strings.Contains(p.body, "<code>"+iss.Fingerprint()+"</code>") || !strings.Contains(p.body, "<code>other-client</code>") {
		t.Errorf("the provider page lacks its facts: %.1500s", p.body)
	}
	if p := owner.get("/sso/oidc-providers"); !strings.Contains(p.body, `data-provider="ci"`) || !strings.Contains(p.body, iss.URL()) {
		t.Errorf("the list lacks ci")
	}

	// Edit: client ids, issuance limit, description; the issuer stays.
	owner.get("/sso/oidc-providers/ci")
	expectRedirect(t, owner.post("/sso/oidc-providers/ci", url.Values{"client_ids": {"sts.aliyuncs.com"}, "fingerprints": {iss.Fingerprint()},
		"issuance_limit_time": {"24"}, "description": {"CI jobs"}, "issuer_url": {"https://changed.example.com"}}), "/sso/oidc-providers/ci", "edit ci")
	got, err := h.svc.GetOIDCProvider(context.Background(), rootActor(), "ci")
	if err != nil {
		t.Fatal(err)
	}
	if got.IssuerURL != iss.URL() || len(got.ClientIDs) != 1 || got.IssuanceLimitTime != 24 || got.Description != "CI jobs" {
		t.Errorf("after the edit: %+v", got.OIDCProvider)
	}
	expectSSOFieldError(t, owner.post("/sso/oidc-providers/ci", url.Values{"client_ids": {"sts.aliyuncs.com"}, "fingerprints": {""},
		"issuance_limit_time": {"24"}}), "fingerprints", "edit without fingerprints")
	// Get fingerprint from the provider's page.
	p = owner.post("/sso/oidc-providers/fingerprint", url.Values{"issuer_url": {iss.URL()}, "provider": {"ci"}, "client_ids": {"sts.aliyuncs.com"},
		"fingerprints": {iss.Fingerprint()}, "issuance_limit_time": {"24"}})
	if p.status != http.StatusOK || testidText(p.body, "fingerprint-value") != iss.Fingerprint() || testidText(p.body, "provider-name") != "ci" {
		t.Errorf("Get fingerprint on the provider's page: %d", p.status)
	}

	// The preset: iss, aud, sub (StringLike with *), no warning.
	doc, rp := createRoleWithPreset(t, owner, "deployer", url.Values{"preset_provider": {"oidc:ci"}, "preset_oidc_sub": {"repo:example/app:*"}})
	st := doc["Statement"].([]any)[0].(map[string]any)
	cond := st["Condition"].(map[string]any)
	eq, like := cond["StringEquals"].(map[string]any), cond["StringLike"].(map[string]any)
	if st["Principal"].(map[string]any)["Federated"].([]any)[0] != arn || eq["oidc:iss"] != iss.URL() || eq["oidc:aud"] != "sts.aliyuncs.com" ||
		like["oidc:sub"] != "repo:example/app:*" {
		t.Errorf("the preset wrote %v", doc)
	}
	if strings.Contains(rp.body, `data-testid="trust-warning"`) {
		t.Errorf("a trust with oidc:sub is warned about")
	}
	doc, _ = createRoleWithPreset(t, owner, "exact", url.Values{"preset_provider": {"oidc:ci"}, "preset_oidc_sub": {"system:serviceaccount:ns:app"},
		"preset_oidc_aud": {"sts.aliyuncs.com"}})
	if eq := doc["Statement"].([]any)[0].(map[string]any)["Condition"].(map[string]any)["StringEquals"].(map[string]any); eq["oidc:sub"] != "system:serviceaccount:ns:app" {
		t.Errorf("a sub without * is not StringEquals: %v", doc)
	}
	owner.get("/roles/new")
	expectStatus(t, owner.post("/roles", url.Values{"name": {"nosub"}, "preset": {"provider"}, "preset_provider": {"oidc:ci"},
		"max_session_duration": {"3600"}}), http.StatusUnprocessableEntity, "the preset without a sub")

	// A trust policy written by hand without oidc:sub is warned about.
	owner.get("/roles/new")
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":"` + arn +
		`"},"Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com"}}}]}`
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"wide"}, "preset": {"custom"}, "trust_policy": {trust}, "max_session_duration": {"3600"}}),
		"/roles/wide", "create wide")
	if p := owner.get("/roles/wide"); !strings.Contains(p.body, `data-testid="trust-warning"`) {
		t.Errorf("no trust warning for a trust without oidc:sub")
	}
	if p := owner.get("/sso/oidc-providers/ci"); !strings.Contains(p.body, `href="/roles/deployer"`) || !strings.Contains(p.body, `href="/roles/wide"`) {
		t.Errorf("the provider page does not list the roles that trust it")
	}

	// Delete.
	expectStatus(t, owner.get("/sso/oidc-providers/nobody"), http.StatusNotFound, "an unknown provider")
	owner.get("/sso/oidc-providers/ci/delete")
	expectStatus(t, owner.post("/sso/oidc-providers/ci/delete", url.Values{"confirm": {"CI"}}), http.StatusUnprocessableEntity, "a wrong name")
	owner.get("/sso/oidc-providers/ci/delete")
	expectRedirect(t, owner.post("/sso/oidc-providers/ci/delete", url.Values{"confirm": {"ci"}}), "/sso/oidc-providers", "delete ci")
	expectStatus(t, owner.get("/sso/oidc-providers/ci"), http.StatusNotFound, "a deleted provider")
}

func TestSSOConsoleRefusals(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	nobody := h.ramUser(owner, "nobody", nil, nil)
	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	owner = h.signIn(h.ownerSecret)
	idp := samltest.New(t, "https://idp.example.com/saml")
	owner.get("/sso/saml-providers/new")
	expectRedirect(t, owner.postMultipart("/sso/saml-providers", url.Values{"name": {"corp"}, "metadata": {string(idp.Metadata())}}, nil),
		"/sso/saml-providers/corp", "create corp")

	for _, path := range []string{"/sso", "/sso/user", "/sso/saml-providers", "/sso/saml-providers/corp", "/sso/oidc-providers"} {
		p := nobody.get(path)
		if p.status != http.StatusForbidden || !strings.Contains(p.body, "Access denied") {
			t.Errorf("GET %s without permission: %d, want the denied page", path, p.status)
		}
	}
	nobody.get("/me")
	expectStatus(t, nobody.postMultipart("/sso/user", url.Values{"sso_enabled": {"true"}, "metadata": {string(idp.Metadata())}}, nil),
		http.StatusForbidden, "POST /sso/user without permission")
	if s, _ := h.svc.GetUserSSOSettings(context.Background(), rootActor()); s == nil || s.Settings.SsoEnabled || s.IDP != nil {
		t.Errorf("a refused POST /sso/user changed the setting")
	}
	if p := nobody.get("/me"); strings.Contains(p.body, `href="/sso"`) {
		t.Errorf("the navigation offers SSO to a user without permission")
	}

	// Read only: every page, no form that changes anything.
	for _, path := range []string{"/sso/user", "/sso/saml-providers", "/sso/saml-providers/corp", "/sso/oidc-providers"} {
		p := reader.get(path)
		expectStatus(t, p, http.StatusOK, "GET "+path+" read only")
		if strings.Contains(p.body, `method="post" action="/sso`) || strings.Contains(p.body, "formaction=") {
			t.Errorf("GET %s offers the read-only user a change", path)
		}
	}
	if p := reader.get("/me"); !strings.Contains(p.body, `href="/sso"`) {
		t.Errorf("the navigation lacks SSO for a reader")
	}
	expectStatus(t, reader.get("/sso/saml-providers/new"), http.StatusForbidden, "the create form read only")
}

// ssoTestMetadata is the metadata of a test identity provider.
func ssoTestMetadata(t *testing.T) string {
	return string(samltest.New(t, "https://idp.example.com/saml").Metadata())
}

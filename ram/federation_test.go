package ram

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"ramconsole/ram/samlsp/samltest"
	"ramconsole/store"
)

// The user SSO setting and the identity providers of federation (SPEC
// §18.2, §18.6): their rules, limits, authorisation and audit.

// wantCode fails unless err is a domain error of code, or nil for "".
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	e, ok := AsError(err)
	switch {
	case code == "" && err != nil:
		t.Errorf("%s: %v, want success", what, err)
	case code != "" && (!ok || e.Code != code):
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

// idpMetadata is a usable IdP metadata document.
func idpMetadata(t *testing.T, host string) string {
	t.Helper()
	return string(samltest.New(t, "https://"+host).Metadata())
}

// badMetadata are documents every metadata check refuses.
func badMetadata(good string) map[string]string {
	return map[string]string{
		"not XML":        "hello",
		"a DTD":          `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>` + strings.TrimPrefix(good, `<?xml version="1.0" encoding="UTF-8"?>`),
		"no IdP":         `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://x"/>`,
		"too long":       good + "<!--" + strings.Repeat("x", MaxMetadataLength) + "-->",
		"no signing key": strings.ReplaceAll(good, "X509Certificate>", "X509Certificat>"),
	}
}

func TestFederationUserSSOSettings(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	get := func() *UserSSO {
		t.Helper()
		u, err := e.svc.GetUserSSOSettings(e.ctx, e.owner)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	if u := get(); u.Settings.SsoEnabled || u.Settings.MetadataDocument != "" || !u.Settings.SsoLoginWithDomain || u.IDP != nil {
		t.Fatalf("default: %+v", u.Settings)
	}
	set := func(in UserSSOInput) error { return ignore(e.svc.SetUserSSOSettings(e.ctx, e.owner, in)) }

	// SSO needs metadata; bad metadata and domains change nothing.
	wantCode(t, "SSO on without metadata", set(UserSSOInput{SsoEnabled: ptr(true)}), "InvalidParameter.MetadataDocument")
	good := idpMetadata(t, "idp.example.com")
	for what, doc := range badMetadata(good) {
		wantCode(t, "metadata: "+what, set(UserSSOInput{MetadataDocument: ptr(base64.StdEncoding.EncodeToString([]byte(doc)))}), "InvalidParameter.MetadataDocument")
		wantCode(t, "metadata XML: "+what, set(UserSSOInput{MetadataXML: ptr(doc)}), "InvalidParameter.MetadataDocument")
	}
	wantCode(t, "metadata not Base64", set(UserSSOInput{MetadataDocument: ptr("<xml/>")}), "InvalidParameter.MetadataDocument")
	for _, d := range []string{"example", "-a.example.com", "a..com", "a_b.com", strings.Repeat("a.", 128) + "com", "exa mple.com"} {
		wantCode(t, "auxiliary domain "+d, set(UserSSOInput{AuxiliaryDomain: ptr(d)}), "InvalidParameter.AuxiliaryDomain")
	}
	if u := get(); u.Settings.MetadataDocument != "" || u.Settings.AuxiliaryDomain != "" {
		t.Fatalf("a refused change changed the setting: %+v", u.Settings)
	}
	if ev := e.events()[0]; ev.EventName != "SetUserSsoSettings" || ev.ErrorCode != "InvalidParameter.AuxiliaryDomain" {
		t.Errorf("the refusal's event: %s %s", ev.EventName, ev.ErrorCode)
	}

	// Base64 with line breaks is answered exactly as set.
	b64 := base64.StdEncoding.EncodeToString([]byte(good))
	wrapped := b64[:76] + "\n" + b64[76:]
	u, err := e.svc.SetUserSSOSettings(e.ctx, e.owner, UserSSOInput{SsoEnabled: ptr(true), MetadataDocument: &wrapped,
		AuxiliaryDomain: ptr("corp.example.com"), SsoLoginWithDomain: ptr(false)})
	if err != nil {
		t.Fatal(err)
	}
	if u.IDP == nil || u.IDP.EntityID != "https://idp.example.com/metadata" || u.MetadataXML != good {
		t.Errorf("parsed metadata: %+v", u.IDP)
	}
	// Absent parameters keep their value.
	if err := set(UserSSOInput{AuxiliaryDomain: ptr("Other.example.org")}); err != nil {
		t.Fatal(err)
	}
	u = get()
	if !u.Settings.SsoEnabled || u.Settings.MetadataDocument != wrapped || u.Settings.AuxiliaryDomain != "Other.example.org" ||
		u.Settings.SsoLoginWithDomain || u.IDP == nil {
		t.Errorf("after changing the domain only: %+v", u.Settings)
	}
	// Metadata cannot be removed while SSO is on; turning SSO off first can.
	wantCode(t, "removing the metadata while on", set(UserSSOInput{MetadataDocument: ptr("")}), "InvalidParameter.MetadataDocument")
	if err := set(UserSSOInput{SsoEnabled: ptr(false), MetadataXML: ptr(good)}); err != nil {
		t.Fatal(err)
	}
	if u := get(); u.Settings.SsoEnabled || u.Settings.MetadataDocument != b64 {
		t.Errorf("metadata given as XML is kept as Base64: %+v", u.Settings)
	}

	// The audit records the metadata by its digest, never verbatim; IMS
	// calls with eventSource ims.
	api := e.owner
	api.API = true
	if _, err := e.svc.SetUserSSOSettings(e.ctx, api, UserSSOInput{SsoEnabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	ev := e.events()[0]
	if ev.EventSource != "ims" || ev.EventType != EventAPICall || ev.EventName != "SetUserSsoSettings" || ev.RequestParameters["MetadataSha256"] != metadataDigest(good) {
		t.Errorf("event: %s %s %s %v", ev.EventSource, ev.EventType, ev.EventName, ev.RequestParameters)
	}
	for _, ev := range e.events() {
		if b, _ := json.Marshal(ev); strings.Contains(string(b), "X509Certificate") || strings.Contains(string(b), b64[:40]) {
			t.Errorf("event %s records the metadata verbatim", ev.EventName)
		}
	}

	// Someone without ram:SetUserSsoSettings is refused.
	reader := e.granted(t, "sso-reader", doc(allow([]string{"*"}, ActionGetUserSsoSettings)))
	if _, err := e.svc.GetUserSSOSettings(e.ctx, reader); err != nil {
		t.Errorf("reader: %v", err)
	}
	wantCode(t, "set without permission", ignore(e.svc.SetUserSSOSettings(e.ctx, reader, UserSSOInput{SsoEnabled: ptr(false)})), "NoPermission")
}

func TestFederationSAMLProviders(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	acct := e.svc.AccountID(e.ctx)
	good := idpMetadata(t, "okta.example.com")
	create := func(name, desc, xml string) error {
		return ignore(e.svc.CreateSAMLProvider(e.ctx, e.owner, SAMLProviderInput{Name: name, Description: desc, MetadataXML: xml}))
	}
	for _, name := range []string{"", ".okta", "okta-", "_x", "ok ta", "ok/ta", "é", strings.Repeat("a", 129)} {
		wantCode(t, "name "+name, create(name, "", good), "InvalidParameter.SAMLProviderName")
	}
	wantCode(t, "long description", create("okta", strings.Repeat("d", 257), good), "InvalidParameter.Description")
	for what, bad := range badMetadata(good) {
		wantCode(t, "metadata: "+what, create("okta", "", bad), "InvalidParameter.EncodedSAMLMetadataDocument")
	}
	wantCode(t, "no metadata", create("okta", "", ""), "InvalidParameter.EncodedSAMLMetadataDocument")
	wantCode(t, "metadata twice", ignore(e.svc.CreateSAMLProvider(e.ctx, e.owner, SAMLProviderInput{Name: "okta", MetadataXML: good,
		EncodedMetadata: base64.StdEncoding.EncodeToString([]byte(good))})), "InvalidParameter.EncodedSAMLMetadataDocument")
	wantCode(t, "encoded metadata not Base64", ignore(e.svc.CreateSAMLProvider(e.ctx, e.owner, SAMLProviderInput{Name: "okta",
		EncodedMetadata: "%%%"})), "InvalidParameter.EncodedSAMLMetadataDocument")
	if list, err := e.svc.ListSAMLProviders(e.ctx, e.owner); err != nil || len(list) != 0 {
		t.Fatalf("refused creations left %d providers (%v)", len(list), err)
	}

	p, err := e.svc.CreateSAMLProvider(e.ctx, e.owner, SAMLProviderInput{Name: "Okta.prod_1-x", Description: "Okta",
		EncodedMetadata: base64.StdEncoding.EncodeToString([]byte(good))})
	if err != nil {
		t.Fatal(err)
	}
	if p.Arn != "acs:ram::"+acct+":saml-provider/Okta.prod_1-x" || p.Metadata != good || p.IDP == nil {
		t.Errorf("created: %+v", p)
	}
	wantCode(t, "the name in another case", create("OKTA.PROD_1-X", "", good), "EntityAlreadyExists.SAMLProvider")
	got, err := e.svc.GetSAMLProvider(e.ctx, e.owner, "okta.prod_1-x")
	if err != nil || got.Name != "Okta.prod_1-x" {
		t.Fatalf("get in another case: %v %v", got, err)
	}
	wantCode(t, "get unknown", ignore(e.svc.GetSAMLProvider(e.ctx, e.owner, "nope")), "EntityNotExist.SAMLProvider")
	other := idpMetadata(t, "entra.example.com")
	up, err := e.svc.UpdateSAMLProvider(e.ctx, e.owner, "okta.prod_1-x", SAMLProviderUpdate{MetadataXML: &other, Description: ptr("")})
	if err != nil || up.Metadata != other || up.Description != "" || up.IDP.EntityID != "https://entra.example.com/metadata" {
		t.Fatalf("update: %+v %v", up, err)
	}
	wantCode(t, "update with bad metadata", ignore(e.svc.UpdateSAMLProvider(e.ctx, e.owner, "Okta.prod_1-x", SAMLProviderUpdate{MetadataXML: ptr("<x/>")})),
		"InvalidParameter.EncodedSAMLMetadataDocument")

	// Deleting ends the role sessions started through the provider.
	role, err := e.svc.CreateRole(e.ctx, e.owner, RoleInput{RoleName: "ci", AssumeRolePolicy: fmt.Sprintf(
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Federated":["%s"]}}]}`, p.Arn)})
	if err != nil {
		t.Fatal(err)
	}
	if names, err := e.svc.RolesTrustingProvider(e.ctx, e.owner, p.Arn); err != nil || !slices.Equal(names, []string{"ci"}) {
		t.Errorf("roles trusting the provider: %v %v", names, err)
	}
	if names, _ := e.svc.RolesTrustingProvider(e.ctx, e.owner, strings.ToLower(p.Arn)); len(names) != 0 {
		t.Errorf("roles trusting another spelling of the ARN: %v", names)
	}
	session := func(key, source string) error {
		return e.st.Update(e.ctx, func(tx *store.Tx) error {
			return tx.CreateRoleSession(e.ctx, &store.RoleSession{AccessKeyID: key, RoleID: role.RoleID, SessionName: "s",
				SourcePrincipal: source, SecretEnc: []byte{1}, TokenHash: key, ExpiresAt: e.clock.Now().Add(time.Hour)})
		})
	}
	if err := session("STS.fed", FederatedSource("saml-provider", p.ProviderID)); err != nil {
		t.Fatal(err)
	}
	if err := session("STS.other", FederatedSource("saml-provider", "another")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteSAMLProvider(e.ctx, e.owner, "OKTA.prod_1-x"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.RoleSession(e.ctx, "STS.fed"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a session through the deleted provider: %v", err)
	}
	if _, err := e.st.RoleSession(e.ctx, "STS.other"); err != nil {
		t.Errorf("a session through another provider: %v", err)
	}
	wantCode(t, "delete twice", e.svc.DeleteSAMLProvider(e.ctx, e.owner, "Okta.prod_1-x"), "EntityNotExist.SAMLProvider")

	// At most 100.
	for i := range MaxSAMLProviders {
		if err := create(fmt.Sprintf("p%03d", i), "", good); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, "past the limit", create("one-more", "", good), "LimitExceeded.SAMLProvider")
}

func TestFederationOIDCProviders(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	acct := e.svc.AccountID(e.ctx)
	fp := func(i int) string { return fmt.Sprintf("%040X", i) }
	in := func(mod func(*OIDCProviderInput)) OIDCProviderInput {
		v := OIDCProviderInput{Name: "github", IssuerURL: "https://token.actions.githubusercontent.com", ClientIDs: []string{"sts.aliyuncs.com"},
			Fingerprints: []string{fp(1)}}
		if mod != nil {
			mod(&v)
		}
		return v
	}
	create := func(mod func(*OIDCProviderInput)) error {
		return ignore(e.svc.CreateOIDCProvider(e.ctx, e.owner, in(mod)))
	}
	for _, c := range []struct {
		what string
		mod  func(*OIDCProviderInput)
		code string
	}{
		{"bad name", func(v *OIDCProviderInput) { v.Name = "-gh" }, "InvalidParameter.OIDCProviderName"},
		{"http issuer", func(v *OIDCProviderInput) { v.IssuerURL = "http://issuer.example.com" }, "InvalidParameter.IssuerUrl"},
		{"issuer with a query", func(v *OIDCProviderInput) { v.IssuerURL = "https://issuer.example.com/?a=b" }, "InvalidParameter.IssuerUrl"},
		{"issuer with an empty query", func(v *OIDCProviderInput) { v.IssuerURL = "https://issuer.example.com/?" }, "InvalidParameter.IssuerUrl"},
		{"issuer with a fragment", func(v *OIDCProviderInput) { v.IssuerURL = "https://issuer.example.com/#x" }, "InvalidParameter.IssuerUrl"},
		{"issuer with a user", func(v *OIDCProviderInput) { v.IssuerURL = "https://u:p@issuer.example.com" }, "InvalidParameter.IssuerUrl"},
		{"issuer too long", func(v *OIDCProviderInput) { v.IssuerURL = "https://issuer.example.com/" + strings.Repeat("a", 230) }, "InvalidParameter.IssuerUrl"},
		{"no issuer", func(v *OIDCProviderInput) { v.IssuerURL = "" }, "InvalidParameter.IssuerUrl"},
		{"client id with a special first character", func(v *OIDCProviderInput) { v.ClientIDs = []string{"-x"} }, "InvalidParameter.ClientIds"},
		{"client id with a space", func(v *OIDCProviderInput) { v.ClientIDs = []string{"a b"} }, "InvalidParameter.ClientIds"},
		{"client id too long", func(v *OIDCProviderInput) { v.ClientIDs = []string{strings.Repeat("a", 129)} }, "InvalidParameter.ClientIds"},
		{"client id twice", func(v *OIDCProviderInput) { v.ClientIDs = []string{"a", "a"} }, "InvalidParameter.ClientIds"},
		{"51 client ids", func(v *OIDCProviderInput) {
			v.ClientIDs = nil
			for i := range 51 {
				v.ClientIDs = append(v.ClientIDs, fmt.Sprint("c", i))
			}
		}, "LimitExceeded.OIDCProvider.ClientId"},
		{"no fingerprint", func(v *OIDCProviderInput) { v.Fingerprints = nil }, "InvalidParameter.Fingerprints"},
		{"short fingerprint", func(v *OIDCProviderInput) { v.Fingerprints = []string{"abc"} }, "InvalidParameter.Fingerprints"},
		{"not hex", func(v *OIDCProviderInput) { v.Fingerprints = []string{strings.Repeat("g", 40)} }, "InvalidParameter.Fingerprints"},
		{"fingerprint twice in two cases", func(v *OIDCProviderInput) { v.Fingerprints = []string{fp(10), strings.ToLower(fp(10))} }, "InvalidParameter.Fingerprints"},
		{"six fingerprints", func(v *OIDCProviderInput) { v.Fingerprints = []string{fp(1), fp(2), fp(3), fp(4), fp(5), fp(6)} }, "LimitExceeded.OIDCProvider.Fingerprint"},
		{"issuance limit too high", func(v *OIDCProviderInput) { v.IssuanceLimitTime = 169 }, "InvalidParameter.IssuanceLimitTime"},
		{"negative issuance limit", func(v *OIDCProviderInput) { v.IssuanceLimitTime = -1 }, "InvalidParameter.IssuanceLimitTime"},
		{"long description", func(v *OIDCProviderInput) { v.Description = strings.Repeat("d", 257) }, "InvalidParameter.Description"},
	} {
		wantCode(t, c.what, create(c.mod), c.code)
	}
	if list, _ := e.svc.ListOIDCProviders(e.ctx, e.owner); len(list) != 0 {
		t.Fatalf("refused creations left %d providers", len(list))
	}

	p, err := e.svc.CreateOIDCProvider(e.ctx, e.owner, in(func(v *OIDCProviderInput) {
		v.ClientIDs = []string{"sts.aliyuncs.com", "b:x/y", "a"}
		v.Fingerprints = []string{fp(0xAB), fp(1)}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if p.Arn != "acs:ram::"+acct+":oidc-provider/github" || p.IssuanceLimitTime != DefaultIssuanceLimitTime ||
		!slices.Equal(p.ClientIDs, []string{"sts.aliyuncs.com", "b:x/y", "a"}) || !slices.Equal(p.Fingerprints, []string{strings.ToLower(fp(0xAB)), fp(1)}) {
		t.Errorf("created: %+v", p)
	}
	wantCode(t, "the same issuer", create(func(v *OIDCProviderInput) { v.Name = "other" }), "EntityAlreadyExists.OIDCProvider.Url")
	wantCode(t, "the name in another case", create(func(v *OIDCProviderInput) { v.Name = "GitHub"; v.IssuerURL = "https://gitlab.example.com" }),
		"EntityAlreadyExists.OIDCProvider")

	change := func(what string, code string, f func() (*OIDCProvider, error)) *OIDCProvider {
		t.Helper()
		p, err := f()
		wantCode(t, what, err, code)
		return p
	}
	p = change("add a client id", "", func() (*OIDCProvider, error) { return e.svc.AddClientIDToOIDCProvider(e.ctx, e.owner, "GITHUB", "z") })
	if !slices.Equal(p.ClientIDs, []string{"sts.aliyuncs.com", "b:x/y", "a", "z"}) {
		t.Errorf("after adding: %q", p.ClientIDs)
	}
	change("add it again", "InvalidParameter.ClientIds", func() (*OIDCProvider, error) { return e.svc.AddClientIDToOIDCProvider(e.ctx, e.owner, "github", "z") })
	p = change("remove a client id", "", func() (*OIDCProvider, error) {
		return e.svc.RemoveClientIDFromOIDCProvider(e.ctx, e.owner, "github", "b:x/y")
	})
	if !slices.Equal(p.ClientIDs, []string{"sts.aliyuncs.com", "a", "z"}) {
		t.Errorf("after removing: %q", p.ClientIDs)
	}
	change("remove an unknown client id", "InvalidParameter.ClientIds", func() (*OIDCProvider, error) {
		return e.svc.RemoveClientIDFromOIDCProvider(e.ctx, e.owner, "github", "nope")
	})
	p = change("add a fingerprint", "", func() (*OIDCProvider, error) {
		return e.svc.AddFingerprintToOIDCProvider(e.ctx, e.owner, "github", fp(0xC))
	})
	if !slices.Equal(p.Fingerprints, []string{strings.ToLower(fp(0xAB)), fp(1), strings.ToLower(fp(0xC))}) {
		t.Errorf("after adding a fingerprint: %q", p.Fingerprints)
	}
	change("add a fingerprint again", "InvalidParameter.Fingerprints", func() (*OIDCProvider, error) {
		return e.svc.AddFingerprintToOIDCProvider(e.ctx, e.owner, "github", strings.ToLower(fp(0xC)))
	})
	change("add a sixth", "", func() (*OIDCProvider, error) {
		return e.svc.AddFingerprintToOIDCProvider(e.ctx, e.owner, "github", fp(4))
	})
	change("add a sixth", "", func() (*OIDCProvider, error) {
		return e.svc.AddFingerprintToOIDCProvider(e.ctx, e.owner, "github", fp(5))
	})
	change("add a sixth", "LimitExceeded.OIDCProvider.Fingerprint", func() (*OIDCProvider, error) {
		return e.svc.AddFingerprintToOIDCProvider(e.ctx, e.owner, "github", fp(6))
	})
	p = change("remove a fingerprint in capitals", "", func() (*OIDCProvider, error) {
		return e.svc.RemoveFingerprintFromOIDCProvider(e.ctx, e.owner, "github", fp(0xAB))
	})
	if len(p.Fingerprints) != 4 || p.Fingerprints[0] != fp(1) {
		t.Errorf("after removing a fingerprint: %q", p.Fingerprints)
	}
	p = change("update", "", func() (*OIDCProvider, error) {
		return e.svc.UpdateOIDCProvider(e.ctx, e.owner, "github", OIDCProviderUpdate{ClientIDs: ptr([]string{"only"}), Fingerprints: ptr([]string{fp(9)}),
			IssuanceLimitTime: ptr(168), Description: ptr("CI")})
	})
	if !slices.Equal(p.ClientIDs, []string{"only"}) || !slices.Equal(p.Fingerprints, []string{fp(9)}) || p.IssuanceLimitTime != 168 || p.Description != "CI" ||
		p.IssuerURL != "https://token.actions.githubusercontent.com" {
		t.Errorf("updated: %+v", p)
	}
	change("remove the last fingerprint", "InvalidParameter.Fingerprints", func() (*OIDCProvider, error) {
		return e.svc.RemoveFingerprintFromOIDCProvider(e.ctx, e.owner, "github", fp(9))
	})
	change("update the limit to 0", "InvalidParameter.IssuanceLimitTime", func() (*OIDCProvider, error) {
		return e.svc.UpdateOIDCProvider(e.ctx, e.owner, "github", OIDCProviderUpdate{IssuanceLimitTime: ptr(0)})
	})
	change("unknown provider", "EntityNotExist.OIDCProvider", func() (*OIDCProvider, error) {
		return e.svc.AddClientIDToOIDCProvider(e.ctx, e.owner, "gitlab", "x")
	})

	// A refused change changes nothing and is audited.
	got, err := e.svc.GetOIDCProvider(e.ctx, e.owner, "github")
	if err != nil || !slices.Equal(got.Fingerprints, []string{fp(9)}) || got.IssuanceLimitTime != 168 {
		t.Errorf("after refusals: %+v %v", got, err)
	}
	if ev := e.events()[0]; ev.EventName != "AddClientIdToOIDCProvider" || ev.ErrorCode != "EntityNotExist.OIDCProvider" || ev.EventSource != "ram" {
		t.Errorf("the refusal's event: %s %s %s", ev.EventName, ev.ErrorCode, ev.EventSource)
	}
	if err := e.svc.DeleteOIDCProvider(e.ctx, e.owner, "github"); err != nil {
		t.Fatal(err)
	}
	if err := create(nil); err != nil {
		t.Errorf("the issuer after its provider was deleted: %v", err)
	}
}

// Every operation is authorised on the stored provider's ARN, whatever
// the case the caller spells its name in.
func TestFederationAuthorization(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	good := idpMetadata(t, "idp.example.com")
	for _, name := range []string{"Okta", "Entra"} {
		if _, err := e.svc.CreateSAMLProvider(e.ctx, e.owner, SAMLProviderInput{Name: name, MetadataXML: good}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.CreateOIDCProvider(e.ctx, e.owner, OIDCProviderInput{Name: "GitHub", IssuerURL: "https://issuer.example.com",
		Fingerprints: []string{strings.Repeat("a", 40)}}); err != nil {
		t.Fatal(err)
	}
	okta := e.granted(t, "okta-admin", doc(allow([]string{e.arn("saml-provider", "Okta"), e.arn("oidc-provider", "GitHub")}, "ram:*")))
	if _, err := e.svc.GetSAMLProvider(e.ctx, okta, "okta"); err != nil {
		t.Errorf("get the allowed provider: %v", err)
	}
	if _, err := e.svc.UpdateSAMLProvider(e.ctx, okta, "OKTA", SAMLProviderUpdate{Description: ptr("mine")}); err != nil {
		t.Errorf("update the allowed provider: %v", err)
	}
	if _, err := e.svc.AddClientIDToOIDCProvider(e.ctx, okta, "github", "x"); err != nil {
		t.Errorf("change the allowed OIDC provider: %v", err)
	}
	for what, err := range map[string]error{
		"get another":           ignore(e.svc.GetSAMLProvider(e.ctx, okta, "Entra")),
		"delete another":        e.svc.DeleteSAMLProvider(e.ctx, okta, "entra"),
		"list":                  ignore(e.svc.ListSAMLProviders(e.ctx, okta)),
		"list OIDC":             ignore(e.svc.ListOIDCProviders(e.ctx, okta)),
		"create":                create(e, okta, "New", good),
		"an unknown provider":   ignore(e.svc.GetSAMLProvider(e.ctx, okta, "nope")),
		"user SSO settings":     ignore(e.svc.GetUserSSOSettings(e.ctx, okta)),
		"roles trusting":        ignore(e.svc.RolesTrustingProvider(e.ctx, okta, SAMLProviderARN(e.svc.AccountID(e.ctx), "Okta"))),
		"fingerprint of issuer": ignore(e.svc.OIDCIssuerFingerprint(e.ctx, okta, "https://issuer.example.com")),
	} {
		wantCode(t, what, err, "NoPermission")
	}
	// Allowed to create one name only.
	creator := e.granted(t, "creator", doc(allow([]string{e.arn("saml-provider", "Keycloak")}, ActionCreateSAMLProvider)))
	wantCode(t, "create the allowed name", create(e, creator, "Keycloak", good), "")
	wantCode(t, "create another name", create(e, creator, "Other", good), "NoPermission")
}

func create(e *testEnv, a Actor, name, xml string) error {
	return ignore(e.svc.CreateSAMLProvider(e.ctx, a, SAMLProviderInput{Name: name, MetadataXML: xml}))
}

// IMS list paging: Marker and MaxItems as the other lists.
func TestFederationProviderPage(t *testing.T) {
	names := []string{"a", "B", "c", "d", "E"}
	name := func(s *string) string { return *s }
	var got []string
	marker := ""
	for pages := 0; ; pages++ {
		page, next, truncated, err := ProviderPage(names, name, marker, 2)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if !truncated {
			break
		}
		marker = next
	}
	if !slices.Equal(got, names) {
		t.Errorf("pages: %q", got)
	}
	for _, n := range []int{-1, 1001} {
		if _, _, _, err := ProviderPage(names, name, "", n); err == nil {
			t.Errorf("MaxItems %d accepted", n)
		}
	}
	if _, _, _, err := ProviderPage(names, name, "%%", 0); err == nil {
		t.Error("a bad marker accepted")
	}
}

// The console's "Get fingerprint" computes the SHA-1 of the certificate an
// issuer presents; an issuer URL that is not one is refused first.
func TestFederationOIDCIssuerFingerprint(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	got, err := e.svc.OIDCIssuerFingerprint(e.ctx, e.owner, srv.URL)
	sum := sha1.Sum(srv.Certificate().Raw)
	if err != nil || got != hex.EncodeToString(sum[:]) {
		t.Errorf("fingerprint = %q %v, want %x", got, err, sum)
	}
	wantCode(t, "an http issuer", ignore(e.svc.OIDCIssuerFingerprint(e.ctx, e.owner, "http://issuer.example.com")), "InvalidParameter.IssuerUrl")
	closed := httptest.NewTLSServer(http.NotFoundHandler())
	closed.Close()
	wantCode(t, "an issuer that does not answer", ignore(e.svc.OIDCIssuerFingerprint(e.ctx, e.owner, closed.URL)), "InvalidParameter.IssuerUrl")
}

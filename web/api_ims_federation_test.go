package web

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	imssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ims"

	"ramconsole/handlers"
	"ramconsole/ram/samlsp/samltest"
	"ramconsole/store"
)

// The IMS actions of federation (2019-08-15, SPEC §18.2, §18.6): the user
// SSO setting and the SAML and OIDC providers, driven by the official
// classic Go SDK's services/ims against the real app, on SQLite or
// PostgreSQL.

// imsFederationActions are the sixteen IMS actions of federation.
var imsFederationActions = []string{"SetUserSsoSettings", "GetUserSsoSettings", "CreateSAMLProvider", "GetSAMLProvider",
	"ListSAMLProviders", "UpdateSAMLProvider", "DeleteSAMLProvider", "CreateOIDCProvider", "GetOIDCProvider", "ListOIDCProviders",
	"UpdateOIDCProvider", "DeleteOIDCProvider", "AddClientIdToOIDCProvider", "RemoveClientIdFromOIDCProvider",
	"AddFingerprintToOIDCProvider", "RemoveFingerprintFromOIDCProvider"}

// imsFedMetadata is a usable IdP metadata document of a host.
func imsFedMetadata(t *testing.T, host string) string {
	t.Helper()
	return string(samltest.New(t, "https://"+host).Metadata())
}

// imsFedDTD is metadata with a DTD declaring an entity.
func imsFedDTD(good string) string {
	return `<!DOCTYPE EntityDescriptor [<!ENTITY x "y">]>` + good
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// imsFedEvent checks that a change left its one event with eventSource ims
// and returns it.
func (h *harness) imsFedEvent(t *testing.T, requestID, action, errorCode string) store.StoredEvent {
	t.Helper()
	var found []store.StoredEvent
	for _, e := range h.events() {
		if e.RequestID == requestID && e.EventName == action {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s (request %s): %d events, want 1", action, requestID, len(found))
	}
	e := found[0]
	if e.EventSource != "ims" || e.EventType != "ApiCall" || e.ErrorCode != errorCode || e.UserIdentity.AccessKeyID == "" {
		t.Errorf("%s event: source %q type %q errorCode %q key %q, want ims ApiCall %q", action, e.EventSource, e.EventType, e.ErrorCode,
			e.UserIdentity.AccessKeyID, errorCode)
	}
	return e
}

// imsFedNoMetadataInAudit fails when any event holds a metadata document
// (XML or Base64) verbatim.
func (h *harness) imsFedNoMetadataInAudit(t *testing.T, docs ...string) {
	t.Helper()
	for _, e := range h.events() {
		for _, d := range docs {
			if strings.Contains(e.Body, "X509Certificate") || strings.Contains(e.Body, "EntityDescriptor xmlns") || strings.Contains(e.Body, b64(d)[:64]) ||
				strings.Contains(e.Body, url.QueryEscape(b64(d)[:64])) {
				t.Errorf("event %s records a metadata document verbatim: %.300s", e.EventName, e.Body)
			}
		}
	}
}

func TestIMSFederationUserSsoSettings(t *testing.T) {
	env := newAPIEnv(t)
	c := env.imsClient(env.admin.keyID, env.admin.secret)
	good := imsFedMetadata(t, "idp.example.com")
	set := func(tweak func(r *imssdk.SetUserSsoSettingsRequest)) (*imssdk.SetUserSsoSettingsResponse, error) {
		r := imssdk.CreateSetUserSsoSettingsRequest()
		env.at(r)
		tweak(r)
		return c.SetUserSsoSettings(r)
	}
	getReq := imssdk.CreateGetUserSsoSettingsRequest()
	env.at(getReq)
	got, err := c.GetUserSsoSettings(getReq)
	must(t, err, "GetUserSsoSettings")
	if s := got.UserSsoSettings; s.SsoEnabled || s.MetadataDocument != "" || s.AuxiliaryDomain != "" ||
		!strings.Contains(got.GetHttpContentString(), `"SsoLoginWithDomain":true`) {
		t.Errorf("default = %s", got.GetHttpContentString())
	}

	_, err = set(func(r *imssdk.SetUserSsoSettingsRequest) { r.SsoEnabled = requests.NewBoolean(true) })
	se := expectCode(t, err, "InvalidParameter.MetadataDocument", 400, "SSO on without metadata")
	env.imsFedEvent(t, se.RequestId(), "SetUserSsoSettings", "InvalidParameter.MetadataDocument")
	for what, doc := range map[string]string{"a DTD": imsFedDTD(good), "not metadata": "<a/>", "not Base64": ""} {
		value := b64(doc)
		if doc == "" {
			value = "<md:EntityDescriptor/>"
		}
		_, err = set(func(r *imssdk.SetUserSsoSettingsRequest) { r.MetadataDocument = value })
		expectCode(t, err, "InvalidParameter.MetadataDocument", 400, "metadata: "+what)
	}
	_, err = set(func(r *imssdk.SetUserSsoSettingsRequest) { r.AuxiliaryDomain = "no_dots" })
	expectCode(t, err, "InvalidParameter.AuxiliaryDomain", 400, "a bad auxiliary domain")

	r, err := set(func(r *imssdk.SetUserSsoSettingsRequest) {
		r.SsoEnabled, r.MetadataDocument, r.AuxiliaryDomain = requests.NewBoolean(true), b64(good), "corp.example.com"
		r.QueryParams["SsoLoginWithDomain"] = "false" // not in the SDK's request; sent anyway
	})
	must(t, err, "SetUserSsoSettings")
	if s := r.UserSsoSettings; !s.SsoEnabled || s.MetadataDocument != b64(good) || s.AuxiliaryDomain != "corp.example.com" ||
		!strings.Contains(r.GetHttpContentString(), `"SsoLoginWithDomain":false`) {
		t.Errorf("SetUserSsoSettings = %s", r.GetHttpContentString())
	}
	ev := env.imsFedEvent(t, r.RequestId, "SetUserSsoSettings", "")
	if ev.RequestParameters["MetadataSha256"] == "" || ev.RequestParameters["SsoEnabled"] != true {
		t.Errorf("event parameters = %v", ev.RequestParameters)
	}

	// Absent parameters keep their value.
	r, err = set(func(r *imssdk.SetUserSsoSettingsRequest) { r.AuxiliaryDomain = "other.example.org" })
	must(t, err, "SetUserSsoSettings (one field)")
	got, err = c.GetUserSsoSettings(getReq)
	must(t, err, "GetUserSsoSettings")
	if s := got.UserSsoSettings; !s.SsoEnabled || s.MetadataDocument != b64(good) || s.AuxiliaryDomain != "other.example.org" ||
		!strings.Contains(got.GetHttpContentString(), `"SsoLoginWithDomain":false`) {
		t.Errorf("after a one-field change = %s", got.GetHttpContentString())
	}
	env.imsFedNoMetadataInAudit(t, good, imsFedDTD(good))

	// XML, and V3.
	getReq.AcceptFormat = "XML"
	x, err := c.GetUserSsoSettings(getReq)
	must(t, err, "GetUserSsoSettings XML")
	if !strings.Contains(x.GetHttpContentString(), "<GetUserSsoSettingsResponse>") || x.UserSsoSettings.MetadataDocument != b64(good) ||
		!strings.Contains(x.GetHttpContentString(), "<SsoLoginWithDomain>false</SsoLoginWithDomain>") {
		t.Errorf("XML = %s", x.GetHttpContentString())
	}
	req := env.v3Request(env.admin.keyID, env.admin.secret, "SetUserSsoSettings", nil, []byte(url.Values{"SsoEnabled": {"false"}}.Encode()))
	req.Header.Set("x-acs-version", handlers.IMSVersion)
	signV3(req, env.admin.keyID, env.admin.secret)
	p := env.send(req)
	expectStatus(t, p, 200, "V3 SetUserSsoSettings")
	if !strings.Contains(p.body, `"SsoEnabled":false`) || !strings.Contains(p.body, `"AuxiliaryDomain":"other.example.org"`) {
		t.Errorf("V3 SetUserSsoSettings = %s", p.body)
	}
}

func TestIMSFederationSAMLProviders(t *testing.T) {
	env := newAPIEnv(t)
	c := env.imsClient(env.admin.keyID, env.admin.secret)
	acct := env.accountID()
	good, other := imsFedMetadata(t, "okta.example.com"), imsFedMetadata(t, "entra.example.com")
	create := func(name, desc string, tweak func(*imssdk.CreateSAMLProviderRequest)) (*imssdk.CreateSAMLProviderResponse, error) {
		r := imssdk.CreateCreateSAMLProviderRequest()
		env.at(r)
		r.SAMLProviderName, r.Description, r.EncodedSAMLMetadataDocument = name, desc, b64(good)
		if tweak != nil {
			tweak(r)
		}
		return c.CreateSAMLProvider(r)
	}
	cr, err := create("Okta", "Okta for engineers", nil)
	must(t, err, "CreateSAMLProvider")
	sp := cr.SAMLProvider
	if sp.Arn != "acs:ram::"+acct+":saml-provider/Okta" || sp.SAMLProviderName != "Okta" || sp.Description != "Okta for engineers" ||
		sp.EncodedSAMLMetadataDocument != b64(good) || !imsDateRE.MatchString(sp.CreateDate) || !imsDateRE.MatchString(sp.UpdateDate) {
		t.Errorf("CreateSAMLProvider = %+v", sp)
	}
	ev := env.imsFedEvent(t, cr.RequestId, "CreateSAMLProvider", "")
	if ev.ResourceName != "acs:ram:*:"+acct+":saml-provider/Okta" || ev.RequestParameters["MetadataSha256"] == "" {
		t.Errorf("event resource %q parameters %v", ev.ResourceName, ev.RequestParameters)
	}
	// Refused before the action runs, the document is recorded by its
	// SHA-256, once.
	_, err = create("", "", nil)
	missingName := expectCode(t, err, "MissingParameter", 400, "no SAMLProviderName")
	sum := sha256.Sum256([]byte(b64(good)))
	if ev := env.imsFedEvent(t, missingName.RequestId(), "CreateSAMLProvider", "MissingParameter"); ev.RequestParameters["EncodedSAMLMetadataDocument"] != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Errorf("a refused call records the metadata as %v", ev.RequestParameters["EncodedSAMLMetadataDocument"])
	}
	// The XML itself, as SAMLMetadataDocument.
	cr, err = create("entra", "", func(r *imssdk.CreateSAMLProviderRequest) {
		r.EncodedSAMLMetadataDocument, r.SAMLMetadataDocument = "", other
	})
	must(t, err, "CreateSAMLProvider with SAMLMetadataDocument")
	if cr.SAMLProvider.EncodedSAMLMetadataDocument != b64(other) {
		t.Errorf("EncodedSAMLMetadataDocument of XML given = %.60s", cr.SAMLProvider.EncodedSAMLMetadataDocument)
	}
	_, err = create("keycloak", "", nil)
	must(t, err, "CreateSAMLProvider keycloak")

	// Refusals.
	for _, name := range []string{"-okta", "ok ta", strings.Repeat("a", 129)} {
		_, err = create(name, "", nil)
		expectCode(t, err, "InvalidParameter.SAMLProviderName", 400, "name "+name)
	}
	_, err = create("OKTA", "", nil)
	se := expectCode(t, err, "EntityAlreadyExists.SAMLProvider", 409, "a name taken in another case")
	env.imsFedEvent(t, se.RequestId(), "CreateSAMLProvider", "EntityAlreadyExists.SAMLProvider")
	for what, doc := range map[string]string{"a DTD": b64(imsFedDTD(good)), "not metadata": b64("<a/>"), "not Base64": "%%%"} {
		_, err = create("bad", "", func(r *imssdk.CreateSAMLProviderRequest) { r.EncodedSAMLMetadataDocument = doc })
		expectCode(t, err, "InvalidParameter.EncodedSAMLMetadataDocument", 400, "metadata: "+what)
	}
	_, err = create("bad", "", func(r *imssdk.CreateSAMLProviderRequest) {
		r.EncodedSAMLMetadataDocument, r.SAMLMetadataDocument = "", imsFedDTD(good)
	})
	expectCode(t, err, "InvalidParameter.EncodedSAMLMetadataDocument", 400, "SAMLMetadataDocument with a DTD")
	_, err = create("bad", strings.Repeat("d", 257), nil)
	expectCode(t, err, "InvalidParameter.Description", 400, "a long description")
	_, err = create("", "", nil)
	expectCode(t, err, "MissingParameter", 400, "no SAMLProviderName")

	// Get, in any case; unknown.
	get := imssdk.CreateGetSAMLProviderRequest()
	env.at(get)
	get.SAMLProviderName = "okta"
	g, err := c.GetSAMLProvider(get)
	must(t, err, "GetSAMLProvider")
	if g.SAMLProvider.SAMLProviderName != "Okta" || g.SAMLProvider.CreateDate != sp.CreateDate {
		t.Errorf("GetSAMLProvider = %+v", g.SAMLProvider)
	}
	get.SAMLProviderName = "nope"
	_, err = c.GetSAMLProvider(get)
	expectCode(t, err, "EntityNotExist.SAMLProvider", 404, "GetSAMLProvider of an unknown name")

	// List, paged.
	var names []string
	marker := ""
	for pages := 0; pages < 5; pages++ {
		l := imssdk.CreateListSAMLProvidersRequest()
		env.at(l)
		l.MaxItems, l.Marker = requests.NewInteger(2), marker
		lr, err := c.ListSAMLProviders(l)
		must(t, err, "ListSAMLProviders")
		for _, p := range lr.SAMLProviders.SAMLProvider {
			names = append(names, p.SAMLProviderName)
		}
		if !lr.IsTruncated {
			break
		}
		marker = lr.Marker
	}
	if !slices.Equal(names, []string{"entra", "keycloak", "Okta"}) {
		t.Errorf("ListSAMLProviders pages = %q", names)
	}
	l := imssdk.CreateListSAMLProvidersRequest()
	env.at(l)
	l.MaxItems = requests.NewInteger(1001)
	_, err = c.ListSAMLProviders(l)
	expectCode(t, err, "InvalidParameter.MaxItems", 400, "MaxItems 1001")

	// Update: absent parameters keep their value.
	up := imssdk.CreateUpdateSAMLProviderRequest()
	env.at(up)
	up.SAMLProviderName, up.NewEncodedSAMLMetadataDocument = "Okta", b64(other)
	ur, err := c.UpdateSAMLProvider(up)
	must(t, err, "UpdateSAMLProvider")
	if ur.SAMLProvider.EncodedSAMLMetadataDocument != b64(other) || ur.SAMLProvider.Description != "Okta for engineers" {
		t.Errorf("UpdateSAMLProvider = %+v", ur.SAMLProvider)
	}
	env.imsFedEvent(t, ur.RequestId, "UpdateSAMLProvider", "")
	up = imssdk.CreateUpdateSAMLProviderRequest()
	env.at(up)
	up.SAMLProviderName, up.NewDescription, up.NewSAMLMetadataDocument = "Okta", "new", good
	ur, err = c.UpdateSAMLProvider(up)
	must(t, err, "UpdateSAMLProvider with NewSAMLMetadataDocument")
	if ur.SAMLProvider.EncodedSAMLMetadataDocument != b64(good) || ur.SAMLProvider.Description != "new" {
		t.Errorf("UpdateSAMLProvider = %+v", ur.SAMLProvider)
	}
	up.NewSAMLMetadataDocument = imsFedDTD(good)
	_, err = c.UpdateSAMLProvider(up)
	expectCode(t, err, "InvalidParameter.EncodedSAMLMetadataDocument", 400, "an update with a DTD")

	// Delete.
	del := imssdk.CreateDeleteSAMLProviderRequest()
	env.at(del)
	del.SAMLProviderName = "KEYCLOAK"
	dr, err := c.DeleteSAMLProvider(del)
	must(t, err, "DeleteSAMLProvider")
	env.imsFedEvent(t, dr.RequestId, "DeleteSAMLProvider", "")
	_, err = c.DeleteSAMLProvider(del)
	expectCode(t, err, "EntityNotExist.SAMLProvider", 404, "deleting a deleted provider")

	// JSON and XML shapes.
	p := env.rawV1(env.admin.keyID, env.admin.secret, http.MethodPost, url.Values{"Action": {"ListSAMLProviders"}, "Version": {handlers.IMSVersion}}, nil)
	expectStatus(t, p, 200, "JSON ListSAMLProviders")
	if !strings.Contains(p.body, `"SAMLProviders":{"SAMLProvider":[{"Arn":"acs:ram::`+acct+`:saml-provider/entra"`) || !strings.Contains(p.body, `"IsTruncated":false`) {
		t.Errorf("JSON ListSAMLProviders = %.400s", p.body)
	}
	p = env.rawV1(env.admin.keyID, env.admin.secret, http.MethodPost, url.Values{"Action": {"ListSAMLProviders"}, "Version": {handlers.IMSVersion}, "Format": {"XML"}}, nil)
	var xl struct {
		XMLName       xml.Name `xml:"ListSAMLProvidersResponse"`
		SAMLProviders imssdk.SAMLProviders
	}
	if err := xml.Unmarshal([]byte(p.body), &xl); err != nil || len(xl.SAMLProviders.SAMLProvider) != 2 || xl.SAMLProviders.SAMLProvider[1].SAMLProviderName != "Okta" {
		t.Errorf("XML ListSAMLProviders = %v %.300s", err, p.body)
	}
	env.imsFedNoMetadataInAudit(t, good, other, imsFedDTD(good))
}

func TestIMSFederationOIDCProviders(t *testing.T) {
	env := newAPIEnv(t)
	c := env.imsClient(env.admin.keyID, env.admin.secret)
	acct := env.accountID()
	fp := func(i int) string { return fmt.Sprintf("%040X", i) }
	create := func(tweak func(*imssdk.CreateOIDCProviderRequest)) (*imssdk.CreateOIDCProviderResponse, error) {
		r := imssdk.CreateCreateOIDCProviderRequest()
		env.at(r)
		r.OIDCProviderName, r.IssuerUrl, r.ClientIds, r.Fingerprints = "GitHub", "https://token.actions.githubusercontent.com", "sts.aliyuncs.com,b", fp(0xAB)
		r.Description = "CI"
		if tweak != nil {
			tweak(r)
		}
		return c.CreateOIDCProvider(r)
	}
	cr, err := create(nil)
	must(t, err, "CreateOIDCProvider")
	op := cr.OIDCProvider
	if op.Arn != "acs:ram::"+acct+":oidc-provider/GitHub" || op.IssuerUrl != "https://token.actions.githubusercontent.com" ||
		op.ClientIds != "sts.aliyuncs.com,b" || op.Fingerprints != strings.ToLower(fp(0xAB)) || op.IssuanceLimitTime != 12 ||
		op.Description != "CI" || !imsDateRE.MatchString(op.CreateDate) || !regexp.MustCompile(`^\d{13}$`).MatchString(op.GmtCreate) ||
		!regexp.MustCompile(`^\d{13}$`).MatchString(op.GmtModified) {
		t.Errorf("CreateOIDCProvider = %+v", op)
	}
	env.imsFedEvent(t, cr.RequestId, "CreateOIDCProvider", "")

	var many []string
	for i := range 51 {
		many = append(many, fmt.Sprint("client-", i))
	}
	for _, c := range []struct {
		what   string
		tweak  func(*imssdk.CreateOIDCProviderRequest)
		code   string
		status int
	}{
		{"a duplicate issuer", func(r *imssdk.CreateOIDCProviderRequest) { r.OIDCProviderName = "other" }, "EntityAlreadyExists.OIDCProvider.Url", 409},
		{"a name in another case", func(r *imssdk.CreateOIDCProviderRequest) {
			r.OIDCProviderName, r.IssuerUrl = "github", "https://gitlab.com"
		},
			"EntityAlreadyExists.OIDCProvider", 409},
		{"a bad name", func(r *imssdk.CreateOIDCProviderRequest) { r.OIDCProviderName = "git hub" }, "InvalidParameter.OIDCProviderName", 400},
		{"an http issuer", func(r *imssdk.CreateOIDCProviderRequest) { r.OIDCProviderName, r.IssuerUrl = "x", "http://gitlab.com" }, "InvalidParameter.IssuerUrl", 400},
		{"an issuer with a query", func(r *imssdk.CreateOIDCProviderRequest) {
			r.OIDCProviderName, r.IssuerUrl = "x", "https://gitlab.com/?a=1"
		},
			"InvalidParameter.IssuerUrl", 400},
		{"51 client ids", func(r *imssdk.CreateOIDCProviderRequest) {
			r.OIDCProviderName, r.IssuerUrl, r.ClientIds = "x", "https://gitlab.com", strings.Join(many, ",")
		}, "LimitExceeded.OIDCProvider.ClientId", 409},
		{"a bad client id", func(r *imssdk.CreateOIDCProviderRequest) {
			r.OIDCProviderName, r.IssuerUrl, r.ClientIds = "x", "https://gitlab.com", "_x"
		},
			"InvalidParameter.ClientIds", 400},
		{"six fingerprints", func(r *imssdk.CreateOIDCProviderRequest) {
			r.OIDCProviderName, r.IssuerUrl = "x", "https://gitlab.com"
			r.Fingerprints = strings.Join([]string{fp(1), fp(2), fp(3), fp(4), fp(5), fp(6)}, ",")
		}, "LimitExceeded.OIDCProvider.Fingerprint", 409},
		{"a bad fingerprint", func(r *imssdk.CreateOIDCProviderRequest) {
			r.OIDCProviderName, r.IssuerUrl, r.Fingerprints = "x", "https://gitlab.com", "abc"
		},
			"InvalidParameter.Fingerprints", 400},
		{"IssuanceLimitTime 169", func(r *imssdk.CreateOIDCProviderRequest) {
			r.OIDCProviderName, r.IssuerUrl, r.IssuanceLimitTime = "x", "https://gitlab.com", requests.NewInteger(169)
		}, "InvalidParameter.IssuanceLimitTime", 400},
		{"IssuanceLimitTime 0", func(r *imssdk.CreateOIDCProviderRequest) {
			r.OIDCProviderName, r.IssuerUrl, r.IssuanceLimitTime = "x", "https://gitlab.com", requests.NewInteger(0)
		}, "InvalidParameter.IssuanceLimitTime", 400},
		{"no fingerprint", func(r *imssdk.CreateOIDCProviderRequest) {
			r.OIDCProviderName, r.IssuerUrl, r.Fingerprints = "x", "https://gitlab.com", ""
		},
			"MissingParameter", 400},
	} {
		_, err := create(c.tweak)
		expectCode(t, err, c.code, c.status, c.what)
	}

	// The lists change one item at a time, in insertion order.
	name := "github"
	type changeReq interface{ requests.AcsRequest }
	step := func(what string, r changeReq, call func() (imssdk.OIDCProvider, string, error)) imssdk.OIDCProvider {
		t.Helper()
		env.at(r)
		p, rid, err := call()
		must(t, err, what)
		env.imsFedEvent(t, rid, what, "")
		return p
	}
	add := imssdk.CreateAddClientIdToOIDCProviderRequest()
	add.OIDCProviderName, add.ClientId = name, "a"
	p := step("AddClientIdToOIDCProvider", add, func() (imssdk.OIDCProvider, string, error) {
		r, err := c.AddClientIdToOIDCProvider(add)
		return r.OIDCProvider, r.RequestId, err
	})
	if p.ClientIds != "sts.aliyuncs.com,b,a" {
		t.Errorf("after adding a client id: %q", p.ClientIds)
	}
	rm := imssdk.CreateRemoveClientIdFromOIDCProviderRequest()
	rm.OIDCProviderName, rm.ClientId = name, "b"
	p = step("RemoveClientIdFromOIDCProvider", rm, func() (imssdk.OIDCProvider, string, error) {
		r, err := c.RemoveClientIdFromOIDCProvider(rm)
		return r.OIDCProvider, r.RequestId, err
	})
	if p.ClientIds != "sts.aliyuncs.com,a" {
		t.Errorf("after removing a client id: %q", p.ClientIds)
	}
	addFP := imssdk.CreateAddFingerprintToOIDCProviderRequest()
	addFP.OIDCProviderName, addFP.Fingerprint = name, fp(0xCD)
	p = step("AddFingerprintToOIDCProvider", addFP, func() (imssdk.OIDCProvider, string, error) {
		r, err := c.AddFingerprintToOIDCProvider(addFP)
		return r.OIDCProvider, r.RequestId, err
	})
	if p.Fingerprints != strings.ToLower(fp(0xAB)+","+fp(0xCD)) {
		t.Errorf("after adding a fingerprint: %q", p.Fingerprints)
	}
	addFP.Fingerprint = "nothex"
	_, err = c.AddFingerprintToOIDCProvider(addFP)
	expectCode(t, err, "InvalidParameter.Fingerprints", 400, "adding a bad fingerprint")
	rmFP := imssdk.CreateRemoveFingerprintFromOIDCProviderRequest()
	rmFP.OIDCProviderName, rmFP.Fingerprint = name, fp(0xAB)
	p = step("RemoveFingerprintFromOIDCProvider", rmFP, func() (imssdk.OIDCProvider, string, error) {
		r, err := c.RemoveFingerprintFromOIDCProvider(rmFP)
		return r.OIDCProvider, r.RequestId, err
	})
	if p.Fingerprints != strings.ToLower(fp(0xCD)) {
		t.Errorf("after removing a fingerprint: %q", p.Fingerprints)
	}
	rmFP.Fingerprint = fp(0xCD)
	_, err = c.RemoveFingerprintFromOIDCProvider(rmFP)
	expectCode(t, err, "InvalidParameter.Fingerprints", 400, "removing the last fingerprint")
	upd := imssdk.CreateUpdateOIDCProviderRequest()
	upd.OIDCProviderName, upd.ClientIds, upd.IssuanceLimitTime, upd.NewDescription = name, "x,y", requests.NewInteger(168), "new"
	p = step("UpdateOIDCProvider", upd, func() (imssdk.OIDCProvider, string, error) {
		r, err := c.UpdateOIDCProvider(upd)
		return r.OIDCProvider, r.RequestId, err
	})
	if p.ClientIds != "x,y" || p.IssuanceLimitTime != 168 || p.Description != "new" || p.Fingerprints != strings.ToLower(fp(0xCD)) ||
		p.IssuerUrl != op.IssuerUrl {
		t.Errorf("UpdateOIDCProvider = %+v", p)
	}
	upd.IssuanceLimitTime = requests.NewInteger(169)
	_, err = c.UpdateOIDCProvider(upd)
	expectCode(t, err, "InvalidParameter.IssuanceLimitTime", 400, "UpdateOIDCProvider 169")

	// Get and List (XML too), then Delete.
	get := imssdk.CreateGetOIDCProviderRequest()
	env.at(get)
	get.OIDCProviderName, get.AcceptFormat = "GITHUB", "XML"
	g, err := c.GetOIDCProvider(get)
	must(t, err, "GetOIDCProvider XML")
	if g.OIDCProvider.OIDCProviderName != "GitHub" || g.OIDCProvider.ClientIds != "x,y" || !strings.Contains(g.GetHttpContentString(), "<GetOIDCProviderResponse>") {
		t.Errorf("GetOIDCProvider = %s", g.GetHttpContentString())
	}
	_, err = create(func(r *imssdk.CreateOIDCProviderRequest) {
		r.OIDCProviderName, r.IssuerUrl = "gitlab", "https://gitlab.com"
	})
	must(t, err, "CreateOIDCProvider gitlab")
	list := imssdk.CreateListOIDCProvidersRequest()
	env.at(list)
	list.MaxItems = requests.NewInteger(1)
	lr, err := c.ListOIDCProviders(list)
	must(t, err, "ListOIDCProviders")
	if len(lr.OIDCProviders.OIDCProvider) != 1 || lr.OIDCProviders.OIDCProvider[0].OIDCProviderName != "GitHub" || !lr.IsTruncated || lr.Marker == "" {
		t.Fatalf("ListOIDCProviders page 1 = %s", lr.GetHttpContentString())
	}
	list.Marker = lr.Marker
	lr, err = c.ListOIDCProviders(list)
	must(t, err, "ListOIDCProviders page 2")
	if len(lr.OIDCProviders.OIDCProvider) != 1 || lr.OIDCProviders.OIDCProvider[0].OIDCProviderName != "gitlab" || lr.IsTruncated {
		t.Errorf("ListOIDCProviders page 2 = %s", lr.GetHttpContentString())
	}
	del := imssdk.CreateDeleteOIDCProviderRequest()
	env.at(del)
	del.OIDCProviderName = "github"
	dr, err := c.DeleteOIDCProvider(del)
	must(t, err, "DeleteOIDCProvider")
	env.imsFedEvent(t, dr.RequestId, "DeleteOIDCProvider", "")
	get.OIDCProviderName, get.AcceptFormat = "GitHub", ""
	_, err = c.GetOIDCProvider(get)
	expectCode(t, err, "EntityNotExist.OIDCProvider", 404, "GetOIDCProvider after delete")
	_, err = create(nil)
	must(t, err, "the issuer again after its provider was deleted")
}

// A user allowed on one provider's ARN acts on that provider only, however
// it spells the name.
func TestIMSFederationAuthorization(t *testing.T) {
	env := newAPIEnv(t)
	admin := env.imsClient(env.admin.keyID, env.admin.secret)
	good := imsFedMetadata(t, "idp.example.com")
	for _, name := range []string{"Okta", "Entra"} {
		r := imssdk.CreateCreateSAMLProviderRequest()
		env.at(r)
		r.SAMLProviderName, r.EncodedSAMLMetadataDocument = name, b64(good)
		_, err := admin.CreateSAMLProvider(r)
		must(t, err, "CreateSAMLProvider "+name)
	}
	r := imssdk.CreateCreateOIDCProviderRequest()
	env.at(r)
	r.OIDCProviderName, r.IssuerUrl, r.Fingerprints = "GitHub", "https://token.actions.githubusercontent.com", strings.Repeat("a", 40)
	_, err := admin.CreateOIDCProvider(r)
	must(t, err, "CreateOIDCProvider")

	emp := env.createEmployee(env.owner, "oktaadmin")
	imsGrant(t, env.harness, "oktaadmin", "ManageOkta",
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:*SAMLProvider","Resource":"acs:ram:*:*:saml-provider/Okta"}]}`)
	c := env.imsClient(emp.keyID, emp.secret)
	get := imssdk.CreateGetSAMLProviderRequest()
	env.at(get)
	get.SAMLProviderName = "OKTA"
	_, err = c.GetSAMLProvider(get)
	must(t, err, "oktaadmin gets Okta")
	up := imssdk.CreateUpdateSAMLProviderRequest()
	env.at(up)
	up.SAMLProviderName, up.NewDescription = "okta", "managed"
	_, err = c.UpdateSAMLProvider(up)
	must(t, err, "oktaadmin updates Okta")

	get.SAMLProviderName = "Entra"
	_, err = c.GetSAMLProvider(get)
	se := expectCode(t, err, "NoPermission", 403, "oktaadmin gets Entra")
	if d := se.AccessDeniedDetail(); d["AuthAction"] != "ram:GetSAMLProvider" {
		t.Errorf("AccessDeniedDetail = %v", d)
	}
	get.SAMLProviderName = "nope"
	_, err = c.GetSAMLProvider(get)
	expectCode(t, err, "NoPermission", 403, "oktaadmin gets an unknown provider")
	del := imssdk.CreateDeleteSAMLProviderRequest()
	env.at(del)
	del.SAMLProviderName = "entra"
	_, err = c.DeleteSAMLProvider(del)
	expectCode(t, err, "NoPermission", 403, "oktaadmin deletes Entra")
	list := imssdk.CreateListSAMLProvidersRequest()
	env.at(list)
	_, err = c.ListSAMLProviders(list)
	expectCode(t, err, "NoPermission", 403, "oktaadmin lists")
	cr := imssdk.CreateCreateSAMLProviderRequest()
	env.at(cr)
	cr.SAMLProviderName, cr.EncodedSAMLMetadataDocument = "Other", b64(good)
	_, err = c.CreateSAMLProvider(cr)
	expectCode(t, err, "NoPermission", 403, "oktaadmin creates another")
	og := imssdk.CreateGetOIDCProviderRequest()
	env.at(og)
	og.OIDCProviderName = "GitHub"
	_, err = c.GetOIDCProvider(og)
	expectCode(t, err, "NoPermission", 403, "oktaadmin gets an OIDC provider")
	sso := imssdk.CreateGetUserSsoSettingsRequest()
	env.at(sso)
	_, err = c.GetUserSsoSettings(sso)
	expectCode(t, err, "NoPermission", 403, "oktaadmin reads the SSO setting")
	set := imssdk.CreateSetUserSsoSettingsRequest()
	env.at(set)
	set.SsoEnabled = requests.NewBoolean(false)
	_, err = c.SetUserSsoSettings(set)
	expectCode(t, err, "NoPermission", 403, "oktaadmin changes the SSO setting")

	providers, err := env.st.SAMLProviders(context.Background())
	must(t, err, "SAMLProviders")
	if len(providers) != 2 || providers[1].Description != "managed" {
		t.Errorf("providers after the refusals = %+v", providers)
	}
}

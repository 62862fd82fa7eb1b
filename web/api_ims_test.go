package web

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	imssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ims"

	"ramconsole/handlers"
	"ramconsole/ram"
	"ramconsole/store"
)

// The IMS OpenAPI (2019-08-15, SPEC §17.9) — the OpenID provider's
// applications and their secrets — driven by the official classic Go SDK's
// services/ims against the real app, on SQLite or PostgreSQL.

func (h *harness) imsClient(id, secret string) *imssdk.Client {
	h.t.Helper()
	c, err := imssdk.NewClientWithAccessKey("cn-hangzhou", id, secret)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// imsGrant creates a custom policy and attaches it to a user, as the owner.
func imsGrant(t testing.TB, h *harness, user, name, doc string) {
	t.Helper()
	a := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	ctx := context.Background()
	if _, err := h.svc.CreatePolicy(ctx, a, name, doc, ""); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if err := h.svc.AttachPolicyToUser(ctx, a, "Custom", name, user); err != nil {
		t.Fatalf("attach %s: %v", name, err)
	}
}

// imsCreate creates an application through the SDK.
func (h *harness) imsCreate(c *imssdk.Client, name, appType, redirects string, tweak func(*imssdk.CreateApplicationRequest)) (*imssdk.CreateApplicationResponse, error) {
	req := imssdk.CreateCreateApplicationRequest()
	h.at(req)
	req.AppName, req.DisplayName, req.AppType, req.RedirectUris = name, "App "+name, appType, redirects
	if tweak != nil {
		tweak(req)
	}
	return c.CreateApplication(req)
}

func (h *harness) imsGet(c *imssdk.Client, appID string) (*imssdk.GetApplicationResponse, error) {
	req := imssdk.CreateGetApplicationRequest()
	h.at(req)
	req.AppId = appID
	return c.GetApplication(req)
}

// expectIMSEvent checks that a change left its event: eventSource oidc,
// eventName the action, eventType ApiCall, the caller's AccessKeyId, and
// the error code (empty for success).
func (h *harness) expectIMSEvent(t *testing.T, requestID, action, errorCode string) store.StoredEvent {
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
	if e.EventSource != "oidc" || e.EventType != "ApiCall" || e.ErrorCode != errorCode || e.IsError != (errorCode != "") ||
		e.UserIdentity.AccessKeyID == "" {
		t.Errorf("%s event: source %q type %q errorCode %q isError %v key %q, want oidc ApiCall %q", action, e.EventSource, e.EventType,
			e.ErrorCode, e.IsError, e.UserIdentity.AccessKeyID, errorCode)
	}
	return e
}

var imsDateRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// checkIMSApplication checks the fields every Application answer carries.
func checkIMSApplication(t *testing.T, what, acct string, a imssdk.Application) {
	t.Helper()
	if !regexp.MustCompile(`^\d{19}$`).MatchString(a.AppId) {
		t.Errorf("%s: AppId %q is not 19 digits", what, a.AppId)
	}
	if a.AccountId != acct || a.IsMultiTenant || a.TenantId != "" || a.AppPrincipalName != "" {
		t.Errorf("%s: AccountId %q IsMultiTenant %v TenantId %q AppPrincipalName %q", what, a.AccountId, a.IsMultiTenant, a.TenantId, a.AppPrincipalName)
	}
	if !imsDateRE.MatchString(a.CreateDate) || !imsDateRE.MatchString(a.UpdateDate) {
		t.Errorf("%s: dates %q %q", what, a.CreateDate, a.UpdateDate)
	}
	scopes := a.DelegatedScope.PredefinedScopes.PredefinedScope
	if len(scopes) == 0 || scopes[0].Name != "openid" {
		t.Errorf("%s: scopes %+v do not start with openid", what, scopes)
	}
	for _, sc := range scopes {
		if sc.Description == "" {
			t.Errorf("%s: scope %s has no description", what, sc.Name)
		}
	}
}

func imsScopeNames(a imssdk.Application) (names, required []string) {
	for _, sc := range a.DelegatedScope.PredefinedScopes.PredefinedScope {
		names = append(names, sc.Name)
		if sc.Required {
			required = append(required, sc.Name)
		}
	}
	return names, required
}

func TestIMSApplicationsThroughClassicSDK(t *testing.T) {
	env := newAPIEnv(t)
	c := env.imsClient(env.admin.keyID, env.admin.secret)
	acct := env.accountID()

	// A WebApp: its secret is required whatever is asked.
	web, err := env.imsCreate(c, "wiki", "WebApp", "https://wiki.example.com/callback;http://wiki.corp.example/cb", func(r *imssdk.CreateApplicationRequest) {
		r.PredefinedScopes, r.RequiredScopes = "profile;email;groups", "openid;email"
		r.SecretRequired = requests.NewBoolean(false)
		r.AccessTokenValidity, r.RefreshTokenValidity = requests.NewInteger(7200), requests.NewInteger(86400)
		r.IsMultiTenant, r.AppPrincipalName = requests.NewBoolean(false), "ignored"
	})
	must(t, err, "CreateApplication WebApp")
	wa := web.Application
	checkIMSApplication(t, "CreateApplication WebApp", acct, wa)
	if wa.AppName != "wiki" || wa.DisplayName != "App wiki" || wa.AppType != "WebApp" || !wa.SecretRequired ||
		wa.AccessTokenValidity != 7200 || wa.RefreshTokenValidity != 86400 {
		t.Errorf("WebApp = %+v", wa)
	}
	if got := wa.RedirectUris.RedirectUri; !slices.Equal(got, []string{"https://wiki.example.com/callback", "http://wiki.corp.example/cb"}) {
		t.Errorf("WebApp RedirectUris = %q", got)
	}
	names, required := imsScopeNames(wa)
	if !slices.Equal(names, []string{"openid", "profile", "email", "groups"}) || !slices.Equal(required, []string{"openid", "email"}) {
		t.Errorf("WebApp scopes %q required %q", names, required)
	}
	env.expectIMSEvent(t, web.RequestId, "CreateApplication", "")

	// A NativeApp: public, defaults, a loopback http redirect.
	native, err := env.imsCreate(c, "cli-tool", "NativeApp", "http://127.0.0.1:8400/callback", nil)
	must(t, err, "CreateApplication NativeApp")
	na := native.Application
	checkIMSApplication(t, "CreateApplication NativeApp", acct, na)
	if na.AppType != "NativeApp" || na.SecretRequired || na.AccessTokenValidity != 3600 || na.RefreshTokenValidity != 2592000 {
		t.Errorf("NativeApp = %+v", na)
	}
	if names, _ := imsScopeNames(na); !slices.Equal(names, []string{"openid"}) {
		t.Errorf("NativeApp scopes = %q", names)
	}
	env.expectIMSEvent(t, native.RequestId, "CreateApplication", "")

	// Get and List.
	got, err := env.imsGet(c, wa.AppId)
	must(t, err, "GetApplication")
	if got.Application.AppName != "wiki" || got.Application.CreateDate != wa.CreateDate || got.RequestId == "" {
		t.Errorf("GetApplication = %+v", got.Application)
	}
	checkIMSApplication(t, "GetApplication", acct, got.Application)
	list := imssdk.CreateListApplicationsRequest()
	env.at(list)
	apps, err := c.ListApplications(list)
	must(t, err, "ListApplications")
	var listed []string
	for _, a := range apps.Applications.Application {
		listed = append(listed, a.AppName)
		checkIMSApplication(t, "ListApplications", acct, a)
	}
	slices.Sort(listed)
	if !slices.Equal(listed, []string{"cli-tool", "wiki"}) {
		t.Errorf("ListApplications = %q", listed)
	}

	// Update: absent parameters are left alone; redirect URIs are
	// semicolon-separated.
	upd := imssdk.CreateUpdateApplicationRequest()
	env.at(upd)
	upd.AppId, upd.NewDisplayName = na.AppId, "CLI"
	upd.NewRedirectUris = "http://localhost:8400/cb;http://[::1]:8400/cb;https://cli.example.com/done?x=1"
	upd.NewPredefinedScopes, upd.NewRequiredScopes = "openid;offline_access;aliuid", "aliuid"
	upd.NewSecretRequired, upd.NewAccessTokenValidity = requests.NewBoolean(true), requests.NewInteger(900)
	upd.NewIsMultiTenant = requests.NewBoolean(false)
	updated, err := c.UpdateApplication(upd)
	must(t, err, "UpdateApplication")
	ua := updated.Application
	checkIMSApplication(t, "UpdateApplication", acct, ua)
	if ua.DisplayName != "CLI" || !ua.SecretRequired || ua.AccessTokenValidity != 900 || ua.RefreshTokenValidity != 2592000 ||
		ua.AppName != "cli-tool" || ua.AppType != "NativeApp" {
		t.Errorf("UpdateApplication = %+v", ua)
	}
	if got := ua.RedirectUris.RedirectUri; !slices.Equal(got, []string{"http://localhost:8400/cb", "http://[::1]:8400/cb", "https://cli.example.com/done?x=1"}) {
		t.Errorf("updated RedirectUris = %q", got)
	}
	if names, required := imsScopeNames(ua); !slices.Equal(names, []string{"openid", "aliuid", "offline_access"}) || !slices.Equal(required, []string{"aliuid"}) {
		t.Errorf("updated scopes %q required %q", names, required)
	}
	env.expectIMSEvent(t, updated.RequestId, "UpdateApplication", "")
	upd = imssdk.CreateUpdateApplicationRequest()
	env.at(upd)
	upd.AppId, upd.NewRefreshTokenValidity = na.AppId, requests.NewInteger(7200)
	updated, err = c.UpdateApplication(upd)
	must(t, err, "UpdateApplication (one field)")
	if a := updated.Application; a.DisplayName != "CLI" || a.AccessTokenValidity != 900 || a.RefreshTokenValidity != 7200 || len(a.RedirectUris.RedirectUri) != 3 {
		t.Errorf("UpdateApplication (one field) = %+v", a)
	}

	// Secrets: two at most, the value shown once.
	var secretIDs []string
	for i := 0; i < 2; i++ {
		req := imssdk.CreateCreateAppSecretRequest()
		env.at(req)
		req.AppId = wa.AppId
		s, err := c.CreateAppSecret(req)
		must(t, err, "CreateAppSecret")
		if s.AppSecret.AppId != wa.AppId || s.AppSecret.AppSecretId == "" || !regexp.MustCompile(`^[A-Za-z0-9]{40,}$`).MatchString(s.AppSecret.AppSecretValue) ||
			!imsDateRE.MatchString(s.AppSecret.CreateDate) {
			t.Errorf("CreateAppSecret = %+v", s.AppSecret)
		}
		env.expectIMSEvent(t, s.RequestId, "CreateAppSecret", "")
		for _, e := range env.events() {
			if strings.Contains(e.Body, s.AppSecret.AppSecretValue) {
				t.Errorf("the secret's value is in the audit log: %s", e.Body)
			}
		}
		secretIDs = append(secretIDs, s.AppSecret.AppSecretId)
	}
	third := imssdk.CreateCreateAppSecretRequest()
	env.at(third)
	third.AppId = wa.AppId
	_, err = c.CreateAppSecret(third)
	expectCode(t, err, "LimitExceeded.AppSecret", 409, "a third secret")

	gs := imssdk.CreateGetAppSecretRequest()
	env.at(gs)
	gs.AppId, gs.AppSecretId = wa.AppId, secretIDs[1]
	sec, err := c.GetAppSecret(gs)
	must(t, err, "GetAppSecret")
	if sec.AppSecret.AppSecretId != secretIDs[1] || sec.AppSecret.AppId != wa.AppId || sec.AppSecret.AppSecretValue != "" || !imsDateRE.MatchString(sec.AppSecret.CreateDate) {
		t.Errorf("GetAppSecret = %+v", sec.AppSecret)
	}
	if strings.Contains(sec.GetHttpContentString(), `"AppSecretValue":"`) && !strings.Contains(sec.GetHttpContentString(), `"AppSecretValue":""`) {
		t.Errorf("GetAppSecret answer carries a value: %s", sec.GetHttpContentString())
	}
	gs.AppSecretId = "nope"
	_, err = c.GetAppSecret(gs)
	expectCode(t, err, "EntityNotExist.AppSecret", 404, "GetAppSecret of an unknown id")

	listSecrets := func() []string {
		t.Helper()
		req := imssdk.CreateListAppSecretIdsRequest()
		env.at(req)
		req.AppId = wa.AppId
		r, err := c.ListAppSecretIds(req)
		must(t, err, "ListAppSecretIds")
		var ids []string
		for _, s := range r.AppSecrets.AppSecret {
			if s.AppSecretValue != "" || s.AppId != wa.AppId || !imsDateRE.MatchString(s.CreateDate) {
				t.Errorf("ListAppSecretIds item = %+v", s)
			}
			ids = append(ids, s.AppSecretId)
		}
		slices.Sort(ids)
		return ids
	}
	want := slices.Clone(secretIDs)
	slices.Sort(want)
	if ids := listSecrets(); !slices.Equal(ids, want) {
		t.Errorf("ListAppSecretIds = %q, want %q", ids, want)
	}

	ds := imssdk.CreateDeleteAppSecretRequest()
	env.at(ds)
	ds.AppId, ds.AppSecretId = wa.AppId, secretIDs[0]
	dsr, err := c.DeleteAppSecret(ds)
	must(t, err, "DeleteAppSecret")
	env.expectIMSEvent(t, dsr.RequestId, "DeleteAppSecret", "")
	if ids := listSecrets(); !slices.Equal(ids, secretIDs[1:]) {
		t.Errorf("after DeleteAppSecret: %q", ids)
	}
	ds = imssdk.CreateDeleteAppSecretRequest()
	env.at(ds)
	ds.AppId, ds.AppSecretId = wa.AppId, secretIDs[0]
	_, err = c.DeleteAppSecret(ds)
	expectCode(t, err, "EntityNotExist.AppSecret", 404, "deleting a deleted secret")

	// Delete the application.
	da := imssdk.CreateDeleteApplicationRequest()
	env.at(da)
	da.AppId = wa.AppId
	dar, err := c.DeleteApplication(da)
	must(t, err, "DeleteApplication")
	if dar.RequestId == "" {
		t.Error("DeleteApplication has no RequestId")
	}
	env.expectIMSEvent(t, dar.RequestId, "DeleteApplication", "")
	_, err = env.imsGet(c, wa.AppId)
	expectCode(t, err, "EntityNotExist.Application", 404, "GetApplication after delete")
	apps, err = c.ListApplications(list)
	must(t, err, "ListApplications after delete")
	if len(apps.Applications.Application) != 1 || apps.Applications.Application[0].AppName != "cli-tool" {
		t.Errorf("ListApplications after delete = %+v", apps.Applications.Application)
	}
}

func TestIMSErrors(t *testing.T) {
	env := newAPIEnv(t)
	c := env.imsClient(env.admin.keyID, env.admin.secret)
	app, err := env.imsCreate(c, "grafana", "WebApp", "https://grafana.example.com/login/generic_oauth", nil)
	must(t, err, "CreateApplication")
	appID := app.Application.AppId

	_, err = env.imsGet(c, "1234567890123456789")
	expectCode(t, err, "EntityNotExist.Application", 404, "GetApplication of an unknown AppId")
	for _, action := range []string{"UpdateApplication", "DeleteApplication", "CreateAppSecret", "ListAppSecretIds"} {
		req := requests.NewCommonRequest()
		env.at(req)
		req.Product, req.Version, req.ApiName, req.Method = "Ims", "2019-08-15", action, "POST"
		req.QueryParams = map[string]string{"AppId": "1234567890123456789", "NewDisplayName": "x"}
		_, err := c.ProcessCommonRequest(req)
		expectCode(t, err, "EntityNotExist.Application", 404, action+" of an unknown AppId")
	}

	_, err = env.imsCreate(c, "Grafana", "WebApp", "https://grafana.example.com/cb", nil)
	se := expectCode(t, err, "EntityAlreadyExists.Application", 409, "a duplicate name (case-insensitive)")
	env.expectIMSEvent(t, se.RequestId(), "CreateApplication", "EntityAlreadyExists.Application")

	_, err = env.imsCreate(c, "scim", "ServerApp", "https://scim.example.com/cb", nil)
	expectCode(t, err, "InvalidParameter.AppType", 400, "ServerApp")

	for _, uri := range []string{"http://app.example.com/cb", "https://app.example.com/cb#frag", "https://*.example.com/cb", "/relative"} {
		_, err = env.imsCreate(c, "native-bad", "NativeApp", uri, nil)
		expectCode(t, err, "InvalidParameter.RedirectUris", 400, "NativeApp redirect "+uri)
	}
	_, err = env.imsCreate(c, "no-redirect", "WebApp", "", nil)
	expectCode(t, err, "InvalidParameter.RedirectUris", 400, "no redirect URI")
	_, err = env.imsCreate(c, "short", "WebApp", "https://a.example.com/cb", func(r *imssdk.CreateApplicationRequest) {
		r.AccessTokenValidity = requests.NewInteger(100)
	})
	expectCode(t, err, "InvalidParameter.AccessTokenValidity", 400, "AccessTokenValidity 100")
	_, err = env.imsCreate(c, "badscope", "WebApp", "https://a.example.com/cb", func(r *imssdk.CreateApplicationRequest) {
		r.PredefinedScopes = "openid;phone"
	})
	expectCode(t, err, "InvalidParameter.PredefinedScopes", 400, "an unknown scope")
	_, err = env.imsCreate(c, "bad name!", "WebApp", "https://a.example.com/cb", nil)
	expectCode(t, err, "InvalidParameter.AppName", 400, "a bad name")
	_, err = env.imsCreate(c, "badbool", "WebApp", "https://a.example.com/cb", func(r *imssdk.CreateApplicationRequest) {
		r.SecretRequired = requests.Boolean("maybe")
	})
	expectCode(t, err, "InvalidParameter.SecretRequired", 400, "a bad boolean")
	_, err = env.imsCreate(c, "badint", "WebApp", "https://a.example.com/cb", func(r *imssdk.CreateApplicationRequest) {
		r.RefreshTokenValidity = requests.Integer("lots")
	})
	expectCode(t, err, "InvalidParameter.RefreshTokenValidity", 400, "a bad integer")
	_, err = env.imsCreate(c, "", "WebApp", "https://a.example.com/cb", nil)
	se = expectCode(t, err, "MissingParameter", 400, "no AppName")
	if !strings.Contains(se.Message(), `"AppName"`) {
		t.Errorf("MissingParameter message %q does not name AppName", se.Message())
	}
	_, err = env.imsGet(c, "")
	expectCode(t, err, "MissingParameter", 400, "GetApplication without AppId")

	// Refused updates change nothing.
	bad := []func(*imssdk.UpdateApplicationRequest){
		func(r *imssdk.UpdateApplicationRequest) { r.NewSecretRequired = requests.Boolean("yes") },
		func(r *imssdk.UpdateApplicationRequest) { r.NewAccessTokenValidity = requests.Integer("-5") },
		func(r *imssdk.UpdateApplicationRequest) { r.NewIsMultiTenant = requests.Boolean("1") },
		func(r *imssdk.UpdateApplicationRequest) { r.NewAccessTokenValidity = requests.NewInteger(100) },
		func(r *imssdk.UpdateApplicationRequest) {
			r.NewRedirectUris = "https://ok.example.com/cb;https://a.example.com/*"
		},
		func(r *imssdk.UpdateApplicationRequest) { r.NewDisplayName = strings.Repeat("x", 25) },
	}
	codes := []string{"InvalidParameter.NewSecretRequired", "InvalidParameter.NewAccessTokenValidity", "InvalidParameter.NewIsMultiTenant",
		"InvalidParameter.AccessTokenValidity", "InvalidParameter.RedirectUris", "InvalidParameter.DisplayName"}
	for i, tweak := range bad {
		req := imssdk.CreateUpdateApplicationRequest()
		env.at(req)
		req.AppId, req.NewRefreshTokenValidity = appID, requests.NewInteger(7200)
		if i != 5 {
			req.NewDisplayName = "Changed"
		}
		tweak(req)
		_, err := c.UpdateApplication(req)
		expectCode(t, err, codes[i], 400, "UpdateApplication "+codes[i])
	}
	after, err := env.imsGet(c, appID)
	must(t, err, "GetApplication")
	a := after.Application
	if a.DisplayName != "App grafana" || a.RefreshTokenValidity != 7776000 || a.AccessTokenValidity != 3600 || a.UpdateDate != app.Application.UpdateDate ||
		!slices.Equal(a.RedirectUris.RedirectUri, []string{"https://grafana.example.com/login/generic_oauth"}) {
		t.Errorf("after refused updates: %+v", a)
	}
	if n := len(env.imsApps(t)); n != 1 {
		t.Errorf("%d applications after refused creates, want 1", n)
	}
}

// imsApps lists the stored applications.
func (h *harness) imsApps(t *testing.T) []store.Application {
	t.Helper()
	apps, err := h.st.Applications(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return apps
}

func TestIMSAuthorization(t *testing.T) {
	env := newAPIEnv(t)
	admin := env.imsClient(env.admin.keyID, env.admin.secret)
	wiki, err := env.imsCreate(admin, "wiki", "WebApp", "https://wiki.example.com/cb", nil)
	must(t, err, "create wiki")
	gitlab, err := env.imsCreate(admin, "gitlab", "WebApp", "https://gitlab.example.com/cb", nil)
	must(t, err, "create gitlab")

	// No policy: nothing.
	nobody := env.createEmployee(env.owner, "nobody")
	nc := env.imsClient(nobody.keyID, nobody.secret)
	_, err = env.imsCreate(nc, "sneaky", "WebApp", "https://sneaky.example.com/cb", nil)
	se := expectCode(t, err, "NoPermission", 403, "CreateApplication without a policy")
	if d := se.AccessDeniedDetail(); d["AuthAction"] != "ram:CreateApplication" || d["AuthPrincipalDisplayName"] != "nobody" {
		t.Errorf("NoPermission AccessDeniedDetail = %v", d)
	}
	_, err = env.imsGet(nc, wiki.Application.AppId)
	expectCode(t, err, "NoPermission", 403, "GetApplication without a policy")
	list := imssdk.CreateListApplicationsRequest()
	env.at(list)
	_, err = nc.ListApplications(list)
	expectCode(t, err, "NoPermission", 403, "ListApplications without a policy")
	del := imssdk.CreateDeleteApplicationRequest()
	env.at(del)
	del.AppId = gitlab.Application.AppId
	_, err = nc.DeleteApplication(del)
	expectCode(t, err, "NoPermission", 403, "DeleteApplication without a policy")
	if n := len(env.imsApps(t)); n != 2 {
		t.Errorf("%d applications, want 2", n)
	}

	// ram:GetApplication on the wiki only.
	reader := env.createEmployee(env.owner, "wikireader")
	imsGrant(t, env.harness, "wikireader", "ReadWikiApp",
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:GetApplication","Resource":"acs:ram:*:*:application/wiki"}]}`)
	rc := env.imsClient(reader.keyID, reader.secret)
	got, err := env.imsGet(rc, wiki.Application.AppId)
	must(t, err, "wikireader gets wiki")
	if got.Application.AppName != "wiki" {
		t.Errorf("wikireader got %+v", got.Application)
	}
	_, err = env.imsGet(rc, gitlab.Application.AppId)
	expectCode(t, err, "NoPermission", 403, "wikireader gets gitlab")
	_, err = env.imsGet(rc, "1234567890123456789")
	expectCode(t, err, "NoPermission", 403, "wikireader gets an unknown AppId")
	_, err = rc.ListApplications(list)
	expectCode(t, err, "NoPermission", 403, "wikireader lists")
	sec := imssdk.CreateCreateAppSecretRequest()
	env.at(sec)
	sec.AppId = wiki.Application.AppId
	_, err = rc.CreateAppSecret(sec)
	expectCode(t, err, "NoPermission", 403, "wikireader creates a secret")

	// AliyunRAMFullAccess (ram:*) manages applications.
	ramAdmin := env.createEmployee(env.owner, "ramadmin")
	must(t, env.svc.AttachPolicyToUser(context.Background(), ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail,
		RequestID: ram.NewRequestID()}, "System", "AliyunRAMFullAccess", "ramadmin"), "attach AliyunRAMFullAccess")
	ra := env.imsClient(ramAdmin.keyID, ramAdmin.secret)
	apps, err := ra.ListApplications(list)
	must(t, err, "ramadmin lists")
	if len(apps.Applications.Application) != 2 {
		t.Errorf("ramadmin lists %d applications", len(apps.Applications.Application))
	}
}

// TestIMSRawXMLAndV3 checks the XML answers, a V3-signed call, the version
// routing, and the version's parameters as the raw protocol gives them.
func TestIMSRawXMLAndV3(t *testing.T) {
	env := newAPIEnv(t)
	id, secret := env.admin.keyID, env.admin.secret
	c := env.imsClient(id, secret)
	app, err := env.imsCreate(c, "wiki", "WebApp", "https://wiki.example.com/cb;https://wiki.example.com/cb2", func(r *imssdk.CreateApplicationRequest) {
		r.PredefinedScopes, r.RequiredScopes = "openid;groups", "groups"
	})
	must(t, err, "CreateApplication")
	appID := app.Application.AppId

	// The SDK decodes the XML answer.
	get := imssdk.CreateGetApplicationRequest()
	env.at(get)
	get.AppId, get.AcceptFormat = appID, "XML"
	x, err := c.GetApplication(get)
	must(t, err, "GetApplication XML")
	if !strings.Contains(x.GetHttpContentString(), "<GetApplicationResponse>") || x.Application.AppId != appID ||
		!slices.Equal(x.Application.RedirectUris.RedirectUri, []string{"https://wiki.example.com/cb", "https://wiki.example.com/cb2"}) {
		t.Errorf("XML GetApplication = %+v\n%s", x.Application, x.GetHttpContentString())
	}
	if names, required := imsScopeNames(x.Application); !slices.Equal(names, []string{"openid", "groups"}) || !slices.Equal(required, []string{"groups"}) {
		t.Errorf("XML scopes %q required %q", names, required)
	}

	p := env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"ListApplications"}, "Version": {handlers.IMSVersion}, "Format": {"XML"}}, nil)
	expectStatus(t, p, 200, "XML ListApplications")
	var lr struct {
		XMLName      xml.Name `xml:"ListApplicationsResponse"`
		RequestId    string
		Applications imssdk.Applications
	}
	if err := xml.Unmarshal([]byte(p.body), &lr); err != nil || lr.RequestId == "" || len(lr.Applications.Application) != 1 ||
		lr.Applications.Application[0].AccountId != env.accountID() {
		t.Fatalf("XML ListApplications = %v %s", err, p.body)
	}
	p = env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"GetApplication"}, "Version": {handlers.IMSVersion}, "AppId": {"1"}, "Format": {"XML"}}, nil)
	var xe struct {
		XMLName xml.Name `xml:"Error"`
		Code    string
	}
	if err := xml.Unmarshal([]byte(p.body), &xe); err != nil || p.status != 404 || xe.Code != "EntityNotExist.Application" {
		t.Fatalf("XML error = %d %v %s", p.status, err, p.body)
	}

	// JSON shape, exactly: the wrapped lists.
	p = env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"GetApplication"}, "Version": {handlers.IMSVersion}, "AppId": {appID}}, nil)
	expectStatus(t, p, 200, "JSON GetApplication")
	for _, frag := range []string{`"RedirectUris":{"RedirectUri":["https://wiki.example.com/cb","https://wiki.example.com/cb2"]}`,
		`"DelegatedScope":{"PredefinedScopes":{"PredefinedScope":[{"Name":"openid","Description":"Sign in with a RAM identity","Required":false},` +
			`{"Name":"groups","Description":"Group names","Required":true}]}}`,
		`"TenantId":""`, `"IsMultiTenant":false`, `"AppPrincipalName":""`} {
		if !strings.Contains(p.body, frag) {
			t.Errorf("GetApplication JSON lacks %s: %s", frag, p.body)
		}
	}
	p = env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"ListAppSecretIds"}, "Version": {handlers.IMSVersion}, "AppId": {appID}}, nil)
	expectStatus(t, p, 200, "ListAppSecretIds")
	if !strings.Contains(p.body, `"AppSecrets":{"AppSecret":[]}`) {
		t.Errorf("ListAppSecretIds with none = %s", p.body)
	}

	// V3: the version in x-acs-version.
	req := env.v3Request(id, secret, "GetApplication", url.Values{"AppId": {appID}}, nil)
	req.Header.Set("x-acs-version", handlers.IMSVersion)
	signV3(req, id, secret)
	p = env.send(req)
	expectStatus(t, p, 200, "V3 GetApplication")
	if !strings.Contains(p.body, `"AppName":"wiki"`) {
		t.Errorf("V3 GetApplication = %s", p.body)
	}
	form := []byte(url.Values{"AppId": {appID}, "NewDisplayName": {"Wiki (V3)"}}.Encode())
	req = env.v3Request(id, secret, "UpdateApplication", nil, form)
	req.Header.Set("x-acs-version", handlers.IMSVersion)
	signV3(req, id, secret)
	p = env.send(req)
	expectStatus(t, p, 200, "V3 UpdateApplication with a form body")
	if !strings.Contains(p.body, `"DisplayName":"Wiki (V3)"`) {
		t.Errorf("V3 UpdateApplication = %s", p.body)
	}

	// The versions do not mix.
	for _, tc := range []struct{ action, version string }{{"GetApplication", "2015-05-01"}, {"GetUser", handlers.IMSVersion},
		{"AssumeRole", handlers.IMSVersion}, {"ListApplications", "2015-04-01"}} {
		p := env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {tc.action}, "Version": {tc.version}, "AppId": {appID}, "UserName": {"apiadmin"}}, nil)
		expectAPIError(t, p, "InvalidAction.NotFound", 404, tc.action+" "+tc.version)
	}
	p = env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"GetApplication"}, "Version": {"2019-08-16"}, "AppId": {appID}}, nil)
	e := expectAPIError(t, p, "InvalidParameter", 400, "an unknown version")
	if !strings.Contains(e.Message, handlers.IMSVersion) {
		t.Errorf("version message %q does not name IMS's", e.Message)
	}
	p = env.rawV1(id, secret, http.MethodPost, url.Values{"Action": {"DeleteAppSecret"}, "Version": {handlers.IMSVersion}, "AppId": {appID}}, nil)
	e = expectAPIError(t, p, "MissingParameter", 400, "DeleteAppSecret without AppSecretId")
	if !strings.Contains(e.Message, `"AppSecretId"`) {
		t.Errorf("MissingParameter message %q", e.Message)
	}

	// Every served IMS action is one of the nine of applications or the
	// sixteen of federation (api_ims_federation_test.go).
	served := handlers.IMSActions()
	slices.Sort(served)
	nine := append([]string{"CreateAppSecret", "CreateApplication", "DeleteAppSecret", "DeleteApplication", "GetAppSecret", "GetApplication",
		"ListAppSecretIds", "ListApplications", "UpdateApplication"}, append(imsFederationActions, imsReportActions...)...)
	slices.Sort(nine)
	if !slices.Equal(served, nine) {
		t.Errorf("IMS actions = %q", served)
	}
}

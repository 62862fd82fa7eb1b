package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"

	"ramconsole/handlers"
)

// Names are unique case-insensitively, so "TARGET" finds the user stored as
// "Target". Authorisation must judge the stored entity: with a Deny on
// user/Target, group/Admins and policy/Break-Glass, no spelling of those
// names gets through, in the console or the API.

const denyCanonical = `{"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":[
	"acs:ram:*:*:user/Target","acs:ram:*:*:group/Admins","acs:ram:*:*:policy/Break-Glass","acs:ram:*:*:role/Ops-Role",
	"acs:gateway::*:service/ops-svc","acs:ram:*:*:application/Ops-App",
	"acs:ram:*:*:saml-provider/Ops-Idp","acs:ram:*:*:oidc-provider/Ops-Idp"]}]}`

var (
	userVariants   = []string{"Target", "target", "TARGET", "tArGeT"}
	groupVariants  = []string{"Admins", "admins", "ADMINS"}
	policyVariants = []string{"Break-Glass", "break-glass", "BREAK-GLASS"}
	roleVariants   = []string{"Ops-Role", "ops-role", "OPS-ROLE", "oPs-RoLe"}
	// Service codes are lower-case; other spellings find the same service.
	serviceVariants = []string{"ops-svc", "OPS-SVC", "Ops-Svc", "oPs-sVc"}
	appVariants     = []string{"Ops-App", "ops-app", "OPS-APP", "oPs-ApP"}
	idpVariants     = []string{"Ops-Idp", "ops-idp", "OPS-IDP", "oPs-IdP"}
)

// caseFixtures creates the protected user (with console access, a key and a
// group), group and policy, and returns the target's AccessKey id.
func caseFixtures(t *testing.T, h *harness, owner *browser) string {
	t.Helper()
	owner.get("/users/new")
	expectHandover(t, owner.post("/users", url.Values{"name": {"Target"}, "console_login": {"true"}, "password": {ramUserPW},
		"create_access_key": {"true"}}), "create Target")
	owner.get("/groups/new")
	expectRedirect(t, owner.post("/groups", url.Values{"name": {"Admins"}}), "/groups/Admins", "create Admins")
	owner.get("/policies/new")
	expectRedirect(t, owner.post("/policies", url.Values{"name": {"Break-Glass"}, "document": {
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`}}), "/policies/Custom/Break-Glass", "create Break-Glass")
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"Ops-Role"}, "preset": {"account"}, "max_session_duration": {"3600"}}),
		"/roles/Ops-Role", "create Ops-Role")
	owner.get("/services/new")
	expectRedirect(t, owner.post("/services", url.Values{"definition": {`{"code": "ops-svc", "name": "Ops", "hosts": ["ops.example"],
		"style": "rpc", "resources": {"*": "*"}}`}}), "/services/ops-svc", "create ops-svc")
	createApp(t, owner, appForm("Ops-App", nil))
	owner.get("/sso/saml-providers/new")
	expectRedirect(t, owner.post("/sso/saml-providers", url.Values{"name": {"Ops-Idp"}, "metadata": {ssoTestMetadata(t)}}),
		"/sso/saml-providers/Ops-Idp", "create the SAML provider Ops-Idp")
	owner.get("/sso/oidc-providers/new")
	expectRedirect(t, owner.post("/sso/oidc-providers", url.Values{"name": {"Ops-Idp"}, "issuer_url": {"https://ops.example.com"},
		"client_ids": {"sts.aliyuncs.com"}, "fingerprints": {strings.Repeat("ab", 20)}}), "/sso/oidc-providers/Ops-Idp", "create the OIDC provider Ops-Idp")
	owner.get("/users/Target")
	expectRedirect(t, owner.post("/users/Target/groups", url.Values{"group": {"Admins"}}), "/users/Target", "Target joins Admins")
	u, err := h.st.UserByName(context.Background(), "Target")
	if err != nil {
		t.Fatal(err)
	}
	keys, _ := h.st.AccessKeys(context.Background(), u.UserID)
	return keys[0].AccessKeyID
}

// namesRoute says whether a console route acts on a named user, group or
// policy (from its path or its form), not only on a collection.
func namesRoute(r Route) bool {
	return strings.Contains(r.Path, "/:") && !strings.HasPrefix(r.Path, "/audit/") || r.Path == "/simulator"
}

func TestCaseVariantsCannotBypassDenyInTheConsole(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	keyID := caseFixtures(t, h, owner)
	mallory := h.ramUser(owner, "mallory", []string{"AdministratorAccess"}, map[string]string{"DenyProtected": denyCanonical})

	checked := 0
	for _, r := range h.app.Routes() {
		if r.Access != SignedIn || r.Action == "" || !namesRoute(r) {
			continue
		}
		for i := range userVariants {
			u, g, p := userVariants[i], groupVariants[i%len(groupVariants)], policyVariants[i%len(policyVariants)]
			path := strings.NewReplacer(":type", "Custom", ":version", "v1", ":id", keyID, ":token", "nope").Replace(r.Path)
			switch {
			case strings.HasPrefix(path, "/users/"):
				path = strings.NewReplacer(":name", u, ":group", g, ":policy", p).Replace(path)
			case strings.HasPrefix(path, "/groups/"):
				path = strings.NewReplacer(":name", g, ":user", u, ":policy", p).Replace(path)
			case strings.HasPrefix(path, "/policies/"):
				path = strings.Replace(path, ":name", p, 1)
			case strings.HasPrefix(path, "/roles/"):
				path = strings.NewReplacer(":name", roleVariants[i], ":policy", p).Replace(path)
			case strings.HasPrefix(path, "/services/"):
				path = strings.Replace(path, ":code", serviceVariants[i], 1)
			case strings.HasPrefix(path, "/applications/"):
				path = strings.Replace(path, ":name", appVariants[i], 1)
			case strings.HasPrefix(path, "/sso/"):
				path = strings.Replace(path, ":name", idpVariants[i], 1)
			}
			form := url.Values{"group": {g}, "user": {u}, "policy_type": {"Custom"}, "policy_name": {p},
				"name": {u + "2"}, "action": {"ram:GetUser"}, "resource": {"*"}}
			var pg page
			if r.Method == http.MethodGet {
				pg = mallory.get(path + "?user=" + u)
			} else {
				mallory.get("/me")
				pg = mallory.post(path, form)
			}
			if pg.status != http.StatusForbidden {
				t.Errorf("%s %s as mallory (Deny on the stored names): status %d → %q, want 403", r.Method, path, pg.status, pg.header.Get("Location"))
			}
		}
		checked++
	}
	if checked < 30 {
		t.Errorf("only %d routes checked", checked)
	}
	assertProtectedIntact(t, h, keyID)
}

func TestCaseVariantsCannotBypassDenyInTheAPI(t *testing.T) {
	env := newAPIEnv(t)
	h := env.harness
	keyID := caseFixtures(t, h, env.owner)
	mallory := h.createEmployee(env.owner, "mallory")
	grantAdmin(t, h, "mallory")
	env.owner.get("/policies/new")
	env.owner.post("/policies", url.Values{"name": {"DenyProtected"}, "document": {denyCanonical}})
	env.owner.get("/users/mallory")
	expectRedirect(t, env.owner.post("/users/mallory/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"DenyProtected"}}),
		"/users/mallory", "attach the deny")
	client := h.sdkClient(mallory.keyID, mallory.secret)

	// Actions that act on a named user, group or policy; the AccessKey
	// actions name their user with the optional UserName.
	keyActions := []string{"CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "ListAccessKeys", "GetAccessKeyLastUsed"}
	checked := 0
	for _, action := range handlers.APIActions() {
		required := handlers.APIActionParams(action)
		if strings.HasPrefix(action, "Create") && action != "CreateAccessKey" && action != "CreateLoginProfile" && action != "CreatePolicyVersion" {
			continue // creating names a new entity, authorised on the collection
		}
		names := slices.Contains(required, "UserName") || slices.Contains(required, "GroupName") || slices.Contains(required, "PolicyName") ||
			slices.Contains(required, "RoleName") || slices.Contains(keyActions, action)
		if !names {
			continue
		}
		for i := range userVariants {
			params := map[string]string{
				"UserName": userVariants[i], "GroupName": groupVariants[i%len(groupVariants)], "PolicyName": policyVariants[i%len(policyVariants)],
				"PolicyType": "Custom", "UserAccessKeyId": keyID, "Status": "Inactive", "Password": "Another-Strong-Pass-93",
				"VersionId": "v1", "PolicyDocument": `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
				"SerialNumber": "acs:ram::" + h.accountID() + ":mfa/x", "AuthenticationCode1": "123456", "AuthenticationCode2": "654321",
				"NewUserName": "renamed", "NewGroupName": "renamed", "RoleName": roleVariants[i],
				"AssumeRolePolicyDocument": trustAccount(h.accountID()),
			}
			req := requests.NewCommonRequest()
			h.at(req)
			req.Version, req.ApiName, req.Method = "2015-05-01", action, "POST"
			req.QueryParams = params
			_, err := client.ProcessCommonRequest(req)
			if err == nil {
				t.Errorf("%s with %v as mallory succeeded, want NoPermission", action, params["UserName"])
				continue
			}
			se := serverError(t, err, action)
			if se.ErrorCode() != "NoPermission" || se.HttpStatus() != 403 {
				t.Errorf("%s (UserName=%s GroupName=%s PolicyName=%s): %s (%d), want NoPermission (403)", action,
					params["UserName"], params["GroupName"], params["PolicyName"], se.ErrorCode(), se.HttpStatus())
			}
		}
		checked++
	}
	if checked < 25 {
		t.Errorf("only %d actions checked", checked)
	}
	assertProtectedIntact(t, h, keyID)
}

// assertProtectedIntact checks that none of the refused requests changed
// the protected user, group and policy.
func assertProtectedIntact(t *testing.T, h *harness, keyID string) {
	t.Helper()
	ctx := context.Background()
	u, err := h.st.UserByName(ctx, "Target")
	if err != nil || u.UserName != "Target" {
		t.Fatalf("Target: %v %v", u, err)
	}
	if k, err := h.st.AccessKey(ctx, keyID); err != nil || k.Status != "Active" {
		t.Errorf("Target's key: %+v %v", k, err)
	}
	if _, err := h.st.LoginProfile(ctx, u.UserID); err != nil {
		t.Errorf("Target's login profile: %v", err)
	}
	if _, err := h.st.ResourceService(ctx, "ops-svc"); err != nil {
		t.Errorf("ops-svc: %v", err)
	}
	if gs, _ := h.st.GroupsForUser(ctx, u.UserID); len(gs) != 1 || gs[0].GroupName != "Admins" {
		t.Errorf("Target's groups: %+v", gs)
	}
	if p, err := h.st.CustomPolicy(ctx, "Break-Glass"); err != nil || p.PolicyName != "Break-Glass" {
		t.Errorf("Break-Glass: %v %v", p, err)
	}
	if r, err := h.st.RoleByName(ctx, "Ops-Role"); err != nil || r.Description != "" || r.MaxSessionDuration != 3600 {
		t.Errorf("Ops-Role: %+v %v", r, err)
	} else if atts, _ := h.st.RoleAttachments(ctx, r.RoleID); len(atts) != 0 {
		t.Errorf("Ops-Role got attachments: %+v", atts)
	}
	if atts, _ := h.st.UserAttachments(ctx, u.UserID); len(atts) != 0 {
		t.Errorf("Target got attachments: %+v", atts)
	}
}

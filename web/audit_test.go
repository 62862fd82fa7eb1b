package web

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"ramconsole/ram"
	"ramconsole/ram/softkey"
	"ramconsole/store"
)

// auditedRoutes maps every mutating route of the route table to the audit
// events it may write (one per RAM action; the create-user form can write
// three under one requestId). TestAuditCoverage fails for a POST route that
// is missing here, so a new route cannot escape the audit log: add it here
// and drive it in auditCases. A POST route that changes nothing and so
// writes no event by design (SPEC §7) maps to an empty list.
var auditedRoutes = map[string][]string{
	"POST /setup":                        {"SetupAccount"},
	"POST /login":                        {"ConsoleSignin"},
	"POST /login/mfa":                    {"ConsoleSignin", "CheckMFA"},
	"POST /logout":                       {"ConsoleSignout"},
	"POST /mfa/bind":                     {"BindMFADevice"},
	"POST /mfa/bind/new":                 {},
	"POST /mfa/unbind":                   {"UnbindMFADevice"},
	"POST /login/mfa/webauthn":           {"ConsoleSignin", "CheckMFA"},
	"POST /saml/acs":                     {"ConsoleSignin"},
	"POST /saml-role/sso":                {"AssumeRoleWithSAML", "ConsoleSignin"},
	"POST /saml-role/choose":             {"AssumeRoleWithSAML", "ConsoleSignin"},
	"POST /mfa/security-keys":            {"BindMFADevice"},
	"POST /mfa/security-keys/:id/delete": {"UnbindMFADevice"},
	"POST /users/:name/mfa/security-keys/:id/delete":        {"UnbindMFADevice"},
	"POST /password/change":                                 {"ChangePassword"},
	"POST /me/accesskeys":                                   {"CreateAccessKey"},
	"POST /me/sign-out-everywhere":                          {"SignOutEverywhere"},
	"POST /me/accesskeys/:id/status":                        {"UpdateAccessKey"},
	"POST /me/accesskeys/:id/delete":                        {"DeleteAccessKey"},
	"POST /users":                                           {"CreateUser", "CreateLoginProfile", "CreateAccessKey"},
	"POST /users/batch":                                     {"CreateUser", "CreateLoginProfile", "CreateAccessKey"},
	"POST /users/:name/edit":                                {"UpdateUser"},
	"POST /users/:name/delete":                              {"DeleteUser"},
	"POST /users/:name/unlock":                              {"UnlockUser"},
	"POST /users/:name/login-profile":                       {"CreateLoginProfile"},
	"POST /users/:name/login-profile/password":              {"UpdateLoginProfile"},
	"POST /users/:name/login-profile/flags":                 {"UpdateLoginProfile"},
	"POST /users/:name/login-profile/status":                {"UpdateLoginProfile"},
	"POST /users/:name/login-profile/delete":                {"DeleteLoginProfile"},
	"POST /users/:name/mfa/unbind":                          {"UnbindMFADevice"},
	"POST /users/:name/accesskeys":                          {"CreateAccessKey"},
	"POST /users/:name/accesskeys/:id/status":               {"UpdateAccessKey"},
	"POST /users/:name/accesskeys/:id/delete":               {"DeleteAccessKey"},
	"POST /users/:name/groups":                              {"AddUserToGroup"},
	"POST /users/:name/groups/:group/remove":                {"RemoveUserFromGroup"},
	"POST /groups":                                          {"CreateGroup"},
	"POST /groups/:name/edit":                               {"UpdateGroup"},
	"POST /groups/:name/delete":                             {"DeleteGroup"},
	"POST /groups/:name/members":                            {"AddUserToGroup"},
	"POST /groups/:name/members/:user/remove":               {"RemoveUserFromGroup"},
	"POST /settings/password-policy":                        {"SetPasswordPolicy"},
	"POST /settings/security":                               {"SetSecurityPreference"},
	"POST /settings/alias":                                  {"SetAccountAlias"},
	"POST /settings/oidc/rotate-key":                        {"RotateSigningKey"},
	"POST /settings/oidc/revoke-key":                        {"RevokeSigningKey"},
	"POST /reports/credentials":                             {"GenerateCredentialReport"},
	"POST /policies":                                        {"CreatePolicy"},
	"POST /policies/Custom/:name/description":               {"UpdatePolicyDescription"},
	"POST /policies/Custom/:name/versions":                  {"CreatePolicyVersion"},
	"POST /policies/Custom/:name/versions/:version/default": {"SetDefaultPolicyVersion"},
	"POST /policies/Custom/:name/versions/:version/delete":  {"DeletePolicyVersion"},
	"POST /policies/Custom/:name/delete":                    {"DeletePolicy"},
	"POST /users/:name/policies":                            {"AttachPolicyToUser"},
	"POST /users/:name/policies/:type/:policy/detach":       {"DetachPolicyFromUser"},
	"POST /groups/:name/policies":                           {"AttachPolicyToGroup"},
	"POST /groups/:name/policies/:type/:policy/detach":      {"DetachPolicyFromGroup"},
	"POST /permissions/users":                               {"AttachPolicyToUser"},
	"POST /permissions/groups":                              {"AttachPolicyToGroup"},
	"POST /permissions/roles":                               {"AttachPolicyToRole"},
	"POST /bulk/users/add-to-group":                         {"AddUserToGroup"},
	"POST /bulk/users/delete":                               {"DeleteUser"},
	"POST /roles":                                           {"CreateRole"},
	"POST /roles/:name/edit":                                {"UpdateRole"},
	"POST /roles/:name/delete":                              {"DeleteRole"},
	"POST /roles/:name/sessions/revoke":                     {"RevokeRoleSessions"},
	"POST /roles/:name/switch":                              {"SwitchRole"},
	"POST /roles/switch-back":                               {"SwitchBack"},
	"POST /roles/:name/policies":                            {"AttachPolicyToRole"},
	"POST /roles/:name/policies/:type/:policy/detach":       {"DetachPolicyFromRole"},
	"POST /services":                                        {"CreateService"},
	"POST /services/import":                                 {"CreateService", "UpdateService"},
	"POST /services/:code/delete":                           {"DeleteService"},
	"POST /audit/verify":                                    {"VerifyAuditChain"},
	// A WebApp is created with its first secret under one requestId.
	"POST /applications":                          {"CreateApplication", "CreateAppSecret"},
	"POST /applications/:name/edit":               {"UpdateApplication"},
	"POST /applications/:name/secrets":            {"CreateAppSecret"},
	"POST /applications/:name/secrets/:id/delete": {"DeleteAppSecret"},
	"POST /applications/:name/revoke-tokens":      {"RevokeApplicationTokens"},
	"POST /applications/:name/delete":             {"DeleteApplication"},
	// The simulator changes nothing and is not recorded (a denied one is).
	"POST /simulator": {},
	// Single sign-on; "Get fingerprint" reads the issuer and changes nothing.
	"POST /sso/user":                        {"SetUserSsoSettings"},
	"POST /sso/saml-providers":              {"CreateSAMLProvider"},
	"POST /sso/saml-providers/:name":        {"UpdateSAMLProvider"},
	"POST /sso/saml-providers/:name/delete": {"DeleteSAMLProvider"},
	"POST /sso/oidc-providers":              {"CreateOIDCProvider"},
	"POST /sso/oidc-providers/fingerprint":  {},
	"POST /sso/oidc-providers/:name":        {"UpdateOIDCProvider"},
	"POST /sso/oidc-providers/:name/delete": {"DeleteOIDCProvider"},
}

// auditCase is one request of the coverage journey and the events it must
// write: names in order, every one with errorCode code ("" = success, "*" =
// any failure) and by who ("root" for the owner, "" for an unknown name).
type auditCase struct {
	route string
	what  string
	want  []string
	code  string
	who   string
	do    func() page
}

// auditUA is the User-Agent of the coverage journey's browsers.
const auditUA = "ramconsole-audit-coverage/1.0"

type uaTransport struct{ ua string }

func (t uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", t.ua)
	return http.DefaultTransport.RoundTrip(r)
}

func (h *harness) uaBrowser() *browser {
	b := h.browser()
	b.c.Transport = uaTransport{auditUA}
	return b
}

// secrets collects the canary secrets a journey sends, for the no-secret check.
type secrets struct{ list []string }

func (s *secrets) add(v ...string) {
	for _, x := range v {
		if x != "" {
			s.list = append(s.list, x)
		}
	}
}

// code returns a TOTP code and remembers it as a secret.
func (s *secrets) code(h *harness, secret string, offset int64) string {
	c := h.code(secret, offset)
	s.add(c)
	return c
}

// findIn reports which secret occurs in text. MFA codes (six digits) count
// only as a whole token, so a hash or id that happens to contain the digits
// does not.
func (s *secrets) findIn(text string) string {
	for _, v := range s.list {
		if len(v) == 6 && strings.Trim(v, "0123456789") == "" {
			if regexp.MustCompile(`(^|[^0-9A-Za-z])` + v + `([^0-9A-Za-z]|$)`).MatchString(text) {
				return v
			}
			continue
		}
		if strings.Contains(text, v) {
			return v
		}
	}
	return ""
}

func (s *secrets) check(t *testing.T, where, text string) {
	t.Helper()
	if v := s.findIn(text); v != "" {
		t.Errorf("a secret (%.3s…) appears in %s", v, where)
	}
}

// TestAuditCoverage drives every mutating route of the route table through
// the real app and checks the events each request wrote: names, type,
// identity, source IP, User-Agent and the response's request id; failures
// (validation, not found, denied, locked, wrong and replayed codes) carry an
// errorCode. No secret sent on the way appears in any event, export or log.
func TestAuditCoverage(t *testing.T) {
	h := newHarness(t)
	h.enableKeys()
	var sec secrets
	sec.add(testOwnerPW, h.token)
	ownerKey, aliceKey := softkey.New(keyOrigin), softkey.New(keyOrigin)
	keyID := func(principal ram.Principal) string {
		keys, err := h.svc.SecurityKeys(context.Background(), principal)
		if err != nil || len(keys) == 0 {
			t.Fatalf("no key of %s: %v", principal, err)
		}
		return keys[0].ID
	}

	o := h.uaBrowser()
	roleSSOOne, roleSSOChoose := roleSSOCoverage(t, h)
	var ownerSecret string
	var alice, carol, o2 *browser
	var bobKey, aliceKey2 string
	const (
		alicePW    = "Canary-Amber-Pass-7351"
		aliceNewPW = "Canary-Birch-Pass-8462"
		bobPW      = "Canary-Cedar-Pass-9573"
		bobPW2     = "Canary-Delta-Pass-1684"
		carolPW    = "Canary-Ember-Pass-2795"
		wrongPW    = "Canary-Wrong-Pass-3806"
	)
	sec.add(alicePW, aliceNewPW, bobPW, bobPW2, carolPW, wrongPW)
	reveal := func(p page) {
		p = o.follow(p)
		if m := generatedPWRE.FindStringSubmatch(p.body); m != nil {
			sec.add(m[1])
		}
		if m := keySecretRE.FindStringSubmatch(p.body); m != nil {
			sec.add(m[1])
		}
	}
	keyOf := func(b *browser, p page) string {
		p = b.follow(p)
		if m := keySecretRE.FindStringSubmatch(p.body); m != nil {
			sec.add(m[1])
		}
		return find(t, keyIDRE, p.body, "AccessKey ID")
	}
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	bindOwn := func(b *browser) page {
		p := b.get("/mfa/bind")
		secret := find(t, secretRE, p.body, "MFA secret")
		sec.add(secret)
		if b == o {
			ownerSecret = secret
		}
		p = b.post("/mfa/bind", form("code1", sec.code(h, secret, -1), "code2", sec.code(h, secret, 0)))
		h.clock.Advance(30 * time.Second)
		return p
	}
	signInPassword := func(b **browser, user, pw string) page {
		*b = h.uaBrowser()
		(*b).get("/login")
		return (*b).post("/login", form("username", user, "password", pw))
	}

	cases := []auditCase{
		{"POST /setup", "first-run setup", []string{"SetupAccount"}, "", "root", func() page {
			o.get("/setup?token=" + h.token)
			return o.post("/setup", form("token", h.token, "email", testOwnerEmail, "password", testOwnerPW, "confirm_password", testOwnerPW, "alias", testAlias))
		}},
		{"POST /mfa/bind", "wrong binding codes", []string{"BindMFADevice"}, "*", "root", func() page {
			p := o.get("/mfa/bind")
			ownerSecret = find(t, secretRE, p.body, "MFA secret")
			sec.add(ownerSecret)
			return o.post("/mfa/bind", form("code1", "000000", "code2", "000001"))
		}},
		{"POST /mfa/bind", "owner binds MFA", []string{"BindMFADevice"}, "", "root", func() page { return bindOwn(o) }},
		{"POST /settings/oidc/rotate-key", "rotate the signing key", []string{"RotateSigningKey"}, "", "root", func() page {
			o.get("/settings/oidc")
			return o.post("/settings/oidc/rotate-key", nil)
		}},
		{"POST /reports/credentials", "generate the credential report", []string{"GenerateCredentialReport"}, "", "root", func() page {
			o.get("/reports/credentials")
			return o.post("/reports/credentials", nil)
		}},
		{"POST /settings/oidc/revoke-key", "revoke the previous signing key", []string{"RevokeSigningKey"}, "", "root", func() page {
			keys, err := h.svc.SigningKeys(context.Background())
			if err != nil || len(keys) < 2 {
				t.Fatalf("signing keys: %v %v", keys, err)
			}
			o.get("/settings/oidc")
			return o.post("/settings/oidc/revoke-key", form("kid", keys[1].KID))
		}},
		{"POST /settings/password-policy", "invalid policy", []string{"SetPasswordPolicy"}, "*", "root", func() page {
			o.get("/settings")
			return o.post("/settings/password-policy", form("MinimumPasswordLength", "3", "MaxPasswordAge", "0", "PasswordReusePrevention", "0", "MaxLoginAttemps", "5"))
		}},
		{"POST /settings/password-policy", "password policy", []string{"SetPasswordPolicy"}, "", "root", func() page {
			return o.post("/settings/password-policy", form("MinimumPasswordLength", "12", "MaxPasswordAge", "0", "PasswordReusePrevention", "0", "MaxLoginAttemps", "5"))
		}},
		{"POST /settings/security", "invalid network mask", []string{"SetSecurityPreference"}, "*", "root", func() page {
			return o.post("/settings/security", form("LoginSessionDuration", "6", "LoginNetworkMasks", "not-a-cidr"))
		}},
		{"POST /settings/security", "self-service allowed", []string{"SetSecurityPreference"}, "", "root", func() page {
			return o.post("/settings/security", form("LoginSessionDuration", "6", "AllowUserToManageAccessKeys", "true",
				"AllowUserToChangePassword", "true", "AllowUserToManageMFADevices", "true"))
		}},
		{"POST /settings/alias", "invalid alias", []string{"SetAccountAlias"}, "*", "root", func() page {
			return o.post("/settings/alias", form("alias", "Not--Valid"))
		}},
		{"POST /settings/alias", "alias", []string{"SetAccountAlias"}, "", "root", func() page {
			return o.post("/settings/alias", form("alias", testAlias))
		}},
		{"POST /groups", "invalid group name", []string{"CreateGroup"}, "*", "root", func() page {
			o.get("/groups/new")
			return o.post("/groups", form("name", "bad name!"))
		}},
		{"POST /groups", "create group", []string{"CreateGroup"}, "", "root", func() page {
			return o.post("/groups", form("name", "auditors", "comments", "people who read the log"))
		}},
		{"POST /audit/verify", "verify the chain now", []string{"VerifyAuditChain"}, "", "root", func() page {
			return o.post("/audit/verify", nil)
		}},
		{"POST /groups/:name/edit", "unknown group", []string{"UpdateGroup"}, "*", "root", func() page {
			return o.post("/groups/nogroup/edit", form("name", "nogroup", "comments", "x"))
		}},
		{"POST /groups/:name/edit", "edit group", []string{"UpdateGroup"}, "", "root", func() page {
			o.get("/groups/auditors/edit")
			return o.post("/groups/auditors/edit", form("name", "auditors", "comments", "readers"))
		}},
		{"POST /users", "invalid user name", []string{"CreateUser"}, "*", "root", func() page {
			o.get("/users/new")
			return o.post("/users", form("name", "bad name!"))
		}},
		{"POST /users", "user with password and key", []string{"CreateUser", "CreateLoginProfile", "CreateAccessKey"}, "", "root", func() page {
			p := o.post("/users", form("name", "cov-alice", "display_name", "Alice", "console_login", "true", "password", alicePW,
				"create_access_key", "true"))
			_ = keyOf(o, p)
			return p
		}},
		{"POST /users", "user with generated password and key", []string{"CreateUser", "CreateLoginProfile", "CreateAccessKey"}, "", "root", func() page {
			o.get("/users/new")
			p := o.post("/users", form("name", "cov-bob", "console_login", "true", "generate_password", "true", "create_access_key", "true"))
			reveal(p)
			return p
		}},
		{"POST /users", "user with password", []string{"CreateUser", "CreateLoginProfile"}, "", "root", func() page {
			o.get("/users/new")
			return o.post("/users", form("name", "cov-carol", "console_login", "true", "password", carolPW))
		}},
		{"POST /users/batch", "batch with a duplicate name", []string{"CreateUser"}, "EntityAlreadyExists.User", "root", func() page {
			o.get("/users/new?rows=2")
			return o.post("/users/batch", url.Values{"name": {"cov-eva", "COV-EVA"}, "display_name": {"", ""}, "console_login": {"true"}})
		}},
		{"POST /users/batch", "batch of two with passwords and keys", []string{"CreateUser", "CreateLoginProfile", "CreateAccessKey",
			"CreateUser", "CreateLoginProfile", "CreateAccessKey"}, "", "root", func() page {
			o.get("/users/new?rows=2")
			p := o.post("/users/batch", url.Values{"name": {"cov-eva", "cov-finn"}, "display_name": {"Eva", ""}, "console_login": {"true"},
				"generate_password": {"true"}, "create_access_key": {"true"}})
			sheet := o.follow(p)
			for _, re := range []*regexp.Regexp{generatedPWRE, keySecretRE} {
				for _, m := range re.FindAllStringSubmatch(sheet.body, -1) {
					sec.add(html.UnescapeString(m[1]))
				}
			}
			return p
		}},
		{"POST /users/:name/edit", "unknown user", []string{"UpdateUser"}, "*", "root", func() page {
			return o.post("/users/nobody/edit", form("name", "nobody"))
		}},
		{"POST /users/:name/edit", "edit user", []string{"UpdateUser"}, "", "root", func() page {
			o.get("/users/cov-bob/edit")
			return o.post("/users/cov-bob/edit", form("name", "cov-bob", "display_name", "Bob", "comments", "edited"))
		}},
		{"POST /users/:name/groups", "add to group", []string{"AddUserToGroup"}, "", "root", func() page {
			o.get("/users/cov-bob")
			return o.post("/users/cov-bob/groups", form("group", "auditors"))
		}},
		{"POST /users/:name/groups/:group/remove", "remove from group", []string{"RemoveUserFromGroup"}, "", "root", func() page {
			return o.post("/users/cov-bob/groups/auditors/remove", nil)
		}},
		{"POST /groups/:name/members", "add member", []string{"AddUserToGroup"}, "", "root", func() page {
			return o.post("/groups/auditors/members", form("user", "cov-bob"))
		}},
		{"POST /groups/:name/members", "add unknown member", []string{"AddUserToGroup"}, "*", "root", func() page {
			return o.post("/groups/auditors/members", form("user", "nobody"))
		}},
		{"POST /groups/:name/members/:user/remove", "remove member", []string{"RemoveUserFromGroup"}, "", "root", func() page {
			return o.post("/groups/auditors/members/cov-bob/remove", nil)
		}},
		{"POST /users/:name/accesskeys", "second key", []string{"CreateAccessKey"}, "", "root", func() page {
			p := o.post("/users/cov-bob/accesskeys", nil)
			bobKey = keyOf(o, p)
			return p
		}},
		{"POST /users/:name/accesskeys", "third key", []string{"CreateAccessKey"}, "*", "root", func() page {
			return o.post("/users/cov-bob/accesskeys", nil)
		}},
		{"POST /users/:name/accesskeys/:id/status", "deactivate key", []string{"UpdateAccessKey"}, "", "root", func() page {
			return o.post("/users/cov-bob/accesskeys/"+bobKey+"/status", form("status", "Inactive"))
		}},
		{"POST /users/:name/accesskeys/:id/delete", "delete key", []string{"DeleteAccessKey"}, "", "root", func() page {
			o.get("/users/cov-bob/accesskeys/" + bobKey + "/delete")
			return o.post("/users/cov-bob/accesskeys/"+bobKey+"/delete", form("confirm", bobKey))
		}},
		{"POST /users/:name/accesskeys/:id/delete", "unknown key", []string{"DeleteAccessKey"}, "*", "root", func() page {
			return o.post("/users/cov-bob/accesskeys/"+bobKey+"/delete", form("confirm", bobKey))
		}},
		{"POST /users/:name/login-profile/password", "reset password", []string{"UpdateLoginProfile"}, "", "root", func() page {
			return o.post("/users/cov-bob/login-profile/password", form("password", bobPW))
		}},
		{"POST /users/:name/login-profile/flags", "login flags", []string{"UpdateLoginProfile"}, "", "root", func() page {
			return o.post("/users/cov-bob/login-profile/flags", form("password_reset_required", "true"))
		}},
		{"POST /users/:name/login-profile/status", "deactivate console access", []string{"UpdateLoginProfile"}, "", "root", func() page {
			return o.post("/users/cov-bob/login-profile/status", form("status", "Inactive"))
		}},
		{"POST /users/:name/login-profile/delete", "remove console access", []string{"DeleteLoginProfile"}, "", "root", func() page {
			return o.post("/users/cov-bob/login-profile/delete", nil)
		}},
		{"POST /users/:name/login-profile", "weak password", []string{"CreateLoginProfile"}, "*", "root", func() page {
			return o.post("/users/cov-bob/login-profile", form("password", "short"))
		}},
		{"POST /users/:name/login-profile", "console access again", []string{"CreateLoginProfile"}, "", "root", func() page {
			return o.post("/users/cov-bob/login-profile", form("password", bobPW2))
		}},

		// A RAM user: sign-in outcomes, a denied request, self-service.
		{"POST /login", "unknown name", []string{"ConsoleSignin"}, "InvalidCredentials", "", func() page {
			return signInPassword(&alice, "ghost@"+testAlias, wrongPW)
		}},
		{"POST /login", "wrong password", []string{"ConsoleSignin"}, "InvalidCredentials", "cov-alice", func() page {
			return signInPassword(&alice, "cov-alice@"+testAlias, wrongPW)
		}},
		{"POST /login", "RAM user signs in", []string{"ConsoleSignin"}, "", "cov-alice", func() page {
			return signInPassword(&alice, "cov-alice@"+testAlias, alicePW)
		}},
		{"POST /saml/acs", "an unknown NameID through SSO", []string{"ConsoleSignin"}, "SAMLUserNotFound", "", func() page {
			return ssoSignIn(t, h, h.uaBrowser(), "ghost@"+testAlias)
		}},
		{"POST /saml/acs", "RAM user signs in through SSO", []string{"ConsoleSignin"}, "", "cov-alice", func() page {
			return ssoSignIn(t, h, h.uaBrowser(), "cov-alice@"+testAlias)
		}},
		{"POST /saml-role/sso", "a role session through role SSO", []string{"AssumeRoleWithSAML", "ConsoleSignin"}, "", roleSSOWho, roleSSOOne},
		{"POST /saml-role/choose", "a role picked through role SSO", []string{"AssumeRoleWithSAML", "ConsoleSignin"}, "", roleSSOWho, roleSSOChoose},
		{"POST /users", "denied", []string{"CreateUser"}, "NoPermission", "cov-alice", func() page {
			alice.get("/me")
			return alice.post("/users", form("name", "mallory"))
		}},
		{"POST /me/accesskeys", "own key", []string{"CreateAccessKey"}, "", "cov-alice", func() page {
			p := alice.post("/me/accesskeys", nil)
			aliceKey2 = keyOf(alice, p)
			return p
		}},
		{"POST /me/accesskeys/:id/delete", "own Active key", []string{"DeleteAccessKey"}, "DeleteConflict.AccessKey.Active", "cov-alice", func() page {
			alice.get("/me/accesskeys/" + aliceKey2 + "/delete")
			return alice.post("/me/accesskeys/"+aliceKey2+"/delete", form("confirm", aliceKey2))
		}},
		{"POST /me/accesskeys/:id/status", "own key inactive", []string{"UpdateAccessKey"}, "", "cov-alice", func() page {
			alice.get("/me")
			return alice.post("/me/accesskeys/"+aliceKey2+"/status", form("status", "Inactive"))
		}},
		{"POST /me/accesskeys/:id/delete", "own key deleted", []string{"DeleteAccessKey"}, "", "cov-alice", func() page {
			return alice.post("/me/accesskeys/"+aliceKey2+"/delete", form("confirm", aliceKey2))
		}},
		{"POST /me/accesskeys/:id/delete", "another user's key", []string{"DeleteAccessKey"}, "*", "cov-alice", func() page {
			return alice.post("/me/accesskeys/"+bobKey+"/delete", form("confirm", bobKey))
		}},
		{"POST /roles/:name/switch", "switch without permission", []string{"SwitchRole"}, "NoPermission", "cov-alice", func() page {
			alice.get("/roles/cov-switch/switch")
			return alice.post("/roles/cov-switch/switch", nil)
		}},
		{"POST /roles", "a role to switch to", []string{"CreateRole"}, "", "root", func() page {
			o.get("/roles/new")
			return o.post("/roles", form("name", "cov-switch", "preset", "account", "max_session_duration", "3600"))
		}},
		{"POST /users/:name/policies", "alice may assume roles", []string{"AttachPolicyToUser"}, "", "root", func() page {
			o.get("/users/cov-alice")
			return o.post("/users/cov-alice/policies", form("policy_type", "System", "policy_name", "AliyunSTSAssumeRoleAccess"))
		}},
		{"POST /roles/:name/switch", "switch role", []string{"SwitchRole"}, "", "cov-alice", func() page {
			alice.get("/roles/cov-switch/switch")
			return alice.post("/roles/cov-switch/switch", nil)
		}},
		{"POST /roles/switch-back", "switch back", []string{"SwitchBack"}, "", "cov-alice", func() page {
			alice.get("/me")
			return alice.post("/roles/switch-back", nil)
		}},
		{"POST /password/change", "wrong current password", []string{"ChangePassword"}, "*", "cov-alice", func() page {
			alice.get("/password/change")
			return alice.post("/password/change", form("current_password", wrongPW, "new_password", aliceNewPW, "confirm_password", aliceNewPW))
		}},
		{"POST /password/change", "own password", []string{"ChangePassword"}, "", "cov-alice", func() page {
			return alice.post("/password/change", form("current_password", alicePW, "new_password", aliceNewPW, "confirm_password", aliceNewPW))
		}},
		{"POST /mfa/bind", "RAM user binds MFA", []string{"BindMFADevice"}, "", "cov-alice", func() page {
			return bindOwn(alice)
		}},
		{"POST /mfa/security-keys", "RAM user adds a security key", []string{"BindMFADevice"}, "", "cov-alice", func() page {
			return registerKey(t, alice, aliceKey, "alice key", "")
		}},
		{"POST /mfa/unbind", "wrong unbind code", []string{"UnbindMFADevice"}, "*", "cov-alice", func() page {
			alice.get("/mfa/bind")
			return alice.post("/mfa/unbind", form("password", aliceNewPW, "code", "000000"))
		}},
		{"POST /me/sign-out-everywhere", "RAM user signs out everywhere else", []string{"SignOutEverywhere"}, "", "cov-alice", func() page {
			alice.get("/me")
			return alice.post("/me/sign-out-everywhere", nil)
		}},
		{"POST /logout", "RAM user signs out", []string{"ConsoleSignout"}, "", "cov-alice", func() page {
			return alice.post("/logout", nil)
		}},
		{"POST /users/:name/mfa/security-keys/:id/delete", "owner removes a user's key", []string{"UnbindMFADevice"}, "", "root", func() page {
			o.get("/users/cov-alice")
			return o.post("/users/cov-alice/mfa/security-keys/"+keyID(ram.UserPrincipal(h.userID(t, "cov-alice")))+"/delete", nil)
		}},
		{"POST /users/:name/mfa/unbind", "owner unbinds a user's MFA", []string{"UnbindMFADevice"}, "", "root", func() page {
			o.get("/users/cov-alice")
			return o.post("/users/cov-alice/mfa/unbind", nil)
		}},

		// The owner's MFA step: wrong, right and replayed codes.
		{"POST /login/mfa", "wrong code", []string{"CheckMFA"}, "InvalidMFACode", "root", func() page {
			b := h.uaBrowser()
			b.get("/login")
			b.post("/login", form("username", testOwnerEmail, "password", testOwnerPW))
			b.get("/login/mfa")
			o2 = b
			return b.post("/login/mfa", form("code", "000000"))
		}},
		{"POST /login/mfa", "right code", []string{"ConsoleSignin"}, "", "root", func() page {
			return o2.post("/login/mfa", form("code", sec.code(h, ownerSecret, 0)))
		}},
		{"POST /login/mfa", "replayed code", []string{"CheckMFA"}, "MFACodeReplayed", "root", func() page {
			b := h.uaBrowser()
			b.get("/login")
			b.post("/login", form("username", testOwnerEmail, "password", testOwnerPW))
			b.get("/login/mfa")
			return b.post("/login/mfa", form("code", h.code(ownerSecret, 0)))
		}},

		// Lockout: the right password is refused while locked; unlock.
		{"POST /login", "locked", []string{"ConsoleSignin"}, "AccountLocked", "cov-carol", func() page {
			for i := 0; i < 5; i++ {
				signInPassword(&carol, "cov-carol", fmt.Sprintf("%s-%d", wrongPW, i))
			}
			return signInPassword(&carol, "cov-carol", carolPW)
		}},
		{"POST /users/:name/unlock", "unlock", []string{"UnlockUser"}, "", "root", func() page {
			h.clock.Advance(30 * time.Second)
			o.get("/users/cov-carol")
			return o.post("/users/cov-carol/unlock", nil)
		}},

		// The owner's own device, removed and bound again.
		{"POST /mfa/unbind", "owner unbinds own MFA", []string{"UnbindMFADevice"}, "", "root", func() page {
			o.get("/mfa/bind")
			return o.post("/mfa/unbind", form("password", testOwnerPW, "code", sec.code(h, ownerSecret, 0)))
		}},
		{"POST /mfa/bind", "owner binds again", []string{"BindMFADevice"}, "", "root", func() page { return bindOwn(o) }},

		// The owner's security key: added, a wrong and a right answer at
		// sign-in, deleted with the password and a code.
		{"POST /mfa/security-keys", "a garbage answer", []string{"BindMFADevice"}, "SecurityKeyAnswerMalformed", "root", func() page {
			o.get("/mfa/security-keys/new")
			return o.post("/mfa/security-keys", form("name", "owner key", "credential", "{}"))
		}},
		{"POST /mfa/security-keys", "owner adds a security key", []string{"BindMFADevice"}, "", "root", func() page {
			return registerKey(t, o, ownerKey, "owner key", "")
		}},
		{"POST /login/mfa/webauthn", "a bogus signature", []string{"CheckMFA"}, "SecurityKeyNotVerified", "root", func() page {
			b := h.uaBrowser()
			b.get("/login")
			b.post("/login", form("username", testOwnerEmail, "password", testOwnerPW))
			ownerKey.BogusSignature = true
			defer func() { ownerKey.BogusSignature = false }()
			return answerKeyStep(t, b, ownerKey)
		}},
		{"POST /login/mfa/webauthn", "the owner's key", []string{"ConsoleSignin"}, "", "root", func() page {
			b := h.uaBrowser()
			b.get("/login")
			b.post("/login", form("username", testOwnerEmail, "password", testOwnerPW))
			return answerKeyStep(t, b, ownerKey)
		}},
		{"POST /mfa/security-keys/:id/delete", "owner deletes the key", []string{"UnbindMFADevice"}, "", "root", func() page {
			h.clock.Advance(30 * time.Second)
			del := "/mfa/security-keys/" + keyID(ram.PrincipalRoot) + "/delete"
			o.get(del)
			return o.post(del, form("password", testOwnerPW, "code", sec.code(h, ownerSecret, 0)))
		}},

		// Policies: create (with a validation failure), versions, attachments.
		{"POST /policies", "malformed policy", []string{"CreatePolicy"}, "MalformedPolicyDocument", "root", func() page {
			o.get("/policies/new")
			return o.post("/policies", form("name", "CovPolicy", "document", `{"Version":"1","Statement":[`))
		}},
		{"POST /policies", "create policy", []string{"CreatePolicy"}, "", "root", func() page {
			return o.post("/policies", form("name", "CovPolicy", "document", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`))
		}},
		{"POST /policies/Custom/:name/description", "describe policy", []string{"UpdatePolicyDescription"}, "", "root", func() page {
			o.get("/policies/Custom/CovPolicy")
			return o.post("/policies/Custom/CovPolicy/description", form("description", "for the coverage test"))
		}},
		{"POST /policies/Custom/:name/versions", "new version", []string{"CreatePolicyVersion"}, "", "root", func() page {
			return o.post("/policies/Custom/CovPolicy/versions", form("document", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]}`))
		}},
		{"POST /policies/Custom/:name/versions/:version/default", "set default", []string{"SetDefaultPolicyVersion"}, "", "root", func() page {
			return o.post("/policies/Custom/CovPolicy/versions/v2/default", nil)
		}},
		{"POST /policies/Custom/:name/versions/:version/delete", "delete default version", []string{"DeletePolicyVersion"}, "DeleteConflict.Policy.Version.Default", "root", func() page {
			return o.post("/policies/Custom/CovPolicy/versions/v2/delete", nil)
		}},
		{"POST /policies/Custom/:name/versions/:version/delete", "delete old version", []string{"DeletePolicyVersion"}, "", "root", func() page {
			return o.post("/policies/Custom/CovPolicy/versions/v1/delete", nil)
		}},
		{"POST /users/:name/policies", "attach to user", []string{"AttachPolicyToUser"}, "", "root", func() page {
			o.get("/users/cov-bob")
			return o.post("/users/cov-bob/policies", form("policy_type", "Custom", "policy_name", "CovPolicy"))
		}},
		{"POST /users/:name/policies", "attach unknown policy", []string{"AttachPolicyToUser"}, "EntityNotExist.Policy", "root", func() page {
			return o.post("/users/cov-bob/policies", form("policy_type", "System", "policy_name", "NoSuchPolicy"))
		}},
		{"POST /users/:name/policies/:type/:policy/detach", "detach from user", []string{"DetachPolicyFromUser"}, "", "root", func() page {
			return o.post("/users/cov-bob/policies/Custom/CovPolicy/detach", nil)
		}},
		{"POST /groups/:name/policies", "attach to group", []string{"AttachPolicyToGroup"}, "", "root", func() page {
			o.get("/groups/auditors")
			return o.post("/groups/auditors/policies", form("policy_type", "System", "policy_name", "AliyunActionTrailReadOnlyAccess"))
		}},
		{"POST /permissions/users", "grant from the panel", []string{"AttachPolicyToUser"}, "", "root", func() page {
			o.get("/permissions/review?user=cov-carol&policy=System:AliyunActionTrailReadOnlyAccess")
			return o.post("/permissions/users", form("user", "cov-carol", "policy", "System:AliyunActionTrailReadOnlyAccess"))
		}},
		{"POST /permissions/groups", "grant to a group from the panel", []string{"AttachPolicyToGroup"}, "", "root", func() page {
			o.get("/groups/new")
			o.post("/groups", form("name", "cov-granted"))
			o.get("/permissions/review?kind=group&group=cov-granted&policy=System:AliyunECSReadOnlyAccess")
			return o.post("/permissions/groups", form("group", "cov-granted", "policy", "System:AliyunECSReadOnlyAccess"))
		}},
		{"POST /bulk/users/add-to-group", "bulk add to group", []string{"AddUserToGroup"}, "", "root", func() page {
			o.get("/groups/new")
			o.post("/groups", form("name", "cov-bulk"))
			o.get("/bulk/users/add-to-group?user=cov-carol")
			return o.post("/bulk/users/add-to-group", form("user", "cov-carol", "group", "cov-bulk"))
		}},
		{"POST /groups/:name/policies/:type/:policy/detach", "detach from group", []string{"DetachPolicyFromGroup"}, "", "root", func() page {
			return o.post("/groups/auditors/policies/System/AliyunActionTrailReadOnlyAccess/detach", nil)
		}},
		{"POST /policies/Custom/:name/delete", "delete policy", []string{"DeletePolicy"}, "", "root", func() page {
			o.get("/policies/Custom/CovPolicy/delete")
			return o.post("/policies/Custom/CovPolicy/delete", form("confirm", "CovPolicy", "cleanup", "true"))
		}},

		{"POST /roles", "create role", []string{"CreateRole"}, "", "root", func() page {
			o.get("/roles/new")
			return o.post("/roles", form("name", "cov-role", "preset", "account", "max_session_duration", "3600"))
		}},
		{"POST /roles", "create role with a bad name", []string{"CreateRole"}, "*", "root", func() page {
			return o.post("/roles", form("name", "cov_role", "preset", "account", "max_session_duration", "3600"))
		}},
		{"POST /roles/:name/edit", "edit role", []string{"UpdateRole"}, "", "root", func() page {
			o.get("/roles/cov-role/edit")
			return o.post("/roles/cov-role/edit", form("description", "covered", "max_session_duration", "3600",
				"trust_policy", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"acs:ram::`+h.accountID()+`:root"}}]}`))
		}},
		{"POST /roles/:name/policies", "attach to role", []string{"AttachPolicyToRole"}, "", "root", func() page {
			o.get("/roles/cov-role")
			return o.post("/roles/cov-role/policies", form("policy_type", "System", "policy_name", "AliyunECSReadOnlyAccess"))
		}},
		{"POST /permissions/roles", "grant to a role from the panel", []string{"AttachPolicyToRole"}, "", "root", func() page {
			o.get("/roles/new")
			o.post("/roles", form("name", "cov-granted-role", "preset", "account", "max_session_duration", "3600"))
			o.get("/permissions/review?kind=role&role=cov-granted-role&policy=System:AliyunECSReadOnlyAccess")
			return o.post("/permissions/roles", form("role", "cov-granted-role", "policy", "System:AliyunECSReadOnlyAccess"))
		}},
		{"POST /roles/:name/policies/:type/:policy/detach", "detach from role", []string{"DetachPolicyFromRole"}, "", "root", func() page {
			return o.post("/roles/cov-role/policies/System/AliyunECSReadOnlyAccess/detach", nil)
		}},
		{"POST /roles/:name/sessions/revoke", "revoke role sessions", []string{"RevokeRoleSessions"}, "", "root", func() page {
			return o.post("/roles/cov-role/sessions/revoke", nil)
		}},
		{"POST /roles/:name/delete", "delete role", []string{"DeleteRole"}, "", "root", func() page {
			o.get("/roles/cov-role/delete")
			return o.post("/roles/cov-role/delete", form("confirm", "cov-role"))
		}},
		{"POST /services", "create service", []string{"CreateService"}, "", "root", func() page {
			o.get("/services/new")
			return o.post("/services", form("definition", testOSSDef))
		}},
		{"POST /services", "create service with a bad definition", []string{"CreateService"}, "*", "root", func() page {
			return o.post("/services", form("definition", `{"code": "x"}`))
		}},
		{"POST /services/import", "import over a service", []string{"UpdateService"}, "", "root", func() page {
			o.get("/services")
			return o.post("/services/import", form("definition", testOSSDef))
		}},
		{"POST /services/import", "import a new service", []string{"CreateService"}, "", "root", func() page {
			return o.post("/services/import", form("definition", testECSDef))
		}},
		{"POST /services/import", "import a host of another service", []string{"UpdateService"}, "*", "root", func() page {
			return o.post("/services/import", form("definition", strings.Replace(testECSDef, `"ecs.example", "ECS2.example"`, `"oss.example"`, 1)))
		}},
		{"POST /services/:code/delete", "delete service", []string{"DeleteService"}, "", "root", func() page {
			o.get("/services/ecs/delete")
			return o.post("/services/ecs/delete", form("confirm", "ecs"))
		}},
		{"POST /applications", "create a WebApp with its secret", []string{"CreateApplication", "CreateAppSecret"}, "", "root", func() page {
			o.get("/applications/new")
			p := o.post("/applications", form("name", "cov-app", "display_name", "Coverage", "app_type", "WebApp",
				"redirect_uris", "https://cov.example/cb", "scopes", "openid", "access_token_validity", "3600"))
			if m := appSecretRE.FindStringSubmatch(o.get(p.header.Get("Location")).body); m != nil {
				sec.add(m[1])
			} else {
				t.Errorf("creating cov-app revealed no secret")
			}
			return p
		}},
		{"POST /applications", "create a NativeApp", []string{"CreateApplication"}, "", "root", func() page {
			o.get("/applications/new")
			return o.post("/applications", form("name", "cov-cli", "app_type", "NativeApp", "redirect_uris", "http://127.0.0.1:7/cb"))
		}},
		{"POST /applications", "create an application with a bad name", []string{"CreateApplication"}, "*", "root", func() page {
			o.get("/applications/new")
			return o.post("/applications", form("name", "bad name", "app_type", "WebApp", "redirect_uris", "https://cov.example/cb"))
		}},
		{"POST /applications/:name/edit", "edit an application", []string{"UpdateApplication"}, "", "root", func() page {
			o.get("/applications/cov-app/edit")
			return o.post("/applications/cov-app/edit", form("display_name", "Coverage 2", "redirect_uris", "https://cov.example/cb",
				"scopes", "openid", "access_token_validity", "900", "refresh_token_validity", "7200"))
		}},
		{"POST /applications/:name/secrets", "create a second secret", []string{"CreateAppSecret"}, "", "root", func() page {
			o.get("/applications/cov-app")
			p := o.post("/applications/cov-app/secrets", nil)
			if m := appSecretRE.FindStringSubmatch(o.get(p.header.Get("Location")).body); m != nil {
				sec.add(m[1])
			}
			return p
		}},
		{"POST /applications/:name/secrets", "a third secret", []string{"CreateAppSecret"}, "LimitExceeded.AppSecret", "root", func() page {
			o.get("/applications/cov-app")
			return o.post("/applications/cov-app/secrets", nil)
		}},
		{"POST /applications/:name/secrets/:id/delete", "delete a secret", []string{"DeleteAppSecret"}, "", "root", func() page {
			_, secs, err := h.svc.ListAppSecrets(context.Background(), rootActor(), "cov-app", false)
			if err != nil || len(secs) == 0 {
				t.Fatalf("no secret of cov-app: %v", err)
			}
			o.get("/applications/cov-app")
			return o.post("/applications/cov-app/secrets/"+secs[0].SecretID+"/delete", nil)
		}},
		{"POST /applications/:name/revoke-tokens", "revoke an application's tokens", []string{"RevokeApplicationTokens"}, "", "root", func() page {
			o.get("/applications/cov-app")
			return o.post("/applications/cov-app/revoke-tokens", nil)
		}},
		{"POST /applications/:name/delete", "delete an application", []string{"DeleteApplication"}, "", "root", func() page {
			o.get("/applications/cov-cli/delete")
			return o.post("/applications/cov-cli/delete", form("confirm", "cov-cli"))
		}},
		{"POST /sso/user", "save user SSO settings", []string{"SetUserSsoSettings"}, "", "root", func() page {
			o.get("/sso/user")
			return o.post("/sso/user", form("metadata", ssoTestMetadata(t), "sso_login_with_domain", "true"))
		}},
		{"POST /sso/user", "turn SSO on without metadata", []string{"SetUserSsoSettings"}, "*", "root", func() page {
			return o.post("/sso/user", form("sso_enabled", "true", "metadata", "<broken"))
		}},
		{"POST /sso/saml-providers", "create a SAML provider", []string{"CreateSAMLProvider"}, "", "root", func() page {
			o.get("/sso/saml-providers/new")
			return o.post("/sso/saml-providers", form("name", "cov-saml", "metadata", ssoTestMetadata(t)))
		}},
		{"POST /sso/saml-providers", "create a SAML provider with bad metadata", []string{"CreateSAMLProvider"}, "*", "root", func() page {
			return o.post("/sso/saml-providers", form("name", "cov-saml2", "metadata", "<x/>"))
		}},
		{"POST /sso/saml-providers/:name", "edit a SAML provider", []string{"UpdateSAMLProvider"}, "", "root", func() page {
			o.get("/sso/saml-providers/cov-saml")
			return o.post("/sso/saml-providers/cov-saml", form("description", "covered"))
		}},
		{"POST /sso/saml-providers/:name/delete", "delete a SAML provider", []string{"DeleteSAMLProvider"}, "", "root", func() page {
			o.get("/sso/saml-providers/cov-saml/delete")
			return o.post("/sso/saml-providers/cov-saml/delete", form("confirm", "cov-saml"))
		}},
		{"POST /sso/oidc-providers", "create an OIDC provider", []string{"CreateOIDCProvider"}, "", "root", func() page {
			o.get("/sso/oidc-providers/new")
			return o.post("/sso/oidc-providers", form("name", "cov-oidc", "issuer_url", "https://cov-issuer.example.com",
				"client_ids", "sts.aliyuncs.com", "fingerprints", strings.Repeat("ab", 20)))
		}},
		{"POST /sso/oidc-providers", "create an OIDC provider with a plain-HTTP issuer", []string{"CreateOIDCProvider"}, "*", "root", func() page {
			return o.post("/sso/oidc-providers", form("name", "cov-oidc2", "issuer_url", "http://cov-issuer.example.com",
				"client_ids", "sts.aliyuncs.com", "fingerprints", strings.Repeat("ab", 20)))
		}},
		{"POST /sso/oidc-providers/:name", "edit an OIDC provider", []string{"UpdateOIDCProvider"}, "", "root", func() page {
			o.get("/sso/oidc-providers/cov-oidc")
			return o.post("/sso/oidc-providers/cov-oidc", form("client_ids", "sts.aliyuncs.com\nother", "fingerprints", strings.Repeat("ab", 20),
				"issuance_limit_time", "6", "description", "covered"))
		}},
		{"POST /sso/oidc-providers/:name/delete", "delete an OIDC provider", []string{"DeleteOIDCProvider"}, "", "root", func() page {
			o.get("/sso/oidc-providers/cov-oidc/delete")
			return o.post("/sso/oidc-providers/cov-oidc/delete", form("confirm", "cov-oidc"))
		}},
		{"POST /bulk/users/delete", "bulk delete", []string{"DeleteUser"}, "", "root", func() page {
			o.get("/users/new")
			o.post("/users", form("name", "cov-dora"))
			o.get("/bulk/users/delete?user=cov-dora")
			return o.post("/bulk/users/delete", form("user", "cov-dora", "confirm", "1"))
		}},
		{"POST /users/:name/delete", "delete user", []string{"DeleteUser"}, "", "root", func() page {
			o.get("/users/cov-bob/delete")
			return o.post("/users/cov-bob/delete", form("confirm", "cov-bob"))
		}},
		{"POST /groups/:name/delete", "delete group", []string{"DeleteGroup"}, "", "root", func() page {
			o.get("/groups/auditors/delete")
			return o.post("/groups/auditors/delete", form("confirm", "auditors"))
		}},
	}

	// The route table and the map agree: every POST route is mapped, every
	// mapped route exists and is driven with success.
	inTable := map[string]bool{}
	for _, r := range h.app.Routes() {
		if r.Method == http.MethodGet {
			continue
		}
		key := r.Method + " " + r.Path
		inTable[key] = true
		if _, ok := auditedRoutes[key]; !ok {
			// Routes that write no event by design map to an empty list.
			t.Errorf("%s is not in auditedRoutes: add the events it writes there and a request in auditCases", key)
		}
	}
	driven := map[string]bool{}
	for _, c := range cases {
		allowed := auditedRoutes[c.route]
		for _, name := range c.want {
			if !contains(allowed, name) {
				t.Errorf("case %q expects %s, which auditedRoutes does not list for %s", c.what, name, c.route)
			}
		}
		if c.code == "" && len(c.want) > 0 {
			driven[c.route] = true
		}
	}
	for key := range auditedRoutes {
		if !inTable[key] {
			t.Errorf("auditedRoutes lists %s, which is not in the route table", key)
		} else if len(auditedRoutes[key]) > 0 && !driven[key] {
			t.Errorf("%s has no successful request in auditCases", key)
		}
	}

	ctx := context.Background()
	failures := map[string]bool{}
	for _, c := range cases {
		before, err := h.st.LastEventSeq(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p := c.do()
		if p.status >= 500 {
			t.Fatalf("%s (%s): status %d", c.route, c.what, p.status)
		}
		rid := p.header.Get("X-Request-Id")
		var got []store.StoredEvent
		for _, e := range h.events() {
			if e.Seq > before && e.RequestID == rid {
				got = append([]store.StoredEvent{e}, got...)
			}
		}
		var names []string
		for _, e := range got {
			names = append(names, e.EventName)
		}
		if strings.Join(names, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s (%s), status %d: events %v, want %v", c.route, c.what, p.status, names, c.want)
			continue
		}
		for _, e := range got {
			checkEvent(t, c, e)
		}
		if c.code != "" {
			failures[c.what] = true
		}
	}
	if len(failures) == 0 {
		t.Errorf("no failing request was checked")
	}

	// No secret anywhere: events, both exports, the log.
	o.get("/audit")
	for _, e := range h.events() {
		sec.check(t, "event "+e.EventName+" ("+e.EventID+")", e.Body)
	}
	for _, path := range []string{"/audit/export.csv", "/audit/export.ndjson"} {
		p := o.get(path)
		expectStatus(t, p, 200, path)
		if strings.Count(p.body, "\n") < len(cases) {
			t.Errorf("%s has %d lines for more than %d events", path, strings.Count(p.body, "\n"), len(cases))
		}
		sec.check(t, path, p.body)
	}
	h.logsMu.Lock()
	logs := h.logs.String()
	h.logsMu.Unlock()
	sec.check(t, "the server log", logs)
	if rep, err := h.st.VerifyChain(ctx); err != nil || !rep.OK {
		t.Errorf("VerifyChain = %+v, %v; want intact", rep, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkEvent checks one event of a coverage case.
func checkEvent(t *testing.T, c auditCase, e store.StoredEvent) {
	t.Helper()
	if c.who == roleSSOWho {
		checkRoleSSOEvent(t, c, e)
		return
	}
	what := fmt.Sprintf("%s (%s): %s", c.route, c.what, e.EventName)
	wantType := ram.EventConsoleOperation
	switch e.EventName {
	case "ConsoleSignin", "ConsoleSignout", "CheckMFA":
		wantType = ram.EventConsoleSignin
	}
	if e.EventType != wantType {
		t.Errorf("%s: eventType %q, want %q", what, e.EventType, wantType)
	}
	idType := "ram-user"
	switch c.who {
	case "root":
		idType = "root-account"
	case "":
		idType = "unknown"
	}
	if e.UserIdentity.Type != idType || e.UserIdentity.UserName != c.who {
		t.Errorf("%s: userIdentity %s/%q, want %s/%q", what, e.UserIdentity.Type, e.UserIdentity.UserName, idType, c.who)
	}
	if e.UserIdentity.AccountID == "" && c.route != "POST /setup" {
		t.Errorf("%s: no accountId", what)
	}
	if e.SourceIPAddress != "127.0.0.1" {
		t.Errorf("%s: sourceIpAddress %q", what, e.SourceIPAddress)
	}
	if e.UserAgent != auditUA {
		t.Errorf("%s: userAgent %q, want %q", what, e.UserAgent, auditUA)
	}
	if e.EventVersion != "1" || e.EventID == "" || e.EventTime == "" {
		t.Errorf("%s: eventVersion %q, eventId %q, eventTime %q", what, e.EventVersion, e.EventID, e.EventTime)
	}
	switch c.code {
	case "":
		if e.IsError || e.ErrorCode != "" {
			t.Errorf("%s: failed with %q, want success", what, e.ErrorCode)
		}
	case "*":
		if !e.IsError || e.ErrorCode == "" {
			t.Errorf("%s: isError %v, errorCode %q; want a failure", what, e.IsError, e.ErrorCode)
		}
	default:
		if !e.IsError || e.ErrorCode != c.code {
			t.Errorf("%s: isError %v, errorCode %q; want %q", what, e.IsError, e.ErrorCode, c.code)
		}
	}
}

// ownerWithEvents is a harness with the owner set up and signed in.
func ownerWithEvents(t *testing.T) (*harness, *browser, string) {
	h := newHarness(t)
	o, secret := h.setupOwner()
	return h, o, secret
}

// openRaw opens the harness's database file behind the store's back, to
// tamper with it.
func openRaw(t *testing.T, h *harness) *sql.DB {
	t.Helper()
	return h.openDB()
}

func TestAuditPageFiltersAndPaging(t *testing.T) {
	h, o, _ := ownerWithEvents(t)
	e := h.createEmployee(o, "pia")
	for i := 0; i < 3; i++ {
		b := h.browser()
		b.get("/login")
		b.post("/login", url.Values{"username": {"pia"}, "password": {fmt.Sprintf("Wrong-Pass-%d-xyz", i)}})
	}
	_ = e
	for i := 0; i < 60; i++ {
		o.get("/groups/new")
		o.post("/groups", url.Values{"name": {fmt.Sprintf("g%02d", i)}})
	}
	ctx := context.Background()
	idOf := regexp.MustCompile(`href="/audit/([0-9a-f-]{36})"`)
	rowsOf := func(body string) []string {
		var ids []string
		for _, m := range idOf.FindAllStringSubmatch(body, -1) {
			ids = append(ids, m[1])
		}
		return ids
	}
	eventByID := func(id string) *store.StoredEvent {
		ev, err := h.st.EventByID(ctx, id)
		if err != nil {
			t.Fatalf("EventByID(%s): %v", id, err)
		}
		return ev
	}

	// Newest first, 50 a page, then the rest through the cursor.
	p := o.get("/audit")
	expectStatus(t, p, 200, "/audit")
	if !strings.Contains(p.body, `data-testid="audit-table"`) || !strings.Contains(p.body, `data-ok="true"`) {
		t.Fatalf("/audit lacks the table or an intact chain: %.2000s", p.body)
	}
	for _, want := range []string{`href="/audit?since=1h"`, `href="/audit?since=24h"`, `href="/audit?since=7d"`, `data-testid="audit-latest"`, "<th>Resource</th>", `<td class="resource">g59`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("/audit lacks %s (time presets, the Latest link, the Resource column)", want)
		}
	}
	first := rowsOf(p.body)
	if len(first) != 50 {
		t.Fatalf("first page has %d events, want 50", len(first))
	}
	all := h.events()
	if first[0] != all[0].EventID {
		t.Errorf("first row %s, want the newest event %s", first[0], all[0].EventID)
	}
	next := regexp.MustCompile(`href="(/audit\?before=\d+)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatalf("no next page link")
	}
	p = o.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	second := rowsOf(p.body)
	if len(first)+len(second) != len(all) && len(second) != 50 {
		t.Errorf("second page has %d events (%d in all)", len(second), len(all))
	}
	if len(second) > 0 && second[0] != all[50].EventID {
		t.Errorf("second page starts at %s, want %s", second[0], all[50].EventID)
	}

	cases := []struct {
		name  string
		query string
		match func(e *store.StoredEvent) bool
	}{
		{"one user's failed sign-ins", "user=pia&event=ConsoleSignin&result=failure", func(e *store.StoredEvent) bool {
			return e.UserIdentity.UserName == "pia" && e.EventName == "ConsoleSignin" && e.IsError
		}},
		{"the owner", "user=root&event=CreateGroup", func(e *store.StoredEvent) bool {
			return e.UserIdentity.Type == "root-account" && e.EventName == "CreateGroup"
		}},
		{"successes from an IP", "result=success&source_ip=127.0.0.1&event=CreateUser", func(e *store.StoredEvent) bool {
			return !e.IsError && e.EventName == "CreateUser"
		}},
		{"an unused IP", "source_ip=10.9.9.9", func(*store.StoredEvent) bool { return false }},
		{"a day", "from=2026-11-26&to=2026-11-26&event=SetupAccount", func(e *store.StoredEvent) bool { return e.EventName == "SetupAccount" }},
		{"another day", "to=2026-11-25", func(*store.StoredEvent) bool { return false }},
		{"to the minute", "from=2026-11-26T09:00&to=2026-11-26T09:00&event=SetupAccount", func(e *store.StoredEvent) bool { return e.EventName == "SetupAccount" }},
		{"RFC 3339", "from=2026-11-26T09:00:00Z&to=2026-11-26T09:00:10Z", func(e *store.StoredEvent) bool {
			return e.EventTime <= "2026-11-26T09:00:10.000Z"
		}},
		{"AccessKey ID", "access_key_id=LTAInone", func(*store.StoredEvent) bool { return false }},
		{"a service, spelled in any case", "service=ram&event=CreateGroup", func(e *store.StoredEvent) bool {
			return e.ServiceName == "Ram" && e.EventName == "CreateGroup"
		}},
		{"a service without events", "service=ecs", func(*store.StoredEvent) bool { return false }},
		{"the last hour", "since=1h", func(e *store.StoredEvent) bool {
			return e.EventTime >= h.clock.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := o.get("/audit?" + tc.query)
			expectStatus(t, p, 200, tc.query)
			var want []string
			for i := range all {
				if tc.match(&all[i]) {
					want = append(want, all[i].EventID)
				}
			}
			if len(want) > 50 {
				want = want[:50]
			}
			got := rowsOf(p.body)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("/audit?%s lists %d events, want %d", tc.query, len(got), len(want))
			}
			for _, id := range got {
				if !tc.match(eventByID(id)) {
					t.Errorf("/audit?%s lists %s, which does not match", tc.query, id)
				}
			}
			for _, kv := range strings.Split(tc.query, "&") {
				k, v, _ := strings.Cut(kv, "=")
				if !strings.Contains(p.body, `name="`+k+`"`) || k != "result" && !strings.Contains(p.body, `value="`+v+`"`) {
					t.Errorf("the filter form does not keep %s=%s", k, v)
				}
			}
		})
	}
	if len(rowsOf(o.get("/audit?user=pia&event=ConsoleSignin&result=failure").body)) != 3 {
		t.Errorf("pia's three failed sign-ins are not all listed")
	}

	bad := []struct{ query, field string }{
		{"from=yesterday", "from"},
		{"to=2026-13-01", "to"},
		{"from=2026-11-27&to=2026-11-26", "to"},
		{"result=maybe", "result"},
		{"source_ip=300.1.1.1", "source_ip"},
		{"since=2w", "since"},
		{"since=1h&from=2026-11-26", "from"},
	}
	for _, tc := range bad {
		p := o.get("/audit?" + tc.query)
		expectStatus(t, p, http.StatusUnprocessableEntity, tc.query)
		if !strings.Contains(p.body, `data-field="`+tc.field+`"`) {
			t.Errorf("/audit?%s: no message next to %s", tc.query, tc.field)
		}
		if len(rowsOf(p.body)) != 0 {
			t.Errorf("/audit?%s lists events", tc.query)
		}
		expectStatus(t, o.get("/audit/export.csv?"+tc.query), http.StatusUnprocessableEntity, "export with "+tc.query)
	}
	expectStatus(t, o.get("/audit?before=x"), http.StatusBadRequest, "bad cursor")
	expectStatus(t, o.get("/audit/00000000-0000-0000-0000-000000000000"), http.StatusNotFound, "unknown event")

	// Page views are not recorded.
	n := len(h.events())
	o.get("/audit")
	o.get("/audit/" + all[0].EventID)
	if len(h.events()) != n {
		t.Errorf("viewing the log wrote %d events", len(h.events())-n)
	}
}

func TestAuditEventPage(t *testing.T) {
	h, o, _ := ownerWithEvents(t)
	h.createEmployee(o, "quinn")
	o.get("/groups/new")
	o.post("/groups", url.Values{"name": {"ops"}})
	o.get("/users/quinn")
	o.post("/users/quinn/groups", url.Values{"group": {"ops"}})
	ev := h.events()[0]
	if ev.EventName != "AddUserToGroup" {
		t.Fatalf("newest event is %s", ev.EventName)
	}
	p := o.get("/audit/" + ev.EventID)
	expectStatus(t, p, 200, "event page")
	for _, want := range []string{`data-testid="event-name">AddUserToGroup<`, ev.RequestID, ev.Hash, ev.PrevHash, ev.EventID,
		`href="/users/quinn"`, `href="/groups/ops"`, "root-account", "GroupName"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("event page lacks %q", want)
		}
	}
	// Once the group is gone, it is named without a link.
	o.get("/groups/ops/delete")
	o.post("/groups/ops/delete", url.Values{"confirm": {"ops"}, "empty": {"true"}})
	p = o.get("/audit/" + ev.EventID)
	if strings.Contains(p.body, `href="/groups/ops"`) || !strings.Contains(p.body, "no longer exists") {
		t.Errorf("a deleted group is still linked")
	}
	// A failed event shows its error.
	b := h.browser()
	b.get("/login")
	b.post("/login", url.Values{"username": {"quinn"}, "password": {"Not-The-Password-1"}})
	fail := h.events()[0]
	p = o.get("/audit/" + fail.EventID)
	if !strings.Contains(p.body, `data-testid="event-error"`) || !strings.Contains(p.body, "InvalidCredentials") {
		t.Errorf("the failed sign-in's page does not show its error")
	}
}

func TestAuditExports(t *testing.T) {
	h, o, _ := ownerWithEvents(t)
	// Formulas in names and comments land inside JSON cells; the user agent
	// is a cell of its own. (Tabs and carriage returns cannot start either:
	// the handlers' unit test covers them.)
	formulas := []string{"=1+1", "+SUM(A1)", "-2+3", "@cmd"}
	for i, f := range formulas {
		o.get("/users/new")
		p := o.post("/users", url.Values{"name": {fmt.Sprintf("f%d", i)}, "display_name": {f}, "comments": {f}})
		if p.status != http.StatusSeeOther && p.status != 200 {
			t.Fatalf("create user with comments %q: %d", f, p.status)
		}
		evil := h.browser()
		evil.c.Transport = uaTransport{f + `HYPERLINK("http://evil")`}
		evil.get("/login")
		evil.post("/login", url.Values{"username": {"nobody"}, "password": {"whatever-123"}})
	}

	p := o.get("/audit/export.csv")
	expectStatus(t, p, 200, "CSV export")
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := p.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") {
		t.Errorf("Content-Disposition %q", cd)
	}
	records, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	// The export lists what existed when it was asked for, not its own event.
	if records[0][0] != "eventTime" || len(records)-1 != len(h.events())-1 {
		t.Errorf("CSV has header %q and %d rows for %d events before the export", records[0][0], len(records)-1, len(h.events())-1)
	}
	neutralised := 0
	for _, rec := range records[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("CSV cell %q starts a formula", cell)
			}
		}
		if strings.HasPrefix(rec[14], "'") && strings.HasSuffix(rec[14], `HYPERLINK("http://evil")`) {
			neutralised++
		}
	}
	if neutralised != len(formulas) {
		t.Errorf("%d formula user agents are in the CSV, neutralised; want %d", neutralised, len(formulas))
	}

	p = o.get("/audit/export.ndjson")
	expectStatus(t, p, 200, "NDJSON export")
	lines := strings.Split(strings.TrimSuffix(p.body, "\n"), "\n")
	for i, line := range lines {
		var ev store.Event
		if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.EventID == "" {
			t.Fatalf("NDJSON line %d does not parse: %v", i+1, err)
		}
	}
	if len(lines) != len(records)-1+1 {
		t.Errorf("NDJSON has %d lines, CSV %d rows (one export event between)", len(lines), len(records)-1)
	}

	// Filters apply; the export itself is recorded with its filter.
	p = o.get("/audit/export.ndjson?event=CreateUser&result=success")
	n := 0
	sc := bufio.NewScanner(strings.NewReader(p.body))
	for sc.Scan() {
		var ev store.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.EventName != "CreateUser" || ev.IsError {
			t.Errorf("filtered export has %s (error %v)", ev.EventName, ev.IsError)
		}
		n++
	}
	if n != len(formulas) {
		t.Errorf("filtered export has %d events, want %d", n, len(formulas))
	}
	last := h.events()[0]
	if last.EventName != "ExportEvents" || last.RequestParameters["EventName"] != "CreateUser" ||
		last.RequestParameters["Result"] != "success" || last.RequestParameters["Format"] != "ndjson" {
		t.Errorf("newest event %s %v, want the export with its filter", last.EventName, last.RequestParameters)
	}
	p = o.get("/audit/export.csv?user=nobody-at-all")
	if strings.Count(p.body, "\n") != 1 {
		t.Errorf("an empty export is not just the header: %q", p.body)
	}
}

func TestAuditIntegrityOnPage(t *testing.T) {
	h, o, _ := ownerWithEvents(t)
	p := o.get("/audit")
	if !strings.Contains(p.body, `data-ok="true"`) {
		t.Fatalf("intact chain not shown as intact")
	}
	o.get("/groups/new")
	o.post("/groups", url.Values{"name": {"g1"}})
	o.post("/groups", url.Values{"name": {"g2"}})
	events := h.events()
	victim := events[1]
	db := openRaw(t, h)
	if _, err := db.Exec(`UPDATE events SET body = replace(body, '"g1"', '"gX"') WHERE seq = ?`, victim.Seq); err != nil {
		t.Fatal(err)
	}
	p = o.get("/audit")
	if !strings.Contains(p.body, `data-ok="false"`) || !strings.Contains(p.body, `href="/audit/`+victim.EventID+`"`) {
		t.Errorf("a changed event is not reported: %.3000s", p.body)
	}
}

// A change to a field of the stored event that no column holds (its
// userAgent, sourceIpAddress, a request parameter) is caught by the content
// hash alone: VerifyChain and the audit page report the changed event — its
// seq and eventId — and that its hash does not match its content. Putting
// the original back makes the chain verify again, so the break was that
// field's.
func TestAuditVerifyDetectsContentTampering(t *testing.T) {
	h, o, _ := ownerWithEvents(t)
	ctx := context.Background()
	o.get("/groups/new")
	expectRedirect(t, o.post("/groups", url.Values{"name": {"g1"}}), "/groups/g1", "create g1")
	o.get("/groups/new")
	expectRedirect(t, o.post("/groups", url.Values{"name": {"g2"}}), "/groups/g2", "create g2")
	var victim store.StoredEvent
	for _, e := range h.events() {
		if e.EventName == "CreateGroup" && e.RequestParameters["GroupName"] == "g1" {
			victim = e
			break
		}
	}
	if victim.EventID == "" {
		t.Fatal("no CreateGroup event for g1")
	}
	if rep, err := h.st.VerifyChain(ctx); err != nil || !rep.OK {
		t.Fatalf("VerifyChain before tampering = %+v, %v; want intact", rep, err)
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	db := openRaw(t, h)
	for _, tc := range []struct{ field, from, to string }{
		{"userAgent", `"userAgent":` + quote(victim.UserAgent), `"userAgent":"curl/8.0.1"`},
		{"sourceIpAddress", `"sourceIpAddress":` + quote(victim.SourceIPAddress), `"sourceIpAddress":"203.0.113.9"`},
		{"requestParameters.GroupName", `"GroupName":"g1"`, `"GroupName":"gX"`},
	} {
		if !strings.Contains(victim.Body, tc.from) {
			t.Fatalf("the stored event has no %s", tc.from)
		}
		tampered := strings.Replace(victim.Body, tc.from, tc.to, 1)
		if _, err := db.Exec(`UPDATE events SET body = ? WHERE seq = ?`, tampered, victim.Seq); err != nil {
			t.Fatal(err)
		}
		rep, err := h.st.VerifyChain(ctx)
		if err != nil {
			t.Fatalf("VerifyChain after changing %s: %v", tc.field, err)
		}
		if rep.OK || rep.BrokenAt != victim.Seq || rep.EventID != victim.EventID ||
			!strings.Contains(rep.Reason, "hash does not match the event's content") {
			t.Errorf("VerifyChain after changing %s of event %d (%s) = OK %v, BrokenAt %d, EventID %q, Reason %q; "+
				"want broken at that event because its hash does not match its content",
				tc.field, victim.Seq, victim.EventID, rep.OK, rep.BrokenAt, rep.EventID, rep.Reason)
		}
		p := o.get("/audit")
		if want := html.EscapeString(fmt.Sprintf("Hash chain BROKEN at event #%d: %s", victim.Seq, rep.Reason)); !strings.Contains(p.body, `data-ok="false"`) ||
			!strings.Contains(p.body, want) || !strings.Contains(p.body, `href="/audit/`+victim.EventID+`"`) {
			t.Errorf("the audit page after changing %s does not report %q with a link to event %s", tc.field, want, victim.EventID)
		}
		if _, err := db.Exec(`UPDATE events SET body = ? WHERE seq = ?`, victim.Body, victim.Seq); err != nil {
			t.Fatal(err)
		}
		if rep, err := h.st.VerifyChain(ctx); err != nil || !rep.OK {
			t.Fatalf("VerifyChain with %s restored = %+v, %v; want intact", tc.field, rep, err)
		}
	}
}

// TestAuditChainUnderConcurrentWriters runs many operations at once; the
// chain must verify afterwards.
func TestAuditChainUnderConcurrentWriters(t *testing.T) {
	h, _, _ := ownerWithEvents(t)
	ctx := context.Background()
	root := ram.Actor{Principal: ram.PrincipalRoot, RequestID: "concurrent", SourceIP: "127.0.0.1"}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 4; j++ {
				name := fmt.Sprintf("cc-%d-%d", i, j)
				if _, err := h.svc.CreateGroup(ctx, root, name, "concurrent"); err != nil {
					errs <- err
					return
				}
				_, _ = h.svc.CreateGroup(ctx, root, name, "again") // a failure event
				if err := h.svc.DeleteGroup(ctx, root, name, false); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := h.st.VerifyChain(ctx)
	if err != nil || !rep.OK {
		t.Fatalf("VerifyChain after concurrent writers = %+v, %v", rep, err)
	}
	if rep.Events < 16*4*3 {
		t.Errorf("%d events verified, want at least %d", rep.Events, 16*4*3)
	}
	var times []string
	for _, e := range h.events() {
		times = append(times, e.EventTime)
	}
	if !sort.SliceIsSorted(times, func(i, j int) bool { return times[i] > times[j] }) {
		t.Errorf("event times go backwards along seq")
	}
}

func TestAuditRetention(t *testing.T) {
	h, o, secret := ownerWithEvents(t)
	ctx := context.Background()
	old := len(h.events())
	h.clock.Advance(40 * 24 * time.Hour)
	o = h.signIn(secret)
	o.get("/groups/new")
	o.post("/groups", url.Values{"name": {"recent"}})
	host := ram.Actor{RequestID: "retention", SourceIP: "host", UserAgent: "test"}
	p, err := h.svc.PruneAuditLog(ctx, host, 30)
	if err != nil {
		t.Fatal(err)
	}
	if p.Count != int64(old) {
		t.Errorf("pruned %d events, want the %d older than 30 days", p.Count, old)
	}
	rep, err := h.st.VerifyChain(ctx)
	if err != nil || !rep.OK || rep.Checkpoint != p.AfterSeq {
		t.Fatalf("VerifyChain after pruning = %+v, %v", rep, err)
	}
	ev := h.events()[0]
	if ev.EventName != "PruneEvents" || ev.EventSource != "host" || ev.AdditionalEventData["count"] != float64(old) ||
		ev.RequestParameters["RetentionDays"] != float64(30) {
		t.Errorf("newest event %s/%s %v %v, want PruneEvents from the host with the count", ev.EventName, ev.EventSource,
			ev.AdditionalEventData, ev.RequestParameters)
	}
	// Nothing old enough: nothing happens, no event.
	n := len(h.events())
	if p, err := h.svc.PruneAuditLog(ctx, host, 30); err != nil || p.Count != 0 || len(h.events()) != n {
		t.Errorf("second prune = %+v, %v, %d new events", p, err, len(h.events())-n)
	}
	if page := o.get("/audit"); !strings.Contains(page.body, `data-ok="true"`) {
		t.Errorf("the page does not show the pruned chain as intact")
	}
	// A new event continues the chain after the checkpoint; tampering with
	// the checkpoint or deleting the newest event is still seen.
	o.get("/groups/new")
	o.post("/groups", url.Values{"name": {"later"}})
	if rep, err := h.st.VerifyChain(ctx); err != nil || !rep.OK {
		t.Fatalf("VerifyChain = %+v, %v", rep, err)
	}
	db := openRaw(t, h)
	for _, tc := range []struct{ name, sql, undo string }{
		{"checkpoint moved", "UPDATE audit_checkpoints SET after_seq = after_seq + 1", "UPDATE audit_checkpoints SET after_seq = after_seq - 1"},
		{"checkpoint forged", "INSERT INTO audit_checkpoints(after_seq, last_hash, created_at) SELECT seq, hash, '' FROM events ORDER BY seq DESC LIMIT 1",
			"DELETE FROM audit_checkpoints WHERE created_at = ''"},
		{"newest event deleted", "DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)", ""},
	} {
		if _, err := db.Exec(tc.sql); err != nil {
			t.Fatal(err)
		}
		if rep, err := h.st.VerifyChain(ctx); err != nil || rep.OK {
			t.Errorf("%s: VerifyChain = %+v, %v; want broken", tc.name, rep, err)
		}
		if tc.undo != "" {
			if _, err := db.Exec(tc.undo); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// seedAuditEvents appends n synthetic events to the harness's chain straight
// into the database (bulk inserts with a valid chain), their times spread
// evenly from start, step apart: 1,000 RAM users, the owner and unknown
// names; 20 event names; 5% failures; 500 source IPs; 30% API calls signed
// with an AccessKey.
func seedAuditEvents(tb testing.TB, h *harness, n int, start time.Time, step time.Duration) {
	tb.Helper()
	db := h.openDB()
	db.SetMaxOpenConns(1)
	prev := strings.Repeat("0", 64)
	if err := db.QueryRow("SELECT hash FROM events ORDER BY seq DESC LIMIT 1").Scan(&prev); err != nil && err != sql.ErrNoRows {
		tb.Fatal(err)
	}
	names := []string{"ConsoleSignin", "ConsoleSignin", "ConsoleSignin", "ConsoleSignin", "GetUser", "ListUsers", "CreateUser",
		"UpdateUser", "DeleteUser", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "CreateGroup", "DeleteGroup",
		"AddUserToGroup", "RemoveUserFromGroup", "AttachPolicyToUser", "CheckMFA", "ConsoleSignout", "SetPasswordPolicy"}
	const batch = 20000
	for done := 0; done < n; {
		tx, err := db.Begin()
		if err != nil {
			tb.Fatal(err)
		}
		stmt, err := tx.Prepare(`INSERT INTO events(event_id, event_time, event_type, event_source, event_name,
			user_type, user_name, principal_id, access_key_id, source_ip, request_id, resource_name, error_code, is_error,
			body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			tb.Fatal(err)
		}
		for end := min(done+batch, n); done < end; done++ {
			i := done
			ev := store.Event{EventID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), EventVersion: "1",
				EventTime: start.Add(time.Duration(i) * step).UTC().Format("2006-01-02T15:04:05.000Z"),
				EventType: ram.EventConsoleOperation, EventSource: "ram", EventName: names[i%len(names)], ServiceName: "Ram",
				RequestID: fmt.Sprintf("10000000-0000-4000-8000-%012d", i), SourceIPAddress: fmt.Sprintf("10.0.%d.%d", i%500/250, i%250),
				UserAgent: "Mozilla/5.0 (X11; Linux x86_64) seed"}
			switch u := i % 20; {
			case u < 3:
				ev.UserIdentity = store.Identity{Type: "root-account", PrincipalID: "1234567890123456", AccountID: "1234567890123456", UserName: "root"}
			case u == 3:
				ev.UserIdentity = store.Identity{Type: "unknown", AccountID: "1234567890123456"}
				ev.AdditionalEventData = map[string]any{"loginAccount": fmt.Sprintf("guess%d", i%97), "mfaChecked": false}
			default:
				user := fmt.Sprintf("user%04d", (i/7)%1000)
				ev.UserIdentity = store.Identity{Type: "ram-user", PrincipalID: fmt.Sprintf("2%015d", (i/7)%1000),
					AccountID: "1234567890123456", UserName: user}
				if i%10 < 3 {
					ev.EventType = ram.EventAPICall
					ev.UserIdentity.AccessKeyID = fmt.Sprintf("LTAI%020d", (i/7)%1000)
				}
			}
			if ev.EventName == "ConsoleSignin" || ev.EventName == "CheckMFA" || ev.EventName == "ConsoleSignout" {
				ev.EventType, ev.EventSource = ram.EventConsoleSignin, "signin"
			}
			ev.RequestParameters = map[string]any{"UserName": fmt.Sprintf("user%04d", i%1000), "GroupName": "team" + fmt.Sprint(i%40)}
			ev.ResourceName = fmt.Sprintf("user%04d", i%1000)
			if i%20 == 7 || i%20 == 3 {
				ev.ErrorCode, ev.ErrorMessage, ev.IsError = "InvalidCredentials", "wrong password", true
			}
			body, err := json.Marshal(&ev)
			if err != nil {
				tb.Fatal(err)
			}
			hash := h.st.ChainHash(prev, body)
			_, err = stmt.Exec(ev.EventID, ev.EventTime, ev.EventType, ev.EventSource, ev.EventName, ev.UserIdentity.Type,
				ev.UserIdentity.UserName, ev.UserIdentity.PrincipalID, ev.UserIdentity.AccessKeyID, ev.SourceIPAddress,
				ev.RequestID, ev.ResourceName, ev.ErrorCode, ev.IsError, string(body), prev, hash)
			if err != nil {
				tb.Fatal(err)
			}
			prev = hash
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			tb.Fatal(err)
		}
	}
}

// auditBenchEvents is the size of the seeded log (RAMCONSOLE_AUDIT_BENCH_EVENTS
// overrides the 1,000,000 default, for a quick run).
func auditBenchEvents(b *testing.B) int {
	n := 1_000_000
	if v := os.Getenv("RAMCONSOLE_AUDIT_BENCH_EVENTS"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil {
			b.Fatalf("RAMCONSOLE_AUDIT_BENCH_EVENTS=%q: %v", v, err)
		}
	}
	return n
}

// BenchmarkAudit seeds a log of a million events once (about a minute),
// then measures the audit pages and exports through HTTP, server and client
// together, and the cost of appending an event inside a change's
// transaction. Run it alone: go test -run '^$' -bench Audit -benchtime 20x ./web/
func BenchmarkAudit(b *testing.B) {
	n := auditBenchEvents(b)
	h := newHarness(b)
	start := h.clock.Now().Add(-30 * 24 * time.Hour)
	step := 30 * 24 * time.Hour / time.Duration(n)
	t0 := time.Now()
	seedAuditEvents(b, h, n, start, step)
	b.Logf("seeded %d events in %v", n, time.Since(t0).Round(time.Millisecond))
	o, _ := h.setupOwner()
	t0 = time.Now()
	for {
		p := o.get("/audit")
		if strings.Contains(p.body, `data-ok="true"`) {
			break
		}
		if !strings.Contains(p.body, `data-ok="pending"`) {
			b.Fatalf("the seeded chain does not verify: %.2000s", p.body)
		}
		time.Sleep(250 * time.Millisecond)
	}
	b.Logf("full chain verification (in the background) took %v", time.Since(t0).Round(time.Millisecond))
	rowsRE := regexp.MustCompile(`data-testid="event-link"`)
	day := func(d int) string { return start.Add(time.Duration(d) * 24 * time.Hour).Format("2006-01-02") }
	pages := []struct{ name, query string }{
		{"FirstPage", ""},
		{"ByUser", "user=user0421"},
		{"ByUserFailures", "user=user0421&result=failure"},
		{"ByEventName", "event=DeleteGroup"},
		{"ByTimeRange", "from=" + day(10) + "T06:00&to=" + day(10) + "T07:00"},
		{"ByTimeRangeAndUser", "from=" + day(3) + "&to=" + day(12) + "&user=user0007"},
		{"BySourceIP", "source_ip=10.0.1.17"},
		{"ByAccessKey", "access_key_id=LTAI00000000000000000421"},
		{"Owner", "user=root&result=success"},
	}
	for _, pg := range pages {
		b.Run("Page/"+pg.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p := o.get("/audit?" + pg.query)
				if p.status != 200 || len(rowsRE.FindAllStringIndex(p.body, -1)) == 0 {
					b.Fatalf("/audit?%s: %d, no rows", pg.query, p.status)
				}
			}
		})
	}
	exports := []struct{ name, path string }{
		{"NDJSON", "/audit/export.ndjson?from=" + day(20) + "&to=" + day(23)},
		{"CSV", "/audit/export.csv?from=" + day(20) + "&to=" + day(23)},
	}
	for _, ex := range exports {
		b.Run("Export/"+ex.name, func(b *testing.B) {
			b.ReportAllocs()
			events := 0
			for i := 0; i < b.N; i++ {
				p := o.get(ex.path)
				if p.status != 200 {
					b.Fatalf("%s: %d", ex.path, p.status)
				}
				events += strings.Count(p.body, "\n")
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
	ctx := context.Background()
	change := func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE account SET alias = alias")
		return err
	}
	b.Run("Append/ChangeOnly", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := h.st.Update(ctx, change); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Append/ChangeAndEvent", func(b *testing.B) {
		b.ReportAllocs()
		var appendTime time.Duration
		for i := 0; i < b.N; i++ {
			err := h.st.Update(ctx, func(tx *store.Tx) error {
				if err := change(tx); err != nil {
					return err
				}
				ev := &store.Event{EventID: ram.NewRequestID(), EventVersion: "1", EventType: ram.EventConsoleOperation,
					EventSource: "ram", EventName: "UpdateUser", ServiceName: "Ram", RequestID: ram.NewRequestID(),
					UserIdentity:    store.Identity{Type: "root-account", UserName: "root", AccountID: "1234567890123456"},
					SourceIPAddress: "127.0.0.1", UserAgent: "bench", RequestParameters: map[string]any{"UserName": "user0001"}}
				t := time.Now()
				err := tx.AppendEvent(ctx, ev)
				appendTime += time.Since(t)
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(appendTime.Microseconds())/float64(b.N), "append-µs/op")
	})
}

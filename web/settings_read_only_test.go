package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var formActionRE = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)

// postForms lists the actions of a page's forms, sign-out left out.
func postForms(body string) []string {
	var out []string
	for _, m := range formActionRE.FindAllStringSubmatch(body, -1) {
		if m[1] != "/logout" {
			out = append(out, m[1])
		}
	}
	return out
}

// TestSettingsForAViewerWhoMayNotChangeThem: the settings page shows a
// read-only viewer the values, no form, and the permission each change
// needs; a section the viewer may not read names the permission instead;
// a viewer who may change one section gets that section's form only.
// Looking is never recorded as a refusal.
func TestSettingsForAViewerWhoMayNotChangeThem(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/settings")
	expectRedirect(t, owner.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"14"}, "RequireSymbols": {"true"},
		"MaxPasswordAge": {"90"}, "PasswordReusePrevention": {"0"}, "MaxLoginAttemps": {"5"}}), "/settings", "password policy")
	expectRedirect(t, owner.post("/settings/security", url.Values{"LoginSessionDuration": {"6"}, "LoginNetworkMasks": {"127.0.0.0/8;10.0.0.0/8"},
		"AllowUserToChangePassword": {"true"}}), "/settings", "login settings")
	p := owner.get("/settings")
	if got := postForms(p.body); strings.Join(got, " ") != "/settings/password-policy /settings/security /settings/alias" {
		t.Errorf("the owner's settings forms = %v", got)
	}

	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	onlyPolicy := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:GetPasswordPolicy","ram:SetPasswordPolicy"],"Resource":"*"}]}`
	keeper := h.ramUser(owner, "keeper", nil, map[string]string{"PasswordPolicyKeeper": onlyPolicy})
	refusedBefore := countRefused(t, h, "reader") + countRefused(t, h, "keeper")

	p = reader.get("/settings")
	expectStatus(t, p, http.StatusOK, "settings as a read-only user")
	if got := postForms(p.body); len(got) > 0 {
		t.Errorf("the read-only user is offered the forms %v", got)
	}
	for _, want := range []string{
		`data-testid="password-policy-facts"`, "<dt>Minimum length</dt><dd>14</dd>", "<dt>Require a symbol</dt><dd>Yes</dd>",
		"<dt>Require a number</dt><dd>No</dd>", "<dt>Maximum password age</dt><dd>90 days</dd>", "<dt>Remembered passwords</dt><dd>Off</dd>",
		`data-testid="login-settings-facts"`, "<dt>Session duration</dt><dd>6 hours</dd>", "<dd>127.0.0.0/8;10.0.0.0/8</dd>",
		"<dt>Users may change their own passwords</dt><dd>Yes</dd>",
		`data-testid="alias-facts"`, "<dt>Alias</dt><dd>" + testAlias + "</dd>",
		"You need <code>ram:SetPasswordPolicy</code> to change the password policy.",
		"You need <code>ram:SetSecurityPreference</code> to change the login settings.",
		"You need <code>ram:SetAccountAlias</code> to change the account alias.",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the read-only settings page lacks %s", want)
		}
	}

	p = keeper.get("/settings")
	expectStatus(t, p, http.StatusOK, "settings as the password policy's keeper")
	if got := postForms(p.body); strings.Join(got, " ") != "/settings/password-policy" {
		t.Errorf("the keeper's settings forms = %v, want the password policy's only", got)
	}
	for _, want := range []string{`value="14"`, "You need <code>ram:GetSecurityPreference</code> to see this.",
		"You need <code>ram:GetAccountAlias</code> to see this."} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the keeper's settings page lacks %s", want)
		}
	}
	if strings.Contains(p.body, "10.0.0.0/8") || strings.Contains(p.body, testAlias+"</dd>") {
		t.Errorf("the keeper sees settings it may not read")
	}
	if n := countRefused(t, h, "reader") + countRefused(t, h, "keeper") - refusedBefore; n != 0 {
		t.Errorf("opening the settings recorded %d refusals", n)
	}

	// What the page no longer offers is still refused, and changes nothing.
	expectStatus(t, reader.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"8"}, "MaxPasswordAge": {"0"},
		"PasswordReusePrevention": {"0"}, "MaxLoginAttemps": {"0"}}), http.StatusForbidden, "the reader posts the password policy")
	keeper.get("/settings")
	expectRedirect(t, keeper.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"12"}, "MaxPasswordAge": {"0"},
		"PasswordReusePrevention": {"0"}, "MaxLoginAttemps": {"0"}}), "/settings", "the keeper changes the password policy")
	if p = reader.get("/settings"); !strings.Contains(p.body, "<dt>Minimum length</dt><dd>12</dd>") {
		t.Errorf("the read-only page does not show the new minimum length")
	}
}

// countRefused counts the refused (NoPermission) events of a user.
func countRefused(t *testing.T, h *harness, user string) int {
	t.Helper()
	n := 0
	for _, e := range h.events() {
		if e.ErrorCode == "NoPermission" && (e.UserIdentity.UserName == user || e.UserIdentity.SourceUserName == user) {
			n++
		}
	}
	return n
}

package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOverviewGuides: an empty account gets a "get started" card; the
// checklist's open items link to the users concerned and the setting.
func TestOverviewGuides(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	p := owner.get("/")
	if !strings.Contains(p.body, `data-testid="get-started"`) {
		t.Errorf("an empty account has no get-started card")
	}
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"nomfa"}, "console_login": {"true"}, "password": {ramUserPW}})
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"program"}})
	p = owner.get("/")
	if strings.Contains(p.body, `data-testid="get-started"`) {
		t.Errorf("the get-started card stays once there are users")
	}
	for _, want := range []string{`href="/users?status=no_mfa"`, `href="/settings#login-settings"`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the checklist lacks the link %s", want)
		}
	}
	p = owner.get("/users?status=no_mfa")
	expectStatus(t, p, 200, "users without MFA")
	if got := listedUsers(p.body); strings.Join(got, ",") != "nomfa" {
		t.Errorf("users without MFA: %v, want nomfa", got)
	}
	if !strings.Contains(p.body, `data-testid="users-status"`) {
		t.Errorf("the filtered list does not say it is filtered")
	}
	expectStatus(t, owner.get("/users?status=rich"), 400, "an unknown status")
	// Blank facts read as a dash or Never.
	p = owner.get("/users/program")
	if !strings.Contains(p.body, "<dd>—</dd>") || !strings.Contains(p.body, "<dd>Never</dd>") {
		t.Errorf("blank facts are not shown as — and Never")
	}
}

// TestSettingsNameEveryWrongFieldAtOnce: a form with a field that is not a
// number and another out of range names both.
func TestSettingsNameEveryWrongFieldAtOnce(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/settings")
	p := owner.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"ten"}, "MaxPasswordAge": {"5000"},
		"PasswordReusePrevention": {"0"}, "MaxLoginAttemps": {"99"}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "two wrong fields")
	for _, f := range []string{"MinimumPasswordLength", "MaxPasswordAge", "MaxLoginAttemps"} {
		if !strings.Contains(p.body, `data-field="`+f+`"`) {
			t.Errorf("no message next to %s", f)
		}
	}
	if !strings.Contains(p.body, `aria-describedby="e-MaxPasswordAge"`) {
		t.Errorf("the message is not tied to its field")
	}
	p = owner.post("/settings/security", url.Values{"LoginSessionDuration": {"x"}, "LoginNetworkMasks": {"10.0.0.0/33"}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "two wrong security fields")
	for _, f := range []string{"LoginSessionDuration", "LoginNetworkMasks"} {
		if !strings.Contains(p.body, `data-field="`+f+`"`) {
			t.Errorf("no message next to %s", f)
		}
	}
}

// TestPolicyErrorsPointAtALine: the validator's line is shown numbered.
func TestPolicyErrorsPointAtALine(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/policies/new")
	doc := "{\n  \"Version\": \"1\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"ram:ListUsers\", \"Resource\": \"*\",}\n  ]\n}"
	p := owner.post("/policies", url.Values{"name": {"Broken"}, "document": {doc}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "a broken document")
	if !strings.Contains(p.body, `data-testid="policy-excerpt"`) || !strings.Contains(p.body, "<mark>   4 │") {
		t.Errorf("the error does not point at line 4: %s", p.body[strings.Index(p.body, "policy-problems"):][:600])
	}
	if !strings.Contains(p.body, `aria-describedby="policy-problems"`) {
		t.Errorf("the document is not tied to its problems")
	}
}

// TestSimulatorDecisionFirst: the decision comes before the form, and the
// boolean keys are choices.
func TestSimulatorDecisionFirst(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"sim"}})
	p := owner.get("/simulator")
	if !strings.Contains(p.body, `<select id="f-mfa_present" name="mfa_present">`) || !strings.Contains(p.body, `<select id="f-secure_transport" name="secure_transport">`) {
		t.Errorf("the boolean keys are not selects")
	}
	p = owner.post("/simulator", url.Values{"user": {"sim"}, "action": {"ram:ListUsers"}, "resource": {"*"}, "mfa_present": {"true"}})
	expectStatus(t, p, 200, "simulate")
	d, f := strings.Index(p.body, `data-testid="decision"`), strings.Index(p.body, `action="/simulator"`)
	if d < 0 || f < 0 || d > f {
		t.Errorf("the decision (at %d) does not come before the form (at %d)", d, f)
	}
	if !strings.Contains(p.body, `<option value="true" selected>`) {
		t.Errorf("the chosen mfa_present is not kept")
	}
}

package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSwitchConfirmationShowsWhatTheUserMaySee: a user who may switch to a
// role but not read it sees the confirmation with the role's name only,
// and neither it nor the switch records a refused GetRole; after switching
// the user lands on a page the role session may open. A user who may read
// the role sees its description.
func TestSwitchConfirmationShowsWhatTheUserMaySee(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/roles/new")
	expectRedirect(t, owner.post("/roles", url.Values{"name": {"deployer"}, "description": {"Ships releases"}, "preset": {"account"},
		"max_session_duration": {"3600"}}), "/roles/deployer", "create deployer")
	kai := h.ramUser(owner, "kai", []string{"AliyunSTSAssumeRoleAccess"}, nil)
	lee := h.ramUser(owner, "lee", []string{"AliyunSTSAssumeRoleAccess", "AliyunRAMReadOnlyAccess"}, nil)

	p := kai.get("/roles/deployer/switch")
	expectStatus(t, p, http.StatusOK, "the confirmation for a user who may not read the role")
	if !strings.Contains(p.body, "Switch to role deployer?") || !strings.Contains(p.body, `data-testid="switch-confirm"`) {
		t.Errorf("the confirmation does not offer the switch: %.400s", p.body)
	}
	if strings.Contains(p.body, "Ships releases") {
		t.Errorf("a user who may not read the role sees its description")
	}
	if n := countRefused(t, h, "kai"); n != 0 {
		t.Errorf("opening the confirmation recorded %d refusals", n)
	}
	// The role has no policy: its session may not read the role's page.
	expectRedirect(t, kai.post("/roles/deployer/switch", nil), "/me", "switch to deployer")
	p = kai.get("/me")
	expectStatus(t, p, http.StatusOK, "My account as the role session")
	if !strings.Contains(p.body, `data-testid="switched-banner"`) {
		t.Errorf("no banner after switching")
	}
	if n := countRefused(t, h, "kai"); n != 0 {
		t.Errorf("switching recorded %d refusals", n)
	}

	p = lee.get("/roles/deployer/switch")
	expectStatus(t, p, http.StatusOK, "the confirmation for a user who may read the role")
	if !strings.Contains(p.body, "Ships releases") {
		t.Errorf("a user who may read the role does not see its description")
	}
}

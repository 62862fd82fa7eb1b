package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// PasswordReusePrevention remembers the last N passwords (SPEC §8).
func TestPasswordReusePreventionRemembersEarlierPasswords(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/settings")
	expectRedirect(t, owner.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"12"}, "MaxPasswordAge": {"0"},
		"PasswordReusePrevention": {"3"}, "MaxLoginAttemps": {"5"}}), "/settings", "remember 3 passwords")
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"quinn"}, "console_login": {"true"}, "password": {ramUserPW}})
	b := h.browser()
	b.get("/login")
	b.post("/login", url.Values{"username": {"quinn"}, "password": {ramUserPW}})
	second := "Second-Quiet-Password-61"
	b.get("/password/change")
	expectRedirect(t, b.post("/password/change", url.Values{"current_password": {ramUserPW}, "new_password": {second}, "confirm_password": {second}}), "/", "first change")
	b.get("/password/change")
	p := b.post("/password/change", url.Values{"current_password": {second}, "new_password": {ramUserPW}, "confirm_password": {ramUserPW}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "back to the first password")
	if !strings.Contains(p.body, `data-field="new_password"`) {
		t.Errorf("no message next to the new password")
	}
}

// A signed-in session lasts LoginSessionDuration (SPEC §2).
func TestSessionLastsLoginSessionDuration(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/settings")
	expectRedirect(t, owner.post("/settings/security", url.Values{"LoginSessionDuration": {"1"}, "AllowUserToChangePassword": {"true"}}), "/settings", "one hour")
	b := h.ramUser(owner, "rita", nil, nil)
	h.clock.Advance(59 * time.Minute)
	expectStatus(t, b.get("/me"), 200, "59 minutes in")
	h.clock.Advance(2 * time.Minute)
	if p := b.get("/me"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
		t.Errorf("61 minutes in: %d → %q, want a redirect to sign in", p.status, p.header.Get("Location"))
	}
}

// MaxLoginAttemps 0 turns lockout off (SPEC §2).
func TestNoLockoutWhenMaxLoginAttempsIsZero(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/settings")
	expectRedirect(t, owner.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"12"}, "MaxPasswordAge": {"0"},
		"PasswordReusePrevention": {"0"}, "MaxLoginAttemps": {"0"}}), "/settings", "lockout off")
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"sam"}, "console_login": {"true"}, "password": {ramUserPW}})
	b := h.browser()
	b.get("/login")
	for i := 0; i < 8; i++ {
		b.post("/login", url.Values{"username": {"sam"}, "password": {fmt.Sprintf("wrong-%d", i)}})
	}
	expectRedirect(t, b.post("/login", url.Values{"username": {"sam"}, "password": {ramUserPW}}), "/", "the right password after 8 failures")
}

// At most 20 system and 10 custom policies per user or group (SPEC §10).
func TestPoliciesPerPrincipalLimit(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"tom"}})
	doc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`
	for i := 0; i < 11; i++ {
		owner.get("/policies/new")
		owner.post("/policies", url.Values{"name": {fmt.Sprintf("P%02d", i)}, "document": {doc}})
		owner.get("/users/tom")
		owner.post("/users/tom/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {fmt.Sprintf("P%02d", i)}})
	}
	u, _ := h.st.UserByName(context.Background(), "tom")
	atts, _ := h.st.UserAttachments(context.Background(), u.UserID)
	if len(atts) != 10 {
		t.Errorf("tom has %d custom policies, want 10", len(atts))
	}
	if !h.hasEvent("AttachPolicyToUser", "LimitExceeded.User.Policy") {
		t.Errorf("the 11th attachment was not refused with LimitExceeded.User.Policy")
	}
	// A system policy still fits: the limits are separate.
	owner.get("/users/tom")
	expectRedirect(t, owner.post("/users/tom/policies", url.Values{"policy_type": {"System"}, "policy_name": {"ReadOnlyAccess"}}), "/users/tom", "a system policy")
}

// X-Forwarded-For is believed only from --trusted-proxies (SPEC §8).
func TestClientIPFromTrustedProxiesOnly(t *testing.T) {
	h := newHarness(t)
	h.setupOwner()
	for _, tc := range []struct {
		name    string
		trusted []string
		want    string
	}{
		{"no trusted proxies: the connection's address", nil, "127.0.0.1"},
		{"another proxy trusted: the connection's address", []string{"10.9.9.9"}, "127.0.0.1"},
		{"the peer is trusted: the forwarded address", []string{"127.0.0.1"}, "203.0.113.7"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := New(Config{TrustedProxies: tc.trusted, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, Deps{Store: h.st, RAM: h.svc})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(app)
			defer srv.Close()
			// A fresh client: the sign-in form, then a refused sign-in sent
			// with X-Forwarded-For; its audit event names the client IP.
			b := h.browser()
			resp, err := b.c.Get(srv.URL + "/login")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := csrfRE.FindStringSubmatch(string(page))
			if m == nil {
				t.Fatal("no CSRF token on the sign-in form")
			}
			form := url.Values{"username": {"nobody-" + tc.want}, "password": {"x"}, "csrf_token": {m[1]}}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
			resp, err = b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := ""
			for _, e := range h.events() {
				if e.AdditionalEventData["loginAccount"] == "nobody-"+tc.want {
					got = e.SourceIPAddress
				}
			}
			if got != tc.want {
				t.Errorf("sourceIpAddress = %q, want %q", got, tc.want)
			}
		})
	}
}

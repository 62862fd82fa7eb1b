package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// postFrom posts a form with the last CSRF token seen and the given
// request headers (Origin, Referer, Sec-Fetch-Site as a browser sends them).
func (b *browser) postFrom(path string, form url.Values, headers map[string]string) page {
	b.h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return b.do(req)
}

func TestSessionEndedPostLeadsToSignIn(t *testing.T) {
	h := newHarness(t)
	_, secret := h.setupOwner()
	sameSite := func(page string) map[string]string {
		return map[string]string{"Origin": h.srv.URL, "Referer": h.srv.URL + page, "Sec-Fetch-Site": "same-origin"}
	}
	cases := []struct {
		name    string
		end     func(b *browser)
		headers map[string]string
		want    int
		to      string
	}{
		{"signed out in another tab, same-origin post", func(b *browser) {
			other := h.browser()
			other.setCookie(b.cookie())
			other.csrf = b.csrf
			other.post("/logout", nil)
		}, sameSite("/users/new"), http.StatusSeeOther, "/login?next=%2Fusers%2Fnew&ended=1"},
		{"session expired, Referer only", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Referer": h.srv.URL + "/users/new?x=1"}, http.StatusSeeOther, "/login?next=%2Fusers%2Fnew%3Fx%3D1&ended=1"},
		{"session ended, Origin only: back to the overview", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Origin": h.srv.URL}, http.StatusSeeOther, "/login?next=%2F&ended=1"},
		{"session ended, cross-site Origin", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Origin": "https://evil.example", "Referer": "https://evil.example/x"}, http.StatusForbidden, ""},
		{"session ended, same-origin Origin but foreign Referer: no way back", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Origin": h.srv.URL, "Referer": "https://evil.example/x"}, http.StatusSeeOther, "/login"},
		{"session ended, same-site (not same-origin) fetch", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden, ""},
		{"session ended, no evidence where the post came from: no way back", func(*browser) { h.clock.Advance(7 * time.Hour) },
			nil, http.StatusSeeOther, "/login"},
		{"signed out, no evidence where the post came from", func(b *browser) { b.post("/logout", nil) }, nil, http.StatusForbidden, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := h.signIn(secret)
			b.get("/users/new")
			tc.end(b)
			p := b.postFrom("/users", url.Values{"name": {"late"}}, tc.headers)
			if p.status != tc.want || p.header.Get("Location") != tc.to {
				t.Fatalf("POST /users after the session ended = %d → %q, want %d → %q", p.status, p.header.Get("Location"), tc.want, tc.to)
			}
			if u, _ := h.st.UserByName(t.Context(), "late"); u != nil {
				t.Fatalf("the post after the session ended created the user")
			}
			if strings.Contains(tc.to, "ended=1") {
				login := b.get(tc.to)
				expectStatus(t, login, 200, "the sign-in page")
				if !strings.Contains(login.body, "Your session ended") {
					t.Errorf("the sign-in page does not say the session ended")
				}
			}
		})
	}
}

func TestMFABindingSurvivesReload(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	b.get("/setup?token=" + h.token)
	expectRedirect(t, b.post("/setup", url.Values{"token": {h.token}, "email": {testOwnerEmail}, "password": {testOwnerPW},
		"confirm_password": {testOwnerPW}}), "/mfa/bind", "setup")
	first := find(t, secretRE, b.get("/mfa/bind").body, "MFA secret")
	p := b.get("/mfa/bind")
	if again := find(t, secretRE, p.body, "MFA secret"); again != first {
		t.Fatalf("reloading the binding page changed the key: %s, then %s", first, again)
	}
	for _, want := range []string{`inputmode="numeric"`, `autocomplete="one-time-code"`, "autofocus", groupsOf4Test(first)} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the binding page lacks %s", want)
		}
	}
	expectRedirect(t, b.post("/mfa/bind/new", nil), "/mfa/bind", "ask for a new key")
	second := find(t, secretRE, b.get("/mfa/bind").body, "MFA secret")
	if second == first {
		t.Fatalf("asking for a new key kept the old one")
	}
	// Codes of the key scanned before asking for a new one: explained.
	p = b.post("/mfa/bind", url.Values{"code1": {h.code(first, -1)}, "code2": {h.code(first, 0)}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "codes of the earlier key")
	if !strings.Contains(p.body, "earlier visit to this page") {
		t.Errorf("a failed bind does not explain the earlier QR code case")
	}
	expectRedirect(t, b.post("/mfa/bind", url.Values{"code1": {h.code(second, -1)}, "code2": {h.code(second, 0)}}), "/", "bind the new key")
}

func groupsOf4Test(key string) string {
	var parts []string
	for len(key) > 4 {
		parts = append(parts, key[:4])
		key = key[4:]
	}
	return strings.Join(append(parts, key), " ")
}

func TestOwnerPasswordIsVisibleAndSetupAsksTwice(t *testing.T) {
	h := newHarness(t)
	b := h.browser()
	if p := b.get("/setup?token=" + h.token); !strings.Contains(p.body, `name="confirm_password"`) {
		t.Fatalf("setup does not ask for the password twice")
	}
	owner, _ := h.setupOwner()
	if p := owner.get("/"); !strings.Contains(p.body, `href="/password/change"`) {
		t.Errorf("the owner's navigation has no Change password link")
	}
}

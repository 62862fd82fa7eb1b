package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
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
	// next is where the sign-in page leads back to: "" when the answer is
	// not that page (a redirect to the plain sign-in, or a refusal).
	cases := []struct {
		name    string
		end     func(b *browser)
		headers map[string]string
		want    int
		to      string
		next    string
	}{
		{"signed out in another tab, same-origin post", func(b *browser) {
			other := h.browser()
			other.setCookie(b.cookie())
			other.csrf = b.csrf
			other.post("/logout", nil)
		}, sameSite("/users/new"), http.StatusUnauthorized, "", "/users/new"},
		{"session expired, Referer only", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Referer": h.srv.URL + "/users/new?x=1"}, http.StatusUnauthorized, "", "/users/new?x=1"},
		{"session ended, Origin only: back to the overview", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Origin": h.srv.URL}, http.StatusUnauthorized, "", "/"},
		{"session ended, the form shown again with its messages: back to the form's page", func(*browser) { h.clock.Advance(7 * time.Hour) },
			sameSite("/users"), http.StatusUnauthorized, "", "/users/new"},
		{"session ended, cross-site Origin", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Origin": "https://evil.example", "Referer": "https://evil.example/x"}, http.StatusForbidden, "", ""},
		{"session ended, same-origin Origin but foreign Referer: no way back", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Origin": h.srv.URL, "Referer": "https://evil.example/x"}, http.StatusSeeOther, "/login", ""},
		{"session ended, same-site (not same-origin) fetch", func(*browser) { h.clock.Advance(7 * time.Hour) },
			map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden, "", ""},
		{"session ended, no evidence where the post came from: no way back", func(*browser) { h.clock.Advance(7 * time.Hour) },
			nil, http.StatusSeeOther, "/login", ""},
		{"signed out, no evidence where the post came from", func(b *browser) { b.post("/logout", nil) }, nil, http.StatusForbidden, "", ""},
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
			if tc.next != "" {
				if !strings.Contains(p.body, "Your session ended") || !strings.Contains(p.body, `action="/login"`) {
					t.Errorf("the answer is not the sign-in page saying the session ended")
				}
				if !strings.Contains(p.body, `name="next" value="`+html.EscapeString(tc.next)+`"`) {
					t.Errorf("the sign-in page does not lead back to %s", tc.next)
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

var (
	handoverPWRE     = regexp.MustCompile(`data-testid="(?:handover|generated)-password">([^<]+)<`)
	logonNameRE      = regexp.MustCompile(`data-testid="handover-logon-name">([^<]+)<`)
	logonURLRE       = regexp.MustCompile(`data-testid="handover-logon-url">([^<]+)<`)
	credentialsCSVRE = regexp.MustCompile(`data-testid="credentials-csv" href="([^"]+)"`)
)

func TestCreateUserIsSafeByDefault(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	p := owner.get("/users/new")
	for _, unchosen := range []string{"console_login", "create_access_key"} {
		if regexp.MustCompile(`name="` + unchosen + `" value="true" checked`).MatchString(p.body) {
			t.Errorf("the create form chooses %s for the administrator", unchosen)
		}
	}
	for _, on := range []string{`name="mfa_bind_required" value="true" checked`, `name="generate_password" value="true" checked`} {
		if !strings.Contains(p.body, on) {
			t.Errorf("the create form lacks %s", on)
		}
	}
	before := h.countUsers()
	cases := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"generate chosen but a password typed", url.Values{"console_login": {"true"}, "generate_password": {"true"}, "password": {ramUserPW}}, "password"},
		{"type chosen but nothing typed", url.Values{"console_login": {"true"}, "generate_password": {"false"}}, "password"},
		{"a password typed without console access", url.Values{"password": {ramUserPW}, "create_access_key": {"true"}}, "console_login"},
	}
	for _, tc := range cases {
		tc.form.Set("name", "conflicted")
		p := owner.post("/users", tc.form)
		expectStatus(t, p, http.StatusUnprocessableEntity, tc.name)
		if !strings.Contains(p.body, `data-field="`+tc.field+`"`) {
			t.Errorf("%s: no message next to %s", tc.name, tc.field)
		}
		if strings.Contains(p.body, ramUserPW) {
			t.Errorf("%s: the typed password was echoed back", tc.name)
		}
	}
	if n := h.countUsers(); n != before {
		t.Fatalf("contradictory forms created %d users", n-before)
	}

	// A program user: an AccessKey, no console access.
	p = owner.follow(owner.post("/users", url.Values{"name": {"robot"}, "create_access_key": {"true"}}))
	expectStatus(t, p, 200, "program user's sheet")
	if strings.Contains(p.body, "handover-sheet") || strings.Contains(p.body, "credentials-csv") {
		t.Errorf("a program user's sheet offers console credentials")
	}
	if u, _ := h.st.UserByName(t.Context(), "robot"); u == nil {
		t.Fatal("robot was not created")
	} else if _, lp, _, _ := h.st.UserLogin(t.Context(), u.UserID); lp != nil {
		t.Errorf("a program user got console access")
	}
}

func TestHandoverSheetIsShownOnce(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	typed := "=HYPERLINK-Pass-4471"
	owner.get("/users/new")
	post := owner.post("/users", url.Values{"name": {"hana"}, "console_login": {"true"}, "generate_password": {"false"}, "password": {typed},
		"mfa_bind_required": {"true"}})
	expectHandover(t, post, "create hana")
	if strings.Contains(post.body, typed) {
		t.Errorf("the POST's answer carries the password")
	}
	sheet := post.header.Get("Location")
	if p := h.browser().get(sheet); p.status != http.StatusSeeOther && p.status != http.StatusGone {
		t.Errorf("another browser opened the sheet: %d", p.status)
	}
	p := owner.get(sheet)
	expectStatus(t, p, 200, "the sheet")
	if got := find(t, handoverPWRE, p.body, "password"); got != typed {
		t.Errorf("the sheet shows password %q, want the typed %q", got, typed)
	}
	if got := find(t, logonNameRE, p.body, "logon name"); got != "hana@"+testAlias {
		t.Errorf("logon name %q", got)
	}
	if got := find(t, logonURLRE, p.body, "logon URL"); got != h.srv.URL+"/login" {
		t.Errorf("logon URL %q", got)
	}
	for _, step := range []string{`href="/users/hana#groups"`, `href="/users/hana#policies"`, `href="/users/hana"`} {
		if !strings.Contains(p.body, step) {
			t.Errorf("next steps lack %s", step)
		}
	}
	csvHref := find(t, credentialsCSVRE, p.body, "credentials CSV")

	// A reload shows it no more.
	again := owner.get(sheet)
	expectStatus(t, again, http.StatusGone, "the sheet again")
	if strings.Contains(again.body, typed) || !strings.Contains(again.body, "handover-gone") {
		t.Errorf("the reloaded sheet shows the password, or does not say it is gone")
	}

	// The credentials CSV: once, formula-safe, audited without the password.
	csv := owner.get(csvHref)
	expectStatus(t, csv, 200, "credentials CSV")
	want := "UserName,LogonName,Password,AccessKeyId,AccessKeySecret,LogonUrl\nhana,hana@" + testAlias + ",'" + typed + ",,," + h.srv.URL + "/login\n"
	if csv.body != want || csv.header.Get("Content-Type") != "text/csv" {
		t.Errorf("credentials CSV = %q (%s), want %q", csv.body, csv.header.Get("Content-Type"), want)
	}
	expectStatus(t, owner.get(csvHref), http.StatusNotFound, "credentials CSV twice")
	var seen bool
	for _, e := range h.events() {
		if e.EventName == "DownloadCredentialsCSV" {
			seen = e.RequestParameters["UserName"] == "hana" && e.ErrorCode == ""
		}
		if b, _ := json.Marshal(e); strings.Contains(string(b), typed) {
			t.Errorf("event %s carries the password", e.EventName)
		}
	}
	if !seen {
		t.Errorf("the credentials download was not audited with the UserName")
	}

	// Resetting the password hands over a sheet too; a generated one.
	owner.get("/users/hana")
	p = owner.follow(owner.post("/users/hana/login-profile/password", url.Values{"generate_password": {"true"}}))
	expectStatus(t, p, 200, "reset sheet")
	if find(t, generatedPWRE, p.body, "generated password") == "" || !strings.Contains(p.body, "hana@"+testAlias) {
		t.Errorf("the reset sheet lacks the password or the logon name")
	}
	owner.get("/users/hana")
	p = owner.post("/users/hana/login-profile/password", url.Values{"generate_password": {"true"}, "password": {"Typed-But-Generate-61"}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "reset with a contradiction")
}

func TestAccessKeyDeletionNeedsDisableAndTypedID(t *testing.T) {
	env := newAPIEnv(t)
	h, owner := env.harness, env.owner
	owner.get("/users/new")
	p := owner.follow(owner.post("/users", url.Values{"name": {"prog"}, "create_access_key": {"true"}}))
	id := find(t, keyIDRE, p.body, "AccessKey ID")
	base := "/users/prog/accesskeys/" + id
	keys := func() int {
		u, _ := h.st.UserByName(t.Context(), "prog")
		ks, _ := h.st.AccessKeys(t.Context(), u.UserID)
		return len(ks)
	}

	p = owner.get(base + "/delete")
	expectStatus(t, p, 200, "confirm page of an Active key")
	if !strings.Contains(p.body, "confirm-blocked") || strings.Contains(p.body, "confirm-form") || !strings.Contains(p.body, "Programs using "+id+" will fail") {
		t.Errorf("the confirm page of an Active key offers deletion or does not say what breaks")
	}
	expectStatus(t, owner.post(base+"/delete", url.Values{"confirm": {id}}), http.StatusConflict, "deleting an Active key")
	if !h.hasEvent("DeleteAccessKey", "DeleteConflict.AccessKey.Active") {
		t.Errorf("the refused deletion was not audited")
	}
	expectRedirect(t, owner.post(base+"/status", url.Values{"status": {"Inactive"}}), "/users/prog", "disable")
	p = owner.get(base + "/delete")
	if !strings.Contains(p.body, "confirm-form") {
		t.Fatalf("the confirm page of an Inactive key has no form")
	}
	expectStatus(t, owner.post(base+"/delete", nil), http.StatusUnprocessableEntity, "without the typed id")
	expectStatus(t, owner.post(base+"/delete", url.Values{"confirm": {id[:10]}}), http.StatusUnprocessableEntity, "with a wrong typed id")
	if keys() != 1 {
		t.Fatalf("a refused deletion deleted the key")
	}
	expectRedirect(t, owner.post(base+"/delete", url.Values{"confirm": {id}}), "/users/prog", "delete")
	if keys() != 0 {
		t.Fatalf("the key is still there")
	}

	// The OpenAPI keeps RAM's behaviour: DeleteAccessKey deletes an Active key.
	owner.get("/users/prog")
	id2 := find(t, keyIDRE, owner.follow(owner.post("/users/prog/accesskeys", nil)).body, "AccessKey ID")
	dk := ramsdk.CreateDeleteAccessKeyRequest()
	env.at(dk)
	dk.UserName, dk.UserAccessKeyId = "prog", id2
	_, err := env.client.DeleteAccessKey(dk)
	must(t, err, "DeleteAccessKey of an Active key through the API")
}

func TestConfirmPagesSayWhatBreaks(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	expectHandover(t, owner.post("/users", url.Values{"name": {"kim"}, "console_login": {"true"}, "password": {ramUserPW},
		"mfa_bind_required": {"true"}, "password_reset_required": {"true"}}), "create kim")
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"ops"}})
	owner.get("/groups/ops")
	owner.post("/groups/ops/members", url.Values{"user": {"kim"}})
	owner.post("/groups/ops/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunECSReadOnlyAccess"}})
	owner.get("/users/kim")
	owner.post("/users/kim/policies", url.Values{"policy_type": {"System"}, "policy_name": {"AliyunRAMReadOnlyAccess"}})
	h.signInEmployee("kim", ramUserPW) // binds an MFA device

	cases := []struct{ page, post, says string }{
		{"/users/kim/login-profile/delete", "/users/kim/login-profile/delete", "can no longer sign in"},
		{"/users/kim/groups/ops/remove", "/users/kim/groups/ops/remove", "AliyunECSReadOnlyAccess"},
		{"/groups/ops/members/kim/remove", "/groups/ops/members/kim/remove", "AliyunECSReadOnlyAccess"},
		{"/users/kim/policies/System/AliyunRAMReadOnlyAccess/detach", "/users/kim/policies/System/AliyunRAMReadOnlyAccess/detach", "User kim loses what System policy AliyunRAMReadOnlyAccess allows"},
		{"/groups/ops/policies/System/AliyunECSReadOnlyAccess/detach", "/groups/ops/policies/System/AliyunECSReadOnlyAccess/detach", "Every member of group ops loses what System policy AliyunECSReadOnlyAccess allows"},
	}
	before := len(h.events())
	for _, c := range cases {
		p := owner.get(c.page)
		expectStatus(t, p, 200, "GET "+c.page)
		if !strings.Contains(p.body, `action="`+c.post+`"`) || !strings.Contains(p.body, c.says) {
			t.Errorf("GET %s: no form posting to %s, or it does not say %q", c.page, c.post, c.says)
		}
	}
	if after := len(h.events()); after != before {
		t.Errorf("confirm pages wrote %d events", after-before)
	}
	for _, missing := range []string{"/users/kim/groups/nogroup/remove", "/users/kim/policies/System/AdministratorAccess/detach", "/users/nobody/login-profile/delete"} {
		if p := owner.get(missing); p.status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", missing, p.status)
		}
	}
	// The user page links to the confirm pages; it posts none of them directly.
	p := owner.get("/users/kim")
	for _, c := range cases[:2] {
		if strings.Contains(p.body, `action="`+c.post+`"`) {
			t.Errorf("the user page posts %s without a confirmation", c.post)
		}
	}
	// Detaching from the policy's page leads back to it.
	p = owner.get("/users/kim/policies/System/AliyunRAMReadOnlyAccess/detach?from=policy")
	if !strings.Contains(p.body, `name="from" value="policy"`) {
		t.Errorf("the confirm page reached from a policy does not lead back to it")
	}
	expectRedirect(t, owner.post("/users/kim/policies/System/AliyunRAMReadOnlyAccess/detach", url.Values{"from": {"policy"}}),
		"/policies/System/AliyunRAMReadOnlyAccess", "detach from the policy's page")
	// MFA: the administrator's unbind has its confirm page.
	p = owner.get("/users/kim/mfa/unbind")
	expectStatus(t, p, 200, "confirm unbinding")
	if !strings.Contains(p.body, "sessions of kim ends now") && !strings.Contains(p.body, "session of kim ends now") {
		t.Errorf("the unbind confirm page does not say the sessions end")
	}
	expectRedirect(t, owner.post("/users/kim/mfa/unbind", nil), "/users/kim", "unbind")
}

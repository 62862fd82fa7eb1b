package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	generatedPWRE = regexp.MustCompile(`data-testid="generated-password">([^<]+)<`)
	keyIDRE       = regexp.MustCompile(`data-testid="accesskey-id">(LTAI[A-Za-z0-9]{20})<`)
	keySecretRE   = regexp.MustCompile(`data-testid="accesskey-secret">([A-Za-z0-9]{30})<`)
	csvHrefRE     = regexp.MustCompile(`data-testid="accesskey-csv" href="([^"]+)"`)
)

func find(t testing.TB, re *regexp.Regexp, body, what string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page: %.800s", what, body)
	}
	return html.UnescapeString(m[1])
}

// employee is a RAM user created through the console.
type employee struct {
	name, password, keyID, secret, csv string
}

// createEmployee creates a user with a generated password (reset and MFA
// required) and an AccessKey, returning what the reveal page showed: csv is
// the one credentials file holding both.
func (h *harness) createEmployee(owner *browser, name string) employee {
	h.t.Helper()
	owner.get("/users/new")
	p := owner.post("/users", url.Values{"name": {name}, "display_name": {"Employee " + name}, "console_login": {"true"},
		"generate_password": {"true"}, "password_reset_required": {"true"}, "mfa_bind_required": {"true"}, "create_access_key": {"true"}})
	p = owner.follow(p)
	expectStatus(h.t, p, 200, "create user "+name)
	return employee{name: name, password: find(h.t, generatedPWRE, p.body, "generated password"),
		keyID: find(h.t, keyIDRE, p.body, "AccessKey ID"), secret: find(h.t, keySecretRE, p.body, "AccessKey secret"),
		csv: find(h.t, credentialsCSVRE, p.body, "credentials CSV link")}
}

// signInEmployee signs a user in through every forced step: MFA binding and
// the password change. It returns the browser and the user's MFA secret and
// new password.
func (h *harness) signInEmployee(logon, password string) (*browser, string, string) {
	h.t.Helper()
	b := h.browser()
	b.get("/login")
	p := b.post("/login", url.Values{"username": {logon}, "password": {password}})
	expectRedirect(h.t, p, "/mfa/bind", "employee password step")
	p = b.get("/mfa/bind")
	secret := find(h.t, secretRE, p.body, "MFA secret")
	p = b.post("/mfa/bind", url.Values{"code1": {h.code(secret, -1)}, "code2": {h.code(secret, 0)}})
	expectRedirect(h.t, p, "/password/change", "after binding: forced password change")
	expectRedirect(h.t, b.get("/me"), "/password/change", "nothing else before the password change")
	b.get("/password/change")
	newPW := "Fresh-Employee-Secret-93"
	p = b.post("/password/change", url.Values{"current_password": {password}, "new_password": {newPW}, "confirm_password": {newPW}})
	expectRedirect(h.t, p, "/", "password changed")
	h.clock.Advance(30 * time.Second)
	return b, secret, newPW
}

func TestEmployeeJourney(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	e := h.createEmployee(owner, "alice")

	// The one credentials CSV (sign-in and AccessKey): exact bytes, once.
	resp := owner.get(e.csv)
	expectStatus(t, resp, 200, "CSV download")
	if want := "UserName,LogonName,Password,AccessKeyId,AccessKeySecret,LogonUrl\nalice,alice@" + testAlias + "," + csvSafe(e.password) + "," +
		e.keyID + "," + e.secret + "," + h.srv.URL + "/login\n"; resp.body != want {
		t.Errorf("CSV = %q, want %q", resp.body, want)
	}
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := resp.header.Get("Content-Disposition"); cd != `attachment; filename="credentials.csv"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	expectStatus(t, owner.get(e.csv), 404, "second CSV download")

	// The secret is never shown again.
	p := owner.get("/users/alice")
	expectStatus(t, p, 200, "user page")
	if strings.Contains(p.body, e.secret) || strings.Contains(p.body, e.password) {
		t.Errorf("the user page shows the secret or the password")
	}
	if !strings.Contains(p.body, e.keyID) {
		t.Errorf("the user page does not list the AccessKey")
	}

	b, _, _ := h.signInEmployee("alice@"+testAlias, e.password)
	expectRedirect(t, b.get("/"), "/me", "a RAM user's home")
	p = b.get("/me")
	expectStatus(t, p, 200, "/me")
	if !strings.Contains(p.body, `data-testid="me-name">alice<`) {
		t.Errorf("/me does not show the user")
	}
	// Until authorisation lands, RAM users reach only their own pages.
	expectStatus(t, b.get("/users"), http.StatusForbidden, "RAM user on /users")

	for _, want := range []string{"CreateUser", "CreateLoginProfile", "CreateAccessKey", "BindMFADevice", "ChangePassword"} {
		if !h.hasEvent(want, "") {
			t.Errorf("no %s event", want)
		}
	}
	raw := h.rawDatabase()
	for name, secret := range map[string]string{"AccessKey secret": e.secret, "generated password": e.password} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the database file contains the %s", name)
		}
	}
}

func (h *harness) hasEvent(name, errorCode string) bool {
	for _, e := range h.events() {
		if e.EventName == name && e.ErrorCode == errorCode {
			return true
		}
	}
	return false
}

func (h *harness) countUsers() int {
	n, err := h.st.CountUsers(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func TestUserValidation(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	cases := []struct {
		name  string
		form  url.Values
		field string
	}{
		{"empty name", url.Values{"name": {""}}, "name"},
		{"name with a space", url.Values{"name": {"al ice"}}, "name"},
		{"name with a slash", url.Values{"name": {"al/ice"}}, "name"},
		{"name of 65 characters", url.Values{"name": {strings.Repeat("a", 65)}}, "name"},
		{"display name of 129 characters", url.Values{"name": {"bob"}, "display_name": {strings.Repeat("d", 129)}}, "display_name"},
		{"display name with a line break", url.Values{"name": {"bob"}, "display_name": {"Bob\nSmith"}}, "display_name"},
		{"comments of 129 characters", url.Values{"name": {"bob"}, "comments": {strings.Repeat("c", 129)}}, "comments"},
		{"bad email", url.Values{"name": {"bob"}, "email": {"bob@"}}, "email"},
		{"bad mobile", url.Values{"name": {"bob"}, "mobile_phone": {"call me"}}, "mobile_phone"},
		{"weak typed password", url.Values{"name": {"bob"}, "console_login": {"true"}, "password": {"password1234"}}, "password"},
		{"password with the user name", url.Values{"name": {"bobby"}, "console_login": {"true"}, "password": {"Bobby-x-9182-QQ!"}}, "password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			owner.get("/users/new")
			p := owner.post("/users", tc.form)
			expectStatus(t, p, http.StatusUnprocessableEntity, tc.name)
			if !strings.Contains(p.body, `data-field="`+tc.field+`"`) {
				t.Errorf("no message next to %s", tc.field)
			}
			if n := h.countUsers(); n != 0 {
				t.Fatalf("%d users exist after a refused form", n)
			}
		})
	}
	// Typed values are kept; a typed password is not echoed.
	owner.get("/users/new")
	p := owner.post("/users", url.Values{"name": {"bob"}, "display_name": {"Bob Smith"}, "email": {"x"}, "console_login": {"true"}, "password": {"Typed-Secret-Pass-77"}})
	if !strings.Contains(p.body, `value="Bob Smith"`) || strings.Contains(p.body, "Typed-Secret-Pass-77") {
		t.Errorf("typed values not kept, or the password echoed")
	}
}

func TestUserRules(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	expectRedirect(t, owner.post("/users", url.Values{"name": {"Carol"}}), "/users/Carol", "create Carol")
	owner.get("/users/new")
	p := owner.post("/users", url.Values{"name": {"carol"}})
	expectStatus(t, p, http.StatusConflict, "duplicate name in another case")
	if !strings.Contains(p.body, `data-field="name"`) {
		t.Errorf("no message next to the name")
	}

	// Two AccessKeys, not three.
	owner.get("/users/Carol")
	expectHandover(t, owner.post("/users/Carol/accesskeys", nil), "first key")
	owner.get("/users/Carol")
	expectHandover(t, owner.post("/users/Carol/accesskeys", nil), "second key")
	owner.get("/users/Carol")
	expectStatus(t, owner.post("/users/Carol/accesskeys", nil), http.StatusConflict, "third key")
	if !h.hasEvent("CreateAccessKey", "LimitExceeded.User.AccessKey") {
		t.Errorf("the refused third key was not audited")
	}

	// XSS in display names and comments is rendered inert.
	owner.get("/users/new")
	xss := `<script>alert(1)</script><img src=x onerror=alert(2)>`
	expectRedirect(t, owner.post("/users", url.Values{"name": {"mallory"}, "display_name": {xss}, "comments": {`"><svg onload=alert(3)>`}}), "/users/mallory", "create mallory")
	for _, path := range []string{"/users/mallory", "/users"} {
		p := owner.get(path)
		if strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") || strings.Contains(p.body, "<svg onload") {
			t.Errorf("%s renders markup from a display name or comment", path)
		}
		if !strings.Contains(p.body, "&lt;script&gt;") {
			t.Errorf("%s does not show the escaped display name", path)
		}
	}

	// Search by name and display name, keyset paging.
	for i := 0; i < 55; i++ {
		owner.get("/users/new")
		owner.post("/users", url.Values{"name": {"page-" + string(rune('a'+i/26)) + string(rune('a'+i%26))}})
	}
	p = owner.get("/users?q=page-")
	if n := strings.Count(p.body, `href="/users/page-`); n != 50 {
		t.Errorf("first page lists %d users, want 50", n)
	}
	next := regexp.MustCompile(`href="(/users\?[^"]+)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatal("no next page")
	}
	p = owner.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if n := strings.Count(p.body, `href="/users/page-`); n != 5 {
		t.Errorf("second page lists %d users, want 5", n)
	}
	p = owner.get("/users?q=EMPLOYEE")
	if strings.Contains(p.body, "page-aa") {
		t.Errorf("search matched a user by neither name nor display name")
	}
	p = owner.get("/users?q=%3Cscr")
	if !strings.Contains(p.body, `href="/users/mallory"`) {
		t.Errorf("search by display name prefix did not find mallory")
	}
	expectStatus(t, owner.get("/users/nobody"), 404, "unknown user")
	expectStatus(t, owner.get("/users?marker=@@@"), 400, "garbled marker")
}

func TestCSVLinkBoundAndExpiring(t *testing.T) {
	h := newHarness(t)
	owner, secret := h.setupOwner()
	e := h.createEmployee(owner, "dave")
	other := h.signIn(secret) // the owner in another browser
	expectStatus(t, other.get(e.csv), 404, "CSV link from another session")
	h.clock.Advance(11 * time.Minute)
	owner2 := owner
	expectStatus(t, owner2.get(e.csv), 404, "CSV link after 10 minutes")
	_ = other
}

func TestRAMUserSignInRefusalsAreIdentical(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	e := h.createEmployee(owner, "erin")
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"nologin"}})
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"inactive"}, "console_login": {"true"}, "password": {"Quiet-Console-Pass-51"}})
	owner.get("/users/inactive")
	owner.post("/users/inactive/login-profile/status", url.Values{"status": {"Inactive"}})
	try := func(user, pw string) page {
		b := h.browser()
		b.get("/login")
		return b.post("/login", url.Values{"username": {user}, "password": {pw}})
	}
	base := try("ghost@"+testAlias, "Whatever-Pass-11")
	for name, p := range map[string]page{
		"wrong password":      try("erin@"+testAlias, "Not-Her-Password-1"),
		"no console access":   try("nologin@"+testAlias, "Whatever-Pass-11"),
		"inactive profile":    try("inactive@"+testAlias, "Quiet-Console-Pass-51"),
		"wrong alias":         try("erin@other-alias", e.password),
		"bare unknown name":   try("ghost", "Whatever-Pass-11"),
		"bare name, wrong pw": try("erin", "nope-nope-nope"),
	} {
		if p.status != base.status || normalise(p.body) != normalise(base.body) {
			t.Errorf("%s answers %d, differently from an unknown user (%d)", name, p.status, base.status)
		}
	}
	for _, code := range []string{"NoLoginProfile", "LoginProfileInactive", "InvalidCredentials"} {
		if !h.hasEvent("ConsoleSignin", code) {
			t.Errorf("no ConsoleSignin event with %s", code)
		}
	}
	// The bare name works as well as name@alias.
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"erin"}, "password": {e.password}}), "/mfa/bind", "bare name")
}

func TestRAMUserLockoutAndUnlock(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	e := h.createEmployee(owner, "frank")
	b := h.browser()
	b.get("/login")
	for i := 0; i < 5; i++ {
		b.post("/login", url.Values{"username": {"frank"}, "password": {"wrong-" + string(rune('a'+i))}})
	}
	expectStatus(t, b.post("/login", url.Values{"username": {"frank"}, "password": {e.password}}), 401, "right password while locked")
	p := owner.get("/users/frank")
	if !strings.Contains(p.body, "Locked") {
		t.Errorf("the user page does not say the user is locked")
	}
	expectRedirect(t, owner.post("/users/frank/unlock", nil), "/users/frank", "unlock")
	if !h.hasEvent("UnlockUser", "") {
		t.Errorf("no UnlockUser event")
	}
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"frank"}, "password": {e.password}}), "/mfa/bind", "after unlock")
}

func TestNetworkMasks(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	e := h.createEmployee(owner, "gina")
	owner.get("/settings")
	p := owner.post("/settings/security", url.Values{"LoginSessionDuration": {"6"}, "LoginNetworkMasks": {"10.0.0.0/8;not-a-cidr"}})
	expectStatus(t, p, 422, "bad network mask")
	owner.get("/settings")
	expectRedirect(t, owner.post("/settings/security", url.Values{"LoginSessionDuration": {"6"}, "LoginNetworkMasks": {"10.0.0.0/8"}}), "/settings", "mask")
	b := h.browser()
	b.get("/login")
	expectStatus(t, b.post("/login", url.Values{"username": {"gina"}, "password": {e.password}}), 401, "sign-in from outside the masks")
	if !h.hasEvent("ConsoleSignin", "LoginNetworkDenied") {
		t.Errorf("no LoginNetworkDenied event")
	}
	owner.get("/settings")
	owner.post("/settings/security", url.Values{"LoginSessionDuration": {"6"}, "LoginNetworkMasks": {"127.0.0.0/8"}})
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"gina"}, "password": {e.password}}), "/mfa/bind", "sign-in from inside")
}

// Every way a user's sessions must end (SPEC §2).
func TestSessionRevocation(t *testing.T) {
	cases := []struct {
		name   string
		revoke func(h *harness, owner *browser)
	}{
		{"password reset", func(h *harness, owner *browser) {
			owner.get("/users/hank")
			owner.post("/users/hank/login-profile/password", url.Values{"password": {"Reset-By-Admin-Pass-8"}})
		}},
		{"MFA device unbound", func(h *harness, owner *browser) {
			owner.get("/users/hank")
			owner.post("/users/hank/mfa/unbind", nil)
		}},
		{"login profile deactivated", func(h *harness, owner *browser) {
			owner.get("/users/hank")
			owner.post("/users/hank/login-profile/status", url.Values{"status": {"Inactive"}})
		}},
		{"login profile removed", func(h *harness, owner *browser) {
			owner.get("/users/hank")
			owner.post("/users/hank/login-profile/delete", nil)
		}},
		{"user deleted", func(h *harness, owner *browser) {
			owner.get("/users/hank/delete")
			owner.post("/users/hank/delete", url.Values{"confirm": {"hank"}})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			owner, _ := h.setupOwner()
			e := h.createEmployee(owner, "hank")
			b, _, _ := h.signInEmployee("hank", e.password)
			expectStatus(t, b.get("/me"), 200, "signed in")
			tc.revoke(h, owner)
			if p := b.get("/me"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/login") {
				t.Errorf("after %s: /me = %d → %q, want a redirect to sign in", tc.name, p.status, p.header.Get("Location"))
			}
		})
	}
}

func TestOwnPasswordChangeKeepsThisSessionOnly(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	e := h.createEmployee(owner, "ivy")
	b1, secret, pw := h.signInEmployee("ivy", e.password)
	// A second session of the same user.
	b2 := h.browser()
	b2.get("/login")
	b2.post("/login", url.Values{"username": {"ivy"}, "password": {pw}})
	b2.get("/login/mfa")
	expectRedirect(t, b2.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}}), "/", "second session")
	h.clock.Advance(30 * time.Second)
	before := b1.cookie()
	b1.get("/password/change")
	newPW := "Another-Fresh-Secret-64"
	expectRedirect(t, b1.post("/password/change", url.Values{"current_password": {pw}, "new_password": {newPW}, "confirm_password": {newPW}}), "/", "change")
	if b1.cookie() == before {
		t.Errorf("the session id did not change with the password")
	}
	expectStatus(t, b1.get("/me"), 200, "the changing session stays signed in")
	if p := b2.get("/me"); p.status != http.StatusSeeOther {
		t.Errorf("the other session survived the password change: %d", p.status)
	}
	// Reuse prevention and validation.
	b1.get("/password/change")
	p := b1.post("/password/change", url.Values{"current_password": {newPW}, "new_password": {"short"}, "confirm_password": {"short"}})
	expectStatus(t, p, 422, "weak new password")
	p = b1.post("/password/change", url.Values{"current_password": {"wrong"}, "new_password": {"Yet-Another-Pass-88"}, "confirm_password": {"Yet-Another-Pass-88"}})
	expectStatus(t, p, 422, "wrong current password")
}

func TestDeleteUserLeavesNothingBehind(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	e := h.createEmployee(owner, "jack")
	h.signInEmployee("jack", e.password)
	owner.get("/groups/new")
	owner.post("/groups", url.Values{"name": {"ops"}})
	owner.get("/users/jack")
	expectRedirect(t, owner.post("/users/jack/groups", url.Values{"group": {"ops"}}), "/users/jack", "join ops")
	var userID string
	u, err := h.st.UserByName(context.Background(), "jack")
	if err != nil {
		t.Fatal(err)
	}
	userID = u.UserID
	p := owner.get("/users/jack/delete")
	for _, want := range []string{"console access", "MFA device", e.keyID, "group ops"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the confirmation does not mention %q", want)
		}
	}
	expectStatus(t, owner.post("/users/jack/delete", url.Values{"confirm": {"jac"}}), 422, "wrong confirmation")
	expectRedirect(t, owner.post("/users/jack/delete", url.Values{"confirm": {"jack"}}), "/users", "delete")
	db := h.openDB()
	for _, q := range []string{
		"SELECT count(*) FROM users WHERE user_id = ?1",
		"SELECT count(*) FROM login_profiles WHERE user_id = ?1",
		"SELECT count(*) FROM access_keys WHERE user_id = ?1",
		"SELECT count(*) FROM group_members WHERE user_id = ?1",
		"SELECT count(*) FROM password_history WHERE user_id = ?1",
		"SELECT count(*) FROM mfa_devices WHERE principal = 'user/' || ?1",
		"SELECT count(*) FROM sessions WHERE principal = 'user/' || ?1",
	} {
		var n int
		if err := db.QueryRow(q, userID).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s = %d (%v), want 0", q, n, err)
		}
	}
	if !h.hasEvent("CreateUser", "") || !h.hasEvent("DeleteUser", "") {
		t.Errorf("the user's audit events are gone")
	}
}

func TestGroups(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/groups/new")
	expectStatus(t, owner.post("/groups", url.Values{"name": {"bad name"}}), 422, "bad group name")
	expectRedirect(t, owner.post("/groups", url.Values{"name": {"Developers"}, "comments": {"<b>devs</b>"}}), "/groups/Developers", "create group")
	owner.get("/groups/new")
	expectStatus(t, owner.post("/groups", url.Values{"name": {"developers"}}), 409, "duplicate group name")
	for _, n := range []string{"kim", "lee"} {
		owner.get("/users/new")
		owner.post("/users", url.Values{"name": {n}})
	}
	owner.get("/groups/Developers")
	expectRedirect(t, owner.post("/groups/Developers/members", url.Values{"user": {"kim"}}), "/groups/Developers", "add kim")
	owner.get("/users/lee")
	expectRedirect(t, owner.post("/users/lee/groups", url.Values{"group": {"Developers"}}), "/users/lee", "add lee from the user page")
	owner.get("/groups/Developers")
	p := owner.post("/groups/Developers/members", url.Values{"user": {"kim"}})
	expectRedirect(t, p, "/groups/Developers", "add kim twice")
	p = owner.get("/groups/Developers")
	if !strings.Contains(p.body, "already in this group") {
		t.Errorf("no message for a repeated membership")
	}
	if !strings.Contains(p.body, `href="/users/kim"`) || !strings.Contains(p.body, `href="/users/lee"`) {
		t.Errorf("members not listed")
	}
	if strings.Contains(p.body, "<b>devs</b>") {
		t.Errorf("comments rendered as markup")
	}
	// Ten groups per user.
	for i := 0; i < 10; i++ {
		owner.get("/groups/new")
		owner.post("/groups", url.Values{"name": {"g" + string(rune('0'+i))}})
		owner.get("/users/kim")
		owner.post("/users/kim/groups", url.Values{"group": {"g" + string(rune('0'+i))}})
	}
	if !h.hasEvent("AddUserToGroup", "LimitExceeded.User.Group") {
		t.Errorf("the 11th group was not refused")
	}
	// Delete: refused while it has members unless emptied.
	owner.get("/groups/Developers/delete")
	expectStatus(t, owner.post("/groups/Developers/delete", url.Values{"confirm": {"Developers"}}), 409, "delete a group with members")
	expectRedirect(t, owner.post("/groups/Developers/delete", url.Values{"confirm": {"Developers"}, "empty": {"true"}}), "/groups", "empty and delete")
	expectStatus(t, owner.get("/groups/Developers"), 404, "deleted group")
	owner.get("/users/lee")
	expectRedirect(t, owner.post("/groups/g0/members/kim/remove", nil), "/groups/g0", "remove kim from g0")
}

func TestSettingsAndAlias(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/settings")
	p := owner.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"7"}, "MaxPasswordAge": {"0"}, "PasswordReusePrevention": {"0"}, "MaxLoginAttemps": {"5"}})
	expectStatus(t, p, 422, "minimum length 7")
	if !strings.Contains(p.body, `data-field="MinimumPasswordLength"`) || !strings.Contains(p.body, `value="7"`) {
		t.Errorf("no message, or the typed value lost")
	}
	p = owner.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"x"}, "MaxPasswordAge": {"0"}, "PasswordReusePrevention": {"0"}, "MaxLoginAttemps": {"5"}})
	expectStatus(t, p, 422, "non-numeric length")
	expectRedirect(t, owner.post("/settings/password-policy", url.Values{"MinimumPasswordLength": {"14"}, "RequireSymbols": {"true"},
		"MaxPasswordAge": {"90"}, "PasswordReusePrevention": {"3"}, "MaxLoginAttemps": {"3"}}), "/settings", "save policy")
	owner.get("/users/new")
	p = owner.post("/users", url.Values{"name": {"mona"}, "console_login": {"true"}, "password": {"NoSymbolsHere1234"}})
	expectStatus(t, p, 422, "password without a symbol under the new policy")
	owner.get("/users/new")
	p = owner.follow(owner.post("/users", url.Values{"name": {"mona"}, "console_login": {"true"}, "generate_password": {"true"}}))
	pw := find(t, generatedPWRE, p.body, "generated password")
	if len(pw) < 14 {
		t.Errorf("generated password %q is shorter than the policy", pw)
	}

	owner.get("/settings")
	expectStatus(t, owner.post("/settings/alias", url.Values{"alias": {"Bad_Alias"}}), 422, "bad alias")
	expectRedirect(t, owner.post("/settings/alias", url.Values{"alias": {"new-alias"}}), "/settings", "set alias")
	p = owner.get("/")
	if !strings.Contains(p.body, "&lt;UserName&gt;@new-alias") {
		t.Errorf("the overview does not show the new logon name")
	}
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"mona@new-alias"}, "password": {pw}}), "/", "the new logon name works")
	c := h.browser()
	c.get("/login")
	expectStatus(t, c.post("/login", url.Values{"username": {"mona@" + testAlias}, "password": {pw}}), 401, "the old logon name no longer works")
	for _, ev := range []string{"SetPasswordPolicy", "SetAccountAlias"} {
		if !h.hasEvent(ev, "") {
			t.Errorf("no %s event", ev)
		}
	}
}

func TestSelfServiceAccessKeys(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	e := h.createEmployee(owner, "nina")
	b, _, _ := h.signInEmployee("nina", e.password)
	p := b.get("/me")
	if strings.Contains(p.body, "/me/accesskeys") {
		t.Errorf("AccessKey management offered while the preference forbids it")
	}
	expectStatus(t, b.post("/me/accesskeys", nil), 403, "own key while not allowed")
	owner.get("/settings")
	owner.post("/settings/security", url.Values{"LoginSessionDuration": {"6"}, "AllowUserToManageAccessKeys": {"true"},
		"AllowUserToChangePassword": {"true"}, "AllowUserToManageMFADevices": {"true"}})
	b.get("/me")
	p = b.follow(b.post("/me/accesskeys", nil))
	expectStatus(t, p, 200, "own key")
	csv := find(t, csvHrefRE, p.body, "CSV link")
	expectStatus(t, b.get(csv), 200, "own CSV")
	p = b.get("/me")
	if n := strings.Count(p.body, "<code>LTAI"); n != 2 {
		t.Errorf("/me lists %d keys, want 2", n)
	}
	b.get("/me")
	expectStatus(t, b.post("/me/accesskeys", nil), 409, "third own key")
	// Another user's key is not one's own.
	b.get("/me/accesskeys/" + e.keyID + "/delete")
	expectStatus(t, b.post("/me/accesskeys/"+e.keyID+"/delete", url.Values{"confirm": {e.keyID}}), http.StatusConflict, "deleting one's own Active key")
	b.post("/me/accesskeys/"+e.keyID+"/status", url.Values{"status": {"Inactive"}})
	b.get("/me/accesskeys/" + e.keyID + "/delete")
	expectStatus(t, b.post("/me/accesskeys/"+e.keyID+"/delete", nil), http.StatusUnprocessableEntity, "deleting one's own key without typing its ID")
	p = b.post("/me/accesskeys/"+e.keyID+"/delete", url.Values{"confirm": {e.keyID}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("deleting one's own first key: %d", p.status)
	}
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"oscar"}, "create_access_key": {"true"}})
	oscar, _ := h.st.UserByName(context.Background(), "oscar")
	keys, _ := h.st.AccessKeys(context.Background(), oscar.UserID)
	b.get("/me")
	expectStatus(t, b.post("/me/accesskeys/"+keys[0].AccessKeyID+"/delete", nil), 404, "another user's key")
}

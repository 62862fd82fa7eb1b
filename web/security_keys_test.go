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

	"ramconsole/ram"
	"ramconsole/ram/softkey"
	"ramconsole/store"
	"ramconsole/store/pgtest"
)

// The console's public URL in these tests; the software keys answer for it.
const keyOrigin = "http://localhost:8080"

// enableKeys turns security keys on, as --public-url does.
func (h *harness) enableKeys() {
	h.t.Helper()
	if err := h.svc.SetPublicURL(keyOrigin); err != nil {
		h.t.Fatal(err)
	}
}

var optionsRE = regexp.MustCompile(`data-testid="([a-z-]+)"[^>]*data-webauthn="(?:create|get)" data-options="([^"]*)"`)

// ceremonyOptions returns the data-options of the page's ceremony form
// named testid, as webauthn.js reads it.
func ceremonyOptions(t testing.TB, p page, testid string) []byte {
	t.Helper()
	for _, m := range optionsRE.FindAllStringSubmatch(p.body, -1) {
		if m[1] == testid {
			return []byte(html.UnescapeString(m[2]))
		}
	}
	t.Fatalf("no ceremony form %s on the page (status %d): %.800s", testid, p.status, p.body)
	return nil
}

// registerKey adds k under name through the pages a person uses.
func registerKey(t testing.TB, b *browser, k *softkey.Key, name, password string) page {
	t.Helper()
	p := b.get("/mfa/security-keys/new")
	expectStatus(t, p, 200, "GET /mfa/security-keys/new")
	answer, err := k.Create(ceremonyOptions(t, p, "security-key-register-form"))
	if err != nil {
		t.Fatal(err)
	}
	f := url.Values{"name": {name}, "credential": {string(answer)}}
	if password != "" {
		f.Set("password", password)
	}
	return b.post("/mfa/security-keys", f)
}

// keyStep signs in with a password up to the MFA step and answers it with k.
func keyStep(t testing.TB, h *harness, username, password string, k *softkey.Key) (*browser, page) {
	t.Helper()
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {username}, "password": {password}}), "/login/mfa", "POST /login "+username)
	return b, answerKeyStep(t, b, k)
}

// answerKeyStep answers the MFA step's security-key challenge with k.
func answerKeyStep(t testing.TB, b *browser, k *softkey.Key) page {
	t.Helper()
	p := b.get("/login/mfa")
	expectStatus(t, p, 200, "GET /login/mfa")
	answer, err := k.Get(ceremonyOptions(t, p, "security-key-login-form"))
	if err != nil {
		t.Fatal(err)
	}
	return b.post("/login/mfa/webauthn", url.Values{"credential": {string(answer)}})
}

func lastEvent(t testing.TB, h *harness, name string) store.StoredEvent {
	t.Helper()
	for _, ev := range h.events() { // newest first
		if ev.EventName == name {
			return ev
		}
	}
	t.Fatalf("no %s event in the audit log", name)
	return store.StoredEvent{}
}

// noChallengeInEvents checks the audit log records no ceremony secrets.
func noCeremonyInEvents(t testing.TB, h *harness) {
	t.Helper()
	for _, ev := range h.events() {
		for _, bad := range []string{`"clientDataJSON"`, `"attestationObject"`, `"authenticatorData"`, `"signature"`, `"challenge"`, `"credential"`} {
			if strings.Contains(string(ev.Body), bad) {
				t.Errorf("event %s records %s: %s", ev.EventName, bad, ev.Body)
			}
		}
	}
}

// The owner adds a key, signs in with password + key, and the key's
// answer cannot be used twice; the audit log names the key, never the
// ceremony.
func TestSecurityKeyRegisterAndSignIn(t *testing.T) {
	h := newHarness(t)
	h.enableKeys()
	owner, _ := h.setupOwner()

	p := owner.get("/mfa/security-keys")
	expectStatus(t, p, 200, "GET /mfa/security-keys")
	if !strings.Contains(p.body, `data-testid="security-key-add"`) || strings.Contains(p.body, "security-keys-unavailable") {
		t.Fatalf("the keys page offers no key: %.600s", p.body)
	}
	p = owner.get("/mfa/security-keys/new")
	if strings.Contains(p.body, `name="password"`) {
		t.Error("a password is asked right after signing in")
	}
	if !strings.Contains(p.body, `defer src="/static/`) || !strings.Contains(p.body, `/webauthn.js"`) {
		t.Error("the registration page does not load webauthn.js")
	}
	key := softkey.New(keyOrigin)
	p = registerKey(t, owner, key, "YubiKey blue", "")
	expectRedirect(t, p, "/mfa/security-keys", "register")
	p = owner.get("/mfa/security-keys")
	if !strings.Contains(p.body, "Security key YubiKey blue added.") || strings.Count(p.body, `data-testid="security-key-row"`) != 1 {
		t.Fatalf("the key is not listed: %.800s", p.body)
	}
	ev := lastEvent(t, h, "BindMFADevice")
	if ev.AdditionalEventData["mfaType"] != "webauthn" || ev.AdditionalEventData["name"] != "YubiKey blue" || ev.AdditionalEventData["credentialId"] == "" {
		t.Errorf("BindMFADevice event: %s", ev.Body)
	}

	// Sign in: both factors are offered; the key completes the sign-in.
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), "/login/mfa", "password")
	p = b.get("/login/mfa")
	if !strings.Contains(p.body, `data-testid="security-key-login"`) || !strings.Contains(p.body, `action="/login/mfa"`) {
		t.Fatalf("the MFA step does not offer both factors: %.800s", p.body)
	}
	answer, err := key.Get(ceremonyOptions(t, p, "security-key-login-form"))
	if err != nil {
		t.Fatal(err)
	}
	expectRedirect(t, b.post("/login/mfa/webauthn", url.Values{"credential": {string(answer)}}), "/", "sign in with the key")
	expectStatus(t, b.get("/"), 200, "overview after a key sign-in")
	ev = lastEvent(t, h, ram.EventConsoleSignin)
	if ev.AdditionalEventData["mfaType"] != "webauthn" || ev.IsError {
		t.Errorf("sign-in event: %s", ev.Body)
	}

	// The same answer again, in a new sign-in: its challenge is gone.
	b2 := h.browser()
	b2.get("/login")
	b2.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	b2.get("/login/mfa")
	p = b2.post("/login/mfa/webauthn", url.Values{"credential": {string(answer)}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "a replayed answer")
	if !strings.Contains(p.body, "The security key could not be verified") || !strings.Contains(p.body, `data-testid="security-key-login"`) {
		t.Errorf("the refusal page: %.600s", p.body)
	}
	// A challenge is used once: answering it twice fails the second time.
	p = b2.get("/login/mfa")
	answer, _ = key.Get(ceremonyOptions(t, p, "security-key-login-form"))
	p = b2.post("/login/mfa/webauthn", url.Values{"credential": {string(answer)}})
	expectRedirect(t, p, "/", "a fresh answer")
	ev = lastEvent(t, h, "CheckMFA")
	if !ev.IsError || ev.AdditionalEventData["mfaType"] != "webauthn" || ev.ErrorCode == "" {
		t.Errorf("the refused answer's event: %s", ev.Body)
	}
	noCeremonyInEvents(t, h)
}

// Every kind of bad answer at sign-in gets the same page and counts toward
// the lockout exactly as a wrong code does, on the same counter.
func TestSecurityKeyFailuresCountTowardTheLock(t *testing.T) {
	h := newHarness(t)
	h.enableKeys()
	owner, secret := h.setupOwner()
	key := softkey.New(keyOrigin)
	expectRedirect(t, registerKey(t, owner, key, "main", ""), "/mfa/security-keys", "register")
	other := softkey.New(keyOrigin) // registered nowhere

	bad := []struct {
		name   string
		answer func(opts []byte) []byte
	}{
		{"bogus signature", func(o []byte) []byte {
			key.BogusSignature = true
			defer func() { key.BogusSignature = false }()
			a, _ := key.Get(o)
			return a
		}},
		{"unknown credential", func(o []byte) []byte { a, _ := other.Get(o); return a }},
		{"another RP ID", func(o []byte) []byte {
			key.RPID = "evil.localhost"
			defer func() { key.RPID = "" }()
			a, _ := key.Get(o)
			return a
		}},
		{"garbage", func([]byte) []byte { return []byte(`{"id":"AAAA","type":"public-key","response":{}}`) }},
		{"1 MB", func([]byte) []byte { return []byte(strings.Repeat("A", 1<<20)) }},
	}
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), "/login/mfa", "password")
	var msgs []string
	for i, c := range bad[:4] {
		p := b.get("/login/mfa")
		p = b.post("/login/mfa/webauthn", url.Values{"credential": {string(c.answer(ceremonyOptions(t, p, "security-key-login-form")))}})
		expectStatus(t, p, http.StatusUnprocessableEntity, c.name)
		msgs = append(msgs, flashOf(p.body))
		if got := failedCount(t, h); got != i+1 {
			t.Fatalf("%s: failed count %d, want %d", c.name, got, i+1)
		}
	}
	for _, m := range msgs {
		if m != "The security key could not be verified" {
			t.Errorf("a failure says %q; every failure must say the same", m)
		}
	}
	// The fifth failure is a wrong code: the same counter locks.
	p := b.post("/login/mfa", url.Values{"code": {"000000"}})
	expectStatus(t, p, http.StatusUnauthorized, "wrong code")
	// Locked: even the right key is refused now.
	p = answerKeyStep(t, b, key)
	expectStatus(t, p, http.StatusUnprocessableEntity, "the right key while locked")
	ev := lastEvent(t, h, "CheckMFA")
	if ev.ErrorCode != "AccountLocked" {
		t.Errorf("the locked attempt's event: %s", ev.Body)
	}
	_ = secret

	// A 1 MB field is refused as well, with the same words.
	h2 := newHarness(t)
	h2.enableKeys()
	o2, _ := h2.setupOwner()
	k2 := softkey.New(keyOrigin)
	expectRedirect(t, registerKey(t, o2, k2, "k", ""), "/mfa/security-keys", "register")
	b2 := h2.browser()
	b2.get("/login")
	b2.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	b2.get("/login/mfa")
	// The console's body limit refuses it before anything reads it.
	p = b2.post("/login/mfa/webauthn", url.Values{"credential": {string(bad[4].answer(nil))}})
	expectStatus(t, p, http.StatusRequestEntityTooLarge, "1 MB answer")
	if n := failedCount(t, h2); n != 0 {
		t.Errorf("a refused oversized request counted %d failures", n)
	}
	// 16 KiB and more (still under the body limit) is refused as a bad answer.
	p = b2.get("/login/mfa")
	p = b2.post("/login/mfa/webauthn", url.Values{"credential": {strings.Repeat("A", 20<<10)}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "20 KiB answer")
	if flashOf(p.body) != "The security key could not be verified" {
		t.Errorf("20 KiB answer: %q", flashOf(p.body))
	}
}

// A sign count that does not increase is a clone, refused; 0 → 0 stays
// valid for keys that keep no counter.
func TestSecurityKeySignCount(t *testing.T) {
	h := newHarness(t)
	h.enableKeys()
	owner, _ := h.setupOwner()
	key := softkey.New(keyOrigin)
	expectRedirect(t, registerKey(t, owner, key, "counting", ""), "/mfa/security-keys", "register")
	_, p := keyStep(t, h, testOwnerEmail, testOwnerPW, key) // count 1
	expectRedirect(t, p, "/", "count 1")
	one := uint32(1)
	key.FixedCounter = &one
	_, p = keyStep(t, h, testOwnerEmail, testOwnerPW, key)
	expectStatus(t, p, http.StatusUnprocessableEntity, "count 1 again")
	if ev := lastEvent(t, h, "CheckMFA"); ev.ErrorCode != "SecurityKeySignCountNotIncreasing" {
		t.Errorf("clone event: %s", ev.Body)
	}

	zero := uint32(0)
	flat := softkey.New(keyOrigin)
	flat.FixedCounter = &zero
	expectRedirect(t, registerKey(t, h.signInWithKey(key), flat, "no counter", ""), "/mfa/security-keys", "register a key without a counter")
	for i := 0; i < 2; i++ {
		_, p = keyStep(t, h, testOwnerEmail, testOwnerPW, flat)
		expectRedirect(t, p, "/", "0 → 0")
	}
}

// signInWithKey signs the owner in with password + key.
func (h *harness) signInWithKey(k *softkey.Key) *browser {
	h.t.Helper()
	k.FixedCounter = nil
	b, p := keyStep(h.t, h, testOwnerEmail, testOwnerPW, k)
	expectRedirect(h.t, p, "/", "owner signs in with a key")
	return b
}

var flashRE = regexp.MustCompile(`data-testid="flash">([^<]*)<`)

func flashOf(body string) string {
	if m := flashRE.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

func failedCount(t testing.TB, h *harness) int {
	t.Helper()
	var n int
	if err := h.openDB().QueryRow("SELECT failed_count FROM owner").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Bad input on the registration form changes nothing and says why.
func TestSecurityKeyRegistrationRefusals(t *testing.T) {
	h := newHarness(t)
	h.enableKeys()
	owner, _ := h.setupOwner()
	count := func() int {
		keys, err := h.svc.SecurityKeys(context.Background(), ram.PrincipalRoot)
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	k := softkey.New(keyOrigin)
	for _, c := range []struct{ what, name, field string }{
		{"no name", "", `data-field="name"`},
		{"control character", "bad\x07name", `data-field="name"`},
		{"65 characters", strings.Repeat("n", 65), `data-field="name"`},
	} {
		p := registerKey(t, owner, k, c.name, "")
		expectStatus(t, p, http.StatusUnprocessableEntity, c.what)
		if !strings.Contains(p.body, c.field) {
			t.Errorf("%s: no message at the name: %.500s", c.what, p.body)
		}
	}
	for _, c := range []struct{ what, answer string }{
		{"garbage", "not json"},
		{"empty", ""},
		{"20 KiB", strings.Repeat("A", 20<<10)},
	} {
		owner.get("/mfa/security-keys/new")
		p := owner.post("/mfa/security-keys", url.Values{"name": {"x"}, "credential": {c.answer}})
		expectStatus(t, p, http.StatusUnprocessableEntity, c.what)
		if !strings.Contains(p.body, "could not be registered") {
			t.Errorf("%s: %.500s", c.what, p.body)
		}
	}
	owner.get("/mfa/security-keys/new")
	expectStatus(t, owner.post("/mfa/security-keys", url.Values{"name": {"x"}, "credential": {strings.Repeat("A", 1<<20)}}),
		http.StatusRequestEntityTooLarge, "1 MB answer")
	// An answer for another origin, or to another page's challenge.
	wrong := softkey.New("http://localhost:9999")
	expectStatus(t, registerKey(t, owner, wrong, "wrong origin", ""), http.StatusUnprocessableEntity, "another origin")
	p := owner.get("/mfa/security-keys/new")
	stale, _ := k.Create(ceremonyOptions(t, p, "security-key-register-form"))
	owner.get("/mfa/security-keys/new") // a new challenge replaces it
	expectStatus(t, owner.post("/mfa/security-keys", url.Values{"name": {"stale"}, "credential": {string(stale)}}), http.StatusUnprocessableEntity, "an older page's answer")
	if n := count(); n != 0 {
		t.Fatalf("%d keys stored after refusals", n)
	}

	// Eight keys; the ninth is refused and no add link shows.
	for i := 0; i < ram.MaxSecurityKeys; i++ {
		expectRedirect(t, registerKey(t, owner, softkey.New(keyOrigin), "key "+string(rune('a'+i)), ""), "/mfa/security-keys", "key")
	}
	if p := owner.get("/mfa/security-keys"); strings.Contains(p.body, `data-testid="security-key-add"`) {
		t.Error("the add link shows at 8 keys")
	}
	p = registerKey(t, owner, softkey.New(keyOrigin), "ninth", "")
	expectStatus(t, p, http.StatusUnprocessableEntity, "ninth key")
	if !strings.Contains(p.body, "the most an identity may have") {
		t.Errorf("ninth key: %.500s", p.body)
	}
	// A duplicate name (any case) is refused at the name.
	p = registerKey(t, owner, softkey.New(keyOrigin), "KEY A", "")
	expectStatus(t, p, http.StatusUnprocessableEntity, "duplicate")
	if n := count(); n != ram.MaxSecurityKeys {
		t.Fatalf("%d keys stored", n)
	}
}

// After five minutes, adding a key asks for the password; a wrong one
// counts toward the lockout.
func TestSecurityKeyStepUp(t *testing.T) {
	h := newHarness(t)
	h.enableKeys()
	owner, _ := h.setupOwner()
	h.clock.Advance(6 * time.Minute)
	p := owner.get("/mfa/security-keys/new")
	if !strings.Contains(p.body, `name="password"`) {
		t.Fatal("no password asked five minutes after the last factor check")
	}
	k := softkey.New(keyOrigin)
	p = registerKey(t, owner, k, "k", "")
	expectStatus(t, p, http.StatusUnprocessableEntity, "no password")
	p = registerKey(t, owner, k, "k", "wrong-password-123")
	expectStatus(t, p, http.StatusUnprocessableEntity, "wrong password")
	if n := failedCount(t, h); n == 0 {
		t.Error("a wrong password while adding a key is not counted")
	}
	expectRedirect(t, registerKey(t, owner, k, "k", testOwnerPW), "/mfa/security-keys", "with the password")
}

// Deleting one's own key needs the password and a current factor; the
// owner's last factor stays.
func TestSecurityKeyDeleteOwn(t *testing.T) {
	h := newHarness(t)
	h.enableKeys()
	owner, secret := h.setupOwner()
	k1, k2 := softkey.New(keyOrigin), softkey.New(keyOrigin)
	expectRedirect(t, registerKey(t, owner, k1, "one", ""), "/mfa/security-keys", "one")
	expectRedirect(t, registerKey(t, owner, k2, "two", ""), "/mfa/security-keys", "two")
	keys, _ := h.svc.SecurityKeys(context.Background(), ram.PrincipalRoot)
	if keys[0].Name != "one" { // both were added in the same instant
		keys[0], keys[1] = keys[1], keys[0]
	}
	del := "/mfa/security-keys/" + keys[0].ID + "/delete"

	p := owner.get(del)
	expectStatus(t, p, 200, "delete page")
	answer, _ := k2.Get(ceremonyOptions(t, p, "security-key-delete-form"))
	p = owner.post(del, url.Values{"password": {"wrong-password-1"}, "credential": {string(answer)}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "wrong password")
	p = owner.get(del)
	p = owner.post(del, url.Values{"password": {testOwnerPW}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "no factor")
	// Another identity's id, and an unknown one: 404.
	expectStatus(t, owner.get("/mfa/security-keys/nope/delete"), http.StatusNotFound, "unknown id")
	// Password + the other key's answer.
	p = owner.get(del)
	answer, _ = k2.Get(ceremonyOptions(t, p, "security-key-delete-form"))
	expectRedirect(t, owner.post(del, url.Values{"password": {testOwnerPW}, "credential": {string(answer)}}), "/mfa/security-keys", "delete one")
	if ev := lastEvent(t, h, "UnbindMFADevice"); ev.IsError || ev.AdditionalEventData["name"] != "one" {
		t.Errorf("delete event: %s", ev.Body)
	}
	// Password + a TOTP code deletes the other.
	del = "/mfa/security-keys/" + keys[1].ID + "/delete"
	owner.get(del)
	expectRedirect(t, owner.post(del, url.Values{"password": {testOwnerPW}, "code": {h.code(secret, 0)}}), "/mfa/security-keys", "delete with a code")

	// An owner on a key alone cannot delete the last factor.
	h.clock.Advance(30 * time.Second)
	owner = h.signIn(secret)
	owner.get("/mfa/bind")
	expectRedirect(t, owner.post("/mfa/unbind", url.Values{"password": {testOwnerPW}, "code": {h.code(secret, 0)}}), "/mfa/bind", "unbind TOTP")
	k3 := softkey.New(keyOrigin)
	expectRedirect(t, registerKey(t, owner, k3, "last", ""), "/", "bind a key as the owner's factor")
	keys, _ = h.svc.SecurityKeys(context.Background(), ram.PrincipalRoot)
	del = "/mfa/security-keys/" + keys[0].ID + "/delete"
	p = owner.get(del)
	answer, _ = k3.Get(ceremonyOptions(t, p, "security-key-delete-form"))
	p = owner.post(del, url.Values{"password": {testOwnerPW}, "credential": {string(answer)}})
	expectStatus(t, p, http.StatusUnprocessableEntity, "the owner's last factor")
	if !strings.Contains(p.body, "last MFA device") {
		t.Errorf("last factor: %.600s", p.body)
	}
}

// An administrator removes a user's key; the user's sessions end; unbind
// removes the TOTP device and every key; reset-mfa removes the owner's.
func TestSecurityKeyAdministration(t *testing.T) {
	h := newHarness(t)
	h.enableKeys()
	owner, _ := h.setupOwner()
	h.ramUser(owner, "dev", nil, nil)
	owner.get("/settings")
	emp := h.browser()
	emp.get("/login")
	expectRedirect(t, emp.post("/login", url.Values{"username": {"dev"}, "password": {ramUserPW}}), "/", "dev signs in")
	k := softkey.New(keyOrigin)
	// Self-service MFA is off by default for RAM users.
	p := registerKey(t, emp, k, "dev key", "")
	if p.status == http.StatusSeeOther {
		// allowed by the account's preference: fine
	} else {
		h.setSelfServiceMFA(owner, true)
		expectRedirect(t, registerKey(t, emp, k, "dev key", ""), "/mfa/security-keys", "dev adds a key")
	}
	emp2, p := keyStep(t, h, "dev", ramUserPW, k)
	expectRedirect(t, p, "/", "dev signs in with the key")

	p = owner.get("/users/dev")
	if !strings.Contains(p.body, `data-testid="user-security-key-row"`) {
		t.Fatalf("the user page lists no key: %.600s", p.body)
	}
	keys, _ := h.svc.SecurityKeys(context.Background(), ram.UserPrincipal(h.userID(t, "dev")))
	expectRedirect(t, owner.post("/users/dev/mfa/security-keys/"+keys[0].ID+"/delete", nil), "/users/dev", "admin removes the key")
	expectRedirect(t, emp2.get("/me"), "/login?next=%2Fme", "dev's session ended")
	if ev := lastEvent(t, h, "UnbindMFADevice"); ev.IsError || ev.AdditionalEventData["mfaType"] != "webauthn" {
		t.Errorf("admin removal event: %s", ev.Body)
	}
	expectStatus(t, owner.post("/users/dev/mfa/security-keys/"+keys[0].ID+"/delete", nil), http.StatusNotFound, "removed twice")

	// Unbind removes every key.
	emp = h.browser()
	emp.get("/login")
	expectRedirect(t, emp.post("/login", url.Values{"username": {"dev"}, "password": {ramUserPW}}), "/", "dev signs in with the password")
	expectRedirect(t, registerKey(t, emp, softkey.New(keyOrigin), "again", ""), "/mfa/security-keys", "again")
	owner.get("/users/dev")
	expectRedirect(t, owner.post("/users/dev/mfa/unbind", nil), "/users/dev", "unbind all")
	if keys, _ := h.svc.SecurityKeys(context.Background(), ram.UserPrincipal(h.userID(t, "dev"))); len(keys) != 0 {
		t.Errorf("%d keys after unbind", len(keys))
	}

	// reset-mfa removes the owner's keys.
	expectRedirect(t, registerKey(t, owner, softkey.New(keyOrigin), "owner key", ""), "/mfa/security-keys", "owner key")
	res, err := h.svc.ResetOwnerMFA(context.Background(), ram.Actor{RequestID: "r", SourceIP: "host"})
	if err != nil || res.KeysRemoved != 1 || !res.Removed {
		t.Fatalf("reset-mfa: %+v %v", res, err)
	}
	if ev := lastEvent(t, h, "ResetOwnerMFA"); ev.AdditionalEventData["securityKeys"] == nil {
		t.Errorf("reset-mfa event: %s", ev.Body)
	}
}

// setSelfServiceMFA sets AllowUserToManageMFADevices through the store.
func (h *harness) setSelfServiceMFA(_ *browser, on bool) {
	h.t.Helper()
	pref := h.svc.SelfService(context.Background())
	pref.AllowUserToManageMFADevices = on
	if _, err := h.svc.SetSecurityPreference(context.Background(), ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: "r"}, pref); err != nil {
		h.t.Fatal(err)
	}
}

// Without a usable --public-url no key control shows anywhere, the page
// says why, and the key routes answer 404; TOTP works as before.
func TestSecurityKeysUnavailable(t *testing.T) {
	h := newHarness(t)
	owner, secret := h.setupOwner()
	for _, c := range []struct{ url, reason string }{
		{"", "set --public-url to the https address of the console"},
		{"http://127.0.0.1:8080", "security keys need a host name, not an IP address"},
		{"https://[::1]:8443", "security keys need a host name, not an IP address"},
		{"http://ram.example.com", "set --public-url to the https address of the console"},
	} {
		if err := h.svc.SetPublicURL(c.url); err != nil {
			t.Fatal(err)
		}
		p := owner.get("/mfa/security-keys")
		if !strings.Contains(p.body, `data-testid="security-keys-unavailable"`) || !strings.Contains(p.body, c.reason) {
			t.Errorf("%q: %.500s", c.url, p.body)
		}
		for _, path := range []string{"/mfa/bind", "/mfa/security-keys", "/"} {
			p := owner.get(path)
			for _, hook := range []string{"data-webauthn", "security-key-add", "mfa-bind-security-key", "mfa-security-keys", "webauthn.js"} {
				if strings.Contains(p.body, hook) {
					t.Errorf("%q: %s shows %s", c.url, path, hook)
				}
			}
		}
		expectStatus(t, owner.get("/mfa/security-keys/new"), http.StatusNotFound, "new without keys")
		expectStatus(t, owner.post("/mfa/security-keys", url.Values{"name": {"x"}}), http.StatusNotFound, "register without keys")
		expectStatus(t, owner.post("/mfa/security-keys/x/delete", nil), http.StatusNotFound, "delete without keys")
	}
	h.clock.Advance(30 * time.Second)
	h.signIn(secret)
	for _, bad := range []string{"ram.example.com", "ftp://ram.example.com", "https://ram.example.com/console", "https://ram.example.com/?a=1",
		"https://ram.example.com/#x", "https://", "https://user@ram.example.com"} {
		if err := h.svc.SetPublicURL(bad); err == nil || !strings.Contains(err.Error(), "--public-url") {
			t.Errorf("SetPublicURL(%q) = %v, want an error naming --public-url", bad, err)
		}
	}
}

// A key registered on one node signs in on the other.
func TestSecurityKeyOnTwoNodes(t *testing.T) {
	a := newHarnessOn(t, Config{}, pgtest.NewDatabase(t, pgtest.Server(t)))
	a.enableKeys()
	b := a.node(Config{})
	b.enableKeys()
	owner, _ := a.setupOwner()
	k := softkey.New(keyOrigin)
	expectRedirect(t, registerKey(t, owner, k, "shared", ""), "/mfa/security-keys", "register on node a")
	_, p := keyStep(t, b, testOwnerEmail, testOwnerPW, k)
	expectRedirect(t, p, "/", "sign in on node b")
}

// A RAM user who must bind MFA may bind a key instead of TOTP; a sign-in
// with the key then sets acs:MFAPresent, as a code does; the overview
// counts the owner's key as its factor.
func TestSecurityKeyAsTheRequiredFactor(t *testing.T) {
	h := newHarness(t)
	h.enableKeys()
	owner, _ := h.setupOwner()
	owner.get("/policies/new")
	expectRedirect(t, owner.post("/policies", url.Values{"name": {"ListWithMFA"}, "document": {
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:ListUsers","Resource":"*","Condition":{"Bool":{"acs:MFAPresent":"true"}}}]}`}}),
		"/policies/Custom/ListWithMFA", "a policy that needs MFA")
	owner.get("/users/new")
	expectHandover(t, owner.post("/users", url.Values{"name": {"kim"}, "console_login": {"true"}, "password": {ramUserPW},
		"mfa_bind_required": {"true"}}), "create kim")
	owner.get("/users/kim")
	expectRedirect(t, owner.post("/users/kim/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {"ListWithMFA"}}), "/users/kim", "attach")

	kim := h.browser()
	kim.get("/login")
	expectRedirect(t, kim.post("/login", url.Values{"username": {"kim"}, "password": {ramUserPW}}), "/mfa/bind", "kim must bind")
	p := kim.get("/mfa/bind")
	if !strings.Contains(p.body, `data-testid="mfa-bind-security-key"`) {
		t.Fatalf("the forced binding offers no key: %.600s", p.body)
	}
	expectStatus(t, kim.get("/users"), http.StatusSeeOther, "the console before binding")
	key := softkey.New(keyOrigin)
	p = registerKey(t, kim, key, "kim's key", "")
	expectRedirect(t, p, "/", "a key completes the binding")
	expectStatus(t, kim.get("/users"), 200, "ListUsers with acs:MFAPresent after binding a key")

	kim2, p := keyStep(t, h, "kim", ramUserPW, key)
	expectRedirect(t, p, "/", "kim signs in with the key")
	expectStatus(t, kim2.get("/users"), 200, "ListUsers with acs:MFAPresent after a key sign-in")

	// The owner on a key alone: the overview's checklist counts it.
	h.clock.Advance(30 * time.Second)
	owner = h.signIn(h.ownerSecret)
	owner.get("/mfa/bind")
	expectRedirect(t, owner.post("/mfa/unbind", url.Values{"password": {testOwnerPW}, "code": {h.code(h.ownerSecret, 0)}}), "/mfa/bind", "unbind TOTP")
	expectRedirect(t, registerKey(t, owner, softkey.New(keyOrigin), "owner key", ""), "/", "the owner's key")
	ov, err := h.svc.Overview(context.Background())
	if err != nil || !ov.OwnerHasMFA {
		t.Errorf("the overview does not count the owner's key: %+v %v", ov, err)
	}
}

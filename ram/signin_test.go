package ram

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ramconsole/store"
)

// goodPassword meets the default policy and names nobody.
const goodPassword = "Violet-Marmot-Ledger-42"

// ownerPassword is the password newTestEnv gives the owner.
const ownerPassword = "Correct-Horse-Battery-9"

// browser is a visitor of the sign-in page, inside the allowed networks.
var browser = Actor{SourceIP: "198.51.100.10", UserAgent: "Mozilla/5.0 (test)"}

// consoleUser creates a RAM user with console access and goodPassword.
func (e *testEnv) consoleUser(t *testing.T, name string, in LoginProfileInput) *User {
	t.Helper()
	u := e.newUser(t, name)
	in.Password = goodPassword
	if _, _, err := e.svc.CreateLoginProfile(e.ctx, e.owner, name, in); err != nil {
		t.Fatal(err)
	}
	return u
}

// signIn runs the password step from a browser, and checks the step it
// leads to ("" for a refusal, then code is the refusal's) and the events.
func (e *testEnv) signIn(t *testing.T, from Actor, username, password, ticket string, want Step, code string, events ...string) (*SignInResult, []store.StoredEvent) {
	t.Helper()
	from.RequestID = NewRequestID()
	var res *SignInResult
	evs := e.outcome(t, func() error {
		var err error
		res, err = e.svc.SignIn(e.ctx, from, username, password, ticket)
		return err
	}, code, events...)
	var next Step
	if res != nil {
		next = res.Next
	}
	if next != want {
		t.Errorf("SignIn(%q) leads to %q, want %q", username, next, want)
	}
	return res, evs
}

// checkMFA sends a code at the MFA step of res's sign-in.
func (e *testEnv) checkMFA(t *testing.T, res *SignInResult, code string, remember bool, want Step, errCode string, events ...string) string {
	t.Helper()
	a := browser
	a.Principal, a.Name, a.RequestID = res.Principal, res.Name, NewRequestID()
	var ticket string
	e.outcome(t, func() error {
		step, tk, err := e.svc.CheckMFA(e.ctx, a, code, remember)
		if step != want {
			t.Errorf("CheckMFA leads to %q, want %q", step, want)
		}
		ticket = tk
		return err
	}, errCode, events...)
	return ticket
}

// wrongCode is a 6-digit code that seed accepts at no step near now.
func (e *testEnv) wrongCode(seed []byte) string {
	for c := 0; ; c++ {
		code := fmt.Sprintf("%06d", c)
		if _, ok := matchStep(seed, code, e.clock.Now()); !ok {
			return code
		}
	}
}

// failures is a user's counted failures, and whether it is locked.
func (e *testEnv) failures(t *testing.T, u *User) (int, bool) {
	t.Helper()
	cur, err := e.st.UserByID(e.ctx, u.UserID)
	if err != nil {
		t.Fatal(err)
	}
	return cur.FailedCount, cur.LockedUntil.After(e.clock.Now())
}

// The sign-in's rules, on one account.
func TestSignIn(t *testing.T) {
	onOneAccount(t,
		part{"refusals", testSignInRefusals},
		part{"steps", testSignInSteps},
		part{"MFA", testSignInMFA},
	)
}

// The sign-in's refusals all look the same to the person, and cost the
// same password hash, unknown names included; the audit log tells the
// real cause, and only a wrong password is counted.
func testSignInRefusals(t *testing.T, e *testEnv) {
	ops := e.consoleUser(t, "ops", LoginProfileInput{})
	e.newUser(t, "keyonly")
	e.consoleUser(t, "off", LoginProfileInput{})
	if _, err := e.svc.UpdateLoginProfile(e.ctx, e.owner, "off", LoginProfileUpdate{Status: ptr("Inactive")}); err != nil {
		t.Fatal(err)
	}
	locked := e.consoleUser(t, "locked", LoginProfileInput{})
	if err := e.st.Update(e.ctx, func(tx *store.Tx) error {
		_, err := tx.RecordUserFailure(e.ctx, locked.UserID, 1, lockWindow, lockFor)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetSecurityPreference(e.ctx, e.owner, SecurityPreference{LoginSessionDuration: 6, LoginNetworkMasks: "198.51.100.0/24"}); err != nil {
		t.Fatal(err)
	}
	outside := browser
	outside.SourceIP = "203.0.113.9"
	var hashes atomic.Int32
	e.svc.SetHashHook(func() { hashes.Add(1) })
	t.Cleanup(func() { e.svc.SetHashHook(func() {}) })
	for _, tc := range []struct {
		name, username, password string
		from                     Actor
		code, identity           string
		counted                  bool
	}{
		{"an unknown name", "nobody", goodPassword, browser, "InvalidCredentials", "unknown", false},
		{"a name at another account's alias", "ops@other-corp", goodPassword, browser, "InvalidCredentials", "unknown", false},
		{"a long unknown name", strings.Repeat("n", 100), goodPassword, browser, "InvalidCredentials", "unknown", false},
		{"a wrong password", "ops@acme", "Violet-Marmot-Ledger-43", browser, "InvalidCredentials", "ram-user", true},
		{"a user without console access", "keyonly", goodPassword, browser, "NoLoginProfile", "ram-user", false},
		{"deactivated console access", "off", goodPassword, browser, "LoginProfileInactive", "ram-user", false},
		{"a locked user with the right password", "LOCKED", goodPassword, browser, "AccountLocked", "ram-user", false},
		{"the right password from outside the allowed networks", "ops", goodPassword, outside, "LoginNetworkDenied", "ram-user", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.state(t)
			hashes.Store(0)
			_, evs := e.signIn(t, tc.from, tc.username, tc.password, "", "", "InvalidCredentials", "ConsoleSignin/"+tc.code)
			if n := hashes.Load(); n != 1 {
				t.Errorf("%d password hashes computed, want 1", n)
			}
			if len(evs) == 1 {
				ev := evs[0]
				if ev.EventType != EventConsoleSignin || ev.EventSource != "signin" || ev.UserIdentity.Type != tc.identity ||
					ev.AdditionalEventData["loginAccount"] != truncate(tc.username, 64) || strings.Contains(ev.Body, tc.password) {
					t.Errorf("the refusal's event: %s", ev.Body)
				}
			}
			if d := changes(before, e.state(t)); (d != "") != tc.counted {
				t.Errorf("the refusal changed %q; want a change only for a counted failure", d)
			}
		})
	}
	if n, _ := e.failures(t, ops); n != 1 {
		t.Errorf("ops has %d failures counted, want 1", n)
	}
	lp, err := e.st.LoginProfile(e.ctx, ops.UserID)
	if err != nil {
		t.Fatal(err)
	}
	// The dummy hash unknown names are checked against costs what a real one does.
	if params := func(phc string) string { return strings.Join(strings.Split(phc, "$")[:4], "$") }; params(e.svc.dummyHash) != params(lp.PasswordHash) {
		t.Errorf("the dummy hash %s has other parameters than a password's %s", params(e.svc.dummyHash), params(lp.PasswordHash))
	}
	if _, err := e.svc.SetSecurityPreference(e.ctx, e.owner, DefaultSecurityPreference); err != nil {
		t.Fatal(err)
	}
}

// The password step leads to the next one the identity needs: the MFA
// code, binding a device, a password change, or done; a completed sign-in
// is recorded at once, one that goes on to the code when the code passes.
func testSignInSteps(t *testing.T, e *testEnv) {
	e.consoleUser(t, "plain", LoginProfileInput{})
	e.bindMFA(t, actorOf(e.consoleUser(t, "twofactor", LoginProfileInput{})))
	var password string
	// required sets what plain's login profile requires.
	required := func(reset, bind bool) func() {
		return func() {
			if _, err := e.svc.UpdateLoginProfile(e.ctx, e.owner, "plain", LoginProfileUpdate{PasswordResetRequired: &reset, MFABindRequired: &bind}); err != nil {
				t.Fatal(err)
			}
		}
	}
	policy := func(p PasswordPolicy) {
		t.Helper()
		if _, err := e.svc.SetPasswordPolicy(e.ctx, e.owner, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, username string
		before         func()
		want           Step
		code           string
		events         []string
	}{
		{"a user with nothing more to do is signed in", "plain@acme", nil, StepDone, "", []string{"ConsoleSignin"}},
		{"a password to reset is changed next", "plain", required(true, false), StepChangePassword, "", []string{"ConsoleSignin"}},
		{"a device to bind is bound next", "plain", required(false, true), StepBindMFA, "", []string{"ConsoleSignin"}},
		{"a bound device asks for its code, recorded with it", "twofactor", nil, StepMFA, "", nil},
		{"the owner binds a device first", "OWNER@example.com", func() { password = ownerPassword }, StepBindMFA, "", []string{"ConsoleSignin"}},
		{"an expired password is changed next", "plain", func() {
			required(false, false)()
			policy(PasswordPolicy{MinimumPasswordLength: 12, MaxLoginAttemps: 5, MaxPasswordAge: 1})
			e.clock.Advance(25 * time.Hour)
		}, StepChangePassword, "", []string{"ConsoleSignin"}},
		{"an expired password under HardExpiry is refused", "plain", func() {
			policy(PasswordPolicy{MinimumPasswordLength: 12, MaxLoginAttemps: 5, MaxPasswordAge: 1, HardExpiry: true})
		}, "", "PasswordExpired", []string{"ConsoleSignin/PasswordExpired"}},
		{"MFA for everyone makes a user bind a device", "plain", func() {
			policy(DefaultPasswordPolicy)
			if _, err := e.svc.SetSecurityPreference(e.ctx, e.owner, SecurityPreference{LoginSessionDuration: 6, EnforceMFAForLogin: true}); err != nil {
				t.Fatal(err)
			}
		}, StepBindMFA, "", []string{"ConsoleSignin"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			password = goodPassword
			if tc.before != nil {
				tc.before()
			}
			_, evs := e.signIn(t, browser, tc.username, password, "", tc.want, tc.code, tc.events...)
			if tc.code == "" && len(evs) == 1 && evs[0].AdditionalEventData["nextStep"] != string(tc.want) {
				t.Errorf("the sign-in's event: %+v", evs[0].AdditionalEventData)
			}
		})
	}
	if _, err := e.svc.SetSecurityPreference(e.ctx, e.owner, DefaultSecurityPreference); err != nil {
		t.Fatal(err)
	}
}

// The MFA step accepts the code of the previous, current or next step,
// each step once and never one older than the last accepted; a wrong or
// replayed code is refused, recorded and counted. A remembered device
// stands in for the code.
func testSignInMFA(t *testing.T, e *testEnv) {
	u := e.consoleUser(t, "mfa", LoginProfileInput{})
	seed := e.bindMFA(t, actorOf(u))
	if _, err := e.svc.SetSecurityPreference(e.ctx, e.owner, SecurityPreference{LoginSessionDuration: 6, EnableSaveMFATicket: true}); err != nil {
		t.Fatal(err)
	}
	res, _ := e.signIn(t, browser, "mfa", goodPassword, "", StepMFA, "")
	if res == nil {
		t.FailNow()
	}
	// The next step's code is accepted; the current one, never used but
	// older, is then refused.
	next, current := TOTPCode(seed, TOTPStep(e.clock.Now())+1), e.totp(seed)
	var ticket string
	for _, tc := range []struct {
		name, code string
		remember   bool
		want       Step
		errCode    string
		events     []string
		failures   int
	}{
		{"a wrong code", e.wrongCode(seed), false, "", "CheckAuthenticationCodeFail", []string{"CheckMFA/InvalidMFACode"}, 1},
		{"the next step's code, remembering the device", next, true, StepDone, "", []string{"ConsoleSignin"}, 0},
		{"the same code again", next, false, "", "CheckAuthenticationCodeFail", []string{"CheckMFA/MFACodeReplayed"}, 1},
		{"an older step's unused code", current, false, "", "CheckAuthenticationCodeFail", []string{"CheckMFA/MFACodeReplayed"}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tk := e.checkMFA(t, res, tc.code, tc.remember, tc.want, tc.errCode, tc.events...); tk != "" {
				ticket = tk
			}
			if n, _ := e.failures(t, u); n != tc.failures {
				t.Errorf("%d failures counted, want %d", n, tc.failures)
			}
		})
	}
	if ticket == "" {
		t.Fatal("no ticket for the remembered device")
	}
	res, evs := e.signIn(t, browser, "mfa", goodPassword, ticket, StepDone, "", "ConsoleSignin")
	if ev := only(t, evs); res == nil || !res.MFAChecked || ev.AdditionalEventData["mfaTicket"] != true {
		t.Errorf("a sign-in with the remembered device: %+v, %v", res, ev.AdditionalEventData)
	}
	e.clock.Advance(mfaTicketLifetime + time.Second)
	e.signIn(t, browser, "mfa", goodPassword, ticket, StepMFA, "")
}

// MaxLoginAttemps failed passwords or codes within an hour lock an
// identity for an hour; an administrator can unlock it. The owner, once
// it has a device, is locked by wrong codes only.
func TestLockout(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	if _, err := e.svc.SetPasswordPolicy(e.ctx, e.owner, PasswordPolicy{MinimumPasswordLength: 12, MaxLoginAttemps: 2}); err != nil {
		t.Fatal(err)
	}
	var lockouts atomic.Int32
	e.svc.SetObserver(Observer{Lockout: func() { lockouts.Add(1) }})
	ops := e.consoleUser(t, "ops", LoginProfileInput{})
	helpdesk := e.granted(t, "helpdesk", doc(allow([]string{e.arn("user", "*")}, "ram:UnlockUser")))
	wrong := func(username string) {
		e.signIn(t, browser, username, "wrong-password", "", "", "InvalidCredentials", "ConsoleSignin/InvalidCredentials")
	}
	locked := func(t *testing.T, u *User, want bool) {
		t.Helper()
		if _, got := e.failures(t, u); got != want {
			t.Errorf("locked: %t, want %t", got, want)
		}
	}
	t.Run("failures lock for an hour", func(t *testing.T) {
		wrong("ops")
		locked(t, ops, false)
		wrong("ops")
		locked(t, ops, true)
		if n := lockouts.Load(); n != 1 {
			t.Errorf("%d lockouts observed, want 1", n)
		}
		e.signIn(t, browser, "ops", goodPassword, "", "", "InvalidCredentials", "ConsoleSignin/AccountLocked")
		e.clock.Advance(lockFor)
		e.signIn(t, browser, "ops", goodPassword, "", StepDone, "", "ConsoleSignin")
		if n, _ := e.failures(t, ops); n != 0 {
			t.Errorf("%d failures counted after a sign-in, want 0", n)
		}
	})
	t.Run("failures more than an hour apart do not add up", func(t *testing.T) {
		wrong("ops")
		e.clock.Advance(lockWindow + time.Minute)
		wrong("ops")
		locked(t, ops, false)
	})
	t.Run("an administrator unlocks", func(t *testing.T) {
		wrong("ops")
		locked(t, ops, true)
		e.outcome(t, func() error { return e.svc.UnlockUser(e.ctx, helpdesk, "OPS") }, "", "UnlockUser")
		locked(t, ops, false)
		e.signIn(t, browser, "ops", goodPassword, "", StepDone, "", "ConsoleSignin")
	})
	t.Run("wrong codes count", func(t *testing.T) {
		u := e.consoleUser(t, "coded", LoginProfileInput{})
		seed := e.bindMFA(t, actorOf(u))
		res, _ := e.signIn(t, browser, "coded", goodPassword, "", StepMFA, "")
		if res == nil {
			t.FailNow()
		}
		for range 2 {
			e.checkMFA(t, res, e.wrongCode(seed), false, "", "CheckAuthenticationCodeFail", "CheckMFA/InvalidMFACode")
		}
		locked(t, u, true)
		e.checkMFA(t, res, e.totp(seed), false, "", "CheckAuthenticationCodeFail", "CheckMFA/AccountLocked")
	})
	t.Run("the owner's wrong passwords count until it has a device", func(t *testing.T) {
		for range 2 {
			wrong("owner@example.com")
		}
		e.signIn(t, browser, "owner@example.com", ownerPassword, "", "", "InvalidCredentials", "ConsoleSignin/AccountLocked")
		if err := e.svc.UnlockOwner(e.ctx, Actor{RequestID: NewRequestID()}); err != nil {
			t.Fatal(err)
		}
		e.bindMFA(t, e.owner)
		for range 2 {
			wrong("owner@example.com")
		}
		e.signIn(t, browser, "owner@example.com", ownerPassword, "", StepMFA, "")
	})
	t.Run("no limit, no lockout", func(t *testing.T) {
		if _, err := e.svc.SetPasswordPolicy(e.ctx, e.owner, PasswordPolicy{MinimumPasswordLength: 12}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			wrong("ops")
		}
		locked(t, ops, false)
	})
}

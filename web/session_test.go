package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"ramconsole/ram"
	"ramconsole/store"
)

// sessionRows counts the stored console sessions (all, or of principal).
func (h *harness) sessionRows(principal string) int {
	h.t.Helper()
	db := h.openDB()
	q, args := "SELECT count(*) FROM sessions", []any{}
	if principal != "" {
		q, args = q+" WHERE principal = ?", []any{principal}
	}
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}

// inFlight is a request of browser b that has loaded its session and not
// yet saved it: what a slow request holds while a revocation commits.
func (h *harness) inFlight(b *browser) *session {
	h.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.AddCookie(&http.Cookie{Name: CookieName, Value: b.cookie()})
	ss := newServerSessions(h.st, h.svc.MAC, false)
	gs, err := ss.Get(req, CookieName)
	if err != nil {
		h.t.Fatal(err)
	}
	if gs.Values["principal"] == nil {
		h.t.Fatal("the in-flight request did not load a signed-in session")
	}
	c := h.app.NewContext(req, httptest.NewRecorder())
	return &session{gs: gs, c: c, now: h.clock.Now, life: h.svc.SessionLifetime}
}

// A request that loaded a session before it was revoked must not bring it
// back when it saves: the session stays gone and its next request is
// signed out (SPEC §2).
func TestRevokedSessionStaysGone(t *testing.T) {
	revocations := []struct {
		name   string
		revoke func(h *harness, victim *browser)
	}{
		{"sign-out in another request", func(h *harness, victim *browser) {
			victim.get("/")
			expectRedirect(h.t, victim.post("/logout", nil), "/login", "sign out")
		}},
		{"every session of the owner ended", func(h *harness, _ *browser) {
			err := h.st.Update(context.Background(), func(tx *store.Tx) error {
				return tx.DeleteSessionsFor(context.Background(), string(ram.PrincipalRoot), "")
			})
			if err != nil {
				h.t.Fatal(err)
			}
		}},
		{"owner MFA reset on the host", func(h *harness, _ *browser) {
			if _, err := h.svc.ResetOwnerMFA(context.Background(), ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}); err != nil {
				h.t.Fatal(err)
			}
		}},
	}
	saves := []struct {
		name string
		save func(s *session) error
	}{
		{"a flash message", func(s *session) error { return s.AddFlash("done") }},
		{"a stored value", func(s *session) error { return s.Set("k", "v") }},
		{"a new id after a step", func(s *session) error { return s.Advance(ram.StepDone) }},
	}
	for _, rv := range revocations {
		for _, sv := range saves {
			t.Run(rv.name+", then "+sv.name, func(t *testing.T) {
				h := newHarness(t)
				victim, _ := h.setupOwner()
				cookie := victim.cookie()
				req := h.inFlight(victim)
				rv.revoke(h, victim)
				_ = sv.save(req) // the request may fail; it must not resurrect
				if n := h.sessionRows(string(ram.PrincipalRoot)); n != 0 {
					t.Errorf("%d owner sessions stored after the revocation, want 0", n)
				}
				again := h.browser()
				again.setCookie(cookie)
				expectRedirect(t, again.get("/"), "/login?next=%2F", "the revoked cookie's next request")
			})
		}
	}
}

// The request that lost its session to a revocation is answered as signed
// out, not with an internal error.
func TestRevokedSessionAnswersSignedOut(t *testing.T) {
	h := newHarness(t)
	victim, _ := h.setupOwner()
	req := h.inFlight(victim)
	err := h.st.Update(context.Background(), func(tx *store.Tx) error {
		return tx.DeleteSessionsFor(context.Background(), string(ram.PrincipalRoot), "")
	})
	if err != nil {
		t.Fatal(err)
	}
	err = req.Advance(ram.StepDone)
	if err == nil {
		t.Fatal("Advance of a revoked session succeeded")
	}
	rec := req.c.Response().Writer.(*httptest.ResponseRecorder)
	h.app.handleError(err, req.c)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/login" {
		t.Errorf("answer to the revoked request: %d → %q, want 303 → /login", rec.Code, rec.Header().Get("Location"))
	}
}

// Anonymous pages store nothing: the sign-in and setup forms set a cookie
// whose CSRF token is derived from it, and a session row is written only
// when something must be stored (a sign-in).
func TestAnonymousPagesStoreNoSession(t *testing.T) {
	h := newHarness(t)
	for i := 0; i < 5; i++ {
		b := h.browser()
		expectStatus(t, b.get("/setup"), 200, "GET /setup")
	}
	if n := h.sessionRows(""); n != 0 {
		t.Fatalf("%d sessions stored after anonymous GET /setup, want 0", n)
	}
	h.setupOwner()
	before := h.sessionRows("")
	same := h.browser()
	for i := 0; i < 20; i++ {
		expectStatus(t, h.browser().get("/login"), 200, "GET /login, new visitor")
		expectStatus(t, same.get("/login"), 200, "GET /login, same visitor")
	}
	if n := h.sessionRows(""); n != before {
		t.Fatalf("%d sessions stored after 40 anonymous GET /login, want %d", n, before)
	}
	if same.cookie() == "" || same.csrf == "" {
		t.Fatal("the sign-in form set no cookie or no CSRF token")
	}

	// The form's token works with its own cookie, and only with it.
	other := h.browser()
	other.get("/login")
	forged := h.browser()
	forged.get("/login")
	forged.csrf = other.csrf
	expectStatus(t, forged.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), http.StatusForbidden, "another visitor's token")
	noCookie := h.browser()
	noCookie.csrf = other.csrf
	expectStatus(t, noCookie.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), http.StatusForbidden, "a token without its cookie")
	expectStatus(t, same.post("/login", url.Values{"username": {testOwnerEmail}, "password": {"wrong"}}), http.StatusUnauthorized, "wrong password with a good token")
	if n := h.sessionRows(""); n != before {
		t.Fatalf("a refused sign-in stored a session: %d, want %d", n, before)
	}
	anon := same.cookie()
	expectRedirect(t, same.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}}), "/login/mfa", "sign-in with the form's token")
	if same.cookie() == anon {
		t.Error("the session id did not change at sign-in")
	}
	if n := h.sessionRows(string(ram.PrincipalRoot)); n != 2 {
		t.Errorf("%d owner sessions after the second sign-in, want 2", n)
	}
}

// The same rule for console access: a password change that read the login
// profile before an administrator removed it must not bring it back.
func TestPasswordChangeDoesNotRecreateRemovedLoginProfile(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	expectHandover(t, owner.post("/users", url.Values{"name": {"rita"}, "console_login": {"true"}, "password": {ramUserPW}}), "create rita")
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"rita"}, "password": {ramUserPW}}), "/", "rita signs in")
	b.get("/password/change")
	rootActor := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}
	var once sync.Once
	h.svc.SetHashHook(func() {
		// The change has read rita's credential; now the owner removes her console access.
		once.Do(func() {
			if err := h.svc.DeleteLoginProfile(context.Background(), rootActor, "rita"); err != nil {
				t.Errorf("DeleteLoginProfile: %v", err)
			}
		})
	})
	newPW := "Another-Fine-Secret-58"
	p := b.post("/password/change", url.Values{"current_password": {ramUserPW}, "new_password": {newPW}, "confirm_password": {newPW}})
	if p.status == http.StatusSeeOther && p.header.Get("Location") == "/" {
		t.Errorf("the password change succeeded after the login profile was removed")
	}
	if _, err := h.svc.GetLoginProfile(context.Background(), rootActor, "rita"); ram.ErrorKind(err) != ram.ENOTFOUND {
		t.Errorf("rita's login profile after the change: err = %v, want not found (removed stays removed)", err)
	}
	c := h.browser()
	c.get("/login")
	expectStatus(t, c.post("/login", url.Values{"username": {"rita"}, "password": {newPW}}), http.StatusUnauthorized, "sign-in after console access was removed")
}

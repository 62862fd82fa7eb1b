package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"ramconsole/ram"
	"ramconsole/store"
)

// CookieName is the console session cookie.
const CookieName = "ramconsole_session"

// Session lifetimes (SPEC §2): a session between sign-in steps lives 5
// minutes; a signed-in one the security preference's LoginSessionDuration;
// one that only holds a CSRF token for the sign-in form an hour.
const (
	stagedLifetime    = 5 * time.Minute
	anonymousLifetime = time.Hour
)

// serverSessions is a gorilla/sessions Store that keeps sessions server-side,
// in the store's database (SQLite or PostgreSQL, so every node shares them):
// the cookie carries only a random id, the database the id's SHA-256 and the
// values.
//
// A visitor who is not signed in has a cookie but no row: the sign-in and
// setup forms' CSRF token is a MAC of the cookie's id (see CSRFToken), so
// anonymous pages write nothing to the database. A row is created only
// when something must be stored.
type serverSessions struct {
	st      *store.Store
	mac     func(purpose string, msg []byte) []byte
	options sessions.Options
}

var _ sessions.Store = (*serverSessions)(nil)

func newServerSessions(st *store.Store, mac func(string, []byte) []byte, secure bool) *serverSessions {
	return &serverSessions{st: st, mac: mac, options: sessions.Options{Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}}
}

// Get returns the request's session, cached per request.
func (s *serverSessions) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the request's cookie, or starts an empty
// one. A cookie without a row (an anonymous visitor's) keeps its id, which
// the CSRF token is derived from; IsNew says no row exists.
func (s *serverSessions) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) != 43 {
		return sess, nil
	}
	sess.ID = c.Value
	row, err := s.st.Session(r.Context(), hashID(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	var vals map[string]string
	if err := json.Unmarshal([]byte(row.Data), &vals); err != nil {
		return sess, nil
	}
	for k, v := range vals {
		sess.Values[k] = v
	}
	sess.ID = c.Value
	sess.IsNew = false
	return sess, nil
}

// errSessionGone answers a request whose session was deleted (signed out,
// revoked) after the request loaded it: the request is signed out.
var errSessionGone = errors.New("web: the session ended during the request")

// rotateFrom marks a session to move to a fresh id at its next save; the
// value is the old id. goneMark marks one found deleted.
type (
	rotateFrom struct{}
	goneMark   struct{}
)

// Save writes the session and the cookie; MaxAge < 0 deletes both. A
// session that was not stored is created under a fresh id; a stored one is
// updated, never re-created: when its row is gone (signed out or revoked
// since the request loaded it) nothing is written, the cookie is cleared
// and Save returns errSessionGone. A session marked for rotation moves to a
// fresh id in one transaction that also needs the old row to exist.
func (s *serverSessions) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Values[goneMark{}] != nil {
		return errSessionGone
	}
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.st.DeleteSession(r.Context(), hashID(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	vals := make(map[string]string, len(sess.Values))
	for k, v := range sess.Values {
		ks, _ := k.(string)
		vs, _ := v.(string)
		if ks != "" && vs != "" {
			vals[ks] = vs
		}
	}
	data, err := json.Marshal(vals)
	if err != nil {
		return err
	}
	exp, _ := strconv.ParseInt(vals["exp"], 10, 64)
	row := store.Session{Principal: vals["principal"], Data: string(data), ExpiresAt: time.Unix(exp, 0)}
	from, rotating := sess.Values[rotateFrom{}].(string)
	switch {
	case rotating:
		id := randomToken()
		row.IDHash = hashID(id)
		err = s.st.RotateSession(r.Context(), hashID(from), row)
		if err == nil {
			sess.ID = id
			delete(sess.Values, rotateFrom{})
		}
	case sess.IsNew:
		id := randomToken()
		row.IDHash = hashID(id)
		if err = s.st.CreateSession(r.Context(), row); err == nil {
			sess.ID, sess.IsNew = id, false
		}
	default:
		row.IDHash = hashID(sess.ID)
		err = s.st.UpdateSession(r.Context(), row)
	}
	if errors.Is(err, store.ErrNotFound) {
		sess.Values = map[any]any{goneMark{}: true}
		sess.ID, sess.IsNew = "", true
		gone := *sess.Options
		gone.MaxAge = -1
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", &gone))
		return errSessionGone
	}
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), sess.ID, sess.Options))
	return nil
}

// randomToken is 32 random bytes, base64url without padding (43 characters).
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("web: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// session is the handlers' view of a request's session.
type session struct {
	gs   *sessions.Session
	c    echo.Context
	now  func() time.Time
	life func(context.Context) time.Duration // a signed-in session's lifetime
}

func (s *session) get(k string) string {
	v, _ := s.gs.Values[k].(string)
	return v
}

func (s *session) save() error {
	if s.get("exp") == "" {
		s.gs.Values["exp"] = strconv.FormatInt(s.now().Add(anonymousLifetime).Unix(), 10)
	}
	return s.gs.Save(s.c.Request(), s.c.Response())
}

func (s *session) Principal() ram.Principal { return ram.Principal(s.get("principal")) }
func (s *session) Name() string             { return s.get("name") }
func (s *session) Stage() ram.Step          { return ram.Step(s.get("stage")) }
func (s *session) Get(k string) string {
	return s.get("v_" + k)
}

func (s *session) IDHash() string {
	if s.gs.ID == "" {
		return ""
	}
	return hashID(s.gs.ID)
}

// CSRFToken returns the token every form of this session carries: a MAC of
// the session id, so it changes with the id and needs no stored row. A
// visitor without a cookie gets one (an id, nothing stored).
func (s *session) CSRFToken() string {
	if s.gs.Values[goneMark{}] != nil {
		return ""
	}
	if s.gs.ID == "" {
		s.gs.ID = randomToken()
		http.SetCookie(s.c.Response(), sessions.NewCookie(s.gs.Name(), s.gs.ID, s.gs.Options))
	}
	return csrfFor(s.gs)
}

func csrfFor(gs *sessions.Session) string {
	st, ok := gs.Store().(*serverSessions)
	if !ok || gs.ID == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(st.mac("csrf", []byte(gs.ID)))
}

func (s *session) checkCSRF(token string) bool {
	want := csrfFor(s.gs)
	return want != "" && subtle.ConstantTimeCompare([]byte(token), []byte(want)) == 1
}

// rotate gives the session a fresh id (and so CSRF token) at its next save, so
// an id known before a privilege change is worthless after it. The old row
// must still exist then: a session revoked meanwhile is not carried over.
func (s *session) rotate() error {
	if err := s.c.Request().Context().Err(); err != nil {
		return err
	}
	if !s.gs.IsNew && s.gs.ID != "" {
		s.gs.Values[rotateFrom{}] = s.gs.ID
	}
	return nil
}

func deleteSession(ctx context.Context, st sessions.Store, id string) error {
	if ss, ok := st.(*serverSessions); ok {
		return ss.st.DeleteSession(ctx, hashID(id))
	}
	return nil
}

func (s *session) setStage(step ram.Step) {
	s.gs.Values["stage"] = string(step)
	life := stagedLifetime
	if step == ram.StepDone {
		life = s.life(s.c.Request().Context())
	}
	s.gs.Values["exp"] = strconv.FormatInt(s.now().Add(life).Unix(), 10)
}

// Begin starts a sign-in: whatever the session held before is deleted and
// a new one is created under a fresh id.
func (s *session) Begin(principal ram.Principal, name string, step ram.Step) error {
	return s.BeginMarked(principal, name, step, nil, time.Time{})
}

func (s *session) BeginMarked(principal ram.Principal, name string, step ram.Step, values map[string]string, end time.Time) error {
	if err := s.c.Request().Context().Err(); err != nil {
		return err
	}
	if s.gs.Values[goneMark{}] != nil {
		return errSessionGone
	}
	if !s.gs.IsNew && s.gs.ID != "" {
		if err := deleteSession(s.c.Request().Context(), s.gs.Store(), s.gs.ID); err != nil {
			return err
		}
	}
	s.gs.ID, s.gs.IsNew = "", true
	s.gs.Values = map[any]any{}
	s.gs.Values["principal"] = string(principal)
	s.gs.Values["name"] = name
	s.setStage(step)
	for k, v := range values {
		if v != "" {
			s.gs.Values["v_"+k] = v
		}
	}
	if exp, _ := strconv.ParseInt(s.get("exp"), 10, 64); !end.IsZero() && end.Unix() < exp {
		s.gs.Values["exp"] = strconv.FormatInt(end.Unix(), 10)
	}
	return s.save()
}

func (s *session) Advance(step ram.Step) error {
	if err := s.rotate(); err != nil {
		return err
	}
	s.setStage(step)
	return s.save()
}

func (s *session) Set(k, v string) error {
	if v == "" {
		delete(s.gs.Values, "v_"+k)
	} else {
		s.gs.Values["v_"+k] = v
	}
	return s.save()
}

func (s *session) Destroy() error {
	s.gs.Options.MaxAge = -1
	s.gs.Values = map[any]any{}
	return s.gs.Save(s.c.Request(), s.c.Response())
}

func (s *session) AddFlash(msg string) error {
	s.gs.Values["flash"] = msg
	return s.save()
}

func (s *session) Flash() string {
	msg := s.get("flash")
	if msg != "" {
		delete(s.gs.Values, "flash")
		_ = s.save()
	}
	return msg
}

package web

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"ramconsole/ram"
	"ramconsole/store"
	"ramconsole/store/pgtest"
)

// clock is a test clock that only moves when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// harness is the real app over a real SQLite file (or, when
// RAMCONSOLE_TEST_DATABASE names a PostgreSQL server, a fresh database
// there), served on loopback.
type harness struct {
	t   testing.TB
	dir string
	// database is the PostgreSQL database's URL, or empty for SQLite.
	database string
	clock    *clock
	st       *store.Store
	svc      *ram.Service
	app      *App
	srv      *httptest.Server
	token    string
	logs     *strings.Builder
	logsMu   sync.Mutex
	ownerPW  string
	// ownerSecret is the owner's MFA secret once setupOwner has run.
	ownerSecret string
}

const (
	testOwnerEmail = "owner@example.com"
	testOwnerPW    = "Correct-Horse-Battery-42"
	testAlias      = "enterprise-a"
)

type syncWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessConfig(t, Config{})
}

// newHarnessConfig is newHarness with a configuration (its Logger is set).
func newHarnessConfig(t testing.TB, cfg Config) *harness {
	t.Helper()
	return newHarnessOn(t, cfg, pgtest.Database(t))
}

// newHarnessOn is newHarnessConfig storing in the PostgreSQL database at
// database (empty: SQLite in the data directory).
func newHarnessOn(t testing.TB, cfg Config, database string) *harness {
	t.Helper()
	h := &harness{t: t, dir: t.TempDir(), clock: &clock{t: time.Date(2026, 11, 26, 9, 0, 10, 0, time.UTC)}, logs: &strings.Builder{}, database: database}
	ctx := context.Background()
	dataDir := filepath.Join(h.dir, "data")
	key, err := store.LoadMasterKey(dataDir, "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	h.st, err = store.Open(ctx, dataDir, h.clock.Now, store.WithMasterKey(key), store.WithDatabase(h.database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.st.Close() })
	h.svc = ram.New(h.st, sealer)
	h.token, err = h.svc.IssueSetupToken(ctx, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(syncWriter{&h.logsMu, h.logs}, nil))
	cfg.Logger = log
	h.app, err = New(cfg, Deps{Store: h.st, RAM: h.svc})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(h.app)
	t.Cleanup(h.srv.Close)
	return h
}

func (h *harness) dataDir() string { return filepath.Join(h.dir, "data") }

// node starts another ramconsole node on the harness's PostgreSQL database,
// as a second machine behind a load balancer would run: its own data
// directory, store, service, app and server; the same master key and clock.
func (h *harness) node(cfg Config) *harness {
	h.t.Helper()
	if h.database == "" {
		h.t.Fatal("a second node needs a PostgreSQL database")
	}
	return h.nodeOn(cfg, h.database)
}

// nodeOn starts a node on the PostgreSQL database at database with the
// harness's master key and clock.
func (h *harness) nodeOn(cfg Config, database string) *harness {
	h.t.Helper()
	n := &harness{t: h.t, dir: h.t.TempDir(), clock: h.clock, logs: &strings.Builder{}, database: database,
		token: h.token, ownerPW: h.ownerPW, ownerSecret: h.ownerSecret}
	key, err := store.LoadMasterKey(h.dataDir(), "")
	if err != nil {
		h.t.Fatal(err)
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		h.t.Fatal(err)
	}
	n.st, err = store.Open(context.Background(), n.dataDir(), h.clock.Now, store.WithMasterKey(key), store.WithDatabase(database))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { n.st.Close() })
	n.svc = ram.New(n.st, sealer)
	cfg.Logger = slog.New(slog.NewTextHandler(syncWriter{&n.logsMu, n.logs}, nil))
	if n.app, err = New(cfg, Deps{Store: n.st, RAM: n.svc}); err != nil {
		h.t.Fatal(err)
	}
	n.srv = httptest.NewServer(n.app)
	h.t.Cleanup(n.srv.Close)
	return n
}

// openDB opens the harness's database behind the store's back (to look at
// or tamper with it), closed at the test's cleanup.
func (h *harness) openDB() *sql.DB {
	h.t.Helper()
	db, err := store.OpenSQL(h.dataDir(), h.database)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { db.Close() })
	return db
}

// browser is one client with its own cookie jar; it does not follow redirects.
type browser struct {
	h    *harness
	c    *http.Client
	csrf string // the token of the last form seen
}

func (h *harness) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{h: h, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

type page struct {
	status int
	header http.Header
	body   string
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.h.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := page{status: resp.StatusCode, header: resp.Header, body: string(body)}
	if m := csrfRE.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	return p
}

// on is the same browser (its cookies, its last CSRF token) talking to
// node n: cookies are per host, and both nodes listen on 127.0.0.1.
func (b *browser) on(n *harness) *browser { return &browser{h: n, c: b.c, csrf: b.csrf} }

func (b *browser) get(path string) page {
	b.h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.h.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form with the last CSRF token seen (unless the form has one).
func (b *browser) post(path string, form url.Values) page {
	b.h.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.h.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// cookie returns the session cookie's value.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.h.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == CookieName {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(v string) {
	u, _ := url.Parse(b.h.srv.URL)
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: CookieName, Value: v, Path: "/"}})
}

var secretRE = regexp.MustCompile(`data-testid="mfa-secret">([A-Z2-7]+)<`)

// code returns the TOTP code of secret at the clock's step plus offset.
func (h *harness) code(secret string, offset int64) string {
	seed, err := ram.DecodeTOTPSecret(secret)
	if err != nil {
		h.t.Fatal(err)
	}
	return ram.TOTPCode(seed, ram.TOTPStep(h.clock.Now())+offset)
}

func expectStatus(t testing.TB, p page, want int, what string) {
	t.Helper()
	if p.status != want {
		body := p.body
		if len(body) > 600 {
			body = body[:600]
		}
		t.Fatalf("%s: status = %d, want %d; Location %q; body: %s", what, p.status, want, p.header.Get("Location"), body)
	}
}

func expectRedirect(t testing.TB, p page, to string, what string) {
	t.Helper()
	if p.status != http.StatusSeeOther || p.header.Get("Location") != to {
		t.Fatalf("%s: got %d → %q, want 303 → %q", what, p.status, p.header.Get("Location"), to)
	}
}

// setupOwner runs first-run setup and MFA binding; it returns the signed-in
// browser and the MFA secret.
func (h *harness) setupOwner() (*browser, string) {
	h.t.Helper()
	b := h.browser()
	expectStatus(h.t, b.get("/setup?token="+h.token), 200, "GET /setup")
	p := b.post("/setup", url.Values{"token": {h.token}, "email": {testOwnerEmail}, "password": {testOwnerPW}, "confirm_password": {testOwnerPW}, "alias": {testAlias}})
	expectRedirect(h.t, p, "/mfa/bind", "POST /setup")
	p = b.get("/mfa/bind")
	expectStatus(h.t, p, 200, "GET /mfa/bind")
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil {
		h.t.Fatalf("no MFA secret on the binding page: %s", p.body)
	}
	secret := m[1]
	p = b.post("/mfa/bind", url.Values{"code1": {h.code(secret, -1)}, "code2": {h.code(secret, 0)}})
	expectRedirect(h.t, p, "/", "POST /mfa/bind")
	// The binding used the current step; later sign-ins need a fresh one.
	h.clock.Advance(30 * time.Second)
	h.ownerSecret = secret
	return b, secret
}

// signIn signs the owner in with password and MFA.
func (h *harness) signIn(secret string) *browser {
	h.t.Helper()
	b := h.browser()
	b.get("/login")
	p := b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
	expectRedirect(h.t, p, "/login/mfa", "POST /login")
	b.get("/login/mfa")
	p = b.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}})
	expectRedirect(h.t, p, "/", "POST /login/mfa")
	h.clock.Advance(30 * time.Second)
	return b
}

func (h *harness) events() []store.StoredEvent {
	h.t.Helper()
	evs, err := h.st.Events(context.Background(), 10000)
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

// rawDatabase is everything the database holds, as bytes: the SQLite files,
// or on PostgreSQL every row of every table as text.
func (h *harness) rawDatabase() []byte {
	h.t.Helper()
	if h.database != "" {
		db := h.openDB()
		rows, err := db.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
		if err != nil {
			h.t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var name string
			rows.Scan(&name)
			tables = append(tables, name)
		}
		rows.Close()
		var all []byte
		for _, table := range tables {
			rows, err := db.Query("SELECT t::text FROM " + table + " t")
			if err != nil {
				h.t.Fatal(err)
			}
			for rows.Next() {
				var row string
				rows.Scan(&row)
				all = append(all, row...)
			}
			rows.Close()
		}
		if len(tables) < 10 || len(all) == 0 {
			h.t.Fatalf("the database holds %d tables, %d bytes", len(tables), len(all))
		}
		return all
	}
	var all []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(filepath.Join(h.dataDir(), store.DBFile+suffix))
		if err == nil {
			all = append(all, b...)
		}
	}
	return all
}

// follow GETs the page a 303 leads to (the one-time hand-over sheet that
// follows creating a user, a password or an AccessKey); other pages it
// returns as they are.
func (b *browser) follow(p page) page {
	b.h.t.Helper()
	if p.status != http.StatusSeeOther {
		return p
	}
	return b.get(p.header.Get("Location"))
}

// expectHandover checks that a POST led to its one-time hand-over sheet.
func expectHandover(t testing.TB, p page, what string) {
	t.Helper()
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.header.Get("Location"), "/handover/") {
		t.Fatalf("%s: got %d → %q, want 303 → /handover/…", what, p.status, p.header.Get("Location"))
	}
}

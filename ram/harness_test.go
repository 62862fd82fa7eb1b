package ram

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ramconsole/store"
	"ramconsole/store/pgtest"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *testClock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// testEnv is the domain service over a real store (SQLite in a temporary
// directory, or the PostgreSQL database RAMCONSOLE_TEST_DATABASE names)
// with an account set up, and its owner.
type testEnv struct {
	t     *testing.T
	st    *store.Store
	svc   *Service
	clock *testClock
	owner Actor
	ctx   context.Context
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	key, err := store.LoadMasterKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	st, err := store.Open(ctx, dir, clock.Now, store.WithMasterKey(key), store.WithDatabase(pgtest.Database(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := New(st, sealer)
	token, err := svc.IssueSetupToken(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	owner := Actor{RequestID: NewRequestID(), SourceIP: "192.0.2.1"}
	if err := svc.Setup(ctx, owner, SetupInput{Token: token, Email: "owner@example.com", Password: "Correct-Horse-Battery-9", Alias: "acme"}); err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, st: st, svc: svc, clock: clock, ctx: ctx,
		owner: Actor{Principal: PrincipalRoot, Name: "owner@example.com", RequestID: NewRequestID(), SourceIP: "192.0.2.1"}}
}

// user creates a RAM user with an AccessKey and the given system policies.
func (e *testEnv) user(name string, policies ...string) (*User, *NewAccessKey) {
	e.t.Helper()
	u, err := e.svc.CreateUser(e.ctx, e.owner, UserInput{UserName: name})
	if err != nil {
		e.t.Fatal(err)
	}
	k, err := e.svc.CreateAccessKey(e.ctx, e.owner, name)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range policies {
		if err := e.svc.AttachPolicyToUser(e.ctx, e.owner, PolicyTypeSystem, p, name); err != nil {
			e.t.Fatal(err)
		}
	}
	return u, k
}

// events are the audit log's events, newest first.
func (e *testEnv) events() []store.StoredEvent {
	e.t.Helper()
	evs, err := e.st.Events(e.ctx, 10000)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ramconsole/store/pgtest"
)

// These tests run on PostgreSQL whatever the environment: on the server
// RAMCONSOLE_TEST_DATABASE names, or on a cluster they start themselves.

var testMasterKey = []byte("0123456789abcdef0123456789abcdef")

// openPGNodes opens n stores ("nodes") on one fresh PostgreSQL database,
// each with its own data directory and the same master key.
func openPGNodes(t testing.TB, n int, now Clock) []*Store {
	t.Helper()
	url := pgtest.NewDatabase(t, pgtest.Server(t))
	var out []*Store
	for i := range n {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), fmt.Sprint("node", i)), now,
			WithDatabase(url), WithMasterKey(testMasterKey))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		out = append(out, s)
	}
	return out
}

func TestPostgresSchemaConstraints(t *testing.T) {
	s := openPGNodes(t, 1, nil)[0]
	ctx := context.Background()
	if s.Engine() != "postgres" {
		t.Fatalf("engine %q", s.Engine())
	}
	err := s.Update(ctx, func(tx *Tx) error {
		return tx.CreateAccount(ctx, Account{AccountID: "1234"}, Owner{Email: "o@example.com", PasswordHash: "x"})
	})
	if err != nil {
		t.Fatal(err)
	}
	// The account is one row.
	err = s.Update(ctx, func(tx *Tx) error {
		return tx.CreateAccount(ctx, Account{AccountID: "5678"}, Owner{Email: "p@example.com", PasswordHash: "x"})
	})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("a second account: %v, want ErrConflict", err)
	}
	if _, err := s.write.Exec("INSERT INTO account(id, account_id, created_at) VALUES (2, 'x', 'y')"); err == nil {
		t.Errorf("an account row with id 2 was accepted")
	}
	// User names are unique whatever their case.
	if err := s.Update(ctx, func(tx *Tx) error { return tx.CreateUser(ctx, &User{UserID: "1", UserName: "Alice", DisplayName: "A"}) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.CreateUser(ctx, &User{UserID: "2", UserName: "aLICE", DisplayName: "B"}) }); !errors.Is(err, ErrConflict) {
		t.Errorf("a case variant of a user name: %v, want ErrConflict", err)
	}
	// Foreign keys hold, and deleting a user removes what hangs off it.
	err = s.Update(ctx, func(tx *Tx) error {
		return tx.CreateAccessKey(ctx, &AccessKey{AccessKeyID: "LTAInobody", UserID: "nobody", SecretEnc: []byte("s"), Status: "Active"})
	})
	if err == nil {
		t.Errorf("an AccessKey of a user that does not exist was accepted")
	}
	err = s.Update(ctx, func(tx *Tx) error {
		return tx.CreateAccessKey(ctx, &AccessKey{AccessKeyID: "LTAIalice", UserID: "1", SecretEnc: []byte("s"), Status: "Active"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.write.Exec("DELETE FROM users WHERE user_id = ?", "1"); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.read.QueryRow("SELECT count(*) FROM access_keys").Scan(&n); err != nil || n != 0 {
		t.Errorf("access keys after the user's deletion: %d, %v", n, err)
	}
	// Users page in byte order, as on SQLite, whatever the server's locale.
	for i, name := range []string{"b-x", "bx", "B_y", "a.z"} {
		if err := s.Update(ctx, func(tx *Tx) error {
			return tx.CreateUser(ctx, &User{UserID: fmt.Sprint("u", i), UserName: name, DisplayName: name})
		}); err != nil {
			t.Fatal(err)
		}
	}
	users, err := s.Users(ctx, UserFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, u := range users {
		got = append(got, u.UserName)
	}
	if fmt.Sprint(got) != "[a.z b-x B_y bx]" {
		t.Errorf("users in order %v, want [a.z b-x B_y bx]", got)
	}
	if users, err := s.Users(ctx, UserFilter{Query: "B", Limit: 10}); err != nil || len(users) != 3 {
		t.Errorf("search for B: %d users, %v", len(users), err)
	}
	// A conflict the domain retries inside its transaction (a serial
	// taken) leaves the transaction usable, as on SQLite.
	err = s.Update(ctx, func(tx *Tx) error {
		for i, serial := range []string{"acs:ram::1:mfa/a", "acs:ram::1:mfa/b"} {
			if err := tx.CreateVirtualMFADevice(ctx, MFADevice{ID: int64(i + 1), Serial: serial, SeedEnc: []byte("s")}); err != nil {
				return err
			}
		}
		if err := tx.SetMFADeviceSerial(ctx, 2, "acs:ram::1:mfa/a"); !errors.Is(err, ErrConflict) {
			return fmt.Errorf("a taken serial: %v, want ErrConflict", err)
		}
		return tx.SetMFADeviceSerial(ctx, 2, "acs:ram::1:mfa/c")
	})
	if err != nil {
		t.Error(err)
	}
}

// Two nodes appending at once make one chain in one order, with no gap
// where a transaction rolled back.
func TestPostgresOneChainAcrossNodes(t *testing.T) {
	nodes := openPGNodes(t, 2, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for n, s := range nodes {
		for g := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 10 {
					ev := &Event{EventID: fmt.Sprintf("n%d-g%d-%d", n, g, i), EventVersion: "1", EventType: "ApiCall",
						EventSource: "ram", EventName: "GetUser", ServiceName: "Ram", UserIdentity: Identity{Type: "ram-user", UserName: "ann"}}
					var err error
					switch i % 3 {
					case 0: // the fast path of reads
						err = s.Queue(ctx, Record{Event: ev})
					case 1:
						err = s.Update(ctx, func(tx *Tx) error { return tx.AppendEvent(ctx, ev) })
					case 2: // rolled back: leaves nothing, not even a gap
						err = s.Update(ctx, func(tx *Tx) error {
							if err := tx.AppendEvent(ctx, ev); err != nil {
								return err
							}
							return errors.New("changed my mind")
						})
						if err != nil && err.Error() == "changed my mind" {
							err = nil
						}
					}
					if err != nil {
						errs <- err
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, s := range nodes {
		rep, err := s.VerifyChain(ctx)
		if err != nil || !rep.OK || rep.Events != 2*3*7 {
			t.Errorf("node %d verifies %+v, %v; want 42 events, intact", i, rep, err)
		}
	}
	if _, _, err := nodes[0].CheckpointHead(ctx); err != nil {
		t.Fatal(err)
	}
	// Deleting the newest event shows, as on SQLite.
	if _, err := nodes[1].write.Exec("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)"); err != nil {
		t.Fatal(err)
	}
	if rep, err := nodes[1].VerifyChain(ctx); err != nil || rep.OK {
		t.Errorf("after deleting the newest event: %+v, %v; want broken", rep, err)
	}
}

func TestPostgresNoncesAreShared(t *testing.T) {
	nodes := openPGNodes(t, 2, nil)
	ctx := context.Background()
	exp := time.Now().Add(15 * time.Minute)
	if ok, err := nodes[0].UseNonce(ctx, "LTAIa", "n1", exp); err != nil || !ok {
		t.Fatalf("first use on node A: %v, %v", ok, err)
	}
	if ok, err := nodes[1].UseNonce(ctx, "LTAIa", "n1", exp); err != nil || ok {
		t.Errorf("the same nonce on node B: %v, %v; want refused", ok, err)
	}
	if ok, err := nodes[1].UseNonce(ctx, "LTAIb", "n1", exp); err != nil || !ok {
		t.Errorf("another key's nonce: %v, %v", ok, err)
	}
}

// A change committed on node A moves node B's generation, so B's caches
// reload. This checks that it happens; how soon (SPEC §14: within a
// second) is BenchmarkPostgresGenerationLag's figure, since a busy machine
// can stall any wall-clock bound.
func TestPostgresGenerationFollowsOtherNodes(t *testing.T) {
	nodes := openPGNodes(t, 2, nil)
	ctx := context.Background()
	before := nodes[1].Generation()
	start := time.Now()
	if err := nodes[0].Update(ctx, func(tx *Tx) error { return tx.PutSetting(ctx, "x", "1") }); err != nil {
		t.Fatal(err)
	}
	if !waitUntil(func() bool { return nodes[1].Generation() != before }) {
		t.Fatalf("node B's generation did not move within %v of node A's change", waitLimit)
	}
	t.Logf("node B saw node A's change after %v", time.Since(start))
}

// waitLimit bounds how long a test waits for another node to see a change:
// generous, so a busy machine does not fail a correct build.
const waitLimit = 15 * time.Second

// waitUntil polls cond every 20 ms until it holds (true) or waitLimit
// passes (false).
func waitUntil(cond func() bool) bool {
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

// BenchmarkPostgresGenerationLag measures how long node B takes to see a
// change committed on node A (SPEC §14 asks for under a second): the
// lag-ms metric is the mean per change.
//
//	go run ./store/pgtest/pgrun go test -run '^$' -bench PostgresGenerationLag ./store/
func BenchmarkPostgresGenerationLag(b *testing.B) {
	nodes := openPGNodes(b, 2, nil)
	ctx := context.Background()
	b.ReportAllocs()
	var lag time.Duration
	n := 0
	for ; b.Loop(); n++ {
		before := nodes[1].Generation()
		start := time.Now()
		if err := nodes[0].Update(ctx, func(tx *Tx) error { return tx.PutSetting(ctx, "x", fmt.Sprint(n)) }); err != nil {
			b.Fatal(err)
		}
		for nodes[1].Generation() == before {
			if time.Since(start) > waitLimit {
				b.Fatalf("node B's generation did not move within %v", waitLimit)
			}
			time.Sleep(time.Millisecond)
		}
		lag += time.Since(start)
	}
	b.ReportMetric(float64(lag.Microseconds())/1000/float64(max(n, 1)), "lag-ms")
}

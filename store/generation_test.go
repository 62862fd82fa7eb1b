package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"ramconsole/store/pgtest"
)

// openBeside opens the store a CLI command next to a running server opens:
// on SQLite the server's data directory (whose journal the server owns), on
// PostgreSQL the same database from a data directory of its own.
func openBeside(t *testing.T, dir, database string) *Store {
	t.Helper()
	if database != "" {
		dir = filepath.Join(t.TempDir(), "cli")
	}
	s, err := Open(context.Background(), dir, nil, WithDatabase(database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if !s.pg && s.journal != nil {
		t.Fatal("the second store took the journal the first one owns")
	}
	return s
}

// waitFor polls cond until it holds, failing after a deadline far beyond
// the second SPEC §13 allows: timings belong in benchmarks, and the test
// machine may be busy.
func waitFor(t *testing.T, cond func() bool, format string, args ...any) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > 10*time.Second {
			t.Fatalf(format, args...)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// A change committed by another process (a CLI command next to the running
// server, another node) moves the server's Generation, so its caches
// re-read: on SQLite as on PostgreSQL.
func TestGenerationFollowsAnotherProcess(t *testing.T) {
	database := pgtest.Database(t)
	server, dir := openTestOn(t, nil, database)
	cli := openBeside(t, dir, database)
	ctx := context.Background()
	var longest time.Duration
	for i := range 5 {
		before := server.Generation()
		if err := cli.Update(ctx, func(tx *Tx) error { return tx.PutSetting(ctx, "x", fmt.Sprint(i)) }); err != nil {
			t.Fatal(err)
		}
		lag := waitFor(t, func() bool { return server.Generation() != before },
			"change %d: the server's generation did not move after another process's change", i)
		longest = max(longest, lag)
	}
	t.Logf("%s: the server saw each of 5 changes of another process within %v (polled every %v)", server.Engine(), longest, generationPoll)

	// And the other way round: the CLI's caches follow the server.
	before := cli.Generation()
	if err := server.Update(ctx, func(tx *Tx) error { return tx.PutSetting(ctx, "x", "server") }); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return cli.Generation() != before }, "the CLI's generation did not move after the server's change")
}

// Transactions that change nothing a cache holds (the audit journal's folds,
// a CLI command's own event, a transaction that writes nothing) do not move
// the database's generation, so other processes' caches stay warm.
func TestGenerationIgnoresBookkeeping(t *testing.T) {
	database := pgtest.Database(t)
	server, dir := openTestOn(t, nil, database)
	cli := openBeside(t, dir, database)
	ctx := context.Background()
	row := func() int64 {
		t.Helper()
		var n int64
		if err := server.read.QueryRowContext(ctx, qGeneration).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	rowBefore, serverBefore, cliBefore := row(), server.Generation(), cli.Generation()

	for i := range 50 { // the server's answered calls, folded by its journal
		rec := Record{Event: apiEvent(i), KeyID: "LTAIapp", Nonce: fmt.Sprint("n", i), NonceExpires: time.Now().Add(time.Minute)}
		if err := server.Queue(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := server.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cli.Update(ctx, func(tx *Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := cli.Update(ctx, func(tx *Tx) error { return tx.AppendEvent(ctx, apiEvent(100)) }); err != nil {
		t.Fatal(err)
	}
	if err := cli.Update(ctx, func(tx *Tx) error { return tx.ClearOwnerFailures(ctx, false) }); err != nil {
		t.Fatal(err)
	}
	if got := row(); got != rowBefore {
		t.Fatalf("the generation row = %d after bookkeeping only, want %d", got, rowBefore)
	}
	// Let both pollers look a few times: had anything moved, they would
	// have seen it (a busy machine can only make this check weaker).
	time.Sleep(3 * generationPoll)
	if got := server.Generation(); got != serverBefore {
		t.Errorf("the server's generation = %d after bookkeeping only, want %d", got, serverBefore)
	}
	if got := cli.Generation(); got != cliBefore {
		t.Errorf("the CLI's generation = %d after bookkeeping only, want %d", got, cliBefore)
	}
}

// Close stops the generation's poller, which holds no connection after.
func TestCloseStopsThePoller(t *testing.T) {
	s, _ := openTestOn(t, nil, pgtest.Database(t))
	done := s.pollDone
	if done == nil {
		t.Fatal("no poller runs")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	default:
		t.Fatal("Close returned while the poller still runs")
	}
}

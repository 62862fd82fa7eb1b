package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ramconsole/store/pgtest"
)

// openTest opens a store in a fresh data directory: on SQLite, or on a
// fresh PostgreSQL database when RAMCONSOLE_TEST_DATABASE names a server.
func openTest(t *testing.T, now Clock) (*Store, string) {
	t.Helper()
	return openTestOn(t, now, pgtest.Database(t))
}

// openSQLiteTest opens a store on SQLite whatever the environment: for
// tests of SQLite's own mechanisms (its file, the journal, legacy chains).
func openSQLiteTest(t *testing.T, now Clock) (*Store, string) {
	t.Helper()
	return openTestOn(t, now, "")
}

func openTestOn(t *testing.T, now Clock, database string) (*Store, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(context.Background(), dir, now, WithDatabase(database))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestOpenPermissionsAndMigrations(t *testing.T) {
	s, dir := openTestOn(t, nil, "") // SQLite's file and pragmas
	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, DBFile): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %o, want %o", path, got, want)
		}
	}
	s.Close()
	// Opening again applies nothing twice.
	s2, err := Open(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	var n int
	if err := s2.read.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n < 1 {
		t.Errorf("schema_migrations = %d, %v", n, err)
	}
	var mode string
	if err := s2.read.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal_mode = %q, %v", mode, err)
	}
	var sync int
	if err := s2.write.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 2 {
		t.Errorf("synchronous = %d, %v; want 2 (FULL)", sync, err)
	}
	var fk int
	if err := s2.write.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Errorf("foreign_keys = %d, %v", fk, err)
	}
}

func TestMasterKeyAndSealer(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadMasterKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := LoadMasterKey(dir, "")
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load gave another key: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, MasterKeyFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("master.key mode = %o", fi.Mode().Perm())
	}
	if _, err := LoadMasterKey(dir, "bm90IDMyIGJ5dGVz"); err == nil {
		t.Errorf("a short environment key was accepted")
	}
	s, _ := NewSealer(k1)
	sealed := s.Seal("mfa_devices/1/seed", []byte("secret seed"))
	if bytes.Contains(sealed, []byte("secret seed")) {
		t.Fatal("sealed value holds the plaintext")
	}
	if got, err := s.Open("mfa_devices/1/seed", sealed); err != nil || string(got) != "secret seed" {
		t.Errorf("Open = %q, %v", got, err)
	}
	if _, err := s.Open("mfa_devices/2/seed", sealed); err == nil {
		t.Errorf("a value sealed for one record opened for another")
	}
	other, _ := NewSealer(bytes.Repeat([]byte{1}, 32))
	if _, err := other.Open("mfa_devices/1/seed", sealed); err == nil {
		t.Errorf("opened with the wrong key")
	}
}

func TestLockoutCounter(t *testing.T) {
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	s, _ := openTest(t, func() time.Time { return now })
	ctx := context.Background()
	err := s.Update(ctx, func(tx *Tx) error {
		return tx.CreateAccount(ctx, Account{AccountID: "1234567890123456"}, Owner{Email: "o@example.com", PasswordHash: "x"})
	})
	if err != nil {
		t.Fatal(err)
	}
	fail := func() time.Time {
		var until time.Time
		if err := s.Update(ctx, func(tx *Tx) error {
			var err error
			until, err = tx.RecordOwnerFailure(ctx, 5, time.Hour, time.Hour)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return until
	}
	for i := 1; i <= 4; i++ {
		if u := fail(); !u.IsZero() {
			t.Fatalf("locked after %d failures", i)
		}
	}
	if u := fail(); !u.Equal(now.Add(time.Hour)) {
		t.Fatalf("fifth failure: locked until %v, want %v", u, now.Add(time.Hour))
	}
	// Failures spread over more than an hour start a new run.
	now = now.Add(2 * time.Hour)
	if u := fail(); !u.IsZero() {
		t.Errorf("a failure after the window locked")
	}
	o, err := s.Owner(ctx)
	if err != nil || o.FailedCount != 1 {
		t.Errorf("FailedCount = %d, %v; want 1", o.FailedCount, err)
	}
}

// FuzzParseStoredTime: the fast reader of stored times agrees with
// time.Parse on the layout timeText writes.
func FuzzParseStoredTime(f *testing.F) {
	f.Add("2026-11-27T01:02:03.456Z")
	f.Add("2026-02-31T01:02:03.456Z")
	f.Add("2026-13-01T25:61:61.000Z")
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := time.Parse("2006-01-02T15:04:05.000Z", s)
		got, ok := parseStoredTime(s)
		if ok && (werr != nil || !got.Equal(want)) {
			t.Fatalf("parseStoredTime(%q) = %v; time.Parse = %v, %v", s, got, want, werr)
		}
		if !ok && werr == nil && len(s) == 24 && timeText(want) == s {
			t.Fatalf("parseStoredTime(%q) refused what timeText writes", s)
		}
	})
}

// A unique or primary-key violation is recognised by the driver's code on
// either engine, whatever its message says.
func TestUniqueViolationByCode(t *testing.T) {
	s, _ := openTest(t, nil)
	ctx := context.Background()
	insert := func() error {
		return s.Update(ctx, func(tx *Tx) error {
			_, err := tx.ExecContext(ctx, "INSERT INTO store_generation(id, n) VALUES (1, 0)")
			return err
		})
	}
	if err := insert(); !isUniqueViolation(err) {
		t.Fatalf("a second generation row: %v, want a unique violation", err)
	}
	if isUniqueViolation(errors.New("UNIQUE constraint failed: users.name")) {
		t.Error("a message alone is taken for a unique violation")
	}
	if isUniqueViolation(nil) {
		t.Error("nil is a unique violation")
	}
}

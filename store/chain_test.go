package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// legacyDataDir makes a data directory as a ramconsole before the keyed
// chain left it: n events chained with plain SHA-256 and no head
// checkpoints table.
func legacyDataDir(t *testing.T, n int) string {
	t.Helper()
	s, dir := openSQLiteTest(t, nil)
	s.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	prev := genesisHash
	for i := range n {
		ev := &Event{EventID: fmt.Sprintf("legacy-%d", i), EventVersion: "1", EventTime: timeText(time.Now().Add(time.Duration(i-n) * time.Second)),
			EventType: "ConsoleOperation", EventSource: "ram", EventName: "CreateUser", ServiceName: "Ram",
			UserIdentity: Identity{Type: "root-account", UserName: "root"}, SourceIPAddress: "10.0.0.1"}
		body, err := encodeEvent(ev)
		if err != nil {
			t.Fatal(err)
		}
		hash := LegacyChainHash(prev, body)
		if _, err := db.Exec(qInsertEvent, appendEventRow(nil, ev, body, prev, hash)...); err != nil {
			t.Fatal(err)
		}
		prev = hash
	}
	for _, q := range []string{"DROP TABLE audit_head_checkpoints", "DROP TABLE service_hosts", "DROP TABLE services",
		"DROP INDEX events_service", "ALTER TABLE events DROP COLUMN service_name", "DROP TABLE store_generation",
		"DROP INDEX policy_attachments_name", "DROP INDEX policy_attachments_type", "DROP INDEX policy_attachments_user_kind",
		"DROP INDEX policy_attachments_group_kind", "DROP INDEX policy_attachments_role_kind",
		"DROP TABLE security_keys", "DROP TABLE webauthn_handles", "DROP TABLE oidc_tokens", "DROP TABLE oidc_families",
		"DROP TABLE oidc_codes", "DROP TABLE oidc_requests", "DROP TABLE app_secrets", "DROP TABLE applications", "DROP TABLE oidc_keys",
		"DROP TABLE user_sso_settings", "DROP TABLE saml_providers", "DROP TABLE oidc_providers", "DROP TABLE saml_requests",
		"DROP TABLE saml_assertions", "DROP TABLE oidc_provider_jwks", "DROP TABLE credential_report",
		"DROP TABLE access_calls", "DROP TABLE access_statements", "DROP TABLE access_latest", "DROP TABLE access_mark",
		"DELETE FROM schema_migrations WHERE version >= 9"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestMigrationReanchorsALegacyChain(t *testing.T) {
	ctx := context.Background()
	dir := legacyDataDir(t, 5)
	s, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.Events(ctx, 1)
	if err != nil || len(evs) != 1 || evs[0].Seq != 6 || evs[0].EventName != ChainAnchorEventName {
		t.Fatalf("newest event after the migration = %+v, %v; want the re-anchor at seq 6", evs, err)
	}
	if evs[0].AdditionalEventData["legacyHeadSeq"] != float64(5) || evs[0].AdditionalEventData["legacyHeadHash"] != evs[0].PrevHash {
		t.Errorf("the re-anchor event does not name the legacy head: %s", evs[0].Body)
	}
	appendN(t, s, 3)
	rep, err := s.VerifyChain(ctx)
	if err != nil || !rep.OK || rep.Events != 9 || rep.Anchor != 6 {
		t.Fatalf("VerifyChain across the re-anchor = %+v, %v", rep, err)
	}
	s.Close()
	// Opening again does not anchor again.
	s2, err := Open(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := s2.VerifyChain(ctx); err != nil || !rep.OK || rep.Events != 9 {
		t.Errorf("after reopening: %+v, %v", rep, err)
	}
	s2.Close()

	tamper := []struct {
		name string
		do   func(db *sql.DB) error
		at   int64
	}{
		{"a legacy event edited and the legacy part re-hashed", func(db *sql.DB) error {
			return rehash(db, 2, 5, func(b string) string { return strings.Replace(b, "10.0.0.1", "10.9.9.9", 1) }, LegacyChainHash)
		}, 6},
		{"the re-anchor deleted (a downgrade to an all-legacy chain)", func(db *sql.DB) error {
			if _, err := db.Exec("DELETE FROM events WHERE seq >= 6"); err != nil {
				return err
			}
			_, err := db.Exec("UPDATE sqlite_sequence SET seq = 5 WHERE name = 'events'")
			return err
		}, 1},
		{"an event after the anchor re-hashed with plain SHA-256", func(db *sql.DB) error {
			return rehash(db, 8, 9, func(b string) string { return b }, LegacyChainHash)
		}, 8},
		{"the anchor renamed in its column", func(db *sql.DB) error {
			_, err := db.Exec("UPDATE events SET event_name = 'CreateUser' WHERE seq = 6")
			return err
		}, 1},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			d := filepath.Join(t.TempDir(), "data")
			copyDataDir(t, dir, d)
			db, err := sql.Open("sqlite", "file:"+filepath.Join(d, DBFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.do(db); err != nil {
				t.Fatal(err)
			}
			db.Close()
			s, err := Open(ctx, d, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if rep, err := s.VerifyChain(ctx); err != nil || rep.OK || rep.BrokenAt != tc.at {
				t.Errorf("%s: VerifyChain = %+v, %v; want broken at %d", tc.name, rep, err, tc.at)
			}
		})
	}
}

// rehash edits event from and recomputes the hashes of events from..to with hash.
func rehash(db *sql.DB, from, to int64, edit func(string) string, hash func(string, []byte) string) error {
	var prev string
	if err := db.QueryRow("SELECT prev_hash FROM events WHERE seq = ?", from).Scan(&prev); err != nil {
		return err
	}
	for seq := from; seq <= to; seq++ {
		var body string
		if err := db.QueryRow("SELECT body FROM events WHERE seq = ?", seq).Scan(&body); err != nil {
			return err
		}
		if seq == from {
			body = edit(body)
		}
		h := hash(prev, []byte(body))
		if _, err := db.Exec("UPDATE events SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?", body, prev, h, seq); err != nil {
			return err
		}
		prev = h
	}
	return nil
}

// TestAFreshChainIsKeyedFromTheStart: a new database needs no anchor, and
// so may hold no plain SHA-256 event at all.
func TestAFreshChainIsKeyedFromTheStart(t *testing.T) {
	s, _ := openTest(t, nil)
	ctx := context.Background()
	appendN(t, s, 3)
	rep, err := s.VerifyChain(ctx)
	if err != nil || !rep.OK || rep.Events != 3 || rep.Anchor != 0 {
		t.Fatalf("VerifyChain = %+v, %v", rep, err)
	}
	if err := rehash(s.write, 1, 3, func(b string) string { return b }, LegacyChainHash); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.VerifyChain(ctx); err != nil || rep.OK || rep.BrokenAt != 1 {
		t.Errorf("a keyed chain re-hashed as legacy: %+v, %v; want broken at 1", rep, err)
	}
}

func TestCheckpointHead(t *testing.T) {
	s, _ := openTest(t, nil)
	ctx := context.Background()
	if _, ok, err := s.CheckpointHead(ctx); ok || err != nil {
		t.Fatalf("a checkpoint of an empty log: %v %v", ok, err)
	}
	appendN(t, s, 3)
	cp, ok, err := s.CheckpointHead(ctx)
	if err != nil || !ok || cp.Seq != 3 || cp.MAC == "" || cp.Hash == "" {
		t.Fatalf("CheckpointHead = %+v %v %v", cp, ok, err)
	}
	if _, ok, _ := s.CheckpointHead(ctx); ok {
		t.Errorf("a second checkpoint with no new event was written")
	}
	if rep, err := s.VerifyChain(ctx); err != nil || !rep.OK || rep.HeadCheckpoint != 3 {
		t.Errorf("VerifyChain = %+v, %v", rep, err)
	}
	// A checkpoint written with another key (or by hand) is refused.
	if _, err := s.write.Exec("UPDATE audit_head_checkpoints SET mac = ?", strings.Repeat("0", 64)); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.VerifyChain(ctx); err != nil || rep.OK || !strings.Contains(rep.Reason, "checkpoint") {
		t.Errorf("a forged checkpoint: %+v, %v", rep, err)
	}
}

// copyDataDir copies a closed data directory's database and master key.
func copyDataDir(t *testing.T, from, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{DBFile, DBFile + "-wal", MasterKeyFile} {
		b, err := os.ReadFile(filepath.Join(from, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

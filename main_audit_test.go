package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"ramconsole/store"
)

// rawDB opens the data directory's database as someone with write access to
// the file would.
func rawDB(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBFile)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

// rechain edits the body of event from and recomputes the hash of it and
// of every later event with hash: what an attacker with write access to the
// database does to hide an edit.
func rechain(t *testing.T, db *sql.DB, from int64, edit func(string) string, hash func(prev string, body []byte) string) {
	t.Helper()
	var prev string
	if err := db.QueryRow("SELECT prev_hash FROM events WHERE seq = ?", from).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query("SELECT seq, body FROM events WHERE seq >= ? ORDER BY seq", from)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		seq  int64
		body string
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.seq, &r.body); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	rows.Close()
	for _, r := range all {
		if r.seq == from {
			r.body = edit(r.body)
		}
		h := hash(prev, []byte(r.body))
		if _, err := db.Exec("UPDATE events SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?", r.body, prev, h, r.seq); err != nil {
			t.Fatal(err)
		}
		prev = h
	}
}

func plainSHA256(prev string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prev))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

func hmacWith(key []byte) func(string, []byte) string {
	return func(prev string, body []byte) string {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(prev))
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	}
}

func verifyCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(append([]string{"audit", "verify"}, args...), &out, &errOut)
	return code, out.String() + errOut.String()
}

// TestAuditVerifyDetectsARecomputedChain: an older event edited and every
// later hash recomputed — with plain SHA-256, or with a key that is not the
// one derived from the master key — does not verify.
func TestAuditVerifyDetectsARecomputedChain(t *testing.T) {
	wrongKey := make([]byte, 32)
	rand.Read(wrongKey)
	for name, hash := range map[string]func(string, []byte) string{"plain SHA-256": plainSHA256, "a wrong key": hmacWith(wrongKey)} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			seedAccount(t, dir)
			if code, out := verifyCmd(t, "--data", dir); code != 0 {
				t.Fatalf("intact log: exit %d: %s", code, out)
			}
			rechain(t, rawDB(t, dir), 2, func(b string) string { return strings.Replace(b, "wrong password", "right password", 1) }, hash)
			code, out := verifyCmd(t, "--data", dir)
			if code != 1 || !strings.Contains(out, "BROKEN at event seq 2") {
				t.Errorf("edited and re-hashed with %s: exit %d: %s; want broken at seq 2", name, code, out)
			}
		})
	}
}

// TestAuditVerifyDetectsTruncationByCheckpoint: deleting the newest events
// and resetting SQLite's AUTOINCREMENT counter leaves a chain that no
// longer reaches the newest head checkpoint.
func TestAuditVerifyDetectsTruncationByCheckpoint(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	ctx := context.Background()
	st, _, err := openStore(ctx, dir, "", false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cp, ok, err := st.CheckpointHead(ctx)
	st.Close()
	if err != nil || !ok || cp.Seq != 4 {
		t.Fatalf("CheckpointHead = %+v %v %v", cp, ok, err)
	}
	db := rawDB(t, dir)
	if _, err := db.Exec("DELETE FROM events WHERE seq > 2"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE sqlite_sequence SET seq = 2 WHERE name = 'events'"); err != nil {
		t.Fatal(err)
	}
	code, out := verifyCmd(t, "--data", dir)
	if code != 1 || !strings.Contains(out, "checkpoint") {
		t.Errorf("truncated log with the counter reset: exit %d: %s; want broken by the checkpoint", code, out)
	}
	// A checkpoint row edited to match the cut chain no longer has a valid MAC.
	var hash string
	if err := db.QueryRow("SELECT hash FROM events WHERE seq = 2").Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE audit_head_checkpoints SET seq = 2, hash = ?", hash); err != nil {
		t.Fatal(err)
	}
	if code, out := verifyCmd(t, "--data", dir); code != 1 || !strings.Contains(out, "checkpoint") {
		t.Errorf("checkpoint edited to the cut head: exit %d: %s; want broken", code, out)
	}
}

// TestAuditVerifyExpectHead: --expect-head SEQ:HASH, kept outside the
// database, proves nothing was cut since; it fails for a cut chain even when
// the counter and every checkpoint in the database were rolled back too.
func TestAuditVerifyExpectHead(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	db := rawDB(t, dir)
	var hash string
	if err := db.QueryRow("SELECT hash FROM events WHERE seq = 4").Scan(&hash); err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("4:%s", hash)
	if code, out := verifyCmd(t, "--data", dir); code != 0 || !strings.Contains(out, head) {
		t.Errorf("verify does not print the head %s: %s", head, out)
	}
	if code, out := verifyCmd(t, "--data", dir, "--expect-head", head); code != 0 {
		t.Fatalf("--expect-head with the true head: exit %d: %s", code, out)
	}
	if code, out := verifyCmd(t, "--data", dir, "--expect-head", "3:"+hash); code != 1 {
		t.Errorf("--expect-head with a wrong hash: exit %d: %s", code, out)
	}
	for _, bad := range []string{"4", "x:" + hash, "4:nothex", "0:" + hash} {
		if code, out := verifyCmd(t, "--data", dir, "--expect-head", bad); code != 2 || !strings.Contains(out, "SEQ:HASH") {
			t.Errorf("--expect-head %q: exit %d: %s; want 2 and the expected form", bad, code, out)
		}
	}
	for _, q := range []string{"DELETE FROM events WHERE seq = 4", "UPDATE sqlite_sequence SET seq = 3 WHERE name = 'events'"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Exec("DELETE FROM audit_head_checkpoints") // absent before the fix: nothing to roll back then
	if code, out := verifyCmd(t, "--data", dir); code != 0 {
		t.Fatalf("the cut chain with its counter and checkpoints rolled back should verify on its own: exit %d: %s", code, out)
	}
	if code, out := verifyCmd(t, "--data", dir, "--expect-head", head); code != 1 || !strings.Contains(out, "seq 4") {
		t.Errorf("--expect-head on a cut chain: exit %d: %s; want broken", code, out)
	}
}

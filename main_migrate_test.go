package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ramconsole/store/pgtest"
)

// ramconsole migrate copies a SQLite data directory into an empty
// PostgreSQL database, verifies the copy, and refuses a populated target;
// audit verify and backup then work (or explain) with --database.
func TestMigrateCommand(t *testing.T) {
	dir := t.TempDir()
	seedAccount(t, dir)
	target := pgtest.NewDatabase(t, pgtest.Server(t))
	var out, errOut bytes.Buffer
	if code := run([]string{"migrate", "--from", dir, "--to", target}, &out, &errOut); code != 0 {
		t.Fatalf("migrate = %d (%s%s)", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "audit chain of the copy verified: 4 events") {
		t.Errorf("migrate output %q", out.String())
	}
	out.Reset()
	if code := run([]string{"audit", "verify", "--data", dir, "--database", target}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "4 events verified") {
		t.Errorf("audit verify on the copy = %d (%s%s)", code, out.String(), errOut.String())
	}
	errOut.Reset()
	if code := run([]string{"migrate", "--from", dir, "--to", target}, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "not empty") {
		t.Errorf("a second migrate into the copy = %d (%s), want refused as not empty", code, errOut.String())
	}
	errOut.Reset()
	out.Reset()
	file := filepath.Join(t.TempDir(), "backup.dump")
	if code := run([]string{"backup", "--data", dir, "--database", target, file}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "pg_restore") {
		t.Fatalf("backup on PostgreSQL = %d (%s%s)", code, out.String(), errOut.String())
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.HasPrefix(b, []byte("PGDMP")) {
		t.Errorf("the backup is not pg_dump's custom format: %.5q %v", b, err)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup's mode: %v %v", fi, err)
	}
	if code := run([]string{"backup", "--data", dir, "--database", target, file}, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "already exists") {
		t.Errorf("a backup over an existing file = %d (%s)", code, errOut.String())
	}
}

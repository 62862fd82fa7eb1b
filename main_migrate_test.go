package main

import (
	"bytes"
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
	if code := run([]string{"backup", "--data", dir, "--database", target, t.TempDir() + "/x"}, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "pg_dump") {
		t.Errorf("backup on PostgreSQL = %d (%s), want an explanation naming pg_dump", code, errOut.String())
	}
}

package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"ramconsole/store/pgtest"
)

// engineOnlyTables are the tables one engine has and the other has not,
// and why: everything else must have the same columns on both.
var engineOnlyTables = map[string]string{
	"sqlite_sequence":    "SQLite's own",
	"audit_journal_mark": "SQLite: how far the audit journal file is folded (PostgreSQL has no journal file)",
	"api_nonce_log":      "SQLite: the journal folds' nonces, read into memory at start (PostgreSQL shares api_nonces)",
	"api_nonces":         "PostgreSQL: the nonces every node shares",
	"events_seq":         "PostgreSQL: the counter its trigger hands the audit log's seq from (SQLite uses the rowid)",
}

// The SQLite migrations and the PostgreSQL schema produce the same tables
// with the same columns, but for the few tables one engine needs alone.
func TestSchemasOfBothEnginesAgree(t *testing.T) {
	ctx := context.Background()
	lite, _ := openTestOn(t, nil, "")
	pg, _ := openTestOn(t, nil, pgtest.NewDatabase(t, pgtest.Server(t)))
	liteCols, pgCols := map[string][]string{}, map[string][]string{}

	rows, err := lite.read.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table'")
	must(t, err)
	tables, err := collect(rows, scanString)
	must(t, err)
	for _, table := range tables {
		cols, err := lite.read.QueryContext(ctx, fmt.Sprintf("SELECT name FROM pragma_table_info('%s')", table))
		must(t, err)
		liteCols[table], err = collect(cols, scanString)
		must(t, err)
	}

	rows, err = pg.read.QueryContext(ctx, "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()")
	must(t, err)
	for rows.Next() {
		var table, col string
		must(t, rows.Scan(&table, &col))
		pgCols[table] = append(pgCols[table], col)
	}
	must(t, rows.Err())
	rows.Close()

	for table, cols := range liteCols {
		if _, only := engineOnlyTables[table]; only {
			continue
		}
		other, ok := pgCols[table]
		if !ok {
			t.Errorf("table %s is on SQLite only", table)
			continue
		}
		slices.Sort(cols)
		slices.Sort(other)
		if !slices.Equal(cols, other) {
			t.Errorf("table %s: SQLite has %s, PostgreSQL %s", table, strings.Join(cols, ","), strings.Join(other, ","))
		}
	}
	for table := range pgCols {
		if _, only := engineOnlyTables[table]; !only && liteCols[table] == nil {
			t.Errorf("table %s is on PostgreSQL only", table)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ramconsole migrate and backup: moving and copying the database.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"ramconsole/store"
)

// migrate copies the SQLite installation of a data directory into an empty
// PostgreSQL database and verifies the copy (SPEC §14). The server must be
// stopped: the copy folds and takes the audit journal.
func migrate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the data directory of the SQLite installation")
	to := fs.String("to", "", "the postgres:// URL of an empty database")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from == "" || !store.IsPostgres(*to) || fs.NArg() != 0 {
		return errors.New("usage: ramconsole migrate --from DIR --to postgres://USER@HOST/DATABASE")
	}
	if _, err := os.Stat(filepath.Join(*from, store.DBFile)); err != nil {
		return fmt.Errorf("%s holds no ramconsole database (%s)", *from, store.DBFile)
	}
	ctx := context.Background()
	key, err := store.LoadMasterKey(*from, os.Getenv("RAMCONSOLE_MASTER_KEY"))
	if err != nil {
		return err
	}
	st, err := store.OpenServer(ctx, *from, nil, store.WithMasterKey(key))
	if errors.Is(err, store.ErrJournalBusy) {
		return errors.New("a ramconsole server is using " + *from + ": stop it before migrating (changes made after the copy would be lost)")
	}
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := st.CopyTo(ctx, *to)
	if err != nil {
		return err
	}
	var total int64
	for _, n := range rep.Rows {
		total += n
	}
	fmt.Fprintf(stdout, "copied %d rows (%d users, %d AccessKeys, %d custom policies, %d audit events) and %d unexpired API nonces\n",
		total, rep.Rows["users"], rep.Rows["access_keys"], rep.Rows["policies"], rep.Rows["events"], rep.Nonces)
	fmt.Fprintf(stdout, "audit chain of the copy verified: %d events, head seq %d hash %s\n", rep.Chain.Events, rep.Chain.Head.Seq, rep.Chain.Head.Hash)
	fmt.Fprintln(stdout, "console sessions were not copied: everyone signs in again. Start every node with --database and the same master key ("+
		filepath.Join(*from, store.MasterKeyFile)+" or RAMCONSOLE_MASTER_KEY).")
	return nil
}

func backup(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	dataDir := dataFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: ramconsole backup [--data DIR] FILE")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, *dataDir, nil, store.WithDatabase(databaseOf(fs)))
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, fs.Arg(0)); err != nil {
		return err
	}
	how := "restore it by stopping the server and putting it at " + filepath.Join(*dataDir, store.DBFile)
	if st.Engine() == "postgres" {
		how = "pg_dump's custom format: restore it with pg_restore --no-owner into an empty database"
	}
	fmt.Fprintf(stdout, "database copied to %s (%s; the master key is not in it: keep %s/%s or RAMCONSOLE_MASTER_KEY safe separately)\n",
		fs.Arg(0), how, *dataDir, store.MasterKeyFile)
	return nil
}

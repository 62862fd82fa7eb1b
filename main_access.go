// ramconsole access rebuild: the access review's rollups, recomputed from
// the audit events.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
)

func accessCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("access rebuild", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataFlag(fs)
	since := fs.String("since", "", "recompute from this UTC day (YYYY-MM-DD) on; default: every event")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: ramconsole access rebuild [--data DIR] [--database URL] [--since YYYY-MM-DD]")
		return 2
	}
	if *since != "" {
		if _, err := time.Parse(time.DateOnly, *since); err != nil {
			fmt.Fprintf(stderr, "ramconsole: --since %q: use a date YYYY-MM-DD (a UTC day)\n", *since)
			return 2
		}
	}
	ctx := context.Background()
	st, _, err := openStore(ctx, *dataDir, databaseOf(fs), false, cliLogger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "ramconsole:", err)
		return 1
	}
	defer st.Close()
	start := time.Now()
	n, err := st.RebuildAccess(ctx, *since)
	if err != nil {
		fmt.Fprintln(stderr, "ramconsole:", err)
		return 1
	}
	fmt.Fprintf(stdout, "access rebuild: %d events read in %s\n", n, time.Since(start).Round(time.Millisecond))
	return 0
}

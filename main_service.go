// ramconsole service import: a resource service from a definition file.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"ramconsole/ram"
)

// serviceImport imports a resource service's definition from a file, as
// the owner, recorded with eventSource host. A bad definition: exit 1 with
// its problems, one a line.
func serviceImport(args []string, stdout, stderr io.Writer) int {
	ctx := context.Background()
	fs := flag.NewFlagSet("service import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataFlag(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "usage: ramconsole service import [--data DIR] FILE")
		return 2
	}
	file := fs.Arg(0)
	text, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(stderr, "ramconsole:", err)
		return 1
	}
	if _, err := ram.ParseServiceDef(string(text)); err != nil {
		fmt.Fprintf(stderr, "ramconsole: %s is not a valid service definition:\n", file)
		e, _ := ram.AsError(err)
		for _, p := range strings.Split(e.Message, "; ") {
			fmt.Fprintln(stderr, "  "+p)
		}
		return 1
	}
	st, sealer, err := openStore(ctx, *dataDir, databaseOf(fs), false, cliLogger(stderr))
	if err != nil {
		fmt.Fprintln(stderr, "ramconsole:", err)
		return 1
	}
	defer st.Close()
	host, _ := os.Hostname()
	a := ram.Actor{RequestID: ram.NewRequestID(), SourceIP: "host", UserAgent: "ramconsole service import on " + host}
	rs, created, err := ram.New(st, sealer).HostImportService(ctx, a, string(text))
	if e, ok := ram.AsError(err); ok {
		fmt.Fprintln(stderr, "ramconsole:", e.Message)
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, "ramconsole:", err)
		return 1
	}
	what := "replaced the definition of"
	if created {
		what = "created"
	}
	fmt.Fprintf(stdout, "Imported %s: %s service %s (%s, %s), hosts %s.\n", file, what, rs.Code, rs.Name, rs.Style, strings.Join(rs.Hosts, ", "))
	return 0
}

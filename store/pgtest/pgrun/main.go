// Command pgrun starts a throwaway PostgreSQL cluster, runs a command with
// RAMCONSOLE_TEST_DATABASE naming it, and removes the cluster:
//
//	go run ./store/pgtest/pgrun go test ./store/ ./web/
//
// When RAMCONSOLE_TEST_DATABASE is set already, that server is used and no
// cluster is started. Without PostgreSQL's binaries it fails (never skips).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"ramconsole/store/pgtest"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pgrun COMMAND [ARG...]")
		os.Exit(2)
	}
	os.Exit(run(os.Args[1], os.Args[2:]))
}

func run(name string, args []string) int {
	if os.Getenv(pgtest.EnvServer) == "" {
		c, err := pgtest.Start()
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgrun:", err)
			return 1
		}
		defer func() {
			if err := c.Stop(); err != nil {
				fmt.Fprintln(os.Stderr, "pgrun:", err)
			}
		}()
		os.Setenv(pgtest.EnvServer, c.URL)
		fmt.Fprintln(os.Stderr, "pgrun: PostgreSQL cluster started at", c.URL)
	} else {
		fmt.Fprintln(os.Stderr, "pgrun: using the server of", pgtest.EnvServer)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(syscall.SIGINT) // the command gets it too; the cluster is stopped after
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "pgrun:", err)
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 0 {
			return ee.ExitCode()
		}
		return 1
	}
	return 0
}

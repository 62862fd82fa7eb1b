// Command ramconsole serves the RAM console and its OpenAPI, and runs the
// host-side maintenance commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ramconsole/ram"
	"ramconsole/store"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `ramconsole — a self-hosted RAM console

Usage:
  ramconsole [serve] [flags]          serve the console and the RAM OpenAPI
  ramconsole owner reset-mfa [--data DIR]
                                      remove the owner's MFA device (a lost phone)
  ramconsole owner unlock [--data DIR]
                                      clear the owner's sign-in lockout
  ramconsole owner reset-password [--data DIR]
                                      set the owner's password (read twice from standard
                                      input), end the owner's sessions, clear the lockout
  ramconsole audit verify [--data DIR] [--expect-head SEQ:HASH]
                                      check the audit log's hash chain (and that it
                                      still holds a head kept from an earlier run)
  ramconsole backup [--data DIR] FILE write a consistent copy of the database
  ramconsole access rebuild [--data DIR] [--since YYYY-MM-DD]
                                      recompute the access review's counts from the
                                      audit events (also while the server runs)
  ramconsole migrate --from DIR --to postgres://…
                                      copy a SQLite installation (stopped) into an empty
                                      PostgreSQL database and verify the copy's audit chain
  ramconsole service import [--data DIR] FILE
                                      create a resource service from a definition, or
                                      replace the definition of the service with its code
  ramconsole oidc rotate-key [--data DIR]
                                      a new OpenID signing key (the previous one stays
                                      published for 24 hours)
  ramconsole policy validate [--trust] FILE
                                      check a RAM policy document (--trust: a role's trust policy)
  ramconsole policy eval --policy FILE... --action A --resource R... [--context k=v]...
                                      evaluate a request against policy documents
  ramconsole version                  print the version

Serve flags (and environment):
  --addr ADDR            RAMCONSOLE_ADDR   listen address (default 127.0.0.1:8080)
  --data DIR             RAMCONSOLE_DATA   data directory (default ./data)
  --database URL         RAMCONSOLE_DATABASE   store in PostgreSQL (postgres://…) instead of
                         SQLite in DIR; every node of a cluster names the same database
                         (and has the same master key); every command takes it too
  --tls-cert, --tls-key  RAMCONSOLE_TLS_CERT, RAMCONSOLE_TLS_KEY   serve HTTPS with this
                         certificate and key
  --secure-cookies       RAMCONSOLE_SECURE_COOKIES (true/false)   mark cookies Secure (behind a
                         TLS-terminating proxy)
  --trusted-proxies LIST RAMCONSOLE_TRUSTED_PROXIES   comma-separated IPs/CIDRs whose
                         X-Forwarded-For is believed
                         (and which may ask the gateway, /gateway/auth)
  --cookie-domain D      RAMCONSOLE_COOKIE_DOMAIN  send the session cookie to D and its
                         subdomains (the gateway then knows console users on service hosts)
  --console-url URL      RAMCONSOLE_CONSOLE_URL    the console's address as browsers reach it,
                         where the gateway sends a browser to sign in (default: the service's host)
  --metrics-addr ADDR    RAMCONSOLE_METRICS_ADDR   serve /metrics (Prometheus) on ADDR to anyone
                         who reaches it; on the main address only --trusted-proxies may read it
  --audit-retention DAYS RAMCONSOLE_AUDIT_RETENTION   delete audit events older than DAYS
                         (at start, then hourly; default 0 = keep forever)
The master key comes from RAMCONSOLE_MASTER_KEY (base64 of 32 bytes) or DIR/master.key.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, stdout, stderr)
	case "owner":
		if len(args) == 0 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		switch args[0] {
		case "reset-mfa":
			err = resetOwnerMFA(args[1:], stdout, stderr)
		case "unlock":
			err = unlockOwner(args[1:], stdout, stderr)
		case "reset-password":
			err = resetOwnerPassword(args[1:], stdout, stderr)
		default:
			fmt.Fprint(stderr, usage)
			return 2
		}
	case "audit":
		if len(args) == 0 || args[0] != "verify" {
			fmt.Fprint(stderr, usage)
			return 2
		}
		return auditVerify(args[1:], stdout, stderr)
	case "backup":
		err = backup(args, stdout)
	case "access":
		return accessCommand(args, stdout, stderr)
	case "migrate":
		err = migrate(args, stdout, stderr)
	case "service":
		if len(args) == 0 || args[0] != "import" {
			fmt.Fprint(stderr, usage)
			return 2
		}
		return serviceImport(args[1:], stdout, stderr)
	case "oidc":
		if len(args) == 0 || args[0] != "rotate-key" {
			fmt.Fprint(stderr, usage)
			return 2
		}
		err = rotateOIDCKey(args[1:], stdout, stderr)
	case "policy":
		return policyCommand(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "ramconsole", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "ramconsole: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "ramconsole:", err)
		}
		return 1
	}
	return 0
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// cliLogger is where a host command logs its warnings.
func cliLogger(stderr io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(stderr, nil)) }

// dataFlag adds --data and --database to a command's flags.
func dataFlag(fs *flag.FlagSet) *string {
	fs.String("database", os.Getenv("RAMCONSOLE_DATABASE"), "a postgres:// URL to store in PostgreSQL (default: SQLite in the data directory)")
	return fs.String("data", envOr("RAMCONSOLE_DATA", "./data"), "data directory")
}

// databaseOf is the value of a command's --database.
func databaseOf(fs *flag.FlagSet) string {
	if f := fs.Lookup("database"); f != nil {
		return f.Value.String()
	}
	return ""
}

// openStore opens the data directory's database and master key; the
// server's open insists on owning the audit journal. A master.key others
// may read is made private first, with a warning.
func openStore(ctx context.Context, dataDir, database string, server bool, log *slog.Logger) (*store.Store, *store.Sealer, error) {
	env := os.Getenv("RAMCONSOLE_MASTER_KEY")
	if env == "" {
		old, err := store.SecureMasterKeyFile(dataDir)
		if err != nil {
			return nil, nil, err
		}
		if old != 0 {
			log.Warn("the master key file was readable by others; its mode is now 0600: check who could read it and rotate the key if needed",
				"file", filepath.Join(dataDir, store.MasterKeyFile), "old_mode", fmt.Sprintf("%04o", old))
		}
	}
	key, err := store.LoadMasterKey(dataDir, env)
	if err != nil {
		return nil, nil, err
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		return nil, nil, err
	}
	open := store.Open
	if server {
		open = store.OpenServer
	}
	st, err := open(ctx, dataDir, nil, store.WithMasterKey(key), store.WithDatabase(database))
	if err != nil {
		return nil, nil, err
	}
	return st, sealer, nil
}

// auditCheckpointEvery is how often the server signs the audit chain's
// head while events are added.
const auditCheckpointEvery = time.Minute

// hostCommand opens the data directory for a host command on the owner and
// returns the service and the actor the audit log records (from "host").
// It works next to a running server: the server keeps the audit journal and
// the command writes its event directly.
func hostCommand(ctx context.Context, name string, args []string, stderr io.Writer) (*ram.Service, ram.Actor, func(), error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataFlag(fs)
	if err := fs.Parse(args); err != nil {
		return nil, ram.Actor{}, nil, err
	}
	if fs.NArg() != 0 {
		return nil, ram.Actor{}, nil, fmt.Errorf("usage: ramconsole %s [--data DIR]", name)
	}
	st, sealer, err := openStore(ctx, *dataDir, databaseOf(fs), false, cliLogger(stderr))
	if err != nil {
		return nil, ram.Actor{}, nil, err
	}
	host, _ := os.Hostname()
	a := ram.Actor{RequestID: ram.NewRequestID(), SourceIP: "host", UserAgent: "ramconsole " + name + " on " + host}
	return ram.New(st, sealer), a, func() { st.Close() }, nil
}

// stdin is where reset-password reads the new password (tests replace it).
var stdin io.Reader = os.Stdin

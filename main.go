// Command ramconsole serves the RAM console and its OpenAPI, and runs the
// host-side maintenance commands.
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"ramconsole/policy"
	"ramconsole/ram"
	"ramconsole/store"
	"ramconsole/web"
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
  ramconsole migrate --from DIR --to postgres://…
                                      copy a SQLite installation (stopped) into an empty
                                      PostgreSQL database and verify the copy's audit chain
  ramconsole service import [--data DIR] FILE
                                      create a resource service from a definition, or
                                      replace the definition of the service with its code
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
  --tls-cert, --tls-key  serve HTTPS with this certificate and key
  --secure-cookies       mark cookies Secure (behind a TLS-terminating proxy)
  --trusted-proxies LIST comma-separated IPs/CIDRs whose X-Forwarded-For is believed
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
	case "migrate":
		err = migrate(args, stdout, stderr)
	case "service":
		if len(args) == 0 || args[0] != "import" {
			fmt.Fprint(stderr, usage)
			return 2
		}
		return serviceImport(args[1:], stdout, stderr)
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

func serve(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("RAMCONSOLE_ADDR", "127.0.0.1:8080"), "listen address")
	dataDir := dataFlag(fs)
	tlsCert := fs.String("tls-cert", envOr("RAMCONSOLE_TLS_CERT", ""), "TLS certificate file")
	tlsKey := fs.String("tls-key", envOr("RAMCONSOLE_TLS_KEY", ""), "TLS key file")
	secureDefault, err := strconv.ParseBool(envOr("RAMCONSOLE_SECURE_COOKIES", "false"))
	if err != nil {
		return errors.New("RAMCONSOLE_SECURE_COOKIES must be true or false")
	}
	secure := fs.Bool("secure-cookies", secureDefault, "mark cookies Secure")
	proxies := fs.String("trusted-proxies", envOr("RAMCONSOLE_TRUSTED_PROXIES", ""), "trusted proxies (comma-separated)")
	cookieDomain := fs.String("cookie-domain", envOr("RAMCONSOLE_COOKIE_DOMAIN", ""), "domain of the session cookie")
	consoleURL := fs.String("console-url", envOr("RAMCONSOLE_CONSOLE_URL", ""), "the console's address as browsers reach it")
	metricsAddr := fs.String("metrics-addr", envOr("RAMCONSOLE_METRICS_ADDR", ""), "serve /metrics on this address too")
	retention, err := strconv.Atoi(envOr("RAMCONSOLE_AUDIT_RETENTION", "0"))
	if err != nil || retention < 0 {
		return errors.New("RAMCONSOLE_AUDIT_RETENTION must be a number of days (0 = keep forever)")
	}
	fs.IntVar(&retention, "audit-retention", retention, "delete audit events older than this many days (0 = keep forever)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if retention < 0 {
		return errors.New("--audit-retention must be 0 (keep forever) or a number of days")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	st, sealer, err := openStore(ctx, *dataDir, databaseOf(fs), true, log)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := ram.New(st, sealer)
	var trusted []string
	if *proxies != "" {
		trusted = strings.Split(*proxies, ",")
	}
	app, err := web.New(web.Config{TLS: *tlsCert != "", SecureCookies: *secure, TrustedProxies: trusted, Logger: log,
		CookieDomain: *cookieDomain, ConsoleURL: *consoleURL},
		web.Deps{Store: st, RAM: svc})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	base := scheme + "://" + ln.Addr().String()
	token, err := svc.IssueSetupToken(ctx, *dataDir)
	if err != nil {
		return err
	}
	if token != "" {
		fmt.Fprintf(stdout, "ramconsole %s: first run. Create the account and its owner at:\n\n    %s/setup?token=%s\n\n(the one-time token is also in %s/%s)\n",
			version, base, token, *dataDir, ram.SetupTokenFile)
	} else {
		fmt.Fprintf(stdout, "ramconsole %s: serving the console at %s/\n", version, base)
	}

	srv := &http.Server{Handler: app, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second,
		WriteTimeout: 120 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go sweepSessions(ctx, st, log)
	go checkpointAuditLog(ctx, st, svc, log)
	go verifyAuditLog(ctx, svc, log)
	if retention > 0 {
		go pruneAuditLog(ctx, svc, retention, log)
	}
	errc := make(chan error, 2)
	if *metricsAddr != "" {
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("--metrics-addr: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", app.MetricsHandler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		defer msrv.Close()
		log.Info("serving metrics", "addr", mln.Addr().String())
		go func() { errc <- msrv.Serve(mln) }()
	}
	go func() {
		if *tlsCert != "" {
			errc <- srv.ServeTLS(ln, *tlsCert, *tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	// Every answered call is in the chain now: sign its head.
	writeAuditCheckpoint(context.Background(), st, svc, log, true)
	return err
}

// auditCheckpointEvery is how often the server signs the audit chain's
// head while events are added.
const auditCheckpointEvery = time.Minute

// checkpointAuditLog signs the audit chain's head every minute when events
// were added since the last checkpoint.
func checkpointAuditLog(ctx context.Context, st *store.Store, svc *ram.Service, log *slog.Logger) {
	t := time.NewTicker(auditCheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			writeAuditCheckpoint(ctx, st, svc, log, false)
		}
	}
}

// verifyAuditLog verifies the whole audit chain every hour for the audit
// page, which otherwise checks only the events added since its last view.
func verifyAuditLog(ctx context.Context, svc *ram.Service, log *slog.Logger) {
	t := time.NewTicker(ram.FullVerifyEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := svc.VerifyAuditChainFully(ctx); err != nil && ctx.Err() == nil {
				log.Error("audit verification", "error", err)
			}
		}
	}
}

// writeAuditCheckpoint writes a signed head checkpoint into the database
// and the log: a copy of the log kept elsewhere is what proves, later, that
// no newest events were cut (audit verify --expect-head SEQ:HASH).
func writeAuditCheckpoint(ctx context.Context, st *store.Store, svc *ram.Service, log *slog.Logger, final bool) {
	// The summaries of throttled unauthenticated calls whose minute is over
	// (at shutdown: all of them) go in first.
	flush := svc.FlushThrottledCalls
	if final {
		flush = svc.EndThrottledCalls
	}
	if err := flush(ctx); err != nil && ctx.Err() == nil {
		log.Error("audit: throttled calls", "error", err)
	}
	cp, ok, err := st.CheckpointHead(ctx)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			log.Error("audit checkpoint", "error", err)
		}
	case ok:
		log.Info("audit checkpoint", "seq", cp.Seq, "hash", cp.Hash, "time", cp.Time, "mac", cp.MAC,
			"expect_head", fmt.Sprintf("%d:%s", cp.Seq, cp.Hash))
	}
}

// sweepSessions deletes expired sessions every ten minutes.
func sweepSessions(ctx context.Context, st *store.Store, log *slog.Logger) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := st.DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
				log.Error("sweep sessions", "error", err)
			}
		}
	}
}

// pruneAuditLog applies the audit retention at start and then hourly.
func pruneAuditLog(ctx context.Context, svc *ram.Service, days int, log *slog.Logger) {
	host, _ := os.Hostname()
	prune := func() {
		a := ram.Actor{RequestID: ram.NewRequestID(), SourceIP: "host", UserAgent: "ramconsole serve --audit-retention on " + host}
		p, err := svc.PruneAuditLog(ctx, a, days)
		if err != nil {
			if ctx.Err() == nil {
				log.Error("audit retention", "error", err)
			}
			return
		}
		if p.Count > 0 {
			log.Info("audit retention", "pruned", p.Count, "through_seq", p.AfterSeq, "days", days)
		}
	}
	prune()
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			prune()
		}
	}
}

func resetOwnerMFA(args []string, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, a, done, err := hostCommand(ctx, "owner reset-mfa", args, stderr)
	if err != nil {
		return err
	}
	defer done()
	res, err := svc.ResetOwnerMFA(ctx, a)
	if err != nil {
		return err
	}
	for _, m := range res.Moved {
		fmt.Fprintf(stdout, "Another device held the owner's serial; it was renamed (%s).\n", m)
	}
	if res.Removed {
		fmt.Fprintln(stdout, "The owner's MFA device was removed; the owner binds a new one at the next sign-in.")
	} else {
		fmt.Fprintln(stdout, "The owner has no MFA device: nothing to remove; the owner binds one at the next sign-in.")
	}
	return nil
}

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

func unlockOwner(args []string, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, a, done, err := hostCommand(ctx, "owner unlock", args, stderr)
	if err != nil {
		return err
	}
	defer done()
	if err := svc.UnlockOwner(ctx, a); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "The owner is unlocked: the failed sign-in count is cleared.")
	return nil
}

// stdin is where reset-password reads the new password (tests replace it).
var stdin io.Reader = os.Stdin

func resetOwnerPassword(args []string, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, a, done, err := hostCommand(ctx, "owner reset-password", args, stderr)
	if err != nil {
		return err
	}
	defer done()
	pw, confirm, err := readNewPassword(stdin, stderr)
	if err != nil {
		return err
	}
	if err := svc.ResetOwnerPassword(ctx, a, pw, confirm); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "The owner's password is set: every owner session ended and the lockout is cleared.")
	return nil
}

// readNewPassword reads the new password and its confirmation: without echo
// from a terminal, else as two lines.
func readNewPassword(in io.Reader, prompt io.Writer) (string, string, error) {
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		read := func(label string) (string, error) {
			fmt.Fprint(prompt, label)
			b, err := term.ReadPassword(int(f.Fd()))
			fmt.Fprintln(prompt)
			return string(b), err
		}
		pw, err := read("New owner password: ")
		if err != nil {
			return "", "", err
		}
		confirm, err := read("Again: ")
		return pw, confirm, err
	}
	r := bufio.NewReader(io.LimitReader(in, 64<<10))
	var lines [2]string
	for i := range lines {
		line, err := r.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			return "", "", errors.New("give the new password twice, one line each, on standard input")
		}
		lines[i] = strings.TrimRight(line, "\r\n")
	}
	return lines[0], lines[1], nil
}

func auditVerify(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := dataFlag(fs)
	expectHead := fs.String("expect-head", "", "SEQ:HASH of a head kept from an earlier verification or checkpoint; the chain must still hold it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var expect store.ChainMark
	if *expectHead != "" {
		var ok bool
		if expect, ok = parseHead(*expectHead); !ok {
			fmt.Fprintf(stderr, "ramconsole: --expect-head %q: use SEQ:HASH (a seq from 1 and the event's 64-character hex hash)\n", *expectHead)
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
	var rep store.ChainReport
	if expect.Seq > 0 {
		rep, err = st.VerifyChainExpecting(ctx, expect)
	} else {
		rep, err = st.VerifyChain(ctx)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ramconsole:", err)
		return 1
	}
	if !rep.OK {
		id := rep.EventID
		if id == "" {
			id = "unknown"
		}
		fmt.Fprintf(stdout, "audit chain BROKEN at event seq %d (eventId %s): %s\n", rep.BrokenAt, id, rep.Reason)
		return 1
	}
	if rep.Checkpoint > 0 {
		fmt.Fprintf(stdout, "audit chain intact: %d events verified after the retention checkpoint at seq %d\n", rep.Events, rep.Checkpoint)
	} else {
		fmt.Fprintf(stdout, "audit chain intact: %d events verified\n", rep.Events)
	}
	if rep.Anchor > 0 {
		fmt.Fprintf(stdout, "events before seq %d are plain SHA-256 (written before the chain was keyed); the keyed chain starts at the re-anchor, seq %d of %s\n",
			rep.Anchor, rep.Anchor, rep.AnchorTime)
	}
	if rep.HeadCheckpoint > 0 {
		fmt.Fprintf(stdout, "reaches the newest signed head checkpoint (seq %d)\n", rep.HeadCheckpoint)
	}
	if expect.Seq > 0 {
		fmt.Fprintf(stdout, "holds the expected head %d:%s\n", expect.Seq, expect.Hash)
	}
	if rep.Head.Seq > 0 {
		fmt.Fprintf(stdout, "head: %d:%s (keep it to check later with --expect-head)\n", rep.Head.Seq, rep.Head.Hash)
	}
	return 0
}

// parseHead reads SEQ:HASH.
func parseHead(v string) (store.ChainMark, bool) {
	seqText, hash, ok := strings.Cut(strings.TrimSpace(v), ":")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil || seq <= 0 || len(hash) != 64 {
		return store.ChainMark{}, false
	}
	if _, err := hex.DecodeString(hash); err != nil {
		return store.ChainMark{}, false
	}
	return store.ChainMark{Seq: seq, Hash: strings.ToLower(hash)}, true
}

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

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// policyCommand runs `ramconsole policy validate|eval`: exit 0 when a
// document is valid or a request allowed, 1 otherwise, 2 on bad usage.
func policyCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "validate":
		fs := flag.NewFlagSet("policy validate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		trust := fs.Bool("trust", false, "the document is a role's trust policy")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, "usage: ramconsole policy validate [--trust] FILE")
			return 2
		}
		file := fs.Arg(0)
		text, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintln(stderr, "ramconsole:", err)
			return 2
		}
		parse := policy.Parse
		if *trust {
			parse = policy.ParseTrust
		}
		if _, err := parse(string(text)); err != nil {
			printPolicyProblems(stdout, file, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s: valid\n", file)
		return 0
	case "eval":
		fs := flag.NewFlagSet("policy eval", flag.ContinueOnError)
		fs.SetOutput(stderr)
		var files, resources, contexts listFlag
		fs.Var(&files, "policy", "policy document file (repeatable)")
		fs.Var(&resources, "resource", "resource ARN (repeatable)")
		fs.Var(&contexts, "context", "condition key=value (repeatable)")
		action := fs.String("action", "", "the action, e.g. ram:CreateUser")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if len(files) == 0 || *action == "" || len(resources) == 0 {
			fmt.Fprintln(stderr, "usage: ramconsole policy eval --policy FILE... --action A --resource R... [--context k=v]...")
			return 2
		}
		var compiled []*policy.Compiled
		for _, f := range files {
			text, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintln(stderr, "ramconsole:", err)
				return 2
			}
			doc, err := policy.Parse(string(text))
			if err != nil {
				printPolicyProblems(stderr, f, err)
				return 2
			}
			compiled = append(compiled, policy.Compile(policy.Source{Type: "Custom", Name: f, Version: "v1"}, doc))
		}
		var pc policy.Context
		for _, kv := range contexts {
			k, v, err := policy.ParseContextArg(kv)
			if err != nil {
				fmt.Fprintln(stderr, "ramconsole:", err)
				return 2
			}
			pc.Set(k, v)
		}
		res := policy.NewSet(compiled...).Explain(&policy.Request{Action: *action, Resources: resources, Context: &pc})
		if err := res.WriteText(stdout); err != nil {
			fmt.Fprintln(stderr, "ramconsole:", err)
			return 2
		}
		if res.Decision != policy.Allow {
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "ramconsole: unknown policy command %q\n", args[0])
	return 2
}

func printPolicyProblems(w io.Writer, file string, err error) {
	var ve *policy.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Fprintf(w, "%s: %s\n", file, p)
		}
		return
	}
	fmt.Fprintf(w, "%s: %v\n", file, err)
}

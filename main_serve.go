// ramconsole serve: the console, the OpenAPI and the gateway, and their
// background work (audit checkpoints, session sweeps, retention).

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ramconsole/ram"
	"ramconsole/store"
	"ramconsole/web"
)

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
	publicURL := fs.String("public-url", envOr("RAMCONSOLE_PUBLIC_URL", ""),
		"the address people and apps reach the console at, e.g. https://ram.example.com (security keys need it)")
	outboundProxy := fs.String("outbound-proxy", envOr("RAMCONSOLE_OUTBOUND_PROXY", ""),
		"proxy for fetching OIDC identity providers' discovery and keys, e.g. http://proxy.internal:3128 (default: connect directly; HTTP(S)_PROXY are never read)")
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
	if *publicURL != "" {
		if _, err := ram.ParsePublicURL(*publicURL); err != nil {
			return err
		}
		if *consoleURL == "" {
			*consoleURL = strings.TrimSuffix(*publicURL, "/")
		}
	}
	var proxyURL *url.URL // --outbound-proxy: OIDC issuers are fetched through it
	if *outboundProxy != "" {
		u, err := url.Parse(*outboundProxy)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5") || u.Host == "" {
			return fmt.Errorf("--outbound-proxy %q must be a proxy URL like http://proxy.internal:3128", *outboundProxy)
		}
		proxyURL = u
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
	if err := svc.SetPublicURL(*publicURL); err != nil {
		return err
	}
	svc.SetOutboundProxy(proxyURL)
	// The OpenID issuer: the public URL, else the console URL, else the
	// listening address (SPEC §17.1).
	switch {
	case *publicURL != "":
		svc.SetIssuer(*publicURL)
	case *consoleURL != "":
		svc.SetIssuer(*consoleURL)
	case *tlsCert != "":
		svc.SetIssuer("https://" + *addr)
	default:
		svc.SetIssuer("http://" + *addr)
	}
	if _, err := svc.JWKS(ctx); err != nil { // the first signing key, at first start
		return err
	}
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
	svc.SetAuditRetention(retention)
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

// every runs fn each period until ctx ends.
func every(ctx context.Context, period time.Duration, fn func()) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}

// checkpointAuditLog signs the audit chain's head every minute when events
// were added since the last checkpoint.
func checkpointAuditLog(ctx context.Context, st *store.Store, svc *ram.Service, log *slog.Logger) {
	every(ctx, auditCheckpointEvery, func() { writeAuditCheckpoint(ctx, st, svc, log, false) })
}

// verifyAuditLog verifies the whole audit chain every hour for the audit
// page, which otherwise checks only the events added since its last view.
func verifyAuditLog(ctx context.Context, svc *ram.Service, log *slog.Logger) {
	every(ctx, ram.FullVerifyEvery, func() {
		if err := svc.VerifyAuditChainFully(ctx); err != nil && ctx.Err() == nil {
			log.Error("audit verification", "error", err)
		}
	})
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
	every(ctx, 10*time.Minute, func() {
		if _, err := st.DeleteExpiredSessions(ctx); err != nil && ctx.Err() == nil {
			log.Error("sweep sessions", "error", err)
		}
	})
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
	every(ctx, time.Hour, prune)
}

package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	neturl "net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL (SPEC §14). The store's methods write their SQL once, in the
// dialect SQLite and PostgreSQL share; the few places where they differ are
// bridged here, below database/sql: a connector wraps pgx's stdlib driver
// and rewrites each statement the first time it sees it (placeholders `?`
// and `?N` become `$N`, `INSERT OR FAIL` a plain INSERT, `group_concat`
// `string_agg`) and hands booleans over as the integers the schema keeps
// them as. What cannot be rewritten (a row id read back, the sequence
// behind events.seq, a read snapshot) asks Store.pg.

// IsPostgres reports whether database names a PostgreSQL server
// (postgres:// or postgresql://).
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// WithDatabase stores in the PostgreSQL database at url instead of the
// data directory's SQLite file; an empty url keeps SQLite.
func WithDatabase(url string) Option {
	return func(o *options) { o.database = url }
}

// openPostgres opens a pool of connections to the server at url.
func openPostgres(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url) // its errors show the URL with the password masked
	if err != nil {
		return nil, fmt.Errorf("store: database URL: %w", err)
	}
	// Defaults the URL may override: a server that does not answer is
	// known within seconds (a 503, not a hung request), and a node cut off
	// in the middle of a write cannot hold the write lock for longer than
	// idle_in_transaction_session_timeout.
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 5 * time.Second
	}
	for name, value := range map[string]string{"statement_timeout": "30s", "idle_in_transaction_session_timeout": "30s"} {
		if _, ok := cfg.RuntimeParams[name]; !ok {
			cfg.RuntimeParams[name] = value
		}
	}
	db := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxLifetime(30 * time.Minute) // after a failover, connections move to the new primary
	return db, nil
}

type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{conn.(*stdlib.Conn)}, nil
}

// pgConn is pgx's connection with the statements rewritten.
type pgConn struct{ *stdlib.Conn }

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(pgSQL(query))
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, pgSQL(query))
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, pgSQL(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, pgSQL(query), args)
}

// CheckNamedValue hands booleans over as 0 or 1: the schema keeps flags in
// integer columns, as SQLite does.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
	}
	return c.Conn.CheckNamedValue(nv)
}

var unaryPlus = regexp.MustCompile(`(\s)\+([a-z_])`)

var pgRewritten sync.Map // SQLite-dialect query → PostgreSQL's

// pgSQL rewrites a statement written for SQLite into PostgreSQL's dialect.
func pgSQL(query string) string {
	if v, ok := pgRewritten.Load(query); ok {
		return v.(string)
	}
	out := rewritePG(query)
	pgRewritten.Store(query, out)
	return out
}

func rewritePG(query string) string {
	q := strings.ReplaceAll(query, "INSERT OR FAIL INTO", "INSERT INTO")
	q = strings.ReplaceAll(q, "group_concat(", "string_agg(")
	// A unary + that keeps SQLite's planner off a column's index (the
	// audit filters) means nothing to PostgreSQL's, and text has no +.
	q = unaryPlus.ReplaceAllString(q, "$1$2")
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	inQuote := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case c == '?' && !inQuote:
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 { // ?N
				b.WriteString(q[i+1 : j])
				i = j - 1
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pgUniqueViolation reports PostgreSQL's unique_violation.
func pgUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// writeLockKey is the advisory lock every write transaction on PostgreSQL
// takes first (docs/decisions.md): writes are serial across all nodes, as
// SQLite's single writer makes them on one, so the audit chain has one head
// and one order, and a check made inside a write (a limit, a name taken)
// still holds at its commit.
const writeLockKey = 0x72616d636f6e // "ramcon"

// insertID runs an INSERT in the transaction and returns the new row's
// column col, its id (RETURNING, which both engines understand). Unless
// quiet, the write moves Generation as ExecContext's do.
func (tx *Tx) insertID(ctx context.Context, quiet bool, col, query string, args ...any) (int64, error) {
	if !quiet {
		tx.changed = true
	}
	var id int64
	err := tx.Tx.QueryRowContext(ctx, query+" RETURNING "+col, args...).Scan(&id)
	return id, err
}

// openPG opens the store on PostgreSQL.
func openPG(ctx context.Context, url string, now Clock, masterKey []byte) (*Store, error) {
	db, err := openPostgres(url)
	if err != nil {
		return nil, err
	}
	s := &Store{write: db, read: db, now: now, writeStmts: map[string]*sql.Stmt{}, keys: newChainKeys(masterKey), pg: true, url: url}
	s.Reads = Reads{q: db, store: s}
	fail := func(err error) (*Store, error) {
		s.Close()
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		return fail(fmt.Errorf("store: database: %w", err))
	}
	if err := s.migrate(ctx); err != nil {
		return fail(err)
	}
	for _, q := range append(append([]string{qChainHead, qCheckpointHead}, accessWriterHot...), qInsertEventsOf...) {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return fail(fmt.Errorf("store: prepare: %w", err))
		}
		s.writeStmts[q] = st
	}
	if err := s.CatchUpAccess(ctx); err != nil {
		return fail(err)
	}
	if err := s.startPoll(ctx); err != nil {
		return fail(err)
	}
	return s, nil
}

// readSnapshot is the options of a read transaction that sees one
// snapshot: SQLite's read transactions do; PostgreSQL's need REPEATABLE READ.
func (s *Store) readSnapshot() *sql.TxOptions {
	if s.pg {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}

// qMaxSeqEver is the highest events.seq ever handed out.
func (s *Store) qMaxSeqEver() string {
	if s.pg {
		return "SELECT n FROM events_seq WHERE id = 1"
	}
	return "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)"
}

// Engine names the storage engine: "sqlite" or "postgres".
func (s *Store) Engine() string {
	if s.pg {
		return "postgres"
	}
	return "sqlite"
}

// OpenSQL opens the database itself, behind the store's methods — for host
// tools and for tests that tamper with it: the SQLite file of dataDir, or
// the PostgreSQL database at database, whose statements are then written in
// SQLite's dialect as the store's are.
func OpenSQL(dataDir, database string) (*sql.DB, error) {
	if IsPostgres(database) {
		return openPostgres(database)
	}
	return sql.Open("sqlite", "file:"+filepath.Join(dataDir, DBFile)+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
}

// ErrUnavailable marks an error of a database that does not answer.
var ErrUnavailable = errors.New("store: the database is unavailable")

// IsUnavailable reports whether err comes from a database that cannot be
// reached (down, restarting, the network between): the request that met it
// is answered 503 and may be retried; nothing was decided without it.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 08: connection exception; 57P01–57P03: shutting down, cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return pgconn.Timeout(err) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || strings.Contains(err.Error(), "conn closed")
}

// On PostgreSQL an OpenAPI read's record is committed before the call is
// answered (there is no journal in a data directory: SPEC §14). Records
// queued while a fold is in flight wait for the next one, which takes them
// all: one transaction — one write lock, one commit — for every call that
// arrived meanwhile, in the order they were queued (group commit).
type pgBatcher struct {
	mu      sync.Mutex
	pending []queued
	waiters []chan error
	busy    bool
}

// queuePG adds a record to the next fold and returns once it is committed.
func (s *Store) queuePG(ctx context.Context, q queued) error {
	ch := make(chan error, 1)
	b := &s.batch
	b.mu.Lock()
	b.pending = append(b.pending, q)
	b.waiters = append(b.waiters, ch)
	if !b.busy {
		b.busy = true
		go s.foldPG()
	}
	b.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done(): // not acknowledged; the record may still be folded
		return ctx.Err()
	}
}

// foldPG folds queued records until none is left.
func (s *Store) foldPG() {
	b := &s.batch
	for {
		b.mu.Lock()
		items, waiters := b.pending, b.waiters
		b.pending, b.waiters = nil, nil
		if len(items) == 0 {
			b.busy = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := s.tx(ctx, func(tx *Tx) error { return tx.foldRecords(ctx, items, false) }, false)
		cancel()
		for _, w := range waiters {
			w <- err
		}
	}
}

// savepoint runs fn, a statement whose failure the caller recovers from
// inside the transaction (a conflict it retries): PostgreSQL aborts a
// whole transaction at a failed statement unless a savepoint limits it;
// SQLite does not, and needs none.
func (tx *Tx) savepoint(ctx context.Context, fn func() error) error {
	if !tx.store.pg {
		return fn()
	}
	if _, err := tx.Tx.ExecContext(ctx, "SAVEPOINT retry"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := tx.Tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT retry"); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := tx.Tx.ExecContext(ctx, "RELEASE SAVEPOINT retry")
	return err
}

// backupPG writes a consistent copy of the database to dst, a new file
// (0600, created exclusively), with pg_dump's custom format: restore it
// with pg_restore into an empty database. The password goes to pg_dump in
// its environment, never on its command line.
func (s *Store) backupPG(ctx context.Context, dst string) error {
	dump, err := exec.LookPath("pg_dump")
	if err != nil {
		if found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_dump"); len(found) > 0 {
			sort.Strings(found)
			dump, err = found[len(found)-1], nil
		}
	}
	if err != nil {
		return errors.New("backup: the database is on PostgreSQL and pg_dump was not found: install PostgreSQL's client tools (Debian: postgresql-client), or back it up with PostgreSQL's own means (pg_basebackup with WAL archiving); keep the master key apart from it")
	}
	u, err := neturl.Parse(s.url)
	if err != nil {
		return fmt.Errorf("backup: database URL: %w", err)
	}
	env := os.Environ()
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = neturl.User(u.User.Username())
		}
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("backup: %s already exists; not overwriting it (choose a new file name)", dst)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, dump, "--format=custom", "--no-owner", "--dbname="+u.String())
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, &stderr
	err = cmd.Run()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(dst)
		return fmt.Errorf("backup: pg_dump: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

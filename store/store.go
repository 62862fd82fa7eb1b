// Package store keeps ramconsole's data in SQLite (the default) or
// PostgreSQL: the account and its owner, sessions, MFA devices and the audit
// log. Each engine's specifics stay in this package (dialect.go) behind the
// same methods.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a write would break a uniqueness rule.
var ErrConflict = errors.New("store: conflict")

// DBFile is the database file's name inside the data directory.
const DBFile = "ramconsole.db"

//go:embed migrations/*.sql migrations_pg/*.sql
var migrationFiles embed.FS

// Clock tells the time. Tests inject one they can move.
type Clock func() time.Time

// Store is the SQLite database behind ramconsole: one writer connection for
// immediate write transactions and a pool of readers.
type Store struct {
	Reads
	write *sql.DB
	read  *sql.DB
	now   Clock
	path  string

	// Prepared statements: SQLite's parser is most of a simple query's
	// cost. Reads are prepared on the reader pool when first used; the
	// writer's hot statements are prepared at Open (preparing on the one
	// writer connection while a transaction holds it would wait forever).
	readStmts  sync.Map // query → *sql.Stmt
	writeStmts map[string]*sql.Stmt

	keys       *chainKeys // the audit chain's, derived from the master key
	journal    *journal   // nil when another process owns the data directory's journal, and on PostgreSQL
	nonceSwept atomic.Int64
	gen        atomic.Uint64
	// onChange are the functions OnChange registered.
	onChange atomic.Pointer[[]func(gen uint64)]

	// pg is set on PostgreSQL (dialect.go): read and write are one pool
	// and there is no journal.
	pg    bool
	url   string // the PostgreSQL database's
	batch pgBatcher

	// pollStop and pollDone stop and await pollGeneration; nil until it
	// runs.
	pollStop chan struct{}
	pollDone chan struct{}

	// accessKnown: resource sets the access rollups hold (access.go).
	accessKnown accessKnown
	closed      sync.Once

	foldObserver atomic.Pointer[FoldObserver] // stats.go
}

// queryer is what reads need: the reader pool or a write transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Reads holds the read methods. A Store serves them from its reader pool; a
// Tx from inside the write transaction, so a change sees its own writes.
type Reads struct {
	q     queryer
	store *Store
	tx    *sql.Tx // set inside a write transaction
}

// queryRow runs a one-row read with a prepared statement.
func (r Reads) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if r.tx == nil {
		// A one-row read takes microseconds: watching the request's
		// context for cancellation would cost more (a goroutine a query).
		ctx = context.WithoutCancel(ctx)
	}
	if st := r.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.q.QueryRowContext(ctx, query, args...)
}

// query runs a read with a prepared statement.
func (r Reads) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := r.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.q.QueryContext(ctx, query, args...)
}

// collect reads every row of rows with scan, which reads one row through
// the Scan it is given, and closes rows. No rows is a nil slice. A failed
// scan ends it with nil and scan's error as it is (scan wraps its own);
// rows.Err is returned unwrapped.
func collect[T any](rows *sql.Rows, scan func(scan func(dest ...any) error) (*T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// scanString reads a row of one text column.
func scanString(scan func(dest ...any) error) (*string, error) {
	var s string
	if err := scan(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// stmt returns the prepared statement of query for where r reads, or nil.
func (r Reads) stmt(ctx context.Context, query string) *sql.Stmt {
	if r.store == nil {
		return nil
	}
	if r.tx != nil {
		if st, ok := r.store.writeStmts[query]; ok {
			return r.tx.StmtContext(ctx, st)
		}
		return nil
	}
	if st, ok := r.store.readStmts.Load(query); ok {
		return st.(*sql.Stmt)
	}
	st, err := r.store.read.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	if prev, loaded := r.store.readStmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	return st
}

// writerHot are the statements written on every audited call, prepared on
// the writer at Open.
var writerHot = append(append([]string{qChainHead, qCheckpointHead, qLogNonces, qFoldMark, qBumpGeneration},
	accessWriterHot...), qInsertEventsOf...)

// exec runs a write of the audit trail's bookkeeping in the transaction,
// prepared when it is a hot one. Like quiet, it does not move Generation.
func (tx *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := tx.store.writeStmts[query]; ok {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// ExecContext runs a write in the transaction. Every write through it marks
// the transaction as one that moves Generation when it commits, so that
// whatever is cached of the data (compiled policy sets, AccessKeys) is
// re-read: a new write cannot forget to invalidate a cache.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	tx.changed = true
	return tx.Tx.ExecContext(ctx, query, args...)
}

// quiet runs a write that nothing cached depends on (audit bookkeeping,
// sign-in counters, TOTP steps, one-time downloads, key use times): it does
// not move Generation.
func (tx *Tx) quiet(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.Tx.ExecContext(ctx, query, args...)
}

// Open opens (creating if needed) the database in dataDir, applying pending
// migrations. dataDir is created 0700 and the database file kept 0600.
//
// The process that opens the directory first owns its audit journal (see
// journal.go); one opening it while another owns it writes its events
// directly and serves no API. OpenServer insists on owning it.
//
// The audit chain's keys are derived from the master key (WithMasterKey).
func Open(ctx context.Context, dataDir string, now Clock, opts ...Option) (*Store, error) {
	return open(ctx, dataDir, now, 0, opts)
}

// OpenServer opens the data directory for the server: it must own the
// audit journal, and waits up to 30 seconds for a CLI command holding it to
// finish. ErrJournalBusy when another process keeps it. On PostgreSQL there
// is no journal, and any number of servers share the database.
func OpenServer(ctx context.Context, dataDir string, now Clock, opts ...Option) (*Store, error) {
	s, err := open(ctx, dataDir, now, serverLockWait, opts)
	if err == nil && s.journal == nil && !s.pg {
		s.Close()
		return nil, ErrJournalBusy
	}
	return s, err
}

// serverLockWait is how long OpenServer waits for the journal's lock.
var serverLockWait = 30 * time.Second

func open(ctx context.Context, dataDir string, now Clock, wait time.Duration, opts []Option) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	masterKey, err := o.key(dataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	if err := os.Chmod(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("store: chmod data dir: %w", err)
	}
	if IsPostgres(o.database) {
		return openPG(ctx, o.database, now, masterKey)
	}
	if o.database != "" {
		return nil, errors.New("store: --database takes a postgres:// URL (without it, the data directory holds a SQLite database)")
	}
	path := filepath.Join(dataDir, DBFile)
	// Create the file ourselves so it is 0600 from its first byte.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: create database: %w", err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("store: chmod database: %w", err)
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open readers: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8) // keep them: opening a SQLite connection costs more than a query
	s := &Store{write: w, read: r, now: now, path: path, writeStmts: map[string]*sql.Stmt{}, keys: newChainKeys(masterKey)}
	s.Reads = Reads{q: r, store: s}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	for _, q := range writerHot {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("store: prepare: %w", err)
		}
		s.writeStmts[q] = st
	}
	if s.journal, err = openJournal(dataDir, wait); err != nil {
		s.Close()
		return nil, err
	}
	if s.journal != nil {
		if err := s.replayJournal(ctx); err != nil {
			s.Close()
			return nil, err
		}
		if err := s.loadNonces(ctx); err != nil {
			s.Close()
			return nil, err
		}
		if err := s.CatchUpAccess(ctx); err != nil {
			s.Close()
			return nil, err
		}
		s.journal.started = true
		go s.flusher()
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			_ = os.Chmod(path+suffix, 0o600)
		}
	}
	if err := s.startPoll(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close folds what the journal holds and closes the prepared statements
// and both connection pools.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		if s.pollStop != nil {
			close(s.pollStop)
			<-s.pollDone
		}
		jerr := s.closeJournal()
		s.readStmts.Range(func(_, st any) bool { st.(*sql.Stmt).Close(); return true })
		for _, st := range s.writeStmts {
			st.Close()
		}
		if s.pg { // one pool
			err = errors.Join(jerr, s.write.Close())
			return
		}
		err = errors.Join(jerr, s.read.Close(), s.write.Close())
	})
	return err
}

// Now is the store's clock, truncated to milliseconds as stored.
func (s *Store) Now() time.Time { return s.now().UTC() }

// Ping reports whether the database answers, within two seconds.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if s.pg {
		// A query, not only a connection: a server shutting down may still
		// accept one.
		var one int
		return s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}
	return s.read.PingContext(ctx)
}

// Backup writes a consistent copy of the live database to dst, a new file:
// it is created here, 0600 and exclusively (an existing file or symlink is
// refused), before SQLite writes into it, so the copy is never readable by
// others, not even for a moment.
func (s *Store) Backup(ctx context.Context, dst string) error {
	if s.pg {
		return s.backupPG(ctx, dst)
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("backup: %s already exists; not overwriting it (choose a new file name)", dst)
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	err = f.Chmod(0o600) // exactly 0600, whatever the umask took away
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// VACUUM INTO writes into an existing file when it is empty.
		_, err = s.write.ExecContext(ctx, "VACUUM INTO ?", dst)
	}
	if err != nil {
		_ = os.Remove(dst)
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	// In a transaction: on PostgreSQL it takes the write lock, so nodes
	// starting together migrate one after the other.
	err := s.tx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`)
		return err
	}, false)
	if err != nil {
		return fmt.Errorf("store: migrations table: %w", err)
	}
	dir, hooks := "migrations", migrationHooks
	if s.pg {
		dir, hooks = "migrations_pg", nil
	}
	names, err := fs.Glob(migrationFiles, dir+"/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, dir+"/")
		var version int
		if _, err := fmt.Sscanf(base, "%04d_", &version); err != nil {
			return fmt.Errorf("store: migration %s: bad name", base)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return err
		}
		err = s.tx(ctx, func(tx *Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			if hook := hooks[version]; hook != nil {
				if err := hook(tx, ctx); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
				version, base, s.Now().Format(time.RFC3339))
			return err
		}, false)
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", base, err)
		}
	}
	return nil
}

// Tx is an immediate write transaction. Every change and the audit event
// that records it are written through one Tx.
type Tx struct {
	*sql.Tx
	Reads
	store *Store
	now   time.Time
	marks []*EventMark // set once the transaction is committed
	// onEnd run once the transaction is committed (true) or rolled back.
	onEnd []func(committed bool)
	// changed is set by ExecContext: the transaction wrote something a
	// cache may hold.
	changed bool
}

// Now is the time the transaction started, by the store's clock.
func (tx *Tx) Now() time.Time { return tx.now }

// Update runs fn in an immediate write transaction, committing when fn
// returns nil and rolling back otherwise.
//
// The journal's queued records are folded first, in the same transaction:
// they were answered before this change began.
func (s *Store) Update(ctx context.Context, fn func(tx *Tx) error) error {
	return s.tx(ctx, fn, true)
}

// Generation counts the committed write transactions that changed data a
// cache may hold (every write through Tx.ExecContext; not the audit trail's
// bookkeeping): a value cached in memory with the generation it was read at
// (read before the value) is current while Generation has not moved. It
// moves after the commit and before Update returns, so a change is never
// acknowledged while a cache may still serve what it replaced. It also
// moves, within generationPoll, when another process's change moved the
// database's generation row: a CLI command next to a running server on
// SQLite, another node on PostgreSQL.
func (s *Store) Generation() uint64 { return s.gen.Load() }

// OnChange registers fn to run each time Generation moves, with the new
// generation: after a change of this process commits (before Update
// returns) and when another process's or node's change is seen. fn must be
// quick and must not write.
func (s *Store) OnChange(fn func(gen uint64)) {
	for {
		old := s.onChange.Load()
		var fns []func(uint64)
		if old != nil {
			fns = append(fns, *old...)
		}
		fns = append(fns, fn)
		if s.onChange.CompareAndSwap(old, &fns) {
			return
		}
	}
}

// moved moves Generation and tells the OnChange functions.
func (s *Store) moved() {
	gen := s.gen.Add(1)
	if fns := s.onChange.Load(); fns != nil {
		for _, fn := range *fns {
			fn(gen)
		}
	}
}

// qBumpGeneration moves the database's generation at the end of a write
// transaction that changed something a cache may hold.
const qBumpGeneration = "UPDATE store_generation SET n = n + 1 WHERE id = 1"

const qGeneration = "SELECT n FROM store_generation WHERE id = 1"

// generationPoll is how often a store reads the database's generation:
// another process's change reaches its caches within this (SPEC §13 and §14
// allow one second).
var generationPoll = 200 * time.Millisecond

// startPoll reads the database's generation and starts following it.
func (s *Store) startPoll(ctx context.Context) error {
	var n int64
	if err := s.read.QueryRowContext(ctx, qGeneration).Scan(&n); err != nil {
		return fmt.Errorf("store: generation: %w", err)
	}
	s.pollStop, s.pollDone = make(chan struct{}), make(chan struct{})
	go s.pollGeneration(n)
	return nil
}

// pollGeneration follows the database's generation: when another process
// (or this one) committed a change, Generation moves, and caches re-read.
// It reads through the reader pool, never holding the writer.
func (s *Store) pollGeneration(last int64) {
	defer close(s.pollDone)
	t := time.NewTicker(generationPoll)
	defer t.Stop()
	for {
		select {
		case <-s.pollStop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		var n int64
		err := s.read.QueryRowContext(ctx, qGeneration).Scan(&n)
		cancel()
		if err == nil && n != last {
			last = n
			s.moved()
		}
	}
}

func (s *Store) tx(ctx context.Context, fn func(tx *Tx) error, changes bool) (err error) {
	sqlTx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if s.pg {
		if _, err := sqlTx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", writeLockKey); err != nil {
			_ = sqlTx.Rollback()
			return fmt.Errorf("store: write lock: %w", err)
		}
	}
	tx := &Tx{Tx: sqlTx, Reads: Reads{q: sqlTx, store: s, tx: sqlTx}, store: s, now: s.Now()}
	var finish func(committed bool)
	defer func() {
		if changes && tx.changed {
			s.moved() // after the commit (or rollback): a reader that saw the old generation re-reads
		}
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			if finish != nil {
				finish(false)
			}
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
			for _, f := range tx.onEnd {
				f(false)
			}
		}
		if finish != nil {
			finish(err == nil)
		}
	}()
	if finish, err = tx.drain(ctx); err != nil {
		return err
	}
	if err = fn(tx); err != nil {
		return err
	}
	if changes && tx.changed {
		if _, err = tx.exec(ctx, qBumpGeneration); err != nil {
			return fmt.Errorf("store: generation: %w", err)
		}
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, m := range tx.marks {
		m.set.Store(true)
	}
	for _, f := range tx.onEnd {
		f(true)
	}
	return nil
}

// timeText formats t as stored: RFC 3339 UTC with milliseconds, which sorts
// lexically in time order.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func parseTime(s string) time.Time {
	if t, ok := parseStoredTime(s); ok {
		return t
	}
	t, _ := time.Parse("2006-01-02T15:04:05.000Z", s)
	return t
}

// parseStoredTime reads the fixed layout timeText writes, without
// time.Parse's generality (every row read has a few of these).
func parseStoredTime(s string) (time.Time, bool) {
	if len(s) != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' || s[23] != 'Z' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	y, mo, d, h, mi, sec, ms := num(0, 4), num(5, 2), num(8, 2), num(11, 2), num(14, 2), num(17, 2), num(20, 3)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || ms < 0 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, sec, ms*int(time.Millisecond), time.UTC)
	if t.Day() != d { // 31 February and the like: let time.Parse refuse it
		return time.Time{}, false
	}
	return t, true
}

func nullTime(s sql.NullString) time.Time {
	if !s.Valid || s.String == "" {
		return time.Time{}
	}
	return parseTime(s.String)
}

func timeOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return timeText(t)
}

// isUniqueViolation reports a unique or primary-key constraint refusing a
// write, on either engine, by the drivers' error codes.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return pgUniqueViolation(err)
}

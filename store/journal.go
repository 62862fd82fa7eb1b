package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The audit journal. An OpenAPI read (and a call refused before any
// operation ran) changes nothing, so its event need not share a transaction
// with a change. Such a call is answered once its record — the event, the
// nonce it used, the key's use — is in the journal: a file written before
// the answer, which the kernel keeps even when ramconsole is killed. The
// records are then folded into the database in batches: by a background
// flusher within milliseconds, and by every write transaction before its
// own change, so the hash chain keeps the order in which calls were
// answered and a change's nonce is durable with the change. At Open, records
// of a previous run not yet folded are folded first.
//
// Only the process that holds the journal's lock folds it; another process
// opening the same data directory (a CLI command next to a running server)
// writes its records directly.

// journalFlushDelay is how long the flusher lets records gather before it
// folds them; journalBatch folds at once. A record costs less in a larger
// fold (queued and folded, about 25 µs in folds of 1,024 against 30 µs in
// folds of 128: BenchmarkJournal); whoever reads events settles the
// journal first, so the delay is never seen, and the records are durable
// in the journal meanwhile.
const (
	journalFlushDelay = 50 * time.Millisecond
	journalBatch      = 4096
)

// journalSegmentSize is a segment's size. A segment is allocated on disk at
// this size and mapped into memory; a record is written by copying it
// there. Records folded already stay in the current segment until it is
// full and the next fold removes it; a replay starts after the place the
// last fold recorded (audit_journal_mark).
const journalSegmentSize = 4 << 20

const (
	journalPrefix = "audit-journal-"
	journalLock   = "audit-journal.lock"
)

// Record is what one OpenAPI call leaves to be folded: its event, unless
// the operation wrote it; the nonce its signature used; the key's use.
type Record struct {
	Event *Event
	// KeyID and Nonce: the nonce to keep until NonceExpires.
	KeyID        string
	Nonce        string
	NonceExpires time.Time
	// KeyUsed, when set, is the LastUsedDate to record for KeyID.
	KeyUsed time.Time
}

// queued is a record with its event's canonical body and where it ends in
// the journal.
type queued struct {
	Record
	body []byte
	at   journalPos
}

// journalPos is a place in the journal: a segment and an offset in it.
type journalPos struct {
	seg int64
	off int64
}

func (p journalPos) after(q journalPos) bool {
	return p.seg > q.seg || p.seg == q.seg && p.off > q.off
}

type journal struct {
	dir  string
	lock *os.File // held (flock) while this process owns the journal

	mu       sync.Mutex
	items    []queued
	f        *os.File // the segment records are appended to
	m        []byte   // f, mapped
	seg      int64    // its number
	oldest   int64    // the oldest segment still on disk
	size     int      // bytes written to m
	lastTime string   // the newest queued event time: queued times never go back

	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started bool // the flusher runs
	folding int  // takes not yet committed or given back (under mu)

	// foldMu is held from take until the fold is committed or its records
	// given back: a transaction that starts in between (the writer
	// connection is free once the first rolled back) waits, so it neither
	// folds later records before them nor removes their segment.
	foldMu  sync.Mutex
	closing bool // under mu: Close has ended the journal
	closed  sync.Once

	nonces nonceSet
}

// ErrJournalBusy is returned by OpenServer when another process holds the
// data directory's journal.
var ErrJournalBusy = errors.New("store: another ramconsole process is using this data directory (it holds " + journalLock + ")")

// openJournal takes the journal's lock in dir, waiting up to wait for it.
// It returns nil (no error) when another process holds it still.
func openJournal(dir string, wait time.Duration) (*journal, error) {
	lf, err := os.OpenFile(filepath.Join(dir, journalLock), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: journal lock: %w", err)
	}
	deadline := time.Now().Add(wait)
	for {
		err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			lf.Close()
			return nil, fmt.Errorf("store: journal lock: %w", err)
		}
		if time.Now().After(deadline) {
			lf.Close()
			return nil, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &journal{dir: dir, lock: lf, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		nonces: nonceSet{buckets: map[int64]map[nonceKey]struct{}{}}}, nil
}

// segments lists the journal's segment numbers, oldest first.
func (j *journal) segments() ([]int64, error) {
	ents, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("store: journal: %w", err)
	}
	var out []int64
	for _, e := range ents {
		if n, ok := strings.CutPrefix(e.Name(), journalPrefix); ok {
			if v, err := strconv.ParseInt(n, 10, 64); err == nil {
				out = append(out, v)
			}
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a] < out[b] })
	return out, nil
}

func (j *journal) segPath(n int64) string {
	return filepath.Join(j.dir, fmt.Sprintf("%s%016d", journalPrefix, n))
}

// startSegment creates segment n, with room for at least need bytes, and
// maps it. Its blocks are allocated first: a write into the mapping can
// then not fail for want of disk space (which would kill the process).
func (j *journal) startSegment(n int64, need int) error {
	size := max(journalSegmentSize, need)
	f, err := os.OpenFile(j.segPath(n), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("store: journal segment: %w", err)
	}
	fail := func(err error) error {
		f.Close()
		os.Remove(j.segPath(n))
		return fmt.Errorf("store: journal segment: %w", err)
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(size)); err != nil {
		if !errors.Is(err, syscall.EOPNOTSUPP) && !errors.Is(err, syscall.ENOSYS) {
			return fail(err)
		}
		// A filesystem without fallocate: write the zeros ourselves.
		if _, err := f.Write(make([]byte, size)); err != nil {
			return fail(err)
		}
	}
	// MAP_POPULATE maps the segment's pages at once: faulting them in one
	// by one, as records reach them, cost more (under the journal's lock).
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED|syscall.MAP_POPULATE)
	if err != nil {
		return fail(err)
	}
	j.f, j.m, j.seg, j.size = f, m, n, 0
	return nil
}

// endSegment unmaps the current segment and cuts it to what was written.
func (j *journal) endSegment() error {
	if j.f == nil {
		return nil
	}
	err := syscall.Munmap(j.m)
	err = errors.Join(err, j.f.Truncate(int64(j.size)), j.f.Close())
	j.f, j.m = nil, nil
	if err != nil {
		return fmt.Errorf("store: journal segment: %w", err)
	}
	return nil
}

// append writes a record into the current segment, starting the next one
// when it is full.
func (j *journal) append(rec []byte) error {
	if j.closing {
		return errors.New("store: journal closed")
	}
	if j.f == nil { // starting the next segment failed (a full disk): try again
		if err := j.startSegment(j.seg+1, len(rec)); err != nil {
			return err
		}
	}
	if j.size+len(rec) > len(j.m) {
		if err := j.endSegment(); err != nil {
			return err
		}
		if err := j.startSegment(j.seg+1, len(rec)); err != nil {
			return err
		}
	}
	// A store into a shared mapping is in the kernel's page cache at once:
	// it survives the process being killed.
	copy(j.m[j.size:], rec)
	j.size += len(rec)
	return nil
}

// Record framing: length (4 bytes) and CRC-32C (4 bytes) of the payload,
// then the payload: key id, nonce (each a 2-byte length and bytes), nonce
// expiry and key use (Unix milliseconds, 8 bytes each, 0 for none), the
// event body (4-byte length and bytes, empty for none).
var crcTable = crc32.MakeTable(crc32.Castagnoli)

func appendRecord(buf []byte, q *queued) []byte {
	start := len(buf)
	buf = append(buf, 0, 0, 0, 0, 0, 0, 0, 0)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(q.KeyID)))
	buf = append(buf, q.KeyID...)
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(q.Nonce)))
	buf = append(buf, q.Nonce...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(unixMilli(q.NonceExpires)))
	buf = binary.BigEndian.AppendUint64(buf, uint64(unixMilli(q.KeyUsed)))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(q.body)))
	buf = append(buf, q.body...)
	payload := buf[start+8:]
	binary.BigEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(payload, crcTable))
	return buf
}

func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMilli(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(v)).UTC()
}

// readRecords decodes a segment. Zeros (its unused end) or a torn or
// corrupt record (a write cut short by a power loss: never acknowledged)
// end it.
func readRecords(data []byte) []queued {
	var out []queued
	total := len(data)
	for len(data) >= 8 {
		n := binary.BigEndian.Uint32(data)
		if n == 0 || uint64(n) > uint64(len(data)-8) || crc32.Checksum(data[8:8+n], crcTable) != binary.BigEndian.Uint32(data[4:]) {
			break
		}
		p := data[8 : 8+n]
		data = data[8+n:]
		var q queued
		var ok bool
		if q.KeyID, p, ok = cutField16(p); !ok {
			break
		}
		if q.Nonce, p, ok = cutField16(p); !ok {
			break
		}
		if len(p) < 20 {
			break
		}
		q.NonceExpires, q.KeyUsed = fromMilli(binary.BigEndian.Uint64(p)), fromMilli(binary.BigEndian.Uint64(p[8:]))
		bl := binary.BigEndian.Uint32(p[16:])
		if uint64(bl) != uint64(len(p)-20) {
			break
		}
		if bl > 0 {
			q.body = append([]byte(nil), p[20:]...)
			q.Event = new(Event)
			if err := json.Unmarshal(q.body, q.Event); err != nil {
				break
			}
		}
		q.at.off = int64(total - len(data))
		out = append(out, q)
	}
	return out
}

func cutField16(p []byte) (string, []byte, bool) {
	if len(p) < 2 {
		return "", nil, false
	}
	n := int(binary.BigEndian.Uint16(p))
	if len(p) < 2+n {
		return "", nil, false
	}
	return string(p[2 : 2+n]), p[2+n:], true
}

// Queue records what an OpenAPI call leaves for the audit log and returns
// once it is in the journal (or, when this process does not own the
// journal, in the database). The event's time is set here.
func (s *Store) Queue(ctx context.Context, rec Record) (err error) {
	j := s.journal
	q := queued{Record: rec}
	if rec.Event != nil {
		if settle := attachAuthorizations(ctx, rec.Event); settle != nil {
			defer func() { settle(err == nil) }()
		}
		if rec.Event.EventTime == "" {
			rec.Event.EventTime = timeText(s.Now())
		}
		body, err := encodeEvent(rec.Event)
		if err != nil {
			return fmt.Errorf("store: encode event: %w", err)
		}
		q.body = body
	}
	if j == nil {
		var err error
		if s.pg {
			err = s.queuePG(ctx, q)
		} else {
			err = s.tx(ctx, func(tx *Tx) error { return tx.foldRecords(ctx, []queued{q}, false) }, false)
		}
		if m := markOf(ctx); m != nil && err == nil && q.Event != nil {
			m.set.Store(true)
		}
		return err
	}
	// The record is framed before taking the lock; under it, only when a
	// concurrent call took a later time first is it framed again.
	bp := recordBuffers.Get().(*[]byte)
	defer recordBuffers.Put(bp)
	*bp = appendRecord((*bp)[:0], &q)
	j.mu.Lock()
	defer j.mu.Unlock()
	if q.Event != nil {
		if q.Event.EventTime < j.lastTime {
			q.Event.EventTime = j.lastTime
			body, err := encodeEvent(q.Event)
			if err != nil {
				return fmt.Errorf("store: encode event: %w", err)
			}
			q.body = body
			*bp = appendRecord((*bp)[:0], &q)
		}
		j.lastTime = q.Event.EventTime
	}
	if err := j.append(*bp); err != nil {
		return err
	}
	q.at = journalPos{j.seg, int64(j.size)}
	j.items = append(j.items, q)
	if m := markOf(ctx); m != nil && q.Event != nil {
		m.set.Store(true)
	}
	if len(j.items) == 1 || len(j.items) == journalBatch {
		select {
		case j.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// recordBuffers frame records before they are copied into the journal.
var recordBuffers = sync.Pool{New: func() any { return new([]byte) }}

// take hands the queued records to a fold. It returns the current segment
// number: once the fold is committed, the segments before it hold nothing
// that is not in the database. put gives the records back when the fold
// failed.
func (j *journal) take() ([]queued, int64, error) {
	j.foldMu.Lock()
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.items) == 0 {
		j.foldMu.Unlock()
		return nil, 0, nil
	}
	items := j.items
	j.items = make([]queued, 0, min(cap(items), journalBatch)) // the next batch is likely as large
	j.folding++
	return items, j.seg, nil
}

func (j *journal) put(items []queued) {
	j.mu.Lock()
	j.items = append(items, j.items...)
	j.folding--
	j.mu.Unlock()
	j.foldMu.Unlock()
}

// folded ends a take whose records are committed, removing the segments
// before current.
func (j *journal) folded(current int64) {
	j.removeBefore(current)
	j.mu.Lock()
	j.folding--
	j.mu.Unlock()
	j.foldMu.Unlock()
}

// removeBefore deletes the segments before n, whose records are all in the
// database now (under foldMu, or at Close).
func (j *journal) removeBefore(n int64) {
	for ; j.oldest < n; j.oldest++ {
		if err := os.Remove(j.segPath(j.oldest)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return // tried again after the next fold
		}
	}
}

// pending reports whether records are queued or being folded.
func (j *journal) pending() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.pendingLocked()
}

func (j *journal) pendingLocked() bool { return len(j.items) > 0 || j.folding > 0 }

// Settle folds the queued records now (or waits for the fold under way),
// so what follows reads them.
func (s *Store) Settle(ctx context.Context) error {
	if s.journal == nil || !s.journal.pending() {
		return nil
	}
	return s.tx(ctx, func(*Tx) error { return nil }, false)
}

// flusher folds queued records once journalFlushDelay has passed since the
// first of them was queued, or at once when journalBatch are waiting.
func (s *Store) flusher() {
	j := s.journal
	defer close(j.done)
	retry := false
	for {
		if !retry {
			select {
			case <-j.stop:
				return
			case <-j.wake: // the first record after a fold
			}
		}
		select {
		case <-j.stop:
			return
		case <-j.wake: // a full batch
		case <-time.After(journalFlushDelay):
		}
		// On failure the records stay queued and in the journal; try again
		// a little later.
		retry = s.settleObserved() != nil
		if retry {
			select {
			case <-j.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
}

// foldRecords writes queued records into the transaction: events onto the
// chain (skipping events already there when replaying), nonces into their
// log, keys' use.
func (tx *Tx) foldRecords(ctx context.Context, items []queued, replay bool) error {
	prev, headTime, err := tx.chainHead(ctx)
	if err != nil {
		return err
	}
	if err := tx.sweepNonces(ctx); err != nil {
		return err
	}
	if err := tx.logNonces(ctx, items); err != nil {
		return err
	}
	var roll *rollup // the batch's decisions, counted after its events
	rp := foldRows.Get().(*[]any)
	rows := (*rp)[:0]
	defer func() {
		if cap(rows) > journalBatch*eventColumns {
			return // a replay's: too large to keep
		}
		clear(rows) // keep no event alive in the pool
		*rp = rows[:0]
		foldRows.Put(rp)
	}()
	for i := range items {
		q := &items[i]
		if !q.KeyUsed.IsZero() {
			if err := tx.markKeyUsed(ctx, q.KeyID, q.KeyUsed); err != nil {
				return err
			}
		}
		if q.Event == nil {
			continue
		}
		if replay {
			var one int
			err := tx.QueryRowContext(ctx, "SELECT 1 FROM events WHERE event_id = ?", q.Event.EventID).Scan(&one)
			if err == nil {
				continue
			}
		}
		ev, body := q.Event, q.body
		if ev.EventTime < headTime {
			// Clamped on a copy: if this fold rolls back, the record is
			// folded again from what was queued.
			clamped := *ev
			clamped.EventTime = headTime
			if body, err = encodeEvent(&clamped); err != nil {
				return fmt.Errorf("store: encode event: %w", err)
			}
			ev = &clamped
		}
		hash := tx.store.ChainHash(prev, body)
		rows = appendEventRow(rows, ev, body, prev, hash)
		prev, headTime = hash, ev.EventTime
		if auths := authorizationsOf(ev, body); len(auths) > 0 {
			if roll == nil {
				roll = newRollup()
			}
			roll.add(ev.EventTime, ev.SourceIPAddress, auths)
		}
	}
	if last := items[len(items)-1].at; last.seg > 0 {
		// Where the journal is folded up to: a replay starts after it.
		if _, err := tx.exec(ctx, qFoldMark, last.seg, last.off); err != nil {
			return fmt.Errorf("store: journal mark: %w", err)
		}
	}
	if err := tx.insertEventRows(ctx, rows); err != nil {
		return err
	}
	if roll != nil {
		return roll.write(ctx, tx, 0)
	}
	return nil
}

// foldRows are the column values of a fold's rows, kept between folds.
var foldRows = sync.Pool{New: func() any { return new([]any) }}

// drain folds the journal's queued records at the start of a write
// transaction; after the transaction, finish removes their segments or, if
// it rolled back, queues them again.
func (tx *Tx) drain(ctx context.Context) (finish func(committed bool), err error) {
	j := tx.store.journal
	if j == nil {
		return nil, nil
	}
	items, current, err := j.take()
	if err != nil || items == nil {
		return nil, err
	}
	finish = func(committed bool) {
		if committed {
			j.folded(current)
		} else {
			j.put(items)
		}
	}
	if err := tx.foldRecords(ctx, items, false); err != nil {
		finish(false)
		return nil, err
	}
	return finish, nil
}

// replayJournal folds the records a previous run left in the journal,
// then starts a fresh segment.
func (s *Store) replayJournal(ctx context.Context) error {
	j := s.journal
	segs, err := j.segments()
	if err != nil {
		return err
	}
	var mark journalPos
	err = s.write.QueryRowContext(ctx, "SELECT segment, byte_offset FROM audit_journal_mark WHERE id = 1").Scan(&mark.seg, &mark.off)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: journal mark: %w", err)
	}
	var items []queued
	for _, n := range segs {
		if n < mark.seg {
			continue // folded entirely
		}
		f, err := os.Open(j.segPath(n))
		if err != nil {
			return fmt.Errorf("store: journal: %w", err)
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("store: journal: %w", err)
		}
		for _, q := range readRecords(data) {
			if q.at.seg = n; q.at.after(mark) {
				items = append(items, q)
			}
		}
	}
	if len(items) > 0 {
		err := s.tx(ctx, func(tx *Tx) error { return tx.foldRecords(ctx, items, true) }, false)
		if err != nil {
			return fmt.Errorf("store: replay journal: %w", err)
		}
	}
	for _, n := range segs {
		if err := os.Remove(j.segPath(n)); err != nil {
			return fmt.Errorf("store: journal: %w", err)
		}
	}
	// Numbers only grow, so the mark never points past a new segment.
	last := mark.seg
	if len(segs) > 0 {
		last = max(last, segs[len(segs)-1])
	}
	j.oldest = last + 1
	return j.startSegment(last+1, 0)
}

// closeJournal stops the flusher, folds what is queued and releases the
// journal.
func (s *Store) closeJournal() error {
	j := s.journal
	if j == nil {
		return nil
	}
	var err error
	j.closed.Do(func() { err = s.shutJournal() })
	return err
}

func (s *Store) shutJournal() error {
	j := s.journal
	if j.started {
		close(j.stop)
		<-j.done
	}
	err := s.Settle(context.Background())
	j.mu.Lock()
	seg, empty := j.seg, err == nil && !j.pendingLocked()
	j.closing = true
	err = errors.Join(err, j.endSegment())
	j.mu.Unlock()
	if empty { // every record is in the database
		j.removeBefore(seg + 1)
	}
	j.lock.Close() // releases the flock
	return err
}

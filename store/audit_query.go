package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Results an EventFilter can select.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
)

// RootUserName is the userName of the owner's events.
const RootUserName = "root"

// EventFilter selects audit events; zero fields match everything.
type EventFilter struct {
	// UserName is a RAM user's name, or RootUserName for the owner.
	UserName    string
	EventName   string
	Result      string // "", ResultSuccess or ResultFailure
	SourceIP    string
	AccessKeyID string
	// ServiceName is the events' serviceName ("Ram", "Sts", a resource
	// service's code for the gateway's decisions), compared case-insensitively.
	ServiceName string
	// From is inclusive, To exclusive; zero means open.
	From, To time.Time
	// Before is the keyset cursor: only events with a smaller seq (0 = none).
	Before int64
	// Through bounds the set at a seq, inclusive (0 = none): an export lists
	// what existed when it was asked for.
	Through int64
}

// where builds the filter's SQL condition. Time bounds become seq bounds
// (event times never decrease along seq, so a binary search over seq finds
// them), so every filter is an index range ending at the cursor. empty
// reports that no event can match.
func (f EventFilter) where(ctx context.Context, q queryer) (cond string, args []any, empty bool, err error) {
	var conds []string
	add := func(c string, a ...any) {
		conds = append(conds, c)
		args = append(args, a...)
	}
	// One equality filter drives the query through its (column, seq) index,
	// the most selective one given; a unary + keeps SQLite from using the
	// others' indexes, which could mean walking, say, every failure to find
	// one user's.
	indexed := false
	col := func(name string) string {
		if indexed {
			return "+" + name
		}
		indexed = true
		return name
	}
	if f.AccessKeyID != "" {
		add(col("access_key_id")+" = ?", f.AccessKeyID)
	}
	switch {
	case f.UserName == RootUserName:
		add(col("user_name")+" = ? AND user_type = 'root-account'", RootUserName)
	case f.UserName != "":
		add(col("user_name")+" = ? AND user_type <> 'root-account'", f.UserName)
	}
	if f.SourceIP != "" {
		add(col("source_ip")+" = ?", f.SourceIP)
	}
	if f.EventName != "" {
		add(col("event_name")+" = ?", f.EventName)
	}
	if f.ServiceName != "" {
		add(col("service_name")+" = ?", canonicalServiceName(f.ServiceName))
	}
	switch f.Result {
	case ResultSuccess:
		add("+is_error = 0") // most events succeed: the seq order is the better path
	case ResultFailure:
		add(col("is_error") + " = 1")
	}
	if !f.From.IsZero() {
		lo, ok, err := firstSeqAt(ctx, q, timeText(f.From))
		if err != nil {
			return "", nil, false, err
		}
		if !ok {
			return "", nil, true, nil
		}
		add("seq >= ? AND event_time >= ?", lo, timeText(f.From))
	}
	if !f.To.IsZero() {
		end, ok, err := firstSeqAt(ctx, q, timeText(f.To))
		if err != nil {
			return "", nil, false, err
		}
		if ok {
			add("seq < ?", end)
		}
		add("event_time < ?", timeText(f.To))
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	if f.Through > 0 {
		add("seq <= ?", f.Through)
	}
	if len(conds) == 0 {
		return "1 = 1", nil, false, nil
	}
	return strings.Join(conds, " AND "), args, false, nil
}

// builtinServiceNames are the serviceName of ramconsole's own events, by
// their lower case; a resource service's code is lower case already.
var builtinServiceNames = map[string]string{"ram": "Ram", "sts": "Sts", "actiontrail": "ActionTrail", "gateway": "Gateway"}

// canonicalServiceName spells a service name as events record it, so the
// filter is an index range whatever case it was typed in.
func canonicalServiceName(name string) string {
	l := strings.ToLower(strings.TrimSpace(name))
	if b, ok := builtinServiceNames[l]; ok {
		return b
	}
	return l
}

// firstSeqAt returns the seq of the first event whose time is t or later
// (ok false when there is none): a binary search over seq, which needs no
// index of event times because they never decrease along seq.
func firstSeqAt(ctx context.Context, q queryer, t string) (seq int64, ok bool, err error) {
	var lo, hi sql.NullInt64
	if err := q.QueryRowContext(ctx, qSeqRange).Scan(&lo, &hi); err != nil {
		return 0, false, fmt.Errorf("store: events range: %w", err)
	}
	if !lo.Valid {
		return 0, false, nil
	}
	// at returns the first event at or after seq x (seqs may have gaps).
	at := func(x int64) (int64, string, error) {
		var s int64
		var et string
		err := q.QueryRowContext(ctx, "SELECT seq, event_time FROM events WHERE seq >= ? ORDER BY seq LIMIT 1", x).Scan(&s, &et)
		return s, et, err
	}
	// The smallest x in [lo, hi+1] whose first event at or after it is at
	// t or later (x = hi+1 has none: it counts as later).
	a, b := lo.Int64, hi.Int64+1
	for a < b {
		mid := a + (b-a)/2
		s, et, err := at(mid)
		if err != nil {
			return 0, false, fmt.Errorf("store: events by time: %w", err)
		}
		if et >= t {
			b = mid
		} else {
			a = s + 1
		}
	}
	if a > hi.Int64 {
		return 0, false, nil
	}
	s, _, err := at(a)
	if err != nil {
		return 0, false, fmt.Errorf("store: events by time: %w", err)
	}
	return s, true, nil
}

// qSeqRange is the first and last seq: two subqueries, because SQLite reads
// min and max off the primary key only when each is alone in its SELECT
// (together they scan the table).
const qSeqRange = "SELECT (SELECT min(seq) FROM events), (SELECT max(seq) FROM events)"

// EventPage is one page of the audit log, newest first.
type EventPage struct {
	Events []StoredEvent
	// Next is the cursor (EventFilter.Before) of the next page, 0 at the end.
	Next int64
}

// EventPage returns up to limit events matching f, newest first.
func (s *Store) EventPage(ctx context.Context, f EventFilter, limit int) (EventPage, error) {
	if err := s.Settle(ctx); err != nil {
		return EventPage{}, err
	}
	var page EventPage
	cond, args, empty, err := f.where(ctx, s.read)
	if err != nil {
		return page, fmt.Errorf("store: events: %w", err)
	}
	if empty {
		return page, nil
	}
	rows, err := s.read.QueryContext(ctx, "SELECT seq, body, prev_hash, hash FROM events WHERE "+cond+
		" ORDER BY seq DESC LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return page, fmt.Errorf("store: events: %w", err)
	}
	events, err := collect(rows, func(scan func(...any) error) (*StoredEvent, error) {
		var e StoredEvent
		if err := scan(&e.Seq, &e.Body, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		return &e, nil
	})
	if err != nil {
		return page, err
	}
	// The row after the page only tells that a next page starts there: it
	// is not decoded.
	if len(events) > limit {
		page.Next = events[limit-1].Seq
		events = events[:limit]
	}
	for i := range events {
		if err := decodeStoredEvent(&events[i]); err != nil {
			return page, err
		}
	}
	page.Events = events
	return page, nil
}

// RawEvent is an event as stored, for streaming: Body is only valid until
// the callback returns.
type RawEvent struct {
	Seq      int64
	Body     []byte
	PrevHash string
	Hash     string
}

// EachEvent calls fn for every event matching f, oldest first, from one
// database cursor: memory stays constant whatever the number of events.
// f.Before is ignored: an export is of the whole filtered set.
func (s *Store) EachEvent(ctx context.Context, f EventFilter, fn func(e *RawEvent) error) error {
	if err := s.Settle(ctx); err != nil {
		return err
	}
	f.Before = 0
	cond, args, empty, err := f.where(ctx, s.read)
	if err != nil {
		return fmt.Errorf("store: export events: %w", err)
	}
	if empty {
		return nil
	}
	rows, err := s.read.QueryContext(ctx, "SELECT seq, body, prev_hash, hash FROM events WHERE "+cond+" ORDER BY seq", args...)
	if err != nil {
		return fmt.Errorf("store: export events: %w", err)
	}
	defer rows.Close()
	var e RawEvent
	var body sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&e.Seq, &body, &e.PrevHash, &e.Hash); err != nil {
			return fmt.Errorf("store: export events: %w", err)
		}
		e.Body = body
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EventByID returns the event with eventId id.
func (s *Store) EventByID(ctx context.Context, id string) (*StoredEvent, error) {
	if err := s.Settle(ctx); err != nil {
		return nil, err
	}
	var e StoredEvent
	err := s.read.QueryRowContext(ctx, "SELECT seq, body, prev_hash, hash FROM events WHERE event_id = ?", id).
		Scan(&e.Seq, &e.Body, &e.PrevHash, &e.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: event %q: %w", id, err)
	}
	if err := decodeStoredEvent(&e); err != nil {
		return nil, err
	}
	return &e, nil
}

// decodeStoredEvent decodes e's Body into its Event.
func decodeStoredEvent(e *StoredEvent) error {
	if err := json.Unmarshal([]byte(e.Body), &e.Event); err != nil {
		return fmt.Errorf("store: decode event %d: %w", e.Seq, err)
	}
	return nil
}

// LastEventSeq is the seq of the newest event (0 when there is none).
func (s *Store) LastEventSeq(ctx context.Context) (int64, error) {
	if err := s.Settle(ctx); err != nil {
		return 0, err
	}
	var seq int64
	if err := s.read.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM events").Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: last event: %w", err)
	}
	return seq, nil
}

// Pruned describes a retention run: how many events went and the checkpoint
// that now starts the chain.
type Pruned struct {
	Count        int64
	AfterSeq     int64
	LastHash     string
	CheckpointID int64
}

// PruneEvents deletes, in one transaction, the events older than cutoff (a
// prefix of the chain, as event times never decrease along seq), records a
// checkpoint with the last deleted event's seq and hash so the rest still
// verifies, and appends the event that record(p) returns. Nothing happens
// when no event is older than cutoff.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time, record func(p Pruned) *Event) (Pruned, error) {
	var p Pruned
	err := s.Update(ctx, func(tx *Tx) error {
		end, ok, err := firstSeqAt(ctx, tx, timeText(cutoff))
		if err != nil {
			return err
		}
		q, args := "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1", []any{}
		if ok {
			q, args = "SELECT seq, hash FROM events WHERE seq < ? ORDER BY seq DESC LIMIT 1", []any{end}
		}
		err = tx.QueryRowContext(ctx, q, args...).Scan(&p.AfterSeq, &p.LastHash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.quiet(ctx, "DELETE FROM events WHERE seq <= ?", p.AfterSeq)
		if err != nil {
			return err
		}
		if p.Count, err = res.RowsAffected(); err != nil {
			return err
		}
		// The access review's daily rows of days wholly before the cutoff
		// go with their events (its latest-ever times stay).
		for _, q := range []string{"DELETE FROM access_calls WHERE day < ?", "DELETE FROM access_statements WHERE day < ?"} {
			if _, err := tx.quiet(ctx, q, cutoff.UTC().Format(time.DateOnly)); err != nil {
				return err
			}
		}
		if _, err := tx.quiet(ctx, qAccessNewEpoch); err != nil {
			return err
		}
		if p.CheckpointID, err = tx.insertID(ctx, true, "id", "INSERT INTO audit_checkpoints(after_seq, last_hash, created_at) VALUES (?, ?, ?)",
			p.AfterSeq, p.LastHash, timeText(tx.now)); err != nil {
			return err
		}
		ev := record(p)
		if ev.AdditionalEventData == nil {
			ev.AdditionalEventData = map[string]any{}
		}
		ev.EventName = PruneEventName
		ev.AdditionalEventData[pruneAfterSeq] = p.AfterSeq
		ev.AdditionalEventData[pruneLastHash] = p.LastHash
		ev.AdditionalEventData[pruneCheckpoint] = p.CheckpointID
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return Pruned{}, fmt.Errorf("store: prune events: %w", err)
	}
	return p, nil
}

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The access review's rollups (SPEC §16.1). Every decision a request was
// given is recorded with its event (additionalEventData.authorization) and
// counted into the rollups in the same transaction that writes the event:
// the journal's fold for OpenAPI and gateway calls, the change's own
// transaction for the console's. RebuildAccess recomputes them from the
// events alone, with the same code, so both give the same tables.

// Authorization is one decision a request was given: who (user/<UserId>,
// role/<RoleId> or root), the action and resources the evaluator decided,
// the decision, the statements it is credited to (the first matching Allow;
// every matching Deny) and the context a replay needs.
type Authorization struct {
	Principal       string            `json:"principal"`
	Action          string            `json:"action"`
	Resources       []string          `json:"resources"`
	Decision        string            `json:"decision"` // Allow, ImplicitDeny, ExplicitDeny
	Statements      []StatementCredit `json:"statements,omitempty"`
	MFAPresent      bool              `json:"mfaPresent,omitempty"`
	SecureTransport bool              `json:"secureTransport,omitempty"`
}

// StatementCredit names a statement a decision is credited to: its policy
// by name (for people) and by a never-reused id (for the rollups).
type StatementCredit struct {
	PolicyType string `json:"policyType"`
	PolicyName string `json:"policyName"`
	PolicyID   string `json:"policyId"`
	Version    string `json:"version"`
	Statement  int    `json:"statement"`
}

// PolicyKey is the rollups' key of a policy: Custom/<UID> or System/<name>.
func PolicyKey(policyType, id string) string { return policyType + "/" + id }

// authorizationKey is where an event records its decisions.
const authorizationKey = "authorization"

// pendingAuth holds a request's decisions until an event that records them
// is written: taken are those on an event not yet committed, which go back
// to pending if it is not.
type pendingAuth struct {
	mu    sync.Mutex
	auths []Authorization
	taken int
}

// AddAuthorization keeps a decision of the request ctx belongs to (a
// context from WithEventMark); the next event the request writes records
// it. Without a mark nothing is kept: the decision is not counted.
func AddAuthorization(ctx context.Context, a Authorization) {
	m := markOf(ctx)
	if m == nil {
		return
	}
	m.auth.mu.Lock()
	m.auth.auths = append(m.auth.auths, a)
	m.auth.mu.Unlock()
}

// attachAuthorizations puts the request's pending decisions on ev and
// returns the function that settles them once ev is written (or not): nil
// when there were none.
func attachAuthorizations(ctx context.Context, ev *Event) func(written bool) {
	m := markOf(ctx)
	if m == nil || ev == nil {
		return nil
	}
	p := &m.auth
	p.mu.Lock()
	auths := slices.Clone(p.auths[p.taken:])
	p.taken = len(p.auths)
	p.mu.Unlock()
	if len(auths) == 0 {
		return nil
	}
	if ev.AdditionalEventData == nil {
		ev.AdditionalEventData = map[string]any{}
	}
	ev.AdditionalEventData[authorizationKey] = auths
	return p.settle
}

// settle drops the taken decisions once their event is written, or gives
// them back to the next event when it is not.
func (p *pendingAuth) settle(written bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if written {
		p.auths = slices.Delete(p.auths, 0, p.taken)
	}
	p.taken = 0
}

// authorizationsOf returns the decisions an event records: the typed value
// of an event built in this process, or those decoded from its body.
func authorizationsOf(ev *Event, body []byte) []Authorization {
	if ev != nil {
		switch v := ev.AdditionalEventData[authorizationKey].(type) {
		case []Authorization:
			return v
		case nil:
			return nil
		}
	}
	if !strings.Contains(string(body), `"authorization"`) {
		return nil
	}
	var doc struct {
		AdditionalEventData struct {
			Authorization []Authorization `json:"authorization"`
		} `json:"additionalEventData"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	return doc.AdditionalEventData.Authorization
}

// accessResourceSets is how many distinct resource sets a principal's
// action keeps; later ones are collapsed into prefix wildcards.
const accessResourceSets = 100

// rollup gathers one batch of events' decisions before they are written.
type rollup struct {
	calls    map[callKey]*callAgg
	callList []callKey
	stmts    map[stmtKey]*stmtAgg
	stmtList []stmtKey
	latest   map[string]string
	latestL  []string
}

type callKey struct{ principal, actionKey, resources, day string }

type callAgg struct {
	action                      string
	allowed, denied             int64
	lastAllowed, lastDenied, at string
	ip                          string
	mfa, secure                 bool
}

type stmtKey struct {
	policy, version string
	statement       int
	principal, day  string
}

type stmtAgg struct {
	count int64
	last  string
}

func newRollup() *rollup {
	return &rollup{calls: map[callKey]*callAgg{}, stmts: map[stmtKey]*stmtAgg{}, latest: map[string]string{}}
}

// add counts the decisions of one event, at its (stored) time.
func (r *rollup) add(eventTime, sourceIP string, auths []Authorization) {
	if len(eventTime) < 10 {
		return
	}
	day := eventTime[:10]
	for i := range auths {
		a := &auths[i]
		if a.Principal == "" || a.Action == "" {
			continue
		}
		k := callKey{a.Principal, strings.ToLower(a.Action), resourceSet(a.Resources), day}
		c := r.calls[k]
		if c == nil {
			c = &callAgg{action: a.Action}
			r.calls[k] = c
			r.callList = append(r.callList, k)
		}
		allowed := a.Decision == "Allow"
		if allowed {
			c.allowed++
			c.lastAllowed = later(c.lastAllowed, eventTime)
		} else {
			c.denied++
			c.lastDenied = later(c.lastDenied, eventTime)
		}
		if eventTime >= c.at {
			c.at, c.ip, c.mfa, c.secure = eventTime, sourceIP, a.MFAPresent, a.SecureTransport
		}
		r.touch("principal/"+a.Principal, eventTime)
		if allowed && strings.EqualFold(a.Action, "sts:AssumeRole") {
			for _, res := range a.Resources {
				r.touch("assumed/"+strings.ToLower(res), eventTime)
			}
		}
		for _, st := range a.Statements {
			pk := PolicyKey(st.PolicyType, st.PolicyID)
			sk := stmtKey{pk, st.Version, st.Statement, a.Principal, day}
			s := r.stmts[sk]
			if s == nil {
				s = &stmtAgg{}
				r.stmts[sk] = s
				r.stmtList = append(r.stmtList, sk)
			}
			s.count++
			s.last = later(s.last, eventTime)
			r.touch("statement/"+pk+"/"+st.Version+"/"+strconv.Itoa(st.Statement), eventTime)
		}
	}
}

func (r *rollup) touch(subject, at string) {
	prev, ok := r.latest[subject]
	if !ok {
		r.latestL = append(r.latestL, subject)
	}
	r.latest[subject] = later(prev, at)
}

func later(a, b string) string {
	if b > a {
		return b
	}
	return a
}

// resourceSet is a request's resources as the rollups key them: sorted,
// without repeats, as valid UTF-8 (what the event's JSON keeps, so that a
// rebuild from the events keys them alike); one resource as it is, more
// (or one that could be read as a list) as a JSON array.
func resourceSet(resources []string) string {
	rs := make([]string, len(resources))
	for i, r := range resources {
		rs[i] = strings.ToValidUTF8(r, "\uFFFD")
	}
	slices.Sort(rs)
	return encodeSet(slices.Compact(rs))
}

func encodeSet(rs []string) string {
	switch {
	case len(rs) == 0:
		return ""
	case len(rs) == 1 && !strings.HasPrefix(rs[0], "[") && rs[0] != "":
		return rs[0]
	}
	b, _ := json.Marshal(rs)
	return string(b)
}

// decodeSet is the resources of a stored set.
func decodeSet(set string) []string {
	if !strings.HasPrefix(set, "[") {
		if set == "" {
			return nil
		}
		return []string{set}
	}
	var rs []string
	if json.Unmarshal([]byte(set), &rs) != nil {
		return []string{set}
	}
	return rs
}

// collapseSet turns each resource of a set into its prefix wildcard
// (acs:ecs:cn-hangzhou:1:instance/i-1 → acs:ecs:cn-hangzhou:1:instance/*).
func collapseSet(set string) string {
	rs := decodeSet(set)
	for i, r := range rs {
		cut := strings.LastIndexByte(r, '/')
		if cut < 0 {
			cut = strings.LastIndexByte(r, ':')
		}
		if cut >= 0 && r[cut+1:] != "*" {
			rs[i] = r[:cut+1] + "*"
		}
	}
	slices.Sort(rs)
	return encodeSet(slices.Compact(rs))
}

// upsert is a multi-row insert-or-add into a rollup table: upsert.of[k]
// writes 2^k rows (up to 32) in one statement, as the events' inserts do.
type upsert struct {
	cols int
	of   []string
}

func newUpsert(head, tuple, tail string, cols int) upsert {
	u := upsert{cols: cols, of: make([]string, 6)}
	for k := range u.of {
		u.of[k] = head + tuple + strings.Repeat(", "+tuple, 1<<k-1) + tail
	}
	return u
}

// The rollups' statements (prepared on the writer).
var (
	upsertCalls = newUpsert(`INSERT INTO access_calls(principal, action_key, resources, day, action, allowed, denied,
		last_allowed, last_denied, last_at, last_ip, mfa, secure) VALUES `, "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		` ON CONFLICT(principal, action_key, resources, day) DO UPDATE SET
		allowed = access_calls.allowed + excluded.allowed, denied = access_calls.denied + excluded.denied,
		last_allowed = CASE WHEN excluded.last_allowed > access_calls.last_allowed THEN excluded.last_allowed ELSE access_calls.last_allowed END,
		last_denied = CASE WHEN excluded.last_denied > access_calls.last_denied THEN excluded.last_denied ELSE access_calls.last_denied END,
		last_ip = CASE WHEN excluded.last_at >= access_calls.last_at THEN excluded.last_ip ELSE access_calls.last_ip END,
		mfa = CASE WHEN excluded.last_at >= access_calls.last_at THEN excluded.mfa ELSE access_calls.mfa END,
		secure = CASE WHEN excluded.last_at >= access_calls.last_at THEN excluded.secure ELSE access_calls.secure END,
		last_at = CASE WHEN excluded.last_at >= access_calls.last_at THEN excluded.last_at ELSE access_calls.last_at END`, 13)
	upsertStatements = newUpsert(`INSERT INTO access_statements(policy_key, version, statement, principal, day, count, last_used)
		VALUES `, "(?, ?, ?, ?, ?, ?, ?)", ` ON CONFLICT(policy_key, version, statement, principal, day) DO UPDATE SET
		count = access_statements.count + excluded.count,
		last_used = CASE WHEN excluded.last_used > access_statements.last_used THEN excluded.last_used ELSE access_statements.last_used END`, 7)
	upsertLatest = newUpsert(`INSERT INTO access_latest(subject, last_at) VALUES `, "(?, ?)", ` ON CONFLICT(subject) DO UPDATE SET
		last_at = CASE WHEN excluded.last_at > access_latest.last_at THEN excluded.last_at ELSE access_latest.last_at END`, 2)
)

const (
	qAccessSetKnown = "SELECT 1 FROM access_calls WHERE principal = ? AND action_key = ? AND resources = ? LIMIT 1"
	qAccessSetCount = "SELECT count(DISTINCT resources) FROM access_calls WHERE principal = ? AND action_key = ?"
	qAccessMark     = "UPDATE access_mark SET seq = (SELECT coalesce(max(seq), 0) FROM events) WHERE id = 1 RETURNING epoch"
	qAccessMarkAt   = "UPDATE access_mark SET seq = ? WHERE id = 1 RETURNING epoch"
	qAccessEpoch    = "SELECT epoch FROM access_mark WHERE id = 1"
	// qAccessNewEpoch empties every process's memory of the rollups' sets
	// (a rebuild or a prune removes rows).
	qAccessNewEpoch = "UPDATE access_mark SET epoch = epoch + 1 WHERE id = 1"
)

// accessWriterHot are the rollups' statements, prepared on the writer.
var accessWriterHot = func() []string {
	qs := []string{qAccessSetKnown, qAccessSetCount, qAccessMark, qAccessMarkAt, qAccessEpoch}
	for _, u := range []upsert{upsertCalls, upsertStatements, upsertLatest} {
		qs = append(qs, u.of...)
	}
	return qs
}()

// rows writes rows (u.cols values each) with as few statements as it can.
func (u upsert) rows(ctx context.Context, tx *Tx, args []any) error {
	for len(args) > 0 {
		k := len(u.of) - 1
		for u.cols<<k > len(args) {
			k--
		}
		n := 1 << k
		if _, err := tx.exec(ctx, u.of[k], args[:n*u.cols]...); err != nil {
			return fmt.Errorf("store: access rollup: %w", err)
		}
		args = args[n*u.cols:]
	}
	return nil
}

// accessKnown remembers resource sets the rollups hold, so that a fold asks
// the database only about sets it has not seen. Rows go away only in a
// rebuild or a prune, which move access_mark's epoch: a fold that reads
// another epoch forgets everything first.
type accessKnown struct {
	mu    sync.Mutex
	epoch int64
	sets  map[string]string
}

// accessKnownMax bounds the memory: past it, it starts over.
const accessKnownMax = 1 << 18

// write adds the batch to the rollups and moves the mark to seq (0: the
// newest event; -1: not at all). Resource sets are decided in the order their keys were
// first seen, which is the events' order, so that a fold and a rebuild
// collapse the same sets.
func (r *rollup) write(ctx context.Context, tx *Tx, seq int64) error {
	q, args := qAccessMark, []any(nil)
	switch {
	case seq > 0:
		q, args = qAccessMarkAt, []any{seq}
	case seq < 0:
		q = qAccessEpoch
	}
	var epoch int64
	if err := tx.queryRow(ctx, q, args...).Scan(&epoch); err != nil {
		return fmt.Errorf("store: access mark: %w", err)
	}
	known := tx.store.accessKnown.at(epoch)
	counts := map[string]int{}     // principal, action → distinct sets so far
	decided := map[string]string{} // the sets this batch met → what each counts under
	tx.onEnd = append(tx.onEnd, func(committed bool) {
		if committed && len(decided) > 0 {
			tx.store.accessKnown.add(epoch, decided) // remembered once it holds
		}
	})
	// The sets each key is counted under, merged where two collapse alike.
	merged := make(map[callKey]*callAgg, len(r.callList))
	order := make([]callKey, 0, len(r.callList))
	for _, k := range r.callList {
		set, err := tx.accessSet(ctx, known, counts, decided, k)
		if err != nil {
			return err
		}
		c := r.calls[k]
		fk := k
		fk.resources = set
		if m := merged[fk]; m != nil {
			m.merge(c)
			continue
		}
		cp := *c
		merged[fk] = &cp
		order = append(order, fk)
	}
	rows := make([]any, 0, len(order)*upsertCalls.cols)
	for _, k := range order {
		c := merged[k]
		rows = append(rows, k.principal, k.actionKey, k.resources, k.day, c.action, c.allowed, c.denied,
			c.lastAllowed, c.lastDenied, c.at, c.ip, boolInt(c.mfa), boolInt(c.secure))
	}
	if err := upsertCalls.rows(ctx, tx, rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, k := range r.stmtList {
		s := r.stmts[k]
		rows = append(rows, k.policy, k.version, k.statement, k.principal, k.day, s.count, s.last)
	}
	if err := upsertStatements.rows(ctx, tx, rows); err != nil {
		return err
	}
	rows = rows[:0]
	for _, subject := range r.latestL {
		rows = append(rows, subject, r.latest[subject])
	}
	return upsertLatest.rows(ctx, tx, rows)
}

// merge adds o's decisions to c (o's later in the events' order).
func (c *callAgg) merge(o *callAgg) {
	c.allowed += o.allowed
	c.denied += o.denied
	c.lastAllowed, c.lastDenied = later(c.lastAllowed, o.lastAllowed), later(c.lastDenied, o.lastDenied)
	if o.at >= c.at {
		c.at, c.ip, c.mfa, c.secure = o.at, o.ip, o.mfa, o.secure
	}
}

// accessSet is the resource set a call is counted under: its own, unless
// its principal's action has accessResourceSets others already, then the
// set's prefix wildcards. known holds what committed batches decided;
// decided what this batch did (a set met again, on another day, counts
// once); counts the distinct sets of each principal's action, with this
// batch's new ones.
func (tx *Tx) accessSet(ctx context.Context, known func(string) (string, bool), counts map[string]int, decided map[string]string,
	k callKey) (set string, err error) {
	if k.resources == "" {
		return "", nil
	}
	pa := k.principal + "\x00" + k.actionKey
	id := pa + "\x00" + k.resources
	if set, ok := known(id); ok {
		return set, nil
	}
	if set, ok := decided[id]; ok {
		return set, nil
	}
	defer func() {
		if err == nil {
			decided[id] = set
		}
	}()
	var one int
	err = tx.queryRow(ctx, qAccessSetKnown, k.principal, k.actionKey, k.resources).Scan(&one)
	if err == nil {
		return k.resources, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: access rollup: %w", err)
	}
	n, ok := counts[pa]
	if !ok {
		if err := tx.queryRow(ctx, qAccessSetCount, k.principal, k.actionKey).Scan(&n); err != nil {
			return "", fmt.Errorf("store: access rollup: %w", err)
		}
	}
	set = k.resources
	if n >= accessResourceSets {
		set = collapseSet(set)
	}
	counts[pa] = n + 1
	return set, nil
}

// at returns a lookup of the sets known at epoch, by the set a call named
// to the set it counts under (forgetting every set of another epoch
// first). A set collapsed past the limit stays collapsed: rows leave only
// in a rebuild or a prune, which move the epoch.
func (a *accessKnown) at(epoch int64) func(string) (string, bool) {
	a.mu.Lock()
	if a.sets == nil || a.epoch != epoch || len(a.sets) > accessKnownMax {
		a.sets, a.epoch = map[string]string{}, epoch
	}
	sets := a.sets
	a.mu.Unlock()
	return func(id string) (string, bool) {
		a.mu.Lock()
		defer a.mu.Unlock()
		set, ok := sets[id]
		return set, ok
	}
}

// add remembers what a committed batch of epoch decided: id → set.
func (a *accessKnown) add(epoch int64, decided map[string]string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.epoch != epoch || a.sets == nil {
		return
	}
	for id, set := range decided {
		a.sets[id] = set
	}
}

// rollUpEvents reads the events after seq after and up to seq upTo, at most
// limit of them, from the UTC day since on, and adds them to the rollups;
// it returns the last seq read and how many were read. A catch-up (mark
// set) moves the mark to the last; a rebuild leaves it to the folds.
func (tx *Tx) rollUpEvents(ctx context.Context, after, upTo int64, limit int, since string, mark bool) (int64, int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT seq, event_time, source_ip, body FROM events WHERE seq > ? AND seq <= ? AND event_time >= ?
		ORDER BY seq LIMIT ?`, after, upTo, since, limit)
	if err != nil {
		return 0, 0, fmt.Errorf("store: access rollup: %w", err)
	}
	r := newRollup()
	n, last := 0, after
	for rows.Next() {
		var t, ip, body string
		if err := rows.Scan(&last, &t, &ip, &body); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("store: access rollup: %w", err)
		}
		n++
		r.add(t, ip, authorizationsOf(nil, []byte(body)))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("store: access rollup: %w", err)
	}
	if n == 0 {
		return last, 0, nil
	}
	markAt := int64(-1)
	if mark {
		markAt = last
	}
	return last, n, r.write(ctx, tx, markAt)
}

// accessBatch is how many events a catch-up or rebuild reads at a time.
const accessBatch = 4096

// CatchUpAccess adds the events after the rollups' mark to them (at start:
// whatever a previous version, or a copy, wrote without counting).
func (s *Store) CatchUpAccess(ctx context.Context) error {
	for {
		n := 0
		err := s.tx(ctx, func(tx *Tx) error {
			var mark int64
			if err := tx.queryRow(ctx, "SELECT seq FROM access_mark WHERE id = 1").Scan(&mark); err != nil {
				return fmt.Errorf("store: access mark: %w", err)
			}
			var err error
			_, n, err = tx.rollUpEvents(ctx, mark, math.MaxInt64, accessBatch, "", true)
			return err
		}, false)
		if err != nil || n < accessBatch {
			return err
		}
	}
}

// RebuildAccess recomputes the rollups from the events — every event, or
// those from the UTC day since (YYYY-MM-DD) — and returns how many events
// it read. It runs next to a server: one short transaction empties the
// rollups of the days it recounts and notes the newest event; then the
// events up to it are counted again in batches of accessBatch, each its
// own transaction, while the folds go on counting the newer ones. Until it
// ends the pages show part of the window.
func (s *Store) RebuildAccess(ctx context.Context, since string) (int64, error) {
	if since != "" {
		if _, err := time.Parse(time.DateOnly, since); err != nil {
			return 0, fmt.Errorf("store: --since must be a date YYYY-MM-DD, got %q", since)
		}
	}
	var from string
	var upTo int64
	err := s.tx(ctx, func(tx *Tx) error {
		// What the retention pruned cannot be recounted: the rows from
		// before the oldest event kept are kept as they are.
		var oldest sql.NullString
		if err := tx.QueryRowContext(ctx, "SELECT min(event_time), coalesce(max(seq), 0) FROM events").Scan(&oldest, &upTo); err != nil {
			return fmt.Errorf("store: access rebuild: %w", err)
		}
		// Latest times from before the oldest event kept are kept too.
		from = since
		latestFrom := since
		if oldest.Valid && len(oldest.String) >= 10 && oldest.String[:10] > from {
			from = oldest.String[:10]
		}
		if oldest.Valid && oldest.String > latestFrom {
			latestFrom = oldest.String
		}
		for _, d := range []struct{ q, from string }{{"DELETE FROM access_calls WHERE day >= ?", from},
			{"DELETE FROM access_statements WHERE day >= ?", from}, {"DELETE FROM access_latest WHERE last_at >= ?", latestFrom}} {
			if _, err := tx.quiet(ctx, d.q, d.from); err != nil {
				return fmt.Errorf("store: access rebuild: %w", err)
			}
		}
		_, err := tx.quiet(ctx, qAccessNewEpoch)
		return err
	}, false)
	var total, after int64
	for err == nil {
		n := 0
		err = s.tx(ctx, func(tx *Tx) error {
			var err error
			after, n, err = tx.rollUpEvents(ctx, after, upTo, accessBatch, from, false)
			return err
		}, false)
		total += int64(n)
		if n < accessBatch {
			break
		}
	}
	if err != nil {
		return total, fmt.Errorf("store: access rebuild: %w", err)
	}
	return total, nil
}

// HasEventMark reports whether ctx carries a request's event mark (and so
// keeps its decisions).
func HasEventMark(ctx context.Context) bool { return markOf(ctx) != nil }

// AccessCall is one row of the rollups: a principal's decisions of one
// action on one resource set on one UTC day.
type AccessCall struct {
	Principal   string
	Action      string // as first seen that day
	Resources   []string
	Day         string
	Allowed     int64
	Denied      int64
	LastAllowed time.Time // zero: none
	LastDenied  time.Time
	LastIP      string // of the latest decision of the row
	MFAPresent  bool
	Secure      bool
}

// AccessCalls returns the rollup rows of principals from the UTC day
// fromDay (YYYY-MM-DD) on, by principal, action and resource set.
func (r Reads) AccessCalls(ctx context.Context, principals []string, fromDay string) ([]AccessCall, error) {
	var out []AccessCall
	for _, p := range principals {
		rows, err := r.query(ctx, `SELECT action, resources, day, allowed, denied, last_allowed, last_denied, last_ip, mfa, secure
			FROM access_calls WHERE principal = ? AND day >= ? ORDER BY action_key, resources, day`, p, fromDay)
		if err != nil {
			return nil, fmt.Errorf("store: access calls: %w", err)
		}
		calls, err := collect(rows, func(scan func(...any) error) (*AccessCall, error) {
			c := AccessCall{Principal: p}
			var resources, lastAllowed, lastDenied string
			var mfa, secure int64
			if err := scan(&c.Action, &resources, &c.Day, &c.Allowed, &c.Denied, &lastAllowed, &lastDenied, &c.LastIP, &mfa, &secure); err != nil {
				return nil, fmt.Errorf("store: access calls: %w", err)
			}
			c.Resources = decodeSet(resources)
			c.LastAllowed, c.LastDenied = optionalTime(lastAllowed), optionalTime(lastDenied)
			c.MFAPresent, c.Secure = mfa != 0, secure != 0
			return &c, nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, calls...)
	}
	return out, nil
}

// StatementUse is how often one statement was credited for one principal
// in a window, and the last time; Name is the principal's name today (""
// once it is deleted, and for the owner).
type StatementUse struct {
	Statement int
	Principal string
	Name      string
	Count     int64
	LastUsed  time.Time
}

// AccessStatementUse returns the use of a policy version's statements
// from the UTC day fromDay on, per statement and principal.
func (r Reads) AccessStatementUse(ctx context.Context, policyKey, version, fromDay string) ([]StatementUse, error) {
	rows, err := r.query(ctx, `SELECT g.statement, g.principal, coalesce(u.user_name, ro.role_name, ''), g.n, g.last FROM (
		SELECT statement, principal, CAST(sum(count) AS BIGINT) AS n, max(last_used) AS last FROM access_statements
		WHERE policy_key = ? AND version = ? AND day >= ? GROUP BY statement, principal) g
		LEFT JOIN users u ON substr(g.principal, 1, 5) = 'user/' AND u.user_id = substr(g.principal, 6)
		LEFT JOIN roles ro ON substr(g.principal, 1, 5) = 'role/' AND ro.role_id = substr(g.principal, 6)
		ORDER BY g.statement, g.principal`, policyKey, version, fromDay)
	if err != nil {
		return nil, fmt.Errorf("store: statement use: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*StatementUse, error) {
		var u StatementUse
		var last string
		if err := scan(&u.Statement, &u.Principal, &u.Name, &u.Count, &last); err != nil {
			return nil, fmt.Errorf("store: statement use: %w", err)
		}
		u.LastUsed = optionalTime(last)
		return &u, nil
	})
}

// AccessLatest returns the latest counted decision ever of every subject
// (principal/<key>, statement/<policy key>/<version>/<n>, assumed/<role
// ARN in lower case>) whose name starts with prefix, which ends with "/".
func (r Reads) AccessLatest(ctx context.Context, prefix string) (map[string]time.Time, error) {
	end := strings.TrimSuffix(prefix, "/") + "0" // the first text after every prefix/…
	rows, err := r.query(ctx, "SELECT subject, last_at FROM access_latest WHERE subject >= ? AND subject < ?", prefix, end)
	if err != nil {
		return nil, fmt.Errorf("store: access latest: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var subject, at string
		if err := rows.Scan(&subject, &at); err != nil {
			return nil, fmt.Errorf("store: access latest: %w", err)
		}
		out[subject] = parseTime(at)
	}
	return out, rows.Err()
}

func optionalTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	return parseTime(s)
}

// AttachedPolicies returns every policy attached to anyone, once each (only
// PolicyType and PolicyName are set), by type and name.
func (r Reads) AttachedPolicies(ctx context.Context) ([]Attachment, error) {
	rows, err := r.query(ctx, "SELECT DISTINCT policy_type, policy_name FROM policy_attachments ORDER BY policy_type, policy_name")
	if err != nil {
		return nil, fmt.Errorf("store: attached policies: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*Attachment, error) {
		var a Attachment
		if err := scan(&a.PolicyType, &a.PolicyName); err != nil {
			return nil, fmt.Errorf("store: attached policies: %w", err)
		}
		return &a, nil
	})
}

// IdleUser is a RAM user the unused list names.
type IdleUser struct {
	UserID, UserName string
	ConsoleLogin     bool // it has a login profile
	LastLogin        time.Time
	LastActivity     time.Time // the latest counted request ever
}

// IdleUsers returns the RAM users with neither a console sign-in nor a
// counted request since from, by name.
func (r Reads) IdleUsers(ctx context.Context, from time.Time) ([]IdleUser, error) {
	f := timeText(from)
	rows, err := r.query(ctx, `SELECT u.user_id, u.user_name, lp.user_id IS NOT NULL, coalesce(u.last_login_at, ''), coalesce(l.last_at, '')
		FROM users u LEFT JOIN login_profiles lp ON lp.user_id = u.user_id
		LEFT JOIN access_latest l ON l.subject = 'principal/user/' || u.user_id
		WHERE coalesce(u.last_login_at, '') < ? AND coalesce(l.last_at, '') < ? ORDER BY u.user_name`, f, f)
	if err != nil {
		return nil, fmt.Errorf("store: idle users: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*IdleUser, error) {
		var u IdleUser
		var login, last string
		if err := scan(&u.UserID, &u.UserName, &u.ConsoleLogin, &login, &last); err != nil {
			return nil, fmt.Errorf("store: idle users: %w", err)
		}
		u.LastLogin, u.LastActivity = optionalTime(login), optionalTime(last)
		return &u, nil
	})
}

// IdleAccessKey is an AccessKey the unused list names.
type IdleAccessKey struct {
	AccessKeyID, UserName, Status string
	CreatedAt, LastUsedAt         time.Time
}

// IdleAccessKeys returns the AccessKeys not used since from, by user name
// and key.
func (r Reads) IdleAccessKeys(ctx context.Context, from time.Time) ([]IdleAccessKey, error) {
	rows, err := r.query(ctx, `SELECT k.access_key_id, u.user_name, k.status, k.created_at, coalesce(k.last_used_at, '')
		FROM access_keys k JOIN users u ON u.user_id = k.user_id
		WHERE coalesce(k.last_used_at, '') < ? ORDER BY u.user_name, k.access_key_id`, timeText(from))
	if err != nil {
		return nil, fmt.Errorf("store: idle access keys: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*IdleAccessKey, error) {
		var k IdleAccessKey
		var created, used string
		if err := scan(&k.AccessKeyID, &k.UserName, &k.Status, &created, &used); err != nil {
			return nil, fmt.Errorf("store: idle access keys: %w", err)
		}
		k.CreatedAt, k.LastUsedAt = parseTime(created), optionalTime(used)
		return &k, nil
	})
}

// GroupAccessCalls is AccessCalls summed over a group's current members:
// one row per action and resource set (Principal and Day empty, the
// context fields unset).
func (r Reads) GroupAccessCalls(ctx context.Context, groupID, fromDay string) ([]AccessCall, error) {
	rows, err := r.query(ctx, `SELECT min(c.action), c.resources, CAST(sum(c.allowed) AS BIGINT), CAST(sum(c.denied) AS BIGINT),
		max(c.last_allowed), max(c.last_denied)
		FROM group_members m JOIN access_calls c ON c.principal = 'user/' || m.user_id
		WHERE m.group_id = ? AND c.day >= ? GROUP BY c.action_key, c.resources ORDER BY c.action_key, c.resources`, groupID, fromDay)
	if err != nil {
		return nil, fmt.Errorf("store: group access calls: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*AccessCall, error) {
		var c AccessCall
		var resources, lastAllowed, lastDenied string
		if err := scan(&c.Action, &resources, &c.Allowed, &c.Denied, &lastAllowed, &lastDenied); err != nil {
			return nil, fmt.Errorf("store: group access calls: %w", err)
		}
		c.Resources = decodeSet(resources)
		c.LastAllowed, c.LastDenied = optionalTime(lastAllowed), optionalTime(lastDenied)
		return &c, nil
	})
}

package store

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Identity is an event's userIdentity.
type Identity struct {
	Type        string `json:"type"` // root-account | ram-user | unknown
	PrincipalID string `json:"principalId,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
	// A role session's (type assumed-role): the role's ARN, the session's
	// name, and who started it — a RAM user, with the AccessKey it signed
	// AssumeRole with (none when it switched roles in the console).
	ARN               string `json:"arn,omitempty"`
	SessionName       string `json:"sessionName,omitempty"`
	SourceUserName    string `json:"sourceUserName,omitempty"`
	SourceUserID      string `json:"sourceUserId,omitempty"`
	SourceAccessKeyID string `json:"sourceAccessKeyId,omitempty"`
}

// Event is one audit record, shaped like an ActionTrail event. Its JSON
// encoding (fields in this order, map keys sorted) is the canonical form the
// hash chain covers.
type Event struct {
	EventID           string         `json:"eventId"`
	EventVersion      string         `json:"eventVersion"`
	EventTime         string         `json:"eventTime"`
	EventType         string         `json:"eventType"`
	EventSource       string         `json:"eventSource"`
	EventName         string         `json:"eventName"`
	EventRW           string         `json:"eventRW,omitempty"`
	ServiceName       string         `json:"serviceName"`
	RequestID         string         `json:"requestId"`
	UserIdentity      Identity       `json:"userIdentity"`
	SourceIPAddress   string         `json:"sourceIpAddress"`
	UserAgent         string         `json:"userAgent"`
	RequestParameters map[string]any `json:"requestParameters,omitempty"`
	ResourceName      string         `json:"resourceName,omitempty"`
	// AcsRegion and RecipientAccountID are a gateway decision's (SPEC §13):
	// the resource's region, and the account that pays.
	AcsRegion           string         `json:"acsRegion,omitempty"`
	RecipientAccountID  string         `json:"recipientAccountId,omitempty"`
	ErrorCode           string         `json:"errorCode,omitempty"`
	ErrorMessage        string         `json:"errorMessage,omitempty"`
	AdditionalEventData map[string]any `json:"additionalEventData,omitempty"`
	IsError             bool           `json:"isError"`
}

// StoredEvent is an event with its place in the chain.
type StoredEvent struct {
	Seq      int64
	PrevHash string
	Hash     string
	Body     string
	Event
}

// genesisHash is the prevHash of the first event.
const genesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// AppendEvent adds ev to the hash chain inside the transaction that makes
// the change it records. The writer connection is single, so the chain is
// serial whatever the number of concurrent writers. An event whose time the
// store sets never goes back before the newest event's: the log's time order
// is its seq order, which the time filters and retention rely on.
func (tx *Tx) AppendEvent(ctx context.Context, ev *Event) error {
	prev, headTime, err := tx.chainHead(ctx)
	if err != nil {
		return err
	}
	if ev.EventTime == "" {
		ev.EventTime = timeText(tx.now)
		if ev.EventTime < headTime {
			ev.EventTime = headTime
		}
	}
	if settle := attachAuthorizations(ctx, ev); settle != nil {
		tx.onEnd = append(tx.onEnd, settle)
	}
	body, err := encodeEvent(ev)
	if err != nil {
		return fmt.Errorf("store: encode event: %w", err)
	}
	if _, err = tx.insertEvent(ctx, ev, body, prev); err != nil {
		return err
	}
	if auths := authorizationsOf(ev, body); len(auths) > 0 {
		r := newRollup()
		r.add(ev.EventTime, ev.SourceIPAddress, auths)
		if err := r.write(ctx, tx, 0); err != nil {
			return err
		}
	}
	if m := markOf(ctx); m != nil {
		tx.marks = append(tx.marks, m)
	}
	return nil
}

// chainHead is the newest event's hash and time (the checkpoint's hash, or
// the genesis hash, when there is none).
func (tx *Tx) chainHead(ctx context.Context) (hash, eventTime string, err error) {
	hash = genesisHash
	err = tx.queryRow(ctx, qChainHead).Scan(&hash, &eventTime)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.queryRow(ctx, qCheckpointHead).Scan(&hash)
		if errors.Is(err, sql.ErrNoRows) {
			hash, err = genesisHash, nil
		}
	}
	if err != nil {
		return "", "", fmt.Errorf("store: chain head: %w", err)
	}
	return hash, eventTime, nil
}

// insertEvent writes ev, whose canonical encoding is body, after the event
// whose hash is prev, and returns its own hash.
func (tx *Tx) insertEvent(ctx context.Context, ev *Event, body []byte, prev string) (string, error) {
	hash := tx.store.ChainHash(prev, body)
	if _, err := tx.exec(ctx, qInsertEvent, appendEventRow(nil, ev, body, prev, hash)...); err != nil {
		return "", fmt.Errorf("store: append event: %w", err)
	}
	return hash, nil
}

// eventColumns is the number of values appendEventRow adds.
const eventColumns = 18

// appendEventRow appends the column values of an event row to args.
func appendEventRow(args []any, ev *Event, body []byte, prev, hash string) []any {
	return append(args, ev.EventID, ev.EventTime, ev.EventType, ev.EventSource, ev.EventName,
		ev.UserIdentity.Type, ev.UserIdentity.UserName, ev.UserIdentity.PrincipalID, ev.UserIdentity.AccessKeyID,
		ev.SourceIPAddress, ev.RequestID, ev.ResourceName, ev.ErrorCode, ev.IsError,
		ev.ServiceName, string(body), prev, hash)
}

// insertEventRows writes event rows (eventColumns values each) with as few
// statements as it can: most of a one-row insert's cost is the statement's.
// Every statement is a prepared one: 32 rows at a time, and the rest by
// the prepared inserts of 16, 8, 4, 2 and 1 rows (preparing a statement of
// the rest's size, on every fold, cost more than running up to five).
func (tx *Tx) insertEventRows(ctx context.Context, args []any) error {
	for len(args) > 0 {
		k := len(qInsertEventsOf) - 1
		for eventColumns<<k > len(args) {
			k--
		}
		n := 1 << k
		if _, err := tx.exec(ctx, qInsertEventsOf[k], args[:n*eventColumns]...); err != nil {
			return fmt.Errorf("store: append events: %w", err)
		}
		args = args[n*eventColumns:]
	}
	return nil
}

// The statements of AppendEvent (prepared on the writer).
const (
	qChainHead      = "SELECT hash, event_time FROM events ORDER BY seq DESC LIMIT 1"
	qCheckpointHead = "SELECT last_hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1"
	qInsertEvent    = `INSERT OR FAIL INTO events(event_id, event_time, event_type, event_source, event_name,
		user_type, user_name, principal_id, access_key_id, source_ip, request_id, resource_name, error_code, is_error,
		service_name, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertEventValues = `, (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// qInsertEventsOf[k] inserts 2^k events, up to 32 (prepared on the writer).
var qInsertEventsOf = func() []string {
	qs := make([]string, 6)
	for k := range qs {
		qs[k] = qInsertEvent + strings.Repeat(qInsertEventValues, 1<<k-1)
	}
	return qs
}()

// ChainReport is the result of verifying the audit chain.
type ChainReport struct {
	Events   int64 // events verified in order since the latest checkpoint
	OK       bool
	BrokenAt int64  // seq of the first broken event
	EventID  string // its eventId, when readable
	Reason   string
	// Checkpoint is the seq after which the chain starts (0 unless pruned).
	Checkpoint int64
	// Anchor is the seq of the AuditChainReanchored event (0 when the chain
	// is keyed from its start, or the anchor was pruned): the events before
	// it are plain SHA-256.
	Anchor     int64
	AnchorTime string // its eventTime
	// HeadCheckpoint is the seq of the newest signed head checkpoint the
	// chain was found to reach (0 when there is none after Checkpoint).
	HeadCheckpoint int64
	// Head is the newest verified event: kept outside the database, it is
	// what `audit verify --expect-head` checks later.
	Head ChainMark
}

// ChainMark is a verified point of the chain, so a later verification can
// resume after it instead of starting over.
type ChainMark struct {
	Seq  int64
	Hash string
}

// Names of the retention event and the fields that attest its checkpoint.
const (
	PruneEventName  = "PruneEvents"
	pruneAfterSeq   = "afterSeq"
	pruneLastHash   = "lastHash"
	pruneCheckpoint = "checkpointId"
)

// VerifyChain walks the audit log in order from the latest checkpoint and
// reports the first event whose link, hash or indexed columns do not match
// its recorded body, events missing anywhere (first, middle, newest: the
// newest signed head checkpoint must be reached with the same hash) and a
// checkpoint that no PruneEvents event attests.
func (s *Store) VerifyChain(ctx context.Context) (ChainReport, error) {
	rep, _, err := s.verifyChain(ctx, ChainMark{}, ChainMark{})
	return rep, err
}

// VerifyChainExpecting is VerifyChain that also requires the chain to hold
// event expect.Seq with hash expect.Hash: a head kept outside the database
// then proves that nothing was cut since.
func (s *Store) VerifyChainExpecting(ctx context.Context, expect ChainMark) (ChainReport, error) {
	rep, _, err := s.verifyChain(ctx, ChainMark{}, expect)
	return rep, err
}

// VerifyChainFrom verifies the events after mark (a zero mark, or one older
// than the latest checkpoint, means from the checkpoint) and returns the mark
// to resume from next time. The marked event itself is re-read, so changing
// or deleting it since is seen; older events need a full verification.
func (s *Store) VerifyChainFrom(ctx context.Context, mark ChainMark) (ChainReport, ChainMark, error) {
	return s.verifyChain(ctx, mark, ChainMark{})
}

func (s *Store) verifyChain(ctx context.Context, mark, expect ChainMark) (ChainReport, ChainMark, error) {
	if err := s.Settle(ctx); err != nil {
		return ChainReport{}, mark, err
	}
	// One read transaction: a snapshot, so a checkpoint written while the
	// walk runs cannot point past what it reads.
	rtx, err := s.read.BeginTx(ctx, s.readSnapshot())
	if err != nil {
		return ChainReport{}, mark, fmt.Errorf("store: verify: %w", err)
	}
	defer rtx.Rollback()
	var cpID, after int64
	prev := genesisHash
	err = rtx.QueryRowContext(ctx, "SELECT id, after_seq, last_hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1").Scan(&cpID, &after, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ChainReport{}, mark, fmt.Errorf("store: verify: %w", err)
	}
	rep := ChainReport{OK: true, Checkpoint: after}
	broken := func(seq int64, reason string) (ChainReport, ChainMark, error) {
		rep.OK, rep.BrokenAt, rep.Reason = false, seq, reason
		return rep, ChainMark{}, nil
	}
	if cpID != 0 {
		if reason, seq, err := checkpointAttested(ctx, rtx, cpID, after, prev); err != nil {
			return rep, mark, err
		} else if reason != "" {
			return broken(seq, reason)
		}
	}
	var head HeadCheckpoint
	err = rtx.QueryRowContext(ctx, "SELECT seq, hash, created_at, mac FROM audit_head_checkpoints ORDER BY seq DESC, id DESC LIMIT 1").
		Scan(&head.Seq, &head.Hash, &head.Time, &head.MAC)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return rep, mark, fmt.Errorf("store: verify: %w", err)
	}
	if head.Seq > 0 && !hmac.Equal([]byte(head.MAC), []byte(s.keys.checkpointMAC(head.Seq, head.Hash, head.Time))) {
		return broken(head.Seq, fmt.Sprintf("the head checkpoint of seq %d was not signed with this master key (forged or altered)", head.Seq))
	}
	// The events before the re-anchor are plain SHA-256; with no anchor
	// after the start, every event must be keyed.
	var anchor int64
	err = rtx.QueryRowContext(ctx, "SELECT seq FROM events WHERE event_name = ? AND seq > ? ORDER BY seq LIMIT 1", ChainAnchorEventName, after).Scan(&anchor)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return rep, mark, fmt.Errorf("store: verify: %w", err)
	}
	rep.Anchor = anchor
	start := ChainMark{Seq: after, Hash: prev}
	if mark.Seq > after {
		var hash string
		err := rtx.QueryRowContext(ctx, "SELECT hash FROM events WHERE seq = ?", mark.Seq).Scan(&hash)
		if errors.Is(err, sql.ErrNoRows) || err == nil && hash != mark.Hash {
			return broken(mark.Seq, "an event verified earlier was changed or deleted")
		}
		if err != nil {
			return rep, mark, fmt.Errorf("store: verify: %w", err)
		}
		start = mark
	}
	rows, err := rtx.QueryContext(ctx, `SELECT seq, event_id, event_time, event_type, event_name, user_type, user_name,
		error_code, is_error, service_name, body, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq`, start.Seq)
	if err != nil {
		return rep, mark, fmt.Errorf("store: verify: %w", err)
	}
	defer rows.Close()
	cur := start
	prev = start.Hash
	var body sql.RawBytes
	for rows.Next() {
		var seq int64
		var id, tm, typ, name, utype, uname, code, service, prevHash, hash string
		var isErr bool
		if err := rows.Scan(&seq, &id, &tm, &typ, &name, &utype, &uname, &code, &isErr, &service, &body, &prevHash, &hash); err != nil {
			return rep, mark, fmt.Errorf("store: verify: %w", err)
		}
		fail := func(reason string) (ChainReport, ChainMark, error) {
			rep.OK, rep.BrokenAt, rep.EventID, rep.Reason = false, seq, id, reason
			rep.Events = cur.Seq - after
			return rep, ChainMark{}, nil
		}
		if seq != cur.Seq+1 {
			return fail(fmt.Sprintf("events are missing before seq %d", seq))
		}
		if prevHash != prev {
			return fail("prevHash does not match the previous event's hash")
		}
		if seq < anchor {
			if LegacyChainHash(prev, body) != hash {
				return fail("hash does not match the event's content")
			}
		} else if s.ChainHash(prev, body) != hash {
			if LegacyChainHash(prev, body) == hash {
				if anchor == 0 {
					return fail("a plain SHA-256 event where the chain is keyed (no re-anchor event precedes it)")
				}
				return fail("a plain SHA-256 event after the re-anchor, where the chain is keyed")
			}
			return fail("hash does not match the event's content (keyed with this master key)")
		}
		var ev indexedEvent
		if err := json.Unmarshal(body, &ev); err != nil {
			return fail("the event body is not valid JSON")
		}
		if ev.EventID != id || ev.EventTime != tm || ev.EventType != typ || ev.EventName != name ||
			ev.UserIdentity.Type != utype || ev.UserIdentity.UserName != uname || ev.ErrorCode != code || ev.IsError != isErr ||
			ev.ServiceName != service {
			return fail("indexed columns differ from the recorded event")
		}
		if seq == anchor {
			var a struct {
				Source string         `json:"eventSource"`
				Data   map[string]any `json:"additionalEventData"`
			}
			json.Unmarshal(body, &a)
			if n, _ := a.Data[anchorLegacySeq].(float64); a.Source != "ramconsole" || int64(n) != seq-1 || a.Data[anchorLegacyHash] != prev {
				return fail("the re-anchor event does not name the plain chain's head before it")
			}
			rep.AnchorTime = tm
		}
		prev = hash
		cur = ChainMark{Seq: seq, Hash: hash}
	}
	if err := rows.Err(); err != nil {
		return rep, mark, fmt.Errorf("store: verify: %w", err)
	}
	// The verified chain has no gaps: it holds every seq after the checkpoint.
	rep.Events = cur.Seq - after
	rep.Head = cur
	// AUTOINCREMENT remembers the highest seq ever used, so deleting the
	// newest events shows as a gap at the end — unless the counter was reset
	// too, which the signed head checkpoint catches.
	var maxSeq int64
	err = rtx.QueryRowContext(ctx, s.qMaxSeqEver()).Scan(&maxSeq)
	if err != nil {
		return rep, mark, fmt.Errorf("store: verify: %w", err)
	}
	if maxSeq > cur.Seq {
		return broken(cur.Seq+1, fmt.Sprintf("events %d to %d are missing at the end of the log", cur.Seq+1, maxSeq))
	}
	if head.Seq > after {
		if head.Seq > cur.Seq {
			return broken(cur.Seq+1, fmt.Sprintf("the log ends at seq %d, before the head checkpoint of %s at seq %d: events were deleted", cur.Seq, head.Time, head.Seq))
		}
		if h, err := eventHash(ctx, rtx, head.Seq); err != nil {
			return rep, mark, err
		} else if h != head.Hash {
			return broken(head.Seq, fmt.Sprintf("event %d differs from the head checkpoint of %s", head.Seq, head.Time))
		}
		rep.HeadCheckpoint = head.Seq
	}
	if expect.Seq > 0 {
		switch {
		case expect.Seq <= after:
			return broken(after+1, fmt.Sprintf("the expected head seq %d was pruned by retention (the log starts after seq %d)", expect.Seq, after))
		case expect.Seq > cur.Seq:
			return broken(cur.Seq+1, fmt.Sprintf("the log ends at seq %d, before the expected head seq %d: events were cut", cur.Seq, expect.Seq))
		}
		if h, err := eventHash(ctx, rtx, expect.Seq); err != nil {
			return rep, mark, err
		} else if h != expect.Hash {
			return broken(expect.Seq, fmt.Sprintf("event seq %d's hash differs from the expected head", expect.Seq))
		}
	}
	return rep, cur, nil
}

func eventHash(ctx context.Context, q queryer, seq int64) (string, error) {
	var h string
	if err := q.QueryRowContext(ctx, "SELECT hash FROM events WHERE seq = ?", seq).Scan(&h); err != nil {
		return "", fmt.Errorf("store: verify: %w", err)
	}
	return h, nil
}

// indexedEvent is the part of an event's body its indexed columns repeat.
type indexedEvent struct {
	EventID      string `json:"eventId"`
	EventTime    string `json:"eventTime"`
	EventType    string `json:"eventType"`
	EventName    string `json:"eventName"`
	UserIdentity struct {
		Type     string `json:"type"`
		UserName string `json:"userName"`
	} `json:"userIdentity"`
	ErrorCode   string `json:"errorCode"`
	IsError     bool   `json:"isError"`
	ServiceName string `json:"serviceName"`
}

// checkpointAttested checks that the PruneEvents event written with the
// latest checkpoint is in the chain and names the same seq and hash: a
// checkpoint inserted or edited by hand is not attested.
func checkpointAttested(ctx context.Context, q queryer, id, after int64, lastHash string) (string, int64, error) {
	rows, err := q.QueryContext(ctx, "SELECT body FROM events WHERE event_name = ? AND seq > ? ORDER BY seq", PruneEventName, after)
	if err != nil {
		return "", 0, fmt.Errorf("store: verify checkpoint: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return "", 0, fmt.Errorf("store: verify checkpoint: %w", err)
		}
		var ev struct {
			EventSource string         `json:"eventSource"`
			Data        map[string]any `json:"additionalEventData"`
		}
		if json.Unmarshal([]byte(body), &ev) != nil || ev.EventSource != "host" {
			continue
		}
		seq, _ := ev.Data[pruneAfterSeq].(float64)
		cp, _ := ev.Data[pruneCheckpoint].(float64)
		if int64(cp) == id {
			if int64(seq) != after || ev.Data[pruneLastHash] != lastHash {
				return "the retention checkpoint differs from the PruneEvents event that recorded it", after + 1, nil
			}
			return "", 0, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", 0, fmt.Errorf("store: verify checkpoint: %w", err)
	}
	return "no PruneEvents event attests the retention checkpoint", after + 1, nil
}

// Events returns the newest events first, at most limit, for tests and the
// first audit views.
func (s *Store) Events(ctx context.Context, limit int) ([]StoredEvent, error) {
	if err := s.Settle(ctx); err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, "SELECT seq, body, prev_hash, hash FROM events ORDER BY seq DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*StoredEvent, error) {
		var e StoredEvent
		if err := scan(&e.Seq, &e.Body, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		if err := decodeStoredEvent(&e); err != nil {
			return nil, err
		}
		return &e, nil
	})
}

package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
)

// Identity is an event's userIdentity.
type Identity struct {
	Type        string `json:"type"` // root-account | ram-user | unknown
	PrincipalID string `json:"principalId,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
	AccessKeyID string `json:"accessKeyId,omitempty"`
}

// Event is one audit record, shaped like an ActionTrail event. Its JSON
// encoding (fields in this order, map keys sorted) is the canonical form the
// hash chain covers.
type Event struct {
	EventID             string         `json:"eventId"`
	EventVersion        string         `json:"eventVersion"`
	EventTime           string         `json:"eventTime"`
	EventType           string         `json:"eventType"`
	EventSource         string         `json:"eventSource"`
	EventName           string         `json:"eventName"`
	EventRW             string         `json:"eventRW,omitempty"`
	ServiceName         string         `json:"serviceName"`
	RequestID           string         `json:"requestId"`
	UserIdentity        Identity       `json:"userIdentity"`
	SourceIPAddress     string         `json:"sourceIpAddress"`
	UserAgent           string         `json:"userAgent"`
	RequestParameters   map[string]any `json:"requestParameters,omitempty"`
	ResourceName        string         `json:"resourceName,omitempty"`
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

// ChainHash is SHA-256(prevHash || body) in hex.
func ChainHash(prevHash string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// AppendEvent adds ev to the hash chain inside the transaction that makes
// the change it records. The writer connection is single, so the chain is
// serial whatever the number of concurrent writers.
func (tx *Tx) AppendEvent(ctx context.Context, ev *Event) error {
	if ev.EventTime == "" {
		ev.EventTime = timeText(tx.now)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("store: encode event: %w", err)
	}
	prev := genesisHash
	err = tx.QueryRowContext(ctx, "SELECT hash FROM events ORDER BY seq DESC LIMIT 1").Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		err = tx.QueryRowContext(ctx, "SELECT last_hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1").Scan(&prev)
		if errors.Is(err, sql.ErrNoRows) {
			prev, err = genesisHash, nil
		}
	}
	if err != nil {
		return fmt.Errorf("store: chain head: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO events(event_id, event_time, event_type, event_source, event_name,
		user_type, user_name, principal_id, access_key_id, source_ip, request_id, resource_name, error_code, is_error,
		body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.EventID, ev.EventTime, ev.EventType, ev.EventSource, ev.EventName,
		ev.UserIdentity.Type, ev.UserIdentity.UserName, ev.UserIdentity.PrincipalID, ev.UserIdentity.AccessKeyID,
		ev.SourceIPAddress, ev.RequestID, ev.ResourceName, ev.ErrorCode, ev.IsError,
		string(body), prev, ChainHash(prev, body))
	if err != nil {
		return fmt.Errorf("store: append event: %w", err)
	}
	return nil
}

// ChainReport is the result of verifying the audit chain.
type ChainReport struct {
	Events   int64
	OK       bool
	BrokenAt int64  // seq of the first broken event
	EventID  string // its eventId, when readable
	Reason   string
}

// VerifyChain walks the audit log in order and reports the first event whose
// link, hash or indexed columns do not match its recorded body.
func (s *Store) VerifyChain(ctx context.Context) (ChainReport, error) {
	prev := genesisHash
	var after int64
	err := s.read.QueryRowContext(ctx, "SELECT after_seq, last_hash FROM audit_checkpoints ORDER BY id DESC LIMIT 1").Scan(&after, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return ChainReport{}, fmt.Errorf("store: verify: %w", err)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT seq, event_id, event_time, event_type, event_name, user_type, user_name,
		error_code, is_error, body, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq`, after)
	if err != nil {
		return ChainReport{}, fmt.Errorf("store: verify: %w", err)
	}
	defer rows.Close()
	rep := ChainReport{OK: true}
	expectSeq := after + 1
	for rows.Next() {
		var seq int64
		var id, tm, typ, name, utype, uname, code, body, prevHash, hash string
		var isErr bool
		if err := rows.Scan(&seq, &id, &tm, &typ, &name, &utype, &uname, &code, &isErr, &body, &prevHash, &hash); err != nil {
			return rep, fmt.Errorf("store: verify: %w", err)
		}
		rep.Events++
		fail := func(reason string) (ChainReport, error) {
			rep.OK, rep.BrokenAt, rep.EventID, rep.Reason = false, seq, id, reason
			return rep, nil
		}
		if seq != expectSeq {
			return fail(fmt.Sprintf("events are missing before seq %d", seq))
		}
		expectSeq = seq + 1
		if prevHash != prev {
			return fail("prevHash does not match the previous event's hash")
		}
		if ChainHash(prev, []byte(body)) != hash {
			return fail("hash does not match the event's content")
		}
		var ev Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return fail("the event body is not valid JSON")
		}
		if ev.EventID != id || ev.EventTime != tm || ev.EventType != typ || ev.EventName != name ||
			ev.UserIdentity.Type != utype || ev.UserIdentity.UserName != uname || ev.ErrorCode != code || ev.IsError != isErr {
			return fail("indexed columns differ from the recorded event")
		}
		prev = hash
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	// AUTOINCREMENT remembers the highest seq ever used, so deleting the
	// newest events shows as a gap at the end.
	var maxSeq int64
	err = s.read.QueryRowContext(ctx, "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0)").Scan(&maxSeq)
	if err != nil {
		return rep, fmt.Errorf("store: verify: %w", err)
	}
	if maxSeq > expectSeq-1 && maxSeq > after {
		rep.OK, rep.BrokenAt, rep.Reason = false, expectSeq, fmt.Sprintf("events %d to %d are missing at the end of the log", expectSeq, maxSeq)
	}
	return rep, nil
}

// Events returns the newest events first, at most limit, for tests and the
// first audit views.
func (s *Store) Events(ctx context.Context, limit int) ([]StoredEvent, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT seq, body, prev_hash, hash FROM events ORDER BY seq DESC LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var out []StoredEvent
	for rows.Next() {
		var e StoredEvent
		if err := rows.Scan(&e.Seq, &e.Body, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(e.Body), &e.Event); err != nil {
			return nil, fmt.Errorf("store: decode event %d: %w", e.Seq, err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"strconv"
	"sync"

	"github.com/google/uuid"
)

// The audit chain is keyed: hash = HMAC-SHA256(chainKey, prevHash || body),
// with chainKey derived from the master key, which is not in the database.
// Someone who can write the database but does not hold the master key can
// then neither re-compute the chain after editing an event nor forge the
// signed checkpoints of its head. Events written before the keyed chain
// (plain SHA-256) stay as they are: the migration that introduced it
// appended an AuditChainReanchored event, the first keyed one, whose hash
// covers the last plain hash and so seals the legacy part (docs/audit.md).

// Labels of the keys derived from the master key.
const (
	chainKeyLabel      = "ramconsole audit chain v1"
	checkpointKeyLabel = "ramconsole audit checkpoint v1"
)

// ChainAnchorEventName is the event from which a legacy chain is keyed.
const ChainAnchorEventName = "AuditChainReanchored"

// Fields of the re-anchor event's additionalEventData.
const (
	anchorLegacySeq  = "legacyHeadSeq"
	anchorLegacyHash = "legacyHeadHash"
)

// chainKeys holds the keys derived from the master key.
type chainKeys struct {
	macs       sync.Pool // HMAC-SHA256 under the chain key
	checkpoint []byte
}

func deriveKey(master []byte, label string) []byte {
	m := hmac.New(sha256.New, master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func newChainKeys(master []byte) *chainKeys {
	chain := deriveKey(master, chainKeyLabel)
	k := &chainKeys{checkpoint: deriveKey(master, checkpointKeyLabel)}
	k.macs.New = func() any { return hmac.New(sha256.New, chain) }
	return k
}

// Option configures Open.
type Option func(*options)

type options struct {
	masterKey []byte
	database  string // a postgres:// URL, or empty for SQLite
}

// WithMasterKey gives the store the master key its audit chain's keys are
// derived from. Without it, Open loads the key as the binary does:
// RAMCONSOLE_MASTER_KEY, or <data>/master.key.
func WithMasterKey(key []byte) Option {
	return func(o *options) { o.masterKey = key }
}

func (o *options) key(dataDir string) ([]byte, error) {
	if o.masterKey != nil {
		if len(o.masterKey) != 32 {
			return nil, errors.New("store: master key must be 32 bytes")
		}
		return o.masterKey, nil
	}
	return LoadMasterKey(dataDir, os.Getenv("RAMCONSOLE_MASTER_KEY"))
}

// LegacyChainHash is SHA-256(prevHash || body) in hex: the hash of events
// written before the chain was keyed.
func LegacyChainHash(prevHash string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// ChainHash is HMAC-SHA256(chainKey, prevHash || body) in hex: the hash of
// an event in the keyed chain.
func (s *Store) ChainHash(prevHash string, body []byte) string {
	h := s.keys.macs.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(prevHash))
	h.Write(body)
	var sum [sha256.Size]byte
	out := hex.EncodeToString(h.Sum(sum[:0]))
	s.keys.macs.Put(h)
	return out
}

// reanchorChain appends the AuditChainReanchored event when the chain holds
// events already (written with plain SHA-256 by an earlier version): it is
// the first keyed event, and its hash covers the last plain one. It runs in
// the transaction of the migration that introduced the keyed chain, so a
// database is anchored exactly once, when it is first opened by this
// version. A new database needs no anchor: its chain is keyed from the start.
func (tx *Tx) reanchorChain(ctx context.Context) error {
	prev, _, err := tx.chainHead(ctx)
	if err != nil || prev == genesisHash {
		return err
	}
	var headSeq int64
	err = tx.QueryRowContext(ctx, "SELECT coalesce((SELECT max(seq) FROM events), (SELECT max(after_seq) FROM audit_checkpoints), 0)").Scan(&headSeq)
	if err != nil {
		return fmt.Errorf("store: re-anchor: %w", err)
	}
	var accountID string
	if err := tx.QueryRowContext(ctx, "SELECT account_id FROM account WHERE id = 1").Scan(&accountID); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: re-anchor: %w", err)
	}
	host, _ := os.Hostname()
	ev := &Event{EventID: newUUID(), EventVersion: "1", EventType: "ConsoleOperation", EventSource: "ramconsole",
		EventName: ChainAnchorEventName, ServiceName: "ActionTrail", RequestID: newUUID(),
		UserIdentity:    Identity{Type: "root-account", PrincipalID: accountID, AccountID: accountID, UserName: RootUserName},
		SourceIPAddress: "host", UserAgent: "ramconsole on " + host,
		AdditionalEventData: map[string]any{anchorLegacySeq: headSeq, anchorLegacyHash: prev,
			"legacyHash": "SHA-256(prevHash || body)", "hash": "HMAC-SHA256(chainKey, prevHash || body)"}}
	return tx.AppendEvent(ctx, ev)
}

func newUUID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// migrationHooks run in the transaction that applies their migration.
var migrationHooks = map[int]func(*Tx, context.Context) error{
	9: func(tx *Tx, ctx context.Context) error {
		// The re-anchor event is written as events are now, service_name
		// included.
		if err := tx.addEventsServiceColumn(ctx); err != nil {
			return err
		}
		return tx.reanchorChain(ctx)
	},
	11: func(tx *Tx, ctx context.Context) error {
		if err := tx.addEventsServiceColumn(ctx); err != nil {
			return err
		}
		for _, q := range []string{
			"UPDATE events SET service_name = coalesce(json_extract(body, '$.serviceName'), '') WHERE service_name = ''",
			"CREATE INDEX events_service ON events(service_name, seq)",
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	},
}

// addEventsServiceColumn adds the events' service_name column (migration
// 11) unless it is there.
func (tx *Tx) addEventsServiceColumn(ctx context.Context) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'service_name'").Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, "ALTER TABLE events ADD COLUMN service_name TEXT NOT NULL DEFAULT ''")
	return err
}

// HeadCheckpoint is a signed statement of the chain's head at a moment.
type HeadCheckpoint struct {
	Seq  int64
	Hash string
	Time string
	MAC  string
}

// headCheckpointsKept is how many head checkpoints the table keeps (the
// log keeps every one); verification needs the newest.
const headCheckpointsKept = 1000

func (k *chainKeys) checkpointMAC(seq int64, hash, tm string) string {
	m := hmac.New(sha256.New, k.checkpoint)
	m.Write([]byte("ramconsole audit head\n" + strconv.FormatInt(seq, 10) + "\n" + hash + "\n" + tm))
	return hex.EncodeToString(m.Sum(nil))
}

// CheckpointHead signs the chain's head into audit_head_checkpoints, unless
// it is checkpointed already (false then). Queued journal records are
// folded first, so the checkpoint covers every call answered before it.
func (s *Store) CheckpointHead(ctx context.Context) (HeadCheckpoint, bool, error) {
	var cp HeadCheckpoint
	wrote := false
	err := s.tx(ctx, func(tx *Tx) error {
		wrote = false
		err := tx.QueryRowContext(ctx, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").Scan(&cp.Seq, &cp.Hash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var last int64
		if err := tx.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM audit_head_checkpoints").Scan(&last); err != nil {
			return err
		}
		if last >= cp.Seq {
			return nil
		}
		cp.Time = timeText(tx.now)
		cp.MAC = s.keys.checkpointMAC(cp.Seq, cp.Hash, cp.Time)
		id, err := tx.insertID(ctx, false, "id", "INSERT INTO audit_head_checkpoints(seq, hash, created_at, mac) VALUES (?, ?, ?, ?)",
			cp.Seq, cp.Hash, cp.Time, cp.MAC)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM audit_head_checkpoints WHERE id <= ?", id-headCheckpointsKept); err != nil {
			return err
		}
		wrote = true
		return nil
	}, false)
	if err != nil {
		return HeadCheckpoint{}, false, fmt.Errorf("store: checkpoint head: %w", err)
	}
	return cp, wrote, nil
}

package store

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"sync"
	"time"
)

// Nonces. Every OpenAPI signature nonce is accepted once per AccessKey
// while a request carrying it could pass the timestamp check. On SQLite the
// journal's owner keeps them in memory (loaded at Open from the database's
// log of them), in buckets by the minute they expire, so forgetting old
// ones is dropping a bucket; the journal's folds log them. On PostgreSQL
// every node shares one table of them.

type nonceKey [16]byte

type nonceSet struct {
	mu      sync.Mutex
	buckets map[int64]map[nonceKey]struct{}
	swept   int64 // the minute buckets were last dropped
}

// keyOf is 128 bits of two seeded hashes of an AccessKey id and a nonce. A
// collision could only make a fresh call look replayed (refused, never
// wrongly accepted), and only a key's holder chooses its nonces.
func keyOf(keyID, nonce string) nonceKey {
	var k nonceKey
	for i, seed := range nonceSeeds {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteString(keyID)
		h.WriteByte(0)
		h.WriteString(nonce)
		binary.LittleEndian.PutUint64(k[8*i:], h.Sum64())
	}
	return k
}

// nonceSeeds are the process's seeds of keyOf (nonces are keyed afresh at
// each start).
var nonceSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// add records a nonce kept until expires; false when it is there already.
func (n *nonceSet) add(k nonceKey, expires, now time.Time) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if m := now.Unix() / 60; m != n.swept {
		for b := range n.buckets {
			if (b+1)*60 <= now.Unix() {
				delete(n.buckets, b)
			}
		}
		n.swept = m
	}
	for _, b := range n.buckets {
		if _, ok := b[k]; ok {
			return false
		}
	}
	m := expires.Unix() / 60
	b := n.buckets[m]
	if b == nil {
		b = map[nonceKey]struct{}{}
		n.buckets[m] = b
	}
	b[k] = struct{}{}
	return true
}

// UseNonce accepts an OpenAPI signature nonce of an AccessKey once until it
// expires. It reports false when the nonce was used already. The nonce is
// kept in the database by the Record of the call that used it. Only the
// journal's owner — the server — checks nonces: it alone serves the API.
func (s *Store) UseNonce(ctx context.Context, accessKeyID, nonce string, expires time.Time) (bool, error) {
	if s.pg {
		return s.useNoncePG(ctx, accessKeyID, nonce, expires)
	}
	if s.journal == nil {
		return false, ErrJournalBusy
	}
	return s.journal.nonces.add(keyOf(accessKeyID, nonce), expires, s.Now()), nil
}

// logNonces writes the records' nonces as one row.
func (tx *Tx) logNonces(ctx context.Context, items []queued) error {
	if tx.store.pg { // UseNonce wrote them
		return nil
	}
	var list [][3]string
	var newest time.Time
	for i := range items {
		if q := &items[i]; q.Nonce != "" {
			list = append(list, [3]string{q.KeyID, q.Nonce, timeText(q.NonceExpires)})
			if q.NonceExpires.After(newest) {
				newest = q.NonceExpires
			}
		}
	}
	if len(list) == 0 {
		return nil
	}
	data, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("store: log nonces: %w", err)
	}
	if _, err := tx.exec(ctx, qLogNonces, timeText(newest), string(data)); err != nil {
		return fmt.Errorf("store: log nonces: %w", err)
	}
	return nil
}

// qFoldMark records how far the journal is folded (prepared on the writer).
const qFoldMark = "INSERT OR REPLACE INTO audit_journal_mark(id, segment, byte_offset) VALUES (1, ?, ?)"

// qLogNonces keeps a fold's nonces (prepared on the writer).
const qLogNonces = "INSERT INTO api_nonce_log(expires_at, nonces) VALUES (?, ?)"

// eachNonce calls fn with every nonce in the database not yet expired.
func (s *Store) eachNonce(ctx context.Context, fn func(keyID, nonce string, expires time.Time)) error {
	now := timeText(s.Now())
	rows, err := s.read.QueryContext(ctx, "SELECT nonces FROM api_nonce_log WHERE expires_at >= ?", now)
	if err != nil {
		return fmt.Errorf("store: nonces: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var data string
		var list [][3]string
		if err := rows.Scan(&data); err != nil {
			return fmt.Errorf("store: nonces: %w", err)
		}
		if err := json.Unmarshal([]byte(data), &list); err != nil {
			return fmt.Errorf("store: nonces: %w", err)
		}
		for _, n := range list {
			if n[2] >= now {
				fn(n[0], n[1], parseTime(n[2]))
			}
		}
	}
	return rows.Err()
}

// loadNonces forgets the expired nonces in the database and reads the
// others into memory.
func (s *Store) loadNonces(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, "DELETE FROM api_nonce_log WHERE expires_at < ?", timeText(s.Now())); err != nil {
		return fmt.Errorf("store: sweep nonces: %w", err)
	}
	return s.eachNonce(ctx, func(id, nonce string, expires time.Time) {
		s.journal.nonces.add(keyOf(id, nonce), expires, s.Now())
	})
}

// nonceSweepEvery is how often the database forgets expired nonces.
const nonceSweepEvery = time.Minute

// sweepNonces forgets the expired nonces in the database, at most once every
// nonceSweepEvery.
func (tx *Tx) sweepNonces(ctx context.Context) error {
	s := tx.store
	if s.pg { // UseNonce sweeps
		return nil
	}
	now := tx.now.Unix()
	if last := s.nonceSwept.Load(); now-last < int64(nonceSweepEvery/time.Second) || !s.nonceSwept.CompareAndSwap(last, now) {
		return nil
	}
	if _, err := tx.quiet(ctx, "DELETE FROM api_nonce_log WHERE expires_at < ?", timeText(tx.now)); err != nil {
		return fmt.Errorf("store: sweep nonces: %w", err)
	}
	return nil
}

// useNoncePG records a nonce in the shared table: false when any node
// recorded it already. Expired ones are forgotten at most once a minute.
func (s *Store) useNoncePG(ctx context.Context, accessKeyID, nonce string, expires time.Time) (bool, error) {
	now := s.Now()
	if last := s.nonceSwept.Load(); now.Unix()-last >= int64(nonceSweepEvery/time.Second) && s.nonceSwept.CompareAndSwap(last, now.Unix()) {
		if _, err := s.write.ExecContext(ctx, "DELETE FROM api_nonces WHERE expires_at < ?", timeText(now)); err != nil {
			return false, fmt.Errorf("store: sweep nonces: %w", err)
		}
	}
	res, err := s.write.ExecContext(ctx, "INSERT INTO api_nonces(access_key_id, nonce, expires_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		accessKeyID, nonce, timeText(expires))
	if err != nil {
		return false, fmt.Errorf("store: nonce: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

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

// Session is a stored console session, keyed by the SHA-256 of its id.
type Session struct {
	IDHash    string
	Principal string // "root", "user/<UserId>" or "" before sign-in
	Data      string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Session returns an unexpired session by the hash of its id.
func (s *Store) Session(ctx context.Context, idHash string) (*Session, error) {
	var ss Session
	var created, expires string
	err := s.read.QueryRowContext(ctx, `SELECT id_hash, principal, data, created_at, expires_at FROM sessions
		WHERE id_hash = ? AND expires_at > ?`, idHash, timeText(s.Now())).Scan(&ss.IDHash, &ss.Principal, &ss.Data, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: session: %w", err)
	}
	ss.CreatedAt, ss.ExpiresAt = parseTime(created), parseTime(expires)
	return &ss, nil
}

// CreateSession stores a new session. Sessions are created only here and
// by RotateSession, never by saving: a session that was deleted (signed
// out, revoked) stays deleted even if a request that loaded it saves later.
func (s *Store) CreateSession(ctx context.Context, ss Session) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO sessions(id_hash, principal, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		ss.IDHash, ss.Principal, ss.Data, timeText(s.Now()), timeText(ss.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// UpdateSession saves the values of an existing, unexpired session; it is
// ErrNotFound when the session is gone, and then nothing is written.
func (s *Store) UpdateSession(ctx context.Context, ss Session) error {
	res, err := s.write.ExecContext(ctx, `UPDATE sessions SET principal = ?, data = ?, expires_at = ? WHERE id_hash = ? AND expires_at > ?`,
		ss.Principal, ss.Data, timeText(ss.ExpiresAt), ss.IDHash, timeText(s.Now()))
	if err != nil {
		return fmt.Errorf("store: update session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: update session: %w", err)
	} else if n == 0 {
		return ErrNotFound
	}
	return nil
}

// RotateSession replaces the session oldHash by ss (a fresh id) in one
// transaction. When oldHash is gone (revoked, signed out, expired) it is
// ErrNotFound and nothing is created: a revocation that commits first wins,
// one that commits after deletes the new row.
func (s *Store) RotateSession(ctx context.Context, oldHash string, ss Session) (err error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: rotate session: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	res, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = ? AND expires_at > ?", oldHash, timeText(s.Now()))
	if err != nil {
		return fmt.Errorf("store: rotate session: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: rotate session: %w", err)
	} else if n == 0 {
		return ErrNotFound
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sessions(id_hash, principal, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		ss.IDHash, ss.Principal, ss.Data, timeText(s.Now()), timeText(ss.ExpiresAt)); err != nil {
		return fmt.Errorf("store: rotate session: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: rotate session: %w", err)
	}
	return nil
}

// DeleteSession removes one session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.write.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = ?", idHash); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteSessionsFor ends every session of principal except keep (a hash, may be empty).
func (tx *Tx) DeleteSessionsFor(ctx context.Context, principal, keep string) error {
	if principal == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE principal = ? AND id_hash <> ?", principal, keep); err != nil {
		return fmt.Errorf("store: delete sessions: %w", err)
	}
	return nil
}

// DeleteSessionsWithValue ends every session whose stored values (a JSON
// object of strings) hold key = value, e.g. the sessions of one sign-in type.
func (tx *Tx) DeleteSessionsWithValue(ctx context.Context, key, value string) error {
	pair, err := json.Marshal(map[string]string{key: value})
	if err != nil {
		return fmt.Errorf("store: delete sessions: %w", err)
	}
	like := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(string(pair[1 : len(pair)-1]))
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE data LIKE ? ESCAPE '\'`, "%"+like+"%"); err != nil {
		return fmt.Errorf("store: delete sessions: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := s.write.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", timeText(s.Now()))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

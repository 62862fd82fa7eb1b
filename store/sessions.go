package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// SaveSession inserts or replaces a session.
func (s *Store) SaveSession(ctx context.Context, ss Session) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO sessions(id_hash, principal, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT(id_hash) DO UPDATE SET principal = excluded.principal, data = excluded.data, expires_at = excluded.expires_at`,
		ss.IDHash, ss.Principal, ss.Data, timeText(s.Now()), timeText(ss.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: save session: %w", err)
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

// DeleteExpiredSessions removes sessions past their expiry.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res, err := s.write.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= ?", timeText(s.Now()))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

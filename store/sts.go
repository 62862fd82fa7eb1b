package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RoleSession is an STS session of a role: what a temporary AccessKey and
// its security token stand for.
type RoleSession struct {
	AccessKeyID     string // STS.…
	RoleID          string
	SessionName     string
	SourcePrincipal string // who assumed the role: "user/<UserId>", or a role session
	SourceName      string // the source's name when it assumed the role
	SourceKeyID     string // the AccessKey it signed AssumeRole with, if any
	SecretEnc       []byte
	TokenHash       string
	SessionPolicy   string // "" when none narrows the session
	MFAPresent      bool
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

const roleSessionColumns = `access_key_id, role_id, session_name, source_principal, source_name, source_key_id, secret_enc, token_hash,
	session_policy, mfa_present, created_at, expires_at`

func scanRoleSession(scan func(...any) error) (*RoleSession, error) {
	var s RoleSession
	var created, expires string
	err := scan(&s.AccessKeyID, &s.RoleID, &s.SessionName, &s.SourcePrincipal, &s.SourceName, &s.SourceKeyID, &s.SecretEnc, &s.TokenHash,
		&s.SessionPolicy, &s.MFAPresent, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: role session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = parseTime(created), parseTime(expires)
	return &s, nil
}

// RoleSession returns a role session by its temporary AccessKey id.
func (r Reads) RoleSession(ctx context.Context, accessKeyID string) (*RoleSession, error) {
	return scanRoleSession(r.queryRow(ctx, "SELECT "+roleSessionColumns+" FROM role_sessions WHERE access_key_id = ?", accessKeyID).Scan)
}

// RoleSessions returns a role's sessions that have not expired at now,
// newest first.
func (r Reads) RoleSessions(ctx context.Context, roleID string, now time.Time) ([]RoleSession, error) {
	rows, err := r.query(ctx, "SELECT "+roleSessionColumns+" FROM role_sessions WHERE role_id = ? AND expires_at > ? ORDER BY created_at DESC",
		roleID, timeText(now))
	if err != nil {
		return nil, fmt.Errorf("store: role sessions: %w", err)
	}
	return collect(rows, scanRoleSession)
}

// CreateRoleSession records a new role session; expired sessions are
// forgotten on the way.
func (tx *Tx) CreateRoleSession(ctx context.Context, s *RoleSession) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM role_sessions WHERE expires_at <= ?", timeText(tx.now)); err != nil {
		return fmt.Errorf("store: forget expired role sessions: %w", err)
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO role_sessions("+roleSessionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		s.AccessKeyID, s.RoleID, s.SessionName, s.SourcePrincipal, s.SourceName, s.SourceKeyID, s.SecretEnc, s.TokenHash,
		s.SessionPolicy, s.MFAPresent, timeText(tx.now), timeText(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create role session: %w", err)
	}
	s.CreatedAt = tx.now
	return nil
}

// DeleteRoleSessions ends every session of a role; it returns how many
// were live.
func (tx *Tx) DeleteRoleSessions(ctx context.Context, roleID string) (int, error) {
	res, err := tx.ExecContext(ctx, "DELETE FROM role_sessions WHERE role_id = ?", roleID)
	if err != nil {
		return 0, fmt.Errorf("store: delete role sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DeleteRoleSession ends one session.
func (tx *Tx) DeleteRoleSession(ctx context.Context, accessKeyID string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM role_sessions WHERE access_key_id = ?", accessKeyID); err != nil {
		return fmt.Errorf("store: delete role session: %w", err)
	}
	return nil
}

// EndRoleSessionsOfKey ends for good every role session started with the
// AccessKey keyID, and every session chained from one of them (assumed
// with its temporary key), in turn; it returns how many it ended.
func (tx *Tx) EndRoleSessionsOfKey(ctx context.Context, keyID string) (int, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM role_sessions WHERE access_key_id IN (
		WITH RECURSIVE ended(id) AS (
			SELECT access_key_id FROM role_sessions WHERE source_key_id = ?
			UNION
			SELECT s.access_key_id FROM role_sessions s JOIN ended e ON s.source_key_id = e.id
		)
		SELECT id FROM ended)`, keyID)
	if err != nil {
		return 0, fmt.Errorf("store: end role sessions of key %q: %w", keyID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// DeleteRoleSessionsFrom removes every role session a principal started
// (its user is deleted). Sessions whose key or parent session is gone are
// refused when loaded (ram's sessionSourceLive) and forgotten at expiry.
func (tx *Tx) DeleteRoleSessionsFrom(ctx context.Context, sourcePrincipal string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM role_sessions WHERE source_principal = ?", sourcePrincipal); err != nil {
		return fmt.Errorf("store: delete role sessions: %w", err)
	}
	return nil
}

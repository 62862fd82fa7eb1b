package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// AccessKey is a user's AccessKey; SecretEnc is the sealed secret.
type AccessKey struct {
	AccessKeyID string
	UserID      string
	SecretEnc   []byte
	Status      string
	CreatedAt   time.Time
	LastUsedAt  time.Time
}

const accessKeyColumns = "access_key_id, user_id, secret_enc, status, created_at, last_used_at"

func scanAccessKey(scan func(...any) error) (*AccessKey, error) {
	var k AccessKey
	var created string
	var last sql.NullString
	err := scan(&k.AccessKeyID, &k.UserID, &k.SecretEnc, &k.Status, &created, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: access key: %w", err)
	}
	k.CreatedAt, k.LastUsedAt = parseTime(created), nullTime(last)
	return &k, nil
}

// AccessKey returns a key by its id.
func (r Reads) AccessKey(ctx context.Context, id string) (*AccessKey, error) {
	return scanAccessKey(r.queryRow(ctx, "SELECT "+accessKeyColumns+" FROM access_keys WHERE access_key_id = ?", id).Scan)
}

// AccessKeys returns a user's keys, oldest first.
func (r Reads) AccessKeys(ctx context.Context, userID string) ([]AccessKey, error) {
	rows, err := r.query(ctx, "SELECT "+accessKeyColumns+" FROM access_keys WHERE user_id = ? ORDER BY created_at, access_key_id", userID)
	if err != nil {
		return nil, fmt.Errorf("store: access keys: %w", err)
	}
	return collect(rows, scanAccessKey)
}

// CreateAccessKey inserts a key.
func (tx *Tx) CreateAccessKey(ctx context.Context, k *AccessKey) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO access_keys(access_key_id, user_id, secret_enc, status, created_at) VALUES (?, ?, ?, ?, ?)",
		k.AccessKeyID, k.UserID, k.SecretEnc, k.Status, timeText(tx.now))
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create access key: %w", err)
	}
	k.CreatedAt = tx.now
	return nil
}

// SetAccessKeyStatus sets a key Active or Inactive.
func (tx *Tx) SetAccessKeyStatus(ctx context.Context, id, status string) error {
	if _, err := tx.ExecContext(ctx, "UPDATE access_keys SET status = ? WHERE access_key_id = ?", status, id); err != nil {
		return fmt.Errorf("store: access key status: %w", err)
	}
	return nil
}

// DeleteAccessKey removes a key and any pending download of it.
func (tx *Tx) DeleteAccessKey(ctx context.Context, id string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM key_downloads WHERE access_key_id = ?", id); err != nil {
		return fmt.Errorf("store: delete access key: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM access_keys WHERE access_key_id = ?", id); err != nil {
		return fmt.Errorf("store: delete access key: %w", err)
	}
	return nil
}

// KeyDownload is a pending one-time CSV download of a new key's secret.
type KeyDownload struct {
	TokenHash   string
	SessionHash string
	AccessKeyID string
	SecretEnc   []byte
	ExpiresAt   time.Time
}

// CreateKeyDownload stores a pending download.
func (tx *Tx) CreateKeyDownload(ctx context.Context, d KeyDownload) error {
	_, err := tx.quiet(ctx, `INSERT INTO key_downloads(token_hash, session_hash, access_key_id, secret_enc, expires_at)
		VALUES (?, ?, ?, ?, ?)`, d.TokenHash, d.SessionHash, d.AccessKeyID, d.SecretEnc, timeText(d.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store: create key download: %w", err)
	}
	return nil
}

// TakeKeyDownload consumes a download: it succeeds once, for the session it
// is bound to, before it expires. Expired downloads are swept on the way.
func (tx *Tx) TakeKeyDownload(ctx context.Context, tokenHash, sessionHash string) (*KeyDownload, error) {
	if _, err := tx.quiet(ctx, "DELETE FROM key_downloads WHERE expires_at <= ?", timeText(tx.now)); err != nil {
		return nil, fmt.Errorf("store: sweep key downloads: %w", err)
	}
	var d KeyDownload
	var exp string
	err := tx.QueryRowContext(ctx, `DELETE FROM key_downloads WHERE token_hash = ? AND session_hash = ?
		RETURNING token_hash, session_hash, access_key_id, secret_enc, expires_at`, tokenHash, sessionHash).Scan(
		&d.TokenHash, &d.SessionHash, &d.AccessKeyID, &d.SecretEnc, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: take key download: %w", err)
	}
	d.ExpiresAt = parseTime(exp)
	return &d, nil
}

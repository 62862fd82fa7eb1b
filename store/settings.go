package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Setting returns a stored setting's JSON, or ErrNotFound.
func (r Reads) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := r.queryRow(ctx, "SELECT value FROM settings WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: setting %s: %w", name, err)
	}
	return v, nil
}

// PutSetting stores a setting's JSON.
func (tx *Tx) PutSetting(ctx context.Context, name, value string) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO settings(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value", name, value)
	if err != nil {
		return fmt.Errorf("store: put setting %s: %w", name, err)
	}
	return nil
}

// SetAlias sets or clears (empty) the account alias.
func (tx *Tx) SetAlias(ctx context.Context, alias string) error {
	_, err := tx.ExecContext(ctx, "UPDATE account SET alias = nullif(?, '') WHERE id = 1", alias)
	return err
}

// CreateMFATicket remembers a device that passed MFA for principal until expires.
func (tx *Tx) CreateMFATicket(ctx context.Context, tokenHash, principal string, expires time.Time) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO mfa_tickets(token_hash, principal, expires_at) VALUES (?, ?, ?)", tokenHash, principal, timeText(expires))
	return err
}

// ValidMFATicket reports whether a remembered-device ticket is live for principal.
func (r Reads) ValidMFATicket(ctx context.Context, tokenHash, principal string, now time.Time) (bool, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM mfa_tickets WHERE token_hash = ? AND principal = ? AND expires_at > ?",
		tokenHash, principal, timeText(now)).Scan(&n)
	return n > 0, err
}

// DeleteMFATickets forgets every remembered device of principal.
func (tx *Tx) DeleteMFATickets(ctx context.Context, principal string) error {
	_, err := tx.ExecContext(ctx, "DELETE FROM mfa_tickets WHERE principal = ?", principal)
	return err
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Account is the deployment's one account.
type Account struct {
	AccountID string
	Alias     string // empty until set
	CreatedAt time.Time
}

// Owner is the root identity.
type Owner struct {
	Email             string
	PasswordHash      string
	PasswordChangedAt time.Time
	FailedCount       int
	LockedUntil       time.Time
	LastLoginAt       time.Time
	CreatedAt         time.Time
}

// Account returns the account, or ErrNotFound before setup.
func (r Reads) Account(ctx context.Context) (*Account, error) {
	return scanAccount(r.queryRow(ctx, "SELECT account_id, coalesce(alias, ''), created_at FROM account WHERE id = 1"))
}

func scanAccount(row *sql.Row) (*Account, error) {
	var a Account
	var created string
	if err := row.Scan(&a.AccountID, &a.Alias, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: account: %w", err)
	}
	a.CreatedAt = parseTime(created)
	return &a, nil
}

// CreateAccount creates the account and its owner; ErrConflict if one exists.
func (tx *Tx) CreateAccount(ctx context.Context, a Account, o Owner) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO account(id, account_id, alias, created_at) VALUES (1, ?, nullif(?, ''), ?)",
		a.AccountID, a.Alias, timeText(tx.now))
	if err != nil {
		if isUniqueViolation(err) {
			return ErrConflict
		}
		return fmt.Errorf("store: create account: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO owner(id, email, password_hash, password_changed_at, created_at)
		VALUES (1, ?, ?, ?, ?)`, o.Email, o.PasswordHash, timeText(tx.now), timeText(tx.now))
	if err != nil {
		return fmt.Errorf("store: create owner: %w", err)
	}
	return nil
}

const ownerColumns = "email, password_hash, password_changed_at, failed_count, locked_until, last_login_at, created_at"

func scanOwner(row *sql.Row) (*Owner, error) {
	var o Owner
	var changed, created string
	var locked, last sql.NullString
	if err := row.Scan(&o.Email, &o.PasswordHash, &changed, &o.FailedCount, &locked, &last, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: owner: %w", err)
	}
	o.PasswordChangedAt = parseTime(changed)
	o.CreatedAt = parseTime(created)
	o.LockedUntil = nullTime(locked)
	o.LastLoginAt = nullTime(last)
	return &o, nil
}

// Owner returns the owner, or ErrNotFound before setup.
func (r Reads) Owner(ctx context.Context) (*Owner, error) {
	return scanOwner(r.queryRow(ctx, "SELECT "+ownerColumns+" FROM owner WHERE id = 1"))
}

// RecordOwnerFailure counts one failed password or MFA attempt in a single
// atomic update: a failure more than window after the first of a run starts
// a new run; reaching max locks the owner for lockFor. It returns the lock
// expiry (zero when not locked).
func (tx *Tx) RecordOwnerFailure(ctx context.Context, max int, window, lockFor time.Duration) (time.Time, error) {
	return tx.recordFailure(ctx, "owner", "id = 1", max, window, lockFor)
}

// ClearOwnerFailures resets the failure counter after a successful sign-in.
func (tx *Tx) ClearOwnerFailures(ctx context.Context, loggedIn bool) error {
	q := "UPDATE owner SET failed_count = 0, fail_window_start = NULL, locked_until = NULL WHERE id = 1"
	args := []any{}
	if loggedIn {
		q = "UPDATE owner SET failed_count = 0, fail_window_start = NULL, locked_until = NULL, last_login_at = ? WHERE id = 1"
		args = append(args, timeText(tx.now))
	}
	_, err := tx.quiet(ctx, q, args...)
	return err
}

// recordFailure is shared by every identity table that has the lockout columns.
func (tx *Tx) recordFailure(ctx context.Context, table, where string, max int, window, lockFor time.Duration, args ...any) (time.Time, error) {
	now := timeText(tx.now)
	windowStart := timeText(tx.now.Add(-window))
	lockUntil := timeText(tx.now.Add(lockFor))
	q := fmt.Sprintf(`UPDATE %s SET
		failed_count = CASE WHEN fail_window_start IS NULL OR fail_window_start <= ?1 THEN 1 ELSE failed_count + 1 END,
		fail_window_start = CASE WHEN fail_window_start IS NULL OR fail_window_start <= ?1 THEN ?2 ELSE fail_window_start END,
		locked_until = CASE
			WHEN ?3 > 0 AND (CASE WHEN fail_window_start IS NULL OR fail_window_start <= ?1 THEN 1 ELSE failed_count + 1 END) >= ?3 THEN ?4
			ELSE locked_until END
		WHERE %s RETURNING locked_until`, table, where)
	full := append([]any{windowStart, now, max, lockUntil}, args...)
	var locked sql.NullString
	if err := tx.QueryRowContext(ctx, q, full...).Scan(&locked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return time.Time{}, ErrNotFound
		}
		return time.Time{}, fmt.Errorf("store: record failure: %w", err)
	}
	until := nullTime(locked)
	if !until.After(tx.now) {
		return time.Time{}, nil
	}
	return until, nil
}

// SetOwnerPassword replaces the owner's password hash.
func (tx *Tx) SetOwnerPassword(ctx context.Context, hash string) error {
	_, err := tx.ExecContext(ctx, "UPDATE owner SET password_hash = ?, password_changed_at = ? WHERE id = 1", hash, timeText(tx.now))
	return err
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// CredentialReport is the latest credential report: when it was generated
// and its CSV, header line first.
type CredentialReport struct {
	GeneratedAt time.Time
	Content     string
}

// CredentialReport returns the latest credential report, or ErrNotFound
// before the first one.
func (r Reads) CredentialReport(ctx context.Context) (*CredentialReport, error) {
	var rep CredentialReport
	var generated string
	err := r.queryRow(ctx, "SELECT generated_at, content FROM credential_report WHERE id = 1").Scan(&generated, &rep.Content)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: credential report: %w", err)
	}
	rep.GeneratedAt = parseTime(generated)
	return &rep, nil
}

// PutCredentialReport replaces the latest credential report.
func (tx *Tx) PutCredentialReport(ctx context.Context, rep CredentialReport) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO credential_report(id, generated_at, content) VALUES (1, ?, ?)
		ON CONFLICT(id) DO UPDATE SET generated_at = excluded.generated_at, content = excluded.content`,
		timeText(rep.GeneratedAt), rep.Content)
	if err != nil {
		return fmt.Errorf("store: put credential report: %w", err)
	}
	return nil
}

// CredentialUser is what the credential report says of one RAM user: the
// user, its login profile (LoginStatus "" without one) and whether it has a
// second factor (a TOTP device bound or a security key).
type CredentialUser struct {
	User
	LoginStatus       string
	PasswordChangedAt time.Time
	HasSecondFactor   bool
}

// CredentialUsers returns every RAM user with its login profile and second
// factor, in no particular order.
func (r Reads) CredentialUsers(ctx context.Context) ([]CredentialUser, error) {
	rows, err := r.query(ctx, `SELECT u.user_id, u.user_name, u.display_name, u.email, u.mobile_phone, u.comments, u.created_at,
		u.updated_at, u.last_login_at, u.failed_count, u.locked_until,
		coalesce(lp.status, ''), lp.password_changed_at, `+hasFactorOf("'user/' || u.user_id")+`
		FROM users u LEFT JOIN login_profiles lp ON lp.user_id = u.user_id`)
	if err != nil {
		return nil, fmt.Errorf("store: credential users: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*CredentialUser, error) {
		var cu CredentialUser
		var changed sql.NullString
		u, err := scanUser(func(dest ...any) error {
			return scan(append(dest, &cu.LoginStatus, &changed, &cu.HasSecondFactor)...)
		})
		if err != nil {
			return nil, err
		}
		cu.User, cu.PasswordChangedAt = *u, nullTime(changed)
		return &cu, nil
	})
}

// AllAccessKeys returns every user's AccessKeys, by user and oldest first.
func (r Reads) AllAccessKeys(ctx context.Context) ([]AccessKey, error) {
	rows, err := r.query(ctx, "SELECT "+accessKeyColumns+" FROM access_keys ORDER BY user_id, created_at, access_key_id")
	if err != nil {
		return nil, fmt.Errorf("store: access keys: %w", err)
	}
	return collect(rows, scanAccessKey)
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is a RAM user.
type User struct {
	UserID      string
	UserName    string
	DisplayName string
	Email       string
	MobilePhone string
	Comments    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt time.Time
	FailedCount int
	LockedUntil time.Time
}

// Principal is how sessions, MFA devices and tickets name the user.
func (u *User) Principal() string { return "user/" + u.UserID }

const userColumns = `user_id, user_name, display_name, email, mobile_phone, comments, created_at, updated_at,
	last_login_at, failed_count, locked_until`

func scanUser(scan func(...any) error) (*User, error) {
	var u User
	var created, updated string
	var last, locked sql.NullString
	err := scan(&u.UserID, &u.UserName, &u.DisplayName, &u.Email, &u.MobilePhone, &u.Comments, &created, &updated,
		&last, &u.FailedCount, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: user: %w", err)
	}
	u.CreatedAt, u.UpdatedAt = parseTime(created), parseTime(updated)
	u.LastLoginAt, u.LockedUntil = nullTime(last), nullTime(locked)
	return &u, nil
}

// UserByName returns a user by name, case-insensitively.
func (r Reads) UserByName(ctx context.Context, name string) (*User, error) {
	return scanUser(r.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE user_name_lower = ?", strings.ToLower(name)).Scan)
}

// UserByID returns a user by UserId.
func (r Reads) UserByID(ctx context.Context, id string) (*User, error) {
	return scanUser(r.queryRow(ctx, "SELECT "+userColumns+" FROM users WHERE user_id = ?", id).Scan)
}

// UserFilter selects a page of users: names or display names starting with
// Query (case-insensitive), after the name After, at most Limit.
type UserFilter struct {
	Query string
	After string
	Limit int
}

// Users returns a page of users ordered by name. Search and paging both run
// on indexes (prefix ranges, keyset after the last name; never OFFSET).
func (r Reads) Users(ctx context.Context, f UserFilter) ([]User, error) {
	after := strings.ToLower(f.After)
	var rows *sql.Rows
	var err error
	if q := strings.ToLower(f.Query); q != "" {
		hi := q + "\U0010FFFF"
		union := `SELECT ` + userColumns + ` FROM users WHERE user_name_lower > ?1 AND user_name_lower >= ?2 AND user_name_lower < ?3
			UNION
			SELECT ` + userColumns + ` FROM users WHERE display_lower >= ?2 AND display_lower < ?3 AND user_name_lower > ?1`
		if r.store != nil && r.store.pg {
			// A UNION orders by its output columns only; lower() under
			// COLLATE "C" folds ASCII, as SQLite's NOCASE does.
			rows, err = r.query(ctx, `SELECT * FROM (`+union+`) u ORDER BY lower(u.user_name) LIMIT ?4`, after, q, hi, f.Limit)
		} else {
			rows, err = r.query(ctx, union+` ORDER BY 2 COLLATE NOCASE LIMIT ?4`, after, q, hi, f.Limit)
		}
	} else {
		rows, err = r.query(ctx, `SELECT `+userColumns+` FROM users WHERE user_name_lower > ? ORDER BY user_name_lower LIMIT ?`, after, f.Limit)
	}
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return collect(rows, scanUser)
}

// CountUsers returns the number of users.
func (r Reads) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

// CreateUser inserts a user; ErrConflict when the name is taken.
func (tx *Tx) CreateUser(ctx context.Context, u *User) error {
	now := timeText(tx.now)
	_, err := tx.ExecContext(ctx, `INSERT INTO users(user_id, user_name, user_name_lower, display_name, display_lower, email,
		mobile_phone, comments, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.UserID, u.UserName, strings.ToLower(u.UserName), u.DisplayName, strings.ToLower(u.DisplayName), u.Email,
		u.MobilePhone, u.Comments, now, now)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create user %q: %w", u.UserName, err)
	}
	u.CreatedAt, u.UpdatedAt = tx.now, tx.now
	return nil
}

// UpdateUser writes a user's profile (rename included); ErrConflict when the
// new name is taken.
func (tx *Tx) UpdateUser(ctx context.Context, u *User) error {
	_, err := tx.ExecContext(ctx, `UPDATE users SET user_name = ?, user_name_lower = ?, display_name = ?, display_lower = ?,
		email = ?, mobile_phone = ?, comments = ?, updated_at = ? WHERE user_id = ?`,
		u.UserName, strings.ToLower(u.UserName), u.DisplayName, strings.ToLower(u.DisplayName), u.Email, u.MobilePhone,
		u.Comments, timeText(tx.now), u.UserID)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: update user %q: %w", u.UserName, err)
	}
	u.UpdatedAt = tx.now
	return nil
}

// DeleteUser removes a user with everything that hangs off it: login profile,
// AccessKeys, memberships, attachments (foreign keys cascade), its MFA
// device, sessions and tickets.
func (tx *Tx) DeleteUser(ctx context.Context, u *User) error {
	p := u.Principal()
	for _, q := range []string{
		"DELETE FROM mfa_devices WHERE principal = ?",
		"DELETE FROM security_keys WHERE principal = ?",
		"DELETE FROM webauthn_handles WHERE principal = ?",
		"DELETE FROM oidc_tokens WHERE family IN (SELECT family FROM oidc_families WHERE principal = ?)",
		"UPDATE oidc_families SET revoked = 1 WHERE principal = ?",
		"DELETE FROM sessions WHERE principal = ?",
		"DELETE FROM mfa_tickets WHERE principal = ?",
	} {
		if _, err := tx.ExecContext(ctx, q, p); err != nil {
			return fmt.Errorf("store: delete user %q: %w", u.UserName, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM users WHERE user_id = ?", u.UserID); err != nil {
		return fmt.Errorf("store: delete user %q: %w", u.UserName, err)
	}
	return nil
}

// RecordUserFailure counts a failed sign-in attempt; see RecordOwnerFailure.
func (tx *Tx) RecordUserFailure(ctx context.Context, userID string, max int, window, lockFor time.Duration) (time.Time, error) {
	return tx.recordFailure(ctx, "users", "user_id = ?5", max, window, lockFor, userID)
}

// ClearUserFailures resets the counter (unlock, or a successful sign-in).
func (tx *Tx) ClearUserFailures(ctx context.Context, userID string, loggedIn bool) error {
	q := "UPDATE users SET failed_count = 0, fail_window_start = NULL, locked_until = NULL WHERE user_id = ?"
	args := []any{userID}
	if loggedIn {
		q = "UPDATE users SET failed_count = 0, fail_window_start = NULL, locked_until = NULL, last_login_at = ? WHERE user_id = ?"
		args = []any{timeText(tx.now), userID}
	}
	_, err := tx.quiet(ctx, q, args...)
	return err
}

// LoginProfile is a user's console access.
type LoginProfile struct {
	UserID                string
	PasswordHash          string
	PasswordResetRequired bool
	MFABindRequired       bool
	Status                string
	PasswordChangedAt     time.Time
	CreatedAt             time.Time
	UpdatedAt             time.Time
}

// LoginProfile returns a user's login profile, or ErrNotFound.
func (r Reads) LoginProfile(ctx context.Context, userID string) (*LoginProfile, error) {
	var lp LoginProfile
	var changed, created, updated string
	err := r.queryRow(ctx, `SELECT user_id, password_hash, password_reset_required, mfa_bind_required, status,
		password_changed_at, created_at, updated_at FROM login_profiles WHERE user_id = ?`, userID).Scan(
		&lp.UserID, &lp.PasswordHash, &lp.PasswordResetRequired, &lp.MFABindRequired, &lp.Status, &changed, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: login profile: %w", err)
	}
	lp.PasswordChangedAt, lp.CreatedAt, lp.UpdatedAt = parseTime(changed), parseTime(created), parseTime(updated)
	return &lp, nil
}

// PutLoginProfile creates or replaces a user's login profile. A new password
// hash (different from the stored one) restarts the password's age.
func (tx *Tx) PutLoginProfile(ctx context.Context, lp *LoginProfile) error {
	now := timeText(tx.now)
	if lp.PasswordChangedAt.IsZero() {
		lp.PasswordChangedAt = tx.now
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO login_profiles(user_id, password_hash, password_reset_required, mfa_bind_required,
		status, password_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(user_id) DO UPDATE SET password_hash = excluded.password_hash,
			password_reset_required = excluded.password_reset_required, mfa_bind_required = excluded.mfa_bind_required,
			status = excluded.status, password_changed_at = excluded.password_changed_at, updated_at = excluded.updated_at`,
		lp.UserID, lp.PasswordHash, lp.PasswordResetRequired, lp.MFABindRequired, lp.Status, timeText(lp.PasswordChangedAt), now, now)
	if err != nil {
		return fmt.Errorf("store: put login profile: %w", err)
	}
	return nil
}

// DeleteLoginProfile removes a user's console access.
func (tx *Tx) DeleteLoginProfile(ctx context.Context, userID string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM login_profiles WHERE user_id = ?", userID)
	if err != nil {
		return fmt.Errorf("store: delete login profile: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// PasswordHistory returns the hashes of a user's last n passwords, newest first.
func (r Reads) PasswordHistory(ctx context.Context, userID string, n int) ([]string, error) {
	rows, err := r.query(ctx, "SELECT password_hash FROM password_history WHERE user_id = ? ORDER BY id DESC LIMIT ?", userID, n)
	if err != nil {
		return nil, fmt.Errorf("store: password history: %w", err)
	}
	return collect(rows, scanString)
}

// AddPasswordHistory remembers a password hash, keeping the newest keep.
func (tx *Tx) AddPasswordHistory(ctx context.Context, userID, hash string, keep int) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO password_history(user_id, password_hash, created_at) VALUES (?, ?, ?)",
		userID, hash, timeText(tx.now)); err != nil {
		return fmt.Errorf("store: password history: %w", err)
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM password_history WHERE user_id = ?1 AND id NOT IN
		(SELECT id FROM password_history WHERE user_id = ?1 ORDER BY id DESC LIMIT ?2)`, userID, keep)
	return err
}

// UserLogin returns a user with its login profile (nil when it has none)
// and whether it has an MFA device, in one query: the per-request identity
// check of a signed-in session.
func (r Reads) UserLogin(ctx context.Context, userID string) (*User, *LoginProfile, bool, error) {
	var lpUser, lpHash, lpStatus, lpChanged, lpCreated, lpUpdated sql.NullString
	var lpReset, lpMFA sql.NullBool
	var hasMFA bool
	var joined []any
	u, err := scanUser(func(dest ...any) error {
		joined = append(dest, &lpUser, &lpHash, &lpReset, &lpMFA, &lpStatus, &lpChanged, &lpCreated, &lpUpdated, &hasMFA)
		return r.queryRow(ctx, `SELECT u.user_id, u.user_name, u.display_name, u.email, u.mobile_phone, u.comments,
			u.created_at, u.updated_at, u.last_login_at, u.failed_count, u.locked_until,
			lp.user_id, lp.password_hash, lp.password_reset_required, lp.mfa_bind_required, lp.status,
			lp.password_changed_at, lp.created_at, lp.updated_at,
			`+hasFactorOf("'user/' || u.user_id")+`
			FROM users u LEFT JOIN login_profiles lp ON lp.user_id = u.user_id WHERE u.user_id = ?`, userID).Scan(joined...)
	})
	if err != nil {
		return nil, nil, false, err
	}
	if !lpUser.Valid {
		return u, nil, hasMFA, nil
	}
	lp := &LoginProfile{UserID: lpUser.String, PasswordHash: lpHash.String, PasswordResetRequired: lpReset.Bool,
		MFABindRequired: lpMFA.Bool, Status: lpStatus.String, PasswordChangedAt: parseTime(lpChanged.String),
		CreatedAt: parseTime(lpCreated.String), UpdatedAt: parseTime(lpUpdated.String)}
	return u, lp, hasMFA, nil
}

// Stats are the overview's counts.
type Stats struct {
	Users, Groups, CustomPolicies int
	ConsoleUsersWithoutMFA        int
	KeysUnused90Days              int
}

// Stats counts what the overview shows; keys unused for 90 days are those
// last used (or, never used, created) before since.
func (r Reads) Stats(ctx context.Context, since time.Time) (Stats, error) {
	var st Stats
	err := r.queryRow(ctx, `SELECT
		(SELECT count(*) FROM users),
		(SELECT count(*) FROM groups),
		(SELECT count(*) FROM policies),
		(SELECT count(*) FROM login_profiles lp WHERE NOT `+hasFactorOf("'user/' || lp.user_id")+`),
		(SELECT count(*) FROM access_keys WHERE coalesce(last_used_at, created_at) < ?)`, timeText(since)).Scan(
		&st.Users, &st.Groups, &st.CustomPolicies, &st.ConsoleUsersWithoutMFA, &st.KeysUnused90Days)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	return st, nil
}

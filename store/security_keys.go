package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SecurityKey is a registered WebAuthn credential of an identity: a second
// factor beside the TOTP device. Nothing in it is secret (the public key is
// public), but only its name, dates and a short credential-id prefix are
// ever shown.
type SecurityKey struct {
	ID                string // random, URL-safe: routes name a key by it
	Principal         string // "root" or "user/<UserId>"
	Name              string
	CredentialID      []byte
	PublicKey         []byte // COSE key
	AAGUID            []byte
	SignCount         uint32
	Transports        []string
	BackupEligible    bool
	BackupState       bool
	AttestationFormat string
	CreatedAt         time.Time
	LastUsedAt        time.Time
}

const securityKeyColumns = `id, principal, name, credential_id, public_key, aaguid, sign_count, transports,
	backup_eligible, backup_state, attestation_format, created_at, last_used_at`

func scanSecurityKey(scan func(dest ...any) error) (*SecurityKey, error) {
	var k SecurityKey
	var transports, created string
	var used sql.NullString
	var count, be, bs int64
	if err := scan(&k.ID, &k.Principal, &k.Name, &k.CredentialID, &k.PublicKey, &k.AAGUID, &count, &transports,
		&be, &bs, &k.AttestationFormat, &created, &used); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: security key: %w", err)
	}
	k.SignCount, k.BackupEligible, k.BackupState = uint32(count), be != 0, bs != 0
	if transports != "" {
		k.Transports = strings.Split(transports, ",")
	}
	k.CreatedAt, k.LastUsedAt = parseTime(created), nullTime(used)
	return &k, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// SecurityKeysOf lists an identity's keys, oldest first.
func (r Reads) SecurityKeysOf(ctx context.Context, principal string) ([]SecurityKey, error) {
	rows, err := r.query(ctx, "SELECT "+securityKeyColumns+" FROM security_keys WHERE principal = ? ORDER BY created_at, id", principal)
	if err != nil {
		return nil, fmt.Errorf("store: security keys: %w", err)
	}
	return collect(rows, scanSecurityKey)
}

// SecurityKey returns one key of an identity by its id, or ErrNotFound
// (another identity's key is not found either).
func (r Reads) SecurityKey(ctx context.Context, principal, id string) (*SecurityKey, error) {
	return scanSecurityKey(r.queryRow(ctx, "SELECT "+securityKeyColumns+" FROM security_keys WHERE principal = ? AND id = ?", principal, id).Scan)
}

// HasSecondFactor reports whether an identity has a TOTP device bound or a
// security key.
func (r Reads) HasSecondFactor(ctx context.Context, principal string) (bool, error) {
	var has bool
	err := r.queryRow(ctx, "SELECT "+hasFactorOf("?"), principal, principal).Scan(&has)
	if err != nil {
		return false, fmt.Errorf("store: second factor: %w", err)
	}
	return has, nil
}

// hasFactorOf is the SQL condition "the identity whose principal is the
// expression p has a TOTP device bound or a security key". p is SQL (a
// placeholder, given twice, or a column expression).
func hasFactorOf(p string) string {
	return "(EXISTS (SELECT 1 FROM mfa_devices d WHERE d.principal = " + p + ") OR EXISTS (SELECT 1 FROM security_keys sk WHERE sk.principal = " + p + "))"
}

// ErrLimitExceeded is returned when a write would pass a per-identity limit.
var ErrLimitExceeded = errors.New("store: limit exceeded")

// AddSecurityKey stores a new key of k.Principal, allowing at most max keys
// per identity. ErrConflict when the name (case-insensitively) or the
// credential id is taken; ErrLimitExceeded at max keys.
func (tx *Tx) AddSecurityKey(ctx context.Context, k SecurityKey, max int) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM security_keys WHERE principal = ?", k.Principal).Scan(&n); err != nil {
		return fmt.Errorf("store: count security keys: %w", err)
	}
	if n >= max {
		return ErrLimitExceeded
	}
	err := tx.savepoint(ctx, func() error {
		_, err := tx.ExecContext(ctx, `INSERT INTO security_keys(id, principal, name, name_lower, credential_id, public_key, aaguid,
			sign_count, transports, backup_eligible, backup_state, attestation_format, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Principal, k.Name, strings.ToLower(k.Name), k.CredentialID, k.PublicKey, k.AAGUID, int64(k.SignCount),
			strings.Join(k.Transports, ","), boolInt(k.BackupEligible), boolInt(k.BackupState), k.AttestationFormat, timeText(tx.now))
		return err
	})
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: add security key: %w", err)
	}
	return nil
}

// CredentialTaken reports whether any identity registered this credential id.
func (r Reads) CredentialTaken(ctx context.Context, credentialID []byte) (bool, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM security_keys WHERE credential_id = ?", credentialID).Scan(&n)
	return n > 0, err
}

// UseSecurityKey records a sign-in with a key: its new sign count, flags and
// use time, atomically and only while the stored count is still below the
// new one (or both are 0, for keys that keep no counter), so two racing
// answers with the same count cannot both pass. false when the count did
// not move forward or the key is gone.
func (tx *Tx) UseSecurityKey(ctx context.Context, principal, id string, count uint32, backupState bool) (bool, error) {
	res, err := tx.quiet(ctx, `UPDATE security_keys SET sign_count = ?, backup_state = ?, last_used_at = ?
		WHERE principal = ? AND id = ? AND (sign_count < ? OR sign_count = 0 AND ? = 0)`,
		int64(count), boolInt(backupState), timeText(tx.now), principal, id, int64(count), int64(count))
	if err != nil {
		return false, fmt.Errorf("store: use security key: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// DeleteSecurityKey removes one key of an identity; ErrNotFound when it has
// no key of that id.
func (tx *Tx) DeleteSecurityKey(ctx context.Context, principal, id string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM security_keys WHERE principal = ? AND id = ?", principal, id)
	if err != nil {
		return fmt.Errorf("store: delete security key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteSecurityKeysOf removes every key of an identity and returns them.
func (tx *Tx) DeleteSecurityKeysOf(ctx context.Context, principal string) ([]SecurityKey, error) {
	keys, err := tx.SecurityKeysOf(ctx, principal)
	if err != nil || len(keys) == 0 {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM security_keys WHERE principal = ?", principal); err != nil {
		return nil, fmt.Errorf("store: delete security keys: %w", err)
	}
	return keys, nil
}

// WebAuthnHandle returns an identity's WebAuthn user handle, or ErrNotFound.
func (r Reads) WebAuthnHandle(ctx context.Context, principal string) ([]byte, error) {
	var h []byte
	err := r.queryRow(ctx, "SELECT handle FROM webauthn_handles WHERE principal = ?", principal).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: webauthn handle: %w", err)
	}
	return h, nil
}

// EnsureWebAuthnHandle gives an identity the handle h unless it has one,
// and returns the one it has.
func (tx *Tx) EnsureWebAuthnHandle(ctx context.Context, principal string, h []byte) ([]byte, error) {
	if have, err := tx.WebAuthnHandle(ctx, principal); err == nil {
		return have, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if _, err := tx.quiet(ctx, "INSERT INTO webauthn_handles(principal, handle) VALUES (?, ?)", principal, h); err != nil {
		return nil, fmt.Errorf("store: webauthn handle: %w", err)
	}
	return h, nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MFADevice is a virtual (TOTP) MFA device. SeedEnc is the sealed seed.
type MFADevice struct {
	ID        int64
	Serial    string
	Principal string // "root" or "user/<UserId>" while bound; empty when unbound
	SeedEnc   []byte
	LastStep  int64
	CreatedAt time.Time
	BoundAt   time.Time
}

const mfaColumns = "id, serial, coalesce(principal, ''), seed_enc, last_step, created_at, bound_at"

func scanMFA(row *sql.Row) (*MFADevice, error) {
	var d MFADevice
	var created string
	var bound sql.NullString
	if err := row.Scan(&d.ID, &d.Serial, &d.Principal, &d.SeedEnc, &d.LastStep, &created, &bound); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: mfa device: %w", err)
	}
	d.CreatedAt = parseTime(created)
	d.BoundAt = nullTime(bound)
	return &d, nil
}

// MFADeviceFor returns the device bound to principal, or ErrNotFound.
func (r Reads) MFADeviceFor(ctx context.Context, principal string) (*MFADevice, error) {
	return scanMFA(r.queryRow(ctx, "SELECT "+mfaColumns+" FROM mfa_devices WHERE principal = ?", principal))
}

// NextMFADeviceID reserves the id the next device will get, so its seed can
// be sealed with the id as additional data before the row is written.
func (tx *Tx) NextMFADeviceID(ctx context.Context) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) + 1 FROM mfa_devices").Scan(&id)
	return id, err
}

// BindMFADevice writes a device already bound to d.Principal.
// ErrConflict when the principal already has one or the serial is taken.
func (tx *Tx) BindMFADevice(ctx context.Context, d MFADevice) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mfa_devices(id, serial, principal, seed_enc, last_step, created_at, bound_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, d.ID, d.Serial, d.Principal, d.SeedEnc, d.LastStep, timeText(tx.now), timeText(tx.now))
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: bind mfa device: %w", err)
	}
	return nil
}

// DeleteMFADeviceFor removes the device bound to principal.
func (tx *Tx) DeleteMFADeviceFor(ctx context.Context, principal string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM mfa_devices WHERE principal = ?", principal)
	if err != nil {
		return fmt.Errorf("store: delete mfa device: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// UseMFAStep marks a time step as used, atomically: it succeeds only when
// step is later than every step used before, so each code is accepted once.
func (tx *Tx) UseMFAStep(ctx context.Context, deviceID, step int64) (bool, error) {
	res, err := tx.quiet(ctx, "UPDATE mfa_devices SET last_step = ? WHERE id = ? AND last_step < ?", step, deviceID, step)
	if err != nil {
		return false, fmt.Errorf("store: use mfa step: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// UnbindMFADeviceFor leaves the device bound to principal in place, unbound
// (a virtual MFA device of the account, as RAM's UnbindMFADevice does).
func (tx *Tx) UnbindMFADeviceFor(ctx context.Context, principal string) error {
	res, err := tx.ExecContext(ctx, "UPDATE mfa_devices SET principal = NULL, bound_at = NULL WHERE principal = ?", principal)
	if err != nil {
		return fmt.Errorf("store: unbind mfa device: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// SerialTaken reports whether a device has this serial.
func (r Reads) SerialTaken(ctx context.Context, serial string) (bool, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM mfa_devices WHERE serial = ?", serial).Scan(&n)
	return n > 0, err
}

// SetMFADeviceSerial renames a device; ErrConflict when the serial is taken.
func (tx *Tx) SetMFADeviceSerial(ctx context.Context, id int64, serial string) error {
	var res sql.Result
	err := tx.savepoint(ctx, func() (err error) {
		res, err = tx.ExecContext(ctx, "UPDATE mfa_devices SET serial = ? WHERE id = ?", serial, id)
		return err
	})
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: set mfa device serial: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

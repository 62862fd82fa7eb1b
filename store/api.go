package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"
)

// markKeyUsed records a key's use at t (LastUsedDate), never moving it back.
func (tx *Tx) markKeyUsed(ctx context.Context, id string, t time.Time) error {
	_, err := tx.quiet(ctx, `UPDATE access_keys SET last_used_at = ? WHERE access_key_id = ?
		AND (last_used_at IS NULL OR last_used_at < ?)`, timeText(t), id, timeText(t))
	if err != nil {
		return fmt.Errorf("store: mark access key used: %w", err)
	}
	return nil
}

// EventMark tells whether a request left an audit event: a context from
// WithEventMark carries one, and every event written with that context sets
// it once it is committed (or, for a queued record, in the journal).
type EventMark struct {
	set  atomic.Bool
	auth pendingAuth // the request's decisions, until its event is written
}

type eventMarkKey struct{}

// WithEventMark returns a context whose events set the returned mark.
func WithEventMark(ctx context.Context) (context.Context, *EventMark) {
	m := &EventMark{}
	return context.WithValue(ctx, eventMarkKey{}, m), m
}

// Recorded reports whether an event of the request was written.
func (m *EventMark) Recorded() bool { return m.set.Load() }

func markOf(ctx context.Context) *EventMark {
	m, _ := ctx.Value(eventMarkKey{}).(*EventMark)
	return m
}

// AccessKeyWithUser returns a key and the user it belongs to in one query
// (the OpenAPI's authentication, on every call).
func (r Reads) AccessKeyWithUser(ctx context.Context, id string) (*AccessKey, *User, error) {
	var k AccessKey
	var kCreated string
	var kLast sql.NullString
	row := r.queryRow(ctx, `SELECT k.access_key_id, k.user_id, k.secret_enc, k.status, k.created_at, k.last_used_at,
		u.user_id, u.user_name, u.display_name, u.email, u.mobile_phone, u.comments, u.created_at, u.updated_at,
		u.last_login_at, u.failed_count, u.locked_until
		FROM access_keys k JOIN users u ON u.user_id = k.user_id WHERE k.access_key_id = ?`, id)
	u, err := scanUser(func(dest ...any) error {
		return row.Scan(append([]any{&k.AccessKeyID, &k.UserID, &k.SecretEnc, &k.Status, &kCreated, &kLast}, dest...)...)
	})
	if err != nil {
		return nil, nil, err
	}
	k.CreatedAt, k.LastUsedAt = parseTime(kCreated), nullTime(kLast)
	return &k, u, nil
}

// MFADeviceBySerial returns a device by its serial number.
func (r Reads) MFADeviceBySerial(ctx context.Context, serial string) (*MFADevice, error) {
	return scanMFA(r.queryRow(ctx, "SELECT "+mfaColumns+" FROM mfa_devices WHERE serial = ?", serial))
}

// VirtualMFADevices returns the RAM users' devices, bound or not (the
// owner's is not one of them), ordered by serial.
func (r Reads) VirtualMFADevices(ctx context.Context) ([]MFADevice, error) {
	rows, err := r.query(ctx, "SELECT "+mfaColumns+" FROM mfa_devices WHERE principal IS NULL OR principal <> 'root' ORDER BY serial")
	if err != nil {
		return nil, fmt.Errorf("store: virtual mfa devices: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*MFADevice, error) {
		var d MFADevice
		var created string
		var bound sql.NullString
		if err := scan(&d.ID, &d.Serial, &d.Principal, &d.SeedEnc, &d.LastStep, &created, &bound); err != nil {
			return nil, fmt.Errorf("store: virtual mfa devices: %w", err)
		}
		d.CreatedAt, d.BoundAt = parseTime(created), nullTime(bound)
		return &d, nil
	})
}

// CountUnboundMFADevices counts the devices created and not yet bound.
func (r Reads) CountUnboundMFADevices(ctx context.Context) (int, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM mfa_devices WHERE principal IS NULL").Scan(&n)
	return n, err
}

// CreateVirtualMFADevice writes an unbound device. ErrConflict when the
// serial is taken.
func (tx *Tx) CreateVirtualMFADevice(ctx context.Context, d MFADevice) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO mfa_devices(id, serial, principal, seed_enc, last_step, created_at)
		VALUES (?, ?, NULL, ?, 0, ?)`, d.ID, d.Serial, d.SeedEnc, timeText(tx.now))
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create virtual mfa device: %w", err)
	}
	return nil
}

// BindVirtualMFADevice binds an unbound device to principal with the last
// time step its binding codes used. ErrNotFound when the device is not
// there or is bound already; ErrConflict when the principal has a device.
func (tx *Tx) BindVirtualMFADevice(ctx context.Context, serial, principal string, lastStep int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE mfa_devices SET principal = ?, last_step = ?, bound_at = ?
		WHERE serial = ? AND principal IS NULL`, principal, lastStep, timeText(tx.now), serial)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: bind virtual mfa device: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// DeleteUnboundMFADevice removes a device that is not bound. ErrNotFound
// when there is no such unbound device.
func (tx *Tx) DeleteUnboundMFADevice(ctx context.Context, serial string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM mfa_devices WHERE serial = ? AND principal IS NULL", serial)
	if err != nil {
		return fmt.Errorf("store: delete mfa device: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role is a RAM role.
type Role struct {
	RoleID             string
	RoleName           string
	Description        string
	AssumeRolePolicy   string // the trust policy, as stored
	MaxSessionDuration int    // seconds
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

const roleColumns = "role_id, role_name, description, assume_role_policy, max_session_duration, created_at, updated_at"

func scanRole(scan func(...any) error) (*Role, error) {
	var r Role
	var created, updated string
	err := scan(&r.RoleID, &r.RoleName, &r.Description, &r.AssumeRolePolicy, &r.MaxSessionDuration, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: role: %w", err)
	}
	r.CreatedAt, r.UpdatedAt = parseTime(created), parseTime(updated)
	return &r, nil
}

// RoleByName returns a role by name, case-insensitively.
func (r Reads) RoleByName(ctx context.Context, name string) (*Role, error) {
	return scanRole(r.queryRow(ctx, "SELECT "+roleColumns+" FROM roles WHERE role_name_lower = ?", strings.ToLower(name)).Scan)
}

// RoleByID returns a role by id.
func (r Reads) RoleByID(ctx context.Context, id string) (*Role, error) {
	return scanRole(r.queryRow(ctx, "SELECT "+roleColumns+" FROM roles WHERE role_id = ?", id).Scan)
}

// Roles returns a page of roles ordered by name, after the name after
// (keyset paging), whose name starts with query.
func (r Reads) Roles(ctx context.Context, query, after string, limit int) ([]Role, error) {
	q := strings.ToLower(query)
	rows, err := r.query(ctx, "SELECT "+roleColumns+` FROM roles WHERE role_name_lower > ?
		AND role_name_lower >= ? AND role_name_lower < ? ORDER BY role_name_lower LIMIT ?`,
		strings.ToLower(after), q, q+"\U0010FFFF", limit)
	if err != nil {
		return nil, fmt.Errorf("store: roles: %w", err)
	}
	return collect(rows, scanRole)
}

// CountRoles returns the number of roles.
func (r Reads) CountRoles(ctx context.Context) (int, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM roles").Scan(&n)
	return n, err
}

// CreateRole inserts a role; ErrConflict when the name is taken.
func (tx *Tx) CreateRole(ctx context.Context, role *Role) error {
	now := timeText(tx.now)
	_, err := tx.ExecContext(ctx, "INSERT INTO roles(role_id, role_name, role_name_lower, description, assume_role_policy, max_session_duration, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		role.RoleID, role.RoleName, strings.ToLower(role.RoleName), role.Description, role.AssumeRolePolicy, role.MaxSessionDuration, now, now)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create role %q: %w", role.RoleName, err)
	}
	role.CreatedAt, role.UpdatedAt = tx.now, tx.now
	return nil
}

// UpdateRole writes a role's description, trust policy and session limit.
func (tx *Tx) UpdateRole(ctx context.Context, role *Role) error {
	_, err := tx.ExecContext(ctx, "UPDATE roles SET description = ?, assume_role_policy = ?, max_session_duration = ?, updated_at = ? WHERE role_id = ?",
		role.Description, role.AssumeRolePolicy, role.MaxSessionDuration, timeText(tx.now), role.RoleID)
	if err != nil {
		return fmt.Errorf("store: update role %q: %w", role.RoleName, err)
	}
	role.UpdatedAt = tx.now
	return nil
}

// DeleteRole removes a role (its attachments cascade).
func (tx *Tx) DeleteRole(ctx context.Context, roleID string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM roles WHERE role_id = ?", roleID); err != nil {
		return fmt.Errorf("store: delete role: %w", err)
	}
	return nil
}

// RoleAttachments returns the policies attached to a role.
func (r Reads) RoleAttachments(ctx context.Context, roleID string) ([]Attachment, error) {
	return collectAttachments(r.query(ctx, "SELECT "+attachmentColumns+" FROM policy_attachments WHERE role_id = ? ORDER BY id", roleID))
}

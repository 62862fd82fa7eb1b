package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Group is a RAM user group.
type Group struct {
	GroupID   string
	GroupName string
	Comments  string
	CreatedAt time.Time
	UpdatedAt time.Time
	JoinedAt  time.Time // in lists of a user's groups
}

const groupColumns = "group_id, group_name, comments, created_at, updated_at"

func scanGroup(scan func(...any) error, extra ...any) (*Group, error) {
	var g Group
	var created, updated string
	err := scan(append([]any{&g.GroupID, &g.GroupName, &g.Comments, &created, &updated}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: group: %w", err)
	}
	g.CreatedAt, g.UpdatedAt = parseTime(created), parseTime(updated)
	return &g, nil
}

// GroupByName returns a group by name, case-insensitively.
func (r Reads) GroupByName(ctx context.Context, name string) (*Group, error) {
	return scanGroup(r.queryRow(ctx, "SELECT "+groupColumns+" FROM groups WHERE group_name_lower = ?", strings.ToLower(name)).Scan)
}

// GroupFilter selects a page of groups: names starting with Query, after After.
type GroupFilter struct {
	Query string
	After string
	Limit int
}

// Groups returns a page of groups ordered by name (keyset paging).
func (r Reads) Groups(ctx context.Context, f GroupFilter) ([]Group, error) {
	q := strings.ToLower(f.Query)
	rows, err := r.query(ctx, "SELECT "+groupColumns+` FROM groups WHERE group_name_lower > ?
		AND group_name_lower >= ? AND group_name_lower < ? ORDER BY group_name_lower LIMIT ?`,
		strings.ToLower(f.After), q, q+"\U0010FFFF", f.Limit)
	if err != nil {
		return nil, fmt.Errorf("store: groups: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*Group, error) { return scanGroup(scan) })
}

// CountGroups returns the number of groups.
func (r Reads) CountGroups(ctx context.Context) (int, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM groups").Scan(&n)
	return n, err
}

// GroupsForUser returns the groups a user is in, by name, with join dates.
func (r Reads) GroupsForUser(ctx context.Context, userID string) ([]Group, error) {
	rows, err := r.query(ctx, `SELECT g.group_id, g.group_name, g.comments, g.created_at, g.updated_at, m.joined_at
		FROM group_members m JOIN groups g ON g.group_id = m.group_id WHERE m.user_id = ? ORDER BY g.group_name_lower`, userID)
	if err != nil {
		return nil, fmt.Errorf("store: groups for user: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*Group, error) {
		var joined string
		g, err := scanGroup(scan, &joined)
		if err != nil {
			return nil, err
		}
		g.JoinedAt = parseTime(joined)
		return g, nil
	})
}

// Member is a user in a group's member list.
type Member struct {
	User
	JoinedAt time.Time
}

// Members returns a page of a group's members ordered by user name.
func (r Reads) Members(ctx context.Context, groupID, after string, limit int) ([]Member, error) {
	rows, err := r.query(ctx, `SELECT u.user_id, u.user_name, u.display_name, u.email, u.mobile_phone, u.comments,
		u.created_at, u.updated_at, u.last_login_at, u.failed_count, u.locked_until, m.joined_at
		FROM group_members m JOIN users u ON u.user_id = m.user_id
		WHERE m.group_id = ? AND u.user_name_lower > ? ORDER BY u.user_name_lower LIMIT ?`, groupID, strings.ToLower(after), limit)
	if err != nil {
		return nil, fmt.Errorf("store: members: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*Member, error) {
		var joined string
		u, err := scanUser(func(dest ...any) error { return scan(append(dest, &joined)...) })
		if err != nil {
			return nil, err
		}
		return &Member{User: *u, JoinedAt: parseTime(joined)}, nil
	})
}

// CountMembers returns the number of users in a group.
func (r Reads) CountMembers(ctx context.Context, groupID string) (int, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM group_members WHERE group_id = ?", groupID).Scan(&n)
	return n, err
}

// CreateGroup inserts a group; ErrConflict when the name is taken.
func (tx *Tx) CreateGroup(ctx context.Context, g *Group) error {
	now := timeText(tx.now)
	_, err := tx.ExecContext(ctx, `INSERT INTO groups(group_id, group_name, group_name_lower, comments, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, g.GroupID, g.GroupName, strings.ToLower(g.GroupName), g.Comments, now, now)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create group %q: %w", g.GroupName, err)
	}
	g.CreatedAt, g.UpdatedAt = tx.now, tx.now
	return nil
}

// UpdateGroup writes a group's name and comments; ErrConflict when the name is taken.
func (tx *Tx) UpdateGroup(ctx context.Context, g *Group) error {
	_, err := tx.ExecContext(ctx, "UPDATE groups SET group_name = ?, group_name_lower = ?, comments = ?, updated_at = ? WHERE group_id = ?",
		g.GroupName, strings.ToLower(g.GroupName), g.Comments, timeText(tx.now), g.GroupID)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: update group %q: %w", g.GroupName, err)
	}
	g.UpdatedAt = tx.now
	return nil
}

// DeleteGroup removes a group (memberships cascade).
func (tx *Tx) DeleteGroup(ctx context.Context, groupID string) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM groups WHERE group_id = ?", groupID); err != nil {
		return fmt.Errorf("store: delete group: %w", err)
	}
	return nil
}

// AddMember puts a user in a group; ErrConflict when already a member.
func (tx *Tx) AddMember(ctx context.Context, groupID, userID string) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO group_members(group_id, user_id, joined_at) VALUES (?, ?, ?)", groupID, userID, timeText(tx.now))
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: add member: %w", err)
	}
	return nil
}

// RemoveMember takes a user out of a group; ErrNotFound when not a member.
func (tx *Tx) RemoveMember(ctx context.Context, groupID, userID string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM group_members WHERE group_id = ? AND user_id = ?", groupID, userID)
	if err != nil {
		return fmt.Errorf("store: remove member: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// CountGroupsForUser returns how many groups a user is in.
func (r Reads) CountGroupsForUser(ctx context.Context, userID string) (int, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM group_members WHERE user_id = ?", userID).Scan(&n)
	return n, err
}

// GroupByID returns a group by GroupId.
func (r Reads) GroupByID(ctx context.Context, id string) (*Group, error) {
	return scanGroup(r.queryRow(ctx, "SELECT "+groupColumns+" FROM groups WHERE group_id = ?", id).Scan)
}

package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// CustomPolicy is a custom policy's record.
type CustomPolicy struct {
	PolicyID int64
	// UID is random and never reused, unlike PolicyID: what is cached of a
	// policy is keyed by it.
	UID            string
	PolicyName     string
	Description    string
	DefaultVersion string
	NextVersion    int
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// PolicyVersion is one stored version of a custom policy.
type PolicyVersion struct {
	VersionID string
	Seq       int
	Document  string
	CreatedAt time.Time
}

const policyColumns = "policy_id, uid, policy_name, description, default_version, next_version, created_at, updated_at"

func scanPolicy(scan func(...any) error) (*CustomPolicy, error) {
	var p CustomPolicy
	var created, updated string
	err := scan(&p.PolicyID, &p.UID, &p.PolicyName, &p.Description, &p.DefaultVersion, &p.NextVersion, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: policy: %w", err)
	}
	p.CreatedAt, p.UpdatedAt = parseTime(created), parseTime(updated)
	return &p, nil
}

// CustomPolicy returns a custom policy by name, case-insensitively.
func (r Reads) CustomPolicy(ctx context.Context, name string) (*CustomPolicy, error) {
	return scanPolicy(r.queryRow(ctx, "SELECT "+policyColumns+" FROM policies WHERE policy_name_lower = ?", strings.ToLower(name)).Scan)
}

// CustomPolicies returns custom policies whose name starts with query,
// after the name after, ordered by name (keyset paging).
func (r Reads) CustomPolicies(ctx context.Context, query, after string, limit int) ([]CustomPolicy, error) {
	q := strings.ToLower(query)
	rows, err := r.query(ctx, "SELECT "+policyColumns+` FROM policies WHERE policy_name_lower > ?
		AND policy_name_lower >= ? AND policy_name_lower < ? ORDER BY policy_name_lower LIMIT ?`,
		strings.ToLower(after), q, q+"\U0010FFFF", limit)
	if err != nil {
		return nil, fmt.Errorf("store: policies: %w", err)
	}
	return collect(rows, scanPolicy)
}

// CountCustomPolicies returns the number of custom policies.
func (r Reads) CountCustomPolicies(ctx context.Context) (int, error) {
	var n int
	err := r.queryRow(ctx, "SELECT count(*) FROM policies").Scan(&n)
	return n, err
}

// PolicyVersions returns a custom policy's versions, oldest first.
func (r Reads) PolicyVersions(ctx context.Context, policyID int64) ([]PolicyVersion, error) {
	rows, err := r.query(ctx, "SELECT version_id, seq, document, created_at FROM policy_versions WHERE policy_id = ? ORDER BY seq", policyID)
	if err != nil {
		return nil, fmt.Errorf("store: policy versions: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*PolicyVersion, error) {
		var v PolicyVersion
		var created string
		if err := scan(&v.VersionID, &v.Seq, &v.Document, &created); err != nil {
			return nil, err
		}
		v.CreatedAt = parseTime(created)
		return &v, nil
	})
}

// CreateCustomPolicy inserts a policy with its first version v1 as default.
func (tx *Tx) CreateCustomPolicy(ctx context.Context, p *CustomPolicy, document string) error {
	now := timeText(tx.now)
	var uid [16]byte
	if _, err := rand.Read(uid[:]); err != nil {
		return fmt.Errorf("store: create policy %q: %w", p.PolicyName, err)
	}
	p.UID = hex.EncodeToString(uid[:])
	id, err := tx.insertID(ctx, false, "policy_id", `INSERT INTO policies(uid, policy_name, policy_name_lower, description, default_version, next_version,
		created_at, updated_at) VALUES (?, ?, ?, ?, 'v1', 2, ?, ?)`, p.UID, p.PolicyName, strings.ToLower(p.PolicyName), p.Description, now, now)
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: create policy %q: %w", p.PolicyName, err)
	}
	p.PolicyID = id
	p.DefaultVersion, p.NextVersion, p.CreatedAt, p.UpdatedAt = "v1", 2, tx.now, tx.now
	_, err = tx.ExecContext(ctx, "INSERT INTO policy_versions(policy_id, version_id, seq, document, created_at) VALUES (?, 'v1', 1, ?, ?)",
		p.PolicyID, document, now)
	if err != nil {
		return fmt.Errorf("store: create policy %q: %w", p.PolicyName, err)
	}
	return nil
}

// AddPolicyVersion adds the next version (v<NextVersion>), optionally as default.
func (tx *Tx) AddPolicyVersion(ctx context.Context, p *CustomPolicy, document string, setDefault bool) (*PolicyVersion, error) {
	n := p.NextVersion
	v := &PolicyVersion{VersionID: fmt.Sprintf("v%d", n), Seq: n, Document: document, CreatedAt: tx.now}
	if _, err := tx.ExecContext(ctx, "INSERT INTO policy_versions(policy_id, version_id, seq, document, created_at) VALUES (?, ?, ?, ?, ?)",
		p.PolicyID, v.VersionID, n, document, timeText(tx.now)); err != nil {
		return nil, fmt.Errorf("store: add policy version: %w", err)
	}
	p.NextVersion = n + 1
	if setDefault {
		p.DefaultVersion = v.VersionID
	}
	_, err := tx.ExecContext(ctx, "UPDATE policies SET next_version = ?, default_version = ?, updated_at = ? WHERE policy_id = ?",
		p.NextVersion, p.DefaultVersion, timeText(tx.now), p.PolicyID)
	if err != nil {
		return nil, fmt.Errorf("store: add policy version: %w", err)
	}
	return v, nil
}

// SetDefaultPolicyVersion makes a version the default.
func (tx *Tx) SetDefaultPolicyVersion(ctx context.Context, policyID int64, versionID string) error {
	_, err := tx.ExecContext(ctx, "UPDATE policies SET default_version = ?, updated_at = ? WHERE policy_id = ?", versionID, timeText(tx.now), policyID)
	return err
}

// DeletePolicyVersion removes a version.
func (tx *Tx) DeletePolicyVersion(ctx context.Context, policyID int64, versionID string) error {
	res, err := tx.ExecContext(ctx, "DELETE FROM policy_versions WHERE policy_id = ? AND version_id = ?", policyID, versionID)
	if err != nil {
		return fmt.Errorf("store: delete policy version: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// UpdatePolicyDescription sets a custom policy's description.
func (tx *Tx) UpdatePolicyDescription(ctx context.Context, policyID int64, description string) error {
	_, err := tx.ExecContext(ctx, "UPDATE policies SET description = ?, updated_at = ? WHERE policy_id = ?", description, timeText(tx.now), policyID)
	return err
}

// DeleteCustomPolicy removes a policy with its versions and attachments.
func (tx *Tx) DeleteCustomPolicy(ctx context.Context, p *CustomPolicy) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM policy_attachments WHERE policy_type = 'Custom' AND policy_name = ?", p.PolicyName); err != nil {
		return fmt.Errorf("store: delete policy: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM policies WHERE policy_id = ?", p.PolicyID); err != nil {
		return fmt.Errorf("store: delete policy: %w", err)
	}
	return nil
}

// Attachment is a policy attached to a user, a group or a role: exactly one
// of UserID, GroupID and RoleID is set.
type Attachment struct {
	PolicyType string
	PolicyName string
	UserID     string
	GroupID    string
	RoleID     string
	AttachedAt time.Time
}

func collectAttachments(rows *sql.Rows, err error) ([]Attachment, error) {
	if err != nil {
		return nil, fmt.Errorf("store: attachments: %w", err)
	}
	return collect(rows, func(scan func(...any) error) (*Attachment, error) {
		var a Attachment
		var uid, gid, rid sql.NullString
		var at string
		if err := scan(&a.PolicyType, &a.PolicyName, &uid, &gid, &rid, &at); err != nil {
			return nil, err
		}
		a.UserID, a.GroupID, a.RoleID, a.AttachedAt = uid.String, gid.String, rid.String, parseTime(at)
		return &a, nil
	})
}

const attachmentColumns = "policy_type, policy_name, user_id, group_id, role_id, attached_at"

// UserAttachments returns the policies attached to a user directly.
func (r Reads) UserAttachments(ctx context.Context, userID string) ([]Attachment, error) {
	return collectAttachments(r.query(ctx, "SELECT "+attachmentColumns+" FROM policy_attachments WHERE user_id = ? ORDER BY id", userID))
}

// GroupAttachments returns the policies attached to a group.
func (r Reads) GroupAttachments(ctx context.Context, groupID string) ([]Attachment, error) {
	return collectAttachments(r.query(ctx, "SELECT "+attachmentColumns+" FROM policy_attachments WHERE group_id = ? ORDER BY id", groupID))
}

// EffectiveAttachments returns every policy in force for a user: its own
// and its groups', with the group's name for the latter.
func (r Reads) EffectiveAttachments(ctx context.Context, userID string) ([]Attachment, []string, error) {
	rows, err := r.query(ctx, `SELECT a.policy_type, a.policy_name, a.user_id, a.group_id, a.attached_at, '' FROM policy_attachments a WHERE a.user_id = ?1
		UNION ALL
		SELECT a.policy_type, a.policy_name, a.user_id, a.group_id, a.attached_at, g.group_name
		FROM group_members m JOIN policy_attachments a ON a.group_id = m.group_id JOIN groups g ON g.group_id = m.group_id
		WHERE m.user_id = ?1`, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("store: effective attachments: %w", err)
	}
	var via []string // beside each attachment collected, the group's name
	out, err := collect(rows, func(scan func(...any) error) (*Attachment, error) {
		var a Attachment
		var uid, gid sql.NullString
		var at, group string
		if err := scan(&a.PolicyType, &a.PolicyName, &uid, &gid, &at, &group); err != nil {
			return nil, err
		}
		a.UserID, a.GroupID, a.AttachedAt = uid.String, gid.String, parseTime(at)
		via = append(via, group)
		return &a, nil
	})
	if err != nil {
		return nil, nil, err
	}
	return out, via, nil
}

// PolicyAttachments returns everyone a policy is attached to.
func (r Reads) PolicyAttachments(ctx context.Context, policyType, policyName string) ([]Attachment, error) {
	return collectAttachments(r.query(ctx, "SELECT "+attachmentColumns+" FROM policy_attachments WHERE policy_type = ? AND policy_name = ? ORDER BY id", policyType, policyName))
}

// AttachmentCounts returns how many principals each policy of a type is attached to.
func (r Reads) AttachmentCounts(ctx context.Context, policyType string) (map[string]int, error) {
	rows, err := r.query(ctx, "SELECT policy_name, count(*) FROM policy_attachments WHERE policy_type = ? GROUP BY policy_name", policyType)
	if err != nil {
		return nil, fmt.Errorf("store: attachment counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, err
		}
		out[name] = n
	}
	return out, rows.Err()
}

// Attach attaches a policy to a user, group or role; ErrConflict when
// attached already.
func (tx *Tx) Attach(ctx context.Context, a Attachment) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO policy_attachments(policy_type, policy_name, user_id, group_id, role_id, attached_at)
		VALUES (?, ?, nullif(?, ''), nullif(?, ''), nullif(?, ''), ?)`, a.PolicyType, a.PolicyName, a.UserID, a.GroupID, a.RoleID, timeText(tx.now))
	if isUniqueViolation(err) {
		return ErrConflict
	}
	if err != nil {
		return fmt.Errorf("store: attach: %w", err)
	}
	return nil
}

// Detach removes an attachment; ErrNotFound when there is none.
func (tx *Tx) Detach(ctx context.Context, a Attachment) error {
	res, err := tx.ExecContext(ctx, `DELETE FROM policy_attachments WHERE policy_type = ? AND policy_name = ?
		AND coalesce(user_id, '') = ? AND coalesce(group_id, '') = ? AND coalesce(role_id, '') = ?`, a.PolicyType, a.PolicyName, a.UserID, a.GroupID, a.RoleID)
	if err != nil {
		return fmt.Errorf("store: detach: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// CountAttachments returns how many system and custom policies the user,
// group or role of a (its PolicyType and PolicyName unused) has.
func (r Reads) CountAttachments(ctx context.Context, a Attachment) (system, custom int, err error) {
	err = r.queryRow(ctx, `SELECT coalesce(sum(CASE WHEN policy_type = 'System' THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN policy_type = 'Custom' THEN 1 ELSE 0 END), 0)
		FROM policy_attachments WHERE coalesce(user_id, '') = ? AND coalesce(group_id, '') = ? AND coalesce(role_id, '') = ?`,
		a.UserID, a.GroupID, a.RoleID).Scan(&system, &custom)
	return system, custom, err
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Principal kinds of a grant.
const (
	GrantUser  = "user"
	GrantGroup = "group"
	GrantRole  = "role"
)

// Grant is one policy attachment with its principal's name: a line of the
// account's grants.
type Grant struct {
	ID            int64 // the attachment's id: the list's order and cursor
	PrincipalType string
	PrincipalName string
	PolicyType    string
	PolicyName    string
	AttachedAt    time.Time
}

// GrantFilter selects a page of grants, newest attachment first.
type GrantFilter struct {
	// Kinds are the principal kinds to include (GrantUser, GrantGroup,
	// GrantRole); none includes nothing.
	Kinds []string
	// Query keeps the grants whose principal or policy name contains it,
	// ignoring case.
	Query string
	// PolicyType and PolicyName, when set, keep one type and one policy
	// (the exact name).
	PolicyType string
	PolicyName string
	// Before is the id of the last grant of the previous page (0: from
	// the newest).
	Before int64
	Limit  int
}

// likeContains is a LIKE pattern matching s anywhere, lower-cased, with
// LIKE's wildcards escaped (ESCAPE '\').
func likeContains(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// grantSearchIndexed is how many matching attachments a search reads
// through the principals' and policies' indexes at most; a search that
// matches more walks the list from the newest instead, where its matches
// are dense enough to fill a page soon.
const grantSearchIndexed = 2000

// Grants returns a page of the account's policy attachments with their
// principals' names, newest first. The page is chosen on the attachments
// alone (keyset paging on their id, never OFFSET) and the names are joined
// for its rows only. A search first finds the principals and the attached
// policy names it matches, through their own tables and indexes: when they
// hold few attachments the page is read through the indexes, else by
// walking the list, so neither a rare nor a common match reads every row.
func (r Reads) Grants(ctx context.Context, f GrantFilter) ([]Grant, error) {
	var conds []string
	var args []any
	var kinds []string
	for _, k := range f.Kinds {
		switch k {
		case GrantUser:
			kinds = append(kinds, "a.user_id IS NOT NULL")
		case GrantGroup:
			kinds = append(kinds, "a.group_id IS NOT NULL")
		case GrantRole:
			kinds = append(kinds, "a.role_id IS NOT NULL")
		default:
			return nil, fmt.Errorf("store: grants: unknown principal kind %q", k)
		}
	}
	switch len(kinds) {
	case 0:
		return nil, nil
	case 3: // every attachment is one of the three
	default:
		conds = append(conds, "("+strings.Join(kinds, " OR ")+")")
	}
	if f.PolicyType != "" {
		t := "a.policy_type = ?"
		if len(kinds) < 3 && !slices.Contains(f.Kinds, GrantUser) {
			// Groups and roles hold few grants next to users: their kind's
			// index leads, not the type's (SQLite has no statistics to
			// know; the unary + keeps it off the type's index).
			t = "+" + t
		}
		conds = append(conds, t)
		args = append(args, f.PolicyType)
	}
	if f.PolicyName != "" {
		conds = append(conds, "a.policy_name = ?")
		args = append(args, f.PolicyName)
	}
	if f.Query != "" {
		match, matchArgs, none, err := r.grantSearch(ctx, f)
		if err != nil {
			return nil, err
		}
		if none {
			return nil, nil
		}
		conds = append(conds, match)
		args = append(args, matchArgs...)
	}
	if f.Before > 0 {
		conds = append(conds, "a.id < ?")
		args = append(args, f.Before)
	}
	where := "1 = 1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	args = append(args, f.Limit)
	rows, err := r.query(ctx, `SELECT p.id,
		CASE WHEN p.user_id IS NOT NULL THEN 'user' WHEN p.group_id IS NOT NULL THEN 'group' ELSE 'role' END,
		coalesce(u.user_name, g.group_name, ro.role_name, ''), p.policy_type, p.policy_name, p.attached_at
		FROM (SELECT a.id, a.user_id, a.group_id, a.role_id, a.policy_type, a.policy_name, a.attached_at
			FROM policy_attachments a WHERE `+where+` ORDER BY a.id DESC LIMIT ?) p
		LEFT JOIN users u ON u.user_id = p.user_id
		LEFT JOIN groups g ON g.group_id = p.group_id
		LEFT JOIN roles ro ON ro.role_id = p.role_id
		ORDER BY p.id DESC`, args...)
	return collectGrants(rows, err)
}

// qAttachedPolicyNames is the distinct policy names attached to anyone that
// match a LIKE pattern, found by hopping through the name index one name at
// a time (a loose index scan: as many seeks as names, not a read of every
// attachment).
const qAttachedPolicyNames = `WITH RECURSIVE n(name) AS (
		SELECT min(policy_name) FROM policy_attachments
		UNION ALL
		SELECT (SELECT min(a.policy_name) FROM policy_attachments a WHERE a.policy_name > n.name) FROM n WHERE n.name IS NOT NULL)
	SELECT name FROM n WHERE name IS NOT NULL AND lower(name) LIKE ? ESCAPE '\'`

// grantMatches are, for a search, the queries of the attachments of the
// principals of each kind whose name matches, each read through its index.
var grantMatches = map[string]string{
	GrantUser:  `SELECT id FROM policy_attachments WHERE user_id IN (SELECT user_id FROM users WHERE user_name_lower LIKE ? ESCAPE '\')`,
	GrantGroup: `SELECT id FROM policy_attachments WHERE group_id IN (SELECT group_id FROM groups WHERE group_name_lower LIKE ? ESCAPE '\')`,
	GrantRole:  `SELECT id FROM policy_attachments WHERE role_id IN (SELECT role_id FROM roles WHERE role_name_lower LIKE ? ESCAPE '\')`,
}

// grantSearch is the search's condition on the attachments (alias a). none
// is set when nothing can match. The statements are the same for every
// search of the same kinds (no list of values spelled into them), so they
// are prepared once.
func (r Reads) grantSearch(ctx context.Context, f GrantFilter) (cond string, args []any, none bool, err error) {
	pat := likeContains(f.Query)
	var parts []string
	for _, k := range f.Kinds {
		parts = append(parts, grantMatches[k])
		args = append(args, pat)
	}
	parts = append(parts, "SELECT id FROM policy_attachments WHERE policy_name IN ("+qAttachedPolicyNames+")")
	args = append(args, pat)
	var n int
	if err := r.queryRow(ctx, "SELECT count(*) FROM ("+strings.Join(parts, " UNION ALL ")+" LIMIT ?) x",
		append(args, grantSearchIndexed+1)...).Scan(&n); err != nil {
		return "", nil, false, fmt.Errorf("store: grants: count matches: %w", err)
	}
	switch {
	case n == 0:
		return "", nil, true, nil
	case n <= grantSearchIndexed:
		// The LIMIT, above any count there can be, tells PostgreSQL's
		// planner how few the matches are: its estimate of the union
		// (an empty table has no statistics) can be the whole list.
		return "a.id IN (SELECT id FROM (" + strings.Join(parts, " UNION ") + ") m LIMIT ?)", append(args, 2*grantSearchIndexed), false, nil
	}
	// Many matches: tested row by row while walking the list.
	cond = `(lower(a.policy_name) LIKE ? ESCAPE '\'
		OR a.user_id IN (SELECT user_id FROM users WHERE user_name_lower LIKE ? ESCAPE '\')
		OR a.group_id IN (SELECT group_id FROM groups WHERE group_name_lower LIKE ? ESCAPE '\')
		OR a.role_id IN (SELECT role_id FROM roles WHERE role_name_lower LIKE ? ESCAPE '\'))`
	return cond, []any{pat, pat, pat, pat}, false, nil
}

func collectGrants(rows *sql.Rows, err error) ([]Grant, error) {
	if err != nil {
		return nil, fmt.Errorf("store: grants: %w", err)
	}
	out, err := collect(rows, func(scan func(dest ...any) error) (*Grant, error) {
		var g Grant
		var at string
		if err := scan(&g.ID, &g.PrincipalType, &g.PrincipalName, &g.PolicyType, &g.PolicyName, &at); err != nil {
			return nil, err
		}
		g.AttachedAt = parseTime(at)
		return &g, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: grants: %w", err)
	}
	return out, nil
}

package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Sort orders of the console's users list.
const (
	SortUsersByName      = "name"       // A to Z
	SortUsersByCreated   = "created"    // newest first
	SortUsersByLastLogin = "last_login" // most recent sign-in first, never last
)

// UserSummary is one line of the console's users list: the user and the
// state of its console access, MFA device and AccessKeys.
type UserSummary struct {
	User
	LoginStatus string // "" without console access, else Active or Inactive
	MFARequired bool   // the login profile requires an MFA device (MFABindRequired)
	MFABound    bool
	Keys        int // AccessKeys, any status
	ActiveKeys  int
	KeyLastUsed string // the newest last use of any of its keys ("" for never)
}

// UserSummaryFilter selects a page of the users list: a name or display
// name prefix, a sort order and a keyset cursor (After or Before, the
// cursor of a row of the previous page).
type UserSummaryFilter struct {
	Query         string
	Sort          string
	After, Before string
	Limit         int
	// NoMFA keeps the users with console access and no MFA device.
	NoMFA bool
	// StaleKeysBefore, when set, keeps the users with an AccessKey last
	// used (or, never used, created) before it.
	StaleKeysBefore time.Time
}

// userSortKeys is each order's key, as SQL, and whether it descends; the
// lower-cased name breaks ties, so a key is unique.
var userSortKeys = map[string]struct {
	expr string
	desc bool
}{
	SortUsersByName:      {"''", false},
	SortUsersByCreated:   {"u.created_at", true},
	SortUsersByLastLogin: {"coalesce(u.last_login_at, '')", true},
}

// UserCursor is the keyset cursor of a row in the given order.
func UserCursor(sort string, u *User) string {
	switch sort {
	case SortUsersByCreated:
		return timeText(u.CreatedAt) + "\x00" + strings.ToLower(u.UserName)
	case SortUsersByLastLogin:
		last := ""
		if !u.LastLoginAt.IsZero() {
			last = timeText(u.LastLoginAt)
		}
		return last + "\x00" + strings.ToLower(u.UserName)
	}
	return "\x00" + strings.ToLower(u.UserName)
}

// UserSummaries returns a page of the users list in the filter's order and
// the number of users the search matches. A page before a cursor is read
// backwards and returned in order.
func (r Reads) UserSummaries(ctx context.Context, f UserSummaryFilter) ([]UserSummary, int, error) {
	key, ok := userSortKeys[f.Sort]
	if !ok {
		return nil, 0, fmt.Errorf("store: users: unknown sort %q", f.Sort)
	}
	var conds []string
	var args []any
	if q := strings.ToLower(f.Query); q != "" {
		hi := q + "\U0010FFFF"
		conds = append(conds, "(u.user_name_lower >= ? AND u.user_name_lower < ? OR u.display_lower >= ? AND u.display_lower < ?)")
		args = append(args, q, hi, q, hi)
	}
	if f.NoMFA {
		conds = append(conds, `EXISTS (SELECT 1 FROM login_profiles lp WHERE lp.user_id = u.user_id)
			AND NOT `+hasFactorOf("'user/' || u.user_id"))
	}
	if !f.StaleKeysBefore.IsZero() {
		conds = append(conds, "EXISTS (SELECT 1 FROM access_keys k WHERE k.user_id = u.user_id AND coalesce(k.last_used_at, k.created_at) < ?)")
		args = append(args, timeText(f.StaleKeysBefore))
	}
	var total int
	where := "1 = 1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	if err := r.queryRow(ctx, "SELECT count(*) FROM users u WHERE "+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: count users: %w", err)
	}
	// Forward is the list's own order; a page before a cursor walks back.
	desc, cursor, back := key.desc, f.After, false
	if f.Before != "" {
		desc, cursor, back = !desc, f.Before, true
	}
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	if cursor != "" {
		k, name, found := strings.Cut(cursor, "\x00")
		if !found {
			return nil, 0, fmt.Errorf("store: users: bad cursor")
		}
		conds = append(conds, "("+key.expr+", u.user_name_lower) "+cmp+" (?, ?)")
		args = append(args, k, name)
	}
	where = "1 = 1"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	// The page is chosen first, on the users alone; the status columns are
	// read for its rows only (not for every row the sort looks at).
	order := key.expr + " " + dir + ", u.user_name_lower " + dir
	if key.expr == "''" {
		order = "u.user_name_lower " + dir // PostgreSQL refuses a constant to order by
	}
	query := `SELECT u.user_id, u.user_name, u.display_name, u.email, u.mobile_phone, u.comments, u.created_at, u.updated_at,
		u.last_login_at, u.failed_count, u.locked_until,
		coalesce((SELECT status FROM login_profiles lp WHERE lp.user_id = u.user_id), ''),
		coalesce((SELECT mfa_bind_required FROM login_profiles lp WHERE lp.user_id = u.user_id), 0),
		` + hasFactorOf("'user/' || u.user_id") + `,
		(SELECT count(*) FROM access_keys k WHERE k.user_id = u.user_id),
		(SELECT count(*) FROM access_keys k WHERE k.user_id = u.user_id AND k.status = 'Active'),
		coalesce((SELECT max(last_used_at) FROM access_keys k WHERE k.user_id = u.user_id), '')
		FROM (SELECT u.user_id AS rid FROM users u WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ?) p
		JOIN users u ON u.user_id = p.rid ORDER BY ` + order
	args = append(args, f.Limit)
	rows, err := r.query(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("store: users: %w", err)
	}
	out, err := collect(rows, func(scan func(...any) error) (*UserSummary, error) {
		var s UserSummary
		var lastUsed string
		u, err := scanUser(func(dest ...any) error {
			return scan(append(dest, &s.LoginStatus, &s.MFARequired, &s.MFABound, &s.Keys, &s.ActiveKeys, &lastUsed)...)
		})
		if err != nil {
			return nil, err
		}
		s.User, s.KeyLastUsed = *u, lastUsed
		return &s, nil
	})
	if err != nil {
		return nil, 0, err
	}
	if back {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, total, nil
}

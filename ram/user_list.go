package ram

import (
	"context"
	"strings"
	"time"

	"ramconsole/store"
)

// UserSummary is a line of the console's users list (store.UserSummary).
type UserSummary = store.UserSummary

// The users list's orders.
const (
	SortUsersByName      = store.SortUsersByName
	SortUsersByCreated   = store.SortUsersByCreated
	SortUsersByLastLogin = store.SortUsersByLastLogin
)

// UserListInput asks for a page of the console's users list: a search, an
// order and a cursor from a previous page (After for the next page, Before
// for the previous one).
type UserListInput struct {
	Query, Sort   string
	After, Before string
	Size          int
	// Status narrows the list: "no_mfa" (console access without an MFA
	// device) or "stale_keys" (an AccessKey unused for 90 days).
	Status string
}

// UserListPage is a page of the users list with the number of users the
// search matches and the cursors of the neighbouring pages ("" for none).
type UserListPage struct {
	Users      []UserSummary
	Total      int
	Next, Prev string
	// Hidden names the status columns ("login", "mfa", "accesskeys") the
	// viewer may not see on every user, each with the permission it needs;
	// their values are left out.
	Hidden map[string]string
}

// ListUserSummaries returns a page of users with their console access, MFA
// and AccessKey state, in the asked order (ram:ListUsers).
func (s *Service) ListUserSummaries(ctx context.Context, a Actor, in UserListInput) (*UserListPage, error) {
	acct := s.accountID(ctx)
	if err := s.authorize(ctx, a, "ram:ListUsers", allUsersResource(acct)); err != nil {
		return nil, err
	}
	switch in.Sort {
	case "":
		in.Sort = SortUsersByName
	case SortUsersByName, SortUsersByCreated, SortUsersByLastLogin:
	default:
		return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Sort", Message: "Sort by name, created or last_login."}
	}
	if in.Size < 1 || in.Size > maxPageSize {
		in.Size = defaultPageSize
	}
	after, err1 := decodeMarker(in.After)
	before, err2 := decodeMarker(in.Before)
	// A Marker of the API (a bare name) is a cursor of the name order.
	if in.Sort == SortUsersByName && after != "" && !strings.Contains(after, "\x00") {
		after = "\x00" + strings.ToLower(after)
	}
	if err1 != nil || err2 != nil || after != "" && before != "" || after != "" && !strings.Contains(after, "\x00") ||
		before != "" && !strings.Contains(before, "\x00") {
		return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Marker", Message: "The page link is not one this server made."}
	}
	hidden := map[string]string{}
	for _, section := range []string{SectionLogin, SectionMFA, SectionAccessKeys} {
		if action := sectionActions[section]; !s.permits(ctx, a, action, allUsersResource(acct)) {
			hidden[section] = action
		}
	}
	f := store.UserSummaryFilter{Query: in.Query, Sort: in.Sort, After: after, Before: before, Limit: in.Size + 1}
	switch in.Status {
	case "":
	case "no_mfa":
		f.NoMFA = true
		if hidden[SectionLogin] != "" || hidden[SectionMFA] != "" {
			return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Status", Message: "Filtering by MFA needs ram:GetLoginProfile and ram:GetUserMFAInfo."}
		}
	case "stale_keys":
		f.StaleKeysBefore = s.Now().Add(-90 * 24 * time.Hour)
		if hidden[SectionAccessKeys] != "" {
			return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Status", Message: "Filtering by AccessKeys needs ram:ListAccessKeys."}
		}
	default:
		return nil, &Error{Kind: EINVALID, Code: "InvalidParameter.Status", Message: "Filter by no_mfa or stale_keys."}
	}
	rows, total, err := s.st.UserSummaries(ctx, f)
	if err != nil {
		return nil, err
	}
	p := &UserListPage{Total: total}
	more := len(rows) > in.Size
	if more {
		if before != "" {
			rows = rows[1:] // read backwards: the extra row is the oldest
		} else {
			rows = rows[:in.Size]
		}
	}
	for section, action := range hidden {
		if p.Hidden == nil {
			p.Hidden = map[string]string{}
		}
		p.Hidden[section] = action
		for i := range rows {
			switch section {
			case SectionLogin:
				rows[i].LoginStatus, rows[i].MFARequired = "", false
			case SectionMFA:
				rows[i].MFABound = false
			case SectionAccessKeys:
				rows[i].Keys, rows[i].ActiveKeys, rows[i].KeyLastUsed = 0, 0, ""
			}
		}
	}
	p.Users = rows
	if len(rows) == 0 {
		return p, nil
	}
	first, last := encodeMarker(store.UserCursor(in.Sort, &rows[0].User)), encodeMarker(store.UserCursor(in.Sort, &rows[len(rows)-1].User))
	switch {
	case before != "":
		p.Next = last
		if more {
			p.Prev = first
		}
	case after != "":
		p.Prev = first
		if more {
			p.Next = last
		}
	default:
		if more {
			p.Next = last
		}
	}
	return p, nil
}

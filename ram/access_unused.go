package ram

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"time"
)

// UnusedUser is a RAM user with no completed console sign-in and no counted
// request in the window.
type UnusedUser struct {
	UserName, UserID string
	ConsoleLogin     bool      // it has a login profile
	LastLogin        time.Time // the latest ever; zero: never
	LastActivity     time.Time
}

// UnusedAccessKey is an AccessKey not used in the window.
type UnusedAccessKey struct {
	UserName, AccessKeyID, Status string
	CreateDate, LastUsed          time.Time
}

// UnusedRole is a role not assumed, and with no session's request, in the
// window.
type UnusedRole struct {
	RoleName string
	LastUsed time.Time
}

// UnusedPolicy is an attached policy none of whose statements matched in
// the window.
type UnusedPolicy struct {
	PolicyType, PolicyName string
	LastUsed               time.Time
}

// UnusedStatement is a statement of an attached policy's default version
// that never matched in the window.
type UnusedStatement struct {
	PolicyType, PolicyName, Version string
	Statement                       int
	LastUsed                        time.Time // the latest ever (CSV only)
}

// UnusedAccess is the unused list (SPEC §16.5).
type UnusedAccess struct {
	Window     AccessWindow
	AsOf       time.Time
	Users      []UnusedUser
	AccessKeys []UnusedAccessKey
	Roles      []UnusedRole
	Policies   []UnusedPolicy
	Statements []UnusedStatement
}

// UnusedAccess lists what was not used in the window. It needs
// ram:GenerateServiceLastAccessedDetails on "*"; every view and export is
// recorded (format: "html", "json" or "csv").
func (s *Service) UnusedAccess(ctx context.Context, a Actor, w AccessWindow, format string) (*UnusedAccess, error) {
	if err := s.authorizeRead(ctx, a, ActionGenerateServiceLastAccessedDetails, EventGenerateServiceLastAccessedDetails, accessRead("unused"), anyResource); err != nil {
		return nil, err
	}
	acct := s.accountID(ctx)
	out := &UnusedAccess{Window: w, AsOf: w.To}
	idle := func(t time.Time) bool { return t.IsZero() || t.Before(w.From) }

	if err := s.st.Settle(ctx); err != nil { // calls answered still in the journal
		return nil, err
	}
	latest, err := s.st.AccessLatest(ctx, "principal/role/")
	if err != nil {
		return nil, err
	}
	users, err := s.st.IdleUsers(ctx, w.From)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		out.Users = append(out.Users, UnusedUser{UserName: u.UserName, UserID: u.UserID, ConsoleLogin: u.ConsoleLogin,
			LastLogin: u.LastLogin, LastActivity: u.LastActivity})
	}
	keys, err := s.st.IdleAccessKeys(ctx, w.From)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		out.AccessKeys = append(out.AccessKeys, UnusedAccessKey{UserName: k.UserName, AccessKeyID: k.AccessKeyID,
			Status: k.Status, CreateDate: k.CreatedAt, LastUsed: k.LastUsedAt})
	}
	assumed, err := s.st.AccessLatest(ctx, "assumed/")
	if err != nil {
		return nil, err
	}
	roles, err := s.st.Roles(ctx, "", "", 1<<30)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		last := latest["principal/role/"+r.RoleID]
		// An AssumeRole names the role by ARN: one before this role was
		// created was of an older role of the same name.
		for _, arn := range []string{roleResource(acct, &r).arn, RoleARN(acct, r.RoleName)} {
			if t := assumed["assumed/"+strings.ToLower(arn)]; !t.Before(r.CreatedAt) {
				last = laterTime(last, t)
			}
		}
		if idle(last) {
			out.Roles = append(out.Roles, UnusedRole{RoleName: r.RoleName, LastUsed: last})
		}
	}
	sort.Slice(out.Roles, func(i, j int) bool { return out.Roles[i].RoleName < out.Roles[j].RoleName })

	stmts, err := s.st.AccessLatest(ctx, "statement/")
	if err != nil {
		return nil, err
	}
	attached, err := s.st.AttachedPolicies(ctx)
	if err != nil {
		return nil, err
	}
	for _, at := range attached {
		pv, err := s.accessPolicy(ctx, acct, at.PolicyType, at.PolicyName)
		if err != nil {
			continue // deleted meanwhile
		}
		var last time.Time
		prefix := "statement/" + pv.key + "/"
		for subject, t := range stmts {
			if strings.HasPrefix(subject, prefix) {
				last = laterTime(last, t)
			}
		}
		if idle(last) {
			out.Policies = append(out.Policies, UnusedPolicy{PolicyType: pv.policyType, PolicyName: pv.name, LastUsed: last})
		}
		for i := range pv.doc.Statements {
			if t := stmts[prefix+pv.version+"/"+strconv.Itoa(i)]; idle(t) {
				out.Statements = append(out.Statements, UnusedStatement{PolicyType: pv.policyType, PolicyName: pv.name,
					Version: pv.version, Statement: i, LastUsed: t})
			}
		}
	}
	ev := s.event(ctx, a, acct, EventConsoleOperation, EventGenerateServiceLastAccessedDetails)
	ev.EventRW, ev.ResourceName = "Read", anyResource.arn
	ev.RequestParameters = map[string]any{"days": w.Days}
	ev.AdditionalEventData = map[string]any{"report": "unused", "format": format}
	return out, s.record(ctx, ev)
}

// unusedTime is a time of the unused list's CSV: RFC 3339, or Never.
func unusedTime(t time.Time) string {
	if t.IsZero() {
		return "Never"
	}
	return t.UTC().Format(time.RFC3339)
}

// CSVRows are the unused list as the CSV export's rows, header first:
// kind,name,detail,last_used (cells not yet neutralised).
func (u *UnusedAccess) CSVRows() [][]string {
	rows := [][]string{{"kind", "name", "detail", "last_used"}}
	for _, x := range u.Users {
		rows = append(rows, []string{"user", x.UserName, "", unusedTime(laterTime(x.LastLogin, x.LastActivity))})
	}
	for _, x := range u.AccessKeys {
		rows = append(rows, []string{"accesskey", x.AccessKeyID, x.UserName, unusedTime(x.LastUsed)})
	}
	for _, x := range u.Roles {
		rows = append(rows, []string{"role", x.RoleName, "", unusedTime(x.LastUsed)})
	}
	for _, x := range u.Policies {
		rows = append(rows, []string{"policy", x.PolicyName, x.PolicyType, unusedTime(x.LastUsed)})
	}
	for _, x := range u.Statements {
		rows = append(rows, []string{"statement", x.PolicyName + "#" + strconv.Itoa(x.Statement), x.PolicyType, unusedTime(x.LastUsed)})
	}
	return rows
}

package ram

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"ramconsole/store"
)

// The credential report (SPEC §16.7): one CSV line per identity — the owner
// first, then every RAM user by UserName — saying whether it has a password,
// MFA and AccessKeys, and when each was last set and used. A report is
// built synchronously and afresh on every request to generate one; the
// latest is kept, so its pages and downloads agree until the next.

// Actions of the credential report.
const (
	ActionGenerateCredentialReport = "ram:GenerateCredentialReport"
	ActionGetCredentialReport      = "ram:GetCredentialReport"
)

// CredentialReportColumns are the report's columns, in Alibaba Cloud's order.
var CredentialReportColumns = [...]string{"user", "user_creation_time", "user_last_logon", "password_exist", "password_active",
	"password_last_changed", "password_next_rotation", "mfa_active",
	"access_key_1_exist", "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used",
	"access_key_2_exist", "access_key_2_active", "access_key_2_last_rotated", "access_key_2_last_used",
	"additional_access_key_1_exist", "additional_access_key_1_active", "additional_access_key_1_last_rotated",
	"additional_access_key_1_last_used",
	"additional_access_key_2_exist", "additional_access_key_2_active", "additional_access_key_2_last_rotated",
	"additional_access_key_2_last_used",
	"additional_access_key_3_exist", "additional_access_key_3_active", "additional_access_key_3_last_rotated",
	"additional_access_key_3_last_used"}

// Paging of GetCredentialReport.
const (
	CredentialReportMaxItems     = 1000
	credentialReportDefaultItems = 100
)

// The report's values: never (or nothing known), and does not apply.
const (
	reportNever   = "-"
	reportNA      = "N/A"
	reportRootRow = "<root>"
)

// CredentialReport is a generated report: when, and its data rows (each of
// len(CredentialReportColumns) cells), the owner's first.
type CredentialReport struct {
	GeneratedAt time.Time
	Rows        [][]string
}

// CredentialReportPage is a page of the report as GetCredentialReport
// answers it: the CSV (header line first) of at most MaxItems rows, and
// the token of the next page ("" on the last).
type CredentialReportPage struct {
	GeneratedAt time.Time
	CSV         []byte
	NextToken   string
}

// CredentialReportQuery is GetCredentialReport's parameters as sent:
// MaxItems ("" = 100) and NextToken ("" = the first page).
type CredentialReportQuery struct {
	MaxItems  string
	NextToken string
}

// CredentialReportCSV writes rows as the report's CSV, header line first,
// with each cell passed through cell (nil: as is).
func CredentialReportCSV(rows [][]string, cell func(string) string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	line := make([]string, len(CredentialReportColumns))
	_ = w.Write(CredentialReportColumns[:])
	for _, r := range rows {
		for i, v := range r {
			if cell != nil {
				v = cell(v)
			}
			line[i] = v
		}
		_ = w.Write(line)
	}
	w.Flush()
	return b.Bytes()
}

// GenerateCredentialReport builds a new report and keeps it as the latest
// (ram:GenerateCredentialReport on *). Always complete when it returns.
func (s *Service) GenerateCredentialReport(ctx context.Context, a Actor) (*CredentialReport, error) {
	const name = "GenerateCredentialReport"
	if err := s.authorizeReport(ctx, a, ActionGenerateCredentialReport, name); err != nil {
		return nil, err
	}
	ev := s.reportEvent(ctx, a, name)
	return s.generateCredentialReport(ctx, ev)
}

// CredentialReport returns the latest report whole, generating one first
// when there is none (ram:GetCredentialReport on *). format names the
// console's view ("html" or "csv") in the event.
func (s *Service) CredentialReport(ctx context.Context, a Actor, format string) (*CredentialReport, error) {
	const name = "GetCredentialReport"
	if err := s.authorizeReport(ctx, a, ActionGetCredentialReport, name); err != nil {
		return nil, err
	}
	ev := s.reportEvent(ctx, a, name)
	ev.AdditionalEventData = map[string]any{"format": format}
	return s.latestCredentialReport(ctx, ev)
}

// GetCredentialReport returns a page of the latest report, generating one
// first when there is none (ram:GetCredentialReport on *).
func (s *Service) GetCredentialReport(ctx context.Context, a Actor, q CredentialReportQuery) (*CredentialReportPage, error) {
	const name = "GetCredentialReport"
	if err := s.authorizeReport(ctx, a, ActionGetCredentialReport, name); err != nil {
		return nil, err
	}
	ev := s.reportEvent(ctx, a, name)
	ev.RequestParameters = map[string]any{}
	if q.MaxItems != "" {
		ev.RequestParameters["MaxItems"] = truncate(q.MaxItems, 32)
	}
	if q.NextToken != "" {
		ev.RequestParameters["NextToken"] = truncate(q.NextToken, 128)
	}
	limit := credentialReportDefaultItems
	if q.MaxItems != "" {
		n, err := strconv.Atoi(q.MaxItems)
		if err != nil || n < 1 || n > CredentialReportMaxItems {
			return nil, s.refuseReport(ctx, ev, &Error{Kind: EINVALID, Code: "InvalidParameter.MaxItems",
				Message: "MaxItems must be an integer from 1 to 1000."})
		}
		limit = n
	}
	var rep *CredentialReport
	var err error
	if q.NextToken == "" {
		rep, err = s.latestCredentialReport(ctx, ev)
	} else {
		rep, err = s.storedCredentialReport(ctx)
		if errors.Is(err, store.ErrNotFound) {
			rep, err = nil, nil
		}
	}
	if err != nil {
		return nil, err
	}
	start := 0
	if q.NextToken != "" {
		start = reportTokenOffset(q.NextToken, rep)
		if start <= 0 {
			return nil, s.refuseReport(ctx, ev, &Error{Kind: EINVALID, Code: "InvalidParameter.NextToken",
				Message: "The NextToken is not valid for the latest credential report."})
		}
		if err := s.record(ctx, ev); err != nil {
			return nil, err
		}
	}
	end := min(start+limit, len(rep.Rows))
	page := &CredentialReportPage{GeneratedAt: rep.GeneratedAt, CSV: CredentialReportCSV(rep.Rows[start:end], nil)}
	if end < len(rep.Rows) {
		page.NextToken = reportToken(rep, end)
	}
	return page, nil
}

// authorizeReport is authorize for the report's actions, whose refusals are
// recorded as IMS reads.
func (s *Service) authorizeReport(ctx context.Context, a Actor, action, name string) error {
	return s.authorizeRead(ctx, a, action, name, imsRead, anyResource)
}

// imsRead makes an event an IMS read's.
func imsRead(ev *store.Event) { ev.EventSource, ev.ServiceName, ev.EventRW = "ims", "Ims", "Read" }

// reportEvent is the event of a report action: an IMS read.
func (s *Service) reportEvent(ctx context.Context, a Actor, name string) *store.Event {
	ev := s.event(ctx, a, s.accountID(ctx), s.opType(a), name)
	imsRead(ev)
	return ev
}

// refuseReport records ev as refused with e and returns e.
func (s *Service) refuseReport(ctx context.Context, ev *store.Event, e *Error) error {
	if err := s.record(ctx, failEvent(ev, e.Code, e.Detail())); err != nil {
		return err
	}
	return e
}

// latestCredentialReport returns the latest report, generating one when
// there is none, and records ev.
func (s *Service) latestCredentialReport(ctx context.Context, ev *store.Event) (*CredentialReport, error) {
	rep, err := s.storedCredentialReport(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return s.generateCredentialReport(ctx, ev)
	}
	if err != nil {
		return nil, err
	}
	if err := s.record(ctx, ev); err != nil {
		return nil, err
	}
	return rep, nil
}

// storedCredentialReport reads the latest report (store.ErrNotFound: none).
func (s *Service) storedCredentialReport(ctx context.Context) (*CredentialReport, error) {
	st, err := s.st.CredentialReport(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := csv.NewReader(strings.NewReader(st.Content)).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, errors.New("ram: the stored credential report does not parse")
	}
	return &CredentialReport{GeneratedAt: st.GeneratedAt, Rows: rows[1:]}, nil
}

// generateCredentialReport builds a report from what the store holds, keeps
// it and records ev, in one transaction.
func (s *Service) generateCredentialReport(ctx context.Context, ev *store.Event) (*CredentialReport, error) {
	if err := s.st.Settle(ctx); err != nil { // AccessKey uses still in the journal
		return nil, err
	}
	pol := s.passwordPolicy(ctx)
	var rep *CredentialReport
	err := s.st.Update(ctx, func(tx *store.Tx) error {
		var err error
		rep, err = buildCredentialReport(ctx, tx, pol, s.Now().UTC().Truncate(time.Second))
		if err != nil {
			return err
		}
		if err := tx.PutCredentialReport(ctx, store.CredentialReport{GeneratedAt: rep.GeneratedAt,
			Content: string(CredentialReportCSV(rep.Rows, nil))}); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, ev)
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// reportTime is a report's time: UTC to the second, "-" for never.
func reportTime(t time.Time) string {
	if t.IsZero() {
		return reportNever
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

func reportBool(b bool) string {
	if b {
		return "TRUE"
	}
	return "FALSE"
}

// buildCredentialReport reads every identity's credentials inside tx.
func buildCredentialReport(ctx context.Context, tx *store.Tx, pol PasswordPolicy, now time.Time) (*CredentialReport, error) {
	acct, err := tx.Account(ctx)
	if err != nil {
		return nil, err
	}
	owner, err := tx.Owner(ctx)
	if err != nil {
		return nil, err
	}
	ownerMFA, err := tx.HasSecondFactor(ctx, string(PrincipalRoot))
	if err != nil {
		return nil, err
	}
	users, err := tx.CredentialUsers(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := tx.AllAccessKeys(ctx)
	if err != nil {
		return nil, err
	}
	keysOf := map[string][]store.AccessKey{}
	for _, k := range keys {
		keysOf[k.UserID] = append(keysOf[k.UserID], k)
	}
	slices.SortFunc(users, func(x, y store.CredentialUser) int { return strings.Compare(x.UserName, y.UserName) })

	rep := &CredentialReport{GeneratedAt: now, Rows: make([][]string, 0, len(users)+1)}
	created := owner.CreatedAt
	if created.IsZero() {
		created = acct.CreatedAt
	}
	root := []string{reportRootRow, reportTime(created), reportTime(owner.LastLoginAt), "TRUE", "TRUE",
		reportTime(owner.PasswordChangedAt), reportNA, reportBool(ownerMFA)}
	root = appendKeys(root, nil)
	rep.Rows = append(rep.Rows, root)
	alias := displayAlias(acct)
	for i := range users {
		u := &users[i]
		row := []string{u.UserName + "@" + alias, reportTime(u.CreatedAt), reportTime(u.LastLoginAt)}
		if u.LoginStatus == "" {
			row = append(row, "FALSE", reportNA, reportNA, reportNA)
		} else {
			next := reportNA
			if pol.MaxPasswordAge > 0 && !u.PasswordChangedAt.IsZero() {
				next = reportTime(u.PasswordChangedAt.AddDate(0, 0, pol.MaxPasswordAge))
			}
			row = append(row, "TRUE", reportBool(u.LoginStatus == "Active"), reportTime(u.PasswordChangedAt), next)
		}
		row = append(row, reportBool(u.HasSecondFactor))
		rep.Rows = append(rep.Rows, appendKeys(row, keysOf[u.UserID]))
	}
	return rep, nil
}

// appendKeys adds the AccessKey columns: the two keys, oldest first, then
// the three additional keys no identity has.
func appendKeys(row []string, keys []store.AccessKey) []string {
	for i := range 2 {
		if i >= len(keys) {
			row = append(row, "FALSE", reportNA, reportNA, reportNA)
			continue
		}
		k := keys[i]
		row = append(row, "TRUE", reportBool(k.Status == "Active"), reportTime(k.CreatedAt), reportTime(k.LastUsedAt))
	}
	for range 3 {
		row = append(row, "FALSE", reportNA, reportNA, reportNA)
	}
	return row
}

// reportToken is the opaque NextToken of the page starting at row offset
// of rep: it names the report by its generation time.
func reportToken(rep *CredentialReport, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("cr1:" + strconv.FormatInt(rep.GeneratedAt.UnixNano(), 10) + ":" + strconv.Itoa(offset)))
}

// reportTokenOffset is the row offset a NextToken names in rep, or 0 when
// it is not one of rep's (garbled, another report's, out of range).
func reportTokenOffset(token string, rep *CredentialReport) int {
	if rep == nil {
		return 0
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[0] != "cr1" || parts[1] != strconv.FormatInt(rep.GeneratedAt.UnixNano(), 10) {
		return 0
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil || n <= 0 || n >= len(rep.Rows) {
		return 0
	}
	return n
}

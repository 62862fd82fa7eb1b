package ram

import (
	"encoding/base64"
	"encoding/csv"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The credential report (SPEC §16.7): its rows and cells, its paging, its
// authorisation and its events.

func TestCredentialReport(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	e.keyedUser(t, "bob")
	e.newUser(t, "Ann")
	reader := e.granted(t, "reader", doc(allow([]string{"*"}, ActionGetCredentialReport)))
	if _, _, err := e.svc.CreateLoginProfile(e.ctx, e.owner, "Ann", LoginProfileInput{Password: "Quiet-Lantern-Harbor-77"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)

	seq := e.lastSeq(t)
	rep, err := e.svc.GenerateCredentialReport(e.ctx, e.owner)
	if err != nil {
		t.Fatal(err)
	}
	ev := only(t, e.eventsSince(t, seq))
	if ev.EventName != "GenerateCredentialReport" || ev.EventSource != "ims" || ev.ServiceName != "Ims" || ev.EventRW != "Read" ||
		ev.EventType != EventConsoleOperation {
		t.Errorf("event = %s %s %s %s %s", ev.EventName, ev.EventSource, ev.ServiceName, ev.EventRW, ev.EventType)
	}
	users := make([]string, len(rep.Rows))
	for i, r := range rep.Rows {
		users[i] = r[0]
		if len(r) != len(CredentialReportColumns) {
			t.Errorf("row %s has %d cells", r[0], len(r))
		}
	}
	if want := []string{"<root>", "Ann@acme", "bob@acme", "reader@acme"}; !slices.Equal(users, want) {
		t.Errorf("rows = %q, want %q (owner first, then bytewise)", users, want)
	}

	tests := []struct {
		name   string
		row    int
		column string
		want   string
	}{
		{"the owner has a password", 0, "password_exist", "TRUE"},
		{"the owner's password never rotates", 0, "password_next_rotation", "N/A"},
		{"the owner has no AccessKeys", 0, "access_key_1_exist", "FALSE"},
		{"the owner's missing key is N/A", 0, "access_key_1_last_used", "N/A"},
		{"a login profile is a password", 1, "password_exist", "TRUE"},
		{"without MaxPasswordAge a password does not rotate", 1, "password_next_rotation", "N/A"},
		{"no MFA is FALSE", 1, "mfa_active", "FALSE"},
		{"never signed in is -", 1, "user_last_logon", "-"},
		{"no login profile: no password", 2, "password_exist", "FALSE"},
		{"no login profile: active is N/A", 2, "password_active", "N/A"},
		{"a key exists", 2, "access_key_1_exist", "TRUE"},
		{"a new key is active", 2, "access_key_1_active", "TRUE"},
		{"an unused key's last use is -", 2, "access_key_1_last_used", "-"},
		{"a second key that does not exist", 2, "access_key_2_exist", "FALSE"},
		{"additional keys never exist", 2, "additional_access_key_3_exist", "FALSE"},
		{"additional keys' cells are N/A", 2, "additional_access_key_3_last_used", "N/A"},
	}
	for _, tt := range tests {
		i := slices.Index(CredentialReportColumns[:], tt.column)
		if got := rep.Rows[tt.row][i]; got != tt.want {
			t.Errorf("%s: %s of %s = %q, want %q", tt.name, tt.column, rep.Rows[tt.row][0], got, tt.want)
		}
	}
	i := slices.Index(CredentialReportColumns[:], "access_key_1_last_rotated")
	if got, _ := time.Parse(time.RFC3339, rep.Rows[2][i]); got.IsZero() {
		t.Errorf("bob's key's last rotation = %q", rep.Rows[2][i])
	}

	// Paging: MaxItems rows a page, each a complete CSV; the token names the
	// report.
	page, err := e.svc.GetCredentialReport(e.ctx, reader, CredentialReportQuery{MaxItems: "3"})
	if err != nil {
		t.Fatal(err)
	}
	lines, err := csv.NewReader(strings.NewReader(string(page.CSV))).ReadAll()
	if err != nil || len(lines) != 4 || strings.Join(lines[0], ",") != strings.Join(CredentialReportColumns[:], ",") || page.NextToken == "" {
		t.Fatalf("first page: %q %v, token %q", lines, err, page.NextToken)
	}
	next, err := e.svc.GetCredentialReport(e.ctx, reader, CredentialReportQuery{MaxItems: "3", NextToken: page.NextToken})
	if err != nil {
		t.Fatal(err)
	}
	lines, _ = csv.NewReader(strings.NewReader(string(next.CSV))).ReadAll()
	if len(lines) != 2 || lines[1][0] != "reader@acme" || next.NextToken != "" {
		t.Errorf("second page: %q, token %q", lines, next.NextToken)
	}

	bad := []struct {
		name string
		q    CredentialReportQuery
		code string
	}{
		{"MaxItems 0 is out of range", CredentialReportQuery{MaxItems: "0"}, "InvalidParameter.MaxItems"},
		{"MaxItems 1001 is out of range", CredentialReportQuery{MaxItems: "1001"}, "InvalidParameter.MaxItems"},
		{"MaxItems must be an integer", CredentialReportQuery{MaxItems: "x"}, "InvalidParameter.MaxItems"},
		{"a garbled token is unknown", CredentialReportQuery{NextToken: "!!"}, "InvalidParameter.NextToken"},
		{"a token of offset 0 is unknown", CredentialReportQuery{NextToken: reportToken(rep, 0)}, "InvalidParameter.NextToken"},
		{"a token past the last row is unknown", CredentialReportQuery{NextToken: reportToken(rep, len(rep.Rows))}, "InvalidParameter.NextToken"},
		{"another report's token is unknown", CredentialReportQuery{NextToken: base64.RawURLEncoding.EncodeToString(
			[]byte("cr1:" + strconv.FormatInt(rep.GeneratedAt.Add(time.Second).UnixNano(), 10) + ":1"))}, "InvalidParameter.NextToken"},
	}
	for _, tt := range bad {
		seq := e.lastSeq(t)
		_, err := e.svc.GetCredentialReport(e.ctx, reader, tt.q)
		wantCode(t, tt.name, err, tt.code)
		if names := eventNames(e.eventsSince(t, seq)); !slices.Equal(names, []string{"GetCredentialReport/" + tt.code}) {
			t.Errorf("%s: events %q", tt.name, names)
		}
	}

	// Reading does not allow generating; a refusal is an IMS read too.
	seq = e.lastSeq(t)
	_, err = e.svc.GenerateCredentialReport(e.ctx, reader)
	wantCode(t, "generate with only ram:GetCredentialReport", err, "NoPermission")
	ev = only(t, e.eventsSince(t, seq))
	if ev.ErrorCode != "NoPermission" || ev.EventSource != "ims" || ev.ServiceName != "Ims" || ev.EventRW != "Read" {
		t.Errorf("refusal event = %s %s %s %s", ev.ErrorCode, ev.EventSource, ev.ServiceName, ev.EventRW)
	}
	if d, ok := DenialOf(err); !ok || d.Action != ActionGenerateCredentialReport {
		t.Errorf("denial = %+v", d)
	}
}

func TestCredentialReportGeneratedOnFirstRead(t *testing.T) {
	t.Parallel()
	e := newTestEnv(t)
	seq := e.lastSeq(t)
	rep, err := e.svc.CredentialReport(e.ctx, e.owner, "csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Rows) != 1 || rep.Rows[0][0] != "<root>" || !rep.GeneratedAt.Equal(e.clock.Now()) {
		t.Errorf("first read: %q at %v", rep.Rows, rep.GeneratedAt)
	}
	if names := eventNames(e.eventsSince(t, seq)); !slices.Equal(names, []string{"GetCredentialReport"}) {
		t.Errorf("events = %q", names)
	}
	// Later reads return the same report until a new one is generated.
	e.clock.Advance(time.Hour)
	again, err := e.svc.CredentialReport(e.ctx, e.owner, "html")
	if err != nil || !again.GeneratedAt.Equal(rep.GeneratedAt) {
		t.Errorf("second read generated at %v (%v), want %v", again.GeneratedAt, err, rep.GeneratedAt)
	}
	fresh, err := e.svc.GenerateCredentialReport(e.ctx, e.owner)
	if err != nil || !fresh.GeneratedAt.Equal(e.clock.Now()) {
		t.Errorf("generate: %v (%v), want a fresh report at %v", fresh.GeneratedAt, err, e.clock.Now())
	}
}

func TestCredentialReportCSVNeutralises(t *testing.T) {
	rows := [][]string{slices.Repeat([]string{"-"}, len(CredentialReportColumns))}
	got := string(CredentialReportCSV(rows, func(s string) string { return "'" + s }))
	if !strings.HasSuffix(got, "\n'-,'-,") && !strings.Contains(got, "\n'-,'-,") {
		t.Errorf("cells are not passed through the neutraliser: %q", got)
	}
	if plain := string(CredentialReportCSV(rows, nil)); !strings.Contains(plain, "\n-,-,") || strings.Contains(plain, "\r") {
		t.Errorf("plain CSV = %q", plain)
	}
}

package web

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	imssdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ims"
	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"

	"ramconsole/handlers"
	"ramconsole/ram"
	"ramconsole/store"
)

// The credential report (SPEC §16.7): IMS 2019-08-15's
// GenerateCredentialReport and GetCredentialReport through the official
// classic Go SDK's services/ims, and the console page with its CSV, on
// SQLite or PostgreSQL.

// imsReportActions are the two IMS actions of the credential report.
var imsReportActions = []string{"GenerateCredentialReport", "GetCredentialReport"}

// credentialReportHeader is the report's header line, Alibaba Cloud's 28
// columns in their order.
const credentialReportHeader = "user,user_creation_time,user_last_logon,password_exist,password_active,password_last_changed," +
	"password_next_rotation,mfa_active,access_key_1_exist,access_key_1_active,access_key_1_last_rotated," +
	"access_key_1_last_used,access_key_2_exist,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used," +
	"additional_access_key_1_exist,additional_access_key_1_active,additional_access_key_1_last_rotated," +
	"additional_access_key_1_last_used,additional_access_key_2_exist,additional_access_key_2_active," +
	"additional_access_key_2_last_rotated,additional_access_key_2_last_used,additional_access_key_3_exist," +
	"additional_access_key_3_active,additional_access_key_3_last_rotated,additional_access_key_3_last_used"

// reportTable is a parsed report: its header and rows by their user cell.
type reportTable struct {
	header []string
	rows   [][]string
}

// parseReport decodes a page's Content and checks that it is a CSV whose
// first line is the header and whose every line ends with \n.
func parseReport(t *testing.T, what, content string) reportTable {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(content)
	if err != nil {
		t.Fatalf("%s: Content is not standard Base64: %v", what, err)
	}
	return parseReportCSV(t, what, string(raw))
}

func parseReportCSV(t *testing.T, what, text string) reportTable {
	t.Helper()
	if !strings.HasPrefix(text, credentialReportHeader+"\n") || !strings.HasSuffix(text, "\n") || strings.Contains(text, "\r") {
		t.Fatalf("%s: CSV does not start with the header line or end lines with \\n: %q", what, text)
	}
	recs, err := csv.NewReader(strings.NewReader(text)).ReadAll()
	if err != nil {
		t.Fatalf("%s: CSV does not parse: %v", what, err)
	}
	for i, r := range recs {
		if len(r) != 28 {
			t.Fatalf("%s: line %d has %d cells, want 28", what, i+1, len(r))
		}
	}
	return reportTable{header: recs[0], rows: recs[1:]}
}

// row returns the row of user (fatal without one).
func (r reportTable) row(t *testing.T, user string) []string {
	t.Helper()
	for _, row := range r.rows {
		if row[0] == user {
			return row
		}
	}
	t.Fatalf("no row of %s in %v", user, r.users())
	return nil
}

// cell is a cell of user's row by its column's name.
func (r reportTable) cell(t *testing.T, user, column string) string {
	t.Helper()
	i := slices.Index(r.header, column)
	if i < 0 {
		t.Fatalf("no column %s", column)
	}
	return r.row(t, user)[i]
}

func (r reportTable) users() []string {
	out := make([]string, len(r.rows))
	for i, row := range r.rows {
		out[i] = row[0]
	}
	return out
}

func reportTimeOf(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// reportCheck is what a row holds, by position, for cells that are known
// exactly; "*" is any report time.
func checkReportRow(t *testing.T, what string, got []string, want []string) {
	t.Helper()
	for i, w := range want {
		if w == "*" {
			if !imsDateRE.MatchString(got[i]) {
				t.Errorf("%s: %s = %q, want a time", what, strings.Split(credentialReportHeader, ",")[i], got[i])
			}
			continue
		}
		if got[i] != w {
			t.Errorf("%s: %s (column %d) = %q, want %q", what, strings.Split(credentialReportHeader, ",")[i], i+1, got[i], w)
		}
	}
}

// reportEvent checks that a request left one event of action as an IMS
// read, with the error code (empty for success), and returns it.
func (h *harness) reportEvent(t *testing.T, requestID, action, eventType, errorCode string) store.StoredEvent {
	t.Helper()
	var found []store.StoredEvent
	for _, e := range h.events() {
		if e.RequestID == requestID && e.EventName == action {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s (request %s): %d events, want 1", action, requestID, len(found))
	}
	e := found[0]
	if e.EventSource != "ims" || e.ServiceName != "Ims" || e.EventRW != "Read" || e.EventType != eventType || e.ErrorCode != errorCode ||
		e.IsError != (errorCode != "") {
		t.Errorf("%s event: source %q service %q rw %q type %q errorCode %q, want ims Ims Read %s %q", action, e.EventSource, e.ServiceName,
			e.EventRW, e.EventType, e.ErrorCode, eventType, errorCode)
	}
	return e
}

// credentialReportFixture makes the identities the report tests read:
// alice (console access, MFA, signed in, an AccessKey), bob (no console
// access, an older Active key that made a call and a newer Inactive one),
// carol (console access turned off, no keys), Zed (sorts before the
// lower-case names bytewise) and the API's apiadmin; the password policy
// expires passwords after 90 days.
type credentialReportFixture struct {
	env                *apiEnv
	alice              employee
	bobKey1, bobKey2   *ram.NewAccessKey
	aliceMFA           string
	alicePassword      string
	aliceSignedIn      time.Time
	bobKey1Created     time.Time
	bobKey2Created     time.Time
	carolPasswordSetAt time.Time
}

func newCredentialReportFixture(t *testing.T) *credentialReportFixture {
	env := newAPIEnv(t)
	f := &credentialReportFixture{env: env}
	ctx := context.Background()
	root := ram.Actor{Principal: ram.PrincipalRoot, Name: testOwnerEmail, RequestID: ram.NewRequestID()}

	env.signIn(env.ownerSecret) // the owner's last sign-in
	f.alice = env.createEmployee(env.owner, "alice")
	env.clock.Advance(time.Minute)
	f.aliceSignedIn = env.clock.Now()
	_, f.aliceMFA, f.alicePassword = env.signInEmployee("alice@"+testAlias, f.alice.password)

	for _, name := range []string{"bob", "carol", "Zed"} {
		if _, err := env.svc.CreateUser(ctx, root, ram.UserInput{UserName: name}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	env.clock.Advance(time.Minute)
	f.bobKey1Created = env.clock.Now()
	k1, err := env.svc.CreateAccessKey(ctx, root, "bob")
	must(t, err, "bob's first key")
	env.clock.Advance(time.Minute)
	f.bobKey2Created = env.clock.Now()
	k2, err := env.svc.CreateAccessKey(ctx, root, "bob")
	must(t, err, "bob's second key")
	must(t, env.svc.UpdateAccessKey(ctx, root, "bob", k2.AccessKeyID, "Inactive"), "deactivate bob's second key")
	f.bobKey1, f.bobKey2 = k1, k2

	env.clock.Advance(time.Minute)
	f.carolPasswordSetAt = env.clock.Now()
	if _, _, err := env.svc.CreateLoginProfile(ctx, root, "carol", ram.LoginProfileInput{Password: "Quiet-Lantern-Harbor-77"}); err != nil {
		t.Fatalf("carol's login profile: %v", err)
	}
	inactive := "Inactive"
	if _, err := env.svc.UpdateLoginProfile(ctx, root, "carol", ram.LoginProfileUpdate{Status: &inactive}); err != nil {
		t.Fatalf("turn carol's console access off: %v", err)
	}
	pol, err := env.svc.GetPasswordPolicy(ctx, root)
	must(t, err, "GetPasswordPolicy")
	pol.MaxPasswordAge = 90
	if _, err := env.svc.SetPasswordPolicy(ctx, root, pol); err != nil {
		t.Fatalf("SetPasswordPolicy: %v", err)
	}
	env.clock.Advance(time.Minute)
	return f
}

func (f *credentialReportFixture) generate(t *testing.T, c *imssdk.Client) *imssdk.GenerateCredentialReportResponse {
	t.Helper()
	r := imssdk.CreateGenerateCredentialReportRequest()
	f.env.at(r)
	resp, err := c.GenerateCredentialReport(r)
	must(t, err, "GenerateCredentialReport")
	return resp
}

func (f *credentialReportFixture) get(c *imssdk.Client, maxItems, token string) (*imssdk.GetCredentialReportResponse, error) {
	r := imssdk.CreateGetCredentialReportRequest()
	f.env.at(r)
	r.MaxItems, r.NextToken = maxItems, token
	return c.GetCredentialReport(r)
}

func TestCredentialReportAPI(t *testing.T) {
	f := newCredentialReportFixture(t)
	env := f.env
	c := env.imsClient(env.admin.keyID, env.admin.secret)

	// Without any report yet, GetCredentialReport generates one.
	first, err := f.get(c, "", "")
	must(t, err, "GetCredentialReport before any report")
	if !imsDateRE.MatchString(first.GeneratedTime) || first.IsTruncated != "false" || first.NextToken != "" {
		t.Errorf("first GetCredentialReport = %s", first.GetHttpContentString())
	}
	env.reportEvent(t, first.RequestId, "GetCredentialReport", ram.EventAPICall, "")

	// bob's first key makes a call (refused: bob has no policies); its use
	// is recorded all the same.
	env.clock.Advance(time.Minute)
	bobUsed := env.clock.Now()
	bob := env.sdkClient(f.bobKey1.AccessKeyID, f.bobKey1.AccessKeySecret)
	gu := ramsdk.CreateGetUserRequest()
	env.at(gu)
	gu.UserName = "bob"
	_, err = bob.GetUser(gu)
	expectCode(t, err, "NoPermission", 403, "bob's key makes a call")
	env.clock.Advance(time.Minute)

	gen := f.generate(t, c)
	if gen.State != "COMPLETE" || gen.RequestId == "" {
		t.Errorf("GenerateCredentialReport = %s", gen.GetHttpContentString())
	}
	env.reportEvent(t, gen.RequestId, "GenerateCredentialReport", ram.EventAPICall, "")
	generated := env.clock.Now()

	got, err := f.get(c, "", "")
	must(t, err, "GetCredentialReport")
	if got.GeneratedTime != reportTimeOf(generated) || got.IsTruncated != "false" || got.NextToken != "" {
		t.Errorf("GetCredentialReport: GeneratedTime %q (want %q) IsTruncated %q NextToken %q", got.GeneratedTime, reportTimeOf(generated),
			got.IsTruncated, got.NextToken)
	}
	if !strings.Contains(got.GetHttpContentString(), `"IsTruncated":false`) || !strings.Contains(got.GetHttpContentString(), `"NextToken":""`) {
		t.Errorf("JSON answer = %.300s", got.GetHttpContentString())
	}
	ev := env.reportEvent(t, got.RequestId, "GetCredentialReport", ram.EventAPICall, "")
	if ev.UserIdentity.AccessKeyID != env.admin.keyID {
		t.Errorf("event's AccessKeyId = %q", ev.UserIdentity.AccessKeyID)
	}
	rep := parseReport(t, "GetCredentialReport", got.Content)
	if strings.Join(rep.header, ",") != credentialReportHeader {
		t.Errorf("header = %q", rep.header)
	}
	wantUsers := []string{"<root>", "Zed@" + testAlias, "alice@" + testAlias, "apiadmin@" + testAlias, "bob@" + testAlias, "carol@" + testAlias}
	if !slices.Equal(rep.users(), wantUsers) {
		t.Fatalf("rows = %q, want %q", rep.users(), wantUsers)
	}
	noKeys := []string{"FALSE", "N/A", "N/A", "N/A", "FALSE", "N/A", "N/A", "N/A"}
	additional := slices.Repeat([]string{"FALSE", "N/A", "N/A", "N/A"}, 3)
	row := func(cells ...[]string) []string { return slices.Concat(cells...) }

	// The owner: password TRUE/TRUE, no rotation, MFA bound at setup, no keys.
	checkReportRow(t, "<root>", rep.rows[0], row([]string{"<root>", "*", "*", "TRUE", "TRUE", "*", "N/A", "TRUE"}, noKeys, additional))

	// alice: signed in with MFA; her password was changed at the sign-in, so
	// it rotates 90 days later; her one key has made no call.
	aliceRow := rep.row(t, "alice@"+testAlias)
	changed := aliceRow[5]
	changedAt, err := time.Parse(time.RFC3339, changed)
	must(t, err, "alice's password_last_changed")
	aliceKeys := []string{"TRUE", "TRUE", "*", "-", "FALSE", "N/A", "N/A", "N/A"}
	checkReportRow(t, "alice", aliceRow, row([]string{"alice@" + testAlias, "*", "*", "TRUE", "TRUE", "*",
		reportTimeOf(changedAt.AddDate(0, 0, 90)), "TRUE"}, aliceKeys, additional))
	if logon := rep.cell(t, "alice@"+testAlias, "user_last_logon"); logon < reportTimeOf(f.aliceSignedIn) {
		t.Errorf("alice's user_last_logon %q is before her sign-in at %s", logon, reportTimeOf(f.aliceSignedIn))
	}
	if c := rep.cell(t, "alice@"+testAlias, "password_next_rotation"); c != reportTimeOf(changedAt.AddDate(0, 0, 90)) {
		t.Errorf("alice's password_next_rotation by name = %q", c)
	}

	// bob: no console access, no MFA, never signed in; key 1 (older) Active
	// and used, key 2 Inactive and unused.
	checkReportRow(t, "bob", rep.row(t, "bob@"+testAlias), row([]string{"bob@" + testAlias, "*", "-", "FALSE", "N/A", "N/A", "N/A", "FALSE"},
		[]string{"TRUE", "TRUE", reportTimeOf(f.bobKey1Created), reportTimeOf(bobUsed)},
		[]string{"TRUE", "FALSE", reportTimeOf(f.bobKey2Created), "-"}, additional))
	if c := rep.cell(t, "bob@"+testAlias, "access_key_1_last_used"); c != reportTimeOf(bobUsed) {
		t.Errorf("bob's access_key_1_last_used by name = %q, want %q", c, reportTimeOf(bobUsed))
	}
	if c := rep.cell(t, "bob@"+testAlias, "access_key_2_active"); c != "FALSE" {
		t.Errorf("bob's access_key_2_active by name = %q", c)
	}

	// carol: a password, turned off.
	checkReportRow(t, "carol", rep.row(t, "carol@"+testAlias), row([]string{"carol@" + testAlias, "*", "-", "TRUE", "FALSE",
		reportTimeOf(f.carolPasswordSetAt), reportTimeOf(f.carolPasswordSetAt.AddDate(0, 0, 90)), "FALSE"}, noKeys, additional))
	// Zed: nothing at all.
	checkReportRow(t, "Zed", rep.row(t, "Zed@"+testAlias), row([]string{"Zed@" + testAlias, "*", "-", "FALSE", "N/A", "N/A", "N/A", "FALSE"},
		noKeys, additional))

	// GetAccessKeyLastUsed answers from the same data.
	lu := ramsdk.CreateGetAccessKeyLastUsedRequest()
	env.at(lu)
	lu.UserName, lu.UserAccessKeyId = "bob", f.bobKey1.AccessKeyID
	last, err := env.client.GetAccessKeyLastUsed(lu)
	must(t, err, "GetAccessKeyLastUsed")
	if last.AccessKeyLastUsed.LastUsedDate != reportTimeOf(bobUsed) {
		t.Errorf("GetAccessKeyLastUsed = %q, want %q", last.AccessKeyLastUsed.LastUsedDate, reportTimeOf(bobUsed))
	}
	lu.UserAccessKeyId = f.bobKey2.AccessKeyID
	last, err = env.client.GetAccessKeyLastUsed(lu)
	must(t, err, "GetAccessKeyLastUsed of an unused key")
	if last.AccessKeyLastUsed.LastUsedDate != "" || !strings.Contains(last.GetHttpContentString(), `"AccessKeyLastUsed":{"LastUsedDate":""}`) {
		t.Errorf("GetAccessKeyLastUsed of an unused key = %s", last.GetHttpContentString())
	}

	// The report is the one generated: a key used since shows in the next.
	alice := env.sdkClient(f.alice.keyID, f.alice.secret)
	_, err = alice.GetUser(gu)
	expectCode(t, err, "NoPermission", 403, "alice's key makes a call")
	again, err := f.get(c, "", "")
	must(t, err, "GetCredentialReport again")
	if again.Content != got.Content || again.GeneratedTime != got.GeneratedTime {
		t.Errorf("GetCredentialReport changed without a new report")
	}
	env.clock.Advance(time.Minute)
	f.generate(t, c)
	again, err = f.get(c, "", "")
	must(t, err, "GetCredentialReport after a new report")
	if c := parseReport(t, "new report", again.Content).cell(t, "alice@"+testAlias, "access_key_1_last_used"); !imsDateRE.MatchString(c) {
		t.Errorf("alice's access_key_1_last_used after a call = %q", c)
	}
}

func TestCredentialReportPaging(t *testing.T) {
	f := newCredentialReportFixture(t)
	env := f.env
	c := env.imsClient(env.admin.keyID, env.admin.secret)
	f.generate(t, c)
	whole, err := f.get(c, "1000", "")
	must(t, err, "GetCredentialReport MaxItems=1000")
	all := parseReport(t, "whole", whole.Content)

	var pages [][]string
	token := ""
	for i := 0; ; i++ {
		if i > len(all.rows) {
			t.Fatalf("more pages than rows")
		}
		p, err := f.get(c, "1", token)
		must(t, err, "GetCredentialReport page")
		page := parseReport(t, "page", p.Content)
		if len(page.rows) != 1 || p.GeneratedTime != whole.GeneratedTime {
			t.Fatalf("page %d: %d rows, GeneratedTime %q", i, len(page.rows), p.GeneratedTime)
		}
		pages = append(pages, page.rows[0])
		last := i == len(all.rows)-1
		if (p.IsTruncated == "true") == last || (p.NextToken == "") != last {
			t.Fatalf("page %d of %d: IsTruncated %q NextToken %q", i+1, len(all.rows), p.IsTruncated, p.NextToken)
		}
		if last {
			break
		}
		token = p.NextToken
	}
	if !slices.EqualFunc(pages, all.rows, slices.Equal) {
		t.Errorf("pages = %q, want %q", pages, all.rows)
	}
	two, err := f.get(c, "2", "")
	must(t, err, "MaxItems=2")
	if r := parseReport(t, "two", two.Content); len(r.rows) != 2 || two.IsTruncated != "true" || two.NextToken == "" {
		t.Errorf("MaxItems=2: %d rows, IsTruncated %q", len(r.rows), two.IsTruncated)
	}

	for _, bad := range []string{"0", "1001", "-1", "ten", "1.5"} {
		_, err := f.get(c, bad, "")
		se := expectCode(t, err, "InvalidParameter.MaxItems", 400, "MaxItems="+bad)
		env.reportEvent(t, se.RequestId(), "GetCredentialReport", ram.EventAPICall, "InvalidParameter.MaxItems")
	}
	for what, bad := range map[string]string{"garbled": "%%%not-a-token", "made up": base64.RawURLEncoding.EncodeToString([]byte("cr1:1:1")),
		"past the end": base64.RawURLEncoding.EncodeToString([]byte("x"))} {
		_, err := f.get(c, "1", bad)
		se := expectCode(t, err, "InvalidParameter.NextToken", 400, "NextToken "+what)
		env.reportEvent(t, se.RequestId(), "GetCredentialReport", ram.EventAPICall, "InvalidParameter.NextToken")
	}
	// A token of an older report is unknown once a new one is generated.
	env.clock.Advance(time.Second)
	f.generate(t, c)
	_, err = f.get(c, "1", two.NextToken)
	expectCode(t, err, "InvalidParameter.NextToken", 400, "a token of the previous report")
}

func TestCredentialReportRefusals(t *testing.T) {
	f := newCredentialReportFixture(t)
	env := f.env
	bob := env.imsClient(f.bobKey1.AccessKeyID, f.bobKey1.AccessKeySecret)
	r := imssdk.CreateGenerateCredentialReportRequest()
	env.at(r)
	_, err := bob.GenerateCredentialReport(r)
	se := expectCode(t, err, "NoPermission", 403, "GenerateCredentialReport without a policy")
	if d := se.AccessDeniedDetail(); d["AuthAction"] != "ram:GenerateCredentialReport" || d["AuthPrincipalDisplayName"] != "bob" {
		t.Errorf("AccessDeniedDetail = %v", d)
	}
	ev := env.reportEvent(t, se.RequestId(), "GenerateCredentialReport", ram.EventAPICall, "NoPermission")
	if ev.UserIdentity.AccessKeyID != f.bobKey1.AccessKeyID {
		t.Errorf("refusal's AccessKeyId = %q", ev.UserIdentity.AccessKeyID)
	}
	_, err = f.get(bob, "", "")
	se = expectCode(t, err, "NoPermission", 403, "GetCredentialReport without a policy")
	if d := se.AccessDeniedDetail(); d["AuthAction"] != "ram:GetCredentialReport" {
		t.Errorf("AccessDeniedDetail = %v", d)
	}
	env.reportEvent(t, se.RequestId(), "GetCredentialReport", ram.EventAPICall, "NoPermission")

	// Get alone does not allow Generate.
	imsGrant(t, env.harness, "bob", "report-reader", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ram:GetCredentialReport","Resource":"*"}]}`)
	got, err := f.get(bob, "", "")
	must(t, err, "GetCredentialReport with ram:GetCredentialReport")
	parseReport(t, "bob's read", got.Content)
	_, err = bob.GenerateCredentialReport(r)
	expectCode(t, err, "NoPermission", 403, "GenerateCredentialReport with only ram:GetCredentialReport")
}

func TestCredentialReportXMLAndV3(t *testing.T) {
	f := newCredentialReportFixture(t)
	env := f.env
	c := env.imsClient(env.admin.keyID, env.admin.secret)

	r := imssdk.CreateGenerateCredentialReportRequest()
	env.at(r)
	r.AcceptFormat = "XML"
	x, err := c.GenerateCredentialReport(r)
	must(t, err, "GenerateCredentialReport XML")
	if x.State != "COMPLETE" || !strings.Contains(x.GetHttpContentString(), "<State>COMPLETE</State>") {
		t.Errorf("XML = %s", x.GetHttpContentString())
	}
	g := imssdk.CreateGetCredentialReportRequest()
	env.at(g)
	g.AcceptFormat, g.MaxItems = "XML", "2"
	gx, err := c.GetCredentialReport(g)
	must(t, err, "GetCredentialReport XML")
	var doc struct {
		XMLName     xml.Name `xml:"GetCredentialReportResponse"`
		Content     string
		IsTruncated string
		NextToken   string
	}
	if err := xml.Unmarshal(gx.GetHttpContentBytes(), &doc); err != nil || doc.IsTruncated != "true" || doc.NextToken == "" {
		t.Fatalf("XML GetCredentialReport = %s (%v)", gx.GetHttpContentString(), err)
	}
	if rep := parseReport(t, "XML", doc.Content); len(rep.rows) != 2 || rep.rows[0][0] != "<root>" {
		t.Errorf("XML page rows = %q", rep.users())
	}

	req := env.v3Request(env.admin.keyID, env.admin.secret, "GetCredentialReport", url.Values{"MaxItems": {"1000"}}, nil)
	req.Header.Set("x-acs-version", handlers.IMSVersion)
	signV3(req, env.admin.keyID, env.admin.secret)
	p := env.send(req)
	expectStatus(t, p, 200, "V3 GetCredentialReport")
	var v3 struct {
		RequestId, GeneratedTime, Content, NextToken string
		IsTruncated                                  bool
	}
	if err := decodeJSON(p.body, &v3); err != nil || v3.IsTruncated || v3.NextToken != "" || !imsDateRE.MatchString(v3.GeneratedTime) {
		t.Fatalf("V3 GetCredentialReport = %s (%v)", p.body, err)
	}
	if rep := parseReport(t, "V3", v3.Content); len(rep.rows) != 6 {
		t.Errorf("V3 rows = %q", rep.users())
	}
	env.reportEvent(t, v3.RequestId, "GetCredentialReport", ram.EventAPICall, "")
}

func TestCredentialReportConsole(t *testing.T) {
	f := newCredentialReportFixture(t)
	env := f.env
	o := env.owner

	// The overview's checklist links to the page.
	p := o.get("/")
	expectStatus(t, p, 200, "GET /")
	if !strings.Contains(p.body, `href="/reports/credentials" data-testid="checklist-credential-report"`) {
		t.Errorf("the overview does not link to the credential report")
	}

	p = o.get("/reports/credentials")
	expectStatus(t, p, 200, "GET /reports/credentials")
	for _, want := range []string{`data-testid="credential-report-table"`, `data-testid="credential-report-generated"`,
		`href="/reports/credentials.csv" data-testid="credential-report-csv"`, `data-testid="credential-report-generate"`,
		`data-user="&lt;root&gt;"`, `data-user="alice@` + testAlias + `"`, `<th scope="col">additional_access_key_3_last_used</th>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if n := strings.Count(p.body, `data-testid="credential-report-row"`); n != 6 {
		t.Errorf("%d rows on the page, want 6", n)
	}
	viewID := p.header.Get("X-Request-Id")
	env.reportEvent(t, viewID, "GetCredentialReport", ram.EventConsoleOperation, "")

	// Generating: CSRF required, then redirect-after-post with a flash.
	bad := o.post("/reports/credentials", url.Values{"csrf_token": {"forged"}})
	if bad.status != http.StatusForbidden && bad.status != http.StatusBadRequest {
		t.Errorf("POST without the CSRF token: status %d", bad.status)
	}
	env.clock.Advance(time.Minute)
	p = o.post("/reports/credentials", nil)
	expectRedirect(t, p, "/reports/credentials", "POST /reports/credentials")
	env.reportEvent(t, p.header.Get("X-Request-Id"), "GenerateCredentialReport", ram.EventConsoleOperation, "")
	p = o.get("/reports/credentials")
	if !strings.Contains(p.body, "A new credential report was generated at "+reportTimeOf(env.clock.Now())) ||
		!strings.Contains(p.body, `data-testid="credential-report-generated">`+reportTimeOf(env.clock.Now())+`<`) {
		t.Errorf("after generating: no flash or generation time %s", reportTimeOf(env.clock.Now()))
	}

	// The CSV: the API's columns and rows, cells neutralised as the audit
	// export's are ("-", never, starts like a formula).
	p = o.get("/reports/credentials.csv")
	expectStatus(t, p, 200, "GET /reports/credentials.csv")
	if ct := p.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	if cd := p.header.Get("Content-Disposition"); cd != `attachment; filename="credential-report.csv"` {
		t.Errorf("Content-Disposition = %q", cd)
	}
	env.reportEvent(t, p.header.Get("X-Request-Id"), "GetCredentialReport", ram.EventConsoleOperation, "")
	file := parseReportCSV(t, "download", p.body)
	if got := file.cell(t, "bob@"+testAlias, "user_last_logon"); got != "'-" {
		t.Errorf("a never cell in the download = %q, want '-", got)
	}
	if got := file.cell(t, "Zed@"+testAlias, "password_active"); got != "N/A" {
		t.Errorf("an N/A cell in the download = %q", got)
	}
	c := env.imsClient(env.admin.keyID, env.admin.secret)
	api, err := f.get(c, "1000", "")
	must(t, err, "GetCredentialReport")
	apiRep := parseReport(t, "API", api.Content)
	if !slices.Equal(file.users(), apiRep.users()) {
		t.Errorf("download rows %q, API rows %q", file.users(), apiRep.users())
	}
	for i := range apiRep.rows {
		for j, v := range apiRep.rows[i] {
			want := v
			if strings.HasPrefix(v, "-") {
				want = "'" + v
			}
			if file.rows[i][j] != want {
				t.Errorf("download row %d column %d = %q, API %q", i, j, file.rows[i][j], v)
			}
		}
	}

	// A RAM user without the actions: refused (the access-denied page).
	alice := env.browser()
	alice.get("/login")
	pp := alice.post("/login", url.Values{"username": {"alice@" + testAlias}, "password": {f.alicePassword}})
	expectRedirect(t, pp, "/login/mfa", "alice's password")
	alice.get("/login/mfa")
	expectRedirect(t, alice.post("/login/mfa", url.Values{"code": {env.code(f.aliceMFA, 0)}}), "/", "alice's MFA code")
	expectStatus(t, alice.get("/reports/credentials"), http.StatusForbidden, "alice views the report")
	expectStatus(t, alice.get("/reports/credentials.csv"), http.StatusForbidden, "alice downloads the report")
	pp = alice.post("/reports/credentials", nil)
	expectStatus(t, pp, http.StatusForbidden, "alice generates a report")
	var refused []store.StoredEvent
	for _, e := range env.events() {
		if e.RequestID == pp.header.Get("X-Request-Id") && e.EventName == "GenerateCredentialReport" && e.ErrorCode == "NoPermission" {
			refused = append(refused, e)
		}
	}
	if len(refused) != 1 {
		t.Errorf("alice's refused generation left %d NoPermission events, want 1", len(refused))
	}
}

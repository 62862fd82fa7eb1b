package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"ramconsole/ram"
	"ramconsole/store"
)

var (
	batchRowRE     = regexp.MustCompile(`data-testid="batch-row" data-row="(\d+)"`)
	handoverUserRE = regexp.MustCompile(`(?s)<tr data-testid="handover-user" data-user="([^"]+)">(.*?)</tr>`)
	handoverCSVRE  = regexp.MustCompile(`data-testid="handover-csv" href="([^"]+)"`)
)

// batchForm is a batch post: the rows (name, display name pairs) and the
// shared access fields.
func batchForm(rows [][2]string, access ...string) url.Values {
	f := url.Values{}
	for _, r := range rows {
		f.Add("name", r[0])
		f.Add("display_name", r[1])
	}
	f.Set("generate_password", "true")
	for _, a := range access {
		f.Set(a, "true")
	}
	return f
}

// lastSeq is the sequence number of the newest audit event.
func (h *harness) lastSeq() int64 {
	h.t.Helper()
	seq, err := h.st.LastEventSeq(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return seq
}

// eventsAfter are the audit events after seq, oldest first.
func (h *harness) eventsAfter(seq int64) []store.StoredEvent {
	h.t.Helper()
	var out []store.StoredEvent
	for _, e := range h.events() {
		if e.Seq > seq {
			out = append([]store.StoredEvent{e}, out...)
		}
	}
	return out
}

// batchLine is one user of a batch's hand-over sheet.
type batchLine struct{ logonName, password, keyID, keySecret string }

// batchSheet reads the hand-over sheet's lines by user.
func batchSheet(t *testing.T, body string) map[string]batchLine {
	t.Helper()
	lines := map[string]batchLine{}
	cell := func(testid, row string) string {
		m := regexp.MustCompile(`data-testid="` + testid + `">([^<]*)<`).FindStringSubmatch(row)
		if m == nil {
			return ""
		}
		return html.UnescapeString(m[1])
	}
	for _, m := range handoverUserRE.FindAllStringSubmatch(body, -1) {
		lines[html.UnescapeString(m[1])] = batchLine{cell("handover-logon-name", m[2]), cell("generated-password", m[2]), cell("accesskey-id", m[2]), cell("accesskey-secret", m[2])}
	}
	return lines
}

// TestBatchCreatesUsersInOneGo: three rows (and an empty one) with console
// access and AccessKeys make three users, one hand-over sheet with each
// one's credentials, and one CSV of all of them, downloadable once; the
// log has each user's CreateUser, CreateLoginProfile and CreateAccessKey.
func TestBatchCreatesUsersInOneGo(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	p := owner.get("/users/new?rows=3")
	expectStatus(t, p, 200, "GET /users/new?rows=3")
	if n := len(batchRowRE.FindAllString(p.body, -1)); n != 3 {
		t.Fatalf("the form has %d rows, want 3", n)
	}
	if !strings.Contains(p.body, `action="/users/batch"`) || !strings.Contains(p.body, `name="mfa_bind_required" value="true" checked`) {
		t.Errorf("the batch form does not post to /users/batch with MFA required by default")
	}
	for _, unchosen := range []string{"console_login", "create_access_key"} {
		if strings.Contains(p.body, `name="`+unchosen+`" value="true" checked`) {
			t.Errorf("the batch form chooses %s for the administrator", unchosen)
		}
	}
	before := h.lastSeq()
	post := owner.post("/users/batch", batchForm([][2]string{{"ann", "Ann Archer"}, {"", ""}, {"ben", ""}, {"Cleo.W", "Cleo Wu"}},
		"console_login", "password_reset_required", "mfa_bind_required", "create_access_key"))
	expectHandover(t, post, "batch of three")
	sheetURL := post.header.Get("Location")
	p = owner.get(sheetURL)
	expectStatus(t, p, 200, "the batch's sheet")
	lines := batchSheet(t, p.body)
	if len(lines) != 3 {
		t.Fatalf("the sheet lists %d users, want 3: %v", len(lines), lines)
	}
	passwords := map[string]bool{}
	for _, name := range []string{"ann", "ben", "Cleo.W"} {
		l := lines[name]
		if l.logonName != name+"@"+testAlias || len(l.password) < 20 || !keyIDRE.MatchString(`data-testid="accesskey-id">`+l.keyID+`<`) || len(l.keySecret) != 30 {
			t.Errorf("%s's line = %+v", name, l)
		}
		passwords[l.password] = true
	}
	if len(passwords) != 3 {
		t.Errorf("the users share passwords: %v", passwords)
	}
	if got := find(t, logonURLRE, p.body, "logon URL"); got != h.srv.URL+"/login" {
		t.Errorf("logon URL %q, want %q", got, h.srv.URL+"/login")
	}
	csvHref := find(t, handoverCSVRE, p.body, "the batch's CSV")
	if again := owner.get(sheetURL); again.status != http.StatusGone || strings.Contains(again.body, lines["ann"].password) {
		t.Errorf("the sheet again: %d, or it shows a password", again.status)
	}

	// The one CSV: every user, as the sheet shows them; once.
	if other := h.signIn(h.ownerSecret).get(csvHref); other.status != http.StatusNotFound {
		t.Errorf("another session downloaded the CSV: %d", other.status)
	}
	dl := owner.get(csvHref)
	expectStatus(t, dl, 200, "the batch's CSV")
	if ct, cd := dl.header.Get("Content-Type"), dl.header.Get("Content-Disposition"); ct != "text/csv" || !strings.Contains(cd, "attachment") {
		t.Errorf("CSV served as %q, %q", ct, cd)
	}
	records, err := csv.NewReader(strings.NewReader(dl.body)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, dl.body)
	}
	want := [][]string{{"UserName", "LogonName", "Password", "AccessKeyId", "AccessKeySecret", "LogonUrl"}}
	for _, name := range []string{"ann", "ben", "Cleo.W"} {
		l := lines[name]
		want = append(want, []string{name, l.logonName, l.password, l.keyID, l.keySecret, h.srv.URL + "/login"})
	}
	if fmt.Sprint(records) != fmt.Sprint(want) {
		t.Errorf("CSV = %q, want %q", records, want)
	}
	expectStatus(t, owner.get(csvHref), http.StatusNotFound, "the batch's CSV twice")

	// Stored as asked, all of it.
	for _, name := range []string{"ann", "ben", "Cleo.W"} {
		u, err := h.st.UserByName(context.Background(), name)
		if err != nil {
			t.Fatalf("%s was not created: %v", name, err)
		}
		if name == "ben" && u.DisplayName != "ben" || name == "ann" && u.DisplayName != "Ann Archer" {
			t.Errorf("%s's display name is %q", name, u.DisplayName)
		}
		_, lp, _, _ := h.st.UserLogin(context.Background(), u.UserID)
		if lp == nil || !lp.PasswordResetRequired || !lp.MFABindRequired {
			t.Errorf("%s's login profile = %+v", name, lp)
		}
		if keys, _ := h.st.AccessKeys(context.Background(), u.UserID); len(keys) != 1 || keys[0].AccessKeyID != lines[name].keyID {
			t.Errorf("%s's keys = %v", name, keys)
		}
	}

	// Audited: each user's events under the request, the download with the
	// names; no password or secret anywhere.
	var names []string
	var download *store.StoredEvent
	evs := h.eventsAfter(before)
	for i, e := range evs {
		body, _ := json.Marshal(e)
		for _, l := range lines {
			if strings.Contains(string(body), l.password) || strings.Contains(string(body), l.keySecret) {
				t.Errorf("event %s carries a secret", e.EventName)
			}
		}
		switch {
		case e.EventName == "DownloadCredentialsCSV":
			download = &evs[i]
		case e.RequestID == post.header.Get("X-Request-Id"):
			if e.IsError {
				t.Errorf("%s failed: %s", e.EventName, e.ErrorCode)
			}
			names = append(names, e.EventName+" "+e.ResourceName)
		}
	}
	wantEvents := "CreateUser ann,CreateLoginProfile ann,CreateAccessKey ann,CreateUser ben,CreateLoginProfile ben,CreateAccessKey ben," +
		"CreateUser Cleo.W,CreateLoginProfile Cleo.W,CreateAccessKey Cleo.W"
	if strings.Join(names, ",") != wantEvents {
		t.Errorf("events of the batch:\n %s\nwant\n %s", strings.Join(names, ","), wantEvents)
	}
	if download == nil || fmt.Sprint(download.RequestParameters["UserNames"]) != "[ann ben Cleo.W]" {
		t.Errorf("the CSV download was not audited with the names: %+v", download)
	}

	// The new users sign in with their passwords, and bind MFA first.
	b := h.browser()
	b.get("/login")
	expectRedirect(t, b.post("/login", url.Values{"username": {"ben@" + testAlias}, "password": {lines["ben"].password}}), "/mfa/bind", "ben signs in")
}

// TestBatchBadInputChangesNothing: every refused batch answers 422 with a
// message next to the row (or the field) at fault, keeps what was typed,
// creates no user and writes no event but its one refusal.
func TestBatchBadInputChangesNothing(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	expectRedirect(t, owner.post("/users", url.Values{"name": {"Taken"}}), "/users/Taken", "create Taken")

	var fiftyOne [][2]string
	for i := 1; i <= 51; i++ {
		fiftyOne = append(fiftyOne, [2]string{fmt.Sprintf("emp-%02d", i), ""})
	}
	huge := strings.Repeat("x", 1_000_000)
	cases := []struct {
		name     string
		form     url.Values
		field    string // data-field of the message
		row      string // data-row of the message ("" for the form's own)
		kept     string // a typed value shown again
		audited  bool   // the domain refused it (one failed CreateUser event)
		wantText string
	}{
		{"all rows empty", batchForm([][2]string{{"", ""}, {" ", ""}}, "console_login"), "rows", "", "", true, "at least one row"},
		{"duplicate names in one batch", batchForm([][2]string{{"dora", ""}, {"eli", ""}, {"DORA", "Dora again"}}, "console_login"), "name", "3", `value="Dora again"`, true, "Row 1 has this name"},
		{"a name already taken", batchForm([][2]string{{"fay", ""}, {"taken", ""}}, "create_access_key"), "name", "2", `value="fay"`, true, "already exists"},
		{"a 51st row", batchForm(fiftyOne, "console_login"), "name", "51", `value="emp-51"`, true, "at most 50"},
		{"a 1 MB display name", batchForm([][2]string{{"gus", ""}, {"hal", huge}}), "display_name", "2", `value="gus"`, true, "128"},
		{"a bad name", batchForm([][2]string{{"ivy", ""}, {"bad name!", ""}}), "name", "2", `value="bad name!"`, true, "letters, digits"},
		{"a display name without a name", batchForm([][2]string{{"", "Nameless"}, {"jo", ""}}), "name", "1", `value="Nameless"`, true, "1 to 64"},
		{"the owner's reserved name", batchForm([][2]string{{"root", ""}}), "name", "1", `value="root"`, true, "reserved"},
		{"a typed password", func() url.Values {
			f := batchForm([][2]string{{"kim", ""}}, "console_login")
			f.Set("password", ramUserPW)
			return f
		}(), "console_login", "", `value="kim"`, false, "generates a password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			users, events := h.countUsers(), h.lastSeq()
			owner.get("/users/new?rows=5")
			p := owner.post("/users/batch", tc.form)
			expectStatus(t, p, http.StatusUnprocessableEntity, tc.name)
			at := `data-testid="field-error" data-field="` + tc.field + `"`
			if tc.row != "" {
				at += ` data-row="` + tc.row + `"`
			}
			i := strings.Index(p.body, at)
			if i < 0 {
				t.Fatalf("no message at %s", at)
			}
			if msg := p.body[i:min(i+400, len(p.body))]; !strings.Contains(msg, tc.wantText) {
				t.Errorf("the message %.300q does not say %q", msg, tc.wantText)
			}
			if !strings.Contains(p.body, `data-testid="batch-refused"`) {
				t.Errorf("the page does not say that nothing was created")
			}
			if tc.kept != "" && !strings.Contains(p.body, tc.kept) {
				t.Errorf("the typed %s is not shown again", tc.kept)
			}
			if strings.Contains(p.body, ramUserPW) {
				t.Errorf("the typed password was echoed back")
			}
			if n := h.countUsers(); n != users {
				t.Errorf("%d users created", n-users)
			}
			added := h.eventsAfter(events)
			wantEvents := 0
			if tc.audited {
				wantEvents = 1
			}
			if len(added) != wantEvents {
				t.Fatalf("%d events written, want %d", len(added), wantEvents)
			}
			for _, e := range added {
				if e.EventName != "CreateUser" || !e.IsError {
					t.Errorf("event %s (error %q), want one failed CreateUser", e.EventName, e.ErrorCode)
				}
				if len(e.Body) > 20_000 {
					t.Errorf("the refusal's event is %d bytes", len(e.Body))
				}
			}
		})
	}
	if n := h.countUsers(); n != 1 {
		t.Errorf("%d users after the refused batches, want only Taken", n)
	}
}

// TestBatchAddRowsKeepsWhatWasTyped: "Add rows" shows the form again with
// the typed rows and more empty ones, up to 50, and creates nothing; the
// rows= of the form's address is bounded.
func TestBatchAddRowsKeepsWhatWasTyped(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	for q, want := range map[string]int{"3": 3, "0": 1, "-4": 1, "999": 50, "many": 5, "": 5} {
		p := owner.get("/users/new?rows=" + q)
		expectStatus(t, p, 200, "rows="+q)
		if n := len(batchRowRE.FindAllString(p.body, -1)); n != want {
			t.Errorf("rows=%s shows %d rows, want %d", q, n, want)
		}
	}
	events := h.lastSeq()
	f := batchForm([][2]string{{"lia", "Lia Lee"}, {"max", ""}}, "create_access_key")
	f.Set("add_rows", "5")
	p := owner.post("/users/batch", f)
	expectStatus(t, p, 200, "Add rows")
	if n := len(batchRowRE.FindAllString(p.body, -1)); n != 7 {
		t.Errorf("after Add rows the form has %d rows, want 7", n)
	}
	for _, kept := range []string{`value="lia"`, `value="Lia Lee"`, `value="max"`, `name="create_access_key" value="true" checked`} {
		if !strings.Contains(p.body, kept) {
			t.Errorf("Add rows lost %s", kept)
		}
	}
	if h.countUsers() != 0 || h.lastSeq() != events {
		t.Errorf("Add rows created users or wrote events")
	}
	p = owner.get("/users/new?rows=50")
	if strings.Contains(p.body, `data-testid="batch-add-rows"`) || !strings.Contains(p.body, `data-testid="batch-full"`) {
		t.Errorf("a form of 50 rows still offers more")
	}
	// The entry points.
	for _, page := range []string{"/users", "/users/new"} {
		if !strings.Contains(owner.get(page).body, `href="/users/new?rows=5"`) {
			t.Errorf("%s does not link to the batch form", page)
		}
	}
}

// fillAccount stores n users straight into the database in one transaction
// (names seed-NNNNN), to bring the account near its user limit.
func fillAccount(t *testing.T, h *harness, n int) {
	t.Helper()
	ctx := context.Background()
	err := h.st.Update(ctx, func(tx *store.Tx) error {
		for i := range n {
			u := &store.User{UserID: fmt.Sprintf("9%015d", i), UserName: fmt.Sprintf("seed-%05d", i), DisplayName: "Seeded"}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBatchUserLimit: a batch that would pass the account's user limit
// (SPEC §10) is refused whole, with the message on the first row that does
// not fit; a batch that fits exactly is created.
func TestBatchUserLimit(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	fillAccount(t, h, ram.MaxUsers-2)
	owner.get("/users/new?rows=3")
	events := h.lastSeq()
	p := owner.post("/users/batch", batchForm([][2]string{{"nia", ""}, {"oto", ""}, {"pat", ""}}, "console_login"))
	expectStatus(t, p, http.StatusUnprocessableEntity, "a batch one over the limit")
	if !strings.Contains(p.body, `data-field="name" data-row="3"`) || strings.Contains(p.body, `data-field="name" data-row="1"`) ||
		strings.Contains(p.body, `data-field="name" data-row="2"`) {
		t.Errorf("the limit is not shown at row 3 alone")
	}
	if !strings.Contains(p.body, "over the limit") {
		t.Errorf("the page does not name the limit")
	}
	if n := h.countUsers(); n != ram.MaxUsers-2 {
		t.Fatalf("%d users, want %d: part of the batch was created", n, ram.MaxUsers-2)
	}
	added := h.eventsAfter(events)
	if len(added) != 1 || added[0].ErrorCode != "LimitExceeded.User" {
		t.Errorf("events %v, want one CreateUser refused with LimitExceeded.User", added)
	}
	expectHandover(t, owner.post("/users/batch", batchForm([][2]string{{"nia", ""}, {"oto", ""}}, "console_login")), "a batch that fits exactly")
	if n := h.countUsers(); n != ram.MaxUsers {
		t.Errorf("%d users, want %d", n, ram.MaxUsers)
	}
}

// TestBatchCSVIsFormulaSafe: a cell that starts like a formula is prefixed
// with an apostrophe, as in every export; generated passwords never start
// so, and the CSV holds them unchanged.
func TestBatchCSVIsFormulaSafe(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	for range 2000 {
		if pw := h.svc.GeneratePassword(context.Background()); strings.ContainsAny(pw[:1], "=+-@\t\r") {
			t.Fatalf("generated password %q starts like a formula", pw)
		}
	}
	owner.get("/users/new?rows=2")
	post := owner.post("/users/batch", batchForm([][2]string{{"-minus", ""}, {"plain", ""}}, "console_login"))
	expectHandover(t, post, "batch with a formula-looking name")
	p := owner.get(post.header.Get("Location"))
	lines := batchSheet(t, p.body)
	if _, ok := lines["-minus"]; !ok {
		t.Fatalf("the sheet does not show -minus as typed: %v", lines)
	}
	dl := owner.get(find(t, handoverCSVRE, p.body, "CSV"))
	records, err := csv.NewReader(strings.NewReader(dl.body)).ReadAll()
	if err != nil || len(records) != 3 {
		t.Fatalf("CSV %q: %v", dl.body, err)
	}
	if records[1][0] != "'-minus" || records[1][1] != "'-minus@"+testAlias {
		t.Errorf("formula-looking cells = %q, want them prefixed with an apostrophe", records[1][:2])
	}
	for i, name := range []string{"-minus", "plain"} {
		if records[i+1][2] != lines[name].password {
			t.Errorf("%s's password in the CSV = %q, want %q unchanged", name, records[i+1][2], lines[name].password)
		}
	}
	if records[2][3] != "" || records[2][4] != "" {
		t.Errorf("a user without an AccessKey has key cells %q", records[2][3:5])
	}
}

// TestBatchReadOnlyUser: a viewer without ram:CreateUser sees no way to the
// batch form and may neither open nor post it (not even "Add rows").
func TestBatchReadOnlyUser(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	users := h.countUsers()
	if p := reader.get("/users"); strings.Contains(p.body, "/users/new?rows=") {
		t.Errorf("the read-only user is offered the batch form")
	}
	expectStatus(t, reader.get("/users/new?rows=3"), http.StatusForbidden, "read-only GET /users/new?rows=3")
	reader.get("/me")
	expectStatus(t, reader.post("/users/batch", batchForm([][2]string{{"sly", ""}}, "console_login")), http.StatusForbidden, "read-only POST /users/batch")
	add := batchForm([][2]string{{"sly", ""}})
	add.Set("add_rows", "5")
	expectStatus(t, reader.post("/users/batch", add), http.StatusForbidden, "read-only Add rows")
	if n := h.countUsers(); n != users {
		t.Errorf("the read-only user created %d users", n-users)
	}
	if h.countDenied() < 2 {
		t.Errorf("the refused posts were not audited")
	}
}

// TestBatchIsAuthorisedPerUser: an administrator allowed to create users
// but not their AccessKeys is refused a batch with AccessKeys, as single
// creation refuses it, and nothing is created.
func TestBatchIsAuthorisedPerUser(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	doc := `{"Version":"1","Statement":[{"Effect":"Allow","Action":["ram:CreateUser","ram:ListUsers","ram:CreateLoginProfile"],"Resource":"*"}]}`
	hr := h.ramUser(owner, "hr", nil, map[string]string{"CreatePeople": doc})
	hr.get("/users/new?rows=2")
	users := h.countUsers()
	expectStatus(t, hr.post("/users/batch", batchForm([][2]string{{"quin", ""}, {"rae", ""}}, "console_login", "create_access_key")),
		http.StatusForbidden, "a batch with AccessKeys without ram:CreateAccessKey")
	if n := h.countUsers(); n != users {
		t.Fatalf("%d users created", n-users)
	}
	hr.get("/users/new?rows=2")
	expectHandover(t, hr.post("/users/batch", batchForm([][2]string{{"quin", ""}, {"rae", ""}}, "console_login")), "a batch with console access only")
	if n := h.countUsers(); n != users+2 {
		t.Errorf("%d users created, want 2", n-users)
	}
}

// TestBatchConcurrentNeverHalf: two batches that share a name, posted at
// once, give one batch created whole and the other refused whole, whichever
// checks first (the names are checked again inside the transaction).
func TestBatchConcurrentNeverHalf(t *testing.T) {
	h := newHarness(t)
	first, _ := h.setupOwner()
	second := h.signIn(h.ownerSecret)
	for range 3 {
		first.get("/users/new?rows=2")
		second.get("/users/new?rows=2")
		users := h.countUsers()
		suffix := fmt.Sprint(users)
		pages := make([]page, 2)
		var wg sync.WaitGroup
		for i, b := range []*browser{first, second} {
			f := batchForm([][2]string{{fmt.Sprintf("own-%d-%s", i, suffix), ""}, {"shared-" + suffix, ""}}, "create_access_key")
			wg.Go(func() { pages[i] = b.post("/users/batch", f) })
		}
		wg.Wait()
		created := 0
		for _, p := range pages {
			switch p.status {
			case http.StatusSeeOther:
				created++
			case http.StatusUnprocessableEntity:
				if !strings.Contains(p.body, `data-field="name" data-row="2"`) {
					t.Errorf("the refused batch does not mark the shared name")
				}
			default:
				t.Fatalf("a concurrent batch answered %d", p.status)
			}
		}
		if created != 1 || h.countUsers() != users+2 {
			t.Fatalf("%d batches created, %d users added; want one whole batch of 2", created, h.countUsers()-users)
		}
	}
}

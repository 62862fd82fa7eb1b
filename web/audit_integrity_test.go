package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"ramconsole/ram"
	"ramconsole/store"
)

// TestAuditVerifyNowFindsAnOlderEdit: the page's incremental check only
// re-reads the newest verified event, so an older edit needs a full
// verification: "Verify now" runs one (audited, actiontrail:LookupEvents),
// and the page says when the last full verification ran.
func TestAuditVerifyNowFindsAnOlderEdit(t *testing.T) {
	h, o, _ := ownerWithEvents(t)
	for _, g := range []string{"g1", "g2", "g3"} {
		o.get("/groups/new")
		o.post("/groups", url.Values{"name": {g}})
	}
	p := o.get("/audit")
	if !strings.Contains(p.body, `data-ok="true"`) || !strings.Contains(p.body, `data-testid="audit-verify-now"`) {
		t.Fatalf("the audit page has no intact chain or no Verify now: %.3000s", p.body)
	}
	victim := groupEvent(t, h, "g1") // older than the newest verified event
	db := openRaw(t, h)
	if _, err := db.Exec(`UPDATE events SET body = replace(body, '"g1"', '"gX"') WHERE seq = ?`, victim.Seq); err != nil {
		t.Fatal(err)
	}
	p = o.post("/audit/verify", nil)
	expectRedirect(t, p, "/audit", "Verify now")
	p = o.get("/audit")
	if !strings.Contains(p.body, `data-ok="false"`) || !strings.Contains(p.body, `href="/audit/`+victim.EventID+`"`) {
		t.Errorf("an older edited event is not reported after Verify now: %.3000s", p.body)
	}
	if !regexp.MustCompile(`data-testid="audit-full-verified"[^>]*>[^<]*\d{4}-\d\d-\d\d`).MatchString(p.body) {
		t.Errorf("the page does not say when the last full verification ran: %.3000s", p.body)
	}
	if ev := h.events()[0]; ev.EventName != ram.EventVerifyAuditChain || ev.EventSource != "actiontrail" {
		t.Errorf("Verify now is not recorded: newest event %s/%s", ev.EventSource, ev.EventName)
	}
	// A RAM user without actiontrail:LookupEvents is refused, and that is recorded.
	e := h.createEmployee(o, "noaudit")
	b, _, _ := h.signInEmployee(e.name, e.password)
	b.get("/me")
	if p := b.post("/audit/verify", nil); p.status != http.StatusForbidden {
		t.Errorf("Verify now without LookupEvents: %d", p.status)
	}
	if ev := h.events()[0]; ev.ErrorCode != "NoPermission" {
		t.Errorf("the refused Verify now is not recorded: %+v", ev.Event)
	}
}

// TestAuditFullVerificationOnSchedule: the service's scheduled full
// verification catches an older edit without anyone asking.
func TestAuditFullVerificationOnSchedule(t *testing.T) {
	h, o, _ := ownerWithEvents(t)
	o.get("/groups/new")
	o.post("/groups", url.Values{"name": {"g1"}})
	o.post("/groups", url.Values{"name": {"g2"}})
	if p := o.get("/audit"); !strings.Contains(p.body, `data-ok="true"`) {
		t.Fatal("intact chain not shown as intact")
	}
	victim := groupEvent(t, h, "g1")
	if _, err := openRaw(t, h).Exec(`UPDATE events SET body = replace(body, '"g1"', '"gX"') WHERE seq = ?`, victim.Seq); err != nil {
		t.Fatal(err)
	}
	if err := h.svc.VerifyAuditChainFully(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p := o.get("/audit"); !strings.Contains(p.body, `data-ok="false"`) {
		t.Errorf("the scheduled full verification did not find the edit: %.3000s", p.body)
	}
}

// TestAccessKeyCSVDownloadIsAudited: the one-time CSV of a new AccessKey is
// an event naming the AccessKeyId, never the secret — alone
// (DownloadAccessKeyCSV) or in the credentials file of a user created with
// both kinds of access (DownloadCredentialsCSV).
func TestAccessKeyCSVDownloadIsAudited(t *testing.T) {
	h, o, _ := ownerWithEvents(t)
	e := h.createEmployee(o, "csvuser")
	o.get("/users/csvuser")
	p := o.follow(o.post("/users/csvuser/accesskeys", nil))
	second := find(t, keyIDRE, p.body, "second AccessKey ID")
	secondSecret := find(t, keySecretRE, p.body, "second AccessKey secret")
	for _, tc := range []struct{ csv, event, keyID, secret string }{
		{e.csv, "DownloadCredentialsCSV", e.keyID, e.secret},
		{find(t, csvHrefRE, p.body, "AccessKey CSV link"), "DownloadAccessKeyCSV", second, secondSecret},
	} {
		csv := o.get(tc.csv)
		expectStatus(t, csv, 200, "download the CSV")
		ev := h.events()[0]
		id, _ := ev.RequestParameters["AccessKeyId"].(string)
		if ev.EventName != tc.event || id == "" || !strings.Contains(csv.body, id) {
			t.Fatalf("the CSV download is not recorded as %s with its AccessKeyId: %s", tc.event, ev.Body)
		}
		if id != tc.keyID || strings.Contains(ev.Body, tc.secret) || strings.Contains(ev.Body, e.password) {
			t.Errorf("the download event holds the secret: %s", ev.Body)
		}
	}
}

// TestUnauthenticatedAPINoiseIsBounded: 500 unsigned calls from one address
// are all answered with their error, but write a bounded number of events:
// the first ones of the window and, once it closes, one summary with the
// count of the others.
func TestUnauthenticatedAPINoiseIsBounded(t *testing.T) {
	h, _, _ := ownerWithEvents(t)
	before := len(h.events())
	for i := range 500 {
		p := h.send(mustRequest(t, http.MethodGet, h.srv.URL+"/?Action=ListUsers&Version=2015-05-01&Format=JSON&n="+url.QueryEscape(time.Now().String())))
		if p.status < 400 || !strings.Contains(p.body, "Code") {
			t.Fatalf("unsigned call %d: %d %s", i, p.status, p.body)
		}
	}
	written := len(h.events()) - before
	if written > ram.UnauthenticatedEventsPerMinute {
		t.Fatalf("500 unsigned calls wrote %d events; want at most %d", written, ram.UnauthenticatedEventsPerMinute)
	}
	h.clock.Advance(2 * time.Minute)
	if err := h.svc.FlushThrottledCalls(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev := h.events()[0]
	if ev.EventName != ram.EventThrottledUnauthenticatedCalls || ev.AdditionalEventData["count"] != float64(500-written) ||
		ev.SourceIPAddress != "127.0.0.1" {
		t.Errorf("summary event = %s; want %s with count %d", ev.Body, ram.EventThrottledUnauthenticatedCalls, 500-written)
	}
	if n := len(h.events()) - before; n != written+1 {
		t.Errorf("%d events after the window closed; want %d", n, written+1)
	}
}

// groupEvent is the event that created group name.
func groupEvent(t *testing.T, h *harness, name string) store.StoredEvent {
	t.Helper()
	for _, ev := range h.events() {
		if ev.EventName == "CreateGroup" && ev.RequestParameters["GroupName"] == name {
			return ev
		}
	}
	t.Fatalf("no CreateGroup event for %s", name)
	return store.StoredEvent{}
}

func mustRequest(t *testing.T, method, u string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

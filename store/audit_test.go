package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// appendN appends n events, one a second from the store's clock, alternating
// two users and failing every third.
func appendN(t *testing.T, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		ev := &Event{EventID: fmt.Sprintf("ev-%d-%d", time.Now().UnixNano(), i), EventVersion: "1", EventType: "ConsoleOperation",
			EventSource: "ram", EventName: []string{"CreateUser", "DeleteUser"}[i%2], ServiceName: "Ram",
			UserIdentity:    Identity{Type: "ram-user", UserName: []string{"ann", "ben"}[i%2], AccessKeyID: "LTAI" + fmt.Sprint(i%2)},
			SourceIPAddress: "10.0.0." + fmt.Sprint(i%3)}
		if i%3 == 0 {
			ev.ErrorCode, ev.IsError = "Denied", true
		}
		if err := s.Update(ctx, func(tx *Tx) error { return tx.AppendEvent(ctx, ev) }); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyChainFromResumes(t *testing.T) {
	s, _ := openTest(t, nil)
	ctx := context.Background()
	appendN(t, s, 5)
	rep, mark, err := s.VerifyChainFrom(ctx, ChainMark{})
	if err != nil || !rep.OK || rep.Events != 5 || mark.Seq != 5 {
		t.Fatalf("first verification = %+v %+v %v", rep, mark, err)
	}
	appendN(t, s, 3)
	rep, mark2, err := s.VerifyChainFrom(ctx, mark)
	if err != nil || !rep.OK || rep.Events != 8 || mark2.Seq != 8 {
		t.Fatalf("resumed verification = %+v %+v %v", rep, mark2, err)
	}
	tamper := []struct {
		name, sql string
	}{
		{"the marked event changed", "UPDATE events SET hash = 'x' WHERE seq = 8"},
		{"the marked event deleted", "DELETE FROM events WHERE seq = 8"},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := openTest(t, nil)
			appendN(t, s, 8)
			_, mark, _ := s.VerifyChainFrom(ctx, ChainMark{})
			if _, err := s.write.Exec(tc.sql); err != nil {
				t.Fatal(err)
			}
			rep, next, err := s.VerifyChainFrom(ctx, mark)
			if err != nil || rep.OK || rep.BrokenAt != 8 || next.Seq != 0 {
				t.Errorf("after %s: %+v %+v %v; want broken at 8 and a zero mark", tc.name, rep, next, err)
			}
		})
	}
}

func TestEventTimesNeverGoBack(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s, _ := openTest(t, func() time.Time { return now })
	appendN(t, s, 1)
	now = now.Add(-time.Hour) // the wall clock steps back
	appendN(t, s, 1)
	evs, err := s.Events(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if evs[0].EventTime != evs[1].EventTime {
		t.Errorf("event times %s then %s; want the later event clamped to the earlier time", evs[1].EventTime, evs[0].EventTime)
	}
}

func TestEventPageFilters(t *testing.T) {
	s, _ := openTest(t, nil)
	ctx := context.Background()
	appendN(t, s, 30)
	count := func(f EventFilter) int {
		n := 0
		err := s.EachEvent(ctx, f, func(*RawEvent) error { n++; return nil })
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	cases := []struct {
		name string
		f    EventFilter
		want int
	}{
		{"everything", EventFilter{}, 30},
		{"one user", EventFilter{UserName: "ann"}, 15},
		{"one user's failures", EventFilter{UserName: "ann", Result: ResultFailure}, 5},
		{"successes", EventFilter{Result: ResultSuccess}, 20},
		{"an event name and an IP", EventFilter{EventName: "DeleteUser", SourceIP: "10.0.0.1"}, 5},
		{"an AccessKey", EventFilter{AccessKeyID: "LTAI1"}, 15},
		{"the owner", EventFilter{UserName: RootUserName}, 0},
		{"through a seq", EventFilter{Through: 10}, 10},
		{"a time range after the log", EventFilter{From: time.Now().Add(time.Hour)}, 0},
		{"a time range before the log", EventFilter{To: time.Now().Add(-time.Hour)}, 0},
		{"a time range around the log", EventFilter{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}, 30},
	}
	for _, tc := range cases {
		if got := count(tc.f); got != tc.want {
			t.Errorf("%s: EachEvent(%+v) gives %d events, want %d", tc.name, tc.f, got, tc.want)
		}
	}
	// Pages: newest first, the cursor continues exactly where the page ended.
	var seen []int64
	f := EventFilter{UserName: "ben"}
	for {
		page, err := s.EventPage(ctx, f, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			seen = append(seen, e.Seq)
		}
		if page.Next == 0 {
			break
		}
		f.Before = page.Next
	}
	if len(seen) != 15 {
		t.Fatalf("paging ben's events saw %d, want 15", len(seen))
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] >= seen[i-1] {
			t.Fatalf("pages are not newest first: %v", seen)
		}
	}
}

// Each filter is an index range ending at the cursor, never a scan of the
// table: the plans prove it without timing anything.
func TestEventFilterPlans(t *testing.T) {
	s, _ := openSQLiteTest(t, nil) // SQLite's plans
	ctx := context.Background()
	appendN(t, s, 3)
	cases := []struct {
		name  string
		f     EventFilter
		index string
	}{
		{"user", EventFilter{UserName: "ann", Before: 100}, "events_user"},
		{"user's failures", EventFilter{UserName: "ann", Result: ResultFailure}, "events_user"},
		{"event name", EventFilter{EventName: "CreateUser"}, "events_name"},
		{"failures", EventFilter{Result: ResultFailure}, "events_failed"},
		{"source IP and event", EventFilter{SourceIP: "10.0.0.1", EventName: "CreateUser"}, "events_source_ip"},
		{"AccessKey and user", EventFilter{AccessKeyID: "LTAI1", UserName: "ben"}, "events_access_key"},
		{"time range", EventFilter{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}, "INTEGER PRIMARY KEY"},
		{"service", EventFilter{ServiceName: "ECS"}, "events_service"},
	}
	// A service filter finds the events whatever case it is typed in.
	for _, name := range []string{"ram", "RAM", " Ram "} {
		page, err := s.EventPage(ctx, EventFilter{ServiceName: name}, 10)
		if err != nil || len(page.Events) != 3 {
			t.Errorf("service %q: %d events, %v; want the 3 Ram events", name, len(page.Events), err)
		}
	}
	// Time bounds are found by a binary search that starts from the first
	// and last seq: read off the primary key, never a scan of the table.
	if p := queryPlan(t, s, qSeqRange); strings.Contains(p, "SCAN events") {
		t.Errorf("the seq range scans the table: %q", p)
	}
	for _, tc := range cases {
		cond, args, empty, err := tc.f.where(ctx, s.read)
		if err != nil || empty {
			t.Fatalf("%s: where = %v, empty %v", tc.name, err, empty)
		}
		p := queryPlan(t, s, "SELECT seq, body FROM events WHERE "+cond+" ORDER BY seq DESC LIMIT 51", args...)
		if !strings.Contains(p, tc.index) || strings.Contains(p, "TEMP B-TREE") {
			t.Errorf("%s: plan %q, want a range of %s without sorting", tc.name, p, tc.index)
		}
	}
}

func TestPruneEventsKeepsTheChainVerifiable(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s, _ := openTest(t, func() time.Time { return now })
	ctx := context.Background()
	appendN(t, s, 10)
	now = now.Add(48 * time.Hour)
	record := func(p Pruned) *Event {
		return &Event{EventID: "prune-" + fmt.Sprint(p.CheckpointID), EventVersion: "1", EventType: "ConsoleOperation",
			EventSource: "host", ServiceName: "Ram", UserIdentity: Identity{Type: "root-account", UserName: "root"}}
	}
	// Everything is older than the cutoff: the table is left with only the
	// PruneEvents event, chained to the checkpoint.
	p, err := s.PruneEvents(ctx, now.Add(-time.Hour), record)
	if err != nil || p.Count != 10 || p.AfterSeq != 10 {
		t.Fatalf("PruneEvents = %+v, %v", p, err)
	}
	rep, err := s.VerifyChain(ctx)
	if err != nil || !rep.OK || rep.Checkpoint != 10 || rep.Events != 1 {
		t.Fatalf("VerifyChain after pruning everything = %+v, %v", rep, err)
	}
	// Prune the prune event too: a second checkpoint, attested by a second event.
	now = now.Add(48 * time.Hour)
	if p, err = s.PruneEvents(ctx, now.Add(-time.Hour), record); err != nil || p.Count != 1 {
		t.Fatalf("second PruneEvents = %+v, %v", p, err)
	}
	appendN(t, s, 2)
	if rep, err := s.VerifyChain(ctx); err != nil || !rep.OK || rep.Events != 3 {
		t.Fatalf("VerifyChain after the second pruning = %+v, %v", rep, err)
	}
	if _, err := s.write.Exec("DELETE FROM events WHERE seq = (SELECT max(seq) FROM events)"); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.VerifyChain(ctx); err != nil || rep.OK {
		t.Errorf("newest event deleted after pruning: VerifyChain = %+v, %v; want broken", rep, err)
	}
}

// A service's usage reads its own events through their index, never the
// whole log.
func TestServiceUsageUsesItsIndex(t *testing.T) {
	s, _ := openSQLiteTest(t, time.Now)
	if p := queryPlan(t, s, qServiceUsage, "ecs", 1, "9999"); !strings.Contains(p, "events_service") {
		t.Errorf("the usage query does not read the service's index: %q", p)
	}
}

// queryPlan is SQLite's plan of a query, its steps joined by "; ".
func queryPlan(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	rows, err := s.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := collect(rows, func(scan func(...any) error) (*string, error) {
		var id, parent, unused int
		var detail string
		if err := scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		return &detail, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}

package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// accessRows is every rollup row, for comparing two states.
func accessRows(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for table, q := range map[string]string{
		"calls":      "SELECT principal, action_key, resources, day, allowed, denied, last_allowed, last_denied FROM access_calls ORDER BY 1, 2, 3, 4",
		"statements": "SELECT policy_key, version, statement, principal, day, count, last_used FROM access_statements ORDER BY 1, 2, 3, 4, 5",
		"latest":     "SELECT subject, last_at FROM access_latest ORDER BY 1",
	} {
		rows, err := s.read.QueryContext(context.Background(), pgSQLIf(s, q))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], fmt.Sprint(vals...))
		}
		rows.Close()
	}
	return out
}

func pgSQLIf(s *Store, q string) string {
	if s.pg {
		return pgSQL(q)
	}
	return q
}

// decided appends, as one request, an event recording one allowed decision.
func decided(t *testing.T, s *Store, at time.Time, principal, resource string) {
	t.Helper()
	ctx, _ := WithEventMark(context.Background())
	AddAuthorization(ctx, Authorization{Principal: principal, Action: "ecs:StopInstance", Resources: []string{resource}, Decision: "Allow",
		Statements: []StatementCredit{{PolicyType: "Custom", PolicyName: "p", PolicyID: "uid-p", Version: "v1"}}})
	ev := &Event{EventID: fmt.Sprintf("ev-%d", time.Now().UnixNano()), EventVersion: "1", EventType: "ApiCall", EventSource: "ecs",
		EventName: "StopInstance", EventTime: timeText(at), UserIdentity: Identity{Type: "ram-user"}}
	if err := s.Update(ctx, func(tx *Tx) error { return tx.AppendEvent(ctx, ev) }); err != nil {
		t.Fatal(err)
	}
}

// A decision whose event's transaction rolls back is recorded by the
// request's next event, once.
func TestAccessDecisionSurvivesARolledBackEvent(t *testing.T) {
	s, _ := openTest(t, nil)
	ctx, _ := WithEventMark(context.Background())
	AddAuthorization(ctx, Authorization{Principal: "user/u1", Action: "ram:AddUserToGroup", Resources: []string{"acs:ram:*:1:group/g"}, Decision: "Allow"})
	failed := errors.New("the change failed")
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.AppendEvent(ctx, &Event{EventID: "ev-change", EventVersion: "1", EventName: "AddUserToGroup"}); err != nil {
			return err
		}
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.AppendEvent(ctx, &Event{EventID: "ev-refusal", EventVersion: "1", EventName: "AddUserToGroup", IsError: true})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.AppendEvent(ctx, &Event{EventID: "ev-later", EventVersion: "1", EventName: "Other"})
	}); err != nil {
		t.Fatal(err)
	}
	calls, err := s.AccessCalls(ctx, []string{"user/u1"}, "")
	if err != nil || len(calls) != 1 || calls[0].Allowed != 1 {
		t.Fatalf("calls = %+v, %v; want the decision counted once", calls, err)
	}
}

// A rebuild gives the rows the folds gave, even where a batch spans days
// and the 100-set limit is reached, and after a prune keeps what it cannot
// recount.
func TestAccessRebuildMatchesTheFolds(t *testing.T) {
	day1 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	now := day1
	s, _ := openTest(t, func() time.Time { return now })
	for i := range 99 {
		decided(t, s, day1.Add(time.Duration(i)*time.Second), "user/u1", fmt.Sprintf("acs:ecs:cn-hangzhou:1:instance/i-%d", i))
	}
	decided(t, s, day1.Add(time.Hour), "user/u1", "acs:ecs:cn-hangzhou:1:instance/i-x")
	decided(t, s, day1.Add(25*time.Hour), "user/u1", "acs:ecs:cn-hangzhou:1:instance/i-x")
	decided(t, s, day1.Add(26*time.Hour), "user/u1", "acs:ecs:cn-hangzhou:1:instance/i-new")
	decided(t, s, day1.Add(49*time.Hour), "user/u2", "acs:ecs:cn-hangzhou:1:instance/i-1")
	// The first 100 sets stay exact, the 101st counts as its prefix wildcard.
	calls, err := s.AccessCalls(context.Background(), []string{"user/u1"}, "2026-11-02")
	if err != nil {
		t.Fatal(err)
	}
	var sets []string
	for _, c := range calls {
		sets = append(sets, c.Resources...)
	}
	if want := []string{"acs:ecs:cn-hangzhou:1:instance/*", "acs:ecs:cn-hangzhou:1:instance/i-x"}; !reflect.DeepEqual(sets, want) {
		t.Fatalf("day 2's sets = %v, want %v", sets, want)
	}
	before := accessRows(t, s)
	if _, err := s.RebuildAccess(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if after := accessRows(t, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("rebuild differs:\n%v\n%v", before, after)
	}
	// Prune the first day's morning: the rows of that day go only with the
	// whole day; latest times from before the oldest event left stay.
	now = day1.Add(72 * time.Hour)
	if _, err := s.PruneEvents(context.Background(), day1.Add(25*time.Hour+30*time.Minute), func(Pruned) *Event {
		return &Event{EventID: "ev-prune", EventVersion: "1"}
	}); err != nil {
		t.Fatal(err)
	}
	pruned := accessRows(t, s)
	if _, err := s.RebuildAccess(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if after := accessRows(t, s); !reflect.DeepEqual(pruned["latest"], after["latest"]) {
		t.Fatalf("a rebuild after a prune lost latest times:\n%v\n%v", pruned["latest"], after["latest"])
	}
}

// A resource holding a newline or invalid UTF-8 (a gateway query value) is
// one resource, keyed alike by the folds and by a rebuild from the events.
func TestAccessOddResources(t *testing.T) {
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	s, _ := openTest(t, func() time.Time { return now })
	odd := "acs:ecs:cn-hangzhou:1:instance/i-1\nacs:ram:*:1:user/admin"
	decided(t, s, now, "user/u1", odd)
	if !s.pg { // PostgreSQL refuses invalid UTF-8 in the event itself
		decided(t, s, now, "user/u1", "acs:ecs:cn-hangzhou:1:instance/i-\xff")
	}
	calls, err := s.AccessCalls(context.Background(), []string{"user/u1"}, "")
	if err != nil || len(calls) == 0 || len(calls[0].Resources) != 1 || calls[0].Resources[0] != odd && calls[0].Resources[0] != "acs:ecs:cn-hangzhou:1:instance/i-\uFFFD" {
		t.Fatalf("calls = %+v, %v", calls, err)
	}
	before := accessRows(t, s)
	if _, err := s.RebuildAccess(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	if after := accessRows(t, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("rebuild differs:\n%q\n%q", before, after)
	}
}

// A rebuild from a day recounts that day on and leaves the days before it
// as they are.
func TestAccessRebuildSince(t *testing.T) {
	day1 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	s, _ := openTest(t, func() time.Time { return day1.Add(72 * time.Hour) })
	decided(t, s, day1, "user/u1", "acs:ecs:cn-hangzhou:1:instance/i-1")
	decided(t, s, day1.Add(48*time.Hour), "user/u1", "acs:ecs:cn-hangzhou:1:instance/i-1")
	before := accessRows(t, s)
	n, err := s.RebuildAccess(context.Background(), "2026-11-02")
	if err != nil || n != 1 {
		t.Fatalf("rebuild since 2026-11-02 read %d events, %v; want 1", n, err)
	}
	if after := accessRows(t, s); !reflect.DeepEqual(before, after) {
		t.Fatalf("rebuild --since differs:\n%v\n%v", before, after)
	}
}

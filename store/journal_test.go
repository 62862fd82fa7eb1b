package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func apiEvent(i int) *Event {
	return &Event{EventID: fmt.Sprintf("api-%d-%d", time.Now().UnixNano(), i), EventVersion: "1", EventType: "ApiCall",
		EventSource: "ram", EventName: "GetUser", EventRW: "Read", ServiceName: "Ram", RequestID: fmt.Sprintf("req-%d", i),
		UserIdentity: Identity{Type: "ram-user", UserName: "app", AccessKeyID: "LTAIapp"}, SourceIPAddress: "10.0.0.1",
		RequestParameters: map[string]any{"UserName": "ann"}}
}

// crash leaves s as a killed process would: the flusher stopped, nothing
// folded, the connections and the journal's lock dropped.
func crash(t *testing.T, s *Store) {
	t.Helper()
	j := s.journal
	j.closed.Do(func() {
		close(j.stop)
		<-j.done
		j.mu.Lock()
		_ = j.f.Close() // the mapping stays: what was copied into it is the kernel's
		j.f = nil
		j.mu.Unlock()
		j.lock.Close()
	})
	s.read.Close()
	s.write.Close()
}

func TestJournalRecordsSurviveACrash(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	s, err := Open(ctx, dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	// Stop the flusher first, so the records stay in the journal only.
	close(s.journal.stop)
	<-s.journal.done
	s.journal.stop, s.journal.done = make(chan struct{}), make(chan struct{})
	close(s.journal.done)
	var ids []string
	for i := range 3 {
		ev := apiEvent(i)
		ids = append(ids, ev.EventID)
		rec := Record{Event: ev, KeyID: "LTAIapp", Nonce: fmt.Sprintf("n%d", i), NonceExpires: now.Add(15 * time.Minute), KeyUsed: now}
		if fresh, _ := s.UseNonce(ctx, "LTAIapp", rec.Nonce, rec.NonceExpires); !fresh {
			t.Fatal("a new nonce is refused")
		}
		if err := s.Queue(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM events").Scan(&n); err != nil || n != 0 {
		t.Fatalf("events in the database before any fold: %d, %v", n, err)
	}
	crash(t, s)

	s2, err := Open(ctx, dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	evs, err := s2.Events(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("after the restart, %d events, want the 3 answered", len(evs))
	}
	for i, e := range evs {
		if e.EventID != ids[len(ids)-1-i] {
			t.Errorf("event %d = %s, want %s (newest first)", i, e.EventID, ids[len(ids)-1-i])
		}
	}
	if rep, err := s2.VerifyChain(ctx); err != nil || !rep.OK {
		t.Errorf("chain after replay: %+v, %v", rep, err)
	}
	if fresh, _ := s2.UseNonce(ctx, "LTAIapp", "n1", now.Add(15*time.Minute)); fresh {
		t.Error("a nonce used before the crash is accepted again")
	}
	segs, _ := s2.journal.segments()
	if len(segs) != 1 {
		t.Errorf("segments after the replay: %v, want only the new one", segs)
	}
}

func TestJournalIgnoresATornTail(t *testing.T) {
	var good queued
	good.Event, good.body = apiEvent(1), []byte(`{"eventId":"x"}`)
	good.KeyID, good.Nonce = "LTAIapp", "n1"
	rec := appendRecord(nil, &good)
	data := append(append([]byte(nil), rec...), rec[:len(rec)-3]...) // the second write cut short
	got := readRecords(data)
	if len(got) != 1 || got[0].Nonce != "n1" || got[0].Event.EventID != "x" {
		t.Fatalf("records = %+v, want the first only", got)
	}
	data = append(append([]byte(nil), rec...), make([]byte, 4096)...) // a segment's unused end
	if got := readRecords(data); len(got) != 1 {
		t.Fatalf("%d records before the zeros, want 1", len(got))
	}
	rec[len(rec)-1] ^= 1 // a flipped bit
	if got := readRecords(rec); len(got) != 0 {
		t.Fatalf("a corrupt record was read: %+v", got)
	}
}

func TestQueuedEventsPrecedeTheNextChange(t *testing.T) {
	s, _ := openTest(t, nil)
	ctx := context.Background()
	if err := s.Queue(ctx, Record{Event: apiEvent(1)}); err != nil {
		t.Fatal(err)
	}
	change := apiEvent(2)
	change.EventType, change.EventName, change.EventTime = "ConsoleOperation", "CreateUser", ""
	if err := s.Update(ctx, func(tx *Tx) error { return tx.AppendEvent(ctx, change) }); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Events(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].EventName != "CreateUser" || evs[1].EventName != "GetUser" || evs[0].EventTime < evs[1].EventTime {
		t.Fatalf("events newest first = %v, %v; want the change after the call answered before it", evs[0].Event, evs[1].Event)
	}
}

func TestSecondProcessWritesDirectly(t *testing.T) {
	s, dir := openTest(t, nil)
	ctx := context.Background()
	other, err := Open(ctx, dir, nil) // a CLI command next to the running server
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other.journal != nil {
		t.Fatal("a second process took the journal")
	}
	if err := other.Queue(ctx, Record{Event: apiEvent(1), KeyID: "LTAIapp", Nonce: "n1", NonceExpires: time.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if evs, err := s.Events(ctx, 10); err != nil || len(evs) != 1 {
		t.Fatalf("the first process sees %d events (%v), want the one written directly", len(evs), err)
	}
	if fresh, _ := other.UseNonce(ctx, "LTAIapp", "n1", time.Now().Add(time.Minute)); fresh {
		t.Error("the nonce written by the second process is accepted again by it")
	}
}

func TestJournalSegmentsRollOver(t *testing.T) {
	s, dir := openTest(t, nil)
	ctx := context.Background()
	big := apiEvent(0)
	big.RequestParameters = map[string]any{"PolicyDocument": strings.Repeat("a", 600<<10)}
	for i := range 10 { // 6 MB: more than one segment
		ev := *big
		ev.EventID = fmt.Sprintf("big-%d", i)
		if err := s.Queue(ctx, Record{Event: &ev}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var segs []string
	for _, e := range ents {
		if len(e.Name()) > len(journalPrefix) && e.Name()[:len(journalPrefix)] == journalPrefix {
			segs = append(segs, e.Name())
		}
	}
	if len(segs) != 1 {
		t.Errorf("segments after a fold: %v, want only the current one", segs)
	}
	if evs, err := s.Events(ctx, 20); err != nil || len(evs) != 10 {
		t.Fatalf("%d events (%v), want 10", len(evs), err)
	}
}

// FuzzReadRecords: whatever a segment holds (a power loss can leave
// anything at its end), reading it never panics and stops at the first
// record that does not check out.
func FuzzReadRecords(f *testing.F) {
	var q queued
	q.Event, q.body = apiEvent(1), []byte(`{"eventId":"x","eventName":"GetUser"}`)
	q.KeyID, q.Nonce, q.NonceExpires = "LTAIapp", "n1", time.Unix(1800000000, 0)
	rec := appendRecord(nil, &q)
	f.Add(rec)
	f.Add(append(rec, rec[:10]...))
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range readRecords(data) {
			if r.Event == nil && len(r.body) > 0 {
				t.Fatal("a body without its event")
			}
		}
	})
}

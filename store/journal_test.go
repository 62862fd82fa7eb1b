package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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
	s, _ := openSQLiteTest(t, nil)
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
	s, dir := openSQLiteTest(t, nil)
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
	if _, err := other.UseNonce(ctx, "LTAIapp", "n2", time.Now().Add(time.Minute)); err != ErrJournalBusy {
		t.Errorf("a process that does not own the journal checks nonces: %v", err)
	}
	// A server does not start next to another one.
	serverLockWait = 100 * time.Millisecond
	defer func() { serverLockWait = 30 * time.Second }()
	if srv, err := OpenServer(ctx, dir, nil); err != ErrJournalBusy {
		if srv != nil {
			srv.Close()
		}
		t.Errorf("OpenServer next to a running server: %v, want ErrJournalBusy", err)
	}
}

func TestJournalSegmentsRollOver(t *testing.T) {
	s, dir := openSQLiteTest(t, nil)
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

// BenchmarkJournal measures what an OpenAPI read's audit record costs: queued
// (encoded and copied into the journal) and folded into the events table
// in folds of 128, 1,024 and 4,096 records.
//
//	go test -run '^$' -bench Journal -benchmem ./store/
func BenchmarkJournal(b *testing.B) {
	for _, batch := range []int{128, 1024, 4096} {
		b.Run(fmt.Sprintf("fold-%d", batch), func(b *testing.B) {
			s, err := Open(context.Background(), b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			close(s.journal.stop) // fold here, not in the flusher
			<-s.journal.done
			s.journal.stop, s.journal.done = make(chan struct{}), make(chan struct{})
			close(s.journal.done)
			expires := time.Now().Add(15 * time.Minute)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ev := apiEvent(i)
				if err := s.Queue(ctx, Record{Event: ev, KeyID: "LTAIapp", Nonce: ev.EventID, NonceExpires: expires}); err != nil {
					b.Fatal(err)
				}
				if i%batch == batch-1 {
					if err := s.Settle(ctx); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := s.Settle(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// TestReplaySkipsWhatWasFolded: records folded already stay in the current
// segment; after a crash they are not folded again, even when retention
// has pruned their events since.
func TestReplaySkipsWhatWasFolded(t *testing.T) {
	var nowNs atomic.Int64 // the journal's flusher reads the clock while the test moves it
	nowNs.Store(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC).UnixNano())
	clock := func() time.Time { return time.Unix(0, nowNs.Load()).UTC() }
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	s, err := Open(ctx, dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := s.Queue(ctx, Record{Event: apiEvent(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	nowNs.Add(int64(48 * time.Hour))
	p, err := s.PruneEvents(ctx, clock().Add(-24*time.Hour), func(p Pruned) *Event {
		ev := apiEvent(99)
		ev.EventType, ev.EventName, ev.EventSource = "ConsoleOperation", PruneEventName, "host"
		return ev
	})
	if err != nil || p.Count != 3 {
		t.Fatalf("pruned %d (%v), want 3", p.Count, err)
	}
	late := apiEvent(100) // answered after the prune, not yet folded
	close(s.journal.stop)
	<-s.journal.done
	s.journal.stop, s.journal.done = make(chan struct{}), make(chan struct{})
	close(s.journal.done)
	if err := s.Queue(ctx, Record{Event: late}); err != nil {
		t.Fatal(err)
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
	var names []string
	for _, e := range evs {
		names = append(names, e.EventName+"/"+e.RequestID)
	}
	if len(evs) != 2 || evs[0].EventID != late.EventID || evs[1].EventName != PruneEventName {
		t.Fatalf("events after the restart (newest first): %v; want the late call and the prune only", names)
	}
	if rep, err := s2.VerifyChain(ctx); err != nil || !rep.OK {
		t.Errorf("chain: %+v, %v", rep, err)
	}
}

// TestRolledBackFoldLeavesRecordsAsQueued: a write transaction that fails
// gives the records it folded back unchanged (a clamped time included), and
// the next fold writes them with bodies matching their columns.
func TestRolledBackFoldLeavesRecordsAsQueued(t *testing.T) {
	s, _ := openSQLiteTest(t, nil)
	ctx := context.Background()
	future := apiEvent(1)
	future.EventTime = "2099-01-01T00:00:00.000Z" // the head of the chain is later than anything queued
	if err := s.Update(ctx, func(tx *Tx) error { return tx.AppendEvent(ctx, future) }); err != nil {
		t.Fatal(err)
	}
	call := apiEvent(2)
	if err := s.Queue(ctx, Record{Event: call}); err != nil {
		t.Fatal(err)
	}
	queuedTime := call.EventTime
	boom := fmt.Errorf("the change failed")
	if err := s.Update(ctx, func(*Tx) error { return boom }); err != boom {
		t.Fatalf("Update = %v", err)
	}
	if call.EventTime != queuedTime {
		t.Errorf("a rolled-back fold changed the queued event's time: %s → %s", queuedTime, call.EventTime)
	}
	if rep, err := s.VerifyChain(ctx); err != nil || !rep.OK {
		t.Fatalf("chain after the retry: %+v, %v", rep, err)
	}
	evs, _ := s.Events(ctx, 10)
	if len(evs) != 2 || evs[0].EventID != call.EventID || evs[0].EventTime != future.EventTime {
		t.Fatalf("events = %d, newest %s at %s; want the call, clamped to the head", len(evs), evs[0].EventID, evs[0].EventTime)
	}
}

// TestFoldsUnderFailingChanges: calls queued while changes fail and folds
// run concurrently are each folded once, in the order they were queued.
func TestFoldsUnderFailingChanges(t *testing.T) {
	s, _ := openSQLiteTest(t, nil)
	ctx := context.Background()
	const n = 2000
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		boom := fmt.Errorf("boom")
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = s.Update(ctx, func(*Tx) error { return boom })
			_ = s.Settle(ctx)
		}
	}()
	var ids []string
	for i := range n {
		ev := apiEvent(i)
		ids = append(ids, ev.EventID)
		if err := s.Queue(ctx, Record{Event: ev}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	<-done
	evs, err := s.Events(ctx, n+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != n {
		t.Fatalf("%d events, want %d", len(evs), n)
	}
	for i, e := range evs {
		if want := ids[n-1-i]; e.EventID != want {
			t.Fatalf("event %d (newest first) = %s, want %s", i, e.EventID, want)
		}
	}
	if rep, err := s.VerifyChain(ctx); err != nil || !rep.OK {
		t.Errorf("chain: %+v, %v", rep, err)
	}
}

// FuzzEncodeEvent: the event encoder writes what json.Marshal writes, byte
// for byte (the hash chain covers those bytes).
func FuzzEncodeEvent(f *testing.F) {
	f.Add("GetUser", "a<b>&\"c\"\\", "ünï\u2028\u2029\x00\x1f\xff", "k", true, int64(-3))
	f.Fuzz(func(t *testing.T, name, s1, s2, key string, flag bool, n int64) {
		ev := apiEvent(1)
		ev.EventName, ev.UserAgent, ev.ErrorMessage, ev.IsError = name, s1, s2, flag
		ev.UserIdentity.UserName = s2
		if flag { // a role session's identity
			id := &ev.UserIdentity
			id.Type, id.ARN, id.SessionName, id.SourceUserName, id.SourceUserID, id.SourceAccessKeyID = "assumed-role", s1, key, s2, "1", "LTAI"+key
		}
		if n%2 == 0 { // a gateway decision's fields
			ev.AcsRegion, ev.RecipientAccountID = s1, key
		}
		ev.RequestParameters = map[string]any{key: s1, "Z" + key: flag, "n": n, "i": int(n), "list": []string{s1, s2}, "nil": nil}
		ev.AdditionalEventData = map[string]any{"nested": map[string]any{s2: s1}}
		want, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		got, err := encodeEvent(ev)
		if err != nil || string(got) != string(want) {
			t.Fatalf("encodeEvent =\n%s\njson.Marshal =\n%s", got, want)
		}
	})
}

func TestEncodeEventFallsBack(t *testing.T) {
	ev := apiEvent(1)
	ev.RequestParameters = map[string]any{"f": 1.5e-7, "u": uint8(3)}
	want, _ := json.Marshal(ev)
	if got, err := encodeEvent(ev); err != nil || string(got) != string(want) {
		t.Fatalf("encodeEvent = %s, want %s", got, want)
	}
	ev.RequestParameters, ev.AdditionalEventData = nil, nil
	want, _ = json.Marshal(ev)
	if got, _ := encodeEvent(ev); string(got) != string(want) {
		t.Fatalf("without maps: %s, want %s", got, want)
	}
}

// TestNonceSetForgetsExpiredNonces: a nonce is refused while a request
// carrying it could pass the timestamp check, and forgotten after.
func TestNonceSetForgetsExpiredNonces(t *testing.T) {
	n := nonceSet{buckets: map[int64]map[nonceKey]struct{}{}}
	now := time.Date(2026, 11, 27, 12, 0, 30, 0, time.UTC)
	k := keyOf("LTAIapp", "n1")
	expires := now.Add(15 * time.Minute)
	if !n.add(k, expires, now) || n.add(k, expires, now.Add(14*time.Minute)) {
		t.Fatal("a nonce is not refused the second time within its window")
	}
	if n.add(keyOf("LTAIapp", "n2"), expires, now); n.add(keyOf("LTAIother", "n1"), expires, now) == false {
		t.Fatal("another key's nonce of the same value is refused")
	}
	later := expires.Add(time.Minute)
	if !n.add(k, later.Add(15*time.Minute), later) {
		t.Fatal("an expired nonce is still remembered")
	}
	if len(n.buckets) != 1 {
		t.Errorf("%d buckets kept after the sweep, want 1", len(n.buckets))
	}
}

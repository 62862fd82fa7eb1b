package ram

import (
	"context"
	"net/netip"
	"sort"
	"sync"
	"time"

	"ramconsole/store"
)

// Refused OpenAPI calls that carry no valid identity — unsigned, an unknown
// AccessKey, a bad signature — are recorded like every call, but an
// address that sends many fills the log for nothing: at most
// UnauthenticatedEventsPerMinute such events are written per source
// address (an IPv6 address counts by its /64) and minute; the others are
// counted, and once the minute is over one ThrottledUnauthenticatedCalls
// event records how many there were. Every call still gets its error
// answer. Calls by a valid AccessKey are never throttled.

// UnauthenticatedEventsPerMinute is how many refused calls without a valid
// identity one address records per minute.
const UnauthenticatedEventsPerMinute = 20

// EventThrottledUnauthenticatedCalls summarises the refused calls of one
// address and minute that were not recorded one by one.
const EventThrottledUnauthenticatedCalls = "ThrottledUnauthenticatedCalls"

// throttleWindow is how long a window of one address lasts.
const throttleWindow = time.Minute

// maxThrottledSources bounds the addresses tracked at once; beyond it, the
// others share one window (sourceIpAddress "*" in their summary).
const maxThrottledSources = 4096

type throttleWin struct {
	start      time.Time
	recorded   int
	suppressed int
	ip         string // as the first call gave it
}

type apiThrottle struct {
	mu   sync.Mutex
	wins map[string]*throttleWin
}

// throttleKey groups an address: itself for IPv4, its /64 for IPv6.
func throttleKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}

// admitUnauthenticated reports whether a refused call without a valid
// identity from ip is recorded, and returns the summaries of windows that
// have closed.
func (s *Service) admitUnauthenticated(ip string, now time.Time) (bool, []throttleWin) {
	t := &s.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	closed := t.closeLocked(now)
	if t.wins == nil {
		t.wins = map[string]*throttleWin{}
	}
	k := throttleKey(ip)
	w := t.wins[k]
	if w == nil {
		if len(t.wins) >= maxThrottledSources {
			k = "*"
			if w = t.wins[k]; w == nil {
				w = &throttleWin{start: now, ip: "*"}
				t.wins[k] = w
			}
		} else {
			w = &throttleWin{start: now, ip: ip}
			t.wins[k] = w
		}
	}
	if w.recorded < UnauthenticatedEventsPerMinute {
		w.recorded++
		return true, closed
	}
	w.suppressed++
	return false, closed
}

// closeLocked ends the windows older than throttleWindow and returns those
// that suppressed calls.
func (t *apiThrottle) closeLocked(now time.Time) []throttleWin {
	return t.endLocked(func(w *throttleWin) bool { return now.Sub(w.start) >= throttleWindow })
}

func (t *apiThrottle) endLocked(ended func(*throttleWin) bool) []throttleWin {
	var out []throttleWin
	for k, w := range t.wins {
		if ended(w) {
			if w.suppressed > 0 {
				out = append(out, *w)
			}
			delete(t.wins, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

// FlushThrottledCalls records the summaries of the windows that have
// closed. The server calls it every minute, so a summary is written even
// when the address has stopped calling.
func (s *Service) FlushThrottledCalls(ctx context.Context) error {
	s.throttle.mu.Lock()
	closed := s.throttle.closeLocked(s.Now())
	s.throttle.mu.Unlock()
	return s.recordThrottled(ctx, closed)
}

// EndThrottledCalls records the summaries of every window, closed or not:
// at shutdown.
func (s *Service) EndThrottledCalls(ctx context.Context) error {
	s.throttle.mu.Lock()
	all := s.throttle.endLocked(func(*throttleWin) bool { return true })
	s.throttle.mu.Unlock()
	return s.recordThrottled(ctx, all)
}

func (s *Service) recordThrottled(ctx context.Context, wins []throttleWin) error {
	for _, w := range wins {
		a := Actor{RequestID: NewRequestID(), SourceIP: w.ip, UserAgent: "ramconsole", API: true}
		ev := s.event(ctx, a, s.accountID(ctx), EventAPICall, EventThrottledUnauthenticatedCalls)
		ev.EventRW = ""
		ev.AdditionalEventData = map[string]any{"count": w.suppressed, "recorded": w.recorded,
			"windowStart": w.start.UTC().Format(time.RFC3339Nano), "windowEnd": w.start.Add(throttleWindow).UTC().Format(time.RFC3339Nano),
			"limitPerMinute": UnauthenticatedEventsPerMinute}
		if err := s.st.Queue(ctx, store.Record{Event: ev}); err != nil {
			return err
		}
	}
	return nil
}

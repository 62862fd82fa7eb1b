package web

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// hashCounter counts argon2id computations running at once through the
// service's hook, and can hold them until released.
type hashCounter struct {
	active, peak atomic.Int32
	entered      chan struct{}
	release      chan struct{}
}

func (h *harness) countHashes(hold bool) *hashCounter {
	hc := &hashCounter{entered: make(chan struct{}, 100), release: make(chan struct{})}
	if !hold {
		close(hc.release)
	}
	h.svc.SetHashHook(func() {
		n := hc.active.Add(1)
		for p := hc.peak.Load(); n > p && !hc.peak.CompareAndSwap(p, n); p = hc.peak.Load() {
		}
		hc.entered <- struct{}{}
		<-hc.release
		time.Sleep(5 * time.Millisecond)
		hc.active.Add(-1)
	})
	return hc
}

// At most the configured number of password hashes run at once; a sign-in
// that finds every slot taken for the whole wait is answered 503 with
// Retry-After and a message, and changes nothing.
func TestSignInHashingIsBounded(t *testing.T) {
	h := newHarness(t)
	h.setupOwner()
	h.svc.SetHashLimit(2, 200*time.Millisecond)
	hc := h.countHashes(true)

	signIn := func(pw string) page {
		b := h.browser()
		b.get("/login")
		return b.post("/login", url.Values{"username": {testOwnerEmail}, "password": {pw}})
	}
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = signIn("wrong password").status
		}()
	}
	<-hc.entered
	<-hc.entered
	p := signIn(testOwnerPW)
	expectStatus(t, p, http.StatusServiceUnavailable, "a third sign-in while both slots are held")
	if ra := p.header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After = %q, want 2", ra)
	}
	if !strings.Contains(p.body, "busy") {
		t.Errorf("the 503 page does not say the server is busy: %s", p.body)
	}
	close(hc.release)
	wg.Wait()
	for _, s := range statuses {
		if s != http.StatusUnauthorized {
			t.Errorf("a held sign-in answered %d, want 401", s)
		}
	}
	if peak := hc.peak.Load(); peak > 2 {
		t.Errorf("%d hashes ran at once, want at most 2", peak)
	}

	// Many at once within the wait: all served, never more than the slots.
	h.svc.SetHashLimit(2, 10*time.Second)
	hc = h.countHashes(false)
	results := make([]int, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = signIn("wrong password").status
		}()
	}
	wg.Wait()
	for _, s := range results {
		if s != http.StatusUnauthorized {
			t.Errorf("a queued sign-in answered %d, want 401", s)
		}
	}
	if peak := hc.peak.Load(); peak > 2 || peak < 1 {
		t.Errorf("%d hashes ran at once, want 1 or 2", peak)
	}
}

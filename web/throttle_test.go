package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ramsdk "github.com/aliyun/alibaba-cloud-sdk-go/services/ram"
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

// testClock is a clock for the rate limiter that moves only when told.
type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func TestRateLimiterBurstThenRefuses(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newRateLimiter(signInRate, signInBurst, 1000, clk.now)
	for i := 0; i < signInBurst; i++ {
		if ok, _ := l.allow("192.0.2.1"); !ok {
			t.Fatalf("attempt %d of a burst of %d refused", i+1, signInBurst)
		}
	}
	ok, wait := l.allow("192.0.2.1")
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("attempt past the burst: allowed %v, wait %v; want refused with a wait of at most 1 s", ok, wait)
	}
	if ok, _ := l.allow("192.0.2.2"); !ok {
		t.Errorf("another address was refused")
	}
	clk.t = clk.t.Add(wait)
	if ok, _ := l.allow("192.0.2.1"); !ok {
		t.Errorf("refused after waiting the Retry-After")
	}
}

func TestRateLimiterNormalPaceNeverRefused(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newRateLimiter(signInRate, signInBurst, 1000, clk.now)
	for i := 0; i < 10*60*10; i++ { // ten minutes at 10 a second
		if ok, _ := l.allow("192.0.2.1"); !ok {
			t.Fatalf("attempt %d at 10 a second refused", i+1)
		}
		clk.t = clk.t.Add(100 * time.Millisecond)
	}
}

func TestRateLimiterMemoryIsBounded(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newRateLimiter(signInRate, signInBurst, 100, clk.now)
	for i := 0; i < 5000; i++ {
		l.allow("10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256))
		if n := l.size(); n > 100 {
			t.Fatalf("%d buckets after %d addresses, want at most 100", n, i+1)
		}
	}
	clk.t = clk.t.Add(time.Minute)
	l.allow("192.0.2.1")
	if n := l.size(); n != 1 {
		t.Errorf("%d buckets after a minute idle, want 1 (idle ones evicted)", n)
	}
	// IPv6: one bucket per /64.
	if clientKey("2001:db8::1") != clientKey("2001:db8::ffff:1") || clientKey("2001:db8::1") == clientKey("2001:db8:0:1::1") {
		t.Errorf("IPv6 addresses are not grouped by /64")
	}
}

// Through the app: a burst of sign-in posts from one address meets 429 with
// Retry-After; the sign-in routes named by the limiter exist.
func TestSignInRateLimited(t *testing.T) {
	h := newHarness(t)
	h.setupOwner()
	posts := map[string]bool{}
	for _, r := range h.app.Routes() {
		if r.Method == http.MethodPost {
			posts[r.Path] = true
		}
	}
	for p := range signInPaths {
		if !posts[p] {
			t.Errorf("the rate-limited path %s is not a POST route", p)
		}
	}
	b := h.browser()
	b.get("/login")
	var limited *page
	for i := 0; i < 200 && limited == nil; i++ {
		p := b.post("/login", url.Values{"username": {"nobody"}, "password": {""}})
		if p.status == http.StatusTooManyRequests {
			limited = &p
		} else if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("post %d: status %d", i, p.status)
		}
	}
	if limited == nil {
		t.Fatal("200 sign-in posts at once from one address were never refused")
	}
	if ra, err := strconv.Atoi(limited.header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After = %q, want a number of seconds", limited.header.Get("Retry-After"))
	}
	if !strings.Contains(limited.body, "Too many sign-in attempts") {
		t.Errorf("the 429 page does not say why: %s", limited.body)
	}
}

// The OpenAPI's ChangePassword hashes within the same slots: with every
// slot held it answers 503 ServiceUnavailable with Retry-After.
func TestAPIChangePasswordBusy(t *testing.T) {
	env := newAPIEnv(t)
	env.owner.get("/users/new")
	p := env.owner.post("/users", url.Values{"name": {"busyuser"}, "console_login": {"true"}, "password": {ramUserPW}, "create_access_key": {"true"}})
	p = env.owner.follow(p)
	expectStatus(t, p, 200, "create busyuser")
	uc := env.sdkClient(find(t, keyIDRE, p.body, "AccessKey ID"), find(t, keySecretRE, p.body, "AccessKey secret"))
	env.svc.SetHashLimit(1, 100*time.Millisecond)
	hc := env.countHashes(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := env.browser()
		b.get("/login")
		b.post("/login", url.Values{"username": {"busyuser"}, "password": {"wrong"}})
	}()
	<-hc.entered
	cp := ramsdk.CreateChangePasswordRequest()
	env.at(cp)
	cp.OldPassword, cp.NewPassword = ramUserPW, "Zebra-Quartz-7741!x"
	_, err := uc.ChangePassword(cp)
	se := expectCode(t, err, "ServiceUnavailable", http.StatusServiceUnavailable, "ChangePassword with every slot held")
	if ra := se.RespHeaders["Retry-After"]; len(ra) == 0 || ra[0] != "2" {
		t.Errorf("Retry-After = %v, want 2", ra)
	}
	close(hc.release)
	<-done
	_, err = uc.ChangePassword(cp)
	must(t, err, "ChangePassword once the slot is free")
}

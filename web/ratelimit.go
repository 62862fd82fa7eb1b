package web

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Sign-in attempts are limited per client address with a token bucket: a
// person (or a test) at a normal pace never meets it, a script guessing
// passwords from one address is slowed to signInRate a second. Lockout
// (SPEC §2) protects each identity; this protects the server and spreads
// guessing over time. The argon2id slots (ram.DefaultHashSlots) bound the
// memory whatever the number of addresses.
const (
	signInRate  = 10 // attempts a second, sustained, per address
	signInBurst = 30 // attempts at once after a pause
	// maxSignInBuckets bounds the memory of the limiter (~100 bytes each);
	// past it new addresses share one bucket until idle ones are evicted.
	maxSignInBuckets = 100_000
	// sweepEvery is how often buckets full again (idle) are evicted.
	sweepEvery = 10 * time.Second
)

// signInPaths are the POST routes that check a password, a code, a
// security key's answer or the setup token.
var signInPaths = map[string]bool{
	"/login": true, "/login/mfa": true, "/setup": true, "/password/change": true, "/mfa/unbind": true,
	"/login/mfa/webauthn": true, "/mfa/security-keys": true, "/mfa/security-keys/:id/delete": true,
	"/saml/acs": true, "/saml-role/sso": true, // each verifies a signature; a flood from one address is slowed like sign-ins
}

// signInGets are the GET routes limited with the sign-ins: starting an SSO
// sign-in writes the pending request to the database.
var signInGets = map[string]bool{"/saml/login": true}

// bucket is one address's tokens as of last.
type bucket struct {
	tokens float64
	last   time.Time
}

// rateLimiter is a token bucket per key, in bounded memory.
type rateLimiter struct {
	rate, burst float64
	max         int
	now         func() time.Time

	mu        sync.Mutex
	buckets   map[string]*bucket
	overflow  bucket
	lastSweep time.Time
}

func newRateLimiter(rate, burst float64, max int, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: burst, max: max, now: now, buckets: map[string]*bucket{},
		overflow: bucket{tokens: burst}}
}

// allow takes a token of key; when there is none it says how long until one.
func (l *rateLimiter) allow(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.lastSweep) >= sweepEvery {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.max {
			l.sweep(now)
		}
		if len(l.buckets) >= l.max {
			b = &l.overflow
		} else {
			b = &bucket{tokens: l.burst, last: now}
			l.buckets[key] = b
		}
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// sweep evicts the buckets that are full again: forgetting them changes nothing.
func (l *rateLimiter) sweep(now time.Time) {
	l.lastSweep = now
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
}

// size is the number of addresses remembered.
func (l *rateLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// clientKey is the bucket of a client address (as the app computes it,
// trusted proxies included): the address itself, or its /64 for IPv6,
// which one host usually holds whole.
func clientKey(ip string) string {
	a := net.ParseIP(ip)
	if a == nil || a.To4() != nil {
		return ip
	}
	return a.Mask(net.CIDRMask(64, 128)).String()
}

// limitRate answers 429 with Retry-After when the client's bucket is empty.
func limitRate(l *rateLimiter) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if ok, wait := l.allow(clientKey(c.RealIP())); !ok {
				c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				return echo.NewHTTPError(http.StatusTooManyRequests, "Too many sign-in attempts from your address. Wait a moment and try again.")
			}
			return next(c)
		}
	}
}

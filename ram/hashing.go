package ram

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// Every argon2id computation (sign-in, setup, password changes and resets,
// the dummy hash for unknown names, the API's ChangePassword) takes one of a
// bounded number of slots: each needs 19 MiB, so unbounded parallel sign-ins
// would exhaust memory. A computation waits a short while for a slot, then
// gives up with errBusy (503 and Retry-After).

// DefaultHashSlots is twice GOMAXPROCS: argon2id with p=1 keeps one CPU
// busy, so this many keeps every CPU busy with one computation waiting
// behind each, and bounds argon2's memory at slots × 19 MiB (76 MiB on 2 CPUs).
func DefaultHashSlots() int { return 2 * runtime.GOMAXPROCS(0) }

// DefaultHashWait is how long a computation waits for a slot.
const DefaultHashWait = 2 * time.Second

// HashRetryAfter is the Retry-After, in seconds, of a refusal for lack of a slot.
const HashRetryAfter = 2

// errBusy refuses a password check when every hashing slot stayed taken.
var errBusy = &Error{Kind: EBUSY, Code: "ServiceUnavailable",
	Message: "The server is busy checking other passwords. Try again in a few seconds."}

// hashGate bounds concurrent argon2id computations.
type hashGate struct {
	slots chan struct{}
	wait  time.Duration
	hook  atomic.Pointer[func()]
}

func newHashGate(slots int, wait time.Duration) *hashGate {
	return &hashGate{slots: make(chan struct{}, max(slots, 1)), wait: wait}
}

// do runs fn holding a slot, or returns errBusy after the wait.
func (g *hashGate) do(ctx context.Context, fn func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		select {
		case g.slots <- struct{}{}:
			t.Stop()
		case <-t.C:
			return errBusy
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	defer func() { <-g.slots }()
	if h := g.hook.Load(); h != nil {
		(*h)()
	}
	fn()
	return nil
}

// SetHashLimit sets how many argon2id computations may run at once and how
// long one waits for a slot. Call it before serving.
func (s *Service) SetHashLimit(slots int, wait time.Duration) {
	g := newHashGate(slots, wait)
	if old := s.gate.Load(); old != nil {
		g.hook.Store(old.hook.Load())
	}
	s.gate.Store(g)
}

// SetHashHook has f called at the start of every argon2id computation,
// while it holds its slot (tests count and hold computations with it).
func (s *Service) SetHashHook(f func()) { s.gate.Load().hook.Store(&f) }

// verifyPassword is VerifyPassword within a hashing slot.
func (s *Service) verifyPassword(ctx context.Context, phc, password string) (ok bool, err error) {
	err = s.gate.Load().do(ctx, func() { ok = VerifyPassword(phc, password) })
	return ok, err
}

// hashPassword is HashPassword within a hashing slot.
func (s *Service) hashPassword(ctx context.Context, password string) (hash string, err error) {
	err = s.gate.Load().do(ctx, func() { hash = HashPassword(password) })
	return hash, err
}

// ErrBusy reports whether err refuses a request for lack of a hashing slot.
func ErrBusy(err error) bool { return ErrorKind(err) == EBUSY }

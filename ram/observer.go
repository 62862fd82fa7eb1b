package ram

import "time"

// Observer receives what an operator watches (/metrics): decisions,
// sign-in failures and lockouts. Its functions are called synchronously
// and must be quick; nil ones are skipped.
type Observer struct {
	// Decision is called for every authorisation decided (surface is
	// "console", "api" or "gateway").
	Decision func(surface string, allowed bool)
	// SignInFailure is called for every refused password or MFA code
	// (reason is the audit event's error code).
	SignInFailure func(reason string)
	// Lockout is called when failures lock an identity.
	Lockout func()
}

// SetObserver installs o; call it before serving.
func (s *Service) SetObserver(o Observer) { s.observer.Store(&o) }

func (s *Service) observeDecision(surface string, allowed bool) {
	if o := s.observer.Load(); o != nil && o.Decision != nil {
		o.Decision(surface, allowed)
	}
}

func (s *Service) observeSignInFailure(reason string) {
	if o := s.observer.Load(); o != nil && o.SignInFailure != nil {
		o.SignInFailure(reason)
	}
}

// observeFailureCounted reports a lockout when a counted failure locked the
// identity (lockedUntil is what the store returned).
func (s *Service) observeFailureCounted(lockedUntil time.Time) {
	if o := s.observer.Load(); o != nil && o.Lockout != nil && lockedUntil.After(s.Now()) {
		o.Lockout()
	}
}

// surface is where an actor's request came from.
func surface(a Actor) string {
	if a.API {
		return "api"
	}
	return "console"
}

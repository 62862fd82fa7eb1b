package ram

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"ramconsole/store"
)

// SignatureWindow is how far a signed request's timestamp may be from the
// server clock (SPEC §6).
const SignatureWindow = 15 * time.Minute

// APICaller is the RAM user an OpenAPI request claims to be signed by: the
// owner of an Active AccessKey, with the key's secret to check the signature.
type APICaller struct {
	AccessKeyID string
	Secret      []byte // shared with the cache: never modified
	User        *User  // shared with the cache: never modified; nil for a role session
	// Session is the role session of temporary credentials (shared with the
	// cache: never modified).
	Session  *RoleSessionActor
	lastUsed *atomic.Int64
	macs     *keyMACs // the secret's pooled MACs, shared with the cache
}

// use returns when to record the key's use (LastUsedDate): now, at most
// once a minute per key; otherwise the zero time.
func (c *APICaller) use(now time.Time) time.Time {
	if c.lastUsed == nil {
		return now
	}
	last := c.lastUsed.Load()
	if now.UnixMilli()-last < time.Minute.Milliseconds() || !c.lastUsed.CompareAndSwap(last, now.UnixMilli()) {
		return time.Time{}
	}
	return now
}

// cachedKey is an Active AccessKey as of a store generation.
type cachedKey struct {
	gen      uint64
	caller   APICaller
	lastUsed atomic.Int64 // Unix ms of the newest recorded use
}

// Actor is the caller as the domain's operations and audit events see it.
func (c *APICaller) Actor(requestID, sourceIP, userAgent string, secureTransport bool) Actor {
	a := Actor{AccessKeyID: c.AccessKeyID, RequestID: requestID, SourceIP: sourceIP, UserAgent: userAgent, API: true,
		SecureTransport: secureTransport}
	if rs := c.Session; rs != nil {
		return rs.Act(a)
	}
	a.Principal, a.Name = UserPrincipal(c.User.UserID), c.User.UserName
	return a
}

// Name is who signed: the user's name, or the role and session names.
func (c *APICaller) Name() string {
	if rs := c.Session; rs != nil {
		return rs.Role.RoleName + "/" + rs.Session.SessionName
	}
	return c.User.UserName
}

var (
	errKeyNotFound = &Error{Kind: ENOTFOUND, Code: "InvalidAccessKeyId.NotFound", Message: "Specified access key is not found."}
	errKeyInactive = &Error{Kind: EFORBIDDEN, Code: "InvalidAccessKeyId.Inactive", Message: "Specified access key is disabled."}
)

// AccessKeyCaller looks up the AccessKey a request names and opens its
// secret. Unknown keys are InvalidAccessKeyId.NotFound, Inactive ones
// InvalidAccessKeyId.Inactive.
//
// Every OpenAPI call needs this, so an Active key is kept in memory with
// the store generation it was read at: any committed change (a key made
// Inactive or deleted, its user renamed or deleted) moves the generation
// and the next call reads the database again.
func (s *Service) AccessKeyCaller(ctx context.Context, accessKeyID string) (*APICaller, error) {
	if accessKeyID == "" || len(accessKeyID) > 64 {
		return nil, errKeyNotFound
	}
	gen := s.st.Generation() // before reading: a change committed meanwhile makes the entry stale at once
	var prev *cachedKey
	if v, ok := s.keys.Load(accessKeyID); ok {
		prev = v.(*cachedKey)
		if prev.gen == gen {
			c := prev.caller
			return &c, nil
		}
	}
	k, u, err := s.st.AccessKeyWithUser(ctx, accessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		s.keys.Delete(accessKeyID)
		return nil, errKeyNotFound
	}
	if err != nil {
		return nil, err
	}
	if k.Status != "Active" {
		s.keys.Delete(accessKeyID)
		return nil, errKeyInactive
	}
	secret, err := s.sealer.Open(accessKeySecretAD(k.AccessKeyID), k.SecretEnc)
	if err != nil {
		return nil, err
	}
	e := &cachedKey{gen: gen, caller: APICaller{AccessKeyID: k.AccessKeyID, Secret: secret, User: u, macs: newKeyMACs(secret)}}
	last := int64(0)
	if !k.LastUsedAt.IsZero() {
		last = k.LastUsedAt.UnixMilli()
	}
	if prev != nil {
		last = max(last, prev.lastUsed.Load()) // a use queued but not yet in the database
	}
	e.lastUsed.Store(last)
	e.caller.lastUsed = &e.lastUsed
	s.keys.Store(accessKeyID, e)
	if s.st.Generation() != gen { // a change committed meanwhile: its sweep may have run before this Store
		s.keys.CompareAndDelete(accessKeyID, e)
	}
	c := e.caller
	return &c, nil
}

// ErrNonceUsed is the refusal of a replayed signature nonce.
var ErrNonceUsed = &Error{Kind: EINVALID, Code: "SignatureNonceUsed", Message: "Specified signature nonce was used already."}

// nonceExpiry is when a nonce signed with timestamp ts can be forgotten: no
// request carrying it passes the timestamp check after then.
func nonceExpiry(ts time.Time) time.Time { return ts.Add(SignatureWindow) }

// UseNonce records a signature nonce before a call that changes something
// runs, with the key's use (LastUsedDate, at most once a minute). A nonce
// used before is refused with ErrNonceUsed, and the refusal audited. The
// nonce reaches the database in the transaction of the change at the
// latest (store.Queue).
func (s *Service) UseNonce(ctx context.Context, a Actor, c *APICaller, action, nonce string, ts time.Time) error {
	return s.RecordAPICall(ctx, a, APICall{Action: action, Recorded: true, Caller: c, Nonce: nonce, Timestamp: ts})
}

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

// nonceSweepEvery is how often used nonces that aged out are forgotten.
const nonceSweepEvery = time.Minute

// APICaller is the RAM user an OpenAPI request claims to be signed by: the
// owner of an Active AccessKey, with the key's secret to check the signature.
type APICaller struct {
	AccessKeyID string
	Secret      []byte
	User        *User
	LastUsed    time.Time
}

// Actor is the caller as the domain's operations and audit events see it.
func (c *APICaller) Actor(requestID, sourceIP, userAgent string, secureTransport bool) Actor {
	return Actor{Principal: c.User.Principal(), Name: c.User.UserName, AccessKeyID: c.AccessKeyID, RequestID: requestID,
		SourceIP: sourceIP, UserAgent: userAgent, API: true, SecureTransport: secureTransport}
}

var (
	errKeyNotFound = &Error{Kind: ENOTFOUND, Code: "InvalidAccessKeyId.NotFound", Message: "Specified access key is not found."}
	errKeyInactive = &Error{Kind: EFORBIDDEN, Code: "InvalidAccessKeyId.Inactive", Message: "Specified access key is disabled."}
)

// AccessKeyCaller looks up the AccessKey a request names and opens its
// secret. Unknown keys are InvalidAccessKeyId.NotFound, Inactive ones
// InvalidAccessKeyId.Inactive.
func (s *Service) AccessKeyCaller(ctx context.Context, accessKeyID string) (*APICaller, error) {
	if accessKeyID == "" || len(accessKeyID) > 64 {
		return nil, errKeyNotFound
	}
	k, u, err := s.st.AccessKeyWithUser(ctx, accessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errKeyNotFound
	}
	if err != nil {
		return nil, err
	}
	if k.Status != "Active" {
		return nil, errKeyInactive
	}
	secret, err := s.sealer.Open(accessKeySecretAD(k.AccessKeyID), k.SecretEnc)
	if err != nil {
		return nil, err
	}
	return &APICaller{AccessKeyID: k.AccessKeyID, Secret: secret, User: u, LastUsed: k.LastUsedAt}, nil
}

// ErrNonceUsed is the refusal of a replayed signature nonce.
var ErrNonceUsed = &Error{Kind: EINVALID, Code: "SignatureNonceUsed", Message: "Specified signature nonce was used already."}

// nonceExpiry is when a nonce signed with timestamp ts can be forgotten: no
// request carrying it passes the timestamp check after then.
func nonceExpiry(ts time.Time) time.Time { return ts.Add(SignatureWindow) }

var lastNonceSweep atomic.Int64 // unix seconds

func (s *Service) useNonce(ctx context.Context, tx *store.Tx, accessKeyID, nonce string, ts time.Time) (bool, error) {
	now := tx.Now()
	if last := lastNonceSweep.Load(); now.Unix()-last >= int64(nonceSweepEvery/time.Second) && lastNonceSweep.CompareAndSwap(last, now.Unix()) {
		if err := tx.SweepNonces(ctx, now); err != nil {
			return false, err
		}
	}
	return tx.UseNonce(ctx, accessKeyID, nonce, nonceExpiry(ts))
}

// UseNonce records a signature nonce before a call that changes something
// runs, with the key's use (LastUsedDate, at most once a minute). A nonce
// used before is refused with ErrNonceUsed, and the refusal audited.
// Concurrent calls share one transaction (see RecordAPICall).
func (s *Service) UseNonce(ctx context.Context, a Actor, c *APICaller, action, nonce string, ts time.Time) error {
	return s.RecordAPICall(ctx, a, APICall{Action: action, Recorded: true, Caller: c, Nonce: nonce, Timestamp: ts})
}

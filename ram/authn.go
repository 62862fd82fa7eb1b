package ram

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/textproto"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"ramconsole/sign"
)

// One path authenticates every signed request ramconsole accepts — the RAM
// and STS OpenAPI's own, and the original requests a proxy asks the gateway
// about — and one value carries each authenticated call's life from there:
// the nonce spent before a change, the read or decision recorded, or the
// refusal recorded (throttled for callers nobody could identify). The front
// doors (handlers) read the wire into a SignedRequest and encode the
// answer; everything between is here.

// SignedRequest is a request as its signature covers it, read off the wire.
type SignedRequest struct {
	Method string
	Path   string // V3's canonical URI: the request's path
	Host   string
	Query  map[string]string // the query string's parameters
	Params map[string]string // V1: every signed parameter (query, and a form body)
	Header http.Header
	// Body is the request body when it is seen (BodySeen): the gateway does
	// not see it and takes x-acs-content-sha256 as signed.
	Body     []byte
	BodySeen bool
	V3       *sign.AuthorizationV3 // nil for V1
	KeyID    string
	Token    string // the STS security token of temporary credentials (V1; V3 reads its header)
}

// Call is one call to a front door from the moment it arrives: who it is
// (Actor), whether authentication held (Err), and what is left to record.
// Authenticate and Anonymous always return one, so a front door always has
// something to refuse with.
type Call struct {
	s *Service
	// Actor is the caller as operations and audit events see it: the
	// identified principal, or only the request's address and agent.
	Actor Actor
	// Caller is the credentials' owner when a signature named a known
	// key (set even when the signature did not hold).
	Caller *APICaller
	err    error
	nonce  string
	ts     time.Time
}

// Anonymous is a call nobody has been identified for yet (its request
// could not be read, or carries no credentials).
func (s *Service) Anonymous(a Actor) *Call {
	a.API = true
	return &Call{s: s, Actor: a}
}

// SessionCall is a call authorised by a console session: a was identified
// by the session (there is no signature and no nonce).
func (s *Service) SessionCall(a Actor) *Call { return &Call{s: s, Actor: a} }

// Err is why authentication failed, nil when it held.
func (c *Call) Err() error { return c.err }

// authenticated reports whether the caller was identified and its
// credentials held.
func (c *Call) authenticated() bool { return c.err == nil && c.Actor.Principal != "" }

// SpendNonce records the signature's nonce before a change runs, with the
// key's use: a nonce used before is ErrNonceUsed, the refusal audited.
func (c *Call) SpendNonce(ctx context.Context, action string) error {
	if c.nonce == "" {
		return nil
	}
	nonce := c.nonce
	c.nonce = ""
	return c.s.UseNonce(ctx, c.Actor, c.Caller, action, nonce, c.ts)
}

// Record records an answered read or decision with the nonce it spends
// (see RecordAPICall): ErrNonceUsed when the nonce was used already.
func (c *Call) Record(ctx context.Context, rec APICall) error {
	c.fill(&rec)
	return c.s.RecordAPICall(ctx, c.Actor, rec)
}

// Refuse records a refusal (unless rec.Recorded: the operation recorded
// it) and returns cause, or the error that kept it from being recorded.
// Refusals of calls nobody could identify, a bad signature of a known key
// included, are throttled per source address (SPEC §7).
func (c *Call) Refuse(ctx context.Context, rec APICall, cause error) error {
	rec.ErrorCode, rec.ErrorMessage = "InternalError", "The request processing has failed due to some unknown error."
	if e, ok := AsError(cause); ok {
		rec.ErrorCode, rec.ErrorMessage = e.Code, e.Detail()
	}
	c.fill(&rec)
	rec.Unauthenticated = !c.authenticated()
	if err := c.s.RecordAPICall(ctx, c.Actor, rec); err != nil {
		return err
	}
	return cause
}

// fill gives a record the call's credentials and unspent nonce.
func (c *Call) fill(rec *APICall) {
	if c.authenticated() && c.Caller != nil {
		rec.Caller, rec.Nonce, rec.Timestamp = c.Caller, c.nonce, c.ts
		c.nonce = ""
	}
}

// Authenticate checks a signed request — V1 or V3, its timestamp, its
// nonce's form, and the credentials (a permanent AccessKey, or temporary
// STS credentials with their security token) — for a caller that a
// describes (request id, address, agent, transport). The nonce is spent
// later, by the Call, with the call's record.
func (s *Service) Authenticate(ctx context.Context, a Actor, req *SignedRequest) *Call {
	a.API = true
	c := &Call{s: s, Actor: a}
	var caller *APICaller
	if req.V3 != nil {
		caller, c.nonce, c.ts, c.err = s.verifyV3(ctx, req)
	} else {
		caller, c.nonce, c.ts, c.err = s.verifyV1(ctx, req)
	}
	if caller != nil {
		c.Caller = caller
		c.Actor = caller.Actor(a.RequestID, a.SourceIP, a.UserAgent, a.SecureTransport)
	}
	if c.err != nil {
		c.nonce = ""
		c.Actor.AccessKeyID = req.KeyID
	}
	return c
}

func authnError(code, format string, args ...any) *Error {
	return &Error{Kind: EINVALID, Code: code, Message: fmt.Sprintf(format, args...)}
}

func missingParameter(name string) *Error {
	return authnError("MissingParameter", "The input parameter %q that is mandatory for processing this request is not supplied.", name)
}

func (s *Service) verifyV1(ctx context.Context, req *SignedRequest) (*APICaller, string, time.Time, error) {
	p := req.Params
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if p[name] == "" {
			return nil, "", time.Time{}, missingParameter(name)
		}
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return nil, "", time.Time{}, authnError("InvalidParameter.SignatureMethod", "SignatureMethod must be HMAC-SHA1.")
	}
	if p["SignatureVersion"] != "1.0" {
		return nil, "", time.Time{}, authnError("InvalidParameter.SignatureVersion", "SignatureVersion must be 1.0.")
	}
	ts, err := s.checkTime(p["Timestamp"], "Timestamp")
	if err != nil {
		return nil, "", ts, err
	}
	nonce := p["SignatureNonce"]
	if err := checkNonce(nonce); err != nil {
		return nil, "", ts, err
	}
	caller, err := s.credentials(ctx, req.KeyID, req.Token)
	if err != nil {
		return nil, "", ts, err
	}
	mac, done := caller.macs.v1()
	ok := sign.VerifyV1(mac, req.Method, p, p["Signature"])
	done()
	if !ok {
		return caller, "", ts, signatureMismatch(sign.StringToSignV1(req.Method, p))
	}
	return caller, nonce, ts, nil
}

func (s *Service) verifyV3(ctx context.Context, req *SignedRequest) (*APICaller, string, time.Time, error) {
	// SignedHeaders are lower-case and sorted (sign.ParseAuthorization).
	signed := func(name string) bool { return signedFold(req.V3.SignedHeaders, name) }
	// Everything that steers the call must be signed: the host and every
	// x-acs-* header (action, version, date, nonce, payload hash, token).
	if !signed("host") {
		return nil, "", time.Time{}, authnError("IncompleteSignature", "SignedHeaders must include host.")
	}
	for name := range req.Header {
		if len(name) < 6 || !strings.EqualFold(name[:6], "x-acs-") {
			continue
		}
		if !signed(name) {
			return nil, "", time.Time{}, authnError("IncompleteSignature", "SignedHeaders must include %s.", strings.ToLower(name))
		}
	}
	if len(req.Body) > 0 && req.Header.Get("Content-Type") != "" && !signed("content-type") {
		// How the body is read (form parameters or not) is part of what is signed.
		return nil, "", time.Time{}, authnError("IncompleteSignature", "SignedHeaders must include content-type.")
	}
	// Canonical names: a lookup of any other spelling canonicalises it first.
	date, nonce, payloadHash := req.Header.Get("X-Acs-Date"), req.Header.Get("X-Acs-Signature-Nonce"), req.Header.Get("X-Acs-Content-Sha256")
	switch {
	case date == "":
		return nil, "", time.Time{}, missingParameter("x-acs-date")
	case nonce == "":
		return nil, "", time.Time{}, missingParameter("x-acs-signature-nonce")
	case payloadHash == "":
		return nil, "", time.Time{}, missingParameter("x-acs-content-sha256")
	}
	ts, err := s.checkTime(date, "x-acs-date")
	if err != nil {
		return nil, "", ts, err
	}
	if err := checkNonce(nonce); err != nil {
		return nil, "", ts, err
	}
	if req.BodySeen {
		sum := sha256.Sum256(req.Body)
		if !sign.Equal(strings.ToLower(payloadHash), hex.EncodeToString(sum[:])) {
			return nil, "", ts, authnError("SignatureDoesNotMatch", "The request body does not match its x-acs-content-sha256 header.")
		}
	}
	caller, err := s.credentials(ctx, req.KeyID, req.Header.Get("X-Acs-Security-Token"))
	if err != nil {
		return nil, "", ts, err
	}
	header := func(name string) string {
		if name == "host" {
			return req.Host
		}
		vals := req.Header[canonicalSigned(name)]
		if len(vals) > 1 {
			vals = append([]string(nil), vals...)
			for i := range vals {
				vals[i] = strings.TrimSpace(vals[i])
			}
			sort.Strings(vals)
		}
		return strings.Join(vals, ",")
	}
	sts := sign.StringToSignV3Of(req.Method, req.Path, req.Query, req.V3.SignedHeaders, header, payloadHash)
	mac, done := caller.macs.v3()
	ok := sign.VerifyV3(mac, sts, req.V3.Signature)
	done()
	if !ok {
		return caller, "", ts, signatureMismatch(sts)
	}
	return caller, nonce, ts, nil
}

// signedFold reports whether name, in any case, is among the lower-case
// sorted signed headers, without allocating a lower-case copy.
func signedFold(signed []string, name string) bool {
	_, ok := slices.BinarySearchFunc(signed, name, func(s, name string) int {
		for i := 0; i < len(s) && i < len(name); i++ {
			c := name[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if s[i] != c {
				if s[i] < c {
					return -1
				}
				return 1
			}
		}
		return len(s) - len(name)
	})
	return ok
}

// canonicalSigned is the canonical form of a signed header's lower-case
// name: the usual ones without canonicalising them again.
func canonicalSigned(name string) string {
	switch name {
	case "x-acs-date":
		return "X-Acs-Date"
	case "x-acs-signature-nonce":
		return "X-Acs-Signature-Nonce"
	case "x-acs-content-sha256":
		return "X-Acs-Content-Sha256"
	case "x-acs-action":
		return "X-Acs-Action"
	case "x-acs-version":
		return "X-Acs-Version"
	case "x-acs-security-token":
		return "X-Acs-Security-Token"
	case "content-type":
		return "Content-Type"
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// credentials finds who a request claims to be: the owner of a permanent
// AccessKey, or the role session of temporary (STS.) credentials with their
// security token.
func (s *Service) credentials(ctx context.Context, keyID, token string) (*APICaller, error) {
	switch {
	case IsTemporaryKey(keyID):
		return s.RoleSessionCaller(ctx, keyID, token)
	case token != "":
		return nil, authnError("InvalidSecurityToken.MismatchWithAccessKey", "A security token goes only with temporary (STS.) credentials.")
	default:
		return s.AccessKeyCaller(ctx, keyID)
	}
}

// signatureMismatch carries the server's string to sign, which the classic
// SDK compares with its own to tell a wrong secret from a bad signer.
func signatureMismatch(stringToSign string) *Error {
	return authnError("SignatureDoesNotMatch", "Specified signature does not match our calculation. "+ServerStringToSign+"%s", stringToSign)
}

func (s *Service) checkTime(value, name string) (time.Time, error) {
	ts, err := sign.ParseTimestamp(value)
	if err != nil {
		return ts, authnError("InvalidTimeStamp.Format", "Specified %s is not in the format yyyy-MM-ddTHH:mm:ssZ.", name)
	}
	if d := s.Now().Sub(ts); d > SignatureWindow || d < -SignatureWindow {
		return ts, authnError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired (more than 15 minutes from the server's time).")
	}
	return ts, nil
}

func checkNonce(nonce string) error {
	if len(nonce) > 128 {
		return authnError("InvalidParameter.SignatureNonce", "The signature nonce is longer than 128 characters.")
	}
	return nil
}

// keyMACs are one credential's keyed MACs, pooled: keying an HMAC costs two
// hash blocks and four allocations, on every call otherwise. They live in
// the key and session caches' entries, so they go with them: a key whose
// entry the store's generation made stale (deleted, disabled, ended) is
// dropped with its MACs and secret (sweepCredentials).
type keyMACs struct {
	v1Pool, v3Pool sync.Pool
}

func newKeyMACs(secret []byte) *keyMACs {
	m := &keyMACs{}
	m.v1Pool.New = func() any { return sign.NewV1MAC(string(secret)) }
	m.v3Pool.New = func() any { return sign.NewV3MAC(string(secret)) }
	return m
}

// v1 returns a V1 MAC and a function giving it back.
func (m *keyMACs) v1() (hash.Hash, func()) {
	h := m.v1Pool.Get().(hash.Hash)
	return h, func() { m.v1Pool.Put(h) }
}

// v3 returns a V3 MAC and a function giving it back.
func (m *keyMACs) v3() (hash.Hash, func()) {
	h := m.v3Pool.Get().(hash.Hash)
	return h, func() { m.v3Pool.Put(h) }
}

// sweepCredentials drops every cached key and session read before the
// store's generation gen: when a change commits, the secrets (and MACs)
// of whatever it may have deleted, disabled or ended leave memory at once,
// not at the credential's next use.
func (s *Service) sweepCredentials(gen uint64) {
	s.keys.Range(func(k, v any) bool {
		if v.(*cachedKey).gen != gen {
			s.keys.CompareAndDelete(k, v)
		}
		return true
	})
	s.sessions.Range(func(k, v any) bool {
		if v.(*cachedSession).gen != gen {
			s.sessions.CompareAndDelete(k, v)
		}
		return true
	})
}

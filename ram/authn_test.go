package ram

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"ramconsole/sign"
	"ramconsole/store"
)

// signedV1 is a V1-signed GET of params with the key, as the classic SDK
// sends it.
func (e *testEnv) signedV1(keyID, secret string, params map[string]string) *SignedRequest {
	p := map[string]string{"Format": "JSON", "Version": "2015-05-01", "AccessKeyId": keyID, "SignatureMethod": "HMAC-SHA1",
		"SignatureVersion": "1.0", "SignatureNonce": NewRequestID(), "Timestamp": e.clock.Now().UTC().Format(sign.TimestampLayout)}
	for k, v := range params {
		p[k] = v
	}
	p["Signature"] = sign.SignV1(secret, sign.StringToSignV1("GET", p))
	return &SignedRequest{Method: "GET", Path: "/", Host: "ram.example", Query: p, Params: p, KeyID: keyID}
}

// signedV3 is a V3-signed POST with no body.
func (e *testEnv) signedV3(keyID, secret string, query map[string]string) *SignedRequest {
	h := http.Header{}
	h.Set("X-Acs-Action", "GetUser")
	h.Set("X-Acs-Version", "2015-05-01")
	h.Set("X-Acs-Date", e.clock.Now().UTC().Format(sign.TimestampLayout))
	h.Set("X-Acs-Signature-Nonce", NewRequestID())
	h.Set("X-Acs-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	header := func(n string) string {
		if n == "host" {
			return "ram.example"
		}
		return h.Get(n)
	}
	sig := sign.SignV3(secret, sign.StringToSignV3(sign.CanonicalRequestV3("POST", "/", query, signed, header, h.Get("X-Acs-Content-Sha256"))))
	auth := sign.AuthorizationV3{Credential: keyID, SignedHeaders: signed, Signature: sig}
	return &SignedRequest{Method: "POST", Path: "/", Host: "ram.example", Query: query, Params: query, Header: h, V3: &auth, KeyID: keyID,
		BodySeen: true}
}

func errCode(err error) string {
	if e, ok := AsError(err); ok {
		return e.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// Authenticate identifies a signed caller and returns a Call that spends
// its nonce once: a replay of the same request is refused when recorded.
func TestAuthenticateSignedCalls(t *testing.T) {
	e := newTestEnv(t)
	u, k := e.user("ops", "AliyunRAMReadOnlyAccess")
	who := Actor{RequestID: NewRequestID(), SourceIP: "198.51.100.7", UserAgent: "test"}
	for name, req := range map[string]*SignedRequest{
		"V1": e.signedV1(k.AccessKeyID, k.AccessKeySecret, map[string]string{"Action": "GetUser", "UserName": "ops"}),
		"V3": e.signedV3(k.AccessKeyID, k.AccessKeySecret, map[string]string{"UserName": "ops"}),
	} {
		call := e.svc.Authenticate(e.ctx, who, req)
		if err := call.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if call.Actor.Principal != UserPrincipal(u.UserID) || call.Actor.Name != "ops" || call.Actor.AccessKeyID != k.AccessKeyID ||
			call.Actor.SourceIP != "198.51.100.7" || !call.Actor.API {
			t.Errorf("%s: actor %+v", name, call.Actor)
		}
		if err := call.Record(e.ctx, APICall{Action: "GetUser"}); err != nil {
			t.Fatalf("%s: record: %v", name, err)
		}
		again := e.svc.Authenticate(e.ctx, who, req)
		if err := again.Err(); err != nil {
			t.Fatalf("%s again: %v", name, err)
		}
		if err := again.Record(e.ctx, APICall{Action: "GetUser"}); errCode(err) != ErrNonceUsed.Code {
			t.Errorf("%s: a replay recorded with %v, want %s", name, err, ErrNonceUsed.Code)
		}
	}
	// SpendNonce before a change: the nonce is spent once, and the record
	// afterwards spends nothing more.
	req := e.signedV1(k.AccessKeyID, k.AccessKeySecret, map[string]string{"Action": "CreateGroup"})
	call := e.svc.Authenticate(e.ctx, who, req)
	if err := call.SpendNonce(e.ctx, "CreateGroup"); err != nil {
		t.Fatal(err)
	}
	if err := call.Refuse(e.ctx, APICall{Action: "CreateGroup", Recorded: true}, ErrNoMatchingRoute); err != ErrNoMatchingRoute {
		t.Errorf("a refusal after the nonce was spent: %v", err)
	}
	if err := e.svc.Authenticate(e.ctx, who, req).SpendNonce(e.ctx, "CreateGroup"); errCode(err) != ErrNonceUsed.Code {
		t.Errorf("the spent nonce again: %v", err)
	}
}

// A call whose authentication fails is still a Call, which refuses: the
// identified key's owner when the key is known, and the refusal throttled
// as an unauthenticated one.
func TestAuthenticateRefusals(t *testing.T) {
	e := newTestEnv(t)
	_, k := e.user("ops")
	who := Actor{RequestID: NewRequestID(), SourceIP: "198.51.100.8"}
	old := e.signedV1(k.AccessKeyID, k.AccessKeySecret, map[string]string{"Action": "GetUser"})
	e.clock.Advance(SignatureWindow + time.Minute)
	for _, tc := range []struct {
		name, code string
		req        *SignedRequest
	}{
		{"a wrong secret", "SignatureDoesNotMatch", e.signedV1(k.AccessKeyID, "not-the-secret", map[string]string{"Action": "GetUser"})},
		{"an unknown key", "InvalidAccessKeyId.NotFound", e.signedV1("LTAIunknown", "x", map[string]string{"Action": "GetUser"})},
		{"an old timestamp", "InvalidTimeStamp.Expired", old},
		{"a token with a permanent key", "InvalidSecurityToken.MismatchWithAccessKey", func() *SignedRequest {
			r := e.signedV1(k.AccessKeyID, k.AccessKeySecret, map[string]string{"Action": "GetUser"})
			r.Token = "CAES.token"
			return r
		}()},
		{"a V3 request without its host signed", "IncompleteSignature", func() *SignedRequest {
			r := e.signedV3(k.AccessKeyID, k.AccessKeySecret, nil)
			r.V3.SignedHeaders = r.V3.SignedHeaders[1:]
			return r
		}()},
	} {
		call := e.svc.Authenticate(e.ctx, who, tc.req)
		if errCode(call.Err()) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, call.Err(), tc.code)
			continue
		}
		if call.Actor.AccessKeyID != tc.req.KeyID {
			t.Errorf("%s: the refusal names key %q, want %q", tc.name, call.Actor.AccessKeyID, tc.req.KeyID)
		}
		if err := call.Refuse(e.ctx, APICall{Action: "GetUser"}, call.Err()); err != call.Err() {
			t.Errorf("%s: Refuse returned %v", tc.name, err)
		}
	}
	if c := e.svc.Authenticate(e.ctx, who, e.signedV1(k.AccessKeyID, "wrong", nil)); c.Caller == nil || c.Actor.Name != "ops" {
		t.Errorf("a bad signature of a known key: caller %v, actor %+v; want the key's owner named", c.Caller, c.Actor)
	}
	// Refusals without a valid identity are throttled per address: past
	// the window's budget they are counted, not written.
	before := len(e.events())
	for range UnauthenticatedEventsPerMinute + 10 {
		call := e.svc.Authenticate(e.ctx, who, e.signedV1(k.AccessKeyID, "wrong", nil))
		_ = call.Refuse(e.ctx, APICall{Action: "GetUser"}, call.Err())
	}
	if n := len(e.events()) - before; n > UnauthenticatedEventsPerMinute {
		t.Errorf("%d refused signatures wrote %d events, want at most %d", UnauthenticatedEventsPerMinute+10, n, UnauthenticatedEventsPerMinute)
	}
}

// A disabled or deleted key's secret leaves memory when the change
// commits, not at the key's next use; an active one is cached with its
// pooled MACs until a change.
func TestCredentialsLeaveMemoryWithTheirKey(t *testing.T) {
	e := newTestEnv(t)
	_, k := e.user("ops")
	who := Actor{RequestID: NewRequestID()}
	if c := e.svc.Authenticate(e.ctx, who, e.signedV1(k.AccessKeyID, k.AccessKeySecret, nil)); c.Err() != nil {
		t.Fatal(c.Err())
	}
	cached := func() bool { _, ok := e.svc.keys.Load(k.AccessKeyID); return ok }
	if !cached() {
		t.Fatal("an authenticated key is not cached")
	}
	if err := e.svc.UpdateAccessKey(e.ctx, e.owner, "ops", k.AccessKeyID, "Inactive"); err != nil {
		t.Fatal(err)
	}
	if cached() {
		t.Error("the disabled key's secret is still cached")
	}
	c := e.svc.Authenticate(e.ctx, who, e.signedV1(k.AccessKeyID, k.AccessKeySecret, nil))
	if errCode(c.Err()) != "InvalidAccessKeyId.Inactive" {
		t.Errorf("a disabled key: %v", c.Err())
	}
}

// The principal ARNs are built one way for each kind.
func TestPrincipalARN(t *testing.T) {
	for _, tc := range []struct {
		a        Actor
		arn, typ string
	}{
		{Actor{Principal: PrincipalRoot, Name: "owner@example.com"}, "acs:ram::1:root", "Root"},
		{Actor{Principal: UserPrincipal("2"), Name: "ops"}, "acs:ram::1:user/ops", "SubUser"},
		{Actor{Principal: UserPrincipal("2"), Name: "ops", Session: &RoleSessionActor{Role: &store.Role{RoleName: "reader"},
			Session: &store.RoleSession{SessionName: "nightly"}}}, "acs:ram::1:assumed-role/reader/nightly", "AssumedRoleUser"},
	} {
		if got, typ := PrincipalARN("1", tc.a), PrincipalType(tc.a); got != tc.arn || typ != tc.typ {
			t.Errorf("%+v: %s %s, want %s %s", tc.a, got, typ, tc.arn, tc.typ)
		}
	}
	if !strings.HasPrefix(UserARN("1", "a"), "acs:ram::1:") || RootARN("1") != "acs:ram::1:root" {
		t.Error("UserARN or RootARN")
	}
}

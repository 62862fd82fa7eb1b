package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"ramconsole/ram"
)

// One path checks every Alibaba signature ramconsole accepts: the RAM and
// STS OpenAPI's own requests, and the original requests a proxy forwards to
// the gateway. Signed is what a signature covers; Verifier checks it: V1 or
// V3, the timestamp, the nonce's form, and the credentials (a permanent
// AccessKey, or temporary STS credentials with their security token). The
// nonce itself is recorded by the caller, with the call's audit event.

// Signed is a request as its signature covers it.
type Signed struct {
	method string
	path   string // the canonical URI of V3: the request's path
	host   string
	query  map[string]string // the query string's parameters
	params apiParams         // V1: every signed parameter (query, and a form body)
	header http.Header
	// body is the request body when it is seen (bodySeen): the gateway
	// does not see it and takes x-acs-content-sha256 as signed.
	body     []byte
	bodySeen bool
	v3       *AuthorizationV3
	keyID    string
	token    string // the STS security token, with temporary credentials
}

// Verifier checks signatures and credentials.
type Verifier struct {
	RAM *ram.Service
}

// Verify checks a request's signature and timestamp and returns the caller,
// the nonce and the signed time. The nonce is not checked here: the caller
// records it (refusing a used one) with the call's audit event.
func (v *Verifier) Verify(ctx context.Context, req *Signed) (*ram.APICaller, string, time.Time, error) {
	if req.v3 != nil {
		return v.verifyV3(ctx, req)
	}
	p := req.params
	for _, name := range []string{"AccessKeyId", "Signature", "SignatureMethod", "SignatureVersion", "SignatureNonce", "Timestamp"} {
		if p[name] == "" {
			return nil, "", time.Time{}, missing(name)
		}
	}
	if p["SignatureMethod"] != "HMAC-SHA1" {
		return nil, "", time.Time{}, apiError("InvalidParameter.SignatureMethod", "SignatureMethod must be HMAC-SHA1.")
	}
	if p["SignatureVersion"] != "1.0" {
		return nil, "", time.Time{}, apiError("InvalidParameter.SignatureVersion", "SignatureVersion must be 1.0.")
	}
	ts, err := v.checkTime(p["Timestamp"], "Timestamp")
	if err != nil {
		return nil, "", ts, err
	}
	nonce := p["SignatureNonce"]
	if err := checkNonce(nonce); err != nil {
		return nil, "", ts, err
	}
	caller, err := v.caller(ctx, req)
	if err != nil {
		return nil, "", ts, err
	}
	mac, done := v1MAC(caller.AccessKeyID, string(caller.Secret))
	ok := VerifyV1(mac, req.method, p, p["Signature"])
	done()
	if !ok {
		return caller, "", ts, signatureMismatch(StringToSignV1(req.method, p))
	}
	return caller, nonce, ts, nil
}

func (v *Verifier) verifyV3(ctx context.Context, req *Signed) (*ram.APICaller, string, time.Time, error) {
	// SignedHeaders are lower-case and sorted (ParseAuthorization).
	signed := func(name string) bool {
		_, ok := slices.BinarySearch(req.v3.SignedHeaders, name)
		return ok
	}
	// Everything that steers the call must be signed: the host and every
	// x-acs-* header (action, version, date, nonce, payload hash, token).
	if !signed("host") {
		return nil, "", time.Time{}, apiError("IncompleteSignature", "SignedHeaders must include host.")
	}
	for name := range req.header {
		if len(name) < 6 || !strings.EqualFold(name[:6], "x-acs-") {
			continue
		}
		if lname := strings.ToLower(name); !signed(lname) {
			return nil, "", time.Time{}, apiError("IncompleteSignature", "SignedHeaders must include %s.", lname)
		}
	}
	if len(req.body) > 0 && req.header.Get("Content-Type") != "" && !signed("content-type") {
		// How the body is read (form parameters or not) is part of what is signed.
		return nil, "", time.Time{}, apiError("IncompleteSignature", "SignedHeaders must include content-type.")
	}
	for _, name := range []string{"x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"} {
		if req.header.Get(name) == "" {
			return nil, "", time.Time{}, missing(name)
		}
	}
	ts, err := v.checkTime(req.header.Get("x-acs-date"), "x-acs-date")
	if err != nil {
		return nil, "", ts, err
	}
	nonce := req.header.Get("x-acs-signature-nonce")
	if err := checkNonce(nonce); err != nil {
		return nil, "", ts, err
	}
	payloadHash := req.header.Get("x-acs-content-sha256")
	if req.bodySeen {
		sum := sha256.Sum256(req.body)
		if !signaturesEqual(strings.ToLower(payloadHash), hex.EncodeToString(sum[:])) {
			return nil, "", ts, apiError("SignatureDoesNotMatch", "The request body does not match its x-acs-content-sha256 header.")
		}
	}
	req.token = req.header.Get("x-acs-security-token")
	caller, err := v.caller(ctx, req)
	if err != nil {
		return nil, "", ts, err
	}
	header := func(name string) string {
		if name == "host" {
			return req.host
		}
		vals := req.header.Values(name)
		if len(vals) > 1 {
			vals = append([]string(nil), vals...)
			for i := range vals {
				vals[i] = strings.TrimSpace(vals[i])
			}
			sort.Strings(vals)
		}
		return strings.Join(vals, ",")
	}
	sts := stringToSignV3(req.method, req.path, req.query, req.v3.SignedHeaders, header, payloadHash)
	mac, done := v3MAC(caller.AccessKeyID, string(caller.Secret))
	ok := VerifyV3(mac, sts, req.v3.Signature)
	done()
	if !ok {
		return caller, "", ts, signatureMismatch(sts)
	}
	return caller, nonce, ts, nil
}

// caller finds who a request claims to be: the owner of a permanent
// AccessKey, or the role session of temporary (STS.) credentials with their
// security token.
func (v *Verifier) caller(ctx context.Context, req *Signed) (*ram.APICaller, error) {
	var caller *ram.APICaller
	var err error
	switch {
	case ram.IsTemporaryKey(req.keyID):
		caller, err = v.RAM.RoleSessionCaller(ctx, req.keyID, req.token)
	case req.token != "":
		err = apiError("InvalidSecurityToken.MismatchWithAccessKey", "A security token goes only with temporary (STS.) credentials.")
	default:
		caller, err = v.RAM.AccessKeyCaller(ctx, req.keyID)
	}
	if err != nil {
		forgetMACs(req.keyID) // a deleted, inactive or ended key's secret is not kept
	}
	return caller, err
}

// signatureMismatch carries the server's string to sign, which the classic
// SDK compares with its own to tell a wrong secret from a bad signer.
func signatureMismatch(stringToSign string) *ram.Error {
	return apiError("SignatureDoesNotMatch", "Specified signature does not match our calculation. "+ram.ServerStringToSign+"%s", stringToSign)
}

func (v *Verifier) checkTime(value, name string) (time.Time, error) {
	ts, err := time.Parse(timestampLayout, value)
	if err != nil {
		return ts, apiError("InvalidTimeStamp.Format", "Specified %s is not in the format yyyy-MM-ddTHH:mm:ssZ.", name)
	}
	if d := v.RAM.Now().Sub(ts); d > ram.SignatureWindow || d < -ram.SignatureWindow {
		return ts, apiError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired (more than 15 minutes from the server's time).")
	}
	return ts, nil
}

func checkNonce(nonce string) error {
	if len(nonce) > 128 {
		return apiError("InvalidParameter.SignatureNonce", "The signature nonce is longer than 128 characters.")
	}
	return nil
}

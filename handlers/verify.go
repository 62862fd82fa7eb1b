package handlers

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
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
	signed := func(name string) bool { return signedFold(req.v3.SignedHeaders, name) }
	// Everything that steers the call must be signed: the host and every
	// x-acs-* header (action, version, date, nonce, payload hash, token).
	if !signed("host") {
		return nil, "", time.Time{}, apiError("IncompleteSignature", "SignedHeaders must include host.")
	}
	for name := range req.header {
		if len(name) < 6 || !strings.EqualFold(name[:6], "x-acs-") {
			continue
		}
		if !signed(name) {
			return nil, "", time.Time{}, apiError("IncompleteSignature", "SignedHeaders must include %s.", strings.ToLower(name))
		}
	}
	if len(req.body) > 0 && req.header.Get("Content-Type") != "" && !signed("content-type") {
		// How the body is read (form parameters or not) is part of what is signed.
		return nil, "", time.Time{}, apiError("IncompleteSignature", "SignedHeaders must include content-type.")
	}
	// Canonical names: a lookup of any other spelling canonicalises it first.
	date, nonce, payloadHash := req.header.Get("X-Acs-Date"), req.header.Get("X-Acs-Signature-Nonce"), req.header.Get("X-Acs-Content-Sha256")
	switch {
	case date == "":
		return nil, "", time.Time{}, missing("x-acs-date")
	case nonce == "":
		return nil, "", time.Time{}, missing("x-acs-signature-nonce")
	case payloadHash == "":
		return nil, "", time.Time{}, missing("x-acs-content-sha256")
	}
	ts, err := v.checkTime(date, "x-acs-date")
	if err != nil {
		return nil, "", ts, err
	}
	if err := checkNonce(nonce); err != nil {
		return nil, "", ts, err
	}
	if req.bodySeen {
		sum := sha256.Sum256(req.body)
		if !signaturesEqual(strings.ToLower(payloadHash), hex.EncodeToString(sum[:])) {
			return nil, "", ts, apiError("SignatureDoesNotMatch", "The request body does not match its x-acs-content-sha256 header.")
		}
	}
	req.token = req.header.Get("X-Acs-Security-Token")
	caller, err := v.caller(ctx, req)
	if err != nil {
		return nil, "", ts, err
	}
	header := func(name string) string {
		if name == "host" {
			return req.host
		}
		vals := req.header[canonicalSigned(name)]
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
				return cmp.Compare(s[i], c)
			}
		}
		return cmp.Compare(len(s), len(name))
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
	ts, err := parseTimestamp(value)
	if err != nil {
		return ts, apiError("InvalidTimeStamp.Format", "Specified %s is not in the format yyyy-MM-ddTHH:mm:ssZ.", name)
	}
	if d := v.RAM.Now().Sub(ts); d > ram.SignatureWindow || d < -ram.SignatureWindow {
		return ts, apiError("InvalidTimeStamp.Expired", "Specified time stamp or date value is expired (more than 15 minutes from the server's time).")
	}
	return ts, nil
}

// parseTimestamp is time.Parse(timestampLayout, s), read directly when s
// is a plain valid timestamp (every signed request has one).
func parseTimestamp(s string) (time.Time, error) {
	// The layout is the template: its digits' places take digits, and
	// each of its other characters must be there and ends a field.
	var f [6]int // year, month, day, hour, minute, second
	ok, n := len(s) == len(timestampLayout), 0
	for i := 0; ok && i < len(s); i++ {
		if l := timestampLayout[i]; l < '0' || l > '9' {
			ok, n = s[i] == l, n+1
		} else if c := s[i]; '0' <= c && c <= '9' {
			f[n] = f[n]*10 + int(c-'0')
		} else {
			ok = false
		}
	}
	if ok && f[1] >= 1 && f[1] <= 12 && f[2] >= 1 && f[3] < 24 && f[4] < 60 && f[5] < 60 {
		if t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], 0, time.UTC); t.Day() == f[2] {
			return t, nil // else a day past the month's end, which time.Parse refuses
		}
	}
	return time.Parse(timestampLayout, s)
}

func checkNonce(nonce string) error {
	if len(nonce) > 128 {
		return apiError("InvalidParameter.SignatureNonce", "The signature nonce is longer than 128 characters.")
	}
	return nil
}

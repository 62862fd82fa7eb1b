// Package sign is the pure half of Alibaba Cloud's request signatures, as
// ramconsole checks them on the RAM and STS OpenAPI and at the resource
// gateway (SPEC §6, reference/signature-vectors.md): V1 (HMAC-SHA1 over the
// sorted parameters, what the classic SDKs send) and V3 (ACS3-HMAC-SHA256
// over a canonical request, what the current SDKs send) — canonicalisation,
// strings to sign, the Authorization header, MACs and their constant-time
// comparison, and the signed timestamp. It knows no keys, no clock and no
// HTTP server: ram looks the credentials up and keeps the MACs.
package sign

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// unreserved reports whether percent-encoding keeps c as it is: RFC 3986 as
// Alibaba Cloud signs, A–Z a–z 0–9 - _ . ~; every other byte is %XX in
// upper-case hex.
func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// appendCanonicalQuery appends the canonical query of params but skip: the
// parameters sorted by name (byte order), each name and value
// percent-encoded, as name=value pairs joined with '&' (an empty value
// keeps its '=').
func appendCanonicalQuery(b []byte, params map[string]string, skip string) []byte {
	var arr [24]string
	keys := arr[:0]
	for k := range params {
		if skip == "" || k != skip { // "" skips nothing: an empty name is a name too
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b = append(b, '&')
		}
		b = appendPercentEncoded(b, k)
		b = append(b, '=')
		b = appendPercentEncoded(b, params[k])
	}
	return b
}

// appendPercentEncoded appends s percent-encoded (see unreserved).
func appendPercentEncoded(b []byte, s string) []byte {
	const hexdigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		if c := s[i]; unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexdigits[c>>4], hexdigits[c&15])
		}
	}
	return b
}

// StringToSignV1 is the V1 string to sign of a request: its method, the
// encoded path "/" and the encoded canonical query of every parameter but
// Signature (empty ones included).
func StringToSignV1(method string, params map[string]string) string {
	return string(appendStringToSignV1(nil, method, params))
}

// appendStringToSignV1 appends the V1 string to sign to b.
func appendStringToSignV1(b []byte, method string, params map[string]string) []byte {
	var arr [24]string
	keys := arr[:0]
	n := len(method) + 8
	for k, v := range params {
		if k != "Signature" {
			keys = append(keys, k)
			n += len(k) + len(v) + 6
		}
	}
	sort.Strings(keys)
	b = slices.Grow(b, n+n/4)
	b = append(b, method...)
	b = append(b, "&%2F&"...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, "%26"...) // '&', encoded once more
		}
		b = appendEncodedTwice(b, k)
		b = append(b, "%3D"...) // '='
		b = appendEncodedTwice(b, params[k])
	}
	return b
}

// signBuffers are the scratch buffers of strings to sign.
var signBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// putSignBuffer gives a buffer back, unless a large request grew it: a pool
// should not keep megabytes for the next small call.
func putSignBuffer(bp *[]byte, b []byte) {
	if cap(b) > 64<<10 {
		return
	}
	*bp = b
	signBuffers.Put(bp)
}

// VerifyV1 reports whether signature is the V1 signature of the request's
// parameters under secret, in constant time. It builds the string to sign
// in a pooled buffer: StringToSignV1 gives it for an error message.
func VerifyV1(mac hash.Hash, method string, params map[string]string, signature string) bool {
	bp := signBuffers.Get().(*[]byte)
	b := appendStringToSignV1((*bp)[:0], method, params)
	mac.Reset()
	mac.Write(b)
	var sum [sha1.Size]byte
	var enc [28]byte // base64 of 20 bytes
	base64.StdEncoding.Encode(enc[:], mac.Sum(sum[:0]))
	putSignBuffer(bp, b)
	return subtle.ConstantTimeCompare([]byte(signature), enc[:]) == 1
}

// NewV1MAC returns the HMAC-SHA1 that VerifyV1 uses for secret.
func NewV1MAC(secret string) hash.Hash { return hmac.New(sha1.New, []byte(secret+"&")) }

// NewV3MAC returns the HMAC-SHA256 of V3 signatures for secret.
func NewV3MAC(secret string) hash.Hash { return hmac.New(sha256.New, []byte(secret)) }

// VerifyV3 reports whether signature (lower-case hex) is the V3 signature
// of stringToSign under mac's secret, in constant time.
func VerifyV3(mac hash.Hash, stringToSign, signature string) bool {
	mac.Reset()
	mac.Write([]byte(stringToSign))
	var sum [sha256.Size]byte
	var enc [2 * sha256.Size]byte
	hex.Encode(enc[:], mac.Sum(sum[:0]))
	return subtle.ConstantTimeCompare([]byte(signature), enc[:]) == 1
}

// appendEncodedTwice appends s percent-encoded twice: what the canonical
// query's parameters become in the V1 string to sign.
func appendEncodedTwice(b []byte, s string) []byte {
	const hexdigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', '2', '5', hexdigits[c>>4], hexdigits[c&15])
		}
	}
	return b
}

// SignV1 is the V1 signature: Base64 of HMAC-SHA1 keyed with secret + "&".
func SignV1(secret, stringToSign string) string {
	m := NewV1MAC(secret)
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// AlgorithmV3 is the only V3 signature algorithm served.
const AlgorithmV3 = "ACS3-HMAC-SHA256"

// AuthorizationV3 is a parsed V3 Authorization header.
type AuthorizationV3 struct {
	Credential    string   // the AccessKeyId
	SignedHeaders []string // lower-case, sorted, unique
	Signature     string   // lower-case hex of 32 bytes
}

// Errors of a malformed Authorization header.
var (
	errAuthAlgorithm = errors.New("sign: Authorization names no supported algorithm (ACS3-HMAC-SHA256)")
	errAuthFormat    = errors.New("sign: Authorization is not Credential=…,SignedHeaders=…,Signature=…")
)

// ParseAuthorization parses "ACS3-HMAC-SHA256 Credential=<id>,
// SignedHeaders=<a;b;…>,Signature=<hex>". Each element appears exactly once;
// SignedHeaders are lower-case header names in ascending order.
func ParseAuthorization(h string) (AuthorizationV3, error) {
	var out AuthorizationV3
	rest, ok := strings.CutPrefix(h, AlgorithmV3+" ")
	if !ok {
		return out, errAuthAlgorithm
	}
	var haveCred, haveSigned, haveSig bool
	for more := true; more; {
		var part string
		part, rest, more = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return out, errAuthFormat
		}
		switch k {
		case "Credential":
			if haveCred || v == "" || len(v) > 128 {
				return out, errAuthFormat
			}
			haveCred, out.Credential = true, v
		case "SignedHeaders":
			if haveSigned || v == "" {
				return out, errAuthFormat
			}
			haveSigned = true
			out.SignedHeaders = strings.Split(v, ";")
			for i, name := range out.SignedHeaders {
				if name == "" || !validHeaderName(name) || i > 0 && out.SignedHeaders[i-1] >= name {
					return out, errAuthFormat
				}
			}
		case "Signature":
			if haveSig || len(v) != 2*sha256.Size {
				return out, errAuthFormat
			}
			if !lowerHex(v) {
				return out, errAuthFormat
			}
			haveSig, out.Signature = true, v
		default:
			return out, errAuthFormat
		}
	}
	if !haveCred || !haveSigned || !haveSig {
		return out, errAuthFormat
	}
	return out, nil
}

// lowerHex reports whether s is lower-case hexadecimal.
func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// validHeaderName accepts lower-case header names: a–z 0–9 and '-'.
func validHeaderName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CanonicalRequestV3 is the V3 canonical request: method, the canonical
// URI (the request's path, each segment percent-encoded; "/" for RPC
// calls), the canonical query, one "name:value" line per signed header
// (values trimmed), the signed header names joined by ';', and the payload
// hash. header returns a signed header's value.
func CanonicalRequestV3(method, path string, query map[string]string, signed []string, header func(name string) string, payloadHash string) string {
	return string(appendCanonicalRequestV3(nil, method, path, query, signed, header, payloadHash))
}

// appendCanonicalURI appends a path as V3's canonical URI: "/" when empty,
// each segment percent-encoded, the slashes kept.
func appendCanonicalURI(b []byte, path string) []byte {
	if path == "" || path == "/" {
		return append(b, '/')
	}
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			b = append(b, '/')
		}
		b = appendPercentEncoded(b, seg)
	}
	return b
}

// appendCanonicalRequestV3 appends the V3 canonical request to b.
func appendCanonicalRequestV3(b []byte, method, path string, query map[string]string, signed []string, header func(name string) string, payloadHash string) []byte {
	b = append(b, method...)
	b = append(b, '\n')
	b = appendCanonicalURI(b, path)
	b = append(b, '\n')
	b = appendCanonicalQuery(b, query, "")
	b = append(b, '\n')
	for _, name := range signed {
		b = append(b, name...)
		b = append(b, ':')
		b = append(b, strings.TrimSpace(header(name))...)
		b = append(b, '\n')
	}
	b = append(b, '\n')
	for i, name := range signed {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, name...)
	}
	b = append(b, '\n')
	return append(b, payloadHash...)
}

// StringToSignV3Of is StringToSignV3 of a canonical request built in a
// pooled buffer.
func StringToSignV3Of(method, path string, query map[string]string, signed []string, header func(name string) string, payloadHash string) string {
	bp := signBuffers.Get().(*[]byte)
	b := appendCanonicalRequestV3((*bp)[:0], method, path, query, signed, header, payloadHash)
	sum := sha256.Sum256(b)
	putSignBuffer(bp, b)
	var out [len(AlgorithmV3) + 1 + 2*sha256.Size]byte
	copy(out[:], AlgorithmV3+"\n")
	hex.Encode(out[len(AlgorithmV3)+1:], sum[:])
	return string(out[:])
}

// StringToSignV3 is "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonical request)).
func StringToSignV3(canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return AlgorithmV3 + "\n" + hex.EncodeToString(sum[:])
}

// SignV3 is hex(HMAC-SHA256(secret, stringToSign)).
func SignV3(secret, stringToSign string) string {
	m := NewV3MAC(secret)
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// Equal compares two signatures (or hashes) in constant time.
func Equal(got, want string) bool {
	return hmac.Equal([]byte(got), []byte(want))
}

// TimestampLayout is the format of V1's Timestamp and V3's x-acs-date.
const TimestampLayout = "2006-01-02T15:04:05Z"

// ParseTimestamp is time.Parse(TimestampLayout, s), read directly when s
// is a plain valid timestamp (every signed request has one).
func ParseTimestamp(s string) (time.Time, error) {
	// The layout is the template: its digits' places take digits, and
	// each of its other characters must be there and ends a field.
	var f [6]int // year, month, day, hour, minute, second
	ok, n := len(s) == len(TimestampLayout), 0
	for i := 0; ok && i < len(s); i++ {
		if l := TimestampLayout[i]; l < '0' || l > '9' {
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
	return time.Parse(TimestampLayout, s)
}

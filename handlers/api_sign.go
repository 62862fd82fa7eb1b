package handlers

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"sort"
	"strings"
)

// Signatures of the RAM OpenAPI (SPEC §6, reference/signature-vectors.md):
// V1 (HMAC-SHA1 over the sorted parameters, what the classic SDKs send) and
// V3 (ACS3-HMAC-SHA256 over a canonical request, what the current SDKs send).

// percentEncode is RFC 3986 encoding as Alibaba Cloud signs: A–Z a–z 0–9
// - _ . ~ kept, every other byte %XX in upper-case hex.
func percentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexdigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexdigits[c>>4], hexdigits[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalQuery joins the parameters sorted by name (byte order), each
// name and value percent-encoded, as name=value pairs with '&'. An empty
// value keeps its '='.
func canonicalQuery(params map[string]string, skip string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != skip {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(percentEncode(k))
		b.WriteByte('=')
		b.WriteString(percentEncode(params[k]))
	}
	return b.String()
}

// StringToSignV1 is the V1 string to sign of a request: its method, the
// encoded path "/" and the encoded canonical query of every parameter but
// Signature (empty ones included).
func StringToSignV1(method string, params map[string]string) string {
	keys := make([]string, 0, len(params))
	n := len(method) + 8
	for k, v := range params {
		if k != "Signature" {
			keys = append(keys, k)
			n += len(k) + len(v) + 6
		}
	}
	sort.Strings(keys)
	b := make([]byte, 0, n+n/4)
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
	return string(b)
}

// appendEncodedTwice appends percentEncode(percentEncode(s)): what the
// canonical query's parameters become in the string to sign.
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
	m := hmac.New(sha1.New, []byte(secret+"&"))
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
	errAuthAlgorithm = errors.New("handlers: Authorization names no supported algorithm (ACS3-HMAC-SHA256)")
	errAuthFormat    = errors.New("handlers: Authorization is not Credential=…,SignedHeaders=…,Signature=…")
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
	for _, part := range strings.Split(rest, ",") {
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
			if _, err := hex.DecodeString(v); err != nil || strings.ToLower(v) != v {
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

// CanonicalRequestV3 is the V3 canonical request: method, "/", the
// canonical query, one "name:value" line per signed header (values
// trimmed), the signed header names joined by ';', and the payload hash.
// header returns a signed header's value.
func CanonicalRequestV3(method string, query map[string]string, signed []string, header func(name string) string, payloadHash string) string {
	cq := canonicalQuery(query, "")
	var b strings.Builder
	b.Grow(len(method) + len(cq) + len(payloadHash) + 64*len(signed) + 16)
	b.WriteString(method)
	b.WriteString("\n/\n")
	b.WriteString(cq)
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.TrimSpace(header(name)))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// StringToSignV3 is "ACS3-HMAC-SHA256\n" + hex(SHA-256(canonical request)).
func StringToSignV3(canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return AlgorithmV3 + "\n" + hex.EncodeToString(sum[:])
}

// SignV3 is hex(HMAC-SHA256(secret, stringToSign)).
func SignV3(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// signaturesEqual compares two signatures in constant time.
func signaturesEqual(got, want string) bool {
	return hmac.Equal([]byte(got), []byte(want))
}

package sign

import (
	"sort"
	"strings"
	"testing"
	"time"
)

// The vectors of reference/signature-vectors.md.

func TestSignatureV1Vectors(t *testing.T) {
	sdkParams := map[string]string{"AccessKeyId": "accessKeyId", "Action": "", "Format": "JSON", "RegionId": "regionId",
		"SignatureMethod": "HMAC-SHA1", "SignatureNonce": "MOCK_UUID", "SignatureType": "", "SignatureVersion": "1.0",
		"Timestamp": "mock date", "Version": ""}
	withToken := map[string]string{"SecurityToken": "accessKeyStsToken"}
	for k, v := range sdkParams {
		withToken[k] = v
	}
	tests := []struct {
		name, method, secret string
		params               map[string]string
		sts, signature       string
	}{
		{"vector 1: documentation example (GET)", "GET", "testsecret", map[string]string{"AccessKeyId": "testid", "Action": "CreateUser",
			"Format": "JSON", "SignatureMethod": "HMAC-SHA1", "SignatureNonce": "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2",
			"SignatureVersion": "1.0", "Timestamp": "2015-08-18T03:15:45Z", "UserName": "test", "Version": "2015-05-01",
			"Signature": "ignored: never signed"},
			"GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26Format%3DJSON%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2%26SignatureVersion%3D1.0%26Timestamp%3D2015-08-18T03%253A15%253A45Z%26UserName%3Dtest%26Version%3D2015-05-01",
			"kRA2cnpJVacIhDMzXnoNZG9tDCI="},
		{"vector 2: SDK unit test, empty values kept", "GET", "accessKeySecret", sdkParams,
			"GET&%2F&AccessKeyId%3DaccessKeyId%26Action%3D%26Format%3DJSON%26RegionId%3DregionId%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3DMOCK_UUID%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3Dmock%2520date%26Version%3D",
			"7loPmFjvDnzOVnQeQNj85S6nFGY="},
		{"vector 3: STS token signed like any parameter", "GET", "accessKeySecret", withToken,
			"GET&%2F&AccessKeyId%3DaccessKeyId%26Action%3D%26Format%3DJSON%26RegionId%3DregionId%26SecurityToken%3DaccessKeyStsToken%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3DMOCK_UUID%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3Dmock%2520date%26Version%3D",
			"5Nxdcler+ihqWqv0Hr2On4PsBf4="},
		{"vector 4: POST as the Go SDK sends it", "POST", "testsecret", map[string]string{"AccessKeyId": "testid", "Action": "CreateUser",
			"DisplayName": "Alice Smith", "Format": "JSON", "RegionId": "cn-hangzhou", "SignatureMethod": "HMAC-SHA1",
			"SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureType": "", "SignatureVersion": "1.0",
			"Timestamp": "2024-01-01T12:00:00Z", "UserName": "alice", "Version": "2015-05-01"},
			"POST&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26DisplayName%3DAlice%2520Smith%26Format%3DJSON%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-01T12%253A00%253A00Z%26UserName%3Dalice%26Version%3D2015-05-01",
			"wIQaQzhEH5zhq/yoQi82t/ZDYYc="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts := StringToSignV1(tt.method, tt.params)
			if sts != tt.sts {
				t.Fatalf("StringToSignV1 = %q, want %q", sts, tt.sts)
			}
			if got := SignV1(tt.secret, sts); got != tt.signature {
				t.Errorf("SignV1 = %q, want %q", got, tt.signature)
			}
		})
	}
}

func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{"a b": "a%20b", "x*y": "x%2Ay", "~-_.": "~-_.", "a/b:c": "a%2Fb%3Ac", "é": "%C3%A9", "": ""} {
		if got := percentEncode(in); got != want {
			t.Errorf("percentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignatureV3Vector(t *testing.T) {
	headers := map[string]string{"host": "127.0.0.1:18555", "x-acs-action": "CreateUser",
		"x-acs-content-sha256":       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"x-acs-credentials-provider": "static_ak", "x-acs-date": "2026-11-26T22:15:37Z",
		"x-acs-signature-nonce": "ea4275b3b2e9c262152629fbadbb274ac270204b15bbf2d829691beb4ea7ddfe", "x-acs-version": "2015-05-01"}
	auth := "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=aca0041e1fc31f0e077c053220a2716091220b7275d8066c2dd87ddf377f5ae5"
	a, err := ParseAuthorization(auth)
	if err != nil {
		t.Fatal(err)
	}
	if a.Credential != "testid" || len(a.SignedHeaders) != 7 {
		t.Fatalf("ParseAuthorization = %+v", a)
	}
	query := map[string]string{"Comments": "x*y z", "DisplayName": "Alice Smith", "UserName": "alice"}
	cr := CanonicalRequestV3("POST", "/", query, a.SignedHeaders, func(n string) string { return headers[n] }, headers["x-acs-content-sha256"])
	wantCR := strings.Join([]string{"POST", "/", "Comments=x%2Ay%20z&DisplayName=Alice%20Smith&UserName=alice",
		"host:127.0.0.1:18555", "x-acs-action:CreateUser",
		"x-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"x-acs-credentials-provider:static_ak", "x-acs-date:2026-11-26T22:15:37Z",
		"x-acs-signature-nonce:ea4275b3b2e9c262152629fbadbb274ac270204b15bbf2d829691beb4ea7ddfe", "x-acs-version:2015-05-01", "",
		"host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version",
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}, "\n")
	if cr != wantCR {
		t.Fatalf("CanonicalRequestV3 =\n%s\nwant\n%s", cr, wantCR)
	}
	if got := SignV3("testsecret", StringToSignV3(cr)); got != a.Signature {
		t.Errorf("SignV3 = %s, want %s", got, a.Signature)
	}
}

func TestParseAuthorizationRefuses(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	for name, h := range map[string]string{
		"other algorithm":           "ACS3-HMAC-SM3 Credential=a,SignedHeaders=host,Signature=" + sig,
		"no credential":             "ACS3-HMAC-SHA256 SignedHeaders=host,Signature=" + sig,
		"credential twice":          "ACS3-HMAC-SHA256 Credential=a,Credential=b,SignedHeaders=host,Signature=" + sig,
		"unsorted signed headers":   "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=x-acs-date;host,Signature=" + sig,
		"duplicate signed header":   "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;host,Signature=" + sig,
		"upper-case signed header":  "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=Host,Signature=" + sig,
		"short signature":           "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=abcd",
		"upper-case hex signature":  "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=" + strings.ToUpper(sig),
		"unknown element":           "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=" + sig + ",Extra=1",
		"empty":                     "",
		"empty signed header entry": "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;;x,Signature=" + sig,
	} {
		if a, err := ParseAuthorization(h); err == nil {
			t.Errorf("%s: ParseAuthorization(%q) = %+v, want an error", name, h, a)
		}
	}
	if _, err := ParseAuthorization("ACS3-HMAC-SHA256 Credential=a, SignedHeaders=host, Signature=" + sig); err != nil {
		t.Errorf("spaces after commas: %v", err)
	}
}

// FuzzParseAuthorization: the parser never panics, and what it accepts
// satisfies its contract (sorted unique lower-case headers, a 64-hex-digit
// signature) and canonicalises without panicking.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=aca0041e1fc31f0e077c053220a2716091220b7275d8066c2dd87ddf377f5ae5")
	f.Add("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host,Signature=" + strings.Repeat("0", 64))
	f.Add("ACS3-HMAC-SHA256 ,,,=")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			return
		}
		if a.Credential == "" || len(a.Signature) != 64 {
			t.Fatalf("accepted %q as %+v", h, a)
		}
		for i, n := range a.SignedHeaders {
			if n == "" || strings.ToLower(n) != n || i > 0 && a.SignedHeaders[i-1] >= n {
				t.Fatalf("accepted signed headers %v", a.SignedHeaders)
			}
		}
		cr := CanonicalRequestV3("POST", "/", map[string]string{h: h}, a.SignedHeaders, func(string) string { return h }, "")
		_ = SignV3("k", StringToSignV3(cr))
	})
}

// FuzzStringToSignV1: canonicalisation is injective enough that two
// different parameter sets never produce the same string to sign.
func FuzzStringToSignV1(f *testing.F) {
	f.Add("UserName", "alice", "Comments", "a&b=c")
	f.Add("A", "b&C=d", "A&C", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		if k1 == k2 || k1 == "Signature" || k2 == "Signature" {
			return
		}
		a := StringToSignV1("GET", map[string]string{k1: v1, k2: v2})
		b := StringToSignV1("GET", map[string]string{k1 + "&" + k2: v1 + v2})
		if a == b {
			t.Fatalf("two parameter sets share a string to sign: %q", a)
		}
	})
}

// FuzzStringToSignV1Definition: the one-pass string to sign is the SDK's
// definition, METHOD&%2F&enc(canonical query).
func FuzzStringToSignV1Definition(f *testing.F) {
	f.Add("POST", "UserName", "alice bob*~", "Comments", "a&b=c/é")
	f.Fuzz(func(t *testing.T, method, k1, v1, k2, v2 string) {
		p := map[string]string{k1: v1, k2: v2, "Signature": "x"}
		want := method + "&%2F&" + percentEncode(canonicalQuery(p, "Signature"))
		if got := StringToSignV1(method, p); got != want {
			t.Fatalf("StringToSignV1 = %q, want %q", got, want)
		}
	})
}

// VerifyV1 accepts exactly SignV1's signature, with a MAC reused across
// calls.
func TestVerifyV1(t *testing.T) {
	p := map[string]string{"Action": "GetUser", "UserName": "a b*", "SignatureNonce": "n", "Signature": ""}
	sig := SignV1("secret", StringToSignV1("POST", p))
	mac := NewV1MAC("secret")
	for i := 0; i < 2; i++ { // the second time on a MAC used before
		if !VerifyV1(mac, "POST", p, sig) {
			t.Fatalf("round %d: the right signature is refused", i)
		}
	}
	if VerifyV1(mac, "GET", p, sig) || VerifyV1(mac, "POST", p, sig[:len(sig)-1]+"A") {
		t.Fatal("a wrong signature is accepted")
	}
	other := NewV1MAC("other secret")
	if VerifyV1(other, "POST", p, sig) {
		t.Fatal("a signature is accepted under another secret")
	}
}

// VerifyV3 accepts exactly SignV3's signature.
func TestVerifyV3(t *testing.T) {
	sts := StringToSignV3("POST\n/\n\nhost:h\n\nhost\ne3b0")
	sig := SignV3("secret", sts)
	mac := NewV3MAC("secret")
	for i := 0; i < 2; i++ {
		if !VerifyV3(mac, sts, sig) {
			t.Fatalf("round %d: the right signature is refused", i)
		}
	}
	if VerifyV3(mac, sts+"x", sig) || VerifyV3(mac, sts, strings.ToUpper(sig)) {
		t.Fatal("a wrong signature is accepted")
	}
}

// FuzzStringToSignV3: the pooled one-pass string to sign is the
// definition's, StringToSignV3(CanonicalRequestV3(...)).
func FuzzStringToSignV3(f *testing.F) {
	f.Add("POST", "UserName", "a b*~/é", "x-acs-date", " 2026-11-27T00:00:00Z ", "e3b0")
	f.Fuzz(func(t *testing.T, method, k, v, h, hv, payload string) {
		q := map[string]string{k: v, "Format": "JSON"}
		signed := []string{"host", h}
		header := func(name string) string {
			if name == "host" {
				return "example.com:8080"
			}
			return hv
		}
		want := StringToSignV3(CanonicalRequestV3(method, "/", q, signed, header, payload))
		if got := StringToSignV3Of(method, "/", q, signed, header, payload); got != want {
			t.Fatalf("StringToSignV3Of = %q, want %q", got, want)
		}
		if got, want := canonicalQuery(q, ""), definitionQuery(q); got != want {
			t.Fatalf("canonicalQuery = %q, want %q", got, want)
		}
	})
}

// definitionQuery is canonicalQuery as the SDK documents it.
func definitionQuery(p map[string]string) string {
	var keys []string
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, percentEncode(k)+"="+percentEncode(p[k]))
	}
	return strings.Join(parts, "&")
}

// The definitions the one-pass encoders are checked against.

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

// canonicalQuery joins the parameters sorted by name (byte order), each
// name and value percent-encoded, as name=value pairs with '&'. An empty
// value keeps its '='.
func canonicalQuery(params map[string]string, skip string) string {
	return string(appendCanonicalQuery(nil, params, skip))
}

// The V3 canonical URI is the request's path, each segment percent-encoded
// and the slashes kept: "/" for RPC calls, the original path for a request
// the gateway checks.
func TestCanonicalURIV3(t *testing.T) {
	for _, tc := range []struct{ path, want string }{
		{"", "/"}, {"/", "/"}, {"/b1/k1", "/b1/k1"}, {"/b1/a key*~", "/b1/a%20key%2A~"}, {"/b1/dir/", "/b1/dir/"}, {"/ü", "/%C3%BC"},
	} {
		cr := CanonicalRequestV3("GET", tc.path, nil, nil, nil, "e3b0")
		if got := strings.Split(cr, "\n")[1]; got != tc.want {
			t.Errorf("canonical URI of %q = %q, want %q", tc.path, got, tc.want)
		}
	}
}

// FuzzParseTimestamp: the direct reading of a timestamp agrees with
// time.Parse on every input, accepted or refused.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2026-12-03T14:05:09Z", "2026-02-30T00:00:00Z", "2024-02-29T23:59:59Z", "2026-13-01T00:00:00Z",
		"2026-12-03T24:00:00Z", "2026-12-03T14:05:60Z", "0000-01-01T00:00:00Z", "2026-12-03 14:05:09Z", "+026-12-03T14:05:09Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotErr := ParseTimestamp(s)
		want, wantErr := time.Parse(TimestampLayout, s)
		if (gotErr == nil) != (wantErr == nil) || !got.Equal(want) {
			t.Fatalf("ParseTimestamp(%q) = %v, %v; time.Parse: %v, %v", s, got, gotErr, want, wantErr)
		}
	})
}

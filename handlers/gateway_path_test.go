package handlers

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzGatewayPath: a path the gateway accepts reads the same to every
// backend — no dot segment, no empty segment, no slash, backslash, ";" or
// control character inside a segment once decoded — and decodes to what a
// backend that splits on "/" and decodes each segment once reads.
func FuzzGatewayPath(f *testing.F) {
	for _, s := range []string{"/", "/a/b", "/a/", "/a/../b", "/a/%2e%2E/b", "/a%2Fb", "/a%5cb", "/a;b", "//a", "/a//b", "/%00", "/a%20b", "/%zz", "/a/./b", "/%C3%A9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if !strings.HasPrefix(raw, "/") {
			return
		}
		got, err := pathSegments(raw)
		if err != nil {
			return
		}
		var want []string
		for _, seg := range strings.Split(raw[1:], "/") {
			dec, err := url.PathUnescape(seg)
			if err != nil {
				t.Fatalf("%q accepted with a malformed escape", raw)
			}
			if dec == "." || dec == ".." || strings.ContainsAny(dec, "/\\;") || strings.ContainsFunc(dec, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				t.Fatalf("%q accepted with segment %q", raw, dec)
			}
			want = append(want, dec)
		}
		for i, seg := range want {
			if seg == "" && i != len(want)-1 {
				t.Fatalf("%q accepted with an empty segment", raw)
			}
		}
		if w := "/" + strings.Join(want, "/"); got != w {
			t.Fatalf("%q decoded to %q, want %q", raw, got, w)
		}
	})
}

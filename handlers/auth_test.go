package handlers

import "testing"

// TestLocalPath: next= leads only to a local path of this site, whatever a
// browser would make of the value (it strips tab, CR and LF anywhere,
// trims C0 controls and spaces at the ends and reads a backslash as a
// slash). The values are as the handler sees them: already decoded once.
func TestLocalPath(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"a local path is kept", "/users", "/users"},
		{"a local path with a query is kept", "/users?q=al", "/users?q=al"},
		{"an encoded slash inside a path stays a path", "/users/a%2Fb", "/users/a%2Fb"},
		{"empty is the overview", "", "/"},
		{"scheme-relative", "//evil.example", "/"},
		{"scheme-relative after a tab", "/\t/evil.example", "/"},
		{"scheme-relative after a newline", "/\n/evil.example", "/"},
		{"scheme-relative after a carriage return", "/\r/evil.example", "/"},
		{"tab before the first slash", "\t//evil.example", "/"},
		{"leading space", " //evil.example", "/"},
		{"leading NUL", "\x00//evil.example", "/"},
		{"trailing controls do not rescue a host", "//evil.example\x1f ", "/"},
		{"slash backslash", "/\\evil.example", "/"},
		{"backslash slash", "\\/evil.example", "/"},
		{"double backslash", "\\\\evil.example", "/"},
		{"slash tab backslash", "/\t\\evil.example", "/"},
		{"encoded backslash", "/%5Cevil.example", "/"},
		{"encoded lower-case backslash", "/%5cevil.example", "/"},
		{"encoded slash after the first", "/%2F/evil.example", "/"},
		{"encoded tab", "/%09/evil.example", "/"},
		{"double-encoded slash", "/%252F/evil.example", "/"},
		{"https URL", "https://evil.example/", "/"},
		{"scheme without slashes", "https:evil.example", "/"},
		{"javascript", "javascript:alert(1)", "/"},
		{"javascript after a tab", "\tjavascript:alert(1)", "/"},
		{"relative path", "users", "/"},
		{"header injection", "/users\r\nSet-Cookie: x=1", "/"},
		{"user info", "/@evil.example", "/@evil.example"},
		{"triple slash", "///evil.example", "/"},
		{"a dot segment", "/./evil.example", "/./evil.example"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := localPath(tc.in); got != tc.want {
				t.Errorf("localPath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

package policy

import (
	"testing"
	"unicode/utf8"
)

// refMatch is a deliberately simple reference for wildcard matching: * any run of characters, ? one character
// (a UTF-8 rune, an invalid byte counting as one), ASCII letters folded when fold is set.
func refMatch(pat, s string, fold bool) bool {
	if pat == "" {
		return s == ""
	}
	switch pat[0] {
	case '*':
		for len(pat) > 1 && pat[1] == '*' {
			pat = pat[1:] // a run of stars is one star; keeps the reference polynomial
		}
		for i := 0; ; {
			if refMatch(pat[1:], s[i:], fold) {
				return true
			}
			if i == len(s) {
				return false
			}
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
		}
	case '?':
		if s == "" {
			return false
		}
		_, w := utf8.DecodeRuneInString(s)
		return refMatch(pat[1:], s[w:], fold)
	}
	if s == "" {
		return false
	}
	a, b := pat[0], s[0]
	if fold {
		a, b = lowerByte(a), lowerByte(b)
	}
	return a == b && refMatch(pat[1:], s[1:], fold)
}

func lowerByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func TestPatternMatchesReference(t *testing.T) {
	tests := []struct{ pat, s string }{
		{"*a*a", "aa"}, {"a*", "a"}, {"*?", ""}, {"?*", "é"}, {"a*b*c", "abcabc"}, {"*ab", "aab"},
		{"a?c", "aéc"}, {"**a", "a"}, {"a*a", "a"}, {"*a?", "ab"}, {"?", "\xff"}, {"*é", "xé"}, {"G*", "g"},
		{"*?*?", "a"}, {"*?*?", "ab"}, {"a**b", "ab"}, {"*:*", "ram:x"}, {"*", ""},
	}
	for _, tc := range tests {
		for _, fold := range []bool{false, true} {
			pat := tc.pat
			if fold {
				pat = lowerASCII(pat)
			}
			p := compilePattern(tc.pat, fold)
			if got, want := p.match(tc.s), refMatch(pat, tc.s, fold); got != want {
				t.Errorf("compilePattern(%q, %v).match(%q) = %v, want %v", tc.pat, fold, tc.s, got, want)
			}
		}
	}
}

// FuzzPattern checks the compiled shapes and the glob matcher against the reference.
func FuzzPattern(f *testing.F) {
	f.Add("a*b?c", "aXXbYc", false)
	f.Add("*é?", "Xéé", true)
	f.Fuzz(func(t *testing.T, pat, s string, fold bool) {
		if len(pat) > 16 || len(s) > 32 || !utf8.ValidString(pat) {
			return // policy patterns are valid UTF-8; keep the reference fast
		}
		want := refMatch(pat, s, false)
		if fold {
			want = refMatch(lowerASCII(pat), s, true)
		}
		p := compilePattern(pat, fold)
		if got := p.match(s); got != want {
			t.Fatalf("compilePattern(%q, %v).match(%q) = %v, want %v", pat, fold, s, got, want)
		}
	})
}

package ram

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	h := HashPassword("Correct-Horse-Battery-42")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("HashPassword = %s, want a PHC argon2id string with t=2 m=19456 p=1", h)
	}
	if !VerifyPassword(h, "Correct-Horse-Battery-42") {
		t.Errorf("VerifyPassword(right) = false")
	}
	if VerifyPassword(h, "Correct-Horse-Battery-43") {
		t.Errorf("VerifyPassword(wrong) = true")
	}
	if h == HashPassword("Correct-Horse-Battery-42") {
		t.Errorf("two hashes of one password are equal: no salt")
	}
	long := strings.Repeat("x", 200) + "A"
	if VerifyPassword(HashPassword(long), strings.Repeat("x", 200)+"B") {
		t.Errorf("long passwords are truncated")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=x$AA$AA", "plain"} {
		if VerifyPassword(bad, "x") {
			t.Errorf("VerifyPassword(%q) = true", bad)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	strict := PasswordRules{MinLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true, Names: []string{"alice", "enterprise-a"}}
	cases := []struct {
		name  string
		pw    string
		rules PasswordRules
		ok    bool
	}{
		{"long random password accepted", "tY7#mQ2!pLx9", strict, true},
		{"too short refused", "tY7#mQ2!", strict, false},
		{"missing upper case refused", "ty7#mq2!plx9", strict, false},
		{"missing digit refused", "tYz#mQa!pLxq", strict, false},
		{"missing symbol refused", "tY7xmQ2zpLx9", strict, false},
		{"common password refused", "password1234", PasswordRules{MinLength: 8}, false},
		{"common word with digits and symbols refused", "Password123!", PasswordRules{MinLength: 8}, false},
		{"keyboard run refused", "qwertyuiop12", PasswordRules{MinLength: 8}, false},
		{"one repeated character refused", "aaaaaaaaaaaa", PasswordRules{MinLength: 8}, false},
		{"own user name refused", "my-Alice-pass-77", strict, false},
		{"account alias refused", "xx-enterprise-a-9Z!", strict, false},
		{"257 characters refused", strings.Repeat("aZ3!", 64) + "a", PasswordRules{MinLength: 8}, false},
		{"256 characters accepted", strings.Repeat("aZ3!", 64), PasswordRules{MinLength: 8}, true},
		{"control character refused", "tY7#mQ2!\x00pLx9", PasswordRules{MinLength: 8}, false},
		{"unicode counted in characters", "ñandú-ßüñ-çøł", PasswordRules{MinLength: 12}, true},
	}
	for _, tc := range cases {
		msg := CheckPassword(tc.pw, tc.rules)
		if (msg == "") != tc.ok {
			t.Errorf("%s: CheckPassword = %q, want ok=%v", tc.name, msg, tc.ok)
		}
	}
}

func TestCheckAlias(t *testing.T) {
	for alias, ok := range map[string]bool{
		"enterprise-a": true, "abc": true, "a1-b2-c3": true, strings.Repeat("a", 32): true,
		"ab": false, strings.Repeat("a", 33): false, "-abc": false, "abc-": false, "a--b": false, "Abc": false, "a_b": false, "a.b": false,
	} {
		if got := checkAlias(alias) == ""; got != ok {
			t.Errorf("checkAlias(%q) ok = %v, want %v", alias, got, ok)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Owner@Example.com": "owner@example.com", " a@b.co ": "a@b.co",
		"not-an-email": "", "a@b": "", "Name <a@b.co>": "", "": "",
	} {
		got, msg := normalizeEmail(in)
		if got != want || (want == "") != (msg != "") {
			t.Errorf("normalizeEmail(%q) = %q, %q; want %q", in, got, msg, want)
		}
	}
}

func BenchmarkVerifyPassword(b *testing.B) {
	h := HashPassword("Correct-Horse-Battery-42")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		VerifyPassword(h, "Correct-Horse-Battery-42")
	}
}

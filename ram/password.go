package ram

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (SPEC §8): t=2, m=19 MiB, p=1, 16-byte salt, 32-byte key.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
	// MaxPasswordLength is the longest password accepted; longer ones are refused, never truncated.
	MaxPasswordLength = 256
	// OwnerMinPasswordLength is the owner's minimum, whatever the policy says.
	OwnerMinPasswordLength = 12
)

// HashPassword returns the argon2id PHC string of password.
func HashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		panic("ram: no randomness: " + err.Error())
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// VerifyPassword reports whether password matches the PHC string, in constant time.
func VerifyPassword(phc, password string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

//go:embed common_passwords.txt
var commonPasswordsText string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordsText, "\n") {
		line = strings.TrimSpace(strings.ToLower(line))
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
}()

// PasswordRules is what a new password must satisfy: the account's password
// policy plus the identity's own names, which the password must not contain.
type PasswordRules struct {
	MinLength        int
	RequireLowercase bool
	RequireUppercase bool
	RequireNumbers   bool
	RequireSymbols   bool
	Names            []string
}

// CheckPassword returns a message for people when password breaks a rule,
// or "" when it is acceptable.
func CheckPassword(password string, r PasswordRules) string {
	n := utf8.RuneCountInString(password)
	if n < r.MinLength {
		return fmt.Sprintf("Use at least %d characters.", r.MinLength)
	}
	if n > MaxPasswordLength {
		return fmt.Sprintf("Use at most %d characters.", MaxPasswordLength)
	}
	var lower, upper, digit, symbol bool
	for _, c := range password {
		switch {
		case unicode.IsControl(c):
			return "Passwords cannot contain control characters."
		case unicode.IsLower(c):
			lower = true
		case unicode.IsUpper(c):
			upper = true
		case unicode.IsDigit(c):
			digit = true
		default:
			symbol = true
		}
	}
	var missing []string
	if r.RequireLowercase && !lower {
		missing = append(missing, "a lowercase letter")
	}
	if r.RequireUppercase && !upper {
		missing = append(missing, "an uppercase letter")
	}
	if r.RequireNumbers && !digit {
		missing = append(missing, "a number")
	}
	if r.RequireSymbols && !symbol {
		missing = append(missing, "a symbol")
	}
	if len(missing) > 0 {
		return "Include " + strings.Join(missing, ", ") + "."
	}
	if isCommonPassword(password) {
		return "This password is too common; choose one that is hard to guess."
	}
	lowered := strings.ToLower(password)
	for _, name := range r.Names {
		name = strings.ToLower(strings.TrimSpace(name))
		if len(name) >= 3 && strings.Contains(lowered, name) {
			return "Do not use your own names in your password."
		}
	}
	return ""
}

// isCommonPassword reports whether password is on the common list, also
// after removing the digits and symbols people add to a common word
// ("Password123!"), or is one character repeated.
func isCommonPassword(password string) bool {
	p := strings.ToLower(password)
	if commonPasswords[p] {
		return true
	}
	if strings.Count(p, string([]rune(p)[0])) == len(p) {
		return true
	}
	core := strings.TrimRightFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
	core = strings.TrimLeftFunc(core, func(r rune) bool { return !unicode.IsLetter(r) })
	if core != "" && commonPasswords[core] {
		return true
	}
	// Long runs of a keyboard or digit sequence are common whatever surrounds them.
	for _, seq := range []string{"0123456789", "1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"} {
		for i := 0; i+6 <= len(seq); i++ {
			if p == seq[i:] || strings.Contains(p, seq[i:i+6]) && len(strings.ReplaceAll(p, seq[i:i+6], "")) < 4 {
				return true
			}
		}
	}
	return false
}

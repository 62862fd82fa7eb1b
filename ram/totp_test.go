package ram

import (
	"testing"
	"time"
)

// RFC 6238 SHA-1 vectors, truncated to the 6 digits an authenticator shows
// (shared/reference/signature-vectors.md).
func TestTOTPVectors(t *testing.T) {
	seed := []byte("12345678901234567890")
	cases := []struct {
		unix int64
		want string
	}{
		{59, "287082"},
		{1111111109, "081804"},
		{1111111111, "050471"},
		{1234567890, "005924"},
		{2000000000, "279037"},
		{20000000000, "353130"},
	}
	for _, tc := range cases {
		if got := TOTPCode(seed, TOTPStep(time.Unix(tc.unix, 0))); got != tc.want {
			t.Errorf("TOTPCode(T=%d) = %s, want %s", tc.unix, got, tc.want)
		}
	}
	if s, err := DecodeTOTPSecret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"); err != nil || string(s) != string(seed) {
		t.Errorf("DecodeTOTPSecret = %q, %v", s, err)
	}
}

func TestTOTPWindow(t *testing.T) {
	seed := []byte("12345678901234567890")
	now := time.Unix(1234567890, 0)
	cur := TOTPStep(now)
	cases := []struct {
		name   string
		offset int64
		ok     bool
	}{
		{"current step accepted", 0, true},
		{"previous step accepted", -1, true},
		{"next step accepted", 1, true},
		{"two steps old refused", -2, false},
		{"two steps ahead refused", 2, false},
	}
	for _, tc := range cases {
		step, ok := matchStep(seed, TOTPCode(seed, cur+tc.offset), now)
		if ok != tc.ok || ok && step != cur+tc.offset {
			t.Errorf("%s: matchStep = %d, %v", tc.name, step, ok)
		}
	}
	if _, ok := matchStep(seed, "12345", now); ok {
		t.Errorf("a 5-digit code matched")
	}
	if _, ok := matchStep(seed, "abcdef", now); ok {
		t.Errorf("letters matched")
	}
	if last, ok := matchConsecutive(seed, TOTPCode(seed, cur-1), TOTPCode(seed, cur), now); !ok || last != cur {
		t.Errorf("consecutive previous+current = %d %v", last, ok)
	}
	if last, ok := matchConsecutive(seed, TOTPCode(seed, cur), TOTPCode(seed, cur+1), now); !ok || last != cur+1 {
		t.Errorf("consecutive current+next = %d %v", last, ok)
	}
	if _, ok := matchConsecutive(seed, TOTPCode(seed, cur), TOTPCode(seed, cur), now); ok {
		t.Errorf("the same code twice bound")
	}
	if _, ok := matchConsecutive(seed, TOTPCode(seed, cur+1), TOTPCode(seed, cur), now); ok {
		t.Errorf("codes in reverse order bound")
	}
}

func TestEnrollment(t *testing.T) {
	en, err := enrollment([]byte("12345678901234567890"), "ramconsole enterprise-a", "owner@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if en.Secret != "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" {
		t.Errorf("Secret = %s", en.Secret)
	}
	if want := "otpauth://totp/"; len(en.URI) < len(want) || en.URI[:len(want)] != want {
		t.Errorf("URI = %s", en.URI)
	}
	if len(en.QRCodePNG) < 100 {
		t.Errorf("QR code PNG is %d bytes of base64", len(en.QRCodePNG))
	}
}

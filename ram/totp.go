package ram

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"image/png"
	"net/url"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters (RFC 6238 as RAM uses it): SHA-1, 6 digits, 30-second steps, 20-byte seeds.
const (
	totpPeriod   = 30
	totpSeedSize = 20
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSeed returns a fresh random seed.
func NewTOTPSeed() []byte {
	seed := make([]byte, totpSeedSize)
	if _, err := rand.Read(seed); err != nil {
		panic("ram: no randomness: " + err.Error())
	}
	return seed
}

// TOTPStep is the time step t falls in.
func TOTPStep(t time.Time) int64 { return t.Unix() / totpPeriod }

// TOTPCode is the 6-digit code of seed at a step.
func TOTPCode(seed []byte, step int64) string {
	code, err := totp.GenerateCodeCustom(base32NoPad.EncodeToString(seed), time.Unix(step*totpPeriod, 0), totpOpts)
	if err != nil {
		// Only a malformed Base32 secret fails, and we encode it ourselves.
		panic("ram: totp: " + err.Error())
	}
	return code
}

// matchStep finds the step among the previous, current and next one whose
// code is code; ok is false when none is.
func matchStep(seed []byte, code string, now time.Time) (step int64, ok bool) {
	if !isSixDigits(code) {
		return 0, false
	}
	cur := TOTPStep(now)
	for _, s := range []int64{cur - 1, cur, cur + 1} {
		if TOTPCode(seed, s) == code {
			return s, true
		}
	}
	return 0, false
}

// matchConsecutive finds two adjacent steps s, s+1 within the previous,
// current and next step whose codes are code1 and code2.
func matchConsecutive(seed []byte, code1, code2 string, now time.Time) (last int64, ok bool) {
	if !isSixDigits(code1) || !isSixDigits(code2) {
		return 0, false
	}
	cur := TOTPStep(now)
	for _, s := range []int64{cur - 1, cur} {
		if TOTPCode(seed, s) == code1 && TOTPCode(seed, s+1) == code2 {
			return s + 1, true
		}
	}
	return 0, false
}

func isSixDigits(s string) bool {
	if len(s) != 6 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MFAEnrollment is what a person needs to add a seed to an authenticator app.
type MFAEnrollment struct {
	Secret    string // Base32, no padding
	URI       string // otpauth://totp/...
	QRCodePNG string // base64 PNG
}

// enrollment describes seed for an authenticator app, labelled issuer:account.
func enrollment(seed []byte, issuer, account string) (MFAEnrollment, error) {
	secret := base32NoPad.EncodeToString(seed)
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", "6")
	q.Set("period", "30")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: q.Encode()}
	key, err := otp.NewKeyFromURL(u.String())
	if err != nil {
		return MFAEnrollment{}, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return MFAEnrollment{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return MFAEnrollment{}, err
	}
	return MFAEnrollment{Secret: secret, URI: u.String(), QRCodePNG: base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// DecodeTOTPSecret decodes a Base32 secret as shown to people.
func DecodeTOTPSecret(secret string) ([]byte, error) {
	return base32NoPad.DecodeString(secret)
}

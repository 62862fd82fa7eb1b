package web

import (
	"net/url"
	"testing"
	"time"
)

// BenchmarkLogin is one full owner sign-in through HTTP: the sign-in form,
// the password step (argon2id), the MFA form and the code step.
func BenchmarkLogin(b *testing.B) {
	h := newHarness(b)
	_, secret := h.setupOwner()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.clock.Advance(30 * time.Second)
		br := h.browser()
		br.get("/login")
		p := br.post("/login", url.Values{"username": {testOwnerEmail}, "password": {testOwnerPW}})
		if p.header.Get("Location") != "/login/mfa" {
			b.Fatalf("password step: %d %s", p.status, p.header.Get("Location"))
		}
		br.get("/login/mfa")
		p = br.post("/login/mfa", url.Values{"code": {h.code(secret, 0)}})
		if p.header.Get("Location") != "/" {
			b.Fatalf("MFA step: %d %s", p.status, p.header.Get("Location"))
		}
	}
}

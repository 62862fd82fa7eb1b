package main

import (
	"bytes"
	"strings"
	"testing"
)

// Every flag of serve also comes from a RAMCONSOLE_* variable (make run
// ARGS="…" or the environment); a malformed value stops serve with a
// message naming it.
func TestServeFlagsFromTheEnvironment(t *testing.T) {
	for _, tc := range []struct{ env, value, want string }{
		{"RAMCONSOLE_SECURE_COOKIES", "maybe", "RAMCONSOLE_SECURE_COOKIES must be true or false"},
		{"RAMCONSOLE_TLS_CERT", "cert.pem", "--tls-cert and --tls-key go together"},
		{"RAMCONSOLE_TLS_KEY", "key.pem", "--tls-cert and --tls-key go together"},
		{"RAMCONSOLE_AUDIT_RETENTION", "soon", "RAMCONSOLE_AUDIT_RETENTION must be a number of days"},
		{"RAMCONSOLE_PUBLIC_URL", "ram.example.com", "--public-url"},
		{"RAMCONSOLE_PUBLIC_URL", "https://ram.example.com/console", "--public-url"},
		{"RAMCONSOLE_PUBLIC_URL", "https://ram.example.com/?x=1", "--public-url"},
		{"RAMCONSOLE_OUTBOUND_PROXY", "proxy.internal:3128", "--outbound-proxy"},
	} {
		t.Run(tc.env+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.env, tc.value)
			var out, errOut bytes.Buffer
			if code := run([]string{"serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0"}, &out, &errOut); code == 0 ||
				!strings.Contains(errOut.String(), tc.want) {
				t.Errorf("%s=%s: exit %d, stderr %q; want a failure saying %q", tc.env, tc.value, code, errOut.String(), tc.want)
			}
		})
	}
}

package static

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestWebAuthnJS checks that the ceremony script is embedded, served under a
// content-hashed URL, and stays within the console's CSP: no network request
// of its own, no evaluated code, no markup or inline styles.
func TestWebAuthnJS(t *testing.T) {
	src, err := fs.ReadFile(FS, "webauthn.js")
	if err != nil {
		t.Fatalf("webauthn.js is not embedded: %v", err)
	}

	url := URL("webauthn.js")
	if !regexp.MustCompile(`^/static/[0-9a-f]{12}/webauthn\.js$`).MatchString(url) {
		t.Fatalf("URL(webauthn.js) = %q, want /static/<12 hex>/webauthn.js", url)
	}
	name, ok := Lookup(strings.TrimPrefix(url, Prefix))
	if !ok || name != "webauthn.js" {
		t.Fatalf("Lookup(%q) = %q, %v; want webauthn.js, true", url, name, ok)
	}

	for _, banned := range []string{
		"fetch(", "XMLHttpRequest", "WebSocket", "sendBeacon", "EventSource",
		"eval(", "Function(", "import(", "innerHTML", ".style",
	} {
		if strings.Contains(string(src), banned) {
			t.Errorf("webauthn.js contains %q", banned)
		}
	}
}

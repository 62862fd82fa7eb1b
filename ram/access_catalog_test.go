package ram

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every action ramconsole authorises is one the access review knows, so a
// principal granted it sees it listed, used or not.
func TestKnownActionsCoverEveryAuthorisedAction(t *testing.T) {
	known := map[string]bool{}
	for _, a := range knownActions {
		if known[strings.ToLower(a)] {
			t.Errorf("%s is listed twice", a)
		}
		known[strings.ToLower(a)] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	constant := regexp.MustCompile(`"((?:ram|sts|ims|gateway|actiontrail):[A-Z][A-Za-z]+)"`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range constant.FindAllStringSubmatch(string(src), -1) {
			if a := m[1]; !known[strings.ToLower(a)] && !strings.HasSuffix(a, "To") && !strings.HasSuffix(a, "From") && !strings.HasSuffix(a, "For") {
				t.Errorf("%s (in %s) is not in knownActions", a, f)
			}
		}
	}
}

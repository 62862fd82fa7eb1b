package web

import (
	"net/url"
	"strings"
	"testing"
)

// A one-time download token (its holder may take a secret) never reaches
// the request log: the log names the route's pattern instead.
func TestOneTimeTokensStayOutOfTheLog(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	created := owner.post("/users", url.Values{"name": {"robot"}, "create_access_key": {"true"}})
	expectHandover(t, created, "create robot")
	loc := created.header.Get("Location")
	p := owner.follow(created)
	href := find(t, csvHrefRE, p.body, "CSV link")
	expectStatus(t, owner.get(href), 200, "the AccessKey CSV")
	token := href[strings.LastIndexByte(href, '/')+1:]
	sheet := loc[strings.LastIndexByte(loc, '/')+1:]
	h.logsMu.Lock()
	logs := h.logs.String()
	h.logsMu.Unlock()
	for what, secret := range map[string]string{"download token": token, "hand-over token": sheet} {
		if len(secret) < 16 || strings.Contains(logs, secret) {
			t.Errorf("the %s %q is in the request log", what, secret)
		}
	}
	if !strings.Contains(logs, "path=/accesskeys/download/:token") {
		t.Errorf("the download is not logged by its route")
	}
}

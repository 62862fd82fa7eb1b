package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"ramconsole/store"
)

// BenchmarkLogin is one full owner sign-in through HTTP: the sign-in form,
// the password step (argon2id), the MFA form and the code step.
func BenchmarkLogin(b *testing.B) {
	// It signs in from one address far faster than a person: the
	// per-address limit is lifted (it still runs) so that it measures sign-in.
	h := newHarnessConfig(b, Config{SignInRate: 1e6, SignInBurst: 1e6})
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

// seedDirectory fills the store with users and groups straight through the
// store (fast), each user in up to three groups.
func seedDirectory(b *testing.B, h *harness, users, groups int) {
	b.Helper()
	ctx := context.Background()
	err := h.st.Update(ctx, func(tx *store.Tx) error {
		var gids []string
		for i := 0; i < groups; i++ {
			g := &store.Group{GroupID: fmt.Sprintf("g-seed%05d", i), GroupName: fmt.Sprintf("group-%03d", i)}
			if err := tx.CreateGroup(ctx, g); err != nil {
				return err
			}
			gids = append(gids, g.GroupID)
		}
		for i := 0; i < users; i++ {
			u := &store.User{UserID: fmt.Sprintf("9%015d", i), UserName: fmt.Sprintf("user-%05d", i), DisplayName: fmt.Sprintf("Employee %05d", i)}
			if err := tx.CreateUser(ctx, u); err != nil {
				return err
			}
			for j := 0; j < 3 && groups > 0; j++ {
				if err := tx.AddMember(ctx, gids[(i+j*97)%groups], u.UserID); err != nil && err != store.ErrConflict {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// serve runs one request through the app in-process (server-side time only).
func (br *browser) serve(b *testing.B, method, path string) {
	req := httptest.NewRequest(method, path, nil)
	u, _ := url.Parse(br.h.srv.URL)
	for _, c := range br.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	br.h.app.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s %s = %d", method, path, rec.Code)
	}
}

// BenchmarkDirectoryPages: with 5,000 users and 300 groups, the users list
// (first page, a search) and a user's page, server-side.
func BenchmarkDirectoryPages(b *testing.B) {
	h := newHarness(b)
	owner, _ := h.setupOwner()
	seedDirectory(b, h, 5000, 300)
	for _, bc := range []struct{ name, path string }{
		{"users-first-page", "/users"},
		{"users-search", "/users?q=user-049"},
		{"users-page-after", "/users?marker=" + url.QueryEscape("dXNlci0wMjUwMA")},
		{"users-sort-created", "/users?sort=created"},
		{"users-sort-last-login", "/users?sort=last_login"},
		{"users-sort-created-search", "/users?sort=created&q=user-0"},
		{"user-detail", "/users/user-02500"},
		{"groups-first-page", "/groups"},
		{"group-detail", "/groups/group-150"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				owner.serve(b, http.MethodGet, bc.path)
			}
		})
	}
}

// BenchmarkPageAsRAMUser: the same page as the owner and as a RAM user whose
// 10 policies come through 3 groups (the authorisation cost).
func BenchmarkPageAsRAMUser(b *testing.B) {
	h := newHarness(b)
	owner, _ := h.setupOwner()
	seedDirectory(b, h, 200, 0)
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"ria"}, "console_login": {"true"}, "password": {ramUserPW}})
	for g := 0; g < 3; g++ {
		gname := fmt.Sprintf("team-%d", g)
		owner.get("/groups/new")
		owner.post("/groups", url.Values{"name": {gname}})
		owner.get("/groups/" + gname)
		owner.post("/groups/"+gname+"/members", url.Values{"user": {"ria"}})
		for p := 0; p < 4 && g*4+p < 10; p++ {
			pname := fmt.Sprintf("P%d", g*4+p)
			doc := fmt.Sprintf(`{"Version":"1","Statement":[
				{"Effect":"Allow","Action":["ecs:Describe*","ecs:Start*"],"Resource":"acs:ecs:*:*:instance/i-%d*"},
				{"Effect":"Allow","Action":"oss:Get*","Resource":"acs:oss:*:*:bucket-%d/*"},
				{"Effect":"Deny","Action":"ram:Delete*","Resource":"*","Condition":{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}},
				{"Effect":"Allow","Action":"ram:List*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"false"}}},
				{"Effect":"Allow","Action":["ram:Get*"],"Resource":"acs:ram:*:*:user/*"}]}`, g*4+p, g*4+p)
			owner.get("/policies/new")
			owner.post("/policies", url.Values{"name": {pname}, "document": {doc}})
			owner.get("/groups/" + gname)
			owner.post("/groups/"+gname+"/policies", url.Values{"policy_type": {"Custom"}, "policy_name": {pname}})
		}
	}
	ria := h.browser()
	ria.get("/login")
	ria.post("/login", url.Values{"username": {"ria"}, "password": {ramUserPW}})
	ria.get("/me")
	for _, who := range []struct {
		name string
		b    *browser
	}{{"owner", owner}, {"ram-user-10-policies-3-groups", ria}} {
		b.Run("users-list/"+who.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				who.b.serve(b, http.MethodGet, "/users")
			}
		})
	}
}

// BenchmarkSimulatorDraft: the simulator's answer for a 50-statement draft.
func BenchmarkSimulatorDraft(b *testing.B) {
	h := newHarness(b)
	owner, _ := h.setupOwner()
	owner.get("/users/new")
	owner.post("/users", url.Values{"name": {"sim"}})
	var stmts []string
	for i := 0; i < 50; i++ {
		if i%2 == 0 {
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":"ecs:Start*","Resource":"acs:ecs:*:*:instance/i-%03d*"}`, i))
		} else {
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":"10.%d.0.0/16"}}}`, i))
		}
	}
	draft := `{"Version":"1","Statement":[` + strings.Join(stmts, ",") + `]}`
	form := url.Values{"user": {"sim"}, "action": {"ecs:StartInstance"}, "resource": {"acs:ecs:*:*:instance/i-048x"}, "source_ip": {"10.49.1.1"}, "document": {draft}}
	owner.get("/simulator")
	form.Set("csrf_token", owner.csrf)
	u, _ := url.Parse(h.srv.URL)
	body := form.Encode()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/simulator", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		for _, c := range owner.c.Jar.Cookies(u) {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		h.app.ServeHTTP(rec, req)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"decision":"Allow"`) {
			b.Fatalf("simulator: %d %s", rec.Code, rec.Body.String())
		}
	}
}

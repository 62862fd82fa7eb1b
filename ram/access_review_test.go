package ram

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// counted runs op as a request would: with an event mark, so its
// decisions are counted.
func (e *testEnv) counted(t *testing.T, op func(ctx2 *testEnv) error) {
	t.Helper()
	ctx, _ := WithEventMark(e.ctx)
	e2 := *e
	e2.ctx = ctx
	_ = op(&e2)
}

func TestAccessReviewCountsAndRebuilds(t *testing.T) {
	e := newTestEnv(t)
	alice := e.member(t, "alice", "AliyunRAMReadOnlyAccess")
	if _, err := e.svc.CreatePolicy(e.ctx, e.owner, "edit-self", doc(allow([]string{"acs:ram:*:*:user/alice"}, "ram:UpdateUser")), ""); err != nil {
		t.Fatal(err)
	}
	e.attach(t, kindUser, PolicyTypeCustom, "edit-self", "alice")
	e.counted(t, func(x *testEnv) error {
		return ignore(x.svc.UpdateUser(x.ctx, alice, "alice", UserUpdate{NewComments: ptr("a")}))
	})
	e.counted(t, func(x *testEnv) error {
		return ignore(x.svc.UpdateUser(x.ctx, alice, "alice", UserUpdate{NewComments: ptr("b")}))
	})
	e.counted(t, func(x *testEnv) error { return ignore(x.svc.CreateUser(x.ctx, alice, UserInput{UserName: "bob"})) })
	w, err := e.svc.AccessWindow("")
	if err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.PrincipalAccess(e.ctx, e.owner, AccessUser, "alice", w)
	if err != nil {
		t.Fatal(err)
	}
	byAction := map[string]AccessAction{}
	for _, a := range page.Actions {
		byAction[a.Action] = a
	}
	if g := byAction["ram:UpdateUser"]; g.AllowedCount != 2 || !g.Granted || !slices.Equal(g.Resources, []string{"acs:ram:*:" + e.svc.AccountID(e.ctx) + ":user/alice"}) {
		t.Fatalf("UpdateUser: %+v", g)
	}
	if c := byAction["ram:CreateUser"]; c.DeniedCount != 1 || c.Granted || c.AllowedCount != 0 {
		t.Fatalf("CreateUser: %+v", c)
	}
	if l := byAction["ram:ListUsers"]; !l.Granted || l.Used() {
		t.Fatalf("ListUsers granted, never used: %+v", l)
	}
	pol, err := e.svc.PolicyAccess(e.ctx, e.owner, PolicyTypeCustom, "edit-self", w)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal([]any{page, pol})
	if pol.Statements[0].Count != 2 || len(pol.Statements[0].Principals) != 1 || pol.Statements[0].Principals[0].Name != "alice" {
		t.Fatalf("statement use: %+v", pol.Statements)
	}
	n, err := e.st.RebuildAccess(e.ctx, "")
	if err != nil || n == 0 {
		t.Fatalf("rebuild: %d %v", n, err)
	}
	page2, _ := e.svc.PrincipalAccess(e.ctx, e.owner, AccessUser, "alice", w)
	pol2, _ := e.svc.PolicyAccess(e.ctx, e.owner, PolicyTypeCustom, "edit-self", w)
	after, _ := json.Marshal([]any{page2, pol2})
	if string(before) != string(after) {
		t.Fatalf("rebuild differs:\n%s\n%s", before, after)
	}
	d, err := e.svc.GeneratePolicy(e.ctx, e.owner, "user/alice", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if d.Observed != 1 || !d.Proven() || len(d.Denied) != 1 {
		t.Fatalf("draft: %+v", d)
	}
	t.Log(d.Document)
	u, err := e.svc.UnusedAccess(e.ctx, e.owner, w, "json")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", u)
}

// With an audit retention under 90 days, the pages' default window and the
// draft's default period are what is kept, and a longer one is refused.
func TestAccessWindowWithinRetention(t *testing.T) {
	e := newTestEnv(t)
	e.member(t, "alice")
	e.svc.SetAuditRetention(30)
	w, err := e.svc.AccessWindow("")
	if err != nil || w.Days != 30 {
		t.Fatalf("default window = %+v, %v; want 30 days", w, err)
	}
	if _, err := e.svc.AccessWindow("31"); err == nil {
		t.Fatal("a window beyond the retention was accepted")
	}
	d, err := e.svc.GeneratePolicy(e.ctx, e.owner, "user/alice", "", "")
	if err != nil || d.To.Sub(d.From) > 30*24*time.Hour {
		t.Fatalf("default draft period = %v – %v, %v", d.From, d.To, err)
	}
	if _, err := e.svc.GeneratePolicy(e.ctx, e.owner, "user/alice", e.clock.Now().AddDate(0, 0, -40).Format(time.DateOnly), ""); err == nil {
		t.Fatal("a draft from before the retention was accepted")
	}
}

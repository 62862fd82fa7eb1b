package web

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"ramconsole/store"
)

// TestMainPagesStaySmall: with a full directory (hundreds of users and the
// account's 300 groups), every main page is under 50 KB of HTML.
func TestMainPagesStaySmall(t *testing.T) {
	h := newHarness(t)
	owner, _ := h.setupOwner()
	seedUsers(t, h, 200)
	ctx := context.Background()
	err := h.st.Update(ctx, func(tx *store.Tx) error {
		for i := 0; i < 300; i++ {
			if err := tx.CreateGroup(ctx, &store.Group{GroupID: fmt.Sprintf("g-size%05d", i), GroupName: fmt.Sprintf("group-with-a-long-name-%03d", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	h.createEmployee(owner, "emp")
	owner.get("/groups/group-with-a-long-name-001")
	owner.post("/groups/group-with-a-long-name-001/members", url.Values{"user": {"emp"}})
	for _, path := range []string{"/", "/users", "/users?sort=created", "/users/emp", "/groups", "/groups/group-with-a-long-name-001",
		"/groups/group-with-a-long-name-001/members/add", "/policies", "/policies/System/AdministratorAccess", "/permissions/new",
		"/permissions/new?kind=group&pq=group", "/simulator", "/audit", "/settings", "/roles", "/services"} {
		p := owner.get(path)
		expectStatus(t, p, 200, path)
		if n := len(p.body); n >= 50*1024 {
			t.Errorf("%s is %d bytes of HTML, want under 50 KB", path, n)
		} else {
			t.Logf("%s: %d bytes", path, n)
		}
	}
}

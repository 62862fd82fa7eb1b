package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"ramconsole/store"
)

// BenchmarkGrantsPage: the grants page at 5,000 users with 10 policies each
// (50,000 attachments: five system and five custom policies a user), server
// side — the first page, later pages, each filter, as the owner and as a
// read-only RAM user (whose page also decides each row's revoke link).
func BenchmarkGrantsPage(b *testing.B) {
	h := newHarness(b)
	owner, _ := h.setupOwner()
	// The read-only viewer is the 5,000th user (the account's limit).
	reader := h.ramUser(owner, "reader", []string{"AliyunRAMReadOnlyAccess"}, nil)
	seedDirectory(b, h, 4999, 300)
	ctx := context.Background()
	r, err := h.st.UserByName(ctx, "reader")
	if err != nil {
		b.Fatal(err)
	}
	system := []string{"AliyunECSReadOnlyAccess", "AliyunOSSReadOnlyAccess", "AliyunRDSReadOnlyAccess", "AliyunLogReadOnlyAccess", "AliyunVPCReadOnlyAccess"}
	err = h.st.Update(ctx, func(tx *store.Tx) error {
		for i := 0; i < 5; i++ {
			p := &store.CustomPolicy{PolicyName: fmt.Sprintf("Team-%d", i)}
			if err := tx.CreateCustomPolicy(ctx, p, `{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}`); err != nil {
				return err
			}
		}
		for u := 0; u < 5000; u++ {
			id := fmt.Sprintf("9%015d", u)
			if u == 4999 {
				id = r.UserID
			}
			for i := 0; i < 5; i++ {
				if u == 4999 && i == 0 {
					// The reader's tenth policy is AliyunRAMReadOnlyAccess.
				} else if err := tx.Attach(ctx, store.Attachment{PolicyType: "System", PolicyName: system[i], UserID: id}); err != nil {
					return err
				}
				if err := tx.Attach(ctx, store.Attachment{PolicyType: "Custom", PolicyName: fmt.Sprintf("Team-%d", i), UserID: id}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if h.database != "" {
		// What autovacuum does soon after a bulk load: without statistics
		// PostgreSQL's planner guesses the filters' selectivity.
		if _, err := h.openDB().Exec("ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	cursor := func(br *browser) string { // a cursor from the middle of the list
		p := br.getJSON("/grants?q=user-025")
		var doc struct{ Next string }
		if err := json.Unmarshal([]byte(p.body), &doc); err != nil || doc.Next == "" {
			b.Fatalf("no cursor: %s", p.body)
		}
		return doc.Next
	}
	mid := cursor(owner)
	for _, bc := range []struct {
		name, path string
		who        *browser
	}{
		{"first-page", "/grants", owner},
		{"later-page", "/grants?cursor=" + url.QueryEscape(mid), owner},
		{"principal-type", "/grants?principal_type=group", owner},
		{"policy-type", "/grants?policy_type=Custom", owner},
		// No group holds a policy: the worst case, a walk of every custom grant.
		{"principal-and-policy-type", "/grants?principal_type=group&policy_type=Custom", owner},
		{"policy", "/grants?policy=AliyunRDSReadOnlyAccess", owner},
		{"search-user", "/grants?q=user-0499", owner},
		{"search-policy", "/grants?q=team-3", owner},
		{"search-nothing", "/grants?q=no-such-name", owner},
		{"read-only-first-page", "/grants", reader},
		{"read-only-search", "/grants?q=user-0499", reader},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				bc.who.serve(b, http.MethodGet, bc.path)
			}
		})
	}
}

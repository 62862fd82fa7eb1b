package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"ramconsole/store/pgtest"
)

// seedGrants writes users, groups and roles with policies attached, in one
// transaction: users × perUser attachments (System and Custom policies in
// turn), and two attachments for each group and role.
func seedGrants(tb testing.TB, s *Store, users, perUser, groups, roles int) {
	tb.Helper()
	ctx := context.Background()
	err := s.Update(ctx, func(tx *Tx) error {
		for i := 0; i < perUser; i++ {
			if err := tx.CreateCustomPolicy(ctx, &CustomPolicy{PolicyName: fmt.Sprintf("Custom-%02d", i)}, `{"Version":"1","Statement":[]}`); err != nil {
				return err
			}
		}
		policy := func(i int) (string, string) {
			if i%2 == 0 {
				return "System", fmt.Sprintf("System-%02d", i)
			}
			return "Custom", fmt.Sprintf("Custom-%02d", i)
		}
		for u := 0; u < users; u++ {
			id := fmt.Sprintf("8%015d", u)
			if err := tx.CreateUser(ctx, &User{UserID: id, UserName: fmt.Sprintf("user-%05d", u), DisplayName: "Employee"}); err != nil {
				return err
			}
			for i := 0; i < perUser; i++ {
				t, n := policy(i)
				if err := tx.Attach(ctx, Attachment{PolicyType: t, PolicyName: n, UserID: id}); err != nil {
					return err
				}
			}
		}
		for g := 0; g < groups; g++ {
			id := fmt.Sprintf("g-%05d", g)
			if err := tx.CreateGroup(ctx, &Group{GroupID: id, GroupName: fmt.Sprintf("team-%03d", g)}); err != nil {
				return err
			}
			for i := 0; i < 2; i++ {
				t, n := policy(i)
				if err := tx.Attach(ctx, Attachment{PolicyType: t, PolicyName: n, GroupID: id}); err != nil {
					return err
				}
			}
		}
		for r := 0; r < roles; r++ {
			id := fmt.Sprintf("3%017d", r)
			if err := tx.CreateRole(ctx, &Role{RoleID: id, RoleName: fmt.Sprintf("ops-%03d", r), AssumeRolePolicy: "{}", MaxSessionDuration: 3600}); err != nil {
				return err
			}
			for i := 2; i < 4; i++ {
				t, n := policy(i)
				if err := tx.Attach(ctx, Attachment{PolicyType: t, PolicyName: n, RoleID: id}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
}

var allKinds = []string{GrantUser, GrantGroup, GrantRole}

func grantNames(gs []Grant) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.PrincipalType + "/" + g.PrincipalName + ":" + g.PolicyType + "/" + g.PolicyName
	}
	return out
}

func TestGrantsFiltersAndPaging(t *testing.T) {
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	s, _ := openTest(t, func() time.Time { return now })
	ctx := context.Background()
	seedGrants(t, s, 3, 4, 2, 1) // 12 user, 4 group and 2 role attachments
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.CreateUser(ctx, &User{UserID: "8999999999999999", UserName: "a_b", DisplayName: "x"}); err != nil {
			return err
		}
		return tx.Attach(ctx, Attachment{PolicyType: "System", PolicyName: "System-00", UserID: "8999999999999999"})
	})
	if err != nil {
		t.Fatal(err)
	}

	all, err := s.Grants(ctx, GrantFilter{Kinds: allKinds, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 19 {
		t.Fatalf("Grants(all) = %d rows, want 19: %v", len(all), grantNames(all))
	}
	if got := grantNames(all[:1])[0]; got != "user/a_b:System/System-00" {
		t.Errorf("newest grant = %s, want the last attachment first", got)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("grants not newest first at %d: %d after %d", i, all[i].ID, all[i-1].ID)
		}
	}
	if !all[0].AttachedAt.Equal(now) {
		t.Errorf("AttachedAt = %v, want %v", all[0].AttachedAt, now)
	}

	count := func(f GrantFilter) []Grant {
		t.Helper()
		f.Limit = 100
		gs, err := s.Grants(ctx, f)
		if err != nil {
			t.Fatalf("Grants(%+v): %v", f, err)
		}
		return gs
	}
	for _, tc := range []struct {
		rule string
		f    GrantFilter
		want int
	}{
		{"a principal kind keeps that kind only", GrantFilter{Kinds: []string{GrantRole}}, 2},
		{"two kinds keep both", GrantFilter{Kinds: []string{GrantGroup, GrantRole}}, 6},
		{"no kind keeps nothing", GrantFilter{}, 0},
		{"a policy type keeps that type", GrantFilter{Kinds: allKinds, PolicyType: "Custom"}, 9},
		{"a policy name is exact", GrantFilter{Kinds: allKinds, PolicyName: "System-00"}, 6},
		{"a policy name is not a prefix", GrantFilter{Kinds: allKinds, PolicyName: "System-0"}, 0},
		{"type and name together", GrantFilter{Kinds: allKinds, PolicyType: "Custom", PolicyName: "System-00"}, 0},
		{"the search finds a user's name anywhere in it, ignoring case", GrantFilter{Kinds: allKinds, Query: "R-00001"}, 4},
		{"the search finds a policy's name", GrantFilter{Kinds: allKinds, Query: "custom-03"}, 4},
		{"the search finds a group's name", GrantFilter{Kinds: allKinds, Query: "TEAM"}, 4},
		{"the search finds a role's name", GrantFilter{Kinds: allKinds, Query: "s-00"}, 2},
		{"the search's underscore is a character, not a wildcard", GrantFilter{Kinds: allKinds, Query: "_"}, 1},
		{"the search's percent sign is a character", GrantFilter{Kinds: allKinds, Query: "%"}, 0},
		{"the search within a kind", GrantFilter{Kinds: []string{GrantGroup}, Query: "team-001"}, 2},
	} {
		if got := count(tc.f); len(got) != tc.want {
			t.Errorf("%s: Grants(%+v) = %d rows %v, want %d", tc.rule, tc.f, len(got), grantNames(got), tc.want)
		}
	}

	// Pages of 5 walk every grant once, in order.
	var walked []Grant
	before := int64(0)
	for range 10 {
		page, err := s.Grants(ctx, GrantFilter{Kinds: allKinds, Before: before, Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, page...)
		if len(page) < 5 {
			break
		}
		before = page[len(page)-1].ID
	}
	if fmt.Sprint(grantNames(walked)) != fmt.Sprint(grantNames(all)) {
		t.Errorf("paged walk = %v, want %v", grantNames(walked), grantNames(all))
	}
}

// BenchmarkGrants: one page of the grants query at 5,000 users with 10
// policies each (50,000 attachments), first and filtered pages.
func BenchmarkGrants(b *testing.B) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "data"), nil, WithDatabase(pgtest.Database(b)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	seedGrants(b, s, 5000, 10, 300, 50)
	ctx := context.Background()
	if s.pg {
		// What autovacuum does soon after a bulk load.
		if _, err := s.write.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		f    GrantFilter
	}{
		{"first-page", GrantFilter{Kinds: allKinds}},
		{"later-page", GrantFilter{Kinds: allKinds, Before: 25000}},
		{"users", GrantFilter{Kinds: []string{GrantUser}}},
		{"groups", GrantFilter{Kinds: []string{GrantGroup}}},
		{"groups-and-roles", GrantFilter{Kinds: []string{GrantGroup, GrantRole}}},
		{"roles", GrantFilter{Kinds: []string{GrantRole}}},
		{"policy", GrantFilter{Kinds: allKinds, PolicyName: "Custom-03"}},
		{"custom", GrantFilter{Kinds: allKinds, PolicyType: "Custom"}},
		{"custom-policy", GrantFilter{Kinds: allKinds, PolicyType: "Custom", PolicyName: "Custom-03"}},
		{"role-custom", GrantFilter{Kinds: []string{GrantRole}, PolicyType: "Custom"}},
		{"search-principal", GrantFilter{Kinds: allKinds, Query: "user-0499"}},
		{"search-policy", GrantFilter{Kinds: allKinds, Query: "custom-07"}},
		{"search-nothing", GrantFilter{Kinds: allKinds, Query: "no-such-name"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.f.Limit = 51
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := s.Grants(ctx, bc.f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package ram

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ramconsole/policy"
	"ramconsole/store"
)

// The access review's figures (SPEC §16.2): every access page and the
// unused list at 1,000,000 counted events over 5,000 users (50,000 events
// with -short), and a full rebuild of the rollups from those events.
//
//	go test -run '^$' -bench 'AccessPages' -benchtime 50x ./ram/
//	go test -run '^$' -bench 'AccessRebuild' -benchtime 1x ./ram/
//	go test -short -run '^$' -bench 'AccessPages' -benchtime 20x ./ram/
//
// Each page is timed as the service answers it (its view event recorded
// included, the HTML or JSON rendering not); p50-ms is the median.
//
// The account is seeded once and kept under os.TempDir() for the day
// (seeding 1,000,000 events takes minutes): every event goes through the
// service's decision (decideCounted, or GatewayDecide for the gateway's
// services) and its record (RecordAPICall: the journal, folded with its
// rollups), and roles are assumed with AssumeRole, so the rollups are the
// ones a running server keeps. Later runs open the same directory; the
// pages' own view events are added to it.

// accessBenchVersion names the seed: change it when the seed changes.
const accessBenchVersion = "2"

const (
	benchUsers       = 5000 // MaxUsers
	benchActiveUsers = 4500 // the others never call: the unused list's users
	benchTeams       = 20   // 250 users each; teams 0–9 run ECS, 10–19 read and write OSS data
	benchRoles       = 20   // deploy-00…: assumed once a day each, their sessions call ECS and OSS
	benchDays        = 90
	benchRoleShare   = 0.15 // of the events, by role sessions
)

// accessBench is the seeded account a benchmark process reads.
type accessBench struct {
	svc    *Service
	st     *store.Store
	owner  Actor
	events int
	err    error
}

var (
	accessBenchOnce sync.Once
	accessBenchEnv  accessBench
)

// openAccessBench opens the seeded account, seeding it first when no seed
// of this version, size and day is kept.
func openAccessBench(b *testing.B) *accessBench {
	b.Helper()
	accessBenchOnce.Do(func() {
		env := &accessBenchEnv
		env.events = 1_000_000
		if testing.Short() {
			env.events = 50_000
		}
		parent := filepath.Join(os.TempDir(), "ramconsole-access-bench")
		today := time.Now().UTC().Format(time.DateOnly)
		name := fmt.Sprintf("v%s-%d-events-%s", accessBenchVersion, env.events, today)
		dir := filepath.Join(parent, name)
		if _, err := os.Stat(filepath.Join(dir, "seeded")); err != nil {
			if env.err = seedAccessBench(parent, name, today, env.events); env.err != nil {
				return
			}
		}
		env.svc, env.st, env.err = openBenchService(dir, nil)
		env.owner = Actor{Principal: PrincipalRoot, Name: "owner@example.com", RequestID: NewRequestID(), SourceIP: "192.0.2.1"}
	})
	if accessBenchEnv.err != nil {
		b.Fatal(accessBenchEnv.err)
	}
	return &accessBenchEnv
}

// openBenchService opens the store of dir with its service (clock nil: the
// real time).
func openBenchService(dir string, clock store.Clock) (*Service, *store.Store, error) {
	key, err := store.LoadMasterKey(dir, "")
	if err != nil {
		return nil, nil, err
	}
	sealer, err := store.NewSealer(key)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(context.Background(), dir, clock, store.WithMasterKey(key))
	if err != nil {
		return nil, nil, err
	}
	return New(st, sealer), st, nil
}

// seedAccessBench seeds parent/name: in a directory of its own, renamed
// into place when complete; seeds of other versions and days are removed.
func seedAccessBench(parent, name, day string, events int) error {
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return err
	}
	olds, _ := os.ReadDir(parent)
	for _, o := range olds {
		if !strings.HasPrefix(o.Name(), "v"+accessBenchVersion+"-") || !strings.Contains(o.Name(), day) {
			_ = os.RemoveAll(filepath.Join(parent, o.Name()))
		}
	}
	work := filepath.Join(parent, fmt.Sprintf("%s.seeding-%d", name, os.Getpid()))
	_ = os.RemoveAll(work)
	start := time.Now()
	fmt.Fprintf(os.Stderr, "access bench: seeding %d events over %d users into %s\n", events, benchUsers, work)
	if err := seedAccount(work, events); err != nil {
		_ = os.RemoveAll(work)
		return fmt.Errorf("seeding the access benchmark: %w", err)
	}
	if err := os.WriteFile(filepath.Join(work, "seeded"), []byte(time.Since(start).String()+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "access bench: seeded in %s\n", time.Since(start).Round(time.Second))
	if err := os.Rename(work, filepath.Join(parent, name)); err != nil {
		_ = os.RemoveAll(work) // another process seeded it meanwhile
	}
	return nil
}

// benchUser is a seeded user as its calls need it.
type benchUser struct {
	actor       Actor
	caller      *APICaller
	index, team int
}

// seedAccount builds the account and its events: 5,000 users in an
// all-staff group and one team each, the policies attached to the groups
// (and the auditors' system policy), 20 roles, and the events spread
// evenly over the last 90 UTC days, in time order.
func seedAccount(dir string, events int) error {
	ctx := context.Background()
	end := time.Now().UTC().Truncate(time.Second)
	first := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1-benchDays)
	clock := &testClock{t: first.Add(-time.Hour)}
	svc, st, err := openBenchService(dir, clock.Now)
	if err != nil {
		return err
	}
	defer st.Close()
	token, err := svc.IssueSetupToken(ctx, dir)
	if err != nil {
		return err
	}
	owner := Actor{Principal: PrincipalRoot, Name: "owner@example.com", RequestID: NewRequestID(), SourceIP: "192.0.2.1"}
	if err := svc.Setup(ctx, owner, SetupInput{Token: token, Email: owner.Name, Password: "Correct-Horse-Battery-9", Alias: "bench"}); err != nil {
		return err
	}
	acct := svc.AccountID(ctx)
	policies := map[string]string{
		"ram-read":  doc(allow([]string{"*"}, "ram:Get*", "ram:List*")),
		"ram-self":  doc(allow([]string{"acs:ram:*:*:user/*"}, "ram:UpdateUser", "ram:CreateAccessKey", "ram:ListAccessKeys")),
		"no-risky":  doc(deny([]string{"*"}, "ram:CreateUser", "ram:DeleteUser", "ram:DeleteGroup")),
		"ecs-run":   doc(allow([]string{"*"}, "ecs:DescribeInstances"), allow([]string{"acs:ecs:*:*:instance/*"}, "ecs:StartInstance", "ecs:StopInstance", "ecs:RebootInstance")),
		"oss-data":  doc(allow([]string{"acs:oss:*:*:data/*"}, "oss:GetObject", "oss:ListObjects"), allow([]string{"acs:oss:*:*:data/uploads/*"}, "oss:PutObject"), deny([]string{"*"}, "oss:DeleteObject"), allow([]string{"*"}, "oss:PutBucketPolicy")),
		"assume-op": doc(allow([]string{"acs:ram:*:*:role/deploy-*"}, "sts:AssumeRole")),
		"deploy":    doc(allow([]string{"*"}, "ecs:*"), allow([]string{"acs:oss:*:*:data/*"}, "oss:GetObject", "oss:PutObject")),
	}
	for _, name := range slices.Sorted(maps.Keys(policies)) {
		if _, err := svc.CreatePolicy(ctx, owner, name, policies[name], ""); err != nil {
			return fmt.Errorf("policy %s: %w", name, err)
		}
	}
	groups := map[string][]string{"all-staff": {"ram-read", "no-risky"}, "auditors": nil}
	for t := range benchTeams {
		g := fmt.Sprintf("team-%02d", t)
		switch {
		case t < 5:
			groups[g] = []string{"ecs-run", "ram-self", "assume-op"}
		case t < 10:
			groups[g] = []string{"ecs-run"}
		default:
			groups[g] = []string{"oss-data"}
		}
	}
	for g, ps := range groups {
		if _, err := svc.CreateGroup(ctx, owner, g, ""); err != nil {
			return err
		}
		for _, p := range ps {
			if err := svc.AttachPolicyToGroup(ctx, owner, PolicyTypeCustom, p, g); err != nil {
				return err
			}
		}
	}
	if err := svc.AttachPolicyToGroup(ctx, owner, PolicyTypeSystem, "AliyunRAMReadOnlyAccess", "auditors"); err != nil {
		return err
	}
	users := make([]benchUser, benchUsers)
	for i := range users {
		name := fmt.Sprintf("user-%04d", i)
		u, err := svc.CreateUser(ctx, owner, UserInput{UserName: name})
		if err != nil {
			return err
		}
		k, err := svc.CreateAccessKey(ctx, owner, name)
		if err != nil {
			return err
		}
		team := i % benchTeams
		member := []string{"all-staff", fmt.Sprintf("team-%02d", team)}
		if i%50 == 0 {
			member = append(member, "auditors")
		}
		for _, g := range member {
			if err := svc.AddUserToGroup(ctx, owner, g, name); err != nil {
				return err
			}
		}
		users[i] = benchUser{index: i, team: team,
			actor: Actor{Principal: UserPrincipal(u.UserID), Name: name, AccessKeyID: k.AccessKeyID, API: true, SecureTransport: true,
				SourceIP: fmt.Sprintf("10.%d.%d.%d", team, i/250, i%250)},
			caller: &APICaller{AccessKeyID: k.AccessKeyID, User: u, lastUsed: new(atomic.Int64)}}
	}
	trust := `{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["` + RootARN(acct) + `"]}}]}`
	for r := range benchRoles {
		name := fmt.Sprintf("deploy-%02d", r)
		if _, err := svc.CreateRole(ctx, owner, RoleInput{RoleName: name, AssumeRolePolicy: trust}); err != nil {
			return err
		}
		if err := svc.AttachPolicyToRole(ctx, owner, PolicyTypeCustom, "deploy", name); err != nil {
			return err
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	sessions := make([]*APICaller, benchRoles)
	step := end.Sub(first) / time.Duration(events)
	day := ""
	for i := range events {
		at := first.Add(step * time.Duration(i))
		clock.mu.Lock()
		clock.t = at
		clock.mu.Unlock()
		if d := at.Format(time.DateOnly); d != day {
			// A new day: each role is assumed by one of the teams allowed
			// to, and its session makes the role's calls of the day.
			day = d
			if err := st.Settle(ctx); err != nil {
				return err
			}
			for r := range sessions {
				u := users[(rng.IntN(5)+rng.IntN(benchActiveUsers/benchTeams)*benchTeams)%benchActiveUsers]
				mctx, _ := WithEventMark(ctx)
				a := u.actor
				a.RequestID = NewRequestID()
				creds, err := svc.AssumeRole(mctx, a, AssumeRoleInput{RoleArn: RoleARN(acct, fmt.Sprintf("deploy-%02d", r)), RoleSessionName: "release-" + d})
				if err != nil {
					return fmt.Errorf("AssumeRole by %s: %w", a.Name, err)
				}
				live, err := svc.liveSession(ctx, creds.AccessKeyID)
				if err != nil {
					return err
				}
				c := live.caller
				sessions[r] = &c
			}
		}
		var call *Call
		var action, arn string
		if rng.Float64() < benchRoleShare {
			c := sessions[rng.IntN(benchRoles)]
			a := c.Session.Act(Actor{AccessKeyID: c.AccessKeyID, API: true, SecureTransport: true, SourceIP: "10.200.0.1"})
			action, arn = roleCall(rng, acct)
			call = &Call{s: svc, Actor: a, Caller: c}
		} else {
			u := &users[rng.IntN(benchActiveUsers)]
			action, arn = userCall(rng, acct, u)
			call = &Call{s: svc, Actor: u.actor, Caller: u.caller}
		}
		call.Actor.RequestID = NewRequestID()
		call.nonce, call.ts = call.Actor.RequestID, at
		mctx, _ := WithEventMark(ctx)
		if err := benchCall(mctx, svc, call, action, arn); err != nil {
			return err
		}
		if i%journalSettle == journalSettle-1 {
			if err := st.Settle(ctx); err != nil {
				return err
			}
		}
		if i%100_000 == 99_999 {
			fmt.Fprintf(os.Stderr, "access bench: %d events\n", i+1)
		}
	}
	return st.Settle(ctx)
}

// journalSettle is how often the seed waits for the journal's fold.
const journalSettle = 4096

// benchCall decides and records one call as the OpenAPI (ram:…) or the
// gateway (any other service) would.
func benchCall(ctx context.Context, svc *Service, call *Call, action, arn string) error {
	if !strings.HasPrefix(action, "ram:") {
		err := svc.GatewayDecide(ctx, call, GatewayCall{Host: serviceOf(action) + ".internal.example", Action: action, Resource: Resource{arn}})
		if _, ok := AsError(err); err != nil && !ok {
			return err
		}
		return nil
	}
	d, _, err := svc.decideCounted(ctx, call.Actor, action, []string{arn})
	if err != nil {
		return err
	}
	rec := APICall{Action: actionName(action), Resource: arn}
	if d != policy.Allow {
		rec.ErrorCode, rec.ErrorMessage = "NoPermission", "denied by "+d.String()
	}
	return call.Record(ctx, rec)
}

// weighted picks an index by weight.
func weighted(rng *rand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// userCall is a user's next call: mostly RAM reads of its own, then its
// team's ECS instances or OSS objects, now and then something its policies
// do not allow.
func userCall(rng *rand.Rand, acct string, u *benchUser) (action, arn string) {
	ram := "acs:ram:*:" + acct + ":"
	self := ram + "user/" + u.actor.Name
	calls := []benchCallKind{
		{"ram:GetUser", self, 14}, {"ram:ListUsers", ram + "user/*", 8}, {"ram:ListGroups", ram + "group/*", 4},
		{"ram:ListPolicies", ram + "policy/*", 4}, {"ram:GetPolicy", ram + "policy/ram-read", 2}, {"ram:ListRoles", ram + "role/*", 3},
		{"ram:GetRole", fmt.Sprintf("%srole/deploy-%02d", ram, rng.IntN(benchRoles)), 2}, {"ram:ListAccessKeys", self, 4},
		{"ram:ListGroupsForUser", self, 3}, {"ram:UpdateUser", self, 1}, {"ram:CreateAccessKey", self, 1},
		{"ram:CreateUser", ram + "user/*", 0.3}, {"ram:DeleteUser", fmt.Sprintf("%suser/user-%04d", ram, rng.IntN(benchUsers)), 0.2},
		{"ram:AttachPolicyToUser", self, 0.2},
	}
	n := u.index + rng.IntN(8) // the user's few usual resources
	if u.team < 10 {
		instance := fmt.Sprintf("acs:ecs:cn-hangzhou:%s:instance/i-t%02d-%03d", acct, u.team, n%60)
		calls = append(calls, benchCallKind{"ecs:DescribeInstances", "acs:ecs:cn-hangzhou:" + acct + ":instance/*", 16},
			benchCallKind{"ecs:StartInstance", instance, 4}, benchCallKind{"ecs:StopInstance", instance, 4},
			benchCallKind{"ecs:RebootInstance", instance, 2}, benchCallKind{"ecs:DeleteInstance", instance, 0.3})
	} else {
		object := fmt.Sprintf("acs:oss:*:%s:data/t%02d/obj-%03d", acct, u.team, (n*7+rng.IntN(30))%500)
		calls = append(calls, benchCallKind{"oss:GetObject", object, 16},
			benchCallKind{"oss:ListObjects", fmt.Sprintf("acs:oss:*:%s:data/t%02d", acct, u.team), 6},
			benchCallKind{"oss:PutObject", fmt.Sprintf("acs:oss:*:%s:data/uploads/%s/file-%d", acct, u.actor.Name, rng.IntN(20)), 4},
			benchCallKind{"oss:DeleteObject", object, 0.3})
	}
	weights := make([]float64, len(calls))
	for i, c := range calls {
		weights[i] = c.weight
	}
	c := calls[weighted(rng, weights)]
	return c.action, c.arn
}

// benchCallKind is a call a seeded user makes, and how often.
type benchCallKind struct {
	action, arn string
	weight      float64
}

// roleCall is a deploy session's next call: over a fleet of 2,000
// instances and the release objects, so its sets pass the 100 kept.
func roleCall(rng *rand.Rand, acct string) (action, arn string) {
	instance := fmt.Sprintf("acs:ecs:cn-hangzhou:%s:instance/i-%04d", acct, rng.IntN(2000))
	release := fmt.Sprintf("acs:oss:*:%s:data/releases/r-%03d", acct, rng.IntN(300))
	switch weighted(rng, []float64{30, 10, 10, 10, 10}) {
	case 0:
		return "ecs:DescribeInstances", "acs:ecs:cn-hangzhou:" + acct + ":instance/*"
	case 1:
		return "ecs:StartInstance", instance
	case 2:
		return "ecs:StopInstance", instance
	case 3:
		return "oss:GetObject", release
	default:
		return "oss:PutObject", release
	}
}

// p50 reports the median of the timed iterations as p50-ms.
func reportP50(b *testing.B, took []time.Duration) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2])/float64(time.Millisecond), "p50-ms")
}

// BenchmarkAccessPages: each access page and the unused list, as the
// owner asks for them, on the seeded account (90 days).
func BenchmarkAccessPages(b *testing.B) {
	env := openAccessBench(b)
	ctx := context.Background()
	pages := []struct {
		name string
		view func(w AccessWindow) error
	}{
		{"user", func(w AccessWindow) error {
			_, err := env.svc.PrincipalAccess(ctx, env.owner, AccessUser, "user-0007", w)
			return err
		}},
		{"group-team", func(w AccessWindow) error {
			_, err := env.svc.PrincipalAccess(ctx, env.owner, AccessGroup, "team-07", w)
			return err
		}},
		{"group-all-staff", func(w AccessWindow) error {
			_, err := env.svc.PrincipalAccess(ctx, env.owner, AccessGroup, "all-staff", w)
			return err
		}},
		{"role", func(w AccessWindow) error {
			_, err := env.svc.PrincipalAccess(ctx, env.owner, AccessRole, "deploy-03", w)
			return err
		}},
		{"policy-team", func(w AccessWindow) error {
			_, err := env.svc.PolicyAccess(ctx, env.owner, PolicyTypeCustom, "ecs-run", w)
			return err
		}},
		{"policy-all-staff", func(w AccessWindow) error {
			_, err := env.svc.PolicyAccess(ctx, env.owner, PolicyTypeCustom, "ram-read", w)
			return err
		}},
		{"policy-system", func(w AccessWindow) error {
			_, err := env.svc.PolicyAccess(ctx, env.owner, PolicyTypeSystem, "AliyunRAMReadOnlyAccess", w)
			return err
		}},
		{"unused", func(w AccessWindow) error { _, err := env.svc.UnusedAccess(ctx, env.owner, w, "json"); return err }},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				w, err := env.svc.AccessWindow("")
				if err == nil {
					err = p.view(w)
				}
				if err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			reportP50(b, took)
		})
	}
}

// BenchmarkAccessRebuild: one op is `ramconsole access rebuild` on the
// seeded account: every rollup recomputed from every event.
func BenchmarkAccessRebuild(b *testing.B) {
	env := openAccessBench(b)
	ctx := context.Background()
	var n int64
	start := time.Now()
	for b.Loop() {
		var err error
		if n, err = env.st.RebuildAccess(ctx, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "s/rebuild")
	b.ReportMetric(float64(n), "events")
}

package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkJournalAccessRollups: what counting decisions costs the
// journal's fold (SPEC §16.1). Two stores fold the same OpenAPI and gateway
// records, one with each event's additionalEventData.authorization (so
// its fold writes the rollups too), one without; one op is a round of one
// fold of journalBatch records in each, the two taking turns to go first
// so that a busy machine favours neither. Before the rounds each store
// folds warmRounds rounds unmeasured, so the rollups are not empty.
//
//	go test -run '^$' -bench JournalAccessRollups -benchtime 40x ./store/
//
// It reports each side's fold (Settle) per event, and with- over without-.
func BenchmarkJournalAccessRollups(b *testing.B) {
	b.Run("fleet", func(b *testing.B) {
		gen := newDecisionGen()
		benchmarkFoldRollups(b, gen.records, func() time.Time { return gen.at })
	})
	b.Run("application", func(b *testing.B) { benchmarkFoldRollups(b, applicationRecords, time.Now) })
}

// applicationRecords are BenchmarkJournal's records — one program's
// AccessKey calling GetUser — each with the decision the call was given.
func applicationRecords(n int) []Record {
	out := make([]Record, n)
	expires := time.Now().Add(15 * time.Minute)
	for i := range out {
		ev := apiEvent(i)
		ev.AdditionalEventData = map[string]any{authorizationKey: []Authorization{{Principal: "user/app", Action: "ram:GetUser",
			Resources: []string{"acs:ram:*:" + genAccount + ":user/ann"}, Decision: "Allow", SecureTransport: true,
			Statements: []StatementCredit{{PolicyType: "System", PolicyName: "AliyunRAMReadOnlyAccess", PolicyID: "AliyunRAMReadOnlyAccess", Version: "v1"}}}}}
		out[i] = Record{Event: ev, KeyID: "LTAIapp", Nonce: ev.EventID, NonceExpires: expires}
	}
	return out
}

// benchmarkFoldRollups alternates the fold of records with and without
// their decisions (see BenchmarkJournalAccessRollups); at is the records'
// time.
func benchmarkFoldRollups(b *testing.B, records func(n int) []Record, at func() time.Time) {
	warmRounds := 25 // 102,400 events
	if testing.Short() {
		warmRounds = 2
	}
	var nowNs atomic.Int64
	nowNs.Store(at().UnixNano())
	clock := func() time.Time { return time.Unix(0, nowNs.Load()).UTC() }
	sides := [2]*Store{foldStore(b, clock), foldStore(b, clock)} // with, without
	var took [2]time.Duration
	round := func(r int, measured bool) {
		recs := records(journalBatch)
		nowNs.Store(at().UnixNano())
		for k := range 2 {
			side := (r + k) % 2 // who goes first alternates
			ctx := context.Background()
			for i := range recs {
				rec := recs[i]
				ev := *rec.Event
				if side == 1 {
					ev.AdditionalEventData = nil
				}
				rec.Event = &ev
				if err := sides[side].Queue(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
			start := time.Now()
			if err := sides[side].Settle(ctx); err != nil {
				b.Fatal(err)
			}
			if measured {
				took[side] += time.Since(start)
			}
		}
	}
	for r := range warmRounds {
		round(r, false)
	}
	rounds := 0
	for b.Loop() {
		round(rounds, true)
		rounds++
	}
	perEvent := func(d time.Duration) float64 { return float64(d) / float64(rounds*journalBatch) }
	b.ReportMetric(perEvent(took[0]), "with-ns/event")
	b.ReportMetric(perEvent(took[1]), "without-ns/event")
	b.ReportMetric(float64(took[0])/float64(took[1]), "with/without")
}

// foldStore is a store whose journal is folded by Settle only.
func foldStore(b *testing.B, clock Clock) *Store {
	s, err := Open(context.Background(), b.TempDir(), clock)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	close(s.journal.stop) // fold here, not in the flusher
	<-s.journal.done
	s.journal.stop, s.journal.done = make(chan struct{}), make(chan struct{})
	close(s.journal.done)
	return s
}

// decisionGen makes the records of a busy account, in time order: 5,000
// users (mostly RAM reads of their own, their team's instances), 20 roles'
// sessions (15 %, over 2,000 instances), about 3 % refused, 1,000,000
// events over 90 days.
type decisionGen struct {
	rng      *rand.Rand
	at       time.Time
	n        int
	keysUsed map[string]time.Time
}

func newDecisionGen() *decisionGen {
	return &decisionGen{rng: rand.New(rand.NewPCG(3, 4)), at: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), keysUsed: map[string]time.Time{}}
}

const (
	genAccount = "1234567890123456"
	genStep    = 90 * 24 * time.Hour / 1_000_000
)

var genActions = []struct {
	action, resource, eventName, policy string
	statement                           int
}{
	{"ram:GetUser", "user/%s", "GetUser", "ram-read", 0}, {"ram:ListUsers", "user/*", "ListUsers", "ram-read", 0},
	{"ram:ListGroups", "group/*", "ListGroups", "ram-read", 0}, {"ram:ListPolicies", "policy/*", "ListPolicies", "ram-read", 0},
	{"ram:ListAccessKeys", "user/%s", "ListAccessKeys", "ram-read", 0}, {"ram:ListRoles", "role/*", "ListRoles", "ram-read", 0},
	{"ram:UpdateUser", "user/%s", "UpdateUser", "ram-self", 0},
	{"ecs:DescribeInstances", "instance/*", "DescribeInstances", "ecs-run", 0},
	{"ecs:StartInstance", "instance/i-%s", "StartInstance", "ecs-run", 1}, {"ecs:StopInstance", "instance/i-%s", "StopInstance", "ecs-run", 1},
	{"oss:GetObject", "data/obj-%s", "GetObject", "oss-data", 0}, {"oss:PutObject", "data/uploads/%s", "PutObject", "oss-data", 1},
}

// records returns the next n records.
func (g *decisionGen) records(n int) []Record {
	out := make([]Record, n)
	for i := range out {
		g.n++
		g.at = g.at.Add(genStep)
		u := g.rng.IntN(5000)
		principal, user, key := fmt.Sprintf("user/%016d", 1_000_000+u), fmt.Sprintf("user-%04d", u), fmt.Sprintf("LTAIbench%07d", u)
		a := genActions[g.rng.IntN(len(genActions))]
		subject := user
		switch {
		case a.action[:3] == "ecs":
			subject = fmt.Sprintf("%03d", u%20*60+g.rng.IntN(8))
		case a.action[:3] == "oss":
			subject = fmt.Sprintf("%04d", u*7+g.rng.IntN(30))
		}
		if g.rng.Float64() < 0.15 { // a role session
			principal, user, key = fmt.Sprintf("role/%019d", 1_000+g.rng.IntN(20)), "deploy/release", fmt.Sprintf("STS.bench%d", g.n/4096)
			subject = fmt.Sprintf("%04d", g.rng.IntN(2000))
		}
		res := "acs:ram:*:" + genAccount + ":" + a.resource
		if a.action[:3] != "ram" {
			res = "acs:" + a.action[:3] + ":cn-hangzhou:" + genAccount + ":" + a.resource
		}
		if a.resource[len(a.resource)-1] != '*' {
			res = fmt.Sprintf(res, subject)
		}
		auth := Authorization{Principal: principal, Action: a.action, Resources: []string{res}, Decision: "Allow", SecureTransport: true}
		ev := &Event{EventID: fmt.Sprintf("01bench-%012d", g.n), EventVersion: "1", EventTime: timeText(g.at), EventType: "ApiCall",
			EventSource: "ram", EventName: a.eventName, EventRW: "Read", ServiceName: "Ram", RequestID: fmt.Sprintf("01req-%012d", g.n),
			UserIdentity:    Identity{Type: "ram-user", PrincipalID: principal[5:], AccountID: genAccount, UserName: user, AccessKeyID: key},
			SourceIPAddress: fmt.Sprintf("10.%d.%d.%d", u%20, u/250, u%250), ResourceName: res}
		if g.rng.Float64() < 0.03 {
			auth.Decision = "ImplicitDeny"
			ev.ErrorCode, ev.ErrorMessage, ev.IsError = "NoPermission", "denied by ImplicitDeny", true
		} else {
			auth.Statements = []StatementCredit{{PolicyType: "Custom", PolicyName: a.policy, PolicyID: "uid-" + a.policy, Version: "v1", Statement: a.statement}}
		}
		ev.AdditionalEventData = map[string]any{authorizationKey: []Authorization{auth}}
		rec := Record{Event: ev, KeyID: key, Nonce: ev.RequestID, NonceExpires: g.at.Add(15 * time.Minute)}
		if last := g.keysUsed[key]; g.at.Sub(last) >= time.Minute { // as the key cache records it: once a minute
			rec.KeyUsed, g.keysUsed[key] = g.at, g.at
		}
		out[i] = rec
	}
	return out
}

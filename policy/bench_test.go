package policy_test

import (
	"fmt"
	"testing"

	"ramconsole/policy"
	"ramconsole/policy/policytest"
)

// benchSizes are the policy sets of the issue: policies × statements per policy.
var benchSizes = []struct{ policies, perPolicy int }{
	{1, 5},     // 1 policy / 5 statements
	{10, 5},    // 10 / 50: a typical user with groups
	{100, 10},  // 100 / 1,000
	{1000, 10}, // 1,000 / 10,000
}

// benchSet builds the Set and the requests of each kind for a size.
func benchSet(tb testing.TB, policies, perPolicy int) (*policy.Set, map[string][]policy.Request) {
	tb.Helper()
	gen := policytest.Generate(1, policies, perPolicy)
	compiled := make([]*policy.Compiled, len(gen))
	for i, g := range gen {
		compiled[i] = policy.Compile(policy.Source{Type: "Custom", Name: g.Name, Version: "v1"}, g.Document)
	}
	set := policy.NewSet(compiled...)
	kinds := map[string][]policy.Request{}
	for _, g := range policytest.Requests(2, 4000, gen) {
		ctx := &policy.Context{}
		for k, v := range g.Context {
			ctx.Set(k, v)
		}
		req := policy.Request{Action: g.Action, Resources: []string{g.Resource}, Context: ctx}
		switch g.Want {
		case policy.Allow:
			kinds["allow"] = append(kinds["allow"], req)
		case policy.ExplicitDeny:
			kinds["explicit-deny"] = append(kinds["explicit-deny"], req)
		default:
			kinds["implicit-deny"] = append(kinds["implicit-deny"], req)
		}
		if g.Conditional {
			kinds["condition-heavy"] = append(kinds["condition-heavy"], req)
		}
	}
	return set, kinds
}

func BenchmarkEvaluate(b *testing.B) {
	for _, size := range benchSizes {
		set, kinds := benchSet(b, size.policies, size.perPolicy)
		for _, kind := range []string{"allow", "explicit-deny", "implicit-deny", "condition-heavy"} {
			reqs := kinds[kind]
			name := fmt.Sprintf("%dpol-%dstmt/%s", size.policies, size.policies*size.perPolicy, kind)
			b.Run(name, func(b *testing.B) {
				if len(reqs) == 0 {
					b.Skip("no request of this kind")
				}
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					set.Evaluate(&reqs[i%len(reqs)])
					i++
				}
			})
		}
	}
}

func BenchmarkExplain(b *testing.B) {
	set, kinds := benchSet(b, 10, 5)
	reqs := kinds["allow"]
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		set.Explain(&reqs[i%len(reqs)])
		i++
	}
}

func BenchmarkParse(b *testing.B) {
	gen := policytest.Generate(1, 1, 10)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policy.Parse(gen[0].JSON); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	gen := policytest.Generate(1, 10, 5)
	b.ReportAllocs()
	for b.Loop() {
		compiled := make([]*policy.Compiled, len(gen))
		for i, g := range gen {
			compiled[i] = policy.Compile(policy.Source{Type: "Custom", Name: g.Name, Version: "v1"}, g.Document)
		}
		policy.NewSet(compiled...)
	}
}

// BenchmarkEvaluateTrust decides AssumeRole against a trust policy of the usual size: this account, a partner
// account with an ExternalId, a service, and a Deny of one user.
func BenchmarkEvaluateTrust(b *testing.B) {
	const acct, partner = "1234567890123456", "6543210987654321"
	d, err := policy.ParseTrust(`{"Version":"1","Statement":[
		{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + acct + `:root"]}},
		{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::` + partner + `:user/deployer","acs:ram::` + partner + `:role/ci"]},
			"Condition":{"StringEquals":{"sts:ExternalId":"f3a9c1d2"},"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}},
		{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":["ecs.aliyuncs.com","fc.aliyuncs.com"]}},
		{"Effect":"Deny","Action":"sts:*","Principal":{"RAM":"acs:ram::` + acct + `:user/contractor"}}]}`)
	if err != nil {
		b.Fatal(err)
	}
	c := policy.Compile(policy.Source{Type: "Trust", Name: "ops"}, d)
	ctx := &policy.Context{}
	ctx.Set(policy.KeyExternalID, "f3a9c1d2")
	ctx.Set(policy.KeySourceIP, "10.1.2.3")
	callers := map[string]policy.Caller{
		"allow-account": {Kind: policy.CallerRAMUser, Account: acct, ARN: "acs:ram::" + acct + ":user/alice"},
		"allow-partner": {Kind: policy.CallerRoleSession, Account: partner, ARN: "acs:ram::" + partner + ":role/ci"},
		"allow-service": {Kind: policy.CallerService, Service: "FC.aliyuncs.com"},
		"explicit-deny": {Kind: policy.CallerRAMUser, Account: acct, ARN: "acs:ram::" + acct + ":user/contractor"},
		"implicit-deny": {Kind: policy.CallerRAMUser, Account: partner, ARN: "acs:ram::" + partner + ":user/someone"},
	}
	for _, name := range []string{"allow-account", "allow-partner", "allow-service", "explicit-deny", "implicit-deny"} {
		req := &policy.TrustRequest{Caller: callers[name], Context: ctx}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.EvaluateTrust(req)
			}
		})
	}
}

package policy_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"ramconsole/policy"
)

// A small random world, so that random policies and requests often meet.
var (
	propServices  = []string{"ram", "ecs", "oss"}
	propNames     = []string{"GetUser", "ListUsers", "DeleteUser", "DescribeInstances", "GetObject", "PutObject"}
	propResources = []string{
		"acs:ram:*:1:user/alice", "acs:ram:*:1:user/bob", "acs:ram:*:2:group/dev",
		"acs:ecs:cn-hangzhou:1:instance/i-1", "acs:oss:*:1:bucket/a/b", "*",
	}
	propKeys   = []string{"acs:SourceIp", "acs:SecureTransport", "acs:CurrentTime", "x:n", "acs:UserAgent"}
	propValues = map[string][]string{
		"acs:SourceIp":        {"10.0.0.1", "192.168.1.1", "8.8.8.8", "bad"},
		"acs:SecureTransport": {"true", "false", "maybe"},
		"acs:CurrentTime":     {"2025-01-01T00:00:00Z", "2026-06-01T12:00:00+08:00", "never"},
		"x:n":                 {"1", "5", "10", "x"},
		"acs:UserAgent":       {"cli", "Console", "console"},
	}
	propConds = []string{
		`{"IpAddress":{"acs:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}`,
		`{"NotIpAddress":{"acs:SourceIp":"10.0.0.0/8"}}`,
		`{"Bool":{"acs:SecureTransport":"true"}}`,
		`{"DateLessThan":{"acs:CurrentTime":"2026-01-01"}}`,
		`{"DateGreaterThanEquals":{"acs:CurrentTime":"2026-01-01T00:00:00Z"}}`,
		`{"NumericLessThan":{"x:n":5},"StringEquals":{"acs:UserAgent":"cli"}}`,
		`{"NumericNotEquals":{"x:n":["1","10"]}}`,
		`{"StringNotEqualsIgnoreCase":{"acs:UserAgent":"console"}}`,
		`{"StringLike":{"acs:UserAgent":"c*"}}`,
		`{"StringNotLike":{"acs:UserAgent":"?li"}}`,
	}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func randAction(r *rand.Rand) string {
	switch r.IntN(8) {
	case 0:
		return "*"
	case 1:
		return pick(r, propServices) + ":*"
	case 2:
		return "*:" + pick(r, propNames)[:3] + "*"
	case 3:
		n := pick(r, propNames)
		return pick(r, propServices) + ":?" + n[1:]
	case 4:
		return strings.ToUpper(pick(r, propServices) + ":" + pick(r, propNames))
	default:
		return pick(r, propServices) + ":" + pick(r, propNames)
	}
}

func randResource(r *rand.Rand) string {
	res := pick(r, propResources)
	switch r.IntN(5) {
	case 0:
		return "*"
	case 1:
		if i := strings.LastIndexByte(res, '/'); i > 0 {
			return res[:i+1] + "*"
		}
	case 2:
		if a := strings.SplitN(res, ":", 5); len(a) == 5 {
			return a[0] + ":" + a[1] + "::" + a[3] + ":" + a[4] // empty region
		}
	}
	return res
}

func randStatement(r *rand.Rand, effect string) string {
	action := randAction(r)
	for i := r.IntN(3); i > 0; i-- {
		action += "|" + randAction(r)
	}
	if r.IntN(6) == 0 {
		action = "NotAction:" + action
	}
	resource := randResource(r)
	if r.IntN(3) == 0 {
		resource += "|" + randResource(r)
	}
	c := ""
	if r.IntN(3) == 0 {
		c = pick(r, propConds)
	}
	return stmt(effect, action, resource, c)
}

func randDoc(r *rand.Rand, effect string) []string {
	n := 1 + r.IntN(4)
	out := make([]string, n)
	for i := range out {
		e := effect
		if e == "" {
			e = pick(r, []string{"Allow", "Allow", "Deny"})
		}
		out[i] = randStatement(r, e)
	}
	return out
}

func randRequest(r *rand.Rand) *policy.Request {
	req := &policy.Request{
		Action:    pick(r, propServices) + ":" + pick(r, propNames),
		Resources: []string{pick(r, propResources)},
		Context:   &policy.Context{},
	}
	if r.IntN(4) == 0 {
		req.Resources = append(req.Resources, pick(r, propResources))
	}
	for _, k := range propKeys {
		if r.IntN(4) != 0 {
			req.Context.Set(k, pick(r, propValues[k]))
		}
	}
	return req
}

func setOf(t *testing.T, docs [][]string) *policy.Set {
	t.Helper()
	texts := make([]string, len(docs))
	for i, d := range docs {
		texts[i] = doc(d...)
	}
	return mustSet(t, texts...)
}

func randPolicies(r *rand.Rand) [][]string {
	docs := make([][]string, r.IntN(5))
	for i := range docs {
		docs[i] = randDoc(r, "")
	}
	return docs
}

const propRounds = 3000

func TestPropertyAddingDenyNeverAllows(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < propRounds; i++ {
		docs := randPolicies(r)
		req := randRequest(r)
		before := setOf(t, docs).Evaluate(req)
		withDeny := append(docs[:len(docs):len(docs)], randDoc(r, "Deny"))
		after := setOf(t, withDeny).Evaluate(req)
		if before != policy.Allow && after == policy.Allow {
			t.Fatalf("round %d: adding a Deny turned %v into %v\npolicies: %v\nrequest: %+v", i, before, after, withDeny, req)
		}
		if before == policy.ExplicitDeny && after != policy.ExplicitDeny {
			t.Fatalf("round %d: adding a Deny turned %v into %v", i, before, after)
		}
	}
}

func TestPropertyAddingAllowNeverUndoesExplicitDeny(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < propRounds; i++ {
		docs := randPolicies(r)
		req := randRequest(r)
		before := setOf(t, docs).Evaluate(req)
		withAllow := append(docs[:len(docs):len(docs)], randDoc(r, "Allow"))
		after := setOf(t, withAllow).Evaluate(req)
		if before == policy.ExplicitDeny && after != policy.ExplicitDeny {
			t.Fatalf("round %d: adding an Allow turned %v into %v\npolicies: %v\nrequest: %+v", i, before, after, withAllow, req)
		}
		if before == policy.Allow && after != policy.Allow {
			t.Fatalf("round %d: adding an Allow turned %v into %v", i, before, after)
		}
	}
}

func TestPropertyOrderDoesNotMatter(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < propRounds; i++ {
		docs := randPolicies(r)
		req := randRequest(r)
		want := setOf(t, docs).Evaluate(req)
		shuffled := make([][]string, len(docs))
		for j, d := range docs {
			shuffled[j] = append([]string(nil), d...)
			r.Shuffle(len(shuffled[j]), func(a, b int) { shuffled[j][a], shuffled[j][b] = shuffled[j][b], shuffled[j][a] })
		}
		r.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
		if got := setOf(t, shuffled).Evaluate(req); got != want {
			t.Fatalf("round %d: reordered policies decide %v, want %v\noriginal: %v\nreordered: %v\nrequest: %+v", i, got, want, docs, shuffled, req)
		}
	}
}

// The index of Evaluate and the full scan of Explain must always agree, per resource too.
func TestPropertyEvaluateAgreesWithExplain(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < propRounds; i++ {
		docs := randPolicies(r)
		set := setOf(t, docs)
		req := randRequest(r)
		res := set.Explain(req)
		if got := set.Evaluate(req); got != res.Decision {
			t.Fatalf("round %d: Evaluate = %v, Explain = %v\npolicies: %v\nrequest: %+v", i, got, res.Decision, docs, req)
		}
		for _, rr := range res.Resources {
			one := *req
			one.Resources = []string{rr.Resource}
			if got := set.Evaluate(&one); got != rr.Decision {
				t.Fatalf("round %d: Evaluate(%s) = %v, Explain's resource decision %v", i, rr.Resource, got, rr.Decision)
			}
		}
	}
}

// Every generated policy reparses to itself and the generated documents stay within the limit.
func TestPropertyMarshalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for i := 0; i < 500; i++ {
		text := doc(randDoc(r, "")...)
		d, err := policy.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%s) = %v", text, err)
		}
		b, _ := d.MarshalJSON()
		d2, err := policy.Parse(string(b))
		if err != nil {
			t.Fatalf("Parse(MarshalJSON()) = %v\n%s", err, b)
		}
		if b2, _ := d2.MarshalJSON(); string(b2) != string(b) {
			t.Fatalf("marshal not stable:\n%s\n%s", b, b2)
		}
	}
}

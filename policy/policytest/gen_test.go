package policytest_test

import (
	"reflect"
	"strings"
	"testing"

	"ramconsole/policy"
	"ramconsole/policy/policytest"
)

func TestGenerateIsDeterministic(t *testing.T) {
	a := policytest.Generate(42, 10, 5)
	b := policytest.Generate(42, 10, 5)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("Generate(42, 10, 5) differs between calls")
	}
	if c := policytest.Generate(43, 10, 5); reflect.DeepEqual(a, c) {
		t.Errorf("Generate(43, 10, 5) = Generate(42, 10, 5), want different sets for different seeds")
	}
	ra, rb := policytest.Requests(7, 500, a), policytest.Requests(7, 500, b)
	if !reflect.DeepEqual(ra, rb) {
		t.Errorf("Requests(7, 500, …) differs between calls")
	}
}

func TestGenerateUsesTheDocumentedSubset(t *testing.T) {
	for _, p := range policytest.Generate(1, 100, 10) {
		if len(p.Document.Statements) != 10 {
			t.Fatalf("%s has %d statements, want 10", p.Name, len(p.Document.Statements))
		}
		for i, st := range p.Document.Statements {
			if len(st.NotAction) > 0 {
				t.Errorf("%s Statement[%d] uses NotAction", p.Name, i)
			}
			for _, a := range append(append([]string{}, st.Action...), st.Resource...) {
				if strings.Contains(a, "?") || strings.Contains(strings.TrimSuffix(a, "*"), "*") && a != "*" &&
					!strings.HasPrefix(a, "acs:ram:*:") && !strings.HasPrefix(a, "acs:oss:*:") {
					t.Errorf("%s Statement[%d]: %q has a wildcard other than one trailing *", p.Name, i, a)
				}
			}
			for _, c := range st.Conditions {
				switch c.Operator {
				case "StringEquals", "IpAddress", "Bool":
				default:
					t.Errorf("%s Statement[%d] uses operator %s", p.Name, i, c.Operator)
				}
			}
		}
	}
}

func TestRequestsCoverEveryDecision(t *testing.T) {
	for _, size := range []struct{ policies, per int }{{1, 5}, {10, 5}, {100, 10}, {1000, 10}} {
		gen := policytest.Generate(1, size.policies, size.per)
		count := map[policy.Decision]int{}
		conditional := 0
		for _, r := range policytest.Requests(2, 2000, gen) {
			count[r.Want]++
			if r.Conditional {
				conditional++
			}
			if len(r.Context) != 6 {
				t.Fatalf("request has %d context keys, want 6", len(r.Context))
			}
		}
		for _, d := range []policy.Decision{policy.Allow, policy.ExplicitDeny, policy.ImplicitDeny} {
			if count[d] == 0 {
				t.Errorf("%d×%d: no request decides %v (counts %v)", size.policies, size.per, d, count)
			}
		}
		if conditional == 0 {
			t.Errorf("%d×%d: no conditional request", size.policies, size.per)
		}
	}
}

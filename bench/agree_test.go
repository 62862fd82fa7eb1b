package bench

import (
	"strings"
	"testing"
)

// TestAgree checks, before any speed is compared, that every peer engine gives
// ramconsole's decision on the same NumRequests generated requests, for every size.
// Cedar, OPA and casbin (via EnforceEx) all tell ExplicitDeny from ImplicitDeny, so
// the comparison is three-way; the fast paths used by the benchmarks are checked
// too (Allow vs not-Allow for cedar and casbin, three-way for OPA).
func TestAgree(t *testing.T) {
	for _, sz := range Sizes {
		pols, reqs := Workload(sz)
		t.Run(sz.Name, func(t *testing.T) { agreeOn(t, sz, pols, reqs, true) })
		// The same requests with action letter case changed, keys spelt differently
		// and some keys missing: rules the generator itself never exercises.
		t.Run(sz.Name+"/perturbed", func(t *testing.T) { agreeOn(t, sz, pols, Perturb(reqs), false) })
	}
}

func agreeOn(t *testing.T, sz Size, pols []PolicyText, reqs []Req, checkMix bool) {
	ref, err := Build("ramconsole", pols)
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := ref.Prepare(reqs)
	want := make([]Verdict, len(reqs))
	counts := map[Verdict]int{}
	for i := range reqs {
		want[i] = rp.Fast(i)
		counts[want[i]]++
	}
	t.Logf("%d policies, %d statements, %d requests: %v", len(pols), sz.Policies*sz.StmtsPerPolicy, len(reqs), counts)
	if checkMix {
		// With 1,000 statements some Allow on "*" matches nearly everything, so
		// ImplicitDeny may vanish; Allow and ExplicitDeny must both be well represented.
		for _, v := range []Verdict{Allow, ExplicitDeny} {
			if counts[v] < len(reqs)/20 {
				t.Errorf("workload too one-sided: only %d %v decisions", counts[v], v)
			}
		}
	}
	for _, name := range EngineNames[1:] {
		e, err := Build(name, pols)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p, err := e.Prepare(reqs)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i, r := range reqs {
			got, err := p.Full(i)
			if err != nil {
				t.Fatalf("%s: request %d %+v: %v", name, i, r, err)
			}
			fast := p.Fast(i)
			fastWant := want[i]
			if fast == NotAllow && want[i] != Allow {
				fastWant = NotAllow
			}
			if got != want[i] || fast != fastWant {
				t.Fatalf("%s disagrees with ramconsole on request %d\n  request: %+v\n  ramconsole: %v\n  %s: %v (fast path %v)\n  statements whose action matches:\n%s",
					name, i, r, want[i], name, got, fast, dumpMatching(pols, r))
			}
		}
	}
}

// dumpMatching prints the statements whose action could concern the request.
func dumpMatching(pols []PolicyText, r Req) string {
	stmts, _ := ParseStatements(pols)
	out := ""
	act := strings.ToLower(r.Action)
	for _, st := range stmts {
		m := false
		for _, a := range st.Actions {
			m = m || WildMatch(a, act)
		}
		if m != st.NotAction {
			out += "    " + st.ID + " " + fmtStmt(st) + "\n"
		}
	}
	if len(out) > 20000 {
		out = out[:20000] + "…\n"
	}
	return out
}

func fmtStmt(st Stmt) string {
	eff := "Allow"
	if st.Deny {
		eff = "Deny"
	}
	s := eff
	if st.NotAction {
		s += " NotAction"
	}
	s += " " + joinQ(st.Actions) + " on " + joinQ(st.Resources)
	for _, c := range st.Conds {
		s += " " + c.Op + "(" + c.Key + " in " + joinQ(c.Values) + ")"
	}
	return s
}

func joinQ(l []string) string {
	s := "["
	for i, x := range l {
		if i > 0 {
			s += " "
		}
		s += x
	}
	return s + "]"
}
